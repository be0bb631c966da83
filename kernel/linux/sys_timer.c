/* sys_timer.c: interval timers (alarm, setitimer) and POSIX timers, and
 * the waits signals interrupt (pause, rt_sigsuspend).
 *
 * Timers are deadlines on the monotonic clock, checked at every system
 * call's end and in every wait. For a program that computes without
 * calling the kernel, the LAPIC TSC-deadline timer is armed at the
 * nearest deadline; its interrupt sends the program through
 * signal_async_entry, where timers_check runs natively.
 */
#include "linux/syscalls.h"
#include "net/net.h"

#define NET_TICK_NS 250000000ULL /* the stack's timers' resolution */
#include "arch/x86_64/x86.h"
#include <asm/signal.h>
#include <linux/time.h>

#define NSEC_PER_SEC 1000000000ULL
#define POSIX_TIMERS 32
#define SI_TIMER_CODE (-2)
#define SI_KERNEL_CODE 0x80
#define SIGEV_SIGNAL_ABI 0
#define SIGEV_NONE_ABI 1
#define SIGEV_THREAD_ID_ABI 4

struct ktimer {
	int active, sig, code, clock;
	uint64_t deadline; /* monotonic ns */
	uint64_t interval; /* ns; 0: one-shot */
	uint64_t overrun;
};

/* A process's timers, made when it first sets one; fork does not copy
 * them. ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF: one CPU and no
 * accounting yet, so all three count time since they were set. */
struct process_timers {
	struct ktimer itimers[3];
	struct ktimer ptimers[POSIX_TIMERS];
	int ptimer_used[POSIX_TIMERS];
};
uint64_t timer_armed_tsc;

/* The current process's timers, made if need be; NULL without memory. */
static struct process_timers *timers(void)
{
	if (!current->timers)
		current->timers = kmalloc(sizeof(struct process_timers));
	return current->timers;
}

struct timeval_abi {
	int64_t sec, usec;
};
struct itimerval_abi {
	struct timeval_abi interval, value;
};
struct timespec_abi {
	int64_t sec, nsec;
};
struct itimerspec_abi {
	struct timespec_abi interval, value;
};
struct sigevent_abi {
	uint64_t value;
	int32_t signo, notify;
	int32_t tid, pad[11];
};

/* Fire (t), (p)'s timer, if it expired (sends its signal), and re-arm
 * it if periodic. */
static void fire(struct process *p, struct ktimer *t, uint64_t now)
{
	if (!t->active || t->deadline > now)
		return;
	if (t->interval) {
		uint64_t late = (now - t->deadline) / t->interval;
		t->overrun = late;
		t->deadline += (late + 1) * t->interval;
	} else {
		t->active = 0;
	}
	if (t->sig)
		signal_send_to(p, t->sig, t->code);
}

static uint64_t next_deadline(void)
{
	uint64_t next = UINT64_MAX;
	for (struct process *p = process_list(); p; p = p->next) {
		const struct process_timers *pt = p->timers;
		for (int k = 0; pt && k < 3; k++)
			if (pt->itimers[k].active &&
			    pt->itimers[k].deadline < next)
				next = pt->itimers[k].deadline;
		for (int k = 0; pt && k < POSIX_TIMERS; k++)
			if (pt->ptimers[k].active &&
			    pt->ptimers[k].deadline < next)
				next = pt->ptimers[k].deadline;
	}
	return next;
}

/* The nearest deadline, kept current by every change to a timer, so that
 * a system call's end costs one compare when no timer is set. */
uint64_t timer_next = UINT64_MAX;

int timers_active(void)
{
	return timer_next != UINT64_MAX;
}

/* A timer was set since timers_check last looked at all of them. */
static int timers_changed;

void timers_check(void)
{
	uint64_t now = clock_monotonic_ns();
	/* nothing due, nothing set since, the hardware timer armed: every
	 * system call's end stays one compare, however many processes have
	 * timers */
	if (!timers_changed && timer_armed_tsc && now < timer_next)
		return;
	timers_changed = 0;
	for (struct process *p = process_list(); p; p = p->next) {
		struct process_timers *pt = p->timers;
		for (int k = 0; pt && k < 3; k++)
			fire(p, &pt->itimers[k], now);
		for (int k = 0; pt && k < POSIX_TIMERS; k++)
			fire(p, &pt->ptimers[k], now);
	}
	/* keep the hardware timer on the nearest deadline */
	uint64_t next = timer_next = next_deadline();
	if (next == UINT64_MAX)
		timer_armed_tsc = 0; /* a late interrupt then changes nothing */
	if (next != UINT64_MAX && boot.tsc_deadline) {
		uint64_t tsc = clock_tsc_at(next);
		if (tsc != timer_armed_tsc) {
			gate_call(GATE_WRMSR, MSR_TSC_DEADLINE, (long)tsc, 0);
			timer_armed_tsc = tsc;
		}
	}
}

void timers_release(struct process *p)
{
	kfree(p->timers, sizeof(struct process_timers));
	p->timers = NULL;
	timer_next = next_deadline();
}

void timers_exec(void)
{
	struct process_timers *pt = current->timers;
	for (int k = 0; pt && k < POSIX_TIMERS; k++) {
		pt->ptimer_used[k] = 0;
		pt->ptimers[k].active = 0;
	}
	timer_next = next_deadline();
}

void sched_idle(uint64_t wake_at)
{
	uint64_t now = clock_monotonic_ns();
	uint64_t until = next_deadline(), other = sched_next_wake();
	if (until > wake_at)
		until = wake_at;
	if (until > other)
		until = other;
	if (until > net_next_timer)
		until = net_next_timer;
	if (until <= now) {
		sched_wake();
		return;
	}
	if (netif.up) {
		/* the device's interrupt ends it too; wake now and then for
		 * the stack's own timers (ARP) */
		if (until - now > NET_TICK_NS)
			until = now + NET_TICK_NS;
		netdev_wait(until);
	} else {
		if (until == UINT64_MAX && !timers_active() &&
		    process_count() == 1) {
			static int said;
			if (!said++)
				klog("the program waits for a signal that "
				     "nothing can send; it waits forever");
		}
		clock_sleep_until(until);
	}
	timer_armed_tsc = 0; /* the sleep used the hardware timer */
	sched_wake();
}

int event_wait(uint64_t deadline)
{
	for (;;) {
		if (net_poll() > 0) {
			sched_wake();
			return 1;
		}
		if (host_events)
			host_events_take();
		timers_check();
		if (current->sigpending & ~current->sigmask)
			return -EINTR;
		if (clock_monotonic_ns() >= deadline)
			return 0;
		/* another process may have something to do: it runs until
		 * it waits too, and then this one looks again */
		if (sched_yield_wait(deadline))
			return 1;
		sched_idle(deadline);
	}
}

int signal_wait(uint64_t deadline)
{
	int r;
	while ((r = event_wait(deadline)) > 0)
		; /* network input was handled: go on waiting */
	return r;
}

static uint64_t tv_ns(struct timeval_abi tv)
{
	return (uint64_t)tv.sec * NSEC_PER_SEC + (uint64_t)tv.usec * 1000;
}

static struct timeval_abi ns_tv(uint64_t ns)
{
	return (struct timeval_abi){(int64_t)(ns / NSEC_PER_SEC),
				    (int64_t)(ns % NSEC_PER_SEC / 1000)};
}

static struct timespec_abi ns_ts(uint64_t ns)
{
	return (struct timespec_abi){(int64_t)(ns / NSEC_PER_SEC),
				     (int64_t)(ns % NSEC_PER_SEC)};
}

static uint64_t remaining(const struct ktimer *t)
{
	uint64_t now = clock_monotonic_ns();
	if (!t->active)
		return 0;
	return t->deadline > now ? t->deadline - now : 1;
}

static void start(struct ktimer *t, uint64_t value, uint64_t interval)
{
	t->active = value != 0;
	t->deadline = clock_monotonic_ns() + value;
	t->interval = interval;
	t->overrun = 0;
	timers_changed = 1;
	timers_check();
}

static const int itimer_signal[3] = {SIGALRM, SIGVTALRM, SIGPROF};

long sys_getitimer(int which, uint64_t ucur)
{
	if (which < 0 || which > 2)
		return -EINVAL;
	struct process_timers *pt = timers();
	if (!pt)
		return -ENOMEM;
	struct itimerval_abi cur = {ns_tv(pt->itimers[which].interval),
				    ns_tv(remaining(&pt->itimers[which]))};
	return copy_to_user(ucur, &cur, sizeof(cur));
}

long sys_setitimer(int which, uint64_t unew, uint64_t uold)
{
	struct itimerval_abi v = {{0, 0}, {0, 0}};
	if (which < 0 || which > 2)
		return -EINVAL;
	if (unew && copy_from_user(&v, unew, sizeof(v)) < 0)
		return -EFAULT;
	if (v.value.usec < 0 || v.value.usec >= 1000000 || v.value.sec < 0 ||
	    v.interval.usec < 0 || v.interval.usec >= 1000000 ||
	    v.interval.sec < 0)
		return -EINVAL;
	struct process_timers *pt = timers();
	if (!pt)
		return -ENOMEM;
	if (uold && sys_getitimer(which, uold) < 0)
		return -EFAULT;
	struct ktimer *t = &pt->itimers[which];
	t->sig = itimer_signal[which];
	t->code = SI_KERNEL_CODE;
	start(t, tv_ns(v.value), tv_ns(v.interval));
	return 0;
}

long sys_alarm(unsigned secs)
{
	struct process_timers *pt = timers();
	if (!pt)
		return -ENOMEM;
	struct ktimer *t = &pt->itimers[0];
	uint64_t left = remaining(t);
	t->sig = SIGALRM;
	t->code = SI_KERNEL_CODE;
	start(t, (uint64_t)secs * NSEC_PER_SEC, 0);
	/* Linux rounds the old value to the nearest second, at least 1 */
	uint64_t s = (left + NSEC_PER_SEC / 2) / NSEC_PER_SEC;
	return left && !s ? 1 : (long)s;
}

long sys_timer_create(int clock, uint64_t uevp, uint64_t uid)
{
	struct sigevent_abi ev = {.signo = SIGALRM, .notify = SIGEV_SIGNAL_ABI};
	if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC &&
	    clock != CLOCK_BOOTTIME)
		return -EINVAL;
	if (uevp && copy_from_user(&ev, uevp, sizeof(ev)) < 0)
		return -EFAULT;
	if (ev.notify != SIGEV_SIGNAL_ABI && ev.notify != SIGEV_NONE_ABI &&
	    !(ev.notify == SIGEV_THREAD_ID_ABI && ev.tid == current->pid))
		return -EINVAL;
	if (ev.notify != SIGEV_NONE_ABI && (ev.signo < 1 || ev.signo > 64))
		return -EINVAL;
	struct process_timers *pt = timers();
	if (!pt)
		return -EAGAIN;
	for (int id = 0; id < POSIX_TIMERS; id++) {
		if (pt->ptimer_used[id])
			continue;
		int32_t out = id;
		if (copy_to_user(uid, &out, sizeof(out)) < 0)
			return -EFAULT;
		pt->ptimer_used[id] = 1;
		pt->ptimers[id] = (struct ktimer){
			.sig = ev.notify == SIGEV_NONE_ABI ? 0 : ev.signo,
			.code = SI_TIMER_CODE,
			.clock = clock,
		};
		return 0;
	}
	return -EAGAIN;
}

static struct ktimer *ptimer(int id)
{
	struct process_timers *pt = current->timers;
	return pt && id >= 0 && id < POSIX_TIMERS && pt->ptimer_used[id]
		       ? &pt->ptimers[id]
		       : NULL;
}

long sys_timer_gettime(int id, uint64_t ucur)
{
	struct ktimer *t = ptimer(id);
	if (!t)
		return -EINVAL;
	struct itimerspec_abi cur = {ns_ts(t->interval), ns_ts(remaining(t))};
	return copy_to_user(ucur, &cur, sizeof(cur));
}

long sys_timer_settime(int id, int flags, uint64_t unew, uint64_t uold)
{
	struct ktimer *t = ptimer(id);
	struct itimerspec_abi v;
	if (!t)
		return -EINVAL;
	if (copy_from_user(&v, unew, sizeof(v)) < 0)
		return -EFAULT;
	if (v.value.nsec < 0 || (uint64_t)v.value.nsec >= NSEC_PER_SEC ||
	    v.value.sec < 0 || v.interval.nsec < 0 ||
	    (uint64_t)v.interval.nsec >= NSEC_PER_SEC || v.interval.sec < 0)
		return -EINVAL;
	if (flags & ~TIMER_ABSTIME)
		return -EINVAL;
	if (uold && sys_timer_gettime(id, uold) < 0)
		return -EFAULT;
	uint64_t value =
		(uint64_t)v.value.sec * NSEC_PER_SEC + (uint64_t)v.value.nsec;
	uint64_t interval = (uint64_t)v.interval.sec * NSEC_PER_SEC +
			    (uint64_t)v.interval.nsec;
	if (value && (flags & TIMER_ABSTIME)) {
		uint64_t now = t->clock == CLOCK_REALTIME
				       ? clock_realtime_ns()
				       : clock_monotonic_ns();
		value = value > now ? value - now : 1;
	}
	start(t, value, interval);
	return 0;
}

long sys_timer_getoverrun(int id)
{
	struct ktimer *t = ptimer(id);
	return t ? (long)t->overrun : -EINVAL;
}

long sys_timer_delete(int id)
{
	struct ktimer *t = ptimer(id);
	if (!t)
		return -EINVAL;
	current->timers->ptimer_used[id] = 0;
	t->active = 0;
	timer_next = next_deadline();
	return 0;
}

long sys_pause(void)
{
	signal_wait(UINT64_MAX);
	return -EINTR;
}

long sys_rt_sigsuspend(uint64_t umask, uint64_t size)
{
	uint64_t mask;
	if (size != 8)
		return -EINVAL;
	if (copy_from_user(&mask, umask, sizeof(mask)) < 0)
		return -EFAULT;
	signal_mask_suspend(mask);
	signal_wait(UINT64_MAX);
	return -EINTR;
}

long sys_rt_sigpending(uint64_t uset, uint64_t size)
{
	uint64_t set = current->sigpending & current->sigmask;
	if (size > 8)
		return -EINVAL;
	return copy_to_user(uset, &set, size);
}
