/* preload_fork.c: fork while other threads allocate and free; the child
 * (which inherits a heap locked and unlocked by the atfork handlers) must be
 * able to allocate, free memory inherited from the parent, start threads of
 * its own and exit cleanly; the parent's threads go on unharmed. */
#include "preload_check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

static atomic_bool stop;

static void *churn(void *arg)
{
	uintptr_t seed = (uintptr_t)arg;
	void *slots[64] = {0};
	while (!stop) {
		seed = seed * 6364136223846793005ull + 1;
		unsigned i = (unsigned)(seed >> 40) % 64;
		free(slots[i]);
		slots[i] = malloc((seed >> 20) % 70000 + 1);
		memset(slots[i], 7, 1);
	}
	for (int i = 0; i < 64; i++)
		free(slots[i]);
	return NULL;
}

static void *child_thread(void *arg)
{
	char *p = malloc(1000);
	memset(p, 1, 1000);
	free(arg);
	return p;
}

int main(void)
{
	require_preload();
	pthread_t t[3];
	for (uintptr_t i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, churn, (void *)(i + 1));
	char *inherited = strdup("inherited from the parent");
	int bad = 0;
	for (int round = 0; round < 200; round++) {
		pid_t pid = fork();
		if (pid == 0) {
			char *q[100];
			for (int i = 0; i < 100; i++)
				q[i] = malloc((size_t)(i * 37 + 1));
			for (int i = 0; i < 100; i++)
				free(q[i]);
			if (strcmp(inherited, "inherited from the parent") != 0)
				_exit(3);
			free(inherited);
			pthread_t ct;
			void *r;
			pthread_create(&ct, NULL, child_thread, malloc(50));
			pthread_join(ct, &r);
			free(r);
			_exit(0);
		}
		int st;
		if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			if (bad++ < 5)
				fprintf(stderr, "fork round %d: child failed (status %d)\n", round, st);
		}
	}
	stop = true;
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	free(inherited);
	CHECK(bad == 0, "%d of 200 children failed", bad);
	return check_result("preload_fork");
}
