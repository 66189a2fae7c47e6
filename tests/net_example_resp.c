/*
 * tests/net_example_resp.c - runs examples/resp (path in argv[1]) on a
 * free port and speaks RESP to it over plain blocking sockets: pipelined
 * SET/GET/DEL/INCR/PING, inline commands (split and quoted as Redis
 * splits them), binary-safe keys and values, a 1 MiB value, CLIENT INFO
 * and CLIENT's errors, requests of 2^20 arguments or 6 MiB (whose memory
 * must not stay with the connection, also with the next request half
 * read: CLIENT INFO shows the buffers' sizes after them), what
 * redis-cli and redis-benchmark send as they connect, malformed requests
 * (an error, then the connection closes), random bytes after which the
 * server must still answer, and many clients at once sharing one
 * counter. If redis-cli is installed it is run against the server too;
 * if not, that check alone is skipped. Every socket has 10 s timeouts
 * and the server dies with us, so a broken server fails the test instead
 * of hanging it. The mode comes from RINGO_NETPOLL.
 */
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>

#include "example_client.h"
#include "test.h"

static int send_str(int fd, const char *s) { return send_all(fd, s, strlen(s)); }

/* Read exactly len bytes. */
static int recv_all(int fd, void *buf, size_t len)
{
	for (size_t done = 0; done < len; ) {
		ssize_t n = recv(fd, (char *)buf + done, len - done, 0);
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

/* The next replies on fd are exactly want[0..len): every reply here is
 * known in advance, so comparing bytes checks the framing too. */
static int expect(int fd, const void *want, size_t len)
{
	char got[4096];
	for (size_t done = 0; done < len; ) {
		size_t n = len - done < sizeof(got) ? len - done : sizeof(got);
		if (recv_all(fd, got, n) < 0) {
			fprintf(stderr, "FAIL: no reply where \"%.*s\" was due\n",
				(int)(len - done), (const char *)want + done);
			return -1;
		}
		if (memcmp(got, (const char *)want + done, n) != 0) {
			fprintf(stderr, "FAIL: got \"%.*s\", want \"%.*s\"\n",
				(int)n, got, (int)n, (const char *)want + done);
			return -1;
		}
		done += n;
	}
	return 0;
}

static int expect_str(int fd, const char *want) { return expect(fd, want, strlen(want)); }

/* The server closed: EOF with nothing more to read. */
static int at_eof(int fd)
{
	char c;
	return recv(fd, &c, 1, 0) == 0;
}

/* A RESP array of bulk strings: args[i] of lens[i] bytes (strlen when
 * lens is NULL), appended to buf at *len. */
static void encode(char *buf, size_t *len, int argc, const char *const *args,
		   const size_t *lens)
{
	*len += (size_t)sprintf(buf + *len, "*%d\r\n", argc);
	for (int i = 0; i < argc; i++) {
		size_t n = lens ? lens[i] : strlen(args[i]);
		*len += (size_t)sprintf(buf + *len, "$%zu\r\n", n);
		memcpy(buf + *len, args[i], n);
		*len += n;
		memcpy(buf + *len, "\r\n", 2);
		*len += 2;
	}
}

#define CMD(buf, len, ...) \
	encode(buf, len, (int)(sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(char *)), \
	       (const char *[]){ __VA_ARGS__ }, NULL)

static int test_pipelined(void)
{
	static char req[4096];
	size_t len = 0;
	CMD(req, &len, "SET", "k", "v1");
	CMD(req, &len, "set", "k", "value");
	CMD(req, &len, "GET", "k");
	CMD(req, &len, "GET", "missing");
	CMD(req, &len, "INCR", "counter");
	CMD(req, &len, "incr", "counter");
	CMD(req, &len, "INCR", "k");
	CMD(req, &len, "DEL", "k", "missing", "counter");
	CMD(req, &len, "GET", "k");
	CMD(req, &len, "PING");
	CMD(req, &len, "PING", "hello");
	CMD(req, &len, "ECHO", "");
	CMD(req, &len, "SET", "k", "v", "EX", "10");
	CMD(req, &len, "GET");
	CMD(req, &len, "FLUSHALL");
	CMD(req, &len, "SET", "big", "9223372036854775806");
	CMD(req, &len, "INCR", "big");
	CMD(req, &len, "INCR", "big");
	CMD(req, &len, "SET", "neg", "-5");
	CMD(req, &len, "INCR", "neg");
	CMD(req, &len, "SET", "lead", "01");
	CMD(req, &len, "INCR", "lead");
	CMD(req, &len, "DEL", "big", "neg", "lead");
	memcpy(req + len, "*0\r\n", 4); /* nothing, no reply */
	len += 4;
	CMD(req, &len, "DBSIZE");
	int fd = dial();
	ASSERT(fd >= 0);
	ASSERT_EQ(send_all(fd, req, len), 0);
	ASSERT_EQ(expect_str(fd,
		"+OK\r\n+OK\r\n$5\r\nvalue\r\n$-1\r\n:1\r\n:2\r\n"
		"-ERR value is not an integer or out of range\r\n"
		":2\r\n$-1\r\n+PONG\r\n$5\r\nhello\r\n$0\r\n\r\n"
		"-ERR syntax error (only SET key value is supported)\r\n"
		"-ERR wrong number of arguments for 'get' command\r\n"
		"-ERR unknown command 'FLUSHALL'\r\n"
		"+OK\r\n:9223372036854775807\r\n"
		"-ERR increment or decrement would overflow\r\n"
		"+OK\r\n:-4\r\n+OK\r\n"
		"-ERR value is not an integer or out of range\r\n"
		":3\r\n:0\r\n"), 0);
	close(fd);
	return 0;
}

static int expect_bad(const char *req, size_t len, const char *before);

/* req, an inline request, is answered with Redis's error for unbalanced
 * quotes and the connection closes. */
static int expect_unbalanced(const char *req)
{
	int fd = dial();
	ASSERT(fd >= 0);
	ASSERT_EQ(send_str(fd, req), 0);
	if (expect_str(fd, "-ERR Protocol error: unbalanced quotes in "
			   "request\r\n") != 0)
		TEST_FAIL("request \"%s\"", req);
	ASSERT(at_eof(fd));
	close(fd);
	return 0;
}

static int test_inline(void)
{
	int fd = dial();
	ASSERT(fd >= 0);
	ASSERT_EQ(send_str(fd, "PING\r\n\r\n  set\tik  iv \nGET ik\r\nping x\n"
			       "del ik\r\nget ik\r\n"), 0);
	ASSERT_EQ(expect_str(fd, "+PONG\r\n+OK\r\n$2\r\niv\r\n$1\r\nx\r\n"
				 ":1\r\n$-1\r\n"), 0);
	/* An inline request split across writes. */
	ASSERT_EQ(send_str(fd, "EC"), 0);
	ASSERT_EQ(send_str(fd, "HO abc"), 0);
	ASSERT_EQ(send_str(fd, "\r\n"), 0);
	ASSERT_EQ(expect_str(fd, "$3\r\nabc\r\n"), 0);
	/* Quoted as redis-cli quotes: blanks, escapes, an empty argument. */
	ASSERT_EQ(send_str(fd, "SET q \"hello world\"\r\nGET q\r\n"
			       "SET \"k\\x41\" \"a\\tb\\\\\\\"\\n\"\r\nGET kA\r\n"
			       "SET s 'it\\'s \"x\"'\r\nGET s\r\nECHO \"\"\r\n"), 0);
	ASSERT_EQ(expect_str(fd, "+OK\r\n$11\r\nhello world\r\n+OK\r\n"
				 "$6\r\na\tb\\\"\n\r\n+OK\r\n$8\r\nit's \"x\"\r\n"
				 "$0\r\n\r\n"), 0);
	/* As Redis splits: a quote inside a word opens a part joined to the
	 * bytes before it. Blanks are isspace()'s between arguments and
	 * after a closing quote, but \v and \f do not end a word; a CR
	 * inside the line does. */
	ASSERT_EQ(send_str(fd, "SET a\"b c\" x\r\nGET \"ab c\"\r\n"
			       "ECHO it's '\r\nECHO pre\"\\x41\\n\"\r\n"
			       "ECHO ab\"\"\r\n\v\fECHO\t'a b'\f\r\n"
			       "ECHO a\vb\r\nSET cr\rv\r\nGET cr\r\n"), 0);
	ASSERT_EQ(expect_str(fd, "+OK\r\n$1\r\nx\r\n$4\r\nits \r\n"
				 "$5\r\npreA\n\r\n$2\r\nab\r\n$3\r\na b\r\n"
				 "$3\r\na\vb\r\n+OK\r\n$1\r\nv\r\n"), 0);
	close(fd);
	/* Quotes that do not close, at the start of a word or inside it,
	 * or that close before anything but a blank. */
	static const char *const unbalanced[] = {
		"SET k \"open\r\n", "SET k \"a\"b\r\n", "SET a\"b c\"d x\r\n",
		"SET a\"b x\r\n", "SET k v\"\r\n", "SET 'a'b v\r\n",
		"SET k 'it''s'\r\n", "ECHO \"a\\\"\r\n",
	};
	for (size_t i = 0; i < sizeof(unbalanced) / sizeof(unbalanced[0]); i++)
		ASSERT_EQ(expect_unbalanced(unbalanced[i]), 0);
	return 0;
}

/* Keys and values holding NUL, CR, LF and bytes over 0x7f. */
static int test_binary(void)
{
	static const char key[] = "k\0\r\n\xff*$";
	static const char val[] = "\r\n$3\r\n\0\0\x80 end";
	static char req[256], want[256];
	size_t len = 0, wlen;
	const char *set[] = { "SET", key, val }, *get[] = { "GET", key };
	size_t set_n[] = { 3, sizeof(key) - 1, sizeof(val) - 1 }, get_n[] = { 3, sizeof(key) - 1 };
	encode(req, &len, 3, set, set_n);
	encode(req, &len, 2, get, get_n);
	wlen = (size_t)sprintf(want, "+OK\r\n$%zu\r\n", sizeof(val) - 1);
	memcpy(want + wlen, val, sizeof(val) - 1);
	wlen += sizeof(val) - 1;
	memcpy(want + wlen, "\r\n", 2);
	wlen += 2;

	int fd = dial();
	ASSERT(fd >= 0);
	/* One byte at a time: every split point of the request is parsed. */
	for (size_t i = 0; i < len; i++)
		ASSERT_EQ(send_all(fd, req + i, 1), 0);
	ASSERT_EQ(expect(fd, want, wlen), 0);
	/* The same key minus its last byte is another key. */
	const char *get2[] = { "GET", key };
	size_t get2_n[] = { 3, sizeof(key) - 2 };
	len = 0;
	encode(req, &len, 2, get2, get2_n);
	ASSERT_EQ(send_all(fd, req, len), 0);
	ASSERT_EQ(expect_str(fd, "$-1\r\n"), 0);
	close(fd);
	return 0;
}

/* A 1 MiB value, set twice in one pipeline and read back twice. */
static int test_big(void)
{
	size_t n = 1 << 20;
	char *val = malloc(n), *req = malloc(2 * n + 256), *got = malloc(n);
	ASSERT(val && req && got);
	for (size_t i = 0; i < n; i++)
		val[i] = (char)(i * 131 + (i >> 12));
	size_t len = 0;
	const char *set[] = { "SET", "bigkey", val }, *get[] = { "GET", "bigkey" };
	size_t set_n[] = { 3, 6, n }, get_n[] = { 3, 6 };
	encode(req, &len, 3, set, set_n);
	encode(req, &len, 2, get, get_n);
	val[0] ^= 1; /* the second SET differs */
	encode(req, &len, 3, set, set_n);
	encode(req, &len, 2, get, get_n);

	int fd = dial();
	ASSERT(fd >= 0);
	ASSERT_EQ(send_all(fd, req, len), 0);
	char head[32];
	int hl = sprintf(head, "$%zu\r\n", n);
	for (int round = 0; round < 2; round++) {
		ASSERT_EQ(expect_str(fd, "+OK\r\n"), 0);
		ASSERT_EQ(expect(fd, head, (size_t)hl), 0);
		ASSERT_EQ(recv_all(fd, got, n), 0);
		val[0] ^= round == 0; /* the first GET saw the first value */
		ASSERT(memcmp(got, val, n) == 0);
		val[0] ^= round == 0;
		ASSERT_EQ(expect_str(fd, "\r\n"), 0);
	}
	/* The buffers shrink back; small requests still work. */
	ASSERT_EQ(send_str(fd, "DEL bigkey\r\nPING\r\n"), 0);
	ASSERT_EQ(expect_str(fd, ":1\r\n+PONG\r\n"), 0);
	close(fd);
	free(val);
	free(req);
	free(got);
	return 0;
}

/* A line up to and with its "\n" into buf[0..cap), NUL-terminated. */
static int read_line(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	while (n < cap - 1 && recv_all(fd, buf + n, 1) == 0 && buf[n++] != '\n')
		;
	buf[n] = 0;
	return n > 0 && buf[n - 1] == '\n' ? 0 : -1;
}

/* The reply to a CLIENT INFO sent on fd: its line, NUL-terminated, into
 * info[0..cap). */
static int read_info(int fd, char *info, size_t cap)
{
	char head[32];
	long n;
	ASSERT_EQ(read_line(fd, head, sizeof(head)), 0);
	if (sscanf(head, "$%ld\r\n", &n) != 1 || n <= 0 || (size_t)n >= cap)
		TEST_FAIL("CLIENT INFO: got \"%s\"", head);
	ASSERT_EQ(recv_all(fd, info, (size_t)n), 0);
	info[n] = 0;
	ASSERT_EQ(expect_str(fd, "\r\n"), 0);
	ASSERT(info[n - 1] == '\n');
	return 0;
}

/* The number a CLIENT INFO line gives field `name`; -1 if it gives
 * none. */
static long long info_field(const char *info, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = info; p; p = strchr(p, ' ')) {
		p += *p == ' ';
		char *end;
		if (strncmp(p, name, n) != 0 || p[n] != '=' ||
		    p[n + 1] < '0' || p[n + 1] > '9')
			continue;
		long long v = strtoll(p + n + 1, &end, 10);
		if (*end == ' ' || *end == '\n')
			return v;
	}
	return -1;
}

/* Back to this after a big request: far below what the requests below
 * grow (an 8 MiB input buffer, 32 MiB of argument slots), above what the
 * server keeps past one (a 16 KiB buffer, 1,024 slots: 32 KiB). */
#define SHRUNK (64 << 10)

/* The reply to a CLIENT INFO sent on fd says that the connection's input
 * buffer (qbuf + qbuf-free: its capacity) and argument slots are small
 * again. */
static int expect_shrunk(int fd)
{
	char info[512];
	ASSERT_EQ(read_info(fd, info, sizeof(info)), 0);
	long long qbuf = info_field(info, "qbuf");
	long long room = info_field(info, "qbuf-free");
	long long argv_mem = info_field(info, "argv-mem");
	ASSERT(qbuf >= 0 && room >= 0 && argv_mem >= 0);
	ASSERT_LE(qbuf + room, SHRUNK);
	ASSERT_LE(argv_mem, SHRUNK);
	return 0;
}

/* A request of 2^20 arguments (DEL of empty keys, 6 MiB) grows the
 * server's argument slots to 32 MiB. Once it is answered they must
 * shrink back, as the input buffer does: kept, every idle connection that
 * once sent one would hold them (20 such connections held 684 MiB). */
#define MANY_ARGS (1 << 20)

static int test_many_args(void)
{
	char *req = malloc(6 * (size_t)MANY_ARGS + 64);
	ASSERT(req != NULL);
	size_t len = (size_t)sprintf(req, "*%d\r\n$3\r\nDEL\r\n", MANY_ARGS);
	for (int i = 1; i < MANY_ARGS; i++, len += 6)
		memcpy(req + len, "$0\r\n\r\n", 6);
	int fd = dial();
	ASSERT(fd >= 0);
	ASSERT_EQ(send_all(fd, req, len), 0);
	free(req);
	ASSERT_EQ(expect_str(fd, ":0\r\n"), 0);
	/* Sent once the DEL is answered: read after the server made room. */
	ASSERT_EQ(send_str(fd, "CLIENT INFO\r\n"), 0);
	ASSERT_EQ(expect_shrunk(fd), 0);
	close(fd);
	return 0;
}

/* A 6 MiB SET grows the server's input buffer to 8 MiB. Once it is
 * answered the buffer must shrink back, also when the next request came
 * in the same read and is still half there (here a multibulk ECHO; an
 * inline line over 8 KiB kept the buffer too): the connection could stay
 * like that, holding 8 MiB, for as long as its client likes. */
#define BIG_VALUE (6 << 20)
#define ECHO_LEN 9000

static int test_shrink_pending(void)
{
	char *req = malloc(BIG_VALUE + ECHO_LEN + 128);
	ASSERT(req != NULL);
	size_t len = (size_t)sprintf(req, "*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n"
				     "$%d\r\n", BIG_VALUE);
	memset(req + len, 'v', BIG_VALUE);
	len += BIG_VALUE;
	len += (size_t)sprintf(req + len, "\r\n*2\r\n$4\r\nECHO\r\n$%d\r\n",
			       ECHO_LEN);
	size_t echo = len; /* where the ECHO's data starts */
	memset(req + echo, 'e', ECHO_LEN);
	len += ECHO_LEN;
	len += (size_t)sprintf(req + len, "\r\nCLIENT INFO\r\n");
	int fd = dial();
	ASSERT(fd >= 0);
	/* The SET and 4,000 bytes of the ECHO's data: the server makes room
	 * after answering the SET, with the ECHO half there. */
	ASSERT_EQ(send_all(fd, req, echo + 4000), 0);
	ASSERT_EQ(expect_str(fd, "+OK\r\n"), 0);
	/* The rest, in one write: CLIENT INFO is answered with the ECHO,
	 * before the server makes room again, so it shows the buffer as the
	 * half-read ECHO left it. */
	ASSERT_EQ(send_all(fd, req + echo + 4000, len - echo - 4000), 0);
	char head[16];
	snprintf(head, sizeof(head), "$%d\r\n", ECHO_LEN);
	ASSERT_EQ(expect_str(fd, head), 0);
	ASSERT_EQ(expect(fd, req + echo, ECHO_LEN), 0);
	ASSERT_EQ(expect_str(fd, "\r\n"), 0);
	ASSERT_EQ(expect_shrunk(fd), 0);
	free(req);
	close(fd);
	return 0;
}

/* CLIENT INFO describes the calling connection in Redis's fields: an id
 * of its own (CLIENT ID's), and in qbuf the bytes of the request being
 * answered. CLIENT's errors are Redis's. */
static int test_client_info(void)
{
	static const char *const fields[] = {
		"id", "fd", "db", "qbuf", "qbuf-free", "argv-mem", "rbs", "obl",
	};
	char info[2][512], want[32];
	int fds[2];
	for (int i = 0; i < 2; i++) {
		fds[i] = dial();
		ASSERT(fds[i] >= 0);
		ASSERT_EQ(send_str(fds[i], "CLIENT INFO\r\n"), 0);
		ASSERT_EQ(read_info(fds[i], info[i], sizeof(info[i])), 0);
		for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
			if (info_field(info[i], fields[f]) < 0)
				TEST_FAIL("no %s= in \"%s\"", fields[f],
					  info[i]);
		ASSERT(strstr(info[i], " addr=127.0.0.1:") != NULL);
		/* Nothing but this request is in the buffer. */
		ASSERT_EQ(info_field(info[i], "qbuf"), 13);
	}
	ASSERT_NE(info_field(info[0], "id"), info_field(info[1], "id"));
	snprintf(want, sizeof(want), ":%lld\r\n", info_field(info[1], "id"));
	ASSERT_EQ(send_str(fds[1], "client id\r\n"), 0);
	ASSERT_EQ(expect_str(fds[1], want), 0);
	ASSERT_EQ(send_str(fds[0], "CLIENT\r\nCLIENT FOO\r\nclient info x\r\n"
			   "CLIENT SETNAME\r\nCLIENT GETNAME\r\n"), 0);
	ASSERT_EQ(expect_str(fds[0],
		"-ERR wrong number of arguments for 'client' command\r\n"
		"-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n"
		"-ERR wrong number of arguments for 'client|info' command\r\n"
		"-ERR wrong number of arguments for 'client|setname' command\r\n"
		"$-1\r\n"), 0);
	close(fds[0]);
	close(fds[1]);
	return 0;
}

/* What redis-benchmark and redis-cli send before their first command. */
static int test_handshake(void)
{
	static char req[1024];
	size_t len = 0;
	CMD(req, &len, "CONFIG", "GET", "save");
	CMD(req, &len, "CONFIG", "GET", "appendonly");
	CMD(req, &len, "CONFIG", "GET", "maxmemory");
	CMD(req, &len, "COMMAND", "DOCS");
	CMD(req, &len, "HELLO", "3");
	CMD(req, &len, "SELECT", "0");
	CMD(req, &len, "SELECT", "1");
	CMD(req, &len, "CLIENT", "SETNAME", "x");
	CMD(req, &len, "QUIT");
	CMD(req, &len, "PING"); /* after QUIT: never answered */
	int fd = dial();
	ASSERT(fd >= 0);
	ASSERT_EQ(send_all(fd, req, len), 0);
	ASSERT_EQ(expect_str(fd,
		"*2\r\n$4\r\nsave\r\n$0\r\n\r\n"
		"*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n"
		"*0\r\n*0\r\n"
		"-ERR unknown command 'HELLO'\r\n"
		"+OK\r\n-ERR DB index is out of range\r\n+OK\r\n+OK\r\n"), 0);
	ASSERT(at_eof(fd));
	close(fd);
	return 0;
}

/* `req` gets the replies `before`, then a protocol error, then EOF. */
static int expect_bad(const char *req, size_t len, const char *before)
{
	static const char err[] = "-ERR Protocol error: ";
	char line[256];
	int fd = dial();
	ASSERT(fd >= 0);
	ASSERT_EQ(send_all(fd, req, len), 0);
	ASSERT_EQ(expect_str(fd, before), 0);
	ASSERT_EQ(expect_str(fd, err), 0);
	size_t n = 0;
	while (n < sizeof(line) - 1 && recv_all(fd, line + n, 1) == 0 && line[n++] != '\n')
		;
	ASSERT(n >= 2 && line[n - 2] == '\r' && line[n - 1] == '\n');
	ASSERT(at_eof(fd));
	close(fd);
	return 0;
}

static int test_malformed(void)
{
	static const char *bad[] = {
		"*x\r\n",
		"*1x\r\n",
		"*+1\r\n",
		"*01\r\n",
		"*1\rx",
		"*99999999\r\n",                      /* over ARGS_MAX */
		"*99999999999999999999999\r\n",       /* over long long */
		"*1\r\nGET\r\n",                      /* expected '$' */
		"*2\r\n$3\r\nGET\r\n:1\r\n",
		"*1\r\n$-1\r\n",
		"*1\r\n$\r\n",
		"*1\r\n$536870913\r\n",               /* 512 MiB + 1 */
		"*1\r\n$3\r\nPINGPONG\r\n",           /* no CRLF after the bulk */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (expect_bad(bad[i], strlen(bad[i]), "")) {
			fprintf(stderr, "  request %zu\n", i);
			return 1;
		}
	/* Good requests before a bad one are answered first. */
	const char *mixed = "PING\r\n*1\r\n$4\r\nPING\r\n*1\r\n%\r\n";
	ASSERT_EQ(expect_bad(mixed, strlen(mixed), "+PONG\r\n+PONG\r\n"), 0);
	/* An inline request over 64 KiB, and a "$N" line too long. */
	static char huge[70000];
	memset(huge, 'a', sizeof(huge));
	ASSERT_EQ(expect_bad(huge, sizeof(huge), ""), 0);
	memcpy(huge, "*1\r\n$", 5);
	memset(huge + 5, '1', sizeof(huge) - 5);
	ASSERT_EQ(expect_bad(huge, sizeof(huge), ""), 0);
	/* The 512 MiB limit itself is accepted: the server waits for data. */
	int fd = dial();
	ASSERT(fd >= 0);
	ASSERT_EQ(send_str(fd, "*1\r\n$536870912\r\nabc"), 0);
	shutdown(fd, SHUT_WR);
	ASSERT(at_eof(fd));
	close(fd);
	return 0;
}

/* Random bytes, RESP-ish tokens and valid prefixes with junk after. The
 * server may answer anything or nothing; it must not die or hang. */
static int test_fuzz(void)
{
	static const char *const parts[] = {
		"*", "$", "1", "2", "3", "0", "-1", "-", "\r\n", "\r", "\n", " ",
		"GET", "SET", "DEL", "INCR", "PING", "ECHO", "key", "\0", "\xff",
		"99999999999", "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n", "$536870912\r\n",
	};
	if (example_fuzz(parts, sizeof(parts) / sizeof(parts[0]),
			 "*2\r\n$4\r\nPING\r\n", TEST_SCALE(600, 300, 150)))
		return 1;
	int fd = dial();
	ASSERT(fd >= 0);
	ASSERT_EQ(send_str(fd, "PING\r\n"), 0);
	ASSERT_EQ(expect_str(fd, "+PONG\r\n"), 0);
	close(fd);
	return 0;
}

/* THREADS threads with CONNS connections each; every round sends one
 * pipeline per connection (SET a key of its own, GET it, INCR a shared
 * counter) before reading any reply, so all of them are in flight at
 * once. At the end the counter holds every increment. */
#define THREADS 8
#define CONNS 16

static int rounds_nr;

static void *client_thread(void *arg)
{
	int t = (int)(intptr_t)arg, fds[CONNS];
	char req[256], want[128], key[32], val[32];
	for (int c = 0; c < CONNS; c++)
		if ((fds[c] = dial()) < 0)
			return (void *)1;
	for (int r = 0; r < rounds_nr; r++) {
		int vlen = snprintf(val, sizeof(val), "val:%d", r);
		snprintf(want, sizeof(want), "+OK\r\n$%d\r\n%s\r\n:", vlen, val);
		for (int c = 0; c < CONNS; c++) {
			size_t len = 0;
			snprintf(key, sizeof(key), "key:%d:%d", t, c);
			CMD(req, &len, "SET", key, val);
			CMD(req, &len, "GET", key);
			CMD(req, &len, "INCR", "shared");
			if (send_all(fds[c], req, len) < 0)
				return (void *)1;
		}
		for (int c = 0; c < CONNS; c++) {
			char line[32]; /* the counter's value: any */
			size_t i = 0;
			if (expect_str(fds[c], want) < 0)
				return (void *)1;
			while (i < sizeof(line) - 1 && recv_all(fds[c], line + i, 1) == 0 &&
			       line[i] != '\n')
				i++;
			if (i < 2 || line[i] != '\n')
				return (void *)1;
		}
	}
	for (int c = 0; c < CONNS; c++)
		close(fds[c]);
	return NULL;
}

static int test_concurrent(void)
{
	pthread_t th[THREADS];
	rounds_nr = TEST_SCALE(100, 30, 15);
	for (int t = 0; t < THREADS; t++)
		ASSERT_EQ(pthread_create(&th[t], NULL, client_thread, (void *)(intptr_t)t), 0);
	int failed = 0;
	for (int t = 0; t < THREADS; t++) {
		void *r;
		pthread_join(th[t], &r);
		failed |= r != NULL;
	}
	ASSERT(!failed);
	int fd = dial();
	ASSERT(fd >= 0);
	ASSERT_EQ(send_str(fd, "INCR shared\r\nDEL shared\r\n"), 0);
	char first[64];
	snprintf(first, sizeof(first), ":%d\r\n:1\r\n", THREADS * CONNS * rounds_nr + 1);
	ASSERT_EQ(expect_str(fd, first), 0);
	close(fd);
	return 0;
}

/* redis-cli, if installed: each command on a connection of its own;
 * its output is not a terminal, so replies come raw. Its output for
 * args, NUL-terminated, into got[0..cap). */
static int cli_out(const char *args, char *got, size_t cap)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "redis-cli -p %d %s 2>&1", port, args);
	FILE *p = popen(cmd, "r");
	ASSERT(p != NULL);
	size_t n = fread(got, 1, cap - 1, p);
	got[n] = 0;
	ASSERT_EQ(pclose(p), 0);
	return 0;
}

static int cli(const char *args, const char *want)
{
	char got[256];
	ASSERT_EQ(cli_out(args, got, sizeof(got)), 0);
	if (strcmp(got, want) != 0)
		TEST_FAIL("redis-cli %s: got \"%s\", want \"%s\"", args, got, want);
	return 0;
}

static int test_redis_cli(void)
{
	char info[512];
	if (system("command -v redis-cli >/dev/null 2>&1") != 0) {
		printf("redis-cli not installed: that check skipped\n");
		return 0;
	}
	ASSERT_EQ(cli("ping", "PONG\n"), 0);
	ASSERT_EQ(cli("set cli-key 'hello world'", "OK\n"), 0);
	ASSERT_EQ(cli("get cli-key", "hello world\n"), 0);
	ASSERT_EQ(cli("incr cli-n", "1\n"), 0);
	ASSERT_EQ(cli("del cli-key cli-n", "2\n"), 0);
	ASSERT_EQ(cli("get cli-key", "\n"), 0);
	ASSERT_EQ(cli_out("client info", info, sizeof(info)), 0);
	if (strncmp(info, "id=", 3) != 0 || info_field(info, "qbuf") <= 0)
		TEST_FAIL("redis-cli client info: got \"%s\"", info);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s path/to/resp\n", argv[0]);
		return 1;
	}
	test_watchdog(60);
	pid_t pid = example_start(argv[1], NULL);
	if (pid < 0)
		return 1;
	int r = 0;
	if (test_pipelined() || test_inline() || test_binary() || test_big() ||
	    test_client_info() || test_many_args() || test_shrink_pending() ||
	    test_handshake() || test_malformed() || test_fuzz() ||
	    test_concurrent() || test_redis_cli())
		r = 1;
	if (example_stop(pid))
		r = 1;
	return r;
}
