/* sys_netlink.c: the socket calls on AF_NETLINK sockets (net/netlink.c):
 * their addresses (struct sockaddr_nl) and the program's buffers.
 * sys_net.c sends each call here when its descriptor is one. */
#include "fs/fs.h"
#include "linux/syscalls.h"
#include "net/socket.h"
#include <linux/uio.h>

#define AF_UNSPEC_NR 0
#define AF_NETLINK_NR 16
#define MSG_TRUNC_FLAG 0x20
#define SOL_SOCKET_NR 1
#define SO_RCVTIMEO_NR 20
#define SO_SNDTIMEO_NR 21

/* Linux's struct sockaddr_nl. */
struct sockaddr_nl_abi {
	uint16_t family;
	uint16_t pad;
	uint32_t pid;
	uint32_t groups;
};

/* A sockaddr_nl from the program: 0, 1 for AF_UNSPEC (connect's
 * "forget where to send") if (unspec), or -errno as Linux gives it. */
static long get_addr(uint64_t uaddr, uint64_t len, struct sockaddr_nl_abi *a,
		     int unspec)
{
	if (unspec && len >= sizeof(uint16_t)) {
		uint16_t family;
		if (copy_from_user(&family, uaddr, sizeof(family)) < 0)
			return -EFAULT;
		if (family == AF_UNSPEC_NR)
			return 1;
	}
	if (len < sizeof(*a))
		return -EINVAL;
	if (copy_from_user(a, uaddr, sizeof(*a)) < 0)
		return -EFAULT;
	return a->family == AF_NETLINK_NR ? 0 : -EINVAL;
}

static long put_addr(uint64_t uaddr, uint64_t ulen, uint32_t port,
		     uint32_t groups)
{
	struct sockaddr_nl_abi a = {AF_NETLINK_NR, 0, port, groups};
	return sockaddr_out(uaddr, ulen, &a, sizeof(a));
}

long netlink_sys_socket(int type, int protocol, int nonblock, int cloexec)
{
	struct file *f;
	long r = netlink_socket(type, protocol, nonblock, &f);
	if (r < 0)
		return r;
	return fd_install_new(f, cloexec);
}

long netlink_sys_bind(struct file *f, uint64_t uaddr, uint64_t len)
{
	struct sockaddr_nl_abi a;
	long r = get_addr(uaddr, len, &a, 0);
	return r < 0 ? r : netlink_bind(f, a.pid, a.groups);
}

long netlink_sys_connect(struct file *f, uint64_t uaddr, uint64_t len)
{
	struct sockaddr_nl_abi a = {0};
	long r = get_addr(uaddr, len, &a, 1);
	return r < 0 ? r : netlink_connect(f, a.pid, a.groups);
}

long netlink_sys_name(struct file *f, uint64_t uaddr, uint64_t ulen, int peer)
{
	uint32_t port, groups;
	netlink_name(f, peer, &port, &groups);
	return put_addr(uaddr, ulen, port, groups);
}

/* Where a send goes into (*to): -1 for the socket's default, else the
 * port named. 0 or -errno. */
static long destination(uint64_t uaddr, uint64_t alen, int64_t *to)
{
	struct sockaddr_nl_abi a;
	*to = -1;
	if (!uaddr)
		return 0;
	long r = get_addr(uaddr, alen, &a, 0);
	if (r == 0)
		*to = a.pid;
	return r;
}

long netlink_sys_sendto(struct file *f, uint64_t ubuf, uint64_t len, int flags,
			uint64_t uaddr, uint64_t alen)
{
	int64_t to;
	long r = destination(uaddr, alen, &to);
	(void)flags;
	if (r < 0)
		return r;
	if (len > PROCESS_IOBUF_SIZE)
		return -EMSGSIZE;
	if (copy_from_user(current->iobuf, ubuf, len) < 0)
		return -EFAULT;
	return netlink_send(f, current->iobuf, len, to);
}

long netlink_sys_recvfrom(struct file *f, uint64_t ubuf, uint64_t len,
			  int flags, uint64_t uaddr, uint64_t ualen)
{
	size_t full;
	uint64_t cap = len < PROCESS_IOBUF_SIZE ? len : PROCESS_IOBUF_SIZE;
	long n = netlink_recv(f, current->iobuf, cap, flags, &full);
	if (n < 0)
		return n;
	if (n > 0 && copy_to_user(ubuf, current->iobuf, (uint64_t)n) < 0)
		return -EFAULT;
	long r = put_addr(uaddr, ualen, 0, 0); /* from the kernel */
	if (r < 0)
		return r;
	return (flags & MSG_TRUNC_FLAG) ? (long)full : n;
}

long netlink_sys_sendmsg(struct file *f, uint64_t umsg, int flags)
{
	struct iovec iov[UIO_MAXIOV];
	struct msghdr_abi m;
	(void)flags;
	long total = msghdr_in(umsg, &m, iov);
	if (total < 0)
		return total;
	int64_t to;
	long r = destination(m.name, (uint64_t)m.namelen, &to);
	if (r < 0)
		return r;
	if (total > PROCESS_IOBUF_SIZE)
		return -EMSGSIZE;
	if (iov_gather(current->iobuf, iov, m.iovlen) < 0)
		return -EFAULT;
	return netlink_send(f, current->iobuf, (size_t)total, to);
}

long netlink_sys_recvmsg(struct file *f, uint64_t umsg, int flags)
{
	struct iovec iov[UIO_MAXIOV];
	struct msghdr_abi m;
	size_t full;
	long total = msghdr_in(umsg, &m, iov);
	if (total < 0)
		return total;
	uint64_t cap = (uint64_t)total < PROCESS_IOBUF_SIZE
			       ? (uint64_t)total
			       : PROCESS_IOBUF_SIZE;
	long n = netlink_recv(f, current->iobuf, cap, flags, &full);
	if (n < 0)
		return n;
	if (iov_scatter(iov, m.iovlen, current->iobuf, (uint64_t)n) < 0)
		return -EFAULT;
	if (m.name) {
		uint64_t ulen = umsg + offsetof(struct msghdr_abi, namelen);
		long r = put_addr(m.name, ulen, 0, 0);
		if (r < 0)
			return r;
	}
	m.controllen = 0; /* no NETLINK_PKTINFO */
	m.flags = full > (size_t)n ? MSG_TRUNC_FLAG : 0;
	if (copy_to_user(umsg + offsetof(struct msghdr_abi, controllen),
			 &m.controllen, sizeof(m.controllen)) < 0 ||
	    copy_to_user(umsg + offsetof(struct msghdr_abi, flags), &m.flags,
			 sizeof(m.flags)) < 0)
		return -EFAULT;
	return (flags & MSG_TRUNC_FLAG) ? (long)full : n;
}

static int is_timeout(int level, int name)
{
	return level == SOL_SOCKET_NR &&
	       (name == SO_RCVTIMEO_NR || name == SO_SNDTIMEO_NR);
}

long netlink_sys_setsockopt(struct file *f, int level, int name, uint64_t uval,
			    uint64_t len)
{
	uint64_t v;
	if (is_timeout(level, name)) {
		long r = sockopt_timeout_in(uval, len, &v);
		if (r < 0)
			return r;
	} else {
		int32_t i;
		if (len < sizeof(i))
			return -EINVAL;
		if (copy_from_user(&i, uval, sizeof(i)) < 0)
			return -EFAULT;
		v = (uint64_t)(uint32_t)i;
	}
	return netlink_setsockopt(f, level, name, v);
}

long netlink_sys_getsockopt(struct file *f, int level, int name, uint64_t uval,
			    uint64_t ulen)
{
	int32_t room;
	uint64_t v;
	if (copy_from_user(&room, ulen, sizeof(room)) < 0)
		return -EFAULT;
	if (room < 0)
		return -EINVAL;
	long r = netlink_getsockopt(f, level, name, &v);
	if (r < 0)
		return r;
	if (is_timeout(level, name))
		return sockopt_timeout_out(uval, ulen, room, v);
	int32_t i = (int32_t)v;
	return sockopt_out(uval, ulen, room, &i, sizeof(i));
}
