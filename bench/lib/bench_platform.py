"""Driver of bench/bench-platform.sh (python3 standard library only)."""

import argparse
import os
import platform
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "tests", "integration"))

import harness  # noqa: E402


def parse_wrk(out):
    def grab(pattern, conv=float, default=None):
        m = re.search(pattern, out, re.M)
        return conv(m.group(1)) if m else default
    res = {
        "rps": grab(r"^Requests/sec:\s+([\d.]+)"),
        "requests": grab(r"^\s*(\d+) requests in", int, 0),
        "p50": grab(r"^\s+50%\s+(\S+)", str),
        "p99": grab(r"^\s+99%\s+(\S+)", str),
        "non2xx": grab(r"Non-2xx or 3xx responses:\s+(\d+)", int, 0),
    }
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    res["sockerr"] = sum(int(x) for x in m.groups()) if m else 0
    return res


def run_wrk(wrk, url, conns, threads, seconds):
    cmd = [wrk, "-t%d" % threads, "-c%d" % conns, "-d%ds" % seconds, "--latency", url]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=seconds + 30)
    out = p.stdout.decode("utf-8", "replace")
    if p.returncode != 0:
        raise harness.HarnessError("wrk failed (%d): %s" % (p.returncode, out))
    return parse_wrk(out), out


def main():
    ap = argparse.ArgumentParser(description="wrk through nginx + spawn-fcgi chat2api")
    ap.add_argument("-d", "--duration", type=int, default=10, help="seconds per run (10)")
    ap.add_argument("-p", "--procs", type=int, default=1, help="chat2api processes (spawn-fcgi -F)")
    ap.add_argument("-t", "--threads", type=int, default=32, help="CHAT2API_THREADS (32)")
    ap.add_argument("-l", "--log-level", default="warn", help="CHAT2API_LOG_LEVEL (warn)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print raw wrk output")
    args = ap.parse_args()

    load0 = " ".join("%.2f" % x for x in os.getloadavg())
    wrk = harness.which("wrk")
    binary = harness.find_binary()
    ws = harness.Workspace("bench")
    rows = []
    try:
        fe = harness.Nginx(ws, binary, pfx=False, bench=True, procs=args.procs)
        fe.app_extra = {"CHAT2API_THREADS": str(args.threads),
                        "CHAT2API_LOG_LEVEL": args.log_level}
        fe.start()
        targets = [
            ("nginx `return 200` (ceiling)", fe.pfx_port, "/ceiling"),
            ("chat2api GET /health", fe.port, "/health"),
            ("chat2api GET /v1/models", fe.port, "/v1/models"),
        ]
        size = {}
        for label, port, path in targets:
            resp = harness.http(port, "GET", path)
            if resp.status != 200:
                raise harness.HarnessError("%s: %s" % (path, resp.describe()))
            size[path] = len(resp.body)
        for label, port, path in targets:
            url = "http://127.0.0.1:%d%s" % (port, path)
            run_wrk(wrk, url, 4, 1, 1)            # warm-up
            for conns, threads in ((1, 1), (32, 2)):
                res, out = run_wrk(wrk, url, conns, threads, args.duration)
                if args.verbose:
                    sys.stderr.write("### %s c=%d\n%s\n" % (path, conns, out))
                rows.append((label, size[path], conns, threads, res))
                sys.stderr.write("  %-32s c=%-3d %10.0f req/s\n" % (label, conns, res["rps"] or 0))
        errors_total = sum(r[4]["non2xx"] + r[4]["sockerr"] for r in rows)
    finally:
        ws.cleanup()

    try:
        load = " ".join("%.2f" % x for x in os.getloadavg())
    except OSError:
        load = "?"
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"model name\s*:\s*(.*)", f.read())
            cpu = m.group(1).strip() if m else ""
    except OSError:
        pass
    nginx_v = subprocess.run([harness.which("nginx"), "-v"], stderr=subprocess.PIPE,
                             stdout=subprocess.PIPE).stderr.decode().strip().split("/")[-1]
    print("### chat2api platform benchmark (%s)" % time.strftime("%Y-%m-%d"))
    print()
    print("- host: Linux %s, %d vCPU (%s), load average %s before / %s after; wrk on the "
          "same host over loopback (indicative only)"
          % (platform.release(), os.cpu_count() or 0, cpu, load0, load))
    print("- nginx %s, 1 worker, access_log off, fastcgi_buffering off, new unix-socket "
          "connection per request (deploy/nginx/chat2api.conf)" % nginx_v)
    print("- chat2api: %d process(es) x %d threads under spawn-fcgi, CHAT2API_LOG_LEVEL=%s; "
          "%d s per run, -t1 at c=1, -t2 at c=32" % (args.procs, args.threads, args.log_level,
                                                    args.duration))
    print()
    print("| target | body bytes | conns | req/s | p50 | p99 | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, nbytes, conns, threads, res in rows:
        errs = res["non2xx"] + res["sockerr"]
        print("| %s | %d | %d | %s | %s | %s | %d |" % (
            label, nbytes, conns, "%.0f" % res["rps"] if res["rps"] else "?",
            res["p50"] or "?", res["p99"] or "?", errs))
    return 1 if errors_total else 0


if __name__ == "__main__":
    sys.exit(main())
