/*
 * jpatch.h - the ChatGPT "v1" delta engine (protocols/chatgpt.md §5.2):
 * JSON-pointer patches applied in place to json-c documents.
 *
 * A v1 line is {"p": path, "o": op, "v": value}.  p and o may be missing;
 * the line then reuses the last p and/or o seen on an earlier line that had
 * a "v" (inheritance; jp_line() keeps that state).  Paths are RFC 6901
 * pointers: "" is the document root, "/a/b" walks keys, "~1" stands for
 * '/' and "~0" for '~' (any other '~' is an error), array steps are decimal
 * indices without leading zeros, and "-" names the slot after the last
 * element (only as the last step, only for add/append).
 *
 * Operations, on the slot the path names (parent must exist, nothing is
 * created on the way):
 *   add       objects: set the key.  arrays: insert before the index
 *             (index == length or "-" appends).  root: replace.
 *   replace   objects: set the key (a missing key is created, leniently).
 *             arrays: the index must exist.  root: replace.
 *   append    string + string: concatenate.  array + array: concatenate,
 *             array + other: push.  object + object: shallow merge (the
 *             value's keys win).  Missing target or JSON null: set.
 *             Any other pair: replace (what the reference does).
 *   remove    the key or index must exist; the root cannot be removed.
 *   truncate  v is an integer n >= 0.  strings keep their first n Unicode
 *             code points (never a partial UTF-8 sequence), arrays their
 *             first n elements; n >= length is a no-op.
 *   patch     v is an array of {"p","o","v"} sub-operations (each must have
 *             all three), applied in order.  Sub-paths are relative to the
 *             patch's own path (with the usual p = "" they are absolute).
 *             A failing sub-operation is skipped and the rest still run;
 *             the first error is returned.  ENOMEM and ELIMIT stop at once.
 *
 * Values are borrowed: the engine takes its own json-c references, so the
 * caller puts the parsed event afterwards as usual.  json-c represents
 * JSON null as a NULL pointer; a NULL *root is a null document.
 *
 * Appends to strings are the hot path (one per streamed token).  json-c
 * strings cannot grow in place, so the engine keeps the string being
 * appended to in its own doubling buffer (the "hot" string) and writes it
 * back into the json-c node only when it moves on to another string, before
 * an operation that reads it, or on jp_sync().  Read strings of a patched
 * document with jp_string(), and call jp_sync() before serialising one.
 * Appending is amortised O(length of the piece).
 *
 * Limits (struct jp_limits): path segments, patch nesting, string and array
 * length, sub-operations per patch, path bytes.  Exceeding one is
 * JP_ELIMIT.  No input makes the engine crash, loop or recurse without
 * bound.  A struct jpatch is not thread-safe; use one per stream.
 */
#ifndef UPSTREAM_CHATGPT_JPATCH_H
#define UPSTREAM_CHATGPT_JPATCH_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#define JP_DEFAULT_MAX_SEGMENTS		32
#define JP_HARD_MAX_SEGMENTS		64	/* max_segments is clamped */
#define JP_DEFAULT_MAX_PATCH_DEPTH	4
#define JP_DEFAULT_MAX_STRING		(4u * 1024 * 1024)
#define JP_DEFAULT_MAX_ARRAY		65536
#define JP_DEFAULT_MAX_OPS		4096
#define JP_MAX_PATH			4096	/* bytes of one pointer */

enum jp_op {
	JP_OP_NONE = 0,		/* no op seen yet */
	JP_ADD,
	JP_REPLACE,
	JP_APPEND,
	JP_PATCH,
	JP_REMOVE,
	JP_TRUNCATE,
	JP_OP_UNKNOWN,		/* a name we do not know */
};

enum jp_err {
	JP_OK = 0,
	JP_ENOMEM,	/* allocation failed */
	JP_EPATH,	/* malformed pointer or a bad root operation */
	JP_ENOENT,	/* a key on the path (or the target) does not exist */
	JP_ERANGE,	/* array index malformed or out of range */
	JP_ETYPE,	/* the value or the target has the wrong type */
	JP_EOP,		/* unknown op, malformed line or sub-operation */
	JP_ELIMIT,	/* a limit of struct jp_limits was exceeded */
};

/* Zero fields select the JP_DEFAULT_* values. */
struct jp_limits {
	size_t	max_segments;	/* steps in one pointer */
	size_t	max_patch_depth; /* "patch" inside "patch" */
	size_t	max_string;	/* bytes of a string grown by append */
	size_t	max_array;	/* elements of an array grown by add/append */
	size_t	max_ops;	/* sub-operations in one "patch" */
};

/* Engine state; the fields are private to jpatch.c. */
struct jpatch {
	struct jp_limits lim;
	char		*last_p;	/* inherited path */
	size_t		 last_plen;
	size_t		 last_pcap;
	bool		 have_p;
	enum jp_op	 last_o;	/* inherited op */
	json_object	*hot;		/* string node being appended to */
	char		*hot_buf;	/* its current value */
	size_t		 hot_len;
	size_t		 hot_cap;
};

/* Prepare an engine; lim may be NULL.  Does not allocate. */
void		 jp_init(struct jpatch *jp, const struct jp_limits *lim);

/* Release the engine's buffers and its reference to the hot string. */
void		 jp_free(struct jpatch *jp);

/*
 * Forget the inherited p/o (a new stream).  The hot string is written back
 * first; returns JP_ENOMEM if that fails.
 */
enum jp_err	 jp_reset(struct jpatch *jp);

/*
 * Apply one v1 line (a JSON object with "p", "o", "v"; other keys are
 * ignored) to *root, with inheritance.  A line without "v" is JP_EOP and
 * changes nothing.  A "p" or "o" that is not a string is JP_EOP.  A present
 * p/o is remembered even when the operation then fails.
 */
enum jp_err	 jp_line(struct jpatch *jp, json_object **root,
		    json_object *line);

/*
 * jp_line() with the line already taken apart: p and o (plen/olen bytes)
 * are NULL when the line has none, v is the value.  Same inheritance.
 */
enum jp_err	 jp_line_parts(struct jpatch *jp, json_object **root,
		    const char *p, size_t plen, const char *o, size_t olen,
		    json_object *v);

/* Apply one operation; path is plen bytes (may hold no NUL). */
enum jp_err	 jp_apply(struct jpatch *jp, json_object **root,
		    const char *path, size_t plen, enum jp_op op,
		    json_object *v);

/* Look a pointer up without changing anything; *out may be NULL (null). */
enum jp_err	 jp_get(const struct jpatch *jp, json_object *root,
		    const char *path, size_t plen, json_object **out);

/*
 * The value of a json-c string node, honouring the hot buffer.  Returns
 * NULL (and *len = 0) if o is not a string.  The pointer lives until the
 * next jp_* call.
 */
const char	*jp_string(const struct jpatch *jp, json_object *o,
		    size_t *len);

/* Write the hot string back into its node. */
enum jp_err	 jp_sync(struct jpatch *jp);

/* Op name <-> enum.  Unknown names give JP_OP_UNKNOWN. */
enum jp_op	 jp_op_parse(const char *name, size_t len);
const char	*jp_op_name(enum jp_op op);

const char	*jp_strerror(enum jp_err err);

#endif
