/* socket.h: sockets inside the kernel (socket.c) and the calls that work
 * on them (linux/sys_net.c). */
#ifndef FRESCO_NET_SOCKET_H
#define FRESCO_NET_SOCKET_H

#include "net/net.h"

struct dgram;

struct sock {
	struct sock *next; /* all UDP sockets */
	int type;	   /* SOCK_DGRAM */
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
};

extern const struct file_ops socket_ops;
extern uint64_t udp_dropped;

struct file;
struct sock *sock_of(const struct file *f);
/* A new socket file of (type): NULL if out of memory. */
struct file *sock_create(int type, int nonblock);
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
