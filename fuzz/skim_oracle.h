/*
 * skim_oracle.h - the property skim.c promises (skim.h): whatever
 * skim_parse() accepts, json-c's strict tokener accepts too, and the kept
 * tree equals json-c's tree pruned by the same spec, which is also what
 * skim_prune() keeps of json-c's whole tree (compacted by jv_compact() or
 * not).  Shared by the unit test (fixed and mutated inputs) and the
 * libFuzzer driver.
 */
#ifndef FUZZ_SKIM_ORACLE_H
#define FUZZ_SKIM_ORACLE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "upstream/chatgpt/skim.h"
#include "upstream/jv.h"

/* A spec shaped like the stream decoder's, with whole and pruned parts. */
static const struct skim_key	 oracle_k_leaf[] = {
	{ "role", NULL }, { "url", NULL } };
static const struct skim_spec	 oracle_leaf = { oracle_k_leaf, 2, NULL };
static const struct skim_spec	 oracle_list = { NULL, 0, &oracle_leaf };
static const struct skim_key	 oracle_k_inner[] = {
	{ "author", &oracle_leaf }, { "parts", &oracle_list },
	{ "status", NULL }, { "metadata", &oracle_leaf } };
static const struct skim_spec	 oracle_inner = { oracle_k_inner, 4, NULL };
static const struct skim_key	 oracle_k_top[] = {
	{ "message", &oracle_inner }, { "error", NULL }, { "a", NULL } };
static const struct skim_spec	 oracle_spec = { oracle_k_top, 3, NULL };

static const struct skim_key *
oracle_key(const struct skim_spec *sp, const char *key)
{
	for (size_t i = 0; i < sp->nkeys; i++)
		if (strcmp(sp->keys[i].name, key) == 0)
			return &sp->keys[i];
	return NULL;
}

/* json-c's tree cut down to what spec keeps (a new reference). */
static json_object *
oracle_prune(json_object *o, const struct skim_spec *sp)
{
	json_object		*r;
	const struct skim_key	*k;

	if (sp == NULL || o == NULL)
		return json_object_get(o);
	if (json_object_is_type(o, json_type_object)) {
		r = json_object_new_object();
		json_object_object_foreach(o, key, val)
			if ((k = oracle_key(sp, key)) != NULL)
				json_object_object_add(r, key,
				    oracle_prune(val, k->spec));
		return r;
	}
	if (json_object_is_type(o, json_type_array)) {
		r = json_object_new_array();
		for (size_t i = 0; i < json_object_array_length(o); i++)
			json_object_array_add(r, oracle_prune(
			    json_object_array_get_idx(o, i), sp->elem));
		return r;
	}
	return json_object_get(o);
}

static const char *
oracle_text(json_object *o)
{
	return o == NULL ? "null" : json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

/*
 * Checks one input with one spec; returns skim's answer.  *why is set
 * (and the result is -2) when the property does not hold.
 */
static int
oracle_check(const char *d, size_t n, const struct skim_spec *sp,
    const char **why)
{
	json_tokener	*tok;
	json_object	*got = NULL, *ref, *want;
	char		*scratch = NULL;
	size_t		 cap = 0;
	int		 rc, ok;

	*why = NULL;
	rc = (int)skim_parse(d, n, sp, &scratch, &cap, &got);
	free(scratch);
	if (rc == SKIM_ENOMEM) {
		*why = "out of memory";
		return -2;
	}
	if (rc != SKIM_OK)
		return rc;
	if ((tok = json_tokener_new_ex(64)) == NULL)
		abort();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	ref = json_tokener_parse_ex(tok, d, (int)n);
	ok = json_tokener_get_error(tok) == json_tokener_success &&
	    json_tokener_get_parse_end(tok) == n;
	json_tokener_free(tok);
	if (!ok) {
		*why = "skim accepted what json-c rejects";
		json_object_put(ref);
		json_object_put(got);
		return -2;
	}
	want = oracle_prune(ref, sp);
	if (strcmp(oracle_text(want), oracle_text(got)) != 0)
		*why = "skim's tree differs from json-c's";
	json_object_put(want);
	/* skim_prune() on json-c's whole tree keeps the same, compacted
	 * or not */
	if (*why == NULL) {
		skim_prune(ref, sp);
		if (strcmp(oracle_text(ref), oracle_text(got)) != 0)
			*why = "skim_prune's tree differs from skim_parse's";
		jv_compact(ref);
		if (*why == NULL &&
		    strcmp(oracle_text(ref), oracle_text(got)) != 0)
			*why = "a compacted tree prints differently";
	}
	json_object_put(ref);
	json_object_put(got);
	return *why == NULL ? rc : -2;
}

#endif
