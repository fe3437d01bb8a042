#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""DeepSeekHashV1, the proof-of-work hash of chat.deepseek.com, in pure Python.

shared/protocols/providers.md section 2.6: SHA3-256 (rate 136, 0x06 padding, 32-byte
output) whose Keccak-f[1600] permutation runs 23 rounds with round constants
RC[1]..RC[23] -- the standard first round (RC[0]) is skipped.  Used by
tests/mock/deepseek_mock.py (to issue and check challenges) and by its self-test
(to solve them); `python3 deepseek_pow.py` checks every section 2.6 vector.

    ds_hash(data) -> 32 bytes           data: bytes or str (UTF-8)
    ds_hash_hex(data) -> 64 hex digits
    keccak_sha3_256(data, rounds=24)    the same sponge with the first `24-rounds` rounds
                                        skipped (rounds=24 is FIPS-202 SHA3-256)
    prefix(salt, expire_at)             "<salt>_<expire_at>_"
    solve(challenge, salt, expire_at, difficulty) -> answer (int) or None
    response_json(challenge_dict, answer) / response_header(challenge_dict, answer)
"""

import base64
import json
import sys

ALGORITHM = "DeepSeekHashV1"
TARGET_PATH = "/api/v0/chat/completion"
RESPONSE_KEYS = ("algorithm", "challenge", "salt", "answer", "signature", "target_path")

_M = (1 << 64) - 1
_RATE = 136

RC = (0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
      0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
      0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
      0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
      0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
      0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008)

# rotation offsets r[x][y]
_ROT = ((0, 36, 3, 41, 18), (1, 44, 10, 45, 2), (62, 6, 43, 15, 61),
        (28, 55, 25, 21, 56), (27, 20, 39, 8, 14))

# rho+pi as a table of (source lane, destination lane, rotation); lane (x, y) is index x + 5y
_RHO_PI = tuple((x + 5 * y, y + 5 * ((2 * x + 3 * y) % 5), _ROT[x][y])
                for x in range(5) for y in range(5))

# chi: for each lane i, the lanes (x+1, y) and (x+2, y)
_CHI = tuple(((i % 5 + 1) % 5 + 5 * (i // 5), (i % 5 + 2) % 5 + 5 * (i // 5)) for i in range(25))


def _permute(a, rcs):
    """Run the Keccak rounds with the given round constants on the 25-lane list a."""
    b = [0] * 25
    for rc in rcs:
        # theta
        c0 = a[0] ^ a[5] ^ a[10] ^ a[15] ^ a[20]
        c1 = a[1] ^ a[6] ^ a[11] ^ a[16] ^ a[21]
        c2 = a[2] ^ a[7] ^ a[12] ^ a[17] ^ a[22]
        c3 = a[3] ^ a[8] ^ a[13] ^ a[18] ^ a[23]
        c4 = a[4] ^ a[9] ^ a[14] ^ a[19] ^ a[24]
        d = (c4 ^ (((c1 << 1) | (c1 >> 63)) & _M),
             c0 ^ (((c2 << 1) | (c2 >> 63)) & _M),
             c1 ^ (((c3 << 1) | (c3 >> 63)) & _M),
             c2 ^ (((c4 << 1) | (c4 >> 63)) & _M),
             c3 ^ (((c0 << 1) | (c0 >> 63)) & _M))
        for i in range(25):
            a[i] ^= d[i % 5]
        # rho + pi
        for src, dst, r in _RHO_PI:
            v = a[src]
            b[dst] = (((v << r) | (v >> (64 - r))) & _M) if r else v
        # chi
        for i in range(25):
            j, k = _CHI[i]
            a[i] = b[i] ^ ((~b[j]) & b[k])
        # iota
        a[0] ^= rc
    return a


def keccak_sha3_256(data, rounds=24):
    """SHA3-256 sponge whose permutation keeps only the last `rounds` of the 24 rounds."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    rcs = RC[24 - rounds:]
    msg = bytearray(data)
    msg.append(0x06)
    while len(msg) % _RATE:
        msg.append(0)
    msg[-1] |= 0x80
    a = [0] * 25
    for off in range(0, len(msg), _RATE):
        block = msg[off:off + _RATE]
        for i in range(_RATE // 8):
            a[i] ^= int.from_bytes(block[8 * i:8 * i + 8], "little")
        _permute(a, rcs)
    return b"".join(a[i].to_bytes(8, "little") for i in range(4))


def ds_hash(data):
    """DeepSeekHashV1(data) as 32 bytes."""
    return keccak_sha3_256(data, 23)


def ds_hash_hex(data):
    return ds_hash(data).hex()


def prefix(salt, expire_at):
    return "%s_%d_" % (salt, int(expire_at))


def solve(challenge, salt, expire_at, difficulty):
    """The answer n in [0, difficulty) with H(prefix + n) == challenge, or None."""
    try:
        want = bytes.fromhex(challenge)
    except (TypeError, ValueError):
        return None
    p = prefix(salt, expire_at)
    for n in range(int(difficulty)):
        if ds_hash(p + str(n)) == want:
            return n
    return None


def response_json(ch, answer):
    """Compact JSON of the X-Ds-Pow-Response header, keys in the protocol order."""
    obj = {"algorithm": ch["algorithm"], "challenge": ch["challenge"], "salt": ch["salt"],
           "answer": answer, "signature": ch["signature"], "target_path": ch["target_path"]}
    return json.dumps(obj, separators=(",", ":"))


def response_header(ch, answer):
    return base64.b64encode(response_json(ch, answer).encode("utf-8")).decode("ascii")


# section 2.6 test vectors: (input, hex of H(utf-8 input))
VECTORS = (
    ("", "e594808bc5b7151ac160c6d39a02e0a8e261ed588578403099e3561dc40c26b3"),
    ("abc", "f841106c601ce9be9bc38525e90d4178d47f21dd8eb9f238fc55ffaa4ca94506"),
    ("hello", "50605e468e6d6ead913d7d7ccc4687b83ded157cf0a0c5e011eefece12712fa5"),
    ("DeepSeekHashV1", "3fc52c4ae40faa946b1bc0eeb747059a35fba6efaa3d616074e720d6e99436cd"),
    ("salt_1700000000_0", "eb1554b3f98c63cde3da0be54e8e8d6f0328c6a78ebb096aad42b9d406546c45"),
    ("x" * 200, "41b0a09661e724ea607529785d4c01492aa145e7f62f82af0d52cf25cb569f2a"),
    ("中文", "f0b0d3d156593e6e7d49dbfb1e8474e7c2d3c3181ec974aca1e8eeb6233ae011"),
)

# section 2.6 end-to-end vector
E2E = {
    "algorithm": ALGORITHM,
    "challenge": "6bcde51c7319b2f2b5b9834ed639b422f6e1fd0286d59bbaeb3aa7ead86e90a9",
    "salt": "a1b2c3d4e5f6a7b8c9d0",
    "signature": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    "difficulty": 144000,
    "expire_at": 1778657378900,
    "target_path": TARGET_PATH,
    "answer": 31337,
    "header": ("eyJhbGdvcml0aG0iOiJEZWVwU2Vla0hhc2hWMSIsImNoYWxsZW5nZSI6IjZiY2RlNTFjNzMxOWIyZjJiNWI5ODM0ZWQ2Mz"
               "liNDIyZjZlMWZkMDI4NmQ1OWJiYWViM2FhN2VhZDg2ZTkwYTkiLCJzYWx0IjoiYTFiMmMzZDRlNWY2YTdiOGM5ZDAiLCJh"
               "bnN3ZXIiOjMxMzM3LCJzaWduYXR1cmUiOiIwZjFlMmQzYzRiNWE2OTc4ODc5NmE1YjRjM2QyZTFmMCIsInRhcmdldF9wYX"
               "RoIjoiL2FwaS92MC9jaGF0L2NvbXBsZXRpb24ifQ=="),
}


def main():
    bad = 0
    for text, want in VECTORS:
        got = ds_hash_hex(text)
        ok = got == want
        bad += not ok
        print("%s H(%r) = %s" % ("ok  " if ok else "FAIL", text if len(text) < 20 else text[:8] + "...", got))
    e = E2E
    ok = ds_hash_hex(prefix(e["salt"], e["expire_at"]) + str(e["answer"])) == e["challenge"] \
        and response_header(e, e["answer"]) == e["header"]
    bad += not ok
    print("%s end-to-end vector" % ("ok  " if ok else "FAIL"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
