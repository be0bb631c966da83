/* fuzz_tcp.c: libFuzzer sends arbitrary segments, options and IPv4
 * headers to the guest's TCP state machine and header checks: whatever a
 * peer sends, nothing crashes, hangs or leaves the rings inconsistent.
 *
 * Input: a program of records. Each starts with an opcode byte: a segment
 * for the connection (header fields and up to 255 bytes of data), time
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

static void output(struct tcp_cb *cb, uint32_t seq, uint32_t ack, uint8_t flags,
		   uint16_t wnd, int mss, int wscale, uint32_t off,
		   uint32_t len)
{
	static uint8_t data[4096];
	(void)seq, (void)ack, (void)flags, (void)wnd, (void)mss, (void)wscale;
	if (len > sizeof(data) || (uint64_t)off + len > cb->snd.len + 1)
		abort(); /* asked to send what is not in the ring */
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
	    tcp_seq_lt(cb->snd_max, cb->snd_nxt))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct tcp_cb cb;
	uint64_t now = 1000000000;
	static uint8_t buf[16384];

	memset(&cb, 0, sizeof(cb));
	cb.snd = (struct tcp_ring){snd, 2, 0, 0};
	cb.rcv = (struct tcp_ring){rcv, 2, 0, 0};
	tcp_init(&cb, &ops, NULL, 1460);
	/* an established connection: our SYN, the peer's SYN-ACK */
	tcp_connect(&cb, 1000, now);
	struct tcp_seg synack = {5000, 1001, TCP_SYN | TCP_ACK, 65535, 1460, 7,
				 NULL, 0};
	tcp_input(&cb, &synack, now);
	for (size_t i = 0; i < n;) {
		uint8_t op = d[i++];
		switch (op % 6) {
		case 0: { /* a segment: 14 bytes of header, then data */
			if (n - i < 14)
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
			i += 14;
			if (len > n - i)
				len = (uint32_t)(n - i);
			s.data = d + i;
			s.len = len;
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
