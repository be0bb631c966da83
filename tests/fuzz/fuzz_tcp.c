/* fuzz_tcp.c: libFuzzer sends arbitrary segments, options and IPv4
 * headers to the guest's TCP state machine and header checks: whatever a
 * peer sends, nothing crashes, hangs or leaves the rings inconsistent.
 *
 * Input: a program of records. Each starts with an opcode byte: a segment
 * for the connection (header fields, SACK blocks and up to 255 bytes of
 * data), time
 * passing, the program's send/recv/close, an option block for the parser,
 * or a packet for ip_check.
 */
#include "lib/inet.h"
#include "lib/tcp.h"

#include <stdlib.h>
#include <string.h>

static uint8_t pages[4][TCP_PAGE];
static uint8_t *snd[2] = {pages[0], pages[1]}, *rcv[2] = {pages[2], pages[3]};
static uint64_t outputs;
/* the end of the highest data sent; 0 before any */
static uint32_t sent_end;
static int sent_any;

static void output(struct tcp_cb *cb, uint32_t seq, uint32_t ack, uint8_t flags,
		   uint16_t wnd, const struct tcp_opts *o, uint32_t off,
		   uint32_t len)
{
	static uint8_t data[4096], opt[64];
	(void)seq, (void)ack, (void)flags, (void)wnd;
	if (len > sizeof(data) || (uint64_t)off + len > cb->snd.len + 1)
		abort(); /* asked to send what is not in the ring */
	if (tcp_opts_len(o) > 40 ||
	    tcp_write_options(o, opt) != tcp_opts_len(o))
		abort();
	if (!(flags & TCP_SYN) && tcp_opts_len(o) + len > cb->mss)
		abort(); /* options and data beyond the MSS */
	if (len && (!sent_any || tcp_seq_lt(sent_end, seq + len))) {
		sent_end = seq + len;
		sent_any = 1;
	}
	if (len)
		tcp_ring_peek(&cb->snd, off, data, len);
	outputs++;
}

static void event(struct tcp_cb *cb)
{
	(void)cb;
}

static const struct tcp_ops ops = {output, event};

static void check(const struct tcp_cb *cb)
{
	if (cb->snd.len > tcp_ring_cap(&cb->snd) ||
	    cb->rcv.len > tcp_ring_cap(&cb->rcv) || cb->nooo > TCP_OOO_MAX ||
	    tcp_seq_lt(cb->snd_nxt, cb->snd_una) ||
	    tcp_seq_lt(cb->snd_max, cb->snd_nxt) ||
	    cb->nsacked > TCP_SACK_SCORE)
		abort();
	/* nothing went out past snd_max: the peer could ACK it, and we
	 * would ignore that ACK as one for data never sent */
	if (sent_any && tcp_seq_lt(cb->snd_max, sent_end) &&
	    cb->state != TCP_CLOSED)
		abort();
	/* held data: past rcv_nxt, inside the ring, apart */
	uint32_t room = tcp_ring_cap(&cb->rcv) - cb->rcv.len;
	for (int i = 0; i < cb->nooo; i++) {
		const struct tcp_range *o = &cb->ooo[i];
		if (!o->len || !tcp_seq_lt(cb->rcv_nxt, o->seq) ||
		    o->seq + o->len - cb->rcv_nxt > room)
			abort();
		for (int j = 0; j < i; j++) {
			const struct tcp_range *p = &cb->ooo[j];
			if (tcp_seq_le(o->seq, p->seq + p->len) &&
			    tcp_seq_le(p->seq, o->seq + o->len))
				abort();
		}
	}
	/* the scoreboard: sorted, apart, within what is outstanding */
	for (int i = 0; i < cb->nsacked; i++) {
		const struct tcp_range *b = &cb->sacked[i];
		if (!b->len || tcp_seq_lt(b->seq, cb->snd_una) ||
		    tcp_seq_lt(cb->snd_max, b->seq + b->len) ||
		    (i &&
		     !tcp_seq_lt(cb->sacked[i - 1].seq + cb->sacked[i - 1].len,
				 b->seq)))
			abort();
	}
	/* RACK's send times: resent ranges sorted, apart and not empty;
	 * first sends in order */
	if (cb->nrtx > TCP_RTX_MAX || cb->nsent > TCP_SENT_MAX)
		abort();
	for (int i = 0; i < cb->nrtx; i++) {
		const struct tcp_rtx *r = &cb->rtx[i];
		if (!tcp_seq_lt(r->seq, r->end) ||
		    (i && tcp_seq_lt(r->seq, cb->rtx[i - 1].end)))
			abort();
	}
	for (int i = 1; i < cb->nsent; i++)
		if (!tcp_seq_lt(cb->sent[i - 1].end, cb->sent[i].end) ||
		    cb->sent[i].ts < cb->sent[i - 1].ts)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct tcp_cb cb;
	uint64_t now = 1000000000;
	static uint8_t buf[16384], apart[256];

	memset(&cb, 0, sizeof(cb));
	sent_any = 0;
	cb.snd = (struct tcp_ring){snd, 2, 0, 0, 0};
	cb.rcv = (struct tcp_ring){rcv, 2, 0, 0, 0};
	tcp_init(&cb, &ops, NULL, 1460);
	/* an established connection: our SYN, the peer's SYN-ACK */
	tcp_connect(&cb, 1000, now);
	/* SACK on, unless the first byte is odd; timestamps if its second
	 * bit is set */
	struct tcp_seg synack = {.seq = 5000,
				 .ack = 1001,
				 .flags = TCP_SYN | TCP_ACK,
				 .wnd = 65535,
				 .mss = 1460,
				 .wscale = 7,
				 .sack_permitted = !(n && d[0] & 1),
				 .ts = n && d[0] & 2,
				 .tsval = 77777};
	tcp_input(&cb, &synack, now);
	for (size_t i = 0; i < n;) {
		uint8_t op = d[i++];
		switch (op % 6) {
		case 0: { /* a segment: 16 bytes of header, then data */
			if (n - i < 16)
				return 0;
			struct tcp_seg s;
			uint32_t seq_delta, ack_delta;
			memcpy(&seq_delta, d + i, 4);
			memcpy(&ack_delta, d + i + 4, 4);
			/* mostly near the right numbers, sometimes anywhere */
			s.seq = op & 0x80 ? seq_delta
					  : cb.rcv_nxt + (seq_delta % 8192) -
						    4096;
			s.ack = op & 0x40 ? ack_delta
					  : cb.snd_una + (ack_delta % 8192);
			s.flags = d[i + 8] & 0x1f;
			s.wnd = (uint32_t)(d[i + 9] | d[i + 10] << 8);
			s.mss = d[i + 11];
			s.wscale = (int8_t)(d[i + 12] % 20) - 1;
			uint32_t len = d[i + 13];
			/* SACK blocks around what is outstanding */
			s.sack_permitted = 0;
			s.nsack = d[i + 14] % (TCP_SACK_MAX + 1);
			for (uint32_t k = 0; k < s.nsack; k++) {
				uint32_t x = d[i + 15] * (k + 7u);
				s.sack[k] = (struct tcp_range){
					cb.snd_una + (x * 64) % 16384 - 1024,
					(x ^ 0x5a5a) % 8192};
			}
			/* timestamps around the latest one, or none */
			s.ts = d[i + 14] >> 7;
			s.tsval = cb.ts_recent +
				  (uint32_t)(int8_t)d[i + 12] * 100u;
			s.tsecr = seq_delta;
			i += 16;
			if (len > n - i)
				len = (uint32_t)(n - i);
			s.data = d + i;
			s.len = len;
			/* sometimes in parts, as a frame spread over receive
			 * buffers: the second from its own copy */
			struct tcp_part part;
			s.more = &part;
			s.nmore = 0;
			if (d[i - 1] & 8) {
				uint32_t head = len * (d[i - 1] & 7) / 8;
				memcpy(apart, d + i + head, len - head);
				part = (struct tcp_part){apart, len - head};
				s.nmore = 1;
			}
			i += len;
			tcp_input(&cb, &s, now);
			break;
		}
		case 1: /* time passes */
			if (i < n)
				now += (uint64_t)d[i++] * 10000000;
			tcp_timer(&cb, now);
			break;
		case 2: /* the program sends */
			if (i < n) {
				uint32_t len = d[i++] * 64u;
				memset(buf, 'x', len);
				tcp_send(&cb, buf, len, now);
			}
			break;
		case 3: /* the program reads */
			tcp_recv(&cb, buf, sizeof(buf), now);
			break;
		case 4: /* options and IPv4 headers from the wire */
			if (i < n) {
				size_t len = d[i++];
				if (len > n - i)
					len = n - i;
				struct tcp_seg s;
				size_t plen;
				tcp_parse_options(d + i, len, &s);
				ip_check(d + i, len, &plen);
				i += len;
			}
			break;
		default:
			if (op & 0x10)
				tcp_close(&cb, now);
			else if (op & 0x20)
				tcp_abort(&cb);
		}
		check(&cb);
	}
	return 0;
}
