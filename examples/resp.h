/*
 * examples/resp.h - what the RESP server's three files share:
 *
 *   resp.c        the commands, one goroutine per connection, main
 *   resp_proto.c  reading requests out of a connection's buffer and
 *                 buffering its replies
 *   resp_store.c  the key-value store all connections share
 */
#ifndef RINGO_EXAMPLES_RESP_H
#define RINGO_EXAMPLES_RESP_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <ringo/ringo.h>

#define OUT_FLUSH 65536 /* write replies out past this many bytes */

static inline void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		fprintf(stderr, "resp: out of memory (%zu bytes)\n", n);
		abort(); /* as Redis does */
	}
	return p;
}

/* ---- resp_proto.c: a connection's requests and replies ---- */

struct arg {
	const char *p;
	size_t n;
};

struct span {                   /* an argument of a request being read */
	size_t off, n;          /* off: from the request's first byte */
};

/* One per connection, owned by its goroutine. Invariants: in[pos..len)
 * holds the bytes read but not yet answered, beginning at a request.
 * want == 0 between requests; while a multibulk request of `want`
 * arguments is read in part, span[0..have) holds those parsed and the
 * next byte to parse is in[pos + off]: the "$N" line of argument `have`
 * if bulk < 0, else its bulk bytes of data. Offsets are from pos, so
 * moving the unanswered bytes to in[0] keeps them valid. */
struct client {
	ringo_conn *c;
	unsigned long long id;   /* CLIENT ID: 1, 2, ... in accept order */
	char *in;
	size_t pos, len, cap;
	long long want, have, bulk;
	size_t off;
	struct span *span;
	struct arg *argv;
	size_t args_cap;
	int argc;                /* of the request parsed last */
	size_t used;             /* its bytes */
	char *out;
	size_t out_len, out_cap;
	bool quit;               /* close once the replies are out */
};


struct client *client_new(ringo_conn *c);
/* Close the connection and free cl. */
void client_free(struct client *cl);

enum { NEED_MORE, DONE, BAD };
/* Parse the request at in[pos..len), going on where the last call
 * stopped. DONE: its arguments are span[0..argc) and it is `used` bytes
 * long (argc may be 0: "*0", a blank line). BAD: the error reply is
 * queued. */
int client_parse(struct client *cl);
/* Make room to read into: -1 if one request outgrew the 1 GiB limit. */
int client_make_room(struct client *cl);
/* Queue "-ERR Protocol error: what"; returns BAD. */
int client_bad(struct client *cl, const char *what);
/* Write the queued replies: 0, or -1 if the connection failed. */
int client_flush(struct client *cl);

/* Queue reply bytes. */
void out_add(struct client *cl, const void *p, size_t n);
#define out_lit(cl, s) out_add(cl, s, sizeof(s) - 1)
void out_fmt(struct client *cl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A type byte, a number and CRLF (":42\r\n", "$5\r\n"). */
void out_num(struct client *cl, char type, long long v);
void out_bulk(struct client *cl, const char *p, size_t n);
/* Client bytes quoted in an error line: printable ASCII, at most 64. */
const char *shown(const char *p, size_t n, char buf[static 68]);

/* Strict decimal, as Redis reads numbers (lengths, INCR's values). */
bool parse_ll(const char *s, size_t n, long long *out);

/* ---- resp_store.c: keys and values, binary-safe ---- */

/* Call found(ctx, value) while key's shard is locked (the value may
 * change once it returns); false if the key is absent. */
bool store_get(const char *k, size_t kn,
	       void (*found)(void *ctx, const char *v, size_t vn), void *ctx);
void store_set(const char *k, size_t kn, const char *v, size_t vn);
bool store_del(const char *k, size_t kn);
/* Add one to key's value (absent: 0) and store it in *x; NULL, or the
 * error reply if the value is no integer or would overflow. */
const char *store_incr(const char *k, size_t kn, long long *x);
size_t store_size(void);

#endif
