/* efault.c: garbage from the program gets Linux's errno, and the VM keeps
 * running: bad pointers, kernel addresses, bad descriptors, bad flags. */
#include "guest.h"

#include <signal.h>
#include <stdlib.h>
#include <stdint.h>
#include <sys/uio.h>
#include <time.h>

#define KERNEL_ADDR 0xffffffff80100000UL
#define NONCANONICAL 0x0000900000000000UL
#define TOP_OF_USER 0x00007ffffffffff8UL

static const char rodata[4096] = "read-only";

int main(void)
{
	char buf[64] = "\n";
	struct iovec iov[2] = {{buf, 1}, {NULL, 10}};
	struct timespec bad_ts = {0, 1000000000};

	CHECK(RAW3(SYS_write, 1, NULL, 10) == -EFAULT, "write from NULL");
	CHECK(RAW3(SYS_write, 1, KERNEL_ADDR, 10) == -EFAULT,
	      "write from a kernel address");
	CHECK(RAW3(SYS_write, 1, NONCANONICAL, 10) == -EFAULT,
	      "write from a non-canonical address");
	CHECK(RAW3(SYS_write, 1, TOP_OF_USER, 16) == -EFAULT,
	      "write from a range crossing the top of user space");
	CHECK(RAW3(SYS_write, 1, NULL, 0) == 0, "write of 0 bytes from NULL");
	CHECK(RAW3(SYS_read, 0, KERNEL_ADDR, 10) == -EFAULT,
	      "read into a kernel address");
	CHECK(RAW2(SYS_clock_gettime, CLOCK_MONOTONIC, NULL) == -EFAULT,
	      "clock_gettime into NULL");
	CHECK(RAW2(SYS_clock_gettime, CLOCK_MONOTONIC, rodata) == -EFAULT,
	      "clock_gettime into read-only memory");
	CHECK(RAW2(SYS_clock_gettime, CLOCK_MONOTONIC, main) == -EFAULT,
	      "clock_gettime into program text");
	CHECK(RAW1(SYS_uname, KERNEL_ADDR) == -EFAULT, "uname into the kernel");
	CHECK(RAW3(SYS_writev, 1, NULL, 1) == -EFAULT, "writev of NULL iovecs");
	char tmpl[] = "/tmp/efault-XXXXXX";
	int tfd = mkstemp(tmpl);
	CHECK(tfd >= 0 && RAW3(SYS_writev, tfd, iov, 2) == 1,
	      "writev to a file stops at a bad buffer after the good one");
	unlink(tmpl);
	close(tfd);
	CHECK(RAW3(SYS_writev, 1, iov + 1, 1) == -EFAULT,
	      "writev of only a bad buffer");
	CHECK(RAW3(SYS_writev, 1, iov, -1) == -EINVAL, "writev count -1");
	CHECK(RAW3(SYS_writev, 1, iov, 1025) == -EINVAL, "writev count 1025");
	CHECK(RAW3(SYS_getrandom, NULL, 16, 0) == -EFAULT, "getrandom to NULL");
	CHECK(RAW3(SYS_getrandom, buf, 16, 0x100) == -EINVAL,
	      "getrandom with unknown flags");
	CHECK(RAW2(SYS_arch_prctl, 0x1002, KERNEL_ADDR) == -EPERM,
	      "arch_prctl(ARCH_SET_FS) to a kernel address");
	CHECK(RAW2(SYS_arch_prctl, 0x9999, 0) == -EINVAL,
	      "arch_prctl with an unknown code");
	CHECK(RAW2(SYS_nanosleep, NULL, NULL) == -EFAULT, "nanosleep(NULL)");
	CHECK(RAW2(SYS_nanosleep, &bad_ts, NULL) == -EINVAL,
	      "nanosleep with tv_nsec = 1e9");
	CHECK(RAW4(SYS_rt_sigaction, SIGKILL, buf, NULL, 8) == -EINVAL,
	      "rt_sigaction on SIGKILL");
	CHECK(RAW4(SYS_rt_sigaction, 65, NULL, NULL, 8) == -EINVAL,
	      "rt_sigaction on signal 65");
	CHECK(RAW4(SYS_rt_sigaction, SIGUSR1, NULL, NULL, 4) == -EINVAL,
	      "rt_sigaction with a wrong sigset size");
	CHECK(RAW4(SYS_rt_sigaction, SIGUSR1, KERNEL_ADDR, NULL, 8) == -EFAULT,
	      "rt_sigaction from a kernel address");
	CHECK(RAW4(SYS_rt_sigprocmask, 99, buf, NULL, 8) == -EINVAL,
	      "rt_sigprocmask with an unknown how");
	CHECK(RAW3(SYS_write, 5, buf, 1) == -EBADF, "write to fd 5");
	CHECK(RAW3(SYS_write, -1, buf, 1) == -EBADF, "write to fd -1");
	CHECK(RAW3(SYS_write, 0, buf, 1) == -EBADF, "write to stdin");
	CHECK(RAW3(SYS_read, 1, buf, 1) == -EBADF, "read from stdout");
	CHECK(RAW1(SYS_close, 7) == -EBADF, "close of fd 7");
	CHECK(RAW3(SYS_readlink, "/proc/self/exe", buf, 0) == -EINVAL,
	      "readlink with size 0");
	CHECK(RAW3(SYS_readlink, NULL, buf, 10) == -EFAULT,
	      "readlink of a NULL path");
	CHECK(RAW4(SYS_prlimit64, 0, 99, NULL, buf) == -EINVAL,
	      "prlimit64 of resource 99");
	CHECK(RAW4(SYS_prlimit64, 0x7fffffff, 0, NULL, buf) == -ESRCH,
	      "prlimit64 of another process");
	CHECK(RAW3(SYS_sched_getaffinity, 0, 4, buf) == -EINVAL,
	      "sched_getaffinity with a 4-byte mask");
	CHECK(RAW6(SYS_mmap, 0, 4096, 3, 0x22, -1, 1) == -EINVAL,
	      "mmap with an unaligned offset");
	CHECK(RAW6(SYS_mmap, 0, 4096, 3, 0x2, 9, 0) == -EBADF,
	      "mmap of a closed descriptor");
	return guest_done("efault");
}
