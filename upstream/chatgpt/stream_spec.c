/*
 * stream_spec.c - what the ChatGPT stream decoder reads of an event and
 * of a v1 document: the skim.c specs of stream.c's parse and of
 * stream_v1.c's pruning, in one place so both read the same list.
 */
#include "config.h"

#include <stddef.h>

#include "upstream/chatgpt/skim.h"
#include "upstream/chatgpt/stream_internal.h"

/*
 * An old-format event is the whole message so far (text cumulative) with
 * metadata this decoder never reads, so json-c's full tree is quadratic
 * work in the answer's length.  skim.c validates the event and builds
 * only the members below: every key cgs_convert() and cgs_typed() read, and the
 * keys the dispatch in chatgpt_stream_event() tests.  A key added to
 * those readers must be added here too (the unit tests and the fuzz
 * driver compare this path with json-c's, opts.json_only).  v1 lines
 * the fast path does not take are read by skim.c too, whole, which
 * spares json-c's per-call locale switch.
 *
 * A v1 document is parsed whole (deltas may add to it) and pruned to
 * cgs_doc_spec once set (stream_v1.c).
 */
#define SKIM_SPEC(keys, elem)	{ keys, sizeof(keys) / sizeof(keys[0]), elem }

static const struct skim_key	 sk_role[] = { { "role", NULL } };
static const struct skim_key	 sk_part[] = {
	{ "content_type", NULL }, { "asset_pointer", NULL } };
static const struct skim_key	 sk_thought[] = { { "content", NULL } };
static const struct skim_key	 sk_link[] = {
	{ "url", NULL }, { "title", NULL } };
static const struct skim_key	 sk_type[] = { { "type", NULL } };
static const struct skim_key	 sk_blocked[] = { { "blocked", NULL } };

static const struct skim_spec	 sp_author = SKIM_SPEC(sk_role, NULL);
static const struct skim_spec	 sp_part = SKIM_SPEC(sk_part, NULL);
static const struct skim_spec	 sp_parts = { NULL, 0, &sp_part };
static const struct skim_spec	 sp_thought = SKIM_SPEC(sk_thought, NULL);
static const struct skim_spec	 sp_thoughts = { NULL, 0, &sp_thought };
static const struct skim_spec	 sp_link = SKIM_SPEC(sk_link, NULL);

static const struct skim_key	 sk_cite[] = { { "metadata", &sp_link } };
static const struct skim_spec	 sp_cite = SKIM_SPEC(sk_cite, NULL);
static const struct skim_spec	 sp_cites = { NULL, 0, &sp_cite };
static const struct skim_spec	 sp_fdetails = SKIM_SPEC(sk_type, NULL);

static const struct skim_key	 sk_content[] = {
	{ "content_type", NULL }, { "parts", &sp_parts }, { "text", NULL },
	{ "language", NULL }, { "thoughts", &sp_thoughts } };
static const struct skim_key	 sk_meta[] = {
	{ "citations", &sp_cites }, { "finish_details", &sp_fdetails } };
static const struct skim_spec	 sp_content = SKIM_SPEC(sk_content, NULL);
static const struct skim_spec	 sp_meta = SKIM_SPEC(sk_meta, NULL);

static const struct skim_key	 sk_msg[] = {
	{ "id", NULL }, { "author", &sp_author }, { "status", NULL },
	{ "recipient", NULL }, { "end_turn", NULL },
	{ "content", &sp_content }, { "metadata", &sp_meta } };
static const struct skim_spec	 sp_msg = SKIM_SPEC(sk_msg, NULL);
static const struct skim_spec	 sp_mod = SKIM_SPEC(sk_blocked, NULL);

/* What cgs_convert() reads of a v1 document (stream_v1.c prunes to it). */
static const struct skim_key	 sk_doc[] = {
	{ "message", &sp_msg }, { "conversation_id", NULL },
	{ "error", NULL } };
const struct skim_spec		 cgs_doc_spec = SKIM_SPEC(sk_doc, NULL);

static const struct skim_key	 sk_event[] = {
	{ "message", &sp_msg }, { "conversation_id", NULL },
	{ "error", NULL }, { "type", NULL },
	{ "moderation_response", &sp_mod }, { "v", NULL } };
const struct skim_spec		 cgs_event_spec = SKIM_SPEC(sk_event, NULL);
