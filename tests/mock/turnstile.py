#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""Turnstile VM: the Python twin of upstream/chatgpt/turnstile.c.

protocols/chatgpt.md section 3.7 describes the sentinel "turnstile" challenge: `dx` is base64 of a
JSON program XOR-ed with the requirements token `p` (section 3.3); the program runs on a tiny
register VM and the token is the base64 produced by opcode 3.  The document names the opcodes but
not every corner of their behaviour, so this module *is* the specification both implementations
follow; upstream/chatgpt/turnstile.h carries the same text in prose.  Python 3 standard library
only.

Public API (used by tests/mock/chatgpt_mock.py and the tests):

    solve(dx, p, *, now=None, random=None) -> str            the token; raises TurnstileError
    run(dx, p, *, now=None, random=None) -> Result            token plus step/skip/work counters
    make_challenge(p, rng, *, noise=True) -> (dx, expected)   a fresh challenge and its answer
    encode_program(program, p) -> dx                          list or JSON text (str/bytes) -> dx
    verify(expected, token) -> bool                           constant-time comparison

Command line (the C unit test drives these through popen):

    turnstile.py gen  [--count N] [--seed S]   lines  p TAB dx TAB expected TAB steps TAB skipped TAB work
    turnstile.py fuzz [--count N] [--seed S]   random, often hostile programs run with the fixed
                                               clock/random below; lines
                                               p TAB dx TAB code TAB token TAB steps TAB skipped TAB work
    turnstile.py solve P DX                    print the token (exit 1 and the error on failure)

Determinism: the VM is deterministic except for window.performance.now and window.Math.random.
make_challenge() only builds programs whose final token does not depend on those two (they are
called, but only into registers the token never reads), so the mock can compare the client's
token with `expected` byte for byte.  FIXED_NOW / FIXED_RANDOM are the values the differential
tests plug into both implementations so that arbitrary programs are comparable too.
"""

import base64
import hmac
import json
import math
import random as _random
import sys
import time

__all__ = ["solve", "run", "make_challenge", "encode_program", "verify", "Result",
           "TurnstileError", "BadInput", "LimitError", "NoToken", "LOCAL_STORAGE_KEYS",
           "FIXED_NOW", "FIXED_RANDOM"]

# ------------------------------------------------------------------ limits (same as turnstile.h)
MAX_DX = 1536 * 1024        # characters of dx (base64, whitespace included)
MAX_P = 64 * 1024           # bytes of p
MAX_STR = 1 << 20           # bytes of any string value (the decoded program text included)
MAX_LIST = 65536            # elements of a list
MAX_MAP = 4096              # entries of a map (members of a JSON object, duplicates counted)
MAX_REGS = 4096             # distinct registers (the 19 predefined ones included)
MAX_DEPTH = 32              # nesting of JSON containers, of to_str/stringify, of calls
MAX_STEPS = 100000          # instructions fetched + calls made
MAX_WORK = 1 << 24          # work units, see _Vm.charge
ELEM_COST = 16              # work units per list/map element created

FIXED_NOW = 1234.5          # performance.now() in the differential tests
FIXED_RANDOM = 0.25         # Math.random() in the differential tests

LOCATION = b"https://chatgpt.com/"
LOCAL_STORAGE_KEYS = (
    b"oai-did",
    b"oai/apps/hasSeenOnboarding",
    b"oai/apps/locale",
    b"oai/apps/capExpiresAt",
    b"statsig.stable_id.1792610830",
    b"statsig.session_id.1792610830",
    b"statsig.last_modified_time.evaluations",
)

# to_str of a string that names a browser object (step 4 of section 3.7)
SPECIAL_NAMES = {
    b"window": b"[object Window]",
    b"window.document": b"[object HTMLDocument]",
    b"window.navigator": b"[object Navigator]",
    b"window.Math": b"[object Math]",
    b"window.Reflect": b"[object Reflect]",
    b"window.performance": b"[object Performance]",
    b"window.localStorage": b"[object Storage]",
    b"window.Object": b"function Object() { [native code] }",
    b"window.Object.create": b"function create() { [native code] }",
    b"window.Object.keys": b"function keys() { [native code] }",
    b"window.Reflect.set": b"function set() { [native code] }",
    b"window.performance.now": b"function now() { [native code] }",
    b"window.Math.random": b"function random() { [native code] }",
}
FUNC_TEXT = b"function () { [native code] }"

# opcodes predefined in registers of the same number
OP_XOR, OP_SET, OP_FINISH, OP_ADD, OP_PROP, OP_CALL, OP_COPY = 1, 2, 3, 5, 6, 7, 8
OP_PARSE, OP_STRINGIFY, OP_CALLSET, OP_ATOB, OP_BTOA = 14, 15, 17, 18, 19
OP_IFEQ, OP_NOP, OP_IFDEF, OP_PROP2 = 20, 21, 23, 24
OPCODES = (1, 2, 3, 5, 6, 7, 8, 14, 15, 17, 18, 19, 20, 21, 23, 24)
REG_PROGRAM, REG_WINDOW, REG_P = 9, 10, 16


# ------------------------------------------------------------------ errors
class TurnstileError(Exception):
    """Base of the errors solve() raises.  .code is BADINPUT, LIMIT or NOTOKEN."""
    code = "ERROR"


class BadInput(TurnstileError):
    code = "BADINPUT"


class LimitError(TurnstileError):
    code = "LIMIT"


class NoToken(TurnstileError):
    code = "NOTOKEN"


class _Skip(Exception):
    """An instruction failed: section 3.7 step 5 says skip it."""


class _Syntax(Exception):
    pass


class _Halt(Exception):
    pass


# ------------------------------------------------------------------ values
class _Undef:
    __slots__ = ()

    def __repr__(self):
        return "UNDEF"


UNDEF = _Undef()


class Func:
    """A reference to an opcode; what the predefined registers hold."""
    __slots__ = ("op",)

    def __init__(self, op):
        self.op = op

    def __repr__(self):
        return "Func(%d)" % self.op

# Value kinds: UNDEF, None (JSON null), bool, float (every number), bytes (every string),
# list (shared, mutable), dict bytes->value (shared, mutable, insertion ordered), Func.


def _is_num(v):
    return type(v) is float


# ------------------------------------------------------------------ helpers shared with C
def js_number(x):
    """ECMAScript Number::toString(10), digits from the shortest %.*e that round-trips."""
    if x != x:
        return b"NaN"
    if x == math.inf:
        return b"Infinity"
    if x == -math.inf:
        return b"-Infinity"
    if x == 0:
        return b"0"
    sign = "-" if x < 0 else ""
    a = -x if x < 0 else x
    for prec in range(1, 18):
        s = "%.*e" % (prec - 1, a)
        if float(s) == a:
            break
    mant, ex = s.split("e")
    digits = mant.replace(".", "").rstrip("0")
    k, n = len(digits), int(ex) + 1
    if k <= n <= 21:
        out = digits + "0" * (n - k)
    elif 0 < n <= 21:
        out = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        es = ("+" if e >= 0 else "-") + str(abs(e))
        out = digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + es
    return (sign + out).encode("ascii")


_B64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64_REV = {c: i for i, c in enumerate(_B64)}
_B64_WS = b" \t\n\f\r"


def b64_decode(s):
    """WHATWG forgiving-base64 decode (what atob does); raises _Skip on failure."""
    s = s.translate(None, _B64_WS)
    if len(s) % 4 == 0:
        if s.endswith(b"=="):
            s = s[:-2]
        elif s.endswith(b"="):
            s = s[:-1]
    if len(s) % 4 == 1:
        raise _Skip("base64: bad length")
    if s.translate(None, _B64):
        raise _Skip("base64: bad character")
    # binascii drops the leftover bits of a short last group, as atob does
    return base64.b64decode(s + b"=" * (-len(s) % 4))


def b64_encode(b):
    return base64.b64encode(b)


def xor_bytes(s, key):
    """s XOR key, the key repeating (key must not be empty)."""
    n = len(s)
    if n == 0:
        return b""
    k = (key * (n // len(key) + 1))[:n]
    return (int.from_bytes(s, "big") ^ int.from_bytes(k, "big")).to_bytes(n, "big")


def _utf8(cp):
    if 0xD800 <= cp <= 0xDFFF:
        cp = 0xFFFD
    return chr(cp).encode("utf-8")


class _Json:
    """Strict RFC 8259 parser over bytes, with the limits and json-c's string semantics.

    Accepted: exactly RFC 8259 (no NaN/Infinity, no comments, no trailing commas, no raw control
    characters in strings, whitespace = space/tab/LF/CR) with three restrictions: an integer
    without fraction or exponent has at most 18 digits, an object key may not contain \\u0000,
    and nesting, list length and object size are capped (LimitError).  Bytes >= 0x80 are taken
    raw; \\u escapes become UTF-8, a valid surrogate pair one code point, a lone surrogate U+FFFD.
    Numbers become floats; an integer literal goes through int first (so -0 is +0).  The C side
    checks the same grammar in one pass and then lets json-c build the tree.
    """

    def __init__(self, vm, text):
        self.vm, self.s, self.i, self.n = vm, text, 0, len(text)
        self.elems = 0

    def parse(self):
        v = self.value(0)
        self.ws()
        if self.i != self.n:
            raise _Syntax("trailing data")
        return v

    def ws(self):
        s, i, n = self.s, self.i, self.n
        while i < n and s[i] in b" \t\n\r":
            i += 1
        self.i = i

    def peek(self):
        return self.s[self.i] if self.i < self.n else -1

    def value(self, depth):
        self.ws()
        c = self.peek()
        if c == 0x7B:  # {
            if depth + 1 > MAX_DEPTH:
                raise LimitError("JSON nested deeper than %d" % MAX_DEPTH)
            self.i += 1
            d = {}
            self.ws()
            if self.peek() == 0x7D:
                self.i += 1
                return d
            count = 0
            while True:
                count += 1
                if count > MAX_MAP:
                    raise LimitError("JSON object with more than %d members" % MAX_MAP)
                self.ws()
                if self.peek() != 0x22:
                    raise _Syntax("key expected")
                k = self.string(True)
                self.ws()
                if self.peek() != 0x3A:
                    raise _Syntax("':' expected")
                self.i += 1
                d[k] = self.value(depth + 1)
                self.elems += 1
                self.ws()
                c = self.peek()
                if c == 0x2C:
                    self.i += 1
                    continue
                if c == 0x7D:
                    self.i += 1
                    return d
                raise _Syntax("',' or '}' expected")
        if c == 0x5B:  # [
            if depth + 1 > MAX_DEPTH:
                raise LimitError("JSON nested deeper than %d" % MAX_DEPTH)
            self.i += 1
            lst = []
            self.ws()
            if self.peek() == 0x5D:
                self.i += 1
                return lst
            count = 1
            while True:
                lst.append(self.value(depth + 1))
                self.elems += 1
                self.ws()
                c = self.peek()
                if c == 0x2C:
                    self.i += 1
                    count += 1
                    if count > MAX_LIST:
                        raise LimitError("JSON array with more than %d elements" % MAX_LIST)
                    continue
                if c == 0x5D:
                    self.i += 1
                    return lst
                raise _Syntax("',' or ']' expected")
        if c == 0x22:
            return self.string(False)
        if c == 0x2D or 0x30 <= c <= 0x39:
            return self.number()
        for word, val in ((b"true", True), (b"false", False), (b"null", None)):
            if self.s.startswith(word, self.i):
                self.i += len(word)
                return val
        raise _Syntax("value expected")

    def number(self):
        s, n, start = self.s, self.n, self.i
        i = start
        if s[i] == 0x2D:
            i += 1
        if i < n and s[i] == 0x30:
            i += 1
            ndig = 1
        elif i < n and 0x31 <= s[i] <= 0x39:
            j = i
            while i < n and 0x30 <= s[i] <= 0x39:
                i += 1
            ndig = i - j
        else:
            raise _Syntax("digit expected")
        integer = True
        if i < n and s[i] == 0x2E:
            integer = False
            i += 1
            j = i
            while i < n and 0x30 <= s[i] <= 0x39:
                i += 1
            if i == j:
                raise _Syntax("digit expected after '.'")
        if i < n and s[i] in b"eE":
            integer = False
            i += 1
            if i < n and s[i] in b"+-":
                i += 1
            j = i
            while i < n and 0x30 <= s[i] <= 0x39:
                i += 1
            if i == j:
                raise _Syntax("digit expected in exponent")
        if integer and ndig > 18:
            raise _Syntax("integer literal longer than 18 digits")
        self.i = i
        tok = s[start:i].decode("ascii")
        return float(int(tok)) if integer else float(tok)

    def _hex4(self, i):
        h = self.s[i:i + 4]
        if len(h) != 4 or any(c not in b"0123456789abcdefABCDEF" for c in h):
            raise _Syntax("bad \\u escape")
        return int(h, 16)

    def string(self, key):
        s, n = self.s, self.n
        i = self.i + 1
        out = bytearray()
        while True:
            if i >= n:
                raise _Syntax("unterminated string")
            c = s[i]
            if c == 0x22:
                i += 1
                break
            if c < 0x20:
                raise _Syntax("control character in string")
            if c != 0x5C:
                out.append(c)
                i += 1
                continue
            if i + 1 >= n:
                raise _Syntax("unterminated escape")
            e = s[i + 1]
            simple = {0x22: 0x22, 0x5C: 0x5C, 0x2F: 0x2F, 0x62: 8, 0x66: 12, 0x6E: 10,
                      0x72: 13, 0x74: 9}
            if e in simple:
                out.append(simple[e])
                i += 2
                continue
            if e != 0x75:
                raise _Syntax("bad escape")
            cp = self._hex4(i + 2)
            if cp == 0 and key:
                raise _Syntax("\\u0000 in an object key")
            i += 6
            if 0xD800 <= cp <= 0xDBFF and s[i:i + 2] == b"\\u":
                lo = self._hex4(i + 2)
                if 0xDC00 <= lo <= 0xDFFF:
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)
                    i += 6
            out += _utf8(cp)
        self.i = i
        return bytes(out)


def _quote(s, out):
    out.append(0x22)
    for c in s:
        if c == 0x22:
            out += b'\\"'
        elif c == 0x5C:
            out += b"\\\\"
        elif c < 0x20:
            short = {8: b"\\b", 12: b"\\f", 10: b"\\n", 13: b"\\r", 9: b"\\t"}.get(c)
            out += short if short else b"\\u%04x" % c
        else:
            out.append(c)
    out.append(0x22)


# ------------------------------------------------------------------ the VM
class Result:
    __slots__ = ("token", "steps", "skipped", "work")

    def __init__(self, token, steps, skipped, work):
        self.token, self.steps, self.skipped, self.work = token, steps, skipped, work

    def __repr__(self):
        return "Result(token=%r, steps=%d, skipped=%d, work=%d)" % (
            self.token, self.steps, self.skipped, self.work)


class _Vm:
    def __init__(self, p, now, rnd):
        self.p = p
        self.now = now
        self.rnd = rnd
        self.regs = {}
        self.steps = 0
        self.skipped = 0
        self.work = 0
        self.token = None

    # -- accounting
    def charge(self, n):
        self.work += n
        if self.work > MAX_WORK:
            raise LimitError("work limit (%d units) exceeded" % MAX_WORK)

    def step(self):
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise LimitError("step limit (%d) exceeded" % MAX_STEPS)

    # -- registers
    @staticmethod
    def key(v):
        if not _is_num(v) or v != v or v in (math.inf, -math.inf):
            raise _Skip("register key is not a finite number")
        return v + 0.0  # -0 -> +0

    def get(self, v):
        return self.regs.get(self.key(v), UNDEF)

    def set(self, k, v):
        if k not in self.regs and len(self.regs) >= MAX_REGS:
            raise LimitError("more than %d registers" % MAX_REGS)
        self.regs[k] = v

    # -- conversions
    def to_str(self, v):
        if type(v) is bytes:
            return SPECIAL_NAMES.get(v, v)
        out = bytearray()
        self._str_into(v, out, 0)
        self.charge(len(out))
        return bytes(out)

    def _put(self, out, b):
        out += b
        if len(out) > MAX_STR:
            raise LimitError("string longer than %d bytes" % MAX_STR)

    def _str_into(self, v, out, depth):
        t = type(v)
        if t is bytes:
            self._put(out, SPECIAL_NAMES.get(v, v))
        elif v is UNDEF:
            self._put(out, b"undefined")
        elif v is None:
            self._put(out, b"null")
        elif t is bool:
            self._put(out, b"true" if v else b"false")
        elif t is float:
            self._put(out, js_number(v))
        elif t is dict:
            self._put(out, b"[object Object]")
        elif t is Func:
            self._put(out, FUNC_TEXT)
        elif t is list:
            if depth + 1 > MAX_DEPTH:
                raise LimitError("to_str nested deeper than %d" % MAX_DEPTH)
            for i, e in enumerate(v):
                if i:
                    self._put(out, b",")
                if e is UNDEF or e is None:
                    continue
                self._str_into(e, out, depth + 1)
        else:  # pragma: no cover
            raise AssertionError("bad value %r" % (v,))

    def stringify(self, v):
        out = bytearray()
        if not self._json_into(v, out, 0):
            return UNDEF
        self.charge(len(out))
        return bytes(out)

    def _json_into(self, v, out, depth):
        t = type(v)
        if v is UNDEF or t is Func:
            return False
        if v is None:
            self._put(out, b"null")
        elif t is bool:
            self._put(out, b"true" if v else b"false")
        elif t is float:
            self._put(out, js_number(v) if math.isfinite(v) else b"null")
        elif t is bytes:
            tmp = bytearray()
            _quote(v, tmp)
            self._put(out, tmp)
        elif t is list:
            if depth + 1 > MAX_DEPTH:
                raise LimitError("stringify nested deeper than %d" % MAX_DEPTH)
            self._put(out, b"[")
            for i, e in enumerate(v):
                if i:
                    self._put(out, b",")
                if not self._json_into(e, out, depth + 1):
                    self._put(out, b"null")
            self._put(out, b"]")
        elif t is dict:
            if depth + 1 > MAX_DEPTH:
                raise LimitError("stringify nested deeper than %d" % MAX_DEPTH)
            self.charge(len(v))  # entries visited, printed or not
            self._put(out, b"{")
            first = True
            for k, e in v.items():
                if e is UNDEF or type(e) is Func:
                    continue
                tmp = bytearray() if first else bytearray(b",")
                _quote(k, tmp)
                tmp.append(0x3A)
                self._put(out, tmp)
                self._json_into(e, out, depth + 1)
                first = False
            self._put(out, b"}")
        return True

    def parse_json(self, text):
        if len(text) > MAX_STR:
            raise LimitError("JSON text longer than %d bytes" % MAX_STR)
        self.charge(len(text))
        p = _Json(self, text)
        v = p.parse()
        self.charge(ELEM_COST * p.elems)
        return v

    @staticmethod
    def equal(a, b, vm):
        ta, tb = type(a), type(b)
        if ta is not tb:
            return False
        if a is UNDEF or a is None:
            return True
        if ta is bool or ta is float:
            return a == b
        if ta is bytes:
            if len(a) != len(b):
                return False
            vm.charge(len(a))
            return a == b
        if ta is Func:
            return a.op == b.op
        return a is b

    # -- calls
    def call(self, f, args, depth):
        self.step()
        if depth + 1 > MAX_DEPTH:
            raise LimitError("calls nested deeper than %d" % MAX_DEPTH)
        if type(f) is Func:
            self.exec_op(f.op, args, depth + 1)
            return UNDEF
        if type(f) is not bytes:
            raise _Skip("not callable")
        if f == b"window.performance.now":
            return float(self.now())
        if f == b"window.Math.random":
            return float(self.rnd())
        if f == b"window.Object.create":
            self.charge(ELEM_COST)
            return {}
        if f == b"window.Object.keys":
            if not args:
                raise _Skip("Object.keys without argument")
            o = args[0]
            if o == b"window.localStorage":
                self.charge(ELEM_COST * len(LOCAL_STORAGE_KEYS))
                return list(LOCAL_STORAGE_KEYS)
            if type(o) is dict:
                self.charge(ELEM_COST * len(o))
                return list(o.keys())
            raise _Skip("Object.keys of a non-object")
        if f == b"window.Reflect.set":
            if len(args) < 3 or type(args[0]) is not dict:
                raise _Skip("Reflect.set needs (map, key, value)")
            obj = args[0]
            k = self.to_str(args[1])
            self.charge(ELEM_COST + len(k))
            if k not in obj and len(obj) >= MAX_MAP:
                raise LimitError("map with more than %d entries" % MAX_MAP)
            obj[k] = args[2]
            return True
        raise _Skip("unknown function")

    def resolve(self, keys):
        return [self.get(k) for k in keys]

    def exec_op(self, op, a, depth):
        """Run opcode op on argument values a (instruction literals, or call arguments)."""
        n = len(a)
        if op == OP_NOP:
            return
        if op == OP_FINISH:
            v = a[0] if n else UNDEF
            self.token = b64_encode(self.to_str(v)).decode("ascii")
            raise _Halt()
        if op == OP_SET:
            if n < 2:
                raise _Skip("arity")
            self.set(self.key(a[0]), a[1])
            return
        if op == OP_COPY:
            if n < 2:
                raise _Skip("arity")
            d = self.key(a[0])
            self.set(d, self.get(a[1]))
            return
        if op == OP_XOR:
            if n < 2:
                raise _Skip("arity")
            d = self.key(a[0])
            kv = self.get(a[1])
            s = self.to_str(self.regs.get(d, UNDEF))
            k = self.to_str(kv)
            if not k:
                raise _Skip("empty XOR key")
            r = xor_bytes(s, k)
            self.charge(len(r))
            self.set(d, r)
            return
        if op == OP_ADD:
            if n < 2:
                raise _Skip("arity")
            d = self.key(a[0])
            vb = self.get(a[1])
            va = self.regs.get(d, UNDEF)
            if type(va) is list:
                if len(va) >= MAX_LIST:
                    raise LimitError("list with more than %d elements" % MAX_LIST)
                self.charge(ELEM_COST)
                va.append(vb)
                return
            if _is_num(va) and _is_num(vb):
                self.set(d, va + vb)
                return
            sa = self.to_str(va)
            sb = self.to_str(vb)
            if len(sa) + len(sb) > MAX_STR:
                raise LimitError("string longer than %d bytes" % MAX_STR)
            r = sa + sb
            self.charge(len(r))
            self.set(d, r)
            return
        if op in (OP_PROP, OP_PROP2):
            if n < 3:
                raise _Skip("arity")
            d = self.key(a[0])
            va = self.get(a[1])
            vb = self.get(a[2])
            ta, tb = type(va), type(vb)
            if ta is bytes and tb is bytes:
                if len(va) + 1 + len(vb) > MAX_STR:
                    raise LimitError("string longer than %d bytes" % MAX_STR)
                r = va + b"." + vb
                self.charge(len(r))
                if r == b"window.document.location":
                    r = LOCATION
                self.set(d, r)
                return
            if ta is dict and tb is bytes:
                self.charge(len(vb))
                self.set(d, va.get(vb, UNDEF))
                return
            if ta is list and tb is float and math.isfinite(vb) and vb >= 0 and vb == math.floor(vb):
                self.set(d, va[int(vb)] if vb < len(va) else UNDEF)
                return
            raise _Skip("bad property access")
        if op == OP_CALL:
            if n < 1:
                raise _Skip("arity")
            f = self.get(a[0])
            args = self.resolve(a[1:])
            self.call(f, args, depth)
            return
        if op == OP_CALLSET:
            if n < 2:
                raise _Skip("arity")
            d = self.key(a[0])
            f = self.get(a[1])
            args = self.resolve(a[2:])
            r = self.call(f, args, depth)
            self.set(d, r)
            return
        if op == OP_IFEQ:
            if n < 3:
                raise _Skip("arity")
            x = self.get(a[0])
            y = self.get(a[1])
            f = self.get(a[2])
            args = self.resolve(a[3:])
            if self.equal(x, y, self):
                self.call(f, args, depth)
            return
        if op == OP_IFDEF:
            if n < 2:
                raise _Skip("arity")
            x = self.get(a[0])
            f = self.get(a[1])
            args = self.resolve(a[2:])
            if x is not UNDEF and x is not None:
                self.call(f, args, depth)
            return
        if op == OP_PARSE:
            if n < 2:
                raise _Skip("arity")
            d = self.key(a[0])
            text = self.to_str(self.get(a[1]))
            try:
                v = self.parse_json(text)
            except _Syntax as e:
                raise _Skip("JSON.parse: %s" % e)
            self.set(d, v)
            return
        if op == OP_STRINGIFY:
            if n < 2:
                raise _Skip("arity")
            d = self.key(a[0])
            self.set(d, self.stringify(self.get(a[1])))
            return
        if op in (OP_ATOB, OP_BTOA):
            if n < 1:
                raise _Skip("arity")
            d = self.key(a[0])
            src = self.get(a[1]) if n >= 2 else self.regs.get(d, UNDEF)
            s = self.to_str(src)
            r = b64_decode(s) if op == OP_ATOB else b64_encode(s)
            if len(r) > MAX_STR:
                raise LimitError("string longer than %d bytes" % MAX_STR)
            self.charge(len(r))
            self.set(d, r)
            return
        raise AssertionError("opcode %d" % op)  # pragma: no cover

    def run(self, program):
        for op in OPCODES:
            self.regs[float(op)] = Func(op)
        self.regs[float(REG_PROGRAM)] = program
        self.regs[float(REG_WINDOW)] = b"window"
        self.regs[float(REG_P)] = self.p
        pc = 0
        try:
            while pc < len(program):
                self.step()
                ins = program[pc]
                pc += 1
                if type(ins) is not list or not ins:
                    self.skipped += 1
                    continue
                self.charge(len(ins) - 1)
                try:
                    f = self.get(ins[0])
                    if type(f) is not Func:
                        raise _Skip("not an opcode")
                    self.exec_op(f.op, ins[1:], 0)
                except _Skip:
                    self.skipped += 1
        except _Halt:
            return self.token
        raise NoToken("the program ended without opcode 3")


def _as_bytes(s, what):
    if isinstance(s, (bytes, bytearray)):
        return bytes(s)
    if isinstance(s, str):
        return s.encode("utf-8")
    raise BadInput("%s must be str or bytes" % what)


def _decode_dx(dx, p):
    if len(dx) > MAX_DX:
        raise LimitError("dx longer than %d characters" % MAX_DX)
    if not p:
        raise BadInput("p is empty")
    if len(p) > MAX_P:
        raise LimitError("p longer than %d bytes" % MAX_P)
    try:
        raw = b64_decode(dx)
    except _Skip:
        raise BadInput("dx is not base64")
    if len(raw) > MAX_STR:
        raise LimitError("decoded dx longer than %d bytes" % MAX_STR)
    return xor_bytes(raw, p)


def run(dx, p, *, now=None, random=None):
    """Solve dx with requirements token p; return a Result (token and counters).

    now/random stand for performance.now() and Math.random(); default: the clock (ms since the
    start of the run) and random.random().
    """
    dx = _as_bytes(dx, "dx")
    p = _as_bytes(p, "p")
    text = _decode_dx(dx, p)
    if now is None:
        t0 = time.perf_counter()
        now = lambda: (time.perf_counter() - t0) * 1000.0  # noqa: E731
    if random is None:
        random = _random.random
    vm = _Vm(p, now, random)
    try:
        vm.charge(len(text))
        parser = _Json(vm, text)
        program = parser.parse()
        vm.charge(ELEM_COST * parser.elems)
    except _Syntax as e:
        raise BadInput("program is not JSON: %s" % e)
    if type(program) is not list:
        raise BadInput("program is not a JSON array")
    try:
        token = vm.run(program)
    except RecursionError:  # pragma: no cover - depth limits make this unreachable
        raise LimitError("recursion")
    return Result(token, vm.steps, vm.skipped, vm.work)


def solve(dx, p, *, now=None, random=None):
    """The turnstile token for dx and p (section 3.7); raises TurnstileError."""
    return run(dx, p, now=now, random=random).token


def verify(expected, token):
    return isinstance(token, str) and hmac.compare_digest(expected.encode(), token.encode())


def encode_program(program, p):
    """dx for a program: a Python list (dumped as compact ASCII JSON) or JSON text (str/bytes)."""
    if isinstance(program, (list, tuple)):
        text = json.dumps(program, separators=(",", ":")).encode("ascii")
    else:
        text = _as_bytes(program, "program")
    return base64.b64encode(xor_bytes(text, _as_bytes(p, "p"))).decode("ascii")


# ------------------------------------------------------------------ challenge generator
_WORDS = ["alpha", "bravo", "cpu", "dpl", "env", "fp", "gpu", "heap", "intl", "jit", "kbd",
          "lang", "mem", "net", "os", "perf", "quota", "res", "scr", "tz", "ua", "vendor",
          "webgl", "x", "y", "z"]
_UNI = ["\u00e9t\u00e9", "\u4e2d\u6587", "\U0001F600", "caf\u00e9", "\u2212"]
_TRICKY = ["a\"b", "back\\slash", "tab\there", "nl\nx", "ctl\u0001\u001f", "del\u007f", "/slash"]


class _Gen:
    """Emits a program and computes, independently of the VM (json/base64 from the standard
    library), the value the program leaves in each register on the final path."""

    def __init__(self, rng, p):
        self.rng, self.p = rng, p
        self.prog = []
        self.used = set(range(0, 25))
        self.ops = {op: op for op in OPCODES}

    def reg(self):
        while True:
            r = self.rng.randrange(25, 1000)
            if r not in self.used:
                self.used.add(r)
                return r

    def op(self, code):
        return self.ops[code]

    def emit(self, code, *args):
        self.prog.append([self.op(code)] + list(args))

    def lit(self, value):
        r = self.reg()
        self.emit(OP_SET, r, value)
        return r

    def word(self):
        return self.rng.choice(_WORDS) + str(self.rng.randrange(1000))

    def remap(self):
        for code in self.rng.sample([1, 2, 5, 6, 7, 8, 14, 15, 17, 19], self.rng.randrange(0, 5)):
            r = self.reg()
            self.emit(OP_COPY, r, self.ops[code])
            self.ops[code] = r
        if self.rng.random() < 0.5:  # 24 is the same as 6
            self.ops[6] = 24 if self.ops[6] == 6 else self.ops[6]

    def path(self, *names):
        """Register holding "window.a.b..." built with opcode 6."""
        r = self.reg()
        self.emit(OP_COPY, r, REG_WINDOW)
        for name in names:
            self.emit(OP_PROP, r, r, self.lit(name))
        return r

    def noise(self, n):
        for _ in range(n):
            k = self.rng.randrange(9)
            if k == 0:
                self.emit(OP_CALLSET, self.reg(), self.path("performance", "now"))
            elif k == 1:
                rr = self.reg()
                self.emit(OP_CALLSET, rr, self.path("Math", "random"))
                self.emit(OP_STRINGIFY, self.reg(), rr)
            elif k == 2:
                self.emit(OP_NOP, self.rng.randrange(100))
            elif k == 3:
                self.prog.append(self.rng.choice([42, "x", None, [], {"a": 1}, [1000 + self.rng.randrange(100)]]))
            elif k == 4:
                self.emit(OP_CALL, self.lit(self.word()))          # not callable: skipped
            elif k == 5:
                self.emit(OP_PARSE, self.reg(), self.lit("{bad json"))
            elif k == 6:
                self.emit(OP_ATOB, self.reg(), self.lit("@@@="))
            elif k == 7:
                rr = self.lit(self.word())
                self.emit(OP_BTOA, rr)
                self.emit(OP_XOR, rr, REG_P)
            else:
                self.emit(OP_ADD, self.lit(self.word()), self.lit(self.rng.randrange(10)))

    def spoil(self, r):
        """Instructions that would change register r if failures were not skipped."""
        for _ in range(self.rng.randrange(1, 3)):
            k = self.rng.randrange(6)
            if k == 0:
                self.emit(OP_PARSE, r, self.lit("[1,2"))
            elif k == 1:
                self.emit(OP_ATOB, r, self.lit("abcde"))
            elif k == 2:
                self.emit(OP_XOR, r, self.lit(""))
            elif k == 3:
                m = self.reg()
                self.emit(OP_CALLSET, m, self.path("Object", "create"))
                self.emit(OP_PROP, r, m, self.lit(3))
            elif k == 4:
                self.emit(OP_CALLSET, r, self.lit("window.alert"))
            else:  # register keys that are not numbers
                self.emit(OP_SET, "r", 1)
                self.emit(OP_COPY, r, "nan")


def _rand_text(rng):
    k = rng.randrange(10)
    if k < 5:
        return rng.choice(_WORDS) + "-" + str(rng.randrange(10 ** 6))
    if k < 7:
        return rng.choice(_TRICKY)
    return rng.choice(_UNI) + rng.choice(_WORDS)


def _rand_json(rng, depth=0):
    k = rng.randrange(6 if depth < 3 else 4)
    if k == 0:
        return rng.randrange(-10 ** 9, 10 ** 9)
    if k == 1:
        return _rand_text(rng)
    if k == 2:
        return rng.choice([True, False, None])
    if k == 3:
        return rng.randrange(-1000, 1000) + rng.choice([0.5, 0.25, 0.125, 0])
    if k == 4:
        return [_rand_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(_WORDS) + str(i): _rand_json(rng, depth + 1) for i in range(rng.randrange(4))}


def _py_js_num(x):
    """Shadow number formatting, only for the easy numbers the generator makes."""
    if isinstance(x, float) and x == int(x):
        x = int(x)
    return str(x)


def _shadow_dumps(v):
    if isinstance(v, bool) or v is None:
        return json.dumps(v)
    if isinstance(v, (int, float)):
        return _py_js_num(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, bytes):  # ASCII (base64 text)
        return json.dumps(v.decode("ascii"))
    if isinstance(v, list):
        return "[" + ",".join(_shadow_dumps(e) for e in v) + "]"
    return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + _shadow_dumps(e)
                          for k, e in v.items()) + "}"


def make_challenge(p, rng, *, noise=True):
    """Return (dx, expected_token) for requirements token p.

    rng: a random.Random (or anything with random/randrange/choice/sample/shuffle).  The program
    collects browser-ish facts into an object (Object.create + Reflect.set), JSON-stringifies it,
    XORs it with p (register 16) and finishes with base64 of the base64 of that.  Along the way it
    exercises every opcode: opcode remapping through copied registers, property paths built with
    opcode 6/24, document.location, Object.keys(localStorage), JSON.parse, list indexing, string
    concatenation with to_str of a list and of a special name, conditional calls (including
    decoys that must not fire), a finishing instruction appended to register 9 at run time, and
    failing instructions that must be skipped.  performance.now/Math.random only feed registers
    the token never reads, so expected_token is exact.
    """
    pb = _as_bytes(p, "p")
    g = _Gen(rng, pb)
    if noise:
        g.noise(rng.randrange(1, 5))
    g.remap()

    entries = []  # (key, shadow value, register)

    def add(key, shadow, r):
        entries.append((key, shadow, r))

    # document.location
    rl = g.path("document", "location")
    add("loc", "https://chatgpt.com/", rl)
    # Object.keys(localStorage)
    rk = g.reg()
    g.emit(OP_CALLSET, rk, g.path("Object", "keys"), g.path("localStorage"))
    keys = [k.decode() for k in LOCAL_STORAGE_KEYS]
    if rng.random() < 0.5:
        add("ls", keys, rk)
    else:  # to_str of a list through concatenation
        rs = g.lit("ls:")
        g.emit(OP_ADD, rs, rk)
        add("ls", "ls:" + ",".join(keys), rs)
    # to_str of a special name
    rm = g.lit("m=")
    if rng.random() < 0.5:
        g.emit(OP_ADD, rm, g.path("Math"))
        add("math", "m=[object Math]", rm)
    else:
        g.emit(OP_ADD, rm, g.path("Math", "random"))
        add("math", "m=function random() { [native code] }", rm)
    if noise:
        g.noise(rng.randrange(0, 3))
    # literals, numbers, sums
    for _ in range(rng.randrange(2, 6)):
        k = rng.randrange(7)
        key = g.word()
        if k == 0:
            t = _rand_text(rng)
            add(key, t, g.lit(t))
        elif k == 1:
            x, y = rng.randrange(-10 ** 6, 10 ** 6), rng.randrange(10 ** 6)
            r = g.lit(x)
            g.emit(OP_ADD, r, g.lit(y))
            add(key, x + y, r)
        elif k == 2:
            a, b = _rand_text(rng), _rand_text(rng)
            r = g.lit(a)
            g.emit(OP_ADD, r, g.lit(b))
            add(key, a + b, r)
        elif k == 3:  # XOR with p, then base64
            t = _rand_text(rng)
            r = g.lit(t)
            g.emit(OP_XOR, r, REG_P)
            g.spoil(r)
            g.emit(OP_BTOA, r)
            add(key, base64.b64encode(xor_bytes(t.encode(), pb)), r)
        elif k == 4:  # JSON.parse of a literal, maybe indexed
            v = _rand_json(rng)
            doc = {"v": v, "w": [v, key]}
            r = g.reg()
            g.emit(OP_PARSE, r, g.lit(json.dumps(doc, ensure_ascii=rng.random() < 0.5)))
            if rng.random() < 0.5:
                r2, r3 = g.reg(), g.reg()
                g.emit(OP_PROP, r2, r, g.lit("w"))
                g.emit(OP_PROP, r3, r2, g.lit(1))
                add(key, key, r3)
            else:
                add(key, doc, r)
        elif k == 5:  # stringify then parse back then btoa of atob round trip
            t = _rand_text(rng)
            r = g.lit(t)
            r2 = g.reg()
            g.emit(OP_STRINGIFY, r2, r)
            g.emit(OP_BTOA, r2)
            g.emit(OP_ATOB, r2)
            add(key, json.dumps(t, ensure_ascii=False), r2)
        else:  # copy chain
            t = _rand_text(rng)
            r = g.lit(t)
            r2 = g.reg()
            g.emit(OP_COPY, r2, r)
            add(key, t, r2)
    rng.shuffle(entries)

    # the object
    ro = g.reg()
    g.emit(OP_CALLSET, ro, g.path("Object", "create"))
    rset = g.path("Reflect", "set")
    shadow = {}
    for key, val, r in entries:
        g.emit(OP_CALL, rset, ro, g.lit(key), r)
        shadow[key] = val
    if noise:
        g.noise(rng.randrange(0, 3))
    rj = g.reg()
    g.emit(OP_STRINGIFY, rj, ro)
    text = _shadow_dumps(shadow).encode("utf-8")
    g.emit(OP_XOR, rj, REG_P)
    g.spoil(rj)
    final = xor_bytes(text, pb)
    if rng.random() < 0.5:
        kx = g.word()
        g.emit(OP_XOR, rj, g.lit(kx))
        final = xor_bytes(final, kx.encode())
    g.emit(OP_BTOA, rj)
    final = base64.b64encode(final)
    if rng.random() < 0.5:
        suffix = g.word()
        g.emit(OP_ADD, rj, g.lit("~" + suffix))
        final += ("~" + suffix).encode()
    expected = base64.b64encode(final).decode("ascii")

    # decoys: conditional finishes that must not fire
    decoy = g.lit("decoy")
    if rng.random() < 0.7:
        g.emit(OP_IFEQ, g.lit("a"), g.lit("b"), OP_FINISH, decoy)
    if rng.random() < 0.7:
        g.emit(OP_IFDEF, g.reg(), OP_FINISH, decoy)
    if rng.random() < 0.5:
        g.emit(OP_IFEQ, g.lit(1), g.lit("1"), OP_FINISH, decoy)

    how = rng.randrange(5)
    if how == 0:
        g.emit(OP_CALL, OP_FINISH, rj)
    elif how == 1:
        g.emit(OP_IFEQ, g.lit("same"), g.lit("same"), OP_FINISH, rj)
    elif how == 2:
        g.emit(OP_IFDEF, rl, OP_FINISH, rj)
    elif how == 3:
        g.emit(OP_CALLSET, g.reg(), OP_FINISH, rj)
    else:  # append the finishing instruction to the running program
        ri = g.reg()
        g.emit(OP_PARSE, ri, g.lit(json.dumps([g.op(OP_CALL), OP_FINISH, rj])))
        g.emit(OP_ADD, REG_PROGRAM, ri)
        if noise:
            g.noise(rng.randrange(0, 3))
    return encode_program(g.prog, pb), expected


# ------------------------------------------------------------------ random programs (fuzz)
def random_program(rng):
    """A random, often failing or hostile program (for the C/Python differential test)."""
    regs = list(range(0, 30))
    prog = []

    def r():
        return rng.choice(regs)

    def val():
        k = rng.randrange(10)
        if k < 3:
            return r()
        if k < 5:
            return rng.choice(["window", "document", "location", "Math", "random", "Object",
                               "create", "keys", "localStorage", "Reflect", "set", "performance",
                               "now", "", "{\"a\":[1,2]}", "[1,", "QUJD", "x\u00e9\u0001", "=="])
        if k == 5:
            return rng.choice([0.5, -0.0, 1e21, 1e-7, 123456789.125, 2 ** 53, -3, 1e300])
        if k == 6:
            return rng.choice([True, False, None])
        if k == 7:
            return [r() for _ in range(rng.randrange(3))]
        if k == 8:
            return {"k": r()}
        return rng.randrange(-2, 40)

    for _ in range(rng.randrange(1, 60)):
        if rng.random() < 0.05:
            prog.append(val())
            continue
        op = rng.choice(list(OPCODES) + [9, 10, 16, 0, 99])
        if op == OP_FINISH and rng.random() < 0.8:
            continue
        ins = [op] + [val() for _ in range(rng.randrange(0, 5))]
        prog.append(ins)
    k = rng.randrange(6)
    if k == 0:  # a self-extending loop
        prog += [[2, 28, 9], [6, 27, 28, 29], [2, 29, 0], [5, 9, 27]]
        prog.insert(0, [2, 29, 0])
    elif k == 1:  # list growth
        prog += [[2, 26, []]] + [[5, 26, 26]] * rng.randrange(1, 40) + [[15, 25, 26], [1, 25, 16]]
    elif k == 2:
        prog += [[7, 3, rng.randrange(0, 30)]]
    return prog


def _fuzz_case(rng):
    p = "gAAAAAC" + base64.b64encode(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))).decode()
    k = rng.randrange(10)
    if k < 7:
        dx = encode_program(random_program(rng), p)
    elif k == 7:
        dx = make_challenge(p, rng)[0]
    elif k == 8:  # raw garbage text
        dx = encode_program(bytes(rng.randrange(256) for _ in range(rng.randrange(0, 40))), p)
    else:
        dx = "".join(rng.choice("ABCab+/= \f!") for _ in range(rng.randrange(0, 20)))
    return p, dx


def _outcome(p, dx):
    try:
        res = run(dx, p, now=lambda: FIXED_NOW, random=lambda: FIXED_RANDOM)
        return "OK", res.token, res.steps, res.skipped, res.work
    except TurnstileError as e:
        return e.code, "-", 0, 0, 0


def _main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("gen", "fuzz"):
        sp = sub.add_parser(name)
        sp.add_argument("--count", type=int, default=50)
        sp.add_argument("--seed", type=int, default=1)
    sp = sub.add_parser("solve")
    sp.add_argument("p")
    sp.add_argument("dx")
    a = ap.parse_args(argv)
    out = sys.stdout
    if a.cmd == "solve":
        try:
            print(solve(a.dx, a.p))
        except TurnstileError as e:
            print("%s: %s" % (e.code, e), file=sys.stderr)
            return 1
        return 0
    rng = _random.Random(a.seed)
    for _ in range(a.count):
        if a.cmd == "gen":
            p = "gAAAAAC" + base64.b64encode(bytes(rng.randrange(256) for _ in range(rng.randrange(20, 400)))).decode()
            dx, expected = make_challenge(p, rng)
            res = run(dx, p, now=lambda: FIXED_NOW, random=lambda: FIXED_RANDOM)
            if res.token != expected:  # the generator and the VM disagree: never print it
                print("generator/VM mismatch for seed %d" % a.seed, file=sys.stderr)
                return 1
            out.write("%s\t%s\t%s\t%d\t%d\t%d\n" % (p, dx, expected, res.steps, res.skipped, res.work))
        else:
            p, dx = _fuzz_case(rng)
            code, token, steps, skipped, work = _outcome(p, dx)
            out.write("%s\t%s\t%s\t%s\t%d\t%d\t%d\n" % (p, dx, code, token, steps, skipped, work))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
