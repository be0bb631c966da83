/* sys_proc.c: processes: fork, vfork, clone, wait4, exit, identity,
 * limits and thread-area calls. Processes have one thread each; the
 * program the VM started with is pid 1, in a process group and session
 * that every process shares. */
#include "linux/syscalls.h"
#include "arch/x86_64/x86.h"
#include "fs/fs.h"
#include <asm/prctl.h>
#include <linux/resource.h>
#include <linux/utsname.h>
#include <linux/prctl.h>
#include <linux/sysinfo.h>
#include <linux/times.h>
#include <linux/sched.h>
#include <linux/wait.h>

#define ROBUST_LIST_HEAD_SIZE 24
#define KERNEL_RELEASE "6.1.0-fresco"
#define HOSTNAME "fresco"

#define CLONE_EXIT_SIGNAL 0xff /* CSIGNAL */

long sys_exit(int status)
{
	/* a process's only thread ending ends the process */
	process_exit((status & 0xff) << 8, status & 0xff);
}

long sys_exit_group(int status)
{
	process_exit((status & 0xff) << 8, status & 0xff);
}

long sys_fork(void)
{
	struct fork_req req = {0};
	return process_fork(&req);
}

long sys_vfork(void)
{
	struct fork_req req = {.vfork = 1, .share_vm = 1};
	return process_fork(&req);
}

/* clone and clone3 once their arguments are read: (stack) is the new
 * stack pointer (0: the same as the parent's). */
static long do_clone(uint64_t flags, int exit_signal, uint64_t stack,
		     uint64_t parent_tid, uint64_t child_tid, uint64_t tls)
{
	const uint64_t known = CLONE_VM | CLONE_VFORK | CLONE_SETTLS |
			       CLONE_PARENT_SETTID | CLONE_CHILD_SETTID |
			       CLONE_CHILD_CLEARTID;
	if ((flags & CLONE_VM) && !(flags & CLONE_VFORK)) {
		static int said;
		if (!said++)
			klog("clone with CLONE_VM (a thread) is not "
			     "implemented; the program gets ENOSYS");
		return -ENOSYS;
	}
	if ((flags & ~known) || exit_signal < 0 || exit_signal > 64)
		return -EINVAL;
	struct fork_req req = {
		.vfork = (flags & CLONE_VFORK) != 0,
		.share_vm = (flags & CLONE_VM) != 0, /* only with CLONE_VFORK */
		.settls = (flags & CLONE_SETTLS) != 0,
		.tls = tls,
		.stack = stack,
		.parent_tid = (flags & CLONE_PARENT_SETTID) ? parent_tid : 0,
		.set_child_tid = (flags & CLONE_CHILD_SETTID) ? child_tid : 0,
		.clear_child_tid =
			(flags & CLONE_CHILD_CLEARTID) ? child_tid : 0,
	};
	if (req.settls && tls >= USER_TOP)
		return -EPERM;
	if ((req.parent_tid && !user_range_ok(parent_tid, 4)) ||
	    (req.set_child_tid && !user_range_ok(child_tid, 4)))
		return -EFAULT;
	return process_fork(&req);
}

long sys_clone(uint64_t flags, uint64_t stack, uint64_t parent_tid,
	       uint64_t child_tid, uint64_t tls)
{
	return do_clone(flags & ~(uint64_t)CLONE_EXIT_SIGNAL,
			(int)(flags & CLONE_EXIT_SIGNAL), stack, parent_tid,
			child_tid, tls);
}

long sys_clone3(uint64_t uargs, uint64_t size)
{
	struct clone_args a;
	if (size < CLONE_ARGS_SIZE_VER0 || size > PAGE_SIZE)
		return -EINVAL;
	memset(&a, 0, sizeof(a));
	if (copy_from_user(&a, uargs, size < sizeof(a) ? size : sizeof(a)) < 0)
		return -EFAULT;
	if (a.set_tid || a.set_tid_size || a.cgroup || a.pidfd ||
	    (a.exit_signal & ~(uint64_t)CLONE_EXIT_SIGNAL))
		return -EINVAL;
	if ((a.stack == 0) != (a.stack_size == 0))
		return -EINVAL;
	/* clone3 gives the stack's lowest address and its size */
	uint64_t sp = a.stack ? a.stack + a.stack_size : 0;
	return do_clone(a.flags, (int)a.exit_signal, sp, a.parent_tid,
			a.child_tid, a.tls);
}

long sys_wait4(int pid, uint64_t ustatus, int options, uint64_t urusage)
{
	int status = 0;
	if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WALL | __WCLONE |
			__WNOTHREAD))
		return -EINVAL;
	if (pid == INT32_MIN)
		return -ESRCH;
	long r = process_wait(pid, options, &status);
	if (r <= 0)
		return r;
	if (ustatus && copy_to_user(ustatus, &status, sizeof(status)) < 0)
		return -EFAULT;
	if (urusage) {
		uint8_t ru[144] = {0}; /* struct rusage: nothing is counted */
		if (copy_to_user(urusage, ru, sizeof(ru)) < 0)
			return -EFAULT;
	}
	return r;
}

long sys_getpid(void)
{
	return current->pid;
}

long sys_gettid(void)
{
	return current->pid;
}

long sys_getppid(void)
{
	return current->parent ? current->parent->pid : 0;
}

long sys_getuid(void)
{
	return 0;
}

long sys_geteuid(void)
{
	return 0;
}

long sys_getgid(void)
{
	return 0;
}

long sys_getegid(void)
{
	return 0;
}

long sys_uname(uint64_t buf)
{
	struct new_utsname u;
	memset(&u, 0, sizeof(u));
	memcpy(u.sysname, "Linux", 6);
	memcpy(u.nodename, HOSTNAME, sizeof(HOSTNAME));
	memcpy(u.release, KERNEL_RELEASE, sizeof(KERNEL_RELEASE));
	memcpy(u.version, "#1 Fresco", 10);
	memcpy(u.machine, "x86_64", 7);
	memcpy(u.domainname, "(none)", 7);
	return copy_to_user(buf, &u, sizeof(u));
}

static void set_fs_base(uint64_t v)
{
	if (percpu0.ring3 && boot.fsgsbase)
		wrfsbase(v);
	else if (percpu0.ring3)
		gate_call(GATE_WRMSR, MSR_FS_BASE, (long)v, 0);
	else
		wrmsr(MSR_FS_BASE, v);
	current->fs_base = v;
}

long sys_arch_prctl(int code, uint64_t addr)
{
	switch (code) {
	case ARCH_SET_FS:
		if (addr >= USER_TOP)
			return -EPERM;
		set_fs_base(addr);
		return 0;
	case ARCH_GET_FS:
		return copy_to_user(addr, &current->fs_base, sizeof(uint64_t));
	case ARCH_GET_CPUID:
		return 1;
	case ARCH_SET_GS:
	case ARCH_GET_GS:
		/* the kernel's per-CPU data lives behind GS */
		return -EPERM;
	default:
		return -EINVAL;
	}
}

long sys_set_tid_address(uint64_t tidptr)
{
	current->clear_child_tid = tidptr;
	return current->pid;
}

long sys_set_robust_list(uint64_t head, uint64_t len)
{
	(void)head;
	return len == ROBUST_LIST_HEAD_SIZE ? 0 : -EINVAL;
}

long sys_rseq(void)
{
	/* restartable sequences need preemption; libcs fall back quietly */
	return -ENOSYS;
}

void process_init(const char *exe, int tty)
{
	current->mm = vm_boot_mm();
	current->files = files_new();
	if (!current->mm || !current->files)
		kpanic(NULL, "no memory for the first process");
	current->umask = 022;
	current->altstack.flags = 2; /* SS_DISABLE */
	current->exe = exe;
	current->tty = tty;
	for (int i = 0; i < RLIM_NLIMITS; i++) {
		current->rlim[i][0] = RLIM64_INFINITY;
		current->rlim[i][1] = RLIM64_INFINITY;
	}
	current->rlim[RLIMIT_STACK][0] = 8ULL << 20;
	current->rlim[RLIMIT_NOFILE][0] = 1024;
	current->rlim[RLIMIT_NOFILE][1] = 4096;
	current->rlim[RLIMIT_CORE][0] = 0;
	current->rlim[RLIMIT_MEMLOCK][0] = 8ULL << 20;
	current->rlim[RLIMIT_MEMLOCK][1] = 8ULL << 20;
	current->rlim[RLIMIT_SIGPENDING][0] = 1024;
	current->rlim[RLIMIT_SIGPENDING][1] = 1024;
	current->rlim[RLIMIT_MSGQUEUE][0] = 819200;
	current->rlim[RLIMIT_MSGQUEUE][1] = 819200;
	current->rlim[RLIMIT_NICE][0] = 0;
	current->rlim[RLIMIT_NICE][1] = 0;
	current->rlim[RLIMIT_RTPRIO][0] = 0;
	current->rlim[RLIMIT_RTPRIO][1] = 0;
}

long sys_prlimit64(int pid, unsigned res, uint64_t new, uint64_t old)
{
	struct rlimit64 r;

	struct process *p = pid ? process_find(pid) : current;
	if (!p || p->state == PROC_ZOMBIE)
		return -ESRCH;
	if (res >= RLIM_NLIMITS)
		return -EINVAL;
	if (new) {
		if (copy_from_user(&r, new, sizeof(r)) < 0)
			return -EFAULT;
		if (r.rlim_cur > r.rlim_max)
			return -EINVAL;
	}
	if (old) {
		struct rlimit64 o = {p->rlim[res][0], p->rlim[res][1]};
		if (copy_to_user(old, &o, sizeof(o)) < 0)
			return -EFAULT;
	}
	if (new) {
		p->rlim[res][0] = r.rlim_cur;
		p->rlim[res][1] = r.rlim_max;
	}
	return 0;
}

long sys_getrlimit(unsigned res, uint64_t old)
{
	return sys_prlimit64(0, res, 0, old);
}

long sys_setrlimit(unsigned res, uint64_t new)
{
	return sys_prlimit64(0, res, new, 0);
}

long sys_sched_getaffinity(int pid, uint64_t len, uint64_t mask)
{
	uint64_t one = 1;

	if (pid != 0 && !process_find(pid))
		return -ESRCH;
	if (len < sizeof(one) || (len & (sizeof(one) - 1)))
		return -EINVAL;
	if (copy_to_user(mask, &one, sizeof(one)) < 0)
		return -EFAULT;
	return sizeof(one);
}

long sys_sched_yield(void)
{
	sched_yield_wait(0); /* 0: back as soon as the others wait */
	return 0;
}

long sys_prctl(int option, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	static char name[16] = "init";
	static int dumpable = 1, no_new_privs, pdeathsig;

	switch (option) {
	case PR_SET_NAME: {
		char n[16];
		long r = string_from_user(n, a2, sizeof(n));
		if (r == -EFAULT)
			return r;
		memcpy(name, n, sizeof(n));
		name[15] = '\0';
		return 0;
	}
	case PR_GET_NAME:
		return copy_to_user(a2, name, sizeof(name));
	case PR_SET_DUMPABLE:
		if (a2 > 1)
			return -EINVAL;
		dumpable = (int)a2;
		return 0;
	case PR_GET_DUMPABLE:
		return dumpable;
	case PR_SET_NO_NEW_PRIVS:
		if (a2 != 1 || a3 || a4 || a5)
			return -EINVAL;
		no_new_privs = 1;
		return 0;
	case PR_GET_NO_NEW_PRIVS:
		return no_new_privs;
	case PR_SET_PDEATHSIG:
		if (a2 > 64)
			return -EINVAL;
		pdeathsig = (int)a2;
		return 0;
	case PR_GET_PDEATHSIG:
		return copy_to_user(a2, &pdeathsig, sizeof(pdeathsig));
	case PR_SET_CHILD_SUBREAPER:
	case PR_SET_TIMERSLACK:
		return 0;
	default:
		return -EINVAL;
	}
}

long sys_sysinfo(uint64_t ubuf)
{
	struct sysinfo si;
	memset(&si, 0, sizeof(si));
	si.uptime = (long)(clock_monotonic_ns() / 1000000000);
	si.totalram = phys_total_pages();
	si.freeram = phys_free_pages();
	si.procs = (uint16_t)process_count();
	si.mem_unit = PAGE_SIZE;
	return copy_to_user(ubuf, &si, sizeof(si));
}

/* One process that never waits: its CPU time is the time since boot. */
long sys_times(uint64_t ubuf)
{
	uint64_t ticks = clock_monotonic_ns() / (1000000000 / 100);
	struct tms t = {(long)ticks, 0, 0, 0};
	if (ubuf && copy_to_user(ubuf, &t, sizeof(t)) < 0)
		return -EFAULT;
	return (long)ticks;
}

long sys_getrusage(int who, uint64_t ubuf)
{
	struct {
		int64_t utime_sec, utime_usec, stime_sec, stime_usec;
		int64_t rest[14];
	} ru;
	if (who != 0 && who != -1 && who != 1) /* SELF, CHILDREN, THREAD */
		return -EINVAL;
	memset(&ru, 0, sizeof(ru));
	if (who != -1) {
		uint64_t us = clock_monotonic_ns() / 1000;
		ru.utime_sec = (int64_t)(us / 1000000);
		ru.utime_usec = (int64_t)(us % 1000000);
	}
	return copy_to_user(ubuf, &ru, sizeof(ru));
}

/* Process groups and sessions: one of each, led by pid 1. */
static int exists(int pid)
{
	return pid == 0 || process_find(pid) != NULL;
}

long sys_getpgid(int pid)
{
	return exists(pid) ? 1 : -ESRCH;
}

long sys_getpgrp(void)
{
	return 1;
}

long sys_getsid(int pid)
{
	return exists(pid) ? 1 : -ESRCH;
}

long sys_setsid(void)
{
	/* pid 1 already leads its group; new sessions are not kept */
	return -EPERM;
}

long sys_setpgid(int pid, int pgid)
{
	if (!exists(pid))
		return -ESRCH;
	return pgid == 0 || pgid == 1 ? 0 : -EPERM;
}
