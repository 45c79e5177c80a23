/* fmt.c: number formatting for people: bytes with binary units. */
#include "fmt.h"

#include <stdio.h>

char *cli_fmt_bytes(char *buf, size_t n, int64_t bytes)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)(bytes < 0 ? -bytes : bytes);
	int u = 0;
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	const char *sign = bytes < 0 ? "-" : "";
	if (u == 0)
		snprintf(buf, n, "%s%lld B", sign, (long long)(bytes < 0 ? -bytes : bytes));
	else
		snprintf(buf, n, v < 10 ? "%s%.2f %s" : "%s%.1f %s", sign, v, units[u]);
	return buf;
}
