/* pipe.c: pipes: a 64 KiB ring of pages between a read end and a write end.
 *
 * A read from an empty pipe waits for a writer, a write to a full one
 * for a reader, in another process. When the VM has only one process,
 * only a signal can end such a wait: Linux would wait forever, and so
 * does Fresco, idle and saying why once, so that the VM can be stopped.
 */
#include "fs/fs.h"
#include <asm-generic/fcntl.h>
#include <asm/signal.h>
#include <linux/stat.h>

#define PIPE_PAGES 16
#define PIPE_SIZE (PIPE_PAGES * PAGE_SIZE)
#define PIPE_BUF_ATOMIC 4096

struct pipe {
	uint64_t pages[PIPE_PAGES]; /* physical addresses */
	uint64_t head, tail;	    /* bytes written, bytes read */
	int readers, writers;
	struct watchers watchers;
};

/* Data went in or out, or an end closed: waiters and epoll look again. */
static void changed(struct pipe *p)
{
	sched_wake();
	watchers_wake(&p->watchers);
}

/* Wait for the other end: 0 to look again, -ERESTARTSYS for a signal. */
static long pipe_wait(const char *what)
{
	static int said;
	if (process_count() == 1 && !timers_active() && !said++)
		klog("the program %s; with no other process it waits for a "
		     "signal",
		     what);
	return event_wait(UINT64_MAX) < 0 ? -ERESTARTSYS : 0;
}

static long pipe_read(struct file *f, uint64_t ubuf, uint64_t len)
{
	struct pipe *p = f->inode->u.pipe;
	uint64_t done = 0;

	while (p->head == p->tail) {
		if (p->writers == 0)
			return 0;
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		long r = pipe_wait("reads from an empty pipe only it can fill");
		if (r < 0)
			return r;
	}
	while (done < len && p->tail < p->head) {
		uint64_t off = p->tail % PIPE_SIZE;
		uint64_t n = PAGE_SIZE - off % PAGE_SIZE;
		if (n > p->head - p->tail)
			n = p->head - p->tail;
		if (n > len - done)
			n = len - done;
		const char *src =
			(const char *)phys_to_virt(p->pages[off / PAGE_SIZE]) +
			off % PAGE_SIZE;
		if (copy_to_user(ubuf + done, src, n) < 0) {
			if (!done)
				return -EFAULT;
			break;
		}
		p->tail += n;
		done += n;
	}
	if (done)
		changed(p); /* room for a writer */
	inode_touch(f->inode, TOUCH_A);
	return (long)done;
}

static long pipe_write(struct file *f, uint64_t ubuf, uint64_t len)
{
	struct pipe *p = f->inode->u.pipe;
	uint64_t done = 0;

	/* a blocking write goes on until all is written; up to
	 * PIPE_BUF_ATOMIC bytes go in at once or not at all */
	while (done < len) {
		if (p->readers == 0) {
			signal_raise(SIGPIPE);
			return done ? (long)done : -EPIPE;
		}
		uint64_t room = PIPE_SIZE - (p->head - p->tail);
		if (room < len - done && (len <= PIPE_BUF_ATOMIC || !room)) {
			if (f->flags & O_NONBLOCK)
				return done ? (long)done : -EAGAIN;
			long r = pipe_wait("writes to a full pipe only it "
					   "can empty");
			if (r < 0)
				return done ? (long)done : r;
			continue;
		}
		while (done < len && p->head - p->tail < PIPE_SIZE) {
			uint64_t off = p->head % PIPE_SIZE;
			uint64_t n = PAGE_SIZE - off % PAGE_SIZE;
			if (n > PIPE_SIZE - (p->head - p->tail))
				n = PIPE_SIZE - (p->head - p->tail);
			if (n > len - done)
				n = len - done;
			char *dst = (char *)phys_to_virt(
					    p->pages[off / PAGE_SIZE]) +
				    off % PAGE_SIZE;
			if (copy_from_user(dst, ubuf + done, n) < 0) {
				if (done)
					changed(p);
				return done ? (long)done : -EFAULT;
			}
			p->head += n;
			done += n;
		}
		changed(p); /* data for a reader */
	}
	inode_touch(f->inode, TOUCH_M | TOUCH_C);
	return (long)done;
}

static void pipe_free_if_unused(struct pipe *p)
{
	if (p->readers || p->writers)
		return;
	for (int i = 0; i < PIPE_PAGES; i++)
		if (p->pages[i])
			phys_free(p->pages[i]);
	kfree(p, sizeof(*p));
}

static void pipe_release_read(struct file *f)
{
	f->inode->u.pipe->readers--;
	changed(f->inode->u.pipe); /* writers now fail */
	pipe_free_if_unused(f->inode->u.pipe);
}

static void pipe_release_write(struct file *f)
{
	f->inode->u.pipe->writers--;
	changed(f->inode->u.pipe); /* readers see the end */
	pipe_free_if_unused(f->inode->u.pipe);
}

static struct watchers *pipe_watchers(struct file *f)
{
	return &f->inode->u.pipe->watchers;
}

static const struct file_ops pipe_read_ops = {.read = pipe_read,
					      .release = pipe_release_read,
					      .watchers = pipe_watchers};
static const struct file_ops pipe_write_ops = {.write = pipe_write,
					       .release = pipe_release_write,
					       .watchers = pipe_watchers};

int pipe_create(struct file **rd, struct file **wr)
{
	struct pipe *p = kmalloc(sizeof(*p));
	struct inode *i = inode_new(S_IFIFO | 0600);
	if (!p || !i)
		goto err_mem;
	for (int k = 0; k < PIPE_PAGES; k++)
		if (!(p->pages[k] = phys_alloc()))
			goto err_pages;
	i->u.pipe = p;
	i->nlink = 0; /* anonymous: lives as long as its files */
	*rd = file_new(i, O_RDONLY);
	*wr = *rd ? file_new(i, O_WRONLY) : NULL;
	if (!*wr) {
		if (*rd)
			file_put(*rd);
		return -ENFILE;
	}
	(*rd)->ops = &pipe_read_ops;
	(*wr)->ops = &pipe_write_ops;
	p->readers = p->writers = 1;
	return 0;

err_pages:
	for (int k = 0; k < PIPE_PAGES; k++)
		if (p->pages[k])
			phys_free(p->pages[k]);
err_mem:
	if (p)
		kfree(p, sizeof(*p));
	if (i)
		kfree(i, sizeof(*i));
	return -ENFILE;
}

uint64_t pipe_bytes(const struct pipe *p)
{
	return p->head - p->tail;
}

uint64_t pipe_capacity(void)
{
	return PIPE_SIZE;
}

int pipe_readers(const struct pipe *p)
{
	return p->readers;
}

int pipe_writers(const struct pipe *p)
{
	return p->writers;
}
