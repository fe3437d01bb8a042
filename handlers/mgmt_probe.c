/*
 * Providers online or offline (mgmt.h): one probe per provider that has
 * accounts (upstream/probe.h), cached per process for MGMT_REACH_TTL_S
 * so the console's refresh and the API stay fast.  The probes of one
 * round run side by side, a thread each, so a round takes one timeout
 * at worst; one round at a time per process, the others wait for it.
 */
#include "config.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#include "fcgi/log.h"
#include "handlers/mgmt.h"
#include "upstream/probe.h"
#include "upstream/provider.h"

#define REACH_MAX	16	/* providers in the table, with room */

struct reach {
	time_t		at;	/* 0: never probed */
	long		status;
	enum up_err	err;
};

static struct reach	 reach_cache[REACH_MAX];
static pthread_mutex_t	 reach_mu = PTHREAD_MUTEX_INITIALIZER;

struct job {
	const char	*url, *proxy;
	long		 status;
	enum up_err	 err;
	pthread_t	 thread;
	int		 run;	/* 1: to probe; 2: its thread started */
};

static void *
job_run(void *arg)
{
	struct job *j = arg;

	j->err = probe_reach(j->url, j->proxy, &j->status);
	http_thread_cleanup();
	return NULL;
}

/* Accounts the provider's row counts (0 when the row has none). */
static long long
row_accounts(struct json_object *row)
{
	struct json_object *v;

	return row != NULL && json_object_object_get_ex(row, "accounts", &v) ?
	    (long long)json_object_get_int64(v) : 0;
}

static void
reach_fields(struct json_object *row, const struct reach *r)
{
	int up = r->err == UP_OK;

	json_object_object_add(row, "online", json_object_new_boolean(up));
	json_object_object_add(row, "checked_at",
	    json_object_new_int64((int64_t)r->at));
	if (up)
		json_object_object_add(row, "probe_status",
		    json_object_new_int64(r->status));
	else
		json_object_object_add(row, "probe_error",
		    json_object_new_string(up_strerror(r->err)));
}

void
mgmt_reach_add(const struct config *cfg, struct json_object *rows)
{
	struct job jobs[REACH_MAX];
	struct json_object *row;
	struct reach got[REACH_MAX];
	time_t now = time(NULL);
	size_t i, n;

	memset(jobs, 0, sizeof(jobs));
	pthread_mutex_lock(&reach_mu);
	for (n = 0; n < REACH_MAX && providers[n] != NULL; n++) {
		row = NULL;
		json_object_object_get_ex(rows, providers[n]->id, &row);
		jobs[n].url = probe_base(cfg, providers[n]->id);
		if (row_accounts(row) <= 0 || jobs[n].url == NULL ||
		    (reach_cache[n].at != 0 &&
		    now - reach_cache[n].at < MGMT_REACH_TTL_S))
			continue;
		jobs[n].proxy = probe_proxy(cfg);
		jobs[n].run = 1;
		if (pthread_create(&jobs[n].thread, NULL, job_run,
		    &jobs[n]) == 0)
			jobs[n].run = 2;
		else
			job_run(&jobs[n]);	/* no thread: in this one */
	}
	for (i = 0; i < n; i++) {
		if (jobs[i].run == 2)
			pthread_join(jobs[i].thread, NULL);
		if (jobs[i].run == 0)
			continue;
		reach_cache[i].at = time(NULL);
		reach_cache[i].status = jobs[i].status;
		reach_cache[i].err = jobs[i].err;
		if (jobs[i].err != UP_OK)
			log_info("provider %s unreachable: %s", providers[i]->id,
			    up_strerror(jobs[i].err));
	}
	memcpy(got, reach_cache, sizeof(got));
	pthread_mutex_unlock(&reach_mu);

	for (i = 0; i < n; i++) {
		if (!json_object_object_get_ex(rows, providers[i]->id, &row))
			continue;
		if (row_accounts(row) > 0 && got[i].at != 0)
			reach_fields(row, &got[i]);
		else	/* no account: nobody needs it, nothing asked */
			json_object_object_add(row, "online", NULL);
	}
}
