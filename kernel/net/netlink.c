/* netlink.c: AF_NETLINK sockets, NETLINK_ROUTE only: what getifaddrs,
 * if_nameindex and ip(8) ask the kernel about the network.
 *
 * A socket has a port, chosen when it is bound or first sends (Linux's
 * autobind: the process's pid, then -4097, -4098, ...); the kernel is
 * port 0. A request datagram is answered at once (lib/rtnl.c) from the
 * interfaces as they are then, the answers queued as datagrams until
 * read, within the receive buffer's size; answers beyond it are dropped
 * and the next receive fails with ENOBUFS, as on Linux. Group
 * memberships are kept but nothing is ever sent to them.
 */
#include "fs/fs.h"
#include "fresco/queue.h"
#include "linux/syscalls.h"
#include "net/socket.h"
#include <asm-generic/poll.h>
#include <linux/fcntl.h>

#define SOCK_DGRAM_NR 2
#define SOCK_RAW_NR 3
#define NETLINK_ROUTE_NR 0
#define MSG_PEEK_FLAG 0x2
#define MSG_DONTWAIT_FLAG 0x40
#define SOL_SOCKET_NR 1
#define SOL_NETLINK_NR 270
#define SO_REUSEADDR_NR 2
#define SO_TYPE_NR 3
#define SO_ERROR_NR 4
#define SO_SNDBUF_NR 7
#define SO_RCVBUF_NR 8
#define SO_PASSCRED_NR 16
#define SO_RCVTIMEO_NR 20
#define SO_SNDTIMEO_NR 21
#define SO_SNDBUFFORCE_NR 32
#define SO_RCVBUFFORCE_NR 33
#define SO_PROTOCOL_NR 38
#define SO_DOMAIN_NR 39
#define AF_NETLINK_NR 16
#define NETLINK_ADD_MEMBERSHIP_NR 1
#define NETLINK_DROP_MEMBERSHIP_NR 2
#define NETLINK_BROADCAST_ERROR_NR 4
#define NETLINK_NO_ENOBUFS_NR 5
#define NETLINK_CAP_ACK_NR 10
#define NETLINK_EXT_ACK_NR 11
#define NETLINK_GET_STRICT_CHK_NR 12
#define BUF_DEFAULT (208 * 1024) /* Linux's net.core.[rw]mem_default */
#define BUF_MIN 2304		 /* and SOCK_MIN_RCVBUF / 2 */
#define BUF_MAX (208 * 1024)	 /* net.core.[rw]mem_max */
#define DGRAM_OVERHEAD 256	 /* what a datagram costs beyond its bytes */
#define AUTOBIND_FIRST ((uint32_t)-4097)

struct nldgram {
	struct nldgram *next;
	uint32_t len;
	uint8_t data[];
};

struct nlsock {
	struct nlsock *next; /* all netlink sockets: the ports taken */
	uint32_t port, groups;
	uint32_t dst_port, dst_groups; /* where it sends (connect) */
	int type;
	int err; /* ENOBUFS for the next receive */
	int cap_ack, ext_ack, strict, no_enobufs, broadcast_error;
	int rcvbuf, sndbuf; /* as set: Linux reports twice these */
	uint64_t rcvtimeo_ns, sndtimeo_ns;
	struct nldgram *head, *tail;
	size_t queued; /* bytes in the queue, with DGRAM_OVERHEAD each */
	struct watchers watchers;
};

static struct nlsock *all_nlsocks;
static uint32_t rover = AUTOBIND_FIRST;

static long nl_read(struct file *f, uint64_t ubuf, uint64_t len);
static long nl_write(struct file *f, uint64_t ubuf, uint64_t len);
static long nl_ioctl(struct file *f, unsigned cmd, uint64_t arg);
static void nl_release(struct file *f);
static short nl_poll(struct file *f);
static struct watchers *nl_watchers(struct file *f);

static const struct file_ops netlink_ops = {
	.read = nl_read,
	.write = nl_write,
	.ioctl = nl_ioctl,
	.release = nl_release,
	.poll = nl_poll,
	.watchers = nl_watchers,
};

struct nlsock *netlink_of(const struct file *f)
{
	return f && f->ops == &netlink_ops ? f->inode->u.nlsock : NULL;
}

int netlink_socket(int type, int protocol, int nonblock, struct file **out)
{
	if (type != SOCK_RAW_NR && type != SOCK_DGRAM_NR)
		return -ESOCKTNOSUPPORT;
	if (protocol != NETLINK_ROUTE_NR) {
		static int said;
		if (!said++)
			klog("socket: netlink protocol %d is not implemented "
			     "(only NETLINK_ROUTE); the program gets "
			     "EPROTONOSUPPORT",
			     protocol);
		return -EPROTONOSUPPORT;
	}
	netdev_start(); /* the interfaces it describes are up */
	struct nlsock *n = kmalloc(sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->type = type;
	n->rcvbuf = n->sndbuf = BUF_DEFAULT / 2;
	*out = socket_file_new(&netlink_ops, nonblock);
	if (!*out) {
		kfree(n, sizeof(*n));
		return -ENOMEM;
	}
	(*out)->inode->u.nlsock = n;
	n->next = all_nlsocks;
	all_nlsocks = n;
	return 0;
}

static void nl_release(struct file *f)
{
	struct nlsock *n = netlink_of(f);
	if (!n)
		return;
	for (struct nlsock **p = &all_nlsocks; *p; p = &(*p)->next)
		if (*p == n) {
			*p = n->next;
			break;
		}
	while (n->head) {
		struct nldgram *d = n->head;
		QUEUE_DROP_FIRST(n->head, n->tail, next);
		kfree(d, sizeof(*d) + d->len);
	}
	kfree(n, sizeof(*n));
	f->inode->u.nlsock = NULL;
}

static int port_taken(uint32_t port)
{
	for (struct nlsock *n = all_nlsocks; n; n = n->next)
		if (n->port == port)
			return 1;
	return 0;
}

/* Give (n) a port if it has none, as Linux's netlink_autobind. */
static void autobind(struct nlsock *n)
{
	if (n->port)
		return;
	uint32_t port = (uint32_t)current->pid;
	while (!port || port_taken(port)) {
		port = rover--;
		if ((int32_t)rover > (int32_t)AUTOBIND_FIRST)
			rover = AUTOBIND_FIRST; /* wrapped */
	}
	n->port = port;
}

int netlink_bind(struct file *f, uint32_t port, uint32_t groups)
{
	struct nlsock *n = netlink_of(f);
	if (n->port && port != n->port)
		return -EINVAL; /* bound (or autobound) to another, as Linux */
	if (!n->port && port && port_taken(port))
		return -EADDRINUSE;
	if (!n->port && port)
		n->port = port;
	autobind(n);
	n->groups = groups;
	return 0;
}

int netlink_connect(struct file *f, uint32_t to, uint32_t groups)
{
	struct nlsock *n = netlink_of(f);
	n->dst_port = to;
	n->dst_groups = groups;
	autobind(n);
	return 0;
}

void netlink_name(struct file *f, int peer, uint32_t *port, uint32_t *groups)
{
	const struct nlsock *n = netlink_of(f);
	*port = peer ? n->dst_port : n->port;
	*groups = peer ? n->dst_groups : n->groups;
}

/* Queue one answer: 0, or -ENOBUFS if the receive buffer is full. */
static int enqueue(void *ctx, const void *data, size_t len)
{
	struct nlsock *n = ctx;
	struct nldgram *d = NULL;
	if (n->queued + len + DGRAM_OVERHEAD <= 2 * (size_t)n->rcvbuf)
		d = kmalloc(sizeof(*d) + len);
	if (!d) {
		if (!n->no_enobufs)
			n->err = ENOBUFS;
		return -ENOBUFS;
	}
	d->len = (uint32_t)len;
	memcpy(d->data, data, len);
	QUEUE_APPEND(n->head, n->tail, d, next);
	n->queued += len + DGRAM_OVERHEAD;
	return 0;
}

long netlink_send(struct file *f, const void *data, size_t len, int64_t to)
{
	struct nlsock *n = netlink_of(f);
	uint32_t port = to < 0 ? n->dst_port : (uint32_t)to;
	if (len > 2 * (size_t)n->sndbuf - 32)
		return -EMSGSIZE;
	autobind(n);
	if (port != 0)
		return -ECONNREFUSED; /* only the kernel answers here */
	struct rtnl_link links[IF_MAX];
	struct rtnl_view v;
	if_view(links, &v);
	int r = rtnl_answer(&v, n->port, n->cap_ack ? RTNL_CAP_ACK : 0, data,
			    len, enqueue, n);
	if (n->head || r < 0)
		watchers_wake(&n->watchers);
	return (long)len; /* answers that did not fit: the next receive */
}

long netlink_recv(struct file *f, void *out, size_t cap, int flags,
		  size_t *full)
{
	struct nlsock *n = netlink_of(f);
	int nonblock = (f->flags & O_NONBLOCK) || (flags & MSG_DONTWAIT_FLAG);
	uint64_t deadline =
		n->rcvtimeo_ns ? deadline_in(n->rcvtimeo_ns) : UINT64_MAX;
	*full = 0;
	for (;;) {
		if (n->err) {
			int e = n->err;
			n->err = 0;
			return -e;
		}
		if (n->head)
			break;
		if (nonblock)
			return -EAGAIN;
		/* nothing will come (the answers came with the request),
		 * but a signal or the timeout ends the wait */
		int w = event_wait(deadline);
		if (w < 0)
			return n->rcvtimeo_ns ? -EINTR : -ERESTARTSYS;
		if (w == 0 && clock_monotonic_ns() >= deadline)
			return -EAGAIN;
	}
	struct nldgram *d = n->head;
	size_t k = d->len < cap ? d->len : cap;
	memcpy(out, d->data, k);
	*full = d->len;
	if (!(flags & MSG_PEEK_FLAG)) {
		QUEUE_DROP_FIRST(n->head, n->tail, next);
		n->queued -= d->len + DGRAM_OVERHEAD;
		kfree(d, sizeof(*d) + d->len);
		watchers_wake(&n->watchers);
	}
	return (long)k;
}

static int buf_size(uint64_t v, int force)
{
	int64_t b = (int64_t)(int32_t)v;
	if (!force && b > BUF_MAX)
		b = BUF_MAX;
	return b < BUF_MIN ? BUF_MIN : (int)b;
}

int netlink_setsockopt(struct file *f, int level, int name, uint64_t v)
{
	struct nlsock *n = netlink_of(f);
	int on = !!(uint32_t)v;
	if (level == SOL_SOCKET_NR) {
		switch (name) {
		case SO_REUSEADDR_NR:
		case SO_PASSCRED_NR:
			return 0; /* nothing here they would change */
		case SO_RCVBUF_NR:
		case SO_RCVBUFFORCE_NR:
			n->rcvbuf = buf_size(v, name == SO_RCVBUFFORCE_NR);
			return 0;
		case SO_SNDBUF_NR:
		case SO_SNDBUFFORCE_NR:
			n->sndbuf = buf_size(v, name == SO_SNDBUFFORCE_NR);
			return 0;
		case SO_RCVTIMEO_NR:
			n->rcvtimeo_ns = v;
			return 0;
		case SO_SNDTIMEO_NR:
			n->sndtimeo_ns = v;
			return 0;
		}
		return -ENOPROTOOPT;
	}
	if (level != SOL_NETLINK_NR)
		return -ENOPROTOOPT;
	uint32_t group = (uint32_t)v;
	switch (name) {
	case NETLINK_ADD_MEMBERSHIP_NR:
	case NETLINK_DROP_MEMBERSHIP_NR:
		if (group == 0 || group > 32)
			return -EINVAL;
		if (name == NETLINK_ADD_MEMBERSHIP_NR)
			n->groups |= 1u << (group - 1);
		else
			n->groups &= ~(1u << (group - 1));
		autobind(n);
		return 0;
	case NETLINK_BROADCAST_ERROR_NR:
		n->broadcast_error = on;
		return 0;
	case NETLINK_NO_ENOBUFS_NR:
		n->no_enobufs = on;
		return 0;
	case NETLINK_CAP_ACK_NR:
		n->cap_ack = on;
		return 0;
	case NETLINK_EXT_ACK_NR:
		n->ext_ack = on; /* answers carry no extended report */
		return 0;
	case NETLINK_GET_STRICT_CHK_NR:
		n->strict = on;
		return 0;
	}
	return -ENOPROTOOPT;
}

int netlink_getsockopt(struct file *f, int level, int name, uint64_t *v)
{
	struct nlsock *n = netlink_of(f);
	if (level == SOL_SOCKET_NR) {
		switch (name) {
		case SO_TYPE_NR:
			*v = (uint64_t)n->type;
			return 0;
		case SO_PROTOCOL_NR:
			*v = NETLINK_ROUTE_NR;
			return 0;
		case SO_DOMAIN_NR:
			*v = AF_NETLINK_NR;
			return 0;
		case SO_ERROR_NR:
			*v = (uint64_t)n->err;
			n->err = 0;
			return 0;
		case SO_RCVBUF_NR:
			*v = 2 * (uint64_t)n->rcvbuf;
			return 0;
		case SO_SNDBUF_NR:
			*v = 2 * (uint64_t)n->sndbuf;
			return 0;
		case SO_RCVTIMEO_NR:
			*v = n->rcvtimeo_ns;
			return 0;
		case SO_SNDTIMEO_NR:
			*v = n->sndtimeo_ns;
			return 0;
		}
		return -ENOPROTOOPT;
	}
	if (level != SOL_NETLINK_NR)
		return -ENOPROTOOPT;
	switch (name) {
	case NETLINK_BROADCAST_ERROR_NR:
		*v = (uint64_t)n->broadcast_error;
		return 0;
	case NETLINK_NO_ENOBUFS_NR:
		*v = (uint64_t)n->no_enobufs;
		return 0;
	case NETLINK_CAP_ACK_NR:
		*v = (uint64_t)n->cap_ack;
		return 0;
	case NETLINK_EXT_ACK_NR:
		*v = (uint64_t)n->ext_ack;
		return 0;
	case NETLINK_GET_STRICT_CHK_NR:
		*v = (uint64_t)n->strict;
		return 0;
	}
	return -ENOPROTOOPT;
}

/* ---- the socket as a file ---- */

static long nl_read(struct file *f, uint64_t ubuf, uint64_t len)
{
	size_t full;
	uint64_t cap = len < PROCESS_IOBUF_SIZE ? len : PROCESS_IOBUF_SIZE;
	long n = netlink_recv(f, current->iobuf, cap, 0, &full);
	if (n > 0 && copy_to_user(ubuf, current->iobuf, (uint64_t)n) < 0)
		return -EFAULT;
	return n;
}

static long nl_write(struct file *f, uint64_t ubuf, uint64_t len)
{
	if (len > PROCESS_IOBUF_SIZE)
		return -EMSGSIZE;
	if (copy_from_user(current->iobuf, ubuf, len) < 0)
		return -EFAULT;
	return netlink_send(f, current->iobuf, len, -1);
}

/* The interface requests only: Linux's netlink has no FIONREAD. */
static long nl_ioctl(struct file *f, unsigned cmd, uint64_t arg)
{
	(void)f;
	return if_ioctl(cmd, arg);
}

static short nl_poll(struct file *f)
{
	const struct nlsock *n = netlink_of(f);
	short r = POLLOUT | POLLWRNORM;
	if (n->head)
		r |= POLLIN | POLLRDNORM;
	if (n->err)
		r |= POLLERR;
	return r;
}

static struct watchers *nl_watchers(struct file *f)
{
	return &netlink_of(f)->watchers;
}
