/* fmt.h: number formatting for people (fmt.c). */
#ifndef CLI_FMT_H
#define CLI_FMT_H

#include <stddef.h>
#include <stdint.h>

/* "0 B", "512 B", "12.3 KiB", "1.50 GiB" */
char *cli_fmt_bytes(char *buf, size_t n, int64_t bytes);
/* "12.3%" (one decimal) */
char *cli_fmt_pct(char *buf, size_t n, double pct);
/* nanoseconds as "850 ms", "12.3 ms", "2.50 s" */
char *cli_fmt_ns(char *buf, size_t n, int64_t ns);

#endif
