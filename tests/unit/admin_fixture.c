/* The admin authentication tests' stores and fake transport
 * (admin_fixture.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_fixture.h"
#include "tests/unit/store_backend.h"
#include "unit.h"

char dir[256], dir2[256];
struct store *st, *st2;
struct config cfg;
static char *codes[] = { "code-1", "code-2", NULL };

void
admin_setup(void)
{
	char err[256];

	strcpy(dir, "/tmp/c2a-auth-XXXXXX");
	strcpy(dir2, "/tmp/c2a-auth2-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_ptr_nonnull(mkdtemp(dir2));
	ck_assert_int_eq(unit_store_open(&st, dir, 1 << 20), STORE_OK);
	ck_assert_int_eq(store_key_init(st, KEY1, err, sizeof(err)), STORE_OK);
	ck_assert_int_eq(unit_store_open(&st2, dir2, 1 << 20), STORE_OK);
	ck_assert_int_eq(store_key_init(st2, KEY2, err, sizeof(err)),
	    STORE_OK);
	memset(&cfg, 0, sizeof(cfg));
	cfg.authorization.v = codes;
	cfg.authorization.n = 2;
	cfg.api_prefix = "";
	cfg.mount = "";
	cfg.cors_origin = "*";
}

void
admin_teardown(void)
{
	char cmd[600];

	store_close(st);
	store_close(st2);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", dir, dir2);
	ck_assert_int_eq(system(cmd), 0);
}


static int
f_write(struct req *r, const char *b, size_t n)
{
	struct fake *f = r->io_ctx;

	if (f->out_len + n >= sizeof(f->out))
		return -1;
	memcpy(f->out + f->out_len, b, n);
	f->out_len += n;
	f->out[f->out_len] = '\0';
	return 0;
}

static int
f_flush(struct req *r)
{
	(void)r;
	return 0;
}

const char *
f_param(struct req *r, const char *name)
{
	struct fake *f = r->io_ctx;
	const char **p;

	for (p = f->params; *p; p += 2)
		if (strcmp(*p, name) == 0)
			return p[1];
	return NULL;
}

static long
f_read(struct req *r, char *buf, size_t n)
{
	struct fake *f = r->io_ctx;
	size_t left = f->body_len - f->body_off;

	if (n > left)
		n = left;
	memcpy(buf, f->body + f->body_off, n);
	f->body_off += n;
	return (long)n;
}

static int
f_gone(struct req *r, int ms)
{
	(void)r;
	(void)ms;
	return 0;
}

const struct req_io fake_io = { f_write, f_flush, f_param, f_read,
	f_gone };

struct req *
fake_req(struct fake *f, struct arena *a, struct req *r)
{
	arena_init(a, 0);
	memset(r, 0, sizeof(*r));
	r->io = &fake_io;
	r->io_ctx = f;
	r->arena = a;
	r->cfg = &cfg;
	r->store = st;
	r->auth = f_param(r, "HTTP_AUTHORIZATION");
	return r;
}

