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
