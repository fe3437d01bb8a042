#!/usr/bin/env python3
"""Context management end to end: nginx + spawn-fcgi + chat2api + the
DeepSeek mock, which records the flattened prompt it received.

  * CONTEXT_STRATEGY=none: a 60-turn history reaches the upstream whole;
  * sliding with CONTEXT_MAX_MESSAGES=10: the system message and the last
    10 turns only, the trim logged at debug as counts, never the text;
  * tokens with a small CONTEXT_MAX_TOKENS: the oldest turns go until the
    estimate (about four bytes a token) fits; the system message and the
    last user turn stay; a tool call goes with its result.

Env: CHAT2API_BIN, CHAT2API_ALLOW_SKIP=1, C2A_IT_KEEP=1.
"""

import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "mock"))

import harness  # noqa: E402
from harness import HarnessError, Results  # noqa: E402
import deepseek_mock  # noqa: E402

CODE = "ctx-code-1"
MODEL = "DeepSeek-V3.2"
SYSTEM = "SYSTEM-RULES be brief"
TURNS = 60
PAD = 200
TURN_RE = re.compile(r"turn(\d\d)-")


def turn_text(i):
    t = "turn%02d-" % i
    return t + "x" * (PAD - len(t))


def history():
    """The system message and 60 turns, the oldest an assistant greeting so
    that the last one is a user question."""
    msgs = [{"role": "system", "content": SYSTEM}]
    for i in range(TURNS):
        msgs.append({"role": "assistant" if i % 2 == 0 else "user",
                     "content": turn_text(i)})
    return msgs


def estimate(msgs):
    """handlers/context.c's estimate of ASCII messages: 3, and 4 plus a
    token per four bytes a message."""
    return 3 + sum(4 + (len(m.get("content") or "") + 3) // 4 for m in msgs)


def chat(port, messages, extra=None):
    body = {"model": MODEL, "messages": messages}
    body.update(extra or {})
    return harness.http(port, "POST", "/v1/chat/completions", json.dumps(body),
                        headers={"Content-Type": "application/json",
                                 "Authorization": "Bearer " + CODE}, timeout=60)


def seen(ds):
    """(turn numbers, system there, whole prompt) of the last completion."""
    p = (ds.snapshot().get("last_completion") or {}).get("prompt") or ""
    return [int(n) for n in TURN_RE.findall(p)], SYSTEM in p, p


def logs(ws):
    out = ""
    for f in os.listdir(ws.path("log")):
        with open(ws.path("log", f), errors="replace") as fh:
            out += fh.read()
    return out


def one(r, binary, ds, label, extra, check):
    ws = harness.Workspace("context-" + label)
    try:
        fe = harness.Nginx(ws, binary, pfx=False, procs=1)
        fe.check_installed()
        fe.app_extra = dict({"DEEPSEEK_BASE_URL": ds.url, "AUTHORIZATION": CODE,
                             "RETRY_TIMES": "0", "CHAT2API_LOG_LEVEL": "debug"}, **extra)
        fe.start()
        env = dict(os.environ, CHAT2API_DATA_DIR=ws.path("data"), CHAT2API_LOG_LEVEL="warn")
        prefix = ["runuser", "-u", harness.RUN_USER, "--"] if harness.RUN_USER else []
        p = subprocess.run(prefix + [binary, "accounts", "add", "deepseek",
                                     deepseek_mock.DEFAULT_USER_TOKEN], env=env,
                           capture_output=True, text=True)
        r.check("%s: an account is added" % label, p.returncode == 0, p.stdout + p.stderr)
        check(r, fe.port, ws)
    except HarnessError as e:
        harness.report_setup(r, "context-" + label, e)
    finally:
        harness.finish_workspace(r, ws, "context-" + label)


def main():
    r = Results("test_context")
    harness.install_signal_handlers(600)
    binary = harness.find_binary()
    ds = deepseek_mock.DeepSeekMock().start()

    def none(r, port, ws):
        resp = chat(port, history())
        turns, system, _ = seen(ds)
        r.check("none: all 60 turns and the system message reach the upstream",
                resp.status == 200 and turns == list(range(TURNS)) and system,
                "%d %s" % (resp.status, turns))
        r.check("none: nothing trimmed, nothing logged", "context " not in logs(ws))

    def sliding(r, port, ws):
        resp = chat(port, history())
        turns, system, _ = seen(ds)
        r.check("sliding, 10: the system message and the last 10 turns only",
                resp.status == 200 and turns == list(range(TURNS - 10, TURNS)) and system,
                "%d %s" % (resp.status, turns))
        text = logs(ws)
        r.check("sliding: the trim is logged at debug as counts",
                "context sliding for deepseek: dropped 50 of 61 messages (25 user, "
                "25 assistant, 0 tool; %d bytes of text), 11 kept" % (50 * PAD) in text,
                text[-600:])
        r.check("sliding: no message text in the log",
                "turn0" not in text and "xxxxxxxx" not in text and SYSTEM not in text)
        # a window that would cut the last user turn off: it stays
        msgs = history()
        msgs += [{"role": "assistant", "content": "", "tool_calls": [{
            "id": "call_1", "type": "function",
            "function": {"name": "lookup", "arguments": "{}"}}]}]
        msgs += [{"role": "tool", "tool_call_id": "call_1", "content": turn_text(61)}]
        msgs += [{"role": "assistant", "content": turn_text(62)}] * 9
        resp = chat(port, msgs)
        turns, system, p = seen(ds)
        r.check("sliding: the last user turn and its tool loop stay past the window",
                resp.status == 200 and turns[0] == 59 and 61 in turns and system and
                "call_1" in p, "%d %s" % (resp.status, turns))

    budget = 1000

    def tokens(r, port, ws):
        msgs = history()
        resp = chat(port, msgs)
        turns, system, _ = seen(ds)
        # the expected cut: the oldest turns go until the estimate fits
        k = 1
        while k < len(msgs) - 1 and estimate([msgs[0]] + msgs[k:]) > budget:
            k += 1
        want = [int(m["content"][4:6]) for m in msgs[k:]]
        r.check("tokens, %d: the oldest turns go until the estimate fits" % budget,
                resp.status == 200 and turns == want and system and
                len(want) < 20 and want[-1] == TURNS - 1,
                "%d got %s want %s" % (resp.status, turns, want))
        # far too small: the system message and the last user turn still go
        small = msgs[:1] + [{"role": "user", "content": turn_text(58)},
                            {"role": "assistant", "content": "", "tool_calls": [{
                                "id": "call_2", "type": "function",
                                "function": {"name": "lookup", "arguments": "{}"}}]},
                            {"role": "tool", "tool_call_id": "call_2",
                             "content": turn_text(59) * 40}]
        resp = chat(port, msgs[:-1] + small[1:])
        turns, system, p = seen(ds)
        r.check("tokens: over the budget, the last user turn and its tool result still go",
                resp.status == 200 and turns[0] == 58 and 59 in turns and system and
                "call_2" in p, "%d %s" % (resp.status, turns[:5]))
        text = logs(ws)
        r.check("tokens: the trim over the budget is logged",
                "context tokens for deepseek: dropped" in text and
                "over the budget of %d; sent anyway" % budget in text, text[-600:])

    try:
        one(r, binary, ds, "none", {}, none)
        one(r, binary, ds, "sliding", {"CONTEXT_STRATEGY": "sliding",
                                       "CONTEXT_MAX_MESSAGES": "10"}, sliding)
        one(r, binary, ds, "tokens", {"CONTEXT_STRATEGY": "tokens",
                                      "CONTEXT_MAX_TOKENS": str(budget)}, tokens)
    finally:
        ds.stop()
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
