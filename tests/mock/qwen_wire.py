#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""What the Qwen mock (tests/mock/qwen_mock.py) puts on the wire and reads from it: the
constants of shared/protocols/providers.md section 6, the last user text of a flattened
prompt, the section 6.3 answer as cumulative snapshots, and the response codings (gzip and
deflate with zlib, br and zstd through the Debian `brotli` and `zstd` tools, which Python's
standard library lacks).  Apart from the server so each half reads on its own."""

import json
import re
import secrets
import subprocess
import zlib
import mockbase  # noqa: E402  (tool answers)

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
# what a continued session changes: the last answer's req_id, scene_param "continue_chat"
CONT_KEYS = ("parent_req_id", "scene_param")
HEX32 = re.compile(r"[0-9a-f]{32}")
NONCE = re.compile(r"[a-z0-9]{12}")
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
CODINGS = ("identity", "gzip", "deflate", "br", "zstd", "bogus")
WHOLE = ("br", "bogus")                     # coded as one body, not per event


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


def build(st, body, user_text, thinking, search, knob, markers, history=""):
    """Fill st with the answer; returns (reply, reasoning, answer content as sent).  history:
    the earlier turns of a continued session."""
    reply = mockbase.tool_reply(mockbase.prompt_text(body), markers, knob, history) or \
        mockbase.structured_reply(mockbase.prompt_text(body), markers) or "You said: " + user_text
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
