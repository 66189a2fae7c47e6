/*
 * examples/resp_proto.c - RESP2 for the RESP server: requests read out of
 * a connection's buffer as they arrive, whole or in pieces, and replies
 * queued in another buffer that goes out in one write per batch.
 *
 * Requests are RESP arrays of bulk strings, or inline lines ("SET k v",
 * split as Redis splits them: at blanks, with "..." and '...' quoting).
 * Limits, as Redis's: 512 MiB per argument, 2^20 arguments, 64 KiB per
 * inline request; buffers grow with the data actually received, up to
 * 1 GiB for one request, and shrink back once it is answered.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>

#include "resp.h"
#include "server.h"

#define BULK_MAX (512ll << 20)         /* bytes of one argument, as Redis */
#define ARGS_MAX (1ll << 20)           /* arguments of one request */
#define LINE_MAX_LEN (64u << 10)       /* inline request, "*N" or "$N" line */
#define QUERY_MAX ((size_t)1 << 30)    /* bytes of one request being read */
#define IN_MIN 16384                   /* input buffer of an idle client */
#define READ_MIN 4096                  /* grow the input below this much room */
#define ARGS_MIN 8                     /* argument slots of an idle client */
#define ARGS_KEEP 1024                 /* slots kept past an answered request */

void out_add(struct client *cl, const void *p, size_t n)
{
	if (cl->out_cap - cl->out_len < n) {
		cl->out_cap = cl->out_cap * 2 > cl->out_len + n ? cl->out_cap * 2
								: cl->out_len + n;
		cl->out = xrealloc(cl->out, cl->out_cap);
	}
	memcpy(cl->out + cl->out_len, p, n);
	cl->out_len += n;
}

void out_fmt(struct client *cl, const char *fmt, ...)
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
void out_num(struct client *cl, char type, long long v)
{
	char d[24];
	char *crlf = d + sizeof(d) - 2;

	crlf[0] = '\r';
	crlf[1] = '\n';
	char *start = example_format_ll(crlf, v);
	*--start = type;
	out_add(cl, start, (size_t)(d + sizeof(d) - start));
}

void out_bulk(struct client *cl, const char *p, size_t n)
{
	out_num(cl, '$', (long long)n);
	out_add(cl, p, n);
	out_lit(cl, "\r\n");
}

const char *shown(const char *p, size_t n, char buf[static 68])
{
	size_t i;
	for (i = 0; i < n && i < 64; i++)
		buf[i] = p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '?';
	strcpy(buf + i, i < n ? "..." : "");
	return buf;
}

int client_flush(struct client *cl)
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

int client_bad(struct client *cl, const char *what)
{
	out_fmt(cl, "-ERR Protocol error: %s\r\n", what);
	return BAD;
}

/* Optional '-', no '+', no leading zeros or blanks, within long long. */
bool parse_ll(const char *s, size_t n, long long *out)
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

static void resize_args(struct client *cl, size_t n)
{
	cl->args_cap = n;
	cl->span = xrealloc(cl->span, n * sizeof(*cl->span));
	cl->argv = xrealloc(cl->argv, n * sizeof(*cl->argv));
}

static void add_arg(struct client *cl, size_t i, size_t off, size_t n)
{
	if (i == cl->args_cap)
		resize_args(cl, cl->args_cap * 2);
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
		return avail >= LINE_MAX_LEN ? client_bad(cl, too_long) : NEED_MORE;
	*n = (size_t)(cr - s) + 2;
	if (*n > avail)
		return NEED_MORE;
	if (cr[1] != '\n' || !parse_ll(s + 1, *n - 3, v) || *v < lo || *v > hi)
		return client_bad(cl, invalid);
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
		return avail >= LINE_MAX_LEN ? client_bad(cl, "too big inline request") : NEED_MORE;
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
			return client_bad(cl, "unbalanced quotes in request");
		add_arg(cl, argc++, a, (size_t)len);
	}
	cl->argc = (int)argc;
	cl->used = (size_t)(nl - in) + 1;
	return DONE;
}

int client_parse(struct client *cl)
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
				return client_bad(cl, what);
			}
			r = number_line(cl, s, avail - cl->off, 0, BULK_MAX, &cl->bulk, &n,
					"too big bulk count string", "invalid bulk length");
			if (r != DONE)
				return r;
			cl->off += n;
		}
		size_t end = cl->off + (size_t)cl->bulk + 2;
		if (end > QUERY_MAX)
			return client_bad(cl, "request over 1 GiB");
		if (avail < end)
			return NEED_MORE;
		if (in[end - 2] != '\r' || in[end - 1] != '\n')
			return client_bad(cl, "expected CRLF after bulk");
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
 * shrink back after a big request, argument slots too. -1 if one request
 * outgrew QUERY_MAX. */
int client_make_room(struct client *cl)
{
	memmove(cl->in, cl->in + cl->pos, cl->len - cl->pos);
	cl->len -= cl->pos;
	cl->pos = 0;
	if (cl->cap - cl->len < READ_MIN && cl->cap < QUERY_MAX) {
		cl->cap *= 2;
		cl->in = xrealloc(cl->in, cl->cap);
	} else if (cl->cap > 16 * IN_MIN && cl->len < cl->cap / 4) {
		/* Mostly answered: shrink to twice what is pending, however
		 * much of a request that is (its offsets are from in[0], so a
		 * half read one stays valid). Growing leaves the buffer more
		 * than a quarter full, so reading one request never shrinks
		 * it. */
		size_t cap = IN_MIN;
		while (cap < 2 * cl->len)
			cap *= 2;
		cl->cap = cap;
		cl->in = xrealloc(cl->in, cl->cap);
	}
	/* Between requests the slots hold nothing; 2^20 of them (32 MiB, for
	 * 6 MiB of "$0\r\n\r\n") must not stay with an idle connection. */
	if (cl->want == 0 && cl->args_cap > ARGS_KEEP)
		resize_args(cl, ARGS_MIN);
	return cl->len < cl->cap ? 0 : -1;
}

/* The last id handed out; only client_new adds to it. Relaxed: nothing
 * is published through it, ids need only be unique. */
static atomic_ullong last_id;

struct client *client_new(ringo_conn *c)
{
	struct client *cl = xrealloc(NULL, sizeof(*cl));
	*cl = (struct client){ .c = c, .cap = IN_MIN, .out_cap = OUT_FLUSH };
	cl->id = atomic_fetch_add_explicit(&last_id, 1,
					   memory_order_relaxed) + 1;
	cl->in = xrealloc(NULL, cl->cap);
	cl->out = xrealloc(NULL, cl->out_cap);
	resize_args(cl, ARGS_MIN);
	return cl;
}

void client_free(struct client *cl)
{
	ringo_conn_close(cl->c);
	free(cl->span);
	free(cl->argv);
	free(cl->in);
	free(cl->out);
	free(cl);
}
