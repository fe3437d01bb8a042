/*
 * chat2api: mode detection and start-up.  FastCGI when fd 0 is a listening
 * socket (spawn-fcgi, lighttpd bin-path, mod_fcgid) or with --listen;
 * plain CGI otherwise.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "fcgi/conf.h"
#include "fcgi/log.h"
#include "fcgi/server.h"
#include "handlers/accounts_ops.h"
#include "handlers/cli.h"
#include "handlers/handlers.h"
#include "store/store.h"

struct refresh_job {
	const struct config	*cfg;
	struct store		*st;
};

/*
 * SCHEDULED_REFRESH: a non-forced refresh of every account that has
 * something to refresh, off the request path so the first request is not
 * delayed.
 */
static void *
refresh_main(void *arg)
{
	struct refresh_job *j = arg;
	size_t ok = 0, failed = 0;

	if (accounts_refresh_all(j->cfg, j->st, 0, &ok, &failed) == 0)
		log_info("scheduled refresh: %zu refreshed, %zu failed", ok,
		    failed);
	handlers_thread_done();
	return NULL;
}

static void
start_refresh(struct refresh_job *j)
{
	pthread_attr_t attr;
	pthread_t t;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, refresh_main, j) != 0)
		log_warn("scheduled refresh: cannot start its thread");
	pthread_attr_destroy(&attr);
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: chat2api [--listen unix:PATH | --listen HOST:PORT]\n"
	    "       chat2api tokens add|list|remove|clear|errors-clear|export\n"
	    "       chat2api accounts add|list|remove|enable|disable|set|"
	    "validate\n"
	    "       chat2api keys add|list|enable|disable|remove\n"
	    "       chat2api models map|unmap|list|route\n"
	    "       chat2api sessions list|prune|clear [PROVIDER]|end ID\n"
	    "       chat2api refresh [--force]\n"
	    "       chat2api --help | --version\n"
	    "\n"
	    "An OpenAI-compatible API in front of the ChatGPT and DeepSeek web\n"
	    "backends, as a FastCGI or CGI responder.  Mode: FastCGI when fd 0 is a\n"
	    "listening socket or --listen is given, CGI otherwise.\n"
	    "See chat2api(8).\n\n");
	config_usage(f);
}

/* Under spawn-fcgi fds 1 and 2 may be closed; keep files off them. */
static void
guard_fds(void)
{
	int fd;

	for (fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF)
			if (open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) < 0)
				_exit(111);
}

/*
 * The store and its key.  A Redis that is not up yet (a host booting
 * before it) is waited for up to STORE_START_WAIT seconds, so a
 * supervisor does not see a worker die for it; a CGI request never
 * waits.
 */
#define STORE_START_WAIT	60

static enum store_err
open_store(const struct config *cfg, struct store **out, int cgi, char *err,
    size_t errsz)
{
	struct store *st = NULL;
	enum store_err se;
	int waited;

	*out = NULL;
	for (waited = 0; ; waited++) {
		se = store_open_backend(&st, cfg->store, cfg->data_dir,
		    (size_t)cfg->map_size);
		if (se == STORE_OK && (se = store_key_init(st, cfg->secret_key,
		    err, errsz)) != STORE_OK) {
			store_close(st);
			st = NULL;
		} else if (se != STORE_OK)
			snprintf(err, errsz, "CHAT2API_DATA_DIR=%s: %s",
			    cfg->data_dir, store_strerror(se));
		if (se != STORE_UNAVAILABLE || cgi || waited >= STORE_START_WAIT)
			break;
		if (waited == 0)
			log_warn("store: unreachable at start; waiting up to "
			    "%d s", STORE_START_WAIT);
		sleep(1);
	}
	*out = st;
	return se;
}

int
main(int argc, char **argv)
{
	struct config cfg;
	struct store *st = NULL;
	struct refresh_job job;
	enum log_level lvl = LOG_LVL_INFO;
	const char *listen_spec = NULL;
	char err[512];
	int i, fd = -1, ret = 1, cgi;
	enum store_err se;

	guard_fds();
	if (cli_wants(argc, argv)) {
		if (config_load(&cfg, err, sizeof(err)) < 0) {
			log_error("%s", err);
			return 2;
		}
		/* The CLI logs to stderr whatever the service uses. */
		log_level_parse(cfg.log_level, &lvl);
		log_open("stderr", lvl < LOG_LVL_WARN ? lvl : LOG_LVL_WARN, err,
		    sizeof(err));
		signal(SIGPIPE, SIG_IGN);
		if (handlers_init(&cfg) < 0) {
			log_error("the HTTP client could not be set up");
			return 1;
		}
		ret = cli_run(&cfg, argc, argv);
		handlers_thread_done();
		handlers_cleanup();
		config_free(&cfg);
		return ret;
	}
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("%s %s\n", PACKAGE, PACKAGE_VERSION);
			return 0;
		} else if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
			listen_spec = argv[++i];
		} else if (strncmp(argv[i], "--listen=", 9) == 0) {
			listen_spec = argv[i] + 9;
		} else {
			log_error("unknown argument: %s (see --help)", argv[i]);
			return 2;
		}
	}
	if (config_load(&cfg, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return 2;
	}
	log_level_parse(cfg.log_level, &lvl);
	if (log_open(cfg.log_spec, lvl, err, sizeof(err)) < 0) {
		log_error("CHAT2API_LOG=%s: %s", cfg.log_spec, err);
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	if (handlers_init(&cfg) < 0) {
		log_error("the HTTP client could not be set up "
		    "(curl_global_init failed)");
		goto out;
	}

	if (listen_spec != NULL) {
		if ((fd = server_listen(listen_spec, err, sizeof(err))) < 0) {
			log_error("--listen %s: %s", listen_spec, err);
			goto out;
		}
		cgi = 0;
	} else
		cgi = FCGX_IsCGI();
	if (!cgi && FCGX_Init() != 0) {
		log_error("FCGX_Init failed");
		goto out;
	}
	se = open_store(&cfg, &st, cgi, err, sizeof(err));
	if (se != STORE_OK) {
		log_error("%s", err);
		/* CGI still answers (with 500s for what needs the store). */
		if (!cgi) {
			/* no thread runs yet: nothing can still use these */
			handlers_cleanup();
			config_free(&cfg);
			goto out;
		}
	}
	/* Tests move the store's clock to the next day; nobody else may. */
	if (st != NULL && cfg.test_routes && cfg.test_clock_skew)
		store_set_clock_skew(st, cfg.test_clock_skew);
	if (!cgi && st != NULL && cfg.scheduled_refresh) {
		job.cfg = &cfg;
		job.st = st;
		start_refresh(&job);
	}
	if (cgi)
		ret = server_run_cgi(&cfg, st);
	else
		ret = server_run_fcgi(&cfg, st, fd >= 0 ? fd : 0);
	if (ret == 0)
		store_close(st);
	else
		store_sync(st);
	st = NULL;
out:
	if (st != NULL)
		store_close(st);
	if (ret == 0) {
		handlers_cleanup();
		config_free(&cfg);
	}
	log_close();
	return ret;
}
