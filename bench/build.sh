#!/bin/sh
# Builds the benchmark helpers (not part of the top-level build):
#   fastmock   the fast canned upstream (bench/fastmock*.c; checks nothing)
#   ttfc       time-to-first-chunk client (bench/ttfc.c)
#   streams    N paced SSE streams at once, delay per event (bench/streams.c)
#   pow_bench  proof-of-work tries per second (bench/pow_bench.c, which
#              includes the source tree's upstream/chatgpt/pow*.c; libcrypto)
#
#   bench/build.sh [-o DIR] [fastmock] [ttfc] [streams] [pow_bench]
#                                                  (default: all)
#
# Output goes to DIR (default $BENCH_BIN, else bench/bin).  CC and CFLAGS
# are honoured (default cc, -O2).
set -e
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
out=${BENCH_BIN:-$here/bin}
if [ "$1" = "-o" ]; then out=$2; shift 2; fi
cc=${CC:-cc}
cflags=${CFLAGS:--O2}
[ $# -gt 0 ] || set -- fastmock ttfc streams pow_bench
mkdir -p "$out"
for t in "$@"; do
	case $t in
	fastmock) $cc $cflags -Wall -Wextra -pthread -o "$out/fastmock" "$here"/fastmock*.c ;;
	ttfc) $cc $cflags -Wall -Wextra -o "$out/ttfc" "$here/ttfc.c" ;;
	streams) $cc $cflags -Wall -Wextra -o "$out/streams" "$here/streams.c" ;;
	# the PoW code reads fcgi/b64.c and hex.c, which want a config.h:
	# outside a configured tree an empty one will do
	pow_bench) mkdir -p "$out/inc" && : > "$out/inc/config.h"
	    $cc $cflags -I"$out/inc" -I"$src" "$here/pow_bench.c" \
	    "$src/fcgi/b64.c" "$src/fcgi/hex.c" \
	    $(pkg-config --cflags --libs libcrypto) -lm -o "$out/pow_bench" ;;
	*) echo "build.sh: unknown target $t" >&2; exit 2 ;;
	esac
	echo "built $out/$t"
done
