/* frame_name.h: how a stack frame is named wherever a frame is shown by
 * itself (sites.c's frames text, export, the HTML flame graph): the
 * function, else module+0xoffset, else 0xpc (frame_name.c). */
#ifndef CLI_FRAME_NAME_H
#define CLI_FRAME_NAME_H

#include <stddef.h>
#include <stdint.h>

/* The last component of a path. */
const char *cli_base_name(const char *path);
/* function may be NULL (no symbol), module NULL (no mapping known). */
void cli_frame_name(char *buf, size_t n, const char *function, const char *module, uint64_t offset, uint64_t pc);

#endif
