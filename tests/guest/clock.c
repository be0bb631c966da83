/* clock.c: clocks and sleeping. */
#include "guest.h"

#include <sys/time.h>
#include <time.h>

static long long ns(const struct timespec *t)
{
	return t->tv_sec * 1000000000LL + t->tv_nsec;
}

int main(void)
{
	struct timespec a, b, res, real;
	struct timeval tv;

	CHECK(clock_gettime(CLOCK_MONOTONIC, &a) == 0, "CLOCK_MONOTONIC");
	CHECK(clock_gettime(CLOCK_MONOTONIC, &b) == 0 && ns(&b) >= ns(&a),
	      "CLOCK_MONOTONIC does not go back");
	CHECK(clock_gettime(CLOCK_REALTIME, &real) == 0 &&
		      real.tv_sec > 1577836800,
	      "CLOCK_REALTIME is after 2020 (%lld)", (long long)real.tv_sec);
	/* the harness compares this with the host's clock */
	printf("CLOCK_REALTIME=%lld\n", (long long)real.tv_sec);
	CHECK(gettimeofday(&tv, NULL) == 0 && tv.tv_sec - real.tv_sec >= 0 &&
		      tv.tv_sec - real.tv_sec < 5,
	      "gettimeofday agrees with CLOCK_REALTIME");
	CHECK(time(NULL) - real.tv_sec >= 0 && time(NULL) - real.tv_sec < 5,
	      "time agrees with CLOCK_REALTIME");
	CHECK(clock_getres(CLOCK_MONOTONIC, &res) == 0 && res.tv_sec == 0 &&
		      res.tv_nsec > 0 && res.tv_nsec <= 1000000,
	      "CLOCK_MONOTONIC resolution is at most 1 ms");
	CHECK(RAW2(SYS_clock_gettime, 12345, &a) == -EINVAL,
	      "an unknown clock is EINVAL");
	CHECK(clock_gettime(CLOCK_BOOTTIME, &a) == 0 &&
		      clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a) == 0,
	      "CLOCK_BOOTTIME and CLOCK_PROCESS_CPUTIME_ID");

	struct timespec req = {0, 30 * 1000000};
	clock_gettime(CLOCK_MONOTONIC, &a);
	CHECK(nanosleep(&req, NULL) == 0, "nanosleep 30 ms");
	clock_gettime(CLOCK_MONOTONIC, &b);
	CHECK(ns(&b) - ns(&a) >= 30 * 1000000LL,
	      "nanosleep sleeps at least as long as asked (%lld ns)",
	      ns(&b) - ns(&a));

	struct timespec until = b;
	until.tv_nsec += 20 * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	CHECK(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) ==
		      0,
	      "clock_nanosleep to an absolute time");
	clock_gettime(CLOCK_MONOTONIC, &a);
	CHECK(ns(&a) >= ns(&until), "it woke no earlier than asked");
	CHECK(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &b, NULL) == 0,
	      "clock_nanosleep to a past time returns at once");
	CHECK(clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &req, NULL) == EINVAL,
	      "clock_nanosleep on the thread CPU clock is EINVAL");
	return guest_done("clock");
}
