/*
 * The whole store as one file, to move an install between LMDB and
 * Redis (chat2api store export / import).  The file is a short clear
 * header, then frames each sealed under the store key (AES-GCM, see
 * store/crypto.c), numbered in their associated data so none can be
 * dropped, reordered or spliced from another export, and ended by an
 * empty frame so a cut file is refused.  The header names the format and
 * the schema; an import refuses either from a newer chat2api.
 *
 *   header  "chat2api-store\n" | u8 format | u64 schema      (24 bytes)
 *   frame   u32 sealed length | seal(records)
 *   record  u8 table-name length | name | u32 klen | key | u32 vlen | val
 *
 * The meta table stays behind: it holds the schema version and the
 * target's own key check, both written by the target itself.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/log.h"
#include "store/store_priv.h"

#define XFER_MAGIC	"chat2api-store\n"
#define XFER_MAGIC_LEN	15
#define XFER_FORMAT	1
#define XFER_HDR_LEN	(XFER_MAGIC_LEN + 1 + 8)
#define XFER_FRAME	(256 * 1024)		/* records per frame, bytes */
#define XFER_FRAME_MAX	(64 * 1024 * 1024)	/* largest frame read back */

struct xfer {
	struct store	*s;
	FILE		*f;
	unsigned char	 hdr[XFER_HDR_LEN];
	unsigned char	*buf;		/* records of the frame being built */
	size_t		 len, cap;
	uint64_t	 frame;
	size_t		 records;
	int		 io_failed;
};

static void
xfer_aad(const struct xfer *x, unsigned char aad[XFER_HDR_LEN + 8])
{
	memcpy(aad, x->hdr, XFER_HDR_LEN);
	store_be64(aad + XFER_HDR_LEN, x->frame);
}

static int
frame_flush(struct xfer *x)
{
	unsigned char aad[XFER_HDR_LEN + 8], lenb[4], *out;
	size_t n = x->len + CRYPTO_OVERHEAD;
	int rc = 0;

	if ((out = malloc(n)) == NULL)
		return ENOMEM;
	xfer_aad(x, aad);
	if (crypto_seal(&x->s->key, aad, sizeof(aad), x->buf, x->len,
	    out) < 0) {
		rc = EIO;
		goto done;
	}
	store_put32(lenb, (uint32_t)n);
	if (fwrite(lenb, 1, 4, x->f) != 4 || fwrite(out, 1, n, x->f) != n) {
		x->io_failed = 1;
		rc = EIO;
		goto done;
	}
	x->frame++;
	x->len = 0;
done:
	free(out);
	return rc;
}

static int
frame_add(struct xfer *x, const char *table, const MDB_val *k,
    const MDB_val *v)
{
	size_t nlen = strlen(table), need = 1 + nlen + 4 + k->mv_size + 4 +
	    v->mv_size;
	unsigned char *p, *nb;
	int rc;

	if (x->len > 0 && x->len + need > XFER_FRAME &&
	    (rc = frame_flush(x)) != 0)
		return rc;
	if (x->len + need > x->cap) {
		if ((nb = realloc(x->buf, x->len + need)) == NULL)
			return ENOMEM;
		x->buf = nb;
		x->cap = x->len + need;
	}
	p = x->buf + x->len;
	*p++ = (unsigned char)nlen;
	memcpy(p, table, nlen);
	p += nlen;
	store_put32(p, (uint32_t)k->mv_size);
	memcpy(p + 4, k->mv_data, k->mv_size);
	p += 4 + k->mv_size;
	store_put32(p, (uint32_t)v->mv_size);
	memcpy(p + 4, v->mv_data, v->mv_size);
	x->len += need;
	x->records++;
	return 0;
}

static void
header_make(unsigned char hdr[XFER_HDR_LEN])
{
	memcpy(hdr, XFER_MAGIC, XFER_MAGIC_LEN);
	hdr[XFER_MAGIC_LEN] = XFER_FORMAT;
	store_be64(hdr + XFER_MAGIC_LEN + 1, STORE_SCHEMA_VERSION);
}

/* One read transaction: on LMDB a consistent snapshot of everything. */
static int
export_txn(struct store *s, struct kv_txn *txn, void *ctx)
{
	struct xfer *x = ctx;
	struct kv_cursor *cur;
	MDB_val k, v;
	size_t i;
	int rc = 0;

	x->len = 0;
	x->frame = 0;
	x->records = 0;
	if (fseek(x->f, XFER_HDR_LEN, SEEK_SET) != 0 && errno != ESPIPE)
		return EIO;
	for (i = 0; i < STORE_NTABLES; i++) {
		if (strcmp(store_tables[i].name, "meta") == 0)
			continue;
		if ((rc = kv_cursor_open(txn, STORE_DBI(s, i), &cur)) != 0)
			return rc;
		for (rc = kv_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
		    rc = kv_cursor_get(cur, &k, &v, MDB_NEXT))
			if ((rc = frame_add(x, store_tables[i].name, &k,
			    &v)) != 0)
				break;
		kv_cursor_close(cur);
		if (rc != MDB_NOTFOUND)
			return rc;
		rc = 0;
	}
	if (x->len > 0 && (rc = frame_flush(x)) != 0)
		return rc;
	return frame_flush(x);		/* the empty end frame */
}

enum store_err
store_export(struct store *s, FILE *f, size_t *records)
{
	struct xfer x = { .s = s, .f = f };
	enum store_err e;

	*records = 0;
	if (!s->have_key)
		return STORE_INVAL;
	header_make(x.hdr);
	if (fwrite(x.hdr, 1, XFER_HDR_LEN, f) != XFER_HDR_LEN) {
		e = STORE_IO;
		goto done;
	}
	e = store_read(s, export_txn, &x);
	if (e == STORE_OK && fflush(f) != 0)
		e = STORE_IO;
	if (x.io_failed && e != STORE_OK)
		e = STORE_IO;
	*records = x.records;
done:
	free(x.buf);
	return e;
}

/* ---- import */

struct import {
	struct xfer	 x;
	unsigned char	*plain;		/* this frame's records */
	size_t		 plen;
	int		 emptied;	/* the target's tables, at the start */
	size_t		 skipped;	/* records of tables we do not have */
};

static int
table_index(const unsigned char *name, size_t n)
{
	size_t i;

	for (i = 0; i < STORE_NTABLES; i++)
		if (strlen(store_tables[i].name) == n &&
		    memcmp(store_tables[i].name, name, n) == 0)
			return (int)i;
	return -1;
}

/* The file replaces the target's content, never merges into it. */
static int
empty_tables(struct store *s, struct kv_txn *txn)
{
	size_t i;
	int rc;

	for (i = 0; i < STORE_NTABLES; i++)
		if (strcmp(store_tables[i].name, "meta") != 0 &&
		    (rc = kv_drop(txn, STORE_DBI(s, i))) != 0)
			return rc;
	return 0;
}

/* One frame's records in one write transaction. */
static int
import_txn(struct store *s, struct kv_txn *txn, void *ctx)
{
	struct import *im = ctx;
	const unsigned char *p = im->plain, *end = p + im->plen;
	size_t nlen, imported = 0, skipped = 0;
	MDB_val k, v;
	int t, rc;

	if (!im->emptied && (rc = empty_tables(s, txn)) != 0)
		return rc;
	while (p < end) {
		nlen = *p++;
		if ((size_t)(end - p) < nlen + 4)
			return EINVAL;
		t = table_index(p, nlen);
		p += nlen;
		k.mv_size = store_get32(p);
		p += 4;
		if ((size_t)(end - p) < k.mv_size + 4)
			return EINVAL;
		k.mv_data = (void *)p;
		p += k.mv_size;
		v.mv_size = store_get32(p);
		p += 4;
		if ((size_t)(end - p) < v.mv_size)
			return EINVAL;
		v.mv_data = (void *)p;
		p += v.mv_size;
		if (t < 0 || strcmp(store_tables[t].name, "meta") == 0) {
			skipped++;
			continue;
		}
		if ((rc = kv_put(txn, STORE_DBI(s, t), &k, &v, 0)) != 0)
			return rc;
		imported++;
	}
	/* Only a committed frame counts. */
	im->emptied = 1;
	im->x.records += imported;
	im->skipped += skipped;
	return 0;
}

/*
 * Every frame after the header: opened, and with apply written in its
 * own transaction.  err says why it stopped.
 */
static enum store_err
frames(struct store *s, struct import *im, FILE *f, int apply, char *err,
    size_t errsz)
{
	unsigned char aad[XFER_HDR_LEN + 8], lenb[4], *sealed = NULL;
	enum store_err e = STORE_INVAL;
	size_t n;

	im->x.frame = 0;
	while (fread(lenb, 1, 4, f) == 4) {
		n = store_get32(lenb);
		if (n < CRYPTO_OVERHEAD || n > XFER_FRAME_MAX) {
			snprintf(err, errsz, "frame %llu: bad length",
			    (unsigned long long)im->x.frame);
			goto done;
		}
		free(sealed);
		free(im->plain);
		im->plain = NULL;
		if ((sealed = malloc(n)) == NULL ||
		    (im->plain = malloc(n - CRYPTO_OVERHEAD + 1)) == NULL) {
			e = STORE_ENOMEM;
			snprintf(err, errsz, "out of memory");
			goto done;
		}
		if (fread(sealed, 1, n, f) != n)
			break;
		xfer_aad(&im->x, aad);
		if (crypto_open(&s->key, aad, sizeof(aad), sealed, n,
		    im->plain) < 0) {
			snprintf(err, errsz, "frame %llu does not open: another "
			    "secret key, or the file was changed",
			    (unsigned long long)im->x.frame);
			goto done;
		}
		im->plen = n - CRYPTO_OVERHEAD;
		if (im->plen == 0) {
			e = STORE_OK;
			goto done;
		}
		if (apply && (e = store_write(s, import_txn, im)) != STORE_OK) {
			snprintf(err, errsz, "frame %llu: %s",
			    (unsigned long long)im->x.frame,
			    e == STORE_INVAL ? "malformed records" :
			    store_strerror(e));
			goto done;
		}
		e = STORE_INVAL;
		im->x.frame++;
	}
	snprintf(err, errsz, "the file is cut short (no end frame after "
	    "frame %llu)", (unsigned long long)im->x.frame);
done:
	free(sealed);
	free(im->plain);
	im->plain = NULL;
	return e;
}

enum store_err
store_import(struct store *s, FILE *f, size_t *records, char *err,
    size_t errsz)
{
	struct import im;
	unsigned char hdr[XFER_HDR_LEN];
	enum store_err e = STORE_INVAL;

	memset(&im, 0, sizeof(im));
	im.x.s = s;
	*records = 0;
	snprintf(err, errsz, "not a chat2api store export");
	if (!s->have_key || fread(hdr, 1, XFER_HDR_LEN, f) != XFER_HDR_LEN ||
	    memcmp(hdr, XFER_MAGIC, XFER_MAGIC_LEN) != 0)
		goto done;
	if (hdr[XFER_MAGIC_LEN] != XFER_FORMAT ||
	    store_get64(hdr + XFER_MAGIC_LEN + 1) > STORE_SCHEMA_VERSION) {
		snprintf(err, errsz, "written by a newer chat2api (format %u, "
		    "schema %llu)", hdr[XFER_MAGIC_LEN], (unsigned long long)
		    store_get64(hdr + XFER_MAGIC_LEN + 1));
		goto done;
	}
	memcpy(im.x.hdr, hdr, XFER_HDR_LEN);
	/* A file we can read twice is checked whole before the target is
	 * touched; a pipe is applied as it comes. */
	if (fseek(f, XFER_HDR_LEN, SEEK_SET) == 0) {
		if ((e = frames(s, &im, f, 0, err, errsz)) != STORE_OK)
			goto done;
		if (fseek(f, XFER_HDR_LEN, SEEK_SET) != 0) {
			e = STORE_IO;
			snprintf(err, errsz, "cannot read the file again");
			goto done;
		}
	}
	if ((e = frames(s, &im, f, 1, err, errsz)) != STORE_OK)
		goto done;
	/* An export of an empty store still empties the target. */
	im.plen = 0;
	if (!im.emptied && (e = store_write(s, import_txn, &im)) != STORE_OK) {
		snprintf(err, errsz, "%s", store_strerror(e));
		goto done;
	}
	if (im.skipped)
		log_warn("store import: %zu record(s) of unknown tables left "
		    "out", im.skipped);
	e = store_sync(s);
	snprintf(err, errsz, "%s", store_strerror(e));
done:
	*records = im.x.records;
	return e;
}
