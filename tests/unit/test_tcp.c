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
};

struct end {
	struct tcp_cb cb;
	uint8_t *sp[4], *rp[4];
	struct seg out[SEGS];
	int nout, taken; /* segments sent, and delivered or dropped */
	int events;
};

static uint64_t now;

static void output(struct tcp_cb *cb, uint32_t seq, uint32_t ack, uint8_t flags,
		   uint16_t wnd, int mss, int wscale, uint32_t off,
		   uint32_t len)
{
	struct end *e = cb->owner;
	ck_assert_int_lt(e->nout, SEGS);
	struct seg *s = &e->out[e->nout++];
	*s = (struct seg){seq, ack, flags, wnd, mss, wscale, len, {0}};
	ck_assert_uint_le(len, sizeof(s->data));
	if (len)
		tcp_ring_peek(&cb->snd, off, s->data, len);
}

static void event(struct tcp_cb *cb)
{
	((struct end *)cb->owner)->events++;
}

static const struct tcp_ops ops = {output, event};

static void setup(struct end *e, uint32_t snd_pages, uint32_t rcv_pages,
		  uint16_t mss)
{
	memset(e, 0, sizeof(*e));
	for (uint32_t i = 0; i < snd_pages; i++)
		e->sp[i] = calloc(1, TCP_PAGE);
	for (uint32_t i = 0; i < rcv_pages; i++)
		e->rp[i] = calloc(1, TCP_PAGE);
	e->cb.snd = (struct tcp_ring){e->sp, snd_pages, 0, 0};
	e->cb.rcv = (struct tcp_ring){e->rp, rcv_pages, 0, 0};
	tcp_init(&e->cb, &ops, e, mss);
}

static void teardown_end(struct end *e)
{
	for (int i = 0; i < 4; i++) {
		free(e->sp[i]);
		free(e->rp[i]);
	}
}

static struct tcp_seg as_input(const struct seg *s)
{
	return (struct tcp_seg){s->seq,
				s->ack,
				s->flags,
				s->wnd,
				(uint16_t)(s->mss > 0 ? s->mss : 0),
				(int8_t)s->wscale,
				s->data,
				s->len};
}

/* Deliver the next undelivered segment of (from) to (to): 1, or 0 if
 * there is none. */
static int pass(struct end *from, struct end *to)
{
	if (from->taken == from->nout)
		return 0;
	struct tcp_seg in = as_input(&from->out[from->taken++]);
	tcp_input(&to->cb, &in, now);
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

/* A connects to B (B answers as a listener would). */
static void handshake(uint16_t mss_a, uint16_t mss_b)
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
	tcp_accept_syn(&B.cb, &syn, 5000, now);
	ck_assert_int_eq(B.cb.state, TCP_SYN_RCVD);
	ck_assert_uint_eq(B.out[0].flags, TCP_SYN | TCP_ACK);
	ck_assert_uint_eq(B.out[0].ack, 1001);
	pass(&B, &A);
	ck_assert_int_eq(A.cb.state, TCP_ESTABLISHED);
	pass(&A, &B);
	ck_assert_int_eq(B.cb.state, TCP_ESTABLISHED);
}

static void teardown(void)
{
	teardown_end(&A);
	teardown_end(&B);
	now = 0;
}

static void fill(uint8_t *p, uint32_t n, uint32_t seed)
{
	for (uint32_t i = 0; i < n; i++)
		p[i] = (uint8_t)((seed + i) * 31 + (i >> 8));
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
	struct tcp_seg rst = {A.cb.rcv_nxt + 10, 0, TCP_RST, 0, 0, -1, NULL, 0};
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
	struct tcp_seg bad = {0, 7, TCP_RST | TCP_ACK, 0, 0, -1, NULL, 0};
	tcp_input(&A.cb, &bad, now); /* does not acknowledge the SYN */
	ck_assert_int_eq(A.cb.state, TCP_SYN_SENT);
	struct tcp_seg refuse = {0, 1001, TCP_RST | TCP_ACK, 0, 0, -1, NULL, 0};
	tcp_input(&A.cb, &refuse, now);
	ck_assert_int_eq(A.cb.state, TCP_CLOSED);
	ck_assert_int_eq(A.cb.error, ECONNREFUSED);
	/* what a closed port answers */
	struct tcp_seg syn = {77, 0, TCP_SYN, 1000, 1460, -1, NULL, 0};
	uint32_t seq, ack;
	uint8_t flags;
	ck_assert_int_eq(tcp_reset_for(&syn, &seq, &ack, &flags), 1);
	ck_assert_uint_eq(flags, TCP_RST | TCP_ACK);
	ck_assert_uint_eq(ack, 78);
	struct tcp_seg acked = {5, 99, TCP_ACK, 1000, 0, -1, NULL, 3};
	ck_assert_int_eq(tcp_reset_for(&acked, &seq, &ack, &flags), 1);
	ck_assert_uint_eq(flags, TCP_RST);
	ck_assert_uint_eq(seq, 99);
	ck_assert_int_eq(tcp_reset_for(&refuse, &seq, &ack, &flags), 0);
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

START_TEST(test_fast_retransmit_and_recovery)
{
	static uint8_t data[8 * 1000], back[8 * 1000];
	handshake(1000, 1000);
	fill(data, sizeof(data), 3);
	A.cb.nodelay = 1;
	tcp_send(&A.cb, data, sizeof(data), now);
	ck_assert_int_eq(A.nout - A.taken, 8);
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
	while (pass(&B, &A))
		;
	A.taken = sent;
	settle(&A, &B);
	ck_assert(!A.cb.in_recovery);
	ck_assert_uint_eq(A.cb.cwnd, A.cb.ssthresh);
	ck_assert_uint_eq(tcp_recv(&B.cb, back, sizeof(back), now),
			  sizeof(data));
	ck_assert(memcmp(back, data, sizeof(data)) == 0);
}
END_TEST

START_TEST(test_zero_window_and_probe)
{
	static uint8_t data[10000], back[10000];
	setup(&A, 4, 4, 1460);
	setup(&B, 4, 1, 1460); /* B can hold 4 KiB */
	tcp_connect(&A.cb, 1, now);
	struct tcp_seg syn = as_input(&A.out[0]);
	A.taken = 1;
	tcp_accept_syn(&B.cb, &syn, 2, now);
	settle(&A, &B);
	fill(data, sizeof(data), 9);
	tcp_send(&A.cb, data, sizeof(data), now);
	settle(&A, &B);
	flush_acks(&A, &B);
	ck_assert_uint_eq(B.cb.rcv.len, 4096); /* full */
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
	ck_assert_int_eq(B.cb.nooo, 2);
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
	struct tcp_seg future = {B.cb.rcv_nxt,
				 A.cb.snd_max + 1000,
				 TCP_ACK,
				 1000,
				 0,
				 -1,
				 NULL,
				 0};
	before = A.nout;
	uint32_t una = A.cb.snd_una;
	tcp_input(&A.cb, &future, now);
	ck_assert_uint_eq(A.cb.snd_una, una);
	ck_assert_int_eq(A.nout, before + 1);
	/* far outside the window: an ACK, no state change */
	struct tcp_seg far = {B.cb.rcv_nxt + 1000000,
			      A.cb.snd_nxt,
			      TCP_ACK,
			      1000,
			      0,
			      -1,
			      data,
			      10};
	before = B.nout;
	tcp_input(&B.cb, &far, now);
	ck_assert_int_eq(B.cb.state, TCP_ESTABLISHED);
	ck_assert_int_eq(B.nout, before + 1);
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

START_TEST(test_keepalive)
{
	handshake(1460, 1460);
	A.cb.keepalive = 1;
	A.cb.keep_idle = 10 * MS;
	A.cb.keep_intvl = 5 * MS;
	A.cb.keep_cnt = 3;
	now += 10 * MS;
	tcp_timer(&A.cb, now);
	ck_assert_int_eq(A.nout - A.taken, 1); /* a probe */
	ck_assert_uint_eq(A.out[A.taken].seq, A.cb.snd_una - 1);
	pass(&A, &B);
	pass(&B, &A); /* answered: the connection lives */
	ck_assert_int_eq(A.cb.keep_probes, 0);
	for (int i = 0; i < 10 && A.cb.state == TCP_ESTABLISHED; i++) {
		now += 5 * MS;
		tcp_timer(&A.cb, now);
	}
	ck_assert_int_eq(A.cb.state, TCP_CLOSED);
	ck_assert_int_eq(A.cb.error, ETIMEDOUT);
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
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tcp");
	TCase *t = tcase_create("tcp");
	tcase_add_checked_fixture(t, NULL, teardown);
	tcase_add_test(t, test_handshake_negotiates_options);
	tcase_add_test(t, test_data_both_ways);
	tcase_add_test(t, test_window_never_exceeds_the_buffer);
	tcase_add_test(t, test_orderly_close);
	tcase_add_test(t, test_close_after_the_peer_delivers_queued_data);
	tcase_add_test(t, test_simultaneous_open_and_close);
	tcase_add_test(t, test_resets);
	tcase_add_test(t, test_retransmission_timeout_and_backoff);
	tcase_add_test(t, test_rtt_estimate);
	tcase_add_test(t, test_fast_retransmit_and_recovery);
	tcase_add_test(t, test_zero_window_and_probe);
	tcase_add_test(t, test_reordering_and_old_segments);
	tcase_add_test(t, test_nagle_holds_small_segments);
	tcase_add_test(t, test_syn_retries_end_in_timeout);
	tcase_add_test(t, test_keepalive);
	tcase_add_test(t, test_options);
	suite_add_tcase(s, t);
	return unit_run(s);
}
