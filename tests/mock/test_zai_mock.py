#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""Self-test of tests/mock/zai_mock.py.

Talks to the mock over HTTP only (http.client and a raw socket).  The client side -- the
headers, the section 8.3 query, X-Signature, the bodies and the stream reader -- is written
here from shared/protocols/providers.md section 8; from the mock module only the token minting
(make_token) and constants are used, and the first test checks the mock's signature function
against the document's verified vector.  The mock runs in-process except for one test that
runs its CLI.

    python3 tests/mock/test_zai_mock.py [test_name ...]

Prints one line per test and, last, `# counts: N passed, M failed`; exits non-zero on any
failure.
"""

import base64
import datetime
import hashlib
import hmac
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from urllib.parse import quote

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import zai_mock as zm  # noqa: E402

UA = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/144.0.0.0 Safari/537.36")
TOK = zm.DEFAULT_TOKEN
MOCK = None
PORT = None
KEY = "key-@@@@)))()((9))-xxxx&&&%%%%%"


# =========================================================================== a client

def headers(token=TOK, referer="https://chat.z.ai/", post=True, extra=None):
    h = {"Accept": "*/*", "Accept-Language": "zh-CN", "Origin": "https://chat.z.ai",
         "Referer": referer, "User-Agent": UA, "X-FE-Version": "prod-fe-1.0.241"}
    if token:
        h["Authorization"] = "Bearer " + token
        h["Cookie"] = "token=" + token
    if post:
        h["Content-Type"] = "application/json"
    h.update(extra or {})
    return h


def request(method, path, body=None, hdrs=None, timeout=15):
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=timeout)
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    c.request(method, path, data, hdrs if hdrs is not None else headers(post=body is not None))
    r = c.getresponse()
    raw = r.read()
    c.close()
    try:
        doc = json.loads(raw)
    except ValueError:
        doc = None
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), raw, doc


def sign(request_id, ts, user_id, prompt, key=KEY):
    k = hmac.new(key.encode(), str(ts // 300000).encode(), hashlib.sha256).hexdigest()
    msg = "requestId,%s,timestamp,%d,user_id,%s|%s|%d" % (
        request_id, ts, user_id, base64.b64encode(prompt.encode()).decode(), ts)
    return hmac.new(k.encode(), msg.encode(), hashlib.sha256).hexdigest()


def enc(s):
    # URLSearchParams: quote() with "*" kept and "~" escaped, then "+" for spaces
    return quote(s, safe="*").replace("~", "%7E").replace("%20", "+")


def user_of(token):
    p = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))["id"]


def query(chat_id, request_id, ts, token=TOK, user=None, order=None, over=None):
    iso = datetime.datetime.fromtimestamp(ts / 1000, datetime.timezone.utc)
    vals = {
        "timestamp": str(ts), "requestId": request_id, "user_id": user or user_of(token),
        "version": "0.0.1", "platform": "web", "token": token, "user_agent": UA,
        "language": "zh-CN", "languages": "zh-CN,zh", "timezone": "Asia/Shanghai",
        "cookie_enabled": "true", "screen_width": "1512", "screen_height": "982",
        "screen_resolution": "1512x982", "viewport_height": "945", "viewport_width": "923",
        "viewport_size": "923x945", "color_depth": "30", "pixel_ratio": "2",
        "current_url": "https://chat.z.ai/c/" + chat_id, "pathname": "/c/" + chat_id,
        "search": "", "hash": "", "host": "chat.z.ai", "hostname": "chat.z.ai",
        "protocol": "https:", "referrer": "",
        "title": "Z.ai - Free AI Chatbot & Agent powered by GLM-5 & GLM-4.7",
        "timezone_offset": "-480",
        "local_time": iso.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ts % 1000),
        "utc_time": iso.strftime("%a, %d %b %Y %H:%M:%S GMT"),
        "is_mobile": "false", "is_touch": "false", "max_touch_points": "0",
        "browser_name": "Chrome", "os_name": "Mac OS", "signature_timestamp": str(ts)}
    vals.update(over or {})
    keys = order or list(vals)
    return "&".join("%s=%s" % (enc(k), enc(vals[k])) for k in keys)


def new_chat(text, model="glm-4.7", token=TOK):
    mid = str(uuid.uuid4())
    now = int(time.time() * 1000)
    body = {"chat": {"id": "", "title": "New Chat", "models": [model], "params": {},
                     "history": {"messages": {mid: {"id": mid, "parentId": None,
                                                    "childrenIds": [], "role": "user",
                                                    "content": text, "timestamp": now // 1000,
                                                    "models": [model]}},
                                 "currentId": mid},
                     "tags": [], "flags": [], "features": [{"type": "tool_selector",
                                                            "server": "tool_selector_h",
                                                            "status": "hidden"}],
                     "mcp_servers": [], "enable_thinking": False, "auto_web_search": False,
                     "message_version": 1, "extra": {}, "timestamp": now}}
    st, h, raw, doc = request("POST", "/api/v1/chats/new", body, headers(token))
    assert st == 200 and doc and doc.get("id"), (st, raw[:300])
    return doc["id"], mid


def completion_body(chat_id, mid, rid, text, model="glm-4.7", think=False, search=False,
                    messages=None):
    now = datetime.datetime.now(datetime.timezone.utc)
    return {"stream": True, "model": model,
            "messages": messages or [{"role": "user", "content": text}],
            "signature_prompt": text, "params": {}, "extra": {},
            "features": {"image_generation": False, "web_search": False,
                         "auto_web_search": search, "preview_mode": True, "flags": [],
                         "vlm_tools_enable": False, "vlm_web_search_enable": False,
                         "vlm_website_mode": False, "enable_thinking": think},
            "variables": {"{{USER_NAME}}": "User", "{{USER_LOCATION}}": "Unknown",
                          "{{CURRENT_DATETIME}}": now.strftime("%Y-%m-%d %H:%M:%S"),
                          "{{CURRENT_DATE}}": now.strftime("%Y-%m-%d"),
                          "{{CURRENT_TIME}}": now.strftime("%H:%M:%S"),
                          "{{CURRENT_WEEKDAY}}": now.strftime("%A"),
                          "{{CURRENT_TIMEZONE}}": "UTC", "{{USER_LANGUAGE}}": "en-US"},
            "chat_id": chat_id, "id": rid, "current_user_message_id": mid,
            "current_user_message_parent_id": None,
            "background_tasks": {"title_generation": True, "tags_generation": True}}


def complete(text, model="glm-4.7", token=TOK, think=False, search=False, key=KEY,
             sig=None, order=None, over=None, body_over=None, drop_sig=False, ts=None):
    """One whole answer: chats/new, then the signed completion."""
    cid, mid = new_chat(text, model, token)
    rid = str(uuid.uuid4())
    ts = ts or int(time.time() * 1000)
    user = user_of(token)
    body = completion_body(cid, mid, rid, text, model, think, search)
    body.update(body_over or {})
    q = query(cid, rid, ts, token, order=order, over=over)
    h = headers(token, "https://chat.z.ai/c/" + cid)
    if not drop_sig:
        h["X-Signature"] = sig or sign(rid, ts, user, body["signature_prompt"], key)
    st, hh, raw, doc = request("POST", "/api/v2/chat/completions?" + q, body, h, timeout=30)
    return st, hh, raw, doc, cid


def events(raw):
    """The data: objects of a stream (CRLF or LF)."""
    out = []
    for block in raw.decode("utf-8").replace("\r\n", "\n").split("\n\n"):
        for line in block.split("\n"):
            if line.startswith("data: "):
                out.append(json.loads(line[6:]))
    return out


def shown(raw):
    """(content, reasoning, usage, done, error) as a client builds them."""
    content, reasoning, usage, done, error = "", "", None, False, None
    for e in events(raw):
        if e.get("error"):
            error = e["error"]
            continue
        d = e.get("data") or {}
        if d.get("error"):
            error = d["error"]
            continue
        if d.get("usage"):
            usage = d["usage"]
        if d.get("phase") == "answer":
            content += d.get("delta_content", "")
        elif d.get("phase") == "thinking":
            reasoning += d.get("delta_content", "")
        if d.get("phase") == "done" or d.get("done"):
            done = True
    return content, reasoning, usage, done, error


# =========================================================================== tests

def t_signature_vector():
    sig, can, k = zm.signature("d9fb3ca8-676f-46c3-90c7-ddc70a74e46d", 1771762969397,
                               "d0d30815-b85a-4270-af63-b5346a9f3b13", "Reply with exactly: ok")
    assert k == "b2fb416ee0ae56d2704aa98146f94dc4787412038a4aa7dfa365aeaaf13301c0", k
    assert sig == "26be53ded6069ead38e6d4d596e54b020aaa2e17f75a4fa29325ead00484b214", sig
    assert can.endswith("|UmVwbHkgd2l0aCBleGFjdGx5OiBvaw==|1771762969397"), can
    assert sign("d9fb3ca8-676f-46c3-90c7-ddc70a74e46d", 1771762969397,
                "d0d30815-b85a-4270-af63-b5346a9f3b13", "Reply with exactly: ok") == sig


def t_settings_and_logins():
    st, h, raw, doc = request("GET", "/api/v1/users/user/settings", hdrs=headers(post=False))
    assert st == 200 and doc["id"] == zm.DEFAULT_USER, (st, raw)
    checks = [
        (headers(None, post=False), 401, "no Bearer"),
        (headers(post=False, extra={"Cookie": "token=other"}), 401, "cookie"),
        (headers(zm.make_token(key=b"not the mock's key"), post=False), 401, "signature"),
        (headers(zm.EXPIRED_TOKEN, post=False), 401, "exp"),
        (headers(post=False, extra={"Origin": "https://evil.example"}), 400, "Origin"),
        (headers(post=False, extra={"X-FE-Version": "dev"}), 400, "X-FE-Version"),
        (headers(post=False, extra={"User-Agent": "curl/8"}), 400, "User-Agent"),
    ]
    for hh, want, why in checks:
        st, rh, raw, doc = request("GET", "/api/v1/users/user/settings", hdrs=hh)
        assert st == want and why in rh.get("x-mock-reason", ""), (why, st, rh, raw)
    MOCK.configure({"revoked_tokens": [zm.OTHER_TOKEN]})
    st, *_ = request("GET", "/api/v1/users/user/settings", hdrs=headers(zm.OTHER_TOKEN,
                                                                        post=False))
    assert st == 401
    MOCK.configure({"add_tokens": [zm.OTHER_TOKEN], "fe_version": "prod-fe-9.9.9"})
    st, *_ = request("GET", "/api/v1/users/user/settings", hdrs=headers(zm.OTHER_TOKEN,
                                                                        post=False))
    assert st == 400
    MOCK.configure({"fe_version": None, "settings_status": 503, "settings_status_times": 1})
    st1, *_ = request("GET", "/api/v1/users/user/settings", hdrs=headers(post=False))
    st2, *_ = request("GET", "/api/v1/users/user/settings", hdrs=headers(post=False))
    assert (st1, st2) == (503, 200), (st1, st2)
    assert MOCK.snapshot()["settings"].get(TOK) == 2


def t_chat_new_checked():
    cid, mid = new_chat("hello")
    assert MOCK.snapshot()["chats_live"][zm.DEFAULT_USER] >= 1
    good = json.loads(MOCK.snapshot()["last_requests"]["chat_new"]["body"])
    for mutate, why in ((lambda c: c.pop("tags"), "chat keys"),
                        (lambda c: c.update(models=["gpt-4o"]), "models"),
                        (lambda c: c.update(enable_thinking=True), "enable_thinking"),
                        (lambda c: c["history"].update(currentId="x"), "history"),
                        (lambda c: c.update(timestamp=1), "timestamp")):
        body = json.loads(json.dumps(good))
        mutate(body["chat"])
        st, h, raw, doc = request("POST", "/api/v1/chats/new", body)
        assert st == 400 and why in h.get("x-mock-reason", ""), (why, st, h)


def t_completion_answer():
    st, h, raw, doc, cid = complete("hi there")
    assert st == 200 and h["content-type"].startswith("text/event-stream"), (st, raw[:300])
    content, reasoning, usage, done, error = shown(raw)
    assert content == "You said: hi there" and reasoning == "" and done and error is None, raw
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    s = MOCK.snapshot()
    lc = s["last_completion"]
    assert lc["completed"] and lc["expected_content"] == content and lc["chat_id"] == cid
    assert [k for k, _ in lc["query"]] == list(zm.QUERY_ORDER)
    assert s["signatures_ok"] >= 1 and s["signatures_failed"] == 0


def t_completion_think_search():
    st, h, raw, doc, cid = complete("find [[unicode]]", model="GLM-5-Turbo", think=True,
                                    search=True)
    assert st == 200, (st, raw[:300])
    evs = events(raw)
    phases = [e["data"].get("phase") for e in evs]
    assert phases[:3] == ["tool_call", "tool_call", "tool_response"], phases
    assert "thinking" in phases and phases[-1] == "done", phases
    content, reasoning, usage, done, error = shown(raw)
    assert reasoning.startswith("Thinking about: find"), reasoning
    assert "\u3010turn0search0\u3011" in content and "\u3010plain\u3011" in content
    lc = MOCK.snapshot()["last_completion"]
    assert lc["expected_content"] == content.replace("\u3010turn0search0\u3011", "").replace(
        "\u3010turn0search1\u3011", ""), lc["expected_content"]
    assert zm.UNICODE_TAIL in lc["expected_content"]


def t_signature_checked():
    before = MOCK.snapshot()["signatures_failed"]
    st, h, raw, doc, _ = complete("x", sig="0" * 64)
    assert st == 403 and doc["detail"] == zm.SIGNATURE_FAILED, (st, raw)
    st, h, raw, doc, _ = complete("x", key="another key")
    assert st == 403, st
    st, h, raw, doc, _ = complete("x", drop_sig=True)
    assert st == 426, st
    # the signature covers the prompt: a different signature_prompt fails it
    st, h, raw, doc, _ = complete("x", sig=sign("0" * 8, 1, "u", "x"))
    assert st == 403, st
    assert MOCK.snapshot()["signatures_failed"] == before + 3
    MOCK.configure({"sign_key": "rotated-secret"})
    st, *_ = complete("x")
    assert st == 403, st
    st, *_ = complete("x", key="rotated-secret")
    assert st == 200, st
    MOCK.configure({"sign_key": KEY})
    st, h, raw, doc, _ = complete("in stream [[sign:stream]]", sig="1" * 64)
    c, r, u, d, err = shown(raw)
    assert st == 200 and err and "Signature validation failed" in err["detail"], raw[-300:]


def t_query_checked():
    order = list(zm.QUERY_ORDER)
    order[1], order[2] = order[2], order[1]
    for kw, why in (({"order": order}, "order"),
                    ({"order": order[:-1]}, "order"),
                    ({"over": {"user_id": "someone-else"}}, "user_id"),
                    ({"over": {"token": zm.OTHER_TOKEN}}, "token"),
                    ({"over": {"screen_width": "1920"}}, "screen_width"),
                    ({"over": {"pathname": "/c/other"}}, "pathname"),
                    ({"over": {"local_time": "2020-01-01T00:00:00.000Z"}}, "local_time"),
                    ({"ts": int(time.time() * 1000) - 3600 * 1000}, "too far")):
        st, h, raw, doc, _ = complete("q", **kw)
        assert st == 405 and b"Aliyun WAF" in raw and why in h.get("x-mock-reason", ""), \
            (why, st, h.get("x-mock-reason"))
    # percent-encoding a space instead of "+": not what URLSearchParams writes
    cid, mid = new_chat("q")
    rid, ts = str(uuid.uuid4()), int(time.time() * 1000)
    q = query(cid, rid, ts).replace("os_name=Mac+OS", "os_name=Mac%20OS")
    h = headers(TOK, "https://chat.z.ai/c/" + cid)
    h["X-Signature"] = sign(rid, ts, zm.DEFAULT_USER, "q")
    st, rh, raw, doc = request("POST", "/api/v2/chat/completions?" + q,
                               completion_body(cid, mid, rid, "q"), h)
    assert st == 405 and "URLSearchParams" in rh.get("x-mock-reason", ""), rh


def t_body_checked():
    for over, why in (({"model": "glm-4.5v"}, "model"),
                      ({"stream": False}, "stream"),
                      ({"messages": [{"role": "system", "content": "q"}]}, "message"),
                      ({"messages": [{"role": "user", "content": "other"}]}, "signature_prompt"),
                      ({"current_user_message_parent_id": "x"}, "parent"),
                      ({"params": {"temperature": 1}}, "params")):
        st, h, raw, doc, _ = complete("q", body_over=over)
        assert st == 400 and why in h.get("x-mock-reason", ""), (why, st, h.get("x-mock-reason"))
    # the system prefix form of the first user message is accepted
    st, *_ = complete("q", body_over={"messages": [{"role": "user",
                                                    "content": "Sys\n\nUser: q"}]})
    assert st == 200, st
    # another user's chat
    cid, mid = new_chat("mine", token=zm.OTHER_TOKEN)
    rid, ts = str(uuid.uuid4()), int(time.time() * 1000)
    h = headers(TOK, "https://chat.z.ai/c/" + cid)
    h["X-Signature"] = sign(rid, ts, zm.DEFAULT_USER, "mine")
    st, rh, raw, doc = request("POST", "/api/v2/chat/completions?" + query(cid, rid, ts),
                               completion_body(cid, mid, rid, "mine"), h)
    assert st == 400 and "another user" in rh.get("x-mock-reason", ""), rh


def t_guest():
    st, h, raw, doc, _ = complete("g", model="glm-5", token=zm.GUEST_TOKEN)
    assert st == 403 and doc["detail"] == zm.GUEST_REFUSED, (st, raw)
    st, *_ = complete("g", model="glm-4.7", token=zm.GUEST_TOKEN)
    assert st == 200, st
    MOCK.configure({"guest_refusal": "stream"})
    st, h, raw, doc, _ = complete("g", model="GLM-5-Turbo", token=zm.GUEST_TOKEN)
    MOCK.configure({"guest_refusal": "http"})
    c, r, u, d, err = shown(raw)
    assert st == 200 and err == {"code": 403, "detail": zm.GUEST_REFUSED} and c == "", raw


def raw_completion(text):
    """The completion over a raw socket: (status line, the chunk sizes, the body)."""
    cid, mid = new_chat(text)
    rid, ts = str(uuid.uuid4()), int(time.time() * 1000)
    body = json.dumps(completion_body(cid, mid, rid, text)).encode()
    h = headers(TOK, "https://chat.z.ai/c/" + cid)
    h["X-Signature"] = sign(rid, ts, zm.DEFAULT_USER, text)
    h["Content-Length"] = str(len(body))
    s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
    s.sendall(("POST /api/v2/chat/completions?%s HTTP/1.1\r\nHost: x\r\n%s\r\n" % (
        query(cid, rid, ts), "".join("%s: %s\r\n" % kv for kv in h.items()))).encode() + body)
    f = s.makefile("rb")
    status = f.readline().decode().strip()
    while f.readline() not in (b"\r\n", b""):
        pass
    sizes, data = [], b""
    while True:
        line = f.readline()
        if not line:
            break
        n = int(line.strip() or b"0", 16)
        if n == 0:
            break
        sizes.append(n)
        data += f.read(n)
        f.readline()
    s.close()
    return status, sizes, data


def t_markers():
    status, sizes, data = raw_completion("split [[split:bytes]] [[unicode]]")
    assert status.endswith("200 OK") and set(sizes) == {1} and len(sizes) == len(data), sizes[:9]
    c, r, u, d, e = shown(data)
    assert c == "You said: split" + zm.UNICODE_TAIL and d, c
    status, sizes, data = raw_completion("closing [[close:2]] [[long:30]]")
    c, r, u, d, e = shown(data)
    assert not d and len(events(data)) == 2, data
    st, h, raw, doc, _ = complete("hot [[fail:429]]")
    assert st == 429 and h.get("retry-after") == "30", (st, h)
    st, h, raw, doc, _ = complete("cf [[cf:503]]")
    assert st == 503 and b"cf-error-details" in raw, st
    st, h, raw, doc, _ = complete("waf [[waf]]")
    assert st == 405 and b"Aliyun WAF" in raw and TOK.encode() in raw, (st, raw[:200])
    st, h, raw, doc, _ = complete("json [[fail:200]]")
    assert st == 200 and h["content-type"].startswith("application/json"), h
    for kind in zm.ERRORS:
        st, h, raw, doc, _ = complete("bad [[long:10]] [[error:%s]]" % kind)
        c, r, u, d, e = shown(raw)
        assert st == 200 and e and c.startswith("You said") and not d, (kind, raw[-200:])
    st, h, raw, doc, _ = complete("old [[think:details]]", think=True)
    c, r, u, d, e = shown(raw)
    assert r.startswith('<details type="reasoning" done="false">Thinking') and \
        r.endswith("</details>"), r
    assert MOCK.snapshot()["last_completion"]["expected_reasoning"].startswith("Thinking")
    for mark, want in (("[[usage:none]]", None), ("[[usage:done]]", "done"),
                       ("[[end:flag]]", "flag"), ("[[end:none]]", "none")):
        st, h, raw, doc, _ = complete("shape " + mark)
        evs = events(raw)
        c, r, u, d, e = shown(raw)
        assert c == "You said: shape", c
        if want is None:
            assert u is None and d
        elif want == "done":
            assert evs[-1]["data"].get("usage") and evs[-1]["data"]["phase"] == "done"
        elif want == "flag":
            assert evs[-2]["data"].get("done") is True and \
                all(e["data"].get("phase") != "done" for e in evs)
        else:
            assert not d and evs[-1]["data"]["phase"] == "other"
    st, h, raw, doc, _ = complete("crlf [[crlf]] [[ascii]] [[unicode]]")
    assert b"\r\n\r\n" in raw and b"\\u4f60" in raw and shown(raw)[0].endswith(
        zm.UNICODE_TAIL.rstrip()[-3:]), raw[-200:]


def t_delete():
    cid, mid = new_chat("to delete")
    st, h, raw, doc = request("DELETE", "/api/v1/chats/" + cid, hdrs=headers(post=False))
    assert st == 200 and raw == b"true", (st, raw)
    st, *_ = request("DELETE", "/api/v1/chats/" + cid, hdrs=headers(post=False))
    assert st == 404
    cid, mid = new_chat("theirs", token=zm.OTHER_TOKEN)
    st, *_ = request("DELETE", "/api/v1/chats/" + cid, hdrs=headers(post=False))
    assert st == 404
    st, *_ = request("DELETE", "/api/v1/chats/", hdrs=headers(zm.OTHER_TOKEN, post=False))
    assert st == 400 and MOCK.snapshot()["chats_live"].get(user_of(zm.OTHER_TOKEN)), st
    st, *_ = request("DELETE", "/api/v1/chats/", b"true", hdrs=headers(zm.OTHER_TOKEN))
    assert st == 200 and not MOCK.snapshot()["chats_live"].get(user_of(zm.OTHER_TOKEN))
    MOCK.configure({"chat_delete_status": 500, "chat_delete_status_times": 1})
    cid, mid = new_chat("fault")
    st1, *_ = request("DELETE", "/api/v1/chats/" + cid, hdrs=headers(post=False))
    st2, *_ = request("DELETE", "/api/v1/chats/" + cid, hdrs=headers(post=False))
    assert (st1, st2) == (500, 200), (st1, st2)


def t_control():
    st, h, raw, doc = request("POST", "/_mock/config", {"no_such_knob": 1}, {})
    assert st == 400, st
    MOCK.configure({"by_token": {TOK: {"completion_status": 401}}})
    st, *_ = complete("refused")
    st2, *_ = complete("other user", token=zm.OTHER_TOKEN)
    MOCK.configure({"by_token": {TOK: None}})
    st3, *_ = complete("healed")
    assert (st, st2, st3) == (401, 200, 200), (st, st2, st3)
    st, h, raw, doc = request("POST", "/_mock/reset", {"all": True}, {})
    s = MOCK.snapshot()
    assert st == 200 and s["completions"] == {} and s["live_chats"] == {}, s["completions"]
    st, h, raw, doc = request("GET", "/_mock/config", hdrs={})
    assert st == 200 and TOK in doc["tokens"] and doc["sign_key"] == KEY


def t_cli():
    with tempfile.TemporaryDirectory() as d:
        pf = os.path.join(d, "port")
        p = subprocess.Popen([sys.executable, os.path.join(HERE, "zai_mock.py"), "--port", "0",
                              "--port-file", pf, "--config", json.dumps({"unicode": True})],
                             stderr=subprocess.PIPE)
        try:
            for _ in range(100):
                if os.path.exists(pf):
                    break
                time.sleep(0.05)
            port = int(open(pf).read())
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/_mock/config")
            doc = json.loads(c.getresponse().read())
            assert doc["unicode"] is True
        finally:
            p.send_signal(signal.SIGTERM)
            assert p.wait(10) == 0


TESTS = [t_signature_vector, t_settings_and_logins, t_chat_new_checked, t_completion_answer,
         t_completion_think_search, t_signature_checked, t_query_checked, t_body_checked,
         t_guest, t_markers, t_delete, t_control, t_cli]


def main(argv):
    global MOCK, PORT
    MOCK = zm.ZaiMock().start()
    PORT = MOCK.port
    want = set(argv[1:])
    ok = bad = 0
    try:
        for t in TESTS:
            if want and t.__name__ not in want:
                continue
            MOCK.reset(config=True)
            try:
                t()
                ok += 1
                print("ok   %s" % t.__name__)
            except Exception:
                bad += 1
                print("FAIL %s" % t.__name__)
                traceback.print_exc(file=sys.stdout)
    finally:
        MOCK.stop()
    print("# counts: %d passed, %d failed" % (ok, bad))
    return 0 if bad == 0 and ok > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
