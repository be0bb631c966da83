/* socket.h: sockets inside the kernel (socket.c) and the calls that work
 * on them (linux/sys_net.c). */
#ifndef FRESCO_NET_SOCKET_H
#define FRESCO_NET_SOCKET_H

#include "net/net.h"

#include "lib/tcp.h"

struct dgram;

/* A stream socket's send and receive rings, each (64 KiB) */
#define TCP_RING_PAGES 16

struct sock {
	struct sock *next; /* all sockets */
	int type;	   /* SOCK_DGRAM or SOCK_STREAM */
	int proto;	   /* IP_PROTO_UDP or IP_PROTO_TCP */
	uint32_t lip, rip; /* network order; 0: any / none */
	uint16_t lport, rport;
	int bound, connected;
	int reuseaddr, reuseport, broadcast, keepalive;
	int shut_rd, shut_wr;
	int error;			   /* SO_ERROR */
	uint64_t rcvtimeo_ns, sndtimeo_ns; /* 0: none */
	uint64_t rcvbuf, sndbuf;
	struct dgram *head, *tail;
	uint64_t queued;
	/* TCP */
	struct tcp_cb *tcp;
	uint8_t **pages; /* of both rings */
	unsigned npages;
	int listening, backlog, pending; /* pending: handshakes under way */
	struct sock *parent;		 /* a listener's, until accepted */
	struct sock *acceptq, *acceptq_tail, *accept_next;
	int acceptq_len;
	int orphan;   /* the program closed it; TCP still finishing */
	int timewait; /* an orphan in TIME_WAIT, its ring pages given back */
	int linger_on, linger_sec;
	int connect_started;
	uint64_t gen; /* bumped by every arrival and state change */
};

extern const struct file_ops socket_ops;
extern uint64_t udp_dropped;

struct file;
struct sock *sock_of(const struct file *f);
/* A new socket file of (type): NULL if out of memory. */
struct file *sock_create(int type, int nonblock);
/* A socket file for (s) (an accepted connection). */
struct file *sock_file_for(struct sock *s, int nonblock);
void sock_free(struct sock *s);
extern struct sock *all_socks;

/* ---- TCP sockets (tcp_sock.c) ---- */
int tcp_sock_init(struct sock *s);
void tcp_sock_input(const struct ip_hdr *ip, const uint8_t *p, size_t len);
int tcp_sock_connect(struct sock *s, uint32_t ip, uint16_t port);
int tcp_sock_listen(struct sock *s, int backlog);
struct sock *tcp_sock_accept(struct sock *s);
long tcp_sock_send(struct sock *s, const void *data, size_t len);
long tcp_sock_recv(struct sock *s, void *out, size_t len, int peek);
int tcp_sock_shutdown(struct sock *s, int how);
void tcp_sock_release(struct sock *s);
short tcp_sock_ready(struct sock *s);
/* At exit: close every connection and let them deliver what they hold,
 * for up to (limit_ns). */
void tcp_sock_drain(uint64_t limit_ns);
/* Run the TCP timers that are due; the next one, or UINT64_MAX. */
uint64_t tcp_sock_timers(uint64_t now);
int sock_bind_addr(struct sock *s, uint32_t addr, uint16_t port);
int udp_send(struct sock *s, uint32_t dst, uint16_t dport, const void *data,
	     size_t len);
long udp_recv(struct sock *s, void *buf, size_t cap, int peek, uint32_t *src,
	      uint16_t *sport);

/* A peer: where to send, or where a datagram came from. */
struct peer {
	uint32_t ip;
	uint16_t port;
};
/* send/recv with the program's buffer, waiting as the socket and (flags)
 * say (linux/sys_net.c). */
long sock_sendto(struct file *f, uint64_t ubuf, uint64_t len, int flags,
		 const struct peer *to);
long sock_recvfrom(struct file *f, uint64_t ubuf, uint64_t len, int flags,
		   struct peer *from);

#endif
