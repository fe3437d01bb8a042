#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""Loopback mock of the ChatGPT web backend (chatgpt.com) for chat2api tests.

Python 3 standard library only.  It speaks the protocol described in
shared/protocols/chatgpt.md (the [C] 2024/early-2025 protocol, with the
section 15 mock spec) and *checks* what the real server checks, so that a client
bug makes a test fail.  No test may reach the internet: point CHATGPT_BASE_URL,
the OAuth URL, the solver URLs and the blob URLs at this server.

RUN
    python3 tests/mock/chatgpt_mock.py --port 0 --port-file /tmp/p \\
        [--host 127.0.0.1] [--access-token AT]... [--refresh-token RT=AT]... \\
        [--config '{"difficulty":"06bf7d"}'] [--verbose]
  The port file is written (atomically) once the server accepts connections.
  SIGTERM/SIGINT stop it.

IN PROCESS
    from chatgpt_mock import ChatGPTMock
    m = ChatGPTMock().start()         # m.port, m.url, m.state(), m.configure(...)
    ...
    m.stop()

CHATGPT.COM ENDPOINTS (section 15; /backend-api needs a known access token, /backend-anon none)
    GET  /                                   HTML, data-build="prod-test", script .../c/TESTBUILD/_/x.js
    POST /backend-{api,anon}/sentinel/chat-requirements
    POST /backend-{api,anon}/conversation    (also /backend-{api,anon}/f/conversation)
    POST /backend-{api,anon}/files, PUT /blob/<id>?...sig=, POST .../files/<id>/uploaded,
    GET  .../files/<id>, .../files/<id>/download, .../conversation/<cid>/attachment/<id>/download,
         .../conversation/<cid>/interpreter/download?message_id=&sandbox_path=, GET /dl/<id>
    POST /oauth/token                        RT -> AT (JSON or form body)
    GET  /backend-api/models, /backend-api/accounts/check/v4-2023-04-27, /backend-api/conversations,
         /backend-api/conversation/<id>; PATCH /backend-api/conversation/<id>
    POST /arkose -> {"solved":true,"token":"arkose-test"}; POST /turnstile -> {"t":"turnstile-test"}
  Known credentials: DEFAULT_ACCESS_TOKEN (a JWT-shaped string), DEFAULT_REFRESH_TOKEN (45 chars)
  -> DEFAULT_REFRESH_ACCESS_TOKEN; more with --access-token / --refresh-token or /_mock/config.

CONTROL API
    GET  /_mock/state    counters and last requests:
           requests{route:n}, paths{"METHOD /path":n}, responses{"route status":n},
           sentinel_tokens_issued, requirements_ok/failed, proofs_ok/failed,
           conversations_served/completed/rejected, client_disconnects, server_aborts, stalls,
           oauth_exchanges{RT:n}, oauth_failures{RT:n}, turnstile_tokens_seen, arkose_tokens_seen,
           uploads, solver_requests{arkose,turnstile}, streams_by_format{v1,old}, streams_by_script,
           last_account_id (chatgpt-account-id of the last conversation), last_conversation{path,
           headers, body, cookies, format, script, markers, prompt, reply_text, conversation_id,
           message_id, messages, sentinel, events, bytes, completed, account_id}, last_sentinel,
           last_rejection{route,status,reason}, rejections[], last_disconnect, last_oauth,
           last_solver, last_upload, recent[], files{}, conversation_ids[], access_tokens[], port
    GET  /_mock/config   the current global configuration
    POST /_mock/config   merge a JSON object into the configuration. Keys: those of DEFAULT_CONFIG
                         below, plus access_tokens (replace), add_access_tokens, expired_access_tokens,
                         refresh_tokens {RT: AT | null}, reset: true (start-up config first). Unknown keys
                         are refused with 400. by_token {"<AT>"|"anon": {knob: value}} overrides
                         knobs for one credential (isolates parallel tests; the only way to aim a
                         sentinel fault at one client, since the sentinel body has no user text).
                         Fault statuses take an optional <key>_times = N (fail N requests, then heal).
    POST /_mock/reset    reset counters; {"config":true} also restores the start-up config
                         (defaults + --config),
                         {"all":true} also forgets issued tokens, conversations and files

PER-REQUEST MARKERS (in the text of the last user message of a conversation request; they are
stripped from the echoed prompt, "You said: <prompt>")
    [[script:NAME]]   one of SCRIPTS (default: config "script", i.e. plain)
    [[fail:CODE]]     answer CODE (401/403/429/500 JSON, 502/503 Cloudflare HTML) instead of a stream
    [[cf]]            Cloudflare challenge page (403, body contains cf_chl_opt)
    [[split:none|bytes|1|random|coalesce|N]]   HTTP chunking of the stream (bytes = 1-byte chunks)
    [[drip:MS]]  delay between SSE events        [[delay:MS]]  delay before the response head
    [[close:N]]  FIN after N events, no last chunk   [[reset:N]]  RST after N events
    [[close_bytes:N]]  FIN after N body bytes   [[stall:N]]  stop writing after N events, keep open
    [[long:N]]  N extra words in the reply      [[crlf]]  CRLF line ends   [[ascii]]  \\uXXXX escapes
    [[clears_in:S]]  for script rate_limit      [[title:none]]  no title_generation event

Every rejection carries a header `x-mock-reason` and is recorded in
/_mock/state (last_rejection, rejections) so a failing client test is easy to
diagnose.
"""

import argparse
import base64
import bisect
import copy
import gzip
import hashlib
import json
import os
import random
import re
import select
import signal
import socket
import ssl
import struct
import sys
import threading
import time
import uuid
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import turnstile  # noqa: E402  (the section 3.7 challenge VM, shared with the C tests)
import mockbase  # noqa: E402  (tool answers)
from urllib.parse import parse_qs, urlsplit

# --------------------------------------------------------------------------- constants

OAUTH_CLIENT_ID = "pdlLIX2Y72MIl2rhLhTE9VV9bN905kBh"
REDIRECT_URI_RE = re.compile(
    r"^com\.openai\.chat://(?:auth0\.openai\.com|auth\.openai\.com)/ios/com\.openai\.chat/callback$")
UNUSUAL_ACTIVITY = "Unusual activity has been detected from your device. Try again later."
STREAM_ERROR_TEXT = ("Our systems have detected unusual activity from your device. "
                     "Please try again later.")
POW_FALLBACK_PREFIX = "wQ8Lk5FbGpA2NcR9dShT6gYjU7VxZ4D"
MAX_BODY = 64 * 1024 * 1024
MAX_CONVERSATIONS = 5000
KNOWN_ROLES = {"user", "assistant", "system", "tool", "critic", "developer"}
KNOWN_ACTIONS = {"next", "variant", "continue"}
USE_CASES = {"multimodal", "my_files", "ace_upload"}
TEXT_SIZES = (3, 5, 2, 7, 4, 6, 1, 8)      # code points per streamed text delta (cycled)
MARKER_RE = re.compile(r"\[\[([a-z_]+)(?::([^\]]*))?\]\]")


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_jwt(sub="user-mock", exp=4102444800, account_id="acc-1", plan="plus", email="mock@example.com"):
    """A JWT-shaped access token (starts with eyJhbGciOi). The signature is fake."""
    header = {"alg": "RS256", "kid": "mock", "typ": "JWT"}
    payload = {
        "https://api.openai.com/auth": {"chatgpt_account_id": account_id, "chatgpt_plan_type": plan,
                                        "chatgpt_user_id": sub, "user_id": sub},
        "https://api.openai.com/profile": {"email": email, "email_verified": True},
        "iss": "https://auth.openai.com", "sub": "auth0|" + sub, "aud": ["https://api.openai.com/v1"],
        "iat": 1700000000, "nbf": 1700000000, "exp": exp,
        "scope": "openid email profile offline_access model.request model.read organization.read",
    }
    return ".".join([_b64url(json.dumps(header, separators=(",", ":")).encode()),
                     _b64url(json.dumps(payload, separators=(",", ":")).encode()),
                     _b64url(b"mock-signature-" + sub.encode())])


DEFAULT_ACCESS_TOKEN = make_jwt("user-mock")
DEFAULT_REFRESH_TOKEN = "rt-mock-" + "0" * 36 + "1"          # 45 characters (section 7.1)
DEFAULT_REFRESH_ACCESS_TOKEN = make_jwt("user-mock-rt")

DEFAULT_CONFIG = {
    # sentinel
    "persona": "chatgpt-freeaccount",    # persona for authenticated callers (anon: chatgpt-noauth)
    "pow_required": True,
    "difficulty": "0fffff",              # hex prefix bound; "000000" = practically unsolvable
    "seed": None,                        # fixed PoW seed (string) or null = random
    "turnstile_required": False,
    "turnstile_dx": None,                # null = generated (xor of a tiny program with p)
    "arkose_required": False,
    "arkose_dx": None,
    "enforce_turnstile": True,           # conversation needs the turnstile header if it was required
    "enforce_arkose": True,
    "turnstile_expected": None,          # exact turnstile token required (null = any non-empty)
    "arkose_expected": None,
    "require_sentinel": True,            # false = accept conversations without sentinel headers
    "bind_token": True,                  # chat token must be used with the same AT and device id
    "token_ttl_s": 540,
    "token_single_use": False,
    "config_len": 18,                    # element count of the PoW config array (int or list of ints)
    "strict_p": True,                    # config[3]/[9] nonce relation and config[4] == User-Agent
    "set_oai_sc": True,
    "require_oai_sc": False,             # conversation must replay the oai-sc cookie
    # transport
    "gzip": True,                        # gzip non-stream bodies when the client accepts gzip
    # faults (status 0 = none; *_times = how many requests get it, null = all)
    "sentinel_status": 0, "sentinel_status_times": None,
    "conversation_status": 0, "conversation_status_times": None,
    "home_status": 0, "home_status_times": None,
    "files_status": 0, "files_status_times": None,
    "oauth_status": 0, "oauth_status_times": None,
    "cf_challenge": [],                  # endpoints answering the Cloudflare page: home, sentinel,
    "cf_challenge_times": None,          #   conversation, files, oauth (or "all")
    "sentinel_delay_ms": 0,
    "conversation_delay_ms": 0,          # delay before the response head of a conversation
    # stream shape
    "script": "plain",                   # default script when no [[script:...]] marker
    "split": "none",                     # none | bytes | random | coalesce | <int>
    "split_seed": 1,
    "random_split_max": 16,
    "drip_ms": 0,                        # delay between SSE events
    "close_after_events": None,          # abort the stream after N SSE events
    "close_after_bytes": None,           # abort after N body bytes (may cut a line / UTF-8)
    "close_mode": "fin",                 # fin (no last chunk, FIN) | reset (RST)
    "stall_after_events": None,          # stop writing after N events, keep the socket open
    "stall_max_s": 300,
    "crlf": False,                       # CRLF line endings in the SSE stream
    "json_ascii": False,                 # \\uXXXX escapes (surrogate pairs) instead of raw UTF-8
    "deterministic": None,               # int seed: ids and times derived from seed + request body
    "clears_in": 30,                     # rate_limit script
    "long_words": 0,                     # extra words appended to the plain reply
    "title": True,                       # emit title_generation for new conversations
    # files / conversations
    "index_pending_polls": 0,            # GET files/<id> says "pending" this many times first
    "blob_reject_auth": True,            # PUT to the blob URL must not carry Authorization
    "strict_files": True,                # image pointers/attachments must be uploaded files
    "strict_parent": True,               # parent_message_id must exist in a continued conversation
    # home page
    "home_build": "prod-test",
    "home_dpl_script": True,             # include the /_next/static/c/TESTBUILD/_/x.js script
    "site_page": "ok",                   # chatgpt_site_mock: "nologin" = the logged-out page
    # oauth / solvers
    "oauth_client_ids": [OAUTH_CLIENT_ID],
    "arkose_solved": True,
    # per-token overrides: {"<access token>" or "anon": {knob: value}}
    "by_token": {},
}
FAULT_KEYS = ("sentinel_status", "conversation_status", "home_status", "files_status", "oauth_status")
SPECIAL_CONFIG_KEYS = {"access_tokens", "add_access_tokens", "expired_access_tokens",
                       "refresh_tokens", "reset"}
SCRIPTS = ("plain", "unicode", "long", "code", "image", "sediment", "citation", "o1", "thoughts",
           "moderation", "error", "error_mid", "no_in_progress", "rate_limit", "max_tokens",
           "interrupted", "empty")
CF_ENDPOINTS = {"home", "sentinel", "conversation", "files", "oauth"}


class ClientGone(Exception):
    """The client closed the connection while we were streaming."""


class Abort(Exception):
    """Close the stream on purpose (knob)."""


# --------------------------------------------------------------------------- PoW helpers

def pow_accepts(seed, difficulty, b64):
    """Section 3.2: sha3-512(seed || b64); accept when the hex prefix of the hash is <= the
    difficulty (inclusive hex rule; it accepts everything the strict byte rule accepts)."""
    d = str(difficulty).lower()
    h = hashlib.sha3_512((seed + b64).encode("utf-8")).hexdigest()
    return h[:len(d)] <= d


def decode_config_token(token, prefix):
    """Strip prefix (and an optional ~S suffix), base64-decode, JSON-parse.
    Returns (b64, list) or raises ValueError with a reason."""
    if not isinstance(token, str) or not token.startswith(prefix):
        raise ValueError("token does not start with %s" % prefix)
    rest = token[len(prefix):]
    if rest.endswith("~S"):
        rest = rest[:-2]
    if rest.startswith(POW_FALLBACK_PREFIX):
        raise ValueError("token is the unsolved fallback (%s...)" % POW_FALLBACK_PREFIX)
    try:
        raw = base64.b64decode(rest, validate=True)
    except Exception:
        raise ValueError("token body is not standard base64")
    try:
        cfg = json.loads(raw.decode("utf-8"))
    except Exception:
        raise ValueError("token body is not UTF-8 JSON")
    if not isinstance(cfg, list):
        raise ValueError("token body is not a JSON array")
    return rest, cfg


def check_config_array(cfg, want_len, strict, user_agent):
    lens = want_len if isinstance(want_len, list) else [want_len]
    if len(cfg) not in lens:
        raise ValueError("config array has %d elements, expected %s" % (len(cfg), lens))
    if strict and len(cfg) == 18:
        i, j = cfg[3], cfg[9]
        if not (isinstance(i, int) and isinstance(j, int)) or isinstance(i, bool) or isinstance(j, bool):
            raise ValueError("config[3] and config[9] must be JSON integers")
        if j != i >> 1:
            raise ValueError("config[9] (%r) != config[3] >> 1 (%r)" % (j, i >> 1))
        if user_agent is not None and cfg[4] != user_agent:
            raise ValueError("config[4] (navigator.userAgent) differs from the User-Agent header")


# --------------------------------------------------------------------------- JSON patch

def _ptr_tokens(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise ValueError("bad pointer %r" % path)
    return [t.replace("~1", "/").replace("~0", "~") for t in path[1:].split("/")]


def apply_op(doc, p, o, v):
    """Apply one v1 operation to doc; returns the (possibly new) root."""
    if o == "patch":
        for sub in v:
            doc = apply_op(doc, sub.get("p", ""), sub.get("o"), sub.get("v"))
        return doc
    toks = _ptr_tokens(p)
    if not toks:
        if o in ("add", "replace"):
            return copy.deepcopy(v)
        if o == "append" and isinstance(doc, dict) and isinstance(v, dict):
            doc.update(copy.deepcopy(v))
            return doc
        raise ValueError("unsupported root op %r" % o)
    parent = doc
    for t in toks[:-1]:
        parent = parent[int(t)] if isinstance(parent, list) else parent[t]
    key = toks[-1]
    if isinstance(parent, list):
        idx = len(parent) if key == "-" else int(key)
        if o == "add":
            parent.insert(idx, copy.deepcopy(v))
            return doc
        cur = parent[idx]
    else:
        idx = key
        cur = parent.get(key)
    if o == "append":
        if isinstance(cur, str) and isinstance(v, str):
            parent[idx] = cur + v
        elif isinstance(cur, list):
            parent[idx] = cur + copy.deepcopy(v if isinstance(v, list) else [v])
        elif isinstance(cur, dict) and isinstance(v, dict):
            cur.update(copy.deepcopy(v))
        else:
            parent[idx] = copy.deepcopy(v)
    elif o in ("add", "replace"):
        parent[idx] = copy.deepcopy(v)
    elif o == "remove":
        del parent[idx]
    elif o == "truncate":
        parent[idx] = cur[:v]
    else:
        raise ValueError("unknown op %r" % o)
    return doc


# --------------------------------------------------------------------------- tiny PNG

def make_png(w=8, h=8, rgb=(40, 160, 220)):
    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))
    raw = b"".join(b"\x00" + bytes(rgb) * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


CF_CHALLENGE_HTML = """<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8"><meta name="robots" content="noindex,nofollow">
</head><body><div class="main-wrapper" role="main"><div class="main-content">
<h1 class="zone-name-title h1">chatgpt.com</h1><h2 class="h2" id="challenge-running">Checking if the site connection is secure</h2>
<noscript><div class="h2"><span id="challenge-error-text">Enable JavaScript and cookies to continue</span></div></noscript>
</div></div><script>(function(){window._cf_chl_opt={cvId: '3',cZone: "chatgpt.com",cType: 'managed',cNounce: '%d',
cRay: '%s',cHash: '%s',cUPMDTk: "\\/?__cf_chl_tk=mock",cFPWv: 'g',cTTimeMs: '1000',cMTimeMs: '390000'};
var cpo = document.createElement('script');cpo.src = '/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1?ray=%s';
window._cf_chl_opt.cOgUHash = location.hash;document.getElementsByTagName('head')[0].appendChild(cpo);}());</script>
<div class="footer" role="contentinfo"><div class="footer-inner"><div class="clearfix diagnostic-wrapper">
<div class="ray-id">Ray ID: <code>%s</code></div></div><div class="text-center" id="footer-text">Performance &amp; security by
<a rel="noopener noreferrer" href="https://www.cloudflare.com" target="_blank">Cloudflare</a></div></div></div></body></html>
"""

CF_5XX_HTML = """<!DOCTYPE html>
<html lang="en-US"><head><title>chatgpt.com | %d: %s</title><meta charset="UTF-8" /></head>
<body><div id="cf-wrapper"><div id="cf-error-details"><header><h1><span class="cf-error-type">Error</span>
<span class="cf-error-code">%d</span></h1><h2 class="cf-subheadline">%s</h2></header>
<div class="cf-error-footer"><p>Cloudflare Ray ID: <strong>%s</strong></p></div></div></div></body></html>
"""


# --------------------------------------------------------------------------- state

class MockState:
    def __init__(self, access_tokens=(), refresh_tokens=None, config=None):
        self.lock = threading.RLock()
        self.config = copy.deepcopy(DEFAULT_CONFIG)
        self.access_tokens = {DEFAULT_ACCESS_TOKEN, DEFAULT_REFRESH_ACCESS_TOKEN}
        self.access_tokens.update(access_tokens)
        self.expired_tokens = set()
        self.refresh_tokens = {DEFAULT_REFRESH_TOKEN: DEFAULT_REFRESH_ACCESS_TOKEN}
        self.refresh_tokens.update(refresh_tokens or {})
        self.access_tokens.update(self.refresh_tokens.values())
        self.tokens = {}          # chat-requirements token -> record
        self.conversations = {}   # conversation id -> record
        self.files = {}           # file id -> record
        self.reset_counters()
        if config:
            self.configure(config)
        self.base_config = copy.deepcopy(self.config)     # what a config reset returns to

    # ---- counters
    def reset_counters(self):
        with self.lock:
            self.c = {
                "requests": {}, "paths": {}, "responses": {},
                "sentinel_tokens_issued": 0, "requirements_ok": 0, "requirements_failed": 0,
                "proofs_ok": 0, "proofs_failed": 0,
                "conversations_served": 0, "conversations_completed": 0, "conversations_rejected": 0,
                "client_disconnects": 0, "server_aborts": 0, "stalls": 0,
                "oauth_exchanges": {}, "oauth_failures": {},
                "turnstile_tokens_seen": 0, "arkose_tokens_seen": 0,
                "uploads": 0, "solver_requests": {"arkose": 0, "turnstile": 0},
                "streams_by_format": {"v1": 0, "old": 0}, "streams_by_script": {},
            }
            self.last = {"account_id": None, "conversation": None, "sentinel": None, "rejection": None,
                         "disconnect": None, "oauth": None, "solver": None, "upload": None}
            self.rejections = []
            self.recent = []
            self.token_uses = []

    def bump(self, key, sub=None, n=1):
        with self.lock:
            if sub is None:
                self.c[key] = self.c.get(key, 0) + n
            else:
                d = self.c.setdefault(key, {})
                d[sub] = d.get(sub, 0) + n

    def record_token_use(self, authz, account, route="conversation"):
        """Every conversation attempt with the Bearer it carried (tests of
        pool rotation, error lists and deletions read token_uses)."""
        tok = None
        if authz and authz.startswith("Bearer "):
            tok = authz[7:].strip()
        with self.lock:
            self.token_uses.append({"t": time.time(), "token": tok, "account": account,
                                    "route": route})
            del self.token_uses[:-5000]

    def record_request(self, route, method, path):
        """Counted when the request has been read, before it is answered."""
        with self.lock:
            if route.startswith("mock_"):
                return
            self.bump("requests", route)
            self.bump("paths", "%s %s" % (method, path))

    def record_response(self, route, method, path, status):
        """Counted when the status line is sent (0 = the connection ended without one)."""
        with self.lock:
            if route.startswith("mock_"):
                return
            self.bump("responses", "%s %d" % (route, status))
            self.recent.append({"t": round(time.time(), 3), "method": method, "path": path,
                                "route": route, "status": status})
            del self.recent[:-100]

    def record_rejection(self, route, status, reason):
        with self.lock:
            r = {"t": round(time.time(), 3), "route": route, "status": status, "reason": reason}
            self.last["rejection"] = r
            self.rejections.append(r)
            del self.rejections[:-50]
            if route == "conversation":
                self.c["conversations_rejected"] += 1

    # ---- configuration
    def configure(self, obj):
        if not isinstance(obj, dict):
            raise ValueError("config must be a JSON object")
        with self.lock:
            for k in obj:
                if k not in DEFAULT_CONFIG and k not in SPECIAL_CONFIG_KEYS:
                    raise ValueError("unknown config key %r" % k)
            if obj.get("reset"):
                self.config = copy.deepcopy(getattr(self, "base_config", DEFAULT_CONFIG))
            for k, v in obj.items():
                if k == "reset":
                    continue
                if k == "access_tokens":
                    self.access_tokens = set(v)
                elif k == "add_access_tokens":
                    self.access_tokens.update(v)
                elif k == "expired_access_tokens":
                    self.expired_tokens = set(v)
                elif k == "refresh_tokens":
                    for rt, at in v.items():
                        if at is None:
                            self.refresh_tokens.pop(rt, None)
                        else:
                            self.refresh_tokens[rt] = at
                elif k == "by_token":
                    if not isinstance(v, dict):
                        raise ValueError("by_token must be an object")
                    for tok, over in v.items():
                        if over is None:
                            self.config["by_token"].pop(tok, None)
                            continue
                        over = copy.deepcopy(over)
                        for kk in over:
                            if kk not in DEFAULT_CONFIG or kk == "by_token":
                                raise ValueError("unknown by_token key %r" % kk)
                        if "cf_challenge" in over:
                            over["cf_challenge"] = self._cf_list(over["cf_challenge"])
                        self.config["by_token"].setdefault(tok, {}).update(over)
                elif k == "cf_challenge":
                    self.config[k] = self._cf_list(v)
                else:
                    self.config[k] = copy.deepcopy(v)
            return self.public_config()

    @staticmethod
    def _cf_list(v):
        if v in (None, False, "", []):
            return []
        if v is True or v == "all":
            return sorted(CF_ENDPOINTS)
        if isinstance(v, str):
            v = [v]
        for e in v:
            if e not in CF_ENDPOINTS:
                raise ValueError("cf_challenge endpoint %r not in %s" % (e, sorted(CF_ENDPOINTS)))
        return list(v)

    def public_config(self):
        with self.lock:
            c = copy.deepcopy(self.config)
            c["access_tokens"] = sorted(self.access_tokens)
            c["expired_access_tokens"] = sorted(self.expired_tokens)
            c["refresh_tokens"] = dict(self.refresh_tokens)
            return c

    def effective(self, auth_id):
        with self.lock:
            cfg = copy.deepcopy(self.config)
            over = self.config["by_token"].get(auth_id or "anon")
            if over:
                cfg.update(copy.deepcopy(over))
            return cfg

    def _layers(self, auth_id):
        over = self.config["by_token"].get(auth_id or "anon")
        return [x for x in (over, self.config) if x is not None]

    def take_fault(self, key, auth_id):
        """Status to inject for key (0 = none); consumes one of key_times if set."""
        with self.lock:
            for layer in self._layers(auth_id):
                st = layer.get(key)
                if not st:
                    continue
                tk = key + "_times"
                times = layer.get(tk)
                if times is not None:
                    if times <= 1:
                        layer[key] = 0
                        layer[tk] = None
                        if times < 1:
                            continue
                    else:
                        layer[tk] = times - 1
                return int(st)
            return 0

    def take_cf(self, endpoint, auth_id):
        with self.lock:
            for layer in self._layers(auth_id):
                eps = self._cf_list(layer.get("cf_challenge"))
                if endpoint not in eps:
                    continue
                times = layer.get("cf_challenge_times")
                if times is not None:
                    if times <= 1:
                        layer["cf_challenge"] = []
                        layer["cf_challenge_times"] = None
                        if times < 1:
                            continue
                    else:
                        layer["cf_challenge_times"] = times - 1
                return True
            return False

    def snapshot(self):
        with self.lock:
            s = copy.deepcopy(self.c)
            s["last_account_id"] = self.last["account_id"]
            s["last_conversation"] = copy.deepcopy(self.last["conversation"])
            s["last_sentinel"] = copy.deepcopy(self.last["sentinel"])
            s["last_rejection"] = copy.deepcopy(self.last["rejection"])
            s["last_disconnect"] = copy.deepcopy(self.last["disconnect"])
            s["last_oauth"] = copy.deepcopy(self.last["oauth"])
            s["last_solver"] = copy.deepcopy(self.last["solver"])
            s["last_upload"] = copy.deepcopy(self.last["upload"])
            s["rejections"] = copy.deepcopy(self.rejections)
            s["recent"] = copy.deepcopy(self.recent)
            s["token_uses"] = copy.deepcopy(self.token_uses)
            s["tokens_outstanding"] = len(self.tokens)
            s["conversation_ids"] = list(self.conversations)
            s["files"] = {fid: {k: v for k, v in f.items() if k != "data"}
                          for fid, f in self.files.items()}
            s["access_tokens"] = sorted(self.access_tokens)
            s["scripts"] = list(SCRIPTS)
            return s


# --------------------------------------------------------------------------- script building

class Ctx:
    """Everything a script needs to produce one conversation turn."""

    def __init__(self, rng, t0, cid, model, user_doc, user_id, prompt, attachments, cfg, base_url,
                 new_conv, register_file, register_sandbox, markers):
        self.rng, self.t, self.cid, self.model = rng, t0, cid, model
        self.user_doc, self.user_id, self.prompt, self.attachments = user_doc, user_id, prompt, attachments
        self.cfg, self.base_url, self.new_conv, self.markers = cfg, base_url, new_conv, markers
        self.register_file, self.register_sandbox = register_file, register_sandbox
        self.ops = []
        self.answer = ""
        self.last_id = user_id

    def uid(self):
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def token(self, n=24, alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"):
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def now(self):
        self.t += 0.137
        return round(self.t, 6)

    # ---- documents
    def msg(self, role, content, status="in_progress", name=None, recipient="all", end_turn=None,
            metadata=None, mid=None):
        mid = mid or self.uid()
        meta = {"citations": [], "content_references": [], "message_type": "next",
                "model_slug": self.model, "default_model_slug": "auto", "parent_id": self.last_id,
                "model_switcher_deny": []}
        if metadata:
            meta.update(metadata)
        self.last_id = mid
        return {"message": {"id": mid, "author": {"role": role, "name": name, "metadata": {}},
                            "create_time": self.now(), "update_time": None, "content": content,
                            "status": status, "end_turn": end_turn, "weight": 1.0, "metadata": meta,
                            "recipient": recipient, "channel": None},
                "conversation_id": self.cid, "error": None}

    # ---- ops
    def new(self, doc):
        if doc is None:                 # no user message to echo (action continue/variant)
            return None
        self.ops.append(("new", doc))
        return doc["message"]["id"]

    def op(self, p, o, v):
        self.ops.append(("ops", [{"p": p, "o": o, "v": v}]))

    def patch(self, subs):
        self.ops.append(("ops", subs))

    def raw(self, obj, fmt=None):
        self.ops.append(("raw", obj, fmt))

    def stream_text(self, path, text, keep_last=False):
        """Append text in small pieces; returns the last piece if keep_last (to put in the
        final patch), else ''."""
        pieces = chunk_text(text)
        last = ""
        if keep_last and pieces:
            last = pieces.pop()
        for pc in pieces:
            self.op(path, "append", pc)
        return last

    def finish(self, last_piece="", finish_type="stop", end_turn=True, extra_meta=None):
        subs = []
        if last_piece:
            subs.append({"p": "/message/content/parts/0", "o": "append", "v": last_piece})
        fd = {"type": finish_type}
        if finish_type == "stop":
            fd["stop_tokens"] = [200002]
        meta = {"is_complete": True, "finish_details": fd}
        if extra_meta:
            meta.update(extra_meta)
        subs += [{"p": "/message/status", "o": "replace", "v": "finished_successfully"},
                 {"p": "/message/end_turn", "o": "replace", "v": end_turn},
                 {"p": "/message/metadata", "o": "append", "v": meta}]
        self.patch(subs)

    def epilogue(self, title=True):
        self.raw({"type": "server_ste_metadata",
                  "metadata": {"conduit_prewarmed": False, "fast_convo": True, "warmup_state": "warm",
                               "is_first_turn": self.new_conv, "model_slug": self.model,
                               "did_auto_switch_to_reasoning": False, "is_search": None,
                               "did_prompt_contain_image": bool(self.attachments),
                               "message_id": self.last_id, "request_id": self.uid(),
                               "turn_exchange_id": self.uid()},
                  "conversation_id": self.cid}, "v1")
        self.raw({"type": "message_stream_complete", "conversation_id": self.cid}, "v1")
        if title and self.new_conv and self.cfg.get("title", True) and \
                self.markers.get("title") != "none":
            self.raw({"type": "title_generation", "title": make_title(self.prompt),
                      "conversation_id": self.cid})
        self.ops.append(("done",))

    def assistant_text(self, metadata=None):
        return self.msg("assistant", {"content_type": "text", "parts": [""]}, metadata=metadata)


def chunk_text(text):
    out, i, k = [], 0, 0
    while i < len(text):
        n = TEXT_SIZES[k % len(TEXT_SIZES)]
        out.append(text[i:i + n])
        i += n
        k += 1
    return out


def make_title(prompt):
    words = prompt.split()
    return ("Mock: " + " ".join(words[:5])) if words else "Mock conversation"


PLAIN_TAIL = ("Mock reply from the ChatGPT web backend — 你好，世界！こんにちは。안녕하세요. "
              "🌍🚀 naïve café, 👩‍💻 and 🇯🇵.")


def plain_text(ctx, extra_words=0):
    s = "You said: " + ctx.prompt
    for a in ctx.attachments:
        s += "\n[attachment %s %s]" % (a.get("id"), a.get("mime_type") or a.get("kind") or "")
    s += "\n\n" + PLAIN_TAIL
    if extra_words:
        s += "\n\n" + " ".join("w%d" % i for i in range(1, extra_words + 1))
    return s


def s_plain(ctx, text=None, finish_type="stop", end_turn=True):
    if text is None:
        text = getattr(ctx, "tool_text", None)
    if text is None:
        words = ctx.cfg.get("long_words") or 0
        if "long" in ctx.markers:
            words = int(ctx.markers["long"] or 200)
        text = plain_text(ctx, words)
    ctx.new(ctx.user_doc)
    aid = ctx.new(ctx.assistant_text())
    pieces = chunk_text(text)
    last = pieces.pop() if len(pieces) > 1 else ""
    for n, pc in enumerate(pieces):
        ctx.op("/message/content/parts/0", "append", pc)
        if n == 0:
            ctx.raw({"type": "message_marker", "conversation_id": ctx.cid, "message_id": aid,
                     "marker": "user_visible_token", "event": "first"}, "v1")
    ctx.finish(last, finish_type=finish_type, end_turn=end_turn)
    ctx.answer = text
    ctx.epilogue()


def s_unicode(ctx):
    text = ("You said: " + ctx.prompt + "\n\nUnicode: 中文测试，日本語のテキスト，한국어 텍스트. "
            "Emoji: 😀😃😄😁 👨‍👩‍👧‍👦 🏳️‍🌈 🇫🇷🇩🇪 ✅ ❤️. Math: ∑∫√∞ ≤ ≥ ≠. "
            "Combining: é (e\u0301), Zalgo-ish: a\u0300\u0301\u0302. RTL: שלום مرحبا. "
            "Astral: 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𐍈 🀄.")
    s_plain(ctx, text=text)


def s_long(ctx):
    s_plain(ctx, text=plain_text(ctx, int(ctx.markers.get("long") or 400)))


def s_code(ctx):
    code = ("import csv\nrows = [[1, 2], [3, 4]]\n"
            "with open('/mnt/data/result.csv', 'w', newline='') as f:\n"
            "    csv.writer(f).writerows(rows)\nprint(sum(map(sum, rows)))")
    ctx.new(ctx.user_doc)
    ctx.new(ctx.msg("assistant", {"content_type": "code", "language": "python",
                                  "response_format_name": None, "text": ""}, recipient="python"))
    ctx.stream_text("/message/content/text", code)
    ctx.patch([{"p": "/message/status", "o": "replace", "v": "finished_successfully"},
               {"p": "/message/end_turn", "o": "replace", "v": False},
               {"p": "/message/metadata", "o": "append",
                "v": {"is_complete": True, "finish_details": {"type": "stop", "stop_tokens": [200007]}}}])
    ctx.new(ctx.msg("tool", {"content_type": "execution_output", "text": ""}, name="python",
                    metadata={"aggregate_result": {"status": "running", "run_id": ctx.uid()}}))
    ctx.op("/message/content/text", "append", "10\n")
    ctx.patch([{"p": "/message/status", "o": "replace", "v": "finished_successfully"},
               {"p": "/message/metadata/aggregate_result/status", "o": "replace", "v": "success"},
               {"p": "/message/metadata", "o": "append", "v": {"is_complete": True}}])
    aid = ctx.uid()
    ctx.register_sandbox("/mnt/data/result.csv", b"1,2\r\n3,4\r\n", "text/csv", aid)
    text = ("The sum is 10. You said: " + ctx.prompt +
            "\n\n[Download the CSV](sandbox:/mnt/data/result.csv)")
    ctx.new(ctx.msg("assistant", {"content_type": "text", "parts": [""]}, mid=aid))
    ctx.stream_text("/message/content/parts/0", text)
    ctx.finish()
    ctx.answer = text
    ctx.epilogue()


def _image_pointer(ctx, pointer, size, gen_height=None, prompt="a blue square"):
    meta = {"dalle": {"gen_id": ctx.token(16), "prompt": prompt, "seed": 42, "parent_gen_id": None,
                      "edit_op": None, "serialization_title": "DALL-E generation metadata"},
            "gizmo": None, "generation": None, "container_pixel_height": None,
            "container_pixel_width": None, "emu_omit_glimpse_image": None, "emu_patches_override": None,
            "sanitized": False, "asset_pointer_link": None, "watermarked_asset_pointer": None}
    if gen_height is not None:
        meta["generation"] = {"gen_id": meta["dalle"]["gen_id"], "gen_size": "image", "seed": None,
                              "parent_gen_id": None, "height": gen_height, "width": 1024,
                              "transparent_background": False,
                              "serialization_title": "Image Generation metadata"}
    return {"content_type": "image_asset_pointer", "asset_pointer": pointer, "size_bytes": size,
            "width": 1024, "height": 1024, "fovea": None, "metadata": meta}


def s_image(ctx):
    png = make_png(16, 16, (200, 40, 40))
    fid = "file-" + ctx.token(24)
    ctx.register_file(fid, "image.png", "image/png", png)
    ctx.new(ctx.user_doc)
    ctx.new(ctx.msg("assistant", {"content_type": "code", "language": "json",
                                  "response_format_name": None, "text": ""}, recipient="dalle.text2im"))
    ctx.stream_text("/message/content/text", json.dumps({"prompt": "a red square", "size": "1024x1024"}))
    ctx.patch([{"p": "/message/status", "o": "replace", "v": "finished_successfully"},
               {"p": "/message/end_turn", "o": "replace", "v": False},
               {"p": "/message/metadata", "o": "append",
                "v": {"is_complete": True, "finish_details": {"type": "stop", "stop_tokens": [200007]}}}])
    ctx.new(ctx.msg("tool", {"content_type": "multimodal_text",
                             "parts": [_image_pointer(ctx, "file-service://" + fid, len(png),
                                                      prompt="a red square")]},
                    status="finished_successfully", name="dalle.text2im",
                    metadata={"is_complete": True}))
    text = "Here is the image of a red square."
    ctx.new(ctx.assistant_text())
    last = ctx.stream_text("/message/content/parts/0", text, keep_last=True)
    ctx.finish(last)
    ctx.answer = text
    ctx.epilogue()


def s_sediment(ctx):
    png = make_png(16, 16, (40, 200, 40))
    fid = "file_" + "".join(ctx.rng.choice("0123456789abcdef") for _ in range(32))
    ctx.register_file(fid, "generated.png", "image/png", png)
    ctx.new(ctx.user_doc)
    ctx.new(ctx.msg("assistant", {"content_type": "code", "language": "json",
                                  "response_format_name": None, "text": ""}, recipient="t2uay3k.sj1i4kz"))
    ctx.stream_text("/message/content/text", json.dumps({"prompt": "a green square", "size": "1024x1024",
                                                         "n": 1}))
    ctx.patch([{"p": "/message/status", "o": "replace", "v": "finished_successfully"},
               {"p": "/message/end_turn", "o": "replace", "v": False},
               {"p": "/message/metadata", "o": "append", "v": {"is_complete": True}}])
    ptr = "sediment://" + fid
    ctx.new(ctx.msg("tool", {"content_type": "multimodal_text",
                             "parts": [_image_pointer(ctx, ptr, len(png), 128, "a green square")]},
                    name="t2uay3k.sj1i4kz", metadata={"async_task_type": "image_gen"}))
    for hgt in (384, 768, 1024):
        ctx.op("/message/content/parts/0", "replace", _image_pointer(ctx, ptr, len(png), hgt, "a green square"))
    ctx.patch([{"p": "/message/status", "o": "replace", "v": "finished_successfully"},
               {"p": "/message/end_turn", "o": "replace", "v": True},
               {"p": "/message/metadata", "o": "append",
                "v": {"is_complete": True, "finish_details": {"type": "stop"}}}])
    ctx.answer = ""
    ctx.epilogue()


def s_citation(ctx):
    c1 = {"start_ix": 0, "end_ix": 0, "citation_format_type": "tether_og",
          "metadata": {"type": "webpage", "title": "Example Domain", "url": "https://example.com/",
                       "text": "This domain is for use in illustrative examples.", "pub_date": None,
                       "extra": None}}
    c2 = {"start_ix": 0, "end_ix": 0, "citation_format_type": "tether_og",
          "metadata": {"type": "webpage", "title": "RFC 2606", "url": "https://www.rfc-editor.org/rfc/rfc2606",
                       "text": "Reserved Top Level DNS Names", "pub_date": None, "extra": None}}
    part1 = "You said: " + ctx.prompt + "\n\nThe example domain is reserved for documentation"
    m1 = "【0†Example Domain】"
    part2 = ". It is defined by an RFC"
    m2 = "【1†RFC 2606】"
    part3 = "."
    c1["start_ix"], c1["end_ix"] = len(part1), len(part1) + len(m1)
    off = len(part1 + m1 + part2)
    c2["start_ix"], c2["end_ix"] = off, off + len(m2)
    P = "/message/content/parts/0"
    ctx.new(ctx.user_doc)
    ctx.new(ctx.assistant_text())
    ctx.stream_text(P, part1)
    ctx.patch([{"p": P, "o": "append", "v": m1},
               {"p": "/message/metadata/citations", "o": "append", "v": [c1]}])
    ctx.stream_text(P, part2)
    ctx.patch([{"p": P, "o": "append", "v": m2},
               {"p": "/message/metadata/citations", "o": "append", "v": [c2]}])
    ctx.op(P, "append", part3)
    ctx.finish()
    ctx.answer = part1 + m1 + part2 + m2 + part3
    ctx.epilogue()


def s_o1(ctx):
    reasoning = ("**Reading the request**\n\nThe user wrote: " + ctx.prompt +
                 "\n\n**Planning the answer**\n\nI will echo it back politely.")
    ctx.new(ctx.user_doc)
    ctx.new(ctx.msg("tool", {"content_type": "text", "parts": [""]}, name="a8km123",
                    metadata={"initial_text": "Thinking", "finished_text": None}))
    ctx.stream_text("/message/content/parts/0", reasoning)
    ctx.patch([{"p": "/message/status", "o": "replace", "v": "finished_successfully"},
               {"p": "/message/metadata", "o": "append",
                "v": {"initial_text": "Thinking", "finished_text": "Thought for 3 seconds",
                      "finished_duration_sec": 3, "is_complete": True}}])
    text = plain_text(ctx)
    ctx.new(ctx.assistant_text())
    last = ctx.stream_text("/message/content/parts/0", text, keep_last=True)
    ctx.finish(last)
    ctx.answer = text
    ctx.epilogue()


def s_thoughts(ctx):
    t1 = "The user said: " + ctx.prompt + ". I should answer briefly."
    t2 = "Double-check the Unicode: 你好 🌍."
    ctx.new(ctx.user_doc)
    ctx.new(ctx.msg("assistant", {"content_type": "thoughts", "thoughts": [],
                                  "source_analysis_msg_id": ctx.uid()},
                    metadata={"reasoning_status": "is_reasoning"}))
    ctx.op("/message/content/thoughts", "append",
           [{"summary": "Reading the prompt", "content": "", "chunks": [], "finished": False}])
    ctx.stream_text("/message/content/thoughts/0/content", t1)
    ctx.op("/message/content/thoughts/0/finished", "replace", True)
    ctx.op("/message/content/thoughts", "append",
           [{"summary": "Checking", "content": "", "chunks": [], "finished": False}])
    ctx.stream_text("/message/content/thoughts/1/content", t2)
    ctx.op("/message/content/thoughts/1/summary", "append", " the answer")
    ctx.patch([{"p": "/message/content/thoughts/1/finished", "o": "replace", "v": True},
               {"p": "/message/status", "o": "replace", "v": "finished_successfully"},
               {"p": "/message/metadata", "o": "append",
                "v": {"is_complete": True, "reasoning_status": "reasoning_ended"}}])
    ctx.new(ctx.msg("assistant", {"content_type": "reasoning_recap", "content": "Thought for 4s"},
                    status="finished_successfully",
                    metadata={"reasoning_status": "reasoning_ended", "finished_duration_sec": 4}))
    text = plain_text(ctx)
    ctx.new(ctx.assistant_text())
    last = ctx.stream_text("/message/content/parts/0", text, keep_last=True)
    ctx.finish(last)
    ctx.answer = text
    ctx.epilogue()


def s_moderation(ctx):
    text = "I can only partially answer: "
    ctx.new(ctx.user_doc)
    aid = ctx.new(ctx.assistant_text())
    ctx.stream_text("/message/content/parts/0", text)
    ctx.raw({"type": "moderation", "message_id": aid, "conversation_id": ctx.cid,
             "moderation_response": {"flagged": True, "blocked": True, "disclaimers": [],
                                     "moderation_id": "modr-" + ctx.token(20)}})
    ctx.finish()
    ctx.answer = text
    ctx.epilogue(title=False)


def s_error(ctx):
    ctx.new(ctx.user_doc)
    ctx.raw({"message": None, "conversation_id": ctx.cid, "error": STREAM_ERROR_TEXT})
    ctx.ops.append(("done",))
    ctx.answer = ""


def s_error_mid(ctx):
    text = "Starting an answer for you: "
    ctx.new(ctx.user_doc)
    ctx.new(ctx.assistant_text())
    ctx.stream_text("/message/content/parts/0", text)
    ctx.raw({"message": None, "conversation_id": ctx.cid, "error": STREAM_ERROR_TEXT})
    ctx.ops.append(("done",))
    ctx.answer = text


def s_no_in_progress(ctx):
    text = plain_text(ctx)
    ctx.new(ctx.user_doc)
    ctx.new(ctx.msg("assistant", {"content_type": "text", "parts": [text]}, status="finished_successfully",
                    end_turn=True, metadata={"is_complete": True,
                                             "finish_details": {"type": "stop", "stop_tokens": [200002]}}))
    ctx.answer = text
    ctx.epilogue()


def s_max_tokens(ctx):
    s_plain(ctx, text=plain_text(ctx) + " This answer is cut off because it reached the",
            finish_type="max_tokens", end_turn=False)


def s_interrupted(ctx):
    s_plain(ctx, text="You said: " + ctx.prompt + "\n\nI was interrupted wh",
            finish_type="interrupted", end_turn=False)


def s_empty(ctx):
    ctx.new(ctx.user_doc)
    ctx.new(ctx.assistant_text())
    ctx.finish()
    ctx.answer = ""
    ctx.epilogue()


def s_continue(ctx):
    s_plain(ctx, text=" maximum length. (continued) You said: " + ctx.prompt + " — 続き ✅")


SCRIPT_FUNCS = {
    "plain": s_plain, "unicode": s_unicode, "long": s_long, "code": s_code, "image": s_image,
    "sediment": s_sediment, "citation": s_citation, "o1": s_o1, "thoughts": s_thoughts,
    "moderation": s_moderation, "error": s_error, "error_mid": s_error_mid,
    "no_in_progress": s_no_in_progress, "max_tokens": s_max_tokens, "interrupted": s_interrupted,
    "empty": s_empty,
}


# --------------------------------------------------------------------------- rendering

def _dumps(obj, ascii_):
    return json.dumps(obj, ensure_ascii=ascii_)


def render(ops, fmt, crlf=False, ascii_=False):
    """Render script ops into a list of SSE event byte strings, plus the final documents."""
    nl = "\r\n" if crlf else "\n"
    events = []

    def data(s, event=None):
        head = ("event: %s%s" % (event, nl)) if event else ""
        events.append((head + "data: " + s + nl + nl).encode("utf-8"))

    docs, order, doc = {}, [], None
    # final state of every document (shared by both formats)
    for op in ops:
        if op[0] == "new":
            doc = copy.deepcopy(op[1])
            mid = doc["message"]["id"]
            if mid not in docs:
                order.append(mid)
            docs[mid] = doc
        elif op[0] == "ops":
            for s in op[1]:
                doc = apply_op(doc, s["p"], s["o"], s["v"])
            docs[doc["message"]["id"]] = doc
    finals = [docs[m] for m in order]

    if fmt == "old":
        doc = None
        for op in ops:
            if op[0] == "new":
                doc = copy.deepcopy(op[1])
                data(_dumps(doc, ascii_))
            elif op[0] == "ops":
                for s in op[1]:
                    doc = apply_op(doc, s["p"], s["o"], s["v"])
                data(_dumps(doc, ascii_))
            elif op[0] == "raw":
                if op[2] in (None, "old"):
                    data(_dumps(op[1], ascii_))
            elif op[0] == "done":
                data("[DONE]")
        return events, finals

    data('"v1"', "delta_encoding")
    c, last_p, last_o, prev = -1, None, None, None
    for op in ops:
        kind = op[0]
        if kind == "new":
            c += 1
            if prev == "new":
                d = {"v": op[1], "c": c}           # as in the protocol sample: p/o inherited
            else:
                d = {"p": "", "o": "add", "v": op[1], "c": c}
            last_p, last_o = "", "add"
            data(_dumps(d, ascii_), "delta")
        elif kind == "ops":
            subs = op[1]
            if len(subs) == 1:
                p, o, v = subs[0]["p"], subs[0]["o"], subs[0]["v"]
            else:
                p, o, v = "", "patch", subs
            d = {}
            if prev != "ops" or p != last_p:
                d["p"] = p
            if prev != "ops" or o != last_o:
                d["o"] = o
            d["v"] = v
            last_p, last_o = p, o
            data(_dumps(d, ascii_), "delta")
        elif kind == "raw":
            if op[2] in (None, "v1"):
                data(_dumps(op[1], ascii_))
        elif kind == "done":
            data("[DONE]")
        prev = kind
    return events, finals


def final_answer_text(finals):
    for d in reversed(finals):
        m = d.get("message") or {}
        if m.get("author", {}).get("role") == "assistant" and \
                m.get("content", {}).get("content_type") == "text":
            return m["content"]["parts"][0]
    return ""


# --------------------------------------------------------------------------- HTTP handler

def _now_ray(rng=random):
    return "%016x-SJC" % rng.getrandbits(64)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cloudflare"
    sys_version = ""
    timeout = 120                       # idle keep-alive connections are closed after this

    # ---------------------------------------------------------------- plumbing
    @property
    def mock(self):
        return self.server.mock

    @property
    def st(self):
        return self.server.mock.state

    def version_string(self):
        return "cloudflare"

    def log_message(self, fmt, *args):
        if self.server.mock.verbose:
            sys.stderr.write("[chatgpt-mock] %s - %s\n" % (self.address_string(), fmt % args))

    def setup(self):
        if self.server.mock.tls is not None:
            self.request.settimeout(10)
            self.request.do_handshake()
            self.request.settimeout(None)
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self.server.mock._track(self.connection, True)

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass
        self.server.mock._track(self.connection, False)

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def do_HEAD(self):
        self._dispatch("HEAD")

    def do_OPTIONS(self):
        self._dispatch("OPTIONS")

    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            data = bytearray()
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ValueError("truncated chunked body")
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while True:
                        t = self.rfile.readline(65537)
                        if t in (b"\r\n", b"\n", b""):
                            break
                    return bytes(data)
                data += self.rfile.read(size)
                self.rfile.readline()
                if len(data) > MAX_BODY:
                    raise OverflowError("body too large")
        cl = self.headers.get("Content-Length")
        if not cl:
            return b""
        n = int(cl)
        if n < 0:
            raise ValueError("bad Content-Length")
        if n > MAX_BODY:
            raise OverflowError("body too large")
        data = self.rfile.read(n)
        if len(data) != n:
            raise ValueError("truncated body")
        return data

    def _host_url(self):
        host = self.headers.get("Host") or ""
        if not re.fullmatch(r"[A-Za-z0-9.\-\[\]:]+", host):
            host = "127.0.0.1:%d" % self.server.server_address[1]
        return "http://" + host

    def _accepts_gzip(self):
        ae = self.headers.get("Accept-Encoding") or ""
        for item in ae.split(","):
            parts = item.strip().split(";")
            if parts[0].strip().lower() == "gzip":
                q = 1.0
                for prm in parts[1:]:
                    prm = prm.strip()
                    if prm.startswith("q="):
                        try:
                            q = float(prm[2:])
                        except ValueError:
                            q = 0.0
                return q > 0
        return False

    def _mark_status(self, status):
        self._status = status
        if not self._recorded:
            self._recorded = True
            self.st.record_response(self._route, self.command, self._path, status)

    def _send(self, status, data, ctype, headers=None, compress=True):
        self._mark_status(status)
        hdrs = list(headers or [])
        if isinstance(data, str):
            data = data.encode("utf-8")
        if compress and self._cfg_gzip and data and self._accepts_gzip() and self.command != "HEAD":
            data = gzip.compress(data, 6)
            hdrs.append(("Content-Encoding", "gzip"))
            hdrs.append(("Vary", "Accept-Encoding"))
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("cf-ray", _now_ray())
        for k, v in hdrs:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD" and data:
            self.wfile.write(data)

    def _json(self, status, obj, headers=None):
        self._send(status, json.dumps(obj, ensure_ascii=False), "application/json", headers)

    def _reject(self, status, obj, reason, ctype="application/json", headers=None):
        hdrs = [("x-mock-reason", reason.encode("ascii", "replace").decode("ascii")[:300])]
        hdrs += list(headers or [])
        self.st.record_rejection(self._route, status, reason)
        if isinstance(obj, (dict, list)):
            self._send(status, json.dumps(obj, ensure_ascii=False), ctype, hdrs)
        else:
            self._send(status, obj, ctype, hdrs)
        return None

    def _cf_page(self):
        ray = _now_ray()
        html = CF_CHALLENGE_HTML % (random.randrange(10 ** 6), ray[:16], "%032x" % random.getrandbits(128),
                                    ray[:16], ray[:16])
        return self._reject(403, html, "cloudflare challenge (knob)", "text/html; charset=UTF-8",
                            [("cf-mitigated", "challenge"), ("Cache-Control", "private, max-age=0")])

    def _fault(self, status, route):
        """Answer an injected status with a realistic body."""
        reason = "injected status %d on %s" % (status, route)
        if status in (502, 503, 504, 520, 522, 524):
            title = {502: "Bad gateway", 503: "Service unavailable", 504: "Gateway time-out"}.get(status, "Error")
            return self._reject(status, CF_5XX_HTML % (status, title, status, title, _now_ray()), reason,
                                "text/html; charset=UTF-8")
        if status == 401:
            body = {"detail": {"message": "Your authentication token has expired. Please try signing in again.",
                               "type": "invalid_request_error", "param": None, "code": "token_expired"}}
        elif status == 403:
            body = {"detail": UNUSUAL_ACTIVITY}
        elif status == 429:
            if route == "sentinel":
                body = {"detail": "Too many requests"}
            else:
                body = {"detail": "Too many requests in 1 hour. Try again later."}
            return self._reject(429, body, reason, headers=[("Retry-After", "30")])
        elif status == 404:
            body = {"detail": "Not Found"}
        elif status == 400:
            body = {"detail": "Bad request"}
        else:
            body = {"detail": "Internal server error"} if status >= 500 else {"detail": "Error %d" % status}
        return self._reject(status, body, reason)

    def _wait(self, seconds):
        """Sleep, but notice (raise ClientGone) when the client closes the connection."""
        deadline = time.monotonic() + seconds
        sock = self.connection
        while True:
            if self.mock._stopping.is_set():
                raise Abort("server stopping")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                r, _, _ = select.select([sock], [], [], min(remaining, 0.2))
            except (OSError, ValueError):
                raise ClientGone("select failed")
            if r:
                try:
                    peek = sock.recv(1, socket.MSG_PEEK)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    raise ClientGone("recv failed")
                if not peek:
                    raise ClientGone("peer closed")
                time.sleep(max(0.0, deadline - time.monotonic()))   # pipelined bytes: plain sleep
                return

    def _peer_closed(self):
        try:
            r, _, _ = select.select([self.connection], [], [], 0)
            if not r:
                return False
            return not self.connection.recv(1, socket.MSG_PEEK)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            return True

    # ---------------------------------------------------------------- dispatch
    def _dispatch(self, method):
        self._status = 0
        self._recorded = False
        self._route = "unknown"
        self._cfg_gzip = self.st.config.get("gzip", True)
        url = urlsplit(self.path)
        path = self._path = url.path
        self.query = parse_qs(url.query, keep_blank_values=True)
        try:
            self.body = self._read_body()
        except OverflowError:
            self.close_connection = True
            self._json(413, {"detail": "Request body too large"})
            return
        except Exception as e:
            self.close_connection = True
            self._json(400, {"detail": "Bad request body: %s" % e})
            return
        func, args, path_ok = None, (), False
        for m_, rx, name in (getattr(self, "routes", None) or ROUTES):
            mt = rx.fullmatch(path)
            if mt:
                path_ok = True
                if m_ == method or (method == "HEAD" and m_ == "GET"):
                    func, args, self._route = getattr(self, "h_" + name), mt.groups(), name
                    break
        self.st.record_request(self._route if func else ("method_not_allowed" if path_ok else "not_found"),
                               method, path)
        try:
            if func is None:
                if path_ok:
                    self._route = "method_not_allowed"
                    self._json(405, {"detail": "Method Not Allowed"})
                else:
                    self._route = "not_found"
                    self._json(404, {"detail": "Not Found"})
            else:
                func(*args)
        except (ClientGone, BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True
        except Abort:
            self.close_connection = True
        except Exception as e:      # a bug in the mock: make it loud but keep serving
            import traceback
            traceback.print_exc()
            self.close_connection = True
            if not self._status:
                try:
                    self._json(500, {"detail": "mock internal error: %r" % (e,)})
                except OSError:
                    pass
        finally:
            if not self._recorded:
                self._mark_status(0)

    # ---------------------------------------------------------------- auth helpers
    def _auth(self, kind):
        """kind 'api' or 'anon'. Returns auth id ('' for anon) or None after rejecting."""
        authz = self.headers.get("Authorization")
        if kind == "anon":
            if authz is not None:
                return self._reject(400, {"detail": "Authorization must not be sent to /backend-anon"},
                                    "authorization header on /backend-anon")
            return ""
        if not authz:
            return self._reject(401, {"detail": {"message": "Missing authorization header.",
                                                 "type": "invalid_request_error", "param": None,
                                                 "code": "missing_authorization"}},
                                "no authorization header on /backend-api")
        m = re.fullmatch(r"Bearer ([^\s]+)", authz.strip())
        tok = m.group(1) if m else None
        if tok and tok in self.st.expired_tokens:
            return self._reject(401, {"detail": {"message": "Your authentication token has expired. "
                                                            "Please try signing in again.",
                                                 "type": "invalid_request_error", "param": None,
                                                 "code": "token_expired"}}, "expired access token")
        if not tok or tok not in self.st.access_tokens:
            return self._reject(401, {"detail": {"message": "Could not parse your authentication token. "
                                                            "Please try signing in again.",
                                                 "type": "invalid_request_error", "param": None,
                                                 "code": "invalid_jwt"}},
                                "unknown access token" if tok else "authorization is not 'Bearer <token>'")
        return tok

    def _json_body(self, require_ct=True):
        ct = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if require_ct and ct != "application/json":
            return self._reject(400, {"detail": "Content-Type must be application/json"},
                                "content-type is %r, not application/json" % ct), False
        try:
            return json.loads(self.body.decode("utf-8")), True
        except Exception:
            return self._reject(400, {"detail": "Invalid JSON body"}, "body is not JSON"), False

    def _common_browser_headers(self):
        if not self.headers.get("User-Agent"):
            return self._reject(400, {"detail": "Missing user agent"}, "no user-agent header")
        if not self.headers.get("oai-device-id"):
            return self._reject(400, {"detail": "Missing device id"}, "no oai-device-id header")
        return True

    def _cookies(self):
        out = {}
        for h in self.headers.get_all("Cookie") or []:
            for part in h.split(";"):
                if "=" in part:
                    k, v = part.split("=", 1)
                    out[k.strip()] = v.strip()
        return out

    # ---------------------------------------------------------------- GET / and static
    def h_home(self):
        cfg = self.st.effective(None)
        if self.st.take_cf("home", None):
            return self._cf_page()
        st = self.st.take_fault("home_status", None)
        if st:
            return self._fault(st, "home")
        base = self._host_url()
        scripts = ['<script src="%s/assets/polyfill-mock.js" nomodule></script>' % base]
        if cfg.get("home_dpl_script", True):
            scripts.append('<script src="%s/_next/static/c/TESTBUILD/_/x.js" async></script>' % base)
        scripts.append('<script src="https://cdn.oaistatic.com/_next/static/chunks/main-mock.js" defer></script>')
        html = ('<!DOCTYPE html><html data-build="%s" lang="en-US" dir="ltr" class="light">'
                '<head><meta charset="utf-8"><title>ChatGPT</title>'
                '<meta name="viewport" content="width=device-width, initial-scale=1">%s'
                '<script>window.__remixContext={"state":{"loaderData":{}}};</script></head>'
                '<body class="antialiased"><div id="root">ChatGPT mock</div></body></html>'
                % (cfg.get("home_build", "prod-test"), "".join(scripts)))
        did = str(uuid.uuid4())
        self._send(200, html, "text/html; charset=utf-8",
                   [("Set-Cookie", "__cf_bm=%s; path=/; HttpOnly; SameSite=None" % _b64url(os.urandom(24))),
                    ("Set-Cookie", "_cfuvid=%s; path=/; HttpOnly; SameSite=None" % _b64url(os.urandom(18))),
                    ("Set-Cookie", "oai-did=%s; path=/; Max-Age=31536000; SameSite=Lax" % did)])

    def h_static(self, *_):
        self._send(200, "/* chatgpt mock static asset %s */\n" % urlsplit(self.path).path,
                   "application/javascript; charset=utf-8", [("Cache-Control", "public, max-age=31536000")])

    # ---------------------------------------------------------------- sentinel
    def h_sentinel(self, kind):
        self.st.record_token_use(self.headers.get("Authorization"),
                                 self.headers.get("chatgpt-account-id"), "sentinel")
        auth = self._auth(kind)
        if auth is None:
            return
        cfg = self.st.effective(auth)
        if self.st.take_cf("sentinel", auth):
            return self._cf_page()
        st = self.st.take_fault("sentinel_status", auth)
        if st:
            return self._fault(st, "sentinel")
        if cfg.get("sentinel_delay_ms"):
            self._wait(cfg["sentinel_delay_ms"] / 1000.0)
        if self._common_browser_headers() is None:
            return
        body, ok = self._json_body()
        if not ok:
            return
        if not isinstance(body, dict) or not isinstance(body.get("p"), str):
            self.st.bump("requirements_failed")
            return self._reject(400, {"detail": "Missing requirements token"}, "body has no string 'p'")
        ua = self.headers.get("User-Agent")
        try:
            _, arr = decode_config_token(body["p"], "gAAAAAC")
            check_config_array(arr, cfg.get("config_len", 18), cfg.get("strict_p", True), ua)
        except ValueError as e:
            self.st.bump("requirements_failed")
            return self._reject(403, {"detail": UNUSUAL_ACTIVITY}, "requirements token: %s" % e)
        self.st.bump("requirements_ok")
        rng = random.Random()
        seed = cfg.get("seed") or str(rng.random())
        difficulty = str(cfg.get("difficulty") or "0fffff")
        pow_req = bool(cfg.get("pow_required", True))
        token = "gAAAAAB" + base64.urlsafe_b64encode(os.urandom(300)).decode("ascii")
        ts_req, ark_req = bool(cfg.get("turnstile_required")), bool(cfg.get("arkose_required"))
        dx = None
        ts_expected = None
        if ts_req:
            if cfg.get("turnstile_dx"):
                dx = cfg["turnstile_dx"]
            else:
                # A real challenge program (tests/mock/turnstile.py); the
                # conversation must then carry exactly its answer.
                dx, ts_expected = turnstile.make_challenge(body["p"], rng)
        adx = (cfg.get("arkose_dx") or base64.b64encode(os.urandom(96)).decode()) if ark_req else None
        persona = "chatgpt-noauth" if not auth else cfg.get("persona", "chatgpt-freeaccount")
        now = time.time()
        rec = {"seed": seed, "difficulty": difficulty, "pow_required": pow_req, "auth": auth,
               "device_id": self.headers.get("oai-device-id"), "issued": now,
               "expires": now + float(cfg.get("token_ttl_s", 540)), "turnstile_required": ts_req,
               "arkose_required": ark_req, "uses": 0, "oai_sc": None, "p": body["p"],
               "turnstile_expected": ts_expected}
        resp = {"persona": persona, "token": token, "expire_after": int(cfg.get("token_ttl_s", 540)),
                "expire_at": int(rec["expires"]), "force_login": False,
                "turnstile": {"required": ts_req, "dx": dx},
                "arkose": {"required": ark_req, "dx": adx},
                "proofofwork": ({"required": True, "seed": seed, "difficulty": difficulty} if pow_req
                                else {"required": False, "seed": None, "difficulty": None})}
        hdrs = []
        if cfg.get("set_oai_sc", True):
            rec["oai_sc"] = "0gAAAAAB" + _b64url(os.urandom(48))
            hdrs.append(("Set-Cookie", "oai-sc=%s; Path=/; Max-Age=31536000; HttpOnly; SameSite=None"
                         % rec["oai_sc"]))
        with self.st.lock:
            self.st.tokens[token] = rec
            if len(self.st.tokens) > 20000:
                for k in list(self.st.tokens)[:5000]:
                    del self.st.tokens[k]
            self.st.c["sentinel_tokens_issued"] += 1
            self.st.last["sentinel"] = {"path": self.path, "persona": persona, "token": token,
                                        "seed": seed, "difficulty": difficulty,
                                        "device_id": rec["device_id"], "user_agent": ua,
                                        "turnstile_required": ts_req, "arkose_required": ark_req,
                                        "config": arr}
        self._json(200, resp, hdrs)

    @staticmethod
    def _turnstile_dx(p):
        """A dx as in section 3.7: base64 of (program JSON xor p). The program sets a register and
        finishes with it; clients may solve it locally or via a solver."""
        prog = json.dumps([[2, 30, "mock-turnstile"], [3, 30]], separators=(",", ":"))
        x = "".join(chr(ord(ch) ^ ord(p[i % len(p)])) for i, ch in enumerate(prog))
        return base64.b64encode(x.encode("utf-8")).decode("ascii")

    # ---------------------------------------------------------------- conversation
    def h_conversation(self, kind):
        st = self.st
        st.record_token_use(self.headers.get("Authorization"),
                            self.headers.get("chatgpt-account-id"))
        auth = self._auth(kind)
        if auth is None:
            return
        cfg = st.effective(auth)
        if st.take_cf("conversation", auth):
            return self._cf_page()
        if self._common_browser_headers() is None:
            return
        accept = (self.headers.get("Accept") or "").lower()
        if "text/event-stream" not in accept:
            return self._reject(400, {"detail": "Accept must include text/event-stream"},
                                "accept header %r lacks text/event-stream" % accept)
        body, ok = self._json_body()
        if not ok:
            return
        err = self._validate_conversation(body, auth, cfg)
        if err:
            status, reason = err
            return self._reject(status, {"detail": reason}, reason)
        # markers
        last_user = None
        for msg in body.get("messages") or []:
            if msg["author"]["role"] == "user":
                last_user = msg
        texts = [p for p in ((last_user or {}).get("content", {}).get("parts") or []) if isinstance(p, str)]
        raw_text = "\n".join(texts)
        markers = {}
        for mk in MARKER_RE.finditer(raw_text):
            markers[mk.group(1)] = mk.group(2) if mk.group(2) is not None else ""
        prompt = MARKER_RE.sub("", raw_text).strip()
        if "cf" in markers:
            return self._cf_page()
        if "fail" in markers:
            try:
                return self._fault(int(markers["fail"]), "conversation")
            except ValueError:
                pass
        f = st.take_fault("conversation_status", auth)
        if f:
            return self._fault(f, "conversation")
        # sentinel verification
        sent = self._verify_sentinel(cfg, auth)
        if sent is None:
            return
        script = markers.get("script") or cfg.get("script") or "plain"
        if body.get("action") == "continue":
            script = "continue"
        if script == "rate_limit":
            clears = int(markers.get("clears_in") or cfg.get("clears_in") or 30)
            return self._reject(429, {"detail": {"clears_in": clears, "code": "model_cap_exceeded",
                                                 "message": "You have sent too many messages to the model. "
                                                            "Please try again later."}},
                                "rate_limit script", headers=[("Retry-After", str(clears))])
        if script not in SCRIPT_FUNCS and script != "continue":
            return self._reject(400, {"detail": "mock: unknown script %r (known: %s)" % (script, ", ".join(SCRIPTS))},
                                "unknown script %r" % script)
        delay = markers.get("delay") or cfg.get("conversation_delay_ms")
        if delay:
            try:
                self._wait(float(delay) / 1000.0)
            except ClientGone as e:
                with st.lock:
                    st.c["client_disconnects"] += 1
                    st.last["disconnect"] = {"t": round(time.time(), 3), "conversation_id": None,
                                             "bytes_written": 0, "events_started": 0,
                                             "reason": "before response: %s" % e}
                raise
        self._serve_stream(kind, auth, cfg, body, last_user, prompt, markers, script, sent)

    def _validate_conversation(self, body, auth, cfg):
        if not isinstance(body, dict):
            return 400, "body must be a JSON object"
        action = body.get("action")
        if action not in KNOWN_ACTIONS:
            return 400, "action must be one of %s, got %r" % (sorted(KNOWN_ACTIONS), action)
        model = body.get("model")
        if not isinstance(model, str) or not model:
            return 400, "model must be a non-empty string"
        pmid = body.get("parent_message_id")
        if not isinstance(pmid, str) or not pmid:
            return 400, "parent_message_id must be a non-empty string"
        msgs = body.get("messages")
        if not isinstance(msgs, list):
            return 400, "messages must be a list"
        if action == "next" and not msgs:
            return 400, "messages must not be empty for action 'next'"
        for i, m in enumerate(msgs):
            if not isinstance(m, dict):
                return 400, "messages[%d] must be an object" % i
            if "id" in m and (not isinstance(m["id"], str) or not m["id"]):
                return 400, "messages[%d].id must be a non-empty string" % i
            a = m.get("author")
            if not isinstance(a, dict) or not isinstance(a.get("role"), str):
                return 400, "messages[%d].author.role must be a string" % i
            if a["role"] not in KNOWN_ROLES:
                return 400, "messages[%d].author.role %r is not a known role" % (i, a["role"])
            c = m.get("content")
            if not isinstance(c, dict) or not isinstance(c.get("content_type"), str):
                return 400, "messages[%d].content.content_type must be a string" % i
            ctype = c["content_type"]
            if ctype in ("text", "multimodal_text"):
                parts = c.get("parts")
                if not isinstance(parts, list) or not parts:
                    return 400, "messages[%d].content.parts must be a non-empty list" % i
                for j, p in enumerate(parts):
                    if isinstance(p, str):
                        continue
                    if ctype == "text":
                        return 400, "messages[%d].content.parts[%d] must be a string" % (i, j)
                    if not isinstance(p, dict) or not isinstance(p.get("content_type"), str):
                        return 400, "messages[%d].content.parts[%d] must be a string or an object" % (i, j)
                    if p["content_type"] == "image_asset_pointer":
                        ap = p.get("asset_pointer")
                        if not isinstance(ap, str) or not re.match(r"^(file-service|sediment)://.+", ap):
                            return 400, "messages[%d].content.parts[%d].asset_pointer is malformed" % (i, j)
                        fid = ap.split("://", 1)[1]
                        if cfg.get("strict_files", True) and not self._file_ready(fid):
                            return 400, "messages[%d] refers to file %s that was not uploaded" % (i, fid)
            elif ctype not in ("code", "execution_output", "tether_quote", "tether_browsing_display",
                               "system_error", "model_editable_context", "user_editable_context"):
                return 400, "messages[%d].content.content_type %r is not supported" % (i, ctype)
            md = m.get("metadata")
            if md is not None:
                if not isinstance(md, dict):
                    return 400, "messages[%d].metadata must be an object" % i
                att = md.get("attachments")
                if att is not None:
                    if not isinstance(att, list):
                        return 400, "messages[%d].metadata.attachments must be a list" % i
                    for a2 in att:
                        if not isinstance(a2, dict) or not isinstance(a2.get("id"), str):
                            return 400, "messages[%d].metadata.attachments items need an id" % i
                        if cfg.get("strict_files", True) and not self._file_ready(a2["id"]):
                            return 400, "attachment %s was not uploaded" % a2["id"]
        hd = body.get("history_and_training_disabled")
        if hd is not None and not isinstance(hd, bool):
            return 400, "history_and_training_disabled must be a boolean"
        se = body.get("supported_encodings", [])
        if not isinstance(se, list) or not all(isinstance(x, str) for x in se):
            return 400, "supported_encodings must be a list of strings"
        cm = body.get("conversation_mode")
        if cm is not None:
            if not isinstance(cm, dict) or not isinstance(cm.get("kind"), str):
                return 400, "conversation_mode.kind must be a string"
            if cm["kind"] == "gizmo_interaction" and not str(cm.get("gizmo_id", "")).startswith("g-"):
                return 400, "conversation_mode.gizmo_id must start with g-"
        for k, typ in (("timezone_offset_min", int), ("timezone", str), ("system_hints", list),
                       ("client_contextual_info", dict), ("force_paragen", bool), ("force_use_sse", bool)):
            if k in body and body[k] is not None and not isinstance(body[k], typ):
                return 400, "%s has the wrong type" % k
        cid = body.get("conversation_id")
        if cid is not None:
            if not isinstance(cid, str) or not cid:
                return 400, "conversation_id must be a non-empty string"
            with self.st.lock:
                conv = self.st.conversations.get(cid)
                if conv is None or not conv["is_visible"]:
                    return 404, "Can't load conversation %s" % cid
                if cfg.get("strict_parent", True) and pmid not in conv["mapping"]:
                    return 400, "parent_message_id %s is not a message of conversation %s" % (pmid, cid)
                if conv.get("auth") != auth:
                    return 404, "Can't load conversation %s" % cid
                # the conversation holds its earlier turns: only new ones may come
                text = mockbase.prompt_text(msgs)
                for old in conv.get("seen", []):
                    if old in text:
                        return 400, "mock: the continued conversation resent an earlier turn %r" % old[:60]
        elif action != "next":
            return 400, "action %r needs a conversation_id" % action
        return None

    def _file_ready(self, fid):
        with self.st.lock:
            f = self.st.files.get(fid)
            return bool(f and f.get("uploaded"))

    def _verify_sentinel(self, cfg, auth):
        st = self.st
        info = {"chat_token": None, "proof": "not_checked", "turnstile": None, "arkose": None}
        tok = self.headers.get("openai-sentinel-chat-requirements-token")
        if not cfg.get("require_sentinel", True):
            info["chat_token"] = "not_required"
            return info
        if not tok:
            return self._reject(403, {"detail": UNUSUAL_ACTIVITY}, "no openai-sentinel-chat-requirements-token")
        with st.lock:
            rec = st.tokens.get(tok)
            rec = copy.deepcopy(rec) if rec else None
        if rec is None:
            return self._reject(403, {"detail": UNUSUAL_ACTIVITY}, "chat-requirements token was never issued")
        if time.time() > rec["expires"]:
            return self._reject(403, {"detail": UNUSUAL_ACTIVITY}, "chat-requirements token expired")
        if cfg.get("token_single_use") and rec["uses"] > 0:
            return self._reject(403, {"detail": UNUSUAL_ACTIVITY}, "chat-requirements token already used")
        if cfg.get("bind_token", True):
            if rec["auth"] != auth:
                return self._reject(403, {"detail": UNUSUAL_ACTIVITY},
                                    "chat-requirements token was issued to another credential")
            if rec["device_id"] != self.headers.get("oai-device-id"):
                return self._reject(403, {"detail": UNUSUAL_ACTIVITY},
                                    "chat-requirements token was issued to another oai-device-id")
        info["chat_token"] = "ok"
        if rec["pow_required"]:
            proof = self.headers.get("openai-sentinel-proof-token")
            reason = None
            if not proof:
                reason = "no openai-sentinel-proof-token"
            else:
                try:
                    b64, arr = decode_config_token(proof, "gAAAAAB")
                    check_config_array(arr, cfg.get("config_len", 18), cfg.get("strict_p", True),
                                       self.headers.get("User-Agent"))
                    if not pow_accepts(rec["seed"], rec["difficulty"], b64):
                        reason = ("proof token does not satisfy difficulty %s for seed %s"
                                  % (rec["difficulty"], rec["seed"]))
                except ValueError as e:
                    reason = "proof token: %s" % e
            if reason:
                st.bump("proofs_failed")
                return self._reject(403, {"detail": UNUSUAL_ACTIVITY}, reason)
            st.bump("proofs_ok")
            info["proof"] = "ok"
        else:
            info["proof"] = "not_required"
        ts = self.headers.get("openai-sentinel-turnstile-token")
        if ts:
            st.bump("turnstile_tokens_seen")
            info["turnstile"] = ts
        if rec["turnstile_required"] and cfg.get("enforce_turnstile", True):
            exp = cfg.get("turnstile_expected") or rec.get("turnstile_expected")
            if not ts or (exp and ts != exp):
                return self._reject(403, {"detail": UNUSUAL_ACTIVITY},
                                    "turnstile was required but openai-sentinel-turnstile-token is %s"
                                    % ("missing" if not ts else "wrong"))
        ak = self.headers.get("openai-sentinel-arkose-token")
        if ak:
            st.bump("arkose_tokens_seen")
            info["arkose"] = ak
        if rec["arkose_required"] and cfg.get("enforce_arkose", True):
            exp = cfg.get("arkose_expected")
            if not ak or (exp and ak != exp):
                return self._reject(403, {"detail": UNUSUAL_ACTIVITY},
                                    "arkose was required but openai-sentinel-arkose-token is %s"
                                    % ("missing" if not ak else "wrong"))
        if cfg.get("require_oai_sc") and rec.get("oai_sc"):
            if self._cookies().get("oai-sc") != rec["oai_sc"]:
                return self._reject(403, {"detail": UNUSUAL_ACTIVITY}, "oai-sc cookie not replayed")
        with st.lock:
            if tok in st.tokens:
                st.tokens[tok]["uses"] += 1
        return info

    def _serve_stream(self, kind, auth, cfg, body, last_user, prompt, markers, script, sent):
        st = self.st
        fmt = "v1" if "v1" in (body.get("supported_encodings") or []) else "old"
        det = cfg.get("deterministic")
        if det is not None:
            canon = {k: v for k, v in body.items() if k != "supported_encodings"}
            rng = random.Random(hashlib.sha256(("%d|" % int(det)).encode() + json.dumps(
                canon, sort_keys=True).encode()).hexdigest())
            t0 = 1736175600.0
        else:
            rng = random.Random()
            t0 = time.time()
        cid = body.get("conversation_id")
        new_conv = cid is None
        if new_conv:
            cid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        # the echoed user message (as the real server does)
        if last_user is not None:
            umsg = copy.deepcopy(last_user)
            uid = umsg.get("id") or str(uuid.UUID(int=rng.getrandbits(128), version=4))
            user_doc = {"message": {"id": uid, "author": {"role": "user", "name": None, "metadata": {}},
                                    "create_time": round(t0, 6), "update_time": None,
                                    "content": umsg["content"], "status": "finished_successfully",
                                    "end_turn": None, "weight": 1.0,
                                    "metadata": dict(umsg.get("metadata") or {}, **{
                                        "serialization_metadata": {"custom_symbol_offsets": []},
                                        "request_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                                        "message_source": None, "timestamp_": "absolute",
                                        "message_type": None}),
                                    "recipient": "all", "channel": None},
                        "conversation_id": cid, "error": None}
        else:
            uid = body["parent_message_id"]
            user_doc = None
        attachments = []
        if last_user is not None:
            for a in (last_user.get("metadata") or {}).get("attachments") or []:
                attachments.append({"id": a.get("id"), "mime_type": a.get("mime_type")})
            if not attachments:
                for p in last_user["content"].get("parts") or []:
                    if isinstance(p, dict) and p.get("content_type") == "image_asset_pointer":
                        attachments.append({"id": p["asset_pointer"].split("://", 1)[1], "kind": "image"})
        base = self._host_url()
        new_files, new_sandbox = {}, {}

        def register_file(fid, name, mime, data):
            new_files[fid] = {"id": fid, "name": name, "mime": mime, "size": len(data), "data": data,
                              "uploaded": True, "generated": True, "use_case": "generated", "owner": auth,
                              "conversation_id": cid, "put_done": True, "polls": 0}

        def register_sandbox(path, data, mime, message_id):
            fid = "sandbox-" + hashlib.sha1((cid + path).encode()).hexdigest()[:20]
            register_file(fid, os.path.basename(path), mime, data)
            new_sandbox[path] = {"file_id": fid, "message_id": message_id}

        ctx = Ctx(rng, t0, cid, body["model"], user_doc, uid, prompt, attachments, cfg, base, new_conv,
                  register_file, register_sandbox, markers)
        with st.lock:
            old_conv = st.conversations.get(cid) if not new_conv else None
            history = "\n".join(old_conv.get("transcript", [])) if old_conv else ""
        ctx.tool_text = mockbase.tool_reply(mockbase.prompt_text(body.get("messages")), markers, cfg,
                                            history) or \
            mockbase.structured_reply(mockbase.prompt_text(body.get("messages")), markers)
        if script == "continue":
            s_continue(ctx)
        else:
            SCRIPT_FUNCS[script](ctx)
        crlf = bool(cfg.get("crlf")) or "crlf" in markers
        ascii_ = bool(cfg.get("json_ascii")) or "ascii" in markers
        events, finals = render(ctx.ops, fmt, crlf, ascii_)
        answer = final_answer_text(finals)
        # remember the conversation (before streaming, so downloads work mid-stream)
        with st.lock:
            st.files.update(new_files)
            conv = st.conversations.get(cid)
            if conv is None:
                if len(st.conversations) >= MAX_CONVERSATIONS:      # bounded memory under benchmarks
                    for old_id in list(st.conversations)[:MAX_CONVERSATIONS // 5]:
                        del st.conversations[old_id]
                conv = st.conversations[cid] = {
                    "id": cid, "auth": auth, "title": make_title(prompt), "create_time": t0,
                    "update_time": t0, "mapping": {}, "current_node": None, "model": body["model"],
                    "is_archived": False, "is_visible": True, "sandbox": {},
                    "history_disabled": bool(body.get("history_and_training_disabled"))}
            parent = body["parent_message_id"]
            for m in body.get("messages") or []:
                mid = m.get("id") or str(uuid.uuid4())
                conv["mapping"][mid] = {"id": mid, "message": m, "parent": parent, "children": []}
                parent = mid
            for d in finals:
                mid = d["message"]["id"]
                if mid in conv["mapping"] and d is not None and d["message"]["author"]["role"] == "user":
                    continue
                conv["mapping"][mid] = {"id": mid, "message": d["message"], "parent": parent, "children": []}
                parent = mid
            conv["current_node"] = parent
            conv["update_time"] = time.time()
            # what the conversation has seen: a continuation may not send it again
            conv.setdefault("seen", []).extend(
                t for m in body.get("messages") or []
                for t in ["\n".join(p for p in m["content"].get("parts") or [] if isinstance(p, str))]
                if len(t.strip()) >= 8)
            conv.setdefault("transcript", []).extend([mockbase.prompt_text(body.get("messages")), answer])
            if not new_conv:
                st.c["continued_conversations"] = st.c.get("continued_conversations", 0) + 1
            conv["sandbox"].update(new_sandbox)
            st.c["conversations_served"] += 1
            st.c["streams_by_format"][fmt] += 1
            st.bump("streams_by_script", script)
            st.last["account_id"] = self.headers.get("chatgpt-account-id")
            st.last["conversation"] = {
                "path": urlsplit(self.path).path, "auth": "anon" if not auth else "token",
                "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body,
                "cookies": self._cookies(), "format": fmt, "script": script, "markers": markers,
                "prompt": prompt, "reply_text": answer, "conversation_id": cid,
                "message_id": finals[-1]["message"]["id"] if finals else None,
                "messages": [d["message"] for d in finals], "sentinel": sent, "events": len(events),
                "bytes": sum(len(e) for e in events), "completed": False,
                "account_id": self.headers.get("chatgpt-account-id"),
            }
        self._write_stream(events, cfg, markers, cid)

    # ---------------------------------------------------------------- the stream writer
    def _write_stream(self, events, cfg, markers, cid):
        st = self.st
        chunked = self.request_version == "HTTP/1.1"
        self._mark_status(200)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Accel-Buffering", "no")
        self.send_header("cf-ray", _now_ray())
        self.send_header("x-conversation-id", cid)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
        self.end_headers()

        split = markers.get("split", cfg.get("split", "none"))
        split = "none" if split in (None, "") else str(split)
        if split == "1":
            split = "bytes"
        drip = float(markers.get("drip") or cfg.get("drip_ms") or 0) / 1000.0
        close_ev = cfg.get("close_after_events")
        close_mode = cfg.get("close_mode", "fin")
        if "close" in markers:
            close_ev, close_mode = int(markers["close"] or 1), "fin"
        if "reset" in markers:
            close_ev, close_mode = int(markers["reset"] or 1), "reset"
        close_bytes = cfg.get("close_after_bytes")
        if "close_bytes" in markers:
            close_bytes = int(markers["close_bytes"])
        stall_ev = cfg.get("stall_after_events")
        if "stall" in markers:
            stall_ev = int(markers["stall"] or 1)

        blob = b"".join(events)
        starts, pos = [], 0
        for e in events:
            starts.append(pos)
            pos += len(e)
        rng = random.Random(cfg.get("split_seed", 1))
        pieces = []
        if split == "bytes":
            pieces = [(i, blob[i:i + 1]) for i in range(len(blob))]
        elif split == "random":
            mx = max(1, int(cfg.get("random_split_max", 16)))
            i = 0
            while i < len(blob):
                n = rng.randint(1, mx)
                pieces.append((i, blob[i:i + n]))
                i += n
        elif split == "coalesce":
            k = 0
            while k < len(events):
                n = rng.randint(2, 6)
                pieces.append((starts[k], b"".join(events[k:k + n])))
                k += n
        elif split.isdigit():
            n = max(1, int(split))
            pieces = [(i, blob[i:i + n]) for i in range(0, len(blob), n)]
        else:
            pieces = list(zip(starts, events))

        written, cur_ev, events_done = 0, -1, 0
        try:
            for off, piece in pieces:
                ev = bisect.bisect_right(starts, off) - 1
                if ev != cur_ev:
                    events_done = ev
                    if close_ev is not None and ev >= int(close_ev):
                        raise Abort("close_after_events")
                    if stall_ev is not None and ev >= int(stall_ev):
                        st.bump("stalls")
                        self._wait(float(cfg.get("stall_max_s", 300)))
                        raise Abort("stall ended")
                    if drip and ev > 0:
                        self._wait(drip)
                    elif self._peer_closed():
                        raise ClientGone("peer closed")
                    cur_ev = ev
                if close_bytes is not None and written + len(piece) > int(close_bytes):
                    part = piece[:max(0, int(close_bytes) - written)]
                    if part:
                        self._write_piece(part, chunked)
                        written += len(part)
                    raise Abort("close_after_bytes")
                self._write_piece(piece, chunked)
                written += len(piece)
            # bookkeeping before the terminating chunk: a client that has read the whole
            # response sees consistent counters in /_mock/state
            with st.lock:
                st.c["conversations_completed"] += 1
                lc = st.last["conversation"]
                if lc and lc.get("conversation_id") == cid:
                    lc["completed"] = True
            if chunked:
                self._raw_write(b"0\r\n\r\n")
            else:
                self.close_connection = True
        except (ClientGone, BrokenPipeError, ConnectionResetError, ConnectionAbortedError, socket.timeout) as e:
            with st.lock:
                st.c["client_disconnects"] += 1
                st.last["disconnect"] = {"t": round(time.time(), 3), "conversation_id": cid,
                                         "bytes_written": written, "events_started": events_done,
                                         "reason": str(e) or type(e).__name__}
            self.close_connection = True
            return
        except Abort as e:
            with st.lock:
                st.c["server_aborts"] += 1
            self.close_connection = True
            if close_mode == "reset" or str(e) == "server stopping":
                self._reset_connection()
            return

    def _raw_write(self, data):
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, socket.timeout) as e:
            raise ClientGone(type(e).__name__)
        except OSError as e:
            raise ClientGone(str(e))

    def _write_piece(self, piece, chunked):
        if chunked:
            self._raw_write(b"%x\r\n" % len(piece) + piece + b"\r\n")
        else:
            self._raw_write(piece)

    def _reset_connection(self):
        """Abort with a TCP RST: linger 0, then close before socketserver's shutdown(SHUT_WR)
        could send a FIN (the fd really closes when rfile/wfile are closed in finish())."""
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    # ---------------------------------------------------------------- files
    def _files_gate(self, kind):
        auth = self._auth(kind)
        if auth is None:
            return None
        if self.st.take_cf("files", auth):
            return self._cf_page()
        f = self.st.take_fault("files_status", auth)
        if f:
            return self._fault(f, "files")
        return auth

    def _file_for(self, fid, auth):
        with self.st.lock:
            f = self.st.files.get(fid)
            if f is None or (f.get("owner") != auth and not f.get("generated")):
                return None
            return f

    def h_files_create(self, kind):
        auth = self._files_gate(kind)
        if auth is None:
            return
        body, ok = self._json_body()
        if not ok:
            return
        if not isinstance(body, dict):
            return self._reject(400, {"detail": "body must be an object"}, "files body not an object")
        name, size, uc = body.get("file_name"), body.get("file_size"), body.get("use_case")
        if not isinstance(name, str) or not name:
            return self._reject(400, {"detail": "file_name is required"}, "files: file_name missing")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            return self._reject(400, {"detail": "file_size must be a non-negative integer"},
                                "files: file_size not an integer")
        if uc not in USE_CASES:
            return self._reject(400, {"detail": "use_case must be one of %s" % sorted(USE_CASES)},
                                "files: bad use_case %r" % uc)
        fid = "file-" + "".join(random.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
                                for _ in range(24))
        sig = _b64url(os.urandom(24))
        with self.st.lock:
            self.st.files[fid] = {"id": fid, "name": name, "size": size, "use_case": uc, "mime": None,
                                  "owner": auth, "put_done": False, "uploaded": False, "data": None,
                                  "sig": sig, "polls": 0, "put_headers": None, "generated": False}
        url = "%s/blob/%s?se=2099-01-01T00%%3A00%%3A00Z&sp=cw&sv=2020-04-08&sr=b&sig=%s" % (
            self._host_url(), fid, sig)
        self._json(200, {"status": "success", "file_id": fid, "upload_url": url})

    def h_blob_put(self, fid):
        def azure_err(status, code, msg, reason):
            xml = ('<?xml version="1.0" encoding="utf-8"?><Error><Code>%s</Code><Message>%s\n'
                   'RequestId:%s\nTime:%s</Message></Error>'
                   % (code, msg, uuid.uuid4(), time.strftime("%Y-%m-%dT%H:%M:%S.0000000Z", time.gmtime())))
            return self._reject(status, xml, reason, "application/xml")
        with self.st.lock:
            f = self.st.files.get(fid)
        if f is None or f.get("generated"):
            return azure_err(404, "BlobNotFound", "The specified blob does not exist.", "blob: unknown file id")
        sig = (self.query.get("sig") or [None])[0]
        if sig != f["sig"]:
            return azure_err(403, "AuthenticationFailed", "Server failed to authenticate the request.",
                             "blob: missing or wrong sig")
        if self.st.config.get("blob_reject_auth", True) and self.headers.get("Authorization"):
            return azure_err(400, "InvalidAuthenticationInfo",
                             "Authentication information is not given in the correct format.",
                             "blob: Authorization header sent to the storage URL (access token leak)")
        if (self.headers.get("x-ms-blob-type") or "") != "BlockBlob":
            return azure_err(400, "MissingRequiredHeader",
                             "An HTTP header that's mandatory for this request is not specified.",
                             "blob: x-ms-blob-type: BlockBlob missing")
        with self.st.lock:
            f["data"] = self.body
            f["put_done"] = True
            f["mime"] = (self.headers.get("Content-Type") or "application/octet-stream").split(";")[0].strip()
            f["bytes_received"] = len(self.body)
            f["put_headers"] = {k.lower(): v for k, v in self.headers.items()}
            self.st.c["uploads"] += 1
            self.st.last["upload"] = {"file_id": fid, "bytes": len(self.body), "mime": f["mime"],
                                      "declared_size": f["size"], "headers": f["put_headers"]}
        md5 = base64.b64encode(hashlib.md5(self.body).digest()).decode()
        self._send(201, b"", None, [("ETag", '"0x8DC%012X"' % random.getrandbits(48)),
                                    ("Last-Modified", time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())),
                                    ("Content-MD5", md5), ("x-ms-request-id", str(uuid.uuid4())),
                                    ("x-ms-version", "2020-04-08"), ("x-ms-request-server-encrypted", "true")],
                   compress=False)

    def h_files_uploaded(self, kind, fid):
        auth = self._files_gate(kind)
        if auth is None:
            return
        f = self._file_for(fid, auth)
        if f is None:
            return self._reject(404, {"detail": "File not found"}, "uploaded: unknown file %s" % fid)
        if not f.get("put_done"):
            return self._reject(400, {"detail": "File has not been uploaded"}, "uploaded: no PUT before")
        if f.get("bytes_received") != f["size"]:
            return self._reject(400, {"detail": "Uploaded size %s does not match file_size %s"
                                                % (f.get("bytes_received"), f["size"])},
                                "uploaded: size mismatch")
        with self.st.lock:
            f["uploaded"] = True
        self._json(200, {"status": "success", "download_url": "%s/dl/%s" % (self._host_url(), fid)})

    def h_files_status(self, kind, fid):
        auth = self._files_gate(kind)
        if auth is None:
            return
        f = self._file_for(fid, auth)
        if f is None:
            return self._reject(404, {"detail": "File not found"}, "files get: unknown file %s" % fid)
        with self.st.lock:
            f["polls"] = f.get("polls", 0) + 1
            pending = f["polls"] <= int(self.st.config.get("index_pending_polls", 0))
        self._json(200, {"file_id": fid, "file_name": f["name"], "file_size": f["size"],
                         "use_case": f.get("use_case"), "upload_status": "success" if f.get("uploaded") else "pending",
                         "retrieval_index_status": "pending" if pending else "success",
                         "file_size_tokens": max(1, (f.get("size") or 0) // 4)})

    def _download_json(self, f):
        self._json(200, {"status": "success", "download_url": "%s/dl/%s?sig=%s" % (
            self._host_url(), f["id"], _b64url(os.urandom(9))), "metadata": {}, "file_name": f["name"],
            "creation_time": time.strftime("%Y-%m-%d %H:%M:%S.000000+00:00", time.gmtime())})

    def h_files_download(self, kind, fid):
        auth = self._files_gate(kind)
        if auth is None:
            return
        f = self._file_for(fid, auth)
        if f is None or not f.get("uploaded"):
            return self._reject(404, {"detail": "File not found"}, "download: unknown file %s" % fid)
        self._download_json(f)

    def _conv_for(self, cid, auth):
        with self.st.lock:
            c = self.st.conversations.get(cid)
            if c is None or c.get("auth") != auth:
                return None
            return c

    def h_attachment_download(self, kind, cid, fid):
        auth = self._files_gate(kind)
        if auth is None:
            return
        if self._conv_for(cid, auth) is None:
            return self._reject(404, {"detail": "Conversation not found"}, "attachment: unknown conversation")
        f = self._file_for(fid, auth)
        if f is None or not f.get("uploaded"):
            return self._reject(404, {"detail": "File not found"}, "attachment: unknown file %s" % fid)
        self._download_json(f)

    def h_interpreter_download(self, kind, cid):
        auth = self._files_gate(kind)
        if auth is None:
            return
        conv = self._conv_for(cid, auth)
        if conv is None:
            return self._reject(404, {"detail": "Conversation not found"}, "interpreter: unknown conversation")
        mid = (self.query.get("message_id") or [None])[0]
        sp = (self.query.get("sandbox_path") or [None])[0]
        if not mid or not sp:
            return self._reject(422, {"detail": [{"type": "missing", "loc": ["query", "message_id" if not mid
                                                                                 else "sandbox_path"],
                                                  "msg": "Field required"}]},
                                "interpreter: message_id and sandbox_path are required")
        if mid not in conv["mapping"]:
            return self._reject(404, {"detail": "Message not found"}, "interpreter: unknown message_id")
        ent = conv["sandbox"].get(sp)
        if ent is None:
            return self._reject(404, {"detail": "File not found"}, "interpreter: unknown sandbox_path %r" % sp)
        with self.st.lock:
            f = self.st.files[ent["file_id"]]
        self._json(200, {"status": "success", "download_url": "%s/dl/%s" % (self._host_url(), f["id"]),
                         "file_name": f["name"], "file_size_bytes": f["size"]})

    def h_dl(self, fid):
        with self.st.lock:
            f = self.st.files.get(fid)
        if f is None or f.get("data") is None or not f.get("uploaded"):
            return self._reject(404, "<Error><Code>BlobNotFound</Code></Error>", "dl: unknown file",
                                "application/xml")
        self._send(200, f["data"], f.get("mime") or "application/octet-stream",
                   [("Content-Disposition", 'attachment; filename="%s"' % f["name"])], compress=False)

    # ---------------------------------------------------------------- OAuth
    def h_oauth(self):
        st = self.st
        if st.take_cf("oauth", None):
            return self._cf_page()
        f = st.take_fault("oauth_status", None)
        if f:
            return self._fault(f, "oauth")
        ct = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        try:
            if ct == "application/x-www-form-urlencoded":
                body = {k: v[0] for k, v in parse_qs(self.body.decode("utf-8")).items()}
            else:
                body = json.loads(self.body.decode("utf-8"))
        except Exception:
            return self._reject(400, {"error": "invalid_request", "error_description": "Malformed body"},
                                "oauth: body is neither JSON nor a form")
        if not isinstance(body, dict):
            return self._reject(400, {"error": "invalid_request", "error_description": "Malformed body"},
                                "oauth: body not an object")
        rt = body.get("refresh_token")
        with st.lock:
            st.last["oauth"] = {"body": body, "content_type": ct}

        def fail(status, err, desc, reason):
            if isinstance(rt, str):
                st.bump("oauth_failures", rt)
            return self._reject(status, {"error": err, "error_description": desc}, reason)
        if body.get("client_id") not in st.config.get("oauth_client_ids", [OAUTH_CLIENT_ID]):
            return fail(401, "invalid_client", "Client authentication failed.",
                        "oauth: unknown client_id %r" % body.get("client_id"))
        if body.get("grant_type") != "refresh_token":
            return fail(400, "unsupported_grant_type", "Unsupported grant type.",
                        "oauth: grant_type %r" % body.get("grant_type"))
        if not isinstance(body.get("redirect_uri"), str) or not REDIRECT_URI_RE.match(body["redirect_uri"]):
            return fail(400, "invalid_request", "The redirect_uri is not valid for this client.",
                        "oauth: redirect_uri %r" % body.get("redirect_uri"))
        if not isinstance(rt, str) or not rt:
            return fail(400, "invalid_request", "Missing refresh_token.", "oauth: no refresh_token")
        with st.lock:
            at = st.refresh_tokens.get(rt)
        if at is None:
            return fail(400, "invalid_grant", "Unknown or invalid refresh token.", "oauth: unknown refresh token")
        with st.lock:
            st.access_tokens.add(at)
            st.bump("oauth_exchanges", rt)
        self._json(200, {"access_token": at, "refresh_token": rt, "id_token": make_jwt("id-" + rt[-6:]),
                         "scope": "openid profile email offline_access model.request model.read "
                                  "organization.read offline", "expires_in": 864000, "token_type": "Bearer"})

    # ---------------------------------------------------------------- gateway extras
    def h_models(self):
        if self._auth("api") is None:
            return
        self._json(200, {"models": [
            {"slug": "gpt-4o", "max_tokens": 8191, "title": "GPT-4o", "description": "Newest and most advanced model",
             "tags": [], "capabilities": {}, "product_features": {}},
            {"slug": "gpt-4o-mini", "max_tokens": 8191, "title": "GPT-4o mini", "description": "Faster",
             "tags": [], "capabilities": {}, "product_features": {}},
            {"slug": "o1", "max_tokens": 8191, "title": "o1", "description": "Reasoning", "tags": [],
             "capabilities": {}, "product_features": {}},
            {"slug": "auto", "max_tokens": 8191, "title": "Auto", "description": "Auto", "tags": [],
             "capabilities": {}, "product_features": {}}],
            "categories": [], "default_model_slug": "auto"})

    def h_accounts_check(self):
        if self._auth("api") is None:
            return
        self._json(200, {"accounts": {"acc-1": {"account": {
            "account_id": "acc-1", "account_user_id": "user-abc__acc-1", "plan_type": "plus",
            "is_deactivated": False, "structure": "personal", "name": None},
            "features": [], "entitlement": {"has_active_subscription": True, "subscription_plan": "chatgptplusplan"}}},
            "account_ordering": ["acc-1"]})

    def h_conversations(self):
        auth = self._auth("api")
        if auth is None:
            return
        off = int((self.query.get("offset") or ["0"])[0] or 0)
        lim = int((self.query.get("limit") or ["28"])[0] or 28)
        with self.st.lock:
            items = [c for c in self.st.conversations.values()
                     if c["auth"] == auth and c["is_visible"] and not c["history_disabled"]]
            items.sort(key=lambda c: -c["update_time"])
            page = [{"id": c["id"], "title": c["title"], "create_time": _iso(c["create_time"]),
                     "update_time": _iso(c["update_time"]), "mapping": None, "current_node": None,
                     "conversation_template_id": None, "gizmo_id": None, "is_archived": c["is_archived"],
                     "workspace_id": None, "async_status": None} for c in items[off:off + lim]]
        self._json(200, {"items": page, "total": len(items), "limit": lim, "offset": off,
                         "has_missing_conversations": False})

    def h_conversation_get(self, cid):
        auth = self._auth("api")
        if auth is None:
            return
        c = self._conv_for(cid, auth)
        if c is None or not c["is_visible"]:
            return self._reject(404, {"detail": "Can't load conversation %s" % cid}, "conversation get: unknown id")
        with self.st.lock:
            mapping = {}
            for mid, node in c["mapping"].items():
                mapping[mid] = {"id": mid, "message": node["message"], "parent": node["parent"], "children": []}
            for mid, node in mapping.items():
                if node["parent"] in mapping:
                    mapping[node["parent"]]["children"].append(mid)
            out = {"title": c["title"], "create_time": c["create_time"], "update_time": c["update_time"],
                   "mapping": mapping, "moderation_results": [], "current_node": c["current_node"],
                   "plugin_ids": None, "conversation_id": cid, "conversation_template_id": None,
                   "gizmo_id": None, "is_archived": c["is_archived"], "safe_urls": [],
                   "default_model_slug": c["model"]}
        self._json(200, out)

    def h_conversation_patch(self, cid):
        auth = self._auth("api")
        if auth is None:
            return
        body, ok = self._json_body()
        if not ok:
            return
        c = self._conv_for(cid, auth)
        if c is None:
            return self._reject(404, {"detail": "Can't load conversation %s" % cid}, "conversation patch: unknown id")
        if not isinstance(body, dict):
            return self._reject(400, {"detail": "body must be an object"}, "conversation patch: not an object")
        with self.st.lock:
            if body.get("is_visible") is False:
                c["is_visible"] = False
            if "title" in body and isinstance(body["title"], str):
                c["title"] = body["title"]
            if "is_archived" in body:
                c["is_archived"] = bool(body["is_archived"])
        self._json(200, {"success": True})

    # ---------------------------------------------------------------- solvers
    def h_arkose(self):
        body, ok = self._json_body(require_ct=False)
        if not ok:
            return
        self.st.bump("solver_requests", "arkose")
        with self.st.lock:
            self.st.last["solver"] = {"kind": "arkose", "body": body}
        if not isinstance(body, dict) or not isinstance(body.get("blob"), str) or \
                body.get("method") not in ("chat35", "chat4"):
            return self._reject(400, {"solved": False, "error": "need blob and method chat35|chat4"},
                                "arkose solver: bad body")
        if not self.st.config.get("arkose_solved", True):
            return self._json(200, {"solved": False, "token": None})
        self._json(200, {"solved": True, "token": "arkose-test"})

    def h_turnstile(self):
        body, ok = self._json_body(require_ct=False)
        if not ok:
            return
        self.st.bump("solver_requests", "turnstile")
        with self.st.lock:
            self.st.last["solver"] = {"kind": "turnstile", "body": body}
        if not isinstance(body, dict) or not body.get("dx") or not str(body.get("p", "")).startswith("gAAAAAC"):
            return self._reject(400, {"error": "need url, p (gAAAAAC...), dx and ua"}, "turnstile solver: bad body")
        # A working solver service: it runs the challenge like a browser.
        try:
            t = turnstile.solve(body["dx"], body["p"])
        except Exception as e:  # noqa: BLE001
            return self._reject(422, {"error": "cannot solve: %s" % e}, "turnstile solver: unsolvable")
        self._json(200, {"t": t})

    # ---------------------------------------------------------------- control API
    def h_mock_state(self):
        self._cfg_gzip = False
        snap = self.st.snapshot()
        snap["port"] = self.server.server_address[1]
        self._json(200, snap)

    def h_mock_config_get(self):
        self._cfg_gzip = False
        self._json(200, self.st.public_config())

    def h_mock_config(self):
        self._cfg_gzip = False
        try:
            obj = json.loads(self.body.decode("utf-8") or "{}")
            cfg = self.st.configure(obj)
        except (ValueError, TypeError, AttributeError) as e:
            return self._json(400, {"detail": "bad config: %s" % e})
        self._json(200, cfg)

    def h_mock_reset(self):
        self._cfg_gzip = False
        try:
            obj = json.loads(self.body.decode("utf-8") or "{}")
        except ValueError:
            obj = {}
        self.mock.reset(config=bool(obj.get("config") or obj.get("all")), all=bool(obj.get("all")))
        self._json(200, {"status": "ok"})


def _iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%06dZ" % int((t % 1) * 1e6)


ROUTES = [(m, re.compile(rx), name) for m, rx, name in [
    ("GET", r"/", "home"),
    ("GET", r"/(?:_next/static|assets)/.+", "static"),
    ("GET", r"/backend-(?:api|anon)/sentinel/sdk\.js", "static"),
    ("POST", r"/backend-(api|anon)/sentinel/chat-requirements", "sentinel"),
    ("POST", r"/backend-(api|anon)/(?:f/)?conversation", "conversation"),
    ("POST", r"/backend-(api|anon)/files", "files_create"),
    ("POST", r"/backend-(api|anon)/files/([^/]+)/uploaded", "files_uploaded"),
    ("GET", r"/backend-(api|anon)/files/([^/]+)/download", "files_download"),
    ("GET", r"/backend-(api|anon)/files/([^/]+)", "files_status"),
    ("GET", r"/backend-(api|anon)/conversation/([^/]+)/attachment/([^/]+)/download", "attachment_download"),
    ("GET", r"/backend-(api|anon)/conversation/([^/]+)/interpreter/download", "interpreter_download"),
    ("PUT", r"/blob/([^/]+)", "blob_put"),
    ("GET", r"/dl/([^/]+)", "dl"),
    ("POST", r"/oauth/token", "oauth"),
    ("GET", r"/backend-api/models", "models"),
    ("GET", r"/backend-api/accounts/check/v4-2023-04-27", "accounts_check"),
    ("GET", r"/backend-api/conversations", "conversations"),
    ("GET", r"/backend-api/conversation/([^/]+)", "conversation_get"),
    ("PATCH", r"/backend-api/conversation/([^/]+)", "conversation_patch"),
    ("POST", r"/arkose", "arkose"),
    ("POST", r"/turnstile", "turnstile"),
    ("GET", r"/_mock/state", "mock_state"),
    ("GET", r"/_mock/config", "mock_config_get"),
    ("POST", r"/_mock/config", "mock_config"),
    ("POST", r"/_mock/reset", "mock_reset"),
]]


# --------------------------------------------------------------------------- server object

class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # Clients dropping idle keep-alive connections is normal, not news.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionResetError, BrokenPipeError, TimeoutError)):
            return
        # a client refusing our certificate (a test of that) is not news
        if isinstance(exc, ssl.SSLError) or isinstance(exc, OSError) and "SSL" in str(exc):
            return
        super().handle_error(request, client_address)

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class ChatGPTMock:
    """The mock as an object: ChatGPTMock(port=0).start() ... .stop()."""

    handler = Handler       # a site mock (chatgpt_site_mock.py) brings its own

    def __init__(self, host="127.0.0.1", port=0, access_tokens=(), refresh_tokens=None, config=None,
                 verbose=False, tls=None):
        self.state = MockState(access_tokens, refresh_tokens, config)
        self.verbose = verbose
        self._stopping = threading.Event()
        self._conns = set()
        self._conns_lock = threading.Lock()
        self.httpd = _Server((host, port), self.handler)
        self.httpd.mock = self
        # tls: an ssl.SSLContext (server side); the handshake runs in the
        # connection's thread, so a client that never finishes it stalls
        # nobody else
        self.tls = tls
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True,
                                                do_handshake_on_connect=False)
        self.host = host
        self.port = self.httpd.server_address[1]
        self._thread = None

    @property
    def url(self):
        return "%s://%s:%d" % ("https" if self.tls else "http", self.host, self.port)

    def _track(self, conn, add):
        with self._conns_lock:
            if add:
                self._conns.add(conn)
            else:
                self._conns.discard(conn)

    def start(self):
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="chatgpt-mock", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self):
        self.httpd.serve_forever(poll_interval=0.1)

    def stop(self):
        self._stopping.set()
        self.httpd.shutdown()
        with self._conns_lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.httpd.server_close()
        if self._thread:
            self._thread.join(5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # convenience for in-process tests
    def configure(self, obj=None, **kw):
        d = dict(obj or {})
        d.update(kw)
        return self.state.configure(d)

    def snapshot(self):
        return self.state.snapshot()

    def reset(self, config=False, all=False):
        st = self.state
        with st.lock:
            st.reset_counters()
            if config:
                st.config = copy.deepcopy(st.base_config)
            if all:
                st.tokens.clear()
                st.conversations.clear()
                st.files.clear()

    def wait_for(self, pred, timeout=5.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            s = self.snapshot()
            if pred(s):
                return s
            time.sleep(0.02)
        return None


# --------------------------------------------------------------------------- CLI

def main(argv=None):
    ap = argparse.ArgumentParser(description="Loopback mock of the ChatGPT web backend")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", help="write the chosen port here when ready")
    ap.add_argument("--access-token", action="append", default=[], help="extra known access token")
    ap.add_argument("--refresh-token", action="append", default=[], metavar="RT=AT",
                    help="known refresh token and the access token it yields")
    ap.add_argument("--config", help="initial configuration (JSON object, as POST /_mock/config)")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args(argv)
    rts = {}
    for item in a.refresh_token:
        if "=" not in item:
            ap.error("--refresh-token wants RT=AT")
        rt, at = item.split("=", 1)
        rts[rt] = at
    cfg = json.loads(a.config) if a.config else None
    mock = ChatGPTMock(a.host, a.port, a.access_token, rts, cfg, a.verbose)

    def on_signal(signum, frame):
        threading.Thread(target=mock.stop, daemon=True).start()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if a.port_file:
        tmp = a.port_file + ".tmp%d" % os.getpid()
        with open(tmp, "w") as f:
            f.write("%d\n" % mock.port)
        os.replace(tmp, a.port_file)
    sys.stderr.write("chatgpt mock listening on %s\n  access token  %s\n  refresh token %s\n"
                     % (mock.url, DEFAULT_ACCESS_TOKEN, DEFAULT_REFRESH_TOKEN))
    sys.stderr.flush()
    mock.serve_forever()
    mock.httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
