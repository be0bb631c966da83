/* signal.c: signal dispositions and masks, and the default actions.
 *
 * Handlers are recorded but cannot run yet (signal frames come with the
 * ABI work): a signal whose disposition is a handler ends the program as
 * its default action would, with a line saying so.
 */
#include "linux/syscalls.h"
#include <asm/signal.h>

#define NSIG_LINUX 64
#define SIGSET_SIZE 8
#define SIG_DFL_VALUE 0
#define SIG_IGN_VALUE 1
#define SIGBIT(s) (1ULL << ((s)-1))
#define UNBLOCKABLE (SIGBIT(SIGKILL) | SIGBIT(SIGSTOP))
#define IGNORED_BY_DEFAULT                                     \
	(SIGBIT(SIGCHLD) | SIGBIT(SIGURG) | SIGBIT(SIGWINCH) | \
	 SIGBIT(SIGCONT) | SIGBIT(SIGTSTP) | SIGBIT(SIGTTIN) | \
	 SIGBIT(SIGTTOU))

static const char *const names[NSIG_LINUX + 1] = {
	[SIGHUP] = "SIGHUP",   [SIGINT] = "SIGINT",
	[SIGQUIT] = "SIGQUIT", [SIGILL] = "SIGILL",
	[SIGTRAP] = "SIGTRAP", [SIGABRT] = "SIGABRT",
	[SIGBUS] = "SIGBUS",   [SIGFPE] = "SIGFPE",
	[SIGKILL] = "SIGKILL", [SIGUSR1] = "SIGUSR1",
	[SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2",
	[SIGPIPE] = "SIGPIPE", [SIGALRM] = "SIGALRM",
	[SIGTERM] = "SIGTERM", [SIGSTKFLT] = "SIGSTKFLT",
	[SIGCHLD] = "SIGCHLD", [SIGCONT] = "SIGCONT",
	[SIGSTOP] = "SIGSTOP", [SIGTSTP] = "SIGTSTP",
	[SIGTTIN] = "SIGTTIN", [SIGTTOU] = "SIGTTOU",
	[SIGURG] = "SIGURG",   [SIGXCPU] = "SIGXCPU",
	[SIGXFSZ] = "SIGXFSZ", [SIGVTALRM] = "SIGVTALRM",
	[SIGPROF] = "SIGPROF", [SIGWINCH] = "SIGWINCH",
	[SIGIO] = "SIGIO",     [SIGPWR] = "SIGPWR",
	[SIGSYS] = "SIGSYS",
};

const char *signal_name(int sig)
{
	static char rt[12];
	if (sig > 0 && sig <= NSIG_LINUX && names[sig])
		return names[sig];
	snprintf(rt, sizeof(rt), "SIGRT%d", sig - 32);
	return rt;
}

NORETURN static void terminate(int sig, const char *why)
{
	klog("program killed by %s%s", signal_name(sig), why);
	kexit(128 + sig);
}

long signal_raise(int sig)
{
	uint64_t bit = SIGBIT(sig);

	if ((proc.sigmask & bit) && !(bit & UNBLOCKABLE)) {
		proc.sigpending |= bit;
		return 0;
	}
	uint64_t h = proc.sigactions[sig - 1].handler;
	if (bit & UNBLOCKABLE)
		h = SIG_DFL_VALUE;
	if (h == SIG_IGN_VALUE)
		return 0;
	if (h == SIG_DFL_VALUE) {
		if (bit & (IGNORED_BY_DEFAULT | SIGBIT(SIGSTOP)))
			return 0;
		terminate(sig, "");
	}
	terminate(sig, " (its handler cannot run: Fresco does not deliver "
		       "signals to handlers yet)");
}

NORETURN void signal_fault(const struct trap_frame *f, int sig, uint64_t addr)
{
	const char *what = exception_name(f->vector);
	if (f->vector == 14) {
		const char *access = (f->error & 0x10)	? "executing"
				     : (f->error & 0x2) ? "writing"
							: "reading";
		const char *cause =
			(f->error & 0x1) ? "not permitted" : "not mapped";
		klog("program killed by %s: %s address %#lx (%s) at rip %#lx",
		     signal_name(sig), access, addr, cause, f->rip);
	} else {
		klog("program killed by %s: %s at rip %#lx", signal_name(sig),
		     what, f->rip);
	}
	kexit(128 + sig);
}

long sys_rt_sigaction(int sig, uint64_t act, uint64_t oact, uint64_t size)
{
	typeof(proc.sigactions[0]) a;

	if (size != SIGSET_SIZE || sig < 1 || sig > NSIG_LINUX)
		return -EINVAL;
	if (act && (SIGBIT(sig) & UNBLOCKABLE))
		return -EINVAL;
	if (act && copy_from_user(&a, act, sizeof(a)) < 0)
		return -EFAULT;
	if (oact &&
	    copy_to_user(oact, &proc.sigactions[sig - 1], sizeof(a)) < 0)
		return -EFAULT;
	if (act) {
		a.mask &= ~UNBLOCKABLE;
		proc.sigactions[sig - 1] = a;
		if (a.handler == SIG_IGN_VALUE)
			proc.sigpending &= ~SIGBIT(sig);
	}
	return 0;
}

long sys_rt_sigprocmask(int how, uint64_t set, uint64_t oset, uint64_t size)
{
	uint64_t s, old = proc.sigmask;

	if (size != SIGSET_SIZE)
		return -EINVAL;
	if (set && copy_from_user(&s, set, sizeof(s)) < 0)
		return -EFAULT;
	if (set) {
		switch (how) {
		case SIG_BLOCK:
			proc.sigmask |= s;
			break;
		case SIG_UNBLOCK:
			proc.sigmask &= ~s;
			break;
		case SIG_SETMASK:
			proc.sigmask = s;
			break;
		default:
			return -EINVAL;
		}
		proc.sigmask &= ~UNBLOCKABLE;
	}
	if (oset && copy_to_user(oset, &old, sizeof(old)) < 0) {
		proc.sigmask = old;
		return -EFAULT;
	}
	/* deliver what became unblocked, lowest number first */
	uint64_t ready = proc.sigpending & ~proc.sigmask;
	for (int sig = 1; ready && sig <= NSIG_LINUX; sig++) {
		if (ready & SIGBIT(sig)) {
			proc.sigpending &= ~SIGBIT(sig);
			ready &= ~SIGBIT(sig);
			signal_raise(sig);
		}
	}
	return 0;
}

static long send_to_self(int sig)
{
	if (sig < 0 || sig > NSIG_LINUX)
		return -EINVAL;
	if (sig == 0)
		return 0;
	return signal_raise(sig);
}

long sys_kill(int pid, int sig)
{
	/* pid 1 is us; 0 and -1 reach every process we could signal: us */
	if (pid != 1 && pid != 0 && pid != -1)
		return -ESRCH;
	return send_to_self(sig);
}

long sys_tkill(int tid, int sig)
{
	if (tid <= 0)
		return -EINVAL;
	if (tid != 1)
		return -ESRCH;
	return send_to_self(sig);
}

long sys_tgkill(int tgid, int tid, int sig)
{
	if (tgid <= 0 || tid <= 0)
		return -EINVAL;
	if (tgid != 1 || tid != 1)
		return -ESRCH;
	return send_to_self(sig);
}
