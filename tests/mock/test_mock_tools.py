#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""Self-test of the mocks' tool answers (tests/mock/mockbase.py tool_reply).

The tool sections are the ones chat2api writes (tests/unit/data/tools/, checked byte for byte
by tests/unit/test_tools_prompt.c), so the mock reads what the C code writes.  Checks the call
blocks a mock answers with, the follow-up check of a tool loop (every call of the last block has
its result, else TOOL LOOP BROKEN), and that prompts without a section get None.

    python3 tests/mock/test_mock_tools.py

Prints one line per test and, last, `# counts: N passed, M failed`.
"""

import json
import os
import re
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import mockbase  # noqa: E402

DATA = os.path.join(os.path.dirname(HERE), "unit", "data", "tools")


def section(name):
    with open(os.path.join(DATA, name), encoding="utf-8") as f:
        return f.read()


def reply(prompt):
    markers, _ = mockbase.markers_of(prompt.rsplit("\nuser:", 1)[-1])
    return mockbase.tool_reply(prompt, markers)


def test_no_section():
    assert reply("system: be brief\nuser: hello [[tools:2]]") is None
    assert reply("user: [TOOL_RESULT for x] r") == \
        "TOOL LOOP BROKEN: tool results without the calls they answer"


def test_functions_listed_once():
    s = section("prompt_bracket.txt")
    fns = mockbase.tool_functions(s + "\n" + s)      # Qwen sends the prompt twice
    assert [n for n, _ in fns] == ["get_weather", "now"], fns
    assert fns[0][1]["required"] == ["city"]


def test_bracket_call():
    r = reply("system:" + section("prompt_bracket.txt") + "\nuser: weather?")
    assert r == ("I will use the tools.\n[function_calls]\n"
                 "[call:get_weather]{\"city\":\"Paris\"}[/call]\n[/function_calls]"), r


def test_parallel_and_pick():
    s = "system:" + section("prompt_bracket.txt")
    r = reply(s + "\nuser: both [[tools:2]]")
    assert re.findall(r"\[call:(\w+)\]", r) == ["get_weather", "now"], r
    r = reply(s + "\nuser: time [[tool:now]]")
    assert "[call:now]{}[/call]" in r, r


def test_xml_and_named():
    s = "system:" + section("prompt_named.txt")
    r = reply(s + "\nuser: x")
    assert r == ("I will use the tools.\n<tool_use>\n<name>now</name>\n<arguments>{}"
                 "</arguments>\n</tool_use>\n"), r
    r = reply("system:" + section("prompt_xml.txt") + "\nuser: y [[toolfmt:bracket]]")
    assert r.startswith("I will use the tools.\n[function_calls]\n"), r


def test_messy():
    r = reply("system:" + section("prompt_bracket.txt") + "\nuser: z [[toolmessy]]")
    args = r.split("[call:get_weather]", 1)[1].split("[/call]", 1)[0]
    assert args == "{city: 'Paris', note: \"line one\nline two\",}", args
    try:
        json.loads(args)
    except ValueError:
        pass
    else:
        raise AssertionError("messy arguments are valid JSON")


def test_loop_followup():
    s = "system:" + section("prompt_bracket.txt") + "\nuser: w [[tools:2]]\nassistant: "
    calls = reply(s.rsplit("\nassistant: ", 1)[0])
    h = s + calls
    ok = h + "\nuser: [TOOL_RESULT for call_a] 21C\nuser: [TOOL_RESULT for call_b] noon"
    assert reply(ok) == "Tool results: call_a=21C; call_b=noon", reply(ok)
    # the last turn twice on the wire (Z.ai signs it) counts once
    assert reply(ok + "\n[TOOL_RESULT for call_b] noon") == reply(ok)
    short = h + "\nuser: [TOOL_RESULT for call_a] 21C"
    assert reply(short) == "TOOL LOOP BROKEN: 2 call(s) but 1 result(s)", reply(short)


def test_xml_followup():
    s = "system:" + section("prompt_xml.txt") + "\nuser: w\nassistant: "
    h = s + reply(s.rsplit("\nassistant: ", 1)[0])
    r = reply(h + "\nuser: <tool_result id=\"call_9\">\nsunny\n</tool_result>")
    assert r == "Tool results: call_9=sunny", r


def main():
    tests = [v for k, v in sorted(globals().items()) if k.startswith("test_")]
    ok = bad = 0
    for t in tests:
        try:
            t()
            ok += 1
            print("ok   %s" % t.__name__)
        except Exception:
            bad += 1
            print("FAIL %s" % t.__name__)
            traceback.print_exc(file=sys.stdout)
    print("# counts: %d passed, %d failed" % (ok, bad))
    return 0 if bad == 0 and ok > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
