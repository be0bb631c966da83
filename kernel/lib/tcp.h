/* tcp.h: the TCP state machine (RFC 9293), pure: no clock, no memory
 * allocation, no network. The kernel (net/tcp_sock.c) and the host unit
 * tests drive it the same way: segments in (tcp_input), time passing
 * (tcp_timer), the program's calls (tcp_send, tcp_recv, tcp_close), and
 * segments out through the output callback.
 *
 * What it does: the whole state diagram including simultaneous open and
 * close; MSS and window scale options; retransmission timeout per RFC 6298
 * (Karn's algorithm, exponential backoff); slow start, congestion
 * avoidance, fast retransmit and NewReno recovery (RFC 5681, 6582);
 * delayed ACKs; Nagle's algorithm; zero-window probes; keepalive; RST
 * processing; TIME_WAIT. Not yet: SACK, timestamps, urgent data.
 *
 * Buffers are rings of 4 KiB pages the caller provides. Sequence numbers
 * and lengths are host order here; the caller converts headers.
 */
#ifndef FRESCO_TCP_H
#define FRESCO_TCP_H

#include <stddef.h>
#include <stdint.h>

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

enum tcp_state {
	TCP_CLOSED,
	TCP_LISTEN,
	TCP_SYN_SENT,
	TCP_SYN_RCVD,
	TCP_ESTABLISHED,
	TCP_FIN_WAIT_1,
	TCP_FIN_WAIT_2,
	TCP_CLOSE_WAIT,
	TCP_CLOSING,
	TCP_LAST_ACK,
	TCP_TIME_WAIT,
};

#define TCP_PAGE 4096
#define TCP_MSS_DEFAULT 536
#define TCP_OOO_MAX 32

/* A byte ring over (npages) pages: (len) bytes from (head). */
struct tcp_ring {
	uint8_t **pages;
	uint32_t npages;
	uint32_t head, len;
};

static inline uint32_t tcp_ring_cap(const struct tcp_ring *r)
{
	return r->npages * TCP_PAGE;
}
/* Append up to (n) bytes; returns how many fit. */
uint32_t tcp_ring_put(struct tcp_ring *r, const void *data, uint32_t n);
/* Copy (n) bytes from (off) bytes past the head (no consuming). */
void tcp_ring_peek(const struct tcp_ring *r, uint32_t off, void *out,
		   uint32_t n);
/* Write (n) bytes at (off) past the end of the data (out-of-order data
 * waiting for the gap before it), within the capacity. */
void tcp_ring_put_at(struct tcp_ring *r, uint32_t off, const void *data,
		     uint32_t n);
void tcp_ring_drop(struct tcp_ring *r, uint32_t n);

/* A segment as the engine sees it: header fields in host order. */
struct tcp_seg {
	uint32_t seq, ack;
	uint8_t flags;
	uint32_t wnd;  /* the raw 16-bit field */
	uint16_t mss;  /* option, 0 if absent */
	int8_t wscale; /* option, -1 if absent */
	const uint8_t *data;
	uint32_t len;
};

struct tcp_cb;

struct tcp_ops {
	/* send a segment: header values, and (len) bytes of the send ring
	 * from (data_off) past snd_una; (mss, wscale) >= 0 only on SYNs */
	void (*output)(struct tcp_cb *cb, uint32_t seq, uint32_t ack,
		       uint8_t flags, uint16_t wnd, int mss, int wscale,
		       uint32_t data_off, uint32_t len);
	/* state changed, data or room appeared: wake whoever waits */
	void (*event)(struct tcp_cb *cb);
};

struct tcp_ooo {
	uint32_t seq, len; /* held in the receive ring past its data */
};

struct tcp_cb {
	const struct tcp_ops *ops;
	void *owner;
	enum tcp_state state;
	int error; /* ECONNREFUSED, ECONNRESET, ETIMEDOUT once closed */

	/* send side */
	uint32_t iss, snd_una, snd_nxt, snd_max, snd_wl1, snd_wl2;
	uint32_t snd_wnd; /* scaled */
	uint8_t snd_wscale, rcv_wscale, wscale_ok;
	uint16_t mss;	  /* the most we send in a segment */
	uint16_t our_mss; /* what we announce */
	struct tcp_ring snd;
	int fin_queued; /* close(): a FIN follows the data */
	int fin_out;	/* it was sent, as sequence number fin_seq */
	uint32_t fin_seq;
	int nodelay;

	/* receive side */
	uint32_t irs, rcv_nxt, rcv_adv; /* rcv_adv: right edge announced */
	struct tcp_ring rcv;
	struct tcp_ooo ooo[TCP_OOO_MAX];
	int nooo;
	int fin_received;
	uint32_t unacked_segs; /* received since our last ACK */

	/* congestion control */
	uint32_t cwnd, ssthresh, dupacks, recover;
	int in_recovery;

	/* timing, in ns of the caller's clock */
	uint64_t srtt, rttvar, rto;
	int rtt_timing;
	uint32_t rtt_seq;
	uint64_t rtt_start;
	int backoff;
	uint64_t rexmit_at, delack_at, timewait_at, persist_at, keep_at;
	int retries;
	int keepalive;
	uint64_t keep_idle, keep_intvl;
	int keep_cnt, keep_probes;
	uint64_t last_heard;
};

/* Timers and limits, ns */
#define TCP_RTO_INIT 1000000000ULL
#define TCP_RTO_MIN 200000000ULL
#define TCP_RTO_MAX 60000000000ULL
#define TCP_DELACK 40000000ULL
#define TCP_TIMEWAIT 60000000000ULL
#define TCP_RETRIES 15	  /* then ETIMEDOUT, as Linux's tcp_retries2 */
#define TCP_SYN_RETRIES 6 /* as Linux's tcp_syn_retries */

/* Set up (cb) on its rings; state CLOSED. */
void tcp_init(struct tcp_cb *cb, const struct tcp_ops *ops, void *owner,
	      uint16_t our_mss);
void tcp_listen(struct tcp_cb *cb);
/* Active open: send the SYN. */
void tcp_connect(struct tcp_cb *cb, uint32_t iss, uint64_t now);
/* A SYN arrived for listening (lis): set up (child) (already tcp_init'ed)
 * in SYN_RCVD and answer SYN-ACK. */
void tcp_accept_syn(struct tcp_cb *child, const struct tcp_seg *syn,
		    uint32_t iss, uint64_t now);
/* A segment for (cb). */
void tcp_input(struct tcp_cb *cb, const struct tcp_seg *seg, uint64_t now);
/* Queue the program's data: bytes taken (0 if no room). */
uint32_t tcp_send(struct tcp_cb *cb, const void *data, uint32_t len,
		  uint64_t now);
/* Take received data: bytes copied. */
uint32_t tcp_recv(struct tcp_cb *cb, void *out, uint32_t len, uint64_t now);
/* close() or shutdown(SHUT_WR): a FIN after the queued data. */
void tcp_close(struct tcp_cb *cb, uint64_t now);
/* Abort: RST to the peer (if synchronized), state CLOSED. */
void tcp_abort(struct tcp_cb *cb);
/* Time passed: retransmit, ACK, leave TIME_WAIT, probe. */
void tcp_timer(struct tcp_cb *cb, uint64_t now);
/* The earliest time tcp_timer has work; UINT64_MAX for none. */
uint64_t tcp_next_timer(const struct tcp_cb *cb);
/* Send what the windows allow (after tcp_send, or a window opened). */
void tcp_output(struct tcp_cb *cb, uint64_t now);

/* The RST answering a segment that belongs to no connection (RFC 9293
 * 3.10.7.1): fills (*seq, *ack, *flags); 0 if none is due (it was an
 * RST). */
int tcp_reset_for(const struct tcp_seg *seg, uint32_t *seq, uint32_t *ack,
		  uint8_t *flags);

static inline int tcp_seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}
static inline int tcp_seq_le(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

/* Read a segment's options (n bytes at o) into (seg): MSS and window
 * scale; the rest are skipped. -1 if an option's length is malformed. */
int tcp_parse_options(const uint8_t *o, size_t n, struct tcp_seg *seg);

const char *tcp_state_name(enum tcp_state s);

#endif
