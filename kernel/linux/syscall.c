/* syscall.c: system call dispatch and the table of implemented calls. */
#include "linux/syscalls.h"
#include <asm/unistd.h>

typedef long (*syscall_fn)(long, long, long, long, long, long);

struct syscall_entry {
	const char *name;
	syscall_fn fn;
};

/* SYS: implemented as Linux does it. SYS_PARTIAL: implemented, with
 * (missing) saying what is not; scripts/gen-compat.py reads both into
 * docs/compat.md. */
#define SYS_PARTIAL(name, missing) SYS(name)
#define SYS(name) \
	[__NR_##name] = {#name, (syscall_fn)(void (*)(void))sys_##name}

/* The ABI map: number, name and handler of every call Fresco serves. */
static const struct syscall_entry syscalls[] = {
	SYS(read),
	SYS(write),
	SYS_PARTIAL(open,
		    "no O_TMPFILE; named FIFOs and sockets cannot be opened"),
	SYS(close),
	SYS(stat),
	SYS(fstat),
	SYS(lstat),
	SYS(lseek),
	SYS_PARTIAL(mmap, "anonymous memory only: no file mappings yet"),
	SYS(mprotect),
	SYS(munmap),
	SYS(brk),
	SYS(rt_sigaction),
	SYS(rt_sigprocmask),
	SYS(rt_sigsuspend),
	SYS(rt_sigpending),
	SYS(pause),
	SYS(alarm),
	SYS(getitimer),
	SYS_PARTIAL(setitimer,
		    "ITIMER_VIRTUAL and ITIMER_PROF count time since boot"),
	SYS_PARTIAL(timer_create,
		    "REALTIME, MONOTONIC and BOOTTIME clocks; no SIGEV_THREAD"),
	SYS(timer_settime),
	SYS(timer_gettime),
	SYS(timer_getoverrun),
	SYS(timer_delete),
	SYS_PARTIAL(fallocate, "modes 0, KEEP_SIZE and PUNCH_HOLE"),
	SYS_PARTIAL(memfd_create, "no file seals"),
	SYS(rt_sigreturn),
	SYS(sigaltstack),
	SYS_PARTIAL(ioctl, "terminal ioctls on the console; FIOCLEX, FIONCLEX "
			   "and FIONBIO; on sockets FIONREAD, SIOCOUTQ and "
			   "the SIOCGIF* requests"),
	SYS(pread64),
	SYS(pwrite64),
	SYS(readv),
	SYS(writev),
	SYS(access),
	SYS(pipe),
	SYS(sched_yield),
	SYS_PARTIAL(mremap, "no MREMAP_DONTUNMAP"),
	SYS_PARTIAL(madvise, "advice is accepted; MADV_DONTNEED and MADV_FREE "
			     "zero the memory"),
	SYS(dup),
	SYS(dup2),
	SYS(nanosleep),
	SYS(getpid),
	SYS_PARTIAL(socket, "AF_INET stream (TCP), datagram (UDP, and ICMP "
			    "echo: ping sockets) and raw ICMP; AF_UNIX stream "
			    "and datagram; AF_NETLINK NETLINK_ROUTE (reading "
			    "links, addresses and routes); no IPv6, other raw "
			    "protocols or SOCK_SEQPACKET yet"),
	SYS_PARTIAL(socketpair, "AF_UNIX stream and datagram"),
	SYS(listen),
	SYS(eventfd),
	SYS(eventfd2),
	SYS(timerfd_create),
	SYS(timerfd_settime),
	SYS(timerfd_gettime),
	SYS_PARTIAL(epoll_create, "level-, edge-triggered and one-shot"),
	SYS_PARTIAL(epoll_create1, "level-, edge-triggered and one-shot"),
	SYS_PARTIAL(epoll_ctl, "no EPOLLEXCLUSIVE or EPOLLWAKEUP"),
	SYS(epoll_wait),
	SYS(epoll_pwait),
	SYS(accept),
	SYS(accept4),
	SYS(bind),
	SYS(connect),
	SYS_PARTIAL(sendto, "MSG_DONTWAIT, MSG_NOSIGNAL and MSG_MORE (TCP); "
			    "other flags have no effect"),
	SYS(recvfrom),
	SYS_PARTIAL(sendmsg, "control messages: SCM_RIGHTS (AF_UNIX); "
			     "IP_PKTINFO, IP_TOS, IP_TTL (UDP)"),
	SYS_PARTIAL(recvmsg, "control messages: SCM_RIGHTS (AF_UNIX); "
			     "IP_PKTINFO, IP_TOS, IP_TTL, SO_TIMESTAMP(NS), "
			     "and MSG_ERRQUEUE's IP_RECVERR (UDP)"),
	SYS_PARTIAL(sendmmsg, "control messages as sendmsg"),
	SYS_PARTIAL(recvmmsg, "control messages as recvmsg"),
	SYS(getsockname),
	SYS(getpeername),
	SYS(shutdown),
	SYS_PARTIAL(setsockopt, "SOL_SOCKET options, TCP_NODELAY, TCP_KEEP*, "
				"TCP_CORK, TCP_MAXSEG, TCP_SYNCNT, "
				"TCP_QUICKACK, TCP_USER_TIMEOUT, "
				"TCP_DEFER_ACCEPT, "
				"IP_TOS, IP_TTL, IP_MTU_DISCOVER, IP_FREEBIND, "
				"IP_RECVERR (UDP's error queue); "
				"IP_BIND_ADDRESS_NO_PORT is recorded only"),
	SYS_PARTIAL(getsockopt, "the options setsockopt takes, TCP_INFO "
				"(Linux 6.7's struct) and IP_MTU"),
	SYS(exit),
	SYS_PARTIAL(clone, "processes (as fork and vfork); no threads "
			   "(CLONE_VM without CLONE_VFORK) or namespaces"),
	SYS_PARTIAL(clone3, "as clone: no threads, set_tid, cgroups or "
			    "pidfds"),
	SYS(fork),
	SYS_PARTIAL(execve, "static programs (no dynamic loader yet); "
			    "arguments and environment up to 64 KiB"),
	SYS(vfork),
	SYS_PARTIAL(wait4, "no resource usage is counted"),
	SYS_PARTIAL(kill, "one process group and session for all"),
	SYS_PARTIAL(uname, "release 6.1.0-fresco"),
	SYS_PARTIAL(fcntl, "record locks always succeed (not kept between "
			   "processes); no leases or notify"),
	SYS_PARTIAL(flock, "always succeeds (not kept between processes)"),
	SYS_PARTIAL(fsync, "volumes: writes back the whole volume"),
	SYS_PARTIAL(fdatasync, "volumes: writes back the whole volume"),
	SYS(truncate),
	SYS(ftruncate),
	SYS(getcwd),
	SYS(chdir),
	SYS(fchdir),
	SYS(rename),
	SYS(mkdir),
	SYS(rmdir),
	SYS(creat),
	SYS(link),
	SYS(unlink),
	SYS(symlink),
	SYS_PARTIAL(readlink,
		    "/proc/self/exe and ordinary links; no other /proc links"),
	SYS(chmod),
	SYS(fchmod),
	SYS(chown),
	SYS(fchown),
	SYS(lchown),
	SYS(umask),
	SYS(gettimeofday),
	SYS(getrlimit),
	SYS(getuid),
	SYS(getgid),
	SYS(setrlimit),
	SYS(geteuid),
	SYS(getegid),
	SYS(getppid),
	SYS(statfs),
	SYS(fstatfs),
	SYS_PARTIAL(arch_prctl, "no ARCH_SET_GS (the kernel owns GS)"),
	SYS(sync),
	SYS(syncfs),
	SYS(gettid),
	SYS_PARTIAL(tkill, "one thread per process"),
	SYS(time),
	SYS_PARTIAL(sched_getaffinity, "one CPU"),
	SYS(getdents64),
	SYS(set_tid_address),
	SYS_PARTIAL(futex, "one thread a process: a wait ends by its timeout "
			   "or a signal; no priority inheritance"),
	SYS_PARTIAL(set_robust_list,
		    "recorded; there are no other threads to use it"),
	SYS_PARTIAL(clock_gettime, "the CPU-time clocks count time since boot"),
	SYS(clock_getres),
	SYS(clock_nanosleep),
	SYS(exit_group),
	SYS_PARTIAL(tgkill, "one thread per process"),
	SYS_PARTIAL(openat,
		    "no O_TMPFILE; named FIFOs and sockets cannot be opened"),
	SYS(mkdirat),
	SYS(fchownat),
	SYS(newfstatat),
	SYS(unlinkat),
	SYS(renameat),
	SYS(linkat),
	SYS(symlinkat),
	SYS(readlinkat),
	SYS(fchmodat),
	SYS(faccessat),
	SYS(utimensat),
	SYS(dup3),
	SYS(pipe2),
	SYS(preadv),
	SYS(pwritev),
	SYS(prlimit64),
	SYS(renameat2),
	SYS(getrandom),
	SYS(statx),
	SYS_PARTIAL(rseq, "returns ENOSYS, as on kernels without rseq; C "
			  "libraries go on"),
	SYS_PARTIAL(poll, "the console always reads as ready"),
	SYS_PARTIAL(ppoll, "the console always reads as ready"),
	SYS_PARTIAL(select, "the console always reads as ready"),
	SYS_PARTIAL(pselect6, "the console always reads as ready"),
	SYS(sendfile),
	SYS(copy_file_range),
	SYS(close_range),
	SYS_PARTIAL(prctl, "PR_SET/GET_NAME, DUMPABLE, NO_NEW_PRIVS, "
			   "PDEATHSIG; others EINVAL"),
	SYS_PARTIAL(sysinfo,
		    "memory, uptime and process count; no load or swap"),
	SYS_PARTIAL(times, "user time is time since boot"),
	SYS_PARTIAL(getrusage,
		    "user time is time since boot; other fields zero"),
	SYS_PARTIAL(getpgid, "one group and session, led by pid 1, for all"),
	SYS(getpgrp),
	SYS(getsid),
	SYS_PARTIAL(setsid, "sessions are not kept: EPERM"),
	SYS(setpgid),
	SYS(faccessat2),
};

/* Names of every x86_64 call, generated from the kernel's uapi header. */
static const char *const all_names[] = {
#include "syscall_names.h"
};

static uint8_t reported[(ARRAY_SIZE(all_names) + 7) / 8 + 1];

static long unknown(uint64_t nr)
{
	if (nr < ARRAY_SIZE(all_names)) {
		if (!(reported[nr / 8] & (1u << (nr % 8)))) {
			reported[nr / 8] |= 1u << (nr % 8);
			klog("system call %s (%lu) is not implemented; "
			     "the program gets ENOSYS",
			     all_names[nr] ? all_names[nr] : "?", nr);
		}
	} else if (!(reported[sizeof(reported) - 1] & 1)) {
		reported[sizeof(reported) - 1] |= 1;
		klog("unknown system call number %lu; the program gets ENOSYS",
		     nr);
	}
	return -ENOSYS;
}

long syscall_dispatch(struct syscall_frame *f)
{
	uint64_t nr = f->nr;
	long ret;

	current->frame = f;
	if (percpu0.ring3 && !percpu0.fast)
		callpatch_try(f);
	sched_wake(); /* what this call changes may end another's wait */
	if (nr < ARRAY_SIZE(syscalls) && syscalls[nr].fn)
		ret = syscalls[nr].fn((long)f->rdi, (long)f->rsi, (long)f->rdx,
				      (long)f->r10, (long)f->r8, (long)f->r9);
	else if (nr == FRESCO_SYS_PROBE)
		return (long)percpu0.ring3;
	else
		ret = unknown(nr);
	if (host_events)
		host_events_take();
	if (timers_active())
		timers_check();
	sched_tick();
	if ((current->sigpending & ~current->sigmask) || ret == -ERESTARTSYS ||
	    current->suspend_active)
		ret = signal_deliver_pending(f, ret); /* (or the mask back) */
	return ret;
}
