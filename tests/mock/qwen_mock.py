#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""Loopback mock of the Qwen China web backend (www.qianwen.com, chat2.qianwen.com and
chat2-api.qianwen.com) for chat2api tests.

Python 3 standard library, plus the `zstd` and `brotli` command-line tools (Debian packages
zstd and brotli) for the two codings Python lacks.  It speaks shared/protocols/providers.md
section 6 and *checks* what the real server checks, so a client bug makes a test fail.
Every path of every Qwen host is served here: point QWEN_BASE_URL at the mock's URL.
qwen_wire.py holds what goes over the wire (constants, the answer builder, the codings),
qwen_state.py the knobs and counters; this file the HTTP side.

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
  User-Agent; Sec-Fetch-Site same-site; Content-Type application/json; the query keys
  biz_id=ai_qwen, chat_client=h5, device=pc, fr=pc, pr=qwen, ut=<32 hex> (in any order:
  last_requests shows the order) and on the chat also nonce=<12 of [a-z0-9], never seen
  before> and timestamp=<ms within max_skew_ms of the mock's clock plus clock_offset_ms>;
  one ut per ticket (strict_device).  List and delete also want X-Platform: pc_tongyi and
  X-DeviceId equal to ut.  The chat body must have exactly the keys of 6.2 (in any order)
  with their values and types: deep_search "1" when enable_search or a thinking model
  ("1"/"0" otherwise), req_id and session_id 32 new hex digits, a known model (config
  models), messages = one {"content", "mime_type":"text/plain", "meta_data":{"ori_query":
  content}}, client_tm the query's timestamp, and so on.

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
import copy
import json
import os
import random
import select
import signal
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qwen_wire import (  # noqa: E402  (the wire side, re-exported for the tests)
    CARD_MID, CARD_THINK, CHAT_FIXED, CHAT_KEYS, CODINGS, FLOW_LIMIT, HEX32, MARKER_RE, MODELS,
    NONCE, NOT_LOGIN, ORIGIN, QUERY_FIXED, SEARCH_SUFFIX, UNICODE_TAIL, WHOLE, Coder, Stream,
    accepted, build, last_user)
from qwen_state import (  # noqa: E402  (the knobs and counters)
    ALIYUN_TICKET, ALIYUN_TICKETS, DEFAULT_CONFIG, DEFAULT_TICKET, OTHER_TICKET, State)

MAX_BODY = 16 * 1024 * 1024


class ClientGone(Exception):
    """The client closed the connection while we were writing or waiting."""


class Abort(Exception):
    """The stream is cut on purpose (a knob or a marker)."""


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
