/*
 * Unit tests for upstream/chatgpt/skim.c: kept and dropped members,
 * the conservative subset (what is declined rather than guessed), the
 * string decoder, limits, and the skim_oracle.h property over the
 * old-format fixtures and thousands of mutations of them.
 */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "fuzz/skim_oracle.h"

static int
skim(const char *s, const struct skim_spec *sp, char *out, size_t cap)
{
	json_object	*o = NULL;
	char		*scratch = NULL;
	size_t		 scap = 0;
	int		 rc;

	rc = (int)skim_parse(s, strlen(s), sp, &scratch, &scap, &o);
	free(scratch);
	if (rc == SKIM_OK)
		snprintf(out, cap, "%s", oracle_text(o));
	else
		snprintf(out, cap, "-");
	json_object_put(o);
	return rc;
}

/* The property, for inputs the test wants accepted. */
static void
accepted(const char *s, const struct skim_spec *sp)
{
	const char	*why;
	int		 rc = oracle_check(s, strlen(s), sp, &why);

	ck_assert_msg(rc == SKIM_OK, "%s: %s", s, why ? why : "declined");
}

static void
declined(const char *s)
{
	const char	*why;

	ck_assert_msg(oracle_check(s, strlen(s), NULL, &why) == SKIM_DECLINE,
	    "%s: not declined", s);
	ck_assert_msg(oracle_check(s, strlen(s), &oracle_spec, &why) ==
	    SKIM_DECLINE, "%s: not declined with a spec", s);
}

START_TEST(keeps_only_named_members)
{
	char	 out[512];

	ck_assert_int_eq(skim("{\"message\":{\"author\":{\"role\":\"assistant\","
	    "\"name\":null,\"metadata\":{}},\"create_time\":1736175600.5,"
	    "\"status\":\"in_progress\",\"weight\":1.0,\"parts\":[\"hi\","
	    "{\"role\":\"x\",\"size\":1e9}]},\"conversation_id\":\"c\","
	    "\"error\":null}", &oracle_spec, out, sizeof(out)), SKIM_OK);
	ck_assert_str_eq(out, "{\"message\":{\"author\":{\"role\":"
	    "\"assistant\"},\"status\":\"in_progress\",\"parts\":[\"hi\","
	    "{\"role\":\"x\"}]},\"error\":null}");
	/* a spec applies to whatever type the value has */
	ck_assert_int_eq(skim("{\"message\":[1,{\"status\":2,\"z\":3}],"
	    "\"a\":{\"deep\":[true,false,null,-7]}}", &oracle_spec, out,
	    sizeof(out)), SKIM_OK);
	/* (an array under an object spec: its elements are whole) */
	ck_assert_str_eq(out, "{\"message\":[1,{\"status\":2,\"z\":3}],"
	    "\"a\":{\"deep\":[true,false,null,-7]}}");
}
END_TEST

START_TEST(whole_values_match_jsonc)
{
	static const char *const ok[] = {
		"{}", "[]", "[\"x\",0,-12,true,false,null]",
		" {\"a\" : [ 1 , 2 ] } \n",
		"{\"a\":1,\"a\":2}",		/* the last one wins */
		"{\"a\":{\"b\":1},\"a\":[3]}",
		"{\"k\\u00e9y\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}",
		"{\"s\":\"\\ud83d\\ude00 caf\\u00e9 \xe2\x88\x92\"}",
		"{\"raw\":\"\xff\xfe not utf-8\"}",	/* json-c copies it */
		"{\"n\":999999999999999999}",
		"{\"n\":-999999999999999999}",
		/* doubles keep their text, as json-c's do */
		"{\"t\":1736175600.5,\"w\":1.0,\"e\":-2.5E+3,\"z\":0.0}",
		"{\"tiny\":1.5e-400,\"huge\":1e999,\"neg\":-0.0}",
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		accepted(ok[i], NULL);
		accepted(ok[i], &oracle_spec);
	}
}
END_TEST

START_TEST(declines_outside_the_subset)
{
	static const char *const no[] = {
		/* malformed: json-c rejects these as well */
		"", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "[1,]", "{,}",
		"{\"a\":01}", "{\"a\":-}", "{\"a\":1.}", "{\"a\":.5}",
		"{\"a\":1e}", "{\"a\":tru}", "{\"a\":True}", "{'a':1}",
		"{\"a\":1}x", "{\"a\":1}{}", "{\"a\":\"x}", "{\"a\":\"\\x\"}",
		"{\"a\":\"\\u12\"}", "{\"a\":[1 2]}", "{\"a\" 1}",
		/* valid, but left to json-c */
		"{\"a\":\"\\u0000\"}", "{\"a\":\"x\ty\"}",
		"{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00x\"}",
		"{\"a\":\"\\ud800\\u0041\"}",
		"{\"a\":-0}", "{\"a\":1234567890123456789}",
		"{\"a\":1.00000000000000000000000000000000000000000000000000"
		"000000000000005}",
		"{\"a\":\f1}", "{\"a\":NaN}",
		/* top-level scalars: json-c waits for more input after them */
		"0", "\"x\"", "true",
	};

	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		declined(no[i]);
}
END_TEST

START_TEST(dropped_values_are_still_checked)
{
	char	 out[64];

	/* doubles and odd numbers are fine where nothing is kept */
	ck_assert_int_eq(skim("{\"z\":1.5e-3,\"error\":3}", &oracle_spec,
	    out, sizeof(out)), SKIM_OK);
	ck_assert_str_eq(out, "{\"error\":3}");
	/* but a dropped member must still be valid JSON */
	ck_assert_int_eq(skim("{\"z\":[1,],\"error\":3}", &oracle_spec,
	    out, sizeof(out)), SKIM_DECLINE);
	ck_assert_int_eq(skim("{\"z\":\"\\q\",\"error\":3}", &oracle_spec,
	    out, sizeof(out)), SKIM_DECLINE);
	ck_assert_int_eq(skim("{\"z\":{\"y\":01},\"error\":3}", &oracle_spec,
	    out, sizeof(out)), SKIM_DECLINE);
}
END_TEST

START_TEST(depth_limit)
{
	char	 s[2 * SKIM_MAX_DEPTH + 8], out[16];
	size_t	 i;

	for (i = 0; i < SKIM_MAX_DEPTH; i++)
		s[i] = '[';
	for (; i < 2 * SKIM_MAX_DEPTH; i++)
		s[i] = ']';
	s[i] = '\0';
	ck_assert_int_eq(skim(s, NULL, out, sizeof(out)), SKIM_OK);
	memmove(s + 1, s, strlen(s) + 1);
	s[0] = '[';
	strcat(s, "]");
	ck_assert_int_eq(skim(s, NULL, out, sizeof(out)), SKIM_DECLINE);
}
END_TEST

START_TEST(string_decoder)
{
	static const char	 in[] = "\"a\\u00e9\\ud83d\\ude00\\n\" tail";
	char			 w[sizeof(in)];
	size_t			 i = 0, len = 0;

	ck_assert(skim_string(in, strlen(in), &i, w, &len));
	ck_assert_uint_eq(len, 1 + 2 + 4 + 1);
	ck_assert(memcmp(w, "a\xc3\xa9\xf0\x9f\x98\x80\n", len) == 0);
	ck_assert_uint_eq(i, strlen(in) - 5);
	i = 0;
	ck_assert(!skim_string("\"abc", 4, &i, w, &len));
	i = 0;
	ck_assert(!skim_string("\"ab\\", 4, &i, w, &len));
	ck_assert_uint_eq(skim_ws(" \t\r\nx", 5, 0), 4);
}
END_TEST

/* ------------------------------------------------ fixtures and mutations */

struct texts {
	char	**t;
	size_t	 n;
};

static void
add_text(struct texts *l, const char *p, size_t len)
{
	char	*c = malloc(len + 1);

	ck_assert_ptr_nonnull(c);
	memcpy(c, p, len);
	c[len] = '\0';
	l->t = realloc(l->t, (l->n + 1) * sizeof(*l->t));
	ck_assert_ptr_nonnull(l->t);
	l->t[l->n++] = c;
}

/* The "data: {" lines of every old-format fixture. */
static void
load_fixtures(struct texts *l)
{
	const char	*top = getenv("top_srcdir");
	char		 dir[1024], path[2048], *buf;
	struct dirent	*de;
	DIR		*d;
	FILE		*fp;
	long		 n;

	snprintf(dir, sizeof(dir), "%s/tests/unit/data/chatgpt",
	    top != NULL && *top != '\0' ? top : ".");
	d = opendir(dir);
	ck_assert_msg(d != NULL, "%s", dir);
	while ((de = readdir(d)) != NULL) {
		size_t	 nl = strlen(de->d_name);

		if (nl < 8 || strcmp(de->d_name + nl - 8, ".old.sse") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		ck_assert_ptr_nonnull(fp = fopen(path, "rb"));
		ck_assert(fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) > 0);
		rewind(fp);
		ck_assert_ptr_nonnull(buf = malloc((size_t)n + 1));
		ck_assert(fread(buf, 1, (size_t)n, fp) == (size_t)n);
		buf[n] = '\0';
		fclose(fp);
		for (char *ln = buf, *e; *ln != '\0'; ln = e + (*e != '\0')) {
			if ((e = strchr(ln, '\n')) == NULL)
				e = ln + strlen(ln);
			if (strncmp(ln, "data: {", 7) == 0)
				add_text(l, ln + 6, (size_t)(e - ln - 6));
		}
		free(buf);
	}
	closedir(d);
}

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* 1-4 edits biased towards JSON's structural bytes and escapes. */
static size_t
mutate(const char *src, size_t n, char *dst, size_t cap, uint64_t *s)
{
	static const char	 alpha[] = "{}[]\",:\\u0123456789abcdefE.-+ tnl\t";
	size_t			 len = n, edits = 1 + rnd(s) % 4;

	memcpy(dst, src, n);
	for (size_t e = 0; e < edits && len > 0; e++) {
		size_t	 at = rnd(s) % len, k = 1 + rnd(s) % 8;
		char	 c = alpha[rnd(s) % (sizeof(alpha) - 1)];

		switch (rnd(s) % 5) {
		case 0:		/* replace a byte */
			dst[at] = c;
			break;
		case 1:		/* insert a byte */
			if (len + 1 >= cap)
				break;
			memmove(dst + at + 1, dst + at, len - at);
			dst[at] = c;
			len++;
			break;
		case 2:		/* delete up to k bytes */
			k = k > len - at ? len - at : k;
			memmove(dst + at, dst + at + k, len - at - k);
			len -= k;
			break;
		case 3:		/* duplicate up to k bytes */
			k = k > len - at ? len - at : k;
			if (len + k >= cap)
				break;
			memmove(dst + at + k, dst + at, len - at);
			len += k;
			break;
		default:	/* truncate */
			len = at;
			break;
		}
	}
	return len;
}

START_TEST(property_over_fixtures_and_mutations)
{
	struct texts	 l = { NULL, 0 };
	uint64_t	 seed = 0x9e3779b97f4a7c15ULL;
	size_t		 acc = 0, dec = 0;
	const char	*why;

	load_fixtures(&l);
	ck_assert_uint_gt(l.n, 40);
	for (size_t i = 0; i < l.n; i++) {
		/* the real events must take the fast path */
		accepted(l.t[i], NULL);
		accepted(l.t[i], &oracle_spec);
	}
	for (size_t i = 0; i < l.n; i++) {
		size_t	 n = strlen(l.t[i]), cap = n + 64;
		char	*m = malloc(cap);

		ck_assert_ptr_nonnull(m);
		for (int r = 0; r < 300; r++) {
			size_t	 mlen = mutate(l.t[i], n, m, cap, &seed);
			int	 a = oracle_check(m, mlen, NULL, &why),
				 b = oracle_check(m, mlen, &oracle_spec, &why);

			ck_assert_msg(a != -2 && b != -2, "%s: %.*s", why,
			    (int)mlen, m);
			if (a == SKIM_OK)
				acc++;
			else
				dec++;
		}
		free(m);
		free(l.t[i]);
	}
	free(l.t);
	/* both outcomes must be common, or the check proves little */
	ck_assert_uint_gt(acc, 1000);
	ck_assert_uint_gt(dec, 1000);
}
END_TEST

static Suite *
skim_suite(void)
{
	Suite	*s = suite_create("skim");
	TCase	*tc = tcase_create("skim");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, keeps_only_named_members);
	tcase_add_test(tc, whole_values_match_jsonc);
	tcase_add_test(tc, declines_outside_the_subset);
	tcase_add_test(tc, dropped_values_are_still_checked);
	tcase_add_test(tc, depth_limit);
	tcase_add_test(tc, string_decoder);
	tcase_add_test(tc, property_over_fixtures_and_mutations);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(skim_suite)
