#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""Loopback mock of the Qwen China web backend (www.qianwen.com, chat2.qianwen.com and
chat2-api.qianwen.com) for chat2api tests.

Python 3 standard library, plus the `zstd` and `brotli` command-line tools (Debian packages
zstd and brotli) for the two codings Python lacks.  It speaks shared/protocols/providers.md
section 6 and *checks* what the real server checks, so a client bug makes a test fail.
Every path of every Qwen host is served here: point QWEN_BASE_URL at the mock's URL.
qwen_wire.py holds what goes over the wire (constants, the answer builder, the codings),
qwen_state.py the knobs and counters; this file the HTTP side, standing on the plumbing the
provider mocks share (mockbase.py, and deepseek_mock.py's dispatcher, answers, rejections
and control API, as glm_mock.py and kimi_mock.py do).

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
  content}}, client_tm the query's timestamp, and so on.  A continued session (parent_req_id
  not "0") names a live session of this ticket, parent_req_id its last answer's req_id and
  scene_param "continue_chat"; its content may not carry an earlier turn again, and the tool
  replies see the session's transcript.

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

import json
import os
import random
import sys
import time
from urllib.parse import parse_qsl

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deepseek_mock as dsm  # noqa: E402
import mockbase  # noqa: E402
from qwen_wire import (  # noqa: E402  (the wire side, re-exported for the tests)
    CARD_MID, CARD_THINK, CHAT_FIXED, CHAT_KEYS, CODINGS, CONT_KEYS, FLOW_LIMIT, HEX32, MODELS,
    NONCE,
    NOT_LOGIN, ORIGIN, QUERY_FIXED, SEARCH_SUFFIX, UNICODE_TAIL, WHOLE, Coder, Stream, build,
    last_user)
from qwen_state import (  # noqa: E402  (the knobs and counters)
    ALIYUN_TICKET, ALIYUN_TICKETS, DEFAULT_CONFIG, DEFAULT_TICKET, OTHER_TICKET, State)

ERROR_CODES = {400: "BAD_REQUEST", 404: "NOT_FOUND", 500: "SYSTEM_ERROR"}


# --------------------------------------------------------------------------- HTTP

class Handler(dsm.Handler):
    """deepseek_mock's handler brings the plumbing (dispatch, the request and response
    records, rejections, the control API); the checks, codings and routes are Qwen's."""
    label = "qwen-mock"

    def version_string(self):
        return "Tengine"

    def _dispatch(self, method):
        self.query = parse_qsl(self.path.partition("?")[2], keep_blank_values=True)
        super()._dispatch(method)

    def _request_record(self):
        rec = super()._request_record()
        rec["query"] = self.query
        return rec

    def _error_doc(self, status, msg):
        """The dispatcher's own errors (400, 404, 500) in Qwen's envelope."""
        return {"success": False, "code": status * 100,
                "errorCode": ERROR_CODES.get(status, "HTTP_%d" % status), "errorMsg": msg}

    # ------------------------------------------------------------ answers
    def _send(self, status, data, ctype, headers=(), coding="identity"):
        """deepseek_mock's _send with Qwen's codings instead of its gzip: rejections go
        plain, answers in json_encoding when the client offers it."""
        self._mark_status(status)
        if isinstance(data, str):
            data = data.encode("utf-8")
        hdrs = list(headers)
        coding = self.coding(coding)
        if coding != "identity" and data:
            data = Coder(coding).whole(data)
            hdrs.append(("Content-Encoding", "x-bogus" if coding == "bogus" else coding))
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in hdrs:
            self.send_header(k, v)
        self.end_headers()
        if data:
            self.wfile.write(data)

    def answer(self, obj):
        self._send(200, json.dumps(obj, ensure_ascii=False), "application/json",
                   coding=self._cfg.get("json_encoding") or "identity")

    def coding(self, want):
        """The coding to use: want, if the client offers it (or force_encoding)."""
        if want == "identity" or self._route.startswith("mock_"):
            return "identity"
        if self._cfg.get("force_encoding") or want == "bogus" or \
                mockbase.accepts_coding(self.headers.get("Accept-Encoding"), want):
            return want
        self.st.bump("encoding_refused")
        return "identity"

    def bad(self, reason):
        return self._reject(int(self._cfg.get("reject_status") or 400),
                            {"success": False, "code": 40000, "errorCode": "BAD_REQUEST",
                             "errorMsg": reason, "data": None}, reason)

    def not_login(self, reason):
        status = 401 if self._cfg.get("auth_error") == "http401" else 200
        if self._cfg.get("auth_error") == "sse" and self._route == "chat":
            self.st.record_rejection(self._route, 200, reason, self._user)
            s = Stream("", "", False, False, False)
            s.obj({"communication": {}, "data": None, "error_code": "NOT_LOGIN",
                   "error_msg": NOT_LOGIN["errorMsg"]})
            return self.stream(s.events, self._cfg, {}, None)
        return self._reject(status, NOT_LOGIN, reason)

    def _fault(self, value, route):
        reason = "injected %s on %s" % (value, route)
        if value == "notlogin":
            return self.not_login(reason)
        if value == "limit":
            return self._reject(200, FLOW_LIMIT, reason)
        status = int(value)
        if status == 200:
            return self._reject(200, {"success": False, "code": 50000, "errorCode":
                                      "SYSTEM_ERROR", "errorMsg": "mock: refused"}, reason)
        if status == 429:
            return self._reject(429, FLOW_LIMIT, reason, headers=[
                ("Retry-After", str(self._cfg.get("retry_after", 30)))])
        return self._reject(status, {"success": False, "code": status * 100,
                                     "errorCode": "HTTP_%d" % status,
                                     "errorMsg": "mock status %d" % status}, reason)

    def _cf_page(self, status, reason):
        html = ("<!DOCTYPE html><html><head><title>%d</title></head><body>"
                "<div id=\"cf-error-details\">Cloudflare Ray ID: %016x</div></body></html>"
                % (status, random.getrandbits(64)))
        return self._reject(status, html, reason, "text/html")

    # ------------------------------------------------------------ checks
    def ticket_of(self):
        """(ticket, None) or (None, reason) from the Cookie header."""
        jar = {}
        for part in (self.headers.get("Cookie") or "").split(";"):
            if "=" in part:
                k, v = part.split("=", 1)
                jar[k.strip()] = v.strip()
        t = jar.get(self._cfg["ticket_cookie"])
        if t is None and jar.get(self._cfg["aliyun_cookie"]) in ALIYUN_TICKETS:
            t = jar[self._cfg["aliyun_cookie"]]
        elif t in ALIYUN_TICKETS:
            return None, "an Aliyun ticket must come as %s" % self._cfg["aliyun_cookie"]
        if t is None:
            return None, "no %s cookie (cookies: %s)" % (self._cfg["ticket_cookie"],
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
        if self._route != "chat":
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
        now = time.time() * 1000 + float(self._cfg.get("clock_offset_ms") or 0)
        if abs(int(d["timestamp"]) - now) > float(self._cfg["max_skew_ms"]):
            return "timestamp %s is %d ms off the mock's clock" % (d["timestamp"],
                                                                   int(d["timestamp"]) - now)
        with self.st.lock:
            if self._cfg.get("unique_nonce", True) and d["nonce"] in self.st.nonces:
                return "nonce %s was used before" % d["nonce"]
            self.st.nonces.add(d["nonce"])
        return None

    def _gate(self, fault_key):
        """Headers, query, ticket, fault.  The ticket, or None once answered."""
        chat = self._route == "chat"
        t, why = self.ticket_of()
        self._user = t
        self._cfg = self.st.effective(t)
        if self._cfg.get("check_headers", True):
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
            moved = len(seen) > 1 and self._cfg.get("strict_device", True)
        if moved:
            return self.bad("ticket seen with %d device ids %s" % (len(seen), seen))
        f = self.st.take(fault_key, t)
        if f:
            return self._fault(f, self._route)
        if not chat and self._cfg.get("api_delay_ms"):
            self._wait(float(self._cfg["api_delay_ms"]) / 1000.0)
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
        cont = b.get("parent_req_id") != "0"
        for k, v in CHAT_FIXED.items():
            if cont and k in CONT_KEYS:
                continue
            if b[k] != v or type(b[k]) is not type(v):
                return "%s is %r, want %r" % (k, b[k], v)
        for k in ("req_id", "session_id"):
            if not isinstance(b[k], str) or not HEX32.fullmatch(b[k]):
                return "%s %r is not 32 hex digits" % (k, b[k])
        if b["model"] not in self._cfg["models"]:
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
            if not cont and b["session_id"] in self.st.sessions:
                return "session_id %s exists already" % b["session_id"]
            if not cont:
                return None
            # a continued session: this caller's, after its last answer, with only the new turn
            rec = self.st.sessions.get(b["session_id"])
            if rec is None or rec["owner"] != self._user or not rec["live"]:
                return "session_id %s is no live session of this caller" % b["session_id"]
            if b["parent_req_id"] != rec["last_req"]:
                return "parent_req_id %r is not the session's last answer %r" % (
                    b["parent_req_id"], rec["last_req"])
            if b["scene_param"] != "continue_chat":
                return "scene_param %r in a continued session, want continue_chat" % (
                    b["scene_param"],)
            old = next((u for u in rec["seen"] if u and u in m["content"]), None)
            if old is not None:
                return "the continued session resent an earlier turn %r" % old[:60]
        return None

    # ------------------------------------------------------------ endpoints
    def h_chat(self):
        t = self._gate("chat_status")
        if t is None:
            return
        b, why = self.json_body()
        why = why or self.chat_check(b)
        if why:
            return self.bad(why)
        knob, prompt = self._cfg, b["messages"][0]["content"]
        text = last_user(prompt)
        markers, user_text = mockbase.markers_of(text)
        try:
            if "cf" in markers:
                status = int(markers["cf"] or 503)
                return self._cf_page(status, "cloudflare page (marker)")
            if "fail" in markers:
                return self._fault(markers["fail"], self._route)
        except ValueError:
            return self.bad("bad marker value in %r" % text)
        coding = markers.get("enc") or knob["encoding"]
        if coding not in CODINGS or (markers.get("error") or knob["stream_error"] or "mid") \
                not in ("mid", "event", "login", "limit"):
            return self.bad("mock: bad coding or stream error")
        delay = markers.get("delay") or knob["delay_ms"]
        if delay:
            self._wait(float(delay) / 1000.0)
        search = b["enable_search"]
        thinking = "thinking" in b["model"] or (b["deep_search"] == "1" and not search)
        sid, rid = b["session_id"], b["req_id"]
        with self.st.lock:
            rec = self.st.sessions.get(sid) if b["parent_req_id"] != "0" else None
            if rec is None:
                rec = self.st.sessions[sid] = {"owner": t, "live": True, "title": user_text[:20],
                                               "seen": [], "transcript": []}
                self.st.bump("sessions_created", t)
            else:
                self.st.bump("continued_chats", t)
            history = "\n".join(rec["transcript"])
            rec["seen"].append(user_text)
            rec["last_req"] = rid
            self.st.bump("chats", t)
        s = Stream(sid, rid, "ascii" in markers or knob["json_ascii"],
                   "crlf" in markers or knob["crlf"], "named" in markers or knob["named_events"])
        reply, reasoning, content = build(s, b, user_text, thinking, search, knob, markers,
                                          history)
        with self.st.lock:
            rec["transcript"] += [prompt, reply]
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
        t = self._gate("list_status")
        if t is None:
            return
        b, why = self.json_body()
        if why or b != {}:
            return self.bad(why or "list body must be {}")
        self.st.bump("lists", t)
        with self.st.lock:
            rows = [{"sessionId": sid, "title": r["title"]} for sid, r in self.st.sessions.items()
                    if r["owner"] == t and r["live"]]
        self.answer({"success": True, "code": 0, "msg": "", "data": {"list": rows,
                                                                    "hasMore": False}})

    def _delete(self, ids):
        t = self._gate("delete_status")
        if t is None:
            return
        if not ids or not all(isinstance(i, str) for i in ids):
            return self.bad("no session ids")
        with self.st.lock:
            for sid in ids:
                rec = self.st.sessions.get(sid)
                if rec is None or rec["owner"] != t or not rec["live"]:
                    why = "session %s is unknown, not the caller's or deleted" % sid
                    return self._reject(200, {"success": False, "code": 40400, "errorCode":
                                              "SESSION_NOT_FOUND", "errorMsg": why}, why)
            for sid in ids:
                self.st.sessions[sid]["live"] = False
                self.st.bump("sessions_deleted", t)
        self.answer({"success": True, "code": 0, "msg": "", "data": True})

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
    def stream(self, events, knob, markers, lc, coding="identity"):
        """The events through the coding, then mockbase's writer (split, drip, cut, stall).
        A coded piece belongs to its event, so a cut after N events keeps what they coded;
        a coding made of the whole body (br, bogus, zstd in one frame) keeps the share of
        it the events before the cut take."""
        st = self.st
        close_at, mode = st.take("close_after_events", self._user), knob.get("close_mode", "fin")
        if "close" in markers:
            close_at, mode = int(markers["close"] or 1), "fin"
        if "reset" in markers:
            close_at, mode = int(markers["reset"] or 1), "reset"
        stall_at = st.take("stall_after_events", self._user)
        if "stall" in markers:
            stall_at = int(markers["stall"] or 1)
        frames = bool(knob.get("zstd_frames", True))
        coder = Coder(coding, frames)
        if coding in WHOLE or (coding == "zstd" and not frames):
            raw = b"".join(events)
            blob = coder.whole(raw)
            cut = close_at if close_at is not None else stall_at
            keep = len(blob) * len(b"".join(events[:int(cut)])) // max(1, len(raw)) \
                if cut is not None else len(blob)
            pieces = [blob[:keep]] + [b""] * (len(events) - 1) + [blob[keep:]]
        else:
            pieces = [coder.feed(e) for e in events] + [coder.end()]
        headers = [("Content-Encoding", "x-bogus" if coding == "bogus" else coding)] \
            if coding != "identity" else []

        def done():                     # before the last chunk: the client sees it done
            with st.lock:
                st.c["chats_completed"] += 1
                if lc is not None:
                    lc["completed"] = True
                    lc["bytes"] = sum(len(p) for p in pieces)
        self._mark_status(200)
        how, info = self.write_events(
            pieces, str(markers.get("split") or knob["split"] or "none"),
            knob.get("split_seed", 1), knob.get("random_split_max", 16),
            float(markers.get("drip") or knob["drip_ms"] or 0) / 1000.0, close_at, mode,
            stall_at, float(knob.get("stall_max_s", 300)), lambda: st.bump("stalls"), done,
            headers=headers, ctype="text/event-stream;charset=UTF-8")
        with st.lock:
            if how == "gone":
                st.c["client_disconnects"] += 1
                st.last["disconnect"] = dict(info, t=round(time.time(), 3))
            elif how == "aborted":
                st.c["server_aborts"] += 1


ROUTES = [
    ("POST", "/api/v2/chat", "chat"),
    ("POST", "/api/v2/session/page/list", "list"),
    ("POST", "/api/v1/session/delete/batch", "delete_batch"),
    ("POST", "/api/v2/session/delete", "delete_one"),
    ("GET", "/_mock/state", "mock_state"),
    ("GET", "/_mock/config", "mock_config_get"),
    ("POST", "/_mock/config", "mock_config"),
    ("POST", "/_mock/reset", "mock_reset"),
]
Handler.ROUTES = ROUTES


# --------------------------------------------------------------------------- server object

class QwenMock(mockbase.LoopbackMock):
    """QwenMock(port=0).start() ... .stop(); also a context manager."""

    def __init__(self, host="127.0.0.1", port=0, tickets=(), config=None, verbose=False):
        self.state = State(tickets, config)
        super().__init__(Handler, host, port, verbose, "qwen-mock")

    def reset(self, config=False, all=False):
        st = self.state
        with st.lock:
            st.reset_counters()
            if config:
                st.restore_config()
            if all:
                st.sessions.clear()
                st.nonces.clear()
                st.devices.clear()


# --------------------------------------------------------------------------- CLI

def main(argv=None):
    ap = mockbase.cli_parser("Loopback mock of the Qwen (qianwen.com) backend")
    ap.add_argument("--ticket", action="append", default=[], help="extra known ticket")
    a = ap.parse_args(argv)
    mock = QwenMock(a.host, a.port, a.ticket, a.config, a.verbose)
    return mockbase.serve_cli(mock, a.port_file, "qwen mock on %s, ticket %s"
                              % (mock.url, DEFAULT_TICKET))


if __name__ == "__main__":
    sys.exit(main())
