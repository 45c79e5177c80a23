/* check.h: the tiny assertion layer of the unit tests: CHECK records a
 * failure with its location and message and lets the test go on; a test's
 * main returns check_result(), non-zero when any CHECK failed. */
#ifndef CHECK_H
#define CHECK_H

#include <stdio.h>

static int check_failures;

#define CHECK(cond, ...)                                                  \
	do {                                                                  \
		if (!(cond)) {                                                    \
			if (check_failures++ < 30) {                                  \
				fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
				fprintf(stderr, __VA_ARGS__);                             \
				fputc('\n', stderr);                                      \
			}                                                             \
		}                                                                 \
	} while (0)

static inline int check_result(const char *name)
{
	if (check_failures)
		fprintf(stderr, "%s: %d check(s) failed\n", name, check_failures);
	else
		printf("%s: ok\n", name);
	return check_failures ? 1 : 0;
}

#endif
