/* syscall.c: system call dispatch and the table of implemented calls. */
#include "linux/syscalls.h"
#include <asm/unistd.h>

typedef long (*syscall_fn)(long, long, long, long, long, long);

struct syscall_entry {
	const char *name;
	syscall_fn fn;
};

#define SYS(name) \
	[__NR_##name] = {#name, (syscall_fn)(void (*)(void))sys_##name}

/* The ABI map: number, name and handler of every call Fresco serves. */
static const struct syscall_entry syscalls[] = {
	SYS(read),
	SYS(write),
	SYS(close),
	SYS(fstat),
	SYS(mmap),
	SYS(mprotect),
	SYS(munmap),
	SYS(brk),
	SYS(rt_sigaction),
	SYS(rt_sigprocmask),
	SYS(ioctl),
	SYS(readv),
	SYS(writev),
	SYS(sched_yield),
	SYS(mremap),
	SYS(madvise),
	SYS(nanosleep),
	SYS(getpid),
	SYS(exit),
	SYS(kill),
	SYS(uname),
	SYS(getcwd),
	SYS(readlink),
	SYS(gettimeofday),
	SYS(getrlimit),
	SYS(getuid),
	SYS(getgid),
	SYS(geteuid),
	SYS(getegid),
	SYS(getppid),
	SYS(setrlimit),
	SYS(arch_prctl),
	SYS(gettid),
	SYS(tkill),
	SYS(time),
	SYS(sched_getaffinity),
	SYS(set_tid_address),
	SYS(clock_gettime),
	SYS(clock_getres),
	SYS(clock_nanosleep),
	SYS(exit_group),
	SYS(tgkill),
	SYS(newfstatat),
	SYS(readlinkat),
	SYS(set_robust_list),
	SYS(prlimit64),
	SYS(getrandom),
	SYS(rseq),
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

	if (nr < ARRAY_SIZE(syscalls) && syscalls[nr].fn)
		return syscalls[nr].fn((long)f->rdi, (long)f->rsi, (long)f->rdx,
				       (long)f->r10, (long)f->r8, (long)f->r9);
	if (nr == FRESCO_SYS_PROBE)
		return (long)percpu0.ring3;
	return unknown(nr);
}
