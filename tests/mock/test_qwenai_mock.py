#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""Self-test of tests/mock/qwenai_mock.py.

Talks to the mock only over HTTP (http.client and raw sockets); the client side (the §7.2
headers, the §7.3 bodies, an SSE reader and the §7.4 phase rules) is written here from
shared/protocols/providers.md section 7.  The mock runs in-process except for one test
that runs its CLI.

    python3 tests/mock/test_qwenai_mock.py [test_name ...]

Prints one line per test and, last, `# counts: N passed, M failed`.
"""

import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import qwenai_mock as qm  # noqa: E402

T1, T2 = qm.DEFAULT_TOKEN, qm.OTHER_TOKEN
MOCK = None
TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def check(cond, msg="check failed"):
    if not cond:
        raise AssertionError(msg)


def headers(token=T1, referer=None, version="0.2.7", cookies=True, post=True):
    h = {"Authorization": "Bearer " + token, "Accept": "application/json", "source": "web",
         "Version": version, "bx-v": "2.5.36", "Origin": qm.ORIGIN,
         "Referer": referer or qm.ORIGIN + "/", "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/145",
         "Timezone": time.strftime("%a %b %d %Y %H:%M:%S GMT%z"), "X-Request-Id": str(uuid.uuid4()),
         "Accept-Encoding": "identity"}
    if post:
        h["Content-Type"] = "application/json"
    if cookies:
        h["Cookie"] = qm.make_cookies(token)
    return h


def req(method, path, body=None, hdr=None, timeout=20):
    cl = http.client.HTTPConnection("127.0.0.1", MOCK.port, timeout=timeout)
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    cl.request(method, path, body=data, headers=hdr if hdr is not None else headers(post=body is not None))
    r = cl.getresponse()
    raw = r.read()
    cl.close()
    return r, raw


def jreq(method, path, body=None, hdr=None):
    r, raw = req(method, path, body, hdr)
    return r.status, json.loads(raw or b"null"), r


def state():
    return jreq("GET", "/_mock/state", hdr={})[1]


def new_chat(token=T1, model="qwen3-max-2026-01-23"):
    st, obj, _ = jreq("POST", "/api/v2/chats/new", {
        "title": "OpenAI_API_Chat", "models": [model], "chat_mode": "normal", "chat_type": "t2t",
        "timestamp": int(time.time() * 1000), "project_id": ""}, headers(token))
    check(st == 200 and obj["success"], "chats/new: %s %s" % (st, obj))
    return obj["data"]["id"]


def completion_body(cid, prompt, think=False, model="qwen3-max-2026-01-23"):
    now = int(time.time())
    return {"stream": True, "version": "2.1", "incremental_output": True, "chat_id": cid,
            "chat_mode": "normal", "model": model, "parent_id": None, "timestamp": now + 1,
            "messages": [{"fid": str(uuid.uuid4()), "parentId": None, "childrenIds": [str(uuid.uuid4())],
                          "role": "user", "content": prompt, "user_action": "chat", "files": [],
                          "timestamp": now, "models": [model], "chat_type": "t2t",
                          "feature_config": {"thinking_enabled": think, "output_schema": "phase",
                                             "research_mode": "normal", "auto_thinking": False,
                                             "thinking_format": "summary", "auto_search": False},
                          "extra": {"meta": {"subChatType": "t2t"}}, "sub_chat_type": "t2t",
                          "parent_id": None}]}


def complete(cid, body, token=T1, hdr=None):
    h = hdr or headers(token, referer=qm.ORIGIN + "/c/" + cid)
    h["x-accel-buffering"] = "no"
    return req("POST", "/api/v2/chat/completions?chat_id=" + cid, body, h)


def events(raw):
    out = []
    for block in raw.decode("utf-8").replace("\r\n", "\n").split("\n\n"):
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
        if data:
            out.append((name, "\n".join(data)))
    return out


def phases(raw):
    """The §7.4 rules: (answer, reasoning, finish_reason, error)."""
    answer, reasoning, summary, finish, error = "", "", "", None, None
    for name, data in events(raw):
        if data == "[DONE]":
            break
        o = json.loads(data)
        if name == "error" or "error" in o or o.get("success") is False or "code" in o:
            error = o
            break
        for ch in o.get("choices", []):
            d = ch.get("delta", {})
            ph = d.get("phase")
            if ph == "think":
                reasoning += d.get("content") or ""
            elif ph == "thinking_summary":
                s = "\n".join(d["extra"]["summary_thought"]["content"])
                reasoning += s[len(summary):] if s.startswith(summary) else "\n\n" + s
                summary = s
            elif ph in (None, "answer"):
                answer += d.get("content") or ""
                if d.get("status") == "finished":
                    finish = d.get("finish_reason") or "stop"
    return answer, reasoning, finish, error


def rejected(reason_part, route=None):
    r = state().get("last_rejection") or {}
    check(reason_part in (r.get("reason") or "") and (route is None or r.get("route") == route),
          "last rejection %r lacks %r" % (r, reason_part))


# =========================================================================== tests

@test
def jwt_and_user():
    st, obj, _ = jreq("GET", "/api/v2/user", hdr=headers(post=False))
    check(st == 200 and obj["data"]["email"] == "mock-user-1@example.com", obj)
    for tok, why in ((qm.EXPIRED_TOKEN, "expired"), (T1[:-4] + "AAAA", "signature"),
                     (qm.make_token("u1", secret="other"), "signature"), ("not-a-jwt", "not a JWT"),
                     (qm.make_token("nobody"), "unknown user")):
        st, obj, _ = jreq("GET", "/api/v2/user", hdr=headers(tok, post=False))
        check(st == 401 and obj["data"]["code"] == "Unauthorized", (tok, st, obj))
        rejected(why, "user")
    jreq("POST", "/_mock/config", {"jwt_secret": "rotated"}, hdr={})
    st, _, _ = jreq("GET", "/api/v2/user", hdr=headers(post=False))
    check(st == 401, "the old secret's token must fail after jwt_secret changes")
    good = qm.make_token("u1", secret="rotated")
    st, _, _ = jreq("GET", "/api/v2/user", hdr=headers(good, post=False))
    check(st == 200, "a token signed with the new secret passes")


@test
def headers_are_checked():
    for mutate, why in ((lambda h: h.pop("Origin"), "Origin"), (lambda h: h.update(source="app"), "source"),
                        (lambda h: h.update(Version="9"), "Version"), (lambda h: h.pop("bx-v"), "bx-v"),
                        (lambda h: h.update(Timezone="yesterday"), "Timezone"),
                        (lambda h: h.update(Timezone="Mon Jan 01 2001 00:00:00 GMT+0000"), "not now"),
                        (lambda h: h.update({"X-Request-Id": "1"}), "X-Request-Id"),
                        (lambda h: h.update({"User-Agent": "curl/8"}), "User-Agent"),
                        (lambda h: h.update(Referer="https://evil.example/"), "Referer")):
        h = headers(post=False)
        mutate(h)
        st, obj, _ = jreq("GET", "/api/v2/user", hdr=h)
        check(st == 400 and obj["data"]["code"] == "Bad_Request", (why, st, obj))
        rejected(why)
    st, _, _ = jreq("GET", "/api/models", hdr=headers(post=False))
    check(st == 400, "the model list wants Version 0.2.35")
    st, obj, _ = jreq("GET", "/api/models", hdr=headers(version="0.2.35", post=False))
    check(st == 200 and "qwq-32b" in [m["id"] for m in obj["data"]], obj)
    jreq("POST", "/_mock/config", {"require_bx": True, "expected_bx_ua": "231!x",
                                   "expected_bx_umidtoken": "T2"}, hdr={})
    st, _, _ = jreq("GET", "/api/v2/user", hdr=headers(post=False))
    check(st == 400, "require_bx: no bx-ua is refused")
    h = headers(post=False)
    h.update({"bx-ua": "231!x", "bx-umidtoken": "T2"})
    st, _, _ = jreq("GET", "/api/v2/user", hdr=h)
    check(st == 200, "require_bx: the expected values pass")


@test
def full_flow_and_stream_shape():
    cid = new_chat()
    r, raw = complete(cid, completion_body(cid, "Be brief.\n\nUser: hi\n\nAssistant: yo\n\nUser: again",
                                           think=True))
    check(r.status == 200 and r.getheader("Content-Type").startswith("text/event-stream"), r.status)
    evs = events(raw)
    check(json.loads(evs[0][1])["response.created"]["chat_id"] == cid, evs[0])
    check(evs[-1][1] == "[DONE]", evs[-1])
    answer, reasoning, finish, error = phases(raw)
    check(answer == "You said: again" and finish == "stop" and error is None, (answer, finish))
    check(reasoning == "Thinking about: again." + "\n".join(qm.SUMMARY_LINES), repr(reasoning))
    last = json.loads(evs[-2][1])
    check(last["usage"]["total_tokens"] == last["usage"]["input_tokens"] + last["usage"]["output_tokens"],
          last)
    lc = state()["last_completion"]
    check(lc["user_text"] == "again" and lc["thinking"] is True and lc["completed"], lc)
    st, obj, _ = jreq("DELETE", "/api/v2/chats/" + cid, hdr=headers(post=False))
    check(st == 200 and obj["success"], obj)
    check(state()["chats_deleted"]["u1"] == 1 and not state()["live_chats"], state()["live_chats"])


@test
def bodies_are_checked():
    cid = new_chat()
    for mutate, why in ((lambda b: b.update(stream=False), "stream"),
                        (lambda b: b.update(version="2.0"), "version"),
                        (lambda b: b.update(model="qwen3.5-plus"), "not the chat's"),
                        (lambda b: b.update(timestamp=1), "timestamp"),
                        (lambda b: b.pop("parent_id"), "keys"),
                        (lambda b: b["messages"][0].update(files=[{"id": 1}]), "files"),
                        (lambda b: b["messages"][0].update(content=""), "content"),
                        (lambda b: b["messages"][0]["feature_config"].update(auto_search="no"), "auto_search"),
                        (lambda b: b["messages"][0]["feature_config"].update(output_schema="x"), "output_schema"),
                        (lambda b: b["messages"][0].update(fid="1"), "uuid")):
        b = completion_body(cid, "x")
        mutate(b)
        r, raw = complete(cid, b)
        check(r.status == 400, (why, r.status, raw[:200]))
        rejected(why, "completion")
    st, obj, _ = jreq("POST", "/api/v2/chats/new", {"title": "t", "models": ["gpt-4"], "chat_mode": "normal",
                                                    "chat_type": "t2t", "timestamp": int(time.time() * 1000),
                                                    "project_id": ""})
    check(st == 200 and obj["data"]["code"] == "Not_Found", obj)
    st, obj, _ = jreq("POST", "/api/v2/chats/new", {"models": ["qwen3.5-plus"]})
    check(st == 400, obj)


@test
def chats_belong_to_their_user():
    cid = new_chat(T1)
    r, raw = complete(cid, completion_body(cid, "x"), token=T2)
    check(r.status == 200 and json.loads(raw)["data"]["code"] == "Not_Found", raw[:200])
    rejected("another user")
    st, obj, _ = jreq("DELETE", "/api/v2/chats/" + cid, hdr=headers(T2, post=False))
    check(obj["success"] is False, obj)
    r, raw = complete(cid, completion_body(cid, "x"), hdr=headers(referer=qm.ORIGIN + "/c/other"))
    check(r.status == 400, "the completion's Referer must be the chat's page")
    jreq("DELETE", "/api/v2/chats/", hdr=headers(post=False))
    r, raw = complete(cid, completion_body(cid, "x"))
    check(json.loads(raw)["data"]["code"] == "Not_Found", "a deleted chat takes no completion")


@test
def cookies_are_checked():
    cid = new_chat()
    for cookies, why in ((None, "no cookies"), (qm.make_cookies(T1, drop=("x-ap",)), "x-ap"),
                         (qm.make_cookies(T2), "not the bearer")):
        h = headers(referer=qm.ORIGIN + "/c/" + cid, cookies=False)
        if cookies:
            h["Cookie"] = cookies
        r, raw = complete(cid, completion_body(cid, "x"), hdr=h)
        obj = json.loads(raw)
        check(r.status == 200 and obj["code"] == "Bad_Request", (why, raw[:200]))
        rejected(why)


@test
def splitting_at_every_byte_delivers_the_same_bytes():
    cid = new_chat()
    _, whole = complete(cid, completion_body(cid, "x [[unicode]]", think=True))
    cid = new_chat()
    cl = socket.create_connection(("127.0.0.1", MOCK.port))
    body = json.dumps(completion_body(cid, "x [[unicode]] [[split:bytes]]", think=True)).encode()
    h = headers(referer=qm.ORIGIN + "/c/" + cid)
    h["x-accel-buffering"] = "no"
    head = "POST /api/v2/chat/completions?chat_id=%s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n" % (
        cid, len(body)) + "".join("%s: %s\r\n" % kv for kv in h.items()) + "Connection: close\r\n\r\n"
    cl.sendall(head.encode() + body)
    raw, reads = b"", 0
    while True:
        d = cl.recv(65536)
        if not d:
            break
        raw += d
        reads += 1
    cl.close()
    payload = raw.split(b"\r\n\r\n", 1)[1]
    chunks, out, i = 0, b"", 0
    while True:
        j = payload.index(b"\r\n", i)
        n = int(payload[i:j], 16)
        if n == 0:
            break
        out += payload[j + 2:j + 2 + n]
        chunks += 1
        i = j + 4 + n
    check(chunks == len(out) and phases(out)[:3] == phases(whole)[:3], (chunks, len(out)))
    check(qm.UNICODE_TAIL in phases(out)[0], "unicode survives")


def continued_body(cid, prompt, parent):
    body = completion_body(cid, prompt)
    body["parent_id"] = body["messages"][0]["parentId"] = body["messages"][0]["parent_id"] = parent
    return body


def response_id(raw):
    for _, data in events(raw):
        o = json.loads(data)
        if "response.created" in o:
            return o["response.created"]["response_id"]
    return None


@test
def continued_chat():
    cid = new_chat()
    r, raw = complete(cid, completion_body(cid, "the first question here"))
    rid = response_id(raw)
    check(r.status == 200 and rid, raw[:200])
    r, raw = complete(cid, completion_body(cid, "a second question"))
    check(r.status == 400 and b"without parent_id" in raw, raw[:200])
    r, raw = complete(cid, continued_body(cid, "a second question", str(uuid.uuid4())))
    check(r.status == 400 and b"not a response of this chat" in raw, raw[:200])
    r, raw = complete(cid, continued_body(cid, "User: the first question here\n\nUser: again", rid))
    check(r.status == 400 and b"resent an earlier turn" in raw, raw[:200])
    body = continued_body(cid, "a second question", rid)
    body["messages"][0]["parentId"] = None
    r, raw = complete(cid, body)
    check(r.status == 400 and b"parentId" in raw, raw[:200])
    r, raw = complete(cid, continued_body(cid, "a second question", rid))
    check(r.status == 200 and phases(raw)[0] == "You said: a second question" and
          response_id(raw) not in (None, rid), raw[:300])
    snap = jreq("GET", "/_mock/state", None, {})[1]
    check(sum(snap.get("continued_completions", {}).values()) == 1, snap.get("continued_completions"))


@test
def faults_and_markers():
    cid = new_chat()
    for marker, status, code in (("[[fail:401]]", 401, "Unauthorized"), ("[[fail:429]]", 429, "RateLimited"),
                                 ("[[fail:403]]", 403, "Forbidden"), ("[[fail:400]]", 400, "Bad_Request")):
        r, raw = complete(cid, completion_body(cid, "x " + marker))
        check(r.status == status and json.loads(raw)["data"]["code"] == code, (marker, r.status, raw[:100]))
        if status == 429:
            check(r.getheader("Retry-After") == "30", "429 has Retry-After")
    r, raw = complete(cid, completion_body(cid, "x [[fail:502]]"))
    check(r.status == 502 and raw.startswith(b"<html>"), raw[:80])
    r, raw = complete(cid, completion_body(cid, "x [[cf:503]]"))
    check(r.status == 503 and b"cf-error-details" in raw, raw[:80])
    r, raw = complete(cid, completion_body(cid, "x [[fail:200]]"))
    check(r.status == 200 and json.loads(raw)["success"] is False, raw[:80])
    for kind, partial in (("inline", True), ("event", True), ("limit", False), ("auth", False)):
        cid = new_chat()      # an answered chat takes only continuations (parent_id)
        r, raw = complete(cid, completion_body(cid, "x y z w v [[long:10]] [[error:%s]]" % kind))
        answer, _, finish, error = phases(raw)
        check(error is not None and finish is None and bool(answer) == partial, (kind, answer, error))
    cid = new_chat()
    r, raw = complete(cid, completion_body(cid, "x [[finish:length]] [[nodone]] [[crlf]] [[ascii]]"))
    check(phases(raw)[2] == "length" and b"[DONE]" not in raw and b"\r\n" in raw, raw[-80:])
    cid = new_chat()
    r, raw = complete(cid, completion_body(cid, "x [[rewrite]]", think=True))
    check(phases(raw)[1].endswith("\n\nRewritten summary."), phases(raw)[1])


@test
def fault_knobs_heal_and_by_token():
    jreq("POST", "/_mock/config", {"chat_new_status": 503, "chat_new_status_times": 2}, hdr={})
    for want in (503, 503, 200):
        r, _ = req("POST", "/api/v2/chats/new", {"title": "t", "models": ["qwen3.5-plus"], "chat_mode": "normal",
                                                 "chat_type": "t2t", "timestamp": int(time.time() * 1000),
                                                 "project_id": ""})
        check(r.status == want, (r.status, want))
    jreq("POST", "/_mock/config", {"by_token": {T2: {"user_status": 429}}}, hdr={})
    check(jreq("GET", "/api/v2/user", hdr=headers(T2, post=False))[0] == 429, "by_token applies to T2")
    check(jreq("GET", "/api/v2/user", hdr=headers(T1, post=False))[0] == 200, "and not to T1")
    st, obj, _ = jreq("POST", "/_mock/config", {"nope": 1}, hdr={})
    check(st == 400, "unknown knobs are refused")


@test
def close_reset_and_client_gone():
    for marker in ("[[close:3]]", "[[reset:3]]"):
        cid = new_chat()
        try:
            r, raw = complete(cid, completion_body(cid, "x [[long:20]] " + marker))
            got = raw
        except (http.client.IncompleteRead, ConnectionError) as e:
            got = getattr(e, "partial", b"")
        check(b"[DONE]" not in got, marker)
    check(state()["server_aborts"] == 2, state()["server_aborts"])
    cid = new_chat()
    cl = http.client.HTTPConnection("127.0.0.1", MOCK.port, timeout=10)
    h = headers(referer=qm.ORIGIN + "/c/" + cid)
    h["x-accel-buffering"] = "no"
    cl.request("POST", "/api/v2/chat/completions?chat_id=" + cid,
               json.dumps(completion_body(cid, "x [[long:100]] [[drip:20]]")), h)
    cl.getresponse().read(10)
    cl.close()
    check(MOCK.wait_for(lambda s: s["client_disconnects"] >= 1, 5) is not None, "disconnect recorded")


@test
def cli_runs_and_writes_the_port():
    with tempfile.TemporaryDirectory() as d:
        pf = os.path.join(d, "port")
        p = subprocess.Popen([sys.executable, os.path.join(HERE, "qwenai_mock.py"), "--port", "0",
                              "--port-file", pf], stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                if os.path.exists(pf):
                    break
                time.sleep(0.05)
            port = int(open(pf).read())
            cl = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            cl.request("GET", "/api/v2/user", headers=headers(post=False))
            check(cl.getresponse().status == 200, "the CLI mock answers")
        finally:
            p.terminate()
            p.wait(5)


def main():
    global MOCK
    MOCK = qm.QwenAIMock().start()
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
