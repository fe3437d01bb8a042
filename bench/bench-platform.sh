#!/bin/sh
# Platform benchmark: wrk through nginx + spawn-fcgi chat2api on /health and
# /v1/models at 1 and 32 connections, next to nginx's own "return 200" (the
# ceiling), printed as a markdown table.  Servers are started on free
# loopback ports by the integration harness (tests/integration/harness.py)
# from the shipped deploy/ files, and stopped afterwards.
#
#   bench/bench-platform.sh [-d SECONDS] [-p PROCS] [-t THREADS] [-l LOGLEVEL]
#
# CHAT2API_BIN selects the binary (default ./chat2api, else the source
# tree's).  Needs nginx, spawn-fcgi and wrk (apt-get install nginx-light
# spawn-fcgi wrk).  Numbers from one machine running client and servers
# together are indicative only.
here=$(cd "$(dirname "$0")" && pwd)
exec "${PYTHON3:-python3}" "$here/lib/bench_platform.py" "$@"
