#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "fcgi/conf.h"
#include "fcgi/conf_vars.h"
#include "fcgi/log.h"

int
config_parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "true", "1", "t", "y", "yes", "on" };
	static const char *const no[] = { "false", "0", "f", "n", "no", "off" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	return -1;
}

static int
has_scheme(const char *s, const char *const *schemes)
{
	for (; *schemes != NULL; schemes++) {
		size_t n = strlen(*schemes);
		if (strncasecmp(s, *schemes, n) == 0 && s[n] != '\0')
			return 1;
	}
	return 0;
}

static const char *const url_schemes[] = { "http://", "https://", NULL };
static const char *const proxy_schemes[] = { "http://", "https://",
	"socks4://", "socks4a://", "socks5://", "socks5h://", NULL };

/* Splits on ',' after removing all spaces, as the reference does. */
static int
split_list(const char *s, struct strlist *out)
{
	char *copy, *o, *tok, *save = NULL;
	const char *p;
	size_t n = 1;

	if ((copy = malloc(strlen(s) + 1)) == NULL)
		return -1;
	for (p = s, o = copy; *p; p++)
		if (!isspace((unsigned char)*p))
			*o++ = *p;
	*o = '\0';
	for (p = copy; *p; p++)
		n += *p == ',';
	if ((out->v = calloc(n + 1, sizeof(char *))) == NULL) {
		free(copy);
		return -1;
	}
	out->n = 0;
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save))
		if ((out->v[out->n++] = strdup(tok)) == NULL) {
			free(copy);
			return -1;
		}
	free(copy);
	return 0;
}

/* ["a", 'b'] or a,b: quotes and brackets are dropped. */
static int
split_pylist(const char *s, struct strlist *out)
{
	char *copy, *o;
	const char *p;
	int rc;

	if ((copy = malloc(strlen(s) + 1)) == NULL)
		return -1;
	for (p = s, o = copy; *p; p++)
		if (*p != '[' && *p != ']' && *p != '"' && *p != '\'' &&
		    *p != '(' && *p != ')')
			*o++ = *p;
	*o = '\0';
	rc = split_list(copy, out);
	free(copy);
	return rc;
}

static int
parse_size(const char *s, long *out)
{
	char *end;
	long v, mul = 1;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || v < 0)
		return -1;
	switch (tolower((unsigned char)*end)) {
	case '\0': break;
	case 'k': mul = 1L << 10; end++; break;
	case 'm': mul = 1L << 20; end++; break;
	case 'g': mul = 1L << 30; end++; break;
	default: return -1;
	}
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end != '\0' || (v && mul > LONG_MAX / v))
		return -1;
	*out = v * mul;
	return 0;
}

/* "secret", "/secret/", "/a/b" -> "/secret", "/a/b"; rejects odd bytes. */
static char *
norm_prefix(const char *s)
{
	char *out, *o;
	const char *p;

	if ((out = malloc(strlen(s) + 2)) == NULL)
		return NULL;
	o = out;
	for (p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '/') {
			if (o > out && o[-1] == '/')
				continue;
			*o++ = '/';
			continue;
		}
		if (!isalnum(c) && c != '-' && c != '_' && c != '.' &&
		    c != '~') {
			free(out);
			return NULL;
		}
		if (o == out)
			*o++ = '/';
		*o++ = (char)c;
	}
	while (o > out && o[-1] == '/')
		o--;
	*o = '\0';
	if (strstr(out, "/./") || strstr(out, "/../") ||
	    (strlen(out) >= 2 && strcmp(out + strlen(out) - 2, "/.") == 0) ||
	    (strlen(out) >= 3 && strcmp(out + strlen(out) - 3, "/..") == 0)) {
		free(out);
		return NULL;
	}
	return out;
}

static int
strategy_ok(const char *s)
{
	static const char *const names[] = { "round-robin", "fill-first",
	    "failover", "weighted", "random" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(s, names[i]) == 0)
			return 1;
	return 0;
}

/* An IANA name that exists here, or a POSIX value (letters, offset). */
static int
tz_ok(const char *s)
{
	char path[512];
	const char *p;

	if (strlen(s) > 128 || strstr(s, "..") || *s == '/')
		return 0;
	if (*s == ':')
		s++;
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", s);
	if (strchr(s, '/') != NULL || strcmp(s, "UTC") == 0 ||
	    strcmp(s, "GMT") == 0)
		return access(path, R_OK) == 0 || strcmp(s, "UTC") == 0 ||
		    strcmp(s, "GMT") == 0;
	for (p = s; isalpha((unsigned char)*p); p++)
		;
	if (p - s < 3)
		return 0;
	for (; *p; p++)
		if (!isalnum((unsigned char)*p) && strchr("+-:,./<>", *p) ==
		    NULL)
			return 0;
	return 1;
}

/* The words a CFG_WORD variable takes, separated by '|'. */
static const char *
words_of(const char *name)
{
	if (strcmp(name, "TOOL_FORMAT") == 0)
		return "bracket|xml";
	if (strcmp(name, "TOOL_PROMPT") == 0)
		return "auto|always|never";
	if (strcmp(name, "CONTEXT_STRATEGY") == 0)
		return "none|sliding|tokens";
	return "";
}

static int
word_ok(const char *words, const char *val)
{
	size_t n = strlen(val);
	const char *w;

	if (strchr(val, '|') != NULL)
		return 0;
	for (w = words; n > 0 && *w; w += strcspn(w, "|") + (w[strcspn(w,
	    "|")] == '|'))
		if (strncmp(w, val, n) == 0 && (w[n] == '|' || w[n] == '\0'))
			return 1;
	return 0;
}

static int
parse_one(struct config *c, const struct cfg_var *v, const char *val,
    char *err, size_t errsz)
{
	void *field = (char *)c + v->off;
	const char *what = NULL;
	struct strlist *l;
	size_t i;
	long n;
	char *end;
	enum log_level lvl;

	switch (v->type) {
	case CFG_BOOL:
		if (config_parse_bool(val, (int *)field) < 0)
			what = "true/false (also 1/0, yes/no, t/f, y/n)";
		break;
	case CFG_URL:
		if (*val && !has_scheme(val, url_schemes)) {
			what = "an http:// or https:// URL";
			break;
		}
		goto str;
	case CFG_PROXY:
		if (*val && !has_scheme(val, proxy_schemes)) {
			what = "a proxy URL (http, https, socks4, socks4a, "
			    "socks5, socks5h)";
			break;
		}
		goto str;
	case CFG_STR:
	case CFG_LOGSPEC:
	str:
		if (v->type == CFG_LOGSPEC && strcmp(val, "stderr") != 0 &&
		    strcmp(val, "syslog") != 0 &&
		    (strncmp(val, "file:", 5) != 0 || val[5] == '\0')) {
			what = "stderr, syslog or file:PATH";
			break;
		}
		if ((*(char **)field = strdup(val)) == NULL)
			what = "(out of memory)";
		break;
	case CFG_LOGLEVEL:
		if (log_level_parse(val, &lvl) < 0) {
			what = "error, warn, info or debug";
			break;
		}
		goto str;
	case CFG_LIST:
	case CFG_URLS:
	case CFG_PROXIES:
	case CFG_PYLIST:
		l = field;
		if ((v->type == CFG_PYLIST ? split_pylist(val, l) :
		    split_list(val, l)) < 0) {
			what = "(out of memory)";
			break;
		}
		for (i = 0; i < l->n; i++) {
			if (v->type == CFG_URLS &&
			    !has_scheme(l->v[i], url_schemes))
				what = "a comma list of http(s):// URLs";
			if (v->type == CFG_PROXIES &&
			    !has_scheme(l->v[i], proxy_schemes))
				what = "a comma list of proxy URLs (http, "
				    "https, socks4, socks4a, socks5, socks5h)";
		}
		break;
	case CFG_LONG:
		errno = 0;
		n = strtol(val, &end, 10);
		if (errno || end == val || *end != '\0' || n < v->min ||
		    n > v->max) {
			snprintf(err, errsz, "%s=%s: accepts an integer from "
			    "%ld to %ld", v->name, val, v->min, v->max);
			return -1;
		}
		*(long *)field = n;
		break;
	case CFG_SIZE:
		if (parse_size(val, &n) < 0 || n < v->min || n > v->max) {
			snprintf(err, errsz, "%s=%s: accepts a byte count "
			    "from %ld (k, m, g suffixes allowed)", v->name,
			    val, v->min);
			return -1;
		}
		*(long *)field = n;
		break;
	case CFG_HEX:
		n = (long)strlen(val);
		for (i = 0; val[i]; i++)
			if (!isxdigit((unsigned char)val[i]))
				n = -1;
		if (n < v->min || n > v->max) {
			snprintf(err, errsz, "%s=%s: accepts 1 to %ld hex "
			    "digits", v->name, val, v->max);
			return -1;
		}
		goto str;
	case CFG_PREFIX:
		if ((*(char **)field = norm_prefix(val)) == NULL)
			what = "a URL path like /secret (letters, digits, "
			    "- _ . ~ and /)";
		break;
	case CFG_STRATEGY:
		if (*val && !strategy_ok(val)) {
			what = "round-robin, fill-first, failover, weighted or "
			    "random";
			break;
		}
		goto str;
	case CFG_TZ:
		if (*val && !tz_ok(val)) {
			what = "a time zone name of /usr/share/zoneinfo (e.g. "
			    "Europe/Berlin) or a POSIX TZ value (e.g. UTC, "
			    "CST-8)";
			break;
		}
		/* Daily limits count in this zone: all of the process. */
		if (*val) {
			setenv("TZ", val, 1);
			tzset();
		}
		goto str;
	case CFG_WORD:
		if (!word_ok(words_of(v->name), val)) {
			snprintf(err, errsz, "%s=%s: accepts one of %s", v->name,
			    val, words_of(v->name));
			return -1;
		}
		goto str;
	case CFG_MAPPING:
		if (config_parse_mapping(val, field, err, errsz) < 0)
			return -1;
		break;
	}
	if (what != NULL) {
		snprintf(err, errsz, "%s=%s: accepts %s", v->name, val, what);
		return -1;
	}
	return 0;
}

int
config_load(struct config *c, char *err, size_t errsz)
{
	const struct cfg_var *v;
	const char *val;

	memset(c, 0, sizeof(*c));
	for (v = cfg_vars; v < cfg_vars + cfg_nvars; v++) {
		val = getenv(v->name);
		if (val == NULL && v->alias != NULL)
			val = getenv(v->alias);
		if (val == NULL || (*val == '\0' && v->type != CFG_STR))
			val = v->def;
		if (parse_one(c, v, val, err, errsz) < 0) {
			config_free(c);
			return -1;
		}
	}
	return 0;
}

static void
free_list(struct strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void
config_free(struct config *c)
{
	const struct cfg_var *v;
	void *field;

	for (v = cfg_vars; v < cfg_vars + cfg_nvars; v++) {
		field = (char *)c + v->off;
		switch (v->type) {
		case CFG_LIST: case CFG_URLS: case CFG_PROXIES: case CFG_PYLIST:
			free_list(field);
			break;
		case CFG_MAPPING:
			config_free_mapping(field);
			break;
		case CFG_STR: case CFG_URL: case CFG_PROXY: case CFG_HEX:
		case CFG_PREFIX: case CFG_LOGSPEC: case CFG_LOGLEVEL:
		case CFG_STRATEGY: case CFG_TZ: case CFG_WORD:
			free(*(char **)field);
			*(char **)field = NULL;
			break;
		default:
			break;
		}
	}
}

const char *
config_lb_strategy(const struct config *c, const char *provider)
{
	const char *s = NULL;

	if (strcmp(provider, "chatgpt") == 0)
		s = c->lb_strategy_chatgpt;
	else if (strcmp(provider, "deepseek") == 0)
		s = c->lb_strategy_deepseek;
	else if (strcmp(provider, "qwen") == 0)
		s = c->lb_strategy_qwen;
	else if (strcmp(provider, "qwenai") == 0)
		s = c->lb_strategy_qwenai;
	else if (strcmp(provider, "minimax") == 0)
		s = c->lb_strategy_minimax;
	else if (strcmp(provider, "zai") == 0)
		s = c->lb_strategy_zai;
	else if (strcmp(provider, "kimi") == 0)
		s = c->lb_strategy_kimi;
	else if (strcmp(provider, "glm") == 0)
		s = c->lb_strategy_glm;
	if (s == NULL || *s == '\0')
		s = c->lb_strategy;
	/* The reference's switch, for the pool it was made for. */
	if ((s == NULL || *s == '\0') && strcmp(provider, "chatgpt") == 0 &&
	    c->random_token)
		s = "random";
	return s != NULL && *s ? s : NULL;
}

const char *
config_var_name(size_t i)
{
	return i < cfg_nvars ? cfg_vars[i].name : NULL;
}

/*
 * Where variable i's value comes from, for the management API: the
 * environment (by name or alias), else the default.  secret: a value
 * that must never be shown (codes, keys, credentials in proxy URLs).
 */
int
config_describe(size_t i, struct config_desc *d)
{
	static const char *const secrets[] = { "AUTHORIZATION", "AUTH_KEY",
	    "X_SIGN", "CHAT2API_SECRET_KEY", "MANAGEMENT_SECRET",
	    "METRICS_CODE", "PROXY_URL", "SENTINEL_PROXY_URL",
	    "EXPORT_PROXY_URL", "QWENAI_BX_UA", "QWENAI_BX_UMIDTOKEN", NULL };
	const struct cfg_var *v;
	const char *const *p;
	const char *val;

	if (i >= cfg_nvars)
		return -1;
	v = &cfg_vars[i];
	memset(d, 0, sizeof(*d));
	d->name = v->name;
	d->help = v->help;
	d->source = "default";
	d->value = v->def;
	if ((val = getenv(v->name)) != NULL && (*val || v->type == CFG_STR)) {
		d->value = val;
		d->source = "environment";
	} else if (v->alias != NULL && (val = getenv(v->alias)) != NULL &&
	    (*val || v->type == CFG_STR)) {
		d->value = val;
		d->source = v->alias;
	}
	for (p = secrets; *p != NULL; p++)
		if (strcmp(*p, v->name) == 0)
			d->secret = 1;
	return 0;
}

void
config_usage(FILE *f)
{
	const struct cfg_var *v;

	fprintf(f, "Environment (parsed once at start):\n");
	for (v = cfg_vars; v < cfg_vars + cfg_nvars; v++)
		fprintf(f, "  %-22s %s%s%s%s\n", v->name, v->help,
		    *v->def ? " [default: " : "", v->def, *v->def ? "]" : "");
}
