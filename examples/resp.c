/*
 * examples/resp.c - a RESP2 key-value server (a small Redis): one
 * goroutine per connection, one hash table shared by all of them.
 * redis-cli and redis-benchmark talk to it unchanged.
 *
 *   resp [--mode uring|epoll] [--addr HOST:PORT] [port]
 *
 *   GET key, SET key value, DEL key..., INCR key, PING [msg], ECHO msg,
 *   DBSIZE, QUIT, and what clients send as they connect: SELECT 0,
 *   CONFIG GET save|appendonly (a server that persists nothing),
 *   COMMAND [DOCS|COUNT] (no docs), CLIENT SETNAME|SETINFO (OK). HELLO is
 *   unknown, so clients stay on RESP2. Keys and values are binary-safe.
 *
 * Requests are RESP arrays of bulk strings, or inline lines ("SET k v",
 * split as Redis splits them: at blanks, with "..." and '...' quoting).
 * Each goroutine answers every complete request in its buffer and writes
 * the replies in one go before it reads again, so pipelined requests cost
 * one read and one write per batch (more only past 64 KiB of replies).
 * Limits, as Redis's: 512 MiB per argument, 2^20 arguments, 64 KiB per
 * inline request; buffers grow with the data actually received, up to
 * 1 GiB for one request. A malformed request is answered "-ERR Protocol
 * error: ..." and the connection closes.
 *
 * Listens on 127.0.0.1:6380 unless told otherwise (a bare port keeps the
 * host; 0 picks a free one) and prints "listening on ADDR", as
 * examples/echo does. Try
 *   ./resp &  redis-cli -p 6380 set k v;  redis-benchmark -p 6380 -t get,set -q
 */
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ringo/ringo.h>

#include "server.h"

#define BULK_MAX (512ll << 20)         /* bytes of one argument, as Redis */
#define ARGS_MAX (1ll << 20)           /* arguments of one request */
#define LINE_MAX_LEN (64u << 10)       /* inline request, "*N" or "$N" line */
#define QUERY_MAX ((size_t)1 << 30)    /* bytes of one request being read */
#define IN_MIN 16384                   /* input buffer of an idle client */
#define READ_MIN 4096                  /* grow the input below this much room */
#define OUT_FLUSH 65536                /* write replies out past this many */

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		fprintf(stderr, "resp: out of memory (%zu bytes)\n", n);
		abort(); /* as Redis does */
	}
	return p;
}

/* ========================================================================
 * The store: SHARDS chained hash tables, each behind its own mutex.
 * ===================================================================== */

#define SHARDS 64

struct entry {
	struct entry *next;
	uint64_t hash;
	size_t klen, vlen;
	char data[];            /* the key, then the value */
};

/* mu guards every other field and every entry reachable from slots.
 * Entries are replaced whole (SET, INCR) and freed after mu is released;
 * readers copy what they need out while they hold mu. */
static struct shard {
	_Alignas(64) ringo_mutex mu;  /* one cache line per shard */
	struct entry **slots;         /* mask + 1 chains; NULL when empty */
	size_t mask;
	size_t count;
} shards[SHARDS];

static uint64_t hash(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a ... */
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
	h ^= h >> 33; /* ... then a mix, so shard (top bits) and slot
			 * (low bits) both depend on every byte */
	h *= 0xff51afd7ed558ccdull;
	return h ^ (h >> 33);
}

static struct shard *shard_of(uint64_t h) { return &shards[h >> 58]; }

static struct entry *entry_new(uint64_t h, const char *k, size_t klen,
			       const char *v, size_t vlen)
{
	struct entry *e = xrealloc(NULL, sizeof(*e) + klen + vlen);
	*e = (struct entry){ .hash = h, .klen = klen, .vlen = vlen };
	memcpy(e->data, k, klen);
	memcpy(e->data + klen, v, vlen);
	return e;
}

/* The link that points at key's entry, or the NULL link ending its
 * chain. Caller holds s->mu and s->slots is not NULL. */
static struct entry **link_of(struct shard *s, uint64_t h, const char *k, size_t n)
{
	struct entry **pp = &s->slots[h & s->mask];
	while (*pp && ((*pp)->hash != h || (*pp)->klen != n ||
		       memcmp((*pp)->data, k, n) != 0))
		pp = &(*pp)->next;
	return pp;
}

static struct entry *lookup(struct shard *s, uint64_t h, const char *k, size_t n)
{
	return s->slots ? *link_of(s, h, k, n) : NULL;
}

/* Double the slots; the load factor stays at most 1. Caller holds s->mu. */
static void grow(struct shard *s)
{
	size_t n = s->slots ? (s->mask + 1) * 2 : 16;
	struct entry **t = xrealloc(NULL, n * sizeof(*t));
	memset(t, 0, n * sizeof(*t));
	for (size_t i = 0; s->slots && i <= s->mask; i++)
		for (struct entry *e = s->slots[i], *next; e; e = next) {
			next = e->next;
			e->next = t[e->hash & (n - 1)];
			t[e->hash & (n - 1)] = e;
		}
	free(s->slots);
	s->slots = t;
	s->mask = n - 1;
}

/* Link e in place of the entry with its key; returns that one (to be
 * freed once s->mu is released) or NULL. Caller holds s->mu. */
static struct entry *put(struct shard *s, struct entry *e)
{
	if (!s->slots || s->count > s->mask)
		grow(s);
	struct entry **pp = link_of(s, e->hash, e->data, e->klen);
	struct entry *old = *pp;
	e->next = old ? old->next : NULL;
	*pp = e;
	s->count += !old;
	return old;
}

/* ========================================================================
 * Connections: parsing requests and buffering replies.
 * ===================================================================== */

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

static void out_add(struct client *cl, const void *p, size_t n)
{
	if (cl->out_cap - cl->out_len < n) {
		cl->out_cap = cl->out_cap * 2 > cl->out_len + n ? cl->out_cap * 2
								: cl->out_len + n;
		cl->out = xrealloc(cl->out, cl->out_cap);
	}
	memcpy(cl->out + cl->out_len, p, n);
	cl->out_len += n;
}

#define out_lit(cl, s) out_add(cl, s, sizeof(s) - 1)

static void out_fmt(struct client *cl, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	out_add(cl, buf, n < (int)sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* A type byte, a signed number and CRLF (":42\r\n", "$5\r\n"): written
 * by hand: vsnprintf took ~5% of the server CPU of pipelined GETs (perf). */
static void out_num(struct client *cl, char type, long long v)
{
	char d[24];
	char *crlf = d + sizeof(d) - 2;

	crlf[0] = '\r';
	crlf[1] = '\n';
	char *start = example_format_ll(crlf, v);
	*--start = type;
	out_add(cl, start, (size_t)(d + sizeof(d) - start));
}

static void out_bulk(struct client *cl, const char *p, size_t n)
{
	out_num(cl, '$', (long long)n);
	out_add(cl, p, n);
	out_lit(cl, "\r\n");
}

/* Client bytes quoted in an error line: printable ASCII, at most 64. */
static const char *shown(const char *p, size_t n, char buf[static 68])
{
	size_t i;
	for (i = 0; i < n && i < 64; i++)
		buf[i] = p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '?';
	strcpy(buf + i, i < n ? "..." : "");
	return buf;
}

static int flush(struct client *cl)
{
	size_t len = cl->out_len;
	ssize_t r = len ? ringo_conn_write_all(cl->c, cl->out, len) : 0;
	cl->out_len = 0;
	if (cl->out_cap > 4 * OUT_FLUSH) { /* after a big value */
		cl->out_cap = OUT_FLUSH;
		cl->out = xrealloc(cl->out, cl->out_cap);
	}
	return r == (ssize_t)len ? 0 : -1;
}

enum { NEED_MORE, DONE, BAD };

static int bad(struct client *cl, const char *what)
{
	out_fmt(cl, "-ERR Protocol error: %s\r\n", what);
	return BAD;
}

/* Strict decimal, as Redis reads numbers: optional '-', no '+', no
 * leading zeros or blanks, within long long. */
static bool parse_ll(const char *s, size_t n, long long *out)
{
	bool neg = n > 1 && s[0] == '-';
	unsigned long long v = 0, max = neg ? (unsigned long long)LLONG_MAX + 1 : LLONG_MAX;
	size_t i = neg;
	if (n == i || n - i > 19 || (s[i] == '0' && (n - i > 1 || neg)))
		return false;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long long)(s[i] - '0');
	}
	if (v > max)
		return false; /* 19 digits cannot wrap an unsigned 64-bit */
	*out = neg ? -(long long)(v - 1) - 1 : (long long)v;
	return true;
}

static void add_arg(struct client *cl, size_t i, size_t off, size_t n)
{
	if (i == cl->args_cap) {
		cl->args_cap *= 2;
		cl->span = xrealloc(cl->span, cl->args_cap * sizeof(*cl->span));
		cl->argv = xrealloc(cl->argv, cl->args_cap * sizeof(*cl->argv));
	}
	cl->span[i] = (struct span){ off, n };
}

/* A "*N" or "$N" line at s[0..avail): its number (within [lo, hi]) in
 * *v and its length with "\r\n" in *n. NEED_MORE, DONE or BAD. */
static int number_line(struct client *cl, const char *s, size_t avail,
		       long long lo, long long hi, long long *v, size_t *n,
		       const char *too_long, const char *invalid)
{
	const char *cr = memchr(s, '\r', avail < LINE_MAX_LEN ? avail : LINE_MAX_LEN);
	if (!cr)
		return avail >= LINE_MAX_LEN ? bad(cl, too_long) : NEED_MORE;
	*n = (size_t)(cr - s) + 2;
	if (*n > avail)
		return NEED_MORE;
	if (cr[1] != '\n' || !parse_ll(s + 1, *n - 3, v) || *v < lo || *v > hi)
		return bad(cl, invalid);
	return DONE;
}

static int hex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0'
	     : c >= 'a' && c <= 'f' ? c - 'a' + 10
	     : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Blanks as Redis skips them between inline arguments (isspace() in the
 * C locale); a closing quote must be followed by one or end the line. */
static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
	       c == '\r';
}

/* The bytes that end an unquoted run; \v and \f do not, in Redis. */
static bool ends_word(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The quoted part of an inline argument, its opening quote q just read:
 * read from in[*rp] up to the closing quote and written unescaped from
 * in[*wp] on (never past what was read); both move past it. As redis-cli
 * quotes: "..." knows \n \r \t \b \a \xHH and any escaped byte as
 * itself, '...' only \'. False if the quote does not close, or closes
 * before something other than a blank. */
static bool unquote(char *in, size_t *rp, size_t *wp, size_t n, char q)
{
	size_t r = *rp, w = *wp;

	for (;;) {
		if (r >= n)
			return false;
		char c = in[r++];
		if (c == q)
			break;
		if (c == '\\' && r < n && q == '"') {
			c = in[r++];
			int hi, lo;
			if (c == 'x' && r + 1 < n && (hi = hex_digit(in[r])) >= 0 &&
			    (lo = hex_digit(in[r + 1])) >= 0) {
				c = (char)(hi << 4 | lo);
				r += 2;
			} else {
				c = c == 'n' ? '\n' : c == 'r' ? '\r' : c == 't' ? '\t'
				  : c == 'b' ? '\b' : c == 'a' ? '\a' : c;
			}
		} else if (c == '\\' && r < n && q == '\'' && in[r] == '\'') {
			c = in[r++];
		}
		in[w++] = c;
	}
	*rp = r;
	*wp = w;
	return r == n || is_blank(in[r]);
}

/* One inline argument starting at in[*i], not a blank, unescaped in
 * place from in[*i] on; *i moves past it. As Redis splits: a run of
 * bytes up to a blank, in which a quote - first or after other bytes -
 * opens a quoted part joined to what came before (a"b c" is "ab c") and
 * its closing quote ends the argument. Its length, or -1 for unbalanced
 * quotes (see unquote). */
static long inline_arg(char *in, size_t *i, size_t n)
{
	size_t r = *i, w = *i;

	while (r < n && !ends_word(in[r])) {
		char c = in[r++];
		if (c == '"' || c == '\'') {
			if (!unquote(in, &r, &w, n, c))
				return -1;
			break;
		}
		in[w++] = c;
	}
	long len = (long)(w - *i);
	*i = r;
	return len;
}

/* "SET k v\r\n": arguments split as inline_arg says, between blanks. */
static int parse_inline(struct client *cl)
{
	char *in = cl->in + cl->pos;
	size_t avail = cl->len - cl->pos;
	const char *nl = memchr(in, '\n', avail < LINE_MAX_LEN ? avail : LINE_MAX_LEN);
	if (!nl)
		return avail >= LINE_MAX_LEN ? bad(cl, "too big inline request") : NEED_MORE;
	size_t n = (size_t)(nl - in), i = 0, argc = 0;
	if (n > 0 && in[n - 1] == '\r')
		n--;
	while (i < n) {
		if (is_blank(in[i])) {
			i++;
			continue;
		}
		size_t a = i;
		long len = inline_arg(in, &i, n);
		if (len < 0)
			return bad(cl, "unbalanced quotes in request");
		add_arg(cl, argc++, a, (size_t)len);
	}
	cl->argc = (int)argc;
	cl->used = (size_t)(nl - in) + 1;
	return DONE;
}

/* Parse the request at in[pos..len), going on where the last call
 * stopped. DONE: its arguments are span[0..argc) and it is `used` bytes
 * long (argc may be 0: "*0", a blank line). */
static int parse(struct client *cl)
{
	const char *in = cl->in + cl->pos;
	size_t avail = cl->len - cl->pos, n;
	long long v;
	int r;

	if (avail == 0 && cl->want == 0)
		return NEED_MORE;
	if (cl->want == 0) {
		if (in[0] != '*')
			return parse_inline(cl);
		r = number_line(cl, in, avail, LLONG_MIN, ARGS_MAX, &v, &n,
				"too big mbulk count string", "invalid multibulk length");
		if (r != DONE)
			return r;
		if (v <= 0) { /* "*0", "*-1": nothing to do */
			cl->argc = 0;
			cl->used = n;
			return DONE;
		}
		cl->want = v;
		cl->have = 0;
		cl->off = n;
		cl->bulk = -1;
	}
	while (cl->have < cl->want) {
		if (cl->bulk < 0) {
			const char *s = in + cl->off;
			if (cl->off == avail)
				return NEED_MORE;
			if (*s != '$') {
				char what[40];
				snprintf(what, sizeof(what), "expected '$', got '%c'",
					 *s >= 0x20 && *s < 0x7f ? *s : '?');
				return bad(cl, what);
			}
			r = number_line(cl, s, avail - cl->off, 0, BULK_MAX, &cl->bulk, &n,
					"too big bulk count string", "invalid bulk length");
			if (r != DONE)
				return r;
			cl->off += n;
		}
		size_t end = cl->off + (size_t)cl->bulk + 2;
		if (end > QUERY_MAX)
			return bad(cl, "request over 1 GiB");
		if (avail < end)
			return NEED_MORE;
		if (in[end - 2] != '\r' || in[end - 1] != '\n')
			return bad(cl, "expected CRLF after bulk");
		add_arg(cl, (size_t)cl->have++, cl->off, (size_t)cl->bulk);
		cl->off = end;
		cl->bulk = -1;
	}
	cl->argc = (int)cl->want;
	cl->used = cl->off;
	cl->want = 0;
	return DONE;
}

/* Make room to read into: drop the bytes answered, then grow (doubling,
 * as data comes, never on a length the client only announced) or
 * shrink back after a big request. -1 if one request outgrew QUERY_MAX. */
static int make_room(struct client *cl)
{
	memmove(cl->in, cl->in + cl->pos, cl->len - cl->pos);
	cl->len -= cl->pos;
	cl->pos = 0;
	if (cl->cap - cl->len < READ_MIN && cl->cap < QUERY_MAX) {
		cl->cap *= 2;
		cl->in = xrealloc(cl->in, cl->cap);
	} else if (cl->cap > 16 * IN_MIN && cl->want == 0 && cl->len < IN_MIN / 2) {
		cl->cap = IN_MIN;
		cl->in = xrealloc(cl->in, cl->cap);
	}
	return cl->len < cl->cap ? 0 : -1;
}

/* ========================================================================
 * Commands
 * ===================================================================== */

static bool is(const struct arg *a, const char *word)
{
	return strlen(word) == a->n && strncasecmp(a->p, word, a->n) == 0;
}

static void cmd_get(struct client *cl, int argc, const struct arg *v)
{
	(void)argc;
	uint64_t h = hash(v[1].p, v[1].n);
	struct shard *s = shard_of(h);
	ringo_mutex_lock(&s->mu);
	struct entry *e = lookup(s, h, v[1].p, v[1].n);
	if (e)
		out_bulk(cl, e->data + e->klen, e->vlen);
	else
		out_lit(cl, "$-1\r\n");
	ringo_mutex_unlock(&s->mu);
}

static void cmd_set(struct client *cl, int argc, const struct arg *v)
{
	if (argc != 3) { /* EX, NX, GET, ... */
		out_lit(cl, "-ERR syntax error (only SET key value is supported)\r\n");
		return;
	}
	uint64_t h = hash(v[1].p, v[1].n);
	struct shard *s = shard_of(h);
	struct entry *e = entry_new(h, v[1].p, v[1].n, v[2].p, v[2].n);
	ringo_mutex_lock(&s->mu);
	struct entry *old = put(s, e);
	ringo_mutex_unlock(&s->mu);
	free(old);
	out_lit(cl, "+OK\r\n");
}

static void cmd_del(struct client *cl, int argc, const struct arg *v)
{
	long long deleted = 0;
	for (int i = 1; i < argc; i++) {
		uint64_t h = hash(v[i].p, v[i].n);
		struct shard *s = shard_of(h);
		struct entry *e = NULL;
		ringo_mutex_lock(&s->mu);
		if (s->slots) {
			struct entry **pp = link_of(s, h, v[i].p, v[i].n);
			if ((e = *pp)) {
				*pp = e->next;
				s->count--;
			}
		}
		ringo_mutex_unlock(&s->mu);
		deleted += e != NULL;
		free(e);
	}
	out_num(cl, ':', deleted);
}

static void cmd_incr(struct client *cl, int argc, const struct arg *v)
{
	(void)argc;
	uint64_t h = hash(v[1].p, v[1].n);
	struct shard *s = shard_of(h);
	long long x = 0;
	const char *err = NULL;
	struct entry *old = NULL;
	ringo_mutex_lock(&s->mu);
	struct entry *e = lookup(s, h, v[1].p, v[1].n);
	if (e && !parse_ll(e->data + e->klen, e->vlen, &x))
		err = "-ERR value is not an integer or out of range\r\n";
	else if (x == LLONG_MAX)
		err = "-ERR increment or decrement would overflow\r\n";
	else {
		char num[24];
		int n = snprintf(num, sizeof(num), "%lld", ++x);
		old = put(s, entry_new(h, v[1].p, v[1].n, num, (size_t)n));
	}
	ringo_mutex_unlock(&s->mu);
	free(old);
	if (err)
		out_add(cl, err, strlen(err));
	else
		out_num(cl, ':', x);
}

static void cmd_ping(struct client *cl, int argc, const struct arg *v)
{
	if (argc > 2)
		out_lit(cl, "-ERR wrong number of arguments for 'ping' command\r\n");
	else if (argc == 2)
		out_bulk(cl, v[1].p, v[1].n);
	else
		out_lit(cl, "+PONG\r\n");
}

static void cmd_echo(struct client *cl, int argc, const struct arg *v)
{
	(void)argc;
	out_bulk(cl, v[1].p, v[1].n);
}

static void cmd_dbsize(struct client *cl, int argc, const struct arg *v)
{
	(void)argc, (void)v;
	size_t n = 0;
	for (int i = 0; i < SHARDS; i++) {
		ringo_mutex_lock(&shards[i].mu);
		n += shards[i].count;
		ringo_mutex_unlock(&shards[i].mu);
	}
	out_num(cl, ':', (long long)n);
}

static void cmd_select(struct client *cl, int argc, const struct arg *v)
{
	(void)argc;
	if (is(&v[1], "0"))
		out_lit(cl, "+OK\r\n");
	else
		out_lit(cl, "-ERR DB index is out of range\r\n");
}

static void cmd_quit(struct client *cl, int argc, const struct arg *v)
{
	(void)argc, (void)v;
	out_lit(cl, "+OK\r\n");
	cl->quit = true;
}

/* redis-benchmark reads "save" and "appendonly" as it starts: answer as a
 * server that persists nothing; other parameters are not there. */
static void cmd_config(struct client *cl, int argc, const struct arg *v)
{
	if (!is(&v[1], "get") || argc < 3) {
		out_lit(cl, "-ERR only CONFIG GET is supported\r\n");
		return;
	}
	int found = 0;
	for (int i = 2; i < argc; i++)
		found += is(&v[i], "save") || is(&v[i], "appendonly");
	out_num(cl, '*', 2 * (long long)found);
	for (int i = 2; i < argc; i++)
		if (is(&v[i], "save"))
			out_lit(cl, "$4\r\nsave\r\n$0\r\n\r\n");
		else if (is(&v[i], "appendonly"))
			out_lit(cl, "$10\r\nappendonly\r\n$2\r\nno\r\n");
}

static void cmd_command(struct client *cl, int argc, const struct arg *v);

static void cmd_client(struct client *cl, int argc, const struct arg *v)
{
	(void)argc;
	if (is(&v[1], "setname") || is(&v[1], "setinfo"))
		out_lit(cl, "+OK\r\n"); /* names are not kept */
	else if (is(&v[1], "getname"))
		out_lit(cl, "$-1\r\n");
	else
		out_lit(cl, "-ERR only CLIENT SETNAME, SETINFO and GETNAME are supported\r\n");
}

static const struct command {
	const char *name;
	void (*run)(struct client *cl, int argc, const struct arg *v);
	int arity; /* as Redis's: n arguments (with the name), -n at least n */
} commands[] = {
	{ "get", cmd_get, 2 },          { "set", cmd_set, -3 },
	{ "del", cmd_del, -2 },         { "incr", cmd_incr, 2 },
	{ "ping", cmd_ping, -1 },       { "echo", cmd_echo, 2 },
	{ "dbsize", cmd_dbsize, 1 },    { "select", cmd_select, 2 },
	{ "quit", cmd_quit, -1 },       { "config", cmd_config, -2 },
	{ "command", cmd_command, -1 }, { "client", cmd_client, -2 },
};

#define COMMANDS_NR (sizeof(commands) / sizeof(commands[0]))

/* redis-cli asks for COMMAND DOCS to offer hints; without any it uses its
 * own. */
static void cmd_command(struct client *cl, int argc, const struct arg *v)
{
	if (argc == 1 || is(&v[1], "docs") || is(&v[1], "info"))
		out_lit(cl, "*0\r\n");
	else if (is(&v[1], "count"))
		out_num(cl, ':', (long long)COMMANDS_NR);
	else
		out_lit(cl, "-ERR only COMMAND, COMMAND DOCS, INFO and COUNT are supported\r\n");
}

static void run(struct client *cl, int argc, const struct arg *v)
{
	char name[68];
	for (size_t i = 0; i < COMMANDS_NR; i++) {
		const struct command *cmd = &commands[i];
		if (!is(&v[0], cmd->name))
			continue;
		if (cmd->arity >= 0 ? argc != cmd->arity : argc < -cmd->arity)
			out_fmt(cl, "-ERR wrong number of arguments for '%s' command\r\n",
				cmd->name);
		else
			cmd->run(cl, argc, v);
		return;
	}
	out_fmt(cl, "-ERR unknown command '%s'\r\n", shown(v[0].p, v[0].n, name));
}

/* ========================================================================
 * Serving
 * ===================================================================== */

static void serve(void *arg)
{
	struct client *cl = arg;
	int one = 1, r = NEED_MORE;

	setsockopt(ringo_conn_fd(cl->c), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (;;) {
		while (!cl->quit && (r = parse(cl)) == DONE) {
			for (int i = 0; i < cl->argc; i++)
				cl->argv[i] = (struct arg){ cl->in + cl->pos + cl->span[i].off,
							    cl->span[i].n };
			if (cl->argc > 0)
				run(cl, cl->argc, cl->argv);
			cl->pos += cl->used;
			if (cl->out_len >= OUT_FLUSH && flush(cl) < 0)
				goto out;
		}
		if (cl->quit || r == BAD)
			break;
		if (flush(cl) < 0)
			goto out;
		if (make_room(cl) < 0) {
			bad(cl, "request over 1 GiB");
			break;
		}
		ssize_t n = ringo_conn_read(cl->c, cl->in + cl->len, cl->cap - cl->len);
		if (n <= 0)
			goto out; /* the client closed, or reset */
		cl->len += (size_t)n;
	}
	/* QUIT, or a protocol error: answer, then close gracefully. Unread
	 * input would make close send a reset that can destroy the last
	 * replies before the client reads them, so send FIN and drain a
	 * little first. */
	if (flush(cl) == 0) {
		ringo_conn_shutdown(cl->c, SHUT_WR);
		ringo_conn_set_read_deadline(cl->c, ringo_now() + RINGO_SECOND);
		for (int i = 0; i < 128 && ringo_conn_read(cl->c, cl->in, cl->cap) > 0; i++)
			;
	}
out:
	ringo_conn_close(cl->c);
	free(cl->span);
	free(cl->argv);
	free(cl->in);
	free(cl->out);
	free(cl);
}

static struct client *client_new(ringo_conn *c)
{
	struct client *cl = xrealloc(NULL, sizeof(*cl));
	*cl = (struct client){ .c = c, .cap = IN_MIN, .args_cap = 8,
			       .out_cap = OUT_FLUSH };
	cl->in = xrealloc(NULL, cl->cap);
	cl->out = xrealloc(NULL, cl->out_cap);
	cl->span = xrealloc(NULL, cl->args_cap * sizeof(*cl->span));
	cl->argv = xrealloc(NULL, cl->args_cap * sizeof(*cl->argv));
	return cl;
}

static void start(ringo_conn *c)
{
	ringo_go(serve, client_new(c));
}

static int main_g(void *arg)
{
	return example_serve("resp", arg, start);
}

int main(int argc, char **argv)
{
	struct ringo_config cfg = { 0 };
	const char *address = "127.0.0.1:6380", *port = NULL;
	char buf[RINGO_ADDR_STRLEN + 8];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc) {
			cfg.netpoll = argv[++i];
		} else if (strcmp(argv[i], "--addr") == 0 && i + 1 < argc &&
			   strlen(argv[i + 1]) < RINGO_ADDR_STRLEN) {
			address = argv[++i];
		} else if (argv[i][0] != '-' && strlen(argv[i]) < 8 &&
			   !argv[i][strspn(argv[i], "0123456789")]) {
			port = argv[i];
		} else {
			fprintf(stderr, "usage: %s [--mode uring|epoll] "
				"[--addr HOST:PORT] [port]\n", argv[0]);
			return 2;
		}
	}
	const char *colon = strrchr(address, ':');
	int host = colon ? (int)(colon - address) : (int)strlen(address);
	if (port) /* replaces the port of the address */
		snprintf(buf, sizeof(buf), "%.*s:%s", host, address, port);
	else
		snprintf(buf, sizeof(buf), "%s", address);
	return ringo_run_config(&cfg, main_g, buf);
}
