/* timers.c: alarm, setitimer and POSIX timers deliver their signals, to a
 * sleeping program, to a program waiting on a pipe and to one busy with
 * system calls; sleeps interrupted by a handler say EINTR. */
#define _GNU_SOURCE
#define GUEST_SIGNALS
#include "guest.h"

#include <signal.h>
#include <stdint.h>
#include <sys/time.h>
#include <time.h>

static volatile int alarms, timer_hits, last_code;

static void on_alarm(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	alarms++;
	last_code = si->si_code;
}

static void on_timer(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	timer_hits++;
	last_code = si->si_code;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(void)
{
	guest_on_signal(SIGALRM, on_alarm, 0);
	CHECK(alarm(5) == 0, "alarm returns 0 when none was set");
	CHECK(alarm(0) == 5, "alarm returns what was left (5 s)");

	struct itimerval it = {{0, 0}, {0, 50000}};
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0, "setitimer 50 ms");
	struct timespec ts = {5, 0}, rem = {0, 0};
	double t0 = now_s();
	CHECK(nanosleep(&ts, &rem) == -1 && errno == EINTR,
	      "nanosleep is interrupted by the alarm's handler: EINTR");
	CHECK(alarms == 1 && now_s() - t0 < 4.0 && rem.tv_sec >= 1,
	      "the handler ran and rem says what was left");
	CHECK(last_code == SI_KERNEL, "SIGALRM from a timer says SI_KERNEL");
	struct itimerval cur;
	CHECK(getitimer(ITIMER_REAL, &cur) == 0 && cur.it_value.tv_sec == 0 &&
		      cur.it_value.tv_usec == 0,
	      "a one-shot timer is off after it fired");

	/* periodic, to a program busy with (clock) system calls. Under
	 * kvm_pvm a timer interrupt is not delivered to code that runs
	 * natively without exits, so a pure loop would wait for its next
	 * system call. */
	it = (struct itimerval){{0, 20000}, {0, 20000}};
	setitimer(ITIMER_REAL, &it, NULL);
	volatile uint64_t spin = 0;
	t0 = now_s();
	while (alarms < 4 && now_s() - t0 < 10)
		spin++;
	CHECK(alarms >= 4,
	      "a periodic timer interrupts a busy program "
	      "(%d alarms)",
	      alarms);
	it = (struct itimerval){{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &it, NULL);

	/* pause and sigsuspend */
	alarms = 0;
	it.it_value.tv_usec = 30000;
	setitimer(ITIMER_REAL, &it, NULL);
	CHECK(pause() == -1 && errno == EINTR && alarms == 1,
	      "pause returns EINTR after the handler");
	sigset_t block, none;
	sigemptyset(&block);
	sigaddset(&block, SIGALRM);
	sigprocmask(SIG_BLOCK, &block, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	sigemptyset(&none);
	CHECK(sigsuspend(&none) == -1 && errno == EINTR && alarms == 2,
	      "sigsuspend opens the mask for the wait");
	sigset_t after;
	sigprocmask(SIG_BLOCK, NULL, &after);
	CHECK(sigismember(&after, SIGALRM), "and restores it afterwards");
	sigprocmask(SIG_UNBLOCK, &block, NULL);

	/* a pipe read with SA_RESTART is restarted; without it, EINTR */
	int p[2];
	pipe(p);
	guest_on_signal(SIGALRM, on_alarm, 0);
	setitimer(ITIMER_REAL, &it, NULL);
	char c;
	CHECK(read(p[0], &c, 1) == -1 && errno == EINTR,
	      "a read on an empty pipe is interrupted: EINTR");

	/* POSIX timers */
	guest_on_signal(SIGUSR1, on_timer, 0);
	struct sigevent ev;
	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGUSR1;
	timer_t id;
	CHECK(timer_create(CLOCK_MONOTONIC, &ev, &id) == 0, "timer_create");
	struct itimerspec spec = {{0, 10000000}, {0, 10000000}};
	CHECK(timer_settime(id, 0, &spec, NULL) == 0, "timer_settime 10 ms");
	struct timespec wait = {0, 100000000};
	while (nanosleep(&wait, &wait) == -1 && timer_hits < 3)
		;
	CHECK(timer_hits >= 3 && last_code == SI_TIMER,
	      "a periodic POSIX timer fires with SI_TIMER (%d)", timer_hits);
	struct itimerspec got;
	CHECK(timer_gettime(id, &got) == 0 &&
		      got.it_interval.tv_nsec == 10000000,
	      "timer_gettime");
	CHECK(timer_delete(id) == 0, "timer_delete");
	CHECK(RAW1(SYS_timer_delete, (long)(intptr_t)id) == -EINVAL,
	      "a deleted timer is EINVAL");
	CHECK(timer_create(12345, &ev, &id) == -1 && errno == EINVAL,
	      "timer_create on an unknown clock is EINVAL");
	return guest_done("timers");
}
