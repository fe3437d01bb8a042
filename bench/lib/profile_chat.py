"""Driver of bench/profile-chat.sh (python3 standard library only).

Runs chat2api under valgrind --tool=callgrind behind nginx (harness.Nginx,
the shipped deploy files) against bench/fastmock, sends N sequential
non-stream and N stream /v1/chat/completions, stops chat2api (SIGTERM, so
callgrind writes its profile) and prints callgrind_annotate's inclusive and
self tables, scaled to instructions per chat request.
"""

import argparse
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(BENCH), "tests", "integration"))

import harness  # noqa: E402
from bench_chat import CHAT_NONSTREAM, CHAT_STREAM, post_json, sanity  # noqa: E402


def log(msg):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def main():
    ap = argparse.ArgumentParser(description="callgrind profile of chat2api's chat path")
    ap.add_argument("-n", "--requests", type=int, default=200,
                    help="requests of each kind, non-stream and stream (200)")
    ap.add_argument("-m", "--mode", choices=("sentinel", "conversation-only"),
                    default="sentinel")
    ap.add_argument("-e", "--encoding", choices=("old", "v1"), default="old")
    ap.add_argument("-o", "--out", metavar="DIR", help="keep callgrind.out.* here")
    ap.add_argument("--top", type=int, default=45, help="rows per table (45)")
    args = ap.parse_args()

    harness.install_signal_handlers(3600)
    binary = harness.find_binary()
    valgrind = harness.which("valgrind")
    annotate = harness.which("callgrind_annotate")
    ws = harness.Workspace("profchat")
    try:
        rc, out = ws.run("build", ["sh", os.path.join(BENCH, "build.sh"), "-o",
                                   ws.path("bin"), "fastmock"], timeout=120)
        if rc != 0:
            raise harness.HarnessError("bench/build.sh failed:\n" + out)
        portfile = ws.path("fastmock.port")
        ws.spawn("fastmock", [ws.path("bin", "fastmock"), "-P", portfile])
        if not harness.wait_until(lambda: os.path.exists(portfile), 10):
            raise harness.HarnessError("fastmock did not start")
        with open(portfile) as f:
            mport = int(f.read())
        cgdir = ws.mkdir("cg")
        wrapper = ws.write("chat2api-callgrind", "#!/bin/sh\nexec %s --tool=callgrind "
                           "--callgrind-out-file=%s/callgrind.out.%%p %s \"$@\"\n"
                           % (valgrind, cgdir, binary), mode=0o755)
        fws = harness.Workspace("profchat-fe")
        try:
            fe = harness.Nginx(fws, wrapper, pfx=False, bench=True, procs=1)
            fe.app_extra = {
                "CHATGPT_BASE_URL": "http://127.0.0.1:%d" % mport,
                "CHATGPT_DELTA_ENCODING": "true" if args.encoding == "v1" else "false",
                "CONVERSATION_ONLY": "true" if args.mode == "conversation-only" else "false",
                "CHAT2API_THREADS": "4", "CHAT2API_LOG_LEVEL": "warn",
                "CHAT2API_SSE_KEEPALIVE": "15", "CHAT2API_TEST_ROUTES": "false",
                "RETRY_TIMES": "0", "CHAT2API_GRACE": "5",
            }
            fe.start()
            sanity(fe.port)
            for obj in (CHAT_NONSTREAM, CHAT_STREAM):
                for _ in range(args.requests):
                    r = post_json(fe.port, obj, timeout=60)
                    if r.status != 200:
                        raise harness.HarnessError(r.describe())
            log("sent %d + %d requests (+2 sanity, +health checks)" % (args.requests,
                                                                       args.requests))
        finally:
            fws.cleanup()          # SIGTERM: callgrind writes its file
        files = sorted(os.path.join(cgdir, f) for f in os.listdir(cgdir))
        if not files:
            raise harness.HarnessError("no callgrind output")
        nreq = 2 * args.requests + 2
        for f in files:
            total = None
            for inclusive in ("yes", "no"):
                p = subprocess.run([annotate, "--inclusive=" + inclusive, "--threshold=100",
                                    f], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   timeout=600)
                text = p.stdout.decode("utf-8", "replace")
                m = re.search(r"^([\d,]+) .*PROGRAM TOTALS", text, re.M)
                if m:
                    total = int(m.group(1).replace(",", ""))
                print("### %s, %s, %s encoding: %s (callgrind, %d chat requests)" % (
                    "inclusive" if inclusive == "yes" else "self", args.mode, args.encoding,
                    os.path.basename(f), nreq))
                print()
                if total:
                    print("program total %d Ir = %.0f Ir per chat request" % (total,
                                                                              total / nreq))
                    print()
                print("| Ir per request | % | function |")
                print("|---:|---:|---|")
                rows = 0
                for line in text.splitlines():
                    mm = re.match(r"^\s*([\d,]+) \(\s*([\d.]+)%\)\s+(\S.*)$", line)
                    if not mm or "PROGRAM TOTALS" in line:
                        continue
                    ir = int(mm.group(1).replace(",", ""))
                    fn = mm.group(3)
                    fn = re.sub(r"^\S+:", "", fn) if ":" in fn else fn
                    fn = fn.split(" [")[0]
                    print("| %.0f | %s | `%s` |" % (ir / nreq, mm.group(2), fn[:90]))
                    rows += 1
                    if rows >= args.top:
                        break
                print()
        if args.out:
            os.makedirs(args.out, exist_ok=True)
            for f in files:
                subprocess.run(["cp", f, args.out])
            log("callgrind files copied to %s" % args.out)
    finally:
        ws.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
