/* epoll.c: eventfd, timerfd and epoll (level, edge, one-shot) over pipes,
 * eventfds, timerfds and TCP sockets.
 */
#define _GNU_SOURCE
#include "guest.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void eventfds(void)
{
	uint64_t v;
	int e = eventfd(3, EFD_NONBLOCK);
	CHECK(e >= 0, "eventfd");
	CHECK(read(e, &v, 8) == 8 && v == 3, "read the initial count");
	errno = 0;
	CHECK(read(e, &v, 8) < 0 && errno == EAGAIN, "empty: EAGAIN");
	v = 5;
	CHECK(write(e, &v, 8) == 8 && write(e, &v, 8) == 8, "write twice");
	CHECK(read(e, &v, 8) == 8 && v == 10, "the counts add up");
	errno = 0;
	CHECK(read(e, &v, 4) < 0 && errno == EINVAL, "short read: EINVAL");
	close(e);
	e = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
	CHECK(read(e, &v, 8) == 8 && v == 1 && read(e, &v, 8) == 8 && v == 1,
	      "semaphore mode gives one at a time");
	close(e);
}

static void timerfds(void)
{
	uint64_t v;
	int t = timerfd_create(CLOCK_MONOTONIC, 0);
	CHECK(t >= 0, "timerfd_create");
	struct itimerspec its = {{0, 0}, {0, 50000000}};
	double t0 = now();
	CHECK(timerfd_settime(t, 0, &its, NULL) == 0, "arm 50 ms");
	CHECK(read(t, &v, 8) == 8 && v == 1 && now() - t0 >= 0.045,
	      "read blocks until it expires (%.3f s)", now() - t0);
	its = (struct itimerspec){{0, 10000000}, {0, 10000000}};
	timerfd_settime(t, 0, &its, NULL);
	struct timespec ts = {0, 35000000};
	nanosleep(&ts, NULL);
	CHECK(read(t, &v, 8) == 8 && v >= 3 && v <= 4,
	      "a 10 ms interval, 35 ms later: 3 expirations (%llu)",
	      (unsigned long long)v);
	struct itimerspec cur;
	CHECK(timerfd_gettime(t, &cur) == 0 &&
		      cur.it_interval.tv_nsec == 10000000,
	      "timerfd_gettime");
	close(t);
}

static int listener(struct sockaddr_in *a)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(*a);
	bind(l, (struct sockaddr *)a, sizeof(*a));
	listen(l, 4);
	getsockname(l, (struct sockaddr *)a, &len);
	return l;
}

/* A descriptor closed while in the set, and its number given to a new
 * file (which the kernel may well put where the old one was): the new
 * one joins the set afresh and reports itself, as on Linux. Servers
 * that close and accept all day do exactly this. */
static void a_new_file_under_an_old_number(void)
{
	int ep = epoll_create1(0);
	int e1 = eventfd(0, 0);
	struct epoll_event ev = {EPOLLIN, {.u64 = 1}}, out[4];
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, e1, &ev) == 0, "an eventfd added");
	close(e1);
	int e2 = eventfd(1, 0);
	ev.data.u64 = 2;
	int r = epoll_ctl(ep, EPOLL_CTL_ADD, e2, &ev);
	CHECK(e2 == e1 && r == 0,
	      "closed, and a new one under its number added (%d)",
	      r < 0 ? errno : 0);
	CHECK(epoll_wait(ep, out, 4, 0) == 1 && out[0].data.u64 == 2,
	      "the new one reports itself");
	close(e2);
	close(ep);
}

/* Two waits of (n) - 44 events each report every one of (n) ready
 * interests (data 0 .. n - 1): a wait may give fewer than are ready, but
 * the next does not give the same again first. */
static int all_reported(int ep, struct epoll_event *out, int n)
{
	static char seen[1024];
	memset(seen, 0, sizeof(seen));
	int got = 0;
	for (int w = 0; w < 2; w++) {
		int k = epoll_wait(ep, out, n - 44, 0);
		for (int j = 0; j < k; j++)
			got += !seen[out[j].data.u64]++;
	}
	return got == n;
}

/* (n) eventfds, ready, into (fds) and set (ep), data 0 .. n - 1: how
 * many were added. */
static int ready_set(int ep, int *fds, int n)
{
	int added = 0;
	for (int i = 0; i < n; i++) {
		fds[i] = eventfd(1, 0);
		struct epoll_event ev = {EPOLLIN, {.u64 = (uint64_t)i}};
		added += fds[i] >= 0 &&
			 epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) == 0;
	}
	return added;
}

/* A set of more descriptors than a page of interests holds, as a server
 * with a few hundred connections has: every one is added and reported,
 * and those closed make room for new ones. */
static void many_interests(void)
{
	enum { N = 300 };
	static int fds[N];
	static struct epoll_event out[N + 1];
	int ep = epoll_create1(0), added = ready_set(ep, fds, N);
	CHECK(added == N, "%d of %d eventfds added to one set", added, N);
	int all = epoll_wait(ep, out, N + 1, 0);
	CHECK(all == N, "one wait with room reports all %d (%d)", N, all);
	CHECK(all_reported(ep, out, N), "all of them reported");
	for (int round = 0; round < 3; round++)
		for (int i = 0; i < N; i++) {
			close(fds[i]);
			fds[i] = eventfd(1, 0);
			struct epoll_event ev = {EPOLLIN, {.u64 = (uint64_t)i}};
			if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) < 0)
				added = -1;
		}
	CHECK(added == N && all_reported(ep, out, N),
	      "closed and replaced three times over, still %d", N);
	for (int i = 0; i < N; i++)
		close(fds[i]);
	close(ep);
}

/* epoll_ctl among many interests, after waits have reordered the set:
 * each MOD and DEL finds its own descriptor's, a second ADD or DEL says
 * so, and a descriptor dup'd from one in the set has an interest of its
 * own (Linux keys them by descriptor and file). */
static void changes_among_many(void)
{
	enum { N = 300 };
	static int fds[N];
	static struct epoll_event out[N + 1];
	int ep = epoll_create1(0), ok = 0;
	CHECK(ready_set(ep, fds, N) == N, "%d ready eventfds in a set", N);
	epoll_wait(ep, out, 100, 0); /* the set goes round */
	for (int i = 0; i < N; i++) {
		struct epoll_event ev = {EPOLLIN, {.u64 = (uint64_t)i + N}};
		ok += epoll_ctl(ep, EPOLL_CTL_MOD, fds[i], &ev) == 0;
	}
	/* (a wait may give fewer than are ready: two see them all) */
	int n = 0, moved = 0;
	for (int w = 0; w < 2; w++) {
		int k = epoll_wait(ep, out, N + 1, 0);
		for (int j = 0; j < k && n + j < N; j++)
			moved += out[j].data.u64 >= N;
		n += k;
	}
	CHECK(ok == N && moved == N, "%d of %d changed, all %d seen", ok, N,
	      moved);
	ok = 0;
	for (int i = 0; i < N; i += 2)
		ok += epoll_ctl(ep, EPOLL_CTL_DEL, fds[i], NULL) == 0;
	errno = 0;
	int again = epoll_ctl(ep, EPOLL_CTL_DEL, fds[0], NULL) < 0 &&
		    errno == ENOENT;
	struct epoll_event ev = {EPOLLIN, {.u64 = 7}};
	errno = 0;
	int twice = epoll_ctl(ep, EPOLL_CTL_ADD, fds[1], &ev) < 0 &&
		    errno == EEXIST;
	CHECK(ok == N / 2 && again && twice &&
		      epoll_wait(ep, out, N + 1, 0) == N / 2,
	      "half taken out: ENOENT the second time, EEXIST for one in, "
	      "%d left",
	      N / 2);
	int d = dup(fds[1]);
	ev.data.u64 = 9999;
	int added = epoll_ctl(ep, EPOLL_CTL_ADD, d, &ev) == 0;
	errno = 0;
	twice = epoll_ctl(ep, EPOLL_CTL_ADD, d, &ev) < 0 && errno == EEXIST;
	int gone = epoll_ctl(ep, EPOLL_CTL_DEL, fds[1], NULL) == 0;
	n = epoll_wait(ep, out, N + 1, 0);
	int dup_seen = 0;
	for (int j = 0; j < n; j++)
		dup_seen += out[j].data.u64 == 9999;
	CHECK(added && twice && gone && n == N / 2 && dup_seen == 1,
	      "a dup has an interest of its own, there once (%d)", dup_seen);
	close(d);
	for (int i = 0; i < N; i++)
		close(fds[i]);
	close(ep);
}

static void epolls(void)
{
	struct epoll_event ev, out[8];
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int p[2];
	CHECK(ep >= 0 && pipe(p) == 0, "epoll_create1 and a pipe");
	ev.events = EPOLLIN;
	ev.data.u64 = 111;
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0, "add the pipe");
	errno = 0;
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) < 0 && errno == EEXIST,
	      "add twice: EEXIST");
	CHECK(epoll_wait(ep, out, 8, 0) == 0, "nothing ready");
	write(p[1], "ab", 2);
	CHECK(epoll_wait(ep, out, 8, 0) == 1 && out[0].data.u64 == 111 &&
		      (out[0].events & EPOLLIN),
	      "the pipe is readable");
	CHECK(epoll_wait(ep, out, 8, 0) == 1, "level-triggered: again");

	/* edge-triggered: once, then again only on new data */
	ev.events = EPOLLIN | EPOLLET;
	CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev) == 0, "MOD to EPOLLET");
	CHECK(epoll_wait(ep, out, 8, 0) == 1, "edge: reported once");
	CHECK(epoll_wait(ep, out, 8, 0) == 0, "edge: not again");
	char buf[8];
	read(p[0], buf, sizeof(buf));
	write(p[1], "c", 1);
	CHECK(epoll_wait(ep, out, 8, 0) == 1, "edge: new data, reported");

	/* one-shot */
	ev.events = EPOLLIN | EPOLLONESHOT;
	epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev);
	CHECK(epoll_wait(ep, out, 8, 0) == 1 && epoll_wait(ep, out, 8, 0) == 0,
	      "one-shot: once");
	epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev);
	CHECK(epoll_wait(ep, out, 8, 0) == 1, "one-shot: rearmed by MOD");
	CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL) == 0 &&
		      epoll_wait(ep, out, 8, 0) == 0,
	      "DEL");
	errno = 0;
	CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL) < 0 && errno == ENOENT,
	      "DEL twice: ENOENT");

	/* a timerfd wakes epoll_wait */
	int t = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	struct itimerspec its = {{0, 0}, {0, 30000000}};
	timerfd_settime(t, 0, &its, NULL);
	ev.events = EPOLLIN;
	ev.data.u64 = 222;
	epoll_ctl(ep, EPOLL_CTL_ADD, t, &ev);
	double t0 = now();
	CHECK(epoll_wait(ep, out, 8, 2000) == 1 && out[0].data.u64 == 222 &&
		      now() - t0 < 1.0,
	      "a timerfd ends the wait after 30 ms (%.3f s)", now() - t0);
	close(t);
	CHECK(epoll_wait(ep, out, 8, 0) == 0, "a closed descriptor is gone");

	/* TCP: a listener and a connection */
	struct sockaddr_in a;
	int l = listener(&a);
	ev.events = EPOLLIN;
	ev.data.u64 = 333;
	epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	connect(c, (struct sockaddr *)&a, sizeof(a));
	CHECK(epoll_wait(ep, out, 8, 1000) == 1 && out[0].data.u64 == 333,
	      "the listener has a connection");
	int s = accept(l, NULL, NULL);
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.u64 = 444;
	epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
	CHECK(epoll_wait(ep, out, 8, 0) == 0, "the connection: nothing yet");
	write(c, "hi", 2);
	CHECK(epoll_wait(ep, out, 8, 1000) == 1 && out[0].data.u64 == 444,
	      "the connection is readable");
	read(s, buf, sizeof(buf));
	close(c);
	CHECK(epoll_wait(ep, out, 8, 1000) == 1 &&
		      (out[0].events & (EPOLLIN | EPOLLRDHUP)) ==
			      (EPOLLIN | EPOLLRDHUP),
	      "the peer's close: EPOLLIN | EPOLLRDHUP");
	close(s);
	close(l);
	close(ep);
}

/* An interest belongs to the open file: a dup keeps it after the
 * descriptor it was added under is closed (reporting that one's data),
 * and closing the last descriptor ends it. */
static void interests_follow_the_file(void)
{
	int ep = epoll_create1(0), e = eventfd(0, 0);
	struct epoll_event ev = {EPOLLIN, {.u64 = 5}}, out[4];
	epoll_ctl(ep, EPOLL_CTL_ADD, e, &ev);
	int d = dup(e);
	close(e);
	uint64_t one = 1;
	CHECK(write(d, &one, 8) == 8 && epoll_wait(ep, out, 4, 0) == 1 &&
		      out[0].data.u64 == 5,
	      "the file's other descriptor still reports");
	errno = 0;
	CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, d, NULL) < 0 && errno == ENOENT,
	      "it is not the dup's own interest: DEL says ENOENT");
	close(d);
	CHECK(epoll_wait(ep, out, 4, 0) == 0, "closed for good: gone");
	close(ep);
}

/* A set in a set: the outer one hears of what happens in the inner one,
 * also when the inner one was asked in between and had nothing; a loop
 * of sets is refused. */
static void sets_in_sets(void)
{
	int inner = epoll_create1(0), outer = epoll_create1(0), p[2];
	struct epoll_event ev = {EPOLLIN, {.u64 = 1}}, out[4];
	char c;
	CHECK(pipe(p) == 0 && epoll_ctl(inner, EPOLL_CTL_ADD, p[0], &ev) == 0 &&
		      epoll_ctl(outer, EPOLL_CTL_ADD, inner, &ev) == 0,
	      "a pipe in a set in a set");
	CHECK(epoll_wait(outer, out, 4, 0) == 0, "nothing yet");
	write(p[1], "a", 1);
	CHECK(epoll_wait(outer, out, 4, 0) == 1, "the pipe's data shows");
	read(p[0], &c, 1);
	CHECK(epoll_wait(outer, out, 4, 0) == 0, "read: nothing again");
	write(p[1], "b", 1);
	CHECK(epoll_wait(outer, out, 4, 0) == 1, "new data shows again");
	errno = 0;
	CHECK(epoll_ctl(inner, EPOLL_CTL_ADD, outer, &ev) < 0 && errno == ELOOP,
	      "the outer set into the inner one: ELOOP");
	/* a chain built from the top down stops where Linux's does: four
	 * sets in sets (waking and asking go along it, on the stack) */
	int e[6], added = 0, refused = -1;
	for (int i = 0; i < 6; i++)
		e[i] = epoll_create1(0);
	for (int i = 4; i >= 0; i--) {
		if (epoll_ctl(e[i + 1], EPOLL_CTL_ADD, e[i], &ev) == 0)
			added++;
		else if (errno == ELOOP && refused < 0)
			refused = i;
	}
	CHECK(added == 4 && refused == 0,
	      "a chain of sets is at most four deep (%d added)", added);
	for (int i = 0; i < 6; i++)
		close(e[i]);
	read(p[0], &c, 1);
	int t = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	struct itimerspec its = {{0, 0}, {0, 30000000}};
	timerfd_settime(t, 0, &its, NULL);
	epoll_ctl(inner, EPOLL_CTL_ADD, t, &ev);
	double t0 = now();
	CHECK(epoll_wait(outer, out, 4, 2000) == 1 && now() - t0 < 1.0,
	      "a timerfd in the inner set ends the outer one's wait (%.3f s)",
	      now() - t0);
	close(t);
	close(p[0]);
	close(p[1]);
	close(outer);
	close(inner);
}

/* Another process makes an interest ready while this one waits. */
static void woken_by_another_process(void)
{
	int ep = epoll_create1(0), p[2];
	struct epoll_event ev = {EPOLLIN | EPOLLET, {.u64 = 3}}, out[4];
	pipe(p);
	epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
	pid_t pid = fork();
	if (pid == 0) {
		struct timespec t = {0, 50000000};
		nanosleep(&t, NULL);
		write(p[1], "x", 1);
		_exit(0);
	}
	double t0 = now();
	int n = epoll_wait(ep, out, 4, 5000);
	CHECK(n == 1 && out[0].data.u64 == 3 && now() - t0 < 2.0,
	      "a child's write ends the wait (%d, %.3f s)", n, now() - t0);
	waitpid(pid, NULL, 0);
	close(p[0]);
	close(p[1]);
	close(ep);
}

/* An edge-triggered timerfd (which cannot wake a set: every wait asks
 * it) reports its expiry once. */
static void edge_triggered_timerfd(void)
{
	int ep = epoll_create1(0);
	int t = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	struct itimerspec its = {{0, 0}, {0, 1000000}};
	struct epoll_event ev = {EPOLLIN | EPOLLET, {.u64 = 4}}, out[4];
	timerfd_settime(t, 0, &its, NULL);
	epoll_ctl(ep, EPOLL_CTL_ADD, t, &ev);
	CHECK(epoll_wait(ep, out, 4, 1000) == 1 &&
		      epoll_wait(ep, out, 4, 20) == 0,
	      "an edge-triggered timerfd: once");
	close(t);
	close(ep);
}

int main(void)
{
	eventfds();
	timerfds();
	epolls();
	a_new_file_under_an_old_number();
	changes_among_many();
	many_interests();
	interests_follow_the_file();
	sets_in_sets();
	woken_by_another_process();
	edge_triggered_timerfd();
	return guest_done("epoll");
}
