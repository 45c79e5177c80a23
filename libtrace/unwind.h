/* unwind.h: a fast local unwinder for allocation stacks (unwind.c). */
#ifndef GT_UNWIND_H
#define GT_UNWIND_H

#include <stdbool.h>
#include <stdint.h>

/* The calling thread's stack as return addresses, innermost first, as
 * unw_backtrace gives it: gt_unwind's return address into its caller, its
 * caller's, and so on, except that the first ones inside [skip_lo,
 * skip_hi) (the caller's own library: 0, 0 for none) are passed over, not
 * kept and not counted.  At most max entries; returns how many, or -1
 * when a frame's unwind rule is not one this unwinder follows (a signal
 * frame, a DWARF expression) or no memory can be mapped for the thread's
 * memos: the caller then asks libunwind.  With partial, a frame it does not
 * follow ends the stack instead, if it has frames before it (-1 if not).  Takes no lock and does not
 * allocate, except at a thread's first walk (unwind.c). */
int gt_unwind(void **pcs, int max, uintptr_t skip_lo, uintptr_t skip_hi, bool partial);

/* Maps the rule cache; false if it cannot.  gt_unwind may be called only
 * after it returned true (stack.c uses libunwind otherwise). */
bool gt_unwind_init(void);

/* The calling thread's memos go back to the free list (at its exit). */
void gt_unwind_thread_exit(void);

/* In a fork child: the free list's lock, which a parent thread may have
 * held, is free. */
void gt_unwind_fork_child(void);

#endif
