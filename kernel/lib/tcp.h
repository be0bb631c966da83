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
 * selective acknowledgments (RFC 2018: blocks for the out-of-order data
 * we hold; RFC 6675: loss recovery from the peer's blocks; RFC 2883 and
 * 3708: D-SACKs both ways, and spurious recoveries undone); RACK (RFC
 * 8985: losses found by send times, lost retransmissions included, with
 * a reordering window that adapts) and tail loss probes (RFC 8985 7);
 * limited transmit (RFC 3042), and early retransmit (RFC 5827) without
 * SACK; delayed ACKs; Nagle's algorithm; zero-window probes; keepalive;
 * RST processing; TIME_WAIT; timestamps and PAWS (RFC 7323); the counts
 * Linux's TCP_INFO reports. Not yet: urgent data.
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
#define TCP_MSS_DEFAULT 536U	    /* spelt as <linux/tcp.h> does */
#define TCP_OOO_MAX 32		    /* out-of-order ranges held */
#define TCP_SACK_MAX 4		    /* blocks in one segment (RFC 2018 3) */
#define TCP_OOW_ACK_NS 500000000ULL /* between ACKs to unusable ACKs */
#define TCP_SACK_SCORE 16 /* ranges the peer SACKed that we remember */
#define TCP_SENT_MAX 64	  /* send times of first transmissions kept */
#define TCP_RTX_MAX 32	  /* resent ranges, with their times, kept */

/* A byte ring over (npages) pages: (len) bytes from (head). A page no
 * data has reached yet is NULL; a connection's rings take their pages as
 * data comes (tcp_ops.page_get) and, unless told to keep them, give them
 * back once empty. Every page the data lies in is there. */
struct tcp_ring {
	uint8_t **pages;
	uint32_t npages;
	uint32_t head, len;
	int keep; /* keeps its pages when empty (one grown for a burst) */
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
/* Where the data (off) bytes past the head lies: at most (*n) bytes in
 * one page, (*n) lowered to those (for a caller that copies them itself,
 * as to a program's memory). */
const uint8_t *tcp_ring_span(const struct tcp_ring *r, uint32_t off,
			     uint32_t *n);
/* Write (n) bytes at (off) past the end of the data (out-of-order data
 * waiting for the gap before it), within the capacity. */
void tcp_ring_put_at(struct tcp_ring *r, uint32_t off, const void *data,
		     uint32_t n);
void tcp_ring_drop(struct tcp_ring *r, uint32_t n);

/* Sequence numbers [seq, seq + len). */
struct tcp_range {
	uint32_t seq, len;
};

/* Data bytes before (end) not in an earlier record first went out at
 * (ts), or a little before. */
struct tcp_sent {
	uint32_t end;
	uint64_t ts;
};

/* Data [seq, end) last went out again at (ts). */
struct tcp_rtx {
	uint32_t seq, end;
	uint64_t ts;
};

/* A segment as the engine sees it: header fields in host order. */
/* Part of a segment's payload that lies apart from the rest: a big frame
 * received into several buffers is taken from them as it lies. */
struct tcp_part {
	const uint8_t *p;
	uint32_t len;
};

struct tcp_seg {
	uint32_t seq, ack;
	uint8_t flags;
	uint32_t wnd;  /* the raw 16-bit field */
	uint16_t mss;  /* option, 0 if absent */
	int8_t wscale; /* option, -1 if absent */
	/* the payload: (len) bytes, those at (data) first, then the
	 * (nmore) parts at (more) (none: all (len) are at (data)) */
	const uint8_t *data;
	uint32_t len;
	const struct tcp_part *more;
	unsigned nmore;
	uint8_t sack_permitted; /* option (SYNs) */
	uint8_t nsack;		/* SACK blocks, as sent (unchecked) */
	struct tcp_range sack[TCP_SACK_MAX];
	uint8_t ts;	       /* a timestamps option (RFC 7323): */
	uint32_t tsval, tsecr; /* its values */
};

/* The options of a segment going out. */
struct tcp_opts {
	uint16_t mss;  /* 0: none (SYNs carry it) */
	int8_t wscale; /* -1: none */
	uint8_t sack_permitted;
	uint8_t nsack;
	struct tcp_range sack[TCP_SACK_MAX]; /* the newest block first */
	/* timestamps (RFC 7323): the engine asks for the option and says
	 * what to echo; the output callback stamps tsval from its clock */
	uint8_t ts;
	uint32_t tsval, tsecr;
};

/* Bytes (o) takes in a header, padded to 4. */
static inline uint32_t tcp_opts_len(const struct tcp_opts *o)
{
	return (o->mss ? 4u : 0u) + (o->sack_permitted ? 4u : 0u) +
	       (o->wscale >= 0 ? 4u : 0u) +
	       (o->nsack ? 4u + 8u * o->nsack : 0u) + (o->ts ? 12u : 0u);
}

/* What all connections did, for /proc/net/snmp's Tcp line, as Linux
 * counts (RFC 4022): opens from CLOSED to SYN_SENT (active) and from a
 * listener to SYN_RCVD (passive); attempts that ended from SYN_SENT or
 * SYN_RCVD, and connections that ended from ESTABLISHED or CLOSE_WAIT,
 * straight to CLOSED; segments in (all, and those in error: bad
 * checksum, lengths or options) and out (retransmissions apart); RSTs
 * sent. The segments a device cuts from a large send count each. */
struct tcp_mib {
	uint64_t active_opens, passive_opens, attempt_fails, estab_resets;
	uint64_t in_segs, out_segs, retrans_segs, in_errs, out_rsts;
	uint64_t in_csum_errors;
};
extern struct tcp_mib tcp_mib;

/* What a connection did, for TCP_INFO and tests. Segments count what a
 * device cutting a large send makes of it. */
struct tcp_counts {
	uint64_t bytes_sent, bytes_retrans; /* data, resent included */
	uint64_t bytes_acked, bytes_received;
	uint32_t segs_out, segs_in, data_segs_out, data_segs_in;
	uint32_t retrans_segs;	 /* data segments sent again */
	uint32_t timeouts;	 /* retransmission timeouts */
	uint32_t rto_recoveries; /* runs of them, each ended by an ACK */
	uint64_t rto_ns;	 /* time in those that ended */
	uint32_t recoveries;	 /* fast recoveries entered */
	uint32_t probes;	 /* tail loss probes sent */
	uint32_t dsacks;	 /* duplicates the peer reported */
	uint32_t ooo_segs;	 /* segments received out of order */
	uint32_t paws_drops;	 /* segments older than ts_recent, dropped */
	uint32_t reorders;	 /* the peer got data in another order */
};

struct tcp_cb;

struct tcp_ops {
	/* send a segment: header values, options (encoded in the order
	 * of their fields), and (len) bytes of the send ring from
	 * (data_off) past snd_una; tcp_opts_len(opts) + len is at most
	 * 40 + the MSS */
	void (*output)(struct tcp_cb *cb, uint32_t seq, uint32_t ack,
		       uint8_t flags, uint16_t wnd, const struct tcp_opts *opts,
		       uint32_t data_off, uint32_t len);
	/* state changed, data or room appeared: wake whoever waits */
	void (*event)(struct tcp_cb *cb);
	/* a page (TCP_PAGE bytes) for one of (cb)'s rings, or NULL when
	 * there is none to be had (the data is then not taken: the peer
	 * resends it, the program's write waits); and one a ring gave back.
	 * Without them, rings keep the pages they were given. */
	void *(*page_get)(struct tcp_cb *cb);
	void (*page_put)(struct tcp_cb *cb, void *page);
};

struct tcp_cb {
	const struct tcp_ops *ops;
	void *owner;
	enum tcp_state state;
	int error;	/* ECONNREFUSED, ECONNRESET, ETIMEDOUT once closed */
	int soft_error; /* an ICMP error: what a timeout reports instead */

	/* send side */
	uint32_t iss, snd_una, snd_nxt, snd_max, snd_wl1, snd_wl2;
	uint32_t snd_wnd; /* scaled */
	uint8_t snd_wscale, rcv_wscale, wscale_ok;
	uint16_t mss;	  /* the most we send in a segment */
	uint16_t our_mss; /* what we announce */
	/* bytes of new data one output may carry, in whole segments, for a
	 * device that cuts them (segmentation offload); 0: one segment */
	uint32_t tso_max;
	struct tcp_ring snd;
	int fin_queued; /* close(): a FIN follows the data */
	int fin_out;	/* it was sent, as sequence number fin_seq */
	uint32_t fin_seq;
	int nodelay;
	uint8_t sack_ok; /* both sides sent SACK-permitted */
	/* both sides sent timestamps (RFC 7323): every segment but an RST
	 * carries them; ts_recent is the peer's value to echo, taken from
	 * segments at or before last_ack_sent; older ones are dropped
	 * (PAWS) */
	uint8_t ts_ok;
	uint32_t ts_recent, last_ack_sent;
	uint64_t ts_recent_at; /* when ts_recent was taken */
	/* what the peer SACKed past snd_una: sorted, disjoint, not
	 * touching */
	struct tcp_range sacked[TCP_SACK_SCORE];
	int nsacked;
	/* RACK (RFC 8985): when each byte past snd_una last went out (first
	 * transmissions in order of sequence, coarser when there are many;
	 * resent ranges sorted and disjoint); the send time and end of the
	 * most recently sent data the peer has (rack_ts, rack_end), and
	 * the round trip that data took; whether the peer got data in
	 * another order than we sent it (then only time tells a loss, with
	 * a window that grows with each round of D-SACKs, reo_mult, for
	 * reo_persist recoveries); rack_at: when a piece still in time
	 * will be late */
	struct tcp_sent sent[TCP_SENT_MAX];
	int nsent;
	struct tcp_rtx rtx[TCP_RTX_MAX];
	int nrtx;
	uint64_t rack_ts, rack_rtt, rack_at;
	uint32_t rack_end;
	int rack_valid; /* rack_ts, rack_end and rack_rtt are set */
	int reordering_seen;
	uint32_t reo_mult, reo_persist, dsack_round;
	int dsack_round_on;

	/* receive side */
	uint32_t irs, rcv_nxt, rcv_adv; /* rcv_adv: right edge announced */
	struct tcp_ring rcv;
	/* data held in the ring past rcv_nxt: disjoint, not touching, the
	 * most recently grown first (the order SACK reports them in) */
	struct tcp_range ooo[TCP_OOO_MAX];
	int nooo;
	int fin_received;
	uint32_t unacked_segs; /* segments' worth received since our ACK */

	/* congestion control */
	uint32_t cwnd, ssthresh, dupacks, recover;
	int in_recovery;
	/* undoing a recovery that D-SACKs prove spurious (RFC 2883, 3708):
	 * the window before it, where it began, and its retransmissions
	 * (in segments) not yet reported as duplicates */
	uint32_t undo_cwnd, undo_ssthresh, undo_marker, undo_retrans;
	int undo_ok;
	uint32_t undone; /* recoveries undone (a count for tests) */
	/* a duplicate received, to report in our next ACK (D-SACK) */
	struct tcp_range dsack;

	/* timing, in ns of the caller's clock */
	uint64_t srtt, rttvar, rto;
	int rtt_timing;
	uint32_t rtt_seq;
	uint64_t rtt_start;
	int backoff;
	uint64_t rexmit_at, delack_at, timewait_at, persist_at, keep_at;
	/* an orphan (the program closed it) in FIN_WAIT_2 gives its peer
	 * this long to close (fin2_at), then resets: Linux's
	 * tcp_fin_timeout; linger2 is TCP_LINGER2's (0: TCP_FIN_TIMEOUT,
	 * UINT64_MAX: not at all) */
	int orphan;
	uint64_t linger2, fin2_at;
	uint64_t probe_at; /* tail loss probe (RFC 8985 7) */
	int probe_out;	   /* one sent, no ACK since */
	int retries;
	/* an RTO recovery: since (0: none), and snd_max at its last timeout */
	uint64_t rto_since;
	uint32_t rto_high;
	int keepalive;
	uint64_t keep_idle, keep_intvl;
	int keep_cnt, keep_probes;
	uint64_t last_heard;
	uint64_t oow_ack_at; /* the last ACK to a segment we could not take */
	/* TCP_CORK: only whole segments go, a smaller one at cork_at */
	uint8_t cork;
	uint8_t push; /* this output sends what Nagle or the cork holds */
	uint64_t cork_at;
	/* TCP_USER_TIMEOUT (0: the retries decide): the connection ends
	 * once data has waited this long for an ACK, counted from when it
	 * last saw progress (stall_since) */
	uint64_t user_timeout, stall_since;
	uint64_t probing_since; /* the first window probe of this closed
				 * window (0: none); it counts too */
	int syn_retries;	/* TCP_SYNCNT; 0: TCP_SYN_RETRIES */
	uint64_t min_rtt;	/* the least round trip measured */
	struct tcp_counts counts;
};

/* Timers and limits, ns */
#define TCP_RTO_INIT 1000000000ULL
#define TCP_RTO_MIN 200000000ULL
#define TCP_RTO_MAX 60000000000ULL
#define TCP_DELACK 40000000ULL
#define TCP_DELACK_PEER 200000000ULL /* the longest a peer may delay an ACK */
/* A lone offload frame this big waits so long for the next one's ACK */
#define TCP_FRAME_BIG 32768
#define TCP_DELACK_FRAME 100000ULL
#define TCP_PROBE_MIN 10000000ULL /* the shortest tail loss probe timer */
#define TCP_TIMEWAIT 60000000000ULL
#define TCP_FIN_TIMEOUT 60000000000ULL	    /* Linux's tcp_fin_timeout */
#define TCP_FIN_TIMEOUT_MAX 120000000000ULL /* what TCP_LINGER2 may ask */
#define TCP_RETRIES 15		  /* then ETIMEDOUT, as Linux's tcp_retries2 */
#define TCP_SYN_RETRIES 6	  /* as Linux's tcp_syn_retries */
#define TCP_CORK_MAX 200000000ULL /* the longest a cork holds data */
/* a ts_recent this old is no longer valid: the peer's millisecond clock
 * may have passed half its range since (RFC 7323 5.5) */
#define TCP_PAWS_IDLE (24ULL * 24 * 3600 * 1000000000ULL)

/* Set up (cb) on its rings; state CLOSED. */
void tcp_init(struct tcp_cb *cb, const struct tcp_ops *ops, void *owner,
	      uint16_t our_mss);
void tcp_listen(struct tcp_cb *cb);
/* The program turned keepalive on (on) or off, or changed keep_idle,
 * keep_intvl or keep_cnt: the keepalive timer follows. Turned on, the
 * connection counts as idle from (now). */
void tcp_keepalive_set(struct tcp_cb *cb, int on, uint64_t now);
/* TCP_CORK on or off; off sends what it held. */
void tcp_cork_set(struct tcp_cb *cb, int on, uint64_t now);
/* Send what Nagle or the cork holds back, once (TCP_NODELAY set). */
void tcp_push(struct tcp_cb *cb, uint64_t now);
/* Active open: send the SYN. */
void tcp_connect(struct tcp_cb *cb, uint32_t iss, uint64_t now);
/* A SYN arrived for listening (lis): set up (child) (already tcp_init'ed)
 * in SYN_RCVD and answer SYN-ACK. */
void tcp_accept_syn(struct tcp_cb *child, const struct tcp_seg *syn,
		    uint32_t iss, uint64_t now);
/* A segment for (cb). After a batch of segments (what the device had),
 * the caller runs tcp_timer: the ACK the batch earned is due then, one
 * for all of it. */
void tcp_input(struct tcp_cb *cb, const struct tcp_seg *seg, uint64_t now);
/* Queue the program's data: bytes taken (0 if no room). */
uint32_t tcp_send(struct tcp_cb *cb, const void *data, uint32_t len,
		  uint64_t now);
/* Take received data: bytes copied (out NULL: bytes the caller copied
 * already, through tcp_ring_span). */
uint32_t tcp_recv(struct tcp_cb *cb, void *out, uint32_t len, uint64_t now);
/* close() or shutdown(SHUT_WR): a FIN after the queued data. */
void tcp_close(struct tcp_cb *cb, uint64_t now);
/* Abort: RST to the peer (if synchronized), state CLOSED. */
void tcp_abort(struct tcp_cb *cb);
/* The program closed (cb) and holds it no more: in FIN_WAIT_2 it waits
 * for the peer's FIN only for the FIN timeout (linger2), then resets. */
void tcp_orphan(struct tcp_cb *cb, uint64_t now);
/* An ICMP destination unreachable (errno err) about our segment with
 * sequence number (seq), as Linux's tcp_v4_err takes it: a connection
 * being opened ends with err; an open one keeps trying, and reports err
 * instead of ETIMEDOUT if it times out. Ignored unless (seq) is one we
 * sent and the peer has not acknowledged (1 if taken). */
int tcp_icmp_error(struct tcp_cb *cb, uint32_t seq, int err);
/* An ICMP fragmentation needed about our segment with sequence number
 * (seq): the path takes segments of (mss) bytes with their options at
 * most. The connection sends no more than that from now on, and sends
 * again at once what is in flight, its window as it was (Linux's
 * tcp_simple_retransmit). Ignored unless (seq) is in flight and (mss)
 * is smaller than the one in use (1 if taken). */
#define TCP_MSS_MIN 512 /* what PMTU_MIN's 552 bytes leave */
int tcp_mtu_reduced(struct tcp_cb *cb, uint32_t seq, uint32_t mss,
		    uint64_t now);
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

/* Read a segment's options (n bytes at o) into (seg): MSS, window scale,
 * SACK-permitted and SACK blocks; the rest are skipped. -1 if an option's
 * length is malformed. */
int tcp_parse_options(const uint8_t *o, size_t n, struct tcp_seg *seg);

/* Encode (o) at (out) (tcp_opts_len(o) bytes, at most 40): the bytes
 * written. */
uint32_t tcp_write_options(const struct tcp_opts *o, uint8_t *out);

const char *tcp_state_name(enum tcp_state s);

/* Bytes past snd_una the peer SACKed. */
uint32_t tcp_sacked_bytes(const struct tcp_cb *cb);
/* Bytes past snd_una presumed lost, and resent ones not (yet) lost. */
void tcp_loss_state(const struct tcp_cb *cb, uint64_t now, uint32_t *lost,
		    uint32_t *resent);

#endif
