/*
 * fastmock_providers.c - bench/fastmock's canned answers of the other
 * providers: DeepSeek (with its PoW challenge, DeepSeekHashV1), Qwen AI,
 * Z.ai, Kimi, GLM and Qwen China.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "fastmock.h"

/* ------------------------------------------------------------------ */
/* DeepSeek (protocols/providers.md §2) */

/*
 * DeepSeekHashV1 (§2.6): SHA3-256 whose Keccak-f[1600] skips the first
 * round.  Plain and slow (it runs once, at start), written from the
 * description in §2.6 and kept apart from chat2api's upstream/deepseek/
 * pow.c, so that a challenge chat2api solves here is also a check of the
 * two against each other.
 */
#define DS_RATE		136
#define DS_HASH_LEN	32
#define DS_SALT		"fa57c0defa57c0de0123"
#define DS_SIGNATURE	"5157ed0000000000000000000000000000000000000000000000" \
			"000000000000"
#define DS_EXPIRE_AT	4102444800000LL		/* 2100-01-01, ms */

static uint64_t
rotl64(uint64_t v, int n)
{
	return n == 0 ? v : (v << n) | (v >> (64 - n));
}

static void
ds_permute(uint64_t a[25])
{
	static const uint64_t rc[24] = {
		0x0000000000000001ULL, 0x0000000000008082ULL,
		0x800000000000808aULL, 0x8000000080008000ULL,
		0x000000000000808bULL, 0x0000000080000001ULL,
		0x8000000080008081ULL, 0x8000000000008009ULL,
		0x000000000000008aULL, 0x0000000000000088ULL,
		0x0000000080008009ULL, 0x000000008000000aULL,
		0x000000008000808bULL, 0x800000000000008bULL,
		0x8000000000008089ULL, 0x8000000000008003ULL,
		0x8000000000008002ULL, 0x8000000000000080ULL,
		0x000000000000800aULL, 0x800000008000000aULL,
		0x8000000080008081ULL, 0x8000000000008080ULL,
		0x0000000080000001ULL, 0x8000000080008008ULL,
	};
	/* rotation of lane (x, y), indexed [x][y] */
	static const int rot[5][5] = {
		{ 0, 36, 3, 41, 18 }, { 1, 44, 10, 45, 2 },
		{ 62, 6, 43, 15, 61 }, { 28, 55, 25, 21, 56 },
		{ 27, 20, 39, 8, 14 },
	};
	uint64_t c[5], d[5], b[25];
	int	 i, x, y;

	for (i = 1; i < 24; i++) {		/* round 0 is skipped */
		for (x = 0; x < 5; x++)
			c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^
			    a[x + 20];
		for (x = 0; x < 5; x++)
			d[x] = c[(x + 4) % 5] ^ rotl64(c[(x + 1) % 5], 1);
		for (y = 0; y < 5; y++)
			for (x = 0; x < 5; x++)
				a[x + 5 * y] ^= d[x];
		for (y = 0; y < 5; y++)
			for (x = 0; x < 5; x++)
				b[y + 5 * ((2 * x + 3 * y) % 5)] =
				    rotl64(a[x + 5 * y], rot[x][y]);
		for (y = 0; y < 5; y++)
			for (x = 0; x < 5; x++)
				a[x + 5 * y] = b[x + 5 * y] ^
				    (~b[(x + 1) % 5 + 5 * y] &
				    b[(x + 2) % 5 + 5 * y]);
		a[0] ^= rc[i];
	}
}

static void
ds_hash(const char *msg, size_t len, unsigned char out[DS_HASH_LEN])
{
	unsigned char	 blk[DS_RATE];
	uint64_t	 a[25];
	size_t		 off = 0, n, k;
	int		 last = 0;

	memset(a, 0, sizeof(a));
	while (!last) {
		n = len - off < DS_RATE ? len - off : DS_RATE;
		memset(blk, 0, sizeof(blk));
		memcpy(blk, msg + off, n);
		off += n;
		if (n < DS_RATE) {		/* the padding fits here */
			blk[n] ^= 0x06;
			blk[DS_RATE - 1] ^= 0x80;
			last = 1;
		}
		for (k = 0; k < DS_RATE; k++)
			a[k / 8] ^= (uint64_t)blk[k] << (8 * (k % 8));
		ds_permute(a);
	}
	for (k = 0; k < DS_HASH_LEN; k++)
		out[k] = (unsigned char)(a[k / 8] >> (8 * (k % 8)));
}

static void
ds_hex(const unsigned char *h, size_t n, char *out)
{
	size_t	 k;

	for (k = 0; k < n; k++) {
		out[2 * k] = "0123456789abcdef"[h[k] >> 4];
		out[2 * k + 1] = "0123456789abcdef"[h[k] & 15];
	}
	out[2 * n] = '\0';
}

static char *
ds_envelope(const char *biz_data, size_t *lenp)
{
	char	*body, *resp;

	if (asprintf(&body, "{\"code\":0,\"msg\":\"\",\"data\":{\"biz_code\":0,"
	    "\"biz_msg\":\"\",\"biz_data\":%s}}", biz_data) < 0)
		fm_die("out of memory");
	resp = fm_full_response("application/json", body, lenp);
	free(body);
	return resp;
}

void
fm_build_deepseek(void)
{
	unsigned char	 h[DS_HASH_LEN];
	char		 hex[2 * DS_HASH_LEN + 1], msg[128], *biz;
	int		 n;

	/* §2.6's vector of H("salt_1700000000_0") first */
	ds_hash("salt_1700000000_0", 17, h);
	ds_hex(h, sizeof(h), hex);
	if (strcmp(hex, "eb1554b3f98c63cde3da0be54e8e8d6f0328c6a78ebb096aad42"
	    "b9d406546c45") != 0)
		fm_die("DeepSeekHashV1 self-test failed");
	n = snprintf(msg, sizeof(msg), "%s_%lld_%ld", DS_SALT, DS_EXPIRE_AT,
	    fm_ds_difficulty / 2);
	ds_hash(msg, (size_t)n, h);
	ds_hex(h, sizeof(h), hex);

	fm_ds_user_resp = ds_envelope("{\"id\":\"u\",\"email\":\"b@example.com\","
	    "\"token\":\"bench-bearer\"}", &fm_ds_user_len);
	if (asprintf(&biz, "{\"challenge\":{\"algorithm\":\"DeepSeekHashV1\","
	    "\"challenge\":\"%s\",\"salt\":\"" DS_SALT "\",\"signature\":\""
	    DS_SIGNATURE "\",\"difficulty\":%ld,\"expire_at\":%lld,"
	    "\"expire_after\":300000,\"target_path\":\"" DS_TARGET "\"}}",
	    hex, fm_ds_difficulty, DS_EXPIRE_AT) < 0)
		fm_die("out of memory");
	fm_ds_pow_resp = ds_envelope(biz, &fm_ds_pow_len);
	free(biz);
	fm_ds_delete_resp = ds_envelope("null", &fm_ds_delete_len);

	/* §2.7, as the real stream orders it */
	fm_canned_add(&fm_sse_ds, "event: ready\ndata: {\"request_message_id\":1,"
	    "\"response_message_id\":2}\n\n");
	fm_canned_add(&fm_sse_ds, "event: update_session\ndata: {\"updated_at\":"
	    "1736175600.123456}\n\n");
	fm_canned_add(&fm_sse_ds, "data: {\"v\":{\"response\":{\"message_id\":2,"
	    "\"parent_id\":1,\"model\":\"\",\"role\":\"ASSISTANT\","
	    "\"thinking_enabled\":false,\"ban_edit\":false,"
	    "\"ban_regenerate\":false,\"status\":\"WIP\","
	    "\"accumulated_token_usage\":null,\"files\":[],\"feedback\":null,"
	    "\"inserted_at\":1736175600.1,\"search_enabled\":false,"
	    "\"fragments\":[],\"has_pending_fragment\":true,"
	    "\"auto_continue\":false}}}\n\n");
	fm_canned_add(&fm_sse_ds, "data: {\"v\":[{\"v\":false,\"p\":"
	    "\"has_pending_fragment\"},{\"v\":[{\"id\":1,\"type\":\"RESPONSE\","
	    "\"content\":\"%s\",\"references\":[],\"stage_id\":1}],"
	    "\"p\":\"fragments\",\"o\":\"APPEND\"}],\"p\":\"response\","
	    "\"o\":\"BATCH\"}\n\n", fm_words[0]);
	for (n = 1; n <= fm_snapshots; n++) {
		if (n == 1)
			fm_canned_add(&fm_sse_ds, "data: {\"v\":\"%s\",\"p\":"
			    "\"response/fragments/-1/content\","
			    "\"o\":\"APPEND\"}\n\n",
			    fm_words[(size_t)n % NWORDS]);
		else
			fm_canned_add(&fm_sse_ds, "data: {\"v\":\"%s\"}\n\n",
			    fm_words[(size_t)n % NWORDS]);
	}
	fm_canned_add(&fm_sse_ds, "data: {\"v\":[{\"v\":\"FINISHED\","
	    "\"p\":\"status\"},{\"v\":%d,\"p\":\"accumulated_token_usage\"}],"
	    "\"p\":\"response\",\"o\":\"BATCH\"}\n\n", 20 + fm_snapshots);
	fm_canned_add(&fm_sse_ds, "event: finish\ndata: {}\n\n");
	fm_canned_add(&fm_sse_ds, "event: update_session\ndata: {\"updated_at\":"
	    "1736175601.234567}\n\n");
	fm_canned_add(&fm_sse_ds, "event: title\ndata: {\"content\":\"Fastmock\"}"
	    "\n\n");
	fm_canned_add(&fm_sse_ds, "event: close\ndata: {\"click_behavior\":\"none\","
	    "\"auto_resume\":false}\n\n");
}

/* Qwen AI (§7.4): an answer in -n deltas, then finished with usage. */
void
fm_build_qwenai(void)
{
	int	 n;

	fm_canned_add(&fm_sse_qa, "data: {\"response.created\":{\"chat_id\":"
	    "\"fastmock\",\"parent_id\":\"p\",\"response_id\":\"r\"}}\n\n");
	for (n = 0; n < fm_snapshots; n++)
		fm_canned_add(&fm_sse_qa, "data: {\"choices\":[{\"delta\":{%s"
		    "\"content\":\"%s\",\"phase\":\"answer\",\"status\":"
		    "\"typing\"}}],\"usage\":{\"input_tokens\":9,"
		    "\"output_tokens\":%d}}\n\n", n == 0 ? "\"role\":"
		    "\"assistant\"," : "", fm_words[(size_t)n % NWORDS], n + 1);
	fm_canned_add(&fm_sse_qa, "data: {\"choices\":[{\"delta\":{\"content\":"
	    "\"\",\"phase\":\"answer\",\"status\":\"finished\","
	    "\"finish_reason\":\"stop\"}}],\"usage\":{\"input_tokens\":9,"
	    "\"output_tokens\":%d,\"total_tokens\":%d}}\n\n", fm_snapshots,
	    9 + fm_snapshots);
	fm_canned_add(&fm_sse_qa, "data: [DONE]\n\n");
}

/* ------------------------------------------------------------------ */
/* Z.ai (protocols/providers.md §8) */

#define ZAI_EVENT	"data: {\"type\":\"chat:completion\",\"data\":"

void
fm_build_zai(void)
{
	int	 n;

	/* the same words as the DeepSeek answer, one delta each */
	for (n = 0; n <= fm_snapshots; n++)
		fm_canned_add(&fm_sse_zai, ZAI_EVENT "{\"phase\":\"answer\","
		    "\"delta_content\":\"%s\"}}\n\n",
		    fm_words[(size_t)n % NWORDS]);
	fm_canned_add(&fm_sse_zai, ZAI_EVENT "{\"phase\":\"other\",\"usage\":"
	    "{\"prompt_tokens\":9,\"completion_tokens\":%d,"
	    "\"total_tokens\":%d}}}\n\n", 11 + fm_snapshots, 20 + fm_snapshots);
	fm_canned_add(&fm_sse_zai, ZAI_EVENT "{\"phase\":\"done\",\"done\":true,"
	    "\"delta_content\":\"\"}}\n\n");
}

/* ------------------------------------------------------------------ */
/* Kimi (protocols/providers.md §4) */

void
fm_build_kimi(void)
{
	int	 n;

	fm_kimi_refresh_resp = fm_full_response("application/json",
	    "{\"access_token\":\"" KIMI_ACCESS "\"}", &fm_kimi_refresh_len);
	fm_kimi_sub_resp = fm_full_response("application/json", "{\"subscription\":"
	    "{\"userId\":\"benchkimi\",\"userName\":\"fastmock\","
	    "\"type\":\"TYPE_FREE\"}}", &fm_kimi_sub_len);
	fm_kimi_delete_resp = fm_full_response("application/json", "{}",
	    &fm_kimi_delete_len);
	fm_sse_kimi.ctype = "application/connect+json";
	fm_canned_env(&fm_sse_kimi, 0, "{\"op\":\"set\",\"mask\":\"chat\","
	    "\"eventOffset\":1,\"chat\":{\"id\":\"fastmock-chat\","
	    "\"name\":\"Fastmock\"}}");
	fm_canned_env(&fm_sse_kimi, 0, "{\"op\":\"set\",\"mask\":\"message\","
	    "\"eventOffset\":2,\"message\":{\"id\":\"fastmock-msg\","
	    "\"role\":\"assistant\",\"status\":\"MESSAGE_STATUS_GENERATING\"}}");
	for (n = 0; n <= fm_snapshots; n++)
		fm_canned_env(&fm_sse_kimi, 0, "{\"op\":\"%s\",\"mask\":\"%s\","
		    "\"eventOffset\":%d,\"block\":{\"id\":\"0\",\"text\":"
		    "{\"content\":\"%s\"}}}", n ? "append" : "set", n ?
		    "block.text.content" : "block.text", n + 3,
		    fm_words[(size_t)n % NWORDS]);
	fm_canned_env(&fm_sse_kimi, 0, "{\"done\":{}}");
	fm_canned_env(&fm_sse_kimi, KIMI_END, "{}");
}

/* ------------------------------------------------------------------ */
/* GLM (protocols/providers.md §3) */

#define GLM_SNAP \
	"data: {\"conversation_id\":\"" GLM_CID "\",\"status\":\"%s\"," \
	"\"parts\":[{\"logic_id\":\"fastmock-part-1\",\"status\":\"%s\"," \
	"\"content\":[{\"type\":\"text\",\"text\":\"%s\"}]," \
	"\"meta_data\":{}}],\"last_error\":{}}\n\n"

void
fm_build_glm(void)
{
	char	 text[1024];
	int	 k;

	fm_glm_refresh_resp = fm_full_response("application/json", "{\"status\":0,"
	    "\"message\":\"success\",\"result\":{\"access_token\":"
	    "\"bench-glm-access\",\"user\":{\"id\":\"u\",\"email\":"
	    "\"b@example.com\"}}}", &fm_glm_refresh_len);
	fm_glm_delete_resp = fm_full_response("application/json", "{\"status\":0,"
	    "\"message\":\"success\",\"result\":{}}", &fm_glm_delete_len);
	/* §3.6: every snapshot carries the whole text so far */
	fm_canned_add(&fm_sse_glm, "data: {\"conversation_id\":\"" GLM_CID "\","
	    "\"status\":\"init\",\"parts\":[],\"last_error\":{}}\n\n");
	for (k = 1; k <= fm_snapshots; k++) {
		fm_text_upto(k, text, sizeof(text));
		fm_canned_add(&fm_sse_glm, GLM_SNAP, "processing", "init", text);
	}
	fm_canned_add(&fm_sse_glm, GLM_SNAP, "processing", "finish", text);
	fm_canned_add(&fm_sse_glm, GLM_SNAP, "finish", "finish", text);
}

/* ------------------------------------------------------------------ */
/* Qwen China (protocols/providers.md §6) */

/* §6.3: every event the whole answer so far, then complete. */
void
fm_build_qwen(void)
{
	char	 text[1024];
	int	 k;

	for (k = 1; k <= fm_snapshots + 1; k++) {
		fm_text_upto(k < fm_snapshots ? k : fm_snapshots, text, sizeof(text));
		fm_canned_add(&fm_sse_qw, "%sdata: {\"communication\":{\"sessionid\":"
		    "\"fastmock-session\",\"reqid\":\"fastmock-req\"},\"data\":"
		    "{\"messages\":[{\"mime_type\":\"multi_load/iframe\","
		    "\"content\":\"%s\",\"status\":\"%s\",\"meta_data\":"
		    "{\"multi_load\":[]}}]},\"error_code\":0,\"error_msg\":\"\"}"
		    "\n\n", k > fm_snapshots ? "event: complete\n" : "", text,
		    k < fm_snapshots ? "processing" : "finished");
	}
}
