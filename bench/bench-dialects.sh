#!/bin/sh
# The three dialects side by side (chat completions, the Responses API, the
# Anthropic Messages API): req/s at c=1 and c=32, stream and non-stream,
# and the time to the first event, through nginx + chat2api against
# bench/fastmock's ChatGPT.  See bench/lib/bench_dialects.py.
#
#   bench/bench-dialects.sh [-d SECONDS] [-n TTFC_REQUESTS] [-r REPEAT]
here=$(cd "$(dirname "$0")" && pwd)
exec "${PYTHON3:-python3}" "$here/lib/bench_dialects.py" "$@"
