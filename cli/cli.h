/* cli.h: what the CLI's files share: the subcommands' entry points. */
#ifndef CLI_H
#define CLI_H

int cli_cmd_classes(int argc, char **argv);
int cli_cmd_run(int argc, char **argv);
int cli_cmd_report(int argc, char **argv);
int cli_cmd_compare(int argc, char **argv);
int cli_cmd_sites(int argc, char **argv);
int cli_cmd_export(int argc, char **argv);
int cli_cmd_attach(int argc, char **argv);
/* Not in the help: replays a drainer recording (bench/drain.py). */
int cli_cmd_replay(int argc, char **argv);

#include "db.h"
/* The run's size-class table (size_class rows) in the mode given. */
int cli_write_class_table(cli_db *db, int64_t run_id, bool go_exact);

#endif
