#!/usr/bin/env python3
"""Two chat2api hosts over one Redis, behind one nginx, as deploy/two-hosts
ships them: a real redis-server on a loopback port (a password,
appendonly yes, appendfsync always), two spawn-fcgi FastCGI hosts from
deploy/two-hosts/chat2api-host.service (each its own TCP port and data dir,
the same CHAT2API_SECRET_KEY and CHAT2API_STORE with a prefix of this run),
and nginx from deploy/two-hosts/nginx.conf (the upstream over both) plus one
test-only server per host to reach a host on purpose.

  * round-robin over three DeepSeek accounts is fair across both hosts
    (30 requests: 10/10/10 at the mock, both hosts in nginx's access log);
  * a daily limit of 5 on one account holds across both (the 6th request
    on either host is refused and never reaches the upstream with it), also
    with 12 requests racing over both hosts for the last 5 uses;
  * 20 concurrent first uses of a GLM refresh token, 10 per host: one
    exchange;
  * a gateway seed set on host A is served on host B; an account added and
    a key created through host A's management API work on host B;
  * kill -9 of host A while it writes: host B has every acknowledged write;
  * Redis killed: every request on both hosts answers 503 store_unavailable
    with Retry-After within 1 s; Redis restarted on the same dir: everything
    acknowledged is there and both hosts serve again by themselves; Redis
    frozen (SIGSTOP): no request waits past the command timeout;
  * a third host with another CHAT2API_SECRET_KEY refuses to start, saying
    why; FCGI_WEB_SERVER_ADDRS turns away a peer not in the list;
  * `chat2api store export` of an LMDB install, `store import` into Redis:
    its key and account serve there; and back into a fresh LMDB dir;
  * Redis never holds a token, key or code in clear (its append-only file);
    no log holds a secret or the Redis password.

A chat2api built without --with-redis fails here (CI builds it with).
Env: CHAT2API_BIN, CHAT2API_ALLOW_SKIP=1 (a missing redis-server, nginx or
spawn-fcgi is a skip), C2A_IT_KEEP=1.
"""

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "mock"))

import harness  # noqa: E402
from harness import HarnessError, Missing, Results  # noqa: E402
import chatgpt_mock  # noqa: E402
import chatgpt_site_mock  # noqa: E402
import deepseek_mock  # noqa: E402
import glm_mock  # noqa: E402

CODE = "hosts-code-5d1e"
MGMT_SECRET = "hosts-mgmt-" + "m" * 24
REDIS_PW = "hosts-redis-pw-" + os.urandom(6).hex()
SECRET_KEY = os.urandom(32).hex()
OTHER_KEY = os.urandom(32).hex()
U1 = deepseek_mock.DEFAULT_USER_TOKEN
U2 = deepseek_mock.OTHER_USER_TOKEN
U3 = "dsMockUserToken0003ThirdUserThirdUserThirdUserThirdUser0123456789"
U4 = "dsMockUserToken0004FourthUserFourthUserFourthUserFourth0123456789"
U5 = "dsMockUserToken0005FifthUserFifthUserFifthUserFifthUser0123456789"
RT3 = "glmMockRefresh0003.ThirdUserThirdUserThirdUserThirdUser0123456789"
AT = chatgpt_mock.DEFAULT_ACCESS_TOKEN
SEED = "seed-hosts-a-7f31"
DS_MODEL = "DeepSeek-V3.2"
MGMT = "/v0/management/"
UNIT = "two-hosts/chat2api-host.service"


def fp(secret):
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


def chat(port, model, content, token=CODE, timeout=60):
    body = {"model": model, "messages": [{"role": "user", "content": content}]}
    h = {"Content-Type": "application/json", "Authorization": "Bearer " + token}
    return harness.http(port, "POST", "/v1/chat/completions", json.dumps(body), headers=h,
                        timeout=timeout)


def api(port, method, path, body=None, timeout=30):
    h = {"Authorization": "Bearer " + MGMT_SECRET}
    if body is not None:
        h["Content-Type"] = "application/json"
        body = json.dumps(body)
    return harness.http(port, method, MGMT + path, body, headers=h, timeout=timeout)


def data(resp):
    doc = resp.json() or {}
    return doc.get("data") if doc.get("success") is True else None


def ecode(resp):
    return (((resp.json() or {}).get("error")) or {}).get("code")


def completions(mock, since):
    now = mock.snapshot().get("completions", {})
    return {k: now.get(k, 0) - since.get(k, 0) for k in set(now) | set(since)
            if now.get(k, 0) - since.get(k, 0)}


def served(mock):
    return dict(mock.snapshot().get("completions", {}))


# ---------------------------------------------------------------- Redis
class Redis:
    """redis-server on a loopback port, with a password and the AOF on
    every write; a small RESP client for PING."""

    def __init__(self, ws):
        self.ws = ws
        self.port = harness.free_port()
        self.dir = ws.mkdir("redis", owned=False)
        self.proc = None

    def start(self):
        prog = harness.which("redis-server")
        self.proc = self.ws.spawn("redis", [
            prog, "--port", str(self.port), "--bind", "127.0.0.1", "--requirepass", REDIS_PW,
            "--appendonly", "yes", "--appendfsync", "always", "--dir", self.dir,
            "--save", "", "--daemonize", "no", "--maxmemory-policy", "noeviction"])
        if not harness.wait_until(lambda: self.ping() or self.proc.poll() is not None, 10) or \
                self.proc.poll() is not None:
            raise HarnessError("redis-server did not answer PING:\n" + self.ws.log_tails())

    def url(self, prefix):
        return "redis://:%s@127.0.0.1:%d/0?prefix=%s" % (REDIS_PW, self.port, prefix)

    def kill(self):
        self.proc.kill()
        self.proc.wait(10)

    def ping(self):
        try:
            return self.command("PING") == "PONG"
        except OSError:
            return False

    def command(self, *args):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=2)
        try:
            out = b""
            for cmd in (("AUTH", REDIS_PW), args):
                out += b"*%d\r\n" % len(cmd) + b"".join(
                    b"$%d\r\n%s\r\n" % (len(a.encode()), a.encode()) for a in cmd)
            s.sendall(out)
            f = s.makefile("rb")
            replies = [_resp(f), _resp(f)]
        finally:
            s.close()
        return replies[1]

    def aof_bytes(self):
        out = b""
        for root, _, files in os.walk(self.dir):
            for fn in files:
                with open(os.path.join(root, fn), "rb") as f:
                    out += f.read()
        return out


def _resp(f):
    line = f.readline().rstrip(b"\r\n")
    kind, rest = line[:1], line[1:].decode()
    if kind == b"+":
        return rest
    if kind == b"-":
        return OSError(rest)
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        return None if n < 0 else f.read(n + 2)[:-2].decode("utf-8", "replace")
    if kind == b"*":
        return [_resp(f) for _ in range(max(0, int(rest)))]
    raise OSError("bad RESP reply %r" % line)


# ---------------------------------------------------------------- hosts
class Host:
    """One chat2api "host": spawn-fcgi on its own TCP port and data dir,
    started from deploy/two-hosts/chat2api-host.service's ExecStart."""

    def __init__(self, ws, binary, name, env, procs=2):
        self.ws, self.bin, self.name, self.procs = ws, binary, name, procs
        self.port = harness.free_port()
        self.env = env
        self.pidfile = ws.path("run", "host-%s.pid" % name)
        ws.mkdir("run")

    def argv(self):
        argv = harness.systemd_execstart(UNIT)
        pairs = (("${CHAT2API_BIND}", "127.0.0.1"), ("9000", str(self.port)),
                 ("/usr/local/bin/chat2api", self.bin))
        for old, new in pairs:
            if old not in argv:
                raise HarnessError("deploy/%s: %r not in ExecStart %r" % (UNIT, old, argv))
            argv = [new if a == old else a for a in argv]
        if os.path.basename(argv[0]) != "spawn-fcgi":
            raise HarnessError("deploy/%s: ExecStart is not spawn-fcgi" % UNIT)
        argv[0] = harness.which("spawn-fcgi")
        # -n: one exec'd process under systemd; here -F N with a pid file
        argv = [a for a in argv if a != "-n"]
        sep = argv.index("--")
        extra = ["-F", str(self.procs), "-P", self.pidfile]
        if harness.RUN_USER:
            g = harness.run_group()
            extra += ["-u", harness.RUN_USER, "-g", g]
        return argv[:sep] + extra + argv[sep:]

    def start(self):
        try:
            os.unlink(self.pidfile)
        except OSError:
            pass
        rc, out = self.ws.run("spawn-fcgi-" + self.name, self.argv(), env=self.env)
        if rc != 0:
            raise HarnessError("spawn-fcgi (host %s) rc=%d: %s" % (self.name, rc, out))

    def pids(self):
        try:
            with open(self.pidfile) as f:
                return [int(x) for x in f.read().split()]
        except (OSError, ValueError):
            return []

    def kill9(self):
        pids = self.pids()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        harness.wait_until(lambda: not any(harness._alive(p) for p in pids), 5)


def nginx_conf(ws, hosts, port, direct):
    """deploy/two-hosts/nginx.conf with loopback addresses and the run's
    logs, in a main config with one test-only server per host."""
    text = harness.subst(harness.read_deploy("two-hosts/nginx.conf"), [
        ("server 10.0.0.11:9000 ", "server 127.0.0.1:%d " % hosts[0].port),
        ("server 10.0.0.12:9000 ", "server 127.0.0.1:%d " % hosts[1].port),
        ("listen 80;", "listen 127.0.0.1:%d;" % port),
        ("listen [::]:80;", "# (ipv6 listen removed by the test)"),
        ("/var/log/nginx/chat2api.access.log", ws.path("log", "nginx-access.log")),
        ("/var/log/nginx/chat2api.error.log", ws.path("log", "nginx-error.log")),
    ], "deploy/two-hosts/nginx.conf")
    conf = ws.mkdir("nginx", "conf", owned=False)
    shutil.copy(os.path.join(harness.NGINX_CONF_DIR, "fastcgi_params"), conf)
    ws.write("nginx/conf/chat2api.conf", text)
    per_host = "".join("""
    server {
        listen 127.0.0.1:%d;
        access_log off;
        location / {
            include fastcgi_params;
            fastcgi_pass 127.0.0.1:%d;
            fastcgi_buffering off;
            fastcgi_read_timeout 60s;
        }
    }
""" % (dport, h.port) for dport, h in zip(direct, hosts))
    user = ("user %s %s;" % (harness.RUN_USER, harness.run_group())) if harness.RUN_USER else ""
    main = """%s
worker_processes 1;
daemon off;
master_process on;
pid %s/nginx/nginx.pid;
error_log %s/log/nginx-error.log warn;
events { worker_connections 1024; }
http {
    default_type application/octet-stream;
    client_body_temp_path %s/nginx/tmp-body;
    fastcgi_temp_path     %s/nginx/tmp-fastcgi;
    proxy_temp_path       %s/nginx/tmp-proxy;
    uwsgi_temp_path       %s/nginx/tmp-uwsgi;
    scgi_temp_path        %s/nginx/tmp-scgi;
    include chat2api.conf;
%s
}
""" % ((user,) + (ws.dir,) * 7 + (per_host,))
    return ws.write("nginx/conf/nginx.conf", main)


def upstream_counts(ws, path):
    """Requests per upstream address in nginx's access log for path."""
    counts = {}
    try:
        with open(ws.path("log", "nginx-access.log")) as f:
            for line in f:
                if '"POST %s"' % path not in line:
                    continue
                for part in line.split():
                    if part.startswith("upstream="):
                        counts[part[9:]] = counts.get(part[9:], 0) + 1
    except OSError:
        pass
    return counts


def fcgi_from(src, port):
    """GET /health over FastCGI from source address src."""
    orig = socket.socket

    class Bound(orig):
        def connect(self, addr):
            self.bind((src, 0))
            return orig.connect(self, addr)
    socket.socket = Bound
    try:
        return harness.fcgi_request(("127.0.0.1", port), harness.fcgi_params("GET", "/health"),
                                    timeout=5)
    finally:
        socket.socket = orig


class Cli:
    """chat2api accounts ... against the shared store, as the service user."""

    def __init__(self, binary, env):
        self.bin = binary
        self.env = dict(os.environ, CHAT2API_LOG_LEVEL="warn", **env)
        self.prefix = ["runuser", "-u", harness.RUN_USER, "--"] if harness.RUN_USER else []

    def run(self, *args):
        p = subprocess.run(self.prefix + [self.bin] + list(args), capture_output=True,
                           text=True, env=self.env, timeout=60)
        return p.returncode, p.stdout, p.stderr


# ---------------------------------------------------------------- checks
def check_round_robin(r, fe, ds, cli):
    for tok in (U1, U2, U3):
        rc, out, err = cli.run("accounts", "add", "deepseek", tok)
        if rc != 0:
            raise HarnessError("accounts add: " + out + err)
    s0 = served(ds)
    st = [chat(fe.port, DS_MODEL, "rr %d" % i).status for i in range(30)]
    c = completions(ds, s0)
    r.check("round-robin over 3 accounts through both hosts: 30 requests, 10/10/10",
            st == [200] * 30 and sorted(c.values()) == [10, 10, 10] and
            set(c) == {U1, U2, U3}, "%s %s" % (st, {fp(k): v for k, v in c.items()}))
    # nginx writes a line once the answer went out: give the last one a moment
    harness.wait_until(lambda: sum(upstream_counts(fe.ws, "/v1/chat/completions").values())
                       >= 30, 3)
    up = upstream_counts(fe.ws, "/v1/chat/completions")
    want = {"127.0.0.1:%d" % h.port for h in fe.hosts}
    r.check("nginx spread them over both hosts (access log: 15 each)",
            set(up) == want and sorted(up.values()) == [15, 15], str(up))


def check_daily_limit(r, fe, ds, cli):
    cli.run("accounts", "add", "deepseek", U4)
    cli.run("accounts", "set", fp(U4), "--daily-limit", "5")
    for tok in (U1, U2, U3):
        cli.run("accounts", "disable", fp(tok))
    s0 = served(ds)
    res = []
    for i in range(8):
        h = fe.direct[i % 2]
        resp = chat(h, DS_MODEL, "limit %d" % i)
        res.append((("A", "B")[i % 2], resp.status, ecode(resp)))
    c = completions(ds, s0)
    r.check("daily limit 5 across both hosts: 5 served, then 429 daily_limit_reached on A and B",
            [x[1] for x in res] == [200] * 5 + [429] * 3 and
            all(x[2] == "daily_limit_reached" for x in res[5:]) and
            {x[0] for x in res[5:]} == {"A", "B"}, str(res))
    r.check("the limited account reached the upstream exactly 5 times", c == {U4: 5},
            str({fp(k): v for k, v in c.items()}))
    # racing: 5 more uses allowed, 12 requests at once over both hosts
    cli.run("accounts", "set", fp(U4), "--daily-limit", "10")
    s0 = served(ds)
    res = []
    lock = threading.Lock()

    def one(i):
        resp = chat(fe.direct[i % 2], DS_MODEL, "race limit %d" % i)
        with lock:
            res.append(resp.status)
    ts = [threading.Thread(target=one, args=(i,)) for i in range(12)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    c = completions(ds, s0)
    r.check("limit raised to 10, 12 concurrent requests over both hosts: exactly 5 served",
            sorted(res) == [200] * 5 + [429] * 7 and c == {U4: 5},
            "%s %s" % (sorted(res), {fp(k): v for k, v in c.items()}))


def check_refresh_race(r, fe, glm, cli):
    glm.configure({"api_delay_ms": 300})
    rc, out, err = cli.run("accounts", "add", "glm", RT3)
    res = []
    lock = threading.Lock()

    def one(i):
        resp = chat(fe.direct[i % 2], "GLM-5", "race %d" % i)
        with lock:
            res.append(resp.status)
    ts = [threading.Thread(target=one, args=(i,)) for i in range(20)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(90)
    glm.configure({"api_delay_ms": 0})
    ex = glm.snapshot().get("refreshes", {})
    r.check("20 concurrent first uses, 10 on each host: all answered, one refresh exchange",
            rc == 0 and res == [200] * 20 and ex.get(RT3) == 1,
            "add=%d %s res=%s refreshes=%s" % (rc, out + err, sorted(res),
                                               {k[:18]: v for k, v in ex.items()}))


def check_seed(r, fe):
    a, b = fe.direct
    resp = harness.http(a, "POST", "/seedtoken", json.dumps({"seed": SEED, "token": AT}),
                        headers={"Authorization": "Bearer " + CODE,
                                 "Content-Type": "application/json"})
    r.check("a seed set on host A (POST /seedtoken)", resp.status == 200, resp.describe())
    resp = harness.http(b, "GET", "/backend-api/me", headers={"Authorization": "Bearer " + SEED})
    r.check("... is served on host B (/backend-api/me behind the seed)",
            resp.status == 200 and (resp.json() or {}).get("email") == "chatgpt@openai.com",
            resp.describe())
    resp = harness.http(b, "GET", "/backend-api/me",
                        headers={"Authorization": "Bearer seed-nobody-0000"})
    r.check("... while a seed nobody set is refused there (AUTO_SEED=false)",
            resp.status != 200 and "chatgpt@openai.com" not in resp.text(), resp.describe())


def check_management(r, fe, ds, cli):
    a, b = fe.direct
    resp = api(a, "POST", "accounts", {"provider": "deepseek", "credential": U5,
                                       "label": "added-on-a"})
    r.check("an account added through host A's management API",
            resp.status == 200 and (data(resp) or {}).get("added") is True, resp.describe())
    cli.run("accounts", "disable", fp(U4))
    s0 = served(ds)
    resp = chat(b, DS_MODEL, "the new one")
    r.check("... is the one host B uses", resp.status == 200 and completions(ds, s0) == {U5: 1},
            resp.describe() + str(completions(ds, s0)))
    resp = api(a, "POST", "api-keys", {"name": "made-on-a"})
    key = (data(resp) or {}).get("key") or ""
    r.check("a key created on host A", resp.status == 200 and key.startswith("sk-"),
            resp.describe())
    resp = chat(b, DS_MODEL, "with the key", token=key)
    bad = chat(b, DS_MODEL, "with another key", token="sk-" + "0" * 40)
    r.check("... works on host B (and an unknown key does not: 401)",
            resp.status == 200 and bad.status == 401, resp.describe() + " / " + bad.describe())
    return key


def killed_token(i):
    return "dsMockUserToken9%03dKilledHostKilledHostKilledHostKilled0123456789" % i


def check_kill9(r, fe):
    """Writes acknowledged by host A survive its kill -9 on host B."""
    a, b = fe.direct
    acked_keys, acked_accts, keys = [], [], []
    stop = threading.Event()

    def writer():
        i = 0
        while not stop.is_set():
            name = "kill9-%03d" % i
            resp = api(a, "POST", "api-keys", {"name": name}, timeout=10)
            if resp.status == 200 and (data(resp) or {}).get("key"):
                acked_keys.append(name)
                keys.append(data(resp)["key"])
            tok = killed_token(i)
            resp = api(a, "POST", "accounts", {"provider": "deepseek", "credential": tok,
                                               "label": name}, timeout=10)
            if resp.status == 200 and (data(resp) or {}).get("added"):
                acked_accts.append(fp(tok))
            i += 1
    t = threading.Thread(target=writer)
    t.start()
    harness.wait_until(lambda: len(acked_keys) >= 5, 20)
    fe.hosts[0].kill9()
    time.sleep(0.3)
    stop.set()
    t.join(30)
    resp = api(b, "GET", "api-keys")
    names = {k.get("name") for k in (data(resp) or [])}
    lost = [n for n in acked_keys if n not in names]
    r.check("kill -9 of host A while it writes: host B lists every key A acknowledged "
            "(%d)" % len(acked_keys), len(acked_keys) >= 5 and not lost and resp.status == 200,
            "lost=%s %s" % (lost, resp.describe()))
    resp = api(b, "GET", "accounts?provider=deepseek")
    fps = {x.get("fingerprint") for x in (data(resp) or [])}
    lost = [x for x in acked_accts if x not in fps]
    r.check("... and every account A acknowledged (%d)" % len(acked_accts),
            len(acked_accts) >= 3 and not lost, "lost=%s" % lost)
    resp = chat(b, DS_MODEL, "key of a killed host", token=keys[-1] if keys else "sk-none")
    r.check("... a key the killed host made works on B", resp.status == 200, resp.describe())
    t0 = time.monotonic()
    resp = api(b, "POST", "api-keys", {"name": "after-kill"})
    r.check("host B writes after the kill (%.1fs: no lock left behind for long)" %
            (time.monotonic() - t0), resp.status == 200 and time.monotonic() - t0 < 15,
            resp.describe())
    fe.hosts[0].start()
    ok = harness.wait_until(lambda: harness.http(a, "GET", "/health", timeout=5).status == 200, 10)
    r.check("host A starts again over the same store", ok, fe.ws.log_tails(10))
    return keys


def snapshot(port):
    """(key names, account fingerprints), or None with why."""
    k, a = api(port, "GET", "api-keys"), api(port, "GET", "accounts")
    if k.status != 200 or a.status != 200:
        return None, "api-keys: %s; accounts: %s" % (k.describe(), a.describe())
    return (sorted(x.get("name") for x in data(k) or []),
            sorted(x.get("fingerprint") for x in data(a) or [])), ""


def check_redis_outage(r, fe, redis, key):
    before, why = snapshot(fe.direct[1])
    if not r.check("the keys and accounts before Redis goes down", before, why):
        return
    redis.kill()
    for name, port in zip("AB", fe.direct):
        worst, bad = 0.0, []
        # a key and a code: the first requests find their worker's
        # connection dead only when they use it
        for i, tok in enumerate([key] * 3 + [CODE] * 2):
            t0 = time.monotonic()
            resp = chat(port, DS_MODEL, "redis down %d" % i, token=tok, timeout=10)
            took = time.monotonic() - t0
            worst = max(worst, took)
            if not (resp.status == 503 and ecode(resp) == "store_unavailable" and
                    resp.header("retry-after") and took < 1.0):
                bad.append("%.2fs %s" % (took, resp.describe()))
        r.check("Redis down: host %s answers 503 store_unavailable with Retry-After, "
                "worst %.2fs (< 1 s)" % (name, worst), not bad, "; ".join(bad))
    resp = api(fe.direct[0], "GET", "api-keys", timeout=10)
    r.check("Redis down: the management API says so too (503)", resp.status == 503,
            resp.describe())
    redis.start()
    t0 = time.monotonic()
    back = {}
    # "serving again": ten answers in a row (every process, not one lucky one)
    for name, port in zip("AB", fe.direct):
        run = 0
        while time.monotonic() - t0 < 20 and run < 10:
            run = run + 1 if chat(port, DS_MODEL, "back?", token=key,
                                  timeout=10).status == 200 else 0
            if run == 0:
                time.sleep(0.1)
        if run >= 10:
            back[name] = time.monotonic() - t0
    r.check("Redis restarted: both hosts serve again by themselves, 10 answers in a row (%s)" %
            ", ".join("%s after %.1fs" % kv for kv in sorted(back.items())),
            len(back) == 2 and max(back.values()) < 10, str(back))
    # threads that slept through the outage hold dead connections: none
    # of them may answer 503 (or put its whole process back in backoff)
    st = [chat(fe.direct[i % 2], DS_MODEL, "after %d" % i, token=key, timeout=10).status
          for i in range(40)]
    r.check("... and stay up: 40 more requests over both hosts, all answered", st == [200] * 40,
            str(st))
    for name, port in zip("AB", fe.direct):
        after, why = snapshot(port)
        r.check("Redis restarted on the same dir: host %s lists every key and account "
                "acknowledged before (%d keys, %d accounts)" % (name, len(before[0]),
                                                                 len(before[1])),
                before == after and len(before[0]) > 5 and len(before[1]) > 5,
                "%s\nbefore=%s\nafter=%s" % (why, before, after))


def check_redis_frozen(r, fe, redis, key):
    """A Redis that stops answering (SIGSTOP) rather than refusing: the
    command timeout (2 s) bounds the wait; then every request is quick."""
    redis.proc.send_signal(signal.SIGSTOP)
    try:
        res = []
        for i in range(6):
            t0 = time.monotonic()
            resp = chat(fe.direct[i % 2], DS_MODEL, "frozen %d" % i, token=key, timeout=15)
            res.append((round(time.monotonic() - t0, 2), resp.status, ecode(resp)))
    finally:
        redis.proc.send_signal(signal.SIGCONT)
    r.check("Redis frozen (SIGSTOP): no request hangs, each a 503 store_unavailable within 3 s "
            "%s" % [x[0] for x in res],
            all(x[0] < 3.0 and x[1] == 503 and x[2] == "store_unavailable" for x in res),
            str(res))
    ok = harness.wait_until(lambda: all(chat(p, DS_MODEL, "thawed", token=key,
                                             timeout=10).status == 200
                                        for p in fe.direct * 3), 15, interval=0.2)
    r.check("... and once it answers again both hosts serve", ok, "")


def check_wrong_key(r, ws, binary, env):
    port = harness.free_port()
    e = dict(env, CHAT2API_SECRET_KEY=OTHER_KEY, CHAT2API_DATA_DIR=ws.mkdir("data-c"),
             CHAT2API_LOG="file:" + ws.path("log", "app-c.log"))
    p = ws.spawn("host-c", [binary, "--listen", "127.0.0.1:%d" % port], env=e,
                 user=harness.RUN_USER)
    try:
        rc = p.wait(15)
    except subprocess.TimeoutExpired:
        rc = None
    try:
        with open(ws.path("log", "app-c.log"), errors="replace") as f:
            log = f.read()
    except OSError:
        log = ""
    r.check("a third host with another CHAT2API_SECRET_KEY refuses to start, saying why",
            rc not in (None, 0) and "another secret key" in log,
            "rc=%r log=%s" % (rc, log[-400:]))


def check_transfer(r, ws, binary, fe, ds, shared, rcli):
    """store export on LMDB, import into Redis, used there; and back."""
    a, b = fe.direct
    xfer = ws.mkdir("xfer")
    plain = {k: v for k, v in shared.items() if k != "CHAT2API_STORE"}
    lm = Cli(binary, dict(plain, CHAT2API_DATA_DIR=ws.mkdir("data-lmdb")))
    rc1, out1, err1 = lm.run("accounts", "add", "deepseek", U2, "--label", "from-lmdb")
    rc2, key, err2 = lm.run("keys", "add", "--name", "lmdb-key")
    key = key.strip()
    rc3, out3, err3 = lm.run("store", "export", os.path.join(xfer, "lmdb.c2a"))
    try:
        with open(os.path.join(xfer, "lmdb.c2a"), "rb") as f:
            dump = f.read()
    except OSError:
        dump = b""
    r.check("store export on an LMDB install: a sealed file (no token, no key in clear)",
            rc1 == rc2 == rc3 == 0 and key.startswith("sk-") and len(dump) > 100 and
            U2.encode() not in dump and key.encode() not in dump,
            "%d %d %d %s %s %s" % (rc1, rc2, rc3, err1, err2, err3))
    rc, out, err = rcli.run("store", "import", os.path.join(xfer, "lmdb.c2a"))
    r.check("store import into Redis (CHAT2API_STORE set)", rc == 0, out + err)
    s0 = served(ds)
    resp = chat(b, DS_MODEL, "moved over", token=key)
    rows = data(api(a, "GET", "accounts")) or []
    r.check("... the LMDB install's key and account serve on host B, and they are all there is",
            resp.status == 200 and completions(ds, s0) == {U2: 1} and
            [x.get("fingerprint") for x in rows] == [fp(U2)],
            resp.describe() + " %s" % [x.get("fingerprint") for x in rows])
    resp = api(a, "POST", "api-keys", {"name": "made-on-redis"})
    rc1, out1, err1 = rcli.run("store", "export", os.path.join(xfer, "redis.c2a"))
    back = Cli(binary, dict(plain, CHAT2API_DATA_DIR=ws.mkdir("data-back")))
    rc2, out2, err2 = back.run("store", "import", os.path.join(xfer, "redis.c2a"))
    rc3, accts, err3 = back.run("accounts", "list")
    rc4, keys, err4 = back.run("keys", "list")
    r.check("... and back from Redis to a fresh LMDB dir: the account, the LMDB key and the "
            "one made on Redis", resp.status == 200 and rc1 == rc2 == rc3 == rc4 == 0 and
            fp(U2) in accts and "lmdb-key" in keys and "made-on-redis" in keys,
            "%s\n%s%s%s%s%s%s" % (resp.describe(), err1, err2, accts, err3, keys, err4))
    return [key]


def check_secrets(r, ws, redis, keys):
    aof = redis.aof_bytes()
    clear = [s[:14] for s in [U1, U2, U3, U4, U5, RT3, AT, CODE] + keys if s.encode() in aof]
    r.check("Redis never saw a token, key or code in clear (append-only file, %d bytes)" %
            len(aof), len(aof) > 1000 and not clear, str(clear))
    logs = ""
    for fn in os.listdir(ws.path("log")):
        with open(ws.path("log", fn), errors="replace") as f:
            logs += f.read()
    leaked = [s[:14] for s in [U1, U2, U3, U4, U5, RT3, AT, CODE, MGMT_SECRET, REDIS_PW,
                               SECRET_KEY] + keys if s in logs]
    r.check("no token, key, code, secret key or Redis password in any log", not leaked,
            str(leaked))


# ---------------------------------------------------------------- main
def redis_built(r, binary, env):
    """A chat2api without --with-redis says so when CHAT2API_STORE names Redis."""
    cli = Cli(binary, env)
    rc, out, err = cli.run("accounts", "list")
    return r.check("chat2api is built --with-redis and opens the shared store",
                   rc == 0 and "without --with-redis" not in err, "rc=%d %s" % (rc, out + err))


def start_hosts(ws, binary, shared):
    class FE:
        pass
    fe = FE()
    fe.ws = ws
    fe.hosts = [Host(ws, binary, n, harness.app_env(ws, n, shared, data="data-" + n))
                for n in ("a", "b")]
    fe.port = harness.free_port()
    fe.direct = [harness.free_port(), harness.free_port()]
    for h in fe.hosts:
        h.start()
    main_conf = nginx_conf(ws, fe.hosts, fe.port, fe.direct)
    nginx = harness.which("nginx")
    rc, out = ws.run("nginx-t", [nginx, "-t", "-q", "-e", ws.path("log", "nginx-error.log"),
                                 "-p", ws.path("nginx") + "/", "-c", main_conf])
    if rc != 0:
        raise HarnessError("nginx -t failed:\n" + out)
    ws.spawn("nginx", [nginx, "-e", ws.path("log", "nginx-error.log"),
                       "-p", ws.path("nginx") + "/", "-c", main_conf])
    for port in [fe.port] + fe.direct:
        if not harness.wait_until(lambda: harness.http(port, "GET", "/health",
                                                       timeout=5).status == 200, 15):
            raise HarnessError("port %d never answered /health:\n%s" % (port, ws.log_tails()))
    return fe


def run(r, ws, binary, ds, glm, site):
    for prog in ("redis-server", "nginx", "spawn-fcgi"):
        harness.which(prog)
    # the accounts host A adds while it is killed are users the mock knows
    ds.configure({"add_user_tokens": [U3, U4, U5] + [killed_token(i) for i in range(400)]})
    redis = Redis(ws)
    redis.start()
    shared = {"CHAT2API_STORE": redis.url("it-%s:" % os.path.basename(ws.dir)),
              "CHAT2API_SECRET_KEY": SECRET_KEY,
              "DEEPSEEK_BASE_URL": ds.url, "GLM_BASE_URL": glm.url,
              "CHATGPT_BASE_URL": site.url, "OAUTH_URL": site.url + "/oauth/token",
              "AUTHORIZATION": CODE, "MANAGEMENT_SECRET": MGMT_SECRET,
              "ENABLE_GATEWAY": "true", "AUTO_SEED": "false", "RETRY_TIMES": "2", "CHAT2API_TZ": "UTC",
              "FCGI_WEB_SERVER_ADDRS": "127.0.0.1"}
    cli_env = dict(shared, CHAT2API_DATA_DIR=ws.mkdir("data-cli"))
    if not redis_built(r, binary, cli_env):
        return
    cli = Cli(binary, cli_env)
    fe = start_hosts(ws, binary, shared)
    resp = fcgi_from("127.0.0.2", fe.hosts[0].port)
    r.check("FCGI_WEB_SERVER_ADDRS=127.0.0.1: a FastCGI peer at 127.0.0.2 gets nothing",
            resp.status is None, resp.describe())
    check_round_robin(r, fe, ds, cli)
    check_daily_limit(r, fe, ds, cli)
    check_refresh_race(r, fe, glm, cli)
    check_seed(r, fe)
    key = check_management(r, fe, ds, cli)
    keys = check_kill9(r, fe) + [key]
    check_redis_outage(r, fe, redis, key)
    check_redis_frozen(r, fe, redis, key)
    check_wrong_key(r, ws, binary, harness.app_env(ws, "c", shared, data="data-c"))
    keys += check_transfer(r, ws, binary, fe, ds, shared, cli)
    check_secrets(r, ws, redis, keys)


def main():
    r = Results("test_hosts")
    harness.install_signal_handlers(600)
    binary = harness.find_binary()
    ws = harness.Workspace("hosts")
    ds = deepseek_mock.DeepSeekMock().start()
    glm = glm_mock.GLMMock(refresh_tokens=[RT3]).start()
    site = chatgpt_site_mock.ChatGPTSiteMock().start()
    try:
        run(r, ws, binary, ds, glm, site)
    except Missing as e:
        harness.report_setup(r, "hosts", e)
    except HarnessError as e:
        r.fail("hosts: setup", str(e))
    finally:
        if r.failed:
            r.note(ws.log_tails(20))
        ds.stop()
        glm.stop()
        site.stop()
        harness.finish_workspace(r, ws, "hosts")
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
