/*
 * fuzz_anthropic_req.c - libFuzzer driver for the /v1/messages body
 * converter (handlers/anthropic_req.c).
 *
 * The input is a request body; its first byte picks count_tokens mode.
 * Oracles:
 *  - a refusal is a 400 with a code and a message, and leaves no body;
 *  - an accepted body gives a chat body with a model and a non-empty
 *    "messages" array that chat_request_parse then handles (accepts or
 *    refuses with a message), and stop sequences within their limits;
 *  - the same input converts to the same chat body twice;
 *  - the sanitizers (no crash, no leak).
 *
 *   make fuzz-anthropic-req && mkdir -p /tmp/fa && \
 *       ./fuzz/fuzz_anthropic_req -max_total_time=60 /tmp/fa \
 *       fuzz/corpus/anthropic_req
 *
 * Built with -DFUZZ_STANDALONE it replays fuzz/corpus/anthropic_req.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/anthropic.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char *
convert(const char *s, size_t n, int count, struct ant_opts *o,
    struct chat_req_error *e)
{
	struct json_object *chat = NULL;
	char *out;

	memset(e, 0, sizeof(*e));
	if (ant_request_convert(s, n, count, &chat, o, e) < 0) {
		if (chat != NULL || e->status != 400 || e->code == NULL ||
		    e->message[0] == '\0')
			abort();
		return NULL;
	}
	out = strdup(json_object_to_json_string_ext(chat,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(chat);
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chat_req_error e;
	struct chat_request cr;
	struct json_object *root = NULL, *chat, *m;
	struct ant_opts o1, o2;
	struct arena a;
	char *c1, *c2;
	size_t i;
	int count;

	if (size < 1)
		return 0;
	count = data[0] & 1;
	c1 = convert((const char *)data + 1, size - 1, count, &o1, &e);
	c2 = convert((const char *)data + 1, size - 1, count, &o2, &e);
	if ((c1 == NULL) != (c2 == NULL) || (c1 && strcmp(c1, c2) != 0))
		abort();
	if (c1 != NULL) {
		if (o1.nstops > ANT_MAX_STOPS || o1.stop_max > ANT_MAX_STOP_LEN)
			abort();
		for (i = 0; i < o1.nstops; i++)
			if (strlen(o1.stops[i]) == 0 ||
			    strlen(o1.stops[i]) > o1.stop_max)
				abort();
		chat = json_tokener_parse(c1);
		if (!json_object_object_get_ex(chat, "messages", &m) ||
		    !json_object_is_type(m, json_type_array) ||
		    json_object_array_length(m) == 0 ||
		    !json_object_object_get_ex(chat, "model", NULL))
			abort();
		json_object_put(chat);
		arena_init(&a, 0);
		memset(&e, 0, sizeof(e));
		if (chat_request_parse(&a, c1, strlen(c1), &cr, &root, &e) < 0 &&
		    e.message[0] == '\0')
			abort();
		json_object_put(root);
		arena_free(&a);
	}
	free(c1);
	free(c2);
	return 0;
}

#ifdef FUZZ_STANDALONE
#define FUZZ_CORPUS "anthropic_req"
#include "fuzz/replay.h"
#endif
