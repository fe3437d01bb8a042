/*
 * test_turnstile.c - upstream/chatgpt/turnstile.c (protocols/chatgpt.md
 * §3.7).
 *
 * Hand-written programs for every opcode, the value-to-string and JSON
 * rules, error skipping, limits (each must stop fast), malformed input, and
 * a cross-check with the Python twin tests/mock/turnstile.py: committed
 * fixtures (tests/unit/data/turnstile/) plus fresh challenges and random
 * hostile programs generated through popen("python3 ...").  Both sides run
 * performance.now = 1234.5 and Math.random = 0.25 so that everything is
 * comparable: token, error class, steps, skipped instructions, work units.
 *
 * Programs below are written with ' for " (see prog()) unless raw.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "unit.h"
#include "upstream/chatgpt/turnstile.h"

#define TEST_P	"gAAAAACWzQwMDAsIk1vbiBKYW4gMDYgMjAyNSAxMDowMDowMCBHTVQtMDUw"
#define FIX_NOW		1234.5	/* turnstile.py FIXED_NOW */
#define FIX_RANDOM	0.25	/* turnstile.py FIXED_RANDOM */

static double
fixed_now(void *ctx)
{
	(void)ctx;
	return FIX_NOW;
}

static double
fixed_random(void *ctx)
{
	(void)ctx;
	return FIX_RANDOM;
}

static const struct turnstile_opts fixed = { fixed_now, fixed_random, NULL };

/* ------------------------------------------------------------------ */
/* helpers */

static char *
b64(const void *data, size_t n)
{
	char	*out = malloc(n / 3 * 4 + 8);

	ck_assert_ptr_nonnull(out);
	EVP_EncodeBlock((unsigned char *)out, data, (int)n);
	return out;
}

/* dx for program text (n bytes) under key p. */
static char *
encode(const char *text, size_t n, const char *p)
{
	unsigned char	*x = malloc(n + 1);
	size_t		 i, plen = strlen(p);
	char		*dx;

	ck_assert_ptr_nonnull(x);
	for (i = 0; i < n; i++)
		x[i] = (unsigned char)text[i] ^ (unsigned char)p[i % plen];
	dx = b64(x, n);
	free(x);
	return dx;
}

/* ' -> " */
static char *
prog(const char *s)
{
	char	*d = strdup(s), *c;

	ck_assert_ptr_nonnull(d);
	for (c = d; *c != '\0'; c++)
		if (*c == '\'')
			*c = '"';
	return d;
}

struct outcome {
	enum turnstile_err	 rc;
	char			*token;
	struct turnstile_stats	 st;
	char			 err[200];
	double			 secs;
};

static void
run_text(const char *text, size_t n, const char *p, struct outcome *o)
{
	char		*dx = encode(text, n, p);
	struct timespec	 a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	o->rc = turnstile_solve_ex(dx, strlen(dx), p, strlen(p), &fixed,
	    &o->token, &o->st, o->err, sizeof(o->err));
	clock_gettime(CLOCK_MONOTONIC, &b);
	o->secs = (double)(b.tv_sec - a.tv_sec) +
	    (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	free(dx);
}

static void
run_prog(const char *src, bool raw, struct outcome *o)
{
	char	*text = raw ? strdup(src) : prog(src);

	ck_assert_ptr_nonnull(text);
	run_text(text, strlen(text), TEST_P, o);
	free(text);
}

/* ------------------------------------------------------------------ */
/* table of small programs */

struct pcase {
	const char	*name;
	const char	*prog;		/* ' for " unless raw */
	const char	*want;		/* plain text of the token */
	size_t		 wantlen;	/* 0: strlen(want) */
	long		 skipped;	/* -1: don't care */
	bool		 raw;
};

#define LS_KEYS "oai-did,oai/apps/hasSeenOnboarding,oai/apps/locale," \
    "oai/apps/capExpiresAt,statsig.stable_id.1792610830," \
    "statsig.session_id.1792610830,statsig.last_modified_time.evaluations"

static const struct pcase cases[] = {
	/* 3: finish */
	{ "finish literal", "[[3,'abc']]", "abc", 0, 0, false },
	{ "finish without argument", "[[3]]", "undefined", 0, 0, false },
	{ "finish number", "[[3,42]]", "42", 0, 0, false },
	{ "finish list", "[[3,[1,'a',null,[2,3],true]]]", "1,a,,2,3,true", 0,
	    0, false },
	{ "finish map", "[[3,{'a':1}]]", "[object Object]", 0, 0, false },
	{ "finish bools", "[[3,[true,false]]]", "true,false", 0, 0, false },
	{ "finish stops the run", "[[3,'a'],[3,'b']]", "a", 0, 0, false },
	{ "finish through call", "[[2,30,'hi'],[7,3,30]]", "hi", 0, 0, false },
	{ "finish of a function", "[[7,3,3]]",
	    "function () { [native code] }", 0, 0, false },
	/* 10, 16 */
	{ "register 10 is window", "[[7,3,10]]", "[object Window]", 0, 0,
	    false },
	{ "register 16 is p", "[[7,3,16]]", TEST_P, 0, 0, false },
	/* 1: xor */
	{ "xor", "[[2,30,'abc'],[2,31,'  '],[1,30,31],[7,3,30]]", "ABC", 0, 0,
	    false },
	{ "xor key repeats", "[[2,30,'abcd'],[2,31,' !'],[1,30,31],[7,3,30]]",
	    "ACCE", 0, 0, false },
	{ "xor with p", "[[2,30,'gAAA'],[1,30,16],[7,3,30]]", "\0\0\0\0", 4,
	    0, false },
	{ "xor empty key is skipped",
	    "[[2,30,'abc'],[2,31,''],[1,30,31],[7,3,30]]", "abc", 0, 1, false },
	{ "xor of undefined", "[[1,30,31],[7,3,30]]",
	    "\0\0\0\0\0\0\0\0\0", 9, 0, false },
	/* 2 */
	{ "set keeps literal lists", "[[2,30,['x',['y']]],[7,3,30]]", "x,y", 0,
	    0, false },
	{ "negative zero key is zero", "[[2,-0.0,'z'],[7,3,0]]", "z", 0, 0,
	    false },
	{ "fractional keys", "[[2,0.5,'h'],[7,3,0.5]]", "h", 0, 0, false },
	/* 5: add */
	{ "add numbers", "[[2,30,1.5],[2,31,2],[5,30,31],[7,3,30]]", "3.5", 0,
	    0, false },
	{ "add strings", "[[2,30,'ab'],[2,31,'cd'],[5,30,31],[7,3,30]]",
	    "abcd", 0, 0, false },
	{ "add string and number",
	    "[[2,30,'n='],[2,31,7],[5,30,31],[7,3,30]]", "n=7", 0, 0, false },
	{ "add to undefined", "[[2,31,'x'],[5,30,31],[7,3,30]]", "undefinedx",
	    0, 0, false },
	{ "add appends to a list",
	    "[[2,30,[]],[2,31,'a'],[5,30,31],[5,30,31],[7,3,30]]", "a,a", 0, 0,
	    false },
	{ "add joins a list",
	    "[[2,30,'L:'],[2,31,['x',1,null]],[5,30,31],[7,3,30]]", "L:x,1,",
	    0, 0, false },
	{ "add maps special names",
	    "[[2,30,'m='],[2,31,'window.Math'],[5,30,31],[7,3,30]]",
	    "m=[object Math]", 0, 0, false },
	{ "add number and string",
	    "[[2,30,1],[2,31,'1'],[5,30,31],[7,3,30]]", "11", 0, 0, false },
	/* 6/24: properties */
	{ "document.location",
	    "[[2,31,'document'],[2,32,'location'],[6,30,10,31],[6,30,30,32],"
	    "[7,3,30]]", "https://chatgpt.com/", 0, 0, false },
	{ "24 joins like 6", "[[2,31,'foo'],[24,30,10,31],[7,3,30]]",
	    "window.foo", 0, 0, false },
	{ "path to a special name", "[[2,31,'Math'],[6,30,10,31],[7,3,30]]",
	    "[object Math]", 0, 0, false },
	{ "member of a map",
	    "[[2,40,'{\\'k\\':\\'v\\'}'],[14,30,40],[2,41,'k'],[6,32,30,41],"
	    "[7,3,32]]", "v", 0, 0, false },
	{ "missing member is undefined",
	    "[[2,40,'{}'],[14,30,40],[2,41,'k'],[6,32,30,41],[7,3,32]]",
	    "undefined", 0, 0, false },
	{ "list index", "[[2,30,['a','b']],[2,41,1],[6,32,30,41],[7,3,32]]",
	    "b", 0, 0, false },
	{ "list index out of range",
	    "[[2,30,['a','b']],[2,41,5],[6,32,30,41],[7,3,32]]", "undefined",
	    0, 0, false },
	{ "bad property access is skipped",
	    "[[2,32,'keep'],[2,30,5],[2,41,'x'],[6,32,30,41],[7,3,32]]", "keep",
	    0, 1, false },
	{ "fractional list index is skipped",
	    "[[2,32,'keep'],[2,30,['a']],[2,41,0.5],[6,32,30,41],[7,3,32]]",
	    "keep", 0, 1, false },
	/* 8, 9: copies and the program register */
	{ "copy", "[[2,30,'v'],[8,31,30],[7,3,31]]", "v", 0, 0, false },
	{ "copies share lists",
	    "[[2,30,[]],[8,31,30],[2,32,'z'],[5,31,32],[7,3,30]]", "z", 0, 0,
	    false },
	{ "opcodes are registers", "[[8,50,3],[50,'x']]", "x", 0, 0, false },
	{ "an overwritten opcode is skipped",
	    "[[8,50,3],[2,3,'gone'],[3,'x'],[50,'y']]", "y", 0, 1, false },
	{ "the program extends itself", "[[2,30,[3,'late']],[5,9,30]]", "late",
	    0, 0, false },
	{ "a copy of register 9 is the program",
	    "[[8,30,9],[2,31,[3,'via copy']],[5,30,31]]", "via copy", 0, 0,
	    false },
	{ "an instruction appends to itself (the second is another list)",
	    "[[2,40,2],[6,30,9,40],[5,30,31],[5,30,31],[8,32,30],[7,3,32]]",
	    "5,30,31,,", 0, 0, false },
	{ "a called opcode appends to the calling instruction",
	    "[[2,40,4],[6,30,9,40],[2,50,30],[2,51,31],"
	    "[20,41,41,5,50,51,50,51,50,51],[7,3,30]]",
	    "20,41,41,5,50,51,50,51,50,51,", 0, 0, false },
	/* 14, 15: JSON */
	{ "parse and stringify",
	    "[[2,40,'[1,{\\'a\\':[true,null]}]'],[14,30,40],[15,31,30],"
	    "[7,3,31]]", "[1,{\"a\":[true,null]}]", 0, 0, false },
	{ "bad JSON is skipped",
	    "[[2,30,'keep'],[2,40,'[1,'],[14,30,40],[7,3,30]]", "keep", 0, 1,
	    false },
	{ "parse a scalar", "[[2,40,' 12.50 '],[14,30,40],[7,3,30]]", "12.5", 0,
	    0, false },
	{ "parse NaN is skipped",
	    "[[2,30,'keep'],[2,40,'NaN'],[14,30,40],[7,3,30]]", "keep", 0, 1,
	    false },
	{ "stringify escapes",
	    "[[2,30,'a\\'b\\\\c\\nd\\u0001e\\u007f\\u00e9\\t\\b\\f\\r/'],"
	    "[15,31,30],[7,3,31]]",
	    "\"a\\\"b\\\\c\\nd\\u0001e\x7f\xc3\xa9\\t\\b\\f\\r/\"", 0, 0, false },
	{ "stringify undefined and functions in a list",
	    "[[2,30,[null]],[5,30,31],[5,30,3],[15,32,30],[7,3,32]]",
	    "[null,null,null]", 0, 0, false },
	{ "stringify leaves them out of a map",
	    "[[2,60,'window.Object.create'],[17,30,60],"
	    "[2,61,'window.Reflect.set'],[2,62,'a'],[2,63,1],[7,61,30,62,63],"
	    "[2,64,'u'],[7,61,30,64,65],[2,66,'f'],[7,61,30,66,3],"
	    "[15,31,30],[7,3,31]]", "{\"a\":1}", 0, 0, false },
	{ "stringify of undefined is undefined", "[[15,31,30],[7,3,31]]",
	    "undefined", 0, 0, false },
	{ "stringify numbers",
	    "[[2,30,[1e21,1e-7,0.1,-0.0,1e400,-1e400,5]],[15,31,30],[7,3,31]]",
	    "[1e+21,1e-7,0.1,0,null,null,5]", 0, 0, false },
	{ "duplicate keys: first place, last value",
	    "[[2,60,'window.Object.keys'],"
	    "[2,40,'{\\'a\\':1,\\'b\\':2,\\'a\\':3}'],[14,30,40],"
	    "[17,31,60,30],[15,32,30],[2,33,'|'],[2,34,''],[5,34,31],"
	    "[5,34,33],[5,34,32],[7,3,34]]", "a,b|{\"a\":3,\"b\":2}", 0, 0,
	    false },
	/* 17: browser functions */
	{ "performance.now",
	    "[[2,60,'window.performance.now'],[17,30,60],[7,3,30]]", "1234.5",
	    0, 0, false },
	{ "Math.random", "[[2,60,'window.Math.random'],[17,30,60],[7,3,30]]",
	    "0.25", 0, 0, false },
	{ "Object.keys(localStorage)",
	    "[[2,60,'window.Object.keys'],[2,61,'window.localStorage'],"
	    "[17,30,60,61],[7,3,30]]", LS_KEYS, 0, 0, false },
	{ "Object.keys through paths",
	    "[[2,50,'Object'],[2,51,'keys'],[2,52,'localStorage'],"
	    "[6,60,10,50],[6,60,60,51],[6,61,10,52],[17,30,60,61],[7,3,30]]",
	    LS_KEYS, 0, 0, false },
	{ "Object.keys of a map",
	    "[[2,60,'window.Object.keys'],[2,40,'{\\'x\\':1,\\'y\\':[]}'],"
	    "[14,41,40],[17,30,60,41],[7,3,30]]", "x,y", 0, 0, false },
	{ "Object.keys of a string is skipped",
	    "[[2,30,'keep'],[2,60,'window.Object.keys'],[2,61,'s'],"
	    "[17,30,60,61],[7,3,30]]", "keep", 0, 1, false },
	{ "Reflect.set on a non-map is skipped",
	    "[[2,61,'window.Reflect.set'],[2,30,[]],[7,61,30,31,32],[3,'ok']]",
	    "ok", 0, 1, false },
	{ "Reflect.set converts keys",
	    "[[2,60,'window.Object.create'],[17,30,60],"
	    "[2,61,'window.Reflect.set'],[2,62,1.5],[2,63,[1,2]],"
	    "[7,61,30,62,63],[7,61,30,63,62],[15,31,30],[7,3,31]]",
	    "{\"1.5\":[1,2],\"1,2\":1.5}", 0, 0, false },
	{ "Reflect.set returns true",
	    "[[2,60,'window.Object.create'],[17,30,60],"
	    "[2,61,'window.Reflect.set'],[17,31,61,30,30,30],[7,3,31]]",
	    "true", 0, 0, false },
	{ "calling a non-function is skipped",
	    "[[2,60,'window.alert'],[7,60],[7,61],[7,3.5],[3,'ok']]", "ok", 0,
	    3, false },
	{ "callset of an opcode", "[[17,30,3,31]]", "undefined", 0, 0, false },
	{ "call through call",
	    "[[2,30,'deep'],[2,31,3],[2,32,30],[7,7,31,32]]", "deep", 0, 0,
	    false },
	{ "callset stores undefined from an opcode",
	    "[[2,30,'x'],[17,30,21],[7,3,30]]", "undefined", 0, 0, false },
	/* 18, 19: base64 */
	{ "atob", "[[2,30,'aGk='],[18,30],[7,3,30]]", "hi", 0, 0, false },
	{ "atob is forgiving", "[[2,31,' aG k\\n'],[18,30,31],[7,3,30]]", "hi",
	    0, 0, false },
	{ "atob with one pad", "[[2,31,'YWI='],[18,30,31],[7,3,30]]", "ab", 0,
	    0, false },
	{ "atob of a bad length is skipped",
	    "[[2,30,'keep'],[2,31,'a'],[18,30,31],[7,3,30]]", "keep", 0, 1,
	    false },
	{ "atob of a bad character is skipped",
	    "[[2,30,'keep'],[2,31,'aG!k'],[18,30,31],[7,3,30]]", "keep", 0, 1,
	    false },
	{ "atob of misplaced padding is skipped",
	    "[[2,30,'keep'],[2,31,'a=Gk'],[18,30,31],[7,3,30]]", "keep", 0, 1,
	    false },
	{ "atob and btoa round trip binary",
	    "[[2,30,'/+8A'],[18,30],[19,30],[7,3,30]]", "/+8A", 0, 0, false },
	{ "btoa", "[[2,30,'hi'],[19,31,30],[7,3,31]]", "aGk=", 0, 0, false },
	{ "btoa of undefined", "[[19,30],[7,3,30]]", "dW5kZWZpbmVk", 0, 0,
	    false },
	/* 20, 21, 23: conditions */
	{ "ifeq equal strings",
	    "[[2,30,'s'],[2,31,'s'],[2,32,'yes'],[20,30,31,3,32],[3,'no']]",
	    "yes", 0, 0, false },
	{ "ifeq different strings",
	    "[[2,30,'s'],[2,31,'t'],[2,32,'yes'],[20,30,31,3,32],[3,'no']]",
	    "no", 0, 0, false },
	{ "ifeq number and string",
	    "[[2,30,1],[2,31,'1'],[2,32,'yes'],[20,30,31,3,32],[3,'no']]",
	    "no", 0, 0, false },
	{ "ifeq compares lists by identity",
	    "[[2,30,[]],[2,31,[]],[2,32,'same'],[20,30,31,3,32],[8,33,30],"
	    "[20,30,33,3,32],[3,'no']]", "same", 0, 0, false },
	{ "ifeq of two undefined", "[[2,32,'yes'],[20,30,31,3,32],[3,'no']]",
	    "yes", 0, 0, false },
	{ "ifeq NaN is not NaN",
	    "[[2,30,1e400],[2,31,-1e400],[5,30,31],[2,32,'yes'],"
	    "[20,30,30,3,32],[3,'no']]", "no", 0, 0, false },
	{ "ifeq zero and negative zero",
	    "[[2,30,0],[2,31,-0.0],[2,32,'yes'],[20,30,31,3,32],[3,'no']]",
	    "yes", 0, 0, false },
	{ "ifeq functions by opcode",
	    "[[8,30,3],[2,32,'yes'],[20,30,3,3,32],[3,'no']]", "yes", 0, 0,
	    false },
	{ "ifdef", "[[2,32,'yes'],[23,30,3,32],[2,30,0],[23,30,3,32],"
	    "[3,'no']]", "yes", 0, 0, false },
	{ "ifdef null", "[[2,30,null],[2,32,'yes'],[23,30,3,32],[3,'no']]",
	    "no", 0, 0, false },
	{ "nop", "[[21],[21,1,2,3],[3,'ok']]", "ok", 0, 0, false },
	/* to_str of numbers (JS Number#toString) */
	{ "number formats",
	    "[[3,[0.1,1e21,1e-7,1.2345678901234568e20,0.000001,1.5,100,"
	    "9007199254740993,5e-324,1.7976931348623157e308,-1.5e-10,123e18,"
	    "1.5e300,-0.0,0.000123,1234567.125,-42]]]",
	    "0.1,1e+21,1e-7,123456789012345680000,0.000001,1.5,100,"
	    "9007199254740992,5e-324,1.7976931348623157e+308,-1.5e-10,"
	    "123000000000000000000,1.5e+300,0,0.000123,1234567.125,-42", 0, 0,
	    false },
	{ "NaN", "[[2,30,1e400],[2,31,-1e400],[5,30,31],[7,3,30]]", "NaN", 0,
	    0, false },
	{ "Infinity", "[[2,30,1e400],[2,31,-1e400],[7,3,30],[7,3,31]]",
	    "Infinity", 0, 0, false },
	{ "add overflows to -Infinity",
	    "[[2,30,-1e308],[5,30,30],[7,3,30]]", "-Infinity", 0, 0, false },
	/* skipping */
	{ "odd instructions are skipped",
	    "[42,'x',null,[],{},[[1]],['a'],[1e400],[999],[3.5],[3,'ok']]",
	    "ok", 0, 10, false },
	{ "missing arguments are skipped",
	    "[[2],[2,30],[1,30],[5,30],[6,30,31],[7],[8,30],[14,30],[15,30],"
	    "[17,30],[18],[19],[20,1,2],[23,1],[3,'ok']]", "ok", 0, 14, false },
	{ "non-numeric keys are skipped",
	    "[[2,'a',1],[8,30,'b'],[7,3,[1]],[2,true,1],[2,null,1],[3,'ok']]",
	    "ok", 0, 5, false },
	{ "a failing nested call skips once",
	    "[[2,31,'s'],[20,31,31,7,3,31,99],[3,'no']]", "no", 0, 1, false },
	/* JSON texts (raw) */
	{ "unicode escapes", "[[3,\"\\ud83d\\ude00\\ud800x\\u00e9\\udc00\"]]",
	    "\xf0\x9f\x98\x80\xef\xbf\xbdx\xc3\xa9\xef\xbf\xbd", 0, 0, true },
	{ "raw high bytes", "[[3,\"\xe9\xff\x80\"]]", "\xe9\xff\x80", 0, 0,
	    true },
	{ "NUL escape in a string", "[[3,\"a\\u0000b\"]]", "a\0b", 3, 0, true },
	{ "escaped slash", "[[3,\"a\\/b\"]]", "a/b", 0, 0, true },
	{ "18-digit integer", "[[3,123456789012345678]]", "123456789012345680",
	    0, 0, true },
	{ "exponent forms", "[[3,[1E+2,1e-2,-0,0e0,2.50E1]]]",
	    "100,0.01,0,0,25", 0, 0, true },
	{ "whitespace", " \t\n\r[ [ 3 , \"w\" ] ] \r\n", "w", 0, 0, true },
	{ "no finish", "[[2,30,'x']]", NULL, 0, 0, false },
	{ "empty program", "[]", NULL, 0, 0, false },
};

START_TEST(test_program)
{
	const struct pcase	*c = &cases[_i];
	struct outcome		 o;

	run_prog(c->prog, c->raw, &o);
	if (c->want == NULL) {
		ck_assert_msg(o.rc == TURNSTILE_ENOTOKEN, "%s: rc %d (%s)",
		    c->name, o.rc, o.err);
		ck_assert_ptr_null(o.token);
	} else {
		size_t	 n = c->wantlen ? c->wantlen : strlen(c->want);
		char	*want = b64(c->want, n);

		ck_assert_msg(o.rc == TURNSTILE_OK, "%s: rc %d (%s)", c->name,
		    o.rc, o.err);
		ck_assert_msg(strcmp(o.token, want) == 0, "%s: got %s want %s",
		    c->name, o.token, want);
		free(want);
	}
	if (c->skipped >= 0)
		ck_assert_msg(o.st.skipped == (unsigned long)c->skipped,
		    "%s: skipped %lu, want %ld", c->name, o.st.skipped,
		    c->skipped);
	free(o.token);
}
END_TEST

/* Texts that are not acceptable programs. */
static const struct {
	const char		*text;
	enum turnstile_err	 rc;
} badprogs[] = {
	{ "[[3,1.]]", TURNSTILE_EBADINPUT },
	{ "[[3,.5]]", TURNSTILE_EBADINPUT },
	{ "[[3,01]]", TURNSTILE_EBADINPUT },
	{ "[[3,+1]]", TURNSTILE_EBADINPUT },
	{ "[[3,1e]]", TURNSTILE_EBADINPUT },
	{ "[[3,-]]", TURNSTILE_EBADINPUT },
	{ "[[3,NaN]]", TURNSTILE_EBADINPUT },
	{ "[[3,Infinity]]", TURNSTILE_EBADINPUT },
	{ "[[3,1234567890123456789]]", TURNSTILE_EBADINPUT },
	{ "[[3,'a'],]", TURNSTILE_EBADINPUT },
	{ "[[3,{'a':1,}]]", TURNSTILE_EBADINPUT },
	{ "[[3,\"a\tb\"]]", TURNSTILE_EBADINPUT },
	{ "[[3,{\"\\u0000\":1}]]", TURNSTILE_EBADINPUT },
	{ "[[3,\"\\x\"]]", TURNSTILE_EBADINPUT },
	{ "[[3,\"\\ud800\\uZZZZ\"]]", TURNSTILE_EBADINPUT },
	{ "[[3,\"\\u12\"]]", TURNSTILE_EBADINPUT },
	{ "[[3,'a']] x", TURNSTILE_EBADINPUT },
	{ "[[3,'a']][]", TURNSTILE_EBADINPUT },
	{ "[[3,'a'", TURNSTILE_EBADINPUT },
	{ "[[3,\"a", TURNSTILE_EBADINPUT },
	{ "[[3,tru]]", TURNSTILE_EBADINPUT },
	{ "[[3,True]]", TURNSTILE_EBADINPUT },
	{ "[[3 'a']]", TURNSTILE_EBADINPUT },
	{ "[[3,/*c*/1]]", TURNSTILE_EBADINPUT },
	{ "{'a':1}", TURNSTILE_EBADINPUT },
	{ "'program'", TURNSTILE_EBADINPUT },
	{ "42", TURNSTILE_EBADINPUT },
	{ "null", TURNSTILE_EBADINPUT },
	{ "", TURNSTILE_EBADINPUT },
	{ "   ", TURNSTILE_EBADINPUT },
	{ "[\f]", TURNSTILE_EBADINPUT },
};

START_TEST(test_bad_program)
{
	struct outcome	 o;

	run_prog(badprogs[_i].text, false, &o);
	ck_assert_msg(o.rc == badprogs[_i].rc, "%s: rc %d (%s)",
	    badprogs[_i].text, o.rc, o.err);
	ck_assert_ptr_null(o.token);
	ck_assert(o.err[0] != '\0');
}
END_TEST

/* ------------------------------------------------------------------ */
/* the API */

START_TEST(test_simple_api)
{
	char	*text = prog("[[2,30,'x'],[1,30,16],[19,30],[7,3,30]]");
	char	*dx = encode(text, strlen(text), TEST_P), *tok = (char *)1;
	char	 err[64];

	ck_assert_int_eq(turnstile_solve(dx, TEST_P, &tok, err, sizeof(err)),
	    TURNSTILE_OK);
	ck_assert_str_eq(tok, "SHc9PQ==");	/* btoa(btoa("x" ^ "g")) */
	ck_assert_str_eq(err, "");
	free(tok);
	/* wrong p: the text does not decode to JSON */
	tok = (char *)1;
	ck_assert_int_eq(turnstile_solve(dx, "gAAAAACx", &tok, err,
	    sizeof(err)), TURNSTILE_EBADINPUT);
	ck_assert_ptr_null(tok);
	ck_assert(strstr(err, "not JSON") != NULL);
	/* NULLs, empty p, no error buffer */
	ck_assert_int_eq(turnstile_solve(NULL, TEST_P, &tok, err, sizeof(err)),
	    TURNSTILE_EBADINPUT);
	ck_assert_int_eq(turnstile_solve(dx, NULL, &tok, NULL, 0),
	    TURNSTILE_EBADINPUT);
	ck_assert_int_eq(turnstile_solve(dx, TEST_P, NULL, NULL, 0),
	    TURNSTILE_EBADINPUT);
	ck_assert_int_eq(turnstile_solve(dx, "", &tok, NULL, 0),
	    TURNSTILE_EBADINPUT);
	ck_assert_ptr_null(tok);
	/* a tiny error buffer is truncated, not overrun */
	ck_assert_int_eq(turnstile_solve("!!!!", TEST_P, &tok, err, 4),
	    TURNSTILE_EBADINPUT);
	ck_assert_uint_eq(strlen(err), 3);
	free(dx);
	free(text);
}
END_TEST

START_TEST(test_strerror)
{
	int	 e;

	for (e = TURNSTILE_OK; e <= TURNSTILE_ENOTOKEN; e++)
		ck_assert(strlen(turnstile_strerror(e)) > 0);
	ck_assert_str_eq(turnstile_strerror(TURNSTILE_ELIMIT),
	    "turnstile program exceeds a limit");
	ck_assert_str_eq(turnstile_strerror((enum turnstile_err)99),
	    "unknown turnstile error");
	ck_assert_str_eq(turnstile_local_storage_keys[0], "oai-did");
}
END_TEST

START_TEST(test_dx_base64)
{
	const char	*text = "[[3,\"ok\"]]";
	char		*dx = encode(text, strlen(text), TEST_P), *tok, *spaced;
	size_t		 n = strlen(dx), i, j;
	enum turnstile_err rc;

	/* without padding, with whitespace anywhere */
	while (n > 0 && dx[n - 1] == '=')
		dx[--n] = '\0';
	spaced = malloc(2 * n + 3);
	ck_assert_ptr_nonnull(spaced);
	for (i = j = 0; i < n; i++) {
		spaced[j++] = dx[i];
		if (i % 3 == 0)
			spaced[j++] = " \n\t\r\f"[i % 5];
	}
	spaced[j] = '\0';
	rc = turnstile_solve(spaced, TEST_P, &tok, NULL, 0);
	ck_assert_int_eq(rc, TURNSTILE_OK);
	ck_assert_str_eq(tok, "b2s=");
	free(tok);
	/* URL-safe alphabet, stray '=', bad length */
	ck_assert_int_eq(turnstile_solve("ab-_", TEST_P, &tok, NULL, 0),
	    TURNSTILE_EBADINPUT);
	ck_assert_int_eq(turnstile_solve("a=bc", TEST_P, &tok, NULL, 0),
	    TURNSTILE_EBADINPUT);
	ck_assert_int_eq(turnstile_solve("abcde", TEST_P, &tok, NULL, 0),
	    TURNSTILE_EBADINPUT);
	ck_assert_int_eq(turnstile_solve("ab===", TEST_P, &tok, NULL, 0),
	    TURNSTILE_EBADINPUT);
	ck_assert_int_eq(turnstile_solve("", TEST_P, &tok, NULL, 0),
	    TURNSTILE_EBADINPUT);
	free(spaced);
	free(dx);
}
END_TEST

START_TEST(test_dx_garbage)
{
	unsigned char	 buf[512];
	unsigned int	 seed = 12345;
	int		 k, i;

	/* random bytes as dx and as decoded text: never a crash */
	for (k = 0; k < 400; k++) {
		size_t			 n = (size_t)(rand_r(&seed) % 300);
		struct outcome		 o;
		enum turnstile_err	 rc;
		char			*tok;

		for (i = 0; i < (int)n; i++)
			buf[i] = (unsigned char)rand_r(&seed);
		buf[n] = '\0';
		rc = turnstile_solve_ex((char *)buf, n, TEST_P, strlen(TEST_P),
		    &fixed, &tok, NULL, NULL, 0);
		ck_assert(rc == TURNSTILE_EBADINPUT || rc == TURNSTILE_OK ||
		    rc == TURNSTILE_ENOTOKEN);
		free(tok);
		run_text((char *)buf, n, TEST_P, &o);
		ck_assert(o.rc != TURNSTILE_ENOMEM);
		free(o.token);
	}
}
END_TEST

/* ------------------------------------------------------------------ */
/* limits: each must end with TURNSTILE_ELIMIT, quickly */

#define LIMIT_SECS	5.0

struct sbuf {
	char	*p;
	size_t	 len, cap;
};

static void
sput(struct sbuf *b, const char *s)
{
	size_t	 n = strlen(s);

	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		ck_assert_ptr_nonnull(b->p);
	}
	memcpy(b->p + b->len, s, n + 1);
	b->len += n;
}

static void
srepeat(struct sbuf *b, const char *s, long n)
{
	while (n-- > 0)
		sput(b, s);
}

/* The run must stop with TURNSTILE_ELIMIT, quickly, for the reason in why. */
static void
expect_limit(struct sbuf *b, const char *what, const char *why)
{
	struct outcome	 o;

	run_text(b->p, b->len, TEST_P, &o);
	fprintf(stderr, "# limit %-28s %.3fs  %s\n", what, o.secs, o.err);
	ck_assert_msg(o.rc == TURNSTILE_ELIMIT, "%s: rc %d (%s)", what, o.rc,
	    o.err);
	ck_assert_ptr_null(o.token);
	ck_assert_msg(o.secs < LIMIT_SECS, "%s took %.2fs", what, o.secs);
	ck_assert_msg(strstr(o.err, why) != NULL, "%s: stopped by \"%s\"",
	    what, o.err);
	free(b->p);
	memset(b, 0, sizeof(*b));
}

START_TEST(test_limit_loop)
{
	struct sbuf	 b = { 0 };

	/* [5,9,30] appends itself forever: the program list fills up (a run
	 * can only grow by appends, so this bounds the top-level steps) */
	sput(&b, "[[2,30,[5,9,30]],[5,9,30]]");
	expect_limit(&b, "self-extending loop", "list with more than 65536");
	/* the same through a copy of register 9 */
	sput(&b, "[[8,31,9],[2,30,[5,31,30]],[5,31,30]]");
	expect_limit(&b, "self-extending loop via copy",
	    "list with more than 65536");
	/* steps: 50001 instructions that each make one call */
	sput(&b, "[[21]");
	srepeat(&b, ",[20,30,30,21]", 50001);
	sput(&b, ",[3,1]]");
	expect_limit(&b, "steps", "step limit (100000)");
}
END_TEST

START_TEST(test_limit_string)
{
	struct sbuf	 b = { 0 };

	/* doubling past 1 MiB */
	sput(&b, "[[2,30,\"x\"]");
	srepeat(&b, ",[5,30,30]", 21);
	sput(&b, ",[3,1]]");
	expect_limit(&b, "string doubling", "string longer than 1048576");
	/* twenty 1 MiB XORs exhaust the work budget */
	sput(&b, "[[2,30,\"x\"]");
	srepeat(&b, ",[5,30,30]", 20);
	sput(&b, ",[8,31,30]");
	srepeat(&b, ",[1,31,30]", 20);
	sput(&b, ",[3,1]]");
	expect_limit(&b, "work", "work limit");
	/* comparing equal 1 MiB strings is charged */
	sput(&b, "[[2,30,\"x\"]");
	srepeat(&b, ",[5,30,30]", 20);
	sput(&b, ",[2,31,\"\"],[5,31,30]");
	srepeat(&b, ",[20,30,31,21]", 40);
	sput(&b, ",[3,1]]");
	expect_limit(&b, "equality work", "work limit");
}
END_TEST

START_TEST(test_limit_nesting)
{
	struct sbuf	 b = { 0 };
	struct outcome	 o;

	/* a deeply nested program */
	srepeat(&b, "[", 100000);
	srepeat(&b, "]", 100000);
	expect_limit(&b, "nested program", "JSON nested deeper than 32");
	/* JSON.parse: 32 levels are fine, 33 are not */
	sput(&b, "[[2,40,\"");
	srepeat(&b, "[", 32);
	srepeat(&b, "]", 32);
	sput(&b, "\"],[14,30,40],[15,31,30],[7,3,31]]");
	run_text(b.p, b.len, TEST_P, &o);
	ck_assert_int_eq(o.rc, TURNSTILE_OK);
	free(o.token);
	free(b.p);
	memset(&b, 0, sizeof(b));
	sput(&b, "[[2,40,\"");
	srepeat(&b, "[", 33);
	srepeat(&b, "]", 33);
	sput(&b, "\"],[14,30,40],[3,1]]");
	expect_limit(&b, "nested JSON.parse", "JSON nested deeper than 32");
	/* the same 33 levels but invalid further on: still a limit */
	sput(&b, "[[2,40,\"");
	srepeat(&b, "[", 33);
	sput(&b, "x\"],[14,30,40],[3,1]]");
	expect_limit(&b, "nested invalid JSON.parse",
	    "JSON nested deeper than 32");
	/* cycles */
	sput(&b, "[[2,30,[]],[5,30,30],[7,3,30]]");
	expect_limit(&b, "to_str of a cyclic list", "to_str nested");
	sput(&b, "[[2,30,[]],[5,30,30],[15,31,30],[3,1]]");
	expect_limit(&b, "stringify of a cyclic list",
	    "stringify nested");
	sput(&b, "[[2,60,\"window.Object.create\"],[17,30,60],"
	    "[2,61,\"window.Reflect.set\"],[7,61,30,62,30],[15,31,30],[3,1]]");
	expect_limit(&b, "stringify of a cyclic map", "stringify nested");
}
END_TEST

START_TEST(test_limit_calls)
{
	struct sbuf	 b = { 0 };
	char		 num[32];
	int		 i;

	/* R[100] = op 7, R[100+i] = 99+i: each call level drops one argument,
	 * 40 arguments nest 40 calls deep */
	sput(&b, "[[8,100,7]");
	for (i = 1; i <= 40; i++) {
		snprintf(num, sizeof(num), ",[2,%d,%d]", 100 + i, 99 + i);
		sput(&b, num);
	}
	sput(&b, ",[7,100");
	for (i = 1; i <= 40; i++) {
		snprintf(num, sizeof(num), ",%d", 100 + i);
		sput(&b, num);
	}
	sput(&b, "],[3,1]]");
	expect_limit(&b, "nested calls", "calls nested deeper than 32");
}
END_TEST

START_TEST(test_limit_sizes)
{
	struct sbuf	 b = { 0 };
	char		 num[48];
	int		 i;

	/* registers */
	sput(&b, "[[21]");
	for (i = 0; i < 5000; i++) {
		snprintf(num, sizeof(num), ",[2,%d,1]", 1000 + i);
		sput(&b, num);
	}
	sput(&b, ",[3,1]]");
	expect_limit(&b, "registers", "more than 4096 registers");
	/* a program of more than MAX_LIST instructions */
	sput(&b, "[[2,30,[]]");
	srepeat(&b, ",[5,30,31]", (long)TURNSTILE_MAX_LIST + 1);
	sput(&b, ",[3,1]]");
	expect_limit(&b, "program length", "JSON array with more than");
	/* list length in JSON */
	sput(&b, "[[3,[0");
	srepeat(&b, ",0", (long)TURNSTILE_MAX_LIST);
	sput(&b, "]]]");
	expect_limit(&b, "JSON array length", "JSON array with more than");
	/* map size by Reflect.set */
	sput(&b, "[[2,60,\"window.Object.create\"],[17,30,60],"
	    "[2,61,\"window.Reflect.set\"],[2,31,0],[2,32,1]");
	srepeat(&b, ",[5,31,32],[7,61,30,31,31]", (long)TURNSTILE_MAX_MAP + 1);
	sput(&b, ",[3,1]]");
	expect_limit(&b, "map size", "map with more than 4096");
	/* map size in JSON */
	sput(&b, "[[3,{\"k\":0");
	for (i = 0; i < (int)TURNSTILE_MAX_MAP; i++) {
		snprintf(num, sizeof(num), ",\"k%d\":0", i);
		sput(&b, num);
	}
	sput(&b, "}]]");
	expect_limit(&b, "JSON object size", "JSON object with more than");
	/* an instruction with 60000 arguments run again and again */
	sput(&b, "[[2,50,[5,9,50");
	srepeat(&b, ",0", 60000);
	sput(&b, "]],[5,9,50]]");
	expect_limit(&b, "wide instruction loop", "work limit");
	/* a big program text */
	sput(&b, "[");
	srepeat(&b, "[21],", 220000);
	sput(&b, "[3,1]]");
	expect_limit(&b, "decoded dx size", "decoded dx longer");
}
END_TEST

START_TEST(test_limit_input)
{
	char			*dx = malloc(TURNSTILE_MAX_DX + 8), *p, *tok;
	enum turnstile_err	 rc;

	ck_assert_ptr_nonnull(dx);
	memset(dx, 'A', TURNSTILE_MAX_DX + 4);
	dx[TURNSTILE_MAX_DX + 4] = '\0';
	rc = turnstile_solve(dx, TEST_P, &tok, NULL, 0);
	ck_assert_int_eq(rc, TURNSTILE_ELIMIT);
	p = malloc(TURNSTILE_MAX_P + 2);
	ck_assert_ptr_nonnull(p);
	memset(p, 'p', TURNSTILE_MAX_P + 1);
	p[TURNSTILE_MAX_P + 1] = '\0';
	rc = turnstile_solve("W10=", p, &tok, NULL, 0);
	ck_assert_int_eq(rc, TURNSTILE_ELIMIT);
	free(p);
	free(dx);
}
END_TEST

START_TEST(test_stats)
{
	struct outcome	 o;

	/* 4 instructions, one skipped, one call */
	run_prog("[[2,30,'ab'],[1,30,31],[21,1],[2],[7,3,30]]", false, &o);
	ck_assert_int_eq(o.rc, TURNSTILE_OK);
	ck_assert_uint_eq(o.st.steps, 6);
	ck_assert_uint_eq(o.st.skipped, 1);
	ck_assert(o.st.work > 0);
	free(o.token);
}
END_TEST

/* ------------------------------------------------------------------ */
/* cross-check with tests/mock/turnstile.py */

static const char *
srcdir(void)
{
	const char	*d = getenv("top_srcdir");

	return d != NULL && *d != '\0' ? d : ".";
}

static const char *
errcode(enum turnstile_err e)
{
	switch (e) {
	case TURNSTILE_OK: return "OK";
	case TURNSTILE_EBADINPUT: return "BADINPUT";
	case TURNSTILE_ELIMIT: return "LIMIT";
	case TURNSTILE_ENOTOKEN: return "NOTOKEN";
	default: return "ENOMEM";
	}
}

static int
split(char *line, char **f, int max)
{
	int	 k = 0;
	char	*s = line;
	size_t	 n = strlen(line);

	if (n > 0 && line[n - 1] == '\n')
		line[n - 1] = '\0';
	f[k++] = s;
	while (k < max && (s = strchr(s, '\t')) != NULL) {
		*s++ = '\0';
		f[k++] = s;
	}
	return k;
}

/*
 * gen lines: p dx expected steps skipped work (6 fields)
 * fuzz lines: p dx code token steps skipped work (7 fields)
 * Returns the number of lines checked.
 */
static int
check_stream(FILE *fp, bool fuzz, const char *what)
{
	char		*line = NULL;
	size_t		 cap = 0;
	int		 lines = 0, bad = 0;

	while (getline(&line, &cap, fp) > 0) {
		char			*f[8], *tok = NULL, err[200];
		struct turnstile_stats	 st;
		enum turnstile_err	 rc;
		int			 nf = split(line, f, 8);
		bool			 ok;

		ck_assert_msg(nf == (fuzz ? 7 : 6), "%s line %d: %d fields",
		    what, lines + 1, nf);
		rc = turnstile_solve_ex(f[1], strlen(f[1]), f[0], strlen(f[0]),
		    &fixed, &tok, &st, err, sizeof(err));
		if (fuzz) {
			ok = strcmp(errcode(rc), f[2]) == 0;
			if (ok && rc == TURNSTILE_OK)
				ok = strcmp(tok, f[3]) == 0 &&
				    st.steps == strtoul(f[4], NULL, 10) &&
				    st.skipped == strtoul(f[5], NULL, 10) &&
				    st.work == strtoul(f[6], NULL, 10);
		} else
			ok = rc == TURNSTILE_OK && strcmp(tok, f[2]) == 0 &&
			    st.steps == strtoul(f[3], NULL, 10) &&
			    st.skipped == strtoul(f[4], NULL, 10) &&
			    st.work == strtoul(f[5], NULL, 10);
		if (!ok && bad++ < 5)
			fprintf(stderr, "%s line %d: C %s (%s) steps %lu "
			    "skipped %lu work %lu token %.40s\n", what,
			    lines + 1, errcode(rc), err, st.steps, st.skipped,
			    st.work, tok ? tok : "-");
		free(tok);
		lines++;
	}
	free(line);
	ck_assert_msg(bad == 0, "%s: %d of %d lines differ", what, bad, lines);
	return lines;
}

static int
check_file(const char *name, bool fuzz)
{
	char	 path[1024];
	FILE	*fp;
	int	 n;

	snprintf(path, sizeof(path), "%s/tests/unit/data/turnstile/%s",
	    srcdir(), name);
	fp = fopen(path, "r");
	ck_assert_msg(fp != NULL, "cannot open %s", path);
	n = check_stream(fp, fuzz, name);
	fclose(fp);
	return n;
}

static int
check_python(const char *args, bool fuzz)
{
	char	 cmd[1024];
	FILE	*fp;
	int	 n, st;

	snprintf(cmd, sizeof(cmd), "python3 '%s/tests/mock/turnstile.py' %s",
	    srcdir(), args);
	fp = popen(cmd, "r");
	ck_assert_msg(fp != NULL, "popen %s", cmd);
	n = check_stream(fp, fuzz, args);
	st = pclose(fp);
	ck_assert_msg(st == 0, "%s exited with %d", cmd, st);
	return n;
}

START_TEST(test_fixture_challenges)
{
	ck_assert_int_ge(check_file("challenges.tsv", false), 40);
}
END_TEST

START_TEST(test_fixture_fuzz)
{
	ck_assert_int_ge(check_file("fuzz.tsv", true), 300);
}
END_TEST

START_TEST(test_python_challenges)
{
	char	 args[64];

	/* a fresh seed each run, printed so a failure can be replayed */
	snprintf(args, sizeof(args), "gen --count 150 --seed %ld",
	    (long)time(NULL));
	fprintf(stderr, "# turnstile.py %s\n", args);
	ck_assert_int_eq(check_python(args, false), 150);
}
END_TEST

START_TEST(test_python_fuzz)
{
	char	 args[64];

	snprintf(args, sizeof(args), "fuzz --count 1500 --seed %ld",
	    (long)time(NULL) + 1);
	fprintf(stderr, "# turnstile.py %s\n", args);
	ck_assert_int_eq(check_python(args, true), 1500);
}
END_TEST

static Suite *
turnstile_suite(void)
{
	Suite	*s = suite_create("turnstile");
	TCase	*tc;

	tc = tcase_create("programs");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_program, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_loop_test(tc, test_bad_program, 0,
	    (int)(sizeof(badprogs) / sizeof(badprogs[0])));
	tcase_add_test(tc, test_stats);
	suite_add_tcase(s, tc);

	tc = tcase_create("api");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_simple_api);
	tcase_add_test(tc, test_strerror);
	tcase_add_test(tc, test_dx_base64);
	tcase_add_test(tc, test_dx_garbage);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_limit_loop);
	tcase_add_test(tc, test_limit_string);
	tcase_add_test(tc, test_limit_nesting);
	tcase_add_test(tc, test_limit_calls);
	tcase_add_test(tc, test_limit_sizes);
	tcase_add_test(tc, test_limit_input);
	suite_add_tcase(s, tc);

	tc = tcase_create("python");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_fixture_challenges);
	tcase_add_test(tc, test_fixture_fuzz);
	tcase_add_test(tc, test_python_challenges);
	tcase_add_test(tc, test_python_fuzz);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(turnstile_suite)
