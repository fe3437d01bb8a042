#!/usr/bin/env python3
"""Fixture streams for tests/unit/test_chatgpt_stream.c.

    python3 tests/unit/data/chatgpt/gen.py      (from anywhere)

Writes NAME.v1.sse for every scenario below (the "v1" delta encoding of
protocols/chatgpt.md section 5.2), then NAME.old.sse for every NAME.v1.sse in
this folder (including the hand-written sample52.v1.sse): the old
full-snapshot format of section 5.1, rebuilt the way section 5.3 describes.

The patch engine here is a separate implementation of the section 5.2
semantics (the C one is upstream/chatgpt/jpatch.c), so the C test that feeds
both files and expects the same sink events is a differential test.
NAME.expect files are written by hand; this script never touches them.
"""

import copy
import glob
import json
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
CID = "c-123"


# ----------------------------------------------------------------- patching

def tokens(p):
    if p == "":
        return []
    if not p.startswith("/"):
        raise ValueError("bad pointer %r" % p)
    out = []
    for t in p[1:].split("/"):
        if re.search(r"~[^01]|~$", t):
            raise ValueError("bad escape in %r" % p)
        out.append(t.replace("~1", "/").replace("~0", "~"))
    return out


def index(t, n, allow_end):
    if t == "-" and allow_end:
        return n
    if not re.fullmatch(r"0|[1-9][0-9]*", t):
        raise ValueError("bad index %r" % t)
    i = int(t)
    if i > n or (i == n and not allow_end):
        raise ValueError("index out of range")
    return i


def apply_op(doc, p, o, v):
    """Apply one operation; returns the (possibly new) root."""
    if o == "patch":
        if not isinstance(v, list):
            raise ValueError("patch needs a list")
        for sub in v:
            try:
                doc = apply_op(doc, p + sub["p"], sub["o"], sub["v"])
            except (ValueError, KeyError, TypeError, IndexError):
                pass  # skipped, the rest still runs
        return doc
    toks = tokens(p)
    if not toks:
        if o in ("add", "replace"):
            return copy.deepcopy(v)
        if o == "append":
            if isinstance(doc, dict) and isinstance(v, dict):
                doc.update(copy.deepcopy(v))
                return doc
            if doc is None:
                return copy.deepcopy(v)
        raise ValueError("root op %r" % o)
    parent = doc
    for t in toks[:-1]:
        if isinstance(parent, dict):
            parent = parent[t]
        elif isinstance(parent, list):
            parent = parent[index(t, len(parent), False)]
        else:
            raise TypeError("not a container")
    key = toks[-1]
    if isinstance(parent, dict):
        exists = key in parent
        cur = parent.get(key)
    elif isinstance(parent, list):
        key = index(key, len(parent), o in ("add", "append"))
        exists = key < len(parent)
        cur = parent[key] if exists else None
    else:
        raise TypeError("not a container")

    def put(val):
        if isinstance(parent, list) and not exists:
            parent.append(val)
        else:
            parent[key] = val

    if o == "add":
        if isinstance(parent, list):
            parent.insert(key, copy.deepcopy(v))
        else:
            parent[key] = copy.deepcopy(v)
    elif o == "replace":
        put(copy.deepcopy(v))
    elif o == "append":
        if not exists or cur is None:
            put(copy.deepcopy(v))
        elif isinstance(cur, str) and isinstance(v, str):
            put(cur + v)
        elif isinstance(cur, list):
            cur.extend(copy.deepcopy(v) if isinstance(v, list) else [copy.deepcopy(v)])
        elif isinstance(cur, dict) and isinstance(v, dict):
            cur.update(copy.deepcopy(v))
        else:
            put(copy.deepcopy(v))
    elif o == "remove":
        if not exists:
            raise KeyError(key)
        del parent[key]
    elif o == "truncate":
        if not exists:
            raise KeyError(key)
        if isinstance(cur, (str, list)):
            put(cur[:v])  # Python strings count code points
        else:
            raise TypeError("truncate")
    else:
        raise ValueError("unknown op %r" % o)
    return doc


# ----------------------------------------------------------------- SSE I/O

def read_events(path):
    """[(event name or None, data)] of an SSE file (no CR, no comments)."""
    out = []
    with open(path, encoding="utf-8") as f:
        for block in f.read().split("\n\n"):
            name, data = None, []
            for ln in block.split("\n"):
                if ln.startswith("event: "):
                    name = ln[7:]
                elif ln.startswith("data: "):
                    data.append(ln[6:])
            if data:
                out.append((name, "\n".join(data)))
    return out


def write_events(path, events):
    with open(path, "w", encoding="utf-8") as f:
        for name, data in events:
            if name:
                f.write("event: %s\n" % name)
            for ln in data.split("\n"):
                f.write("data: %s\n" % ln)
            f.write("\n")


def dumps(obj, ascii_=False):
    return json.dumps(obj, ensure_ascii=ascii_, separators=(",", ":"))


def v1_to_old(events):
    """Section 5.3: rebuild the documents, emit a snapshot per delta."""
    docs, cur, last_p, last_o, v1, out = {}, 0, None, None, False, []
    for name, data in events:
        if data == "[DONE]":
            out.append((None, data))
            continue
        obj = json.loads(data)
        if name == "delta_encoding" or obj == "v1":
            v1 = True
            continue
        if name == "delta":
            v1 = True
        if not (v1 and isinstance(obj, dict) and "v" in obj and "message" not in obj):
            out.append((None, dumps(obj)))
            continue
        if "c" in obj:
            cur = obj["c"]
            if isinstance(obj["v"], dict) and obj.get("p", "") == "" and \
                    obj.get("o", "add") in ("add", "replace"):
                docs[cur] = copy.deepcopy(obj["v"])
                out.append((None, dumps(docs[cur])))
                continue
        if "p" in obj:
            last_p = obj["p"]
        if "o" in obj:
            last_o = obj["o"]
        try:
            docs[cur] = apply_op(docs.get(cur), last_p, last_o, obj["v"])
        except (ValueError, KeyError, TypeError, IndexError):
            pass
        if cur in docs:
            out.append((None, dumps(docs[cur])))
    return out


# ----------------------------------------------------------------- scenarios

class S:
    """Collects one conversation as v1 events."""

    def __init__(self):
        self.ev = [("delta_encoding", '"v1"')]
        self.c = -1
        self.last = None        # (p, o) of the previous delta line

    def msg(self, mid, role, content, status="in_progress", recipient="all",
            end_turn=None, metadata=None, name=None):
        meta = {"citations": [], "message_type": "next", "model_slug": "gpt-4o",
                "default_model_slug": "auto"}
        meta.update(metadata or {})
        return {"message": {"id": mid, "author": {"role": role, "name": name, "metadata": {}},
                            "create_time": 1736175600.5, "update_time": None,
                            "content": content, "status": status, "end_turn": end_turn,
                            "weight": 1.0, "metadata": meta, "recipient": recipient,
                            "channel": None},
                "conversation_id": CID, "error": None}

    def new(self, doc, short=False):
        self.c += 1
        d = {"v": doc, "c": self.c} if short else {"p": "", "o": "add", "v": doc, "c": self.c}
        self.ev.append(("delta", dumps(d)))
        self.last = None
        return self

    def user(self):
        return self.new(self.msg("u1", "user", {"content_type": "text", "parts": ["hi"]},
                                 status="finished_successfully"))

    def text(self, mid, parts=("",), short=False, **kw):
        return self.new(self.msg(mid, "assistant", {"content_type": "text", "parts": list(parts)},
                                 **kw), short)

    def op(self, p, o, v, ascii_=False):
        d = {}
        if self.last is None or self.last[0] != p:
            d["p"] = p
        if self.last is None or self.last[1] != o:
            d["o"] = o
        d["v"] = v
        self.last = (p, o)
        self.ev.append(("delta", dumps(d, ascii_)))
        return self

    def app(self, *pieces, path="/message/content/parts/0"):
        for pc in pieces:
            self.op(path, "append", pc)
        return self

    def patch(self, *subs):
        return self.op("", "patch", [{"p": p, "o": o, "v": v} for p, o, v in subs])

    def finish(self, last="", ftype="stop", end_turn=True, extra=None):
        subs = []
        if last:
            subs.append(("/message/content/parts/0", "append", last))
        meta = {"is_complete": True, "finish_details": {"type": ftype}}
        meta.update(extra or {})
        subs += [("/message/status", "replace", "finished_successfully"),
                 ("/message/end_turn", "replace", end_turn),
                 ("/message/metadata", "append", meta)]
        return self.patch(*subs)

    def raw(self, obj):
        self.ev.append((None, dumps(obj)))  # typed lines keep p/o inheritance
        return self

    def done(self):
        self.ev.append((None, "[DONE]"))
        return self

    def epilogue(self):
        self.raw({"type": "server_ste_metadata", "metadata": {"model_slug": "gpt-4o",
                  "message_id": "x"}, "conversation_id": CID})
        self.raw({"type": "message_stream_complete", "conversation_id": CID})
        self.raw({"type": "title_generation", "title": "Test", "conversation_id": CID})
        return self.done()


ERR = "Our systems have detected unusual activity from your device. Please try again later."


def image_part(ptr, height=1024, gen_height=None):
    meta = {"dalle": {"prompt": "a square", "seed": 1}, "generation": None}
    if gen_height is not None:
        meta["generation"] = {"height": gen_height, "width": 1024}
    return {"content_type": "image_asset_pointer", "asset_pointer": ptr, "size_bytes": 100,
            "width": 1024, "height": height, "metadata": meta}


def scenarios():
    sc = {}

    s = S().user().text("a1")
    s.raw({"type": "message_marker", "conversation_id": CID, "message_id": "a1",
           "marker": "user_visible_token", "event": "first"})
    s.app("Hello, ", "世界！")
    s.op("/message/content/parts/0", "append", " 👩‍💻", ascii_=True)
    s.app(" and 🇯🇵", " café")
    s.finish("!")
    sc["plain_unicode"] = s.epilogue()

    s = S().user()
    s.new(s.msg("a1", "assistant", {"content_type": "code", "language": "python", "text": ""},
                recipient="python"))
    s.app("import math\n", "print(math.pi)", path="/message/content/text")
    s.patch(("/message/status", "replace", "finished_successfully"),
            ("/message/end_turn", "replace", False),
            ("/message/metadata", "append", {"is_complete": True,
                                             "finish_details": {"type": "stop",
                                                                "stop_tokens": [200007]}}))
    s.new(s.msg("t1", "tool", {"content_type": "execution_output", "text": ""}, name="python",
                metadata={"aggregate_result": {"status": "running"}}))
    s.app("3.141592653589793\n", path="/message/content/text")
    s.patch(("/message/status", "replace", "finished_successfully"),
            ("/message/metadata/aggregate_result/status", "replace", "success"))
    s.text("a2", short=True).app("Pi is ", "3.14159. [Get it](sandbox:/mnt/data/pi.txt)",
                                 " or [again](sandbox:/mnt/data/pi.txt).").finish()
    sc["code"] = s.epilogue()

    c1 = {"start_ix": 22, "end_ix": 33, "citation_format_type": "tether_og",
          "metadata": {"type": "webpage", "title": "Example Domain",
                       "url": "https://example.com/", "text": "x"}}
    c2 = {"start_ix": 42, "end_ix": 54, "citation_format_type": "tether_og",
          "metadata": {"type": "webpage", "title": "Example [wiki]",
                       "url": "https://en.wikipedia.org/wiki/Example_(disambiguation)",
                       "text": "y"}}
    P = "/message/content/parts/0"
    s = S().user().text("a1").app("The domain is reserved")
    s.patch((P, "append", "【0†Example】"), ("/message/metadata/citations", "append", [c1]))
    s.app(". See RFC")
    s.patch((P, "append", "【1†RFC 2606】"), ("/message/metadata/citations", "append", [c2]))
    s.app(".").finish()
    sc["citation"] = s.epilogue()

    s = S().user()
    s.new(s.msg("t1", "tool", {"content_type": "text", "parts": [""]}, name="a8km123",
                metadata={"initial_text": "Thinking", "finished_text": None}))
    s.app("**Reading**\n\nThe user", " says hi.")
    s.patch(("/message/status", "replace", "finished_successfully"),
            ("/message/metadata", "append", {"finished_text": "Thought for 3 seconds",
                                             "is_complete": True}))
    s.text("a1").app("Hi", " there").finish()
    sc["o1"] = s.epilogue()

    s = S().user()
    s.new(s.msg("a0", "assistant", {"content_type": "thoughts", "thoughts": [],
                                    "source_analysis_msg_id": "z"},
                metadata={"reasoning_status": "is_reasoning"}))
    s.op("/message/content/thoughts", "append",
         [{"summary": "Reading", "content": "", "chunks": [], "finished": False}])
    s.app("The user ", "said hi.", path="/message/content/thoughts/0/content")
    s.op("/message/content/thoughts/0/finished", "replace", True)
    s.op("/message/content/thoughts", "append",
         [{"summary": "Check", "content": "", "chunks": [], "finished": False}])
    s.app("Answer briefly 你好.", path="/message/content/thoughts/1/content")
    s.app(" more", path="/message/content/thoughts/1/summary")
    s.patch(("/message/content/thoughts/1/finished", "replace", True),
            ("/message/status", "replace", "finished_successfully"),
            ("/message/metadata", "append", {"is_complete": True,
                                             "reasoning_status": "reasoning_ended"}))
    s.new(s.msg("rr", "assistant", {"content_type": "reasoning_recap", "content": "Thought for 4s"},
                status="finished_successfully"))
    s.text("a1").app("Hello", "!").finish()
    sc["thoughts"] = s.epilogue()

    s = S().user().text("a1").app("I can only partially answer: ")
    s.raw({"type": "moderation", "message_id": "a1", "conversation_id": CID,
           "moderation_response": {"flagged": True, "blocked": False}})
    s.app("more")
    s.raw({"type": "moderation", "message_id": "a1", "conversation_id": CID,
           "moderation_response": {"flagged": True, "blocked": True, "moderation_id": "modr-1"}})
    s.finish()
    sc["moderation"] = s.done()

    s = S().user().raw({"message": None, "conversation_id": CID, "error": ERR})
    sc["error_before"] = s.done()

    s = S().user().text("a1").app("Starting: ")
    s.raw({"message": None, "conversation_id": CID, "error": ERR})
    sc["error_after"] = s.done()

    s = S().user().text("a1").app("This answer is cut off because it reached the")
    s.finish(" limit", ftype="max_tokens", end_turn=False)
    sc["max_tokens"] = s.epilogue()

    s = S().user().text("a1").app("I was interrupted wh")
    s.finish(ftype="interrupted", end_turn=False)
    sc["interrupted"] = s.epilogue()

    s = S().user()
    s.new(s.msg("a1", "assistant", {"content_type": "code", "language": "json", "text": ""},
                recipient="dalle.text2im"))
    s.app('{"prompt": "a red square",', ' "size": "1024x1024"}', path="/message/content/text")
    s.patch(("/message/status", "replace", "finished_successfully"),
            ("/message/end_turn", "replace", False))
    s.new(s.msg("t1", "tool", {"content_type": "multimodal_text", "parts": [
        image_part("file-service://file-AbC123"), image_part("file-service://badfile"),
        image_part("file-service://../etc/passwd"), "a caption"]},
        status="finished_successfully", name="dalle.text2im"), short=True)
    s.new(s.msg("t2", "tool", {"content_type": "text", "parts": [
        "DALL·E displayed 1 images. The images are already plainly visible."]},
        status="finished_successfully", name="dalle.text2im"), short=True)
    s.text("a2").app("Here is the image.").finish()
    sc["image_file"] = s.epilogue()

    ptr = "sediment://file_00aa"
    s = S().user()
    s.new(s.msg("a1", "assistant", {"content_type": "code", "text": ""},
                recipient="t2uay3k.sj1i4kz"))
    s.app('{"prompt":"a green square"}', path="/message/content/text")
    s.patch(("/message/status", "replace", "finished_successfully"),
            ("/message/end_turn", "replace", False))
    s.new(s.msg("t1", "tool", {"content_type": "multimodal_text",
                               "parts": [image_part(ptr, gen_height=128)]},
                name="t2uay3k.sj1i4kz"))
    for h in (384, 768, 1024):
        s.op("/message/content/parts/0", "replace", image_part(ptr, gen_height=h))
    s.patch(("/message/status", "replace", "finished_successfully"),
            ("/message/end_turn", "replace", True),
            ("/message/metadata", "append", {"is_complete": True,
                                             "finish_details": {"type": "stop"}}))
    sc["image_sediment"] = s.epilogue()

    s = S().user()
    s.new(s.msg("a1", "assistant", {"content_type": "text", "parts": ["The whole answer."]},
                status="finished_successfully", end_turn=True,
                metadata={"is_complete": True, "finish_details": {"type": "stop"}}))
    sc["no_in_progress"] = s.epilogue()

    sc["cut_short"] = S().user().text("a1").app("Partial ", "answer")

    sc["done_no_finish"] = S().user().text("a1").app("Answer").done()

    s = S().user()
    s.new(s.msg("t0", "tool", {"content_type": "text", "parts": [""]}, name="a8km123"))
    s.app("thinking")
    s.text("a1", parts=["Sure, "], short=True).app("here.").finish()
    s.raw({"message": s.msg("a1", "assistant", {"content_type": "text",
                                                "parts": ["Sure, here."]},
                            status="finished_successfully", end_turn=True)["message"],
           "conversation_id": CID, "error": None})
    sc["id_change"] = s.epilogue()

    s = S().user().text("a1").app("Hello wor")
    s.op("/message/content/parts/0", "truncate", 6)
    s.app("there").finish()
    sc["truncate"] = s.epilogue()
    return sc


def main():
    for name, s in scenarios().items():
        write_events(os.path.join(HERE, name + ".v1.sse"), s.ev)
    for v1 in sorted(glob.glob(os.path.join(HERE, "*.v1.sse"))):
        write_events(v1[:-len(".v1.sse")] + ".old.sse", v1_to_old(read_events(v1)))


if __name__ == "__main__":
    main()
