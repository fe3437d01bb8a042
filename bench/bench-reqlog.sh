#!/bin/sh
# Request log benchmark (issue 15, item 7): the chat request path with the
# request log off (LOG_MAX_ENTRIES=0), on (the default), and on with bodies
# (LOG_BODIES=true), through nginx + spawn-fcgi chat2api against
# bench/fastmock, DeepSeek through a pooled account (so each request also
# takes an account: the path that writes the most).  For each: req/s at 1
# and 32 connections, non-stream and stream, and chat2api's CPU µs per
# request, by bench/bench-chat.sh; then a markdown table.
#
#   bench/bench-reqlog.sh [-d SECONDS] [-m MODE]
#
# CHAT2API_BIN selects the binary.  One host runs everything: indicative.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dur=10
mode=deepseek
while [ $# -gt 0 ]; do
	case $1 in
	-d) dur=$2; shift 2 ;;
	-m) mode=$2; shift 2 ;;
	*) echo "usage: $0 [-d SECONDS] [-m MODE]" >&2; exit 2 ;;
	esac
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for v in off on bodies; do
	case $v in
	off) set -- --env LOG_MAX_ENTRIES=0 ;;
	on) set -- ;;
	bodies) set -- --env LOG_BODIES=true ;;
	esac
	"$here/bench-chat.sh" -m "$mode" -d "$dur" -n 200 --no-rss \
	    --json "$tmp/$v.json" "$@" >"$tmp/$v.md" 2>"$tmp/$v.log" || {
		cat "$tmp/$v.log" >&2
		exit 1
	}
done
"${PYTHON3:-python3}" - "$tmp" "$mode" <<'PY'
import json, sys
tmp, mode = sys.argv[1], sys.argv[2]
print("| request log | kind | c=1 req/s | c=32 req/s | chat2api CPU µs/req (c=1 / c=32) |")
print("|---|---|---|---|---|")
for v, label in (("off", "off (`LOG_MAX_ENTRIES=0`)"), ("on", "on (default)"),
                 ("bodies", "on, `LOG_BODIES=true`")):
    res = json.load(open("%s/%s.json" % (tmp, v)))
    runs = res["modes"][mode]["runs"]
    for kind in ("non-stream", "stream"):
        by = {r["conns"]: r for r in runs if r["kind"] == kind}
        def cpu(r):
            c, n = r.get("cpu") or {}, r.get("requests") or 0
            return "%.0f" % (c.get("chat2api", 0) * 1e6 / n) if n else "?"
        print("| %s | %s | %.0f | %.0f | %s / %s |" % (
            label, kind, by[1]["rps"] or 0, by[32]["rps"] or 0, cpu(by[1]), cpu(by[32])))
PY
