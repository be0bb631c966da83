/* pipe.c: pipes: a 64 KiB ring of pages between a read end and a write end.
 *
 * One process with one thread: a read from an empty pipe whose writer is
 * this same process, or a write to a full one, can never finish. Linux
 * would wait forever; so does Fresco, idle and saying why once, so that
 * the VM can still be stopped.
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
};

/* Only a signal can end this wait: -ERESTARTSYS once one is pending. */
static long wait_for_signal(const char *what)
{
	static int said;
	if (!said++ && !timers_active())
		klog("the program %s; with no other thread it waits for a "
		     "signal",
		     what);
	signal_wait(UINT64_MAX);
	return -ERESTARTSYS;
}

static long pipe_read(struct file *f, uint64_t ubuf, uint64_t len)
{
	struct pipe *p = f->inode->u.pipe;
	uint64_t done = 0;

	if (p->head == p->tail) {
		if (p->writers == 0)
			return 0;
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		return wait_for_signal("reads from an empty pipe only it can "
				       "fill");
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
		if (copy_to_user(ubuf + done, src, n) < 0)
			return done ? (long)done : -EFAULT;
		p->tail += n;
		done += n;
	}
	inode_touch(f->inode, TOUCH_A);
	return (long)done;
}

static long pipe_write(struct file *f, uint64_t ubuf, uint64_t len)
{
	struct pipe *p = f->inode->u.pipe;
	uint64_t done = 0;

	if (p->readers == 0) {
		signal_raise(SIGPIPE);
		return -EPIPE;
	}
	uint64_t room = PIPE_SIZE - (p->head - p->tail);
	if (room < len && (len <= PIPE_BUF_ATOMIC || room == 0)) {
		if (f->flags & O_NONBLOCK)
			return -EAGAIN;
		return wait_for_signal("writes to a full pipe only it can "
				       "empty");
	}
	while (done < len && p->head - p->tail < PIPE_SIZE) {
		uint64_t off = p->head % PIPE_SIZE;
		uint64_t n = PAGE_SIZE - off % PAGE_SIZE;
		if (n > PIPE_SIZE - (p->head - p->tail))
			n = PIPE_SIZE - (p->head - p->tail);
		if (n > len - done)
			n = len - done;
		char *dst = (char *)phys_to_virt(p->pages[off / PAGE_SIZE]) +
			    off % PAGE_SIZE;
		if (copy_from_user(dst, ubuf + done, n) < 0)
			return done ? (long)done : -EFAULT;
		p->head += n;
		done += n;
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
	pipe_free_if_unused(f->inode->u.pipe);
}

static void pipe_release_write(struct file *f)
{
	f->inode->u.pipe->writers--;
	pipe_free_if_unused(f->inode->u.pipe);
}

static const struct file_ops pipe_read_ops = {.read = pipe_read,
					      .release = pipe_release_read};
static const struct file_ops pipe_write_ops = {.write = pipe_write,
					       .release = pipe_release_write};

uint64_t pipe_generation(const struct pipe *p)
{
	return p->head + p->tail; /* both only grow */
}

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
