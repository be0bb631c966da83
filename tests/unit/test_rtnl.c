/* test_rtnl.c: NETLINK_ROUTE answers (kernel/lib/rtnl.c) for the requests
 * getifaddrs, if_nameindex and ip(8) make, and for malformed ones, as
 * Linux answers them. */
#include "lib/rtnl.h"
#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>

#define PORT 4242
#define LOOPBACK_FLAGS 0x10049 /* UP LOOPBACK RUNNING LOWER_UP */
#define ETHER_FLAGS 0x11043    /* UP BROADCAST RUNNING MULTICAST LOWER_UP */
#define DGRAMS_MAX 16

static struct rtnl_link links[2];
static struct rtnl_view view;

/* What rtnl_answer gave: datagrams, 4-byte aligned. */
static union {
	uint32_t align;
	uint8_t b[RTNL_DGRAM_MAX];
} got[DGRAMS_MAX];
static size_t got_len[DGRAMS_MAX];
static int ngot, refuse_after;

static int take(void *ctx, const void *d, size_t len)
{
	(void)ctx;
	ck_assert_uint_le(len, RTNL_DGRAM_MAX);
	if (ngot == refuse_after || ngot == DGRAMS_MAX)
		return -ENOBUFS;
	memcpy(got[ngot].b, d, len);
	got_len[ngot++] = len;
	return 0;
}

static void setup(void)
{
	struct rtnl_link lo = {
		.index = 1,
		.name = "lo",
		.type = ARPHRD_LOOPBACK,
		.flags = LOOPBACK_FLAGS,
		.mtu = 65536,
		.txqlen = 1000,
		.prefix = 8,
		.scope = RT_SCOPE_HOST,
	};
	lo.ip = inet_addr("127.0.0.1");
	struct rtnl_link eth = {
		.index = 2,
		.name = "eth0",
		.type = ARPHRD_ETHER,
		.flags = ETHER_FLAGS,
		.mtu = 1500,
		.txqlen = 1000,
		.operstate = IF_OPER_UP,
		.addr = {2, 0, 0, 0, 0, 0x15},
		.brd = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		.rx_packets = 7,
		.tx_bytes = 1234,
		.tx_dropped = 3,
		.prefix = 24,
		.scope = RT_SCOPE_UNIVERSE,
	};
	eth.ip = inet_addr("10.0.2.15");
	eth.ip_brd = inet_addr("10.0.2.255");
	links[0] = lo;
	links[1] = eth;
	static struct rtnl_neigh gw = {.mac = {0x52, 0x55, 10, 0, 2, 2},
				       .index = 2};
	gw.ip = inet_addr("10.0.2.2");
	view = (struct rtnl_view){links,       2,   inet_addr("10.0.2.2"),
				  RTPROT_BOOT, &gw, 1};
	ngot = 0;
	refuse_after = -1;
}

/* A request of (type) and (flags) with (fixed) bytes of (body) and the
 * attribute (atype, adata, alen) if alen. */
static union {
	uint32_t align;
	uint8_t b[512];
} req;

static size_t request(uint16_t type, uint16_t flags, const void *body,
		      size_t fixed, uint16_t atype, const void *adata,
		      size_t alen)
{
	struct nlmsghdr h = {.nlmsg_len = (uint32_t)NLMSG_LENGTH(fixed),
			     .nlmsg_type = type,
			     .nlmsg_flags = flags,
			     .nlmsg_seq = 7};
	memset(req.b, 0, sizeof(req.b));
	memcpy(req.b + NLMSG_HDRLEN, body, fixed);
	if (alen) {
		size_t at = NLMSG_ALIGN(h.nlmsg_len);
		struct rtattr a = {(unsigned short)RTA_LENGTH(alen), atype};
		memcpy(req.b + at, &a, sizeof(a));
		memcpy(req.b + at + RTA_LENGTH(0), adata, alen);
		h.nlmsg_len = (uint32_t)(at + RTA_LENGTH(alen));
	}
	memcpy(req.b, &h, sizeof(h));
	return h.nlmsg_len;
}

static int ask(size_t len, unsigned opts)
{
	return rtnl_answer(&view, PORT, opts, req.b, len, take, NULL);
}

static size_t dump(uint16_t type, uint8_t family)
{
	struct rtgenmsg g = {family};
	return request(type, NLM_F_REQUEST | NLM_F_DUMP, &g, sizeof(g), 0, NULL,
		       0);
}

/* The messages of every datagram in order, (max) at most. */
static int messages(const struct nlmsghdr **out, int max)
{
	int n = 0;
	for (int d = 0; d < ngot; d++) {
		int left = (int)got_len[d];
		for (const struct nlmsghdr *h = (void *)got[d].b;
		     NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			ck_assert_int_lt(n, max);
			out[n++] = h;
		}
		ck_assert_int_eq(left, 0); /* nothing but whole messages */
	}
	return n;
}

/* The payload of attribute (type) of (h) after (fixed), or NULL. */
static const void *attr_of(const struct nlmsghdr *h, size_t fixed,
			   uint16_t type, size_t *len)
{
	const struct rtattr *a = (const void *)((const uint8_t *)NLMSG_DATA(h) +
						NLMSG_ALIGN(fixed));
	int left = (int)(h->nlmsg_len - NLMSG_LENGTH(fixed));
	for (; RTA_OK(a, left); a = RTA_NEXT(a, left))
		if (a->rta_type == type) {
			if (len)
				*len = RTA_PAYLOAD(a);
			return RTA_DATA(a);
		}
	return NULL;
}

static uint32_t attr_u32(const struct nlmsghdr *h, size_t fixed, uint16_t type)
{
	size_t len;
	const void *p = attr_of(h, fixed, type, &len);
	ck_assert_msg(p && len == 4, "attribute %u missing", type);
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static void assert_done(const struct nlmsghdr *h)
{
	ck_assert_uint_eq(h->nlmsg_type, NLMSG_DONE);
	ck_assert_uint_eq(h->nlmsg_flags, NLM_F_MULTI);
	ck_assert_uint_eq(h->nlmsg_seq, 7);
	ck_assert_uint_eq(h->nlmsg_pid, PORT);
	ck_assert_int_eq(*(const int *)NLMSG_DATA(h), 0);
}

/* The one NLMSG_ERROR among what came: its error. */
static int error_of(const struct nlmsghdr *h)
{
	ck_assert_uint_eq(h->nlmsg_type, NLMSG_ERROR);
	ck_assert_uint_eq(h->nlmsg_pid, PORT);
	ck_assert_uint_eq(h->nlmsg_seq, 7);
	return ((const struct nlmsgerr *)NLMSG_DATA(h))->error;
}

START_TEST(test_link_dump_lists_every_link_then_done)
{
	const struct nlmsghdr *m[8];
	ck_assert_int_eq(ask(dump(RTM_GETLINK, AF_PACKET), 0), 0);
	ck_assert_int_eq(ngot, 1); /* small: one datagram, DONE included */
	ck_assert_int_eq(messages(m, 8), 3);
	for (int i = 0; i < 2; i++) {
		const struct ifinfomsg *ifi = NLMSG_DATA(m[i]);
		ck_assert_uint_eq(m[i]->nlmsg_type, RTM_NEWLINK);
		ck_assert_uint_eq(m[i]->nlmsg_flags, NLM_F_MULTI);
		ck_assert_uint_eq(m[i]->nlmsg_seq, 7);
		ck_assert_uint_eq(m[i]->nlmsg_pid, PORT);
		ck_assert_int_eq(ifi->ifi_index, links[i].index);
		ck_assert_uint_eq(ifi->ifi_type, links[i].type);
		ck_assert_uint_eq(ifi->ifi_flags, links[i].flags);
		ck_assert_str_eq(attr_of(m[i], sizeof(*ifi), IFLA_IFNAME, NULL),
				 links[i].name);
		ck_assert_uint_eq(attr_u32(m[i], sizeof(*ifi), IFLA_MTU),
				  links[i].mtu);
		size_t len;
		const uint8_t *mac =
			attr_of(m[i], sizeof(*ifi), IFLA_ADDRESS, &len);
		ck_assert_uint_eq(len, 6);
		ck_assert_mem_eq(mac, links[i].addr, 6);
	}
	size_t len;
	const struct rtnl_link_stats64 *s =
		attr_of(m[1], sizeof(struct ifinfomsg), IFLA_STATS64, &len);
	ck_assert_uint_eq(len, sizeof(*s));
	ck_assert_uint_eq(s->rx_packets, 7);
	ck_assert_uint_eq(s->tx_bytes, 1234);
	ck_assert_uint_eq(s->tx_dropped, 3);
	const struct rtnl_link_stats *s32 =
		attr_of(m[1], sizeof(struct ifinfomsg), IFLA_STATS, &len);
	ck_assert_uint_eq(s32->rx_packets, 7);
	ck_assert_uint_eq(s32->tx_dropped, 3);
	assert_done(m[2]);
}
END_TEST

START_TEST(test_a_long_dump_fills_datagrams_with_whole_messages)
{
	static struct rtnl_link many[40];
	static char names[40][16];
	for (int i = 0; i < 40; i++) {
		many[i] = links[1];
		many[i].index = i + 1;
		snprintf(names[i], sizeof(names[i]), "eth%d", i);
		many[i].name = names[i];
	}
	view.links = many;
	view.nlinks = 40;
	const struct nlmsghdr *m[48];
	ck_assert_int_eq(ask(dump(RTM_GETLINK, 0), 0), 0);
	ck_assert_int_gt(ngot, 1);
	ck_assert_int_eq(messages(m, 48), 41);
	for (int i = 0; i < 40; i++)
		ck_assert_int_eq(
			((const struct ifinfomsg *)NLMSG_DATA(m[i]))->ifi_index,
			i + 1);
	assert_done(m[40]);
}
END_TEST

START_TEST(test_a_link_by_index_or_name)
{
	const struct nlmsghdr *m[4];
	struct ifinfomsg ifi = {.ifi_index = 2};
	ck_assert_int_eq(ask(request(RTM_GETLINK, NLM_F_REQUEST, &ifi,
				     sizeof(ifi), 0, NULL, 0),
			     0),
			 0);
	ck_assert_int_eq(messages(m, 4), 1);
	ck_assert_uint_eq(m[0]->nlmsg_flags, 0); /* not part of a dump */
	ck_assert_str_eq(attr_of(m[0], sizeof(ifi), IFLA_IFNAME, NULL), "eth0");
	/* by name, with NLM_F_ACK: the link, then the acknowledgement */
	ngot = 0;
	ifi.ifi_index = 0;
	ck_assert_int_eq(ask(request(RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK,
				     &ifi, sizeof(ifi), IFLA_IFNAME, "lo", 3),
			     0),
			 0);
	ck_assert_int_eq(ngot, 2);
	ck_assert_int_eq(messages(m, 4), 2);
	ck_assert_int_eq(
		((const struct ifinfomsg *)NLMSG_DATA(m[0]))->ifi_index, 1);
	ck_assert_int_eq(error_of(m[1]), 0);
	ck_assert_uint_eq(m[1]->nlmsg_flags, NLM_F_CAPPED);
	ck_assert_uint_eq(m[1]->nlmsg_len,
			  NLMSG_LENGTH(sizeof(int) + NLMSG_HDRLEN));
}
END_TEST

START_TEST(test_a_link_nobody_has_or_unnamed_is_an_error)
{
	const struct nlmsghdr *m[4];
	struct ifinfomsg ifi = {.ifi_index = 9};
	size_t len = request(RTM_GETLINK, NLM_F_REQUEST, &ifi, sizeof(ifi), 0,
			     NULL, 0);
	ck_assert_int_eq(ask(len, 0), 0);
	ck_assert_int_eq(messages(m, 4), 1);
	ck_assert_int_eq(error_of(m[0]), -ENODEV);
	/* the request is echoed after the error */
	const struct nlmsgerr *e = NLMSG_DATA(m[0]);
	ck_assert_uint_eq(m[0]->nlmsg_flags, 0);
	ck_assert_mem_eq(&e->msg, req.b, len);
	ngot = 0;
	ck_assert_int_eq(ask(len, RTNL_CAP_ACK), 0);
	ck_assert_int_eq(messages(m, 4), 1);
	ck_assert_uint_eq(m[0]->nlmsg_flags, NLM_F_CAPPED);
	ck_assert_uint_eq(m[0]->nlmsg_len,
			  NLMSG_LENGTH(sizeof(int) + NLMSG_HDRLEN));
	/* a name nobody has */
	ngot = 0;
	ifi.ifi_index = 0;
	ask(request(RTM_GETLINK, NLM_F_REQUEST, &ifi, sizeof(ifi), IFLA_IFNAME,
		    "eth", 4),
	    0);
	ck_assert_int_eq(messages(m, 4), 1);
	ck_assert_int_eq(error_of(m[0]), -ENODEV);
	/* neither index nor name; an ifinfomsg cut short */
	ngot = 0;
	ask(request(RTM_GETLINK, NLM_F_REQUEST, &ifi, sizeof(ifi), 0, NULL, 0),
	    0);
	ask(request(RTM_GETLINK, NLM_F_REQUEST, &ifi, 4, 0, NULL, 0), 0);
	ck_assert_int_eq(messages(m, 4), 2);
	ck_assert_int_eq(error_of(m[0]), -EINVAL);
	ck_assert_int_eq(error_of(m[1]), -EINVAL);
}
END_TEST

START_TEST(test_address_dump_gives_each_ipv4_address)
{
	const struct nlmsghdr *m[8];
	ck_assert_int_eq(ask(dump(RTM_GETADDR, AF_UNSPEC), 0), 0);
	ck_assert_int_eq(messages(m, 8), 3);
	const struct ifaddrmsg *lo = NLMSG_DATA(m[0]), *eth = NLMSG_DATA(m[1]);
	ck_assert_uint_eq(m[0]->nlmsg_type, RTM_NEWADDR);
	ck_assert_uint_eq(lo->ifa_family, AF_INET);
	ck_assert_uint_eq(lo->ifa_prefixlen, 8);
	ck_assert_uint_eq(lo->ifa_scope, RT_SCOPE_HOST);
	ck_assert_uint_eq(lo->ifa_index, 1);
	ck_assert_ptr_null(attr_of(m[0], sizeof(*lo), IFA_BROADCAST, NULL));
	ck_assert_uint_eq(eth->ifa_prefixlen, 24);
	ck_assert_uint_eq(eth->ifa_index, 2);
	ck_assert_uint_eq(attr_u32(m[1], sizeof(*eth), IFA_ADDRESS),
			  inet_addr("10.0.2.15"));
	ck_assert_uint_eq(attr_u32(m[1], sizeof(*eth), IFA_LOCAL),
			  inet_addr("10.0.2.15"));
	ck_assert_uint_eq(attr_u32(m[1], sizeof(*eth), IFA_BROADCAST),
			  inet_addr("10.0.2.255"));
	ck_assert_str_eq(attr_of(m[1], sizeof(*eth), IFA_LABEL, NULL), "eth0");
	assert_done(m[2]);
	/* IPv6: none; an interface without an address: not listed */
	ngot = 0;
	ask(dump(RTM_GETADDR, AF_INET6), 0);
	ck_assert_int_eq(messages(m, 8), 1);
	assert_done(m[0]);
	ngot = 0;
	links[1].prefix = -1;
	ask(dump(RTM_GETADDR, AF_INET), 0);
	ck_assert_int_eq(messages(m, 8), 2);
	ck_assert_uint_eq(
		((const struct ifaddrmsg *)NLMSG_DATA(m[0]))->ifa_index, 1);
	/* one address alone is not something IPv4 answers */
	ngot = 0;
	struct ifaddrmsg one = {.ifa_family = AF_INET, .ifa_index = 2};
	ask(request(RTM_GETADDR, NLM_F_REQUEST, &one, sizeof(one), 0, NULL, 0),
	    0);
	ck_assert_int_eq(messages(m, 8), 1);
	ck_assert_int_eq(error_of(m[0]), -EOPNOTSUPP);
}
END_TEST

struct want_route {
	uint8_t table, type, scope, proto, dst_len;
	const char *dst, *gw, *src;
	int oif;
};

START_TEST(test_route_dump_gives_the_main_then_the_local_table)
{
	static const struct want_route want[] = {
		{RT_TABLE_MAIN, RTN_UNICAST, RT_SCOPE_UNIVERSE, RTPROT_BOOT, 0,
		 NULL, "10.0.2.2", NULL, 2},
		{RT_TABLE_MAIN, RTN_UNICAST, RT_SCOPE_LINK, RTPROT_KERNEL, 24,
		 "10.0.2.0", NULL, "10.0.2.15", 2},
		{RT_TABLE_LOCAL, RTN_LOCAL, RT_SCOPE_HOST, RTPROT_KERNEL, 32,
		 "10.0.2.15", NULL, "10.0.2.15", 2},
		{RT_TABLE_LOCAL, RTN_BROADCAST, RT_SCOPE_LINK, RTPROT_KERNEL,
		 32, "10.0.2.255", NULL, "10.0.2.15", 2},
		{RT_TABLE_LOCAL, RTN_LOCAL, RT_SCOPE_HOST, RTPROT_KERNEL, 8,
		 "127.0.0.0", NULL, "127.0.0.1", 1},
		{RT_TABLE_LOCAL, RTN_LOCAL, RT_SCOPE_HOST, RTPROT_KERNEL, 32,
		 "127.0.0.1", NULL, "127.0.0.1", 1},
		{RT_TABLE_LOCAL, RTN_BROADCAST, RT_SCOPE_LINK, RTPROT_KERNEL,
		 32, "127.255.255.255", NULL, "127.0.0.1", 1},
	};
	const struct nlmsghdr *m[16];
	ck_assert_int_eq(ask(dump(RTM_GETROUTE, AF_INET), 0), 0);
	ck_assert_int_eq(messages(m, 16), 8);
	for (int i = 0; i < 7; i++) {
		const struct want_route *w = &want[i];
		const struct rtmsg *r = NLMSG_DATA(m[i]);
		size_t f = sizeof(*r);
		ck_assert_uint_eq(m[i]->nlmsg_type, RTM_NEWROUTE);
		ck_assert_uint_eq(r->rtm_family, AF_INET);
		ck_assert_uint_eq(r->rtm_table, w->table);
		ck_assert_uint_eq(attr_u32(m[i], f, RTA_TABLE), w->table);
		ck_assert_uint_eq(r->rtm_type, w->type);
		ck_assert_uint_eq(r->rtm_scope, w->scope);
		ck_assert_uint_eq(r->rtm_protocol, w->proto);
		ck_assert_uint_eq(r->rtm_dst_len, w->dst_len);
		if (w->dst)
			ck_assert_uint_eq(attr_u32(m[i], f, RTA_DST),
					  inet_addr(w->dst));
		else
			ck_assert_ptr_null(attr_of(m[i], f, RTA_DST, NULL));
		if (w->gw)
			ck_assert_uint_eq(attr_u32(m[i], f, RTA_GATEWAY),
					  inet_addr(w->gw));
		else
			ck_assert_ptr_null(attr_of(m[i], f, RTA_GATEWAY, NULL));
		if (w->src)
			ck_assert_uint_eq(attr_u32(m[i], f, RTA_PREFSRC),
					  inet_addr(w->src));
		ck_assert_uint_eq(attr_u32(m[i], f, RTA_OIF), w->oif);
	}
	assert_done(m[7]);
	/* no gateway: no default route; IPv6: nothing */
	ngot = 0;
	view.gw = 0;
	ask(dump(RTM_GETROUTE, AF_UNSPEC), 0);
	ck_assert_int_eq(messages(m, 16), 7);
	ck_assert_uint_eq(((const struct rtmsg *)NLMSG_DATA(m[0]))->rtm_dst_len,
			  24);
	ngot = 0;
	ask(dump(RTM_GETROUTE, AF_INET6), 0);
	ck_assert_int_eq(messages(m, 16), 1);
	assert_done(m[0]);
}
END_TEST

/* `ip route get (dst)`: the one message, or the error. */
static const struct nlmsghdr *route_to(const char *dst, int *err)
{
	static const struct nlmsghdr *m[4];
	struct rtmsg r = {.rtm_family = AF_INET, .rtm_dst_len = 32};
	uint32_t a = inet_addr(dst);
	ngot = 0;
	ask(request(RTM_GETROUTE, NLM_F_REQUEST, &r, sizeof(r), RTA_DST, &a,
		    sizeof(a)),
	    0);
	ck_assert_int_eq(messages(m, 4), 1);
	*err = m[0]->nlmsg_type == NLMSG_ERROR ? error_of(m[0]) : 0;
	return m[0];
}

START_TEST(test_the_route_to_one_address)
{
	const size_t f = sizeof(struct rtmsg);
	int err;
	const struct nlmsghdr *h = route_to("192.0.2.9", &err);
	const struct rtmsg *r = NLMSG_DATA(h);
	ck_assert_int_eq(err, 0);
	ck_assert_uint_eq(h->nlmsg_type, RTM_NEWROUTE);
	ck_assert_uint_eq(r->rtm_flags, RTM_F_CLONED);
	ck_assert_uint_eq(r->rtm_table, RT_TABLE_MAIN);
	ck_assert_uint_eq(r->rtm_type, RTN_UNICAST);
	ck_assert_uint_eq(attr_u32(h, f, RTA_DST), inet_addr("192.0.2.9"));
	ck_assert_uint_eq(attr_u32(h, f, RTA_GATEWAY), inet_addr("10.0.2.2"));
	ck_assert_uint_eq(attr_u32(h, f, RTA_PREFSRC), inet_addr("10.0.2.15"));
	ck_assert_uint_eq(attr_u32(h, f, RTA_OIF), 2);
	/* on the link: no gateway */
	h = route_to("10.0.2.7", &err);
	ck_assert_ptr_null(attr_of(h, f, RTA_GATEWAY, NULL));
	ck_assert_uint_eq(attr_u32(h, f, RTA_OIF), 2);
	/* this host's addresses go through lo, from themselves */
	h = route_to("10.0.2.15", &err);
	r = NLMSG_DATA(h);
	ck_assert_uint_eq(r->rtm_type, RTN_LOCAL);
	ck_assert_uint_eq(r->rtm_table, RT_TABLE_LOCAL);
	ck_assert_uint_eq(attr_u32(h, f, RTA_OIF), 1);
	ck_assert_uint_eq(attr_u32(h, f, RTA_PREFSRC), inet_addr("10.0.2.15"));
	h = route_to("127.1.2.3", &err);
	ck_assert_uint_eq(((const struct rtmsg *)NLMSG_DATA(h))->rtm_type,
			  RTN_LOCAL);
	ck_assert_uint_eq(attr_u32(h, f, RTA_PREFSRC), inet_addr("127.0.0.1"));
	/* nowhere to send it */
	view.gw = 0;
	route_to("192.0.2.9", &err);
	ck_assert_int_eq(err, -ENETUNREACH);
}
END_TEST

START_TEST(test_route_get_errors)
{
	const struct nlmsghdr *m[4];
	struct rtmsg r = {.rtm_family = AF_INET6};
	ask(request(RTM_GETROUTE, NLM_F_REQUEST, &r, sizeof(r), 0, NULL, 0), 0);
	r.rtm_family = AF_INET;
	uint16_t short_addr = 1;
	ask(request(RTM_GETROUTE, NLM_F_REQUEST, &r, sizeof(r), RTA_DST,
		    &short_addr, sizeof(short_addr)),
	    0);
	ask(request(RTM_GETROUTE, NLM_F_REQUEST, &r, 4, 0, NULL, 0), 0);
	ck_assert_int_eq(messages(m, 4), 3);
	ck_assert_int_eq(error_of(m[0]), -EOPNOTSUPP);
	ck_assert_int_eq(error_of(m[1]), -EINVAL);
	ck_assert_int_eq(error_of(m[2]), -EINVAL);
}
END_TEST

START_TEST(test_neighbour_dump_gives_the_arp_cache)
{
	const struct nlmsghdr *m[4];
	ck_assert_int_eq(ask(dump(RTM_GETNEIGH, AF_UNSPEC), 0), 0);
	ck_assert_int_eq(messages(m, 4), 2);
	const struct ndmsg *nd = NLMSG_DATA(m[0]);
	ck_assert_uint_eq(m[0]->nlmsg_type, RTM_NEWNEIGH);
	ck_assert_uint_eq(m[0]->nlmsg_flags, NLM_F_MULTI);
	ck_assert_uint_eq(nd->ndm_family, AF_INET);
	ck_assert_int_eq(nd->ndm_ifindex, 2);
	ck_assert_uint_eq(nd->ndm_state, NUD_REACHABLE);
	ck_assert_uint_eq(attr_u32(m[0], sizeof(*nd), NDA_DST),
			  inet_addr("10.0.2.2"));
	size_t len;
	const uint8_t *mac = attr_of(m[0], sizeof(*nd), NDA_LLADDR, &len);
	ck_assert_uint_eq(len, 6);
	ck_assert_mem_eq(mac, view.neighs[0].mac, 6);
	assert_done(m[1]);
	/* IPv6's neighbours: none; one alone is not asked of IPv4 */
	ngot = 0;
	ask(dump(RTM_GETNEIGH, AF_INET6), 0);
	ck_assert_int_eq(messages(m, 4), 1);
	assert_done(m[0]);
	ngot = 0;
	struct ndmsg one = {.ndm_family = AF_INET};
	ask(request(RTM_GETNEIGH, NLM_F_REQUEST, &one, sizeof(one), 0, NULL, 0),
	    0);
	ck_assert_int_eq(messages(m, 4), 1);
	ck_assert_int_eq(error_of(m[0]), -EOPNOTSUPP);
}
END_TEST

START_TEST(test_changes_and_unknown_types_are_refused)
{
	const struct nlmsghdr *m[8];
	struct ifaddrmsg a = {.ifa_family = AF_INET, .ifa_prefixlen = 24};
	uint16_t types[] = {RTM_NEWADDR, RTM_DELROUTE, RTM_SETLINK, RTM_GETRULE,
			    RTM_MAX + 1};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		ask(request(types[i], NLM_F_REQUEST | NLM_F_DUMP, &a, sizeof(a),
			    0, NULL, 0),
		    0);
	ck_assert_int_eq(messages(m, 8), 5);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(error_of(m[i]), -EOPNOTSUPP);
}
END_TEST

START_TEST(test_what_is_not_a_request_is_acknowledged_only_if_asked)
{
	const struct nlmsghdr *m[4];
	struct rtgenmsg g = {0};
	/* a reply-like message, a control message, a bare family byte
	 * missing: no answer without NLM_F_ACK */
	ask(request(RTM_GETLINK, NLM_F_DUMP, &g, sizeof(g), 0, NULL, 0), 0);
	ask(request(NLMSG_NOOP, NLM_F_REQUEST, &g, sizeof(g), 0, NULL, 0), 0);
	ask(request(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, &g, 0, 0, NULL, 0),
	    0);
	ck_assert_int_eq(ngot, 0);
	ask(request(NLMSG_NOOP, NLM_F_REQUEST | NLM_F_ACK, &g, sizeof(g), 0,
		    NULL, 0),
	    0);
	ck_assert_int_eq(messages(m, 4), 1);
	ck_assert_int_eq(error_of(m[0]), 0);
}
END_TEST

START_TEST(test_malformed_lengths_end_the_datagram_unanswered)
{
	size_t len = dump(RTM_GETLINK, 0);
	struct nlmsghdr *h = (struct nlmsghdr *)req.b;
	h->nlmsg_len = 8; /* shorter than its header */
	ck_assert_int_eq(ask(len, 0), 0);
	h->nlmsg_len = (uint32_t)len + 1; /* past the datagram */
	ck_assert_int_eq(ask(len, 0), 0);
	ck_assert_int_eq(ask(NLMSG_HDRLEN - 1, 0), 0); /* no header */
	h->nlmsg_len = 0xffffffff;
	ck_assert_int_eq(ask(len, 0), 0);
	ck_assert_int_eq(ngot, 0);
}
END_TEST

START_TEST(test_several_requests_in_one_datagram)
{
	const struct nlmsghdr *m[16];
	static union {
		uint32_t align;
		uint8_t b[256];
	} two;
	size_t a = dump(RTM_GETADDR, AF_INET);
	memcpy(two.b, req.b, a);
	struct ifinfomsg ifi = {.ifi_index = 1};
	size_t b = request(RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK, &ifi,
			   sizeof(ifi), 0, NULL, 0);
	memcpy(two.b + NLMSG_ALIGN(a), req.b, b);
	ck_assert_int_eq(rtnl_answer(&view, PORT, 0, two.b, NLMSG_ALIGN(a) + b,
				     take, NULL),
			 0);
	ck_assert_int_eq(messages(m, 16), 5);
	ck_assert_uint_eq(m[0]->nlmsg_type, RTM_NEWADDR);
	ck_assert_uint_eq(m[1]->nlmsg_type, RTM_NEWADDR);
	assert_done(m[2]);
	ck_assert_uint_eq(m[3]->nlmsg_type, RTM_NEWLINK);
	ck_assert_int_eq(error_of(m[4]), 0);
}
END_TEST

START_TEST(test_a_full_queue_is_reported)
{
	refuse_after = 0;
	ck_assert_int_eq(ask(dump(RTM_GETLINK, 0), 0), -ENOBUFS);
	ck_assert_int_eq(ngot, 0);
	/* a long dump cut after its first datagram */
	static struct rtnl_link many[40];
	for (int i = 0; i < 40; i++)
		many[i] = links[1];
	view.links = many;
	view.nlinks = 40;
	refuse_after = 1;
	ck_assert_int_eq(ask(dump(RTM_GETLINK, 0), 0), -ENOBUFS);
	ck_assert_int_eq(ngot, 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rtnl");
	TCase *t = tcase_create("rtnl");
	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, test_link_dump_lists_every_link_then_done);
	tcase_add_test(t, test_a_long_dump_fills_datagrams_with_whole_messages);
	tcase_add_test(t, test_a_link_by_index_or_name);
	tcase_add_test(t, test_a_link_nobody_has_or_unnamed_is_an_error);
	tcase_add_test(t, test_address_dump_gives_each_ipv4_address);
	tcase_add_test(t, test_route_dump_gives_the_main_then_the_local_table);
	tcase_add_test(t, test_the_route_to_one_address);
	tcase_add_test(t, test_route_get_errors);
	tcase_add_test(t, test_neighbour_dump_gives_the_arp_cache);
	tcase_add_test(t, test_changes_and_unknown_types_are_refused);
	tcase_add_test(
		t, test_what_is_not_a_request_is_acknowledged_only_if_asked);
	tcase_add_test(t, test_malformed_lengths_end_the_datagram_unanswered);
	tcase_add_test(t, test_several_requests_in_one_datagram);
	tcase_add_test(t, test_a_full_queue_is_reported);
	suite_add_tcase(s, t);
	return unit_run(s);
}
