/*
 * examples/resp.c - a RESP2 key-value server (a small Redis): one
 * goroutine per connection, one hash table shared by all of them.
 * redis-cli and redis-benchmark talk to it unchanged.
 *
 *   resp [--mode uring|epoll] [--addr HOST:PORT] [port]
 *
 *   GET key, SET key value, DEL key..., INCR key, PING [msg], ECHO msg,
 *   DBSIZE, QUIT, CLIENT ID|INFO|HELP, and what clients send as they
 *   connect: SELECT 0, CONFIG GET save|appendonly (a server that persists
 *   nothing), COMMAND [DOCS|COUNT] (no docs), CLIENT SETNAME|SETINFO (OK;
 *   names are not kept) and CLIENT GETNAME (nil). HELLO is unknown, so
 *   clients stay on RESP2. Keys and values are binary-safe.
 *
 * CLIENT INFO describes the calling connection in one line of
 * field=value pairs, as Redis 7 does, with Redis's names and meanings:
 *   id          as CLIENT ID: 1, 2, ... in accept order
 *   addr laddr  the client's address and the server's
 *   fd          the socket's descriptor
 *   name= db=0 resp=2  always: names are not kept, one db, RESP2 only
 *   qbuf        bytes in the input buffer: this request, those pipelined
 *               after it and those answered before it since the last read
 *               (they are dropped before the next read, as Redis does)
 *   qbuf-free   its free room: qbuf + qbuf-free is its capacity
 *   rbs         the reply buffer's capacity
 *   obl         reply bytes queued before this one, not yet written
 * and one that differs: argv-mem, bytes of argument slots held (a span
 * and an arg each). Redis counts its arguments' bytes there; ours stay
 * in the input buffer, so what a request leaves behind is slots. The
 * tests read qbuf, qbuf-free and argv-mem to check that a big request's
 * memory does not stay with the connection once it is answered.
 *
 * Requests are RESP arrays of bulk strings, or inline lines
 * (examples/resp_proto.c); keys live in examples/resp_store.c. Each
 * goroutine answers every complete request in its buffer and writes
 * the replies in one go before it reads again, so pipelined requests cost
 * one read and one write per batch (more only past 64 KiB of replies).
 * A malformed request is answered "-ERR Protocol error: ..." and the
 * connection closes.
 *
 * Listens on 127.0.0.1:6380 unless told otherwise (a bare port keeps the
 * host; 0 picks a free one) and prints "listening on ADDR", as
 * examples/echo does. Try
 *   ./resp &  redis-cli -p 6380 set k v;  redis-benchmark -p 6380 -t get,set -q
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <strings.h>

#include "resp.h"
#include "server.h"

static bool is(const struct arg *a, const char *word)
{
	return strlen(word) == a->n && strncasecmp(a->p, word, a->n) == 0;
}

static void reply_bulk(void *cl, const char *v, size_t n)
{
	out_bulk(cl, v, n);
}

static void cmd_get(struct client *cl, int argc, const struct arg *v)
{
	(void)argc;
	if (!store_get(v[1].p, v[1].n, reply_bulk, cl))
		out_lit(cl, "$-1\r\n");
}

static void cmd_set(struct client *cl, int argc, const struct arg *v)
{
	if (argc != 3) { /* EX, NX, GET, ... */
		out_lit(cl, "-ERR syntax error (only SET key value is supported)\r\n");
		return;
	}
	store_set(v[1].p, v[1].n, v[2].p, v[2].n);
	out_lit(cl, "+OK\r\n");
}

static void cmd_del(struct client *cl, int argc, const struct arg *v)
{
	long long deleted = 0;
	for (int i = 1; i < argc; i++)
		deleted += store_del(v[i].p, v[i].n);
	out_num(cl, ':', deleted);
}

static void cmd_incr(struct client *cl, int argc, const struct arg *v)
{
	(void)argc;
	long long x;
	const char *err = store_incr(v[1].p, v[1].n, &x);
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
	out_num(cl, ':', (long long)store_size());
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
static void cmd_client(struct client *cl, int argc, const struct arg *v);

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

/* Run the command of table[0..n) named word, with v[0..argc); if its
 * arity does not fit, answer Redis's error, naming it prefix + name.
 * False if none is named word. */
static bool run_from(const struct command *table, size_t n, const char *prefix,
		     const struct arg *word, struct client *cl, int argc,
		     const struct arg *v)
{
	for (size_t i = 0; i < n; i++) {
		const struct command *cmd = &table[i];
		if (!is(word, cmd->name))
			continue;
		if (cmd->arity >= 0 ? argc != cmd->arity : argc < -cmd->arity)
			out_fmt(cl, "-ERR wrong number of arguments for "
				"'%s%s' command\r\n", prefix, cmd->name);
		else
			cmd->run(cl, argc, v);
		return true;
	}
	return false;
}

static void run(struct client *cl, int argc, const struct arg *v)
{
	char name[68];
	if (!run_from(commands, COMMANDS_NR, "", &v[0], cl, argc, v))
		out_fmt(cl, "-ERR unknown command '%s'\r\n",
			shown(v[0].p, v[0].n, name));
}

/* ---- CLIENT: its subcommands take v[0..argc) with "client" in v[0] ---- */

static void client_ok(struct client *cl, int argc, const struct arg *v)
{
	(void)argc, (void)v;
	out_lit(cl, "+OK\r\n"); /* names are not kept */
}

static void client_getname(struct client *cl, int argc, const struct arg *v)
{
	(void)argc, (void)v;
	out_lit(cl, "$-1\r\n");
}

static void client_id(struct client *cl, int argc, const struct arg *v)
{
	(void)argc, (void)v;
	out_num(cl, ':', (long long)cl->id);
}

/* c's address (remote or local, as get says) formatted into buf; "?" if
 * it has none. */
static const char *addr_of(ringo_conn *c,
			   int (*get)(ringo_conn *, struct ringo_addr *),
			   char buf[static RINGO_ADDR_STRLEN])
{
	struct ringo_addr a;
	if (get(c, &a) < 0 || ringo_addr_format(&a, buf, RINGO_ADDR_STRLEN) < 0)
		return "?";
	return buf;
}

/* The fields the header lists, in Redis's order. The buffer holds both
 * addresses and 8 numbers of at most 20 digits with their names. */
static void client_info(struct client *cl, int argc, const struct arg *v)
{
	(void)argc, (void)v;
	char info[2 * RINGO_ADDR_STRLEN + 256];
	char addr[RINGO_ADDR_STRLEN], laddr[RINGO_ADDR_STRLEN];
	size_t slot = sizeof(*cl->span) + sizeof(*cl->argv);
	int n = snprintf(info, sizeof(info),
		"id=%llu addr=%s laddr=%s fd=%d name= db=0 qbuf=%zu "
		"qbuf-free=%zu argv-mem=%zu rbs=%zu obl=%zu resp=2\n", cl->id,
		addr_of(cl->c, ringo_conn_remote_addr, addr),
		addr_of(cl->c, ringo_conn_local_addr, laddr),
		ringo_conn_fd(cl->c), cl->len, cl->cap - cl->len,
		cl->args_cap * slot, cl->out_cap, cl->out_len);
	out_bulk(cl, info, (size_t)n);
}

static void client_help(struct client *cl, int argc, const struct arg *v)
{
	(void)argc, (void)v;
	out_lit(cl, "*7\r\n"
		"+CLIENT <subcommand> [<arg> ...]. Subcommands are:\r\n"
		"+GETNAME\r\n+ID\r\n+INFO\r\n+SETNAME <name>\r\n"
		"+SETINFO <attr> <value>\r\n+HELP\r\n");
}

/* Arities count "client" and the subcommand, as Redis's do. */
static const struct command client_commands[] = {
	{ "setname", client_ok, 3 },      { "setinfo", client_ok, 4 },
	{ "getname", client_getname, 2 }, { "id", client_id, 2 },
	{ "info", client_info, 2 },       { "help", client_help, 2 },
};

static void cmd_client(struct client *cl, int argc, const struct arg *v)
{
	char name[68];
	size_t n = sizeof(client_commands) / sizeof(client_commands[0]);
	if (!run_from(client_commands, n, "client|", &v[1], cl, argc, v))
		out_fmt(cl, "-ERR unknown subcommand '%s'. Try CLIENT HELP.\r\n",
			shown(v[1].p, v[1].n, name));
}

static void serve(void *arg)
{
	struct client *cl = arg;
	int one = 1, r = NEED_MORE;

	setsockopt(ringo_conn_fd(cl->c), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (;;) {
		while (!cl->quit && (r = client_parse(cl)) == DONE) {
			for (int i = 0; i < cl->argc; i++)
				cl->argv[i] = (struct arg){ cl->in + cl->pos + cl->span[i].off,
							    cl->span[i].n };
			if (cl->argc > 0)
				run(cl, cl->argc, cl->argv);
			cl->pos += cl->used;
			if (cl->out_len >= OUT_FLUSH && client_flush(cl) < 0)
				goto out;
		}
		if (cl->quit || r == BAD)
			break;
		if (client_flush(cl) < 0)
			goto out;
		if (client_make_room(cl) < 0) {
			client_bad(cl, "request over 1 GiB");
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
	if (client_flush(cl) == 0) {
		ringo_conn_shutdown(cl->c, SHUT_WR);
		ringo_conn_set_read_deadline(cl->c, ringo_now() + RINGO_SECOND);
		for (int i = 0; i < 128 && ringo_conn_read(cl->c, cl->in, cl->cap) > 0; i++)
			;
	}
out:
	client_free(cl);
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
	example_address(buf, sizeof(buf), address, port);
	return ringo_run_config(&cfg, main_g, buf);
}
