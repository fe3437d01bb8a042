/*
 * Configuration: every environment variable is parsed once at start from a
 * declarative table (fcgi/config.c).  A bad value stops start-up with one
 * line naming the variable and what it accepts.
 */
#ifndef FCGI_CONF_H
#define FCGI_CONF_H

#include <stddef.h>
#include <stdio.h>

struct strlist {
	char	**v;
	size_t	  n;
};

/*
 * MODEL_MAPPING: a requested name (or * pattern) → a target model,
 * optionally pinned to a provider or an account, in the order given.
 */
struct model_map {
	char	*name;
	char	*target;
	char	*provider;	/* NULL: any */
	char	*account;	/* NULL: any */
};

struct model_maps {
	struct model_map	*v;
	size_t			 n;
};

struct config {
	/* chat2api's own variables (chatgpt.md §10) */
	char		*api_prefix;		/* "" or "/secret" */
	struct strlist	 authorization;
	char		*auth_key;
	char		*x_sign;
	struct strlist	 chatgpt_base_url;
	struct strlist	 proxy_url;
	struct strlist	 sentinel_proxy_url;
	char		*export_proxy_url;
	char		*cf_file_url;
	char		*file_host;
	char		*voice_host;
	struct strlist	 arkose_token_url;
	char		*turnstile_solver_url;
	struct strlist	 impersonate;
	struct strlist	 user_agents;
	char		*device_tuple;
	char		*browser_tuple;
	char		*platform_tuple;
	int		 history_disabled;
	char		*pow_difficulty;
	long		 retry_times;
	int		 conversation_only;
	int		 enable_limit;
	int		 upload_by_url;
	char		*tool_format;		/* bracket | xml */
	char		*tool_prompt;		/* auto | always | never */
	long		 responses_ttl;		/* s; 0: not stored */
	char		*context_strategy;	/* none | sliding | tokens */
	int		 sessions;		/* multi-turn reuses chats */
	long		 session_ttl;		/* s a session lives idle */
	int		 session_delete;	/* its chat goes with it */
	long		 context_max_messages;	/* sliding */
	long		 context_max_tokens;	/* tokens; 0: per provider */
	int		 check_model;
	int		 scheduled_refresh;
	int		 random_token;
	char		*oai_language;
	int		 enable_gateway;
	int		 auto_seed;
	int		 force_no_history;
	int		 no_sentinel;
	long		 gateway_page_ttl;	/* seconds */
	char		*oauth_url;
	int		 delta_encoding;

	/* providers, routing, keys (providers.md §10) */
	struct strlist	 deepseek_base_url;
	struct strlist	 kimi_base_url;
	struct strlist	 glm_base_url;
	struct model_maps model_mapping;
	char		*lb_strategy;		/* "" : round-robin */
	char		*lb_strategy_chatgpt;
	char		*lb_strategy_deepseek;
	struct strlist	 qwen_base_url;		/* empty: the real hosts */
	char		*lb_strategy_qwen;
	/* Qwen AI (chat.qwen.ai): base, strategy, browser and anti-bot */
	struct strlist	 qwenai_base_url;
	char		*lb_strategy_qwenai;
	char		*qwenai_user_agent;
	char		*qwenai_version;
	char		*qwenai_bx_v;
	char		*qwenai_bx_ua;
	char		*qwenai_bx_umidtoken;
	long		 qwenai_models_ttl;	/* s; 0: no upstream list */
	struct strlist	 zai_base_url;
	char		*lb_strategy_zai;
	char		*lb_strategy_kimi;
	char		*lb_strategy_glm;
	int		 require_api_key;
	char		*tz;			/* "" : the system's */
	/* MiniMax (providers.md §5) */
	struct strlist	 minimax_base_url;
	char		*lb_strategy_minimax;
	long		 minimax_poll_min_ms;
	long		 minimax_poll_max_ms;
	long		 minimax_answer_timeout;	/* seconds */

	/* process and platform */
	char		*data_dir;
	char		*store;			/* lmdb | redis://... */
	char		*secret_key;
	long		 threads;
	long		 max_body;
	char		*mount;			/* "" or "/chat2api" */
	char		*log_spec;
	char		*log_level;
	long		 grace;			/* seconds */
	long		 sse_keepalive;		/* seconds */
	long		 admin_max_fails;	/* per client and window */
	long		 admin_fail_window;	/* seconds */
	int		 test_routes;
	long		 test_clock_skew;	/* s; with test_routes only */
	long		 map_size;		/* initial LMDB map, bytes */
	char		*cors_origin;
	char		*ca_file;		/* upstream TLS; "": default */

	/* management API, request log, metrics (issue 15) */
	char		*management_secret;	/* "" : /v0/management off */
	int		 metrics;
	char		*metrics_code;		/* "" : /metrics is open */
	int		 log_bodies;
	long		 log_body_max;		/* bytes per body */
	long		 log_retention_days;	/* 0: by count only */
	long		 log_max_entries;	/* 0: no request log */
};

int	 config_load(struct config *, char *err, size_t errsz);
void	 config_free(struct config *);
void	 config_usage(FILE *);
const char	*config_var_name(size_t);
struct config_desc {
	const char	*name, *help, *value;
	const char	*source;	/* "environment", "default" or an alias */
	int		 secret;
};
int	 config_describe(size_t, struct config_desc *);
int	 config_parse_bool(const char *, int *);
/* LB_STRATEGY_<ID> if set, else LB_STRATEGY, else NULL. */
const char	*config_lb_strategy(const struct config *, const char *provider);
/* fcgi/conf_mapping.c: MODEL_MAPPING (JSON object, or @file). */
int	 config_parse_mapping(const char *, struct model_maps *, char *err,
	    size_t errsz);
void	 config_free_mapping(struct model_maps *);

#endif
