#!/bin/sh
# Store benchmark (issue 17, item 6): LMDB against Redis on loopback.
#   1. bench/store_bench: a pooled request's store work alone (the key
#      looked up, an account taken, the request's final write), CPU and
#      wall µs per request, on LMDB and on Redis with appendfsync always
#      and everysec;
#   2. the whole request path, the same three stores: req/s at 1 and 32
#      connections, non-stream and stream, and chat2api's CPU µs per
#      request, through nginx + spawn-fcgi chat2api against bench/fastmock,
#      DeepSeek through a pooled account (bench/bench-chat.sh -m deepseek).
# A redis-server of its own runs on a free loopback port (a password,
# appendonly yes) in a temp dir; every run has its own key prefix.
# Prints markdown tables (BENCHMARKS.md).
#
#   bench/bench-store.sh [-d SECONDS] [-n REQUESTS]
#
# CHAT2API_BIN selects the binary (built --with-redis); bench/store_bench
# is taken from next to it (make bench/store_bench).  Needs redis-server,
# redis-cli, nginx, spawn-fcgi, wrk.  One host runs everything: indicative.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dur=10
n=5000
while [ $# -gt 0 ]; do
	case $1 in
	-d) dur=$2; shift 2 ;;
	-n) n=$2; shift 2 ;;
	*) echo "usage: $0 [-d SECONDS] [-n REQUESTS]" >&2; exit 2 ;;
	esac
done
bin=${CHAT2API_BIN:-./chat2api}
sbench=$(dirname "$bin")/bench/store_bench
[ -x "$sbench" ] || { echo "$sbench: build it (make bench/store_bench)" >&2; exit 1; }
tmp=$(mktemp -d)
chmod 755 "$tmp"
pw=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
key=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
port=$("${PYTHON3:-python3}" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --requirepass "$pw" \
    --appendonly yes --appendfsync always --save '' --dir "$tmp" \
    --maxmemory-policy noeviction >"$tmp/redis.log" 2>&1 &
rpid=$!
trap 'kill $rpid 2>/dev/null; wait $rpid 2>/dev/null; rm -rf "$tmp"' EXIT
rcli() { REDISCLI_AUTH=$pw redis-cli -p "$port" "$@"; }
i=0
until [ "$(rcli ping 2>/dev/null)" = PONG ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || { cat "$tmp/redis.log" >&2; exit 1; }
	sleep 0.1
done
url() { echo "redis://:$pw@127.0.0.1:$port/0?prefix=bench-$1:"; }

echo "| store | CPU µs/request | wall µs/request |"
echo "|---|---|---|"
"$sbench" -n "$n" 2>/dev/null
for fs in always everysec; do
	rcli config set appendfsync $fs >/dev/null
	"$sbench" -n "$n" -s "$(url "sb-$fs")" 2>/dev/null |
	    sed "s/^| Redis (loopback) |/| Redis, appendfsync $fs |/"
done
echo

for v in lmdb always everysec; do
	if [ $v = lmdb ]; then
		"$here/bench-chat.sh" -m deepseek -d "$dur" -n 200 --no-rss \
		    --json "$tmp/$v.json" >"$tmp/$v.md" 2>"$tmp/$v.log" || {
			cat "$tmp/$v.log" >&2; exit 1; }
		continue
	fi
	rcli config set appendfsync $v >/dev/null
	u=$(url "chat-$v")
	# the CLI that adds the account reads them from the environment
	CHAT2API_STORE=$u CHAT2API_SECRET_KEY=$key \
	    "$here/bench-chat.sh" -m deepseek -d "$dur" -n 200 --no-rss \
	    --json "$tmp/$v.json" --env "CHAT2API_STORE=$u" \
	    --env "CHAT2API_SECRET_KEY=$key" >"$tmp/$v.md" 2>"$tmp/$v.log" || {
		cat "$tmp/$v.log" >&2; exit 1; }
done
"${PYTHON3:-python3}" - "$tmp" <<'PY'
import json, sys
tmp = sys.argv[1]
print("| store | kind | c=1 req/s | c=32 req/s | p50 ms (c=1 / c=32) | failed (c=32) "
      "| chat2api CPU µs/req (c=1 / c=32) |")
print("|---|---|---|---|---|---|---|")
for v, label in (("lmdb", "LMDB"), ("always", "Redis, appendfsync always"),
                 ("everysec", "Redis, appendfsync everysec")):
    res = json.load(open("%s/%s.json" % (tmp, v)))
    runs = res["modes"]["deepseek"]["runs"]
    for kind in ("non-stream", "stream"):
        by = {r["conns"]: r for r in runs if r["kind"] == kind}
        def cpu(r):
            c, n = r.get("cpu") or {}, r.get("requests") or 0
            return "%.0f" % (c.get("chat2api", 0) * 1e6 / n) if n else "?"
        def p50(r):
            return "%.1f" % r["p50ms"] if r.get("p50ms") is not None else "?"
        print("| %s | %s | %.0f | %.0f | %s / %s | %d | %s / %s |" % (
            label, kind, by[1]["rps"] or 0, by[32]["rps"] or 0, p50(by[1]), p50(by[32]),
            by[32]["non2xx"] + by[32]["sockerr"], cpu(by[1]), cpu(by[32])))
PY
