#!/usr/bin/env python3
"""A loopback HTTP forward proxy for the PROXY_URL tests (standard library only).

It takes absolute-form requests ("POST http://127.0.0.1:PORT/path HTTP/1.1"),
records each one (method, URL, the user in Proxy-Authorization), forwards it to
the target with Connection: close and relays the answer as it arrives, so a
streamed response stays streamed.  CONNECT is refused: the tests' upstream is
plain http, and a client that tunnels anyway should fail loudly.  Targets are
limited to loopback, so a misconfigured test can never reach the internet.

    p = HttpProxy().start()      # p.port, p.url, p.hits() -> list of dicts
    ...
    p.stop()
"""
import base64
import socket
import socketserver
import threading
import urllib.parse

LOOPBACK = ("127.0.0.1", "localhost", "::1")


class _Handler(socketserver.StreamRequestHandler):
    timeout = 30

    def handle(self):
        line = self.rfile.readline(65536).decode("latin-1").rstrip("\r\n")
        headers, length = [], 0
        while True:
            h = self.rfile.readline(65536).decode("latin-1")
            if h in ("\r\n", "\n", ""):
                break
            headers.append(h.rstrip("\r\n"))
        parts = line.split(" ")
        if len(parts) != 3:
            return self._fail(400, "bad request line")
        method, url, _ = parts
        user = None
        fwd = []
        for h in headers:
            name, _, value = h.partition(":")
            low = name.strip().lower()
            if low == "proxy-authorization":
                scheme, _, cred = value.strip().partition(" ")
                if scheme.lower() == "basic":
                    try:
                        user = base64.b64decode(cred).decode()
                    except Exception:  # noqa: BLE001
                        user = "?"
                continue
            if low in ("proxy-connection", "connection", "keep-alive"):
                continue
            if low == "content-length":
                length = int(value.strip() or 0)
            fwd.append(h)
        self.server.owner._record({"method": method, "url": url, "user": user})
        if method == "CONNECT":
            return self._fail(405, "CONNECT refused by the test proxy")
        u = urllib.parse.urlsplit(url)
        if u.scheme != "http" or u.hostname not in LOOPBACK:
            return self._fail(403, "only http to loopback")
        body = self.rfile.read(length) if length else b""
        path = u.path + ("?" + u.query if u.query else "")
        try:
            up = socket.create_connection((u.hostname, u.port or 80), timeout=30)
        except OSError as e:
            return self._fail(502, "connect: %s" % e)
        with up:
            head = "%s %s HTTP/1.1\r\n%s\r\nConnection: close\r\n\r\n" % (
                method, path or "/", "\r\n".join(fwd))
            up.sendall(head.encode("latin-1") + body)
            while True:
                chunk = up.recv(65536)
                if not chunk:
                    break
                try:
                    self.wfile.write(chunk)
                    self.wfile.flush()
                except OSError:
                    break

    def _fail(self, status, why):
        msg = why.encode()
        try:
            self.wfile.write(b"HTTP/1.1 %d x\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                             % (status, len(msg)) + msg)
        except OSError:
            pass


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class HttpProxy:
    def __init__(self):
        self._lock = threading.Lock()
        self._hits = []
        self._srv = None

    def start(self):
        self._srv = _Server(("127.0.0.1", 0), _Handler)
        self._srv.owner = self
        self.port = self._srv.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        threading.Thread(target=self._srv.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self._srv is not None:
            self._srv.shutdown()
            self._srv.server_close()
            self._srv = None

    def _record(self, hit):
        with self._lock:
            self._hits.append(hit)

    def hits(self, path_part=None):
        with self._lock:
            return [h for h in self._hits if path_part is None or path_part in h["url"]]

    def reset(self):
        with self._lock:
            self._hits = []
