/* guest.h: a tiny harness for the guest conformance programs.
 *
 * Each program checks one area of the Linux ABI from inside the VM. CHECK
 * prints "ok - what" or "not ok - what (details)"; guest_done() prints one
 * marker line "GUEST PASS name" or "GUEST FAIL name: N failed" and returns
 * the exit status. Only raw system calls are used where the point is the
 * kernel's answer, so the C library cannot hide it.
 */
#ifndef FRESCO_GUEST_H
#define FRESCO_GUEST_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int guest_failures;

#define CHECK(cond, ...)                                                     \
	do {                                                                 \
		if (cond) {                                                  \
			printf("ok - " __VA_ARGS__);                         \
			printf("\n");                                        \
		} else {                                                     \
			guest_failures++;                                    \
			printf("not ok - " __VA_ARGS__);                     \
			printf(" (%s:%d: %s)\n", __FILE__, __LINE__, #cond); \
		}                                                            \
	} while (0)

/* A raw system call: the kernel's result, -errno included. */
static inline long raw_syscall6(long n, long a, long b, long c, long d, long e,
				long f)
{
	long r;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8),
			   "r"(r9)
			 : "rcx", "r11", "memory");
	return r;
}

#define RAW0(n) raw_syscall6((n), 0, 0, 0, 0, 0, 0)
#define RAW1(n, a) raw_syscall6((n), (long)(a), 0, 0, 0, 0, 0)
#define RAW2(n, a, b) raw_syscall6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define RAW3(n, a, b, c) \
	raw_syscall6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define RAW4(n, a, b, c, d) \
	raw_syscall6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define RAW6(n, a, b, c, d, e, f)                                     \
	raw_syscall6((n), (long)(a), (long)(b), (long)(c), (long)(d), \
		     (long)(e), (long)(f))

/* read() until (len) bytes, end of file or an error: the bytes read. */
static inline size_t guest_read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

#ifdef GUEST_SIGNALS
#include <signal.h>
/* Install (fn) as an SA_SIGINFO handler of (sig) with (flags). */
static inline void
guest_on_signal(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | flags;
	sigaction(sig, &sa, NULL);
}
#endif

#ifdef GUEST_INET
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
/* The IPv4 socket address (ip):(port). */
static inline struct sockaddr_in guest_addr(const char *ip, int port)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, ip, &a.sin_addr);
	return a;
}

/* setsockopt (opt) at (level) to (v) on (fd): what getsockopt then
 * reads, or -errno if the set failed. */
static inline int sockopt_set_get(int fd, int level, int opt, int v)
{
	socklen_t len = sizeof(v);
	if (setsockopt(fd, level, opt, &v, sizeof(v)) < 0)
		return -errno;
	if (getsockopt(fd, level, opt, &v, &len) < 0)
		return -1000;
	return v;
}
#endif

static inline int guest_done(const char *name)
{
	if (guest_failures)
		printf("GUEST FAIL %s: %d failed\n", name, guest_failures);
	else
		printf("GUEST PASS %s\n", name);
	fflush(stdout);
	return guest_failures ? 1 : 0;
}

#endif
