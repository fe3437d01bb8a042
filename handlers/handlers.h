/* Route handlers, one file per route family. */
#ifndef HANDLERS_H
#define HANDLERS_H

#include "fcgi/req.h"

/* handlers/init.c: once per process (0 or -1), and per thread at exit */
struct config;
int		 handlers_init(const struct config *);
void		 handlers_thread_done(void);
void		 handlers_cleanup(void);

/* handlers/status.c */
enum app_err	 h_index(struct req *, const char *);
enum app_err	 h_health(struct req *, const char *);
enum app_err	 h_stats(struct req *, const char *);
void		 h_status_init(void);

/* handlers/metrics.c: Prometheus text (METRICS) */
enum app_err	 h_metrics(struct req *, const char *);

/* handlers/mgmt_api.c: /v0/management/... (MANAGEMENT_SECRET) */
enum app_err	 h_management(struct req *, const char *);

/* handlers/models.c */
enum app_err	 h_models_list(struct req *, const char *);
enum app_err	 h_models_get(struct req *, const char *);

/* handlers/chat.c */
enum app_err	 h_chat_completions(struct req *, const char *);

/* handlers/completions.c: the legacy prompt as a one-message chat */
enum app_err	 h_completions(struct req *, const char *);

/* handlers/anthropic.c: the Anthropic Messages API */
enum app_err	 h_messages(struct req *, const char *);
enum app_err	 h_messages_count_tokens(struct req *, const char *);

/* handlers/responses.c: the OpenAI Responses API */
enum app_err	 h_responses(struct req *, const char *);
enum app_err	 h_responses_item(struct req *, const char *);

/* handlers/tokens.c */
enum app_err	 h_tokens_page(struct req *, const char *);
enum app_err	 h_tokens_login(struct req *, const char *);
enum app_err	 h_admin_page(struct req *, const char *);
enum app_err	 h_admin_login(struct req *, const char *);
enum app_err	 h_admin_logout(struct req *, const char *);
enum app_err	 h_admin_accounts(struct req *, const char *);
enum app_err	 h_admin_accounts_post(struct req *, const char *);
enum app_err	 h_admin_keys(struct req *, const char *);
enum app_err	 h_admin_keys_post(struct req *, const char *);
enum app_err	 h_admin_mappings(struct req *, const char *);
enum app_err	 h_admin_mappings_post(struct req *, const char *);
enum app_err	 h_admin_logs(struct req *, const char *);
enum app_err	 h_admin_sessions(struct req *, const char *);
enum app_err	 h_admin_sessions_post(struct req *, const char *);
enum app_err	 h_admin_settings(struct req *, const char *);
enum app_err	 h_tokens_logout(struct req *, const char *);
enum app_err	 h_tokens_upload(struct req *, const char *);
enum app_err	 h_tokens_clear(struct req *, const char *);
enum app_err	 h_tokens_error(struct req *, const char *);
enum app_err	 h_tokens_errors_clear(struct req *, const char *);
enum app_err	 h_tokens_remove(struct req *, const char *);
enum app_err	 h_seed_tokens_clear(struct req *, const char *);

/* handlers/gateway_*.c (ENABLE_GATEWAY only; see handlers/gateway.h) */
enum app_err	 h_gw_home(struct req *, const char *);
enum app_err	 h_gw_login_page(struct req *, const char *);
enum app_err	 h_gw_login(struct req *, const char *);
enum app_err	 h_gw_logout(struct req *, const char *);
enum app_err	 h_gw_gpts_data(struct req *, const char *);
enum app_err	 h_gw_seedtoken(struct req *, const char *);
enum app_err	 h_gw_auth_refresh(struct req *, const char *);
enum app_err	 h_gw_site(struct req *, const char *);

/* handlers/testroutes.c (CHAT2API_TEST_ROUTES only) */
enum app_err	 h_test_echo(struct req *, const char *);
enum app_err	 h_test_sse(struct req *, const char *);

#endif
