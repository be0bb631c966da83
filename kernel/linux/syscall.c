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
	SYS(open),
	SYS(close),
	SYS(stat),
	SYS(fstat),
	SYS(lstat),
	SYS(lseek),
	SYS(mmap),
	SYS(mprotect),
	SYS(munmap),
	SYS(brk),
	SYS(rt_sigaction),
	SYS(rt_sigprocmask),
	SYS(ioctl),
	SYS(pread64),
	SYS(pwrite64),
	SYS(readv),
	SYS(writev),
	SYS(access),
	SYS(pipe),
	SYS(sched_yield),
	SYS(mremap),
	SYS(madvise),
	SYS(dup),
	SYS(dup2),
	SYS(nanosleep),
	SYS(getpid),
	SYS(exit),
	SYS(kill),
	SYS(uname),
	SYS(fcntl),
	SYS(flock),
	SYS(fsync),
	SYS(fdatasync),
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
	SYS(readlink),
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
	SYS(arch_prctl),
	SYS(sync),
	SYS(gettid),
	SYS(tkill),
	SYS(time),
	SYS(sched_getaffinity),
	SYS(getdents64),
	SYS(set_tid_address),
	SYS(set_robust_list),
	SYS(clock_gettime),
	SYS(clock_getres),
	SYS(clock_nanosleep),
	SYS(exit_group),
	SYS(tgkill),
	SYS(openat),
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
	SYS(rseq),
	SYS(poll),
	SYS(ppoll),
	SYS(select),
	SYS(pselect6),
	SYS(sendfile),
	SYS(copy_file_range),
	SYS(close_range),
	SYS(prctl),
	SYS(sysinfo),
	SYS(times),
	SYS(getrusage),
	SYS(getpgid),
	SYS(getpgrp),
	SYS(getsid),
	SYS(setsid),
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

	if (nr < ARRAY_SIZE(syscalls) && syscalls[nr].fn)
		return syscalls[nr].fn((long)f->rdi, (long)f->rsi, (long)f->rdx,
				       (long)f->r10, (long)f->r8, (long)f->r9);
	if (nr == FRESCO_SYS_PROBE)
		return (long)percpu0.ring3;
	return unknown(nr);
}
