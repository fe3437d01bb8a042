#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""The Qwen AI wire format as tests/mock/qwenai_mock.py speaks and checks it
(shared/protocols/providers.md section 7): tokens (HS256 JWTs) and cookies,
the body checks of 7.3, the answer envelopes and the 7.4 phase stream.
The HTTP side (headers, faults, splits, the control API) is in
qwenai_mock.py, which re-exports these names."""

import base64
import hashlib
import hmac
import json
import re
import time
import uuid

import deepseek_mock as dsm
import mockbase  # noqa: E402  (tool answers)

ORIGIN = "https://chat.qwen.ai"
JWT_SECRET = "qwenai-mock-secret"
COOKIE_NAMES = ("cnaui", "aui", "sca", "xlly_s", "cna", "token", "_bl_uid", "x-ap")
FAR = 4102444800                        # 2100-01-01
MARKER_RE = re.compile(r"\[\[([a-z_]+)(?::([^\]]*))?\]\]")
JS_DATE_RE = re.compile(r"^[A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} \d{4} \d{2}:\d{2}:\d{2} GMT[+-]\d{4}$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
UNICODE_TAIL = " — 你好，世界！😀🐉 通义千问 éè 🎉"
SUMMARY_LINES = ("Reading the question.", "Deciding to echo it: 回声。")
USERS = {"u1": "mock-user-1@example.com", "u2": "mock-user-2@example.com",
         "u3": "mock-user-3@example.com"}
MODELS = ("qwen3.6-plus", "qwen3.5-plus", "qwen3.5-omni-plus", "qwen3.5-flash", "qwen3.5-max-2026-03-08",
          "qwen3.6-plus-preview", "qwen3.5-397b-a17b", "qwen3.5-122b-a10b", "qwen3.5-omni-flash",
          "qwen3.5-27b", "qwen3.5-35b-a3b", "qwen3-max-2026-01-23", "qwen-plus-2025-07-28",
          "qwen3-coder-plus", "qwen3-vl-plus", "qwen3-omni-flash-2025-12-01", "qwen-max-latest",
          "qwq-32b", "qwen3-next-80b-a3b")
EXTRA_MODELS = ("qwq-32b", "qwen3-next-80b-a3b")     # listed upstream, not built into chat2api


def _b64(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def make_token(user="u1", exp=None, secret=None):
    """An HS256 JWT of the mock's shape for user."""
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = _b64(json.dumps({"id": user, "last_password_change": 1750000000,
                            "exp": FAR if exp is None else int(exp)}, separators=(",", ":")).encode())
    sig = hmac.new((secret or JWT_SECRET).encode(), (head + "." + body).encode(), hashlib.sha256).digest()
    return head + "." + body + "." + _b64(sig)


def make_cookies(token, drop=()):
    vals = {"cnaui": "cn-%s" % token[-8:], "aui": "a1b2c3", "sca": "9f3e0c1d", "xlly_s": "1",
            "cna": "Zm9vYmFyYmF6", "token": token, "_bl_uid": "mock-bl-uid", "x-ap": "ap-southeast-1"}
    return "; ".join("%s=%s" % (k, v) for k, v in vals.items() if k not in drop)


DEFAULT_TOKEN = make_token("u1")
OTHER_TOKEN = make_token("u2")
THIRD_TOKEN = make_token("u3")
EXPIRED_TOKEN = make_token("u1", exp=1700000000)
DEFAULT_COOKIES = make_cookies(DEFAULT_TOKEN)

FEATURE_KEYS = {"thinking_enabled": bool, "output_schema": str, "research_mode": str,
                "auto_thinking": bool, "thinking_format": str, "auto_search": bool}
MESSAGE_KEYS = {"fid", "parentId", "childrenIds", "role", "content", "user_action", "files", "timestamp",
                "models", "chat_type", "feature_config", "extra", "sub_chat_type", "parent_id"}
BODY_KEYS = {"stream", "version", "incremental_output", "chat_id", "chat_mode", "model", "parent_id",
             "messages", "timestamp"}


def ok_body(data):
    return {"success": True, "request_id": str(uuid.uuid4()), "data": data}


def err_body(code, details):
    return {"success": False, "request_id": str(uuid.uuid4()), "data": {"code": code, "details": details}}


def last_user_text(prompt):
    """The last user turn of a flattened prompt (prompt.h): after the last "User: " block,
    or the whole prompt when it has no labels."""
    blocks = prompt.split("\n\n")
    last = None
    for i, b in enumerate(blocks):
        if b.startswith("User: "):
            last = i
    if last is None:
        return prompt
    out = [blocks[last][6:]]
    for b in blocks[last + 1:]:
        if b.startswith(("Assistant: ", "Tool: ", "User: ")):
            break
        out.append(b)
    return "\n\n".join(out)


def jwt_user(tok, cfg):
    """(user, None) for a good token, else (user or None, reason)."""
    parts = tok.split(".")
    if len(parts) != 3:
        return None, "the bearer is not a JWT"
    try:
        head = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except Exception:
        return None, "the JWT does not decode"
    if head.get("alg") != "HS256":
        return None, "JWT alg %r" % head.get("alg")
    want = hmac.new(str(cfg.get("jwt_secret")).encode(), (parts[0] + "." + parts[1]).encode(),
                    hashlib.sha256).digest()
    if not hmac.compare_digest(_b64(want), parts[2]):
        return None, "the JWT signature is wrong"
    user = payload.get("id")
    if user not in USERS:
        return None, "unknown user %r" % user
    if not isinstance(payload.get("exp"), int) or payload["exp"] <= time.time():
        return user, "the JWT expired"
    if user in (cfg.get("expired_users") or []):
        return user, "the user's login expired"
    return user, None


def body_reason(body, chat):
    """Section 7.3 step 2; a rejection reason or None.  A chat that answered already is
    continued: parent_id (the body's and the message's) names one of its responses."""
    if set(body) != BODY_KEYS:
        return "completion keys are %s, want %s" % (sorted(body), sorted(BODY_KEYS))
    for k, v in (("stream", True), ("version", "2.1"), ("incremental_output", True),
                 ("chat_mode", "normal")):
        if body[k] != v or type(body[k]) is not type(v):
            return "%s is %r, not %r" % (k, body[k], v)
    parent = body["parent_id"]
    replies = chat.get("replies") or []
    if parent is None and replies:
        return "mock: a second completion in chat %s without parent_id" % chat.get("id")
    if parent is not None and parent not in replies:
        return "parent_id %r is not a response of this chat" % (parent,)
    if body["model"] != chat["model"]:
        return "model %r is not the chat's %r" % (body["model"], chat["model"])
    now = time.time()
    if not isinstance(body["timestamp"], int) or abs(body["timestamp"] - now) > 300:
        return "timestamp %r is not now in seconds" % (body["timestamp"],)
    msgs = body["messages"]
    if not isinstance(msgs, list) or len(msgs) != 1 or not isinstance(msgs[0], dict):
        return "messages is not a list of one message"
    m = msgs[0]
    if set(m) != MESSAGE_KEYS:
        return "message keys are %s, want %s" % (sorted(m), sorted(MESSAGE_KEYS))
    if not UUID_RE.match(str(m["fid"])) or not isinstance(m["childrenIds"], list) or \
            len(m["childrenIds"]) != 1 or not UUID_RE.match(str(m["childrenIds"][0])):
        return "fid/childrenIds are not uuids"
    for k, v in (("parentId", parent), ("parent_id", parent), ("role", "user"), ("user_action", "chat"),
                 ("files", []), ("chat_type", "t2t"), ("sub_chat_type", "t2t"),
                 ("models", [chat["model"]]), ("extra", {"meta": {"subChatType": "t2t"}})):
        if m[k] != v:
            return "message %s is %r, not %r" % (k, m[k], v)
    if not isinstance(m["content"], str) or not m["content"].strip():
        return "message content is empty or not a string"
    if not isinstance(m["timestamp"], int) or abs(m["timestamp"] - now) > 300 or \
            body["timestamp"] != m["timestamp"] + 1:
        return "message timestamp %r is not now, or the body's is not it + 1" % (m["timestamp"],)
    fc = m["feature_config"]
    if not isinstance(fc, dict) or set(fc) - {"thinking_budget"} != set(FEATURE_KEYS):
        return "feature_config keys are %s" % (sorted(fc) if isinstance(fc, dict) else fc)
    for k, t in FEATURE_KEYS.items():
        if type(fc[k]) is not t:
            return "feature_config.%s is %r" % (k, fc[k])
    if (fc["output_schema"], fc["research_mode"], fc["thinking_format"]) != ("phase", "normal", "summary"):
        return "feature_config output_schema/research_mode/thinking_format are %r/%r/%r" % (
            fc["output_schema"], fc["research_mode"], fc["thinking_format"])
    return None


class Events:
    def __init__(self, ascii_, crlf):
        self.events, self.ascii, self.nl = [], ascii_, "\r\n" if crlf else "\n"

    def data(self, obj, name=None):
        text = obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=self.ascii,
                                                           separators=(",", ":"))
        head = "event: %s%s" % (name, self.nl) if name else ""
        self.events.append((head + "data: " + text + self.nl + self.nl).encode("utf-8"))

    def delta(self, phase, content=None, status="typing", usage=None, **extra):
        d = {"phase": phase, "status": status}
        if content is not None:
            d["content"] = content
        d.update(extra)
        obj = {"choices": [{"delta": d}]}
        if usage:
            obj["usage"] = usage
        self.data(obj)


def build_stream(ev, body, chat_id, user_text, cfg, markers, history="", response_id=None):
    """Fill ev; returns (reply text sent, reasoning text sent).  history: the earlier turns
    of a continued chat; response_id: the id "response.created" gives (None: a fresh one)."""
    think = body["messages"][0]["feature_config"]["thinking_enabled"]
    reply = mockbase.tool_reply(mockbase.prompt_text(body), markers, cfg, history) or \
        mockbase.structured_reply(mockbase.prompt_text(body), markers) or "You said: " + user_text
    if "unicode" in markers or cfg.get("unicode"):
        reply += UNICODE_TAIL
    words = int(markers.get("long") or cfg.get("long_words") or 0)
    reply += "".join(" word%d" % i for i in range(1, words + 1))
    response_id = response_id or str(uuid.uuid4())
    ev.data({"response.created": {"chat_id": chat_id, "parent_id": body["messages"][0]["fid"],
                                  "response_id": response_id}})
    err = markers.get("error") or cfg.get("stream_error")
    if err == "limit":
        ev.data(err_body("RateLimited", "mock: you have reached the limit"))
        return "", ""
    if err == "auth":
        ev.data({"error": {"code": "Unauthorized", "details": "mock: login expired"}})
        return "", ""
    reasoning = ""
    usage = {"input_tokens": 5 + len(body["messages"][0]["content"]) // 4, "output_tokens": 0}
    if think:
        style = cfg.get("think_style") or "both"
        first = True
        if style in ("both", "think"):
            thought = "Thinking about: %s." % user_text
            for piece in dsm.chunk_text(thought):
                ev.delta("think", piece, **({"role": "assistant"} if first else {}))
                first = False
            ev.delta("think", "", status="finished")
            reasoning += thought
        if style in ("both", "summary"):
            lines = list(SUMMARY_LINES)
            sent = []
            for ln in lines:                      # the summary grows line by line, a line in two
                half = len(ln) // 2
                ev.delta("thinking_summary", extra={"summary_thought": {"content": sent + [ln[:half]]}})
                sent.append(ln)
                ev.delta("thinking_summary", extra={"summary_thought": {"content": list(sent)}})
            summary = "\n".join(sent)
            if "rewrite" in markers:
                new = ["Rewritten summary."]
                ev.delta("thinking_summary", extra={"summary_thought": {"content": new}})
                summary += "\n\n" + new[0]
            reasoning += summary
    pieces = dsm.chunk_text(reply)
    if err in ("inline", "event"):
        pieces = pieces[:max(1, len(pieces) // 2)]
    sent = ""
    for i, piece in enumerate(pieces):
        sent += piece
        usage["output_tokens"] = 1 + len(sent) // 4
        ev.delta("answer", piece, usage=dict(usage), **({"role": "assistant"} if i == 0 and not think else {}))
    if err == "inline":
        ev.data({"error": {"code": "Internal_Error", "details": "mock: the model failed mid-answer"}})
        ev.delta("answer", " never seen")
        return sent, reasoning
    if err == "event":
        ev.data({"code": "Internal_Error", "details": "mock: the stream broke"}, "error")
        return sent, reasoning
    usage["total_tokens"] = usage["input_tokens"] + usage["output_tokens"]
    ev.delta("answer", "", status="finished", usage=usage,
             finish_reason=markers.get("finish") or "stop")
    if (cfg.get("end_style") or "done") == "done" and "nodone" not in markers:
        ev.data("[DONE]")
    return reply, reasoning

