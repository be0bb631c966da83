/* rtnl.c: NETLINK_ROUTE answers from a view of the network (rtnl.h).
 * Messages are laid out as Linux's rtnetlink lays them out (attribute
 * order included), since programs that print them show that order.
 */
#include "lib/rtnl.h"
#include <linux/errno.h>
#include <linux/if_addr.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string.h>

#define AF_INET_NR 2
#define AF_INET6_NR 10
#define IFF_LOOPBACK_FLAG 0x8
#define IFF_BROADCAST_FLAG 0x2
#define MSG_MAX 1024	   /* the longest message built: a link's */
#define LIFE_FOREVER (~0u) /* struct ifa_cacheinfo: a permanent address */
#define DUMPED 1	   /* a handler's answer: a dump, never acknowledged */

struct msg {
	uint8_t b[MSG_MAX];
	size_t len;
};

/* Reply datagrams being filled. */
struct batch {
	uint8_t d[RTNL_DGRAM_MAX];
	size_t used;
	rtnl_out out;
	void *ctx;
	int err;
	uint32_t portid, seq;
};

static void flush(struct batch *b)
{
	if (b->used && !b->err)
		b->err = b->out(b->ctx, b->d, b->used);
	b->used = 0;
}

static void add(struct batch *b, const struct msg *m)
{
	if (b->used + m->len > sizeof(b->d))
		flush(b);
	memcpy(b->d + b->used, m->b, m->len);
	b->used += m->len;
}

/* Start (m) as a (type) message with a zeroed fixed part of (fixed)
 * bytes, which it returns. */
static void *start(struct msg *m, const struct batch *b, uint16_t type,
		   uint16_t flags, size_t fixed)
{
	struct nlmsghdr h = {.nlmsg_type = type,
			     .nlmsg_flags = flags,
			     .nlmsg_seq = b->seq,
			     .nlmsg_pid = b->portid};
	memset(m->b, 0, NLMSG_HDRLEN + NLMSG_ALIGN(fixed));
	memcpy(m->b, &h, sizeof(h));
	m->len = NLMSG_HDRLEN + NLMSG_ALIGN(fixed);
	return m->b + NLMSG_HDRLEN;
}

static void attr(struct msg *m, uint16_t type, const void *data, size_t len)
{
	struct rtattr a = {.rta_len = (unsigned short)RTA_LENGTH(len),
			   .rta_type = type};
	if (m->len + RTA_SPACE(len) > sizeof(m->b))
		return; /* cannot happen: MSG_MAX holds the longest */
	memset(m->b + m->len, 0, RTA_SPACE(len));
	memcpy(m->b + m->len, &a, sizeof(a));
	memcpy(m->b + m->len + RTA_LENGTH(0), data, len);
	m->len += RTA_SPACE(len);
}

static void attr_u32(struct msg *m, uint16_t type, uint32_t v)
{
	attr(m, type, &v, sizeof(v));
}

static void attr_u8(struct msg *m, uint16_t type, uint8_t v)
{
	attr(m, type, &v, sizeof(v));
}

static void attr_str(struct msg *m, uint16_t type, const char *s)
{
	attr(m, type, s, strlen(s) + 1);
}

static void finish(struct msg *m)
{
	uint32_t len = (uint32_t)m->len;
	memcpy(m->b, &len, sizeof(len)); /* nlmsg_len comes first */
}

static uint32_t mask_of(int prefix)
{
	uint32_t host = prefix <= 0 ? 0 : ~0u << (32 - prefix);
	return __builtin_bswap32(host);
}

/* ---- links ---- */

static void link_msg(struct msg *m, const struct batch *b,
		     const struct rtnl_link *l, uint16_t flags)
{
	struct ifinfomsg *ifi = start(m, b, RTM_NEWLINK, flags, sizeof(*ifi));
	ifi->ifi_family = 0;
	ifi->ifi_type = l->type;
	ifi->ifi_index = l->index;
	ifi->ifi_flags = l->flags;
	attr_str(m, IFLA_IFNAME, l->name);
	attr_u32(m, IFLA_TXQLEN, l->txqlen);
	attr_u8(m, IFLA_OPERSTATE, l->operstate);
	attr_u8(m, IFLA_LINKMODE, 0);
	attr_u32(m, IFLA_MTU, l->mtu);
	attr_u32(m, IFLA_GROUP, 0);
	attr_u32(m, IFLA_PROMISCUITY, 0);
	attr_u32(m, IFLA_NUM_TX_QUEUES, 1);
	attr_u32(m, IFLA_NUM_RX_QUEUES, 1);
	attr_u8(m, IFLA_CARRIER, 1);
	attr_str(m, IFLA_QDISC, "noqueue");
	attr(m, IFLA_ADDRESS, l->addr, 6);
	attr(m, IFLA_BROADCAST, l->brd, 6);
	struct rtnl_link_stats64 s64 = {
		.rx_packets = l->rx_packets,
		.tx_packets = l->tx_packets,
		.rx_bytes = l->rx_bytes,
		.tx_bytes = l->tx_bytes,
		.rx_errors = l->rx_errors,
		.rx_dropped = l->rx_dropped,
		.tx_dropped = l->tx_dropped,
	};
	attr(m, IFLA_STATS64, &s64, sizeof(s64));
	struct rtnl_link_stats s = {
		.rx_packets = (uint32_t)l->rx_packets,
		.tx_packets = (uint32_t)l->tx_packets,
		.rx_bytes = (uint32_t)l->rx_bytes,
		.tx_bytes = (uint32_t)l->tx_bytes,
		.rx_errors = (uint32_t)l->rx_errors,
		.rx_dropped = (uint32_t)l->rx_dropped,
		.tx_dropped = (uint32_t)l->tx_dropped,
	};
	attr(m, IFLA_STATS, &s, sizeof(s));
	finish(m);
}

/* The attributes of a request after its fixed part of (fixed) bytes:
 * the first of (type), or NULL; its payload length in (*len). Linux's
 * lenient parsing: attributes after a malformed one are not seen. */
static const uint8_t *find_attr(const struct nlmsghdr *h, size_t fixed,
				uint16_t type, size_t *len)
{
	const uint8_t *p =
		(const uint8_t *)h + NLMSG_HDRLEN + NLMSG_ALIGN(fixed);
	const uint8_t *end = (const uint8_t *)h + h->nlmsg_len;
	while (end - p >= (long)sizeof(struct rtattr)) {
		struct rtattr a;
		memcpy(&a, p, sizeof(a));
		if (a.rta_len < sizeof(a) || a.rta_len > end - p)
			break;
		if (a.rta_type == type) {
			*len = a.rta_len - RTA_LENGTH(0);
			return p + RTA_LENGTH(0);
		}
		p += RTA_ALIGN(a.rta_len);
	}
	return NULL;
}

/* Is (l) called (name), an attribute of (len) bytes (its NUL, if any,
 * among them)? */
static int named(const struct rtnl_link *l, const uint8_t *name, size_t len)
{
	size_t n = strlen(l->name);
	return strnlen((const char *)name, len) == n &&
	       !memcmp(name, l->name, n);
}

static int get_link(struct batch *b, const struct rtnl_view *v,
		    const struct nlmsghdr *h)
{
	struct msg m;
	if (h->nlmsg_flags & NLM_F_DUMP) {
		for (int i = 0; i < v->nlinks; i++) {
			link_msg(&m, b, &v->links[i], NLM_F_MULTI);
			add(b, &m);
		}
		return DUMPED;
	}
	struct ifinfomsg ifi;
	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(ifi)))
		return -EINVAL;
	memcpy(&ifi, NLMSG_DATA(h), sizeof(ifi));
	size_t nlen = 0;
	const uint8_t *name = find_attr(h, sizeof(ifi), IFLA_IFNAME, &nlen);
	if (ifi.ifi_index <= 0 && !name)
		return -EINVAL;
	for (int i = 0; i < v->nlinks; i++) {
		const struct rtnl_link *l = &v->links[i];
		if (ifi.ifi_index > 0 ? l->index != ifi.ifi_index
				      : !named(l, name, nlen))
			continue;
		link_msg(&m, b, l, 0);
		add(b, &m);
		flush(b);
		return 0;
	}
	return -ENODEV;
}

/* ---- addresses ---- */

static void addr_msg(struct msg *m, const struct batch *b,
		     const struct rtnl_link *l)
{
	struct ifaddrmsg *ifa =
		start(m, b, RTM_NEWADDR, NLM_F_MULTI, sizeof(*ifa));
	ifa->ifa_family = AF_INET_NR;
	ifa->ifa_prefixlen = (uint8_t)l->prefix;
	ifa->ifa_flags = IFA_F_PERMANENT;
	ifa->ifa_scope = l->scope;
	ifa->ifa_index = (uint32_t)l->index;
	attr_u32(m, IFA_ADDRESS, l->ip);
	attr_u32(m, IFA_LOCAL, l->ip);
	if (l->flags & IFF_BROADCAST_FLAG)
		attr_u32(m, IFA_BROADCAST, l->ip_brd);
	attr_str(m, IFA_LABEL, l->name);
	attr_u32(m, IFA_FLAGS, IFA_F_PERMANENT);
	struct ifa_cacheinfo ci = {.ifa_prefered = LIFE_FOREVER,
				   .ifa_valid = LIFE_FOREVER};
	attr(m, IFA_CACHEINFO, &ci, sizeof(ci));
	finish(m);
}

static int get_addr(struct batch *b, const struct rtnl_view *v,
		    const struct nlmsghdr *h, uint8_t family)
{
	if (!(h->nlmsg_flags & NLM_F_DUMP))
		return -EOPNOTSUPP; /* IPv4 has no single-address get */
	struct msg m;
	for (int i = 0; family != AF_INET6_NR && i < v->nlinks; i++) {
		if (v->links[i].prefix < 0)
			continue;
		addr_msg(&m, b, &v->links[i]);
		add(b, &m);
	}
	return DUMPED;
}

/* ---- routes ---- */

static int before(const struct rtnl_route *a, const struct rtnl_route *b)
{
	if (a->table != b->table)
		return a->table < b->table; /* main (254) before local */
	uint32_t x = __builtin_bswap32(a->dst), y = __builtin_bswap32(b->dst);
	return x != y ? x < y : a->dst_len < b->dst_len;
}

int rtnl_routes(const struct rtnl_view *v, struct rtnl_route *r)
{
	int n = 0, gw_oif = 0;
	for (int i = 0; i < v->nlinks && n + 5 < RTNL_ROUTES_MAX; i++) {
		const struct rtnl_link *l = &v->links[i];
		if (l->prefix < 0)
			continue;
		uint32_t mask = mask_of(l->prefix), net = l->ip & mask;
		int lo = !!(l->flags & IFF_LOOPBACK_FLAG);
		struct rtnl_route local = {RT_TABLE_LOCAL,
					   RTN_LOCAL,
					   RT_SCOPE_HOST,
					   RTPROT_KERNEL,
					   32,
					   l->ip,
					   0,
					   l->ip,
					   l->index};
		r[n++] = local;
		if (l->prefix < 32) {
			struct rtnl_route subnet = local;
			subnet.dst = net;
			subnet.dst_len = (uint8_t)l->prefix;
			if (!lo) {
				subnet.table = RT_TABLE_MAIN;
				subnet.type = RTN_UNICAST;
				subnet.scope = RT_SCOPE_LINK;
			}
			r[n++] = subnet;
		}
		if (l->prefix < 31) {
			struct rtnl_route brd = local;
			brd.type = RTN_BROADCAST;
			brd.scope = RT_SCOPE_LINK;
			brd.dst = net | ~mask;
			r[n++] = brd;
		}
		if (!lo && v->gw && (v->gw & mask) == net && !gw_oif)
			gw_oif = l->index;
	}
	if (gw_oif) {
		struct rtnl_route def = {
			RT_TABLE_MAIN, RTN_UNICAST, RT_SCOPE_UNIVERSE,
			v->gw_proto,   0,	    0,
			v->gw,	       0,	    gw_oif};
		r[n++] = def;
	}
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && before(&r[j], &r[j - 1]); j--) {
			struct rtnl_route t = r[j];
			r[j] = r[j - 1];
			r[j - 1] = t;
		}
	return n;
}

static void route_msg(struct msg *m, const struct batch *b,
		      const struct rtnl_route *r, uint16_t flags)
{
	struct rtmsg *rt = start(m, b, RTM_NEWROUTE, flags, sizeof(*rt));
	rt->rtm_family = AF_INET_NR;
	rt->rtm_dst_len = r->dst_len;
	rt->rtm_table = r->table;
	rt->rtm_protocol = r->proto;
	rt->rtm_scope = r->scope;
	rt->rtm_type = r->type;
	attr_u32(m, RTA_TABLE, r->table);
	if (r->dst_len)
		attr_u32(m, RTA_DST, r->dst);
	if (r->src)
		attr_u32(m, RTA_PREFSRC, r->src);
	if (r->gw)
		attr_u32(m, RTA_GATEWAY, r->gw);
	attr_u32(m, RTA_OIF, (uint32_t)r->oif);
	finish(m);
}

static int covers(const struct rtnl_route *r, uint32_t dst)
{
	return (dst & mask_of(r->dst_len)) == r->dst;
}

/* The route to (dst) as `ip route get` shows it: the local table's
 * first, then the main table's longest match. */
static int lookup(struct batch *b, const struct rtnl_view *v,
		  const struct nlmsghdr *h)
{
	struct rtnl_route r[RTNL_ROUTES_MAX], *best = NULL;
	struct rtmsg rtm;
	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(rtm)))
		return -EINVAL;
	memcpy(&rtm, NLMSG_DATA(h), sizeof(rtm));
	if (rtm.rtm_family != AF_INET_NR)
		return -EOPNOTSUPP;
	uint32_t dst = 0;
	size_t len = 0;
	const uint8_t *a = find_attr(h, sizeof(rtm), RTA_DST, &len);
	if (a && len != sizeof(dst))
		return -EINVAL;
	if (a)
		memcpy(&dst, a, sizeof(dst));
	int n = rtnl_routes(v, r);
	for (int i = 0; i < n; i++) {
		if (!covers(&r[i], dst))
			continue;
		if (r[i].table == RT_TABLE_LOCAL) {
			best = &r[i];
			break;
		}
		if (!best || r[i].dst_len > best->dst_len)
			best = &r[i];
	}
	if (!best)
		return -ENETUNREACH;
	struct rtnl_route got = *best;
	if (got.table == RT_TABLE_LOCAL && got.type == RTN_LOCAL) {
		for (int i = 0; i < v->nlinks; i++)
			if (v->links[i].flags & IFF_LOOPBACK_FLAG)
				got.oif = v->links[i].index;
		if (got.dst_len == 32)
			got.src = dst;
	}
	if (!got.src)
		for (int i = 0; i < v->nlinks; i++)
			if (v->links[i].index == got.oif &&
			    v->links[i].prefix >= 0)
				got.src = v->links[i].ip;
	got.dst = dst;
	got.dst_len = 32;
	got.proto = RTPROT_UNSPEC;
	got.scope = RT_SCOPE_UNIVERSE;
	struct msg m;
	route_msg(&m, b, &got, 0);
	struct rtmsg *out = (struct rtmsg *)(m.b + NLMSG_HDRLEN);
	out->rtm_flags = RTM_F_CLONED;
	add(b, &m);
	flush(b);
	return 0;
}

static int get_route(struct batch *b, const struct rtnl_view *v,
		     const struct nlmsghdr *h, uint8_t family)
{
	if (!(h->nlmsg_flags & NLM_F_DUMP))
		return lookup(b, v, h);
	struct rtnl_route r[RTNL_ROUTES_MAX];
	struct msg m;
	int n = family == AF_INET6_NR ? 0 : rtnl_routes(v, r);
	for (int i = 0; i < n; i++) {
		route_msg(&m, b, &r[i], NLM_F_MULTI);
		add(b, &m);
	}
	return DUMPED;
}

/* ---- neighbours ---- */

static int get_neigh(struct batch *b, const struct rtnl_view *v,
		     const struct nlmsghdr *h, uint8_t family)
{
	if (!(h->nlmsg_flags & NLM_F_DUMP))
		return -EOPNOTSUPP;
	struct msg m;
	for (int i = 0; (family == 0 || family == AF_INET_NR) && i < v->nneighs;
	     i++) {
		const struct rtnl_neigh *n = &v->neighs[i];
		struct ndmsg *nd =
			start(&m, b, RTM_NEWNEIGH, NLM_F_MULTI, sizeof(*nd));
		nd->ndm_family = AF_INET_NR;
		nd->ndm_ifindex = n->index;
		nd->ndm_state = NUD_REACHABLE;
		nd->ndm_type = RTN_UNICAST;
		attr_u32(&m, NDA_DST, n->ip);
		attr(&m, NDA_LLADDR, n->mac, 6);
		attr_u32(&m, NDA_PROBES, 0);
		struct nda_cacheinfo ci = {0};
		attr(&m, NDA_CACHEINFO, &ci, sizeof(ci));
		finish(&m);
		add(b, &m);
	}
	return DUMPED;
}

/* ---- requests ---- */

static void done(struct batch *b)
{
	struct msg m;
	int32_t zero = 0;
	memcpy(start(&m, b, NLMSG_DONE, NLM_F_MULTI, sizeof(zero)), &zero,
	       sizeof(zero));
	finish(&m);
	add(b, &m);
	flush(b);
}

/* NLMSG_ERROR for (h) with (err): 0 is an acknowledgement. */
static void ack(struct batch *b, const struct nlmsghdr *h, int err,
		unsigned opts)
{
	struct msg m;
	size_t echo = NLMSG_HDRLEN;
	uint16_t flags = NLM_F_CAPPED;
	/* the whole request after the error, unless asked not to or too
	 * long for a reply (then capped, as NETLINK_CAP_ACK would) */
	if (err && !(opts & RTNL_CAP_ACK) &&
	    NLMSG_HDRLEN + sizeof(int32_t) + NLMSG_ALIGN(h->nlmsg_len) <=
		    sizeof(m.b)) {
		echo = h->nlmsg_len;
		flags = 0;
	}
	uint8_t *e = start(&m, b, NLMSG_ERROR, flags, sizeof(int32_t) + echo);
	int32_t error = err;
	memcpy(e, &error, sizeof(error));
	memcpy(e + sizeof(error), h, echo);
	finish(&m);
	add(b, &m);
	flush(b);
}

static int answer_one(struct batch *b, const struct rtnl_view *v,
		      const struct nlmsghdr *h)
{
	if (h->nlmsg_type > RTM_MAX)
		return -EOPNOTSUPP;
	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct rtgenmsg)))
		return 0; /* Linux: every message has at least a family */
	uint8_t family = *(const uint8_t *)NLMSG_DATA(h);
	switch (h->nlmsg_type) {
	case RTM_GETLINK:
		return get_link(b, v, h);
	case RTM_GETADDR:
		return get_addr(b, v, h, family);
	case RTM_GETROUTE:
		return get_route(b, v, h, family);
	case RTM_GETNEIGH:
		return get_neigh(b, v, h, family);
	default:
		return -EOPNOTSUPP;
	}
}

int rtnl_answer(const struct rtnl_view *v, uint32_t portid, unsigned opts,
		const void *req, size_t len, rtnl_out out, void *ctx)
{
	static struct batch b; /* one request at a time */
	const uint8_t *p = req;
	b.used = 0;
	b.out = out;
	b.ctx = ctx;
	b.err = 0;
	b.portid = portid;
	while (len >= NLMSG_HDRLEN) {
		struct nlmsghdr h;
		memcpy(&h, p, sizeof(h));
		if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > len)
			break;
		const struct nlmsghdr *r = (const struct nlmsghdr *)p;
		b.seq = h.nlmsg_seq;
		int err = 0;
		if ((h.nlmsg_flags & NLM_F_REQUEST) &&
		    h.nlmsg_type >= NLMSG_MIN_TYPE)
			err = answer_one(&b, v, r);
		if (err == DUMPED)
			done(&b);
		else if (err || (h.nlmsg_flags & NLM_F_ACK))
			ack(&b, r, err, opts);
		size_t step = NLMSG_ALIGN(h.nlmsg_len);
		step = step < len ? step : len;
		p += step;
		len -= step;
	}
	return b.err;
}
