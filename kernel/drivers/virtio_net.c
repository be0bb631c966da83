/* virtio_net.c: the virtio network driver (virtio 1.x, 5.1).
 *
 * Queue 0 receives into RX_BUFS buffers of half a page each, queue 1
 * transmits from as many, every one starting with the 12-byte
 * virtio_net_hdr_v1 (no offloads yet: zeros). Received frames are handed
 * to the stack from netdev_poll, in the system call path.
 */
#include "drivers/virtio.h"
#include "net/net.h"
#include "arch/x86_64/x86.h"
#include <linux/virtio_net.h>

#define HDR_LEN 12
#define BUF_SIZE 2048
#define RX_BUFS 128
#define TX_BUFS 128
#define RXQ 0
#define TXQ 1
#define TX_WAIT_NS 2000000ULL

static uint64_t tx_dropped;

static struct vdev dev;
static int found, attached;
static uint8_t *rx_buf[RX_BUFS], *tx_buf[TX_BUFS];
static uint16_t tx_free[TX_BUFS], ntx_free;
static uint16_t tx_of_head[VIRTIO_QUEUE_SEGS]; /* which buffer a chain is */

/* The rx buffer a used chain is: chains are single descriptors, and
 * each posted buffer sits at the descriptor vq_add gave it. */
static uint8_t *rx_by_desc[VIRTIO_QUEUE_SEGS];

static void post_rx(uint8_t *buf)
{
	struct vseg s = {virt_to_phys(buf), BUF_SIZE, 1};
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

/* Bring the device up the first time the network is used: a program that
 * never opens a socket does not pay for it at boot. */
int netdev_start(void)
{
	if (attached || !found)
		return attached ? 0 : -ENETDOWN;
	int r = vdev_init(
		&dev, (1ULL << VIRTIO_NET_F_MAC) | (1ULL << VIRTIO_NET_F_MTU),
		2);
	if (r < 0)
		return r;
	/* two buffers a page */
	for (unsigned p = 0; p < RX_BUFS / 2 + TX_BUFS / 2; p++) {
		uint64_t pa = phys_alloc();
		if (!pa)
			return -ENOMEM;
		uint8_t *page = phys_to_virt(pa);
		uint8_t **slot = p < RX_BUFS / 2
					 ? &rx_buf[2 * p]
					 : &tx_buf[2 * (p - RX_BUFS / 2)];
		slot[0] = page;
		slot[1] = page + BUF_SIZE;
	}
	for (unsigned i = 0; i < TX_BUFS; i++)
		tx_free[ntx_free++] = (uint16_t)i;
	for (unsigned i = 0; i < RX_BUFS; i++)
		post_rx(rx_buf[i]);
	vq_kick(&dev, RXQ);
	uint8_t mac[6];
	const unsigned mac_at = offsetof(struct virtio_net_config, mac);
	for (int k = 0; k < 6; k++)
		mac[k] = (dev.features & (1ULL << VIRTIO_NET_F_MAC))
				 ? (uint8_t)vdev_config32(&dev, mac_at + k)
				 : (uint8_t)(k == 0 ? 0x52 : k);
	attached = 1;
	net_interface_up(mac);
	return 0;
}

/* Take back transmit buffers the device is done with. */
static void reclaim_tx(void)
{
	uint32_t len;
	int head;
	while ((head = vq_take(&dev, TXQ, &len)) >= 0)
		tx_free[ntx_free++] = tx_of_head[head];
}

int netdev_send(const void *frame, size_t len)
{
	if (!attached || len > BUF_SIZE - HDR_LEN)
		return -EINVAL;
	reclaim_tx();
	/* the device drains its queue quickly: wait for it a moment
	 * rather than drop (a drop costs TCP a retransmission timeout) */
	for (uint64_t start = clock_monotonic_ns();
	     !ntx_free && clock_monotonic_ns() - start < TX_WAIT_NS;) {
		cpu_relax();
		reclaim_tx();
	}
	if (!ntx_free) {
		tx_dropped++;
		return -ENOBUFS; /* a full link drops it */
	}
	uint16_t b = tx_free[--ntx_free];
	memset(tx_buf[b], 0, HDR_LEN);
	memcpy(tx_buf[b] + HDR_LEN, frame, len);
	struct vseg s = {virt_to_phys(tx_buf[b]), (uint32_t)(HDR_LEN + len), 0};
	int head = vq_add(&dev, TXQ, &s, 1);
	if (head < 0) {
		tx_free[ntx_free++] = b;
		return -ENOBUFS;
	}
	tx_of_head[head] = b;
	vq_kick(&dev, TXQ);
	return 0;
}

int netdev_poll(void (*deliver)(const uint8_t *frame, size_t len))
{
	uint32_t len;
	int head, n = 0;
	if (!attached)
		return 0;
	while ((head = vq_take(&dev, RXQ, &len)) >= 0) {
		uint8_t *buf = rx_by_desc[head];
		if (!buf)
			continue;
		rx_by_desc[head] = NULL;
		if (len > HDR_LEN && len <= BUF_SIZE)
			deliver(buf + HDR_LEN, len - HDR_LEN);
		post_rx(buf);
		n++;
	}
	if (n)
		vq_kick(&dev, RXQ);
	return n;
}

void netdev_wait(uint64_t deadline)
{
	if (attached)
		vq_wait(&dev, RXQ, deadline);
	else
		clock_sleep_until(deadline);
}
