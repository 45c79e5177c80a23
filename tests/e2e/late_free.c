/* late_free.c: a program linked with late_free_lib (see there). */
#include <stdio.h>

int late_free_kept(void);

int main(void)
{
	puts(late_free_kept() == 100 ? "ok" : "not kept");
	return 0;
}
