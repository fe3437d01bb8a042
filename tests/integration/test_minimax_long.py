#!/usr/bin/env python3
"""MiniMax's long answers, with the production poll settings (MINIMAX_POLL_MIN_MS 400,
MINIMAX_POLL_MAX_MS 2000, MINIMAX_ANSWER_TIMEOUT 600): nginx + chat2api + the mock.

  * an answer that grows for 90 s (the reference gives up after 60) streams all of it,
    keeps streaming throughout (no silence longer than a poll or two), and its first
    chunk arrives within one poll of the upstream's first text, which comes 6 s after the
    question (the polls have backed off to their ceiling by then);
  * at the same time, a second request waits 50 s without streaming (nginx's 60 s
    fastcgi_read_timeout of the test setup bounds a silent answer) and gets the whole
    answer, not the first part;
  * a poll that hangs is given up after its own time limit and the answer goes on.

It takes about 95 s by design (the two long answers run side by side); the rest of the
MiniMax checks are in test_minimax.py.  Env: CHAT2API_BIN, CHAT2API_ALLOW_SKIP=1.
"""

import json
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "mock"))

import harness  # noqa: E402
from harness import HarnessError, Results  # noqa: E402
import minimax_mock as mm  # noqa: E402
from test_accounts import Cli  # noqa: E402
from test_deepseek import message, sse  # noqa: E402
from test_minimax import CODE, MODEL, chat, content_chunks  # noqa: E402

GROW_S = 90
NS_GROW_S = 50
FIRST_S = 6
POLL_MAX_S = 2.0


def main():
    r = Results("test_minimax_long")
    harness.install_signal_handlers(400)
    binary = harness.find_binary()
    ws = harness.Workspace("minimax-long")
    m = mm.MiniMaxMock().start()
    try:
        fe = harness.Nginx(ws, binary, pfx=False, procs=2)
        fe.check_installed()
        fe.app_extra = {"MINIMAX_BASE_URL": m.url, "AUTHORIZATION": CODE}
        fe.start()
        cli = Cli(binary, ws.path("data"), {"MINIMAX_BASE_URL": m.url})
        rc, out, e = cli.run("accounts", "add", "minimax", mm.DEFAULT_JWT)
        r.check("an account is added", rc == 0, out + e)

        words = 300
        prompt = "long [[delay:%d]] [[grow:%d]] [[long:%d]] [[nothink]]" % (
            FIRST_S * 1000, GROW_S - FIRST_S, words)
        result = {}

        # nginx's fastcgi_read_timeout (60 s here) bounds a silent non-stream answer
        ns_prompt = "also [[delay:%d]] [[grow:%d]] [[long:%d]] [[nothink]]" % (
            FIRST_S * 1000, NS_GROW_S - FIRST_S, words)

        def nonstream():
            result["resp"] = chat(fe.port, MODEL, ns_prompt, timeout=GROW_S + 60)
        th = threading.Thread(target=nonstream)
        th.start()
        time.sleep(0.5)
        t_send = time.time()
        resp = chat(fe.port, MODEL, prompt, stream=True, timeout=GROW_S + 60)
        took = time.time() - t_send
        th.join(GROW_S + 60)
        st = m.snapshot()
        mine = [c for c in st["chats"].values() if c["content"].startswith("You said: long")]
        ch = mine[0] if mine else {}
        sc, sr, sf, se, sd = sse(resp)
        want = "You said: long" + "".join(" w%d" % i for i in range(words))
        r.check("an answer that grows for %d s streams all of it, then [DONE]" % GROW_S,
                resp.status == 200 and sd and se is None and sf == "stop" and sc == want and
                took >= GROW_S - 2, "%.1f s, %d of %d chars, error %s" % (
                    took, len(sc), len(want), se))
        chunks = content_chunks(resp)
        first = t_send + chunks[0][0] if chunks else 1e18
        r.check("its first chunk arrives within one poll (%.0f s) of the upstream's first text"
                % POLL_MAX_S, 0 <= first - ch.get("first_text_t", 0) <= POLL_MAX_S + 0.5,
                "%.3f s after the text" % (first - ch.get("first_text_t", 0)))
        gaps = [b[0] - a[0] for a, b in zip(chunks, chunks[1:])]
        r.check("it keeps streaming while it grows: no gap over two polls, many chunks",
                len(chunks) >= 40 and gaps and max(gaps) <= 2 * POLL_MAX_S + 0.5,
                "%d chunks, longest gap %.2f s" % (len(chunks), max(gaps) if gaps else -1))
        waiting = [p for p in ch.get("polls", []) if p["t"] < ch.get("first_text_t", 0)]
        r.check("while nothing changes the polls back off to the ceiling (%d s of waiting: "
                "a handful of polls)" % FIRST_S, 3 <= len(waiting) <= 8,
                "%d polls before the text" % len(waiting))
        r.check("while it grows it is polled fast, not more (polls per answer)",
                ch.get("npolls", 0) <= (GROW_S / 0.4) + 10, "%d polls" % ch.get("npolls", 0))
        r.note("polls per answer: %d over %.0f s" % (ch.get("npolls", 0), took))
        ns = result.get("resp")
        c = message(ns)[0].get("content") if ns is not None else None
        r.check("non-stream, side by side: waits its %d s (not the first text) and answers "
                "all of it" % NS_GROW_S,
                ns is not None and ns.status == 200 and c == want.replace("long", "also"),
                ns.describe() if ns is not None else "no answer")

        # a poll that never answers: given up after its limit (10 s), the answer goes on
        m.configure({"stall_max_s": 30})
        t0 = time.time()
        resp = chat(fe.port, MODEL, "hang [[pollfail:hang:2:1]] [[long:5]] [[nothink]] [[perpoll]]",
                    stream=True, timeout=60)
        sc, sr, sf, se, sd = sse(resp)
        r.check("a poll that hangs is timed out and the polling goes on",
                sd and se is None and sc.endswith(" w4") and 9 < time.time() - t0 < 25,
                "%.1f s %r %s" % (time.time() - t0, sc[-40:], se))
        gone = harness.wait_until(lambda: not m.snapshot()["chats_live"], 10)
        r.check("the chats are deleted after their answers", gone,
                str(m.snapshot()["chats_live"]))
        r.check("the mock refused nothing", not m.snapshot()["rejections"],
                json.dumps(m.snapshot()["rejections"])[:300])
    except HarnessError as e:
        harness.report_setup(r, "minimax-long", e)
    finally:
        m.stop()
        harness.finish_workspace(r, ws, "minimax-long")
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
