#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""Loopback mock of the MiniMax agent backend (agent.minimaxi.com) for chat2api tests.

Python 3 standard library only.  It speaks the protocol of shared/protocols/providers.md
section 5 (credential 5.1, headers 5.2, query 5.3, signatures 5.4, send + poll 5.5) and
*checks* what the real server checks, so that a client bug makes a test fail.  Point
MINIMAX_BASE_URL at the mock's URL.

RUN
    python3 tests/mock/minimax_mock.py --port 0 --port-file /tmp/p [--config '{...}']
  The port file is written once the server accepts connections; SIGTERM/SIGINT stop it.

IN PROCESS
    from minimax_mock import MiniMaxMock, DEFAULT_JWT
    m = MiniMaxMock().start()        # m.url, m.configure({...}), m.snapshot(), m.reset()
    m.stop()

CREDENTIALS
  Known JWTs and their realUserID: DEFAULT_JWT (its payload names user DEFAULT_UID),
  OTHER_JWT (OTHER_UID), NOID_JWT (a payload without a user id; its user is NOID_UID, which
  the client must be told).  Config add_tokens {"<jwt>": "<uid>"} adds more; expired_tokens
  [jwt] makes a token's every call answer code 1001 ("the login expired").

WHAT EVERY CALL MUST CARRY (else a rejection: HTTP reject_status, 200 by default, with the
envelope code 1004 and the reason; recorded in /_mock/state rejections)
  * the query of 5.3, keys in exactly that order, values not URL-encoded (no '%'), the fixed
    values as listed; token = the token header; user_id = the token's realUserID; uuid =
    that id too, except on device/register where it is a fresh uuid4 equal to the body's
    "uuid" and device_id is the literal "null"; on /matrix/ calls device_id is a device
    registered for this user (and not older than device_ttl_s);
  * x-timestamp (seconds) within clock_skew_s of now, unix (ms) within 2 s of it;
  * yy = md5(encodeURIComponent(path "?" query) "_" body md5(unix) yy_salt) and
    x-signature = md5(x-timestamp token body), both recomputed here (yy_salt: config,
    "ooui" as the real one; another value proves a client's signature is checked);
  * Origin https://agent.minimaxi.com, a Referer under it, a browser User-Agent, Accept with
    application/json, Content-Type application/json.

ENDPOINTS (POST)
    /v1/api/user/device/register        {"uuid"} -> {"statusInfo":{"code":0},"data":
                                         {"deviceIDStr","realUserID"}}
    /matrix/api/v1/chat/send_msg        the 5.5 body, keys exactly -> {chat_id, msg_id,
                                         base_resp}; the chat's answer starts growing.
                                         With "chat_id" (a chat of this user whose answer
                                         ended) the chat goes on: its earlier user and AI
                                         messages stay in get_chat_detail before the new
                                         ones; a text that carries an earlier turn again
                                         is refused
    /matrix/api/v1/chat/get_chat_detail {"chat_id"} -> {chat:{chat_id, chat_status},
                                         messages:[user, AI...], base_resp}
    /matrix/api/v1/chat/delete_chat     {"chat_id": <integer>} -> base_resp; an unfinished
                                         chat (or running_deletes left) -> status_code 1,
                                         "chat is running"
  The answer of a chat: thinking "Thinking about: <text>." then content "You said: <text>"
  (<text>: the last "user:" turn of the prompt, markers stripped), revealed a few code
  points at a time: a piece every pace_ms after first_delay_ms (the clock starts at
  send_msg), or one piece per poll with per_poll; chat_status 2 once all is shown.
  Each chat records its polls [{t, thinking, content, status}] and first_text_t (the
  wall-clock time its first piece became visible).

CONTROL API
    GET  /_mock/state    counters, rejections, last_send, chats{id:{...}}, devices, ...
    GET  /_mock/config   the configuration
    POST /_mock/config   merge a JSON object (keys of DEFAULT_CONFIG, add_tokens,
                         expired_tokens, reset); by_token {"<jwt>": {knob: value} | null}
                         overrides knobs for one token.  Fault statuses (register_status,
                         send_status, detail_status, delete_status: 401, 403, 429, 500, 502,
                         503, 1001 = the expired envelope, 200 = another code with HTTP 200)
                         take <key>_times = N (fail N requests, then heal).
    POST /_mock/reset    counters; {"config":true} also the start-up config; {"all":true}
                         also devices and chats

PER-REQUEST MARKERS (in the last user turn; stripped from the echoed text)
    [[split:bytes|random|N]]  every answer of this chat chunked at every byte (chunk framing
                    and headers written one byte per send) / at random / every N bytes
    [[drip:MS]]     delay between the written pieces        [[delay:MS]] first_delay_ms
    [[pace:MS]]     pace_ms        [[grow:S]] the whole answer spread over S seconds
    [[perpoll]]     one piece per poll     [[nofinish]] chat_status never 2
    [[nothink]]     no thinking     [[unicode]] Chinese and emoji     [[long:N]] N more words
    [[fail:CODE]]   send_msg fails (as a fault status)
    [[pollfail:CODE:N:K]]  polls N..N+K-1 of this chat fail (K 0: all from N on); CODE a
                    fault status, or close (FIN without an answer), reset (RST), hang (no
                    answer for stall_max_s), garbage (200 with a body that is no JSON)
    [[rewrite]]     halfway, text already shown is changed (a rewrite)
    [[newmsg:append|replace]]  halfway the answer moves to a second AI message, the first
                    kept (append) or removed (replace)
    [[running:N]]   the first N deletes of this chat answer "chat is running"
"""

import base64
import copy
import hashlib
import json
import os
import random
import re
import select
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import quote

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mockbase  # noqa: E402  (tool answers)
from minimax_chat import PIECE_SIZES, UNICODE_TAIL, Chat, pieces_of  # noqa: E402,F401


def _b64(obj):
    raw = json.dumps(obj, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def make_jwt(payload):
    return _b64({"alg": "HS256", "typ": "JWT"}) + "." + _b64(payload) + ".bW9jay1zaWduYXR1cmU"


DEFAULT_UID = "100000001"
OTHER_UID = "100000002"
NOID_UID = "100000003"
DEFAULT_JWT = make_jwt({"user": {"id": DEFAULT_UID, "name": "mock one"}, "exp": 4102444800})
OTHER_JWT = make_jwt({"user": {"id": OTHER_UID, "name": "mock two"}, "exp": 4102444800})
NOID_JWT = make_jwt({"name": "mock three", "exp": 4102444800})
ORIGIN = "https://agent.minimaxi.com"
P_REGISTER = "/v1/api/user/device/register"
P_SEND = "/matrix/api/v1/chat/send_msg"
P_DETAIL = "/matrix/api/v1/chat/get_chat_detail"
P_DELETE = "/matrix/api/v1/chat/delete_chat"
QUERY_KEYS = ["device_platform", "biz_id", "app_id", "version_code", "uuid", "device_id",
              "os_name", "browser_name", "device_memory", "cpu_core_num", "browser_language",
              "browser_platform", "user_id", "screen_width", "screen_height", "unix", "lang",
              "token", "timezone_offset", "sys_language", "client"]
QUERY_FIXED = {"device_platform": "web", "biz_id": "3", "app_id": "3001", "version_code": "22201",
               "os_name": "Mac", "browser_name": "chrome", "device_memory": "8",
               "cpu_core_num": "11", "browser_language": "zh-CN", "browser_platform": "MacIntel",
               "screen_width": "1920", "screen_height": "1080", "lang": "zh",
               "timezone_offset": "28800", "sys_language": "zh", "client": "web"}
SEND_KEYS = {"msg_type", "text", "chat_type", "attachments", "selected_mcp_tools", "backend_config",
             "sub_agent_ids"}
MARKER_RE = re.compile(r"\[\[([a-z_]+)(?::([^\]]*))?\]\]")
CODE_EXPIRED = 1001
CODE_BAD_REQUEST = 1004
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
MAX_BODY = 16 * 1024 * 1024

DEFAULT_CONFIG = {
    "check_signatures": True,
    "check_headers": True,
    "yy_salt": "ooui",
    "clock_skew_s": 300,
    "reject_status": 200,                # HTTP status of a rejection (the envelope says why)
    "device_ttl_s": 10800,
    "chat_id_type": "int",               # int | string: how send_msg answers chat_id
    "envelope": "top",                   # top | data: send_msg's ids at the top or under data
    # the answer
    "thinking": True,
    "first_delay_ms": 0,
    "pace_ms": 10,
    "per_poll": False,
    "unicode": False,
    "long_words": 0,
    "finish": True,
    "running_deletes": 0,                # deletes answering "chat is running" (every chat)
    # faults: status (0 = none) and <key>_times = N (null = every request)
    "register_status": 0, "register_status_times": None,
    "send_status": 0, "send_status_times": None,
    "detail_status": 0, "detail_status_times": None,
    "delete_status": 0, "delete_status_times": None,
    "retry_after": 30,
    "cf_html": False,
    "api_delay_ms": 0,                   # before every answer
    "split": "none", "split_seed": 1, "random_split_max": 16, "drip_ms": 0,
    "stall_max_s": 120,
    "by_token": {},
}
FAULT_KEYS = ("register_status", "send_status", "detail_status", "delete_status")
SPECIAL_KEYS = {"add_tokens", "expired_tokens", "reset"}
CF_HTML = ("<!DOCTYPE html><html><head><title>agent.minimaxi.com | %d</title></head><body>"
           "<div id=\"cf-error-details\">Cloudflare Ray ID: %016x</div></body></html>")


class ClientGone(Exception):
    pass


class Abort(Exception):
    pass


def md5(s):
    return hashlib.md5(s.encode("utf-8") if isinstance(s, str) else s).hexdigest()


def encode_uri_component(s):
    return quote(s, safe="-_.!~*'()")


def last_user_turn(prompt):
    """The text of the last "user:" turn of a 5.5 prompt."""
    starts = [m.start() for m in re.finditer(r"(?m)^user:", prompt)]
    if not starts:
        return prompt
    text = prompt[starts[-1] + len("user:"):]
    cut = re.search(r"(?m)^(assistant|system):", text)
    return (text[:cut.start()] if cut else text).rstrip("\n")


class MockState:
    def __init__(self, config=None):
        self.lock = threading.RLock()
        self.config = copy.deepcopy(DEFAULT_CONFIG)
        self.tokens = {DEFAULT_JWT: DEFAULT_UID, OTHER_JWT: OTHER_UID, NOID_JWT: NOID_UID}
        self.expired = set()
        self.devices = {}               # device id -> {user, t}
        self.chats = {}                 # chat id (str) -> Chat
        self.next_chat = 3000000001
        self.next_msg = 7000000001
        self.reset_counters()
        if config:
            self.configure(config)
        self.base = (copy.deepcopy(self.config), dict(self.tokens), set(self.expired))

    def reset_counters(self):
        with self.lock:
            self.c = {"requests": {}, "responses": {}, "registers": {}, "sends": {},
                      "polls": 0, "deletes": 0, "deletes_running": 0, "chats_deleted": 0,
                      "client_disconnects": 0, "server_aborts": 0, "stalls": 0}
            self.rejections = []
            self.last = {"send": None, "rejection": None, "register": None, "delete": None}

    def restore(self):
        with self.lock:
            cfg, toks, exp = self.base
            self.config = copy.deepcopy(cfg)
            self.tokens = dict(toks)
            self.expired = set(exp)

    def bump(self, key, sub=None):
        with self.lock:
            if sub is None:
                self.c[key] = self.c.get(key, 0) + 1
            else:
                d = self.c.setdefault(key, {})
                d[sub] = d.get(sub, 0) + 1

    def configure(self, obj):
        if not isinstance(obj, dict):
            raise ValueError("config must be a JSON object")
        with self.lock:
            for k in obj:
                if k not in DEFAULT_CONFIG and k not in SPECIAL_KEYS:
                    raise ValueError("unknown config key %r" % k)
            if obj.get("reset") and hasattr(self, "base"):
                self.restore()
            for k, v in obj.items():
                if k == "reset":
                    continue
                if k == "add_tokens":
                    if not isinstance(v, dict):
                        raise ValueError("add_tokens must map JWT to realUserID")
                    self.tokens.update(v)
                elif k == "expired_tokens":
                    if not isinstance(v, list):
                        raise ValueError("expired_tokens must be a list")
                    self.expired = set(v)
                elif k == "by_token":
                    if not isinstance(v, dict):
                        raise ValueError("by_token must be an object")
                    for t, knobs in v.items():
                        if knobs is None:
                            self.config["by_token"].pop(t, None)
                            continue
                        for kk in knobs:
                            if kk not in DEFAULT_CONFIG:
                                raise ValueError("unknown knob %r" % kk)
                        self.config["by_token"].setdefault(t, {}).update(knobs)
                else:
                    self.config[k] = v
            return self.public_config()

    def public_config(self):
        with self.lock:
            d = copy.deepcopy(self.config)
            d["expired_tokens"] = sorted(self.expired)
            return d

    def effective(self, token):
        with self.lock:
            cfg = dict(self.config)
            cfg.update(self.config["by_token"].get(token or "", {}))
            return cfg

    def take(self, key, token):
        """A fault status for this request (0: none); counts healing faults down."""
        with self.lock:
            over = self.config["by_token"].get(token or "", {})
            src = over if key in over else self.config
            v = src.get(key)
            if not v:
                return 0
            left = src.get(key + "_times")
            if left is not None:
                if left <= 0:
                    return 0
                src[key + "_times"] = left - 1
            return int(v)

    def snapshot(self):
        with self.lock:
            s = copy.deepcopy(self.c)
            s["rejections"] = list(self.rejections)
            s["last_rejection"] = self.last["rejection"]
            s["last_send"] = self.last["send"]
            s["last_register"] = self.last["register"]
            s["last_delete"] = self.last["delete"]
            s["devices"] = {d: dict(v) for d, v in self.devices.items()}
            s["chats"] = {cid: ch.record() for cid, ch in self.chats.items()}
            s["chats_live"] = sorted(cid for cid, ch in self.chats.items() if not ch.deleted)
            return s


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Tengine"
    sys_version = ""

    @property
    def st(self):
        return self.server.mock.state

    def log_message(self, fmt, *args):
        if self.server.mock.verbose:
            sys.stderr.write("minimax-mock: " + (fmt % args) + "\n")

    def setup(self):
        super().setup()
        self.server.mock._track(self.connection, True)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.mock._track(self.connection, False)

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def _read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0 or n > MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(n) if n else b""

    # ---------------------------------------------------------------- writing
    def _write(self, data, split, drip):
        try:
            if split in ("none", "", None):
                self.wfile.write(data)
                return
            if split == "bytes":
                pieces = [data[i:i + 1] for i in range(len(data))]
            elif split == "random":
                rng = random.Random(self.st.config.get("split_seed", 1))
                mx, pieces, i = max(1, int(self.st.config.get("random_split_max", 16))), [], 0
                while i < len(data):
                    n = rng.randint(1, mx)
                    pieces.append(data[i:i + n])
                    i += n
            else:
                n = max(1, int(split))
                pieces = [data[i:i + n] for i in range(0, len(data), n)]
            for k, p in enumerate(pieces):
                if drip and k:
                    time.sleep(drip)
                self.wfile.write(p)
        except OSError as e:
            raise ClientGone(str(e))

    def _send(self, status, body, ctype="application/json", headers=(), split=None, drip=0.0):
        """One answer.  Split: chunked at every piece, and the whole (head, chunk framing
        and body) written one piece per send."""
        self.st.bump("responses", "%s %d" % (self.route, status))
        if isinstance(body, (dict, list)):
            body = json.dumps(body, ensure_ascii=False)
        if isinstance(body, str):
            body = body.encode("utf-8")
        cfg = self.st.config
        split = split or cfg.get("split") or "none"
        drip = drip or float(cfg.get("drip_ms") or 0) / 1000.0
        head = ["HTTP/1.1 %d %s" % (status, self.responses.get(status, ("OK",))[0]),
                "Server: Tengine", "Content-Type: " + ctype]
        head += ["%s: %s" % kv for kv in headers]
        if split not in ("none", "", None):
            step = 1 if split == "bytes" else (7 if split == "random" else max(1, int(split)))
            enc = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + step]), body[i:i + step])
                           for i in range(0, len(body), step)) + b"0\r\n\r\n"
            head.append("Transfer-Encoding: chunked")
        else:
            enc = body
            head.append("Content-Length: %d" % len(body))
        raw = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + enc
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self._write(raw, split, drip)

    def _envelope(self, code, msg):
        if self.path_only.startswith("/v1/"):
            return {"statusInfo": {"code": code, "message": msg}, "data": None}
        return {"base_resp": {"status_code": code, "status_msg": msg}}

    def _reject(self, reason, code=CODE_BAD_REQUEST):
        with self.st.lock:
            r = {"t": round(time.time(), 3), "route": self.route, "reason": reason,
                 "user": getattr(self, "user", None)}
            self.st.rejections.append(r)
            del self.st.rejections[:-100]
            self.st.last["rejection"] = r
        self._send(int(self.st.config.get("reject_status") or 200),
                   self._envelope(code, "mock: " + reason), headers=[("x-mock-reason", reason)])

    def _fault(self, status, markers=None):
        if status == CODE_EXPIRED:
            return self._send(200, self._envelope(CODE_EXPIRED, "token expired, please log in"))
        if status == 200:
            return self._send(200, self._envelope(2013, "mock: the service is busy"))
        if status in (502, 503) and self.st.config.get("cf_html"):
            return self._send(status, CF_HTML % (status, random.getrandbits(64)), "text/html")
        hdrs = [("Retry-After", str(self.st.config.get("retry_after", 30)))] if status == 429 else []
        self._send(status, {"error": "mock fault %d" % status}, headers=hdrs)

    def _stall(self):
        self.st.bump("stalls")
        end = time.monotonic() + float(self.st.config.get("stall_max_s", 120))
        while time.monotonic() < end and not self.server.mock._stopping.is_set():
            r, _, _ = select.select([self.connection], [], [], 0.2)
            if r:
                try:
                    if not self.connection.recv(1, socket.MSG_PEEK):
                        break               # the client closed
                except OSError:
                    break
        raise Abort("stall")

    # ---------------------------------------------------------------- checks
    def _verify(self, body_text):
        """Checks 5.2-5.4; returns (token, uid, query dict) or raises ValueError(reason)."""
        cfg = self.st.config
        pairs = [kv.split("=", 1) if "=" in kv else [kv, None] for kv in self.raw_query.split("&")]
        keys = [p[0] for p in pairs]
        want = [k for k in QUERY_KEYS if k != "device_id" or "device_id" in keys]
        if keys != want:
            raise ValueError("query keys %s, want %s" % (keys, want))
        q = {k: v for k, v in pairs}
        if any(v is None or "%" in v for v in q.values()):
            raise ValueError("query values must be sent raw (not URL-encoded)")
        for k, v in QUERY_FIXED.items():
            if q[k] != v:
                raise ValueError("query %s=%r, want %r" % (k, q[k], v))
        token = self.headers.get("token")
        if not token or token != q["token"]:
            raise ValueError("token header missing or not the query's token")
        uid = self.st.tokens.get(token)
        self.user = uid
        if uid is None:
            raise ValueError("unknown token")
        if q["user_id"] != uid:
            raise ValueError("user_id %r is not the token's realUserID" % q["user_id"])
        if self.path_only == P_REGISTER:
            if q.get("device_id") != "null" or not UUID_RE.match(q["uuid"]):
                raise ValueError("register: device_id must be null and uuid a fresh uuid4")
        else:
            if q["uuid"] != uid:
                raise ValueError("uuid %r is not the realUserID" % q["uuid"])
            dev = self.st.devices.get(q.get("device_id") or "")
            if dev is None or dev["user"] != uid:
                raise ValueError("device_id %r is not registered for this user"
                                 % q.get("device_id"))
            ttl = cfg.get("device_ttl_s")
            if time.time() - dev["t"] > float(10800 if ttl is None else ttl):
                raise ValueError("device registration older than device_ttl_s")
        if cfg.get("check_headers"):
            h = {k.lower(): v for k, v in self.headers.items()}
            if h.get("origin") != ORIGIN or not (h.get("referer") or "").startswith(ORIGIN + "/"):
                raise ValueError("Origin/Referer are not agent.minimaxi.com")
            if not (h.get("user-agent") or "").startswith("Mozilla/5.0"):
                raise ValueError("not a browser User-Agent")
            if "application/json" not in (h.get("accept") or ""):
                raise ValueError("Accept without application/json")
            if (h.get("content-type") or "").split(";")[0].strip() != "application/json":
                raise ValueError("Content-Type is not application/json")
        if cfg.get("check_signatures"):
            try:
                ts = int(self.headers.get("x-timestamp") or "")
                unix = int(q["unix"])
            except ValueError:
                raise ValueError("x-timestamp or unix not an integer")
            if abs(time.time() - ts) > float(cfg.get("clock_skew_s", 300)):
                raise ValueError("x-timestamp too far from now")
            if abs(unix / 1000.0 - ts) > 2:
                raise ValueError("unix (ms) and x-timestamp (s) disagree")
            full = self.path_only + "?" + self.raw_query
            yy = md5(encode_uri_component(full) + "_" + body_text + md5(q["unix"]) +
                     str(cfg.get("yy_salt")))
            if self.headers.get("yy") != yy:
                raise ValueError("bad yy signature")
            if self.headers.get("x-signature") != md5(str(ts) + token + body_text):
                raise ValueError("bad x-signature")
        if token in self.st.expired:
            raise PermissionError("expired")
        return token, uid, q

    # ---------------------------------------------------------------- dispatch
    def _dispatch(self, method):
        path, _, self.raw_query = self.path.partition("?")
        self.path_only = path
        self.user = None
        routes = {("GET", "/_mock/state"): self.h_state, ("GET", "/_mock/config"): self.h_config_get,
                  ("POST", "/_mock/config"): self.h_config, ("POST", "/_mock/reset"): self.h_reset,
                  ("POST", P_REGISTER): self.h_register, ("POST", P_SEND): self.h_send,
                  ("POST", P_DETAIL): self.h_detail, ("POST", P_DELETE): self.h_delete}
        h = routes.get((method, path))
        self.route = path.rsplit("/", 1)[-1] if h else "unknown"
        try:
            self.body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        if h is None:
            self.route = "unknown"
            return self._send(404, {"error": "no route %s %s" % (method, path)})
        self.st.bump("requests", self.route)
        try:
            if not path.startswith("/_mock/"):
                delay = float(self.st.config.get("api_delay_ms") or 0)
                if delay:
                    time.sleep(delay / 1000.0)
                try:
                    body_text = self.body.decode("utf-8")
                    self.token, self.uid, self.q = self._verify(body_text)
                except PermissionError:
                    return self._fault(CODE_EXPIRED)
                except (ValueError, UnicodeDecodeError) as e:
                    return self._reject(str(e))
                try:
                    self.json = json.loads(body_text)
                except ValueError:
                    return self._reject("body is not JSON")
                if not isinstance(self.json, dict):
                    return self._reject("body is not a JSON object")
                self.cfg = self.st.effective(self.token)
            h()
        except ClientGone:
            self.st.bump("client_disconnects")
            self.close_connection = True
        except Abort as e:
            self.st.bump("server_aborts")
            self.close_connection = True
            if str(e) == "reset":
                try:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               struct.pack("ii", 1, 0))
                except OSError:
                    pass
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    # ---------------------------------------------------------------- endpoints
    def h_register(self):
        f = self.st.take("register_status", self.token)
        if f:
            return self._fault(f)
        u = self.json.get("uuid")
        if set(self.json) != {"uuid"} or u != self.q["uuid"]:
            return self._reject("register body must be {\"uuid\"} with the query's uuid")
        dev = str(random.randint(10 ** 17, 10 ** 18 - 1))
        with self.st.lock:
            self.st.devices[dev] = {"user": self.uid, "t": time.time()}
            self.st.last["register"] = {"uuid": u, "user": self.uid, "device": dev,
                                        "query": self.raw_query}
        self.st.bump("registers", self.uid)
        self._send(200, {"statusInfo": {"code": 0, "message": "success"},
                         "data": {"deviceIDStr": dev, "realUserID": self.uid}})

    def h_send(self):
        b = self.json
        keys = set(b) - {"chat_id"}
        if keys != SEND_KEYS:
            return self._reject("send_msg body keys %s" % sorted(set(b)))
        if (b["msg_type"] != 1 or b["chat_type"] != 1 or b["attachments"] != [] or
                b["selected_mcp_tools"] != [] or b["backend_config"] != {} or
                b["sub_agent_ids"] != []):
            return self._reject("send_msg body values are not those of 5.5")
        text = b["text"]
        if not isinstance(text, str) or not text.strip():
            return self._reject("send_msg text is empty")
        last = last_user_turn(text)
        markers = {m.group(1): m.group(2) or "" for m in MARKER_RE.finditer(last)}
        echo = MARKER_RE.sub("", last).strip()
        with self.st.lock:
            self.st.last["send"] = {"t": round(time.time(), 3), "user": self.uid,
                                    "headers": {k.lower(): v for k, v in self.headers.items()},
                                    "query": self.raw_query, "body": b, "text": text,
                                    "last_user": last, "echo": echo, "markers": markers}
        self.st.bump("sends", self.uid)
        if "fail" in markers:
            return self._fault(int(markers["fail"]))
        f = self.st.take("send_status", self.token)
        if f:
            return self._fault(f)
        with self.st.lock:
            if "chat_id" in b:
                # a continued chat: answered, and only the new turn comes
                try:
                    cid, chat = self._chat(False)
                except ValueError as e:
                    return self._reject(str(e))
                if not (chat.complete() and chat.finish):
                    return self._reject("chat is running: send_msg before its answer ended")
                old = next((t for t in chat.seen if t and t in text), None)
                if old is not None:
                    return self._reject("the continued chat resent an earlier turn %r"
                                        % old[:60])
                history = "\n".join(chat.transcript)
                self.st.bump("continued_sends", self.uid)
            else:
                cid, chat, history = self.st.next_chat, None, ""
                self.st.next_chat += 1
            ids = (self.st.next_msg, self.st.next_msg + 1, self.st.next_msg + 2)
            self.st.next_msg += 3
            reply = mockbase.tool_reply(text, markers, self.cfg, history) or \
                mockbase.structured_reply(text, markers)
            if chat is None:
                chat = Chat(cid, self.uid, self.token, echo, self.cfg, markers, ids, reply)
                self.st.chats[str(cid)] = chat
            else:
                chat.continue_with(echo, self.cfg, markers, ids, reply)
            chat.transcript += [text, chat.content]
            self.st.last["send"]["chat_id"] = cid
            self.st.last["send"]["continued"] = "chat_id" in b
        cj = cid if self.cfg.get("chat_id_type") == "int" else str(cid)
        ans = {"chat_id": cj, "msg_id": ids[0]}
        if self.cfg.get("envelope") == "data":
            ans = {"data": ans}
        ans["base_resp"] = {"status_code": 0, "status_msg": "success"}
        self._send(200, ans)

    def _chat(self, want_int):
        cid = self.json.get("chat_id")
        if want_int and not isinstance(cid, int):
            raise ValueError("chat_id must be an integer")
        if isinstance(cid, bool) or not isinstance(cid, (int, str)):
            raise ValueError("chat_id must be the id send_msg answered")
        chat = self.st.chats.get(str(cid))
        if chat is None or chat.user != self.uid:
            raise ValueError("no such chat of this user")
        if chat.deleted:
            raise ValueError("the chat was deleted")
        return cid, chat

    def h_detail(self):
        try:
            cid, chat = self._chat(False)
        except ValueError as e:
            return self._reject(str(e))
        if set(self.json) != {"chat_id"}:
            return self._reject("get_chat_detail body must be {\"chat_id\"}")
        with self.st.lock:
            self.st.c["polls"] += 1
            n = len(chat.polls) + 1
        split, drip = chat.markers.get("split"), float(chat.markers.get("drip") or 0) / 1000.0
        if chat.pollfail is not None:
            what, first, k = chat.pollfail
            if n >= first and (k == 0 or n < first + k):
                chat.polls.append({"t": round(time.time(), 4), "fault": what})
                if what in ("close", "reset"):
                    raise Abort(what)
                if what == "hang":
                    self._stall()
                if what == "garbage":
                    return self._send(200, "<html>oops</html>", split=split, drip=drip)
                return self._fault(int(what))
        f = self.st.take("detail_status", self.token)
        if f:
            return self._fault(f)
        with self.st.lock:
            snap = chat.snapshot(cid)
        self._send(200, snap, split=split, drip=drip)

    def h_delete(self):
        try:
            cid, chat = self._chat(True)
        except ValueError as e:
            return self._reject(str(e))
        self.st.bump("deletes")
        f = self.st.take("delete_status", self.token)
        if f:
            return self._fault(f)
        with self.st.lock:
            running = chat.deletes_running > 0 or not (chat.complete() and chat.finish)
            if chat.deletes_running > 0:
                chat.deletes_running -= 1
            self.st.last["delete"] = {"t": round(time.time(), 3), "chat_id": cid,
                                      "running": running}
            if running:
                self.st.c["deletes_running"] += 1
            else:
                chat.deleted = True
                self.st.c["chats_deleted"] += 1
        if running:
            return self._send(200, {"base_resp": {"status_code": 1, "status_msg": "chat is running"}})
        self._send(200, {"base_resp": {"status_code": 0, "status_msg": "success"}})

    # ---------------------------------------------------------------- control
    def h_state(self):
        self._send(200, self.st.snapshot())

    def h_config_get(self):
        self._send(200, self.st.public_config())

    def h_config(self):
        try:
            self._send(200, self.st.configure(json.loads(self.body.decode() or "{}")))
        except (ValueError, TypeError) as e:
            self._send(400, {"error": "bad config: %s" % e})

    def h_reset(self):
        try:
            o = json.loads(self.body.decode() or "{}")
        except ValueError:
            o = {}
        o = o if isinstance(o, dict) else {}
        self.server.mock.reset(config=bool(o.get("config") or o.get("all")), all=bool(o.get("all")))
        self._send(200, {"status": "ok"})


class MiniMaxMock(mockbase.LoopbackMock):
    """The mock as an object: MiniMaxMock(port=0).start() ... .stop()."""

    def __init__(self, host="127.0.0.1", port=0, config=None, verbose=False):
        self.state = MockState(config)
        super().__init__(Handler, host, port, verbose, "minimax-mock")

    def reset(self, config=False, all=False):
        st = self.state
        with st.lock:
            st.reset_counters()
            if config:
                st.restore()
            if all:
                st.devices.clear()
                st.chats.clear()


def main(argv=None):
    ap = mockbase.cli_parser("Loopback mock of the MiniMax agent backend")
    a = ap.parse_args(argv)
    mock = MiniMaxMock(a.host, a.port, a.config, a.verbose)
    return mockbase.serve_cli(mock, a.port_file, "minimax mock listening on %s\n  token %s"
                              % (mock.url, DEFAULT_JWT))

if __name__ == "__main__":
    sys.exit(main())
