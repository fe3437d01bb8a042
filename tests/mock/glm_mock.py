#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""Loopback mock of the GLM / Zhipu Qingyan web backend (chatglm.cn) for chat2api tests.

Python 3 standard library only.  It speaks the protocol of shared/protocols/providers.md
section 3 (credential 3.1, headers 3.2, X-Sign 3.3, endpoints 3.4, body 3.5, stream 3.6, mock
notes 3.7 and 11) and *checks* what the real server checks, so that a client bug makes a test
fail.  No test may reach the internet: point GLM_BASE_URL (https://chatglm.cn) at the mock's
URL.  The HTTP plumbing (body reading, waits that notice a client gone, the stream writer with
its split/drip/close/stall knobs, the control API handlers) is deepseek_mock's and mockbase's,
inherited; the stream and its expected rendering are glm_stream.py.

RUN
    python3 tests/mock/glm_mock.py --port 0 --port-file /tmp/p \\
        [--refresh-token T]... [--config '{"rotate_every":1}'] [--verbose]

IN PROCESS
    from glm_mock import GLMMock, DEFAULT_REFRESH_TOKEN
    m = GLMMock().start()     # m.port, m.url, m.configure({...}), m.snapshot(), m.reset(...)
    m.stop()

CREDENTIALS (3.1)
  A user is known by the refresh token it started with (its "key": DEFAULT_REFRESH_TOKEN,
  OTHER_REFRESH_TOKEN, --refresh-token, config add_refresh_tokens).  POST user-api/user/refresh
  with "Authorization: Bearer <refresh token>" answers result.{access_token, refresh_token,
  user}; every other call must carry a live access token.  With rotate_every = N every Nth
  refresh of a user hands out a new refresh token; the old one is then refused (old_token
  "refuse", the default) or still taken ("keep").  Refusals: an unknown or rotated-away
  refresh token -> invalid_status (40001 in an HTTP 200 envelope, or 401), a user in
  expired_refresh_tokens -> 40102 ("refresh token expired"); an unknown, revoked
  (revoke_access) or outlived (access_ttl_s) access token -> HTTP 401 {"status":401}.

SIGNATURE (3.3) on every call: X-Timestamp must obey the digit rule (its second-to-last
  digit = the sum of the others mod 10) and lie within sign_window_s of the mock's clock;
  X-Nonce a UUID (dashes or 32 hex) never used before (nonce_replay); X-Sign the MD5 of
  "TIMESTAMP-NONCE-<sign_secret>".  A failure answers sign_reject_status (400) with
  {"status":10007,"message":"sign check failed"}.  sign_secret is a knob: set it to another
  secret and every correct client must be refused.

HEADERS (3.2): App-Name chatglm, Origin https://chatglm.cn, a Referer under it, X-App-Platform
  pc, X-App-Version, a browser User-Agent, X-Device-Id and X-Request-Id UUIDs, X-Lang, and the
  content type of the body (application/json, multipart/form-data for file_upload).

ENDPOINTS (JSON answers {"status":0,"message":"success","result":{...}}; envelope "code"
  uses "code" instead of "status")
    POST /chatglm/user-api/user/refresh                 body {}
    POST /chatglm/backend-api/assistant/stream          body 3.5 -> text/event-stream (3.6)
    POST /chatglm/backend-api/assistant/file_upload     multipart, one "file" -> source_id, file_url
    POST /chatglm/backend-api/assistant/conversation/delete  {assistant_id, conversation_id}
    POST /chatglm/mainchat-api/conversation/recent_list {page >= 1, page_size 1..100}: the
         user's live conversations, that page of them, and has_more
    POST /chatglm/mainchat-api/conversation/bulk_delete {conversation_ids: 1..100 ids}
  (both take the fault knob delete_status; state counts recent_list_pages, bulk_deletes)
  The chat body is checked key by key: assistant_id (24+ of [a-z0-9]), conversation_id ""
  (a new conversation) or a live one of this user (continued: the prompt may not carry a turn
  the conversation has seen, and the tool replies see its transcript), project_id "", chat_type "user_chat", one user message whose content is [a "file" item
  listing uploads of this user]? [image_url items naming file_urls this user uploaded]* and
  exactly one text item, last; meta_data with channel "", chat_mode absent/"zero"/
  "deep_research", draft_id "", if_plus_model true, input_question_type "xxxx", is_networking
  (bool), is_test false, platform "pc", quote_log_id "", cogview {rm_label_watermark false}.

STREAM (3.6; glm_stream.py builds it): cumulative snapshots {conversation_id, status
  init|processing|finish|intervene, parts:[{logic_id, status, content:[...], meta_data}]}: a
  "think" part with chat_mode (reasoning "Thinking about: X. ..." or, for deep_research,
  "Researching: X. ..."), a tool_result part with search_results (match_key turn0search0/1)
  when is_networking, then the text "You said: X" (+ SEARCH_SUFFIX with its 【turn0searchN】
  markers, + image and file counts), growing a few code points per snapshot, and the closing
  "finish" snapshot.  The record last_completion.expected holds what a correct client shows
  (content and reasoning).

CONTROL API: GET /_mock/state, GET|POST /_mock/config (keys of DEFAULT_CONFIG plus
  add_refresh_tokens, expired_refresh_tokens, revoke_access (true | [keys]), reset; by_token
  {"<key>": {knob: value} | null}), POST /_mock/reset ({"config":true}, {"all":true}).
  Fault knobs refresh_status, stream_status, upload_status, delete_status (401, 403, 429 with
  Retry-After, 500, 502, 503, 40001, 40102, 200 = a JSON error with HTTP 200) and
  close_after_events / stall_after_events take <key>_times = N (fail N times, then heal).

PER-REQUEST MARKERS (in the last user text; stripped from the echo)
    [[split:none|bytes|random|N]] [[drip:MS]] [[delay:MS]] [[close:N]] [[reset:N]] [[stall:N]]
    [[fail:CODE]]  as the fault knobs      [[cf:CODE]]  a Cloudflare page
    [[unicode]] [[long:N]] [[ascii]] [[crlf]]   [[repeat]] every snapshot twice
    [[shrink]]  a snapshot with a shorter text in the middle   [[parts:changed]] only the part
                that changed in each snapshot   [[image]] an image part   [[code]] code + output
    [[intervene]]  end with status intervene and last_error.intervene_text
    [[error:event|status|inline|expired]]  an in-stream error after half the answer ("expired":
                a 40102 envelope before anything)
"""

import copy
import hashlib
import json
import os
import random
import re
import secrets
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deepseek_mock as dsm  # noqa: E402  (the state and dispatch a mock of this shape has)
import mockbase  # noqa: E402  (the loopback HTTP plumbing)
from glm_stream import (FILE_HOST, IMAGE_OUT, INTERVENE_TEXT, SEARCH_RESULTS,  # noqa: E402,F401
                        SEARCH_SUFFIX, STREAM_ERRORS, UNICODE_TAIL, Stream, build_stream,
                        parse_prompt)

# --------------------------------------------------------------------------- constants

DEFAULT_REFRESH_TOKEN = "glmMockRefresh0001.AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdEfGh"
OTHER_REFRESH_TOKEN = "glmMockRefresh0002.ZyXwVuTsRqPoNmLkJiHgFeDcBa9876543210-_ZyXwVuTs"
SIGN_SECRET = "8a1317a7468aa3ad86e997d08f3f31cb"
ORIGIN = "https://chatglm.cn"
DEFAULT_ASSISTANT = "65940acff94777010aa6b796"
P = "/chatglm"
NONCES_KEPT = 100000
BULK_MAX = 100                  # ids one bulk_delete takes (the page size the list gives)
UUID_RE = re.compile(r"^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})$")

DEFAULT_CONFIG = {
    # verification
    "check_headers": True,
    "check_sign": True,
    "sign_secret": SIGN_SECRET,          # what X-Sign must be made with
    "sign_window_s": 300,                # |X-Timestamp - now| allowed
    "sign_reject_status": 400,
    "nonce_replay": True,                # a nonce is good once
    # credentials
    "rotate_every": 0,                   # 0: never; N: every Nth refresh of a user rotates
    "old_token": "refuse",               # refuse | keep: a rotated-away refresh token
    "invalid_status": 40001,             # 40001 (HTTP 200 envelope) | 401: unknown refresh token
    "access_ttl_s": None,                # access tokens outlive this many seconds: 401
    "envelope": "status",                # status | code: the key of the JSON answers' code
    "gzip": True,
    # faults: status (0 = none) and <key>_times = N (null = every request)
    "refresh_status": 0, "refresh_status_times": None,
    "stream_status": 0, "stream_status_times": None,
    "upload_status": 0, "upload_status_times": None,
    "delete_status": 0, "delete_status_times": None,
    "cf_html": False,                    # 502/503 faults answer a Cloudflare HTML page
    "retry_after": 30,
    "delay_ms": 0,                       # before the stream's response head
    "api_delay_ms": 0,                   # before the other endpoints' answers
    # stream shape
    "parts_style": "all",                # all | changed
    "repeat": False,
    "shrink": False,
    "unicode": False,
    "long_words": 0,
    "json_ascii": False,
    "crlf": False,
    "split": "none", "split_seed": 1, "random_split_max": 16,
    "drip_ms": 0,
    "close_after_events": None, "close_after_events_times": None,
    "close_mode": "fin",
    "stall_after_events": None, "stall_after_events_times": None,
    "stall_max_s": 300,
    "stream_error": None,                # null | event | status | inline | expired
    "intervene": False,
    "by_token": {},
}
FAULT_KEYS = ("refresh_status", "stream_status", "upload_status", "delete_status")
HEALING_KEYS = FAULT_KEYS + ("close_after_events", "stall_after_events")
SPECIAL_CONFIG_KEYS = {"add_refresh_tokens", "expired_refresh_tokens", "revoke_access", "reset"}
BODY_KEYS = ["assistant_id", "conversation_id", "project_id", "chat_type", "messages", "meta_data"]
META = {"channel": "", "draft_id": "", "if_plus_model": True, "input_question_type": "xxxx",
        "is_test": False, "platform": "pc", "quote_log_id": "",
        "cogview": {"rm_label_watermark": False}}


def sign_of(ts, nonce, secret=SIGN_SECRET):
    return hashlib.md5(("%s-%s-%s" % (ts, nonce, secret)).encode()).hexdigest()


def digit_rule_ok(ts):
    """The second-to-last digit is the sum of the others mod 10 (3.3)."""
    if not ts.isdigit() or len(ts) < 2:
        return False
    t = len(ts)
    return int(ts[t - 2]) == (sum(int(c) for c in ts) - int(ts[t - 2])) % 10


# --------------------------------------------------------------------------- state

class MockState(dsm.MockState):
    """deepseek_mock's bookkeeping (bump, take, effective, record_rejection), GLM's users,
    tokens, nonces, conversations and uploads."""
    DEFAULTS, HEALING, OVERRIDES = DEFAULT_CONFIG, HEALING_KEYS, "by_token"

    def __init__(self, refresh_tokens=(), config=None):
        self.lock = threading.RLock()
        self.config = copy.deepcopy(DEFAULT_CONFIG)
        self.users = {}            # key (first refresh token) -> user record
        self.refresh = {}          # refresh token -> {"user": key, "state": valid|rotated}
        self.access = {}           # access token -> {"user", "issued", "revoked"}
        self.conversations = {}    # id -> {"owner", "live", "assistant"}
        self.files = {}            # source_id -> {"owner", "file_url", ...}
        self.nonces, self.nonce_order = set(), []
        for t in (DEFAULT_REFRESH_TOKEN, OTHER_REFRESH_TOKEN) + tuple(refresh_tokens):
            self._add_user(t)
        self.reset_counters()
        if config:
            self.configure(config)
        self.base_config = copy.deepcopy(self.config)
        self.base_users = copy.deepcopy(self.users)
        self.base_refresh = copy.deepcopy(self.refresh)

    def _add_user(self, token):
        if not isinstance(token, str) or not re.fullmatch(r"[A-Za-z0-9._~+/-]{20,4096}", token):
            raise ValueError("a refresh token must be 20+ token characters")
        if token in self.refresh:
            self.users[self.refresh[token]["user"]]["expired"] = False
            return
        n = len(self.users) + 1
        self.users[token] = {"id": "%024x" % (0x5a0000 + n), "email": "glm-user-%d@example.com" % n,
                             "name": "mock user %d" % n, "token": token, "expired": False,
                             "rotations": 0, "refreshes": 0}
        self.refresh[token] = {"user": token, "state": "valid"}

    def restore_users(self):
        self.users = copy.deepcopy(self.base_users)
        self.refresh = copy.deepcopy(self.base_refresh)

    def reset_counters(self):
        with self.lock:
            self.c = {"requests": {}, "responses": {}, "completions_completed": 0,
                      "completions_rejected": 0, "client_disconnects": 0, "server_aborts": 0,
                      "stalls": 0, "refreshes": {}, "refresh_tokens_sent": {}, "old_token_uses": 0,
                      "access_issued": {}, "rotations": [], "conversations_created": {},
                      "conversations_deleted": {}, "completions": {}, "uploads": {},
                      "sign_ok": 0, "sign_failed": 0}
            self.last = {"completion": None, "rejection": None, "disconnect": None, "upload": None}
            self.last_requests, self.rejections, self.recent = {}, [], []

    def record_rejection(self, route, status, reason, user):
        super().record_rejection(route, status, reason, user)
        if route == "stream":           # deepseek_mock counts its own "completion" route only
            self.bump("completions_rejected")

    def configure(self, obj):
        mockbase.check_config_keys(obj, DEFAULT_CONFIG, SPECIAL_CONFIG_KEYS)
        with self.lock:
            if obj.get("reset") and hasattr(self, "base_config"):
                self.config = copy.deepcopy(self.base_config)
            for k, v in obj.items():
                if k == "reset":
                    continue
                if k in ("add_refresh_tokens", "expired_refresh_tokens"):
                    if not isinstance(v, list):
                        raise ValueError("%s must be a list of strings" % k)
                    for t in v:
                        if k == "add_refresh_tokens":
                            self._add_user(t)
                        elif t in self.refresh:
                            self.users[self.refresh[t]["user"]]["expired"] = True
                        else:
                            raise ValueError("unknown refresh token in %s" % k)
                elif k == "revoke_access":
                    who = list(self.users) if v is True else (v or [])
                    for rec in self.access.values():
                        if rec["user"] in who:
                            rec["revoked"] = True
                elif k == "by_token":
                    mockbase.merge_by_token(self.config["by_token"], v, DEFAULT_CONFIG)
                else:
                    self.config[k] = copy.deepcopy(v)
            return self.public_config()

    def public_config(self):
        with self.lock:
            c = copy.deepcopy(self.config)
            c["users"] = sorted(self.users)
            return c

    # ---- credentials
    def refresh_user(self, token):
        """(user key, None) for a refresh token that may be used, else (key or None, reason)."""
        with self.lock:
            rec = self.refresh.get(token)
            if rec is None:
                return None, "unknown refresh token"
            if rec["state"] != "valid" and self.config.get("old_token") != "keep":
                self.c["old_token_uses"] += 1
                return rec["user"], "a refresh token that was rotated away"
            if self.users[rec["user"]]["expired"]:
                return rec["user"], "expired"
            return rec["user"], None

    def exchange(self, key, cfg):
        """A new access token, and the refresh token to hand back (rotated now and then)."""
        with self.lock:
            u = self.users[key]
            u["refreshes"] += 1
            at = "glmat." + secrets.token_urlsafe(32)
            self.access[at] = {"user": key, "issued": time.time(), "revoked": False}
            self.bump("access_issued", key)
            every = int(cfg.get("rotate_every") or 0)
            if every and u["refreshes"] % every == 0:
                new = "glmrt." + secrets.token_urlsafe(40)
                self.refresh[u["token"]]["state"] = "rotated"
                self.refresh[new] = {"user": key, "state": "valid"}
                self.c["rotations"].append({"user": key, "old": u["token"], "new": new,
                                            "t": round(time.time(), 3)})
                u["token"] = new
                u["rotations"] += 1
            return at, u["token"]

    def access_user(self, token, cfg):
        with self.lock:
            rec = self.access.get(token)
            if rec is None:
                if token in self.refresh:
                    return None, "the refresh token was sent as the access token"
                return None, "unknown access token"
            if rec["revoked"]:
                return rec["user"], "revoked access token"
            ttl = cfg.get("access_ttl_s")
            if ttl is not None and time.time() - rec["issued"] > float(ttl):
                return rec["user"], "access token older than access_ttl_s"
            if self.users[rec["user"]]["expired"]:
                return rec["user"], "the user's login expired"
            return rec["user"], None

    def nonce_fresh(self, nonce):
        with self.lock:
            if nonce in self.nonces:
                return False
            self.nonces.add(nonce)
            self.nonce_order.append(nonce)
            if len(self.nonce_order) > NONCES_KEPT:
                self.nonces.discard(self.nonce_order.pop(0))
            return True

    def live_conversations(self):
        with self.lock:
            out = {}
            for cid, c in self.conversations.items():
                if c["live"]:
                    out.setdefault(c["owner"], []).append(cid)
            return out

    def snapshot(self):
        with self.lock:
            s = copy.deepcopy(self.c)
            for k, v in self.last.items():
                s["last_" + k] = copy.deepcopy(v)
            s["last_requests"] = copy.deepcopy(self.last_requests)
            s["rejections"] = copy.deepcopy(self.rejections)
            s["recent"] = copy.deepcopy(self.recent)
            live = self.live_conversations()
            s["live_conversations"] = live
            s["conversations_live"] = {u: len(v) for u, v in live.items()}
            s["users"] = {k: {f: u[f] for f in ("id", "email", "token", "expired", "rotations")}
                          for k, u in self.users.items()}
            return s


# --------------------------------------------------------------------------- HTTP handler

class Handler(dsm.Handler):
    """deepseek_mock's handler brings the plumbing (dispatch, answers, rejections, the stream
    writer, the control API); the routes, checks and envelopes are GLM's."""
    label = "glm-mock"

    def error_obj(self, code, msg):
        return {self._key(): code, "message": msg}

    def _error_doc(self, status, msg):
        """The dispatcher's own errors (400, 404, 500) in GLM's envelope: 40000, 40400, 50000."""
        return self.error_obj(status * 100, msg)

    def _cf_page(self, status, reason):
        """deepseek_mock's Cloudflare page, chatglm.cn in its title."""
        title = {502: "Bad gateway", 503: "Service unavailable", 504: "Gateway time-out",
                 403: "Access denied"}.get(status, "Error")
        html = dsm.CF_5XX_HTML.replace("chat.deepseek.com", "chatglm.cn") % (
            status, title, status, title, random.getrandbits(64))
        return self._reject(status, html, reason, "text/html; charset=UTF-8")

    def _key(self):
        return "code" if self.st.config.get("envelope") == "code" else "status"

    def _ok(self, result):
        self._json(200, {self._key(): 0, "message": "success", "result": result})

    def _bad(self, code, msg, reason, status=400):
        return self._reject(status, self.error_obj(code, msg), reason)

    def _fault(self, status, route):
        status = int(status)
        reason = "injected status %d on %s" % (status, route)
        if status in (40001, 40102):
            return self._reject(200, self.error_obj(status, "token invalid (%d)" % status), reason)
        if status == 200:
            return self._reject(200, self.error_obj(10002, "mock: the upstream refused the request"),
                                reason)
        if status in (502, 503, 504) and self._cfg.get("cf_html"):
            return self._cf_page(status, reason)
        headers = [("Retry-After", str(self._cfg.get("retry_after", 30)))] if status == 429 else []
        msgs = {401: "Unauthorized", 403: "Forbidden", 429: "Too Many Requests",
                500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
        return self._reject(status, self.error_obj(status, msgs.get(status, "Error")), reason,
                            headers=headers)

    # ---------------------------------------------------------------- checks
    def _headers_reason(self, multipart=False):
        h = self.headers
        if h.get("App-Name") != "chatglm":
            return "App-Name is %r, not chatglm" % h.get("App-Name")
        if h.get("Origin") != ORIGIN:
            return "Origin is %r, not %s" % (h.get("Origin"), ORIGIN)
        if not (h.get("Referer") or "").startswith(ORIGIN + "/"):
            return "Referer %r is not under %s/" % (h.get("Referer"), ORIGIN)
        if h.get("X-App-Platform") != "pc":
            return "X-App-Platform is %r, not pc" % h.get("X-App-Platform")
        if not (h.get("User-Agent") or "").startswith("Mozilla/5.0 ("):
            return "User-Agent %r is not a browser's" % h.get("User-Agent")
        for name in ("X-App-Version", "X-Lang"):
            if not (h.get(name) or "").strip():
                return "no %s header" % name
        for name in ("X-Device-Id", "X-Request-Id"):
            if not UUID_RE.match((h.get(name) or "").lower()):
                return "%s %r is not a UUID" % (name, h.get(name))
        ct = (h.get("Content-Type") or "").split(";")[0].strip().lower()
        want = "multipart/form-data" if multipart else "application/json"
        if ct != want:
            return "Content-Type is %r, not %s" % (h.get("Content-Type"), want)
        return None

    def _sign_reason(self):
        cfg = self._cfg
        ts, nonce, sign = (self.headers.get(k) or "" for k in ("X-Timestamp", "X-Nonce", "X-Sign"))
        if not ts or not nonce or not sign:
            return "X-Timestamp, X-Nonce and X-Sign are all required"
        if not digit_rule_ok(ts):
            return "X-Timestamp %r breaks the digit rule" % ts
        if abs(int(ts) - time.time() * 1000) > float(cfg.get("sign_window_s", 300)) * 1000:
            return "X-Timestamp %s is outside the window" % ts
        if not UUID_RE.match(nonce):
            return "X-Nonce %r is not a UUID" % nonce
        if sign != sign_of(ts, nonce, cfg.get("sign_secret") or SIGN_SECRET):
            return "X-Sign does not match md5(timestamp-nonce-secret)"
        if cfg.get("nonce_replay", True) and not self.st.nonce_fresh(nonce):
            return "X-Nonce %s was used before" % nonce
        return None

    def _gate(self, fault_key, refresh=False, multipart=False):
        """Headers, signature, credential, fault knob: the caller's user key, or None after
        answering."""
        st = self.st
        m = re.fullmatch(r"Bearer (\S+)", (self.headers.get("Authorization") or "").strip())
        tok = m.group(1) if m else None
        if refresh and tok:
            st.bump("refresh_tokens_sent", tok)
        if st.config.get("check_headers", True):
            reason = self._headers_reason(multipart)
            if reason:
                return self._bad(10001, "bad request", reason)
        if st.config.get("check_sign", True):
            reason = self._sign_reason()
            st.bump("sign_failed" if reason else "sign_ok")
            if reason:
                return self._bad(10007, "sign check failed", reason,
                                 int(st.config.get("sign_reject_status") or 400))
        if tok is None:
            return self._reject(401, self.error_obj(401, "Unauthorized"), "no Bearer token")
        if refresh:
            user, reason = st.refresh_user(tok)
        else:
            user, reason = st.access_user(tok, self._cfg)
        self._user = user
        self._cfg = st.effective(user)
        if reason:
            if not refresh:
                return self._reject(401, self.error_obj(401, "Unauthorized: " + reason), reason)
            if reason == "expired":
                return self._reject(200, self.error_obj(40102, "refresh token expired (40102)"),
                                    "the user's refresh token expired")
            status = int(self._cfg.get("invalid_status") or 40001)
            return self._reject(401 if status == 401 else 200,
                                self.error_obj(status, "token invalid"), reason)
        self._gzip = self._gzip and self._cfg.get("gzip", True)
        f = st.take(fault_key, user) if fault_key != "stream_status" else 0
        if f:
            return self._fault(f, self._route)
        delay = self._cfg.get("api_delay_ms") if fault_key != "stream_status" else 0
        if delay:
            self._wait(float(delay) / 1000.0)
        return user

    def _gated_json(self, fault_key, **kw):
        """_gate(), then the body as a JSON object: (user, body), or (None, None) after
        answering."""
        user = self._gate(fault_key, **kw)
        if user is None:
            return None, None
        try:
            body = json.loads(self.body.decode("utf-8"))
        except Exception:
            return self._bad(10001, "bad request", "body is not JSON"), None
        if not isinstance(body, dict):
            return self._bad(10001, "bad request", "body is not a JSON object"), None
        return user, body

    # ---------------------------------------------------------------- endpoints
    def h_refresh(self):
        user, body = self._gated_json("refresh_status", refresh=True)
        if body is None:
            return
        if body:
            return self._bad(10001, "bad request", "user/refresh body must be {}")
        self.st.bump("refreshes", user)
        at, rt = self.st.exchange(user, self._cfg)
        u = self.st.users[user]
        self._ok({"access_token": at, "refresh_token": rt,
                  "user": {"id": u["id"], "email": u["email"], "name": u["name"]}})

    def _multipart(self):
        """(filename, content type, bytes) of the one "file" field, or a rejection reason."""
        m = re.search(r"boundary=\"?([^\";]+)\"?", self.headers.get("Content-Type") or "")
        if not m:
            return None, "no multipart boundary"
        b = ("--" + m.group(1)).encode()
        if not self.body.startswith(b + b"\r\n") or not self.body.endswith(b + b"--\r\n"):
            return None, "multipart body does not start and end with its boundary"
        chunks = self.body[len(b) + 2:-(len(b) + 4)].split(b"\r\n" + b + b"\r\n")
        if len(chunks) != 1 or not chunks[0].endswith(b"\r\n"):
            return None, "want exactly one part"
        head, sep, data = chunks[0][:-2].partition(b"\r\n\r\n")
        if not sep:
            return None, "a part without headers"
        head = head.decode("utf-8", "replace").replace("\r\n", "\n")
        disp = re.search(r'(?im)^Content-Disposition: form-data; name="([^"]*)"; filename="([^"]+)"$',
                         head)
        ctype = re.search(r"(?im)^Content-Type: (\S+)$", head)
        if not disp or disp.group(1) != "file" or not ctype:
            return None, "the part is not a file field named \"file\" with a Content-Type"
        if not data:
            return None, "an empty file"
        return (disp.group(2), ctype.group(1), data), None

    def h_upload(self):
        user = self._gate("upload_status", multipart=True)
        if user is None:
            return
        got, reason = self._multipart()
        if reason:
            return self._bad(10001, "bad request", reason)
        name, ctype, data = got
        sid = uuid.uuid4().hex
        ext = os.path.splitext(name)[1] or ".bin"
        rec = {"owner": user, "source_id": sid, "file_url": FILE_HOST + sid + ext, "file_name": name,
               "mime": ctype, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        with self.st.lock:
            self.st.files[sid] = rec
            self.st.bump("uploads", user)
            self.st.last["upload"] = dict(rec)
        res = {"source_id": sid, "file_url": rec["file_url"], "file_name": name, "file_size": len(data)}
        if ctype.startswith("image/"):
            res.update({"width": 1, "height": 1})
        self._ok(res)

    def _check_body(self, body, user):
        """(content refs (images, files), None) or (None, reason) for a 3.5 body."""
        if list(body) != BODY_KEYS:
            return None, "body keys are %s, want %s in this order" % (list(body), BODY_KEYS)
        if not re.fullmatch(r"[a-z0-9]{24,}", str(body["assistant_id"])):
            return None, "assistant_id %r is not an assistant id" % (body["assistant_id"],)
        for k, want in (("project_id", ""), ("chat_type", "user_chat")):
            if body[k] != want:
                return None, "%s is %r, want %r" % (k, body[k], want)
        cid = body["conversation_id"]
        if cid != "":
            with self.st.lock:
                c = self.st.conversations.get(cid) if isinstance(cid, str) else None
                if c is None or c["owner"] != user or not c["live"]:
                    return None, "conversation_id %r is not a live one of this user" % (cid,)
        msgs = body["messages"]
        if not isinstance(msgs, list) or len(msgs) != 1 or not isinstance(msgs[0], dict) or \
                set(msgs[0]) != {"role", "content"} or msgs[0]["role"] != "user":
            return None, "messages must be one {role:user, content} object"
        content = msgs[0]["content"]
        if not isinstance(content, list) or not content or not isinstance(content[-1], dict) or \
                content[-1].get("type") != "text" or not isinstance(content[-1].get("text"), str):
            return None, "content must end with one text item"
        images, files, seen_image = [], [], False
        for i, it in enumerate(content[:-1]):
            t = it.get("type") if isinstance(it, dict) else None
            if t == "file" and i == 0 and isinstance(it.get("file"), list) and it["file"]:
                for f in it["file"]:
                    rec = self.st.files.get(f.get("source_id")) if isinstance(f, dict) else None
                    if rec is None or rec["owner"] != user or f.get("file_url") != rec["file_url"] \
                            or set(f) != {"source_id", "file_url"}:
                        return None, "a file reference that was not uploaded by this user: %r" % (f,)
                    files.append(rec["source_id"])
            elif t == "image_url" and set(it) == {"type", "image_url"} and \
                    isinstance(it["image_url"], dict) and set(it["image_url"]) == {"url"}:
                url = it["image_url"]["url"]
                rec = next((r for r in self.st.files.values() if r["file_url"] == url), None)
                if rec is None or rec["owner"] != user:
                    return None, "image_url %r was not uploaded by this user" % (url,)
                images.append(rec["source_id"])
                seen_image = True
            else:
                return None, "content item %d is not a leading file list or an image_url: %r" % (
                    i, it)
        del seen_image
        meta = body["meta_data"]
        if not isinstance(meta, dict):
            return None, "meta_data is not an object"
        keys = ["channel"] + (["chat_mode"] if "chat_mode" in meta else []) + [
            "draft_id", "if_plus_model", "input_question_type", "is_networking", "is_test",
            "platform", "quote_log_id", "cogview"]
        if list(meta) != keys:
            return None, "meta_data keys are %s, want %s" % (list(meta), keys)
        for k, want in META.items():
            if meta[k] != want:
                return None, "meta_data.%s is %r, want %r" % (k, meta[k], want)
        if "chat_mode" in meta and meta["chat_mode"] not in ("zero", "deep_research"):
            return None, "chat_mode %r is not zero or deep_research" % (meta["chat_mode"],)
        if not isinstance(meta["is_networking"], bool):
            return None, "is_networking is not a boolean"
        return (images, files), None

    def h_stream(self):
        st = self.st
        user, body = self._gated_json("stream_status")
        if body is None:
            return
        cfg = self._cfg
        refs, reason = self._check_body(body, user)
        if reason:
            return self._bad(10001, "bad request", reason)
        prompt = body["messages"][0]["content"][-1]["text"]
        turns, last_user = parse_prompt(prompt)
        markers, user_text = mockbase.markers_of(last_user)
        try:
            if "cf" in markers:
                return self._cf_page(int(markers["cf"] or 503), "cloudflare page (marker)")
            if "fail" in markers:
                return self._fault(int(markers["fail"]), "stream")
        except ValueError:
            return self._bad(10001, "bad request", "mock: bad marker value in %r" % last_user)
        if (markers.get("error") or cfg.get("stream_error") or "event") not in STREAM_ERRORS:
            return self._bad(10001, "bad request", "mock: stream error kind not in %s" % (
                STREAM_ERRORS,))
        f = st.take("stream_status", user)
        if f:
            return self._fault(f, "stream")
        delay = markers.get("delay") or cfg.get("delay_ms")
        if delay:
            self._wait(float(delay) / 1000.0)
        cid, history = body["conversation_id"], ""
        if cid:
            # a continued conversation holds the earlier turns: only the new one may come
            with st.lock:
                conv = st.conversations[cid]
                old = next((t for t in conv["seen"] if t and t in prompt), None)
                history = "\n".join(conv["transcript"])
            if old is not None:
                return self._bad(10001, "bad request",
                                 "mock: the continued conversation resent an earlier turn %r"
                                 % old[:60])
            with st.lock:
                st.bump("continued_completions", user)
        else:
            cid = secrets.token_hex(12)
            if (markers.get("error") or cfg.get("stream_error")) != "expired":
                with st.lock:       # a login that is over makes no conversation
                    st.conversations[cid] = {"owner": user, "live": True, "seen": [],
                                             "transcript": [], "assistant": body["assistant_id"]}
                    st.bump("conversations_created", user)
        s = Stream(cid, body["assistant_id"], "ascii" in markers or bool(cfg.get("json_ascii")),
                   "crlf" in markers or bool(cfg.get("crlf")),
                   markers.get("parts") or cfg.get("parts_style") or "all",
                   "repeat" in markers or bool(cfg.get("repeat")))
        out = build_stream(s, body, user_text, cfg, markers, (len(refs[0]), len(refs[1])),
                           history)
        blob = b"".join(s.events)
        meta = body["meta_data"]
        with st.lock:
            conv = st.conversations.get(cid)
            if conv is not None:
                conv["seen"].append(user_text)
                conv["transcript"] += [prompt, out["reply"]]
            st.bump("completions", user)
            st.last["completion"] = {
                "t": round(time.time(), 3), "user": user, "conversation_id": cid,
                "continued": bool(body["conversation_id"]),
                "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body,
                "prompt": prompt, "turns": turns, "last_user": last_user, "user_text": user_text,
                "markers": markers, "assistant_id": body["assistant_id"],
                "chat_mode": meta.get("chat_mode"), "is_networking": meta["is_networking"],
                "images": refs[0], "files": refs[1], "reply_text": out["reply"],
                "reasoning_text": out["reasoning"], "stream_error": out["error"],
                "expected": out["expected"], "events": [e.decode("utf-8") for e in s.events],
                "bytes": len(blob), "sha256": hashlib.sha256(blob).hexdigest(), "completed": False}
            lc = st.last["completion"]
        self._write_stream(s.events, cfg, markers, lc, user)

    def _delete(self, user, cid, assistant=None):
        with self.st.lock:
            c = self.st.conversations.get(cid) if isinstance(cid, str) else None
            if c is None or c["owner"] != user or not c["live"]:
                return "conversation %r is not a live one of this user" % (cid,)
            if assistant is not None and assistant != c["assistant"]:
                return "assistant_id %r is not the conversation's" % (assistant,)
            c["live"] = False
            self.st.bump("conversations_deleted", user)
        return None

    def h_delete(self):
        user, body = self._gated_json("delete_status")
        if body is None:
            return
        if set(body) != {"assistant_id", "conversation_id"}:
            return self._bad(10001, "bad request", "delete body must be {assistant_id, "
                             "conversation_id}")
        reason = self._delete(user, body["conversation_id"], body["assistant_id"])
        if reason:
            return self._bad(10004, "conversation not found", reason, 200)
        self._ok({})

    def h_recent(self):
        user, body = self._gated_json("delete_status")
        if body is None:
            return
        page, size = body.get("page"), body.get("page_size")
        if set(body) != {"page", "page_size"} or not all(
                isinstance(v, int) and not isinstance(v, bool) for v in (page, size)) or \
                page < 1 or not 1 <= size <= 100:
            return self._bad(10001, "bad request", "recent_list body must be {page >= 1, "
                             "page_size 1..100}")
        live = self.st.live_conversations().get(user, [])
        self.st.bump("recent_list_pages", user)
        self._ok({"conversation_list": [{"conversation_id": c}
                                        for c in live[(page - 1) * size:page * size]],
                  "has_more": len(live) > page * size})

    def h_bulk_delete(self):
        user, body = self._gated_json("delete_status")
        if body is None:
            return
        ids = body.get("conversation_ids")
        if set(body) != {"conversation_ids"} or not isinstance(ids, list) or not ids or \
                len(ids) > BULK_MAX or not all(isinstance(c, str) and c for c in ids):
            return self._bad(10001, "bad request", "conversation_ids must be a list of 1..%d "
                             "ids" % BULK_MAX)
        self.st.bump("bulk_deletes", user)
        for cid in ids:
            self._delete(user, cid)
        self._ok({})


ROUTES = [
    ("POST", P + "/user-api/user/refresh", "refresh"),
    ("POST", P + "/backend-api/assistant/stream", "stream"),
    ("POST", P + "/backend-api/assistant/file_upload", "upload"),
    ("POST", P + "/backend-api/assistant/conversation/delete", "delete"),
    ("POST", P + "/mainchat-api/conversation/recent_list", "recent"),
    ("POST", P + "/mainchat-api/conversation/bulk_delete", "bulk_delete"),
    ("GET", "/_mock/state", "mock_state"),
    ("GET", "/_mock/config", "mock_config_get"),
    ("POST", "/_mock/config", "mock_config"),
    ("POST", "/_mock/reset", "mock_reset"),
]
Handler.ROUTES = ROUTES


# --------------------------------------------------------------------------- server object

class GLMMock(dsm.DeepSeekMock):
    """The mock as an object: GLMMock(port=0).start() ... .stop()."""

    def __init__(self, host="127.0.0.1", port=0, refresh_tokens=(), config=None, verbose=False):
        self.state = MockState(refresh_tokens, config)
        mockbase.LoopbackMock.__init__(self, Handler, host, port, verbose, "glm-mock")

    def reset(self, config=False, all=False):
        st = self.state
        with st.lock:
            st.reset_counters()
            if config:
                st.config = copy.deepcopy(st.base_config)
            if all:
                st.restore_users()
                st.access.clear()
                st.conversations.clear()
                st.files.clear()
                st.nonces.clear()
                st.nonce_order.clear()

    def current_token(self, key=DEFAULT_REFRESH_TOKEN):
        """The refresh token the user keyed key holds now (after rotations)."""
        return self.state.users[key]["token"]


# --------------------------------------------------------------------------- CLI

def main(argv=None):
    ap = mockbase.cli_parser("Loopback mock of the GLM (chatglm.cn) web backend")
    ap.add_argument("--refresh-token", action="append", default=[], help="extra known refresh token")
    a = ap.parse_args(argv)
    mock = GLMMock(a.host, a.port, a.refresh_token, a.config, a.verbose)
    return mockbase.serve_cli(mock, a.port_file, "glm mock listening on %s\n  refresh token %s"
                              % (mock.url, DEFAULT_REFRESH_TOKEN))


if __name__ == "__main__":
    sys.exit(main())
