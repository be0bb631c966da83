/* netlink.c: what programs learn of the network through NETLINK_ROUTE:
 * getifaddrs and if_nameindex (each C library asks in its own way) agree
 * with the SIOCGIF* ioctls; the raw protocol: ports, dumps, single gets,
 * acknowledgements, errors, truncation, malformed requests, poll and
 * epoll, socket options. Expectations are Linux's: this passes natively
 * too, whatever interfaces the host has. An argument names an interface
 * that must have an address. */
#define _GNU_SOURCE
#include "guest.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

static union {
	struct nlmsghdr h;
	char b[65536];
} buf;

static uint32_t in_addr_of(const struct sockaddr *a)
{
	return ((const struct sockaddr_in *)a)->sin_addr.s_addr;
}

/* SIOCGIF* (cmd) about (name) into (r): 0 or -1. */
static int ifreq(int s, unsigned long cmd, const char *name, struct ifreq *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->ifr_name, sizeof(r->ifr_name), "%s", name);
	return ioctl(s, cmd, r);
}

/* (want): an interface that must have an IPv4 address, or NULL. */
static void check_getifaddrs(const char *want)
{
	struct ifaddrs *all, *a;
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	int lo = 0, inet = 0, inet_ok = 0, packet = 0, packet_ok = 0;
	int paired = 1, wanted = 0;
	CHECK(getifaddrs(&all) == 0, "getifaddrs");
	for (a = all; a; a = a->ifa_next) {
		struct ifreq r;
		if (!a->ifa_addr)
			continue;
		if (a->ifa_addr->sa_family == AF_INET) {
			uint32_t addr = in_addr_of(a->ifa_addr);
			wanted |= want && !strcmp(a->ifa_name, want);
			int first = 1;
			for (struct ifaddrs *b = all; b != a; b = b->ifa_next)
				first &= !(b->ifa_addr &&
					   b->ifa_addr->sa_family == AF_INET &&
					   !strcmp(b->ifa_name, a->ifa_name));
			if (!strcmp(a->ifa_name, "lo") &&
			    addr == htonl(INADDR_LOOPBACK) &&
			    in_addr_of(a->ifa_netmask) == htonl(0xff000000) &&
			    (a->ifa_flags & (IFF_UP | IFF_LOOPBACK)) ==
				    (IFF_UP | IFF_LOOPBACK))
				lo = 1;
			if (!first)
				continue; /* ioctls see the first alone */
			inet++;
			int ok = ifreq(s, SIOCGIFADDR, a->ifa_name, &r) == 0 &&
				 in_addr_of(&r.ifr_addr) == addr;
			ok &= ifreq(s, SIOCGIFNETMASK, a->ifa_name, &r) == 0 &&
			      in_addr_of(&r.ifr_netmask) ==
				      in_addr_of(a->ifa_netmask);
			ok &= ifreq(s, SIOCGIFFLAGS, a->ifa_name, &r) == 0 &&
			      (unsigned short)r.ifr_flags ==
				      (a->ifa_flags & 0xffff);
			/* an address may have no broadcast (0.0.0.0) */
			if ((a->ifa_flags & IFF_BROADCAST) &&
			    ifreq(s, SIOCGIFBRDADDR, a->ifa_name, &r) == 0 &&
			    in_addr_of(&r.ifr_broadaddr))
				ok &= in_addr_of(&r.ifr_broadaddr) ==
				      in_addr_of(a->ifa_broadaddr);
			inet_ok += ok;
			int has_packet = 0;
			for (struct ifaddrs *b = all; b; b = b->ifa_next)
				has_packet |=
					b->ifa_addr &&
					b->ifa_addr->sa_family == AF_PACKET &&
					!strcmp(b->ifa_name, a->ifa_name);
			paired &= has_packet;
		} else if (a->ifa_addr->sa_family == AF_PACKET) {
			const struct sockaddr_ll *ll = (void *)a->ifa_addr;
			packet++;
			int ok = ifreq(s, SIOCGIFINDEX, a->ifa_name, &r) == 0 &&
				 r.ifr_ifindex == ll->sll_ifindex;
			ok &= ifreq(s, SIOCGIFHWADDR, a->ifa_name, &r) == 0 &&
			      r.ifr_hwaddr.sa_family == ll->sll_hatype;
			if (ll->sll_halen == 6)
				ok &= !memcmp(r.ifr_hwaddr.sa_data,
					      ll->sll_addr, 6);
			ok &= a->ifa_data != NULL; /* the link's counters */
			packet_ok += ok;
		}
	}
	CHECK(lo, "getifaddrs: lo has 127.0.0.1/8, up");
	if (want)
		CHECK(wanted, "getifaddrs: %s has an IPv4 address", want);
	CHECK(inet > 0 && inet_ok == inet,
	      "getifaddrs: %d of %d IPv4 addresses, masks, flags and "
	      "broadcasts as the ioctls say",
	      inet_ok, inet);
	CHECK(packet > 0 && packet_ok == packet,
	      "getifaddrs: %d of %d links' indexes and hardware addresses as "
	      "the ioctls say, with counters",
	      packet_ok, packet);
	CHECK(paired, "getifaddrs: an interface with an address is a link");
	freeifaddrs(all);
	close(s);
}

static void check_if_nameindex(int *count)
{
	struct if_nameindex *all = if_nameindex(), *i;
	int n = 0, ok = 0, lo = 0;
	CHECK(all != NULL, "if_nameindex");
	for (i = all; i && i->if_index; i++) {
		char name[IF_NAMESIZE];
		n++;
		ok += if_nametoindex(i->if_name) == i->if_index &&
		      if_indextoname(i->if_index, name) &&
		      !strcmp(name, i->if_name);
		lo |= !strcmp(i->if_name, "lo");
	}
	CHECK(n > 0 && ok == n && lo,
	      "if_nameindex: %d of %d names and indexes agree, lo among them",
	      ok, n);
	if_freenameindex(all);
	*count = n;
}

/* ---- the protocol itself ---- */

static int nl_open(void)
{
	return socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
}

/* Send a request of (type) and (flags) with (fixed) bytes of (body)
 * and, if (alen), one attribute: send's result. */
static ssize_t nl_request(int fd, uint16_t type, uint16_t flags,
			  const void *body, size_t fixed, uint16_t atype,
			  const void *adata, size_t alen)
{
	static union {
		struct nlmsghdr h;
		char b[256];
	} req;
	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = NLMSG_LENGTH(fixed);
	req.h.nlmsg_type = type;
	req.h.nlmsg_flags = flags;
	req.h.nlmsg_seq = 77;
	memcpy(NLMSG_DATA(&req.h), body, fixed);
	if (alen) {
		struct rtattr *a =
			(void *)(req.b + NLMSG_ALIGN(req.h.nlmsg_len));
		a->rta_type = atype;
		a->rta_len = RTA_LENGTH(alen);
		memcpy(RTA_DATA(a), adata, alen);
		req.h.nlmsg_len =
			NLMSG_ALIGN(req.h.nlmsg_len) + RTA_LENGTH(alen);
	}
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	return sendto(fd, &req, req.h.nlmsg_len, 0, (void *)&kernel,
		      sizeof(kernel));
}

/* The next datagram into buf without waiting: its length, or -1. */
static ssize_t nl_next(int fd)
{
	return recv(fd, &buf, sizeof(buf), MSG_DONTWAIT);
}

/* The error of the NLMSG_ERROR in the next datagram, or 1 if it is
 * something else. */
static int nl_error(int fd)
{
	if (nl_next(fd) < (ssize_t)NLMSG_LENGTH(sizeof(int)) ||
	    buf.h.nlmsg_type != NLMSG_ERROR)
		return 1;
	return ((struct nlmsgerr *)NLMSG_DATA(&buf.h))->error;
}

static const void *attr_of(const struct nlmsghdr *h, size_t fixed,
			   unsigned short type)
{
	const struct rtattr *a = (const void *)((const char *)NLMSG_DATA(h) +
						NLMSG_ALIGN(fixed));
	int left = (int)(h->nlmsg_len - NLMSG_LENGTH(fixed));
	for (; RTA_OK(a, left); a = RTA_NEXT(a, left))
		if (a->rta_type == type)
			return RTA_DATA(a);
	return NULL;
}

static void check_ports(void)
{
	struct sockaddr_nl a;
	socklen_t len = sizeof(a);
	int fd = nl_open(), other = nl_open();
	CHECK(fd >= 0 && other >= 0, "socket AF_NETLINK NETLINK_ROUTE");
	CHECK(getsockname(fd, (void *)&a, &len) == 0 && len == sizeof(a) &&
		      a.nl_family == AF_NETLINK && a.nl_pid == 0,
	      "unbound: port 0");
	memset(&a, 0, sizeof(a));
	a.nl_family = AF_NETLINK;
	CHECK(bind(fd, (void *)&a, sizeof(a)) == 0, "bind to port 0");
	len = sizeof(a);
	CHECK(getsockname(fd, (void *)&a, &len) == 0 &&
		      a.nl_pid == (uint32_t)getpid(),
	      "the first port is the process's pid (%u)", a.nl_pid);
	CHECK(bind(other, (void *)&a, sizeof(a)) < 0 && errno == EADDRINUSE,
	      "a port taken: EADDRINUSE");
	a.nl_pid = 0;
	CHECK(bind(other, (void *)&a, sizeof(a)) == 0, "another autobinds");
	len = sizeof(a);
	CHECK(getsockname(other, (void *)&a, &len) == 0 && a.nl_pid != 0 &&
		      a.nl_pid != (uint32_t)getpid(),
	      "to another port");
	a.nl_pid = 12345;
	CHECK(bind(other, (void *)&a, sizeof(a)) < 0 && errno == EINVAL,
	      "bound already: EINVAL");
	CHECK(bind(other, (void *)&a, 4) < 0 && errno == EINVAL,
	      "a short address: EINVAL");
	a.nl_family = AF_INET;
	CHECK(bind(other, (void *)&a, sizeof(a)) < 0 && errno == EINVAL,
	      "another family: EINVAL");
	len = sizeof(a);
	CHECK(getpeername(fd, (void *)&a, &len) == 0 &&
		      a.nl_family == AF_NETLINK && a.nl_pid == 0,
	      "the peer is the kernel");
	close(fd);
	close(other);
}

static void check_dump(int links)
{
	int fd = nl_open();
	struct rtgenmsg g = {AF_PACKET};
	struct sockaddr_nl me, from;
	socklen_t len = sizeof(me);
	CHECK(nl_request(fd, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, &g,
			 sizeof(g), 0, NULL, 0) == NLMSG_LENGTH(sizeof(g)),
	      "send a link dump request");
	getsockname(fd, (void *)&me, &len); /* bound by the send */
	int n = 0, done = 0, ours = 1, lo = 0;
	while (!done) {
		struct iovec iov = {&buf, sizeof(buf)};
		struct msghdr m = {.msg_name = &from,
				   .msg_namelen = sizeof(from),
				   .msg_iov = &iov,
				   .msg_iovlen = 1};
		ssize_t got = recvmsg(fd, &m, MSG_DONTWAIT);
		if (got <= 0 || m.msg_namelen != sizeof(from) ||
		    from.nl_pid != 0 || (m.msg_flags & MSG_TRUNC))
			break;
		for (struct nlmsghdr *h = &buf.h; NLMSG_OK(h, got);
		     h = NLMSG_NEXT(h, got)) {
			ours &= h->nlmsg_seq == 77 && h->nlmsg_pid == me.nl_pid;
			if (h->nlmsg_type == NLMSG_DONE)
				done = 1;
			if (h->nlmsg_type != RTM_NEWLINK)
				continue;
			n++;
			const char *name = attr_of(h, sizeof(struct ifinfomsg),
						   IFLA_IFNAME);
			lo |= name && !strcmp(name, "lo");
		}
	}
	CHECK(done && n == links && lo,
	      "a link dump: %d links, lo among them, then NLMSG_DONE", n);
	CHECK(me.nl_pid != 0 && ours,
	      "every answer carries the request's sequence and our port");
	CHECK(nl_next(fd) < 0 && errno == EAGAIN, "then nothing more");
	close(fd);
}

static void check_gets_and_errors(void)
{
	int fd = nl_open();
	struct ifinfomsg ifi = {.ifi_index = (int)if_nametoindex("lo")};
	nl_request(fd, RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK, &ifi,
		   sizeof(ifi), 0, NULL, 0);
	const char *name = NULL;
	if (nl_next(fd) > 0 && buf.h.nlmsg_type == RTM_NEWLINK)
		name = attr_of(&buf.h, sizeof(ifi), IFLA_IFNAME);
	CHECK(name && !strcmp(name, "lo"), "the link with lo's index is lo");
	CHECK(nl_error(fd) == 0, "then the acknowledgement asked for");
	ifi.ifi_index = 0;
	nl_request(fd, RTM_GETLINK, NLM_F_REQUEST, &ifi, sizeof(ifi),
		   IFLA_IFNAME, "lo", 3);
	CHECK(nl_next(fd) > 0 && buf.h.nlmsg_type == RTM_NEWLINK &&
		      ((struct ifinfomsg *)NLMSG_DATA(&buf.h))->ifi_index ==
			      (int)if_nametoindex("lo"),
	      "the link named lo");
	ifi.ifi_index = 0x7fffffff;
	nl_request(fd, RTM_GETLINK, NLM_F_REQUEST, &ifi, sizeof(ifi), 0, NULL,
		   0);
	CHECK(nl_error(fd) == -ENODEV, "a link nobody has: ENODEV");
	CHECK(nl_request(fd, 0x7fff, NLM_F_REQUEST, &ifi, sizeof(ifi), 0, NULL,
			 0) > 0 &&
		      nl_error(fd) == -EOPNOTSUPP,
	      "an unknown message type: EOPNOTSUPP");
	int on = 1;
	CHECK(setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof(on)) ==
		      0,
	      "NETLINK_CAP_ACK");
	nl_request(fd, RTM_GETLINK, NLM_F_REQUEST, &ifi, sizeof(ifi), 0, NULL,
		   0);
	CHECK(nl_error(fd) == -ENODEV &&
		      buf.h.nlmsg_len == NLMSG_LENGTH(sizeof(int) +
						      sizeof(struct nlmsghdr)),
	      "with it an error echoes the request's header alone");
	/* malformed: a length shorter than the header, one past the end */
	struct nlmsghdr bad = {.nlmsg_len = 8,
			       .nlmsg_type = RTM_GETLINK,
			       .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK};
	CHECK(send(fd, &bad, sizeof(bad), 0) == sizeof(bad),
	      "a malformed request is sent");
	bad.nlmsg_len = 4096;
	send(fd, &bad, sizeof(bad), 0);
	CHECK(nl_next(fd) < 0 && errno == EAGAIN,
	      "and gets no answer, as on Linux");
	/* the route to 127.0.0.1: local, through lo */
	struct rtmsg rt = {.rtm_family = AF_INET, .rtm_dst_len = 32};
	uint32_t dst = htonl(INADDR_LOOPBACK);
	nl_request(fd, RTM_GETROUTE, NLM_F_REQUEST, &rt, sizeof(rt), RTA_DST,
		   &dst, sizeof(dst));
	const uint32_t *oif = NULL;
	if (nl_next(fd) > 0 && buf.h.nlmsg_type == RTM_NEWROUTE &&
	    ((struct rtmsg *)NLMSG_DATA(&buf.h))->rtm_type == RTN_LOCAL)
		oif = attr_of(&buf.h, sizeof(rt), RTA_OIF);
	CHECK(oif && *oif == if_nametoindex("lo"),
	      "the route to 127.0.0.1 is local, through lo");
	close(fd);
}

/* Every IPv4 address of a link (not lo), prefix under 32, has its
 * subnet's route in the main table through that link. */
static void check_routes(void)
{
	struct ifaddrs *all;
	int fd = nl_open(), want = 0, found = 0;
	getifaddrs(&all);
	struct rtgenmsg g = {AF_INET};
	nl_request(fd, RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, &g, sizeof(g),
		   0, NULL, 0);
	static char routes[1 << 20];
	size_t have = 0;
	for (ssize_t got; (got = nl_next(fd)) > 0;) {
		if ((size_t)got > sizeof(routes) - have)
			break;
		memcpy(routes + have, &buf, (size_t)got);
		have += (size_t)got;
	}
	for (struct ifaddrs *a = all; a; a = a->ifa_next) {
		if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET ||
		    (a->ifa_flags & IFF_LOOPBACK) || !(a->ifa_flags & IFF_UP))
			continue;
		uint32_t mask = ntohl(in_addr_of(a->ifa_netmask));
		int prefix = 0;
		for (; mask & 0x80000000u; mask <<= 1)
			prefix++;
		if (prefix == 32)
			continue;
		uint32_t net =
			in_addr_of(a->ifa_addr) & in_addr_of(a->ifa_netmask);
		unsigned index = if_nametoindex(a->ifa_name);
		want++;
		int left = (int)have, hit = 0;
		for (struct nlmsghdr *h = (void *)routes; NLMSG_OK(h, left);
		     h = NLMSG_NEXT(h, left)) {
			const struct rtmsg *r = NLMSG_DATA(h);
			if (h->nlmsg_type != RTM_NEWROUTE ||
			    r->rtm_table != RT_TABLE_MAIN ||
			    r->rtm_dst_len != prefix)
				continue;
			const uint32_t *d = attr_of(h, sizeof(*r), RTA_DST);
			const uint32_t *o = attr_of(h, sizeof(*r), RTA_OIF);
			hit |= d && o && *d == net && *o == index;
		}
		found += hit;
	}
	CHECK(found == want,
	      "a route dump: %d of %d subnets of the links' addresses in the "
	      "main table",
	      found, want);
	freeifaddrs(all);
	close(fd);
}

static void check_reading(void)
{
	int fd = nl_open(), ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN}, out;
	struct pollfd p = {fd, POLLIN, 0};
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0 &&
		      epoll_wait(ep, &out, 1, 0) == 0 && poll(&p, 1, 0) == 0,
	      "nothing to read before asking");
	struct ifinfomsg ifi = {.ifi_index = (int)if_nametoindex("lo")};
	nl_request(fd, RTM_GETLINK, NLM_F_REQUEST, &ifi, sizeof(ifi), 0, NULL,
		   0);
	CHECK(epoll_wait(ep, &out, 1, 0) == 1 && poll(&p, 1, 0) == 1 &&
		      (p.revents & POLLIN),
	      "the answer makes poll and epoll say POLLIN");
	ssize_t full = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
	CHECK(full > (ssize_t)NLMSG_HDRLEN,
	      "MSG_PEEK|MSG_TRUNC gives its length (%zd)", full);
	int avail;
	CHECK(ioctl(fd, FIONREAD, &avail) < 0 && errno == ENOTTY,
	      "FIONREAD is not a netlink request: ENOTTY");
	char small[16];
	struct iovec iov = {small, sizeof(small)};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	CHECK(recvmsg(fd, &m, 0) == sizeof(small) && (m.msg_flags & MSG_TRUNC),
	      "a short buffer gets its start and MSG_TRUNC");
	CHECK(nl_next(fd) < 0 && errno == EAGAIN && poll(&p, 1, 0) == 0,
	      "the rest is gone");
	/* connect, then plain write and read */
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	CHECK(connect(fd, (void *)&kernel, sizeof(kernel)) == 0,
	      "connect to the kernel");
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
	} req = {{sizeof(req), RTM_GETLINK, NLM_F_REQUEST, 1, 0}, ifi};
	CHECK(write(fd, &req, sizeof(req)) == sizeof(req) &&
		      read(fd, &buf, sizeof(buf)) > 0 &&
		      buf.h.nlmsg_type == RTM_NEWLINK,
	      "write a request, read the answer");
	close(ep);
	close(fd);
}

static void check_options(void)
{
	int fd = nl_open(), v;
	socklen_t len = sizeof(v);
	CHECK(getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) == 0 &&
		      v == SOCK_RAW,
	      "SO_TYPE");
	CHECK(getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) == 0 &&
		      v == AF_NETLINK,
	      "SO_DOMAIN");
	CHECK(getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &len) == 0 &&
		      v == NETLINK_ROUTE,
	      "SO_PROTOCOL");
	v = 32768;
	CHECK(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)) == 0 &&
		      getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &len) == 0 &&
		      v == 65536,
	      "SO_RCVBUF set to 32 KiB reads back doubled (%d)", v);
	v = 1;
	CHECK(setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &v, sizeof(v)) == 0,
	      "NETLINK_EXT_ACK");
	v = RTNLGRP_LINK;
	CHECK(setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &v,
			 sizeof(v)) == 0,
	      "join a group");
	CHECK(listen(fd, 1) < 0 && errno == EOPNOTSUPP, "listen: EOPNOTSUPP");
	CHECK(shutdown(fd, SHUT_RDWR) < 0 && errno == EOPNOTSUPP,
	      "shutdown: EOPNOTSUPP");
	close(fd);
	errno = 0;
	CHECK(socket(AF_NETLINK, SOCK_RAW, 31) < 0 && errno == EPROTONOSUPPORT,
	      "a protocol nobody serves: EPROTONOSUPPORT");
	CHECK(socket(AF_NETLINK, SOCK_STREAM, NETLINK_ROUTE) < 0 &&
		      errno == ESOCKTNOSUPPORT,
	      "a stream: ESOCKTNOSUPPORT");
	fd = socket(AF_NETLINK, SOCK_DGRAM, NETLINK_ROUTE);
	CHECK(fd >= 0, "SOCK_DGRAM does as SOCK_RAW");
	close(fd);
}

/* netlink [IFNAME]: IFNAME must be there with an IPv4 address. */
int main(int argc, char **argv)
{
	int links = 0;
	check_getifaddrs(argc > 1 ? argv[1] : NULL);
	check_if_nameindex(&links);
	check_ports();
	check_dump(links);
	check_gets_and_errors();
	check_routes();
	check_reading();
	check_options();
	return guest_done("netlink");
}
