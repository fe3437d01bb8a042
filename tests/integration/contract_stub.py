#!/usr/bin/env python3
"""A throw-away *test double* of the chat2api binary contract, in Python.

It exists only so the integration harness can be checked on its own
(``CHAT2API_BIN=tests/integration/contract_stub.py``) when the real binary
is not built yet, or when a harness change must be told apart from a binary
regression.  It implements just what the harness exercises: FastCGI on fd 0
or ``--listen``, CGI otherwise, the routes of the contract, the /_test/*
routes and the shared /stats counters (a JSON file under an flock instead of
LMDB).  It is not part of the product and is never installed.
"""

import fcntl
import hashlib
import json
import os
import signal
import socket
import stat
import struct
import sys
import threading
import time
import urllib.parse

VERSION = "0.1.0"
START = time.time()
MODELS = ["gpt-4o", "gpt-4o-mini", "gpt-3.5-turbo", "o1", "o3-mini", "auto"]


def env_int(name, default):
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


MAX_BODY = env_int("CHAT2API_MAX_BODY", 20971520)
KEEPALIVE = env_int("CHAT2API_SSE_KEEPALIVE", 15)
PREFIX = os.environ.get("API_PREFIX", "").strip("/")
MOUNT = os.environ.get("CHAT2API_MOUNT", "").rstrip("/")
TEST_ROUTES = os.environ.get("CHAT2API_TEST_ROUTES") == "1"
DATA_DIR = os.environ.get("CHAT2API_DATA_DIR", "/tmp/chat2api-stub")


# ---------------------------------------------------------------- stats
def stats_update(status, model):
    os.makedirs(DATA_DIR, exist_ok=True)
    path = os.path.join(DATA_DIR, "stub-stats.json")
    with open(path, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        raw = f.read()
        st = json.loads(raw) if raw else {"total": 0, "success": 0, "failed": 0, "models": {}}
        if status is not None:
            st["total"] += 1
            st["success" if status < 400 else "failed"] += 1
            if model:
                st["models"][model] = st["models"].get(model, 0) + 1
            f.seek(0)
            f.truncate()
            f.write(json.dumps(st))
        return st


# ---------------------------------------------------------------- handlers
def err(status, message, etype="invalid_request_error", param=None, code=None):
    return status, {"error": {"message": message, "type": etype, "param": param, "code": code}}


def route(method, path, query, params, body):
    """Returns (status, json-or-None, counted, model) or ("sse", n, interval)."""
    if method == "OPTIONS":
        return 204, None, False, None
    if path in ("/", ""):
        if method != "GET":
            return err(405, "method not allowed", code="method_not_allowed") + (False, None)
        return 200, {"object": "chat2api", "version": VERSION, "routes": ["/health", "/v1/models"]}, False, None
    if path == "/health":
        if method != "GET":
            return err(405, "method not allowed", code="method_not_allowed") + (False, None)
        return 200, {"status": "ok", "version": VERSION, "uptime": int(time.time() - START)}, False, None
    if path == "/stats":
        st = stats_update(None, None)
        st["success_rate"] = (st["success"] / st["total"]) if st["total"] else 0.0
        return 200, st, False, None
    if TEST_ROUTES and path == "/_test/echo":
        if method not in ("GET", "POST"):
            return err(405, "method not allowed", code="method_not_allowed") + (True, None)
        model = None
        ctype = params.get("CONTENT_TYPE", "")
        if body and ctype.startswith("application/json"):
            try:
                doc = json.loads(body)
            except ValueError:
                return err(400, "invalid JSON body", code="invalid_json") + (True, None)
            if isinstance(doc, dict) and isinstance(doc.get("model"), str):
                model = doc["model"]
        auth = params.get("HTTP_AUTHORIZATION", "")
        fp = hashlib.sha256(auth.encode()).hexdigest()[:16] if auth else None
        return 200, {"method": method, "path": path, "query": query,
                     "authorization": {"present": bool(auth), "fingerprint": fp},
                     "body_length": len(body), "content_type": ctype or None,
                     "model": model}, True, model
    if TEST_ROUTES and path == "/_test/sse":
        q = urllib.parse.parse_qs(query)
        return "sse", int(q.get("n", ["5"])[0]), int(q.get("interval_ms", ["200"])[0])
    api = "/" + PREFIX + "/v1" if PREFIX else "/v1"
    if path == api + "/models" or path.startswith(api + "/models/"):
        if method != "GET":
            return err(405, "method not allowed", code="method_not_allowed") + (True, None)
        objs = [{"id": m, "object": "model", "created": 1700000000, "owned_by": "chat2api"} for m in MODELS]
        if path == api + "/models":
            return 200, {"object": "list", "data": objs}, True, None
        mid = path[len(api + "/models/"):]
        for o in objs:
            if o["id"] == mid:
                return 200, o, True, None
        return err(404, "The model '%s' does not exist" % mid, param="model", code="model_not_found") + (True, None)
    counted = path.startswith(api + "/")
    return err(404, "Unknown route %s" % path, code="not_found") + (counted, None)


def serve(method, uri, params, read_body, write, flush):
    path, _, query = uri.partition("?")
    if MOUNT and (path == MOUNT or path.startswith(MOUNT + "/")):
        path = path[len(MOUNT):] or "/"
    clen = int(params.get("CONTENT_LENGTH") or 0)
    if clen > MAX_BODY:
        res = err(413, "request body too large", code="request_too_large") + (True, None)
        read_body(clen)     # drain, or CGI front ends see EPIPE instead of our 413
        body = b""
    else:
        body = read_body(clen)
        res = route(method, path, query, params, body)
    if res[0] == "sse":
        _, n, interval = res
        t0 = time.time()
        write(b"Status: 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
              b"X-Accel-Buffering: no\r\n\r\n")
        flush()
        for i in range(n):
            if i:
                deadline = time.time() + interval / 1000.0
                last = time.time()
                while time.time() < deadline:
                    time.sleep(min(0.05, max(0, deadline - time.time())))
                    if time.time() - last >= KEEPALIVE and deadline - time.time() > 0.05:
                        write(b": keep-alive\n\n")
                        flush()
                        last = time.time()
            ms = int((time.time() - t0) * 1000)
            write(("data: %s\n\n" % json.dumps({"i": i, "ms": ms})).encode())
            flush()
        write(b"data: [DONE]\n\n")
        flush()
        return
    status, doc, counted, model = res
    if counted:
        stats_update(status, model)
    reason = {200: "OK", 204: "No Content", 400: "Bad Request", 404: "Not Found",
              405: "Method Not Allowed", 413: "Payload Too Large"}.get(status, "X")
    head = "Status: %d %s\r\n" % (status, reason)
    head += "Access-Control-Allow-Origin: *\r\n"
    if status == 204:
        head += ("Access-Control-Allow-Methods: GET, POST, OPTIONS\r\n"
                 "Access-Control-Allow-Headers: Authorization, Content-Type\r\n\r\n")
        write(head.encode())
        return
    data = json.dumps(doc).encode()
    head += "Content-Type: application/json\r\n\r\n"
    write(head.encode() + data)


# ---------------------------------------------------------------- FastCGI
def rec(rtype, rid, content=b""):
    return struct.pack("!BBHHBB", 1, rtype, rid, len(content), 0, 0) + content


def parse_nv(data):
    out, i = {}, 0
    while i < len(data):
        lens = []
        for _ in range(2):
            b = data[i]
            if b & 0x80:
                lens.append(struct.unpack("!I", data[i:i + 4])[0] & 0x7FFFFFFF)
                i += 4
            else:
                lens.append(b)
                i += 1
        k = data[i:i + lens[0]].decode("latin-1")
        i += lens[0]
        out[k] = data[i:i + lens[1]].decode("latin-1")
        i += lens[1]
    return out


def recv_exact(conn, n):
    buf = b""
    while len(buf) < n:
        c = conn.recv(n - len(buf))
        if not c:
            raise EOFError
        buf += c
    return buf


def fcgi_conn(conn):
    try:
        while True:
            params_raw, stdin, rid, keep = b"", b"", 0, False
            params = None
            done = False
            while not done:
                h = recv_exact(conn, 8)
                _, rtype, rid, clen, plen, _ = struct.unpack("!BBHHBB", h)
                content = recv_exact(conn, clen + plen)[:clen]
                if rtype == 1:
                    keep = bool(content[2] & 1)
                elif rtype == 4:
                    if clen:
                        params_raw += content
                    else:
                        params = parse_nv(params_raw)
                elif rtype == 5:
                    if clen:
                        stdin += content
                    else:
                        done = True
                elif rtype == 9:
                    conn.sendall(rec(10, 0))
            out = []

            def write(b):
                for i in range(0, len(b), 65535):
                    out.append(rec(6, rid, b[i:i + 65535]))

            def flush():
                if out:
                    conn.sendall(b"".join(out))
                    out.clear()

            serve(params.get("REQUEST_METHOD", "GET"), params.get("REQUEST_URI", "/"), params,
                  lambda n: stdin, write, flush)
            out.append(rec(6, rid))
            out.append(rec(3, rid, struct.pack("!IB3x", 0, 0)))
            flush()
            if not keep:
                break
    except (EOFError, OSError):
        pass
    finally:
        conn.close()


def fcgi_main(lsock):
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    lsock.settimeout(0.2)
    workers = []
    while not stop.is_set():
        try:
            conn, _ = lsock.accept()
        except socket.timeout:
            continue
        conn.settimeout(None)
        t = threading.Thread(target=fcgi_conn, args=(conn,), daemon=True)
        t.start()
        workers = [w for w in workers if w.is_alive()] + [t]
    lsock.close()
    deadline = time.time() + env_int("CHAT2API_GRACE", 10)
    for w in workers:
        w.join(max(0, deadline - time.time()))


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "--listen":
        spec = sys.argv[2]
        if spec.startswith("unix:"):
            p = spec[5:]
            if os.path.exists(p):
                os.unlink(p)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(p)
            os.chmod(p, 0o660)
        else:
            host, _, port = spec.rpartition(":")
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, int(port)))
        s.listen(128)
        return fcgi_main(s)
    try:
        if stat.S_ISSOCK(os.fstat(0).st_mode):
            s = socket.socket(fileno=os.dup(0))
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
                return fcgi_main(s)
    except OSError:
        pass
    # CGI
    params = dict(os.environ)
    out = sys.stdout.buffer
    serve(params.get("REQUEST_METHOD", "GET"), params.get("REQUEST_URI", "/"), params,
          lambda n: sys.stdin.buffer.read(n) if n else b"", out.write, out.flush)
    out.flush()


if __name__ == "__main__":
    main()
