/* print.c: formatting into caller-owned buffers and writing with write(2).
 * Never allocates, so it is safe inside the allocator and at exit.
 */
#include "ga_internal.h"

#include <errno.h>
#include <unistd.h>

static void buf_putc(ga_buf *b, char c)
{
	if (b->len + 1 < b->cap)
		b->p[b->len++] = c;
}

void _ga_buf_str(ga_buf *b, const char *s)
{
	while (*s)
		buf_putc(b, *s++);
}

void _ga_buf_pad(ga_buf *b, const char *s, int width)
{
	int n = 0;
	for (const char *q = s; *q; q++)
		n++;
	for (; n < width; n++)
		buf_putc(b, ' ');
	_ga_buf_str(b, s);
}

void _ga_buf_u64(ga_buf *b, uint64_t v, int width)
{
	char tmp[24];
	int i = (int)sizeof tmp - 1;
	tmp[i] = 0;
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	_ga_buf_pad(b, tmp + i, width);
}

void _ga_buf_hex(ga_buf *b, uint64_t v)
{
	char tmp[24];
	int i = (int)sizeof tmp - 1;
	tmp[i] = 0;
	do {
		tmp[--i] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	tmp[--i] = 'x';
	tmp[--i] = '0';
	_ga_buf_str(b, tmp + i);
}

/* Bytes with a binary unit and one decimal: "12.5 MiB", right-aligned. */
void _ga_buf_bytes(ga_buf *b, uint64_t v, int width)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	char tmp[32];
	ga_buf t = {tmp, 0, sizeof tmp};
	unsigned u = 0;
	uint64_t scaled10 = v * 10;
	while (v >= 1024 && u < 4) {
		scaled10 = v * 10 / 1024;
		v /= 1024;
		u++;
	}
	if (u == 0) {
		_ga_buf_u64(&t, v, 0);
	} else {
		_ga_buf_u64(&t, scaled10 / 10, 0);
		buf_putc(&t, '.');
		buf_putc(&t, (char)('0' + scaled10 % 10));
	}
	buf_putc(&t, ' ');
	_ga_buf_str(&t, units[u]);
	t.p[t.len] = 0;
	_ga_buf_pad(b, tmp, width);
}

void _ga_write_all(int fd, const char *p, size_t n)
{
	int saved = errno;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		p += w;
		n -= (size_t)w;
	}
	errno = saved;
}
