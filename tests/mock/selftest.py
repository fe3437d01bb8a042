#!/usr/bin/env python3
"""The frame of the mocks' self-tests (test_<provider>_mock.py): a suite of test functions,
check(), and a runner that resets the in-process mock before each test, prints one TAP-like
line per test (the traceback and the mock's last rejection on failure) and, last,
`# counts: N passed, M failed`, which tests/run-all.sh adds up."""

import gzip
import http.client
import json
import sys
import time
import traceback

PORT = None         # the mock under test (set by the self-test's main)


def http_req(method, path, body=None, headers=None, port=None, timeout=20):
    """(status, response, body bytes, gunzipped) of one request to the mock."""
    c = http.client.HTTPConnection("127.0.0.1", port or PORT, timeout=timeout)
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    c.request(method, path, body=data, headers=headers or {})
    r = c.getresponse()
    raw = r.read()
    if r.getheader("Content-Encoding") == "gzip":
        raw = gzip.decompress(raw)
    c.close()
    return r.status, r, raw


def jreq(method, path, body=None, headers=None, port=None):
    """As http_req, the body decoded as JSON when it is (else the bytes)."""
    st, r, raw = http_req(method, path, body, headers, port)
    try:
        return st, r, json.loads(raw) if raw else None
    except ValueError:
        return st, r, raw


def state():
    return jreq("GET", "/_mock/state")[2]


def mock_config(**kw):
    st, r, obj = jreq("POST", "/_mock/config", kw, {"Content-Type": "application/json"})
    check(st == 200, "POST /_mock/config: %d %r" % (st, obj))
    return obj


def parse_sse(raw):
    """[(event name or None, data string)] from an SSE byte stream (LF or CRLF)."""
    text = raw.decode("utf-8").replace("\r\n", "\n")
    out = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip(" "))
        out.append((name, "\n".join(data)))
    return out


def dechunk(raw):
    """(body, chunk count, complete) from a chunked HTTP body."""
    body, n, i = b"", 0, 0
    while True:
        j = raw.find(b"\r\n", i)
        if j < 0:
            return body, n, False
        size = int(raw[i:j], 16)
        if size == 0:
            return body, n, True
        if j + 2 + size > len(raw):
            return body + raw[j + 2:], n, False
        body += raw[j + 2:j + 2 + size]
        n += 1
        i = j + 2 + size + 2


def check(cond, msg="check failed"):
    if not cond:
        raise AssertionError(msg)


class Suite:
    def __init__(self):
        self.tests = []

    def test(self, fn):
        """Decorator: a test of the suite, run in the order of definition."""
        self.tests.append(fn)
        return fn

    def run(self, mock, reset, last_rejection=None, only=None):
        """Run every test (or those named in only, default sys.argv[1:]) against mock, which
        is stopped at the end; returns the exit status."""
        passed = failed = 0
        only = sys.argv[1:] if only is None else only
        try:
            for fn in self.tests:
                if only and fn.__name__ not in only:
                    continue
                reset()
                t0 = time.time()
                try:
                    fn()
                    passed += 1
                    print("ok - %s (%.2fs)" % (fn.__name__, time.time() - t0))
                except Exception:
                    failed += 1
                    print("not ok - %s" % fn.__name__)
                    for line in traceback.format_exc().rstrip().split("\n"):
                        print("#   " + line)
                    if last_rejection is not None:
                        try:
                            print("#   last_rejection: %s" % last_rejection())
                        except Exception:   # noqa: BLE001
                            pass
                sys.stdout.flush()
        finally:
            mock.stop()
        print("# counts: %d passed, %d failed" % (passed, failed))
        return 0 if failed == 0 and passed > 0 else 1
