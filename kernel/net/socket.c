/* socket.c: sockets as open files, and UDP (RFC 768).
 *
 * A socket is an S_IFSOCK inode whose open file carries socket_ops; its
 * state is a struct sock. UDP sockets queue received datagrams up to
 * their receive buffer size; datagrams beyond it, or for a port nobody
 * has bound, are dropped and counted. Sending is never blocked: a
 * datagram leaves at once or is dropped by the link, as Linux's UDP does
 * when a device queue is full.
 */
#include "net/socket.h"
#include "fs/fs.h"
#include "fresco/queue.h"
#include <asm-generic/poll.h>
#include <asm/ioctls.h>
#include <linux/fcntl.h>
#include <linux/sockios.h>
#include <linux/stat.h>

#define RCVBUF_DEFAULT (208 * 1024)
#define EPHEMERAL_FIRST 32768
#define EPHEMERAL_LAST 60999

/* A datagram waiting to be read: its bytes inline, or one longer than
 * fits a page with its header (a wide link's) in whole pages, whose
 * addresses take the place of the bytes. */
struct dgram {
	struct dgram *next;
	struct udp_meta m;
	uint16_t len;
	uint8_t data[];
};

#define DGRAM_INLINE (PAGE_SIZE - sizeof(struct dgram))

static size_t dgram_pages(size_t len)
{
	return len <= DGRAM_INLINE ? 0 : (len + PAGE_SIZE - 1) / PAGE_SIZE;
}

static size_t dgram_size(size_t len)
{
	size_t pages = dgram_pages(len);
	return sizeof(struct dgram) + (pages ? pages * sizeof(uint8_t *) : len);
}

static void dgram_free(struct dgram *d)
{
	uint8_t **page = (uint8_t **)d->data;
	for (size_t i = 0; i < dgram_pages(d->len); i++)
		if (page[i])
			phys_free(virt_to_phys(page[i]));
	kfree(d, dgram_size(d->len));
}

static struct dgram *dgram_new(const uint8_t *data, size_t len)
{
	struct dgram *d = kmalloc(dgram_size(len));
	if (!d)
		return NULL;
	d->len = (uint16_t)len;
	size_t pages = dgram_pages(len);
	if (!pages) {
		memcpy(d->data, data, len);
		return d;
	}
	uint8_t **page = (uint8_t **)d->data; /* zeroed by kmalloc */
	for (size_t i = 0; i < pages; i++) {
		uint64_t pa = phys_alloc();
		if (!pa) {
			dgram_free(d);
			return NULL;
		}
		page[i] = phys_to_virt(pa);
		size_t off = i * PAGE_SIZE;
		memcpy(page[i], data + off,
		       len - off < PAGE_SIZE ? len - off : PAGE_SIZE);
	}
	return d;
}

/* Copy the first (n) bytes of (d) to (out). */
static void dgram_copy(const struct dgram *d, uint8_t *out, size_t n)
{
	if (!dgram_pages(d->len)) {
		memcpy(out, d->data, n);
		return;
	}
	uint8_t *const *page = (uint8_t *const *)d->data;
	for (size_t off = 0; off < n; off += PAGE_SIZE)
		memcpy(out + off, page[off / PAGE_SIZE],
		       n - off < PAGE_SIZE ? n - off : PAGE_SIZE);
}

struct sock *all_socks;
/* the sockets bound to a port (not the connections a listener accepted,
 * which share its port): bind and UDP's input look only at those of
 * theirs */
#define PORT_HASH 256
static struct sock *ports[PORT_HASH];
static uint16_t next_ephemeral = EPHEMERAL_FIRST;

struct sock *sock_of(const struct file *f)
{
	return f->ops == &socket_ops ? f->inode->u.sock : NULL;
}

int socket_is(const struct file *f)
{
	return f->ops == &socket_ops;
}

/* ---- UDP ---- */

static struct sock **port_bucket(uint16_t port)
{
	return &ports[(port ^ port >> 8) % PORT_HASH];
}

static int port_taken(uint16_t port, uint32_t addr, const struct sock *me)
{
	for (struct sock *s = *port_bucket(port); s; s = s->pnext) {
		if (s == me || s->lport != port || s->proto != me->proto)
			continue;
		/* connections a listener accepted share its port */
		if (s->proto == IP_PROTO_TCP && s->connected &&
		    !s->connect_started)
			continue;
		/* what the program closed and TCP is finishing */
		if (s->orphan && me->reuseaddr)
			continue;
		if (s->lip && addr && s->lip != addr)
			continue;
		if (!(s->reuseaddr && me->reuseaddr) &&
		    !(s->reuseport && me->reuseport))
			return 1;
	}
	return 0;
}

int sock_bind_addr(struct sock *s, uint32_t addr, uint16_t port)
{
	if (s->bound)
		return -EINVAL;
	if (addr && addr != netif.ip && (addr & 0xff) != 0x7f &&
	    addr != 0xffffffffu && !s->freebind)
		return -EADDRNOTAVAIL;
	if (port == 0) {
		for (int tries = EPHEMERAL_LAST - EPHEMERAL_FIRST + 1;
		     tries > 0; tries--) {
			uint16_t p = net16(next_ephemeral);
			next_ephemeral =
				next_ephemeral == EPHEMERAL_LAST
					? EPHEMERAL_FIRST
					: (uint16_t)(next_ephemeral + 1);
			if (!port_taken(p, addr, s)) {
				port = p;
				break;
			}
		}
		if (!port)
			return -EADDRINUSE;
	} else if (port_taken(port, addr, s)) {
		return -EADDRINUSE;
	}
	s->lip = addr;
	s->lport = port;
	s->bound = 1;
	LIST_PUSH(*port_bucket(port), s, pnext, ppprev);
	return 0;
}

/* The socket a datagram from (rport) at (rip) to (lport) at (lip),
 * come in on interface (ifindex) (0: any), is for: the most specific,
 * connected, then bound to the address; not one bound to another
 * interface (SO_BINDTODEVICE). */
static struct sock *udp_lookup(uint32_t lip, uint16_t lport, uint32_t rip,
			       uint16_t rport, int ifindex)
{
	struct sock *best = NULL;
	int best_score = -1;
	for (struct sock *s = *port_bucket(lport); s; s = s->pnext) {
		if (s->proto != IP_PROTO_UDP || s->lport != lport || s->shut_rd)
			continue;
		if (s->lip && s->lip != lip && lip != 0xffffffffu)
			continue;
		if (s->connected && (s->rip != rip || s->rport != rport))
			continue;
		if (ifindex && s->bound_if && s->bound_if != ifindex)
			continue;
		int score = (s->connected ? 2 : 0) + (s->lip ? 1 : 0);
		if (score > best_score) {
			best = s;
			best_score = score;
		}
	}
	return best;
}

size_t sock_err_size(const struct sock_err *e)
{
	return sizeof(*e) + e->len;
}

void sock_err_put(struct sock *s, uint32_t dst, uint16_t dport,
		  const uint8_t *payload, size_t n, const struct icmp_report *r)
{
	if (n > SOCK_ERR_QUOTE)
		n = SOCK_ERR_QUOTE;
	struct sock_err *e =
		s->nerrq < SOCK_ERRQ_MAX ? kmalloc(sizeof(*e) + n) : NULL;
	if (!e)
		return; /* as a full receive buffer drops it */
	*e = (struct sock_err){.err = r->err,
			       .type = r->type,
			       .code = r->code,
			       .offender = r->offender,
			       .info = r->info,
			       .dst = dst,
			       .dport = dport,
			       .len = (uint16_t)n};
	memcpy(e->data, payload, n);
	QUEUE_APPEND(s->errq, s->errq_tail, e, next);
	s->nerrq++;
}

struct sock_err *sock_err_take(struct sock *s)
{
	struct sock_err *e = s->errq;
	if (!e)
		return NULL;
	QUEUE_DROP_FIRST(s->errq, s->errq_tail, next);
	s->nerrq--;
	s->error = s->errq ? s->errq->err : 0;
	return e;
}

void sock_err_clear(struct sock *s)
{
	while (s->errq) {
		struct sock_err *e = sock_err_take(s);
		kfree(e, sock_err_size(e));
	}
}

int udp_icmp_error(const uint8_t *orig, size_t len, const struct icmp_report *r)
{
	const struct ip_hdr *ip = (const struct ip_hdr *)orig;
	size_t hl = (size_t)(ip->vihl & 15) * 4;
	if (hl < sizeof(*ip) || len < hl + sizeof(struct udp_hdr))
		return 0;
	const struct udp_hdr *u = (const struct udp_hdr *)(orig + hl);
	struct sock *s = udp_lookup(ip->src, u->sport, ip->dst, u->dport, 0);
	/* as Linux: a connected socket hears of hard errors, one that asked
	 * (IP_RECVERR) of all, and keeps them in its error queue */
	if (!s)
		return 0;
	if (!s->recverr && !(r->hard && s->connected))
		return 1;
	if (s->recverr) {
		/* the payload as far as the ICMP quotes it (ip_icmp_error) */
		size_t n = len - hl - sizeof(*u), ulen = net16(u->len);
		if (ulen >= sizeof(*u) && ulen - sizeof(*u) < n)
			n = ulen - sizeof(*u);
		sock_err_put(s, ip->dst, u->dport, (const uint8_t *)(u + 1), n,
			     r);
	}
	s->error = r->err;
	sock_changed(s);
	return 1;
}

/* Is (s) a member of (group), as Linux's ip_mc_sf_allow asks: joined,
 * or joined by another socket of this host with IP_MULTICAST_ALL on. */
static int mc_wants(const struct sock *s, uint32_t group)
{
	for (int i = 0; i < s->nmc; i++)
		if (s->mc_group[i] == group)
			return 1;
	return s->mc_all;
}

/* A datagram to a group or a broadcast address: a copy for every
 * socket on its port that wants it (bound to no address or to that
 * one, not connected elsewhere; for a group, a member), as Linux's
 * __udp4_lib_mcast_deliver. */
static void udp_multicast(const struct ip_hdr *ip, const struct udp_hdr *u,
			  const uint8_t *data, size_t n)
{
	struct udp_meta m = sock_meta(ip);
	int any = 0, full = 0;
	m.sport = u->sport;
	for (struct sock *s = *port_bucket(u->dport); s; s = s->pnext) {
		if (s->proto != IP_PROTO_UDP || s->lport != u->dport ||
		    s->shut_rd || (s->lip && s->lip != ip->dst) ||
		    (s->connected &&
		     (s->rip != ip->src || s->rport != u->sport)) ||
		    (s->bound_if && s->bound_if != m.ifindex) ||
		    (IP_MULTICAST(ip->dst) && !mc_wants(s, ip->dst)))
			continue;
		int r = sock_queue(s, data, n, &m);
		any |= r == 0;
		full |= r < 0;
	}
	if (any)
		net_mib.udp.in_datagrams++;
	else if (full) {
		net_mib.udp.rcvbuf_errors++;
		net_mib.udp.in_errors++;
	} else {
		net_mib.udp.ignored_multi++;
	}
}

void udp_input(const struct ip_hdr *ip, const uint8_t *p, size_t len,
	       int csum_ok)
{
	const struct udp_hdr *u = (const struct udp_hdr *)p;
	if (len < sizeof(*u) || net16(u->len) < sizeof(*u) ||
	    net16(u->len) > len) {
		netif.rx_bad++;
		net_mib.udp.in_errors++;
		return;
	}
	len = net16(u->len);
	if (u->csum && !csum_ok) {
		uint32_t sum = inet_pseudo_sum(ip->src, ip->dst, IP_PROTO_UDP,
					       (uint16_t)len);
		if (inet_csum_done(inet_sum(p, len, sum)) != 0) {
			netif.rx_bad++;
			net_mib.udp.in_errors++;
			net_mib.udp.in_csum_errors++;
			return;
		}
	}
	if (IP_MULTICAST(ip->dst) || ip_is_broadcast(ip->dst)) {
		udp_multicast(ip, u, p + sizeof(*u), len - sizeof(*u));
		return;
	}
	struct sock *best = udp_lookup(ip->dst, u->dport, ip->src, u->sport,
				       if_from(ip->src));
	if (!best) {
		icmp_unreachable(ip, ICMP_PORT_UNREACHABLE);
		net_mib.udp.no_ports++;
		return;
	}
	struct udp_meta m = sock_meta(ip);
	m.sport = u->sport;
	if (sock_queue(best, p + sizeof(*u), len - sizeof(*u), &m) < 0) {
		net_mib.udp.rcvbuf_errors++;
		net_mib.udp.in_errors++;
	} else {
		net_mib.udp.in_datagrams++;
	}
}

struct udp_meta sock_meta(const struct ip_hdr *ip)
{
	/* what comes from one of our addresses came through loopback */
	return (struct udp_meta){
		.src = ip->src,
		.dst = ip->dst,
		.tos = ip->tos,
		.ttl = ip->ttl,
		.ifindex = if_from(ip->src),
		.stamp = clock_realtime_ns(),
	};
}

int sock_queue(struct sock *s, const uint8_t *data, size_t len,
	       const struct udp_meta *m)
{
	struct dgram *d = NULL;
	if (s->queued + len > s->rcvbuf || !(d = dgram_new(data, len)))
		return -ENOBUFS;
	d->m = *m;
	QUEUE_APPEND(s->head, s->tail, d, next);
	s->queued += len;
	sock_changed(s);
	return 0;
}

uint8_t sock_tx[NET_HEADROOM + 65535];

int udp_send(struct sock *s, uint32_t src, uint32_t dst, uint16_t dport,
	     const void *data, size_t len, const struct ip_opts *o)
{
	uint8_t *pkt = sock_tx + NET_HEADROOM;
	if (!dst)
		dst = LOOPBACK_ADDR; /* 0.0.0.0: this host, as on Linux */
	if (len > ip_mtu_for(dst) - 20 - sizeof(struct udp_hdr))
		return -EMSGSIZE;
	if (!s->bound) {
		int r = sock_bind_addr(s, 0, 0);
		if (r < 0)
			return r;
	}
	if (dst == 0xffffffffu && !s->broadcast)
		return -EACCES;
	/* to a group: its own TTL, the loop, the interface (lo, or a link
	 * with no address: from 127.0.0.1, this host's members alone) */
	struct ip_opts mo;
	int host_only = IP_MULTICAST(dst) &&
			(!s->mc_ttl || s->mc_if == 1 || !netif.configured);
	if (!src && host_only)
		src = LOOPBACK_ADDR;
	if (!src)
		src = s->lip && s->lip != 0xffffffffu ? s->lip
						      : ip_source_for(dst);
	if (IP_MULTICAST(dst)) {
		mo = o ? *o : s->ip;
		mo.ttl = s->mc_ttl ? s->mc_ttl : 1;
		mo.mc_loop = s->mc_loop;
		mo.mc_host_only = (uint8_t)host_only;
		o = &mo;
	} else if (ip_is_broadcast(dst)) {
		mo = o ? *o : s->ip;
		mo.mc_loop = s->mc_loop; /* a broadcast loops back as well */
		o = &mo;
	}
	struct udp_hdr *u = (struct udp_hdr *)pkt;
	u->sport = s->lport;
	u->dport = dport;
	u->len = net16((uint16_t)(sizeof(*u) + len));
	u->csum = 0;
	memcpy(pkt + sizeof(*u), data, len);
	uint32_t sum = inet_pseudo_sum(src, dst, IP_PROTO_UDP,
				       (uint16_t)(sizeof(*u) + len));
	u->csum = inet_csum_done(inet_sum(pkt, sizeof(*u) + len, sum));
	if (!u->csum)
		u->csum = 0xffff;
	if (s->no_check)
		u->csum = 0; /* SO_NO_CHECK: none */
	int r = ip_send(src, dst, IP_PROTO_UDP, pkt, sizeof(*u) + len, NULL,
			o ? o : &s->ip);
	net_mib.udp.out_datagrams += r == 0 || r == -ENOBUFS;
	return r == -ENOBUFS ? 0 : r; /* dropped by the link */
}

int udp_append(struct sock *s, uint32_t src, uint32_t dst, uint16_t dport,
	       const void *data, size_t len, const struct ip_opts *o)
{
	if (!s->cork) {
		if (!dst)
			dst = LOOPBACK_ADDR;
		size_t most = ip_mtu_for(dst) - 20 - sizeof(struct udp_hdr);
		uint32_t pages = (uint32_t)((most + PAGE_SIZE - 1) / PAGE_SIZE);
		uint64_t pa = phys_alloc_contig(pages);
		if (!pa)
			return -ENOBUFS;
		s->cork = phys_to_virt(pa);
		s->cork_pages = pages;
		s->cork_len = 0;
		s->cork_src = src;
		s->cork_dst = dst;
		s->cork_dport = dport;
		s->cork_ip = o ? *o : s->ip;
	}
	if (s->cork_len + len >
	    ip_mtu_for(s->cork_dst) - 20 - sizeof(struct udp_hdr)) {
		udp_cork_drop(s); /* as Linux flushes what was pending */
		return -EMSGSIZE;
	}
	memcpy(s->cork + s->cork_len, data, len);
	s->cork_len += (uint32_t)len;
	return 0;
}

int udp_push(struct sock *s)
{
	int r = udp_send(s, s->cork_src, s->cork_dst, s->cork_dport, s->cork,
			 s->cork_len, &s->cork_ip);
	udp_cork_drop(s);
	return r;
}

void udp_cork_drop(struct sock *s)
{
	for (uint32_t i = 0; s->cork && i < s->cork_pages; i++)
		phys_free(virt_to_phys(s->cork + (size_t)i * PAGE_SIZE));
	s->cork = NULL;
	s->cork_len = 0;
}

/* Take (or with peek, look at) the first datagram: its length, copied
 * up to (cap) into (buf), what came with it into (*m); -EAGAIN if there
 * is none. */
long udp_recv(struct sock *s, void *buf, size_t cap, int peek,
	      struct udp_meta *m)
{
	struct dgram *d = s->head;
	if (!d)
		return -EAGAIN;
	dgram_copy(d, buf, d->len < cap ? d->len : cap);
	*m = d->m;
	long len = d->len;
	if (!peek) {
		QUEUE_DROP_FIRST(s->head, s->tail, next);
		s->queued -= d->len;
		dgram_free(d);
	}
	return len;
}

/* ---- interfaces, as the SIOCGIF* ioctls show them ---- */

/* Linux's struct ifreq: a name, then one of these. */
struct ifreq_abi {
	char name[16];
	union {
		struct {
			uint16_t family;
			uint16_t port;
			uint32_t addr;
			uint8_t zero[8];
		} in;
		struct {
			uint16_t family;
			uint8_t data[14];
		} hw;
		int16_t flags;
		int32_t value; /* index, MTU, queue length */
		uint8_t raw[24];
	} u;
};

struct ifconf_abi {
	int32_t len;
	int32_t pad;
	uint64_t buf;
};

#define IFF_UP 0x1
#define IFF_BROADCAST 0x2
#define IFF_LOOPBACK 0x8
#define IFF_RUNNING 0x40
#define IFF_MULTICAST 0x1000
#define IFF_LOWER_UP 0x10000
#define ARPHRD_ETHER 1
#define ARPHRD_LOOPBACK 772
#define IF_OPER_UNKNOWN 0
#define IF_OPER_UP 6
#define RT_SCOPE_UNIVERSE 0
#define RT_SCOPE_HOST 254
#define RTPROT_BOOT 3
#define TXQLEN 1000 /* what Linux gives a device by default */
#define AF_INET_NR 2

/* Interface (index), 1 the loopback and 2 the device once attached, as
 * the SIOCGIF* ioctls, NETLINK_ROUTE and /proc/net/dev show it: 0 if
 * there is none. */
static int if_link(int index, struct rtnl_link *l)
{
	*l = (struct rtnl_link){.index = index, .txqlen = TXQLEN, .prefix = -1};
	if (index == 1) {
		l->name = "lo";
		l->type = ARPHRD_LOOPBACK;
		l->flags = IFF_UP | IFF_LOOPBACK | IFF_RUNNING | IFF_LOWER_UP;
		l->mtu = 65536; /* Linux's; IPv4 packets end at 65535 */
		l->operstate = IF_OPER_UNKNOWN; /* as Linux's lo */
		l->rx_packets = l->tx_packets = netif.lo_packets;
		l->rx_bytes = l->tx_bytes = netif.lo_bytes;
		l->rx_dropped = netif.lo_dropped;
		l->prefix = 8;
		l->ip = LOOPBACK_ADDR;
		l->scope = RT_SCOPE_HOST;
		return 1;
	}
	if (index != 2 || !netif.up)
		return 0;
	l->name = "eth0";
	l->type = ARPHRD_ETHER;
	l->flags = IFF_UP | IFF_BROADCAST | IFF_RUNNING | IFF_MULTICAST |
		   IFF_LOWER_UP;
	l->mtu = netif.mtu;
	l->operstate = IF_OPER_UP;
	memcpy(l->addr, netif.mac, 6);
	memset(l->brd, 0xff, 6);
	l->rx_packets = netif.rx_frames;
	l->tx_packets = netif.tx_frames;
	l->rx_bytes = netif.rx_bytes;
	l->tx_bytes = netif.tx_bytes;
	l->rx_errors = netif.rx_bad;
	l->rx_dropped = netif.rx_dropped;
	l->tx_dropped = netif.tx_dropped;
	if (netif.configured) {
		l->prefix = 0;
		for (uint32_t m = netif.mask; m; m >>= 1)
			l->prefix += (int)(m & 1);
		l->ip = netif.ip;
		l->ip_brd = netif.ip | ~netif.mask;
		l->scope = RT_SCOPE_UNIVERSE;
	}
	return 1;
}

void if_view(struct rtnl_link links[IF_MAX], struct rtnl_view *v)
{
	int n = 0;
	for (int i = 1; i <= IF_MAX; i++)
		n += if_link(i, &links[n]);
	static struct rtnl_neigh neighs[ARP_ENTRIES];
	*v = (struct rtnl_view){
		links,	     n,	     netif.configured ? netif.gw : 0,
		RTPROT_BOOT, neighs, arp_neighbours(neighs)};
}

const char *if_name(int index)
{
	struct rtnl_link l;
	return if_link(index, &l) ? l.name : NULL;
}

int if_index(const char *name)
{
	for (int i = 1; i <= IF_MAX; i++)
		if (if_name(i) && !strcmp(if_name(i), name))
			return i;
	return 0;
}

/* (l)'s IPv4 address, netmask and broadcast address; 0 if it has
 * none. */
static int if_addrs(const struct rtnl_link *l, uint32_t *addr, uint32_t *mask,
		    uint32_t *bcast)
{
	if (l->prefix < 0)
		return 0;
	*addr = l->ip;
	*mask = __builtin_bswap32(l->prefix ? ~0u << (32 - l->prefix) : 0);
	*bcast = l->ip_brd;
	return 1;
}

/* SIOCGIFCONF: an ifreq with the address of each interface that has
 * one, as many as (ifc_len) holds; without a buffer, the room all take. */
static long if_conf(uint64_t arg)
{
	struct ifconf_abi c;
	if (copy_from_user(&c, arg, sizeof(c)) < 0)
		return -EFAULT;
	int32_t used = 0;
	for (int i = 1; i <= IF_MAX; i++) {
		uint32_t addr, mask, bcast;
		struct rtnl_link l;
		if (!if_link(i, &l) || !if_addrs(&l, &addr, &mask, &bcast))
			continue;
		if (c.buf) {
			if (c.len - used < (int32_t)sizeof(struct ifreq_abi))
				break;
			struct ifreq_abi r = {0};
			memcpy(r.name, l.name, strlen(l.name) + 1);
			r.u.in.family = AF_INET_NR;
			r.u.in.addr = addr;
			if (copy_to_user(c.buf + (uint64_t)used, &r,
					 sizeof(r)) < 0)
				return -EFAULT;
		}
		used += (int32_t)sizeof(struct ifreq_abi);
	}
	c.len = used;
	return copy_to_user(arg, &c, sizeof(c)) < 0 ? -EFAULT : 0;
}

long if_ioctl(unsigned cmd, uint64_t arg)
{
	struct ifreq_abi r;
	if (cmd == SIOCGIFCONF)
		return if_conf(arg);
	switch (cmd) {
	case SIOCADDRT:
	case SIOCDELRT:
	case SIOCSIFFLAGS:
	case SIOCSIFADDR:
	case SIOCSIFDSTADDR:
	case SIOCSIFBRDADDR:
	case SIOCSIFNETMASK:
	case SIOCSIFMTU:
	case SIOCSIFNAME:
	case SIOCSIFHWADDR:
	case SIOCSIFTXQLEN:
		return -EPERM;
	}
	if (cmd != SIOCGIFNAME && cmd != SIOCGIFINDEX && cmd != SIOCGIFFLAGS &&
	    cmd != SIOCGIFADDR && cmd != SIOCGIFNETMASK &&
	    cmd != SIOCGIFBRDADDR && cmd != SIOCGIFHWADDR &&
	    cmd != SIOCGIFMTU && cmd != SIOCGIFTXQLEN)
		return -ENOTTY;
	if (copy_from_user(&r, arg, sizeof(r)) < 0)
		return -EFAULT;
	r.name[sizeof(r.name) - 1] = 0;
	int index = cmd == SIOCGIFNAME ? r.u.value : if_index(r.name);
	struct rtnl_link l;
	if (!if_link(index, &l))
		return -ENODEV;
	uint32_t addr = 0, mask = 0, bcast = 0;
	int has = if_addrs(&l, &addr, &mask, &bcast);
	switch (cmd) {
	case SIOCGIFNAME:
		memcpy(r.name, l.name, strlen(l.name) + 1);
		break;
	case SIOCGIFINDEX:
		r.u.value = index;
		break;
	case SIOCGIFFLAGS:
		r.u.flags = (int16_t)l.flags; /* the low 16 bits, as Linux */
		break;
	case SIOCGIFADDR:
	case SIOCGIFNETMASK:
	case SIOCGIFBRDADDR:
		if (!has)
			return -EADDRNOTAVAIL;
		memset(r.u.raw, 0, sizeof(r.u.raw));
		r.u.in.family = AF_INET_NR;
		r.u.in.addr = cmd == SIOCGIFADDR      ? addr
			      : cmd == SIOCGIFNETMASK ? mask
						      : bcast;
		break;
	case SIOCGIFHWADDR:
		memset(r.u.raw, 0, sizeof(r.u.raw));
		r.u.hw.family = l.type;
		memcpy(r.u.hw.data, l.addr, 6);
		break;
	case SIOCGIFMTU:
		r.u.value = (int32_t)l.mtu;
		break;
	default: /* SIOCGIFTXQLEN */
		r.u.value = (int32_t)l.txqlen;
		break;
	}
	return copy_to_user(arg, &r, sizeof(r)) < 0 ? -EFAULT : 0;
}

/* ---- the socket as a file ---- */

static long sock_read(struct file *f, uint64_t ubuf, uint64_t len)
{
	return sock_recvfrom(f, ubuf, len, 0, NULL);
}

static long sock_write(struct file *f, uint64_t ubuf, uint64_t len)
{
	return sock_sendto(f, ubuf, len, 0, NULL);
}

static long sock_ioctl(struct file *f, unsigned cmd, uint64_t arg)
{
	struct sock *s = sock_of(f);
	int v;
	switch (cmd) {
	case FIONREAD:
		net_poll();
		if (s->tcp)
			v = s->listening ? 0 : (int)s->tcp->rcv.len;
		else
			v = s->head ? s->head->len : 0;
		return copy_to_user(arg, &v, sizeof(v));
	case TIOCOUTQ: /* SIOCOUTQ: what the peer has not acknowledged */
		net_poll();
		if (s->tcp && s->listening)
			return -EINVAL;
		v = s->tcp ? (int)s->tcp->snd.len : 0;
		return copy_to_user(arg, &v, sizeof(v));
	default:
		return if_ioctl(cmd, arg);
	}
}

void sock_link(struct sock *s)
{
	LIST_PUSH(all_socks, s, next, pprev);
}

void sock_free(struct sock *s)
{
	LIST_UNLINK(s, next, pprev);
	if (s->ppprev)
		LIST_UNLINK(s, pnext, ppprev);
	if (s->proto == IP_PROTO_TCP)
		tcp_sock_unhash(s);
	while (s->head) {
		struct dgram *d = s->head;
		s->head = d->next;
		dgram_free(d);
	}
	sock_err_clear(s);
	udp_cork_drop(s);
	for (int i = 0; i < s->nmc; i++)
		ip_mc_leave(s->mc_group[i], s->mc_ifindex[i]);
	if (s->tcp && s->pages)
		tcp_sock_rings_free(s);
	if (s->pages)
		kfree(s->pages, 2 * TCP_RING_PAGES * sizeof(uint8_t *));
	if (s->tcp)
		kfree(s->tcp, sizeof(*s->tcp));
	kfree(s, sizeof(*s));
}

static void sock_release(struct file *f)
{
	struct sock *s = sock_of(f);
	if (!s)
		return;
	f->inode->u.sock = NULL;
	if (s->tcp)
		tcp_sock_release(s); /* frees it, or lets TCP finish */
	else
		sock_free(s);
}

static struct watchers *sock_watchers(struct file *f)
{
	return &sock_of(f)->watchers;
}

const struct file_ops socket_ops = {
	.read = sock_read,
	.write = sock_write,
	.ioctl = sock_ioctl,
	.release = sock_release,
	.watchers = sock_watchers,
};

uint64_t sock_events;

void sock_changed(struct sock *s)
{
	sock_events++;
	watchers_wake(&s->watchers);
}

short socket_ready(struct file *f, short events)
{
	struct sock *s = sock_of(f);
	short ready = POLLOUT | POLLWRNORM;
	net_poll();
	if (s->tcp)
		return (short)(tcp_sock_ready(s) &
			       (events | POLLERR | POLLHUP));
	if (s->head || s->shut_rd)
		ready |= POLLIN | POLLRDNORM;
	if (s->error || s->errq)
		ready |= POLLERR;
	return (short)(ready & (events | POLLERR | POLLHUP));
}

struct file *socket_file_new(const struct file_ops *ops, int nonblock)
{
	struct inode *i = inode_new(S_IFSOCK | 0777);
	if (!i)
		return NULL;
	i->nlink = 0; /* anonymous: lives as long as its files */
	i->fops = ops;
	struct file *f = file_new(i, O_RDWR | (nonblock ? O_NONBLOCK : 0));
	if (!f)
		inode_put(i);
	return f;
}

struct file *sock_file_for(struct sock *s, int nonblock)
{
	struct file *f = socket_file_new(&socket_ops, nonblock);
	if (f)
		f->inode->u.sock = s;
	return f;
}

struct file *sock_create(int type, int proto, int nonblock)
{
	netdev_start(); /* the first socket brings the interface up */
	struct sock *s = kmalloc(sizeof(*s));
	if (!s)
		return NULL;
	s->type = type;
	s->proto = proto;
	s->mc_ttl = 1; /* Linux's multicast defaults */
	s->mc_loop = 1;
	s->mc_all = 1;
	s->rcvbuf = RCVBUF_DEFAULT;
	s->sndbuf = RCVBUF_DEFAULT;
	s->pmtudisc = 1; /* IP_PMTUDISC_WANT, Linux's default */
	sock_link(s);
	struct file *f = NULL;
	if ((s->proto != IP_PROTO_TCP || tcp_sock_init(s) == 0))
		f = sock_file_for(s, nonblock);
	if (!f)
		sock_free(s);
	return f;
}
