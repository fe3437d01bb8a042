#!/usr/bin/env python3
"""Accounts of several providers end to end: nginx + spawn-fcgi + chat2api +
the DeepSeek and ChatGPT mocks, LMDB under a data dir.

  * a data dir written by the previous release (store schema 1) opens and
    keeps every token, kind, team id, status and error;
  * load balancing per provider: round-robin, fill-first (one account until
    its daily limit), failover (first healthy), weighted — counted by the
    mock per account;
  * daily limits: the next account, then 429 with Retry-After when all are
    spent; the next day (the store clock moved) they serve again;
  * per-request failover: 40003 (expired), 401, 429 (cool-down) and 5xx
    move the request to the next account before the first byte;
  * no usable account: 503 no_available_account naming the model;
  * proxy API keys: REQUIRE_API_KEY, Bearer / X-API-Key / ?api_key=, wrong,
    disabled, counted; a client's own DeepSeek userToken used as is;
  * model mappings from MODEL_MAPPING and `models map`, exact before
    wildcard, pinned to a provider or an account; /v1/models;
  * eight processes drawing accounts at once: exact counts, never over a
    limit.

Env: CHAT2API_BIN, CHAT2API_ALLOW_SKIP=1, C2A_IT_KEEP=1.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "mock"))

import harness  # noqa: E402
from harness import HarnessError, Results  # noqa: E402
import chatgpt_mock  # noqa: E402
import deepseek_mock  # noqa: E402

CODE = "accounts-code-1"
U1 = deepseek_mock.DEFAULT_USER_TOKEN
U2 = deepseek_mock.OTHER_USER_TOKEN
U3 = "dsMockUserToken0003ThirdUserThirdUserThirdUserThirdUser0123456789"
U4 = "dsMockUserToken0004FourthUserFourthUserFourthUserFourth0123456789"
FIXTURE = os.path.join(HERE, "data", "store-v1")


def fp(secret):
    import hashlib
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


class Cli:
    """chat2api accounts|keys|models|tokens on the service's data dir."""

    def __init__(self, binary, datadir, extra):
        self.bin = binary
        self.env = dict(os.environ, CHAT2API_DATA_DIR=datadir,
                        CHAT2API_LOG_LEVEL="warn", **extra)
        self.prefix = ["runuser", "-u", harness.RUN_USER, "--"] if harness.RUN_USER else []

    def argv(self, *args):
        return self.prefix + [self.bin] + list(args)

    def run(self, *args, stdin=None, env=None):
        e = dict(self.env, **(env or {}))
        p = subprocess.run(self.argv(*args), input=stdin, capture_output=True, text=True,
                           env=e, timeout=60)
        return p.returncode, p.stdout, p.stderr

    def accounts(self, provider=None):
        return self.accounts_on(provider, None)

    def accounts_on(self, provider, env):
        """The listing as the store sees it with env (a moved clock)."""
        if env:
            env = dict(env, CHAT2API_TEST_ROUTES="1")
        rc, out, err = self.run("accounts", "list", *([provider] if provider else []),
                                env=env)
        rows = {}
        for line in out.splitlines()[1:]:
            if line.startswith("#") or not line.strip():
                continue
            p = line.split()
            rows[p[0]] = {"provider": p[1], "kind": p[2], "status": p[3], "today": p[4],
                          "weight": p[5], "ok": int(p[7]), "failed": int(p[8]), "line": line}
        return rows


class App:
    """The FastCGI processes behind nginx, restarted with new settings."""

    def __init__(self, fe, ws):
        self.fe = fe
        self.ws = ws
        self.sock = ws.path("run", "chat2api.sock")

    def restart(self, extra, procs=4):
        pids = self.fe.app_pids()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(os.path.exists("/proc/%d" % p) and
                                                  not _zombie(p) for p in pids):
            time.sleep(0.05)
        for pf in self.fe.pidfiles:
            try:
                os.unlink(pf)
            except OSError:
                pass
        self.fe.pidfiles = []
        self.fe.app_extra = extra
        self.fe.spawn_fcgi("main", self.sock, harness.app_env(self.ws, "main", extra),
                           procs=procs, pidfile=self.ws.path("run", "app-main.pid"))
        self.fe.ready()


def _zombie(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


def chat(port, model, content="hello", token=None, headers=None, stream=False, path=None):
    body = {"model": model, "messages": [{"role": "user", "content": content}]}
    if stream:
        body["stream"] = True
    h = {"Content-Type": "application/json"}
    if token:
        h["Authorization"] = "Bearer " + token
    h.update(headers or {})
    return harness.http(port, "POST", path or "/v1/chat/completions", json.dumps(body),
                        headers=h, timeout=60)


def err_code(resp):
    return ((resp.json() or {}).get("error") or {}).get("code")


def completions(mock, since):
    """Completions per userToken since a snapshot taken before."""
    now = mock.snapshot().get("completions", {})
    return {k: now.get(k, 0) - since.get(k, 0) for k in set(now) | set(since)
            if now.get(k, 0) - since.get(k, 0)}


def served(mock):
    return dict(mock.snapshot().get("completions", {}))


def main():
    r = Results("test_accounts")
    harness.install_signal_handlers(900)
    binary = harness.find_binary()
    ws = harness.Workspace("accounts")
    ds = deepseek_mock.DeepSeekMock().start()
    cg = chatgpt_mock.ChatGPTMock().start()
    try:
        ds.configure({"add_user_tokens": [U3, U4]})
        # the tokens of the schema 1 fixture are known to the ChatGPT mock
        with open(os.path.join(FIXTURE, "export.txt")) as f:
            v1 = [line.strip() for line in f if line.strip()]
        cg.configure({"add_access_tokens": [t.split(",")[0] for t in v1]})

        # --- a data dir of the previous release, opened by this one
        data = ws.mkdir("data")
        for name in ("data.mdb", "secret.key"):
            shutil.copy(os.path.join(FIXTURE, name), os.path.join(data, name))
            harness.chown_run_user(os.path.join(data, name))
        base = {"DEEPSEEK_BASE_URL": ds.url, "CHATGPT_BASE_URL": cg.url,
                "OAUTH_URL": cg.url + "/oauth/token", "RETRY_TIMES": "3"}
        cli = Cli(binary, data, base)
        fe = harness.Nginx(ws, binary, pfx=False, procs=4)
        fe.check_installed()
        fe.app_extra = dict(base, AUTHORIZATION=CODE)
        fe.start()
        port = fe.port
        app = App(fe, ws)

        rc, out, err = cli.run("tokens", "export")
        r.check("schema 1 data dir: every token kept (export equal)",
                rc == 0 and sorted(out.split()) == sorted(v1), out + err)
        rows = cli.accounts("chatgpt")
        st = {row["kind"] + "/" + row["status"] for row in rows.values()}
        r.check("schema 1: kinds and statuses kept", len(rows) == 7 and
                {"access_token/active", "refresh_token/active", "other/active",
                 "access_token/cooling", "access_token/error"} <= st, str(rows))
        r.check("schema 1: the error reason kept",
                "401 invalid_api_key" in rows.get(fp("eyJv1.foxtrot.sig"), {}).get("line", ""),
                str(rows.get(fp("eyJv1.foxtrot.sig"))))
        rc, out, err = cli.run("tokens", "list")
        r.check("schema 1: the team id kept", "team-77" in out, out)
        resp = harness.http(port, "GET", "/tokens", headers={"Authorization": "Bearer " + CODE})
        doc = resp.json() or {}
        r.check("schema 1: /tokens counts the migrated pool",
                resp.status == 200 and doc.get("total") == 7 and doc.get("error") == 1,
                resp.describe())
        resp = chat(port, "gpt-4o", "through a migrated token", token=CODE)
        used = {u["token"] for u in cg.snapshot().get("token_uses", [])}
        r.check("schema 1: a migrated token serves a pooled request",
                resp.status == 200 and used & {t.split(",")[0] for t in v1}, resp.describe())
        mst = subprocess.run(["mdb_stat", "-a", data], capture_output=True, text=True)
        r.check("schema 1: the old creds table is empty, accounts hold the tokens",
                mst.returncode == 0 and "accounts" in mst.stdout, mst.stdout[-300:])

        # --- DeepSeek accounts and the CLI
        ids = {}
        for tok, label in ((U1, "first"), (U2, "second"), (U3, "third")):
            rc, out, err = cli.run("accounts", "add", "deepseek", tok, "--label", label)
            ids[tok] = fp(tok)
            r.check("accounts add deepseek (%s)" % label, rc == 0 and "added" in out, out + err)
            time.sleep(1.05)    # distinct creation times: fill-first's order
        rc, out, err = cli.run("accounts", "add", "deepseek", "-", stdin=json.dumps(
            {"value": U1, "__version": "0"}))
        r.check("accounts add: Local Storage JSON from stdin is the same account",
                rc == 0 and "already present" in out, out + err)
        rc, out, err = cli.run("accounts", "add", "deepseek", "sk-short")
        r.check("accounts add: a placeholder is refused", rc != 0, out + err)
        rc, out, err = cli.run("accounts", "add", "chatgpt", "eyJcli.team.sig",
                               "--set", "account_id=team-9", "--label", "cli")
        rc2, out2, err2 = cli.run("tokens", "list")
        r.check("accounts add chatgpt --set account_id=: the team id is kept",
                rc == 0 and "team-9" in out2, out + err + out2)
        rc, out, err = cli.run("accounts", "add", "deepseek", "x" * 30, "--set", "nope=1")
        r.check("accounts add --set with a field the provider lacks is refused",
                rc != 0 and "nope" in err, out + err)
        rc, out, err = cli.run("accounts", "add", "nosuch", "x" * 30)
        r.check("accounts add: an unknown provider is refused", rc == 2 and "nosuch" in err,
                out + err)
        rows = cli.accounts("deepseek")
        r.check("accounts list deepseek: three accounts, fingerprints only",
                set(rows) == set(ids.values()) and U1 not in json.dumps(rows), str(rows))
        rc, out, err = cli.run("accounts", "validate", "deepseek")
        r.check("accounts validate: valid, e-mail and latency recorded",
                rc == 0 and out.count("valid") >= 3 and "@" in out, out + err)

        def strategy(name, extra=None):
            app.restart(dict(base, AUTHORIZATION=CODE, LB_STRATEGY_DEEPSEEK=name,
                             **(extra or {})))

        # --- round-robin (the default) across 4 processes
        strategy("round-robin")
        s0 = served(ds)
        ok = [chat(port, "DeepSeek-V3.2", "rr %d" % i, token=CODE).status for i in range(9)]
        c = completions(ds, s0)
        r.check("round-robin: 9 requests, 3 per account", ok == [200] * 9 and
                sorted(c.values()) == [3, 3, 3] and set(c) == {U1, U2, U3}, str(c))

        # --- weighted 1,2,3
        for tok, w in ((U1, 1), (U2, 2), (U3, 3)):
            cli.run("accounts", "set", ids[tok], "--weight", str(w))
        strategy("weighted")
        s0 = served(ds)
        ok = [chat(port, "DeepSeek-V3.2", "w %d" % i, token=CODE).status for i in range(12)]
        c = completions(ds, s0)
        r.check("weighted 1:2:3: 12 requests give 2/4/6", ok == [200] * 12 and
                (c.get(U1), c.get(U2), c.get(U3)) == (2, 4, 6), str(c))
        for tok in (U1, U2, U3):
            cli.run("accounts", "set", ids[tok], "--weight", "1")

        # --- fill-first with daily limits, then the next day
        for tok in (U1, U2, U3):
            cli.run("accounts", "set", ids[tok], "--daily-limit", "2")
        # a fresh day for the limits: the requests above counted today
        day1 = {"CHAT2API_TZ": "Asia/Shanghai", "CHAT2API_TEST_CLOCK_SKEW": "86400"}
        day2 = {"CHAT2API_TZ": "Asia/Shanghai", "CHAT2API_TEST_CLOCK_SKEW": "172800"}
        strategy("fill-first", day1)
        s0 = served(ds)
        order = []
        for i in range(6):
            b = served(ds)
            resp = chat(port, "DeepSeek-V3.2", "ff %d" % i, token=CODE)
            d = completions(ds, b)
            order.append((resp.status, list(d)[0] if d else None))
        r.check("fill-first: the oldest account until its limit, then the next",
                [o[1] for o in order] == [U1, U1, U2, U2, U3, U3] and
                all(o[0] == 200 for o in order),
                str([(o[0], fp(o[1]) if o[1] else None) for o in order]))
        resp = chat(port, "DeepSeek-V3.2", "ff over", token=CODE)
        ra = resp.header("retry-after")
        r.check("every account over its daily limit: 429 daily_limit_reached, Retry-After",
                resp.status == 429 and err_code(resp) == "daily_limit_reached" and
                ra is not None and 0 < int(ra) <= 86400 and
                "Asia/Shanghai" in resp.text(), resp.describe())
        rows = cli.accounts_on("deepseek", day1)
        r.check("accounts list: today's use 2/2 on each",
                all(rows[ids[t]]["today"] == "2/2" for t in (U1, U2, U3)), str(rows))
        strategy("fill-first", day2)
        s0 = served(ds)
        resp = chat(port, "DeepSeek-V3.2", "next day", token=CODE)
        c = completions(ds, s0)
        r.check("the next day (store clock + 1 day): served again, by the first account",
                resp.status == 200 and c == {U1: 1}, resp.describe() + str(c))
        rc, out, err = cli.run("accounts", "list", "deepseek",
                               env=dict(day2, CHAT2API_TEST_ROUTES="1"))
        r.check("the next day: today's use starts again from 0 (1/2, 0/2, 0/2)",
                "1/2" in out and out.count("0/2") == 2, out)
        for tok in (U1, U2, U3):
            cli.run("accounts", "set", ids[tok], "--daily-limit", "0")

        # --- failover: first healthy; a 5xx moves the request on
        strategy("failover")
        s0 = served(ds)
        ok = [chat(port, "DeepSeek-V3.2", "fo %d" % i, token=CODE).status for i in range(3)]
        r.check("failover: every request to the first account", ok == [200] * 3 and
                completions(ds, s0) == {U1: 3}, str(completions(ds, s0)))
        ds.configure({"by_token": {U1: {"completion_status": 500}}})
        s0 = served(ds)
        resp = chat(port, "DeepSeek-V3.2", "fo 500", token=CODE)
        c = completions(ds, s0)
        r.check("failover: a 500 on the first moves the request to the second (200)",
                resp.status == 200 and c.get(U2) == 1, resp.describe() + str(c))
        ds.configure({"by_token": {U1: None}})
        s0 = served(ds)
        chat(port, "DeepSeek-V3.2", "fo after", token=CODE)
        r.check("failover: the failed account is left alone for a while",
                completions(ds, s0) == {U2: 1}, str(completions(ds, s0)))

        # --- per-request failover with round-robin: 40003, 401, 429
        strategy("round-robin")
        # 40003 on every call of U1: its cached bearer, then users/current
        ds.configure({"by_token": {U1: {"completion_status": 40003,
                                        "users_current_status": 40003}}})
        s0 = served(ds)
        st = [chat(port, "DeepSeek-V3.2", "exp %d" % i, token=CODE).status for i in range(6)]
        rows = cli.accounts("deepseek")
        r.check("40003: every request still succeeds on another account", st == [200] * 6,
                str(st))
        r.check("40003: the account is marked expired and skipped",
                rows[ids[U1]]["status"] == "expired" and U1 not in completions(ds, s0),
                str(rows[ids[U1]]))
        ds.configure({"by_token": {U1: None, U3: {"completion_status": 401}}})
        cli.run("accounts", "enable", ids[U1])
        s0 = served(ds)
        st = [chat(port, "DeepSeek-V3.2", "401 %d" % i, token=CODE).status for i in range(4)]
        rows = cli.accounts("deepseek")
        r.check("401 on one account: every request still succeeds (failover within it), "
                "the account is marked error", st == [200] * 4 and
                rows[ids[U3]]["status"] == "error" and
                set(completions(ds, s0)) == {U1, U2}, str(st) + str(rows[ids[U3]]))
        ds.configure({"by_token": {U3: None,
                                   U1: {"completion_status": 40003,
                                        "users_current_status": 40003}}})
        cli.run("accounts", "enable", ids[U3])
        chat(port, "DeepSeek-V3.2", "expire again", token=CODE)
        chat(port, "DeepSeek-V3.2", "expire again", token=CODE)
        ds.configure({"by_token": {U2: {"completion_status": 429}}})
        st = [chat(port, "DeepSeek-V3.2", "hot %d" % i, token=CODE).status for i in range(4)]
        rows = cli.accounts("deepseek")
        r.check("429: requests succeed on the next one, the account cools down",
                st == [200] * 4 and rows[ids[U2]]["status"] == "cooling", str(rows[ids[U2]]))
        ds.configure({"by_token": {U2: None, U3: {"completion_status": 401}}})
        resp = chat(port, "DeepSeek-V3.2", "all gone", token=CODE)
        r.check("all accounts refused: the last error is answered",
                resp.status in (401, 503) and "error" in (resp.json() or {}), resp.describe())
        rows = cli.accounts("deepseek")
        r.check("401: the account is marked error", rows[ids[U3]]["status"] == "error",
                str(rows[ids[U3]]))
        resp = chat(port, "DeepSeek-R1", "cooling left", token=CODE)
        r.check("only a cooling account left: 429 with Retry-After",
                resp.status == 429 and resp.header("retry-after") is not None,
                resp.describe())
        cli.run("accounts", "disable", ids[U2])
        resp = chat(port, "DeepSeek-R1", "none left", token=CODE)
        r.check("no usable account: 503 no_available_account naming the model",
                resp.status == 503 and err_code(resp) == "no_available_account" and
                "DeepSeek-R1" in resp.text(), resp.describe())
        ds.configure({"by_token": {U1: None, U3: None}})
        rc, out, err = cli.run("accounts", "validate", "deepseek")
        rows = cli.accounts("deepseek")
        r.check("accounts validate puts refused accounts back when the upstream "
                "accepts them", all(rows[ids[t]]["status"] in ("active", "cooling")
                                    for t in (U1, U3)), out + str(rows))
        cli.run("tokens", "errors-clear")
        for tok in (U1, U2, U3):
            cli.run("accounts", "enable", ids[tok])
        rc, out, err = cli.run("accounts", "disable", ids[U3])
        rows = cli.accounts("deepseek")
        r.check("accounts disable: inactive", rc == 0 and rows[ids[U3]]["status"] == "inactive",
                out + err)
        s0 = served(ds)
        for i in range(4):
            chat(port, "DeepSeek-V3.2", "dis %d" % i, token=CODE)
        r.check("a disabled account is never used", U3 not in completions(ds, s0),
                str(completions(ds, s0)))
        cli.run("accounts", "enable", ids[U3])

        # --- keys
        rc, out, err = cli.run("keys", "add", "--name", "ci")
        key = out.strip()
        r.check("keys add prints a new key once", rc == 0 and key.startswith("sk-") and
                len(key) == 51, out + err)
        rc, out, err = cli.run("keys", "list")
        kid = out.splitlines()[1].split()[0] if rc == 0 and len(out.splitlines()) > 1 else ""
        r.check("keys list: no key in clear", rc == 0 and key not in out and "ci" in out, out)
        app.restart(dict(base, AUTHORIZATION=CODE, REQUIRE_API_KEY="true"))
        resp = chat(port, "DeepSeek-V3.2", "no key")
        r.check("REQUIRE_API_KEY: no key -> 401 missing_api_key",
                resp.status == 401 and err_code(resp) == "missing_api_key", resp.describe())
        resp = chat(port, "gpt-4o", "no key, anonymous model")
        r.check("REQUIRE_API_KEY: anonymous ChatGPT refused too",
                resp.status == 401 and err_code(resp) == "missing_api_key", resp.describe())
        resp = chat(port, "DeepSeek-V3.2", "wrong key", token="sk-" + "x" * 48)
        r.check("REQUIRE_API_KEY: a wrong key -> 401 invalid_api_key",
                resp.status == 401 and err_code(resp) == "invalid_api_key", resp.describe())
        resp = chat(port, "DeepSeek-V3.2", "raw", token=U4)
        r.check("REQUIRE_API_KEY: a provider credential is no key",
                resp.status == 401, resp.describe())
        resp = chat(port, "DeepSeek-V3.2", "bearer key", token=key)
        r.check("a key as Bearer", resp.status == 200, resp.describe())
        resp = chat(port, "DeepSeek-V3.2", "x-api-key", headers={"X-API-Key": key})
        r.check("a key as X-API-Key", resp.status == 200, resp.describe())
        resp = chat(port, "DeepSeek-V3.2", "query", path="/v1/chat/completions?api_key=" + key)
        r.check("a key as ?api_key=", resp.status == 200, resp.describe())
        resp = chat(port, "DeepSeek-V3.2", "code", token=CODE)
        r.check("an AUTHORIZATION code still works", resp.status == 200, resp.describe())
        resp = harness.http(port, "GET", "/v1/models")
        r.check("REQUIRE_API_KEY: /v1/models needs a key", resp.status == 401,
                resp.describe())
        resp = harness.http(port, "GET", "/health")
        r.check("REQUIRE_API_KEY: /health stays open", resp.status == 200, resp.describe())
        rc, out, err = cli.run("keys", "list")
        row = out.splitlines()[1].split() if len(out.splitlines()) > 1 else []
        r.check("keys list counts the requests and the last use",
                len(row) == 7 and row[5] == "3" and row[4] != "-", out)
        cli.run("keys", "disable", kid)
        resp = chat(port, "DeepSeek-V3.2", "disabled", token=key)
        r.check("a disabled key -> 401", resp.status == 401 and
                err_code(resp) == "invalid_api_key", resp.describe())
        cli.run("keys", "enable", kid)
        resp = chat(port, "DeepSeek-V3.2", "enabled again", token=key)
        r.check("enabled again -> 200", resp.status == 200, resp.describe())

        # --- the client's own credential (no REQUIRE_API_KEY, no codes)
        app.restart(dict(base))
        cli.run("keys", "remove", kid)
        s0 = served(ds)
        resp = chat(port, "DeepSeek-V3.2", "own token", token=U4)
        r.check("a DeepSeek userToken as the API key is used as is",
                resp.status == 200 and completions(ds, s0) == {U4: 1},
                resp.describe() + str(completions(ds, s0)))
        s0 = served(ds)
        # 16 fair picks all alike: once in 2^15 runs (6 failed 1 in 32)
        for i in range(16):
            chat(port, "DeepSeek-V3.2", "list %d" % i, token=U4 + "," + U2)
        c = completions(ds, s0)
        r.check("a comma list of userTokens: one at random each time",
                set(c) == {U2, U4} and sum(c.values()) == 16, str(c))
        s0 = served(ds)
        resp = chat(port, "DeepSeek-V3.2", "placeholder", token="sk-anything")
        r.check("a placeholder key on an open server: the pool serves",
                resp.status == 200 and set(completions(ds, s0)) <= {U1, U2, U3},
                resp.describe())

        # --- mappings
        rc, out, err = cli.run("models", "map", "team-*", "DeepSeek-V3.2", "--account",
                               ids[U2])
        r.check("models map with a wildcard and an account pin", rc == 0, out + err)
        cli.run("models", "map", "team-gpt", "gpt-4o")
        cli.run("models", "map", "*-deep", "anything-at-all", "--provider", "deepseek")
        app.restart(dict(base, MODEL_MAPPING=json.dumps({
            "gpt-4o-mini": "DeepSeek-V3.2",
            "claude-*": {"target": "DeepSeek-R1", "provider": "deepseek"}})))
        s0 = served(ds)
        resp = chat(port, "gpt-4o-mini", "mapped")
        r.check("MODEL_MAPPING exact: gpt-4o-mini answered by DeepSeek, reported as asked",
                resp.status == 200 and sum(completions(ds, s0).values()) == 1 and
                (resp.json() or {}).get("model") == "gpt-4o-mini", resp.describe())
        s0 = served(ds)
        resp = chat(port, "claude-3-opus", "wild")
        msg = ((resp.json() or {}).get("choices") or [{}])[0].get("message", {})
        last = ds.snapshot().get("last_completion", {})
        r.check("MODEL_MAPPING wildcard: claude-* to DeepSeek-R1 (thinking on)",
                resp.status == 200 and msg.get("reasoning_content") and
                sum(completions(ds, s0).values()) == 1 and
                (last.get("body") or {}).get("thinking_enabled") is True,
                resp.describe())
        s0 = served(ds)
        for i in range(3):
            chat(port, "team-alpha", "pinned %d" % i)
        r.check("a stored wildcard pinned to an account uses that account",
                completions(ds, s0) == {U2: 3}, str(completions(ds, s0)))
        cg_before = len(cg.snapshot().get("token_uses", []))
        s0 = served(ds)
        resp = chat(port, "team-gpt", "exact before wildcard")
        r.check("an exact stored name wins over team-*: goes to ChatGPT",
                resp.status == 200 and not completions(ds, s0), resp.describe())
        s0 = served(ds)
        resp = chat(port, "my-deep", "pinned provider, unknown target")
        r.check("a mapping pinned to deepseek with an unknown target still goes there",
                resp.status == 200 and sum(completions(ds, s0).values()) == 1,
                resp.describe())
        resp = chat(port, "DeepSeek-V3.2-Think-Search", "suffixes")
        last = ds.snapshot().get("last_completion", {}).get("body") or {}
        r.check("-Think-Search suffix: thinking and search on",
                resp.status == 200 and last.get("thinking_enabled") is True and
                last.get("search_enabled") is True, resp.describe() + str(last))
        resp = chat(port, "DeepSeek-V3.2", "header flags",
                    headers={"X-Web-Search": "true", "X-Reasoning-Effort": "high"})
        last = ds.snapshot().get("last_completion", {}).get("body") or {}
        r.check("X-Web-Search and X-Reasoning-Effort headers switch search and thinking",
                resp.status == 200 and last.get("thinking_enabled") is True and
                last.get("search_enabled") is True, str(last))
        resp = harness.http(port, "GET", "/v1/models")
        data = {m["id"]: m["owned_by"] for m in (resp.json() or {}).get("data", [])}
        r.check("/v1/models: both providers' models and the mapping names with their owner",
                resp.status == 200 and data.get("DeepSeek-R1") == "deepseek" and
                data.get("gpt-4o") == "chatgpt" and data.get("gpt-4o-mini") == "deepseek" and
                data.get("team-gpt") == "chatgpt" and "team-*" not in data, str(data)[:600])
        resp = harness.http(port, "GET", "/v1/models/claude-3-opus")
        r.check("/v1/models/{id} resolves a wildcard mapping",
                resp.status == 200 and (resp.json() or {}).get("owned_by") == "deepseek",
                resp.describe())
        resp = harness.http(port, "GET", "/v1/models/deepseek-v3.2-think")
        r.check("/v1/models/{id}: built-in names case-insensitively, with suffixes",
                resp.status == 200 and (resp.json() or {}).get("owned_by") == "deepseek",
                resp.describe())
        resp = harness.http(port, "GET", "/v1/models/no-such-model")
        r.check("/v1/models/{id}: unknown -> 404 model_not_found",
                resp.status == 404 and err_code(resp) == "model_not_found", resp.describe())
        rc, out, err = cli.run("models", "route", "team-zeta")
        r.check("models route tells where a name goes",
                rc == 0 and "provider: deepseek" in out and ids[U2] in out, out + err)
        rc, out, err = cli.run("models", "unmap", "team-*")
        rc2, out2, err2 = cli.run("models", "route", "team-zeta")
        r.check("models unmap: the name falls to the catch-all again",
                rc == 0 and "provider: chatgpt" in out2, out + out2)

        # --- eight processes drawing accounts at once: exact counts
        for tok in (U1, U2, U3):
            cli.run("accounts", "set", ids[tok], "--daily-limit", "10")
        app.restart(dict(base, AUTHORIZATION=CODE, CHAT2API_TEST_CLOCK_SKEW="259200"),
                    procs=8)
        s0 = served(ds)
        res = []
        lock = threading.Lock()

        def user(i):
            resp = chat(port, "DeepSeek-V3.2", "crowd %d" % i, token=CODE)
            with lock:
                res.append(resp.status)
        ts = [threading.Thread(target=user, args=(i,)) for i in range(40)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        c = completions(ds, s0)
        rows = cli.accounts("deepseek")
        rc, out, err = cli.run("accounts", "list", "deepseek",
                               env={"CHAT2API_TEST_ROUTES": "1",
                                    "CHAT2API_TEST_CLOCK_SKEW": "259200"})
        r.check("8 processes, 40 requests, 3 accounts x 10 a day: exactly 30 served, "
                "10 refused with 429", sorted(res).count(200) == 30 and
                res.count(429) == 10, str(sorted(res)))
        r.check("8 processes: 10 per account upstream, 10/10 in the store",
                sorted(c.values()) == [10, 10, 10] and out.count("10/10") == 3,
                str(c) + out)

        # --- nothing secret in our logs (a key in a query string is in the
        # front server's access log: the README says to prefer the header)
        logs = ""
        for f in os.listdir(ws.path("log")):
            if "access" in f:
                continue
            with open(ws.path("log", f), errors="replace") as fh:
                logs += fh.read()
        leaked = [t for t in (U1, U2, U3, U4, CODE, key) if t and t in logs]
        r.check("no userToken, code or key appears in any log", not leaked, str(leaked))
    except HarnessError as e:
        harness.report_setup(r, "accounts", e)
    finally:
        ds.stop()
        cg.stop()
        harness.finish_workspace(r, ws, "accounts")
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
