/*
 * examples/hello.c - the README's example: ten goroutines square their
 * numbers and send them over one unbuffered channel.
 */
#include <ringo/ringo.h>
#include <stdint.h>
#include <stdio.h>

static ringo_chan *results;

static void square(void *arg)
{
	int n = (int)(intptr_t)arg;
	n *= n;
	ringo_chan_send(results, &n);
}

static int main_g(void *arg)
{
	(void)arg;
	results = ringo_chan_make(sizeof(int), 0);
	for (intptr_t i = 1; i <= 10; i++)
		ringo_go(square, (void *)i);
	int sum = 0, v;
	for (int i = 0; i < 10; i++) {
		ringo_chan_recv(results, &v);
		sum += v;
	}
	printf("sum of squares: %d\n", sum);
	ringo_chan_free(results);
	return sum == 385 ? 0 : 1;
}

int main(void)
{
	return ringo_run(main_g, NULL);
}
