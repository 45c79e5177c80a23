/* fmt.c: number formatting for people: bytes with binary units,
 * percentages with one decimal, durations. */
#include "fmt.h"

#include <stdio.h>

char *cli_fmt_bytes(char *buf, size_t n, int64_t bytes)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	uint64_t mag = bytes < 0 ? -(uint64_t)bytes : (uint64_t)bytes; /* INT64_MIN too */
	double v = (double)mag;
	int u = 0;
	while (v >= 1024 && u < 6) {
		v /= 1024;
		u++;
	}
	const char *sign = bytes < 0 ? "-" : "";
	if (u == 0)
		snprintf(buf, n, "%s%llu B", sign, (unsigned long long)mag);
	else
		snprintf(buf, n, v < 10 ? "%s%.2f %s" : "%s%.1f %s", sign, v, units[u]);
	return buf;
}

char *cli_fmt_pct(char *buf, size_t n, double pct)
{
	snprintf(buf, n, "%.1f%%", pct);
	return buf;
}

char *cli_fmt_ns(char *buf, size_t n, int64_t ns)
{
	double ms = (double)ns / 1e6;
	if (ms < 0 || ms >= 1000)
		snprintf(buf, n, "%.2f s", ms / 1000);
	else if (ms >= 100)
		snprintf(buf, n, "%.0f ms", ms);
	else
		snprintf(buf, n, "%.1f ms", ms);
	return buf;
}
