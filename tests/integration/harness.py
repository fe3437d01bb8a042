"""Integration-test plumbing for chat2api (python3 standard library only).

What lives here:
  * Results       - counts checks and prints "ok"/"not ok" lines and the final
                    "# counts: N passed, M failed" line.
  * http()        - a raw-socket HTTP/1.1 client that records when each byte
                    arrives (so SSE pacing through a front end can be judged),
                    de-chunks, and survives servers that answer early (413).
  * Workspace     - a temp dir per run, every process started from it, and a
                    cleanup that stops exactly those processes (tracked pids
                    plus any process whose environment carries this run's tag)
                    and removes the dir, on success, failure or signal.
  * Frontends     - nginx+spawn-fcgi, lighttpd(bin-path), Apache+mod_proxy_fcgi,
                    Apache+mod_fcgid and Apache+mod_cgid(.htaccess), each started
                    on free loopback ports from the *shipped* deploy/ files with
                    paths and ports substituted, plus a second mount (/pfx/,
                    API_PREFIX=secret, CHAT2API_MOUNT=/pfx) on every one.

Files are located relative to this file (deploy/ is ../../deploy), the binary
through $CHAT2API_BIN (default ./chat2api in the current directory, i.e. the
build directory under "make check", which also works for VPATH builds).
"""

import errno
import re
import grp
import hashlib
import json
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.dirname(os.path.dirname(HERE))
DEPLOY = os.path.join(SRCDIR, "deploy")
CONF_TEMPLATES = os.path.join(HERE, "conf")

IS_ROOT = os.geteuid() == 0
# Apache refuses to serve as root, and a root nginx/lighttpd/app would hide
# permission mistakes in the deploy files, so as root everything that a real
# installation runs unprivileged runs as www-data here too.
RUN_USER = os.environ.get("C2A_IT_USER", "www-data") if IS_ROOT else None
APACHE_MODULES = os.environ.get("C2A_APACHE_MODULES", "/usr/lib/apache2/modules")
NGINX_CONF_DIR = os.environ.get("C2A_NGINX_CONF_DIR", "/etc/nginx")

REQUIRED_MODELS = ["gpt-4o", "gpt-4o-mini", "gpt-3.5-turbo", "o1", "o3-mini", "auto"]


class HarnessError(Exception):
    """The harness itself could not set something up (counts as a failure)."""


class Missing(HarnessError):
    """A front-end program or module is not installed."""


# ====================================================================== results
class Results:
    def __init__(self, program):
        self.program = program
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.n = 0
        self.failures = []

    def _line(self, text):
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    def note(self, text):
        for line in str(text).splitlines() or [""]:
            self._line("#   " + line)

    def check(self, name, cond, detail=None):
        self.n += 1
        if cond:
            self.passed += 1
            self._line("ok %d - %s" % (self.n, name))
        else:
            self.failed += 1
            self.failures.append(name)
            self._line("not ok %d - %s" % (self.n, name))
            if detail is not None:
                self.note(detail)
        return bool(cond)

    def fail(self, name, detail=None):
        return self.check(name, False, detail)

    def skip(self, name, reason):
        self.n += 1
        self.skipped += 1
        self._line("ok %d - %s # SKIP %s" % (self.n, name, reason))

    def equal(self, name, got, want):
        return self.check(name, got == want, "got %r, want %r" % (got, want))

    def finish(self):
        if self.failures:
            self._line("# failed checks:")
            for f in self.failures:
                self._line("#   - " + f)
        if self.skipped:
            self._line("# skipped: %d" % self.skipped)
        self._line("# counts: %d passed, %d failed" % (self.passed, self.failed))
        if self.failed:
            return 1
        if self.skipped and not self.passed:
            return 77  # automake: SKIP
        return 0


def allow_skip():
    return os.environ.get("CHAT2API_ALLOW_SKIP") == "1"


def report_setup(r, label, e):
    """A setup that raised: a missing program is a skip under
    CHAT2API_ALLOW_SKIP=1 and a failure otherwise; any other harness error
    is a failure."""
    if isinstance(e, Missing) and allow_skip():
        r.skip(label, str(e))
    else:
        r.fail(label + ": setup", str(e))


# ====================================================================== binary
def find_binary():
    """Absolute path of the chat2api binary under test."""
    cand = os.environ.get("CHAT2API_BIN")
    if cand:
        path = os.path.abspath(cand)
    else:
        path = os.path.abspath("chat2api")
        if not os.path.exists(path):
            alt = os.path.join(SRCDIR, "chat2api")
            if os.path.exists(alt):
                path = alt
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        raise HarnessError("chat2api binary not found or not executable: %s "
                           "(build it, or set CHAT2API_BIN)" % path)
    return path


def which(prog):
    p = shutil.which(prog, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
    if not p:
        raise Missing("%s is not installed" % prog)
    return p


# ====================================================================== http
class Response:
    def __init__(self):
        self.status = None
        self.reason = ""
        self.headers = []          # [(name, value)] as received
        self.body = b""
        self.pieces = []           # [(t, decoded body bytes)]; t = s since send
        self.t_headers = None
        self.error = None          # a transport error, if any

    def header(self, name, default=None):
        name = name.lower()
        vals = [v for k, v in self.headers if k.lower() == name]
        return ", ".join(vals) if vals else default

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return None

    def text(self, limit=400):
        t = self.body[:limit].decode("utf-8", "replace")
        return t + ("..." if len(self.body) > limit else "")

    def describe(self):
        if self.status is None:
            return "no HTTP response (%s)" % (self.error or "connection closed without a byte")
        return "HTTP %s %s; content-type=%r; body=%r%s" % (
            self.status, self.reason, self.header("content-type"), self.text(),
            ("; transport error: %s" % self.error) if self.error else "")

    def sse_events(self):
        """[(t, event_text)]: each SSE event with the arrival time of its end."""
        out, buf = [], ""
        for t, data in self.pieces:
            buf = (buf + data.decode("utf-8", "replace")).replace("\r\n", "\n")
            while "\n\n" in buf:
                ev, buf = buf.split("\n\n", 1)
                out.append((t, ev))
        if buf.strip():
            out.append((self.pieces[-1][0] if self.pieces else 0.0, buf))
        return out


class _Dechunker:
    def __init__(self):
        self.buf = b""
        self.mode = "size"
        self.left = 0
        self.done = False

    def feed(self, data):
        self.buf += data
        out = b""
        while not self.done:
            if self.mode == "size":
                i = self.buf.find(b"\r\n")
                if i < 0:
                    break
                line = self.buf[:i].split(b";")[0].strip()
                self.buf = self.buf[i + 2:]
                try:
                    n = int(line, 16)
                except ValueError:
                    raise HarnessError("bad chunk size line %r" % line)
                if n == 0:
                    self.mode = "trailer"
                else:
                    self.mode, self.left = "data", n
            elif self.mode == "data":
                if not self.buf:
                    break
                take = self.buf[:self.left]
                self.buf = self.buf[len(take):]
                self.left -= len(take)
                out += take
                if self.left == 0:
                    self.mode = "crlf"
            elif self.mode == "crlf":
                if len(self.buf) < 2:
                    break
                self.buf = self.buf[2:]
                self.mode = "size"
            elif self.mode == "trailer":
                if self.buf.startswith(b"\r\n"):
                    self.done = True
                    break
                i = self.buf.find(b"\r\n\r\n")
                if i < 0:
                    break
                self.done = True
        return out


def http(port, method, path, body=None, headers=None, timeout=15.0, host="127.0.0.1",
         http10=False):
    """One request on a fresh connection ("Connection: close").

    Never raises for transport trouble: a reset while sending a big body is
    normal when the server answers 413 early, so whatever response arrived is
    returned and the error is kept in .error."""
    resp = Response()
    hdrs = [("Host", "%s:%d" % (host, port)), ("User-Agent", "chat2api-it/1"),
            ("Connection", "close")]
    no_cl = False
    for k, v in (headers or {}).items() if isinstance(headers, dict) else (headers or []):
        if v is None:                  # "Content-Length": None = do not send one
            no_cl = no_cl or k.lower() == "content-length"
            continue
        hdrs.append((k, v))
    if body is not None:
        if isinstance(body, str):
            body = body.encode("utf-8")
        if not no_cl and not any(k.lower() == "content-length" for k, _ in hdrs):
            hdrs.append(("Content-Length", str(len(body))))
    head = "%s %s HTTP/1.%d\r\n" % (method, path, 0 if http10 else 1)
    head += "".join("%s: %s\r\n" % kv for kv in hdrs) + "\r\n"
    raw = head.encode("latin-1") + (body or b"")

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    t0 = time.monotonic()
    chunks = []
    try:
        sock.connect((host, port))
        t0 = time.monotonic()
        try:
            sock.sendall(raw)
        except OSError as e:           # early answer + close: read what came
            resp.error = "send: %s" % e
        while True:
            try:
                data = sock.recv(65536)
            except socket.timeout:
                resp.error = "timeout after %.1fs" % timeout
                break
            except OSError as e:
                if resp.error is None:
                    resp.error = "recv: %s" % e
                break
            if not data:
                break
            chunks.append((time.monotonic() - t0, data))
            if _complete(chunks):
                break
    except OSError as e:
        resp.error = "connect: %s" % e
    finally:
        sock.close()
    _parse(resp, chunks, method)
    return resp


def _complete(chunks):
    """True once a Content-Length body is complete (we sent Connection: close,
    but do not rely on the server closing promptly)."""
    raw = b"".join(c for _, c in chunks)
    i = raw.find(b"\r\n\r\n")
    if i < 0:
        return False
    head = raw[:i].decode("latin-1").lower()
    for line in head.split("\r\n")[1:]:
        if line.startswith("content-length:") and "transfer-encoding" not in head:
            try:
                return len(raw) - i - 4 >= int(line.split(":", 1)[1])
            except ValueError:
                return False
    return False


def _parse(resp, chunks, method):
    raw = b""
    hdr_end = -1
    idx = 0
    for idx, (t, data) in enumerate(chunks):
        raw += data
        hdr_end = raw.find(b"\r\n\r\n")
        if hdr_end >= 0:
            resp.t_headers = t
            break
    if hdr_end < 0:
        if chunks and resp.error is None:
            resp.error = "incomplete response head: %r" % raw[:200]
        return
    lines = raw[:hdr_end].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    try:
        resp.status = int(parts[1])
    except (IndexError, ValueError):
        resp.error = "bad status line %r" % lines[0]
        return
    resp.reason = parts[2] if len(parts) > 2 else ""
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            resp.headers.append((k.strip(), v.strip()))
    rest = [(chunks[idx][0], raw[hdr_end + 4:])] + list(chunks[idx + 1:])
    if method == "HEAD" or resp.status in (204, 304):
        rest = []
    chunked = "chunked" in (resp.header("transfer-encoding") or "").lower()
    dec = _Dechunker() if chunked else None
    body = []
    for t, data in rest:
        if not data:
            continue
        piece = dec.feed(data) if dec else data
        if piece:
            resp.pieces.append((t, piece))
            body.append(piece)
    resp.body = b"".join(body)
    if dec and not dec.done and resp.error is None:
        resp.error = "chunked body ended early"


def sha_fp(value):
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def test_ca(d):
    """A test CA and a certificate for 127.0.0.1 it signed, made in d with
    the openssl command: (ca.pem, server cert, server key)."""
    def run(*args):
        p = subprocess.run([which("openssl")] + list(args), cwd=d, capture_output=True,
                           text=True)
        if p.returncode != 0:
            raise HarnessError("openssl %s: %s" % (args[0], p.stderr.strip()[-300:]))

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=chat2api test CA", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign")
    run("req", *ec, "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=127.0.0.1")
    with open(os.path.join(d, "srv.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "srv.pem", "-days", "2", "-extfile", "srv.ext")
    return (os.path.join(d, "ca.pem"), os.path.join(d, "srv.pem"),
            os.path.join(d, "srv.key"))


# ====================================================================== workspace
class Workspace:
    """A temp dir plus every process started for it."""

    def __init__(self, label):
        base = os.environ.get("C2A_IT_TMPDIR") or "/tmp"
        self.dir = tempfile.mkdtemp(prefix="c2a-%s-" % label, dir=base)
        os.chmod(self.dir, 0o755)      # unprivileged workers must traverse it
        self.tag = "c2a-it-%d-%s" % (os.getpid(), os.path.basename(self.dir))
        self.procs = []                # (name, Popen)
        self.pidfiles = []
        self.keep = os.environ.get("C2A_IT_KEEP") == "1"
        self.sanitizer_dest = {}       # workspace dir -> where reports belong

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def mkdir(self, *parts, owned=True):
        p = self.path(*parts)
        os.makedirs(p, exist_ok=True)
        os.chmod(p, 0o755)
        if owned:
            chown_run_user(p)
        return p

    def write(self, rel, text, mode=0o644):
        p = self.path(rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, mode)
        return p

    def spawn(self, name, cmd, env=None, user=None, cwd=None):
        """Start a process with its output in log/<name>.out."""
        logdir = self.mkdir("log")
        out = open(os.path.join(logdir, name + ".out"), "ab")
        full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin",
                    "C2A_IT_TAG": self.tag}
        if env:
            full_env.update(env)
        kw = {}
        if user:
            pw = pwd.getpwnam(user)
            kw.update(user=pw.pw_uid, group=pw.pw_gid, extra_groups=[])
        try:
            p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                 env=full_env, cwd=cwd or self.dir, start_new_session=True,
                                 **kw)
        finally:
            out.close()
        self.procs.append((name, p))
        return p

    def run(self, name, cmd, env=None, timeout=20):
        """Run to completion; returns (rc, output)."""
        full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin",
                    "C2A_IT_TAG": self.tag}
        if env:
            full_env.update(env)
        try:
            cp = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, env=full_env, cwd=self.dir,
                                timeout=timeout)
        except subprocess.TimeoutExpired as e:
            return -1, (e.output or b"").decode("utf-8", "replace") + "\n[timeout]"
        return cp.returncode, cp.stdout.decode("utf-8", "replace")

    def tagged_pids(self):
        """Pids whose initial environment carries this workspace's tag."""
        needle = ("C2A_IT_TAG=" + self.tag).encode()
        me = os.getpid()
        pids = []
        for d in os.listdir("/proc"):
            if not d.isdigit() or int(d) == me:
                continue
            try:
                with open("/proc/%s/environ" % d, "rb") as f:
                    if needle in f.read().split(b"\0"):
                        pids.append(int(d))
            except OSError:
                pass
        return pids

    def stop_all(self, grace=5.0):
        # 1. the processes we started ourselves, newest first
        for name, p in reversed(self.procs):
            if p.poll() is None:
                try:
                    p.terminate()
                except OSError:
                    pass
        deadline = time.monotonic() + grace
        for name, p in reversed(self.procs):
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    p.kill()
                    p.wait(2)
                except (OSError, subprocess.TimeoutExpired):
                    pass
        # 2. their descendants that detached (spawn-fcgi children call
        #    setsid(); lighttpd/mod_fcgid backends): found by our run's tag.
        pids = self.tagged_pids()
        for pid in pids:
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while pids and time.monotonic() < deadline:
            pids = [p for p in pids if _alive(p)]
            time.sleep(0.05)
        for pid in pids:
            _signal(pid, signal.SIGKILL)

    def sanitizer_reports(self):
        out = []
        for sdir in self.sanitizer_dest:
            if os.path.isdir(sdir):
                out += [os.path.join(sdir, f) for f in sorted(os.listdir(sdir))
                        if not _benign_report(os.path.join(sdir, f))]
        return out

    def cleanup(self):
        try:
            self.stop_all()
        finally:
            for sdir, dest in self.sanitizer_dest.items():
                for f in (os.listdir(sdir) if os.path.isdir(sdir) else []):
                    try:
                        os.makedirs(dest, exist_ok=True)
                        shutil.copy(os.path.join(sdir, f), os.path.join(dest, f))
                    except OSError as e:
                        sys.stdout.write("# could not copy sanitizer report %s: %s\n" % (f, e))
            if self.keep:
                sys.stdout.write("# kept workspace %s\n" % self.dir)
            else:
                shutil.rmtree(self.dir, ignore_errors=True)

    def log_tails(self, lines=25):
        out = []
        logdir = self.path("log")
        if not os.path.isdir(logdir):
            return ""
        for fn in sorted(os.listdir(logdir)):
            if "access" in fn:
                continue
            p = os.path.join(logdir, fn)
            try:
                with open(p, "rb") as f:
                    data = f.read().decode("utf-8", "replace").splitlines()
            except OSError:
                continue
            if data:
                out.append("--- %s (last %d lines)" % (fn, min(lines, len(data))))
                out.extend(data[-lines:])
        return "\n".join(out)


def _benign_report(path):
    """ASan's once-per-process note that it does not fully support
    swapcontext, alone in its file: fcgi/coro.c tells it of every stack
    switch, so that is no finding (tests/run-all.sh drops it too)."""
    try:
        with open(path, errors="replace") as f:
            lines = [x for x in f.read().splitlines() if x.strip()]
    except OSError:
        return False
    return bool(lines) and all("support makecontext/swapcontext functions" in x
                               for x in lines)


def finish_workspace(r, ws, label):
    """Stop everything, count sanitizer reports as failures, remove ws."""
    try:
        ws.stop_all()
        reports = ws.sanitizer_reports()
        if ws.sanitizer_dest:
            text = []
            for f in reports[:3]:
                try:
                    with open(f, errors="replace") as fh:
                        text.append("--- %s\n%s" % (os.path.basename(f), fh.read()[:3000]))
                except OSError:
                    pass
            r.check("%s: no sanitizer reports from chat2api processes" % label, not reports,
                    "\n".join(text))
    finally:
        ws.cleanup()


def _signal(pid, sig):
    try:
        os.kill(pid, sig)
    except OSError:
        pass


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def chown_run_user(path):
    if RUN_USER:
        pw = pwd.getpwnam(RUN_USER)
        os.chown(path, pw.pw_uid, pw.pw_gid)


def run_group():
    if RUN_USER:
        return grp.getgrgid(pwd.getpwnam(RUN_USER).pw_gid).gr_name
    return None


class Timeout(Exception):
    pass


def install_signal_handlers(total_seconds):
    """SIGTERM/SIGINT/SIGHUP (make, ctrl-c) and a watchdog alarm all unwind
    through the callers' finally blocks, which clean up."""
    def on_signal(sig, frame):
        raise KeyboardInterrupt("signal %d" % sig)

    def on_alarm(sig, frame):
        raise Timeout("whole run exceeded %ds" % total_seconds)
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(total_seconds)


def wait_until(fn, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() >= deadline:
            return v
        time.sleep(interval)


# ====================================================================== config helpers
def subst(text, pairs, source):
    """Replace exact strings; every `old` must occur (so a changed deploy file
    breaks the test loudly instead of silently testing something else)."""
    for old, new in pairs:
        if old not in text:
            raise HarnessError("%s: expected text %r not found (deploy file changed? "
                               "update tests/integration/harness.py)" % (source, old))
        text = text.replace(old, new)
    return text


def fill(template_name, values):
    with open(os.path.join(CONF_TEMPLATES, template_name)) as f:
        text = f.read()
    for k, v in values.items():
        text = text.replace("@%s@" % k, str(v))
    if "@" in text:
        import re
        left = sorted(set(re.findall(r"@[A-Z0-9_]+@", text)))
        if left:
            raise HarnessError("%s: unfilled placeholders %s" % (template_name, left))
    return text


def read_deploy(rel):
    p = os.path.join(DEPLOY, rel)
    with open(p) as f:
        return f.read()


def nginx_limits():
    """worker_connections and worker_rlimit_nofile of deploy/nginx/streams.conf."""
    import re
    text = read_deploy("nginx/streams.conf")
    out = dict(re.findall(r"^\s*(worker_connections|worker_rlimit_nofile)\s+(\d+);", text, re.M))
    if len(out) != 2:
        raise HarnessError("deploy/nginx/streams.conf: limits not found")
    return out


def systemd_execstart(rel):
    """argv of ExecStart= in a deploy/systemd unit."""
    import shlex
    for line in read_deploy(rel).splitlines():
        if line.startswith("ExecStart="):
            return shlex.split(line[len("ExecStart="):])
    raise HarnessError("%s: no ExecStart=" % rel)


# ====================================================================== app env
SANITIZER_VARS = ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS",
                  "MSAN_OPTIONS")
# Variables the deploy files already set for chat2api; the harness adds the
# rest of app_env() next to them.
DEPLOY_ENV_KEYS = {"CHAT2API_DATA_DIR", "CHAT2API_THREADS", "CHAT2API_LOG", "CHAT2API_LOG_LEVEL"}


def sanitizer_env(ws):
    """Pass sanitizer settings of a --sanitize build through to chat2api.

    A log_path=DIR/prefix is redirected into the workspace (the app runs as
    www-data and may not write DIR); Workspace.cleanup() copies the reports
    back to DIR, where tests/run-all.sh looks for them."""
    env = {}
    for var in SANITIZER_VARS:
        val = os.environ.get(var)
        if not val:
            continue
        opts = []
        for opt in val.split(":"):
            if opt.startswith("log_path="):
                dest = opt[len("log_path="):]
                sdir = ws.mkdir("sanitizer")
                ws.sanitizer_dest[sdir] = os.path.dirname(os.path.abspath(dest))
                opt = "log_path=" + os.path.join(sdir, os.path.basename(dest))
            opts.append(opt)
        env[var] = ":".join(opts)
    return env


# C2A_IT_STORE=redis://host:port/db runs a test program's chat2api
# instances and CLI calls on Redis, under one key prefix per program.
if os.environ.get("C2A_IT_STORE") and not os.environ.get("CHAT2API_STORE"):
    os.environ["CHAT2API_STORE"] = "%s?prefix=it%d_%s:" % (
        os.environ["C2A_IT_STORE"], os.getpid(), hashlib.sha256(os.urandom(8)).hexdigest()[:6])


def app_env(ws, name, extra=None, data="data"):
    """Environment every chat2api instance of the tests gets."""
    datadir = ws.mkdir(data)
    ws.mkdir("log")
    env = {
        "CHAT2API_DATA_DIR": datadir,
        "CHAT2API_TEST_ROUTES": "1",
        "CHAT2API_MAX_BODY": "65536",
        "CHAT2API_SSE_KEEPALIVE": "1",
        "CHAT2API_THREADS": "8",
        "CHAT2API_GRACE": "10",
        "CHAT2API_LOG": "file:" + ws.path("log", "app-%s.log" % name),
        "CHAT2API_LOG_LEVEL": "info",
        # the tests of one answer per upstream chat (deleted after it); the
        # multi-turn sessions have test_sessions.py, which turns them on
        "SESSIONS": "false",
        "C2A_IT_TAG": ws.tag,
    }
    if os.environ.get("C2A_IT_STORE"):
        env["CHAT2API_STORE"] = os.environ["CHAT2API_STORE"]
    env.update(sanitizer_env(ws))
    if extra:
        env.update(extra)
    return env


def extra_env(env, deploy_text=""):
    """app_env() entries the deploy file does not set itself (a variant
    such as the gateway's sets more: its own values stand)."""
    own = set()
    for line in deploy_text.splitlines():
        if not line.lstrip().startswith("#"):
            own.update(k for k in env if re.search(r"\b%s\b" % re.escape(k), line))
    return sorted((k, v) for k, v in env.items() if k not in DEPLOY_ENV_KEYS and k not in own)


def conf_quote(v):
    return '"%s"' % v.replace("\\", "\\\\").replace('"', '\\"')


PFX_ENV = {"API_PREFIX": "secret", "CHAT2API_MOUNT": "/pfx"}


# ====================================================================== front ends
class Frontend:
    """One real web server in front of chat2api.

    .port      main instance: the deploy/ config with paths/ports replaced
    .pfx_port  second instance mounted at /pfx/ with API_PREFIX=secret
    """
    name = "?"
    needs = []            # programs
    needs_files = []      # e.g. apache modules

    def __init__(self, ws, binary, pfx=True, bench=False, procs=None, variant=None):
        self.ws = ws
        self.bin = binary
        self.variant = variant         # "gateway": deploy/*/*-gateway.conf
        self.with_pfx = pfx
        self.bench = bench
        self.streams = False           # nginx: deploy/nginx/streams.conf's limits
        self.procs = procs
        self.port = free_port()
        self.pfx_port = free_port()
        self.pidfiles = []
        self.app_extra = {}            # extra/overriding env for the main instance

    def check_installed(self):
        for p in self.needs:
            which(p)
        for f in self.needs_files:
            if not os.path.exists(f):
                raise Missing("%s is not installed" % f)

    def start(self):
        raise NotImplementedError

    def ready(self, timeout=15.0):
        """Wait until /health answers 200 on every instance (mod_fcgid and
        lighttpd spawn processes lazily or slowly)."""
        targets = [(self.port, "/health")]
        if self.with_pfx:
            targets.append((self.pfx_port, "/pfx/health"))
        last = None
        for port, path in targets:
            deadline = time.monotonic() + timeout
            while True:
                dead = [n for n, p in self.ws.procs if p.poll() is not None and
                        n not in self.oneshot_names()]
                if dead:
                    raise HarnessError("%s: process(es) %s exited early" % (self.name, dead))
                last = http(port, "GET", path, timeout=5)
                if last.status == 200:
                    break
                if time.monotonic() > deadline:
                    raise HarnessError("%s: %s on port %d never answered 200: %s" % (
                        self.name, path, port, last.describe()))
                time.sleep(0.1)

    def oneshot_names(self):
        return ()

    def deploy_file(self, base):
        """deploy/<base>.conf, or its variant deploy/<base>-<variant>.conf."""
        return "%s%s.conf" % (base, "-" + self.variant if self.variant else "")

    def app_pids(self):
        pids = []
        for pf in self.pidfiles:
            try:
                with open(pf) as f:
                    pids += [int(x) for x in f.read().split()]
            except (OSError, ValueError):
                pass
        return pids

    def spawn_fcgi(self, label, sock, env, procs=1, pidfile=None):
        """spawn-fcgi with the flags of deploy/systemd/chat2api.service.

        The unit uses -n (one exec'd process, supervised by systemd); here the
        same socket flags are used without -n so that -F N works and the
        children's pids land in a pid file."""
        argv = systemd_execstart("systemd/chat2api.service")
        if os.path.basename(argv[0]) != "spawn-fcgi":
            raise HarnessError("chat2api.service: ExecStart is not spawn-fcgi: %r" % argv)
        for old, new in (("/run/chat2api/chat2api.sock", sock), ("/usr/local/bin/chat2api", self.bin)):
            if old not in argv:
                raise HarnessError("deploy/systemd/chat2api.service: %r not in ExecStart" % old)
            argv = [new if a == old else a for a in argv]
        argv[0] = which("spawn-fcgi")
        argv = [a for a in argv if a != "-n"]
        sep = argv.index("--")
        extra = ["-F", str(procs)]
        if pidfile:
            extra += ["-P", pidfile]
            self.pidfiles.append(pidfile)
        if RUN_USER:
            grp_name = run_group()
            # the unit gets these from User=/Group=; spawn-fcgi as root needs flags
            extra += ["-u", RUN_USER, "-g", grp_name, "-U", RUN_USER, "-G", grp_name]
        argv = argv[:sep] + extra + argv[sep:]
        rc, out = self.ws.run("spawn-fcgi-" + label, argv, env=env)
        with open(self.ws.path("log", "spawn-fcgi-%s.out" % label), "a") as f:
            f.write(out)
        if rc != 0:
            raise HarnessError("spawn-fcgi (%s) failed rc=%d: %s" % (label, rc, out.strip()))
        return argv

    def listen_app(self, label, spec, env):
        """chat2api --listen SPEC, as in deploy/systemd/chat2api-listen.service."""
        argv = systemd_execstart("systemd/chat2api-listen.service")
        argv = [self.bin if a == "/usr/local/bin/chat2api" else a for a in argv]
        if "--listen" not in argv:
            raise HarnessError("chat2api-listen.service: no --listen in ExecStart")
        i = argv.index("--listen")
        argv[i + 1] = spec
        return self.ws.spawn("app-" + label, argv, env=env, user=RUN_USER)


# ---------------------------------------------------------------- nginx
class Nginx(Frontend):
    name = "nginx+spawn-fcgi"
    key = "nginx"
    needs = ["nginx", "spawn-fcgi"]

    def start(self):
        ws = self.ws
        ws.mkdir("nginx", owned=False)
        run = ws.mkdir("run")
        sock = os.path.join(run, "chat2api.sock")
        sock2 = os.path.join(run, "pfx.sock")
        conf = ws.mkdir("nginx", "conf", owned=False)
        shutil.copy(os.path.join(NGINX_CONF_DIR, "fastcgi_params"), conf)
        name = self.deploy_file("nginx/chat2api")
        logline, fmt = "access_log /var/log/nginx/chat2api.access.log", ""
        if self.variant:
            logline = "access_log /var/log/nginx/chat2api-%s.access.log" % self.variant
            fmt = " chat2api_" + self.variant
        server = subst(read_deploy(name), [
            ("listen 80;", "listen 127.0.0.1:%d;" % self.port),
            ("listen [::]:80;", "# (ipv6 listen removed by the test harness)"),
            (logline + fmt + ";", "access_log off;" if self.bench else
             "access_log %s%s;" % (ws.path("log", "nginx-access.log"), fmt)),
            ("/var/log/nginx/chat2api.error.log", ws.path("log", "nginx-error.log")),
            ("unix:/run/chat2api/chat2api.sock", "unix:" + sock),
        ], "deploy/" + name)
        ws.write("nginx/conf/chat2api.conf", server)
        pfx = ""
        if self.with_pfx:
            pfx = fill("nginx-pfx.conf.in", {"SOCK2": sock2})
        # many streams: the shipped main-context limits (deploy/nginx/streams.conf)
        limits = nginx_limits() if self.streams else {}
        main = fill("nginx.conf.in", {
            "USER_LINE": ("user %s %s;" % (RUN_USER, run_group())) if RUN_USER else "",
            "WS": ws.dir, "PORT2": self.pfx_port, "PFX_LOCATION": pfx,
            "WORKERS": os.environ.get("C2A_NGINX_WORKERS", "1"),
            "CONNECTIONS": limits.get("worker_connections", "1024"),
            "RLIMIT_LINE": ("worker_rlimit_nofile %s;" % limits["worker_rlimit_nofile"]
                            if "worker_rlimit_nofile" in limits else ""),
        })
        main_path = ws.write("nginx/conf/nginx.conf", main)

        nprocs = self.procs or 2
        self.spawn_fcgi("main", sock, app_env(ws, "main", self.app_extra), procs=nprocs,
                        pidfile=ws.path("run", "app-main.pid"))
        if self.with_pfx:
            # the mounted instance binds its own socket (chat2api --listen)
            self.listen_app("pfx", "unix:" + sock2, app_env(ws, "pfx", PFX_ENV, data="data-pfx"))
            if not wait_until(lambda: os.path.exists(sock2), 10):
                raise HarnessError("chat2api --listen unix:%s did not create the socket" % sock2)
        nginx = which("nginx")
        rc, out = ws.run("nginx-t", [nginx, "-t", "-q", "-e", ws.path("log", "nginx-error.log"),
                                     "-p", ws.path("nginx") + "/", "-c", main_path])
        if rc != 0:
            raise HarnessError("nginx -t failed:\n" + out)
        ws.spawn("nginx", [nginx, "-e", ws.path("log", "nginx-error.log"),
                           "-p", ws.path("nginx") + "/", "-c", main_path])
        self.ready()


# ---------------------------------------------------------------- lighttpd
class Lighttpd(Frontend):
    name = "lighttpd(bin-path)"
    key = "lighttpd"
    needs = ["lighttpd"]

    def start(self):
        ws = self.ws
        ws.mkdir("lighttpd", owned=False)
        run = ws.mkdir("run")
        www = ws.mkdir("www")
        tmp = ws.mkdir("tmp")
        env = app_env(ws, "main", self.app_extra)
        name = self.deploy_file("lighttpd/chat2api")
        text = read_deploy(name)
        extra = "".join('\n                "%s" => %s,' % (k, conf_quote(v))
                        for k, v in extra_env(env, text))
        snippet = subst(text, [
            ('$HTTP["host"] == "chat2api.example.com"',
             '$SERVER["socket"] == "127.0.0.1:%d"' % self.port),
            ("/usr/local/bin/chat2api", self.bin),
            ("/run/lighttpd/chat2api.sock", os.path.join(run, "chat2api.sock")),
            ("/var/lib/chat2api", env["CHAT2API_DATA_DIR"]),
            ('"CHAT2API_LOG"       => "syslog"', '"CHAT2API_LOG" => "%s"' % env["CHAT2API_LOG"]),
            ('"bin-environment" => (', '"bin-environment" => (' + extra),
        ], "deploy/" + name)
        ws.write("lighttpd/chat2api.conf", snippet)
        pfx = ""
        if self.with_pfx:
            penv = app_env(ws, "pfx", PFX_ENV, data="data-pfx")
            pfx = fill("lighttpd-pfx.conf.in", {
                "PORT2": self.pfx_port, "BIN": self.bin,
                "SOCK2": os.path.join(run, "pfx.sock"),
                "ENV": "".join('\n                "%s" => %s,' % (k, conf_quote(v))
                               for k, v in sorted(penv.items())),
            })
        users = ""
        if RUN_USER:
            users = 'server.username = "%s"\nserver.groupname = "%s"' % (RUN_USER, run_group())
        main = fill("lighttpd.conf.in", {
            "WS": ws.dir, "PORT": self.port, "USERS": users, "WWW": www, "TMP": tmp,
            "PFX": pfx,
        })
        main_path = ws.write("lighttpd/lighttpd.conf", main)
        lt = which("lighttpd")
        rc, out = ws.run("lighttpd-tt", [lt, "-tt", "-f", main_path])
        if rc != 0:
            raise HarnessError("lighttpd -tt failed:\n" + out)
        ws.spawn("lighttpd", [lt, "-D", "-f", main_path])
        self.ready()


# ---------------------------------------------------------------- apache
class _Apache(Frontend):
    modules = []          # (module name, file) beyond the common set
    common = [("mpm_event_module", "mod_mpm_event.so"),
              ("authz_core_module", "mod_authz_core.so"),
              ("mime_module", "mod_mime.so"),
              ("env_module", "mod_env.so"),
              ("setenvif_module", "mod_setenvif.so"),
              ("log_config_module", None)]    # compiled in on Debian

    @property
    def needs_files(self):
        return [os.path.join(APACHE_MODULES, f) for _, f in self.all_modules() if f]

    needs = ["apache2"]

    def all_modules(self):
        # the gateway variants refuse WebSocket upgrades with mod_rewrite
        extra = [("rewrite_module", "mod_rewrite.so")] if self.variant else []
        return self.common + self.modules + [m for m in extra if m not in self.modules]

    def load_lines(self):
        out = []
        for mod, f in self.all_modules():
            if f:
                out.append("LoadModule %s %s" % (mod, os.path.join(APACHE_MODULES, f)))
        return "\n".join(out)

    def start_apache(self, vhost_text, extra_main=""):
        ws = self.ws
        aroot = ws.mkdir("apache", owned=False)
        arun = ws.mkdir("apache", "run", owned=False)
        ws.write("apache/mime.types", "")
        ws.write("apache/chat2api.conf", vhost_text)
        users = ""
        if RUN_USER:
            users = "User %s\nGroup %s" % (RUN_USER, run_group())
        main = fill("apache.conf.in", {
            "AROOT": aroot, "ARUN": arun, "WS": ws.dir, "PORT": self.port,
            "LISTEN2": ("Listen 127.0.0.1:%d" % self.pfx_port) if self.pfx_port != self.port else "",
            "USERS": users, "LOADMODULES": self.load_lines(),
            "EXTRA": extra_main,
        })
        main_path = ws.write("apache/apache2.conf", main)
        a2 = which("apache2")
        rc, out = ws.run("apache-t", [a2, "-t", "-f", main_path])
        if rc != 0:
            raise HarnessError("apache2 -t failed:\n" + out)
        ws.spawn("apache2", [a2, "-f", main_path, "-DFOREGROUND"])
        self.ready()


class ApacheProxyFcgi(_Apache):
    name = "apache+mod_proxy_fcgi"
    key = "proxy_fcgi"
    needs = ["apache2", "spawn-fcgi"]
    modules = [("proxy_module", "mod_proxy.so"), ("proxy_fcgi_module", "mod_proxy_fcgi.so")]

    def start(self):
        ws = self.ws
        run = ws.mkdir("run")
        sock = os.path.join(run, "chat2api.sock")
        name = self.deploy_file("apache/proxy_fcgi")
        vhost = subst(read_deploy(name), [
            ("<VirtualHost *:80>", "<VirtualHost 127.0.0.1:%d>" % self.port),
            ("unix:/run/chat2api/chat2api.sock|", "unix:%s|" % sock),
        ], "deploy/" + name)
        pfx = ""
        if self.with_pfx:
            tcp = free_port()
            pfx = fill("apache-proxy-pfx.conf.in", {"PORT2": self.pfx_port, "TCPPORT": tcp})
            # the mounted instance listens on TCP (chat2api --listen host:port)
            self.listen_app("pfx", "127.0.0.1:%d" % tcp, app_env(ws, "pfx", PFX_ENV, data="data-pfx"))
        self.spawn_fcgi("main", sock, app_env(ws, "main", self.app_extra), procs=self.procs or 2,
                        pidfile=ws.path("run", "app-main.pid"))
        self.start_apache(vhost + "\n" + pfx)


class ApacheFcgid(_Apache):
    name = "apache+mod_fcgid"
    key = "fcgid"
    modules = [("fcgid_module", "mod_fcgid.so")]

    def start(self):
        ws = self.ws
        www = ws.mkdir("www")
        fdir = ws.mkdir("fcgid")
        env = app_env(ws, "main", self.app_extra)
        name = self.deploy_file("apache/fcgid")
        text = read_deploy(name)
        extra = "".join("\n    FcgidInitialEnv %s %s" % (k, conf_quote(v))
                        for k, v in extra_env(env, text))
        vhost = subst(text, [
            ("<VirtualHost *:80>", "<VirtualHost 127.0.0.1:%d>%s" % (self.port, extra)),
            ("DocumentRoot /var/www/html", "DocumentRoot %s" % www),
            ("FcgidWrapper /usr/local/bin/chat2api virtual", "FcgidWrapper %s virtual" % self.bin),
            ("FcgidInitialEnv CHAT2API_DATA_DIR /var/lib/chat2api",
             "FcgidInitialEnv CHAT2API_DATA_DIR %s" % env["CHAT2API_DATA_DIR"]),
        ], "deploy/" + name)
        pfx = ""
        if self.with_pfx:
            penv = app_env(ws, "pfx", PFX_ENV, data="data-pfx")
            pfx = fill("apache-fcgid-pfx.conf.in", {
                "PORT2": self.pfx_port, "BIN": self.bin, "WWW": www,
                "ENV": "".join("\n    FcgidInitialEnv %s %s" % (k, conf_quote(v))
                               for k, v in sorted(penv.items())),
            })
        main_extra = "FcgidIPCDir %s\nFcgidProcessTableFile %s" % (
            os.path.join(fdir, "sock"), os.path.join(fdir, "shm"))
        self.start_apache(vhost + "\n" + pfx, main_extra)


class ApacheCgi(_Apache):
    """Plain CGI through mod_cgid with the shipped deploy/cgi/.htaccess."""
    name = "apache+mod_cgid(.htaccess)"
    key = "cgi"
    modules = [("cgid_module", "mod_cgid.so"), ("rewrite_module", "mod_rewrite.so"),
               ("dir_module", "mod_dir.so"), ("deflate_module", "mod_deflate.so"),
               ("filter_module", "mod_filter.so")]

    def start(self):
        ws = self.ws
        www = ws.mkdir("www", owned=False)
        pfxdir = ws.mkdir("www", "pfx", owned=False)
        htaccess = read_deploy("cgi/.htaccess")
        ws.write("www/.htaccess", htaccess)
        shutil.copy(self.bin, os.path.join(www, "chat2api.cgi"))
        os.chmod(os.path.join(www, "chat2api.cgi"), 0o755)
        # The mounted copy tests the SetEnvIf fallback: CGIPassAuth removed.
        ws.write("www/pfx/.htaccess", subst(htaccess, [("\nCGIPassAuth On\n", "\n")],
                                            "deploy/cgi/.htaccess"))
        shutil.copy(self.bin, os.path.join(pfxdir, "chat2api.cgi"))
        os.chmod(os.path.join(pfxdir, "chat2api.cgi"), 0o755)
        env = app_env(ws, "main")
        penv = app_env(ws, "pfx", PFX_ENV, data="data-pfx")
        self.pfx_port = self.port
        vhost = fill("apache-cgi.conf.in", {
            "PORT": self.port, "WWW": www, "PFXDIR": pfxdir,
            "ENV": "".join("\n        SetEnv %s %s" % (k, conf_quote(v)) for k, v in sorted(env.items())),
            "PFXENV": "".join("\n        SetEnv %s %s" % (k, conf_quote(v))
                              for k, v in sorted(penv.items())),
        })
        self.start_apache(vhost, "ScriptSock %s" % ws.path("apache", "run", "cgid.sock"))


FRONTENDS = [Nginx, Lighttpd, ApacheProxyFcgi, ApacheFcgid, ApacheCgi]


# ====================================================================== raw FastCGI client
def fcgi_request(address, params, body=b"", timeout=10.0):
    """One FastCGI request straight to a responder (no web server).

    address: a unix socket path or (host, port).  Returns a Response built
    from the CGI-style STDOUT stream (Status: header -> .status)."""
    import struct

    def rec(rtype, content):
        return struct.pack("!BBHHBB", 1, rtype, 1, len(content), 0, 0) + content

    def nv(k, v):
        out = b""
        for x in (k, v):
            n = len(x)
            out += struct.pack("!B", n) if n < 128 else struct.pack("!I", n | 0x80000000)
        return out + k + v
    pdata = b"".join(nv(k.encode(), str(v).encode()) for k, v in params.items())
    msg = rec(1, struct.pack("!HB5x", 1, 0))          # BEGIN_REQUEST, responder
    for i in range(0, len(pdata), 65535):
        msg += rec(4, pdata[i:i + 65535])
    msg += rec(4, b"")
    for i in range(0, len(body), 65535):
        msg += rec(5, body[i:i + 65535])
    msg += rec(5, b"")
    fam = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    resp = Response()
    out = b""
    try:
        s.connect(address)
        s.sendall(msg)
        buf = b""
        ended = False
        while not ended:
            data = s.recv(65536)
            if not data:
                break
            buf += data
            while len(buf) >= 8:
                _, rtype, _, clen, plen, _ = struct.unpack("!BBHHBB", buf[:8])
                if len(buf) < 8 + clen + plen:
                    break
                content, buf = buf[8:8 + clen], buf[8 + clen + plen:]
                if rtype == 6:
                    out += content
                elif rtype == 3:
                    ended = True
        if not ended:
            resp.error = "no END_REQUEST"
    except OSError as e:
        resp.error = "fastcgi: %s" % e
    finally:
        s.close()
    i = out.find(b"\r\n\r\n")
    j = out.find(b"\n\n")
    if i < 0 and j < 0:
        return resp
    cut, skip = (i, 4) if i >= 0 and (j < 0 or i < j) else (j, 2)
    resp.status = 200
    for line in out[:cut].decode("latin-1").replace("\r\n", "\n").split("\n"):
        if ":" in line:
            k, v = line.split(":", 1)
            resp.headers.append((k.strip(), v.strip()))
            if k.strip().lower() == "status":
                try:
                    resp.status = int(v.split()[0])
                except (ValueError, IndexError):
                    pass
    resp.body = out[cut + skip:]
    return resp


def fcgi_params(method, uri, body=b"", ctype=None):
    p = {"GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": method, "REQUEST_URI": uri,
         "SCRIPT_NAME": uri.split("?")[0], "QUERY_STRING": uri.split("?", 1)[1] if "?" in uri else "",
         "SERVER_PROTOCOL": "HTTP/1.1", "SERVER_NAME": "localhost", "SERVER_PORT": "80",
         "REMOTE_ADDR": "127.0.0.1", "CONTENT_LENGTH": str(len(body)) if body else ""}
    if ctype:
        p["CONTENT_TYPE"] = ctype
    return p
