/* icmp.c: ICMP sockets as ping uses them: a raw ICMP socket sees every
 * ICMP packet with its IPv4 header (its own echo request to this host,
 * then the reply), ICMP_FILTER leaves types out; a ping socket sends
 * echo requests the kernel stamps with its identifier and receives the
 * replies alone. Expectations are Linux's (natively: as root, and ping
 * sockets where net.ipv4.ping_group_range lets us). An argument names a
 * host that must answer a ping (the gateway). */
#define _GNU_SOURCE
#include "../common/inet_csum.h"
#include "guest.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>

#ifndef ICMP_FILTER
#define ICMP_FILTER 1 /* <linux/icmp.h>: SOL_RAW's one option */
#endif
#ifndef SOL_RAW
#define SOL_RAW 255
#endif
#define ID 0x4d2
#define PAYLOAD "fresco ping"

/* An echo request of (seq) with PAYLOAD into (out): its length. */
static size_t echo(uint8_t *out, uint16_t seq)
{
	struct icmphdr h = {.type = ICMP_ECHO};
	h.un.echo.id = htons(ID);
	h.un.echo.sequence = htons(seq);
	memcpy(out, &h, sizeof(h));
	memcpy(out + sizeof(h), PAYLOAD, sizeof(PAYLOAD));
	size_t len = sizeof(h) + sizeof(PAYLOAD);
	h.checksum = inet_csum(out, len);
	memcpy(out, &h, sizeof(h));
	return len;
}

static struct sockaddr_in to(const char *ip)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	inet_pton(AF_INET, ip, &a.sin_addr);
	return a;
}

/* The next packet within a second into (buf): its length, or -1. */
static ssize_t next(int fd, uint8_t *buf, size_t cap, struct sockaddr_in *from)
{
	struct pollfd p = {fd, POLLIN, 0};
	socklen_t len = sizeof(*from);
	if (poll(&p, 1, 1000) != 1)
		return -1;
	return recvfrom(fd, buf, cap, 0, (struct sockaddr *)from, &len);
}

/* A raw socket's packet: the ICMP message after the IPv4 header, or
 * NULL if it is not an ICMP packet from (src). */
static const struct icmphdr *icmp_in(const uint8_t *pkt, ssize_t n,
				     const char *src, size_t *len)
{
	struct iphdr ip;
	if (n < (ssize_t)sizeof(ip))
		return NULL;
	memcpy(&ip, pkt, sizeof(ip));
	struct sockaddr_in want = to(src);
	size_t hl = (size_t)ip.ihl * 4;
	if (ip.version != 4 || ip.protocol != IPPROTO_ICMP ||
	    ip.saddr != want.sin_addr.s_addr || (size_t)n < hl + 8)
		return NULL;
	*len = (size_t)n - hl;
	return (const struct icmphdr *)(pkt + hl);
}

static void check_raw(const char *gateway)
{
	static uint8_t out[64], in[1500];
	int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	if (geteuid() != 0) {
		CHECK(fd < 0 && errno == EPERM,
		      "raw socket: EPERM unprivileged");
		return;
	}
	CHECK(fd >= 0, "raw ICMP socket");
	int v;
	socklen_t vl = sizeof(v);
	CHECK(getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &vl) == 0 &&
		      v == IPPROTO_ICMP,
	      "SO_PROTOCOL is IPPROTO_ICMP");
	struct sockaddr_in lo = to("127.0.0.1"), from;
	size_t len = echo(out, 1);
	CHECK(sendto(fd, out, len, 0, (struct sockaddr *)&lo, sizeof(lo)) ==
		      (ssize_t)len,
	      "send an echo request to 127.0.0.1");
	/* this host's packets come back: the request, then the reply */
	int saw_request = 0, saw_reply = 0;
	for (int i = 0; i < 8 && !saw_reply; i++) {
		ssize_t n = next(fd, in, sizeof(in), &from);
		size_t ilen;
		const struct icmphdr *h = icmp_in(in, n, "127.0.0.1", &ilen);
		if (!h || h->un.echo.id != htons(ID) ||
		    h->un.echo.sequence != htons(1) || ilen != len ||
		    memcmp((const char *)(h + 1), PAYLOAD, sizeof(PAYLOAD)))
			continue;
		saw_request |= h->type == ICMP_ECHO && !saw_reply;
		saw_reply |= h->type == ICMP_ECHOREPLY &&
			     inet_csum(h, ilen) == 0 &&
			     from.sin_addr.s_addr == lo.sin_addr.s_addr &&
			     from.sin_port == 0;
	}
	CHECK(saw_request, "the raw socket sees its own request");
	CHECK(saw_reply, "and the reply, with its IPv4 header and sender");
	/* ICMP_FILTER: echo requests left out */
	uint32_t filter = 1u << ICMP_ECHO, back = 0;
	vl = sizeof(back);
	CHECK(setsockopt(fd, SOL_RAW, ICMP_FILTER, &filter, sizeof(filter)) ==
			      0 &&
		      getsockopt(fd, SOL_RAW, ICMP_FILTER, &back, &vl) == 0 &&
		      back == filter,
	      "ICMP_FILTER set and read back");
	len = echo(out, 2);
	sendto(fd, out, len, 0, (struct sockaddr *)&lo, sizeof(lo));
	size_t ilen;
	const struct icmphdr *h = icmp_in(in, next(fd, in, sizeof(in), &from),
					  "127.0.0.1", &ilen);
	CHECK(h && h->type == ICMP_ECHOREPLY && h->un.echo.sequence == htons(2),
	      "with the filter the reply comes first");
	if (gateway) {
		struct sockaddr_in gw = to(gateway);
		len = echo(out, 3);
		sendto(fd, out, len, 0, (struct sockaddr *)&gw, sizeof(gw));
		int answered = 0;
		for (int i = 0; i < 8 && !answered; i++) {
			h = icmp_in(in, next(fd, in, sizeof(in), &from),
				    gateway, &ilen);
			answered = h && h->type == ICMP_ECHOREPLY &&
				   h->un.echo.sequence == htons(3);
		}
		CHECK(answered, "%s answers a ping", gateway);
	}
	close(fd);
}

/* Does net.ipv4.ping_group_range keep our group from ping sockets? */
static int ping_sockets_barred(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ping_group_range", "r");
	long lo, hi;
	if (!f)
		return 0;
	int n = fscanf(f, "%ld %ld", &lo, &hi);
	fclose(f);
	return n == 2 && !(lo <= (long)getegid() && (long)getegid() <= hi);
}

static void check_ping_socket(void)
{
	static uint8_t out[64], in[1500];
	int fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
	if (ping_sockets_barred()) {
		CHECK(fd < 0 && errno == EACCES,
		      "ping socket: EACCES outside ping_group_range");
		return;
	}
	CHECK(fd >= 0, "ping socket");
	struct sockaddr_in lo = to("127.0.0.1"), from, me;
	socklen_t ml = sizeof(me);
	size_t len = echo(out, 7);
	CHECK(sendto(fd, out, len, 0, (struct sockaddr *)&lo, sizeof(lo)) ==
		      (ssize_t)len,
	      "send an echo request");
	CHECK(getsockname(fd, (struct sockaddr *)&me, &ml) == 0 &&
		      me.sin_port != 0,
	      "the socket took an identifier (%u)", ntohs(me.sin_port));
	ssize_t n = next(fd, in, sizeof(in), &from);
	struct icmphdr h;
	memcpy(&h, in, sizeof(h));
	CHECK(n == (ssize_t)len && h.type == ICMP_ECHOREPLY &&
		      h.un.echo.id == me.sin_port &&
		      h.un.echo.sequence == htons(7) &&
		      !memcmp(in + sizeof(h), PAYLOAD, sizeof(PAYLOAD)) &&
		      from.sin_addr.s_addr == lo.sin_addr.s_addr,
	      "the reply alone, no IPv4 header, with the kernel's "
	      "identifier");
	CHECK(recv(fd, in, sizeof(in), MSG_DONTWAIT) < 0 && errno == EAGAIN,
	      "and not its own request");
	struct icmphdr ts = {.type = ICMP_TIMESTAMP};
	CHECK(sendto(fd, &ts, sizeof(ts), 0, (struct sockaddr *)&lo,
		     sizeof(lo)) < 0 &&
		      errno == EINVAL,
	      "anything but an echo request: EINVAL");
	CHECK(sendto(fd, out, 4, 0, (struct sockaddr *)&lo, sizeof(lo)) < 0 &&
		      errno == EINVAL,
	      "shorter than an ICMP header: EINVAL");
	CHECK(connect(fd, (struct sockaddr *)&lo, sizeof(lo)) == 0 &&
		      send(fd, out, len, 0) == (ssize_t)len &&
		      next(fd, in, sizeof(in), &from) == (ssize_t)len,
	      "connected, send and receive");
	close(fd);
}

int main(int argc, char **argv)
{
	check_raw(argc > 1 ? argv[1] : NULL);
	check_ping_socket();
	return guest_done("icmp");
}
