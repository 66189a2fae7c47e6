/*
 * tests/diag_dump.c - ringo_dump lists every goroutine with its name, its
 * state or wait reason (and how long it has waited), the object it waits
 * on, a stack and its creator, and "syscall" for one inside a system-call
 * section; parked goroutines are found by dumping until the dump shows
 * them parked.
 */
#include <stdint.h>
#include <unistd.h>

#include <ringo/ringo.h>

#include "test.h"

/* Globals, so that the leak checker sees the channels still referenced
 * by the goroutines left parked when main returns. */
static ringo_chan *recv_ch, *send_ch, *sel_a, *sel_b, *anon_ch;

/* The whole dump as a string (free it), or NULL. */
static char *dump_str(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	int n = ringo_dump(f);
	fclose(f);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Dump until every string in want[] appears (the goroutines get there in
 * their own time); the dump that has them all, or NULL after ~10 s. */
static char *dump_until(const char *const *want, int n)
{
	for (int round = 0; round < 10000; round++) {
		char *d = dump_str();
		int i = 0;
		while (d && i < n && strstr(d, want[i]))
			i++;
		if (d && i == n)
			return d;
		if (round == 9999)
			fprintf(stderr, "dump lacks \"%s\":\n%s\n", want[i],
				d ? d : "(no dump)");
		free(d);
		ringo_sleep(RINGO_MILLISECOND);
	}
	return NULL;
}

static void receiver(void *arg)
{
	(void)arg;
	ringo_chan_recv(recv_ch, NULL);
}

static void sender(void *arg)
{
	(void)arg;
	int v = 1;
	ringo_chan_send(send_ch, &v);
}

static void selector(void *arg)
{
	(void)arg;
	struct ringo_select_case cs[] = { RINGO_RECV(sel_a, NULL),
					  RINGO_RECV(sel_b, NULL) };
	RINGO_SELECT(cs);
}

static void nil_waiter(void *arg)
{
	(void)arg;
	ringo_chan_recv(NULL, NULL);
}

static void sleeper(void *arg)
{
	(void)arg;
	ringo_sleep(3600 * RINGO_SECOND);
}

static void anon(void *arg)
{
	(void)arg;
	ringo_chan_recv(anon_ch, NULL);
}

static uint64_t go_named(const char *name, void (*fn)(void *))
{
	struct ringo_go_opts o = { .name = name };
	return ringo_go_opts(&o, fn, NULL);
}

static char want_buf[16][160];

static int test_reasons(void)
{
	recv_ch = ringo_chan_make(sizeof(int), 0);
	send_ch = ringo_chan_make(sizeof(int), 0);
	sel_a = ringo_chan_make(0, 0);
	sel_b = ringo_chan_make(0, 0);
	anon_ch = ringo_chan_make(0, 0);
	uint64_t me = ringo_id();
	uint64_t r = go_named("receiver", receiver);
	uint64_t s = go_named("sender", sender);
	uint64_t sel = go_named("selector", selector);
	uint64_t nw = go_named("nilwait", nil_waiter);
	uint64_t sl = go_named("sleeper", sleeper);
	uint64_t an = ringo_go(anon, NULL);

	const char *want[16];
	int n = 0;
#define WANT(...) (snprintf(want_buf[n], sizeof(want_buf[n]), __VA_ARGS__), \
		   want[n] = want_buf[n], n++)
	WANT("goroutine %llu [main] [running]:\n", (unsigned long long)me);
	WANT("goroutine %llu [receiver] [chan receive]:\n\twaiting on %p\n",
	     (unsigned long long)r, (void *)recv_ch);
	WANT("goroutine %llu [sender] [chan send]:\n\twaiting on %p\n",
	     (unsigned long long)s, (void *)send_ch);
	WANT("goroutine %llu [selector] [select]:\n", (unsigned long long)sel);
	WANT("goroutine %llu [nilwait] [chan receive (nil chan)]:\n",
	     (unsigned long long)nw);
	WANT("goroutine %llu [sleeper] [sleep]:\n", (unsigned long long)sl);
	WANT("goroutine %llu [chan receive]:\n\twaiting on %p\n",
	     (unsigned long long)an, (void *)anon_ch);
	WANT("\tcreated by goroutine %llu at 0x", (unsigned long long)me);
	WANT("\tcreated by ringo_run\n");
#undef WANT
	char *d = dump_until(want, n);
	ASSERT(d != NULL);

	/* A parked goroutine's block has its stack: frame lines between the
	 * "waiting on" line and the "created by" line. */
	char *blk = strstr(d, want[1]);
	ASSERT(blk != NULL);
	char *created = strstr(blk, "\tcreated by");
	int frames = 0;
	for (char *p = blk; p < created; p = strchr(p, '\n') + 1)
		frames += strncmp(p, "\t0x", 3) == 0;
	ASSERT_GE(frames, 3);
	/* Exactly the six goroutines and main. */
	int blocks = 0;
	for (char *p = d; (p = strstr(p, "goroutine ")); p++)
		blocks += p == d || p[-1] == '\n';
	ASSERT_EQ(blocks, 7);
	free(d);
	ASSERT_EQ(ringo_num_goroutines(), 7);

	/* After a second, the wait shows. */
	ringo_sleep(1100 * RINGO_MILLISECOND);
	d = dump_str();
	ASSERT(d != NULL);
	snprintf(want_buf[0], sizeof(want_buf[0]),
		 "goroutine %llu [receiver] [chan receive, ",
		 (unsigned long long)r);
	char *p = strstr(d, want_buf[0]);
	if (!p)
		TEST_FAIL("no wait time in:\n%s", d);
	p += strlen(want_buf[0]);
	ASSERT(*p >= '1' && *p <= '9');
	ASSERT(strstr(p, " s]:\n") != NULL);
	free(d);

	/* Release the ones that can be released; the others stay parked
	 * and are discarded when main returns. */
	ringo_chan_close(recv_ch);
	ringo_chan_recv(send_ch, NULL);
	ringo_chan_close(sel_a);
	ringo_chan_close(anon_ch);
	ASSERT_EQ(ringo_leakcheck(3, 10 * RINGO_SECOND), 0);
	d = dump_str();
	ASSERT(d != NULL);
	ASSERT(strstr(d, "[receiver]") == NULL);
	ASSERT(strstr(d, "[nilwait] [chan receive (nil chan)") != NULL);
	free(d);
	ringo_chan_free(recv_ch);
	ringo_chan_free(send_ch);
	ringo_chan_free(sel_a);
	ringo_chan_free(sel_b);
	ringo_chan_free(anon_ch);
	return 0;
}

/* Blocks its thread in read(2) inside a system-call section until the
 * pipe has a byte, then reports on done. */
static int syscall_pipe[2];

static void syscaller(void *arg)
{
	char c;

	ringo_syscall_enter();
	ssize_t n = read(syscall_pipe[0], &c, 1);
	ringo_syscall_exit();
	int ok = n == 1;
	ringo_chan_send(arg, &ok);
}

static int test_syscall(void)
{
	ringo_chan *done = ringo_chan_make(sizeof(int), 0);
	struct ringo_go_opts o = { .name = "syscaller" };
	int ok = 0;

	ASSERT_EQ(pipe(syscall_pipe), 0);
	uint64_t id = ringo_go_opts(&o, syscaller, done);
	snprintf(want_buf[0], sizeof(want_buf[0]),
		 "goroutine %llu [syscaller] [syscall]:\n"
		 "\t(in a system call; stack unavailable)\n",
		 (unsigned long long)id);
	const char *want[] = { want_buf[0] };
	char *d = dump_until(want, 1);
	ASSERT(d != NULL);
	free(d);
	ASSERT_EQ(write(syscall_pipe[1], "x", 1), 1);
	ringo_chan_recv(done, &ok);
	ASSERT(ok);
	/* Out of the section, it is no longer shown in one. */
	d = dump_str();
	ASSERT(d != NULL);
	ASSERT(strstr(d, "[syscall]") == NULL);
	free(d);
	close(syscall_pipe[0]);
	close(syscall_pipe[1]);
	ringo_chan_free(done);
	return 0;
}

static int main_fn(void *arg)
{
	(void)arg;
	RUN(test_reasons);
	RUN(test_syscall);
	return 0;
}

int main(void)
{
	test_watchdog(100);
	for (int procs = 1; procs <= 4; procs *= 4) {
		struct ringo_config cfg = { .maxprocs = procs };
		if (ringo_run_config(&cfg, main_fn, NULL) != 0)
			return 1;
	}
	/* Outside ringo_run there are no goroutines. */
	char *d = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&d, &len);
	if (!f)
		return 1;
	int n = ringo_dump(f);
	fclose(f);
	if (n != 0 || len != 0) {
		fprintf(stderr, "FAIL: dump outside ringo_run: %d, \"%s\"\n", n,
			d);
		return 1;
	}
	free(d);
	return 0;
}
