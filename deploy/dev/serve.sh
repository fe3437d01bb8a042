#!/usr/bin/env bash
# Builds chat2api and serves it on http://127.0.0.1:5005 through nginx and
# spawn-fcgi, with its LMDB data under ./data.  Foreground: Ctrl-C stops
# everything.  Environment variables (API_PREFIX, AUTHORIZATION, ...) are
# passed through to chat2api; PORT, PROCS and DATA override the defaults.
# CHAT2API_BIN=path serves that binary instead of building one here (the
# tests run this script against their out-of-tree build).
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
port=${PORT:-5005}
procs=${PROCS:-2}
data=${DATA:-$top/data}

sudo_cmd() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

pkgs="build-essential autoconf automake pkg-config libfcgi-dev libfcgi-bin
libcurl4-openssl-dev libjson-c-dev libssl-dev liblmdb-dev lmdb-utils
nginx-light spawn-fcgi curl"
# CHAT2API_STORE=redis://... (several hosts): the build needs hiredis
redis=0
case "${CHAT2API_STORE:-}" in redis*) redis=1; pkgs="$pkgs libhiredis-dev" ;; esac
missing=$(for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
	echo "==> installing: $(echo $missing)"
	sudo_cmd apt-get update -qq
	sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi

cd "$top"
bin=${CHAT2API_BIN:-}
if [ -z "$bin" ]; then
	echo "==> building"
	[ -x configure ] && [ configure -nt configure.ac ] || autoreconf -fi >/dev/null
	if [ "$redis" -eq 1 ] && ! grep -q '^#define HAVE_REDIS' config.h 2>/dev/null; then
		./configure -q --with-redis
	else
		[ -f Makefile ] && [ Makefile -nt Makefile.am ] || ./configure -q \
		    $([ "$redis" -eq 1 ] && echo --with-redis)
	fi
	make -j"$(nproc)" >/dev/null
	bin=$top/chat2api
fi
[ -x "$bin" ] || { echo "no executable at $bin" >&2; exit 1; }

# The socket lives outside the tree: nginx's worker must reach it even
# when the checkout sits under a private home directory.
run=$(mktemp -d /tmp/chat2api-"$port"-XXXXXX)
chmod 0755 "$run"
mkdir -p "$data" "$run/tmp"
user_line=""
sock_owner=()
if [ "$(id -u)" -eq 0 ]; then
	user_line="user www-data;"
	sock_owner=(-U www-data -G www-data)
fi

cat > "$run/nginx.conf" <<NGINX
$user_line
worker_processes 1;
pid $run/nginx.pid;
error_log $run/nginx-error.log warn;
daemon off;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $run/tmp/body;
    fastcgi_temp_path $run/tmp/fastcgi;
    proxy_temp_path $run/tmp/proxy;
    uwsgi_temp_path $run/tmp/uwsgi;
    scgi_temp_path $run/tmp/scgi;
    server {
        listen 127.0.0.1:$port;
        client_max_body_size 20m;
        location / {
            include /etc/nginx/fastcgi_params;
            fastcgi_pass unix:$run/chat2api.sock;
            fastcgi_buffering off;
            fastcgi_read_timeout 300s;
            fastcgi_send_timeout 300s;
        }
    }
}
NGINX

pids=()
cleanup() {
	trap - INT TERM EXIT
	echo
	echo "==> stopping"
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	pkill -TERM -P $$ 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$run"
}
trap cleanup INT TERM EXIT

export CHAT2API_DATA_DIR="$data"
export CHAT2API_LOG=${CHAT2API_LOG:-file:$data/chat2api.log}
spawn-fcgi -s "$run/chat2api.sock" -M 0660 "${sock_owner[@]}" -F "$procs" \
	-- "$bin" >"$run/spawn.log" 2>&1 || { cat "$run/spawn.log"; exit 1; }
# spawn-fcgi's children run in their own sessions: remember them.
pids+=($(sed -n 's/.*PID: *\([0-9][0-9]*\).*/\1/p' "$run/spawn.log"))
nginx -c "$run/nginx.conf" &
nginx_pid=$!
pids+=("$nginx_pid")
sleep 0.5
if curl -fsS "http://127.0.0.1:$port/health" >/dev/null; then
	echo "==> chat2api is serving on http://127.0.0.1:$port  (data: $data," \
	    "log: ${CHAT2API_LOG#file:}); Ctrl-C stops"
else
	echo "==> chat2api did not answer; see $data/chat2api.log and $run/nginx-error.log" >&2
fi
tail -n 0 -F "${CHAT2API_LOG#file:}" 2>/dev/null &
pids+=($!)
wait "$nginx_pid"
