/* sys_time.c: clocks and sleeping. One process on one CPU, so the CPU-time
 * clocks read the time since boot. */
#include "linux/syscalls.h"
#include <linux/time.h>

#define NSEC_PER_SEC 1000000000ULL
#define COARSE_RES_NS 4000000ULL /* a 250 Hz tick, as Debian's kernel */

struct timespec_abi {
	int64_t tv_sec, tv_nsec;
};

struct timeval_abi {
	int64_t tv_sec, tv_usec;
};

/* Read clock (clk) in ns; -EINVAL for a clock that does not exist. */
static long clock_read(int clk, uint64_t *ns)
{
	switch (clk) {
	case CLOCK_REALTIME:
	case CLOCK_REALTIME_COARSE:
	case CLOCK_TAI:
		*ns = clock_realtime_ns();
		return 0;
	case CLOCK_MONOTONIC:
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_MONOTONIC_COARSE:
	case CLOCK_BOOTTIME:
	case CLOCK_PROCESS_CPUTIME_ID:
	case CLOCK_THREAD_CPUTIME_ID:
		*ns = clock_monotonic_ns();
		return 0;
	default:
		return -EINVAL;
	}
}

static struct timespec_abi ns_to_ts(uint64_t ns)
{
	return (struct timespec_abi){(int64_t)(ns / NSEC_PER_SEC),
				     (int64_t)(ns % NSEC_PER_SEC)};
}

long sys_clock_gettime(int clk, uint64_t tp)
{
	uint64_t ns;
	long r = clock_read(clk, &ns);
	if (r < 0)
		return r;
	struct timespec_abi ts = ns_to_ts(ns);
	return copy_to_user(tp, &ts, sizeof(ts));
}

long sys_clock_getres(int clk, uint64_t tp)
{
	uint64_t ns;
	long r = clock_read(clk, &ns);
	if (r < 0)
		return r;
	if (!tp)
		return 0;
	int coarse =
		clk == CLOCK_REALTIME_COARSE || clk == CLOCK_MONOTONIC_COARSE;
	struct timespec_abi ts = ns_to_ts(coarse ? COARSE_RES_NS : 1);
	return copy_to_user(tp, &ts, sizeof(ts));
}

long sys_gettimeofday(uint64_t tv, uint64_t tz)
{
	if (tv) {
		uint64_t ns = clock_realtime_ns();
		struct timeval_abi t = {(int64_t)(ns / NSEC_PER_SEC),
					(int64_t)(ns % NSEC_PER_SEC / 1000)};
		if (copy_to_user(tv, &t, sizeof(t)) < 0)
			return -EFAULT;
	}
	if (tz) {
		int zone[2] = {0, 0}; /* UTC, no DST */
		if (copy_to_user(tz, zone, sizeof(zone)) < 0)
			return -EFAULT;
	}
	return 0;
}

long sys_time(uint64_t t)
{
	int64_t now = (int64_t)(clock_realtime_ns() / NSEC_PER_SEC);
	if (t && copy_to_user(t, &now, sizeof(now)) < 0)
		return -EFAULT;
	return now;
}

long timespec_from_user(uint64_t uts, uint64_t *ns)
{
	struct timespec_abi ts;
	if (!uts) {
		*ns = UINT64_MAX;
		return 0;
	}
	if (copy_from_user(&ts, uts, sizeof(ts)) < 0)
		return -EFAULT;
	if (ts.tv_sec < 0 || ts.tv_nsec < 0 ||
	    (uint64_t)ts.tv_nsec >= NSEC_PER_SEC)
		return -EINVAL;
	/* saturate: a sleep of centuries is a sleep forever */
	if ((uint64_t)ts.tv_sec > UINT64_MAX / NSEC_PER_SEC - 1)
		*ns = UINT64_MAX / 2;
	else
		*ns = (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
	return 0;
}

/* Sleep to (deadline); if a signal interrupts, write what is left to
 * (urem) (when given) and return -EINTR. */
static long sleep_until(uint64_t deadline, uint64_t urem)
{
	if (signal_wait(deadline) == 0)
		return 0;
	uint64_t now = clock_monotonic_ns();
	struct timespec_abi left =
		ns_to_ts(deadline > now ? deadline - now : 0);
	if (urem && copy_to_user(urem, &left, sizeof(left)) < 0)
		return -EFAULT;
	return -EINTR;
}

long sys_nanosleep(uint64_t req, uint64_t rem)
{
	uint64_t ns;
	long r = req ? timespec_from_user(req, &ns) : -EFAULT;
	if (r < 0)
		return r;
	return sleep_until(deadline_in(ns), rem);
}

long sys_clock_nanosleep(int clk, int flags, uint64_t req, uint64_t rem)
{
	uint64_t ns, now;

	if (clk == CLOCK_THREAD_CPUTIME_ID)
		return -EINVAL;
	long r = clock_read(clk, &now);
	if (r < 0)
		return r;
	if (clk == CLOCK_MONOTONIC_RAW || clk == CLOCK_MONOTONIC_COARSE ||
	    clk == CLOCK_REALTIME_COARSE)
		return -EOPNOTSUPP;
	if (flags & ~TIMER_ABSTIME)
		return -EINVAL;
	r = req ? timespec_from_user(req, &ns) : -EFAULT;
	if (r < 0)
		return r;
	if (flags & TIMER_ABSTIME) {
		if (ns <= now)
			return 0;
		ns -= now;
		rem = 0; /* an absolute sleep reports nothing left */
	}
	return sleep_until(deadline_in(ns), rem);
}
