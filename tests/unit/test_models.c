/* Model mapping (§6) including the deliberate fixes of §16.9. */
#include "config.h"

#include <string.h>

#include "upstream/chatgpt/models.h"
#include "unit.h"

static const struct { const char *req, *slug; } slugs[] = {
	{ "gpt-3.5-turbo", "text-davinci-002-render-sha" },
	{ "", "text-davinci-002-render-sha" },	/* default model */
	{ "gpt-4", "gpt-4" },
	{ "gpt-4-turbo", "gpt-4" },
	{ "gpt-4-mobile", "gpt-4-mobile" },
	{ "gpt-4o", "gpt-4o" },
	{ "gpt-4o-2024-08-06", "gpt-4o" },
	{ "chatgpt-4o-latest", "gpt-4o" },
	{ "gpt-4o-mini", "gpt-4o-mini" },
	{ "gpt-4o-canmore", "gpt-4o-canmore" },
	{ "o1", "o1" },
	{ "o1-mini", "o1-mini" },
	{ "o1-preview", "o1-preview" },
	{ "o1-pro", "o1-pro" },
	{ "o3", "o3" },
	{ "o3-mini", "o3-mini" },
	{ "o3-mini-high", "o3-mini-high" },
	{ "o3-mini-low", "o3-mini-low" },
	{ "o4-mini", "o4-mini" },		/* reference: gpt-4o */
	{ "o4-mini-high", "o4-mini-high" },	/* reference: gpt-4o */
	{ "gpt-4.5", "gpt-4-5" },		/* reference: gpt-4 */
	{ "gpt-4.5-preview", "gpt-4-5" },
	{ "gpt-4.1", "gpt-4-1" },		/* reference: gpt-4 */
	{ "gpt-4.1-mini", "gpt-4-1-mini" },
	{ "gpt-5", "gpt-5" },			/* reference: gpt-4o */
	{ "gpt-5.1", "gpt-5-1" },
	{ "auto", "auto" },
	{ "claude-3-opus", "gpt-4o" },
};

START_TEST(slug_map)
{
	ck_assert_msg(strcmp(chatgpt_model_slug(slugs[_i].req),
	    slugs[_i].slug) == 0, "%s -> %s, want %s", slugs[_i].req,
	    chatgpt_model_slug(slugs[_i].req), slugs[_i].slug);
}
END_TEST

START_TEST(response_names)
{
	ck_assert_str_eq(chatgpt_model_response_name("gpt-4o"),
	    "gpt-4o-2024-08-06");
	ck_assert_str_eq(chatgpt_model_response_name("gpt-3.5-turbo"),
	    "gpt-3.5-turbo-0125");
	ck_assert_str_eq(chatgpt_model_response_name("o1"), "o1-2024-12-18");
	ck_assert_str_eq(chatgpt_model_response_name("my-model"), "my-model");
	ck_assert_str_eq(chatgpt_model_response_name(""), "gpt-3.5-turbo-0125");
}
END_TEST

START_TEST(gizmos)
{
	char id[CHATGPT_GIZMO_MAX + 1];

	ck_assert_int_eq(chatgpt_model_gizmo("gpt-4-gizmo-g-abc123", id,
	    sizeof(id)), 1);
	ck_assert_str_eq(id, "g-abc123");
	ck_assert_int_eq(chatgpt_model_gizmo("g-XyZ_9", id, sizeof(id)), 1);
	ck_assert_str_eq(id, "g-XyZ_9");
	/* reference bug: any "g-" made a gizmo */
	ck_assert_int_eq(chatgpt_model_gizmo("gpt-4-long-context", id,
	    sizeof(id)), 0);
	ck_assert_int_eq(chatgpt_model_gizmo("gpt-4-gizmo-g-", id,
	    sizeof(id)), 0);
	ck_assert_int_eq(chatgpt_model_gizmo("g-a/b", id, sizeof(id)), 0);
}
END_TEST

START_TEST(listing)
{
	size_t i, j;

	ck_assert_uint_ge(chatgpt_nmodels, 10);
	for (i = 0; i < chatgpt_nmodels; i++) {
		ck_assert_ptr_eq(chatgpt_model_find(chatgpt_models[i].id),
		    &chatgpt_models[i]);
		/* every advertised id must map to its own slug */
		ck_assert_str_eq(chatgpt_model_slug(chatgpt_models[i].id),
		    chatgpt_models[i].upstream);
		for (j = i + 1; j < chatgpt_nmodels; j++)
			ck_assert_str_ne(chatgpt_models[i].id,
			    chatgpt_models[j].id);
	}
	ck_assert_ptr_null(chatgpt_model_find("gpt-9"));
}
END_TEST

static Suite *
models_suite(void)
{
	Suite *s = suite_create("models");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, slug_map, 0, sizeof(slugs) / sizeof(slugs[0]));
	tcase_add_test(tc, response_names);
	tcase_add_test(tc, gizmos);
	tcase_add_test(tc, listing);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(models_suite)
