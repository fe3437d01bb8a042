/*
 * The streaming replacer of upstream/chatgpt/site.h: hosts of the site
 * become ours in every text the mirror passes on, and the real access
 * token of a seed becomes the seed, wherever a response happens to carry
 * it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "upstream/chatgpt/site.h"

#define SITE_MAIN	"https://chatgpt.com"

void
site_rw_init(struct site_rw *rw, site_out_fn out, void *ctx)
{
	memset(rw, 0, sizeof(*rw));
	rw->out = out;
	rw->ctx = ctx;
}

int
site_rw_add(struct site_rw *rw, const char *from, const char *to)
{
	struct site_rw_pat *p;
	size_t n = from != NULL ? strlen(from) : 0;

	/* Patterns are fixed before the first byte: work is sized by them. */
	if (n == 0 || n >= SITE_RW_FROM_MAX || rw->npat == SITE_RW_PATTERNS ||
	    rw->work != NULL)
		return -1;
	p = &rw->pat[rw->npat++];
	p->from = from;
	p->flen = n;
	p->to = to != NULL ? to : "";
	p->tlen = strlen(p->to);
	rw->first[(unsigned char)from[0]] = 1;
	if (n > rw->maxlen)
		rw->maxlen = n;
	return 0;
}

static int
emit(struct site_rw *rw, const char *p, size_t n)
{
	if (n == 0 || rw->failed)
		return rw->failed ? -1 : 0;
	if (rw->out(rw->ctx, p, n) != 0) {
		rw->failed = 1;
		return -1;
	}
	return 0;
}

/*
 * Emits what of buf (n bytes) is decided and returns where the rest
 * starts: a tail that could still become a longer match waits, unless
 * final.
 */
static size_t
scan(struct site_rw *rw, const char *buf, size_t n, int final, int *err)
{
	const struct site_rw_pat *p, *best;
	size_t i = 0, run = 0, k;
	int partial;

	*err = 0;
	while (i < n) {
		if (!rw->first[(unsigned char)buf[i]]) {
			i++;
			continue;
		}
		best = NULL;
		partial = 0;
		for (k = 0; k < rw->npat; k++) {
			p = &rw->pat[k];
			if (p->flen <= n - i) {
				if ((best == NULL || p->flen > best->flen) &&
				    memcmp(buf + i, p->from, p->flen) == 0)
					best = p;
			} else if (!final &&
			    memcmp(buf + i, p->from, n - i) == 0)
				partial = 1;	/* longer than any full match */
		}
		if (partial) {
			if (emit(rw, buf + run, i - run) < 0)
				*err = 1;
			return i;
		}
		if (best == NULL) {
			i++;
			continue;
		}
		if (emit(rw, buf + run, i - run) < 0 ||
		    emit(rw, best->to, best->tlen) < 0) {
			*err = 1;
			return n;
		}
		i += best->flen;
		run = i;
	}
	if (emit(rw, buf + run, n - run) < 0)
		*err = 1;
	return n;
}

int
site_rw_feed(struct site_rw *rw, const char *data, size_t len)
{
	size_t take, at, n;
	int err;

	if (rw->failed)
		return -1;
	if (rw->npat == 0)
		return emit(rw, data, len);
	if (rw->work == NULL &&
	    (rw->work = malloc(rw->maxlen + SITE_RW_CHUNK)) == NULL) {
		rw->failed = 1;
		return -1;
	}
	while (len > 0) {
		take = len < SITE_RW_CHUNK ? len : SITE_RW_CHUNK;
		if (rw->ncarry == 0) {
			/* The common case: scan the caller's bytes in place. */
			at = scan(rw, data, take, 0, &err);
			if (err)
				return -1;
			rw->ncarry = take - at;
			memcpy(rw->work, data + at, rw->ncarry);
		} else {
			memcpy(rw->work + rw->ncarry, data, take);
			n = rw->ncarry + take;
			at = scan(rw, rw->work, n, 0, &err);
			if (err)
				return -1;
			rw->ncarry = n - at;
			memmove(rw->work, rw->work + at, rw->ncarry);
		}
		data += take;
		len -= take;
	}
	return 0;
}

int
site_rw_finish(struct site_rw *rw)
{
	int err = 0;

	if (rw->failed)
		return -1;
	if (rw->ncarry > 0)
		scan(rw, rw->work, rw->ncarry, 1, &err);
	rw->ncarry = 0;
	return err ? -1 : 0;
}

void
site_rw_free(struct site_rw *rw)
{
	free(rw->work);
	rw->work = NULL;
	rw->ncarry = 0;
}

int
site_rw_to_buf(void *arg, const char *p, size_t n)
{
	return buf_add(arg, p, n);
}

int
site_rw_hosts(struct site_rw *rw, struct arena *a, const struct site_hosts *h)
{
	const char *sandbox, *ces;
	int rc = 0;

	sandbox = arena_printf(a, "%s/sandbox", h->host);
	ces = arena_printf(a, "%s/ces", h->host);
	if (sandbox == NULL || ces == NULL)
		return -1;
	rc |= site_rw_add(rw, "https://ab.chatgpt.com", h->origin);
	rc |= site_rw_add(rw, "https://cdn.oaistatic.com", h->origin);
	if (h->voice_host != NULL && *h->voice_host)
		rc |= site_rw_add(rw, "webrtc.chatgpt.com", h->voice_host);
	if (h->file_host != NULL && *h->file_host)
		rc |= site_rw_add(rw, "files.oaiusercontent.com", h->file_host);
	if (!h->public_api) {
		rc |= site_rw_add(rw, "web-sandbox.oaiusercontent.com",
		    sandbox);
		rc |= site_rw_add(rw, SITE_MAIN, h->origin);
	}
	rc |= site_rw_add(rw, "chatgpt.com/ces", ces);
	/* A private base (or a mock) is the site itself. */
	if (h->base != NULL && *h->base && strcmp(h->base, SITE_MAIN) != 0)
		rc |= site_rw_add(rw, h->base, h->origin);
	/* A sandbox page loads its assets from under /sandbox. */
	if (h->sandbox)
		rc |= site_rw_add(rw, "\"/assets/", "\"/sandbox/assets/");
	return rc ? -1 : 0;
}
