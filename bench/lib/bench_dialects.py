#!/usr/bin/env python3
"""The three dialects side by side: POST /v1/chat/completions,
/v1/responses and /v1/messages, non-stream and stream, at 1 and 32
connections (wrk), and the time to the first data: line (bench/ttfc),
through nginx + spawn-fcgi chat2api against bench/fastmock's ChatGPT
(CONVERSATION_ONLY=true, the cheapest upstream path, so the dialect's own
cost shows).  Reuses bench_chat.py's pieces.  Prints a markdown table.

    bench/bench-dialects.sh [-d SECONDS] [-n TTFC_REQUESTS] [-r REPEAT]
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench_chat as bc  # noqa: E402
from bench_chat import harness  # noqa: E402

# dialect, path, non-stream body; responses are not stored (store: false),
# so the store's writes do not ride along (a second line measures them)
DIALECTS = [
    ("chat", "/v1/chat/completions",
     {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}),
    ("responses", "/v1/responses", {"model": "gpt-4o", "input": "hi", "store": False}),
    ("responses+store", "/v1/responses", {"model": "gpt-4o", "input": "hi"}),
    ("messages", "/v1/messages",
     {"model": "gpt-4o", "max_tokens": 1024, "messages": [{"role": "user", "content": "hi"}]}),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-d", "--duration", type=int, default=5)
    ap.add_argument("-n", "--ttfc-n", type=int, default=500)
    ap.add_argument("-r", "--repeat", type=int, default=1)
    ap.add_argument("-t", "--threads", type=int, default=32)
    ap.add_argument("-p", "--procs", type=int, default=1)
    args = ap.parse_args()
    args.encoding, args.log_level = "v1", "warn"
    harness.install_signal_handlers(1800)
    wrk = harness.which("wrk")
    binary = harness.find_binary()
    load0 = " ".join("%.2f" % x for x in os.getloadavg())
    ws = harness.Workspace("benchdialects")
    rows = []
    fe_ws = None
    try:
        rc, out = ws.run("build", ["sh", os.path.join(bc.BENCH, "build.sh"), "-o",
                                   ws.path("bin"), "fastmock", "ttfc"], timeout=120)
        if rc != 0:
            raise harness.HarnessError("bench/build.sh failed:\n" + out)
        portfile = ws.path("fastmock.port")
        ws.spawn("fastmock", [ws.path("bin", "fastmock"), "-P", portfile, "-t", "1"])
        if not harness.wait_until(lambda: os.path.exists(portfile), 10):
            raise harness.HarnessError("fastmock did not start")
        with open(portfile) as f:
            murl = "http://127.0.0.1:%d" % int(f.read())
        env = bc.app_env(args, murl, "conversation-only", args.threads)
        fe_ws, fe = bc.start_frontend(args, binary, "dialects", env, "conversation-only")
        for name, path, body in DIALECTS:
            sbody = dict(body, stream=True)
            r = harness.http(fe.port, "POST", path, json.dumps(body),
                             headers={"Content-Type": "application/json"})
            if r.status != 200 or b"fastmock" not in r.body:
                raise harness.HarnessError("%s: %s" % (name, r.describe()))
            url = "http://127.0.0.1:%d%s" % (fe.port, path)
            row = {"dialect": name}
            for kind, b in (("non-stream", body), ("stream", sbody)):
                script = bc.lua_post(fe_ws, "%s-%s" % (name.replace("+", "-"), kind), path,
                                     json.dumps(b))
                bc.run_wrk(wrk, url, 4, 1, 1, script, None)
                for conns, threads in ((1, 1), (32, 2)):
                    res = bc.median_run([bc.run_wrk(wrk, url, conns, threads, args.duration,
                                                    script, None)
                                         for _ in range(args.repeat)],
                                        lambda x: x["rps"] or 0)
                    bad = res["non2xx"] + res["sockerr"]
                    row["%s c=%d" % (kind, conns)] = "%.0f%s" % (
                        res["rps"] or 0, " (%d errors)" % bad if bad else "")
                    bc.log("  %-16s %-10s c=%-3d %8.0f req/s p50 %s" % (
                        name, kind, conns, res["rps"] or 0, res["p50"]))
            t = bc.median_run([bc.run_ttfc(ws.path("bin", "ttfc"), fe.port, path,
                                           json.dumps(sbody), args.ttfc_n, 50)
                               for _ in range(args.repeat)],
                              lambda x: x.get("first", {}).get("p50", 0))
            first = t.get("first", {})
            row["ttfe"] = "%.2f / %.2f" % (first.get("p50", -1), first.get("p99", -1))
            bc.log("  %-16s ttfe p50 %s ms" % (name, first.get("p50")))
            rows.append(row)
    finally:
        if fe_ws is not None:
            fe_ws.cleanup()
        ws.cleanup()
    load1 = " ".join("%.2f" % x for x in os.getloadavg())
    cols = ["non-stream c=1", "non-stream c=32", "stream c=1", "stream c=32", "ttfe"]
    print("load average before %s, after %s; %d s per wrk run, %d ttfc requests" % (
        load0, load1, args.duration, args.ttfc_n))
    print()
    print("| dialect | " + " | ".join(c.replace("ttfe", "first event p50 / p99 (ms)") +
                                     ("" if c == "ttfe" else " req/s") for c in cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for row in rows:
        print("| %s | %s |" % (row["dialect"], " | ".join(row.get(c, "?") for c in cols)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
