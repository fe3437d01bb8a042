#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""Loopback mock of the Z.ai web backend (chat.z.ai) for chat2api tests.

Python 3 standard library only.  It speaks shared/protocols/providers.md section 8
(credential 8.1, flow 8.2, query 8.3, X-Signature 8.4, stream 8.5, models 8.6) and
*checks* what the real server checks, so that a client bug makes a test fail.  Point
ZAI_BASE_URL at the mock's URL.  The protocol itself (tokens, signature, query coding, the
stream, the request checks) is tests/mock/zai_proto.py, the HTTP plumbing tests/mock/mockbase.py.

RUN
    python3 tests/mock/zai_mock.py --port 0 --port-file /tmp/p [--config '{...}'] [--verbose]
  The port file is written (atomically) once the server accepts connections.

IN PROCESS
    from zai_mock import ZaiMock, DEFAULT_TOKEN, make_token
    m = ZaiMock().start()       # m.url, m.configure({...}), m.snapshot(), m.reset(...)
    m.stop()

LOGINS
  Tokens are JWTs (HS256) minted by the mock with its own key (make_token); the payload names
  the user ("id", or "user_id" / "uid" / "sub" with id_claim) and an e-mail.  DEFAULT_TOKEN and
  OTHER_TOKEN are users, GUEST_TOKEN a guest (e-mail @guest.com), EXPIRED_TOKEN one whose exp has
  passed.  Config tokens (replace) / add_tokens / revoked_tokens.  Every /api call must carry the
  same known, unexpired, unrevoked token as "Authorization: Bearer <jwt>" and as the "token"
  cookie, and the browser headers: Origin https://chat.z.ai, a Referer under it, a browser
  User-Agent, X-FE-Version (prod-fe-N.N.N, or exactly fe_version), Content-Type
  application/json on POST.  A bad login answers 401 {"detail": ...}; bad headers
  reject_status (400) {"detail": ...}.

ENDPOINTS
    GET    /api/v1/users/user/settings    the login's settings (what validation asks)
    POST   /api/v1/chats/new              body of 8.2 step 1, checked key by key -> {"id", ...}
    POST   /api/v2/chat/completions?Q     8.2 step 2 -> text/event-stream
    DELETE /api/v1/chats/<id>             the caller's own chat -> true (404 otherwise)
    DELETE /api/v1/chats/                 body true: all of the caller's chats -> true
  The completion is checked in this order, each with the answer the real service gives:
    * the query: exactly the 37 parameters of 8.3 in that order, form-encoded exactly as
      URLSearchParams does (a re-encoding must give the same bytes), the constants as listed,
      timestamp == signature_timestamp within max_skew_ms of now, requestId a uuid equal to
      the body's id, user_id the JWT's, token the Bearer, user_agent the User-Agent header,
      current_url / pathname naming the body's chat_id, local_time / utc_time the timestamp
      written as toISOString() / toUTCString() -> otherwise 405 with an Aliyun WAF page;
    * X-Signature: missing -> 426; recomputed (8.4) with sign_key from requestId, timestamp,
      user_id and the body's signature_prompt -> otherwise 403
      {"detail": "403: Signature validation failed: ..."};
    * the body: every key of 8.2 with its type, the features and variables objects whole,
      no system role, the chat live and the caller's, its model, current_user_message_id its
      message, signature_prompt the last user message's text (after a "<system>\\n\\nUser: "
      prefix on the first) -> otherwise 400 {"detail": ...};
    * a guest asking for a GLM-5 model -> 403 {"detail": "Model not available for current
      user level"} (guest_refusal "http") or that error inside the stream ("stream").

STREAM (8.5)
  data: {"type":"chat:completion","data":{...}} events: with auto_web_search a tool_call
  (delta_name, delta_arguments, metadata.tool_call_id) and a tool_response (tool_name, status,
  delta_content a client must not show); with enable_thinking the phase "thinking" (plain, or
  wrapped in <details type="reasoning" done="false"> ... </details> with think_style
  "details"); the phase "answer"; usage in an "other" event and/or the "done" event
  (usage_in); then {"phase":"done","done":true}.  Pieces are a few code points each (cycled
  sizes), so citation markers and tags fall across deltas.  Reply: "You said: <text>" with
  search ending in SEARCH_SUFFIX (two 【turnNsearchM】 markers and one 【plain】 bracket that
  must stay).  last_completion.expected_content / expected_reasoning: what a client shows.

CONTROL API
    GET  /_mock/state   requests, responses, settings, chats_created, chats_deleted, chats_live,
                        live_chats, completions, completions_completed, completions_rejected,
                        signatures_ok, signatures_failed, client_disconnects, server_aborts,
                        rejections[], last_rejection, last_completion{headers, raw_query, query,
                        body, signature, canonical, user, markers, reply_text, expected_content,
                        expected_reasoning, usage, events, completed, chat_id}, last_requests,
                        recent[]
    GET  /_mock/config  the configuration
    POST /_mock/config  merge keys of DEFAULT_CONFIG plus tokens, add_tokens, revoked_tokens,
                        reset (true: the start-up config first).  Unknown keys: 400.
                        by_token {"<jwt>": {knob: value} | null} overrides knobs for one login.
                        Fault statuses (settings_status, chat_new_status, chat_delete_status,
                        completion_status: 401, 403, 429, 500, 502, 503, 200 = a JSON error with
                        HTTP 200) and close_after_events / stall_after_events take <key>_times =
                        N (fail N requests, then heal).
    POST /_mock/reset   counters; {"config":true} also the start-up config; {"all":true} also
                        the chats

MARKERS in the last user text (the signature prompt; stripped from the echo)
    [[split:none|bytes|random|N]]  HTTP chunking of the stream (bytes: every byte its own chunk,
                    inside UTF-8 and inside the "data:" framing)
    [[drip:MS]] between events   [[delay:MS]] before the head   [[close:N]] FIN after N events
    [[reset:N]] RST after N events   [[stall:N]] stop writing after N events
    [[fail:CODE]] as the fault statuses   [[cf:CODE]] a Cloudflare page (503 by default)
    [[unicode]] Chinese and emoji in the reply   [[long:N]] N more words   [[crlf]] CRLF lines
    [[ascii]] \\uXXXX escapes   [[think:details]] the older thinking wrapper
    [[usage:other|done|both|none]]   [[end:done|flag|none]] "done" phase, data.done on the last
                    answer event, or nothing (the stream just ends)
    [[error:data|top|string|rate]]  an in-stream error after half the answer (data.error,
                    a top-level error, a bare string, a 429 one)
    [[sign:stream]] a wrong signature answered inside a 200 stream instead of 403
    [[waf]]         the WAF's 405 page, quoting the request URL (and so the token in its query)

Every rejection carries a header x-mock-reason and is recorded in /_mock/state.
"""

import copy
import hmac
import json
import os
import random
import re
import sys
import threading
import time
import uuid
from urllib.parse import urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mockbase  # noqa: E402
from mockbase import Abort, ClientGone  # noqa: E402

# the protocol; every name of zai_proto is re-exported for the tests
from zai_proto import *  # noqa: E402,F401,F403
from zai_proto import (BODY_KEYS, CF_HTML, DEFAULT_TOKEN, EXPIRED_TOKEN,  # noqa: E402
                       FE_RE, FEATURES, GUEST_BARRED, GUEST_REFUSED, GUEST_TOKEN,
                       MARKER_RE, ORIGIN, OTHER_TOKEN, SIGN_KEY, SIGNATURE_FAILED, UUID_RE,
                       VARIABLES, WAF_HTML, ERRORS, build_stream, check_new_chat,
                       check_query, jwt_payload, signature, user_id_of)


DEFAULT_CONFIG = {
    # verification
    "check_headers": True,
    "check_query": True,
    "fe_version": None,                  # null: any prod-fe-N.N.N
    "sign_key": SIGN_KEY,                # the secret X-Signature must be made with
    "max_skew_ms": 300000,               # timestamp against the mock's clock
    "reject_status": 400,
    "guest_refusal": "http",             # http | stream
    # faults: status (0 = none) and <key>_times = N (null = every request)
    "settings_status": 0, "settings_status_times": None,
    "chat_new_status": 0, "chat_new_status_times": None,
    "chat_delete_status": 0, "chat_delete_status_times": None,
    "completion_status": 0, "completion_status_times": None,
    "retry_after": 30,
    "cf_html": False,                    # 502/503 faults as a Cloudflare page
    "json200_body": {"detail": "mock: the request was refused"},
    "delay_ms": 0, "api_delay_ms": 0,
    # stream shape
    "think_style": "plain",              # plain | details
    "usage_in": "other",                 # other | done | both | none
    "end_style": "done",                 # done | flag | none
    "unicode": False, "long_words": 0, "json_ascii": False, "crlf": False,
    "split": "none", "split_seed": 1, "random_split_max": 16, "drip_ms": 0,
    "close_after_events": None, "close_after_events_times": None,
    "close_mode": "fin",
    "stall_after_events": None, "stall_after_events_times": None, "stall_max_s": 300,
    "stream_error": None,                # null | data | top | string | rate
    "by_token": {},
}
FAULT_KEYS = ("settings_status", "chat_new_status", "chat_delete_status", "completion_status")
HEALING_KEYS = FAULT_KEYS + ("close_after_events", "stall_after_events")
SPECIAL_KEYS = {"tokens", "add_tokens", "revoked_tokens", "reset"}


class Refusal(Exception):
    """A request check failed: (status, body object or text, reason, content type, headers)."""

    def __init__(self, status, body, reason, ctype="application/json", headers=()):
        super().__init__(reason)
        self.status, self.body, self.reason, self.ctype = status, body, reason, ctype
        self.headers = list(headers)


# --------------------------------------------------------------------------- state

class State:
    def __init__(self, config=None):
        self.lock = threading.RLock()
        self.config = copy.deepcopy(DEFAULT_CONFIG)
        self.tokens = {}                 # jwt -> {"user": id, "revoked": bool}
        self.chats = {}                  # chat id -> {owner, live, model, msg_id, content}
        for t in (DEFAULT_TOKEN, OTHER_TOKEN, GUEST_TOKEN, EXPIRED_TOKEN):
            self._add_token(t)
        self.reset_counters()
        if config:
            self.configure(config)
        self.base_config = copy.deepcopy(self.config)
        self.base_tokens = {t: dict(v) for t, v in self.tokens.items()}

    def _add_token(self, t):
        if not isinstance(t, str) or not t:
            raise ValueError("a token must be a non-empty string")
        payload, reason = jwt_payload(t)
        if payload is None:
            raise ValueError("token not minted by the mock: %s" % reason)
        self.tokens[t] = {"user": user_id_of(payload), "revoked": False}

    def reset_counters(self):
        with self.lock:
            self.c = {"requests": {}, "responses": {}, "settings": {}, "chats_created": {},
                      "chats_deleted": {}, "completions": {}, "completions_completed": 0,
                      "completions_rejected": 0, "signatures_ok": 0, "signatures_failed": 0,
                      "client_disconnects": 0, "server_aborts": 0, "stalls": 0}
            self.last = {"completion": None, "rejection": None, "disconnect": None}
            self.last_requests = {}
            self.rejections = []
            self.recent = []

    def bump(self, key, sub=None):
        with self.lock:
            if sub is None:
                self.c[key] = self.c.get(key, 0) + 1
            else:
                d = self.c.setdefault(key, {})
                d[sub] = d.get(sub, 0) + 1

    def reject(self, route, status, reason, who):
        with self.lock:
            r = {"t": round(time.time(), 3), "route": route, "status": status, "reason": reason,
                 "user": who}
            self.last["rejection"] = r
            self.rejections.append(r)
            del self.rejections[:-100]
            if route == "completion":
                self.c["completions_rejected"] += 1

    def configure(self, obj):
        if not isinstance(obj, dict):
            raise ValueError("config must be a JSON object")
        with self.lock:
            for k in obj:
                if k not in DEFAULT_CONFIG and k not in SPECIAL_KEYS:
                    raise ValueError("unknown config key %r" % k)
            if obj.get("reset") and hasattr(self, "base_config"):
                self.restore()
            for k, v in obj.items():
                if k == "reset":
                    continue
                if k in ("tokens", "add_tokens", "revoked_tokens"):
                    if not isinstance(v, list):
                        raise ValueError("%s must be a list" % k)
                    if k == "tokens":
                        for t in self.tokens:
                            self.tokens[t]["revoked"] = t not in v
                    for t in v:
                        if t not in self.tokens:
                            self._add_token(t)
                        self.tokens[t]["revoked"] = k == "revoked_tokens"
                elif k == "by_token":
                    mockbase.merge_by_token(self.config["by_token"], v, DEFAULT_CONFIG)
                else:
                    self.config[k] = copy.deepcopy(v)
            return self.public_config()

    def restore(self):
        with self.lock:
            self.config = copy.deepcopy(self.base_config)
            self.tokens = {t: dict(v) for t, v in self.base_tokens.items()}

    def public_config(self):
        with self.lock:
            c = copy.deepcopy(self.config)
            c["tokens"] = sorted(t for t, v in self.tokens.items() if not v["revoked"])
            c["revoked_tokens"] = sorted(t for t, v in self.tokens.items() if v["revoked"])
            return c

    def effective(self, token):
        with self.lock:
            cfg = copy.deepcopy(self.config)
            cfg.update(copy.deepcopy(self.config["by_token"].get(token) or {}))
            return cfg

    def take(self, key, token):
        """A healing knob's value for this login (0/None: off); uses up one of <key>_times."""
        with self.lock:
            return mockbase.take_healing((self.config["by_token"].get(token), self.config), key,
                                         DEFAULT_CONFIG[key])

    def snapshot(self):
        with self.lock:
            s = copy.deepcopy(self.c)
            live = {}
            for cid, ch in self.chats.items():
                if ch["live"]:
                    live.setdefault(ch["owner"], []).append(cid)
            s["live_chats"] = live
            s["chats_live"] = {u: len(v) for u, v in live.items()}
            for k, v in self.last.items():
                s["last_" + k] = copy.deepcopy(v)
            s["last_requests"] = copy.deepcopy(self.last_requests)
            s["rejections"] = copy.deepcopy(self.rejections)
            s["recent"] = copy.deepcopy(self.recent)
            return s


# --------------------------------------------------------------------------- HTTP

class Handler(mockbase.Handler):
    label = "zai-mock"

    def version_string(self):
        return "openresty"

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    @property
    def st(self):
        return self.server.mock.state

    # ---------------------------------------------------------------- plumbing
    def note_status(self, status):
        if self.noted:
            return
        self.noted = True
        if self.route.startswith("mock_"):
            return
        with self.st.lock:
            self.st.bump("responses", "%s %d" % (self.route, status))
            self.st.recent.append({"t": round(time.time(), 3), "method": self.command,
                                   "path": self.path_only, "route": self.route,
                                   "status": status, "user": self.user})
            del self.st.recent[:-100]

    def send(self, status, data, ctype="application/json", headers=()):
        self.note_status(status)
        if not isinstance(data, (bytes, str)):
            data = json.dumps(data, ensure_ascii=False)
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def refuse(self, r):
        reason = r.reason.encode("ascii", "replace").decode("ascii")[:300]
        self.st.reject(self.route, r.status, r.reason, self.user)
        self.send(r.status, r.body, r.ctype, [("x-mock-reason", reason)] + r.headers)

    def dispatch(self):
        self.noted, self.route, self.user, self.token = False, "unknown", None, None
        self.cfg = self.st.effective(None)
        u = urlsplit(self.path)
        self.path_only, self.raw_query = u.path, u.query
        try:
            self.body = self._read_body()
        except (ValueError, OverflowError) as e:
            self.close_connection = True
            self.send(413 if isinstance(e, OverflowError) else 400, {"detail": "bad body"})
            return
        func, self.route = self.find_route()
        if not self.route.startswith("mock_"):
            with self.st.lock:
                self.st.bump("requests", self.route)
                self.st.last_requests[self.route] = {
                    "method": self.command, "path": self.path_only,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": self.body.decode("utf-8", "replace")[:20000]}
        try:
            if func is None:
                self.send(405 if self.route == "method_not_allowed" else 404,
                          {"detail": "Not Found"})
            else:
                func()
        except Refusal as r:
            self.refuse(r)
        except (ClientGone, Abort, BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True
        except Exception as e:          # a bug in the mock: loud, but keep serving
            import traceback
            traceback.print_exc()
            self.close_connection = True
            if not self.noted:
                try:
                    self.send(500, {"detail": "mock internal error: %r" % (e,)})
                except OSError:
                    pass
        finally:
            self.note_status(0)

    def find_route(self):
        p, m = self.path_only, self.command
        table = [("GET", "/api/v1/users/user/settings", "settings"),
                 ("POST", "/api/v1/chats/new", "chat_new"),
                 ("POST", "/api/v2/chat/completions", "completion"),
                 ("DELETE", "/api/v1/chats/", "chat_delete_all"),
                 ("GET", "/_mock/state", "mock_state"), ("GET", "/_mock/config", "mock_config_get"),
                 ("POST", "/_mock/config", "mock_config"), ("POST", "/_mock/reset", "mock_reset")]
        seen = False
        for method, path, name in table:
            if p == path:
                seen = True
                if method == m:
                    return getattr(self, "h_" + name), name
        if p.startswith("/api/v1/chats/") and p.count("/") == 4 and p != "/api/v1/chats/new":
            if m == "DELETE":
                return self.h_chat_delete, "chat_delete"
            seen = True
        return None, "method_not_allowed" if seen else "not_found"

    # ---------------------------------------------------------------- checks
    def check_headers(self):
        h = self.headers
        if h.get("Origin") != ORIGIN:
            return "Origin is %r, not %s" % (h.get("Origin"), ORIGIN)
        if not (h.get("Referer") or "").startswith(ORIGIN + "/"):
            return "Referer %r is not under %s/" % (h.get("Referer"), ORIGIN)
        if not (h.get("User-Agent") or "").startswith("Mozilla/5.0 ("):
            return "User-Agent %r is not a browser's" % h.get("User-Agent")
        fe = h.get("X-FE-Version") or ""
        want = self.cfg.get("fe_version")
        if (want and fe != want) or (not want and not FE_RE.match(fe)):
            return "X-FE-Version %r is not %s" % (fe, want or "prod-fe-N.N.N")
        if self.command == "POST":
            ct = (h.get("Content-Type") or "").split(";")[0].strip().lower()
            if ct != "application/json":
                return "Content-Type is %r, not application/json" % h.get("Content-Type")
        return None

    def login(self, fault_key):
        """The caller's token after the login and header checks (raises Refusal)."""
        m = re.fullmatch(r"Bearer (\S+)", (self.headers.get("Authorization") or "").strip())
        tok = m.group(1) if m else None
        cookies = {}
        for part in (self.headers.get("Cookie") or "").split(";"):
            k, _, v = part.strip().partition("=")
            if k:
                cookies[k] = v
        if self.st.config.get("check_headers", True):
            reason = self.check_headers()
            if reason:
                raise Refusal(int(self.cfg.get("reject_status") or 400), {"detail": reason}, reason)
        if tok is None:
            raise Refusal(401, {"detail": "Not authenticated"}, "no Bearer token")
        if cookies.get("token") != tok:
            raise Refusal(401, {"detail": "Not authenticated"},
                          "the token cookie is not the Bearer token")
        with self.st.lock:
            rec = self.st.tokens.get(tok)
        payload, why = jwt_payload(tok)
        if rec is None or payload is None:
            raise Refusal(401, {"detail": "401: Invalid token"}, why or "unknown token")
        self.token, self.user, self.payload = tok, rec["user"], payload
        self.cfg = self.st.effective(tok)
        if rec["revoked"]:
            raise Refusal(401, {"detail": "401: Invalid token"}, "revoked token")
        if isinstance(payload.get("exp"), (int, float)) and payload["exp"] < time.time():
            raise Refusal(401, {"detail": "401: Token expired"}, "token past its exp")
        f = self.st.take(fault_key, tok)
        if f:
            self.fault(int(f))
        delay = self.cfg.get("api_delay_ms") if fault_key != "completion_status" else 0
        if delay:
            self._wait(float(delay) / 1000.0)
        return tok

    def fault(self, status):
        reason = "injected status %d on %s" % (status, self.route)
        if status == 200:
            raise Refusal(200, self.cfg.get("json200_body") or {"detail": "refused"}, reason)
        if status in (502, 503, 504) and self.cfg.get("cf_html"):
            self.cf_page(status, reason)
        if status == 429:
            raise Refusal(429, {"detail": "Too many requests"}, reason,
                          headers=[("Retry-After", str(self.cfg.get("retry_after", 30)))])
        texts = {401: "401: Invalid token", 403: "403: Forbidden", 500: "Internal Server Error",
                 502: "Bad Gateway", 503: "Service Unavailable"}
        raise Refusal(status, {"detail": texts.get(status, "Error %d" % status)}, reason)

    def cf_page(self, status, reason):
        title = {502: "Bad gateway", 503: "Service unavailable", 403: "Access denied"}.get(
            status, "Error")
        raise Refusal(status, CF_HTML % (status, title, status, title, random.getrandbits(64)),
                      reason, "text/html; charset=UTF-8")

    def json_body(self):
        try:
            body = json.loads(self.body.decode("utf-8"))
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise Refusal(400, {"detail": "body is not a JSON object"}, "body is not a JSON object")
        return body

    def bad(self, reason):
        return Refusal(int(self.cfg.get("reject_status") or 400), {"detail": reason}, reason)

    # ---------------------------------------------------------------- endpoints
    def h_settings(self):
        tok = self.login("settings_status")
        self.st.bump("settings", tok)
        self.send(200, {"id": self.user, "settings": {"ui": {"language": "zh-CN"},
                                                      "system": ""}})

    def h_chat_new(self):
        tok = self.login("chat_new_status")
        body = self.json_body()
        chat, reason = check_new_chat(body)
        if reason:
            raise self.bad("chats/new: " + reason)
        cid, mid = str(uuid.uuid4()), chat["history"]["currentId"]
        with self.st.lock:
            self.st.chats[cid] = {"owner": self.user, "token": tok, "live": True,
                                  "model": chat["models"][0], "msg_id": mid,
                                  "content": chat["history"]["messages"][mid]["content"],
                                  "completions": 0}
            self.st.bump("chats_created", self.user)
        now = int(time.time())
        self.send(200, {"id": cid, "user_id": self.user, "title": "New Chat", "chat": chat,
                        "updated_at": now, "created_at": now, "share_id": None,
                        "archived": False, "pinned": False, "meta": {}, "folder_id": None})

    def h_chat_delete(self):
        self.login("chat_delete_status")
        cid = self.path_only.rsplit("/", 1)[1]
        with self.st.lock:
            ch = self.st.chats.get(cid)
            ok = ch is not None and ch["live"] and ch["owner"] == self.user
            if ok:
                ch["live"] = False
                self.st.bump("chats_deleted", self.user)
        if not ok:
            raise Refusal(404, {"detail": "Chat not found"},
                          "delete of chat %s: unknown, gone or another user's" % cid)
        self.send(200, "true")

    def h_chat_delete_all(self):
        self.login("chat_delete_status")
        if self.body.strip() != b"true":
            raise Refusal(int(self.cfg.get("reject_status") or 400),
                          {"detail": "Invalid body"}, "delete-all body must be true")
        with self.st.lock:
            for ch in self.st.chats.values():
                if ch["owner"] == self.user and ch["live"]:
                    ch["live"] = False
                    self.st.bump("chats_deleted", self.user)
        self.send(200, "true")

    def h_completion(self):
        tok = self.login("completion_status")
        cfg = self.cfg
        body = self.json_body()
        if cfg.get("check_query", True):
            q, reason = check_query(self.raw_query, cfg, self.headers, tok, self.user, body)
            if reason:
                raise Refusal(405, WAF_HTML, "query: " + reason, "text/html")
        else:
            q = []
        qd = dict(q)
        sig = self.headers.get("X-Signature")
        if not sig:
            raise Refusal(426, {"detail": "Upgrade Required"}, "no X-Signature header")
        sp = body.get("signature_prompt")
        if not isinstance(sp, str):
            raise self.bad("signature_prompt missing or not a string")
        want, can, _ = signature(qd.get("requestId", body.get("id")),
                                 qd.get("timestamp", ""), self.user, sp, cfg["sign_key"])
        mk = {m.group(1): m.group(2) or "" for m in MARKER_RE.finditer(sp)}
        bad_sig = not hmac.compare_digest(want, sig.strip().lower()) or sig != sig.strip().lower()
        with self.st.lock:
            self.st.c["signatures_failed" if bad_sig else "signatures_ok"] += 1
        if bad_sig and mk.get("sign") != "stream":
            raise Refusal(403, {"detail": SIGNATURE_FAILED},
                          "X-Signature %s is not %s" % (sig[:80], want))
        chat, reason = self.check_completion(body, sp)
        if reason:
            raise self.bad("completion: " + reason)
        body["_bad_signature"] = bad_sig
        guest = chat["model"] in GUEST_BARRED and \
            str(self.payload.get("email", "")).endswith("@guest.com")
        if guest and cfg.get("guest_refusal") != "stream":
            raise Refusal(403, {"detail": GUEST_REFUSED}, "a guest asked for " + chat["model"])
        body["_guest_refused"] = guest
        text = MARKER_RE.sub("", sp).strip()
        if "waf" in mk:
            raise Refusal(405, WAF_HTML.replace("</body>", "<p>URL: %s</p></body>" % self.path),
                          "WAF page quoting the URL (marker)", "text/html")
        try:
            if "cf" in mk:
                self.cf_page(int(mk["cf"] or 503), "cloudflare page (marker)")
            if "fail" in mk:
                self.fault(int(mk["fail"]))
        except ValueError:
            raise self.bad("mock: bad marker value")
        if (mk.get("error") or cfg.get("stream_error") or "data") not in ERRORS:
            raise self.bad("mock: unknown stream error kind")
        f = self.st.take("completion_status", tok)
        if f:
            self.fault(int(f))
        delay = mk.get("delay") or cfg.get("delay_ms")
        if delay:
            self._wait(float(delay) / 1000.0)
        events, content, reasoning, usage = build_stream(body, text, cfg, mk)
        blob = b"".join(events)
        with self.st.lock:
            chat["completions"] += 1
            self.st.bump("completions", self.user)
            body.pop("_bad_signature", None)
            body.pop("_guest_refused", None)
            lc = self.st.last["completion"] = {
                "t": round(time.time(), 3), "user": self.user, "chat_id": body["chat_id"],
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "raw_query": self.raw_query, "query": q, "body": body, "signature": sig,
                "canonical": can, "markers": mk, "text": text,
                "expected_content": content, "expected_reasoning": reasoning, "usage": usage,
                "events": [e.decode("utf-8") for e in events], "bytes": len(blob),
                "completed": False}
        self.write_stream(events, cfg, mk, lc, tok)

    def check_completion(self, body, sp):
        """The 8.2 body against the chat it names; (chat, None) or (None, reason)."""
        missing = [k for k in BODY_KEYS if k not in body]
        if missing:
            return None, "keys missing: %s" % missing
        if body["stream"] is not True:
            return None, "stream is not true"
        for k in ("params", "extra"):
            if body[k] != {}:
                return None, "%s is not {}" % k
        f = body["features"]
        if not isinstance(f, dict) or set(f) != set(FEATURES) or \
                any(type(f[k]) is not t for k, t in FEATURES.items()):
            return None, "features %r are not 8.2's" % (f,)
        if f["image_generation"] or f["web_search"] or not f["preview_mode"] or f["flags"]:
            return None, "features hold values the web client never sends: %r" % (f,)
        v = body["variables"]
        if not isinstance(v, dict) or tuple(v) != VARIABLES or \
                not all(isinstance(x, str) for x in v.values()):
            return None, "variables %r are not 8.2's" % (v,)
        if not re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", v["{{CURRENT_DATETIME}}"]) or \
                v["{{CURRENT_DATETIME}}"] != v["{{CURRENT_DATE}}"] + " " + v["{{CURRENT_TIME}}"]:
            return None, "the datetime variables do not agree"
        if not UUID_RE.match(str(body["id"])):
            return None, "id %r is not a uuid" % (body["id"],)
        if body["current_user_message_parent_id"] is not None:
            return None, "current_user_message_parent_id is not null"
        if body["background_tasks"] != {"title_generation": True, "tags_generation": True}:
            return None, "background_tasks %r" % (body["background_tasks"],)
        msgs = body["messages"]
        if not isinstance(msgs, list) or not msgs:
            return None, "messages empty or not a list"
        for m in msgs:
            if not isinstance(m, dict) or set(m) != {"role", "content"} or \
                    m["role"] not in ("user", "assistant") or not isinstance(m["content"], str):
                return None, "message %r is not {role: user|assistant, content: string}" % (m,)
        users = [m["content"] for m in msgs if m["role"] == "user"]
        if not users:
            return None, "no user message"
        if users[-1] != sp and not users[-1].endswith("\n\nUser: " + sp):
            return None, "signature_prompt is not the last user message's text"
        with self.st.lock:
            ch = self.st.chats.get(body["chat_id"]) if isinstance(body["chat_id"], str) else None
            if ch is None or not ch["live"]:
                return None, "chat_id %r unknown or deleted" % (body["chat_id"],)
            if ch["owner"] != self.user:
                return None, "chat %s belongs to another user" % body["chat_id"]
        if body["model"] != ch["model"]:
            return None, "model %r is not the chat's %r" % (body["model"], ch["model"])
        if body["current_user_message_id"] != ch["msg_id"]:
            return None, "current_user_message_id is not the chat's message"
        if ch["content"] != sp:
            return None, "the chat's message is not the signature prompt"
        return ch, None

    # ---------------------------------------------------------------- writing the stream
    def write_stream(self, events, cfg, mk, lc, tok):
        st = self.st
        close_at, mode = st.take("close_after_events", tok), cfg.get("close_mode", "fin")
        if "close" in mk:
            close_at, mode = int(mk["close"] or 1), "fin"
        if "reset" in mk:
            close_at, mode = int(mk["reset"] or 1), "reset"
        stall_at = st.take("stall_after_events", tok)
        if "stall" in mk:
            stall_at = int(mk["stall"] or 1)

        def done():
            with st.lock:
                st.c["completions_completed"] += 1
                lc["completed"] = True
        self.note_status(200)
        how, info = self.write_events(
            events, mk.get("split") or cfg.get("split"), cfg.get("split_seed", 1),
            cfg.get("random_split_max", 16), float(mk.get("drip") or cfg.get("drip_ms") or 0)
            / 1000.0, close_at, mode, stall_at, float(cfg.get("stall_max_s", 300)),
            lambda: st.bump("stalls"), done)
        with st.lock:
            if how == "gone":
                st.c["client_disconnects"] += 1
                st.last["disconnect"] = dict(info, t=round(time.time(), 3))
            elif how == "aborted":
                st.c["server_aborts"] += 1

    # ---------------------------------------------------------------- control API
    def h_mock_state(self):
        snap = self.st.snapshot()
        snap["port"] = self.server.server_address[1]
        self.send(200, snap)

    def h_mock_config_get(self):
        self.send(200, self.st.public_config())

    def h_mock_config(self):
        try:
            self.send(200, self.st.configure(json.loads(self.body.decode("utf-8") or "{}")))
        except (ValueError, TypeError, AttributeError) as e:
            self.send(400, {"error": "bad config: %s" % e})

    def h_mock_reset(self):
        try:
            obj = json.loads(self.body.decode("utf-8") or "{}")
        except ValueError:
            obj = {}
        obj = obj if isinstance(obj, dict) else {}
        self.server.mock.reset(config=bool(obj.get("config") or obj.get("all")),
                               all=bool(obj.get("all")))
        self.send(200, {"status": "ok"})


# --------------------------------------------------------------------------- server object

class ZaiMock(mockbase.LoopbackMock):
    """ZaiMock(port=0).start() ... .stop()."""

    def __init__(self, host="127.0.0.1", port=0, config=None, verbose=False):
        self.state = State(config)
        super().__init__(Handler, host, port, verbose, "zai-mock")

    def reset(self, config=False, all=False):
        st = self.state
        with st.lock:
            st.reset_counters()
            if config:
                st.restore()
            if all:
                st.chats.clear()


def main(argv=None):
    a = mockbase.cli_parser("Loopback mock of the Z.ai web backend").parse_args(argv)
    mock = ZaiMock(a.host, a.port, a.config, a.verbose)
    return mockbase.serve_cli(mock, a.port_file, "zai mock listening on %s" % mock.url)


if __name__ == "__main__":
    sys.exit(main())
