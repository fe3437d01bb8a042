/*
 * fuzz_jschema.c - libFuzzer driver for the structured-output validator
 * (handlers/jschema.c).
 *
 * The input is a schema, a NUL byte and an instance, both JSON; the
 * first byte's low bit picks strict mode for jschema_check.  Oracles:
 *  - no crash, no leak, no undefined behaviour (the sanitizers), also
 *    for schemas that jschema_check refused: the validator must not
 *    trust them;
 *  - determinism: validating twice gives the same result and message;
 *  - a result is one of the enum's, and a message is always a
 *    NUL-terminated string starting with the path "$";
 *  - a schema that jschema_check took is taken again (checking is
 *    pure).
 *
 *   make fuzz-jschema && mkdir -p /tmp/fj && \
 *       ./fuzz/fuzz_jschema -max_total_time=60 /tmp/fj fuzz/corpus/jschema
 *
 * Built with -DFUZZ_STANDALONE it replays fuzz/corpus/jschema (make check).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/jschema.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct json_object *
parse(const char *s, size_t n)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;

	if (tok == NULL)
		return NULL;
	o = json_tokener_parse_ex(tok, s, (int)n);
	/* a bare number at the end needs its end */
	if (o == NULL && json_tokener_get_error(tok) == json_tokener_continue)
		o = json_tokener_parse_ex(tok, "", 1);
	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *nul;
	struct json_object *schema, *inst;
	char m1[JSCHEMA_MSG_MAX], m2[JSCHEMA_MSG_MAX];
	enum jschema_err c1, c2, v1, v2;
	int strict;

	if (size == 0 || size > 65536 ||
	    (nul = memchr(s, '\0', size)) == NULL)
		return 0;
	strict = data[0] & 1;
	if ((schema = parse(s, (size_t)(nul - s))) == NULL)
		return 0;
	inst = parse(nul + 1, size - (size_t)(nul - s) - 1);
	c1 = jschema_check(schema, strict, m1, sizeof(m1));
	c2 = jschema_check(schema, strict, m2, sizeof(m2));
	if (c1 != c2 || strcmp(m1, m2) != 0)
		abort();
	if (c1 != JSCHEMA_OK && m1[0] != '$')
		abort();
	if (c1 == JSCHEMA_OK && m1[0] != '\0')
		abort();
	v1 = jschema_validate(schema, inst, m1, sizeof(m1));
	v2 = jschema_validate(schema, inst, m2, sizeof(m2));
	if (v1 != v2 || strcmp(m1, m2) != 0)
		abort();
	if (v1 > JSCHEMA_LIMIT || (v1 != JSCHEMA_OK && m1[0] != '$') ||
	    (v1 == JSCHEMA_OK && m1[0] != '\0'))
		abort();
	json_object_put(inst);
	json_object_put(schema);
	return 0;
}

#ifdef FUZZ_STANDALONE
#define FUZZ_CORPUS "jschema"
#include "fuzz/replay.h"
#endif
