#!/bin/sh
# Where chat2api spends its instructions on /v1/chat/completions: runs it
# under valgrind --tool=callgrind behind nginx against bench/fastmock, sends
# N sequential non-stream and N stream requests, and prints
# callgrind_annotate's inclusive and self tables in instructions per chat
# request (markdown).
#
#   bench/profile-chat.sh [-n N] [-m sentinel|conversation-only] [-e old|v1]
#                         [-o DIR] [--top ROWS]
#
# CHAT2API_BIN selects the binary (build it with -g).  Needs valgrind,
# nginx, spawn-fcgi, cc.
here=$(cd "$(dirname "$0")" && pwd)
exec "${PYTHON3:-python3}" "$here/lib/profile_chat.py" "$@"
