#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""What every loopback provider mock of chat2api's tests shares (Python 3 standard library).

A mock is a MockState subclass (its configuration, counters and credentials), a Handler
subclass (its routes: ROUTES = [(method, path, name)] answered by h_<name>) and a Mock
subclass (the server object a test starts in-process).  This module holds the rest:

  * MockState: the lock, counters (bump), rejections, the per-user knob layer (by_token,
    effective) and healing fault knobs (take: <key>_times = N, then the knob heals);
  * Handler: request bodies (Content-Length or chunked), JSON and gzip answers, rejections
    recorded with an x-mock-reason header, Cloudflare error pages, waits that notice a client
    that left, the /_mock/state|config|reset control API, and write_stream(): an SSE body
    split at every byte / at random / every N bytes, dripped, closed (FIN or RST) or stalled
    after N events, per the markers [[split:..]] [[drip:MS]] [[close:N]] [[reset:N]]
    [[stall:N]] or the knobs split, drip_ms, close_after_events, stall_after_events;
  * Mock: start/stop in-process, the port, configure/snapshot/reset, wait_for;
  * cli(): --port/--port-file/--config/--verbose, SIGTERM/SIGINT.
"""

import argparse
import bisect
import copy
import gzip
import json
import os
import random
import re
import select
import signal
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

MARKER_RE = re.compile(r"\[\[([a-z_]+)(?::([^\]]*))?\]\]")
MAX_BODY = 16 * 1024 * 1024

CF_5XX_HTML = """<!DOCTYPE html>
<html lang="en-US"><head><title>%s | %d: %s</title><meta charset="UTF-8" /></head>
<body><div id="cf-wrapper"><div id="cf-error-details"><header><h1><span class="cf-error-type">Error</span>
<span class="cf-error-code">%d</span></h1><h2 class="cf-subheadline">%s</h2></header>
<div class="cf-error-footer"><p>Cloudflare Ray ID: <strong>%016x</strong></p></div></div></div></body></html>
"""


class ClientGone(Exception):
    """The client closed the connection while we were writing."""


class Abort(Exception):
    """Close the stream on purpose (knob)."""


def markers_of(text):
    """{name: value} of the [[name:value]] markers in text, and text without them."""
    return ({m.group(1): m.group(2) or "" for m in MARKER_RE.finditer(text)},
            MARKER_RE.sub("", text).strip())


# --------------------------------------------------------------------------- state

class MockState:
    """Subclasses set DEFAULT_CONFIG (with a "by_token" dict), SPECIAL_CONFIG_KEYS,
    HEALING_KEYS and STREAM_ROUTE, and extend reset_counters()."""
    DEFAULT_CONFIG = {"by_token": {}}
    SPECIAL_CONFIG_KEYS = set()
    HEALING_KEYS = ()
    STREAM_ROUTE = "completion"

    def __init__(self):
        self.lock = threading.RLock()
        self.config = copy.deepcopy(self.DEFAULT_CONFIG)

    def reset_counters(self):
        with self.lock:
            self.c = {"requests": {}, "responses": {}, "completions_completed": 0,
                      "completions_rejected": 0, "client_disconnects": 0, "server_aborts": 0,
                      "stalls": 0}
            self.last = {"completion": None, "rejection": None, "disconnect": None}
            self.last_requests = {}
            self.rejections = []
            self.recent = []

    def bump(self, key, sub=None, n=1):
        with self.lock:
            if sub is None:
                self.c[key] = self.c.get(key, 0) + n
            else:
                d = self.c.setdefault(key, {})
                d[sub] = d.get(sub, 0) + n

    def record_rejection(self, route, status, reason, user):
        with self.lock:
            r = {"t": round(time.time(), 3), "route": route, "status": status, "reason": reason,
                 "user": user}
            self.last["rejection"] = r
            self.rejections.append(r)
            del self.rejections[:-100]
            if route == self.STREAM_ROUTE:
                self.c["completions_rejected"] += 1

    def check_config_keys(self, obj):
        """A configuration object names only knobs and the SPECIAL_CONFIG_KEYS."""
        if not isinstance(obj, dict):
            raise ValueError("config must be a JSON object")
        for k in obj:
            if k not in self.DEFAULT_CONFIG and k not in self.SPECIAL_CONFIG_KEYS:
                raise ValueError("unknown config key %r" % k)

    def set_by_token(self, v):
        """Merge {"<user>": {knob: value} | null} into the per-user layer."""
        if not isinstance(v, dict):
            raise ValueError("by_token must be an object")
        for tok, over in v.items():
            if over is None:
                self.config["by_token"].pop(tok, None)
                continue
            if not isinstance(over, dict):
                raise ValueError("by_token values must be objects")
            for kk in over:
                if kk not in self.DEFAULT_CONFIG or kk == "by_token":
                    raise ValueError("unknown by_token key %r" % kk)
            self.config["by_token"].setdefault(tok, {}).update(copy.deepcopy(over))

    def effective(self, user):
        with self.lock:
            cfg = copy.deepcopy(self.config)
            cfg.update(copy.deepcopy(self.config["by_token"].get(user) or {}))
            return cfg

    def take(self, key, user):
        """Value of a healing knob for this user (0/None = off); consumes one of <key>_times."""
        assert key in self.HEALING_KEYS, key
        with self.lock:
            for layer in (self.config["by_token"].get(user), self.config):
                if not layer or not layer.get(key):
                    continue
                val, tk = layer[key], key + "_times"
                times = layer.get(tk)
                if times is not None:
                    if times <= 1:
                        layer[key] = self.DEFAULT_CONFIG[key]
                        layer[tk] = None
                        if times < 1:
                            continue
                    else:
                        layer[tk] = times - 1
                return val
            return self.DEFAULT_CONFIG[key]

    def common_snapshot(self):
        """Counters, the last records, rejections and recent requests (deep copies)."""
        with self.lock:
            s = copy.deepcopy(self.c)
            for k, v in self.last.items():
                s["last_" + k] = copy.deepcopy(v)
            s["last_requests"] = copy.deepcopy(self.last_requests)
            s["rejections"] = copy.deepcopy(self.rejections)
            s["recent"] = copy.deepcopy(self.recent)
            return s


# --------------------------------------------------------------------------- HTTP handler

class Handler(BaseHTTPRequestHandler):
    """Subclasses set ROUTES, NAME (log prefix), CF_HOST and error_obj(code, msg)."""
    protocol_version = "HTTP/1.1"
    server_version = "cloudflare"
    sys_version = ""
    timeout = 120
    ROUTES = []
    NAME = "mock"
    CF_HOST = "example.com"

    @staticmethod
    def error_obj(code, msg):
        return {"code": code, "msg": msg}

    @property
    def st(self):
        return self.server.mock.state

    def version_string(self):
        return "cloudflare"

    def log_message(self, fmt, *args):
        if self.server.mock.verbose:
            sys.stderr.write("[%s] %s - %s\n" % (self.NAME, self.address_string(), fmt % args))

    def setup(self):
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self.server.mock._track(self.connection, True)

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass
        self.server.mock._track(self.connection, False)

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            data = bytearray()
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ValueError("truncated chunked body")
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(data)
                data += self.rfile.read(size)
                self.rfile.readline()
                if len(data) > MAX_BODY:
                    raise OverflowError("body too large")
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0 or n > MAX_BODY:
            raise OverflowError("bad Content-Length")
        data = self.rfile.read(n) if n else b""
        if len(data) != n:
            raise ValueError("truncated body")
        return data

    # ---------------------------------------------------------------- responses
    def _mark_status(self, status):
        if self._recorded:
            return
        self._recorded = True
        st = self.st
        with st.lock:
            if not self._route.startswith("mock_"):
                st.bump("responses", "%s %d" % (self._route, status))
                st.recent.append({"t": round(time.time(), 3), "method": self.command, "path": self._path,
                                  "route": self._route, "status": status, "user": self._user})
                del st.recent[:-100]

    def _accepts_gzip(self):
        for item in (self.headers.get("Accept-Encoding") or "").split(","):
            parts = [p.strip() for p in item.split(";")]
            if parts[0].lower() == "gzip":
                return not any(p.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000") for p in parts[1:])
        return False

    def _send(self, status, data, ctype, headers=()):
        self._mark_status(status)
        hdrs = list(headers)
        if isinstance(data, str):
            data = data.encode("utf-8")
        if self._gzip and data and self._accepts_gzip():
            data = gzip.compress(data, 6)
            hdrs += [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")]
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in hdrs:
            self.send_header(k, v)
        self.end_headers()
        if data:
            self.wfile.write(data)

    def _json(self, status, obj, headers=()):
        self._send(status, json.dumps(obj, ensure_ascii=False), "application/json", headers)

    def _reject(self, status, obj, reason, ctype="application/json", headers=()):
        hdrs = [("x-mock-reason", reason.encode("ascii", "replace").decode("ascii")[:300])] + list(headers)
        self.st.record_rejection(self._route, status, reason, self._user)
        if isinstance(obj, (dict, list)):
            self._send(status, json.dumps(obj, ensure_ascii=False), ctype, hdrs)
        else:
            self._send(status, obj, ctype, hdrs)
        return None

    def _cf_page(self, status, reason):
        title = {502: "Bad gateway", 503: "Service unavailable", 504: "Gateway time-out",
                 403: "Access denied"}.get(status, "Error")
        html = CF_5XX_HTML % (self.CF_HOST, status, title, status, title, random.getrandbits(64))
        return self._reject(status, html, reason, "text/html; charset=UTF-8")

    def _wait(self, seconds):
        """Sleep, but raise ClientGone when the client closes the connection."""
        deadline = time.monotonic() + seconds
        while True:
            if self.server.mock._stopping.is_set():
                raise Abort("server stopping")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                r, _, _ = select.select([self.connection], [], [], min(remaining, 0.1))
                if r and not self.connection.recv(1, socket.MSG_PEEK):
                    raise ClientGone("peer closed")
            except (BlockingIOError, InterruptedError):
                continue
            except (OSError, ValueError) as e:
                raise ClientGone(str(e))
            if r:           # pipelined bytes: keep sleeping without polling
                time.sleep(max(0.0, deadline - time.monotonic()))
                return

    # ---------------------------------------------------------------- dispatch
    def _dispatch(self, method):
        self._recorded, self._route, self._user = False, "unknown", None
        self._cfg = self.st.effective(None)
        self._gzip = False
        self._path = urlsplit(self.path).path
        try:
            self.body = self._read_body()
        except Exception as e:
            self.close_connection = True
            self._json(413 if isinstance(e, OverflowError) else 400, self.error_obj(40000, "bad request body"))
            return
        func, self._route = None, "not_found"
        for m_, path, name in self.ROUTES:
            if self._path == path:
                if m_ == method:
                    func, self._route = getattr(self, "h_" + name), name
                    break
                self._route = "method_not_allowed"
        if not self._route.startswith("mock_"):
            with self.st.lock:
                self.st.bump("requests", self._route)
                self.st.last_requests[self._route] = {
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": self.body.decode("utf-8", "replace")[:20000]}
        try:
            if func is None:
                self._json(405 if self._route == "method_not_allowed" else 404,
                           self.error_obj(40400, "Not Found"))
            else:
                self._gzip = not self._route.startswith("mock_") and self.st.config.get("gzip", True)
                func()
        except (ClientGone, Abort, BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True
        except Exception as e:          # a bug in the mock: loud, but keep serving
            import traceback
            traceback.print_exc()
            self.close_connection = True
            if not self._recorded:
                try:
                    self._json(500, self.error_obj(50000, "mock internal error: %r" % (e,)))
                except OSError:
                    pass
        finally:
            self._mark_status(0)

    # ---------------------------------------------------------------- the stream writer
    def write_stream(self, events, cfg, markers, lc, user):
        """Write the SSE events (bytes each) as one 200 response, misbehaving as asked."""
        st = self.st
        chunked = self.request_version == "HTTP/1.1"
        self._mark_status(200)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Accel-Buffering", "no")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
        self.end_headers()

        split = str(markers.get("split") or cfg.get("split") or "none")
        drip = float(markers.get("drip") or cfg.get("drip_ms") or 0) / 1000.0
        close_ev, close_mode = st.take("close_after_events", user), cfg.get("close_mode", "fin")
        if "close" in markers:
            close_ev, close_mode = int(markers["close"] or 1), "fin"
        if "reset" in markers:
            close_ev, close_mode = int(markers["reset"] or 1), "reset"
        stall_ev = st.take("stall_after_events", user)
        if "stall" in markers:
            stall_ev = int(markers["stall"] or 1)

        blob = b"".join(events)
        starts, pos = [], 0
        for e in events:
            starts.append(pos)
            pos += len(e)
        if split in ("bytes", "1"):
            pieces = [(i, blob[i:i + 1]) for i in range(len(blob))]
        elif split == "random":
            rng = random.Random(cfg.get("split_seed", 1))
            mx, pieces, i = max(1, int(cfg.get("random_split_max", 16))), [], 0
            while i < len(blob):
                n = rng.randint(1, mx)
                pieces.append((i, blob[i:i + n]))
                i += n
        elif split.isdigit():
            n = int(split)
            pieces = [(i, blob[i:i + n]) for i in range(0, len(blob), n)]
        else:
            pieces = list(zip(starts, events))

        written, cur = 0, -1
        try:
            for off, piece in pieces:
                ev = bisect.bisect_right(starts, off) - 1
                if ev != cur:
                    if close_ev is not None and ev >= int(close_ev):
                        raise Abort("close_after_events")
                    if stall_ev is not None and ev >= int(stall_ev):
                        st.bump("stalls")
                        self._wait(float(cfg.get("stall_max_s", 300)))
                        raise Abort("stall ended")
                    if drip and ev > 0:
                        self._wait(drip)
                    cur = ev
                self._write_piece(piece, chunked)
                written += len(piece)
            with st.lock:                   # before the last chunk: the client sees it done
                st.c["completions_completed"] += 1
                lc["completed"] = True
            if chunked:
                self._raw_write(b"0\r\n\r\n")
            else:
                self.close_connection = True
        except (ClientGone, BrokenPipeError, ConnectionResetError, ConnectionAbortedError, socket.timeout) as e:
            with st.lock:
                st.c["client_disconnects"] += 1
                st.last["disconnect"] = {"t": round(time.time(), 3), "bytes_written": written,
                                         "events_started": cur, "reason": str(e) or type(e).__name__}
            self.close_connection = True
        except Abort as e:
            with st.lock:
                st.c["server_aborts"] += 1
            self.close_connection = True
            if close_mode == "reset" or str(e) == "server stopping":
                self._reset_connection()

    def _raw_write(self, data):
        try:
            self.wfile.write(data)
        except OSError as e:
            raise ClientGone(str(e) or type(e).__name__)

    def _write_piece(self, piece, chunked):
        self._raw_write((b"%x\r\n" % len(piece) + piece + b"\r\n") if chunked else piece)

    def _reset_connection(self):
        """Abort with a TCP RST (SO_LINGER 0, then close)."""
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    # ---------------------------------------------------------------- control API
    def h_mock_state(self):
        snap = self.st.snapshot()
        snap["port"] = self.server.server_address[1]
        self._json(200, snap)

    def h_mock_config_get(self):
        self._json(200, self.st.public_config())

    def h_mock_config(self):
        try:
            cfg = self.st.configure(json.loads(self.body.decode("utf-8") or "{}"))
        except (ValueError, TypeError, AttributeError) as e:
            return self._json(400, {"error": "bad config: %s" % e})
        self._json(200, cfg)

    def h_mock_reset(self):
        try:
            obj = json.loads(self.body.decode("utf-8") or "{}")
        except ValueError:
            obj = {}
        if not isinstance(obj, dict):
            obj = {}
        self.server.mock.reset(config=bool(obj.get("config") or obj.get("all")), all=bool(obj.get("all")))
        self._json(200, {"status": "ok"})


CONTROL_ROUTES = [
    ("GET", "/_mock/state", "mock_state"),
    ("GET", "/_mock/config", "mock_config_get"),
    ("POST", "/_mock/config", "mock_config"),
    ("POST", "/_mock/reset", "mock_reset"),
]


# --------------------------------------------------------------------------- server object

class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class Mock:
    """The mock as an object: Mock(state, handler).start() ... .stop()."""
    NAME = "mock"

    def __init__(self, state, handler, host="127.0.0.1", port=0, verbose=False):
        self.state = state
        self.verbose = verbose
        self._stopping = threading.Event()
        self._conns, self._conns_lock = set(), threading.Lock()
        self.httpd = _Server((host, port), handler)
        self.httpd.mock = self
        self.host = host
        self.port = self.httpd.server_address[1]
        self._thread = None

    @property
    def url(self):
        return "http://%s:%d" % (self.host, self.port)

    def _track(self, conn, add):
        with self._conns_lock:
            (self._conns.add if add else self._conns.discard)(conn)

    def start(self):
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=self.NAME, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self):
        self.httpd.serve_forever(poll_interval=0.1)

    def stop(self):
        self._stopping.set()
        self.httpd.shutdown()
        with self._conns_lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.httpd.server_close()
        if self._thread:
            self._thread.join(5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def configure(self, obj=None, **kw):
        d = dict(obj or {})
        d.update(kw)
        return self.state.configure(d)

    def snapshot(self):
        return self.state.snapshot()

    def wait_for(self, pred, timeout=5.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            s = self.snapshot()
            if pred(s):
                return s
            time.sleep(0.02)
        return None


# --------------------------------------------------------------------------- CLI

def cli(argv, description, make, banner, extra_args=()):
    """Run a mock from the command line.  make(args) builds it; extra_args are
    (flag, kwargs) pairs for argparse; banner(mock) is printed to stderr."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", help="write the chosen port here when ready")
    ap.add_argument("--config", help="initial configuration (JSON object, as POST /_mock/config)")
    ap.add_argument("--verbose", action="store_true")
    for flag, kw in extra_args:
        ap.add_argument(flag, **kw)
    a = ap.parse_args(argv)
    a.config = json.loads(a.config) if a.config else None
    mock = make(a)

    def on_signal(signum, frame):
        threading.Thread(target=mock.stop, daemon=True).start()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if a.port_file:
        tmp = a.port_file + ".tmp%d" % os.getpid()
        with open(tmp, "w") as f:
            f.write("%d\n" % mock.port)
        os.replace(tmp, a.port_file)
    sys.stderr.write(banner(mock))
    sys.stderr.flush()
    mock.serve_forever()
    mock.httpd.server_close()
    return 0
