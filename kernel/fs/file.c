/* file.c: open files and the descriptor tables.
 *
 * Each process has a descriptor table (struct files); fork copies it, so
 * that parent and child share the open files (their offsets and flags),
 * as on Linux. The table's slots live in pages of FD_PER_PAGE, allocated
 * when first used.
 */
#include "fs/fs.h"
#include <linux/fcntl.h>
#include <linux/resource.h>
#include <linux/stat.h>

#define FD_PER_PAGE (PAGE_SIZE / sizeof(struct file *))
#define FD_PAGES (FS_FD_MAX / FD_PER_PAGE)

struct files {
	struct file **slots[FD_PAGES];
	uint64_t cloexec[FS_FD_MAX / 64];
};

static struct files *files(void)
{
	return current->files;
}

/* The slot of (fd) (in range), its page allocated if (alloc); or NULL. */
static struct file **slot(struct files *t, int fd, int alloc)
{
	struct file ***page = &t->slots[fd / FD_PER_PAGE];
	if (!*page && alloc) {
		uint64_t pa = phys_alloc();
		if (!pa)
			return NULL;
		*page = phys_to_virt(pa);
	}
	return *page ? &(*page)[fd % FD_PER_PAGE] : NULL;
}

struct files *files_new(void)
{
	return kmalloc(sizeof(struct files));
}

struct files *files_fork(void)
{
	struct files *from = files(), *t = files_new();
	if (!t)
		return NULL;
	memcpy(t->cloexec, from->cloexec, sizeof(t->cloexec));
	for (int fd = 0; fd < FS_FD_MAX; fd++) {
		struct file **s = slot(from, fd, 0), **d;
		if (!s || !*s)
			continue;
		if (!(d = slot(t, fd, 1))) {
			files_release(t);
			return NULL;
		}
		*d = *s;
		(*s)->refs++;
	}
	return t;
}

void files_release(struct files *t)
{
	for (unsigned p = 0; p < FD_PAGES; p++) {
		if (!t->slots[p])
			continue;
		for (unsigned k = 0; k < FD_PER_PAGE; k++)
			if (t->slots[p][k])
				file_put(t->slots[p][k]);
		phys_free(virt_to_phys(t->slots[p]));
	}
	kfree(t, sizeof(*t));
}

void files_close_on_exec(void)
{
	for (int fd = 0; fd < FS_FD_MAX; fd++)
		if (fd_cloexec(fd) && fd_get(fd))
			fd_close(fd);
}

struct file *file_new(struct inode *i, int flags)
{
	struct file *f = kmalloc(sizeof(*f));
	if (!f)
		return NULL;
	f->inode = i;
	inode_get(i);
	f->ops = i->fops;
	f->flags = flags;
	f->refs = 1;
	f->host_fd = 1;
	return f;
}

void file_put(struct file *f)
{
	if (--f->refs > 0)
		return;
	epoll_file_closed(f);
	if (f->ops && f->ops->release)
		f->ops->release(f);
	if (f->path)
		kfree(f->path, strlen(f->path) + 1);
	inode_put(f->inode);
	kfree(f, sizeof(*f));
}

int fd_install_new(struct file *f, int cloexec)
{
	int fd = fd_install(f, 0, cloexec);
	if (fd < 0)
		file_put(f);
	return fd;
}

int fd_install(struct file *f, int min, int close_on_exec)
{
	uint64_t limit = current->rlim[RLIMIT_NOFILE][0];
	if (limit > FS_FD_MAX)
		limit = FS_FD_MAX;
	for (int fd = min < 0 ? 0 : min; (uint64_t)fd < limit; fd++) {
		struct file **s = slot(files(), fd, 1);
		if (!s)
			return -ENOMEM;
		if (*s)
			continue;
		*s = f;
		fd_set_cloexec(fd, close_on_exec);
		return fd;
	}
	return -EMFILE;
}

struct file *fd_get(int fd)
{
	struct file **s =
		fd >= 0 && fd < FS_FD_MAX ? slot(files(), fd, 0) : NULL;
	return s ? *s : NULL;
}

int fd_close(int fd)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	*slot(files(), fd, 0) = NULL;
	fd_set_cloexec(fd, 0);
	file_put(f);
	return 0;
}

int fd_cloexec(int fd)
{
	return (files()->cloexec[fd / 64] >> (fd % 64)) & 1;
}

void fd_set_cloexec(int fd, int on)
{
	if (on)
		files()->cloexec[fd / 64] |= 1ULL << (fd % 64);
	else
		files()->cloexec[fd / 64] &= ~(1ULL << (fd % 64));
}

struct inode *fd_dir(int dirfd, int *err)
{
	if (dirfd == AT_FDCWD)
		return current->cwd;
	struct file *f = fd_get(dirfd);
	if (!f) {
		*err = -EBADF;
		return NULL;
	}
	if (!S_ISDIR(f->inode->mode)) {
		*err = -ENOTDIR;
		return NULL;
	}
	return f->inode;
}

const char *fd_link_text(const struct file *f, char *buf, size_t cap)
{
	const struct inode *i = f->inode;
	if (S_ISFIFO(i->mode) || (dev_is_console(f) && !current->tty)) {
		snprintf(buf, cap, "pipe:[%lu]", i->ino);
		return buf;
	}
	if (dev_is_console(f))
		return "/dev/console";
	if (f->path && i->nlink > 0)
		return f->path;
	if (f->path) {
		snprintf(buf, cap, "%s (deleted)", f->path);
		return buf;
	}
	snprintf(buf, cap, "anon_inode:[%lu]", i->ino);
	return buf;
}
