#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""Self-test of tests/mock/kimi_mock.py.

Talks to the mock only over HTTP (http.client and raw sockets).  The client side -- Connect
envelopes, JWT payloads, the browser and identity headers, the section 4.2 body, the section
4.4 stream interpreter -- is written here from shared/protocols/providers.md section 4, not
taken from the mock.  The mock runs in-process (KimiMock().start()) except for one test that
runs the CLI.

    python3 tests/mock/test_kimi_mock.py [test_name ...]

Prints one line per test and, last, `# counts: N passed, M failed`; exits non-zero on any
failure.
"""

import base64
import http.client
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import kimi_mock as km  # noqa: E402  (to start it in-process)

ORIGIN = "https://www.kimi.com"
CHAT = "/apiv2/kimi.gateway.chat.v1.ChatService/Chat"
DELETE = "/apiv2/kimi.chat.v1.ChatService/DeleteChat"
SUB = "/apiv2/kimi.gateway.order.v1.SubscriptionService/GetSubscription"
REFRESH = "/api/auth/token/refresh"
FOCUS = "system:Focus on the latest message from user\n"
MOCK = None
PORT = None


# =========================================================================== client side

def claims(jwt):
    p = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))


def headers(token, ctype=None, connect=False, who=None):
    """Browser headers, the bearer and the identity headers of who (a JWT; token itself)."""
    c = claims(who or token)
    h = {"Accept": "*/*", "Origin": ORIGIN, "Referer": ORIGIN + "/",
         "User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0.0.0",
         "R-Timezone": "Asia/Shanghai", "X-Language": "zh-CN", "X-Msh-Platform": "web",
         "X-Msh-Device-Id": c["device_id"], "X-Msh-Session-Id": c["ssid"],
         "X-Traffic-Id": c["sub"], "Authorization": "Bearer " + token}
    if ctype:
        h["Content-Type"] = ctype
    if connect:
        h["Connect-Protocol-Version"] = "1"
    return h


def req(method, path, body=b"", hdrs=None, timeout=20):
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=timeout)
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    c.request(method, path, body=body or None, headers=hdrs or {})
    r = c.getresponse()
    raw = r.read()
    c.close()
    return r.status, r, raw


def jobj(raw):
    return json.loads(raw) if raw else None


def refresh(rt):
    st, r, raw = req("GET", REFRESH, hdrs=headers(rt))
    return st, jobj(raw)


def login(user="u1"):
    st, d = refresh(MOCK.newest_refresh(user))
    check(st == 200, "refresh %d %r" % (st, d))
    return d["access_token"]


def frame(obj, flags=0, delta=0):
    data = obj if isinstance(obj, bytes) else json.dumps(obj, ensure_ascii=False).encode()
    return struct.pack(">BI", flags, len(data) + delta) + data


def chat_body(prompt, thinking=False, search=False):
    return {"scenario": "SCENARIO_K2D5", "chat_id": "",
            "tools": [{"type": "TOOL_TYPE_SEARCH", "search": {}}] if search else [],
            "message": {"parent_id": "", "role": "user",
                        "blocks": [{"message_id": "", "text": {"content": prompt}}],
                        "scenario": "SCENARIO_K2D5"},
            "options": {"thinking": thinking}}


def unframe(raw):
    """[(flags, obj)] of a Connect body; raises on bad framing."""
    out, i = [], 0
    while i < len(raw):
        check(i + 5 <= len(raw), "cut envelope header at %d" % i)
        flags, n = struct.unpack(">BI", raw[i:i + 5])
        check(i + 5 + n <= len(raw), "cut envelope at %d" % i)
        out.append((flags, json.loads(raw[i + 5:i + 5 + n])))
        i += 5 + n
    return out


def interpret(envs):
    """Section 4.4 read plainly: (answer, reasoning, chat id, done, end object)."""
    text, reasoning, chat, done, end, thinking = "", "", None, False, None, False
    for flags, o in envs:
        if flags & 2:
            end = o
            continue
        if "error" in o:
            end = o
            continue
        chat = chat or (o.get("chat") or {}).get("id")
        b = o.get("block") or {}
        st = ((b.get("multiStage") or {}).get("stages") or [{}])[0]
        if st.get("name") == "STAGE_NAME_THINKING":
            thinking = st.get("status") != "completed"
        mask = o.get("mask") or ""
        if o.get("op") in ("set", "append"):
            if "block.think" in mask:
                reasoning += b["think"]["content"]
            elif "text" in b:
                text += b["text"]["content"]
        done = done or "done" in o
    return text, reasoning, chat, done, end


def chat(prompt, token=None, thinking=False, search=False, raw_body=None, hdrs=None):
    token = token or login()
    h = hdrs or headers(token, "application/connect+json", True)
    st, r, raw = req("POST", CHAT, raw_body if raw_body is not None else
                     frame(chat_body(prompt, thinking, search)), h)
    return st, r, raw


def raw_chat(prompt, token, timeout=10):
    """The chat over a raw socket: (head, body bytes, chunk count, how it ended)."""
    data = frame(chat_body(prompt))
    h = headers(token, "application/connect+json", True)
    h.update({"Content-Length": str(len(data)), "Host": "127.0.0.1"})
    s = socket.create_connection(("127.0.0.1", PORT), timeout=timeout)
    s.sendall(("POST %s HTTP/1.1\r\n" % CHAT + "".join("%s: %s\r\n" % kv for kv in h.items()) +
               "\r\n").encode() + data)
    buf, how = b"", "eof"
    try:
        while not buf.endswith(b"\r\n0\r\n\r\n"):
            d = s.recv(65536)
            if not d:
                break
            buf += d
        else:
            how = "complete"
    except ConnectionResetError:
        how = "reset"
    s.close()
    head, _, rest = buf.partition(b"\r\n\r\n")
    body, n, i = b"", 0, 0
    while True:
        j = rest.find(b"\r\n", i)
        if j < 0 or int(rest[i:j], 16) == 0:
            break
        size = int(rest[i:j], 16)
        body += rest[j + 2:j + 2 + size]
        n += 1
        i = j + 2 + size + 2
    return head, body, n, how


def state():
    return jobj(req("GET", "/_mock/state")[2])


def config(**kw):
    st, r, raw = req("POST", "/_mock/config", kw, {"Content-Type": "application/json"})
    check(st == 200, "config %d %r" % (st, raw))


# =========================================================================== framework

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def check(cond, msg="check failed"):
    if not cond:
        raise AssertionError(msg)


def refused(st, raw, status, reason_part, code=None):
    check(st == status, "status %d, want %d: %r" % (st, status, raw[:300]))
    o = jobj(raw)
    if code is not None:
        check(o.get("code") == code, "code %r, want %r" % (o.get("code"), code))
    last = state()["last_rejection"]
    check(last and reason_part.lower() in last["reason"].lower(),
          "reason %r lacks %r" % (last and last["reason"], reason_part))


# =========================================================================== tests

@test
def valid_flow_passes():
    at = login()
    st, r, raw = chat("hello there\n", at)
    check(st == 200 and r.getheader("Content-Type") == "application/connect+json", (st, raw[:200]))
    envs = unframe(raw)
    text, reasoning, cid, done, end = interpret(envs)
    check(text == "You said: hello there" and reasoning == "" and done, (text, done))
    check(envs[-1] == (2, end) and "error" not in end, envs[-1])
    check(all(f == 0 for f, _ in envs[:-1]), "only the last envelope ends the stream")
    s = state()
    check(s["last_chat"]["chat_id"] == cid and s["live_chats"] == {"u1": [cid]}, s["live_chats"])
    check(s["refreshes"] == {"u1": 1} and s["chats"] == {"u1": 1} and not s["rejections"], s)
    st, r, raw = req("POST", DELETE, {"chat_id": cid}, headers(at, "application/json", True))
    check(st == 200 and jobj(raw) == {}, (st, raw))
    check(state()["live_chats"] == {} and state()["chats_deleted"] == {"u1": 1}, state())
    st, r, raw = req("POST", SUB, {}, headers(at, "application/json", True))
    sub = jobj(raw)["subscription"]
    check(st == 200 and sub["userId"] == claims(at)["sub"] and sub["userName"] == "Mock u1", raw)


@test
def stream_shape_follows_section_4_4():
    st, r, raw = chat("shape\n")
    envs = unframe(raw)
    objs = [o for _, o in envs]
    check(objs[0]["mask"] == "chat" and objs[0]["chat"]["id"].startswith("chat-"), objs[0])
    roles = [o["message"]["role"] for o in objs if o.get("mask") == "message"]
    check(roles == ["user", "assistant"], roles)
    check(sum(1 for o in objs if "heartbeat" in o) >= 2, "heartbeats")
    texts = [o for o in objs if "block" in o and "text" in o["block"]]
    check(texts[0]["op"] == "set" and texts[0]["mask"] == "block.text" and
          all(o["op"] == "append" and o["mask"] == "block.text.content" for o in texts[1:]), texts[:3])
    offs = [o["eventOffset"] for o in objs if "eventOffset" in o]
    check(offs == sorted(offs) and len(set(offs)) == len(offs), offs)
    check(objs[-2] == {"done": {}} and envs[-1][0] == 2, objs[-2:])


@test
def thinking_and_search():
    st, r, raw = chat("think hard\n", thinking=True)
    text, reasoning, _, done, _ = interpret(unframe(raw))
    check(reasoning == "Thinking about: think hard. The user wants an echo." and
          text == "You said: think hard", (text, reasoning))
    stages = [o for _, o in unframe(raw) if o.get("mask") == "block.multiStage"]
    check([s["block"]["multiStage"]["stages"][0]["status"] for s in stages] ==
          ["STAGE_STATUS_START", "completed"], stages)
    st, r, raw = chat("look it up\n", search=True)
    objs = [o for _, o in unframe(raw)]
    text = interpret(unframe(raw))[0]
    check(text == "You said: look it up Kimi searched the web for this.", text)
    check(any(o.get("mask") == "block.search" for o in objs), "no search block")
    s = state()["last_chat"]
    check(s["search"] and not s["thinking"], s)


@test
def prompt_last_turn_and_markers():
    prompt = ("system:Be brief.\nuser:first\nassistant:answer\n" + FOCUS +
              "user:second [[unicode]] [[long:3]]\n")
    st, r, raw = chat(prompt)
    s = state()["last_chat"]
    check(s["prompt"] == prompt and s["user_text"] == "second" and
          s["markers"] == {"unicode": "", "long": "3"}, s)
    text = interpret(unframe(raw))[0]
    check(text.startswith("You said: second — 你好") and text.endswith("word1 word2 word3"), text)
    st, r, raw = chat("system:S\nonly turn\n")
    check(state()["last_chat"]["user_text"] == "only turn", state()["last_chat"]["user_text"])


@test
def credentials_are_checked():
    at, rt = login(), MOCK.newest_refresh()
    h = headers(at, "application/json", True)
    del h["Authorization"]
    st, r, raw = req("POST", SUB, {}, h)
    refused(st, raw, 401, "no 'Authorization", "unauthenticated")
    st, r, raw = req("POST", SUB, {}, headers(rt, "application/json", True))
    refused(st, raw, 401, "typ 'refresh'")
    st, r, raw = req("GET", REFRESH, hdrs=headers(at))
    refused(st, raw, 401, "typ 'access'")
    check(jobj(raw)["error_type"] == "auth.token.invalid", raw)
    forged = at[:-3] + ("AAA" if not at.endswith("AAA") else "BBB")
    st, r, raw = req("POST", SUB, {}, headers(forged, "application/json", True, who=at))
    refused(st, raw, 401, "signature")
    short = MOCK.access_token("u1", ttl=1)
    time.sleep(1.1)
    st, r, raw = req("POST", SUB, {}, headers(short, "application/json", True))
    refused(st, raw, 401, "access token expired")
    config(expired_users=["u2"])
    st, d = refresh(MOCK.refresh_token("u2"))
    check(st == 401, (st, d))


@test
def a_new_secret_refuses_every_token():
    at, rt = login(), MOCK.newest_refresh()
    config(jwt_secret="another-secret")
    st, r, raw = req("POST", SUB, {}, headers(at, "application/json", True))
    refused(st, raw, 401, "signature does not verify")
    st, d = refresh(rt)
    check(st == 401 and "signature" in d["message"], d)
    config(jwt_secret="kimi-mock-secret-1")
    st, r, raw = req("POST", SUB, {}, headers(at, "application/json", True))
    check(st == 200, raw)


@test
def refresh_rotates_and_revokes():
    rt = MOCK.newest_refresh()
    st, d = refresh(rt)
    check(st == 200 and d["refresh_token"] != rt and claims(d["refresh_token"])["typ"] == "refresh", d)
    st2, d2 = refresh(rt)
    check(st2 == 401 and "rotated out" in d2["message"], d2)
    st3, d3 = refresh(d["refresh_token"])
    check(st3 == 200, d3)
    check(MOCK.newest_refresh() == d3["refresh_token"], "newest")
    check(state()["users"]["u1"]["refresh_tokens"] == [d3["refresh_token"]], state()["users"])
    config(rotate_refresh=False)
    st4, d4 = refresh(d3["refresh_token"])
    check(st4 == 200 and d4["refresh_token"] == d3["refresh_token"], d4)
    a = claims(d4["access_token"])
    check(a["exp"] - a["iat"] == 900 and a["typ"] == "access" and a["app_id"] == "kimi", a)
    config(access_ttl_s=4)
    a = claims(refresh(d3["refresh_token"])[1]["access_token"])
    check(a["exp"] - a["iat"] == 4, a)


@test
def revoke_access_refuses_issued_tokens_only():
    at = login()
    config(revoke_access=True)
    st, r, raw = req("POST", SUB, {}, headers(at, "application/json", True))
    refused(st, raw, 401, "revoked")
    st, r, raw = req("POST", SUB, {}, headers(login(), "application/json", True))
    check(st == 200, raw)


@test
def headers_are_checked():
    at = login()
    for name, value, reason in (("Origin", "https://evil.example", "Origin"),
                                ("Referer", "https://evil.example/", "Referer"),
                                ("User-Agent", "curl/8", "User-Agent"),
                                ("X-Msh-Platform", "ios", "X-Msh-Platform"),
                                ("R-Timezone", "", "R-Timezone"),
                                ("X-Msh-Device-Id", "1", "X-Msh-Device-Id"),
                                ("X-Msh-Session-Id", "2", "X-Msh-Session-Id"),
                                ("X-Traffic-Id", "someone", "X-Traffic-Id"),
                                ("Connect-Protocol-Version", "2", "Connect-Protocol-Version"),
                                ("Content-Type", "application/json", "Content-Type")):
        h = headers(at, "application/connect+json", True)
        h[name] = value
        st, r, raw = chat("x\n", at, hdrs=h)
        refused(st, raw, 400, reason, "invalid_argument")
    config(check_headers=False)
    st, r, raw = req("POST", SUB, {}, {"Authorization": "Bearer " + at})
    check(st == 200, raw)


@test
def the_envelope_is_checked():
    at = login()
    good = chat_body("x\n")
    for body, reason in ((frame(good, delta=1), "envelope length"),
                         (frame(good, delta=-1), "envelope length"),
                         (frame(good) + frame({}), "envelope length"),
                         (frame(good, flags=1), "flags 0x01"),
                         (frame(good, flags=2), "flags 0x02"),
                         (b"\x00\x00", "no Connect envelope"),
                         (json.dumps(good).encode(), "flags 0x7b"),
                         (frame(b"\xff{}"), "not UTF-8 JSON")):
        st, r, raw = chat("", at, raw_body=body)
        refused(st, raw, 400, reason, "invalid_argument")
    config(envelope_len_delta=1)
    st, r, raw = chat("x\n", at)
    refused(st, raw, 400, "envelope length")
    st, r, raw = chat("x\n", at, raw_body=frame(good, delta=1))
    check(st == 200, "the knob expects the length off by one")


@test
def the_body_is_checked():
    at = login()
    cases = []
    b = chat_body("x\n")
    b["scenario"] = "SCENARIO_K2"
    cases.append((b, "scenario"))
    b = chat_body("x\n")
    b["chat_id"] = "chat-1"
    cases.append((b, "chat_id"))
    b = chat_body("x\n")
    b["tools"] = [{"type": "TOOL_TYPE_SEARCH"}]
    cases.append((b, "tools"))
    b = chat_body("x\n")
    b["options"] = {"thinking": "yes"}
    cases.append((b, "options"))
    b = chat_body("x\n")
    b["extra"] = 1
    cases.append((b, "body keys"))
    b = chat_body("x\n")
    b["message"]["role"] = "assistant"
    cases.append((b, "message"))
    b = chat_body("x\n")
    b["message"]["blocks"].append(b["message"]["blocks"][0])
    cases.append((b, "blocks"))
    cases.append((chat_body("   "), "blocks"))
    for body, reason in cases:
        st, r, raw = chat("", at, raw_body=frame(body))
        refused(st, raw, 400, reason, "invalid_argument")


@test
def a_chat_continues_after_its_last_answer():
    at = login()
    st, r, raw = chat("first question\n", at)
    envs = unframe(raw)
    cid = interpret(envs)[2]
    aid = next(o["message"]["id"] for _, o in envs
               if (o.get("message") or {}).get("role") == "assistant")
    b = chat_body("second question\n")
    b["chat_id"], b["message"]["parent_id"] = cid, aid
    st, r, raw = chat("", at, raw_body=frame(b))
    envs = unframe(raw)
    text, _, cid2, done, _ = interpret(envs)
    aid2 = next(o["message"]["id"] for _, o in envs
                if (o.get("message") or {}).get("role") == "assistant")
    check(st == 200 and done and cid2 == cid and text == "You said: second question" and
          aid2 != aid, (st, text, cid2, aid2))
    s = state()
    check(s["live_chats"] == {"u1": [cid]} and s["continued_chats"] == {"u1": 1}, s)
    st, r, raw = chat("", at, raw_body=frame(b))
    refused(st, raw, 400, "not the chat's last answer", "invalid_argument")
    b = chat_body("second question and first question\n")
    b["chat_id"], b["message"]["parent_id"] = cid, aid2
    st, r, raw = chat("", at, raw_body=frame(b))
    refused(st, raw, 400, "resent an earlier turn", "invalid_argument")
    b["message"]["blocks"][0]["text"]["content"] = "third\n"
    st, r, raw = chat("", login("u2"), raw_body=frame(b))
    check(st == 404 and "no live chat" in state()["last_rejection"]["reason"], (st, raw))


@test
def errors_in_the_stream_when_asked():
    config(errors_in_stream=True)
    at = login()
    config(revoke_access=True)
    st, r, raw = chat("x\n", at)
    check(st == 200 and unframe(raw) == [(2, {"error": {"code": "unauthenticated",
                                                         "message": "access token revoked"}})], raw)


@test
def chats_belong_to_their_user():
    at1, at2 = login("u1"), login("u2")
    cid = interpret(unframe(chat("mine\n", at1)[2]))[2]
    st, r, raw = req("POST", DELETE, {"chat_id": cid}, headers(at2, "application/json", True))
    refused(st, raw, 404, "no live chat", "not_found")
    st, r, raw = req("POST", DELETE, {"chat_id": cid}, headers(at1, "application/json", True))
    check(st == 200, raw)
    st, r, raw = req("POST", DELETE, {"chat_id": cid}, headers(at1, "application/json", True))
    check(st == 404, raw)
    st, r, raw = req("POST", DELETE, {"chat_id": cid, "x": 1}, headers(at1, "application/json", True))
    refused(st, raw, 400, "body must be")


@test
def splitting_at_every_byte_delivers_the_same_bytes():
    at = login()
    head, whole, n0, how = raw_chat("same [[unicode]]\n", at)
    check(how == "complete" and n0 > 10, (how, n0))
    for mk, pred in (("[[split:bytes]]", lambda n, b: n == len(b)),
                     ("[[split:7]]", lambda n, b: n == -(-len(b) // 7)),
                     ("[[split:random]]", lambda n, b: n > n0)):
        head, body, n, how = raw_chat("same [[unicode]] %s\n" % mk, at)
        text = interpret(unframe(body))[0]
        check(how == "complete" and pred(n, body) and text == interpret(unframe(whole))[0],
              (mk, how, n, len(body), text))


@test
def in_stream_errors():
    at = login()
    want = {"message": ("internal", 2), "end": ("unavailable", 1), "overloaded": (None, 1),
            "rate": ("resource_exhausted", 1), "unauth": ("unauthenticated", 1)}
    for kind, (code, n_err) in want.items():
        envs = unframe(chat("oops [[error:%s]]\n" % kind, at)[2])
        errs = [(f, o["error"]) for f, o in envs if "error" in o]
        check(len(errs) == n_err and envs[-1][0] == 2 and not any("done" in o for _, o in envs),
              (kind, envs[-3:]))
        if code:
            check(errs[-1][1]["code"] == code, (kind, errs))
    envs = unframe(chat("oops [[error:rate]]\n", at)[2])
    check(envs[-1][1]["metadata"] == {"retry-after": ["17"]}, envs[-1])
    envs = unframe(chat("x [[error:overloaded]]\n", at)[2])
    check(envs[-2][1]["error"]["reason"] == "REASON_COMPLETION_OVERLOADED", envs[-2])
    envs = unframe(chat("cut [[error:cut]]\n", at)[2])
    check(envs[-1][0] == 0 and not any("done" in o for _, o in envs), envs[-1])
    envs = unframe(chat("x [[error:nodone]]\n", at)[2])
    check(envs[-1][0] == 2 and not any("done" in o for _, o in envs), envs[-2:])
    envs = unframe(chat("x [[error:noend]]\n", at)[2])
    check(envs[-1] == (0, {"done": {}}), envs[-1])
    st, r, raw = chat("x [[error:bogus]]\n", at)
    check(st == 400, raw)


@test
def faults_and_markers():
    at = login()
    for code, name in ((403, "permission_denied"), (429, "resource_exhausted"), (500, "internal"),
                       (502, "unavailable"), (503, "unavailable"), (401, "unauthenticated")):
        st, r, raw = chat("x [[fail:%d]]\n" % code, at)
        check(st == code and jobj(raw)["code"] == name, (code, st, raw))
        if code == 429:
            check(r.getheader("Retry-After") == "30", r.getheader("Retry-After"))
    st, r, raw = chat("x [[cf:503]]\n", at)
    check(st == 503 and b"cf-error-details" in raw and b"www.kimi.com" in raw, raw[:200])
    config(chat_status=503, chat_status_times=2)
    sts = [chat("x\n", at)[0] for _ in range(3)]
    check(sts == [503, 503, 200], sts)
    config(refresh_status=429, refresh_status_times=1, retry_after=5)
    st, r, raw = req("GET", REFRESH, hdrs=headers(MOCK.newest_refresh()))
    check(st == 429 and r.getheader("Retry-After") == "5", (st, raw))
    check(refresh(MOCK.newest_refresh())[0] == 200, "healed")
    config(subscription_status=502, delete_status=500)
    check(req("POST", SUB, {}, headers(at, "application/json", True))[0] == 502, "sub fault")


@test
def timing_close_reset_stall():
    at = login()
    t0 = time.time()
    n = len(unframe(chat("slow [[delay:300]] [[drip:20]]\n", at)[2]))
    check(time.time() - t0 > 0.3 + 0.018 * (n - 1), "delay and drip")
    head, body, n, how = raw_chat("x [[close:4]]\n", at)
    check(how == "eof" and len(unframe(body)) == 4, (how, len(body)))
    head, body, n, how = raw_chat("x [[reset:4]]\n", at)
    check(how in ("reset", "eof") and len(unframe(body)) <= 4, how)
    config(stall_max_s=0.3)
    t0 = time.time()
    head, body, n, how = raw_chat("x [[stall:3]]\n", at)
    check(how == "eof" and time.time() - t0 >= 0.3 and state()["stalls"] == 1, (how, state()))
    check(state()["server_aborts"] >= 3, state()["server_aborts"])


@test
def by_user_overrides_are_isolated():
    config(by_user={"u2": {"chat_status": 503, "unicode": True}})
    check(chat("a\n", login("u1"))[0] == 200, "u1 unaffected")
    check(chat("a\n", login("u2"))[0] == 503, "u2 faulted")
    config(by_user={"u2": None})
    check(chat("a\n", login("u2"))[0] == 200, "u2 back")


@test
def control_api():
    st, r, raw = req("POST", "/_mock/config", {"nope": 1}, {"Content-Type": "application/json"})
    check(st == 400, raw)
    st, r, raw = req("POST", "/_mock/config", {"by_user": {"u1": {"nope": 1}}})
    check(st == 400, raw)
    cfg = jobj(req("GET", "/_mock/config")[2])
    check(cfg["jwt_secret"] == "kimi-mock-secret-1" and cfg["users"] == ["u1", "u2", "u3"], cfg)
    config(users=["u4"])
    check("u4" in jobj(req("GET", "/_mock/config")[2])["users"], "u4 added")
    login()
    check(state()["refreshes"] == {"u1": 1}, state()["refreshes"])
    req("POST", "/_mock/reset", {})
    check(state()["refreshes"] == {}, "counters reset")
    st, r, raw = req("GET", "/nowhere")
    check(st == 404, st)


@test
def cli_runs_and_writes_port_file():
    with tempfile.TemporaryDirectory() as d:
        pf = os.path.join(d, "port")
        p = subprocess.Popen([sys.executable, os.path.join(HERE, "kimi_mock.py"), "--port", "0",
                              "--port-file", pf], stderr=subprocess.PIPE, text=True)
        try:
            for _ in range(100):
                if os.path.exists(pf):
                    break
                time.sleep(0.05)
            port = int(open(pf).read())
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/_mock/config")
            check(c.getresponse().status == 200, "cli answers")
            c.close()
        finally:
            p.send_signal(signal.SIGTERM)
            rc = p.wait(10)
            err = p.stderr.read()
        check(rc == 0 and "u1 refresh token eyJ" in err, (rc, err[:300]))


# =========================================================================== main

def main():
    global MOCK, PORT
    MOCK = km.KimiMock().start()
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
            sys.stdout.flush()
    finally:
        MOCK.stop()
    print("# counts: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
