/*
 * Structured output (response_format) on top of web chats that have
 * none, emulated the way tools are (providers.md §10.7): the request
 * side validates response_format and its schema (jschema.c), the prompt
 * side adds our instruction (and the schema, compact) to the system
 * message, and rf_sink holds the answer until it is checked.  An answer
 * that does not fit gets one repair round trip (chat_attempt.c asks the
 * same account again with the bad answer and the validator's message);
 * a second miss is a 502 invalid_structured_output, never invalid JSON.
 */
#ifndef HANDLERS_RFORMAT_H
#define HANDLERS_RFORMAT_H

#include <stddef.h>

#include <json-c/json.h>

#include "fcgi/arena.h"
#include "fcgi/buf.h"
#include "handlers/jschema.h"
#include "upstream/provider.h"

#define RF_NAME_MAX	64		/* [A-Za-z0-9_-]{1,64}, as OpenAI */
#define RF_MAX_DESC	4096		/* bytes of json_schema.description */
#define RF_MAX_ANSWER	(1u << 20)	/* bytes of a held answer */

/* The start of our instruction and of the correction (mocks look). */
#define RF_MARK		"Answer format: reply with one JSON"
#define RF_REPAIR_MARK	"Your previous answer was not valid"

enum rf_err {
	RF_OK,
	RF_ENOMEM,
	RF_INVALID,	/* the answer does not fit */
};

const char	*rf_strerror(enum rf_err);

enum rf_type { RF_TEXT, RF_JSON_OBJECT, RF_JSON_SCHEMA };

struct rf_req {
	enum rf_type		 type;
	const char		*name;		/* RF_JSON_SCHEMA */
	const char		*description;	/* or NULL */
	struct json_object	*schema;	/* in the body; or NULL: any */
	const char		*schema_text;	/* compact, in the arena */
	int			 strict;
};

struct chat_req_error;

/* "response_format" of the body root.  0, or -1 with e filled (400). */
int	 rf_request_parse(struct arena *, struct json_object *root,
	    struct rf_req *, struct chat_req_error *);
/* Our instruction (NUL-terminated, in the arena), or NULL. */
char	*rf_prompt_text(struct arena *, const struct rf_req *);
/* Adds it to the system message (a new one if there is none): 0 or -1. */
int	 rf_prompt_apply(struct arena *, struct chat_request *,
	    const struct rf_req *);
/*
 * out: cr's history, the bad answer as the assistant's turn and our
 * correction naming why.  0, or -1 out of memory.
 */
int	 rf_repair_request(struct arena *, const struct chat_request *cr,
	    const char *bad, size_t badlen, const char *why,
	    struct chat_request *out);

/* The JSON inside blanks and one ```json fence: *off, *len. */
void	 rf_unfence(const char *, size_t, size_t *off, size_t *len);
/*
 * Checks an answer: RF_OK with the JSON, re-written compact and strict
 * (json-c takes single quotes), in out; or RF_INVALID with msg saying
 * why.
 */
enum rf_err rf_check(const struct rf_req *, const char *s, size_t n,
	    struct buf *out, char *msg, size_t msgsz);

/* The filter in front of the OpenAI writer (or of tools_sink's down). */
struct oa_sink;

struct rf_sink {
	const struct chat_sink	*down;
	struct oa_sink		*oa;
	const struct rf_req	*rf;
	struct buf		 text;		/* the answer, held */
	struct buf		 json;		/* what goes out */
	int			 round;		/* 1: the repair answer */
	int			 need_repair;	/* round 0 did not fit */
	int			 ended;
	char			 why[JSCHEMA_MSG_MAX];
};

void	 rf_sink_init(struct rf_sink *, const struct rf_req *,
	    struct oa_sink *, const struct chat_sink *down);
void	 rf_sink_bind(struct rf_sink *, struct chat_sink *);
/* Before the repair call: the held answer is dropped, round 1 starts. */
void	 rf_sink_round(struct rf_sink *);
/* The repair could not be asked: the error goes out now. */
void	 rf_sink_fail(struct rf_sink *);
void	 rf_sink_free(struct rf_sink *);

#endif
