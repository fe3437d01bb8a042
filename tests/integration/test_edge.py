#!/usr/bin/env python3
"""A strict edge, end to end: nginx + spawn-fcgi + chat2api + the DeepSeek
mock.

  * a corpus of malformed bodies for /v1/chat/completions and
    /v1/completions: each is a 400 invalid_request_error with the code and
    the param OpenAI's API gives (trailing data, lenient JSON, invalid
    UTF-8, wrong types, values out of range, n > 1, stream_options without
    stream ...), and the upstream is never asked;
  * well-formed bodies with every optional field, our extensions and an
    unknown field are served;
  * raw bytes in the path, the query and header values come back as U+FFFD:
    every JSON body of this test is strict JSON in strict UTF-8.

Env: CHAT2API_BIN, CHAT2API_ALLOW_SKIP=1, C2A_IT_KEEP=1.
"""

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

CODE = "edge-code-1"
MODEL = "DeepSeek-V3.2"
MSGS = [{"role": "system", "content": "s"}, {"role": "user", "content": "hi"},
        {"role": "user", "content": "again"}]


def chat_body(**extra):
    b = {"model": MODEL, "messages": MSGS}
    b.update(extra)
    return json.dumps(b)


def text_body(**extra):
    b = {"model": MODEL, "prompt": "hi"}
    b.update(extra)
    return json.dumps(b)


# (label, path, raw body, code, param): each a 400 invalid_request_error
CHAT = "/v1/chat/completions"
TEXT = "/v1/completions"
BAD = [
    ("trailing garbage", CHAT, chat_body() + "garbage", "invalid_json", None),
    ("a second object", CHAT, chat_body() + "{}", "invalid_json", None),
    ("single quotes", CHAT, chat_body().replace('"', "'"), "invalid_json", None),
    ("trailing comma", CHAT, chat_body()[:-1] + ",}", "invalid_json", None),
    ("NaN", CHAT, chat_body()[:-1] + ',"temperature":NaN}', "invalid_json", None),
    ("a raw tab in a string", CHAT, chat_body().replace("again", "ag\tain"),
     "invalid_json", None),
    ("invalid UTF-8", CHAT, chat_body().encode().replace(b"again", b"ag\xffain"),
     "invalid_json", None),
    ("an overlong '/'", CHAT, chat_body().encode().replace(b"again", b"\xc0\xaf"),
     "invalid_json", None),
    ("a NUL after the body", CHAT, chat_body() + "\0", "invalid_json", None),
    ("an array body", CHAT, "[" + chat_body() + "]", "invalid_type", None),
    ("no messages", CHAT, json.dumps({"model": MODEL}), "missing_required_parameter",
     "messages"),
    ("empty messages", CHAT, chat_body(messages=[]), "empty_array", "messages"),
    ("content of the wrong type", CHAT,
     chat_body(messages=MSGS[:2] + [{"role": "user", "content": 42}]),
     "invalid_type", "messages[2].content"),
    ("tools not an array", CHAT, chat_body(tools=5), "invalid_type", "tools"),
    ("a tool that is not a function", CHAT, chat_body(tools=[{"type": "retrieval"}]),
     "invalid_value", "tools[0].type"),
    ("n=2", CHAT, chat_body(n=2), "unsupported_value", "n"),
    ("n=0", CHAT, chat_body(n=0), "integer_below_min_value", "n"),
    ("session_id with a space", CHAT, chat_body(session_id="a b"), "invalid_value", "session_id"),
    ("session_id too long", CHAT, chat_body(session_id="s" * 129), "string_above_max_length",
     "session_id"),
    ("five stop sequences", CHAT, chat_body(stop=list("abcde")),
     "array_above_max_length", "stop"),
    ("stop a number", CHAT, chat_body(stop=7), "invalid_type", "stop"),
    ("stop with a number", CHAT, chat_body(stop=["a", 1]), "invalid_type", "stop[1]"),
    ("max_tokens 0", CHAT, chat_body(max_tokens=0), "integer_below_min_value",
     "max_tokens"),
    ("max_completion_tokens -1", CHAT, chat_body(max_completion_tokens=-1),
     "integer_below_min_value", "max_completion_tokens"),
    ("max_tokens 1.5", CHAT, chat_body(max_tokens=1.5), "invalid_type", "max_tokens"),
    ("temperature 2.5", CHAT, chat_body(temperature=2.5), "decimal_above_max_value",
     "temperature"),
    ("temperature -0.1", CHAT, chat_body(temperature=-0.1), "decimal_below_min_value",
     "temperature"),
    ("temperature a string", CHAT, chat_body(temperature="1"), "invalid_type",
     "temperature"),
    ("top_p 1.5", CHAT, chat_body(top_p=1.5), "decimal_above_max_value", "top_p"),
    ("presence_penalty 3", CHAT, chat_body(presence_penalty=3),
     "decimal_above_max_value", "presence_penalty"),
    ("stream_options without stream", CHAT,
     chat_body(stream_options={"include_usage": True}), "invalid_value",
     "stream_options"),
    ("stream_options.include_usage a string", CHAT,
     chat_body(stream=True, stream_options={"include_usage": "yes"}), "invalid_type",
     "stream_options.include_usage"),
    ("logit_bias keyed by words", CHAT, chat_body(logit_bias={"abc": 1}),
     "invalid_value", "logit_bias"),
    ("logit_bias an array", CHAT, chat_body(logit_bias=[1]), "invalid_type",
     "logit_bias"),
    ("logit_bias over 100", CHAT, chat_body(logit_bias={"42": 101}), "invalid_value",
     "logit_bias"),
    ("seed a string", CHAT, chat_body(seed="7"), "invalid_type", "seed"),
    ("response_format a string", CHAT, chat_body(response_format="json"),
     "invalid_type", "response_format"),
    ("response_format of an unknown type", CHAT,
     chat_body(response_format={"type": "xml"}), "invalid_value", "response_format"),
    ("user too long", CHAT, chat_body(user="u" * 300), "string_above_max_length",
     "user"),
    ("logprobs", CHAT, chat_body(logprobs=True), "unsupported_value", "logprobs"),
    ("web_search not a boolean", CHAT, chat_body(web_search="yes"), "invalid_type",
     "web_search"),
    ("completions: trailing garbage", TEXT, text_body() + " x", "invalid_json", None),
    ("completions: n=2", TEXT, text_body(n=2), "unsupported_value", "n"),
    ("completions: five stop sequences", TEXT, text_body(stop=list("abcde")),
     "array_above_max_length", "stop"),
    ("completions: max_tokens 0", TEXT, text_body(max_tokens=0),
     "integer_below_min_value", "max_tokens"),
    ("completions: temperature 3", TEXT, text_body(temperature=3),
     "decimal_above_max_value", "temperature"),
    ("completions: stream_options without stream", TEXT,
     text_body(stream_options={}), "invalid_value", "stream_options"),
    ("completions: echo", TEXT, text_body(echo=True), "unsupported_value", "echo"),
    ("completions: logprobs", TEXT, text_body(logprobs=2), "unsupported_value",
     "logprobs"),
    ("completions: no prompt", TEXT, json.dumps({"model": MODEL}),
     "missing_required_parameter", "prompt"),
    ("completions: prompt a number", TEXT, text_body(prompt=5), "invalid_type",
     "prompt"),
]

# (label, path, body): served, with our extensions and an unknown field
GOOD = [
    ("every optional field", CHAT, chat_body(
        stream=False, max_tokens=50, max_completion_tokens=60, temperature=0,
        top_p=1, n=1, stop=["\n\n", "END"], presence_penalty=-2, frequency_penalty=2,
        logit_bias={"50256": -100, "13": 0.5}, seed=-7, logprobs=False,
        top_logprobs=0, user="u1", parallel_tool_calls=True, store=False,
        metadata={"k": "v"}, service_tier="auto", verbosity="low",
        response_format={"type": "text"}, modalities=["text"],
        prompt_cache_key="k", safety_identifier="s", temperature_unknown=9)),
    ("our extensions", CHAT, chat_body(
        web_search=False, deep_research=False, reasoning_effort="none",
        history_disabled=True, conversation_id=None, x_custom={"any": [1, None]})),
    ("stream with stream_options", CHAT, chat_body(
        stream=True, stream_options={"include_usage": True}, stop="END")),
    ("blanks after the body", CHAT, chat_body() + " \r\n\t\n"),
    ("completions with stop and seed", TEXT, text_body(
        stop=["a", "b", "c", "d"], seed=1, n=1, best_of=1, echo=False, suffix="",
        logprobs=0, logit_bias={}, stream=True,
        stream_options={"include_usage": False})),
]


def strict_json(raw):
    """raw as strict JSON in strict UTF-8, or an exception."""
    def no_constant(c):
        raise ValueError("non-JSON constant %s" % c)
    text = raw.decode("utf-8")          # strict: raises on a bad byte
    return json.loads(text, parse_constant=no_constant)


def every_json(r, label, resp):
    """Each JSON body and SSE event of resp parses strictly; the error ones
    are OpenAI-shaped.  Returns the parsed body (or None for a stream)."""
    ctype = resp.header("content-type", "")
    try:
        if ctype.startswith("text/event-stream"):
            for _, ev in [(0, e) for e in resp.body.split(b"\n\n") if e.strip()]:
                if ev.startswith(b"data: ") and ev[6:] != b"[DONE]":
                    strict_json(ev[6:])
            return None
        if ctype.startswith("application/json"):
            out = strict_json(resp.body)
            if resp.status >= 400:
                err = out.get("error") or {}
                if set(err) != {"message", "type", "param", "code"}:
                    raise ValueError("error keys %s" % sorted(err))
            return out
    except (ValueError, UnicodeDecodeError) as e:
        r.check("%s: strict JSON in strict UTF-8" % label, False,
                "%s: %r" % (e, resp.body[:300]))
        return None
    return None


def post(port, path, body, auth=CODE, headers=None):
    h = {"Content-Type": "application/json"}
    if auth is not None:
        h["Authorization"] = "Bearer " + auth
    h.update(headers or {})
    return harness.http(port, "POST", path, body, headers=h, timeout=30)


def malformed(r, port, ds):
    def asked():
        return sum((ds.snapshot().get("completions") or {}).values())
    before = asked()
    for label, path, body, code, param in BAD:
        resp = post(port, path, body)
        out = every_json(r, label, resp) or {}
        err = out.get("error") or {}
        r.check("%s -> 400 %s on %s" % (label, code, param),
                resp.status == 400 and err.get("type") == "invalid_request_error" and
                err.get("code") == code and err.get("param") == param and
                isinstance(err.get("message"), str) and err["message"],
                resp.describe())
    r.check("no malformed request reached the upstream",
            asked() == before, "%s -> %s" % (before, asked()))


def served(r, port):
    for label, path, body in GOOD:
        resp = post(port, path, body)
        out = every_json(r, label, resp)
        stream = resp.header("content-type", "").startswith("text/event-stream")
        r.check("%s -> 200" % label, resp.status == 200 and (
            stream and b"data: [DONE]" in resp.body or
            not stream and isinstance(out, dict) and out.get("choices")),
            resp.describe())


def raw_bytes(r, port):
    """Bytes a strict client cannot parse never come back raw."""
    cases = [
        ("a path of %ff%fe", "GET", "/%ff%fe", None, {}, 404),
        ("an overlong path byte", "GET", "/v1/models/%c0%af", None, {}, 404),
        ("raw bytes in the query and a header", "GET", "/_test/echo?q=\xff\xfe%ff",
         None, {"Content-Type": "text/\xc0\xaf"}, 200),
        ("a model of raw bytes through the echo", "POST", "/_test/echo",
         b'{"model":"m\xff\xed\xa0\x80"}', {"Content-Type": "application/json"}, 200),
        ("a Bearer of raw bytes", "POST", CHAT, chat_body(),
         {"Content-Type": "application/json", "Authorization": "Bearer \xff\xfe"}, 401),
    ]
    for label, method, path, body, headers, want in cases:
        resp = harness.http(port, method, path, body, headers=headers, timeout=30)
        out = every_json(r, label, resp)
        r.check("%s -> %d in strict JSON" % (label, want),
                resp.status == want and out is not None, resp.describe())
        if label.startswith("a path"):
            msg = ((out or {}).get("error") or {}).get("message", "")
            r.check("the 404 names the path with U+FFFD", "/\ufffd\ufffd" in msg, msg)
        if "query" in label:
            r.check("the echo shows U+FFFD for each raw byte",
                    (out or {}).get("query", "").count("\ufffd") == 2 and
                    (out or {}).get("content_type") == "text/\ufffd\ufffd",
                    json.dumps(out, ensure_ascii=True))


def main():
    r = Results("test_edge")
    harness.install_signal_handlers(600)
    binary = harness.find_binary()
    ds = deepseek_mock.DeepSeekMock().start()
    ws = harness.Workspace("edge")
    try:
        fe = harness.Nginx(ws, binary, pfx=False, procs=1)
        fe.check_installed()
        fe.app_extra = {"DEEPSEEK_BASE_URL": ds.url, "AUTHORIZATION": CODE,
                        "RETRY_TIMES": "0", "CHAT2API_TEST_ROUTES": "1"}
        fe.start()
        env = dict(os.environ, CHAT2API_DATA_DIR=ws.path("data"),
                   CHAT2API_LOG_LEVEL="warn")
        prefix = ["runuser", "-u", harness.RUN_USER, "--"] if harness.RUN_USER else []
        p = subprocess.run(prefix + [binary, "accounts", "add", "deepseek",
                                     deepseek_mock.DEFAULT_USER_TOKEN], env=env,
                           capture_output=True, text=True)
        r.check("an account is added", p.returncode == 0, p.stdout + p.stderr)
        served(r, fe.port)
        malformed(r, fe.port, ds)
        r.check("the mock served the good ones (the count is live)",
                sum((ds.snapshot().get("completions") or {}).values()) >= len(GOOD))
        raw_bytes(r, fe.port)
    except HarnessError as e:
        harness.report_setup(r, "edge", e)
    finally:
        harness.finish_workspace(r, ws, "edge")
        ds.stop()
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
