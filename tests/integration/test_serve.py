#!/usr/bin/env python3
"""The README's first command, deploy/dev/serve.sh, run the way a user runs
it: nginx + spawn-fcgi on a local port, LMDB data in a local dir, in the
foreground.  CHAT2API_BIN makes it serve this build instead of building in
the source tree.  With CHATGPT_BASE_URL pointed at the ChatGPT mock, the
official openai npm client gets correct answers in both upstream formats,
streamed and not, anonymous and with an access token.  Then Ctrl-C (SIGINT
to the foreground process group) must stop every process it started.

Env: CHAT2API_BIN, CHAT2API_ALLOW_SKIP=1, C2A_IT_KEEP=1.
"""

import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "mock"))

import harness  # noqa: E402
from harness import HarnessError, Missing, Results  # noqa: E402
import chatgpt_mock  # noqa: E402
import test_chat  # noqa: E402

SERVE = os.path.join(os.path.dirname(os.path.dirname(HERE)), "deploy", "dev", "serve.sh")
if os.environ.get("top_srcdir"):
    SERVE = os.path.abspath(os.path.join(os.environ["top_srcdir"], "deploy", "dev", "serve.sh"))


def openai(cdir, port, *args):
    p = subprocess.run([harness.which("node"), os.path.join(cdir, "openai_client.mjs"),
                        "http://127.0.0.1:%d/v1" % port] + list(args),
                       capture_output=True, text=True, timeout=60)
    try:
        return json.loads(p.stdout.strip().splitlines()[-1])
    except Exception:  # noqa: BLE001
        return {"error": {"message": "no output: " + p.stdout + p.stderr}}


def one_format(r, binary, cdir, fmt):
    label = "serve.sh (%s)" % fmt
    ws = harness.Workspace("serve-" + fmt)
    mock = chatgpt_mock.ChatGPTMock().start()
    proc = None
    try:
        for prog in ("nginx", "spawn-fcgi", "curl"):
            harness.which(prog)
        port = harness.free_port()
        data = ws.path("data")
        env = dict(harness.sanitizer_env(ws), PORT=str(port), DATA=data, PROCS="2",
                   CHAT2API_BIN=binary, CHATGPT_BASE_URL=mock.url,
                   CHATGPT_DELTA_ENCODING="true" if fmt == "v1" else "false",
                   HOME=os.environ.get("HOME", "/root"))
        proc = ws.spawn("serve", ["bash", SERVE], env=env)
        out_path = ws.path("log", "serve.out")

        def banner():
            return open(out_path, errors="replace").read() if os.path.exists(out_path) else ""

        up = harness.wait_until(lambda: proc.poll() is None and harness.http(
            port, "GET", "/health", timeout=2).status == 200, 30)
        if not r.check(label + ": serves /health on its port", bool(up), banner()[-1500:]):
            return
        said = harness.wait_until(lambda: "is serving on http://127.0.0.1:%d" % port in banner(),
                                  10)
        r.check(label + ": says where it serves", bool(said), banner()[-400:])
        for token, mode, model, prompt in (
                (test_chat.AT, "stream", "gpt-4o", "streamed with a token"),
                ("", "nonstream", "gpt-4o-mini", "anonymous, in one piece"),
                ("", "stream", "gpt-4o", "anonymous stream"),
                (test_chat.AT, "nonstream", "gpt-4o", "token, in one piece")):
            out = openai(cdir, port, token, mode, model, prompt)
            who = "access token" if token else "anonymous"
            r.check("%s: openai npm, %s, %s" % (label, mode, who),
                    not out.get("error") and "You said: " + prompt in out.get("content", ""),
                    json.dumps(out)[:400])
        st = mock.snapshot()
        r.check(label + ": the mock served it in the %s format" % fmt,
                st.get("requests", {}).get("conversation", 0) >= 4 and
                (st.get("last_conversation") or {}).get("format") == fmt and
                st.get("proofs_failed", 0) == 0, "%s format=%s" % (
                    st.get("requests"), (st.get("last_conversation") or {}).get("format")))
        r.check(label + ": LMDB data under DATA", os.path.exists(os.path.join(data, "data.mdb")),
                str(os.listdir(data) if os.path.isdir(data) else "no dir"))
        # Ctrl-C: the terminal signals the whole foreground process group.
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        left = harness.wait_until(lambda: not ws.tagged_pids(), 10)
        r.check(label + ": Ctrl-C stops serve.sh, nginx and every chat2api worker",
                proc.poll() is not None and bool(left),
                "serve rc=%s, left: %s" % (proc.poll(), ws.tagged_pids()))
        resp = harness.http(port, "GET", "/health", timeout=2)
        r.check(label + ": the port is closed afterwards",
                (resp.error or "").startswith("connect"), resp.describe())
    except HarnessError as e:
        harness.report_setup(r, label, e)
    finally:
        mock.stop()
        harness.finish_workspace(r, ws, "serve-" + fmt)


def main():
    r = Results("test_serve")
    harness.install_signal_handlers(300)
    binary = harness.find_binary()
    try:
        cdir = test_chat.client_dir()
    except (Missing, HarnessError) as e:
        if harness.allow_skip():
            r.skip("openai client", str(e))
            return r.finish()
        r.fail("openai client: setup", str(e))
        return r.finish()
    for fmt in ("v1", "old"):
        one_format(r, binary, cdir, fmt)
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
