#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""Loopback mock of the ChatGPT *site* for the gateway tests: chatgpt_mock.py's
backend (sentinel, conversation streams, conversations, OAuth, files) plus a
small page shaped like the live chatgpt.com and its script.

Python 3 standard library only.

THE PAGE (GET /)
    With "Authorization: Bearer <known AT>" the logged-in page: a React Router
    context in window.__reactRouterContext.streamController.enqueue("...")
    lines, a turbo-stream flat array in which objects name members by index
    ({"_12":13}) and "accessToken" holds that very AT, "email" the account's
    address, "locale" en-US; the build id and script URLs the API scrapes
    (data-build, /_next/static/c/TESTBUILD/_/x.js); a module script from
    https://cdn.oaistatic.com/assets/app-mock.js with an integrity attribute
    and links with the mock's own base URL (both must be rewritten).  Without
    a known AT: the logged-out page (no accessToken).  "site_page": "nologin"
    serves the logged-out page to everyone; home_status (chatgpt_mock) refuses
    the page.

THE SCRIPT (GET /assets/app-mock.js)
    Reads the token out of the context, calls /backend-api/me,
    /backend-api/conversations, asks /backend-api/sentinel/chat-requirements
    (using its token if it gets one), streams a /backend-api/conversation (v1
    delta encoding) for the prompt typed into #prompt, and shows what it got
    in #email, #conv-list, #reply, #conv-id, #status.  It mentions the site's
    hosts so that the rewriting of text assets can be seen.

MORE ROUTES
    GET  /assets/big.bin?size=N     N deterministic bytes (octet-stream), 64 KiB writes
    GET  /assets/logo.png           a small PNG
    GET  /backend-api/me            the account (needs a known AT)
    GET  /backend-api/echo_auth     {"authorization": <the header it got>}
    GET  /backend-api/redirect      302 to <base>/assets/app-mock.js
    GET  /backend-api/slow_sse?n=N&ms=M   N events M ms apart (text/event-stream)
    POST /v1/initialize             statsig: {"user":{"ip","country"},...}
    GET  /_mock/site                what every request carried: [{method, path,
                                    authorization, cookie}] (the last 5000)
"""

import functools
import hashlib
import json
import os
import re
import sys
import threading
import time
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chatgpt_mock  # noqa: E402
import mockbase  # noqa: E402
from chatgpt_mock import ChatGPTMock, Handler, ROUTES  # noqa: E402

ACCOUNT_EMAIL = "mock@example.com"
SEEN_MAX = 5000

APP_JS = r"""// chatgpt.com shaped test client (chatgpt_site_mock.py)
// hosts it knows: https://cdn.oaistatic.com/assets/ https://chatgpt.com/backend-api/
// files https://files.oaiusercontent.com/file-x voice wss://webrtc.chatgpt.com/v1
// sandbox https://web-sandbox.oaiusercontent.com/s statsig https://ab.chatgpt.com/v1/
(function () {
  'use strict';
  var status = document.getElementById('status');
  function say(t) { status.textContent = t; }
  function ctxToken() {
    var arr = JSON.parse(window.__reactRouterContext.chunks[0].trim()), keys = {}, i, k, o, out = {};
    for (i = 0; i < arr.length; i++) if (typeof arr[i] === 'string') keys[i] = arr[i];
    for (i = 0; i < arr.length; i++) {
      o = arr[i];
      if (o && typeof o === 'object' && !Array.isArray(o))
        for (k in o) if (k[0] === '_' && keys[k.slice(1)]) out[keys[k.slice(1)]] = arr[o[k]];
    }
    return out;
  }
  var ctx = ctxToken(), token = ctx.accessToken;
  document.getElementById('ctx-token').textContent = token || '';
  document.getElementById('ctx-email').textContent = ctx.email || '';
  var H = { Authorization: 'Bearer ' + token };
  function list() {
    return fetch('/backend-api/conversations?offset=0&limit=28', { headers: H }).then(function (r) {
      return r.json();
    }).then(function (j) {
      var ul = document.getElementById('conv-list');
      ul.textContent = '';
      (j.items || []).forEach(function (c) {
        var li = document.createElement('li');
        li.textContent = c.title;
        li.setAttribute('data-id', c.id);
        ul.appendChild(li);
      });
      document.getElementById('conv-count').textContent = String((j.items || []).length);
    });
  }
  fetch('/backend-api/me', { headers: H }).then(function (r) { return r.json(); }).then(function (me) {
    document.getElementById('email').textContent = me.email;
    return list();
  }).then(function () { say('ready'); }).catch(function (e) { say('error: ' + e); });

  function chat(prompt) {
    var sentinel = {};
    say('sending');
    return fetch('/backend-api/sentinel/chat-requirements', {
      method: 'POST', headers: { Authorization: H.Authorization, 'Content-Type': 'application/json' },
      body: JSON.stringify({ p: 'gAAAAACbWVjaw==' })
    }).then(function (r) { return r.ok ? r.json() : {}; }).then(function (req) {
      if (req.token) sentinel['openai-sentinel-chat-requirements-token'] = req.token;
      var h = { Authorization: H.Authorization, 'Content-Type': 'application/json',
        Accept: 'text/event-stream' }, k;
      for (k in sentinel) h[k] = sentinel[k];
      return fetch('/backend-api/conversation', { method: 'POST', headers: h, body: JSON.stringify({
        action: 'next', model: 'auto', parent_message_id: 'client-created-root',
        messages: [{ id: 'aaaaaaaa-0000-4000-8000-' + String(Date.now()).slice(-12).padStart(12, '0'),
          author: { role: 'user' }, content: { content_type: 'text', parts: [prompt] } }],
        supported_encodings: ['v1'], history_and_training_disabled: false, timezone_offset_min: 0 }) });
    }).then(function (r) {
      if (!r.ok) return r.text().then(function (t) { say('error ' + r.status + ' ' + t); });
      var rd = r.body.getReader(), dec = new TextDecoder(), buf = '', text = '', lastP = '', lastO = '',
        events = 0, cid = '';
      function apply(p, o, v) {
        if (o === 'append' && p === '/message/content/parts/0') text += v;
        if (o === 'patch') v.forEach(function (s) { apply(s.p, s.o, s.v); });
      }
      function ev(block) {
        var data = block.split('\n').filter(function (l) { return l.indexOf('data: ') === 0; })
          .map(function (l) { return l.slice(6); }).join('\n'), j;
        if (!data || data === '[DONE]' || data === '"v1"') return;
        try { j = JSON.parse(data); } catch (e) { return; }
        events++;
        if (j.conversation_id) cid = j.conversation_id;
        if (j.v && j.v.conversation_id) cid = j.v.conversation_id;
        if (j.v && j.v.message && j.v.message.author.role === 'assistant') text = j.v.message.content.parts[0] || '';
        var p = j.p !== undefined ? j.p : lastP, o = j.o !== undefined ? j.o : lastO;
        if (j.v !== undefined && !(j.v && j.v.message)) apply(p, o, j.v);
        lastP = p; lastO = o;
        document.getElementById('reply').textContent = text;
      }
      function pump() {
        return rd.read().then(function (x) {
          var i;
          if (x.done) return;
          buf += dec.decode(x.value, { stream: true });
          while ((i = buf.indexOf('\n\n')) >= 0) { ev(buf.slice(0, i)); buf = buf.slice(i + 2); }
          return pump();
        });
      }
      return pump().then(function () {
        document.getElementById('conv-id').textContent = cid;
        document.getElementById('events').textContent = String(events);
        return list();
      }).then(function () { say('done'); });
    });
  }
  document.getElementById('ask').addEventListener('submit', function (e) {
    e.preventDefault();
    chat(document.getElementById('prompt').value).catch(function (err) { say('error: ' + err); });
  });
})();
"""


def _turbo(at, email, locale="en-US"):
    """A turbo-stream flat array: root -> {clientBootstrap -> {session ->
    {accessToken, user -> {email}}, locale}} with members named by index."""
    arr = [{"_1": 2}, "loaderData", {"_3": 4}, "root", {"_5": 6}, "clientBootstrap",
           {"_7": 8, "_9": 10, "_11": 12}, "session", {"_13": 14, "_15": 16},
           "locale", locale, "buildId", "prod-test", "accessToken", at, "user",
           {"_17": 18, "_19": 20}, "email", email, "name", "Mock User"]
    return json.dumps(arr, separators=(",", ":")) + "\n"


def _js_str(s):
    return json.dumps(s).replace("<", "\\u003c")


PNG = chatgpt_mock.make_png(4, 4)


@functools.lru_cache(maxsize=4)
def big_bytes(n):
    """Deterministic bytes (so a test can check a digest without holding them)."""
    block = hashlib.sha256(b"chat2api big asset").digest() * 2048   # 64 KiB
    out = bytearray()
    while len(out) < n:
        out += block
    return bytes(out[:n])


class SiteHandler(Handler):
    def _dispatch(self, method):
        self.server.mock.record_site(method, self.path, self.headers.get("Authorization"),
                                     self.headers.get("Cookie"))
        super()._dispatch(method)

    def _known(self):
        authz = self.headers.get("Authorization") or ""
        m = re.fullmatch(r"Bearer (\S+)", authz.strip())
        return m.group(1) if m and m.group(1) in self.st.access_tokens else None

    # ---------------------------------------------------------------- the page
    def h_site_home(self):
        if self.st.take_cf("home", None):
            return self._cf_page()
        st = self.st.take_fault("home_status", None)
        if st:
            return self._fault(st, "home")
        base = self._host_url()
        at = self._known()
        if self.st.config.get("site_page") == "nologin":
            at = None
        head = ('<!DOCTYPE html><html data-build="prod-test" lang="en-US" class="light"><head>'
                '<meta charset="utf-8"><title>ChatGPT</title>'
                '<link rel="preconnect" href="https://cdn.oaistatic.com">'
                '<link rel="icon" href="%s/assets/logo.png">'
                '<script src="%s/_next/static/c/TESTBUILD/_/x.js" async></script>'
                '<script type="module" src="https://cdn.oaistatic.com/assets/app-mock.js" '
                'integrity="sha384-bW9jawAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" '
                'crossorigin="anonymous"></script></head><body>' % (base, base))
        body = ('<div id="root"><p id="status">loading</p>'
                '<p>token <span id="ctx-token"></span></p><p>ctx email <span id="ctx-email"></span></p>'
                '<p>me <span id="email"></span></p><p>conversations <span id="conv-count"></span></p>'
                '<ul id="conv-list"></ul><form id="ask"><input id="prompt" name="prompt">'
                '<button id="go" type="submit">Send</button></form>'
                '<pre id="reply"></pre><p>id <span id="conv-id"></span> events <span id="events"></span></p>'
                '<a id="help" href="https://chatgpt.com/help">help</a></div>')
        ctx = ('<script>window.__reactRouterContext={"basename":"/","chunks":[],'
               '"streamController":{"enqueue":function(c){window.__reactRouterContext.chunks.push(c)},'
               '"close":function(){}}};</script>')
        if at is not None:
            ctx += ('<script>window.__reactRouterContext.streamController.enqueue(%s);</script>'
                    % _js_str(_turbo(at, ACCOUNT_EMAIL)))
        else:
            ctx += ('<script>window.__reactRouterContext.streamController.enqueue(%s);</script>'
                    % _js_str(json.dumps([{"_1": 2}, "loaderData", {}]) + "\n"))
        ctx += '<script>window.__reactRouterContext.streamController.close();</script>'
        self._send(200, head + body + ctx + "</body></html>", "text/html; charset=utf-8",
                   [("Set-Cookie", "__cf_bm=mock; path=/; HttpOnly")])

    def h_site_app(self):
        self._send(200, APP_JS + "// base %s\n" % self._host_url(), "application/javascript; charset=utf-8",
                   [("Cache-Control", "public, max-age=31536000, immutable")])

    def h_site_big(self):
        n = int((parse_qs(urlsplit(self.path).query).get("size") or ["5242880"])[0])
        n = max(0, min(n, 64 << 20))
        self._mark_status(200)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(n))
        self.send_header("Cache-Control", "public, max-age=60")
        self.send_header("X-Mock-Secret-Header", "must-not-pass")
        self.end_headers()
        data = big_bytes(n)
        for i in range(0, n, 65536):
            self.wfile.write(data[i:i + 65536])

    def h_site_png(self):
        self._send(200, PNG, "image/png", [("ETag", '"mock-png"'), ("Set-Cookie", "img=1")],
                   compress=False)

    def h_site_me(self):
        at = self._auth("api")
        if at is None:
            return
        self._json(200, {"object": "user", "id": "user-mock", "email": ACCOUNT_EMAIL,
                         "name": "Mock User", "orgs": {"object": "list", "data": []}})

    def h_site_echo_auth(self):
        self._json(200, {"authorization": self.headers.get("Authorization"),
                         "cookie": self.headers.get("Cookie")})

    def h_site_redirect(self):
        self._mark_status(302)
        self.send_response(302)
        self.send_header("Location", self._host_url() + "/assets/app-mock.js")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def h_site_slow_sse(self):
        q = parse_qs(urlsplit(self.path).query)
        n = int((q.get("n") or ["5"])[0])
        ms = int((q.get("ms") or ["200"])[0])
        self._mark_status(200)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for i in range(n):
            if i:
                self._wait(ms / 1000.0)
            ev = ("data: {\"i\":%d,\"t\":%.3f}\n\n" % (i, time.time())).encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(ev), ev))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def h_site_initialize(self):
        self._json(200, {"user": {"userID": "u-1", "ip": "203.0.113.9", "country": "DE",
                                  "custom": {"ip": "198.51.100.7"}},
                         "feature_gates": {}, "has_updates": True})

    def h_site_seen(self):
        self._cfg_gzip = False
        with self.server.mock.site_lock:
            seen = list(self.server.mock.site_seen)
        self._json(200, {"seen": seen})


SITE_ROUTES = [(m, re.compile(rx), name) for m, rx, name in [
    ("GET", r"/", "site_home"),
    ("GET", r"/assets/app-mock\.js", "site_app"),
    ("GET", r"/assets/big\.bin", "site_big"),
    ("GET", r"/assets/logo\.png", "site_png"),
    ("GET", r"/backend-api/me", "site_me"),
    ("GET", r"/backend-api/echo_auth", "site_echo_auth"),
    ("GET", r"/backend-api/redirect", "site_redirect"),
    ("GET", r"/backend-api/slow_sse", "site_slow_sse"),
    ("POST", r"/v1/initialize", "site_initialize"),
    ("GET", r"/_mock/site", "site_seen"),
]] + [r for r in ROUTES if r[2] != "home"]
SiteHandler.routes = SITE_ROUTES


class ChatGPTSiteMock(ChatGPTMock):
    handler = SiteHandler

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.site_lock = threading.Lock()
        self.site_seen = []

    def record_site(self, method, path, authz, cookie):
        with self.site_lock:
            self.site_seen.append({"method": method, "path": path, "authorization": authz,
                                   "cookie": cookie})
            del self.site_seen[:-SEEN_MAX]

    def seen(self):
        with self.site_lock:
            return list(self.site_seen)


def main(argv=None):
    ap = mockbase.cli_parser("Loopback mock of the ChatGPT site (gateway tests)")
    ap.add_argument("--access-token", action="append", default=[])
    a = ap.parse_args(argv)
    mock = ChatGPTSiteMock(a.host, a.port, a.access_token, config=a.config,
                           verbose=a.verbose)
    return mockbase.serve_cli(mock, a.port_file, "chatgpt site mock on %s\n  access token %s"
                              % (mock.url, chatgpt_mock.DEFAULT_ACCESS_TOKEN))

if __name__ == "__main__":
    sys.exit(main())
