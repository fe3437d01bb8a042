/*
 * The device registration (§5.1), MiniMax's credential exchange: a POST
 * with a fresh uuid names a device id the account's calls then carry in
 * their query.  It lasts three hours, so it is kept in LMDB
 * (store/tokcache.c) under the user and token: one registration serves
 * every process, and concurrent first uses wait for one.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fcgi/log.h"
#include "store/tokcache.h"
#include "upstream/minimax/internal.h"

#define MM_DEVICE_SCOPE	"minimax-device"
#define MM_DEVICE_EARLY	300	/* s: register again before it ends */

enum { EX_OK, EX_EXPIRED, EX_FAILED };

/* 0 with the device id, or EX_EXPIRED / EX_FAILED (the sink told). */
static int
exchange(void *u, char **value, int64_t *expires)
{
	struct mm_call *c = u;
	struct json_object *root, *data;
	struct mm_query q;
	enum mm_step st;
	const char *dev;
	char uuid[37], *body;

	*value = NULL;
	call_uuid4(uuid);
	/* the reference's registration query: a fresh uuid, device "null" */
	memset(&q, 0, sizeof(q));
	q.uuid = uuid;
	q.device_id = "null";
	q.user_id = c->cred.uid;
	if ((body = arena_printf(c->arena, "{\"uuid\":\"%s\"}", uuid)) ==
	    NULL)
		return EX_FAILED;
	st = mm_api(c, "device/register", MM_PATH_REGISTER, &q, body, &root);
	if (st == MM_STEP_EXPIRED)
		return EX_EXPIRED;
	if (st != MM_STEP_OK)
		return EX_FAILED;
	if (!json_object_object_get_ex(root, "data", &data) ||
	    (dev = mm_json_id(c, data, "deviceIDStr")) == NULL) {
		snprintf(c->msg, sizeof(c->msg), "device/register answered "
		    "no deviceIDStr");
		if (c->sink != NULL)
			call_fail(c->sink, 502, "upstream_error",
			    "upstream_error", "MiniMax device/register "
			    "answered no device id.");
		json_object_put(root);
		return EX_FAILED;
	}
	*value = strdup(dev);
	*expires = (int64_t)time(NULL) + MM_DEVICE_TTL - MM_DEVICE_EARLY;
	json_object_put(root);
	return *value != NULL ? EX_OK : EX_FAILED;
}

enum mm_step
mm_device(struct mm_call *c, int force)
{
	enum tokcache_how how = TOKCACHE_EXCHANGED;
	char *value = NULL, fp[LOG_FP_LEN];
	int64_t expires;
	int rc;

	if (c->store == NULL)
		rc = exchange(c, &value, &expires);
	else
		rc = tokcache_fetch(c->store, MM_DEVICE_SCOPE, c->cache_key,
		    force, exchange, c, c->idle, c->idle_ctx, &value, &how);
	if (rc == EX_OK) {
		c->device = arena_strdup(c->arena, value);
		free(value);
		if (c->device == NULL) {
			call_fail_nomem(c->sink);
			return MM_STEP_FAILED;
		}
		if (how == TOKCACHE_EXCHANGED) {
			log_fingerprint(c->cred.jwt, fp);
			log_info("minimax: device registered for %s", fp);
		}
		return MM_STEP_OK;
	}
	if (rc == EX_EXPIRED)
		return MM_STEP_EXPIRED;
	if (rc < 0 && c->sink != NULL)
		call_fail(c->sink, 503, "server_error", "store_error",
		    "The MiniMax device could not be %s.", rc ==
		    TOKCACHE_GAVE_UP ? "waited for" : "cached");
	return MM_STEP_FAILED;
}
