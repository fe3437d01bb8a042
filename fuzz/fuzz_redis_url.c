/*
 * fuzz_redis_url.c - libFuzzer driver for kvr_url_parse() (store/
 * kv_redis_url.c), the CHAT2API_STORE=redis://... parser.
 *
 * Oracle: an accepted URL has a non-empty host of at most 255 bytes, a
 * port 1..65535, a db 0..15, a prefix of at most 64 printable bytes and
 * a password of at most 512; the description shows the credentials as
 * user:*** and does not change with the password's bytes.
 * A refused URL comes with a message.
 *
 *   make fuzz-redis-url, then ./fuzz/fuzz_redis_url fuzz/corpus/redis_url
 *
 * -DFUZZ_STANDALONE replays the corpus instead (make check).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/kv_redis_priv.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kvr_url	 u;
	char		*s = malloc(size + 1), err[256], desc[KVR_URL_MAX];
	char		 desc2[KVR_URL_MAX];
	struct kvr_url	 u2;
	size_t		 i, plen, o;

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	err[0] = '\0';
	if (kvr_url_parse(s, &u, err, sizeof(err)) == 0) {
		if (u.host[0] == '\0' || strlen(u.host) > KVR_HOST_MAX ||
		    u.port < 1 || u.port > 65535 || u.db < 0 ||
		    u.db > KVR_DB_MAX || strlen(u.prefix) > KVR_PREFIX_MAX ||
		    strlen(u.pass) > KVR_PASS_MAX)
			abort();
		for (i = 0; u.prefix[i] != '\0'; i++)
			if ((unsigned char)u.prefix[i] <= 0x20 ||
			    (unsigned char)u.prefix[i] >= 0x7f)
				abort();
		kvr_url_describe(&u, desc, sizeof(desc));
		plen = strlen(u.pass);
		/* the credentials come out as "redis[s]://user:***@" */
		o = 8 + (size_t)u.tls;
		if (strncmp(desc, u.tls ? "rediss://" : "redis://", o) != 0 ||
		    (plen > 0 && (strncmp(desc + o, u.user, strlen(u.user)) ||
		    strncmp(desc + o + strlen(u.user), ":***@", 5))))
			abort();
		/* a CA file only with TLS, and an absolute path */
		if (u.ca[0] != '\0' && (!u.tls || u.ca[0] != '/'))
			abort();
		/* and nothing else depends on the password: another one
		 * of the same length gives the same description */
		u2 = u;
		for (i = 0; i < plen; i++)
			u2.pass[i] = u.pass[i] == 'x' ? 'y' : 'x';
		kvr_url_describe(&u2, desc2, sizeof(desc2));
		if (strcmp(desc, desc2) != 0)
			abort();
	} else if (err[0] == '\0')
		abort();
	free(s);
	return 0;
}

#ifdef FUZZ_STANDALONE
#define FUZZ_CORPUS "redis_url"
#include "fuzz/replay.h"
#endif
