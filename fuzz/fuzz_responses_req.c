/*
 * fuzz_responses_req.c - libFuzzer driver for the /v1/responses body
 * converter (handlers/responses_req.c).
 *
 * The input is a request body.  One stored response exists:
 * resp_AAAA, whose record holds a history and an output (a message, a
 * function call); any other id is not found.  Oracles:
 *  - a refusal is a 400 (or a 404 for previous_response_id) with a code
 *    and a message, and leaves no body;
 *  - an accepted body gives a chat body with "messages" that
 *    chat_request_parse then handles, the echo object with "store", and
 *    a history array;
 *  - the same input converts to the same chat body twice;
 *  - item ids: rsp_item_owner never writes past its buffer and only
 *    names resp_ ids;
 *  - the sanitizers (no crash, no leak).
 *
 *   make fuzz-responses-req && mkdir -p /tmp/fr && \
 *       ./fuzz/fuzz_responses_req -max_total_time=60 /tmp/fr \
 *       fuzz/corpus/responses_req
 *
 * Built with -DFUZZ_STANDALONE it replays fuzz/corpus/responses_req.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/responses.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char record[] = "{\"response\":{\"id\":\"resp_AAAA\","
    "\"output\":[{\"id\":\"msg_AAAA_0\",\"type\":\"message\",\"role\":"
    "\"assistant\",\"content\":[{\"type\":\"output_text\",\"text\":\"hi\"}]},"
    "{\"id\":\"fc_AAAA_1\",\"type\":\"function_call\",\"call_id\":\"call_1\","
    "\"name\":\"f\",\"arguments\":\"{}\"}]},\"history\":[{\"role\":\"user\","
    "\"content\":\"q\"},{\"role\":\"assistant\",\"content\":\"hi\"}]}";

static char *
lookup(void *ctx, const char *id)
{
	(void)ctx;
	return strcmp(id, "resp_AAAA") == 0 ? strdup(record) : NULL;
}

static char *
convert(const char *s, size_t n, struct chat_req_error *e)
{
	struct json_object *chat = NULL, *v;
	struct rsp_opts o;
	char *out = NULL;

	memset(e, 0, sizeof(*e));
	if (rsp_request_convert(s, n, lookup, NULL, &chat, &o, e) < 0) {
		if (chat != NULL || (e->status != 400 && e->status != 404) ||
		    e->code == NULL || e->message[0] == '\0')
			abort();
		rsp_opts_free(&o);
		return NULL;
	}
	if (!json_object_object_get_ex(o.echo, "store", &v) ||
	    json_object_get_boolean(v) != o.store ||
	    !json_object_is_type(o.history, json_type_array) ||
	    strncmp(o.id, "resp_", 5) != 0 || strlen(o.id) != RSP_ID_LEN)
		abort();
	out = strdup(json_object_to_json_string_ext(chat,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(chat);
	rsp_opts_free(&o);
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chat_req_error e;
	struct chat_request cr;
	struct json_object *root = NULL;
	struct arena a;
	char *c1, *c2, id[64], owner[40];

	c1 = convert((const char *)data, size, &e);
	c2 = convert((const char *)data, size, &e);
	if ((c1 == NULL) != (c2 == NULL) || (c1 && strcmp(c1, c2) != 0))
		abort();
	if (c1 != NULL) {
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
	/* the input's first line as an item id */
	if (size > 0 && size < sizeof(id)) {
		memcpy(id, data, size);
		id[size] = '\0';
		if (rsp_item_owner(id, owner, sizeof(owner)) == 0 &&
		    (strncmp(owner, "resp_", 5) != 0 ||
		    strlen(owner) >= sizeof(owner)))
			abort();
	}
	return 0;
}

#ifdef FUZZ_STANDALONE
#define FUZZ_CORPUS "responses_req"
#include "fuzz/replay.h"
#endif
