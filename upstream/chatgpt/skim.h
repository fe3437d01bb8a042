/*
 * skim.h - a strict JSON reader for the stream decoder's hot paths that
 * builds only the members the caller keeps.
 *
 * An old-format ChatGPT event (protocols/chatgpt.md §5.1) is the whole
 * message so far, with metadata the decoder never reads; json-c 0.16
 * builds a tree of all of it and switches the C locale on every parse
 * call.  skim_parse() walks the text once, validates all of it, and
 * builds json-c values only for the paths a spec names, so the decoder's
 * code on json-c trees stays as it is.
 *
 * Contract: a text skim_parse() accepts (SKIM_OK) is one that json-c's
 * strict tokener accepts too, and every kept value is what json-c would
 * have built (duplicate keys: the last one wins, as json-c).  Anything
 * outside the conservative subset below is SKIM_DECLINE, and the caller
 * parses it with json-c as before: numbers that are not plain RFC 8259
 * numbers or, where kept, integers of over 18 digits, -0, or other
 * numbers of over 64 bytes; control
 * bytes, \u0000 and unpaired surrogates in strings; nesting deeper than
 * SKIM_MAX_DEPTH; a top-level value that is not an object or an array;
 * anything after the value but whitespace.
 *
 * Specs: a NULL spec keeps a value whole.  For an object, keys[] names
 * the members kept (with the spec for each member's value), the others
 * are validated and dropped.  For an array, elem applies to every
 * element.  A spec applies to whatever type the value has.
 */
#ifndef UPSTREAM_CHATGPT_SKIM_H
#define UPSTREAM_CHATGPT_SKIM_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#define SKIM_MAX_DEPTH	32

struct skim_spec;

struct skim_key {
	const char		*name;
	const struct skim_spec	*spec;		/* NULL: whole value */
};

struct skim_spec {
	const struct skim_key	*keys;		/* objects: members kept */
	size_t			 nkeys;
	const struct skim_spec	*elem;		/* arrays; NULL: whole */
};

enum skim_rc {
	SKIM_ENOMEM = -1,
	SKIM_DECLINE = 0,
	SKIM_OK = 1
};

/*
 * Parse d[0..n) (one JSON value, optionally surrounded by whitespace).
 * *scratch (capacity *cap, grown as needed with realloc) holds decoded
 * strings while they are built.  On SKIM_OK *out is the kept tree (the
 * caller puts it); otherwise *out is NULL.
 */
enum skim_rc	 skim_parse(const char *d, size_t n,
		    const struct skim_spec *spec, char **scratch,
		    size_t *cap, json_object **out);

/*
 * Drops from the tree o what spec does not keep, as skim_parse() would
 * not have built it: for a tree parsed whole and kept, e.g. a document
 * later deltas patch.  A NULL spec keeps o whole.
 */
void		 skim_prune(json_object *o, const struct skim_spec *spec);

/* JSON whitespace from d[i] on: the index of the next other byte. */
size_t		 skim_ws(const char *d, size_t n, size_t i);

/*
 * Decode the JSON string that opens at d[*ip] (a '"') into w, which has
 * room for n - *ip bytes (decoding never grows a string), or only check
 * it if w is NULL.  On success *ip is past the closing quote and *wlen
 * the decoded length; false when the string is outside the subset above
 * or unterminated.
 */
bool		 skim_string(const char *d, size_t n, size_t *ip, char *w,
		    size_t *wlen);

#endif
