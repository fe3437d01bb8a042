/*
 * conf_vars.h - the table of every environment variable chat2api reads
 * (conf_vars.c): name, type, default, limits and help.  conf.c parses and
 * validates by it; nothing else reads it.
 */
#ifndef FCGI_CONF_VARS_H
#define FCGI_CONF_VARS_H

#include <stddef.h>

enum cfg_type {
	CFG_BOOL,	/* true 1 t y yes / false 0 f n no */
	CFG_STR,
	CFG_URL,	/* http:// or https:// */
	CFG_PROXY,	/* http https socks4 socks4a socks5 socks5h */
	CFG_LIST,	/* comma list, spaces removed */
	CFG_URLS,	/* comma list of CFG_URL */
	CFG_PROXIES,	/* comma list of CFG_PROXY */
	CFG_PYLIST,	/* a Python literal list or a comma list */
	CFG_LONG,
	CFG_SIZE,	/* bytes, with k/m/g suffix */
	CFG_HEX,
	CFG_PREFIX,	/* path prefix: normalised to "/a/b" */
	CFG_LOGSPEC,
	CFG_LOGLEVEL,
	CFG_STRATEGY,	/* a load-balancing strategy name */
	CFG_MAPPING,	/* MODEL_MAPPING: JSON object or @file */
	CFG_TZ,		/* a time zone: applied to the process */
	CFG_WORD,	/* one of the words of words_of() */
};

struct cfg_var {
	const char	*name;
	const char	*alias;
	enum cfg_type	 type;
	size_t		 off;
	const char	*def;
	long		 min, max;
	const char	*help;
};

extern const struct cfg_var	cfg_vars[];
extern const size_t		cfg_nvars;

#endif
