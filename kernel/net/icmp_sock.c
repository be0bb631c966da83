/* icmp_sock.c: ICMP sockets, what ping and traceroute use.
 *
 * A ping socket (SOCK_DGRAM, IPPROTO_ICMP) sends echo requests only: the
 * kernel puts the socket's port in their identifier and computes their
 * checksum; it receives the echo replies carrying that identifier, the
 * ICMP header first, and the errors ICMP reports about its requests (as
 * UDP does: SO_ERROR when connected and the error is hard, the error
 * queue with IP_RECVERR). Linux lets only the groups of
 * net.ipv4.ping_group_range make one; here any program may, as most
 * distributions set it.
 *
 * A raw ICMP socket (SOCK_RAW, IPPROTO_ICMP; Linux asks CAP_NET_RAW,
 * which the guest's program has) sends ICMP messages as given, checksum
 * included, and receives a copy of every ICMP packet that reaches the
 * guest with its IPv4 header, the kernel's own answers going on as well,
 * but for the types its ICMP_FILTER excludes; when connected, only its
 * peer's. Packets to this host come back through the loopback, so a raw
 * socket that pings itself sees its request and the reply.
 */
#include "net/socket.h"

#define SOCK_RAW_NR 3
#define ICMP_ECHOREPLY 0
#define ICMP_ECHO 8
#define BROADCAST 0xffffffffu

int icmp_sock_send(struct sock *s, uint32_t src, uint32_t dst,
		   const uint8_t *data, size_t len, const struct ip_opts *o)
{
	uint8_t *msg = sock_tx + NET_HEADROOM;
	int ping = s->type != SOCK_RAW_NR;
	if (!dst)
		dst = LOOPBACK_ADDR; /* 0.0.0.0: this host, as on Linux */
	if (len > ip_mtu_for(dst) - sizeof(struct ip_hdr))
		return -EMSGSIZE;
	if (dst == BROADCAST && !s->broadcast)
		return -EACCES;
	if (ping) {
		struct icmp_hdr h;
		if (len < sizeof(h))
			return -EINVAL;
		memcpy(&h, data, sizeof(h));
		if (h.type != ICMP_ECHO || h.code != 0)
			return -EINVAL;
		if (!s->bound) {
			int r = sock_bind_addr(s, 0, 0);
			if (r < 0)
				return r;
		}
	}
	if (!src)
		src = s->lip && s->lip != BROADCAST ? s->lip
						    : ip_source_for(dst);
	memcpy(msg, data, len);
	if (ping) {
		struct icmp_hdr *h = (struct icmp_hdr *)msg;
		h->id = s->lport;
		h->csum = 0;
		h->csum = inet_csum_done(inet_sum(msg, len, 0));
	}
	int r = ip_send(src, dst, IP_PROTO_ICMP, msg, len, NULL,
			o ? o : &s->ip);
	return r == -ENOBUFS ? 0 : r; /* dropped by the link */
}

void icmp_sock_input(const struct ip_hdr *ip, const uint8_t *p, size_t len)
{
	const struct icmp_hdr *h = (const struct icmp_hdr *)p;
	size_t hl = (size_t)(ip->vihl & 15) * 4;
	int echo_reply = h->type == ICMP_ECHOREPLY && h->code == 0;
	struct udp_meta m = sock_meta(ip);
	for (struct sock *s = all_socks; s; s = s->next) {
		if (s->proto != IP_PROTO_ICMP || s->shut_rd ||
		    (s->lip && s->lip != ip->dst) ||
		    (s->bound_if && s->bound_if != m.ifindex))
			continue;
		if (s->type == SOCK_RAW_NR) {
			if ((h->type < 32 && (s->icmp_filter >> h->type & 1)) ||
			    (s->connected && s->rip != ip->src))
				continue;
			sock_queue(s, (const uint8_t *)ip, hl + len, &m);
		} else if (echo_reply && s->bound && h->id == s->lport) {
			sock_queue(s, p, len, &m);
			echo_reply = 0; /* one ping socket has an identifier */
		}
	}
}

int icmp_sock_error(const uint8_t *orig, size_t len,
		    const struct icmp_report *r)
{
	const struct ip_hdr *ip = (const struct ip_hdr *)orig;
	size_t hl = (size_t)(ip->vihl & 15) * 4;
	if (hl < sizeof(*ip) || len < hl + sizeof(struct icmp_hdr))
		return 0;
	const struct icmp_hdr *h = (const struct icmp_hdr *)(orig + hl);
	if (h->type != ICMP_ECHO)
		return 0;
	struct sock *s = all_socks;
	for (; s; s = s->next)
		if (s->proto == IP_PROTO_ICMP && s->type != SOCK_RAW_NR &&
		    s->bound && s->lport == h->id)
			break;
	if (!s)
		return 0;
	if (!s->recverr && !(r->hard && s->connected))
		return 1;
	if (s->recverr)
		sock_err_put(s, ip->dst, 0, (const uint8_t *)h, len - hl, r);
	s->error = r->err;
	sock_changed(s);
	return 1;
}
