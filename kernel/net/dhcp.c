/* dhcp.c: the DHCP client (RFC 2131, options from RFC 2132), for
 * fresco.ip=dhcp.
 *
 * At boot, before the program starts: DISCOVER, then REQUEST for the
 * first OFFER, retried with a doubling wait, until an ACK configures the
 * interface (address, mask, router, DNS server) or DHCP_TOTAL_NS passes.
 * Replies are asked for by broadcast (the BROADCAST flag), since the
 * interface has no address yet. Afterwards, net_poll's timers renew the
 * lease at half its time (T1) and again every minute until an ACK; the
 * address is kept even if the lease runs out, with one line on the host.
 * States: idle (static or no DHCP), selecting, requesting, bound,
 * renewing.
 */
#include "net/net.h"

#define BOOTREQUEST 1
#define BOOTREPLY 2
#define DHCP_MAGIC 0x63825363u
#define CLIENT_PORT 68
#define SERVER_PORT 67
#define FLAG_BROADCAST 0x8000
/* option codes (RFC 2132) */
#define OPT_MASK 1
#define OPT_ROUTER 3
#define OPT_DNS 6
#define OPT_HOSTNAME 12
#define OPT_REQUESTED 50
#define OPT_LEASE 51
#define OPT_TYPE 53
#define OPT_SERVER 54
#define OPT_PARAMS 55
#define OPT_END 255
/* message types (option 53) */
#define DISCOVER 1
#define OFFER 2
#define REQUEST 3
#define ACK 5
#define NAK 6

#define DHCP_FIRST_WAIT_NS 250000000ULL /* then 0.5, 1, 2, 2 ... s */
#define DHCP_MAX_WAIT_NS 2000000000ULL
#define DHCP_TOTAL_NS 6000000000ULL
#define RENEW_RETRY_NS 60000000000ULL
#define NSEC 1000000000ULL

struct bootp {
	uint8_t op, htype, hlen, hops;
	uint32_t xid;
	uint16_t secs, flags;
	uint32_t ciaddr, yiaddr, siaddr, giaddr;
	uint8_t chaddr[16];
	uint8_t sname[64], file[128];
	uint32_t magic;
	uint8_t options[312];
} __attribute__((packed));

struct udp_hdr_dhcp {
	uint16_t sport, dport, len, csum;
} __attribute__((packed));

enum dhcp_state { IDLE, SELECTING, REQUESTING, BOUND, RENEWING };

static enum dhcp_state state;
static uint32_t xid, offered, server;
static uint64_t renew_at = UINT64_MAX, lease_end = UINT64_MAX;

static uint8_t *put_opt(uint8_t *p, uint8_t code, const void *v, uint8_t n)
{
	*p++ = code;
	*p++ = n;
	memcpy(p, v, n);
	return p + n;
}

/* Send a DISCOVER or a REQUEST (for (want), to (to_server); both 0 when
 * renewing from (ciaddr)). */
static void send_msg(int type, uint32_t want, uint32_t to_server,
		     uint32_t ciaddr)
{
	static uint8_t pkt[sizeof(struct udp_hdr_dhcp) + sizeof(struct bootp)];
	struct udp_hdr_dhcp *u = (struct udp_hdr_dhcp *)pkt;
	struct bootp *b = (struct bootp *)(pkt + sizeof(*u));
	memset(pkt, 0, sizeof(pkt));
	b->op = BOOTREQUEST;
	b->htype = 1; /* Ethernet */
	b->hlen = 6;
	b->xid = xid;
	b->flags = ciaddr ? 0 : net16(FLAG_BROADCAST);
	b->ciaddr = ciaddr;
	memcpy(b->chaddr, netif.mac, 6);
	b->magic = net32(DHCP_MAGIC);
	uint8_t *p = b->options, t = (uint8_t)type;
	static const uint8_t params[] = {OPT_MASK, OPT_ROUTER, OPT_DNS,
					 OPT_LEASE};
	p = put_opt(p, OPT_TYPE, &t, 1);
	if (want)
		p = put_opt(p, OPT_REQUESTED, &want, 4);
	if (to_server)
		p = put_opt(p, OPT_SERVER, &to_server, 4);
	p = put_opt(p, OPT_HOSTNAME, "fresco", 6);
	p = put_opt(p, OPT_PARAMS, params, sizeof(params));
	*p = OPT_END;
	u->sport = net16(CLIENT_PORT);
	u->dport = net16(SERVER_PORT);
	u->len = net16((uint16_t)sizeof(pkt));
	u->csum = 0; /* optional over IPv4 */
	ip_output(ciaddr, 0xffffffffu, IP_PROTO_UDP, pkt, sizeof(pkt));
}

/* A reply to us has come: act on it. */
static void reply(const struct bootp *b, const struct dhcp_options *r)
{
	uint64_t now = clock_monotonic_ns();
	if (r->type == OFFER && state == SELECTING && b->yiaddr) {
		offered = b->yiaddr;
		server = r->server;
		state = REQUESTING;
		send_msg(REQUEST, offered, server, 0);
		return;
	}
	if (r->type == NAK && (state == REQUESTING || state == RENEWING)) {
		klog("dhcp: the server refused the address (NAK); asking "
		     "again");
		state = SELECTING;
		send_msg(DISCOVER, 0, 0, 0);
		return;
	}
	if (r->type != ACK || (state != REQUESTING && state != RENEWING) ||
	    !b->yiaddr)
		return;
	netif.ip = b->yiaddr;
	netif.mask = r->mask ? r->mask : net32(0xffffff00u);
	netif.gw = r->router;
	netif.dns = r->dns;
	netif.configured = 1;
	server = r->server ? r->server : server;
	uint64_t lease = r->lease_s ? (uint64_t)r->lease_s * NSEC : UINT64_MAX;
	lease_end = lease == UINT64_MAX ? UINT64_MAX : now + lease;
	renew_at = lease == UINT64_MAX ? UINT64_MAX : now + lease / 2;
	state = BOUND;
}

int dhcp_input(const struct ip_hdr *ip, const uint8_t *p, size_t len)
{
	(void)ip;
	const struct udp_hdr_dhcp *u = (const struct udp_hdr_dhcp *)p;
	if (state == IDLE || len < sizeof(*u) ||
	    u->dport != net16(CLIENT_PORT) || u->sport != net16(SERVER_PORT))
		return 0;
	size_t n = len - sizeof(*u);
	const struct bootp *b = (const struct bootp *)(p + sizeof(*u));
	size_t fixed = offsetof(struct bootp, options);
	struct dhcp_options r;
	if (n < fixed || b->op != BOOTREPLY || b->xid != xid ||
	    memcmp(b->chaddr, netif.mac, 6) != 0 ||
	    b->magic != net32(DHCP_MAGIC) ||
	    dhcp_parse_options(b->options, n - fixed, &r) < 0) {
		netif.rx_bad += n >= fixed && b->xid == xid;
		return 1; /* DHCP's port: not for a socket */
	}
	reply(b, &r);
	return 1;
}

int dhcp_configure(void)
{
	if (netdev_start() < 0)
		return -ENETDOWN;
	random_bytes(&xid, sizeof(xid));
	state = SELECTING;
	uint64_t start = clock_monotonic_ns(), wait = DHCP_FIRST_WAIT_NS;
	while (clock_monotonic_ns() - start < DHCP_TOTAL_NS) {
		if (state == SELECTING)
			send_msg(DISCOVER, 0, 0, 0);
		else
			send_msg(REQUEST, offered, server, 0);
		uint64_t until = clock_monotonic_ns() + wait;
		while (state != BOUND && clock_monotonic_ns() < until) {
			if (net_poll() == 0)
				netdev_wait(until);
		}
		if (state == BOUND)
			return 0;
		wait = wait * 2 < DHCP_MAX_WAIT_NS ? wait * 2
						   : DHCP_MAX_WAIT_NS;
	}
	state = IDLE;
	return -ETIMEDOUT;
}

uint64_t dhcp_timers(uint64_t now)
{
	if (state != BOUND && state != RENEWING)
		return UINT64_MAX;
	if (now >= renew_at) {
		state = RENEWING;
		send_msg(REQUEST, 0, 0, netif.ip);
		renew_at = now + RENEW_RETRY_NS;
		if (now >= lease_end) {
			static int said;
			if (!said++)
				klog("dhcp: the lease ran out with no answer "
				     "from the server; keeping the address");
		}
	}
	return renew_at;
}
