/* inet.c: Internet checksums and header checks (see inet.h; RFC 1071 for
 * the checksum, RFC 791 for IPv4), and DHCP's options (RFC 2132). */
#include "lib/inet.h"
#include <string.h>

uint32_t inet_sum(const void *data, size_t len, uint32_t sum)
{
	/* eight bytes at a time, as little-endian words with the carries
	 * added back in (RFC 1071: the sum does not depend on the word size,
	 * and swapping the folded result's bytes gives the big-endian one) */
	const uint8_t *p = data;
	uint64_t acc = 0;
	for (; len >= 8; p += 8, len -= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		acc += w;
		acc += acc < w;
	}
	uint64_t tail = 0; /* at most 3 * 0xffff: no carry out of it */
	for (; len >= 2; p += 2, len -= 2)
		tail += (uint64_t)(p[0] | p[1] << 8);
	if (len)
		tail += p[0];
	acc += tail;
	acc += acc < tail;
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	return sum + (uint32_t)net16((uint16_t)acc);
}

uint16_t inet_csum_done(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return net16((uint16_t)~sum);
}

uint32_t inet_pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto,
			 uint16_t len)
{
	uint32_t sum = inet_sum(&src, 4, 0);
	sum = inet_sum(&dst, 4, sum);
	return sum + proto + len;
}

int ip_check(const uint8_t *pkt, size_t len, size_t *payload_len)
{
	const struct ip_hdr *ip = (const struct ip_hdr *)pkt;
	if (len < sizeof(*ip) || (ip->vihl >> 4) != 4)
		return -1;
	size_t hl = (size_t)(ip->vihl & 15) * 4;
	size_t total = net16(ip->len);
	if (hl < sizeof(*ip) || hl > total || total > len)
		return -1;
	if (inet_csum_done(inet_sum(pkt, hl, 0)) != 0)
		return -1;
	if (net16(ip->frag) & 0x3fff) /* more fragments, or an offset */
		return IP_FRAGMENT;
	*payload_len = total - hl;
	return (int)hl;
}

int inet_parse(const char *s, uint32_t *addr)
{
	uint32_t v = 0;
	for (int part = 0; part < 4; part++) {
		unsigned n = 0, digits = 0;
		while (*s >= '0' && *s <= '9' && digits < 4) {
			n = n * 10 + (unsigned)(*s++ - '0');
			digits++;
		}
		if (!digits || n > 255 || (part < 3 && *s++ != '.'))
			return -1;
		v = v << 8 | n;
	}
	if (*s)
		return -1;
	*addr = net32(v);
	return 0;
}

/* option codes (RFC 2132) */
#define OPT_PAD 0
#define OPT_MASK 1
#define OPT_ROUTER 3
#define OPT_DNS 6
#define OPT_LEASE 51
#define OPT_TYPE 53
#define OPT_SERVER 54
#define OPT_END 255

int dhcp_parse_options(const uint8_t *o, size_t len, struct dhcp_options *r)
{
	memset(r, 0, sizeof(*r));
	size_t i = 0;
	while (i < len) {
		uint8_t code = o[i++];
		if (code == OPT_PAD)
			continue;
		if (code == OPT_END)
			return 0;
		if (i >= len || i + 1 + o[i] > len)
			return -1; /* an option runs past the packet */
		uint8_t n = o[i++];
		const uint8_t *v = o + i;
		i += n;
		switch (code) {
		case OPT_TYPE:
			if (n >= 1)
				r->type = v[0];
			break;
		case OPT_MASK:
			if (n >= 4)
				memcpy(&r->mask, v, 4);
			break;
		case OPT_ROUTER:
			if (n >= 4)
				memcpy(&r->router, v, 4);
			break;
		case OPT_DNS:
			if (n >= 4)
				memcpy(&r->dns, v, 4);
			break;
		case OPT_SERVER:
			if (n >= 4)
				memcpy(&r->server, v, 4);
			break;
		case OPT_LEASE:
			if (n >= 4)
				r->lease_s = (uint32_t)v[0] << 24 |
					     (uint32_t)v[1] << 16 |
					     (uint32_t)v[2] << 8 | v[3];
			break;
		}
	}
	return -1; /* no END */
}
