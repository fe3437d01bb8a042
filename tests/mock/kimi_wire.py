#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""The Kimi wire format as tests/mock/kimi_mock.py speaks it (providers.md section 4):
Connect envelopes, JWT parts, the last turn of a section 4.3 prompt, and the section 4.4
stream an answer gets, with the misbehaviour the per-request markers ask for.

STREAM (4.4), envelopes of Connect+JSON, application/connect+json:
  chat set {chat:{id,name}}, the user's message, the assistant's message (GENERATING),
  heartbeats; with search a search stage and results (to be dropped); with thinking a
  multiStage STAGE_NAME_THINKING block, block.think set/append pieces, the stage completed;
  the answer as block.text set/append pieces ("You said: <last user text>"; with search
  SEARCH_SUFFIX, with thinking the reasoning "Thinking about: <text>. ..."); the message
  COMPLETED; {"done":{}}; the end-of-stream envelope (flags 0x02) {} .

MARKERS in the last user turn of the prompt (stripped from the echo):
    [[split:none|bytes|random|N]]  chunking of the response body (bytes: one byte per chunk,
                    cutting UTF-8 and the 5-byte envelope headers)
    [[drip:MS]] between envelopes   [[delay:MS]] before the head   [[unicode]]  [[long:N]]
    [[close:N]] FIN after N envelopes (no last chunk)   [[reset:N]] RST   [[stall:N]]
    [[fail:CODE]] 401 403 429 500 502 503 as a Connect error (429 with Retry-After)
    [[cf:CODE]] a Cloudflare page
    [[error:message|end|overloaded|rate|unauth|cut|nodone|noend]]  in-stream endings:
        message  half the answer, an {"error":{"code":"internal",...}} message, the end
        end      half the answer, an end-of-stream {"error":{"code":"unavailable"}}
        overloaded  before any text, {"error":{"reason":"REASON_COMPLETION_OVERLOADED"}}
        rate     before any text, end-of-stream resource_exhausted, metadata retry-after 17
        unauth   before any text, end-of-stream unauthenticated
        cut      half the answer, then the body ends cleanly (no done, no end of stream)
        nodone   the answer and the end of stream, no done   noend  done, no end of stream
"""

import base64
import json
import re
import struct
import mockbase  # noqa: E402  (tool answers)

ORIGIN = "https://www.kimi.com"
CHAT = "/apiv2/kimi.gateway.chat.v1.ChatService/Chat"
DELETE = "/apiv2/kimi.chat.v1.ChatService/DeleteChat"
SUBSCRIPTION = "/apiv2/kimi.gateway.order.v1.SubscriptionService/GetSubscription"
REFRESH = "/api/auth/token/refresh"
SCENARIO = "SCENARIO_K2D5"
FOCUS = "Focus on the latest message from user"
SEARCH_TOOL = [{"type": "TOOL_TYPE_SEARCH", "search": {}}]
SEARCH_SUFFIX = " Kimi searched the web for this."
UNICODE_TAIL = " — 你好，月之暗面！😀🌙 éè"
MARKER_RE = re.compile(r"\[\[([a-z_]+)(?::([^\]]*))?\]\]")
TEXT_SIZES = (3, 5, 2, 7, 4, 6, 1, 8)
STREAM_ERRORS = ("message", "end", "overloaded", "rate", "unauth", "cut", "nodone", "noend")

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def envelope(obj, flags=0):
    data = obj if isinstance(obj, bytes) else json.dumps(obj, ensure_ascii=False,
                                                         separators=(",", ":")).encode()
    return struct.pack(">BI", flags, len(data)) + data


def chunk_text(text):
    out, i, k = [], 0, 0
    while i < len(text):
        n = TEXT_SIZES[k % len(TEXT_SIZES)]
        out.append(text[i:i + n])
        i += n
        k += 1
    return out


def last_turn(prompt):
    """The text of the last turn of a section 4.3 prompt."""
    p = prompt[:-1] if prompt.endswith("\n") else prompt
    focus = "system:" + FOCUS + "\n"
    if focus in p:
        p = p.rsplit(focus, 1)[1]
        for label in ("user:", "assistant:"):
            if p.startswith(label):
                return p[len(label):]
        return p
    if p.startswith("system:") and "\n" in p:
        return p.split("\n", 1)[1]
    return p


def build_stream(body, user_text, cfg, markers, chat_id, turn=0, history=""):
    """The section 4.4 envelopes of one answer; returns (envelopes, reply, reasoning, the
    answer's message id).  turn: the answers the chat holds already; history: their transcript
    (a continued chat)."""
    think = body["options"]["thinking"]
    search = bool(body["tools"])
    reply = mockbase.tool_reply(mockbase.prompt_text(body), markers, cfg, history) or \
        mockbase.structured_reply(mockbase.prompt_text(body), markers) or "You said: " + user_text
    if "unicode" in markers or cfg.get("unicode"):
        reply += UNICODE_TAIL
    words = int(markers.get("long") or cfg.get("long_words") or 0)
    reply += "".join(" word%d" % i for i in range(1, words + 1))
    if search:
        reply += SEARCH_SUFFIX
    reasoning = ("Thinking about: %s. The user wants an echo." % user_text) if think else ""
    err = markers.get("error") or cfg.get("stream_error")
    ev, n = [], [0]

    def msg(obj, flags=0):
        if flags == 0 and "op" in obj:
            n[0] += 1
            obj = dict(obj, eventOffset=n[0])
        ev.append(envelope(obj, flags))

    tail = chat_id[5:] + ("-%d" % turn if turn else "")
    uid, aid = "msg-u-" + tail, "msg-a-" + tail
    msg({"op": "set", "mask": "chat", "chat": {"id": chat_id, "name": user_text[:20] or "New chat"}})
    msg({"op": "set", "mask": "message", "message": {"id": uid, "role": "user",
                                                      "status": "MESSAGE_STATUS_COMPLETED"}})
    msg({"op": "set", "mask": "message", "message": {"id": aid, "parentId": uid, "role": "assistant",
                                                      "status": "MESSAGE_STATUS_GENERATING"}})
    for _ in range(int(cfg.get("heartbeats") or 0)):
        msg({"heartbeat": {}})
    if err == "overloaded":
        msg({"error": {"reason": "REASON_COMPLETION_OVERLOADED", "message": "overloaded",
                       "localizedMessage": {"message": "当前模型繁忙，请稍后再试"}}})
        msg({}, 2)
        return ev, "", "", aid
    if err in ("rate", "unauth"):
        msg({"error": {"code": "resource_exhausted", "message": "too many conversations, wait"},
             "metadata": {"retry-after": ["17"]}} if err == "rate" else
            {"error": {"code": "unauthenticated", "message": "token revoked"}}, 2)
        return ev, "", "", aid
    if search:
        msg({"op": "set", "mask": "block.stage", "block": {"id": "0", "stage": {
            "name": "STAGE_NAME_SEARCH", "status": "STAGE_STATUS_START"}}})
        msg({"op": "set", "mask": "block.search", "block": {"id": "0", "search": {
            "queries": [user_text or "kimi"], "results": [
                {"url": "https://example.com/one", "title": "Mock result one"}]}}})
        msg({"op": "set", "mask": "block.stage", "block": {"id": "0", "stage": {
            "name": "STAGE_NAME_SEARCH", "status": "STAGE_STATUS_END"}}})
    if think:
        stage = {"name": "STAGE_NAME_THINKING", "status": "STAGE_STATUS_START"}
        msg({"op": "set", "mask": "block.multiStage", "block": {"id": "1", "multiStage": {"stages": [stage]}}})
        for i, piece in enumerate(chunk_text(reasoning)):
            msg({"op": "set" if i == 0 else "append", "mask": "block.think" if i == 0 else
                 "block.think.content", "block": {"id": "1", "think": {"content": piece}}})
        msg({"op": "set", "mask": "block.multiStage", "block": {"id": "1", "multiStage": {
            "stages": [dict(stage, status="completed")]}}})
    pieces = chunk_text(reply)
    if err in ("message", "end", "cut"):
        pieces = pieces[:max(1, len(pieces) // 2)]
        reply = "".join(pieces)
    for i, piece in enumerate(pieces):
        msg({"op": "set" if i == 0 else "append", "mask": "block.text" if i == 0 else
             "block.text.content", "block": {"id": "2", "text": {"content": piece, "flags": "answer"}}})
        if i == len(pieces) // 2:
            msg({"heartbeat": {}})
    if err == "message":
        msg({"error": {"code": "internal", "message": "Kimi had an internal error"}})
        msg({"error": {"code": "internal", "message": "Kimi had an internal error"}}, 2)
    elif err == "end":
        msg({"error": {"code": "unavailable", "message": "the model went away"}}, 2)
    elif err != "cut":
        msg({"op": "set", "mask": "message.status", "message": {"id": aid,
                                                                 "status": "MESSAGE_STATUS_COMPLETED"}})
        if err != "nodone":
            msg({"done": {}})
        if err != "noend":
            msg({"metadata": {"x-mock": ["end"]}}, 2)
    return ev, reply, reasoning, aid
