/*
 * examples/http.c - a small HTTP/1.1 server with one goroutine per
 * connection. Each goroutine reads requests one after another out of its
 * connection's buffer (so pipelined requests are answered in order),
 * keeps the connection alive as HTTP/1.1 asks, and closes on errors.
 *
 *   http [--mode uring|epoll] [--file PATH] [--addr HOST:PORT] [port]
 *
 *   GET|HEAD /      200 "hello\n"
 *   GET|HEAD /file  the file given by --file (read with ringo_file_*, so
 *                   in uring mode no thread blocks on the disk), else 404
 *   other paths     404;  other methods 405
 *   bad request line (answered as soon as it is complete) or header, or
 *   HTTP/1.1 without Host, 400; head over 8 KiB 431, body over 1 MiB 413,
 *   Transfer-Encoding 501: each answered (with no body to a HEAD), then
 *   the connection closes.
 *   "Expect: 100-continue" (HTTP/1.1) gets "100 Continue" before the
 *   body is read, unless all of it has arrived already.
 *   Every reply carries Date, Content-Type, Content-Length and Connection.
 *
 * Listens on every local address at port 8080 unless told otherwise
 * (--addr HOST:PORT; a bare port keeps the host; port 0 picks a free
 * one) and prints "listening on ADDR", as examples/echo does. Try
 *   ./http 8080 &  curl -v localhost:8080/
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ringo/ringo.h>

#include "server.h"

#define HEAD_MAX 8192                  /* bytes of request line + headers */
#define BODY_MAX (1 << 20)             /* bytes of a request body */
#define IDLE (30 * RINGO_SECOND)       /* to wait for the next request */

static const char *file_path; /* --file, or NULL */

/* One per connection, owned by its goroutine.
 * Invariant: in[0..len) holds bytes read but not yet consumed, which
 * always begin at the start of a request (pipelined ones queue here). */
struct client {
	ringo_conn *c;
	time_t date_sec;  /* the second date_line holds, 0 before the first */
	char date_line[48];
	size_t len;
	char in[HEAD_MAX];
	char out[16384]; /* file chunks */
};

enum { M_GET, M_HEAD, M_OTHER };

struct request {
	int method;
	const char *path;       /* points into in[], not NUL-terminated, so */
	size_t path_len;        /* valid only until the head is consumed */
	bool http11, close, keep_alive, te;
	bool cont;              /* HTTP/1.1 with "Expect: 100-continue" */
	uint64_t length;        /* Content-Length, capped at BODY_MAX + 1 */
	bool has_length;
};

static bool is_tchar(unsigned char ch) /* RFC 9110 token character */
{
	return ch > 0x20 && ch < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", ch);
}

static bool all(const char *s, size_t n, bool (*ok)(unsigned char))
{
	for (size_t i = 0; i < n; i++)
		if (!ok((unsigned char)s[i]))
			return false;
	return n > 0;
}

static bool is_vchar(unsigned char ch) { return ch > 0x20 && ch < 0x7f; }

/* Field values: visible bytes, SP, HTAB and obs-text; no other controls. */
static bool is_fchar(unsigned char ch)
{
	return ch == '\t' || (ch >= 0x20 && ch != 0x7f);
}

static bool eq(const char *s, size_t n, const char *lit) /* ASCII, no case */
{
	return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

/* Does the comma-separated list v[0..n) hold `token`? */
static bool has_token(const char *v, size_t n, const char *token)
{
	size_t i = 0;
	while (i < n) {
		size_t j = i;
		while (j < n && v[j] != ',')
			j++;
		size_t a = i, b = j;
		while (a < b && (v[a] == ' ' || v[a] == '\t'))
			a++;
		while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t'))
			b--;
		if (eq(v + a, b - a, token))
			return true;
		i = j + 1;
	}
	return false;
}

/* Next line of p[*pos..end): its start and length without "\r\n" or
 * "\n". The caller has made sure a '\n' is found before end. */
static const char *next_line(const char *p, size_t *pos, size_t end, size_t *n)
{
	const char *s = p + *pos;
	const char *nl = memchr(s, '\n', end - *pos);
	*n = (size_t)(nl - s);
	*pos += *n + 1;
	if (*n > 0 && s[*n - 1] == '\r')
		(*n)--;
	return s;
}

/* Parse the request line l[0..n) into *rq, which it resets. Returns 0,
 * or 400. */
static int parse_line(const char *l, size_t n, struct request *rq)
{
	/* METHOD SP target SP HTTP/1.x: exactly two spaces. */
	const char *sp1 = memchr(l, ' ', n);
	if (!sp1)
		return 400;
	const char *t = sp1 + 1;
	const char *sp2 = memchr(t, ' ', n - (size_t)(t - l));
	if (!sp2)
		return 400;
	const char *v = sp2 + 1;
	size_t mlen = (size_t)(sp1 - l), tlen = (size_t)(sp2 - t);
	size_t vlen = n - (size_t)(v - l);
	if (!all(l, mlen, is_tchar) || !all(t, tlen, is_vchar))
		return 400;
	if (vlen != 8 || memcmp(v, "HTTP/1.", 7) != 0 || (v[7] != '0' && v[7] != '1'))
		return 400;
	*rq = (struct request){ .http11 = v[7] == '1' };
	rq->method = mlen == 3 && !memcmp(l, "GET", 3) ? M_GET
		   : mlen == 4 && !memcmp(l, "HEAD", 4) ? M_HEAD : M_OTHER;
	const char *q = memchr(t, '?', tlen);
	rq->path = t;
	rq->path_len = q ? (size_t)(q - t) : tlen;
	return 0;
}

/* Parse the header fields in[pos..end) (which end in a blank line) into
 * *rq, which holds the request line already. Returns 0, or the status to
 * answer with before closing. */
static int parse_fields(const char *in, size_t pos, size_t end,
			struct request *rq)
{
	const char *l;
	size_t n;
	int hosts = 0;

	/* name ":" OWS value OWS, until the blank line. */
	while ((l = next_line(in, &pos, end, &n)), n > 0) {
		const char *colon = memchr(l, ':', n);
		if (!colon || !all(l, (size_t)(colon - l), is_tchar))
			return 400; /* also rejects obs-fold (leading SP) */
		size_t nlen = (size_t)(colon - l);
		const char *val = colon + 1;
		size_t vl = n - nlen - 1;
		while (vl && (*val == ' ' || *val == '\t'))
			val++, vl--;
		while (vl && (val[vl - 1] == ' ' || val[vl - 1] == '\t'))
			vl--;
		for (size_t i = 0; i < vl; i++)
			if (!is_fchar((unsigned char)val[i]))
				return 400;
		if (eq(l, nlen, "Connection")) {
			rq->close |= has_token(val, vl, "close");
			rq->keep_alive |= has_token(val, vl, "keep-alive");
		} else if (eq(l, nlen, "Host")) {
			hosts++;
		} else if (eq(l, nlen, "Expect")) {
			/* HTTP/1.0 has no 100 (RFC 9110 10.1.1: ignore it). */
			rq->cont |= rq->http11 && has_token(val, vl, "100-continue");
		} else if (eq(l, nlen, "Transfer-Encoding")) {
			rq->te = true;
		} else if (eq(l, nlen, "Content-Length")) {
			uint64_t x = 0;
			if (vl == 0)
				return 400;
			for (size_t i = 0; i < vl; i++) {
				if (val[i] < '0' || val[i] > '9')
					return 400;
				/* Capped, so it cannot overflow. */
				x = x > BODY_MAX ? x : x * 10 + (uint64_t)(val[i] - '0');
			}
			if (rq->has_length && rq->length != x)
				return 400; /* two different lengths */
			rq->length = x;
			rq->has_length = true;
		}
	}
	if (hosts > 1 || (rq->http11 && hosts == 0))
		return 400; /* RFC 9112 3.2 */
	if (rq->te)
		return 501; /* chunked bodies: the request's end is unknown */
	if (rq->length > BODY_MAX)
		return 413;
	return 0;
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Content Too Large";
	case 431: return "Request Header Fields Too Large";
	case 501: return "Not Implemented";
	default: return "Error";
	}
}

/* A reply being assembled in a fixed buffer; ok turns false on overflow. */
struct out {
	char *p, *end;
	bool ok;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (!o->ok || n > (size_t)(o->end - o->p)) {
		o->ok = false;
		return;
	}
	memcpy(o->p, s, n);
	o->p += n;
}

static void put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_num(struct out *o, long long v)
{
	char d[24];
	char *start = example_format_ll(d + sizeof(d), v);

	put(o, start, (size_t)(d + sizeof(d) - start));
}

/* The Date header, which an origin server with a clock must send (RFC
 * 9110), in its fixed format ("Date: Thu, 03 Dec 2026 19:49:34 GMT\r\n";
 * strftime's names are the C locale's, which the example never changes).
 * Formatted again only when the second changes, once per connection: no
 * state is shared between goroutines. */
static const char *date_line(struct client *cl)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	if (ts.tv_sec != cl->date_sec) {
		struct tm tm;
		gmtime_r(&ts.tv_sec, &tm);
		strftime(cl->date_line, sizeof(cl->date_line),
			 "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
		cl->date_sec = ts.tv_sec;
	}
	return cl->date_line;
}

/* Write a status line and headers announcing `length` body bytes, then
 * `body` if given (in the same write: one segment for small replies).
 * Assembled by hand: snprintf took ~4% of the server's CPU per request
 * (perf, 100 keep-alive connections), a third of all its user time. */
static int reply(struct client *cl, int status, bool keep, const char *extra,
		 long long length, const char *body)
{
	char msg[512];
	struct out o = { msg, msg + sizeof(msg), true };

	put_str(&o, "HTTP/1.1 ");
	put_num(&o, status);
	put_str(&o, " ");
	put_str(&o, reason(status));
	put_str(&o, "\r\n");
	put_str(&o, date_line(cl));
	put_str(&o, "Content-Type: text/plain\r\nContent-Length: ");
	put_num(&o, length);
	put_str(&o, keep ? "\r\nConnection: keep-alive\r\n"
			 : "\r\nConnection: close\r\n");
	put_str(&o, extra);
	put_str(&o, "\r\n");
	if (body)
		put_str(&o, body);
	if (!o.ok)
		return -1;
	size_t len = (size_t)(o.p - msg);
	return ringo_conn_write_all(cl->c, msg, len) == (ssize_t)len ? 0 : -1;
}

static int reply_text(struct client *cl, int status, bool keep, bool head,
		      const char *extra, const char *text)
{
	return reply(cl, status, keep, extra, (long long)strlen(text),
		     head ? NULL : text);
}

/* GET /file: the Content-Length promised, so a short read must close. */
static int send_file(struct client *cl, bool keep, bool head)
{
	ringo_file *f;
	struct stat st;

	if (!file_path || ringo_file_open(file_path, O_RDONLY, 0, &f) < 0)
		return reply_text(cl, 404, keep, head, "", "not found\n");
	if (ringo_file_stat(f, &st) < 0 || !S_ISREG(st.st_mode)) {
		ringo_file_close(f);
		return reply_text(cl, 404, keep, head, "", "not found\n");
	}
	int r = reply(cl, 200, keep, "", (long long)st.st_size, NULL);
	for (int64_t off = 0; r == 0 && !head && off < st.st_size; ) {
		size_t want = sizeof(cl->out);
		if ((int64_t)want > st.st_size - off)
			want = (size_t)(st.st_size - off);
		ssize_t got = ringo_file_read_at(f, cl->out, want, off);
		if (got <= 0 ||
		    ringo_conn_write_all(cl->c, cl->out, (size_t)got) != got)
			r = -1; /* file shrank or client gone */
		off += got > 0 ? got : 0;
	}
	ringo_file_close(f);
	return r;
}

/* Offset just past the blank line ending the head in in[0..len), or 0.
 * Lines end in "\n" or "\r\n"; the search resumes at *from. */
static size_t head_end(const char *in, size_t len, size_t *from)
{
	for (size_t i = *from; i < len; i++) {
		if (in[i] != '\n')
			continue;
		if (i + 1 < len && in[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && in[i + 1] == '\r' && in[i + 2] == '\n')
			return i + 3;
	}
	*from = len > 2 ? len - 2 : 0; /* a '\n' there may yet end the head */
	return 0;
}

static void consume(struct client *cl, size_t n)
{
	memmove(cl->in, cl->in + n, cl->len - n);
	cl->len -= n;
}

/* Read until in[] holds a whole head: its request line parsed into *rq,
 * the offset of its header fields in *fields and its length in *end.
 * Returns 0, 400 as soon as the request line is complete and bad (a
 * client that sent "GET /\r\n" may wait for an answer before sending
 * more), 431 if the head does not fit in HEAD_MAX, or -1 on end of
 * stream, error or idle timeout (then there is nobody to answer). */
static int read_head(struct client *cl, struct request *rq, size_t *fields,
		     size_t *end)
{
	size_t from = 0;

	/* Not a HEAD until this request's line says so: an error answered
	 * before then carries its text. */
	*rq = (struct request){ .method = M_OTHER };
	*fields = 0; /* 0 until the request line is complete and parsed */
	for (;;) {
		/* Blank lines before a request are ignored (RFC 9112 2.2). */
		size_t skip = 0;
		while (skip < cl->len && (cl->in[skip] == '\n' ||
		       (cl->in[skip] == '\r' && skip + 1 < cl->len && cl->in[skip + 1] == '\n')))
			skip += cl->in[skip] == '\r' ? 2 : 1;
		if (skip) { /* only before the request line: it is not blank */
			consume(cl, skip);
			from = 0;
		}
		if (!*fields && memchr(cl->in, '\n', cl->len)) {
			size_t n;
			const char *l = next_line(cl->in, fields, cl->len, &n);
			if (parse_line(l, n, rq))
				return 400;
		}
		if (cl->len > 0 && (*end = head_end(cl->in, cl->len, &from)))
			return 0;
		if (cl->len == HEAD_MAX)
			return 431;
		ringo_conn_set_read_deadline(cl->c, ringo_now() + IDLE);
		ssize_t n = ringo_conn_read(cl->c, cl->in + cl->len, HEAD_MAX - cl->len);
		if (n <= 0)
			return -1;
		cl->len += (size_t)n;
	}
}

/* Drop the body: first what is already buffered, then read the rest,
 * after "100 Continue" if `cont` (the client may wait for it before
 * sending the body). Once the buffer is used up it is empty, so in[]
 * serves as scratch. */
static int skip_body(struct client *cl, uint64_t left, bool cont)
{
	static const char go_on[] = "HTTP/1.1 100 Continue\r\n\r\n";
	size_t have = cl->len < left ? cl->len : (size_t)left;
	consume(cl, have);
	left -= have;
	if (left > 0 && cont &&
	    ringo_conn_write_all(cl->c, go_on, sizeof(go_on) - 1) !=
		    (ssize_t)sizeof(go_on) - 1)
		return -1;
	while (left > 0) {
		size_t want = left < HEAD_MAX ? (size_t)left : HEAD_MAX;
		ringo_conn_set_read_deadline(cl->c, ringo_now() + IDLE);
		ssize_t n = ringo_conn_read(cl->c, cl->in, want);
		if (n <= 0)
			return -1;
		left -= (uint64_t)n;
	}
	return 0;
}

enum { R_HELLO, R_FILE, R_NOT_FOUND, R_NOT_ALLOWED };

static int route(const struct request *rq)
{
	if (rq->method == M_OTHER)
		return R_NOT_ALLOWED;
	if (rq->path_len == 1 && rq->path[0] == '/')
		return R_HELLO;
	if (rq->path_len == 5 && !memcmp(rq->path, "/file", 5))
		return R_FILE;
	return R_NOT_FOUND;
}

static void serve(void *arg)
{
	struct client *cl = arg;
	struct request rq; /* read_head resets it per request */
	size_t fields, end;
	int one = 1, status;

	setsockopt(ringo_conn_fd(cl->c), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (;;) {
		status = read_head(cl, &rq, &fields, &end);
		if (status < 0)
			goto out;
		if (status || (status = parse_fields(cl->in, fields, end, &rq)))
			break;
		/* Routed before the head is consumed: that moves the next
		 * request (or the body) to where rq.path points. */
		int to = route(&rq);
		consume(cl, end);
		if (skip_body(cl, rq.length, rq.cont) < 0)
			goto out;
		bool keep = rq.http11 ? !rq.close : rq.keep_alive && !rq.close;
		bool head = rq.method == M_HEAD;
		int r;
		if (to == R_NOT_ALLOWED)
			r = reply_text(cl, 405, keep, false, "Allow: GET, HEAD\r\n",
				       "method not allowed\n");
		else if (to == R_HELLO)
			r = reply_text(cl, 200, keep, head, "", "hello\n");
		else if (to == R_FILE)
			r = send_file(cl, keep, head);
		else
			r = reply_text(cl, 404, keep, head, "", "not found\n");
		if (r < 0 || !keep)
			goto out;
	}
	char text[64]; /* 400, 413, 431 or 501: answer, then close */
	snprintf(text, sizeof(text), "%s\n", reason(status));
	/* A response to HEAD has no body, errors too (RFC 9110 9.3.2). */
	reply_text(cl, status, false, rq.method == M_HEAD, "", text);
out:
	/* Close gracefully: unread input would make close send a reset that
	 * can destroy our last response before the client reads it. So send
	 * FIN, drain briefly, then close. */
	ringo_conn_shutdown(cl->c, SHUT_WR);
	ringo_conn_set_read_deadline(cl->c, ringo_now() + RINGO_SECOND);
	for (int i = 0; i < 128 && ringo_conn_read(cl->c, cl->in, HEAD_MAX) > 0; i++)
		;
	ringo_conn_close(cl->c);
	free(cl);
}

static void start(ringo_conn *c)
{
	struct client *cl = malloc(sizeof(*cl));

	if (!cl) {
		ringo_conn_close(c);
		return;
	}
	cl->c = c;
	cl->len = 0;
	cl->date_sec = 0;
	ringo_go(serve, cl);
}

static int main_g(void *arg)
{
	return example_serve("http", arg, start);
}

int main(int argc, char **argv)
{
	struct ringo_config cfg = { 0 };
	const char *address = ":8080", *port = NULL;
	char buf[RINGO_ADDR_STRLEN + 8];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc) {
			cfg.netpoll = argv[++i];
		} else if (strcmp(argv[i], "--file") == 0 && i + 1 < argc) {
			file_path = argv[++i];
		} else if (strcmp(argv[i], "--addr") == 0 && i + 1 < argc &&
			   strlen(argv[i + 1]) < RINGO_ADDR_STRLEN) {
			address = argv[++i];
		} else if (argv[i][0] != '-' && strlen(argv[i]) < 8 &&
			   !argv[i][strspn(argv[i], "0123456789")]) {
			port = argv[i];
		} else {
			fprintf(stderr, "usage: %s [--mode uring|epoll] [--file PATH] "
				"[--addr HOST:PORT] [port]\n", argv[0]);
			return 2;
		}
	}
	example_address(buf, sizeof(buf), address, port);
	return ringo_run_config(&cfg, main_g, buf);
}
