/* cli.h: what the CLI's files share: the subcommands' entry points. */
#ifndef CLI_H
#define CLI_H

int cli_cmd_classes(int argc, char **argv);
int cli_cmd_run(int argc, char **argv);
int cli_cmd_report(int argc, char **argv);
int cli_cmd_compare(int argc, char **argv);
int cli_cmd_sites(int argc, char **argv);
int cli_cmd_export(int argc, char **argv);

#endif
