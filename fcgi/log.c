#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "fcgi/log.h"

enum log_sink { SINK_STDERR, SINK_SYSLOG, SINK_FILE };

static enum log_sink	 sink = SINK_STDERR;
static enum log_level	 max_level = LOG_LVL_INFO;
static int		 log_fd = 2;

static const char *const level_names[] = { "error", "warn", "info", "debug" };
static const int syslog_prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

int
log_level_parse(const char *s, enum log_level *out)
{
	size_t i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcasecmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	return -1;
}

int
log_open(const char *spec, enum log_level level, char *err, size_t errsz)
{
	max_level = level;
	if (spec == NULL || *spec == '\0' || strcmp(spec, "stderr") == 0) {
		sink = SINK_STDERR;
		log_fd = 2;
	} else if (strcmp(spec, "syslog") == 0) {
		openlog("chat2api", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		sink = SINK_SYSLOG;
	} else if (strncmp(spec, "file:", 5) == 0 && spec[5] != '\0') {
		int fd = open(spec + 5, O_WRONLY | O_APPEND | O_CREAT |
		    O_CLOEXEC, 0640);
		if (fd < 0) {
			snprintf(err, errsz, "cannot open log file %s: %s",
			    spec + 5, strerror(errno));
			return -1;
		}
		sink = SINK_FILE;
		log_fd = fd;
	} else {
		snprintf(err, errsz, "accepts stderr, syslog or file:PATH");
		return -1;
	}
	return 0;
}

void
log_close(void)
{
	if (sink == SINK_FILE && log_fd > 2)
		close(log_fd);
	else if (sink == SINK_SYSLOG)
		closelog();
	sink = SINK_STDERR;
	log_fd = 2;
}

/* Control characters become \xNN so a request cannot inject log lines. */
static size_t
log_escape(char *dst, size_t dstsz, const char *src)
{
	size_t o = 0;
	const unsigned char *s;

	for (s = (const unsigned char *)src; *s && o + 5 < dstsz; s++) {
		if (*s < 0x20 || *s == 0x7f)
			o += (size_t)snprintf(dst + o, dstsz - o, "\\x%02x", *s);
		else
			dst[o++] = (char)*s;
	}
	dst[o] = '\0';
	return o;
}

static void
log_emit(enum log_level lvl, const char *fmt, va_list ap)
{
	char raw[2048], esc[4096], line[4200], ts[32];
	struct timespec now;
	struct tm tm;
	int n;
	ssize_t w;

	if (lvl > max_level)
		return;
	vsnprintf(raw, sizeof(raw), fmt, ap);
	log_escape(esc, sizeof(esc), raw);
	if (sink == SINK_SYSLOG) {
		syslog(syslog_prio[lvl], "%s", esc);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s.%03ldZ chat2api[%d] %s: %s\n",
	    ts, now.tv_nsec / 1000000, (int)getpid(), level_names[lvl], esc);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	/* One write() per line keeps lines whole across threads/processes. */
	do
		w = write(log_fd, line, (size_t)n);
	while (w < 0 && errno == EINTR);
}

#define LOG_FN(name, lvl)				\
void							\
name(const char *fmt, ...)				\
{							\
	va_list ap;					\
	va_start(ap, fmt);				\
	log_emit(lvl, fmt, ap);				\
	va_end(ap);					\
}
LOG_FN(log_error, LOG_LVL_ERROR)
LOG_FN(log_warn, LOG_LVL_WARN)
LOG_FN(log_info, LOG_LVL_INFO)
LOG_FN(log_debug, LOG_LVL_DEBUG)

void
log_fingerprint(const char *secret, char out[LOG_FP_LEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	if (secret == NULL) {
		strcpy(out, "-");
		return;
	}
	EVP_Digest(secret, strlen(secret), md, &mdlen, EVP_sha256(), NULL);
	for (i = 0; i < 6 && i < mdlen; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[12] = '\0';
}
