/* unix.c: AF_UNIX sockets: socketpair (stream and datagram), names in the
 * file system and in the abstract namespace, listen/connect/accept, data
 * between processes, shutdown and EOF, EPIPE, poll and epoll, and the
 * socket options programs ask of them. */
#define _GNU_SOURCE
#include "guest.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#define PATH "/tmp/fresco-unix.sock"

static socklen_t addr_of(struct sockaddr_un *a, const char *path, int len)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	memcpy(a->sun_path, path, (size_t)len);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
}

static void check_stream_pair(void)
{
	int sv[2];
	char buf[64] = {0};
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
	CHECK(write(sv[0], "ping", 4) == 4 && read(sv[1], buf, 64) == 4 &&
		      memcmp(buf, "ping", 4) == 0,
	      "bytes one way");
	CHECK(send(sv[1], "pong!", 5, 0) == 5 &&
		      recv(sv[0], buf, 64, MSG_PEEK) == 5 &&
		      recv(sv[0], buf, 64, 0) == 5 && !memcmp(buf, "pong!", 5),
	      "and back, with MSG_PEEK first");
	struct pollfd p = {sv[0], POLLIN | POLLOUT, 0};
	CHECK(poll(&p, 1, 0) == 1 && p.revents == POLLOUT,
	      "poll: writable, nothing to read (%#x)", p.revents);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	CHECK(read(sv[0], buf, 64) == -1 && errno == EAGAIN,
	      "non-blocking read of nothing: EAGAIN");
	CHECK(shutdown(sv[1], SHUT_WR) == 0 && read(sv[0], buf, 64) == 0,
	      "shutdown(SHUT_WR) is EOF for the other end");
	CHECK(write(sv[0], "x", 1) == 1 && read(sv[1], buf, 64) == 1,
	      "the other direction still works");
	close(sv[1]);
	p.events = POLLIN;
	CHECK(poll(&p, 1, 0) == 1 && (p.revents & POLLHUP),
	      "the peer closed: POLLHUP (%#x)", p.revents);
	CHECK(write(sv[0], "x", 1) == -1 && errno == EPIPE,
	      "writing to a closed peer: EPIPE");
	close(sv[0]);

	/* a big transfer between two processes, both blocking */
	enum { LEN = 1 << 20 };
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	pid_t pid = fork();
	if (pid == 0) {
		char *out = malloc(LEN);
		for (int k = 0; k < LEN; k++)
			out[k] = (char)(k * 13 + (k >> 12));
		close(sv[0]);
		_exit(write(sv[1], out, LEN) == LEN ? 0 : 1);
	}
	close(sv[1]);
	char *in = malloc(LEN);
	size_t got = guest_read_full(sv[0], in, LEN);
	int same = got == LEN;
	for (int k = 0; same && k < LEN; k++)
		same = in[k] == (char)(k * 13 + (k >> 12));
	int st;
	CHECK(same && read(sv[0], buf, 1) == 0,
	      "1 MiB from a child process, intact, then EOF (%zu)", got);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
		      WEXITSTATUS(st) == 0,
	      "the child's one write wrote it all");
	free(in);
	close(sv[0]);
}

static void check_dgram_pair(void)
{
	int sv[2];
	char buf[64];
	CHECK(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) == 0,
	      "a datagram socketpair");
	send(sv[0], "one", 3, 0);
	send(sv[0], "two!", 4, 0);
	CHECK(recv(sv[1], buf, sizeof(buf), 0) == 3 &&
		      recv(sv[1], buf, sizeof(buf), 0) == 4,
	      "message boundaries are kept");
	send(sv[0], "truncated", 9, 0);
	CHECK(recv(sv[1], buf, 4, MSG_TRUNC) == 9,
	      "MSG_TRUNC gives the whole length");
	CHECK(recv(sv[1], buf, 4, MSG_DONTWAIT) == -1 && errno == EAGAIN,
	      "MSG_DONTWAIT on an empty queue: EAGAIN");
	close(sv[0]);
	close(sv[1]);
}

static void check_named_stream(void)
{
	struct sockaddr_un a, got;
	socklen_t alen = addr_of(&a, PATH, sizeof(PATH)), glen;
	unlink(PATH);
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(bind(l, (struct sockaddr *)&a, alen) == 0, "bind to a path");
	struct stat sb;
	CHECK(stat(PATH, &sb) == 0 && S_ISSOCK(sb.st_mode),
	      "the path is a socket in the file system");
	int l2 = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(bind(l2, (struct sockaddr *)&a, alen) == -1 &&
		      errno == EADDRINUSE,
	      "binding the same path again: EADDRINUSE");
	close(l2);
	CHECK(listen(l, 4) == 0, "listen");
	glen = sizeof(got);
	CHECK(getsockname(l, (struct sockaddr *)&got, &glen) == 0 &&
		      glen == alen && strcmp(got.sun_path, PATH) == 0,
	      "getsockname gives the path (%u)", glen);

	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(connect(c, (struct sockaddr *)&a, alen) == 0,
	      "connect to the listener");
	glen = sizeof(got);
	int s = accept(l, (struct sockaddr *)&got, &glen);
	CHECK(s >= 0 && glen == sizeof(sa_family_t),
	      "accept; the client has no name (%u)", glen);
	glen = sizeof(got);
	CHECK(getpeername(c, (struct sockaddr *)&got, &glen) == 0 &&
		      strcmp(got.sun_path, PATH) == 0,
	      "the client's peer is the path");
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	CHECK(getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0 &&
		      cred.pid == getpid(),
	      "SO_PEERCRED names the peer's process (%d)", cred.pid);
	int v;
	socklen_t vlen = sizeof(v);
	CHECK(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &vlen) == 0 &&
		      v == SOCK_STREAM,
	      "SO_TYPE");
	vlen = sizeof(v);
	CHECK(getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &v, &vlen) == 0 &&
		      v == 1,
	      "SO_ACCEPTCONN on the listener");

	int ep = epoll_create1(0);
	struct epoll_event ev = {EPOLLIN | EPOLLET, {.fd = s}}, out;
	epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
	CHECK(epoll_wait(ep, &out, 1, 0) == 0, "epoll: nothing yet");
	write(c, "hello", 5);
	CHECK(epoll_wait(ep, &out, 1, 1000) == 1 && out.data.fd == s &&
		      (out.events & EPOLLIN),
	      "epoll: EPOLLIN when data comes");
	CHECK(epoll_wait(ep, &out, 1, 0) == 0, "edge-triggered: once");
	char buf[16];
	CHECK(read(s, buf, sizeof(buf)) == 5, "read it");
	close(ep);
	close(s);
	close(c);

	fcntl(l, F_SETFL, O_NONBLOCK);
	CHECK(accept(l, NULL, NULL) == -1 && errno == EAGAIN,
	      "non-blocking accept with nothing queued: EAGAIN");
	close(l);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(connect(c, (struct sockaddr *)&a, alen) == -1 &&
		      errno == ECONNREFUSED,
	      "a path whose socket is closed: ECONNREFUSED");
	struct sockaddr_un none;
	socklen_t nlen = addr_of(&none, "/tmp/no-such.sock", 18);
	CHECK(connect(c, (struct sockaddr *)&none, nlen) == -1 &&
		      errno == ENOENT,
	      "a path that does not exist: ENOENT");
	close(c);
	CHECK(unlink(PATH) == 0, "the socket's path unlinks like a file");
}

static void check_abstract_and_dgram(void)
{
	struct sockaddr_un a, from;
	const char name[] = "\0fresco-abstract";
	socklen_t alen = addr_of(&a, name, sizeof(name) - 1), flen;
	int srv = socket(AF_UNIX, SOCK_DGRAM, 0);
	CHECK(bind(srv, (struct sockaddr *)&a, alen) == 0,
	      "bind an abstract name");
	int cl = socket(AF_UNIX, SOCK_DGRAM, 0);
	CHECK(sendto(cl, "dgram", 5, 0, (struct sockaddr *)&a, alen) == 5,
	      "sendto the abstract name");
	char buf[16];
	flen = sizeof(from);
	CHECK(recvfrom(srv, buf, sizeof(buf), 0, (struct sockaddr *)&from,
		       &flen) == 5 &&
		      flen == 0,
	      "recvfrom: an unnamed sender has no address (%u)", flen);
	struct sockaddr_un auto_a;
	socklen_t auto_len = sizeof(sa_family_t);
	memset(&auto_a, 0, sizeof(auto_a));
	auto_a.sun_family = AF_UNIX;
	CHECK(bind(cl, (struct sockaddr *)&auto_a, auto_len) == 0,
	      "bind with no name: autobind");
	flen = sizeof(from);
	CHECK(getsockname(cl, (struct sockaddr *)&from, &flen) == 0 &&
		      flen == offsetof(struct sockaddr_un, sun_path) + 6 &&
		      from.sun_path[0] == '\0',
	      "an abstract name of its own (%u)", flen);
	CHECK(connect(cl, (struct sockaddr *)&a, alen) == 0 &&
		      send(cl, "again", 5, 0) == 5,
	      "connect, then send");
	flen = sizeof(from);
	CHECK(recvfrom(srv, buf, sizeof(buf), 0, (struct sockaddr *)&from,
		       &flen) == 5 &&
		      flen == offsetof(struct sockaddr_un, sun_path) + 6,
	      "now the sender has a name");
	close(srv);
	CHECK(send(cl, "lost", 4, 0) == -1 && errno == ECONNREFUSED,
	      "its peer closed: ECONNREFUSED");
	close(cl);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(connect(s, (struct sockaddr *)&a, alen) == -1 &&
		      errno == ECONNREFUSED,
	      "nobody has that name any more: ECONNREFUSED");
	close(s);
}

/* Send (fd) with (data) over (s): sendmsg's result. */
static ssize_t send_fd(int s, int fd, const char *data, size_t len)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {(void *)data, len};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	m.msg_control = u.buf;
	m.msg_controllen = sizeof(u.buf);
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(s, &m, 0);
}

/* Receive into (buf, cap) with room for (room) descriptors: the bytes,
 * the descriptor received in (*fd) (-1: none), MSG_CTRUNC in (*flags). */
static ssize_t recv_fd(int s, char *buf, size_t cap, int room, int *fd,
		       int *flags)
{
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {buf, cap};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	m.msg_control = room ? u.buf : NULL;
	m.msg_controllen = room ? CMSG_SPACE((size_t)room * sizeof(int)) : 0;
	ssize_t n = recvmsg(s, &m, 0);
	*fd = -1;
	*flags = m.msg_flags;
	struct cmsghdr *c = room ? CMSG_FIRSTHDR(&m) : NULL;
	if (n >= 0 && c && c->cmsg_level == SOL_SOCKET &&
	    c->cmsg_type == SCM_RIGHTS)
		memcpy(fd, CMSG_DATA(c), sizeof(int));
	return n;
}

static void check_passing_descriptors(void)
{
	int sv[2], p[2], fd, fl, st;
	char buf[16] = {0};
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	pipe(p);
	CHECK(send_fd(sv[0], p[1], "w", 1) == 1,
	      "sendmsg with SCM_RIGHTS: a pipe's write end");
	close(p[1]);
	pid_t pid = fork();
	if (pid == 0) {
		ssize_t n = recv_fd(sv[1], buf, sizeof(buf), 1, &fd, &fl);
		_exit(n == 1 && fd >= 0 && write(fd, "via fd", 6) == 6 ? 0 : 1);
	}
	CHECK(read(p[0], buf, sizeof(buf)) == 6 && !memcmp(buf, "via fd", 6),
	      "another process got the descriptor and wrote through it");
	CHECK(waitpid(pid, &st, 0) == pid && WEXITSTATUS(st) == 0,
	      "the receiving child saw one byte and one descriptor");
	CHECK(read(p[0], buf, sizeof(buf)) == 0,
	      "every copy of the write end is closed: EOF");
	close(p[0]);

	/* one read takes the descriptors of one send at most */
	pipe(p);
	int fd2;
	send(sv[0], "ab", 2, 0);
	send_fd(sv[0], p[1], "cd", 2);
	send_fd(sv[0], p[0], "ef", 2);
	CHECK(recv_fd(sv[1], buf, sizeof(buf), 1, &fd, &fl) == 4 &&
		      !memcmp(buf, "abcd", 4) && fd >= 0,
	      "data, then data with a descriptor: one read, one descriptor");
	CHECK(recv_fd(sv[1], buf, sizeof(buf), 1, &fd2, &fl) == 2 &&
		      !memcmp(buf, "ef", 2) && fd2 >= 0 && fd2 != fd,
	      "the next send's descriptor comes with the next read");
	CHECK(write(fd, "!", 1) == 1 && read(fd2, buf, 1) == 1 && buf[0] == '!',
	      "the two are the pipe's ends");
	close(fd);
	close(fd2);
	close(p[0]);
	close(p[1]);
	pipe(p);

	/* read() without room for them closes them */
	send_fd(sv[0], p[1], "x", 1);
	close(p[1]);
	CHECK(read(sv[1], buf, sizeof(buf)) == 1 &&
		      read(p[0], buf, sizeof(buf)) == 0,
	      "descriptors nobody takes are closed");
	close(p[0]);

	pipe(p);
	send_fd(sv[0], p[1], "y", 1);
	CHECK(recv_fd(sv[1], buf, sizeof(buf), 0, &fd, &fl) == 1 && fd == -1 &&
		      (fl & MSG_CTRUNC),
	      "no room for the descriptor: MSG_CTRUNC");
	close(p[1]);
	CHECK(read(p[0], buf, 1) == 0, "and it is closed");
	close(p[0]);
	CHECK(send_fd(sv[0], 999, "z", 1) == -1 && errno == EBADF,
	      "passing a descriptor that is not open: EBADF");
	close(sv[0]);
	close(sv[1]);

	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	fd = open("/tmp", O_RDONLY | O_DIRECTORY);
	send_fd(sv[0], fd, "dir", 3);
	close(fd);
	struct stat sb;
	CHECK(recv_fd(sv[1], buf, sizeof(buf), 1, &fd, &fl) == 3 && fd >= 0 &&
		      fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode),
	      "a datagram carries a directory's descriptor");
	close(fd);
	close(sv[0]);
	close(sv[1]);
}

/* A stream listener with an abstract name takes connection after
 * connection while the earlier ones stay open. */
static void check_abstract_listener(void)
{
	struct sockaddr_un a;
	const char name[] = "\0fresco-listener";
	socklen_t alen = addr_of(&a, name, sizeof(name) - 1);
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	bind(l, (struct sockaddr *)&a, alen);
	listen(l, 4);
	int ok = 0, fds[6];
	for (int k = 0; k < 3; k++) {
		int c = socket(AF_UNIX, SOCK_STREAM, 0);
		int r = connect(c, (struct sockaddr *)&a, alen);
		int s = accept(l, NULL, NULL);
		char b = 0;
		ok += r == 0 && s >= 0 && write(c, "k", 1) == 1 &&
		      read(s, &b, 1) == 1 && b == 'k';
		fds[2 * k] = c; /* all stay open */
		fds[2 * k + 1] = s;
	}
	CHECK(ok == 3, "three connections open at once (%d)", ok);
	for (int k = 0; k < 6; k++)
		close(fds[k]);
	close(l);
}

static void check_errors(void)
{
	int sv[2];
	CHECK(socketpair(AF_INET, SOCK_STREAM, 0, sv) == -1 &&
		      errno == EOPNOTSUPP,
	      "socketpair of AF_INET: EOPNOTSUPP");
	CHECK(socket(AF_UNIX, SOCK_STREAM, 5) == -1 && errno == EPROTONOSUPPORT,
	      "an unknown protocol: EPROTONOSUPPORT");
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	char buf[4];
	CHECK(read(s, buf, 4) == -1 && errno == EINVAL,
	      "reading an unconnected stream socket: EINVAL");
	CHECK(write(s, "x", 1) == -1 && errno == ENOTCONN,
	      "writing to it: ENOTCONN");
	struct sockaddr_in in;
	memset(&in, 0, sizeof(in));
	in.sin_family = AF_INET;
	CHECK(bind(s, (struct sockaddr *)&in, sizeof(in)) == -1 &&
		      errno == EINVAL,
	      "an AF_INET address: EINVAL");
	close(s);
}

/* FIONREAD (a stream's bytes, a datagram's length), FIONBIO. */
static void check_ioctls(void)
{
	int sv[2], dv[2], n = -1, on = 1;
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	socketpair(AF_UNIX, SOCK_DGRAM, 0, dv);
	write(sv[0], "abcde", 5);
	write(sv[0], "fg", 2);
	CHECK(ioctl(sv[1], FIONREAD, &n) == 0 && n == 7,
	      "FIONREAD on a stream: all its bytes (%d)", n);
	write(dv[0], "abc", 3);
	write(dv[0], "defgh", 5);
	CHECK(ioctl(dv[1], FIONREAD, &n) == 0 && n == 3,
	      "FIONREAD on datagrams: the first one's length (%d)", n);
	char b[8];
	errno = 0;
	CHECK(ioctl(sv[0], FIONBIO, &on) == 0 && read(sv[0], b, 8) < 0 &&
		      errno == EAGAIN,
	      "FIONBIO: a read that would wait says EAGAIN");
	close(sv[0]);
	close(sv[1]);
	close(dv[0]);
	close(dv[1]);
}

/* /proc/net/unix lists a listening socket with its path, a listener's
 * flag and the stream type, as netstat -x reads it. */
static void check_proc_net_unix(void)
{
	const char *path = "/tmp/fresco-proc-unix.sock";
	struct sockaddr_un a;
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	unlink(path);
	bind(l, (struct sockaddr *)&a,
	     addr_of(&a, path, (int)strlen(path) + 1));
	listen(l, 4);
	FILE *f = fopen("/proc/net/unix", "r");
	char line[512];
	int found = 0;
	while (f && fgets(line, sizeof(line), f)) {
		unsigned flags, type, st;
		char name[256];
		if (sscanf(line, "%*s %*x %*x %x %x %x %*u %255s", &flags,
			   &type, &st, name) == 4 &&
		    !strcmp(name, path))
			found = flags == 0x10000 && type == 1 && st == 1;
	}
	CHECK(found, "/proc/net/unix lists the listener at its path");
	if (f)
		fclose(f);
	close(l);
	unlink(path);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	check_proc_net_unix();
	check_stream_pair();
	check_dgram_pair();
	check_named_stream();
	check_abstract_and_dgram();
	check_abstract_listener();
	check_passing_descriptors();
	check_errors();
	check_ioctls();
	return guest_done("unix");
}
