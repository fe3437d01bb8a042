#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""The Qwen mock's state (tests/mock/qwen_mock.py): its configuration and knobs, with
per-ticket overrides and faults that heal after N requests, the known tickets, the live
sessions, nonces and device ids, and the counters /_mock/state shows.  The bookkeeping
(bump, effective, take, record_rejection, live_sessions) is deepseek_mock's MockState."""

import copy
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deepseek_mock as dsm  # noqa: E402
import mockbase  # noqa: E402
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
KNOBS = set(DEFAULT_CONFIG) - {"by_ticket"}       # what a by_ticket entry may set


# --------------------------------------------------------------------------- state

class State(dsm.MockState):
    DEFAULTS, HEALING, OVERRIDES = DEFAULT_CONFIG, HEALING, "by_ticket"

    def __init__(self, tickets=(), config=None):
        self.lock = threading.RLock()
        self.config = copy.deepcopy(DEFAULT_CONFIG)
        self.tickets = {}                   # ticket -> {"expired": bool}
        for t in (DEFAULT_TICKET, OTHER_TICKET, ALIYUN_TICKET) + tuple(tickets):
            self.tickets[t] = {"expired": False}
        self.sessions = {}                  # id -> {"owner", "live", "title"}
        self.nonces = set()
        self.devices = {}                   # ticket -> [ut, ...]
        self.reset_counters()
        if config:
            self.configure(config)
        self.base_config = copy.deepcopy(self.config)
        self.base_tickets = copy.deepcopy(self.tickets)

    def restore_config(self):
        """Back to the start-up configuration and tickets."""
        with self.lock:
            self.config = copy.deepcopy(self.base_config)
            self.tickets = copy.deepcopy(self.base_tickets)

    def reset_counters(self):
        with self.lock:
            self.c = {"requests": {}, "responses": {}, "chats": {}, "lists": {},
                      "sessions_created": {}, "sessions_deleted": {}, "chats_completed": 0,
                      "encoding_refused": 0, "client_disconnects": 0, "server_aborts": 0,
                      "stalls": 0}
            self.last = {"chat": None, "rejection": None, "disconnect": None}
            self.last_requests, self.rejections, self.recent = {}, [], []

    def configure(self, obj):
        mockbase.check_config_keys(obj, DEFAULT_CONFIG, SPECIAL)
        with self.lock:
            if obj.get("reset") and hasattr(self, "base_config"):
                self.restore_config()
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
                    mockbase.merge_by_token(self.config["by_ticket"], v, KNOBS)
                else:
                    self.config[k] = copy.deepcopy(v)
            return self.public_config()

    def public_config(self):
        with self.lock:
            c = copy.deepcopy(self.config)
            c["tickets"] = sorted(t for t, r in self.tickets.items() if not r["expired"])
            c["expired_tickets"] = sorted(t for t, r in self.tickets.items() if r["expired"])
            return c

    def snapshot(self):
        with self.lock:
            s = copy.deepcopy(self.c)
            live = self.live_sessions()
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
