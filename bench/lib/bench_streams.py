"""Driver of bench/bench-streams.sh (python3 standard library only).

N SSE streams open at once through nginx + spawn-fcgi chat2api against
bench/fastmock, which paces a ChatGPT v1 answer: -e text deltas, one every
-i ms, each stamped with its send time.  bench/streams (C, epoll) opens the
streams at -r per second and measures every stamp's delay from the mock's
send to its own read.  The same client straight at the mock is the
baseline.  Reported: the delay percentiles, the streams that got every
event, chat2api's RSS before, with the streams open and after (per stream,
round 1 in processes that never served a stream = cold, round 2 in the same
processes, on memory the first round gave back = warm), and the CPU time of
each party per streamed event.
With --tls chat2api reaches the mock over HTTPS: a second nginx in front of
fastmock ends TLS with a certificate of a test CA (openssl command), which
chat2api trusts through CHAT2API_CA_FILE; its CPU counts as other load.
Prints a markdown report on stdout, progress on stderr.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
SRCDIR = os.path.dirname(BENCH)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(SRCDIR, "tests", "integration"))

import harness  # noqa: E402
from bench_chat import (WORKER_STACK, CpuMeter, app_pids, frontend_groups, tls_front,  # noqa: E402
                        rss_kb, smaps_total)


def log(msg):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def body(interval):
    return json.dumps({"model": "gpt-4o", "stream": True, "messages": [
        {"role": "user", "content": "fastmock-stamp fastmock-delay=%d" % interval}]})


def stack_rss(pids):
    """Rss (kB) of every worker stack (the 512 KiB mappings): the pages a
    thread has touched, i.e. its deepest use so far, rounded up to a page,
    plus its TLS and thread descriptor at the top."""
    out = []
    for pid in pids:
        size = 0
        try:
            with open("/proc/%d/smaps" % pid) as f:
                for line in f:
                    first = line.split(None, 1)[0]
                    if "-" in first and not first.endswith(":"):
                        a, b = (int(x, 16) for x in first.split("-"))
                        size = b - a
                    elif first == "Rss:" and size == WORKER_STACK:
                        out.append(int(line.split()[1]))
        except OSError:
            pass
    return sorted(out)


def run_client(args, binary, port, path):
    """Runs bench/streams; returns its key=value line as a dict."""
    argv = [binary, "-p", str(port), "-u", path, "-b", body(args.interval),
            "-n", str(args.streams), "-r", str(args.rate), "-e", str(args.events),
            "-t", str(args.timeout)]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def parse_client(p):
    out, err = p.communicate()
    kv = dict(x.split("=", 1) for x in out.split() if "=" in x)
    if "streams" not in kv:
        raise harness.HarnessError("bench/streams failed (%d): %s%s" % (p.returncode, out, err))
    return {k: float(v) for k, v in kv.items()}


def measure(args, client_bin, port, path, rss_pids=None, cpu=None):
    """One round: the client, RSS sampled while it runs, CPU diff."""
    res = {}
    c0 = cpu.snap() if cpu else None
    p = run_client(args, client_bin, port, path)
    peak = 0
    # every stream open and past its first stamped event (3 events before)
    hold = time.monotonic() + args.streams / args.rate + 4 * args.interval / 1000.0 + 0.5
    while p.poll() is None:
        if rss_pids:
            v = sum(rss_kb(x).get("VmRSS", 0) for x in rss_pids())
            peak = max(peak, v)
            if hold and time.monotonic() >= hold:
                # all streams are open by now (the client says if not)
                res["open_rss"] = v
                res["open_smaps"] = smaps_total(rss_pids())
                res["open_threads"] = sum(rss_kb(x).get("Threads", 0) for x in rss_pids())
                res["stacks"] = stack_rss(rss_pids())
                hold = None
        time.sleep(0.25)
    res["client"] = parse_client(p)
    if cpu:
        res["cpu"] = CpuMeter.diff(c0, cpu.snap())
    res["peak_rss"] = peak
    return res


def app_env(args, mock_url):
    env = {
        "CHATGPT_BASE_URL": mock_url,
        "CHATGPT_DELTA_ENCODING": "true",
        "CONVERSATION_ONLY": "true",
        "CHAT2API_THREADS": str(args.threads),
        "CHAT2API_LOG_LEVEL": "warn",
        "CHAT2API_SSE_KEEPALIVE": "15",
        "CHAT2API_TEST_ROUTES": "false",
        "RETRY_TIMES": "0",
    }
    for kv in args.env:
        k, _, v = kv.partition("=")
        env[k] = v
    return env


def fmt_delay(c, pfx=""):
    if c.get(pfx + "p50", -1) < 0:
        return "–"
    return "%.3f / %.3f / **%.3f** / %.3f / %.3f" % tuple(
        c[pfx + k] for k in ("p50", "p90", "p99", "p999", "max"))


def report(args, res):
    P = print
    P("### bench/bench-streams.sh, %s" % time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    P()
    P("- %d streams, opened at %d/s; each answer %d stamped deltas, one every %d ms "
      "(fastmock -S %d, fastmock-delay=%d), ChatGPT v1, CONVERSATION_ONLY=true"
      % (args.streams, args.rate, args.events, args.interval, args.events, args.interval))
    P("- chat2api: %d process(es) x %d threads (spawn-fcgi), nginx %s worker(s) with %s; "
      "extra env: %s"
      % (args.procs, args.threads, os.environ.get("C2A_NGINX_WORKERS", "1"),
         "worker_connections 1024" if args.nginx_defaults else
         "deploy/nginx/streams.conf's limits", " ".join(args.env) or "none"))
    if args.tls:
        P("- upstream over TLS: an nginx (1 worker) ends TLS in front of fastmock; chat2api "
          "trusts its test CA through CHAT2API_CA_FILE")
    P("- load average before / after: %s / %s" % (res["load0"], res["load1"]))
    P()
    P("Delays in ms, p50 / p90 / p99 / p99.9 / max: \"all\" over every event, \"steady\" "
      "over the events read once every stream was open (no stream set-up competing).")
    P()
    P("| path | round | streams ok | events (steady) | delay, all | delay, steady "
      "| max open | all open after |")
    P("|---|---|---:|---:|---|---|---:|---:|")
    rows = [("client → fastmock (baseline)", "-", res["baseline"])]
    rows += [("client → nginx → chat2api", r["name"], r) for r in res["rounds"]]
    for label, rnd, r in rows:
        c = r["client"]
        P("| %s | %s | %d / %d | %d (%d) | %s | %s | %d | %s |" % (
            label, rnd, c["ok"], c["streams"], c["stamps"], c["steady_stamps"], fmt_delay(c),
            fmt_delay(c, "steady_"), c["max_open"],
            "%.2f s" % c["all_open_s"] if c["all_open_s"] >= 0 else "never"))
    P()
    P("RSS of chat2api (VmRSS summed over its processes, kB); per stream = (open − before) / "
      "streams, open = sampled once every stream has had its first event; at peak = (peak − "
      "before) / streams; the breakdown is the open − before difference of smaps Rss by "
      "mapping kind, per stream:")
    P()
    P("| round | before | open | peak | after | per stream | per stream at peak | arenas | heap "
      "| stacks | other anon |")
    P("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in res["rounds"]:
        d = {k: (r.get("open_smaps", {}).get(k, 0) - r["smaps_before"].get(k, 0)) / args.streams
             for k in ("arenas", "heap", "stacks", "other anon")}
        P("| %s | %d | %d | %d | %d | **%.1f kB** | %.1f kB | %.1f | %.1f | %.1f | %.1f |" % (
            r["name"], r["before"], r.get("open_rss", 0), r["peak_rss"], r["after"],
            (r.get("open_rss", 0) - r["before"]) / args.streams,
            (r["peak_rss"] - r["before"]) / args.streams, d["arenas"], d["heap"],
            d["stacks"], d["other anon"]))
    P()
    if "idle_rss" in res:
        P("- %d s after the last round, with no stream open: %d kB (%d kB at the start)" % (
            args.idle_after, res["idle_rss"], res["start_rss"]))
    for r in res["rounds"]:
        st = r.get("stacks") or [0]
        P("- %s: stacks touched (Rss of the %d KiB mappings: coroutines' and threads', %d): median %d kB, "
          "max %d kB" % (r["name"], WORKER_STACK >> 10, len(st), st[len(st) // 2], st[-1]))
    P()
    P("CPU time per streamed event (µs; events = the stamped deltas the client received; "
      "each answer also has ~7 unstamped events):")
    P()
    P("| round | chat2api | nginx | fastmock | client | Σ | other load (cores) |")
    P("|---|---:|---:|---:|---:|---:|---:|")
    for r in res["rounds"]:
        cpu, ev = r["cpu"], max(r["client"]["stamps"], 1)
        parts = [cpu.get(k, 0) * 1e6 / ev for k in ("chat2api", "nginx", "mock", "client")]
        ours = sum(v for k, v in cpu.items() if k not in ("host_busy", "host_steal", "wall"))
        P("| %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.2f |" % (
            r["name"], parts[0], parts[1], parts[2], parts[3], sum(parts),
            (cpu["host_busy"] - ours) / cpu["wall"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", "--streams", type=int, default=2000)
    ap.add_argument("-e", "--events", type=int, default=20, help="stamped deltas per answer")
    ap.add_argument("-i", "--interval", type=int, default=500, help="ms between events")
    ap.add_argument("-r", "--rate", type=int, default=500, help="streams opened per second")
    ap.add_argument("-p", "--procs", type=int, default=2, help="chat2api processes")
    ap.add_argument("-t", "--threads", type=int, default=32,
                    help="threads per process (default 32: streams park, "
                    "threads only set them up)")
    ap.add_argument("--rounds", type=int, default=2, help="1 = cold, 2.. = warm")
    ap.add_argument("--mock-threads", type=int, default=1)
    ap.add_argument("--timeout", type=int, default=180)
    ap.add_argument("-E", "--env", action="append", default=[],
                    help="KEY=VALUE for chat2api (e.g. MALLOC_ARENA_MAX=1)")
    ap.add_argument("--nginx-defaults", action="store_true",
                    help="nginx without deploy/nginx/streams.conf (worker_connections 1024)")
    ap.add_argument("--idle-after", type=int, default=12,
                    help="RSS this many seconds after the last round (0: not)")
    ap.add_argument("--tls", action="store_true",
                    help="chat2api reaches the mock over HTTPS (an nginx ends TLS before it)")
    ap.add_argument("--json", help="write the raw results there")
    args = ap.parse_args()
    if not 1 <= args.events <= 48:
        ap.error("-e: 1..48 (fastmock -S)")
    if args.threads <= 0:
        ap.error("-t: at least 1")
    # deploy/nginx/streams.conf says "worker_processes auto": one per CPU
    os.environ.setdefault("C2A_NGINX_WORKERS", str(os.cpu_count() or 1))
    binary = os.environ.get("CHAT2API_BIN") or os.path.join(SRCDIR, "chat2api")
    tmp = tempfile.mkdtemp(prefix="bench-streams-")
    subprocess.run([os.path.join(BENCH, "build.sh"), "-o", tmp, "fastmock", "streams"],
                   check=True, stdout=subprocess.DEVNULL)
    client = os.path.join(tmp, "streams")
    portfile = os.path.join(tmp, "port")
    mock = subprocess.Popen([os.path.join(tmp, "fastmock"), "-S", str(args.events), "-t",
                             str(args.mock_threads), "-P", portfile],
                            stdout=subprocess.DEVNULL)
    res = {"load0": "%.2f %.2f %.2f" % os.getloadavg(), "rounds": []}
    ws = None
    tls_proc = None
    try:
        if not harness.wait_until(lambda: os.path.exists(portfile) or mock.poll() is not None,
                                  10) or mock.poll() is not None:
            raise harness.HarnessError("fastmock did not start")
        with open(portfile) as f:
            mport = int(f.read())
        log("baseline: %d streams straight at fastmock" % args.streams)
        res["baseline"] = measure(args, client, mport, "/backend-anon/conversation")
        log("  %s" % res["baseline"]["client"])
        ws = harness.Workspace("bench-streams")
        fe = harness.Nginx(ws, binary, pfx=False, bench=True, procs=args.procs)
        fe.streams = not args.nginx_defaults
        upstream = "http://127.0.0.1:%d" % mport
        if args.tls:
            upstream, ca, tls_proc = tls_front(tmp, mport)
            log("TLS in front of the mock at %s" % upstream)
        fe.app_extra = app_env(args, upstream)
        if args.tls:
            fe.app_extra.setdefault("CHAT2API_CA_FILE", ca)
        fe.start()
        groups = frontend_groups(ws, fe, mock.pid)
        groups["mock"] = lambda: [mock.pid]
        cpu = CpuMeter(groups)
        time.sleep(1.0)
        before = sum(rss_kb(p).get("VmRSS", 0) for p in app_pids(fe))
        sm_before = smaps_total(app_pids(fe))
        for rnd in range(1, args.rounds + 1):
            name = "cold" if rnd == 1 else "warm %d" % (rnd - 1)
            log("round %d (%s): %d streams through nginx + chat2api" % (rnd, name, args.streams))
            r = measure(args, client, fe.port, "/v1/chat/completions",
                        rss_pids=lambda: app_pids(fe), cpu=cpu)
            time.sleep(1.0)
            r.update(name=name, before=before, smaps_before=sm_before,
                     after=sum(rss_kb(p).get("VmRSS", 0) for p in app_pids(fe)))
            log("  %s; RSS before %d, open %d, after %d kB" % (
                r["client"], before, r.get("open_rss", 0), r["after"]))
            res["rounds"].append(r)
            before, sm_before = r["after"], smaps_total(app_pids(fe))
        if args.idle_after > 0:
            # chat2api gives freed memory back once nothing is parked
            time.sleep(args.idle_after)
            res["idle_rss"] = sum(rss_kb(p).get("VmRSS", 0) for p in app_pids(fe))
            res["start_rss"] = res["rounds"][0]["before"] if res["rounds"] else 0
            log("RSS %d s after the last round: %d kB" % (args.idle_after, res["idle_rss"]))
    except Exception:
        if ws:
            log(ws.log_tails())
        raise
    finally:
        if ws:
            ws.cleanup()
        mock.terminate()
        mock.wait()
        if tls_proc is not None:
            tls_proc.terminate()
            tls_proc.wait()
    res["load1"] = "%.2f %.2f %.2f" % os.getloadavg()
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "results": res}, f, indent=1)
    report(args, res)


if __name__ == "__main__":
    main()
