#!/usr/bin/env python3
"""Many open streams: the tools of bench/bench-streams.sh and the shipped
limits they rely on.

  * bench/fastmock's stamped answer (-S N, "fastmock-stamp" in the body):
    N text deltas, each "@" + 16 digits of microseconds + ";", paced;
  * bench/streams counts every stamp of every stream and measures sane
    delays straight at the mock, and calls a stream short (exit 1) when
    it expects more stamps than the answer has;
  * nginx started with deploy/nginx/streams.conf's limits (the file's
    worker_connections and worker_rlimit_nofile are in nginx.conf) carries
    C2A_STREAMS_N streams (default 60) at once through chat2api: every
    stream gets every stamp, in order, and [DONE];
  * a parked ChatGPT stream keeps one page of its stack (chat2api's debug
    log says how deep each park is; not under AddressSanitizer, whose
    frames are larger and whose stacks are not trimmed).

Env: CHAT2API_BIN, CHAT2API_ALLOW_SKIP=1, C2A_STREAMS_N, C2A_IT_KEEP=1.
"""

import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import HarnessError, Missing, Results  # noqa: E402

SRCDIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STAMPS = 5
PACE_MS = 40


def body(pace):
    return json.dumps({"model": "gpt-4o", "stream": True, "messages": [
        {"role": "user", "content": "fastmock-stamp fastmock-delay=%d" % pace}]})


def client(tools, port, path, n, expect):
    p = subprocess.run([os.path.join(tools, "streams"), "-p", str(port), "-u", path,
                        "-b", body(PACE_MS), "-n", str(n), "-r", "500", "-e", str(expect),
                        "-t", "60"], capture_output=True, text=True, timeout=90)
    kv = dict(x.split("=", 1) for x in p.stdout.split() if "=" in x)
    return p.returncode, {k: float(v) for k, v in kv.items()}, p.stdout + p.stderr


def check_mock(r, ws, tools, mport):
    # the raw answer: stamps in order, µs of this epoch, paced
    resp = harness.http(mport, "POST", "/backend-anon/conversation", body=body(PACE_MS),
                        headers={"Content-Type": "application/json"}, timeout=10)
    text = resp.body.decode("utf-8", "replace")
    stamps = [int(x) for x in re.findall(r"@(\d{16});", text)]
    r.check("fastmock -S %d: %d stamps in the answer" % (STAMPS, STAMPS),
            len(stamps) == STAMPS, resp.describe())
    if len(stamps) == STAMPS:
        gaps = [(b - a) / 1000.0 for a, b in zip(stamps, stamps[1:])]
        r.check("stamps paced %d ms apart (got %s)" % (PACE_MS, gaps),
                all(PACE_MS * 0.8 <= g <= PACE_MS * 5 for g in gaps))
    rc, kv, out = client(tools, mport, "/backend-anon/conversation", 20, STAMPS)
    r.check("streams -> fastmock: 20 of 20 streams ok, %d stamps" % (20 * STAMPS),
            rc == 0 and kv.get("ok") == 20 and kv.get("stamps") == 20 * STAMPS, out)
    r.check("streams -> fastmock: delays measured (0 <= p50 <= max < 1 s)",
            0 <= kv.get("p50", -1) <= kv.get("max", -1) < 1000, out)
    rc, kv, out = client(tools, mport, "/backend-anon/conversation", 5, STAMPS + 1)
    r.check("streams expecting %d stamps calls all 5 streams short (exit 1)" % (STAMPS + 1),
            rc == 1 and kv.get("ok") == 0 and kv.get("bad") == 5, out)


def check_through(r, ws, binary, tools, mport):
    n = int(os.environ.get("C2A_STREAMS_N", "60"))
    fe = harness.Nginx(ws, binary, pfx=False, procs=2)
    fe.streams = True
    fe.app_extra = {"CHATGPT_BASE_URL": "http://127.0.0.1:%d" % mport,
                    "CONVERSATION_ONLY": "true", "CHAT2API_THREADS": str(n // 2 + 8),
                    "CHAT2API_TEST_ROUTES": "false", "RETRY_TIMES": "0",
                    "CHAT2API_LOG_LEVEL": "debug"}
    fe.start()
    limits = harness.nginx_limits()
    with open(ws.path("nginx", "conf", "nginx.conf")) as f:
        conf = f.read()
    r.check("nginx.conf has deploy/nginx/streams.conf's limits %s" % limits,
            "worker_connections %s;" % limits["worker_connections"] in conf and
            "worker_rlimit_nofile %s;" % limits["worker_rlimit_nofile"] in conf, conf)
    rc, kv, out = client(tools, fe.port, "/v1/chat/completions", n, STAMPS)
    r.check("%d streams through nginx + chat2api: all ok, %d stamps, %d open at once"
            % (n, n * STAMPS, n), rc == 0 and kv.get("ok") == n and
            kv.get("stamps") == n * STAMPS and kv.get("max_open") == n, out)
    # one stream read whole: the stamps reach the client in the mock's order
    resp = harness.http(fe.port, "POST", "/v1/chat/completions", body=body(PACE_MS),
                        headers={"Content-Type": "application/json"}, timeout=30)
    text = resp.body.decode("utf-8", "replace")
    stamps = [int(x) for x in re.findall(r"@(\d{16});", text)]
    r.check("one stream: %d stamps in order, then [DONE]" % STAMPS,
            len(stamps) == STAMPS and stamps == sorted(stamps) and
            text.rstrip().endswith("data: [DONE]"), text[-600:])
    check_stack(r, ws, binary, n)


def sanitized(binary):
    with open(binary, "rb") as f:
        return b"__asan_init" in f.read()


def check_stack(r, ws, binary, n):
    name = "a parked ChatGPT stream keeps one 4 KiB page of its stack"
    if sanitized(binary):
        r.skip(name, "AddressSanitizer build: larger frames, stacks not trimmed")
        return
    try:
        with open(ws.path("log", "app-main.log"), errors="replace") as f:
            log = f.read()
    except OSError as e:
        r.fail(name, "no log: %s" % e)
        return
    depths = [int(x) for x in re.findall(r"parked with (\d+) bytes of stack in use", log)]
    r.check("%s (%d parks logged, the deepest %s bytes)"
            % (name, len(depths), max(depths) if depths else "-"),
            len(depths) >= n and max(depths) <= 4096, log[-2000:])


def main():
    r = Results("test_streams")
    harness.install_signal_handlers(int(os.environ.get("C2A_IT_TIMEOUT", "150")))
    ws = None
    try:
        binary = harness.find_binary()
        try:
            harness.Nginx(None, binary).check_installed()
            harness.which("cc")
        except Missing as e:
            if harness.allow_skip():
                r.skip("many open streams", str(e))
                return r.finish()
            raise HarnessError("%s (set CHAT2API_ALLOW_SKIP=1 to skip)" % e)
        ws = harness.Workspace("streams")
        tools = ws.mkdir("tools")
        rc, out = ws.run("build", [os.path.join(SRCDIR, "bench", "build.sh"), "-o", tools,
                                   "fastmock", "streams"], timeout=120)
        if not r.check("bench/build.sh fastmock streams", rc == 0, out):
            return r.finish()
        portfile = ws.path("tools", "port")
        ws.spawn("fastmock", [os.path.join(tools, "fastmock"), "-S", str(STAMPS),
                                     "-P", portfile])
        if not harness.wait_until(lambda: os.path.exists(portfile), 10):
            raise HarnessError("fastmock did not start")
        with open(portfile) as f:
            mport = int(f.read())
        before = r.failed
        check_mock(r, ws, tools, mport)
        check_through(r, ws, binary, tools, mport)
        if r.failed != before:
            r.note(ws.log_tails())
    except HarnessError as e:
        r.fail("harness setup", str(e))
    except (KeyboardInterrupt, harness.Timeout) as e:
        r.fail("run interrupted", str(e) or "interrupted")
    finally:
        if ws:
            harness.finish_workspace(r, ws, "streams")
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
