/* pace.c: how long the drainer sleeps between rounds (cmd_run.c's loop).
 *
 * A round costs something whatever it carries: every ring's header is read,
 * the clock is refreshed, the line at each ring's head is moved from its
 * producer's core and back, and the producer reloads the tail and the
 * coarse clock the round rewrote.  A sleep costs a system call and two
 * context switches (5-13 us on this kind of VM).  So the drainer does not
 * chase its producers record by record: after a round of n records that
 * came in over dt, it sleeps until about an eighth of a ring more should
 * have come at that rate, from PACE_MIN_US to PACE_MAX_US; a round that
 * found nothing sleeps 50 us, then twice as long each time up to
 * PACE_MAX_US.  A lossless run whose producers made records fast enough
 * to move the coarse clock themselves at least every PACE_MAX_US
 * (GT_CLOCK_EVERY decisions) may sleep up to BUSY_MAX_US instead: each
 * wake-up costs 10-20 us of CPU on this kind of VM and leaves the caches
 * colder (jq: half the wake-ups, 7% less drainer CPU).  A burst that fills
 * a ring meanwhile wakes the drainer (below); with --lossy it would drop
 * records, so lossy runs keep the shorter bound.  Either way the clock
 * moves at least about every PACE_MAX_US, so record times stay that fine.
 * A process that ends also cuts the sleep short (cmd_run.c's SIGCHLD).
 *
 * It never sleeps while a producer waits for room (region.waiters), and a
 * producer that starts to wait wakes it: the sleep is a futex wait on
 * region.waiters (shared: the word is in the memfd region), and trace.c's
 * ring_room calls FUTEX_WAKE after raising it.  A rate that jumps during a
 * sleep therefore costs the producer one wake-up, not a ring's worth of
 * waiting.
 */
#define _GNU_SOURCE
#include "pace.h"

#include "drain.h"

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { PACE_MIN_US = 20, PACE_MAX_US = 2000, BUSY_MAX_US = 10000, IDLE_FIRST_US = 50 };

void cli_pace_init(cli_pace *p)
{
	p->last_ns = p->prev_ns = cli_drain_mono_ns();
	p->idle_us = IDLE_FIRST_US;
}

static void wait_us(gt_region *reg, long us)
{
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
	/* returns at once (EAGAIN) if a producer is already waiting */
	syscall(SYS_futex, &reg->waiters, FUTEX_WAIT, 0, &ts, NULL, 0);
}

void cli_pace_after(cli_pace *p, gt_region *reg, int64_t n)
{
	/* the records of this round came in between the start of the last
	 * round and the start of this one */
	uint64_t now = cli_drain_mono_ns(), dt = p->last_ns - p->prev_ns;
	long us = 0;
	if (__atomic_load_n(&reg->waiters, __ATOMIC_RELAXED)) {
		p->idle_us = IDLE_FIRST_US;
		if (n == 0)
			sched_yield(); /* room was made: let the waiting producer run to see it */
	} else if (n == 0) {
		us = p->idle_us;
		if (p->idle_us < PACE_MAX_US)
			p->idle_us *= 2;
	} else {
		p->idle_us = IDLE_FIRST_US;
		/* n records in dt ns: GT_CLOCK_EVERY of them per PACE_MAX_US or more */
		bool busy = !(reg->flags & GT_FLAG_LOSSY) &&
		            (uint64_t)n * PACE_MAX_US * 1000 >= (uint64_t)GT_CLOCK_EVERY * dt;
		uint64_t want = reg->cap / 8;
		uint64_t max_ns = (busy ? BUSY_MAX_US : PACE_MAX_US) * 1000ull;
		if ((uint64_t)n < want) {
			/* the round left the rings empty: want records take dt * want / n */
			uint64_t ns = dt / 1000 * want / (uint64_t)n * 1000;
			us = (long)((ns > max_ns ? max_ns : ns) / 1000);
			if (us < PACE_MIN_US)
				us = 0;
		}
	}
	if (us)
		wait_us(reg, us);
	p->prev_ns = p->last_ns;
	p->last_ns = us ? cli_drain_mono_ns() : now;
}
