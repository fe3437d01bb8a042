/* upstream/glm/purge.c: one page of GLM's conversation list (§3.4), as a
 * purge reads it before the bulk deletes. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "fcgi/arena.h"
#include "upstream/glm/internal.h"
#include "unit.h"

static struct arena	 A;
static const char	*ids[GLM_PURGE_PAGE];

static void
setup(void)
{
	arena_init(&A, 0);
	memset(ids, 0, sizeof(ids));
}

static void
teardown(void)
{
	arena_free(&A);
}

/* glm_recent_page() of the JSON text s (max GLM_PURGE_PAGE). */
static int
page(const char *s, size_t *n, int *more)
{
	struct json_object *o = json_tokener_parse(s);
	int rc;

	*n = 77;
	*more = 9;
	rc = glm_recent_page(&A, o, ids, GLM_PURGE_PAGE, n, more);
	json_object_put(o);	/* the ids live in the arena */
	return rc;
}

START_TEST(a_page)
{
	size_t n;
	int more;

	ck_assert_int_eq(page("{\"conversation_list\":[{\"conversation_id\":"
	    "\"c-1\",\"title\":\"x\"},{\"conversation_id\":\"c-2\"}],"
	    "\"has_more\":true}", &n, &more), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(more, 1);
	ck_assert_str_eq(ids[0], "c-1");
	ck_assert_str_eq(ids[1], "c-2");
	/* the last page: has_more false, or absent */
	ck_assert_int_eq(page("{\"conversation_list\":[{\"conversation_id\":"
	    "\"z\"}],\"has_more\":false}", &n, &more), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(more, 0);
	ck_assert_int_eq(page("{\"conversation_list\":[]}", &n, &more), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(more, 0);
}
END_TEST

START_TEST(not_a_page)
{
	static const char *const bad[] = {
		"[]",
		"{}",
		"{\"conversation_list\":{}}",
		"{\"conversation_list\":[1]}",
		"{\"conversation_list\":[{}]}",
		"{\"conversation_list\":[{\"conversation_id\":\"\"}]}",
		"{\"conversation_list\":[{\"conversation_id\":7}]}",
		"{\"conversation_list\":[{\"conversation_id\":\"a\\u0000b\"}]}",
		"{\"conversation_list\":[{\"conversation_id\":\"ok\"},"
		    "{\"conversation_id\":null}]}",
	};
	size_t i, n;
	int more;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(page(bad[i], &n, &more) == -1, "%s", bad[i]);
		ck_assert_uint_eq(n, 0);
		ck_assert_int_eq(more, 0);
	}
	ck_assert_int_eq(glm_recent_page(&A, NULL, ids, 4, &n, &more), -1);
}
END_TEST

START_TEST(limits)
{
	char big[8192], id[GLM_ID_MAX + 2];
	size_t i, n;
	int more;

	/* an id of GLM_ID_MAX bytes passes, one more does not */
	memset(id, 'i', GLM_ID_MAX);
	id[GLM_ID_MAX] = '\0';
	snprintf(big, sizeof(big), "{\"conversation_list\":[{\"conversation_id"
	    "\":\"%s\"}]}", id);
	ck_assert_int_eq(page(big, &n, &more), 0);
	ck_assert_uint_eq(strlen(ids[0]), GLM_ID_MAX);
	id[GLM_ID_MAX] = 'i';
	id[GLM_ID_MAX + 1] = '\0';
	snprintf(big, sizeof(big), "{\"conversation_list\":[{\"conversation_id"
	    "\":\"%s\"}]}", id);
	ck_assert_int_eq(page(big, &n, &more), -1);
	/* more than the page size asked for: refused, never overrun */
	strcpy(big, "{\"conversation_list\":[");
	for (i = 0; i <= GLM_PURGE_PAGE; i++)
		snprintf(big + strlen(big), sizeof(big) - strlen(big),
		    "%s{\"conversation_id\":\"c%zu\"}", i ? "," : "", i);
	strcat(big, "]}");
	ck_assert_int_eq(page(big, &n, &more), -1);
	ck_assert_uint_eq(n, 0);
}
END_TEST

static Suite *
glm_recent_suite(void)
{
	Suite *s = suite_create("glm_recent");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, a_page);
	tcase_add_test(tc, not_a_page);
	tcase_add_test(tc, limits);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(glm_recent_suite)
