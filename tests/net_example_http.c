/*
 * tests/net_example_http.c - runs examples/http (path in argv[1]) on a
 * free port with --file pointing at a temporary file, and talks HTTP to
 * it over plain blocking sockets: GET/HEAD/404/405/file, pipelined
 * requests to different routes (with bodies, HEAD after GET) in one write
 * and split at odd bytes, keep-alive, "Connection: close", HTTP/1.0,
 * bodies skipped, "Expect: 100-continue", 400 (also for HTTP/1.1 without
 * Host, and for a bad request line before the head is complete) / 413 /
 * 431 / 501 then close (without a body answering HEAD), and a few
 * hundred random and half-HTTP byte strings
 * after which the server must still answer.
 * Every socket has 10 s timeouts and the server dies with us
 * (PR_SET_PDEATHSIG), so a broken server fails the test instead of
 * hanging it. The mode comes from RINGO_NETPOLL.
 */
#include <netinet/tcp.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "example_client.h"
#include "test.h"

static char file_path[64];
static char file_data[40000]; /* bigger than the server's 16 KiB chunk */

/* A buffered reader over one connection. */
struct rd {
	int fd;
	size_t len;
	char buf[65536];
};

static int fill(struct rd *r)
{
	if (r->len == sizeof(r->buf))
		return -1;
	ssize_t n = recv(r->fd, r->buf + r->len, sizeof(r->buf) - r->len, 0);
	if (n <= 0)
		return -1;
	r->len += (size_t)n;
	return 0;
}

struct resp {
	int status;
	long length;
	int closing;            /* "Connection: close" */
	time_t date;            /* its Date header, -1 if none or malformed */
	char body[sizeof(file_data) + 1]; /* NUL-terminated */
};

/* Read one response; with `head` it has no body. 0, or -1 on EOF/junk. */
static int read_resp(struct rd *r, struct resp *out, int head)
{
	char *end;
	while (!(end = memmem(r->buf, r->len, "\r\n\r\n", 4)))
		if (fill(r) < 0)
			return -1;
	size_t hlen = (size_t)(end - r->buf) + 4;
	char h[8192];
	if (hlen >= sizeof(h))
		return -1;
	memcpy(h, r->buf, hlen);
	h[hlen] = 0;
	if (sscanf(h, "HTTP/1.1 %d ", &out->status) != 1)
		return -1;
	char *cl = strcasestr(h, "\r\nContent-Length:");
	out->length = cl ? strtol(cl + 17, NULL, 10) : -1;
	out->closing = strcasestr(h, "\r\nConnection: close\r\n") != NULL;
	struct tm tm = { 0 };
	char *date = strstr(h, "\r\nDate: ");
	char *rest = date ? strptime(date + 8, "%a, %d %b %Y %H:%M:%S GMT", &tm)
			  : NULL;
	out->date = rest && strncmp(rest, "\r\n", 2) == 0 ? timegm(&tm) : -1;
	if (out->length < 0 || (size_t)out->length >= sizeof(out->body))
		return -1;
	size_t blen = head ? 0 : (size_t)out->length;
	while (r->len < hlen + blen)
		if (fill(r) < 0)
			return -1;
	memcpy(out->body, r->buf + hlen, blen);
	out->body[blen] = 0;
	memmove(r->buf, r->buf + hlen + blen, r->len - hlen - blen);
	r->len -= hlen + blen;
	return 0;
}

/* The server closed: EOF with nothing more to read. */
static int at_eof(struct rd *r)
{
	char c;
	return r->len == 0 && recv(r->fd, &c, 1, 0) == 0;
}

static struct rd rd;
static struct resp resp;

/* Send `req` on a new connection and read one response into resp. */
static int once(const char *req, int head)
{
	rd.fd = dial();
	rd.len = 0;
	if (rd.fd < 0 || send_all(rd.fd, req, strlen(req)) < 0)
		return -1;
	return read_resp(&rd, &resp, head);
}

static int test_basic(void)
{
	ASSERT_EQ(once("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 0), 0);
	ASSERT_EQ(resp.status, 200);
	ASSERT_EQ(resp.length, 6);
	ASSERT(strcmp(resp.body, "hello\n") == 0);
	ASSERT(!resp.closing);
	/* A Date in RFC 9110's fixed format, of about now (the bound only
	 * rules out a wrong zone or field, not a slow machine). */
	time_t now = time(NULL);
	ASSERT(resp.date > now - 3600 && resp.date < now + 3600);
	/* HEAD: same length, no body; then a 404 on the same connection. */
	ASSERT_EQ(send_all(rd.fd, "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", 28), 0);
	ASSERT_EQ(read_resp(&rd, &resp, 1), 0);
	ASSERT_EQ(resp.status, 200);
	ASSERT_EQ(resp.length, 6);
	ASSERT_EQ(send_all(rd.fd, "GET /nope HTTP/1.1\nHost: x\n\n", 28), 0); /* bare LFs */
	ASSERT_EQ(read_resp(&rd, &resp, 0), 0);
	ASSERT_EQ(resp.status, 404);
	ASSERT_EQ(rd.len, 0);
	close(rd.fd);
	return 0;
}

static int test_file(void)
{
	ASSERT_EQ(once("GET /file?x=1 HTTP/1.1\r\nHost: x\r\n\r\n", 0), 0);
	ASSERT_EQ(resp.status, 200);
	ASSERT_EQ(resp.length, (long)sizeof(file_data));
	ASSERT(memcmp(resp.body, file_data, sizeof(file_data)) == 0);
	close(rd.fd);
	return 0;
}

/* Pipelined requests to different routes, each answered by its own route
 * although the next request (or its body) is already in the server's
 * buffer. body is what GET answers (NULL: the file); HEAD announces its
 * length only. The last request closes. */
static const struct {
	const char *req;
	int status, head;
	const char *body;
} pipeline[] = {
	{ "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", 404, 0, "not found\n" },
	{ "GET /file HTTP/1.1\r\nHost: x\r\n\r\n", 200, 0, NULL },
	{ "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 200, 0, "hello\n" },
	{ "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", 200, 1, "hello\n" },
	{ "GET /file HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nzzzzz",
	  200, 0, NULL },
	{ "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 19\r\n\r\n"
	  "GET /file HTTP/1.1\r", 405, 0, "method not allowed\n" },
	{ "HEAD /file HTTP/1.1\r\nHost: x\r\n\r\n", 200, 1, NULL },
	{ "\r\nGET / HTTP/1.1\nHost: x\nContent-Length: 3\n\n/\r\n", 200, 0,
	  "hello\n" },
	{ "GET /missing?q HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	  404, 0, "not found\n" },
};

/* Send all of `pipeline` on one connection in pieces of `step` bytes (0:
 * in one write), then check the responses in order. */
static int pipelined(size_t step)
{
	static char all[4096];
	size_t len = 0, n = sizeof(pipeline) / sizeof(pipeline[0]);
	int one = 1;

	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(pipeline[i].req);
		ASSERT(len + l <= sizeof(all));
		memcpy(all + len, pipeline[i].req, l);
		len += l;
	}
	rd.fd = dial();
	rd.len = 0;
	ASSERT(rd.fd >= 0);
	/* Each piece in a segment of its own, read apart by the server. */
	setsockopt(rd.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (size_t off = 0; off < len; off += step ? step : len) {
		size_t l = step && step < len - off ? step : len - off;
		ASSERT_EQ(send_all(rd.fd, all + off, l), 0);
		/* Pacing, not a wait: the server reads in another process,
		 * with nothing to wait on; pieces that merge test less. */
		if (step)
			usleep(200);
	}
	for (size_t i = 0; i < n; i++) {
		int head = pipeline[i].head;
		const char *body = pipeline[i].body;
		size_t blen = body ? strlen(body) : sizeof(file_data);
		if (read_resp(&rd, &resp, head) != 0 ||
		    resp.status != pipeline[i].status ||
		    resp.length != (long)blen ||
		    (!head && memcmp(resp.body, body ? body : file_data, blen))) {
			fprintf(stderr, "FAIL: pipelined in pieces of %zu: "
				"request %zu got %d, length %ld\n", step, i,
				resp.status, resp.length);
			return 1;
		}
	}
	ASSERT(resp.closing);
	ASSERT(at_eof(&rd));
	close(rd.fd);
	return 0;
}

static int test_pipelined(void)
{
	static const size_t steps[] = { 0, 1, 2, 7, 13, 31, 64 };

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (pipelined(steps[i]))
			return 1;
	return 0;
}

/* "Expect: 100-continue": the 100 comes before the body is sent, then the
 * final response; HTTP/1.0 gets no 100 (RFC 9110 10.1.1). */
static int test_continue(void)
{
	static const char go_on[] = "HTTP/1.1 100 Continue\r\n\r\n";
	static const char *const heads[] = {
		"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
		"Content-Length: 5\r\n\r\n",
		"GET /file HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n"
		"expect: 100-Continue\r\n\r\n",
	};
	static char body[2000];

	rd.fd = dial();
	rd.len = 0;
	ASSERT(rd.fd >= 0);
	memset(body, 'b', sizeof(body));
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(send_all(rd.fd, heads[i], strlen(heads[i])), 0);
		while (rd.len < sizeof(go_on) - 1)
			ASSERT_EQ(fill(&rd), 0);
		ASSERT(memcmp(rd.buf, go_on, sizeof(go_on) - 1) == 0);
		rd.len -= sizeof(go_on) - 1;
		memmove(rd.buf, rd.buf + sizeof(go_on) - 1, rd.len);
		ASSERT_EQ(send_all(rd.fd, body, i == 0 ? 5 : sizeof(body)), 0);
		ASSERT_EQ(read_resp(&rd, &resp, 0), 0);
		ASSERT_EQ(resp.status, i == 0 ? 405 : 200);
		ASSERT(!resp.closing);
	}
	close(rd.fd);
	ASSERT_EQ(once("POST / HTTP/1.0\r\nExpect: 100-continue\r\n"
		       "Content-Length: 5\r\n\r\nhello", 0), 0);
	ASSERT_EQ(resp.status, 405);
	ASSERT(at_eof(&rd));
	close(rd.fd);
	return 0;
}

static int test_keepalive_and_close(void)
{
	ASSERT_EQ(once("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 0), 0);
	ASSERT_EQ(resp.status, 200);
	for (int i = 0; i < 3; i++) { /* the same connection keeps working */
		ASSERT_EQ(send_all(rd.fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27), 0);
		ASSERT_EQ(read_resp(&rd, &resp, 0), 0);
		ASSERT_EQ(resp.status, 200);
	}
	const char *bye = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	ASSERT_EQ(send_all(rd.fd, bye, strlen(bye)), 0);
	ASSERT_EQ(read_resp(&rd, &resp, 0), 0);
	ASSERT_EQ(resp.status, 200);
	ASSERT(resp.closing);
	ASSERT(at_eof(&rd));
	close(rd.fd);

	/* HTTP/1.0 closes unless asked to keep alive. */
	ASSERT_EQ(once("GET / HTTP/1.0\r\n\r\n", 0), 0);
	ASSERT_EQ(resp.status, 200);
	ASSERT(at_eof(&rd));
	close(rd.fd);
	ASSERT_EQ(once("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 0), 0);
	ASSERT(!resp.closing);
	ASSERT_EQ(send_all(rd.fd, "GET / HTTP/1.0\r\n\r\n", 18), 0);
	ASSERT_EQ(read_resp(&rd, &resp, 0), 0);
	ASSERT_EQ(resp.status, 200);
	ASSERT(at_eof(&rd));
	close(rd.fd);
	return 0;
}

/* `req` gets `status` (without a body if `head`), then the server
 * closes. */
static int expect_close_as(const char *req, size_t len, int status, int head)
{
	rd.fd = dial();
	rd.len = 0;
	ASSERT(rd.fd >= 0);
	ASSERT_EQ(send_all(rd.fd, req, len), 0);
	ASSERT_EQ(read_resp(&rd, &resp, head), 0);
	ASSERT_EQ(resp.status, status);
	ASSERT(resp.closing);
	ASSERT(at_eof(&rd));
	close(rd.fd);
	return 0;
}

static int expect_close(const char *req, size_t len, int status)
{
	return expect_close_as(req, len, status, 0);
}

static int test_errors(void)
{
	static const char *bad[] = {
		"GARBAGE\r\n\r\n",
		"GET /\r\n\r\n",
		"GET  / HTTP/1.1\r\n\r\n",
		"GET / HTTP/2.0\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nBad Name: x\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n folded\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 12x\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
		"G\x01T / HTTP/1.1\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (expect_close(bad[i], strlen(bad[i]), 400)) {
			fprintf(stderr, "  request %zu\n", i);
			return 1;
		}
	/* A bad request line is answered without waiting for the rest of
	 * the head: these never send the blank line, and the server's idle
	 * timeout (30 s) is longer than our read's (10 s). */
	static const char *early[] = {
		"GET /\r\n", "GET /\n", "GARBAGE\r\nHost: x\r\n",
		"GET / HTTP/1.1 x\r\n", "\r\n\nGET / HTTP/3\r\n",
	};
	for (size_t i = 0; i < sizeof(early) / sizeof(early[0]); i++)
		if (expect_close(early[i], strlen(early[i]), 400)) {
			fprintf(stderr, "  early request %zu\n", i);
			return 1;
		}
	/* RFC 9112 3.2: HTTP/1.1 needs exactly one Host; HTTP/1.0 none. */
	const char *no_host = "GET / HTTP/1.1\r\n\r\n";
	ASSERT_EQ(expect_close(no_host, strlen(no_host), 400), 0);
	const char *two_hosts = "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n";
	ASSERT_EQ(expect_close(two_hosts, strlen(two_hosts), 400), 0);
	ASSERT_EQ(once("GET / HTTP/1.0\r\n\r\n", 0), 0);
	ASSERT_EQ(resp.status, 200);
	close(rd.fd);
	const char *big = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n";
	ASSERT_EQ(expect_close(big, strlen(big), 413), 0);
	const char *te = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
	ASSERT_EQ(expect_close(te, strlen(te), 501), 0);

	/* 9 KiB of headers. */
	static char huge[10000];
	size_t n = (size_t)snprintf(huge, sizeof(huge), "GET / HTTP/1.1\r\nX: ");
	memset(huge + n, 'a', 9216);
	n += 9216;
	memcpy(huge + n, "\r\n\r\n", 4);
	ASSERT_EQ(expect_close(huge, n + 4, 431), 0);

	/* An error answering HEAD has no body (at_eof finds none); one
	 * answering a bad line after a HEAD on the same connection has. */
	const char *head_te = "HEAD / HTTP/1.1\r\nHost: x\r\n"
			      "Transfer-Encoding: chunked\r\n\r\n";
	ASSERT_EQ(expect_close_as(head_te, strlen(head_te), 501, 1), 0);
	n = (size_t)snprintf(huge, sizeof(huge), "HEAD / HTTP/1.1\r\nX: ");
	memset(huge + n, 'a', 9216);
	n += 9216;
	memcpy(huge + n, "\r\n\r\n", 4);
	ASSERT_EQ(expect_close_as(huge, n + 4, 431, 1), 0);
	ASSERT_EQ(once("HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n", 1),
		  0);
	ASSERT_EQ(resp.status, 200);
	ASSERT_EQ(read_resp(&rd, &resp, 0), 0);
	ASSERT_EQ(resp.status, 400);
	ASSERT(strcmp(resp.body, "Bad Request\n") == 0);
	ASSERT(at_eof(&rd));
	close(rd.fd);
	return 0;
}

/* Random bytes, HTTP-ish tokens and valid prefixes with junk after. The
 * server may answer anything or nothing; it must not die. */
static int test_fuzz(void)
{
	static const char *const parts[] = {
		"GET ", "HEAD ", "POST ", "/", "/file", " HTTP/1.1", " HTTP/1.0",
		"\r\n", "\n", "\r", ":", " ", "Content-Length: ", "0", "9",
		"99999999999999999999", "Connection: close", "Transfer-Encoding",
		"\r\n\r\n", "\0", "\xff", "?", "Host: x", "Expect: 100-continue",
	};
	if (example_fuzz(parts, sizeof(parts) / sizeof(parts[0]),
			 "GET / HTTP/1.1\r\n", 400))
		return 1;
	ASSERT_EQ(once("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 0), 0);
	ASSERT_EQ(resp.status, 200);
	close(rd.fd);
	return 0;
}

static int make_file(void)
{
	snprintf(file_path, sizeof(file_path), "/tmp/ringo-http-XXXXXX");
	int fd = mkstemp(file_path);
	if (fd < 0)
		return -1;
	for (size_t i = 0; i < sizeof(file_data); i++)
		file_data[i] = (char)('a' + i * 7 % 26);
	ssize_t n = write(fd, file_data, sizeof(file_data));
	close(fd);
	return n == (ssize_t)sizeof(file_data) ? 0 : -1;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s path/to/http\n", argv[0]);
		return 1;
	}
	test_watchdog(60);
	if (make_file() < 0) {
		fprintf(stderr, "FAIL: temporary file\n");
		return 1;
	}
	const char *file_args[] = { "--file", file_path, NULL };
	pid_t pid = example_start(argv[1], file_args);
	if (pid < 0) {
		unlink(file_path);
		return 1;
	}
	int r = 0;
	if (test_basic() || test_file() || test_pipelined() ||
	    test_continue() || test_keepalive_and_close() || test_errors() ||
	    test_fuzz())
		r = 1;
	if (example_stop(pid))
		r = 1;
	unlink(file_path);
	return r;
}
