/* sys_io.c: descriptor calls: read and write in all their forms, lseek,
 * close, dup, fcntl, pipe, ioctl, getdents64, ftruncate, fsync. */
#include "fs/fs.h"
#include "linux/syscalls.h"
#include <linux/fcntl.h>
#include <linux/resource.h>
#include <linux/fs.h>
#include <linux/stat.h>
#include <linux/uio.h>
#include <asm/ioctls.h>

#define MAX_RW 0x7ffff000ULL /* Linux's MAX_RW_COUNT */
#define PIPE_SIZE_REPORTED 65536

static int readable(const struct file *f)
{
	return !(f->flags & O_PATH) && (f->flags & O_ACCMODE) != O_WRONLY;
}

static int writable(const struct file *f)
{
	return !(f->flags & O_PATH) && (f->flags & O_ACCMODE) != O_RDONLY;
}

/* Read at (*pos) (regular files) or from the stream (devices, pipes). */
static long file_read(struct file *f, uint64_t buf, uint64_t len, uint64_t *pos)
{
	if (!readable(f))
		return -EBADF;
	if (len > MAX_RW)
		len = MAX_RW;
	if (f->ops)
		return f->ops->read ? f->ops->read(f, buf, len) : -EINVAL;
	if (S_ISDIR(f->inode->mode))
		return -EISDIR;
	long r = file_data_read(f->inode, buf, len, *pos);
	if (r > 0)
		*pos += (uint64_t)r;
	return r;
}

static long file_write(struct file *f, uint64_t buf, uint64_t len,
		       uint64_t *pos)
{
	if (!writable(f))
		return -EBADF;
	if (len > MAX_RW)
		len = MAX_RW;
	if (f->ops)
		return f->ops->write ? f->ops->write(f, buf, len) : -EINVAL;
	if (f->flags & O_APPEND)
		*pos = f->inode->size;
	long r = file_data_write(f->inode, buf, len, *pos);
	if (r > 0)
		*pos += (uint64_t)r;
	return r;
}

long sys_read(int fd, uint64_t buf, uint64_t len)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	if (len == 0)
		return readable(f) ? 0 : -EBADF;
	return file_read(f, buf, len, &f->pos);
}

long sys_write(int fd, uint64_t buf, uint64_t len)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	if (len == 0)
		return writable(f) ? 0 : -EBADF;
	return file_write(f, buf, len, &f->pos);
}

static long positioned(int fd, int64_t off, struct file **fp)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	if (off < 0)
		return -EINVAL;
	if (f->ops)
		return -ESPIPE;
	*fp = f;
	return 0;
}

long sys_pread64(int fd, uint64_t buf, uint64_t len, int64_t off)
{
	struct file *f;
	long r = positioned(fd, off, &f);
	uint64_t pos = (uint64_t)off;
	return r < 0 ? r : file_read(f, buf, len, &pos);
}

long sys_pwrite64(int fd, uint64_t buf, uint64_t len, int64_t off)
{
	struct file *f;
	long r = positioned(fd, off, &f);
	uint64_t pos = (uint64_t)off;
	if (r < 0)
		return r;
	/* Linux appends with O_APPEND even for pwrite */
	return file_write(f, buf, len, &pos);
}

/* Read and check (cnt) iovecs into (iov); -EINVAL for a bad count or
 * total. */
static long iov_fetch(struct iovec *iov, uint64_t uiov, int cnt)
{
	if (cnt < 0 || cnt > UIO_MAXIOV)
		return -EINVAL;
	long r = iov_from_user(iov, uiov, (uint64_t)cnt, 0x7fffffffffffffffULL);
	return r < 0 ? r : 0;
}

static long rw_vector(int fd, uint64_t uiov, int cnt, int write, int64_t off)
{
	struct iovec iov[UIO_MAXIOV];
	struct file *f = fd_get(fd);
	uint64_t pos, *posp;
	long r, done = 0;

	if (!f)
		return -EBADF;
	posp = &f->pos;
	if (off >= 0) {
		if ((r = positioned(fd, off, &f)) < 0)
			return r;
		pos = (uint64_t)off;
		posp = &pos;
	}
	if ((r = iov_fetch(iov, uiov, cnt)) < 0)
		return r;
	for (int i = 0; i < cnt; i++) {
		uint64_t base = (uint64_t)iov[i].iov_base;
		uint64_t len = iov[i].iov_len;
		if (len == 0)
			continue;
		r = write ? file_write(f, base, len, posp)
			  : file_read(f, base, len, posp);
		if (r < 0)
			return done ? done : r;
		done += r;
		if ((uint64_t)r < len)
			break;
	}
	return done;
}

long sys_readv(int fd, uint64_t iov, int cnt)
{
	return rw_vector(fd, iov, cnt, 0, -1);
}

long sys_writev(int fd, uint64_t iov, int cnt)
{
	return rw_vector(fd, iov, cnt, 1, -1);
}

long sys_preadv(int fd, uint64_t iov, int cnt, int64_t off)
{
	return off < 0 ? -EINVAL : rw_vector(fd, iov, cnt, 0, off);
}

long sys_pwritev(int fd, uint64_t iov, int cnt, int64_t off)
{
	return off < 0 ? -EINVAL : rw_vector(fd, iov, cnt, 1, off);
}

long sys_lseek(int fd, int64_t off, int whence)
{
	struct file *f = fd_get(fd);
	int64_t base;

	if (!f)
		return -EBADF;
	if (f->ops && f->ops != &proc_ops)
		return -ESPIPE;
	switch (whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = (int64_t)f->pos;
		break;
	case SEEK_END:
		base = (int64_t)(f->text ? f->text_len : f->inode->size);
		break;
	default:
		return -EINVAL;
	}
	if ((off > 0 && base > INT64_MAX - off) || base + off < 0)
		return -EINVAL;
	f->pos = (uint64_t)(base + off);
	return (long)f->pos;
}

long sys_close(int fd)
{
	return fd_close(fd);
}

long sys_dup(int fd)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	int r = fd_install(f, 0, 0);
	if (r >= 0)
		f->refs++;
	return r;
}

long sys_dup3(int old, int new, int flags)
{
	struct file *f = fd_get(old);
	if (flags & ~O_CLOEXEC)
		return -EINVAL;
	if (!f)
		return -EBADF;
	if (old == new)
		return -EINVAL;
	if (new < 0 || new >= FS_FD_MAX ||
	    (uint64_t) new >= current->rlim[RLIMIT_NOFILE][0])
		return -EBADF;
	f->refs++;
	if (fd_get(new))
		fd_close(new);
	fd_install(f, new, flags & O_CLOEXEC);
	return new;
}

long sys_dup2(int old, int new)
{
	if (old == new)
		return fd_get(old) ? new : -EBADF;
	return sys_dup3(old, new, 0);
}

long sys_fcntl(int fd, int cmd, uint64_t arg)
{
	struct file *f = fd_get(fd);
	const int settable =
		O_APPEND | O_NONBLOCK | FASYNC | O_DIRECT | O_NOATIME;
	if (!f)
		return -EBADF;
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC: {
		if (arg >= FS_FD_MAX)
			return -EINVAL;
		int r = fd_install(f, (int)arg, cmd == F_DUPFD_CLOEXEC);
		if (r >= 0)
			f->refs++;
		return r;
	}
	case F_GETFD:
		return fd_cloexec(fd) ? FD_CLOEXEC : 0;
	case F_SETFD:
		fd_set_cloexec(fd, arg & FD_CLOEXEC);
		return 0;
	case F_GETFL:
		return f->flags & ~O_CLOEXEC;
	case F_SETFL:
		f->flags = (f->flags & ~settable) | ((int)arg & settable);
		return 0;
	case F_GETLK: {
		/* one process: no lock can ever conflict */
		struct flock l;
		if (copy_from_user(&l, arg, sizeof(l)) < 0)
			return -EFAULT;
		l.l_type = F_UNLCK;
		return copy_to_user(arg, &l, sizeof(l));
	}
	case F_SETLK:
	case F_SETLKW:
	case F_OFD_SETLK:
	case F_OFD_SETLKW:
		return 0;
	case F_GETPIPE_SZ:
		return S_ISFIFO(f->inode->mode) ? PIPE_SIZE_REPORTED : -EBADF;
	default:
		return -EINVAL;
	}
}

long sys_flock(int fd, int op)
{
	return fd_get(fd) ? 0 : -EBADF;
}

long sys_pipe2(uint64_t ufds, int flags)
{
	struct file *rd, *wr;
	int fds[2];

	if (flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT))
		return -EINVAL;
	if (!user_range_ok(ufds, sizeof(fds)))
		return -EFAULT;
	if (pipe_create(&rd, &wr) < 0)
		return -ENFILE;
	rd->flags |= flags & O_NONBLOCK;
	wr->flags |= flags & O_NONBLOCK;
	fds[0] = fd_install(rd, 0, flags & O_CLOEXEC);
	fds[1] = fds[0] < 0 ? -EMFILE : fd_install(wr, 0, flags & O_CLOEXEC);
	if (fds[1] < 0 || copy_to_user(ufds, fds, sizeof(fds)) < 0) {
		if (fds[0] >= 0)
			fd_close(fds[0]);
		else
			file_put(rd);
		if (fds[1] >= 0)
			fd_close(fds[1]);
		else
			file_put(wr);
		return fds[0] < 0 || fds[1] < 0 ? -EMFILE : -EFAULT;
	}
	return 0;
}

long sys_pipe(uint64_t ufds)
{
	return sys_pipe2(ufds, 0);
}

long sys_ioctl(int fd, unsigned cmd, uint64_t arg)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	if (cmd == FIOCLEX || cmd == FIONCLEX) {
		fd_set_cloexec(fd, cmd == FIOCLEX);
		return 0;
	}
	if (cmd == FIONBIO) { /* any file, as on Linux */
		int v;
		if (copy_from_user(&v, arg, sizeof(v)) < 0)
			return -EFAULT;
		if (v)
			f->flags |= O_NONBLOCK;
		else
			f->flags &= ~O_NONBLOCK;
		return 0;
	}
	if (f->ops && f->ops->ioctl)
		return f->ops->ioctl(f, cmd, arg);
	return -ENOTTY;
}

struct dirent64_abi {
	uint64_t d_ino;
	int64_t d_off;
	uint16_t d_reclen;
	uint8_t d_type;
	char d_name[];
} __attribute__((packed));

long sys_getdents64(int fd, uint64_t ubuf, uint64_t len)
{
	struct file *f = fd_get(fd);
	static char buf[4096];
	uint64_t done = 0;

	if (!f)
		return -EBADF;
	if (!S_ISDIR(f->inode->mode))
		return -ENOTDIR;
	struct inode *dir = f->inode;
	for (;;) {
		const char *name;
		size_t nlen;
		struct inode *i;
		char num[12];
		if (dir->procfd && f->pos >= 2) {
			/* the entries are the open descriptors, as links */
			int fd = (int)f->pos - 2;
			while (fd < FS_FD_MAX && !fd_get(fd))
				fd++;
			if (fd >= FS_FD_MAX)
				break;
			f->pos = (uint64_t)fd + 2;
			nlen = (size_t)snprintf(num, sizeof(num), "%d", fd);
			name = num;
			i = fd_get(fd)->inode;
		} else if (f->pos == 0) {
			name = ".", nlen = 1, i = dir;
		} else if (f->pos == 1) {
			name = "..", nlen = 2;
			i = dir->u.dir.parent ? dir->u.dir.parent : dir;
		} else {
			struct dentry *d = dir_entry_at(dir, f->pos - 2);
			if (!d)
				break;
			name = d->name, nlen = d->len, i = d->inode;
		}
		size_t reclen = (sizeof(struct dirent64_abi) + nlen + 1 + 7) &
				~(size_t)7;
		if (done + reclen > len || reclen > sizeof(buf)) {
			if (done == 0)
				return -EINVAL;
			break;
		}
		struct dirent64_abi *e = (struct dirent64_abi *)buf;
		memset(buf, 0, reclen);
		e->d_ino = i->ino;
		e->d_off = (int64_t)f->pos + 1;
		e->d_reclen = (uint16_t)reclen;
		e->d_type = dir->procfd && f->pos >= 2
				    ? 10 /* DT_LNK */
				    : (uint8_t)((i->mode & S_IFMT) >> 12);
		memcpy(e->d_name, name, nlen);
		if (copy_to_user(ubuf + done, buf, reclen) < 0)
			return -EFAULT;
		done += reclen;
		f->pos++;
	}
	inode_touch(dir, TOUCH_A);
	return (long)done;
}

long sys_ftruncate(int fd, int64_t len)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	if (len < 0 || !writable(f) || !S_ISREG(f->inode->mode))
		return -EINVAL;
	return file_data_truncate(f->inode, (uint64_t)len);
}

long sys_fsync(int fd)
{
	/* the root filesystem is memory: only volumes have anything to do */
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	return ext2fs_fsync(f->inode);
}

long sys_fdatasync(int fd)
{
	return sys_fsync(fd);
}

long sys_syncfs(int fd)
{
	return sys_fsync(fd);
}

long sys_sync(void)
{
	fs_sync_all(); /* sync(2) reports nothing */
	return 0;
}

#define SENDFILE_CHUNK 16384

/* Move up to (count) bytes from (in) at (*inpos) to (out), through a
 * kernel buffer. Returns bytes moved or -errno (only if none moved). */
static long splice_files(struct file *in, uint64_t *inpos, struct file *out,
			 uint64_t count)
{
	static char buf[SENDFILE_CHUNK];
	long done = 0;

	if (!readable(in) || !writable(out))
		return -EBADF;
	if (out->flags & O_APPEND && !out->ops)
		return -EINVAL;
	if (count > MAX_RW)
		count = MAX_RW;
	while ((uint64_t)done < count) {
		uint64_t n = count - (uint64_t)done;
		if (n > sizeof(buf))
			n = sizeof(buf);
		uaccess_kernel_buffers(1);
		long got = file_read(in, (uint64_t)buf, n, inpos);
		long put = got > 0 ? file_write(out, (uint64_t)buf,
						(uint64_t)got, &out->pos)
				   : got;
		uaccess_kernel_buffers(0);
		if (got <= 0)
			return done ? done : got;
		if (put < 0)
			return done ? done : put;
		done += put;
		if (put < got || (uint64_t)got < n)
			break;
	}
	return done;
}

long sys_sendfile(int outfd, int infd, uint64_t uoff, uint64_t count)
{
	struct file *in = fd_get(infd), *out = fd_get(outfd);
	int64_t off;

	if (!in || !out)
		return -EBADF;
	if (!uoff)
		return splice_files(in, &in->pos, out, count);
	if (in->ops)
		return -ESPIPE;
	if (copy_from_user(&off, uoff, sizeof(off)) < 0)
		return -EFAULT;
	if (off < 0)
		return -EINVAL;
	uint64_t pos = (uint64_t)off;
	long r = splice_files(in, &pos, out, count);
	off = (int64_t)pos;
	if (r >= 0 && copy_to_user(uoff, &off, sizeof(off)) < 0)
		return -EFAULT;
	return r;
}

long sys_copy_file_range(int infd, uint64_t uinoff, int outfd, uint64_t uoutoff,
			 uint64_t len, unsigned flags)
{
	struct file *in = fd_get(infd), *out = fd_get(outfd);
	if (flags)
		return -EINVAL;
	if (!in || !out)
		return -EBADF;
	if (in->ops || out->ops || !S_ISREG(in->inode->mode) ||
	    !S_ISREG(out->inode->mode))
		return -EINVAL;
	if (uoutoff) {
		int64_t off;
		if (copy_from_user(&off, uoutoff, sizeof(off)) < 0)
			return -EFAULT;
		if (off < 0)
			return -EINVAL;
		uint64_t saved = out->pos;
		out->pos = (uint64_t)off;
		long r = sys_sendfile(outfd, infd, uinoff, len);
		off = (int64_t)out->pos;
		out->pos = saved;
		if (r >= 0 && copy_to_user(uoutoff, &off, sizeof(off)) < 0)
			return -EFAULT;
		return r;
	}
	return sys_sendfile(outfd, infd, uinoff, len);
}

long sys_close_range(unsigned first, unsigned last, unsigned flags)
{
	const unsigned cloexec_flag = 1u << 2; /* CLOSE_RANGE_CLOEXEC */
	if (flags & ~(cloexec_flag | (1u << 1) /* CLOSE_RANGE_UNSHARE */))
		return -EINVAL;
	if (first > last)
		return -EINVAL;
	for (unsigned fd = first; fd <= last && fd < FS_FD_MAX; fd++) {
		if (!fd_get((int)fd))
			continue;
		if (flags & cloexec_flag)
			fd_set_cloexec((int)fd, 1);
		else
			fd_close((int)fd);
	}
	return 0;
}

#define FALLOC_KEEP_SIZE 0x01
#define FALLOC_PUNCH_HOLE 0x02

long sys_fallocate(int fd, int mode, int64_t off, int64_t len)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	if (off < 0 || len <= 0)
		return -EINVAL;
	if (!writable(f))
		return -EBADF;
	if (S_ISFIFO(f->inode->mode))
		return -ESPIPE;
	if (!S_ISREG(f->inode->mode) || f->ops)
		return -ENODEV;
	if ((uint64_t)off + (uint64_t)len > FS_FILE_MAX)
		return -EFBIG;
	struct inode *i = f->inode;
	uint64_t end = (uint64_t)(off + len);
	switch (mode) {
	case 0:
	case FALLOC_KEEP_SIZE:
		/* memory is allocated as it is written; only the size moves */
		if (mode == 0 && end > i->size)
			return file_data_truncate(i, end);
		return 0;
	case FALLOC_PUNCH_HOLE | FALLOC_KEEP_SIZE: {
		uint64_t stop = end < i->size ? end : i->size;
		for (uint64_t at = (uint64_t)off; at < stop;) {
			uint64_t n =
				stop - at < PAGE_SIZE ? stop - at : PAGE_SIZE;
			long r = file_data_write_kernel(i, zero_page, n, at);
			if (r < 0)
				return r;
			at += n;
		}
		return 0;
	}
	default:
		return -EOPNOTSUPP;
	}
}

#define MFD_CLOEXEC_FLAG 1u
#define MFD_ALLOW_SEALING_FLAG 2u
#define MFD_NAME_MAX 249

long sys_memfd_create(uint64_t uname, unsigned flags)
{
	char name[MFD_NAME_MAX + 2];
	if (flags & ~(MFD_CLOEXEC_FLAG | MFD_ALLOW_SEALING_FLAG))
		return -EINVAL;
	long r = string_from_user(name, uname, sizeof(name));
	if (r < 0)
		return r == -ENAMETOOLONG ? -EINVAL : r;
	struct inode *i = inode_new(S_IFREG | 0777);
	if (!i)
		return -ENOMEM;
	i->nlink = 0; /* anonymous: lives as long as its descriptors */
	struct file *f = file_new(i, O_RDWR);
	if (!f) {
		kfree(i, sizeof(*i));
		return -ENFILE;
	}
	int fd = fd_install(f, 0, flags & MFD_CLOEXEC_FLAG);
	if (fd < 0)
		file_put(f);
	return fd;
}
