/* inet.h: Internet protocol formats: Ethernet, ARP, IPv4, ICMP, UDP and
 * the Internet checksum. Pure: shared by the kernel and host unit tests.
 * Multi-byte fields are in network byte order in the structures; the
 * helpers convert.
 */
#ifndef FRESCO_INET_H
#define FRESCO_INET_H

#include <stddef.h>
#include <stdint.h>

#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_ARP 0x0806
#define IP_PROTO_ICMP 1
#define IP_PROTO_TCP 6
#define IP_PROTO_UDP 17

struct eth_hdr {
	uint8_t dst[6], src[6];
	uint16_t type;
} __attribute__((packed));

struct arp_pkt {
	uint16_t htype, ptype;
	uint8_t hlen, plen;
	uint16_t op; /* 1 request, 2 reply */
	uint8_t sha[6];
	uint32_t spa;
	uint8_t tha[6];
	uint32_t tpa;
} __attribute__((packed));

struct ip_hdr {
	uint8_t vihl, tos;
	uint16_t len, id, frag;
	uint8_t ttl, proto;
	uint16_t csum;
	uint32_t src, dst;
} __attribute__((packed));

struct icmp_hdr {
	uint8_t type, code;
	uint16_t csum;
	uint16_t id, seq;
} __attribute__((packed));

struct udp_hdr {
	uint16_t sport, dport, len, csum;
} __attribute__((packed));

static inline uint16_t net16(uint16_t v)
{
	return (uint16_t)(v << 8 | v >> 8);
}

static inline uint32_t net32(uint32_t v)
{
	return __builtin_bswap32(v);
}

/* The one's-complement sum of (len) bytes, added to (sum); fold and
 * invert with inet_csum_done. */
uint32_t inet_sum(const void *data, size_t len, uint32_t sum);
uint16_t inet_csum_done(uint32_t sum);
/* The pseudo-header sum of TCP and UDP. */
uint32_t inet_pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto,
			 uint16_t len);

/* Check an IPv4 packet of (len) bytes: returns its header length and sets
 * (*payload_len), or -1 if it is malformed (version, lengths, checksum,
 * options longer than the packet), IP_FRAGMENT for a fragment (not
 * reassembled). */
int ip_check(const uint8_t *pkt, size_t len, size_t *payload_len);
#define IP_FRAGMENT (-2)

/* "a.b.c.d" to an address in network order: 0, or -1 if malformed. */
int inet_parse(const char *s, uint32_t *addr);

/* What a DHCP reply's options say, as far as the client uses them
 * (RFC 2132; addresses in network order, 0 when absent). */
struct dhcp_options {
	int type; /* option 53: OFFER 2, ACK 5, NAK 6, ... */
	uint32_t mask, router, dns, server, lease_s;
};
/* Read the options field (o, len) (after the magic cookie): 0, or -1 if
 * an option runs past the end or there is no END option. */
int dhcp_parse_options(const uint8_t *o, size_t len, struct dhcp_options *r);

#endif
