"""Driver of bench/profile-chat.sh (python3 standard library only).

Where chat2api spends instructions, system calls and memory on
/v1/chat/completions, behind nginx (harness.Nginx, the shipped deploy files)
against bench/fastmock:

  callgrind  chat2api under valgrind --tool=callgrind; N sequential
             non-stream + N stream requests; callgrind_annotate's inclusive
             and self tables in instructions (Ir) per chat request
  strace     chat2api as usual, strace -c -f attached for N + N sequential
             requests; system calls per chat request
  massif     chat2api under valgrind --tool=massif with CHAT2API_THREADS=
             S+28, 10 warm-up requests, then S streams held open at once
             (twice); ms_print's peak snapshot (who holds the heap)

--tls: chat2api reaches the mock over HTTPS (bench_chat.tls_front).
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(BENCH), "tests", "integration"))

import harness  # noqa: E402
from bench_chat import (CHAT_NONSTREAM, CHAT_STREAM, app_pids, drain,  # noqa: E402
                        open_streams, post_json, sanity, tls_front)


def log(msg):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def start_mock(ws):
    rc, out = ws.run("build", ["sh", os.path.join(BENCH, "build.sh"), "-o",
                               ws.path("bin"), "fastmock"], timeout=120)
    if rc != 0:
        raise harness.HarnessError("bench/build.sh failed:\n" + out)
    portfile = ws.path("fastmock.port")
    ws.spawn("fastmock", [ws.path("bin", "fastmock"), "-P", portfile])
    if not harness.wait_until(lambda: os.path.exists(portfile), 10):
        raise harness.HarnessError("fastmock did not start")
    with open(portfile) as f:
        return int(f.read())


def app_env(args, mport, threads):
    env = {
        "CHATGPT_BASE_URL": args.upstream or "http://127.0.0.1:%d" % mport,
        "CHATGPT_DELTA_ENCODING": "true" if args.encoding == "v1" else "false",
        "CONVERSATION_ONLY": "true" if args.mode == "conversation-only" else "false",
        "CHAT2API_THREADS": str(threads), "CHAT2API_LOG_LEVEL": "warn",
        "CHAT2API_SSE_KEEPALIVE": "15", "CHAT2API_TEST_ROUTES": "false",
        "RETRY_TIMES": "0", "CHAT2API_GRACE": "5",
    }
    if args.ca_file:
        env["CHAT2API_CA_FILE"] = args.ca_file
    return env


def sequential(port, n):
    for obj in (CHAT_NONSTREAM, CHAT_STREAM):
        for _ in range(n):
            r = post_json(port, obj, timeout=60)
            if r.status != 200:
                raise harness.HarnessError(r.describe())


def annotate_table(annotate, f, inclusive, nreq, top, title):
    p = subprocess.run([annotate, "--inclusive=" + inclusive, "--threshold=100", f],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
    text = p.stdout.decode("utf-8", "replace")
    m = re.search(r"^([\d,]+) .*PROGRAM TOTALS", text, re.M)
    print("### %s (%s)" % (title, "inclusive" if inclusive == "yes" else "self"))
    print()
    if m:
        total = int(m.group(1).replace(",", ""))
        print("program total %d Ir = %.0f Ir per chat request (start-up included)"
              % (total, total / nreq))
        print()
    print("| Ir per request | % | function |")
    print("|---:|---:|---|")
    rows, seen = 0, set()
    for line in text.splitlines():
        mm = re.match(r"^\s*([\d,]+) \(\s*([\d.]+)%\)\s+(\S.*)$", line)
        if not mm or "PROGRAM TOTALS" in line:
            continue
        fn = mm.group(3).split(" [")[0]
        fn = fn.rsplit(":", 1)[-1] if ":" in fn else fn
        if fn in seen or fn.startswith("0x"):
            continue              # a function listed twice; a stripped library symbol
        seen.add(fn)
        print("| %.0f | %s | `%s` |" % (int(mm.group(1).replace(",", "")) / nreq,
                                        mm.group(2), fn[:90]))
        rows += 1
        if rows >= top:
            break
    print()


def run_callgrind(args, binary, ws, mport):
    valgrind, annotate = harness.which("valgrind"), harness.which("callgrind_annotate")
    outdir = ws.mkdir("cg")
    wrapper = ws.write("chat2api-callgrind", "#!/bin/sh\nexec %s --tool=callgrind "
                       "--callgrind-out-file=%s/callgrind.out.%%p %s \"$@\"\n"
                       % (valgrind, outdir, binary), mode=0o755)
    fws = harness.Workspace("profchat-fe")
    try:
        fe = harness.Nginx(fws, wrapper, pfx=False, bench=True, procs=1)
        fe.app_extra = app_env(args, mport, 4)
        fe.start()
        sanity(fe.port)
        sequential(fe.port, args.requests)
    finally:
        fws.cleanup()          # SIGTERM: callgrind writes its file
    files = sorted(os.path.join(outdir, f) for f in os.listdir(outdir))
    if not files:
        raise harness.HarnessError("no callgrind output")
    nreq = 2 * args.requests + 2
    for f in files:
        for inclusive in ("yes", "no"):
            annotate_table(annotate, f, inclusive, nreq, args.top,
                           "callgrind, %s, %s encoding, %d chat requests (%d non-stream + %d "
                           "stream + 2 checks)" % (args.mode, args.encoding, nreq,
                                                   args.requests, args.requests))
    return files


def run_strace(args, binary, ws, mport):
    strace = harness.which("strace")
    fws = harness.Workspace("profchat-fe")
    out = ws.path("strace.txt")
    try:
        fe = harness.Nginx(fws, binary, pfx=False, bench=True, procs=1)
        fe.app_extra = app_env(args, mport, 8)
        fe.start()
        sanity(fe.port)
        sequential(fe.port, 10)                       # warm: curl handles, connections
        pids = app_pids(fe)
        st = subprocess.Popen([strace, "-c", "-f", "-o", out] +
                              [x for p in pids for x in ("-p", str(p))],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        sequential(fe.port, args.requests)
        time.sleep(0.5)
        st.send_signal(signal.SIGINT)
        st.wait(30)
    finally:
        fws.cleanup()
    nreq = 2 * args.requests
    print("### strace -c -f, %s, %s encoding, %d chat requests (%d non-stream + %d stream)"
          % (args.mode, args.encoding, nreq, args.requests, args.requests))
    print()
    print("| syscall | calls per request | µs per call (under strace) |")
    print("|---|---:|---:|")
    total = 0
    with open(out) as f:
        for line in f:
            p = line.split()
            if len(p) >= 5 and re.match(r"^[\d.]+$", p[0]) and p[-1] != "total":
                calls = int(p[3])
                total += calls
                print("| %s | %.2f | %s |" % (p[-1], calls / nreq, p[2]))
    print("| **total** | **%.1f** | |" % (total / nreq))
    print()
    return [out]


def run_massif(args, binary, ws, mport):
    valgrind, ms_print = harness.which("valgrind"), harness.which("ms_print")
    outdir = ws.mkdir("ms")
    wrapper = ws.write("chat2api-massif", "#!/bin/sh\nexec %s --tool=massif --threshold=0.5 "
                       "--max-snapshots=200 --massif-out-file=%s/massif.out.%%p %s \"$@\"\n"
                       % (valgrind, outdir, binary), mode=0o755)
    fws = harness.Workspace("profchat-fe")
    threads = args.streams + 28
    try:
        fe = harness.Nginx(fws, wrapper, pfx=False, bench=True, procs=1)
        fe.app_extra = app_env(args, mport, threads)
        fe.start()
        for _ in range(10):
            post_json(fe.port, CHAT_NONSTREAM, timeout=60)
        for rnd in range(2):
            socks = open_streams(fe.port, args.streams, 1500, timeout=180)
            time.sleep(2.0)
            log("round %d: %d streams open, %d ended with [DONE]" % (
                rnd + 1, args.streams, drain(socks, timeout=180)))
    finally:
        fws.cleanup()
    files = sorted(os.path.join(outdir, f) for f in os.listdir(outdir))
    if not files:
        raise harness.HarnessError("no massif output")
    for f in files:
        p = subprocess.run([ms_print, "--threshold=1", f], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=300)
        text = p.stdout.decode("utf-8", "replace")
        m = re.search(r"Detailed snapshots: \[.*?(\d+) \(peak\)", text)
        print("### massif, %s, %s encoding: CHAT2API_THREADS=%d, %d streams open at once "
              "(peak snapshot)" % (args.mode, args.encoding, threads, args.streams))
        print()
        print("```")
        if m:
            lines = text.splitlines()
            start = next((i for i, ln in enumerate(lines)
                          if re.match(r"^\s*%s\s+[\d,]+" % m.group(1), ln)), None)
            shown = 0
            for ln in lines[start:] if start is not None else []:
                # keep the top of each allocation tree (3 levels) to stay short
                if shown and re.match(r"^\s*\d+\s+[\d,]+\s+[\d,]+", ln):
                    break
                depth = len(re.match(r"^([| ]*)", ln).group(1)) // 2
                if depth <= 3 and ln.strip() not in ("|", ""):
                    print(ln[:150])
                shown += 1
        else:
            print(text[:6000])
        print("```")
        print()
    return files


def main():
    ap = argparse.ArgumentParser(description="profiles of chat2api's chat path")
    ap.add_argument("tool", nargs="?", default="callgrind",
                    choices=("callgrind", "strace", "massif"))
    ap.add_argument("-n", "--requests", type=int, default=200,
                    help="sequential requests of each kind, non-stream and stream (200)")
    ap.add_argument("-s", "--streams", type=int, default=100,
                    help="massif: streams held open at once (100)")
    ap.add_argument("-m", "--mode", choices=("sentinel", "conversation-only"),
                    default="sentinel")
    ap.add_argument("-e", "--encoding", choices=("old", "v1"), default="old")
    ap.add_argument("-o", "--out", metavar="DIR", help="keep the raw profiles here")
    ap.add_argument("--top", type=int, default=40, help="rows per callgrind table (40)")
    ap.add_argument("--tls", action="store_true",
                    help="chat2api reaches the mock over HTTPS (an nginx ends TLS before it)")
    args = ap.parse_args()

    harness.install_signal_handlers(3600)
    binary = harness.find_binary()
    ws = harness.Workspace("profchat")
    tls_proc = None
    args.upstream = args.ca_file = None
    try:
        mport = start_mock(ws)
        if args.tls:
            args.upstream, args.ca_file, tls_proc = tls_front(ws.mkdir("tls"), mport)
        files = {"callgrind": run_callgrind, "strace": run_strace,
                 "massif": run_massif}[args.tool](args, binary, ws, mport)
        if args.out:
            os.makedirs(args.out, exist_ok=True)
            for f in files:
                subprocess.run(["cp", f, args.out])
            log("raw profiles copied to %s" % args.out)
    finally:
        if tls_proc is not None:
            tls_proc.terminate()
            tls_proc.wait()
        ws.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
