#!/usr/bin/env python3
"""Regenerates chat2api.8 from the variable table in fcgi/conf_vars.c, so the
man page lists exactly what the binary parses (tests/unit/test_conf.c checks
that it does).  Run from the top of the tree: python3 tests/tools/gen-man.py"""
import re

src = open("fcgi/conf_vars.c").read()
rows = re.findall(r'\{ "([A-Z0-9_]+)", (NULL|"[A-Z0-9_]+"), (CFG_[A-Z]+),\s*OFF\(\w+\),'
                  r'\s*"([^"]*)",\s*[^,]+,\s*[^,]+,\s*((?:"(?:[^"\\]|\\.)*"\s*)+)\}', src, re.S)
head = r'''.TH CHAT2API 8 2026-11-23 "chat2api 0.1.0" "System Manager's Manual"
.SH NAME
chat2api \- OpenAI-compatible API in front of web chat backends, as a FastCGI/CGI responder
.SH SYNOPSIS
.B chat2api
.RB [ \-\-listen
.IR unix:PATH | HOST:PORT ]
.br
.B chat2api
.B tokens
.IR add | list | remove | clear | errors\-clear | export " ..."
.br
.B chat2api
.B accounts
.IR add | list | remove | enable | disable | set | validate | purge " ..."
.br
.B chat2api
.B keys
.IR add | list | enable | disable | remove " ..."
.br
.B chat2api
.B models
.IR map | unmap | list | route " ..."
.br
.B chat2api
.B sessions
.IR list | prune | clear " ..."
.br
.B chat2api
.B store
.IR export | import " FILE"
.br
.B chat2api refresh
.RB [ \-\-force ]
.br
.B chat2api
.RB \-\-help | \-\-version
.SH DESCRIPTION
.B chat2api
serves
.BR /v1/models ,
.BR /v1/chat/completions ,
.BR /v1/completions ,
.B /health
and
.B /stats
in the shapes the OpenAI API uses, behind a front web server (nginx, lighttpd or Apache),
in front of the web chat backends of ChatGPT, DeepSeek, GLM, Kimi, MiniMax, Qwen (qianwen.com),
Qwen AI (chat.qwen.ai) and Z.ai.
The model name picks the provider (built-in names, with
.BR \-Think ,
.B \-Search
and
.B \-Think\-Search
suffixes, and model mappings with * patterns);
each provider's accounts are chosen by its load-balancing strategy, with failover
within a request and daily limits that reset at local midnight.
.PP
With
.B ENABLE_GATEWAY=true
it also mirrors ChatGPT's web UI (the gateway):
.B /login
takes an AccessToken, a RefreshToken or a seed, and
.BR / ,
.BR /c/ ...
serve ChatGPT's live page with its hosts and its login made the server's own,
every other path of the site going through a streaming reverse proxy.
A seed stands for an account of the pool without revealing it and sees only its own
conversations;
.B /seedtoken
(with an AUTHORIZATION code) sets, lists and removes seeds.
.PP
The mode is chosen at start:
.TP
.B FastCGI
when file descriptor 0 is a listening socket (spawn-fcgi, lighttpd
.BR bin-path ,
mod_fcgid), or with
.BR \-\-listen .
Each process runs
.B CHAT2API_THREADS
threads.
.TP
.B CGI
otherwise: one request from the environment and standard input, answered on standard output.
.PP
SIGTERM or SIGINT stops accepting new requests, gives in-flight ones
.B CHAT2API_GRACE
seconds and exits.
.SH OPTIONS
.TP
.BI \-\-listen " unix:PATH" | " HOST:PORT"
Bind the FastCGI socket itself (mode 0660).
A socket another process still listens on is never taken over.
.TP
.B \-\-help
List the options and environment variables.
.TP
.B \-\-version
Print the version.
.SH COMMANDS
The commands work on the data directory of the service; run them as its user.
Accounts are named by the fingerprint the listings show (or their 32-digit id).
.TP
.BI "accounts add " "PROVIDER CREDENTIAL" | \- " \fR[\fB\-\-label \fIL\fR] [\fB\-\-daily\-limit \fIN\fR] [\fB\-\-weight \fIW\fR] [\fB\-\-set \fIFIELD\fB=\fIVALUE\fR]..."
Add an account (\- reads the credential from standard input).
PROVIDER is
.BR chatgpt ,
.BR deepseek ,
.BR glm ,
.BR kimi ,
.BR minimax ,
.BR qwen ,
.B qwenai
or
.BR zai ;
a DeepSeek credential is the userToken of chat.deepseek.com, or its whole Local Storage JSON;
a GLM credential is the chatglm_refresh_token cookie of chatglm.cn (a token the upstream rotates is stored back);
a Kimi credential is the refresh_token of www.kimi.com (Local Storage; an array of pieces is joined
with dots), renewed for short-lived access tokens, or an access token, used until it expires;
a MiniMax credential is the _token JWT of agent.minimaxi.com (Local Storage), or realUserID+JWT;
a Qwen credential is the tongyi_sso_ticket cookie of www.qianwen.com (the value, tongyi_sso_ticket=..., or a whole Cookie header), or login_aliyunid_ticket=... for an Alibaba Cloud login;
a Qwen AI credential is the token of chat.qwen.ai (Local Storage), with its cookies in a cookies field;
a Z.ai credential is the token JWT of chat.z.ai (cookie or Local Storage);
.B \-\-set account_id=
gives a ChatGPT team id.
.TP
.BI "accounts list " \fR[\fIPROVIDER\fR]
Fingerprints, status, today's use against the daily limit, weight, last latency, counts, label, last error.
.TP
.BI "accounts remove" \fR|\fBenable\fR|\fBdisable " ID"
.TP
.BI "accounts set " ID " \fR[\fB\-\-daily\-limit \fIN\fR] [\fB\-\-weight \fIW\fR] [\fB\-\-label \fIL\fR]"
A daily limit of 0 means none; weights run from 1 to 100.
.TP
.BI "accounts validate " \fR[\fIID\fR|\fIPROVIDER\fR]
Ask the upstream about each account; status, e\-mail and latency are written back.
.TP
.BI "accounts purge " ID
Delete every upstream chat of the account with its provider's own bulk delete (DeepSeek, GLM,
Qwen AI, Z.ai) and end its sessions; other providers have none.
.TP
.B "keys add \\fR[\\fB\\-\\-name \\fIN\\fR]"
Print a new API key, once; only its HMAC is stored.
.TP
.B keys list
.TP
.BI "keys enable" \fR|\fBdisable\fR|\fBremove " ID"
.TP
.BI "models map " "NAME TARGET" " \fR[\fB\-\-provider \fIP\fR] [\fB\-\-account \fIID\fR]"
NAME may hold * wildcards; exact names win over patterns, earlier patterns over later ones.
.TP
.BI "models unmap " NAME
.TP
.B models list
.TP
.BI "models route " NAME
Where a model name goes now: provider, model, switches, pinned account.
.TP
.B sessions list
The live multi\-turn sessions: provider, account, turns, when they started and expire,
the upstream chat.
.TP
.B sessions prune
End the expired sessions now and delete their upstream chats (unless
.BR SESSION_DELETE =false).
.TP
.BR "sessions clear " [\fIPROVIDER\fR]
End every session (of PROVIDER) and delete their upstream chats.
.TP
.BI "sessions end " ID
End one session (its 64-digit id from the listing) and delete its upstream chat.
.TP
.BI "store export " FILE
Write the whole store (the one
.B CHAT2API_STORE
names) as one file sealed under the secret key; \fB\-\fR is standard output.
.TP
.BI "store import " FILE
Check a file from
.B store export
whole, then replace the store's content with it (same secret key): moves an install between
LMDB and Redis.
.TP
.B tokens add\fR|\fBlist\fR|\fBremove\fR|\fBclear\fR|\fBerrors\-clear\fR|\fBexport
The ChatGPT accounts in the terms of the Python chat2api: one token per line,
.I token,account_id
for a team.
.TP
.BR "refresh " [ \-\-force ]
Exchange every stored ChatGPT RefreshToken and GLM refresh token, and renew the access tokens
of the Kimi accounts (storing the refresh token Kimi rotates to).
.SH ENVIRONMENT
Read once at start; a bad value stops start-up with one line naming the variable.
Booleans accept true/false, 1/0, yes/no, t/f, y/n; lists are comma separated.'''
out = [head]
for name, alias, typ, default, helps in rows:
    h = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', helps)).replace('\\"', '"')
    out.append(".TP\n.B " + name + ("\n(also " + alias.strip('"') + ")" if alias != "NULL" else ""))
    line = h[0].upper() + h[1:]
    if default:
        line += ". Default: " + default
    out.append(line.replace("\\", "\\\\").replace("-", "\\-") + ".")
out.append(r'''.SH FILES
.TP
.I $CHAT2API_DATA_DIR/data.mdb , lock.mdb
The LMDB environment shared by all processes.
.TP
.I $CHAT2API_DATA_DIR/secret.key
The key that encrypts stored credentials (created mode 0600 unless
.B CHAT2API_SECRET_KEY
is set).  Keep it with backups of the data: without it the credentials cannot be read.
.SH EXIT STATUS
0 after a clean stop; 1 when start-up failed or the grace period ran out; 2 for a bad argument or variable.
.SH SEE ALSO
.BR spawn\-fcgi (1),
.BR nginx (8),
.BR lighttpd (8),
.BR apache2 (8),
.BR mdb_stat (1),
.BR mdb_copy (1)''')
open("chat2api.8", "w").write("\n".join(out) + "\n")
print("%d variables" % len(rows))
