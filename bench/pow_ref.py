#!/usr/bin/env python3
"""Tries per second of the Python reference proof of work, for comparison
with bench/pow_bench.c (same config and seed, difficulty "000000" so that no
try succeeds and exactly N tries run).

The loop is chat2api's (lanqian528/chat2api chatgpt/proofofWork.py,
generate_answer): the config is serialised once in three static parts, and
a try concatenates them with the two nonces, base64-encodes and hashes with
SHA3-512.  Upstream uses pybase64; this uses the standard library's base64
(python3 only), which is a little slower.

    python3 bench/pow_ref.py [tries]        (default 200000)
"""
import base64
import hashlib
import json
import sys
import time

CONFIG = [4000, "Mon Jan 06 2025 10:00:00 GMT-0500 (Eastern Standard Time)", 4294705152, 0,
          "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36", "https://cdn.oaistatic.com/assets/abc.js",
          "prod-0123456789abcdef", "en-US", "en-US,es-US,en,es", 0, "webdriver\u2212false",
          "location", "onload", 1234.5, "00000000-0000-4000-8000-000000000000", "", 16,
          1736175600000.0]


def generate_answer(seed, diff, config, tries):
    diff_len = len(diff)
    seed_encoded = seed.encode()
    p1 = (json.dumps(config[:3], separators=(",", ":"), ensure_ascii=False)[:-1] + ",").encode()
    p2 = ("," + json.dumps(config[4:9], separators=(",", ":"),
                           ensure_ascii=False)[1:-1] + ",").encode()
    p3 = ("," + json.dumps(config[10:], separators=(",", ":"), ensure_ascii=False)[1:]).encode()
    target = bytes.fromhex(diff)
    for i in range(tries):
        final = p1 + str(i).encode() + p2 + str(i >> 1).encode() + p3
        b64 = base64.b64encode(final)
        h = hashlib.sha3_512(seed_encoded + b64).digest()
        if h[:diff_len] < target:       # the strict [C] rule
            return b64.decode(), True
    return None, False


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200000
    t0, c0 = time.perf_counter(), time.process_time()
    _, ok = generate_answer("0.8863307117434009", "000000", CONFIG, n)
    t, c = time.perf_counter() - t0, time.process_time() - c0
    if ok:
        print("unexpected success", file=sys.stderr)
        return 1
    print("python: %d tries in %.3f s = %.1f ns/try (cpu %.1f ns/try)"
          % (n, t, t * 1e9 / n, c * 1e9 / n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
