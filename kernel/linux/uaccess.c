/* uaccess.c: moving data across the user/kernel boundary.
 *
 * Every user pointer is checked here, in one place: the range must lie
 * below USER_TOP (so a program cannot name kernel memory, which is
 * user-accessible in ring-3 mode), and the copy itself runs in user_copy,
 * whose page faults the trap handler turns into -EFAULT.
 */
#include "kernel.h"
#include <linux/uio.h>

/* Set while the kernel moves data between two of its own buffers through
 * calls written for user buffers (sendfile): addresses are then kernel
 * addresses and are not range-checked. */
static int kernel_buffers;

void uaccess_kernel_buffers(int on)
{
	kernel_buffers = on;
}

int copy_from_user(void *dst, uint64_t src, size_t n)
{
	if (n == 0)
		return 0;
	if (kernel_buffers) {
		memcpy(dst, (const void *)src, n);
		return 0;
	}
	if (!user_range_ok(src, n))
		return -EFAULT;
	return user_copy(dst, (const void *)src, n);
}

int copy_to_user(uint64_t dst, const void *src, size_t n)
{
	if (n == 0)
		return 0;
	if (kernel_buffers) {
		memcpy((void *)dst, src, n);
		return 0;
	}
	if (!user_range_ok(dst, n))
		return -EFAULT;
	return user_copy((void *)dst, src, n);
}

long string_from_user(char *dst, uint64_t src, size_t cap)
{
	size_t done = 0;

	while (done < cap) {
		/* never read past the page the next byte is on */
		uint64_t at = src + done;
		size_t chunk = PAGE_SIZE - (at & (PAGE_SIZE - 1));
		if (chunk > cap - done)
			chunk = cap - done;
		if (copy_from_user(dst + done, at, chunk) < 0)
			return -EFAULT;
		size_t len = strnlen(dst + done, chunk);
		if (len < chunk)
			return (long)(done + len);
		done += chunk;
	}
	return -ENAMETOOLONG;
}

long iov_from_user(struct iovec *iov, uint64_t uiov, uint64_t n, uint64_t max)
{
	uint64_t total = 0;

	if (n && copy_from_user(iov, uiov, n * sizeof(*iov)) < 0)
		return -EFAULT;
	for (uint64_t k = 0; k < n; k++) {
		if (iov[k].iov_len > max - total)
			return -EINVAL;
		total += iov[k].iov_len;
	}
	return (long)total;
}

int iov_gather(void *buf, const struct iovec *iov, uint64_t n)
{
	uint64_t at = 0;
	for (uint64_t k = 0; k < n; k++) {
		if (copy_from_user((uint8_t *)buf + at,
				   (uint64_t)iov[k].iov_base,
				   iov[k].iov_len) < 0)
			return -EFAULT;
		at += iov[k].iov_len;
	}
	return 0;
}

int iov_put_at(const struct iovec *iov, uint64_t n, uint64_t off,
	       const void *buf, uint64_t len)
{
	const uint8_t *p = buf;
	for (uint64_t k = 0; k < n && len; k++) {
		if (off >= iov[k].iov_len) {
			off -= iov[k].iov_len;
			continue;
		}
		uint64_t c =
			iov[k].iov_len - off < len ? iov[k].iov_len - off : len;
		if (copy_to_user((uint64_t)iov[k].iov_base + off, p, c) < 0)
			return -EFAULT;
		p += c;
		len -= c;
		off = 0;
	}
	return len ? -EFAULT : 0;
}

int iov_scatter(const struct iovec *iov, uint64_t n, const void *buf,
		uint64_t len)
{
	uint64_t room = 0; /* what does not fit is left out */
	for (uint64_t k = 0; k < n && room < len; k++)
		room += iov[k].iov_len;
	return iov_put_at(iov, n, 0, buf, len < room ? len : room);
}
