#!/usr/bin/env python3
"""The gateway variants of the deploy files, each started with its real web
server on loopback ports (only paths and ports substituted), chat2api with
ENABLE_GATEWAY=true in front of tests/mock/chatgpt_site_mock.py:

  nginx + spawn-fcgi          deploy/nginx/chat2api-gateway.conf
  lighttpd (bin-path)         deploy/lighttpd/chat2api-gateway.conf
  Apache + mod_proxy_fcgi     deploy/apache/proxy_fcgi-gateway.conf
  Apache + mod_fcgid          deploy/apache/fcgid-gateway.conf

Through each: a seed logs in and gets the live page, an event stream
arrives event by event, a conversation streams, a 5 MB asset arrives
byte-exact, a 30 MB upload reaches the upstream (no 413 of the front
server), a WebSocket upgrade is refused at once, and a login by link
leaves no secret in the access log.

Env: C2A_IT_ONLY (nginx,lighttpd,proxy_fcgi,fcgid), CHAT2API_BIN,
CHAT2API_ALLOW_SKIP=1, C2A_IT_KEEP=1.
"""

import hashlib
import json
import os
import re
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "mock"))

import harness  # noqa: E402
from harness import HarnessError, Missing, Results  # noqa: E402
import chatgpt_mock  # noqa: E402
import chatgpt_site_mock  # noqa: E402

CODE = "deploy-gw-code-3b9a"
AT = chatgpt_mock.DEFAULT_ACCESS_TOKEN
SEED, LINK_SEED = "deploy-seed-one", "deploy-seed-link"
FRONTENDS = [harness.Nginx, harness.Lighttpd, harness.ApacheProxyFcgi, harness.ApacheFcgid]
UPLOAD = 30 * 1024 * 1024


def req(port, method, path, body=None, headers=None, timeout=60):
    return harness.http(port, method, path, body, headers=headers or {}, timeout=timeout)


def run_checks(r, fe, mock, label):
    port = fe.port
    pre = label + ": "
    resp = req(port, "POST", "/tokens/upload", json.dumps({"tokens": [AT]}),
               {"Content-Type": "application/json", "Authorization": "Bearer " + CODE})
    r.check(pre + "the pool takes the mock's account", resp.status == 200, resp.describe())
    form = req(port, "GET", "/login")
    m = re.search(r'name="csrf" value="([0-9a-f]{64})"', form.body.decode("utf-8", "replace"))
    nonce = ""
    for k, v in form.headers:
        if k.lower() == "set-cookie" and v.startswith("c2a_gw_login="):
            nonce = v.split(";")[0]
    resp = req(port, "POST", "/login",
               urllib.parse.urlencode({"csrf": m.group(1) if m else "", "token": SEED}),
               {"Content-Type": "application/x-www-form-urlencoded", "Cookie": nonce,
                "Sec-Fetch-Site": "same-origin"})
    r.check(pre + "a seed logs in at /login", resp.status == 303 and
            any(v.startswith("token=" + SEED) for k, v in resp.headers if k.lower() == "set-cookie"),
            resp.describe())
    resp = req(port, "GET", "/", None, {"Cookie": "token=" + SEED})
    r.check(pre + "the live page, filled in for the seed", resp.status == 200 and
            ('\\"accessToken\\",\\"%s\\"' % SEED) in resp.text(200000) and
            AT not in resp.text(200000), resp.describe())
    resp = req(port, "GET", "/backend-api/slow_sse?n=4&ms=350", None,
               {"Authorization": "Bearer " + SEED})
    times = [t for t, e in resp.sse_events() if "data:" in e]
    r.check(pre + "an event stream arrives event by event (%s)" % ", ".join(
            "%.2f" % t for t in times), resp.status == 200 and len(times) == 4 and
            times[0] < 0.3 and times[-1] - times[0] > 0.9, resp.describe())
    body = {"action": "next", "model": "auto", "parent_message_id": "root",
            "messages": [{"id": "aaaaaaaa-0000-4000-8000-000000000009", "author": {"role": "user"},
                          "content": {"content_type": "text", "parts": ["deploy"]}}],
            "supported_encodings": ["v1"]}
    resp = req(port, "POST", "/backend-api/conversation", json.dumps(body),
               {"Authorization": "Bearer " + SEED, "Content-Type": "application/json",
                "Accept": "text/event-stream"})
    r.check(pre + "a conversation streams (the server's sentinel)", resp.status == 200 and
            b'"title": "Mock: deploy"' in resp.body, resp.describe())
    size = 5 * 1024 * 1024
    resp = req(port, "GET", "/assets/big.bin?size=%d" % size)
    r.check(pre + "a 5 MB asset byte-exact", resp.status == 200 and len(resp.body) == size and
            hashlib.sha256(resp.body).digest() ==
            hashlib.sha256(chatgpt_site_mock.big_bytes(size)).digest(), resp.describe())
    t0 = time.monotonic()
    resp = req(port, "POST", "/backend-api/upload_probe", b"x" * UPLOAD,
               {"Authorization": "Bearer " + SEED, "Content-Type": "application/octet-stream"},
               timeout=120)
    r.check(pre + "a 30 MB upload reaches the upstream (its 404, no 413 of the front server; "
            "%.1fs)" % (time.monotonic() - t0), resp.status == 404 and
            b"Not Found" in resp.body, resp.describe())
    t0 = time.monotonic()
    resp = req(port, "GET", "/backend-api/ws", None,
               {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
                "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Authorization": "Bearer " + SEED},
               timeout=10)
    r.check(pre + "a WebSocket upgrade is refused at once (%d)" % (resp.status or 0),
            resp.status in (403, 426) and time.monotonic() - t0 < 3, resp.describe())
    resp = req(port, "GET", "/?token=" + LINK_SEED)
    r.check(pre + "a login by link", resp.status == 303, resp.describe())
    seen = [e for e in mock.seen() if SEED in json.dumps(e) or LINK_SEED in json.dumps(e)]
    r.check(pre + "the upstream never saw a seed", not seen, repr(seen[:2]))


def logs_clean(r, ws, label):
    leaks = []
    logdir = ws.path("log")
    for fn in sorted(os.listdir(logdir)) if os.path.isdir(logdir) else []:
        try:
            with open(os.path.join(logdir, fn), "rb") as f:
                data = f.read().decode("utf-8", "replace")
        except OSError:
            continue
        for s in (SEED, LINK_SEED, CODE, AT):
            if s in data:
                leaks.append("%s in %s" % (s[:10], fn))
    r.check(label + ": no seed, token or code in any log (access logs included)", not leaks,
            "; ".join(leaks))


def run_frontend(r, cls, binary):
    label = cls.name + " (gateway)"
    try:
        cls(None, binary).check_installed()
    except Missing as e:
        if harness.allow_skip():
            r.skip(label, str(e))
        else:
            r.fail(label + ": front end available", str(e))
        return
    ws = harness.Workspace("gwdeploy-" + cls.key)
    mock = chatgpt_site_mock.ChatGPTSiteMock().start()
    try:
        fe = cls(ws, binary, pfx=False, variant="gateway")
        fe.app_extra = {"ENABLE_GATEWAY": "true", "AUTHORIZATION": CODE,
                        "CHATGPT_BASE_URL": mock.url, "GATEWAY_PAGE_TTL": "0",
                        "CHAT2API_MAX_BODY": "100m", "RETRY_TIMES": "0"}
        fe.start()
        r.check(label + ": starts from the shipped file and answers /health", True)
        run_checks(r, fe, mock, label)
        ws.stop_all()
        logs_clean(r, ws, label)
        if r.failed:
            r.note(ws.log_tails(20))
    except HarnessError as e:
        r.fail(label + ": starts and answers /health", "%s\n%s" % (e, ws.log_tails()))
    finally:
        mock.stop()
        harness.finish_workspace(r, ws, label)


def main():
    r = Results("test_gateway_deploy")
    harness.install_signal_handlers(int(os.environ.get("C2A_IT_TIMEOUT", "600")))
    only = os.environ.get("C2A_IT_ONLY")
    only = set(only.split(",")) if only else None
    try:
        binary = harness.find_binary()
        for cls in FRONTENDS:
            if only and cls.key not in only:
                continue
            run_frontend(r, cls, binary)
    except HarnessError as e:
        r.fail("harness setup", str(e))
    except (KeyboardInterrupt, harness.Timeout) as e:
        r.fail("run interrupted", str(e) or "interrupted")
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
