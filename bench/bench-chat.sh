#!/bin/sh
# Chat benchmark: POST /v1/chat/completions (non-stream and stream) with wrk
# through nginx + spawn-fcgi chat2api against bench/fastmock, a fast canned
# upstream of every provider that checks nothing, next to wrk straight at
# the mock, at 1 and 32 connections; the time to the first data: line
# (bench/ttfc); and the RSS of chat2api idle and with N streams held open.
# Modes (-m, a comma list): sentinel (ChatGPT: page + chat-requirements +
# proof of work), conversation-only (ChatGPT, CONVERSATION_ONLY=true), and
# one per provider, each through an account added with the chat2api CLI and
# an AUTHORIZATION code:
#   deepseek      DeepSeek-V3.2: users/current once, then session create, PoW
#                 challenge of difficulty --ds-difficulty (1000), completion
#                 and session delete per request; deepseek@N the same at PoW
#                 difficulty N (e.g. deepseek@144000, the real one)
#   qwenai        Qwen AI's Qwen3-Max: chats/new, completion, chat delete
#   minimax       MiniMax-M2.7: send_msg, get_chat_detail polled as the answer
#                 grows one part every --mm-step ms (0: complete at once),
#                 delete_chat; minimax@STEP the same at STEP ms; plus polls
#                 per answer and the delay of each part, p50 and p95
#   zai           Z.ai's GLM-4.7: chats/new, the signed completion, chat delete
#   kimi          Kimi-K2.5: one token refresh, then the Connect Chat stream
#                 and DeleteChat per request
#   glm           GLM-5: user/refresh once, then a signed assistant/stream and
#                 conversation/delete per request
#   qwen          Qwen (China)'s Qwen3-Max: the chat, then
#                 session/delete/batch after the response
# Prints a markdown report (BENCHMARKS.md).
#
#   bench/bench-chat.sh [-d SECONDS] [-p PROCS] [-t THREADS] [-e old|v1]
#                       [-m sentinel,conversation-only,deepseek,deepseek@N,
#                           qwenai,minimax,minimax@STEP,zai,kimi,glm,qwen]
#                       [--ds-difficulty N] [--mm-step MS] [--mm-answers N]
#                       [-n TTFC_REQUESTS] [-r REPEAT] [-s STREAMS] [--no-rss]
#                       [--profile DIR] [--json FILE]
#
# Servers run on free loopback ports, started by the integration harness
# (tests/integration/harness.py) from the shipped deploy/ files, and are
# stopped afterwards; fastmock and ttfc are compiled into the run's temp
# dir by bench/build.sh.  CHAT2API_BIN selects the binary (default
# ./chat2api, else the source tree's).  Needs nginx, spawn-fcgi, wrk, cc
# (and perf for --profile).  One host runs everything: indicative only.
here=$(cd "$(dirname "$0")" && pwd)
exec "${PYTHON3:-python3}" "$here/lib/bench_chat.py" "$@"
