#!/usr/bin/env python3
"""Self-test of tests/mock/minimax_mock.py: a small client of its own, written from
providers.md section 5 (not from the mock), signs every call; the mock must accept what is
right, refuse each thing that is wrong, grow answers as configured and misbehave on demand.

Prints one line per test and, last, `# counts: N passed, M failed`; exits non-zero on any
failure.  `python3 test_minimax_mock.py NAME...` runs only the named tests.
"""

import hashlib
import json
import os
import socket
import sys
import time
import traceback
import urllib.parse
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import minimax_mock as mm  # noqa: E402

MOCK = None
UA = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/142.0.0.0 Safari/537.36")


def md5(s):
    return hashlib.md5(s.encode()).hexdigest()


class Client:
    """What a correct client sends (section 5.2-5.4), with knobs to get it wrong."""

    def __init__(self, jwt=mm.DEFAULT_JWT, uid=mm.DEFAULT_UID):
        self.jwt, self.uid, self.device = jwt, uid, None

    def query(self, unix, register_uuid=None, order=None, encode=False, uid=None):
        dev = "null" if register_uuid else self.device
        pairs = [("device_platform", "web"), ("biz_id", "3"), ("app_id", "3001"),
                 ("version_code", "22201"), ("uuid", register_uuid or uid or self.uid)]
        if dev:
            pairs.append(("device_id", dev))
        pairs += [("os_name", "Mac"), ("browser_name", "chrome"), ("device_memory", "8"),
                  ("cpu_core_num", "11"), ("browser_language", "zh-CN"),
                  ("browser_platform", "MacIntel"), ("user_id", uid or self.uid),
                  ("screen_width", "1920"), ("screen_height", "1080"), ("unix", unix),
                  ("lang", "zh"), ("token", self.jwt), ("timezone_offset", "28800"),
                  ("sys_language", "zh"), ("client", "web")]
        if order:
            pairs = order(pairs)
        # an over-eager encoder: even the unreserved "." of the JWT
        enc = ((lambda v: urllib.parse.quote(v, safe="").replace(".", "%2E")) if encode
               else (lambda v: v))
        return "&".join(k + "=" + enc(v) for k, v in pairs)

    def call(self, path, body, salt="ooui", skew=0, xsig_extra="", headers=None, raw=False,
             **qkw):
        ms = int(time.time() * 1000) + skew * 1000
        unix = str(ms)
        q = self.query(unix, **qkw)
        body = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        full = path + "?" + q
        yy = md5(urllib.parse.quote(full, safe="-_.!~*'()") + "_" + body + md5(unix) + salt)
        h = {"token": self.jwt, "x-timestamp": str(ms // 1000),
             "x-signature": md5(str(ms // 1000) + self.jwt + body + xsig_extra), "yy": yy,
             "Origin": "https://agent.minimaxi.com", "Referer": "https://agent.minimaxi.com/",
             "User-Agent": UA, "Accept": "application/json, text/plain, */*",
             "Content-Type": "application/json"}
        h.update(headers or {})
        return request("POST", full, body, h, raw)

    def register(self):
        u = str(uuid.uuid4())
        st, doc = self.call(mm.P_REGISTER, {"uuid": u}, register_uuid=u)
        self.device = ((doc or {}).get("data") or {}).get("deviceIDStr")
        return st, doc

    def send(self, text, **kw):
        return self.call(mm.P_SEND, {"msg_type": 1, "text": text, "chat_type": 1, "attachments": [],
                                     "selected_mcp_tools": [], "backend_config": {},
                                     "sub_agent_ids": []}, **kw)

    def detail(self, cid, **kw):
        return self.call(mm.P_DETAIL, {"chat_id": cid}, **kw)

    def delete(self, cid):
        return self.call(mm.P_DELETE, {"chat_id": cid})


def request(method, path, body=None, headers=None, raw=False):
    """One request on its own connection; (status, JSON or None) or, raw, (status, head, body
    bytes, pieces): the chunks of a chunked body (what the mock split it into, whatever the
    kernel coalesced on the way), else the reads it arrived in."""
    s = socket.create_connection(("127.0.0.1", MOCK.port), timeout=10)
    data = (body or "").encode()
    head = "%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nConnection: close\r\n" % (
        method, path, len(data))
    head += "".join("%s: %s\r\n" % kv for kv in (headers or {}).items())
    s.sendall(head.encode() + b"\r\n" + data)
    pieces = []
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            pieces.append(d)
    except OSError:
        pass
    s.close()
    blob = b"".join(pieces)
    if not blob:
        return None, None
    h, _, b = blob.partition(b"\r\n\r\n")
    status = int(h.split(b" ")[1])
    npieces = len(pieces)
    if b"chunked" in h.lower():
        out, rest, npieces = b"", b, 0
        while rest:
            size, _, rest = rest.partition(b"\r\n")
            n = int(size, 16)
            if n == 0:
                break
            out, rest = out + rest[:n], rest[n + 2:]
            npieces += 1
        b = out
    if raw:
        return status, h, b, npieces
    try:
        return status, json.loads(b.decode())
    except ValueError:
        return status, None


def state():
    return request("GET", "/_mock/state")[1]


def configure(obj):
    st, doc = request("POST", "/_mock/config", json.dumps(obj))
    assert st == 200, doc
    return doc


def code(doc):
    doc = doc or {}
    return (doc.get("base_resp") or {}).get("status_code",
                                             (doc.get("statusInfo") or {}).get("code"))


def rejected(doc, word):
    assert code(doc) == mm.CODE_BAD_REQUEST, doc
    assert word in json.dumps(doc), (word, doc)


def ready(c=None):
    c = c or Client()
    st, doc = c.register()
    assert st == 200 and code(doc) == 0 and c.device, doc
    return c


def poll_until_done(c, cid, limit=10.0):
    end = time.time() + limit
    while time.time() < end:
        st, doc = c.detail(cid)
        assert st == 200 and code(doc) == 0, doc
        if doc["chat"]["chat_status"] == 2:
            return doc
        time.sleep(0.02)
    raise AssertionError("the chat never finished")


def ai_text(doc):
    return "\n\n".join(m["msg_content"] for m in doc["messages"] if m["msg_type"] == 2)


# =========================================================================== tests

def test_vector():
    """The mock's own signing reproduces the document's vector (section 5.4)."""
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyIjp7ImlkIjoiMTIzNDU2Nzg5In19.sig"
    c = Client(jwt, "123456789")
    c.device = "987654321"
    q = c.query("1735689600123")
    full = "/matrix/api/v1/chat/get_chat_detail?" + q
    body = '{"chat_id":"1001"}'
    assert mm.md5("1735689600123") == "395ba8ff5f3e69bf5aacab0bfd1cd449"
    assert mm.md5(mm.encode_uri_component(full) + "_" + body + mm.md5("1735689600123") +
                  "ooui") == "bc8f1c255f5765bb2a9440bf58d92359"
    assert mm.md5("1735689600" + jwt + body) == "1ae3540b6aaec8247a2cd36c51adc33c"


def test_happy_path():
    c = ready()
    st, doc = c.send("system:be nice\nuser:hello there\nassistant:hi\nuser:second question\n"
                     "assistant:")
    assert st == 200 and code(doc) == 0 and isinstance(doc["chat_id"], int), doc
    cid = doc["chat_id"]
    final = poll_until_done(c, cid)
    ai = [m for m in final["messages"] if m["msg_type"] == 2][0]
    assert ai["msg_content"] == "You said: second question", ai
    assert ai["extra_info"]["thinking_content"] == "Thinking about: second question.", ai
    s = state()
    assert s["chats"][str(cid)]["npolls"] >= 1 and not s["rejections"], s["rejections"]
    assert s["last_send"]["echo"] == "second question"
    st, doc = c.delete(cid)
    assert code(doc) == 0, doc
    assert state()["chats"][str(cid)]["deleted"]
    st, doc = c.detail(cid)
    rejected(doc, "deleted")


def test_growth_per_poll():
    c = ready()
    cid = c.send("user:grow [[perpoll]]")[1]["chat_id"]
    seen = []
    for _ in range(200):
        doc = c.detail(cid)[1]
        seen.append((len(ai_text(doc)), doc["chat"]["chat_status"]))
        if doc["chat"]["chat_status"] == 2:
            break
    lens = [n for n, _ in seen]
    assert lens == sorted(lens) and lens[-1] == len("You said: grow"), seen
    assert seen[-1][1] == 2 and all(s == 1 for _, s in seen[:-1]), seen


def test_growth_by_time():
    c = ready()
    t0 = time.time()
    cid = c.send("user:slow [[delay:300]] [[grow:0.6]] [[nothink]]")[1]["chat_id"]
    assert ai_text(c.detail(cid)[1]) == ""
    time.sleep(0.45)
    mid = ai_text(c.detail(cid)[1])
    assert 0 < len(mid) < len("You said: slow"), mid
    final = poll_until_done(c, cid)
    assert ai_text(final) == "You said: slow" and time.time() - t0 >= 0.7
    rec = state()["chats"][str(cid)]
    assert abs(rec["first_text_t"] - (t0 + 0.3)) < 0.15, rec["first_text_t"] - t0


def test_signatures_checked():
    c = ready()
    rejected(c.send("user:x", salt="other")[1], "bad yy")
    rejected(c.send("user:x", xsig_extra="!")[1], "bad x-signature")
    rejected(c.send("user:x", skew=-3600)[1], "x-timestamp")
    configure({"yy_salt": "different"})
    rejected(c.send("user:x")[1], "bad yy")
    assert c.send("user:x", salt="different")[1]["base_resp"]["status_code"] == 0
    assert state()["last_rejection"]["route"] == "send_msg"


def test_query_checked():
    c = ready()
    rejected(c.send("user:x", order=lambda p: p[1:] + p[:1])[1], "query keys")
    rejected(c.send("user:x", encode=True, order=lambda p: p)[1], "raw")
    rejected(c.send("user:x", uid="100000002")[1], "realUserID")
    d = c.device
    c.device = None
    rejected(c.send("user:x")[1], "not registered")
    c.device = "123"
    rejected(c.send("user:x")[1], "not registered")
    c.device = d
    other = ready(Client(mm.OTHER_JWT, mm.OTHER_UID))
    other.device = d
    rejected(other.send("user:x")[1], "not registered for this user")


def test_headers_checked():
    c = ready()
    rejected(c.send("user:x", headers={"Origin": "https://evil.example"})[1], "Origin")
    rejected(c.send("user:x", headers={"User-Agent": "curl/8"})[1], "User-Agent")
    rejected(c.send("user:x", headers={"token": mm.OTHER_JWT})[1], "token")


def test_body_checked():
    c = ready()
    rejected(c.call(mm.P_SEND, {"msg_type": 1, "text": "x"})[1], "keys")
    rejected(c.call(mm.P_SEND, {"msg_type": 2, "text": "x", "chat_type": 1, "attachments": [],
                                "selected_mcp_tools": [], "backend_config": {},
                                "sub_agent_ids": []})[1], "values")
    cid = c.send("user:x")[1]["chat_id"]
    poll_until_done(c, cid)
    rejected(c.call(mm.P_DELETE, {"chat_id": str(cid)})[1], "integer")
    other = ready(Client(mm.OTHER_JWT, mm.OTHER_UID))
    rejected(other.detail(cid)[1], "no such chat")


def test_noid_token_needs_uid():
    c = ready(Client(mm.NOID_JWT, mm.NOID_UID))
    assert c.send("user:x")[1]["base_resp"]["status_code"] == 0
    bad = Client(mm.NOID_JWT, "999")
    rejected(bad.register()[1], "realUserID")


def test_expired_1001():
    c = ready()
    configure({"expired_tokens": [mm.DEFAULT_JWT]})
    assert code(c.send("user:x")[1]) == 1001
    assert code(Client().register()[1]) == 1001
    configure({"expired_tokens": []})
    assert code(c.send("user:x")[1]) == 0


def test_faults_heal():
    c = ready()
    configure({"send_status": 429, "send_status_times": 1})
    st, doc = c.send("user:x")
    assert st == 429, (st, doc)
    assert c.send("user:x")[0] == 200
    configure({"by_token": {mm.DEFAULT_JWT: {"register_status": 503}}})
    assert Client().register()[0] == 503
    assert ready(Client(mm.OTHER_JWT, mm.OTHER_UID)).device
    configure({"by_token": {mm.DEFAULT_JWT: None}, "detail_status": 200,
               "detail_status_times": 2})
    cid = c.send("user:x")[1]["chat_id"]
    assert code(c.detail(cid)[1]) == 2013 and code(c.detail(cid)[1]) == 2013
    assert code(c.detail(cid)[1]) == 0
    st, doc = c.send("user:x [[fail:1001]]")
    assert code(doc) == 1001


def test_pollfail_markers():
    c = ready()
    cid = c.send("user:x [[pollfail:close:2:1]]")[1]["chat_id"]
    assert c.detail(cid)[0] == 200
    assert c.detail(cid)[0] is None                # closed without an answer
    assert c.detail(cid)[0] == 200
    cid = c.send("user:x [[pollfail:502:1:0]]")[1]["chat_id"]
    assert [c.detail(cid)[0] for _ in range(3)] == [502, 502, 502]
    cid = c.send("user:x [[pollfail:garbage]]")[1]["chat_id"]
    assert c.detail(cid) == (200, None)
    configure({"stall_max_s": 0.5})
    cid = c.send("user:x [[pollfail:hang]]")[1]["chat_id"]
    t0 = time.time()
    assert c.detail(cid)[0] is None and time.time() - t0 >= 0.4
    assert state()["stalls"] == 1


def test_split_bytes():
    c = ready()
    cid = c.send("user:split [[split:bytes]] [[unicode]]")[1]["chat_id"]
    time.sleep(0.3)
    st, head, body, npieces = c.detail(cid, raw=True)
    doc = json.loads(body.decode())
    assert st == 200 and b"chunked" in head.lower() and npieces > 50, npieces
    assert ai_text(doc).endswith(mm.UNICODE_TAIL), ai_text(doc)


def test_nofinish_and_running_delete():
    c = ready()
    cid = c.send("user:x [[nofinish]]")[1]["chat_id"]
    time.sleep(0.3)
    doc = c.detail(cid)[1]
    assert doc["chat"]["chat_status"] == 1 and ai_text(doc) == "You said: x"
    assert c.delete(cid)[1]["base_resp"]["status_msg"] == "chat is running"
    cid = c.send("user:x [[running:1]]")[1]["chat_id"]
    poll_until_done(c, cid)
    assert "running" in c.delete(cid)[1]["base_resp"]["status_msg"]
    assert code(c.delete(cid)[1]) == 0


def test_newmsg_and_rewrite():
    c = ready()
    cid = c.send("user:abcdefghijklmnop [[newmsg:append]] [[nothink]]")[1]["chat_id"]
    doc = poll_until_done(c, cid)
    ais = [m for m in doc["messages"] if m["msg_type"] == 2]
    assert len(ais) == 2 and ais[0]["msg_id"] != ais[1]["msg_id"], ais
    assert ais[0]["msg_content"] + ais[1]["msg_content"] == "You said: abcdefghijklmnop"
    cid = c.send("user:abcdefghijklmnop [[newmsg:replace]]")[1]["chat_id"]
    doc = poll_until_done(c, cid)
    ais = [m for m in doc["messages"] if m["msg_type"] == 2]
    assert len(ais) == 1 and ai_text(doc) == "You said: abcdefghijklmnop", ais
    cid = c.send("user:abcdefghijklmnop [[rewrite]]")[1]["chat_id"]
    assert ai_text(poll_until_done(c, cid)) == "YOU SAID: abcdefghijklmnop"


def test_string_ids_and_data_envelope():
    c = ready()
    configure({"chat_id_type": "string", "envelope": "data"})
    doc = c.send("user:x")[1]
    cid = doc["data"]["chat_id"]
    assert isinstance(cid, str), doc
    assert poll_until_done(c, cid)["chat"]["chat_status"] == 2
    assert code(c.call(mm.P_DELETE, {"chat_id": int(cid)})[1]) == 0


def test_device_ttl():
    c = ready()
    configure({"device_ttl_s": 0})
    time.sleep(0.01)
    rejected(c.send("user:x")[1], "older than device_ttl_s")


def test_continued_chat():
    """send_msg with a chat_id: the chat goes on, its earlier messages stay before the new."""
    c = ready()
    send = lambda text, cid, **kw: c.call(mm.P_SEND, {  # noqa: E731
        "msg_type": 1, "text": text, "chat_type": 1, "attachments": [], "selected_mcp_tools": [],
        "backend_config": {}, "sub_agent_ids": [], "chat_id": cid}, **kw)
    st, doc = c.send("user:first question [[pace:100]]")
    cid = doc["chat_id"]
    st, doc = send("user:too early", cid)
    rejected(doc, "chat is running")
    poll_until_done(c, cid)
    st, doc = send("user:second question", cid)
    assert st == 200 and code(doc) == 0 and doc["chat_id"] == cid, doc
    final = poll_until_done(c, cid)
    ai = [m for m in final["messages"] if m["msg_type"] == 2]
    assert [m["msg_content"] for m in ai] == ["You said: first question",
                                              "You said: second question"], ai
    assert [m["msg_type"] for m in final["messages"]] == [1, 2, 1, 2], final["messages"]
    assert state()["continued_sends"] == {mm.DEFAULT_UID: 1}
    st, doc = send("user:again the first question", cid)
    rejected(doc, "resent an earlier turn")
    other = ready(Client(mm.OTHER_JWT, mm.OTHER_UID))
    st, doc = other.call(mm.P_SEND, {"msg_type": 1, "text": "user:third", "chat_type": 1,
                                     "attachments": [], "selected_mcp_tools": [],
                                     "backend_config": {}, "sub_agent_ids": [], "chat_id": cid})
    rejected(doc, "no such chat of this user")


TESTS = [v for k, v in list(globals().items()) if k.startswith("test_")]


def main():
    global MOCK
    MOCK = mm.MiniMaxMock().start()
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
                print("#   last_rejection: %s" % MOCK.snapshot().get("last_rejection"))
            sys.stdout.flush()
    finally:
        MOCK.stop()
    print("# counts: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
