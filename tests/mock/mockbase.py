# -*- coding: utf-8 -*-
"""The loopback HTTP plumbing the provider mocks share (Python 3 standard library only).

What a provider mock is besides its protocol: a threading HTTP/1.1 server on loopback that
reads plain and chunked request bodies, waits without missing a client that hangs up, writes
an event stream split at any byte (inside UTF-8 and inside the framing), dripped, cut with a
FIN or an RST, or stalled, heals injected faults after N requests, and runs in-process or from
the command line with a port file.  tests/mock/deepseek_mock.py and tests/mock/zai_mock.py
are built on it (and through deepseek_mock.py the GLM, Kimi and Qwen mocks);
tests/mock/chatgpt_mock.py predates it and has its own copy.

    class Handler(mockbase.Handler):          # dispatches, answers, calls write_events()
        ...
    class MyMock(mockbase.LoopbackMock):
        def __init__(self, host="127.0.0.1", port=0, verbose=False):
            self.state = ...
            super().__init__(Handler, host, port, verbose, "my-mock")
"""

import argparse
import bisect
import copy
import json
import os
import random
import re
import select
import signal
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 16 * 1024 * 1024
MARKER_RE = re.compile(r"\[\[([a-z_]+)(?::([^\]]*))?\]\]")


class ClientGone(Exception):
    """The client closed the connection while we were writing or waiting."""


class Abort(Exception):
    """Close the stream on purpose (a knob)."""


def take_healing(layers, key, default):
    """The value of a fault knob that heals: the first layer (dicts, most specific first) that
    sets key wins; its <key>_times, when not None, counts the requests left to fail and is
    used up by this call (at the last one the knob is reset to default)."""
    for layer in layers:
        if not layer or not layer.get(key):
            continue
        val, tk = layer[key], key + "_times"
        left = layer.get(tk)
        if left is not None:
            if left <= 1:
                layer[key], layer[tk] = default, None
                if left < 1:
                    continue
            else:
                layer[tk] = left - 1
        return val
    return default


def markers_of(text):
    """The per-request markers [[name]] / [[name:value]] of a prompt's text as {name: value},
    and the text without them (what the mock echoes)."""
    return ({m.group(1): m.group(2) or "" for m in MARKER_RE.finditer(text)},
            MARKER_RE.sub("", text).strip())


# --------------------------------------------------------------------------- tool calls
# chat2api teaches the model a call format in the system prompt (handlers/tools_prompt.c) and
# re-encodes tool turns of the history into call and result blocks.  A mock that finds that
# section answers as a model that follows it: with a call block for the functions it lists,
# or, when the history ends in tool results, with a final answer that quotes them.  Markers in
# the last user turn: [[tool:NAME]] which function (default: the one the section demands, else
# the first listed), [[tools:N]] the first N functions in one block, [[toolfmt:bracket|xml]]
# the format (default: the section's), [[toolmessy]] arguments a model gets wrong (bare keys,
# single quotes, a raw newline, a trailing comma), [[notool]] a plain answer.

TOOL_SECTION = "# Functions you can call"
_FN_RE = re.compile(r"^- ([A-Za-z0-9_-]{1,64})(?::[^\n]*)?\n"
                    r"  Parameters \(JSON schema\): (.*)$", re.M)
_RESULT_RE = re.compile(r"\[TOOL_RESULT for ([^\]]+)\] ?([^\n]*)"
                        r"|<tool_result id=\"([^\"]+)\">\n?(.*?)\n?</tool_result>", re.S)
_EXAMPLE_NAMES = ("FUNCTION_NAME", "NAME")


def tool_functions(prompt):
    """[(name, schema dict)] of the tool section in prompt, in order ([] when there is none)."""
    at = prompt.find(TOOL_SECTION)
    if at < 0:
        return []
    out, seen = [], set()
    for m in _FN_RE.finditer(prompt, at):
        if m.group(1) in seen:      # a wire that carries the prompt twice (Qwen's ori_query)
            continue
        seen.add(m.group(1))
        try:
            schema = json.loads(m.group(2))
        except ValueError:
            schema = {}
        out.append((m.group(1), schema))
    return out


def _example_args(schema, messy):
    props = schema.get("properties") or {}
    args = {}
    for key in schema.get("required") or list(props)[:1]:
        kind = (props.get(key) or {}).get("type")
        if kind in ("number", "integer"):
            args[key] = 1
        elif kind == "boolean":
            args[key] = True
        else:
            args[key] = "Paris" if key == "city" else "mock-" + key
    if not messy:
        return json.dumps(args, separators=(",", ":"), ensure_ascii=False)
    parts = ["%s: '%s'" % (k, v) if isinstance(v, str) else "%s: %s" % (k, json.dumps(v))
             for k, v in args.items()]
    parts.append("note: \"line one\nline two\"")
    return "{" + ", ".join(parts) + ",}"


def prompt_text(obj):
    """Every string leaf of a decoded request body, in order, one per line: the text a mock
    searches for the tool section and the re-encoded tool turns, whatever its wire shape."""
    out = []

    def walk(o):
        if isinstance(o, str):
            out.append(o)
        elif isinstance(o, dict):
            for v in o.values():
                walk(v)
        elif isinstance(o, (list, tuple)):
            for v in o:
                walk(v)
    walk(obj)
    return "\n".join(out)


def last_call_block(prompt):
    """(end, [names]) of the last call block written back into the history (the section's
    own examples do not count), or (-1, [])."""
    b, x = prompt.rfind("[/function_calls]"), prompt.rfind("</tool_use>")
    if b < 0 and x < 0:
        return -1, []
    if b > x:
        a = prompt.rfind("[function_calls]", 0, b)
        names = re.findall(r"\[call[:=]\s*([A-Za-z0-9_-]+)\s*\]", prompt[a:b])
        end = b + len("[/function_calls]")
    else:
        end = x + len("</tool_use>")
        start = prompt.rfind("<tool_use>", 0, x)
        while True:     # consecutive elements are one turn's calls
            prev = prompt.rfind("</tool_use>", 0, start)
            if prev < 0 or prompt[prev + len("</tool_use>"):start].strip():
                break
            start = prompt.rfind("<tool_use>", 0, prev)
        names = re.findall(r"<name>\s*([A-Za-z0-9_-]+)\s*</name>", prompt[start:end])
    names = [n for n in names if n not in _EXAMPLE_NAMES]
    return (end, names) if names else (-1, [])


def tool_reply(prompt, markers, cfg=None, history=""):
    """The answer text a model following chat2api's tool section would give, or None when
    the prompt carries no section (or [[notool]]): the mock then answers as usual.  When the
    history ends in tool results, the answer quotes them ("Tool results: ID=TEXT; ..."), after
    checking that every call of the last call block got its result; a broken re-encoding gives
    "TOOL LOOP BROKEN: ...", which no test expects.  cfg may set tool_answer ("bracket", "xml",
    "none") as the default of [[toolfmt]].  history: what the upstream chat already holds
    (a continued chat: earlier prompts and answers), where the calls may be."""
    cfg = cfg or {}
    text = history + "\n" + prompt if history else prompt
    end, names = last_call_block(text)
    results = [(m.start(), m.group(1) or m.group(3), m.group(2) if m.group(1) else m.group(4))
               for m in _RESULT_RE.finditer(text) if (m.group(1) or m.group(3)) != "CALL_ID"]
    if results and results[-1][0] > end:
        if end < 0:
            return "TOOL LOOP BROKEN: tool results without the calls they answer"
        mine, seen = [], set()
        for r in results:           # the last turn may be on the wire twice (Z.ai signs it)
            if r[0] > end and r[1] not in seen:
                seen.add(r[1])
                mine.append(r)
        if len(mine) != len(names):
            return "TOOL LOOP BROKEN: %d call(s) but %d result(s)" % (len(names), len(mine))
        return "Tool results: " + "; ".join("%s=%s" % (r[1], r[2].strip()) for r in mine)
    fns = tool_functions(prompt)
    if not fns or "notool" in markers or cfg.get("tool_answer") == "none":
        return None
    section = prompt[prompt.find(TOOL_SECTION):]
    fmt = markers.get("toolfmt") or cfg.get("tool_answer") or (
        "bracket" if "[function_calls]" in section else "xml")
    m = re.search(r"you must call the function ([A-Za-z0-9_-]+)", section)
    pick = markers.get("tool") or (m.group(1) if m else fns[0][0])
    chosen = [f for f in fns if f[0] == pick] or [(pick, {})]
    if markers.get("tools"):
        chosen = fns[:max(1, int(markers["tools"]))]
    messy = "toolmessy" in markers
    text = "I will use the tools.\n"
    if fmt == "xml":
        for name, schema in chosen:
            text += "<tool_use>\n<name>%s</name>\n<arguments>%s</arguments>\n</tool_use>\n" % (
                name, _example_args(schema, messy))
        return text
    text += "[function_calls]\n"
    for name, schema in chosen:
        text += "[call:%s]%s[/call]\n" % (name, _example_args(schema, messy))
    return text + "[/function_calls]"


# --------------------------------------------------------------------- structured output
RF_MARK = "Answer format: reply with one JSON"          # handlers/rformat.h
RF_REPAIR_MARK = "Your previous answer was not valid"
STRUCTURED_CALLS = {}       # [[rfid:X]] -> how many structured answers X got (in-process mocks)
_rf_lock = threading.Lock()


def _example_value(schema, root, depth=0):
    """A value that fits a schema of chat2api's subset (handlers/jschema.c)."""
    if not isinstance(schema, dict) or depth > 12:
        return None
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#"):
        target = root
        for part in [p for p in ref[1:].split("/") if p]:
            target = (target or {}).get(part.replace("~1", "/").replace("~0", "~"))
        return _example_value(target, root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if schema.get("anyOf"):
        return _example_value(schema["anyOf"][0], root, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = ([k for k in kind if k != "null"] or ["null"])[0]
    if kind is None:
        kind = "object" if "properties" in schema else "string"
    if kind == "object":
        props = schema.get("properties") or {}
        return {k: _example_value(v, root, depth + 1) for k, v in props.items()}
    if kind == "array":
        return [_example_value(schema.get("items") or {}, root, depth + 1)]
    return {"string": "mock", "integer": 7, "number": 2.5, "boolean": True,
            "null": None}.get(kind)


def structured_reply(prompt, markers=None):
    """The answer a model following chat2api's response_format instruction would give, or
    None when the prompt carries none.  A value that fits the schema on its "Schema:" line
    (an object for json_object); [[rfbad]] answers wrongly until the prompt carries the
    correction, [[rfalways]] answers wrongly every time, [[rffence]] wraps the JSON in a
    ```json fence; [[rfid:X]] counts the answers in STRUCTURED_CALLS[X]."""
    if RF_MARK not in prompt:
        return None
    mk = dict(markers_of(prompt)[0])
    mk.update(markers or {})
    if "rfid" in mk:
        with _rf_lock:
            STRUCTURED_CALLS[mk["rfid"]] = STRUCTURED_CALLS.get(mk["rfid"], 0) + 1
    schema = None
    m = re.search(r"\nSchema: (.*)", prompt[prompt.find(RF_MARK):])
    if m:
        try:
            schema = json.JSONDecoder().raw_decode(m.group(1))[0]
        except ValueError:
            schema = None
    value = _example_value(schema, schema) if schema is not None else {"answer": "mock"}
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if "rfalways" in mk or ("rfbad" in mk and RF_REPAIR_MARK not in prompt):
        return "Sure! Here is the JSON you asked for: " + text
    if "rffence" in mk:
        return "```json\n" + text + "\n```"
    return text


def check_config_keys(obj, known, special=()):
    """POST /_mock/config must be an object naming only knobs (known) and special keys; a
    typo in a test is then a 400, not a knob silently ignored."""
    if not isinstance(obj, dict):
        raise ValueError("config must be a JSON object")
    for k in obj:
        if k not in known and k not in special:
            raise ValueError("unknown config key %r" % k)


def merge_by_token(by_token, update, known):
    """POST /_mock/config's by_token: {"<credential>": {knob: value} | null} merged into
    by_token (null forgets the credential's overrides); knobs must be in known."""
    if not isinstance(update, dict):
        raise ValueError("by_token must be an object")
    for tok, over in update.items():
        if over is None:
            by_token.pop(tok, None)
            continue
        if not isinstance(over, dict):
            raise ValueError("by_token values must be objects")
        for k in over:
            if k not in known or k == "by_token":
                raise ValueError("unknown by_token key %r" % k)
        by_token.setdefault(tok, {}).update(copy.deepcopy(over))


def accepts_coding(header, coding):
    """Whether an Accept-Encoding header value offers coding (by name or "*"; q=0 refuses)."""
    if coding == "identity":
        return True
    for item in (header or "").split(","):
        parts = [p.strip() for p in item.split(";")]
        if parts[0].lower() in (coding, "*"):
            return not any(p.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000")
                           for p in parts[1:])
    return False


def split_offsets(size, starts, split, seed=1, random_max=16):
    """Where to cut a blob of size bytes made of events starting at starts: "none" at the
    events, "bytes" (or "1") every byte, "random" 1..random_max bytes from seed, "N" every N."""
    split = str(split or "none")
    if split in ("bytes", "1"):
        return list(range(size))
    if split == "random":
        rng, cuts, i = random.Random(seed), [], 0
        while i < size:
            cuts.append(i)
            i += rng.randint(1, max(1, int(random_max)))
        return cuts
    if split.isdigit():
        return list(range(0, size, int(split)))
    return list(starts)


class Handler(BaseHTTPRequestHandler):
    """The plumbing half of a mock's request handler."""
    protocol_version = "HTTP/1.1"
    timeout = 120                       # idle keep-alive connections are closed after this
    label = "mock"

    def log_message(self, fmt, *args):
        if self.server.mock.verbose:
            sys.stderr.write("[%s] %s - %s\n" % (self.label, self.address_string(), fmt % args))

    def setup(self):
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

    def _read_body(self):
        """The request body, Content-Length or chunked; ValueError, OverflowError."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            data = bytearray()
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ValueError("truncated chunked body")
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(data)
                data += self.rfile.read(size)
                self.rfile.readline()
                if len(data) > MAX_BODY:
                    raise OverflowError("body too large")
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0 or n > MAX_BODY:
            raise OverflowError("bad Content-Length")
        data = self.rfile.read(n) if n else b""
        if len(data) != n:
            raise ValueError("truncated body")
        return data

    def _wait(self, seconds):
        """Sleep, but raise ClientGone when the client closes the connection, Abort when the
        server stops."""
        deadline = time.monotonic() + seconds
        while True:
            if self.server.mock._stopping.is_set():
                raise Abort("server stopping")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                r, _, _ = select.select([self.connection], [], [], min(remaining, 0.1))
                if r and not self.connection.recv(1, socket.MSG_PEEK):
                    raise ClientGone("peer closed")
            except (BlockingIOError, InterruptedError):
                continue
            except (OSError, ValueError) as e:
                raise ClientGone(str(e))
            if r:           # pipelined bytes: keep sleeping without polling
                time.sleep(max(0.0, deadline - time.monotonic()))
                return

    def _raw_write(self, data):
        try:
            self.wfile.write(data)
        except OSError as e:
            raise ClientGone(str(e) or type(e).__name__)

    def _write_piece(self, piece, chunked):
        self._raw_write((b"%x\r\n" % len(piece) + piece + b"\r\n") if chunked else piece)

    def _reset_connection(self):
        """Abort with a TCP RST (SO_LINGER 0, then close)."""
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def write_events(self, events, split="none", seed=1, random_max=16, drip=0.0,
                     close_at=None, close_mode="fin", stall_at=None, stall_max=300.0,
                     on_stall=None, on_done=None, headers=(),
                     ctype="text/event-stream; charset=utf-8"):
        """A 200 ctype stream of events (bytes each, empty ones allowed), chunked on HTTP/1.1:
        cut as split_offsets() says, drip seconds before every event but the first, stopped
        before event close_at (FIN, or RST with close_mode "reset") or stalled before event
        stall_at for stall_max seconds (on_stall() first).  on_done() runs before the last chunk, so a
        client that has seen the end finds it recorded.  Returns ("done", None), ("gone",
        {bytes_written, event, reason}) or ("aborted", reason)."""
        chunked = self.request_version == "HTTP/1.1"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Cache-Control", "no-cache")
        for k, v in headers:
            self.send_header(k, v)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
        self.end_headers()
        blob = b"".join(events)
        starts, pos = [], 0
        for e in events:
            starts.append(pos)
            pos += len(e)
        cuts = split_offsets(len(blob), starts, split, seed, random_max)
        written, cur = 0, -1

        def enter(ev):
            if close_at is not None and ev >= int(close_at):
                raise Abort("close_after_events")
            if stall_at is not None and ev >= int(stall_at):
                if on_stall:
                    on_stall()
                self._wait(float(stall_max))
                raise Abort("stall ended")
            if drip and ev > 0:
                self._wait(drip)
        try:
            for j, off in enumerate(cuts):
                ev = bisect.bisect_right(starts, off) - 1
                if ev != cur:
                    enter(ev)
                    cur = ev
                piece = blob[off:cuts[j + 1] if j + 1 < len(cuts) else len(blob)]
                if piece:               # an empty chunk would end the body
                    self._write_piece(piece, chunked)
                    written += len(piece)
            # empty events at the very end (a coder's tail) are reached too
            if len(events) - 1 > cur:
                cur = len(events) - 1
                enter(cur)
            if on_done:
                on_done()
            if chunked:
                self._raw_write(b"0\r\n\r\n")
            else:
                self.close_connection = True
            return "done", None
        except (ClientGone, BrokenPipeError, ConnectionResetError, ConnectionAbortedError,
                socket.timeout) as e:
            self.close_connection = True
            return "gone", {"bytes_written": written, "event": cur,
                            "reason": str(e) or type(e).__name__}
        except Abort as e:
            self.close_connection = True
            if close_mode == "reset" or str(e) == "server stopping":
                self._reset_connection()
            return "aborted", str(e)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class LoopbackMock:
    """The server's lifecycle: start() in a thread or serve_forever(), stop() closing every
    open connection; configure(), snapshot() and wait_for() on the subclass's self.state
    (which has configure(dict) and snapshot())."""

    def __init__(self, handler, host="127.0.0.1", port=0, verbose=False, name="mock"):
        self.verbose = verbose
        self.name = name
        self._stopping = threading.Event()
        self._conns, self._conns_lock = set(), threading.Lock()
        self.httpd = Server((host, port), handler)
        self.httpd.mock = self
        self.host = host
        self.port = self.httpd.server_address[1]
        self._thread = None

    @property
    def url(self):
        return "http://%s:%d" % (self.host, self.port)

    def _track(self, conn, add):
        with self._conns_lock:
            (self._conns.add if add else self._conns.discard)(conn)

    def start(self):
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=self.name, daemon=True)
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

    def configure(self, obj=None, **kw):
        d = dict(obj or {})
        d.update(kw)
        return self.state.configure(d)

    def snapshot(self):
        return self.state.snapshot()

    def wait_for(self, pred, timeout=5.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            s = self.snapshot()
            if pred(s):
                return s
            time.sleep(0.02)
        return None


def cli_parser(description):
    """The options every mock's command line has."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", help="write the chosen port here when ready")
    ap.add_argument("--config", type=json.loads,
                    help="initial configuration (JSON object, as POST /_mock/config)")
    ap.add_argument("--verbose", action="store_true")
    return ap


def serve_cli(mock, port_file, banner):
    """Serve in the foreground until SIGTERM or SIGINT, the port written (atomically) to
    port_file once connections are accepted."""
    def on_signal(signum, frame):
        threading.Thread(target=mock.stop, daemon=True).start()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if port_file:
        tmp = port_file + ".tmp%d" % os.getpid()
        with open(tmp, "w") as f:
            f.write("%d\n" % mock.port)
        os.replace(tmp, port_file)
    sys.stderr.write(banner + "\n")
    sys.stderr.flush()
    mock.serve_forever()
    mock.httpd.server_close()
    return 0
