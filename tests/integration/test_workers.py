#!/usr/bin/env python3
"""Several chat2api processes behind nginx (spawn-fcgi -F 4):

  * /stats is shared across processes through LMDB: after N concurrent
    requests of known outcome the totals, success/failed and per-model
    counts must be exact;
  * more concurrent streams than processes run in parallel (threads);
  * graceful SIGTERM: streams in flight when every process gets SIGTERM
    still finish (CHAT2API_GRACE=10), then the processes exit.

Env: CHAT2API_BIN (default ./chat2api), CHAT2API_ALLOW_SKIP=1,
     C2A_STATS_N (default 400), C2A_IT_KEEP=1.
"""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import checks  # noqa: E402
import harness  # noqa: E402
from harness import HarnessError, Missing, Results  # noqa: E402

PROCS = 4
MODELS = ["gpt-4o", "gpt-4o-mini", "o1", "o3-mini", "gpt-3.5-turbo", "auto"]


def plan(n):
    """[(method, path, body, content_type, want_status, counted_model)]"""
    jobs = []
    for i in range(n):
        k = i % 8
        if k in (0, 1, 2):
            m = MODELS[i % len(MODELS)]
            jobs.append(("POST", "/_test/echo", '{"model":"%s","messages":[]}' % m,
                         "application/json", 200, m))
        elif k == 3:
            jobs.append(("POST", "/_test/echo", '{"model": "gpt-4o", "messages": [',
                         "application/json", 400, None))           # bad JSON -> failed
        elif k == 4:
            jobs.append(("GET", "/v1/models", None, None, 200, None))
        elif k == 5:
            jobs.append(("GET", "/v1/models/no-such-model", None, None, 404, None))
        elif k == 6:
            jobs.append(("GET", "/_test/echo?x=%d" % i, None, None, 200, None))
        else:
            jobs.append(("POST", "/_test/echo", '[1,2,3]', "application/json", 200, None))
    return jobs


def run_concurrent(port, jobs, threads=32):
    results = [None] * len(jobs)
    idx = [0]
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                k = idx[0]
                idx[0] += 1
            if k >= len(jobs):
                return
            m, path, body, ctype, _, _ = jobs[k]
            hdrs = {"Content-Type": ctype} if ctype else None
            results[k] = harness.http(port, m, path, body=body, headers=hdrs, timeout=30)
    ths = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    return results


def check_stats(r, fe, n):
    port = fe.port
    resp = harness.http(port, "GET", "/stats")
    st = resp.json() or {}
    r.check("fresh store: /stats total=0", resp.status == 200 and st.get("total") == 0,
            resp.describe())
    jobs = plan(n)
    t0 = time.monotonic()
    results = run_concurrent(port, jobs)
    dt = time.monotonic() - t0
    wrong = [(k, jobs[k][0], jobs[k][1], results[k].status, results[k].error)
             for k in range(n) if results[k].status != jobs[k][4]]
    r.check("%d concurrent requests (32 clients, %d processes) answered as planned (%.1fs)"
            % (n, PROCS, dt), not wrong, "%d wrong, first: %r" % (len(wrong), wrong[:5]))
    for _ in range(5):          # requests that must not count
        harness.http(port, "GET", "/health")
        harness.http(port, "GET", "/stats")
        harness.http(port, "GET", "/")
    pids = fe.app_pids()
    r.check("spawn-fcgi started %d chat2api processes" % PROCS, len(pids) == PROCS, repr(pids))

    want_total = n
    want_success = sum(1 for j in jobs if j[4] < 400)
    want_failed = want_total - want_success
    want_models = {}
    for j in jobs:
        if j[5]:
            want_models[j[5]] = want_models.get(j[5], 0) + 1
    resp = harness.http(port, "GET", "/stats")
    st = resp.json() or {}
    r.check("/stats -> 200 JSON", resp.status == 200 and isinstance(st, dict), resp.describe())
    r.equal("/stats total (every /v1/* and /_test/echo request, all processes)",
            st.get("total"), want_total)
    r.equal("/stats success (status < 400)", st.get("success"), want_success)
    r.equal("/stats failed", st.get("failed"), want_failed)
    r.equal("/stats models (requests whose JSON body had a model)", st.get("models"), want_models)
    rate = st.get("success_rate")
    frac = want_success / float(want_total)
    r.check("/stats success_rate = success/total (fraction or percent)",
            isinstance(rate, (int, float)) and (abs(rate - frac) < 1e-3 or abs(rate - 100 * frac) < 0.1),
            "got %r, want %.4f (or %.2f%%)" % (rate, frac, 100 * frac))
    # the same numbers through every process: ask several times (new
    # connection each time, so different processes answer)
    seen = set()
    for _ in range(12):
        st2 = harness.http(port, "GET", "/stats").json() or {}
        seen.add((st2.get("total"), st2.get("success"), st2.get("failed")))
    r.check("/stats agrees across processes", seen == {(want_total, want_success, want_failed)},
            repr(seen))


def check_concurrent_streams(r, fe):
    """More streams than processes at once: threads must serve them in
    parallel (an SSE stream holds its thread for its whole duration)."""
    n = 3 * PROCS
    results = [None] * n

    def stream(k):
        results[k] = harness.http(fe.port, "GET", "/_test/sse?n=4&interval_ms=250", timeout=30)
    t0 = time.monotonic()
    ths = [threading.Thread(target=stream, args=(k,)) for k in range(n)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    dt = time.monotonic() - t0
    ok = sum(1 for x in results if x.status == 200 and checks.parse_sse(x)[2] is not None)
    r.check("%d concurrent 0.75 s streams on %d processes x 8 threads all complete" % (n, PROCS),
            ok == n, "%d/%d complete" % (ok, n))
    r.check("... in parallel (%.2fs for all; serial per process would take >= %.2fs)"
            % (dt, 0.75 * n / PROCS), dt < 2.0, "took %.2fs" % dt)


def check_sigterm(r, fe, ws):
    port = fe.port
    pids = fe.app_pids()
    if not pids:
        r.fail("graceful stop: app pids known", "no pids from spawn-fcgi -P")
        return
    n_streams = 3
    results = [None] * n_streams

    def stream(k):
        results[k] = harness.http(port, "GET", "/_test/sse?n=8&interval_ms=250", timeout=30)
    ths = [threading.Thread(target=stream, args=(k,)) for k in range(n_streams)]
    for t in ths:
        t.start()
    time.sleep(0.6)
    t_term = time.monotonic()
    for pid in pids:
        harness._signal(pid, 15)
    for t in ths:
        t.join()
    t_streams = time.monotonic()
    complete = 0
    for res in results:
        data, comments, done, junk = checks.parse_sse(res)
        if res.status == 200 and len(data) == 8 and done is not None:
            complete += 1
    r.check("graceful stop: %d streams in flight at SIGTERM all finish (8 events + [DONE])"
            % n_streams, complete == n_streams,
            "; ".join(r_.describe()[:200] for r_ in results))
    alive = harness.wait_until(lambda: not [p for p in pids if harness._alive(p)], 12)
    left = [p for p in pids if harness._alive(p)]
    r.check("graceful stop: all %d processes exit after SIGTERM (within CHAT2API_GRACE)"
            % len(pids), alive or not left, "still alive: %r" % left)
    r.note("streams ended %.2fs after SIGTERM; processes gone %.2fs after SIGTERM"
           % (t_streams - t_term, time.monotonic() - t_term))
    resp = harness.http(port, "GET", "/health")
    r.check("graceful stop: afterwards nginx answers 502 (nobody listening)",
            resp.status == 502, resp.describe())


def main():
    r = Results("test_workers")
    harness.install_signal_handlers(int(os.environ.get("C2A_IT_TIMEOUT", "150")))
    ws = None
    try:
        binary = harness.find_binary()
        r.note("binary: %s" % binary)
        try:
            harness.Nginx(None, binary).check_installed()
        except Missing as e:
            if harness.allow_skip():
                r.skip("nginx+spawn-fcgi -F %d" % PROCS, str(e))
                return r.finish()
            raise HarnessError("%s (set CHAT2API_ALLOW_SKIP=1 to skip)" % e)
        ws = harness.Workspace("workers")
        fe = harness.Nginx(ws, binary, pfx=False, procs=PROCS)
        try:
            fe.start()
        except HarnessError as e:
            r.fail("nginx + spawn-fcgi -F %d starts" % PROCS, "%s\n%s" % (e, ws.log_tails()))
            return r.finish()
        r.check("nginx + spawn-fcgi -F %d starts" % PROCS, True)
        n = int(os.environ.get("C2A_STATS_N", "400"))
        before = r.failed
        try:
            check_stats(r, fe, n)
        except Exception:
            import traceback
            r.fail("stats checks (exception)", traceback.format_exc())
        try:
            check_concurrent_streams(r, fe)
        except Exception:
            import traceback
            r.fail("concurrent streams (exception)", traceback.format_exc())
        try:
            check_sigterm(r, fe, ws)
        except Exception:
            import traceback
            r.fail("graceful stop checks (exception)", traceback.format_exc())
        if r.failed != before:
            r.note(ws.log_tails())
    except HarnessError as e:
        r.fail("harness setup", str(e))
    except (KeyboardInterrupt, harness.Timeout) as e:
        r.fail("run interrupted", str(e) or "interrupted")
    finally:
        if ws:
            harness.finish_workspace(r, ws, "workers")
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
