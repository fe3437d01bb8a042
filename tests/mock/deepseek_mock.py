#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""Loopback mock of the DeepSeek web backend (chat.deepseek.com) for chat2api tests.

Python 3 standard library only.  It speaks the protocol of shared/protocols/providers.md
section 2 (credential 2.1, headers 2.2, endpoints 2.3, body 2.4, prompt 2.5, PoW 2.6,
stream 2.7, checklist 2.9) and *checks* what the real server checks, so that a client bug
makes a test fail.  No test may reach the internet: point the DeepSeek base URL
(https://chat.deepseek.com/api) at <mock url>/api.

RUN
    python3 tests/mock/deepseek_mock.py --port 0 --port-file /tmp/p \\
        [--host 127.0.0.1] [--user-token T]... [--config '{"difficulty":144000}'] [--verbose]
  The port file is written (atomically) once the server accepts connections.
  SIGTERM/SIGINT stop it.

IN PROCESS
    from deepseek_mock import DeepSeekMock, DEFAULT_USER_TOKEN
    m = DeepSeekMock().start()       # m.port, m.url, m.configure({...}), m.snapshot(),
    ...                              # m.reset(config=False, all=False), m.bearer(user_token)
    m.stop()

CREDENTIALS
  Known userTokens: DEFAULT_USER_TOKEN, OTHER_USER_TOKEN (a second user), --user-token, config
  user_tokens (replace) / add_user_tokens / expired_user_tokens.  Each is a user with an id and
  an e-mail.  GET /api/v0/users/current with "Authorization: Bearer <userToken>" returns the
  user's bearer in biz_data.token; every other call must carry that bearer.  The userToken
  itself, an unknown bearer, a revoked bearer or one of an expired user gets the envelope
  {"code":40003,"msg":"Authorization Failed (invalid token)","data":null} with HTTP
  auth_error_status (200 as DeepSeek does, or 401).  Config revoke_bearers: true | [userToken]
  revokes issued bearers; the next users/current issues a fresh one.

ENDPOINTS (all answer {"code":0,"msg":"","data":{"biz_code":0,"biz_msg":"","biz_data":{...}}})
    GET  /api/v0/users/current              userToken -> {id, email, token, id_profile, ...}
    POST /api/v0/chat_session/create        {} or {"character_id":null} -> chat_session.id (uuid),
                                            ttl_seconds, model_type ("old" shape: biz_data.id)
    POST /api/v0/chat_session/delete        {"chat_session_id"}: the caller's own sessions only
    POST /api/v0/chat_session/delete_all    {}: all of the caller's sessions
    POST /api/v0/chat/create_pow_challenge  {"target_path":"/api/v0/chat/completion"} -> challenge
    POST /api/v0/chat/completion            X-Ds-Pow-Response + body (2.4) -> text/event-stream
  Every call must carry the browser headers of section 2.2: Origin https://chat.deepseek.com, a
  Referer under https://chat.deepseek.com/, a browser User-Agent ("Mozilla/5.0 (..."),
  x-client-platform: web, non-empty x-app-version, x-client-version, x-client-locale, and
  Content-Type: application/json on POST.  Failures of these and of the PoW/body checks are
  JSON (never SSE) with HTTP reject_status (400) and {"code":N,"msg":...,"data":null}:
  40000 bad request/header, 40301 PoW, 40400 unknown/foreign/deleted session.  A delete of a
  session that is not the caller's answers HTTP 200, code 0, biz_code 40400.

PROOF OF WORK
  The mock picks a random salt, signature and answer < difficulty (or config pow_answer) and
  sets challenge = DeepSeekHashV1(salt_expireat_answer) (tests/mock/deepseek_pow.py).  The
  completion header must be Base64 of compact JSON with keys exactly algorithm, challenge, salt,
  answer (integer), signature, target_path; the challenge must be issued here, to the same
  user, unexpired and unused (single use: any attempt that names it consumes it).

STREAM (section 2.7)
  event ready {request_message_id, response_message_id[, model_type]}, event update_session,
  {"v":{"response":{... "fragments":[]}}}, a BATCH appending the first fragment, APPENDs to
  response/fragments/-1/content (path_style "last") or response/fragments/<i>/content ("index"),
  bare {"v":"..."} continuations, then the end (end_style "batch": BATCH status FINISHED +
  accumulated_token_usage; "set": BATCH accumulated_token_usage + quasi_status, then
  {"p":"response/status","o":"SET","v":"FINISHED"}; "none": nothing) and the events finish,
  update_session, title (first turn of a session), close.
  Reply: "You said: <last user turn of the flattened prompt, markers stripped>".  With
  thinking_enabled a THINK fragment (reasoning "Thinking about: <text>. ...", then a SET of its
  elapsed_secs) comes first; with search_enabled a SEARCH fragment (queries, a results SET, a
  summary appended to its content that a client must drop) comes before, and the reply ends
  with SEARCH_SUFFIX (which holds [citation:1] and [citation:2]).

CONTROL API
    GET  /_mock/state   requests{route:n}, responses{"route status":n}, users_current{userToken:n},
           bearers_issued{userToken:n}, sessions_created/sessions_deleted{userToken:n},
           sessions_live{userToken:n}, live_sessions{userToken:[ids]}, completions{userToken:n},
           completions_completed, completions_rejected, pow_issued/pow_ok/pow_failed,
           client_disconnects, server_aborts, stalls, rejections[{route,status,reason,user}],
           last_rejection, last_completion{headers, body, prompt, turns, last_user, markers,
           reply_text, reasoning_text, token_usage, events[], bytes, sha256, completed,
           chat_session_id, request_message_id, response_message_id, user}, last_pow,
           last_requests{route:{headers,body}}, recent[], users{userToken:{id,email,bearer,expired}}
    GET  /_mock/config  the configuration
    POST /_mock/config  merge a JSON object: keys of DEFAULT_CONFIG plus user_tokens,
                        add_user_tokens, expired_user_tokens, revoke_bearers, reset (true = the
                        start-up config first).  Unknown keys are refused with 400.
                        by_token {"<userToken>": {knob: value} | null} overrides knobs for one
                        user.  Fault statuses (users_current_status, session_create_status,
                        session_delete_status, pow_status, completion_status; values 401, 403,
                        429, 500, 502, 503, 40003 = the auth envelope, 200 = a JSON error with
                        HTTP 200) and close_after_events / stall_after_events take
                        <key>_times = N (fail N requests, then heal).
    POST /_mock/reset   reset counters; {"config":true} also restores the start-up config;
                        {"all":true} also forgets sessions, challenges and issued bearers

PER-REQUEST MARKERS (in the last user turn of the prompt; stripped from the echoed text)
    [[split:none|bytes|random|N]]  HTTP chunking of the stream (bytes: one byte per chunk,
                    cutting UTF-8 sequences and SSE lines)
    [[drip:MS]]  delay between SSE events      [[delay:MS]]  delay before the response head
    [[close:N]]  FIN after N events (no last chunk)   [[reset:N]]  TCP RST after N events
    [[stall:N]]  stop writing after N events, keep the connection open (stall_max_s)
    [[fail:CODE]]  401/403/429/500/502/503 JSON (429 with Retry-After), 40003 the auth
                    envelope, 200 a non-SSE JSON error body with HTTP 200
    [[cf:CODE]]  a Cloudflare HTML error page with status CODE (default 503)
    [[unicode]]  Chinese and emoji in the reply    [[long:N]]  N extra words in the reply
    [[path:last|index]]  [[end:batch|set|none]]  [[ascii]] \\uXXXX escapes  [[crlf]] CRLF ends
    [[error:event|hint|inline]]  an in-stream error (no FINISHED): "event" = half the answer,
                    then event: error {"error":{"message","code":"server_busy"}} and close;
                    "hint" = right after ready, event: hint {"type":"error", ...,
                    "finish_reason":"rate_limit_reached"} and close; "inline" = half the answer,
                    a data line {"code":40003,...}, then an APPEND the client must not show

Every rejection carries a header x-mock-reason and is recorded in /_mock/state.
"""

import base64
import copy
import gzip
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
from urllib.parse import urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deepseek_pow as dspow  # noqa: E402
import mockbase  # noqa: E402
from mockbase import Abort, ClientGone  # noqa: E402

# --------------------------------------------------------------------------- constants

DEFAULT_USER_TOKEN = "dsMockUserToken0001AbCdEfGhIjKlMnOpQrStUvWxYz0123456789+/AbCdEfGh"
OTHER_USER_TOKEN = "dsMockUserToken0002ZyXwVuTsRqPoNmLkJiHgFeDcBa9876543210+/ZyXwVuTs"
ORIGIN = "https://chat.deepseek.com"
API = "/api/v0"
AUTH_FAILED = {"code": 40003, "msg": "Authorization Failed (invalid token)", "data": None}
USER = "<\uff5cUser\uff5c>"
ASSISTANT = "<\uff5cAssistant\uff5c>"
EOS_RE = re.compile("<\uff5cend[\u2581 ]of[\u2581 ]sentence\uff5c>")
TAG_RE = re.compile("(<\uff5cUser\uff5c>|<\uff5cAssistant\uff5c>)")
MARKER_RE = re.compile(r"\[\[([a-z_]+)(?::([^\]]*))?\]\]")
TEXT_SIZES = (3, 5, 2, 7, 4, 6, 1, 8)       # code points per streamed piece (cycled)
UNICODE_TAIL = " — 你好，世界！😀🐋 深度求索 éè 🎉"   # multi-byte UTF-8 (3 and 4 bytes)
SEARCH_SUFFIX = " Mock search found this [citation:1] and that [citation:2]."
SEARCH_SUMMARY = "\u641c\u7d22\u5230 2 \u4e2a\u7f51\u9875"     # "found 2 web pages": must be dropped
HINT_RATE_LIMIT = {"type": "error", "content": "\u6d88\u606f\u53d1\u9001\u8fc7\u4e8e\u9891\u7e41\uff0c"
                   "\u8bf7\u7a0d\u540e\u518d\u8bd5", "clear_response": True,   # 消息发送过于频繁，请稍后再试
                   "finish_reason": "rate_limit_reached"}
STREAM_ERRORS = ("event", "hint", "inline")
MAX_BODY = 16 * 1024 * 1024
MAX_CHALLENGES = 10000

DEFAULT_CONFIG = {
    # credentials
    "auth_error_status": 200,            # HTTP status of the 40003 envelope (DeepSeek: 200)
    "rotate_bearer": False,              # a new bearer on every users/current (old ones stay valid)
    "bearer_ttl_s": None,                # bearers expire after this many seconds
    # verification
    "check_headers": True,               # section 2.2 browser headers on every call
    "reject_status": 400,                # HTTP status of header/PoW/body/session rejections
    "pow_required": True,
    "difficulty": 2000,
    "pow_answer": None,                  # fixed answer (>= difficulty: unsolvable); null = random
    "pow_algorithm": "DeepSeekHashV1",   # what create_pow_challenge announces
    "pow_expire_after_ms": 300000,
    "pow_bind_user": True,               # the challenge must be used by the user who asked for it
    "strict_parent": True,               # parent_message_id must be a reply id of the session
    # responses
    "session_shape": "new",              # new: biz_data.chat_session.id | old: biz_data.id
    "gzip": True,                        # gzip JSON bodies when the client accepts gzip
    # faults: status (0 = none) and <key>_times = N (null = every request)
    "users_current_status": 0, "users_current_status_times": None,
    "session_create_status": 0, "session_create_status_times": None,
    "session_delete_status": 0, "session_delete_status_times": None,
    "pow_status": 0, "pow_status_times": None,
    "completion_status": 0, "completion_status_times": None,
    "cf_html": False,                    # 502/503 faults answer a Cloudflare HTML page
    "retry_after": 30,                   # Retry-After of a 429
    "json200_body": {"code": 40310, "msg": "mock: upstream refused the request", "data": None},
    "delay_ms": 0,                       # delay before the completion response head
    "api_delay_ms": 0,                   # delay before the answer of the other endpoints
    # stream shape
    "path_style": "last",                # last: fragments/-1/content | index: fragments/<i>/content
    "end_style": "batch",                # batch | set | none
    "unicode": False,                    # Chinese and emoji appended to the reply
    "long_words": 0,
    "json_ascii": False,                 # \uXXXX escapes instead of raw UTF-8
    "crlf": False,
    "title": True,                       # title event on the first turn of a session
    "split": "none",                     # none | bytes | random | <int>
    "split_seed": 1,
    "random_split_max": 16,
    "drip_ms": 0,
    "close_after_events": None, "close_after_events_times": None,
    "close_mode": "fin",                 # fin | reset
    "stall_after_events": None, "stall_after_events_times": None,
    "stall_max_s": 300,
    "stream_error": None,                # null | event | hint | inline: end with an in-stream error
    # per-user overrides {"<userToken>": {knob: value}}
    "by_token": {},
}
FAULT_KEYS = ("users_current_status", "session_create_status", "session_delete_status",
              "pow_status", "completion_status")
HEALING_KEYS = FAULT_KEYS + ("close_after_events", "stall_after_events")   # take <key>_times
SPECIAL_CONFIG_KEYS = {"user_tokens", "add_user_tokens", "expired_user_tokens", "revoke_bearers", "reset"}
BODY_KEYS = {"chat_session_id", "prompt", "ref_file_ids", "search_enabled", "thinking_enabled",
             "model_type", "parent_message_id", "preempt", "client_stream_id"}


def envelope(biz_data, biz_code=0, biz_msg=""):
    return {"code": 0, "msg": "", "data": {"biz_code": biz_code, "biz_msg": biz_msg, "biz_data": biz_data}}


def error_body(code, msg):
    return {"code": code, "msg": msg, "data": None}


CF_5XX_HTML = """<!DOCTYPE html>
<html lang="en-US"><head><title>chat.deepseek.com | %d: %s</title><meta charset="UTF-8" /></head>
<body><div id="cf-wrapper"><div id="cf-error-details"><header><h1><span class="cf-error-type">Error</span>
<span class="cf-error-code">%d</span></h1><h2 class="cf-subheadline">%s</h2></header>
<div class="cf-error-footer"><p>Cloudflare Ray ID: <strong>%016x</strong></p></div></div></div></body></html>
"""


# --------------------------------------------------------------------------- prompt parsing

def parse_prompt(prompt):
    """Split a section 2.5 flattened prompt into turns [{role, text}] (role 'first' for the
    untagged first block) and return (turns, last user text)."""
    parts = TAG_RE.split(prompt)
    turns = []
    if parts[0]:
        turns.append({"role": "first", "text": parts[0]})
    for i in range(1, len(parts), 2):
        role = "user" if parts[i] == USER else "assistant"
        text = parts[i + 1]
        if role == "assistant":
            text = EOS_RE.sub("", text)
        turns.append({"role": role, "text": text})
    last = ""
    for t in turns:
        if t["role"] in ("first", "user"):
            last = t["text"]
    return turns, last


def chunk_text(text):
    """Split text into pieces of a few code points (never inside a code point)."""
    out, i, k = [], 0, 0
    while i < len(text):
        n = TEXT_SIZES[k % len(TEXT_SIZES)]
        out.append(text[i:i + n])
        i += n
        k += 1
    return out


# --------------------------------------------------------------------------- state

def _user_record(token, n):
    return {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, "deepseek-mock-user:" + token)),
            "email": "mock-user-%d@example.com" % n, "name": "mock user %d" % n,
            "bearer": None, "expired": False}


class MockState:
    # What another provider's mock that subclasses this one replaces.  A mock
    # that borrows take/effective without subclassing (qwenai_mock) has none of
    # these: the getattr() defaults then read its own module's constants.
    DEFAULTS, HEALING, OVERRIDES = DEFAULT_CONFIG, HEALING_KEYS, "by_token"

    def __init__(self, user_tokens=(), config=None):
        self.lock = threading.RLock()
        self.config = copy.deepcopy(DEFAULT_CONFIG)
        self.users = {}                 # userToken -> record
        self.bearers = {}               # bearer -> {user, issued, revoked}
        self.sessions = {}              # session id -> {owner, live, next_id, replies, turns}
        self.challenges = {}            # challenge hex -> record
        for t in (DEFAULT_USER_TOKEN, OTHER_USER_TOKEN) + tuple(user_tokens):
            self._add_user(t)
        self.reset_counters()
        if config:
            self.configure(config)
        self.base_config = copy.deepcopy(self.config)
        self.base_users = {t for t, u in self.users.items() if not u["expired"]}

    def restore_config(self):
        """Back to the start-up configuration and set of valid userTokens."""
        with self.lock:
            self.config = copy.deepcopy(self.base_config)
            for t in self.base_users:
                self._add_user(t)
            for t, u in self.users.items():
                u["expired"] = t not in self.base_users

    def _add_user(self, token):
        if not isinstance(token, str) or not token:
            raise ValueError("a user token must be a non-empty string")
        if token not in self.users:
            self.users[token] = _user_record(token, len(self.users) + 1)
        self.users[token]["expired"] = False

    def reset_counters(self):
        with self.lock:
            self.c = {"requests": {}, "responses": {}, "users_current": {}, "bearers_issued": {},
                      "sessions_created": {}, "sessions_deleted": {}, "completions": {},
                      "completions_completed": 0, "completions_rejected": 0,
                      "pow_issued": 0, "pow_ok": 0, "pow_failed": 0,
                      "client_disconnects": 0, "server_aborts": 0, "stalls": 0}
            self.last = {"completion": None, "rejection": None, "pow": None, "disconnect": None}
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
            if route == "completion":
                self.c["completions_rejected"] += 1

    # ---- credentials
    def issue_bearer(self, token):
        """The bearer for userToken token (a new one when none is valid or rotate_bearer)."""
        with self.lock:
            u = self.users[token]
            b = u["bearer"]
            rec = self.bearers.get(b)
            if b is None or rec["revoked"] or self.config["rotate_bearer"] or self._bearer_expired(rec):
                b = "dsb-" + secrets.token_urlsafe(36)
                self.bearers[b] = {"user": token, "issued": time.time(), "revoked": False}
                u["bearer"] = b
                self.bump("bearers_issued", token)
            return b

    def _bearer_expired(self, rec):
        ttl = self.config.get("bearer_ttl_s")
        return ttl is not None and time.time() - rec["issued"] > float(ttl)

    def bearer_user(self, bearer):
        """(userToken, None) for a valid bearer, else (userToken or None, reason)."""
        with self.lock:
            if bearer in self.users:
                return None, "the userToken was sent as bearer (call users/current first)"
            rec = self.bearers.get(bearer)
            if rec is None:
                return None, "unknown bearer"
            if rec["revoked"]:
                return rec["user"], "revoked bearer"
            if self._bearer_expired(rec):
                return rec["user"], "bearer older than bearer_ttl_s"
            u = self.users.get(rec["user"])
            if u is None or u["expired"]:
                return rec["user"], "bearer of an expired or removed user"
            return rec["user"], None

    # ---- configuration
    def configure(self, obj):
        if not isinstance(obj, dict):
            raise ValueError("config must be a JSON object")
        with self.lock:
            for k in obj:
                if k not in DEFAULT_CONFIG and k not in SPECIAL_CONFIG_KEYS:
                    raise ValueError("unknown config key %r" % k)
            if obj.get("reset") and hasattr(self, "base_config"):
                self.restore_config()
            for k, v in obj.items():
                if k == "reset":
                    continue
                if k in ("user_tokens", "add_user_tokens", "expired_user_tokens"):
                    if not isinstance(v, list):
                        raise ValueError("%s must be a list of strings" % k)
                    if k == "user_tokens":
                        for t in list(self.users):
                            if t not in v:
                                self.users[t]["expired"] = True     # removed: bearers die too
                    for t in v:
                        self._add_user(t)
                        if k == "expired_user_tokens":
                            self.users[t]["expired"] = True
                elif k == "revoke_bearers":
                    who = list(self.users) if v is True else (v or [])
                    for rec in self.bearers.values():
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
            c["user_tokens"] = sorted(t for t, u in self.users.items() if not u["expired"])
            c["expired_user_tokens"] = sorted(t for t, u in self.users.items() if u["expired"])
            return c

    def effective(self, user):
        with self.lock:
            cfg = copy.deepcopy(self.config)
            over = self.config[getattr(self, "OVERRIDES", "by_token")].get(user)
            cfg.update(copy.deepcopy(over or {}))
            return cfg

    def take(self, key, user):
        """Value of a healing knob for this user (0/None = off); consumes one of <key>_times."""
        defaults = getattr(self, "DEFAULTS", DEFAULT_CONFIG)
        assert key in getattr(self, "HEALING", HEALING_KEYS), key
        with self.lock:
            overrides = self.config[getattr(self, "OVERRIDES", "by_token")].get(user)
            return mockbase.take_healing((overrides, self.config), key, defaults[key])

    # ---- sessions
    def live_sessions(self):
        with self.lock:
            out = {}
            for sid, s in self.sessions.items():
                if s["live"]:
                    out.setdefault(s["owner"], []).append(sid)
            return out

    def snapshot(self):
        with self.lock:
            s = copy.deepcopy(self.c)
            live = self.live_sessions()
            s["live_sessions"] = live
            s["sessions_live"] = {u: len(v) for u, v in live.items()}
            for k in ("completion", "rejection", "pow", "disconnect"):
                s["last_" + k] = copy.deepcopy(self.last[k])
            s["last_requests"] = copy.deepcopy(self.last_requests)
            s["rejections"] = copy.deepcopy(self.rejections)
            s["recent"] = copy.deepcopy(self.recent)
            s["users"] = {t: {k: u[k] for k in ("id", "email", "bearer", "expired")}
                          for t, u in self.users.items()}
            s["challenges_outstanding"] = sum(1 for c in self.challenges.values() if not c["used"])
            s["session_turns"] = {sid: v["turns"] for sid, v in self.sessions.items()}
            return s


# --------------------------------------------------------------------------- stream building

class StreamBuilder:
    """Builds the section 2.7 event list of one completion."""

    def __init__(self, path_style, ascii_, crlf):
        self.events, self.frags = [], []
        self.path_style, self.ascii, self.nl = path_style, ascii_, "\r\n" if crlf else "\n"

    def ev(self, obj, name=None):
        data = obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=self.ascii,
                                                           separators=(",", ":"))
        head = "event: %s%s" % (name, self.nl) if name else ""
        self.events.append((head + "data: " + data + self.nl + self.nl).encode("utf-8"))

    def frag_path(self, field="content"):
        idx = "-1" if self.path_style == "last" else str(len(self.frags) - 1)
        return "response/fragments/%s/%s" % (idx, field)

    def fragment(self, ftype, text, **extra):
        """Append a fragment whose content starts with the first piece of text, then stream
        the rest: one explicit APPEND, then bare {"v": ...} continuations."""
        pieces = chunk_text(text)
        frag = {"id": len(self.frags) + 1, "type": ftype, "content": pieces[0] if pieces else "",
                "references": [], "stage_id": 1}
        frag.update(extra)
        self.frags.append(frag)
        if len(self.frags) == 1:
            self.ev({"v": [{"v": False, "p": "has_pending_fragment"},
                           {"v": [frag], "p": "fragments", "o": "APPEND"}], "p": "response", "o": "BATCH"})
        else:
            self.ev({"v": [frag], "p": "response/fragments", "o": "APPEND"})
        self.append_text(pieces[1:])

    def append_text(self, pieces):
        for i, piece in enumerate(pieces):
            self.ev({"v": piece, "p": self.frag_path(), "o": "APPEND"} if i == 0 else {"v": piece})


def build_stream(sb, req, resp_id, user_text, cfg, markers, first_turn, history=""):
    """Fill sb with the events; returns (reply_text, reasoning_text, token_usage).  history:
    the earlier turns of a continued chat session."""
    reply = mockbase.tool_reply(mockbase.prompt_text(req), markers, cfg, history) or \
        mockbase.structured_reply(mockbase.prompt_text(req), markers) or "You said: " + user_text
    if "unicode" in markers or cfg.get("unicode"):
        reply += UNICODE_TAIL
    words = int(markers.get("long") or cfg.get("long_words") or 0)
    if words:
        reply += "".join(" word%d" % i for i in range(1, words + 1))
    if req["search_enabled"]:
        reply += SEARCH_SUFFIX
    reasoning = ""
    if req["thinking_enabled"]:
        reasoning = "Thinking about: %s. The user wants an echo, so I will echo it." % user_text
    usage = 7 + len(req["prompt"]) // 4 + len(reply) // 4 + len(reasoning) // 4
    now = time.time()
    ready = {"request_message_id": resp_id - 1, "response_message_id": resp_id}
    if req.get("model_type") is not None:
        ready["model_type"] = req["model_type"]
    sb.ev(ready, "ready")
    sb.ev({"updated_at": round(now, 6)}, "update_session")
    if (markers.get("error") or cfg.get("stream_error")) == "hint":
        return stream_error(sb, "hint", reply, "")
    sb.ev({"v": {"response": {
        "message_id": resp_id, "parent_id": resp_id - 1, "model": "", "role": "ASSISTANT",
        "thinking_enabled": req["thinking_enabled"], "ban_edit": False, "ban_regenerate": False,
        "status": "WIP", "accumulated_token_usage": None, "files": [], "feedback": None,
        "inserted_at": round(now, 3), "search_enabled": req["search_enabled"], "fragments": [],
        "has_pending_fragment": True, "auto_continue": False}}})
    if req["search_enabled"]:
        sb.fragment("SEARCH", "", queries=[{"query": user_text or "mock"}], results=[])
        sb.ev({"v": [{"url": "https://example.com/one", "title": "Mock result one",
                      "snippet": "The first mock result.", "site_name": "Example One", "cite_index": 1,
                      "published_at": None, "site_icon": ""},
                     {"url": "https://example.org/two", "title": "\u7ed3\u679c\u4e8c two",
                      "snippet": "The second mock result.", "site_name": "Example Two", "cite_index": 2,
                      "published_at": None, "site_icon": ""}],
               "p": sb.frag_path("results"), "o": "SET"})
        sb.append_text(chunk_text(SEARCH_SUMMARY))
    if reasoning:
        sb.fragment("THINK", reasoning, elapsed_secs=None)
        sb.ev({"v": 1.25, "p": sb.frag_path("elapsed_secs"), "o": "SET"})
    err = markers.get("error") or cfg.get("stream_error")
    if err:
        return stream_error(sb, err, reply, reasoning)
    sb.fragment("RESPONSE", reply)
    end = markers.get("end") or cfg.get("end_style") or "batch"
    if end == "batch":
        sb.ev({"v": [{"v": "FINISHED", "p": "status"}, {"v": usage, "p": "accumulated_token_usage"}],
               "p": "response", "o": "BATCH"})
    elif end == "set":
        sb.ev({"v": [{"v": usage, "p": "accumulated_token_usage"}, {"v": "FINISHED", "p": "quasi_status"}],
               "p": "response", "o": "BATCH"})
        sb.ev({"p": "response/status", "o": "SET", "v": "FINISHED"})
    if end != "none":
        sb.ev({}, "finish")
        sb.ev({"updated_at": round(time.time(), 6)}, "update_session")
        if first_turn and cfg.get("title", True):
            sb.ev({"content": (user_text or "New chat")[:24]}, "title")
        sb.ev({"click_behavior": "none", "auto_resume": False}, "close")
    return reply, reasoning, usage


def stream_error(sb, kind, reply, reasoning):
    """End the stream with an in-stream error after part of the answer (STREAM_ERRORS);
    returns (answer text sent, reasoning sent, None)."""
    if kind == "hint":                  # before any content: a rate-limit hint, then close
        sb.ev(HINT_RATE_LIMIT, "hint")
        sb.ev({"click_behavior": "none", "auto_resume": False}, "close")
        return "", "", None
    pieces = chunk_text(reply)
    partial = "".join(pieces[:max(1, len(pieces) // 2)])
    sb.fragment("RESPONSE", partial)
    if kind == "inline":                # an error object as a data line, then text to ignore
        sb.ev(AUTH_FAILED)
        sb.ev({"v": " never seen", "p": sb.frag_path(), "o": "APPEND"})
    else:                               # "event"
        sb.ev({"error": {"message": "Internal error", "code": "server_busy"}}, "error")
        sb.ev({"click_behavior": "none", "auto_resume": False}, "close")
    return partial, reasoning, None


# --------------------------------------------------------------------------- HTTP handler

class Handler(mockbase.Handler):
    server_version = "cloudflare"
    sys_version = ""
    label = "deepseek-mock"

    @property
    def st(self):
        return self.server.mock.state

    def version_string(self):
        return "cloudflare"

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")

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
        return mockbase.accepts_coding(self.headers.get("Accept-Encoding"), "gzip")

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

    def _bad(self, code, msg, reason):
        return self._reject(int(self._cfg.get("reject_status") or 400), error_body(code, msg), reason)

    def _auth_failed(self, reason):
        return self._reject(int(self._cfg.get("auth_error_status") or 200), AUTH_FAILED, reason)

    def _fault(self, status, route):
        """Answer an injected fault status with a realistic body."""
        status = int(status)
        reason = "injected status %d on %s" % (status, route)
        if status == 40003:
            return self._auth_failed(reason)
        if status == 200:
            return self._reject(200, self._cfg.get("json200_body") or error_body(40310, "error"), reason)
        if status in (502, 503, 504) and self._cfg.get("cf_html"):
            return self._cf_page(status, reason)
        if status == 429:
            return self._reject(429, error_body(42900, "Too Many Requests"), reason,
                                headers=[("Retry-After", str(self._cfg.get("retry_after", 30)))])
        msgs = {401: (40003, "Authorization Failed (invalid token)"), 403: (40300, "Forbidden"),
                404: (40400, "Not Found"), 500: (50000, "Internal Server Error"),
                502: (50200, "Bad Gateway"), 503: (50300, "Service Unavailable")}
        code, msg = msgs.get(status, (status * 100, "Error %d" % status))
        return self._reject(status, error_body(code, msg), reason)

    def _cf_page(self, status, reason):
        title = {502: "Bad gateway", 503: "Service unavailable", 504: "Gateway time-out",
                 403: "Access denied"}.get(status, "Error")
        html = CF_5XX_HTML % (status, title, status, title, random.getrandbits(64))
        return self._reject(status, html, reason, "text/html; charset=UTF-8")

    # ---------------------------------------------------------------- dispatch
    def _error_doc(self, status, msg):
        """The body of the dispatcher's own errors (400, 404, 500)."""
        return error_body(status * 100, msg)

    def _request_record(self):
        """What last_requests keeps of a request; a mock may add to it."""
        return {"headers": {k.lower(): v for k, v in self.headers.items()},
                "body": self.body.decode("utf-8", "replace")[:20000]}

    def _dispatch(self, method):
        self._recorded, self._route, self._user = False, "unknown", None
        self._cfg = self.st.effective(None)
        self._gzip = False
        self._path = urlsplit(self.path).path
        try:
            self.body = self._read_body()
        except Exception as e:
            self.close_connection = True
            self._json(413 if isinstance(e, OverflowError) else 400, self._error_doc(400, "bad request body"))
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
                self.st.last_requests[self._route] = self._request_record()
        try:
            if func is None:
                self._json(405 if self._route == "method_not_allowed" else 404, self._error_doc(404, "Not Found"))
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
                    self._json(500, self._error_doc(500, "mock internal error: %r" % (e,)))
                except OSError:
                    pass
        finally:
            self._mark_status(0)

    # ---------------------------------------------------------------- common checks
    def _browser_headers(self):
        """Section 2.2; returns a rejection reason or None."""
        h = self.headers
        if h.get("Origin") != ORIGIN:
            return "Origin is %r, not %s" % (h.get("Origin"), ORIGIN)
        if not (h.get("Referer") or "").startswith(ORIGIN + "/"):
            return "Referer %r is not under %s/" % (h.get("Referer"), ORIGIN)
        if not (h.get("User-Agent") or "").startswith("Mozilla/5.0 ("):
            return "User-Agent %r is not a browser's" % h.get("User-Agent")
        if h.get("x-client-platform") != "web":
            return "x-client-platform is %r, not web" % h.get("x-client-platform")
        for name in ("x-app-version", "x-client-version", "x-client-locale"):
            if not (h.get(name) or "").strip():
                return "no %s header" % name
        if self.command == "POST":
            ct = (h.get("Content-Type") or "").split(";")[0].strip().lower()
            if ct != "application/json":
                return "Content-Type is %r, not application/json" % h.get("Content-Type")
        return None

    def _gate(self, fault_key, user_token=False):
        """Headers, credential, fault knob.  Returns the userToken of the caller or None
        after answering.  user_token: the credential is a userToken (users/current)."""
        st = self.st
        m = re.fullmatch(r"Bearer (\S+)", (self.headers.get("Authorization") or "").strip())
        tok = m.group(1) if m else None
        if user_token and tok:
            st.bump("users_current", tok)
        if st.config.get("check_headers", True):
            reason = self._browser_headers()
            if reason:
                return self._bad(40000, "Bad Request", reason)
        if tok is None:
            return self._auth_failed("no 'Authorization: Bearer <token>' header")
        if user_token:
            with st.lock:
                u = st.users.get(tok)
                reason = "unknown userToken" if u is None else "expired userToken" if u["expired"] else None
            user = tok if u is not None else None
        else:
            user, reason = st.bearer_user(tok)
        self._user = user
        self._cfg = st.effective(user)
        if reason:
            return self._auth_failed(reason)
        self._gzip = self._gzip and self._cfg.get("gzip", True)
        f = st.take(fault_key, user) if fault_key != "completion" else 0
        if f:
            return self._fault(f, self._route)
        delay = self._cfg.get("api_delay_ms") if fault_key != "completion" else 0
        if delay:
            self._wait(float(delay) / 1000.0)
        return user

    def _json_body(self):
        try:
            body = json.loads(self.body.decode("utf-8"))
        except Exception:
            return self._bad(40000, "Bad Request", "body is not JSON"), False
        if not isinstance(body, dict):
            return self._bad(40000, "Bad Request", "body is not a JSON object"), False
        return body, True

    def _session_of(self, sid, user):
        """The live session sid owned by user, or (None, reason)."""
        with self.st.lock:
            s = self.st.sessions.get(sid) if isinstance(sid, str) else None
            if s is None:
                return None, "unknown chat_session_id %r" % (sid,)
            if s["owner"] != user:
                return None, "chat_session_id %s belongs to another user" % sid
            if not s["live"]:
                return None, "chat_session_id %s was deleted" % sid
            return s, None

    # ---------------------------------------------------------------- endpoints
    def h_users_current(self):
        user = self._gate("users_current_status", user_token=True)
        if user is None:
            return
        u = self.st.users[user]
        bearer = self.st.issue_bearer(user)
        self._json(200, envelope({
            "id": u["id"], "token": bearer, "email": u["email"], "mobile_number": None,
            "area_code": None, "status": 0,
            "id_profile": {"provider": "EMAIL", "id": u["id"], "name": u["name"], "picture": "",
                           "locale": "zh_CN", "email": u["email"]},
            "id_profiles": [], "chat": {"is_muted": 0, "mute_until": 0},
            "has_legacy_chat_history": False, "need_birthday": False}))

    def h_session_create(self):
        user = self._gate("session_create_status")
        if user is None:
            return
        body, ok = self._json_body()
        if not ok:
            return
        extra = set(body) - {"character_id"}
        if extra or body.get("character_id") is not None:
            return self._bad(40000, "Bad Request", "session create body must be {} or "
                             "{\"character_id\":null}, got keys %s" % sorted(body))
        sid = str(uuid.uuid4())
        now = time.time()
        st = self.st
        with st.lock:
            st.sessions[sid] = {"owner": user, "live": True, "next_id": 1, "replies": [], "turns": 0,
                                "seen": []}
            st.bump("sessions_created", user)
            seq = sum(st.c["sessions_created"].values())
        sess = {"id": sid, "seq_id": seq, "agent": "chat", "character": None, "title": None,
                "title_type": None, "version": 0, "current_message_id": None, "pinned": False,
                "inserted_at": round(now, 3), "updated_at": round(now, 3), "model_type": "default"}
        if self._cfg.get("session_shape") == "old":
            self._json(200, envelope(sess))
        else:
            self._json(200, envelope({"chat_session": sess, "ttl_seconds": 259200, "model_type": "default"}))

    def h_session_delete(self):
        user = self._gate("session_delete_status")
        if user is None:
            return
        body, ok = self._json_body()
        if not ok:
            return
        sid = body.get("chat_session_id")
        with self.st.lock:
            s, reason = self._session_of(sid, user)
            if s is not None:
                s["live"] = False
                self.st.bump("sessions_deleted", user)
        if reason:
            self.st.record_rejection(self._route, 200, reason, user)
            return self._json(200, envelope(None, 40400, "chat session not found"),
                              [("x-mock-reason", reason.encode("ascii", "replace").decode("ascii"))])
        self._json(200, envelope(None))

    def h_session_delete_all(self):
        user = self._gate("session_delete_status")
        if user is None:
            return
        body, ok = self._json_body()
        if not ok:
            return
        if body:
            return self._bad(40000, "Bad Request", "delete_all body must be {}")
        with self.st.lock:
            for s in self.st.sessions.values():
                if s["owner"] == user and s["live"]:
                    s["live"] = False
                    self.st.bump("sessions_deleted", user)
        self._json(200, envelope(None))

    def h_pow(self):
        user = self._gate("pow_status")
        if user is None:
            return
        body, ok = self._json_body()
        if not ok:
            return
        if body != {"target_path": dspow.TARGET_PATH}:
            return self._bad(40000, "Bad Request", "create_pow_challenge body must be "
                             "{\"target_path\":\"%s\"}" % dspow.TARGET_PATH)
        cfg = self._cfg
        difficulty = int(cfg.get("difficulty") or 1)
        answer = cfg.get("pow_answer")
        answer = random.randrange(difficulty) if answer is None else int(answer)
        expire_after = int(cfg.get("pow_expire_after_ms") or 300000)
        expire_at = int(time.time() * 1000) + expire_after
        salt = secrets.token_hex(10)
        challenge = dspow.ds_hash_hex(dspow.prefix(salt, expire_at) + str(answer))
        ch = {"algorithm": cfg.get("pow_algorithm") or dspow.ALGORITHM, "challenge": challenge,
              "salt": salt, "signature": secrets.token_hex(32), "difficulty": difficulty,
              "expire_at": expire_at, "expire_after": expire_after, "target_path": dspow.TARGET_PATH}
        st = self.st
        with st.lock:
            st.challenges[challenge] = dict(ch, answer=answer, user=user, used=False)
            while len(st.challenges) > MAX_CHALLENGES:
                del st.challenges[next(iter(st.challenges))]
            st.c["pow_issued"] += 1
        self._json(200, envelope({"challenge": ch}))

    def _check_pow(self, user):
        """Verify X-Ds-Pow-Response; returns (challenge record, None) or (None, reason)."""
        raw = self.headers.get("X-Ds-Pow-Response")
        if not raw:
            return None, "no X-Ds-Pow-Response header"
        try:
            text = base64.b64decode(raw.strip(), validate=True).decode("utf-8")
            obj = json.loads(text)
        except Exception:
            return None, "X-Ds-Pow-Response is not standard Base64 of UTF-8 JSON"
        if not isinstance(obj, dict):
            return None, "PoW response is not a JSON object"
        if list(obj) != list(dspow.RESPONSE_KEYS):
            return None, "PoW response keys are %s, want exactly %s in this order" % (
                list(obj), list(dspow.RESPONSE_KEYS))
        if text != json.dumps(obj, separators=(",", ":"), ensure_ascii=False):
            return None, "PoW response JSON is not compact"
        ans = obj["answer"]
        if not isinstance(ans, int) or isinstance(ans, bool):
            return None, "PoW answer %r is not a JSON integer" % (ans,)
        if obj["algorithm"] != dspow.ALGORITHM:
            return None, "PoW algorithm %r" % (obj["algorithm"],)
        if obj["target_path"] != dspow.TARGET_PATH:
            return None, "PoW target_path %r" % (obj["target_path"],)
        key = obj["challenge"].lower() if isinstance(obj["challenge"], str) else None
        st = self.st
        with st.lock:
            ch = st.challenges.get(key)
            if ch is None:
                return None, "PoW challenge was not issued by this server"
            if ch["used"]:
                return None, "PoW challenge already used"
            ch["used"] = True
        if self._cfg.get("pow_bind_user", True) and ch["user"] != user:
            return None, "PoW challenge was issued to another user"
        if obj["salt"] != ch["salt"]:
            return None, "PoW salt differs from the issued one"
        if obj["signature"] != ch["signature"]:
            return None, "PoW signature differs from the issued one"
        if time.time() * 1000 > ch["expire_at"]:
            return None, "PoW challenge expired"
        if not 0 <= ans < ch["difficulty"]:
            return None, "PoW answer %d outside [0, difficulty)" % ans
        if dspow.ds_hash_hex(dspow.prefix(ch["salt"], ch["expire_at"]) + str(ans)) != key:
            return None, "PoW answer %d is wrong" % ans
        return ch, None

    def _check_body(self, body, user):
        """Section 2.4; returns (session, None) or (None, (code, reason))."""
        sid = body.get("chat_session_id")
        if not isinstance(sid, str) or not sid:
            return None, (40000, "chat_session_id missing or not a string")
        p = body.get("prompt")
        if not isinstance(p, str) or not p.strip():
            return None, (40000, "prompt missing, empty or not a string")
        if not isinstance(body.get("ref_file_ids"), list) or \
                not all(isinstance(x, str) for x in body["ref_file_ids"]):
            return None, (40000, "ref_file_ids missing or not an array of strings")
        for k in ("search_enabled", "thinking_enabled"):
            if not isinstance(body.get(k), bool):
                return None, (40000, "%s missing or not a boolean" % k)
        if body.get("model_type") not in (None, "default", "expert"):
            return None, (40000, "model_type %r not default/expert/null" % (body["model_type"],))
        pm = body.get("parent_message_id")
        if pm is not None and (not isinstance(pm, int) or isinstance(pm, bool)):
            return None, (40000, "parent_message_id %r is not null or an integer" % (pm,))
        if "preempt" in body and not isinstance(body["preempt"], bool):
            return None, (40000, "preempt is not a boolean")
        if "client_stream_id" in body and not isinstance(body["client_stream_id"], (str, type(None))):
            return None, (40000, "client_stream_id is not a string")
        s, reason = self._session_of(sid, user)
        if s is None:
            return None, (40400, reason)
        if pm is not None and self._cfg.get("strict_parent", True) and pm not in s["replies"]:
            return None, (40000, "parent_message_id %d is not a reply in session %s" % (pm, sid))
        # a continued chat has the earlier turns upstream: only the new one may come again
        if pm is not None:
            for old in s.get("seen", []):
                if old and old in p:
                    return None, (40000, "mock: the continued chat resent an earlier turn %r" % old[:60])
        elif s["turns"] > 0:
            return None, (40000, "mock: a second completion in session %s without parent_message_id" % sid)
        return s, None

    def h_completion(self):
        st = self.st
        user = self._gate("completion")
        if user is None:
            return
        cfg = self._cfg
        body, ok = self._json_body()
        if not ok:
            return
        pow_rec = None
        if cfg.get("pow_required", True):
            pow_rec, reason = self._check_pow(user)
            with st.lock:
                st.c["pow_ok" if pow_rec else "pow_failed"] += 1
                st.last["pow"] = {"ok": bool(pow_rec), "reason": reason,
                                  "header": self.headers.get("X-Ds-Pow-Response")}
            if reason:
                return self._bad(40301, "INVALID_POW_RESPONSE", reason)
        sess, err = self._check_body(body, user)
        if err:
            return self._bad(err[0], "Bad Request" if err[0] == 40000 else "CHAT_SESSION_NOT_FOUND", err[1])
        turns, last_user = parse_prompt(body["prompt"])
        markers = {m.group(1): m.group(2) or "" for m in MARKER_RE.finditer(last_user)}
        user_text = MARKER_RE.sub("", last_user).strip()
        try:
            if "cf" in markers:
                return self._cf_page(int(markers["cf"] or 503), "cloudflare page (marker)")
            if "fail" in markers:
                return self._fault(int(markers["fail"]), "completion")
        except ValueError:
            return self._bad(40000, "Bad Request", "mock: bad marker value in %r" % last_user)
        if (markers.get("error") or cfg.get("stream_error") or "event") not in STREAM_ERRORS:
            return self._bad(40000, "Bad Request", "mock: stream error kind not in %s" % (STREAM_ERRORS,))
        f = st.take("completion_status", user)
        if f:
            return self._fault(f, "completion")
        delay = markers.get("delay") or cfg.get("delay_ms")
        if delay:
            self._wait(float(delay) / 1000.0)
        with st.lock:
            first_turn = sess["turns"] == 0
            sess["turns"] += 1
            sess.setdefault("seen", []).append(user_text)
            history = "\n".join(sess.setdefault("transcript", []))
            if body.get("parent_message_id") is not None:
                st.bump("continued_completions", user)
            resp_id = sess["next_id"] + 1
            sess["next_id"] += 2
            sess["replies"].append(resp_id)
        sb = StreamBuilder(markers.get("path") or cfg.get("path_style") or "last",
                           "ascii" in markers or bool(cfg.get("json_ascii")),
                           "crlf" in markers or bool(cfg.get("crlf")))
        reply, reasoning, usage = build_stream(sb, body, resp_id, user_text, cfg, markers, first_turn,
                                               history)
        with st.lock:
            sess["transcript"] += [body["prompt"], reply]
        blob = b"".join(sb.events)
        with st.lock:
            st.bump("completions", user)
            st.last["completion"] = {
                "t": round(time.time(), 3), "user": user,
                "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body,
                "prompt": body["prompt"], "turns": turns, "last_user": last_user, "user_text": user_text,
                "markers": markers, "stream_error": markers.get("error") or cfg.get("stream_error"),
                "reply_text": reply, "reasoning_text": reasoning, "token_usage": usage,
                "chat_session_id": body["chat_session_id"], "request_message_id": resp_id - 1,
                "response_message_id": resp_id, "events": [e.decode("utf-8") for e in sb.events],
                "bytes": len(blob), "sha256": hashlib.sha256(blob).hexdigest(), "completed": False,
                "unknown_body_keys": sorted(set(body) - BODY_KEYS),
                "pow_challenge": pow_rec and pow_rec["challenge"]}
            lc = st.last["completion"]
        self._write_stream(sb.events, cfg, markers, lc, user)

    # ---------------------------------------------------------------- the stream writer
    def _write_stream(self, events, cfg, markers, lc, user):
        st = self.st
        close_ev, close_mode = st.take("close_after_events", user), cfg.get("close_mode", "fin")
        if "close" in markers:
            close_ev, close_mode = int(markers["close"] or 1), "fin"
        if "reset" in markers:
            close_ev, close_mode = int(markers["reset"] or 1), "reset"
        stall_ev = st.take("stall_after_events", user)
        if "stall" in markers:
            stall_ev = int(markers["stall"] or 1)

        def done():                     # before the last chunk: the client sees it done
            with st.lock:
                st.c["completions_completed"] += 1
                lc["completed"] = True
        self._mark_status(200)
        how, info = self.write_events(
            events, markers.get("split") or cfg.get("split"), cfg.get("split_seed", 1),
            cfg.get("random_split_max", 16),
            float(markers.get("drip") or cfg.get("drip_ms") or 0) / 1000.0, close_ev,
            close_mode, stall_ev, float(cfg.get("stall_max_s", 300)), lambda: st.bump("stalls"),
            done, headers=[("X-Accel-Buffering", "no")])
        with st.lock:
            if how == "gone":
                st.c["client_disconnects"] += 1
                st.last["disconnect"] = {"t": round(time.time(), 3),
                                         "bytes_written": info["bytes_written"],
                                         "events_started": info["event"],
                                         "reason": info["reason"]}
            elif how == "aborted":
                st.c["server_aborts"] += 1

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


ROUTES = [
    ("GET", API + "/users/current", "users_current"),
    ("POST", API + "/chat_session/create", "session_create"),
    ("POST", API + "/chat_session/delete", "session_delete"),
    ("POST", API + "/chat_session/delete_all", "session_delete_all"),
    ("POST", API + "/chat/create_pow_challenge", "pow"),
    ("POST", API + "/chat/completion", "completion"),
    ("GET", "/_mock/state", "mock_state"),
    ("GET", "/_mock/config", "mock_config_get"),
    ("POST", "/_mock/config", "mock_config"),
    ("POST", "/_mock/reset", "mock_reset"),
]
Handler.ROUTES = ROUTES


# --------------------------------------------------------------------------- server object

class DeepSeekMock(mockbase.LoopbackMock):
    """The mock as an object: DeepSeekMock(port=0).start() ... .stop()."""

    def __init__(self, host="127.0.0.1", port=0, user_tokens=(), config=None, verbose=False):
        self.state = MockState(user_tokens, config)
        super().__init__(Handler, host, port, verbose, "deepseek-mock")

    def reset(self, config=False, all=False):
        st = self.state
        with st.lock:
            st.reset_counters()
            if config:
                st.restore_config()
            if all:
                st.sessions.clear()
                st.challenges.clear()
                st.bearers.clear()
                for u in st.users.values():
                    u["bearer"] = None

    def bearer(self, user_token=DEFAULT_USER_TOKEN):
        """The bearer users/current would return (without counting a users/current call)."""
        return self.state.issue_bearer(user_token)


# --------------------------------------------------------------------------- CLI

def main(argv=None):
    ap = mockbase.cli_parser("Loopback mock of the DeepSeek web backend")
    ap.add_argument("--user-token", action="append", default=[], help="extra known userToken")
    a = ap.parse_args(argv)
    mock = DeepSeekMock(a.host, a.port, a.user_token, a.config, a.verbose)
    return mockbase.serve_cli(mock, a.port_file, "deepseek mock listening on %s\n  userToken %s"
                              % (mock.url, DEFAULT_USER_TOKEN))


if __name__ == "__main__":
    sys.exit(main())
