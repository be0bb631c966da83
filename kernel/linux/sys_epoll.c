/* sys_epoll.c: epoll, eventfd and timerfd.
 *
 * An epoll instance keeps its interests (descriptor, open file, events,
 * data) and, on each wait, asks every file for its readiness, the way
 * poll does: with one thread nothing changes behind the kernel's back, so
 * there is no ready list to maintain. Edge-triggered interests report a
 * readiness only when it was not there at the last report; one-shot ones
 * are disarmed after reporting until EPOLL_CTL_MOD. An interest whose
 * descriptor was closed (or now names another file) is dropped.
 */
#include "fs/fs.h"
#include "linux/syscalls.h"
#include "net/net.h"
#include <asm-generic/poll.h>
#include <linux/eventpoll.h>
#include <linux/fcntl.h>
#include <linux/stat.h>
#include <linux/time.h>

#define EP_MAX 4096 /* interests per instance */
#define NSEC 1000000000ULL
#define TFD_TIMER_ABSTIME_FLAG 1
#define EFD_SEMAPHORE_FLAG 1
#define EFD_NONBLOCK_FLAG 04000
#define EFD_CLOEXEC_FLAG 02000000

/* ---- anonymous files ---- */

struct file *anon_file(const struct file_ops *ops, void *priv, int flags)
{
	struct inode *i = inode_new(S_IFREG | 0600);
	if (!i)
		return NULL;
	i->nlink = 0;
	i->fops = ops;
	i->u.anon = priv;
	struct file *f = file_new(i, flags);
	if (!f)
		inode_put(i);
	return f;
}

static void *priv(const struct file *f)
{
	return f->inode->u.anon;
}

/* Wait for time, a signal or network input: 0 go on, -errno stop. */
static long wait_until(uint64_t deadline)
{
	int w = event_wait(deadline);
	return w < 0 ? -EINTR : 0;
}

/* ---- eventfd ---- */

struct eventfd {
	uint64_t count, gen;
	int semaphore;
};

static long efd_read(struct file *f, uint64_t ubuf, uint64_t len)
{
	struct eventfd *e = priv(f);
	if (len < 8)
		return -EINVAL;
	while (!e->count) {
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		if (wait_until(UINT64_MAX) < 0)
			return -ERESTARTSYS;
	}
	uint64_t v = e->semaphore ? 1 : e->count;
	if (copy_to_user(ubuf, &v, 8) < 0)
		return -EFAULT;
	e->count -= v;
	e->gen++;
	return 8;
}

static long efd_write(struct file *f, uint64_t ubuf, uint64_t len)
{
	struct eventfd *e = priv(f);
	uint64_t v;
	if (len < 8)
		return -EINVAL;
	if (copy_from_user(&v, ubuf, 8) < 0)
		return -EFAULT;
	if (v == UINT64_MAX)
		return -EINVAL;
	if (UINT64_MAX - 1 - e->count < v) {
		/* only a reader could make room: with one thread, none */
		return -EAGAIN;
	}
	e->count += v;
	e->gen++;
	return 8;
}

static short efd_poll(struct file *f)
{
	struct eventfd *e = priv(f);
	short r = 0;
	if (e->count)
		r |= POLLIN | POLLRDNORM;
	if (e->count < UINT64_MAX - 1)
		r |= POLLOUT | POLLWRNORM;
	return r;
}

static uint64_t efd_generation(struct file *f)
{
	return ((struct eventfd *)priv(f))->gen;
}

static void efd_release(struct file *f)
{
	kfree(priv(f), sizeof(struct eventfd));
}

static const struct file_ops eventfd_ops = {
	.read = efd_read,
	.write = efd_write,
	.release = efd_release,
	.poll = efd_poll,
	.generation = efd_generation,
};

long sys_eventfd2(unsigned initval, int flags)
{
	if (flags &
	    ~(EFD_SEMAPHORE_FLAG | EFD_NONBLOCK_FLAG | EFD_CLOEXEC_FLAG))
		return -EINVAL;
	struct eventfd *e = kmalloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->count = initval;
	e->gen = 0;
	e->semaphore = flags & EFD_SEMAPHORE_FLAG;
	struct file *f = anon_file(&eventfd_ops, e,
				   O_RDWR | (flags & EFD_NONBLOCK_FLAG));
	if (!f) {
		kfree(e, sizeof(*e));
		return -ENOMEM;
	}
	int fd = fd_install(f, 0, flags & EFD_CLOEXEC_FLAG);
	if (fd < 0)
		file_put(f);
	return fd;
}

long sys_eventfd(unsigned initval)
{
	return sys_eventfd2(initval, 0);
}

/* ---- timerfd ---- */

struct timerfd {
	int clock;
	uint64_t next;	   /* ns on that clock; 0: disarmed */
	uint64_t interval; /* ns; 0: one-shot */
};

struct itimerspec_abi {
	struct {
		int64_t sec, nsec;
	} interval, value;
};

static uint64_t clock_now(int clock)
{
	return clock == CLOCK_REALTIME ? clock_realtime_ns()
				       : clock_monotonic_ns();
}

/* Expirations so far, and the timer moved past them. */
static uint64_t tfd_expire(struct timerfd *t)
{
	uint64_t now = clock_now(t->clock);
	if (!t->next || now < t->next)
		return 0;
	if (!t->interval) {
		t->next = 0;
		return 1;
	}
	uint64_t n = (now - t->next) / t->interval + 1;
	t->next += n * t->interval;
	return n;
}

struct tfd_state {
	struct timerfd t;
	uint64_t pending; /* expirations not read yet */
};

static void tfd_update(struct tfd_state *s)
{
	s->pending += tfd_expire(&s->t);
}

static long tfd_read(struct file *f, uint64_t ubuf, uint64_t len)
{
	struct tfd_state *s = priv(f);
	if (len < 8)
		return -EINVAL;
	for (;;) {
		tfd_update(s);
		if (s->pending)
			break;
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		if (!s->t.next) {
			if (wait_until(UINT64_MAX) < 0)
				return -ERESTARTSYS;
			continue;
		}
		uint64_t now = clock_now(s->t.clock);
		uint64_t mono = clock_monotonic_ns() + (s->t.next - now);
		if (wait_until(mono) < 0)
			return -ERESTARTSYS;
	}
	if (copy_to_user(ubuf, &s->pending, 8) < 0)
		return -EFAULT;
	s->pending = 0;
	return 8;
}

static short tfd_poll(struct file *f)
{
	struct tfd_state *s = priv(f);
	tfd_update(s);
	return s->pending ? POLLIN | POLLRDNORM : 0;
}

static uint64_t tfd_deadline(struct file *f)
{
	struct tfd_state *s = priv(f);
	if (!s->t.next)
		return UINT64_MAX;
	uint64_t now = clock_now(s->t.clock);
	uint64_t mono = clock_monotonic_ns();
	return s->t.next <= now ? mono : mono + (s->t.next - now);
}

static void tfd_release(struct file *f)
{
	kfree(priv(f), sizeof(struct tfd_state));
}

static const struct file_ops timerfd_ops = {
	.read = tfd_read,
	.release = tfd_release,
	.poll = tfd_poll,
	.deadline = tfd_deadline,
};

long sys_timerfd_create(int clock, int flags)
{
	if (clock != CLOCK_MONOTONIC && clock != CLOCK_REALTIME &&
	    clock != CLOCK_BOOTTIME)
		return -EINVAL;
	if (flags & ~(EFD_NONBLOCK_FLAG | EFD_CLOEXEC_FLAG))
		return -EINVAL;
	struct tfd_state *s = kmalloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->t.clock = clock == CLOCK_REALTIME ? CLOCK_REALTIME : CLOCK_MONOTONIC;
	struct file *f = anon_file(&timerfd_ops, s,
				   O_RDONLY | (flags & EFD_NONBLOCK_FLAG));
	if (!f) {
		kfree(s, sizeof(*s));
		return -ENOMEM;
	}
	int fd = fd_install(f, 0, flags & EFD_CLOEXEC_FLAG);
	if (fd < 0)
		file_put(f);
	return fd;
}

static struct tfd_state *tfd_of(int fd)
{
	struct file *f = fd_get(fd);
	return f && f->ops == &timerfd_ops ? priv(f) : NULL;
}

static void tfd_get(struct tfd_state *s, struct itimerspec_abi *v)
{
	uint64_t now = clock_now(s->t.clock);
	uint64_t left = s->t.next > now ? s->t.next - now : s->t.next ? 1 : 0;
	v->value.sec = (int64_t)(left / NSEC);
	v->value.nsec = (int64_t)(left % NSEC);
	v->interval.sec = (int64_t)(s->t.interval / NSEC);
	v->interval.nsec = (int64_t)(s->t.interval % NSEC);
}

long sys_timerfd_settime(int fd, int flags, uint64_t unew, uint64_t uold)
{
	struct itimerspec_abi v, old;
	struct tfd_state *s = tfd_of(fd);
	if (!s)
		return fd_get(fd) ? -EINVAL : -EBADF;
	if (flags & ~TFD_TIMER_ABSTIME_FLAG)
		return -EINVAL;
	if (copy_from_user(&v, unew, sizeof(v)) < 0)
		return -EFAULT;
	if (v.value.sec < 0 || v.value.nsec < 0 ||
	    v.value.nsec >= (int64_t)NSEC || v.interval.sec < 0 ||
	    v.interval.nsec < 0 || v.interval.nsec >= (int64_t)NSEC)
		return -EINVAL;
	tfd_get(s, &old);
	uint64_t value = (uint64_t)v.value.sec * NSEC + (uint64_t)v.value.nsec;
	s->t.interval =
		(uint64_t)v.interval.sec * NSEC + (uint64_t)v.interval.nsec;
	s->pending = 0;
	if (!value)
		s->t.next = 0;
	else if (flags & TFD_TIMER_ABSTIME_FLAG)
		s->t.next = value;
	else
		s->t.next = clock_now(s->t.clock) + value;
	if (uold && copy_to_user(uold, &old, sizeof(old)) < 0)
		return -EFAULT;
	return 0;
}

long sys_timerfd_gettime(int fd, uint64_t ucur)
{
	struct itimerspec_abi v;
	struct tfd_state *s = tfd_of(fd);
	if (!s)
		return fd_get(fd) ? -EINVAL : -EBADF;
	tfd_update(s);
	tfd_get(s, &v);
	return copy_to_user(ucur, &v, sizeof(v));
}

/* ---- epoll ---- */

struct interest {
	int fd;
	struct file *file;
	uint64_t serial; /* the file's: another may come at its address */
	uint32_t events;
	uint64_t data;
	short last;   /* readiness last reported (edge-triggered) */
	uint64_t gen; /* the file's generation then */
	int disarmed; /* one-shot, reported */
};

struct epoll {
	struct interest *items; /* up to a page from kmalloc, then pages */
	int n, cap;
};

/* Room for (cap) interests: kmalloc's up to a page, consecutive pages
 * beyond (a server watches thousands of connections). */
static struct interest *items_alloc(int cap)
{
	size_t bytes = (size_t)cap * sizeof(struct interest);
	if (bytes <= PAGE_SIZE)
		return kmalloc(bytes);
	uint64_t pa = phys_alloc_contig((bytes + PAGE_SIZE - 1) / PAGE_SIZE);
	return pa ? phys_to_virt(pa) : NULL;
}

static void items_free(struct interest *items, int cap)
{
	size_t bytes = (size_t)cap * sizeof(struct interest);
	if (bytes <= PAGE_SIZE) {
		kfree(items, bytes);
		return;
	}
	uint64_t pa = virt_to_phys(items);
	for (size_t k = 0; k < (bytes + PAGE_SIZE - 1) / PAGE_SIZE; k++)
		phys_free(pa + k * PAGE_SIZE);
}

static void ep_release(struct file *f)
{
	struct epoll *ep = priv(f);
	if (ep->items)
		items_free(ep->items, ep->cap);
	kfree(ep, sizeof(*ep));
}

static int ep_scan(struct epoll *ep, struct epoll_event *out, int max,
		   int report, uint64_t *deadline);

static short ep_poll(struct file *f)
{
	uint64_t d;
	return ep_scan(priv(f), NULL, 1, 0, &d) ? POLLIN | POLLRDNORM : 0;
}

static const struct file_ops epoll_ops = {
	.release = ep_release,
	.poll = ep_poll,
};

long sys_epoll_create1(int flags)
{
	if (flags & ~EPOLL_CLOEXEC)
		return -EINVAL;
	struct epoll *ep = kmalloc(sizeof(*ep));
	if (!ep)
		return -ENOMEM;
	struct file *f = anon_file(&epoll_ops, ep, O_RDWR);
	if (!f) {
		kfree(ep, sizeof(*ep));
		return -ENOMEM;
	}
	int fd = fd_install(f, 0, flags & EPOLL_CLOEXEC);
	if (fd < 0)
		file_put(f);
	return fd;
}

long sys_epoll_create(int size)
{
	return size <= 0 ? -EINVAL : sys_epoll_create1(0);
}

/* Is interest (it) still on its open file, under its descriptor? A file
 * closed and freed leaves it behind until a scan drops it, and a new
 * one may be opened at the same address, under the same number. */
static int alive(const struct interest *it)
{
	struct file *f = fd_get(it->fd);
	return f == it->file && f->serial == it->serial;
}

static struct interest *ep_find(struct epoll *ep, int fd, struct file *f)
{
	for (int i = 0; i < ep->n; i++)
		if (ep->items[i].fd == fd && ep->items[i].file == f &&
		    alive(&ep->items[i]))
			return &ep->items[i];
	return NULL;
}

/* Room for one more interest: those whose file was closed go first,
 * then the array doubles, up to EP_MAX. */
static int ep_grow(struct epoll *ep)
{
	for (int i = 0; i < ep->n; i++)
		if (!alive(&ep->items[i]))
			ep->items[i--] = ep->items[--ep->n];
	if (ep->n < ep->cap)
		return 0;
	int cap = ep->cap ? ep->cap * 2 : 16;
	if (ep->n >= EP_MAX)
		return -ENOSPC;
	struct interest *items = items_alloc(cap);
	if (!items)
		return -ENOMEM;
	if (ep->items) {
		memcpy(items, ep->items, (size_t)ep->n * sizeof(*items));
		items_free(ep->items, ep->cap);
	}
	ep->items = items;
	ep->cap = cap;
	return 0;
}

long sys_epoll_ctl(int epfd, int op, int fd, uint64_t uev)
{
	struct file *ef = fd_get(epfd), *f = fd_get(fd);
	struct epoll_event ev = {0};
	if (!ef || !f)
		return -EBADF;
	if (ef->ops != &epoll_ops)
		return -EINVAL;
	if (f == ef)
		return -EINVAL;
	if (f->ops == NULL && !S_ISFIFO(f->inode->mode))
		return -EPERM; /* regular files and directories: Linux too */
	struct epoll *ep = priv(ef);
	if (op != EPOLL_CTL_DEL && copy_from_user(&ev, uev, sizeof(ev)) < 0)
		return -EFAULT;
	struct interest *it = ep_find(ep, fd, f);
	switch (op) {
	case EPOLL_CTL_ADD:
		if (it)
			return -EEXIST;
		if (ep->n == ep->cap) {
			int r = ep_grow(ep);
			if (r < 0)
				return r;
		}
		ep->items[ep->n++] = (struct interest){
			.fd = fd,
			.file = f,
			.serial = f->serial,
			.events = ev.events,
			.data = ev.data,
			.gen = file_generation(f),
		};
		return 0;
	case EPOLL_CTL_MOD:
		if (!it)
			return -ENOENT;
		it->events = ev.events;
		it->data = ev.data;
		it->disarmed = 0;
		it->last = 0;
		return 0;
	case EPOLL_CTL_DEL:
		if (!it)
			return -ENOENT;
		*it = ep->items[--ep->n];
		return 0;
	default:
		return -EINVAL;
	}
}

static void reverse(struct interest *a, int lo, int hi)
{
	for (; lo < hi; lo++, hi--) {
		struct interest t = a[lo];
		a[lo] = a[hi];
		a[hi] = t;
	}
}

/* Interests (k) on come first, in order, then those before (k). */
static void rotate(struct interest *a, int n, int k)
{
	reverse(a, 0, k - 1);
	reverse(a, k, n - 1);
	reverse(a, 0, n - 1);
}

/* Ready interests into (out) (up to max); with (report), edge and
 * one-shot state advance. (*deadline): when time alone changes one.
 * A wait that filled (out) leaves those it did not look at first for
 * the next, so that none waits for ever behind ready ones (as Linux's
 * ready list goes round). */
static int ep_scan(struct epoll *ep, struct epoll_event *out, int max,
		   int report, uint64_t *deadline)
{
	int n = 0, i;
	*deadline = UINT64_MAX;
	for (i = 0; i < ep->n && n < max; i++) {
		struct interest *it = &ep->items[i];
		if (!alive(it)) {
			/* closed (or reused): gone from the set */
			*it = ep->items[--ep->n];
			i--;
			continue;
		}
		if (it->disarmed)
			continue;
		short want = (short)(it->events & 0xffff) | POLLHUP | POLLERR;
		short ready = file_ready(it->file, want);
		if (it->file->ops && it->file->ops->deadline) {
			uint64_t d = it->file->ops->deadline(it->file);
			if (d < *deadline)
				*deadline = d;
		}
		short fresh = ready;
		if (it->events & EPOLLET) {
			/* new readiness, or the same one renewed by I/O */
			uint64_t gen = file_generation(it->file);
			fresh = gen != it->gen ? ready : ready & ~it->last;
			if (report)
				it->gen = gen;
		}
		if (report)
			it->last = ready;
		if (!fresh)
			continue;
		if (out)
			out[n] =
				(struct epoll_event){(uint32_t)ready, it->data};
		n++;
		if (report && (it->events & EPOLLONESHOT))
			it->disarmed = 1;
	}
	if (report && n == max && i < ep->n)
		rotate(ep->items, ep->n, i);
	return n;
}

long sys_epoll_pwait(int epfd, uint64_t uev, int max, int timeout_ms,
		     uint64_t sigmask, uint64_t sigsetsize)
{
	static struct epoll_event out[256];
	struct file *ef = fd_get(epfd);
	(void)sigmask;
	(void)sigsetsize;
	if (!ef)
		return -EBADF;
	if (ef->ops != &epoll_ops || max <= 0)
		return -EINVAL;
	if (!user_range_ok(uev, (uint64_t)max * sizeof(struct epoll_event)))
		return -EFAULT;
	if (max > 256)
		max = 256;
	uint64_t deadline =
		timeout_ms < 0
			? UINT64_MAX
			: clock_monotonic_ns() + (uint64_t)timeout_ms * 1000000;
	for (;;) {
		uint64_t soonest;
		net_poll();
		int n = ep_scan(priv(ef), out, max, 1, &soonest);
		if (n) {
			if (copy_to_user(uev, out, (size_t)n * sizeof(out[0])) <
			    0)
				return -EFAULT;
			return n;
		}
		if (!timeout_ms || clock_monotonic_ns() >= deadline)
			return 0;
		int w = event_wait(soonest < deadline ? soonest : deadline);
		if (w < 0)
			return -EINTR;
	}
}

long sys_epoll_wait(int epfd, uint64_t uev, int max, int timeout_ms)
{
	return sys_epoll_pwait(epfd, uev, max, timeout_ms, 0, 0);
}
