# -*- coding: utf-8 -*-
"""What tests/mock/zai_mock.py knows of the Z.ai protocol (shared/protocols/providers.md
section 8), apart from serving it: the constants, the login tokens the mock mints (JWT, HS256
with its own key), X-Signature (8.4), the URLSearchParams form coding and the time formats of
the query (8.3), the event stream of an answer (8.5), and the checks of the chat and of the
completion's query.  Python 3 standard library only; zai_mock re-exports every name, so tests
import them from there.
"""

import base64
import datetime
import hashlib
import hmac
import json
import re
import time
import uuid
import mockbase  # noqa: E402  (tool answers)


# --------------------------------------------------------------------------- protocol constants

ORIGIN = "https://chat.z.ai"
SIGN_KEY = "key-@@@@)))()((9))-xxxx&&&%%%%%"
SIGN_WINDOW_MS = 300000
MOCK_JWT_KEY = b"zai-mock-jwt-signing-key"
SIGNATURE_FAILED = "403: Signature validation failed: \u7b7e\u540d\u9a8c\u8bc1\u5931\u8d25"
GUEST_REFUSED = "Model not available for current user level"
MODELS = ("GLM-5-Turbo", "glm-5", "glm-4.7", "glm-4.6v", "glm-4.5v", "glm-4.5-air")
GUEST_BARRED = ("GLM-5-Turbo", "glm-5")
QUERY_ORDER = (
    "timestamp", "requestId", "user_id", "version", "platform", "token", "user_agent",
    "language", "languages", "timezone", "cookie_enabled", "screen_width", "screen_height",
    "screen_resolution", "viewport_height", "viewport_width", "viewport_size", "color_depth",
    "pixel_ratio", "current_url", "pathname", "search", "hash", "host", "hostname", "protocol",
    "referrer", "title", "timezone_offset", "local_time", "utc_time", "is_mobile", "is_touch",
    "max_touch_points", "browser_name", "os_name", "signature_timestamp")
QUERY_CONST = {
    "version": "0.0.1", "platform": "web", "language": "zh-CN", "languages": "zh-CN,zh",
    "timezone": "Asia/Shanghai", "cookie_enabled": "true", "screen_width": "1512",
    "screen_height": "982", "screen_resolution": "1512x982", "viewport_height": "945",
    "viewport_width": "923", "viewport_size": "923x945", "color_depth": "30", "pixel_ratio": "2",
    "search": "", "hash": "", "host": "chat.z.ai", "hostname": "chat.z.ai", "protocol": "https:",
    "referrer": "", "title": "Z.ai - Free AI Chatbot & Agent powered by GLM-5 & GLM-4.7",
    "timezone_offset": "-480", "is_mobile": "false", "is_touch": "false",
    "max_touch_points": "0", "browser_name": "Chrome", "os_name": "Mac OS"}
FEATURES = {"image_generation": bool, "web_search": bool, "auto_web_search": bool,
            "preview_mode": bool, "flags": list, "vlm_tools_enable": bool,
            "vlm_web_search_enable": bool, "vlm_website_mode": bool, "enable_thinking": bool}
VARIABLES = ("{{USER_NAME}}", "{{USER_LOCATION}}", "{{CURRENT_DATETIME}}", "{{CURRENT_DATE}}",
             "{{CURRENT_TIME}}", "{{CURRENT_WEEKDAY}}", "{{CURRENT_TIMEZONE}}",
             "{{USER_LANGUAGE}}")
BODY_KEYS = ("stream", "model", "messages", "signature_prompt", "params", "extra", "features",
             "variables", "chat_id", "id", "current_user_message_id",
             "current_user_message_parent_id", "background_tasks")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
FE_RE = re.compile(r"^prod-fe-\d+\.\d+\.\d+$")
MARKER_RE = re.compile(r"\[\[([a-z_]+)(?::([^\]]*))?\]\]")
PIECES = (3, 5, 2, 7, 4, 6, 1, 8)               # code points per delta, cycled
UNICODE_TAIL = " \u2014 \u4f60\u597d\uff0c\u4e16\u754c\uff01\U0001f600\U0001f433 \u667a\u8c31 \u00e9\u00e8 \U0001f389"
SEARCH_SUFFIX = (" Found this\u3010turn0search0\u3011 and that\u3010turn0search1\u3011"
                 " (\u3010plain\u3011 stays).")
ERRORS = ("data", "top", "string", "rate")


# --------------------------------------------------------------------------- protocol helpers

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_token(user_id=None, email=None, exp=None, id_claim="id", key=MOCK_JWT_KEY, extra=None):
    """A login JWT as the mock issues it (HS256 with the mock's key)."""
    payload = {id_claim: user_id or str(uuid.uuid4()), "email": email or "user@example.com"}
    if exp is not None:
        payload["exp"] = exp
    payload.update(extra or {})
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = b64url(json.dumps(payload, separators=(",", ":")).encode())
    sig = hmac.new(key, ("%s.%s" % (head, body)).encode(), hashlib.sha256).digest()
    return "%s.%s.%s" % (head, body, b64url(sig))


def jwt_payload(token):
    """(payload, None) for a token signed with the mock's key, else (None, reason)."""
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        return None, "not a JWT"
    want = b64url(hmac.new(MOCK_JWT_KEY, ("%s.%s" % (parts[0], parts[1])).encode(),
                           hashlib.sha256).digest())
    if not hmac.compare_digest(want, parts[2]):
        return None, "JWT signature is not the mock's"
    try:
        pad = "=" * (-len(parts[1]) % 4)
        return json.loads(base64.urlsafe_b64decode(parts[1] + pad)), None
    except ValueError:
        return None, "JWT payload is not JSON"


def user_id_of(payload):
    for k in ("id", "user_id", "uid", "sub"):
        v = payload.get(k)
        if isinstance(v, str) and v:
            return v
        if isinstance(v, int) and not isinstance(v, bool):
            return str(v)
    return "guest"


def canonical(request_id, ts, user_id, prompt):
    meta = "requestId,%s,timestamp,%s,user_id,%s" % (request_id, ts, user_id)
    return "%s|%s|%s" % (meta, base64.b64encode(prompt.encode("utf-8")).decode("ascii"), ts)


def signature(request_id, ts, user_id, prompt, key=SIGN_KEY):
    """8.4: (X-Signature, canonical string, window key)."""
    k = hmac.new(key.encode(), str(int(ts) // SIGN_WINDOW_MS).encode(), hashlib.sha256).hexdigest()
    can = canonical(request_id, ts, user_id, prompt)
    return hmac.new(k.encode(), can.encode("utf-8"), hashlib.sha256).hexdigest(), can, k


def form_encode(s):
    """One value as URLSearchParams writes it."""
    out = []
    for b in s.encode("utf-8"):
        c = chr(b)
        if c.isascii() and (c.isalnum() or c in "*-._"):
            out.append(c)
        elif c == " ":
            out.append("+")
        else:
            out.append("%%%02X" % b)
    return "".join(out)


def form_decode(s):
    raw, i = bytearray(), 0
    while i < len(s):
        c = s[i]
        if c == "+":
            raw.append(0x20)
        elif c == "%":
            h = s[i + 1:i + 3]
            if len(h) != 2 or any(x not in "0123456789abcdefABCDEF" for x in h):
                raise ValueError("bad escape")
            raw.append(int(h, 16))
            i += 2
        else:
            raw += c.encode("utf-8")
        i += 1
    return raw.decode("utf-8")


def iso_time(ms):
    t = datetime.datetime.fromtimestamp(ms / 1000.0, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)


def utc_time(ms):
    t = datetime.datetime.fromtimestamp(ms // 1000, datetime.timezone.utc)
    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    return "%s, %02d %s %04d %02d:%02d:%02d GMT" % (days[t.weekday()], t.day, months[t.month - 1],
                                                   t.year, t.hour, t.minute, t.second)


def pieces(text):
    out, i, k = [], 0, 0
    while i < len(text):
        n = PIECES[k % len(PIECES)]
        out.append(text[i:i + n])
        i += n
        k += 1
    return out


def shown(reply):
    """What a client shows of an answer: the search citation markers taken out."""
    return re.sub("\u3010[^\u3010\u3011]*turn\\d+search\\d+[^\u3010\u3011]*\u3011", "", reply)


DEFAULT_USER = "d0d30815-b85a-4270-af63-b5346a9f3b13"
DEFAULT_TOKEN = make_token(DEFAULT_USER, "mock-user-1@example.com")
OTHER_TOKEN = make_token("7c1e9a52-3f4b-4d8e-9a61-2b5c7d9e0f13", "mock-user-2@example.com")
GUEST_TOKEN = make_token("guest-5e2f8c1a", "guest-5e2f8c1a@guest.com")
EXPIRED_TOKEN = make_token("3a9d4b7e-1c2f-4e5a-8b6d-9f0e1a2b3c4d", "mock-user-old@example.com",
                           exp=1600000000)

CF_HTML = """<!DOCTYPE html>
<html lang="en-US"><head><title>chat.z.ai | %d: %s</title></head><body><div id="cf-wrapper">
<div id="cf-error-details"><h1><span class="cf-error-code">%d</span></h1><h2>%s</h2>
<p>Cloudflare Ray ID: <strong>%016x</strong></p></div></div></body></html>
"""
WAF_HTML = """<!DOCTYPE html><html><head><title>405</title></head><body>
<h1>Sorry, your request has been blocked as it may cause potential threats to the server's
security.</h1><p>Aliyun WAF</p></body></html>
"""


# --------------------------------------------------------------------------- the stream

def event(data, ascii_, nl, top=None):
    obj = {"type": "chat:completion", "data": data}
    if top:
        obj.update(top)
    return ("data: " + json.dumps(obj, ensure_ascii=ascii_, separators=(",", ":")) + nl + nl
            ).encode("utf-8")


def build_stream(body, text, cfg, mk):
    """The events of one answer and what a client must show of it."""
    ascii_ = "ascii" in mk or bool(cfg["json_ascii"])
    nl = "\r\n" if "crlf" in mk or cfg["crlf"] else "\n"
    feats = body["features"]
    think, search = feats["enable_thinking"], feats["auto_web_search"]
    reply = mockbase.tool_reply(mockbase.prompt_text(body), mk, cfg) or \
        mockbase.structured_reply(mockbase.prompt_text(body), mk) or "You said: " + text
    if "unicode" in mk or cfg["unicode"]:
        reply += UNICODE_TAIL
    words = int(mk.get("long") or cfg["long_words"] or 0)
    reply += "".join(" word%d" % i for i in range(1, words + 1))
    if search:
        reply += SEARCH_SUFFIX
    reasoning = "Thinking about: %s. The user wants an echo, so I will echo it." % text if think \
        else ""
    usage = {"prompt_tokens": 11 + len(text) // 4, "completion_tokens": 3 + len(reply) // 4}
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    ev = []
    if search:
        cid = "call_" + uuid.uuid4().hex[:12]
        ev.append(event({"phase": "tool_call", "delta_name": "search",
                         "delta_arguments": "{\"queries\":[", "metadata": {"tool_call_id": cid}},
                        ascii_, nl))
        ev.append(event({"phase": "tool_call", "delta_arguments": json.dumps(text) + "]}",
                         "metadata": {"tool_call_id": cid}}, ascii_, nl))
        ev.append(event({"phase": "tool_response", "tool_name": "search", "status": "completed",
                         "delta_content": "Found 2 web pages", "metadata": {"tool_call_id": cid}},
                        ascii_, nl))
    if think:
        parts = pieces(reasoning)
        if (mk.get("think") or cfg["think_style"]) == "details":
            parts[0] = '<details type="reasoning" done="false">' + parts[0]
            parts[-1] += "</details>"
        for p in parts:
            ev.append(event({"phase": "thinking", "delta_content": p}, ascii_, nl))
    err = mk.get("error") or cfg["stream_error"]
    if err or (mk.get("sign") == "stream" and body.get("_bad_signature")):
        return stream_error(ev, err or "sign", reply, reasoning, ascii_, nl)
    if body.get("_guest_refused"):
        ev.append(event({"error": {"code": 403, "detail": GUEST_REFUSED}, "done": True},
                        ascii_, nl))
        return ev, "", reasoning, None
    end = mk.get("end") or cfg["end_style"]
    parts = pieces(reply)
    for i, p in enumerate(parts):
        d = {"phase": "answer", "delta_content": p}
        if end == "flag" and i == len(parts) - 1:
            d["done"] = True
        ev.append(event(d, ascii_, nl))
    where = mk.get("usage") or cfg["usage_in"]
    if where in ("other", "both"):
        ev.append(event({"phase": "other", "usage": usage}, ascii_, nl))
    if end == "done":
        d = {"phase": "done", "done": True, "delta_content": ""}
        if where in ("done", "both"):
            d["usage"] = usage
        ev.append(event(d, ascii_, nl))
    return ev, shown(reply), reasoning, usage if where != "none" else None


def stream_error(ev, kind, reply, reasoning, ascii_, nl):
    """Half the answer, then an error of the given kind (ERRORS, or "sign")."""
    parts = pieces(reply)
    half = parts[:max(1, len(parts) // 2)]
    for p in half:
        ev.append(event({"phase": "answer", "delta_content": p}, ascii_, nl))
    if kind == "top":
        ev.append(event({"phase": "answer"}, ascii_, nl,
                        top={"error": {"detail": "Internal error", "code": 500}}))
    elif kind == "string":
        ev.append(event({"error": "Stream interrupted by the server", "done": True}, ascii_, nl))
    elif kind == "rate":
        ev.append(event({"error": {"detail": "Too many requests, slow down", "code": 429},
                         "done": True}, ascii_, nl))
    elif kind == "sign":
        ev.append(event({"error": {"detail": SIGNATURE_FAILED, "code": 403}, "done": True},
                        ascii_, nl))
    else:
        ev.append(event({"error": {"detail": "Upstream model error", "code": 500}, "done": True},
                        ascii_, nl))
    return ev, shown("".join(half)), reasoning, None


# --------------------------------------------------------------------------- request checks

def check_new_chat(body):
    """8.2 step 1; returns (chat, None) or (None, reason)."""
    chat = body.get("chat")
    if set(body) != {"chat"} or not isinstance(chat, dict):
        return None, "body is not {\"chat\": {...}}"
    want = ("id", "title", "models", "params", "history", "tags", "flags", "features",
            "mcp_servers", "enable_thinking", "auto_web_search", "message_version", "extra",
            "timestamp")
    if tuple(chat) != want:
        return None, "chat keys %s, want %s" % (list(chat), list(want))
    if chat["id"] != "" or chat["title"] != "New Chat" or chat["params"] != {} or \
            chat["tags"] != [] or chat["flags"] != [] or chat["mcp_servers"] != [] or \
            chat["extra"] != {} or chat["message_version"] != 1:
        return None, "a constant of the chat object differs"
    if chat["features"] != [{"type": "tool_selector", "server": "tool_selector_h",
                             "status": "hidden"}]:
        return None, "features %r" % (chat["features"],)
    if chat["enable_thinking"] is not False or chat["auto_web_search"] is not False:
        return None, "enable_thinking / auto_web_search are not false"
    models = chat["models"]
    if not isinstance(models, list) or len(models) != 1 or models[0] not in MODELS:
        return None, "models %r: one of %s" % (models, MODELS)
    ts = chat["timestamp"]
    if not isinstance(ts, int) or abs(ts - time.time() * 1000) > 600000:
        return None, "timestamp %r is not now in ms" % (ts,)
    h = chat["history"]
    if not isinstance(h, dict) or set(h) != {"messages", "currentId"} or \
            not isinstance(h["messages"], dict) or list(h["messages"]) != [h["currentId"]]:
        return None, "history is not one message named by currentId"
    mid = h["currentId"]
    m = h["messages"][mid]
    if not isinstance(mid, str) or not UUID_RE.match(mid):
        return None, "currentId %r is not a uuid" % (mid,)
    wantm = {"id": mid, "parentId": None, "childrenIds": [], "role": "user",
             "content": m.get("content") if isinstance(m, dict) else None,
             "timestamp": m.get("timestamp") if isinstance(m, dict) else None,
             "models": models}
    if m != wantm or not isinstance(m["content"], str) or not isinstance(m["timestamp"], int) \
            or abs(m["timestamp"] - ts // 1000) > 1:
        return None, "the message %r is not 8.2's" % (m,)
    return chat, None


def check_query(raw, cfg, headers, tok, user, body):
    """8.3; returns (pairs, None) or (None, reason)."""
    if not raw:
        return None, "no query"
    pairs = []
    for item in raw.split("&"):
        k, eq, v = item.partition("=")
        if not eq:
            return None, "parameter %r has no '='" % k
        try:
            pairs.append((form_decode(k), form_decode(v)))
        except (ValueError, UnicodeDecodeError):
            return None, "parameter %r is not form-encoded" % k
    names = tuple(k for k, _ in pairs)
    if names != QUERY_ORDER:
        return None, "parameters out of order or missing: %s, want %s" % (list(names),
                                                                         list(QUERY_ORDER))
    again = "&".join("%s=%s" % (form_encode(k), form_encode(v)) for k, v in pairs)
    if again != raw:
        return None, "not encoded as URLSearchParams does (want %r)" % again[:300]
    q = dict(pairs)
    for k, v in QUERY_CONST.items():
        if q[k] != v:
            return None, "%s is %r, not %r" % (k, q[k], v)
    if not q["timestamp"].isdigit() or q["timestamp"] != q["signature_timestamp"]:
        return None, "timestamp %r / signature_timestamp %r" % (q["timestamp"],
                                                               q["signature_timestamp"])
    ts = int(q["timestamp"])
    if abs(ts - time.time() * 1000) > float(cfg.get("max_skew_ms") or 300000):
        return None, "timestamp %d is too far from now" % ts
    if not UUID_RE.match(q["requestId"]) or q["requestId"] != body.get("id"):
        return None, "requestId %r is not a uuid or not the body's id" % q["requestId"]
    if q["user_id"] != user:
        return None, "user_id %r is not the token's %r" % (q["user_id"], user)
    if q["token"] != tok:
        return None, "token is not the Bearer token"
    if q["user_agent"] != headers.get("User-Agent"):
        return None, "user_agent is not the User-Agent header"
    cid = body.get("chat_id")
    if q["current_url"] != "%s/c/%s" % (ORIGIN, cid) or q["pathname"] != "/c/%s" % cid:
        return None, "current_url / pathname do not name the chat %r" % (cid,)
    if q["local_time"] != iso_time(ts):
        return None, "local_time %r is not %r" % (q["local_time"], iso_time(ts))
    if q["utc_time"] != utc_time(ts):
        return None, "utc_time %r is not %r" % (q["utc_time"], utc_time(ts))
    return pairs, None
