/* daemons.h: the processes a run is left waiting for once its program has
 * exited, and which of them are daemons (daemons.c). */
#ifndef CLI_DAEMONS_H
#define CLI_DAEMONS_H

#include <stdbool.h>
#include <stddef.h>

/* Whether the children of the calling process (a subreaper: the orphans of
 * its program's tree are its children) are all daemons: in a session other
 * than the caller's (they called setsid).  Then their count, and "pid PID (NAME)"
 * of the first few into buf.  False when one of them is still in the
 * caller's session (a job the program left behind), or there are none. */
bool cli_daemons_only(int *count, char *buf, size_t cap);

#endif
