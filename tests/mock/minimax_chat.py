# -*- coding: utf-8 -*-
"""One chat of the MiniMax mock (minimax_mock.py): the answer of each turn and the pace at
which get_chat_detail reveals it, with the earlier turns of a continued chat.  Python 3
standard library only."""

import time

PIECE_SIZES = (3, 5, 2, 7, 4, 6, 1, 8)          # code points per revealed piece (cycled)
UNICODE_TAIL = " — 你好，世界！😀🐋 海螺 éè 🎉"


def pieces_of(text):
    out, i, k = [], 0, 0
    while i < len(text):
        n = PIECE_SIZES[k % len(PIECE_SIZES)]
        out.append(text[i:i + n])
        i += n
        k += 1
    return out


class Chat:
    """One chat: its answer and the pace at which it shows.  A chat continued by send_msg
    keeps its earlier turns (history: their user and AI messages, shown before this turn's;
    seen: their user texts; transcript: prompts and answers, for the tool replies)."""

    def __init__(self, cid, user, token, text, cfg, markers, msg_ids, reply=None):
        self.id = cid
        self.user = user
        self.token = token
        self.created = time.time()
        self.deleted = False
        self.history, self.seen, self.transcript = [], [], []
        self.start_turn(text, cfg, markers, msg_ids, reply)

    def continue_with(self, text, cfg, markers, msg_ids, reply=None):
        """The next turn: the finished one joins the history."""
        self.history += [{"msg_id": self.user_msg_id, "msg_type": 1, "msg_content": "(the prompt)"},
                         {"msg_id": self.ai_id, "msg_type": 2, "msg_content": self.content,
                          "extra_info": {"thinking_content": self.thinking}}]
        self.start_turn(text, cfg, markers, msg_ids, reply)

    def start_turn(self, text, cfg, markers, msg_ids, reply=None):
        self.t0 = time.monotonic()
        self.markers = markers
        self.user_msg_id, self.ai_id, self.ai2_id = msg_ids
        thinking = "nothink" not in markers and cfg["thinking"]
        content = reply or "You said: " + text
        if "unicode" in markers or cfg["unicode"]:
            content += UNICODE_TAIL
        words = int(markers.get("long") or cfg["long_words"] or 0)
        content += "".join(" w%d" % i for i in range(words))
        self.thinking = ("Thinking about: %s." % text) if thinking else ""
        self.content = content
        self.t_pieces = pieces_of(self.thinking)
        self.c_pieces = pieces_of(self.content)
        self.total = len(self.t_pieces) + len(self.c_pieces)
        self.delay = float(markers.get("delay") or cfg["first_delay_ms"] or 0) / 1000.0
        if "grow" in markers:
            self.pace = float(markers["grow"]) / max(1, self.total)
        else:
            self.pace = float(markers.get("pace") or cfg["pace_ms"]) / 1000.0
        self.per_poll = "perpoll" in markers or cfg["per_poll"]
        self.finish = "nofinish" not in markers and cfg["finish"]
        self.polls = []
        self.first_text_t = None
        self.seen.append(text)
        self.deletes_running = int(markers.get("running") or cfg["running_deletes"] or 0)
        self.rewrite = "rewrite" in markers
        self.newmsg = markers.get("newmsg")
        pf = (markers.get("pollfail") or "").split(":")
        self.pollfail = None
        if pf[0]:
            n = int(pf[1]) if len(pf) > 1 and pf[1] else 1
            k = int(pf[2]) if len(pf) > 2 and pf[2] else 1
            self.pollfail = (pf[0], n, k)

    def shown(self):
        """How many pieces are visible now."""
        if self.per_poll:
            return min(self.total, len(self.polls))
        dt = time.monotonic() - self.t0 - self.delay
        if dt < 0:
            return 0
        return min(self.total, int(dt / self.pace) + 1 if self.pace > 0 else self.total)

    def complete(self):
        return self.shown() >= self.total

    def first_text_wall(self):
        """When the first piece became (or becomes) visible, wall clock."""
        if self.per_poll:
            return self.first_text_t
        return self.created + self.delay

    def snapshot(self, chat_id_json):
        n = self.shown()
        nt = min(n, len(self.t_pieces))
        think = "".join(self.t_pieces[:nt])
        content = "".join(self.c_pieces[:max(0, n - len(self.t_pieces))])
        if self.rewrite and len(content) > len(self.content) // 2:
            content = content[:10].upper() + content[10:]       # "You said" -> "YOU SAID"
        status = 2 if n >= self.total and self.finish else 1
        if n > 0 and self.first_text_t is None:
            self.first_text_t = time.time()
        msgs = self.history + [{"msg_id": self.user_msg_id, "msg_type": 1,
                                "msg_content": "(the prompt)"}]
        half = len(self.content) // 2
        if n > 0 or status == 2:
            if self.newmsg and len(content) > half:
                first = {"msg_id": self.ai_id, "msg_type": 2, "msg_content": content[:half],
                         "extra_info": {"thinking_content": think}}
                second = {"msg_id": self.ai2_id, "msg_type": 2, "extra_info": {},
                          "msg_content": content[half:] if self.newmsg == "append" else content}
                msgs += [first, second] if self.newmsg == "append" else [second]
            else:
                msgs.append({"msg_id": self.ai_id, "msg_type": 2, "msg_content": content,
                             "extra_info": {"thinking_content": think}})
        self.polls.append({"t": round(time.time(), 4), "thinking": len(think),
                           "content": len(content), "status": status})
        return {"chat": {"chat_id": chat_id_json, "chat_status": status}, "messages": msgs,
                "base_resp": {"status_code": 0, "status_msg": "success"}}

    def record(self):
        return {"user": self.user, "created": self.created, "thinking": self.thinking,
                "content": self.content, "polls": list(self.polls), "npolls": len(self.polls),
                "first_text_t": self.first_text_wall(), "complete": self.complete(),
                "deleted": self.deleted, "markers": self.markers, "pace_s": self.pace,
                "turns": len(self.seen)}
