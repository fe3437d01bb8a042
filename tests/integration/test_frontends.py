#!/usr/bin/env python3
"""chat2api behind real web servers, each on free loopback ports:

  nginx + spawn-fcgi          deploy/nginx/chat2api.conf + deploy/systemd/chat2api.service
  lighttpd (bin-path)         deploy/lighttpd/chat2api.conf
  Apache + mod_proxy_fcgi     deploy/apache/proxy_fcgi.conf (+ spawn-fcgi)
  Apache + mod_fcgid          deploy/apache/fcgid.conf
  Apache + mod_cgid (CGI)     deploy/cgi/.htaccess

Every front end gets the same checks (checks.py), plus the same checks of a
second instance mounted at /pfx/ with API_PREFIX=secret (the nginx and
proxy_fcgi ones started with chat2api --listen).

Usage: test_frontends.py [--only nginx,lighttpd,proxy_fcgi,fcgid,cgi]
Env:   C2A_IT_ONLY (same as --only, e.g. for "make check"),
       CHAT2API_BIN (default ./chat2api), CHAT2API_ALLOW_SKIP=1 (a missing
       web server is a skip instead of a failure), C2A_IT_KEEP=1 (keep the
       temp dir with configs and logs), C2A_IT_TMPDIR (where to make it).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import checks  # noqa: E402
import harness  # noqa: E402
from harness import HarnessError, Missing, Results  # noqa: E402


def sender(port):
    def send(method, path, body=None, headers=None):
        return harness.http(port, method, path, body=body, headers=headers)
    send.http = True
    return send


def run_frontend(r, cls, binary):
    label = cls.name
    try:
        probe = cls(None, binary)
        probe.check_installed()
    except Missing as e:
        if harness.allow_skip():
            r.skip(label, str(e))
        else:
            r.fail("%s: front end available" % label,
                   "%s (set CHAT2API_ALLOW_SKIP=1 to skip instead)" % e)
        return
    for attempt in (1, 2):
        ws = harness.Workspace(cls.key)
        fe = cls(ws, binary)
        try:
            fe.start()
            break
        except HarnessError as e:
            logs = ws.log_tails()
            # a free port picked by the harness can be taken before the server
            # binds it (parallel "make -j check"): try once more on new ports
            if attempt == 1 and "in use" in (str(e) + logs):
                r.note("%s: port collision, retrying: %s" % (label, e))
                harness.finish_workspace(r, ws, label)
                continue
            r.fail("%s: starts and answers /health" % label, "%s\n%s" % (e, logs))
            harness.finish_workspace(r, ws, label)
            return
        except BaseException:
            harness.finish_workspace(r, ws, label)
            raise
    try:
        r.check("%s: starts and answers /health" % label, True)
        if isinstance(fe, harness.Nginx):
            st = os.stat(ws.path("run", "pfx.sock"))
            r.check("%s: chat2api --listen unix: socket has mode 0660" % label,
                    (st.st_mode & 0o777) == 0o660, "mode %o" % (st.st_mode & 0o777))
        before = r.failed
        checks.run_all(r, label, sender(fe.port), sender(fe.pfx_port) if fe.with_pfx else None)
        dead = [n for n, p in ws.procs if p.poll() is not None]
        r.check("%s: server processes still running after the checks" % label, not dead,
                "exited: %r" % dead)
        if r.failed != before:
            r.note("logs of %s:\n%s" % (label, ws.log_tails()))
    finally:
        harness.finish_workspace(r, ws, label)


def main(argv):
    only = os.environ.get("C2A_IT_ONLY") or None
    if len(argv) > 2 and argv[1] == "--only":
        only = argv[2]
    if only:
        only = set(only.split(","))
    r = Results("test_frontends")
    harness.install_signal_handlers(int(os.environ.get("C2A_IT_TIMEOUT", "170")))
    try:
        binary = harness.find_binary()
        r.note("binary: %s; running as %s" % (binary, "root (workers as %s)" % harness.RUN_USER
                                               if harness.IS_ROOT else "uid %d" % os.geteuid()))
        for cls in harness.FRONTENDS:
            if only and cls.key not in only:
                continue
            run_frontend(r, cls, binary)
    except HarnessError as e:
        r.fail("harness setup", str(e))
    except (KeyboardInterrupt, harness.Timeout) as e:
        r.fail("run interrupted", str(e) or "interrupted")
    return r.finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
