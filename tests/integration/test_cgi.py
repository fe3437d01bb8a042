#!/usr/bin/env python3
"""chat2api in CGI mode, run directly (no web server): the request is the
environment (REQUEST_METHOD, REQUEST_URI, CONTENT_LENGTH, HTTP_*) plus the body
on stdin, the answer is CGI output ("Status:" and other headers, a blank
line, the body) on stdout.

The same checks as behind the web servers (checks.py), then CGI-only ones:
a short body on stdin, no environment at all, and /stats after concurrent
CGI processes (each one opens the LMDB store on its own).

Env: CHAT2API_BIN (default ./chat2api), C2A_IT_KEEP=1 keeps the temp dir.
"""

import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import checks  # noqa: E402
import harness  # noqa: E402
from harness import HarnessError, Response, Results  # noqa: E402

CGI_TIMEOUT = 15.0


def base_env():
    """What a web server would put in a CGI environment, minus the request."""
    return {
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_SOFTWARE": "chat2api-it",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "40000",
        "SCRIPT_NAME": "/chat2api.cgi",
        "PATH": "/usr/bin:/bin",
    }


def parse_cgi(resp, pieces):
    """CGI output -> resp.status/headers/body/pieces (times kept)."""
    raw = b"".join(p for _, p in pieces)
    sep = None
    for s in (b"\r\n\r\n", b"\n\n"):
        i = raw.find(s)
        if i >= 0 and (sep is None or i < sep[0]):
            sep = (i, len(s))
    if sep is None:
        resp.error = (resp.error or "") + " no header/body separator in CGI output %r" % raw[:300]
        return
    head, hlen = raw[:sep[0]], sep[0] + sep[1]
    status = None
    for line in head.decode("latin-1").replace("\r\n", "\n").split("\n"):
        if ":" not in line:
            resp.error = "bad CGI header line %r" % line
            continue
        k, v = line.split(":", 1)
        k, v = k.strip(), v.strip()
        if k.lower() == "status":
            try:
                status = int(v.split()[0])
                resp.reason = v.split(" ", 1)[1] if " " in v else ""
            except (ValueError, IndexError):
                resp.error = "bad Status header %r" % v
        resp.headers.append((k, v))
    if status is None:
        status = 302 if resp.header("location") else 200
    resp.status = status
    off = 0
    for t, p in pieces:
        start, end = off, off + len(p)
        off = end
        if end <= hlen:
            continue
        chunk = p[max(0, hlen - start):]
        resp.pieces.append((t, chunk))
    resp.body = raw[hlen:]


def cgi_request(binary, app_env, method, path, body=None, headers=None, extra_env=None,
                content_length=None, timeout=CGI_TIMEOUT):
    """Run one CGI request; returns a Response with .rc (exit status)."""
    env = base_env()
    env.update(app_env)
    env["REQUEST_METHOD"] = method
    env["REQUEST_URI"] = path
    env["QUERY_STRING"] = path.split("?", 1)[1] if "?" in path else ""
    if isinstance(body, str):
        body = body.encode()
    if body is not None or content_length is not None:
        env["CONTENT_LENGTH"] = str(content_length if content_length is not None else len(body))
    for k, v in (headers or {}).items():
        if k.lower() == "content-type":
            env["CONTENT_TYPE"] = v
        else:
            env["HTTP_" + k.upper().replace("-", "_")] = v
    if extra_env:
        env.update(extra_env)
    resp = Response()
    resp.rc = None
    t0 = time.monotonic()
    p = subprocess.Popen([binary], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env)

    def feed():
        try:
            if body:
                p.stdin.write(body)
            p.stdin.close()
        except OSError as e:        # the program answered without reading it all
            resp.error = "stdin: %s" % e
    threading.Thread(target=feed, daemon=True).start()
    err = []
    threading.Thread(target=lambda: err.append(p.stderr.read()), daemon=True).start()
    pieces = []
    fd = p.stdout.fileno()
    deadline = t0 + timeout
    import select
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            resp.error = "timeout: still running after %.0fs" % timeout
            p.kill()
            break
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            continue
        data = os.read(fd, 65536)
        if not data:
            break
        pieces.append((time.monotonic() - t0, data))
    try:
        resp.rc = p.wait(5)
    except subprocess.TimeoutExpired:
        p.kill()
        resp.rc = p.wait()
        resp.error = (resp.error or "") + " did not exit after closing stdout"
    resp.stderr = b"".join(err).decode("utf-8", "replace") if err else ""
    parse_cgi(resp, pieces)
    return resp


def main():
    r = Results("test_cgi")
    harness.install_signal_handlers(int(os.environ.get("C2A_IT_TIMEOUT", "120")))
    ws = None
    try:
        binary = harness.find_binary()
        r.note("binary: %s" % binary)
        ws = harness.Workspace("cgi-direct")
        env = harness.app_env(ws, "cgi")
        env.pop("C2A_IT_TAG", None)
        if harness.RUN_USER:     # the app dirs belong to www-data; we run as root here
            pass
        exits = []

        def send(method, path, body=None, headers=None, _env=env):
            resp = cgi_request(binary, _env, method, path, body, headers)
            exits.append((method, path, resp.rc))
            return resp

        penv = dict(env)
        penv.update(harness.PFX_ENV)
        penv["CHAT2API_DATA_DIR"] = ws.mkdir("data-pfx")
        checks.run_all(r, "cgi", send, lambda m, p, body=None, headers=None:
                       send(m, p, body, headers, _env=penv))

        bad = [e for e in exits if e[2] != 0]
        r.check("cgi: every CGI run exits with status 0", not bad, "nonzero exits: %r" % bad[:10])

        # Status line and header syntax
        resp = cgi_request(binary, env, "GET", "/v1/models/nope")
        r.check("cgi: error answers carry a 'Status: 404 ...' CGI header",
                any(k.lower() == "status" and v.startswith("404") for k, v in resp.headers),
                repr(resp.headers))

        # CONTENT_LENGTH says 100, stdin has 10 bytes then EOF: must answer, not hang.
        resp = cgi_request(binary, env, "POST", "/_test/echo", body=b'{"model":"',
                           headers={"Content-Type": "application/json"}, content_length=100,
                           timeout=8)
        r.check("cgi: short body on stdin (CONTENT_LENGTH 100, 10 bytes) -> 4xx, no hang",
                resp.status is not None and 400 <= resp.status < 500 and "timeout" not in
                (resp.error or ""), resp.describe())

        # No CGI environment at all (someone runs the binary by hand).
        p = subprocess.run([binary], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env={"PATH": "/usr/bin:/bin",
                                                        "CHAT2API_DATA_DIR": env["CHAT2API_DATA_DIR"]},
                           timeout=10)
        r.check("cgi: run with an empty environment exits cleanly (no signal)", p.returncode >= 0,
                "rc=%d stderr=%r" % (p.returncode, p.stderr[-300:]))

        # /stats across concurrent CGI processes (each opens LMDB itself)
        senv = dict(env)
        senv["CHAT2API_DATA_DIR"] = ws.mkdir("data-stats")
        models = ["gpt-4o", "o1", "gpt-4o-mini"]
        jobs = []
        for i in range(24):
            if i % 4 == 3:
                jobs.append(("POST", "/_test/echo", b'{"model":', 400, None))
            else:
                m = models[i % 3]
                jobs.append(("POST", "/_test/echo", ('{"model":"%s"}' % m).encode(), 200, m))
        results = [None] * len(jobs)

        def worker(k):
            m, pth, b, _, _ = jobs[k]
            results[k] = cgi_request(binary, senv, m, pth, b, {"Content-Type": "application/json"})
        ths = [threading.Thread(target=worker, args=(k,)) for k in range(len(jobs))]
        for t in ths:
            t.start()
        for t in ths:
            t.join()
        wrong = [(k, results[k].status) for k in range(len(jobs)) if results[k].status != jobs[k][3]]
        r.check("cgi: 24 concurrent CGI requests answered as expected", not wrong, repr(wrong))
        resp = cgi_request(binary, senv, "GET", "/stats")
        st = resp.json() or {}
        want_models = {}
        for j in jobs:
            if j[4]:
                want_models[j[4]] = want_models.get(j[4], 0) + 1
        r.check("cgi: /stats after 24 concurrent CGI runs: total=24 success=18 failed=6",
                (st.get("total"), st.get("success"), st.get("failed")) == (24, 18, 6), repr(st))
        r.check("cgi: /stats per-model counts exact", st.get("models") == want_models,
                "got %r want %r" % (st.get("models"), want_models))
    except HarnessError as e:
        r.fail("harness setup", str(e))
    except (KeyboardInterrupt, harness.Timeout) as e:
        r.fail("run interrupted", str(e) or "interrupted")
    finally:
        if ws:
            if r.failed:
                r.note(ws.log_tails())
            harness.finish_workspace(r, ws, "cgi")
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
