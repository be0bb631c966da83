/* sys_net.c: the socket calls: socket, bind, connect, sendto/recvfrom,
 * sendmsg/recvmsg, getsockname/getpeername, setsockopt/getsockopt,
 * shutdown. AF_INET datagram sockets (UDP) for now.
 */
#include "fs/fs.h"
#include "linux/syscalls.h"
#include "net/socket.h"
#include <linux/fcntl.h>
#include <linux/uio.h>

#define AF_UNSPEC 0
#define AF_UNIX 1
#define AF_INET 2
#define AF_NETLINK 16
#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define SOCK_RAW 3
#define SOCK_TYPE_MASK 0xf
#define SOCK_NONBLOCK_FLAG 04000
#define SOCK_CLOEXEC_FLAG 02000000
#define IPPROTO_UDP_NR 17
#define IPPROTO_TCP_NR 6
#define IPPROTO_ICMP_NR 1
#define SOL_RAW_NR 255
#define UDP_CORK_OPT 1
#define UDP_SEGMENT_OPT 103
#define UDP_GRO_OPT 104
#define UDP_SEGMENTS_MAX 128 /* UDP_MAX_SEGMENTS of current Linux */
#define IP_RECVORIGDSTADDR_OPT 20
#define IP_MINTTL_OPT 21
#define IP_MULTICAST_IF_OPT 32
#define IP_MULTICAST_TTL_OPT 33
#define IP_MULTICAST_LOOP_OPT 34
#define IP_ADD_MEMBERSHIP_OPT 35
#define IP_DROP_MEMBERSHIP_OPT 36
#define IP_MULTICAST_ALL_OPT 49
#define TCP_INQ_OPT 36 /* and its control message, TCP_CM_INQ */
#define SO_NO_CHECK_NR 11
#define ICMP_FILTER_OPT 1
#define TCP_NODELAY_OPT 1
#define TCP_MAXSEG_OPT 2
#define TCP_CORK_OPT 3
#define TCP_SYNCNT_OPT 7
#define TCP_DEFER_ACCEPT_OPT 9
#define TCP_QUICKACK_OPT 12
#define TCP_USER_TIMEOUT_OPT 18
#define TCP_KEEPIDLE_OPT 4
#define TCP_KEEPINTVL_OPT 5
#define TCP_KEEPCNT_OPT 6
#define TCP_CONGESTION_OPT 13
#define TCP_FASTOPEN_OPT 23
#define TCP_NOTSENT_LOWAT_OPT 25
#define TCP_LINGER2_OPT 8
#define TCP_FASTOPEN_CONNECT_OPT 30
#define TCP_CA_NAME_MAX 16
/* Linux's name for the congestion control tcp.c does (NewReno, RFC 6582) */
#define TCP_CA_NAME "reno"
#define SO_LINGER 13
#define SO_ACCEPTCONN 30
#define SIGPIPE_NR 13
#define MSG_PEEK 0x2
#define MSG_TRUNC 0x20
#define MSG_DONTWAIT 0x40
#define MSG_WAITALL 0x100
#define MSG_ERRQUEUE 0x2000
#define MSG_NOSIGNAL 0x4000
#define MSG_MORE 0x8000
#define MSG_CTRUNC_NR 0x8
#define SOL_SOCKET 1
#define SO_REUSEADDR 2
#define SO_TYPE 3
#define SO_ERROR 4
#define SO_BROADCAST 6
#define SO_SNDBUF 7
#define SO_RCVBUF 8
#define SO_KEEPALIVE 9
#define SO_DEBUG_NR 1
#define SO_OOBINLINE_NR 10
#define SO_PRIORITY_NR 12
#define SO_RCVLOWAT_NR 18
#define SO_SNDBUFFORCE_NR 32
#define SO_RCVBUFFORCE_NR 33
#define SO_MARK_NR 36
#define SO_BUSY_POLL_NR 46
#define SO_INCOMING_CPU_NR 49
#define SO_BINDTODEVICE_NR 25
#define SO_BINDTOIFINDEX_NR 62
#define IFNAMSIZ_NR 16
#define SO_REUSEPORT 15
#define SO_RCVTIMEO 20
#define SO_SNDTIMEO 21
#define SO_DOMAIN 39
#define SO_PROTOCOL 38
#define SOL_IP_NR 0
#define IP_TOS_OPT 1
#define IP_TTL_OPT 2
#define IP_MTU_DISCOVER_OPT 10
#define IP_PKTINFO_OPT 8
#define IP_RECVERR_OPT 11
#define IP_RECVTTL_OPT 12
#define IP_RECVTOS_OPT 13
#define IP_MTU_OPT 14
#define IP_FREEBIND_OPT 15
#define IP_BIND_ADDRESS_NO_PORT_OPT 24
#define IP_PMTUDISC_DONT_NR 0
#define IP_PMTUDISC_OMIT_NR 5
#define SHUT_RD 0
#define SHUT_WR 1
#define SHUT_RDWR 2
#define IOBUF PROCESS_IOBUF_SIZE

struct sockaddr_in_abi {
	uint16_t family;
	uint16_t port;
	uint32_t addr;
	uint8_t zero[8];
};

struct timeval_abi {
	int64_t sec, usec;
};

/* (fd)'s file if it is an AF_UNIX socket (sys_unix.c serves those). */
static struct file *unix_file(int fd)
{
	struct file *f = fd_get(fd);
	return unix_of(f) ? f : NULL;
}

/* (fd)'s file if it is an AF_NETLINK socket (sys_netlink.c serves
 * those). */
static struct file *netlink_file(int fd)
{
	struct file *f = fd_get(fd);
	return netlink_of(f) ? f : NULL;
}

static struct file *sock_file(int fd, long *err)
{
	struct file *f = fd_get(fd);
	*err = !f ? -EBADF : !sock_of(f) ? -ENOTSOCK : 0;
	return *err ? NULL : f;
}

/* A sockaddr_in from the program: 0, or an error as Linux gives it. */
static long get_addr(uint64_t uaddr, uint64_t len, struct peer *p, int unspec)
{
	struct sockaddr_in_abi a;
	if (len < sizeof(uint16_t))
		return -EINVAL;
	if (copy_from_user(&a, uaddr, len < sizeof(a) ? len : sizeof(a)) < 0)
		return -EFAULT;
	if (unspec && a.family == AF_UNSPEC) {
		p->ip = 0;
		p->port = 0;
		return 1;
	}
	if (a.family != AF_INET)
		return -EAFNOSUPPORT;
	if (len < sizeof(a))
		return -EINVAL;
	p->ip = a.addr;
	p->port = a.port;
	return 0;
}

/* Write (p) to the program's (uaddr, *ulen) as accept and friends do:
 * truncated to the room it gave, the full length stored back. */
long sockaddr_out(uint64_t uaddr, uint64_t ulen, const void *a, int32_t full)
{
	int32_t room;
	if (!uaddr || !ulen)
		return 0;
	if (copy_from_user(&room, ulen, sizeof(room)) < 0)
		return -EFAULT;
	if (room < 0)
		return -EINVAL;
	if (copy_to_user(uaddr, a, (size_t)(room < full ? room : full)) < 0 ||
	    copy_to_user(ulen, &full, sizeof(full)) < 0)
		return -EFAULT;
	return 0;
}

static long put_addr(uint64_t uaddr, uint64_t ulen, const struct peer *p)
{
	struct sockaddr_in_abi a = {AF_INET, p->port, p->ip, {0}};
	return sockaddr_out(uaddr, ulen, &a, sizeof(a));
}

long sys_socket(int domain, int type, int protocol)
{
	int kind = type & SOCK_TYPE_MASK;
	if (type & ~(SOCK_TYPE_MASK | SOCK_NONBLOCK_FLAG | SOCK_CLOEXEC_FLAG))
		return -EINVAL;
	if (domain == AF_UNIX)
		return unix_sys_socket(kind, protocol,
				       type & SOCK_NONBLOCK_FLAG,
				       type & SOCK_CLOEXEC_FLAG);
	if (domain == AF_NETLINK)
		return netlink_sys_socket(kind, protocol,
					  type & SOCK_NONBLOCK_FLAG,
					  type & SOCK_CLOEXEC_FLAG);
	if (domain != AF_INET)
		return -EAFNOSUPPORT;
	if (kind != SOCK_DGRAM && kind != SOCK_STREAM && kind != SOCK_RAW)
		return -ESOCKTNOSUPPORT;
	int proto = kind == SOCK_STREAM ? IP_PROTO_TCP : IP_PROTO_UDP;
	if ((kind == SOCK_DGRAM && protocol == IPPROTO_ICMP_NR) ||
	    (kind == SOCK_RAW && protocol == IPPROTO_ICMP_NR))
		proto = IP_PROTO_ICMP; /* ping and raw ICMP sockets */
	else if (kind == SOCK_RAW) {
		static int said;
		if (!said++)
			klog("socket: raw sockets of protocol %d are not "
			     "implemented (only IPPROTO_ICMP); the program "
			     "gets EPROTONOSUPPORT",
			     protocol);
		return -EPROTONOSUPPORT;
	} else if (protocol && protocol != proto)
		return -EPROTONOSUPPORT;
	struct file *f = sock_create(kind, proto, type & SOCK_NONBLOCK_FLAG);
	if (!f)
		return -ENOMEM;
	return fd_install_new(f, type & SOCK_CLOEXEC_FLAG);
}

long sys_bind(int fd, uint64_t uaddr, uint64_t len)
{
	struct file *uf = unix_file(fd);
	if (uf)
		return unix_sys_bind(uf, uaddr, len);
	struct file *nf = netlink_file(fd);
	if (nf)
		return netlink_sys_bind(nf, uaddr, len);
	long r;
	struct file *f = sock_file(fd, &r);
	struct peer p;
	if (!f)
		return r;
	if ((r = get_addr(uaddr, len, &p, 0)) < 0)
		return r;
	return sock_bind_addr(sock_of(f), p.ip, p.port);
}

/* Wait for network input, time or a signal, within the socket's timeout:
 * 0 to try again, or the error to return. */
static long sock_wait(uint64_t deadline, uint64_t timeout)
{
	int w = event_wait(deadline);
	if (w < 0)
		return timeout ? -EINTR : -ERESTARTSYS;
	if (w == 0 && clock_monotonic_ns() >= deadline)
		return -EAGAIN;
	return 0;
}

/* The deadline a socket timeout (SO_RCVTIMEO, SO_SNDTIMEO) sets; 0:
 * none. */
static uint64_t deadline_after(uint64_t timeout)
{
	return timeout ? deadline_in(timeout) : UINT64_MAX;
}

static long tcp_connect_wait(struct file *f, struct sock *s,
			     const struct peer *p, int unspec)
{
	if (unspec)
		return -EAFNOSUPPORT;
	long r = tcp_sock_connect(s, p->ip, p->port);
	if (r == -EALREADY && !(f->flags & O_NONBLOCK))
		r = 0; /* wait for the one under way */
	else if (r < 0)
		return r;
	else if (f->flags & O_NONBLOCK)
		return -EINPROGRESS;
	uint64_t deadline = deadline_after(s->sndtimeo_ns);
	for (;;) {
		net_poll();
		enum tcp_state st = s->tcp->state;
		if (st >= TCP_ESTABLISHED)
			return 0;
		if (st == TCP_CLOSED) {
			int e = s->tcp->error ? s->tcp->error : ECONNREFUSED;
			s->tcp->error = 0;
			return -e;
		}
		if ((r = sock_wait(deadline, s->sndtimeo_ns)) < 0)
			return r == -EAGAIN ? -EINPROGRESS : r;
	}
}

static long tcp_send_wait(struct file *f, struct sock *s, const uint8_t *data,
			  uint64_t len, int flags)
{
	uint64_t done = 0, deadline = deadline_after(s->sndtimeo_ns);
	for (;;) {
		net_poll();
		long n = tcp_sock_send(s, data + done, len - done);
		if (n > 0) {
			done += (uint64_t)n;
			if (done == len)
				return (long)done;
			continue;
		}
		if (n != -EAGAIN) {
			if (done)
				return (long)done;
			if (n == -EPIPE && !(flags & MSG_NOSIGNAL))
				signal_send(SIGPIPE_NR, 0);
			return n;
		}
		if ((f->flags & O_NONBLOCK) || (flags & MSG_DONTWAIT))
			return done ? (long)done : -EAGAIN;
		long w = sock_wait(deadline, s->sndtimeo_ns);
		if (w < 0)
			return done ? (long)done : w;
	}
}

/* A send; with MSG_MORE, corked for this call: what does not fill a
 * segment waits for the next send (or the cork's 200 ms), as on Linux. */
static long tcp_sendto(struct file *f, struct sock *s, const uint8_t *data,
		       uint64_t len, int flags)
{
	uint8_t corked = s->tcp->cork;
	if (flags & MSG_MORE)
		s->tcp->cork = 1;
	long r = tcp_send_wait(f, s, data, len, flags);
	s->tcp->cork = corked;
	return r;
}

/* Receive up to (len) bytes into the program's (dst). */
static long tcp_recvfrom(struct file *f, struct sock *s,
			 const struct recv_dst *dst, uint64_t len, int flags)
{
	uint64_t deadline = deadline_after(s->rcvtimeo_ns), done = 0;
	/* what a blocking receive waits for: all with MSG_WAITALL, else
	 * SO_RCVLOWAT's bytes (1 unless set), as Linux's sock_rcvlowat */
	uint64_t lowat = s->rcvlowat ? (uint64_t)s->rcvlowat : 1;
	uint64_t target = (flags & MSG_WAITALL) || lowat > len ? len : lowat;
	if (s->listening)
		return -ENOTCONN;
	for (;;) {
		net_poll();
		long n = tcp_sock_recv(s, dst, done, len - done,
				       flags & MSG_PEEK);
		if (n > 0) {
			done += (uint64_t)n;
			if (done >= target || (flags & MSG_PEEK))
				return (long)done;
			continue;
		}
		if (n != -EAGAIN)
			return done ? (long)done : n;
		if ((f->flags & O_NONBLOCK) || (flags & MSG_DONTWAIT))
			return done ? (long)done : -EAGAIN;
		long w = sock_wait(deadline, s->rcvtimeo_ns);
		if (w < 0)
			return done ? (long)done : w;
	}
}

long sys_connect(int fd, uint64_t uaddr, uint64_t len)
{
	struct file *uf = unix_file(fd);
	if (uf)
		return unix_sys_connect(uf, uaddr, len);
	struct file *nf = netlink_file(fd);
	if (nf)
		return netlink_sys_connect(nf, uaddr, len);
	long r;
	struct file *f = sock_file(fd, &r);
	struct peer p;
	if (!f)
		return r;
	if ((r = get_addr(uaddr, len, &p, 1)) < 0)
		return r;
	struct sock *s = sock_of(f);
	if (s->tcp)
		return tcp_connect_wait(f, s, &p, r == 1);
	if (r == 1) { /* AF_UNSPEC: forget the peer */
		s->connected = 0;
		s->rip = 0;
		s->rport = 0;
		return 0;
	}
	if (!s->bound && (r = sock_bind_addr(s, 0, 0)) < 0)
		return r;
	s->rip = p.ip ? p.ip : 0x0100007fu; /* 0.0.0.0 means this host */
	s->rport = p.port;
	s->connected = 1;
	return 0;
}

/* An error an ICMP message left on (s) (SO_ERROR), taken: -errno, or 0. */
static long take_error(struct sock *s)
{
	int e = s->error;
	s->error = 0;
	return -e;
}

/* Whether UDP socket (s) may send to (to) (NULL: its peer): 0 or -errno
 * (a pending error is one, and is taken). */
static long udp_can_send(struct sock *s, const struct peer *to)
{
	if (s->error)
		return take_error(s);
	if (s->shut_wr)
		return -EPIPE;
	if (!to && !s->connected && !s->cork)
		return -EDESTADDRREQ;
	return 0;
}

/* UDP_SEGMENT: (len) bytes as datagrams of (gso) bytes each, the last
 * shorter, all or none, within Linux's bounds (128 of them, each fitting
 * the link). */
static int udp_send_segments(struct sock *s, uint32_t src, uint32_t dst,
			     uint16_t dport, const uint8_t *data, size_t len,
			     const struct ip_opts *o, uint16_t gso)
{
	if ((size_t)gso + 20 + 8 > ip_mtu_for(dst ? dst : LOOPBACK_ADDR) ||
	    len > (size_t)gso * UDP_SEGMENTS_MAX || s->no_check)
		return -EINVAL;
	for (size_t at = 0; at < len; at += gso) {
		int r = udp_send(s, src, dst, dport, data + at,
				 len - at < gso ? len - at : gso, o);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Send (len) bytes of (data) as one datagram, from (src) with (o) (0
 * and NULL: as the socket says): (len), or -errno. With MSG_MORE in
 * (flags), or UDP_CORK set, a UDP socket holds the data to go with
 * the next send's, in one datagram to where the first was bound; with
 * a segment size (gso), longer data goes as datagrams of that size. */
static long udp_send_peer(struct sock *s, const struct peer *to,
			  const uint8_t *data, size_t len, uint32_t src,
			  const struct ip_opts *o, int flags, uint16_t gso)
{
	net_poll();
	uint32_t dst = to ? to->ip : s->rip;
	uint16_t dport = to ? to->port : s->rport;
	int r;
	if (s->proto == IP_PROTO_ICMP) {
		r = icmp_sock_send(s, src, dst, data, len, o);
	} else if ((flags & MSG_MORE) || s->udp_cork || s->cork) {
		r = udp_append(s, src, dst, dport, data, len, o);
		if (r == 0 && !(flags & MSG_MORE) && !s->udp_cork)
			r = udp_push(s);
	} else if (gso && len > gso) {
		r = udp_send_segments(s, src, dst, dport, data, len, o, gso);
	} else {
		r = udp_send(s, src, dst, dport, data, len, o);
	}
	return r < 0 ? r : (long)len;
}

/* Wait for a datagram on (s) as the socket and (flags) say, taking it
 * into (buf, cap) (peeking with MSG_PEEK): its whole length, with its
 * sender and the rest that came with it in (*m); 0 once reading is shut
 * down; or -errno. */
static long udp_recv_wait(struct file *f, struct sock *s, uint8_t *buf,
			  size_t cap, int flags, struct udp_meta *m)
{
	uint64_t deadline = deadline_after(s->rcvtimeo_ns);
	for (;;) {
		net_poll();
		if (s->error)
			return take_error(s);
		long n = udp_recv(s, buf, cap, flags & MSG_PEEK, m);
		if (n >= 0)
			return n;
		if (s->shut_rd)
			return 0;
		if ((f->flags & O_NONBLOCK) || (flags & MSG_DONTWAIT))
			return -EAGAIN;
		long w = sock_wait(deadline, s->rcvtimeo_ns);
		if (w < 0)
			return w;
	}
}

long sock_sendto(struct file *f, uint64_t ubuf, uint64_t len, int flags,
		 const struct peer *to)
{
	uint8_t *iobuf = current->iobuf;
	struct sock *s = sock_of(f);
	if (s->tcp) {
		if (len > IOBUF)
			len = IOBUF; /* a short write, as a full buffer gives */
		if (copy_from_user(iobuf, ubuf, len) < 0)
			return -EFAULT;
		return tcp_sendto(f, s, iobuf, len, flags);
	}
	long r = udp_can_send(s, to);
	if (r < 0)
		return r;
	if (len > IOBUF)
		return -EMSGSIZE;
	if (copy_from_user(iobuf, ubuf, len) < 0)
		return -EFAULT;
	return udp_send_peer(s, to, iobuf, len, 0, NULL, flags, s->udp_segment);
}

/* The oldest error IP_RECVERR queued on (s), never waiting (EAGAIN
 * when none, as Linux's ip_recv_error): its payload as quoted into
 * (buf, cap), its destination in (*to); the bytes it has, or -errno. The
 * caller kfrees (*e). */
static long err_take(struct sock *s, struct sock_err **e, uint8_t *buf,
		     size_t cap, struct peer *to)
{
	net_poll();
	*e = s->tcp ? NULL : sock_err_take(s);
	if (!*e)
		return -EAGAIN;
	memcpy(buf, (*e)->data, (*e)->len < cap ? (*e)->len : cap);
	*to = (struct peer){(*e)->dst, (*e)->dport};
	return (*e)->len;
}

long sock_recvfrom(struct file *f, uint64_t ubuf, uint64_t len, int flags,
		   struct peer *from)
{
	uint8_t *iobuf = current->iobuf;
	struct sock *s = sock_of(f);
	struct udp_meta m;
	if (flags & MSG_ERRQUEUE) {
		struct sock_err *e;
		struct peer to;
		long n = err_take(s, &e, iobuf, IOBUF, &to);
		if (n < 0)
			return n;
		kfree(e, sock_err_size(e));
		uint64_t k = (uint64_t)n < len ? (uint64_t)n : len;
		if (copy_to_user(ubuf, iobuf, k) < 0)
			return -EFAULT;
		if (from)
			*from = to;
		return (flags & MSG_TRUNC) ? n : (long)k;
	}
	if (s->tcp) {
		/* from the ring to the program: no copy between */
		struct recv_dst dst = {.addr = ubuf};
		long n = tcp_recvfrom(f, s, &dst, len, flags);
		if (from) {
			from->ip = s->rip;
			from->port = s->rport;
		}
		return n;
	}
	long n = udp_recv_wait(f, s, iobuf, len < IOBUF ? len : IOBUF, flags,
			       &m);
	if (n <= 0)
		return n;
	uint64_t k = (uint64_t)n < len ? (uint64_t)n : len;
	if (copy_to_user(ubuf, iobuf, k) < 0)
		return -EFAULT;
	if (from)
		*from = (struct peer){m.src, m.sport};
	return (flags & MSG_TRUNC) ? n : (long)k;
}

long sys_sendto(int fd, uint64_t ubuf, uint64_t len, int flags, uint64_t uaddr,
		uint64_t alen)
{
	struct file *uf = unix_file(fd);
	if (uf)
		return unix_sys_sendto(uf, ubuf, len, flags, uaddr, alen);
	struct file *nf = netlink_file(fd);
	if (nf)
		return netlink_sys_sendto(nf, ubuf, len, flags, uaddr, alen);
	long r;
	struct file *f = sock_file(fd, &r);
	struct peer p;
	if (!f)
		return r;
	if (uaddr) {
		if ((r = get_addr(uaddr, alen, &p, 0)) < 0)
			return r;
		return sock_sendto(f, ubuf, len, flags, &p);
	}
	return sock_sendto(f, ubuf, len, flags, NULL);
}

long sys_recvfrom(int fd, uint64_t ubuf, uint64_t len, int flags,
		  uint64_t uaddr, uint64_t ualen)
{
	struct file *uf = unix_file(fd);
	if (uf)
		return unix_sys_recvfrom(uf, ubuf, len, flags, uaddr, ualen);
	struct file *nf = netlink_file(fd);
	if (nf)
		return netlink_sys_recvfrom(nf, ubuf, len, flags, uaddr, ualen);
	long r;
	struct file *f = sock_file(fd, &r);
	struct peer p;
	if (!f)
		return r;
	r = sock_recvfrom(f, ubuf, len, flags, &p);
	if (r >= 0 && uaddr) {
		long e = put_addr(uaddr, ualen, &p);
		if (e < 0)
			return e;
	}
	return r;
}

/* The start of sendmsg and recvmsg: the socket (fd), the message header
 * at (umsg) into (m) and its iovec array into (iov); (*r) the bytes the
 * array describes. NULL with (*r) the error. */
long msghdr_in(uint64_t umsg, struct msghdr_abi *m, struct iovec *iov)
{
	if (copy_from_user(m, umsg, sizeof(*m)) < 0)
		return -EFAULT;
	if (m->iovlen > UIO_MAXIOV)
		return -EMSGSIZE;
	return iov_from_user(iov, m->iov, m->iovlen,
			     0x7ffff000 /* Linux's MAX_RW_COUNT */);
}

static struct file *msg_begin(int fd, uint64_t umsg, struct msghdr_abi *m,
			      struct iovec *iov, long *r)
{
	struct file *f = sock_file(fd, r);
	if (!f)
		return NULL;
	*r = msghdr_in(umsg, m, iov);
	return *r < 0 ? NULL : f;
}

/* Linux's struct cmsghdr, and the room one with (n) bytes of data
 * takes (CMSG_SPACE). */
struct cmsghdr_abi {
	uint64_t len;
	int32_t level, type;
};
#define CMSG_ROOM(n) ((sizeof(struct cmsghdr_abi) + (n) + 7) & ~(size_t)7)
#define SCM_TIMESTAMP_NR 29
#define SCM_TIMESTAMPNS_NR 35

/* struct in_pktinfo */
struct pktinfo_abi {
	int32_t ifindex;
	uint32_t spec_dst, addr;
};

/* The control messages of a datagram sendmsg sends: IP_PKTINFO (its
 * source address into *src), IP_TOS and IP_TTL (into *o). Others at
 * the IP or socket level get EINVAL, as on Linux; other levels' are
 * not for UDP and go unread. */
static long cmsgs_in(struct sock *s, const struct msghdr_abi *m, uint32_t *src,
		     struct ip_opts *o, uint16_t *gso)
{
	static uint8_t c[1024];
	if (!m->control || !m->controllen)
		return 0;
	if (m->controllen > sizeof(c))
		return -ENOBUFS;
	if (copy_from_user(c, m->control, m->controllen) < 0)
		return -EFAULT;
	size_t next;
	for (size_t at = 0; at + sizeof(struct cmsghdr_abi) <= m->controllen;
	     at = next) {
		struct cmsghdr_abi h;
		memcpy(&h, c + at, sizeof(h));
		if (h.len < sizeof(h) || h.len > m->controllen - at)
			return -EINVAL;
		next = at + CMSG_ROOM(h.len - sizeof(h));
		const uint8_t *d = c + at + sizeof(h);
		size_t n = h.len - sizeof(h);
		int v = 0;
		if (n >= sizeof(v))
			memcpy(&v, d, sizeof(v));
		else if (n >= 1)
			v = d[0];
		if (h.level == SOL_SOCKET)
			return -EINVAL;
		if (h.level == IPPROTO_UDP_NR && h.type == UDP_SEGMENT_OPT) {
			if (n != sizeof(*gso))
				return -EINVAL;
			memcpy(gso, d, sizeof(*gso));
			continue;
		}
		if (h.level != SOL_IP_NR)
			continue;
		switch (h.type) {
		case IP_PKTINFO_OPT: {
			struct pktinfo_abi pi;
			if (n < sizeof(pi))
				return -EINVAL;
			memcpy(&pi, d, sizeof(pi));
			if (pi.spec_dst && !ip_is_local(pi.spec_dst) &&
			    !s->freebind)
				return -EINVAL;
			*src = pi.spec_dst;
			break;
		}
		case IP_TOS_OPT:
			if (n < 1)
				return -EINVAL;
			o->tos = (uint8_t)v;
			break;
		case IP_TTL_OPT:
			if (n < sizeof(v) || v < 1 || v > 255)
				return -EINVAL;
			o->ttl = (uint8_t)v;
			break;
		default:
			return -EINVAL;
		}
	}
	return 0;
}

/* One control message for recvmsg's buffer at (m): as much as fits, and
 * MSG_CTRUNC in (*mflags) if not all (Linux's put_cmsg). (*used) grows
 * by the room it took. */
static long cmsg_put(const struct msghdr_abi *m, uint64_t *used,
		     int32_t *mflags, int level, int type, const void *data,
		     size_t n)
{
	uint64_t room = m->controllen - *used;
	struct cmsghdr_abi h = {sizeof(h) + n, level, type};
	if (room < sizeof(h)) {
		*mflags |= MSG_CTRUNC_NR;
		return 0;
	}
	if (room < h.len) {
		*mflags |= MSG_CTRUNC_NR;
		h.len = room;
	}
	if (copy_to_user(m->control + *used, &h, sizeof(h)) < 0 ||
	    copy_to_user(m->control + *used + sizeof(h), data,
			 (size_t)h.len - sizeof(h)) < 0)
		return -EFAULT;
	uint64_t took = CMSG_ROOM(n);
	*used += took < room ? took : room;
	return 0;
}

/* The control messages a datagram's receiver asked for, in Linux's
 * order: its time, then IP_PKTINFO, IP_TTL, IP_TOS, IP_ORIGDSTADDR.
 * (m->controllen) becomes the bytes written. */
static long cmsgs_out(const struct sock *s, const struct udp_meta *meta,
		      struct msghdr_abi *m, int32_t *mflags)
{
	uint64_t used = 0;
	long r = 0;
	if (!m->control)
		m->controllen = 0;
	if (s->timestamp) {
		/* a timeval (SO_TIMESTAMP) or a timespec (SO_TIMESTAMPNS) */
		int us = s->timestamp == 1;
		int64_t t[2] = {
			(int64_t)(meta->stamp / 1000000000),
			(int64_t)(meta->stamp % 1000000000 / (us ? 1000 : 1))};
		r = cmsg_put(m, &used, mflags, SOL_SOCKET,
			     us ? SCM_TIMESTAMP_NR : SCM_TIMESTAMPNS_NR, t,
			     sizeof(t));
	}
	if (r == 0 && s->recv_pktinfo) {
		/* the local address: the one it was sent to, or for a
		 * broadcast the interface's */
		int local = ip_is_local(meta->dst);
		struct pktinfo_abi pi = {meta->ifindex,
					 local ? meta->dst
					       : ip_source_for(meta->src),
					 meta->dst};
		r = cmsg_put(m, &used, mflags, SOL_IP_NR, IP_PKTINFO_OPT, &pi,
			     sizeof(pi));
	}
	if (r == 0 && s->recv_ttl) {
		int ttl = meta->ttl;
		r = cmsg_put(m, &used, mflags, SOL_IP_NR, IP_TTL_OPT, &ttl,
			     sizeof(ttl));
	}
	if (r == 0 && s->recv_tos)
		r = cmsg_put(m, &used, mflags, SOL_IP_NR, IP_TOS_OPT,
			     &meta->tos, 1);
	if (r == 0 && s->recv_origdst) {
		/* where it was sent: the address, and the socket's port */
		struct sockaddr_in_abi a = {AF_INET, s->lport, meta->dst, {0}};
		r = cmsg_put(m, &used, mflags, SOL_IP_NR,
			     IP_RECVORIGDSTADDR_OPT, &a, sizeof(a));
	}
	m->controllen = used;
	return r;
}

/* (p) as the message's name, if it asked for one: as much as its room
 * holds, and the whole size in namelen. 0 or -EFAULT. */
static int msg_name_put(struct msghdr_abi *m, const struct peer *p)
{
	if (!m->name)
		return 0;
	struct sockaddr_in_abi a = {AF_INET, p->port, p->ip, {0}};
	int32_t room = m->namelen < 0 ? 0 : m->namelen;
	if (copy_to_user(m->name, &a,
			 (size_t)(room < (int32_t)sizeof(a)
					  ? room
					  : (int32_t)sizeof(a))) < 0)
		return -EFAULT;
	m->namelen = sizeof(a);
	return 0;
}

/* Linux's struct sock_extended_err, then the ICMP's sender
 * (SO_EE_OFFENDER): IP_RECVERR's control message. */
struct ip_recverr_abi {
	uint32_t ee_errno;
	uint8_t ee_origin, ee_type, ee_code, ee_pad;
	uint32_t ee_info, ee_data;
	struct sockaddr_in_abi offender;
};
#define SO_EE_ORIGIN_ICMP 2

/* recvmsg(MSG_ERRQUEUE) on (s): the oldest queued error (err_take), its
 * payload into the program's buffers, the datagram's destination as the
 * name, an IP_RECVERR control message, MSG_ERRQUEUE in the flags. */
static long recv_error(struct sock *s, uint64_t umsg, struct msghdr_abi *m,
		       const struct iovec *iov, long total, int flags)
{
	uint8_t *iobuf = current->iobuf;
	struct sock_err *e;
	struct peer to;
	long n = err_take(s, &e, iobuf, IOBUF, &to);
	if (n < 0)
		return n;
	struct ip_recverr_abi x = {
		.ee_errno = (uint32_t)e->err,
		.ee_origin = SO_EE_ORIGIN_ICMP,
		.ee_type = e->type,
		.ee_code = e->code,
		.ee_info = e->info,
		.offender = {AF_INET, 0, e->offender, {0}},
	};
	kfree(e, sock_err_size(e));
	int32_t mflags = MSG_ERRQUEUE | (n > total ? MSG_TRUNC : 0);
	uint64_t used = 0;
	if (iov_scatter(iov, m->iovlen, iobuf, (uint64_t)n) < 0)
		return -EFAULT;
	if (msg_name_put(m, &to) < 0)
		return -EFAULT;
	if (!m->control)
		m->controllen = 0;
	if (cmsg_put(m, &used, &mflags, SOL_IP_NR, IP_RECVERR_OPT, &x,
		     sizeof(x)) < 0)
		return -EFAULT;
	m->controllen = used;
	m->flags = mflags;
	if (copy_to_user(umsg, m, sizeof(*m)) < 0)
		return -EFAULT;
	return (flags & MSG_TRUNC) || n < total ? n : total;
}

long sys_sendmsg(int fd, uint64_t umsg, int flags)
{
	struct file *uf = unix_file(fd);
	if (uf)
		return unix_sys_sendmsg(uf, umsg, flags);
	struct file *nf = netlink_file(fd);
	if (nf)
		return netlink_sys_sendmsg(nf, umsg, flags);
	struct iovec iov[UIO_MAXIOV];
	uint8_t *iobuf = current->iobuf;
	struct msghdr_abi m;
	long r, total;
	struct file *f = msg_begin(fd, umsg, &m, iov, &total);
	if (!f)
		return total;
	if (total > IOBUF)
		return -EMSGSIZE;
	if (iov_gather(iobuf, iov, m.iovlen) < 0)
		return -EFAULT;
	struct peer p, *to = NULL;
	if (m.name) {
		if ((r = get_addr(m.name, (uint64_t)m.namelen, &p, 0)) < 0)
			return r;
		to = &p;
	}
	struct sock *s = sock_of(f);
	if (s->tcp)
		return tcp_sendto(f, s, iobuf, (uint64_t)total, flags);
	uint32_t src = 0;
	uint16_t gso = s->udp_segment;
	struct ip_opts o = s->ip;
	if ((r = cmsgs_in(s, &m, &src, &o, &gso)) < 0 ||
	    (r = udp_can_send(s, to)) < 0)
		return r;
	return udp_send_peer(s, to, iobuf, (size_t)total, src, &o, flags, gso);
}

long sys_recvmsg(int fd, uint64_t umsg, int flags)
{
	struct file *uf = unix_file(fd);
	if (uf)
		return unix_sys_recvmsg(uf, umsg, flags);
	struct file *nf = netlink_file(fd);
	if (nf)
		return netlink_sys_recvmsg(nf, umsg, flags);
	struct iovec iov[UIO_MAXIOV];
	uint8_t *iobuf = current->iobuf;
	struct msghdr_abi m;
	long total;
	struct file *f = msg_begin(fd, umsg, &m, iov, &total);
	if (!f)
		return total;
	struct sock *s = sock_of(f);
	struct udp_meta meta = {.src = s->rip, .sport = s->rport};
	long n;
	if (flags & MSG_ERRQUEUE)
		return recv_error(s, umsg, &m, iov, total, flags);
	if (s->tcp) {
		/* from the ring into the pieces */
		struct recv_dst dst = {.iov = iov, .niov = m.iovlen};
		n = tcp_recvfrom(f, s, &dst, (uint64_t)total, flags);
		flags &= ~MSG_TRUNC;
	} else {
		n = udp_recv_wait(f, s, iobuf, IOBUF, flags, &meta);
	}
	if (n < 0)
		return n;
	struct peer p = {meta.src, meta.sport};
	if (!s->tcp && iov_scatter(iov, m.iovlen, iobuf, (uint64_t)n) < 0)
		return -EFAULT;
	int32_t mflags = (uint64_t)n > (uint64_t)total ? MSG_TRUNC : 0;
	if (msg_name_put(&m, &p) < 0)
		return -EFAULT;
	if (s->tcp) {
		/* TCP_INQ: what is left to read (TCP_CM_INQ) */
		uint64_t used = 0;
		int left = (int)s->tcp->rcv.len;
		if (!m.control)
			m.controllen = 0;
		if (s->tcp_inq &&
		    cmsg_put(&m, &used, &mflags, IPPROTO_TCP_NR, TCP_INQ_OPT,
			     &left, sizeof(left)) < 0)
			return -EFAULT;
		m.controllen = used;
	} else if (cmsgs_out(s, &meta, &m, &mflags) < 0) {
		return -EFAULT;
	}
	m.flags = mflags;
	if (copy_to_user(umsg, &m, sizeof(m)) < 0)
		return -EFAULT;
	return (flags & MSG_TRUNC) || n < total ? n : total;
}

/* Linux's struct mmsghdr: a message and the bytes it moved. */
struct mmsghdr_abi {
	struct msghdr_abi hdr;
	uint32_t len;
	uint32_t pad;
};

#define MSG_WAITFORONE 0x10000

/* The length of message (i) of (uvec) done: 0, or -EFAULT. */
static long mmsg_done(uint64_t uvec, unsigned i, long len)
{
	uint32_t n = (uint32_t)len;
	uint64_t at = uvec + i * sizeof(struct mmsghdr_abi) +
		      offsetof(struct mmsghdr_abi, len);
	return copy_to_user(at, &n, sizeof(n)) < 0 ? -EFAULT : 0;
}

/* sendmmsg: each message as sendmsg would send it; how many went, or
 * the first one's error. */
long sys_sendmmsg(int fd, uint64_t uvec, unsigned vlen, int flags)
{
	unsigned i;
	if (vlen > UIO_MAXIOV)
		vlen = UIO_MAXIOV;
	for (i = 0; i < vlen; i++) {
		long r = sys_sendmsg(fd, uvec + i * sizeof(struct mmsghdr_abi),
				     flags);
		if (r >= 0)
			r = mmsg_done(uvec, i, r);
		if (r < 0)
			return i ? (long)i : r;
	}
	return (long)i;
}

/* recvmmsg: messages as recvmsg takes them, until (vlen), one would
 * wait after the first (MSG_WAITFORONE), or the time at (utimeout) has
 * passed once a message came (Linux looks only then); what is left of
 * that time is written back. */
long sys_recvmmsg(int fd, uint64_t uvec, unsigned vlen, int flags,
		  uint64_t utimeout)
{
	uint64_t wait, deadline = UINT64_MAX;
	unsigned i;
	long r0 = timespec_from_user(utimeout, &wait);
	if (r0 < 0)
		return r0;
	if (utimeout) /* (saturated: no overflow) */
		deadline = clock_monotonic_ns() + wait;
	if (vlen > UIO_MAXIOV)
		vlen = UIO_MAXIOV;
	for (i = 0; i < vlen; i++) {
		long r = sys_recvmsg(fd, uvec + i * sizeof(struct mmsghdr_abi),
				     flags & ~MSG_WAITFORONE);
		if (r >= 0)
			r = mmsg_done(uvec, i, r);
		if (r < 0) {
			if (!i)
				return r;
			break;
		}
		if (flags & MSG_WAITFORONE)
			flags |= MSG_DONTWAIT;
		if (clock_monotonic_ns() >= deadline) {
			i++;
			break;
		}
	}
	if (utimeout) {
		uint64_t now = clock_monotonic_ns();
		uint64_t left = now < deadline ? deadline - now : 0;
		int64_t ts[2] = {(int64_t)(left / 1000000000),
				 (int64_t)(left % 1000000000)};
		if (copy_to_user(utimeout, ts, sizeof(ts)) < 0)
			return -EFAULT;
	}
	return (long)i;
}

long sys_listen(int fd, int backlog)
{
	struct file *uf = unix_file(fd);
	if (uf)
		return unix_listen(uf, backlog);
	if (netlink_file(fd))
		return -EOPNOTSUPP;
	long r;
	struct file *f = sock_file(fd, &r);
	if (!f)
		return r;
	struct sock *s = sock_of(f);
	if (!s->tcp)
		return -EOPNOTSUPP;
	return tcp_sock_listen(s, backlog);
}

long sys_accept4(int fd, uint64_t uaddr, uint64_t ulen, int flags)
{
	if (netlink_file(fd))
		return -EOPNOTSUPP;
	struct file *uf = unix_file(fd);
	if (uf && (flags & ~(SOCK_NONBLOCK_FLAG | SOCK_CLOEXEC_FLAG)))
		return -EINVAL;
	if (uf)
		return unix_sys_accept(uf, uaddr, ulen,
				       (flags & SOCK_NONBLOCK_FLAG) ? O_NONBLOCK
								    : 0,
				       flags & SOCK_CLOEXEC_FLAG);
	long r;
	struct file *f = sock_file(fd, &r);
	if (!f)
		return r;
	struct sock *s = sock_of(f);
	if (flags & ~(SOCK_NONBLOCK_FLAG | SOCK_CLOEXEC_FLAG))
		return -EINVAL;
	if (!s->tcp)
		return -EOPNOTSUPP;
	if (!s->listening)
		return -EINVAL;
	uint64_t deadline = deadline_after(s->rcvtimeo_ns);
	for (;;) {
		net_poll();
		struct sock *c = tcp_sock_accept(s);
		if (c) {
			struct file *cf =
				sock_file_for(c, flags & SOCK_NONBLOCK_FLAG);
			if (!cf) {
				tcp_abort(c->tcp);
				sock_free(c);
				return -ENOMEM;
			}
			int cfd = fd_install(cf, 0, flags & SOCK_CLOEXEC_FLAG);
			if (cfd < 0) {
				file_put(cf);
				return cfd;
			}
			struct peer p = {c->rip, c->rport};
			if ((r = put_addr(uaddr, ulen, &p)) < 0)
				return r;
			return cfd;
		}
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		if ((r = sock_wait(deadline, s->rcvtimeo_ns)) < 0)
			return r;
	}
}

long sys_accept(int fd, uint64_t uaddr, uint64_t ulen)
{
	return sys_accept4(fd, uaddr, ulen, 0);
}

long sys_getsockname(int fd, uint64_t uaddr, uint64_t ulen)
{
	struct file *uf = unix_file(fd);
	if (uf)
		return unix_sys_name(uf, uaddr, ulen, 0);
	struct file *nf = netlink_file(fd);
	if (nf)
		return netlink_sys_name(nf, uaddr, ulen, 0);
	long r;
	struct file *f = sock_file(fd, &r);
	if (!f)
		return r;
	struct sock *s = sock_of(f);
	struct peer p = {s->lip, s->lport};
	if (s->connected && !p.ip)
		p.ip = ip_source_for(s->rip);
	return put_addr(uaddr, ulen, &p);
}

long sys_getpeername(int fd, uint64_t uaddr, uint64_t ulen)
{
	struct file *uf = unix_file(fd);
	if (uf)
		return unix_sys_name(uf, uaddr, ulen, 1);
	struct file *nf = netlink_file(fd);
	if (nf)
		return netlink_sys_name(nf, uaddr, ulen, 1);
	long r;
	struct file *f = sock_file(fd, &r);
	if (!f)
		return r;
	struct sock *s = sock_of(f);
	if (!s->connected)
		return -ENOTCONN;
	struct peer p = {s->rip, s->rport};
	return put_addr(uaddr, ulen, &p);
}

long sys_shutdown(int fd, int how)
{
	if (netlink_file(fd))
		return -EOPNOTSUPP; /* as Linux: netlink has no shutdown */
	struct file *uf = unix_file(fd);
	if (uf && (how < SHUT_RD || how > SHUT_RDWR))
		return -EINVAL;
	if (uf)
		return unix_shutdown(uf, how);
	long r;
	struct file *f = sock_file(fd, &r);
	if (!f)
		return r;
	struct sock *s = sock_of(f);
	if (how < SHUT_RD || how > SHUT_RDWR)
		return -EINVAL;
	if (s->tcp)
		return tcp_sock_shutdown(s, how);
	if (!s->connected)
		return -ENOTCONN;
	if (how != SHUT_WR)
		s->shut_rd = 1;
	if (how != SHUT_RD)
		s->shut_wr = 1;
	sock_changed(s);
	return 0;
}

/* (s)'s keepalive turned on (on) or off, or its times changed: its
 * timer follows. */
static void keepalive_set(struct sock *s, int on)
{
	tcp_keepalive_set(s->tcp, on, clock_monotonic_ns());
	tcp_sock_touch(s);
}

/* setsockopt at SOL_IP: an int, or as Linux takes it a single byte. */
/* An int option's value from the program: 0, -EINVAL (too short),
 * -EFAULT. */
static long int_in(uint64_t uval, uint64_t len, int *v)
{
	if (len < sizeof(*v))
		return -EINVAL;
	return copy_from_user(v, uval, sizeof(*v)) < 0 ? -EFAULT : 0;
}

/* SOL_UDP: UDP_CORK (see udp_send_peer), UDP_SEGMENT (the size
 * sends are cut to), UDP_GRO (asks for received datagrams joined: none
 * are, as on a device without GRO, and a program must take them one by
 * one then). */
static long udp_setsockopt(struct sock *s, int name, uint64_t uval,
			   uint64_t len)
{
	int v;
	long got = int_in(uval, len, &v);
	if (got < 0)
		return got;
	switch (name) {
	case UDP_CORK_OPT:
		s->udp_cork = !!v;
		if (!v && s->cork)
			udp_push(s); /* as Linux, its error is not told */
		return 0;
	case UDP_SEGMENT_OPT:
		if (v < 0 || v > 0xffff)
			return -EINVAL;
		s->udp_segment = (uint16_t)v;
		return 0;
	case UDP_GRO_OPT:
		s->udp_gro = !!v;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

/* SO_BINDTODEVICE: hear only what comes in on that interface (lo or
 * eth0); an empty name unbinds. 0, -ENODEV, -EFAULT. */
static long bind_to_device(struct sock *s, uint64_t uval, uint64_t len)
{
	char name[IFNAMSIZ_NR] = {0};
	uint64_t n = len < sizeof(name) - 1 ? len : sizeof(name) - 1;
	if (copy_from_user(name, uval, n) < 0)
		return -EFAULT;
	int index = name[0] ? if_index(name) : 0;
	if (name[0] && !index)
		return -ENODEV;
	s->bound_if = index;
	return 0;
}

/* The options a socket only records (sock->extra), by name. */
static const int extra_names[SOCK_EXTRA] = {SO_DEBUG_NR, SO_PRIORITY_NR,
					    SO_MARK_NR, SO_BUSY_POLL_NR,
					    SO_INCOMING_CPU_NR};

static int *extra_of(struct sock *s, int name)
{
	for (int i = 0; i < SOCK_EXTRA; i++)
		if (extra_names[i] == name)
			return &s->extra[i];
	return NULL; /* not one of them: callers pass only those */
}

static void sock_extra_set(struct sock *s, int name, int v)
{
	*extra_of(s, name) = v;
}

static int sock_extra_get(struct sock *s, int name)
{
	return *extra_of(s, name);
}

/* TCP_CONGESTION: only NewReno's "reno" is here; any other name is
 * ENOENT, as Linux says of a module it does not have. */
static long congestion_set(uint64_t uval, uint64_t len)
{
	char name[TCP_CA_NAME_MAX] = {0};
	uint64_t n = len < sizeof(name) - 1 ? len : sizeof(name) - 1;
	if (copy_from_user(name, uval, n) < 0)
		return -EFAULT;
	return strcmp(name, TCP_CA_NAME) == 0 ? 0 : -ENOENT;
}

/* SOL_RAW: ICMP_FILTER, the ICMP types a raw ICMP socket does not
 * want (a bit each, up to 31), as Linux's raw_seticmpfilter. */
static long icmp_filter_set(struct sock *s, int name, uint64_t uval,
			    uint64_t len)
{
	if (s->proto != IP_PROTO_ICMP || s->type != SOCK_RAW)
		return -EOPNOTSUPP;
	if (name != ICMP_FILTER_OPT)
		return -ENOPROTOOPT;
	uint32_t v = 0;
	if (copy_from_user(&v, uval, len < sizeof(v) ? len : sizeof(v)) < 0)
		return -EFAULT;
	s->icmp_filter = v;
	return 0;
}

/* The interface of a multicast option: by index (ifindex), or by its
 * address (addr), or the route's (eth0 with an address) if neither; 1
 * or 2, or -ENODEV. */
static int mc_iface(uint32_t addr, int ifindex)
{
	if (ifindex)
		return if_name(ifindex) ? ifindex : -ENODEV;
	if (addr)
		return (addr & 0xff) == 0x7f		      ? 1
		       : netif.configured && addr == netif.ip ? 2
							      : -ENODEV;
	return netif.configured ? 2 : -ENODEV;
}

/* IP_ADD_MEMBERSHIP and IP_DROP_MEMBERSHIP (struct ip_mreq, or
 * ip_mreqn with an interface index), IP_MULTICAST_IF (an address, or
 * either struct), as Linux takes them. */
static long mc_setsockopt(struct sock *s, int name, uint64_t uval, uint64_t len)
{
	uint32_t m[3] = {0}; /* group, interface address, index */
	if (len < (name == IP_MULTICAST_IF_OPT ? 4u : 8u))
		return -EINVAL;
	if (copy_from_user(m, uval, len < sizeof(m) ? len : sizeof(m)) < 0)
		return -EFAULT;
	if (name == IP_MULTICAST_IF_OPT) {
		/* an address alone, or a struct whose second word is it */
		uint32_t addr = len >= 8 ? m[1] : m[0];
		int index = len >= 12 ? (int)m[2] : 0;
		if (!addr && !index) {
			s->mc_if = 0;
			return 0;
		}
		int i = mc_iface(addr, index);
		if (i < 0)
			return addr ? -EADDRNOTAVAIL : i;
		s->mc_if = i;
		return 0;
	}
	uint32_t group = m[0];
	if (!IP_MULTICAST(group))
		return -EINVAL;
	int i = mc_iface(m[1], len >= 12 ? (int)m[2] : 0), k;
	if (i < 0)
		return i;
	for (k = 0; k < s->nmc; k++)
		if (s->mc_group[k] == group && s->mc_ifindex[k] == i)
			break;
	if (name == IP_DROP_MEMBERSHIP_OPT) {
		if (k == s->nmc)
			return -EADDRNOTAVAIL;
		ip_mc_leave(group, i);
		s->nmc--;
		s->mc_group[k] = s->mc_group[s->nmc];
		s->mc_ifindex[k] = s->mc_ifindex[s->nmc];
		return 0;
	}
	if (k < s->nmc)
		return -EADDRINUSE;
	if (s->nmc == SOCK_MC_MAX)
		return -ENOBUFS;
	long r = ip_mc_join(group, i);
	if (r < 0)
		return r;
	s->mc_group[s->nmc] = group;
	s->mc_ifindex[s->nmc++] = (uint8_t)i;
	return 0;
}

static long ip_setsockopt(struct sock *s, int name, uint64_t uval, uint64_t len)
{
	if (name == IP_ADD_MEMBERSHIP_OPT || name == IP_DROP_MEMBERSHIP_OPT ||
	    name == IP_MULTICAST_IF_OPT)
		return mc_setsockopt(s, name, uval, len);
	int v = 0;
	if (len >= sizeof(v)) {
		if (copy_from_user(&v, uval, sizeof(v)) < 0)
			return -EFAULT;
	} else if (len >= 1) {
		uint8_t b;
		if (copy_from_user(&b, uval, 1) < 0)
			return -EFAULT;
		v = b;
	}
	switch (name) {
	case IP_TOS_OPT:
		/* a stream's ECN bits are TCP's to set (Linux keeps them) */
		s->ip.tos = (uint8_t)(s->tcp ? v & ~3 : v);
		return 0;
	case IP_TTL_OPT:
		if (v < -1 || v == 0 || v > 255)
			return -EINVAL;
		s->ip.ttl = (uint8_t)(v < 0 ? 0 : v); /* -1: the default */
		return 0;
	case IP_MTU_DISCOVER_OPT:
		if (v < IP_PMTUDISC_DONT_NR || v > IP_PMTUDISC_OMIT_NR)
			return -EINVAL;
		s->pmtudisc = v;
		s->ip.may_fragment = v == IP_PMTUDISC_DONT_NR;
		return 0;
	case IP_RECVERR_OPT:
		s->recverr = !!v;
		if (!v)
			sock_err_clear(
				s); /* off: the queue goes, as on Linux */
		return 0;
	case IP_PKTINFO_OPT:
		s->recv_pktinfo = !!v;
		return 0;
	case IP_RECVTTL_OPT:
		s->recv_ttl = !!v;
		return 0;
	case IP_RECVTOS_OPT:
		s->recv_tos = !!v;
		return 0;
	case IP_RECVORIGDSTADDR_OPT:
		s->recv_origdst = !!v;
		return 0;
	case IP_MULTICAST_TTL_OPT:
		if (len < 1)
			return -EINVAL;
		if (len >= sizeof(int) && v == -1)
			v = 1; /* Linux: the default */
		if (v < 0 || v > 255)
			return -EINVAL;
		s->mc_ttl = (uint8_t)v;
		return 0;
	case IP_MULTICAST_LOOP_OPT:
		if (len < 1)
			return -EINVAL;
		s->mc_loop = !!v;
		return 0;
	case IP_MULTICAST_ALL_OPT:
		if (len < 1)
			return -EINVAL;
		s->mc_all = !!v;
		return 0;
	case IP_MINTTL_OPT:
		/* the Generalized TTL Security Mechanism (RFC 5082): TCP
		 * takes no segment that came from further away */
		if (v < 0 || v > 255)
			return -EINVAL;
		s->min_ttl = (uint8_t)v;
		return 0;
	case IP_FREEBIND_OPT:
		s->freebind = !!v;
		return 0;
	case IP_BIND_ADDRESS_NO_PORT_OPT:
		s->bind_no_port = !!v;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

static long ip_getsockopt(struct sock *s, int name, uint64_t uval,
			  uint64_t ulen, int32_t room)
{
	int v;
	switch (name) {
	case IP_TOS_OPT:
		v = s->ip.tos;
		break;
	case IP_TTL_OPT:
		v = s->ip.ttl ? s->ip.ttl : 64;
		break;
	case IP_MTU_DISCOVER_OPT:
		v = s->pmtudisc;
		break;
	case IP_RECVERR_OPT:
		v = s->recverr;
		break;
	case IP_PKTINFO_OPT:
		v = s->recv_pktinfo;
		break;
	case IP_RECVTTL_OPT:
		v = s->recv_ttl;
		break;
	case IP_RECVTOS_OPT:
		v = s->recv_tos;
		break;
	case IP_RECVORIGDSTADDR_OPT:
		v = s->recv_origdst;
		break;
	case IP_MINTTL_OPT:
		v = s->min_ttl;
		break;
	case IP_MULTICAST_TTL_OPT:
		v = s->mc_ttl;
		break;
	case IP_MULTICAST_LOOP_OPT:
		v = s->mc_loop;
		break;
	case IP_MULTICAST_ALL_OPT:
		v = s->mc_all;
		break;
	case IP_MULTICAST_IF_OPT: {
		uint32_t a = s->mc_if == 1   ? LOOPBACK_ADDR
			     : s->mc_if == 2 ? netif.ip
					     : 0;
		return sockopt_out(uval, ulen, room, &a, sizeof(a));
	}
	case IP_FREEBIND_OPT:
		v = s->freebind;
		break;
	case IP_BIND_ADDRESS_NO_PORT_OPT:
		v = s->bind_no_port;
		break;
	case IP_MTU_OPT:
		if (!s->connected)
			return -ENOTCONN;
		v = (int)ip_mtu_for(s->rip);
		break;
	default:
		return -ENOPROTOOPT;
	}
	return sockopt_out(uval, ulen, room, &v, sizeof(v));
}

long sys_setsockopt(int fd, int level, int name, uint64_t uval, uint64_t len)
{
	struct file *uf = unix_file(fd);
	if (uf)
		return unix_sys_setsockopt(uf, level, name, len);
	struct file *nf = netlink_file(fd);
	if (nf)
		return netlink_sys_setsockopt(nf, level, name, uval, len);
	long r;
	struct file *f = sock_file(fd, &r);
	if (!f)
		return r;
	struct sock *s = sock_of(f);
	if (level == IPPROTO_TCP_NR) {
		int v;
		if (!s->tcp)
			return -EOPNOTSUPP;
		if (name == TCP_CONGESTION_OPT)
			return congestion_set(uval, len);
		long got = int_in(uval, len, &v);
		if (got < 0)
			return got;
		switch (name) {
		case TCP_NODELAY_OPT:
			s->tcp->nodelay = !!v;
			if (v) {
				tcp_push(s->tcp, clock_monotonic_ns());
				tcp_sock_touch(s);
			}
			return 0;
		case TCP_CORK_OPT:
			tcp_cork_set(s->tcp, v, clock_monotonic_ns());
			tcp_sock_touch(s);
			return 0;
		case TCP_MAXSEG_OPT:
			/* Linux's bounds; it counts before the handshake */
			if (v && (v < 88 || v > 32767))
				return -EINVAL;
			s->maxseg = (uint16_t)v;
			return 0;
		case TCP_SYNCNT_OPT:
			if (v < 1 || v > 127)
				return -EINVAL;
			s->tcp->syn_retries = v;
			return 0;
		case TCP_DEFER_ACCEPT_OPT:
			/* seconds, for a listener's connections to show data
			 * before they are offered */
			s->defer_ns = v > 0 ? (uint64_t)v * 1000000000ULL : 0;
			return 0;
		case TCP_QUICKACK_OPT:
			/* ACKs are not held for long here: one that is goes
			 * at the next pass */
			s->quickack_off = !v;
			if (v && s->tcp->delack_at) {
				s->tcp->delack_at = 1;
				tcp_sock_touch(s);
			}
			return 0;
		case TCP_USER_TIMEOUT_OPT:
			if (v < 0)
				return -EINVAL;
			s->tcp->user_timeout = (uint64_t)v * 1000000ULL;
			return 0;
		case TCP_FASTOPEN_OPT:
			/* the queue a listener would keep for data-bearing
			 * SYNs; as on Linux when net.ipv4.tcp_fastopen does
			 * not enable the server side, the handshake stays
			 * the usual one */
			if (v < 0 ||
			    (s->tcp->state != TCP_CLOSED &&
			     s->tcp->state != TCP_LISTEN && !s->listening))
				return -EINVAL;
			s->fastopen_qlen = v;
			return 0;
		case TCP_LINGER2_OPT:
			/* an orphan's FIN_WAIT_2: none if negative, the
			 * default if 0 or beyond Linux's most */
			s->tcp->linger2 = v < 0 ? UINT64_MAX
					  : (uint64_t)v * 1000000000ULL >
							  TCP_FIN_TIMEOUT_MAX
						  ? TCP_FIN_TIMEOUT_MAX
						  : (uint64_t)v * 1000000000ULL;
			return 0;
		case TCP_INQ_OPT:
			if (v < 0 || v > 1)
				return -EINVAL;
			s->tcp_inq = v;
			return 0;
		case TCP_NOTSENT_LOWAT_OPT:
			s->notsent_lowat = (uint32_t)v;
			tcp_sock_touch(s); /* writers look again */
			return 0;
		case TCP_FASTOPEN_CONNECT_OPT:
			/* recorded; connect does the usual handshake, which
			 * a program asking for this has to be ready for */
			if (v < 0 || v > 1)
				return -EINVAL;
			if (s->tcp->state != TCP_CLOSED)
				return -EINVAL;
			s->fastopen_connect = v;
			return 0;
		case TCP_KEEPIDLE_OPT:
		case TCP_KEEPINTVL_OPT:
			if (v < 1 || v > 32767)
				return -EINVAL;
			if (name == TCP_KEEPIDLE_OPT)
				s->tcp->keep_idle = (uint64_t)v * 1000000000ULL;
			else
				s->tcp->keep_intvl =
					(uint64_t)v * 1000000000ULL;
			keepalive_set(s, s->tcp->keepalive);
			return 0;
		case TCP_KEEPCNT_OPT:
			if (v < 1 || v > 127)
				return -EINVAL;
			s->tcp->keep_cnt = v;
			keepalive_set(s, s->tcp->keepalive);
			return 0;
		default:
			return -ENOPROTOOPT;
		}
	}
	if (level == SOL_IP_NR)
		return ip_setsockopt(s, name, uval, len);
	if (level == SOL_RAW_NR)
		return icmp_filter_set(s, name, uval, len);
	if (level == IPPROTO_UDP_NR && s->proto == IP_PROTO_UDP)
		return udp_setsockopt(s, name, uval, len);
	if (level != SOL_SOCKET)
		return -ENOPROTOOPT;
	if (name == SO_LINGER) {
		int l[2];
		if (len < sizeof(l))
			return -EINVAL;
		if (copy_from_user(l, uval, sizeof(l)) < 0)
			return -EFAULT;
		s->linger_on = !!l[0];
		s->linger_sec = l[1] < 0 ? 0 : l[1];
		return 0;
	}
	if (name == SO_RCVTIMEO || name == SO_SNDTIMEO) {
		uint64_t ns;
		if ((r = sockopt_timeout_in(uval, len, &ns)) < 0)
			return r;
		if (name == SO_RCVTIMEO)
			s->rcvtimeo_ns = ns;
		else
			s->sndtimeo_ns = ns;
		return 0;
	}
	if (name == SO_BINDTODEVICE_NR)
		return bind_to_device(s, uval, len);
	int v;
	long got = int_in(uval, len, &v);
	if (got < 0)
		return got;
	switch (name) {
	case SO_REUSEADDR:
		s->reuseaddr = !!v;
		return 0;
	case SO_REUSEPORT:
		s->reuseport = !!v;
		return 0;
	case SCM_TIMESTAMP_NR: /* SO_TIMESTAMP */
		s->timestamp = v ? 1 : 0;
		return 0;
	case SCM_TIMESTAMPNS_NR: /* SO_TIMESTAMPNS */
		s->timestamp = v ? 2 : 0;
		return 0;
	case SO_BROADCAST:
		s->broadcast = !!v;
		return 0;
	case SO_KEEPALIVE:
		s->keepalive = !!v;
		if (s->tcp)
			keepalive_set(s, !!v);
		return 0;
	case SO_RCVLOWAT_NR: {
		/* TCP's receives wait for this much (poll too); Linux's
		 * bounds: 0 is 1, and at most half what the receive buffer
		 * may hold, lest it wait for more than can come */
		uint64_t cap = s->rcvbuf_set
				       ? s->rcvbuf / 2
				       : TCP_RING_PAGES_MAX * PAGE_SIZE / 2;
		uint64_t want = v < 0 ? INT32_MAX : v ? (uint64_t)v : 1;
		s->rcvlowat = (int)(want < cap ? want : cap);
		return 0;
	}
	case SO_OOBINLINE_NR:
		/* urgent data is not told apart here: it stays in line,
		 * as this asks */
		s->oobinline = !!v;
		return 0;
	case SO_NO_CHECK_NR:
		/* UDP sends without a checksum (0, which IPv4 allows) */
		s->no_check = !!v;
		return 0;
	case SO_BINDTOIFINDEX_NR:
		if (v < 0)
			return -EINVAL;
		if (v && !if_name(v))
			return -ENODEV;
		s->bound_if = v;
		return 0;
	case SO_DEBUG_NR:
	case SO_PRIORITY_NR:
	case SO_MARK_NR:
	case SO_BUSY_POLL_NR:
	case SO_INCOMING_CPU_NR:
		/* recorded: with one queue, no netfilter or policy routing,
		 * one CPU and a stack that polls anyway, nothing here acts
		 * on them (the program is root, as these ask) */
		sock_extra_set(s, name, v);
		return 0;
	case SO_RCVBUF:
	case SO_SNDBUF:
	case SO_RCVBUFFORCE_NR:
	case SO_SNDBUFFORCE_NR: {
		/* as Linux: doubled, with a floor (the FORCE ones are
		 * root's, beyond the limit this does not have) */
		uint64_t b = v < 1152 ? 2304 : 2 * (uint64_t)v;
		if (name == SO_RCVBUF || name == SO_RCVBUFFORCE_NR) {
			s->rcvbuf = b;
			s->rcvbuf_set = 1;
		} else {
			s->sndbuf = b;
			s->sndbuf_set = 1;
		}
		return 0;
	}
	default:
		return -ENOPROTOOPT;
	}
}

long sys_getsockopt(int fd, int level, int name, uint64_t uval, uint64_t ulen)
{
	struct file *uf = unix_file(fd);
	if (uf)
		return unix_sys_getsockopt(uf, level, name, uval, ulen);
	struct file *nf = netlink_file(fd);
	if (nf)
		return netlink_sys_getsockopt(nf, level, name, uval, ulen);
	long r;
	struct file *f = sock_file(fd, &r);
	if (!f)
		return r;
	struct sock *s = sock_of(f);
	int32_t len;
	if (copy_from_user(&len, ulen, sizeof(len)) < 0)
		return -EFAULT;
	if (len < 0)
		return -EINVAL;
	if (level == IPPROTO_TCP_NR) {
		if (!s->tcp)
			return -EOPNOTSUPP;
		if (name == TCP_INFO) {
			struct tcp_info_abi ti;
			tcp_sock_info(s, &ti);
			int32_t n = len < (int32_t)sizeof(ti)
					    ? len
					    : (int32_t)sizeof(ti);
			if (copy_to_user(uval, &ti, (size_t)n) < 0 ||
			    copy_to_user(ulen, &n, sizeof(n)) < 0)
				return -EFAULT;
			return 0;
		}
		if (name == TCP_CONGESTION_OPT) {
			char ca[TCP_CA_NAME_MAX] = TCP_CA_NAME;
			return sockopt_out(uval, ulen, len, ca, sizeof(ca));
		}
		int tv;
		switch (name) {
		case TCP_NODELAY_OPT:
			tv = s->tcp->nodelay;
			break;
		case TCP_FASTOPEN_OPT:
			tv = s->fastopen_qlen;
			break;
		case TCP_NOTSENT_LOWAT_OPT:
			tv = (int)s->notsent_lowat;
			break;
		case TCP_INQ_OPT:
			tv = s->tcp_inq;
			break;
		case TCP_LINGER2_OPT:
			tv = s->tcp->linger2 == UINT64_MAX
				     ? -1
				     : (int)((s->tcp->linger2
						      ? s->tcp->linger2
						      : TCP_FIN_TIMEOUT) /
					     1000000000ULL);
			break;
		case TCP_FASTOPEN_CONNECT_OPT:
			tv = s->fastopen_connect;
			break;
		case TCP_CORK_OPT:
			tv = s->tcp->cork;
			break;
		case TCP_MAXSEG_OPT:
			tv = s->tcp->state >= TCP_ESTABLISHED ? s->tcp->mss
			     : s->maxseg		      ? s->maxseg
							      : TCP_MSS_DEFAULT;
			break;
		case TCP_SYNCNT_OPT:
			tv = s->tcp->syn_retries ? s->tcp->syn_retries
						 : TCP_SYN_RETRIES;
			break;
		case TCP_DEFER_ACCEPT_OPT:
			tv = (int)(s->defer_ns / 1000000000ULL);
			break;
		case TCP_QUICKACK_OPT:
			tv = !s->quickack_off;
			break;
		case TCP_USER_TIMEOUT_OPT:
			tv = (int)(s->tcp->user_timeout / 1000000ULL);
			break;
		case TCP_KEEPIDLE_OPT:
			tv = (int)(s->tcp->keep_idle / 1000000000ULL);
			break;
		case TCP_KEEPINTVL_OPT:
			tv = (int)(s->tcp->keep_intvl / 1000000000ULL);
			break;
		case TCP_KEEPCNT_OPT:
			tv = s->tcp->keep_cnt;
			break;
		default:
			return -ENOPROTOOPT;
		}
		int32_t n =
			len < (int32_t)sizeof(tv) ? len : (int32_t)sizeof(tv);
		if (copy_to_user(uval, &tv, (size_t)n) < 0 ||
		    copy_to_user(ulen, &n, sizeof(n)) < 0)
			return -EFAULT;
		return 0;
	}
	if (level == SOL_IP_NR)
		return ip_getsockopt(s, name, uval, ulen, len);
	if (level == IPPROTO_UDP_NR && s->proto == IP_PROTO_UDP) {
		int v = name == UDP_CORK_OPT	  ? s->udp_cork
			: name == UDP_SEGMENT_OPT ? s->udp_segment
			: name == UDP_GRO_OPT	  ? s->udp_gro
						  : -1;
		if (v < 0)
			return -ENOPROTOOPT;
		return sockopt_out(uval, ulen, len, &v, sizeof(v));
	}
	if (level == SOL_RAW_NR) {
		if (s->proto != IP_PROTO_ICMP || s->type != SOCK_RAW)
			return -EOPNOTSUPP;
		if (name != ICMP_FILTER_OPT)
			return -ENOPROTOOPT;
		return sockopt_out(uval, ulen, len, &s->icmp_filter,
				   sizeof(s->icmp_filter));
	}
	if (level == SOL_SOCKET && name == SO_BINDTODEVICE_NR) {
		/* the name and its NUL; nothing when unbound, as Linux */
		const char *dev = if_name(s->bound_if);
		if (!dev)
			return sockopt_out(uval, ulen, 0, "", 0);
		if (len < (int32_t)strlen(dev) + 1)
			return -EINVAL;
		return sockopt_out(uval, ulen, len, dev, strlen(dev) + 1);
	}
	if (level != SOL_SOCKET)
		return -ENOPROTOOPT;
	if (name == SO_RCVTIMEO || name == SO_SNDTIMEO)
		return sockopt_timeout_out(
			uval, ulen, len,
			name == SO_RCVTIMEO ? s->rcvtimeo_ns : s->sndtimeo_ns);
	int v;
	switch (name) {
	case SO_TYPE:
		v = s->type;
		break;
	case SO_DOMAIN:
		v = AF_INET;
		break;
	case SO_PROTOCOL:
		v = s->proto; /* IP_PROTO_* are the IPPROTO_* numbers */
		break;
	case SO_ACCEPTCONN:
		v = s->listening;
		break;
	case SO_ERROR:
		v = s->error;
		s->error = 0;
		if (!v && s->tcp && s->tcp->state == TCP_CLOSED) {
			v = s->tcp->error;
			s->tcp->error = 0;
		}
		break;
	case SO_REUSEADDR:
		v = s->reuseaddr;
		break;
	case SO_REUSEPORT:
		v = s->reuseport;
		break;
	case SCM_TIMESTAMP_NR:
		v = s->timestamp == 1;
		break;
	case SCM_TIMESTAMPNS_NR:
		v = s->timestamp == 2;
		break;
	case SO_BROADCAST:
		v = s->broadcast;
		break;
	case SO_KEEPALIVE:
		v = s->keepalive;
		break;
	case SO_RCVBUF:
		v = (int)s->rcvbuf;
		break;
	case SO_SNDBUF:
		v = (int)s->sndbuf;
		break;
	case SO_RCVLOWAT_NR:
		v = s->rcvlowat ? s->rcvlowat : 1;
		break;
	case SO_OOBINLINE_NR:
		v = s->oobinline;
		break;
	case SO_NO_CHECK_NR:
		v = s->no_check;
		break;
	case SO_BINDTOIFINDEX_NR:
		v = s->bound_if;
		break;
	case SO_DEBUG_NR:
	case SO_PRIORITY_NR:
	case SO_MARK_NR:
	case SO_BUSY_POLL_NR:
	case SO_INCOMING_CPU_NR:
		v = sock_extra_get(s, name);
		break;
	default:
		return -ENOPROTOOPT;
	}
	return sockopt_out(uval, ulen, len, &v, sizeof(v));
}

long sockopt_out(uint64_t uval, uint64_t ulen, int32_t room, const void *v,
		 size_t size)
{
	int32_t n = room < (int32_t)size ? room : (int32_t)size;
	if (copy_to_user(uval, v, (size_t)n) < 0 ||
	    copy_to_user(ulen, &n, sizeof(n)) < 0)
		return -EFAULT;
	return 0;
}

long sockopt_timeout_in(uint64_t uval, uint64_t len, uint64_t *ns)
{
	struct timeval_abi tv;
	if (len < sizeof(tv))
		return -EINVAL;
	if (copy_from_user(&tv, uval, sizeof(tv)) < 0)
		return -EFAULT;
	if (tv.usec < 0 || tv.usec >= 1000000 || tv.sec < 0)
		return -EDOM;
	*ns = (uint64_t)tv.sec * 1000000000ULL + (uint64_t)tv.usec * 1000;
	return 0;
}

long sockopt_timeout_out(uint64_t uval, uint64_t ulen, int32_t room,
			 uint64_t ns)
{
	struct timeval_abi tv = {(int64_t)(ns / 1000000000ULL),
				 (int64_t)(ns % 1000000000ULL / 1000)};
	return sockopt_out(uval, ulen, room, &tv, sizeof(tv));
}

long sys_socketpair(int domain, int type, int protocol, uint64_t usv)
{
	int kind = type & SOCK_TYPE_MASK;
	if (type & ~(SOCK_TYPE_MASK | SOCK_NONBLOCK_FLAG | SOCK_CLOEXEC_FLAG))
		return -EINVAL;
	if (domain == AF_INET)
		return -EOPNOTSUPP;
	if (domain == AF_NETLINK)
		return -EOPNOTSUPP;
	if (domain != AF_UNIX)
		return -EAFNOSUPPORT;
	return unix_sys_socketpair(kind, protocol, type & SOCK_NONBLOCK_FLAG,
				   type & SOCK_CLOEXEC_FLAG, usv);
}
