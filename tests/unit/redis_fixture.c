/* A redis-server per test program: see redis_fixture.h. */
#include "config.h"

#define _XOPEN_SOURCE_EXTRA 1
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <hiredis/hiredis.h>

#include "redis_fixture.h"

#define FIXTURES_MAX	8

struct redis_fixture {
	char	dir[64];
	char	pass[128];
	char	cert[256], key[256];	/* TLS only: no plain port */
	int	port;
	pid_t	owner;		/* the process that may kill it at exit */
};

static struct redis_fixture	*all[FIXTURES_MAX];
static unsigned			 url_seq;

static int
free_port(void)
{
	struct sockaddr_in	sa;
	socklen_t		len = sizeof(sa);
	int			s, port = -1;

	if ((s = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(s, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(s);
	return port;
}

static void
sleep_ms(long ms)
{
	struct timespec	ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* The pid from the server's pidfile (it may have been restarted by a
 * forked test, so the fixture does not keep it). */
static pid_t
server_pid(const struct redis_fixture *f)
{
	char	path[128];
	FILE	*fp;
	long	pid = -1;

	snprintf(path, sizeof(path), "%s/redis.pid", f->dir);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	if (fscanf(fp, "%ld", &pid) != 1)
		pid = -1;
	fclose(fp);
	return (pid_t)pid;
}

/* A TLS server cannot be pinged in clear: its log says when it is up. */
static int
log_says_ready(const struct redis_fixture *f)
{
	char	path[128], line[512];
	FILE	*fp;
	int	ok = 0;

	snprintf(path, sizeof(path), "%s/redis.log", f->dir);
	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	while (!ok && fgets(line, sizeof(line), fp) != NULL)
		ok = strstr(line, "Ready to accept connections") != NULL;
	fclose(fp);
	return ok;
}

static int
answers(const struct redis_fixture *f)
{
	struct timeval	 tv = { 0, 200000 };
	redisContext	*c = redisConnectWithTimeout("127.0.0.1", f->port, tv);
	redisReply	*r = NULL;
	int		 ok = 0;

	if (c != NULL && !c->err) {
		if (f->pass[0] != '\0')
			freeReplyObject(redisCommand(c, "AUTH %s", f->pass));
		r = redisCommand(c, "PING");
		ok = r != NULL && r->type == REDIS_REPLY_STATUS;
	}
	if (r != NULL)
		freeReplyObject(r);
	if (c != NULL)
		redisFree(c);
	return ok;
}

static int
spawn(struct redis_fixture *f)
{
	const char	*bin = "redis-server";
	char		 port[8], pidf[128], logf[128];
	const char	*av[40];
	pid_t		 pid;
	int		 n = 0, i, fd;

	snprintf(port, sizeof(port), "%d", f->port);
	snprintf(pidf, sizeof(pidf), "%s/redis.pid", f->dir);
	snprintf(logf, sizeof(logf), "%s/redis.log", f->dir);
	av[n++] = bin;
	if (f->cert[0] != '\0') {
		av[n++] = "--port"; av[n++] = "0";
		av[n++] = "--tls-port"; av[n++] = port;
		av[n++] = "--tls-cert-file"; av[n++] = f->cert;
		av[n++] = "--tls-key-file"; av[n++] = f->key;
		av[n++] = "--tls-ca-cert-file"; av[n++] = f->cert;
		av[n++] = "--tls-auth-clients"; av[n++] = "no";
	} else {
		av[n++] = "--port"; av[n++] = port;
	}
	av[n++] = "--bind"; av[n++] = "127.0.0.1";
	av[n++] = "--save"; av[n++] = "";
	av[n++] = "--appendonly"; av[n++] = "yes";
	av[n++] = "--appendfsync"; av[n++] = "always";
	av[n++] = "--dir"; av[n++] = f->dir;
	av[n++] = "--pidfile"; av[n++] = pidf;
	av[n++] = "--logfile"; av[n++] = logf;
	if (f->pass[0] != '\0') {
		av[n++] = "--requirepass";
		av[n++] = f->pass;
	}
	av[n] = NULL;
	if (f->cert[0] != '\0' && (fd = open(logf, O_WRONLY | O_TRUNC)) >= 0)
		close(fd);	/* "ready" must be this start's */
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		if ((fd = open("/dev/null", O_RDWR)) >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		setsid();	/* a ^C to the test does not reach it first */
		execvp(bin, (char *const *)av);
		execv("/usr/bin/redis-server", (char *const *)av);
		_exit(127);
	}
	for (i = 0; i < 250; i++) {	/* 5 s */
		if (f->cert[0] != '\0' ? log_says_ready(f) : answers(f))
			return 0;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -1;
		sleep_ms(20);
	}
	kill(pid, SIGKILL);
	return -1;
}

int
redis_fixture_stop(struct redis_fixture *f)
{
	pid_t	pid = server_pid(f);
	int	i;

	if (pid <= 0)
		return -1;
	kill(pid, SIGTERM);
	for (i = 0; i < 500; i++) {	/* 5 s */
		waitpid(pid, NULL, WNOHANG);
		if (kill(pid, 0) < 0 && errno == ESRCH)
			return 0;
		sleep_ms(10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return 0;
}

int
redis_fixture_restart(struct redis_fixture *f)
{
	return spawn(f);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void
redis_fixture_free(struct redis_fixture *f)
{
	unsigned	i;

	if (f == NULL)
		return;
	redis_fixture_stop(f);
	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	for (i = 0; i < FIXTURES_MAX; i++)
		if (all[i] == f)
			all[i] = NULL;
	free(f);
}

static void
at_exit(void)
{
	unsigned	i;

	for (i = 0; i < FIXTURES_MAX; i++)
		if (all[i] != NULL && all[i]->owner == getpid())
			redis_fixture_free(all[i]);
}

struct redis_fixture *
redis_fixture_start(const char *password)
{
	return redis_fixture_start_tls(password, NULL, NULL);
}

struct redis_fixture *
redis_fixture_start_tls(const char *password, const char *cert,
    const char *key)
{
	static int		 registered;
	struct redis_fixture	*f;
	unsigned		 i;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	if (cert != NULL && key != NULL) {
		snprintf(f->cert, sizeof(f->cert), "%s", cert);
		snprintf(f->key, sizeof(f->key), "%s", key);
	}
	snprintf(f->dir, sizeof(f->dir), "/tmp/c2a-redis-XXXXXX");
	if (password != NULL)
		snprintf(f->pass, sizeof(f->pass), "%s", password);
	f->owner = getpid();
	if (mkdtemp(f->dir) == NULL || (f->port = free_port()) < 0 ||
	    spawn(f) < 0) {
		fprintf(stderr, "redis_fixture: cannot start redis-server "
		    "(apt-get install redis-server)\n");
		if (f->dir[0] != '\0')
			nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		free(f);
		return NULL;
	}
	if (!registered) {
		atexit(at_exit);
		registered = 1;
	}
	for (i = 0; i < FIXTURES_MAX; i++)
		if (all[i] == NULL) {
			all[i] = f;
			break;
		}
	return f;
}

const char *
redis_fixture_url(struct redis_fixture *f, int db, char *buf, size_t bufsz)
{
	snprintf(buf, bufsz, "redis://%s%s%s127.0.0.1:%d/%d?prefix=t%ld_%u:",
	    f->pass[0] != '\0' ? ":" : "", f->pass,
	    f->pass[0] != '\0' ? "@" : "", f->port, db, (long)getpid(),
	    url_seq++);
	return buf;
}

const char *
redis_fixture_dir(const struct redis_fixture *f)
{
	return f->dir;
}

int
redis_fixture_port(const struct redis_fixture *f)
{
	return f->port;
}
