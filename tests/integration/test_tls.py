#!/usr/bin/env python3
"""The upstream over TLS: nginx + spawn-fcgi + chat2api against the ChatGPT
mock serving HTTPS with a certificate of a test CA (made here with the
openssl command).

  * CHAT2API_CA_FILE names the test CA: answers, stream and non-stream,
    come through TLS whole;
  * 24 streams dripping their events at once, each parked on the event
    loop over its own TLS connection: every one gets its whole text and
    [DONE];
  * without CHAT2API_CA_FILE (libcurl's bundle, which does not know the
    test CA) and with a CA file that does not exist, no conversation
    reaches the mock and the client gets an OpenAI-shaped error, stream
    and non-stream; chat2api keeps serving.

Env: CHAT2API_BIN, CHAT2API_ALLOW_SKIP=1, C2A_IT_KEEP=1.
"""

import os
import ssl
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "mock"))

import harness  # noqa: E402
from harness import HarnessError, Missing, Results  # noqa: E402
import chatgpt_mock  # noqa: E402
from test_chat import chat, sse_json, stream_parts  # noqa: E402

STREAMS = 24


def front(ws, binary, mock, extra):
    fe = harness.Nginx(ws, binary, pfx=False)
    fe.check_installed()
    fe.app_extra = dict(CHATGPT_BASE_URL=mock.url, RETRY_TIMES="0", **extra)
    fe.start()
    return fe


def trusted(r, fe, mock):
    resp = chat(fe.port, "over tls")
    text = resp.json()["choices"][0]["message"]["content"] if resp.status == 200 else ""
    r.check("CA file: a non-stream answer comes through TLS",
            resp.status == 200 and "You said: over tls" in text, resp.describe())
    resp = chat(fe.port, "streamed over tls", stream=True)
    ev = sse_json(resp) if resp.status == 200 else []
    content, _, finish = stream_parts(ev)
    r.check("CA file: a streamed answer comes through TLS, [DONE] last",
            resp.status == 200 and "You said: streamed over tls" in content and
            finish == ["stop"] and ev and ev[-1] == "[DONE]", resp.describe())

    # parked between events: the connection is idle most of the time
    out = [None] * STREAMS

    def one(i):
        try:
            out[i] = chat(fe.port, "drip %d [[drip:40]]" % i, stream=True, timeout=60)
        except Exception as e:  # noqa: BLE001 (reported below)
            out[i] = e

    ts = [threading.Thread(target=one, args=(i,)) for i in range(STREAMS)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(90)
    good = 0
    bad = ""
    for i, resp in enumerate(out):
        if isinstance(resp, Exception) or resp is None:
            bad = bad or repr(resp)
            continue
        ev = sse_json(resp) if resp.status == 200 else []
        content, _, finish = stream_parts(ev)
        if "You said: drip %d" % i in content and finish == ["stop"] and ev[-1] == "[DONE]":
            good += 1
        else:
            bad = bad or resp.describe()
    r.check("%d dripping TLS streams at once: every one whole, [DONE] last" % STREAMS,
            good == STREAMS, "%d good; %s" % (good, bad))


def untrusted(r, fe, mock, label):
    before = mock.snapshot().get("requests", {}).get("conversation", 0)
    resp = chat(fe.port, "must not arrive")
    try:
        err = resp.json().get("error") or {}
    except ValueError:
        err = {}
    r.check("%s: a non-stream request is an OpenAI-shaped 5xx error" % label,
            500 <= resp.status < 600 and isinstance(err.get("message"), str) and
            err.get("type"), resp.describe())
    resp = chat(fe.port, "must not arrive either", stream=True)
    body = resp.body.decode("utf-8", "replace")
    ok = 500 <= resp.status < 600 and '"error"' in body
    if resp.status == 200:
        ev = sse_json(resp)
        ok = any(isinstance(e, dict) and e.get("error") for e in ev) and ev[-1] == "[DONE]"
    r.check("%s: a streamed request ends in an error (status or chunk)" % label, ok,
            resp.describe())
    after = mock.snapshot().get("requests", {}).get("conversation", 0)
    r.check("%s: no conversation reached the mock" % label, after == before,
            "%d -> %d" % (before, after))
    resp = harness.http(fe.port, "GET", "/health", timeout=10)
    r.check("%s: chat2api still serves (/health 200)" % label, resp.status == 200,
            resp.describe())


def main():
    r = Results("test_tls")
    harness.install_signal_handlers(600)
    binary = harness.find_binary()
    ws = harness.Workspace("tls")
    mock = None
    fes = []
    try:
        ca, cert, key = harness.test_ca(ws.path())
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        mock = chatgpt_mock.ChatGPTMock(tls=ctx).start()
        r.check("the mock serves https", mock.url.startswith("https://"), mock.url)
        fe = front(harness.Workspace("tls-ca"), binary, mock, {"CHAT2API_CA_FILE": ca})
        fes.append(fe)
        trusted(r, fe, mock)
        fe = front(harness.Workspace("tls-default"), binary, mock, {})
        fes.append(fe)
        untrusted(r, fe, mock, "libcurl's bundle")
        fe = front(harness.Workspace("tls-missing"), binary, mock,
                   {"CHAT2API_CA_FILE": ws.path("no-such-ca.pem")})
        fes.append(fe)
        untrusted(r, fe, mock, "a CA file that does not exist")
    except Missing as e:
        harness.report_setup(r, "tls", e)
    except HarnessError as e:
        harness.report_setup(r, "tls", e)
    finally:
        for fe in fes:
            harness.finish_workspace(r, fe.ws, "tls")
        if mock is not None:
            mock.stop()
        harness.finish_workspace(r, ws, "tls")
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
