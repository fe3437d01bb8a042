/*
 * Stored answers of POST /v1/responses (previous_response_id, GET and
 * DELETE /v1/responses/{id}): one JSON record per response id, sealed
 * with the store key, with an expiry.  The owner (a MAC of the key the
 * client presented) is bound into the seal, so another key's id reads
 * as not found.
 */
#ifndef STORE_RESPONSES_H
#define STORE_RESPONSES_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define RSP_STORE_MAX		(4u << 20)	/* bytes of one record */
#define RSP_STORE_ID_MAX	64
#define RSP_STORE_PRUNE_AT	512	/* records before expired ones go */
#define RSP_STORE_PRUNE_SCAN	16	/* records looked at per put */

enum store_err	 rsp_store_put(struct store *, const char *id,
		    const char *owner, const char *json, size_t len,
		    int64_t ttl_s);
/* *json malloc'd and NUL-terminated; STORE_NOTFOUND: none, expired, or
 * another owner's. */
enum store_err	 rsp_store_get(struct store *, const char *id,
		    const char *owner, char **json, size_t *len);
enum store_err	 rsp_store_del(struct store *, const char *id,
		    const char *owner);

#endif
