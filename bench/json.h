/*
 * bench/json.h - the two pieces of JSON reading that ringo-bench needs in
 * more than one place (the Go twin's output, compare's reports): both
 * inputs are flat objects written by our own programs.
 */
#ifndef RINGO_BENCH_JSON_H
#define RINGO_BENCH_JSON_H

#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>

static inline const char *bench_json_skip_ws(const char *p)
{
	while (isspace((unsigned char)*p))
		p++;
	return p;
}

/* A JSON string at p into out (\u escapes become '?'). A string longer
 * than cap - 1 is truncated, or is an error when `strict`. Returns the
 * position after it, or NULL. */
static inline const char *bench_json_string(const char *p, char *out,
					    size_t cap, bool strict)
{
	size_t len = 0;

	if (*p++ != '"')
		return NULL;
	for (; *p != '"'; p++) {
		char c = *p;
		if (c == '\0')
			return NULL;
		if (c == '\\') {
			c = *++p;
			if (c == 'n')
				c = '\n';
			else if (c == 't')
				c = '\t';
			else if (c == 'u') {
				for (int i = 0; i < 4; i++)
					if (!isxdigit((unsigned char)*++p))
						return NULL;
				c = '?';
			} else if (c != '"' && c != '\\' && c != '/') {
				return NULL;
			}
		}
		if (len + 1 < cap)
			out[len++] = c;
		else if (strict)
			return NULL;
	}
	out[len] = '\0';
	return p + 1;
}

#endif
