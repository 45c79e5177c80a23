/* many_stacks LEVELS REPEAT: 2^LEVELS distinct allocation stacks, each
 * allocating REPEAT times.  At each level step() goes on through left()
 * or right(), chosen by a bit of the path, so every path is its own chain
 * of return addresses; leaf() allocates at the end of each.  More stacks
 * than libtrace's small id table takes (stack.c: 8192) exercise the large
 * one, including finding a stack there again. */
#include <stdio.h>
#include <stdlib.h>

static volatile unsigned sink;
static void step(int level, unsigned path);

__attribute__((noinline)) static void leaf(void)
{
	char *p = malloc(48);
	if (!p)
		abort();
	p[0] = (char)sink;
	sink += (unsigned char)p[0];
	free(p);
}

__attribute__((noinline)) static void left(int level, unsigned path)
{
	step(level - 1, path >> 1);
	sink++; /* no tail call: each caller keeps its own return address */
}

__attribute__((noinline)) static void right(int level, unsigned path)
{
	step(level - 1, path >> 1);
	sink += 2;
}

__attribute__((noinline)) static void step(int level, unsigned path)
{
	if (level == 0)
		leaf();
	else if (path & 1)
		left(level, path);
	else
		right(level, path);
	sink ^= 1;
}

int main(int argc, char **argv)
{
	int levels = argc > 1 ? atoi(argv[1]) : 14, repeat = argc > 2 ? atoi(argv[2]) : 3;
	if (levels < 1 || levels > 20 || repeat < 1)
		return 2;
	for (int r = 0; r < repeat; r++)
		for (unsigned path = 0; path < 1u << levels; path++)
			step(levels, path);
	printf("%u stacks x %d\n", 1u << levels, repeat);
	return 0;
}
