/* sys_unix.c: the socket calls on AF_UNIX sockets (net/unix.c): their
 * addresses (struct sockaddr_un) and the program's buffers. sys_net.c
 * sends each call here when its descriptor is an AF_UNIX socket. */
#include "fs/fs.h"
#include "linux/syscalls.h"
#include "net/socket.h"
#include <linux/fcntl.h>
#include <linux/uio.h>

#define AF_UNIX_NR 1
#define SUN_PATH_OFFSET 2 /* offsetof(struct sockaddr_un, sun_path) */
#define SUN_PATH_MAX 108
#define MSG_TRUNC_FLAG 0x20
#define MSG_CTRUNC_FLAG 0x8
#define MSG_CMSG_CLOEXEC_FLAG 0x40000000
#define SCM_RIGHTS_NR 1
#define CMSG_HDR 16 /* struct cmsghdr: size_t len; int level, type */
#define CMSG_ALIGN8(n) (((n) + 7) & ~(uint64_t)7)
#define CONTROL_MAX 4096
#define SOL_SOCKET_NR 1
#define SO_TYPE_NR 3
#define SO_ERROR_NR 4
#define SO_SNDBUF_NR 7
#define SO_RCVBUF_NR 8
#define SO_PASSCRED_NR 16
#define SO_PEERCRED_NR 17
#define SO_ACCEPTCONN_NR 30
#define SO_PROTOCOL_NR 38
#define SO_DOMAIN_NR 39
#define UNIX_BUF_REPORTED (208 * 1024)

/* A struct sockaddr_un from the program into (a): 0 or -errno. */
static long get_addr(uint64_t uaddr, uint64_t len, struct unix_addr *a)
{
	uint8_t raw[SUN_PATH_OFFSET + SUN_PATH_MAX];
	uint16_t family;
	if (len < SUN_PATH_OFFSET || len > sizeof(raw))
		return -EINVAL;
	if (copy_from_user(raw, uaddr, len) < 0)
		return -EFAULT;
	memcpy(&family, raw, sizeof(family));
	if (family != AF_UNIX_NR)
		return -EINVAL;
	size_t n = len - SUN_PATH_OFFSET;
	memset(a, 0, sizeof(*a));
	memcpy(a->path, raw + SUN_PATH_OFFSET, n);
	if (n && a->path[0] != '\0') {
		/* a path ends at its first NUL, or where the address does */
		size_t k = 0;
		while (k < n && a->path[k])
			k++;
		if (k == SUN_PATH_MAX)
			return -EINVAL; /* no room for the NUL */
		n = k;
	}
	a->len = (uint32_t)n;
	return 0;
}

/* Write (a) to the program's (uaddr, *ulen) as accept and getsockname
 * do: truncated to the room it gave, the full length stored back. A
 * socket with no name is the family alone there, but nothing at all for
 * recvfrom and recvmsg (received), as on Linux. */
static long put_addr(uint64_t uaddr, uint64_t ulen, const struct unix_addr *a,
		     int received)
{
	uint8_t raw[SUN_PATH_OFFSET + SUN_PATH_MAX + 1] = {AF_UNIX_NR, 0};
	int abstract = a->len && a->path[0] == '\0';
	int32_t full = SUN_PATH_OFFSET + (int32_t)a->len +
		       (a->len && !abstract ? 1 : 0);
	if (received && !a->len)
		full = 0;
	memcpy(raw + SUN_PATH_OFFSET, a->path, a->len);
	return sockaddr_out(uaddr, ulen, raw, full);
}

long unix_sys_socket(int type, int protocol, int nonblock, int cloexec)
{
	struct file *f;
	if (protocol != 0 && protocol != AF_UNIX_NR)
		return -EPROTONOSUPPORT;
	long r = unix_socket(type, nonblock, &f);
	if (r < 0)
		return r;
	return fd_install_new(f, cloexec);
}

long unix_sys_socketpair(int type, int protocol, int nonblock, int cloexec,
			 uint64_t usv)
{
	struct file *a, *b;
	if (protocol != 0 && protocol != AF_UNIX_NR)
		return -EPROTONOSUPPORT;
	long r = unix_pair(type, nonblock, &a, &b);
	if (r < 0)
		return r;
	int32_t sv[2] = {fd_install(a, 0, cloexec), -1};
	if (sv[0] >= 0)
		sv[1] = fd_install(b, 0, cloexec);
	if (sv[1] < 0 || copy_to_user(usv, sv, sizeof(sv)) < 0) {
		r = sv[0] < 0 ? sv[0] : sv[1] < 0 ? sv[1] : -EFAULT;
		if (sv[0] >= 0)
			fd_close(sv[0]);
		else
			file_put(a);
		if (sv[1] >= 0)
			fd_close(sv[1]);
		else
			file_put(b);
		return r;
	}
	return 0;
}

long unix_sys_bind(struct file *f, uint64_t uaddr, uint64_t len)
{
	struct unix_addr a;
	long r = get_addr(uaddr, len, &a);
	return r < 0 ? r : unix_bind(f, &a);
}

long unix_sys_connect(struct file *f, uint64_t uaddr, uint64_t len)
{
	struct unix_addr a;
	long r = get_addr(uaddr, len, &a);
	if (r < 0)
		return r;
	if (a.len == 0)
		return -EINVAL;
	return unix_connect(f, &a);
}

long unix_sys_accept(struct file *f, uint64_t uaddr, uint64_t ulen, int flags,
		     int cloexec)
{
	struct file *c;
	long r = unix_accept(f, flags, &c);
	if (r < 0)
		return r;
	int fd = fd_install(c, 0, cloexec);
	if (fd < 0) {
		file_put(c);
		return fd;
	}
	struct unix_addr a;
	unix_name(c, 1, &a); /* the client's name, usually none */
	if ((r = put_addr(uaddr, ulen, &a, 0)) < 0)
		return r;
	return fd;
}

long unix_sys_name(struct file *f, uint64_t uaddr, uint64_t ulen, int peer)
{
	struct unix_addr a;
	if (peer && !unix_connected(f))
		return -ENOTCONN;
	unix_name(f, peer, &a);
	return put_addr(uaddr, ulen, &a, 0);
}

long unix_sys_sendto(struct file *f, uint64_t ubuf, uint64_t len, int flags,
		     uint64_t uaddr, uint64_t alen)
{
	struct unix_addr a;
	long r;
	if (uaddr && (r = get_addr(uaddr, alen, &a)) < 0)
		return r;
	if (len > PROCESS_IOBUF_SIZE) {
		if (unix_type(f) != 1 /* SOCK_STREAM */)
			return -EMSGSIZE;
		len = PROCESS_IOBUF_SIZE; /* a short write: the caller goes on
					   */
	}
	if (copy_from_user(current->iobuf, ubuf, len) < 0)
		return -EFAULT;
	return unix_send(f, current->iobuf, len, flags, uaddr ? &a : NULL,
			 NULL);
}

long unix_sys_recvfrom(struct file *f, uint64_t ubuf, uint64_t len, int flags,
		       uint64_t uaddr, uint64_t ualen)
{
	struct unix_addr a;
	size_t full;
	uint64_t cap = len < PROCESS_IOBUF_SIZE ? len : PROCESS_IOBUF_SIZE;
	long n = unix_recv(f, current->iobuf, cap, flags, &a, &full, NULL);
	if (n < 0)
		return n;
	if (n > 0 && copy_to_user(ubuf, current->iobuf, (uint64_t)n) < 0)
		return -EFAULT;
	long r = put_addr(uaddr, ualen, &a, 1);
	if (r < 0)
		return r;
	return (flags & MSG_TRUNC_FLAG) ? (long)full : n;
}

/* The files an SCM_RIGHTS control message names, into (r) with a
 * reference each: 0, -EINVAL (malformed, or another kind of message) or
 * -EBADF; on error no reference is held. */
static long rights_from_user(const struct msghdr_abi *m, struct unix_rights *r)
{
	uint8_t ctl[CONTROL_MAX];
	r->n = 0;
	if (m->controllen > sizeof(ctl))
		return -ENOBUFS;
	if (copy_from_user(ctl, m->control, m->controllen) < 0)
		return -EFAULT;
	for (uint64_t at = 0; at + CMSG_HDR <= m->controllen;) {
		uint64_t len;
		int32_t level, type;
		memcpy(&len, ctl + at, 8);
		memcpy(&level, ctl + at + 8, 4);
		memcpy(&type, ctl + at + 12, 4);
		if (len < CMSG_HDR || len > m->controllen - at)
			goto bad;
		if (level != SOL_SOCKET_NR || type != SCM_RIGHTS_NR) {
			static int said;
			if (!said++)
				klog("sendmsg: only SCM_RIGHTS control "
				     "messages "
				     "are implemented on AF_UNIX sockets; the "
				     "program gets EINVAL");
			goto bad;
		}
		for (uint64_t k = CMSG_HDR; k + 4 <= len; k += 4) {
			int32_t fd;
			memcpy(&fd, ctl + at + k, 4);
			struct file *fl = fd_get(fd);
			if (!fl) {
				for (int j = 0; j < r->n; j++)
					file_put(r->files[j]);
				r->n = 0;
				return -EBADF;
			}
			if (r->n == UNIX_RIGHTS_MAX)
				goto bad;
			fl->refs++;
			r->files[r->n++] = fl;
		}
		at += CMSG_ALIGN8(len);
	}
	return 0;
bad:
	for (int j = 0; j < r->n; j++)
		file_put(r->files[j]);
	r->n = 0;
	return -EINVAL;
}

long unix_sys_sendmsg(struct file *f, uint64_t umsg, int flags)
{
	struct iovec iov[UIO_MAXIOV];
	struct msghdr_abi m;
	struct unix_addr a;
	struct unix_rights rights;
	long total = msghdr_in(umsg, &m, iov), r;
	if (total < 0)
		return total;
	if (total > PROCESS_IOBUF_SIZE)
		return -EMSGSIZE;
	if (m.name && (r = get_addr(m.name, (uint64_t)m.namelen, &a)) < 0)
		return r;
	uint8_t *buf = current->iobuf;
	if (iov_gather(buf, iov, m.iovlen) < 0)
		return -EFAULT;
	if ((r = rights_from_user(&m, &rights)) < 0)
		return r;
	r = unix_send(f, buf, (size_t)total, flags, m.name ? &a : NULL,
		      &rights);
	if (r <= 0)
		for (int k = 0; k < rights.n; k++)
			file_put(rights.files[k]);
	return r;
}

/* Install (r)'s files as descriptors and describe them in the program's
 * control buffer: the bytes used, with MSG_CTRUNC in (*mflags) when
 * some did not fit (those are closed). */
static long rights_to_user(const struct msghdr_abi *m, struct unix_rights *r,
			   int flags, int32_t *mflags)
{
	uint64_t room = m->control ? m->controllen : 0;
	int fit = room < CMSG_HDR ? 0 : (int)((room - CMSG_HDR) / 4);
	int32_t fds[UNIX_RIGHTS_MAX];
	int n = 0;
	for (int k = 0; k < r->n; k++) {
		int fd = k < fit ? fd_install(r->files[k], 0,
					      flags & MSG_CMSG_CLOEXEC_FLAG)
				 : -1;
		if (fd < 0) {
			file_put(r->files[k]);
			*mflags |= MSG_CTRUNC_FLAG;
			continue;
		}
		fds[n++] = fd;
	}
	if (!n)
		return 0;
	uint64_t len = CMSG_HDR + 4 * (uint64_t)n;
	uint8_t hdr[CMSG_HDR];
	int32_t level = SOL_SOCKET_NR, type = SCM_RIGHTS_NR;
	memcpy(hdr, &len, 8);
	memcpy(hdr + 8, &level, 4);
	memcpy(hdr + 12, &type, 4);
	if (copy_to_user(m->control, hdr, CMSG_HDR) < 0 ||
	    copy_to_user(m->control + CMSG_HDR, fds, 4 * (size_t)n) < 0)
		return -EFAULT;
	uint64_t used = CMSG_ALIGN8(len);
	return (long)(used < room ? used : room);
}

long unix_sys_recvmsg(struct file *f, uint64_t umsg, int flags)
{
	struct iovec iov[UIO_MAXIOV];
	struct msghdr_abi m;
	struct unix_addr a;
	struct unix_rights rights;
	size_t full;
	long total = msghdr_in(umsg, &m, iov);
	if (total < 0)
		return total;
	uint8_t *buf = current->iobuf;
	uint64_t cap = (uint64_t)total < PROCESS_IOBUF_SIZE
			       ? (uint64_t)total
			       : PROCESS_IOBUF_SIZE;
	long n = unix_recv(f, buf, cap, flags, &a, &full, &rights);
	if (n < 0)
		return n;
	int32_t mflags = full > (size_t)n ? MSG_TRUNC_FLAG : 0;
	long used = rights_to_user(&m, &rights, flags, &mflags);
	if (used < 0)
		return used;
	if (iov_scatter(iov, m.iovlen, buf, (uint64_t)n) < 0)
		return -EFAULT;
	if (m.name) {
		uint64_t ulen = umsg + offsetof(struct msghdr_abi, namelen);
		long r = put_addr(m.name, ulen, &a, 1);
		if (r < 0)
			return r;
	}
	m.controllen = (uint64_t)used;
	m.flags = mflags;
	if (copy_to_user(umsg + offsetof(struct msghdr_abi, controllen),
			 &m.controllen, sizeof(m.controllen)) < 0 ||
	    copy_to_user(umsg + offsetof(struct msghdr_abi, flags), &m.flags,
			 sizeof(m.flags)) < 0)
		return -EFAULT;
	return (flags & MSG_TRUNC_FLAG) ? (long)full : n;
}

long unix_sys_setsockopt(struct file *f, int level, int name, uint64_t len)
{
	(void)f;
	if (level != SOL_SOCKET_NR)
		return -EOPNOTSUPP;
	if (len < sizeof(int))
		return -EINVAL;
	switch (name) {
	case 2: /* SO_REUSEADDR: means nothing here, as on Linux */
	case SO_SNDBUF_NR:
	case SO_RCVBUF_NR:
	case SO_PASSCRED_NR:
	case 20: /* SO_RCVTIMEO */
	case 21: /* SO_SNDTIMEO */
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

long unix_sys_getsockopt(struct file *f, int level, int name, uint64_t uval,
			 uint64_t ulen)
{
	int32_t len, v;
	if (level != SOL_SOCKET_NR)
		return -EOPNOTSUPP;
	if (copy_from_user(&len, ulen, sizeof(len)) < 0)
		return -EFAULT;
	if (len < 0)
		return -EINVAL;
	if (name == SO_PEERCRED_NR) {
		struct {
			int32_t pid;
			uint32_t uid, gid;
		} cred = {unix_peer_pid(f), 0, 0};
		return sockopt_out(uval, ulen, len, &cred, sizeof(cred));
	}
	switch (name) {
	case SO_TYPE_NR:
		v = unix_type(f);
		break;
	case SO_DOMAIN_NR:
		v = AF_UNIX_NR;
		break;
	case SO_PROTOCOL_NR:
	case SO_ERROR_NR:
	case SO_PASSCRED_NR:
		v = 0;
		break;
	case SO_ACCEPTCONN_NR:
		v = unix_listening(f);
		break;
	case SO_SNDBUF_NR:
	case SO_RCVBUF_NR:
		v = UNIX_BUF_REPORTED;
		break;
	default:
		return -ENOPROTOOPT;
	}
	return sockopt_out(uval, ulen, len, &v, sizeof(v));
}
