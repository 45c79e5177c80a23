/* main.c: the goalloc-trace command: subcommand dispatch and help. */
#include "ga.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("goalloc-trace %s\n", GOALLOC_VERSION);
	return 0;
}
