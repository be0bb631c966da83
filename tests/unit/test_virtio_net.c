/* test_virtio_net.c: the monitor's virtio-net device and its software
 * offloads: TCP frames cut into segments, checksums finished, frames
 * spread over mergeable receive buffers, and what a driver that did not
 * negotiate an offload gets instead. Driven through the registers as a
 * guest driver would, with a backend that records what it is sent.
 */
#define _GNU_SOURCE
#include "unit.h"
#include "mmio.h"
#include "virtio.h"
#include "lib/inet.h"

#include <errno.h>
#include <linux/virtio_net.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MEM (1 << 20)
#define QN 64
#define Q0 0x0000   /* receive queue: desc, avail +0x1000, used +0x2000 */
#define Q1 0x4000   /* transmit queue */
#define BUFS 0x8000 /* receive buffers */
#define TXBUF 0x80000
#define RXBUF_LEN 2048
#define HDR_LEN 12
#define F(b) (1ULL << (b))

static uint8_t ram[MEM];
static struct guest_mem gm = {ram, MEM};
static uint16_t avail[2];

/* ---- the backend: records frames ---- */

static struct {
	struct net_backend be;
	uint8_t frames[64][NET_GSO_FRAME_MAX];
	size_t lens[64];
	struct virtio_net_hdr_v1 hdrs[64];
	int n, with_hdr;
} rec;

static void rec_send(struct net_backend *b, const uint8_t *frame, size_t len)
{
	(void)b;
	ck_assert_int_lt(rec.n, 64);
	memcpy(rec.frames[rec.n], frame, len);
	rec.lens[rec.n] = len;
	rec.n++;
}

/* A backend that takes the header: it gets the guest's buffers. */
static void rec_sendv(struct net_backend *b, const struct iovec *iov, int n)
{
	static uint8_t all[HDR_LEN + NET_GSO_FRAME_MAX];
	size_t len = 0;
	for (int i = 0; i < n; i++) {
		ck_assert_uint_le(len + iov[i].iov_len, sizeof(all));
		memcpy(all + len, iov[i].iov_base, iov[i].iov_len);
		len += iov[i].iov_len;
	}
	ck_assert_uint_ge(len, HDR_LEN);
	memcpy(&rec.hdrs[rec.n], all, HDR_LEN);
	rec.with_hdr = 1;
	rec_send(b, all + HDR_LEN, len - HDR_LEN);
}

static int rec_fill(struct net_backend *b, struct pollfd *fds, int cap,
		    int *timeout)
{
	(void)b, (void)fds, (void)cap, (void)timeout;
	return 0;
}

static void rec_poll(struct net_backend *b, struct pollfd *fds, int n)
{
	(void)b, (void)fds, (void)n;
}

/* ---- the driver's side ---- */

static uint16_t used_idx(unsigned q)
{
	uint16_t v;
	memcpy(&v, ram + (q ? Q1 : Q0) + 0x2000 + 2, 2);
	return v;
}

static void used_elem(unsigned q, unsigned i, uint32_t *id, uint32_t *len)
{
	const uint8_t *e = ram + (q ? Q1 : Q0) + 0x2000 + 4 + 8 * (i % QN);
	memcpy(id, e, 4);
	memcpy(len, e + 4, 4);
}

static void put_desc(unsigned q, unsigned i, uint64_t addr, uint32_t len,
		     uint16_t flags)
{
	uint8_t *p = ram + (q ? Q1 : Q0) + 16 * i;
	uint16_t next = 0;
	memcpy(p, &addr, 8);
	memcpy(p + 8, &len, 4);
	memcpy(p + 12, &flags, 2);
	memcpy(p + 14, &next, 2);
}

/* Make a chain available without telling the device. */
static void publish_quietly(unsigned q, uint16_t head)
{
	uint8_t *a = ram + (q ? Q1 : Q0) + 0x1000;
	memcpy(a + 4 + 2 * (avail[q] % QN), &head, 2);
	avail[q]++;
	memcpy(a + 2, &avail[q], 2);
}

static void publish(unsigned q, uint16_t head)
{
	publish_quietly(q, head);
	wr(0x50, q); /* no ioeventfd here: served at once */
}

/* A device on the recording backend (taking the header if (vnet)). */
static void new_device(int vnet)
{
	memset(ram, 0, sizeof(ram));
	memset(&rec, 0, sizeof(rec));
	rec.be.send = rec_send;
	rec.be.sendv = vnet ? rec_sendv : NULL;
	rec.be.fill = rec_fill;
	rec.be.poll = rec_poll;
	static const uint8_t mac[6] = {0x52, 0x54, 0, 0x12, 0x34, 0x56};
	d = virtio_net_new("test", &rec.be, mac, &gm);
	ck_assert_ptr_nonnull(d);
	virtio_dev_place(d, 0);
}

/* Reset the device and start it again with (features) and both queues
 * set up, empty. */
static void start_queues(uint64_t features)
{
	memset(ram + Q0, 0, 0x8000);
	ck_assert_uint_eq(negotiate(features | F(32)) & 8, 8); /* VERSION_1 */
	for (unsigned q = 0; q < 2; q++) {
		uint64_t base = q ? Q1 : Q0;
		wr(0x30, q);
		wr(0x38, QN);
		wr(0x80, (uint32_t)base);
		wr(0x90, (uint32_t)base + 0x1000);
		wr(0xa0, (uint32_t)base + 0x2000);
		wr(0x44, 1);
	}
	wr(0x70, 15);
	avail[0] = avail[1] = 0;
}

/* A new device with (features) and both queues set up. */
static void setup_with(uint64_t features, int vnet)
{
	new_device(vnet);
	start_queues(features);
}

/* Post receive buffers (first .. first + n) of RXBUF_LEN bytes. */
static void post_rx(unsigned first, unsigned n)
{
	for (unsigned i = first; i < first + n; i++) {
		put_desc(0, i, BUFS + (uint64_t)i * RXBUF_LEN, RXBUF_LEN,
			 VRING_DESC_F_WRITE);
		publish(0, (uint16_t)i);
	}
}

/* ---- frames ---- */

#define SRC 0x0f02000au /* 10.0.2.15 */
#define DST 0x0202000au /* 10.0.2.2 */

/* A TCP/IPv4 frame with (len) payload bytes (a counting pattern) at
 * sequence 1000, (flags), its TCP checksum left as a device finishes it
 * (the pseudo header's sum in the field). Its length. */
static size_t tcp_frame(uint8_t *f, size_t len, uint8_t flags)
{
	memset(f, 0, 14 + 20 + 32);
	memset(f, 0xaa, 12);
	f[12] = 0x08;
	uint8_t *ip = f + 14, *tcp = ip + 20;
	ip[0] = 0x45;
	uint16_t total = (uint16_t)(20 + 32 + len);
	ip[2] = (uint8_t)(total >> 8);
	ip[3] = (uint8_t)total;
	ip[4] = 0x12;
	ip[5] = 0x34;
	ip[6] = 0x40;
	ip[8] = 64;
	ip[9] = IP_PROTO_TCP;
	uint32_t s = SRC, t = DST;
	memcpy(ip + 12, &s, 4);
	memcpy(ip + 16, &t, 4);
	uint16_t c = inet_csum_done(inet_sum(ip, 20, 0));
	memcpy(ip + 10, &c, 2);
	tcp[0] = 0x1f;
	tcp[1] = 0x90;
	tcp[2] = 0xc0;
	tcp[3] = 0x01;
	tcp[6] = 0x03;
	tcp[7] = 0xe8;	  /* seq 1000 */
	tcp[12] = 8 << 4; /* 32 bytes: 12 of options */
	tcp[13] = flags;
	tcp[20] = 1; /* NOPs, then a timestamp option's shape */
	tcp[21] = 1;
	tcp[22] = 8;
	tcp[23] = 10;
	for (size_t i = 0; i < len; i++)
		tcp[32 + i] = (uint8_t)(i * 7 + i / 251);
	c = (uint16_t)~inet_csum_done(
		inet_pseudo_sum(s, t, IP_PROTO_TCP, (uint16_t)(32 + len)));
	memcpy(tcp + 16, &c, 2);
	return 14 + 20 + 32 + len;
}

/* A frame whose IPv4 and TCP checksums hold: its payload length. */
static size_t check_segment(const uint8_t *f, size_t n)
{
	size_t plen;
	ck_assert_int_eq(ip_check(f + 14, n - 14, &plen), 20);
	ck_assert_uint_eq(plen, n - 14 - 20);
	uint32_t s, t;
	memcpy(&s, f + 14 + 12, 4);
	memcpy(&t, f + 14 + 16, 4);
	uint32_t sum = inet_pseudo_sum(s, t, IP_PROTO_TCP, (uint16_t)plen);
	ck_assert_uint_eq(inet_csum_done(inet_sum(f + 34, plen, sum)), 0);
	return plen - 32;
}

static uint32_t seq_of(const uint8_t *f)
{
	const uint8_t *t = f + 34;
	return (uint32_t)t[4] << 24 | (uint32_t)t[5] << 16 |
	       (uint32_t)t[6] << 8 | t[7];
}

static uint8_t frame[NET_GSO_FRAME_MAX], joined[NET_GSO_FRAME_MAX];

struct cut {
	uint8_t f[8][2048];
	size_t n[8];
	int count;
};

static void collect(void *arg, const uint8_t *f, size_t n)
{
	struct cut *c = arg;
	ck_assert_int_lt(c->count, 8);
	ck_assert_uint_le(n, sizeof(c->f[0]));
	memcpy(c->f[c->count], f, n);
	c->n[c->count++] = n;
}

START_TEST(test_tso_split_makes_whole_segments)
{
	static struct cut c;
	memset(&c, 0, sizeof(c));
	size_t len = tcp_frame(frame, 5000, 0x80 | 0x10 | 0x08 | 0x01);
	ck_assert_int_eq(net_tso_split(frame, len, 1448, collect, &c), 4);
	ck_assert_int_eq(c.count, 4);
	size_t off = 0;
	for (int i = 0; i < 4; i++) {
		size_t k = check_segment(c.f[i], c.n[i]);
		ck_assert_uint_eq(k, i < 3 ? 1448 : 5000 - 3 * 1448);
		ck_assert_uint_eq(seq_of(c.f[i]), 1000 + off);
		ck_assert_mem_eq(c.f[i] + 66, frame + 66 + off, k);
		/* options are copied; ids count up */
		ck_assert_mem_eq(c.f[i] + 54, frame + 54, 12);
		ck_assert_uint_eq(c.f[i][19], (uint8_t)(0x34 + i));
		uint8_t fl = c.f[i][47];
		ck_assert_uint_eq(!!(fl & 0x80), i == 0);	/* CWR first */
		ck_assert_uint_eq(!!(fl & 0x09), i == 3);	/* PSH, FIN */
		ck_assert_uint_eq((fl & 0x09) == 0x09, i == 3); /* both */
		ck_assert(fl & 0x10);
		off += k;
	}
}
END_TEST

START_TEST(test_tso_split_refuses_what_it_cannot_cut)
{
	static struct cut c;
	size_t len = tcp_frame(frame, 3000, 0x10);
	ck_assert_int_eq(net_tso_split(frame, len, 0, collect, &c), -1);
	ck_assert_int_eq(net_tso_split(frame, len, 60000, collect, &c), -1);
	ck_assert_int_eq(net_tso_split(frame, 40, 1448, collect, &c), -1);
	frame[12] = 0x86; /* not IPv4 */
	ck_assert_int_eq(net_tso_split(frame, len, 1448, collect, &c), -1);
	tcp_frame(frame, 3000, 0x10);
	frame[14] = 0x4f; /* a header longer than what follows */
	ck_assert_int_eq(net_tso_split(frame, 60, 1448, collect, &c), -1);
	tcp_frame(frame, 3000, 0x10);
	frame[14 + 9] = IP_PROTO_UDP;
	ck_assert_int_eq(net_tso_split(frame, len, 1448, collect, &c), -1);
	tcp_frame(frame, 3000, 0x10);
	frame[34 + 12] = 15 << 4; /* TCP header past the frame */
	ck_assert_int_eq(net_tso_split(frame, 80, 1448, collect, &c), -1);
	ck_assert_int_eq(c.count, 0);
}
END_TEST

START_TEST(test_csum_finish)
{
	size_t len = tcp_frame(frame, 999, 0x18);
	ck_assert_int_eq(net_csum_finish(frame, len, 34, 16), 0);
	ck_assert_uint_eq(check_segment(frame, len), 999);
	ck_assert_int_eq(net_csum_finish(frame, len, (unsigned)len, 0), -1);
	ck_assert_int_eq(net_csum_finish(frame, len, 34, (unsigned)len), -1);
	ck_assert_int_eq(net_csum_finish(frame, len, (unsigned)len - 1, 0), -1);
}
END_TEST

static struct virtio_net_hdr_v1 gso_hdr(void)
{
	struct virtio_net_hdr_v1 h = {0};
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h.gso_size = 1448;
	h.hdr_len = 66;
	h.csum_start = 34;
	h.csum_offset = 16;
	return h;
}

/* Join the first (count) used receive buffers, which must be buffers 0
 * .. count - 1 in order, into (joined): the bytes. */
static size_t join_used(unsigned count)
{
	size_t have = 0;
	for (unsigned i = 0; i < count; i++) {
		uint32_t id, n;
		used_elem(0, i, &id, &n);
		ck_assert_uint_eq(id, i);
		memcpy(joined + have, ram + BUFS + (size_t)i * RXBUF_LEN, n);
		have += n;
	}
	return have;
}

START_TEST(test_mergeable_buffers_take_a_big_frame)
{
	setup_with(F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_NET_F_GUEST_CSUM) |
			   F(VIRTIO_NET_F_GUEST_TSO4),
		   0);
	size_t len = tcp_frame(frame, 20000, 0x10);
	struct virtio_net_hdr_v1 h = gso_hdr();
	unsigned need = (unsigned)((HDR_LEN + len + RXBUF_LEN - 1) / RXBUF_LEN);
	/* too few buffers: it waits for more */
	post_rx(0, need - 1);
	ck_assert_int_eq(virtio_net_deliver(d, &h, frame, len), 0);
	ck_assert_uint_eq(used_idx(0), 0);
	post_rx(need - 1, 1); /* the notification delivers it */
	ck_assert_uint_eq(used_idx(0), need);
	ck_assert_uint_eq(join_used(need), HDR_LEN + len);
	struct virtio_net_hdr_v1 got;
	memcpy(&got, joined, HDR_LEN);
	ck_assert_uint_eq(got.num_buffers, need);
	ck_assert_uint_eq(got.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	ck_assert_uint_eq(got.gso_size, 1448);
	ck_assert_uint_eq(got.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	ck_assert_mem_eq(joined + HDR_LEN, frame, len);
	/* a small frame takes one buffer */
	post_rx(need, 2);
	ck_assert_int_eq(virtio_net_deliver(d, NULL, frame, 60), 0);
	ck_assert_uint_eq(used_idx(0), need + 1);
	memcpy(&got, ram + BUFS + (size_t)need * RXBUF_LEN, HDR_LEN);
	ck_assert_uint_eq(got.num_buffers, 1);
	ck_assert_uint_eq(got.flags, 0);
	/* one the backend vouches for says so (the driver took GUEST_CSUM) */
	struct virtio_net_hdr_v1 valid = {.flags = VIRTIO_NET_HDR_F_DATA_VALID};
	ck_assert_int_eq(virtio_net_deliver(d, &valid, frame, 60), 0);
	ck_assert_uint_eq(used_idx(0), need + 2);
	memcpy(&got, ram + BUFS + (size_t)(need + 1) * RXBUF_LEN, HDR_LEN);
	ck_assert_uint_eq(got.flags, VIRTIO_NET_HDR_F_DATA_VALID);
}
END_TEST

/* With EVENT_IDX, a frame that waits for more receive buffers than the
 * driver has given asks to hear of the next one it adds: avail_event is
 * the driver's index then, not what the device has taken (a driver
 * tells only of buffers past avail_event, and it is past that already). */
START_TEST(test_a_frame_short_of_buffers_asks_for_the_next)
{
	setup_with(F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_NET_F_GUEST_CSUM) |
			   F(VIRTIO_NET_F_GUEST_TSO4) | F(29), /* EVENT_IDX */
		   0);
	size_t len = tcp_frame(frame, 20000, 0x10);
	struct virtio_net_hdr_v1 h = gso_hdr();
	unsigned need = (unsigned)((HDR_LEN + len + RXBUF_LEN - 1) / RXBUF_LEN);
	post_rx(0, 3);
	ck_assert_int_eq(virtio_net_deliver(d, &h, frame, len), 0);
	ck_assert_uint_eq(used_idx(0), 0); /* it waits */
	uint16_t event;
	memcpy(&event, ram + Q0 + 0x2000 + 4 + 8 * QN, 2);
	ck_assert_uint_eq(event, 3);
	/* the buffers a driver then adds pass it, so it tells: delivered */
	post_rx(3, need - 3);
	ck_assert_uint_eq(used_idx(0), need);
	ck_assert_uint_eq(join_used(need), HDR_LEN + len);
	ck_assert_mem_eq(joined + HDR_LEN, frame, len);
}
END_TEST

/* Frames that come while the driver has no buffers free wait in the
 * device, as many as fit in 4 MiB: a burst of small ones (a request from
 * each of a server's thousand clients) is not cut short at a count, and
 * each reaches the guest, in order, as buffers come. */
START_TEST(test_a_burst_of_small_frames_waits_for_buffers)
{
	enum { BURST = 1000 };
	setup_with(F(VIRTIO_NET_F_MRG_RXBUF), 0);
	size_t len = tcp_frame(frame, 35, 0x18);
	for (unsigned k = 0; k < BURST; k++) {
		frame[len - 1] = (uint8_t)k;
		frame[len - 2] = (uint8_t)(k >> 8);
		ck_assert_int_eq(virtio_net_deliver(d, NULL, frame, len), 0);
	}
	unsigned got = 0;
	for (int round = 0; round < 2 * BURST / QN && got < BURST; round++) {
		for (unsigned i = 0; i < QN; i++) {
			put_desc(0, i, BUFS + (uint64_t)i * RXBUF_LEN,
				 RXBUF_LEN, VRING_DESC_F_WRITE);
			publish(0, (uint16_t)i);
		}
		for (; got < BURST && (uint16_t)got != used_idx(0); got++) {
			uint32_t id, n;
			used_elem(0, got, &id, &n);
			const uint8_t *b = ram + BUFS + (size_t)id * RXBUF_LEN;
			ck_assert_uint_eq(n, HDR_LEN + len);
			ck_assert_uint_eq(b[HDR_LEN + len - 1], (uint8_t)got);
			ck_assert_uint_eq(b[HDR_LEN + len - 2],
					  (uint8_t)(got >> 8));
		}
	}
	ck_assert_uint_eq(got, BURST);
	struct net_stats st;
	ck_assert_int_eq(virtio_net_stats(d, &st), 0);
	ck_assert_uint_eq(st.dropped, 0);
}
END_TEST

/* The first (count) used receive buffers hold one finished segment each
 * of (frame), in order, (total) payload bytes in all. */
static void check_cut(unsigned count, size_t total)
{
	size_t off = 0;
	for (unsigned i = 0; i < count; i++) {
		uint32_t id, n;
		used_elem(0, i, &id, &n);
		const uint8_t *b = ram + BUFS + (size_t)id * RXBUF_LEN;
		struct virtio_net_hdr_v1 got;
		memcpy(&got, b, HDR_LEN);
		ck_assert_uint_eq(got.flags, 0);
		ck_assert_uint_eq(got.gso_type, 0);
		ck_assert_uint_eq(got.num_buffers, 1);
		size_t k = check_segment(b + HDR_LEN, n - HDR_LEN);
		ck_assert_mem_eq(b + HDR_LEN + 66, frame + 66 + off, k);
		off += k;
	}
	ck_assert_uint_eq(off, total);
}

START_TEST(test_a_plain_driver_gets_finished_frames)
{
	setup_with(0, 0);
	post_rx(0, 32);
	size_t len = tcp_frame(frame, 5000, 0x18);
	struct virtio_net_hdr_v1 h = gso_hdr();
	ck_assert_int_eq(virtio_net_deliver(d, &h, frame, len), 0);
	ck_assert_uint_eq(used_idx(0), 4); /* cut into four */
	check_cut(4, 5000);
	/* a frame with its checksum left open is finished */
	len = tcp_frame(frame, 1000, 0x18);
	h = (struct virtio_net_hdr_v1){.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				       .csum_start = 34,
				       .csum_offset = 16};
	ck_assert_int_eq(virtio_net_deliver(d, &h, frame, len), 0);
	uint32_t id, n;
	used_elem(0, 4, &id, &n);
	ck_assert_uint_eq(n, HDR_LEN + len);
	ck_assert_uint_eq(
		check_segment(ram + BUFS + (size_t)id * RXBUF_LEN + HDR_LEN,
			      len),
		1000);
	/* nonsense is dropped, not delivered */
	h.csum_start = 60000;
	ck_assert_int_eq(virtio_net_deliver(d, &h, frame, len), -1);
	ck_assert_uint_eq(used_idx(0), 5);
	/* a checksum vouched for is not said to a driver that did not take
	 * GUEST_CSUM (virtio 5.1.6.4) */
	h = (struct virtio_net_hdr_v1){.flags = VIRTIO_NET_HDR_F_DATA_VALID};
	ck_assert_int_eq(virtio_net_deliver(d, &h, frame, len), 0);
	ck_assert_uint_eq(used_idx(0), 6);
	used_elem(0, 5, &id, &n);
	struct virtio_net_hdr_v1 got;
	memcpy(&got, ram + BUFS + (size_t)id * RXBUF_LEN, HDR_LEN);
	ck_assert_uint_eq(got.flags, 0);
}
END_TEST

/* A reader as readv on a TAP device would be: header, then frame. */
static struct {
	struct virtio_net_hdr_v1 h;
	const uint8_t *frame;
	size_t len;
	int calls;
} src;

static ssize_t read_src(void *arg, const struct iovec *iov, int niov)
{
	(void)arg;
	src.calls++;
	uint8_t all[HDR_LEN + NET_GSO_FRAME_MAX];
	memcpy(all, &src.h, HDR_LEN);
	memcpy(all + HDR_LEN, src.frame, src.len);
	size_t total = HDR_LEN + src.len, off = 0;
	for (int i = 0; i < niov && off < total; i++) {
		size_t k = iov[i].iov_len < total - off ? iov[i].iov_len
							: total - off;
		memcpy(iov[i].iov_base, all + off, k);
		off += k;
	}
	return (ssize_t)off;
}

START_TEST(test_a_backend_reads_into_the_guests_buffers)
{
	setup_with(F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_NET_F_GUEST_CSUM) |
			   F(VIRTIO_NET_F_GUEST_TSO4),
		   1);
	size_t len = tcp_frame(frame, 30000, 0x10);
	src.h = gso_hdr();
	src.frame = frame;
	src.len = len;
	/* not room for the largest frame: the backend reads it itself */
	post_rx(0, 20);
	ck_assert_int_eq(virtio_net_read_into(d, read_src, NULL),
			 NET_READ_YOURSELF);
	ck_assert_int_eq(src.calls, 0);
	ck_assert_uint_eq(used_idx(0), 0);
	post_rx(20, 20);
	ck_assert_int_eq(virtio_net_read_into(d, read_src, NULL),
			 (ssize_t)(HDR_LEN + len));
	unsigned need = (unsigned)((HDR_LEN + len + RXBUF_LEN - 1) / RXBUF_LEN);
	ck_assert_uint_eq(used_idx(0), need); /* only those it filled */
	ck_assert_uint_eq(join_used(need), HDR_LEN + len);
	struct virtio_net_hdr_v1 got;
	memcpy(&got, joined, HDR_LEN);
	ck_assert_uint_eq(got.num_buffers, need);
	ck_assert_uint_eq(got.gso_size, 1448);
	ck_assert_mem_eq(joined + HDR_LEN, frame, len);
	/* the buffers it did not fill are taken by the next frame */
	src.h = (struct virtio_net_hdr_v1){0};
	src.len = 60;
	post_rx(40, 24);
	ck_assert_int_eq(virtio_net_read_into(d, read_src, NULL),
			 (ssize_t)(HDR_LEN + 60));
	uint32_t id, n;
	used_elem(0, need, &id, &n);
	ck_assert_uint_eq(id, need);
	ck_assert_uint_eq(n, HDR_LEN + 60);
}
END_TEST

/* The avail_event the device last wrote on queue (q). */
static uint16_t avail_event(unsigned q)
{
	uint16_t v;
	memcpy(&v, ram + (q ? Q1 : Q0) + 0x2000 + 4 + 8 * QN, 2);
	return v;
}

static ssize_t read_nothing(void *arg, const struct iovec *iov, int niov)
{
	(void)arg, (void)iov, (void)niov;
	src.calls++;
	errno = EAGAIN;
	return -1;
}

/* The id of the buffer used last, which must be (want), and its length. */
static uint32_t check_used(uint16_t at, uint32_t want)
{
	uint32_t id, n;
	ck_assert_uint_eq(used_idx(0), (uint16_t)(at + 1));
	used_elem(0, at, &id, &n);
	ck_assert_uint_eq(id, want);
	return n;
}

/* The buffers a backend's reads take are kept from one read to the next
 * (a read that finds nothing, or a small frame, leaves most of them);
 * frames still fill the buffers in the order the driver gave them, also
 * when a frame comes the other way (put by the device itself), when the
 * kept ones wrap round, and after a reset. */
START_TEST(test_buffers_kept_between_reads_are_used_in_order)
{
	setup_with(F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_NET_F_GUEST_CSUM) |
			   F(VIRTIO_NET_F_GUEST_TSO4),
		   1);
	post_rx(0, 40);
	uint16_t fifo[256], head = 0, tail = 0, at = 0;
	for (uint16_t i = 0; i < 40; i++)
		fifo[tail++] = i;
	ck_assert_int_eq(virtio_net_read_into(d, read_nothing, NULL), -1);
	ck_assert_uint_eq(used_idx(0), 0);
	size_t len = tcp_frame(frame, 100, 0x18);
	src.h = (struct virtio_net_hdr_v1){0};
	src.frame = frame;
	src.len = len;
	for (int i = 0; i < 150; i++) {
		if (i % 7 == 3) { /* one the device puts itself */
			struct virtio_net_hdr_v1 h = {0};
			ck_assert_int_eq(virtio_net_deliver(d, &h, frame, len),
					 0);
		} else if (i % 5 == 1) {
			ck_assert_int_eq(
				virtio_net_read_into(d, read_nothing, NULL),
				-1);
			continue;
		} else {
			ck_assert_int_eq(
				virtio_net_read_into(d, read_src, NULL),
				(ssize_t)(HDR_LEN + len));
		}
		uint16_t id = fifo[head++];
		ck_assert_uint_eq(check_used(at++, id), HDR_LEN + len);
		ck_assert_mem_eq(ram + BUFS + (size_t)id * RXBUF_LEN + HDR_LEN,
				 frame, len);
		publish(0, id); /* the driver gives it back */
		fifo[tail++] = id;
	}
	/* after a reset, the first buffer given is the first used */
	start_queues(F(VIRTIO_NET_F_MRG_RXBUF));
	post_rx(20, 40);
	ck_assert_int_eq(virtio_net_read_into(d, read_src, NULL),
			 (ssize_t)(HDR_LEN + len));
	check_used(0, 20);
}
END_TEST

/* What the guest queued to send while the backend was reading goes out
 * with the next frame read in, before the notification is seen: ACKs
 * are not held behind a burst of input. The device's thread is busy
 * then, so it does not ask the guest for a notification. */
START_TEST(test_a_read_sends_what_the_guest_queued)
{
	setup_with(F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_NET_F_GUEST_CSUM) |
			   F(VIRTIO_NET_F_GUEST_TSO4) | F(29), /* EVENT_IDX */
		   1);
	post_rx(0, 40);
	struct virtio_net_hdr_v1 none = {0};
	size_t ack = tcp_frame(ram + TXBUF + HDR_LEN, 0, 0x10);
	memcpy(ram + TXBUF, &none, HDR_LEN);
	put_desc(1, 0, TXBUF, (uint32_t)(HDR_LEN + ack), 0);
	publish_quietly(1, 0);
	ck_assert_int_eq(rec.n, 0);
	size_t len = tcp_frame(frame, 30000, 0x10);
	src.h = gso_hdr();
	src.frame = frame;
	src.len = len;
	ck_assert_int_eq(virtio_net_read_into(d, read_src, NULL),
			 (ssize_t)(HDR_LEN + len));
	ck_assert_int_eq(rec.n, 1);
	ck_assert_uint_eq(rec.lens[0], ack);
	ck_assert_uint_eq(used_idx(1), 1);
	ck_assert_uint_eq(avail_event(1), 0);
	/* nothing queued: nothing sent */
	post_rx(40, 24);
	ck_assert_int_eq(virtio_net_read_into(d, read_src, NULL),
			 (ssize_t)(HDR_LEN + len));
	ck_assert_int_eq(rec.n, 1);
}
END_TEST

/* The device's thread: a round sends what the guest queued and leaves
 * avail_event where it was, so that the frames the guest queues while
 * the thread is busy need no notification; the thread asks for one only
 * before it sleeps, and a frame queued meanwhile says look again. */
START_TEST(test_the_thread_asks_to_be_notified_only_before_it_sleeps)
{
	setup_with(F(29), 1); /* EVENT_IDX */
	uint64_t seen = 0;
	struct virtio_net_hdr_v1 none = {0};
	size_t len = tcp_frame(ram + TXBUF + HDR_LEN, 10, 0x18);
	memcpy(ram + TXBUF, &none, HDR_LEN);
	for (unsigned i = 0; i < 3; i++)
		put_desc(1, i, TXBUF, (uint32_t)(HDR_LEN + len), 0);
	ck_assert_int_eq(virtio_net_arm(d), 0); /* idle: asleep */
	ck_assert_uint_eq(avail_event(1), 0);
	publish_quietly(1, 0); /* passes 0: the driver notified */
	ck_assert_int_eq(virtio_net_round(d, &seen), 1);
	ck_assert_int_eq(rec.n, 1);
	ck_assert_uint_eq(avail_event(1), 0);
	publish_quietly(1, 1); /* does not pass it: no notification */
	ck_assert_int_eq(virtio_net_round(d, &seen), 1);
	ck_assert_int_eq(rec.n, 2);
	ck_assert_uint_eq(avail_event(1), 0);
	ck_assert_int_eq(virtio_net_round(d, &seen), 0); /* nothing moved */
	ck_assert_int_eq(virtio_net_arm(d), 0);
	ck_assert_uint_eq(avail_event(1), 2);
	publish_quietly(1, 2); /* between the last round and the arm */
	ck_assert_int_eq(virtio_net_arm(d), 1);
	ck_assert_int_eq(virtio_net_round(d, &seen), 1);
	ck_assert_int_eq(rec.n, 3);
	ck_assert_uint_eq(used_idx(1), 3);
}
END_TEST

START_TEST(test_a_frame_read_for_a_plain_driver_is_cut)
{
	setup_with(F(VIRTIO_NET_F_MRG_RXBUF), 1);
	size_t len = tcp_frame(frame, 5000, 0x10);
	src.h = gso_hdr();
	src.frame = frame;
	src.len = len;
	post_rx(0, 40);
	ck_assert_int_eq(virtio_net_read_into(d, read_src, NULL),
			 (ssize_t)(HDR_LEN + len));
	ck_assert_uint_eq(used_idx(0), 4);
	check_cut(4, 5000);
	/* nor is it told of a checksum the host vouched for (5.1.6.4) */
	src.h = (struct virtio_net_hdr_v1){.flags =
						   VIRTIO_NET_HDR_F_DATA_VALID};
	src.len = 60;
	ck_assert_int_eq(virtio_net_read_into(d, read_src, NULL),
			 (ssize_t)(HDR_LEN + 60));
	uint32_t id, n;
	used_elem(0, 4, &id, &n);
	struct virtio_net_hdr_v1 got;
	memcpy(&got, ram + BUFS + (size_t)id * RXBUF_LEN, HDR_LEN);
	ck_assert_uint_eq(got.flags, 0);
	ck_assert_uint_eq(got.num_buffers, 1);
}
END_TEST

START_TEST(test_a_frame_before_the_queue_works_waits)
{
	/* a driver whose receive queue failed to start (its avail ring
	 * lies outside memory): a frame from the host waits, nothing
	 * breaks (the device once asked that ring for a notification) */
	new_device(0);
	negotiate(F(29) | F(32)); /* EVENT_IDX, VERSION_1 */
	wr(0x30, 0);
	wr(0x38, QN);
	wr(0x80, Q0);
	wr(0x90, MEM); /* past the end */
	wr(0xa0, Q0 + 0x2000);
	wr(0x44, 1);
	size_t len = tcp_frame(frame, 100, 0x18);
	ck_assert_int_eq(virtio_net_deliver(d, NULL, frame, len), 0);
	ck_assert_uint_eq(rd(0x44), 0); /* the queue is not ready */
}
END_TEST

/* The guest sends (len) bytes of (frame) with header (h). */
static void transmit(const struct virtio_net_hdr_v1 *h, const uint8_t *f,
		     size_t len)
{
	memcpy(ram + TXBUF, h, HDR_LEN);
	memcpy(ram + TXBUF + HDR_LEN, f, len);
	put_desc(1, 0, TXBUF, (uint32_t)(HDR_LEN + len), 0);
	uint16_t before = used_idx(1);
	publish(1, 0);
	ck_assert_uint_eq(used_idx(1), (uint16_t)(before + 1));
}

/* An ARP frame from (mac), (op) 1 or 2, sender address (ip) (network
 * order). Its length. */
static size_t arp_frame(uint8_t *f, const uint8_t mac[6], int op,
			uint32_t ip)
{
	static const uint8_t head[8] = {0, 1, 8, 0, 6, 4, 0, 0};
	memset(f, 0xff, 6);
	memcpy(f + 6, mac, 6);
	f[12] = 0x08, f[13] = 0x06;
	memcpy(f + 14, head, 8);
	f[21] = (uint8_t)op;
	memcpy(f + 22, mac, 6);
	memcpy(f + 28, &ip, 4);
	uint32_t target = DST;
	memset(f + 32, 0, 6);
	memcpy(f + 38, &target, 4);
	return 42;
}

static uint32_t learned(void)
{
	struct net_stats st;
	ck_assert_int_eq(virtio_net_stats(d, &st), 0);
	return st.ip;
}

START_TEST(test_the_guests_address_is_learned_from_its_arp)
{
	static const uint8_t ours[6] = {0x52, 0x54, 0, 0x12, 0x34, 0x56};
	static const uint8_t other[6] = {0x52, 0x54, 0, 0x99, 0x99, 0x99};
	struct virtio_net_hdr_v1 h = {0};
	setup_with(0, 0);
	struct net_stats st;
	ck_assert_int_eq(virtio_net_stats(d, &st), 0);
	ck_assert_mem_eq(st.mac, ours, 6);
	ck_assert_uint_eq(st.ip, 0);
	/* a TCP frame says nothing; a probe (sender 0.0.0.0) neither */
	transmit(&h, frame, tcp_frame(frame, 100, 0x18));
	transmit(&h, frame, arp_frame(frame, ours, 1, 0));
	ck_assert_uint_eq(learned(), 0);
	/* a request from the guest's MAC, then an answer with another */
	transmit(&h, frame, arp_frame(frame, ours, 1, SRC));
	ck_assert_uint_eq(learned(), SRC);
	transmit(&h, frame, arp_frame(frame, ours, 2, 0x3263a8c0u));
	ck_assert_uint_eq(learned(), 0x3263a8c0u);
	/* not from its MAC, cut short, or not IPv4 over Ethernet: kept */
	transmit(&h, frame, arp_frame(frame, other, 1, SRC));
	transmit(&h, frame, arp_frame(frame, ours, 1, SRC) - 1);
	arp_frame(frame, ours, 1, SRC);
	frame[17] = 0x06; /* a protocol not IPv4 */
	transmit(&h, frame, 42);
	ck_assert_uint_eq(learned(), 0x3263a8c0u);
	ck_assert_int_eq(rec.n, 7); /* all of them went out all the same */
}
END_TEST

START_TEST(test_transmit_offloads_in_software)
{
	setup_with(F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4), 0);
	size_t len = tcp_frame(frame, 4000, 0x18);
	struct virtio_net_hdr_v1 h = gso_hdr();
	transmit(&h, frame, len);
	ck_assert_int_eq(rec.n, 3);
	ck_assert(!rec.with_hdr);
	size_t off = 0;
	for (int i = 0; i < 3; i++) {
		size_t k = check_segment(rec.frames[i], rec.lens[i]);
		ck_assert_uint_eq(seq_of(rec.frames[i]), 1000 + off);
		off += k;
	}
	ck_assert_uint_eq(off, 4000);
	/* checksum only */
	len = tcp_frame(frame, 1200, 0x18);
	h.gso_type = VIRTIO_NET_HDR_GSO_NONE;
	transmit(&h, frame, len);
	ck_assert_int_eq(rec.n, 4);
	ck_assert_uint_eq(check_segment(rec.frames[3], rec.lens[3]), 1200);
	/* a frame over the link's size without segmentation: dropped */
	len = tcp_frame(frame, 3000, 0x18);
	transmit(&h, frame, len);
	ck_assert_int_eq(rec.n, 4);
	teardown();

	/* a driver that did not negotiate them may not use them */
	setup_with(0, 0);
	len = tcp_frame(frame, 4000, 0x18);
	h = gso_hdr();
	transmit(&h, frame, len);
	h.gso_type = VIRTIO_NET_HDR_GSO_NONE;
	len = tcp_frame(frame, 1000, 0x18);
	transmit(&h, frame, len);
	ck_assert_int_eq(rec.n, 0);
	teardown();

	/* a backend that takes the header gets it as the guest wrote it */
	setup_with(F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4), 1);
	len = tcp_frame(frame, 4000, 0x18);
	h = gso_hdr();
	transmit(&h, frame, len);
	ck_assert_int_eq(rec.n, 1);
	ck_assert(rec.with_hdr);
	ck_assert_uint_eq(rec.lens[0], len);
	ck_assert_uint_eq(rec.hdrs[0].gso_size, 1448);
	ck_assert_mem_eq(rec.frames[0], frame, len);
}
END_TEST

int main(void)
{
	/* the device's messages would clutter the output */
	if (!freopen("/dev/null", "w", stderr))
		return 1;
	Suite *s = suite_create("virtio-net");
	TCase *t = tcase_create("device");
	tcase_add_checked_fixture(t, NULL, teardown);
	tcase_add_test(t, test_tso_split_makes_whole_segments);
	tcase_add_test(t, test_tso_split_refuses_what_it_cannot_cut);
	tcase_add_test(t, test_csum_finish);
	tcase_add_test(t, test_mergeable_buffers_take_a_big_frame);
	tcase_add_test(t, test_a_frame_short_of_buffers_asks_for_the_next);
	tcase_add_test(t, test_a_burst_of_small_frames_waits_for_buffers);
	tcase_add_test(t, test_a_plain_driver_gets_finished_frames);
	tcase_add_test(t, test_transmit_offloads_in_software);
	tcase_add_test(t, test_the_guests_address_is_learned_from_its_arp);
	tcase_add_test(t, test_a_backend_reads_into_the_guests_buffers);
	tcase_add_test(t, test_buffers_kept_between_reads_are_used_in_order);
	tcase_add_test(t, test_a_read_sends_what_the_guest_queued);
	tcase_add_test(
		t, test_the_thread_asks_to_be_notified_only_before_it_sleeps);
	tcase_add_test(t, test_a_frame_read_for_a_plain_driver_is_cut);
	tcase_add_test(t, test_a_frame_before_the_queue_works_waits);
	suite_add_tcase(s, t);
	return unit_run(s);
}
