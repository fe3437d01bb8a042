#!/bin/sh
# Chat benchmark: POST /v1/chat/completions (non-stream and stream) with wrk
# through nginx + spawn-fcgi chat2api against bench/fastmock, a fast canned
# ChatGPT, DeepSeek and Qwen AI upstream that checks nothing, next to wrk straight at
# the mock, at 1 and 32 connections; the time to the first data: line
# (bench/ttfc); and the RSS of chat2api idle and with N streams held open.
# Modes (-m, a comma list): sentinel (ChatGPT: page + chat-requirements +
# proof of work), conversation-only (ChatGPT, CONVERSATION_ONLY=true),
# deepseek (DeepSeek-V3.2 through an account added with the chat2api CLI and
# an AUTHORIZATION code: users/current once, then session create, PoW
# challenge of difficulty --ds-difficulty (1000), completion and session
# delete per request) and deepseek@N (the same at PoW difficulty N, e.g.
# deepseek@144000, the real one), qwenai (Qwen AI's Qwen3-Max the same way:
# chats/new, completion and chat delete per request).  Prints a markdown
# report (BENCHMARKS.md).
#
#   bench/bench-chat.sh [-d SECONDS] [-p PROCS] [-t THREADS] [-e old|v1]
#                       [-m sentinel,conversation-only,deepseek,deepseek@N,qwenai]
#                       [--ds-difficulty N] [-n TTFC_REQUESTS] [-r REPEAT]
#                       [-s STREAMS] [--no-rss] [--profile DIR] [--json FILE]
#
# Servers run on free loopback ports, started by the integration harness
# (tests/integration/harness.py) from the shipped deploy/ files, and are
# stopped afterwards; fastmock and ttfc are compiled into the run's temp
# dir by bench/build.sh.  CHAT2API_BIN selects the binary (default
# ./chat2api, else the source tree's).  Needs nginx, spawn-fcgi, wrk, cc
# (and perf for --profile).  One host runs everything: indicative only.
here=$(cd "$(dirname "$0")" && pwd)
exec "${PYTHON3:-python3}" "$here/lib/bench_chat.py" "$@"
