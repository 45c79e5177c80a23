/* stack.h: allocation stacks in the target (stack.c). */
#ifndef GT_STACK_H
#define GT_STACK_H

#include "gt_event.h"

#include <stdbool.h>
#include <stdint.h>

/* Set up from the region's settings; false when stacks are off (or the
 * id table cannot be mapped). */
bool gt_stack_init(uint32_t stack_mode, uint32_t stack_depth, uint64_t sample_rate);
/* The stack id of an allocation of `size` bytes being made by this thread,
 * 0 when it is not sampled (or cannot be captured here).  Sends the stack's
 * definition first when it is new. */
uint32_t gt_stack_alloc(uint64_t size);
/* In a fork child, before anything else. */
void gt_stack_fork_child(void);

#endif
