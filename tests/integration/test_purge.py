#!/usr/bin/env python3
""""Delete all upstream chats" of one account through the management API
(POST /v0/management/accounts/{id}/purge-chats), nginx + spawn-fcgi and the
mocks of the four providers whose protocol has a bulk delete: DeepSeek
(chat_session/delete_all), GLM (recent_list pages + bulk_delete), Qwen AI
(DELETE /api/v2/chats/) and Z.ai (DELETE /api/v1/chats/ with body true).

  * without the secret, or with a wrong one: 401, and nothing is deleted;
  * each provider, two accounts with chats in the mock: the purged account
    has none left, the other keeps all of its own; GLM with 150 chats reads
    two list pages and sends two bulk deletes;
  * a provider without a bulk delete (Kimi): 400 not_supported; an unknown
    account: 404;
  * upstream failures (5xx, a refused login) answer 502 with the provider's
    name and the HTTP status, and the chats stay;
  * sessions: a DeepSeek conversation served by the pool keeps a session;
    after the purge of its account the session is gone from the table
    (sessions_dropped), so the next turn opens a new upstream chat instead
    of continuing the deleted one;
  * no secret or credential reaches a log file.

Env: CHAT2API_BIN, CHAT2API_ALLOW_SKIP=1, C2A_IT_KEEP=1.
"""

import base64
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "mock"))

import harness  # noqa: E402
from harness import HarnessError, Results  # noqa: E402
import deepseek_mock  # noqa: E402
import glm_mock  # noqa: E402
import qwenai_mock  # noqa: E402
import zai_mock  # noqa: E402
import test_deepseek  # noqa: E402  (chat(), message())

CODE = "purge-code-" + "k" * 12
SECRET = "purge-mgmt-secret-" + "w" * 12
DOWN = "http://127.0.0.1:9"
KIMI_TOKEN = "kimiPurgeTestToken." + "x" * 40


def mgmt(port, method, path, body=None, secret=SECRET):
    h = {}
    if secret is not None:
        h["Authorization"] = "Bearer " + secret
    if body is not None:
        h["Content-Type"] = "application/json"
        body = json.dumps(body)
    resp = harness.http(port, method, "/v0/management/" + path, body, headers=h, timeout=60)
    doc = resp.json() or {}
    return resp, (doc.get("data") if doc.get("success") is True else None), doc


def jwt_id(tok):
    p = tok.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))["id"]


class Side:
    """One mock: its accounts (two), how to plant chats owned by one of
    them, and how many of that owner's chats live."""

    def __init__(self, name, display, mock, creds, owners, fields=None):
        self.name, self.display, self.m = name, display, mock
        self.creds, self.owners, self.fields = creds, owners, fields or {}
        self.ids = []

    def plant(self, i, n):
        st = self.m.state
        with st.lock:
            for k in range(n):
                cid = "purge-%s-%d-%d-%s" % (self.name, i, k, os.urandom(4).hex())
                rec = {"owner": self.owners[i], "live": True}
                if self.name == "deepseek":
                    rec.update({"next_id": 1, "replies": [], "turns": 0, "seen": []})
                elif self.name == "glm":
                    rec.update({"seen": [], "transcript": [],
                                "assistant": glm_mock.DEFAULT_ASSISTANT})
                    st.conversations[cid] = rec
                    continue
                elif self.name == "qwenai":
                    rec.update({"id": cid, "model": "qwen3-max", "answered": False,
                                "replies": [], "seen": [], "transcript": []})
                if self.name == "deepseek":
                    st.sessions[cid] = rec
                else:
                    st.chats[cid] = rec

    def live(self, i):
        st = self.m.state
        with st.lock:
            table = st.sessions if self.name == "deepseek" else \
                st.conversations if self.name == "glm" else st.chats
            return sum(1 for v in table.values() if v["owner"] == self.owners[i] and v["live"])

    def fail(self, status, times=None):
        key = {"deepseek": "session_delete_status", "zai": "chat_delete_status"}.get(
            self.name, "delete_status")
        self.m.configure({key: status, key + "_times": times})


def sides():
    ds = deepseek_mock.DeepSeekMock().start()
    glm = glm_mock.GLMMock().start()
    qa = qwenai_mock.QwenAIMock().start()
    za = zai_mock.ZaiMock().start()
    u = (deepseek_mock.DEFAULT_USER_TOKEN, deepseek_mock.OTHER_USER_TOKEN)
    g = (glm_mock.DEFAULT_REFRESH_TOKEN, glm_mock.OTHER_REFRESH_TOKEN)
    q = (qwenai_mock.DEFAULT_TOKEN, qwenai_mock.OTHER_TOKEN)
    z = (zai_mock.DEFAULT_TOKEN, zai_mock.OTHER_TOKEN)
    return [Side("deepseek", "DeepSeek", ds, u, u),
            Side("glm", "GLM", glm, g, g),
            Side("qwenai", "Qwen AI", qa, q, tuple(jwt_id(t) for t in q),
                 {"cookies": qwenai_mock.DEFAULT_COOKIES}),
            Side("zai", "Z.ai", za, z, tuple(jwt_id(t) for t in z))]


def add_accounts(r, port, ss):
    for s in ss:
        for c in s.creds:
            resp, d, _ = mgmt(port, "POST", "accounts", {"provider": s.name, "credential": c,
                                                         "fields": s.fields})
            ok = d is not None and d.get("account", {}).get("id")
            r.check("%s: an account added" % s.name, ok, resp.describe())
            s.ids.append(d["account"]["id"] if ok else "none")


def check_auth(r, port, s):
    s.plant(0, 2)
    for secret in (None, "wrong-" + SECRET):
        resp, _, doc = mgmt(port, "POST", "accounts/%s/purge-chats" % s.ids[0], secret=secret)
        r.check("purge-chats %s the secret: 401, nothing deleted" %
                ("without" if secret is None else "with a wrong"),
                resp.status == 401 and s.live(0) == 2, resp.describe())


def check_side(r, port, s, n0):
    s.plant(0, n0)
    s.plant(1, 3)
    before = (s.live(0), s.live(1))
    snap0 = s.m.snapshot()
    resp, d, doc = mgmt(port, "POST", "accounts/%s/purge-chats" % s.ids[0])
    r.check("%s: purge-chats answers 200 with the account" % s.name,
            resp.status == 200 and d is not None and d.get("id") == s.ids[0] and
            d.get("provider") == s.name and "sessions_dropped" in d, resp.describe())
    r.check("%s: the account's chats are gone (%d before), the other account keeps its %d" %
            (s.name, before[0], before[1]),
            before[0] >= n0 and s.live(0) == 0 and s.live(1) == before[1] == 3,
            "live %d/%d" % (s.live(0), s.live(1)))
    if s.name == "glm":
        snap = s.m.snapshot()
        pages = snap.get("recent_list_pages", {}).get(s.owners[0], 0) - \
            snap0.get("recent_list_pages", {}).get(s.owners[0], 0)
        bulks = snap.get("bulk_deletes", {}).get(s.owners[0], 0) - \
            snap0.get("bulk_deletes", {}).get(s.owners[0], 0)
        r.check("glm: %d chats: two list pages, two bulk deletes, chats_deleted %d" %
                (before[0], before[0]),
                pages == 2 and bulks == 2 and d is not None and
                d.get("chats_deleted") == before[0], "pages=%d bulks=%d %r" % (pages, bulks, d))
    else:
        r.check("%s: the upstream does not count: chats_deleted null" % s.name,
                d is not None and d.get("chats_deleted", 0) is None, repr(d))
    # an upstream failure: 502 with the provider and the status; the chats stay
    s.plant(0, 2)
    s.fail(503)
    resp, d, doc = mgmt(port, "POST", "accounts/%s/purge-chats" % s.ids[0])
    s.fail(0)
    e = doc.get("error") or {}
    r.check("%s: a 503 upstream: 502 upstream_error naming %s and HTTP 503, chats kept" %
            (s.name, s.display),
            resp.status == 502 and e.get("code") == "upstream_error" and
            ("%s did not delete the chats" % s.display) in (e.get("message") or "") and
            "HTTP 503" in (e.get("message") or "") and s.live(0) == 2,
            resp.describe())
    resp, d, doc = mgmt(port, "POST", "accounts/%s/purge-chats" % s.ids[0])
    r.check("%s: healed: the next purge deletes them" % s.name,
            resp.status == 200 and s.live(0) == 0 and s.live(1) == 3, resp.describe())


def check_refused(r, port, s):
    """The login refused (the mock's 401 on the delete): 502 account_refused."""
    s.plant(0, 1)
    s.fail(401)
    resp, d, doc = mgmt(port, "POST", "accounts/%s/purge-chats" % s.ids[0])
    s.fail(0)
    e = doc.get("error") or {}
    r.check("%s: a refused login: 502 account_refused, its words once with HTTP 401, the "
            "chat stays" % s.name,
            resp.status == 502 and e.get("code") == "account_refused" and
            (e.get("message") or "").startswith(s.display + " did not delete the chats: ") and
            (e.get("message") or "").count("HTTP 401") <= 1 and s.live(0) == 1,
            resp.describe())
    mgmt(port, "POST", "accounts/%s/purge-chats" % s.ids[0])


def check_unsupported(r, port):
    resp, d, _ = mgmt(port, "POST", "accounts", {"provider": "kimi", "credential": KIMI_TOKEN})
    kid = d["account"]["id"] if d else "none"
    resp, _, doc = mgmt(port, "POST", "accounts/%s/purge-chats" % kid)
    e = doc.get("error") or {}
    r.check("kimi (no bulk delete): 400 not_supported, OpenAI-shaped",
            resp.status == 400 and e.get("code") == "not_supported" and
            "Kimi" in (e.get("message") or "") and "param" in e and "type" in e,
            resp.describe())
    mgmt(port, "DELETE", "accounts/" + kid)
    resp, _, doc = mgmt(port, "POST", "accounts/%s/purge-chats" % ("0" * 16))
    r.check("an unknown account: 404", resp.status == 404, resp.describe())
    resp, _, doc = mgmt(port, "GET", "accounts/%s/purge-chats" % ("0" * 16))
    r.check("GET purge-chats: 405", resp.status == 405, resp.describe())


def sessions_of(port, acct):
    _, d, _ = mgmt(port, "GET", "sessions?provider=deepseek")
    return [x for x in (d or []) if x.get("account") == acct]


def check_sessions(r, port, ds):
    """A pooled DeepSeek conversation keeps a session on one account; the
    purge of that account drops it, and the next turn starts afresh."""
    q = "purge: first question %s" % os.urandom(3).hex()
    resp = test_deepseek.chat(port, "DeepSeek-V3.2", q, token=CODE)
    msg, _, _ = test_deepseek.message(resp)
    _, d, _ = mgmt(port, "GET", "sessions?provider=deepseek")
    held = [x for x in (d or []) if x.get("account") in ds.ids]
    r.check("a pooled DeepSeek answer keeps a session", resp.status == 200 and
            len(held) >= 1, resp.describe() + " " + repr(d))
    if resp.status != 200 or not held:
        return
    acct = held[-1]["account"]
    i = ds.ids.index(acct)
    n = len(sessions_of(port, acct))
    other = len(sessions_of(port, ds.ids[1 - i]))
    created = sum(ds.m.snapshot().get("sessions_created", {}).values())
    resp2, d, _ = mgmt(port, "POST", "accounts/%s/purge-chats" % acct)
    r.check("the purge reports the session dropped, and the table has none of that "
            "account (the other account's stay)",
            resp2.status == 200 and d.get("sessions_dropped") == n >= 1 and
            sessions_of(port, acct) == [] and
            len(sessions_of(port, ds.ids[1 - i])) == other and ds.live(i) == 0,
            resp2.describe())
    resp = test_deepseek.chat(port, "DeepSeek-V3.2", [
        {"role": "user", "content": q}, {"role": "assistant", "content": msg.get("content")},
        {"role": "user", "content": "and a second turn"}], token=CODE)
    created2 = sum(ds.m.snapshot().get("sessions_created", {}).values())
    r.check("the next turn answers in a new upstream chat, not the deleted one",
            resp.status == 200 and created2 == created + 1, resp.describe())


def check_cli(r, ws, binary, env_extra, s, kimi_id):
    """chat2api accounts purge ID: the same purge from a shell."""
    env = dict(os.environ, **harness.app_env(ws, "cli", env_extra))
    s.plant(0, 3)
    other = s.live(1)
    p = subprocess.run([binary, "accounts", "purge", s.ids[0]], env=env,
                       capture_output=True, text=True, timeout=60)
    r.check("%s: chat2api accounts purge ID: exit 0, the account's chats gone, the other's kept"
            % s.name, p.returncode == 0 and "deleted" in p.stdout and s.live(0) == 0 and
            s.live(1) == other, "rc=%d out=%r err=%r" % (p.returncode, p.stdout, p.stderr[-300:]))
    p = subprocess.run([binary, "accounts", "purge", kimi_id], env=env,
                       capture_output=True, text=True, timeout=60)
    r.check("chat2api accounts purge of a Kimi account: exit 1, says why",
            p.returncode == 1 and "accounts purge:" in p.stderr and p.stdout == "",
            "rc=%d err=%r" % (p.returncode, p.stderr[-300:]))


def no_secrets_logged(r, ws, secrets):
    leaks = []
    logdir = ws.path("log")
    for fn in sorted(os.listdir(logdir)) if os.path.isdir(logdir) else []:
        with open(os.path.join(logdir, fn), "rb") as f:
            data = f.read().decode("utf-8", "replace")
        leaks += ["%s... in %s" % (s_[:10], fn) for s_ in secrets if s_ and s_ in data]
    r.check("no secret or credential in any log file", not leaks, "; ".join(leaks[:5]))


def main():
    r = Results("test_purge")
    harness.install_signal_handlers(240)
    binary = harness.find_binary()
    ws = harness.Workspace("purge")
    ss = sides()
    try:
        fe = harness.Nginx(ws, binary, pfx=False, procs=2)
        fe.check_installed()
        fe.app_extra = {"DEEPSEEK_BASE_URL": ss[0].m.url, "GLM_BASE_URL": ss[1].m.url,
                        "QWENAI_BASE_URL": ss[2].m.url, "ZAI_BASE_URL": ss[3].m.url,
                        "KIMI_BASE_URL": DOWN, "CHATGPT_BASE_URL": DOWN,
                        "AUTHORIZATION": CODE, "MANAGEMENT_SECRET": SECRET,
                        "RETRY_TIMES": "1", "SESSIONS": "true"}
        fe.start()
        port = fe.port
        add_accounts(r, port, ss)
        check_auth(r, port, ss[0])
        for s in ss:
            check_side(r, port, s, 150 if s.name == "glm" else 4)
        for s in ss:
            check_refused(r, port, s)
        check_unsupported(r, port)
        check_sessions(r, port, ss[0])
        resp, d, _ = mgmt(port, "POST", "accounts", {"provider": "kimi", "credential": KIMI_TOKEN})
        kid = d["account"]["id"] if d else "none"
        check_cli(r, ws, binary, fe.app_extra, ss[0], kid)
        mgmt(port, "DELETE", "accounts/" + kid)
        secrets = [CODE, SECRET, KIMI_TOKEN]
        for s in ss:
            secrets += list(s.creds)
        no_secrets_logged(r, ws, secrets)
    except HarnessError as e:
        harness.report_setup(r, "purge", e)
    finally:
        for s in ss:
            s.m.stop()
        harness.finish_workspace(r, ws, "purge")
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
