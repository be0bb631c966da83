/* sys_epoll.c: epoll, eventfd and timerfd.
 *
 * An epoll set keeps its interests (descriptor, open file, events, data)
 * and a ready list of those that may be ready: what they watch wakes
 * them (watchers_wake) whenever its readiness may have changed, so that
 * a wait costs what is ready, not what is watched. Edge-triggered
 * interests report once per wake-up; one-shot ones are disarmed after
 * reporting until EPOLL_CTL_MOD. An interest lasts until EPOLL_CTL_DEL
 * or until its open file is closed for good (a dup'd descriptor keeps
 * it), as on Linux.
 */
#include "fs/fs.h"
#include "fresco/queue.h"
#include "linux/syscalls.h"
#include "net/net.h"
#include <asm-generic/poll.h>
#include <linux/eventpoll.h>
#include <linux/fcntl.h>
#include <linux/stat.h>
#include <linux/time.h>

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
	uint64_t count;
	int semaphore;
	struct watchers watchers;
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
	watchers_wake(&e->watchers);
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
	watchers_wake(&e->watchers);
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

static struct watchers *efd_watchers(struct file *f)
{
	return &((struct eventfd *)priv(f))->watchers;
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
	.watchers = efd_watchers,
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
	e->watchers.first = NULL;
	e->semaphore = flags & EFD_SEMAPHORE_FLAG;
	struct file *f = anon_file(&eventfd_ops, e,
				   O_RDWR | (flags & EFD_NONBLOCK_FLAG));
	if (!f) {
		kfree(e, sizeof(*e));
		return -ENOMEM;
	}
	return fd_install_new(f, flags & EFD_CLOEXEC_FLAG);
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
	return fd_install_new(f, flags & EFD_CLOEXEC_FLAG);
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

#define EP_NESTS 4 /* sets in sets, as deep as Linux allows */

/* An interest is in three lists: its set's, the watchers of what it
 * watches (sockets, pipes, eventfds and sets wake theirs whenever their
 * readiness may have changed), and, while it may be ready, its set's
 * ready list. A wait looks only at the ready list. An interest found not
 * ready leaves it until it is woken. One reported comes back at the
 * end if level-triggered (it is looked at again, after the others, as
 * Linux's ready list goes round); edge-triggered, it waits to be woken.
 * A file that cannot wake (timerfd, the console) has its interests in
 * the list of sticky ones instead, which stay on the ready list: every
 * wait asks them, and an edge-triggered one reports only a readiness
 * that was not there at the last wait. An interest in a set is sticky
 * too (though the set wakes it), for the set's timerfds' sake. */
struct watch {
	struct epoll *ep;
	struct file *file;
	int fd;
	uint32_t events;
	uint64_t data;
	short last; /* sticky: the readiness the last wait saw */
	uint8_t sticky, queued, disarmed;
	struct watch *next, **pprev;   /* the watchers it is in */
	struct watch *anext, **apprev; /* its set's */
	struct watch *rnext, *rprev;   /* the ready list */
};

struct epoll {
	struct watch *all;
	struct watch *ready, *ready_tail;
	struct watchers watchers; /* interests in this set */
};

static struct watch *sticky;

/* (w) may be ready: its set looks at it at the next wait, and so do the
 * sets that set is in (even when (w) was already queued: a set's own
 * poll may have found it not ready meanwhile). */
static void queue(struct watch *w)
{
	if (w->disarmed)
		return;
	if (!w->queued) {
		w->queued = 1;
		DLIST_APPEND(w->ep->ready, w->ep->ready_tail, w, rnext, rprev);
	}
	watchers_wake(&w->ep->watchers);
}

void watchers_wake(struct watchers *ws)
{
	for (struct watch *w = ws->first; w; w = w->next)
		queue(w);
}

static void watch_free(struct watch *w)
{
	LIST_UNLINK(w, next, pprev);
	LIST_UNLINK(w, anext, apprev);
	if (w->queued)
		DLIST_UNLINK(w->ep->ready, w->ep->ready_tail, w, rnext, rprev);
	kfree(w, sizeof(*w));
}

void epoll_file_closed(struct file *f)
{
	struct watchers *ws = file_watchers(f);
	struct watch *next;
	for (struct watch *w = ws ? ws->first : sticky; w; w = next) {
		next = w->next;
		if (w->file == f)
			watch_free(w);
	}
}

static void ep_release(struct file *f)
{
	struct epoll *ep = priv(f);
	while (ep->all)
		watch_free(ep->all);
	kfree(ep, sizeof(*ep));
}

/* What (w) has to report now (0: nothing); its file's readiness into
 * (*ready). */
static short fresh(struct watch *w, short *ready)
{
	short want = (short)(w->events & 0xffff) | POLLHUP | POLLERR;
	*ready = file_ready(w->file, want);
	if (w->sticky && (w->events & EPOLLET))
		return *ready & ~w->last;
	return *ready;
}

static short ep_poll(struct file *f)
{
	struct epoll *ep = priv(f);
	short ready;
	for (struct watch *w = ep->ready; w; w = w->rnext)
		if (fresh(w, &ready))
			return POLLIN | POLLRDNORM;
	return 0;
}

static struct watchers *ep_watchers(struct file *f)
{
	return &((struct epoll *)priv(f))->watchers;
}

/* When time alone may make (f)'s readiness change: a set's sticky
 * interests' soonest (a timerfd in it, or in a set in it). */
static uint64_t ep_deadline(struct file *f)
{
	uint64_t soonest = UINT64_MAX;
	for (struct watch *w = ((struct epoll *)priv(f))->ready; w;
	     w = w->rnext) {
		const struct file_ops *ops = w->file->ops;
		if (w->sticky && ops && ops->deadline) {
			uint64_t d = ops->deadline(w->file);
			soonest = d < soonest ? d : soonest;
		}
	}
	return soonest;
}

static const struct file_ops epoll_ops = {
	.release = ep_release,
	.poll = ep_poll,
	.deadline = ep_deadline,
	.watchers = ep_watchers,
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
	return fd_install_new(f, flags & EPOLL_CLOEXEC);
}

long sys_epoll_create(int size)
{
	return size <= 0 ? -EINVAL : sys_epoll_create1(0);
}

/* The interest of set (ep) in (f) under descriptor (fd), or NULL: among
 * (f)'s watchers, usually one or two. */
static struct watch *ep_find(struct epoll *ep, int fd, struct file *f)
{
	struct watchers *ws = file_watchers(f);
	for (struct watch *w = ws ? ws->first : sticky; w; w = w->next)
		if (w->ep == ep && w->fd == fd && w->file == f)
			return w;
	return NULL;
}

/* Does set (from) hold set (to), or does it through the sets it holds?
 * Deeper than EP_NESTS counts as yes. */
static int holds(struct epoll *from, struct epoll *to, int depth)
{
	if (from == to || depth > EP_NESTS)
		return 1;
	for (struct watch *w = from->all; w; w = w->anext)
		if (w->file->ops == &epoll_ops &&
		    holds(priv(w->file), to, depth + 1))
			return 1;
	return 0;
}

/* How many levels of sets there are below (ep), and above it. */
static int depth_down(const struct epoll *ep)
{
	int most = 0;
	for (const struct watch *w = ep->all; w; w = w->anext)
		if (w->file->ops == &epoll_ops) {
			int d = 1 + depth_down(priv(w->file));
			most = d > most ? d : most;
		}
	return most;
}

static int depth_up(const struct epoll *ep)
{
	int most = 0;
	for (const struct watch *w = ep->watchers.first; w; w = w->next) {
		int d = 1 + depth_up(w->ep);
		most = d > most ? d : most;
	}
	return most;
}

static long ep_add(struct epoll *ep, int fd, struct file *f,
		   const struct epoll_event *ev)
{
	/* no loop of sets, and no chain longer than Linux allows, built
	 * from either end (waking and asking go along it, on the stack) */
	if (f->ops == &epoll_ops &&
	    (holds(priv(f), ep, 1) ||
	     depth_up(ep) + 1 + depth_down(priv(f)) > EP_NESTS))
		return -ELOOP;
	struct watch *w = kmalloc(sizeof(*w));
	if (!w)
		return -ENOMEM;
	*w = (struct watch){
		.ep = ep,
		.file = f,
		.fd = fd,
		.events = ev->events,
		.data = ev->data,
	};
	struct watchers *ws = file_watchers(f);
	/* a file time alone changes is asked at every wait, so that the
	 * wait knows when to look again (a set holding a timerfd) */
	w->sticky = !ws || (f->ops && f->ops->deadline);
	if (ws)
		LIST_PUSH(ws->first, w, next, pprev);
	else
		LIST_PUSH(sticky, w, next, pprev);
	LIST_PUSH(ep->all, w, anext, apprev);
	queue(w);
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
	struct watch *w = ep_find(ep, fd, f);
	switch (op) {
	case EPOLL_CTL_ADD:
		return w ? -EEXIST : ep_add(ep, fd, f, &ev);
	case EPOLL_CTL_MOD:
		if (!w)
			return -ENOENT;
		w->events = ev.events;
		w->data = ev.data;
		w->disarmed = 0;
		w->last = 0;
		queue(w);
		return 0;
	case EPOLL_CTL_DEL:
		if (!w)
			return -ENOENT;
		watch_free(w);
		return 0;
	default:
		return -EINVAL;
	}
}

/* Ready interests into the program's (uev), up to (max): how many, or
 * -EFAULT if not even one could be written there (that one stays
 * queued). Edge-triggered and one-shot ones advance. (*deadline): when
 * time alone makes a sticky one ready (complete when none was found). */
static long ep_scan(struct epoll *ep, uint64_t uev, int max, uint64_t *deadline)
{
	struct watch *keep = NULL, *keep_tail = NULL; /* back at the end */
	int n = 0, fault = 0;
	*deadline = UINT64_MAX;
	/* asking a socket takes in what the network brought, which may
	 * wake more interests: they join the list behind this one */
	while (ep->ready && n < max) {
		struct watch *w = ep->ready;
		DLIST_UNLINK(ep->ready, ep->ready_tail, w, rnext, rprev);
		short ready, now = fresh(w, &ready);
		const struct file_ops *ops = w->file->ops;
		if (w->sticky && ops && ops->deadline) {
			uint64_t d = ops->deadline(w->file);
			if (d < *deadline)
				*deadline = d;
		}
		if (now) {
			struct epoll_event e = {(uint32_t)ready, w->data};
			if (copy_to_user(uev + (uint64_t)n * sizeof(e), &e,
					 sizeof(e)) < 0) {
				DLIST_APPEND(keep, keep_tail, w, rnext, rprev);
				fault = 1; /* as it was: reported next time */
				break;
			}
			n++;
			if (w->events & EPOLLONESHOT)
				w->disarmed = 1;
		}
		w->last = ready;
		if (w->disarmed ||
		    (!w->sticky && (!now || (w->events & EPOLLET)))) {
			w->queued = 0;
			continue;
		}
		DLIST_APPEND(keep, keep_tail, w, rnext, rprev);
	}
	if (keep) {
		keep->rprev = ep->ready_tail;
		if (ep->ready_tail)
			ep->ready_tail->rnext = keep;
		else
			ep->ready = keep;
		ep->ready_tail = keep_tail;
	}
	return n || !fault ? n : -EFAULT;
}

long sys_epoll_pwait(int epfd, uint64_t uev, int max, int timeout_ms,
		     uint64_t sigmask, uint64_t sigsetsize)
{
	struct file *ef = fd_get(epfd);
	if (!ef)
		return -EBADF;
	if (ef->ops != &epoll_ops || max <= 0)
		return -EINVAL;
	if (!user_range_ok(uev, (uint64_t)max * sizeof(struct epoll_event)))
		return -EFAULT;
	long r = signal_mask_for_call(sigmask, sigsetsize);
	if (r < 0)
		return r;
	uint64_t deadline =
		timeout_ms < 0
			? UINT64_MAX
			: clock_monotonic_ns() + (uint64_t)timeout_ms * 1000000;
	for (;;) {
		uint64_t soonest;
		net_poll();
		long n = ep_scan(priv(ef), uev, max, &soonest);
		if (n)
			return n;
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
