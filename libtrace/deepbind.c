/* deepbind.c: dlopen without RTLD_DEEPBIND, so that a library a program
 * loads with that flag still calls our malloc family.
 *
 * RTLD_DEEPBIND makes the loaded library look up its symbols in its own
 * dependencies before the global scope, and the C library is one of them:
 * its free is glibc's, not ours, and glibc's free of one of our objects
 * crashes.  PHP loads every extension that way (pdo.so frees what the
 * interpreter allocated at startup); tcmalloc, jemalloc and mimalloc
 * preloaded crash PHP the same way.  Our dlopen clears the flag, so the
 * library binds to the global scope, where LD_PRELOAD put us first.
 * GOALLOC_DEEPBIND=1 keeps the flag (for a program that needs it and does
 * not pass memory across).
 *
 * glibc's dlopen takes the calling object from its return address: its
 * RUNPATH is searched for a bare name and its namespace receives the
 * library.  So our dlopen must not be a caller.  It is a few instructions
 * of assembly that change the flag word in its register and jump to the
 * next dlopen, leaving the program's return address where glibc looks.
 *
 * Invariants: next_dlopen is written once (by resolve(), the first call)
 * after dlopen_mask; both stay put after.  Any thread may race to write
 * them: they write the same values.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__)

__attribute__((visibility("hidden"), used)) void *(*gt_next_dlopen)(const char *, int);
__attribute__((visibility("hidden"), used)) int gt_dlopen_mask = ~0;

/* The first call's slow path: find the C library's dlopen.  Returns it. */
__attribute__((visibility("hidden"), used)) void *gt_dlopen_resolve(void)
{
	const char *keep = getenv("GOALLOC_DEEPBIND");
	__atomic_store_n(&gt_dlopen_mask, keep && strcmp(keep, "1") == 0 ? ~0 : ~RTLD_DEEPBIND, __ATOMIC_RELAXED);
	void *next = dlsym(RTLD_NEXT, "dlopen");
	if (!next) {
		static const char msg[] = "goalloc: dlopen: the C library's dlopen is not found\n";
		(void)!write(2, msg, sizeof msg - 1);
		abort();
	}
	__atomic_store_n(&gt_next_dlopen, (void *(*)(const char *, int))next, __ATOMIC_RELEASE);
	return next;
}

/* void *dlopen(const char *file, int mode): mode &= gt_dlopen_mask, then a
 * tail jump.  The slow path keeps the arguments on the stack around the
 * call (16-byte aligned at it) and starts again. */
__asm__(".text\n"
        ".globl dlopen\n"
        ".type dlopen, @function\n"
        ".p2align 4\n"
        "dlopen:\n"
        "	.cfi_startproc\n"
        "	endbr64\n"
        "1:	movq gt_next_dlopen(%rip), %rax\n"
        "	testq %rax, %rax\n"
        "	jz 2f\n"
        "	andl gt_dlopen_mask(%rip), %esi\n"
        "	jmp *%rax\n"
        "2:	pushq %rdi\n"
        "	.cfi_adjust_cfa_offset 8\n"
        "	pushq %rsi\n"
        "	.cfi_adjust_cfa_offset 8\n"
        "	subq $8, %rsp\n"
        "	.cfi_adjust_cfa_offset 8\n"
        "	call gt_dlopen_resolve\n"
        "	addq $8, %rsp\n"
        "	.cfi_adjust_cfa_offset -8\n"
        "	popq %rsi\n"
        "	.cfi_adjust_cfa_offset -8\n"
        "	popq %rdi\n"
        "	.cfi_adjust_cfa_offset -8\n"
        "	jmp 1b\n"
        "	.cfi_endproc\n"
        ".size dlopen, .-dlopen\n");

#endif
