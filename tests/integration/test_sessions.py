#!/usr/bin/env python3
"""Multi-turn sessions end to end (SESSIONS=true): nginx + spawn-fcgi +
chat2api and each provider's mock, two pooled accounts per provider.

Per provider (a Side below):
  * a five-turn conversation, stream and non-stream in turn: turn 1 opens
    an upstream chat, turns 2-5 continue it and send only the new message
    (the mock refuses a continued chat that carries an earlier turn again
    and counts the continuations); the chat stays while the session lives;
  * a conversation that forks from an earlier turn starts a chat of its
    own with the whole history, and the original goes on in its chat;
  * a client that trims or re-indents what it echoes still continues; one
    that edits an answer starts afresh, unless it names the session
    (X-Session-Id);
  * the openai npm client's tool loop: the tool results continue the chat;
  * failover: the session's account fails, the next turn goes to the
    other account with the whole history, without the client noticing, and
    the conversation goes on there;
  * `chat2api sessions prune` (on a moved clock) ends expired sessions and
    deletes their upstream chats; `sessions clear` ends the rest.

A Side adapts one mock: accounts (two), model, the base URL variable, and
what the mock saw: last() -> {chat, parent, prompt, account} of the last
completion, live() -> the set of upstream chats that exist, fail(account,
on) to make an account's completions fail; optionally continued() -> how
many completions continued a chat so far.

Env: CHAT2API_BIN, CHAT2API_ALLOW_SKIP=1, C2A_IT_KEEP=1.
"""

import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "mock"))

import harness  # noqa: E402
from harness import HarnessError, Results  # noqa: E402
import chatgpt_mock  # noqa: E402
import deepseek_mock  # noqa: E402
import mockbase  # noqa: E402
import qwenai_mock  # noqa: E402
import glm_mock  # noqa: E402
import kimi_mock  # noqa: E402
import minimax_mock  # noqa: E402
import qwen_mock  # noqa: E402
import test_chat  # noqa: E402  (the npm client installer)
import test_deepseek  # noqa: E402  (chat(), sse(), message())
from test_accounts import Cli  # noqa: E402

CODE = "sess-code-1"
CODE2 = "sess-code-2"
MGMT = "sess-mgmt-secret-1"
TOOLS_CLIENT = os.path.join(os.path.dirname(HERE), "client", "tools_client.mjs")


# --------------------------------------------------------------------------- provider sides

class DeepSeekSide:
    name, model, var = "deepseek", "DeepSeek-V3.2", "DEEPSEEK_BASE_URL"
    U = (deepseek_mock.DEFAULT_USER_TOKEN, deepseek_mock.OTHER_USER_TOKEN)

    def __init__(self):
        self.m = deepseek_mock.DeepSeekMock(user_tokens=self.U).start()
        self.url = self.m.url

    def accounts(self):
        return [["deepseek", u] for u in self.U]

    def last(self):
        lc = self.m.state.snapshot().get("last_completion") or {}
        return {"chat": lc.get("chat_session_id"),
                "parent": (lc.get("body") or {}).get("parent_message_id"),
                "prompt": lc.get("prompt") or "", "account": lc.get("user")}

    def live(self):
        return {sid for v in self.m.state.live_sessions().values() for sid in v}

    def fail(self, account, on):
        self.m.state.configure({"by_token": {account: {"completion_status": 500 if on else 0}}})

    def continued(self):
        return sum((self.m.state.snapshot().get("continued_completions") or {}).values())

    def stop(self):
        self.m.stop()


SIDES = [DeepSeekSide]


class ChatGPTSide:
    """conversation_id + parent_message_id (chatgpt.md §4.1); the chats are
    temporary (HISTORY_DISABLED's default) and go by PATCH is_visible:false."""
    name, model, var = "chatgpt", "gpt-4o", "CHATGPT_BASE_URL"
    U = (chatgpt_mock.DEFAULT_ACCESS_TOKEN, chatgpt_mock.make_jwt("user-sess-2"))

    def __init__(self):
        self.m = chatgpt_mock.ChatGPTMock(access_tokens=self.U).start()
        self.url = self.m.url

    def accounts(self):
        return [["chatgpt", u] for u in self.U]

    def last(self):
        lc = self.m.state.snapshot().get("last_conversation") or {}
        body = lc.get("body") or {}
        authz = (lc.get("headers") or {}).get("authorization") or ""
        return {"chat": lc.get("conversation_id"),
                "parent": body.get("parent_message_id") if body.get("conversation_id") else None,
                "prompt": mockbase.prompt_text([m.get("content", {}).get("parts")
                                                for m in body.get("messages") or []]),
                "account": authz[7:] or None}

    def live(self):
        st = self.m.state
        with st.lock:
            return {cid for cid, c in st.conversations.items() if c["is_visible"]}

    def fail(self, account, on):
        self.m.state.configure({"by_token": {account: {"conversation_status": 500 if on else 0}}})

    def stop(self):
        self.m.stop()


SIDES.append(ChatGPTSide)


class QwenAISide:
    """chat_id + parent_id, the previous answer's response_id (§7.3, §7.4)."""
    name, model, var = "qwenai", "Qwen3.6-Plus", "QWENAI_BASE_URL"
    U = (qwenai_mock.DEFAULT_TOKEN, qwenai_mock.OTHER_TOKEN)

    def __init__(self):
        self.m = qwenai_mock.QwenAIMock().start()
        self.url = self.m.url

    def accounts(self):
        return [["qwenai", u, "--set", "cookies=" + qwenai_mock.make_cookies(u)] for u in self.U]

    def last(self):
        lc = self.m.state.snapshot().get("last_completion") or {}
        return {"chat": lc.get("chat_id"), "parent": (lc.get("body") or {}).get("parent_id"),
                "prompt": lc.get("prompt") or "", "account": lc.get("token")}

    def live(self):
        return {cid for v in self.m.state.live_chats().values() for cid in v}

    def fail(self, account, on):
        self.m.state.configure({"by_token": {account: {"completion_status": 500 if on else 0}}})

    def stop(self):
        self.m.stop()


SIDES.append(QwenAISide)


class GLMSide:
    """GLM continues by conversation_id alone (no parent id): "parent" is the id sent."""
    name, model, var = "glm", "GLM-5", "GLM_BASE_URL"
    U = (glm_mock.DEFAULT_REFRESH_TOKEN, glm_mock.OTHER_REFRESH_TOKEN)

    def __init__(self):
        self.m = glm_mock.GLMMock().start()
        self.url = self.m.url

    def accounts(self):
        return [["glm", u] for u in self.U]

    def last(self):
        lc = self.m.state.snapshot().get("last_completion") or {}
        return {"chat": lc.get("conversation_id"),
                "parent": (lc.get("body") or {}).get("conversation_id") or None,
                "prompt": lc.get("prompt") or "", "account": lc.get("user")}

    def live(self):
        return {c for v in self.m.state.live_conversations().values() for c in v}

    def fail(self, account, on):
        self.m.state.configure({"by_token": {account: {"stream_status": 500 if on else 0}}})

    def stop(self):
        self.m.stop()


SIDES.append(GLMSide)


class KimiSide:
    """Kimi continues by chat_id and parent_id (the last answer's message id)."""
    name, model, var = "kimi", "Kimi-K2.5", "KIMI_BASE_URL"

    def __init__(self):
        self.m = kimi_mock.KimiMock().start()
        self.url = self.m.url

    def accounts(self):
        return [["kimi", self.m.refresh_token(u)] for u in ("u1", "u2")]

    def last(self):
        lc = self.m.state.snapshot().get("last_chat") or {}
        body = lc.get("body") or {}
        return {"chat": lc.get("chat_id"),
                "parent": (body.get("message") or {}).get("parent_id") or None,
                "prompt": lc.get("prompt") or "", "account": lc.get("user")}

    def live(self):
        return {c for v in self.m.state.snapshot().get("live_chats", {}).values() for c in v}

    def fail(self, account, on):
        self.m.state.configure({"by_user": {account: {"chat_status": 500 if on else 0}}})

    def stop(self):
        self.m.stop()


SIDES.append(KimiSide)


class MiniMaxSide:
    """MiniMax continues by send_msg's chat_id; the poll reads the AI messages after the
    last turn's answer."""
    name, model, var = "minimax", "MiniMax-M2.5", "MINIMAX_BASE_URL"
    JWT = {minimax_mock.DEFAULT_UID: minimax_mock.DEFAULT_JWT,
           minimax_mock.OTHER_UID: minimax_mock.OTHER_JWT}

    def __init__(self):
        self.m = minimax_mock.MiniMaxMock().start()
        self.url = self.m.url

    def accounts(self):
        return [["minimax", j] for j in self.JWT.values()]

    def last(self):
        ls = self.m.state.snapshot().get("last_send") or {}
        cid = ls.get("chat_id")
        return {"chat": str(cid) if cid is not None else None,
                "parent": (ls.get("body") or {}).get("chat_id"),
                "prompt": ls.get("text") or "", "account": ls.get("user")}

    def live(self):
        return set(self.m.state.snapshot().get("chats_live") or [])

    def fail(self, account, on):
        self.m.state.configure({"by_token": {self.JWT[account]: {"send_status": 500 if on else 0}}})

    def stop(self):
        self.m.stop()


SIDES.append(MiniMaxSide)


class QwenSide:
    """Qwen (China) continues by session_id, with the last answer's req_id as parent_req_id."""
    name, model, var = "qwen", "Qwen3-Max", "QWEN_BASE_URL"
    U = (qwen_mock.DEFAULT_TICKET, qwen_mock.OTHER_TICKET)

    def __init__(self):
        self.m = qwen_mock.QwenMock().start()
        self.url = self.m.url

    def accounts(self):
        return [["qwen", u] for u in self.U]

    def last(self):
        lc = self.m.state.snapshot().get("last_chat") or {}
        parent = (lc.get("body") or {}).get("parent_req_id")
        return {"chat": lc.get("session_id"), "parent": parent if parent != "0" else None,
                "prompt": lc.get("prompt") or "", "account": lc.get("user")}

    def live(self):
        return {sid for v in self.m.state.snapshot().get("live_sessions", {}).values()
                for sid in v}

    def fail(self, account, on):
        self.m.state.configure({"by_ticket": {account: {"chat_status": 500 if on else 0}}})

    def stop(self):
        self.m.stop()


SIDES.append(QwenSide)


# --------------------------------------------------------------------------- helpers

def ask(port, model, messages, stream, headers=None, extra=None, token=CODE):
    """(answer text, status, error) of one chat request."""
    resp = test_deepseek.chat(port, model, messages, stream=stream, token=token,
                              headers=headers, extra=extra)
    if resp.status != 200:
        return None, resp.status, resp.describe()
    if stream:
        content, _, finish, error, done = test_deepseek.sse(resp)
        if error or not done:
            return None, resp.status, "stream error %s done=%s" % (error, done)
        return content, 200, None
    msg, finish, _ = test_deepseek.message(resp)
    return msg.get("content"), 200, None


def turn_text(tag, k):
    return "%s question number %d about topic-%s-%d" % (tag, k, tag, k)


class Convo:
    """A conversation as a chat UI keeps it: every request carries it all."""

    def __init__(self, r, side, port, tag, system=True, token=CODE):
        self.r, self.side, self.port, self.tag, self.token = r, side, port, tag, token
        self.msgs = [{"role": "system", "content": "Be brief (%s)." % tag}] if system else []
        self.chats = []          # upstream chat per turn
        self.prompts = []

    def say(self, text, stream=False, headers=None, echo=None):
        self.msgs.append({"role": "user", "content": text})
        answer, status, err = ask(self.port, self.side.model, self.msgs, stream, headers,
                                  token=self.token)
        seen = self.side.last()
        self.chats.append(seen["chat"])
        self.prompts.append(seen["prompt"])
        if answer is not None:
            self.msgs.append({"role": "assistant",
                              "content": echo(answer) if echo else answer})
        return answer, status, err, seen


# --------------------------------------------------------------------------- cases

def five_turns(r, side, port):
    lab = side.name
    c = Convo(r, side, port, "five")
    ok = True
    for k in range(1, 6):
        answer, status, err, seen = c.say(turn_text("five", k), stream=(k % 2 == 0))
        if status != 200:
            r.fail("%s: turn %d answered" % (lab, k), err)
            return None
        first = turn_text("five", 1)
        # the answer is this turn's alone (a continued chat holds the earlier answers)
        ok = ok and (k == 1 or first not in (answer or ""))
        if k == 1:
            ok = ok and first in seen["prompt"]
        else:
            # only the new message: none of the earlier turns, nor the answers
            ok = ok and turn_text("five", k) in seen["prompt"] and \
                first not in seen["prompt"] and "You said" not in seen["prompt"]
    r.check("%s: five turns answered" % lab, ok, json.dumps(c.prompts)[:900])
    r.check("%s: turns 2-5 continue turn 1's upstream chat" % lab,
            len(set(c.chats)) == 1 and c.chats[0], str(c.chats))
    r.check("%s: turns 2-5 send only the new message upstream" % lab,
            all(turn_text("five", 1) not in p for p in c.prompts[1:]) and
            all(len(p) < len(c.prompts[0]) + 40 for p in c.prompts[1:]),
            json.dumps(c.prompts)[:900])
    r.check("%s: the session's chat stays upstream while it lives" % lab,
            c.chats[0] in side.live(), "%s not in %s" % (c.chats[0], side.live()))
    return c


def fork(r, side, port, c):
    lab = side.name
    # back to the state after turn 2, another question
    msgs = c.msgs[:1 + 2 * 2] + [{"role": "user", "content": "a different road from two"}]
    answer, status, err = ask(port, side.model, msgs, False)
    seen = side.last()
    r.check("%s: a fork from turn 2 starts a chat of its own with the whole history" % lab,
            status == 200 and seen["chat"] != c.chats[0] and
            turn_text("five", 1) in seen["prompt"] and turn_text("five", 2) in seen["prompt"],
            "%s %s %s" % (status, seen["chat"], seen["prompt"][:300]))
    fork_chat = seen["chat"]
    answer, status, err, seen = c.say(turn_text("five", 6))
    r.check("%s: the original goes on in its own chat after the fork" % lab,
            status == 200 and seen["chat"] == c.chats[0] and
            turn_text("five", 5) not in seen["prompt"], "%s %s" % (status, seen))
    return fork_chat


def echo_variants(r, side, port):
    lab = side.name
    c = Convo(r, side, port, "trim")
    c.say(turn_text("trim", 1), echo=lambda a: "  " + a.replace(" ", "  ") + "\n")
    answer, status, err, seen = c.say(turn_text("trim", 2))
    r.check("%s: an answer echoed with other whitespace still continues" % lab,
            status == 200 and seen["chat"] == c.chats[0] and
            turn_text("trim", 1) not in seen["prompt"], str(seen)[:400])
    c = Convo(r, side, port, "edit")
    c.say(turn_text("edit", 1), echo=lambda a: a + " (edited by the user)")
    answer, status, err, seen = c.say(turn_text("edit", 2))
    r.check("%s: an edited answer starts afresh with the whole history" % lab,
            status == 200 and seen["chat"] != c.chats[0] and
            turn_text("edit", 1) in seen["prompt"], str(seen)[:400])
    h = {"X-Session-Id": "named-%s-1" % side.name}
    c = Convo(r, side, port, "named")
    c.say(turn_text("named", 1), headers=h, echo=lambda a: a + " (edited)")
    answer, status, err, seen = c.say(turn_text("named", 2), headers=h, stream=True)
    r.check("%s: a named session continues whatever the client echoes" % lab,
            status == 200 and seen["chat"] == c.chats[0] and
            turn_text("named", 1) not in seen["prompt"], str(seen)[:400])
    answer, status, err, seen = c.say(turn_text("named", 3), headers=h)
    r.check("%s: ... and again" % lab, status == 200 and seen["chat"] == c.chats[0] and
            turn_text("named", 2) not in seen["prompt"], str(seen)[:400])
    # another caller (another code) with the same name and as many answers
    # never meets that session: its whole history goes to a chat of its own
    o = Convo(r, side, port, "other", token=CODE2)
    for k in (1, 2, 3):
        o.msgs += [{"role": "user", "content": turn_text("other", k)},
                   {"role": "assistant", "content": "made up answer %d" % k}]
    answer, status, err, seen = o.say(turn_text("other", 4), headers=h)
    r.check("%s: another caller's session of the same name is its own" % lab,
            status == 200 and seen["chat"] != c.chats[0] and
            turn_text("other", 1) in seen["prompt"], "%s %s" % (c.chats, seen))


def concurrent(r, side, port):
    """Two requests continue the same answer at once (a double click): one
    continues the chat, the other gets a chat of its own; both answer."""
    import threading
    c = Convo(r, side, port, "twice")
    c.say(turn_text("twice", 1))
    msgs = c.msgs + [{"role": "user", "content": turn_text("twice", 2)}]
    got = []
    before = side.continued() if hasattr(side, "continued") else None

    def one():
        got.append(ask(port, side.model, msgs, False)[1])
    ts = [threading.Thread(target=one) for _ in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    r.check("%s: two continuations of one answer at once both answer" % side.name,
            got == [200, 200], str(got))
    if before is not None:
        r.check("%s: ... and only one of them continues the chat" % side.name,
                side.continued() - before == 1, "%d" % (side.continued() - before))


def tool_loop(r, side, port, cdir):
    node = harness.which("node")
    for mode in ("nonstream", "stream"):
        pr = subprocess.run([node, os.path.join(cdir, "tools_client.mjs"),
                             "http://127.0.0.1:%d/v1" % port, CODE, mode, side.model,
                             "Weather in Paris?", "{}"], capture_output=True, text=True,
                            timeout=90)
        try:
            out = json.loads(pr.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            out = {"error": (pr.stdout + pr.stderr)[-600:]}
        seen = side.last()
        r.check("%s %s: the tool loop ends in the final answer" % (side.name, mode),
                out.get("finish1") == "tool_calls" and out.get("finish2") == "stop" and
                (out.get("content2") or "").startswith("Tool results: "), json.dumps(out)[:600])
        r.check("%s %s: the tool results continue the chat, alone" % (side.name, mode),
                seen["parent"] is not None and "Weather in Paris?" not in seen["prompt"] and
                "sunny, 21C in Paris" in seen["prompt"], str(seen)[:600])


def failover(r, side, port):
    lab = side.name
    c = Convo(r, side, port, "fail")
    c.say(turn_text("fail", 1))
    answer, status, err, seen = c.say(turn_text("fail", 2))
    owner = seen["account"]
    side.fail(owner, True)
    try:
        answer, status, err, seen = c.say(turn_text("fail", 3), stream=True)
        r.check("%s: the session's account fails: the turn is answered by the other one" % lab,
                status == 200 and seen["account"] != owner and seen["chat"] != c.chats[0],
                "%s %s %s" % (status, err, seen))
        r.check("%s: ... with the whole history, in a new chat" % lab,
                turn_text("fail", 1) in seen["prompt"] and turn_text("fail", 2) in seen["prompt"],
                seen["prompt"][:400])
    finally:
        side.fail(owner, False)
    answer, status, err, seen = c.say(turn_text("fail", 4))
    r.check("%s: the conversation goes on in the new chat" % lab,
            status == 200 and seen["chat"] == c.chats[2] and
            turn_text("fail", 1) not in seen["prompt"], str(seen)[:400])
    return c.chats[0]


def management(r, side, port):
    """The management API lists the live sessions and ends one, its chat deleted."""
    lab = side.name
    c = Convo(r, side, port, "mgmt")
    c.say(turn_text("mgmt", 1))
    h = {"Authorization": "Bearer " + MGMT}
    resp = harness.http(port, "GET", "/v0/management/sessions?provider=" + side.name, headers=h)
    data = (resp.json() or {}).get("data") or []
    mine = [x for x in data if x.get("chat_id") == c.chats[0]]
    r.check("%s: GET /v0/management/sessions lists the session" % lab,
            resp.status == 200 and len(mine) == 1 and mine[0].get("turns") == 1 and
            len(mine[0].get("id", "")) == 64 and mine[0].get("provider") == side.name,
            resp.describe())
    bad = harness.http(port, "GET", "/v0/management/sessions")
    r.check("%s: ... not without the secret" % lab, bad.status in (401, 403), bad.describe())
    if not mine:
        return
    resp = harness.http(port, "DELETE", "/v0/management/sessions/" + mine[0]["id"], headers=h)
    harness.wait_until(lambda: c.chats[0] not in side.live(), 5)
    r.check("%s: DELETE ends it and deletes its upstream chat" % lab,
            resp.status == 200 and ((resp.json() or {}).get("data") or {}).get("ended") == 1 and
            c.chats[0] not in side.live(), "%s live=%s" % (resp.describe(), side.live()))
    answer, status, err, seen = c.say(turn_text("mgmt", 2))
    r.check("%s: the next turn starts a new chat with the whole history" % lab,
            status == 200 and seen["chat"] != c.chats[0] and
            turn_text("mgmt", 1) in seen["prompt"], str(seen)[:300])


def dialects(r, side, port):
    """The other dialects keep sessions too: previous_response_id and an
    Anthropic client's growing history continue the upstream chat."""
    lab = side.name
    h = {"Content-Type": "application/json", "Authorization": "Bearer " + CODE}
    resp = harness.http(port, "POST", "/v1/responses", json.dumps(
        {"model": side.model, "input": turn_text("resp", 1)}), headers=h, timeout=60)
    first = side.last()
    rid = (resp.json() or {}).get("id")
    resp2 = harness.http(port, "POST", "/v1/responses", json.dumps(
        {"model": side.model, "input": turn_text("resp", 2), "previous_response_id": rid}),
        headers=h, timeout=60)
    seen = side.last()
    r.check("%s: previous_response_id continues the upstream chat with the new input alone" % lab,
            resp.status == 200 and resp2.status == 200 and seen["chat"] == first["chat"] and
            turn_text("resp", 1) not in seen["prompt"] and turn_text("resp", 2) in seen["prompt"],
            "%s %s %s" % (resp2.status, first.get("chat"), seen))
    ah = {"Content-Type": "application/json", "x-api-key": CODE,
          "anthropic-version": "2023-06-01"}
    msgs = [{"role": "user", "content": turn_text("anth", 1)}]
    resp = harness.http(port, "POST", "/v1/messages", json.dumps(
        {"model": side.model, "max_tokens": 256, "messages": msgs}), headers=ah, timeout=60)
    first = side.last()
    text = "".join(b.get("text", "") for b in (resp.json() or {}).get("content") or []
                   if b.get("type") == "text")
    msgs += [{"role": "assistant", "content": [{"type": "text", "text": text}]},
             {"role": "user", "content": turn_text("anth", 2)}]
    resp2 = harness.http(port, "POST", "/v1/messages", json.dumps(
        {"model": side.model, "max_tokens": 256, "messages": msgs}), headers=ah, timeout=60)
    seen = side.last()
    r.check("%s: an Anthropic client's next turn continues the upstream chat" % lab,
            resp.status == 200 and resp2.status == 200 and seen["chat"] == first["chat"] and
            turn_text("anth", 1) not in seen["prompt"], "%s %s %s" % (
                resp2.status, first.get("chat"), seen))


def prune_and_clear(r, side, port, cli, chats):
    lab = side.name
    before = side.live()
    rc, out, err = cli.run("sessions", "list")
    r.check("%s: sessions list shows the live sessions" % lab,
            rc == 0 and all(ch in out for ch in chats if ch in before), (out + err)[-600:])
    rc, out, err = cli.run("sessions", "prune")
    r.check("%s: prune ends nothing before the sessions expire" % lab,
            rc == 0 and out.startswith("0 expired") and side.live() == before, out + err)
    rc, out, err = cli.run("sessions", "prune",
                           env={"CHAT2API_TEST_ROUTES": "1", "CHAT2API_TEST_CLOCK_SKEW": "1900"})
    gone = [ch for ch in chats if ch in before]
    r.check("%s: prune after SESSION_TTL deletes the expired sessions' chats" % lab,
            rc == 0 and gone and not (set(gone) & side.live()), "%s %s live=%s" % (
                out + err, gone, side.live()))
    rc, out, err = cli.run("sessions", "list")
    r.check("%s: and forgets them" % lab, rc == 0 and len(out.strip().splitlines()) == 1,
            out + err)
    c = Convo(r, side, port, "clear")
    c.say(turn_text("clear", 1))
    rc, out, err = cli.run("sessions", "clear", side.name)
    r.check("%s: sessions clear ends a live session and deletes its chat" % lab,
            rc == 0 and out.startswith("1 session(s) ended, 1 upstream") and
            c.chats[0] not in side.live(), "%s %s" % (out + err, side.live()))


# --------------------------------------------------------------------------- main

def run_side(r, binary, cdir, cls):
    side = cls()
    ws = harness.Workspace("sessions-" + side.name)
    try:
        fe = harness.Nginx(ws, binary, pfx=False)
        fe.check_installed()
        env = {side.var: side.url}
        fe.app_extra = dict(env, AUTHORIZATION=CODE + "," + CODE2, SESSIONS="true",
                            RETRY_TIMES="2",
                            MANAGEMENT_SECRET=MGMT,
                            MINIMAX_POLL_MIN_MS="50")
        fe.start()
        cli = Cli(binary, ws.path("data"), env)
        for args in side.accounts():
            rc, out, err = cli.run("accounts", "add", *args)
            r.check("%s: account added" % side.name, rc == 0, (out + err)[-300:])
        c = five_turns(r, side, fe.port)
        if c is not None:
            fork(r, side, fe.port, c)
        echo_variants(r, side, fe.port)
        concurrent(r, side, fe.port)
        tool_loop(r, side, fe.port, cdir)
        failed_chat = failover(r, side, fe.port)
        # the chat of the failed account's session went with the failover
        harness.wait_until(lambda: failed_chat not in side.live(), 5)
        r.check("%s: the failed session's chat is deleted" % side.name,
                failed_chat not in side.live(), str(side.live()))
        management(r, side, fe.port)
        dialects(r, side, fe.port)
        prune_and_clear(r, side, fe.port, cli, [c.chats[0]] if c else [])
    except HarnessError as e:
        harness.report_setup(r, "sessions-" + side.name, e)
    finally:
        side.stop()
        harness.finish_workspace(r, ws, "sessions-" + side.name)


def main():
    r = Results("test_sessions")
    harness.install_signal_handlers(1500)
    binary = harness.find_binary()
    cdir = test_chat.client_dir()
    shutil.copyfile(TOOLS_CLIENT, os.path.join(cdir, "tools_client.mjs"))
    only = os.environ.get("C2A_SESSIONS_ONLY")
    for cls in SIDES:
        if only and cls.name not in only.split(","):
            continue
        run_side(r, binary, cdir, cls)
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
