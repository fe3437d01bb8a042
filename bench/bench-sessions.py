#!/usr/bin/env python3
"""Upstream bytes per turn of a growing conversation, multi-turn sessions on
and off: nginx + spawn-fcgi + chat2api against the DeepSeek mock (loopback),
one pooled account.  Each turn sends the whole conversation, as chat UIs do;
the mock records each completion body chat2api sent upstream.

  python3 bench/bench-sessions.py [TURNS] [ANSWER_WORDS]

Env: CHAT2API_BIN (default ./chat2api), as the integration tests.
"""

import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "tests", "mock"))

import harness  # noqa: E402
import deepseek_mock  # noqa: E402
import test_deepseek  # noqa: E402
from test_accounts import Cli  # noqa: E402

CODE = "bench-sess-code"
USER_TEXT = ("Turn %d: here is the next part of the problem, with a few details about "
             "the data, the constraints and what I tried so far, so please take it into "
             "account and continue from your last answer. ") * 2


def run(binary, sessions, turns, words):
    ds = deepseek_mock.DeepSeekMock(config={"long_words": words}).start()
    ws = harness.Workspace("bench-sessions")
    out = []
    try:
        fe = harness.Nginx(ws, binary, pfx=False)
        fe.check_installed()
        env = {"DEEPSEEK_BASE_URL": ds.url}
        fe.app_extra = dict(env, AUTHORIZATION=CODE, SESSIONS=sessions,
                            CHAT2API_LOG_LEVEL="warn")
        fe.start()
        Cli(binary, ws.path("data"), env).run("accounts", "add", "deepseek",
                                              deepseek_mock.DEFAULT_USER_TOKEN)
        msgs = [{"role": "system", "content": "You are a careful assistant."}]
        for k in range(1, turns + 1):
            msgs.append({"role": "user", "content": USER_TEXT % (k, k)})
            body = json.dumps({"model": "DeepSeek-V3.2", "messages": msgs})
            t0 = time.monotonic()
            resp = test_deepseek.chat(fe.port, "DeepSeek-V3.2", msgs, token=CODE)
            ms = (time.monotonic() - t0) * 1000
            if resp.status != 200:
                raise SystemExit("turn %d: %s" % (k, resp.describe()))
            lc = ds.state.snapshot()["last_completion"]
            up = len(json.dumps(lc["body"], ensure_ascii=False).encode())
            out.append((k, len(body.encode()), up, len(lc["prompt"].encode()), ms))
            msgs.append({"role": "assistant",
                         "content": test_deepseek.message(resp)[0]["content"]})
    finally:
        ds.stop()
        ws.stop_all()
        ws.cleanup()
    return out


def main():
    turns = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    words = int(sys.argv[2]) if len(sys.argv) > 2 else 120
    binary = harness.find_binary()
    on = run(binary, "true", turns, words)
    off = run(binary, "false", turns, words)
    print("turn  client_body  upstream_body(on)  upstream_body(off)  prompt(on)  prompt(off)"
          "  ms(on)  ms(off)")
    for (k, cb, up1, p1, ms1), (_, _, up0, p0, ms0) in zip(on, off):
        print("%4d  %11d  %17d  %18d  %10d  %11d  %6.1f  %7.1f" % (
            k, cb, up1, up0, p1, p0, ms1, ms0))
    tot1, tot0 = sum(x[2] for x in on), sum(x[2] for x in off)
    print("total upstream bytes over %d turns: %d with sessions, %d without (%.1fx)" % (
        turns, tot1, tot0, tot0 / max(tot1, 1)))


if __name__ == "__main__":
    main()
