/* frame_name.c: the one way a stack frame is named (frame_name.h). */
#include "frame_name.h"

#include <stdio.h>
#include <string.h>

const char *cli_base_name(const char *path)
{
	const char *b = path ? strrchr(path, '/') : NULL;
	return b ? b + 1 : path;
}

void cli_frame_name(char *buf, size_t n, const char *function, const char *module, uint64_t offset, uint64_t pc)
{
	if (function)
		snprintf(buf, n, "%s", function);
	else if (module)
		snprintf(buf, n, "%s+0x%llx", cli_base_name(module), (unsigned long long)offset);
	else
		snprintf(buf, n, "0x%llx", (unsigned long long)pc);
}
