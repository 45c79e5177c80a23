/* daemons.h: the processes a run is left waiting for once its program has
 * exited, and which of them are daemons (daemons.c). */
#ifndef CLI_DAEMONS_H
#define CLI_DAEMONS_H

/* The live children of the calling process (a subreaper: the orphans of its
 * program's tree are its children): those in its session (jobs the program
 * left behind) and the daemons (in another session: they called setsid),
 * and "pid PID (NAME)" of the first few of each, comma-separated. */
typedef struct cli_children {
	int jobs, daemons;
	char job_names[192], daemon_names[192];
} cli_children;

void cli_children_scan(cli_children *c);

#endif
