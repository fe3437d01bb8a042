#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""The Qwen mock's state (tests/mock/qwen_mock.py): its configuration and knobs, with
per-ticket overrides and faults that heal after N requests, the known tickets, the live
sessions, nonces and device ids, and the counters /_mock/state shows."""

import copy
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qwen_wire import MODELS  # noqa: E402

DEFAULT_TICKET = "qwMockTicket0001-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_AbCdEf*GhIj"
OTHER_TICKET = "qwMockTicket0002-ZyXwVuTsRqPoNmLkJiHgFeDcBa9876543210_ZyXwVu*TsRq"
ALIYUN_TICKET = "qwMockAliyun0003-QwErTyUiOpAsDfGhJkLzXcVbNm1357924680_QwErTy"
ALIYUN_TICKETS = {ALIYUN_TICKET}

DEFAULT_CONFIG = {
    "ticket_cookie": "tongyi_sso_ticket",   # the cookie a ticket must come in
    "aliyun_cookie": "login_aliyunid_ticket",
    "auth_error": "json",                   # json | http401 | sse (chat only)
    "check_headers": True,
    "reject_status": 400,
    "models": list(MODELS),
    "max_skew_ms": 300000,                  # timestamp / client_tm window
    "clock_offset_ms": 0,                   # the mock's clock is off by this much
    "strict_device": True,                  # one ut per ticket
    "unique_nonce": True,
    # responses
    "encoding": "identity",                 # the stream's coding (CODINGS)
    "json_encoding": "identity",            # list and delete answers
    "force_encoding": False,                # use it even when the client did not offer it
    "zstd_frames": True,                    # zstd: a frame per event (false: one frame)
    "shape": "card",                        # card | plain
    "end": "complete",                      # complete | status | done | none
    "named_events": False,                  # "event: message" before each data line
    "unicode": False,
    "long_words": 0,
    "json_ascii": False,
    "crlf": False,
    "split": "none",                        # none | bytes | random | <int>
    "split_seed": 1,
    "random_split_max": 16,
    "drip_ms": 0,
    "delay_ms": 0,
    "api_delay_ms": 0,
    "stream_error": None,                   # null | mid | event | login | limit
    # faults: status (0 = none) and <key>_times = N (null = every request)
    "chat_status": 0, "chat_status_times": None,
    "list_status": 0, "list_status_times": None,
    "delete_status": 0, "delete_status_times": None,
    "close_after_events": None, "close_after_events_times": None,
    "close_mode": "fin",                    # fin | reset
    "stall_after_events": None, "stall_after_events_times": None,
    "stall_max_s": 300,
    "retry_after": 30,
    "by_ticket": {},
}
HEALING = ("chat_status", "list_status", "delete_status", "close_after_events",
           "stall_after_events")
SPECIAL = {"tickets", "add_tickets", "expired_tickets", "reset"}


# --------------------------------------------------------------------------- state

class State:
    def __init__(self, tickets=(), config=None):
        self.lock = threading.RLock()
        self.config = copy.deepcopy(DEFAULT_CONFIG)
        self.tickets = {}                   # ticket -> {"expired": bool}
        for t in (DEFAULT_TICKET, OTHER_TICKET, ALIYUN_TICKET) + tuple(tickets):
            self.tickets[t] = {"expired": False}
        self.sessions = {}                  # id -> {"owner", "live", "title"}
        self.nonces = set()
        self.devices = {}                   # ticket -> [ut, ...]
        self.clear()
        if config:
            self.configure(config)
        self.start_config = copy.deepcopy(self.config)
        self.start_tickets = copy.deepcopy(self.tickets)

    def clear(self):
        with self.lock:
            self.n = {"requests": {}, "responses": {}, "chats": {}, "lists": {},
                      "sessions_created": {}, "sessions_deleted": {}, "chats_completed": 0,
                      "encoding_refused": 0, "client_disconnects": 0, "server_aborts": 0,
                      "stalls": 0}
            self.last = {"chat": None, "rejection": None, "disconnect": None}
            self.last_requests, self.rejections, self.recent = {}, [], []

    def count(self, key, sub=None):
        with self.lock:
            if sub is None:
                self.n[key] = self.n.get(key, 0) + 1
            else:
                self.n[key][sub] = self.n[key].get(sub, 0) + 1

    def reject(self, route, status, reason, user):
        with self.lock:
            r = {"t": round(time.time(), 3), "route": route, "status": status,
                 "reason": reason, "user": user}
            self.last["rejection"] = r
            self.rejections = (self.rejections + [r])[-100:]

    def configure(self, obj):
        if not isinstance(obj, dict):
            raise ValueError("config must be a JSON object")
        with self.lock:
            for k in obj:
                if k not in DEFAULT_CONFIG and k not in SPECIAL:
                    raise ValueError("unknown config key %r" % k)
            if obj.get("reset") and hasattr(self, "start_config"):
                self.config = copy.deepcopy(self.start_config)
                self.tickets = copy.deepcopy(self.start_tickets)
            for k, v in obj.items():
                if k == "reset":
                    continue
                if k in ("tickets", "add_tickets", "expired_tickets"):
                    if not isinstance(v, list) or not all(isinstance(t, str) and t for t in v):
                        raise ValueError("%s must be a list of non-empty strings" % k)
                    if k == "tickets":
                        for t in self.tickets:
                            self.tickets[t]["expired"] = t not in v
                    for t in v:
                        self.tickets[t] = {"expired": k == "expired_tickets"}
                elif k == "by_ticket":
                    if not isinstance(v, dict):
                        raise ValueError("by_ticket must be an object")
                    for t, over in v.items():
                        if over is None:
                            self.config["by_ticket"].pop(t, None)
                            continue
                        bad = [kk for kk in (over if isinstance(over, dict) else [None])
                               if kk not in DEFAULT_CONFIG or kk == "by_ticket"]
                        if bad:
                            raise ValueError("bad by_ticket entry for %r: %r" % (t, bad))
                        self.config["by_ticket"].setdefault(t, {}).update(copy.deepcopy(over))
                else:
                    self.config[k] = copy.deepcopy(v)
            return self.public_config()

    def public_config(self):
        with self.lock:
            c = copy.deepcopy(self.config)
            c["tickets"] = sorted(t for t, r in self.tickets.items() if not r["expired"])
            c["expired_tickets"] = sorted(t for t, r in self.tickets.items() if r["expired"])
            return c

    def knobs(self, ticket):
        with self.lock:
            c = copy.deepcopy(self.config)
            c.update(copy.deepcopy(self.config["by_ticket"].get(ticket) or {}))
            return c

    def take(self, key, ticket):
        """A healing knob's value for this ticket; spends one of <key>_times."""
        with self.lock:
            for layer in (self.config["by_ticket"].get(ticket), self.config):
                if not layer or not layer.get(key):
                    continue
                value, times = layer[key], layer.get(key + "_times")
                if times is not None:
                    if times <= 1:
                        layer[key], layer[key + "_times"] = DEFAULT_CONFIG[key], None
                        if times < 1:
                            continue
                    else:
                        layer[key + "_times"] = times - 1
                return value
            return DEFAULT_CONFIG[key]

    def snapshot(self):
        with self.lock:
            s = copy.deepcopy(self.n)
            live = {}
            for sid, rec in self.sessions.items():
                if rec["live"]:
                    live.setdefault(rec["owner"], []).append(sid)
            s["live_sessions"] = live
            s["sessions_live"] = {t: len(v) for t, v in live.items()}
            s["devices"] = copy.deepcopy(self.devices)
            s["nonces_seen"] = len(self.nonces)
            for k, v in self.last.items():
                s["last_" + k] = copy.deepcopy(v)
            s["last_requests"] = copy.deepcopy(self.last_requests)
            s["rejections"] = copy.deepcopy(self.rejections)
            s["recent"] = copy.deepcopy(self.recent)
            return s
