/* futex.c: the futex calls of a single-threaded process: waits that end
 * by their timeout or a signal, wakes that find nobody, the checks of
 * the requeue and wake-op forms, and what C libraries build on them.
 */
#define _GNU_SOURCE
#include "guest.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

/* <linux/futex.h>'s, which musl's compiler does not see */
#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE 1
#define FUTEX_WAKE_PRIVATE 129
#define FUTEX_CMP_REQUEUE_PRIVATE 132
#define FUTEX_WAKE_OP_PRIVATE 133
#define FUTEX_WAIT_BITSET_PRIVATE 137
#define FUTEX_BITSET_MATCH_ANY 0xffffffffu
#define FUTEX_OP_ADD 1
#define FUTEX_OP_CMP_EQ 0
#define FUTEX_OP(op, oparg, cmp, cmparg)                                \
	(((op)&0xf) << 28 | ((cmp)&0xf) << 24 | ((oparg)&0xfff) << 12 | \
	 ((cmparg)&0xfff))

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long futex(uint32_t *uaddr, int op, uint32_t val,
		  const struct timespec *t, uint32_t *uaddr2, uint32_t val3)
{
	return syscall(SYS_futex, uaddr, op, val, t, uaddr2, val3);
}

static void on_alarm(int sig)
{
	(void)sig;
}

static int once_runs;

static void once_init(void)
{
	once_runs++;
}

int main(void)
{
	static uint32_t word = 7, other = 5;
	struct timespec ms20 = {0, 20000000};

	CHECK(futex(&word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) == 0 &&
		      futex(&word, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0) == 0,
	      "FUTEX_WAKE: nobody waits, 0 woken");
	errno = 0;
	CHECK(futex(&word, FUTEX_WAIT_PRIVATE, 8, NULL, NULL, 0) < 0 &&
		      errno == EAGAIN,
	      "FUTEX_WAIT on a word that changed: EAGAIN");
	double t0 = now();
	errno = 0;
	CHECK(futex(&word, FUTEX_WAIT_PRIVATE, 7, &ms20, NULL, 0) < 0 &&
		      errno == ETIMEDOUT && now() - t0 >= 0.019,
	      "FUTEX_WAIT for 20 ms: ETIMEDOUT after %.3f s", now() - t0);
	struct timespec at;
	clock_gettime(CLOCK_MONOTONIC, &at);
	at.tv_nsec += 20000000;
	if (at.tv_nsec >= 1000000000) {
		at.tv_sec++;
		at.tv_nsec -= 1000000000;
	}
	t0 = now();
	errno = 0;
	CHECK(futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 7, &at, NULL,
		    FUTEX_BITSET_MATCH_ANY) < 0 &&
		      errno == ETIMEDOUT && now() - t0 >= 0.015,
	      "FUTEX_WAIT_BITSET until a monotonic time: ETIMEDOUT");
	errno = 0;
	CHECK(futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 7, &at, NULL, 0) < 0 &&
		      errno == EINVAL,
	      "an empty bitset: EINVAL");
	errno = 0;
	CHECK(futex((uint32_t *)((char *)&word + 1), FUTEX_WAKE_PRIVATE, 1,
		    NULL, NULL, 0) < 0 &&
		      errno == EINVAL,
	      "a word not 4-aligned: EINVAL");

	struct sigaction sa = {.sa_handler = on_alarm};
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {{0, 0}, {0, 30000}};
	setitimer(ITIMER_REAL, &it, NULL);
	t0 = now();
	errno = 0;
	CHECK(futex(&word, FUTEX_WAIT_PRIVATE, 7, NULL, NULL, 0) < 0 &&
		      errno == EINTR && now() - t0 < 2.0,
	      "a signal ends a wait without a timeout: EINTR");

	errno = 0;
	CHECK(futex(&word, FUTEX_CMP_REQUEUE_PRIVATE, 1,
		    (const struct timespec *)(uintptr_t)1, &other, 6) < 0 &&
		      errno == EAGAIN,
	      "FUTEX_CMP_REQUEUE on a word that changed: EAGAIN");
	CHECK(futex(&word, FUTEX_CMP_REQUEUE_PRIVATE, 1,
		    (const struct timespec *)(uintptr_t)1, &other, 7) == 0,
	      "FUTEX_CMP_REQUEUE: nobody to wake or move");
	/* other += 3; then wake on (other) too if it was 5 */
	CHECK(futex(&word, FUTEX_WAKE_OP_PRIVATE, 1,
		    (const struct timespec *)(uintptr_t)1, &other,
		    FUTEX_OP(FUTEX_OP_ADD, 3, FUTEX_OP_CMP_EQ, 5)) == 0 &&
		      other == 8,
	      "FUTEX_WAKE_OP changes its second word (%u)", other);

	pthread_once_t once = PTHREAD_ONCE_INIT;
	CHECK(pthread_once(&once, once_init) == 0 &&
		      pthread_once(&once, once_init) == 0 && once_runs == 1,
	      "pthread_once runs its routine once");
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	CHECK(pthread_mutex_lock(&m) == 0 && pthread_mutex_unlock(&m) == 0,
	      "a mutex locks and unlocks");
	return guest_done("futex");
}
