#!/usr/bin/env python3
"""Tool calling end to end, on every provider: nginx + spawn-fcgi + chat2api
and the eight provider mocks, one account each added through the CLI.

  * the openai npm client's tool loop (tools -> tool_calls -> tool messages
    -> final answer), stream and non-stream; the mocks answer with a call
    block when the prompt carries chat2api's tool section and, on the
    follow-up, check that every call got its result back in the re-encoded
    history (tests/mock/mockbase.py tool_reply);
  * parallel calls, parallel_tool_calls false, tool_choice none and a named
    function (a call of another function stays text), arguments repaired;
  * TOOL_FORMAT=xml: the section teaches <tool_use>, the history comes back
    as <tool_result> blocks;
  * a client with a tool protocol of its own is left alone (TOOL_PROMPT
    auto); TOOL_PROMPT=never ignores tools but still writes the history back;
  * a 400 naming its parameter for a non-function tool, a bad tool_choice,
    and tools on /v1/completions.

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
import glm_mock  # noqa: E402
import kimi_mock  # noqa: E402
import minimax_mock  # noqa: E402
import qwen_mock  # noqa: E402
import qwenai_mock  # noqa: E402
import zai_mock  # noqa: E402
import test_chat  # noqa: E402  (the npm client installer)
import test_deepseek  # noqa: E402  (chat())
from test_accounts import Cli  # noqa: E402

CODE = "tools-code-1"
CLIENT = os.path.join(os.path.dirname(HERE), "client", "tools_client.mjs")

# name, mock class, base URL variable, model, the CLI's "accounts add" arguments
PROVIDERS = [
    ("chatgpt", chatgpt_mock.ChatGPTMock, "CHATGPT_BASE_URL", "gpt-4o",
     lambda m: ["chatgpt", chatgpt_mock.DEFAULT_ACCESS_TOKEN]),
    ("deepseek", deepseek_mock.DeepSeekMock, "DEEPSEEK_BASE_URL", "DeepSeek-V3.2",
     lambda m: ["deepseek", deepseek_mock.DEFAULT_USER_TOKEN]),
    ("glm", glm_mock.GLMMock, "GLM_BASE_URL", "GLM-5",
     lambda m: ["glm", glm_mock.DEFAULT_REFRESH_TOKEN]),
    ("kimi", kimi_mock.KimiMock, "KIMI_BASE_URL", "Kimi-K2.5",
     lambda m: ["kimi", m.refresh_token("u1")]),
    ("minimax", minimax_mock.MiniMaxMock, "MINIMAX_BASE_URL", "MiniMax-M2.7",
     lambda m: ["minimax", minimax_mock.DEFAULT_JWT]),
    ("qwen", qwen_mock.QwenMock, "QWEN_BASE_URL", "Qwen3",
     lambda m: ["qwen", qwen_mock.DEFAULT_TICKET]),
    ("qwenai", qwenai_mock.QwenAIMock, "QWENAI_BASE_URL", "Qwen3.6-Plus",
     lambda m: ["qwenai", qwenai_mock.DEFAULT_TOKEN, "--set",
                "cookies=" + qwenai_mock.make_cookies(qwenai_mock.DEFAULT_TOKEN)]),
    ("zai", zai_mock.ZaiMock, "ZAI_BASE_URL", "GLM-4.6",
     lambda m: ["zai", zai_mock.DEFAULT_TOKEN]),
]


def client(cdir, port, mode, model, prompt, extra=None):
    node = harness.which("node")
    pr = subprocess.run([node, os.path.join(cdir, "tools_client.mjs"),
                         "http://127.0.0.1:%d/v1" % port, CODE, mode, model, prompt,
                         json.dumps(extra or {})], capture_output=True, text=True, timeout=90)
    try:
        return json.loads(pr.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": (pr.stdout + pr.stderr)[-600:]}


def good_id(c):
    i = c.get("id") or ""
    return i.startswith("call_") and len(i) == 29 and c.get("type") == "function"


class Front:
    """One nginx front with every provider's mock and one account each."""

    def __init__(self, r, binary, label, extra, only=None):
        self.r, self.label = r, label
        self.ws = harness.Workspace("tools-" + label)
        self.mocks = {}
        provs = [p for p in PROVIDERS if only is None or p[0] in only]
        for name, cls, var, _, _ in provs:
            self.mocks[name] = cls().start()
        env = {var: self.mocks[name].url for name, _, var, _, _ in provs}
        # Every mock is on 127.0.0.1 and a worker's curl cookie jar is per host, not per
        # port: this also checks that ChatGPT's cookies (oai-sc) never ride along to the
        # next provider's call on the same thread (Qwen would answer NOT_LOGIN).
        self.fe = harness.Nginx(self.ws, binary, pfx=False)
        self.fe.check_installed()
        self.fe.app_extra = dict(env, AUTHORIZATION=CODE, RETRY_TIMES="0",
                                 MINIMAX_POLL_MIN_MS="50", **extra)
        self.fe.start()
        cli = Cli(binary, self.ws.path("data"), env)
        for name, _, _, _, args in provs:
            rc, out, err = cli.run("accounts", "add", *args(self.mocks[name]))
            r.check("%s: %s account added through the CLI" % (label, name), rc == 0,
                    (out + err)[-300:])

    def stop(self):
        for m in self.mocks.values():
            m.stop()
        harness.finish_workspace(self.r, self.ws, "tools-" + self.label)


def loop_checks(r, label, out, first_names, results):
    calls = out.get("calls") or []
    r.check("%s: the answer is tool_calls %s" % (label, first_names),
            not out.get("error") and out.get("finish1") == "tool_calls" and
            [c.get("name") for c in calls] == first_names and all(map(good_id, calls)) and
            len({c.get("id") for c in calls}) == len(calls) and
            (out.get("content1") or "").strip() == "I will use the tools.",
            json.dumps(out)[:700])
    want = "Tool results: " + "; ".join("%s=%s" % (c.get("id"), res)
                                         for c, res in zip(calls, results))
    r.check("%s: the results go back re-encoded, the final answer quotes them" % label,
            out.get("content2") == want and out.get("finish2") == "stop" and
            out.get("calls2") == 0, json.dumps(out)[:700])


def bracket_cases(r, cdir, port):
    for name, _, _, model, _ in PROVIDERS:
        for mode in ("nonstream", "stream"):
            lab = "%s %s" % (name, mode)
            out = client(cdir, port, mode, model, "Weather in Paris?")
            loop_checks(r, lab, out, ["get_weather"], ["sunny, 21C in Paris"])
            args = [c.get("arguments") for c in out.get("calls") or []]
            r.check("%s: arguments are the JSON the model wrote" % lab,
                    args == ['{"city":"Paris"}'], str(args))
        lab = name + " parallel"
        out = client(cdir, port, "stream", model, "Weather and time in Paris? [[tools:2]]")
        loop_checks(r, lab, out, ["get_weather", "get_time"],
                    ["sunny, 21C in Paris", "10:42 in Paris"])
        out = client(cdir, port, "nonstream", model, "Both at once [[tools:2]]",
                     {"parallel_tool_calls": False, "loop": False})
        r.check("%s parallel_tool_calls false: one call, the second stays text" % name,
                [c.get("name") for c in out.get("calls") or []] == ["get_weather"] and
                "[call:get_time]" in (out.get("content1") or "") and
                out.get("finish1") == "tool_calls", json.dumps(out)[:600])
        out = client(cdir, port, "stream", model, "No tools now",
                     {"tool_choice": "none", "loop": False})
        r.check("%s tool_choice none: no section, a plain answer" % name,
                not out.get("calls") and out.get("finish1") == "stop" and
                (out.get("content1") or "").startswith("You said: No tools now"),
                json.dumps(out)[:600])
        named = {"tool_choice": {"type": "function", "function": {"name": "get_time"}}}
        out = client(cdir, port, "nonstream", model, "What time?", named)
        loop_checks(r, name + " named", out, ["get_time"], ["10:42 in Paris"])
        out = client(cdir, port, "stream", model, "Other one [[tool:get_weather]]",
                     dict(named, loop=False))
        r.check("%s named: a call of another function stays text" % name,
                not out.get("calls") and out.get("finish1") == "stop" and
                "[call:get_weather]" in (out.get("content1") or ""), json.dumps(out)[:600])
        out = client(cdir, port, "stream", model, "Sloppy [[toolmessy]]", {"loop": False})
        args = [json.loads(c.get("arguments") or "null") for c in out.get("calls") or []]
        r.check("%s: sloppy arguments repaired into JSON" % name,
                args == [{"city": "Paris", "note": "line one\nline two"}], json.dumps(out)[:600])


def refusals(r, port):
    tools = [{"type": "function", "function": {"name": "f"}}]
    cases = [
        ("a retrieval tool", {"tools": [{"type": "retrieval"}]}, "tools[0].type"),
        ("a bad function name", {"tools": [{"type": "function", "function": {"name": "a b"}}]},
         "tools[0].function.name"),
        ("an unknown named choice", {"tools": tools, "tool_choice": {
            "type": "function", "function": {"name": "g"}}}, "tool_choice"),
        ("a tool message without tool_call_id", {"messages": [
            {"role": "user", "content": "x"}, {"role": "tool", "content": "r"}]},
         "messages[1].tool_call_id"),
    ]
    for label, extra, param in cases:
        msgs = extra.pop("messages", "hi")
        resp = test_deepseek.chat(port, "DeepSeek-V3.2", msgs, token=CODE, extra=extra)
        try:
            e = json.loads(resp.body)["error"]
        except (ValueError, KeyError, TypeError):
            e = {}
        r.check("400 for %s, param %s" % (label, param),
                resp.status == 400 and e.get("param") == param and
                e.get("type") == "invalid_request_error", resp.describe())
    resp = harness.http(port, "POST", "/v1/completions", json.dumps(
        {"model": "DeepSeek-V3.2", "prompt": "x", "tools": tools}),
        headers={"Content-Type": "application/json", "Authorization": "Bearer " + CODE})
    try:
        e = json.loads(resp.body)["error"]
    except (ValueError, KeyError, TypeError):
        e = {}
    r.check("400 for tools on /v1/completions", resp.status == 400 and
            e.get("param") == "tools", resp.describe())


def own_protocol(r, port):
    msgs = [{"role": "system", "content": "You are Roo, a coding agent. Use <tool_use> tags."},
            {"role": "user", "content": "hello"}]
    resp = test_deepseek.chat(port, "DeepSeek-V3.2", msgs, token=CODE, extra={"tools": [
        {"type": "function", "function": {"name": "get_weather"}}]})
    try:
        m = json.loads(resp.body)["choices"][0]
    except (ValueError, KeyError, TypeError, IndexError):
        m = {}
    r.check("TOOL_PROMPT auto: a client with its own tool protocol is left alone",
            resp.status == 200 and m.get("finish_reason") == "stop" and
            (m.get("message") or {}).get("content", "").endswith("hello") and
            "Functions you can call" not in (m.get("message") or {}).get("content", ""),
            resp.describe())


def main():
    r = Results("test_tools")
    harness.install_signal_handlers(1500)
    binary = harness.find_binary()
    cdir = test_chat.client_dir()
    shutil.copyfile(CLIENT, os.path.join(cdir, "tools_client.mjs"))

    front = None
    try:
        front = Front(r, binary, "bracket", {})
        bracket_cases(r, cdir, front.fe.port)
        refusals(r, front.fe.port)
        own_protocol(r, front.fe.port)
    except HarnessError as e:
        harness.report_setup(r, "tools-bracket", e)
    finally:
        if front is not None:
            front.stop()

    front = None
    try:
        front = Front(r, binary, "xml", {"TOOL_FORMAT": "xml"})
        port = front.fe.port
        for name, _, _, model, _ in PROVIDERS:
            for mode in ("nonstream", "stream"):
                out = client(cdir, port, mode, model, "Weather in Paris?")
                loop_checks(r, "xml %s %s" % (name, mode), out, ["get_weather"],
                            ["sunny, 21C in Paris"])
            # a call the named choice refuses stays text: it shows the format taught
            out = client(cdir, port, "stream", model, "Other one [[tool:get_weather]]",
                         {"tool_choice": {"type": "function", "function": {"name": "get_time"}},
                          "loop": False})
            r.check("xml %s: the section teaches <tool_use>" % name,
                    not out.get("calls") and "<tool_use>\n<name>get_weather</name>" in
                    (out.get("content1") or ""), json.dumps(out)[:600])
    except HarnessError as e:
        harness.report_setup(r, "tools-xml", e)
    finally:
        if front is not None:
            front.stop()

    # TOOL_PROMPT=never: no section, nothing parsed; the history is still written back
    front = None
    try:
        front = Front(r, binary, "never", {"TOOL_PROMPT": "never"}, only=("deepseek",))
        port = front.fe.port
        tools = [{"type": "function", "function": {"name": "get_weather"}}]
        resp = test_deepseek.chat(port, "DeepSeek-V3.2", "Weather? [[tool:get_weather]]",
                                  token=CODE, extra={"tools": tools})
        try:
            m = json.loads(resp.body)["choices"][0]
        except (ValueError, KeyError, TypeError, IndexError):
            m = {}
        r.check("TOOL_PROMPT never: tools ignored, a plain answer",
                resp.status == 200 and m.get("finish_reason") == "stop" and
                (m.get("message") or {}).get("content", "").startswith("You said: Weather?"),
                resp.describe())
        msgs = [{"role": "user", "content": "Weather?"},
                {"role": "assistant", "content": None, "tool_calls": [
                    {"id": "call_1", "type": "function",
                     "function": {"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": "snow"}]
        resp = test_deepseek.chat(port, "DeepSeek-V3.2", msgs, token=CODE, extra={"tools": tools})
        try:
            m = json.loads(resp.body)["choices"][0]
        except (ValueError, KeyError, TypeError, IndexError):
            m = {}
        r.check("TOOL_PROMPT never: the tool turns of the history still reach the model",
                (m.get("message") or {}).get("content") == "Tool results: call_1=snow" and
                not (m.get("message") or {}).get("tool_calls"), resp.describe())
    except HarnessError as e:
        harness.report_setup(r, "tools-never", e)
    finally:
        if front is not None:
            front.stop()
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
