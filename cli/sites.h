/* sites.h: allocation sites in the drainer (sites.c): stack definitions and
 * module mappings as the target sends them, per-site counters as the model
 * (agg.c) applies allocations and frees, and at the end symbolized stacks
 * and site rows in the database. */
#ifndef CLI_SITES_H
#define CLI_SITES_H

#include "db.h"
#include "gt_event.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct cli_sites cli_sites;

/* mode: GT_STACKS_*; rate: sample_rate of GT_STACKS_SAMPLE; debug_files:
 * file:line from separate debug files too (cli_sym_new). */
cli_sites *cli_sites_new(uint32_t mode, uint64_t rate, bool debug_files);
void cli_sites_free(cli_sites *s);

/* A GT_EV_STACK, GT_EV_MODULE or GT_EV_MODPATH record of process proc. */
void cli_sites_record(cli_sites *s, uint32_t proc, const gt_record *r);
/* Process child is a fork of parent: it names parent's stacks and modules.
 * Its copies of parent's live objects are not its own (cli_sites_on_free
 * is not called for them). */
void cli_sites_fork(cli_sites *s, uint32_t parent, uint32_t child);

/* An object with stack `stack` (the process's id) of class cls (0 large,
 * 2 for tiny objects) was allocated / freed: requested and allocated
 * bytes. */
void cli_sites_on_alloc(cli_sites *s, uint32_t proc, uint32_t stack, int cls, uint64_t req, uint64_t alloc);
void cli_sites_on_free(cli_sites *s, uint32_t proc, uint32_t stack, int cls, uint64_t req, uint64_t alloc);

/* The run-wide number of (proc, stack) that raw event rows carry. */
uint32_t cli_sites_ref(cli_sites *s, uint32_t proc, uint32_t stack);

/* Symbolize every stack and write stack, stack_frame, stack_alias and
 * site_stat rows for run_id.  progress: print a line on stderr when it
 * takes long.  -1 on a database error. */
int cli_sites_write(cli_sites *s, cli_db *db, int64_t run_id, bool progress);

#endif
