#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""Self-test of tests/mock/qwen_mock.py.

Talks to the mock over HTTP only (http.client and raw sockets).  The client side (headers,
query, body, the section 6.3 snapshot reader, the codings) is written here from
shared/protocols/providers.md section 6, so the mock is checked against the document, not
against itself.  The mock runs in-process except for one test that runs the CLI.

    python3 tests/mock/test_qwen_mock.py [test_name ...]

Prints one line per test and, last, `# counts: N passed, M failed`.
"""

import gzip
import hashlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import qwen_mock as qm  # noqa: E402  (to start it in-process and read constants)

T1, T2, TA = qm.DEFAULT_TICKET, qm.OTHER_TICKET, qm.ALIYUN_TICKET
UA = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/145.0.0.0 Safari/537.36")
MOCK = None
PORT = None
MARKS = re.compile(r"\[\((?:deep_think|multimodal_chat_think)(?:_\d{1,6})?\)\]")


class Fail(Exception):
    pass


def check(cond, msg="check failed"):
    if not cond:
        raise Fail(msg)


# =========================================================================== a client of 6.1-6.4

def device(ticket):
    return hashlib.sha256(("dev:" + ticket).encode()).hexdigest()[:32]


def headers(ticket=T1, api=False, cookie=None, enc="gzip, deflate, br, zstd"):
    h = {"Accept": "application/json, text/event-stream, text/plain, */*",
         "Content-Type": "application/json", "Origin": "https://www.qianwen.com",
         "Referer": "https://www.qianwen.com/", "Sec-Fetch-Site": "same-site", "User-Agent": UA,
         "Accept-Encoding": enc}
    if cookie is not None:
        h["Cookie"] = cookie
    elif ticket is not None:
        h["Cookie"] = ("login_aliyunid_ticket=" if ticket == TA else "tongyi_sso_ticket=") + ticket
    if api:
        h["X-Platform"] = "pc_tongyi"
        h["X-DeviceId"] = device(ticket or "")
    return h


_nonce = [0]


def query(ticket=T1, chat=True, ts=None, nonce=None, **over):
    q = [("biz_id", "ai_qwen"), ("chat_client", "h5"), ("device", "pc"), ("fr", "pc"),
         ("pr", "qwen"), ("ut", device(ticket or ""))]
    if chat:
        _nonce[0] += 1
        q += [("nonce", nonce or ("n%011d" % (_nonce[0] + int(time.time() * 1000) % 10 ** 9))),
              ("timestamp", str(ts if ts is not None else int(time.time() * 1000)))]
    q = [(k, over.pop(k)) if k in over else (k, v) for k, v in q]
    q += list(over.items())
    return "&".join("%s=%s" % kv for kv in q if kv[1] is not None)


def body(text, model="tongyi-qwen3-max-model-agent", search=False, think=False, ts=None, **over):
    ts = ts if ts is not None else int(time.time() * 1000)
    b = {"deep_search": "1" if search or think or "thinking" in model else "0",
         "req_id": os.urandom(16).hex(), "model": model, "scene": "chat",
         "session_id": os.urandom(16).hex(), "sub_scene": "chat", "temporary": False,
         "messages": [{"content": text, "mime_type": "text/plain", "meta_data": {"ori_query": text}}],
         "from": "default", "parent_req_id": "0", "enable_search": search,
         "biz_data": '{"entryPoint":"tongyigw"}', "scene_param": "first_turn", "chat_client": "h5",
         "client_tm": str(ts), "protocol_version": "v2", "biz_id": "ai_qwen"}
    b.update(over)
    return b, ts


def raw_req(method, path, data=None, hdrs=None, port=None, timeout=30):
    c = http.client.HTTPConnection("127.0.0.1", port or PORT, timeout=timeout)
    if isinstance(data, (dict, list)):
        data = json.dumps(data, ensure_ascii=False).encode()
    c.request(method, path, body=data, headers=hdrs or {})
    r = c.getresponse()
    raw = r.read()
    c.close()
    return r.status, r, raw


def decode(raw, coding):
    if coding in (None, "identity"):
        return raw
    if coding == "gzip":
        return gzip.decompress(raw)
    if coding == "deflate":
        return zlib.decompress(raw)
    tool = {"br": ["brotli", "-d", "-c"], "zstd": ["zstd", "-d", "-c", "-q"]}[coding]
    return subprocess.run(tool, input=raw, stdout=subprocess.PIPE, check=True).stdout


def api(path, data, ticket=T1, **kw):
    st, r, raw = raw_req("POST", path + "?" + query(ticket, chat=False), data,
                         headers(ticket, api=True, **kw))
    raw = decode(raw, r.getheader("Content-Encoding"))
    return st, r, json.loads(raw) if raw else None


def chat_raw(text, ticket=T1, hdrs=None, q=None, **kw):
    b, ts = body(text, **kw)
    h = headers(ticket)
    h.update(hdrs or {})
    st, r, raw = raw_req("POST", "/api/v2/chat?" + (q or query(ticket, ts=ts)), b, h)
    return st, r, decode(raw, r.getheader("Content-Encoding")), b


def events(raw):
    """[(name, data)] of an SSE body."""
    out = []
    for block in raw.decode("utf-8").replace("\r\n", "\n").split("\n\n"):
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip(" "))
        if data:
            out.append((name, "\n".join(data)))
    return out


def read(raw):
    """Section 6.3 by the document: the last answer (markers removed), the longest reasoning,
    how it ended, the error, the ids."""
    res = {"answer": "", "reasoning": "", "end": None, "error": None, "ids": None, "n": 0,
           "snapshots": [], "loads": set()}
    for name, data in events(raw):
        res["n"] += 1
        if name == "error":
            res["error"] = json.loads(data)
            break
        if data == "[DONE]":
            res["end"] = "done"
            break
        o = json.loads(data)
        if o.get("error_code") not in (0, "0", "", None):
            res["error"] = o
            break
        res["ids"] = res["ids"] or o.get("communication")
        for m in ((o.get("data") or {}).get("messages") or []):
            if m["mime_type"] in ("text/plain", "multi_load/iframe"):
                res["answer"] = MARKS.sub("", m["content"])
                res["snapshots"].append(m["content"])
            for ld in m.get("meta_data", {}).get("multi_load", []):
                res["loads"].add(ld["type"])
                if ld["type"] == "deep_think":
                    t = ld["content"]["think_content"]
                    res["reasoning"] = t if len(t) > len(res["reasoning"]) else res["reasoning"]
            if m["mime_type"] == "multi_load/iframe" and m["status"] in ("complete", "finished"):
                res["end"] = res["end"] or "status"
        if name == "complete":
            res["end"] = "complete"
    return res


def chat(text, **kw):
    st, r, raw, b = chat_raw(text, **kw)
    check(st == 200 and r.getheader("Content-Type", "").startswith("text/event-stream"),
          "chat %d %s %r" % (st, r.getheader("Content-Type"), raw[:300]))
    return read(raw), b


def state():
    return json.loads(raw_req("GET", "/_mock/state")[2])


def configure(**kw):
    st, r, raw = raw_req("POST", "/_mock/config", kw, {"Content-Type": "application/json"})
    check(st == 200, raw)
    return json.loads(raw)


def rejected(st, obj, reason_part, status=400):
    check(st == status, "status %d, want %d: %r" % (st, status, obj))
    why = state()["last_rejection"]["reason"]
    check(reason_part in why, "reason %r lacks %r" % (why, reason_part))


# =========================================================================== tests

def list_and_credentials():
    st, r, o = api("/api/v2/session/page/list", {})
    check(st == 200 and o["success"] is True and o["code"] == 0 and o["data"]["list"] == [], o)
    chat("hello")
    st, r, o = api("/api/v2/session/page/list", {})
    check([s["title"] for s in o["data"]["list"]] == ["hello"], o)
    # unknown, missing and expired tickets: NOT_LOGIN with 200
    for t, cookie in (("nope-" * 5, None), (T1, "other=1"), (T1, "")):
        st, r, o = api("/api/v2/session/page/list", {}, ticket=t, cookie=cookie)
        check(st == 200 and o["success"] is False and o["errorCode"] == "NOT_LOGIN", o)
    configure(expired_tickets=[T2])
    st, r, o = api("/api/v2/session/page/list", {}, ticket=T2)
    check(o["errorCode"] == "NOT_LOGIN" and "expired" in state()["last_rejection"]["reason"], o)
    # the Aliyun ticket only as login_aliyunid_ticket
    st, r, o = api("/api/v2/session/page/list", {}, ticket=TA)
    check(o["success"] is True, o)
    st, r, o = api("/api/v2/session/page/list", {}, ticket=TA, cookie="tongyi_sso_ticket=" + TA)
    check(o["errorCode"] == "NOT_LOGIN", o)
    # http401 style
    configure(auth_error="http401")
    st, r, o = api("/api/v2/session/page/list", {}, ticket="x" * 20)
    check(st == 401 and o["errorCode"] == "NOT_LOGIN", (st, o))


def ticket_cookie_knob_proves_the_check():
    st, r, o = api("/api/v2/session/page/list", {})
    check(o["success"] is True)
    configure(ticket_cookie="login_tongyi_ticket")
    st, r, o = api("/api/v2/session/page/list", {})
    check(o["errorCode"] == "NOT_LOGIN" and "login_tongyi_ticket" in
          state()["last_rejection"]["reason"], o)
    st, r, o = api("/api/v2/session/page/list", {}, cookie="login_tongyi_ticket=" + T1)
    check(o["success"] is True, o)


def header_checks():
    for drop, why in (("Origin", "Origin"), ("Referer", "Referer"), ("User-Agent", "User-Agent"),
                      ("Sec-Fetch-Site", "Sec-Fetch-Site"), ("Content-Type", "Content-Type"),
                      ("X-Platform", "X-Platform"), ("X-DeviceId", "X-DeviceId")):
        h = headers(api=True)
        del h[drop]
        st, r, raw = raw_req("POST", "/api/v2/session/page/list?" + query(chat=False), {}, h)
        rejected(st, raw, why)
        check(json.loads(raw)["errorCode"] == "BAD_REQUEST" and r.getheader("x-mock-reason"))
    # the chat needs no X-Platform, GET is refused
    st, r, raw = raw_req("GET", "/api/v2/chat?" + query(), None, headers())
    check(st == 405, st)


def query_checks():
    h = headers(api=True)
    for q, why in ((query(chat=False, biz_id="other"), "biz_id"),
                   (query(chat=False, ut="XYZ"), "ut"),
                   (query(chat=False, extra="1"), "query keys"),
                   (query(chat=False, pr=None), "query keys")):
        st, r, raw = raw_req("POST", "/api/v2/session/page/list?" + q, {}, h)
        rejected(st, raw, why)
    b, ts = body("q")
    for q, why in ((query(ts=ts, nonce="SHORT"), "nonce"),
                   (query(ts=ts, nonce="ABCDEFGHIJKL"), "nonce"),
                   (query(ts=ts - 10 ** 6), "off the mock's clock"),
                   (re.sub(r"&nonce=[^&]*", "", query(ts=ts)), "query keys")):
        st, r, raw = raw_req("POST", "/api/v2/chat?" + q, b, headers())
        rejected(st, raw, why)
    q = query(ts=ts)
    st, r, raw = raw_req("POST", "/api/v2/chat?" + q, b, headers())
    check(st == 200, raw[:200])
    b2, _ = body("q", ts=ts)
    st, r, raw = raw_req("POST", "/api/v2/chat?" + q, b2, headers())
    rejected(st, raw, "used before")
    # the mock's clock off by a day: a correct timestamp looks wrong
    configure(clock_offset_ms=86400000)
    st, r, raw, b = chat_raw("q")
    rejected(st, raw, "off the mock's clock")
    configure(clock_offset_ms=0)
    check(state()["nonces_seen"] == 1, "only the accepted nonce is spent")


def device_is_bound():
    st, r, o = api("/api/v2/session/page/list", {})
    check(o["success"])
    h = headers(api=True)
    h["X-DeviceId"] = "f" * 32
    st, r, raw = raw_req("POST", "/api/v2/session/page/list?" + query(chat=False, ut="f" * 32),
                         {}, h)
    rejected(st, raw, "device ids")
    check(state()["devices"][T1] == [device(T1), "f" * 32])
    configure(strict_device=False)
    st, r, raw = raw_req("POST", "/api/v2/session/page/list?" + query(chat=False, ut="f" * 32),
                         {}, h)
    check(st == 200)


def body_checks():
    cases = (({"deep_search": "0"}, dict(search=True), "deep_search"),
             ({"deep_search": "0"}, dict(model="tongyi-qwen3-max-thinking-agent"), "deep_search"),
             ({"deep_search": 1}, {}, "deep_search"),
             ({"model": "gpt-4"}, {}, "unknown model"),
             ({"req_id": "xyz"}, {}, "req_id"),
             ({"session_id": "A" * 32}, {}, "session_id"),
             ({"temporary": "false"}, {}, "temporary"),
             ({"biz_data": "{}"}, {}, "biz_data"),
             ({"client_tm": "1"}, {}, "client_tm"),
             ({"enable_search": "no"}, {}, "enable_search"),
             ({"protocol_version": "v1"}, {}, "protocol_version"),
             ({"messages": []}, {}, "messages"),
             ({"messages": [{"content": "a", "mime_type": "text/plain",
                             "meta_data": {"ori_query": "b"}}]}, {}, "the message"),
             ({"extra_key": 1}, {}, "body keys"))
    for over, kw, why in cases:
        b, ts = body("x", **kw)
        b.update(over)
        st, r, raw = raw_req("POST", "/api/v2/chat?" + query(ts=ts), b, headers())
        rejected(st, raw, why)
    b, ts = body("x")
    del b["scene"]
    st, r, raw = raw_req("POST", "/api/v2/chat?" + query(ts=ts), b, headers())
    rejected(st, raw, "body keys")
    # a session id may not be used twice
    b, ts = body("x")
    st, r, raw = raw_req("POST", "/api/v2/chat?" + query(ts=ts), b, headers())
    check(st == 200)
    b2, ts = body("x", session_id=b["session_id"])
    st, r, raw = raw_req("POST", "/api/v2/chat?" + query(ts=ts), b2, headers())
    rejected(st, raw, "exists already")


def stream_plain_and_card():
    res, b = chat("hi there")
    check(res["answer"] == "You said: hi there" and res["reasoning"] == "" and
          res["end"] == "complete", res)
    check(res["ids"] == {"sessionid": b["session_id"], "reqid": b["req_id"]}, res["ids"])
    # the card carries the mid-answer marker; snapshots grow, some end inside it
    check(any(s.endswith("[(multimodal_c") or "[(multimodal_chat_think_1)]" in s
              for s in res["snapshots"]), res["snapshots"])
    check(all(res["snapshots"][i + 1].startswith(res["snapshots"][i])
              for i in range(len(res["snapshots"]) - 1)), "snapshots do not grow")
    res, b = chat("plain one [[shape:plain]]")
    check(res["answer"] == "You said: plain one" and all("[(" not in s for s in res["snapshots"]),
          res)
    lc = state()["last_chat"]
    check(lc["user_text"] == "plain one" and lc["markers"] == {"shape": "plain"} and
          lc["completed"], lc["markers"])


def stream_thinking_and_search():
    res, b = chat("why", model="tongyi-qwen3-max-thinking-agent")
    check(res["reasoning"] == "Thinking about: why. An echo is wanted, so I echo it." and
          res["answer"] == "You said: why" and res["snapshots"][0] == "[(deep_think)]", res)
    res, b = chat("why", model="tongyi-qwen-plus-agent", think=True)
    check(res["reasoning"].startswith("Thinking about: why") and state()["last_chat"]["thinking"])
    res, b = chat("find", search=True)
    check(res["answer"] == "You said: find" + qm.SEARCH_SUFFIX and res["reasoning"] == "" and
          "search_result" in res["loads"], res)
    res, b = chat("both", search=True, model="tongyi-qwen3-max-thinking-agent")
    check(res["reasoning"] and res["answer"].endswith(qm.SEARCH_SUFFIX))


def stream_text_options():
    res, b = chat("u [[unicode]] [[long:3]]")
    check(res["answer"] == "You said: u" + qm.UNICODE_TAIL + " word1 word2 word3", res["answer"])
    st, r, raw, b = chat_raw("a [[ascii]] [[unicode]]")
    check(b"\\u4f60" in raw and read(raw)["answer"].endswith(qm.UNICODE_TAIL.rstrip()))
    st, r, raw, b = chat_raw("c [[crlf]] [[named]]")
    check(b"\r\nevent: message\r\n" in raw and read(raw)["answer"] == "You said: c")
    for end, want in (("status", "status"), ("done", "done"), ("none", None)):
        res, b = chat("e [[end:%s]]" % end)
        check(res["end"] == want and res["answer"] == "You said: e", (end, res))


def codings():
    for c in ("gzip", "deflate", "br", "zstd"):
        st, r, raw, b = chat_raw("z [[enc:%s]] [[unicode]]" % c)
        check(r.getheader("Content-Encoding") == c and
              read(raw)["answer"] == "You said: z" + qm.UNICODE_TAIL, (c, raw[:100]))
        check(state()["last_chat"]["encoding"] == c)
    # zstd: a frame per event, or one frame for the whole body
    for frames, many in ((True, True), (False, False)):
        configure(zstd_frames=frames)
        b, ts = body("frames [[enc:zstd]]")
        st, r, raw = raw_req("POST", "/api/v2/chat?" + query(ts=ts), b, headers())
        n = raw.count(b"\x28\xb5\x2f\xfd")
        check((n > 3) if many else (n == 1), (frames, n))
        check(read(decode(raw, "zstd"))["answer"] == "You said: frames")
    configure(zstd_frames=True)
    # not offered: identity, counted
    st, r, raw, b = chat_raw("z [[enc:zstd]]", hdrs={"Accept-Encoding": "gzip"})
    check(r.getheader("Content-Encoding") is None and read(raw)["answer"] == "You said: z")
    check(state()["encoding_refused"] == 1)
    st, r, raw, b = chat_raw("z [[enc:br]]", hdrs={"Accept-Encoding": "br;q=0, gzip"})
    check(r.getheader("Content-Encoding") is None)
    configure(force_encoding=True)
    st, r, raw, b = chat_raw("z [[enc:zstd]]", hdrs={"Accept-Encoding": "gzip"})
    check(r.getheader("Content-Encoding") == "zstd")
    configure(force_encoding=False, encoding="br")
    st, r, raw, b = chat_raw("default coding")
    check(r.getheader("Content-Encoding") == "br" and read(raw)["answer"].endswith("coding"))
    # an unknown coding over random bytes
    b, ts = body("x [[enc:bogus]]")     # one timestamp for the query and client_tm
    st, r, raw = raw_req("POST", "/api/v2/chat?" + query(ts=ts), b, headers())
    check(r.getheader("Content-Encoding") == "x-bogus" and len(raw) > 0)
    # JSON answers too
    configure(json_encoding="zstd")
    st, r, o = api("/api/v2/session/page/list", {})
    check(r.getheader("Content-Encoding") == "zstd" and o["success"] is True)


def split_bytes_on_the_wire():
    """[[split:bytes]]: every HTTP chunk one byte, also of a compressed body."""
    for extra in ("", " [[enc:gzip]]"):
        b, ts = body("s [[split:bytes]] [[unicode]]" + extra)
        data = json.dumps(b, ensure_ascii=False).encode()
        h = headers()
        s = socket.create_connection(("127.0.0.1", PORT), timeout=20)
        req = ["POST /api/v2/chat?%s HTTP/1.1" % query(ts=ts), "Host: x",
               "Content-Length: %d" % len(data), "Connection: close"]
        req += ["%s: %s" % kv for kv in h.items()]
        s.sendall(("\r\n".join(req) + "\r\n\r\n").encode() + data)
        buf = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            buf += d
        s.close()
        head, rest = buf.split(b"\r\n\r\n", 1)
        sizes, out = [], b""
        while rest:
            line, rest = rest.split(b"\r\n", 1)
            n = int(line, 16)
            if n == 0:
                break
            sizes.append(n)
            out += rest[:n]
            rest = rest[n + 2:]
        check(set(sizes) == {1} and len(sizes) > 100, sizes[:20])
        raw = gzip.decompress(out) if extra else out
        check(read(raw)["answer"] == "You said: s" + qm.UNICODE_TAIL)


def faults_and_healing():
    configure(chat_status=503, chat_status_times=2)
    for _ in range(2):
        st, r, raw, b = chat_raw("f")
        check(st == 503 and json.loads(raw)["errorCode"] == "HTTP_503", raw)
    st, r, raw, b = chat_raw("f")
    check(st == 200, "the fault heals")
    for v, st_want, code in ((401, 401, "HTTP_401"), (403, 403, "HTTP_403"), (500, 500, "HTTP_500"),
                             (200, 200, "SYSTEM_ERROR"), ("notlogin", 200, "NOT_LOGIN"),
                             ("limit", 200, "FLOW_LIMIT")):
        st, r, raw, b = chat_raw("f [[fail:%s]]" % v)
        check(st == st_want and json.loads(raw)["errorCode"] == code and
              r.getheader("Content-Type").startswith("application/json"), (v, st, raw))
    st, r, raw, b = chat_raw("f [[fail:429]]")
    check(st == 429 and r.getheader("Retry-After") == "30")
    st, r, raw, b = chat_raw("f [[cf:502]]")
    check(st == 502 and b"cf-error-details" in raw)
    configure(by_ticket={T2: {"list_status": "notlogin"}})
    check(api("/api/v2/session/page/list", {}, ticket=T2)[2]["errorCode"] == "NOT_LOGIN")
    check(api("/api/v2/session/page/list", {})[2]["success"] is True)
    configure(delete_status=500, delete_status_times=1)
    st, r, o = api("/api/v1/session/delete/batch", {"session_ids": ["x"]})
    check(st == 500)


def stream_errors():
    res, b = chat("m [[long:10]] [[error:mid]]")
    check(res["error"]["error_code"] == "INTERNAL_ERROR" and res["answer"].startswith("You said") and
          len(res["answer"]) < len("You said: m") + 40, res)
    res, b = chat("m [[long:10]] [[error:event]]")
    check(res["error"]["error_code"] == "INTERNAL_ERROR" and res["end"] is None)
    res, b = chat("m [[error:login]]")
    check(res["error"]["error_code"] == "NOT_LOGIN" and res["answer"] == "")
    res, b = chat("m [[error:limit]]")
    check(res["error"]["error_code"] == "FLOW_LIMIT")
    configure(auth_error="sse")
    st, r, raw, b = chat_raw("m", ticket="unknown-ticket-" * 2)
    check(st == 200 and read(raw)["error"]["error_code"] == "NOT_LOGIN")


def cut_streams():
    for marker in ("[[close:3]]", "[[reset:3]]"):
        b, ts = body("c [[long:30]] " + marker)
        c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
        c.request("POST", "/api/v2/chat?" + query(ts=ts), json.dumps(b), headers())
        r = c.getresponse()
        try:
            r.read()
            check(False, "a cut stream read whole")
        except (http.client.IncompleteRead, ConnectionError):
            pass
        c.close()
    check(state()["server_aborts"] == 2)
    # a stall: the client gives up, the mock notices
    b, ts = body("s [[stall:2]]")
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=1)
    c.request("POST", "/api/v2/chat?" + query(ts=ts), json.dumps(b), headers())
    r = c.getresponse()
    try:
        r.read()
    except (socket.timeout, TimeoutError):
        pass
    c.close()
    check(MOCK.wait_for(lambda s: s["client_disconnects"] >= 1 and s["stalls"] == 1, 5))
    # close after N events of a zstd body: a truncated frame
    st, r, raw = None, None, None
    b, ts = body("z [[long:30]] [[enc:zstd]] [[close:5]]")
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    c.request("POST", "/api/v2/chat?" + query(ts=ts), json.dumps(b), headers())
    r = c.getresponse()
    try:
        r.read()
        check(False, "a cut zstd stream read whole")
    except (http.client.IncompleteRead, ConnectionError):
        pass
    # a drip: events apart
    t0 = time.monotonic()
    res, b = chat("d [[drip:20]]")
    check(time.monotonic() - t0 > 0.2 and res["answer"] == "You said: d")


def deletes():
    res, b1 = chat("one")
    res, b2 = chat("two")
    res, b3 = chat("three", ticket=T2)
    s = state()
    check(sorted(s["live_sessions"][T1]) == sorted([b1["session_id"], b2["session_id"]]))
    st, r, o = api("/api/v1/session/delete/batch", {"session_ids": [b1["session_id"]]})
    check(o == {"success": True, "code": 0, "msg": "", "data": True}, o)
    # another's, a deleted one, an unknown one: refused
    for sid in (b3["session_id"], b1["session_id"], "f" * 32):
        st, r, o = api("/api/v1/session/delete/batch", {"session_ids": [sid]})
        check(o["success"] is False and o["errorCode"] == "SESSION_NOT_FOUND", o)
    st, r, o = api("/api/v2/session/delete", {"session_id": b2["session_id"]})
    check(o["success"] is True)
    st, r, o = api("/api/v1/session/delete/batch", {"ids": []})
    check(st == 400)
    s = state()
    check(s["sessions_deleted"] == {T1: 2} and s["sessions_live"] == {T2: 1} and
          s["sessions_created"] == {T1: 2, T2: 1}, s["sessions_deleted"])


def control_api():
    st, r, raw = raw_req("POST", "/_mock/config", {"no_such_knob": 1},
                         {"Content-Type": "application/json"})
    check(st == 400)
    st, r, raw = raw_req("POST", "/_mock/config", {"by_ticket": {T1: {"nope": 1}}},
                         {"Content-Type": "application/json"})
    check(st == 400)
    cfg = configure(tickets=[T1], add_tickets=["new-ticket-value-123"])
    check(cfg["tickets"] == sorted([T1, "new-ticket-value-123"]) and T2 in cfg["expired_tickets"],
          cfg)
    chat("x")
    check(state()["chats"] == {T1: 1})
    configure(reset=True)
    check(T2 in json.loads(raw_req("GET", "/_mock/config")[2])["tickets"])
    raw_req("POST", "/_mock/reset", {"all": True}, {"Content-Type": "application/json"})
    s = state()
    check(s["chats"] == {} and s["live_sessions"] == {} and s["nonces_seen"] == 0 and
          s["requests"] == {}, s)
    st, r, raw = raw_req("POST", "/nowhere", {}, headers())
    check(st == 404)
    check(state()["requests"] == {"not_found": 1})


def a_session_continues():
    res, b = chat("first question")
    sid, rid = b["session_id"], b["req_id"]
    check(res["ids"] == {"sessionid": sid, "reqid": rid}, res["ids"])

    def cont(text, ticket=T1, **over):
        b2, ts = body(text, session_id=sid, parent_req_id=rid, scene_param="continue_chat")
        b2.update(over)
        st, r, raw = raw_req("POST", "/api/v2/chat?" + query(ticket, ts=ts), b2, headers(ticket))
        return st, r, decode(raw, r.getheader("Content-Encoding")), b2

    st, r, raw, b2 = cont("second question")
    res = read(raw)
    check(st == 200 and res["answer"] == "You said: second question" and
          res["ids"]["sessionid"] == sid, (st, res))
    check(state()["continued_chats"] == {T1: 1} and state()["sessions_live"] == {T1: 1})
    st, r, raw, _ = cont("third question")          # after the first answer, not the last
    rejected(st, raw, "not the session's last answer")
    rid = b2["req_id"]
    st, r, raw, _ = cont("third question", scene_param="first_turn")
    rejected(st, raw, "want continue_chat")
    st, r, raw, _ = cont("third question, as in second question")
    rejected(st, raw, "resent an earlier turn")
    st, r, raw, _ = cont("third question", ticket=T2)
    rejected(st, raw, "no live session of this caller")


def cli_runs_and_writes_port_file():
    tmp = tempfile.mkdtemp()
    pf = os.path.join(tmp, "port")
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "qwen_mock.py"), "--port", "0",
                          "--port-file", pf, "--ticket", "cli-ticket-value-0001",
                          "--config", '{"encoding":"gzip"}'],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        end = time.time() + 10
        while not os.path.exists(pf) and time.time() < end:
            time.sleep(0.05)
        port = int(open(pf).read())
        b, ts = body("cli")
        st, r, raw = raw_req("POST", "/api/v2/chat?" + query("cli-ticket-value-0001", ts=ts), b,
                             headers("cli-ticket-value-0001"), port=port)
        check(st == 200 and r.getheader("Content-Encoding") == "gzip" and
              read(gzip.decompress(raw))["answer"] == "You said: cli")
    finally:
        p.send_signal(signal.SIGTERM)
        rc = p.wait(10)
    check(rc == 0, "exit code %s" % rc)


TESTS = [list_and_credentials, ticket_cookie_knob_proves_the_check, header_checks, query_checks,
         device_is_bound, body_checks, stream_plain_and_card, stream_thinking_and_search,
         stream_text_options, codings, split_bytes_on_the_wire, faults_and_healing,
         stream_errors, cut_streams, deletes, a_session_continues, control_api,
         cli_runs_and_writes_port_file]


def main():
    global MOCK, PORT
    MOCK = qm.QwenMock().start()
    PORT = MOCK.port
    passed = failed = 0
    only = sys.argv[1:]
    try:
        for fn in TESTS:
            if only and fn.__name__ not in only:
                continue
            MOCK.reset(config=True, all=True)
            t0 = time.time()
            try:
                fn()
                passed += 1
                print("ok - %s (%.2fs)" % (fn.__name__, time.time() - t0))
            except Exception:
                failed += 1
                print("not ok - %s" % fn.__name__)
                for line in traceback.format_exc().rstrip().split("\n"):
                    print("#   " + line)
                try:
                    print("#   last_rejection: %s" % state().get("last_rejection"))
                except Exception:   # noqa: BLE001
                    pass
            sys.stdout.flush()
    finally:
        MOCK.stop()
    print("# counts: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
