#!/usr/bin/env bash
# Installs the test dependencies, builds chat2api out of tree and runs
# every test (unit, CGI, the four front-server setups, mocks, clients).
#   tests/run-all.sh              plain build in build/plain
#   tests/run-all.sh --sanitize   ASan+UBSan build in build/asan
#   --no-install                  skip the apt-get step
# Ends with one line "N passed, M failed".
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
sanitize=0
install=1
for a in "$@"; do
	case "$a" in
	--sanitize) sanitize=1 ;;
	--no-install) install=0 ;;
	*) echo "usage: $0 [--sanitize] [--no-install]" >&2; exit 2 ;;
	esac
done

sudo_cmd() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if [ "$install" -eq 1 ]; then
	pkgs="build-essential autoconf automake pkg-config libfcgi-dev
	libfcgi-bin libcurl4-openssl-dev libjson-c-dev libssl-dev liblmdb-dev
	lmdb-utils check nginx-light lighttpd apache2 libapache2-mod-fcgid
	spawn-fcgi curl python3 chromium zstd brotli libhiredis-dev redis-server openssl
	prometheus"
	missing=$(for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
	# node may come from elsewhere (nodesource ships npm inside nodejs)
	command -v node >/dev/null 2>&1 || missing="$missing nodejs"
	command -v npm >/dev/null 2>&1 || missing="$missing npm"
	missing=$(echo $missing)
	if [ -n "$missing" ]; then
		echo "==> installing: $(echo $missing)"
		sudo_cmd apt-get update -qq
		sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		    $missing >/dev/null || { echo "apt-get failed"; echo "0 passed, 1 failed"; exit 1; }
	fi
fi

cd "$top"
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt configure ]; then
	autoreconf -fi >/dev/null 2>&1 || { echo "autoreconf failed"; echo "0 passed, 1 failed"; exit 1; }
fi
# An in-tree build blocks out-of-tree ones.
[ -f config.status ] && make distclean >/dev/null 2>&1

if [ "$sanitize" -eq 1 ]; then
	build=$top/build/asan
	san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
	cflags="-O1 -g $san"
	ldflags="$san"
	export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:log_path=$build/sanitizer/asan"
	export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$build/sanitizer/ubsan"
	export LSAN_OPTIONS="suppressions=$top/tests/lsan.supp"
else
	build=$top/build/plain
	cflags="-O2 -g"
	ldflags=""
fi
mkdir -p "$build"
rm -rf "$build/sanitizer"
mkdir -p "$build/sanitizer"
cd "$build"
if [ ! -f Makefile ] || [ "$top/configure" -nt Makefile ]; then
	"$top/configure" -q --enable-werror --with-redis CFLAGS="$cflags" LDFLAGS="$ldflags" \
	    || { echo "configure failed"; echo "0 passed, 1 failed"; exit 1; }
fi
if ! make -j"$(nproc)" >make.log 2>&1; then
	cat make.log
	echo "build failed"
	echo "0 passed, 1 failed"
	exit 1
fi
echo "==> running tests in $build"
make -j"$(nproc)" check >check.log 2>&1
check_rc=$?
grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP):' check.log

passed=0
failed=0
while read -r p f; do
	passed=$((passed + p))
	failed=$((failed + f))
done < <(find "$build/tests" -name '*.log' ! -name 'test-suite.log' -exec \
    sed -n 's/^# counts: \([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p' {} +)
# A test program that died before printing its counts still fails.
for log in $(grep -lE '^(FAIL|ERROR)' $(find "$build/tests" -name '*.trs') 2>/dev/null); do
	l=${log%.trs}.log
	grep -q '^# counts: ' "$l" 2>/dev/null || { failed=$((failed + 1)); echo "crashed: $l"; }
	echo "---- $l"; tail -n 40 "$l"
done
# ASan says once per process that it does not fully support swapcontext;
# fcgi/coro.c tells it of every stack switch, so that line alone is no
# finding.  Any other line in the same file still is.
for f in "$build"/sanitizer/*; do
	[ -f "$f" ] || continue
	grep -qv -e 'support makecontext/swapcontext functions' -e '^$' "$f" ||
	    rm -f "$f"
done
if [ "$sanitize" -eq 1 ] && [ -n "$(ls -A "$build/sanitizer" 2>/dev/null)" ]; then
	echo "sanitizer reports:"
	head -n 60 "$build"/sanitizer/*
	failed=$((failed + $(ls "$build/sanitizer" | wc -l)))
fi
if [ "$check_rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	tail -n 30 check.log
	failed=1
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
