/* pace.h: how long the drainer sleeps between rounds (pace.c). */
#ifndef CLI_PACE_H
#define CLI_PACE_H

#include "gt_event.h"

#include <stdint.h>

typedef struct cli_pace {
	uint64_t last_ns; /* CLOCK_MONOTONIC when the last sleep ended: the last round began then */
	uint64_t prev_ns; /* ... and when the round before it began */
	long idle_us;     /* the next sleep after a round that found nothing */
} cli_pace;

void cli_pace_init(cli_pace *p);
/* After a round that read n records: sleep as long as the policy says
 * (none while a producer waits for room), waking early when one starts to
 * wait. */
void cli_pace_after(cli_pace *p, gt_region *reg, int64_t n);

#endif
