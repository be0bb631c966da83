/* sys_fs.c: calls that name files by path: open, stat, directories,
 * links, renames, permissions, times, the cwd and the umask. */
#include "fs/fs.h"
#include "linux/syscalls.h"
#include <linux/fcntl.h>
#include <linux/magic.h>
#include <linux/stat.h>
#include <asm/stat.h>
#include <asm/statfs.h>

#define UTIME_NOW_NS ((1l << 30) - 1l)
#define UTIME_OMIT_NS ((1l << 30) - 2l)
#define RENAME_NOREPLACE_FLAG 1
#define AT_EACCESS_FLAG 0x200

static char path_buf[FS_PATH_MAX + 1];
static char path_buf2[FS_PATH_MAX + 1];

/* Copy a user path: its length, -EFAULT or -ENAMETOOLONG. */
static long fetch_path(uint64_t upath, char *buf)
{
	long r = string_from_user(buf, upath, FS_PATH_MAX + 1);
	return r == -ENAMETOOLONG ? -ENAMETOOLONG : r;
}

/* Resolve (dirfd, upath) into (w). */
static long walk_user(int dirfd, uint64_t upath, int flags, struct walk *w,
		      char *buf)
{
	int err = 0;
	long r = fetch_path(upath, buf);
	if (r < 0)
		return r;
	if (r == 0)
		return -ENOENT;
	struct inode *start = buf[0] == '/' ? fs_root : fd_dir(dirfd, &err);
	if (!start)
		return err;
	return path_walk(start, buf, flags, w);
}

/* ---- open ---- */

/* The path of directory (d) from the root, at the end of (buf, cap):
 * where it starts, or NULL if it is too long or (d) was removed. */
static char *dir_path(struct inode *d, char *buf, size_t cap)
{
	size_t pos = cap - 1;
	buf[pos] = '\0';
	for (; d != fs_root; d = d->u.dir.parent) {
		const struct dentry *e = dir_name_in_parent(d);
		if (!e || (size_t)e->len + 1 > pos)
			return NULL;
		pos -= e->len;
		memcpy(buf + pos, e->name, e->len);
		buf[--pos] = '/';
	}
	return buf + pos;
}

/* "(dir)/(name)" in kmalloc'd memory of strlen + 1 bytes, or NULL. */
static char *joined(const char *dir, const char *name)
{
	size_t n = strlen(dir) + 1 + strlen(name);
	if (n >= PAGE_SIZE)
		return NULL;
	char *out = kmalloc(n + 1);
	if (out)
		snprintf(out, n + 1, "%s/%s", dir, name);
	return out;
}

char *fs_absolute_path(const char *path)
{
	static char cwd[FS_PATH_MAX + 1];
	if (path[0] == '/')
		return joined("", path + 1);
	const char *dir = dir_path(current->cwd, cwd, sizeof(cwd));
	return dir ? joined(dir, path) : NULL;
}

char *fs_resolved_path(const char *path)
{
	static char cur[FS_PATH_MAX + 1], dir[FS_PATH_MAX + 1];
	size_t plen = strlen(path);
	if (plen > FS_PATH_MAX)
		return NULL;
	memcpy(cur, path, plen + 1);
	for (int hops = 0; hops <= FS_SYMLOOP_MAX; hops++) {
		struct walk w;
		if (path_walk(cur[0] == '/' ? fs_root : current->cwd, cur,
			      WALK_PARENT, &w) < 0)
			return NULL;
		const char *d = dir_path(w.parent, dir, sizeof(dir));
		char *out = NULL;
		if (!d) {
			walk_done(&w);
			return NULL;
		}
		if (w.inode && S_ISLNK(w.inode->mode)) {
			const char *t = link_target(w.inode);
			out = t[0] == '/' ? joined("", t + 1) : joined(d, t);
		} else {
			out = joined(d, w.last);
		}
		int link = w.inode && S_ISLNK(w.inode->mode);
		walk_done(&w);
		if (!out || !link)
			return out;
		size_t n = strlen(out);
		if (n <= FS_PATH_MAX)
			memcpy(cur, out, n + 1);
		kfree(out, n + 1);
		if (n > FS_PATH_MAX)
			return NULL;
	}
	return NULL;
}

static long open_inode(struct inode *i, int flags, int trailing_slash)
{
	int acc = flags & O_ACCMODE;

	if (flags & O_PATH)
		flags &= O_PATH | O_CLOEXEC | O_DIRECTORY | O_NOFOLLOW;
	else if (S_ISDIR(i->mode) && (acc != O_RDONLY || (flags & O_TRUNC)))
		return -EISDIR;
	if ((flags & O_DIRECTORY || trailing_slash) && !S_ISDIR(i->mode))
		return -ENOTDIR;
	if (!(flags & O_PATH) && S_ISREG(i->mode) && inode_readonly(i) &&
	    (acc != O_RDONLY || (flags & O_TRUNC)))
		return -EROFS;
	if (!(flags & O_PATH)) {
		if ((S_ISCHR(i->mode) || S_ISBLK(i->mode)) && !i->fops)
			return -ENXIO;
		if (S_ISFIFO(i->mode) && !i->u.pipe)
			return -ENXIO; /* named pipes need a second opener */
		if (S_ISSOCK(i->mode))
			return -ENXIO;
		if ((flags & O_TRUNC) && S_ISREG(i->mode) && acc != O_RDONLY) {
			long r = file_data_truncate(i, 0);
			if (r < 0)
				return r;
		}
	}
	struct file *f = file_new(i, flags & ~(O_CREAT | O_EXCL | O_NOCTTY |
					       O_TRUNC | O_CLOEXEC));
	if (!f)
		return -ENFILE;
	if (f->ops == &proc_ops && proc_open(f) < 0) {
		file_put(f);
		return -ENOMEM;
	}
	f->path = fs_absolute_path(path_buf);
	int fd = fd_install(f, 0, flags & O_CLOEXEC);
	if (fd < 0)
		file_put(f);
	return fd;
}

long sys_openat(int dirfd, uint64_t upath, int flags, uint32_t mode)
{
	struct walk w;
	long r;

	if ((flags & __O_TMPFILE) == __O_TMPFILE)
		return -EOPNOTSUPP;
	if (!(flags & O_CREAT)) {
		int follow = (flags & O_NOFOLLOW) ? 0 : WALK_FOLLOW;
		if ((r = walk_user(dirfd, upath, follow, &w, path_buf)) < 0)
			return r;
		if (S_ISLNK(w.inode->mode) && !(flags & O_PATH)) {
			walk_done(&w);
			return -ELOOP;
		}
		if (w.magic && w.magic->ops && w.magic->ops != &proc_ops) {
			/* /proc/self/fd/N of a stream (console, pipe, device):
			 * the same open file, as Linux gives for a pipe */
			r = fd_install(w.magic, 0, flags & O_CLOEXEC);
			if (r >= 0)
				w.magic->refs++;
			walk_done(&w);
			return r;
		}
		r = open_inode(w.inode, flags, w.trailing_slash);
		walk_done(&w);
		return r;
	}
	if ((r = walk_user(dirfd, upath, WALK_PARENT, &w, path_buf)) < 0)
		return r;
	if (w.trailing_slash || !w.last_len ||
	    (w.inode && S_ISDIR(w.inode->mode))) {
		walk_done(&w);
		return -EISDIR;
	}
	if (w.inode && (flags & O_EXCL)) {
		walk_done(&w);
		return -EEXIST;
	}
	if (w.inode && S_ISLNK(w.inode->mode)) {
		/* open(O_CREAT) follows a final symbolic link */
		walk_done(&w);
		if (flags & O_NOFOLLOW)
			return -ELOOP;
		if ((r = walk_user(dirfd, upath, WALK_FOLLOW, &w, path_buf)) <
		    0)
			return r == -ENOENT ? -ENOENT : r;
		r = open_inode(w.inode, flags, 0);
		walk_done(&w);
		return r;
	}
	if (!w.inode) {
		struct inode *i =
			inode_new(S_IFREG | (mode & 07777 & ~current->umask));
		if (!i) {
			walk_done(&w);
			return -ENOSPC;
		}
		if ((r = dir_link(w.parent, w.last, w.last_len, i)) < 0) {
			kfree(i, sizeof(*i));
			walk_done(&w);
			return r;
		}
		w.inode = i;
		inode_get(i);
	}
	r = open_inode(w.inode, flags, 0);
	walk_done(&w);
	return r;
}

long sys_open(uint64_t path, int flags, uint32_t mode)
{
	return sys_openat(AT_FDCWD, path, flags, mode);
}

long sys_creat(uint64_t path, uint32_t mode)
{
	return sys_openat(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

/* ---- stat ---- */

/* Sizes as tmpfs reports them: a directory is 40 bytes plus 20 per entry
 * and takes no blocks; a file takes the pages its data needs. */
#define DIR_BASE_SIZE 40
#define DIR_ENTRY_SIZE 20

static uint64_t stat_size(const struct inode *i)
{
	if (S_ISDIR(i->mode) && !i->x)
		return DIR_BASE_SIZE + DIR_ENTRY_SIZE * i->u.dir.count;
	return i->size;
}

static uint64_t stat_blocks(const struct inode *i)
{
	if (i->x)
		return ext2fs_blocks(i);
	return S_ISREG(i->mode) ? PAGE_UP(i->size) / 512 : 0;
}

static void fill_stat(const struct inode *i, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_dev = i->x ? ext2fs_dev(i) : 1;
	st->st_ino = i->ino;
	st->st_mode = i->mode;
	st->st_nlink = i->nlink;
	st->st_uid = i->uid;
	st->st_gid = i->gid;
	st->st_rdev = i->rdev;
	st->st_size = (long)stat_size(i);
	st->st_blksize = PAGE_SIZE;
	st->st_blocks = (long)stat_blocks(i);
	st->st_atime = i->atime.sec;
	st->st_atime_nsec = (unsigned long)i->atime.nsec;
	st->st_mtime = i->mtime.sec;
	st->st_mtime_nsec = (unsigned long)i->mtime.nsec;
	st->st_ctime = i->ctime.sec;
	st->st_ctime_nsec = (unsigned long)i->ctime.nsec;
}

long sys_fstat(int fd, uint64_t ust)
{
	struct file *f = fd_get(fd);
	struct stat st;
	if (!f)
		return -EBADF;
	fill_stat(f->inode, &st);
	if (dev_is_console(f) && !current->tty) {
		/* docker's standard streams are pipes without -t */
		st.st_mode = S_IFIFO | 0600;
		st.st_rdev = 0;
	}
	return copy_to_user(ust, &st, sizeof(st));
}

long sys_newfstatat(int dirfd, uint64_t upath, uint64_t ust, int flags)
{
	struct walk w;
	struct stat st;
	long r;

	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT))
		return -EINVAL;
	if (flags & AT_EMPTY_PATH) {
		r = fetch_path(upath, path_buf);
		if (r < 0)
			return r;
		if (r == 0)
			return dirfd == AT_FDCWD ? sys_fstat_cwd(ust)
						 : sys_fstat(dirfd, ust);
	}
	int follow = (flags & AT_SYMLINK_NOFOLLOW) ? 0 : WALK_FOLLOW;
	if ((r = walk_user(dirfd, upath, follow, &w, path_buf)) < 0)
		return r;
	fill_stat(w.inode, &st);
	walk_done(&w);
	return copy_to_user(ust, &st, sizeof(st));
}

long sys_fstat_cwd(uint64_t ust)
{
	struct stat st;
	fill_stat(current->cwd, &st);
	return copy_to_user(ust, &st, sizeof(st));
}

long sys_stat(uint64_t path, uint64_t st)
{
	return sys_newfstatat(AT_FDCWD, path, st, 0);
}

long sys_lstat(uint64_t path, uint64_t st)
{
	return sys_newfstatat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
}

long sys_statx(int dirfd, uint64_t upath, int flags, unsigned mask,
	       uint64_t ubuf)
{
	struct walk w;
	struct statx sx;
	struct inode *i;
	long r;

	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT |
		      AT_STATX_SYNC_TYPE))
		return -EINVAL;
	if ((flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE)
		return -EINVAL;
	if (mask & STATX__RESERVED)
		return -EINVAL;
	r = fetch_path(upath, path_buf);
	if (r < 0)
		return r;
	w.inode = w.parent = NULL;
	if (r == 0 && (flags & AT_EMPTY_PATH)) {
		struct file *f = dirfd == AT_FDCWD ? NULL : fd_get(dirfd);
		if (dirfd != AT_FDCWD && !f)
			return -EBADF;
		i = f ? f->inode : current->cwd;
	} else {
		int follow = (flags & AT_SYMLINK_NOFOLLOW) ? 0 : WALK_FOLLOW;
		if ((r = walk_user(dirfd, upath, follow, &w, path_buf)) < 0)
			return r;
		i = w.inode;
	}
	memset(&sx, 0, sizeof(sx));
	sx.stx_mask = STATX_BASIC_STATS;
	sx.stx_blksize = PAGE_SIZE;
	sx.stx_nlink = i->nlink;
	sx.stx_uid = i->uid;
	sx.stx_gid = i->gid;
	sx.stx_mode = (uint16_t)i->mode;
	sx.stx_ino = i->ino;
	sx.stx_size = stat_size(i);
	sx.stx_blocks = stat_blocks(i);
	sx.stx_atime.tv_sec = i->atime.sec;
	sx.stx_atime.tv_nsec = (uint32_t)i->atime.nsec;
	sx.stx_mtime.tv_sec = i->mtime.sec;
	sx.stx_mtime.tv_nsec = (uint32_t)i->mtime.nsec;
	sx.stx_ctime.tv_sec = i->ctime.sec;
	sx.stx_ctime.tv_nsec = (uint32_t)i->ctime.nsec;
	sx.stx_rdev_major = i->rdev >> 8;
	sx.stx_rdev_minor = i->rdev & 0xff;
	uint32_t dev = i->x ? ext2fs_dev(i) : 1;
	sx.stx_dev_major = dev >> 8;
	sx.stx_dev_minor = dev & 0xff;
	walk_done(&w);
	return copy_to_user(ubuf, &sx, sizeof(sx));
}

/* ---- directories and links ---- */

long sys_mkdirat(int dirfd, uint64_t upath, uint32_t mode)
{
	struct walk w;
	long r = walk_user(dirfd, upath, WALK_PARENT, &w, path_buf);
	if (r < 0)
		return r;
	if (w.inode) {
		walk_done(&w);
		return -EEXIST;
	}
	struct inode *i = inode_new(S_IFDIR | (mode & 07777 & ~current->umask));
	r = i ? dir_link(w.parent, w.last, w.last_len, i) : -ENOSPC;
	if (r < 0 && i)
		kfree(i, sizeof(*i));
	walk_done(&w);
	return r;
}

long sys_mkdir(uint64_t path, uint32_t mode)
{
	return sys_mkdirat(AT_FDCWD, path, mode);
}

static long remove_dir(struct walk *w)
{
	struct inode *i = w->inode;
	if (!S_ISDIR(i->mode))
		return -ENOTDIR;
	if (w->last_len == 1 && w->last[0] == '.')
		return -EINVAL;
	if (i == fs_root ||
	    (w->last_len == 2 && w->last[0] == '.' && w->last[1] == '.'))
		return -EBUSY;
	if (dir_count(i))
		return -ENOTEMPTY;
	return dir_unlink(w->parent, w->last, w->last_len);
}

long sys_unlinkat(int dirfd, uint64_t upath, int flags)
{
	struct walk w;
	long r;

	if (flags & ~AT_REMOVEDIR)
		return -EINVAL;
	if ((r = walk_user(dirfd, upath, WALK_PARENT, &w, path_buf)) < 0)
		return r;
	if (!w.inode)
		r = -ENOENT;
	else if (flags & AT_REMOVEDIR)
		r = remove_dir(&w);
	else if (S_ISDIR(w.inode->mode))
		r = -EISDIR;
	else if (w.trailing_slash)
		r = -ENOTDIR;
	else
		r = dir_unlink(w.parent, w.last, w.last_len);
	walk_done(&w);
	return r;
}

long sys_unlink(uint64_t path)
{
	return sys_unlinkat(AT_FDCWD, path, 0);
}

long sys_rmdir(uint64_t path)
{
	return sys_unlinkat(AT_FDCWD, path, AT_REMOVEDIR);
}

/* 1 if (dir) is (ancestor) or lies below it. */
static int is_below(struct inode *dir, struct inode *ancestor)
{
	for (struct inode *d = dir;; d = d->u.dir.parent) {
		if (d == ancestor)
			return 1;
		if (d == fs_root || !d->u.dir.parent)
			return 0;
	}
}

long sys_renameat2(int olddirfd, uint64_t oldpath, int newdirfd,
		   uint64_t newpath, unsigned flags)
{
	struct walk o, n;
	long r;

	if (flags & ~RENAME_NOREPLACE_FLAG)
		return -EINVAL;
	if ((r = walk_user(olddirfd, oldpath, WALK_PARENT, &o, path_buf)) < 0)
		return r;
	if ((r = walk_user(newdirfd, newpath, WALK_PARENT, &n, path_buf2)) <
	    0) {
		walk_done(&o);
		return r;
	}
	struct inode *src = o.inode, *dst = n.inode;
	if (!src)
		r = -ENOENT;
	else if ((o.last_len <= 2 && o.last[0] == '.') ||
		 (n.last_len <= 2 && n.last[0] == '.' &&
		  (n.last_len == 1 || n.last[1] == '.')))
		r = -EBUSY;
	else if (dst == src)
		r = 0;
	else if (src->covers || (dst && dst->covers))
		r = -EBUSY;
	else if (!fs_same(o.parent, n.parent))
		r = -EXDEV;
	else if (dst && (flags & RENAME_NOREPLACE_FLAG))
		r = -EEXIST;
	else if (S_ISDIR(src->mode) && is_below(n.parent, src))
		r = -EINVAL;
	else if (dst && S_ISDIR(src->mode) && !S_ISDIR(dst->mode))
		r = -ENOTDIR;
	else if (dst && !S_ISDIR(src->mode) && S_ISDIR(dst->mode))
		r = -EISDIR;
	else if (dst && S_ISDIR(dst->mode) && dir_count(dst))
		r = -ENOTEMPTY;
	else if (!S_ISDIR(src->mode) && (o.trailing_slash || n.trailing_slash))
		r = -ENOTDIR;
	else {
		if (dst)
			dir_unlink(n.parent, n.last, n.last_len);
		if ((r = dir_detach(o.parent, o.last, o.last_len)) == 0 &&
		    (r = dir_link(n.parent, n.last, n.last_len, src)) < 0)
			/* no room under the new name: keep the old one */
			dir_link(o.parent, o.last, o.last_len, src);
		inode_touch(src, TOUCH_C);
	}
	walk_done(&o);
	walk_done(&n);
	return r;
}

long sys_renameat(int od, uint64_t op, int nd, uint64_t np)
{
	return sys_renameat2(od, op, nd, np, 0);
}

long sys_rename(uint64_t op, uint64_t np)
{
	return sys_renameat2(AT_FDCWD, op, AT_FDCWD, np, 0);
}

long sys_linkat(int olddirfd, uint64_t oldpath, int newdirfd, uint64_t newpath,
		int flags)
{
	struct walk o, n;
	long r;

	if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	int follow = (flags & AT_SYMLINK_FOLLOW) ? WALK_FOLLOW : 0;
	if ((r = walk_user(olddirfd, oldpath, follow, &o, path_buf)) < 0)
		return r;
	if ((r = walk_user(newdirfd, newpath, WALK_PARENT, &n, path_buf2)) <
	    0) {
		walk_done(&o);
		return r;
	}
	if (S_ISDIR(o.inode->mode))
		r = -EPERM;
	else if (n.inode)
		r = -EEXIST;
	else if (n.trailing_slash)
		r = -ENOENT;
	else if (!fs_same(o.inode, n.parent))
		r = -EXDEV;
	else {
		o.inode->nlink++; /* before: the volume records the count */
		if ((r = dir_link(n.parent, n.last, n.last_len, o.inode)) == 0)
			inode_touch(o.inode, TOUCH_C);
		else
			o.inode->nlink--;
	}
	walk_done(&o);
	walk_done(&n);
	return r;
}

long sys_link(uint64_t op, uint64_t np)
{
	return sys_linkat(AT_FDCWD, op, AT_FDCWD, np, 0);
}

long sys_symlinkat(uint64_t utarget, int dirfd, uint64_t upath)
{
	struct walk w;
	long r = fetch_path(utarget, path_buf2);
	if (r < 0)
		return r;
	if (r == 0)
		return -ENOENT;
	if ((r = walk_user(dirfd, upath, WALK_PARENT, &w, path_buf)) < 0)
		return r;
	if (w.inode) {
		walk_done(&w);
		return -EEXIST;
	}
	size_t n = strlen(path_buf2);
	struct inode *i = inode_new(S_IFLNK | 0777);
	char *t = n < PAGE_SIZE ? kmalloc(n + 1) : NULL;
	if (!i || !t) {
		r = n < PAGE_SIZE ? -ENOSPC : -ENAMETOOLONG;
		if (i)
			kfree(i, sizeof(*i));
		walk_done(&w);
		return r;
	}
	memcpy(t, path_buf2, n + 1);
	i->u.lnk.target = t;
	i->u.lnk.owned = 1;
	i->size = n;
	r = dir_link(w.parent, w.last, w.last_len, i);
	if (r < 0)
		inode_put(i);
	walk_done(&w);
	return r;
}

long sys_symlink(uint64_t target, uint64_t path)
{
	return sys_symlinkat(target, AT_FDCWD, path);
}

long sys_readlinkat(int dirfd, uint64_t upath, uint64_t buf, int size)
{
	struct walk w;
	long r;

	if (size <= 0)
		return -EINVAL;
	if ((r = walk_user(dirfd, upath, 0, &w, path_buf)) < 0)
		return r;
	if (!S_ISLNK(w.inode->mode)) {
		walk_done(&w);
		return -EINVAL;
	}
	const char *target = link_target(w.inode);
	size_t n = strlen(target);
	if (n > (size_t)size)
		n = (size_t)size;
	r = copy_to_user(buf, target, n);
	inode_touch(w.inode, TOUCH_A);
	walk_done(&w);
	return r < 0 ? r : (long)n;
}

long sys_readlink(uint64_t path, uint64_t buf, int size)
{
	return sys_readlinkat(AT_FDCWD, path, buf, size);
}

/* ---- cwd, umask, access ---- */

static long set_cwd(struct inode *i)
{
	if (!S_ISDIR(i->mode))
		return -ENOTDIR;
	inode_get(i);
	inode_put(current->cwd);
	current->cwd = i;
	return 0;
}

long sys_chdir(uint64_t upath)
{
	struct walk w;
	long r = walk_user(AT_FDCWD, upath, WALK_FOLLOW, &w, path_buf);
	if (r < 0)
		return r;
	r = set_cwd(w.inode);
	walk_done(&w);
	return r;
}

long sys_fchdir(int fd)
{
	struct file *f = fd_get(fd);
	return f ? set_cwd(f->inode) : -EBADF;
}

long sys_getcwd(uint64_t buf, uint64_t size)
{
	if (current->cwd->nlink == 0)
		return -ENOENT; /* removed */
	const char *p = dir_path(current->cwd, path_buf, sizeof(path_buf));
	if (!p)
		return -ENAMETOOLONG;
	if (!*p)
		p = "/";
	size_t len = strlen(p) + 1;
	if (size < len)
		return -ERANGE;
	long r = copy_to_user(buf, p, len);
	return r < 0 ? r : (long)len;
}

long sys_umask(uint32_t mask)
{
	uint32_t old = current->umask;
	current->umask = mask & 0777;
	return old;
}

long sys_faccessat2(int dirfd, uint64_t upath, int mode, int flags)
{
	struct walk w;
	long r;

	if (mode & ~7)
		return -EINVAL;
	if (flags & ~(AT_EACCESS_FLAG | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	int follow = (flags & AT_SYMLINK_NOFOLLOW) ? 0 : WALK_FOLLOW;
	if ((r = walk_user(dirfd, upath, follow, &w, path_buf)) < 0)
		return r;
	/* root may read and write anything; it may execute a file only if
	 * some execute bit is set */
	if ((mode & 1) && !S_ISDIR(w.inode->mode) && !(w.inode->mode & 0111))
		r = -EACCES;
	walk_done(&w);
	return r;
}

long sys_faccessat(int dirfd, uint64_t path, int mode)
{
	return sys_faccessat2(dirfd, path, mode, 0);
}

long sys_access(uint64_t path, int mode)
{
	return sys_faccessat2(AT_FDCWD, path, mode, 0);
}

/* ---- metadata ---- */

long sys_truncate(uint64_t upath, int64_t len)
{
	struct walk w;
	long r;
	if (len < 0)
		return -EINVAL;
	if ((r = walk_user(AT_FDCWD, upath, WALK_FOLLOW, &w, path_buf)) < 0)
		return r;
	if (S_ISDIR(w.inode->mode))
		r = -EISDIR;
	else if (!S_ISREG(w.inode->mode))
		r = -EINVAL;
	else if (inode_readonly(w.inode))
		r = -EROFS;
	else
		r = file_data_truncate(w.inode, (uint64_t)len);
	walk_done(&w);
	return r;
}

static long set_mode(struct inode *i, uint32_t mode)
{
	if (inode_readonly(i))
		return -EROFS;
	i->mode = (i->mode & S_IFMT) | (mode & 07777);
	inode_touch(i, TOUCH_C);
	return 0;
}

long sys_fchmodat(int dirfd, uint64_t upath, uint32_t mode)
{
	struct walk w;
	long r = walk_user(dirfd, upath, WALK_FOLLOW, &w, path_buf);
	if (r < 0)
		return r;
	r = set_mode(w.inode, mode);
	walk_done(&w);
	return r;
}

long sys_chmod(uint64_t path, uint32_t mode)
{
	return sys_fchmodat(AT_FDCWD, path, mode);
}

long sys_fchmod(int fd, uint32_t mode)
{
	struct file *f = fd_get(fd);
	return f ? set_mode(f->inode, mode) : -EBADF;
}

static long set_owner(struct inode *i, uint32_t uid, uint32_t gid)
{
	if (inode_readonly(i))
		return -EROFS;
	if (uid != (uint32_t)-1)
		i->uid = uid;
	if (gid != (uint32_t)-1)
		i->gid = gid;
	inode_touch(i, TOUCH_C);
	return 0;
}

long sys_fchownat(int dirfd, uint64_t upath, uint32_t uid, uint32_t gid,
		  int flags)
{
	struct walk w;
	long r;
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	int follow = (flags & AT_SYMLINK_NOFOLLOW) ? 0 : WALK_FOLLOW;
	if ((r = walk_user(dirfd, upath, follow, &w, path_buf)) < 0)
		return r;
	r = set_owner(w.inode, uid, gid);
	walk_done(&w);
	return r;
}

long sys_chown(uint64_t path, uint32_t uid, uint32_t gid)
{
	return sys_fchownat(AT_FDCWD, path, uid, gid, 0);
}

long sys_lchown(uint64_t path, uint32_t uid, uint32_t gid)
{
	return sys_fchownat(AT_FDCWD, path, uid, gid, AT_SYMLINK_NOFOLLOW);
}

long sys_fchown(int fd, uint32_t uid, uint32_t gid)
{
	struct file *f = fd_get(fd);
	return f ? set_owner(f->inode, uid, gid) : -EBADF;
}

long sys_utimensat(int dirfd, uint64_t upath, uint64_t utimes, int flags)
{
	struct kts t[2];
	struct walk w = {0};
	struct inode *i;
	long r;

	if (flags & ~AT_SYMLINK_NOFOLLOW)
		return -EINVAL;
	if (utimes && copy_from_user(t, utimes, sizeof(t)) < 0)
		return -EFAULT;
	for (int k = 0; utimes && k < 2; k++)
		if ((t[k].nsec < 0 || t[k].nsec >= 1000000000) &&
		    t[k].nsec != UTIME_NOW_NS && t[k].nsec != UTIME_OMIT_NS)
			return -EINVAL;
	if (!upath) { /* futimens */
		struct file *f = fd_get(dirfd);
		if (!f)
			return -EBADF;
		i = f->inode;
	} else {
		int follow = (flags & AT_SYMLINK_NOFOLLOW) ? 0 : WALK_FOLLOW;
		if ((r = walk_user(dirfd, upath, follow, &w, path_buf)) < 0)
			return r;
		i = w.inode;
	}
	struct kts now_ts;
	if (inode_readonly(i)) {
		walk_done(&w);
		return -EROFS;
	}
	inode_touch(i, TOUCH_C);
	now_ts = i->ctime;
	for (int k = 0; k < 2; k++) {
		struct kts v = utimes ? t[k] : now_ts;
		if (utimes && t[k].nsec == UTIME_OMIT_NS)
			continue;
		if (utimes && t[k].nsec == UTIME_NOW_NS)
			v = now_ts;
		if (k == 0)
			i->atime = v;
		else
			i->mtime = v;
	}
	walk_done(&w);
	return 0;
}

#define EXT2_MAGIC 0xef53
#define ST_RDONLY 1

static long fill_statfs(const struct inode *i, uint64_t ubuf)
{
	struct statfs s;
	struct fs_volstat v;
	memset(&s, 0, sizeof(s));
	if (fs_statvol(i, &v) == 0) {
		s.f_type = EXT2_MAGIC;
		s.f_bsize = s.f_frsize = (long)v.block_size;
		s.f_blocks = v.blocks;
		s.f_bfree = s.f_bavail = v.free_blocks;
		s.f_files = v.files;
		s.f_ffree = v.free_files;
		s.f_flags = v.readonly ? ST_RDONLY : 0;
	} else {
		s.f_type = RAMFS_MAGIC;
		s.f_bsize = PAGE_SIZE;
		s.f_frsize = PAGE_SIZE;
		s.f_blocks = phys_total_pages();
		s.f_bfree = s.f_bavail = phys_free_pages();
		s.f_files = s.f_blocks;
		s.f_ffree = s.f_bfree;
	}
	s.f_namelen = FS_NAME_MAX;
	return copy_to_user(ubuf, &s, sizeof(s));
}

long sys_statfs(uint64_t upath, uint64_t ubuf)
{
	struct walk w;
	long r = walk_user(AT_FDCWD, upath, WALK_FOLLOW, &w, path_buf);
	if (r < 0)
		return r;
	r = fill_statfs(w.inode, ubuf);
	walk_done(&w);
	return r;
}

long sys_fstatfs(int fd, uint64_t ubuf)
{
	struct file *f = fd_get(fd);
	return f ? fill_statfs(f->inode, ubuf) : -EBADF;
}
