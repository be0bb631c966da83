/* sys_io.c: descriptor I/O on the console: read, write, their vector
 * forms, close, ioctl and stat.
 *
 * Descriptors 0, 1 and 2 are the console, as a container's are: 0 reads
 * the monitor's standard input, 1 and 2 write to its standard output and
 * error. Without fresco.tty=1 they behave as pipes (docker's default),
 * with it as a terminal. Files come with the VFS.
 */
#include "linux/syscalls.h"
#include <asm/ioctls.h>
#include <asm/stat.h>
#include <linux/stat.h>
#include <asm/termbits.h>
#include <linux/fcntl.h>
#include <linux/uio.h>

#define IOBUF_SIZE 16384
#define MAX_RW (0x7ffff000ULL) /* Linux's MAX_RW_COUNT */
#define TTY_MAJOR_PTS 136
#define PIPE_BUF_BLKSIZE 4096

struct winsize_abi {
	uint16_t ws_row, ws_col, ws_xpixel, ws_ypixel;
};

static char iobuf[IOBUF_SIZE];

static int fd_console(int fd)
{
	return fd >= 0 && fd < 3 && proc.fd_open[fd];
}

static long console_out(int fd, uint64_t buf, uint64_t len)
{
	uint64_t done = 0;

	if (len > MAX_RW)
		len = MAX_RW;
	while (done < len) {
		size_t n = len - done > IOBUF_SIZE ? IOBUF_SIZE : len - done;
		if (copy_from_user(iobuf, buf + done, n) < 0)
			return done ? (long)done : -EFAULT;
		console_write(fd, iobuf, n);
		done += n;
	}
	return (long)done;
}

static long console_in(uint64_t buf, uint64_t len)
{
	size_t n = len > IOBUF_SIZE ? IOBUF_SIZE : len;
	if (!user_range_ok(buf, n))
		return -EFAULT;
	long got = console_read(iobuf, n);
	if (got <= 0)
		return got;
	if (copy_to_user(buf, iobuf, (size_t)got) < 0)
		return -EFAULT;
	return got;
}

long sys_read(int fd, uint64_t buf, uint64_t len)
{
	if (!fd_console(fd) || fd != 0)
		return -EBADF;
	if (len == 0)
		return 0;
	return console_in(buf, len);
}

long sys_write(int fd, uint64_t buf, uint64_t len)
{
	if (!fd_console(fd) || fd == 0)
		return -EBADF;
	if (len == 0)
		return 0;
	return console_out(fd, buf, len);
}

/* Read and check (cnt) iovecs; -EINVAL for a bad count or total. */
static long iov_fetch(uint64_t uiov, int cnt, struct iovec *iov)
{
	uint64_t total = 0;

	if (cnt < 0 || cnt > UIO_MAXIOV)
		return -EINVAL;
	if (copy_from_user(iov, uiov, (size_t)cnt * sizeof(*iov)) < 0)
		return -EFAULT;
	for (int i = 0; i < cnt; i++) {
		if (iov[i].iov_len > MAX_RW || total + iov[i].iov_len < total)
			return -EINVAL;
		total += iov[i].iov_len;
		if (total > 0x7fffffffffffffffULL)
			return -EINVAL;
	}
	return 0;
}

static struct iovec iov_tmp[UIO_MAXIOV];

static long rw_vector(int fd, uint64_t uiov, int cnt, int write)
{
	long r = iov_fetch(uiov, cnt, iov_tmp), done = 0;
	if (r < 0)
		return r;
	for (int i = 0; i < cnt; i++) {
		uint64_t base = (uint64_t)iov_tmp[i].iov_base;
		uint64_t len = iov_tmp[i].iov_len;
		if (len == 0)
			continue;
		r = write ? console_out(fd, base, len) : console_in(base, len);
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
	if (!fd_console(fd) || fd != 0)
		return -EBADF;
	return rw_vector(fd, iov, cnt, 0);
}

long sys_writev(int fd, uint64_t iov, int cnt)
{
	if (!fd_console(fd) || fd == 0)
		return -EBADF;
	return rw_vector(fd, iov, cnt, 1);
}

long sys_close(int fd)
{
	if (!fd_console(fd))
		return -EBADF;
	proc.fd_open[fd] = 0;
	return 0;
}

static void termios_default(struct termios *t)
{
	static const unsigned char cc[NCCS] = {
		[VINTR] = 3,   [VQUIT] = 28,	[VERASE] = 127,	 [VKILL] = 21,
		[VEOF] = 4,    [VTIME] = 0,	[VMIN] = 1,	 [VSTART] = 17,
		[VSTOP] = 19,  [VSUSP] = 26,	[VREPRINT] = 18, [VWERASE] = 23,
		[VLNEXT] = 22, [VDISCARD] = 15,
	};
	memset(t, 0, sizeof(*t));
	t->c_iflag = ICRNL | IXON;
	t->c_oflag = OPOST | ONLCR;
	t->c_cflag = B38400 | CS8 | CREAD | HUPCL;
	t->c_lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | IEXTEN | ECHOCTL |
		     ECHOKE;
	memcpy(t->c_cc, cc, sizeof(cc));
}

long sys_ioctl(int fd, unsigned cmd, uint64_t arg)
{
	if (!fd_console(fd))
		return -EBADF;
	if (cmd == FIOCLEX || cmd == FIONCLEX)
		return 0;
	if (!proc.tty)
		return -ENOTTY;
	switch (cmd) {
	case TCGETS: {
		struct termios t;
		termios_default(&t);
		return copy_to_user(arg, &t, sizeof(t));
	}
	case TCSETS:
	case TCSETSW:
	case TCSETSF: {
		struct termios t;
		return copy_from_user(&t, arg, sizeof(t));
	}
	case TIOCGWINSZ: {
		struct winsize_abi w = {24, 80, 0, 0};
		return copy_to_user(arg, &w, sizeof(w));
	}
	case TIOCSWINSZ:
		return 0;
	case TIOCGPGRP:
	case TIOCGSID: {
		int pid = 1;
		return copy_to_user(arg, &pid, sizeof(pid));
	}
	default:
		return -ENOTTY;
	}
}

static void console_stat(int fd, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = (unsigned long)fd + 1;
	st->st_nlink = 1;
	if (proc.tty) {
		st->st_mode = S_IFCHR | 0620;
		st->st_rdev = TTY_MAJOR_PTS << 8;
		st->st_blksize = 1024;
		st->st_dev = 0x18;
	} else {
		st->st_mode = S_IFIFO | 0600;
		st->st_blksize = PIPE_BUF_BLKSIZE;
		st->st_dev = 0xd;
	}
}

long sys_fstat(int fd, uint64_t ust)
{
	struct stat st;
	if (!fd_console(fd))
		return -EBADF;
	console_stat(fd, &st);
	return copy_to_user(ust, &st, sizeof(st));
}

long sys_newfstatat(int dirfd, uint64_t upath, uint64_t ust, int flags)
{
	char path[2];
	long r;

	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT))
		return -EINVAL;
	r = string_from_user(path, upath, sizeof(path));
	if (r == -EFAULT)
		return r;
	if (r == 0 && (flags & AT_EMPTY_PATH))
		return sys_fstat(dirfd, ust);
	if (r == 0)
		return -ENOENT;
	/* no filesystem yet: every named path is absent */
	return -ENOENT;
}

#define SELF_EXE "/proc/self/exe"

long sys_readlinkat(int dirfd, uint64_t upath, uint64_t buf, int size)
{
	char path[sizeof(SELF_EXE) + 1];
	long r;

	(void)dirfd;
	r = string_from_user(path, upath, sizeof(path));
	if (r == -EFAULT)
		return r;
	if (size <= 0)
		return -EINVAL;
	if (r < 0 || strcmp(path, SELF_EXE) != 0)
		return -ENOENT;
	size_t n = strlen(proc.exe);
	if (n > (size_t)size)
		n = (size_t)size;
	r = copy_to_user(buf, proc.exe, n);
	return r < 0 ? r : (long)n;
}

long sys_readlink(uint64_t path, uint64_t buf, int size)
{
	return sys_readlinkat(AT_FDCWD, path, buf, size);
}

long sys_getcwd(uint64_t buf, uint64_t size)
{
	if (size < 2)
		return -ERANGE;
	long r = copy_to_user(buf, "/", 2);
	return r < 0 ? r : 2;
}
