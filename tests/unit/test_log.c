/* Logger: injection-proof escaping, fingerprints, sinks. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fcgi/log.h"
#include "unit.h"

START_TEST(file_sink_escapes)
{
	char path[] = "/tmp/c2a-log-XXXXXX", spec[64], buf[4096], err[128];
	int fd = mkstemp(path);
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	snprintf(spec, sizeof(spec), "file:%s", path);
	ck_assert_int_eq(log_open(spec, LOG_LVL_INFO, err, sizeof(err)), 0);
	log_info("GET /x\nFAKE 200 %s", "a\033[31mb");
	log_debug("hidden");
	log_close();
	n = read(fd, buf, sizeof(buf) - 1);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_ptr_nonnull(strstr(buf, "GET /x\\x0aFAKE 200 a\\x1b[31mb"));
	ck_assert_ptr_null(strstr(buf, "hidden"));
	ck_assert_int_eq((int)(strchr(buf, '\n') - buf), (int)strlen(buf) - 1);
	close(fd);
	unlink(path);
}
END_TEST

START_TEST(fingerprint)
{
	char a[LOG_FP_LEN], b[LOG_FP_LEN];

	log_fingerprint("Bearer secret-1", a);
	log_fingerprint("Bearer secret-2", b);
	ck_assert_uint_eq(strlen(a), 12);
	ck_assert_str_ne(a, b);
	ck_assert_ptr_null(strstr(a, "secret"));
	/* sha256("abc") starts ba7816bf8f01 */
	log_fingerprint("abc", a);
	ck_assert_str_eq(a, "ba7816bf8f01");
	log_fingerprint(NULL, a);
	ck_assert_str_eq(a, "-");
}
END_TEST

START_TEST(bad_specs)
{
	char err[128];
	enum log_level l;

	ck_assert_int_eq(log_open("console", LOG_LVL_INFO, err, sizeof(err)),
	    -1);
	ck_assert_int_eq(log_open("file:/proc/nope/x", LOG_LVL_INFO, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(log_level_parse("DEBUG", &l), 0);
	ck_assert_int_eq(l, LOG_LVL_DEBUG);
	ck_assert_int_eq(log_level_parse("verbose", &l), -1);
}
END_TEST

static Suite *
log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, file_sink_escapes);
	tcase_add_test(tc, fingerprint);
	tcase_add_test(tc, bad_specs);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(log_suite)
