/*
 * core/throw.c - fatal errors: runtime invariants (throw) and API misuse
 * (panic). Both print one line naming the goroutine and abort in every
 * build; neither is ever compiled out.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

static void describe_g(char *buf, size_t len)
{
	struct ringo__g *g = ringo__getg();

	if (!g) {
		snprintf(buf, len, "outside any goroutine");
		return;
	}
	snprintf(buf, len, "in goroutine %llu%s%s%s",
		 (unsigned long long)g->id, g->name[0] ? " [" : "", g->name,
		 g->name[0] ? "]" : "");
}

static _Noreturn void die(const char *kind, const char *who, const char *fmt,
			  va_list ap)
{
	char msg[512], gdesc[96];
	int saved = errno;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	describe_g(gdesc, sizeof(gdesc));
	fprintf(stderr, "ringo: %s: %s: %s (%s", kind, who, msg, gdesc);
	if (saved)
		fprintf(stderr, ", errno %d %s", saved, strerror(saved));
	fprintf(stderr, ")\n");
	fflush(stderr);
	/* Already said which goroutine: skip the fatal-signal report. */
	signal(SIGABRT, SIG_DFL);
	abort();
}

void ringo__throw(const char *sub, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	die("fatal", sub, fmt, ap);
}

void ringo__panic(const char *call, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	die("panic", call, fmt, ap);
}
