/* test_tcp.c: the TCP state machine, driven with crafted segments and
 * between two endpoints over a wire the test controls (drop, delay,
 * reorder), on a clock the test moves. RFC 9293's state diagram, RFC
 * 6298's timer, RFC 5681/6582's recovery, window edges.
 */
#include "lib/tcp.h"
#include "unit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MS 1000000ULL
#define SEGS 512

struct seg {
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd;
	int mss, wscale;
	uint32_t len;
	uint8_t data[2048];
	struct tcp_opts opts;
};

struct end {
	struct tcp_cb cb;
	uint8_t *sp[256], *rp[256];
	struct seg out[SEGS];
	int nout, taken; /* segments sent, and delivered or dropped */
	int events;
};

/* the clock, ns: a kernel's is past zero when its first socket opens */
#define T0 1000000000ULL
static uint64_t now = T0;

static void output(struct tcp_cb *cb, uint32_t seq, uint32_t ack, uint8_t flags,
		   uint16_t wnd, const struct tcp_opts *o, uint32_t off,
		   uint32_t len)
{
	struct end *e = cb->owner;
	ck_assert_int_lt(e->nout, SEGS);
	ck_assert_uint_le(tcp_opts_len(o), 40);
	ck_assert_uint_le(tcp_opts_len(o) + len,
			  cb->mss > o->mss ? cb->mss + cb->tso_max + 40u
					   : 65535u);
	struct seg *s = &e->out[e->nout++];
	*s = (struct seg){seq,	     ack, flags, wnd, o->mss ? o->mss : -1,
			  o->wscale, len, {0},	 *o};
	s->opts.tsval = (uint32_t)(now / MS); /* the clock's stamp */
	ck_assert_uint_le(len, sizeof(s->data));
	if (len)
		tcp_ring_peek(&cb->snd, off, s->data, len);
}

static void event(struct tcp_cb *cb)
{
	((struct end *)cb->owner)->events++;
}

static const struct tcp_ops ops = {output, event, NULL, NULL};

/* Pages taken as data comes, as the kernel's rings take them: how many
 * are held, and how many more there are to take (-1: no end). */
static int pages_held, pages_left = -1;

static void *page_get(struct tcp_cb *cb)
{
	(void)cb;
	if (pages_left == 0)
		return NULL;
	if (pages_left > 0)
		pages_left--;
	pages_held++;
	return malloc(TCP_PAGE);
}

static void page_put(struct tcp_cb *cb, void *page)
{
	(void)cb;
	pages_held--;
	free(page);
}

static const struct tcp_ops lazy_ops = {output, event, page_get, page_put};

/* (e)'s rings, empty, give their pages back and take them as data
 * comes from now on. */
static void go_lazy(struct end *e)
{
	ck_assert_uint_eq(e->cb.snd.len + e->cb.rcv.len, 0);
	for (int i = 0; i < 256; i++) {
		free(e->sp[i]);
		free(e->rp[i]);
		e->sp[i] = e->rp[i] = NULL;
	}
	e->cb.ops = &lazy_ops;
}

static void setup(struct end *e, uint32_t snd_pages, uint32_t rcv_pages,
		  uint16_t mss)
{
	memset(e, 0, sizeof(*e));
	for (uint32_t i = 0; i < snd_pages; i++)
		e->sp[i] = calloc(1, TCP_PAGE);
	for (uint32_t i = 0; i < rcv_pages; i++)
		e->rp[i] = calloc(1, TCP_PAGE);
	e->cb.snd = (struct tcp_ring){e->sp, snd_pages, 0, 0, 0};
	e->cb.rcv = (struct tcp_ring){e->rp, rcv_pages, 0, 0, 0};
	tcp_init(&e->cb, &ops, e, mss);
}

static void teardown_end(struct end *e)
{
	for (int i = 0; i < 256; i++) {
		free(e->sp[i]);
		free(e->rp[i]);
	}
}

/* A segment without options. */
static struct tcp_seg seg_in(uint32_t seq, uint32_t ack, uint8_t flags,
			     uint32_t wnd, const uint8_t *data, uint32_t len)
{
	struct tcp_seg s;
	memset(&s, 0, sizeof(s));
	s.seq = seq;
	s.ack = ack;
	s.flags = flags;
	s.wnd = wnd;
	s.wscale = -1;
	s.data = data;
	s.len = len;
	return s;
}

/* Whether the wire carries timestamps. Most tests count segments of a
 * round size, so it strips them, as a middlebox might, and no connection
 * takes them up; the timestamp tests let them through. */
static int wire_ts;

/* The segment as the peer parses it: options through their encoding. */
static struct tcp_seg as_input(const struct seg *s)
{
	struct tcp_seg in =
		seg_in(s->seq, s->ack, s->flags, s->wnd, s->data, s->len);
	uint8_t opt[40];
	uint32_t n = tcp_write_options(&s->opts, opt);
	ck_assert_uint_eq(n, tcp_opts_len(&s->opts));
	ck_assert_int_eq(tcp_parse_options(opt, n, &in), 0);
	if (!wire_ts)
		in.ts = 0;
	return in;
}

/* Segment (in) reaches (to) as a batch of one: its timers then run, as
 * the kernel's do after each batch the device gives (and send the ACK
 * the batch earned). */
static void arrive(struct end *to, const struct tcp_seg *in)
{
	tcp_input(&to->cb, in, now);
	tcp_timer(&to->cb, now);
}

/* Deliver the next undelivered segment of (from) to (to): 1, or 0 if
 * there is none. */
static int pass(struct end *from, struct end *to)
{
	if (from->taken == from->nout)
		return 0;
	struct tcp_seg in = as_input(&from->out[from->taken++]);
	arrive(to, &in);
	return 1;
}

static void drop(struct end *from)
{
	ck_assert_int_lt(from->taken, from->nout);
	from->taken++;
}

/* Deliver everything both ways until the wire is quiet. */
static void settle(struct end *a, struct end *b)
{
	while (pass(a, b) | pass(b, a))
		;
}

/* Let delayed ACKs go out, and deliver them. */
static void flush_acks(struct end *a, struct end *b)
{
	now += TCP_DELACK;
	tcp_timer(&a->cb, now);
	tcp_timer(&b->cb, now);
	settle(a, b);
}

static struct end A, B;

/* A connects to B (B answers as a listener would); (sack): A's SYN
 * offers SACK (as every SYN of ours does), else it is stripped on the
 * way, as from a peer without it. */
static void handshake_sack(uint16_t mss_a, uint16_t mss_b, int sack)
{
	setup(&A, 4, 4, mss_a);
	setup(&B, 4, 4, mss_b);
	tcp_connect(&A.cb, 1000, now);
	ck_assert_int_eq(A.cb.state, TCP_SYN_SENT);
	ck_assert_int_eq(A.nout, 1);
	struct tcp_seg syn = as_input(&A.out[0]);
	A.taken = 1;
	ck_assert_uint_eq(syn.flags, TCP_SYN);
	ck_assert_uint_eq(syn.mss, mss_a);
	ck_assert(syn.sack_permitted);
	syn.sack_permitted = (uint8_t)sack;
	tcp_accept_syn(&B.cb, &syn, 5000, now);
	ck_assert_uint_eq(B.out[0].opts.sack_permitted, sack);
	ck_assert_int_eq(B.cb.state, TCP_SYN_RCVD);
	ck_assert_uint_eq(B.out[0].flags, TCP_SYN | TCP_ACK);
	ck_assert_uint_eq(B.out[0].ack, 1001);
	pass(&B, &A);
	ck_assert_int_eq(A.cb.state, TCP_ESTABLISHED);
	pass(&A, &B);
	ck_assert_int_eq(B.cb.state, TCP_ESTABLISHED);
	ck_assert_int_eq(A.cb.sack_ok, sack);
	ck_assert_int_eq(B.cb.sack_ok, sack);
}

static void handshake(uint16_t mss_a, uint16_t mss_b)
{
	handshake_sack(mss_a, mss_b, 1);
}

static void teardown(void)
{
	teardown_end(&A);
	teardown_end(&B);
	now = T0;
	wire_ts = 0;
	pages_held = 0;
	pages_left = -1;
}

static void fill(uint8_t *p, uint32_t n, uint32_t seed)
{
	for (uint32_t i = 0; i < n; i++)
		p[i] = (uint8_t)((seed + i) * 31 + (i >> 8));
}

/* (e) has received exactly (n) bytes, and they are (data). */
static void expect_received(struct end *e, const uint8_t *data, uint32_t n)
{
	static uint8_t back[65536];
	ck_assert_uint_eq(tcp_recv(&e->cb, back, sizeof(back), now), n);
	ck_assert(memcmp(back, data, n) == 0);
}

START_TEST(test_handshake_negotiates_options)
{
	handshake(1460, 1200);
	ck_assert_uint_eq(A.cb.mss, 1200); /* the smaller of the two */
	ck_assert_uint_eq(B.cb.mss, 1200);
	ck_assert(A.cb.wscale_ok && B.cb.wscale_ok);
	ck_assert_uint_eq(A.cb.snd_una, 1001);
	ck_assert_uint_eq(B.cb.rcv_nxt, 1001);
	ck_assert_uint_eq(A.cb.rcv_nxt, 5001);
	ck_assert_uint_eq(A.cb.cwnd, 12000); /* ten segments */
}
END_TEST

/* /proc/net/snmp's Tcp counters (tcp_mib) move as Linux's do: opens
 * each way, every segment sent either out or again, RSTs, and the ends
 * of connections from ESTABLISHED and of attempts from SYN_SENT. */
START_TEST(test_the_mib_counts_opens_segments_and_ends)
{
	struct tcp_mib m = tcp_mib;
	handshake(1460, 1460);
	ck_assert_uint_eq(tcp_mib.active_opens - m.active_opens, 1);
	ck_assert_uint_eq(tcp_mib.passive_opens - m.passive_opens, 1);
	ck_assert_uint_eq(tcp_mib.out_segs - m.out_segs, 3);
	/* a segment lost and sent again */
	m = tcp_mib;
	int sent = A.nout + B.nout;
	static uint8_t data[1000];
	fill(data, sizeof(data), 3);
	ck_assert_uint_eq(tcp_send(&A.cb, data, sizeof(data), now),
			  sizeof(data));
	drop(&A);
	now += A.cb.rto;
	tcp_timer(&A.cb, now);
	settle(&A, &B);
	flush_acks(&A, &B);
	expect_received(&B, data, sizeof(data));
	ck_assert_uint_eq(tcp_mib.retrans_segs - m.retrans_segs, 1);
	ck_assert_uint_eq(tcp_mib.out_segs - m.out_segs,
			  (uint64_t)(A.nout + B.nout - sent - 1));
	ck_assert_uint_eq(tcp_mib.out_rsts, m.out_rsts);
	/* B aborts: its RST ends A's connection too, both established */
	m = tcp_mib;
	tcp_abort(&B.cb);
	ck_assert_uint_eq(tcp_mib.out_rsts - m.out_rsts, 1);
	pass(&B, &A);
	ck_assert_int_eq(A.cb.state, TCP_CLOSED);
	ck_assert_uint_eq(tcp_mib.estab_resets - m.estab_resets, 2);
	ck_assert_uint_eq(tcp_mib.attempt_fails, m.attempt_fails);
	/* refused */
	teardown_end(&A);
	setup(&A, 4, 4, 1460);
	tcp_connect(&A.cb, 1000, now);
	ck_assert_uint_eq(tcp_mib.active_opens - m.active_opens, 1);
	struct tcp_seg refuse = seg_in(0, 1001, TCP_RST | TCP_ACK, 0, NULL, 0);
	tcp_input(&A.cb, &refuse, now);
	ck_assert_int_eq(A.cb.error, ECONNREFUSED);
	ck_assert_uint_eq(tcp_mib.attempt_fails - m.attempt_fails, 1);
	ck_assert_uint_eq(tcp_mib.estab_resets - m.estab_resets, 2);
}
END_TEST

START_TEST(test_window_never_exceeds_the_buffer)
{
	/* sequence numbers in the upper half of the space: the announced
	 * window must still be what the receive ring holds (it once came
	 * out as 8 MB, comparing against an unset edge) */
	static const uint32_t starts[] = {0x90000000u, 0xfffffff0u, 5};
	for (unsigned k = 0; k < 3; k++) {
		setup(&A, 4, 4, 1460);
		setup(&B, 4, 4, 1460);
		tcp_connect(&A.cb, starts[k], now);
		struct tcp_seg syn = as_input(&A.out[0]);
		A.taken = 1;
		tcp_accept_syn(&B.cb, &syn, starts[(k + 1) % 3], now);
		settle(&A, &B);
		tcp_send(&B.cb, "x", 1, now);
		settle(&A, &B);
		flush_acks(&A, &B);
		const struct seg *last = &A.out[A.nout - 1];
		ck_assert_uint_le((uint32_t)last->wnd << A.cb.rcv_wscale,
				  tcp_ring_cap(&A.cb.rcv));
		ck_assert_uint_le(A.cb.rcv_adv - A.cb.rcv_nxt,
				  tcp_ring_cap(&A.cb.rcv));
		last = &B.out[B.nout - 1];
		ck_assert_uint_le((uint32_t)last->wnd << B.cb.rcv_wscale,
				  tcp_ring_cap(&B.cb.rcv));
		teardown_end(&A);
		teardown_end(&B);
		memset(&A, 0, sizeof(A));
		memset(&B, 0, sizeof(B));
	}
}
END_TEST

START_TEST(test_window_update_without_window_scale)
{
	/* a peer without window scaling and with a 60000-byte MSS (as
	 * libslirp's 64 KiB link has): one segment nearly fills the 64 KiB
	 * window. B's ring (1 MiB) has room all along, but once its program
	 * reads the segment B must say the window opened, at once: its ACK
	 * of one segment would wait for the delayed-ACK timer */
	static uint8_t data[60000], back[60000];
	setup(&B, 4, 256, 65000);
	struct tcp_seg syn = seg_in(100, 0, TCP_SYN, 65535, NULL, 0);
	syn.mss = 60000;
	tcp_accept_syn(&B.cb, &syn, 5000, now);
	ck_assert(!B.cb.wscale_ok);
	ck_assert_uint_eq(B.out[0].wnd, 65535);
	struct tcp_seg ack = seg_in(101, 5001, TCP_ACK, 65535, NULL, 0);
	tcp_input(&B.cb, &ack, now);
	ck_assert_int_eq(B.cb.state, TCP_ESTABLISHED);
	fill(data, sizeof(data), 9);
	struct tcp_seg d =
		seg_in(101, 5001, TCP_ACK, 65535, data, sizeof(data));
	int sent = B.nout;
	tcp_input(&B.cb, &d, now);
	ck_assert_int_eq(B.nout, sent); /* one segment: the ACK waits */
	ck_assert_uint_eq(tcp_recv(&B.cb, back, sizeof(back), now),
			  sizeof(back));
	ck_assert_int_eq(B.nout, sent + 1);
	ck_assert_uint_eq(B.out[sent].ack, 101 + sizeof(data));
	ck_assert_uint_eq(B.out[sent].wnd, 65535);
	ck_assert(memcmp(back, data, sizeof(data)) == 0);
}
END_TEST

START_TEST(test_data_both_ways)
{
	static uint8_t big[12000], back[12000];
	handshake(1460, 1460);
	fill(big, sizeof(big), 7);
	uint32_t n = tcp_send(&A.cb, big, sizeof(big), now);
	ck_assert_uint_eq(n, sizeof(big)); /* 16 KiB of send ring */
	settle(&A, &B);
	ck_assert_uint_eq(tcp_recv(&B.cb, back, sizeof(back), now),
			  sizeof(big));
	ck_assert(memcmp(back, big, sizeof(big)) == 0);
	flush_acks(&A, &B);
	ck_assert_uint_eq(A.cb.snd_una, A.cb.snd_nxt);
	ck_assert_uint_eq(A.cb.rexmit_at, 0);
	/* and back */
	tcp_send(&B.cb, "reply", 5, now);
	settle(&A, &B);
	char r[8] = {0};
	ck_assert_uint_eq(tcp_recv(&A.cb, r, sizeof(r), now), 5);
	ck_assert_str_eq(r, "reply");
	/* a lone segment is acknowledged after the delayed-ACK time */
	ck_assert_uint_ne(A.cb.delack_at, 0);
	int before = A.nout;
	now += TCP_DELACK;
	tcp_timer(&A.cb, now);
	ck_assert_int_eq(A.nout, before + 1);
	ck_assert_uint_eq(A.out[before].ack, B.cb.snd_nxt);
}
END_TEST

/* A connected to B, both rings of each taking pages as data comes; A
 * sends segments as soon as it can (no Nagle). */
static void handshake_lazy(void)
{
	handshake(1460, 1460);
	go_lazy(&A);
	go_lazy(&B);
	A.cb.nodelay = 1;
}

/* Rings without pages take them as data comes, a page per 4 KiB the
 * data touches, and give them all back once emptied: by the ACK on the
 * sending side, by the program's read on the receiving one. */
START_TEST(test_rings_take_pages_as_data_comes_and_give_them_back)
{
	static uint8_t data[10000];
	handshake_lazy();
	fill(data, sizeof(data), 5);
	ck_assert_uint_eq(tcp_send(&A.cb, data, sizeof(data), now),
			  sizeof(data));
	ck_assert_int_eq(pages_held, 3); /* 10000 bytes: three pages */
	flush_acks(&A, &B);
	flush_acks(&A, &B);		 /* the last one's */
	ck_assert_int_eq(pages_held, 3); /* acknowledged: B's now */
	expect_received(&B, data, sizeof(data));
	ck_assert_int_eq(pages_held, 0);
	/* and again */
	tcp_send(&A.cb, data, 100, now);
	settle(&A, &B);
	ck_assert_int_eq(pages_held, 2); /* one each: the ACK is delayed */
	expect_received(&B, data, 100);
	ck_assert_int_eq(pages_held, 1);
	flush_acks(&A, &B);
	ck_assert_int_eq(pages_held, 0);
	/* a ring told to keep its pages (one grown for a burst) does */
	B.cb.rcv.keep = 1;
	tcp_send(&A.cb, data, 100, now);
	settle(&A, &B);
	expect_received(&B, data, 100);
	flush_acks(&A, &B);
	ck_assert_int_eq(pages_held, 1);
	ck_assert_ptr_nonnull(B.cb.rcv.pages[B.cb.rcv.head / TCP_PAGE]);
}
END_TEST

/* Without a page to be had, data is not taken: the sender's write takes
 * nothing, the receiver does not acknowledge what it could not keep,
 * and the data comes again when the timer resends it. Out-of-order data
 * is not held either. */
START_TEST(test_data_without_pages_is_not_taken)
{
	static uint8_t data[4000];
	handshake_lazy();
	fill(data, sizeof(data), 6);
	pages_left = 0;
	ck_assert_uint_eq(tcp_send(&A.cb, data, sizeof(data), now), 0);
	pages_left = 1; /* A's: B has none */
	ck_assert_uint_eq(tcp_send(&A.cb, data, sizeof(data), now),
			  sizeof(data));
	ck_assert_int_eq(A.nout - A.taken, 3);
	drop(&A); /* the first goes missing: the others are out of order */
	settle(&A, &B);
	ck_assert_uint_eq(B.cb.rcv_nxt, 1001);
	ck_assert_int_eq(B.cb.nooo, 0);
	ck_assert_uint_eq(B.cb.rcv.len, 0);
	ck_assert_uint_eq(A.cb.snd_una, 1001);
	pages_left = -1;
	now = A.cb.rexmit_at;
	tcp_timer(&A.cb, now);
	while (A.cb.snd_una != A.cb.snd_nxt) {
		settle(&A, &B);
		now += TCP_DELACK;
		tcp_timer(&A.cb, now);
		tcp_timer(&B.cb, now);
	}
	expect_received(&B, data, sizeof(data));
	ck_assert_int_eq(pages_held, 0);
}
END_TEST

/* Segments that arrive together (one batch from the device) earn one
 * ACK for all of them, sent by the timer pass after the batch; arriving
 * one by one, every second segment is acknowledged as before. */
START_TEST(test_a_batch_of_segments_earns_one_ack)
{
	static uint8_t data[8 * 1000];
	handshake(1000, 1000);
	A.cb.nodelay = 1;
	fill(data, sizeof(data), 3);
	ck_assert_uint_eq(tcp_send(&A.cb, data, sizeof(data), now),
			  sizeof(data));
	int first = A.taken, acks = B.nout;
	ck_assert_int_eq(A.nout - first, 8);
	for (int i = first; i < first + 6; i++) {
		struct tcp_seg in = as_input(&A.out[i]);
		tcp_input(&B.cb, &in, now); /* six in one batch */
	}
	A.taken = first + 6;
	ck_assert_int_eq(B.nout, acks); /* nothing yet */
	ck_assert_uint_le(tcp_next_timer(&B.cb), now);
	tcp_timer(&B.cb, now);
	ck_assert_int_eq(B.nout, acks + 1);
	ck_assert_uint_eq(B.out[acks].ack, A.cb.snd_una + 6000);
	tcp_timer(&B.cb, now); /* owed once */
	ck_assert_int_eq(B.nout, acks + 1);
	/* the last two one by one: the second of them is acknowledged */
	pass(&A, &B);
	ck_assert_int_eq(B.nout, acks + 1);
	pass(&A, &B);
	ck_assert_int_eq(B.nout, acks + 2);
	ck_assert_uint_eq(B.out[acks + 1].ack, A.cb.snd_nxt);
	settle(&A, &B);
	ck_assert_uint_eq(A.cb.snd_una, A.cb.snd_nxt);
	expect_received(&B, data, sizeof(data));
}
END_TEST

/* Big offload frames (64 KiB from a sender's segmentation offload): one
 * ACK for two, a lone one's after TCP_DELACK_FRAME; a frame of a few
 * segments still at once. */
START_TEST(test_big_frames_are_acknowledged_in_pairs)
{
	enum { SEG = 1448, BIG = 45 * SEG };
	static uint8_t data[3 * BIG + 4 * SEG];
	handshake(SEG, SEG);
	for (uint32_t i = 4; i < 64; i++)
		B.rp[i] = calloc(1, TCP_PAGE);
	B.cb.rcv.npages = 64; /* room for the frames */
	fill(data, sizeof(data), 5);
	uint32_t seq = B.cb.rcv_nxt, off = 0;
	int acks = B.nout;
	struct tcp_seg in;
	/* the first waits for the second */
	in = seg_in(seq + off, 1001, TCP_ACK, 65535, data + off, BIG);
	arrive(&B, &in);
	off += BIG;
	ck_assert_int_eq(B.nout, acks);
	ck_assert_uint_eq(tcp_next_timer(&B.cb), now + TCP_DELACK_FRAME);
	now += TCP_DELACK_FRAME / 2;
	in = seg_in(seq + off, 1001, TCP_ACK, 65535, data + off, BIG);
	arrive(&B, &in);
	off += BIG;
	ck_assert_int_eq(B.nout, acks + 1);
	ck_assert_uint_eq(B.out[acks].ack, seq + off);
	/* a lone one: its ACK when the short wait ends */
	in = seg_in(seq + off, 1001, TCP_ACK, 65535, data + off, BIG);
	arrive(&B, &in);
	off += BIG;
	ck_assert_int_eq(B.nout, acks + 1);
	now += TCP_DELACK_FRAME;
	tcp_timer(&B.cb, now);
	ck_assert_int_eq(B.nout, acks + 2);
	ck_assert_uint_eq(B.out[acks + 1].ack, seq + off);
	/* a frame of four segments (a sender's window still small) */
	in = seg_in(seq + off, 1001, TCP_ACK, 65535, data + off, 4 * SEG);
	arrive(&B, &in);
	off += 4 * SEG;
	ck_assert_int_eq(B.nout, acks + 3);
	ck_assert_uint_eq(B.out[acks + 2].ack, seq + off);
	ck_assert_uint_eq(B.cb.rcv.len, off);
}
END_TEST

START_TEST(test_orderly_close)
{
	handshake(1460, 1460);
	tcp_close(&A.cb, now);
	ck_assert_int_eq(A.cb.state, TCP_FIN_WAIT_1);
	pass(&A, &B);
	ck_assert_int_eq(B.cb.state, TCP_CLOSE_WAIT);
	pass(&B, &A); /* the ACK of the FIN */
	ck_assert_int_eq(A.cb.state, TCP_FIN_WAIT_2);
	tcp_close(&B.cb, now);
	ck_assert_int_eq(B.cb.state, TCP_LAST_ACK);
	pass(&B, &A);
	ck_assert_int_eq(A.cb.state, TCP_TIME_WAIT);
	pass(&A, &B);
	ck_assert_int_eq(B.cb.state, TCP_CLOSED);
	ck_assert_int_eq(B.cb.error, 0);
	now += TCP_TIMEWAIT;
	tcp_timer(&A.cb, now);
	ck_assert_int_eq(A.cb.state, TCP_CLOSED);
}
END_TEST

START_TEST(test_an_orphan_in_fin_wait_2_gives_up_after_the_fin_timeout)
{
	handshake(1460, 1460);
	tcp_close(&A.cb, now);
	settle(&A, &B);
	ck_assert_int_eq(A.cb.state, TCP_FIN_WAIT_2);
	/* held by the program (shutdown): as long as the peer likes */
	now += 10 * TCP_FIN_TIMEOUT;
	tcp_timer(&A.cb, now);
	ck_assert_int_eq(A.cb.state, TCP_FIN_WAIT_2);
	/* closed by it: the FIN timeout, then a reset */
	tcp_orphan(&A.cb, now);
	uint64_t t0 = now;
	now = t0 + TCP_FIN_TIMEOUT - 1;
	tcp_timer(&A.cb, now);
	ck_assert_int_eq(A.cb.state, TCP_FIN_WAIT_2);
	int sent = A.nout;
	now = t0 + TCP_FIN_TIMEOUT;
	tcp_timer(&A.cb, now);
	ck_assert_int_eq(A.cb.state, TCP_CLOSED);
	ck_assert_int_eq(A.nout, sent + 1);
	ck_assert(A.out[sent].flags & TCP_RST);
	ck_assert_uint_eq(tcp_next_timer(&A.cb), UINT64_MAX);
	teardown();
	/* TCP_LINGER2 below zero: no waiting at all */
	handshake(1460, 1460);
	A.cb.linger2 = UINT64_MAX;
	tcp_close(&A.cb, now);
	tcp_orphan(&A.cb, now);
	settle(&A, &B);
	tcp_timer(&A.cb, now);
	ck_assert_int_eq(A.cb.state, TCP_CLOSED);
}
END_TEST

START_TEST(test_close_after_the_peer_delivers_queued_data)
{
	/* B's peer closed first (CLOSE_WAIT); B writes more than a window's
	 * worth, then closes: every byte and the FIN still go out */
	static uint8_t data[12000], back[12000];
	setup(&A, 4, 1, 1000); /* A can hold 4 KiB at a time */
	setup(&B, 4, 4, 1000);
	tcp_connect(&A.cb, 1, now);
	struct tcp_seg syn = as_input(&A.out[0]);
	A.taken = 1;
	tcp_accept_syn(&B.cb, &syn, 2, now);
	settle(&A, &B);
	tcp_close(&A.cb, now);
	settle(&A, &B);
	ck_assert_int_eq(B.cb.state, TCP_CLOSE_WAIT);
	fill(data, sizeof(data), 4);
	ck_assert_uint_eq(tcp_send(&B.cb, data, sizeof(data), now),
			  sizeof(data));
	tcp_close(&B.cb, now);
	ck_assert_int_eq(B.cb.state, TCP_LAST_ACK);
	uint32_t got = 0;
	for (int i = 0; i < 1000 && B.cb.state != TCP_CLOSED; i++) {
		settle(&A, &B);
		got += tcp_recv(&A.cb, back + got, sizeof(back) - got, now);
		flush_acks(&A, &B);
	}
	got += tcp_recv(&A.cb, back + got, sizeof(back) - got, now);
	ck_assert_uint_eq(got, sizeof(data));
	ck_assert(memcmp(back, data, sizeof(data)) == 0);
	ck_assert_int_eq(B.cb.state, TCP_CLOSED);
	ck_assert(A.cb.fin_received);
}
END_TEST

START_TEST(test_simultaneous_open_and_close)
{
	setup(&A, 4, 4, 1460);
	setup(&B, 4, 4, 1460);
	tcp_connect(&A.cb, 100, now);
	tcp_connect(&B.cb, 900, now);
	pass(&A, &B); /* SYNs cross */
	pass(&B, &A);
	ck_assert_int_eq(A.cb.state, TCP_SYN_RCVD);
	ck_assert_int_eq(B.cb.state, TCP_SYN_RCVD);
	settle(&A, &B);
	ck_assert_int_eq(A.cb.state, TCP_ESTABLISHED);
	ck_assert_int_eq(B.cb.state, TCP_ESTABLISHED);
	/* both close at once: FINs cross */
	tcp_close(&A.cb, now);
	tcp_close(&B.cb, now);
	pass(&A, &B);
	pass(&B, &A);
	ck_assert_int_eq(A.cb.state, TCP_CLOSING);
	ck_assert_int_eq(B.cb.state, TCP_CLOSING);
	settle(&A, &B);
	ck_assert_int_eq(A.cb.state, TCP_TIME_WAIT);
	ck_assert_int_eq(B.cb.state, TCP_TIME_WAIT);
}
END_TEST

START_TEST(test_resets)
{
	handshake(1460, 1460);
	/* in the window but not exact: a challenge ACK, no reset */
	struct tcp_seg rst = seg_in(A.cb.rcv_nxt + 10, 0, TCP_RST, 0, NULL, 0);
	int before = A.nout;
	tcp_input(&A.cb, &rst, now);
	ck_assert_int_eq(A.cb.state, TCP_ESTABLISHED);
	ck_assert_int_eq(A.nout, before + 1);
	ck_assert_uint_eq(A.out[before].flags, TCP_ACK);
	rst.seq = A.cb.rcv_nxt;
	tcp_input(&A.cb, &rst, now);
	ck_assert_int_eq(A.cb.state, TCP_CLOSED);
	ck_assert_int_eq(A.cb.error, ECONNRESET);
	/* refused: an RST answering our SYN */
	teardown_end(&A);
	setup(&A, 4, 4, 1460);
	tcp_connect(&A.cb, 1000, now);
	struct tcp_seg bad = seg_in(0, 7, TCP_RST | TCP_ACK, 0, NULL, 0);
	tcp_input(&A.cb, &bad, now); /* does not acknowledge the SYN */
	ck_assert_int_eq(A.cb.state, TCP_SYN_SENT);
	struct tcp_seg refuse = seg_in(0, 1001, TCP_RST | TCP_ACK, 0, NULL, 0);
	tcp_input(&A.cb, &refuse, now);
	ck_assert_int_eq(A.cb.state, TCP_CLOSED);
	ck_assert_int_eq(A.cb.error, ECONNREFUSED);
	/* what a closed port answers */
	struct tcp_seg syn = seg_in(77, 0, TCP_SYN, 1000, NULL, 0);
	syn.mss = 1460;
	uint32_t seq, ack;
	uint8_t flags;
	ck_assert_int_eq(tcp_reset_for(&syn, &seq, &ack, &flags), 1);
	ck_assert_uint_eq(flags, TCP_RST | TCP_ACK);
	ck_assert_uint_eq(ack, 78);
	struct tcp_seg acked = seg_in(5, 99, TCP_ACK, 1000, NULL, 3);
	ck_assert_int_eq(tcp_reset_for(&acked, &seq, &ack, &flags), 1);
	ck_assert_uint_eq(flags, TCP_RST);
	ck_assert_uint_eq(seq, 99);
	ck_assert_int_eq(tcp_reset_for(&refuse, &seq, &ack, &flags), 0);
}
END_TEST

/* ICMP destination unreachable, as Linux's tcp_v4_err: a connect ends
 * with its error at once; an open connection keeps trying and reports
 * it if it gives up; an error about what is not in flight is ignored. */
START_TEST(test_icmp_errors)
{
	setup(&A, 4, 4, 1460);
	tcp_connect(&A.cb, 1000, now);
	ck_assert_int_eq(tcp_icmp_error(&A.cb, 999, EHOSTUNREACH), 0);
	ck_assert_int_eq(tcp_icmp_error(&A.cb, 1001, EHOSTUNREACH), 0);
	ck_assert_int_eq(A.cb.state, TCP_SYN_SENT);
	ck_assert_int_eq(tcp_icmp_error(&A.cb, 1000, EHOSTUNREACH), 1);
	ck_assert_int_eq(A.cb.state, TCP_CLOSED);
	ck_assert_int_eq(A.cb.error, EHOSTUNREACH);
	ck_assert_uint_eq(tcp_next_timer(&A.cb), UINT64_MAX);
	teardown_end(&A);

	static uint8_t data[3000];
	handshake(1460, 1460);
	/* nothing in flight: nothing it could be about */
	ck_assert_int_eq(tcp_icmp_error(&A.cb, A.cb.snd_nxt, ENETUNREACH), 0);
	tcp_send(&A.cb, data, sizeof(data), now);
	settle(&A, &B);
	flush_acks(&A, &B);
	uint32_t sent = A.cb.snd_nxt;
	tcp_send(&A.cb, data, 1000, now);
	A.taken = A.nout; /* lost, with every retransmission */
	ck_assert_int_eq(tcp_icmp_error(&A.cb, sent, EHOSTUNREACH), 1);
	ck_assert_int_eq(A.cb.state, TCP_ESTABLISHED);
	ck_assert_int_eq(A.cb.error, 0);
	/* an ACK of new data shows the path works: forgotten */
	struct tcp_seg ack =
		seg_in(A.cb.rcv_nxt, sent + 500, TCP_ACK, 65535, NULL, 0);
	tcp_input(&A.cb, &ack, now);
	ck_assert_int_eq(A.cb.soft_error, 0);
	ck_assert_int_eq(tcp_icmp_error(&A.cb, sent + 500, EHOSTUNREACH), 1);
	for (int i = 0; i < 40 && A.cb.state != TCP_CLOSED; i++) {
		now = tcp_next_timer(&A.cb);
		tcp_timer(&A.cb, now);
		A.taken = A.nout;
	}
	ck_assert_int_eq(A.cb.state, TCP_CLOSED);
	ck_assert_int_eq(A.cb.error, EHOSTUNREACH); /* not ETIMEDOUT */
}
END_TEST

START_TEST(test_fragmentation_needed_cuts_segments_and_resends_at_once)
{
	static uint8_t data[6000];
	handshake(1460, 1460);
	uint32_t cwnd = A.cb.cwnd, una = A.cb.snd_una;
	fill(data, sizeof(data), 7);
	tcp_send(&A.cb, data, sizeof(data), now);
	A.taken = A.nout; /* all dropped by a router with a 1000-byte MTU */
	int first = A.nout;
	/* about nothing in flight, or news of a bigger MSS: no change */
	ck_assert_int_eq(tcp_mtu_reduced(&A.cb, una - 1, 960, now), 0);
	ck_assert_int_eq(tcp_mtu_reduced(&A.cb, una, 1500, now), 0);
	ck_assert_int_eq(A.nout, first);
	ck_assert_int_eq(tcp_mtu_reduced(&A.cb, una + 1460, 960, now), 1);
	ck_assert_uint_eq(A.cb.mss, 960);
	ck_assert_uint_eq(A.cb.cwnd, cwnd); /* not a sign of congestion */
	/* at once, from the first unacknowledged byte, in smaller segments */
	ck_assert_int_gt(A.nout, first);
	ck_assert_uint_eq(A.out[first].seq, una);
	for (int i = first; i < A.nout; i++)
		ck_assert_uint_le(A.out[i].len + tcp_opts_len(&A.out[i].opts),
				  960);
	/* they get through: every byte arrives */
	settle(&A, &B);
	expect_received(&B, data, sizeof(data));
	/* a router that says less than IPv4's least: the least it is */
	ck_assert_int_eq(tcp_mtu_reduced(&A.cb, A.cb.snd_nxt, 100, now), 0);
	tcp_send(&A.cb, data, 100, now);
	ck_assert_int_eq(tcp_mtu_reduced(&A.cb, A.cb.snd_una, 100, now), 1);
	ck_assert_uint_eq(A.cb.mss, TCP_MSS_MIN);
}
END_TEST

START_TEST(test_retransmission_timeout_and_backoff)
{
	handshake(1460, 1460);
	uint64_t rto = A.cb.rto;
	tcp_send(&A.cb, "lost", 4, now);
	drop(&A);
	ck_assert_uint_eq(A.cb.rexmit_at, now + rto);
	now += rto;
	tcp_timer(&A.cb, now);
	ck_assert_int_eq(A.nout - A.taken, 1); /* sent again */
	ck_assert_uint_eq(A.out[A.taken].len, 4);
	ck_assert_uint_eq(A.cb.rto, 2 * rto);
	ck_assert_uint_eq(A.cb.cwnd, A.cb.mss); /* loss: one segment */
	pass(&A, &B);
	flush_acks(&A, &B);
	ck_assert_uint_eq(A.cb.snd_una, A.cb.snd_max);
	ck_assert_uint_eq(A.cb.rexmit_at, 0);
	/* a peer that is gone: ETIMEDOUT after the retries */
	tcp_send(&A.cb, "x", 1, now);
	for (int i = 0; i <= TCP_RETRIES && A.cb.state != TCP_CLOSED; i++) {
		now = A.cb.rexmit_at;
		tcp_timer(&A.cb, now);
	}
	ck_assert_int_eq(A.cb.state, TCP_CLOSED);
	ck_assert_int_eq(A.cb.error, ETIMEDOUT);
}
END_TEST

START_TEST(test_rtt_estimate)
{
	setup(&A, 4, 4, 1460);
	setup(&B, 4, 4, 1460);
	tcp_connect(&A.cb, 1, now);
	struct tcp_seg syn = as_input(&A.out[0]);
	A.taken = 1;
	tcp_accept_syn(&B.cb, &syn, 2, now);
	now += 100 * MS; /* the SYN-ACK takes 100 ms */
	pass(&B, &A);
	ck_assert_uint_eq(A.cb.srtt, 100 * MS);
	ck_assert_uint_eq(A.cb.rttvar, 50 * MS);
	ck_assert_uint_eq(A.cb.rto, 300 * MS); /* srtt + 4 * rttvar */
	pass(&A, &B);
	tcp_send(&A.cb, "abc", 3, now);
	pass(&A, &B);
	now += 100 * MS;
	now += TCP_DELACK;
	tcp_timer(&B.cb, now);
	pass(&B, &A);
	/* 7/8 * 100 + 1/8 * 140 */
	ck_assert_uint_eq(A.cb.srtt, 105 * MS);
}
END_TEST

/* Connect A to B (SACK or not, 1000-byte segments), let A send (len)
 * bytes of (data) (filled here) without Nagle, with its window set to
 * (cwnd) if not 0, and check that (segs) segments went out: the
 * sequence number of the first. */
static uint32_t burst(int sack, uint8_t *data, uint32_t len, uint32_t cwnd,
		      int segs)
{
	handshake_sack(1000, 1000, sack);
	A.cb.nodelay = 1;
	if (cwnd)
		A.cb.cwnd = cwnd;
	fill(data, len, (uint32_t)segs);
	tcp_send(&A.cb, data, len, now);
	ck_assert_int_eq(A.nout - A.taken, segs);
	return A.out[A.taken].seq;
}

START_TEST(test_fast_retransmit_and_newreno_recovery)
{
	static uint8_t data[8 * 1000];
	burst(0, data, sizeof(data), 0, 8);
	drop(&A); /* the first segment is lost */
	for (int i = 0; i < 7; i++)
		pass(&A, &B); /* each arrives out of order: a dup ACK */
	ck_assert_int_eq(B.nout - B.taken, 7);
	int sent = A.nout;
	for (int i = 0; i < 3; i++)
		pass(&B, &A);
	/* the third dup ACK: the lost segment again, without a timeout */
	ck_assert_int_eq(A.nout, sent + 1);
	ck_assert_uint_eq(A.out[sent].seq, A.cb.snd_una);
	ck_assert_uint_eq(A.out[sent].len, 1000);
	ck_assert(A.cb.in_recovery);
	ck_assert_uint_eq(A.cb.ssthresh, 4000);
	ck_assert_uint_eq(A.cb.cwnd, 4000 + 3 * 1000); /* inflated */
	while (pass(&B, &A))
		;
	A.taken = sent;
	settle(&A, &B);
	ck_assert(!A.cb.in_recovery);
	ck_assert_uint_eq(A.cb.cwnd, A.cb.ssthresh);
	expect_received(&B, data, sizeof(data));
}
END_TEST

START_TEST(test_sack_blocks_report_held_data_newest_first)
{
	static uint8_t data[6 * 1000];
	uint32_t base = burst(1, data, sizeof(data), 0, 6);
	int first = A.taken;
	/* segments 1 and 3 arrive, 0, 2, 4 and 5 are late */
	struct tcp_seg s1 = as_input(&A.out[first + 1]);
	struct tcp_seg s3 = as_input(&A.out[first + 3]);
	struct tcp_seg s2 = as_input(&A.out[first + 2]);
	int acks = B.nout;
	tcp_input(&B.cb, &s1, now);
	tcp_input(&B.cb, &s3, now);
	ck_assert_int_eq(B.nout, acks + 2); /* each at once (5681 4.2) */
	const struct tcp_opts *o = &B.out[B.nout - 1].opts;
	ck_assert_uint_eq(B.out[B.nout - 1].ack, base);
	ck_assert_uint_eq(o->nsack, 2);
	ck_assert_uint_eq(o->sack[0].seq, base + 3000); /* the newest */
	ck_assert_uint_eq(o->sack[0].len, 1000);
	ck_assert_uint_eq(o->sack[1].seq, base + 1000);
	/* 2 fills the gap between them: one block */
	tcp_input(&B.cb, &s2, now);
	o = &B.out[B.nout - 1].opts;
	ck_assert_uint_eq(o->nsack, 1);
	ck_assert_uint_eq(o->sack[0].seq, base + 1000);
	ck_assert_uint_eq(o->sack[0].len, 3000);
	/* 0 makes it all in order: no more blocks */
	struct tcp_seg s0 = as_input(&A.out[first]);
	tcp_input(&B.cb, &s0, now);
	ck_assert_uint_eq(B.out[B.nout - 1].ack, base + 4000);
	ck_assert_uint_eq(B.out[B.nout - 1].opts.nsack, 0);
	ck_assert_int_eq(B.cb.nooo, 0);
}
END_TEST

START_TEST(test_no_sack_blocks_unless_negotiated)
{
	static uint8_t data[3 * 1000];
	handshake_sack(1000, 1000, 0);
	A.cb.nodelay = 1;
	tcp_send(&A.cb, data, sizeof(data), now);
	struct tcp_seg s2 = as_input(&A.out[A.taken + 2]);
	tcp_input(&B.cb, &s2, now);
	ck_assert_int_eq(B.cb.nooo, 1); /* held all the same */
	ck_assert_uint_eq(B.out[B.nout - 1].opts.nsack, 0);
}
END_TEST

START_TEST(test_sack_recovery_resends_every_hole_at_once)
{
	/* 16 segments, 3 of them lost: with SACK all three go again in
	 * the first round trip of recovery, with no timeout (NewReno would
	 * find one hole per round trip) */
	static uint8_t data[16 * 1000];
	uint32_t base = burst(1, data, sizeof(data), 16000, 16);
	for (int i = 0; i < 16; i++) {
		if (i == 2 || i == 8 || i == 12)
			drop(&A);
		else
			pass(&A, &B);
	}
	int sent = A.nout;
	uint64_t rexmit_at = A.cb.rexmit_at;
	while (pass(&B, &A))
		;
	ck_assert(A.cb.in_recovery);
	ck_assert_uint_eq(A.cb.ssthresh, 7000); /* half the flight */
	ck_assert_uint_eq(A.cb.nsacked, 3);
	/* the three holes, in order, and nothing else */
	ck_assert_int_eq(A.nout, sent + 3);
	ck_assert_uint_eq(A.out[sent].seq, base + 2000);
	ck_assert_uint_eq(A.out[sent + 1].seq, base + 8000);
	ck_assert_uint_eq(A.out[sent + 2].seq, base + 12000);
	for (int i = 0; i < 3; i++)
		ck_assert_uint_eq(A.out[sent + i].len, 1000);
	ck_assert_uint_le(A.cb.rexmit_at, rexmit_at + 1); /* no timeout */
	A.taken = sent;
	settle(&A, &B);
	ck_assert(!A.cb.in_recovery);
	ck_assert_uint_eq(A.cb.snd_una, base + 16000);
	ck_assert_int_eq(A.cb.nsacked, 0);
	expect_received(&B, data, sizeof(data));
}
END_TEST

/* Deliver segment (i) of (from) to (to), out of the wire's order. */
static void deliver_nth(struct end *from, struct end *to, int i)
{
	struct tcp_seg in = as_input(&from->out[i]);
	arrive(to, &in);
}

START_TEST(test_a_duplicate_is_reported_once_with_a_dsack)
{
	static uint8_t data[4 * 1000];
	uint32_t base = burst(1, data, sizeof(data), 0, 4);
	int first = A.taken;
	for (int i = 0; i < 3; i++)
		deliver_nth(&A, &B, first + i);
	/* the first segment again (a retransmission that was not needed) */
	int acks = B.nout;
	deliver_nth(&A, &B, first);
	ck_assert_int_eq(B.nout, acks + 1);
	const struct seg *ack = &B.out[acks];
	ck_assert_uint_eq(ack->ack, base + 3000);
	ck_assert_uint_eq(ack->opts.nsack, 1);
	ck_assert_uint_eq(ack->opts.sack[0].seq, base);
	ck_assert_uint_eq(ack->opts.sack[0].len, 1000);
	/* half old, half new: the old half */
	struct tcp_seg part = seg_in(base + 2500, A.cb.rcv_nxt, TCP_ACK,
				     65535 >> 7, data + 2500, 1000);
	acks = B.nout;
	tcp_input(&B.cb, &part, now);
	ck_assert_uint_eq(B.cb.rcv_nxt, base + 3500);
	B.cb.nodelay = 1;
	if (B.nout == acks) /* the ACK was delayed: data carries it */
		tcp_send(&B.cb, data, 10, now);
	ck_assert_uint_eq(B.out[acks].opts.nsack, 1);
	ck_assert_uint_eq(B.out[acks].opts.sack[0].seq, base + 2500);
	ck_assert_uint_eq(B.out[acks].opts.sack[0].len, 500);
	/* reported once */
	tcp_send(&B.cb, data, 10, now);
	ck_assert_uint_eq(B.out[B.nout - 1].opts.nsack, 0);
}
END_TEST

/* 8 segments of (data) go out; all but the first (*first, of A's
 * segments) reach B, whose SACKs make A resend it in a recovery that
 * halves its window: that copy's index among A's segments. */
static int first_one_resent(uint8_t *data, uint32_t len, int *first)
{
	burst(1, data, len, 8000, 8);
	*first = A.taken;
	for (int i = 1; i < 8; i++)
		deliver_nth(&A, &B, *first + i);
	A.taken = *first + 8;
	int sent = A.nout;
	while (pass(&B, &A))
		;
	ck_assert(A.cb.in_recovery);
	ck_assert_int_eq(A.nout, sent + 1); /* the first one again */
	ck_assert_uint_lt(A.cb.cwnd, 8000);
	return sent;
}

START_TEST(test_a_recovery_dsacks_prove_spurious_is_undone)
{
	/* the first of 8 segments comes late, after the other 7: their
	 * SACKs start a recovery that resends it and halves the window;
	 * then the original arrives, then the resent copy, which the peer
	 * reports as a duplicate: the recovery was not needed, and the
	 * window it took comes back */
	static uint8_t data[8 * 1000];
	int first, sent = first_one_resent(data, sizeof(data), &first);
	deliver_nth(&A, &B, first); /* the late original */
	deliver_nth(&A, &B, sent);  /* the copy: a duplicate */
	A.taken = A.nout;
	while (pass(&B, &A))
		;
	ck_assert_int_eq(A.cb.undone, 1);
	ck_assert(!A.cb.in_recovery);
	ck_assert_uint_ge(A.cb.cwnd, 8000);
	expect_received(&B, data, sizeof(data));
}
END_TEST

START_TEST(test_a_recovery_of_real_losses_stays)
{
	/* the same, but the first segment was lost: only the resent copy
	 * arrives, no D-SACK comes, the halved window stays */
	static uint8_t data[8 * 1000];
	int first, sent = first_one_resent(data, sizeof(data), &first);
	(void)first;
	deliver_nth(&A, &B, sent);
	A.taken = A.nout;
	settle(&A, &B);
	ck_assert_int_eq(A.cb.undone, 0);
	ck_assert_uint_eq(A.cb.cwnd, A.cb.ssthresh);
	ck_assert_uint_lt(A.cb.cwnd, 8000);
	expect_received(&B, data, sizeof(data));
}
END_TEST

START_TEST(test_ends_that_disagree_do_not_ack_each_other_forever)
{
	/* data A never sent, injected into B: B acknowledges it, A says
	 * that acknowledges what it never sent, B finds A's ACK old... Each
	 * answers such an ACK at most once in TCP_OOW_ACK_NS */
	static uint8_t data[2000];
	uint32_t base = burst(1, data, 1000, 0, 1);
	settle(&A, &B);
	struct tcp_seg fake = seg_in(base + 1000, A.cb.rcv_nxt, TCP_ACK,
				     65535 >> 7, data, 500);
	tcp_input(&B.cb, &fake, now);
	flush_acks(&A, &B);
	int before = A.nout + B.nout;
	settle(&A, &B);
	ck_assert_int_le(A.nout + B.nout - before, 4);
	/* later, another round, as limited */
	now += TCP_OOW_ACK_NS;
	tcp_input(&B.cb, &fake, now);
	before = A.nout + B.nout;
	settle(&A, &B);
	ck_assert_int_le(A.nout + B.nout - before, 4);
}
END_TEST

START_TEST(test_sack_blocks_outside_the_flight_are_ignored)
{
	static uint8_t data[8 * 1000];
	handshake(1000, 1000);
	A.cb.nodelay = 1;
	tcp_send(&A.cb, data, sizeof(data), now);
	uint32_t una = A.cb.snd_una;
	struct tcp_seg ack =
		seg_in(B.cb.snd_nxt, una, TCP_ACK, 65535 >> 7, NULL, 0);
	ack.nsack = 4;
	ack.sack[0] = (struct tcp_range){una + 7000, 5000}; /* past snd_max */
	ack.sack[1] = (struct tcp_range){una - 3000, 1000}; /* below una */
	ack.sack[2] = (struct tcp_range){una + 2000, 0};    /* empty */
	ack.sack[3] = (struct tcp_range){una + 3000, 1000}; /* good */
	tcp_input(&A.cb, &ack, now);
	ck_assert_int_eq(A.cb.nsacked, 1);
	ck_assert_uint_eq(A.cb.sacked[0].seq, una + 3000);
	/* blocks that touch merge; the cumulative ACK trims them */
	ack.nsack = 2;
	ack.sack[0] = (struct tcp_range){una + 4000, 1000};
	ack.sack[1] = (struct tcp_range){una + 1000, 2000};
	tcp_input(&A.cb, &ack, now);
	ck_assert_int_eq(A.cb.nsacked, 1);
	ck_assert_uint_eq(A.cb.sacked[0].seq, una + 1000);
	ck_assert_uint_eq(A.cb.sacked[0].len, 4000);
	ack = seg_in(B.cb.snd_nxt, una + 2000, TCP_ACK, 65535 >> 7, NULL, 0);
	tcp_input(&A.cb, &ack, now);
	ck_assert_int_eq(A.cb.nsacked, 1);
	ck_assert_uint_eq(A.cb.sacked[0].seq, una + 2000);
	ck_assert_uint_eq(A.cb.sacked[0].len, 3000);
}
END_TEST

START_TEST(test_held_ranges_are_bounded)
{
	/* every other segment of 2 * TCP_OOO_MAX + 2 arrives: the ranges
	 * beyond TCP_OOO_MAX are dropped, one touching a held range is
	 * still taken */
	static uint8_t data[200];
	setup(&A, 4, 4, 100);
	setup(&B, 4, 4, 100);
	tcp_connect(&A.cb, 1000, now);
	struct tcp_seg syn = as_input(&A.out[0]);
	A.taken = 1;
	tcp_accept_syn(&B.cb, &syn, 5000, now);
	settle(&A, &B);
	uint32_t base = B.cb.rcv_nxt;
	for (uint32_t i = 0; i < TCP_OOO_MAX + 1; i++) {
		struct tcp_seg d = seg_in(base + 100 + i * 200, A.cb.rcv_nxt,
					  TCP_ACK, 1000, data, 100);
		tcp_input(&B.cb, &d, now);
	}
	ck_assert_int_eq(B.cb.nooo, TCP_OOO_MAX);
	struct tcp_seg next =
		seg_in(base + 200, A.cb.rcv_nxt, TCP_ACK, 1000, data, 100);
	tcp_input(&B.cb, &next, now);
	ck_assert_int_eq(B.cb.nooo, TCP_OOO_MAX - 1); /* two merged */
	ck_assert_uint_eq(B.cb.ooo[0].seq, base + 100);
	ck_assert_uint_eq(B.cb.ooo[0].len, 300);
}
END_TEST

START_TEST(test_tail_loss_probe_turns_a_lost_tail_into_fast_recovery)
{
	static uint8_t data[4 * 1000];
	setup(&A, 4, 4, 1000);
	setup(&B, 4, 4, 1000);
	tcp_connect(&A.cb, 1, now);
	struct tcp_seg syn = as_input(&A.out[0]);
	A.taken = 1;
	tcp_accept_syn(&B.cb, &syn, 2, now);
	now += 10 * MS; /* a 10 ms round trip: RTO 200 ms, probe 20 ms */
	settle(&A, &B);
	A.cb.nodelay = 1;
	fill(data, sizeof(data), 6);
	tcp_send(&A.cb, data, sizeof(data), now);
	ck_assert_int_eq(A.nout - A.taken, 4);
	uint32_t base = A.out[A.taken].seq;
	pass(&A, &B);
	pass(&A, &B);
	drop(&A); /* the last two are lost: no duplicate ACK can come */
	drop(&A);
	settle(&A, &B);
	ck_assert_uint_eq(A.cb.snd_una, base + 2000);
	ck_assert_uint_ne(A.cb.probe_at, 0);
	ck_assert_uint_lt(A.cb.probe_at, A.cb.rexmit_at);
	int sent = A.nout;
	now = A.cb.probe_at;
	tcp_timer(&A.cb, now);
	ck_assert_int_eq(A.nout, sent + 1); /* the last segment again */
	ck_assert_uint_eq(A.out[sent].seq, base + 3000);
	/* B SACKs it, a round trip later: the segment sent before it is
	 * still missing, and later than the reordering window allows
	 * (RACK, RFC 8985) */
	pass(&A, &B);
	now += 10 * MS;
	settle(&A, &B);
	ck_assert_int_eq(A.nout, sent + 2);
	ck_assert_uint_eq(A.out[sent + 1].seq, base + 2000);
	ck_assert_uint_eq(A.cb.snd_una, base + 4000);
	expect_received(&B, data, sizeof(data));
}
END_TEST

/* ---- RACK (RFC 8985): losses told by send times ---- */

/* A connects to B with a (rtt) round trip (its first RTT sample and
 * least one); 1000-byte segments, no Nagle. */
static void handshake_rtt(uint64_t rtt)
{
	setup(&A, 4, 4, 1000);
	setup(&B, 4, 4, 1000);
	tcp_connect(&A.cb, 1, now);
	struct tcp_seg syn = as_input(&A.out[0]);
	A.taken = 1;
	tcp_accept_syn(&B.cb, &syn, 2, now);
	now += rtt;
	settle(&A, &B);
	A.cb.nodelay = 1;
	ck_assert_uint_eq(A.cb.min_rtt, rtt);
}

/* A sends (len) bytes of (data) (filled here), all of which go out at
 * once in (segs) segments that the test delivers itself: the index of
 * the first. */
static int send_segs(uint8_t *data, uint32_t len, int segs)
{
	fill(data, len, (uint32_t)segs);
	int first = A.nout;
	ck_assert_uint_eq(tcp_send(&A.cb, data, len, now), len);
	ck_assert_int_eq(A.nout - first, segs);
	A.taken = A.nout;
	return first;
}

/* A sends (len) bytes of (data) in (segs) segments at once; half a
 * round trip (5 ms) later those not in (lost), a bit mask, reach B: the
 * index of the first segment. */
static int deliver_but(uint8_t *data, uint32_t len, int segs, uint32_t lost)
{
	uint64_t t0 = now;
	int first = send_segs(data, len, segs);
	now = t0 + 5 * MS;
	for (int i = 0; i < segs; i++)
		if (!(lost & 1u << i))
			deliver_nth(&A, &B, first + i);
	return first;
}

static void acks_to_a(void)
{
	while (pass(&B, &A))
		;
}

START_TEST(test_rack_waits_out_reordering_once_seen)
{
	static uint8_t d1[8000], d2[8000];
	handshake_rtt(10 * MS);
	/* the first of 8 segments comes last: before the path is known to
	 * reorder, seven SACKed past it mean it was lost; it goes again */
	uint64_t t0 = now;
	int first = deliver_but(d1, sizeof(d1), 8, 1);
	now = t0 + 10 * MS;
	int sent = A.nout;
	acks_to_a();
	ck_assert(A.cb.in_recovery);
	ck_assert_int_eq(A.nout, sent + 1);
	ck_assert_uint_eq(A.out[sent].seq, A.out[first].seq);
	A.taken = A.nout;
	/* the original arrives, then the copy: B reports a duplicate, so
	 * the recovery is undone and the path known to reorder */
	now = t0 + 11 * MS;
	deliver_nth(&A, &B, first);
	now = t0 + 15 * MS;
	deliver_nth(&A, &B, sent);
	now = t0 + 20 * MS;
	acks_to_a();
	ck_assert_int_eq(A.cb.undone, 1);
	ck_assert(A.cb.reordering_seen);
	expect_received(&B, d1, sizeof(d1));
	/* the same again: now A waits a reordering window (a quarter of
	 * the least round trip, doubled by the D-SACK round) past the
	 * round trip before it calls the first segment lost, and it comes
	 * in time: nothing is resent, the window stays */
	uint64_t t1 = now;
	uint32_t cwnd = A.cb.cwnd;
	first = deliver_but(d2, sizeof(d2), 8, 1);
	now = t1 + 10 * MS;
	sent = A.nout;
	acks_to_a();
	ck_assert(!A.cb.in_recovery);
	ck_assert_int_eq(A.nout, sent);
	ck_assert_uint_eq(A.cb.rack_at, t1 + 10 * MS + 5 * MS + 1);
	now = t1 + 8 * MS;
	deliver_nth(&A, &B, first);
	now = t1 + 13 * MS;
	acks_to_a();
	ck_assert_int_eq(A.nout, sent);
	ck_assert_uint_eq(A.cb.snd_una, A.cb.snd_max);
	ck_assert_uint_eq(A.cb.rack_at, 0);
	ck_assert_uint_ge(A.cb.cwnd, cwnd);
	ck_assert_uint_eq(A.cb.counts.recoveries, 1);
	expect_received(&B, d2, sizeof(d2));
}
END_TEST

START_TEST(test_rack_resends_a_lost_retransmission_without_a_timeout)
{
	static uint8_t data[14000];
	handshake_rtt(10 * MS);
	/* 10 segments (the first window); the third is lost */
	uint64_t t0 = now;
	int first = deliver_but(data, sizeof(data), 10, 1u << 2);
	/* recovery: the hole goes again; the first ACK's growth and then
	 * the halved window let the last 4 segments go as well */
	now = t0 + 10 * MS;
	int sent = A.nout, copy = -1;
	acks_to_a();
	ck_assert(A.cb.in_recovery);
	ck_assert_int_eq(A.nout, sent + 5);
	for (int i = sent; i < A.nout; i++)
		if (A.out[i].seq == A.out[first + 2].seq) {
			ck_assert_int_eq(copy, -1);
			copy = i;
		}
	ck_assert_int_ne(copy, -1);
	A.taken = A.nout;
	uint64_t rexmit_at = A.cb.rexmit_at;
	/* the copy is lost too; the new segments, sent with it, arrive:
	 * once a round trip has passed since it went, it is late, and goes
	 * again (RACK's timer), long before a timeout */
	now = t0 + 15 * MS;
	for (int i = sent; i < sent + 5; i++)
		if (i != copy)
			deliver_nth(&A, &B, i);
	now = t0 + 20 * MS;
	int before = A.nout;
	acks_to_a();
	ck_assert_int_eq(A.nout, before);
	ck_assert_uint_eq(A.cb.rack_at, t0 + 20 * MS + 1);
	ck_assert_uint_lt(A.cb.rack_at, rexmit_at);
	now = A.cb.rack_at;
	tcp_timer(&A.cb, now);
	ck_assert_int_eq(A.nout, before + 1);
	ck_assert_uint_eq(A.out[before].seq, A.out[first + 2].seq);
	ck_assert_uint_eq(A.cb.counts.timeouts, 0);
	settle(&A, &B);
	flush_acks(&A, &B);
	ck_assert_uint_eq(A.cb.snd_una, A.cb.snd_max);
	ck_assert(!A.cb.in_recovery);
	expect_received(&B, data, sizeof(data));
}
END_TEST

START_TEST(test_rack_timer_finds_a_loss_too_few_sacks_show)
{
	/* two segments, the first lost: one SACK is too few for the
	 * duplicate threshold; a quarter round trip after the round trip
	 * the second took, the first is late, and goes again */
	static uint8_t data[2000];
	handshake_rtt(10 * MS);
	uint64_t t0 = now;
	int first = deliver_but(data, sizeof(data), 2, 1);
	now = t0 + 10 * MS;
	int sent = A.nout;
	acks_to_a();
	ck_assert(!A.cb.in_recovery);
	ck_assert_int_eq(A.nout, sent);
	ck_assert_uint_eq(A.cb.rack_at, t0 + 10 * MS + 10 * MS / 4 + 1);
	ck_assert_uint_lt(A.cb.rack_at, A.cb.probe_at);
	now = A.cb.rack_at - 1;
	tcp_timer(&A.cb, now);
	ck_assert_int_eq(A.nout, sent);
	now++;
	tcp_timer(&A.cb, now);
	ck_assert(A.cb.in_recovery);
	ck_assert_int_eq(A.nout, sent + 1);
	ck_assert_uint_eq(A.out[sent].seq, A.out[first].seq);
	A.taken = sent;
	settle(&A, &B);
	expect_received(&B, data, sizeof(data));
}
END_TEST

START_TEST(test_rack_tables_stay_bounded)
{
	/* a hundred small segments, each at its own time, a third of them
	 * lost: more sends and holes than the tables hold; every byte
	 * arrives all the same */
	static uint8_t data[100 * 100];
	handshake_rtt(10 * MS);
	A.cb.cwnd = sizeof(data);
	fill(data, sizeof(data), 4);
	int first = A.nout;
	for (int i = 0; i < 100; i++) {
		now += MS / 4;
		ck_assert_uint_eq(tcp_send(&A.cb, data + 100 * i, 100, now),
				  100);
	}
	ck_assert_int_eq(A.nout - first, 100);
	ck_assert_int_le(A.cb.nsent, TCP_SENT_MAX);
	A.taken = A.nout;
	now += 5 * MS;
	for (int i = 0; i < 100; i++)
		if (i % 3)
			deliver_nth(&A, &B, first + i);
	now += 5 * MS;
	for (int k = 0; k < 400 && B.cb.rcv_nxt != A.cb.snd_max; k++) {
		settle(&A, &B);
		ck_assert_int_le(A.cb.nrtx, TCP_RTX_MAX);
		ck_assert_int_le(A.cb.nsent, TCP_SENT_MAX);
		now += MS;
		tcp_timer(&A.cb, now);
		tcp_timer(&B.cb, now);
	}
	ck_assert_uint_eq(B.cb.rcv_nxt, A.cb.snd_max);
	expect_received(&B, data, sizeof(data));
}
END_TEST

START_TEST(test_a_lost_burst_goes_again_in_one)
{
	/* with segmentation offload, a hole of two segments goes again as
	 * one burst the device cuts, not two frames */
	static uint8_t data[6000];
	handshake_rtt(10 * MS);
	uint64_t t0 = now;
	int first = deliver_but(data, sizeof(data), 6, 3u << 2);
	uint32_t base = A.out[first].seq;
	now = t0 + 10 * MS;
	acks_to_a();
	ck_assert(!A.cb.in_recovery); /* two SACKed: too few */
	A.cb.tso_max = 2000;
	int sent = A.nout;
	now = A.cb.rack_at;
	tcp_timer(&A.cb, now);
	ck_assert(A.cb.in_recovery);
	ck_assert_int_eq(A.nout, sent + 1);
	ck_assert_uint_eq(A.out[sent].seq, base + 2000);
	ck_assert_uint_eq(A.out[sent].len, 2000);
	A.taken = sent;
	settle(&A, &B);
	expect_received(&B, data, sizeof(data));
}
END_TEST

START_TEST(test_no_fast_recovery_on_top_of_a_timeout)
{
	/* 8 segments; the first two are lost, and the ACKs for the rest
	 * too: the timeout halves the window and sends the first one again.
	 * Its ACK (a round trip later, SACKing the six) shows the second
	 * missing, but that one goes again anyway as the timeout's
	 * recovery goes on: no fast recovery halves the window again, and
	 * the six SACKed are not sent again */
	static uint8_t data[8000];
	handshake_rtt(10 * MS);
	int first = deliver_but(data, sizeof(data), 8, 3);
	B.taken = B.nout; /* their ACKs are lost */
	now = A.cb.rexmit_at;
	int sent = A.nout;
	tcp_timer(&A.cb, now);
	ck_assert_int_eq(A.nout, sent + 1);
	ck_assert_uint_eq(A.out[sent].seq, A.out[first].seq);
	ck_assert_uint_eq(A.cb.ssthresh, 4000);
	A.taken = A.nout;
	now += 5 * MS;
	deliver_nth(&A, &B, sent);
	now += 5 * MS;
	int before = A.nout;
	acks_to_a();
	ck_assert(!A.cb.in_recovery);
	ck_assert_uint_eq(A.cb.counts.recoveries, 0);
	ck_assert_uint_eq(A.cb.ssthresh, 4000);
	/* the second again, and not the six B has */
	ck_assert_int_eq(A.nout, before + 1);
	ck_assert_uint_eq(A.out[before].seq, A.out[first + 1].seq);
	ck_assert_uint_eq(A.out[before].len, 1000);
	settle(&A, &B);
	flush_acks(&A, &B);
	expect_received(&B, data, sizeof(data));
	ck_assert_uint_eq(A.cb.counts.rto_recoveries, 1);
}
END_TEST

/* ---- timestamps (RFC 7323) ---- */

START_TEST(test_timestamps_are_taken_up_and_echoed)
{
	static uint8_t data[4000];
	wire_ts = 1;
	now = 1000 * MS;
	handshake(1000, 1000);
	ck_assert(A.cb.ts_ok && B.cb.ts_ok);
	ck_assert(B.out[0].opts.ts); /* the SYN-ACK */
	ck_assert_uint_eq(B.out[0].opts.tsecr, 1000);
	A.cb.nodelay = 1;
	now += 7 * MS;
	fill(data, sizeof(data), 1);
	int first = A.nout;
	tcp_send(&A.cb, data, sizeof(data), now);
	/* every segment carries them, which leaves 988 bytes for data */
	ck_assert_int_eq(A.nout - first, 5);
	for (int i = first; i < A.nout; i++) {
		ck_assert(A.out[i].opts.ts);
		ck_assert_uint_le(A.out[i].len, 1000 - 12);
	}
	now += 3 * MS;
	int acks = B.nout;
	settle(&A, &B);
	ck_assert_int_gt(B.nout, acks);
	for (int i = acks; i < B.nout; i++) {
		ck_assert(B.out[i].opts.ts);
		ck_assert_uint_eq(B.out[i].opts.tsecr, 1007); /* A's */
		ck_assert_uint_eq(B.out[i].opts.tsval, 1010);
	}
	ck_assert_uint_eq(A.cb.ts_recent, 1010);
	expect_received(&B, data, sizeof(data));
	/* a peer that does not send them gets none */
	teardown_end(&A);
	setup(&A, 4, 4, 1000);
	struct tcp_seg syn = seg_in(100, 0, TCP_SYN, 65535, NULL, 0);
	tcp_accept_syn(&A.cb, &syn, 1, now);
	ck_assert(!A.cb.ts_ok && !A.out[0].opts.ts);
}
END_TEST

START_TEST(test_paws_drops_an_old_duplicate)
{
	/* data stamped before the latest segment B took is an old
	 * duplicate (its sequence numbers may have wrapped): dropped, and
	 * answered with an ACK, not taken */
	static uint8_t data[1000], old[500];
	wire_ts = 1;
	now = 5000 * MS;
	handshake(1000, 1000);
	A.cb.nodelay = 1;
	fill(data, sizeof(data), 2);
	tcp_send(&A.cb, data, 500, now);
	settle(&A, &B);
	ck_assert_uint_eq(B.cb.ts_recent, 5000);
	uint32_t next = B.cb.rcv_nxt;
	fill(old, sizeof(old), 9);
	struct tcp_seg dup =
		seg_in(next, A.cb.rcv_nxt, TCP_ACK, 65535 >> 7, old, 500);
	dup.ts = 1;
	dup.tsval = 4000; /* a second before */
	int acks = B.nout;
	tcp_input(&B.cb, &dup, now);
	ck_assert_uint_eq(B.cb.rcv_nxt, next);
	ck_assert_uint_eq(B.cb.counts.paws_drops, 1);
	ck_assert_int_eq(B.nout, acks + 1);
	ck_assert_uint_eq(B.out[acks].ack, next);
	/* the real data, stamped later, is taken */
	now += MS;
	tcp_send(&A.cb, data + 500, 500, now);
	settle(&A, &B);
	expect_received(&B, data, sizeof(data));
	/* after 24 days without a word the value is stale (the peer's
	 * clock may have passed half its range): an earlier stamp is
	 * taken, and becomes the one to echo */
	flush_acks(&A, &B);
	now += TCP_PAWS_IDLE;
	next = B.cb.rcv_nxt;
	struct tcp_seg late =
		seg_in(next, A.cb.rcv_nxt, TCP_ACK, 65535 >> 7, old, 500);
	late.ts = 1;
	late.tsval = 3000;
	tcp_input(&B.cb, &late, now);
	ck_assert_uint_eq(B.cb.rcv_nxt, next + 500);
	ck_assert_uint_eq(B.cb.counts.paws_drops, 1);
	ck_assert_uint_eq(B.cb.ts_recent, 3000);
}
END_TEST

START_TEST(test_three_sack_blocks_with_timestamps)
{
	/* timestamps take 12 of the 40 bytes: three blocks fit, not four */
	static uint8_t data[8 * 500];
	wire_ts = 1;
	handshake(500, 500);
	A.cb.nodelay = 1;
	A.cb.cwnd = sizeof(data);
	fill(data, sizeof(data), 3);
	int first = A.nout;
	tcp_send(&A.cb, data, sizeof(data), now);
	A.taken = A.nout;
	int acks = B.nout;
	for (int i = first + 1; i < A.nout; i += 2)
		deliver_nth(&A, &B, i); /* four ranges held */
	ck_assert_int_eq(B.cb.nooo, 4);
	const struct seg *ack = &B.out[B.nout - 1];
	ck_assert_int_gt(B.nout, acks);
	ck_assert(ack->opts.ts);
	ck_assert_uint_eq(ack->opts.nsack, 3);
}
END_TEST

START_TEST(test_limited_transmit_sends_new_data_on_the_first_duplicates)
{
	static uint8_t data[8 * 1000];
	/* four: what the window allows */
	uint32_t base = burst(1, data, sizeof(data), 4000, 4);
	drop(&A);
	pass(&A, &B);
	pass(&A, &B);
	int sent = A.nout;
	pass(&B, &A); /* the first duplicate: one new segment */
	ck_assert_int_eq(A.nout, sent + 1);
	ck_assert_uint_eq(A.out[sent].seq, base + 4000);
	pass(&B, &A); /* the second: another */
	ck_assert_int_eq(A.nout, sent + 2);
	ck_assert_uint_eq(A.out[sent + 1].seq, base + 5000);
	ck_assert(!A.cb.in_recovery);
	settle(&A, &B); /* their duplicates start recovery */
	ck_assert_uint_eq(A.out[sent + 2].seq, base);
	ck_assert_uint_eq(A.cb.snd_una, base + sizeof(data));
	expect_received(&B, data, sizeof(data));
}
END_TEST

/* A connected to B, whose receive ring holds 4 KiB. */
static void handshake_small_window(void)
{
	setup(&A, 4, 4, 1460);
	setup(&B, 4, 1, 1460);
	tcp_connect(&A.cb, 1, now);
	struct tcp_seg syn = as_input(&A.out[0]);
	A.taken = 1;
	tcp_accept_syn(&B.cb, &syn, 2, now);
	settle(&A, &B);
}

START_TEST(test_zero_window_and_probe)
{
	static uint8_t data[10000], back[10000];
	handshake_small_window();
	fill(data, sizeof(data), 9);
	tcp_send(&A.cb, data, sizeof(data), now);
	settle(&A, &B);
	flush_acks(&A, &B);
	/* full, but for less than the window's unit (1 << 7) */
	ck_assert_uint_gt(B.cb.rcv.len, 4096 - 128);
	ck_assert_uint_eq(A.cb.snd_wnd, 0);
	ck_assert_uint_ne(A.cb.persist_at, 0);
	/* the probe gets an answer with the same closed window */
	now = A.cb.persist_at;
	tcp_timer(&A.cb, now);
	settle(&A, &B);
	ck_assert_uint_eq(A.cb.snd_wnd, 0);
	/* the program reads: a window update, the rest flows */
	uint32_t got = 0;
	while (got < sizeof(data)) {
		uint32_t n =
			tcp_recv(&B.cb, back + got, sizeof(back) - got, now);
		if (!n) {
			now = A.cb.persist_at ? A.cb.persist_at : now + MS;
			tcp_timer(&A.cb, now);
		}
		got += n;
		settle(&A, &B);
		flush_acks(&A, &B);
	}
	ck_assert(memcmp(back, data, sizeof(data)) == 0);
}
END_TEST

START_TEST(test_reordering_and_old_segments)
{
	static uint8_t data[3000], back[3000];
	handshake(1000, 1000);
	A.cb.nodelay = 1;
	fill(data, sizeof(data), 5);
	tcp_send(&A.cb, data, sizeof(data), now);
	ck_assert_int_eq(A.nout - A.taken, 3);
	struct seg first = A.out[A.taken];
	struct tcp_seg s2 = as_input(&A.out[A.taken + 2]);
	struct tcp_seg s1 = as_input(&A.out[A.taken + 1]);
	tcp_input(&B.cb, &s2, now); /* the third, then the second */
	tcp_input(&B.cb, &s1, now);
	ck_assert_uint_eq(B.cb.rcv.len, 0); /* nothing in order yet */
	ck_assert_int_eq(B.cb.nooo, 1);	    /* one range: the two touch */
	ck_assert_uint_eq(B.cb.ooo[0].seq, s1.seq);
	ck_assert_uint_eq(B.cb.ooo[0].len, 2000);
	struct tcp_seg s0 = as_input(&first);
	tcp_input(&B.cb, &s0, now);
	ck_assert_uint_eq(B.cb.rcv.len, 3000);
	ck_assert_int_eq(B.cb.nooo, 0);
	ck_assert_uint_eq(tcp_recv(&B.cb, back, sizeof(back), now), 3000);
	ck_assert(memcmp(back, data, sizeof(data)) == 0);
	/* an old duplicate: acknowledged, nothing taken */
	int before = B.nout;
	tcp_input(&B.cb, &s1, now);
	ck_assert_uint_eq(B.cb.rcv.len, 0);
	ck_assert_int_eq(B.nout, before + 1);
	ck_assert_uint_eq(B.out[before].ack, B.cb.rcv_nxt);
	/* an ACK of what was never sent: answered with an ACK */
	struct tcp_seg future = seg_in(B.cb.rcv_nxt, A.cb.snd_max + 1000,
				       TCP_ACK, 1000, NULL, 0);
	before = A.nout;
	uint32_t una = A.cb.snd_una;
	tcp_input(&A.cb, &future, now);
	ck_assert_uint_eq(A.cb.snd_una, una);
	ck_assert_int_eq(A.nout, before + 1);
	/* far outside the window: an ACK, no state change */
	struct tcp_seg far = seg_in(B.cb.rcv_nxt + 1000000, A.cb.snd_nxt,
				    TCP_ACK, 1000, data, 10);
	before = B.nout;
	tcp_input(&B.cb, &far, now);
	ck_assert_int_eq(B.cb.state, TCP_ESTABLISHED);
	ck_assert_int_eq(B.nout, before + 1);
}
END_TEST

/* A segment whose payload lies in parts, as a big frame does in the
 * receive buffers it spans: taken in order, out of order, and trimmed of
 * what was had already across the parts' edges. */
START_TEST(test_a_payload_in_parts_is_taken_as_it_lies)
{
	/* the parts lie in (want); (data) has only the bytes before them */
	static uint8_t want[5000], data[5000];
	fill(want, sizeof(want), 9);
	memset(data, 0xee, sizeof(data));
	memcpy(data + 3000, want + 3000, 300);
	memcpy(data, want, 1000);
	handshake(1000, 1000);
	uint32_t base = B.cb.rcv_nxt, ack = B.cb.snd_nxt;
	/* bytes 3000-4999, out of order: 300 at (data), then two parts */
	const struct tcp_part late[] = {{want + 3300, 1200},
					{want + 4500, 500}};
	struct tcp_seg s =
		seg_in(base + 3000, ack, TCP_ACK, 1000, data + 3000, 2000);
	s.more = late;
	s.nmore = 2;
	tcp_input(&B.cb, &s, now);
	ck_assert_uint_eq(B.cb.rcv.len, 0);
	ck_assert_int_eq(B.cb.nooo, 1);
	ck_assert_uint_eq(B.cb.ooo[0].len, 2000);
	/* bytes 0-999, whole */
	s = seg_in(base, ack, TCP_ACK, 1000, data, 1000);
	tcp_input(&B.cb, &s, now);
	ck_assert_uint_eq(B.cb.rcv.len, 1000);
	/* bytes 500-2999: the first 500 are had, 100 at (data) and 400 of
	 * the first part; an empty part on the way */
	const struct tcp_part mid[] = {
		{want + 600, 1000}, {want + 1600, 0}, {want + 1600, 1400}};
	s = seg_in(base + 500, ack, TCP_ACK, 1000, data + 500, 2500);
	s.more = mid;
	s.nmore = 3;
	tcp_input(&B.cb, &s, now);
	ck_assert_int_eq(B.cb.nooo, 0);
	ck_assert_uint_eq(B.cb.rcv_nxt, base + 5000);
	expect_received(&B, want, 5000);
}
END_TEST

/* A program's read copies received data itself, page by page
 * (tcp_ring_span), then consumes it (tcp_recv without a buffer). */
START_TEST(test_received_data_is_read_in_place)
{
	static uint8_t data[6000], back[6000];
	fill(data, sizeof(data), 3);
	handshake(1000, 1000);
	A.cb.nodelay = 1;
	tcp_send(&A.cb, data, 3000, now);
	settle(&A, &B);
	ck_assert_uint_eq(tcp_recv(&B.cb, back, 1000, now), 1000);
	tcp_send(&A.cb, data + 3000, 3000, now);
	settle(&A, &B);
	/* 5000 bytes from offset 1000 of a ring of 4 pages: 3096 to the
	 * end of the first page, then 1904 */
	ck_assert_uint_eq(B.cb.rcv.len, 5000);
	uint32_t got = 0;
	while (got < 5000) {
		uint32_t k = 5000 - got;
		const uint8_t *p = tcp_ring_span(&B.cb.rcv, got, &k);
		ck_assert_uint_le(k, TCP_PAGE);
		ck_assert_uint_eq(k, got == 0 ? TCP_PAGE - 1000 : 5000 - got);
		memcpy(back + got, p, k);
		got += k;
	}
	ck_assert(memcmp(back, data + 1000, 5000) == 0);
	ck_assert_uint_eq(tcp_recv(&B.cb, NULL, 5000, now), 5000);
	ck_assert_uint_eq(B.cb.rcv.len, 0);
}
END_TEST

START_TEST(test_nagle_holds_small_segments)
{
	handshake(1460, 1460);
	tcp_send(&A.cb, "a", 1, now);
	ck_assert_int_eq(A.nout - A.taken, 1);
	tcp_send(&A.cb, "b", 1, now); /* held: "a" is unacknowledged */
	ck_assert_int_eq(A.nout - A.taken, 1);
	pass(&A, &B);
	now += TCP_DELACK;
	tcp_timer(&B.cb, now);
	pass(&B, &A); /* the ACK releases "b" */
	ck_assert_int_eq(A.nout - A.taken, 1);
	ck_assert_uint_eq(A.out[A.taken].data[0], 'b');
	A.cb.nodelay = 1;
	tcp_send(&A.cb, "c", 1, now);
	ck_assert_int_eq(A.nout - A.taken, 2); /* TCP_NODELAY: at once */
}
END_TEST

START_TEST(test_syn_retries_end_in_timeout)
{
	setup(&A, 4, 4, 1460);
	tcp_connect(&A.cb, 1, now);
	for (int i = 0; i < 20 && A.cb.state == TCP_SYN_SENT; i++) {
		now = A.cb.rexmit_at;
		tcp_timer(&A.cb, now);
	}
	ck_assert_int_eq(A.cb.state, TCP_CLOSED);
	ck_assert_int_eq(A.cb.error, ETIMEDOUT);
	ck_assert_int_eq(A.nout, 1 + TCP_SYN_RETRIES);
}
END_TEST

/* Keepalive turned on for an established, idle connection: its timer is
 * armed at once (the kernel runs a connection's timers only when one is
 * due), a probe goes out after keep_idle, an answer restarts the count,
 * and keep_cnt probes unanswered end the connection. Timers run only
 * when tcp_next_timer says, as the kernel runs them. */
START_TEST(test_keepalive)
{
	handshake(1460, 1460);
	now += 50 * MS; /* idle before, which does not count */
	A.cb.keep_idle = 10 * MS;
	A.cb.keep_intvl = 5 * MS;
	A.cb.keep_cnt = 3;
	ck_assert_uint_eq(tcp_next_timer(&A.cb), UINT64_MAX);
	tcp_keepalive_set(&A.cb, 1, now);
	ck_assert_uint_eq(tcp_next_timer(&A.cb), now + 10 * MS);
	now = tcp_next_timer(&A.cb);
	tcp_timer(&A.cb, now);
	ck_assert_int_eq(A.nout - A.taken, 1); /* a probe */
	ck_assert_uint_eq(A.out[A.taken].seq, A.cb.snd_una - 1);
	pass(&A, &B);
	pass(&B, &A); /* answered: the connection lives */
	ck_assert_int_eq(A.cb.keep_probes, 0);
	ck_assert_uint_eq(tcp_next_timer(&A.cb), now + 10 * MS);
	for (int i = 0; i < 10 && A.cb.state == TCP_ESTABLISHED; i++) {
		now = tcp_next_timer(&A.cb);
		tcp_timer(&A.cb, now);
	}
	ck_assert_int_eq(A.cb.state, TCP_CLOSED);
	ck_assert_int_eq(A.cb.error, ETIMEDOUT);
	ck_assert_int_eq(A.nout - A.taken, 4); /* the first, and 3 more */
}
END_TEST

START_TEST(test_keepalive_off_stops_its_timer)
{
	handshake(1460, 1460);
	tcp_keepalive_set(&A.cb, 1, now);
	ck_assert_uint_ne(tcp_next_timer(&A.cb), UINT64_MAX);
	tcp_keepalive_set(&A.cb, 0, now);
	ck_assert_uint_eq(tcp_next_timer(&A.cb), UINT64_MAX);
}
END_TEST

/* TCP_CORK: nothing smaller than a segment goes, even with nothing in
 * flight, until the cork comes off or 200 ms have passed. */
START_TEST(test_a_cork_holds_small_segments)
{
	static uint8_t data[4000];
	handshake(1460, 1460);
	tcp_cork_set(&A.cb, 1, now);
	ck_assert_uint_eq(tcp_send(&A.cb, "abc", 3, now), 3);
	ck_assert_int_eq(A.nout - A.taken, 0);
	uint64_t held = now;
	ck_assert_uint_eq(tcp_next_timer(&A.cb), held + TCP_CORK_MAX);
	/* a whole segment's worth more: whole ones go, the rest waits */
	fill(data, sizeof(data), 1);
	now += 10 * MS;
	tcp_send(&A.cb, data, 1500, now);
	ck_assert_int_eq(A.nout - A.taken, 1);
	uint32_t whole = A.out[A.taken].len;
	ck_assert_uint_eq(whole, A.cb.mss - tcp_opts_len(&A.out[A.taken].opts));
	settle(&A, &B);
	flush_acks(&A, &B);
	int before = A.nout;
	ck_assert_uint_eq(tcp_next_timer(&A.cb), held + TCP_CORK_MAX);
	now = held + TCP_CORK_MAX;
	tcp_timer(&A.cb, now);
	ck_assert_int_eq(A.nout - before, 1); /* the rest, at last */
	ck_assert_uint_eq(A.out[before].len, 1503 - whole);
	settle(&A, &B);
	/* taking the cork off sends at once */
	tcp_send(&A.cb, "tail", 4, now);
	ck_assert_int_eq(A.nout - A.taken, 0);
	tcp_cork_set(&A.cb, 0, now);
	ck_assert_int_eq(A.nout - A.taken, 1);
	ck_assert_uint_eq(A.out[A.taken].len, 4);
}
END_TEST

/* TCP_USER_TIMEOUT: a peer that stops answering ends the connection
 * (ETIMEDOUT) that long after the data went, not after the retries. */
START_TEST(test_user_timeout_ends_a_stalled_connection)
{
	handshake(1460, 1460);
	A.cb.user_timeout = 1000 * MS;
	uint64_t sent = now;
	tcp_send(&A.cb, "lost", 4, now);
	for (int i = 0; i < 100 && A.cb.state != TCP_CLOSED; i++) {
		now = tcp_next_timer(&A.cb);
		tcp_timer(&A.cb, now);
	}
	ck_assert_int_eq(A.cb.state, TCP_CLOSED);
	ck_assert_int_eq(A.cb.error, ETIMEDOUT);
	ck_assert_uint_eq(now, sent + 1000 * MS);
}
END_TEST

/* TCP_USER_TIMEOUT counts a window kept closed too: probes the peer
 * answers with a zero window end the connection once that long has
 * passed since the first; without it they go on. */
START_TEST(test_user_timeout_ends_a_window_closed_too_long)
{
	static uint8_t data[10000];
	for (int timeout = 0; timeout < 2; timeout++) {
		if (timeout) { /* the fixture's teardown frees the last */
			teardown_end(&A);
			teardown_end(&B);
		}
		handshake_small_window();
		A.cb.user_timeout = timeout ? 3000 * MS : 0;
		tcp_send(&A.cb, data, sizeof(data), now);
		settle(&A, &B);
		flush_acks(&A, &B);
		ck_assert_uint_eq(A.cb.snd_wnd, 0);
		uint64_t first = A.cb.persist_at;
		for (int i = 0; i < 40 && A.cb.state != TCP_CLOSED; i++) {
			now = A.cb.persist_at;
			tcp_timer(&A.cb, now);
			settle(&A, &B); /* B answers: still closed */
			tcp_timer(&B.cb, now);
			settle(&A, &B);
		}
		if (timeout) {
			ck_assert_int_eq(A.cb.state, TCP_CLOSED);
			ck_assert_int_eq(A.cb.error, ETIMEDOUT);
			ck_assert_uint_ge(now - first, 3000 * MS);
		} else {
			ck_assert_int_eq(A.cb.state, TCP_ESTABLISHED);
		}
	}
}
END_TEST

/* TCP_SYNCNT: that many SYNs again, then ETIMEDOUT. */
START_TEST(test_syn_retries_as_set)
{
	setup(&A, 4, 4, 1460);
	A.cb.syn_retries = 2;
	tcp_connect(&A.cb, 1, now);
	for (int i = 0; i < 10 && A.cb.state != TCP_CLOSED; i++) {
		now = tcp_next_timer(&A.cb);
		tcp_timer(&A.cb, now);
	}
	ck_assert_int_eq(A.cb.state, TCP_CLOSED);
	ck_assert_int_eq(A.cb.error, ETIMEDOUT);
	ck_assert_int_eq(A.nout, 3);
}
END_TEST

START_TEST(test_options)
{
	struct tcp_seg s;
	const uint8_t good[] = {2,  4, 0x05, 0xb4, 1, 3, 3, 7, 4, 2, 8,
				10, 0, 0,    0,	   0, 0, 0, 0, 0, 0, 0};
	ck_assert_int_eq(tcp_parse_options(good, sizeof(good), &s), 0);
	ck_assert_uint_eq(s.mss, 1460);
	ck_assert_int_eq(s.wscale, 7);
	const uint8_t huge_scale[] = {3, 3, 200, 0};
	ck_assert_int_eq(tcp_parse_options(huge_scale, 4, &s), 0);
	ck_assert_int_eq(s.wscale, 14); /* RFC 7323 2.3: at most 14 */
	const uint8_t tiny_mss[] = {2, 4, 0, 1};
	ck_assert_int_eq(tcp_parse_options(tiny_mss, 4, &s), 0);
	ck_assert_uint_eq(s.mss, 64);
	/* lengths that run off the header, or are too short to move on */
	const uint8_t runs_off[] = {2, 40, 1, 2};
	const uint8_t zero_len[] = {8, 0, 1, 1};
	const uint8_t cut[] = {2};
	ck_assert_int_eq(tcp_parse_options(runs_off, 4, &s), -1);
	ck_assert_int_eq(tcp_parse_options(zero_len, 4, &s), -1);
	ck_assert_int_eq(tcp_parse_options(cut, 1, &s), -1);
	/* end of options stops the walk */
	const uint8_t eol[] = {0, 2, 40};
	ck_assert_int_eq(tcp_parse_options(eol, 3, &s), 0);
	ck_assert_uint_eq(s.mss, 0);
	/* SACK: permitted, and blocks (at most four are kept) */
	const uint8_t sack[] = {1, 1, 4, 2,  1, 1, 5, 18, 0, 0, 0, 10,
				0, 0, 0, 20, 0, 0, 1, 0,  0, 0, 1, 16};
	ck_assert_int_eq(tcp_parse_options(sack, sizeof(sack), &s), 0);
	ck_assert(s.sack_permitted);
	ck_assert_uint_eq(s.nsack, 2);
	ck_assert_uint_eq(s.sack[0].seq, 10);
	ck_assert_uint_eq(s.sack[0].len, 10);
	ck_assert_uint_eq(s.sack[1].seq, 256);
	ck_assert_uint_eq(s.sack[1].len, 16);
	const uint8_t bad_sack[] = {5, 7, 0, 0, 0, 1, 0};
	ck_assert_int_eq(tcp_parse_options(bad_sack, 7, &s), 0);
	ck_assert_uint_eq(s.nsack, 0); /* not a whole number of blocks */
	/* what we write reads back the same: a SYN's, and four blocks */
	const struct tcp_opts syn = {
		.mss = 1460, .wscale = 7, .sack_permitted = 1};
	const struct tcp_opts blocks = {
		.wscale = -1,
		.nsack = 4,
		.sack = {{1, 2}, {0xfffffff0u, 0x20}, {5, 6}, {7, 8}}};
	uint8_t buf[40];
	ck_assert_uint_eq(tcp_write_options(&syn, buf), 12);
	ck_assert_uint_eq(tcp_opts_len(&syn), 12);
	ck_assert_int_eq(tcp_parse_options(buf, 12, &s), 0);
	ck_assert(s.mss == 1460 && s.wscale == 7 && s.sack_permitted &&
		  !s.nsack);
	ck_assert_uint_eq(tcp_write_options(&blocks, buf), 36);
	ck_assert_uint_eq(tcp_opts_len(&blocks), 36);
	ck_assert_int_eq(tcp_parse_options(buf, 36, &s), 0);
	ck_assert(!s.mss && s.wscale == -1 && !s.sack_permitted);
	ck_assert_uint_eq(s.nsack, 4);
	ck_assert(memcmp(s.sack, blocks.sack, sizeof(s.sack)) == 0);
	ck_assert(!s.ts);
	/* timestamps, with three blocks: 40 bytes */
	const struct tcp_opts stamped = {.wscale = -1,
					 .nsack = 3,
					 .sack = {{1, 2}, {3, 4}, {5, 6}},
					 .ts = 1,
					 .tsval = 0x01020304u,
					 .tsecr = 0xfffffffeu};
	ck_assert_uint_eq(tcp_opts_len(&stamped), 40);
	ck_assert_uint_eq(tcp_write_options(&stamped, buf), 40);
	ck_assert_int_eq(tcp_parse_options(buf, 40, &s), 0);
	ck_assert(s.ts && s.tsval == 0x01020304u && s.tsecr == 0xfffffffeu);
	ck_assert_uint_eq(s.nsack, 3);
	const uint8_t bad_ts[] = {8, 9, 0, 0, 0, 1, 0, 0, 0, 1};
	ck_assert_int_eq(tcp_parse_options(bad_ts, 10, &s), 0);
	ck_assert(!s.ts); /* the wrong length: ignored */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tcp");
	TCase *t = tcase_create("tcp");
	tcase_add_checked_fixture(t, NULL, teardown);
	tcase_add_test(t, test_handshake_negotiates_options);
	tcase_add_test(t, test_the_mib_counts_opens_segments_and_ends);
	tcase_add_test(t, test_data_both_ways);
	tcase_add_test(t, test_a_batch_of_segments_earns_one_ack);
	tcase_add_test(t, test_big_frames_are_acknowledged_in_pairs);
	tcase_add_test(t, test_window_never_exceeds_the_buffer);
	tcase_add_test(t,
		       test_rings_take_pages_as_data_comes_and_give_them_back);
	tcase_add_test(t, test_data_without_pages_is_not_taken);
	tcase_add_test(t, test_window_update_without_window_scale);
	tcase_add_test(t, test_orderly_close);
	tcase_add_test(t, test_close_after_the_peer_delivers_queued_data);
	tcase_add_test(t, test_simultaneous_open_and_close);
	tcase_add_test(t, test_resets);
	tcase_add_test(t, test_icmp_errors);
	tcase_add_test(
		t, test_an_orphan_in_fin_wait_2_gives_up_after_the_fin_timeout);
	tcase_add_test(
		t, test_fragmentation_needed_cuts_segments_and_resends_at_once);
	tcase_add_test(t, test_retransmission_timeout_and_backoff);
	tcase_add_test(t, test_rtt_estimate);
	tcase_add_test(t, test_fast_retransmit_and_newreno_recovery);
	tcase_add_test(t, test_sack_blocks_report_held_data_newest_first);
	tcase_add_test(t, test_no_sack_blocks_unless_negotiated);
	tcase_add_test(t, test_sack_recovery_resends_every_hole_at_once);
	tcase_add_test(t, test_sack_blocks_outside_the_flight_are_ignored);
	tcase_add_test(t, test_held_ranges_are_bounded);
	tcase_add_test(
		t, test_tail_loss_probe_turns_a_lost_tail_into_fast_recovery);
	tcase_add_test(
		t,
		test_limited_transmit_sends_new_data_on_the_first_duplicates);
	tcase_add_test(t, test_rack_waits_out_reordering_once_seen);
	tcase_add_test(
		t, test_rack_resends_a_lost_retransmission_without_a_timeout);
	tcase_add_test(t, test_rack_timer_finds_a_loss_too_few_sacks_show);
	tcase_add_test(t, test_rack_tables_stay_bounded);
	tcase_add_test(t, test_a_lost_burst_goes_again_in_one);
	tcase_add_test(t, test_no_fast_recovery_on_top_of_a_timeout);
	tcase_add_test(t, test_timestamps_are_taken_up_and_echoed);
	tcase_add_test(t, test_paws_drops_an_old_duplicate);
	tcase_add_test(t, test_three_sack_blocks_with_timestamps);
	tcase_add_test(t, test_zero_window_and_probe);
	tcase_add_test(t, test_reordering_and_old_segments);
	tcase_add_test(t, test_a_payload_in_parts_is_taken_as_it_lies);
	tcase_add_test(t, test_received_data_is_read_in_place);
	tcase_add_test(t, test_nagle_holds_small_segments);
	tcase_add_test(t, test_syn_retries_end_in_timeout);
	tcase_add_test(t, test_keepalive);
	tcase_add_test(t, test_keepalive_off_stops_its_timer);
	tcase_add_test(t, test_options);
	tcase_add_test(t, test_a_cork_holds_small_segments);
	tcase_add_test(t, test_user_timeout_ends_a_stalled_connection);
	tcase_add_test(t, test_user_timeout_ends_a_window_closed_too_long);
	tcase_add_test(t, test_syn_retries_as_set);
	tcase_add_test(t, test_a_duplicate_is_reported_once_with_a_dsack);
	tcase_add_test(t, test_a_recovery_dsacks_prove_spurious_is_undone);
	tcase_add_test(t, test_a_recovery_of_real_losses_stays);
	tcase_add_test(t,
		       test_ends_that_disagree_do_not_ack_each_other_forever);
	suite_add_tcase(s, t);
	return unit_run(s);
}
