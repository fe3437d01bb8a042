#!/usr/bin/env python3
"""Providers online/offline through nginx + spawn-fcgi (1 process, so one
cache), the management API and the /admin overview:

  * a provider without accounts is not probed: online null, "-" on the page;
  * DeepSeek's base URL is a loopback server that answers 403 to anything
    (a bot wall is still an answer): online true, probe_status 403;
  * GLM's base URL is a closed loopback port: online false with the
    reason, "offline" on the page, and the listing still fast;
  * the answer is kept ~60 s per process: the server stopped, the next
    listings still say online with the same checked_at, and the server
    saw exactly one probe for all of them.

No upstream is real: every *_BASE_URL points at loopback.
Env: CHAT2API_BIN, CHAT2API_ALLOW_SKIP=1, C2A_IT_KEEP=1.
"""

import html
import http.server
import json
import os
import re
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402
from harness import HarnessError, Results  # noqa: E402

CODE = "probe-code-4d2a-" + "k" * 12
SECRET = "probe-mgmt-secret-" + "w" * 16
DS_TOKEN = "dsProbeUserToken" + "7" * 40
GLM_TOKEN = "glmProbeRefresh" + "5" * 30
DOWN = "http://127.0.0.1:9"     # nothing listens there
FORM = "application/x-www-form-urlencoded"
SAME = {"Sec-Fetch-Site": "same-origin"}


class Wall(http.server.BaseHTTPRequestHandler):
    """Answers every GET with 403, counting them."""
    hits = []

    def do_GET(self):
        Wall.hits.append(self.path)
        body = b"<html>blocked</html>"
        self.send_response(403)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def mgmt(port, method, path, body=None):
    h = {"Authorization": "Bearer " + SECRET}
    if body is not None:
        h["Content-Type"] = "application/json"
        body = json.dumps(body)
    resp = harness.http(port, method, "/v0/management/" + path, body, headers=h, timeout=60)
    doc = resp.json() or {}
    return resp, (doc.get("data") if doc.get("success") is True else None)


def listing(port):
    t = time.time()
    resp, d = mgmt(port, "GET", "providers")
    return resp, {p["id"]: p for p in d or []}, time.time() - t


def login(r, port):
    resp = harness.http(port, "POST", "/admin/login", urllib.parse.urlencode({"code": CODE}),
                        headers=dict(SAME, **{"Content-Type": FORM}), timeout=30)
    sc = resp.header("set-cookie") or ""
    r.check("console login", resp.status == 303 and sc.startswith("c2a_admin="),
            resp.describe())
    return sc.split(";", 1)[0]


def status_cell(page, pid):
    m = re.search(r'<tr><td>%s</td><td class="reach ([^"]*)" title="([^"]*)">([^<]*)</td>'
                  % re.escape(pid), page)
    return (m.group(1), html.unescape(m.group(2)), m.group(3)) if m else None


def run(r, port, wall):
    resp, rows, _ = listing(port)
    r.check("providers listed, none probed before it has an account",
            resp.status == 200 and len(rows) == 8 and
            all("online" in p and p["online"] is None for p in rows.values()),
            resp.describe())
    r.equal("no probe reached the up server yet", len(Wall.hits), 0)
    for prov, cred in (("deepseek", DS_TOKEN), ("glm", GLM_TOKEN)):
        resp, d = mgmt(port, "POST", "accounts", {"provider": prov, "credential": cred})
        r.check("a %s account added (not validated)" % prov,
                resp.status == 200 and d and d.get("added") is True, resp.describe())
    t0 = time.time()
    resp, rows, took = listing(port)
    ds, glm = rows.get("deepseek") or {}, rows.get("glm") or {}
    r.check("deepseek (a 403 wall): online, probe_status 403, checked just now",
            ds.get("online") is True and ds.get("probe_status") == 403 and
            abs(ds.get("checked_at", 0) - t0) < 5 and "probe_error" not in ds,
            json.dumps(ds))
    r.check("glm (a closed port): offline with the reason",
            glm.get("online") is False and isinstance(glm.get("probe_error"), str) and
            glm["probe_error"] and "probe_status" not in glm, json.dumps(glm))
    r.check("the others have no account: online null",
            all(rows[p]["online"] is None for p in rows if p not in ("deepseek", "glm")),
            json.dumps({p: rows[p].get("online") for p in rows}))
    r.check("the probing listing answered within the probe's 3 s (%.2f s)" % took,
            took < 3.5, "")
    r.equal("the up server saw one probe, of its root", Wall.hits, ["/"])
    checked = ds.get("checked_at")
    wall.shutdown()
    wall.server_close()
    resp, rows, took = listing(port)
    ds = rows.get("deepseek") or {}
    r.check("server gone, within 60 s: still online from the cache (%.2f s)" % took,
            ds.get("online") is True and ds.get("checked_at") == checked and took < 1.5,
            json.dumps(ds))
    cookie = login(r, port)
    resp = harness.http(port, "GET", "/admin?fragment=1", headers={"Cookie": cookie},
                        timeout=30)
    page = resp.body.decode("utf-8", "replace")
    cells = {p: status_cell(page, p) for p in ("deepseek", "glm", "kimi")}
    r.check("overview: deepseek online (HTTP 403), glm offline, kimi not probed",
            resp.status == 200 and
            cells["deepseek"] == ("st-active", "HTTP 403", "online") and
            cells["glm"] is not None and cells["glm"][0] == "st-error" and
            cells["glm"][2] == "offline" and cells["glm"][1] == glm.get("probe_error") and
            cells["kimi"] is not None and cells["kimi"][2] == "-", json.dumps(cells))
    r.equal("still one probe in all", len(Wall.hits), 1)


def main():
    r = Results("test_provider_probe")
    harness.install_signal_handlers(180)
    binary = harness.find_binary()
    ws = harness.Workspace("provider-probe")
    wall = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Wall)
    threading.Thread(target=wall.serve_forever, daemon=True).start()
    up = "http://127.0.0.1:%d" % wall.server_address[1]
    try:
        fe = harness.Nginx(ws, binary, pfx=False, procs=1)
        fe.check_installed()
        fe.app_extra = {"DEEPSEEK_BASE_URL": up, "GLM_BASE_URL": DOWN,
                        "CHATGPT_BASE_URL": DOWN, "KIMI_BASE_URL": DOWN,
                        "QWEN_BASE_URL": DOWN, "QWENAI_BASE_URL": DOWN,
                        "MINIMAX_BASE_URL": DOWN, "ZAI_BASE_URL": DOWN,
                        "AUTHORIZATION": CODE, "MANAGEMENT_SECRET": SECRET}
        fe.start()
        run(r, fe.port, wall)
    except HarnessError as e:
        harness.report_setup(r, "provider probe", e)
    finally:
        harness.finish_workspace(r, ws, "provider-probe")
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
