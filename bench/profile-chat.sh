#!/bin/sh
# Where chat2api spends instructions, system calls and memory on
# /v1/chat/completions, behind nginx against bench/fastmock (markdown out):
#
#   bench/profile-chat.sh [callgrind] [-n N] [-m sentinel|conversation-only]
#                         [-e old|v1] [--top ROWS] [-o DIR] [--tls]
#       valgrind --tool=callgrind, N sequential non-stream + N stream
#       requests; instructions per chat request, inclusive and self
#   bench/profile-chat.sh strace [-n N] [-m ...] [-e ...]
#       strace -c -f on the running chat2api; system calls per request
#   bench/profile-chat.sh massif [-s STREAMS] [-m ...] [-e ...]
#       valgrind --tool=massif while STREAMS streams are open at once;
#       the peak heap snapshot (who holds the memory per stream)
#
# CHAT2API_BIN selects the binary (built with -g for names).  Needs
# valgrind, strace, nginx, spawn-fcgi, cc.  Run nothing else meanwhile.
here=$(cd "$(dirname "$0")" && pwd)
exec "${PYTHON3:-python3}" "$here/lib/profile_chat.py" "$@"
