#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""The answers of tests/mock/glm_mock.py: GLM's cumulative-snapshot stream (providers.md 3.6)
for a chat body, what a correct client shows for it, and the 3.5 prompt read back into turns.

A Stream collects the SSE events; build_stream() fills it for one request: an init snapshot,
a "think" part growing with chat_mode, a tool_result part with search results when
is_networking, the text part growing a few code points per snapshot ("You said: X" and what
the markers ask for), image and code parts on request, then finish, intervene or an in-stream
error.  render() is a second reading of the conversion rules (parts joined with "\n", citations
as numbered links, images, code), independent of chat2api's C, so a test can compare.
"""

import copy
import json
import re
import time
import uuid
import mockbase  # noqa: E402  (tool answers)

FILE_HOST = "https://sfile.chatglm.cn/chatglm-mock/"
TEXT_SIZES = (3, 5, 2, 7, 4, 6, 1, 8)      # code points per snapshot step (cycled)
UNICODE_TAIL = " — 你好，世界！😀 智谱清言 éè 🎉"
SEARCH_RESULTS = [
    {"match_key": "turn0search0", "url": "https://example.com/one", "title": "Mock one"},
    {"match_key": "turn0search1", "url": "https://example.org/two?a=(b)", "title": "Mock two"},
]
SEARCH_SUFFIX = " Found it【turn0search0】 and here turn0search1, again【turn0search0】."
INTERVENE_TEXT = "这个问题我暂时无法回答。"
IMAGE_OUT = FILE_HOST + "gen/picture.png"
STREAM_ERRORS = ("event", "status", "inline", "expired")
TURN_RE = re.compile(r"(?:^|\n\n)(System|User|Assistant): ")
MARK_RE = re.compile("\u3010?(turn\\d+[a-zA-Z]+\\d+)\u3011?")


def chunk_text(text):
    out, i, k = [], 0, 0
    while i < len(text):
        i += TEXT_SIZES[k % len(TEXT_SIZES)]
        k += 1
        out.append(text[:i])
    return out


def parse_prompt(prompt):
    """Turns [{role, text}] of a 3.5 prompt and the last user text."""
    if prompt.endswith("Assistant: ") and TURN_RE.match(prompt):
        body = prompt[:-len("Assistant: ")]
        marks = list(TURN_RE.finditer(body))
        turns = []
        for i, m in enumerate(marks):
            end = marks[i + 1].start() if i + 1 < len(marks) else len(body)
            text = body[m.end():end]
            if i + 1 == len(marks) and text.endswith("\n\n"):
                text = text[:-2]
            turns.append({"role": m.group(1).lower(), "text": text})
    else:
        turns = [{"role": "user", "text": prompt[:-1] if prompt.endswith("\n") else prompt}]
    last = ""
    for t in turns:
        if t["role"] == "user":
            last = t["text"]
    return turns, last


def render(parts, results):
    """What a correct client shows for the final parts (3.6): (content, reasoning)."""
    keys = {r["match_key"]: r["url"] for r in results}
    numbers = {}

    def cite(m):
        if m.group(1) not in keys:
            return m.group(0)
        n = numbers.setdefault(m.group(1), len(numbers) + 1)
        url = "".join("%%%02X" % ord(c) if c in "()<>\"`[]\\ " else c for c in keys[m.group(1)])
        return " [%d](%s)" % (n, url)
    texts, thinks = [], []
    for p in parts:
        t, k = "", ""
        for it in p["content"]:
            if it["type"] == "text":
                t += it["text"]
            elif it["type"] == "think":
                k += it["think"]
            elif it["type"] == "image" and p["status"] == "finish":
                urls = [i["image_url"] for i in it["image"]]
                t += "".join("![image](%s)" % u for u in urls) + ("\n" if urls else "")
            elif it["type"] == "code":
                t += "```python\n" + it["code"] + ("\n```\n" if p["status"] == "finish" else "")
            elif it["type"] == "execution_output" and p["status"] == "finish":
                t += it["content"] + "\n"
        if t:
            texts.append(t)
        if k:
            thinks.append(k)
    return MARK_RE.sub(cite, "\n".join(texts)), "\n".join(thinks)


class Stream:
    """The 3.6 snapshots of one answer."""

    def __init__(self, cid, assistant, ascii_, crlf, style, repeat):
        self.cid, self.assistant, self.events, self.parts = cid, assistant, [], []
        self.ascii, self.nl, self.style, self.repeat = ascii_, "\r\n" if crlf else "\n", style, repeat

    def raw(self, obj, name=None):
        data = json.dumps(obj, ensure_ascii=self.ascii, separators=(",", ":"))
        head = "event: %s%s" % (name, self.nl) if name else ""
        self.events.append((head + "data: " + data + self.nl + self.nl).encode("utf-8"))

    def snap(self, status, changed=None, **extra):
        parts = self.parts if self.style == "all" or changed is None else [changed]
        obj = {"id": self.cid[:12], "conversation_id": self.cid, "assistant_id": self.assistant,
               "created_at": time.strftime("%Y-%m-%d %H:%M:%S"), "status": status,
               "parts": copy.deepcopy(parts), "last_error": {}}
        obj.update(extra)
        for _ in range(2 if self.repeat else 1):
            self.raw(obj)

    def part(self, content, meta=None):
        p = {"id": uuid.uuid4().hex, "logic_id": uuid.uuid4().hex, "role": "assistant",
             "status": "init", "content": content, "meta_data": meta or {}}
        self.parts.append(p)
        return p

    def grow(self, p, key, text, shrink=False):
        """The part's item key grows through the prefixes of text."""
        for i, prefix in enumerate(chunk_text(text)):
            p["content"][0][key] = prefix
            self.snap("processing", p)
            if shrink and i == 2 and len(prefix) > 2:
                p["content"][0][key] = prefix[:-2]
                self.snap("processing", p)
        p["content"][0][key] = text

    def finish(self, p, status="finish"):
        p["status"] = status
        self.snap("processing", p)


def build_stream(s, req, user_text, cfg, markers, nrefs, history=""):
    """Fill s; returns the record of what went out.  history: the earlier turns of a
    continued conversation."""
    meta = req["meta_data"]
    mode, net = meta.get("chat_mode"), meta["is_networking"]
    reply = mockbase.tool_reply(mockbase.prompt_text(req), markers, cfg, history) or \
        mockbase.structured_reply(mockbase.prompt_text(req), markers) or "You said: " + user_text
    if "unicode" in markers or cfg.get("unicode"):
        reply += UNICODE_TAIL
    words = int(markers.get("long") or cfg.get("long_words") or 0)
    reply += "".join(" word%d" % i for i in range(1, words + 1))
    if nrefs[0]:
        reply += " (I see %d image%s)" % (nrefs[0], "" if nrefs[0] == 1 else "s")
    if nrefs[1]:
        reply += " (and %d file%s)" % (nrefs[1], "" if nrefs[1] == 1 else "s")
    if net:
        reply += SEARCH_SUFFIX
    reasoning = ""
    if mode == "zero":
        reasoning = "Thinking about: %s. The user wants an echo, so I will echo it." % user_text
    elif mode == "deep_research":
        reasoning = "Researching: %s. Reading sources before answering." % user_text
    err = markers.get("error") or cfg.get("stream_error")
    shrink = "shrink" in markers or bool(cfg.get("shrink"))
    if err == "expired":
        s.raw({"status": 40102, "message": "refresh token expired (40102)"})
        return {"reply": "", "reasoning": "", "error": err, "expected": {"content": "",
                                                                          "reasoning": ""}}
    s.snap("init")
    if reasoning:
        t = s.part([{"type": "think", "think": ""}])
        s.grow(t, "think", reasoning)
        s.finish(t)
    results = []
    if net:
        results = SEARCH_RESULTS
        sp = s.part([{"type": "tool_result", "tool_result": {"name": "search"}}],
                    {"tool_result_extra": {"search_results": copy.deepcopy(results)}})
        s.finish(sp)
    tp = s.part([{"type": "text", "text": ""}])
    if err:
        half = chunk_text(reply)[max(0, len(chunk_text(reply)) // 2 - 1)]
        s.grow(tp, "text", half)
        if err == "event":
            s.raw({"code": "server_busy", "message": "Internal error"}, "error")
        elif err == "status":
            s.raw({"conversation_id": s.cid, "status": "error", "parts": [],
                   "last_error": {"error_code": "server_busy", "error_msg": "服务繁忙，请稍后再试"}})
        else:
            s.raw({"status": 10002, "message": "内部错误"})
        content, think = render(s.parts, results)
        return {"reply": half, "reasoning": reasoning, "error": err,
                "expected": {"content": content, "reasoning": think}}
    s.grow(tp, "text", reply, shrink)
    s.finish(tp)
    if "image" in markers:
        ip = s.part([{"type": "image", "image": []}])
        s.snap("processing", ip)
        ip["content"][0]["image"] = [{"image_url": IMAGE_OUT}]
        s.finish(ip)
    if "code" in markers:
        cp = s.part([{"type": "code", "code": ""}])
        s.grow(cp, "code", "print(6 * 7)")
        cp["content"].append({"type": "execution_output", "content": "42"})
        s.finish(cp)
    content, think = render(s.parts, results)
    if "intervene" in markers or cfg.get("intervene"):
        s.snap("intervene", last_error={"intervene_text": INTERVENE_TEXT})
        content += "\n\n" + INTERVENE_TEXT
    else:
        s.snap("finish")
    return {"reply": reply, "reasoning": reasoning, "error": None,
            "expected": {"content": content, "reasoning": think}}
