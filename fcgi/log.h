/*
 * Logger with three sinks (stderr, syslog, a file).  Under spawn-fcgi
 * stderr is /dev/null, so the sink is configurable.  Every message is
 * escaped so request data cannot forge log lines; secrets are never passed
 * here, only log_fingerprint() of them.
 */
#ifndef FCGI_LOG_H
#define FCGI_LOG_H

#include <stddef.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

int	 log_open(const char *spec, enum log_level level, char *err, size_t errsz);
void	 log_close(void);
int	 log_level_parse(const char *s, enum log_level *out);

void	 log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	 log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	 log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	 log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* 12 hex chars of SHA-256: enough to tell secrets apart, useless to steal. */
#define LOG_FP_LEN 13
void	 log_fingerprint(const char *secret, char out[LOG_FP_LEN]);

#endif
