/* net.h: the guest's network stack: one interface (virtio-net), Ethernet,
 * ARP, IPv4, ICMP echo, UDP, and the sockets that use them.
 *
 * Everything runs in the single system call context: frames are taken
 * from the device by net_poll, which every socket call and every wait
 * runs; waits halt until the device's interrupt, a timer or a signal
 * (event_wait). Addresses and ports are kept in network byte order.
 */
#ifndef FRESCO_NET_H
#define FRESCO_NET_H

#include "kernel.h"
#include "lib/inet.h"
#include "lib/rtnl.h"
#include "lib/tcp.h"

struct netif {
	int up;		/* a device is attached */
	int configured; /* it has an address */
	uint8_t mac[6];
	uint32_t ip, mask, gw, dns;
	unsigned mtu; /* the link's (the device says), 1500 by default */
	uint64_t rx_frames, tx_frames, rx_dropped, rx_bad;
	/* no room on the device: dropped as a full link would */
	uint64_t tx_dropped;
	uint64_t rx_bytes, tx_bytes;
	uint64_t lo_packets, lo_bytes, lo_dropped; /* the loopback's */
};
extern struct netif netif;

/* The protocols' counters, as /proc/net/snmp shows them under Linux's
 * names (RFC 4293, 4292 and 4113; TCP's are lib/tcp.h's tcp_mib). */
#define ICMP_TYPES 19
struct net_mib {
	struct {
		/* in: all packets, bad headers, not for this host, of
		 * protocols none takes, handed to one; fragments (not
		 * reassembled, so each fails); out: asked for, handed to
		 * the device or the loopback, no route, dropped */
		uint64_t in_receives, in_hdr_errors, in_addr_errors,
			in_unknown_protos, in_delivers;
		uint64_t reasm_reqds, reasm_fails;
		uint64_t out_requests, out_transmits, out_no_routes,
			out_discards;
	} ip;
	struct {
		/* messages in (errors: too short or bad checksum) and out
		 * (errors: not sent), and by type, of those RFC 792 and 950
		 * define; errors not sent for the rate limit */
		uint64_t in_msgs, in_errors, in_csum_errors, out_msgs,
			out_errors, out_rate_limit_global;
		uint32_t in_type[ICMP_TYPES], out_type[ICMP_TYPES];
	} icmp;
	struct {
		/* datagrams given to sockets, to no port, in error (bad
		 * lengths or checksum, or a full receive buffer), sent;
		 * broadcast or multicast no socket took */
		uint64_t in_datagrams, no_ports, in_errors, out_datagrams,
			rcvbuf_errors, in_csum_errors, ignored_multi;
	} udp;
};
extern struct net_mib net_mib;

/* The driver found a device with (mac) on a link of (mtu). */
void net_interface_up(const uint8_t mac[6], unsigned mtu);
/* Static configuration from the command line (fresco.ip=ADDR/PREFIX,
 * fresco.gw=, fresco.dns=); 0 or -EINVAL. */
int net_configure(const char *ip, const char *gw, const char *dns);
/* ---- DHCP (dhcp.c) ---- */
/* Configure the interface from a DHCP server (fresco.ip=dhcp): 0, or
 * -ENETDOWN (no device) / -ETIMEDOUT (no answer), unconfigured. */
int dhcp_configure(void);
/* A UDP packet: 1 if it was DHCP's (taken), 0 for the sockets. */
int dhcp_input(const struct ip_hdr *ip, const uint8_t *p, size_t len);
/* Renew the lease when due; when next to call, or UINT64_MAX. */
uint64_t dhcp_timers(uint64_t now);

/* /etc/resolv.conf and /etc/hosts as the network gave them. */
void net_write_etc(void);

/* Take what the device received and run it through the stack, and run
 * the protocols' timers; the number of frames, and one more if a timer
 * changed a socket (closed a connection, offered one). */
int net_poll(void);
/* When the protocols' timers next need net_poll: UINT64_MAX for never. */
extern uint64_t net_next_timer;
/* Send an IPv4 packet of (len) bytes of (proto) payload to (dst):
 * 0, -EHOSTUNREACH (no address, no route), -ENOBUFS. */
int ip_output(uint32_t src, uint32_t dst, uint8_t proto, const void *payload,
	      size_t len);
/* The same for a packet built in place: (payload) has NET_HEADROOM
 * writable bytes before it for the IPv4 and Ethernet headers, and (tx)
 * (NULL: nothing) says what the device finishes, its offsets counted from
 * (payload). Up to 64 KiB with tx->gso_size, which only TCP uses, when
 * netdev_caps has NETDEV_TSO. */
#define NET_HEADROOM (ETH_HLEN + 20)
struct netdev_tx;
/* What a socket sets in the IP header of what it sends (IP_TOS, IP_TTL,
 * IP_MTU_DISCOVER); zeroed: TOS 0, TTL 64, don't fragment. */
struct ip_opts {
	uint8_t tos, ttl, may_fragment;
	/* to a multicast group: a copy for this host's members too
	 * (IP_MULTICAST_LOOP), and only that (TTL 0, or lo chosen) */
	uint8_t mc_loop, mc_host_only;
};
int ip_send(uint32_t src, uint32_t dst, uint8_t proto, uint8_t *payload,
	    size_t len, const struct netdev_tx *tx, const struct ip_opts *o);
#define LOOPBACK_ADDR 0x0100007fu /* 127.0.0.1, network order */
/* ---- multicast (RFC 1112, IGMPv2 RFC 2236) ----
 * Groups this host is a member of, on an interface (1 lo, 2 eth0):
 * joined once per socket membership; on eth0 the first join sends an
 * IGMP report and the last leave a leave, and queries are answered. */
#define IP_MULTICAST(a) (((a)&0xf0) == 0xe0) /* 224/4, network order */
int ip_mc_join(uint32_t group, int ifindex); /* 0 or -ENOBUFS */
void ip_mc_leave(uint32_t group, int ifindex);
int ip_mc_joined(uint32_t group); /* on any interface */
/* (dst) is a broadcast address: 255.255.255.255, or the subnet's. */
int ip_is_broadcast(uint32_t dst);
/* (dst) is this host: 127.0.0.0/8 or the interface's address. */
int ip_is_local(uint32_t dst);
/* The address this host sends from to reach (dst). */
uint32_t ip_source_for(uint32_t dst);
/* The largest IPv4 packet to (dst) in one frame: the link's MTU (1500
 * over loopback). */
size_t ip_mtu_for(uint32_t dst);

/* The ARP cache's live entries, ARP_ENTRIES at most, into (out):
 * their number. */
#define ARP_ENTRIES 32
int arp_neighbours(struct rtnl_neigh *out);

/* /proc/net's files (proc_net.c): dev, route, arp, tcp, udp, raw. */
void net_proc_populate(void);

/* The program ended: let its connections deliver what they hold. */
void net_exit(void);

/* ---- the device (drivers/virtio_net.c) ---- */

/* What the device is asked to finish of a frame it sends. */
struct netdev_tx {
	/* the checksum over the frame from (csum_start) to its end, stored
	 * at csum_start + csum_offset, where the pseudo header's sum waits */
	uint16_t csum, csum_start, csum_offset;
	/* a TCP frame longer than the link's: cut after (hdr_len) bytes of
	 * headers into segments of (gso_size) bytes (NETDEV_TSO only) */
	uint16_t gso_size, hdr_len;
};
#define NETDEV_TX_CSUM 1 /* the device finishes checksums */
#define NETDEV_TSO 2	 /* and cuts TCP frames of up to 64 KiB */
extern unsigned netdev_caps;

int netdev_start(void);	     /* 0, or -ENETDOWN without a device */
uint64_t netdev_pages(void); /* what its buffers and rings take at most */
/* Send (frame); the driver finishes a checksum the device does not. 0,
 * -ENOBUFS (dropped as a full link would), -EINVAL. */
int netdev_send(const void *frame, size_t len, const struct netdev_tx *tx);
/* Hand received frames to (deliver): (len) bytes, those at (frame) first,
 * then the (nmore) parts at (more) for a frame spread over several
 * buffers; (csum_ok) says the device vouched for their checksums. The
 * number of frames. */
typedef void netdev_deliver(const uint8_t *frame, size_t len,
			    const struct tcp_part *more, unsigned nmore,
			    int csum_ok);
int netdev_poll(netdev_deliver *deliver);
void netdev_wait(uint64_t deadline);

/* ---- UDP (socket.c) ---- */
/* (csum_ok): the device vouched for the checksum; it is not checked. */
/* Tell the sender of datagram (ip) (its header and what follows, as
 * received) that it is unreachable (ICMP type 3, (code)): for one no
 * socket takes. At most ICMP_ERRORS_PER_SEC. */
void icmp_unreachable(const struct ip_hdr *ip, uint8_t code);
#define ICMP_ERRORS_PER_SEC 1000
#define ICMP_PORT_UNREACHABLE 3
/* An ICMP error (r) came about a datagram this host sent, whose header
 * and first bytes are (orig, len): the socket that sent it learns
 * (errno r->err) if it is to (a connected one, for a hard error; any,
 * with IP_RECVERR, which also queues it for recvmsg(MSG_ERRQUEUE)).
 * 1 if the datagram was one of a socket's, else 0. */
struct icmp_report {
	int err;  /* errno */
	int hard; /* ends what it is about (a connected socket) */
	uint8_t type, code;
	uint32_t offender; /* who sent the ICMP (network order) */
	uint32_t info;	   /* fragmentation needed: the next hop's MTU */
};
int udp_icmp_error(const uint8_t *orig, size_t len,
		   const struct icmp_report *r);
void udp_input(const struct ip_hdr *ip, const uint8_t *payload, size_t len,
	       int csum_ok);

/* ---- sockets (socket.c) ---- */
/* Counts every change to a socket (sock_changed): net_poll tells its
 * callers of those its timers made, so that a wait looks again. */
extern uint64_t sock_events;
struct file;
int socket_is(const struct file *f);
short socket_ready(struct file *f, short events);

#endif
