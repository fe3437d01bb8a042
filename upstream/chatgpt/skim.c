/*
 * skim.c - strict JSON reader that builds only what a spec keeps; see
 * skim.h for the contract.
 *
 * Recursive descent, bounded by SKIM_MAX_DEPTH.  Decoded strings go to a
 * scratch buffer of the input's size used as a stack: a kept key of a
 * whole object stays there (NUL-terminated) while its value is read, and
 * every string is copied into json-c before the stack pops.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "upstream/chatgpt/skim.h"

#define SKIM_INT_DIGITS	18	/* kept integers: always fit an int64 */
#define SKIM_REAL_MAX	64	/* bytes of a kept non-integer number */

struct skim {
	const char	*d;
	size_t		 n, i;
	char		*w;		/* scratch, n + 1 bytes */
	size_t		 wpos;
};

static enum skim_rc	value(struct skim *, const struct skim_spec *,
			    bool, int, json_object **);

size_t
skim_ws(const char *d, size_t n, size_t i)
{
	while (i < n && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' ||
	    d[i] == '\r'))
		i++;
	return i;
}

static bool
hex4(const char *d, size_t n, size_t i, unsigned *out)
{
	unsigned	 v = 0;

	if (i + 4 > n)
		return false;
	for (size_t k = i; k < i + 4; k++) {
		char	 c = d[k];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return false;
	}
	*out = v;
	return true;
}

static char *
put_utf8(char *w, unsigned cp)
{
	if (cp < 0x80)
		*w++ = (char)cp;
	else if (cp < 0x800) {
		*w++ = (char)(0xc0 | (cp >> 6));
		*w++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*w++ = (char)(0xe0 | (cp >> 12));
		*w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*w++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*w++ = (char)(0xf0 | (cp >> 18));
		*w++ = (char)(0x80 | ((cp >> 12) & 0x3f));
		*w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*w++ = (char)(0x80 | (cp & 0x3f));
	}
	return w;
}

/*
 * One escape after the backslash at d[*ip]; *ip ends on its last byte.
 * *wp == NULL: check only.
 */
static bool
escape(const char *d, size_t n, size_t *ip, char **wp)
{
	static const char	 from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char		*e;
	size_t			 i = *ip + 1;
	unsigned		 cp, lo;

	if (i >= n)
		return false;
	if (d[i] != 'u') {
		if (d[i] == '\0' || (e = strchr(from, d[i])) == NULL)
			return false;
		if (*wp != NULL)
			*(*wp)++ = to[e - from];
		*ip = i;
		return true;
	}
	if (!hex4(d, n, i + 1, &cp) || cp == 0 ||
	    (cp >= 0xdc00 && cp <= 0xdfff))
		return false;	/* json-c keeps NULs, replaces lone halves */
	i += 4;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (i + 2 >= n || d[i + 1] != '\\' || d[i + 2] != 'u' ||
		    !hex4(d, n, i + 3, &lo) || lo < 0xdc00 || lo > 0xdfff)
			return false;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		i += 6;
	}
	if (*wp != NULL)
		*wp = put_utf8(*wp, cp);
	*ip = i;
	return true;
}

/* The end of the run of plain string bytes (no '"', '\\', < 0x20) at i. */
static size_t
plain_run(const char *d, size_t n, size_t i)
{
#if defined(__SSE2__)
	const __m128i	 q = _mm_set1_epi8('"'), b = _mm_set1_epi8('\\'),
			 c = _mm_set1_epi8(0x1f);

	/* long texts are most of an old-format event: 16 bytes a step */
	for (; i + 16 <= n; i += 16) {
		__m128i	 x = _mm_loadu_si128((const __m128i *)(d + i));
		__m128i	 hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, q),
			    _mm_cmpeq_epi8(x, b)),
			    _mm_cmpeq_epi8(_mm_max_epu8(x, c), c));
		int	 m = _mm_movemask_epi8(hit);

		if (m != 0)
			return i + (size_t)__builtin_ctz((unsigned)m);
	}
#endif
	while (i < n && d[i] != '"' && d[i] != '\\' &&
	    (unsigned char)d[i] >= 0x20)
		i++;
	return i;
}

bool
skim_string(const char *d, size_t n, size_t *ip, char *w, size_t *wlen)
{
	size_t	 i = *ip + 1, j;
	char	*w0 = w;

	while (i < n) {
		unsigned char	 c = (unsigned char)d[i];

		if (c == '"') {
			*wlen = w != NULL ? (size_t)(w - w0) : 0;
			*ip = i + 1;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c != '\\') {
			j = plain_run(d, n, i);
			if (w != NULL) {
				memcpy(w, d + i, j - i);
				w += j - i;
			}
			i = j;
			continue;
		}
		if (!escape(d, n, &i, &w))
			return false;
		i++;
	}
	return false;
}

/* A number with a fraction or exponent, as json-c's tokener builds it. */
static enum skim_rc
real(const char *p, size_t len, json_object **out)
{
	char	 text[SKIM_REAL_MAX + 1], *end;
	double	 v;

	if (len > SKIM_REAL_MAX)
		return SKIM_DECLINE;
	memcpy(text, p, len);
	text[len] = '\0';
	/* strtod reads the C locale's decimal point: chat2api never sets one */
	v = strtod(text, &end);
	if (end != text + len)
		return SKIM_DECLINE;
	if ((*out = json_object_new_double_s(v, text)) == NULL)
		return SKIM_ENOMEM;
	return SKIM_OK;
}

static bool
digit(const struct skim *k)
{
	return k->i < k->n && k->d[k->i] >= '0' && k->d[k->i] <= '9';
}

/*
 * RFC 8259 numbers.  Kept ones as json-c makes them: integers of up to 18
 * digits exactly, others as doubles that keep their text for printing.
 */
static enum skim_rc
number(struct skim *k, bool keep, json_object **out)
{
	size_t	 start, digits, first = k->i;
	bool	 neg = false, whole = true;
	int64_t	 v = 0;

	if (k->d[k->i] == '-') {
		neg = true;
		k->i++;
	}
	start = k->i;
	if (!digit(k))
		return SKIM_DECLINE;
	if (k->d[k->i] == '0')
		k->i++;
	else
		while (digit(k))
			k->i++;
	digits = k->i - start;
	if (k->i < k->n && k->d[k->i] == '.') {
		whole = false;
		k->i++;
		if (!digit(k))
			return SKIM_DECLINE;
		while (digit(k))
			k->i++;
	}
	if (k->i < k->n && (k->d[k->i] == 'e' || k->d[k->i] == 'E')) {
		whole = false;
		k->i++;
		if (k->i < k->n && (k->d[k->i] == '+' || k->d[k->i] == '-'))
			k->i++;
		if (!digit(k))
			return SKIM_DECLINE;
		while (digit(k))
			k->i++;
	}
	if (!keep)
		return SKIM_OK;
	if (!whole)
		return real(k->d + first, k->i - first, out);
	if (digits > SKIM_INT_DIGITS)
		return SKIM_DECLINE;
	for (size_t j = start; j < start + digits; j++)
		v = v * 10 + (k->d[j] - '0');
	if (neg && v == 0)
		return SKIM_DECLINE;	/* -0: leave json-c's reading alone */
	if ((*out = json_object_new_int64(neg ? -v : v)) == NULL)
		return SKIM_ENOMEM;
	return SKIM_OK;
}

static enum skim_rc
literal(struct skim *k, bool keep, json_object **out)
{
	static const char	*const words[] = { "true", "false", "null" };

	for (int j = 0; j < 3; j++) {
		size_t	 len = strlen(words[j]);

		if (k->n - k->i < len || memcmp(k->d + k->i, words[j], len))
			continue;
		k->i += len;
		if (!keep || j == 2)
			return SKIM_OK;	/* JSON null is NULL in json-c */
		if ((*out = json_object_new_boolean(j == 0)) == NULL)
			return SKIM_ENOMEM;
		return SKIM_OK;
	}
	return SKIM_DECLINE;
}

static enum skim_rc
string(struct skim *k, bool keep, json_object **out)
{
	size_t	 len;

	if (!skim_string(k->d, k->n, &k->i, keep ? k->w + k->wpos : NULL,
	    &len))
		return SKIM_DECLINE;
	if (keep && (*out = json_object_new_string_len(k->w + k->wpos,
	    (int)len)) == NULL)
		return SKIM_ENOMEM;
	return SKIM_OK;
}

static const struct skim_key *
find_key(const struct skim_spec *sp, const char *key, size_t len)
{
	for (size_t j = 0; j < sp->nkeys; j++)
		if (sp->keys[j].name[0] == key[0] &&
		    strncmp(sp->keys[j].name, key, len) == 0 &&
		    sp->keys[j].name[len] == '\0')
			return &sp->keys[j];
	return NULL;
}

/* After a member or element: 1 for ',', 0 for the closing byte. */
static int
next(struct skim *k, char close)
{
	k->i = skim_ws(k->d, k->n, k->i);
	if (k->i >= k->n)
		return -1;
	if (k->d[k->i] == ',') {
		k->i = skim_ws(k->d, k->n, k->i + 1);
		return 1;
	}
	if (k->d[k->i] == close) {
		k->i++;
		return 0;
	}
	return -1;
}

static enum skim_rc
object(struct skim *k, const struct skim_spec *sp, bool keep, int depth,
    json_object **out)
{
	const struct skim_key	*key;
	json_object		*o = NULL, *v;
	enum skim_rc		 rc = SKIM_DECLINE;
	size_t			 kpos = k->wpos, klen;
	bool			 kept;
	int			 more;

	if (keep && (o = json_object_new_object()) == NULL)
		return SKIM_ENOMEM;
	k->i = skim_ws(k->d, k->n, k->i + 1);
	if (k->i < k->n && k->d[k->i] == '}') {
		k->i++;
		goto done;
	}
	do {
		/* keys of a dropped object are only checked, not decoded */
		if (k->i >= k->n || k->d[k->i] != '"' ||
		    !skim_string(k->d, k->n, &k->i, keep ? k->w + kpos : NULL,
		    &klen))
			goto fail;
		key = NULL;
		kept = keep;
		if (keep) {
			/* a whole object keeps the decoded key below its value */
			k->w[kpos + klen] = '\0';
			k->wpos = kpos + klen + 1;
			if (sp != NULL &&
			    (key = find_key(sp, k->w + kpos, klen)) == NULL)
				kept = false;
		}
		k->i = skim_ws(k->d, k->n, k->i);
		if (k->i >= k->n || k->d[k->i] != ':')
			goto fail;
		k->i = skim_ws(k->d, k->n, k->i + 1);
		v = NULL;
		rc = value(k, key != NULL ? key->spec : NULL, kept,
		    depth + 1, &v);
		k->wpos = kpos;
		if (rc != SKIM_OK)
			goto fail;
		rc = SKIM_DECLINE;
		if (kept && (key != NULL ?
		    json_object_object_add_ex(o, key->name, v,
		    JSON_C_OBJECT_ADD_CONSTANT_KEY) :
		    json_object_object_add(o, k->w + kpos, v)) != 0) {
			json_object_put(v);
			rc = SKIM_ENOMEM;
			goto fail;
		}
	} while ((more = next(k, '}')) == 1);
	if (more < 0)
		goto fail;
done:
	*out = o;
	return SKIM_OK;
fail:
	k->wpos = kpos;
	json_object_put(o);
	return rc;
}

static enum skim_rc
array(struct skim *k, const struct skim_spec *sp, bool keep, int depth,
    json_object **out)
{
	json_object	*a = NULL, *v;
	enum skim_rc	 rc = SKIM_DECLINE;
	int		 more;

	if (keep && (a = json_object_new_array()) == NULL)
		return SKIM_ENOMEM;
	k->i = skim_ws(k->d, k->n, k->i + 1);
	if (k->i < k->n && k->d[k->i] == ']') {
		k->i++;
		goto done;
	}
	do {
		v = NULL;
		if ((rc = value(k, sp != NULL ? sp->elem : NULL, keep,
		    depth + 1, &v)) != SKIM_OK)
			goto fail;
		rc = SKIM_DECLINE;
		if (keep && json_object_array_add(a, v) != 0) {
			json_object_put(v);
			rc = SKIM_ENOMEM;
			goto fail;
		}
	} while ((more = next(k, ']')) == 1);
	if (more < 0)
		goto fail;
done:
	*out = a;
	return SKIM_OK;
fail:
	json_object_put(a);
	return rc;
}

static enum skim_rc
value(struct skim *k, const struct skim_spec *sp, bool keep, int depth,
    json_object **out)
{
	*out = NULL;
	if (k->i >= k->n)
		return SKIM_DECLINE;
	switch (k->d[k->i]) {
	case '{':
		if (depth >= SKIM_MAX_DEPTH)
			return SKIM_DECLINE;
		return object(k, sp, keep, depth, out);
	case '[':
		if (depth >= SKIM_MAX_DEPTH)
			return SKIM_DECLINE;
		return array(k, sp, keep, depth, out);
	case '"':
		return string(k, keep, out);
	case 't':
	case 'f':
	case 'n':
		return literal(k, keep, out);
	default:
		return number(k, keep, out);
	}
}

enum skim_rc
skim_parse(const char *d, size_t n, const struct skim_spec *spec,
    char **scratch, size_t *cap, json_object **out)
{
	struct skim	 k;
	enum skim_rc	 rc;

	*out = NULL;
	if (d == NULL || n == 0 || n > INT32_MAX - 1)
		return SKIM_DECLINE;
	if (*cap < n + 1) {
		char	*nb = realloc(*scratch, n + 1);

		if (nb == NULL)
			return SKIM_ENOMEM;
		*scratch = nb;
		*cap = n + 1;
	}
	memset(&k, 0, sizeof(k));
	k.d = d;
	k.n = n;
	k.w = *scratch;
	k.i = skim_ws(d, n, 0);
	if (k.i >= n || (d[k.i] != '{' && d[k.i] != '['))
		return SKIM_DECLINE;
	if ((rc = value(&k, spec, true, 0, out)) == SKIM_OK &&
	    skim_ws(d, n, k.i) != n)
		rc = SKIM_DECLINE;
	if (rc != SKIM_OK) {
		json_object_put(*out);
		*out = NULL;
	}
	return rc;
}

static void
prune(json_object *o, const struct skim_spec *sp, int depth)
{
	const struct skim_key	*kk;
	size_t			 i, n;

	if (sp == NULL || depth > SKIM_MAX_DEPTH)
		return;
	if (json_object_is_type(o, json_type_array)) {
		n = json_object_array_length(o);
		for (i = 0; i < n; i++)
			prune(json_object_array_get_idx(o, i), sp->elem,
			    depth + 1);
	} else if (json_object_is_type(o, json_type_object)) {
		/* json-c's foreach reads the next member first: the current
		 * one may go */
		json_object_object_foreach(o, key, v) {
			if ((kk = find_key(sp, key, strlen(key))) == NULL)
				json_object_object_del(o, key);
			else
				prune(v, kk->spec, depth + 1);
		}
	}
}

void
skim_prune(json_object *o, const struct skim_spec *spec)
{
	prune(o, spec, 0);
}
