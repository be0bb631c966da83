/* rtnl.h: what the guest's NETLINK_ROUTE sockets answer, as pure logic:
 * one request datagram in, reply datagrams out, from a description of
 * the interfaces (the view). It answers what programs ask to learn the
 * network, as Linux's rtnetlink does: links (RTM_GETLINK, dump or one
 * by index or name), IPv4 addresses (RTM_GETADDR dump), routes
 * (RTM_GETROUTE dump of the main and local tables, or the route to one
 * address), the ARP cache (RTM_GETNEIGH dump). That is what getifaddrs,
 * if_nameindex, `ip link`, `ip addr`, `ip route`, `ip route get` and
 * `ip neigh` use. Nothing can be changed through it:
 * RTM_NEW*, RTM_DEL*, RTM_SET* and other message types get EOPNOTSUPP.
 *
 * A request datagram holds one or more messages, each taken as Linux's
 * netlink_rcv_skb takes them: one whose length is shorter than its
 * header or runs past the datagram ends the datagram unanswered; one
 * that is not a request, or is a control message, is acknowledged only
 * if it asks (NLM_F_ACK); an error is always answered with NLMSG_ERROR
 * (echoing the request, or its header alone with NETLINK_CAP_ACK or
 * when the echo would not fit a datagram); a dump ends with NLMSG_DONE
 * and is never acknowledged.
 */
#ifndef FRESCO_LIB_RTNL_H
#define FRESCO_LIB_RTNL_H

#include <stddef.h>
#include <stdint.h>

/* The most a reply datagram holds: Linux's NLMSG_GOODSIZE with 4 KiB
 * pages. A dump fills datagrams up to it, a message never split. */
#define RTNL_DGRAM_MAX 3776

/* One interface, with at most one IPv4 address. Addresses are in
 * network order. */
struct rtnl_link {
	int index;
	const char *name;
	uint16_t type;	/* ARPHRD_ETHER, ARPHRD_LOOPBACK */
	uint32_t flags; /* IFF_*, IFF_LOWER_UP included */
	uint32_t mtu, txqlen;
	uint8_t operstate; /* IF_OPER_UP, or IF_OPER_UNKNOWN (loopback) */
	uint8_t addr[6], brd[6];
	uint64_t rx_packets, tx_packets, rx_bytes, tx_bytes, rx_errors,
		rx_dropped, tx_dropped;
	int prefix; /* of its address; -1: it has none */
	uint32_t ip, ip_brd;
	uint8_t scope; /* the address's: RT_SCOPE_HOST or _UNIVERSE */
};

/* A neighbour the ARP cache knows. */
struct rtnl_neigh {
	uint32_t ip; /* network order */
	uint8_t mac[6];
	int index; /* its link's */
};

struct rtnl_view {
	const struct rtnl_link *links;
	int nlinks;
	uint32_t gw;	  /* the default route's gateway; 0: none */
	uint8_t gw_proto; /* who made it: RTPROT_BOOT, RTPROT_DHCP */
	const struct rtnl_neigh *neighs;
	int nneighs;
};

/* A route (v) makes, as Linux makes them for the addresses and the
 * default route. Addresses in network order. */
struct rtnl_route {
	uint8_t table, type, scope, proto, dst_len;
	uint32_t dst, gw, src;
	int oif;
};
#define RTNL_ROUTES_MAX 64 /* 5 a link, and a default route */

/* The routes of (v) into (r) in the order Linux dumps them (the main
 * table, then the local one; by destination): their number. */
int rtnl_routes(const struct rtnl_view *v, struct rtnl_route *r);

/* Options of the asking socket. */
#define RTNL_CAP_ACK 1 /* NETLINK_CAP_ACK: errors echo the header only */

/* Where replies go: 0 taken, or -ENOBUFS (the socket's queue is full). */
typedef int (*rtnl_out)(void *ctx, const void *dgram, size_t len);

/* Answer the request datagram (req, len), 4-byte aligned, that the
 * socket with port (portid) sent, as (v) describes the network, the replies to
 * (out) with (ctx). Returns 0, or -ENOBUFS if (out) refused a reply (the
 * replies after it are dropped as well). */
int rtnl_answer(const struct rtnl_view *v, uint32_t portid, unsigned opts,
		const void *req, size_t len, rtnl_out out, void *ctx);

#endif
