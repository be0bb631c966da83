/* dev.c: character devices: /dev/null, zero, full, random, urandom, and
 * the console (/dev/console, /dev/tty and descriptors 0 to 2).
 *
 * The console is the monitor's standard streams: reads come from its
 * standard input, writes go to its standard output or error (the open
 * file's host_fd). Without fresco.tty=1 it behaves as a pipe does for a
 * container (docker's default); with it, as a terminal.
 */
#include "fs/fs.h"
#include <asm/ioctls.h>
#include <asm/termbits.h>

#define DEV(major, minor) ((major) << 8 | (minor))
#define IOBUF_SIZE 16384
#define MAX_RW 0x7ffff000ULL /* Linux's MAX_RW_COUNT */

struct winsize_abi {
	uint16_t ws_row, ws_col, ws_xpixel, ws_ypixel;
};

static char iobuf[IOBUF_SIZE];

static long zero_fill(uint64_t ubuf, uint64_t len)
{
	uint64_t done = 0;
	while (done < len) {
		uint64_t n = len - done > PAGE_SIZE ? PAGE_SIZE : len - done;
		if (copy_to_user(ubuf + done, zero_page, n) < 0)
			return done ? (long)done : -EFAULT;
		done += n;
	}
	return (long)done;
}

static long null_read(struct file *f, uint64_t ubuf, uint64_t len)
{
	return 0;
}

static long null_write(struct file *f, uint64_t ubuf, uint64_t len)
{
	return (long)len;
}

static long zero_read(struct file *f, uint64_t ubuf, uint64_t len)
{
	return zero_fill(ubuf, len > MAX_RW ? MAX_RW : len);
}

static long full_write(struct file *f, uint64_t ubuf, uint64_t len)
{
	return -ENOSPC;
}

static long random_read(struct file *f, uint64_t ubuf, uint64_t len)
{
	uint64_t done = 0;
	char tmp[256];
	if (len > MAX_RW)
		len = MAX_RW;
	while (done < len) {
		uint64_t n =
			len - done > sizeof(tmp) ? sizeof(tmp) : len - done;
		random_bytes(tmp, n);
		if (copy_to_user(ubuf + done, tmp, n) < 0)
			return done ? (long)done : -EFAULT;
		done += n;
	}
	return (long)done;
}

static long console_file_read(struct file *f, uint64_t ubuf, uint64_t len)
{
	size_t n = len > IOBUF_SIZE ? IOBUF_SIZE : len;
	if (!user_range_ok(ubuf, n))
		return -EFAULT;
	long got = console_read(iobuf, n);
	if (got <= 0)
		return got;
	return copy_to_user(ubuf, iobuf, (size_t)got) < 0 ? -EFAULT : got;
}

static long console_file_write(struct file *f, uint64_t ubuf, uint64_t len)
{
	uint64_t done = 0;
	if (len > MAX_RW)
		len = MAX_RW;
	while (done < len) {
		size_t n = len - done > IOBUF_SIZE ? IOBUF_SIZE : len - done;
		if (copy_from_user(iobuf, ubuf + done, n) < 0)
			return done ? (long)done : -EFAULT;
		console_write(f->host_fd, iobuf, n);
		done += n;
	}
	return (long)done;
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

static long console_ioctl(struct file *f, unsigned cmd, uint64_t arg)
{
	if (!current->tty)
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

static const struct file_ops null_ops = {.read = null_read,
					 .write = null_write};
static const struct file_ops zero_ops = {.read = zero_read,
					 .write = null_write};
static const struct file_ops full_ops = {.read = zero_read,
					 .write = full_write};
static const struct file_ops random_ops = {.read = random_read,
					   .write = null_write};
static const struct file_ops console_ops = {.read = console_file_read,
					    .write = console_file_write,
					    .ioctl = console_ioctl};

/* Linux's device numbers (Documentation/admin-guide/devices.txt). */
static const struct {
	uint32_t rdev;
	const struct file_ops *ops;
} devices[] = {
	{DEV(1, 3), &null_ops},	   {DEV(1, 5), &zero_ops},
	{DEV(1, 7), &full_ops},	   {DEV(1, 8), &random_ops},
	{DEV(1, 9), &random_ops},  {DEV(5, 0), &console_ops},
	{DEV(5, 1), &console_ops},
};

const struct file_ops *dev_ops(uint32_t rdev)
{
	for (size_t i = 0; i < ARRAY_SIZE(devices); i++)
		if (devices[i].rdev == rdev)
			return devices[i].ops;
	return NULL;
}

int dev_is_console(const struct file *f)
{
	return f->ops == &console_ops;
}
