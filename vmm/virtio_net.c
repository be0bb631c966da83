/* virtio_net.c: a virtio network device (virtio 1.x, 5.1) on a backend.
 *
 * Queue 0 receives, queue 1 transmits. Every buffer carries the 12-byte
 * virtio_net_hdr_v1 first. The device offers what a guest needs to move
 * 64 KiB at a time: it takes frames with the TCP checksum left open
 * (VIRTIO_NET_F_CSUM) and TCP/IPv4 frames of up to 64 KiB to be cut into
 * MTU-sized ones (HOST_TSO4); it gives such frames (GUEST_CSUM,
 * GUEST_TSO4) when the backend has them, spread over as many receive
 * buffers as they need (MRG_RXBUF). A TAP backend passes the header to
 * the host's kernel, which does that work; for libslirp, and for a guest
 * that did not agree to take them, net_offload.c does it in software.
 * The device's thread watches the queue notifications, the backend's
 * descriptors and its timers. Frames for a guest that has no receive
 * buffer wait in a short queue, then are dropped as a full link would.
 */
#define _GNU_SOURCE
#include "virtio.h"
#include "fresco/queue.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <unistd.h>
#include <sched.h>

#define HDR_LEN 12
#define PENDING_MAX 4096
#define PENDING_BYTES (4u << 20)
#define NET_LINGER_NS 50000ULL
#define RX_CHAINS_MAX 64 /* receive buffers one frame may take */
#define RX_IOV_MAX 256
#define POLL_FDS 8192 /* slirp watches a socket per connection */
#define RXQ 0
#define TXQ 1
#define F(bit) (1ULL << (bit))
#define GUEST_OFFLOADS (F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_TSO4))

struct frame {
	struct frame *next;
	struct virtio_net_hdr_v1 hdr;
	size_t len;
	uint8_t data[];
};

struct net {
	struct virtio_dev dev;
	struct net_backend *be;
	struct virtio_net_config config;
	uint64_t offloads; /* the backend was last told these */
	/* receive chains of one frame; the transmit chain is apart, since
	 * sending a frame may bring one in (slirp answers at once) while
	 * it is still open */
	struct virtq_chain rx[RX_CHAINS_MAX], tx_chain;
	/* receive chains a backend reads into, kept from one read to the
	 * next (a read that finds nothing, or a small frame, leaves them
	 * for the next): (held) of them from rx[rx_first] on, round the
	 * array, their buffers in rx_iov */
	unsigned held, rx_first, held_niov;
	size_t held_room;
	struct iovec rx_iov[RX_IOV_MAX];
	uint8_t tx[HDR_LEN + NET_GSO_FRAME_MAX];
	uint8_t scratch[NET_GSO_FRAME_MAX];   /* a frame being finished */
	struct frame *pending, *pending_tail; /* waiting for buffers */
	unsigned count;
	size_t bytes;
	struct net_stats stats;
	size_t frame_max; /* of a frame without segmentation: the MTU's */
};

static long net_transmit(struct virtio_dev *d, struct virtq_chain *c, char *why,
			 size_t why_len);

static int has(const struct net *n, unsigned bit)
{
	return !!(n->dev.driver_features & F(bit));
}

static struct virtq_chain *rx_chain(struct net *n, unsigned i)
{
	return &n->rx[(n->rx_first + i) % RX_CHAINS_MAX];
}

/* Keep no receive chains for the backend's reads (after a reset, the
 * queue starts afresh). */
static void rx_forget(struct net *n)
{
	n->held = n->rx_first = n->held_niov = 0;
	n->held_room = 0;
}

/* Give back the receive chains kept for the backend's reads, so that
 * the queue's next buffer is the first of them again. Lock held. */
static void rx_release(struct net *n)
{
	virtq_unpop(&n->dev.q[RXQ], n->held);
	rx_forget(n);
}

/* Put one frame into the next receive buffers: 1 done, 0 no buffer
 * (try again when the driver adds some), -1 the queue is broken. A frame
 * that no set of buffers the driver could give would hold is dropped
 * (1). Called with the lock held. */
static int put_frame(struct net *n, const struct virtio_net_hdr_v1 *hdr,
		     const uint8_t *frame, size_t len)
{
	struct virtio_dev *d = &n->dev;
	struct virtq *q = &d->q[RXQ];
	char why[160];

	if (!virtio_queue_live(d, q))
		return 0;
	rx_release(n);
	unsigned most = has(n, VIRTIO_NET_F_MRG_RXBUF) ? RX_CHAINS_MAX : 1;
	size_t need = HDR_LEN + len, room = 0;
	unsigned k = 0;
	while (room < need && k < most && k < q->num) {
		int r = virtq_pop(q, d->mem, &n->rx[k], why, sizeof(why));
		if (r < 0) {
			virtio_fail(d, why);
			return -1;
		}
		if (r == 0) {
			virtq_unpop(q, k);
			return 0;
		}
		if (n->rx[k].nr) {
			virtio_fail(d, "a receive buffer the device may not "
				       "write");
			return -1;
		}
		room += n->rx[k].wlen;
		k++;
	}
	if (room < need) {
		/* more than the driver's buffers can ever hold */
		virtq_unpop(q, k);
		n->stats.dropped++;
		return 1;
	}
	struct virtio_net_hdr_v1 h = *hdr;
	h.num_buffers = (uint16_t)k;
	const uint8_t *parts[2] = {(const uint8_t *)&h, frame};
	size_t lens[2] = {HDR_LEN, len}, part = 0, off = 0;
	for (unsigned c = 0; c < k; c++) {
		size_t wrote = 0;
		for (unsigned i = 0; i < n->rx[c].nw && part < 2; i++) {
			uint8_t *dst = n->rx[c].iov[i].iov_base;
			size_t space = n->rx[c].iov[i].iov_len;
			while (space && part < 2) {
				size_t m = lens[part] - off < space
						   ? lens[part] - off
						   : space;
				memcpy(dst, parts[part] + off, m);
				dst += m;
				space -= m;
				off += m;
				wrote += m;
				if (off == lens[part]) {
					part++;
					off = 0;
				}
			}
		}
		virtq_fill(q, c, n->rx[c].head, (uint32_t)wrote);
	}
	virtq_flush(q, k);
	n->stats.rx_frames++;
	n->stats.rx_bytes += len;
	n->stats.rx_big += len > VIRTIO_NET_MTU + 14u;
	return 1;
}

/* Deliver what waits, as far as there are buffers. Lock held. */
static void flush_pending(struct net *n)
{
	int any = 0, r = 0;
	do {
		while (n->pending) {
			struct frame *f = n->pending;
			r = put_frame(n, &f->hdr, f->data, f->len);
			if (r <= 0)
				break;
			any = 1;
			QUEUE_DROP_FIRST(n->pending, n->pending_tail, next);
			n->count--;
			n->bytes -= f->len;
			free(f);
		}
		/* still short: tell us when buffers come (or look again if
		 * some came meanwhile); a broken queue waits for its reset */
	} while (n->pending && r == 0 && virtq_arm_more(&n->dev.q[RXQ]));
	if (any)
		virtio_notify(&n->dev, &n->dev.q[RXQ]);
}

/* One finished frame for the guest. Lock held. */
static void deliver_one(struct net *n, const struct virtio_net_hdr_v1 *hdr,
			const uint8_t *frame, size_t len)
{
	flush_pending(n);
	if (!n->pending && put_frame(n, hdr, frame, len) > 0) {
		virtio_notify(&n->dev, &n->dev.q[RXQ]);
		return;
	}
	struct frame *f = NULL;
	if (n->count < PENDING_MAX && n->bytes + len <= PENDING_BYTES)
		f = malloc(sizeof(*f) + len);
	if (!f) {
		n->stats.dropped++;
		return;
	}
	f->hdr = *hdr;
	f->len = len;
	memcpy(f->data, frame, len);
	QUEUE_APPEND(n->pending, n->pending_tail, f, next);
	n->count++;
	n->bytes += len;
	if (virtq_arm_more(&n->dev.q[RXQ]))
		flush_pending(n); /* buffers came meanwhile */
}

static void deliver_cut(void *arg, const uint8_t *frame, size_t len)
{
	static const struct virtio_net_hdr_v1 plain;
	deliver_one(arg, &plain, frame, len);
}

/* A frame of (len) bytes that (h) describes is one the device can
 * give: no shorter than Ethernet's header, no longer than the link's (or
 * 64 KiB, to be cut), cut only as TCP/IPv4. */
static int frame_ok(const struct net *n, const struct virtio_net_hdr_v1 *h,
		    size_t len)
{
	int gso = h->gso_type != VIRTIO_NET_HDR_GSO_NONE;
	return len >= 14 && len <= (gso ? NET_GSO_FRAME_MAX : n->frame_max) &&
	       (!gso || h->gso_type == VIRTIO_NET_HDR_GSO_TCPV4);
}

/* ... and the guest takes it as it is: what the header leaves to do is
 * what the driver agreed to do. */
static int takes_as_is(const struct net *n, const struct virtio_net_hdr_v1 *h,
		       size_t len)
{
	return frame_ok(n, h, len) &&
	       (h->gso_type == VIRTIO_NET_HDR_GSO_NONE ||
		(has(n, VIRTIO_NET_F_GUEST_TSO4) &&
		 has(n, VIRTIO_NET_F_GUEST_CSUM))) &&
	       (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) ||
		has(n, VIRTIO_NET_F_GUEST_CSUM));
}

/* A frame for the guest, finished first if the guest does not take what
 * its header leaves open: 0, or -1 if it was malformed. Lock held. */
static int deliver_locked(struct net *n, struct virtio_net_hdr_v1 h,
			  const uint8_t *frame, size_t len)
{
	static const struct virtio_net_hdr_v1 plain;
	if (!frame_ok(n, &h, len)) {
		n->stats.dropped++;
		return -1;
	}
	h.num_buffers = 0;
	if (!has(n, VIRTIO_NET_F_GUEST_CSUM))
		h.flags &= (uint8_t)~VIRTIO_NET_HDR_F_DATA_VALID; /* 5.1.6.4 */
	if (takes_as_is(n, &h, len)) {
		deliver_one(n, &h, frame, len);
	} else if (h.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		/* the guest takes only whole frames: cut it here */
		if (net_tso_split(frame, len, h.gso_size, deliver_cut, n) < 0) {
			n->stats.dropped++;
			return -1;
		}
	} else if ((h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
		   !has(n, VIRTIO_NET_F_GUEST_CSUM)) {
		if (frame != n->scratch)
			memcpy(n->scratch, frame, len);
		if (net_csum_finish(n->scratch, len, h.csum_start,
				    h.csum_offset) < 0) {
			n->stats.dropped++;
			return -1;
		}
		deliver_one(n, &plain, n->scratch, len);
	}
	return 0;
}

int virtio_net_deliver(struct virtio_dev *d,
		       const struct virtio_net_hdr_v1 *hdr,
		       const uint8_t *frame, size_t len)
{
	static const struct virtio_net_hdr_v1 plain;
	pthread_mutex_lock(&d->lock);
	int r = deliver_locked(d->priv, hdr ? *hdr : plain, frame, len);
	pthread_mutex_unlock(&d->lock);
	return r;
}

/* Copy (len) bytes from (iov) past (skip) to (out). */
static void gather(uint8_t *out, const struct iovec *iov, int niov, size_t skip,
		   size_t len)
{
	for (int i = 0; i < niov && len; i++) {
		size_t l = iov[i].iov_len;
		if (skip >= l) {
			skip -= l;
			continue;
		}
		size_t k = l - skip < len ? l - skip : len;
		memcpy(out, (uint8_t *)iov[i].iov_base + skip, k);
		out += k;
		len -= k;
		skip = 0;
	}
}

ssize_t virtio_net_read_into(struct virtio_dev *d,
			     ssize_t (*reader)(void *arg,
					       const struct iovec *iov,
					       int niov),
			     void *arg)
{
	struct net *n = d->priv;
	struct virtq *q = &d->q[RXQ];
	const size_t need = HDR_LEN + NET_GSO_FRAME_MAX;
	char why[160];
	ssize_t got = NET_READ_YOURSELF;

	pthread_mutex_lock(&d->lock);
	flush_pending(n);
	if (n->pending || !virtio_queue_live(d, q) ||
	    !has(n, VIRTIO_NET_F_MRG_RXBUF))
		goto out;
	/* buffers for the largest frame there can be: those kept from the
	 * last read, and more */
	unsigned k = n->held;
	int niov = (int)n->held_niov;
	size_t room = n->held_room;
	while (room < need && k < RX_CHAINS_MAX && k < q->num) {
		struct virtq_chain *c = rx_chain(n, k);
		int r = virtq_pop(q, d->mem, c, why, sizeof(why));
		if (r < 0 || (r > 0 && c->nr)) {
			virtio_fail(d, r < 0 ? why
					     : "a receive buffer the device "
					       "may not write");
			rx_forget(n); /* its reset starts it afresh */
			got = -1;
			goto out;
		}
		if (r == 0 || niov + (int)c->nw > RX_IOV_MAX ||
		    (k == 0 && c->iov[0].iov_len < HDR_LEN)) {
			virtq_unpop(q, (unsigned)r);
			break;
		}
		memcpy(n->rx_iov + niov, c->iov, c->nw * sizeof(*c->iov));
		niov += (int)c->nw;
		room += c->wlen;
		k++;
	}
	n->held = k;
	n->held_niov = (unsigned)niov;
	n->held_room = room;
	if (room < need) {
		rx_release(n); /* the backend reads it itself */
		goto out;
	}
	got = reader(arg, n->rx_iov, niov);
	if (got <= HDR_LEN)
		goto out; /* nothing (more) to read: kept for the next */
	struct virtio_net_hdr_v1 h;
	memcpy(&h, n->rx_iov[0].iov_base, HDR_LEN);
	size_t len = (size_t)got - HDR_LEN;
	if (!takes_as_is(n, &h, len)) {
		/* more than the guest takes (it was reset meanwhile): out
		 * of its buffers, finished, and in again; one no device
		 * could give is dropped */
		if (frame_ok(n, &h, len))
			gather(n->scratch, n->rx_iov, niov, HDR_LEN, len);
		rx_release(n);
		deliver_locked(n, h, n->scratch, len);
		goto out;
	}
	/* the chains the frame took; the rest are kept */
	unsigned used = 0, used_niov = 0;
	for (size_t left = (size_t)got; left; used++) {
		struct virtq_chain *c = rx_chain(n, used);
		size_t w = c->wlen < left ? c->wlen : left;
		virtq_fill(q, used, c->head, (uint32_t)w);
		left -= w;
		used_niov += c->nw;
		n->held_room -= c->wlen;
	}
	h.num_buffers = (uint16_t)used;
	if (!has(n, VIRTIO_NET_F_GUEST_CSUM))
		h.flags &= (uint8_t)~VIRTIO_NET_HDR_F_DATA_VALID;
	memcpy(n->rx_iov[0].iov_base, &h, HDR_LEN);
	virtq_flush(q, used);
	memmove(n->rx_iov, n->rx_iov + used_niov,
		(n->held_niov - used_niov) * sizeof(*n->rx_iov));
	n->held -= used;
	n->held_niov -= used_niov;
	n->rx_first = (n->rx_first + used) % RX_CHAINS_MAX;
	n->stats.rx_frames++;
	n->stats.rx_bytes += len;
	n->stats.rx_big += len > VIRTIO_NET_MTU + 14u;
	virtio_notify(d, q);
	/* what the guest queued meanwhile goes out now, not after the
	 * backend's burst: its ACKs held back behind our reads would cap
	 * a sender by its window (TCP's round trip is the queue's length;
	 * bbr's window is a few frames more than its tiny minimum). The
	 * thread asks for a notification only before it sleeps. */
	if (virtio_queue_live(d, &d->q[TXQ]) && virtq_pending(&d->q[TXQ]))
		virtio_drain(d, TXQ, &n->tx_chain, net_transmit);
out:
	pthread_mutex_unlock(&d->lock);
	return got;
}

static void send_cut(void *arg, const uint8_t *frame, size_t len)
{
	struct net_backend *be = arg;
	be->send(be, frame, len);
}

/* Learn the guest's address from an ARP request or answer it sends from
 * its own MAC (sender hardware and protocol address), as libvirt learns
 * a guest's: the guest may have it from DHCP, which the monitor does not
 * see through TAP. */
static void learn_address(struct net *n, const struct virtq_chain *c,
			  size_t len)
{
	uint8_t a[14 + 28];
	if (len < sizeof(a))
		return;
	gather(a, c->iov, (int)c->nr, HDR_LEN, 14);
	if (a[12] != 0x08 || a[13] != 0x06) /* ARP */
		return;
	gather(a, c->iov, (int)c->nr, HDR_LEN, sizeof(a));
	static const uint8_t ipv4_on_ethernet[6] = {0, 1, 8, 0, 6, 4};
	if (memcmp(a + 14, ipv4_on_ethernet, 6) ||
	    memcmp(a + 22, n->config.mac, 6))
		return;
	uint32_t ip;
	memcpy(&ip, a + 28, 4);
	if (ip) /* 0.0.0.0: an ARP probe, with no address yet */
		n->stats.ip = ip;
}

/* Send one frame the guest queued. A frame without a header, larger than
 * the link's or than its header allows, or asking for an offload the
 * driver did not negotiate, is dropped as a NIC would. */
static long net_transmit(struct virtio_dev *d, struct virtq_chain *c, char *why,
			 size_t why_len)
{
	struct net *n = d->priv;
	(void)why, (void)why_len;
	if (c->rlen > sizeof(n->tx) || c->rlen < HDR_LEN + 14) {
		n->stats.dropped++;
		return 0;
	}
	struct virtio_net_hdr_v1 h;
	size_t len = c->rlen - HDR_LEN;
	gather((uint8_t *)&h, c->iov, (int)c->nr, 0, HDR_LEN);
	int gso = h.gso_type != VIRTIO_NET_HDR_GSO_NONE;
	int csum = h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM;
	if ((gso && (h.gso_type != VIRTIO_NET_HDR_GSO_TCPV4 ||
		     !has(n, VIRTIO_NET_F_HOST_TSO4))) ||
	    (csum && !has(n, VIRTIO_NET_F_CSUM)) ||
	    len > (gso ? NET_GSO_FRAME_MAX : n->frame_max)) {
		n->stats.dropped++;
		return 0;
	}
	n->stats.tx_frames++;
	n->stats.tx_bytes += len;
	n->stats.tx_big += len > VIRTIO_NET_MTU + 14u;
	learn_address(n, c, len);
	if (n->be->sendv) {
		/* header and frame straight from the guest's buffers: the
		 * host's kernel checks the header again as it takes them */
		n->be->sendv(n->be, c->iov, (int)c->nr);
		return 0;
	}
	uint8_t *frame = n->tx;
	gather(frame, c->iov, (int)c->nr, HDR_LEN, len);
	if (gso && net_tso_split(frame, len, h.gso_size, send_cut, n->be) < 0)
		n->stats.dropped++;
	else if (!gso && csum &&
		 net_csum_finish(frame, len, h.csum_start, h.csum_offset) < 0)
		n->stats.dropped++;
	else if (!gso)
		n->be->send(n->be, frame, len);
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

/* Tell the backend what the guest now takes unfinished (after
 * DRIVER_OK, nothing after a reset). A frame it had in hand before is
 * finished by virtio_net_deliver. */
static void apply_offloads(struct net *n)
{
	struct virtio_dev *d = &n->dev;
	pthread_mutex_lock(&d->lock);
	uint64_t want = (d->status & VIRTIO_CONFIG_S_DRIVER_OK)
				? d->driver_features & GUEST_OFFLOADS
				: 0;
	pthread_mutex_unlock(&d->lock);
	if (want != n->offloads && n->be->offloads)
		n->be->offloads(n->be, want);
	n->offloads = want;
}

int virtio_net_round(struct virtio_dev *d, uint64_t *seen)
{
	struct net *n = d->priv;
	pthread_mutex_lock(&d->lock);
	long sent = 0;
	if (virtio_queue_live(d, &d->q[TXQ]))
		sent = virtio_drain(d, TXQ, &n->tx_chain, net_transmit);
	if (virtio_queue_live(d, &d->q[RXQ]))
		flush_pending(n);
	uint64_t moved = n->stats.rx_frames + n->stats.tx_frames;
	pthread_mutex_unlock(&d->lock);
	int busy = sent > 0 || moved != *seen;
	*seen = moved;
	return busy;
}

int virtio_net_arm(struct virtio_dev *d)
{
	pthread_mutex_lock(&d->lock);
	int more = virtio_queue_live(d, &d->q[TXQ]) && virtq_arm(&d->q[TXQ]);
	pthread_mutex_unlock(&d->lock);
	return more;
}

/* The device's thread. After frames last moved either way it keeps
 * looking (rounds without sleeping) for NET_LINGER_NS, yielding the CPU
 * between rounds that find nothing: in an exchange of requests and
 * answers the next comes within that. A thread that slept in between
 * paid a wake-up, and the guest a notification, for nearly each, and
 * with wrk -c 64 on two CPUs they stood idle a tenth of the time (now
 * 1-3%); without the yield, looking took CPU that wrk and the vCPU
 * wanted (docs/net.md has the figures). */
static void *net_thread(void *arg)
{
	struct virtio_dev *d = arg;
	struct net *n = d->priv;
	struct pollfd *fds = calloc(POLL_FDS, sizeof(*fds));
	uint64_t seen = 0, moved_at = 0;
	int busy = 0;
	if (!fds) {
		fprintf(stderr, "fresco: %s: out of memory\n", d->name);
		return NULL;
	}

	for (;;) {
		int timeout = -1;
		fds[0] = (struct pollfd){d->kick_fd, POLLIN, 0};
		fds[1] = (struct pollfd){d->stop_fd, POLLIN, 0};
		int nb = n->be->fill(n->be, fds + 2, POLL_FDS - 2, &timeout);
		if (busy || virtio_net_arm(d))
			timeout = 0;
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
		}
		uint64_t now = monotonic_ns();
		if (virtio_net_round(d, &seen))
			moved_at = now;
		busy = now - moved_at < NET_LINGER_NS;
		if (busy && moved_at != now)
			sched_yield(); /* only looking: the CPU to others */
		apply_offloads(n);
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
	while (n->pending) {
		struct frame *f = n->pending;
		n->pending = f->next;
		free(f);
	}
	n->pending_tail = NULL;
	n->count = 0;
	n->bytes = 0;
	rx_forget(n);
}

static const struct virtio_ops net_ops = {
	.device_id = VIRTIO_ID_NET,
	.nqueues = 2,
	.config_read = net_config_read,
	.process = net_process,
	.reset = net_reset,
	.thread = net_thread,
};

int virtio_net_stats(struct virtio_dev *d, struct net_stats *out)
{
	if (d->ops != &net_ops)
		return -1;
	struct net *n = d->priv;
	pthread_mutex_lock(&d->lock);
	*out = n->stats;
	out->features = d->driver_features;
	out->mtu = n->config.mtu;
	memcpy(out->mac, n->config.mac, 6);
	pthread_mutex_unlock(&d->lock);
	return 0;
}

struct virtio_dev *virtio_net_new(const char *name, struct net_backend *backend,
				  const uint8_t mac[6],
				  const struct guest_mem *mem)
{
	struct net *n = calloc(1, sizeof(*n));
	if (!n) {
		fprintf(stderr, "fresco: %s: out of memory\n", name);
		return NULL;
	}
	n->be = backend;
	backend->dev = &n->dev;
	memcpy(n->config.mac, mac, 6);
	n->config.status = VIRTIO_NET_S_LINK_UP;
	n->config.max_virtqueue_pairs = 1;
	n->config.mtu =
		(uint16_t)(backend->mtu ? backend->mtu : VIRTIO_NET_MTU);
	n->frame_max = n->config.mtu + 14u;
	virtio_dev_init(&n->dev, &net_ops, name, n, mem,
			F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_STATUS) |
				F(VIRTIO_NET_F_MTU) | F(VIRTIO_NET_F_CSUM) |
				F(VIRTIO_NET_F_HOST_TSO4) |
				F(VIRTIO_NET_F_MRG_RXBUF) | GUEST_OFFLOADS);
	return &n->dev;
}
