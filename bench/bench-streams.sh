#!/bin/sh
# Many open streams: N SSE streams (default 2,000) held open at once through
# nginx + spawn-fcgi chat2api against bench/fastmock, which paces a ChatGPT
# v1 answer and stamps every text delta with its send time; bench/streams
# (C, epoll) opens them and measures each event's delay from the mock to
# the client.  Reports the delay percentiles (and the same client straight
# at the mock), the streams that got every event, chat2api's RSS per open
# stream in fresh processes (round 1, cold) and again (round 2, warm), and
# the CPU time of chat2api, nginx, the mock and the client per streamed
# event.
#
#   bench/bench-streams.sh [-n STREAMS] [-e EVENTS] [-i INTERVAL_MS]
#                          [-r OPENED_PER_S] [-p PROCS] [-t THREADS]
#                          [--rounds N] [-E KEY=VALUE]... [--tls] [--json FILE]
#
# Defaults: 2,000 streams opened at 500/s, 20 stamped events each, one every
# 500 ms (4,000 events/s once all are open), 2 processes, 2 rounds (cold,
# warm); -e is at most 48.
#
# nginx gets deploy/nginx/streams.conf's worker_connections and
# worker_rlimit_nofile and one worker per CPU (C2A_NGINX_WORKERS overrides);
# chat2api runs as PROCS processes x THREADS threads (default 2 x 32: a
# stream parks on its process's event loop once it streams, so threads
# only set streams up).  Each stream takes ~2 fds in nginx, 2 in chat2api,
# 1 in the mock and 1 in the client: `ulimit -n` must allow it.
# CHAT2API_BIN selects the binary.  One host runs everything: indicative
# only.
here=$(cd "$(dirname "$0")" && pwd)
exec "${PYTHON3:-python3}" "$here/lib/bench_streams.py" "$@"
