#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""Loopback mock of the Qwen China web backend (www.qianwen.com, chat2.qianwen.com and
chat2-api.qianwen.com) for chat2api tests.

Python 3 standard library, plus the `zstd` and `brotli` command-line tools (Debian packages
zstd and brotli) for the two codings Python lacks.  It speaks shared/protocols/providers.md
section 6 and *checks* what the real server checks, so a client bug makes a test fail.
Every path of every Qwen host is served here: point QWEN_BASE_URL at the mock's URL.

RUN
    python3 tests/mock/qwen_mock.py --port 0 --port-file /tmp/p [--host 127.0.0.1]
        [--ticket T]... [--config '{"encoding":"zstd"}'] [--verbose]
  The port file is written (atomically) once the server accepts connections; SIGTERM and
  SIGINT stop it.

IN PROCESS
    from qwen_mock import QwenMock, DEFAULT_TICKET
    m = QwenMock().start()      # m.url, m.configure({...}), m.snapshot(), m.reset(), m.stop()

CREDENTIAL (6.1)
  The cookie tongyi_sso_ticket=<ticket> (config ticket_cookie names another cookie, to prove
  the check: "login_tongyi_ticket" is the name that died in 2024), or login_aliyunid_ticket
  for the tickets of ALIYUN_TICKETS.  Known tickets: DEFAULT_TICKET, OTHER_TICKET, --ticket,
  config tickets (replace) / add_tickets / expired_tickets.  An unknown, missing or expired
  ticket gets NOT_LOGIN: by config auth_error "json" (HTTP 200 and
  {"success":false,"errorCode":"NOT_LOGIN","errorMsg":...}), "http401" (the same with 401)
  or, on the chat only, "sse" (a 200 stream whose one event carries error_code NOT_LOGIN).

CHECKS on every call (a failure is HTTP reject_status, 400, and
{"success":false,"errorCode":"BAD_REQUEST","errorMsg":<why>}, header x-mock-reason):
  POST; Origin https://www.qianwen.com; Referer https://www.qianwen.com/; a browser
  User-Agent; Sec-Fetch-Site same-site; Content-Type application/json; the query keys with
  these values: biz_id=ai_qwen, chat_client=h5, device=pc, fr=pc,
  pr=qwen, ut=<32 hex> (the order is not checked: last_requests shows it), and on the chat also nonce=<12 of [a-z0-9], never seen before> and
  timestamp=<ms within max_skew_ms of the mock's clock plus clock_offset_ms>; one ut per
  ticket (strict_device).  List and delete also want X-Platform: pc_tongyi and
  X-DeviceId equal to ut.  The chat body must have exactly the keys of 6.2 (in any order) with their
  values and types: deep_search "1" when enable_search or a thinking model (and "1"/"0"
  otherwise), req_id and session_id 32 new hex digits, a known model (config models),
  messages = one {"content", "mime_type":"text/plain", "meta_data":{"ori_query": content}},
  client_tm the query's timestamp, and so on.

ENDPOINTS
    POST /api/v2/chat?...                 the stream (6.3)
    POST /api/v2/session/page/list?...    body {} -> {"success":true,"code":0,"data":{"list":[...]}}
    POST /api/v1/session/delete/batch?... {"session_ids":[ids]}: the caller's live sessions
    POST /api/v2/session/delete?...       {"session_id":id} (the other client's variant)

STREAM (6.3: shape inferred by the protocol document; made explicit here)
  "data: " + {"communication":{"sessionid","reqid"},"data":{"messages":[M]},"error_code":0,
  "error_msg":""} per event, each a whole snapshot: M = {"mime_type", "content": the answer
  so far, "status", "meta_data":{"multi_load":[{"type":"deep_think","content":
  {"think_content": the reasoning so far}}, ...]}}.  The reply is "You said: <last user
  text, markers stripped>" (+ the [[unicode]] tail, [[long:N]] words, SEARCH_SUFFIX when
  enable_search).  A thinking request (a *thinking* model, or deep_search "1" without
  enable_search) first grows the reasoning.  Shape "card" (default) is a multi_load/iframe
  message whose content opens with "[(deep_think)]" and has "[(multimodal_chat_think_1)]"
  in the middle of the reply; snapshots grow by a few characters, so they end inside the
  markers too; "plain" is a text/plain message without markers.  Search adds a multi_load
  entry of type "search_result" that a client must ignore.  The end (config end):
  "complete" = the last snapshot with status "finished" and then `event: complete` with it
  again, "status" = only the finished status, "done" = a "data: [DONE]" line, "none" =
  nothing (the body just ends).
  Coding (config encoding or [[enc:X]]): identity, gzip, deflate (streamed, flushed per
  event), zstd (a frame per event through the zstd tool; zstd_frames false: one frame), br
  (the whole body through the brotli tool), or "bogus" (an unknown Content-Encoding over
  random bytes).  A coding the client's Accept-Encoding does not list
  is not used (identity instead, counted in encoding_refused) unless force_encoding.  JSON
  answers follow json_encoding the same way.

CONTROL API
    GET  /_mock/state   requests{route:n}, responses{"route status":n}, chats{ticket:n},
           chats_completed, lists{ticket:n}, sessions_created/sessions_deleted{ticket:n},
           sessions_live{ticket:n}, live_sessions{ticket:[ids]}, devices{ticket:[ut]},
           nonces_seen, encoding_refused, client_disconnects, server_aborts, stalls,
           rejections[{route,status,reason,user}], last_rejection, last_chat{headers, query,
           body, prompt, last_user, user_text, markers, model, thinking, search, reply_text,
           reasoning_text, events[], encoding, accept_encoding, bytes, completed, session_id,
           req_id, user}, last_requests{route:{headers,query,body}}, recent[]
    GET  /_mock/config  the configuration
    POST /_mock/config  merge a JSON object of DEFAULT_CONFIG keys plus tickets,
           add_tickets, expired_tickets, reset (true: the start-up config first); by_ticket
           {"<ticket>": {knob: value} | null} overrides knobs for one ticket.  Faults
           chat_status, list_status, delete_status (401, 403, 429, 500, 502, 503; 200 = a
           JSON refusal with HTTP 200; "notlogin"; "limit" = FLOW_LIMIT with HTTP 200) and
           close_after_events / stall_after_events take <key>_times = N (then heal).
    POST /_mock/reset   counters; {"config":true} also the start-up config; {"all":true}
           also sessions, nonces and devices

MARKERS (in the last user text of the prompt; stripped from the echo)
    [[split:none|bytes|random|N]] HTTP chunking (bytes: one byte per chunk, inside UTF-8,
                  SSE lines and compressed data)   [[drip:MS]] between events (pieces when
                  compressed)   [[delay:MS]] before the head   [[close:N]] FIN after N
                  events   [[reset:N]] RST after N events   [[stall:N]] stop writing after
                  N events (stall_max_s)
    [[fail:CODE]]  as the chat_status fault    [[cf:CODE]] a Cloudflare HTML page
    [[unicode]] [[long:N]] [[enc:X]] [[shape:card|plain]] [[end:complete|status|done|none]]
    [[crlf]] CRLF line ends   [[ascii]] \\uXXXX escapes   [[named]] "event: message" lines
    [[error:mid|event|login|limit]]  mid = half the answer, then a data line with error_code
                  INTERNAL_ERROR; event = the same as `event: error`; login = error_code
                  NOT_LOGIN before anything; limit = error_code FLOW_LIMIT before anything
"""

import argparse
import bisect
import copy
import gzip
import json
import os
import random
import re
import secrets
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

DEFAULT_TICKET = "qwMockTicket0001-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_AbCdEf*GhIj"
OTHER_TICKET = "qwMockTicket0002-ZyXwVuTsRqPoNmLkJiHgFeDcBa9876543210_ZyXwVu*TsRq"
ALIYUN_TICKET = "qwMockAliyun0003-QwErTyUiOpAsDfGhJkLzXcVbNm1357924680_QwErTy"
ALIYUN_TICKETS = {ALIYUN_TICKET}
ORIGIN = "https://www.qianwen.com"
MODELS = ["tongyi-qwen3-max-model-agent", "tongyi-qwen3-max-thinking-agent",
          "tongyi-qwen-plus-agent", "Qwen3.5-Plus", "qwen3-flash", "qwen3-coder-plus"]
QUERY_FIXED = [("biz_id", "ai_qwen"), ("chat_client", "h5"), ("device", "pc"), ("fr", "pc"),
               ("pr", "qwen")]
CHAT_KEYS = ["deep_search", "req_id", "model", "scene", "session_id", "sub_scene", "temporary",
             "messages", "from", "parent_req_id", "enable_search", "biz_data", "scene_param",
             "chat_client", "client_tm", "protocol_version", "biz_id"]
CHAT_FIXED = {"scene": "chat", "sub_scene": "chat", "temporary": False, "from": "default",
              "parent_req_id": "0", "biz_data": '{"entryPoint":"tongyigw"}',
              "scene_param": "first_turn", "chat_client": "h5", "protocol_version": "v2",
              "biz_id": "ai_qwen"}
HEX32 = re.compile(r"[0-9a-f]{32}")
NONCE = re.compile(r"[a-z0-9]{12}")
MARKER_RE = re.compile(r"\[\[([a-z_]+)(?::([^\]]*))?\]\]")
CARD_THINK = "[(deep_think)]"
CARD_MID = "[(multimodal_chat_think_1)]"
STEPS = (3, 5, 2, 7, 4, 6, 1, 8)            # characters a snapshot grows by (cycled)
UNICODE_TAIL = " — 你好，世界！😀🐋 通义千问 éè 🎉"
SEARCH_SUFFIX = " (searched the web)"
NOT_LOGIN = {"success": False, "code": 40100, "errorCode": "NOT_LOGIN",
             "errorMsg": "\u8bf7\u5148\u767b\u5f55", "data": None}          # 请先登录
FLOW_LIMIT = {"success": False, "code": 42900, "errorCode": "FLOW_LIMIT",
              "errorMsg": "\u8bf7\u6c42\u8fc7\u4e8e\u9891\u7e41", "data": None}   # 请求过于频繁
MID_ERROR = {"error_code": "INTERNAL_ERROR", "error_msg": "mock internal error mid-answer"}
MAX_BODY = 16 * 1024 * 1024
CODINGS = ("identity", "gzip", "deflate", "br", "zstd", "bogus")
WHOLE = ("br", "bogus")                     # coded as one body, not per event

DEFAULT_CONFIG = {
    "ticket_cookie": "tongyi_sso_ticket",   # the cookie a ticket must come in
    "aliyun_cookie": "login_aliyunid_ticket",
    "auth_error": "json",                   # json | http401 | sse (chat only)
    "check_headers": True,
    "reject_status": 400,
    "models": list(MODELS),
    "max_skew_ms": 300000,                  # timestamp / client_tm window
    "clock_offset_ms": 0,                   # the mock's clock is off by this much
    "strict_device": True,                  # one ut per ticket
    "unique_nonce": True,
    # responses
    "encoding": "identity",                 # the stream's coding (CODINGS)
    "json_encoding": "identity",            # list and delete answers
    "force_encoding": False,                # use it even when the client did not offer it
    "zstd_frames": True,                    # zstd: a frame per event (false: one frame)
    "shape": "card",                        # card | plain
    "end": "complete",                      # complete | status | done | none
    "named_events": False,                  # "event: message" before each data line
    "unicode": False,
    "long_words": 0,
    "json_ascii": False,
    "crlf": False,
    "split": "none",                        # none | bytes | random | <int>
    "split_seed": 1,
    "random_split_max": 16,
    "drip_ms": 0,
    "delay_ms": 0,
    "api_delay_ms": 0,
    "stream_error": None,                   # null | mid | event | login | limit
    # faults: status (0 = none) and <key>_times = N (null = every request)
    "chat_status": 0, "chat_status_times": None,
    "list_status": 0, "list_status_times": None,
    "delete_status": 0, "delete_status_times": None,
    "close_after_events": None, "close_after_events_times": None,
    "close_mode": "fin",                    # fin | reset
    "stall_after_events": None, "stall_after_events_times": None,
    "stall_max_s": 300,
    "retry_after": 30,
    "by_ticket": {},
}
HEALING = ("chat_status", "list_status", "delete_status", "close_after_events",
           "stall_after_events")
SPECIAL = {"tickets", "add_tickets", "expired_tickets", "reset"}


class ClientGone(Exception):
    """The client closed the connection while we were writing or waiting."""


class Abort(Exception):
    """The stream is cut on purpose (a knob or a marker)."""


# --------------------------------------------------------------------------- prompt

def last_user(prompt):
    """The last user text of a flattened prompt: after the last "User: " block label, or the
    whole prompt when it has no labels (a bare question)."""
    starts = [m.start() for m in re.finditer(r"(?:^|\n\n)User: ", prompt)]
    if not starts:
        return prompt
    i = starts[-1]
    text = prompt[i:].split("User: ", 1)[1]
    m = re.search(r"\n\n(?:Assistant|Tool|System): ", text)
    return text[:m.start()] if m else text


def grow(text, start=0):
    """Prefix lengths from start to len(text), growing by STEPS characters (cycled)."""
    out, n, k = [], start, 0
    while n < len(text):
        n = min(len(text), n + STEPS[k % len(STEPS)])
        out.append(n)
        k += 1
    return out


# --------------------------------------------------------------------------- codings

def _tool(argv, data):
    p = subprocess.run(argv, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       check=True)
    return p.stdout


class Coder:
    """One response body's coding; feed() per event, end() at the end.  zstd with frames
    is one zstd frame per event (a decoder takes the frames one after the other, as a server
    that flushes would have it); br and bogus are coded as one body at the end."""

    def __init__(self, name, frames=True):
        self.name, self.parts, self.frames = name, [], frames
        if name == "gzip":
            self.z = zlib.compressobj(6, zlib.DEFLATED, 31)
        elif name == "deflate":
            self.z = zlib.compressobj(6, zlib.DEFLATED, 15)
        else:
            self.z = None

    def feed(self, data):
        if self.z is not None:
            return self.z.compress(data) + self.z.flush(zlib.Z_SYNC_FLUSH)
        if self.name == "identity":
            return data
        if self.name == "zstd" and self.frames:
            return _tool(["zstd", "-c", "-q", "-3"], data) if data else b""
        self.parts.append(data)             # br, zstd, bogus: all at the end
        return b""

    def end(self):
        if self.z is not None:
            return self.z.flush(zlib.Z_FINISH)
        data = b"".join(self.parts)
        if not data and self.name != "bogus":
            return b""
        if self.name == "br":
            return _tool(["brotli", "-c", "-q", "5"], data)
        if self.name == "zstd":
            return _tool(["zstd", "-c", "-q", "-3"], data)
        if self.name == "bogus":
            return secrets.token_bytes(64)
        return b""

    def whole(self, data):
        return self.feed(data) + self.end()


def accepted(header, coding):
    """Whether an Accept-Encoding header value offers coding (q=0 refuses)."""
    if coding == "identity":
        return True
    for item in (header or "").split(","):
        parts = [p.strip() for p in item.split(";")]
        if parts[0].lower() in (coding, "*"):
            return not any(p.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000")
                           for p in parts[1:])
    return False


# --------------------------------------------------------------------------- state

class State:
    def __init__(self, tickets=(), config=None):
        self.lock = threading.RLock()
        self.config = copy.deepcopy(DEFAULT_CONFIG)
        self.tickets = {}                   # ticket -> {"expired": bool}
        for t in (DEFAULT_TICKET, OTHER_TICKET, ALIYUN_TICKET) + tuple(tickets):
            self.tickets[t] = {"expired": False}
        self.sessions = {}                  # id -> {"owner", "live", "title"}
        self.nonces = set()
        self.devices = {}                   # ticket -> [ut, ...]
        self.clear()
        if config:
            self.configure(config)
        self.start_config = copy.deepcopy(self.config)
        self.start_tickets = copy.deepcopy(self.tickets)

    def clear(self):
        with self.lock:
            self.n = {"requests": {}, "responses": {}, "chats": {}, "lists": {},
                      "sessions_created": {}, "sessions_deleted": {}, "chats_completed": 0,
                      "encoding_refused": 0, "client_disconnects": 0, "server_aborts": 0,
                      "stalls": 0}
            self.last = {"chat": None, "rejection": None, "disconnect": None}
            self.last_requests, self.rejections, self.recent = {}, [], []

    def count(self, key, sub=None):
        with self.lock:
            if sub is None:
                self.n[key] = self.n.get(key, 0) + 1
            else:
                self.n[key][sub] = self.n[key].get(sub, 0) + 1

    def reject(self, route, status, reason, user):
        with self.lock:
            r = {"t": round(time.time(), 3), "route": route, "status": status,
                 "reason": reason, "user": user}
            self.last["rejection"] = r
            self.rejections = (self.rejections + [r])[-100:]

    def configure(self, obj):
        if not isinstance(obj, dict):
            raise ValueError("config must be a JSON object")
        with self.lock:
            for k in obj:
                if k not in DEFAULT_CONFIG and k not in SPECIAL:
                    raise ValueError("unknown config key %r" % k)
            if obj.get("reset") and hasattr(self, "start_config"):
                self.config = copy.deepcopy(self.start_config)
                self.tickets = copy.deepcopy(self.start_tickets)
            for k, v in obj.items():
                if k == "reset":
                    continue
                if k in ("tickets", "add_tickets", "expired_tickets"):
                    if not isinstance(v, list) or not all(isinstance(t, str) and t for t in v):
                        raise ValueError("%s must be a list of non-empty strings" % k)
                    if k == "tickets":
                        for t in self.tickets:
                            self.tickets[t]["expired"] = t not in v
                    for t in v:
                        self.tickets[t] = {"expired": k == "expired_tickets"}
                elif k == "by_ticket":
                    if not isinstance(v, dict):
                        raise ValueError("by_ticket must be an object")
                    for t, over in v.items():
                        if over is None:
                            self.config["by_ticket"].pop(t, None)
                            continue
                        bad = [kk for kk in (over if isinstance(over, dict) else [None])
                               if kk not in DEFAULT_CONFIG or kk == "by_ticket"]
                        if bad:
                            raise ValueError("bad by_ticket entry for %r: %r" % (t, bad))
                        self.config["by_ticket"].setdefault(t, {}).update(copy.deepcopy(over))
                else:
                    self.config[k] = copy.deepcopy(v)
            return self.public_config()

    def public_config(self):
        with self.lock:
            c = copy.deepcopy(self.config)
            c["tickets"] = sorted(t for t, r in self.tickets.items() if not r["expired"])
            c["expired_tickets"] = sorted(t for t, r in self.tickets.items() if r["expired"])
            return c

    def knobs(self, ticket):
        with self.lock:
            c = copy.deepcopy(self.config)
            c.update(copy.deepcopy(self.config["by_ticket"].get(ticket) or {}))
            return c

    def take(self, key, ticket):
        """A healing knob's value for this ticket; spends one of <key>_times."""
        with self.lock:
            for layer in (self.config["by_ticket"].get(ticket), self.config):
                if not layer or not layer.get(key):
                    continue
                value, times = layer[key], layer.get(key + "_times")
                if times is not None:
                    if times <= 1:
                        layer[key], layer[key + "_times"] = DEFAULT_CONFIG[key], None
                        if times < 1:
                            continue
                    else:
                        layer[key + "_times"] = times - 1
                return value
            return DEFAULT_CONFIG[key]

    def snapshot(self):
        with self.lock:
            s = copy.deepcopy(self.n)
            live = {}
            for sid, rec in self.sessions.items():
                if rec["live"]:
                    live.setdefault(rec["owner"], []).append(sid)
            s["live_sessions"] = live
            s["sessions_live"] = {t: len(v) for t, v in live.items()}
            s["devices"] = copy.deepcopy(self.devices)
            s["nonces_seen"] = len(self.nonces)
            for k, v in self.last.items():
                s["last_" + k] = copy.deepcopy(v)
            s["last_requests"] = copy.deepcopy(self.last_requests)
            s["rejections"] = copy.deepcopy(self.rejections)
            s["recent"] = copy.deepcopy(self.recent)
            return s


# --------------------------------------------------------------------------- the stream

class Stream:
    """The events of one chat answer (section 6.3)."""

    def __init__(self, sid, rid, ascii_, crlf, named):
        self.sid, self.rid, self.events = sid, rid, []
        self.ascii, self.nl, self.named = ascii_, "\r\n" if crlf else "\n", named

    def raw(self, data, name=None):
        if name is None and self.named:
            name = "message"
        head = "event: %s%s" % (name, self.nl) if name else ""
        self.events.append((head + "data: " + data + self.nl + self.nl).encode("utf-8"))

    def obj(self, o, name=None):
        self.raw(json.dumps(o, ensure_ascii=self.ascii, separators=(",", ":")), name)

    def snap(self, mime, content, status, loads, name=None):
        msg = {"mime_type": mime, "content": content, "status": status,
               "meta_data": {"multi_load": loads}}
        self.obj({"communication": {"sessionid": self.sid, "reqid": self.rid},
                  "data": {"messages": [msg]}, "error_code": 0, "error_msg": ""}, name)


def build(st, body, user_text, thinking, search, knob, markers):
    """Fill st with the answer; returns (reply, reasoning, answer content as sent)."""
    reply = "You said: " + user_text
    if "unicode" in markers or knob["unicode"]:
        reply += UNICODE_TAIL
    words = int(markers.get("long") or knob["long_words"] or 0)
    reply += "".join(" word%d" % i for i in range(1, words + 1))
    if search:
        reply += SEARCH_SUFFIX
    reasoning = ("Thinking about: %s. An echo is wanted, so I echo it." % user_text
                 if thinking else "")
    card = (markers.get("shape") or knob["shape"]) == "card"
    mime = "multi_load/iframe" if card else "text/plain"
    err = markers.get("error") or knob["stream_error"]
    if err in ("login", "limit"):
        e = NOT_LOGIN if err == "login" else FLOW_LIMIT
        st.obj({"communication": {"sessionid": st.sid, "reqid": st.rid},
                "data": None, "error_code": e["errorCode"], "error_msg": e["errorMsg"]})
        return "", "", ""
    content = reply
    if card:
        cut = reply.find(" ", len(reply) // 2)
        cut = len(reply) if cut < 0 else cut
        content = CARD_THINK + reply[:cut] + CARD_MID + reply[cut:]
    lead = CARD_THINK if card and thinking else ""
    if card and not thinking:
        content = content[len(CARD_THINK):]
    extra = [{"type": "search_result", "content": {"links": [{"url": "https://example.com/q",
                                                              "title": "Mock result"}]}}
             ] if search else []

    def loads(k):
        think = [{"type": "deep_think", "content": {"think_content": reasoning[:k]}}]
        return (think if thinking else []) + extra
    for k in grow(reasoning):
        st.snap(mime, lead, "processing", loads(k))
    sizes = grow(content, len(lead))
    if err in ("mid", "event"):
        sizes = sizes[:max(1, len(sizes) // 2)]
    for k in sizes:
        st.snap(mime, content[:k], "processing", loads(len(reasoning)))
    if err == "mid":
        st.obj(dict(MID_ERROR, communication={"sessionid": st.sid, "reqid": st.rid}))
        return content[:sizes[-1]], reasoning, content
    if err == "event":
        st.obj(MID_ERROR, "error")
        return content[:sizes[-1]], reasoning, content
    end = markers.get("end") or knob["end"]
    if end in ("complete", "status"):
        st.snap(mime, content, "finished", loads(len(reasoning)))
    if end == "complete":
        st.snap(mime, content, "finished", loads(len(reasoning)), "complete")
    elif end == "done":
        st.raw("[DONE]")
    return reply, reasoning, content


# --------------------------------------------------------------------------- HTTP

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 120

    def version_string(self):
        return "Tengine"

    def log_message(self, fmt, *args):
        if self.server.mock.verbose:
            sys.stderr.write("[qwen-mock] %s\n" % (fmt % args))

    def setup(self):
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self.server.mock.conns_add(self.connection)

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass
        self.server.mock.conns_del(self.connection)

    @property
    def st(self):
        return self.server.mock.state

    def do_GET(self):
        self.serve("GET")

    def do_POST(self):
        self.serve("POST")

    def do_DELETE(self):
        self.serve("DELETE")

    def do_PUT(self):
        self.serve("PUT")

    # ------------------------------------------------------------ plumbing
    def body_bytes(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            out = bytearray()
            while True:
                size = int(self.rfile.readline(1024).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline(16)
                if len(out) > MAX_BODY:
                    raise OverflowError("body too large")
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 <= length <= MAX_BODY:
            raise OverflowError("bad Content-Length")
        data = self.rfile.read(length) if length else b""
        if len(data) != length:
            raise ValueError("short body")
        return data

    def done(self, status):
        if self.answered:
            return
        self.answered = True
        if self.route.startswith("mock_"):
            return
        with self.st.lock:
            self.st.count("responses", "%s %d" % (self.route, status))
            self.st.recent = (self.st.recent + [{
                "t": round(time.time(), 3), "method": self.command, "path": self.path_only,
                "route": self.route, "status": status, "user": self.user}])[-100:]

    def reply(self, status, data, ctype="application/json", headers=(), coding=None):
        self.done(status)
        if isinstance(data, (dict, list)):
            data = json.dumps(data, ensure_ascii=False)
        if isinstance(data, str):
            data = data.encode("utf-8")
        hdrs = list(headers)
        coding = self.coding(coding or (self.knob or {}).get("json_encoding") or "identity")
        if coding != "identity" and data:
            data = Coder(coding).whole(data)
            hdrs.append(("Content-Encoding", "x-bogus" if coding == "bogus" else coding))
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in hdrs:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def coding(self, want):
        """The coding to use: want, if the client offers it (or force_encoding)."""
        if want == "identity" or self.route.startswith("mock_"):
            return "identity"
        if (self.knob or {}).get("force_encoding") or want == "bogus" or \
                accepted(self.headers.get("Accept-Encoding"), want):
            return want
        self.st.count("encoding_refused")
        return "identity"

    def refuse(self, status, obj, reason, ctype="application/json", headers=()):
        self.st.reject(self.route, status, reason, self.user)
        hdrs = [("x-mock-reason", reason.encode("ascii", "replace").decode()[:300])]
        self.reply(status, obj, ctype, hdrs + list(headers), coding="identity")

    def bad(self, reason):
        return self.refuse(int(self.knob.get("reject_status") or 400),
                           {"success": False, "code": 40000, "errorCode": "BAD_REQUEST",
                            "errorMsg": reason, "data": None}, reason)

    def not_login(self, reason):
        status = 401 if self.knob.get("auth_error") == "http401" else 200
        if self.knob.get("auth_error") == "sse" and self.route == "chat":
            self.st.reject(self.route, 200, reason, self.user)
            s = Stream("", "", False, False, False)
            s.obj({"communication": {}, "data": None, "error_code": "NOT_LOGIN",
                   "error_msg": NOT_LOGIN["errorMsg"]})
            return self.stream(s.events, self.knob, {}, None)
        return self.refuse(status, NOT_LOGIN, reason)

    def fault(self, value):
        reason = "injected %s on %s" % (value, self.route)
        if value == "notlogin":
            return self.not_login(reason)
        if value == "limit":
            return self.refuse(200, FLOW_LIMIT, reason)
        status = int(value)
        if status == 200:
            return self.refuse(200, {"success": False, "code": 50000, "errorCode":
                                     "SYSTEM_ERROR", "errorMsg": "mock: refused"}, reason)
        if status == 429:
            return self.refuse(429, FLOW_LIMIT, reason,
                               headers=[("Retry-After", str(self.knob.get("retry_after", 30)))])
        return self.refuse(status, {"success": False, "code": status * 100,
                                    "errorCode": "HTTP_%d" % status,
                                    "errorMsg": "mock status %d" % status}, reason)

    def cloudflare(self, status):
        html = ("<!DOCTYPE html><html><head><title>%d</title></head><body>"
                "<div id=\"cf-error-details\">Cloudflare Ray ID: %016x</div></body></html>"
                % (status, random.getrandbits(64)))
        return self.refuse(status, html, "cloudflare page (marker)", "text/html")

    def wait(self, seconds):
        """Sleep; ClientGone when the client hangs up meanwhile."""
        end = time.monotonic() + seconds
        while True:
            if self.server.mock.stopping.is_set():
                raise Abort("stopping")
            left = end - time.monotonic()
            if left <= 0:
                return
            try:
                ready, _, _ = select.select([self.connection], [], [], min(left, 0.1))
                if ready and not self.connection.recv(1, socket.MSG_PEEK):
                    raise ClientGone("peer closed")
            except (BlockingIOError, InterruptedError):
                continue
            except (OSError, ValueError) as e:
                raise ClientGone(str(e))
            if ready:
                time.sleep(max(0.0, end - time.monotonic()))
                return

    # ------------------------------------------------------------ dispatch
    def serve(self, method):
        self.answered, self.user, self.knob = False, None, self.st.knobs(None)
        u = urlsplit(self.path)
        self.path_only, self.query = u.path, parse_qsl(u.query, keep_blank_values=True)
        self.route = ROUTES.get((method, u.path)) or (
            "method_not_allowed" if any(p == u.path for _, p in ROUTES) else "not_found")
        try:
            self.body = self.body_bytes()
        except (ValueError, OverflowError) as e:
            self.close_connection = True
            return self.reply(400, {"success": False, "errorMsg": str(e)})
        if not self.route.startswith("mock_"):
            with self.st.lock:
                self.st.count("requests", self.route)
                self.st.last_requests[self.route] = {
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "query": self.query, "body": self.body.decode("utf-8", "replace")[:20000]}
        try:
            if self.route in ("not_found", "method_not_allowed"):
                self.reply(404 if self.route == "not_found" else 405,
                           {"success": False, "errorCode": "NOT_FOUND", "errorMsg": self.path})
            else:
                getattr(self, "h_" + self.route)()
        except (ClientGone, Abort, BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as e:          # a bug in the mock: loud, and keep serving
            import traceback
            traceback.print_exc()
            self.close_connection = True
            if not self.answered:
                try:
                    self.reply(500, {"success": False, "errorMsg": "mock bug: %r" % (e,)})
                except OSError:
                    pass
        finally:
            self.done(0)

    # ------------------------------------------------------------ checks
    def ticket_of(self):
        """(ticket, None) or (None, reason) from the Cookie header."""
        jar = {}
        for part in (self.headers.get("Cookie") or "").split(";"):
            if "=" in part:
                k, v = part.split("=", 1)
                jar[k.strip()] = v.strip()
        t = jar.get(self.knob["ticket_cookie"])
        if t is None and jar.get(self.knob["aliyun_cookie"]) in ALIYUN_TICKETS:
            t = jar[self.knob["aliyun_cookie"]]
        elif t in ALIYUN_TICKETS:
            return None, "an Aliyun ticket must come as %s" % self.knob["aliyun_cookie"]
        if t is None:
            return None, "no %s cookie (cookies: %s)" % (self.knob["ticket_cookie"],
                                                         sorted(jar))
        rec = self.st.tickets.get(t)
        if rec is None:
            return None, "unknown ticket"
        if rec["expired"]:
            return t, "expired ticket"
        return t, None

    def browser(self):
        h = self.headers
        if self.command != "POST":
            return "method %s, not POST" % self.command
        if h.get("Origin") != ORIGIN:
            return "Origin is %r, not %s" % (h.get("Origin"), ORIGIN)
        if h.get("Referer") != ORIGIN + "/":
            return "Referer is %r, not %s/" % (h.get("Referer"), ORIGIN)
        if not (h.get("User-Agent") or "").startswith("Mozilla/5.0 ("):
            return "User-Agent %r is not a browser's" % h.get("User-Agent")
        if h.get("Sec-Fetch-Site") != "same-site":
            return "Sec-Fetch-Site is %r, not same-site" % h.get("Sec-Fetch-Site")
        if (h.get("Content-Type") or "").split(";")[0].strip().lower() != "application/json":
            return "Content-Type is %r, not application/json" % h.get("Content-Type")
        if self.route != "chat":
            if h.get("X-Platform") != "pc_tongyi":
                return "X-Platform is %r, not pc_tongyi" % h.get("X-Platform")
        return None

    def query_check(self, chat):
        q = self.query
        keys = [k for k, _ in q]
        want = [k for k, _ in QUERY_FIXED] + ["ut"] + (["nonce", "timestamp"] if chat else [])
        if sorted(keys) != sorted(want):
            return "query keys %s, want %s" % (keys, want)
        d = dict(q)
        for k, v in QUERY_FIXED:
            if d[k] != v:
                return "query %s=%r, want %r" % (k, d[k], v)
        if not HEX32.fullmatch(d["ut"]):
            return "ut %r is not 32 hex digits" % d["ut"]
        if not chat:
            if self.headers.get("X-DeviceId") != d["ut"]:
                return "X-DeviceId %r is not ut %r" % (self.headers.get("X-DeviceId"), d["ut"])
            return None
        if not NONCE.fullmatch(d["nonce"]):
            return "nonce %r is not 12 of [a-z0-9]" % d["nonce"]
        if not d["timestamp"].isdigit():
            return "timestamp %r is not milliseconds" % d["timestamp"]
        now = time.time() * 1000 + float(self.knob.get("clock_offset_ms") or 0)
        if abs(int(d["timestamp"]) - now) > float(self.knob["max_skew_ms"]):
            return "timestamp %s is %d ms off the mock's clock" % (d["timestamp"],
                                                                   int(d["timestamp"]) - now)
        with self.st.lock:
            if self.knob.get("unique_nonce", True) and d["nonce"] in self.st.nonces:
                return "nonce %s was used before" % d["nonce"]
            self.st.nonces.add(d["nonce"])
        return None

    def gate(self, fault_key):
        """Headers, query, ticket, fault.  The ticket, or None once answered."""
        chat = self.route == "chat"
        t, why = self.ticket_of()
        self.user = t
        self.knob = self.st.knobs(t)
        if self.knob.get("check_headers", True):
            reason = self.browser() or self.query_check(chat)
            if reason:
                return self.bad(reason)
        if why:
            return self.not_login(why)
        ut = dict(self.query).get("ut")
        with self.st.lock:
            seen = self.st.devices.setdefault(t, [])
            if ut and ut not in seen:
                seen.append(ut)
            moved = len(seen) > 1 and self.knob.get("strict_device", True)
        if moved:
            return self.bad("ticket seen with %d device ids %s" % (len(seen), seen))
        f = self.st.take(fault_key, t)
        if f:
            return self.fault(f)
        if not chat and self.knob.get("api_delay_ms"):
            self.wait(float(self.knob["api_delay_ms"]) / 1000.0)
        return t

    def json_body(self):
        try:
            b = json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return None, "body is not JSON"
        return (b, None) if isinstance(b, dict) else (None, "body is not a JSON object")

    def chat_check(self, b):
        """The 6.2 body; returns a reason or None."""
        if sorted(b) != sorted(CHAT_KEYS):
            return "body keys %s, want %s" % (sorted(b), sorted(CHAT_KEYS))
        for k, v in CHAT_FIXED.items():
            if b[k] != v or type(b[k]) is not type(v):
                return "%s is %r, want %r" % (k, b[k], v)
        for k in ("req_id", "session_id"):
            if not isinstance(b[k], str) or not HEX32.fullmatch(b[k]):
                return "%s %r is not 32 hex digits" % (k, b[k])
        if b["model"] not in self.knob["models"]:
            return "unknown model %r" % (b["model"],)
        if not isinstance(b["enable_search"], bool):
            return "enable_search is not a boolean"
        if b["deep_search"] not in ("0", "1"):
            return "deep_search %r is not \"0\" or \"1\"" % (b["deep_search"],)
        if (b["enable_search"] or "thinking" in b["model"]) and b["deep_search"] != "1":
            return "deep_search must be \"1\" with search or a thinking model"
        if b["client_tm"] != dict(self.query).get("timestamp"):
            return "client_tm %r is not the query's timestamp" % (b["client_tm"],)
        m = b["messages"]
        if not (isinstance(m, list) and len(m) == 1 and isinstance(m[0], dict)):
            return "messages is not a list of one object"
        m = m[0]
        if list(m) != ["content", "mime_type", "meta_data"] or m["mime_type"] != "text/plain" \
                or not isinstance(m["content"], str) or not m["content"] \
                or m["meta_data"] != {"ori_query": m["content"]}:
            return "the message is not {content, mime_type: text/plain, meta_data.ori_query}"
        with self.st.lock:
            if b["session_id"] in self.st.sessions:
                return "session_id %s exists already" % b["session_id"]
        return None

    # ------------------------------------------------------------ endpoints
    def h_chat(self):
        t = self.gate("chat_status")
        if t is None:
            return
        b, why = self.json_body()
        why = why or self.chat_check(b)
        if why:
            return self.bad(why)
        knob, prompt = self.knob, b["messages"][0]["content"]
        text = last_user(prompt)
        markers = {m.group(1): m.group(2) or "" for m in MARKER_RE.finditer(text)}
        user_text = MARKER_RE.sub("", text).strip()
        try:
            if "cf" in markers:
                return self.cloudflare(int(markers["cf"] or 503))
            if "fail" in markers:
                return self.fault(markers["fail"])
        except ValueError:
            return self.bad("bad marker value in %r" % text)
        coding = markers.get("enc") or knob["encoding"]
        if coding not in CODINGS or (markers.get("error") or knob["stream_error"] or "mid") \
                not in ("mid", "event", "login", "limit"):
            return self.bad("mock: bad coding or stream error")
        delay = markers.get("delay") or knob["delay_ms"]
        if delay:
            self.wait(float(delay) / 1000.0)
        search = b["enable_search"]
        thinking = "thinking" in b["model"] or (b["deep_search"] == "1" and not search)
        sid, rid = b["session_id"], b["req_id"]
        with self.st.lock:
            self.st.sessions[sid] = {"owner": t, "live": True, "title": user_text[:20]}
            self.st.count("sessions_created", t)
            self.st.count("chats", t)
        s = Stream(sid, rid, "ascii" in markers or knob["json_ascii"],
                   "crlf" in markers or knob["crlf"], "named" in markers or knob["named_events"])
        reply, reasoning, content = build(s, b, user_text, thinking, search, knob, markers)
        coding = self.coding(coding)
        lc = {"t": round(time.time(), 3), "user": t, "query": self.query,
              "headers": {k.lower(): v for k, v in self.headers.items()}, "body": b,
              "prompt": prompt, "last_user": text, "user_text": user_text, "markers": markers,
              "model": b["model"], "thinking": thinking, "search": search,
              "reply_text": reply, "reasoning_text": reasoning, "content": content,
              "events": [e.decode("utf-8") for e in s.events], "encoding": coding,
              "accept_encoding": self.headers.get("Accept-Encoding"),
              "session_id": sid, "req_id": rid, "completed": False}
        with self.st.lock:
            self.st.last["chat"] = lc
        self.stream(s.events, knob, markers, lc, coding)

    def h_list(self):
        t = self.gate("list_status")
        if t is None:
            return
        b, why = self.json_body()
        if why or b != {}:
            return self.bad(why or "list body must be {}")
        self.st.count("lists", t)
        with self.st.lock:
            rows = [{"sessionId": sid, "title": r["title"]} for sid, r in self.st.sessions.items()
                    if r["owner"] == t and r["live"]]
        self.reply(200, {"success": True, "code": 0, "msg": "", "data": {"list": rows,
                                                                        "hasMore": False}})

    def _delete(self, ids):
        t = self.gate("delete_status")
        if t is None:
            return
        if not ids or not all(isinstance(i, str) for i in ids):
            return self.bad("no session ids")
        with self.st.lock:
            for sid in ids:
                rec = self.st.sessions.get(sid)
                if rec is None or rec["owner"] != t or not rec["live"]:
                    why = "session %s is unknown, not the caller's or deleted" % sid
                    self.st.reject(self.route, 200, why, t)
                    return self.reply(200, {"success": False, "code": 40400, "errorCode":
                                            "SESSION_NOT_FOUND", "errorMsg": why},
                                      headers=[("x-mock-reason", why)])
            for sid in ids:
                self.st.sessions[sid]["live"] = False
                self.st.count("sessions_deleted", t)
        self.reply(200, {"success": True, "code": 0, "msg": "", "data": True})

    def h_delete_batch(self):
        b, why = self.json_body()
        if why or list(b) != ["session_ids"] or not isinstance(b["session_ids"], list):
            return self.bad(why or "delete body must be {\"session_ids\":[...]}")
        self._delete(b["session_ids"])

    def h_delete_one(self):
        b, why = self.json_body()
        if why or list(b) != ["session_id"]:
            return self.bad(why or "delete body must be {\"session_id\":...}")
        self._delete([b["session_id"]])

    # ------------------------------------------------------------ the stream writer
    def pieces(self, blob, split, knob):
        if split in ("bytes", "1"):
            return [blob[i:i + 1] for i in range(len(blob))]
        if split == "random":
            rng, out, i = random.Random(knob.get("split_seed", 1)), [], 0
            while i < len(blob):
                n = rng.randint(1, max(1, int(knob.get("random_split_max", 16))))
                out.append(blob[i:i + n])
                i += n
            return out
        if split.isdigit():
            return [blob[i:i + int(split)] for i in range(0, len(blob), int(split))]
        return [blob] if blob else []

    def stream(self, events, knob, markers, lc, coding="identity"):
        st = self.st
        self.done(200)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream;charset=UTF-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        if coding != "identity":
            self.send_header("Content-Encoding", "x-bogus" if coding == "bogus" else coding)
        self.end_headers()
        split = str(markers.get("split") or knob["split"] or "none")
        drip = float(markers.get("drip") or knob["drip_ms"] or 0) / 1000.0
        close_at, mode = st.take("close_after_events", self.user), knob.get("close_mode", "fin")
        if "close" in markers:
            close_at, mode = int(markers["close"] or 1), "fin"
        if "reset" in markers:
            close_at, mode = int(markers["reset"] or 1), "reset"
        stall_at = st.take("stall_after_events", self.user)
        if "stall" in markers:
            stall_at = int(markers["stall"] or 1)
        frames = bool(knob.get("zstd_frames", True))
        coder = Coder(coding, frames)
        if coding in WHOLE or (coding == "zstd" and not frames):
            # one coded body; a cut (close, stall) keeps the share of it the events before
            raw = b"".join(events)
            blob = coder.whole(raw)
            cut = close_at if close_at is not None else stall_at
            keep = len(blob) * len(b"".join(events[:int(cut)])) // max(1, len(raw)) \
                if cut is not None else len(blob)
            out = [(0, blob[:keep]), (len(events), blob[keep:])]
        else:
            out = [(i, coder.feed(e)) for i, e in enumerate(events)]
            out.append((len(events), coder.end()))
        written, cur = 0, -1
        try:
            for ev, data in out:
                if ev != cur:
                    if close_at is not None and ev >= int(close_at):
                        raise Abort("close_after_events")
                    if stall_at is not None and ev >= int(stall_at):
                        st.count("stalls")
                        self.wait(float(knob.get("stall_max_s", 300)))
                        raise Abort("stall over")
                    if drip and written:
                        self.wait(drip)
                    cur = ev
                for piece in self.pieces(data, split, knob):
                    self.send_piece(piece)
                    written += len(piece)
            with st.lock:                   # before the last chunk: the client sees it done
                st.n["chats_completed"] += 1
                if lc is not None:
                    lc["completed"] = True
                    lc["bytes"] = written
            self.write_raw(b"0\r\n\r\n")
        except (ClientGone, BrokenPipeError, ConnectionResetError, socket.timeout) as e:
            with st.lock:
                st.n["client_disconnects"] += 1
                st.last["disconnect"] = {"t": round(time.time(), 3), "bytes_written": written,
                                         "event": cur, "reason": str(e) or type(e).__name__}
            self.close_connection = True
        except Abort as e:
            st.count("server_aborts")
            self.close_connection = True
            if mode == "reset" or str(e) == "stopping":
                try:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               struct.pack("ii", 1, 0))
                    self.connection.close()
                except OSError:
                    pass

    def write_raw(self, data):
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except OSError as e:
            raise ClientGone(str(e) or type(e).__name__)

    def send_piece(self, piece):
        if piece:
            self.write_raw(b"%x\r\n%s\r\n" % (len(piece), piece))

    # ------------------------------------------------------------ control
    def h_mock_state(self):
        snap = self.st.snapshot()
        snap["port"] = self.server.server_address[1]
        self.reply(200, snap)

    def h_mock_config_get(self):
        self.reply(200, self.st.public_config())

    def h_mock_config(self):
        try:
            self.reply(200, self.st.configure(json.loads(self.body.decode("utf-8") or "{}")))
        except (ValueError, TypeError) as e:
            self.reply(400, {"error": "bad config: %s" % e})

    def h_mock_reset(self):
        try:
            o = json.loads(self.body.decode("utf-8") or "{}")
        except ValueError:
            o = {}
        o = o if isinstance(o, dict) else {}
        self.server.mock.reset(config=bool(o.get("config") or o.get("all")),
                               all=bool(o.get("all")))
        self.reply(200, {"status": "ok"})


ROUTES = {
    ("POST", "/api/v2/chat"): "chat",
    ("POST", "/api/v2/session/page/list"): "list",
    ("POST", "/api/v1/session/delete/batch"): "delete_batch",
    ("POST", "/api/v2/session/delete"): "delete_one",
    ("GET", "/_mock/state"): "mock_state",
    ("GET", "/_mock/config"): "mock_config_get",
    ("POST", "/_mock/config"): "mock_config",
    ("POST", "/_mock/reset"): "mock_reset",
}


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError,
                                              TimeoutError)):
            super().handle_error(request, client_address)


class QwenMock:
    """QwenMock(port=0).start() ... .stop(); also a context manager."""

    def __init__(self, host="127.0.0.1", port=0, tickets=(), config=None, verbose=False):
        self.state = State(tickets, config)
        self.verbose = verbose
        self.stopping = threading.Event()
        self.conns, self.conns_lock = set(), threading.Lock()
        self.httpd = Server((host, port), Handler)
        self.httpd.mock = self
        self.host, self.port = host, self.httpd.server_address[1]
        self.thread = None

    @property
    def url(self):
        return "http://%s:%d" % (self.host, self.port)

    def conns_add(self, c):
        with self.conns_lock:
            self.conns.add(c)

    def conns_del(self, c):
        with self.conns_lock:
            self.conns.discard(c)

    def start(self):
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="qwen-mock",
                                       kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.stopping.set()
        self.httpd.shutdown()
        with self.conns_lock:
            live = list(self.conns)
        for c in live:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.httpd.server_close()
        if self.thread is not None:
            self.thread.join(5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def configure(self, obj=None, **kw):
        return self.state.configure(dict(obj or {}, **kw))

    def snapshot(self):
        return self.state.snapshot()

    def reset(self, config=False, all=False):
        st = self.state
        with st.lock:
            st.clear()
            if config:
                st.config = copy.deepcopy(st.start_config)
                st.tickets = copy.deepcopy(st.start_tickets)
            if all:
                st.sessions.clear()
                st.nonces.clear()
                st.devices.clear()

    def wait_for(self, pred, timeout=5.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            s = self.snapshot()
            if pred(s):
                return s
            time.sleep(0.02)
        return None


def main(argv=None):
    ap = argparse.ArgumentParser(description="Loopback mock of the Qwen (qianwen.com) backend")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--ticket", action="append", default=[])
    ap.add_argument("--config")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args(argv)
    mock = QwenMock(a.host, a.port, a.ticket, json.loads(a.config) if a.config else None,
                    a.verbose)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=mock.stop).start())
    signal.signal(signal.SIGINT, lambda *_: threading.Thread(target=mock.stop).start())
    if a.port_file:
        tmp = "%s.tmp%d" % (a.port_file, os.getpid())
        with open(tmp, "w") as f:
            f.write("%d\n" % mock.port)
        os.replace(tmp, a.port_file)
    sys.stderr.write("qwen mock on %s, ticket %s\n" % (mock.url, DEFAULT_TICKET))
    sys.stderr.flush()
    mock.httpd.serve_forever(poll_interval=0.1)
    mock.httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
