/* udp.c: UDP sockets: loopback, errors, timeouts, poll, the msg calls,
 * and an echo server on the host (argv: its address and port, and
 * "wide" if the link takes 16000-byte datagrams whole).
 */
#define _GNU_SOURCE
#define GUEST_INET
#include "guest.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <poll.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void loopback(void)
{
	int a = socket(AF_INET, SOCK_DGRAM, 0);
	int b = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
	struct stat st;
	CHECK(a >= 0 && b >= 0, "two UDP sockets");
	CHECK(fstat(a, &st) == 0 && S_ISSOCK(st.st_mode), "fstat: a socket");
	struct sockaddr_in la = guest_addr("127.0.0.1", 0), got;
	socklen_t len = sizeof(got);
	CHECK(bind(a, (struct sockaddr *)&la, sizeof(la)) == 0, "bind :0");
	CHECK(getsockname(a, (struct sockaddr *)&got, &len) == 0 &&
		      len == sizeof(got) && got.sin_port != 0 &&
		      got.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
	      "getsockname gives the port chosen");
	int port = ntohs(got.sin_port);

	struct sockaddr_in same = guest_addr("127.0.0.1", port);
	errno = 0;
	CHECK(bind(b, (struct sockaddr *)&same, sizeof(same)) < 0 &&
		      errno == EADDRINUSE,
	      "binding a taken port: EADDRINUSE");

	char buf[64];
	errno = 0;
	CHECK(recv(a, buf, sizeof(buf), MSG_DONTWAIT) < 0 && errno == EAGAIN,
	      "nothing queued: EAGAIN");
	struct pollfd p = {a, POLLIN, 0};
	CHECK(poll(&p, 1, 0) == 0, "poll: not readable yet");
	CHECK(sendto(b, "hello", 5, 0, (struct sockaddr *)&same,
		     sizeof(same)) == 5,
	      "sendto over loopback");
	CHECK(poll(&p, 1, 1000) == 1 && (p.revents & POLLIN), "poll: readable");
	int n = 0;
	CHECK(ioctl(a, FIONREAD, &n) == 0 && n == 5, "FIONREAD: 5");
	struct sockaddr_in from;
	len = sizeof(from);
	memset(buf, 0, sizeof(buf));
	CHECK(recvfrom(a, buf, sizeof(buf), 0, (struct sockaddr *)&from,
		       &len) == 5 &&
		      !memcmp(buf, "hello", 5),
	      "recvfrom gets it");
	struct sockaddr_in bname;
	socklen_t blen = sizeof(bname);
	getsockname(b, (struct sockaddr *)&bname, &blen);
	CHECK(from.sin_port == bname.sin_port &&
		      from.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
	      "from: the sender's address");

	/* connected: read and write, peer name */
	CHECK(connect(b, (struct sockaddr *)&same, sizeof(same)) == 0,
	      "connect");
	CHECK(write(b, "abc", 3) == 3, "write on a connected socket");
	CHECK(read(a, buf, sizeof(buf)) == 3 && !memcmp(buf, "abc", 3),
	      "read it");
	len = sizeof(got);
	CHECK(getpeername(b, (struct sockaddr *)&got, &len) == 0 &&
		      got.sin_port == htons((uint16_t)port),
	      "getpeername");

	/* truncation, peeking, the msg calls */
	CHECK(send(b, "0123456789", 10, 0) == 10, "send 10 bytes");
	CHECK(recv(a, buf, 4, MSG_PEEK) == 4 && !memcmp(buf, "0123", 4),
	      "MSG_PEEK");
	CHECK(recv(a, buf, 4, MSG_TRUNC) == 10, "MSG_TRUNC gives the length");
	char p1[3], p2[8];
	struct iovec iov[2] = {{(void *)"xy", 2}, {(void *)"zw", 2}};
	struct msghdr m = {0};
	m.msg_iov = iov;
	m.msg_iovlen = 2;
	CHECK(sendmsg(b, &m, 0) == 4, "sendmsg gathers two pieces");
	struct iovec rio[2] = {{p1, sizeof(p1)}, {p2, sizeof(p2)}};
	struct sockaddr_in mfrom;
	memset(&m, 0, sizeof(m));
	m.msg_name = &mfrom;
	m.msg_namelen = sizeof(mfrom);
	m.msg_iov = rio;
	m.msg_iovlen = 2;
	CHECK(recvmsg(a, &m, 0) == 4 && !memcmp(p1, "xyz", 3) && p2[0] == 'w' &&
		      m.msg_namelen == sizeof(mfrom),
	      "recvmsg scatters them");
	/* lengths whose sum wraps around, and too many pieces */
	struct iovec wrap[2] = {{(void *)"x", SIZE_MAX}, {(void *)"y", 2}};
	memset(&m, 0, sizeof(m));
	m.msg_iov = wrap;
	m.msg_iovlen = 2;
	errno = 0;
	CHECK(sendmsg(b, &m, 0) < 0 && errno == EINVAL,
	      "sendmsg: lengths past SSIZE_MAX: EINVAL");
	m.msg_iov = iov;
	m.msg_iovlen = 1025;
	errno = 0;
	CHECK(sendmsg(b, &m, 0) < 0 && errno == EMSGSIZE,
	      "sendmsg: more than 1024 pieces: EMSGSIZE");

	/* a timeout */
	struct timeval tv = {0, 100000};
	CHECK(setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0,
	      "SO_RCVTIMEO 100 ms");
	double t0 = now();
	errno = 0;
	CHECK(recv(a, buf, sizeof(buf), 0) < 0 && errno == EAGAIN &&
		      now() - t0 >= 0.09,
	      "recv times out after 100 ms");
	int fl = fcntl(a, F_GETFL);
	CHECK(fcntl(a, F_SETFL, fl | O_NONBLOCK) == 0, "O_NONBLOCK");
	errno = 0;
	CHECK(recv(a, buf, sizeof(buf), 0) < 0 && errno == EAGAIN,
	      "non-blocking: EAGAIN");
	int type = 0;
	len = sizeof(type);
	CHECK(getsockopt(a, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
		      type == SOCK_DGRAM,
	      "SO_TYPE");
	close(a);
	close(b);
}

/* sendmmsg and recvmmsg: several datagrams a call, each with its
 * length; MSG_WAITFORONE takes what is there after the first. */
static void many_at_once(void)
{
	int a = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in self = guest_addr("127.0.0.1", 0);
	socklen_t len = sizeof(self);
	bind(a, (struct sockaddr *)&self, sizeof(self));
	getsockname(a, (struct sockaddr *)&self, &len);
	connect(a, (struct sockaddr *)&self, sizeof(self));
	struct iovec out[3] = {{(void *)"one", 3},
			       {(void *)"three", 5},
			       {(void *)"sixteen", 7}};
	struct mmsghdr m[4];
	memset(m, 0, sizeof(m));
	for (int i = 0; i < 3; i++) {
		m[i].msg_hdr.msg_iov = &out[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	CHECK(sendmmsg(a, m, 3, 0) == 3 && m[0].msg_len == 3 &&
		      m[1].msg_len == 5 && m[2].msg_len == 7,
	      "sendmmsg: three datagrams, each length told");
	char b[4][16];
	struct iovec in[4];
	memset(m, 0, sizeof(m));
	for (int i = 0; i < 4; i++) {
		in[i] = (struct iovec){b[i], sizeof(b[i])};
		m[i].msg_hdr.msg_iov = &in[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	int n = recvmmsg(a, m, 4, MSG_WAITFORONE, NULL);
	CHECK(n == 3 && m[0].msg_len == 3 && m[2].msg_len == 7 &&
		      !memcmp(b[1], "three", 5),
	      "recvmmsg: the three, in order (%d)", n);
	errno = 0;
	CHECK(recvmmsg(a, m, 4, MSG_DONTWAIT, NULL) < 0 && errno == EAGAIN,
	      "recvmmsg with nothing there: EAGAIN");
	close(a);
}

/* MSG_MORE and UDP_CORK put one datagram together from several sends,
 * which goes where the first was bound. */
static void corking(void)
{
	struct sockaddr_in a = guest_addr("127.0.0.1", 0), b = a;
	socklen_t len = sizeof(a);
	int ra = socket(AF_INET, SOCK_DGRAM, 0),
	    rb = socket(AF_INET, SOCK_DGRAM, 0);
	int s = socket(AF_INET, SOCK_DGRAM, 0), on = 1, off = 0;
	bind(ra, (struct sockaddr *)&a, sizeof(a));
	getsockname(ra, (struct sockaddr *)&a, &len);
	bind(rb, (struct sockaddr *)&b, sizeof(b));
	getsockname(rb, (struct sockaddr *)&b, &len);
	char buf[64] = {0};
	struct pollfd p = {ra, POLLIN, 0};
	CHECK(sendto(s, "ab", 2, MSG_MORE, (struct sockaddr *)&a, sizeof(a)) ==
			      2 &&
		      poll(&p, 1, 50) == 0,
	      "MSG_MORE: nothing goes yet");
	CHECK(sendto(s, "cd", 2, 0, (struct sockaddr *)&b, sizeof(b)) == 2 &&
		      poll(&p, 1, 1000) == 1 &&
		      recv(ra, buf, sizeof(buf), 0) == 4 &&
		      !memcmp(buf, "abcd", 4) &&
		      recv(rb, buf, sizeof(buf), MSG_DONTWAIT) < 0,
	      "the next send completes one datagram, to the first's address");
	CHECK(setsockopt(s, IPPROTO_UDP, UDP_CORK, &on, sizeof(on)) == 0,
	      "UDP_CORK on");
	sendto(s, "x", 1, 0, (struct sockaddr *)&a, sizeof(a));
	CHECK(send(s, "y", 1, 0) == 1 && send(s, "z", 1, 0) == 1 &&
		      poll(&p, 1, 50) == 0,
	      "corked: sends wait, even without an address");
	int v = 0;
	len = sizeof(v);
	CHECK(getsockopt(s, IPPROTO_UDP, UDP_CORK, &v, &len) == 0 && v == 1,
	      "UDP_CORK reads back");
	CHECK(setsockopt(s, IPPROTO_UDP, UDP_CORK, &off, sizeof(off)) == 0 &&
		      poll(&p, 1, 1000) == 1 &&
		      recv(ra, buf, sizeof(buf), 0) == 3 &&
		      !memcmp(buf, "xyz", 3),
	      "the cork off: one datagram of the three");
	close(s);
	close(ra);
	close(rb);
}

/* UDP_SEGMENT cuts a send into datagrams of its size (by option or by
 * control message); UDP_GRO and SO_NO_CHECK read back and datagrams
 * still arrive; IP_RECVORIGDSTADDR tells where one was sent. */
static void segments(void)
{
	struct sockaddr_in a = guest_addr("127.0.0.1", 0);
	socklen_t len = sizeof(a);
	int r = socket(AF_INET, SOCK_DGRAM, 0),
	    s = socket(AF_INET, SOCK_DGRAM, 0);
	static char big[13000], in[1000];
	bind(r, (struct sockaddr *)&a, sizeof(a));
	getsockname(r, (struct sockaddr *)&a, &len);
	connect(s, (struct sockaddr *)&a, sizeof(a));
	CHECK(sockopt_set_get(s, IPPROTO_UDP, UDP_SEGMENT, 100) == 100,
	      "UDP_SEGMENT 100");
	CHECK(send(s, big, 250, 0) == 250 &&
		      recv(r, in, sizeof(in), 0) == 100 &&
		      recv(r, in, sizeof(in), 0) == 100 &&
		      recv(r, in, sizeof(in), 0) == 50 &&
		      recv(r, in, sizeof(in), MSG_DONTWAIT) < 0,
	      "250 bytes go as 100, 100 and 50");
	errno = 0;
	CHECK(send(s, big, 12900, 0) < 0 && errno == EINVAL,
	      "more than 128 segments: EINVAL");
	CHECK(sockopt_set_get(s, IPPROTO_UDP, UDP_SEGMENT, 0) == 0,
	      "UDP_SEGMENT off");
	union {
		struct cmsghdr h;
		char room[CMSG_SPACE(sizeof(uint16_t))];
	} ctl = {0};
	struct iovec io = {big, 120};
	struct msghdr m = {.msg_iov = &io,
			   .msg_iovlen = 1,
			   .msg_control = &ctl,
			   .msg_controllen = sizeof(ctl)};
	ctl.h.cmsg_level = IPPROTO_UDP;
	ctl.h.cmsg_type = UDP_SEGMENT;
	ctl.h.cmsg_len = CMSG_LEN(sizeof(uint16_t));
	uint16_t gso = 60;
	memcpy(CMSG_DATA(&ctl.h), &gso, sizeof(gso));
	CHECK(sendmsg(s, &m, 0) == 120 && recv(r, in, sizeof(in), 0) == 60 &&
		      recv(r, in, sizeof(in), 0) == 60,
	      "UDP_SEGMENT as a control message: 120 bytes as 60 and 60");
	CHECK(sockopt_set_get(r, IPPROTO_UDP, UDP_GRO, 1) == 1 &&
		      sockopt_set_get(s, SOL_SOCKET, SO_NO_CHECK, 1) == 1,
	      "UDP_GRO and SO_NO_CHECK");
	CHECK(sockopt_set_get(r, IPPROTO_IP, IP_RECVORIGDSTADDR, 1) == 1,
	      "IP_RECVORIGDSTADDR");
	union {
		struct cmsghdr h;
		char room[256];
	} got;
	struct iovec gio = {in, sizeof(in)};
	struct msghdr gm = {.msg_iov = &gio,
			    .msg_iovlen = 1,
			    .msg_control = &got,
			    .msg_controllen = sizeof(got)};
	struct sockaddr_in orig = {0};
	struct cmsghdr *c = NULL;
	if (send(s, "x", 1, 0) == 1 && recvmsg(r, &gm, 0) == 1)
		c = CMSG_FIRSTHDR(&gm);
	if (c && c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_ORIGDSTADDR)
		memcpy(&orig, CMSG_DATA(c), sizeof(orig));
	CHECK(orig.sin_family == AF_INET && orig.sin_port == a.sin_port &&
		      orig.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
	      "a datagram without a checksum comes, with where it went");
	close(r);
	close(s);
}

/* SO_BINDTODEVICE: a socket bound to an interface hears only what
 * comes in on it; the name and the index read back; unbinding; a name
 * nobody has is ENODEV. */
static void bound_to_device(void)
{
	struct sockaddr_in a = guest_addr("127.0.0.1", 0);
	socklen_t len = sizeof(a);
	int r = socket(AF_INET, SOCK_DGRAM, 0),
	    s = socket(AF_INET, SOCK_DGRAM, 0);
	bind(r, (struct sockaddr *)&a, sizeof(a));
	getsockname(r, (struct sockaddr *)&a, &len);
	char name[IF_NAMESIZE] = {0}, in[8];
	socklen_t nl = sizeof(name);
	int index = -1;
	CHECK(setsockopt(r, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3) == 0 &&
		      getsockopt(r, SOL_SOCKET, SO_BINDTODEVICE, name, &nl) ==
			      0 &&
		      !strcmp(name, "lo") && nl == 3 &&
		      (len = sizeof(index),
		       getsockopt(r, SOL_SOCKET, SO_BINDTOIFINDEX, &index,
				  &len) == 0) &&
		      index == (int)if_nametoindex("lo"),
	      "SO_BINDTODEVICE lo, read back as name and index");
	struct pollfd p = {r, POLLIN, 0};
	CHECK(sendto(s, "x", 1, 0, (struct sockaddr *)&a, sizeof(a)) == 1 &&
		      poll(&p, 1, 1000) == 1 && recv(r, in, sizeof(in), 0) == 1,
	      "bound to lo: what this host sends comes");
	struct if_nameindex *all = if_nameindex(), *other = NULL;
	for (struct if_nameindex *i = all; i && i->if_index; i++)
		if (strcmp(i->if_name, "lo") && !other)
			other = i;
	if (other) {
		CHECK(setsockopt(r, SOL_SOCKET, SO_BINDTODEVICE, other->if_name,
				 (socklen_t)strlen(other->if_name) + 1) == 0 &&
			      sendto(s, "x", 1, 0, (struct sockaddr *)&a,
				     sizeof(a)) == 1 &&
			      poll(&p, 1, 200) == 0,
		      "bound to %s: what comes through lo does not",
		      other->if_name);
	}
	if (all)
		if_freenameindex(all);
	nl = sizeof(name);
	CHECK(setsockopt(r, SOL_SOCKET, SO_BINDTODEVICE, "", 0) == 0 &&
		      getsockopt(r, SOL_SOCKET, SO_BINDTODEVICE, name, &nl) ==
			      0 &&
		      nl == 0,
	      "unbound: no name");
	errno = 0;
	CHECK(setsockopt(r, SOL_SOCKET, SO_BINDTODEVICE, "nosuch0", 8) < 0 &&
		      errno == ENODEV,
	      "a name nobody has: ENODEV");
	close(r);
	close(s);
}

/* Multicast over lo: a member of a group hears what is sent to it (from
 * 127.0.0.1), and after leaving does not; the options' defaults and
 * their errors. */
static void multicast(void)
{
	struct sockaddr_in any = guest_addr("0.0.0.0", 0), from;
	struct sockaddr_in g = guest_addr("239.255.7.7", 0);
	socklen_t len = sizeof(any);
	int r = socket(AF_INET, SOCK_DGRAM, 0),
	    s = socket(AF_INET, SOCK_DGRAM, 0);
	bind(r, (struct sockaddr *)&any, sizeof(any));
	getsockname(r, (struct sockaddr *)&any, &len);
	g.sin_port = any.sin_port;
	struct ip_mreq mr;
	mr.imr_multiaddr = g.sin_addr;
	mr.imr_interface.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(setsockopt(r, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)) ==
		      0,
	      "IP_ADD_MEMBERSHIP 239.255.7.7 on lo");
	errno = 0;
	CHECK(setsockopt(r, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)) <
			      0 &&
		      errno == EADDRINUSE,
	      "joined twice: EADDRINUSE");
	int ttl = 0, loop = 0;
	len = sizeof(int);
	getsockopt(s, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, &len);
	getsockopt(s, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, &len);
	CHECK(ttl == 1 && loop == 1, "IP_MULTICAST_TTL 1, _LOOP 1 at first");
	struct in_addr lo = {htonl(INADDR_LOOPBACK)};
	CHECK(setsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &lo, sizeof(lo)) == 0,
	      "IP_MULTICAST_IF lo");
	char in[16] = {0};
	struct pollfd p = {r, POLLIN, 0};
	len = sizeof(from);
	CHECK(sendto(s, "group", 5, 0, (struct sockaddr *)&g, sizeof(g)) == 5 &&
		      poll(&p, 1, 1000) == 1 &&
		      recvfrom(r, in, sizeof(in), 0, (struct sockaddr *)&from,
			       &len) == 5 &&
		      !memcmp(in, "group", 5) &&
		      from.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
	      "the member hears the group's datagram, from 127.0.0.1");
	CHECK(setsockopt(r, IPPROTO_IP, IP_DROP_MEMBERSHIP, &mr, sizeof(mr)) ==
			      0 &&
		      sendto(s, "group", 5, 0, (struct sockaddr *)&g,
			     sizeof(g)) == 5 &&
		      poll(&p, 1, 200) == 0,
	      "after IP_DROP_MEMBERSHIP: nothing");
	errno = 0;
	CHECK(setsockopt(r, IPPROTO_IP, IP_DROP_MEMBERSHIP, &mr, sizeof(mr)) <
			      0 &&
		      errno == EADDRNOTAVAIL,
	      "leaving a group not joined: EADDRNOTAVAIL");
	mr.imr_multiaddr.s_addr = htonl(0x0a010203);
	errno = 0;
	CHECK(setsockopt(r, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)) <
			      0 &&
		      errno == EINVAL,
	      "a group that is not one: EINVAL");
	CHECK(sockopt_set_get(s, IPPROTO_IP, IP_MULTICAST_TTL, 256) ==
			      -EINVAL &&
		      sockopt_set_get(s, IPPROTO_IP, IP_MULTICAST_TTL, -1) == 1,
	      "IP_MULTICAST_TTL 256: EINVAL; -1: the default");
	close(r);
	close(s);
}

/* A broadcast reaches every socket on its port, the sending host's
 * included; sending one takes SO_BROADCAST. */
static void broadcasts(void)
{
	struct sockaddr_in any = guest_addr("0.0.0.0", 0);
	socklen_t len = sizeof(any);
	int a = socket(AF_INET, SOCK_DGRAM, 0),
	    b = socket(AF_INET, SOCK_DGRAM, 0);
	int s = socket(AF_INET, SOCK_DGRAM, 0), on = 1;
	setsockopt(a, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	setsockopt(b, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	bind(a, (struct sockaddr *)&any, sizeof(any));
	getsockname(a, (struct sockaddr *)&any, &len);
	bind(b, (struct sockaddr *)&any, sizeof(any));
	struct sockaddr_in all = guest_addr("255.255.255.255", 0);
	all.sin_port = any.sin_port;
	errno = 0;
	CHECK(sendto(s, "all", 3, 0, (struct sockaddr *)&all, sizeof(all)) <
			      0 &&
		      errno == EACCES,
	      "a broadcast without SO_BROADCAST: EACCES");
	setsockopt(s, SOL_SOCKET, SO_BROADCAST, &on, sizeof(on));
	ssize_t n =
		sendto(s, "all", 3, 0, (struct sockaddr *)&all, sizeof(all));
	if (n < 0 && errno == ENETUNREACH) {
		CHECK(1, "no interface to broadcast on: ENETUNREACH");
	} else {
		char in[8];
		struct pollfd pa = {a, POLLIN, 0}, pb = {b, POLLIN, 0};
		CHECK(n == 3 && poll(&pa, 1, 1000) == 1 &&
			      recv(a, in, sizeof(in), 0) == 3 &&
			      poll(&pb, 1, 1000) == 1 &&
			      recv(b, in, sizeof(in), 0) == 3,
		      "both sockets on the port hear this host's broadcast");
	}
	close(a);
	close(b);
	close(s);
}

/* /proc/net/udp lists each bound socket, however many: more than a
 * page of lines. */
static void proc_net_udp(void)
{
	enum { N = 64 };
	int fd[N], listed = 0;
	unsigned port[N];
	for (int i = 0; i < N; i++) {
		struct sockaddr_in a = guest_addr("127.0.0.1", 0);
		socklen_t len = sizeof(a);
		fd[i] = socket(AF_INET, SOCK_DGRAM, 0);
		bind(fd[i], (struct sockaddr *)&a, sizeof(a));
		getsockname(fd[i], (struct sockaddr *)&a, &len);
		port[i] = ntohs(a.sin_port);
	}
	FILE *f = fopen("/proc/net/udp", "r");
	char line[256];
	while (f && fgets(line, sizeof(line), f)) {
		unsigned addr, p;
		if (sscanf(line, "%*d: %8X:%4X", &addr, &p) != 2 ||
		    addr != htonl(INADDR_LOOPBACK))
			continue;
		for (int i = 0; i < N; i++)
			listed += port[i] == p;
	}
	CHECK(f && listed == N,
	      "/proc/net/udp lists our %d sockets on 127.0.0.1 (%d)", N,
	      listed);
	if (f)
		fclose(f);
	for (int i = 0; i < N; i++)
		close(fd[i]);
}

/* Options at the IP level: what is set is read back, and bad values are
 * refused. */
static void ip_options(void)
{
	int a = socket(AF_INET, SOCK_DGRAM, 0), v;
	socklen_t len = sizeof(v);
	CHECK(sockopt_set_get(a, IPPROTO_IP, IP_TOS, 0x2b) == 0x2b, "IP_TOS");
	CHECK(sockopt_set_get(a, IPPROTO_IP, IP_TTL, 7) == 7, "IP_TTL");
	CHECK(sockopt_set_get(a, IPPROTO_IP, IP_TTL, -1) == 64,
	      "IP_TTL -1: back to 64");
	CHECK(sockopt_set_get(a, IPPROTO_IP, IP_TTL, 256) == -EINVAL,
	      "IP_TTL 256: EINVAL");
	CHECK(sockopt_set_get(a, IPPROTO_IP, IP_RECVERR, 1) == 1,
	      "IP_RECVERR (glibc's resolver sets it)");
	CHECK(sockopt_set_get(a, IPPROTO_IP, IP_MTU_DISCOVER,
			      IP_PMTUDISC_DONT) == IP_PMTUDISC_DONT,
	      "IP_MTU_DISCOVER");
	CHECK(sockopt_set_get(a, IPPROTO_IP, IP_MTU_DISCOVER, 99) == -EINVAL,
	      "IP_MTU_DISCOVER 99: EINVAL");
	errno = 0;
	CHECK(getsockopt(a, IPPROTO_IP, IP_MTU, &v, &len) < 0 &&
		      errno == ENOTCONN,
	      "IP_MTU unconnected: ENOTCONN");
	struct sockaddr_in to = guest_addr("127.0.0.1", 9);
	connect(a, (struct sockaddr *)&to, sizeof(to));
	CHECK(getsockopt(a, IPPROTO_IP, IP_MTU, &v, &len) == 0 && v >= 1500,
	      "IP_MTU connected: the path's (%d)", v);
	struct sockaddr_in far = guest_addr("192.0.2.1", 0);
	int b = socket(AF_INET, SOCK_DGRAM, 0);
	errno = 0;
	CHECK(bind(b, (struct sockaddr *)&far, sizeof(far)) < 0 &&
		      errno == EADDRNOTAVAIL,
	      "bind to an address not ours: EADDRNOTAVAIL");
	v = 1;
	CHECK(setsockopt(b, IPPROTO_IP, IP_FREEBIND, &v, sizeof(v)) == 0 &&
		      bind(b, (struct sockaddr *)&far, sizeof(far)) == 0,
	      "with IP_FREEBIND: allowed");
	close(a);
	close(b);
}

/* 127.0.0.1 and a UDP port nobody has: one a socket was given, then
 * closed. */
static struct sockaddr_in port_nobody_has(void)
{
	int gone = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = guest_addr("127.0.0.1", 0);
	socklen_t len = sizeof(a);
	bind(gone, (struct sockaddr *)&a, sizeof(a));
	getsockname(gone, (struct sockaddr *)&a, &len);
	close(gone);
	return a;
}

/* A datagram to a port nobody has: the host answers ICMP port
 * unreachable, and a connected socket's next call fails with
 * ECONNREFUSED, once; an unconnected one hears of it only with
 * IP_RECVERR. */
static void refused(void)
{
	struct sockaddr_in a = port_nobody_has();
	socklen_t len;
	int c = socket(AF_INET, SOCK_DGRAM, 0);
	struct timeval tv = {2, 0}; /* not for ever, if nothing is said */
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	connect(c, (struct sockaddr *)&a, sizeof(a));
	CHECK(send(c, "x", 1, 0) == 1, "a datagram to a port nobody has");
	struct pollfd p = {c, POLLIN, 0};
	CHECK(poll(&p, 1, 1000) == 1 && (p.revents & POLLERR), "poll: POLLERR");
	char b[4];
	errno = 0;
	CHECK(recv(c, b, sizeof(b), 0) < 0 && errno == ECONNREFUSED,
	      "recv: ECONNREFUSED");
	errno = 0;
	CHECK(recv(c, b, sizeof(b), MSG_DONTWAIT) < 0 && errno == EAGAIN,
	      "reported once: then EAGAIN");
	send(c, "x", 1, 0);
	poll(&p, 1, 1000);
	errno = 0;
	CHECK(send(c, "y", 1, 0) < 0 && errno == ECONNREFUSED,
	      "or the next send says it");
	send(c, "x", 1, 0);
	poll(&p, 1, 1000);
	int err = 0;
	len = sizeof(err);
	CHECK(getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
		      err == ECONNREFUSED && send(c, "z", 1, 0) == 1,
	      "or SO_ERROR, which takes it");
	close(c);

	int u = socket(AF_INET, SOCK_DGRAM, 0);
	p.fd = u;
	sendto(u, "x", 1, 0, (struct sockaddr *)&a, sizeof(a));
	CHECK(poll(&p, 1, 100) == 0, "unconnected: nothing reported");
	int on = 1;
	setsockopt(u, IPPROTO_IP, IP_RECVERR, &on, sizeof(on));
	sendto(u, "x", 1, 0, (struct sockaddr *)&a, sizeof(a));
	errno = 0;
	CHECK(poll(&p, 1, 1000) == 1 && (p.revents & POLLERR) &&
		      recvfrom(u, b, sizeof(b), 0, NULL, NULL) < 0 &&
		      errno == ECONNREFUSED,
	      "unconnected with IP_RECVERR: ECONNREFUSED");
	close(u);
}

/* Linux's struct sock_extended_err (linux/errqueue.h: not in musl's
 * headers), then the ICMP's sender (SO_EE_OFFENDER). */
struct recverr {
	uint32_t ee_errno;
	uint8_t ee_origin, ee_type, ee_code, ee_pad;
	uint32_t ee_info, ee_data;
	struct sockaddr_in offender;
};
#define EE_ORIGIN_ICMP 2

/* IP_RECVERR's queue: recvmsg(MSG_ERRQUEUE) tells what came back about
 * which datagram, never waits, and reads nothing else. */
static void error_queue(void)
{
	struct sockaddr_in a = port_nobody_has(), name;
	socklen_t len;
	int q = socket(AF_INET, SOCK_DGRAM, 0), on = 1;
	struct timeval tv = {2, 0}; /* a kernel that waits fails, not hangs */
	setsockopt(q, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(q, IPPROTO_IP, IP_RECVERR, &on, sizeof(on));
	char buf[16];
	union {
		struct cmsghdr h;
		char room[256];
	} ctl;
	struct iovec io = {buf, sizeof(buf)};
	struct msghdr m = {.msg_name = &name,
			   .msg_namelen = sizeof(name),
			   .msg_iov = &io,
			   .msg_iovlen = 1,
			   .msg_control = &ctl,
			   .msg_controllen = sizeof(ctl)};
	errno = 0;
	CHECK(recvmsg(q, &m, MSG_ERRQUEUE) < 0 && errno == EAGAIN,
	      "MSG_ERRQUEUE with nothing queued: EAGAIN, without waiting");
	sendto(q, "quoted", 6, 0, (struct sockaddr *)&a, sizeof(a));
	struct pollfd p = {q, POLLIN, 0};
	CHECK(poll(&p, 1, 1000) == 1 && p.revents == POLLERR, "poll: POLLERR");
	memset(buf, 0, sizeof(buf));
	ssize_t n = recvmsg(q, &m, MSG_ERRQUEUE);
	CHECK(n == 6 && memcmp(buf, "quoted", 6) == 0 &&
		      (m.msg_flags & MSG_ERRQUEUE),
	      "the datagram's payload, flagged MSG_ERRQUEUE (%zd)", n);
	CHECK(m.msg_namelen == sizeof(name) && name.sin_port == a.sin_port &&
		      name.sin_addr.s_addr == a.sin_addr.s_addr,
	      "its destination as the name");
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	struct recverr e = {0};
	if (c && c->cmsg_len >= CMSG_LEN(sizeof(e)))
		memcpy(&e, CMSG_DATA(c), sizeof(e));
	CHECK(c && c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR &&
		      e.ee_errno == ECONNREFUSED &&
		      e.ee_origin == EE_ORIGIN_ICMP && e.ee_type == 3 &&
		      e.ee_code == 3,
	      "IP_RECVERR: ECONNREFUSED, from ICMP port unreachable");
	CHECK(e.offender.sin_family == AF_INET &&
		      e.offender.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
	      "and who said it");
	int err = -1;
	len = sizeof(err);
	getsockopt(q, SOL_SOCKET, SO_ERROR, &err, &len);
	errno = 0;
	CHECK(err == 0 && recvmsg(q, &m, MSG_ERRQUEUE) < 0 && errno == EAGAIN,
	      "taken: no error left");
	/* a datagram waiting is not what MSG_ERRQUEUE reads */
	int w = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in self;
	len = sizeof(self);
	getsockname(q, (struct sockaddr *)&self, &len);
	/* to 0.0.0.0, its address: this host, as on Linux */
	sendto(w, "data", 4, 0, (struct sockaddr *)&self, sizeof(self));
	CHECK(poll(&p, 1, 1000) == 1 && p.revents == POLLIN,
	      "a datagram to 0.0.0.0 comes to this host");
	errno = 0;
	CHECK(recvmsg(q, &m, MSG_ERRQUEUE) < 0 && errno == EAGAIN &&
		      recv(q, buf, sizeof(buf), MSG_DONTWAIT) == 4,
	      "and stays for recv");
	/* turned off, the queue goes */
	sendto(q, "x", 1, 0, (struct sockaddr *)&a, sizeof(a));
	poll(&p, 1, 1000);
	on = 0;
	setsockopt(q, IPPROTO_IP, IP_RECVERR, &on, sizeof(on));
	errno = 0;
	CHECK(recvmsg(q, &m, MSG_ERRQUEUE) < 0 && errno == EAGAIN,
	      "IP_RECVERR off: the queue emptied");
	close(q);
	close(w);
}

/* A UDP socket bound to 127.0.0.1 and a port the kernel chose, which
 * (*at) is set to. */
static int udp_on_loopback(struct sockaddr_in *at)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	socklen_t len = sizeof(*at);
	*at = guest_addr("127.0.0.1", 0);
	bind(s, (struct sockaddr *)at, sizeof(*at));
	getsockname(s, (struct sockaddr *)at, &len);
	return s;
}

/* What recvmsg's control messages tell of a datagram (in Linux's order:
 * its time, IP_PKTINFO, IP_TTL, IP_TOS), a control buffer too small for
 * them (MSG_CTRUNC), and a source address sendmsg's IP_PKTINFO sets. */
static void control_messages(void)
{
	struct sockaddr_in a, from;
	int r = udp_on_loopback(&a), w = socket(AF_INET, SOCK_DGRAM, 0);
	int on = 1, tos = 0x28, ttl = 9;
	CHECK(setsockopt(r, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on)) == 0 &&
		      setsockopt(r, IPPROTO_IP, IP_RECVTTL, &on, sizeof(on)) ==
			      0 &&
		      setsockopt(r, IPPROTO_IP, IP_RECVTOS, &on, sizeof(on)) ==
			      0 &&
		      setsockopt(r, SOL_SOCKET, SO_TIMESTAMP, &on,
				 sizeof(on)) == 0,
	      "IP_PKTINFO, IP_RECVTTL, IP_RECVTOS, SO_TIMESTAMP");
	setsockopt(w, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
	setsockopt(w, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
	sendto(w, "cm", 2, 0, (struct sockaddr *)&a, sizeof(a));
	char buf[8];
	union {
		char b[256];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {buf, sizeof(buf)};
	struct msghdr m;
	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = ctl.b;
	m.msg_controllen = sizeof(ctl.b);
	struct timeval now_tv;
	gettimeofday(&now_tv, NULL);
	ssize_t n = recvmsg(r, &m, 0);
	int kinds[8], k = 0, ifindex = -1, got_ttl = -1, got_tos = -1;
	struct in_pktinfo pi;
	struct timeval stamp = {0, 0};
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c && k < 8;
	     c = CMSG_NXTHDR(&m, c)) {
		kinds[k++] = c->cmsg_type;
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			ifindex = pi.ipi_ifindex;
		} else if (c->cmsg_level == IPPROTO_IP &&
			   c->cmsg_type == IP_TTL) {
			memcpy(&got_ttl, CMSG_DATA(c), sizeof(got_ttl));
		} else if (c->cmsg_level == IPPROTO_IP &&
			   c->cmsg_type == IP_TOS) {
			got_tos = *CMSG_DATA(c);
		} else if (c->cmsg_level == SOL_SOCKET &&
			   c->cmsg_type == SO_TIMESTAMP) {
			memcpy(&stamp, CMSG_DATA(c), sizeof(stamp));
		}
	}
	CHECK(n == 2 && k == 4 && kinds[0] == SO_TIMESTAMP &&
		      kinds[1] == IP_PKTINFO && kinds[2] == IP_TTL &&
		      kinds[3] == IP_TOS && !(m.msg_flags & MSG_CTRUNC),
	      "recvmsg: four control messages, in order (%d)", k);
	CHECK(ifindex == 1 && pi.ipi_addr.s_addr == htonl(INADDR_LOOPBACK) &&
		      pi.ipi_spec_dst.s_addr == htonl(INADDR_LOOPBACK),
	      "IP_PKTINFO: loopback's index, the address it went to");
	CHECK(got_ttl == 9 && got_tos == 0x28, "IP_TTL %d and IP_TOS %#x",
	      got_ttl, got_tos);
	long skew = (long)(stamp.tv_sec - now_tv.tv_sec);
	CHECK(stamp.tv_sec && skew >= -2 && skew <= 2,
	      "SO_TIMESTAMP: when it came (%ld s off)", skew);
	sendto(w, "cm", 2, 0, (struct sockaddr *)&a, sizeof(a));
	m.msg_controllen = 20; /* one header and a few bytes */
	CHECK(recvmsg(r, &m, 0) == 2 && (m.msg_flags & MSG_CTRUNC) &&
		      m.msg_controllen <= 20,
	      "too small a control buffer: MSG_CTRUNC");

	/* sent from another loopback address with IP_PKTINFO */
	union {
		char b[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} out;
	memset(&out, 0, sizeof(out));
	memset(&m, 0, sizeof(m));
	iov = (struct iovec){(void *)"src", 3};
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_name = &a;
	m.msg_namelen = sizeof(a);
	m.msg_control = out.b;
	m.msg_controllen = sizeof(out.b);
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = IP_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
	struct in_pktinfo spec = {0};
	inet_pton(AF_INET, "127.0.0.2", &spec.ipi_spec_dst);
	memcpy(CMSG_DATA(c), &spec, sizeof(spec));
	socklen_t len = sizeof(from);
	CHECK(sendmsg(w, &m, 0) == 3 &&
		      recvfrom(r, buf, sizeof(buf), 0, (struct sockaddr *)&from,
			       &len) == 3 &&
		      from.sin_addr.s_addr == htonl(0x7f000002),
	      "sendmsg with IP_PKTINFO: from 127.0.0.2");
	c->cmsg_type = IP_RECVERR; /* not one sendmsg takes */
	errno = 0;
	CHECK(sendmsg(w, &m, 0) < 0 && errno == EINVAL,
	      "a control message sendmsg does not take: EINVAL");
	close(r);
	close(w);
}

/* The interface that has address (addr) (network order), by
 * SIOCGIFCONF, into (*r): 1, or 0 if none has it. */
static int interface_with(int fd, uint32_t addr, struct ifreq *r)
{
	static struct ifreq all[32];
	struct ifconf c = {.ifc_len = sizeof(all), .ifc_req = all};
	if (ioctl(fd, SIOCGIFCONF, &c) < 0)
		return 0;
	for (size_t i = 0; i < c.ifc_len / sizeof(all[0]); i++)
		if (((struct sockaddr_in *)&all[i].ifr_addr)->sin_addr.s_addr ==
		    addr) {
			*r = all[i];
			return 1;
		}
	return 0;
}

/* The interface (fd)'s local address is on, as the SIOCGIF* ioctls
 * describe it: up, its index and name agreeing, an MTU, a hardware
 * address of its kind. Says (what). */
static void interface_of(int fd, const char *what)
{
	struct sockaddr_in me;
	socklen_t len = sizeof(me);
	struct ifreq r, q;
	getsockname(fd, (struct sockaddr *)&me, &len);
	CHECK(interface_with(fd, me.sin_addr.s_addr, &r),
	      "SIOCGIFCONF lists %s's address", what);
	q = r;
	int up = ioctl(fd, SIOCGIFFLAGS, &q) == 0 &&
		 (q.ifr_flags & (IFF_UP | IFF_RUNNING)) ==
			 (IFF_UP | IFF_RUNNING);
	int loop = q.ifr_flags & IFF_LOOPBACK;
	unsigned index = if_nametoindex(r.ifr_name);
	char name[IF_NAMESIZE] = "";
	q = r;
	int mtu = ioctl(fd, SIOCGIFMTU, &q) == 0 ? q.ifr_mtu : -1;
	q = r;
	int hw = ioctl(fd, SIOCGIFHWADDR, &q) == 0 &&
		 q.ifr_hwaddr.sa_family ==
			 (loop ? ARPHRD_LOOPBACK : ARPHRD_ETHER);
	CHECK(up && index > 0 && if_indextoname(index, name) &&
		      !strcmp(name, r.ifr_name) && mtu >= 576 && hw,
	      "%s: %s, index %u, up, MTU %d, its hardware address", what,
	      r.ifr_name, index, mtu);
}

/* The packets the loopback received, from /proc/net/dev; -1 if it is
 * not there. */
static long lo_packets(void)
{
	FILE *f = fopen("/proc/net/dev", "r");
	char line[256];
	long bytes, packets = -1;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, " lo: %ld %ld", &bytes, &packets) == 2)
			break;
	if (f)
		fclose(f);
	return packets;
}

/* The loopback interface as the SIOCGIF* ioctls and /proc/net/dev show
 * it. */
static void interfaces(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct ifreq r;
	memset(&r, 0, sizeof(r));
	strcpy(r.ifr_name, "lo");
	CHECK(if_nametoindex("lo") == 1 && ioctl(fd, SIOCGIFADDR, &r) == 0 &&
		      ((struct sockaddr_in *)&r.ifr_addr)->sin_addr.s_addr ==
			      htonl(INADDR_LOOPBACK),
	      "lo: index 1, 127.0.0.1");
	CHECK(ioctl(fd, SIOCGIFNETMASK, &r) == 0 &&
		      ((struct sockaddr_in *)&r.ifr_netmask)->sin_addr.s_addr ==
			      htonl(0xff000000),
	      "lo: netmask 255.0.0.0");
	strcpy(r.ifr_name, "nosuch0");
	errno = 0;
	CHECK(ioctl(fd, SIOCGIFINDEX, &r) < 0 && errno == ENODEV &&
		      if_nametoindex("nosuch0") == 0,
	      "an interface that is not there: ENODEV");
	struct sockaddr_in lo = guest_addr("127.0.0.1", 9);
	connect(fd, (struct sockaddr *)&lo, sizeof(lo));
	interface_of(fd, "loopback");
	long before = lo_packets();
	send(fd, "count me", 8, 0);
	long after = lo_packets();
	CHECK(before >= 0 && after > before,
	      "/proc/net/dev counts the loopback's packets (%ld, then %ld)",
	      before, after);
	close(fd);
}

/* A TCP connection over the loopback: the listener (*l) on (*at), the
 * client (*c) and connect's result (*conn); the accepted socket. */
static int tcp_pair(int *l, int *c, struct sockaddr_in *at, int *conn)
{
	socklen_t len = sizeof(*at);
	*l = socket(AF_INET, SOCK_STREAM, 0);
	*c = socket(AF_INET, SOCK_STREAM, 0);
	*at = guest_addr("127.0.0.1", 0);
	bind(*l, (struct sockaddr *)at, sizeof(*at));
	listen(*l, 1);
	getsockname(*l, (struct sockaddr *)at, &len);
	*conn = connect(*c, (struct sockaddr *)at, sizeof(*at));
	return accept(*l, NULL, NULL);
}

/* Counter (field) of (proto)'s lines in /proc/net/snmp ("Udp",
 * "NoPorts"); -1 if it is not there. (*pairs_ok) is cleared if a line of
 * values has not as many as its line of names. */
static long long snmp(const char *proto, const char *field, int *pairs_ok)
{
	FILE *f = fopen("/proc/net/snmp", "r");
	static char names[4096], values[4096];
	long long v = -1;
	size_t plen = strlen(proto);
	while (f && fgets(names, sizeof(names), f) &&
	       fgets(values, sizeof(values), f)) {
		int nn = 0, nv = 0, at = -1;
		char *save1, *save2;
		if (strncmp(names, values, strchr(names, ':') - names + 1))
			*pairs_ok = 0;
		for (char *w = strtok_r(names, " \n", &save1); w;
		     w = strtok_r(NULL, " \n", &save1), nn++)
			if (!strcmp(w, field))
				at = nn;
		for (char *w = strtok_r(values, " \n", &save2); w;
		     w = strtok_r(NULL, " \n", &save2), nv++)
			if (nv == at && !strncmp(names, proto, plen) &&
			    names[plen] == ':')
				v = atoll(w);
		if (nn != nv)
			*pairs_ok = 0;
	}
	if (f)
		fclose(f);
	return v;
}

/* /proc/net/snmp: the protocols' counters, in Linux's layout, moving
 * as the loopback carries datagrams, connections and refusals. Other
 * traffic (natively) may add to them, never take away. */
static void snmp_counters(void)
{
	int ok = 1;
	long long udp_in = snmp("Udp", "InDatagrams", &ok),
		  udp_out = snmp("Udp", "OutDatagrams", &ok),
		  noports = snmp("Udp", "NoPorts", &ok),
		  unreach_out = snmp("Icmp", "OutDestUnreachs", &ok),
		  unreach_in = snmp("Icmp", "InDestUnreachs", &ok),
		  active = snmp("Tcp", "ActiveOpens", &ok),
		  passive = snmp("Tcp", "PassiveOpens", &ok),
		  fails = snmp("Tcp", "AttemptFails", &ok),
		  resets = snmp("Tcp", "EstabResets", &ok),
		  rsts = snmp("Tcp", "OutRsts", &ok),
		  segs_in = snmp("Tcp", "InSegs", &ok),
		  ip_in = snmp("Ip", "InReceives", &ok);
	CHECK(ok && udp_in >= 0 && noports >= 0 && unreach_in >= 0 &&
		      active >= 0 && rsts >= 0 && ip_in >= 0 &&
		      snmp("Ip", "DefaultTTL", &ok) == 64 &&
		      snmp("UdpLite", "InDatagrams", &ok) >= 0 &&
		      snmp("Tcp", "RtoMin", &ok) == 200 &&
		      snmp("Tcp", "MaxConn", &ok) == -1,
	      "/proc/net/snmp: Ip, Icmp, Tcp, Udp and UdpLite, a value for "
	      "each name");
	struct sockaddr_in la, closed;
	int a = udp_on_loopback(&la), b = socket(AF_INET, SOCK_DGRAM, 0);
	char buf[16];
	sendto(b, "snmp", 4, 0, (struct sockaddr *)&la, sizeof(la));
	CHECK(recv(a, buf, sizeof(buf), 0) == 4 &&
		      snmp("Udp", "InDatagrams", &ok) > udp_in &&
		      snmp("Udp", "OutDatagrams", &ok) > udp_out,
	      "a datagram over the loopback: Udp InDatagrams and OutDatagrams");
	closed = la;
	close(a);
	sendto(b, "nobody", 6, 0, (struct sockaddr *)&closed, sizeof(closed));
	usleep(20000);
	CHECK(snmp("Udp", "NoPorts", &ok) > noports &&
		      snmp("Icmp", "OutDestUnreachs", &ok) > unreach_out &&
		      snmp("Icmp", "InDestUnreachs", &ok) > unreach_in,
	      "one to a closed port: Udp NoPorts, and the ICMP port "
	      "unreachable out and in");
	close(b);
	int l, c, conn, s = tcp_pair(&l, &c, &la, &conn);
	CHECK(conn == 0 && s >= 0 && snmp("Tcp", "ActiveOpens", &ok) > active &&
		      snmp("Tcp", "PassiveOpens", &ok) > passive &&
		      snmp("Tcp", "CurrEstab", &ok) >= 2 &&
		      snmp("Tcp", "InSegs", &ok) >= segs_in + 3 &&
		      snmp("Ip", "InReceives", &ok) >= ip_in + 3,
	      "a connection over the loopback: Tcp ActiveOpens, PassiveOpens, "
	      "CurrEstab, InSegs; Ip InReceives");
	struct linger now = {1, 0};
	setsockopt(s, SOL_SOCKET, SO_LINGER, &now, sizeof(now));
	close(s); /* an RST */
	usleep(20000);
	CHECK(snmp("Tcp", "EstabResets", &ok) >= resets + 2 &&
		      snmp("Tcp", "OutRsts", &ok) > rsts,
	      "an abort: Tcp OutRsts, and EstabResets at both ends");
	close(c);
	close(l);
	c = socket(AF_INET, SOCK_STREAM, 0);
	errno = 0;
	CHECK(connect(c, (struct sockaddr *)&la, sizeof(la)) < 0 &&
		      errno == ECONNREFUSED &&
		      snmp("Tcp", "AttemptFails", &ok) > fails,
	      "a refused connection: Tcp AttemptFails");
	close(c);
}

/* The loopback carries IPv4's largest datagram (65507 bytes of UDP),
 * as Linux's, and a TCP connection over it takes segments of tens of
 * KiB: its MTU is 65536, not a link's 1500. */
static void loopback_mtu(void)
{
	static char big[65508], back[65508];
	struct sockaddr_in la;
	int a = udp_on_loopback(&la), b = socket(AF_INET, SOCK_DGRAM, 0);
	int rcv = 1 << 20;
	struct timeval wait = {2, 0}; /* a datagram that never comes fails */
	setsockopt(a, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait));
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7 + i / 251);
	ssize_t sent =
		sendto(b, big, 65507, 0, (struct sockaddr *)&la, sizeof(la));
	ssize_t got = recv(a, back, sizeof(back), 0);
	CHECK(sent == 65507 && got == 65507 && !memcmp(big, back, 65507),
	      "a 65507-byte datagram over the loopback, whole (sent %zd, got "
	      "%zd)",
	      sent, got);
	errno = 0;
	CHECK(sendto(b, big, 65508, 0, (struct sockaddr *)&la, sizeof(la)) <
			      0 &&
		      errno == EMSGSIZE,
	      "65508 bytes: EMSGSIZE");
	struct ifreq r;
	memset(&r, 0, sizeof(r));
	strcpy(r.ifr_name, "lo");
	CHECK(ioctl(a, SIOCGIFMTU, &r) == 0 && r.ifr_mtu == 65536,
	      "lo's MTU: 65536 (%d)", r.ifr_mtu);
	close(a);
	close(b);
	int l, c, conn, s = tcp_pair(&l, &c, &la, &conn);
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait));
	int mss = 0;
	socklen_t len = sizeof(mss);
	getsockopt(c, IPPROTO_TCP, TCP_MAXSEG, &mss, &len);
	ssize_t w = write(c, big, sizeof(big));
	size_t n = s >= 0 ? guest_read_full(s, back, sizeof(back)) : 0;
	/* Linux says 32741 at first: half the peer's first window */
	CHECK(conn == 0 && mss > 16000 && w == (ssize_t)sizeof(big) &&
		      n == sizeof(big) && !memcmp(big, back, sizeof(big)),
	      "TCP over the loopback: segments far over a link's 1460 bytes "
	      "(MSS %d), 64 KiB through whole",
	      mss);
	close(s);
	close(c);
	close(l);
}

static void errors(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in peer;
	socklen_t len = sizeof(peer);
	errno = 0;
	CHECK(send(s, "x", 1, 0) < 0 && errno == EDESTADDRREQ,
	      "send without a peer: EDESTADDRREQ");
	errno = 0;
	CHECK(getpeername(s, (struct sockaddr *)&peer, &len) < 0 &&
		      errno == ENOTCONN,
	      "getpeername unconnected: ENOTCONN");
	errno = 0;
	CHECK(socket(AF_INET6 + 100, SOCK_DGRAM, 0) < 0 &&
		      errno == EAFNOSUPPORT,
	      "an unknown family: EAFNOSUPPORT");
	errno = 0;
	CHECK(recv(0 + 100, NULL, 0, 0) < 0 && errno == EBADF,
	      "recv on a closed descriptor: EBADF");
	int fd = open("/dev/null", O_RDONLY);
	errno = 0;
	CHECK(recv(fd, NULL, 0, 0) < 0 && errno == ENOTSOCK,
	      "recv on a file: ENOTSOCK");
	close(fd);
	errno = 0;
	CHECK(sendto(s, "x", 1, 0, (struct sockaddr *)8, sizeof(peer)) < 0 &&
		      errno == EFAULT,
	      "a bad address pointer: EFAULT");
	close(s);
}

static void echo(const char *ip, int port, int wide)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in srv = guest_addr(ip, port);
	int way = socket(AF_INET, SOCK_DGRAM, 0);
	connect(way, (struct sockaddr *)&srv, sizeof(srv));
	interface_of(way, "the way to the echo server");
	close(way);
	struct timeval tv = {2, 0};
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* marked: over TAP the host's end checks they are on the wire */
	int tos = 0x28, ttl = 33;
	setsockopt(s, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
	setsockopt(s, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
	int good = 0;
	for (int i = 0; i < 20; i++) {
		char msg[64], back[64] = {0};
		int n = snprintf(msg, sizeof(msg), "datagram %d", i);
		if (sendto(s, msg, (size_t)n, 0, (struct sockaddr *)&srv,
			   sizeof(srv)) != n)
			break;
		struct sockaddr_in from;
		socklen_t len = sizeof(from);
		ssize_t r = recvfrom(s, back, sizeof(back), 0,
				     (struct sockaddr *)&from, &len);
		if (r == n && !memcmp(back, msg, (size_t)n) &&
		    from.sin_port == srv.sin_port)
			good++;
	}
	CHECK(good == 20, "20 datagrams echoed by %s:%d (%d came back)", ip,
	      port, good);
	/* one of the largest a 1500-byte link carries unfragmented */
	static char big[1472], bigback[1472];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 13);
	CHECK(sendto(s, big, sizeof(big), 0, (struct sockaddr *)&srv,
		     sizeof(srv)) == (ssize_t)sizeof(big) &&
		      recv(s, bigback, sizeof(bigback), 0) ==
			      (ssize_t)sizeof(big) &&
		      !memcmp(big, bigback, sizeof(big)),
	      "a 1472-byte datagram echoed");
	if (wide) {
		/* a wide link's (user networking's), in one frame each way */
		static char huge[16000], hugeback[16000];
		for (size_t i = 0; i < sizeof(huge); i++)
			huge[i] = (char)(i * 7 + i / 253);
		CHECK(sendto(s, huge, sizeof(huge), 0, (struct sockaddr *)&srv,
			     sizeof(srv)) == (ssize_t)sizeof(huge) &&
			      recv(s, hugeback, sizeof(hugeback), 0) ==
				      (ssize_t)sizeof(huge) &&
			      !memcmp(huge, hugeback, sizeof(huge)),
		      "a 16000-byte datagram echoed whole");
	}
	close(s);
}

/* Echo (count) datagrams on (port), then exit: a server for the host. */
/* udp pmtu IP PORT: a 1400-byte datagram to IP:PORT, past a router
 * whose link takes fewer: its ICMP fragmentation needed reaches the
 * error queue as EMSGSIZE with the MTU, and IP_MTU says it. Prints
 * "pmtu ERRNO INFO IP_MTU" and the send's errno after it. */
static int pmtu(const char *ip, int port)
{
	static char big[1400];
	struct sockaddr_in to = guest_addr(ip, port);
	int s = socket(AF_INET, SOCK_DGRAM, 0), on = 1, mtu = 0;
	setsockopt(s, IPPROTO_IP, IP_RECVERR, &on, sizeof(on));
	connect(s, (struct sockaddr *)&to, sizeof(to));
	send(s, big, sizeof(big), 0);
	struct pollfd p = {s, 0, 0};
	union {
		struct cmsghdr h;
		char room[256];
	} ctl;
	struct iovec io = {big, sizeof(big)};
	struct msghdr m = {.msg_iov = &io,
			   .msg_iovlen = 1,
			   .msg_control = &ctl,
			   .msg_controllen = sizeof(ctl)};
	struct recverr e = {0};
	if (poll(&p, 1, 2000) == 1 && recvmsg(s, &m, MSG_ERRQUEUE) >= 0 &&
	    CMSG_FIRSTHDR(&m))
		memcpy(&e, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(e));
	socklen_t len = sizeof(mtu);
	getsockopt(s, IPPROTO_IP, IP_MTU, &mtu, &len);
	errno = 0;
	int sent = (int)send(s, big, sizeof(big), 0);
	printf("pmtu %u %u %d %d\n", e.ee_errno, e.ee_info, mtu,
	       sent < 0 ? errno : 0);
	return 0;
}

/* udp mcast-recv GROUP PORT: join GROUP on the route's interface, say
 * "joined", and print the first datagram to it ("got DATA from IP");
 * udp mcast-send GROUP PORT: send "to the group" there ten times, 100
 * ms apart (TTL 1). For the multicast test over TAP. */
static int mcast(const char *mode, const char *group, int port)
{
	struct sockaddr_in g = guest_addr(group, port);
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	if (!strcmp(mode, "mcast-send")) {
		for (int i = 0; i < 10; i++) {
			if (sendto(s, "to the group", 12, 0,
				   (struct sockaddr *)&g, sizeof(g)) != 12)
				return perror("sendto"), 1;
			nanosleep(&(struct timespec){0, 100000000}, NULL);
		}
		return 0;
	}
	struct sockaddr_in any = guest_addr("0.0.0.0", port), from;
	struct ip_mreq mr = {g.sin_addr, {htonl(INADDR_ANY)}};
	if (bind(s, (struct sockaddr *)&any, sizeof(any)) < 0 ||
	    setsockopt(s, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0)
		return perror("join"), 1;
	printf("joined\n");
	fflush(stdout);
	char in[64] = {0};
	socklen_t len = sizeof(from);
	struct pollfd p = {s, POLLIN, 0};
	if (poll(&p, 1, 10000) != 1 ||
	    recvfrom(s, in, sizeof(in) - 1, 0, (struct sockaddr *)&from,
		     &len) <= 0)
		return printf("nothing came\n"), 1;
	printf("got %s from %s\n", in, inet_ntoa(from.sin_addr));
	return 0;
}

static int serve(int port, int count)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in any = guest_addr("0.0.0.0", port);
	if (bind(s, (struct sockaddr *)&any, sizeof(any)) < 0)
		return perror("bind"), 1;
	printf("serving %d\n", port);
	fflush(stdout);
	for (int i = 0; i < count; i++) {
		char buf[2048];
		struct sockaddr_in from;
		socklen_t len = sizeof(from);
		ssize_t n = recvfrom(s, buf, sizeof(buf), 0,
				     (struct sockaddr *)&from, &len);
		if (n < 0)
			return perror("recvfrom"), 1;
		sendto(s, buf, (size_t)n, 0, (struct sockaddr *)&from, len);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "serve"))
		return serve(atoi(argv[2]), atoi(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "pmtu"))
		return pmtu(argv[2], atoi(argv[3]));
	if (argc == 4 && !strncmp(argv[1], "mcast-", 6))
		return mcast(argv[1], argv[2], atoi(argv[3]));
	snmp_counters();
	loopback_mtu();
	loopback();
	many_at_once();
	corking();
	segments();
	bound_to_device();
	multicast();
	broadcasts();
	proc_net_udp();
	ip_options();
	refused();
	error_queue();
	control_messages();
	interfaces();
	errors();
	if (argc == 3 || argc == 4)
		echo(argv[1], atoi(argv[2]),
		     argc == 4 && !strcmp(argv[3], "wide"));
	return guest_done("udp");
}
