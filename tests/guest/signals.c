/* signals.c: handlers: SA_SIGINFO, masks, SA_RESETHAND, sigaltstack,
 * faults delivered with siginfo and a ucontext a handler may change,
 * siglongjmp out of a handler, SIGPIPE. */
#define _GNU_SOURCE
#define GUEST_SIGNALS
#include "guest.h"

#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <ucontext.h>

static volatile int hits, last_sig, last_code, blocked_inside;
static volatile uintptr_t last_addr, last_sp;
static sigjmp_buf env;
static volatile int zero;
static volatile uintptr_t bad_addr = 16;

static void on_info(int sig, siginfo_t *si, void *uc)
{
	sigset_t now;
	(void)uc;
	hits++;
	last_sig = sig;
	last_code = si->si_code;
	sigprocmask(SIG_BLOCK, NULL, &now);
	blocked_inside = sigismember(&now, sig);
	last_sp = (uintptr_t)&now;
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	last_sig = sig;
	last_code = si->si_code;
	last_addr = (uintptr_t)si->si_addr;
	siglongjmp(env, 1);
}

/* Skip the 2-byte ud2 by editing the saved context, then return. */
static void skip_ud2(int sig, siginfo_t *si, void *ucp)
{
	ucontext_t *uc = ucp;
	last_sig = sig;
	last_addr = (uintptr_t)si->si_addr;
	uc->uc_mcontext.gregs[REG_RIP] += 2;
	uc->uc_mcontext.gregs[REG_RAX] = 4242;
}

static volatile int usr1_hits;

static void on_usr1(int sig)
{
	(void)sig;
	usr1_hits++;
}

/* Is SIGUSR1 blocked now? */
static int usr1_blocked(void)
{
	sigset_t now;
	sigprocmask(SIG_BLOCK, NULL, &now);
	return sigismember(&now, SIGUSR1);
}

/* ppoll, pselect and epoll_pwait wait with the mask they are given: a
 * signal blocked before, pending, is let in (the call says EINTR after
 * its handler ran), and the old mask is back afterwards, whether a
 * signal came or the call returned for a ready descriptor. */
static void masks_for_a_wait(void)
{
	sigset_t usr1, none;
	sigemptyset(&none);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	signal(SIGUSR1, on_usr1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	int p[2], ep = epoll_create1(0);
	CHECK(pipe(p) == 0 && ep >= 0, "a pipe and an epoll set");
	struct epoll_event ev = {EPOLLIN, {.u32 = 1}}, out[2];
	epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
	struct pollfd pfd = {p[0], POLLIN, 0};
	struct timespec second = {1, 0};
	fd_set rd;

	usr1_hits = 0;
	raise(SIGUSR1);
	errno = 0;
	int r = ppoll(&pfd, 1, &second, &none);
	CHECK(r < 0 && errno == EINTR && usr1_hits == 1 && usr1_blocked(),
	      "ppoll lets the pending signal in, then blocks it again "
	      "(%d, %d hits)",
	      r, usr1_hits);
	raise(SIGUSR1);
	FD_ZERO(&rd);
	FD_SET(p[0], &rd);
	errno = 0;
	r = pselect(p[0] + 1, &rd, NULL, NULL, &second, &none);
	CHECK(r < 0 && errno == EINTR && usr1_hits == 2 && usr1_blocked(),
	      "pselect too (%d, %d hits)", r, usr1_hits);
	raise(SIGUSR1);
	errno = 0;
	r = epoll_pwait(ep, out, 2, 1000, &none);
	CHECK(r < 0 && errno == EINTR && usr1_hits == 3 && usr1_blocked(),
	      "epoll_pwait too (%d, %d hits)", r, usr1_hits);
	write(p[1], "x", 1);
	CHECK(epoll_pwait(ep, out, 2, 1000, &none) == 1 && usr1_hits == 3 &&
		      usr1_blocked() && ppoll(&pfd, 1, &second, &none) == 1 &&
		      usr1_blocked(),
	      "a ready descriptor: the mask is back all the same");
	raise(SIGUSR1);
	CHECK(ppoll(&pfd, 1, &second, &usr1) == 1 && usr1_hits == 3,
	      "a mask that blocks it: the signal waits");
	sigprocmask(SIG_UNBLOCK, &usr1, NULL);
	CHECK(usr1_hits == 4, "and comes when unblocked (%d hits)", usr1_hits);
	signal(SIGUSR1, SIG_DFL);
	close(p[0]);
	close(p[1]);
	close(ep);
}

int main(void)
{
	guest_on_signal(SIGUSR1, on_info, 0);
	CHECK(raise(SIGUSR1) == 0 && hits == 1 && last_sig == SIGUSR1,
	      "raise runs the handler before it returns");
	CHECK(last_code == SI_TKILL, "raise's siginfo says SI_TKILL");
	CHECK(blocked_inside == 1, "the signal is blocked in its handler");
	sigset_t now;
	sigprocmask(SIG_BLOCK, NULL, &now);
	CHECK(!sigismember(&now, SIGUSR1), "and unblocked after it");
	CHECK(kill(getpid(), SIGUSR1) == 0 && hits == 2 && last_code == SI_USER,
	      "kill runs it with SI_USER");

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	raise(SIGUSR1);
	CHECK(hits == 2, "a blocked signal waits");
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	CHECK(hits == 3, "and runs when unblocked");

	guest_on_signal(SIGUSR2, on_info, SA_RESETHAND | SA_NODEFER);
	raise(SIGUSR2);
	struct sigaction old;
	sigaction(SIGUSR2, NULL, &old);
	CHECK(hits == 4 && blocked_inside == 0, "SA_NODEFER leaves it open");
	CHECK(old.sa_handler == SIG_DFL, "SA_RESETHAND resets the handler");

	/* an alternate stack */
	static char alt[65536];
	stack_t ss = {.ss_sp = alt, .ss_size = sizeof(alt), .ss_flags = 0};
	CHECK(sigaltstack(&ss, NULL) == 0, "sigaltstack");
	guest_on_signal(SIGUSR1, on_info, SA_ONSTACK);
	raise(SIGUSR1);
	CHECK(last_sp > (uintptr_t)alt &&
		      last_sp < (uintptr_t)alt + sizeof(alt),
	      "SA_ONSTACK runs the handler on the alternate stack");
	stack_t small = {.ss_sp = alt, .ss_size = 100, .ss_flags = 0};
	CHECK(sigaltstack(&small, NULL) == -1 && errno == ENOMEM,
	      "a tiny alternate stack is ENOMEM");
	stack_t bad = {.ss_sp = alt, .ss_size = sizeof(alt), .ss_flags = 99};
	CHECK(sigaltstack(&bad, NULL) == -1 && errno == EINVAL,
	      "bad sigaltstack flags are EINVAL");

	/* faults */
	guest_on_signal(SIGSEGV, on_fault, 0);
	if (sigsetjmp(env, 1) == 0)
		*(volatile int *)bad_addr = 1;
	CHECK(last_sig == SIGSEGV && last_addr == 16 &&
		      last_code == SEGV_MAPERR,
	      "a write to an unmapped page: SIGSEGV, SEGV_MAPERR, its address");
	if (sigsetjmp(env, 1) == 0)
		*(volatile char *)(void *)main = 1;
	CHECK(last_sig == SIGSEGV && last_code == SEGV_ACCERR &&
		      last_addr == (uintptr_t)(void *)main,
	      "a write to text: SEGV_ACCERR");
	sigprocmask(SIG_BLOCK, NULL, &now);
	CHECK(!sigismember(&now, SIGSEGV),
	      "siglongjmp restored the signal mask");
	guest_on_signal(SIGFPE, on_fault, 0);
	if (sigsetjmp(env, 1) == 0) {
		unsigned n = 1, d = (unsigned)zero;
		__asm__ volatile("xorl %%edx, %%edx; divl %1"
				 : "+a"(n)
				 : "r"(d)
				 : "rdx");
	}
	CHECK(last_sig == SIGFPE && last_code == FPE_INTDIV,
	      "a division by zero: SIGFPE, FPE_INTDIV");
	guest_on_signal(SIGILL, skip_ud2, 0);
	long rax = 0;
	uintptr_t ud2_at = 0;
	__asm__ volatile("lea 0f(%%rip), %1\n\t"
			 "0: ud2\n\t"
			 : "=a"(rax), "=r"(ud2_at)
			 :
			 : "memory");
	CHECK(last_sig == SIGILL && last_addr == ud2_at,
	      "ud2: SIGILL at its address");
	CHECK(rax == 4242, "a handler's change to the context takes effect");

	/* SIGPIPE */
	int p[2];
	guest_on_signal(SIGPIPE, on_info, 0);
	pipe(p);
	close(p[0]);
	int before = hits;
	CHECK(write(p[1], "x", 1) == -1 && errno == EPIPE &&
		      hits == before + 1 && last_sig == SIGPIPE,
	      "a write to a pipe with no reader: SIGPIPE, then EPIPE");
	masks_for_a_wait();
	return guest_done("signals");
}
