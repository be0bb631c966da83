/* tcp.c: the TCP state machine (see tcp.h). Section numbers refer to
 * RFC 9293 (3.10: event processing), RFC 6298 (the retransmission timer),
 * RFC 5681 and 6582 (congestion control, NewReno), RFC 7323 (window
 * scale), RFC 2018 and 6675 (SACK and the loss recovery built on it).
 */
#include "lib/tcp.h"
#include <linux/errno.h>
#include <string.h>

#define WSCALE_OURS 7
#define MAX_WINDOW 65535u

/* ---- rings ---- */

static void ring_copy(const struct tcp_ring *r, uint32_t pos, void *out,
		      const void *in, uint32_t n)
{
	uint32_t cap = tcp_ring_cap(r);
	while (n) {
		pos %= cap;
		uint32_t page = pos / TCP_PAGE, off = pos % TCP_PAGE;
		uint32_t k = TCP_PAGE - off < n ? TCP_PAGE - off : n;
		if (out) {
			memcpy(out, r->pages[page] + off, k);
			out = (uint8_t *)out + k;
		} else {
			memcpy(r->pages[page] + off, in, k);
			in = (const uint8_t *)in + k;
		}
		pos += k;
		n -= k;
	}
}

uint32_t tcp_ring_put(struct tcp_ring *r, const void *data, uint32_t n)
{
	uint32_t room = tcp_ring_cap(r) - r->len;
	if (n > room)
		n = room;
	ring_copy(r, r->head + r->len, NULL, data, n);
	r->len += n;
	return n;
}

void tcp_ring_peek(const struct tcp_ring *r, uint32_t off, void *out,
		   uint32_t n)
{
	ring_copy(r, r->head + off, out, NULL, n);
}

const uint8_t *tcp_ring_span(const struct tcp_ring *r, uint32_t off,
			     uint32_t *n)
{
	uint32_t pos = (r->head + off) % tcp_ring_cap(r);
	uint32_t in_page = TCP_PAGE - pos % TCP_PAGE;
	if (*n > in_page)
		*n = in_page;
	return r->pages[pos / TCP_PAGE] + pos % TCP_PAGE;
}

void tcp_ring_put_at(struct tcp_ring *r, uint32_t off, const void *data,
		     uint32_t n)
{
	ring_copy(r, r->head + r->len + off, NULL, data, n);
}

void tcp_ring_drop(struct tcp_ring *r, uint32_t n)
{
	if (n > r->len)
		n = r->len;
	if (n == 0)
		return; /* also for a ring with no pages (cap 0) */
	r->head = (r->head + n) % tcp_ring_cap(r);
	r->len -= n;
}

/* ---- helpers ---- */

static uint32_t max32(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

static uint32_t min32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* Pages for (n) bytes (off) bytes past the data of ring (r), within its
 * room, taken from the owner where missing: how many of the bytes have
 * one (fewer when memory ran out). */
static uint32_t ring_reserve(struct tcp_cb *cb, struct tcp_ring *r,
			     uint32_t off, uint32_t n)
{
	uint32_t cap = tcp_ring_cap(r), done = 0;
	if (off >= cap - r->len)
		return 0;
	n = min32(n, cap - r->len - off);
	while (done < n) {
		uint32_t pos = (r->head + r->len + off + done) % cap;
		uint8_t **page = &r->pages[pos / TCP_PAGE];
		if (!*page && cb->ops->page_get)
			*page = cb->ops->page_get(cb);
		if (!*page)
			break;
		done += min32(TCP_PAGE - pos % TCP_PAGE, n - done);
	}
	return done;
}

/* Ring (r), if empty, gives its pages back, unless it keeps them (a ring
 * grown for a burst would give back and take again all its pages each
 * time the reader catches up, which cost a bulk transfer two thirds of
 * its rate). The receive ring only without out-of-order data past its
 * end. Its head stays where it is. */
static void ring_release(struct tcp_cb *cb, struct tcp_ring *r)
{
	if (r->len || r->keep || !cb->ops->page_put)
		return;
	for (uint32_t i = 0; i < r->npages; i++)
		if (r->pages[i]) {
			cb->ops->page_put(cb, r->pages[i]);
			r->pages[i] = NULL;
		}
}

static uint32_t rcv_space(const struct tcp_cb *cb)
{
	return tcp_ring_cap(&cb->rcv) - cb->rcv.len;
}

/* The largest window the field holds at our scale. */
static uint32_t wnd_max(const struct tcp_cb *cb)
{
	return MAX_WINDOW << (cb->wscale_ok ? cb->rcv_wscale : 0);
}

/* The room we may announce: the ring's, up to that. */
static uint32_t rcv_offer(const struct tcp_cb *cb)
{
	return min32(rcv_space(cb), wnd_max(cb));
}

/* The window field we send, and the right edge it announces (which never
 * moves left: 3.8.6.2.2). */
static uint16_t wnd_field(struct tcp_cb *cb)
{
	uint32_t space = rcv_space(cb);
	uint32_t edge = cb->rcv_nxt + space;
	if (tcp_seq_lt(edge, cb->rcv_adv))
		space = cb->rcv_adv - cb->rcv_nxt;
	uint32_t scale = cb->wscale_ok ? cb->rcv_wscale : 0;
	uint32_t w = space >> scale;
	if (w > MAX_WINDOW)
		w = MAX_WINDOW;
	cb->rcv_adv = cb->rcv_nxt + (w << scale);
	return (uint16_t)w;
}

static const struct tcp_opts no_opts = {.wscale = -1};

/* The options of a segment that acknowledges: SACK blocks while we hold
 * out-of-order data (RFC 2018 4), the newest first, after a duplicate
 * just received (D-SACK, RFC 2883 4), reported once. */
static void ack_opts(const struct tcp_cb *cb, struct tcp_opts *o)
{
	*o = no_opts;
	o->ts = cb->ts_ok;
	o->tsecr = cb->ts_recent;
	if (!cb->sack_ok)
		return;
	/* with timestamps, three blocks fill the 40 bytes */
	int most = cb->ts_ok ? TCP_SACK_MAX - 1 : TCP_SACK_MAX;
	if (cb->dsack.len)
		o->sack[o->nsack++] = cb->dsack;
	for (int i = 0; i < cb->nooo && o->nsack < most; i++)
		o->sack[o->nsack++] = cb->ooo[i];
}

struct tcp_mib tcp_mib;

/* Send a segment, counted. Data below snd_max was sent before. */
static void out(struct tcp_cb *cb, uint32_t seq, uint32_t ack, uint8_t flags,
		uint16_t wnd, const struct tcp_opts *o, uint32_t off,
		uint32_t len)
{
	struct tcp_counts *c = &cb->counts;
	struct tcp_opts with_ts;
	if (cb->ts_ok && !o->ts && !(flags & (TCP_RST | TCP_SYN))) {
		/* every segment but an RST carries them (RFC 7323 3.2) */
		with_ts = *o;
		with_ts.ts = 1;
		with_ts.tsecr = cb->ts_recent;
		o = &with_ts;
	}
	if (flags & TCP_ACK)
		cb->last_ack_sent = ack;
	uint32_t segs = len ? (len + cb->mss - 1) / cb->mss : 1;
	int again = len && tcp_seq_lt(seq, cb->snd_max);
	c->segs_out += segs;
	if (len) {
		c->data_segs_out += segs;
		c->bytes_sent += len;
		if (again) {
			c->bytes_retrans += len;
			c->retrans_segs += segs;
		}
	}
	if (again)
		tcp_mib.retrans_segs += segs;
	else
		tcp_mib.out_segs += segs;
	tcp_mib.out_rsts += !!(flags & TCP_RST);
	cb->ops->output(cb, seq, ack, flags, wnd, o, off, len);
}

/* Send a segment with options from ack_opts: a D-SACK among them has
 * been told. */
static void emit(struct tcp_cb *cb, uint32_t seq, uint32_t ack, uint8_t flags,
		 uint16_t wnd, const struct tcp_opts *o, uint32_t off,
		 uint32_t len)
{
	out(cb, seq, ack, flags, wnd, o, off, len);
	if (o->nsack && cb->dsack.len && o->sack[0].seq == cb->dsack.seq &&
	    o->sack[0].len == cb->dsack.len)
		cb->dsack.len = 0;
}

/* Data we already had came again: say so with the next ACK. */
static void note_duplicate(struct tcp_cb *cb, uint32_t seq, uint32_t len)
{
	if (cb->sack_ok && len)
		cb->dsack = (struct tcp_range){seq, len};
}

static void send_ack(struct tcp_cb *cb)
{
	struct tcp_opts o;
	ack_opts(cb, &o);
	emit(cb, cb->snd_nxt, cb->rcv_nxt, TCP_ACK, wnd_field(cb), &o, 0, 0);
	cb->delack_at = 0;
	cb->unacked_segs = 0;
}

static void send_syn(struct tcp_cb *cb)
{
	int ack = cb->state == TCP_SYN_RCVD;
	int ws = ack ? (cb->wscale_ok ? cb->rcv_wscale : -1) : WSCALE_OURS;
	uint16_t w = (uint16_t)min32(rcv_space(cb), MAX_WINDOW);
	struct tcp_opts o = no_opts;
	o.mss = cb->our_mss;
	o.wscale = (int8_t)ws;
	o.sack_permitted = ack ? cb->sack_ok : 1;
	o.ts = ack ? cb->ts_ok : 1;
	o.tsecr = ack ? cb->ts_recent : 0;
	if (ack)
		cb->rcv_adv = cb->rcv_nxt + w; /* the edge it announces */
	out(cb, cb->iss, ack ? cb->rcv_nxt : 0,
	    (uint8_t)(TCP_SYN | (ack ? TCP_ACK : 0)), w, &o, 0, 0);
}

/* When keepalive next looks at the connection: idle for keep_idle, then
 * each keep_intvl a probe went unanswered (0: not on, or not
 * established). */
static void keep_arm(struct tcp_cb *cb)
{
	cb->keep_at =
		cb->keepalive && cb->state == TCP_ESTABLISHED
			? cb->last_heard + cb->keep_idle +
				  (uint64_t)cb->keep_probes * cb->keep_intvl
			: 0;
}

static void set_state(struct tcp_cb *cb, enum tcp_state s)
{
	cb->state = s;
	keep_arm(cb);
	cb->ops->event(cb);
}

void tcp_keepalive_set(struct tcp_cb *cb, int on, uint64_t now)
{
	if (on && !cb->keepalive) {
		/* idle from now on, as Linux counts it */
		cb->last_heard = now;
		cb->keep_probes = 0;
	}
	cb->keepalive = on;
	keep_arm(cb);
}

void tcp_push(struct tcp_cb *cb, uint64_t now)
{
	cb->push = 1;
	tcp_output(cb, now);
	cb->push = 0;
	cb->cork_at = 0;
}

void tcp_cork_set(struct tcp_cb *cb, int on, uint64_t now)
{
	cb->cork = (uint8_t) !!on;
	if (!on)
		tcp_push(cb, now);
}

static void closed(struct tcp_cb *cb, int error)
{
	switch (cb->state) {
	case TCP_SYN_SENT:
	case TCP_SYN_RCVD:
		tcp_mib.attempt_fails++;
		break;
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
		tcp_mib.estab_resets++;
		break;
	default:
		break;
	}
	if (error)
		cb->error = error;
	cb->rexmit_at = cb->delack_at = cb->persist_at = cb->keep_at = 0;
	cb->cork_at = 0;
	cb->probe_at = cb->rack_at = 0;
	cb->timewait_at = cb->fin2_at = 0;
	set_state(cb, TCP_CLOSED);
}

/* The FIN still has to go out (again, after a retransmission timeout
 * rewound snd_nxt). */
static int fin_due(const struct tcp_cb *cb)
{
	return cb->fin_queued &&
	       !(cb->fin_out && tcp_seq_lt(cb->fin_seq, cb->snd_nxt));
}

static int fin_acked(const struct tcp_cb *cb)
{
	return cb->fin_out && tcp_seq_lt(cb->fin_seq, cb->snd_una);
}

/* ---- timers (RFC 6298) ---- */

static void rtt_sample(struct tcp_cb *cb, uint64_t r)
{
	if (!cb->min_rtt || r < cb->min_rtt)
		cb->min_rtt = r ? r : 1;
	if (!cb->srtt) {
		cb->srtt = r;
		cb->rttvar = r / 2;
	} else {
		uint64_t d = cb->srtt > r ? cb->srtt - r : r - cb->srtt;
		cb->rttvar = (3 * cb->rttvar + d) / 4;
		cb->srtt = (7 * cb->srtt + r) / 8;
	}
	uint64_t rto = cb->srtt +
		       (4 * cb->rttvar > 1000000 ? 4 * cb->rttvar : 1000000);
	cb->rto = rto < TCP_RTO_MIN   ? TCP_RTO_MIN
		  : rto > TCP_RTO_MAX ? TCP_RTO_MAX
				      : rto;
}

/* A retransmission timeout. The first in a row starts an RTO recovery,
 * which lasts until everything sent before the last of them is
 * acknowledged (rto_over): all of it goes again from snd_una meanwhile,
 * so no fast recovery starts on top. Linux counts both and their time
 * for TCP_INFO. */
static void rto_fired(struct tcp_cb *cb, uint64_t now)
{
	cb->counts.timeouts++;
	if (!cb->rto_since) {
		cb->counts.rto_recoveries++;
		cb->rto_since = now ? now : 1;
	}
	cb->rto_high = cb->snd_max;
}

static void rto_over(struct tcp_cb *cb, uint64_t now)
{
	if (cb->rto_since) {
		cb->counts.rto_ns += now - cb->rto_since;
		cb->rto_since = 0;
	}
}

/* The retransmission timer, never past the moment TCP_USER_TIMEOUT
 * ends the connection (Linux clamps it so too). */
/* An orphan in FIN_WAIT_2: the peer has the FIN timeout to close. */
static void fin2_arm(struct tcp_cb *cb, uint64_t now)
{
	if (!cb->orphan || cb->state != TCP_FIN_WAIT_2 || cb->fin2_at)
		return;
	if (cb->linger2 == UINT64_MAX)
		cb->fin2_at = now; /* TCP_LINGER2 < 0: at once */
	else
		cb->fin2_at =
			now + (cb->linger2 ? cb->linger2 : TCP_FIN_TIMEOUT);
}

static void arm_rexmit(struct tcp_cb *cb, uint64_t now)
{
	cb->rexmit_at = now + cb->rto;
	if (cb->user_timeout && cb->state >= TCP_ESTABLISHED) {
		uint64_t end = cb->stall_since + cb->user_timeout;
		if (end < cb->rexmit_at)
			cb->rexmit_at = end > now ? end : now + 1;
	}
}

/* Schedule a tail loss probe two round trips after the last send or ACK
 * (RFC 8985 7.2), more when one segment is out and may wait for a delayed
 * ACK; never past the retransmission timeout, at most one per ACK. In
 * recovery it stands for RACK's timer: a resent hole with no news for
 * two round trips is resent again. */
static void arm_probe(struct tcp_cb *cb, uint64_t now)
{
	if (cb->probe_out || !cb->srtt || cb->snd_una == cb->snd_max) {
		cb->probe_at = 0;
		return;
	}
	uint64_t pto = 2 * cb->srtt;
	if (cb->snd_max - cb->snd_una <= cb->mss)
		pto += TCP_DELACK_PEER;
	if (pto < TCP_PROBE_MIN)
		pto = TCP_PROBE_MIN;
	cb->probe_at = now + pto;
	if (cb->rexmit_at && cb->probe_at >= cb->rexmit_at)
		cb->probe_at = 0;
}

/* ---- the peer's SACK blocks (RFC 6675) ---- */

/* Add [l, r) to the scoreboard, merged with the ranges it touches. When
 * the board is full the highest range is forgotten: that data is only
 * resent needlessly. */
static void sack_add(struct tcp_cb *cb, uint32_t l, uint32_t r)
{
	struct tcp_range *b = cb->sacked;
	int i = 0;
	while (i < cb->nsacked && tcp_seq_lt(b[i].seq + b[i].len, l))
		i++;
	/* b[i..j) touch [l, r) */
	int j = i;
	while (j < cb->nsacked && tcp_seq_le(b[j].seq, r)) {
		if (tcp_seq_lt(b[j].seq, l))
			l = b[j].seq;
		if (tcp_seq_lt(r, b[j].seq + b[j].len))
			r = b[j].seq + b[j].len;
		j++;
	}
	if (i == j && cb->nsacked == TCP_SACK_SCORE) {
		if (i == cb->nsacked)
			return;
		cb->nsacked--;
	}
	memmove(&b[i + 1], &b[j], (size_t)(cb->nsacked - j) * sizeof(*b));
	cb->nsacked -= j - i - 1;
	b[i] = (struct tcp_range){l, r - l};
}

/* Take the blocks of (s) that lie within what is outstanding. */
static void sack_note(struct tcp_cb *cb, const struct tcp_seg *s)
{
	for (int k = 0; k < s->nsack && k < TCP_SACK_MAX; k++) {
		uint32_t l = s->sack[k].seq, r = l + s->sack[k].len;
		if (tcp_seq_lt(cb->snd_max, r) || !tcp_seq_lt(cb->snd_una, r) ||
		    !tcp_seq_lt(l, r))
			continue; /* beyond what we sent, or old (D-SACK) */
		if (tcp_seq_lt(l, cb->snd_una))
			l = cb->snd_una;
		sack_add(cb, l, r);
	}
}

/* Forget what the cumulative ACK passed. */
static void sack_trim(struct tcp_cb *cb)
{
	int drop = 0;
	while (drop < cb->nsacked &&
	       tcp_seq_le(cb->sacked[drop].seq + cb->sacked[drop].len,
			  cb->snd_una))
		drop++;
	memmove(cb->sacked, cb->sacked + drop,
		(size_t)(cb->nsacked - drop) * sizeof(cb->sacked[0]));
	cb->nsacked -= drop;
	if (cb->nsacked && tcp_seq_lt(cb->sacked[0].seq, cb->snd_una)) {
		cb->sacked[0].len -= cb->snd_una - cb->sacked[0].seq;
		cb->sacked[0].seq = cb->snd_una;
	}
}

uint32_t tcp_sacked_bytes(const struct tcp_cb *cb)
{
	uint32_t n = 0;
	for (int i = 0; i < cb->nsacked; i++)
		n += cb->sacked[i].len;
	return n;
}

static uint32_t sack_high(const struct tcp_cb *cb)
{
	if (!cb->nsacked)
		return cb->snd_una;
	return cb->sacked[cb->nsacked - 1].seq +
	       cb->sacked[cb->nsacked - 1].len;
}

static int sack_recovery(const struct tcp_cb *cb)
{
	return cb->in_recovery && cb->sack_ok;
}

static uint32_t flight(const struct tcp_cb *cb)
{
	return cb->snd_nxt - cb->snd_una;
}

/* Data bytes past snd_una that were sent. A resend stays within them:
 * data past snd_max that the peer acknowledged would look like an ACK
 * of data never sent, and be ignored. */
static uint32_t sent_data(const struct tcp_cb *cb)
{
	uint32_t end = cb->fin_out && tcp_seq_lt(cb->fin_seq, cb->snd_max)
			       ? cb->fin_seq
			       : cb->snd_max;
	return tcp_seq_lt(cb->snd_una, end) ? end - cb->snd_una : 0;
}

/* ---- RACK: loss detection by send times (RFC 8985) ---- */

/* Data [seq, end) went out again at (now): recorded over the resent
 * ranges it overlaps. With the table full it is merged into what it
 * overlaps or into a neighbour, which then counts as resent now: its
 * losses are found later, never wrongly. */
static void rtx_add(struct tcp_cb *cb, uint32_t seq, uint32_t end, uint64_t now)
{
	struct tcp_rtx *r = cb->rtx, add[3];
	int i = 0, n = 0;
	while (i < cb->nrtx && tcp_seq_le(r[i].end, seq))
		i++;
	int j = i; /* r[i..j) overlap [seq, end) */
	while (j < cb->nrtx && tcp_seq_lt(r[j].seq, end))
		j++;
	int room = TCP_RTX_MAX - cb->nrtx + (j - i);
	if (i < j && tcp_seq_lt(r[i].seq, seq)) {
		if (room >= 3)
			add[n++] = (struct tcp_rtx){r[i].seq, seq, r[i].ts};
		else
			seq = r[i].seq;
	}
	add[n++] = (struct tcp_rtx){seq, end, now};
	if (i < j && tcp_seq_lt(end, r[j - 1].end)) {
		if (room >= n + 1)
			add[n++] = (struct tcp_rtx){end, r[j - 1].end,
						    r[j - 1].ts};
		else
			add[n - 1].end = r[j - 1].end;
	}
	if (room < n) { /* full, and [seq, end) overlaps nothing */
		if (i == cb->nrtx)
			add[0].seq = r[--i].seq; /* the last one, stretched */
		else
			add[0].end = r[i].end; /* the next one */
		j = i + 1;
	}
	memmove(&r[i + n], &r[j], (size_t)(cb->nrtx - j) * sizeof(*r));
	memcpy(&r[i], add, (size_t)n * sizeof(*r));
	cb->nrtx += n - (j - i);
}

/* Data up to (end) went out for the first time at (now). With the table
 * full, neighbours merge pairwise (each pair taking the later time). */
static void sent_add(struct tcp_cb *cb, uint32_t end, uint64_t now)
{
	struct tcp_sent *s = cb->sent;
	if (cb->nsent && s[cb->nsent - 1].ts == now) {
		s[cb->nsent - 1].end = end;
		return;
	}
	if (cb->nsent == TCP_SENT_MAX) {
		for (int i = 0; i < TCP_SENT_MAX / 2; i++)
			s[i] = s[2 * i + 1];
		cb->nsent = TCP_SENT_MAX / 2;
	}
	s[cb->nsent++] = (struct tcp_sent){end, now};
}

/* Data [seq, seq + len) went out at (now). */
static void note_sent(struct tcp_cb *cb, uint32_t seq, uint32_t len,
		      uint64_t now)
{
	if (!len || !cb->sack_ok)
		return;
	uint32_t end = seq + len;
	if (tcp_seq_lt(seq, cb->snd_max)) {
		uint32_t old = tcp_seq_lt(end, cb->snd_max) ? end : cb->snd_max;
		rtx_add(cb, seq, old, now);
		seq = old;
	}
	if (tcp_seq_lt(seq, end))
		sent_add(cb, end, now);
}

/* Forget the times of what the cumulative ACK passed. */
static void rack_trim(struct tcp_cb *cb)
{
	int k = 0;
	while (k < cb->nsent && tcp_seq_le(cb->sent[k].end, cb->snd_una))
		k++;
	memmove(cb->sent, cb->sent + k,
		(size_t)(cb->nsent - k) * sizeof(cb->sent[0]));
	cb->nsent -= k;
	k = 0;
	while (k < cb->nrtx && tcp_seq_le(cb->rtx[k].end, cb->snd_una))
		k++;
	memmove(cb->rtx, cb->rtx + k,
		(size_t)(cb->nrtx - k) * sizeof(cb->rtx[0]));
	cb->nrtx -= k;
	if (cb->nrtx && tcp_seq_lt(cb->rtx[0].seq, cb->snd_una))
		cb->rtx[0].seq = cb->snd_una;
}

/* A run of data past snd_una alike for loss detection: SACKed or not,
 * resent or not, with one send time. */
struct piece {
	uint32_t seq, end;
	uint64_t ts;
	int sacked, resent;
};

static uint32_t seq_min(uint32_t a, uint32_t b)
{
	return tcp_seq_lt(a, b) ? a : b;
}

/* The piece starting at (pos), ending by (limit). */
static void piece_at(const struct tcp_cb *cb, uint32_t pos, uint32_t limit,
		     struct piece *p)
{
	*p = (struct piece){pos, limit, 0, 0, 0};
	for (int i = 0; i < cb->nsacked; i++) {
		const struct tcp_range *b = &cb->sacked[i];
		if (tcp_seq_lt(pos, b->seq)) {
			p->end = seq_min(p->end, b->seq);
			break;
		}
		if (tcp_seq_lt(pos, b->seq + b->len)) {
			p->sacked = 1;
			p->end = seq_min(p->end, b->seq + b->len);
			return;
		}
	}
	/* split where a send at rack_ts ends, so that sent_before holds
	 * for a whole piece or none of it */
	if (cb->rack_valid && tcp_seq_lt(pos, cb->rack_end))
		p->end = seq_min(p->end, cb->rack_end);
	for (int i = 0; i < cb->nrtx; i++) {
		const struct tcp_rtx *r = &cb->rtx[i];
		if (tcp_seq_lt(pos, r->seq)) {
			p->end = seq_min(p->end, r->seq);
			break;
		}
		if (tcp_seq_lt(pos, r->end)) {
			p->resent = 1;
			p->ts = r->ts;
			p->end = seq_min(p->end, r->end);
			return;
		}
	}
	for (int i = 0; i < cb->nsent; i++)
		if (tcp_seq_lt(pos, cb->sent[i].end)) {
			p->ts = cb->sent[i].ts;
			p->end = seq_min(p->end, cb->sent[i].end);
			return;
		}
}

/* Bytes SACKed past (seq). */
static uint32_t sacked_above(const struct tcp_cb *cb, uint32_t seq)
{
	uint32_t n = 0;
	for (int i = 0; i < cb->nsacked; i++) {
		const struct tcp_range *b = &cb->sacked[i];
		uint32_t end = b->seq + b->len;
		if (tcp_seq_lt(seq, end))
			n += end - (tcp_seq_lt(seq, b->seq) ? b->seq : seq);
	}
	return n;
}

/* How much later than data sent after it a piece may arrive before it
 * counts as lost (RFC 8985 6.2 step 4). Until the path reordered
 * anything, none in recovery or once three segments' worth are SACKed
 * (the duplicate threshold); else a quarter of the least round trip,
 * times the rounds of D-SACKs seen, at most the smoothed round trip. */
static uint64_t reo_wnd(const struct tcp_cb *cb)
{
	if (!cb->reordering_seen &&
	    (cb->in_recovery || tcp_sacked_bytes(cb) >= 3 * (uint32_t)cb->mss))
		return 0;
	uint64_t w = cb->min_rtt / 4 * (cb->reo_mult ? cb->reo_mult : 1);
	return w < cb->srtt ? w : cb->srtt;
}

/* Was (p) sent before the most recently sent data the peer has? */
static int sent_before(const struct tcp_cb *cb, const struct piece *p)
{
	return cb->rack_valid &&
	       (p->ts < cb->rack_ts ||
		(p->ts == cb->rack_ts && tcp_seq_le(p->end, cb->rack_end)));
}

/* Is (p) lost? Until the path reordered anything, a piece never resent
 * with more than two segments' worth SACKed past it is (RFC 6675
 * IsLost). Any piece sent before data the peer has is, once it is
 * later than that data by more than the reordering window (RACK). */
static int piece_lost(const struct tcp_cb *cb, const struct piece *p,
		      uint64_t wnd, uint64_t now)
{
	if (p->sacked)
		return 0;
	if (!cb->reordering_seen && !p->resent &&
	    sacked_above(cb, p->end) > 2 * (uint32_t)cb->mss)
		return 1;
	return sent_before(cb, p) && p->ts + cb->rack_rtt + wnd < now;
}

/* What RACK makes of the data in flight, in one walk over it. */
struct rack_scan {
	/* bytes presumed in the network (RFC 6675 "pipe"): sent, neither
	 * SACKed nor lost (resent data counts once, until lost again) */
	uint32_t pipe;
	uint32_t lost, resent; /* lost; resent and in the pipe */
	int any_lost;
	struct piece first_lost; /* the hole to resend first */
	/* when the first piece sent before data the peer has, but not
	 * yet late enough to be lost, will be (0: none; RFC 8985 6.3) */
	uint64_t due;
};

static void rack_scan(const struct tcp_cb *cb, uint64_t now,
		      struct rack_scan *sc)
{
	uint64_t wnd = reo_wnd(cb);
	uint32_t end = cb->snd_una + sent_data(cb);
	struct piece p;
	*sc = (struct rack_scan){0};
	uint32_t pos = cb->snd_una;
	while (tcp_seq_lt(pos, end)) {
		piece_at(cb, pos, end, &p);
		pos = p.end;
		if (p.sacked)
			continue;
		if (piece_lost(cb, &p, wnd, now)) {
			sc->lost += p.end - p.seq;
			if (!sc->any_lost++)
				sc->first_lost = p;
			continue;
		}
		sc->pipe += p.end - p.seq;
		if (p.resent)
			sc->resent += p.end - p.seq;
		if (sent_before(cb, &p)) {
			uint64_t due = p.ts + cb->rack_rtt + wnd + 1;
			if (!sc->due || due < sc->due)
				sc->due = due;
		}
	}
	if (cb->fin_out && tcp_seq_lt(cb->fin_seq, cb->snd_nxt))
		sc->pipe++;
}

void tcp_loss_state(const struct tcp_cb *cb, uint64_t now, uint32_t *lost,
		    uint32_t *resent)
{
	struct rack_scan sc;
	rack_scan(cb, now, &sc);
	*lost = sc.lost;
	*resent = sc.resent;
}

/* Data the peer has that this ACK reports (before the scoreboard takes
 * it): the most recently sent of it becomes RACK's reference, unless it
 * was resent so recently that the original may be what arrived (6.2
 * step 2). Data that was never resent arriving after data sent later
 * than it shows the path reorders (step 3). */
static void rack_ack(struct tcp_cb *cb, const struct tcp_seg *s, uint64_t now)
{
	uint32_t end = cb->snd_una + sent_data(cb);
	uint32_t fack = sack_high(cb);
	struct tcp_range got[1 + TCP_SACK_MAX];
	int n = 0;
	if (tcp_seq_lt(cb->snd_una, s->ack))
		got[n++] = (struct tcp_range){
			cb->snd_una, seq_min(s->ack, end) - cb->snd_una};
	for (int k = 0; k < s->nsack && k < TCP_SACK_MAX; k++) {
		uint32_t l = s->sack[k].seq,
			 r = s->sack[k].seq + s->sack[k].len;
		if (tcp_seq_lt(l, cb->snd_una))
			l = cb->snd_una;
		if (tcp_seq_lt(end, r))
			r = end;
		if (tcp_seq_lt(l, r))
			got[n++] = (struct tcp_range){l, r - l};
	}
	for (int k = 0; k < n; k++) {
		uint32_t r = got[k].seq + got[k].len;
		struct piece p;
		uint32_t pos = got[k].seq;
		while (tcp_seq_lt(pos, r)) {
			piece_at(cb, pos, r, &p);
			pos = p.end;
			if (p.sacked)
				continue; /* not news */
			if (!p.resent && tcp_seq_lt(p.seq, fack)) {
				cb->reordering_seen = 1;
				cb->counts.reorders++;
			}
			if (p.resent && now - p.ts < cb->min_rtt)
				continue;
			if (!cb->rack_valid || p.ts > cb->rack_ts ||
			    (p.ts == cb->rack_ts &&
			     tcp_seq_lt(cb->rack_end, p.end))) {
				cb->rack_valid = 1;
				cb->rack_ts = p.ts;
				cb->rack_end = p.end;
				cb->rack_rtt = now - p.ts;
			}
		}
	}
}

/* A D-SACK: the first in a round trip widens the reordering window by a
 * step, for the next 16 recoveries (RFC 8985 6.2 step 4). One of data
 * below the cumulative ACK means a copy we resent came after the
 * original: the path reorders (as Linux takes it). */
static void rack_dsack(struct tcp_cb *cb, int below_ack)
{
	if (below_ack) {
		cb->reordering_seen = 1;
		cb->counts.reorders++;
	}
	if (cb->dsack_round_on && tcp_seq_lt(cb->dsack_round, cb->snd_una))
		cb->dsack_round_on = 0;
	if (cb->dsack_round_on)
		return;
	cb->dsack_round_on = 1;
	cb->dsack_round = cb->snd_max;
	if (cb->reo_mult < 64)
		cb->reo_mult = (cb->reo_mult ? cb->reo_mult : 1) + 1;
	cb->reo_persist = 16;
}

/* ---- output ---- */

static void rack_detect(struct tcp_cb *cb, uint64_t now);

/* Going back over what was sent (after a timeout): step over what the
 * peer SACKed since; the end of what may go before the next SACKed
 * range (snd_nxt itself if none lies ahead). */
static uint32_t skip_sacked(struct tcp_cb *cb)
{
	if (!cb->sack_ok || !tcp_seq_lt(cb->snd_nxt, cb->snd_max))
		return cb->snd_nxt;
	for (int i = 0; i < cb->nsacked; i++) {
		const struct tcp_range *b = &cb->sacked[i];
		uint32_t end = b->seq + b->len;
		if (tcp_seq_lt(cb->snd_nxt, b->seq))
			return b->seq;
		if (tcp_seq_lt(cb->snd_nxt, end))
			cb->snd_nxt = end;
	}
	return cb->snd_nxt;
}

void tcp_output(struct tcp_cb *cb, uint64_t now)
{
	switch (cb->state) {
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
	case TCP_FIN_WAIT_1:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		break;
	default:
		return;
	}
	for (;;) {
		uint32_t resend_end = skip_sacked(cb);
		uint32_t sent = cb->snd_nxt - cb->snd_una; /* may hold FIN */
		uint32_t unsent = sent < cb->snd.len ? cb->snd.len - sent : 0;
		struct rack_scan sc = {0};
		if (sack_recovery(cb))
			rack_scan(cb, now, &sc);
		uint32_t pipe = sack_recovery(cb) ? sc.pipe : flight(cb);
		/* limited transmit (RFC 3042): a new segment for each of the
		 * first two duplicate ACKs, so that a small window still
		 * produces the duplicates that start recovery */
		uint32_t cwnd = cb->cwnd;
		if (!cb->in_recovery && cb->dupacks && cb->dupacks < 3)
			cwnd += cb->dupacks * (uint32_t)cb->mss;
		uint32_t usable = cwnd > pipe ? cwnd - pipe : 0;
		int fin_now = fin_due(cb);
		struct tcp_opts o;
		ack_opts(cb, &o);
		uint32_t room = cb->mss - tcp_opts_len(&o);
		/* with segmentation offload, many segments at once */
		uint32_t burst =
			cb->tso_max > room ? cb->tso_max / room * room : room;
		if (usable && sc.any_lost) {
			struct piece hole = sc.first_lost;
			/* resend a hole first (RFC 6675 5, NextSeg rule 1):
			 * one segment, or as many whole ones as the window
			 * takes in one burst */
			uint32_t off = hole.seq - cb->snd_una;
			uint32_t len = min32(
				min32(hole.end - hole.seq, burst),
				cb->snd.len > off ? cb->snd.len - off : 0);
			if (len > room)
				len = max32(room,
					    min32(len, usable / room * room));
			if (!len)
				break;
			emit(cb, hole.seq, cb->rcv_nxt, TCP_ACK, wnd_field(cb),
			     &o, off, len);
			note_sent(cb, hole.seq, len, now);
			cb->undo_retrans += (len + cb->mss - 1) / cb->mss;
			cb->rtt_timing = 0; /* Karn */
			cb->delack_at = 0;
			cb->unacked_segs = 0;
			continue;
		}
		uint32_t wnd_room =
			cb->snd_wnd > flight(cb) ? cb->snd_wnd - flight(cb) : 0;
		usable = min32(usable, wnd_room);
		if (unsent && usable) {
			uint32_t len = min32(min32(unsent, usable), burst);
			/* a piece before a SACKed range goes as it is */
			int cut = resend_end != cb->snd_nxt &&
				  resend_end - cb->snd_nxt < len;
			if (cut)
				len = resend_end - cb->snd_nxt;
			/* Nagle (3.7.4): hold a small segment while data is
			 * in flight, unless it is the last before a FIN; a
			 * cork holds it whatever is in flight, for a while */
			if (len < room && len == unsent && !fin_now &&
			    !cb->push &&
			    (cb->cork || (flight(cb) && !cb->nodelay))) {
				if (cb->cork && !cb->cork_at)
					cb->cork_at = now + TCP_CORK_MAX;
				break;
			}
			/* sender silly window avoidance (3.8.6.2.1): no
			 * sliver of a segment because the window is almost
			 * full; the next ACK makes room for a whole one */
			if (len < room && len < unsent && flight(cb) && !cut)
				break;
			/* nor at the end of a burst: whole segments only */
			if (len > room && len < unsent && !cut)
				len -= len % room;
			uint8_t flags = TCP_ACK;
			if (len == unsent)
				flags |= TCP_PSH;
			if (len == unsent && fin_now) {
				flags |= TCP_FIN;
				cb->fin_seq = cb->snd_nxt + len;
				cb->fin_out = 1;
			}
			if (cb->snd_una == cb->snd_max)
				cb->stall_since = now; /* none was in flight */
			emit(cb, cb->snd_nxt, cb->rcv_nxt, flags, wnd_field(cb),
			     &o, sent, len);
			note_sent(cb, cb->snd_nxt, len, now);
			cb->delack_at = 0;
			cb->unacked_segs = 0;
			/* time new data only: after a timeout rewound snd_nxt,
			 * an ACK may be for the first copy (Karn) */
			if (!cb->rtt_timing && cb->snd_nxt == cb->snd_max) {
				cb->rtt_timing = 1;
				cb->rtt_seq = cb->snd_nxt;
				cb->rtt_start = now;
			}
			cb->snd_nxt += len + ((flags & TCP_FIN) ? 1 : 0);
			if (tcp_seq_lt(cb->snd_max, cb->snd_nxt))
				cb->snd_max = cb->snd_nxt;
			if (!cb->rexmit_at)
				arm_rexmit(cb, now);
			arm_probe(cb, now);
			if (flags & TCP_FIN)
				break;
			continue;
		}
		if (!unsent && fin_now) {
			if (cb->snd_una == cb->snd_max)
				cb->stall_since = now;
			cb->fin_seq = cb->snd_nxt;
			cb->fin_out = 1;
			emit(cb, cb->snd_nxt, cb->rcv_nxt, TCP_FIN | TCP_ACK,
			     wnd_field(cb), &o, 0, 0);
			cb->snd_nxt++;
			if (tcp_seq_lt(cb->snd_max, cb->snd_nxt))
				cb->snd_max = cb->snd_nxt;
			if (!cb->rexmit_at)
				arm_rexmit(cb, now);
		}
		/* a closed window with data waiting: probe it (3.8.6.1) */
		if (unsent && cb->snd_wnd == 0 && !flight(cb) &&
		    !cb->persist_at)
			cb->persist_at = now + cb->rto;
		break;
	}
}

/* Resend the first unacknowledged segment (fast retransmit, partial
 * ACKs in recovery): the bytes resent. */
static uint32_t resend_first(struct tcp_cb *cb, uint64_t now)
{
	struct tcp_opts o;
	ack_opts(cb, &o);
	uint32_t len = min32(min32(cb->snd.len, cb->mss - tcp_opts_len(&o)),
			     sent_data(cb));
	uint8_t flags = TCP_ACK;
	if (!len && cb->fin_out && cb->fin_seq == cb->snd_una)
		flags |= TCP_FIN;
	emit(cb, cb->snd_una, cb->rcv_nxt, flags, wnd_field(cb), &o, 0, len);
	note_sent(cb, cb->snd_una, len, now);
	cb->undo_retrans += (len + cb->mss - 1) / cb->mss;
	cb->rtt_timing = 0; /* Karn: no sample from a retransmission */
	arm_rexmit(cb, now);
	return len;
}

/* Fast retransmit (RFC 5681 3.2): halve, resend the first segment; with
 * SACK the holes follow as the pipe allows (RFC 6675 5), without it
 * NewReno inflates the window by the three duplicates (RFC 6582). */
static void enter_recovery(struct tcp_cb *cb, uint64_t now)
{
	cb->undo_cwnd = cb->cwnd;
	cb->undo_ssthresh = cb->ssthresh;
	cb->undo_marker = cb->snd_una;
	cb->undo_retrans = 0;
	cb->undo_ok = 1;
	cb->ssthresh = max32(flight(cb) / 2, 2 * (uint32_t)cb->mss);
	cb->in_recovery = 1;
	cb->counts.recoveries++;
	cb->recover = cb->snd_max;
	if (cb->sack_ok) {
		/* the first lost segment goes whatever the pipe (RFC 6675 5
		 * step 4), the rest as it allows */
		struct rack_scan sc;
		rack_scan(cb, now, &sc);
		cb->cwnd = max32(cb->ssthresh, sc.pipe + cb->mss);
		tcp_output(cb, now);
		cb->cwnd = cb->ssthresh;
		tcp_output(cb, now);
	} else {
		resend_first(cb, now);
		cb->cwnd = cb->ssthresh + 3 * (uint32_t)cb->mss;
	}
}

/* Nothing in flight can be lost or late, for certain and cheaply (the
 * common case): nothing SACKed or resent, and all of it first went out
 * after the data RACK goes by (first sends go in order). */
static int rack_quiet(const struct tcp_cb *cb)
{
	if (cb->in_recovery || cb->nsacked || cb->nrtx || !cb->nsent)
		return 0;
	return !cb->rack_valid || cb->sent[0].ts > cb->rack_ts ||
	       (cb->sent[0].ts == cb->rack_ts &&
		tcp_seq_le(cb->rack_end, cb->snd_una));
}

/* After an ACK, or when the reordering timer fires: a lost piece starts
 * a recovery (which resends it); a piece that is not late yet sets the
 * timer. */
static void rack_detect(struct tcp_cb *cb, uint64_t now)
{
	struct rack_scan sc;
	cb->rack_at = 0;
	if (cb->state < TCP_ESTABLISHED || cb->snd_una == cb->snd_max ||
	    cb->rto_since || rack_quiet(cb))
		return;
	rack_scan(cb, now, &sc);
	if (!cb->in_recovery && sc.any_lost)
		enter_recovery(cb, now);
	else if (cb->in_recovery)
		tcp_output(cb, now);
	else {
		cb->rack_at = sc.due;
		return;
	}
	rack_scan(cb, now, &sc); /* after what went out */
	cb->rack_at = sc.due;
}

/* The duplicate ACKs that mean a loss: three, or with fewer than four
 * segments in flight and nothing new to send, one less than those in
 * flight (early retransmit, RFC 5827), since no more can come. */
static uint32_t dup_threshold(const struct tcp_cb *cb)
{
	uint32_t segs = (flight(cb) + cb->mss - 1) / cb->mss;
	uint32_t unsent =
		cb->snd.len > flight(cb) ? cb->snd.len - flight(cb) : 0;
	if (segs < 4 && (!unsent || cb->snd_wnd <= flight(cb)))
		return segs > 1 ? segs - 1 : 1;
	return 3;
}

/* ---- opening ---- */

void tcp_init(struct tcp_cb *cb, const struct tcp_ops *ops, void *owner,
	      uint16_t our_mss)
{
	struct tcp_ring snd = cb->snd, rcv = cb->rcv;
	memset(cb, 0, sizeof(*cb));
	cb->snd = snd;
	cb->rcv = rcv;
	cb->snd.head = cb->snd.len = cb->rcv.head = cb->rcv.len = 0;
	cb->ops = ops;
	cb->owner = owner;
	cb->our_mss = our_mss;
	cb->mss = TCP_MSS_DEFAULT;
	cb->rto = TCP_RTO_INIT;
	cb->ssthresh = 0xffffffffu;
	cb->rcv_wscale = WSCALE_OURS;
	cb->keep_idle = 7200000000000ULL;
	cb->keep_intvl = 75000000000ULL;
	cb->keep_cnt = 9;
}

void tcp_listen(struct tcp_cb *cb)
{
	set_state(cb, TCP_LISTEN);
}

static void start_cwnd(struct tcp_cb *cb)
{
	/* RFC 6928: ten segments */
	cb->cwnd = 10 * (uint32_t)cb->mss;
}

void tcp_connect(struct tcp_cb *cb, uint32_t iss, uint64_t now)
{
	cb->iss = iss;
	cb->snd_una = iss;
	cb->snd_nxt = cb->snd_max = iss + 1;
	cb->soft_error = 0;
	cb->state = TCP_SYN_SENT;
	tcp_mib.active_opens++;
	send_syn(cb);
	arm_rexmit(cb, now);
}

static void take_options(struct tcp_cb *cb, const struct tcp_seg *syn,
			 uint64_t now)
{
	if (syn->mss)
		cb->mss = min32(syn->mss, cb->our_mss);
	if (syn->wscale >= 0) {
		cb->wscale_ok = 1;
		cb->snd_wscale = (uint8_t)min32((uint32_t)syn->wscale, 14);
	} else {
		cb->wscale_ok = 0;
		cb->snd_wscale = 0;
		cb->rcv_wscale = 0;
	}
	cb->sack_ok = syn->sack_permitted;
	cb->ts_ok = syn->ts;
	cb->ts_recent = syn->tsval;
	cb->ts_recent_at = now;
	cb->snd_wnd = syn->wnd; /* never scaled in a SYN */
	cb->snd_wl1 = syn->seq;
	start_cwnd(cb);
}

void tcp_accept_syn(struct tcp_cb *cb, const struct tcp_seg *syn, uint32_t iss,
		    uint64_t now)
{
	cb->irs = syn->seq;
	cb->rcv_nxt = syn->seq + 1;
	cb->rcv_adv = cb->rcv_nxt; /* the window edge starts here */
	cb->iss = iss;
	cb->snd_una = iss;
	cb->snd_nxt = cb->snd_max = iss + 1;
	take_options(cb, syn, now);
	cb->snd_wl2 = iss;
	cb->state = TCP_SYN_RCVD;
	tcp_mib.passive_opens++;
	cb->last_heard = now;
	send_syn(cb);
	arm_rexmit(cb, now);
}

/* ---- input (3.10.7.4) ---- */

static int acceptable(const struct tcp_cb *cb, const struct tcp_seg *s,
		      uint32_t len)
{
	uint32_t wnd = rcv_space(cb);
	if (tcp_seq_lt(cb->rcv_nxt + wnd, cb->rcv_adv))
		wnd = cb->rcv_adv - cb->rcv_nxt;
	if (len == 0)
		return wnd == 0 ? s->seq == cb->rcv_nxt
				: tcp_seq_le(cb->rcv_nxt, s->seq) &&
					  tcp_seq_lt(s->seq, cb->rcv_nxt + wnd);
	if (wnd == 0)
		return 0;
	return (tcp_seq_le(cb->rcv_nxt, s->seq) &&
		tcp_seq_lt(s->seq, cb->rcv_nxt + wnd)) ||
	       (tcp_seq_le(cb->rcv_nxt, s->seq + len - 1) &&
		tcp_seq_lt(s->seq + len - 1, cb->rcv_nxt + wnd));
}

static void syn_sent_input(struct tcp_cb *cb, const struct tcp_seg *s,
			   uint64_t now)
{
	int ack_ok = 0;
	if (s->flags & TCP_ACK) {
		if (tcp_seq_le(s->ack, cb->iss) ||
		    tcp_seq_lt(cb->snd_max, s->ack)) {
			if (!(s->flags & TCP_RST))
				out(cb, s->ack, 0, TCP_RST, 0, &no_opts, 0, 0);
			return;
		}
		ack_ok = 1;
	}
	if (s->flags & TCP_RST) {
		if (ack_ok)
			closed(cb, ECONNREFUSED);
		return;
	}
	if (!(s->flags & TCP_SYN))
		return;
	cb->irs = s->seq;
	cb->rcv_nxt = s->seq + 1;
	cb->rcv_adv = cb->rcv_nxt; /* the window edge starts here */
	take_options(cb, s, now);
	if (ack_ok) {
		cb->counts.bytes_acked += s->ack - cb->snd_una; /* as Linux */
		cb->snd_una = s->ack;
		cb->snd_wl2 = s->ack;
		if (cb->retries == 0)
			rtt_sample(cb, now - (cb->rexmit_at - cb->rto));
		cb->rexmit_at = 0;
		cb->retries = 0;
		rto_over(cb, now);
		cb->last_heard = now;
		set_state(cb, TCP_ESTABLISHED);
		send_ack(cb);
		tcp_output(cb, now);
	} else {
		/* simultaneous open (3.5, figure 7) */
		cb->state = TCP_SYN_RCVD;
		send_syn(cb);
	}
}

static void ooo_remove(struct tcp_cb *cb, int i)
{
	memmove(&cb->ooo[i], &cb->ooo[i + 1],
		(size_t)(cb->nooo - i - 1) * sizeof(cb->ooo[0]));
	cb->nooo--;
}

/* Record [seq, seq + len) as held past the data, merged with the ranges it
 * touches, first in the list. 0 if it touches none and the list is full
 * (the caller drops the data). */
static int ooo_add(struct tcp_cb *cb, uint32_t seq, uint32_t len)
{
	uint32_t end = seq + len;
	int touches = 0;
	for (int i = 0; i < cb->nooo; i++) {
		struct tcp_range *o = &cb->ooo[i];
		if (!tcp_seq_lt(o->seq + o->len, seq) &&
		    !tcp_seq_lt(end, o->seq))
			touches = 1;
	}
	if (!touches && cb->nooo == TCP_OOO_MAX)
		return 0;
	for (int i = 0; i < cb->nooo;) {
		struct tcp_range *o = &cb->ooo[i];
		uint32_t o_end = o->seq + o->len;
		if (tcp_seq_lt(o_end, seq) || tcp_seq_lt(end, o->seq)) {
			i++;
			continue;
		}
		if (tcp_seq_lt(o->seq, seq))
			seq = o->seq;
		if (tcp_seq_lt(end, o_end))
			end = o_end;
		ooo_remove(cb, i);
	}
	memmove(&cb->ooo[1], &cb->ooo[0],
		(size_t)cb->nooo * sizeof(cb->ooo[0]));
	cb->ooo[0] = (struct tcp_range){seq, end - seq};
	cb->nooo++;
	return 1;
}

/* A segment's payload, being read: (n) bytes at (p), then the parts. */
struct payload {
	const uint8_t *p;
	uint32_t n;
	const struct tcp_part *more;
	unsigned nmore;
};

static struct payload payload_of(const struct tcp_seg *s)
{
	uint32_t apart = 0;
	for (unsigned i = 0; i < s->nmore; i++)
		apart += s->more[i].len;
	return (struct payload){s->data, s->len > apart ? s->len - apart : 0,
				s->more, s->nmore};
}

/* The bytes at (d->p) used up: on to the next part (0 if none). */
static int payload_next(struct payload *d)
{
	if (!d->nmore)
		return 0;
	d->p = d->more->p;
	d->n = d->more->len;
	d->more++;
	d->nmore--;
	return 1;
}

/* Pass over (k) bytes of (d). */
static void payload_skip(struct payload *d, uint32_t k)
{
	while (k && (d->n || payload_next(d))) {
		uint32_t m = min32(k, d->n);
		d->p += m;
		d->n -= m;
		k -= m;
	}
}

/* Copy (len) bytes of (d) into (r), (off) bytes past its data. */
static void payload_put(struct tcp_ring *r, uint32_t off, struct payload d,
			uint32_t len)
{
	while (len && (d.n || payload_next(&d))) {
		uint32_t k = min32(len, d.n);
		tcp_ring_put_at(r, off, d.p, k);
		d.p += k;
		d.n -= k;
		off += k;
		len -= k;
	}
}

/* Queue in-order data and the out-of-order ranges it reaches. */
static void take_data(struct tcp_cb *cb, uint32_t seq, struct payload data,
		      uint32_t len)
{
	uint32_t space = rcv_space(cb);
	if (seq == cb->rcv_nxt) {
		len = ring_reserve(cb, &cb->rcv, 0, min32(len, space));
		payload_put(&cb->rcv, 0, data, len);
		cb->rcv.len += len;
		cb->rcv_nxt += len;
		/* ranges that were waiting behind the gap, already in place
		 * in the ring */
		for (int i = 0; i < cb->nooo;) {
			struct tcp_range *o = &cb->ooo[i];
			if (tcp_seq_lt(cb->rcv_nxt, o->seq)) {
				i++;
				continue;
			}
			uint32_t end = o->seq + o->len;
			ooo_remove(cb, i);
			if (tcp_seq_lt(cb->rcv_nxt, end)) {
				cb->rcv.len += end - cb->rcv_nxt;
				cb->rcv_nxt = end;
				i = 0; /* it may reach more */
			}
		}
		return;
	}
	/* out of order: keep it in its place past the data; the ACK we
	 * send says where the gap is, and SACK what we hold */
	uint32_t off = seq - cb->rcv_nxt;
	cb->counts.ooo_segs++;
	if (off >= space)
		return;
	len = ring_reserve(cb, &cb->rcv, off, min32(len, space - off));
	if (len && ooo_add(cb, seq, len))
		payload_put(&cb->rcv, off, data, len);
}

/*
 * A D-SACK (RFC 2883): the first block reports data the peer got twice,
 * below the cumulative ACK or inside the second block. 1 if (s) has one.
 * It is counted against the current recovery's retransmissions: once all
 * of them came back as duplicates, the recovery was spurious (the
 * segments were late, not lost), so the window before it returns (RFC
 * 3708). (Raising the duplicate threshold with the reordering seen, as
 * Linux does, made the lossy-link test 6 times slower here: without
 * RACK's timer, real losses then waited for the retransmission timeout.)
 */
static int dsack_input(struct tcp_cb *cb, const struct tcp_seg *s)
{
	if (!cb->sack_ok || !s->nsack || !s->sack[0].len)
		return 0;
	struct tcp_range d = s->sack[0];
	uint32_t end = d.seq + d.len;
	if (!tcp_seq_le(end, s->ack) &&
	    !(s->nsack > 1 && tcp_seq_le(s->sack[1].seq, d.seq) &&
	      tcp_seq_le(end, s->sack[1].seq + s->sack[1].len)))
		return 0;
	cb->counts.dsacks++;
	rack_dsack(cb, tcp_seq_le(end, s->ack));
	if (!cb->undo_ok || !cb->undo_retrans ||
	    !tcp_seq_le(cb->undo_marker, d.seq))
		return 1;
	uint32_t segs = (d.len + cb->mss - 1) / cb->mss;
	cb->undo_retrans -= min32(segs, cb->undo_retrans);
	if (cb->undo_retrans)
		return 1;
	cb->cwnd = max32(cb->cwnd, cb->undo_cwnd);
	cb->ssthresh = max32(cb->ssthresh, cb->undo_ssthresh);
	cb->in_recovery = 0;
	cb->undo_ok = 0;
	cb->undone++;
	return 1;
}

/*
 * An ACK answering a segment without data that we cannot take (out of
 * the window, or acknowledging what was never sent): at most one each
 * TCP_OOW_ACK_NS, as Linux's tcp_invalid_ratelimit. Two ends that
 * disagree on the sequence numbers (data injected into one of them)
 * would otherwise answer each other's ACKs forever.
 */
static void oow_ack(struct tcp_cb *cb, const struct tcp_seg *s, uint64_t now)
{
	if (!s->len && !(s->flags & TCP_SYN) && cb->oow_ack_at &&
	    now - cb->oow_ack_at < TCP_OOW_ACK_NS)
		return;
	cb->oow_ack_at = now ? now : 1;
	send_ack(cb);
}

static void ack_input(struct tcp_cb *cb, const struct tcp_seg *s, uint32_t len,
		      uint64_t now)
{
	uint32_t ack = s->ack;
	uint32_t wnd = s->wnd << cb->snd_wscale;

	if (tcp_seq_lt(cb->snd_max, ack)) {
		oow_ack(cb, s, now); /* acknowledges what was never sent */
		return;
	}
	int dsack = dsack_input(cb, s);
	if (cb->sack_ok)
		rack_ack(cb, s, now);
	if (tcp_seq_le(ack, cb->snd_una)) {
		uint32_t sacked = tcp_sacked_bytes(cb);
		if (cb->sack_ok)
			sack_note(cb, s);
		/* a duplicate: count it only if it could be one (5681 2),
		 * or if it SACKs new data (6675 2) */
		if (ack == cb->snd_una && flight(cb) && !dsack &&
		    !(s->flags & (TCP_SYN | TCP_FIN)) &&
		    ((len == 0 && wnd == cb->snd_wnd) ||
		     tcp_sacked_bytes(cb) > sacked)) {
			cb->dupacks++;
			/* without SACK, duplicates are all there is to go
			 * by; with it, RACK decides (rack_detect, below) */
			if (!cb->sack_ok && !cb->in_recovery &&
			    !cb->rto_since && cb->dupacks >= dup_threshold(cb))
				enter_recovery(cb, now);
			else if (!cb->sack_ok &&
				 (cb->dupacks > 3 || cb->in_recovery))
				cb->cwnd += cb->mss; /* inflate */
		}
	} else {
		uint32_t acked = ack - cb->snd_una;
		cb->counts.bytes_acked += acked;
		tcp_ring_drop(&cb->snd, acked);
		ring_release(cb, &cb->snd);
		cb->snd_una = ack;
		cb->soft_error = 0; /* the path works after all */
		if (cb->sack_ok) {
			sack_trim(cb);
			rack_trim(cb);
			sack_note(cb, s);
		}
		if (tcp_seq_lt(cb->snd_nxt, cb->snd_una))
			cb->snd_nxt = cb->snd_una;
		if (cb->rtt_timing && tcp_seq_lt(cb->rtt_seq, ack)) {
			rtt_sample(cb, now - cb->rtt_start);
			cb->rtt_timing = 0;
		}
		cb->retries = 0;
		cb->stall_since = now;
		if (cb->rto_since && tcp_seq_le(cb->rto_high, ack))
			rto_over(cb, now);
		if (cb->snd_una == cb->snd_max)
			cb->rexmit_at = 0;
		else
			arm_rexmit(cb, now);
		if (cb->in_recovery) {
			if (tcp_seq_le(cb->recover, ack)) {
				cb->in_recovery = 0; /* full ACK */
				cb->cwnd = cb->ssthresh;
				if (cb->reo_persist && !--cb->reo_persist)
					cb->reo_mult = 1;
			} else if (!cb->sack_ok) {
				/* partial ACK (6582 3.2): the next hole */
				resend_first(cb, now);
				cb->cwnd = cb->cwnd > acked ? cb->cwnd - acked
							    : cb->mss;
				cb->cwnd += cb->mss;
			}
		} else if (cb->cwnd < cb->ssthresh) {
			/* slow start, counting bytes (RFC 3465): an ACK of
			 * many segments (one per 64 KiB frame a host's
			 * offloading receiver takes) counts them all */
			cb->cwnd += acked;
		} else {
			/* one segment per window acknowledged, in bytes */
			uint32_t inc =
				(uint32_t)((uint64_t)cb->mss *
					   min32(acked, cb->cwnd) / cb->cwnd);
			cb->cwnd += inc ? inc : 1;
		}
		cb->dupacks = 0;
		cb->persist_at = cb->probing_since = 0;
		cb->probe_out = 0;
		arm_probe(cb, now);
		cb->ops->event(cb);
	}
	if (cb->sack_ok)
		rack_detect(cb, now);
	/* the send window (3.10.7.4, "update the send window") */
	if (tcp_seq_lt(cb->snd_wl1, s->seq) ||
	    (cb->snd_wl1 == s->seq && tcp_seq_le(cb->snd_wl2, ack))) {
		cb->snd_wnd = wnd;
		cb->snd_wl1 = s->seq;
		cb->snd_wl2 = ack;
		if (wnd)
			cb->persist_at = cb->probing_since = 0;
	}
}

void tcp_input(struct tcp_cb *cb, const struct tcp_seg *seg, uint64_t now)
{
	struct tcp_seg s = *seg;
	uint32_t len = s.len;
	struct payload data = payload_of(&s);

	if (cb->state == TCP_CLOSED || cb->state == TCP_LISTEN)
		return; /* the caller answers for these */
	uint32_t segs = len ? (len + cb->mss - 1) / cb->mss : 1;
	cb->counts.segs_in += segs;
	if (len)
		cb->counts.data_segs_in += segs;
	if (cb->state == TCP_SYN_SENT) {
		syn_sent_input(cb, &s, now);
		return;
	}
	/* PAWS (RFC 7323 5.3): stamped before the latest segment taken, it
	 * is an old duplicate, whatever its sequence number says (which may
	 * have wrapped: at 2.8 GB/s in 1.5 s) */
	if (cb->ts_ok && s.ts && !(s.flags & TCP_RST) &&
	    (int32_t)(s.tsval - cb->ts_recent) < 0 &&
	    now - cb->ts_recent_at < TCP_PAWS_IDLE) {
		cb->counts.paws_drops++;
		oow_ack(cb, &s, now);
		return;
	}
	/* 1: is it in the window? */
	uint32_t seglen = len + ((s.flags & TCP_SYN) ? 1 : 0) +
			  ((s.flags & TCP_FIN) ? 1 : 0);
	if (!acceptable(cb, &s, seglen)) {
		if (len && tcp_seq_le(s.seq + len, cb->rcv_nxt) &&
		    !(s.flags & (TCP_SYN | TCP_RST)))
			note_duplicate(cb, s.seq, len); /* all of it old */
		if (!(s.flags & TCP_RST))
			oow_ack(cb, &s, now);
		return;
	}
	/* the value to echo: from a segment that reached what we last
	 * acknowledged (RFC 7323 4.3) */
	if (cb->ts_ok && s.ts && !(s.flags & TCP_RST) &&
	    tcp_seq_le(s.seq, cb->last_ack_sent)) {
		cb->ts_recent = s.tsval;
		cb->ts_recent_at = now;
	}
	cb->last_heard = now;
	cb->keep_probes = 0;
	/* trim what we already have */
	if (tcp_seq_lt(s.seq, cb->rcv_nxt)) {
		uint32_t skip = cb->rcv_nxt - s.seq;
		if (s.flags & TCP_SYN) {
			s.flags &= (uint8_t)~TCP_SYN;
			skip--;
			s.seq++;
		}
		skip = min32(skip, len);
		note_duplicate(cb, s.seq, skip);
		payload_skip(&data, skip);
		len -= skip;
		s.seq += skip;
	}
	/* 2: RST (with RFC 5961's exact-match rule) */
	if (s.flags & TCP_RST) {
		if (s.seq != cb->rcv_nxt) {
			send_ack(cb); /* a challenge ACK */
			return;
		}
		closed(cb,
		       cb->state == TCP_SYN_RCVD ? ECONNREFUSED : ECONNRESET);
		return;
	}
	/* 3: a SYN in the window: challenge ACK (RFC 5961 4) */
	if (s.flags & TCP_SYN) {
		send_ack(cb);
		return;
	}
	/* 4: ACK */
	if (!(s.flags & TCP_ACK))
		return;
	if (cb->state == TCP_SYN_RCVD) {
		if (!tcp_seq_lt(cb->snd_una, s.ack) ||
		    tcp_seq_lt(cb->snd_max, s.ack)) {
			out(cb, s.ack, 0, TCP_RST, 0, &no_opts, 0, 0);
			return;
		}
		cb->counts.bytes_acked += s.ack - cb->snd_una;
		cb->snd_una = s.ack; /* our SYN */
		cb->snd_wnd = s.wnd << cb->snd_wscale;
		cb->snd_wl1 = s.seq;
		cb->snd_wl2 = s.ack;
		cb->rexmit_at = 0;
		cb->retries = 0;
		rto_over(cb, now);
		/* a close() while the handshake was going on: now the FIN */
		set_state(cb,
			  cb->fin_queued ? TCP_FIN_WAIT_1 : TCP_ESTABLISHED);
	} else {
		ack_input(cb, &s, len, now);
	}
	int our_fin_acked = fin_acked(cb);
	switch (cb->state) {
	case TCP_FIN_WAIT_1:
		if (our_fin_acked) {
			cb->state = TCP_FIN_WAIT_2;
			fin2_arm(cb, now);
			cb->ops->event(cb);
		}
		break;
	case TCP_CLOSING:
		if (our_fin_acked) {
			cb->state = TCP_TIME_WAIT;
			cb->timewait_at = now + TCP_TIMEWAIT;
			cb->rexmit_at = 0;
			cb->ops->event(cb);
		}
		return;
	case TCP_LAST_ACK:
		if (our_fin_acked)
			closed(cb, 0);
		else
			tcp_output(cb, now); /* data the close left queued */
		return;
	case TCP_TIME_WAIT:
		if (s.flags & TCP_FIN) {
			send_ack(cb);
			cb->timewait_at = now + TCP_TIMEWAIT;
		}
		return;
	default:
		break;
	}
	/* 7: data */
	int ack_now = 0;
	if (len &&
	    (cb->state == TCP_ESTABLISHED || cb->state == TCP_FIN_WAIT_1 ||
	     cb->state == TCP_FIN_WAIT_2)) {
		int in_order = s.seq == cb->rcv_nxt;
		int gaps = cb->nooo;
		uint32_t had = cb->rcv_nxt;
		take_data(cb, s.seq, data, len);
		cb->counts.bytes_received += cb->rcv_nxt - had;
		uint32_t segs = (len + cb->mss - 1) / cb->mss;
		int big = len > cb->mss && len >= TCP_FRAME_BIG;
		if (!in_order || gaps)
			ack_now = 1; /* a gap, or one just filled (5681 4.2) */
		else if (big && cb->unacked_segs == 0) {
			/* a big offload frame, from a sender going at full
			 * speed through its host's segmentation: the ACK
			 * waits briefly for the next, since the sender's
			 * host spends as much on an ACK as on copying the
			 * frame to us (bbr's pacing: docs/net.md) */
			cb->unacked_segs = segs;
			if (!cb->delack_at ||
			    cb->delack_at > now + TCP_DELACK_FRAME)
				cb->delack_at = now + TCP_DELACK_FRAME;
		} else if ((cb->unacked_segs += segs) >= 2)
			/* every second segment, or a frame of many: one ACK
			 * for the batch, due at once, which the caller's
			 * tcp_timer after the batch sends (as Linux's GRO
			 * makes one of many) */
			cb->delack_at = 1;
		else if (!cb->delack_at)
			cb->delack_at = now + TCP_DELACK;
		cb->ops->event(cb);
	}
	/* 8: FIN, once everything before it is here */
	if ((s.flags & TCP_FIN) && s.seq + len == cb->rcv_nxt &&
	    !cb->fin_received) {
		cb->fin_received = 1;
		cb->rcv_nxt++;
		cb->nooo = 0; /* nothing can follow a FIN */
		ack_now = 1;
		switch (cb->state) {
		case TCP_ESTABLISHED:
			cb->state = TCP_CLOSE_WAIT;
			break;
		case TCP_FIN_WAIT_1:
			/* simultaneous close unless our FIN is acked */
			cb->state = TCP_CLOSING;
			break;
		case TCP_FIN_WAIT_2:
			cb->state = TCP_TIME_WAIT;
			cb->timewait_at = now + TCP_TIMEWAIT;
			cb->rexmit_at = 0;
			break;
		default:
			break;
		}
		cb->ops->event(cb);
	}
	uint32_t before = cb->snd_nxt;
	tcp_output(cb, now);
	if (ack_now && cb->snd_nxt == before)
		send_ack(cb);
}

/* ---- the program's calls ---- */

uint32_t tcp_send(struct tcp_cb *cb, const void *data, uint32_t len,
		  uint64_t now)
{
	if (cb->fin_queued)
		return 0;
	uint32_t n = tcp_ring_put(&cb->snd, data,
				  ring_reserve(cb, &cb->snd, 0, len));
	tcp_output(cb, now);
	return n;
}

uint32_t tcp_recv(struct tcp_cb *cb, void *out, uint32_t len, uint64_t now)
{
	(void)now;
	len = min32(len, cb->rcv.len);
	if (!len)
		return 0;
	uint32_t before = rcv_offer(cb);
	if (out)
		tcp_ring_peek(&cb->rcv, 0, out, len);
	/* out-of-order pieces sit after the data: keep their offsets */
	uint32_t cap = tcp_ring_cap(&cb->rcv);
	cb->rcv.head = (cb->rcv.head + len) % cap;
	cb->rcv.len -= len;
	if (!cb->nooo)
		ring_release(cb, &cb->rcv);
	/* a window update when the window (what we may announce of the
	 * ring's room) grew by two segments or half the most it can be
	 * (receiver-side silly window avoidance, 3.8.6.2.2) and at
	 * least doubled what the peer knows, as Linux does: a peer that
	 * still has half of it goes on sending, and the ACK of its next
	 * segment tells it the rest, one frame instead of two */
	uint32_t after = rcv_offer(cb);
	/* what the peer may still send (none if it sent past the edge) */
	uint32_t adv = tcp_seq_lt(cb->rcv_nxt, cb->rcv_adv)
			       ? cb->rcv_adv - cb->rcv_nxt
			       : 0;
	uint32_t most = min32(cap, wnd_max(cb));
	if (cb->state >= TCP_ESTABLISHED && after > adv &&
	    (after - adv >= 2 * (uint32_t)cb->mss || after - adv >= most / 2) &&
	    before <= adv + 2 * (uint32_t)cb->mss && after / 2 >= adv)
		send_ack(cb);
	return len;
}

void tcp_close(struct tcp_cb *cb, uint64_t now)
{
	switch (cb->state) {
	case TCP_LISTEN:
	case TCP_SYN_SENT:
		closed(cb, 0);
		return;
	case TCP_SYN_RCVD:
		cb->fin_queued = 1; /* sent once the handshake completes */
		return;
	case TCP_ESTABLISHED:
		cb->fin_queued = 1;
		cb->state = TCP_FIN_WAIT_1;
		break;
	case TCP_CLOSE_WAIT:
		cb->fin_queued = 1;
		cb->state = TCP_LAST_ACK;
		break;
	default:
		return;
	}
	cb->ops->event(cb);
	tcp_output(cb, now);
}

void tcp_abort(struct tcp_cb *cb)
{
	if (cb->state >= TCP_SYN_RCVD && cb->state != TCP_TIME_WAIT)
		out(cb, cb->snd_nxt, cb->rcv_nxt, TCP_RST | TCP_ACK, 0,
		    &no_opts, 0, 0);
	closed(cb, 0);
}

int tcp_icmp_error(struct tcp_cb *cb, uint32_t seq, int err)
{
	/* only about what is in flight: a blind attacker must guess it */
	if (tcp_seq_lt(seq, cb->snd_una) || !tcp_seq_lt(seq, cb->snd_nxt))
		return 0;
	if (cb->state == TCP_SYN_SENT || cb->state == TCP_SYN_RCVD) {
		closed(cb, err);
		return 1;
	}
	if (cb->state == TCP_CLOSED || cb->state == TCP_LISTEN)
		return 0;
	cb->soft_error = err;
	return 1;
}

void tcp_orphan(struct tcp_cb *cb, uint64_t now)
{
	cb->orphan = 1;
	fin2_arm(cb, now);
}

int tcp_mtu_reduced(struct tcp_cb *cb, uint32_t seq, uint32_t mss, uint64_t now)
{
	if (tcp_seq_lt(seq, cb->snd_una) || !tcp_seq_lt(seq, cb->snd_nxt) ||
	    cb->state < TCP_ESTABLISHED || mss >= cb->mss)
		return 0;
	cb->mss = (uint16_t)(mss < TCP_MSS_MIN ? TCP_MSS_MIN : mss);
	/* Linux's tcp_simple_retransmit: the segments in flight were too
	 * big for the path and dropped, not lost to congestion; they go
	 * again now, cut to the new size, the window as it was */
	cb->undo_ok = 0;
	cb->rtt_timing = 0;
	cb->nrtx = 0;
	cb->rack_at = 0;
	cb->snd_nxt = cb->snd_una;
	tcp_output(cb, now);
	if (!cb->rexmit_at)
		arm_rexmit(cb, now);
	return 1;
}

/* ---- time ---- */

uint64_t tcp_next_timer(const struct tcp_cb *cb)
{
	uint64_t t = UINT64_MAX;
	const uint64_t *all[] = {
		&cb->rexmit_at,	 &cb->delack_at, &cb->timewait_at,
		&cb->persist_at, &cb->keep_at,	 &cb->probe_at,
		&cb->rack_at,	 &cb->cork_at,	 &cb->fin2_at};
	for (unsigned i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (*all[i] && *all[i] < t)
			t = *all[i];
	return t;
}

/* The tail loss probe (RFC 8985 7.3): a new segment if the window takes
 * one, else the last one again, so that the peer's ACK (with SACK)
 * reveals a loss at the tail that no duplicate ACK would. */
static void send_probe(struct tcp_cb *cb, uint64_t now)
{
	cb->probe_at = 0;
	if (cb->snd_una == cb->snd_max || cb->state < TCP_ESTABLISHED)
		return;
	cb->probe_out = 1;
	cb->counts.probes++;
	if (cb->in_recovery) {
		/* the first hole: lost again, or never resent */
		resend_first(cb, now);
		return;
	}
	uint32_t before = cb->snd_nxt, cwnd = cb->cwnd;
	cb->cwnd = flight(cb) + cb->mss;
	tcp_output(cb, now);
	cb->cwnd = cwnd;
	if (cb->snd_nxt == before) {
		struct tcp_opts o;
		ack_opts(cb, &o);
		uint32_t data_end = cb->snd_una + sent_data(cb);
		uint32_t len = min32(cb->mss - tcp_opts_len(&o),
				     data_end - cb->snd_una);
		uint32_t seq = data_end - len;
		uint8_t flags = TCP_ACK;
		if (cb->fin_out && tcp_seq_lt(cb->fin_seq, cb->snd_max))
			flags |= TCP_FIN;
		emit(cb, seq, cb->rcv_nxt, flags, wnd_field(cb), &o,
		     seq - cb->snd_una, len);
		note_sent(cb, seq, len, now);
		cb->rtt_timing = 0; /* Karn */
	}
	arm_rexmit(cb, now);
}

/* What a connection given up reports: an ICMP error heard meanwhile,
 * else ETIMEDOUT (Linux's tcp_write_err) */
static int timed_out(const struct tcp_cb *cb)
{
	return cb->soft_error ? cb->soft_error : ETIMEDOUT;
}

static void retransmit_timeout(struct tcp_cb *cb, uint64_t now)
{
	cb->rexmit_at = 0;
	if (cb->state == TCP_SYN_SENT || cb->state == TCP_SYN_RCVD) {
		rto_fired(cb, now);
		if (++cb->retries >
		    (cb->syn_retries ? cb->syn_retries : TCP_SYN_RETRIES)) {
			closed(cb, timed_out(cb));
			return;
		}
		cb->rto = cb->rto * 2 > TCP_RTO_MAX ? TCP_RTO_MAX : cb->rto * 2;
		send_syn(cb);
		arm_rexmit(cb, now);
		return;
	}
	if (cb->snd_una == cb->snd_max)
		return;
	rto_fired(cb, now);
	/* with TCP_USER_TIMEOUT, the time without progress decides */
	cb->retries++;
	if (cb->user_timeout ? now - cb->stall_since >= cb->user_timeout
			     : cb->retries > TCP_RETRIES) {
		closed(cb, timed_out(cb));
		return;
	}
	/* 5681 3.1 (equation 4), then go back to the first unacked byte */
	cb->undo_ok = 0;
	cb->ssthresh = max32(flight(cb) / 2, 2 * (uint32_t)cb->mss);
	cb->cwnd = cb->mss;
	cb->in_recovery = 0;
	cb->dupacks = 0;
	cb->nsacked = 0; /* the peer may renege (RFC 2018 8) */
	cb->nrtx = 0;	 /* all of it goes again */
	cb->rack_at = 0;
	cb->rto = cb->rto * 2 > TCP_RTO_MAX ? TCP_RTO_MAX : cb->rto * 2;
	cb->rtt_timing = 0;
	cb->snd_nxt = cb->snd_una;
	tcp_output(cb, now);
	if (!cb->rexmit_at)
		arm_rexmit(cb, now);
}

void tcp_timer(struct tcp_cb *cb, uint64_t now)
{
	if (cb->timewait_at && now >= cb->timewait_at) {
		closed(cb, 0);
		return;
	}
	if (cb->fin2_at && now >= cb->fin2_at) {
		cb->fin2_at = 0;
		if (cb->state == TCP_FIN_WAIT_2) {
			tcp_abort(cb); /* Linux: reset, and gone */
			return;
		}
	}
	if (cb->rexmit_at && now >= cb->rexmit_at)
		retransmit_timeout(cb, now);
	else if (cb->probe_at && now >= cb->probe_at)
		send_probe(cb, now);
	if (cb->rack_at && now >= cb->rack_at)
		rack_detect(cb, now);
	if (cb->delack_at && now >= cb->delack_at)
		send_ack(cb);
	if (cb->cork_at && now >= cb->cork_at)
		tcp_push(cb, now);
	if (cb->persist_at && now >= cb->persist_at) {
		/* with TCP_USER_TIMEOUT, a window closed that long ends the
		 * connection even if the peer answers each probe (as Linux
		 * since 5.13's icsk_probes_tstamp) */
		if (!cb->probing_since)
			cb->probing_since = now;
		else if (cb->user_timeout &&
			 now - cb->probing_since >= cb->user_timeout) {
			closed(cb, timed_out(cb));
			return;
		}
		/* a window probe: an old sequence number makes the peer
		 * answer with its window */
		out(cb, cb->snd_una - 1, cb->rcv_nxt, TCP_ACK, wnd_field(cb),
		    &no_opts, 0, 0);
		cb->persist_at =
			now +
			(cb->rto < TCP_RTO_MAX / 2 ? cb->rto * 2 : TCP_RTO_MAX);
	}
	if (cb->keepalive && cb->state == TCP_ESTABLISHED) {
		uint64_t idle = now - cb->last_heard;
		if (idle >= cb->keep_idle + (uint64_t)cb->keep_probes *
						    cb->keep_intvl) {
			/* TCP_USER_TIMEOUT decides instead of the count */
			if (cb->user_timeout
				    ? cb->keep_probes &&
					      idle >= cb->user_timeout
				    : cb->keep_probes >= cb->keep_cnt) {
				tcp_abort(cb);
				cb->error = timed_out(cb);
				return;
			}
			out(cb, cb->snd_una - 1, cb->rcv_nxt, TCP_ACK,
			    wnd_field(cb), &no_opts, 0, 0);
			cb->keep_probes++;
		}
	}
	keep_arm(cb);
}

int tcp_reset_for(const struct tcp_seg *s, uint32_t *seq, uint32_t *ack,
		  uint8_t *flags)
{
	if (s->flags & TCP_RST)
		return 0;
	if (s->flags & TCP_ACK) {
		*seq = s->ack;
		*ack = 0;
		*flags = TCP_RST;
	} else {
		*seq = 0;
		*ack = s->seq + s->len + ((s->flags & TCP_SYN) ? 1 : 0) +
		       ((s->flags & TCP_FIN) ? 1 : 0);
		*flags = TCP_RST | TCP_ACK;
	}
	return 1;
}

#define OPT_EOL 0
#define OPT_NOP 1
#define OPT_MSS 2
#define OPT_WS 3
#define OPT_SACK_PERMITTED 4
#define OPT_SACK 5
#define OPT_TS 8

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

uint32_t tcp_write_options(const struct tcp_opts *o, uint8_t *out)
{
	uint8_t *p = out;
	if (o->mss) {
		*p++ = OPT_MSS;
		*p++ = 4;
		*p++ = (uint8_t)(o->mss >> 8);
		*p++ = (uint8_t)o->mss;
	}
	if (o->sack_permitted) {
		*p++ = OPT_NOP;
		*p++ = OPT_NOP;
		*p++ = OPT_SACK_PERMITTED;
		*p++ = 2;
	}
	if (o->wscale >= 0) {
		*p++ = OPT_NOP;
		*p++ = OPT_WS;
		*p++ = 3;
		*p++ = (uint8_t)o->wscale;
	}
	if (o->ts) {
		*p++ = OPT_NOP;
		*p++ = OPT_NOP;
		*p++ = OPT_TS;
		*p++ = 10;
		p = put32(p, o->tsval);
		p = put32(p, o->tsecr);
	}
	if (o->nsack) {
		*p++ = OPT_NOP;
		*p++ = OPT_NOP;
		*p++ = OPT_SACK;
		*p++ = (uint8_t)(2 + 8 * o->nsack);
		for (int i = 0; i < o->nsack; i++) {
			p = put32(p, o->sack[i].seq);
			p = put32(p, o->sack[i].seq + o->sack[i].len);
		}
	}
	return (uint32_t)(p - out);
}

int tcp_parse_options(const uint8_t *o, size_t n, struct tcp_seg *seg)
{
	seg->mss = 0;
	seg->wscale = -1;
	seg->sack_permitted = 0;
	seg->nsack = 0;
	seg->ts = 0;
	for (size_t i = 0; i < n;) {
		if (o[i] == OPT_EOL)
			break;
		if (o[i] == OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= n || o[i + 1] < 2 || i + o[i + 1] > n)
			return -1; /* a length that runs off the header */
		if (o[i] == OPT_MSS && o[i + 1] == 4)
			seg->mss = (uint16_t)(o[i + 2] << 8 | o[i + 3]);
		else if (o[i] == OPT_WS && o[i + 1] == 3)
			seg->wscale = (int8_t)(o[i + 2] > 14 ? 14 : o[i + 2]);
		else if (o[i] == OPT_SACK_PERMITTED && o[i + 1] == 2)
			seg->sack_permitted = 1;
		else if (o[i] == OPT_TS && o[i + 1] == 10) {
			seg->ts = 1;
			seg->tsval = get32(o + i + 2);
			seg->tsecr = get32(o + i + 6);
		} else if (o[i] == OPT_SACK && (o[i + 1] - 2) % 8 == 0)
			for (size_t b = i + 2;
			     b < i + o[i + 1] && seg->nsack < TCP_SACK_MAX;
			     b += 8) {
				uint32_t l = get32(o + b), r = get32(o + b + 4);
				seg->sack[seg->nsack++] =
					(struct tcp_range){l, r - l};
			}
		i += o[i + 1];
	}
	if (seg->mss && seg->mss < 64)
		seg->mss = 64;
	return 0;
}

const char *tcp_state_name(enum tcp_state s)
{
	static const char *const names[] = {
		"CLOSED",      "LISTEN",     "SYN_SENT",   "SYN_RCVD",
		"ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT",
		"CLOSING",     "LAST_ACK",   "TIME_WAIT",
	};
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}
