"""Driver of bench/bench-chat.sh (python3 standard library only).

/v1/chat/completions through nginx + spawn-fcgi chat2api against
bench/fastmock (a fast canned upstream that checks nothing), next to wrk
straight at the mock; time to first chunk with bench/ttfc; RSS idle and
per open stream.  Prints a markdown report on stdout, progress on stderr.

Modes: sentinel and conversation-only are ChatGPT (anonymous); every other
mode is a provider of PROVIDERS below, drawn on through one account added
with the chat2api CLI and an AUTHORIZATION code, against fastmock's routes
of that provider (its *_BASE_URL at the mock):
- deepseek, deepseek@DIFFICULTY: DeepSeek-V3.2 (users/current once;
  chat_session/create, create_pow_challenge with a solvable challenge of
  that difficulty, completion, chat_session/delete per request).  Each
  DeepSeek difficulty gets its own fastmock; plain deepseek uses
  --ds-difficulty (1000).
- qwenai: Qwen AI's Qwen3-Max (chats/new, the completion, the chat DELETE).
- minimax, minimax@STEP: MiniMax-M2.7 (device/register once; send_msg,
  get_chat_detail polled until the answer is complete, delete_chat); the
  answer grows one part every STEP ms (--mm-step, 0: complete at the first
  poll), a fastmock per step.  The report also gives the polls per answer
  and how late the client saw each part after the mock showed it (p50, p95),
  from --mm-answers streamed answers one at a time.
- zai: Z.ai's GLM-4.7 (chats/new, the signed completion, the chat delete;
  the signature is made but not checked).
- kimi: Kimi-K2.5 (the token refresh once: the access token is cached; the
  Connect Chat stream; DeleteChat).
- glm: GLM-5 (user/refresh once; the signed assistant/stream and
  conversation/delete per request).
- qwen: Qwen (China)'s Qwen3-Max, qianwen.com (the chat stream of cumulative
  snapshots, session/delete/batch).
Each provider's baseline is wrk (and ttfc, where the answer has data: lines)
straight at the mock's answer route with roughly the body chat2api sends.
"""

import argparse
import json
import os
import platform
import re
import resource
import selectors
import shlex
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
SRCDIR = os.path.dirname(BENCH)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(SRCDIR, "tests", "integration"))

import harness  # noqa: E402
from bench_platform import parse_wrk  # noqa: E402

EXPECTED_TEXT = "Hello! This is fastmock, a canned answer for"      # 8 words
# the first word and 8 more: DeepSeek's first fragment and its 8 APPENDs,
# Z.ai's and Kimi's 9 deltas
DS_EXPECTED_TEXT = "Hello! This is fastmock, a canned answer for chat2api"
CHAT_NONSTREAM = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
CHAT_STREAM = dict(CHAT_NONSTREAM, stream=True)
# What the mock gets from chat2api, roughly (§4.1): used for the
# "wrk straight at the mock" baseline.
CONV_BODY = {
    "action": "next",
    "messages": [{"id": "aaaaaaaa-0000-4000-8000-000000000009",
                  "author": {"role": "user"},
                  "content": {"content_type": "text", "parts": ["hi"]},
                  "metadata": {}}],
    "parent_message_id": "client-created-root", "model": "gpt-4o",
    "timezone_offset_min": -480, "suggestions": [], "history_and_training_disabled": True,
    "conversation_mode": {"kind": "primary_assistant"},
    "force_paragen": False, "force_rate_limit": False, "supported_encodings": [],
    "websocket_request_id": "aaaaaaaa-0000-4000-8000-00000000000a",
}
MM_PART_RE = re.compile(r"part (\d+) @(\d+); ")

# ---------------------------------------------------------------- providers
# One entry per upstream.  A mode is a provider's name (deepseek@N and
# minimax@N add a parameter); sentinel and conversation-only are ChatGPT's.
#   title, model   how the report names it; the model the client asks for
#   code, secret   the AUTHORIZATION code and the account it draws on, added
#                  with `chat2api accounts add NAME SECRET` (fastmock checks
#                  neither)
#   env            the *_BASE_URL pointed at the mock
#   base, label    the key and label of its baseline: wrk (and ttfc when
#                  ttfc_base) straight at the mock's answer route, path,
#                  with roughly the body chat2api sends and headers
#   expected       the answer's text (or pattern: a regular expression)
#   counters       fastmock's counters of its routes, (counter, label): the
#                  answer route first, then the other calls of a request
#   about          the report's line on what a request does ({events},
#                  {bytes}: the mock's answer; {params}: the modes' -W/-M)
PROVIDERS = {}

# The upstream over TLS (--tls of bench-streams and profile-chat): an nginx
# ending TLS in front of the mock with a test CA's certificate.
TLS_CONF = """worker_processes 1;
worker_rlimit_nofile 16384;
pid %(d)s/tls-nginx.pid;
error_log %(d)s/tls-nginx.err warn;
events { worker_connections 8192; }
http {
    access_log off;
    client_body_temp_path %(d)s/tls-cb;
    proxy_temp_path %(d)s/tls-proxy;
    server {
        listen 127.0.0.1:%(port)d ssl;
        ssl_certificate %(cert)s;
        ssl_certificate_key %(key)s;
        location / {
            proxy_pass http://127.0.0.1:%(mport)d;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_read_timeout 300s;
        }
    }
}
"""


def tls_front(tmp, mport):
    """nginx ending TLS in front of the mock: (https url, CA file, process)."""
    ca, cert, key = harness.test_ca(tmp)
    # chat2api may run as another user (the harness's, under root)
    os.chmod(tmp, 0o755)
    os.chmod(ca, 0o644)
    port = harness.free_port()
    conf = os.path.join(tmp, "tls-nginx.conf")
    with open(conf, "w") as f:
        f.write(TLS_CONF % {"d": tmp, "port": port, "cert": cert, "key": key,
                            "mport": mport})
    p = subprocess.Popen([harness.which("nginx"), "-p", tmp, "-c", conf, "-g", "daemon off;"],
                         stdout=subprocess.DEVNULL)
    if not harness.wait_until(lambda: p.poll() is not None or port_open(port), 10) or \
            p.poll() is not None:
        raise harness.HarnessError("the TLS nginx did not start")
    return "https://127.0.0.1:%d" % port, ca, p


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), 0.2).close()
        return True
    except OSError:
        return False

def provider(name, **spec):
    spec.setdefault("headers", {})
    spec.setdefault("ttfc_base", True)
    spec.setdefault("pattern", None)
    PROVIDERS[name] = dict(spec, name=name)


provider(
    "chatgpt", title="ChatGPT", model="gpt-4o", code=None, secret=None, env=None,
    base="baseline", label="baseline", path="/backend-anon/conversation", body=CONV_BODY,
    expected=EXPECTED_TEXT,
    counters=(("conversation", "conversations"), ("sentinel", "sentinel"),
              ("page", "page")),
    about=None)

# DeepSeek (providers.md §2)
provider(
    "deepseek", title="DeepSeek", model="DeepSeek-V3.2", code="bench-deepseek-code-0001",
    secret="benchDeepSeekUserToken00000000000000001", env="DEEPSEEK_BASE_URL",
    base="baseline_ds", label="DeepSeek completion baseline",
    path="/api/v0/chat/completion",
    body={"chat_session_id": "dddddddd-0000-4000-8000-000000000001",
          "parent_message_id": None, "prompt": "hi", "ref_file_ids": [],
          "thinking_enabled": False, "search_enabled": False},
    expected=DS_EXPECTED_TEXT,
    counters=(("ds_completion", "completions"), ("ds_session_create", "session create"),
              ("ds_pow_challenge", "PoW challenge"), ("ds_session_delete", "session delete"),
              ("ds_users_current", "users/current")),
    about="per request chat2api calls chat_session/create, create_pow_challenge (solvable, "
    "answer = difficulty / 2), the completion (canned §2.7 answer of {events} SSE events, "
    "{bytes} bytes) and chat_session/delete (users/current once: the bearer is cached in "
    "LMDB); PoW difficulty {params}")

# Qwen AI (providers.md §7)
provider(
    "qwenai", title="Qwen AI", model="Qwen3-Max", code="bench-qwenai-code-0001",
    secret="eyJhbGciOiJIUzI1NiJ9.eyJpZCI6ImJlbmNoIn0.YmVuY2hzaWduYXR1cmU",
    env="QWENAI_BASE_URL", base="baseline_qa", label="Qwen AI completion baseline",
    path="/api/v2/chat/completions",
    body={"stream": True, "version": "2.1", "incremental_output": True,
          "chat_id": "qqqqqqqq-0000-4000-8000-000000000001", "model": "qwen3-max",
          "messages": [{"role": "user", "content": "hi"}]},
    expected=EXPECTED_TEXT,
    counters=(("qa_completion", "completions"), ("qa_chat_new", "chats/new"),
              ("qa_chat_delete", "chat delete"), ("qa_user_models", "user/models")),
    about="per request chat2api calls chats/new, the completion (canned §7.4 answer of "
    "{events} SSE events, {bytes} bytes) and the chat DELETE after the response")

# MiniMax (providers.md §5): no stream; chat2api polls get_chat_detail.
# fastmock's answer is -n parts "part K @MS; " (MS: when the mock showed
# part K), one more every -M ms (minimax@STEP, --mm-step).
provider(
    "minimax", title="MiniMax", model="MiniMax-M2.7", code="bench-minimax-code-0001",
    secret=("eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyIjp7ImlkIjoiMTAwMDAwMDAxIn19."
            "YmVuY2gtc2lnbmF0dXJl"),                # user 100000001
    env="MINIMAX_BASE_URL", base="baseline_mm", label="MiniMax get_chat_detail baseline",
    path="/matrix/api/v1/chat/get_chat_detail", body={"chat_id": 0},   # complete at once
    ttfc_base=False,                                # a JSON answer: no data: line
    expected="part 0 @...", pattern=re.compile(r"(part \d+ @\d+; )+$"),
    counters=(("mm_send", "answers (send_msg)"), ("mm_detail", "polls (get_chat_detail)"),
              ("mm_delete", "delete_chat"), ("mm_register", "device/register")),
    about="per request chat2api calls send_msg, polls get_chat_detail until chat_status 2 "
    "(MINIMAX_POLL_MIN_MS=400 after new text, up to MINIMAX_POLL_MAX_MS=2000, the defaults) "
    "and calls delete_chat after the answer (device/register once: cached in LMDB); "
    "fastmock's answer ({bytes} bytes complete) grows one part every STEP ms, {params}; every "
    "request waits at least one poll interval by design")

# Z.ai (providers.md §8): its completion has Qwen AI's path; fastmock tells
# them apart by Z.ai's X-Signature header.
provider(
    "zai", title="Z.ai", model="GLM-4.7", code="bench-zai-code-0001",
    secret=("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpZCI6ImJlbmNoLXphaS11c2VyLTAwMDEiLCJl"
            "bWFpbCI6ImJlbmNoQGV4YW1wbGUuY29tIn0.Cq2WAWgM6SuBwkfMw-iyMWPTzYkutBpY2io97jiNDuw"),
    env="ZAI_BASE_URL", base="baseline_zai", label="Z.ai completion baseline",
    path="/api/v2/chat/completions", headers={"X-Signature": "0" * 64},
    body={"stream": True, "model": "glm-4.7", "messages": [{"role": "user", "content": "hi"}],
          "signature_prompt": "hi", "params": {}, "extra": {},
          "features": {"auto_web_search": False, "enable_thinking": False,
                       "preview_mode": True},
          "chat_id": "eeeeeeee-0000-4000-8000-000000000001",
          "id": "aaaaaaaa-0000-4000-8000-00000000000b"},
    expected=DS_EXPECTED_TEXT,
    counters=(("zai_completion", "completions"), ("zai_chat_new", "chats/new"),
              ("zai_chat_delete", "chat delete"), ("zai_settings", "settings")),
    about="per request chat2api calls chats/new, the completion (signed query and "
    "X-Signature made, not checked by fastmock; canned §8.5 answer of {events} SSE events, "
    "{bytes} bytes) and the chat's delete after the response")

# Kimi (providers.md §4): Connect-RPC.  The baseline posts the JSON of the
# envelope chat2api sends (fastmock reads no framing; wrk and ttfc take
# text); a Connect answer has no data: line, so no ttfc baseline.
provider(
    "kimi", title="Kimi", model="Kimi-K2.5", code="bench-kimi-code-0001",
    secret="benchKimiRefreshToken0000000000000000001", env="KIMI_BASE_URL",
    base="baseline_kimi", label="Kimi Chat baseline",
    path="/apiv2/kimi.gateway.chat.v1.ChatService/Chat", ttfc_base=False,
    body={"scenario": "SCENARIO_K2D5", "chat_id": "", "tools": [],
          "message": {"parent_id": "", "role": "user", "scenario": "SCENARIO_K2D5",
                      "blocks": [{"message_id": "", "text": {"content": "hi\n"}}]},
          "options": {"thinking": False}},
    expected=DS_EXPECTED_TEXT,
    counters=(("kimi_chat", "chats"), ("kimi_delete", "DeleteChat"),
              ("kimi_refresh", "token refresh"), ("kimi_subscription", "subscription")),
    about="per request chat2api calls ChatService/Chat (canned §4.4 Connect+JSON answer of "
    "{events} envelopes, {bytes} bytes) and DeleteChat after the response (the refresh token "
    "is exchanged once: the access token is cached in LMDB)")

# GLM (providers.md §3)
provider(
    "glm", title="GLM", model="GLM-5", code="bench-glm-code-0001",
    secret="benchGlmRefreshToken0000000000000000001", env="GLM_BASE_URL",
    base="baseline_glm", label="GLM stream baseline",
    path="/chatglm/backend-api/assistant/stream",
    body={"assistant_id": "65940acff94777010aa6b796", "conversation_id": "",
          "project_id": "", "chat_type": "user_chat",
          "messages": [{"role": "user", "content": [{"type": "text", "text": "hi\n"}]}],
          "meta_data": {"channel": "", "draft_id": "", "if_plus_model": True,
                        "input_question_type": "xxxx", "is_networking": False,
                        "is_test": False, "platform": "pc", "quote_log_id": "",
                        "cogview": {"rm_label_watermark": False}}},
    expected=EXPECTED_TEXT,
    counters=(("glm_stream", "streams"), ("glm_delete", "conversation delete"),
              ("glm_refresh", "user/refresh")),
    about="per request chat2api signs and calls assistant/stream (canned §3.6 snapshots: "
    "{events} SSE events, {bytes} bytes) and conversation/delete after the response "
    "(user/refresh once: the access token is cached in LMDB)")

# Qwen, China (providers.md §6): qianwen.com, every host on the mock's base.
provider(
    "qwen", title="Qwen (China)", model="Qwen3-Max", code="bench-qwen-code-0001",
    secret="benchQwenTicket000000000000000000000001", env="QWEN_BASE_URL",
    base="baseline_qw", label="Qwen chat baseline", path="/api/v2/chat",
    body={"deep_search": "0", "req_id": "0" * 32, "model": "tongyi-qwen3-max-model-agent",
          "scene": "chat", "session_id": "1" * 32, "sub_scene": "chat", "temporary": False,
          "messages": [{"content": "hi", "mime_type": "text/plain",
                        "meta_data": {"ori_query": "hi"}}],
          "from": "default", "parent_req_id": "0", "enable_search": False,
          "biz_data": "{\"entryPoint\":\"tongyigw\"}", "scene_param": "first_turn",
          "chat_client": "h5", "client_tm": "1764547200000", "protocol_version": "v2",
          "biz_id": "ai_qwen"},
    expected=EXPECTED_TEXT,
    counters=(("qw_chat", "chats"), ("qw_session_delete", "session delete"),
              ("qw_session_list", "session list")),
    about="per request chat2api calls the chat (canned §6.3 answer of {events} SSE events, "
    "{bytes} bytes: every event the whole answer so far) and session/delete/batch after the "
    "response")

BASELINES = tuple(p["base"] for p in PROVIDERS.values())


def log(msg):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def to_ms(s):
    """wrk's "39.00us" / "1.20ms" / "2.00s" -> ms."""
    if not s:
        return None
    m = re.match(r"([\d.]+)(us|ms|s|m)$", s)
    if not m:
        return None
    v = float(m.group(1))
    return v * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}[m.group(2)]


def lua_post(ws, name, path, body, headers=None):
    """A wrk script that POSTs body (wrk.path is set from the URL)."""
    text = ("-- generated by bench/lib/bench_chat.py\n"
            "wrk.method = \"POST\"\n"
            "wrk.body = %s\n"
            "wrk.headers[\"Content-Type\"] = \"application/json\"\n" % lua_str(body))
    for k, v in (headers or {}).items():
        text += "wrk.headers[%s] = %s\n" % (lua_str(k), lua_str(v))
    return ws.write("lua/%s.lua" % name, text)


def provider_of(mode):
    """The PROVIDERS entry of a mode."""
    return PROVIDERS.get(mode.split("@", 1)[0], PROVIDERS["chatgpt"])


def is_deepseek(mode):
    return provider_of(mode)["name"] == "deepseek"


def is_minimax(mode):
    return provider_of(mode)["name"] == "minimax"


def base_key(mode):
    """The wrk-straight-at-the-mock baseline a mode is compared with."""
    return provider_of(mode)["base"]


def mode_param(args, mode):
    """deepseek@N's PoW difficulty, minimax@N's step (ms), else the
    option's; None for the other modes."""
    if is_deepseek(mode) or is_minimax(mode):
        if "@" in mode:
            return int(mode.split("@", 1)[1])
        return args.ds_difficulty if is_deepseek(mode) else args.mm_step
    return None


def mock_key(args, mode):
    """Which fastmock a mode needs: (DeepSeek difficulty, MiniMax step)."""
    return (mode_param(args, mode) if is_deepseek(mode) else args.ds_difficulty,
            mode_param(args, mode) if is_minimax(mode) else args.mm_step)


def chat_body(model, stream=False):
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    return dict(body, stream=True) if stream else body


class Provider:
    """What a mode sends and expects back."""

    def __init__(self, mode):
        spec = provider_of(mode)
        self.spec = spec
        self.nonstream = chat_body(spec["model"])
        self.stream = chat_body(spec["model"], True)
        self.headers = {"Authorization": "Bearer " + spec["code"]} if spec["code"] else {}
        self.expected = spec["expected"]
        self.pattern = spec["pattern"]

    def ok(self, text):
        if self.pattern is not None:
            return isinstance(text, str) and self.pattern.match(text) is not None
        return text == self.expected


def lua_str(s):
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\""


# ---------------------------------------------------------------- cpu time
CLK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid):
    """utime+stime of a process in seconds, or 0 if gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            parts = f.read().rsplit(")", 1)[1].split()
        return (int(parts[11]) + int(parts[12])) / CLK
    except (OSError, IndexError, ValueError):
        return 0.0


def proc_comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return "?"


class CpuMeter:
    """CPU seconds of groups of processes (and of our wrk/ttfc children)."""

    def __init__(self, groups):
        self.groups = groups           # {name: callable -> [pid]}

    def snap(self):
        out = {}
        for name, pids in self.groups.items():
            out[name] = sum(proc_cpu(p) for p in pids())
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        out["client"] = ru.ru_utime + ru.ru_stime
        out["host_busy"], out["host_steal"] = host_cpu()
        out["wall"] = time.monotonic()
        return out

    @staticmethod
    def diff(a, b):
        return {k: b[k] - a.get(k, 0.0) for k in b}


def host_cpu():
    """(busy, steal) CPU seconds of the whole host from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        # user nice system idle iowait irq softirq steal; irq and softirq time
        # (loopback networking) is not charged to any process, so left out
        return (v[0] + v[1] + v[2]) / CLK, v[7] / CLK
    except (OSError, ValueError, IndexError):
        return 0.0, 0.0


def noise(cpu):
    """CPU of other processes on the host (in cores) and steal (%) during a
    run: busy host CPU minus what our own processes used."""
    if not cpu or not cpu.get("wall"):
        return None, None
    ours = sum(v for k, v in cpu.items() if k not in ("host_busy", "host_steal", "wall"))
    return ((cpu["host_busy"] - ours) / cpu["wall"],
            100.0 * cpu["host_steal"] / cpu["wall"] / (os.cpu_count() or 1))


def median_run(runs, key):
    """The run with the median key (lower middle for an even count), with
    the range of key over all runs attached."""
    vals = sorted(runs, key=key)
    pick = dict(vals[(len(vals) - 1) // 2])
    pick["range"] = (key(vals[0]), key(vals[-1]))
    pick["repeats"] = len(runs)
    return pick


def rss_kb(pid):
    vals = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "RssAnon", "RssFile", "VmHWM", "Threads"):
                    vals[k] = int(v.split()[0])
    except OSError:
        pass
    return vals


ARENA_ALIGN = 64 << 20          # glibc HEAP_MAX_SIZE on 64-bit: per-thread arenas
WORKER_STACK = 512 << 10        # fcgi/server.c WORKER_STACK


def smaps_kb(pid):
    """Rss of one process by kind of mapping (kB): thread stacks, malloc
    arenas of threads, the main heap, LMDB's map, other files, other
    anonymous memory."""
    out = {}
    cat = None
    try:
        with open("/proc/%d/smaps" % pid) as f:
            for line in f:
                first = line.split(None, 1)[0]
                if "-" in first and not first.endswith(":"):
                    parts = line.split()
                    start, end = (int(x, 16) for x in parts[0].split("-"))
                    path = parts[5] if len(parts) > 5 else ""
                    size = end - start
                    if path == "[heap]":
                        cat = "heap"
                    elif path.startswith("["):
                        cat = "other anon"
                    elif path.endswith(".mdb"):
                        cat = "lmdb"
                    elif path:
                        cat = "files"
                    elif start % ARENA_ALIGN == 0 and size <= ARENA_ALIGN:
                        cat = "arenas"
                    elif size == WORKER_STACK:
                        cat = "stacks"
                    else:
                        cat = "other anon"
                elif first == "Rss:" and cat:
                    out[cat] = out.get(cat, 0) + int(line.split()[1])
    except OSError:
        pass
    return out


def smaps_total(pids):
    out = {}
    for p in pids:
        for k, v in smaps_kb(p).items():
            out[k] = out.get(k, 0) + v
    return out


# ---------------------------------------------------------------- runners
def run_wrk(wrk, url, conns, threads, seconds, script, cpu):
    cmd = [wrk, "-t%d" % threads, "-c%d" % conns, "-d%ds" % seconds, "--latency",
           "-s", script, url]
    before = cpu.snap() if cpu else None
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=seconds + 60)
    out = p.stdout.decode("utf-8", "replace")
    if p.returncode != 0:
        raise harness.HarnessError("wrk failed (%d): %s" % (p.returncode, out))
    res = parse_wrk(out)
    res["p50ms"] = to_ms(res["p50"])
    res["p99ms"] = to_ms(res["p99"])
    res["cmd"] = cmd
    res["raw"] = out
    if cpu:
        res["cpu"] = CpuMeter.diff(before, cpu.snap())
    return res


def run_ttfc(ttfc, port, path, body, n, warm, headers=None):
    cmd = [ttfc, "-p", str(port), "-u", path, "-n", str(n), "-w", str(warm), "-b", body]
    for k, v in (headers or {}).items():
        cmd += ["-H", "%s: %s" % (k, v)]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=600)
    out = p.stdout.decode("utf-8", "replace")
    res = {"cmd": cmd, "raw": out, "rc": p.returncode}
    m = re.search(r"n=(\d+) errors=(\d+)", out)
    res["n"], res["errors"] = (int(m.group(1)), int(m.group(2))) if m else (0, -1)
    for name in ("head", "first", "total"):
        m = re.search(r"^%s: p50=([\d.]+) p90=([\d.]+)(?: p95=([\d.]+))? p99=([\d.]+) "
                      r"mean=([\d.]+)" % name, out, re.M)
        if m:
            res[name] = {k: float(v) for k, v in zip(("p50", "p90", "p95", "p99", "mean"),
                                                      m.groups()) if v is not None}
    return res


def post_json(port, obj, timeout=30, headers=None):
    return harness.http(port, "POST", "/v1/chat/completions", json.dumps(obj),
                        headers=dict({"Content-Type": "application/json"}, **(headers or {})),
                        timeout=timeout)


def sanity(port, pv=None):
    """One non-stream and one stream answer must carry the canned text
    (ChatGPT's unless pv says otherwise)."""
    pv = pv or Provider("chatgpt")
    r = post_json(port, pv.nonstream, headers=pv.headers)
    j = r.json()
    got = None
    try:
        got = j["choices"][0]["message"]["content"]
    except (TypeError, KeyError, IndexError):
        pass
    if r.status != 200 or not pv.ok(got):
        raise harness.HarnessError("non-stream sanity check failed: " + r.describe())
    r = post_json(port, pv.stream, headers=pv.headers)
    text, done = "", False
    for block in r.body.decode("utf-8", "replace").split("\n\n"):
        for line in block.split("\n"):
            if line.startswith("data: "):
                d = line[6:]
                if d == "[DONE]":
                    done = True
                    continue
                ev = json.loads(d)
                for ch in ev.get("choices") or []:
                    text += (ch.get("delta") or {}).get("content") or ""
    if r.status != 200 or not pv.ok(text) or not done:
        raise harness.HarnessError("stream sanity check failed (%r): %s" % (text, r.describe()))


def open_streams(port, n, delay_ms, pv=None, timeout=30.0):
    """n concurrent streaming requests that the mock paces at delay_ms per
    event; returns the sockets once each has received its first data: line."""
    pv = pv or Provider("chatgpt")
    body = json.dumps(dict(pv.stream, messages=[
        {"role": "user", "content": "hold fastmock-delay=%d" % delay_ms}])).encode()
    req = ("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
           "Content-Type: application/json\r\nConnection: close\r\n"
           "%sContent-Length: %d\r\n\r\n" % (
               port, "".join("%s: %s\r\n" % kv for kv in pv.headers.items()),
               len(body))).encode() + body
    socks, bufs = [], {}
    sel = selectors.DefaultSelector()
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(req)
        s.setblocking(False)
        socks.append(s)
        bufs[s] = b""
        sel.register(s, selectors.EVENT_READ)
    waiting = set(socks)
    deadline = time.monotonic() + timeout
    while waiting and time.monotonic() < deadline:
        for key, _ in sel.select(0.2):
            s = key.fileobj
            try:
                data = s.recv(65536)
            except BlockingIOError:
                continue
            if not data:
                sel.unregister(s)
                waiting.discard(s)
                continue
            bufs[s] += data
            if s in waiting and b"\ndata: " in bufs[s]:
                waiting.discard(s)
    sel.close()
    if waiting:
        raise harness.HarnessError("%d of %d streams never started" % (len(waiting), n))
    return socks


def drain(socks, timeout=60.0):
    """Reads every socket to EOF; returns how many ended with [DONE]."""
    sel = selectors.DefaultSelector()
    tails = {}
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
        tails[s] = b""
    left = set(socks)
    deadline = time.monotonic() + timeout
    while left and time.monotonic() < deadline:
        for key, _ in sel.select(0.2):
            s = key.fileobj
            try:
                data = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                sel.unregister(s)
                left.discard(s)
                s.close()
                continue
            tails[s] = (tails[s] + data)[-64:]
    for s in left:
        s.close()
    sel.close()
    return sum(1 for t in tails.values() if b"[DONE]" in t)


# ---------------------------------------------------------------- setups
def app_env(args, mock_url, mode, threads):
    env = {
        "CHATGPT_BASE_URL": mock_url,
        "CHATGPT_DELTA_ENCODING": "true" if args.encoding == "v1" else "false",
        "CONVERSATION_ONLY": "true" if mode == "conversation-only" else "false",
        "CHAT2API_THREADS": str(threads),
        "CHAT2API_LOG_LEVEL": args.log_level,
        "CHAT2API_SSE_KEEPALIVE": "15",     # the default (the harness sets 1)
        "CHAT2API_TEST_ROUTES": "false",
        "RETRY_TIMES": "0",
    }
    spec = provider_of(mode)
    if spec["env"]:
        env.update({spec["env"]: mock_url, "AUTHORIZATION": spec["code"]})
    env.update(dict(kv.split("=", 1) for kv in args.env))
    return env


def start_frontend(args, binary, label, env, mode=None):
    ws = harness.Workspace("bench-" + re.sub(r"[^A-Za-z0-9]+", "", label))
    fe = harness.Nginx(ws, binary, pfx=False, bench=True, procs=args.procs)
    fe.app_extra = env
    try:
        fe.start()
        spec = provider_of(mode or "chatgpt")
        if spec["secret"]:
            fe.acct_cli = add_account(ws, binary, env, spec["name"], spec["secret"])
    except Exception:
        log(ws.log_tails())
        ws.cleanup()
        raise
    return ws, fe


def add_account(ws, binary, env, provider, secret):
    """The account the AUTHORIZATION code draws on, added with the CLI as
    the service's user (as tests/integration/test_accounts.py does: the
    CLI needs the data dir's secret.key and write access to lock.mdb)."""
    cenv = dict(os.environ, CHAT2API_DATA_DIR=ws.path("data"), CHAT2API_LOG_LEVEL="warn",
                **{k: v for k, v in env.items() if k.endswith("_BASE_URL")})
    argv = [binary, "accounts", "add", provider, secret, "--label", "bench"]
    if harness.RUN_USER:
        argv = ["runuser", "-u", harness.RUN_USER, "--"] + argv
    p = subprocess.run(argv, env=cenv, capture_output=True, text=True, timeout=60)
    if p.returncode != 0 or "added" not in p.stdout:
        raise harness.HarnessError("chat2api accounts add %s failed (%d): %s%s"
                                   % (provider, p.returncode, p.stdout, p.stderr))
    return "CHAT2API_DATA_DIR=%s %s" % (shlex.quote(cenv["CHAT2API_DATA_DIR"]),
                                       " ".join(shlex.quote(x) for x in argv))


def app_pids(fe):
    return [p for p in fe.app_pids() if harness._alive(p)]


def children_of(ppid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == ppid:
                        out.append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    return out


def frontend_groups(ws, fe, mock_pid):
    """Process groups whose CPU time is counted: nginx is the master (from
    its pid file) and its workers; chat2api the spawn-fcgi children."""
    cache = {}

    def nginx_pids():
        if "nginx" not in cache:
            try:
                with open(ws.path("nginx", "nginx.pid")) as f:
                    master = int(f.read().split()[0])
                cache["nginx"] = [master] + children_of(master)
            except (OSError, ValueError, IndexError):
                return []
        return cache["nginx"]
    return {"chat2api": lambda: app_pids(fe), "nginx": nginx_pids,
            "mock": lambda: [mock_pid]}


def mock_stats(port):
    r = harness.http(port, "GET", "/_fastmock/stats")
    return r.json() or {}


def bench_throughput(args, wrk, ttfc, binary, mock, mode, res):
    pv = Provider(mode)
    env = app_env(args, mock["url"], mode, args.threads)
    ws, fe = start_frontend(args, binary, mode.split("-")[0], env, mode)
    out = {"env": env, "runs": [], "provider": pv.spec["name"],
           "param": mode_param(args, mode)}
    res["modes"][mode] = out
    try:
        out["cli"] = getattr(fe, "acct_cli", "")
        sanity(fe.port, pv)
        cpu = CpuMeter(frontend_groups(ws, fe, mock["pid"]))
        url = "http://127.0.0.1:%d/v1/chat/completions" % fe.port
        scripts = {"non-stream": lua_post(ws, "chat", "/v1/chat/completions",
                                          json.dumps(pv.nonstream), pv.headers),
                   "stream": lua_post(ws, "chat-stream", "/v1/chat/completions",
                                      json.dumps(pv.stream), pv.headers)}
        out["lua"] = {}
        for kind, path in scripts.items():
            with open(path) as f:
                out["lua"][kind] = f.read()
        st0 = mock_stats(mock["port"])
        nreq = 0
        for kind in ("non-stream", "stream"):
            run_wrk(wrk, url, 4, 1, 1, scripts[kind], None)      # warm-up
            for conns, threads in ((1, 1), (32, 2)):
                r = median_run([run_wrk(wrk, url, conns, threads, args.duration,
                                        scripts[kind], cpu) for _ in range(args.repeat)],
                               lambda x: x["rps"] or 0)
                r.update(kind=kind, conns=conns)
                nreq += r["requests"]
                out["runs"].append(r)
                log("  %-18s %-10s c=%-3d %8.0f req/s  p50 %s  errors %d" % (
                    mode, kind, conns, r["rps"] or 0, r["p50"], r["non2xx"] + r["sockerr"]))
        st1 = mock_stats(mock["port"])
        out["mock_delta"] = {k: st1.get(k, 0) - st0.get(k, 0) for k in st1}
        # a polled answer takes a poll interval (0.4 s): fewer requests
        n, warm = (min(args.ttfc_n, args.mm_answers), 1) if is_minimax(mode) else \
            (args.ttfc_n, 50)
        out["ttfc"] = median_run(
            [run_ttfc(ttfc, fe.port, "/v1/chat/completions", json.dumps(pv.stream),
                      n, warm, pv.headers) for _ in range(args.repeat)],
            lambda x: x.get("first", {}).get("p50", 0))
        log("  %-18s ttfc p50 %s ms" % (mode, out["ttfc"].get("first", {}).get("p50")))
        if is_minimax(mode):
            out["polling"] = mm_polling(args, fe.port, mock["port"], pv)
            log("  %-18s %.2f polls/answer, part delay p50 %s p95 %s ms" % (
                mode, out["polling"]["polls_per_answer"], out["polling"]["p50"],
                out["polling"]["p95"]))
        if args.profile:
            out["profile"] = profile(args, wrk, ws, fe, scripts["non-stream"], url, mode)
    finally:
        ws.cleanup()


def pct(values, q):
    v = sorted(values)
    return round(v[min(len(v) - 1, int(q * len(v)))], 1) if v else None


def mm_polling(args, port, mock_port, pv):
    """MiniMax: --mm-answers streamed answers one at a time; the polls
    chat2api made per answer (fastmock's counters) and, for every part of
    every answer, how long after the mock showed it (its "@MS") the client
    read it."""
    st0 = mock_stats(mock_port)
    delays, bad = [], 0
    for _ in range(args.mm_answers):
        t_sent = time.time()
        r = harness.http(port, "POST", "/v1/chat/completions", json.dumps(pv.stream),
                         headers=dict(pv.headers, **{"Content-Type": "application/json"}),
                         timeout=120)
        seen, buf = set(), ""
        for t, data in r.pieces:
            buf += data.decode("utf-8", "replace")
            for k, ms in MM_PART_RE.findall(buf):
                if k not in seen:
                    seen.add(k)
                    delays.append((t_sent + t) * 1000.0 - int(ms))
        bad += r.status != 200 or "[DONE]" not in buf
    time.sleep(0.5)                 # the last delete_chat, after the response
    st1 = mock_stats(mock_port)
    d = {k: st1.get(k, 0) - st0.get(k, 0) for k in st1}
    sends = d.get("mm_send", 0)
    return {"answers": args.mm_answers, "errors": bad, "parts": len(delays),
            "polls_per_answer": d.get("mm_detail", 0) / (sends or 1), "mock_delta": d,
            "p50": pct(delays, 0.50), "p95": pct(delays, 0.95),
            "max": round(max(delays), 1) if delays else None}


def profile(args, wrk, ws, fe, script, url, mode):
    """perf record (DWARF call graphs) on the chat2api process(es) during a
    c=32 non-stream run; the reports (self, and inclusive by symbol) go to
    DIR/perf-MODE.txt."""
    pids = app_pids(fe)
    perf = harness.which("perf")
    data = os.path.join(args.profile, "perf-%s.data" % mode)
    os.makedirs(args.profile, exist_ok=True)
    p = subprocess.Popen([perf, "record", "-F", "499", "--call-graph", "dwarf,16384",
                          "-o", data, "-p",
                          ",".join(map(str, pids)), "--", "sleep", str(args.duration)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(0.5)
    run_wrk(wrk, url, 32, 2, args.duration, script, None)
    p.wait(args.duration + 60)
    text = ""
    for extra in (["--no-children", "--sort", "dso,symbol", "--percent-limit", "0.7"],
                  ["--children", "--sort", "symbol", "--percent-limit", "2"]):
        rep = subprocess.run([perf, "report", "-i", data, "--stdio", "-g", "none"] + extra,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=600)
        text += rep.stdout.decode("utf-8", "replace")
    with open(os.path.join(args.profile, "perf-%s.txt" % mode), "w") as f:
        f.write(text)
    return text


def bench_rss(args, binary, mock_url, mode, res):
    pv = Provider(mode)
    threads = max(args.rss_threads, args.streams + 8)
    env = app_env(args, mock_url, mode, threads)
    ws, fe = start_frontend(args, binary, "rss", env, mode)
    out = {"threads": threads, "streams": args.streams, "delay_ms": args.stream_delay}
    res["rss"][mode] = out
    try:
        def total(field="VmRSS"):
            return sum(rss_kb(p).get(field, 0) for p in app_pids(fe))
        time.sleep(0.5)
        out["pids"] = app_pids(fe)
        out["cold"] = total()
        out["threads_seen"] = sum(rss_kb(p).get("Threads", 0) for p in app_pids(fe))
        for _ in range(10):
            r = post_json(fe.port, pv.nonstream, headers=pv.headers)
            if r.status != 200:
                raise harness.HarnessError("warm-up: " + r.describe())
        time.sleep(0.5)
        out["idle"] = total()
        before, sm_before = out["idle"], smaps_total(app_pids(fe))
        out["rounds"] = []
        for rnd in range(1, args.rounds + 1):
            socks = open_streams(fe.port, args.streams, args.stream_delay, pv)
            time.sleep(0.3)
            ro = {"before": before, "open": total(), "smaps_before": sm_before,
                  "smaps_open": smaps_total(app_pids(fe))}
            ro["done"] = drain(socks)
            time.sleep(1.0)
            ro["after"] = total()
            ro["per_stream"] = (ro["open"] - before) / args.streams
            out["rounds"].append(ro)
            log("  rss %-18s round %d: before %d kB, %d streams open %d kB, after %d kB "
                "(%d ended with [DONE])" % (mode, rnd, before, args.streams, ro["open"],
                                            ro["after"], ro["done"]))
            before, sm_before = ro["after"], smaps_total(app_pids(fe))
        out["threads_final"] = sum(rss_kb(p).get("Threads", 0) for p in app_pids(fe))
    finally:
        ws.cleanup()


# ---------------------------------------------------------------- report
def fmt(v, spec="%.0f"):
    return spec % v if isinstance(v, (int, float)) else "?"


def cpu_per_req(r):
    c = r.get("cpu")
    n = r.get("requests") or 0
    if not c or not n:
        return "?"
    parts = [c.get(k, 0) * 1e6 / n for k in ("chat2api", "nginx", "mock", "client")]
    return " / ".join("%.0f" % x for x in parts) + " (Σ %.0f)" % sum(parts)


def modes_of(res, name):
    """The modes of res that draw on provider name."""
    return [m for m in res["modes"] if provider_of(m)["name"] == name]


def per_answer(mode, d):
    """(answers, [(label, calls per answer)], upstream calls per answer) from
    the mock's counter deltas d of a mode."""
    counters = provider_of(mode)["counters"]
    answers = d.get(counters[0][0], 0)
    per = [(label, d.get(k, 0) / answers if answers else 0) for k, label in counters[1:]]
    calls = sum(d.get(k, 0) for k, _ in counters) / answers if answers else 0
    return answers, per, calls


def report(args, res, binary, load0, load1, commit):
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"model name\s*:\s*(.*)", f.read())
            cpu = m.group(1).strip() if m else ""
    except OSError:
        pass
    nginx_v = subprocess.run([harness.which("nginx"), "-v"], stderr=subprocess.PIPE,
                             stdout=subprocess.PIPE).stderr.decode().strip().split("/")[-1]
    P = print
    P("### chat2api chat benchmark (%s)" % time.strftime("%Y-%m-%d %H:%M"))
    P()
    P("- host: Linux %s, %d vCPU (%s), load average %s before / %s after; wrk, nginx, "
      "chat2api and the mock share the host over loopback (indicative only)"
      % (platform.release(), os.cpu_count() or 0, cpu, load0, load1))
    P("- chat2api %s (%s); nginx %s, 1 worker, access_log off, fastcgi_buffering off; "
      "%d process(es) x %d threads under spawn-fcgi; CHAT2API_LOG_LEVEL=%s, "
      "CHATGPT_DELTA_ENCODING=%s, RETRY_TIMES=0"
      % (commit, binary, nginx_v, args.procs, args.threads, args.log_level,
         "true" if args.encoding == "v1" else "false"))
    chatgpt = res["answers"].get("chatgpt", {})
    P("- upstream: bench/fastmock (%d thread(s)), canned %s-format answer of %s SSE events "
      "(%s bytes), Content-Length, no delay; it checks nothing (see its header)"
      % (args.mock_threads, args.encoding, chatgpt.get("events", "?"),
         chatgpt.get("bytes", "?")))
    for name, spec in PROVIDERS.items():
        modes = modes_of(res, name)
        if not modes or not spec["about"]:
            continue
        a = res["answers"].get(name, {})
        P("- %s: model %s, `Authorization: Bearer <AUTHORIZATION code>` drawing on one "
          "account added with `chat2api accounts add %s`; %s" % (
              spec["title"], spec["model"], name, spec["about"].format(
                  events=a.get("events", "?"), bytes=a.get("bytes", "?"),
                  params=", ".join("%s: %s" % (m, res["modes"][m]["param"])
                                   for m in modes))))
    P("- wrk %d s per run, -t1 at c=1, -t2 at c=32, after a 1 s warm-up; request body "
      "`%s` (+ `\"stream\":true`), for the other providers the same with their model"
      % (args.duration, json.dumps(CHAT_NONSTREAM)))
    P()
    P("| path | kind | conns | req/s | p50 | p99 | added p50 | errors | CPU µs/req "
      "chat2api / nginx / mock / wrk | other load |")
    P("|---|---|---:|---:|---:|---:|---:|---:|---|---|")
    bases = {key: {r["conns"]: r for r in res[key].get("runs", [])}
             for key in BASELINES}
    base_label = {p["base"]: "wrk → fastmock (%s)" % p["label"] for p in PROVIDERS.values()}

    def rps(r):
        if r.get("repeats", 1) > 1:
            return "%s (%.0f–%.0f)" % (fmt(r["rps"]), r["range"][0], r["range"][1])
        return fmt(r["rps"])

    def other(r):
        o, st = noise(r.get("cpu"))
        return "?" if o is None else "%.2f cores, steal %.0f%%" % (o, st)
    for key in BASELINES:
        for r in res[key].get("runs", []):
            P("| %s | SSE | %d | %s | %s | %s | – | %d | %s | %s |" % (
                base_label[key], r["conns"], rps(r), r["p50"], r["p99"],
                r["non2xx"] + r["sockerr"], cpu_per_req(r), other(r)))
    for mode, m in res["modes"].items():
        base = bases[base_key(mode)]
        for r in m["runs"]:
            b = base.get(r["conns"])
            added = (r["p50ms"] - b["p50ms"]) if b and r["p50ms"] is not None and \
                b["p50ms"] is not None else None
            P("| wrk → nginx → chat2api (%s) | %s | %d | %s | %s | %s | %s | %d | %s | %s |" % (
                mode, r["kind"], r["conns"], rps(r), r["p50"], r["p99"],
                fmt(added, "%.3f ms"), r["non2xx"] + r["sockerr"], cpu_per_req(r), other(r)))
    if args.repeat > 1:
        P()
        P("Each setting ran %d times; the table shows the run with the median req/s and, in "
          "brackets, the range over the runs." % args.repeat)
    P()
    P("\"other load\" is the host's busy CPU during the run minus what wrk, nginx, chat2api "
      "and the mock used (other tenants of this VM, in cores), and the hypervisor's steal "
      "time: both make the figures noisier and lower.")
    P()
    P("Upstream requests the mock saw during the wrk runs of each mode (warm-ups "
      "included; ChatGPT's page is cached 15 min per process, so it was fetched by the "
      "sanity check before; \"calls\" counts every route of the provider, the answer's "
      "included; a MiniMax answer takes 0.4 s or more, so the answers wrk cut off at the "
      "end of its runs lower its figures here: its polling table below has them for whole "
      "answers):")
    P()
    for mode, m in res["modes"].items():
        d = m.get("mock_delta", {})
        answers, per, calls = per_answer(mode, d)
        P("- %s: %d %s; per answer %s; %.3f calls; %d other" % (
            mode, answers, provider_of(mode)["counters"][0][1],
            ", ".join("%.3f %s" % (v, label) for label, v in per), calls,
            d.get("other", 0)))
    P()
    P("CPU µs/req is the CPU time (utime+stime from /proc) each party used during the run "
      "divided by the requests wrk completed; their sum bounds what 2 cores can do: "
      "2 s / (sum µs) requests per second.")
    P()
    P("Time to first `data:` line (bench/ttfc: new connection per request, sequential; "
      "from connect() to the first byte of the first `data:` line):")
    P()
    P("| path | n | errors | head p50 | first data p50 | p90 | p95 | p99 | total p50 | "
      "added first-data p50 |")
    P("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    bts = {key: res[key].get("ttfc", {}) for key in BASELINES}
    rows = [("ttfc → fastmock (%s)" % base_label[key].split("(", 1)[1].rstrip(")"),
             bts[key], None) for key in BASELINES if bts[key]] + [
        ("ttfc → nginx → chat2api (%s)" % mode, m["ttfc"], bts[base_key(mode)])
        for mode, m in res["modes"].items()]
    for label, t, bt in rows:
        f = t.get("first", {})
        added = f.get("p50", 0) - bt.get("first", {}).get("p50", 0) if bt else None
        first = fmt(f.get("p50"), "%.3f ms")
        if t.get("repeats", 1) > 1:
            first += " (%.3f–%.3f)" % tuple(t["range"])
        P("| %s | %d | %d | %s | %s | %s | %s | %s | %s | %s |" % (
            label, t["n"], t["errors"], fmt(t.get("head", {}).get("p50"), "%.3f ms"),
            first, fmt(f.get("p90"), "%.3f ms"), fmt(f.get("p95"), "%.3f ms"),
            fmt(f.get("p99"), "%.3f ms"), fmt(t.get("total", {}).get("p50"), "%.3f ms"),
            fmt(added, "%.3f ms") if added is not None else "–"))
    if any(not provider_of(m)["ttfc_base"] for m in res["modes"]):
        P()
        P("(Kimi's Connect stream and MiniMax's JSON answer have no `data:` line for ttfc "
          "to time straight at the mock: no baseline row, no added column.)")
    mm_modes = [(mode, m) for mode, m in res["modes"].items() if m.get("polling")]
    if mm_modes:
        P()
        P("MiniMax polling (streamed answers one at a time through nginx + chat2api, the "
          "production pace MINIMAX_POLL_MIN_MS=400 / MINIMAX_POLL_MAX_MS=2000; fastmock shows "
          "one part of the answer every STEP ms and stamps it with that instant; delay = when "
          "the client read the part - when the mock showed it):")
        P()
        P("| mode | step | answers | errors | parts | polls per answer | upstream calls per "
          "answer | delay p50 | p95 | max |")
        P("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for mode, m in mm_modes:
            g = m["polling"]
            P("| %s | %d ms | %d | %d | %d | %.2f | %.2f | %s | %s | %s |" % (
                mode, m["param"], g["answers"], g["errors"], g["parts"],
                g["polls_per_answer"], per_answer(mode, g["mock_delta"])[2],
                fmt(g["p50"], "%.0f ms"), fmt(g["p95"], "%.0f ms"), fmt(g["max"], "%.0f ms")))
    P()
    P("In short (req/s non-stream / stream; first `data:` line p50 / p95; upstream calls "
      "per answer):")
    P()
    P("| mode | req/s c=1 | req/s c=32 | ttfc p50 / p95 | calls per answer |")
    P("|---|---:|---:|---:|---:|")
    for mode, m in res["modes"].items():
        by = {(r["kind"], r["conns"]): r for r in m["runs"]}

        def two(conns):
            return " / ".join(fmt(by.get((k, conns), {}).get("rps"))
                              for k in ("non-stream", "stream"))
        f = m.get("ttfc", {}).get("first", {})
        d = m["polling"]["mock_delta"] if m.get("polling") else m.get("mock_delta", {})
        P("| %s | %s | %s | %s / %s ms | %.2f |" % (
            mode, two(1), two(32), fmt(f.get("p50"), "%.3f"), fmt(f.get("p95"), "%.3f"),
            per_answer(mode, d)[2]))
    if res["rss"]:
        o0 = next(iter(res["rss"].values()))
        P()
        P("RSS of the chat2api process(es) (VmRSS from /proc/PID/status, summed over "
          "processes; CHAT2API_THREADS=%d, so every stream has its own thread; %d streams held "
          "open at once by pacing the mock at %d ms per event; per stream = "
          "(RSS with the streams open - RSS before) / %d; the breakdown is the same "
          "difference of /proc/PID/smaps Rss by mapping kind: arenas = glibc per-thread "
          "malloc heaps, heap = main arena, stacks = the %d KiB worker stacks):"
          % (o0["threads"], args.streams, args.stream_delay, args.streams,
             WORKER_STACK >> 10))
        P()
        kinds = ["arenas", "heap", "stacks", "other anon", "lmdb", "files"]
        P("| mode | cold | round | before | %d open | after | per stream | "
          % args.streams + " | ".join(kinds) + " |")
        P("|---|---:|---:|---:|---:|---:|---:|" + "---:|" * len(kinds))
        for mode, o in res["rss"].items():
            for i, ro in enumerate(o["rounds"]):
                P("| %s | %s | %d | %d kB | %d kB | %d kB | **%.1f kB** | %s |" % (
                    mode, "%d kB" % o["cold"] if i == 0 else "", i + 1, ro["before"],
                    ro["open"], ro["after"], ro["per_stream"], " | ".join(
                        "%.1f" % ((ro["smaps_open"].get(k, 0) - ro["smaps_before"].get(k, 0))
                                  / args.streams) for k in kinds)))
    P()
    P("Commands (ports are picked at run time):")
    P()
    P("```")
    for argv in res.get("fastmocks", []):
        P(" ".join(shlex.quote(x) for x in argv))
    clis = {}
    for mode, m in res["modes"].items():
        if m.get("cli"):
            clis.setdefault(provider_of(mode)["name"], m["cli"])
    for cli in clis.values():
        P(cli)
    for key in BASELINES:
        for r in res[key].get("runs", [])[:1]:
            P(" ".join(shlex.quote(x) for x in r["cmd"]))
    seen = set()
    for mode, m in res["modes"].items():
        kind = base_key(mode)
        if kind in seen or not m["runs"]:
            continue
        seen.add(kind)
        P(" ".join(shlex.quote(x) for x in m["runs"][0]["cmd"]))
        P("# %s" % m["runs"][0]["cmd"][-2])
        P(m.get("lua", {}).get("non-stream", "").strip())
    for key in BASELINES:
        if bts[key]:
            P(" ".join(shlex.quote(x) for x in bts[key]["cmd"]))
    seen = set()
    for mode, m in res["modes"].items():
        kind = base_key(mode)
        if kind not in seen:
            seen.add(kind)
            P(" ".join(shlex.quote(x) for x in m["ttfc"]["cmd"]))
    P("```")


# ---------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description="chat benchmark through nginx + chat2api")
    ap.add_argument("-d", "--duration", type=int, default=10, help="seconds per wrk run (10)")
    ap.add_argument("-p", "--procs", type=int, default=1, help="chat2api processes (1)")
    ap.add_argument("-t", "--threads", type=int, default=32, help="CHAT2API_THREADS (32)")
    ap.add_argument("-l", "--log-level", default="warn", help="CHAT2API_LOG_LEVEL (warn)")
    ap.add_argument("-e", "--encoding", choices=("old", "v1"), default="old",
                    help="upstream stream format (old: CHATGPT_DELTA_ENCODING=false)")
    ap.add_argument("-m", "--modes", default="sentinel,conversation-only",
                    help="comma list of sentinel, conversation-only (ChatGPT), deepseek, "
                    "deepseek@DIFFICULTY, qwenai, minimax, minimax@STEP_MS, zai, kimi, glm, "
                    "qwen")
    ap.add_argument("--ds-difficulty", type=int, default=1000,
                    help="DeepSeek PoW difficulty of the deepseek mode (1000)")
    ap.add_argument("--mm-step", type=int, default=0,
                    help="ms between the parts of fastmock's MiniMax answer in the minimax "
                    "mode (0: complete at the first poll)")
    ap.add_argument("--mm-answers", type=int, default=20,
                    help="streamed MiniMax answers timed for the polling table, and the "
                    "most ttfc requests of a MiniMax mode (20)")
    ap.add_argument("-n", "--ttfc-n", type=int, default=2000, help="ttfc requests (2000)")
    ap.add_argument("-s", "--streams", type=int, default=100, help="open streams for RSS (100)")
    ap.add_argument("--stream-delay", type=int, default=300,
                    help="ms per event of the held streams (300)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of open streams (3)")
    ap.add_argument("--rss-threads", type=int, default=128,
                    help="CHAT2API_THREADS of the RSS runs (128)")
    ap.add_argument("--no-rss", action="store_true", help="skip the RSS runs")
    ap.add_argument("--mock-threads", type=int, default=1, help="fastmock threads (1)")
    ap.add_argument("-r", "--repeat", type=int, default=1,
                    help="runs per wrk/ttfc setting; the median run is reported (1)")
    ap.add_argument("--profile", metavar="DIR",
                    help="also perf record chat2api during a c=32 non-stream run")
    ap.add_argument("--json", metavar="FILE", help="write all results as JSON")
    ap.add_argument("--env", metavar="VAR=VALUE", action="append", default=[],
                    help="one more variable for chat2api (repeatable), e.g. "
                    "LOG_MAX_ENTRIES=0")
    ap.add_argument("-v", "--verbose", action="store_true", help="raw wrk/ttfc output")
    args = ap.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    for m in modes:
        if m not in ("sentinel", "conversation-only") and (
                m.split("@", 1)[0] not in PROVIDERS or m == "chatgpt" or
                "@" in m and not is_deepseek(m) and not is_minimax(m)):
            ap.error("unknown mode %s" % m)
        if m.startswith("deepseek@") and not re.match(r"deepseek@[1-9]\d*$", m):
            ap.error("bad mode %s (deepseek@DIFFICULTY)" % m)
        if m.startswith("minimax@") and not re.match(r"minimax@\d+$", m):
            ap.error("bad mode %s (minimax@STEP_MS)" % m)

    harness.install_signal_handlers(3600)
    load0 = " ".join("%.2f" % x for x in os.getloadavg())
    wrk = harness.which("wrk")
    binary = harness.find_binary()
    try:
        commit = subprocess.run(["git", "-C", os.path.dirname(binary), "describe", "--always",
                                 "--dirty"], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL).stdout.decode().strip() or "?"
    except OSError:
        commit = "?"
    ws = harness.Workspace("benchchat")
    res = dict({key: {} for key in BASELINES}, modes={}, rss={}, answers={}, fastmocks=[])
    try:
        rc, out = ws.run("build", ["sh", os.path.join(BENCH, "build.sh"), "-o",
                                   ws.path("bin"), "fastmock", "ttfc"], timeout=120)
        if rc != 0:
            raise harness.HarnessError("bench/build.sh failed:\n" + out)
        fastmock, ttfc = ws.path("bin", "fastmock"), ws.path("bin", "ttfc")
        mocks = {}

        def mock_for(key):
            """A fastmock per DeepSeek difficulty and MiniMax step (the
            other routes are the same in each)."""
            if key in mocks:
                return mocks[key]
            difficulty, step = key
            name = "fastmock-%d-%d" % key
            portfile = ws.path(name + ".port")
            argv = [fastmock, "-P", portfile, "-t", str(args.mock_threads),
                    "-W", str(difficulty), "-M", str(step)]
            proc = ws.spawn(name, argv)
            if not harness.wait_until(lambda: os.path.exists(portfile), 10):
                raise harness.HarnessError("fastmock did not start")
            with open(portfile) as f:
                port = int(f.read())
            m = {"pid": proc.pid, "port": port, "url": "http://127.0.0.1:%d" % port,
                 "argv": argv}
            mocks[key] = m
            res["fastmocks"].append(argv)
            log("fastmock on port %d (DeepSeek difficulty %d, MiniMax step %d ms)" % (
                port, difficulty, step))
            return m

        mock = mock_for((args.ds_difficulty, args.mm_step))
        mport, murl = mock["port"], mock["url"]

        # the baselines: wrk and ttfc straight at the mock's answer route of
        # every provider the modes use, with roughly chat2api's body
        targets = []
        for name, spec in PROVIDERS.items():
            if not any(provider_of(m)["name"] == name for m in modes) and name != "chatgpt":
                continue
            body = dict(spec["body"])
            if name == "chatgpt":
                body["supported_encodings"] = ["v1"] if args.encoding == "v1" else []
            body = json.dumps(body)
            r = harness.http(mport, "POST", spec["path"], body,
                             headers=dict(spec["headers"], **{"Content-Type":
                                                              "application/json"}))
            if r.status != 200:
                raise harness.HarnessError("fastmock %s: %s" % (spec["path"], r.describe()))
            a = res["answers"][name] = {"bytes": len(r.body), "events": r.body.count(b"\n\n")}
            if name == "kimi":              # Connect envelopes, not SSE events
                a["events"], i = 0, 0
                while i + 5 <= len(r.body):
                    i += 5 + int.from_bytes(r.body[i + 1:i + 5], "big")
                    a["events"] += 1
            if any(base_key(m) == spec["base"] for m in modes):
                targets.append((spec, body))
        cpu = CpuMeter({"mock": lambda: [mock["pid"]]})
        for spec, body in targets:
            key, path = spec["base"], spec["path"]
            script = lua_post(ws, key, path, body, spec["headers"])
            url = murl + path
            run_wrk(wrk, url, 4, 1, 1, script, None)
            runs = []
            for conns, threads in ((1, 1), (32, 2)):
                r = median_run([run_wrk(wrk, url, conns, threads, args.duration, script, cpu)
                                for _ in range(args.repeat)], lambda x: x["rps"] or 0)
                r.update(kind="SSE", conns=conns)
                runs.append(r)
                log("  %-18s %-10s c=%-3d %8.0f req/s  p50 %s" % (key, "SSE", conns,
                                                                   r["rps"] or 0, r["p50"]))
            res[key]["runs"] = runs
            if spec["ttfc_base"]:
                res[key]["ttfc"] = median_run(
                    [run_ttfc(ttfc, mport, path, body, args.ttfc_n, 50, spec["headers"])
                     for _ in range(args.repeat)], lambda x: x.get("first", {}).get("p50", 0))

        for mode in modes:
            bench_throughput(args, wrk, ttfc, binary, mock_for(mock_key(args, mode)), mode,
                             res)
        if not args.no_rss:
            for mode in modes:
                bench_rss(args, binary, mock_for(mock_key(args, mode))["url"], mode, res)
    finally:
        ws.cleanup()
    load1 = " ".join("%.2f" % x for x in os.getloadavg())
    base_runs = [r for key in BASELINES for r in res[key].get("runs", [])]
    if args.verbose:
        for r in base_runs + [x for m in res["modes"].values() for x in m["runs"]]:
            log("### %s\n%s" % (" ".join(r["cmd"]), r["raw"]))
    report(args, res, binary, load0, load1, commit)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1, default=str)
    errors = sum(r["non2xx"] + r["sockerr"] for r in base_runs +
                 [x for m in res["modes"].values() for x in m["runs"]]) + \
        sum(m.get("polling", {}).get("errors", 0) for m in res["modes"].values())
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
