#!/bin/sh
# Gateway benchmark: a proxied SSE conversation (POST /backend-api/conversation
# with a seed) against bench/fastmock next to /v1/chat/completions stream and
# fastmock straight (time to the first data: line with bench/ttfc, req/s at 1
# and 32 connections with wrk), and a 5 MiB asset through the gateway from
# tests/mock/chatgpt_site_mock.py next to the mock straight (time to the head
# and to the last byte, MB/s, chat2api's RSS while it passes).  Prints a
# markdown report (BENCHMARKS.md §15).
#
#   bench/bench-gateway.sh [-d SECONDS] [-n TTFC_REQUESTS] [-p PROCS]
#                          [-t THREADS] [--asset-runs N] [--json FILE]
#
# Servers run on free loopback ports from deploy/nginx/chat2api-gateway.conf
# (tests/integration/harness.py) and are stopped afterwards.  CHAT2API_BIN
# selects the binary.  Needs nginx, spawn-fcgi, wrk, cc.  One host runs
# everything: indicative only.
here=$(cd "$(dirname "$0")" && pwd)
exec "${PYTHON3:-python3}" "$here/lib/bench_gateway.py" "$@"
