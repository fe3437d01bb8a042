/*
 * turnstile_json.c - the turnstile VM's text conversions: JS number
 * formatting, String() (to_str), JSON.stringify and JSON.parse.
 */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <openssl/rand.h>

#include "fcgi/b64.h"
#include "turnstile_vm.h"

static const struct {
	const char	*name, *text;
} special_names[] = {
	{ "window", "[object Window]" },
	{ "window.document", "[object HTMLDocument]" },
	{ "window.navigator", "[object Navigator]" },
	{ "window.Math", "[object Math]" },
	{ "window.Reflect", "[object Reflect]" },
	{ "window.performance", "[object Performance]" },
	{ "window.localStorage", "[object Storage]" },
	{ "window.Object", "function Object() { [native code] }" },
	{ "window.Object.create", "function create() { [native code] }" },
	{ "window.Object.keys", "function keys() { [native code] }" },
	{ "window.Reflect.set", "function set() { [native code] }" },
	{ "window.performance.now", "function now() { [native code] }" },
	{ "window.Math.random", "function random() { [native code] }" },
};

/* ------------------------------------------------------------------ */
/* numbers, base64 */

/* ECMAScript Number::toString(10); the digits are those of the shortest
 * "%.*e" that reads back as x.  out needs 32 bytes. */
static size_t
js_number(double x, char *out)
{
	char	 tmp[48], digits[24], *o = out;
	int	 prec, k = 0, n, i, e;
	double	 a;
	const char *s;

	if (isnan(x))
		return (size_t)sprintf(out, "NaN");
	if (isinf(x))
		return (size_t)sprintf(out, x > 0 ? "Infinity" : "-Infinity");
	if (x == 0)
		return (size_t)sprintf(out, "0");
	if (x < 0)
		*o++ = '-';
	a = fabs(x);
	for (prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, a);
		if (strtod(tmp, NULL) == a)
			break;
	}
	for (s = tmp; *s != '\0' && *s != 'e'; s++)
		if (*s >= '0' && *s <= '9' && k < (int)sizeof(digits) - 1)
			digits[k++] = *s;
	e = *s == 'e' ? atoi(s + 1) : 0;
	while (k > 1 && digits[k - 1] == '0')
		k--;
	n = e + 1;
	if (k <= n && n <= 21) {
		memcpy(o, digits, (size_t)k);
		o += k;
		for (i = k; i < n; i++)
			*o++ = '0';
	} else if (0 < n && n <= 21) {
		memcpy(o, digits, (size_t)n);
		o += n;
		*o++ = '.';
		memcpy(o, digits + n, (size_t)(k - n));
		o += k - n;
	} else if (-6 < n && n <= 0) {
		*o++ = '0';
		*o++ = '.';
		for (i = 0; i < -n; i++)
			*o++ = '0';
		memcpy(o, digits, (size_t)k);
		o += k;
	} else {
		*o++ = digits[0];
		if (k > 1) {
			*o++ = '.';
			memcpy(o, digits + 1, (size_t)(k - 1));
			o += k - 1;
		}
		o += sprintf(o, "e%c%d", n - 1 >= 0 ? '+' : '-', abs(n - 1));
	}
	*o = '\0';
	return (size_t)(o - out);
}

/* ------------------------------------------------------------------ */
/* to_str and JSON.stringify */

static bool
special_name(const unsigned char *s, size_t n, struct val *out)
{
	size_t	 i;

	if (n < 6 || memcmp(s, "window", 6) != 0)
		return false;
	for (i = 0; i < sizeof(special_names) / sizeof(special_names[0]); i++)
		if (strlen(special_names[i].name) == n &&
		    memcmp(special_names[i].name, s, n) == 0) {
			*out = ts_v_str(special_names[i].text,
			    strlen(special_names[i].text));
			return true;
		}
	return false;
}

bool
ts_str_eq(struct val v, const char *s)
{
	return v.t == T_STR && v.len == strlen(s) && memcmp(v.u.s, s, v.len) == 0;
}

static int
str_into(struct vm *vm, struct val v, struct sb *b, unsigned depth)
{
	char	 num[32];
	size_t	 i;
	int	 rc;

	switch (v.t) {
	case T_STR: {
		struct val	 sp;

		if (special_name(v.u.s, v.len, &sp))
			v = sp;
		return ts_sb_put(vm, b, v.u.s, v.len);
	}
	case T_UNDEF:
		return ts_sb_puts(vm, b, "undefined");
	case T_NULL:
		return ts_sb_puts(vm, b, "null");
	case T_BOOL:
		return ts_sb_puts(vm, b, v.u.b ? "true" : "false");
	case T_NUM:
		return ts_sb_put(vm, b, num, js_number(v.u.n, num));
	case T_MAP:
		return ts_sb_puts(vm, b, "[object Object]");
	case T_FUNC:
		return ts_sb_puts(vm, b, FUNC_TEXT);
	case T_LIST:
		if (depth + 1 > TURNSTILE_MAX_DEPTH)
			return ts_limit(vm, "to_str nested deeper than %u",
			    TURNSTILE_MAX_DEPTH);
		for (i = 0; i < v.u.l->n; i++) {
			struct val	 e = v.u.l->v[i];

			if (i > 0 && (rc = ts_sb_putc(vm, b, ',')) != R_OK)
				return rc;
			if (e.t == T_UNDEF || e.t == T_NULL)
				continue;
			if ((rc = str_into(vm, e, b, depth + 1)) != R_OK)
				return rc;
		}
		return R_OK;
	}
	return R_SKIP;
}

/* §3.7 step 4.  Strings come back as they are (or their special text) and
 * cost nothing; anything else builds a new string and is charged. */
int
ts_to_str(struct vm *vm, struct val v, struct val *out)
{
	struct sb	 b = { 0 };
	int		 rc;

	if (v.t == T_STR) {
		if (!special_name(v.u.s, v.len, out))
			*out = v;
		return R_OK;
	}
	if ((rc = str_into(vm, v, &b, 0)) != R_OK ||
	    (rc = ts_charge(vm, b.len)) != R_OK ||
	    (rc = ts_sb_done(vm, &b, out)) != R_OK) {
		ts_sb_drop(&b);
		return rc;
	}
	return R_OK;
}

static int
quote_into(struct vm *vm, const unsigned char *s, size_t n, struct sb *b)
{
	size_t	 i, run = 0;
	char	 esc[8];
	int	 rc;

	if ((rc = ts_sb_putc(vm, b, '"')) != R_OK)
		return rc;
	for (i = 0; i < n; i++) {
		unsigned char	 c = s[i];
		const char	*e = NULL;

		switch (c) {
		case '"': e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case '\b': e = "\\b"; break;
		case '\f': e = "\\f"; break;
		case '\n': e = "\\n"; break;
		case '\r': e = "\\r"; break;
		case '\t': e = "\\t"; break;
		default:
			if (c < 0x20) {
				snprintf(esc, sizeof(esc), "\\u%04x", c);
				e = esc;
			}
		}
		if (e == NULL) {
			run++;
			continue;
		}
		if ((rc = ts_sb_put(vm, b, s + i - run, run)) != R_OK ||
		    (rc = ts_sb_puts(vm, b, e)) != R_OK)
			return rc;
		run = 0;
	}
	if ((rc = ts_sb_put(vm, b, s + n - run, run)) != R_OK)
		return rc;
	return ts_sb_putc(vm, b, '"');
}

static bool
json_absent(struct val v)
{
	return v.t == T_UNDEF || v.t == T_FUNC;
}

static int
json_into(struct vm *vm, struct val v, struct sb *b, unsigned depth)
{
	char	 num[32];
	size_t	 i;
	int	 rc;
	bool	 first = true;

	switch (v.t) {
	case T_NULL:
		return ts_sb_puts(vm, b, "null");
	case T_BOOL:
		return ts_sb_puts(vm, b, v.u.b ? "true" : "false");
	case T_NUM:
		if (!isfinite(v.u.n))
			return ts_sb_puts(vm, b, "null");
		return ts_sb_put(vm, b, num, js_number(v.u.n, num));
	case T_STR:
		return quote_into(vm, v.u.s, v.len, b);
	case T_LIST:
		if (depth + 1 > TURNSTILE_MAX_DEPTH)
			return ts_limit(vm, "stringify nested deeper than %u",
			    TURNSTILE_MAX_DEPTH);
		if ((rc = ts_sb_putc(vm, b, '[')) != R_OK)
			return rc;
		for (i = 0; i < v.u.l->n; i++) {
			struct val	 e = v.u.l->v[i];

			if (i > 0 && (rc = ts_sb_putc(vm, b, ',')) != R_OK)
				return rc;
			rc = json_absent(e) ? ts_sb_puts(vm, b, "null") :
			    json_into(vm, e, b, depth + 1);
			if (rc != R_OK)
				return rc;
		}
		return ts_sb_putc(vm, b, ']');
	case T_MAP:
		if (depth + 1 > TURNSTILE_MAX_DEPTH)
			return ts_limit(vm, "stringify nested deeper than %u",
			    TURNSTILE_MAX_DEPTH);
		/* entries visited, printed or not */
		if ((rc = ts_charge(vm, v.u.m->n)) != R_OK ||
		    (rc = ts_sb_putc(vm, b, '{')) != R_OK)
			return rc;
		for (i = 0; i < v.u.m->n; i++) {
			struct mentry	*e = &v.u.m->e[i];

			if (json_absent(e->v))
				continue;
			if ((!first && (rc = ts_sb_putc(vm, b, ',')) != R_OK) ||
			    (rc = quote_into(vm, e->k, e->klen, b)) != R_OK ||
			    (rc = ts_sb_putc(vm, b, ':')) != R_OK ||
			    (rc = json_into(vm, e->v, b, depth + 1)) != R_OK)
				return rc;
			first = false;
		}
		return ts_sb_putc(vm, b, '}');
	default:
		return R_SKIP;	/* absent values are handled by callers */
	}
}

int
ts_stringify(struct vm *vm, struct val v, struct val *out)
{
	struct sb	 b = { 0 };
	int		 rc;

	if (json_absent(v)) {
		out->t = T_UNDEF;
		return R_OK;
	}
	if ((rc = json_into(vm, v, &b, 0)) != R_OK ||
	    (rc = ts_charge(vm, b.len)) != R_OK ||
	    (rc = ts_sb_done(vm, &b, out)) != R_OK) {
		ts_sb_drop(&b);
		return rc;
	}
	return R_OK;
}

/* ------------------------------------------------------------------ */
/* JSON.parse: one strict pass (grammar and limits, identical to the
 * Python twin's parser), then json-c builds the tree. */

struct jcheck {
	const unsigned char	*s;
	size_t			 i, n;
	unsigned long		 elems;
};

static void
jc_ws(struct jcheck *j)
{
	while (j->i < j->n && (j->s[j->i] == ' ' || j->s[j->i] == '\t' ||
	    j->s[j->i] == '\n' || j->s[j->i] == '\r'))
		j->i++;
}

static bool
jc_hex4(const struct jcheck *j, size_t at)
{
	size_t	 k;

	if (at + 4 > j->n)
		return false;
	for (k = at; k < at + 4; k++) {
		unsigned char	 c = j->s[k];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		    (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

static int
jc_string(struct jcheck *j, bool key)
{
	size_t	 i = j->i + 1;

	for (;;) {
		unsigned char	 c;

		if (i >= j->n)
			return R_SKIP;
		c = j->s[i];
		if (c == '"')
			break;
		if (c < 0x20)
			return R_SKIP;
		if (c != '\\') {
			i++;
			continue;
		}
		if (i + 1 >= j->n)
			return R_SKIP;
		c = j->s[i + 1];
		if (strchr("\"\\/bfnrt", c) != NULL && c != '\0') {
			i += 2;
			continue;
		}
		if (c != 'u' || !jc_hex4(j, i + 2))
			return R_SKIP;
		if (key && memcmp(j->s + i + 2, "0000", 4) == 0)
			return R_SKIP;
		i += 6;
	}
	j->i = i + 1;
	return R_OK;
}

static int
jc_number(struct jcheck *j)
{
	const unsigned char	*s = j->s;
	size_t			 i = j->i, n = j->n, d, ndig;
	bool			 integer = true;

	if (s[i] == '-')
		i++;
	if (i < n && s[i] == '0') {
		i++;
		ndig = 1;
	} else if (i < n && s[i] >= '1' && s[i] <= '9') {
		for (d = i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			;
		ndig = i - d;
	} else
		return R_SKIP;
	if (i < n && s[i] == '.') {
		integer = false;
		for (d = ++i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == d)
			return R_SKIP;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		integer = false;
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		for (d = i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == d)
			return R_SKIP;
	}
	if (integer && ndig > 18)
		return R_SKIP;
	j->i = i;
	return R_OK;
}

static int
jc_value(struct vm *vm, struct jcheck *j, unsigned depth)
{
	unsigned long	 count;
	unsigned char	 c;
	int		 rc;

	jc_ws(j);
	if (j->i >= j->n)
		return R_SKIP;
	c = j->s[j->i];
	if (c == '{') {
		if (depth + 1 > TURNSTILE_MAX_DEPTH)
			return ts_limit(vm, "JSON nested deeper than %u",
			    TURNSTILE_MAX_DEPTH);
		j->i++;
		jc_ws(j);
		if (j->i < j->n && j->s[j->i] == '}') {
			j->i++;
			return R_OK;
		}
		for (count = 1;; count++) {
			if (count > TURNSTILE_MAX_MAP)
				return ts_limit(vm, "JSON object with more than "
				    "%lu members", TURNSTILE_MAX_MAP);
			jc_ws(j);
			if (j->i >= j->n || j->s[j->i] != '"')
				return R_SKIP;
			if ((rc = jc_string(j, true)) != R_OK)
				return rc;
			jc_ws(j);
			if (j->i >= j->n || j->s[j->i] != ':')
				return R_SKIP;
			j->i++;
			if ((rc = jc_value(vm, j, depth + 1)) != R_OK)
				return rc;
			j->elems++;
			jc_ws(j);
			if (j->i < j->n && j->s[j->i] == ',') {
				j->i++;
				continue;
			}
			if (j->i < j->n && j->s[j->i] == '}') {
				j->i++;
				return R_OK;
			}
			return R_SKIP;
		}
	}
	if (c == '[') {
		if (depth + 1 > TURNSTILE_MAX_DEPTH)
			return ts_limit(vm, "JSON nested deeper than %u",
			    TURNSTILE_MAX_DEPTH);
		j->i++;
		jc_ws(j);
		if (j->i < j->n && j->s[j->i] == ']') {
			j->i++;
			return R_OK;
		}
		for (count = 1;;) {
			if ((rc = jc_value(vm, j, depth + 1)) != R_OK)
				return rc;
			j->elems++;
			jc_ws(j);
			if (j->i < j->n && j->s[j->i] == ',') {
				j->i++;
				if (++count > TURNSTILE_MAX_LIST)
					return ts_limit(vm, "JSON array with more "
					    "than %lu elements",
					    TURNSTILE_MAX_LIST);
				continue;
			}
			if (j->i < j->n && j->s[j->i] == ']') {
				j->i++;
				return R_OK;
			}
			return R_SKIP;
		}
	}
	if (c == '"')
		return jc_string(j, false);
	if (c == '-' || (c >= '0' && c <= '9'))
		return jc_number(j);
	if (j->n - j->i >= 4 && memcmp(j->s + j->i, "true", 4) == 0) {
		j->i += 4;
		return R_OK;
	}
	if (j->n - j->i >= 5 && memcmp(j->s + j->i, "false", 5) == 0) {
		j->i += 5;
		return R_OK;
	}
	if (j->n - j->i >= 4 && memcmp(j->s + j->i, "null", 4) == 0) {
		j->i += 4;
		return R_OK;
	}
	return R_SKIP;
}

static int
from_json(struct vm *vm, struct json_object *o, struct val *out)
{
	struct val	 v = { .t = T_NULL };
	int		 rc;

	switch (json_object_get_type(o)) {
	case json_type_null:
		break;
	case json_type_boolean:
		v = ts_v_bool(json_object_get_boolean(o) ? 1 : 0);
		break;
	case json_type_int:
		v = ts_v_num((double)json_object_get_int64(o));
		break;
	case json_type_double:
		v = ts_v_num(json_object_get_double(o));
		break;
	case json_type_string:
		rc = ts_str_new(vm, json_object_get_string(o),
		    (size_t)json_object_get_string_len(o), &v);
		if (rc != R_OK)
			return rc;
		break;
	case json_type_array: {
		size_t		 i, n = json_object_array_length(o);
		struct tlist	*l = ts_list_new(vm);

		if (l == NULL)
			return R_NOMEM;
		if (n > 0 && (l->v = malloc(n * sizeof(*l->v))) == NULL)
			return R_NOMEM;
		l->cap = n;
		for (i = 0; i < n; i++) {
			rc = from_json(vm, json_object_array_get_idx(o, i),
			    &l->v[i]);
			if (rc != R_OK)
				return rc;
			l->n++;
		}
		v.t = T_LIST;
		v.u.l = l;
		break;
	}
	case json_type_object: {
		struct tmap	*m = ts_map_new(vm);

		if (m == NULL)
			return R_NOMEM;
		json_object_object_foreach(o, key, child) {
			struct val	 k, cv;

			if ((rc = ts_str_new(vm, key, strlen(key), &k)) != R_OK ||
			    (rc = from_json(vm, child, &cv)) != R_OK ||
			    (rc = ts_map_set(vm, m, k.u.s, k.len, cv)) != R_OK)
				return rc;
		}
		v.t = T_MAP;
		v.u.m = m;
		break;
	}
	}
	*out = v;
	return R_OK;
}

/* Parse the n bytes at s (followed by a NUL).  R_SKIP: not JSON. */
int
ts_parse_json(struct vm *vm, const unsigned char *s, size_t n, struct val *out)
{
	struct jcheck		 j = { .s = s, .n = n };
	struct json_tokener	*tok;
	struct json_object	*o;
	enum json_tokener_error	 jerr;
	int			 rc;

	if (n > TURNSTILE_MAX_STR)
		return ts_limit(vm, "JSON text longer than %lu bytes",
		    TURNSTILE_MAX_STR);
	if ((rc = ts_charge(vm, n)) != R_OK)
		return rc;
	if ((rc = jc_value(vm, &j, 0)) != R_OK)
		return rc;
	jc_ws(&j);
	if (j.i != n)
		return R_SKIP;
	if ((tok = json_tokener_new_ex((int)TURNSTILE_MAX_DEPTH + 2)) == NULL)
		return R_NOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, (const char *)s, (int)n + 1);
	jerr = json_tokener_get_error(tok);
	json_tokener_free(tok);
	if (jerr != json_tokener_success) {
		/* the checker accepted the text: only memory can fail */
		json_object_put(o);
		return R_NOMEM;
	}
	rc = from_json(vm, o, out);
	json_object_put(o);
	if (rc == R_OK)
		rc = ts_charge(vm, TURNSTILE_ELEM_COST * j.elems);
	return rc;
}
