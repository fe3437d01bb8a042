#!/usr/bin/env python3
"""Structured output (response_format) end to end, on every provider: nginx +
spawn-fcgi + chat2api and the eight provider mocks (the front of test_tools).

  * json_object and json_schema answers that validate, stream and non-stream;
    the mocks answer with a value fitting the schema on our instruction's
    "Schema:" line (tests/mock/mockbase.py structured_reply);
  * a ```json fence around the answer is stripped;
  * an answer the mock gets wrong first is repaired: the mock counts two
    calls, the client sees only the good JSON;
  * an answer that is always wrong ends in a 502 invalid_structured_output
    (non-stream) or an error chunk and [DONE] (stream), never invalid JSON;
  * a bad schema and a bad type are a 400 on param response_format;
  * the openai npm client reads the JSON content, stream and non-stream
    (tests/client/tools_client.mjs with tool_choice none).

Env: CHAT2API_BIN, CHAT2API_ALLOW_SKIP=1, C2A_IT_KEEP=1.
"""

import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "mock"))

import harness  # noqa: E402
from harness import HarnessError, Results  # noqa: E402
import mockbase  # noqa: E402
import test_chat  # noqa: E402  (the npm client installer)
import test_deepseek  # noqa: E402  (chat(), sse())
import test_tools  # noqa: E402
from test_tools import CODE, PROVIDERS, Front  # noqa: E402

SCHEMA = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "temp": {"type": "number"},
        "days": {"type": "array", "items": {"$ref": "#/$defs/day"}},
        "note": {"type": ["string", "null"]},
    },
    "required": ["city", "temp", "days", "note"],
    "additionalProperties": False,
    "$defs": {"day": {"type": "object", "properties": {
        "name": {"enum": ["mon", "tue"]}, "rain": {"type": "boolean"}},
        "required": ["name", "rain"], "additionalProperties": False}},
}
WANT = {"city": "mock", "temp": 2.5, "days": [{"name": "mon", "rain": True}], "note": "mock"}
RF_SCHEMA = {"type": "json_schema", "json_schema": {"name": "weather", "strict": True,
                                                    "schema": SCHEMA}}
RF_OBJECT = {"type": "json_object"}


def answer(resp, stream):
    """(status, content, finish, error) of an answer."""
    if stream:
        content, _, finish, err, done = test_deepseek.sse(resp)
        if not done:
            err = err or {"message": "no [DONE]"}
        return resp.status, content, finish, err
    try:
        body = json.loads(resp.body)
    except ValueError:
        return resp.status, None, None, {"message": "not JSON"}
    if "error" in body:
        return resp.status, None, None, body["error"]
    ch = body["choices"][0]
    return resp.status, ch["message"].get("content"), ch.get("finish_reason"), None


def ask(port, model, prompt, rf, stream):
    return answer(test_deepseek.chat(port, model, prompt, stream=stream, token=CODE,
                                     extra={"response_format": rf}), stream)


def chunks(resp):
    """The decoded data events of a stream, [DONE] left out."""
    raw = b"".join(d for _, d in resp.pieces).decode("utf-8", "replace")
    out = []
    for ev in raw.replace("\r\n", "\n").split("\n\n"):
        data = "\n".join(line[6:] for line in ev.split("\n") if line.startswith("data: "))
        if data and data != "[DONE]":
            try:
                out.append(json.loads(data))
            except ValueError:
                out.append({"bad": data})
    return out


def stream_shape(r, port):
    for name, _, _, model, _ in PROVIDERS:
        resp = test_deepseek.chat(port, model, "Weather?", stream=True, token=CODE,
                                  extra={"response_format": RF_SCHEMA})
        evs = chunks(resp)
        deltas = [((e.get("choices") or [{}])[0].get("delta") or {}) for e in evs]
        texts = [d["content"] for d in deltas if d.get("content")]
        r.check("%s stream: the role chunk first, then the JSON in one chunk, then the "
                "finish" % name,
                deltas and deltas[0].get("role") == "assistant" and len(texts) == 1 and
                json.loads(texts[0]) == WANT and
                (evs[-1].get("choices") or [{}])[0].get("finish_reason") == "stop",
                json.dumps(evs)[:800])


def good_cases(r, port):
    for name, _, _, model, _ in PROVIDERS:
        for stream in (False, True):
            lab = "%s %s" % (name, "stream" if stream else "non-stream")
            st, content, fin, err = ask(port, model, "Weather?", RF_SCHEMA, stream)
            try:
                val = json.loads(content or "")
            except ValueError:
                val = None
            r.check("%s: json_schema answer validates, content is the JSON" % lab,
                    st == 200 and err is None and fin == "stop" and val == WANT,
                    "%s %r %s %s" % (st, content, fin, err))
            st, content, fin, err = ask(port, model, "Anything [[rffence]]", RF_OBJECT,
                                        stream)
            r.check("%s: json_object answer, its ```json fence stripped" % lab,
                    st == 200 and err is None and content == '{"answer":"mock"}' and
                    fin == "stop", "%s %r %s %s" % (st, content, fin, err))


def repair_cases(r, port):
    for name, _, _, model, _ in PROVIDERS:
        for stream in (False, True):
            lab = "%s %s" % (name, "stream" if stream else "non-stream")
            tag = "fix-%s-%d" % (name, stream)
            st, content, fin, err = ask(port, model, "Weather? [[rfbad]] [[rfid:%s]]" % tag,
                                        RF_SCHEMA, stream)
            try:
                val = json.loads(content or "")
            except ValueError:
                val = None
            r.check("%s: a wrong first answer is repaired (2 calls)" % lab,
                    st == 200 and err is None and val == WANT and
                    mockbase.STRUCTURED_CALLS.get(tag) == 2,
                    "%s %r %s %s calls=%s" % (st, content, fin, err,
                                              mockbase.STRUCTURED_CALLS.get(tag)))
            tag = "bad-%s-%d" % (name, stream)
            st, content, fin, err = ask(port, model, "x [[rfalways]] [[rfid:%s]]" % tag,
                                        RF_OBJECT, stream)
            r.check("%s: always wrong: invalid_structured_output after 2 calls" % lab,
                    (st == 200 if stream else st == 502) and err is not None and
                    err.get("code") == "invalid_structured_output" and
                    "not valid JSON" in (err.get("message") or "") and
                    not (content or "").strip() and
                    mockbase.STRUCTURED_CALLS.get(tag) == 2,
                    "%s %r %s %s calls=%s" % (st, content, fin, err,
                                              mockbase.STRUCTURED_CALLS.get(tag)))


def refusals(r, port):
    cases = [
        ("an unknown type", {"type": "yaml"}),
        ("json_schema without a name", {"type": "json_schema", "json_schema": {
            "schema": SCHEMA}}),
        ("an unsupported type in the schema", {"type": "json_schema", "json_schema": {
            "name": "x", "schema": {"type": "object", "properties": {"a": {"type": "date"}}}}}),
        ("a strict schema that is not closed", {"type": "json_schema", "json_schema": {
            "name": "x", "strict": True, "schema": {"type": "object"}}}),
        ("a $ref out of the schema", {"type": "json_schema", "json_schema": {
            "name": "x", "schema": {"$ref": "https://example.com/s.json"}}}),
    ]
    for label, rf in cases:
        resp = test_deepseek.chat(port, "DeepSeek-V3.2", "hi", token=CODE,
                                  extra={"response_format": rf})
        try:
            e = json.loads(resp.body)["error"]
        except (ValueError, KeyError, TypeError):
            e = {}
        r.check("400 for %s, param response_format" % label,
                resp.status == 400 and e.get("param") == "response_format" and
                e.get("type") == "invalid_request_error", resp.describe())


def with_tools(r, port):
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
    resp = test_deepseek.chat(port, "DeepSeek-V3.2", "Weather in Paris?", token=CODE,
                              extra={"response_format": RF_OBJECT, "tools": tools})
    try:
        ch = json.loads(resp.body)["choices"][0]
    except (ValueError, KeyError, TypeError, IndexError):
        ch = {}
    r.check("tools with response_format: a tool call wins, not validated",
            resp.status == 200 and ch.get("finish_reason") == "tool_calls" and
            (ch.get("message") or {}).get("tool_calls"), resp.describe())


def npm_client(r, cdir, port):
    for name, _, _, model, _ in PROVIDERS:
        if name not in ("chatgpt", "deepseek", "qwenai"):
            continue
        for mode in ("nonstream", "stream"):
            out = test_tools.client(cdir, port, mode, model, "Weather?", {
                "response_format": RF_SCHEMA, "tool_choice": "none", "loop": False})
            try:
                val = json.loads(out.get("content1") or "")
            except ValueError:
                val = None
            r.check("openai npm client, %s %s: the content parses to the schema's value" %
                    (name, mode), not out.get("error") and out.get("finish1") == "stop" and
                    val == WANT, json.dumps(out)[:600])


def main():
    r = Results("test_structured")
    harness.install_signal_handlers(1500)
    binary = harness.find_binary()
    cdir = test_chat.client_dir()
    shutil.copyfile(test_tools.CLIENT, os.path.join(cdir, "tools_client.mjs"))
    front = None
    try:
        front = Front(r, binary, "structured", {})
        good_cases(r, front.fe.port)
        stream_shape(r, front.fe.port)
        repair_cases(r, front.fe.port)
        refusals(r, front.fe.port)
        with_tools(r, front.fe.port)
        npm_client(r, cdir, front.fe.port)
    except HarnessError as e:
        harness.report_setup(r, "structured", e)
    finally:
        if front is not None:
            front.stop()
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
