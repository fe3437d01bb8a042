/*
 * jpatch.c - JSON-pointer patches over json-c documents; see jpatch.h.
 *
 * Every operation resolves its path to a "slot": the root pointer, an
 * object member or an array element (possibly one past the end), then
 * acts on it.  Nothing is modified until the whole path has resolved, so
 * a failing operation leaves the document as it was.
 *
 * json-c quirks handled here: JSON null is a NULL json_object pointer;
 * json_object_object_add() and json_object_array_put_idx() release the old
 * value first, so storing a value over itself must be avoided; json-c 0.16
 * has no array insert, so inserting shifts elements one by one; and 0.16's
 * json_object_set_string_len() leaks the heap buffer of a string set to
 * length 0 (and leaves garbage behind its zero length), so strings are
 * never emptied in place.
 */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "upstream/chatgpt/jpatch.h"

#define PATH_STACK	256	/* pointers shorter than this are not malloc'd */

struct jp_path {
	char		*buf;
	char		 sbuf[PATH_STACK];
	const char	*tok[JP_HARD_MAX_SEGMENTS];
	size_t		 n;
};

enum slot_kind { SLOT_ROOT, SLOT_OBJ, SLOT_ARR };

struct slot {
	enum slot_kind	 kind;
	json_object	**rootp;
	json_object	*parent;
	const char	*key;
	size_t		 idx;
	bool		 exists;	/* key present / index < length */
	json_object	*cur;		/* the value there (NULL: null/missing) */
};

static enum jp_err	apply(struct jpatch *, json_object **, const char *,
			    size_t, enum jp_op, json_object *, size_t);

static size_t
lim_or(size_t v, size_t dflt)
{
	return v ? v : dflt;
}

void
jp_init(struct jpatch *jp, const struct jp_limits *lim)
{
	memset(jp, 0, sizeof(*jp));
	if (lim != NULL)
		jp->lim = *lim;
	jp->lim.max_segments = lim_or(jp->lim.max_segments,
	    JP_DEFAULT_MAX_SEGMENTS);
	if (jp->lim.max_segments > JP_HARD_MAX_SEGMENTS)
		jp->lim.max_segments = JP_HARD_MAX_SEGMENTS;
	jp->lim.max_patch_depth = lim_or(jp->lim.max_patch_depth,
	    JP_DEFAULT_MAX_PATCH_DEPTH);
	jp->lim.max_string = lim_or(jp->lim.max_string, JP_DEFAULT_MAX_STRING);
	if (jp->lim.max_string > INT_MAX - 1)
		jp->lim.max_string = INT_MAX - 1;	/* json-c's limit */
	jp->lim.max_array = lim_or(jp->lim.max_array, JP_DEFAULT_MAX_ARRAY);
	jp->lim.max_ops = lim_or(jp->lim.max_ops, JP_DEFAULT_MAX_OPS);
}

void
jp_free(struct jpatch *jp)
{
	struct jp_limits	 lim = jp->lim;

	json_object_put(jp->hot);
	free(jp->hot_buf);
	free(jp->last_p);
	jp_init(jp, &lim);
}

enum jp_err
jp_reset(struct jpatch *jp)
{
	enum jp_err	 e = jp_sync(jp);

	jp->have_p = false;
	jp->last_plen = 0;
	jp->last_o = JP_OP_NONE;
	return e;
}

const char *
jp_strerror(enum jp_err err)
{
	switch (err) {
	case JP_OK:
		return "success";
	case JP_ENOMEM:
		return "out of memory";
	case JP_EPATH:
		return "malformed JSON pointer";
	case JP_ENOENT:
		return "no such member";
	case JP_ERANGE:
		return "array index out of range";
	case JP_ETYPE:
		return "type mismatch";
	case JP_EOP:
		return "bad patch operation";
	case JP_ELIMIT:
		return "patch limit exceeded";
	}
	return "unknown error";
}

static const struct {
	const char	*name;
	enum jp_op	 op;
} op_names[] = {
	{ "add",	JP_ADD },
	{ "replace",	JP_REPLACE },
	{ "append",	JP_APPEND },
	{ "patch",	JP_PATCH },
	{ "remove",	JP_REMOVE },
	{ "truncate",	JP_TRUNCATE },
};

enum jp_op
jp_op_parse(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(op_names) / sizeof(op_names[0]); i++)
		if (strlen(op_names[i].name) == len &&
		    memcmp(op_names[i].name, name, len) == 0)
			return op_names[i].op;
	return JP_OP_UNKNOWN;
}

const char *
jp_op_name(enum jp_op op)
{
	for (size_t i = 0; i < sizeof(op_names) / sizeof(op_names[0]); i++)
		if (op_names[i].op == op)
			return op_names[i].name;
	return op == JP_OP_NONE ? "none" : "unknown";
}

/* ------------------------------------------------------------ the hot string */

static enum jp_err
hot_reserve(struct jpatch *jp, size_t need)
{
	size_t	 ncap;
	char	*nbuf;

	if (need <= jp->hot_cap)
		return JP_OK;
	ncap = jp->hot_cap ? jp->hot_cap : 64;
	while (ncap < need)
		ncap *= 2;
	if ((nbuf = realloc(jp->hot_buf, ncap)) == NULL)
		return JP_ENOMEM;
	jp->hot_buf = nbuf;
	jp->hot_cap = ncap;
	return JP_OK;
}

/*
 * Write the hot buffer back.  hot_len is never 0 for a non-empty node
 * (truncating to nothing replaces the node instead), so json-c 0.16's
 * leak when a heap-backed string is set to length 0 cannot happen here.
 */
enum jp_err
jp_sync(struct jpatch *jp)
{
	if (jp->hot == NULL)
		return JP_OK;
	if (jp->hot_len > 0 && !json_object_set_string_len(jp->hot,
	    jp->hot_buf, (int)jp->hot_len))
		return JP_ENOMEM;
	json_object_put(jp->hot);
	jp->hot = NULL;
	jp->hot_len = 0;
	return JP_OK;
}

const char *
jp_string(const struct jpatch *jp, json_object *o, size_t *len)
{
	if (!json_object_is_type(o, json_type_string)) {
		*len = 0;
		return NULL;
	}
	if (jp != NULL && o == jp->hot) {
		*len = jp->hot_len;
		return jp->hot_buf;
	}
	*len = (size_t)json_object_get_string_len(o);
	return json_object_get_string(o);
}

/* Append add[0..alen) to the string node str through the hot buffer. */
static enum jp_err
hot_append(struct jpatch *jp, json_object *str, const char *add, size_t alen)
{
	enum jp_err	 e;

	if (jp->hot != str) {
		size_t		 len = (size_t)json_object_get_string_len(str);

		if (len > jp->lim.max_string ||
		    alen > jp->lim.max_string - len)
			return JP_ELIMIT;
		if ((e = jp_sync(jp)) != JP_OK)
			return e;
		if ((e = hot_reserve(jp, len + alen + 1)) != JP_OK)
			return e;
		memcpy(jp->hot_buf, json_object_get_string(str), len);
		jp->hot_len = len;
		jp->hot = json_object_get(str);
	} else if (alen > jp->lim.max_string - jp->hot_len)
		return JP_ELIMIT;
	if ((e = hot_reserve(jp, jp->hot_len + alen + 1)) != JP_OK)
		return e;
	memcpy(jp->hot_buf + jp->hot_len, add, alen);
	jp->hot_len += alen;
	jp->hot_buf[jp->hot_len] = '\0';
	return JP_OK;
}

/* ------------------------------------------------------------ pointers */

static void
path_free(struct jp_path *pp)
{
	if (pp->buf != pp->sbuf)
		free(pp->buf);
	pp->buf = NULL;
}

/*
 * Split and unescape a pointer into NUL-terminated tokens.  The output is
 * never longer than the input (each '/' becomes a NUL, "~0"/"~1" shrink),
 * so one buffer of plen + 1 bytes holds all tokens.
 */
static enum jp_err
path_parse(struct jp_path *pp, size_t maxseg, const char *path, size_t plen)
{
	char	*w;
	size_t	 i;

	pp->n = 0;
	pp->buf = pp->sbuf;
	if (plen == 0)
		return JP_OK;
	if (path[0] != '/')
		return JP_EPATH;
	if (plen > JP_MAX_PATH)
		return JP_ELIMIT;
	if (plen >= sizeof(pp->sbuf) && (pp->buf = malloc(plen + 1)) == NULL)
		return JP_ENOMEM;
	w = pp->buf;
	i = 1;
	for (;;) {
		if (pp->n == maxseg)
			return JP_ELIMIT;
		pp->tok[pp->n++] = w;
		while (i < plen && path[i] != '/') {
			char	 c = path[i++];

			if (c == '\0')
				return JP_EPATH;
			if (c == '~') {
				if (i == plen)
					return JP_EPATH;
				if (path[i] == '0')
					c = '~';
				else if (path[i] == '1')
					c = '/';
				else
					return JP_EPATH;
				i++;
			}
			*w++ = c;
		}
		*w++ = '\0';
		if (i >= plen)
			break;
		i++;	/* the '/' */
	}
	return JP_OK;
}

/* An RFC 6901 array index: "0" or [1-9][0-9]*, bounded. */
static bool
parse_index(const char *t, size_t *out)
{
	size_t	 v = 0;

	if (t[0] == '\0' || (t[0] == '0' && t[1] != '\0'))
		return false;
	for (; *t != '\0'; t++) {
		if (*t < '0' || *t > '9')
			return false;
		if (v > (SIZE_MAX / 2 - 9) / 10)
			return false;
		v = v * 10 + (size_t)(*t - '0');
	}
	*out = v;
	return true;
}

/* Walk tokens [0, upto) from node. */
static enum jp_err
walk(json_object *node, const struct jp_path *pp, size_t upto,
    json_object **out)
{
	for (size_t i = 0; i < upto; i++) {
		json_object	*next = NULL;
		size_t		 idx;

		if (json_object_is_type(node, json_type_object)) {
			if (!json_object_object_get_ex(node, pp->tok[i], &next))
				return JP_ENOENT;
		} else if (json_object_is_type(node, json_type_array)) {
			if (!parse_index(pp->tok[i], &idx) ||
			    idx >= json_object_array_length(node))
				return JP_ERANGE;
			next = json_object_array_get_idx(node, idx);
		} else
			return JP_ETYPE;
		node = next;
	}
	*out = node;
	return JP_OK;
}

/* Resolve the slot the parsed path names. */
static enum jp_err
resolve(json_object **root, const struct jp_path *pp, struct slot *s)
{
	json_object	*parent;
	enum jp_err	 e;
	const char	*key;

	memset(s, 0, sizeof(*s));
	s->rootp = root;
	if (pp->n == 0) {
		s->kind = SLOT_ROOT;
		s->exists = true;
		s->cur = *root;
		return JP_OK;
	}
	if ((e = walk(*root, pp, pp->n - 1, &parent)) != JP_OK)
		return e;
	key = pp->tok[pp->n - 1];
	s->parent = parent;
	s->key = key;
	if (json_object_is_type(parent, json_type_object)) {
		s->kind = SLOT_OBJ;
		s->exists = json_object_object_get_ex(parent, key, &s->cur);
		return JP_OK;
	}
	if (json_object_is_type(parent, json_type_array)) {
		size_t	 len = json_object_array_length(parent);

		s->kind = SLOT_ARR;
		if (strcmp(key, "-") == 0)
			s->idx = len;
		else if (!parse_index(key, &s->idx) || s->idx > len)
			return JP_ERANGE;
		s->exists = s->idx < len;
		if (s->exists)
			s->cur = json_object_array_get_idx(parent, s->idx);
		return JP_OK;
	}
	return JP_ETYPE;
}

/* ------------------------------------------------------------ slot writes */

/* Store v (a reference the caller owns and hands over) into the slot. */
static enum jp_err
slot_set(struct jpatch *jp, struct slot *s, json_object *v)
{
	if (s->exists && s->cur == v && v != NULL) {
		json_object_put(v);	/* already there */
		return JP_OK;
	}
	switch (s->kind) {
	case SLOT_ROOT:
		json_object_put(*s->rootp);
		*s->rootp = v;
		return JP_OK;
	case SLOT_OBJ:
		if (json_object_object_add(s->parent, s->key, v) != 0) {
			json_object_put(v);
			return JP_ENOMEM;
		}
		return JP_OK;
	case SLOT_ARR:
		if (s->exists) {
			if (json_object_array_put_idx(s->parent, s->idx, v)
			    != 0) {
				json_object_put(v);
				return JP_ENOMEM;
			}
			return JP_OK;
		}
		if (json_object_array_length(s->parent) >= jp->lim.max_array) {
			json_object_put(v);
			return JP_ELIMIT;
		}
		if (json_object_array_add(s->parent, v) != 0) {
			json_object_put(v);
			return JP_ENOMEM;
		}
		return JP_OK;
	}
	json_object_put(v);
	return JP_EOP;
}

/* Insert v (owned) before s->idx in an array slot. */
static enum jp_err
slot_insert(struct jpatch *jp, struct slot *s, json_object *v)
{
	json_object	*arr = s->parent;
	size_t		 len = json_object_array_length(arr);

	if (!s->exists)
		return slot_set(jp, s, v);	/* at the end */
	if (len >= jp->lim.max_array) {
		json_object_put(v);
		return JP_ELIMIT;
	}
	if (json_object_array_add(arr, NULL) != 0) {
		json_object_put(v);
		return JP_ENOMEM;
	}
	/*
	 * Shift [idx, len) up by one.  Each move takes a reference to the
	 * element and the put_idx releases the one its old copy held, so the
	 * counts stay right and put_idx cannot fail (no growth).
	 */
	for (size_t k = len; k > s->idx; k--)
		json_object_array_put_idx(arr, k,
		    json_object_get(json_object_array_get_idx(arr, k - 1)));
	json_object_array_put_idx(arr, s->idx, v);
	return JP_OK;
}

static enum jp_err
op_remove(struct slot *s)
{
	switch (s->kind) {
	case SLOT_ROOT:
		return JP_EPATH;
	case SLOT_OBJ:
		if (!s->exists)
			return JP_ENOENT;
		json_object_object_del(s->parent, s->key);
		return JP_OK;
	case SLOT_ARR:
		if (!s->exists)
			return JP_ERANGE;
		if (json_object_array_del_idx(s->parent, s->idx, 1) != 0)
			return JP_ERANGE;
		return JP_OK;
	}
	return JP_EOP;
}

static enum jp_err
op_append(struct jpatch *jp, struct slot *s, json_object *v)
{
	json_object	*cur = s->cur;

	if (!s->exists || cur == NULL)
		return slot_set(jp, s, json_object_get(v));
	if (json_object_is_type(cur, json_type_string) &&
	    json_object_is_type(v, json_type_string))
		return hot_append(jp, cur, json_object_get_string(v),
		    (size_t)json_object_get_string_len(v));
	if (json_object_is_type(cur, json_type_array)) {
		size_t	 have = json_object_array_length(cur), n, i;

		if (!json_object_is_type(v, json_type_array)) {
			if (have >= jp->lim.max_array)
				return JP_ELIMIT;
			if (json_object_array_add(cur, json_object_get(v))
			    != 0) {
				json_object_put(v);
				return JP_ENOMEM;
			}
			return JP_OK;
		}
		n = json_object_array_length(v);
		if (n > jp->lim.max_array || have > jp->lim.max_array - n)
			return JP_ELIMIT;
		for (i = 0; i < n; i++) {
			json_object	*el = json_object_array_get_idx(v, i);

			if (json_object_array_add(cur, json_object_get(el))
			    != 0) {
				json_object_put(el);
				return JP_ENOMEM;
			}
		}
		return JP_OK;
	}
	if (json_object_is_type(cur, json_type_object) &&
	    json_object_is_type(v, json_type_object)) {
		if (cur == v)
			return JP_OK;
		json_object_object_foreach(v, k, val) {
			json_object	*old = NULL;

			if (json_object_object_get_ex(cur, k, &old) &&
			    old == val && val != NULL)
				continue;
			if (json_object_object_add(cur, k,
			    json_object_get(val)) != 0) {
				json_object_put(val);
				return JP_ENOMEM;
			}
		}
		return JP_OK;
	}
	/* Anything else: replace, as the reference implementation does. */
	return slot_set(jp, s, json_object_get(v));
}

/* Byte length of the first n code points of s[0..len). */
static size_t
utf8_prefix(const char *s, size_t len, size_t n)
{
	size_t	 i = 0;

	while (i < len && n > 0) {
		i++;
		while (i < len && ((unsigned char)s[i] & 0xc0) == 0x80)
			i++;
		n--;
	}
	return i;
}

static enum jp_err
op_truncate(struct jpatch *jp, struct slot *s, json_object *v)
{
	int64_t		 n;
	json_object	*cur = s->cur;

	if (!json_object_is_type(v, json_type_int))
		return JP_ETYPE;
	if ((n = json_object_get_int64(v)) < 0)
		return JP_ERANGE;
	if (!s->exists)
		return JP_ENOENT;
	if (json_object_is_type(cur, json_type_string)) {
		const char	*str;
		size_t		 len, keep;

		str = jp_string(jp, cur, &len);
		if ((uint64_t)n >= len)
			return JP_OK;
		keep = utf8_prefix(str, len, (size_t)n);
		if (keep == 0) {
			/*
			 * json-c 0.16 loses a string's heap buffer when it is
			 * set to length 0 in place: put a new "" there.
			 */
			json_object	*empty = json_object_new_string("");

			if (empty == NULL)
				return JP_ENOMEM;
			if (cur == jp->hot) {
				json_object_put(jp->hot);
				jp->hot = NULL;
				jp->hot_len = 0;
			}
			return slot_set(jp, s, empty);
		}
		if (cur == jp->hot) {
			jp->hot_len = keep;
			jp->hot_buf[keep] = '\0';
			return JP_OK;
		}
		if (keep < len) {
			/* json-c would copy the string onto itself */
			char	*tmp = malloc(keep + 1);
			int	 ok;

			if (tmp == NULL)
				return JP_ENOMEM;
			memcpy(tmp, str, keep);
			tmp[keep] = '\0';
			ok = json_object_set_string_len(cur, tmp, (int)keep);
			free(tmp);
			if (!ok)
				return JP_ENOMEM;
		}
		return JP_OK;
	}
	if (json_object_is_type(cur, json_type_array)) {
		size_t	 len = json_object_array_length(cur);

		if ((uint64_t)n < len &&
		    json_object_array_del_idx(cur, (size_t)n,
		    len - (size_t)n) != 0)
			return JP_ENOMEM;
		return JP_OK;
	}
	return JP_ETYPE;
}

static bool
fatal(enum jp_err e)
{
	return e == JP_ENOMEM || e == JP_ELIMIT;
}

/* Join two pointers: base + sub (both "" or starting with '/'). */
static enum jp_err
join(const char *a, size_t alen, const char *b, size_t blen, char **out,
    size_t *olen)
{
	char	*p;

	if (alen > JP_MAX_PATH || blen > JP_MAX_PATH - alen)
		return JP_ELIMIT;
	if ((p = malloc(alen + blen + 1)) == NULL)
		return JP_ENOMEM;
	memcpy(p, a, alen);
	memcpy(p + alen, b, blen);
	p[alen + blen] = '\0';
	*out = p;
	*olen = alen + blen;
	return JP_OK;
}

static enum jp_err
op_patch(struct jpatch *jp, json_object **root, const char *base,
    size_t blen, json_object *v, size_t depth)
{
	enum jp_err	 first = JP_OK, e;
	size_t		 n;

	if (!json_object_is_type(v, json_type_array))
		return JP_ETYPE;
	if (depth >= jp->lim.max_patch_depth)
		return JP_ELIMIT;
	if ((n = json_object_array_length(v)) > jp->lim.max_ops)
		return JP_ELIMIT;
	for (size_t i = 0; i < n; i++) {
		json_object	*sub = json_object_array_get_idx(v, i);
		json_object	*jp_p, *jp_o, *jp_v;
		const char	*sp;
		size_t		 splen, fplen;
		char		*full;

		if (!json_object_is_type(sub, json_type_object) ||
		    !json_object_object_get_ex(sub, "p", &jp_p) ||
		    !json_object_object_get_ex(sub, "o", &jp_o) ||
		    !json_object_object_get_ex(sub, "v", &jp_v) ||
		    !json_object_is_type(jp_p, json_type_string) ||
		    !json_object_is_type(jp_o, json_type_string)) {
			if (first == JP_OK)
				first = JP_EOP;
			continue;
		}
		sp = json_object_get_string(jp_p);
		splen = (size_t)json_object_get_string_len(jp_p);
		if (blen == 0) {
			e = apply(jp, root, sp, splen, jp_op_parse(
			    json_object_get_string(jp_o),
			    (size_t)json_object_get_string_len(jp_o)),
			    jp_v, depth + 1);
		} else if ((e = join(base, blen, sp, splen, &full, &fplen))
		    == JP_OK) {
			e = apply(jp, root, full, fplen, jp_op_parse(
			    json_object_get_string(jp_o),
			    (size_t)json_object_get_string_len(jp_o)),
			    jp_v, depth + 1);
			free(full);
		}
		if (fatal(e))
			return e;
		if (e != JP_OK && first == JP_OK)
			first = e;
	}
	return first;
}

static enum jp_err
apply(struct jpatch *jp, json_object **root, const char *path, size_t plen,
    enum jp_op op, json_object *v, size_t depth)
{
	struct jp_path	 pp;
	struct slot	 s;
	enum jp_err	 e;

	if (op == JP_PATCH)
		return op_patch(jp, root, path, plen, v, depth);
	if (op != JP_ADD && op != JP_REPLACE && op != JP_APPEND &&
	    op != JP_REMOVE && op != JP_TRUNCATE)
		return JP_EOP;
	if ((e = path_parse(&pp, jp->lim.max_segments, path, plen)) != JP_OK)
		goto out;
	if ((e = resolve(root, &pp, &s)) != JP_OK)
		goto out;
	switch (op) {
	case JP_ADD:
		if (s.kind == SLOT_ARR)
			e = slot_insert(jp, &s, json_object_get(v));
		else
			e = slot_set(jp, &s, json_object_get(v));
		break;
	case JP_REPLACE:
		if (s.kind == SLOT_ARR && !s.exists)
			e = JP_ERANGE;
		else
			e = slot_set(jp, &s, json_object_get(v));
		break;
	case JP_APPEND:
		e = op_append(jp, &s, v);
		break;
	case JP_REMOVE:
		e = op_remove(&s);
		break;
	default:	/* JP_TRUNCATE */
		e = op_truncate(jp, &s, v);
		break;
	}
out:
	path_free(&pp);
	return e;
}

enum jp_err
jp_apply(struct jpatch *jp, json_object **root, const char *path,
    size_t plen, enum jp_op op, json_object *v)
{
	if (jp == NULL || root == NULL || (path == NULL && plen != 0))
		return JP_EOP;
	return apply(jp, root, path ? path : "", plen, op, v, 0);
}

enum jp_err
jp_get(const struct jpatch *jp, json_object *root, const char *path,
    size_t plen, json_object **out)
{
	struct jp_path	 pp;
	enum jp_err	 e;

	if (jp == NULL || out == NULL || (path == NULL && plen != 0))
		return JP_EOP;
	*out = NULL;
	if ((e = path_parse(&pp, jp->lim.max_segments, path ? path : "",
	    plen)) == JP_OK)
		e = walk(root, &pp, pp.n, out);
	path_free(&pp);
	return e;
}

/* Remember an inherited path. */
static enum jp_err
set_last_p(struct jpatch *jp, const char *p, size_t len)
{
	if (len > JP_MAX_PATH)
		return JP_ELIMIT;
	if (len + 1 > jp->last_pcap) {
		char	*np = realloc(jp->last_p, len + 1);

		if (np == NULL)
			return JP_ENOMEM;
		jp->last_p = np;
		jp->last_pcap = len + 1;
	}
	memcpy(jp->last_p, p, len);
	jp->last_p[len] = '\0';
	jp->last_plen = len;
	jp->have_p = true;
	return JP_OK;
}

enum jp_err
jp_line_parts(struct jpatch *jp, json_object **root, const char *p,
    size_t plen, const char *o, size_t olen, json_object *v)
{
	enum jp_err	 e;

	if (jp == NULL || root == NULL)
		return JP_EOP;
	if (p != NULL && (e = set_last_p(jp, p, plen)) != JP_OK)
		return e;
	if (o != NULL)
		jp->last_o = jp_op_parse(o, olen);
	if (!jp->have_p || jp->last_o == JP_OP_NONE)
		return JP_EOP;
	return apply(jp, root, jp->last_p, jp->last_plen, jp->last_o, v, 0);
}

enum jp_err
jp_line(struct jpatch *jp, json_object **root, json_object *line)
{
	json_object	*p = NULL, *o = NULL, *v = NULL;
	bool		 has_p, has_o;

	if (jp == NULL || root == NULL ||
	    !json_object_is_type(line, json_type_object) ||
	    !json_object_object_get_ex(line, "v", &v))
		return JP_EOP;
	has_p = json_object_object_get_ex(line, "p", &p);
	has_o = json_object_object_get_ex(line, "o", &o);
	if ((has_p && !json_object_is_type(p, json_type_string)) ||
	    (has_o && !json_object_is_type(o, json_type_string)))
		return JP_EOP;
	return jp_line_parts(jp, root,
	    has_p ? json_object_get_string(p) : NULL,
	    has_p ? (size_t)json_object_get_string_len(p) : 0,
	    has_o ? json_object_get_string(o) : NULL,
	    has_o ? (size_t)json_object_get_string_len(o) : 0, v);
}
