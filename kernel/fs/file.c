/* file.c: open files, the descriptor table, the cwd and the umask. */
#include "fs/fs.h"
#include <linux/fcntl.h>
#include <linux/resource.h>
#include <linux/stat.h>

struct inode *fs_cwd;
uint32_t fs_umask = 022;

static struct file *fds[FS_FD_MAX];
static uint64_t cloexec[FS_FD_MAX / 64];

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
	if (f->ops && f->ops->release)
		f->ops->release(f);
	if (f->path)
		kfree(f->path, strlen(f->path) + 1);
	inode_put(f->inode);
	kfree(f, sizeof(*f));
}

int fd_install(struct file *f, int min, int close_on_exec)
{
	uint64_t limit = proc.rlim[RLIMIT_NOFILE][0];
	if (limit > FS_FD_MAX)
		limit = FS_FD_MAX;
	for (int fd = min < 0 ? 0 : min; (uint64_t)fd < limit; fd++) {
		if (fds[fd])
			continue;
		fds[fd] = f;
		fd_set_cloexec(fd, close_on_exec);
		return fd;
	}
	return -EMFILE;
}

struct file *fd_get(int fd)
{
	return fd >= 0 && fd < FS_FD_MAX ? fds[fd] : NULL;
}

int fd_close(int fd)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	fds[fd] = NULL;
	fd_set_cloexec(fd, 0);
	file_put(f);
	return 0;
}

int fd_cloexec(int fd)
{
	return (cloexec[fd / 64] >> (fd % 64)) & 1;
}

void fd_set_cloexec(int fd, int on)
{
	if (on)
		cloexec[fd / 64] |= 1ULL << (fd % 64);
	else
		cloexec[fd / 64] &= ~(1ULL << (fd % 64));
}

struct inode *fd_dir(int dirfd, int *err)
{
	if (dirfd == AT_FDCWD)
		return fs_cwd;
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
	if (S_ISFIFO(i->mode) || (dev_is_console(f) && !proc.tty)) {
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
