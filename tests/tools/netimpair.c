/* netimpair.c: host-side packet loss, delay and reordering for the lossy
 * network tests, through a netfilter queue (what tc netem does, for hosts
 * whose kernel has no sch_netem).
 *
 * usage: netimpair QUEUE LOSS% DELAY_MS REORDER% [MTU]
 *
 * Packets that nftables sends to queue QUEUE are dropped with probability
 * LOSS%; the rest are accepted after DELAY_MS milliseconds, except that
 * REORDER% of them wait three times as long, so packets sent after them
 * overtake them. With MTU, an IPv4 packet longer than MTU bytes that may
 * not be fragmented is dropped and answered as a router with a smaller
 * link would: ICMP fragmentation needed, with MTU as the next hop's, to
 * its sender (counted as "toobig"). Prints "ready" once bound, and on
 * SIGTERM or SIGINT the counts "seen N dropped N reordered N toobig N"
 * on stderr before exiting 0.
 */
#define _GNU_SOURCE
#include "../common/inet_csum.h"
#include <err.h>
#include <arpa/inet.h>
#include <errno.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <sys/socket.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HELD_MAX 65536

struct held {
	uint32_t id;
	uint64_t due_ns;
};

/* Packets waiting for their verdict, in a binary min-heap on due_ns. */
static struct held heap[HELD_MAX];
static size_t held;
static double loss, reorder;
static uint64_t delay_ns;
static unsigned long seen, dropped, reordered, toobig;
static unsigned mtu;	 /* 0: no limit */
static int icmp_fd = -1; /* where fragmentation needed goes out */
static volatile sig_atomic_t stopping;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void heap_push(struct held h)
{
	size_t i = held++;

	while (i > 0 && heap[(i - 1) / 2].due_ns > h.due_ns) {
		heap[i] = heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	heap[i] = h;
}

static struct held heap_pop(void)
{
	struct held top = heap[0], last = heap[--held];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= held)
			break;
		if (c + 1 < held && heap[c + 1].due_ns < heap[c].due_ns)
			c++;
		if (heap[c].due_ns >= last.due_ns)
			break;
		heap[i] = heap[c];
		i = c;
	}
	heap[i] = last;
	return top;
}

/* Is (pkt) (len bytes of it copied) too long for the link, with DF? If
 * so, tell its sender as a router does (RFC 1191). */
static int too_big(const uint8_t *pkt, int len)
{
	struct iphdr ip;
	uint8_t msg[8 + 60 + 8];
	struct icmphdr *h = (struct icmphdr *)msg;

	if (!mtu || len < (int)sizeof(ip))
		return 0;
	memcpy(&ip, pkt, sizeof(ip));
	if (ip.version != 4 || ntohs(ip.tot_len) <= mtu ||
	    !(ntohs(ip.frag_off) & IP_DF))
		return 0;
	size_t quote = (size_t)ip.ihl * 4 + 8;
	if (quote > (size_t)len)
		quote = (size_t)len;
	memset(msg, 0, sizeof(msg));
	h->type = ICMP_DEST_UNREACH;
	h->code = ICMP_FRAG_NEEDED;
	h->un.frag.mtu = htons((uint16_t)mtu);
	memcpy(msg + 8, pkt, quote);
	h->checksum = inet_csum(msg, 8 + quote);
	struct sockaddr_in to = {.sin_family = AF_INET};
	to.sin_addr.s_addr = ip.saddr;
	if (sendto(icmp_fd, msg, 8 + quote, 0, (struct sockaddr *)&to,
		   sizeof(to)) < 0)
		warn("sendto");
	toobig++;
	return 1;
}

static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg,
		     struct nfq_data *data, void *arg)
{
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(data);
	uint32_t id = ntohl(ph->packet_id);
	uint64_t wait = delay_ns;
	unsigned char *pkt;
	int len = nfq_get_payload(data, &pkt);

	(void)msg;
	(void)arg;
	seen++;
	if (too_big(pkt, len))
		return nfq_set_verdict(qh, id, NF_DROP, 0, NULL);
	if (drand48() * 100 < loss || held == HELD_MAX) {
		dropped++;
		return nfq_set_verdict(qh, id, NF_DROP, 0, NULL);
	}
	if (drand48() * 100 < reorder) {
		reordered++;
		wait *= 3;
	}
	heap_push((struct held){id, now_ns() + wait});
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

int main(int argc, char **argv)
{
	struct nfq_handle *h;
	struct nfq_q_handle *qh;
	char buf[65536];

	if (argc != 5 && argc != 6)
		errx(2, "usage: netimpair QUEUE LOSS%% DELAY_MS REORDER%% "
			"[MTU]");
	loss = atof(argv[2]);
	if (argc == 6) {
		mtu = (unsigned)atoi(argv[5]);
		icmp_fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
		if (mtu < 68 || icmp_fd < 0)
			err(1, "MTU %s: a raw ICMP socket", argv[5]);
	}
	delay_ns = (uint64_t)(atof(argv[3]) * 1e6);
	reorder = atof(argv[4]);
	srand48((long)now_ns());
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);

	h = nfq_open();
	if (!h)
		err(1, "nfq_open");
	qh = nfq_create_queue(h, (uint16_t)atoi(argv[1]), on_packet, NULL);
	if (!qh)
		err(1, "nfq_create_queue %s", argv[1]);
	/* the headers, to see what is too long */
	if (nfq_set_mode(qh, mtu ? NFQNL_COPY_PACKET : NFQNL_COPY_META,
			 mtu ? 128 : 0) < 0)
		err(1, "nfq_set_mode");
	if (nfq_set_queue_maxlen(qh, HELD_MAX) < 0)
		err(1, "nfq_set_queue_maxlen");
	printf("ready\n");
	fflush(stdout);

	int fd = nfq_fd(h);
	while (!stopping) {
		uint64_t now = now_ns();
		struct timespec wait, *timeout = NULL;

		while (held && heap[0].due_ns <= now)
			nfq_set_verdict(qh, heap_pop().id, NF_ACCEPT, 0, NULL);
		if (held) {
			uint64_t ns = heap[0].due_ns - now;

			wait.tv_sec = (time_t)(ns / 1000000000u);
			wait.tv_nsec = (long)(ns % 1000000000u);
			timeout = &wait;
		}
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (ppoll(&p, 1, timeout, NULL) < 0) {
			if (errno == EINTR)
				continue;
			err(1, "poll");
		}
		if (!(p.revents & POLLIN))
			continue;
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0) {
			/* ENOBUFS: the kernel's queue overflowed; those
			 * packets are lost, as on a congested link. */
			if (errno == EAGAIN || errno == EINTR ||
			    errno == ENOBUFS)
				continue;
			err(1, "recv");
		}
		nfq_handle_packet(h, buf, (int)n);
	}
	while (held)
		nfq_set_verdict(qh, heap_pop().id, NF_ACCEPT, 0, NULL);
	nfq_destroy_queue(qh);
	nfq_close(h);
	fprintf(stderr, "seen %lu dropped %lu reordered %lu toobig %lu\n", seen,
		dropped, reordered, toobig);
	return 0;
}
