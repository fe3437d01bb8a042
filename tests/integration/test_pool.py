#!/usr/bin/env python3
"""The credential pool end to end: nginx + spawn-fcgi (4 processes) +
chat2api + the ChatGPT mock, with AUTHORIZATION codes.

  * rotation: RANDOM_TOKEN=false spreads requests evenly over the pool;
  * a credential the upstream rejects with 401 lands in the error list while
    the request still succeeds on the next one, and is skipped afterwards;
  * a 429 with clears_in cools a credential down (ENABLE_LIMIT);
  * RefreshToken exchange: one exchange, then cache hits, also under
    concurrent first use; a direct RT Bearer works too;
  * team account ids reach the upstream (pool entry, header, Bearer suffix);
  * a wrong code is 401; nothing is logged in clear;
  * concurrency: 8 CLI processes add tokens while requests use the pool,
    nothing is lost, a deleted credential is never handed out again;
  * kill -9 of writers leaves the LMDB store consistent (mdb_stat) and
    complete.

Env: CHAT2API_BIN, CHAT2API_ALLOW_SKIP=1, C2A_IT_KEEP=1.
"""

import json
import os
import random
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

CODE = "pool-code-1"
RT = chatgpt_mock.DEFAULT_REFRESH_TOKEN
RT_AT = chatgpt_mock.DEFAULT_REFRESH_ACCESS_TOKEN


def at(name):
    return "eyJpool.%s.sig" % name


def chat(port, content, token=CODE, headers=None, stream=False):
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": content}]}
    if stream:
        body["stream"] = True
    h = {"Content-Type": "application/json"}
    if token:
        h["Authorization"] = "Bearer " + token
    h.update(headers or {})
    return harness.http(port, "POST", "/v1/chat/completions", json.dumps(body), headers=h,
                        timeout=30)


class Cli:
    """chat2api tokens ... on the service's data dir, as the service's user."""

    def __init__(self, binary, datadir, extra):
        self.bin = binary
        self.env = dict(os.environ, CHAT2API_DATA_DIR=datadir, CHAT2API_LOG_LEVEL="warn",
                        **extra)
        self.prefix = ["runuser", "-u", harness.RUN_USER, "--"] if harness.RUN_USER else []

    def argv(self, *args):
        return self.prefix + [self.bin] + list(args)

    def run(self, *args, stdin=None):
        p = subprocess.run(self.argv(*args), input=stdin, capture_output=True, text=True,
                           env=self.env, timeout=60)
        return p.returncode, p.stdout, p.stderr

    def rows(self):
        rc, out, err = self.run("tokens", "list")
        rows = {}
        for line in out.splitlines()[1:]:
            if line.startswith("#"):
                continue
            parts = line.split()
            rows[parts[0]] = {"kind": parts[1], "status": parts[2], "account": parts[3],
                              "line": line}
        return rows


def fp(secret):
    import hashlib
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


def uses(mock, since=0.0, route="conversation"):
    return [u for u in mock.snapshot().get("token_uses", [])
            if u["t"] >= since and (route is None or u["route"] == route)]


def main():
    r = Results("test_pool")
    harness.install_signal_handlers(600)
    binary = harness.find_binary()
    ws = harness.Workspace("pool")
    mock = chatgpt_mock.ChatGPTMock().start()
    try:
        pool = [at("a"), at("b"), at("c")]
        mock.configure({"add_access_tokens": pool + [at("bad"), at("hot"), at("team")] +
                        ["eyJpool.bulk%d.x" % i for i in range(400)]})
        fe = harness.Nginx(ws, binary, pfx=False, procs=4)
        fe.check_installed()
        fe.app_extra = {"CHATGPT_BASE_URL": mock.url, "AUTHORIZATION": CODE + ",code-2",
                        "RANDOM_TOKEN": "false", "RETRY_TIMES": "3", "ENABLE_LIMIT": "true",
                        "OAUTH_URL": mock.url + "/oauth/token"}
        fe.start()
        port = fe.port
        cli = Cli(binary, ws.path("data"), {"OAUTH_URL": mock.url + "/oauth/token",
                                             "CHATGPT_BASE_URL": mock.url})
        rc, out, err = cli.run("tokens", "add", stdin="\n".join(pool) + "\n# comment\n" +
                               pool[0] + "\n")
        r.check("CLI add: 3 added, 1 duplicate", rc == 0 and "added 3, already present 1" in out,
                out + err)

        # --- rotation
        mock.reset()
        t0 = time.time()
        ok = all(chat(port, "rotate %d" % i).status == 200 for i in range(9))
        counts = {}
        for u in uses(mock, t0):
            counts[u["token"]] = counts.get(u["token"], 0) + 1
        r.check("round robin: 9 requests, 3 each, across 4 processes", ok and
                sorted(counts.values()) == [3, 3, 3] and set(counts) == set(pool), str(counts))

        # --- 401 -> error list, request still succeeds
        cli.run("tokens", "add", at("bad"))
        mock.configure({"expired_access_tokens": [at("bad")]})
        t0 = time.time()
        statuses = [chat(port, "with a bad one %d" % i).status for i in range(8)]
        used_bad = [u for u in uses(mock, t0, "sentinel") if u["token"] == at("bad")]
        rows = cli.rows()
        r.check("401 credential: every request still succeeds", statuses == [200] * 8,
                str(statuses))
        r.check("401 credential: tried once, then in the error list",
                len(used_bad) == 1 and rows.get(fp(at("bad")), {}).get("status") == "error" and
                "401" in rows.get(fp(at("bad")), {}).get("line", ""),
                "uses=%d row=%s" % (len(used_bad), rows.get(fp(at("bad")))))
        resp = harness.http(port, "GET", "/v1/models")
        t0 = time.time()
        for i in range(6):
            chat(port, "after %d" % i)
        r.check("error-listed credential is skipped afterwards",
                not [u for u in uses(mock, t0, None) if u["token"] == at("bad")], "")

        # --- 429 cool-down
        cli.run("tokens", "add", at("hot"))
        mock.configure({"by_token": {at("hot"): {"script": "rate_limit", "clears_in": 120}}})
        t0 = time.time()
        statuses = [chat(port, "hot %d" % i).status for i in range(8)]
        used_hot = [u for u in uses(mock, t0) if u["token"] == at("hot")]
        rows = cli.rows()
        r.check("429 credential: requests succeed on the next one", statuses == [200] * 8,
                str(statuses))
        r.check("429 credential: used once, then cooling (skipped)",
                len(used_hot) == 1 and rows.get(fp(at("hot")), {}).get("status") == "cooling",
                "uses=%d row=%s" % (len(used_hot), rows.get(fp(at("hot")))))

        # --- team account id
        cli.run("tokens", "clear")
        cli.run("tokens", "add", at("team") + ",acct-77")
        chat(port, "team")
        st = mock.snapshot()
        r.check("pool entry account id reaches the upstream", st.get("last_account_id") == "acct-77",
                str(st.get("last_account_id")))
        chat(port, "team hdr", token=at("team"), headers={"ChatGPT-Account-ID": "acct-hdr"})
        r.check("ChatGPT-Account-ID header reaches the upstream",
                mock.snapshot().get("last_account_id") == "acct-hdr", "")
        chat(port, "team bearer", token=at("team") + ",acct-88")
        r.check("Bearer token,account_id reaches the upstream",
                mock.snapshot().get("last_account_id") == "acct-88", "")

        # --- RefreshToken exchange and cache
        cli.run("tokens", "clear")
        rc, out, err = cli.run("tokens", "add", RT)
        mock.reset()
        res = []

        def one(i):
            res.append(chat(port, "rt %d" % i).status)
        ts = [threading.Thread(target=one, args=(i,)) for i in range(8)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        st = mock.snapshot()
        ex = (st.get("oauth_exchanges") or {}).get(RT, 0)
        r.check("RT in the pool: 8 concurrent first uses, one exchange", res == [200] * 8 and
                ex == 1, "statuses=%s exchanges=%s" % (res, st.get("oauth_exchanges")))
        r.check("the exchanged AT is what reaches the upstream",
                {u["token"] for u in uses(mock)} == {RT_AT}, str({u["token"] for u in uses(mock)}))
        for i in range(3):
            chat(port, "rt again %d" % i, token=RT)
        st = mock.snapshot()
        r.check("direct RT Bearer: served from the cache (still one exchange)",
                (st.get("oauth_exchanges") or {}).get(RT, 0) == 1, str(st.get("oauth_exchanges")))
        rc, out, err = cli.run("refresh", "--force")
        st = mock.snapshot()
        r.check("chat2api refresh --force exchanges again",
                rc == 0 and "refreshed 1, failed 0" in out and
                (st.get("oauth_exchanges") or {}).get(RT, 0) == 2, out + err)
        bad_rt = "x" * 45
        resp = chat(port, "bad rt", token=bad_rt)
        r.check("unknown RT Bearer -> 401 OpenAI error", resp.status == 401 and
                (resp.json() or {}).get("error", {}).get("code") == "invalid_refresh_token",
                resp.describe())

        # --- auth codes
        resp = chat(port, "wrong", token="not-a-code")
        r.check("wrong code with a pool configured -> 401", resp.status == 401 and
                "error" in (resp.json() or {}), resp.describe())
        resp = chat(port, "second code", token="code-2")
        r.check("second AUTHORIZATION code also selects the pool", resp.status == 200,
                resp.describe())

        # --- concurrency: 8 CLI adders + requests; deletions are final
        cli.run("tokens", "clear")
        cli.run("tokens", "add", *pool)
        bulk = ["eyJpool.bulk%d.x" % i for i in range(400)]
        procs = []
        for k in range(8):
            chunk = bulk[k * 50:(k + 1) * 50]
            procs.append(subprocess.Popen(cli.argv("tokens", "add"), stdin=subprocess.PIPE,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                          env=cli.env, text=True))
            procs[-1].stdin.write("\n".join(chunk) + "\n")
            procs[-1].stdin.close()
        res = []

        def user(i):
            res.append(chat(port, "busy %d" % i).status)
        ts = [threading.Thread(target=user, args=(i,)) for i in range(24)]
        for t in ts:
            t.start()
        outs = [p.wait(60) for p in procs]
        for t in ts:
            t.join()
        rows = cli.rows()
        r.check("8 concurrent CLI adders: all 400 + 3 present",
                outs == [0] * 8 and len(rows) == 403, "rc=%s rows=%d" % (outs, len(rows)))
        r.check("requests during the uploads all succeed", res == [200] * 24, str(res))
        gone = bulk[:200]
        for g in gone[:20]:
            cli.run("tokens", "remove", fp(g))
        t_del = time.time()
        for i in range(30):
            chat(port, "after delete %d" % i)
        leaked = [u for u in uses(mock, t_del, None) if u["token"] in set(gone[:20])]
        r.check("removed credentials are never handed out again", not leaked, str(leaked[:3]))

        # --- kill -9 writers mid-write; the store stays consistent
        more = ["eyJpool.kill%d.x" % i for i in range(2000)]
        mock.configure({"add_access_tokens": more})
        killed = []
        for k in range(6):
            p = subprocess.Popen(cli.argv("tokens", "add"), stdin=subprocess.PIPE,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 env=cli.env, text=True)
            p.stdin.write("\n".join(more[k::6]) + "\n")
            p.stdin.close()
            time.sleep(random.uniform(0.0, 0.03))
            try:
                os.kill(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            killed.append(p.wait(30))
        # kill -9 busy FastCGI workers too (counter writes in flight)
        pids = fe.app_pids()

        def hammer():
            for i in range(20):
                chat(port, "kill %d" % i)
        ht = threading.Thread(target=hammer)
        ht.start()
        time.sleep(0.2)
        for pid in pids[:2]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        ht.join()
        mst = subprocess.run(["mdb_stat", "-a", ws.path("data")], capture_output=True, text=True)
        r.check("mdb_stat reads every database after kill -9", mst.returncode == 0 and
                "creds" in mst.stdout, (mst.stdout + mst.stderr)[-400:])
        rows = cli.rows()
        more_fps = {fp(m) for m in more}
        kill_rows = [k for k in rows if k in more_fps]
        per_batch = [sum(1 for m in more[k::6] if fp(m) in rows) for k in range(6)]
        r.check("killed adders: each batch all or nothing, earlier data complete",
                len(rows) - len(kill_rows) == 403 - 20 and
                all(n in (0, len(more[k::6])) for k, n in enumerate(per_batch)),
                "rows=%d per_batch=%s" % (len(rows), per_batch))
        rc, out, err = cli.run("tokens", "add", *more[:10])
        r.check("the store takes writes after the kills", rc == 0, out + err)
        resp = chat(port, "still alive")
        r.check("surviving workers still serve from the pool", resp.status == 200,
                resp.describe())

        # --- nothing secret in the logs
        logs = ""
        for f in os.listdir(ws.path("log")):
            with open(ws.path("log", f), errors="replace") as fh:
                logs += fh.read()
        leaked = [t for t in pool + [RT, RT_AT, CODE] if t in logs]
        r.check("no token, RT or code appears in any log", not leaked, str(leaked))
    except HarnessError as e:
        harness.report_setup(r, "pool", e)
    finally:
        mock.stop()
        harness.finish_workspace(r, ws, "pool")
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
