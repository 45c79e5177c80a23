/* daemons.c: which processes `run` still waits for after its program
 * exited.  run is a child subreaper, so every orphan of the program's tree
 * becomes its child, and it waits for them all: their events belong to the
 * run.  A daemon (gpg-agent, ssh-agent, a server a script started) left its
 * session with setsid and may never exit; waiting for it would make the run
 * never end.  Read from /proc: a child is PID whose stat names our pid as
 * its parent, a daemon one whose session is neither ours nor the program's.
 */
#define _GNU_SOURCE
#include "daemons.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* pid's name, parent and session from /proc/PID/stat; false if it is gone. */
static bool read_stat(const char *pid, char *name, size_t cap, long *ppid, long *sid)
{
	char path[300], buf[512];
	snprintf(path, sizeof path, "/proc/%s/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	/* "pid (comm) state ppid pgrp session ...": comm may hold ')' */
	char *open_paren = strchr(buf, '('), *close_paren = strrchr(buf, ')');
	if (!open_paren || !close_paren || close_paren < open_paren)
		return false;
	size_t len = (size_t)(close_paren - open_paren - 1);
	if (len >= cap)
		len = cap - 1;
	memcpy(name, open_paren + 1, len);
	name[len] = 0;
	char state;
	long pgrp;
	return sscanf(close_paren + 1, " %c %ld %ld %ld", &state, ppid, &pgrp, sid) == 4 && state != 'Z';
}

static void add_name(char *buf, size_t cap, int n, const char *pid, const char *name)
{
	if (n >= 4)
		return;
	size_t used = strlen(buf);
	if (used + 1 < cap)
		snprintf(buf + used, cap - used, "%spid %.20s (%.40s)", n ? ", " : "", pid, name);
}

void cli_children_scan(cli_children *c, long prog_sid)
{
	c->jobs = c->daemons = 0;
	c->job_names[0] = c->daemon_names[0] = 0;
	DIR *d = opendir("/proc");
	if (!d)
		return;
	long me = (long)getpid(), my_sid = (long)getsid(0);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		char name[64];
		long ppid, sid;
		if (!read_stat(e->d_name, name, sizeof name, &ppid, &sid) || ppid != me)
			continue;
		if (sid == my_sid || sid == prog_sid)
			add_name(c->job_names, sizeof c->job_names, c->jobs++, e->d_name, name);
		else
			add_name(c->daemon_names, sizeof c->daemon_names, c->daemons++, e->d_name, name);
	}
	closedir(d);
}
