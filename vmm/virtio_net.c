/* virtio_net.c: a virtio network device (virtio 1.x, 5.1) on a backend.
 *
 * Queue 0 receives, queue 1 transmits. Every buffer carries the 12-byte
 * virtio_net_hdr_v1 first; no offloads are offered yet, so the header is
 * all zeros (num_buffers 1) on the way in and ignored on the way out.
 * The device's thread watches the queue notifications, the backend's
 * descriptors and its timers. Frames for a guest that has no receive
 * buffer wait in a short queue, then are dropped as a full link would.
 */
#define _GNU_SOURCE
#include "virtio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <unistd.h>

#define HDR_LEN 12
#define FRAME_MAX (VIRTIO_NET_MTU + 14)
#define PENDING_MAX 256
#define POLL_FDS 8192 /* slirp watches a socket per connection */
#define RXQ 0
#define TXQ 1

struct frame {
	uint16_t len;
	uint8_t data[FRAME_MAX];
};

struct net {
	struct virtio_dev dev;
	struct net_backend *be;
	struct virtio_net_config config;
	/* one chain each way: sending a frame may bring one in (slirp
	 * answers at once) while the transmit chain is still open */
	struct virtq_chain chain, tx_chain;
	uint8_t tx[HDR_LEN + 65536];
	struct frame *pending; /* a ring of frames waiting for buffers */
	unsigned head, count;
	uint64_t dropped;
};

/* Put one frame into the next receive buffer: 1 done, 0 no buffer, -1
 * the queue is broken. Called with the lock held. */
static int put_frame(struct net *n, const uint8_t *frame, size_t len)
{
	struct virtio_dev *d = &n->dev;
	struct virtq *q = &d->q[RXQ];
	char why[160];

	if (!q->ready || !(d->status & VIRTIO_CONFIG_S_DRIVER_OK) ||
	    (d->status & VIRTIO_CONFIG_S_NEEDS_RESET))
		return 0;
	int r = virtq_pop(q, d->mem, &n->chain, why, sizeof(why));
	if (r <= 0) {
		if (r < 0)
			virtio_fail(d, why);
		return r;
	}
	struct virtq_chain *c = &n->chain;
	if (c->nr) {
		virtio_fail(d, "a receive buffer the device may not write");
		return -1;
	}
	if (c->wlen < HDR_LEN + len) {
		/* too small for this frame: returned empty, frame dropped */
		virtq_push(q, c->head, 0);
		n->dropped++;
		return 1;
	}
	uint8_t hdr[HDR_LEN] = {0};
	hdr[10] = 1; /* num_buffers */
	const uint8_t *parts[2] = {hdr, frame};
	size_t lens[2] = {HDR_LEN, len}, part = 0, off = 0;
	for (unsigned i = 0; i < c->nw && part < 2; i++) {
		uint8_t *dst = c->iov[i].iov_base;
		size_t room = c->iov[i].iov_len;
		while (room && part < 2) {
			size_t k = lens[part] - off < room ? lens[part] - off
							   : room;
			memcpy(dst, parts[part] + off, k);
			dst += k;
			room -= k;
			off += k;
			if (off == lens[part]) {
				part++;
				off = 0;
			}
		}
	}
	virtq_push(q, c->head, (uint32_t)(HDR_LEN + len));
	return 1;
}

/* Deliver what waits, as far as there are buffers. Lock held. */
static void flush_pending(struct net *n)
{
	int any = 0;
	while (n->count) {
		struct frame *f = &n->pending[n->head];
		int r = put_frame(n, f->data, f->len);
		if (r <= 0)
			break;
		any = 1;
		n->head = (n->head + 1) % PENDING_MAX;
		n->count--;
	}
	if (any)
		virtio_notify(&n->dev, &n->dev.q[RXQ]);
	if (n->count)
		virtq_arm(&n->dev.q[RXQ]); /* tell us when buffers come */
}

int virtio_net_deliver(struct virtio_dev *d, const uint8_t *frame, size_t len)
{
	struct net *n = d->priv;
	int r = -1;

	if (len > FRAME_MAX || len < 14)
		return -1;
	pthread_mutex_lock(&d->lock);
	flush_pending(n);
	if (!n->count && put_frame(n, frame, len) > 0) {
		virtio_notify(d, &d->q[RXQ]);
		r = 0;
	} else if (n->pending && n->count < PENDING_MAX) {
		struct frame *f =
			&n->pending[(n->head + n->count) % PENDING_MAX];
		memcpy(f->data, frame, len);
		f->len = (uint16_t)len;
		n->count++;
		virtq_arm(&d->q[RXQ]);
		r = 0;
	} else {
		n->dropped++;
	}
	pthread_mutex_unlock(&d->lock);
	return r;
}

/* Send one frame the guest queued. A frame without a header, or larger
 * than the link's, is dropped as a NIC would. */
static long net_transmit(struct virtio_dev *d, struct virtq_chain *c, char *why,
			 size_t why_len)
{
	struct net *n = d->priv;
	size_t len = 0;
	(void)why, (void)why_len;
	for (unsigned i = 0; i < c->nr; i++) {
		size_t k = c->iov[i].iov_len;
		if (len + k > sizeof(n->tx))
			k = sizeof(n->tx) - len;
		memcpy(n->tx + len, c->iov[i].iov_base, k);
		len += k;
	}
	if (len >= HDR_LEN + 14 && len <= HDR_LEN + FRAME_MAX && c->rlen == len)
		n->be->send(n->be, n->tx + HDR_LEN, len - HDR_LEN);
	else
		n->dropped++;
	return 0;
}

static int net_process(struct virtio_dev *d, unsigned qi)
{
	struct net *n = d->priv;
	if (qi == TXQ)
		return virtio_serve(d, TXQ, &n->tx_chain, net_transmit);
	flush_pending(n); /* the driver added receive buffers */
	return 0;
}

static void *net_thread(void *arg)
{
	struct virtio_dev *d = arg;
	struct net *n = d->priv;
	struct pollfd *fds = calloc(POLL_FDS, sizeof(*fds));
	if (!fds) {
		fprintf(stderr, "fresco: %s: out of memory\n", d->name);
		return NULL;
	}

	for (;;) {
		int timeout = -1;
		fds[0] = (struct pollfd){d->kick_fd, POLLIN, 0};
		fds[1] = (struct pollfd){d->stop_fd, POLLIN, 0};
		int nb = n->be->fill(n->be, fds + 2, POLL_FDS - 2, &timeout);
		if (poll(fds, (nfds_t)(2 + nb), timeout) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (fds[1].revents)
			break;
		if (fds[0].revents) {
			uint64_t k;
			if (read(d->kick_fd, &k, 8) < 0 && errno != EAGAIN)
				break;
			virtio_dev_process(d);
		}
		n->be->poll(n->be, fds + 2, nb);
	}
	free(fds);
	return NULL;
}

static void net_config_read(struct virtio_dev *d, uint64_t off, void *out,
			    unsigned len)
{
	struct net *n = d->priv;
	if (off < sizeof(n->config) && len <= sizeof(n->config) - off)
		memcpy(out, (uint8_t *)&n->config + off, len);
}

static void net_reset(struct virtio_dev *d)
{
	struct net *n = d->priv;
	n->head = n->count = 0;
}

static const struct virtio_ops net_ops = {
	.device_id = VIRTIO_ID_NET,
	.nqueues = 2,
	.config_read = net_config_read,
	.process = net_process,
	.reset = net_reset,
	.thread = net_thread,
};

struct virtio_dev *virtio_net_new(const char *name, struct net_backend *backend,
				  const uint8_t mac[6],
				  const struct guest_mem *mem)
{
	struct net *n = calloc(1, sizeof(*n));
	if (!n || !(n->pending = calloc(PENDING_MAX, sizeof(struct frame)))) {
		fprintf(stderr, "fresco: %s: out of memory\n", name);
		free(n);
		return NULL;
	}
	n->be = backend;
	backend->dev = &n->dev;
	memcpy(n->config.mac, mac, 6);
	n->config.status = VIRTIO_NET_S_LINK_UP;
	n->config.max_virtqueue_pairs = 1;
	n->config.mtu = VIRTIO_NET_MTU;
	virtio_dev_init(&n->dev, &net_ops, name, n, mem,
			(1ULL << VIRTIO_NET_F_MAC) |
				(1ULL << VIRTIO_NET_F_STATUS) |
				(1ULL << VIRTIO_NET_F_MTU));
	return &n->dev;
}
