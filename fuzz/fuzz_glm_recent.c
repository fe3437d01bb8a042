/*
 * fuzz_glm_recent.c - libFuzzer driver for glm_recent_page() (upstream/
 * glm/purge.c), the reader of one page of GLM's conversation list that
 * a purge pages through.
 *
 * The input is a JSON document, taken as the envelope's "result".
 * Oracle: on success there are at most GLM_PURGE_PAGE ids, each a
 * non-empty string of at most GLM_ID_MAX bytes equal to the document's
 * conversation_list[i].conversation_id, and has_more is 0 or 1; on
 * failure nothing is counted.
 *
 *   make fuzz-glm-recent, then ./fuzz/fuzz_glm_recent fuzz/corpus/glm_recent
 *
 * -DFUZZ_STANDALONE replays the corpus instead (make check).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "fcgi/arena.h"
#include "upstream/glm/internal.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *root, *list, *item, *v;
	const char *ids[GLM_PURGE_PAGE];
	struct json_tokener *tok;
	struct arena a;
	size_t i, n = 99;
	int more = 7, rc;

	if ((tok = json_tokener_new()) == NULL)
		abort();
	root = json_tokener_parse_ex(tok, (const char *)data, (int)size);
	json_tokener_free(tok);
	arena_init(&a, 0);
	rc = glm_recent_page(&a, root, ids, GLM_PURGE_PAGE, &n, &more);
	if (rc < 0 && n != 0)
		abort();
	if (rc == 0) {
		if (n > GLM_PURGE_PAGE || (more != 0 && more != 1) ||
		    !json_object_object_get_ex(root, "conversation_list",
		    &list) || json_object_array_length(list) != n)
			abort();
		for (i = 0; i < n; i++) {
			item = json_object_array_get_idx(list, i);
			if (!json_object_object_get_ex(item, "conversation_id",
			    &v) || ids[i] == NULL || *ids[i] == '\0' ||
			    strlen(ids[i]) > GLM_ID_MAX ||
			    strcmp(ids[i], json_object_get_string(v)) != 0)
				abort();
		}
	}
	arena_free(&a);
	json_object_put(root);
	return 0;
}

#ifdef FUZZ_STANDALONE
#define FUZZ_CORPUS "glm_recent"
#include "fuzz/replay.h"
#endif
