#!/bin/sh
# Regenerates the turnstile cross-check fixtures from the Python twin.
#   challenges.tsv  make_challenge() output: p dx expected steps skipped work
#   fuzz.tsv        random/hostile programs: p dx code token steps skipped work
# Both are run with performance.now = 1234.5 and Math.random = 0.25.
# tests/unit/test_turnstile.c replays them against upstream/chatgpt/turnstile.c.
set -e
here=$(cd "$(dirname "$0")" && pwd)
py=$here/../../../mock/turnstile.py
python3 "$py" gen --count 40 --seed 2026 >"$here/challenges.tsv"
python3 "$py" fuzz --count 300 --seed 3737 >"$here/fuzz.tsv"
