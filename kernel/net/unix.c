/* unix.c: AF_UNIX sockets, inside the guest: stream and datagram,
 * named in the file system, in the abstract namespace or not at all,
 * and socketpair.
 *
 * A stream socket receives into a 64 KiB ring of its own; its peer writes
 * there directly. connect queues a new server half, already connected to
 * the client, on the listener; accept hands it out. A datagram socket
 * keeps a queue of messages, each with the sender's name, up to
 * UNIX_DGRAM_QUEUE bytes.
 *
 * States of a stream socket: fresh (neither listening nor connected),
 * listening, connected (peer set), or disconnected (peer_gone: the peer
 * was closed: reads drain what is left and then see EOF, writes get
 * EPIPE). Every change moves (gen) of the sockets it touches and wakes
 * the processes that wait (sched_wake).
 */
#include "net/socket.h"
#include "fs/fs.h"
#include "fresco/queue.h"
#include <asm-generic/poll.h>
#include <asm/ioctls.h>
#include <asm/signal.h>
#include <linux/fcntl.h>
#include <linux/stat.h>

#define AF_UNIX_NR 1
#define SOCK_STREAM_NR 1
#define SOCK_DGRAM_NR 2
#define MSG_PEEK_FLAG 0x2
#define MSG_DONTWAIT_FLAG 0x40
#define MSG_NOSIGNAL_FLAG 0x4000
#define UNIX_RING_PAGES 16
#define UNIX_DGRAM_QUEUE (208 * 1024) /* Linux's default receive buffer */
#define UNIX_BACKLOG_MAX 4096
#define UNIX_ACCEPTCON 0x10000 /* /proc/net/unix's flag of a listener */

struct umsg {
	struct umsg *next;
	uint32_t len;
	struct unix_addr from;
	struct unix_rights *rights; /* or NULL */
	uint8_t data[];
};

/* Files sent along with the stream's data from byte (at) on. */
struct urights {
	struct urights *next;
	uint64_t at;
	struct unix_rights r;
};

struct usock {
	struct usock *next; /* all AF_UNIX sockets: the abstract names */
	int type;
	int pid; /* SO_PEERCRED: the process that made it */
	struct unix_addr name;
	struct inode *node; /* bound in the file system: its socket node */
	/* stream */
	int listening, backlog, acceptq_len;
	struct usock *acceptq, *acceptq_tail, *accept_next;
	struct usock *listener; /* a server half not yet accepted */
	int server_half;	/* made by connect; shows the listener's name */
	struct usock *peer;	/* stream: the other end; dgram: the default */
	int peer_gone, shut_rd, shut_wr;
	struct tcp_ring rx;
	uint8_t *pages[UNIX_RING_PAGES];
	uint64_t rx_total, rx_taken; /* bytes ever put in rx, taken out */
	struct urights *rights, *rights_tail;
	/* datagram */
	struct umsg *head, *tail;
	uint64_t queued;
	struct watchers watchers;
};

static struct usock *all_usocks;

static long unix_read(struct file *f, uint64_t ubuf, uint64_t len);
static long unix_write(struct file *f, uint64_t ubuf, uint64_t len);
static void unix_release(struct file *f);
static short unix_poll(struct file *f);
static struct watchers *unix_watchers(struct file *f);
static long unix_ioctl(struct file *f, unsigned cmd, uint64_t arg);

static const struct file_ops unix_ops = {
	.read = unix_read,
	.write = unix_write,
	.ioctl = unix_ioctl,
	.release = unix_release,
	.poll = unix_poll,
	.watchers = unix_watchers,
};

struct usock *unix_of(const struct file *f)
{
	return f && f->ops == &unix_ops ? f->inode->u.usock : NULL;
}

static void rights_put(struct unix_rights *r)
{
	for (int k = 0; r && k < r->n; k++)
		file_put(r->files[k]);
}

static void changed(struct usock *u)
{
	if (u)
		watchers_wake(&u->watchers);
	sched_wake();
}

/* ---- making and freeing ---- */

static struct usock *usock_new(int type)
{
	struct usock *u = kmalloc(sizeof(*u));
	if (!u)
		return NULL;
	u->type = type;
	u->pid = current->pid;
	if (type == SOCK_STREAM_NR) {
		for (int i = 0; i < UNIX_RING_PAGES; i++) {
			uint64_t pa = phys_alloc();
			if (!pa) {
				while (i--)
					phys_free(virt_to_phys(u->pages[i]));
				kfree(u, sizeof(*u));
				return NULL;
			}
			u->pages[i] = phys_to_virt(pa);
		}
		u->rx = (struct tcp_ring){u->pages, UNIX_RING_PAGES, 0, 0, 0};
	}
	u->next = all_usocks;
	all_usocks = u;
	return u;
}

static void disconnect(struct usock *u)
{
	struct usock *p = u->peer;
	if (p && p->peer == u) {
		p->peer = NULL;
		p->peer_gone = 1;
		changed(p);
	}
	u->peer = NULL;
}

static void usock_free(struct usock *u)
{
	for (struct usock **pp = &all_usocks; *pp; pp = &(*pp)->next)
		if (*pp == u) {
			*pp = u->next;
			break;
		}
	/* datagram sockets that sent here by default now get ECONNREFUSED */
	for (struct usock *o = all_usocks; o; o = o->next)
		if (o->peer == u) {
			o->peer = NULL;
			o->peer_gone = 1;
			changed(o);
		}
	disconnect(u);
	/* connections queued on a listener that goes away: reset */
	while (u->acceptq) {
		struct usock *c = u->acceptq;
		u->acceptq = c->accept_next;
		usock_free(c);
	}
	while (u->head) {
		struct umsg *m = u->head;
		u->head = m->next;
		rights_put(m->rights);
		kfree(m->rights, sizeof(*m->rights));
		kfree(m, sizeof(*m) + m->len);
	}
	while (u->rights) {
		struct urights *r = u->rights;
		u->rights = r->next;
		rights_put(&r->r);
		kfree(r, sizeof(*r));
	}
	if (u->node) {
		u->node->u.usock = NULL;
		inode_put(u->node);
	}
	if (u->type == SOCK_STREAM_NR)
		for (int i = 0; i < UNIX_RING_PAGES; i++)
			phys_free(virt_to_phys(u->pages[i]));
	kfree(u, sizeof(*u));
}

static struct file *usock_file(struct usock *u, int nonblock)
{
	struct file *f = socket_file_new(&unix_ops, nonblock);
	if (f)
		f->inode->u.usock = u;
	return f;
}

static void unix_release(struct file *f)
{
	struct usock *u = unix_of(f);
	if (u)
		usock_free(u);
	f->inode->u.usock = NULL;
}

int unix_socket(int type, int nonblock, struct file **out)
{
	if (type != SOCK_STREAM_NR && type != SOCK_DGRAM_NR)
		return -ESOCKTNOSUPPORT;
	struct usock *u = usock_new(type);
	if (!u)
		return -ENOMEM;
	if (!(*out = usock_file(u, nonblock))) {
		usock_free(u);
		return -ENOMEM;
	}
	return 0;
}

int unix_pair(int type, int nonblock, struct file **a, struct file **b)
{
	int r = unix_socket(type, nonblock, a);
	if (r < 0)
		return r;
	if ((r = unix_socket(type, nonblock, b)) < 0) {
		file_put(*a);
		return r;
	}
	struct usock *x = unix_of(*a), *y = unix_of(*b);
	x->peer = y;
	y->peer = x;
	return 0;
}

/* ---- names ---- */

static int abstract(const struct unix_addr *a)
{
	return a->len > 0 && a->path[0] == '\0';
}

/* The socket bound to (a), or NULL. */
static struct usock *lookup(const struct unix_addr *a, int *err)
{
	*err = -ECONNREFUSED;
	if (abstract(a)) {
		for (struct usock *u = all_usocks; u; u = u->next)
			if (!u->server_half && u->name.len == a->len &&
			    memcmp(u->name.path, a->path, a->len) == 0)
				return u;
		return NULL;
	}
	struct walk w;
	int r = path_walk(current->cwd, a->path, WALK_FOLLOW, &w);
	if (r < 0) {
		*err = r;
		return NULL;
	}
	struct usock *u = NULL;
	if (!w.inode)
		*err = -ENOENT;
	else if (!S_ISSOCK(w.inode->mode))
		*err = -ECONNREFUSED;
	else
		u = w.inode->u.usock;
	walk_done(&w);
	return u;
}

/* A name of its own for (u) in the abstract namespace: "\0" and five hex
 * digits, as Linux's autobind gives. */
static int autobind(struct usock *u)
{
	static unsigned next;
	struct unix_addr a = {6, {0}};
	int err;
	for (unsigned tries = 0; tries < 0x100000; tries++) {
		snprintf(a.path + 1, sizeof(a.path) - 1, "%05x",
			 next++ & 0xfffff);
		if (!lookup(&a, &err)) {
			u->name = a;
			return 0;
		}
	}
	return -EADDRINUSE;
}

int unix_bind(struct file *f, const struct unix_addr *a)
{
	struct usock *u = unix_of(f);
	int err;
	if (u->name.len)
		return -EINVAL;
	if (a->len == 0)
		return autobind(u);
	if (abstract(a)) {
		if (lookup(a, &err))
			return -EADDRINUSE;
		u->name = *a;
		return 0;
	}
	struct walk w;
	int r = path_walk(current->cwd, a->path, WALK_PARENT, &w);
	if (r < 0)
		return r;
	if (w.inode) {
		walk_done(&w);
		return -EADDRINUSE;
	}
	struct inode *i = inode_new(S_IFSOCK | (0777 & ~current->umask));
	r = i ? dir_link(w.parent, w.last, w.last_len, i) : -ENOSPC;
	walk_done(&w);
	if (r < 0) {
		if (i)
			kfree(i, sizeof(*i));
		return r;
	}
	inode_get(i);
	i->u.usock = u;
	u->node = i;
	u->name = *a;
	return 0;
}

void unix_name(const struct file *f, int peer, struct unix_addr *out)
{
	const struct usock *u = unix_of(f);
	if (peer)
		u = u->peer;
	*out = u ? u->name : (struct unix_addr){0, {0}};
}

int unix_connected(const struct file *f)
{
	const struct usock *u = unix_of(f);
	return u->peer != NULL;
}

/* ---- stream connections ---- */

int unix_listen(struct file *f, int backlog)
{
	struct usock *u = unix_of(f);
	if (u->type != SOCK_STREAM_NR)
		return -EOPNOTSUPP;
	if (u->peer || u->peer_gone)
		return -EINVAL;
	if (!u->name.len && autobind(u) < 0)
		return -EADDRINUSE;
	if (backlog < 0 || backlog > UNIX_BACKLOG_MAX)
		backlog = UNIX_BACKLOG_MAX;
	u->backlog = backlog ? backlog : 1;
	u->listening = 1;
	return 0;
}

/* Wait for something to change: 0 to look again, or the error. */
static int unix_wait(void)
{
	return event_wait(UINT64_MAX) < 0 ? -ERESTARTSYS : 0;
}

int unix_connect(struct file *f, const struct unix_addr *a)
{
	struct usock *u = unix_of(f), *l;
	int err;
	if (u->listening)
		return -EINVAL;
	if (u->type == SOCK_DGRAM_NR) {
		if (!(l = lookup(a, &err)))
			return err;
		if (l->type != SOCK_DGRAM_NR)
			return -EPROTOTYPE;
		u->peer = l;
		u->peer_gone = 0;
		return 0;
	}
	if (u->peer || u->peer_gone)
		return -EISCONN;
	for (;;) {
		if (!(l = lookup(a, &err)))
			return err;
		if (l->type != SOCK_STREAM_NR)
			return -EPROTOTYPE;
		if (!l->listening)
			return -ECONNREFUSED;
		if (l->acceptq_len < l->backlog)
			break;
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		if ((err = unix_wait()) < 0)
			return err;
	}
	struct usock *s = usock_new(SOCK_STREAM_NR);
	if (!s)
		return -ENOMEM;
	s->name = l->name;
	s->server_half = 1;
	s->listener = l;
	s->peer = u;
	u->peer = s;
	QUEUE_APPEND(l->acceptq, l->acceptq_tail, s, accept_next);
	l->acceptq_len++;
	changed(l);
	return 0;
}

int unix_accept(struct file *f, int flags, struct file **out)
{
	struct usock *u = unix_of(f);
	if (u->type != SOCK_STREAM_NR)
		return -EOPNOTSUPP;
	if (!u->listening)
		return -EINVAL;
	while (!u->acceptq) {
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		int r = unix_wait();
		if (r < 0)
			return r;
	}
	struct usock *s = u->acceptq;
	if (!(*out = usock_file(s, flags & O_NONBLOCK)))
		return -ENOMEM;
	QUEUE_DROP_FIRST(u->acceptq, u->acceptq_tail, accept_next);
	u->acceptq_len--;
	s->accept_next = NULL;
	s->listener = NULL;
	changed(u);
	return 0;
}

int unix_shutdown(struct file *f, int how)
{
	struct usock *u = unix_of(f);
	if (!u->peer && !u->peer_gone)
		return -ENOTCONN;
	if (how != 1 /* SHUT_WR */)
		u->shut_rd = 1;
	if (how != 0 /* SHUT_RD */) {
		u->shut_wr = 1;
		changed(u->peer);
	}
	changed(u);
	return 0;
}

/* ---- data ---- */

static long stream_send(struct file *f, struct usock *u, const uint8_t *data,
			size_t len, int flags, const struct unix_rights *rights)
{
	size_t done = 0;
	struct urights *rec = NULL;
	if (rights && rights->n) {
		if (!(rec = kmalloc(sizeof(*rec))))
			return -ENOBUFS;
		rec->r = *rights;
	}
	while (done < len) {
		struct usock *p = u->peer;
		if (u->shut_wr || !p || p->shut_rd) {
			if (!(flags & MSG_NOSIGNAL_FLAG))
				signal_raise(SIGPIPE);
			break;
		}
		uint64_t at = p->rx_total;
		uint32_t n = tcp_ring_put(&p->rx, data + done,
					  (uint32_t)(len - done));
		if (n) {
			if (rec && !done) {
				/* the files go with this data's first byte */
				rec->at = at;
				QUEUE_APPEND(p->rights, p->rights_tail, rec,
					     next);
			}
			p->rx_total += n;
			done += n;
			changed(p);
			continue;
		}
		if ((f->flags & O_NONBLOCK) || (flags & MSG_DONTWAIT_FLAG)) {
			if (!done) {
				kfree(rec, sizeof(*rec));
				return -EAGAIN;
			}
			break;
		}
		int r = unix_wait();
		if (r < 0) {
			if (!done) {
				kfree(rec, sizeof(*rec));
				return r;
			}
			break;
		}
	}
	if (!done) {
		kfree(rec, sizeof(*rec));
		return -EPIPE;
	}
	return (long)done;
}

static long dgram_send(struct file *f, struct usock *u, const uint8_t *data,
		       size_t len, const struct unix_addr *to,
		       const struct unix_rights *rights)
{
	struct usock *d;
	int err = -ENOTCONN;
	if (to)
		d = lookup(to, &err);
	else
		d = u->peer;
	if (!d)
		return u->peer_gone && !to ? -ECONNREFUSED : err;
	if (d->type != SOCK_DGRAM_NR)
		return -EPROTOTYPE;
	if (len > PAGE_SIZE - sizeof(struct umsg))
		return -EMSGSIZE;
	while (d->queued + len > UNIX_DGRAM_QUEUE) {
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		int r = unix_wait();
		if (r < 0)
			return r;
		/* the receiver may have gone meanwhile: look it up again */
		if (to ? !(d = lookup(to, &err)) : !(d = u->peer))
			return to ? err : -ECONNREFUSED;
	}
	struct umsg *m = kmalloc(sizeof(*m) + len);
	if (!m)
		return -ENOBUFS;
	m->rights = NULL;
	if (rights && rights->n) {
		if (!(m->rights = kmalloc(sizeof(*m->rights)))) {
			kfree(m, sizeof(*m) + len);
			return -ENOBUFS;
		}
		*m->rights = *rights;
	}
	m->len = (uint32_t)len;
	m->from = u->name;
	memcpy(m->data, data, len);
	QUEUE_APPEND(d->head, d->tail, m, next);
	d->queued += len;
	changed(d);
	return (long)len;
}

long unix_send(struct file *f, const void *data, size_t len, int flags,
	       const struct unix_addr *to, const struct unix_rights *rights)
{
	struct usock *u = unix_of(f);
	if (u->type == SOCK_STREAM_NR) {
		if (to && !u->peer)
			return u->peer_gone ? -EPIPE : -ENOTCONN;
		if (!u->peer && !u->peer_gone)
			return -ENOTCONN;
		return stream_send(f, u, data, len, flags, rights);
	}
	return dgram_send(f, u, data, len, to, rights);
}

/* A stream read of up to (*cap) bytes at rx_taken: the files that came
 * with the first data in it that has any go to (out) (or are closed),
 * and the read stops before the next data with files, so that one read
 * takes one sender's files, as on Linux. */
static void stream_rights(struct usock *u, int peek, struct unix_rights *out,
			  uint32_t *cap)
{
	struct urights *r = u->rights;
	if (!r || r->at - u->rx_taken >= *cap)
		return;
	if (r->next && r->next->at - u->rx_taken < *cap)
		*cap = (uint32_t)(r->next->at - u->rx_taken);
	if (peek)
		return;
	if (out)
		*out = r->r;
	else
		rights_put(&r->r);
	QUEUE_DROP_FIRST(u->rights, u->rights_tail, next);
	kfree(r, sizeof(*r));
}

long unix_recv(struct file *f, void *out, size_t cap, int flags,
	       struct unix_addr *from, size_t *full, struct unix_rights *rights)
{
	struct usock *u = unix_of(f);
	int nonblock = (f->flags & O_NONBLOCK) || (flags & MSG_DONTWAIT_FLAG);
	*full = 0;
	if (rights)
		rights->n = 0;
	if (u->type == SOCK_STREAM_NR) {
		if (!u->peer && !u->peer_gone)
			return -EINVAL; /* Linux's answer, listening or not */
		while (u->rx.len == 0) {
			if (u->peer_gone || u->shut_rd ||
			    (u->peer && u->peer->shut_wr))
				return 0;
			if (nonblock)
				return -EAGAIN;
			int r = unix_wait();
			if (r < 0)
				return r;
		}
		uint32_t n = u->rx.len < cap ? u->rx.len : (uint32_t)cap;
		stream_rights(u, flags & MSG_PEEK_FLAG, rights, &n);
		tcp_ring_peek(&u->rx, 0, out, n);
		if (!(flags & MSG_PEEK_FLAG)) {
			tcp_ring_drop(&u->rx, n);
			u->rx_taken += n;
			changed(u->peer);
		}
		if (from)
			*from = u->peer ? u->peer->name
					: (struct unix_addr){0, {0}};
		*full = n;
		return n;
	}
	while (!u->head) {
		if (u->shut_rd)
			return 0;
		if (nonblock)
			return -EAGAIN;
		int r = unix_wait();
		if (r < 0)
			return r;
	}
	struct umsg *m = u->head;
	size_t n = m->len < cap ? m->len : cap;
	memcpy(out, m->data, n);
	if (from)
		*from = m->from;
	*full = m->len;
	if (!(flags & MSG_PEEK_FLAG)) {
		if (rights && m->rights)
			*rights = *m->rights;
		else
			rights_put(m->rights);
		kfree(m->rights, sizeof(*m->rights));
		QUEUE_DROP_FIRST(u->head, u->tail, next);
		u->queued -= m->len;
		kfree(m, sizeof(*m) + m->len);
		changed(u);
	}
	return (long)n;
}

/* read(2) and write(2): the same as recv and send without flags, in
 * pieces of the process's I/O buffer. */
static long unix_read(struct file *f, uint64_t ubuf, uint64_t len)
{
	size_t full;
	uint64_t cap = len < PROCESS_IOBUF_SIZE ? len : PROCESS_IOBUF_SIZE;
	long n = unix_recv(f, current->iobuf, cap, 0, NULL, &full, NULL);
	if (n > 0 && copy_to_user(ubuf, current->iobuf, (uint64_t)n) < 0)
		return -EFAULT;
	return n;
}

static long unix_write(struct file *f, uint64_t ubuf, uint64_t len)
{
	struct usock *u = unix_of(f);
	uint64_t done = 0;
	if (u->type == SOCK_DGRAM_NR && len > PROCESS_IOBUF_SIZE)
		return -EMSGSIZE;
	do {
		uint64_t n = len - done < PROCESS_IOBUF_SIZE
				     ? len - done
				     : PROCESS_IOBUF_SIZE;
		if (copy_from_user(current->iobuf, ubuf + done, n) < 0)
			return done ? (long)done : -EFAULT;
		long r = unix_send(f, current->iobuf, n, 0, NULL, NULL);
		if (r < 0)
			return done ? (long)done : r;
		done += (uint64_t)r;
		if ((uint64_t)r < n)
			break;
	} while (done < len);
	return (long)done;
}

static short unix_poll(struct file *f)
{
	const struct usock *u = unix_of(f);
	short r = 0;
	if (u->listening)
		return u->acceptq ? POLLIN | POLLRDNORM : 0;
	if (u->type == SOCK_DGRAM_NR) {
		if (u->head || u->shut_rd)
			r |= POLLIN | POLLRDNORM;
		const struct usock *d = u->peer;
		if (!d || d->queued < UNIX_DGRAM_QUEUE)
			r |= POLLOUT | POLLWRNORM;
		return r;
	}
	const struct usock *p = u->peer;
	int peer_done = u->peer_gone || (p && p->shut_wr);
	if (u->rx.len || peer_done || u->shut_rd)
		r |= POLLIN | POLLRDNORM;
	if (p && !u->shut_wr && !p->shut_rd && p->rx.len < tcp_ring_cap(&p->rx))
		r |= POLLOUT | POLLWRNORM;
	if (peer_done)
		r |= POLLRDHUP;
	if (u->peer_gone || (peer_done && u->shut_wr))
		r |= POLLHUP;
	if (u->peer_gone && !p)
		r |= POLLOUT | POLLWRNORM; /* a write fails at once: EPIPE */
	return r;
}

static struct watchers *unix_watchers(struct file *f)
{
	return &unix_of(f)->watchers;
}

/* FIONREAD (a stream's bytes waiting, a datagram socket's next
 * message's length) and the interface requests (C libraries
 * ask those on an AF_UNIX socket: if_nametoindex). */
static long unix_ioctl(struct file *f, unsigned cmd, uint64_t arg)
{
	const struct usock *u = unix_of(f);
	int v;
	switch (cmd) {
	case FIONREAD:
		if (u->listening)
			return -EINVAL;
		v = u->type == SOCK_DGRAM_NR ? (u->head ? (int)u->head->len : 0)
					     : (int)u->rx.len;
		return copy_to_user(arg, &v, sizeof(v)) < 0 ? -EFAULT : 0;
	default:
		return if_ioctl(cmd, arg);
	}
}

int unix_type(const struct file *f)
{
	return unix_of(f)->type;
}

int unix_listening(const struct file *f)
{
	return unix_of(f)->listening;
}

int unix_peer_pid(const struct file *f)
{
	const struct usock *u = unix_of(f);
	return u->peer ? u->peer->pid : 0;
}

void unix_proc(struct proc_text *t)
{
	proc_add(t,
		 "Num       RefCount Protocol Flags    Type St Inode Path\n");
	for (const struct usock *u = all_usocks; u; u = u->next) {
		/* Linux's socket states: unconnected 1, connected 3 */
		unsigned st = u->listening || !u->peer ? 1 : 3;
		proc_add(t, "%016x: %08X %08X %08X %04X %02X %5u", 0u, 2u, 0u,
			 u->listening ? UNIX_ACCEPTCON : 0u, (unsigned)u->type,
			 st, 0u);
		if (u->name.len && u->name.path[0]) {
			proc_add(t, " %s", u->name.path);
		} else if (u->name.len) {
			/* abstract: '@', and NULs shown as '@' too */
			proc_add(t, " @");
			for (uint32_t k = 1; k < u->name.len; k++)
				proc_add(t, "%c",
					 u->name.path[k] ? u->name.path[k]
							 : '@');
		}
		proc_add(t, "\n");
	}
}
