/* socket.h: sockets inside the kernel (socket.c) and the calls that work
 * on them (linux/sys_net.c). */
#ifndef FRESCO_NET_SOCKET_H
#define FRESCO_NET_SOCKET_H

#include "net/net.h"

#include "fs/fs.h"
#include "lib/rtnl.h"
#include "lib/tcp.h"
#include <linux/tcp.h>

struct dgram;

/* A stream socket's send and receive rings: each starts at 64 KiB and
 * grows to 2 MiB once the connection has filled it (tcp_sock.c); a grown
 * ring's page pointers fill a page of their own */
#define TCP_RING_PAGES 16
#define TCP_RING_PAGES_MAX 512

/* An ICMP error about a datagram of a socket with IP_RECVERR, for
 * recvmsg(MSG_ERRQUEUE): Linux's sock_extended_err and what it quotes. */
struct sock_err {
	struct sock_err *next;
	int err;
	uint8_t type, code;
	uint32_t offender; /* who sent the ICMP (network order) */
	uint32_t info;	   /* fragmentation needed: the next hop's MTU */
	uint32_t dst;	   /* where the datagram was going */
	uint16_t dport;	   /* network order */
	uint16_t len;	   /* of its payload, quoted */
	uint8_t data[];
};
#define SOCK_ERRQ_MAX 16 /* queued at most; later ones are dropped */
#define SOCK_ERR_QUOTE                                         \
	540 /* payload bytes kept: what 576 bytes of ICMP hold \
	     */

struct sock {
	struct sock *next, **pprev; /* all sockets */
	int type;		    /* SOCK_DGRAM, SOCK_STREAM or SOCK_RAW */
	int proto;		    /* IP_PROTO_UDP, _TCP or _ICMP */
	uint32_t lip, rip;	    /* network order; 0: any / none */
	uint16_t lport, rport;
	int bound, connected;
	int reuseaddr, reuseport, broadcast, keepalive;
	int shut_rd, shut_wr;
	int error;			   /* SO_ERROR */
	uint64_t rcvtimeo_ns, sndtimeo_ns; /* 0: none */
	uint64_t rcvbuf, sndbuf;
	int rcvbuf_set, sndbuf_set; /* by the program: TCP's rings keep to it */
	struct dgram *head, *tail;
	uint64_t queued;
	/* TCP */
	struct tcp_cb *tcp;
	/* the page pointers of both rings while they are small
	 * (2 x TCP_RING_PAGES); a grown ring has a page of its own */
	uint8_t **pages;
	int snd_full, rcv_full; /* the ring was full: grow it when it can */
	uint64_t full_at;	/* when a ring was last found full (or grew) */
	uint32_t ts_offset;	/* added to TCP timestamps */
	int listening, backlog, pending; /* pending: handshakes under way */
	struct sock *parent;		 /* a listener's, until accepted */
	struct sock *acceptq, *acceptq_tail, *accept_next;
	int acceptq_len;
	int orphan;   /* the program closed it; TCP still finishing */
	int timewait; /* an orphan in TIME_WAIT, its ring pages given back */
	int linger_on, linger_sec;
	struct ip_opts ip; /* IP_TOS, IP_TTL, IP_MTU_DISCOVER */
	int pmtudisc;	   /* as set; IP_PMTUDISC_DONT: ip.may_fragment */
	int recverr, freebind, bind_no_port; /* recorded */
	uint32_t icmp_filter; /* raw ICMP: the types it does not want */
	struct sock_err *errq, *errq_tail; /* IP_RECVERR's queue */
	int nerrq;
	uint16_t maxseg;      /* TCP_MAXSEG: the most our MSS may be; 0: none */
	uint64_t defer_ns;    /* a listener's TCP_DEFER_ACCEPT */
	uint64_t defer_until; /* its connection: offered then at the latest */
	int quickack_off;     /* TCP_QUICKACK 0, as getsockopt reads it */
	int fastopen_qlen, fastopen_connect; /* recorded: no TCP Fast Open */
	int rcvlowat;			     /* SO_RCVLOWAT; 0: 1 */
	int bound_if; /* SO_BINDTODEVICE: what it hears from; 0: any */
	/* multicast: groups joined (IP_ADD_MEMBERSHIP), on an interface
	 * each; IP_MULTICAST_TTL, _LOOP, _IF (0: the route's), _ALL */
#define SOCK_MC_MAX 20 /* Linux's igmp_max_memberships */
	uint32_t mc_group[SOCK_MC_MAX];
	uint8_t mc_ifindex[SOCK_MC_MAX];
	int nmc;
	uint8_t mc_ttl, mc_loop, mc_all;
	int mc_if;
	uint8_t min_ttl; /* IP_MINTTL: TCP drops segments with less */
	int tcp_inq;	 /* TCP_INQ: recvmsg tells what is left to read */
	uint32_t notsent_lowat; /* TCP_NOTSENT_LOWAT; 0: none */
	int oobinline;		/* SO_OOBINLINE, as urgent data is anyway */
	/* SO_DEBUG, SO_PRIORITY, SO_MARK, SO_BUSY_POLL, SO_INCOMING_CPU:
	 * recorded and read back */
#define SOCK_EXTRA 5
	int extra[SOCK_EXTRA];
	/* UDP: UDP_SEGMENT's size (0: none), UDP_GRO, SO_NO_CHECK */
	uint16_t udp_segment;
	int udp_gro, no_check;
	/* UDP: a datagram being put together (MSG_MORE, UDP_CORK) */
	int udp_cork;
	uint8_t *cork; /* its bytes, in cork_pages pages; NULL: none */
	uint32_t cork_len, cork_pages, cork_src, cork_dst;
	uint16_t cork_dport;
	struct ip_opts cork_ip;
	/* control messages recvmsg gives: IP_PKTINFO, IP_RECVTOS,
	 * IP_RECVTTL, SO_TIMESTAMP (1) or SO_TIMESTAMPNS (2) */
	uint8_t recv_pktinfo, recv_tos, recv_ttl, timestamp;
	uint8_t recv_origdst; /* IP_RECVORIGDSTADDR */
	int connect_started;
	struct watchers watchers; /* woken by every arrival and change */
	/* TCP: in the table of connections, or the list of listeners */
	struct sock *hnext, **hpprev;
	/* TCP: in the list of sockets the timer pass is to look at */
	struct sock *tnext, **tpprev;
	/* bound by bind, connect or sendto: in the table of ports */
	struct sock *pnext, **ppprev;
};

extern const struct file_ops socket_ops;

struct file;
struct sock *sock_of(const struct file *f);
/* A new socket file of (type) and (proto) (IP_PROTO_*): NULL if out of
 * memory. */
struct file *sock_create(int type, int proto, int nonblock);
/* A new file on an anonymous socket node with (ops); the caller sets the
 * node's socket. NULL if out of memory. */
struct file *socket_file_new(const struct file_ops *ops, int nonblock);
/* A socket file for (s) (an accepted connection). */
struct file *sock_file_for(struct sock *s, int nonblock);
/* (s), new, joins all_socks. */
void sock_link(struct sock *s);
void sock_free(struct sock *s);
/* The oldest error of (s)'s queue, taken (the caller kfrees it, its
 * size sock_err_size(e)), or NULL; SO_ERROR becomes the next one's. */
struct sock_err *sock_err_take(struct sock *s);
size_t sock_err_size(const struct sock_err *e);
/* Drop every error of (s)'s queue. */
void sock_err_clear(struct sock *s);
/* Queue an error for recvmsg(MSG_ERRQUEUE): ICMP's (r) about what went
 * to (dst, dport), of whose payload (payload, n) is quoted (kept up to
 * SOCK_ERR_QUOTE). Dropped when the queue is full. */
void sock_err_put(struct sock *s, uint32_t dst, uint16_t dport,
		  const uint8_t *payload, size_t n,
		  const struct icmp_report *r);
/* Data came or went, or the state changed: epoll looks at (s) again. */
void sock_changed(struct sock *s);
extern struct sock *all_socks;

/* Segments dropped for a TTL under the socket's IP_MINTTL. */
extern uint64_t tcp_minttl_drops;
/* ---- TCP sockets (tcp_sock.c) ---- */
int tcp_sock_init(struct sock *s);
/* Connections in ESTABLISHED or CLOSE_WAIT (/proc/net/snmp's CurrEstab). */
long long tcp_sock_established(void);
/* (s) leaves the table segments are matched with, and the timer pass's
 * list (when freed). */
void tcp_sock_unhash(struct sock *s);
/* Something happened to (s) that may have set a timer sooner: the next
 * timer pass looks at it (the others it looks at only once the soonest
 * timer it knew of is due). */
void tcp_sock_touch(struct sock *s);
/* An ICMP destination unreachable (errno err) quoting (orig), the IPv4
 * header and at least 8 bytes of a TCP segment of ours. */
void tcp_sock_icmp_error(const uint8_t *orig, size_t len, int err);
/* Fragmentation needed, the path's MTU now (mtu), quoting (orig) as
 * above: the connection sends smaller segments, and again at once what
 * the path dropped. 1 if it was about a segment in flight, else 0. */
int tcp_sock_mtu_reduced(const uint8_t *orig, size_t len, uint32_t mtu);
/* A segment of (len) bytes, those at (p) first, then the (nmore) parts
 * at (more) (only when the device vouched for its checksum, and with
 * the whole header at (p)). */
void tcp_sock_input(const struct ip_hdr *ip, const uint8_t *p, size_t len,
		    const struct tcp_part *more, unsigned nmore, int csum_ok);
int tcp_sock_connect(struct sock *s, uint32_t ip, uint16_t port);
int tcp_sock_listen(struct sock *s, int backlog);
struct sock *tcp_sock_accept(struct sock *s);
long tcp_sock_send(struct sock *s, const void *data, size_t len);
/* (s)'s state as Linux numbers them (include/net/tcp_states.h), for
 * TCP_INFO and /proc/net/tcp. */
unsigned tcp_sock_linux_state(const struct sock *s);
/* Bytes (s) holds that it has not sent yet. */
uint32_t tcp_sock_unsent(const struct sock *s);
/* Where a read's bytes go in the program: its buffer at (addr), or the
 * pieces (iov, niov) (iov not NULL). */
struct recv_dst {
	uint64_t addr;
	const struct iovec *iov;
	uint64_t niov;
};
/* Received data of (s), up to (len) bytes, straight from the ring to
 * (dst), (off) bytes into it; (peek): left in the ring. The bytes, or
 * -EFAULT if none could be written (they stay). */
long tcp_sock_recv(struct sock *s, const struct recv_dst *dst, uint64_t off,
		   size_t len, int peek);
int tcp_sock_shutdown(struct sock *s, int how);
void tcp_sock_release(struct sock *s);
/* Give back the pages of (s)'s rings, which are left empty. */
void tcp_sock_rings_free(struct sock *s);
short tcp_sock_ready(struct sock *s);
/* Linux's struct tcp_info as of 6.7: Debian 12's <linux/tcp.h> ends at
 * tcpi_snd_wnd. */
struct tcp_info_abi {
	struct tcp_info info;
	uint32_t rcv_wnd, rehash;
	uint16_t total_rto, total_rto_recoveries;
	uint32_t total_rto_time; /* ms */
};
/* getsockopt(TCP_INFO) for (s), as Linux fills it. */
void tcp_sock_info(const struct sock *s, struct tcp_info_abi *ti);
/* At exit: close every connection and let them deliver what they hold,
 * for up to (limit_ns). */
void tcp_sock_drain(uint64_t limit_ns);
/* Run the TCP timers that are due; the next one, or UINT64_MAX. */
uint64_t tcp_sock_timers(uint64_t now);
int sock_bind_addr(struct sock *s, uint32_t addr, uint16_t port);
/* Send (len) bytes as one datagram to (dst):(dport), from (src) (0: the
 * socket's address, or the route's) with (o) in its IP header (NULL: the
 * socket's options). */
int udp_send(struct sock *s, uint32_t src, uint32_t dst, uint16_t dport,
	     const void *data, size_t len, const struct ip_opts *o);
/* What came with a datagram: its sender, the address it was sent to,
 * its IP header's TOS and TTL, the interface (1: loopback, 2: the
 * device) and when (realtime ns): what recvmsg's control messages
 * give. */
struct udp_meta {
	uint32_t src, dst;
	uint16_t sport;
	uint8_t tos, ttl, ifindex;
	uint64_t stamp;
};
long udp_recv(struct sock *s, void *buf, size_t cap, int peek,
	      struct udp_meta *m);
/* Add (len) bytes to the datagram (s) is putting together (MSG_MORE,
 * UDP_CORK); the first part says where it goes and from where, with (o)
 * (NULL: the socket's options). 0, or -EMSGSIZE (the datagram would be
 * longer than the link takes: it is dropped) or -ENOBUFS. */
int udp_append(struct sock *s, uint32_t src, uint32_t dst, uint16_t dport,
	       const void *data, size_t len, const struct ip_opts *o);
/* Send the datagram put together, as udp_send: 0 or -errno. */
int udp_push(struct sock *s);
/* Forget it. */
void udp_cork_drop(struct sock *s);
/* Where UDP, ICMP and TCP sockets build what they send, in place behind
 * NET_HEADROOM bytes for the IPv4 and Ethernet headers: as large as the
 * link takes (nothing is fragmented). One is enough: each sender hands
 * its packet to ip_send, which has copied it (to the device, the
 * loopback's queue or ARP's) when it returns. */
extern uint8_t sock_tx[NET_HEADROOM + 65535];
/* Queue a received datagram of (len) bytes on (s), with (m): 0, or
 * -ENOBUFS (its receive buffer is full, or memory is short). */
int sock_queue(struct sock *s, const uint8_t *data, size_t len,
	       const struct udp_meta *m);
/* What a datagram brings with it in its header (IP_PKTINFO and the
 * like); the port is the caller's to fill. */
struct udp_meta sock_meta(const struct ip_hdr *ip);

/* ---- ICMP sockets (icmp_sock.c) ----
 * Ping sockets (SOCK_DGRAM, IPPROTO_ICMP) send echo requests, the
 * kernel setting their identifier (the socket's port) and checksum, and
 * receive the echo replies with that identifier; raw ICMP sockets
 * (SOCK_RAW) send ICMP messages as given and receive every ICMP packet
 * that reaches the guest, IPv4 header included, but the types their
 * ICMP_FILTER excludes. As Linux's ping.c and raw.c. */
/* Send (len) bytes of (data) from (src) (0: as the route says) to
 * (dst) with (o): 0 or -errno (-EINVAL: not an echo request, on a ping
 * socket). */
int icmp_sock_send(struct sock *s, uint32_t src, uint32_t dst,
		   const uint8_t *data, size_t len, const struct ip_opts *o);
/* An ICMP message (p, len) in packet (ip), its checksum checked, for
 * the sockets that take it. */
void icmp_sock_input(const struct ip_hdr *ip, const uint8_t *p, size_t len);
/* An ICMP error about an echo request a ping socket sent, as
 * udp_icmp_error. */
int icmp_sock_error(const uint8_t *orig, size_t len,
		    const struct icmp_report *r);

/* The SIOCGIF* ioctls, on a socket of any kind: the loopback (index 1,
 * lo) and the device (2, eth0); setting an interface is not the guest's
 * to do (its network comes from the command line): EPERM. Other
 * requests: ENOTTY. */
long if_ioctl(unsigned cmd, uint64_t arg);
/* The interfaces as they are now, for NETLINK_ROUTE: (v) describes
 * them, in (links). */
#define IF_MAX 2
void if_view(struct rtnl_link links[IF_MAX], struct rtnl_view *v);
/* The index of interface (name), or 0 if there is none; the name of
 * interface (index), or NULL. */
int if_index(const char *name);
const char *if_name(int index);
/* Where a packet from (src) came in: 1 the loopback (one of ours), 2
 * the device. */
static inline int if_from(uint32_t src)
{
	return ip_is_local(src) ? 1 : 2;
}

/* Linux's struct msghdr (user_msghdr) for x86_64. */
struct msghdr_abi {
	uint64_t name;
	int32_t namelen;
	int32_t pad;
	uint64_t iov;
	uint64_t iovlen;
	uint64_t control;
	uint64_t controllen;
	int32_t flags;
	int32_t pad2;
};

/* ---- AF_UNIX sockets (unix.c) ----
 * The calls below take files that unix_of() accepts. */

/* A socket's name: a path (NUL-terminated, len without the NUL), an
 * abstract name (path[0] == 0, len bytes), or none (len 0). */
struct unix_addr {
	uint32_t len;
	char path[108];
};
/* Open files passed with a message (SCM_RIGHTS): one reference each. */
#define UNIX_RIGHTS_MAX 64
struct unix_rights {
	int n;
	struct file *files[UNIX_RIGHTS_MAX];
};
struct usock;
struct usock *unix_of(const struct file *f); /* NULL: not AF_UNIX */
/* A new socket file (SOCK_STREAM or SOCK_DGRAM), or two connected. */
int unix_socket(int type, int nonblock, struct file **out);
int unix_pair(int type, int nonblock, struct file **a, struct file **b);
/* (len 0 in (a): a name of its own in the abstract namespace) */
int unix_bind(struct file *f, const struct unix_addr *a);
int unix_listen(struct file *f, int backlog);
int unix_connect(struct file *f, const struct unix_addr *a);
/* A connection from the queue, as a new file with (flags) O_NONBLOCK. */
int unix_accept(struct file *f, int flags, struct file **out);
int unix_shutdown(struct file *f, int how);
/* Kernel data out and in; (to) NULL: the connected peer. send takes
 * over the references in (rights) (may be NULL) when it returns > 0 and
 * leaves them to the caller otherwise. recv sets (*full) to the whole
 * datagram's length (MSG_TRUNC) and hands the files that came with the
 * data to (rights), or closes them when (rights) is NULL; a stream read
 * takes the files of one send at most, as Linux's does. */
long unix_send(struct file *f, const void *data, size_t len, int flags,
	       const struct unix_addr *to, const struct unix_rights *rights);
long unix_recv(struct file *f, void *out, size_t cap, int flags,
	       struct unix_addr *from, size_t *full,
	       struct unix_rights *rights);
/* Its own name, or (peer) its peer's. */
void unix_name(const struct file *f, int peer, struct unix_addr *out);
int unix_connected(const struct file *f);
int unix_type(const struct file *f);
int unix_listening(const struct file *f);
int unix_peer_pid(const struct file *f); /* SO_PEERCRED; 0: none */
/* /proc/net/unix's lines, in Linux's layout (inode 0). */
void unix_proc(struct proc_text *t);

/* The socket calls on them, with the program's addresses and buffers
 * (linux/sys_unix.c); sys_net.c hands each call over. */
long unix_sys_socket(int type, int protocol, int nonblock, int cloexec);
long unix_sys_socketpair(int type, int protocol, int nonblock, int cloexec,
			 uint64_t usv);
long unix_sys_bind(struct file *f, uint64_t uaddr, uint64_t len);
long unix_sys_connect(struct file *f, uint64_t uaddr, uint64_t len);
long unix_sys_accept(struct file *f, uint64_t uaddr, uint64_t ulen, int flags,
		     int cloexec);
long unix_sys_name(struct file *f, uint64_t uaddr, uint64_t ulen, int peer);
long unix_sys_sendto(struct file *f, uint64_t ubuf, uint64_t len, int flags,
		     uint64_t uaddr, uint64_t alen);
long unix_sys_recvfrom(struct file *f, uint64_t ubuf, uint64_t len, int flags,
		       uint64_t uaddr, uint64_t ualen);
long unix_sys_sendmsg(struct file *f, uint64_t umsg, int flags);
long unix_sys_recvmsg(struct file *f, uint64_t umsg, int flags);
long unix_sys_setsockopt(struct file *f, int level, int name, uint64_t len);
long unix_sys_getsockopt(struct file *f, int level, int name, uint64_t uval,
			 uint64_t ulen);

/* ---- AF_NETLINK sockets (netlink.c) ----
 * NETLINK_ROUTE only, answered by rtnl.h from the interfaces as they are
 * when a request is sent; the answers wait as datagrams until read.
 * Nothing else ever arrives: a program that listens to groups for
 * changes hears none, since the guest's network does not change. The
 * calls below take files that netlink_of() accepts. */
struct nlsock *netlink_of(const struct file *f); /* NULL: not AF_NETLINK */
int netlink_socket(int type, int protocol, int nonblock, struct file **out);
/* Take port (port), or one chosen as Linux does (the process's pid
 * first) if 0, and listen to (groups): 0, -EADDRINUSE, -EINVAL (bound
 * already, by bind or a send, to another port than (port)). */
int netlink_bind(struct file *f, uint32_t port, uint32_t groups);
/* Send to port (to) (0 the kernel) and groups (groups) from now on. */
int netlink_connect(struct file *f, uint32_t to, uint32_t groups);
/* (f)'s port and groups (peer 0), or where it sends (peer 1). */
void netlink_name(struct file *f, int peer, uint32_t *port, uint32_t *groups);
/* A request datagram to port (to), -1 for where the socket sends:
 * (len), or -ECONNREFUSED (a port other than the kernel's), -EMSGSIZE.
 * Answers the receive buffer cannot take are dropped, and the next
 * receive fails with ENOBUFS. */
long netlink_send(struct file *f, const void *data, size_t len, int64_t to);
/* The next datagram, at most (cap) bytes of it into (out), its length
 * in (*full); MSG_PEEK, MSG_DONTWAIT honoured; waits as the socket's
 * receive timeout says. Returns the bytes copied or -errno. */
long netlink_recv(struct file *f, void *out, size_t cap, int flags,
		  size_t *full);
/* setsockopt and getsockopt for SOL_SOCKET and SOL_NETLINK: an int
 * value each, but ns for SO_RCVTIMEO and SO_SNDTIMEO; 0 or
 * -ENOPROTOOPT. */
int netlink_setsockopt(struct file *f, int level, int name, uint64_t value);
int netlink_getsockopt(struct file *f, int level, int name, uint64_t *value);

/* The socket calls on them, with the program's addresses and buffers
 * (linux/sys_netlink.c); sys_net.c hands each call over. */
long netlink_sys_socket(int type, int protocol, int nonblock, int cloexec);
long netlink_sys_bind(struct file *f, uint64_t uaddr, uint64_t len);
long netlink_sys_connect(struct file *f, uint64_t uaddr, uint64_t len);
long netlink_sys_name(struct file *f, uint64_t uaddr, uint64_t ulen, int peer);
long netlink_sys_sendto(struct file *f, uint64_t ubuf, uint64_t len, int flags,
			uint64_t uaddr, uint64_t alen);
long netlink_sys_recvfrom(struct file *f, uint64_t ubuf, uint64_t len,
			  int flags, uint64_t uaddr, uint64_t ualen);
long netlink_sys_sendmsg(struct file *f, uint64_t umsg, int flags);
long netlink_sys_recvmsg(struct file *f, uint64_t umsg, int flags);
long netlink_sys_setsockopt(struct file *f, int level, int name, uint64_t uval,
			    uint64_t len);
long netlink_sys_getsockopt(struct file *f, int level, int name, uint64_t uval,
			    uint64_t ulen);

/* An address to the program's (uaddr, *ulen) as accept, getsockname and
 * recvfrom give it: cut to the room the program gave, the (full) length
 * stored back; nothing if either pointer is 0. 0, -EFAULT, -EINVAL. */
long sockaddr_out(uint64_t uaddr, uint64_t ulen, const void *a, int32_t full);
/* getsockopt's answer: (size) bytes of (v), cut to the program's
 * (room), and the length written back to (ulen). 0 or -EFAULT. */
long sockopt_out(uint64_t uval, uint64_t ulen, int32_t room, const void *v,
		 size_t size);
/* The program's struct msghdr at (umsg) into (m), its iovecs into (iov)
 * (UIO_MAXIOV of them): their total length, or -EFAULT, -EMSGSIZE,
 * -EINVAL. */
long msghdr_in(uint64_t umsg, struct msghdr_abi *m, struct iovec *iov);
/* SO_RCVTIMEO and SO_SNDTIMEO: a struct timeval from the program into
 * (*ns) (0, -EINVAL, -EFAULT, -EDOM), and (ns) back out to it. */
long sockopt_timeout_in(uint64_t uval, uint64_t len, uint64_t *ns);
long sockopt_timeout_out(uint64_t uval, uint64_t ulen, int32_t room,
			 uint64_t ns);

/* A peer: where to send, or where a datagram came from. */
struct peer {
	uint32_t ip;
	uint16_t port;
};
/* send/recv with the program's buffer, waiting as the socket and (flags)
 * say (linux/sys_net.c). */
long sock_sendto(struct file *f, uint64_t ubuf, uint64_t len, int flags,
		 const struct peer *to);
long sock_recvfrom(struct file *f, uint64_t ubuf, uint64_t len, int flags,
		   struct peer *from);

#endif
