/* virtio_net.c: the virtio network driver (virtio 1.x, 5.1).
 *
 * Queue 0 receives into RX_BUFS buffers of a page each, queue 1 transmits
 * from TX_BUFS buffers of half a page and TX_BIG physically contiguous
 * ones of 68 KiB; each starts with the 12-byte virtio_net_hdr_v1. When
 * the device offers them, the driver takes the offloads that let TCP move
 * 64 KiB at a time:
 * - out: the TCP checksum left for the device to finish (CSUM) and TCP
 *   frames of up to 64 KiB it cuts into MTU-sized ones (HOST_TSO4);
 * - in: frames whose checksum the device vouches for (GUEST_CSUM: not
 *   checked again) and 64 KiB TCP frames (GUEST_TSO4), spread over as
 *   many receive buffers as they need (MRG_RXBUF), handed to the stack
 *   as they lie (TCP takes the payload from them; net.c joins the rest).
 * Received frames are handed to the stack from netdev_poll, in the system
 * call path.
 */
#include "drivers/virtio.h"
#include "net/net.h"
#include "arch/x86_64/x86.h"
#include <linux/virtio_net.h>

#define HDR_LEN 12
#define RX_BUF PAGE_SIZE
#define TX_BUF 2048
#define RX_BUFS 128
#define TX_BUFS 128
#define TX_BIG 8
#define TX_BIG_PAGES 17 /* header and a 64 KiB IPv4 packet */
#define FRAME_BIG (65535 + ETH_HLEN)
#define RXQ 0
#define TXQ 1
#define TX_WAIT_NS 2000000ULL
#define F(bit) (1ULL << (bit))

/* Until then a wait watches the queue before halting: a big frame (64
 * KiB through TAP's offloads, or over user networking's wide link, where
 * none is cut into segments) went either way lately, so the next one is
 * likely to come sooner than a halt and its interrupt (100 us of
 * emulated ring-0 work under kvm_pvm) would end. Small frames do not
 * poll: for requests and answers, the CPU a poll takes is what the
 * host's side of them needs. */
static uint64_t bulk_until;
#define BULK_NS 2000000ULL
#define BULK_POLL_NS 100000ULL
#define BULK_FRAME 16384 /* a frame this long is a bulk transfer's */

static struct vdev dev;
static int found, attached;
unsigned netdev_caps;
static uint8_t *rx_buf[RX_BUFS], *tx_buf[TX_BUFS + TX_BIG];
/* free transmit buffers: small ones, then big ones */
static uint16_t tx_free[TX_BUFS], ntx_free, big_free[TX_BIG], nbig_free;
static uint16_t tx_of_head[VIRTIO_QUEUE_SEGS]; /* which buffer a chain is */

/* The rx buffer a used chain is: chains are single descriptors, and
 * each posted buffer sits at the descriptor vq_add gave it. */
static uint8_t *rx_by_desc[VIRTIO_QUEUE_SEGS];

static void post_rx(uint8_t *buf)
{
	struct vseg s = {virt_to_phys(buf), RX_BUF, 1};
	int head = vq_add(&dev, RXQ, &s, 1);
	if (head >= 0)
		rx_by_desc[head] = buf;
}

int net_attach(const struct vdev *probed)
{
	if (found)
		return -ENOSPC;
	dev = *probed;
	found = 1;
	return 0;
}

/* The buffers, before the device is told what the driver takes: big
 * transmit buffers only if memory gives them. A later call (the device
 * refused us before) takes only what is still missing. */
static int alloc_buffers(void)
{
	static int done;
	if (done)
		return 0;
	for (unsigned i = 0; i < RX_BUFS; i++) {
		uint64_t pa = rx_buf[i] ? 1 : phys_alloc();
		if (!pa)
			return -ENOMEM;
		if (!rx_buf[i])
			rx_buf[i] = phys_to_virt(pa);
	}
	for (unsigned p = 0; p < TX_BUFS / 2; p++) {
		uint64_t pa = tx_buf[2 * p] ? 1 : phys_alloc();
		if (!pa)
			return -ENOMEM;
		if (!tx_buf[2 * p]) {
			tx_buf[2 * p] = phys_to_virt(pa);
			tx_buf[2 * p + 1] = tx_buf[2 * p] + TX_BUF;
		}
	}
	for (unsigned i = 0; i < TX_BUFS; i++)
		tx_free[ntx_free++] = (uint16_t)i;
	for (unsigned i = 0; i < TX_BIG; i++) {
		uint64_t pa = phys_alloc_contig(TX_BIG_PAGES);
		if (!pa)
			break;
		tx_buf[TX_BUFS + i] = phys_to_virt(pa);
		big_free[nbig_free++] = (uint16_t)(TX_BUFS + i);
	}
	done = 1;
	return 0;
}

uint64_t netdev_pages(void)
{
	/* receive pages, transmit pages of two buffers, big transmit
	 * buffers, and three pages for each of the two queues' rings */
	return RX_BUFS + TX_BUFS / 2 + TX_BIG * TX_BIG_PAGES + 2 * 3;
}

/* Bring the device up the first time the network is used (or at boot on
 * a TAP link, kernel_init): a program that never opens a socket does not
 * pay for it at boot. */
int netdev_start(void)
{
	if (attached || !found)
		return attached ? 0 : -ENETDOWN;
	int r = alloc_buffers();
	if (r < 0)
		return r;
	uint64_t offered = vdev_offered(&dev);
	uint64_t want = F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_MTU) |
			F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM);
	if (nbig_free)
		want |= F(VIRTIO_NET_F_HOST_TSO4);
	/* big frames coming in need buffers they can span */
	if (offered & F(VIRTIO_NET_F_MRG_RXBUF))
		want |= F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_NET_F_GUEST_TSO4);
	r = vdev_init(&dev, want, 2);
	if (r < 0)
		return r;
	if (dev.features & F(VIRTIO_NET_F_CSUM)) {
		netdev_caps |= NETDEV_TX_CSUM;
		if (dev.features & F(VIRTIO_NET_F_HOST_TSO4))
			netdev_caps |= NETDEV_TSO;
	}
	for (unsigned i = 0; i < RX_BUFS; i++)
		post_rx(rx_buf[i]);
	vq_kick(&dev, RXQ);
	uint8_t mac[6];
	const unsigned mac_at = offsetof(struct virtio_net_config, mac);
	for (int k = 0; k < 6; k++)
		mac[k] = (dev.features & F(VIRTIO_NET_F_MAC))
				 ? (uint8_t)vdev_config32(&dev, mac_at + k)
				 : (uint8_t)(k == 0 ? 0x52 : k);
	/* a link wider than Ethernet's (user networking's) only with
	 * buffers a big frame can span */
	unsigned mtu = 1500;
	if ((dev.features & F(VIRTIO_NET_F_MTU)) &&
	    (dev.features & F(VIRTIO_NET_F_MRG_RXBUF))) {
		unsigned m = (uint16_t)vdev_config32(
			&dev, offsetof(struct virtio_net_config, mtu));
		if (m >= 576 && m <= FRAME_BIG - ETH_HLEN)
			mtu = m;
	}
	attached = 1;
	net_interface_up(mac, mtu);
	return 0;
}

/* Transmit buffer (b) is free again, small or big. */
static void free_tx(uint16_t b)
{
	if (b >= TX_BUFS)
		big_free[nbig_free++] = b;
	else
		tx_free[ntx_free++] = b;
}

/* Take back transmit buffers the device is done with. */
static void reclaim_tx(void)
{
	uint32_t len;
	int head;
	while ((head = vq_take(&dev, TXQ, &len)) >= 0)
		free_tx(tx_of_head[head]);
}

int netdev_send(const void *frame, size_t len, const struct netdev_tx *tx)
{
	int big = len > TX_BUF - HDR_LEN;
	if (!attached || len > FRAME_BIG ||
	    (len > ETH_HLEN + netif.mtu &&
	     !(tx && tx->gso_size && (netdev_caps & NETDEV_TSO))))
		return -EINVAL;
	uint16_t *nfree = big ? &nbig_free : &ntx_free;
	reclaim_tx();
	/* the device drains its queue quickly: wait for it a moment
	 * rather than drop (a drop costs TCP a retransmission timeout) */
	for (uint64_t start = clock_monotonic_ns();
	     !*nfree && clock_monotonic_ns() - start < TX_WAIT_NS;) {
		cpu_relax();
		reclaim_tx();
	}
	if (!*nfree) {
		netif.tx_dropped++;
		return -ENOBUFS; /* a full link drops it */
	}
	uint16_t b = big ? big_free[--nbig_free] : tx_free[--ntx_free];
	uint8_t *buf = tx_buf[b];
	struct virtio_net_hdr_v1 *h = (struct virtio_net_hdr_v1 *)buf;
	memset(h, 0, HDR_LEN);
	memcpy(buf + HDR_LEN, frame, len);
	if (tx && tx->csum) {
		if (netdev_caps & NETDEV_TX_CSUM) {
			h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
			h->csum_start = tx->csum_start;
			h->csum_offset = tx->csum_offset;
		} else {
			/* finished here: the field holds the pseudo header */
			uint8_t *at = buf + HDR_LEN + tx->csum_start;
			uint16_t c = inet_csum_done(
				inet_sum(at, len - tx->csum_start, 0));
			memcpy(at + tx->csum_offset, &c, 2);
		}
	}
	if (len >= BULK_FRAME)
		bulk_until = clock_monotonic_ns() + BULK_NS;
	if (tx && tx->gso_size && len > ETH_HLEN + netif.mtu) {
		h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
		h->gso_size = tx->gso_size;
		h->hdr_len = tx->hdr_len;
	}
	struct vseg s = {virt_to_phys(buf), (uint32_t)(HDR_LEN + len), 0};
	int head = vq_add(&dev, TXQ, &s, 1);
	if (head < 0) {
		free_tx(b);
		return -ENOBUFS;
	}
	tx_of_head[head] = b;
	vq_kick(&dev, TXQ);
	return 0;
}

/* The next received buffer (*buf, *len): 1, or 0 if there is none. A
 * chain that is no buffer of ours gives (*buf) NULL. */
static int take_rx(uint8_t **buf, uint32_t *len)
{
	int head = vq_take(&dev, RXQ, len);
	if (head < 0)
		return 0;
	*buf = rx_by_desc[head];
	rx_by_desc[head] = NULL;
	return 1;
}

int netdev_poll(netdev_deliver *deliver)
{
	/* a frame's buffers after the first, handed on as they are */
	static struct tcp_part more[RX_BUFS];
	uint32_t len;
	uint8_t *buf;
	int n = 0;
	if (!attached)
		return 0;
	/* at most a ring's worth at a time, as NAPI's budget: the ACKs
	 * the batch earned go out before the next (net_poll) */
	int budget = RX_BUFS;
	while (budget > 0 && take_rx(&buf, &len)) {
		budget--;
		if (!buf)
			continue;
		const struct virtio_net_hdr_v1 *h = (const void *)buf;
		int ok = !!(h->flags & (VIRTIO_NET_HDR_F_NEEDS_CSUM |
					VIRTIO_NET_HDR_F_DATA_VALID));
		unsigned parts = (dev.features & F(VIRTIO_NET_F_MRG_RXBUF))
					 ? h->num_buffers
					 : 1;
		n++;
		if (len <= HDR_LEN || len > RX_BUF || parts == 0) {
			netif.rx_bad++;
			post_rx(buf);
			continue;
		}
		/* a frame in several buffers: the rest of them, then the
		 * whole of it handed on */
		size_t have = len - HDR_LEN;
		unsigned nheld = 0;
		int bad = 0;
		for (unsigned k = 1; k < parts; k++) {
			uint8_t *b;
			if (!take_rx(&b, &len)) {
				bad = 1; /* the device published part of it */
				break;
			}
			budget--;
			if (!b || bad || len > RX_BUF || nheld == RX_BUFS ||
			    have + len > FRAME_BIG) {
				bad = 1;
				if (b)
					post_rx(b);
				continue;
			}
			more[nheld++] = (struct tcp_part){b, len};
			have += len;
		}
		if (bad)
			netif.rx_bad++;
		else
			deliver(buf + HDR_LEN, have, more, nheld, ok);
		post_rx(buf);
		for (unsigned k = 0; k < nheld; k++)
			post_rx((uint8_t *)(uintptr_t)more[k].p);
		if (parts > 1)
			bulk_until = clock_monotonic_ns() + BULK_NS;
	}
	if (n)
		vq_kick(&dev, RXQ);
	return n;
}

void netdev_wait(uint64_t deadline)
{
	if (attached)
		vq_wait(&dev, RXQ, deadline,
			clock_monotonic_ns() < bulk_until ? BULK_POLL_NS : 0);
	else
		clock_sleep_until(deadline);
}
