/* daemons.h: the processes a run is left waiting for once its program has
 * exited, and which of them are daemons (daemons.c). */
#ifndef CLI_DAEMONS_H
#define CLI_DAEMONS_H

/* The live children of the calling process (a subreaper: the orphans of its
 * program's tree are its children): those in its session or in session
 * prog_sid (the program's last: it may have called setsid itself) are jobs
 * the program left behind, the others daemons (they called setsid); and
 * "pid PID (NAME)" of the first few of each, comma-separated. */
typedef struct cli_children {
	int jobs, daemons;
	char job_names[192], daemon_names[192];
} cli_children;

void cli_children_scan(cli_children *c, long prog_sid);

#endif
