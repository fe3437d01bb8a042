#!/usr/bin/env python3
"""The data layer of the console through nginx + spawn-fcgi (4 processes),
LMDB under a data dir, the DeepSeek mock as the upstream:

  * /v0/management/*: 404 without MANAGEMENT_SECRET, 401 without or with a
    wrong secret, Bearer and X-Management-Secret both work; the
    {success, data} / {success:false, error} envelope;
  * accounts added (validated by the mock), listed with fingerprints only,
    disabled, enabled, changed, validated in bulk, deleted; a label with
    <script> comes back as data, never as markup;
  * API keys created (shown once), used by a client, counted, disabled,
    deleted; model mappings added, resolved ("where does it go"), removed;
  * the request log: one entry per API request with status, model,
    provider, account fingerprint, key name, latency, stream, upstream
    error; filters (status class, provider, model, text, time range),
    the detail view with bodies redacted and cut, CSV export; pruned to
    LOG_MAX_ENTRIES without a job;
  * statistics per day by provider, model, account and key; /stats with
    avg_latency, requests_per_minute, active_streams (seen while a stream
    is open) and providers, keeping every field it had;
  * /metrics: `promtool check metrics` accepts it, and its counters equal
    the requests this test made, whichever process answers the scrape;
    off (404) without METRICS, behind METRICS_CODE when set (CGI runs);
  * config: every variable with its source, secrets never shown.

Env: CHAT2API_BIN, CHAT2API_ALLOW_SKIP=1, C2A_IT_KEEP=1.
"""

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "mock"))

import harness  # noqa: E402
from harness import HarnessError, Results  # noqa: E402
import deepseek_mock  # noqa: E402

SECRET = "mgmt-secret-" + "x" * 20
U1 = deepseek_mock.DEFAULT_USER_TOKEN
U2 = deepseek_mock.OTHER_USER_TOKEN
LEAK = "sk-" + "L3aky" * 8          # a key-shaped string a client sends
MAX_LOG = 40
MGMT = "/v0/management/"
DOWN = "http://127.0.0.1:9"     # nothing listens: the catch-all fails fast


def fp(secret):
    import hashlib
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


def api(port, method, path, body=None, secret=SECRET, header="bearer"):
    h = {}
    if body is not None:
        h["Content-Type"] = "application/json"
        body = json.dumps(body)
    if secret is not None:
        if header == "bearer":
            h["Authorization"] = "Bearer " + secret
        else:
            h["X-Management-Secret"] = secret
    return harness.http(port, method, MGMT + path, body, headers=h, timeout=60)


def data(resp):
    doc = resp.json() or {}
    return doc.get("data") if doc.get("success") is True else None


def ecode(resp):
    doc = resp.json() or {}
    return (doc.get("error") or {}).get("code") if doc.get("success") is False else None


def chat(port, key, content, model="DeepSeek-V3.2", stream=False):
    body = {"model": model, "stream": stream,
            "messages": [{"role": "user", "content": content}]}
    h = {"Content-Type": "application/json"}
    if key:
        h["Authorization"] = "Bearer " + key
    return harness.http(port, "POST", "/v1/chat/completions", json.dumps(body), headers=h,
                        timeout=60)


def cgi(binary, path, env, auth=None):
    """One CGI run of the binary: (status, body)."""
    e = dict(env, GATEWAY_INTERFACE="CGI/1.1", REQUEST_METHOD="GET", REQUEST_URI=path,
             QUERY_STRING=path.split("?", 1)[1] if "?" in path else "",
             SERVER_PROTOCOL="HTTP/1.1", CHAT2API_LOG_LEVEL="error")
    if auth:
        e["HTTP_AUTHORIZATION"] = auth
    p = subprocess.run([binary], env=e, capture_output=True, timeout=30)
    head, _, body = p.stdout.partition(b"\r\n\r\n")
    status = 0
    for line in head.decode("latin-1").split("\r\n"):
        if line.lower().startswith("status:"):
            status = int(line.split()[1])
    return status, body.decode("utf-8", "replace")


def metric_sum(text, name, want=None):
    """Sum of a metric's samples whose labels include every pair of want."""
    total = 0
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        labels, _, value = line.rpartition(" ")
        if all('%s="%s"' % kv in labels for kv in (want or {}).items()):
            total += float(value)
    return total


def check_auth(r, port):
    resp = api(port, "GET", "health", secret=None)
    r.check("management without a secret: 401, success false, code unauthorized",
            resp.status == 401 and ecode(resp) == "unauthorized", resp.describe())
    doc = resp.json() or {}
    r.check("the error also has OpenAI's message and type",
            isinstance((doc.get("error") or {}).get("message"), str) and
            (doc.get("error") or {}).get("type") == "authentication_error", resp.describe())
    resp = api(port, "GET", "health", secret=SECRET + "x")
    r.check("a wrong secret: 401", resp.status == 401, resp.describe())
    resp = api(port, "GET", "health")
    d = data(resp) or {}
    r.check("Authorization: Bearer <secret>: health answers ok",
            resp.status == 200 and d.get("status") == "ok" and "uptime" in d, resp.describe())
    resp = api(port, "GET", "health", header="x")
    r.check("X-Management-Secret works too", resp.status == 200 and data(resp), resp.describe())
    resp = api(port, "GET", "sessions")
    r.check("sessions: a list (none live here: SESSIONS is off in this setup)",
            resp.status == 200 and data(resp) == [], resp.describe())
    resp = api(port, "DELETE", "sessions/" + "0" * 64)
    r.check("sessions/ID of no live session: 404 not_found",
            resp.status == 404 and ecode(resp) == "not_found", resp.describe())
    resp = api(port, "GET", "nosuch")
    r.check("an unknown resource: 404 not_found", resp.status == 404 and
            ecode(resp) == "not_found", resp.describe())
    resp = api(port, "DELETE", "health")
    r.check("a wrong method: 405", resp.status == 405, resp.describe())


def check_accounts(r, port):
    label = "<script>alert(1)</script>"
    resp = api(port, "POST", "accounts", {"provider": "deepseek", "credential": U1,
                                          "label": label, "validate": True})
    d = data(resp) or {}
    acc = d.get("account") or {}
    r.check("add a deepseek account, validated by the mock",
            resp.status == 200 and d.get("added") is True and
            ((d.get("validation") or [{}])[0]).get("verdict") == "valid",
            resp.describe())
    r.check("the added account: fingerprint, label as plain data, no secret",
            acc.get("fingerprint") == fp(U1) and acc.get("label") == label and
            U1 not in resp.body.decode(), resp.describe())
    resp = api(port, "POST", "accounts", {"provider": "deepseek", "credential": U2,
                                          "label": "second", "weight": 2})
    r.check("add a second account", resp.status == 200 and (data(resp) or {}).get("added"),
            resp.describe())
    resp = api(port, "POST", "accounts", {"provider": "deepseek"})
    r.check("an account without a credential: 400", resp.status == 400 and
            ecode(resp) == "invalid_body", resp.describe())
    resp = api(port, "POST", "accounts", {"provider": "nosuch", "credential": "x" * 40})
    r.check("an unknown provider: 404", resp.status == 404, resp.describe())
    resp = api(port, "POST", "accounts", {"provider": "deepseek", "credential": U1,
                                          "weight": 1000})
    r.check("a weight out of range: 400", resp.status == 400, resp.describe())
    resp = api(port, "GET", "accounts?provider=deepseek")
    rows = data(resp) or []
    r.check("list: both accounts by fingerprint, secrets nowhere",
            {a.get("fingerprint") for a in rows} == {fp(U1), fp(U2)} and
            U1 not in resp.body.decode() and U2 not in resp.body.decode(), resp.describe())
    resp = api(port, "POST", "accounts/%s/disable" % fp(U2))
    r.check("disable", (data(resp) or {}).get("status") == "inactive", resp.describe())
    resp = api(port, "POST", "accounts/%s/enable" % fp(U2))
    r.check("enable", (data(resp) or {}).get("status") == "active", resp.describe())
    resp = api(port, "PATCH", "accounts/%s" % fp(U2), {"daily_limit": 500, "label": "two"})
    d = data(resp) or {}
    r.check("change the daily limit and label",
            d.get("daily_limit") == 500 and d.get("label") == "two", resp.describe())
    resp = api(port, "POST", "accounts/validate?provider=deepseek")
    rows = data(resp) or []
    r.check("bulk validate: both valid", len(rows) == 2 and
            all(x.get("verdict") == "valid" for x in rows), resp.describe())
    resp = api(port, "DELETE", "accounts/%s" % fp(U2))
    r.check("delete", resp.status == 200 and data(resp), resp.describe())
    resp = api(port, "DELETE", "accounts/%s" % fp(U2))
    r.check("delete again: 404", resp.status == 404 and ecode(resp) == "not_found",
            resp.describe())


def check_keys_and_mappings(r, port):
    resp = api(port, "POST", "api-keys", {"name": "ci-key"})
    d = data(resp) or {}
    key = d.get("key") or ""
    r.check("create a key: shown once", resp.status == 200 and key.startswith("sk-"),
            resp.describe())
    resp = api(port, "GET", "api-keys")
    rows = data(resp) or []
    r.check("list keys: the name and hint, never the key",
            any(k.get("name") == "ci-key" for k in rows) and key not in resp.body.decode(),
            resp.describe())
    resp = api(port, "POST", "model-mappings", {"name": "team-model",
                                                "target": "DeepSeek-V3.2",
                                                "provider": "deepseek"})
    r.check("add a mapping", resp.status == 200 and data(resp), resp.describe())
    resp = api(port, "GET", "model-mappings/resolve?model=team-model")
    d = data(resp) or {}
    r.check("resolve: team-model goes to deepseek through the mapping",
            d.get("provider") == "deepseek" and d.get("via") == "mapping" and
            d.get("usable_accounts") == 1, resp.describe())
    resp = api(port, "GET", "model-mappings/resolve?model=DeepSeek-R1")
    d = data(resp) or {}
    r.check("resolve: a built-in name, with thinking",
            d.get("provider") == "deepseek" and d.get("via") == "built-in" and
            d.get("think") is True, resp.describe())
    resp = api(port, "GET", "model-mappings")
    r.check("list mappings: the stored one", any(m.get("name") == "team-model" and
                                                 m.get("source") == "store"
                                                 for m in data(resp) or []), resp.describe())
    return key


def traffic(r, port, key):
    """Requests of known outcome from 8 threads; answers [(status, model)]."""
    jobs = []
    for i in range(24):
        jobs.append(("DeepSeek-V3.2", "hello %d" % i, i % 2 == 0, 200))
    for i in range(4):
        jobs.append(("team-model", "mapped %d" % i, False, 200))
    for i in range(3):      # the catch-all provider, whose upstream is down
        jobs.append(("no-such-model-xyz", "nothing", False, 502))
    for i in range(2):
        jobs.append(("DeepSeek-V3.2", "broken [[fail:400]] %d" % i, False, None))
    results = [None] * len(jobs)

    def run(k):
        model, text, stream, _ = jobs[k]
        results[k] = chat(port, key, text, model=model, stream=stream)
    ts = [threading.Thread(target=run, args=(k,)) for k in range(len(jobs))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    wrong = [(jobs[k][:2], results[k].status) for k in range(len(jobs))
             if jobs[k][3] is not None and results[k].status != jobs[k][3]]
    r.check("%d concurrent chat requests answered as planned" % len(jobs), not wrong,
            repr(wrong[:5]))
    # the secret-looking text is in a body the log keeps (LOG_BODIES)
    resp = chat(port, key, "my key is %s and Bearer abcdefghijklmnop1234" % LEAK)
    r.check("a request carrying a key-shaped string", resp.status == 200, resp.describe())
    return [(res.status, jobs[k][0]) for k, res in enumerate(results)] + [
        (resp.status, "DeepSeek-V3.2")]


def check_logs(r, port, key, done, t0):
    resp = api(port, "GET", "logs?limit=1000")
    rows = data(resp) or []
    r.check("the log holds every request (%d)" % len(done), len(rows) == len(done),
            "%d rows" % len(rows))
    ok = [x for x in rows if x.get("status") == 200]
    r.check("entries: route, provider, account fingerprint, key name, latency",
            ok and all(x.get("route") == "/v1/chat/completions" and
                       x.get("provider") == "deepseek" and x.get("account") == fp(U1) and
                       x.get("key") == "ci-key" and isinstance(x.get("latency_ms"), int)
                       for x in ok), json.dumps(ok[:1]))
    r.check("entries: streams marked, with a time to first chunk",
            any(x.get("stream") is True and isinstance(x.get("ttfc_ms"), int) for x in ok) and
            any(x.get("stream") is False for x in ok), json.dumps(ok[:2]))
    ids = [int(x["id"]) for x in rows]
    r.check("newest first, ids unique", ids == sorted(ids, reverse=True) and
            len(set(ids)) == len(ids), repr(ids[:5]))
    resp = api(port, "GET", "logs?status=4xx")
    bad = data(resp) or []
    want = sum(1 for s, _ in done if 400 <= s < 500)
    r.check("filter status=4xx: exactly the refused ones (%d)" % want,
            len(bad) == want and all(400 <= x["status"] < 500 for x in bad), resp.describe())
    r.check("the upstream's refusal is logged with its error",
            any(x.get("error") and x.get("provider") == "deepseek" for x in bad),
            json.dumps(bad)[:600])
    resp = api(port, "GET", "logs?model=no-such-model-xyz")
    r.check("filter by model", len(data(resp) or []) == 3, resp.describe())
    resp = api(port, "GET", "logs?provider=deepseek&status=2xx")
    r.check("filter by provider and class", len(data(resp) or []) == len(ok), resp.describe())
    resp = api(port, "GET", "logs?q=TEAM-MODEL")
    r.check("text search (any case)", len(data(resp) or []) == 4, resp.describe())
    resp = api(port, "GET", "logs?from=%f&to=%f" % (t0 - 3600, t0 - 1))
    r.check("a time range before the traffic: nothing", data(resp) == [], resp.describe())
    resp = api(port, "GET", "logs?from=%f" % t0)
    r.check("a time range over the traffic: everything", len(data(resp) or []) == len(done),
            resp.describe())
    resp = api(port, "GET", "logs?status=9xx")
    r.check("a bad status class: 400", resp.status == 400, resp.describe())
    leak = [x for x in rows if "key is" in json.dumps(x)]
    newest = rows[0]["id"] if rows else "0"
    resp = api(port, "GET", "logs/%s" % newest)
    d = data(resp) or {}
    body = d.get("request_body") or ""
    r.check("detail: the request body kept, the key-shaped string redacted",
            "my key is [redacted]" in body and LEAK not in resp.body.decode() and
            "abcdefghijklmnop1234" not in resp.body.decode(), resp.describe())
    r.check("detail: the response body kept", "data:" not in (d.get("response_body") or "x")
            and "You said" in (d.get("response_body") or "") or
            len(d.get("response_body") or "") > 0, resp.describe())
    r.check("the list view matches", not leak or LEAK not in json.dumps(leak), "")
    r.check("the key itself is never logged", key not in json.dumps(rows), "")
    resp = api(port, "GET", "logs?format=csv&status=4xx")
    text = resp.body.decode()
    table = list(csv.reader(io.StringIO(text)))
    r.check("CSV export: header and one row per entry, text/csv",
            resp.status == 200 and "text/csv" in (resp.header("content-type") or "") and
            table and table[0][:5] == ["id", "time", "method", "route", "status"] and
            len(table) == 1 + want, text[:400])
    resp = api(port, "GET", "logs/12345")
    r.check("detail of a missing id: 404", resp.status == 404, resp.describe())


def check_stats(r, port, done, t_fetch):
    n = len(done)
    n_ok = sum(1 for s, _ in done if s < 400)
    resp = harness.http(port, "GET", "/stats")
    st = resp.json() or {}
    r.check("/stats keeps total, success, failed, success_rate, models, uptime",
            all(k in st for k in ("total", "success", "failed", "success_rate", "models",
                                  "uptime")), resp.describe())
    r.equal("/stats total", st.get("total"), n)
    r.equal("/stats success", st.get("success"), n_ok)
    prov = (st.get("providers") or {}).get("deepseek") or {}
    r.check("/stats providers.deepseek: requests and accounts",
            prov.get("requests") == n - 3 and prov.get("accounts") == 1, json.dumps(prov))
    r.check("/stats avg_latency > 0, requests_per_minute > 0, active_streams 0",
            isinstance(st.get("avg_latency"), (int, float)) and st["avg_latency"] > 0 and
            st.get("requests_per_minute", 0) > 0 and st.get("active_streams") == 0,
            resp.describe())
    resp = api(port, "GET", "statistics")
    d = data(resp) or {}
    days = d.get("days") or {}
    day = next(iter(days.values())) if len(days) == 1 else {}
    r.check("statistics: today's totals equal the requests",
            (day.get("total") or {}).get("requests") == n, json.dumps(d)[:600])
    r.check("statistics: by provider, model, account and key",
            (day.get("providers") or {}).get("deepseek", {}).get("requests") == n - 3 and
            (day.get("models") or {}).get("team-model", {}).get("requests") == 4 and
            (day.get("accounts") or {}).get(fp(U1), {}).get("requests", 0) >= n_ok and
            (day.get("keys") or {}).get("ci-key", {}).get("requests") == n,
            json.dumps(day)[:800])
    r.check("statistics: the last hour by minute", len(d.get("last_hour") or []) == 60 and
            sum(m["requests"] for m in d["last_hour"]) == n, json.dumps(d.get("last_hour"))[:300])
    ld = d.get("last_day") or []
    r.check("statistics: the last day by hour, the newest hour holding the requests",
            len(ld) == 24 and sum(h["requests"] for h in ld) == n and
            ld[-1]["requests"] == n and ld[-1]["errors"] == n - n_ok and
            ld[-1]["avg_latency"] > 0, json.dumps(ld)[-300:])
    resp = api(port, "GET", "statistics?from=2020")
    r.check("statistics with a bad day: 400", resp.status == 400, resp.describe())
    resp = api(port, "GET", "api-keys")
    k = [x for x in data(resp) or [] if x.get("name") == "ci-key"]
    r.check("the key's use counted in the request's one write (requests=%d)" % n,
            k and k[0].get("requests") == n and k[0].get("last_used_at", 0) >= t_fetch - 5,
            json.dumps(k))


def last_txn(ws):
    p = subprocess.run(["mdb_stat", "-e", ws.path("data")], capture_output=True, text=True)
    for line in p.stdout.splitlines():
        if "Last transaction ID" in line:
            return int(line.split(":")[1])
    raise HarnessError("mdb_stat -e: " + p.stdout + p.stderr)


def check_writes(r, port, key, ws):
    """The issue's bar: the log costs no write of its own.  LMDB numbers
    every committed write transaction; a pooled request with an API key
    commits two: the account taken, and everything else at the end."""
    for i in range(3):              # warm: upstream tokens cached
        chat(port, key, "warm %d" % i)
    n = 10
    t0 = last_txn(ws)
    for i in range(n):
        chat(port, key, "count the writes %d" % i)
        chat(port, key, "and a stream %d" % i, stream=True)
    per = (last_txn(ws) - t0) / (2.0 * n)
    r.check("write transactions per logged request: %.2f (account pick + one batch)" % per,
            per <= 2.0, "%.2f" % per)


def check_providers(r, port):
    resp = api(port, "GET", "providers")
    rows = {p.get("id"): p for p in data(resp) or []}
    ds = rows.get("deepseek") or {}
    r.check("providers: all eight, DeepSeek with its account, requests and last latency",
            len(rows) == 8 and ds.get("accounts") == 1 and ds.get("requests", 0) > 0 and
            isinstance(ds.get("last_latency_ms"), int) and "DeepSeek-V3.2" in ds.get("models", []),
            json.dumps(ds)[:600])


def check_open_stream(r, port, key):
    got = {}

    def slow():
        got["resp"] = chat(port, key, "slow [[drip:400]] stream", stream=True)
    t = threading.Thread(target=slow)
    t.start()
    seen = harness.wait_until(lambda: (harness.http(port, "GET", "/stats").json() or {})
                              .get("active_streams") == 1, 10)
    r.check("/stats active_streams is 1 while a stream is open (any process asked)",
            bool(seen), "")
    t.join()
    after = (harness.http(port, "GET", "/stats").json() or {}).get("active_streams")
    r.check("and 0 once it ended", after == 0 and got["resp"].status == 200, repr(after))


def check_metrics(r, port, done):
    texts = set()
    for _ in range(8):        # new connections: several processes answer
        resp = harness.http(port, "GET", "/metrics")
        texts.add(resp.body.decode())
    text = resp.body.decode()
    r.check("/metrics: 200 text/plain version 0.0.4", resp.status == 200 and
            "version=0.0.4" in (resp.header("content-type") or ""), resp.describe())
    n = len(done)
    r.equal("chat2api_requests_total sums to every request made",
            metric_sum(text, "chat2api_requests_total"), float(n))
    r.equal("... of them status 502, to the catch-all provider",
            metric_sum(text, "chat2api_requests_total", {"status": "502",
                                                         "provider": "chatgpt"}), 3.0)
    r.equal("... of them with model team-model",
            metric_sum(text, "chat2api_requests_total", {"model": "team-model"}), 4.0)
    r.equal("request duration histogram count",
            metric_sum(text, "chat2api_request_duration_seconds_count"), float(n))
    r.check("upstream errors by provider and kind", metric_sum(
        text, "chat2api_upstream_errors_total", {"provider": "deepseek"}) >= 2, text[-1500:])
    r.check("proof-of-work time: DeepSeek's challenges were timed",
            metric_sum(text, "chat2api_proof_of_work_seconds_count",
                       {"provider": "deepseek"}) >= n - 3 - 2, text[-600:])
    r.check("accounts by provider and status", 'chat2api_accounts{provider="deepseek",'
            'status="active"} 1' in text, text[-800:])
    counts = {metric_sum(t, "chat2api_requests_total") for t in texts}
    r.check("every process answers the same totals (summed via LMDB)", counts == {float(n)},
            repr(counts))
    try:
        tool = harness.which("promtool")
    except HarnessError as e:
        r.check("promtool check metrics (apt-get install prometheus)", harness.allow_skip(),
                str(e))
        return
    p = subprocess.run([tool, "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=60)
    r.check("promtool check metrics accepts /metrics", p.returncode == 0,
            (p.stdout + p.stderr)[-1500:])


def check_config(r, port):
    resp = api(port, "GET", "config")
    rows = {c["name"]: c for c in data(resp) or []}
    ms = rows.get("MANAGEMENT_SECRET") or {}
    r.check("config: MANAGEMENT_SECRET from the environment, hidden",
            ms.get("source") == "environment" and ms.get("secret") is True and
            ms.get("value") == "(set, hidden)", json.dumps(ms))
    r.check("config: LOG_MAX_ENTRIES=%d from the environment" % MAX_LOG,
            (rows.get("LOG_MAX_ENTRIES") or {}).get("value") == str(MAX_LOG) and
            rows["LOG_MAX_ENTRIES"]["source"] == "environment", json.dumps(rows.get(
                "LOG_MAX_ENTRIES")))
    r.check("config: TOOL_FORMAT is the default", (rows.get("TOOL_FORMAT") or {}).get(
        "source") == "default", json.dumps(rows.get("TOOL_FORMAT")))
    r.check("config: no secret value anywhere", SECRET not in resp.body.decode(), "")
    cf = (rows.get("CF_FILE_URL") or {}).get("value")
    r.check("config: a URL's login is masked", cf == "http://***@127.0.0.1:9/x" and
            "filepass" not in resp.body.decode(), repr(cf))


def check_retention(r, port, key):
    for i in range(MAX_LOG + 10):
        chat(port, key, "fill %d" % i)
    d = data(api(port, "GET", "health")) or {}
    r.equal("the log is pruned to LOG_MAX_ENTRIES as requests come",
            d.get("log_entries"), MAX_LOG)
    rows = data(api(port, "GET", "logs")) or []
    r.check("the newest are the ones kept", len(rows) == MAX_LOG and
            "fill %d" % (MAX_LOG + 9) in json.dumps(rows[0]), json.dumps(rows[:1])[:400])


def check_cgi(r, binary, ws):
    data_dir = ws.mkdir("cgi-data")
    harness.chown_run_user(data_dir)
    env = dict(os.environ, CHAT2API_DATA_DIR=data_dir)
    st, body = cgi(binary, "/metrics", env)
    r.check("METRICS unset: /metrics is 404", st == 404, body[:200])
    st, body = cgi(binary, "/v0/management/health", env)
    r.check("MANAGEMENT_SECRET unset: the management API is 404", st == 404, body[:200])
    env2 = dict(env, METRICS="true", METRICS_CODE="scrape-code-123")
    st, body = cgi(binary, "/metrics", env2)
    r.check("METRICS_CODE set: 401 without it", st == 401, body[:200])
    st, body = cgi(binary, "/metrics?code=scrape-code-123", env2)
    r.check("METRICS_CODE as ?code=", st == 200 and "chat2api_build_info" in body, body[:200])
    st, body = cgi(binary, "/metrics", env2, auth="Bearer scrape-code-123")
    r.check("METRICS_CODE as Bearer", st == 200, body[:200])
    st, body = cgi(binary, "/metrics", env2, auth="Bearer wrong")
    r.check("a wrong code: 401", st == 401, body[:200])


def main():
    r = Results("test_console_api")
    harness.install_signal_handlers(600)
    binary = harness.find_binary()
    ws = harness.Workspace("console-api")
    ds = deepseek_mock.DeepSeekMock().start()
    try:
        fe = harness.Nginx(ws, binary, pfx=False, procs=4)
        fe.check_installed()
        fe.app_extra = {"DEEPSEEK_BASE_URL": ds.url, "CHATGPT_BASE_URL": DOWN, "MANAGEMENT_SECRET": SECRET,
                        "METRICS": "true", "LOG_BODIES": "true", "LOG_BODY_MAX": "2k",
                        "LOG_MAX_ENTRIES": str(MAX_LOG), "RETRY_TIMES": "1",
                        "CHAT2API_ADMIN_MAX_FAILS": "50",
                        "CF_FILE_URL": "http://fileuser:filepass@127.0.0.1:9/x"}
        fe.start()
        port = fe.port
        r.check("spawn-fcgi started 4 processes", len(fe.app_pids()) == 4, "")
        check_auth(r, port)
        check_accounts(r, port)
        key = check_keys_and_mappings(r, port)
        t0 = time.time()
        done = traffic(r, port, key)
        check_logs(r, port, key, done, t0)
        check_stats(r, port, done, t0)
        check_metrics(r, port, done)
        check_open_stream(r, port, key)
        check_providers(r, port)
        check_writes(r, port, key, ws)
        check_config(r, port)
        check_retention(r, port, key)
        resp = api(port, "POST", "api-keys/%s/disable" % ((data(api(port, "GET", "api-keys"))
                                                           or [{}])[0].get("id")))
        r.check("disable the key", resp.status == 200, resp.describe())
        resp = chat(port, key, "after disable")
        r.check("a disabled key is refused", resp.status in (401, 403), resp.describe())
        check_cgi(r, binary, ws)
    except HarnessError as e:
        harness.report_setup(r, "console api", e)
    finally:
        ds.stop()
        harness.finish_workspace(r, ws, "console-api")
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
