"""The checks every transport (each front end, and direct CGI) must pass.

A transport is a function send(method, path, body=None, headers=None) that
returns a harness.Response (status, headers, body, and timed body pieces).
"""

import json
import os
import traceback

from harness import REQUIRED_MODELS, sha_fp

# Timing rules for /_test/sse?n=5&interval_ms=200.  Loose enough for a busy
# 2-vCPU CI box, tight enough that a buffered stream (everything arriving at
# the end) always fails.
SSE_N = 5
SSE_INTERVAL = 0.200
SSE_MIN_GAP = 0.5 * SSE_INTERVAL      # each event at least this after the previous
SSE_MAX_SKEW = 0.150                  # arrival vs the event's own "ms" stamp
SSE_MIN_SPREAD = 0.75 * (SSE_N - 1) * SSE_INTERVAL

MAX_BODY = 65536                      # CHAT2API_MAX_BODY in harness.app_env


def openai_error(doc, code=None, etype=None, param="__any__"):
    """None when doc is an OpenAI error object matching the wishes, else why not."""
    if not isinstance(doc, dict) or not isinstance(doc.get("error"), dict):
        return "not an {\"error\":{...}} object: %r" % (doc,)
    e = doc["error"]
    for k in ("message", "type", "param", "code"):
        if k not in e:
            return "error object lacks %r: %r" % (k, e)
    if not isinstance(e["message"], str) or not e["message"]:
        return "error.message is not a non-empty string: %r" % (e,)
    if code is not None and e["code"] != code:
        return "error.code is %r, want %r" % (e["code"], code)
    if etype is not None and e["type"] != etype:
        return "error.type is %r, want %r" % (e["type"], etype)
    if param != "__any__" and e["param"] != param:
        return "error.param is %r, want %r" % (e["param"], param)
    return None


def is_json(resp):
    return (resp.header("content-type") or "").split(";")[0].strip().lower() == "application/json"


def json_body(n, model):
    """A JSON object of exactly n bytes with the given model."""
    head = '{"model":"%s","messages":[{"role":"user","content":"' % model
    tail = '"}]}'
    pad = n - len(head) - len(tail)
    assert pad >= 0
    return (head + "x" * pad + tail).encode()


class Checker:
    def __init__(self, r, label):
        self.r = r
        self.label = label

    def name(self, s):
        return "%s: %s" % (self.label, s)

    def check(self, s, cond, detail=None):
        return self.r.check(self.name(s), cond, detail)

    def guarded(self, s, fn, *args):
        """Run one group of checks; an exception is one failure, not a crash."""
        try:
            fn(*args)
        except Exception:
            self.r.fail(self.name(s + " (exception)"), traceback.format_exc())


# ------------------------------------------------------------------ groups
def check_basic(c, send):
    resp = send("GET", "/health")
    doc = resp.json()
    c.check("GET /health -> 200 JSON", resp.status == 200 and is_json(resp) and isinstance(doc, dict),
            resp.describe())
    if isinstance(doc, dict):
        c.check("/health fields status=ok version=0.1.0 uptime>=0",
                doc.get("status") == "ok" and doc.get("version") == "0.1.0"
                and isinstance(doc.get("uptime"), (int, float)) and doc["uptime"] >= 0, repr(doc))

    resp = send("GET", "/")
    c.check("GET / -> 200 JSON object", resp.status == 200 and is_json(resp)
            and isinstance(resp.json(), dict), resp.describe())

    resp = send("GET", "/v1/models")
    doc = resp.json()
    ok = resp.status == 200 and is_json(resp) and isinstance(doc, dict)
    c.check("GET /v1/models -> 200 JSON", ok, resp.describe())
    if ok:
        data = doc.get("data")
        c.check("/v1/models is {object:list, data:[...]}",
                doc.get("object") == "list" and isinstance(data, list), repr(doc)[:300])
        if isinstance(data, list):
            ids = [m.get("id") for m in data if isinstance(m, dict)]
            missing = [m for m in REQUIRED_MODELS if m not in ids]
            c.check("/v1/models lists %s" % ",".join(REQUIRED_MODELS), not missing,
                    "missing %r; got %r" % (missing, ids))
            bad = [m for m in data if not (isinstance(m, dict) and isinstance(m.get("id"), str)
                                           and m.get("object") == "model"
                                           and isinstance(m.get("created"), int)
                                           and isinstance(m.get("owned_by"), str))]
            c.check("every model has id, object=model, created(int), owned_by", not bad,
                    repr(bad[:3]))

    for mid in ("gpt-4o", "o3-mini"):
        resp = send("GET", "/v1/models/" + mid)
        doc = resp.json()
        c.check("GET /v1/models/%s -> 200 model object" % mid,
                resp.status == 200 and is_json(resp) and isinstance(doc, dict)
                and doc.get("id") == mid and doc.get("object") == "model"
                and isinstance(doc.get("created"), int) and isinstance(doc.get("owned_by"), str),
                resp.describe())

    resp = send("GET", "/v1/models/no-such-model-xyz")
    why = openai_error(resp.json(), code="model_not_found", etype="invalid_request_error",
                       param="model")
    c.check("GET /v1/models/<unknown> -> 404 model_not_found error",
            resp.status == 404 and is_json(resp) and why is None, "%s; %s" % (why, resp.describe()))
    if resp.status == 404:
        c.check("404 body is JSON (front end did not substitute its own page)", is_json(resp),
                resp.describe())

    # the third: bytes that are no UTF-8 must not reach the JSON message raw
    for path in ("/v1/no-such-route", "/no/such/thing", "/no/such/%ff%fe%c0"):
        resp = send("GET", path)
        if "%ff" in path and resp.status == 400 and not is_json(resp):
            c.check("GET %s: the front server refused the bytes itself (400)" % path, True)
            continue
        why = openai_error(resp.json(), code="not_found")
        c.check("GET %s -> 404 not_found error" % path, resp.status == 404 and why is None,
                "%s; %s" % (why, resp.describe()))

    resp = send("DELETE", "/v1/models")
    why = openai_error(resp.json())
    c.check("DELETE /v1/models -> 405 OpenAI error", resp.status == 405 and why is None,
            "%s; %s" % (why, resp.describe()))

    resp = send("OPTIONS", "/v1/chat/completions", headers={
        "Origin": "https://client.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    acao = resp.header("access-control-allow-origin")
    c.check("OPTIONS /v1/chat/completions -> 204 + Access-Control-Allow-Origin: *",
            resp.status == 204 and acao == "*", resp.describe() + "; headers=%r" % resp.headers)
    methods = (resp.header("access-control-allow-methods") or "").upper()
    allow_h = (resp.header("access-control-allow-headers") or "").lower()
    c.check("OPTIONS allows POST and the Authorization header",
            "POST" in methods and ("authorization" in allow_h or allow_h.strip() == "*"),
            "allow-methods=%r allow-headers=%r" % (methods, allow_h))


def check_echo(c, send):
    resp = send("GET", "/_test/echo?a=1&b=two")
    doc = resp.json() or {}
    c.check("GET /_test/echo?a=1&b=two -> 200 JSON", resp.status == 200 and isinstance(doc, dict),
            resp.describe())
    c.check("echo method/path/query", doc.get("method") == "GET" and doc.get("path") == "/_test/echo"
            and doc.get("query") == "a=1&b=two", repr(doc))
    auth = doc.get("authorization") or {}
    c.check("echo without Authorization -> present:false", auth.get("present") is False, repr(doc))
    c.check("echo GET: body_length 0, model null",
            doc.get("body_length") == 0 and doc.get("model") is None, repr(doc))

    token = "Bearer sk-it-%s" % os.urandom(12).hex()
    resp = send("GET", "/_test/echo", headers={"Authorization": token})
    auth = (resp.json() or {}).get("authorization") or {}
    c.check("Authorization header reaches chat2api (fingerprint matches)",
            resp.status == 200 and auth.get("present") is True
            and auth.get("fingerprint") == sha_fp(token),
            "sent sha256[:16]=%s, got %r" % (sha_fp(token), auth))


def check_bodies(c, send):
    for n, model in ((60000, "gpt-4o-mini"), (MAX_BODY, "o1")):
        body = json_body(n, model)
        resp = send("POST", "/_test/echo", body=body, headers={"Content-Type": "application/json"})
        doc = resp.json() or {}
        c.check("POST %d-byte JSON -> 200, body_length=%d, model=%s" % (n, n, model),
                resp.status == 200 and doc.get("body_length") == n and doc.get("model") == model
                and (doc.get("content_type") or "").startswith("application/json"),
                resp.describe())
    for n in (MAX_BODY + 1, 70000, 1024 * 1024):
        resp = send("POST", "/_test/echo", body=json_body(n, "gpt-4o"),
                    headers={"Content-Type": "application/json"})
        why = openai_error(resp.json(), code="request_too_large")
        c.check("POST %d bytes (limit %d) -> chat2api's 413 request_too_large" % (n, MAX_BODY),
                resp.status == 413 and why is None, "%s; %s" % (why, resp.describe()))
    # A chunked request body (no Content-Length), as streaming HTTP clients send.
    # Only over HTTP: the CGI-direct transport has no such thing.
    if getattr(send, "http", False):
        body = json_body(3000, "gpt-4o")
        chunked = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 1000]), body[i:i + 1000])
                           for i in range(0, len(body), 1000)) + b"0\r\n\r\n"
        resp = send("POST", "/_test/echo", body=chunked,
                    headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked",
                             "Content-Length": None})
        doc = resp.json() or {}
        c.check("POST chunked (no Content-Length) 3000-byte JSON -> 200, body_length=3000",
                resp.status == 200 and doc.get("body_length") == 3000 and doc.get("model") == "gpt-4o",
                resp.describe())
    resp = send("POST", "/_test/echo", body=b'{"model": "gpt-4o", "messages": [',
                headers={"Content-Type": "application/json"})
    why = openai_error(resp.json())
    c.check("POST bad JSON -> 400 OpenAI error", resp.status == 400 and why is None,
            "%s; %s" % (why, resp.describe()))


def parse_sse(resp):
    """-> (data_events [(t, payload)], comments [(t, text)], done_t or None, junk)."""
    data, comments, done, junk = [], [], None, []
    for t, ev in resp.sse_events():
        lines = [ln for ln in ev.split("\n") if ln != ""]
        if not lines:
            continue
        if all(ln.startswith(":") for ln in lines):
            comments.append((t, ev))
            continue
        payload = "\n".join(ln[5:].lstrip(" ") if ln.startswith("data:") else ln
                            for ln in lines if not ln.startswith(":"))
        if payload == "[DONE]":
            done = t
        elif done is None:
            data.append((t, payload))
        else:
            junk.append(ev)
    return data, comments, done, junk


def check_sse(c, send):
    resp = send("GET", "/_test/sse?n=%d&interval_ms=%d" % (SSE_N, int(SSE_INTERVAL * 1000)))
    ctype = (resp.header("content-type") or "").split(";")[0].strip()
    c.check("GET /_test/sse -> 200 text/event-stream", resp.status == 200 and
            ctype == "text/event-stream", resp.describe())
    data, comments, done, junk = parse_sse(resp)
    evs = []
    for t, p in data:
        try:
            evs.append((t, json.loads(p)))
        except ValueError:
            evs.append((t, None))
    ok = (len(evs) == SSE_N and all(isinstance(d, dict) and d.get("i") == i
                                    for i, (t, d) in enumerate(evs)))
    c.check("SSE: %d data events i=0..%d then [DONE]" % (SSE_N, SSE_N - 1),
            ok and done is not None and not junk,
            "events=%r done=%r junk=%r body=%r" % ([d for _, d in evs], done, junk, resp.text()))
    if not ok:
        return
    times = [t for t, _ in evs]
    timeline = "arrivals(s)=%s ms-stamps=%s" % (["%.3f" % t for t in times],
                                               [d.get("ms") for _, d in evs])
    c.check("SSE: first event arrives long before the last (spread >= %.2fs)" % SSE_MIN_SPREAD,
            times[-1] - times[0] >= SSE_MIN_SPREAD, timeline)
    gaps = [b - a for a, b in zip(times, times[1:])]
    c.check("SSE: each event arrives >= %.0f ms after the previous (not bunched)"
            % (SSE_MIN_GAP * 1000), all(g >= SSE_MIN_GAP for g in gaps),
            "gaps=%s; %s" % (["%.3f" % g for g in gaps], timeline))
    stamps = [d.get("ms") for _, d in evs]
    if all(isinstance(s, (int, float)) for s in stamps):
        # arrival - own timestamp should be (nearly) constant: no buffering
        lag = [t - s / 1000.0 for t, s in zip(times, stamps)]
        c.check("SSE: every event is delivered within %.0f ms of being produced"
                % (SSE_MAX_SKEW * 1000), max(lag) - min(lag) <= SSE_MAX_SKEW,
                "lag(s)=%s; %s" % (["%.3f" % x for x in lag], timeline))
        c.check("SSE: ms stamps ~ interval apart",
                all(abs((b - a) - SSE_INTERVAL * 1000) <= 100 for a, b in zip(stamps, stamps[1:])),
                repr(stamps))
    else:
        c.check("SSE: events carry an integer ms stamp", False, repr(stamps))


def check_keepalive(c, send):
    resp = send("GET", "/_test/sse?n=2&interval_ms=2500")
    data, comments, done, junk = parse_sse(resp)
    c.check("SSE keep-alive run: 2 data events + [DONE]", len(data) == 2 and done is not None,
            resp.describe())
    ka = [(t, x) for t, x in comments if "keep-alive" in x]
    c.check("SSE: ': keep-alive' comment while idle (CHAT2API_SSE_KEEPALIVE=1, 2.5 s gap)",
            len(ka) >= 1, "comments=%r body=%r" % (comments, resp.text()))
    if ka and len(data) == 2:
        c.check("SSE: keep-alive comment is delivered during the gap, not with the next event",
                ka[0][0] < data[1][0] - 0.5,
                "keep-alive at %.3fs, second event at %.3fs" % (ka[0][0], data[1][0]))


def check_prefix(c, send):
    resp = send("GET", "/pfx/health")
    c.check("[mount /pfx, API_PREFIX=secret] GET /pfx/health -> 200 (unprefixed)",
            resp.status == 200 and (resp.json() or {}).get("status") == "ok", resp.describe())
    resp = send("GET", "/pfx/")
    c.check("[mount] GET /pfx/ -> 200 JSON index", resp.status == 200 and is_json(resp),
            resp.describe())
    resp = send("GET", "/pfx/v1/models")
    c.check("[API_PREFIX] /pfx/v1/models -> 404 (API lives under the prefix)",
            resp.status == 404, resp.describe())
    resp = send("GET", "/pfx/secret/v1/models")
    doc = resp.json() or {}
    c.check("[API_PREFIX] /pfx/secret/v1/models -> 200 model list",
            resp.status == 200 and doc.get("object") == "list", resp.describe())
    resp = send("GET", "/pfx/secret/v1/models/gpt-4o")
    c.check("[API_PREFIX] /pfx/secret/v1/models/gpt-4o -> 200",
            resp.status == 200 and (resp.json() or {}).get("id") == "gpt-4o", resp.describe())
    token = "Bearer sk-pfx-%s" % os.urandom(8).hex()
    resp = send("GET", "/pfx/_test/echo", headers={"Authorization": token})
    auth = (resp.json() or {}).get("authorization") or {}
    c.check("[mount] Authorization reaches the mounted instance",
            resp.status == 200 and auth.get("fingerprint") == sha_fp(token), resp.describe())


def run_all(r, label, send, pfx_send=None):
    c = Checker(r, label)
    c.guarded("basic routes", check_basic, c, send)
    c.guarded("echo/auth", check_echo, c, send)
    c.guarded("bodies", check_bodies, c, send)
    c.guarded("sse", check_sse, c, send)
    c.guarded("keep-alive", check_keepalive, c, send)
    if pfx_send is not None:
        c.guarded("prefix", check_prefix, c, pfx_send)
