#!/usr/bin/env python3
"""The two other dialects end to end: POST /v1/messages (Anthropic) and
POST /v1/responses (OpenAI Responses), on the ChatGPT and DeepSeek mocks,
behind nginx + spawn-fcgi.

  * the wire itself: every stream event's name, order and required fields,
    the non-stream objects, stop_sequences, count_tokens, the store (GET,
    DELETE, store:false), the error shapes and status codes (auth,
    validation, an upstream 429, a failure mid-stream), MODEL_MAPPING of a
    claude-* name;
  * the real clients, unmodified: @anthropic-ai/sdk messages.create and
    messages.stream (text, thinking, a tool loop), the openai npm
    responses.create (stream, non-stream, previous_response_id), the
    Vercel AI SDK's default OpenAI provider (generateText, streamText with
    a tool) — tests/client/dialects_client.mjs;
  * a tool loop in each dialect on every provider's mock (test_tools' front).

Env: CHAT2API_BIN, CHAT2API_ALLOW_SKIP=1, C2A_IT_KEEP=1.
"""

import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "mock"))

import harness  # noqa: E402
from harness import HarnessError, Results  # noqa: E402
import chatgpt_mock  # noqa: E402
import deepseek_mock  # noqa: E402
import test_chat  # noqa: E402  (the npm client installer)
from test_accounts import Cli  # noqa: E402

CODE = "dialects-code-1"
CLIENT = os.path.join(os.path.dirname(HERE), "client", "dialects_client.mjs")

# name, mock class, base URL variable, model, thinking marker, "accounts add" arguments
PROVIDERS = [
    ("chatgpt", chatgpt_mock.ChatGPTMock, "CHATGPT_BASE_URL", "gpt-4o", " [[script:thoughts]]",
     lambda m: ["chatgpt", chatgpt_mock.DEFAULT_ACCESS_TOKEN]),
    ("deepseek", deepseek_mock.DeepSeekMock, "DEEPSEEK_BASE_URL", "DeepSeek-V3.2", "",
     lambda m: ["deepseek", deepseek_mock.DEFAULT_USER_TOKEN]),
]

TOOLS_ANT = [{"name": "get_weather", "description": "The current weather of a city.",
              "input_schema": {"type": "object", "properties": {"city": {"type": "string"}},
                               "required": ["city"]}}]


class Front:
    """One nginx front with both mocks and one account each."""

    def __init__(self, r, binary):
        self.r = r
        self.ws = harness.Workspace("dialects")
        self.mocks = {}
        for name, cls, var, _, _, _ in PROVIDERS:
            self.mocks[name] = cls().start()
        env = {var: self.mocks[name].url for name, _, var, _, _, _ in PROVIDERS}
        self.fe = harness.Nginx(self.ws, binary, pfx=False)
        self.fe.check_installed()
        self.fe.app_extra = dict(env, AUTHORIZATION=CODE, RETRY_TIMES="0", REQUIRE_API_KEY="true",
                                 MODEL_MAPPING=json.dumps({"claude-*": "DeepSeek-V3.2"}))
        self.fe.start()
        cli = Cli(binary, self.ws.path("data"), env)
        for name, _, _, _, _, args in PROVIDERS:
            rc, out, err = cli.run("accounts", "add", *args(self.mocks[name]))
            r.check("%s account added through the CLI" % name, rc == 0, (out + err)[-300:])

    def stop(self):
        for m in self.mocks.values():
            m.stop()
        harness.finish_workspace(self.r, self.ws, "dialects")


def post(port, path, body, key=CODE, headers=None):
    h = {"Content-Type": "application/json", "x-api-key": key,
         "anthropic-version": "2023-06-01"}
    h.update(headers or {})
    return harness.http(port, "POST", path, json.dumps(body), headers=h, timeout=30)


def events(resp):
    """[(event name, data object)] of an SSE answer; comments skipped."""
    out = []
    for _, ev in resp.sse_events():
        name, data = None, None
        for line in ev.split("\n"):
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                try:
                    data = json.loads(line[6:])
                except ValueError:
                    data = line[6:]
        if data is not None:
            out.append((name, data))
    return out


def ant_stream_shape(evs):
    """What is wrong with an Anthropic event sequence, or None."""
    names = [n for n, _ in evs]
    for n, d in evs:
        if not isinstance(d, dict) or d.get("type") != n:
            return "event %r carries type %r" % (n, d.get("type") if isinstance(d, dict) else d)
    if names[:1] != ["message_start"] or names[-2:] != ["message_delta", "message_stop"]:
        return "not message_start ... message_delta, message_stop: %s" % names
    m = evs[0][1].get("message") or {}
    for k in ("id", "type", "role", "model", "content", "stop_reason", "usage"):
        if k not in m:
            return "message_start lacks message.%s" % k
    if not m["id"].startswith("msg_") or m["content"] != [] or m["role"] != "assistant":
        return "message_start: %r" % m
    open_ = None
    seen = 0
    for n, d in evs[1:-2]:
        if n == "ping":
            continue
        if n == "content_block_start":
            if open_ is not None or d.get("index") != seen:
                return "block %r opens while %r is open (or out of order)" % (d.get("index"), open_)
            open_ = d["index"]
            if d["content_block"].get("type") not in ("text", "thinking", "tool_use"):
                return "block type %r" % d["content_block"]
        elif n == "content_block_delta":
            if d.get("index") != open_:
                return "delta for index %r, open %r" % (d.get("index"), open_)
            if d["delta"].get("type") not in ("text_delta", "thinking_delta", "input_json_delta",
                                               "signature_delta"):
                return "delta type %r" % d["delta"]
        elif n == "content_block_stop":
            if d.get("index") != open_:
                return "stop for index %r, open %r" % (d.get("index"), open_)
            open_ = None
            seen += 1
        else:
            return "unexpected event %r" % n
    if open_ is not None:
        return "block %d never stopped" % open_
    md = evs[-2][1]
    if "stop_reason" not in md.get("delta", {}) or "output_tokens" not in md.get("usage", {}):
        return "message_delta: %r" % md
    return None


def ant_text(evs, kind="text"):
    key = {"text": "text_delta", "thinking": "thinking_delta"}[kind]
    return "".join(d["delta"].get(kind, "") for n, d in evs
                   if n == "content_block_delta" and d["delta"].get("type") == key)


def messages_wire(r, port):
    for name, _, _, model, think, _ in PROVIDERS:
        body = {"model": model, "max_tokens": 1024, "system": "Be brief.",
                "messages": [{"role": "user", "content": "Hello there"}]}
        resp = post(port, "/v1/messages", body)
        m = resp.json() or {}
        text = "".join(b.get("text", "") for b in m.get("content") or [])
        r.check("%s /v1/messages: a message object" % name,
                resp.status == 200 and m.get("type") == "message" and
                m.get("id", "").startswith("msg_") and m.get("role") == "assistant" and
                m.get("model", "").startswith(model) and m.get("stop_reason") == "end_turn" and
                m.get("stop_sequence") is None and "Hello there" in text and
                m["usage"]["input_tokens"] > 0 and m["usage"]["output_tokens"] > 0,
                resp.describe())
        resp = post(port, "/v1/messages", dict(body, stream=True))
        evs = events(resp)
        bad = ant_stream_shape(evs) if evs else "no events"
        r.check("%s /v1/messages stream: event names, order and fields" % name,
                resp.status == 200 and bad is None and
                "text/event-stream" in (resp.header("content-type") or ""),
                bad or resp.describe())
        r.check("%s /v1/messages stream: the text and end_turn" % name,
                "Hello there" in ant_text(evs) and
                evs[-2][1]["delta"]["stop_reason"] == "end_turn", json.dumps(evs)[:600])
        tb = dict(body, stream=True, thinking={"type": "enabled", "budget_tokens": 2048},
                  messages=[{"role": "user", "content": "Think first" + think}])
        evs = events(post(port, "/v1/messages", tb))
        blocks = [d["content_block"]["type"] for n, d in evs if n == "content_block_start"]
        r.check("%s /v1/messages thinking: a thinking block, then the text" % name,
                ant_stream_shape(evs) is None and blocks == ["thinking", "text"] and
                len(ant_text(evs, "thinking")) > 10 and "Think first" in ant_text(evs),
                json.dumps(evs)[:800])
        # the stop sequence ends the text before it, across deltas
        resp = post(port, "/v1/messages", dict(body, stop_sequences=["there", "zzz"],
                                               messages=[{"role": "user",
                                                          "content": "Hello there again"}]))
        m = resp.json() or {}
        r.check("%s /v1/messages stop_sequences: cut before it, stop_reason stop_sequence" % name,
                m.get("stop_reason") == "stop_sequence" and m.get("stop_sequence") == "there" and
                m["content"][-1]["text"].endswith("Hello "), resp.describe())
        resp = post(port, "/v1/messages", dict(body, stream=True, stop_sequences=["there"]))
        evs = events(resp)
        r.check("%s /v1/messages stream stop_sequences" % name,
                ant_stream_shape(evs) is None and ant_text(evs).endswith("Hello ") and
                evs[-2][1]["delta"] == {"stop_reason": "stop_sequence",
                                        "stop_sequence": "there"}, json.dumps(evs)[-600:])
        # a tool call: a tool_use block with the input, then stop_reason tool_use
        resp = post(port, "/v1/messages", dict(body, tools=TOOLS_ANT,
                                               messages=[{"role": "user",
                                                          "content": "Weather in Paris?"}]))
        m = resp.json() or {}
        uses = [b for b in m.get("content") or [] if b.get("type") == "tool_use"]
        r.check("%s /v1/messages tools: a tool_use block" % name,
                m.get("stop_reason") == "tool_use" and len(uses) == 1 and
                uses[0]["name"] == "get_weather" and uses[0]["input"] == {"city": "Paris"} and
                uses[0]["id"].startswith("toolu_"), resp.describe())
        if uses:
            hist = [{"role": "user", "content": "Weather in Paris?"},
                    {"role": "assistant", "content": m["content"]},
                    {"role": "user", "content": [{"type": "tool_result",
                                                  "tool_use_id": uses[0]["id"],
                                                  "content": "sunny"}]}]
            resp = post(port, "/v1/messages", dict(body, tools=TOOLS_ANT, messages=hist,
                                                   stream=True))
            evs = events(resp)
            r.check("%s /v1/messages tool_result: the result reaches the model" % name,
                    ant_stream_shape(evs) is None and
                    ant_text(evs) == "Tool results: %s=sunny" % uses[0]["id"],
                    json.dumps(evs)[-600:])
        resp = post(port, "/v1/messages", dict(body, stream=True, tools=TOOLS_ANT,
                                               messages=[{"role": "user",
                                                          "content": "Weather in Oslo?"}]))
        evs = events(resp)
        js = "".join(d["delta"].get("partial_json", "") for n, d in evs
                     if n == "content_block_delta")
        starts = [d["content_block"] for n, d in evs if n == "content_block_start"]
        r.check("%s /v1/messages stream tools: tool_use block, input_json_delta" % name,
                ant_stream_shape(evs) is None and starts[-1:] and
                starts[-1].get("type") == "tool_use" and starts[-1].get("input") == {} and
                json.loads(js or "null") == {"city": "Paris"} and
                evs[-2][1]["delta"]["stop_reason"] == "tool_use", json.dumps(evs)[-800:])
        resp = post(port, "/v1/messages/count_tokens", {"model": model, "messages":
                                                        body["messages"],
                                                        "system": "Be brief."})
        c = resp.json() or {}
        m = post(port, "/v1/messages", body).json() or {}
        r.check("%s count_tokens: the estimate the usage gives" % name,
                resp.status == 200 and c.get("input_tokens", 0) > 0 and
                c.get("input_tokens") == (m.get("usage") or {}).get("input_tokens"),
                "%s vs %s" % (resp.describe(), m.get("usage")))


def ant_error(r, label, resp, status, etype):
    e = resp.json() or {}
    r.check("%s: %d %s in Anthropic's shape" % (label, status, etype),
            resp.status == status and e.get("type") == "error" and
            (e.get("error") or {}).get("type") == etype and
            isinstance(e["error"].get("message"), str) and e["error"]["message"],
            resp.describe())


def messages_errors(r, port):
    body = {"model": "gpt-4o", "max_tokens": 64,
            "messages": [{"role": "user", "content": "hi"}]}
    ant_error(r, "no key", post(port, "/v1/messages", body, key=""), 401,
              "authentication_error")
    ant_error(r, "wrong key", post(port, "/v1/messages", body, key="nope"), 401,
              "authentication_error")
    resp = post(port, "/v1/messages", body, key="", headers={"Authorization": "Bearer " + CODE})
    r.check("Bearer auth works too", resp.status == 200, resp.describe())
    b = dict(body)
    del b["max_tokens"]
    ant_error(r, "max_tokens required", post(port, "/v1/messages", b), 400,
              "invalid_request_error")
    ant_error(r, "a bad role", post(port, "/v1/messages", dict(body, messages=[
        {"role": "system", "content": "x"}])), 400, "invalid_request_error")
    ant_error(r, "a server tool", post(port, "/v1/messages", dict(body, tools=[
        {"type": "web_search_20250305", "name": "web_search"}])), 400, "invalid_request_error")
    ant_error(r, "not JSON", harness.http(port, "POST", "/v1/messages", "{", headers={
        "x-api-key": CODE, "Content-Type": "application/json"}), 400, "invalid_request_error")
    # claude-* is mapped to DeepSeek by MODEL_MAPPING; the answer keeps the asked name
    resp = post(port, "/v1/messages", dict(body, model="claude-sonnet-4-5"))
    m = resp.json() or {}
    r.check("claude-* through MODEL_MAPPING reaches the mapped provider",
            resp.status == 200 and m.get("model") == "claude-sonnet-4-5" and
            "You said: hi" in json.dumps(m.get("content")) and
            "ChatGPT web backend" not in json.dumps(m.get("content")), resp.describe())
    # a name nobody knows or maps is a 404 in each dialect (not the catch-all)
    ant_error(r, "an unmapped model", post(port, "/v1/messages", dict(body, model="mistral-large")),
              404, "not_found_error")
    resp = oa_post(port, "/v1/responses", {"model": "mistral-large", "input": "hi"})
    e = (resp.json() or {}).get("error") or {}
    r.check("responses: an unmapped model is a 404 model_not_found naming model",
            resp.status == 404 and e.get("code") == "model_not_found" and
            e.get("param") == "model", resp.describe())
    resp = oa_post(port, "/v1/responses", {"model": "gpt-4o-2024-08-06", "input": "hi",
                                             "store": False})
    r.check("responses: OpenAI's own dated names still reach the catch-all",
            resp.status == 200, resp.describe())


def oa_post(port, path, body, key=CODE):
    return harness.http(port, "POST", path, json.dumps(body), timeout=30, headers={
        "Content-Type": "application/json", "Authorization": "Bearer " + key})


RSP_ITEM_EVENTS = {
    "message": ["response.output_item.added", "response.content_part.added",
                "response.output_text.delta", "response.output_text.done",
                "response.content_part.done", "response.output_item.done"],
    "reasoning": ["response.output_item.added", "response.reasoning_summary_part.added",
                  "response.reasoning_summary_text.delta",
                  "response.reasoning_summary_text.done",
                  "response.reasoning_summary_part.done", "response.output_item.done"],
    "function_call": ["response.output_item.added", "response.function_call_arguments.delta",
                      "response.function_call_arguments.done", "response.output_item.done"],
}


def rsp_stream_shape(evs):
    """What is wrong with a Responses event sequence, or None; else the
    final response object is evs[-1]."""
    for i, (n, d) in enumerate(evs):
        if not isinstance(d, dict) or d.get("type") != n or d.get("sequence_number") != i:
            return "event %d %r: type %r, sequence_number %r" % (
                i, n, d.get("type") if isinstance(d, dict) else d,
                d.get("sequence_number") if isinstance(d, dict) else None)
    names = [n for n, _ in evs]
    if names[:2] != ["response.created", "response.in_progress"] or \
            names[-1] not in ("response.completed", "response.incomplete"):
        return "not created, in_progress ... completed: %s" % names
    for n, d in evs[:2]:
        r = d["response"]
        if r.get("status") != "in_progress" or r.get("output") != [] or \
                not r.get("id", "").startswith("resp_") or r.get("object") != "response":
            return "%s: %r" % (n, r)
    i, idx, items = 2, 0, []
    while i < len(evs) - 1:
        n, d = evs[i]
        if n != "response.output_item.added" or d.get("output_index") != idx:
            return "event %d: %s where an item should start (index %d)" % (i, n, idx)
        kind = d["item"]["type"]
        want = RSP_ITEM_EVENTS.get(kind)
        if want is None:
            return "item type %r" % kind
        got = []
        while i < len(evs) - 1:
            got.append(evs[i][0])
            if evs[i][0] == "response.output_item.done":
                break
            i += 1
        # deltas may repeat: collapse them
        flat = [g for k, g in enumerate(got) if k == 0 or g != got[k - 1] or
                not g.endswith(".delta")]
        if flat != want:
            return "item %d (%s): %s" % (idx, kind, flat)
        for n2, d2 in evs[i - len(got) + 1:i + 1]:
            if n2 != "response.output_item.added" and n2 != "response.output_item.done" and \
                    d2.get("item_id") != d["item"]["id"]:
                return "%s names item %r, not %r" % (n2, d2.get("item_id"), d["item"]["id"])
            if d2.get("output_index") != idx:
                return "%s: output_index %r, not %d" % (n2, d2.get("output_index"), idx)
        items.append(evs[i][1]["item"])
        i += 1
        idx += 1
    final = evs[-1][1]["response"]
    if final.get("output") != items:
        return "the final output is not the items done: %r vs %r" % (final.get("output"), items)
    u = final.get("usage") or {}
    if not (u.get("input_tokens", 0) > 0 and u.get("output_tokens", 0) > 0 and
            u.get("total_tokens") == u["input_tokens"] + u["output_tokens"]):
        return "usage %r" % u
    return None


def rsp_text(obj):
    return "".join(c.get("text", "") for it in obj.get("output") or []
                   if it.get("type") == "message" for c in it.get("content") or [])


def responses_wire(r, port):
    for name, _, _, model, think, _ in PROVIDERS:
        body = {"model": model, "input": "Hello responses", "instructions": "Be brief.",
                "metadata": {"k": "v"}}
        resp = oa_post(port, "/v1/responses", body)
        o = resp.json() or {}
        r.check("%s /v1/responses: a response object" % name,
                resp.status == 200 and o.get("object") == "response" and
                o.get("status") == "completed" and o.get("id", "").startswith("resp_") and
                "Hello responses" in rsp_text(o) and o.get("metadata") == {"k": "v"} and
                o.get("instructions") == "Be brief." and o.get("store") is True and
                o["usage"]["input_tokens"] > 0 and o["output"][0]["id"].startswith("msg_"),
                resp.describe())
        got = harness.http(port, "GET", "/v1/responses/" + o.get("id", "x"),
                           headers={"Authorization": "Bearer " + CODE})
        r.check("%s GET /v1/responses/{id}: the same object" % name,
                got.status == 200 and got.json() == o, got.describe())
        resp = oa_post(port, "/v1/responses", dict(body, stream=True))
        evs = events(resp)
        bad = rsp_stream_shape(evs) if evs else "no events"
        r.check("%s /v1/responses stream: event names, order, sequence numbers" % name,
                resp.status == 200 and bad is None, bad or resp.describe())
        deltas = "".join(d.get("delta", "") for n, d in evs if n == "response.output_text.delta")
        r.check("%s /v1/responses stream: the deltas make the text" % name,
                bad is None and "Hello responses" in deltas and
                deltas == rsp_text(evs[-1][1]["response"]), deltas[:300])
        resp = oa_post(port, "/v1/responses", {
            "model": model, "input": "Reason about it" + think, "stream": True,
            "reasoning": {"effort": "medium", "summary": "auto"}})
        evs = events(resp)
        kinds = [d["item"]["type"] for n, d in evs if n == "response.output_item.added"]
        r.check("%s /v1/responses reasoning: a reasoning item with a summary, then the text"
                % name, rsp_stream_shape(evs) is None and kinds == ["reasoning", "message"] and
                len(evs[-1][1]["response"]["output"][0]["summary"][0]["text"]) > 10,
                json.dumps(evs)[:900])
        tools = [{"type": "function", "name": "get_weather", "parameters":
                  TOOLS_ANT[0]["input_schema"]}]
        resp = oa_post(port, "/v1/responses", {"model": model, "input": "Weather in Paris?",
                                               "tools": tools, "stream": True})
        evs = events(resp)
        bad = rsp_stream_shape(evs)
        calls = [it for it in (evs[-1][1]["response"]["output"] if evs else [])
                 if it.get("type") == "function_call"]
        r.check("%s /v1/responses stream: a function_call item" % name,
                bad is None and len(calls) == 1 and calls[0]["name"] == "get_weather" and
                json.loads(calls[0]["arguments"]) == {"city": "Paris"} and
                calls[0]["call_id"].startswith("call_"), bad or json.dumps(evs)[-900:])
        if calls:
            resp = oa_post(port, "/v1/responses", {
                "model": model, "tools": tools,
                "previous_response_id": evs[-1][1]["response"]["id"],
                "input": [{"type": "function_call_output", "call_id": calls[0]["call_id"],
                           "output": "rainy"}]})
            o = resp.json() or {}
            r.check("%s /v1/responses previous_response_id: the stored call, the output" % name,
                    resp.status == 200 and
                    rsp_text(o) == "Tool results: %s=rainy" % calls[0]["call_id"],
                    resp.describe())
        # text.format json_schema: structured output, checked
        schema = {"type": "object", "properties": {"answer": {"type": "string"}},
                  "required": ["answer"], "additionalProperties": False}
        resp = oa_post(port, "/v1/responses", {"model": model, "input": "Say hi as JSON",
                                               "text": {"format": {"type": "json_schema",
                                                                   "name": "hi",
                                                                   "schema": schema}}})
        o = resp.json() or {}
        try:
            js = json.loads(rsp_text(o))
        except ValueError:
            js = None
        r.check("%s /v1/responses text.format json_schema" % name,
                resp.status == 200 and isinstance(js, dict) and "answer" in js and
                o.get("text", {}).get("format", {}).get("type") == "json_schema",
                resp.describe())


def responses_store(r, port):
    body = {"model": "gpt-4o", "input": "Remember me"}
    o = oa_post(port, "/v1/responses", dict(body, store=False)).json() or {}
    got = harness.http(port, "GET", "/v1/responses/" + o.get("id", "x"),
                       headers={"Authorization": "Bearer " + CODE})
    e = got.json() or {}
    r.check("store:false: not kept (GET is a 404 in OpenAI's shape)",
            o.get("store") is False and got.status == 404 and
            (e.get("error") or {}).get("type") == "invalid_request_error", got.describe())
    o = oa_post(port, "/v1/responses", body).json() or {}
    rid = o.get("id", "x")
    resp = oa_post(port, "/v1/responses", dict(body, previous_response_id="resp_nosuch"))
    r.check("an unknown previous_response_id: 404 naming the parameter",
            resp.status == 404 and ((resp.json() or {}).get("error") or {}).get("param") ==
            "previous_response_id", resp.describe())
    d = harness.http(port, "DELETE", "/v1/responses/" + rid,
                     headers={"Authorization": "Bearer " + CODE})
    got = harness.http(port, "GET", "/v1/responses/" + rid,
                       headers={"Authorization": "Bearer " + CODE})
    r.check("DELETE /v1/responses/{id}: deleted, then a 404",
            d.status == 200 and d.json() == {"id": rid, "object": "response", "deleted": True}
            and got.status == 404, d.describe() + " / " + got.describe())
    resp = oa_post(port, "/v1/responses", {"model": "gpt-4o"})
    r.check("input is required: a 400 naming it", resp.status == 400 and
            ((resp.json() or {}).get("error") or {}).get("param") == "input", resp.describe())
    resp = oa_post(port, "/v1/responses", dict(body, tools=[{"type": "web_search"}]))
    r.check("a hosted tool: a 400 naming it", resp.status == 400 and
            ((resp.json() or {}).get("error") or {}).get("param") == "tools[0]",
            resp.describe())
    resp = oa_post(port, "/v1/responses", body, key="wrong")
    r.check("a wrong key: 401 in OpenAI's shape", resp.status == 401 and
            ((resp.json() or {}).get("error") or {}).get("code") == "invalid_api_key",
            resp.describe())


def client(cdir, port, case, model, prompt):
    node = harness.which("node")
    pr = subprocess.run([node, os.path.join(cdir, "dialects_client.mjs"),
                         "http://127.0.0.1:%d" % port, CODE, case, model, prompt],
                        capture_output=True, text=True, timeout=90)
    try:
        return json.loads(pr.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": (pr.stdout + pr.stderr)[-800:]}


def anthropic_sdk(r, cdir, port):
    for name, _, _, model, think, _ in PROVIDERS:
        out = client(cdir, port, "ant-create", model, "Hello SDK")
        b = out.get("blocks") or [{}]
        r.check("%s @anthropic-ai/sdk messages.create" % name,
                not out.get("error") and out.get("stop_reason") == "end_turn" and
                b[0].get("type") == "text" and "Hello SDK" in b[0].get("text", "") and
                out["usage"]["output_tokens"] > 0, json.dumps(out)[:700])
        out = client(cdir, port, "ant-stream", model, "Stream SDK" + think)
        b = out.get("blocks") or []
        r.check("%s @anthropic-ai/sdk messages.stream with thinking" % name,
                not out.get("error") and [x.get("type") for x in b] == ["thinking", "text"] and
                out.get("thinking") == b[0].get("thinking") and len(out["thinking"]) > 10 and
                out.get("text") == b[1].get("text") and "Stream SDK" in out["text"] and
                out["events"][0] == "message_start" and out["events"][-1] == "message_stop",
                json.dumps(out)[:900])
        out = client(cdir, port, "ant-tools", model, "Weather in Paris?")
        uses = out.get("uses") or []
        b2 = out.get("blocks2") or [{}]
        r.check("%s @anthropic-ai/sdk tool loop (stream, then create)" % name,
                not out.get("error") and out.get("stop1") == "tool_use" and len(uses) == 1 and
                uses[0]["name"] == "get_weather" and uses[0]["input"] == {"city": "Paris"} and
                out.get("stop2") == "end_turn" and b2[0].get("text") ==
                "Tool results: %s=sunny, 21C in Paris" % uses[0]["id"], json.dumps(out)[:900])


def openai_clients(r, cdir, port):
    for name, _, _, model, think, _ in PROVIDERS:
        out = client(cdir, port, "rsp-create", model, "Weather in Paris?")
        calls = out.get("calls") or []
        r.check("%s openai responses.create, then previous_response_id" % name,
                not out.get("error") and out.get("status1") == "completed" and
                len(calls) == 1 and calls[0]["name"] == "get_weather" and
                out.get("status2") == "completed" and out.get("id2") != out.get("id1") and
                out.get("text2") == "Tool results: %s=sunny, 21C in Paris" % calls[0]["call_id"],
                json.dumps(out)[:900])
        out = client(cdir, port, "rsp-stream", model, "Stream it" + think)
        r.check("%s openai responses.create stream with reasoning, then retrieve" % name,
                not out.get("error") and out.get("types", [""])[0] == "response.created" and
                out["types"][-1] == "response.completed" and "Stream it" in out.get("text", "")
                and len(out.get("summary", "")) > 10 and
                out.get("output") == ["reasoning", "message"] and
                out.get("retrieved") == "completed", json.dumps(out)[:900])
        for case in ("ai-generate", "ai-stream"):
            out = client(cdir, port, case, model, "Weather in Paris?")
            want = "Tool results: "
            r.check("%s Vercel AI SDK %s with a tool: call, result, final text" % (name, case),
                    not out.get("error") and out.get("steps") == 2 and
                    out.get("calls") == [{"name": "get_weather", "input": {"city": "Paris"}}] and
                    want in (out.get("text") or "") and
                    "=sunny, 21C in Paris" in (out.get("text") or "") and
                    out.get("finish") == "stop", json.dumps(out)[:1200])


def failures(r, port):
    """Upstream failures: before the answer, the status in each dialect's
    shape; mid-answer, each dialect's last event."""
    body = {"model": "gpt-4o", "max_tokens": 64,
            "messages": [{"role": "user", "content": "hi [[fail:429]]"}]}
    ant_error(r, "an upstream 429", post(port, "/v1/messages", body), 429, "rate_limit_error")
    resp = oa_post(port, "/v1/responses", {"model": "gpt-4o", "input": "hi [[fail:429]]"})
    r.check("an upstream 429 on /v1/responses: OpenAI's shape",
            resp.status == 429 and ((resp.json() or {}).get("error") or {}).get("type") ==
            "rate_limit_error", resp.describe())
    body["stream"] = True
    body["messages"][0]["content"] = "go [[script:error_mid]]"
    evs = events(post(port, "/v1/messages", body))
    last = evs[-1] if evs else (None, {})
    r.check("a failure mid-stream on /v1/messages: an error event ends it",
            [n for n, _ in evs][:1] == ["message_start"] and last[0] == "error" and
            last[1].get("type") == "error" and
            (last[1].get("error") or {}).get("type") == "api_error" and
            "message_stop" not in [n for n, _ in evs], json.dumps(evs)[-600:])
    evs = events(oa_post(port, "/v1/responses", {"model": "gpt-4o", "stream": True,
                                                 "input": "go [[script:error_mid]]"}))
    last = evs[-1] if evs else (None, {})
    resp_ = last[1].get("response") or {}
    r.check("a failure mid-stream on /v1/responses: response.failed ends it",
            [n for n, _ in evs][:1] == ["response.created"] and
            last[0] == "response.failed" and resp_.get("status") == "failed" and
            (resp_.get("error") or {}).get("message") and
            [d.get("sequence_number") for _, d in evs] == list(range(len(evs))),
            json.dumps(evs)[-600:])


def every_provider(r, binary):
    """A tool loop in each dialect on every provider's mock (the tool
    tests' front: one account each, code tools-code-1)."""
    import test_tools
    front = None
    try:
        front = test_tools.Front(r, binary, "dialects", {})
        port = front.fe.port
        for name, _, _, model, _ in test_tools.PROVIDERS:
            body = {"model": model, "max_tokens": 1024, "tools": TOOLS_ANT, "stream": True,
                    "messages": [{"role": "user", "content": "Weather in Paris?"}]}
            evs = events(post(port, "/v1/messages", body, key=test_tools.CODE))
            starts = [d["content_block"] for n, d in evs if n == "content_block_start"]
            use = starts[-1] if starts and starts[-1].get("type") == "tool_use" else {}
            ok1 = ant_stream_shape(evs) is None if evs else False
            text = ""
            if use:
                hist = body["messages"] + [
                    {"role": "assistant", "content": [use]},
                    {"role": "user", "content": [{"type": "tool_result", "tool_use_id":
                                                  use["id"], "content": "sunny"}]}]
                evs2 = events(post(port, "/v1/messages", dict(body, messages=hist),
                                   key=test_tools.CODE))
                ok1 = ok1 and ant_stream_shape(evs2) is None
                text = ant_text(evs2)
            r.check("%s: /v1/messages tool loop" % name,
                    ok1 and use.get("name") == "get_weather" and
                    text == "Tool results: %s=sunny" % use.get("id"), json.dumps(evs)[-500:])
            tools = [{"type": "function", "name": "get_weather",
                      "parameters": TOOLS_ANT[0]["input_schema"]}]
            resp = oa_post(port, "/v1/responses", {"model": model, "input": "Weather in Paris?",
                                                   "tools": tools, "stream": True},
                           key=test_tools.CODE)
            evs = events(resp)
            bad = rsp_stream_shape(evs) if evs else "no events"
            final = evs[-1][1].get("response", {}) if evs else {}
            calls = [i for i in final.get("output") or [] if i.get("type") == "function_call"]
            text = ""
            if calls:
                o = oa_post(port, "/v1/responses", {
                    "model": model, "tools": tools, "previous_response_id": final["id"],
                    "input": [{"type": "function_call_output", "call_id": calls[0]["call_id"],
                               "output": "rainy"}]}, key=test_tools.CODE).json() or {}
                text = rsp_text(o)
            r.check("%s: /v1/responses tool loop on previous_response_id" % name,
                    bad is None and len(calls) == 1 and
                    text == "Tool results: %s=rainy" % calls[0]["call_id"],
                    bad or json.dumps(evs)[-500:])
    except HarnessError as e:
        harness.report_setup(r, "dialects-every-provider", e)
    finally:
        if front is not None:
            front.stop()


def main():
    r = Results("test_dialects")
    harness.install_signal_handlers(900)
    binary = harness.find_binary()
    front = None
    try:
        cdir = test_chat.client_dir()
        shutil.copyfile(CLIENT, os.path.join(cdir, "dialects_client.mjs"))
        front = Front(r, binary)
        port = front.fe.port
        messages_wire(r, port)
        messages_errors(r, port)
        anthropic_sdk(r, cdir, port)
        responses_wire(r, port)
        responses_store(r, port)
        failures(r, port)
        openai_clients(r, cdir, port)
    except HarnessError as e:
        harness.report_setup(r, "dialects", e)
    finally:
        if front is not None:
            front.stop()
    every_provider(r, binary)
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
