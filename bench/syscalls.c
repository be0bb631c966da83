/* syscalls.c: the cost of common system calls, timed from inside.
 * Prints "NAME NS" lines: the median over 15 rounds of the time per
 * operation. Works in a scratch file under /tmp. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 15

static double now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static char path[] = "/tmp/bench-XXXXXX";
static char page[4096];
static int fd, pfd[2];

static void op_getpid(void)
{
	syscall(SYS_getpid);
}

static void op_read4k(void)
{
	if (pread(fd, page, sizeof(page), 0) != sizeof(page))
		abort();
}

static void op_open_close(void)
{
	close(open(path, O_RDONLY));
}

static void op_stat(void)
{
	struct stat st;
	stat(path, &st);
}

static void op_pipe_1byte(void)
{
	char c = 'x';
	if (write(pfd[1], &c, 1) != 1 || read(pfd[0], &c, 1) != 1)
		abort();
}

static void op_mmap_1m(void)
{
	void *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(p, 1 << 20);
}

static void op_fork_wait(void)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	if (pid < 0 || waitpid(pid, NULL, 0) != pid)
		abort();
}

static void op_fork_exec_wait(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		execl("/proc/self/exe", "syscalls", "exit", (char *)NULL);
		_exit(127);
	}
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) != pid || st != 0)
		abort();
}

/* An epoll set of a server with many connections: one interest changed
 * in turn, as a server does when an answer has to wait for room. */
#define EP_SET 1000
static int ep, efds[EP_SET], next_efd;

static void op_epoll_mod(void)
{
	struct epoll_event ev = {EPOLLIN | (next_efd & 1 ? EPOLLOUT : 0),
				 {.u32 = (uint32_t)next_efd}};
	epoll_ctl(ep, EPOLL_CTL_MOD, efds[next_efd], &ev);
	next_efd = (next_efd + 7) % EP_SET;
}

/* A server's set: 1000 idle TCP connections (500 loopback pairs) and
 * an eventfd. The wait that finds the eventfd ready, with the write that
 * makes it so and the read that makes it idle again. */
static int ep_idle, wake_fd;

static int idle_set(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	ep_idle = epoll_create1(0);
	wake_fd = eventfd(0, 0);
	if (lfd < 0 || ep_idle < 0 || wake_fd < 0 ||
	    bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(lfd, EP_SET) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &len) < 0)
		return -1;
	for (int i = 0; i < EP_SET / 2; i++) {
		int c = socket(AF_INET, SOCK_STREAM, 0);
		if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)) < 0)
			return -1;
		int s = accept(lfd, NULL, NULL);
		struct epoll_event ev = {EPOLLIN, {.u32 = 0}};
		if (s < 0 || epoll_ctl(ep_idle, EPOLL_CTL_ADD, c, &ev) < 0 ||
		    epoll_ctl(ep_idle, EPOLL_CTL_ADD, s, &ev) < 0)
			return -1;
	}
	struct epoll_event ev = {EPOLLIN, {.u32 = 1}};
	return epoll_ctl(ep_idle, EPOLL_CTL_ADD, wake_fd, &ev);
}

static void op_epoll_wait_one(void)
{
	struct epoll_event evs[64];
	uint64_t one = 1;
	if (write(wake_fd, &one, 8) != 8 ||
	    epoll_wait(ep_idle, evs, 64, 0) != 1 || evs[0].data.u32 != 1 ||
	    read(wake_fd, &one, 8) != 8)
		abort();
}

/* A datagram to itself through loopback, with those 1000 connections
 * open: finding the socket it is for. */
static int udp_fd;

static void op_udp_to_self(void)
{
	char b[16];
	if (send(udp_fd, "ping", 4, 0) != 4 ||
	    recv(udp_fd, b, sizeof(b), 0) != 4)
		abort();
}

/* a short sleep: the timer's interrupt and the halt around it */
static void op_nanosleep_100us(void)
{
	struct timespec t = {0, 100000};
	nanosleep(&t, NULL);
}

static int udp_self(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	udp_fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (udp_fd < 0 || bind(udp_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(udp_fd, (struct sockaddr *)&a, &len) < 0)
		return -1;
	return connect(udp_fd, (struct sockaddr *)&a, sizeof(a));
}

static void measure(const char *name, void (*op)(void), int n)
{
	double t[ROUNDS];
	for (int r = 0; r < ROUNDS; r++) {
		double t0 = now_ns();
		for (int i = 0; i < n; i++)
			op();
		t[r] = (now_ns() - t0) / n;
	}
	qsort(t, ROUNDS, sizeof(t[0]), cmp);
	printf("%s %.1f\n", name, t[ROUNDS / 2]);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "exit") == 0)
		return 0; /* the program fork_exec_wait runs */
	fd = mkstemp(path);
	if (fd < 0 || write(fd, page, sizeof(page)) != sizeof(page) ||
	    pipe(pfd) < 0)
		return 1;
	measure("getpid", op_getpid, 20000);
	measure("read_4k_cached", op_read4k, 20000);
	measure("open_close", op_open_close, 5000);
	measure("stat", op_stat, 10000);
	measure("pipe_1byte_roundtrip", op_pipe_1byte, 10000);
	measure("mmap_munmap_1m", op_mmap_1m, 200);
	ep = epoll_create1(0);
	for (int i = 0; i < EP_SET; i++) {
		struct epoll_event ev = {EPOLLIN, {.u32 = (uint32_t)i}};
		efds[i] = eventfd(0, 0);
		if (efds[i] < 0 ||
		    epoll_ctl(ep, EPOLL_CTL_ADD, efds[i], &ev) < 0)
			return 1;
	}
	measure("epoll_ctl_mod_of_1000", op_epoll_mod, 20000);
	for (int i = 0; i < EP_SET; i++)
		close(efds[i]);
	close(ep);
	measure("fork_exit_wait", op_fork_wait, 100);
	measure("fork_exec_exit_wait", op_fork_exec_wait, 50);
	unlink(path);
	if (idle_set() < 0)
		return 1;
	measure("epoll_wait_1_ready_of_1000", op_epoll_wait_one, 2000);
	if (udp_self() < 0)
		return 1;
	measure("udp_to_self_among_1000", op_udp_to_self, 2000);
	measure("nanosleep_100us", op_nanosleep_100us, 200);
	return 0;
}
