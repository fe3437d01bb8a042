#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""Loopback mock of the Kimi web backend (www.kimi.com, Connect-RPC) for chat2api tests.

Python 3 standard library only.  It speaks the protocol of shared/protocols/providers.md
section 4 (credential 4.1, chat request 4.2, prompt 4.3, stream 4.4, other endpoints 4.5) and
*checks* what the real server checks, so that a client bug makes a test fail.  Point
KIMI_BASE_URL at its URL.  The HTTP plumbing (body reading, waits that notice a client gone,
chunked writes, RST, the control API handlers) is deepseek_mock's, inherited; the wire
format (envelopes, the prompt's last turn, the stream an answer gets) is kimi_wire.py.

RUN
    python3 tests/mock/kimi_mock.py --port 0 --port-file /tmp/p [--config '{...}'] [--verbose]
  prints the users' refresh tokens; SIGTERM/SIGINT stop it.

IN PROCESS
    from kimi_mock import KimiMock
    m = KimiMock().start()    # m.url, m.refresh_token("u1"), m.access_token("u1", ttl),
    ...                       # m.configure({...}), m.snapshot(), m.reset(config=False, all=False)
    m.stop()

CREDENTIALS (4.1)
  Users u1, u2, u3 (config "users" adds more): each has an id (the JWT "sub"), a device_id, a
  session id (ssid) and a name.  Tokens are JWTs signed HS256 with config jwt_secret, payload
  {app_id:"kimi", typ:"access"|"refresh", sub, device_id, ssid, iat, exp, jti}.  Every JWT is
  verified: three parts, the signature under the CURRENT secret (changing jwt_secret makes every
  issued token fail: that is how a test proves the mock checks), typ, app_id, exp, the user not
  expired.  A refresh token must also be one the user still holds: with rotate_refresh every
  refresh issues a new one and, with revoke_rotated, the old one stops working.
    GET  /api/auth/token/refresh   Authorization: Bearer <refresh JWT>
                                   -> {"access_token", "refresh_token"}; refused: 401
                                   {"error_type":"auth.token.invalid","message":...}
  Every other call carries "Authorization: Bearer <access JWT>" (unexpired, access_ttl_s) and
  the identity headers of that JWT: X-Msh-Device-Id = device_id, X-Msh-Session-Id = ssid,
  X-Traffic-Id = sub, X-Msh-Platform: web; the browser headers (Origin https://www.kimi.com, a
  Referer under it, a Mozilla User-Agent, R-Timezone, X-Language); Connect calls also
  Connect-Protocol-Version: 1.  A refused access token: 401 {"code":"unauthenticated",...}
  (with errors_in_stream, the Chat call answers 200 and an end-of-stream error instead).

ENDPOINTS
    POST /apiv2/kimi.gateway.chat.v1.ChatService/Chat    Content-Type application/connect+json;
         the body is exactly ONE Connect envelope: flags 0x00, a big-endian length equal to
         the rest of the body (+ envelope_len_delta, a knob that makes a correct client fail),
         then the JSON of 4.2 with exactly its keys (scenario SCENARIO_K2D5, chat_id "", tools
         [] or [{"type":"TOOL_TYPE_SEARCH","search":{}}], message {parent_id:"", role:"user",
         blocks:[{message_id:"", text:{content}}], scenario}, options {thinking: bool}).
         Refused with 400 {"code":"invalid_argument","message":...}.  Answers the 4.4 stream.
    POST /apiv2/kimi.chat.v1.ChatService/DeleteChat      {"chat_id"}: the caller's live chat
         -> {}; anything else 404 {"code":"not_found"}
    POST /apiv2/kimi.gateway.order.v1.SubscriptionService/GetSubscription   {} ->
         {"subscription":{"userId","userName","type","status"}}

CONTROL API
    GET /_mock/state  requests{route:n}, responses{"route status":n}, refreshes{user:n},
        access_issued{user:n}, refresh_issued{user:n}, chats{user:n}, chats_completed,
        chats_deleted{user:n}, live_chats{user:[ids]}, subscriptions{user:n}, rejections[...],
        last_rejection, last_chat{headers, body, prompt, last_user, user_text, markers,
        envelope_len, thinking, search, reply_text, reasoning_text, chat_id, messages, bytes,
        completed}, last_requests{route:{headers,body}}, recent[], client_disconnects,
        server_aborts, stalls, users{name:{id, name, refresh_tokens (the valid ones), expired}}
    GET/POST /_mock/config   keys of DEFAULT_CONFIG plus users (add), expired_users,
        revoke_access (true: every access token issued so far is refused), reset;
        by_user {"u1": {knob: value} | null}.  Fault statuses (refresh_status, chat_status,
        delete_status, subscription_status: 401 403 429 500 502 503) and close_after_events /
        stall_after_events take <key>_times = N (fail N requests, then heal).
    POST /_mock/reset        counters; {"config":true} the start-up config; {"all":true} also
                             the chats and the issued tokens' revocations

Per-request markers and the stream shape: see kimi_wire.py.
"""

import copy
import hashlib
import hmac
import json
import os
import random
import re
import secrets
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deepseek_mock as dsm  # noqa: E402  (the state and dispatch a mock of this shape has)
import mockbase  # noqa: E402  (the loopback HTTP plumbing)
from kimi_wire import (CHAT, DELETE, MARKER_RE, ORIGIN, REFRESH, SCENARIO, SEARCH_TOOL,  # noqa: E402
                       STREAM_ERRORS, SUBSCRIPTION, b64url, b64url_decode, build_stream,
                       envelope, last_turn)

USERS = ("u1", "u2", "u3")

DEFAULT_CONFIG = {
    "jwt_secret": "kimi-mock-secret-1",   # signs and verifies every JWT
    "access_ttl_s": 900,
    "refresh_ttl_s": 30 * 86400,
    "rotate_refresh": True,               # a new refresh token on every refresh
    "revoke_rotated": True,               # ... and the old one stops working
    "check_headers": True,
    "envelope_len_delta": 0,              # expect the envelope length off by this much
    "errors_in_stream": False,            # Chat refusals as 200 + end-of-stream errors
    "refresh_status": 0, "refresh_status_times": None,
    "chat_status": 0, "chat_status_times": None,
    "delete_status": 0, "delete_status_times": None,
    "subscription_status": 0, "subscription_status_times": None,
    "retry_after": 30,
    "delay_ms": 0, "api_delay_ms": 0,
    "split": "none", "split_seed": 1, "random_split_max": 16, "drip_ms": 0,
    "close_after_events": None, "close_after_events_times": None, "close_mode": "fin",
    "stall_after_events": None, "stall_after_events_times": None, "stall_max_s": 300,
    "stream_error": None,
    "unicode": False, "long_words": 0, "heartbeats": 2,
    "by_user": {},
}
FAULT_KEYS = ("refresh_status", "chat_status", "delete_status", "subscription_status")
HEALING_KEYS = FAULT_KEYS + ("close_after_events", "stall_after_events")
SPECIAL_KEYS = {"users", "expired_users", "revoke_access", "reset"}
ROUTE_FAULT = {"refresh": "refresh_status", "chat": "chat_status", "delete": "delete_status",
               "subscription": "subscription_status"}


# --------------------------------------------------------------------------- state

class MockState(dsm.MockState):
    """deepseek_mock's bookkeeping (bump, take, effective, record_rejection), Kimi's users."""
    DEFAULTS, HEALING, OVERRIDES = DEFAULT_CONFIG, HEALING_KEYS, "by_user"

    def __init__(self, config=None):
        self.lock = threading.RLock()
        self.config = copy.deepcopy(DEFAULT_CONFIG)
        self.users = {}
        self.by_sub = {}
        self.access_jtis, self.revoked_jtis, self.seq = [], set(), 0
        self.chats = {}
        for u in USERS:
            self._add_user(u)
        self.reset_counters()
        if config:
            self.configure(config)
        self.base_config = copy.deepcopy(self.config)

    def _add_user(self, name):
        if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,32}", name):
            raise ValueError("a user name is [a-z0-9_]{1,32}")
        if name in self.users:
            self.users[name]["expired"] = False
            return
        h = hashlib.sha256(name.encode()).hexdigest()
        u = {"name": name, "id": "d1" + h[:18], "device_id": str(7400000000000000000 + int(h[:12], 16)),
             "ssid": str(1730000000000000000 + int(h[12:24], 16)), "display": "Mock %s" % name,
             "refresh": {}, "expired": False}
        self.users[name] = u
        self.by_sub[u["id"]] = name

    def reset_counters(self):
        with self.lock:
            self.c = {"requests": {}, "responses": {}, "refreshes": {}, "access_issued": {},
                      "refresh_issued": {}, "chats": {}, "chats_completed": 0, "chats_deleted": {},
                      "subscriptions": {}, "client_disconnects": 0, "server_aborts": 0, "stalls": 0}
            self.last = {"chat": None, "rejection": None}
            self.last_requests, self.rejections, self.recent = {}, [], []

    # ---- tokens
    def jwt(self, name, typ, ttl):
        u = self.users[name]
        now = int(time.time())
        payload = {"app_id": "kimi", "typ": typ, "sub": u["id"], "device_id": u["device_id"],
                   "ssid": u["ssid"], "iat": now, "exp": now + int(ttl), "jti": secrets.token_hex(8)}
        head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
        body = b64url(json.dumps(payload, separators=(",", ":")).encode())
        sig = hmac.new(self.config["jwt_secret"].encode(), (head + "." + body).encode(),
                       hashlib.sha256).digest()
        return head + "." + body + "." + b64url(sig)

    def issue(self, name, typ):
        with self.lock:
            cfg = self.effective(name)
            tok = self.jwt(name, typ, cfg["access_ttl_s" if typ == "access" else "refresh_ttl_s"])
            if typ == "refresh":
                self.seq += 1
                self.users[name]["refresh"][tok] = self.seq
                self.bump("refresh_issued", name)
            else:
                self.access_jtis.append(json.loads(b64url_decode(tok.split(".")[1]))["jti"])
                del self.access_jtis[:-10000]
                self.bump("access_issued", name)
            return tok

    def verify(self, token, typ):
        """(user name, payload, None) or (user name or None, None, reason)."""
        parts = (token or "").split(".")
        if len(parts) != 3:
            return None, None, "not a JWT"
        try:
            head = json.loads(b64url_decode(parts[0]))
            payload = json.loads(b64url_decode(parts[1]))
            sig = b64url_decode(parts[2])
        except (ValueError, TypeError):
            return None, None, "JWT parts are not base64url JSON"
        with self.lock:
            want = hmac.new(self.config["jwt_secret"].encode(), (parts[0] + "." + parts[1]).encode(),
                            hashlib.sha256).digest()
            name = self.by_sub.get(payload.get("sub")) if isinstance(payload, dict) else None
            if not isinstance(head, dict) or head.get("alg") != "HS256":
                return name, None, "JWT alg is not HS256"
            if not hmac.compare_digest(sig, want):
                return name, None, "JWT signature does not verify with the current secret"
            if payload.get("app_id") != "kimi" or payload.get("typ") != typ:
                return name, None, "JWT is typ %r, app_id %r; want %s" % (
                    payload.get("typ"), payload.get("app_id"), typ)
            if name is None:
                return None, None, "JWT of an unknown user"
            if not isinstance(payload.get("exp"), int) or time.time() >= payload["exp"]:
                return name, None, "%s token expired" % typ
            if self.users[name]["expired"]:
                return name, None, "the user's login has expired"
            if typ == "refresh" and token not in self.users[name]["refresh"]:
                return name, None, "refresh token was rotated out or revoked"
            if typ == "access" and payload.get("jti") in self.revoked_jtis:
                return name, None, "access token revoked"
            return name, payload, None

    # ---- configuration
    def configure(self, obj):
        if not isinstance(obj, dict):
            raise ValueError("config must be a JSON object")
        with self.lock:
            for k in obj:
                if k not in DEFAULT_CONFIG and k not in SPECIAL_KEYS:
                    raise ValueError("unknown config key %r" % k)
            if obj.get("reset") and hasattr(self, "base_config"):
                self.config = copy.deepcopy(self.base_config)
            for k, v in obj.items():
                if k in ("users", "expired_users"):
                    if not isinstance(v, list):
                        raise ValueError("%s must be a list of names" % k)
                    for n in v:
                        self._add_user(n)
                        self.users[n]["expired"] = k == "expired_users"
                elif k == "revoke_access":
                    if v:
                        self.revoked_jtis.update(self.access_jtis)
                elif k == "by_user":
                    if not isinstance(v, dict):
                        raise ValueError("by_user must be an object")
                    for n, over in v.items():
                        if over is None:
                            self.config["by_user"].pop(n, None)
                            continue
                        if not isinstance(over, dict) or any(
                                kk not in DEFAULT_CONFIG or kk == "by_user" for kk in over):
                            raise ValueError("by_user values are objects of known knobs")
                        self.config["by_user"].setdefault(n, {}).update(copy.deepcopy(over))
                elif k != "reset":
                    self.config[k] = copy.deepcopy(v)
            return self.public_config()

    def public_config(self):
        with self.lock:
            c = copy.deepcopy(self.config)
            c["users"] = sorted(n for n, u in self.users.items() if not u["expired"])
            c["expired_users"] = sorted(n for n, u in self.users.items() if u["expired"])
            return c

    def snapshot(self):
        with self.lock:
            s = copy.deepcopy(self.c)
            live = {}
            for cid, ch in self.chats.items():
                if ch["live"]:
                    live.setdefault(ch["owner"], []).append(cid)
            s["live_chats"] = live
            s["last_chat"] = copy.deepcopy(self.last["chat"])
            s["last_rejection"] = copy.deepcopy(self.last["rejection"])
            s["last_requests"] = copy.deepcopy(self.last_requests)
            s["rejections"] = copy.deepcopy(self.rejections)
            s["recent"] = copy.deepcopy(self.recent)
            s["users"] = {n: {"id": u["id"], "name": u["display"], "expired": u["expired"],
                              "refresh_tokens": sorted(u["refresh"], key=u["refresh"].get)}
                          for n, u in self.users.items()}
            return s


# --------------------------------------------------------------------------- HTTP handler

class Handler(dsm.Handler):
    """deepseek_mock's handler brings the plumbing; the routes and checks are Kimi's."""

    def log_message(self, fmt, *args):
        if self.server.mock.verbose:
            sys.stderr.write("[kimi-mock] %s - %s\n" % (self.address_string(), fmt % args))

    def _cf_page(self, status, reason):
        html = dsm.CF_5XX_HTML.replace("chat.deepseek.com", "www.kimi.com") % (
            status, "Error", status, "Error", random.getrandbits(64))
        return self._reject(status, html, reason, "text/html; charset=UTF-8")

    # ---------------------------------------------------------------- errors
    def _connect_error(self, status, code, message, headers=()):
        return self._reject(status, {"code": code, "message": message}, message, headers=headers)

    def _auth_failed(self, reason):
        if self._route == "refresh":
            return self._reject(401, {"error_type": "auth.token.invalid", "message": reason}, reason)
        if self._route == "chat" and self._cfg.get("errors_in_stream"):
            self.st.record_rejection(self._route, 200, reason, self._user)
            return self._connect_stream([envelope({"error": {"code": "unauthenticated",
                                                             "message": reason}}, 2)], {}, {}, None)
        return self._connect_error(401, "unauthenticated", reason)

    def _fault(self, status, retry=True):
        status = int(status)
        reason = "injected status %d on %s" % (status, self._route)
        names = {401: "unauthenticated", 403: "permission_denied", 429: "resource_exhausted",
                 500: "internal", 502: "unavailable", 503: "unavailable"}
        if status == 401:
            return self._auth_failed(reason)
        hdrs = [("Retry-After", str(self._cfg.get("retry_after", 30)))] if status == 429 else []
        if self._route == "refresh":
            return self._reject(status, {"error_type": "mock.fault", "message": reason}, reason,
                                headers=hdrs)
        return self._connect_error(status, names.get(status, "unknown"), reason, hdrs)

    # ---------------------------------------------------------------- checks
    def _headers_wrong(self, connect, ctype):
        h = self.headers
        if h.get("Origin") != ORIGIN:
            return "Origin is %r, not %s" % (h.get("Origin"), ORIGIN)
        if not (h.get("Referer") or "").startswith(ORIGIN + "/"):
            return "Referer %r is not under %s/" % (h.get("Referer"), ORIGIN)
        if not (h.get("User-Agent") or "").startswith("Mozilla/5.0 ("):
            return "User-Agent %r is not a browser's" % h.get("User-Agent")
        if h.get("X-Msh-Platform") != "web":
            return "X-Msh-Platform is %r, not web" % h.get("X-Msh-Platform")
        for name in ("R-Timezone", "X-Language"):
            if not (h.get(name) or "").strip():
                return "no %s header" % name
        if connect and h.get("Connect-Protocol-Version") != "1":
            return "Connect-Protocol-Version is %r, not 1" % h.get("Connect-Protocol-Version")
        if ctype and (h.get("Content-Type") or "").split(";")[0].strip().lower() != ctype:
            return "Content-Type is %r, not %s" % (h.get("Content-Type"), ctype)
        return None

    def _identity_wrong(self, payload):
        """X-Msh-* / X-Traffic-Id must be the JWT's own claims (4.1)."""
        for header, claim in (("X-Msh-Device-Id", "device_id"), ("X-Msh-Session-Id", "ssid"),
                              ("X-Traffic-Id", "sub")):
            if self.headers.get(header) != str(payload.get(claim)):
                return "%s is %r, the token's %s is %r" % (header, self.headers.get(header), claim,
                                                           payload.get(claim))
        return None

    def _gate(self, typ, connect, ctype):
        """Headers, the JWT, its identity headers.  The user's name, or None after answering."""
        st = self.st
        if st.config.get("check_headers", True):
            reason = self._headers_wrong(connect, ctype)
            if reason:
                return self._connect_error(400, "invalid_argument", reason)
        m = re.fullmatch(r"Bearer (\S+)", (self.headers.get("Authorization") or "").strip())
        if m is None:
            return self._auth_failed("no 'Authorization: Bearer <token>' header")
        user, payload, reason = st.verify(m.group(1), typ)
        self._user = user
        self._cfg = st.effective(user)
        if reason:
            return self._auth_failed(reason)
        if st.config.get("check_headers", True):
            reason = self._identity_wrong(payload)
            if reason:
                return self._connect_error(400, "invalid_argument", reason)
        if self._route != "chat":
            f = st.take(ROUTE_FAULT[self._route], user)
            if f:
                return self._fault(f)
            if self._cfg.get("api_delay_ms"):
                self._wait(float(self._cfg["api_delay_ms"]) / 1000.0)
        return user

    def _unary_body(self, want):
        try:
            body = json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict) or set(body) != set(want):
            self._connect_error(400, "invalid_argument", "body must be an object with keys %s, "
                                "got %r" % (sorted(want), self.body[:200]))
            return None
        return body

    def _chat_body_wrong(self, cfg):
        """Section 4.2 and the one envelope around it: (body, None) or (None, reason)."""
        raw = self.body
        if len(raw) < 5:
            return None, "the body is no Connect envelope (%d bytes)" % len(raw)
        flags, length = struct.unpack(">BI", raw[:5])
        if flags != 0:
            return None, "envelope flags 0x%02x (want 0x00: uncompressed, not end-of-stream)" % flags
        want = len(raw) - 5 + int(cfg.get("envelope_len_delta") or 0)
        if length != want:
            return None, "envelope length %d, but %d payload bytes follow" % (length, len(raw) - 5)
        try:
            b = json.loads(raw[5:].decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return None, "the envelope's payload is not UTF-8 JSON"
        if not isinstance(b, dict) or set(b) != {"scenario", "chat_id", "tools", "message", "options"}:
            return None, "body keys %s" % (sorted(b) if isinstance(b, dict) else type(b).__name__)
        m = b["message"]
        if b["scenario"] != SCENARIO or not isinstance(b["chat_id"], str):
            return None, "scenario %r / chat_id %r" % (b["scenario"], b["chat_id"])
        if b["tools"] not in ([], SEARCH_TOOL):
            return None, "tools %r" % (b["tools"],)
        if not isinstance(b["options"], dict) or set(b["options"]) != {"thinking"} or \
                not isinstance(b["options"]["thinking"], bool):
            return None, "options %r" % (b["options"],)
        if not isinstance(m, dict) or set(m) != {"parent_id", "role", "blocks", "scenario"} or \
                not isinstance(m["parent_id"], str) or m["role"] != "user" or \
                m["scenario"] != SCENARIO:
            return None, "message %r" % (m,)
        if (m["parent_id"] != "") != (b["chat_id"] != ""):
            return None, "chat_id %r with parent_id %r (a continued chat has both, a new one " \
                "neither)" % (b["chat_id"], m["parent_id"])
        bl = m["blocks"]
        if not isinstance(bl, list) or len(bl) != 1 or not isinstance(bl[0], dict) or \
                set(bl[0]) != {"message_id", "text"} or bl[0]["message_id"] != "" or \
                not isinstance(bl[0]["text"], dict) or set(bl[0]["text"]) != {"content"} or \
                not isinstance(bl[0]["text"]["content"], str) or not bl[0]["text"]["content"].strip():
            return None, "blocks %r" % (bl,)
        return b, None

    # ---------------------------------------------------------------- endpoints
    def h_refresh(self):
        user = self._gate("refresh", False, None)
        if user is None:
            return
        st = self.st
        old = self.headers["Authorization"].split()[1]
        with st.lock:
            cfg = self._cfg
            access = st.issue(user, "access")
            fresh = old
            if cfg.get("rotate_refresh"):
                fresh = st.issue(user, "refresh")
                if cfg.get("revoke_rotated"):
                    st.users[user]["refresh"].pop(old, None)
            st.bump("refreshes", user)
        self._json(200, {"access_token": access, "refresh_token": fresh})

    def h_subscription(self):
        user = self._gate("access", True, "application/json")
        if user is None or self._unary_body(()) is None:
            return
        u = self.st.users[user]
        self.st.bump("subscriptions", user)
        self._json(200, {"subscription": {"userId": u["id"], "userName": u["display"],
                                          "type": "TYPE_FREE", "status": "STATUS_ACTIVE"}})

    def h_delete(self):
        user = self._gate("access", True, "application/json")
        if user is None:
            return
        body = self._unary_body(("chat_id",))
        if body is None:
            return
        st = self.st
        with st.lock:
            ch = st.chats.get(body["chat_id"]) if isinstance(body["chat_id"], str) else None
            ok = ch is not None and ch["owner"] == user and ch["live"]
            if ok:
                ch["live"] = False
                st.bump("chats_deleted", user)
        if not ok:
            return self._connect_error(404, "not_found", "no live chat %r of this user" % (
                body["chat_id"],))
        self._json(200, {})

    def h_chat(self):
        user = self._gate("access", True, "application/connect+json")
        if user is None:
            return
        st, cfg = self.st, self._cfg
        body, reason = self._chat_body_wrong(cfg)
        if reason:
            return self._connect_error(400, "invalid_argument", reason)
        prompt = body["message"]["blocks"][0]["text"]["content"]
        last = last_turn(prompt)
        markers = {m.group(1): m.group(2) or "" for m in MARKER_RE.finditer(last)}
        user_text = MARKER_RE.sub("", last).strip()
        kind = markers.get("error") or cfg.get("stream_error")
        if kind is not None and kind not in STREAM_ERRORS:
            return self._connect_error(400, "invalid_argument", "mock: no stream error %r" % kind)
        try:
            if "cf" in markers:
                return self._cf_page(int(markers["cf"] or 503), "cloudflare page (marker)")
            f = int(markers["fail"]) if "fail" in markers else st.take("chat_status", user)
        except ValueError:
            return self._connect_error(400, "invalid_argument", "mock: bad marker in %r" % last)
        if f:
            return self._fault(f)
        delay = markers.get("delay") or cfg.get("delay_ms")
        if delay:
            self._wait(float(delay) / 1000.0)
        chat_id, history, turn = body["chat_id"], "", 0
        if chat_id:
            # a continued chat: a live one of this user, after its last answer, and holding
            # the earlier turns, of which none may come again
            with st.lock:
                ch = st.chats.get(chat_id)
                ok = ch is not None and ch["owner"] == user and ch["live"]
                if ok:
                    turn, history = len(ch["seen"]), "\n".join(ch["transcript"])
                    old = next((t for t in ch["seen"] if t and t in prompt), None)
            if not ok:
                return self._connect_error(404, "not_found", "no live chat %r of this user" % (
                    chat_id,))
            if body["message"]["parent_id"] != ch["last_answer"]:
                return self._connect_error(400, "invalid_argument",
                                           "parent_id %r is not the chat's last answer %r" % (
                                               body["message"]["parent_id"], ch["last_answer"]))
            if old is not None:
                return self._connect_error(400, "invalid_argument",
                                           "mock: the continued chat resent an earlier turn %r"
                                           % old[:60])
            st.bump("continued_chats", user)
        else:
            chat_id = "chat-" + secrets.token_hex(8)
        events, reply, reasoning, aid = build_stream(body, user_text, cfg, markers, chat_id, turn,
                                                     history)
        with st.lock:
            ch = st.chats.setdefault(chat_id, {"owner": user, "live": True, "seen": [],
                                               "transcript": []})
            ch["seen"].append(user_text)
            ch["transcript"] += [prompt, reply]
            ch["last_answer"] = aid
            st.bump("chats", user)
            lc = st.last["chat"] = {
                "t": round(time.time(), 3), "user": user, "chat_id": chat_id,
                "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body,
                "prompt": prompt, "last_user": last, "user_text": user_text, "markers": markers,
                "envelope_len": struct.unpack(">I", self.body[1:5])[0],
                "thinking": body["options"]["thinking"], "search": bool(body["tools"]),
                "reply_text": reply, "reasoning_text": reasoning, "stream_error": kind,
                "messages": [json.loads(e[5:]) for e in events], "bytes": sum(map(len, events)),
                "completed": False}
        self._connect_stream(events, cfg, markers, lc)

    # ---------------------------------------------------------------- the response stream
    def _connect_stream(self, events, cfg, markers, lc):
        st, user = self.st, self._user
        close_at, mode = (st.take("close_after_events", user), cfg.get("close_mode", "fin")) \
            if lc is not None else (None, "fin")
        if "close" in markers:
            close_at, mode = int(markers["close"] or 1), "fin"
        if "reset" in markers:
            close_at, mode = int(markers["reset"] or 1), "reset"
        stall_at = st.take("stall_after_events", user) if lc is not None else None
        if "stall" in markers:
            stall_at = int(markers["stall"] or 1)

        def done():
            if lc is not None:
                with st.lock:
                    st.c["chats_completed"] += 1
                    lc["completed"] = True
        self._mark_status(200)
        how, _ = self.write_events(
            events, markers.get("split") or cfg.get("split"), cfg.get("split_seed", 1),
            cfg.get("random_split_max", 16),
            float(markers.get("drip") or cfg.get("drip_ms") or 0) / 1000.0, close_at, mode,
            stall_at, float(cfg.get("stall_max_s", 300)), lambda: st.bump("stalls"), done,
            ctype="application/connect+json")
        if how == "gone":
            st.bump("client_disconnects")
        elif how == "aborted":
            st.bump("server_aborts")

    def _error_doc(self, status, msg):
        return {"code": {400: "invalid_argument", 404: "not_found"}.get(status, "internal"),
                "message": msg}


ROUTES = [
    ("GET", REFRESH, "refresh"),
    ("POST", CHAT, "chat"),
    ("POST", DELETE, "delete"),
    ("POST", SUBSCRIPTION, "subscription"),
    ("GET", "/_mock/state", "mock_state"),
    ("GET", "/_mock/config", "mock_config_get"),
    ("POST", "/_mock/config", "mock_config"),
    ("POST", "/_mock/reset", "mock_reset"),
]
Handler.ROUTES = ROUTES


# --------------------------------------------------------------------------- server object

class KimiMock(dsm.DeepSeekMock):
    """The mock as an object: KimiMock(port=0).start() ... .stop()."""

    def __init__(self, host="127.0.0.1", port=0, config=None, verbose=False):
        self.state = MockState(config)
        mockbase.LoopbackMock.__init__(self, Handler, host, port, verbose, "kimi-mock")
        # one refresh token per user to start with (what a test adds as an account)
        self.initial = {n: self.state.issue(n, "refresh") for n in USERS}
        self.state.reset_counters()

    def reset(self, config=False, all=False):
        st = self.state
        with st.lock:
            st.reset_counters()
            if config:
                st.config = copy.deepcopy(st.base_config)
                for u in st.users.values():
                    u["expired"] = False
            if all:
                st.chats.clear()
                st.revoked_jtis.clear()
                for n, t in self.initial.items():
                    st.users[n]["refresh"] = {t: 0}

    def refresh_token(self, user="u1"):
        """The user's first refresh token (valid until it is rotated out)."""
        return self.initial[user]

    def newest_refresh(self, user="u1"):
        """The refresh token the user holds now (the last issued of the valid ones)."""
        with self.state.lock:
            valid = self.state.users[user]["refresh"]
            return max(valid, key=valid.get) if valid else None

    def access_token(self, user="u1", ttl=None):
        """An access JWT for user, valid ttl seconds (default access_ttl_s), not counted."""
        with self.state.lock:
            return self.state.jwt(user, "access", self.state.config["access_ttl_s"] if ttl is None
                                  else ttl)


# --------------------------------------------------------------------------- CLI

def main(argv=None):
    a = mockbase.cli_parser("Loopback mock of the Kimi web backend").parse_args(argv)
    mock = KimiMock(a.host, a.port, a.config, a.verbose)
    banner = "kimi mock listening on %s" % mock.url
    for n in USERS:
        banner += "\n  %s refresh token %s" % (n, mock.refresh_token(n))
    return mockbase.serve_cli(mock, a.port_file, banner)


if __name__ == "__main__":
    sys.exit(main())
