"""Driver of bench/bench-gateway.sh (python3 standard library only).

The gateway (ENABLE_GATEWAY=true, deploy/nginx/chat2api-gateway.conf) next
to the API on the same instance:

  * a proxied SSE conversation (POST /backend-api/conversation with a seed,
    the browser's own sentinel header, so one upstream round trip) against
    bench/fastmock, next to POST /v1/chat/completions stream with
    CONVERSATION_ONLY=true (also one round trip) and fastmock straight:
    time to the first data: line (bench/ttfc) and req/s at 1 and 32
    connections (wrk);
  * a 5 MiB asset through the gateway from tests/mock/chatgpt_site_mock.py
    (Python, 64 KiB writes), next to the mock straight: time to the head,
    time to the last byte, MB/s, and the chat2api processes' RSS sampled
    every 5 ms while it passes.

Prints a markdown report on stdout, progress on stderr.  One host runs
everything: indicative only.
"""

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
SRCDIR = os.path.dirname(BENCH)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(SRCDIR, "tests", "integration"))
sys.path.insert(0, os.path.join(SRCDIR, "tests", "mock"))

import bench_chat as bc  # noqa: E402
import harness  # noqa: E402
import chatgpt_site_mock  # noqa: E402

CODE = "bench-gateway-code-0001"
AT = "eyJbench.gateway.account-token"
SEED = "bench-seed-0001"
ASSET = 5 * 1024 * 1024
GW_HEADERS = {"Authorization": "Bearer " + SEED, "Accept": "text/event-stream",
              "openai-sentinel-chat-requirements-token": "browser-made"}


def download(port, path, rss_pids=None):
    """GET path on a fresh connection: (s to head, s to last byte, bytes,
    peak summed VmRSS kB of rss_pids while it ran)."""
    peak = [0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], sum(bc.rss_kb(p).get("VmRSS", 0) for p in rss_pids))
            time.sleep(0.005)
    th = None
    if rss_pids:
        th = threading.Thread(target=sample, daemon=True)
        th.start()
    s = socket.create_connection(("127.0.0.1", port))
    t0 = time.monotonic()
    s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n"
               % (path, port)).encode())
    head, t_head, n, buf = None, None, 0, b""
    while True:
        d = s.recv(1 << 16)
        if not d:
            break
        if head is None:
            buf += d
            i = buf.find(b"\r\n\r\n")
            if i >= 0:
                t_head = time.monotonic() - t0
                head = buf[:i]
                n += len(buf) - i - 4
                buf = b""
        else:
            n += len(d)
    t_end = time.monotonic() - t0
    s.close()
    stop.set()
    if th:
        th.join()
    return t_head, t_end, n, peak[0]


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if xs else None


def bench_sse(args, tools, binary, res):
    mock = subprocess.Popen([tools["fastmock"], "-P", tools["dir"] + "/fm.port"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        harness.wait_until(lambda: os.path.exists(tools["dir"] + "/fm.port"), 10)
        mport = int(open(tools["dir"] + "/fm.port").read())
        env = {"ENABLE_GATEWAY": "true", "AUTHORIZATION": CODE,
               "CHATGPT_BASE_URL": "http://127.0.0.1:%d" % mport, "CONVERSATION_ONLY": "true",
               "CHATGPT_DELTA_ENCODING": "false", "CHAT2API_THREADS": str(args.threads),
               "CHAT2API_LOG_LEVEL": "warn", "CHAT2API_TEST_ROUTES": "false",
               "RETRY_TIMES": "0", "CHAT2API_SSE_KEEPALIVE": "15"}
        ws = harness.Workspace("bench-gateway-sse")
        fe = harness.Nginx(ws, binary, pfx=False, bench=True, procs=args.procs, variant="gateway")
        fe.app_extra = env
        try:
            fe.start()
            harness.http(fe.port, "POST", "/tokens/upload", json.dumps({"tokens": [AT]}),
                         headers={"Content-Type": "application/json",
                                  "Authorization": "Bearer " + CODE})
            body = json.dumps(bc.CONV_BODY)
            r = harness.http(fe.port, "POST", "/backend-api/conversation", body,
                             headers=dict(GW_HEADERS, **{"Content-Type": "application/json"}))
            if r.status != 200 or b"fastmock" not in r.body:
                raise harness.HarnessError("gateway sanity: " + r.describe())
            bc.sanity(fe.port)
            chat = json.dumps(bc.CHAT_STREAM)
            targets = [("API /v1/chat/completions stream", fe.port, "/v1/chat/completions",
                        chat, {}),
                       ("gateway /backend-api/conversation", fe.port,
                        "/backend-api/conversation", body, GW_HEADERS),
                       ("fastmock straight", mport, "/backend-api/conversation", body, {})]
            for label, port, path, b, h in targets:
                bc.log("ttfc: " + label)
                t = bc.run_ttfc(tools["ttfc"], port, path, b, args.n, 20, h)
                row = {"label": label, "ttfc": t, "wrk": {}}
                script = bc.lua_post(ws, "p%d" % len(res["sse"]), path, b, h)
                for c in (1, 32):
                    bc.log("wrk c=%d: %s" % (c, label))
                    row["wrk"][c] = bc.run_wrk(tools["wrk"], "http://127.0.0.1:%d%s" % (port, path),
                                               c, 1, args.seconds, script, None)
                res["sse"].append(row)
        finally:
            ws.cleanup()
    finally:
        mock.terminate()
        mock.wait(5)


def bench_asset(args, binary, res):
    mock = chatgpt_site_mock.ChatGPTSiteMock().start()
    ws = harness.Workspace("bench-gateway-asset")
    try:
        fe = harness.Nginx(ws, binary, pfx=False, bench=True, procs=args.procs, variant="gateway")
        fe.app_extra = {"ENABLE_GATEWAY": "true", "CHATGPT_BASE_URL": mock.url,
                        "CHAT2API_THREADS": str(args.threads), "CHAT2API_LOG_LEVEL": "warn",
                        "CHAT2API_TEST_ROUTES": "false"}
        fe.start()
        pids = bc.app_pids(fe)
        idle = sum(bc.rss_kb(p).get("VmRSS", 0) for p in pids)
        path = "/assets/big.bin?size=%d" % ASSET
        for label, port, watch in (("site mock straight", mock.port, None),
                                   ("gateway (nginx + chat2api)", fe.port, pids)):
            runs = []
            for _ in range(args.asset_runs):
                runs.append(download(port, path, watch))
            ok = all(r[2] == ASSET for r in runs)
            res["asset"].append({
                "label": label, "ok": ok, "runs": len(runs),
                "head_ms": median([r[0] * 1e3 for r in runs]),
                "total_ms": median([r[1] * 1e3 for r in runs]),
                "mbps": median([ASSET / r[1] / 1e6 for r in runs]),
                "rss_peak_kb": max(r[3] for r in runs) if watch else None,
                "rss_idle_kb": idle if watch else None})
            bc.log("asset: %s done" % label)
    finally:
        ws.cleanup()
        mock.stop()


def report(args, res, binary):
    P = print
    P("Gateway benchmark (bench/bench-gateway.sh), %s, %s, %d vCPU, chat2api %d process(es) x %d "
      "threads; %s" % (time.strftime("%Y-%m-%d %H:%M"), platform.node(), os.cpu_count(),
                       args.procs, args.threads, binary))
    P("")
    P("| request | first data: p50 / p99 (ms) | req/s c=1 | req/s c=32 | p50 c=32 (ms) |")
    P("|---|---|---|---|---|")
    for row in res["sse"]:
        t = row["ttfc"].get("first", {})
        w1, w32 = row["wrk"].get(1, {}), row["wrk"].get(32, {})
        P("| %s | %s / %s | %s | %s | %s |" % (
            row["label"], bc.fmt(t.get("p50"), "%.2f"), bc.fmt(t.get("p99"), "%.2f"),
            bc.fmt(w1.get("rps")), bc.fmt(w32.get("rps")), bc.fmt(w32.get("p50ms"), "%.2f")))
    P("")
    P("| 5 MiB asset | head (ms) | last byte (ms) | MB/s | chat2api RSS idle -> peak (kB) |")
    P("|---|---|---|---|---|")
    for a in res["asset"]:
        P("| %s%s | %.2f | %.1f | %.0f | %s |" % (
            a["label"], "" if a["ok"] else " (SHORT)", a["head_ms"], a["total_ms"], a["mbps"],
            "%d -> %d" % (a["rss_idle_kb"], a["rss_peak_kb"]) if a["rss_peak_kb"] else "-"))


def main():
    ap = argparse.ArgumentParser(description="gateway benchmark")
    ap.add_argument("-d", "--seconds", type=int, default=3, help="wrk seconds per figure (3)")
    ap.add_argument("-n", type=int, default=200, help="ttfc requests (200)")
    ap.add_argument("-p", "--procs", type=int, default=1, help="chat2api processes (1)")
    ap.add_argument("-t", "--threads", type=int, default=32, help="threads per process (32)")
    ap.add_argument("--asset-runs", type=int, default=5, help="downloads per asset figure (5)")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    binary = harness.find_binary()
    tools = {"wrk": harness.which("wrk")}
    ws = harness.Workspace("bench-gateway-tools")
    try:
        tools["dir"] = ws.dir
        subprocess.run(["sh", os.path.join(BENCH, "build.sh"), "-o", ws.dir, "fastmock", "ttfc"],
                       check=True, stdout=subprocess.DEVNULL)
        tools["fastmock"] = ws.path("fastmock")
        tools["ttfc"] = ws.path("ttfc")
        res = {"sse": [], "asset": []}
        bench_sse(args, tools, binary, res)
        bench_asset(args, binary, res)
    finally:
        ws.cleanup()
    report(args, res, binary)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
