/*
 * connect.h - Connect-RPC envelopes, the framing of Kimi's streaming Chat
 * call (protocols/providers.md §4.2, §4.4; the Connect protocol's
 * "streaming" message format).
 *
 * An envelope is five bytes of header -- one byte of flags, then the
 * payload length as an unsigned 32-bit big-endian number -- followed by
 * that many bytes of payload (here UTF-8 JSON).  Flag 0x01 says the
 * payload is compressed (we never ask for compression, so it is an
 * error), flag 0x02 marks the end-of-stream envelope, the last one of a
 * response: its JSON may carry {"error":{"code","message"}} and
 * {"metadata":{"name":["value",...]}} (the trailers).
 *
 * The reader takes the response body in chunks of any size -- a boundary
 * may fall inside the five-byte header as well as inside the payload --
 * and calls back once per complete envelope.  An envelope that lies
 * whole inside one chunk is handed over in place; only one cut by a
 * chunk boundary is copied, into one buffer reused across envelopes.
 *
 * Errors are sticky: once kc_feed() or kc_finish() failed, every later
 * call returns the same error.
 */
#ifndef UPSTREAM_KIMI_CONNECT_H
#define UPSTREAM_KIMI_CONNECT_H

#include <stddef.h>

#include "fcgi/buf.h"

#define KC_HEADER_LEN		5
#define KC_FLAG_COMPRESSED	0x01
#define KC_FLAG_END		0x02
#define KC_MAX_MESSAGE		(1u << 20)	/* default payload limit */
#define KC_CODE_MAX		64	/* bytes of an error code kept */
#define KC_MSG_MAX		512	/* bytes of an error message kept */
#define KC_JSON_DEPTH		16

enum kc_err {
	KC_OK = 0,
	KC_ENOMEM,
	KC_TOOBIG,	/* a payload over the reader's limit */
	KC_COMPRESSED,	/* flag 0x01: a compression we never asked for */
	KC_FLAGS,	/* flag bits the protocol does not define */
	KC_TRAILING,	/* bytes after the end-of-stream envelope */
	KC_TRUNCATED,	/* the body ended inside an envelope */
	KC_ABORT,	/* the callback asked to stop */
	KC__MAX
};

/*
 * One complete envelope: its flags and payload (len bytes, not
 * NUL-terminated, valid only during the call).  Non-zero stops the
 * reader (KC_ABORT).
 */
typedef int	(*kc_message_fn)(void *ctx, unsigned flags,
		    const char *payload, size_t len);

/* Reader state; the fields are private to connect.c. */
struct kc_reader {
	kc_message_fn	 fn;
	void		*ctx;
	size_t		 max;		/* payload limit */
	unsigned char	 head[KC_HEADER_LEN];
	size_t		 hlen;		/* header bytes held */
	size_t		 need;		/* payload length, once hlen == 5 */
	char		*buf;		/* a payload cut by a chunk boundary */
	size_t		 have, cap;
	int		 ended;		/* end-of-stream envelope seen */
	enum kc_err	 err;
};

/* max 0: KC_MAX_MESSAGE.  Does not allocate. */
void		 kc_init(struct kc_reader *, kc_message_fn, void *ctx,
		    size_t max);
enum kc_err	 kc_feed(struct kc_reader *, const void *, size_t);
/* End of the body: KC_TRUNCATED when it stopped inside an envelope. */
enum kc_err	 kc_finish(struct kc_reader *);
/* The end-of-stream envelope has been read. */
int		 kc_ended(const struct kc_reader *);
void		 kc_free(struct kc_reader *);
const char	*kc_strerror(enum kc_err);

/*
 * One envelope of len payload bytes into out (KC_HEADER_LEN + len bytes).
 * -1 when len does not fit the 32-bit length.
 */
int		 kc_frame(unsigned char *out, unsigned flags, const char *payload,
		    size_t len);

/* What an end-of-stream envelope (or a Connect error body) says. */
struct kc_end {
	int	 error;			/* an "error" object was there */
	char	 code[KC_CODE_MAX + 1];	/* "" when it named none */
	char	 message[KC_MSG_MAX + 1];	/* one line, valid UTF-8 */
	long	 retry_after;		/* metadata retry-after, s; or -1 */
};

/*
 * Reads an end-of-stream payload: {} or {"error":{...},"metadata":{...}};
 * an empty payload counts as {}.  Also reads the body of a unary error,
 * {"code","message"}, when unary is set.  -1 when it is not a JSON
 * object.
 */
int		 kc_end_parse(const char *payload, size_t len, int unary,
		    struct kc_end *);

/*
 * The HTTP status the Connect protocol gives an error code
 * ("unauthenticated" 401, "resource_exhausted" 429, "unavailable" 503
 * ...); -1 for a code it does not define.
 */
int		 kc_code_status(const char *code);


#endif
