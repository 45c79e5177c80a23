/* drain.h: moving records from the target's rings into the model and the
 * database (drain.c). */
#ifndef CLI_DRAIN_H
#define CLI_DRAIN_H

#include "agg.h"
#include "db.h"
#include "gt_event.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct cli_drain cli_drain;

/* debug_files: symbolize stacks with separate debug files' lines too. */
cli_drain *cli_drain_new(gt_region *reg, cli_db *db, int64_t run_id, bool store_events, bool debug_files);
void cli_drain_free(cli_drain *d);

/* Consume what the rings hold now; returns the number of records read, or
 * -1 on a database error (cli_db_error). */
int64_t cli_drain_round(cli_drain *d);
/* Reclaim rings whose owner thread is gone. */
void cli_drain_reap_rings(cli_drain *d);
/* A process of the run was reaped by the CLI: its exit status (as `run`
 * reports statuses: code, or 128+signal). */
void cli_drain_proc_exit(cli_drain *d, int pid, int status);
/* A process of the run ended that the CLI could not reap (a recording's
 * CLI_REC_PROC_GONE; a live run finds these in cli_drain_reap_rings). */
void cli_drain_proc_gone(cli_drain *d, int pid);
/* A process of the run ended, as the kernel reports it (kview): its status
 * and the run's t_ns of its end.  At the final flush the pid's image that
 * ran then takes that end time, and the status if the CLI did not reap it. */
void cli_drain_kernel_exit(cli_drain *d, int pid, int status, int64_t t_ns);
/* The process `run` started: its heap at its end stays in the figures. */
void cli_drain_set_root(cli_drain *d, int pid);
/* Write everything the model learnt since the last flush and commit.
 * final: also the end-of-run rows.  -1 on a database error. */
int cli_drain_flush(cli_drain *d, bool final, const char *state, int exit_status);

/* Progress lines on stderr for long work at the end (symbolizing). */
void cli_drain_set_progress(cli_drain *d, bool on);
/* No producer publishes any more (every process of the run is gone, or the
 * rings hold a replay): rounds take every record, however it is stamped. */
void cli_drain_producers_done(cli_drain *d);
/* Test hook: sleep `us` between reading one ring's head and the next's, so
 * that producers publish in the middle of a round's snapshot. */
void cli_drain_set_snapshot_gap(cli_drain *d, long us);
int64_t cli_drain_events(const cli_drain *d);
int64_t cli_drain_dropped(const cli_drain *d);
int64_t cli_drain_now_ns(const cli_drain *d);
int cli_drain_nprocs(const cli_drain *d);
const cli_agg *cli_drain_agg(const cli_drain *d);
uint64_t cli_drain_mono_ns(void);
/* rdtsc, and the CLOCK_MONOTONIC ns of the same moment in *ns. */
uint64_t cli_tsc_pair(uint64_t *ns);

/* A recording of what the drainer consumed, replayed by `goalloc-trace
 * replay` (cmd_replay.c) to measure the drainer on its own.  Binary, this
 * machine's byte order: one cli_rec_header, then chunks: a ring's records
 * consumed in one round (ring, gen, pid, tid, n, then n gt_records), a
 * round's end (ring CLI_REC_ROUND_END), a process reaped by the CLI
 * (ring CLI_REC_PROC_EXIT: pid, tid = its status) or a process found gone
 * that was not the CLI's to reap (ring CLI_REC_PROC_GONE: pid). */
#define CLI_REC_MAGIC 0x31474e4952544747ull /* "GGTRING1" little-endian */
/* markers: the top ring numbers, CLI_REC_PROC_GONE the lowest of them */
enum { CLI_REC_ROUND_END = 0xffffffffu, CLI_REC_PROC_EXIT = 0xfffffffeu, CLI_REC_PROC_GONE = 0xfffffffdu };
typedef struct cli_rec_header {
	uint64_t magic, tsc0, tsc_per_ms, sample_rate;
	uint32_t stack_mode;
	int32_t root_pid;
} cli_rec_header;
typedef struct cli_rec_chunk {
	uint32_t ring, gen;
	int32_t pid, tid;
	uint64_t n;
} cli_rec_chunk;
/* Write a recording to f from now on (after cli_drain_set_root). */
int cli_drain_record(cli_drain *d, FILE *f);

#endif
