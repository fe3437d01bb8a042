#!/usr/bin/env python3
"""The systemd units in deploy/systemd, run the way systemd would run them.

  * systemd-analyze verify accepts both units and deploy/two-hosts' host unit
    (paths pointed at this build; test_hosts.py runs the two-hosts layout);
  * chat2api.service's ExecStart (spawn-fcgi -n ...) and
    chat2api-listen.service's ExecStart (chat2api --listen unix:...), run
    as the unit's user (www-data stands in for chat2api here), leave a
    0660 socket, answer FastCGI, and stop on SIGTERM to the main pid (which
    for spawn-fcgi -n must be chat2api itself);
  * chat2api --listen 127.0.0.1:PORT answers FastCGI over TCP.

The front-end tests (test_frontends.py) cover the web-server configs.
"""

import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import HarnessError, Results  # noqa: E402


def verify_units(r, ws, binary):
    sa = shutil.which("systemd-analyze")
    if not sa:
        r.skip("systemd-analyze verify", "systemd-analyze not installed")
        return
    for rel in ("systemd/chat2api.service", "systemd/chat2api-listen.service",
                "two-hosts/chat2api-host.service"):
        unit = os.path.basename(rel)
        text = harness.read_deploy(rel).replace("/usr/local/bin/chat2api", binary)
        path = ws.write("units/" + unit, text)
        rc, out = ws.run("verify-" + unit, [sa, "verify", path], timeout=30)
        # systemd-analyze also judges units it pulls in; only lines about ours matter
        ours = [ln for ln in out.splitlines() if unit in ln or "chat2api" in ln]
        r.check("systemd-analyze verify %s" % unit, not ours, out.strip())


def run_unit(r, ws, binary, unit, label):
    argv = harness.systemd_execstart("systemd/" + unit)
    sock = ws.path("run-" + label, "chat2api.sock")
    ws.mkdir("run-" + label)
    argv = [a.replace("/run/chat2api/chat2api.sock", sock).replace("/usr/local/bin/chat2api", binary)
            for a in argv]
    if argv[0].endswith("spawn-fcgi"):
        argv[0] = harness.which("spawn-fcgi")
    env = harness.app_env(ws, label, data="data-" + label)
    p = ws.spawn("unit-" + label, argv, env=env, user=harness.RUN_USER)
    ok = harness.wait_until(lambda: os.path.exists(sock) or p.poll() is not None, 10)

    def execed():
        # spawn-fcgi binds, chmods and listens, then execs: wait for all of it
        try:
            return os.path.realpath(os.readlink("/proc/%d/exe" % p.pid)) != \
                os.path.realpath(harness.which("spawn-fcgi"))
        except OSError:
            return True
    harness.wait_until(lambda: execed() or p.poll() is not None, 10)
    if not r.check("%s: ExecStart creates the socket" % unit, ok and os.path.exists(sock),
                   "argv=%r\n%s" % (argv, ws.log_tails())):
        return
    mode = os.stat(sock).st_mode & 0o777
    r.check("%s: socket mode 0660" % unit, mode == 0o660, "mode %o" % mode)
    resp = harness.fcgi_request(sock, harness.fcgi_params("GET", "/health"))
    r.check("%s: FastCGI GET /health -> 200" % unit, resp.status == 200
            and (resp.json() or {}).get("status") == "ok", resp.describe())
    try:
        exe = os.readlink("/proc/%d/exe" % p.pid)
        with open("/proc/%d/cmdline" % p.pid, "rb") as f:
            cmd = f.read().decode("utf-8", "replace").split("\0")
    except OSError as e:
        exe, cmd = str(e), []
    with open(binary, "rb") as f:
        script = f.read(2) == b"#!"        # e.g. the contract stub: an interpreter runs it
    r.check("%s: the main pid is chat2api itself (systemd's SIGTERM reaches it)" % unit,
            (binary in cmd[:2]) if script else
            os.path.realpath(exe) == os.path.realpath(binary), "exe=%s cmdline=%r" % (exe, cmd))
    t0 = time.monotonic()
    p.terminate()
    try:
        rc = p.wait(15)
    except Exception:
        rc = None
    r.check("%s: SIGTERM stops it (exit status 0, %.1fs)" % (unit, time.monotonic() - t0),
            rc == 0, "rc=%r" % rc)


def listen_tcp(r, ws, binary):
    port = harness.free_port()
    env = harness.app_env(ws, "tcp", data="data-tcp")
    p = ws.spawn("listen-tcp", [binary, "--listen", "127.0.0.1:%d" % port], env=env,
                 user=harness.RUN_USER)
    resp = None
    for _ in range(100):
        resp = harness.fcgi_request(("127.0.0.1", port), harness.fcgi_params("GET", "/v1/models"))
        if resp.status or p.poll() is not None:
            break
        time.sleep(0.05)
    r.check("chat2api --listen 127.0.0.1:PORT: FastCGI GET /v1/models -> 200",
            resp is not None and resp.status == 200 and (resp.json() or {}).get("object") == "list",
            resp.describe() if resp else "no answer")
    body = b'{"model":"gpt-4o"}'
    resp = harness.fcgi_request(("127.0.0.1", port),
                                harness.fcgi_params("POST", "/_test/echo", body, "application/json"),
                                body)
    r.check("chat2api --listen TCP: POST body arrives", resp.status == 200
            and (resp.json() or {}).get("model") == "gpt-4o", resp.describe())


def main():
    r = Results("test_deploy")
    harness.install_signal_handlers(int(os.environ.get("C2A_IT_TIMEOUT", "90")))
    ws = None
    try:
        binary = harness.find_binary()
        r.note("binary: %s" % binary)
        ws = harness.Workspace("deploy")
        verify_units(r, ws, binary)
        try:
            harness.which("spawn-fcgi")
            run_unit(r, ws, binary, "chat2api.service", "spawn")
        except harness.Missing as e:
            if harness.allow_skip():
                r.skip("chat2api.service", str(e))
            else:
                r.fail("chat2api.service: spawn-fcgi available", str(e))
        run_unit(r, ws, binary, "chat2api-listen.service", "listen")
        listen_tcp(r, ws, binary)
    except HarnessError as e:
        r.fail("harness setup", str(e))
    except (KeyboardInterrupt, harness.Timeout) as e:
        r.fail("run interrupted", str(e) or "interrupted")
    finally:
        if ws:
            if r.failed:
                r.note(ws.log_tails())
            harness.finish_workspace(r, ws, "deploy")
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
