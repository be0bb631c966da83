/* sys_poll.c: poll, ppoll, select and pselect6.
 *
 * Readiness: regular files, directories and devices are always ready (as
 * on Linux); a pipe is readable with data or without writers, writable
 * with room or without readers. The console is reported ready: a read may
 * then wait for input, as a read on a terminal does. With one thread,
 * nothing can become ready while a call waits, except by time: a wait
 * with nothing ready sleeps for its timeout.
 */
#include "fs/fs.h"
#include "linux/syscalls.h"
#include "net/net.h"
#include <asm-generic/poll.h>
#include <linux/resource.h>
#include <linux/stat.h>

#define POLL_MAX FS_FD_MAX
#define NSEC_PER_SEC 1000000000ULL

struct pollfd_abi {
	int fd;
	short events, revents;
};

struct timespec_abi {
	int64_t sec, nsec;
};

/* Which of (events) file (f) can do now. */
short file_ready(struct file *f, short events)
{
	short ready = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
	struct inode *i = f->inode;
	if (socket_is(f))
		return socket_ready(f, events);
	if (f->ops && f->ops->poll)
		return (short)(f->ops->poll(f) & (events | POLLHUP | POLLERR));
	if (S_ISFIFO(i->mode) && i->u.pipe) {
		uint64_t used = pipe_bytes(i->u.pipe);
		ready = 0;
		if (used > 0)
			ready |= POLLIN | POLLRDNORM;
		if (pipe_writers(i->u.pipe) == 0)
			ready |= POLLHUP;
		if (used < pipe_capacity())
			ready |= POLLOUT | POLLWRNORM;
		if (pipe_readers(i->u.pipe) == 0)
			ready |= POLLERR;
	}
	return (short)(ready & (events | POLLHUP | POLLERR));
}

struct watchers *file_watchers(struct file *f)
{
	return f->ops && f->ops->watchers ? f->ops->watchers(f) : NULL;
}

static long do_poll(uint64_t ufds, uint64_t nfds, uint64_t timeout_ns)
{
	struct pollfd_abi fds[POLL_MAX];
	long n = 0;

	if (nfds > POLL_MAX || nfds > current->rlim[RLIMIT_NOFILE][0])
		return -EINVAL;
	if (copy_from_user(fds, ufds, nfds * sizeof(fds[0])) < 0)
		return -EFAULT;
	uint64_t deadline = deadline_in(timeout_ns);
	for (;;) {
		for (uint64_t k = 0; k < nfds; k++) {
			fds[k].revents = 0;
			if (fds[k].fd < 0)
				continue;
			struct file *f = fd_get(fds[k].fd);
			fds[k].revents =
				f ? file_ready(f, fds[k].events) : POLLNVAL;
			if (fds[k].revents)
				n++;
		}
		if (n || !timeout_ns)
			break;
		/* network input may make something ready; time and signals
		 * end the wait */
		int w = event_wait(deadline);
		if (w < 0)
			return -EINTR;
		if (w == 0)
			break;
	}
	if (copy_to_user(ufds, fds, nfds * sizeof(fds[0])) < 0)
		return -EFAULT;
	return n;
}

long sys_poll(uint64_t ufds, uint64_t nfds, int timeout_ms)
{
	uint64_t t =
		timeout_ms < 0 ? UINT64_MAX : (uint64_t)timeout_ms * 1000000ULL;
	return do_poll(ufds, nfds, t);
}

long sys_ppoll(uint64_t ufds, uint64_t nfds, uint64_t uts, uint64_t sigmask,
	       uint64_t sigsetsize)
{
	uint64_t t;
	int64_t r = timespec_from_user(uts, &t);
	if (r == 0)
		r = signal_mask_for_call(sigmask, sigsetsize);
	return r < 0 ? r : do_poll(ufds, nfds, t);
}

#define FDSET_WORDS (FS_FD_MAX / 64)

static long do_select(int nfds, uint64_t urd, uint64_t uwr, uint64_t uex,
		      uint64_t timeout_ns)
{
	uint64_t in[3][FDSET_WORDS] = {0}, out[3][FDSET_WORDS] = {0};
	const uint64_t uset[3] = {urd, uwr, uex};
	size_t bytes = ((size_t)nfds + 63) / 64 * 8;
	long n = 0;

	if (nfds < 0 || nfds > FS_FD_MAX)
		return -EINVAL;
	for (int s = 0; s < 3; s++)
		if (uset[s] && copy_from_user(in[s], uset[s], bytes) < 0)
			return -EFAULT;
	uint64_t deadline = deadline_in(timeout_ns);
again:
	for (int fd = 0; fd < nfds; fd++) {
		uint64_t bit = 1ULL << (fd % 64);
		int want_r = (in[0][fd / 64] & bit) != 0;
		int want_w = (in[1][fd / 64] & bit) != 0;
		if (!want_r && !want_w && !(in[2][fd / 64] & bit))
			continue;
		struct file *f = fd_get(fd);
		if (!f)
			return -EBADF;
		short ready = file_ready(f, POLLIN | POLLOUT);
		if (want_r && (ready & (POLLIN | POLLHUP | POLLERR))) {
			out[0][fd / 64] |= bit;
			n++;
		}
		if (want_w && (ready & (POLLOUT | POLLERR))) {
			out[1][fd / 64] |= bit;
			n++;
		}
	}
	if (n == 0 && timeout_ns) {
		int w = event_wait(deadline);
		if (w < 0)
			return -EINTR;
		if (w > 0)
			goto again;
	}
	for (int s = 0; s < 3; s++)
		if (uset[s] && copy_to_user(uset[s], out[s], bytes) < 0)
			return -EFAULT;
	return n;
}

long sys_select(int nfds, uint64_t rd, uint64_t wr, uint64_t ex, uint64_t utv)
{
	uint64_t t = UINT64_MAX;
	if (utv) {
		int64_t tv[2];
		if (copy_from_user(tv, utv, sizeof(tv)) < 0)
			return -EFAULT;
		if (tv[0] < 0 || tv[1] < 0 || tv[1] >= 1000000)
			return -EINVAL;
		t = (uint64_t)tv[0] * NSEC_PER_SEC + (uint64_t)tv[1] * 1000;
	}
	return do_select(nfds, rd, wr, ex, t);
}

long sys_pselect6(int nfds, uint64_t rd, uint64_t wr, uint64_t ex, uint64_t uts,
		  uint64_t usig)
{
	uint64_t t, sig[2] = {0, 0}; /* the mask's address and size */
	int64_t r = timespec_from_user(uts, &t);
	if (r == 0 && usig && copy_from_user(sig, usig, sizeof(sig)) < 0)
		r = -EFAULT;
	if (r == 0)
		r = signal_mask_for_call(sig[0], sig[1]);
	return r < 0 ? r : do_select(nfds, rd, wr, ex, t);
}
