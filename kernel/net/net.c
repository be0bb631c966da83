/* net.c: the interface, Ethernet, ARP (RFC 826), IPv4 (RFC 791) and ICMP
 * echo (RFC 792). See net.h.
 */
#include "net/net.h"
#include "net/socket.h"
#include "fs/fs.h"
#include "fresco/queue.h"
#include <linux/stat.h>

#define ARP_PENDING 256
#define ARP_RETRY_NS 1000000000ULL
#define ARP_GIVE_UP_NS 3000000000ULL
#define ARP_TTL_NS (300 * 1000000000ULL)
#define IP_MTU 1500
#define LO_MTU 65535 /* the loopback's for IPv4 (it shows 65536, as Linux) */
#define LOOPBACK 0x0000007fu /* 127.0.0.0/8, network order, low byte */
#define ICMP_UNREACH 3
#define ICMP_FRAG_NEEDED 4 /* an unreachable's code */
#define ICMP_TIME_EXCEEDED 11
#define PMTU_ENTRIES 16
#define PMTU_EXPIRES_NS (600 * 1000000000ULL) /* Linux's mtu_expires */
#define PMTU_MIN 552			      /* and its min_pmtu */
#define IP_MTU_MIN 68			      /* RFC 791 */
#define IP_PROTO_IGMP 2
#define IGMP_QUERY 0x11
#define IGMP_REPORT 0x16 /* version 2 */
#define IGMP_LEAVE 0x17
#define MC_GROUPS 64
#define ALL_HOSTS 0x010000e0u	/* 224.0.0.1, network order */
#define ALL_ROUTERS 0x020000e0u /* 224.0.0.2 */

struct netif netif;
struct net_mib net_mib;

static const uint8_t broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

struct arp_entry {
	uint32_t ip;
	uint8_t mac[6];
	uint64_t expires;
};

struct arp_wait {
	uint32_t next_hop;
	uint64_t since, asked;
	size_t len;
	uint8_t *frame; /* Ethernet frame, destination to be filled */
	struct netdev_tx tx;
	int has_tx;
};

static struct arp_entry arp_table[ARP_ENTRIES];
static struct arp_wait arp_pending[ARP_PENDING];
static uint16_t ip_id;

void net_interface_up(const uint8_t mac[6], unsigned mtu)
{
	memcpy(netif.mac, mac, 6);
	netif.mtu = mtu;
	netif.up = 1;
}

int net_configure(const char *ip, const char *gw, const char *dns)
{
	char addr[16];
	const char *slash = strchr(ip, '/');
	size_t n = slash ? (size_t)(slash - ip) : strlen(ip);
	unsigned prefix = 24;
	if (n >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, ip, n);
	addr[n] = '\0';
	if (slash) {
		prefix = 0;
		for (const char *p = slash + 1; *p; p++) {
			if (*p < '0' || *p > '9')
				return -EINVAL;
			prefix = prefix * 10 + (unsigned)(*p - '0');
			if (prefix > 32)
				return -EINVAL;
		}
	}
	if (inet_parse(addr, &netif.ip) < 0 ||
	    (gw && inet_parse(gw, &netif.gw) < 0) ||
	    (dns && inet_parse(dns, &netif.dns) < 0))
		return -EINVAL;
	netif.mask = net32(prefix ? ~0u << (32 - prefix) : 0);
	netif.configured = 1;
	return 0;
}

static void fmt_ip(char *buf, size_t cap, uint32_t a)
{
	uint32_t h = net32(a);
	snprintf(buf, cap, "%u.%u.%u.%u", h >> 24, (h >> 16) & 255,
		 (h >> 8) & 255, h & 255);
}

/* Write (text) to (path) unless the image brought its own file there. */
static void write_if_absent(const char *path, const char *text, size_t n)
{
	struct walk w;
	if (path_walk(fs_root, path, 0, &w) == 0) {
		walk_done(&w);
		return;
	}
	if (fs_mkdir_p("/etc") < 0 ||
	    path_walk(fs_root, path, WALK_PARENT, &w) < 0)
		return;
	struct inode *i = inode_new(S_IFREG | 0644);
	if (i && dir_link(w.parent, w.last, w.last_len, i) == 0)
		file_data_write_kernel(i, text, (uint64_t)n, 0);
	walk_done(&w);
}

void net_write_etc(void)
{
	char ip[16], text[128];
	if (!netif.configured)
		return;
	fmt_ip(ip, sizeof(ip), netif.ip);
	int n = snprintf(text, sizeof(text),
			 "127.0.0.1\tlocalhost\n::1\tlocalhost\n%s\tfresco\n",
			 ip);
	write_if_absent("/etc/hosts", text, (size_t)n);
	if (!netif.dns)
		return;
	fmt_ip(ip, sizeof(ip), netif.dns);
	n = snprintf(text, sizeof(text), "nameserver %s\n", ip);
	write_if_absent("/etc/resolv.conf", text, (size_t)n);
}

/* ---- Ethernet and ARP ---- */

/* Send (len) bytes at (payload), which has ETH_HLEN writable bytes
 * before it for the Ethernet header. */
static int eth_xmit(const uint8_t dst[6], uint16_t type, uint8_t *payload,
		    size_t len, const struct netdev_tx *tx)
{
	struct eth_hdr *e = (struct eth_hdr *)(payload - ETH_HLEN);
	memcpy(e->dst, dst, 6);
	memcpy(e->src, netif.mac, 6);
	e->type = net16(type);
	netif.tx_frames++;
	netif.tx_bytes += ETH_HLEN + len;
	return netdev_send(e, ETH_HLEN + len, tx);
}

static int eth_send(const uint8_t dst[6], uint16_t type, const void *payload,
		    size_t len)
{
	static uint8_t out[ETH_HLEN + IP_MTU];
	if (len > IP_MTU)
		return -EMSGSIZE;
	memcpy(out + ETH_HLEN, payload, len);
	return eth_xmit(dst, type, out + ETH_HLEN, len, NULL);
}

/* A frame kept while its next hop is asked for: up to a page from
 * kmalloc, a bigger one (a wide link's) in consecutive pages. */
static uint8_t *frame_alloc(size_t len)
{
	if (len <= PAGE_SIZE)
		return kmalloc(len);
	uint64_t pa = phys_alloc_contig((len + PAGE_SIZE - 1) / PAGE_SIZE);
	return pa ? phys_to_virt(pa) : NULL;
}

static void frame_free(uint8_t *p, size_t len)
{
	if (len <= PAGE_SIZE) {
		kfree(p, len);
		return;
	}
	for (size_t off = 0; off < len; off += PAGE_SIZE)
		phys_free(virt_to_phys(p + off));
}

static struct arp_entry *arp_find(uint32_t ip)
{
	uint64_t now = clock_monotonic_ns();
	for (int i = 0; i < ARP_ENTRIES; i++)
		if (arp_table[i].ip == ip && arp_table[i].expires > now)
			return &arp_table[i];
	return NULL;
}

int arp_neighbours(struct rtnl_neigh *out)
{
	uint64_t now = clock_monotonic_ns();
	int n = 0;
	for (int i = 0; i < ARP_ENTRIES; i++)
		if (arp_table[i].expires > now) {
			out[n].ip = arp_table[i].ip;
			memcpy(out[n].mac, arp_table[i].mac, 6);
			out[n++].index = 2;
		}
	return n;
}

/* ---- multicast ---- */

static struct {
	uint32_t group;
	int ifindex, users;
} mc_groups[MC_GROUPS];

static void igmp_send(uint8_t type, uint32_t group, uint32_t dst)
{
	static uint8_t buf[NET_HEADROOM + 8];
	uint8_t *m = buf + NET_HEADROOM;
	static const struct ip_opts once = {.ttl = 1};
	memset(m, 0, 8);
	m[0] = type;
	memcpy(m + 4, &group, 4);
	uint16_t c = inet_csum_done(inet_sum(m, 8, 0));
	memcpy(m + 2, &c, 2);
	if (netif.configured)
		ip_send(netif.ip, dst, IP_PROTO_IGMP, m, 8, NULL, &once);
}

int ip_mc_join(uint32_t group, int ifindex)
{
	int free = -1;
	for (int i = 0; i < MC_GROUPS; i++) {
		if (mc_groups[i].users && mc_groups[i].group == group &&
		    mc_groups[i].ifindex == ifindex) {
			mc_groups[i].users++;
			return 0;
		}
		if (!mc_groups[i].users && free < 0)
			free = i;
	}
	if (free < 0)
		return -ENOBUFS;
	mc_groups[free].group = group;
	mc_groups[free].ifindex = ifindex;
	mc_groups[free].users = 1;
	if (ifindex == 2)
		igmp_send(IGMP_REPORT, group, group);
	return 0;
}

void ip_mc_leave(uint32_t group, int ifindex)
{
	for (int i = 0; i < MC_GROUPS; i++)
		if (mc_groups[i].users && mc_groups[i].group == group &&
		    mc_groups[i].ifindex == ifindex) {
			if (--mc_groups[i].users == 0 && ifindex == 2)
				igmp_send(IGMP_LEAVE, group, ALL_ROUTERS);
			return;
		}
}

int ip_mc_joined(uint32_t group)
{
	for (int i = 0; i < MC_GROUPS; i++)
		if (mc_groups[i].users && mc_groups[i].group == group)
			return 1;
	return 0;
}

/* A router asks who is in a group (0: any): each of ours on the link
 * answers (at once, where RFC 2236 spreads the answers out). */
static void igmp_input(const uint8_t *p, size_t len)
{
	uint32_t group;
	if (len < 8 || p[0] != IGMP_QUERY ||
	    inet_csum_done(inet_sum(p, len, 0)) != 0)
		return;
	memcpy(&group, p + 4, 4);
	for (int i = 0; i < MC_GROUPS; i++)
		if (mc_groups[i].users && mc_groups[i].ifindex == 2 &&
		    (!group || group == mc_groups[i].group))
			igmp_send(IGMP_REPORT, mc_groups[i].group,
				  mc_groups[i].group);
}

static void arp_request(uint32_t ip)
{
	struct arp_pkt a = {
		.htype = net16(1),
		.ptype = net16(ETH_P_IP),
		.hlen = 6,
		.plen = 4,
		.op = net16(1),
		.spa = netif.ip,
		.tpa = ip,
	};
	memcpy(a.sha, netif.mac, 6);
	eth_send(broadcast, ETH_P_ARP, &a, sizeof(a));
}

static void arp_learn(uint32_t ip, const uint8_t mac[6])
{
	struct arp_entry *slot = NULL;
	uint64_t now = clock_monotonic_ns();
	for (int i = 0; i < ARP_ENTRIES && !slot; i++)
		if (arp_table[i].ip == ip)
			slot = &arp_table[i];
	for (int i = 0; i < ARP_ENTRIES && !slot; i++)
		if (arp_table[i].expires <= now)
			slot = &arp_table[i];
	if (!slot)
		slot = &arp_table[ip % ARP_ENTRIES];
	slot->ip = ip;
	memcpy(slot->mac, mac, 6);
	slot->expires = now + ARP_TTL_NS;
	/* send what waited for it */
	for (int i = 0; i < ARP_PENDING; i++) {
		struct arp_wait *w = &arp_pending[i];
		if (!w->frame || w->next_hop != ip)
			continue;
		memcpy(((struct eth_hdr *)w->frame)->dst, mac, 6);
		netdev_send(w->frame, w->len, w->has_tx ? &w->tx : NULL);
		frame_free(w->frame, w->len);
		w->frame = NULL;
	}
}

static void arp_input(const uint8_t *p, size_t len)
{
	const struct arp_pkt *a = (const struct arp_pkt *)p;
	if (len < sizeof(*a) || a->htype != net16(1) ||
	    a->ptype != net16(ETH_P_IP) || a->hlen != 6 || a->plen != 4)
		return;
	if (!netif.configured)
		return;
	if (a->tpa == netif.ip || arp_find(a->spa))
		arp_learn(a->spa, a->sha);
	if (a->op == net16(1) && a->tpa == netif.ip) {
		struct arp_pkt r = {
			.htype = net16(1),
			.ptype = net16(ETH_P_IP),
			.hlen = 6,
			.plen = 4,
			.op = net16(2),
			.spa = netif.ip,
			.tpa = a->spa,
		};
		memcpy(r.sha, netif.mac, 6);
		memcpy(r.tha, a->sha, 6);
		eth_send(a->sha, ETH_P_ARP, &r, sizeof(r));
	}
}

static void unreachable_error(const uint8_t *orig, size_t len, uint8_t code,
			      uint32_t offender);

/* Retry or give up on addresses that did not answer. */
static void arp_timers(void)
{
	uint64_t now = clock_monotonic_ns();
	for (int i = 0; i < ARP_PENDING; i++) {
		struct arp_wait *w = &arp_pending[i];
		if (!w->frame)
			continue;
		if (now - w->since > ARP_GIVE_UP_NS) {
			/* as Linux: its sender hears "host unreachable" (a
			 * connect to an address nobody has fails so) */
			uint8_t *frame = w->frame;
			w->frame = NULL;
			unreachable_error(frame + ETH_HLEN, w->len - ETH_HLEN,
					  1, netif.ip);
			frame_free(frame, w->len);
		} else if (now - w->asked > ARP_RETRY_NS) {
			w->asked = now;
			arp_request(w->next_hop);
		}
	}
}

/* ---- IPv4 ---- */

int ip_is_local(uint32_t dst)
{
	return (dst & 0xff) == LOOPBACK ||
	       (netif.configured && dst == netif.ip);
}

int ip_is_broadcast(uint32_t dst)
{
	return dst == 0xffffffffu ||
	       (netif.configured && dst == (netif.ip | ~netif.mask));
}

uint32_t ip_source_for(uint32_t dst)
{
	if ((dst & 0xff) == LOOPBACK)
		return dst;
	return netif.ip;
}

static void ip_input(const uint8_t *pkt, size_t len,
		     const struct tcp_part *more, unsigned nmore, int csum_ok);

/* A frame or packet spread over buffers or pages, joined for a
 * protocol that wants it whole (eth_input, loopback_deliver; never one
 * inside the other). */
static uint8_t joined[ETH_HLEN + 65535];

/* The loopback interface: packets to this host wait here until net_poll
 * delivers them, so that answering one never nests inside sending one.
 * A checksum left for the device is left unfinished (no device touches
 * them), as on Linux's loopback. Its MTU is IPv4's largest packet, as
 * Linux's (65536); a packet that does not fit beside its header in one
 * kmalloc block is kept in pages, and joined when delivered. */
#define LOOPBACK_MAX 4096
#define LO_PAGES ((65535 + PAGE_SIZE - 1) / PAGE_SIZE)
struct lo_pkt {
	struct lo_pkt *next;
	size_t len;
	int csum_ok;
	unsigned npages; /* 0: the packet is in data */
	uint8_t data[];	 /* or, with pages, their addresses */
};
static struct lo_pkt *lo_head, *lo_tail;
static unsigned lo_count;

static size_t lo_size(const struct lo_pkt *p)
{
	return sizeof(*p) + (p->npages ? p->npages * sizeof(void *) : p->len);
}

/* The bytes of a (len)-byte packet kept in pages that its page (i)
 * holds. */
static size_t lo_piece(size_t len, unsigned i)
{
	size_t off = (size_t)i * PAGE_SIZE;
	return len - off < PAGE_SIZE ? len - off : PAGE_SIZE;
}

static void lo_free(struct lo_pkt *p)
{
	uint8_t **page = (uint8_t **)p->data;
	for (unsigned i = 0; i < p->npages; i++)
		if (page[i])
			phys_free(virt_to_phys(page[i]));
	kfree(p, lo_size(p));
}

static int loopback_queue(const uint8_t *pkt, size_t len, int csum_ok)
{
	int big = sizeof(struct lo_pkt) + len > PAGE_SIZE;
	unsigned npages =
		big ? (unsigned)((len + PAGE_SIZE - 1) / PAGE_SIZE) : 0;
	struct lo_pkt *p = NULL;
	if (lo_count < LOOPBACK_MAX && npages <= LO_PAGES)
		p = kmalloc(sizeof(*p) + (big ? npages * sizeof(void *) : len));
	if (p) {
		p->len = len;
		p->csum_ok = csum_ok;
		p->npages = npages;
		uint8_t **page = (uint8_t **)p->data;
		for (unsigned i = 0; i < npages; i++) {
			uint64_t pa = phys_alloc_dirty();
			page[i] = pa ? phys_to_virt(pa) : NULL;
			if (!pa) {
				lo_free(p);
				p = NULL;
				break;
			}
			memcpy(page[i], pkt + (size_t)i * PAGE_SIZE,
			       lo_piece(len, i));
		}
		if (p && !big)
			memcpy(p->data, pkt, len);
	}
	if (!p) {
		netif.lo_dropped++;
		return -ENOBUFS;
	}
	netif.lo_packets++;
	netif.lo_bytes += len;
	QUEUE_APPEND(lo_head, lo_tail, p, next);
	lo_count++;
	return 0;
}

static int loopback_deliver(void)
{
	int n = 0;
	while (lo_head) {
		struct lo_pkt *p = lo_head;
		QUEUE_DROP_FIRST(lo_head, lo_tail, next);
		lo_count--;
		const uint8_t *pkt = p->data;
		if (p->npages) {
			uint8_t **page = (uint8_t **)p->data;
			for (unsigned i = 0; i < p->npages; i++)
				memcpy(joined + (size_t)i * PAGE_SIZE, page[i],
				       lo_piece(p->len, i));
			pkt = joined;
		}
		ip_input(pkt, p->len, NULL, 0, p->csum_ok);
		lo_free(p);
		n++;
	}
	return n;
}

static int ip_send_one(uint32_t src, uint32_t dst, uint8_t proto,
		       uint8_t *payload, size_t len, const struct netdev_tx *tx,
		       const struct ip_opts *o)
{
	static const struct ip_opts defaults;
	if (!o)
		o = &defaults;
	const size_t hl = sizeof(struct ip_hdr);
	size_t mtu = tx && tx->gso_size ? 65535 : ip_mtu_for(dst);
	if (len > mtu - hl)
		return -EMSGSIZE;
	struct ip_hdr *ip = (struct ip_hdr *)(payload - hl);
	*ip = (struct ip_hdr){
		.vihl = 0x45,
		.tos = o->tos,
		.len = net16((uint16_t)(hl + len)),
		.id = net16(ip_id),
		.frag = o->may_fragment ? 0 : net16(0x4000),
		.ttl = o->ttl ? o->ttl : 64,
		.proto = proto,
		.src = src ? src : ip_source_for(dst),
		.dst = dst,
	};
	/* the device numbers the segments it cuts from this one */
	ip_id = (uint16_t)(ip_id + (tx && tx->gso_size ? (len - tx->hdr_len +
							  tx->gso_size - 1) /
								 tx->gso_size
						       : 1));
	ip->csum = inet_csum_done(inet_sum(ip, hl, 0));
	size_t total = hl + len;
	if (ip_is_local(dst))
		return loopback_queue((uint8_t *)ip, total, tx && tx->csum);
	if (IP_MULTICAST(dst)) {
		/* this host's members hear it through the loopback; the
		 * link's, at the group's Ethernet address (RFC 1112 6.4) */
		const uint8_t *g = (const uint8_t *)&dst;
		uint8_t mac[6] = {0x01, 0x00, 0x5e, g[1] & 0x7f, g[2], g[3]};
		if (o->mc_loop && ip_mc_joined(dst))
			loopback_queue((uint8_t *)ip, total, tx && tx->csum);
		if (o->mc_host_only || !netif.up)
			return 0;
		return eth_xmit(mac, ETH_P_IP, (uint8_t *)ip, total, NULL) < 0
			       ? -ENOBUFS
			       : 0;
	}
	if (!netif.up)
		return -ENETUNREACH;
	/* the device's offsets count from the frame's start */
	struct netdev_tx ftx;
	if (tx) {
		ftx = *tx;
		ftx.csum_start = (uint16_t)(ftx.csum_start + ETH_HLEN + hl);
		ftx.hdr_len = (uint16_t)(ftx.hdr_len + ETH_HLEN + hl);
	}
	const struct netdev_tx *dtx = tx ? &ftx : NULL;
	if (ip_is_broadcast(dst)) {
		/* this host hears its own broadcasts too, as on Linux */
		if (o->mc_loop)
			loopback_queue((uint8_t *)ip, total, tx && tx->csum);
		return eth_xmit(broadcast, ETH_P_IP, (uint8_t *)ip, total,
				dtx) < 0
			       ? -ENOBUFS
			       : 0;
	}
	if (!netif.configured)
		return -ENETUNREACH;
	uint32_t hop =
		(dst & netif.mask) == (netif.ip & netif.mask) ? dst : netif.gw;
	if (!hop)
		return -ENETUNREACH;
	struct arp_entry *e = arp_find(hop);
	if (e)
		return eth_xmit(e->mac, ETH_P_IP, (uint8_t *)ip, total, dtx) < 0
			       ? -ENOBUFS
			       : 0;
	/* keep the frame until the next hop answers; one too big to keep
	 * is dropped (TCP sends it again) */
	for (int i = 0; i < ARP_PENDING; i++) {
		struct arp_wait *w = &arp_pending[i];
		if (w->frame)
			continue;
		w->len = ETH_HLEN + total;
		w->frame = frame_alloc(w->len);
		if (!w->frame) {
			arp_request(hop);
			return -ENOBUFS;
		}
		struct eth_hdr *eh = (struct eth_hdr *)w->frame;
		memcpy(eh->src, netif.mac, 6);
		eh->type = net16(ETH_P_IP);
		memcpy(w->frame + ETH_HLEN, ip, total);
		w->has_tx = tx != NULL;
		if (tx)
			w->tx = ftx;
		w->next_hop = hop;
		w->since = w->asked = clock_monotonic_ns();
		arp_request(hop);
		return 0;
	}
	return -ENOBUFS;
}

int ip_send(uint32_t src, uint32_t dst, uint8_t proto, uint8_t *payload,
	    size_t len, const struct netdev_tx *tx, const struct ip_opts *o)
{
	int r = ip_send_one(src, dst, proto, payload, len, tx, o);
	net_mib.ip.out_requests++;
	if (r == 0)
		net_mib.ip.out_transmits++;
	else if (r == -ENETUNREACH)
		net_mib.ip.out_no_routes++;
	else
		net_mib.ip.out_discards++;
	if (proto == IP_PROTO_ICMP && len) {
		net_mib.icmp.out_msgs++;
		if (payload[0] < ICMP_TYPES)
			net_mib.icmp.out_type[payload[0]]++;
		net_mib.icmp.out_errors += r != 0;
	}
	return r;
}

int ip_output(uint32_t src, uint32_t dst, uint8_t proto, const void *payload,
	      size_t len)
{
	static uint8_t pkt[NET_HEADROOM + IP_MTU];
	if (len > IP_MTU - sizeof(struct ip_hdr))
		return -EMSGSIZE;
	memcpy(pkt + NET_HEADROOM, payload, len);
	return ip_send(src, dst, proto, pkt + NET_HEADROOM, len, NULL, NULL);
}

void icmp_unreachable(const struct ip_hdr *ip, uint8_t code)
{
	static uint64_t second;
	static unsigned sent;
	static uint8_t msg[576 - sizeof(struct ip_hdr)];
	uint64_t now = clock_monotonic_ns() / 1000000000ULL;
	if (now != second) {
		second = now;
		sent = 0;
	}
	/* not to a broadcast or multicast, nor from no one in particular */
	uint32_t src = net32(ip->src), dst = net32(ip->dst);
	if (!src || src >= 0xe0000000u || dst >= 0xe0000000u ||
	    !ip_is_local(ip->dst))
		return;
	if (sent >= ICMP_ERRORS_PER_SEC) {
		net_mib.icmp.out_rate_limit_global++;
		return;
	}
	sent++;
	/* the datagram's header and as much of the rest as fits in 576 */
	size_t orig = net16(ip->len), room = sizeof(msg) - 8;
	struct icmp_hdr *h = (struct icmp_hdr *)msg;
	*h = (struct icmp_hdr){.type = 3, .code = code};
	memcpy(msg + 8, ip, orig < room ? orig : room);
	size_t len = 8 + (orig < room ? orig : room);
	h->csum = inet_csum_done(inet_sum(msg, len, 0));
	ip_output(ip->dst, ip->src, IP_PROTO_ICMP, msg, len);
}

/* errno for an ICMP destination unreachable (code), and whether it is
 * hard (ends a connection); Linux's table. */
static const struct {
	uint8_t err, hard;
} unreach[16] = {
	{ENETUNREACH, 0},  {EHOSTUNREACH, 0}, {ENOPROTOOPT, 1},
	{ECONNREFUSED, 1}, {EMSGSIZE, 0},     {EOPNOTSUPP, 0},
	{ENETUNREACH, 1},  {EHOSTDOWN, 1},    {ENONET, 1},
	{ENETUNREACH, 1},  {EHOSTUNREACH, 1}, {ENETUNREACH, 0},
	{EHOSTUNREACH, 0}, {EHOSTUNREACH, 1}, {EHOSTUNREACH, 1},
	{EHOSTUNREACH, 1},
};

/* An ICMP error (r) about the packet of ours that (orig) starts (its
 * IPv4 header and at least 8 bytes after it): to the socket that sent
 * it. 1 if it is one of ours (UDP and ICMP), else 0. */
static int report_error(const uint8_t *orig, size_t len,
			const struct icmp_report *r)
{
	const struct ip_hdr *ip = (const struct ip_hdr *)orig;
	if (len < sizeof(*ip))
		return 0;
	if (ip->proto == IP_PROTO_UDP)
		return udp_icmp_error(orig, len, r);
	if (ip->proto == IP_PROTO_ICMP)
		return icmp_sock_error(orig, len, r);
	if (ip->proto == IP_PROTO_TCP)
		tcp_sock_icmp_error(orig, len, r->err);
	return 0;
}

/* ---- path MTU discovery (RFC 1191) ---- */

static struct {
	uint32_t dst, mtu;
	uint64_t expires;
} pmtu[PMTU_ENTRIES];

/* What a router said (dst)'s path takes, if it said so lately; 0 if
 * not. */
static uint32_t pmtu_of(uint32_t dst)
{
	uint64_t now = clock_monotonic_ns();
	for (int i = 0; i < PMTU_ENTRIES; i++)
		if (pmtu[i].dst == dst && pmtu[i].expires > now)
			return pmtu[i].mtu;
	return 0;
}

static void pmtu_learn(uint32_t dst, uint32_t mtu)
{
	uint64_t now = clock_monotonic_ns();
	int slot = 0;
	for (int i = 0; i < PMTU_ENTRIES; i++) {
		if (pmtu[i].dst == dst || pmtu[i].expires <= now) {
			slot = i;
			break;
		}
		if (pmtu[i].expires < pmtu[slot].expires)
			slot = i; /* else the one that ends soonest */
	}
	pmtu[slot].dst = dst;
	pmtu[slot].mtu = mtu;
	pmtu[slot].expires = now + PMTU_EXPIRES_NS;
}

size_t ip_mtu_for(uint32_t dst)
{
	if (ip_is_local(dst))
		return LO_MTU;
	uint32_t link = netif.mtu ? netif.mtu : IP_MTU, path = pmtu_of(dst);
	return path && path < link ? path : link;
}

/* Fragmentation needed (an ICMP destination unreachable, code 4) about
 * (orig): a router on the way takes packets of (mtu) bytes at most.
 * Learnt for the destination, as Linux does, for PMTU_EXPIRES_NS, if it
 * is about what one of our sockets sent (for TCP, a sequence number in
 * flight: a blind attacker cannot shrink our segments): its connections
 * send smaller segments at once; a UDP or ping socket hears EMSGSIZE,
 * the error queue telling the MTU. News of a larger MTU, or of an MTU
 * below what IPv4 requires (old routers say 0), is not taken. */
static void frag_needed(const uint8_t *orig, size_t len, uint32_t mtu,
			uint32_t offender)
{
	const struct ip_hdr *ip = (const struct ip_hdr *)orig;
	if (len < sizeof(*ip) || mtu < IP_MTU_MIN || mtu >= ip_mtu_for(ip->dst))
		return;
	if (mtu < PMTU_MIN)
		mtu = PMTU_MIN;
	struct icmp_report r = {EMSGSIZE,	  1,	    ICMP_UNREACH,
				ICMP_FRAG_NEEDED, offender, mtu};
	if (ip->proto == IP_PROTO_TCP ? tcp_sock_mtu_reduced(orig, len, mtu)
				      : report_error(orig, len, &r))
		pmtu_learn(ip->dst, mtu);
}

/* An error about a packet of ours: its header and first bytes follow
 * the ICMP header. Destination unreachable and time exceeded (what
 * traceroute hears) go to the sending socket: a connect fails at once
 * ("No route to host" rather than a timeout two minutes later). */
static void icmp_error(const struct ip_hdr *from, const uint8_t *p, size_t len)
{
	const struct icmp_hdr *h = (const struct icmp_hdr *)p;
	struct icmp_report r = {EHOSTUNREACH, 0,	 h->type,
				h->code,      from->src, 0};
	if (h->type == ICMP_UNREACH && h->code == ICMP_FRAG_NEEDED)
		frag_needed(p + 8, len - 8, net16(h->seq), from->src);
	else if (h->type == ICMP_UNREACH)
		unreachable_error(p + 8, len - 8, h->code, from->src);
	else if (h->type == ICMP_TIME_EXCEEDED)
		report_error(p + 8, len - 8, &r);
}

/* Destination unreachable (code), said by (offender), for the packet of
 * ours that (orig) starts. */
static void unreachable_error(const uint8_t *orig, size_t len, uint8_t code,
			      uint32_t offender)
{
	if (code >= 16)
		return;
	struct icmp_report r = {unreach[code].err, unreach[code].hard,
				ICMP_UNREACH,	   code,
				offender,	   0};
	report_error(orig, len, &r);
}

static void icmp_input(const struct ip_hdr *ip, const uint8_t *p, size_t len)
{
	const struct icmp_hdr *h = (const struct icmp_hdr *)p;
	net_mib.icmp.in_msgs++;
	if (len < sizeof(*h) || inet_csum_done(inet_sum(p, len, 0)) != 0) {
		netif.rx_bad++;
		net_mib.icmp.in_errors++;
		net_mib.icmp.in_csum_errors += len >= sizeof(*h);
		return;
	}
	if (h->type < ICMP_TYPES)
		net_mib.icmp.in_type[h->type]++;
	icmp_sock_input(ip, p, len); /* ping and raw sockets */
	if (h->type == ICMP_UNREACH || h->type == ICMP_TIME_EXCEEDED) {
		icmp_error(ip, p, len);
		return;
	}
	if (h->type != 8 || h->code != 0)
		return; /* of the rest, only echo requests are answered */
	/* as long as the link's MTU (a TAP's may be 9000), built where
	 * sockets build what they send: none is building while frames
	 * come in */
	uint8_t *reply = sock_tx + NET_HEADROOM;
	memcpy(reply, p, len);
	struct icmp_hdr *r = (struct icmp_hdr *)reply;
	r->type = 0;
	r->csum = 0;
	r->csum = inet_csum_done(inet_sum(reply, len, 0));
	ip_send(ip->dst, ip->src, IP_PROTO_ICMP, reply, len, NULL, NULL);
}

/* An IPv4 packet of (len) bytes: those at (pkt), then the (nmore) parts
 * at (more), which only a TCP segment eth_input vetted has. */
static void ip_input(const uint8_t *pkt, size_t len,
		     const struct tcp_part *more, unsigned nmore, int csum_ok)
{
	size_t plen;
	int hl = ip_check(pkt, len, &plen);
	net_mib.ip.in_receives++;
	if (hl == IP_FRAGMENT) {
		net_mib.ip.reasm_reqds++;
		net_mib.ip.reasm_fails++;
		return;
	}
	if (hl < 0) {
		netif.rx_bad++;
		net_mib.ip.in_hdr_errors++;
		return;
	}
	const struct ip_hdr *ip = (const struct ip_hdr *)pkt;
	/* before DHCP gave an address, a reply may come to the one offered */
	int for_us = ip_is_local(ip->dst) || ip_is_broadcast(ip->dst) ||
		     (!netif.configured && ip->proto == IP_PROTO_UDP) ||
		     (IP_MULTICAST(ip->dst) &&
		      (ip->dst == ALL_HOSTS || ip_mc_joined(ip->dst)));
	if (!for_us) {
		net_mib.ip.in_addr_errors++;
		return;
	}
	const uint8_t *payload = pkt + hl;
	switch (ip->proto) {
	case IP_PROTO_ICMP:
		icmp_input(ip, payload, plen);
		break;
	case IP_PROTO_UDP:
		if (!dhcp_input(ip, payload, plen))
			udp_input(ip, payload, plen, csum_ok);
		break;
	case IP_PROTO_TCP:
		tcp_sock_input(ip, payload, plen, more, nmore, csum_ok);
		break;
	case IP_PROTO_IGMP:
		igmp_input(payload, plen);
		break;
	default:
		net_mib.ip.in_unknown_protos++;
		return;
	}
	net_mib.ip.in_delivers++;
}

/* A frame spread over receive buffers is taken as it lies when it is a
 * TCP segment the device vouched for whose headers are all in its first
 * part and that fills the frame: its payload goes from the buffers into
 * the connection's ring. Anything else is joined here first. */
#define SPREAD_HEAD (ETH_HLEN + 60 + 60) /* the longest headers */

static int takes_spread(const uint8_t *frame, size_t head, size_t len,
			int csum_ok)
{
	const struct eth_hdr *e = (const struct eth_hdr *)frame;
	const struct ip_hdr *ip = (const struct ip_hdr *)(frame + ETH_HLEN);
	return csum_ok && head >= SPREAD_HEAD && e->type == net16(ETH_P_IP) &&
	       ip->proto == IP_PROTO_TCP && net16(ip->len) == len - ETH_HLEN;
}

/* A received frame of (len) bytes: those at (frame), then the (nmore)
 * parts at (more). */
static void eth_input(const uint8_t *frame, size_t len,
		      const struct tcp_part *more, unsigned nmore, int csum_ok)
{
	const struct eth_hdr *e = (const struct eth_hdr *)frame;
	size_t head = len;
	for (unsigned i = 0; i < nmore; i++)
		head -= more[i].len;
	netif.rx_frames++;
	netif.rx_bytes += len;
	if (head < ETH_HLEN || head > len) {
		netif.rx_bad++;
		return;
	}
	if (nmore && !takes_spread(frame, head, len, csum_ok)) {
		if (len > sizeof(joined)) {
			netif.rx_bad++;
			return;
		}
		memcpy(joined, frame, head);
		for (unsigned i = 0; i < nmore; i++) {
			memcpy(joined + head, more[i].p, more[i].len);
			head += more[i].len;
		}
		frame = joined;
		e = (const struct eth_hdr *)frame;
		nmore = 0;
	}
	/* ours, broadcast, or multicast (ip_input keeps its groups') */
	if (memcmp(e->dst, netif.mac, 6) && !(e->dst[0] & 1))
		return;
	if (e->type == net16(ETH_P_ARP))
		arp_input(frame + ETH_HLEN, len - ETH_HLEN);
	else if (e->type == net16(ETH_P_IP))
		ip_input(frame + ETH_HLEN, len - ETH_HLEN, more, nmore,
			 csum_ok);
}

uint64_t net_next_timer = UINT64_MAX;

#define EXIT_DRAIN_NS 5000000000ULL

void net_exit(void)
{
	tcp_sock_drain(EXIT_DRAIN_NS);
}

int net_poll(void)
{
	uint64_t events = sock_events;
	int n = netif.up ? netdev_poll(eth_input) : 0;
	if (netif.up)
		arp_timers();
	/* TCP's timers, for loopback connections too, and DHCP's. They
	 * send the ACKs the input just earned, one per connection, and
	 * those that loopback traffic earns go round again. */
	do {
		n += loopback_deliver();
		uint64_t now = clock_monotonic_ns();
		uint64_t tcp = tcp_sock_timers(now), dhcp = dhcp_timers(now);
		net_next_timer = tcp < dhcp ? tcp : dhcp;
	} while (lo_head);
	/* a timer that closed a connection, or offered one, counts as
	 * input: whoever waits looks again */
	return n + (sock_events != events);
}
