#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""Loopback mock of the Qwen AI web backend (chat.qwen.ai) for chat2api tests.

Python 3 standard library only (the wire format, tokens and stream building are in
qwenai_wire.py, the HTTP machinery shared with deepseek_mock.py).  It speaks the protocol of shared/protocols/providers.md
section 7 (credential 7.1, headers 7.2, flow 7.3, stream 7.4, models 7.5) and *checks*
what the real server checks, so that a client bug makes a test fail.  Point
QWENAI_BASE_URL at the mock's URL.

RUN
    python3 tests/mock/qwenai_mock.py --port 0 --port-file /tmp/p [--config '{...}'] [--verbose]

IN PROCESS
    from qwenai_mock import QwenAIMock, DEFAULT_TOKEN, DEFAULT_COOKIES
    m = QwenAIMock().start()     # m.url, m.configure({...}), m.snapshot(), m.reset(...)
    m.stop()

CREDENTIALS
  A token is a JWT (HS256) whose payload is {"id": <user id>, "last_password_change": ...,
  "exp": ...}, signed with the mock's secret (config jwt_secret).  Every call must carry
  "Authorization: Bearer <jwt>"; the mock recomputes the signature, checks exp and that the
  user is known and not expired.  A bad signature, an expired or unknown token answers HTTP
  401 {"success":false,"data":{"code":"Unauthorized","details":...}}.  Setting jwt_secret to
  another value makes every issued token's signature wrong: the test of the check.
  make_token(user, exp=None, secret=None) mints tokens (DEFAULT_TOKEN, OTHER_TOKEN, THIRD_TOKEN
  are users 1-3; EXPIRED_TOKEN is user 1 with an exp in the past).
  Completions (require_cookies) also want the Cookie header with every cookie of
  COOKIE_NAMES, its "token" cookie equal to the bearer: otherwise HTTP cookie_error_status
  (200) {"success":false,"data":{"code":"Bad_Request","details":...}} (issue #97).

ENDPOINTS (answers {"success":true,"request_id":...,"data":...})
    GET    /api/v2/user                  -> {id, name, email, role}
    POST   /api/v2/chats/new             {"title","models":[id],"chat_mode":"normal","chat_type":"t2t",
                                          "timestamp":ms,"project_id":""} -> {"id": chat id}
    POST   /api/v2/chat/completions?chat_id=ID   the body of 7.3 -> text/event-stream (7.4)
    DELETE /api/v2/chats/ID              the caller's own chat -> {"status": true}
    DELETE /api/v2/chats/                all of the caller's chats
    GET    /api/models                   {"data":[{id, name, object, owned_by, created, info}]}
  Every call must carry the headers of 7.2: Origin https://chat.qwen.ai, a Referer under it
  (the completion's: https://chat.qwen.ai/c/<chat id>), a browser User-Agent, "source: web",
  Version (config expected_version; /api/models expected_models_version), bx-v, a JS Date
  Timezone close to now, a uuid X-Request-Id, Content-Type application/json on POST, and on
  the completion x-accel-buffering: no.  With require_bx, bx-ua and bx-umidtoken must equal
  expected_bx_ua / expected_bx_umidtoken.  Header and body failures answer HTTP
  reject_status (400) {"success":false,"data":{"code":"Bad_Request","details":<reason>}}.

STREAM
  data: {"response.created": {chat_id, parent_id, response_id}}, then with thinking_enabled
  phase "think" deltas, a think "finished", and phase "thinking_summary" deltas whose
  summary_thought.content grows line by line (think_style: both | think | summary), then
  phase "answer" deltas, the finished delta with finish_reason and usage, and data: [DONE]
  (end_style done | none).  Reply "You said: <last user turn, markers stripped>"; reasoning
  "Thinking about: <text>." then the summary lines joined with "\n".

CONTROL API
    GET  /_mock/state   requests{route:n}, responses{"route status":n}, chats_created /
           chats_deleted / completions {user:n}, live_chats {user:[ids]}, chats_live {user:n},
           completions_completed, client_disconnects, server_aborts, stalls, models_calls,
           rejections[{route,status,reason,user}], last_rejection, last_completion{headers,
           body, query, prompt, user_text, markers, reply_text, reasoning_text, chat_id, model,
           thinking, completed, user}, last_requests{route:{headers,body}}, recent[], users
    GET  /_mock/config  POST /_mock/config (merge; unknown keys refused)  POST /_mock/reset
           ({"config":true}: the start-up config too; {"all":true}: chats too)
    by_token {"<jwt>": {knob: value} | null} overrides knobs for one token.  Fault statuses
    (user_status, chat_new_status, completion_status, delete_status, models_status: 401,
    403, 429, 500, 502, 503, 200 = json200_body with HTTP 200, 400 = Bad_Request) and
    close_after_events / stall_after_events take <key>_times = N (then heal).

PER-REQUEST MARKERS (in the last user turn; stripped from the echo)
    [[split:none|bytes|random|N]] [[drip:MS]] [[delay:MS]] [[close:N]] [[reset:N]] [[stall:N]]
    [[fail:CODE]] [[cf:CODE]] [[unicode]] [[long:N]] [[crlf]] [[ascii]] [[nodone]]
    [[error:inline|event|limit|auth]]  an in-stream error: inline/event after half the answer,
                    limit (RateLimited) and auth (Unauthorized) before any text
    [[finish:length]] [[rewrite]] (the summary is rewritten, not extended)

Every rejection carries a header x-mock-reason and is recorded in /_mock/state.
"""

import calendar
import copy
import json
import os
import random
import re
import sys
import threading
import time
import uuid
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deepseek_mock as dsm  # noqa: E402  (the gzip answer and the stream writer)
import mockbase  # noqa: E402  (the loopback HTTP plumbing)
from qwenai_wire import (  # noqa: E402,F401  (re-exported for the tests)
    COOKIE_NAMES, DEFAULT_COOKIES, DEFAULT_TOKEN, EXPIRED_TOKEN, EXTRA_MODELS, JS_DATE_RE, JWT_SECRET,
    MARKER_RE, MODELS, ORIGIN, OTHER_TOKEN, SUMMARY_LINES, THIRD_TOKEN, UNICODE_TAIL, USERS, UUID_RE,
    Events, body_reason, build_stream, err_body, jwt_user, last_user_text, make_cookies, make_token,
    ok_body)


DEFAULT_CONFIG = {
    # verification
    "jwt_secret": JWT_SECRET,
    "check_headers": True,
    "reject_status": 400,
    "require_cookies": True,
    "cookie_error_status": 200,
    "require_bx": False,
    "expected_bx_ua": "", "expected_bx_umidtoken": "",
    "expected_version": "0.2.7", "expected_models_version": "0.2.35", "expected_bx_v": "2.5.36",
    "expired_users": [],
    # faults: status (0 = none) and <key>_times = N (null = every request)
    "user_status": 0, "user_status_times": None,
    "chat_new_status": 0, "chat_new_status_times": None,
    "completion_status": 0, "completion_status_times": None,
    "delete_status": 0, "delete_status_times": None,
    "models_status": 0, "models_status_times": None,
    "cf_html": False,
    "retry_after": 30,
    "json200_body": {"success": False, "data": {"code": "Internal_Error", "details": "mock: refused"}},
    "delay_ms": 0, "api_delay_ms": 0,
    # the model list
    "models": list(MODELS),
    # stream shape
    "think_style": "both",              # both | think | summary
    "end_style": "done",                # done | none
    "unicode": False, "long_words": 0, "json_ascii": False, "crlf": False,
    "split": "none", "split_seed": 1, "random_split_max": 16, "drip_ms": 0,
    "close_after_events": None, "close_after_events_times": None, "close_mode": "fin",
    "stall_after_events": None, "stall_after_events_times": None, "stall_max_s": 300,
    "stream_error": None,               # null | inline | event | limit | auth
    "by_token": {},
}
FAULT_KEYS = ("user_status", "chat_new_status", "completion_status", "delete_status", "models_status")
HEALING_KEYS = FAULT_KEYS + ("close_after_events", "stall_after_events")


# --------------------------------------------------------------------------- state

class MockState:
    def __init__(self, config=None):
        self.lock = threading.RLock()
        self.config = copy.deepcopy(DEFAULT_CONFIG)
        self.chats = {}                 # chat id -> {owner, model, live}
        self.reset_counters()
        if config:
            self.configure(config)
        self.base_config = copy.deepcopy(self.config)

    def reset_counters(self):
        with self.lock:
            self.c = {"requests": {}, "responses": {}, "chats_created": {}, "chats_deleted": {},
                      "completions": {}, "completions_completed": 0, "client_disconnects": 0,
                      "server_aborts": 0, "stalls": 0, "models_calls": 0}
            self.last = {"completion": None, "rejection": None, "disconnect": None}
            self.last_requests, self.rejections, self.recent = {}, [], []

    # shared with the DeepSeek mock: they read only self
    bump = dsm.MockState.bump
    effective = dsm.MockState.effective

    def record_rejection(self, route, status, reason, user):
        with self.lock:
            r = {"t": round(time.time(), 3), "route": route, "status": status, "reason": reason,
                 "user": user}
            self.last["rejection"] = r
            self.rejections.append(r)
            del self.rejections[:-100]

    def configure(self, obj):
        if not isinstance(obj, dict):
            raise ValueError("config must be a JSON object")
        with self.lock:
            for k in obj:
                if k not in DEFAULT_CONFIG and k != "reset":
                    raise ValueError("unknown config key %r" % k)
            if obj.get("reset") and hasattr(self, "base_config"):
                self.config = copy.deepcopy(self.base_config)
            for k, v in obj.items():
                if k == "reset":
                    continue
                if k != "by_token":
                    self.config[k] = copy.deepcopy(v)
                    continue
                if not isinstance(v, dict):
                    raise ValueError("by_token must be an object")
                for tok, over in v.items():
                    if over is None:
                        self.config["by_token"].pop(tok, None)
                        continue
                    if not isinstance(over, dict) or any(kk not in DEFAULT_CONFIG or kk == "by_token"
                                                         for kk in over):
                        raise ValueError("by_token values must be objects of known knobs")
                    self.config["by_token"].setdefault(tok, {}).update(copy.deepcopy(over))
            return copy.deepcopy(self.config)

    def take(self, key, token):
        """A healing knob's value for this token (0/None = off), consuming one of <key>_times."""
        assert key in HEALING_KEYS, key
        with self.lock:
            return mockbase.take_healing((self.config["by_token"].get(token), self.config), key,
                                         DEFAULT_CONFIG[key])

    def live_chats(self):
        with self.lock:
            out = {}
            for cid, ch in self.chats.items():
                if ch["live"]:
                    out.setdefault(ch["owner"], []).append(cid)
            return out

    def snapshot(self):
        with self.lock:
            s = copy.deepcopy(self.c)
            live = self.live_chats()
            s["live_chats"] = live
            s["chats_live"] = {u: len(v) for u, v in live.items()}
            for k in ("completion", "rejection", "disconnect"):
                s["last_" + k] = copy.deepcopy(self.last[k])
            s["last_requests"] = copy.deepcopy(self.last_requests)
            s["rejections"] = copy.deepcopy(self.rejections)
            s["recent"] = copy.deepcopy(self.recent)
            s["users"] = dict(USERS)
            return s



# --------------------------------------------------------------------------- HTTP handler

class Handler(mockbase.Handler):
    server_version = "qwenai-mock"
    sys_version = ""
    label = "qwenai-mock"

    # the gzip-aware answer and the knob-driven stream writer, shared with the DeepSeek mock
    _accepts_gzip = dsm.Handler._accepts_gzip
    _send = dsm.Handler._send
    _write_stream = dsm.Handler._write_stream

    @property
    def st(self):
        return self.server.mock.state

    def version_string(self):
        return "qwenai-mock"

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_DELETE(self):
        self._dispatch("DELETE")

    # ---------------------------------------------------------------- answers
    def _mark_status(self, status):
        if self._recorded:
            return
        self._recorded = True
        if not self._route.startswith("mock_"):
            with self.st.lock:
                self.st.bump("responses", "%s %d" % (self._route, status))
                self.st.recent.append({"t": round(time.time(), 3), "method": self.command,
                                       "path": self._path, "route": self._route, "status": status,
                                       "user": self._user})
                del self.st.recent[:-100]

    def _json(self, status, obj, headers=()):
        self._send(status, json.dumps(obj, ensure_ascii=False), "application/json", headers)

    def _reject(self, status, obj, reason, ctype="application/json", headers=()):
        hdrs = [("x-mock-reason", reason.encode("ascii", "replace").decode("ascii")[:300])] + list(headers)
        self.st.record_rejection(self._route, status, reason, self._user)
        data = json.dumps(obj, ensure_ascii=False) if isinstance(obj, (dict, list)) else obj
        self._send(status, data, ctype, hdrs)
        return None

    def _bad(self, reason, status=None):
        return self._reject(int(status or self._cfg.get("reject_status") or 400),
                            err_body("Bad_Request", reason), reason)

    def _unauthorized(self, reason):
        return self._reject(401, err_body("Unauthorized", "You are not authenticated: " + reason), reason)

    def _fault(self, status):
        status = int(status)
        reason = "injected status %d on %s" % (status, self._route)
        if status == 200:
            return self._reject(200, self._cfg.get("json200_body"), reason)
        if status == 400:
            return self._bad(reason)
        if status == 401:
            return self._unauthorized(reason)
        if status == 429:
            return self._reject(429, err_body("RateLimited", "Too many requests"), reason,
                                headers=[("Retry-After", str(self._cfg.get("retry_after", 30)))])
        if status in (502, 503, 504) and self._cfg.get("cf_html"):
            return self._cf_page(status, reason)
        codes = {403: "Forbidden", 404: "Not_Found", 500: "Internal_Error", 502: "Bad_Gateway",
                 503: "Service_Unavailable"}
        if status >= 500:                   # a gateway's page, no Qwen envelope
            return self._reject(status, "<html><body>%d mock upstream error</body></html>" % status,
                                reason, "text/html")
        return self._reject(status, err_body(codes.get(status, "Error"), reason), reason)

    def _cf_page(self, status, reason):
        html = dsm.CF_5XX_HTML % (status, "Error", status, "Error", random.getrandbits(64))
        return self._reject(status, html, reason, "text/html; charset=UTF-8")

    # ---------------------------------------------------------------- dispatch
    def _dispatch(self, method):
        self._recorded, self._route, self._user, self._gzip = False, "unknown", None, False
        self._cfg = self.st.effective(None)
        url = urlsplit(self.path)
        self._path, self._query = url.path, parse_qs(url.query, keep_blank_values=True)
        try:
            self.body = self._read_body()
        except Exception:
            self.close_connection = True
            return self._json(400, err_body("Bad_Request", "bad request body"))
        func, self._route, self._arg = None, "not_found", None
        for m_, rx, name in ROUTES:
            mt = re.fullmatch(rx, self._path)
            if mt:
                if m_ != method:
                    self._route = "method_not_allowed"
                    continue
                func, self._route = getattr(self, "h_" + name), name
                self._arg = mt.group(1) if mt.groups() else None
                break
        if not self._route.startswith("mock_"):
            with self.st.lock:
                self.st.bump("requests", self._route)
                self.st.last_requests[self._route] = {
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": self.body.decode("utf-8", "replace")[:20000], "query": self._query}
        try:
            if func is None:
                self._json(405 if self._route == "method_not_allowed" else 404,
                           err_body("Not_Found", "no such route"))
            else:
                func()
        except (mockbase.ClientGone, mockbase.Abort, BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True
        except Exception as e:          # a bug in the mock: loud, but keep serving
            import traceback
            traceback.print_exc()
            self.close_connection = True
            if not self._recorded:
                try:
                    self._json(500, err_body("Internal_Error", "mock internal error: %r" % (e,)))
                except OSError:
                    pass
        finally:
            self._mark_status(0)

    # ---------------------------------------------------------------- checks
    def _headers_reason(self, cfg):
        h = self.headers
        if h.get("Origin") != ORIGIN:
            return "Origin is %r, not %s" % (h.get("Origin"), ORIGIN)
        ref = h.get("Referer") or ""
        if self._route == "completion":
            want = ORIGIN + "/c/" + (self._query.get("chat_id") or [""])[0]
            if ref != want:
                return "Referer %r is not the chat's page %s" % (ref, want)
            if (h.get("x-accel-buffering") or "").lower() != "no":
                return "no x-accel-buffering: no on the completion"
        elif not ref.startswith(ORIGIN + "/"):
            return "Referer %r is not under %s/" % (ref, ORIGIN)
        if not (h.get("User-Agent") or "").startswith("Mozilla/5.0 ("):
            return "User-Agent %r is not a browser's" % h.get("User-Agent")
        if h.get("source") != "web":
            return "source is %r, not web" % h.get("source")
        want = cfg["expected_models_version"] if self._route == "models" else cfg["expected_version"]
        if h.get("Version") != want:
            return "Version is %r, not %s" % (h.get("Version"), want)
        if h.get("bx-v") != cfg["expected_bx_v"]:
            return "bx-v is %r, not %s" % (h.get("bx-v"), cfg["expected_bx_v"])
        tz = h.get("Timezone") or ""
        if not JS_DATE_RE.match(tz):
            return "Timezone %r is not a JS Date string" % tz
        try:
            off = tz[-5:]
            sign = 1 if off[0] == "+" else -1
            utc = calendar.timegm(time.strptime(tz[:24], "%a %b %d %Y %H:%M:%S")) \
                - sign * (int(off[1:3]) * 3600 + int(off[3:]) * 60)
            if abs(utc - time.time()) > 600:
                return "Timezone %r is not now" % tz
        except (ValueError, OverflowError):
            return "Timezone %r does not parse" % tz
        if not UUID_RE.match(h.get("X-Request-Id") or ""):
            return "X-Request-Id %r is not a uuid" % h.get("X-Request-Id")
        if self.command == "POST":
            ct = (h.get("Content-Type") or "").split(";")[0].strip().lower()
            if ct != "application/json":
                return "Content-Type is %r, not application/json" % h.get("Content-Type")
        if cfg.get("require_bx"):
            for name, key in (("bx-ua", "expected_bx_ua"), ("bx-umidtoken", "expected_bx_umidtoken")):
                if h.get(name) != cfg.get(key):
                    return "%s is %r, not the browser's" % (name, h.get(name))
        return None

    def _cookie_reason(self, token):
        jar = {}
        for item in (self.headers.get("Cookie") or "").split(";"):
            if "=" in item:
                k, v = item.strip().split("=", 1)
                jar[k] = v
        if not jar:
            return "no cookies"
        missing = [n for n in COOKIE_NAMES if n not in jar]
        if missing:
            return "cookies missing: " + ", ".join(missing)
        if jar["token"] != token:
            return "the token cookie is not the bearer"
        return None

    def _gate(self, fault_key):
        """Credential, headers, fault knob.  Returns the caller's token or None after answering."""
        st = self.st
        m = re.fullmatch(r"Bearer (\S+)", (self.headers.get("Authorization") or "").strip())
        tok = m.group(1) if m else None
        self._cfg = st.effective(tok)
        if tok is None:
            return self._unauthorized("no 'Authorization: Bearer <jwt>' header")
        user, reason = jwt_user(tok, self._cfg)
        self._user = user
        if reason:
            return self._unauthorized(reason)
        if self._cfg.get("check_headers", True):
            reason = self._headers_reason(self._cfg)
            if reason:
                return self._bad(reason)
        self._gzip = True
        f = st.take(fault_key, tok)
        if f:
            return self._fault(f)
        if self._cfg.get("api_delay_ms") and fault_key != "completion_status":
            self._wait(float(self._cfg["api_delay_ms"]) / 1000.0)
        return tok

    def _json_body(self):
        try:
            body = json.loads(self.body.decode("utf-8"))
        except Exception:
            return self._bad("body is not JSON"), False
        if not isinstance(body, dict):
            return self._bad("body is not a JSON object"), False
        return body, True

    # ---------------------------------------------------------------- endpoints
    def h_user(self):
        if self._gate("user_status") is None:
            return
        u = self._user
        self._json(200, ok_body({"id": u, "name": "mock " + u, "email": USERS[u], "role": "user"}))

    def h_models(self):
        if self._gate("models_status") is None:
            return
        self.st.bump("models_calls")
        now = int(time.time())
        data = [{"id": m, "name": m.upper(), "object": "model", "owned_by": "qwen", "created": now - 86400,
                 "info": {"id": m, "name": m, "is_active": m != "qwen-retired",
                          "meta": {"capabilities": {"thinking": True, "vision": "vl" in m}}}}
                for m in self._cfg.get("models") or []]
        self._json(200, {"data": data})

    def h_chat_new(self):
        tok = self._gate("chat_new_status")
        if tok is None:
            return
        body, ok = self._json_body()
        if not ok:
            return
        want = {"title", "models", "chat_mode", "chat_type", "timestamp", "project_id"}
        if set(body) != want:
            return self._bad("chats/new keys are %s, want %s" % (sorted(body), sorted(want)))
        if not isinstance(body["title"], str) or not body["title"]:
            return self._bad("title is not a string")
        ms = body["models"]
        if not isinstance(ms, list) or len(ms) != 1 or not isinstance(ms[0], str):
            return self._bad("models is not a list of one id")
        if ms[0] not in (self._cfg.get("models") or []):
            return self._reject(200, err_body("Not_Found", "Model not found: %s" % ms[0]),
                                "unknown model %r" % ms[0])
        if body["chat_mode"] != "normal" or body["chat_type"] != "t2t" or body["project_id"] != "":
            return self._bad("chat_mode/chat_type/project_id are %r/%r/%r" % (
                body["chat_mode"], body["chat_type"], body["project_id"]))
        ts = body["timestamp"]
        if not isinstance(ts, int) or isinstance(ts, bool) or abs(ts / 1000.0 - time.time()) > 300:
            return self._bad("timestamp %r is not now in milliseconds" % (ts,))
        cid = str(uuid.uuid4())
        with self.st.lock:
            self.st.chats[cid] = {"id": cid, "owner": self._user, "model": ms[0], "live": True,
                                  "answered": False, "replies": [], "seen": [], "transcript": []}
            self.st.bump("chats_created", self._user)
        self._json(200, ok_body({"id": cid, "title": body["title"], "chat": {"models": ms},
                                 "created_at": int(time.time())}))

    def h_delete(self):
        if self._gate("delete_status") is None:
            return
        with self.st.lock:
            ch = self.st.chats.get(self._arg)
            if ch is None or ch["owner"] != self._user or not ch["live"]:
                reason = "chat %r is not a live chat of the caller" % self._arg
                return self._reject(200, err_body("Not_Found", "Chat not found"), reason)
            ch["live"] = False
            self.st.bump("chats_deleted", self._user)
        self._json(200, ok_body({"status": True}))

    def h_delete_all(self):
        if self._gate("delete_status") is None:
            return
        with self.st.lock:
            for ch in self.st.chats.values():
                if ch["owner"] == self._user and ch["live"]:
                    ch["live"] = False
                    self.st.bump("chats_deleted", self._user)
        self._json(200, ok_body({"status": True}))

    def h_completion(self):
        st = self.st
        tok = self._gate("completion_status")
        if tok is None:
            return
        cfg = self._cfg
        body, ok = self._json_body()
        if not ok:
            return
        cid = (self._query.get("chat_id") or [None])[0]
        with st.lock:
            chat = st.chats.get(cid)
            reason = "unknown chat_id %r" % cid if chat is None else \
                "chat %s belongs to another user" % cid if chat["owner"] != self._user else \
                "chat %s was deleted" % cid if not chat["live"] else \
                "the body's chat_id is not the query's" if body.get("chat_id") != cid else None
        if reason:
            return self._reject(200, err_body("Not_Found", "Chat not found"), reason)
        reason = body_reason(body, chat)
        if reason:
            return self._bad(reason)
        if cfg.get("require_cookies"):
            reason = self._cookie_reason(tok)
            if reason:
                return self._reject(int(cfg.get("cookie_error_status") or 200),
                                    {"code": "Bad_Request", "detail": "Bad Request", "success": False},
                                    reason)
        prompt = body["messages"][0]["content"]
        last = last_user_text(prompt)
        markers = {m.group(1): m.group(2) or "" for m in MARKER_RE.finditer(last)}
        user_text = MARKER_RE.sub("", last).strip()
        try:
            if "cf" in markers:
                return self._cf_page(int(markers["cf"] or 503), "cloudflare page (marker)")
            if "fail" in markers:
                return self._fault(int(markers["fail"]))
        except ValueError:
            return self._bad("mock: bad marker value in %r" % last)
        if cfg.get("delay_ms") or markers.get("delay"):
            self._wait(float(markers.get("delay") or cfg.get("delay_ms")) / 1000.0)
        ev = Events("ascii" in markers or bool(cfg.get("json_ascii")),
                    "crlf" in markers or bool(cfg.get("crlf")))
        with st.lock:
            # a continued chat holds its earlier turns: only the new ones may come again
            old = [t for t in chat["seen"] if t in prompt] if body["parent_id"] else []
            history = "\n".join(chat["transcript"])
        if old:
            return self._bad("mock: the continued chat resent an earlier turn %r" % old[0][:60])
        response_id = str(uuid.uuid4())
        reply, reasoning = build_stream(ev, body, cid, user_text, cfg, markers, history, response_id)
        with st.lock:
            st.bump("completions", self._user)
            if body["parent_id"]:
                st.bump("continued_completions", self._user)
            chat["answered"] = True
            chat["replies"].append(response_id)
            if len(user_text) >= 8:
                chat["seen"].append(user_text)
            chat["transcript"] += [prompt, reply]
            st.last["completion"] = {
                "t": round(time.time(), 3), "user": self._user, "token": tok,
                "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body,
                "query": self._query, "prompt": prompt, "user_text": user_text, "markers": markers,
                "reply_text": reply, "reasoning_text": reasoning, "chat_id": cid,
                "model": chat["model"], "thinking": body["messages"][0]["feature_config"]["thinking_enabled"],
                "events": [e.decode("utf-8") for e in ev.events], "completed": False}
            lc = st.last["completion"]
        self._write_stream(ev.events, cfg, markers, lc, tok)

    # ---------------------------------------------------------------- control API
    def h_mock_state(self):
        snap = self.st.snapshot()
        snap["port"] = self.server.server_address[1]
        self._json(200, snap)

    def h_mock_config_get(self):
        self._json(200, self.st.config)

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
        obj = obj if isinstance(obj, dict) else {}
        self.server.mock.reset(config=bool(obj.get("config") or obj.get("all")), all=bool(obj.get("all")))
        self._json(200, {"status": "ok"})


ROUTES = [
    ("GET", r"/api/v2/user", "user"),
    ("GET", r"/api/models", "models"),
    ("POST", r"/api/v2/chats/new", "chat_new"),
    ("POST", r"/api/v2/chat/completions", "completion"),
    ("DELETE", r"/api/v2/chats/", "delete_all"),
    ("DELETE", r"/api/v2/chats/([A-Za-z0-9_-]+)", "delete"),
    ("GET", r"/_mock/state", "mock_state"),
    ("GET", r"/_mock/config", "mock_config_get"),
    ("POST", r"/_mock/config", "mock_config"),
    ("POST", r"/_mock/reset", "mock_reset"),
]


# --------------------------------------------------------------------------- server object

class QwenAIMock(mockbase.LoopbackMock):
    """The mock as an object: QwenAIMock(port=0).start() ... .stop()."""

    def __init__(self, host="127.0.0.1", port=0, config=None, verbose=False):
        self.state = MockState(config)
        super().__init__(Handler, host, port, verbose, "qwenai-mock")

    def reset(self, config=False, all=False):
        st = self.state
        with st.lock:
            st.reset_counters()
            if config:
                st.config = copy.deepcopy(st.base_config)
            if all:
                st.chats.clear()


# --------------------------------------------------------------------------- CLI

def main(argv=None):
    a = mockbase.cli_parser("Loopback mock of the Qwen AI web backend").parse_args(argv)
    mock = QwenAIMock(a.host, a.port, a.config, a.verbose)
    return mockbase.serve_cli(mock, a.port_file, "qwenai mock listening on %s\n  token %s"
                              % (mock.url, DEFAULT_TOKEN))


if __name__ == "__main__":
    sys.exit(main())
