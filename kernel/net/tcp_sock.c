/* tcp_sock.c: TCP sockets: segments to and from the wire for the state
 * machine in lib/tcp.c, listeners and their accept queues, and the
 * program's send and receive.
 *
 * A stream socket's rings are TCP_RING_PAGES pages each way (64 KiB) at
 * first; one that the connection fills grows to TCP_RING_PAGES_MAX (2
 * MiB), the window a bulk transfer needs (here, with 64 KiB frames, and
 * over a link with a long round trip), while connections that never
 * fill theirs (most requests and answers) keep the small ones; a ring
 * that was not filled for a second shrinks back once it is empty. Those
 * sizes are what a ring may hold: it takes its pages as data comes and,
 * while small, gives them back whenever it empties, so that an idle
 * connection holds none (a server's keep-alive connections are idle most
 * of the time); a grown ring keeps them until it shrinks. A
 * connection the program has closed stays until TCP is done with it (its
 * FIN acknowledged, TIME_WAIT over), then it is freed. In TIME_WAIT it
 * has no data left to send or take; beyond TIMEWAIT_MAX such connections a new
 * one is freed without its TIME_WAIT, as Linux does when its tcp_max_tw_buckets
 * are used up. A listener keeps connections whose handshake is under way and
 * those ready to accept, up to its backlog; a SYN beyond that is dropped, as
 * Linux does, so the peer tries again.
 */
#include "net/socket.h"
#include "fs/fs.h"
#include "fresco/queue.h"
#include <asm-generic/poll.h>

#define TCP_HDR 20
#define OUR_MSS (1500 - 20 - TCP_HDR)
#define TCP_FRAME_MAX (65535 - 20)   /* an IPv4 packet's payload */
#define TSO_MAX (TCP_FRAME_MAX - 60) /* room for the most options */
#define BACKLOG_MAX 4096
#define TIMEWAIT_MAX 4096
#define RING_IDLE_NS 1000000000ULL /* then grown rings shrink */

struct tcp_hdr {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t off, flags;
	uint16_t wnd, csum, urg;
} __attribute__((packed));

static uint32_t iss_counter;
static unsigned timewait_count; /* orphans in TIME_WAIT */
uint64_t tcp_minttl_drops;

/* ---- segments out ---- */

/* A segment goes out built in place behind room for the IPv4 and
 * Ethernet headers. Its checksum is left to the device (which may be the
 * loopback, that needs none) with the pseudo header's sum in the field;
 * one longer than a segment is cut by the device (tso_max). */
static void send_segment(uint32_t src, uint32_t dst, uint16_t sport,
			 uint16_t dport, uint32_t seq, uint32_t ack,
			 uint8_t flags, uint16_t wnd,
			 const struct tcp_opts *opts,
			 const struct tcp_ring *ring, uint32_t off,
			 uint32_t len, uint16_t seg_max,
			 const struct ip_opts *ipo)
{
	_Static_assert(sizeof(sock_tx) >= NET_HEADROOM + TCP_FRAME_MAX,
		       "a segment fits in sock_tx");
	uint8_t *pkt = sock_tx + NET_HEADROOM;
	struct tcp_hdr *h = (struct tcp_hdr *)pkt;
	size_t hl = TCP_HDR + tcp_write_options(opts, pkt + TCP_HDR);
	if (hl + len > TCP_FRAME_MAX)
		return;
	*h = (struct tcp_hdr){sport,
			      dport,
			      net32(seq),
			      net32(ack),
			      (uint8_t)((hl / 4) << 4),
			      flags,
			      net16(wnd),
			      0,
			      0};
	if (len)
		tcp_ring_peek(ring, off, pkt + hl, len);
	uint32_t sum =
		inet_pseudo_sum(src, dst, IP_PROTO_TCP, (uint16_t)(hl + len));
	h->csum = (uint16_t)~inet_csum_done(sum); /* folded, not inverted */
	struct netdev_tx tx = {.csum = 1, .csum_start = 0, .csum_offset = 16};
	if (len > seg_max) {
		tx.gso_size = seg_max;
		tx.hdr_len = (uint16_t)hl;
	}
	ip_send(src, dst, IP_PROTO_TCP, pkt, hl + len, &tx, ipo);
}

static void cb_output(struct tcp_cb *cb, uint32_t seq, uint32_t ack,
		      uint8_t flags, uint16_t wnd, const struct tcp_opts *opts,
		      uint32_t off, uint32_t len)
{
	struct sock *s = cb->owner;
	uint32_t src = s->lip ? s->lip : ip_source_for(s->rip);
	struct tcp_opts stamped;
	if (opts->ts) {
		/* milliseconds (RFC 7323 5.4), from an offset of its own so
		 * that the machine's uptime does not show */
		stamped = *opts;
		stamped.tsval = (uint32_t)(clock_monotonic_ns() / 1000000) +
				s->ts_offset;
		opts = &stamped;
	}
	send_segment(src, s->rip, s->lport, s->rport, seq, ack, flags, wnd,
		     opts, &cb->snd, off, len,
		     (uint16_t)(cb->mss - tcp_opts_len(opts)), &s->ip);
}

static void cb_event(struct tcp_cb *cb)
{
	/* waiters look at the state when they wake; edge-triggered epoll
	 * sees that something happened */
	sock_changed(cb->owner);
}

/* Ring pages come from the page allocator as data arrives and go back
 * when a ring empties, so that an idle connection holds none. They need
 * not be zeroed: a ring shows only the bytes written to it. */
static void *cb_page_get(struct tcp_cb *cb)
{
	(void)cb;
	uint64_t pa = phys_alloc_dirty();
	return pa ? phys_to_virt(pa) : NULL;
}

static void cb_page_put(struct tcp_cb *cb, void *page)
{
	(void)cb;
	phys_free(virt_to_phys(page));
}

static const struct tcp_ops ops = {cb_output, cb_event, cb_page_get,
				   cb_page_put};

/* Segments of many at once to (rip), when the device cuts them. */
static uint32_t tso_for(uint32_t rip)
{
	return (netdev_caps & NETDEV_TSO) && !ip_is_local(rip) ? TSO_MAX : 0;
}

/* The MSS we announce to (rip): what the link takes (user networking's
 * is 64 KiB wide, as the loopback is). */
static uint16_t mss_for(uint32_t rip)
{
	return (uint16_t)(ip_mtu_for(rip) - 20 - TCP_HDR);
}

/* Route-dependent settings of (s)'s connection, once its peer is known. */
static void route(struct sock *s)
{
	s->tcp->tso_max = tso_for(s->rip);
	s->tcp->our_mss = mss_for(s->rip);
	if (s->maxseg && s->maxseg < s->tcp->our_mss)
		s->tcp->our_mss = s->maxseg;
}

/* ---- sockets ---- */

#define BIG_PAGES_SIZE (TCP_RING_PAGES_MAX * sizeof(uint8_t *))

/* The page pointers of (s)'s send (0) or receive (1) ring while it is
 * small: its half of s->pages. A grown ring's are a page of their own,
 * so that a connection that never fills its rings (most) carries 256
 * bytes of them rather than a page for each ring. */
static uint8_t **small_pages(struct sock *s, int rcv)
{
	return s->pages + (rcv ? TCP_RING_PAGES : 0);
}

static int is_small(struct sock *s, const struct tcp_ring *r)
{
	return r->pages == small_pages(s, r == &s->tcp->rcv);
}

int tcp_sock_init(struct sock *s)
{
	s->tcp = kmalloc(sizeof(*s->tcp));
	s->pages = kmalloc(2 * TCP_RING_PAGES * sizeof(uint8_t *));
	if (!s->tcp || !s->pages)
		return -ENOMEM;
	memset(s->pages, 0, 2 * TCP_RING_PAGES * sizeof(uint8_t *));
	s->tcp->snd =
		(struct tcp_ring){small_pages(s, 0), TCP_RING_PAGES, 0, 0, 0};
	s->tcp->rcv =
		(struct tcp_ring){small_pages(s, 1), TCP_RING_PAGES, 0, 0, 0};
	tcp_init(s->tcp, &ops, s, OUR_MSS);
	random_bytes(&s->ts_offset, sizeof(s->ts_offset));
	return 0;
}

static uint32_t new_iss(void)
{
	uint32_t r;
	random_bytes(&r, sizeof(r));
	/* a clock-driven part keeps successive ones increasing (3.4.1) */
	return r + (uint32_t)(clock_monotonic_ns() / 4000) + iss_counter++;
}

/* Segments find their connection in a hash table by ports and peer
 * address, and a listener in a list of them, so that the cost of each
 * does not grow with the connections open. */
#define CONN_HASH 1024 /* buckets, a power of two */
static struct sock *conns[CONN_HASH], *listeners;

static struct sock **bucket(uint16_t lport, uint32_t rip, uint16_t rport)
{
	uint32_t h = (rip ^ ((uint32_t)lport << 16 | rport)) * 2654435761u;
	return &conns[(h >> 16) & (CONN_HASH - 1)];
}

static void hash_into(struct sock **head, struct sock *s)
{
	tcp_sock_unhash(s);
	LIST_PUSH(*head, s, hnext, hpprev);
}

/* Sockets something happened to since the timer pass last looked at
 * them, and the soonest timer of the others as that pass found it (or
 * sooner: a timer stopped since leaves it early, and the pass then looks
 * at every socket again). */
static struct sock *touched;
static uint64_t others_next;

static void untouch(struct sock *s)
{
	LIST_UNLINK(s, tnext, tpprev);
}

void tcp_sock_touch(struct sock *s)
{
	if (!s->tpprev && s->tcp)
		LIST_PUSH(touched, s, tnext, tpprev);
}

void tcp_sock_unhash(struct sock *s)
{
	if (s->tpprev)
		untouch(s);
	if (s->hpprev)
		LIST_UNLINK(s, hnext, hpprev);
}

int tcp_sock_connect(struct sock *s, uint32_t ip, uint16_t port)
{
	struct tcp_cb *cb = s->tcp;
	if (s->listening)
		return -EISCONN;
	if (cb->state == TCP_SYN_SENT)
		return -EALREADY;
	if (cb->state != TCP_CLOSED)
		return -EISCONN;
	/* a fresh start (also after a connect that failed) */
	int nodelay = cb->nodelay, keepalive = cb->keepalive;
	tcp_init(cb, &ops, s, OUR_MSS);
	cb->nodelay = nodelay;
	cb->keepalive = keepalive;
	if (!s->bound) {
		int r = sock_bind_addr(s, 0, 0);
		if (r < 0)
			return r;
	}
	if (!ip)
		ip = 0x0100007fu; /* 0.0.0.0: this host */
	if (!netif.configured && (ip & 0xff) != 0x7f)
		return -ENETUNREACH;
	s->rip = ip;
	s->rport = port;
	hash_into(bucket(s->lport, ip, port), s);
	route(s);
	s->connected = 1;
	s->connect_started = 1;
	cb->error = 0;
	tcp_connect(cb, new_iss(), clock_monotonic_ns());
	tcp_sock_touch(s);
	return 0;
}

int tcp_sock_listen(struct sock *s, int backlog)
{
	if (s->connect_started)
		return -EINVAL;
	if (!s->bound) {
		int r = sock_bind_addr(s, 0, 0);
		if (r < 0)
			return r;
	}
	s->backlog = backlog < 1	     ? 1
		     : backlog > BACKLOG_MAX ? BACKLOG_MAX
					     : backlog;
	if (!s->listening) {
		s->listening = 1;
		hash_into(&listeners, s);
		tcp_listen(s->tcp);
	}
	return 0;
}

struct sock *tcp_sock_accept(struct sock *s)
{
	struct sock *c = s->acceptq;
	if (!c)
		return NULL;
	QUEUE_DROP_FIRST(s->acceptq, s->acceptq_tail, accept_next);
	s->acceptq_len--;
	c->parent = NULL;
	c->accept_next = NULL;
	return c;
}

/* The most pages ring (r) of (s) grows to: TCP_RING_PAGES_MAX, or what
 * the program asked for with SO_RCVBUF or SO_SNDBUF (Linux keeps half
 * of the doubled value for data, and grows a buffer set so no further),
 * within TCP_RING_PAGES and that. */
static uint32_t ring_most(const struct sock *s, const struct tcp_ring *r)
{
	int rcv = r == &s->tcp->rcv;
	if (!(rcv ? s->rcvbuf_set : s->sndbuf_set))
		return TCP_RING_PAGES_MAX;
	uint64_t pages =
		((rcv ? s->rcvbuf : s->sndbuf) / 2 + PAGE_SIZE - 1) / PAGE_SIZE;
	if (pages < TCP_RING_PAGES)
		return TCP_RING_PAGES;
	return pages > TCP_RING_PAGES_MAX ? TCP_RING_PAGES_MAX
					  : (uint32_t)pages;
}

/*
 * Grow ring (r) of (s) to ring_most pages, keeping its data in place: the
 * page pointers are turned so that the page holding the head comes
 * first, which works unless the data wraps round into that very page
 * (then a later call tries again). 1 if it grew.
 */
static int ring_grow(struct sock *s, struct tcp_ring *r)
{
	uint32_t old = r->npages, off = r->head % PAGE_SIZE;
	uint32_t most = ring_most(s, r);
	if (old >= most || off + r->len > old * PAGE_SIZE)
		return 0;
	uint8_t **turned = kmalloc(BIG_PAGES_SIZE);
	if (!turned)
		return 0; /* no memory: the ring stays as it is */
	for (uint32_t j = old; j < most; j++)
		turned[j] = NULL; /* taken as data comes */
	uint32_t first = r->head / PAGE_SIZE;
	for (uint32_t j = 0; j < old; j++)
		turned[j] = r->pages[(first + j) % old];
	if (!is_small(s, r))
		kfree(r->pages, BIG_PAGES_SIZE);
	r->pages = turned;
	r->head = off;
	r->npages = most;
	r->keep = 1; /* its pages, until it shrinks back */
	return 1;
}

/* Ring (r) of (s), empty, back to TCP_RING_PAGES pages. */
static void ring_shrink(struct sock *s, struct tcp_ring *r)
{
	uint8_t **small = small_pages(s, r == &s->tcp->rcv);
	for (uint32_t j = 0; j < r->npages; j++)
		if (r->pages[j])
			cb_page_put(s->tcp, r->pages[j]);
	memset(small, 0, TCP_RING_PAGES * sizeof(uint8_t *));
	kfree(r->pages, BIG_PAGES_SIZE);
	*r = (struct tcp_ring){small, TCP_RING_PAGES, 0, 0, 0};
}

void tcp_sock_rings_free(struct sock *s)
{
	struct tcp_ring *rings[] = {&s->tcp->snd, &s->tcp->rcv};
	for (int k = 0; k < 2; k++) {
		struct tcp_ring *r = rings[k];
		for (uint32_t j = 0; j < r->npages; j++)
			if (r->pages[j])
				cb_page_put(s->tcp, r->pages[j]);
		if (r->pages && !is_small(s, r))
			kfree(r->pages, BIG_PAGES_SIZE);
		*r = (struct tcp_ring){small_pages(s, k), 0, 0, 0, 0};
	}
}

static int grown(const struct sock *s)
{
	return s->tcp->snd.npages > TCP_RING_PAGES ||
	       s->tcp->rcv.npages > TCP_RING_PAGES;
}

/* A connection that filled neither ring for RING_IDLE_NS gives back the
 * pages it grew them by, once they are empty (and the receive ring holds
 * nothing out of order). The window already announced stays announced:
 * data beyond the smaller receive ring grows it again first
 * (tcp_sock_input). */
static void rings_shrink(struct sock *s, uint64_t now)
{
	struct tcp_cb *cb = s->tcp;
	if (now - s->full_at < RING_IDLE_NS)
		return;
	if (cb->snd.npages > TCP_RING_PAGES && !cb->snd.len)
		ring_shrink(s, &cb->snd);
	if (cb->rcv.npages > TCP_RING_PAGES && !cb->rcv.len && !cb->nooo)
		ring_shrink(s, &cb->rcv);
	if (grown(s))
		s->full_at = now; /* not yet: look again later */
}

uint32_t tcp_sock_unsent(const struct sock *s)
{
	const struct tcp_cb *cb = s->tcp;
	uint32_t sent = cb->snd_max - cb->snd_una;
	return cb->snd.len > sent ? cb->snd.len - sent : 0;
}

long tcp_sock_send(struct sock *s, const void *data, size_t len)
{
	struct tcp_cb *cb = s->tcp;
	if (cb->error && cb->state == TCP_CLOSED)
		return -cb->error;
	if (cb->state == TCP_SYN_SENT || cb->state == TCP_SYN_RCVD)
		return -EAGAIN; /* not yet: the caller waits */
	if (cb->state != TCP_ESTABLISHED && cb->state != TCP_CLOSE_WAIT)
		return s->connected ? -EPIPE : -ENOTCONN;
	if (s->shut_wr)
		return -EPIPE;
	if (s->notsent_lowat) {
		/* TCP_NOTSENT_LOWAT: no more than that waits unsent */
		uint32_t unsent = tcp_sock_unsent(s);
		if (unsent >= s->notsent_lowat)
			return -EAGAIN;
		if (len > s->notsent_lowat - unsent)
			len = s->notsent_lowat - unsent;
	}
	if (s->snd_full && ring_grow(s, &cb->snd))
		s->snd_full = 0;
	uint32_t n = tcp_send(cb, data,
			      len > 0x7fffffff ? 0x7fffffff : (uint32_t)len,
			      clock_monotonic_ns());
	tcp_sock_touch(s);
	if (cb->snd.len == tcp_ring_cap(&cb->snd)) {
		s->snd_full = 1;
		s->full_at = clock_monotonic_ns();
	}
	return n ? (long)n : -EAGAIN;
}

/* Copy (n) bytes of (cb)'s received data to (dst), (off) bytes into it:
 * the bytes copied before a fault, or -EFAULT if none were. */
static long copy_received(struct tcp_cb *cb, const struct recv_dst *dst,
			  uint64_t off, uint32_t n)
{
	uint32_t done = 0;
	while (done < n) {
		uint32_t k = n - done;
		const uint8_t *p = tcp_ring_span(&cb->rcv, done, &k);
		int r = dst->iov ? iov_put_at(dst->iov, dst->niov, off + done,
					      p, k)
				 : copy_to_user(dst->addr + off + done, p, k);
		if (r < 0)
			break;
		done += k;
	}
	return done ? (long)done : -EFAULT;
}

long tcp_sock_recv(struct sock *s, const struct recv_dst *dst, uint64_t off,
		   size_t len, int peek)
{
	struct tcp_cb *cb = s->tcp;
	uint32_t n = len > cb->rcv.len ? cb->rcv.len : (uint32_t)len;
	/* out-of-order data sits past the ring's data: only grow without */
	if (s->rcv_full && !cb->nooo && ring_grow(s, &cb->rcv))
		s->rcv_full = 0;
	if (n) {
		long k = copy_received(cb, dst, off, n);
		if (k < 0 || peek)
			return k;
		tcp_sock_touch(s);
		return tcp_recv(cb, NULL, (uint32_t)k, clock_monotonic_ns());
	}
	if (!s->connected)
		return -ENOTCONN;
	if (cb->fin_received || s->shut_rd)
		return 0; /* end of stream */
	if (cb->state == TCP_CLOSED) {
		int e = cb->error;
		cb->error = 0;
		return e ? -e : 0;
	}
	if (cb->state == TCP_SYN_SENT || cb->state >= TCP_ESTABLISHED)
		return -EAGAIN;
	return -ENOTCONN;
}

int tcp_sock_shutdown(struct sock *s, int how)
{
	struct tcp_cb *cb = s->tcp;
	if (cb->state < TCP_SYN_RCVD)
		return -ENOTCONN;
	if (how != 1) /* SHUT_RD or SHUT_RDWR */
		s->shut_rd = 1;
	if (how != 0 && !s->shut_wr) {
		s->shut_wr = 1;
		tcp_close(cb, clock_monotonic_ns());
		tcp_sock_touch(s);
	}
	sock_changed(s);
	return 0;
}

/* Closing a listener resets what it had not handed out. */
static void drop_children(struct sock *s)
{
	for (struct sock *c = all_socks, *n; c; c = n) {
		n = c->next;
		if (c->parent == s) {
			tcp_abort(c->tcp);
			sock_free(c);
		}
	}
	s->acceptq = s->acceptq_tail = NULL;
	s->acceptq_len = 0;
}

void tcp_sock_release(struct sock *s)
{
	struct tcp_cb *cb = s->tcp;
	if (s->listening) {
		drop_children(s);
		sock_free(s);
		return;
	}
	if (s->linger_on && s->linger_sec == 0) {
		tcp_abort(cb); /* SO_LINGER 0: reset at once */
	} else if (cb->rcv.len) {
		/* unread data: RFC 2525 says reset, as Linux does */
		tcp_abort(cb);
	} else {
		tcp_close(cb, clock_monotonic_ns());
	}
	if (cb->state == TCP_CLOSED) {
		sock_free(s);
	} else {
		s->orphan = 1; /* freed when TCP is done */
		tcp_orphan(cb, clock_monotonic_ns());
		tcp_sock_touch(s);
	}
}

unsigned tcp_sock_linux_state(const struct sock *s)
{
	static const uint8_t nr[] = {
		[TCP_CLOSED] = 7,      [TCP_LISTEN] = 10,
		[TCP_SYN_SENT] = 2,    [TCP_SYN_RCVD] = 3,
		[TCP_ESTABLISHED] = 1, [TCP_FIN_WAIT_1] = 4,
		[TCP_FIN_WAIT_2] = 5,  [TCP_CLOSE_WAIT] = 8,
		[TCP_LAST_ACK] = 9,    [TCP_CLOSING] = 11,
		[TCP_TIME_WAIT] = 6,
	};
	enum tcp_state st = s->listening ? TCP_LISTEN : s->tcp->state;
	return (unsigned)st < sizeof(nr) ? nr[st] : 7;
}

static uint32_t segs_of(const struct tcp_cb *cb, uint32_t bytes)
{
	return (bytes + cb->mss - 1) / cb->mss;
}

void tcp_sock_info(const struct sock *s, struct tcp_info_abi *abi)
{
	struct tcp_info *ti = &abi->info;
	const struct tcp_cb *cb = s->tcp;
	const struct tcp_counts *c = &cb->counts;
	uint32_t flight = cb->snd_max - cb->snd_una;
	uint64_t now = clock_monotonic_ns();
	memset(abi, 0, sizeof(*abi));
	ti->tcpi_state = (uint8_t)tcp_sock_linux_state(s);
	ti->tcpi_ca_state = cb->in_recovery ? TCP_CA_Recovery
			    : cb->rto_since ? TCP_CA_Loss
			    : cb->dupacks   ? TCP_CA_Disorder
					    : TCP_CA_Open;
	ti->tcpi_retransmits = (uint8_t)cb->retries;
	ti->tcpi_backoff = (uint8_t)cb->retries;
	ti->tcpi_probes = (uint8_t)cb->keep_probes;
	if (cb->sack_ok)
		ti->tcpi_options |= TCPI_OPT_SACK;
	if (cb->ts_ok)
		ti->tcpi_options |= TCPI_OPT_TIMESTAMPS;
	if (cb->wscale_ok) {
		ti->tcpi_options |= TCPI_OPT_WSCALE;
		ti->tcpi_snd_wscale = cb->snd_wscale & 15;
		ti->tcpi_rcv_wscale = cb->rcv_wscale & 15;
	}
	ti->tcpi_rto = (uint32_t)(cb->rto / 1000);
	ti->tcpi_ato = (uint32_t)(TCP_DELACK / 1000);
	/* as Linux: what a segment carries, timestamps taken off */
	ti->tcpi_snd_mss = ti->tcpi_rcv_mss = cb->mss - (cb->ts_ok ? 12 : 0);
	ti->tcpi_unacked = segs_of(cb, flight);
	ti->tcpi_sacked = segs_of(cb, tcp_sacked_bytes(cb));
	uint32_t lost, resent;
	tcp_loss_state(cb, now, &lost, &resent);
	ti->tcpi_lost = segs_of(cb, lost);
	ti->tcpi_retrans = segs_of(cb, resent);
	ti->tcpi_last_data_recv = ti->tcpi_last_ack_recv =
		(uint32_t)((now - cb->last_heard) / 1000000);
	ti->tcpi_pmtu = ip_mtu_for(s->rip);
	ti->tcpi_rcv_ssthresh = tcp_ring_cap(&cb->rcv) - cb->rcv.len;
	ti->tcpi_rtt = (uint32_t)(cb->srtt / 1000);
	ti->tcpi_rttvar = (uint32_t)(cb->rttvar / 1000);
	ti->tcpi_snd_ssthresh = cb->ssthresh == 0xffffffffu
					? 0x7fffffff /* not yet set */
					: cb->ssthresh / cb->mss;
	ti->tcpi_snd_cwnd = cb->cwnd / cb->mss;
	ti->tcpi_advmss = cb->our_mss;
	ti->tcpi_reordering = 3;
	ti->tcpi_rcv_space = tcp_ring_cap(&cb->rcv);
	ti->tcpi_total_retrans = c->retrans_segs;
	ti->tcpi_bytes_acked = c->bytes_acked;
	ti->tcpi_bytes_received = c->bytes_received;
	ti->tcpi_segs_out = c->segs_out;
	ti->tcpi_segs_in = c->segs_in;
	ti->tcpi_notsent_bytes =
		cb->snd.len > flight ? cb->snd.len - flight : 0;
	ti->tcpi_min_rtt = cb->min_rtt ? (uint32_t)(cb->min_rtt / 1000) : ~0u;
	ti->tcpi_data_segs_in = c->data_segs_in;
	ti->tcpi_data_segs_out = c->data_segs_out;
	ti->tcpi_bytes_sent = c->bytes_sent;
	ti->tcpi_bytes_retrans = c->bytes_retrans;
	ti->tcpi_dsack_dups = c->dsacks;
	ti->tcpi_rcv_ooopack = c->ooo_segs;
	ti->tcpi_snd_wnd = cb->snd_wnd;
	ti->tcpi_reord_seen = c->reorders;
	abi->rcv_wnd = tcp_seq_lt(cb->rcv_nxt, cb->rcv_adv)
			       ? cb->rcv_adv - cb->rcv_nxt
			       : 0;
	abi->total_rto = (uint16_t)c->timeouts;
	abi->total_rto_recoveries = (uint16_t)c->rto_recoveries;
	abi->total_rto_time =
		(uint32_t)((c->rto_ns +
			    (cb->rto_since ? now - cb->rto_since : 0)) /
			   1000000);
}

short tcp_sock_ready(struct sock *s)
{
	struct tcp_cb *cb = s->tcp;
	short r = 0;
	if (s->listening)
		return s->acceptq ? POLLIN | POLLRDNORM : 0;
	if ((cb->rcv.len &&
	     cb->rcv.len >= (uint32_t)(s->rcvlowat ? s->rcvlowat : 1)) ||
	    cb->fin_received || s->shut_rd)
		r |= POLLIN | POLLRDNORM;
	/* writable: room, and with TCP_NOTSENT_LOWAT less than half that
	 * unsent, as Linux's tcp_stream_memory_free for poll */
	if ((cb->state == TCP_ESTABLISHED || cb->state == TCP_CLOSE_WAIT) &&
	    !s->shut_wr && cb->snd.len < tcp_ring_cap(&cb->snd) &&
	    (!s->notsent_lowat ||
	     2 * (uint64_t)tcp_sock_unsent(s) < s->notsent_lowat))
		r |= POLLOUT | POLLWRNORM;
	if (cb->fin_received && (s->shut_wr || cb->state == TCP_CLOSED))
		r |= POLLHUP;
	if (cb->state == TCP_CLOSED && s->connect_started) {
		r |= POLLHUP | POLLIN | POLLRDNORM;
		if (cb->error)
			r |= POLLERR | POLLOUT;
	}
	if (cb->fin_received)
		r |= POLLRDHUP;
	return r;
}

/* After the machine ran: a finished handshake goes to its listener's
 * accept queue; a connection that is over and that nobody holds is freed
 * (a failed handshake, or one the program closed). */
/* TCP_DEFER_ACCEPT: a new connection of (s)'s listener waits to be
 * offered until data (or its end) comes, or the listener's time has
 * passed since it was made (defer_until; then it is offered as it is). */
static int deferred(struct sock *s)
{
	struct tcp_cb *cb = s->tcp;
	if (!s->parent->defer_ns || cb->rcv.len || cb->fin_received)
		return 0;
	uint64_t now = clock_monotonic_ns();
	if (!s->defer_until) {
		s->defer_until = now + s->parent->defer_ns;
		tcp_sock_touch(s); /* the timer pass learns of that time */
	}
	return now < s->defer_until;
}

static int after(struct sock *s)
{
	struct tcp_cb *cb = s->tcp;
	/* full: the peer cannot send another whole segment (and a bigger
	 * ring would widen the window: the peer scales it) */
	if (cb->rcv.npages && cb->wscale_ok &&
	    tcp_ring_cap(&cb->rcv) - cb->rcv.len < cb->mss) {
		s->rcv_full = 1;
		s->full_at = clock_monotonic_ns();
	}
	if (s->pending && cb->state >= TCP_ESTABLISHED && !deferred(s)) {
		struct sock *p = s->parent;
		s->pending = 0;
		p->pending--;
		QUEUE_APPEND(p->acceptq, p->acceptq_tail, s, accept_next);
		p->acceptq_len++;
		sock_changed(p);
	}
	if (s->orphan && cb->state == TCP_TIME_WAIT && !s->timewait) {
		if (timewait_count >= TIMEWAIT_MAX) {
			sock_free(s);
			return 1;
		}
		tcp_sock_rings_free(s);
		s->timewait = 1;
		timewait_count++;
	}
	if (cb->state == TCP_CLOSED) {
		if (s->pending) {
			s->parent->pending--;
			sock_free(s);
			return 1;
		}
		if (s->orphan) {
			timewait_count -= s->timewait;
			sock_free(s);
			return 1;
		}
	}
	tcp_sock_touch(s);
	return 0;
}

/* ---- segments in ---- */

/* The connection of a segment from (rport) at (rip) to (lport) at
 * (lip), or the listener that takes it, come in on interface (ifindex)
 * (0: any; a listener bound to another interface does not take it). */
static struct sock *find(uint32_t lip, uint16_t lport, uint32_t rip,
			 uint16_t rport, int ifindex)
{
	for (struct sock *s = *bucket(lport, rip, rport); s; s = s->hnext)
		if (s->lport == lport && s->rip == rip && s->rport == rport &&
		    (!s->lip || s->lip == lip) && s->tcp->state != TCP_CLOSED)
			return s;
	/* the newest listener on the port, one bound to the address first */
	struct sock *listener = NULL;
	for (struct sock *s = listeners; s; s = s->hnext)
		if (s->lport == lport && (!s->lip || s->lip == lip) &&
		    (!ifindex || !s->bound_if || s->bound_if == ifindex) &&
		    (!listener || (s->lip && !listener->lip)))
			listener = s;
	if (!listener || !listener->reuseport)
		return listener;
	/* SO_REUSEPORT: the listeners on the same address and port share
	 * the connections, spread by the peer's address and port (Linux
	 * hashes them too), so that each process of a server gets some */
	unsigned n = 0, pick;
	struct sock *s;
	for (s = listeners; s; s = s->hnext)
		n += s->lport == lport && s->lip == listener->lip &&
		     s->reuseport;
	if (n <= 1)
		return listener; /* alone on it */
	pick = ((rip ^ (uint32_t)rport << 16 ^ rport) * 2654435761u >> 16) % n;
	for (s = listeners; s; s = s->hnext)
		if (s->lport == lport && s->lip == listener->lip &&
		    s->reuseport && pick-- == 0)
			break;
	return s;
}

/* The connection an ICMP error quoting (orig) is about, and the quoted
 * sequence number; NULL if none. */
static struct sock *quoted(const uint8_t *orig, size_t len, uint32_t *seq)
{
	const struct ip_hdr *ip = (const struct ip_hdr *)orig;
	size_t hl = (size_t)(ip->vihl & 15) * 4;
	/* the quoted header's first 8 bytes: the ports and the sequence */
	if (hl < sizeof(*ip) || len < hl + 8)
		return NULL;
	const struct tcp_hdr *h = (const struct tcp_hdr *)(orig + hl);
	struct sock *s = find(ip->src, h->sport, ip->dst, h->dport, 0);
	*seq = net32(h->seq);
	return s && !s->listening ? s : NULL;
}

void tcp_sock_icmp_error(const uint8_t *orig, size_t len, int err)
{
	uint32_t seq;
	struct sock *s = quoted(orig, len, &seq);
	if (s && tcp_icmp_error(s->tcp, seq, err))
		after(s);
}

int tcp_sock_mtu_reduced(const uint8_t *orig, size_t len, uint32_t mtu)
{
	uint32_t seq;
	struct sock *s = quoted(orig, len, &seq);
	if (!s || !tcp_mtu_reduced(s->tcp, seq, mtu - 20 - TCP_HDR,
				   clock_monotonic_ns()))
		return 0;
	after(s);
	return 1;
}

long long tcp_sock_established(void)
{
	long long n = 0;
	for (struct sock *s = all_socks; s; s = s->next)
		n += s->proto == IP_PROTO_TCP && s->tcp &&
		     (s->tcp->state == TCP_ESTABLISHED ||
		      s->tcp->state == TCP_CLOSE_WAIT);
	return n;
}

void tcp_sock_input(const struct ip_hdr *ip, const uint8_t *p, size_t len,
		    const struct tcp_part *more, unsigned nmore, int csum_ok)
{
	const struct tcp_hdr *h = (const struct tcp_hdr *)p;
	tcp_mib.in_segs++;
	if (len < TCP_HDR) {
		tcp_mib.in_errs++;
		return;
	}
	size_t hl = (size_t)(h->off >> 4) * 4;
	uint32_t sum =
		inet_pseudo_sum(ip->src, ip->dst, IP_PROTO_TCP, (uint16_t)len);
	if (hl < TCP_HDR || hl > len || (nmore && !csum_ok)) {
		tcp_mib.in_errs++;
		return;
	}
	if (!csum_ok && inet_csum_done(inet_sum(p, len, sum)) != 0) {
		tcp_mib.in_errs++;
		tcp_mib.in_csum_errors++;
		return;
	}
	struct tcp_seg seg = {
		.seq = net32(h->seq),
		.ack = net32(h->ack),
		.flags = h->flags & 0x1f,
		.wnd = net16(h->wnd),
		.data = p + hl,
		.len = (uint32_t)(len - hl),
		.more = more,
		.nmore = nmore,
	};
	if (tcp_parse_options(p + TCP_HDR, hl - TCP_HDR, &seg) < 0) {
		tcp_mib.in_errs++;
		return;
	}
	uint64_t now = clock_monotonic_ns();
	struct sock *s =
		find(ip->dst, h->dport, ip->src, h->sport, if_from(ip->src));
	if (s && s->min_ttl && ip->ttl < s->min_ttl) {
		tcp_minttl_drops++; /* IP_MINTTL (RFC 5082): not for us */
		return;
	}
	if (s && !s->listening) {
		struct tcp_cb *cb = s->tcp;
		/* data past a ring that shrank, within the window it had */
		uint32_t room = tcp_ring_cap(&cb->rcv) - cb->rcv.len;
		if (seg.len && cb->rcv.npages &&
		    cb->rcv.npages < TCP_RING_PAGES_MAX && !cb->nooo &&
		    tcp_seq_lt(cb->rcv_nxt + room, cb->rcv_adv) &&
		    tcp_seq_lt(cb->rcv_nxt + room, seg.seq + seg.len) &&
		    ring_grow(s, &cb->rcv)) {
			s->rcv_full = 0;
			s->full_at = now;
		}
		tcp_input(cb, &seg, now);
		after(s);
		return;
	}
	if (s && (seg.flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN) {
		/* a new connection for a listener */
		if (s->pending + s->acceptq_len >= s->backlog)
			return; /* full: the peer retries */
		struct sock *c = kmalloc(sizeof(*c));
		if (!c)
			return;
		c->proto = IP_PROTO_TCP;
		c->type = s->type;
		c->rcvbuf = s->rcvbuf;
		c->sndbuf = s->sndbuf;
		c->rcvbuf_set = s->rcvbuf_set;
		c->sndbuf_set = s->sndbuf_set;
		sock_link(c);
		if (tcp_sock_init(c) < 0) {
			sock_free(c);
			return;
		}
		c->tcp->nodelay = s->tcp->nodelay;
		c->tcp->keepalive = s->tcp->keepalive;
		c->ip = s->ip;
		c->pmtudisc = s->pmtudisc;
		c->maxseg = s->maxseg;
		c->tcp->cork = s->tcp->cork;
		c->tcp->user_timeout = s->tcp->user_timeout;
		c->lip = ip->dst;
		c->lport = h->dport;
		c->rip = ip->src;
		c->rport = h->sport;
		hash_into(bucket(c->lport, c->rip, c->rport), c);
		route(c);
		c->bound = c->connected = 1;
		c->parent = s;
		c->pending = 1;
		s->pending++;
		tcp_accept_syn(c->tcp, &seg, new_iss(), now);
		tcp_sock_touch(c);
		return;
	}
	if (s && (seg.flags & TCP_RST))
		return;
	/* nobody's: a reset, unless it was one (3.10.7.1) */
	uint32_t rseq, rack;
	uint8_t rflags;
	if (tcp_reset_for(&seg, &rseq, &rack, &rflags)) {
		tcp_mib.out_segs++;
		tcp_mib.out_rsts++;
		static const struct tcp_opts none = {.wscale = -1};
		send_segment(ip->dst, ip->src, h->dport, h->sport, rseq, rack,
			     rflags, 0, &none, NULL, 0, 0, 0, NULL);
	}
}

/* (s)'s timers that are due, run: when it next needs the pass
 * (UINT64_MAX if it was freed or has no timer). */
static uint64_t visit(struct sock *s, uint64_t now)
{
	uint64_t next = UINT64_MAX;
	if (grown(s)) {
		rings_shrink(s, now);
		/* one idle long enough but holding data shrinks once
		 * emptied, which touches the socket: no time to wait for
		 * (a time passed would make every pass look at all) */
		if (grown(s) && s->full_at + RING_IDLE_NS > now)
			next = s->full_at + RING_IDLE_NS;
	}
	if (tcp_next_timer(s->tcp) <= now ||
	    (s->pending && s->defer_until && s->defer_until <= now)) {
		tcp_timer(s->tcp, now);
		if (after(s))
			return UINT64_MAX;
		untouch(s); /* after() touched it: looked at here */
	}
	uint64_t t = tcp_next_timer(s->tcp);
	if (s->pending && s->defer_until && s->defer_until < t)
		t = s->defer_until; /* a deferred connection's offer */
	return t < next ? t : next;
}

/* The touched sockets, and every other one once the soonest timer known
 * among them is due: a pass costs what happened, not the connections
 * open (a server with thousands of idle ones runs this at every call). */
uint64_t tcp_sock_timers(uint64_t now)
{
	uint64_t next = UINT64_MAX;
	if (now >= others_next) {
		while (touched)
			untouch(touched);
		for (struct sock *s = all_socks, *n; s; s = n) {
			n = s->next;
			if (s->proto == IP_PROTO_TCP && s->tcp) {
				uint64_t t = visit(s, now);
				next = t < next ? t : next;
			}
		}
		return others_next = next;
	}
	next = others_next;
	while (touched) {
		struct sock *s = touched;
		untouch(s);
		uint64_t t = visit(s, now);
		next = t < next ? t : next;
	}
	return others_next = next;
}

/* The program is ending: what it wrote must still reach its peers, as it
 * would after a process exits on Linux (the kernel keeps sending). Every
 * connection is closed as close() would, then the stack runs until each
 * has delivered its data and FIN (or was reset), or (limit_ns) passes. */
void tcp_sock_drain(uint64_t limit_ns)
{
	uint64_t now = clock_monotonic_ns(), deadline = now + limit_ns;
	for (struct sock *s = all_socks, *n; s; s = n) {
		n = s->next;
		if (s->proto != IP_PROTO_TCP || !s->tcp || s->orphan ||
		    s->parent)
			continue;
		if (s->listening) {
			drop_children(s);
			continue;
		}
		if (s->tcp->state == TCP_CLOSED)
			continue;
		if (s->tcp->rcv.len)
			tcp_abort(s->tcp);
		else
			tcp_close(s->tcp, now);
		tcp_sock_touch(s);
	}
	for (;;) {
		int busy = 0;
		for (struct sock *s = all_socks; s; s = s->next) {
			if (s->proto != IP_PROTO_TCP || !s->tcp)
				continue;
			enum tcp_state st = s->tcp->state;
			/* still owing the peer data or a FIN */
			if (st == TCP_FIN_WAIT_1 || st == TCP_CLOSING ||
			    st == TCP_LAST_ACK ||
			    (st >= TCP_ESTABLISHED && s->tcp->snd.len))
				busy = 1;
		}
		if (!busy || clock_monotonic_ns() >= deadline)
			return;
		uint64_t until = clock_monotonic_ns() + 10000000;
		net_poll();
		netdev_wait(until < deadline ? until : deadline);
	}
}
