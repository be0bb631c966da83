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

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	check_stream_pair();
	check_dgram_pair();
	check_named_stream();
	check_abstract_and_dgram();
	check_errors();
	return guest_done("unix");
}
