/* cpio.c: reading and writing cpio "newc" archives (Linux initramfs format).
 *
 * newc layout (see the Linux kernel's initramfs buffer format): a 110-byte
 * ASCII header "070701" followed by 13 eight-digit hex fields, the name
 * with its NUL, padding to 4 bytes, the data, padding to 4 bytes. The
 * archive ends with an entry named "TRAILER!!!".
 */
#include "lib.h"
#include <string.h>

#define CPIO_MAGIC "070701"
#define CPIO_TRAILER "TRAILER!!!"
#define CPIO_FIELDS 13

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static int hex8(const char *p, uint32_t *out)
{
	uint32_t v = 0;
	for (int i = 0; i < 8; i++) {
		char c = p[i];
		int d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -EINVAL;
		v = v << 4 | (uint32_t)d;
	}
	*out = v;
	return 0;
}

int cpio_next(const void *ar, size_t len, size_t *off, struct cpio_file *f)
{
	const char *base = ar;
	size_t pos = *off;
	uint32_t v[CPIO_FIELDS];

	if (pos >= len)
		return 0;
	if (len - pos < CPIO_HEADER_SIZE)
		return -EINVAL;
	const char *h = base + pos;
	if (memcmp(h, CPIO_MAGIC, 6) != 0)
		return -EINVAL;
	for (int i = 0; i < CPIO_FIELDS; i++)
		if (hex8(h + 6 + 8 * i, &v[i]) < 0)
			return -EINVAL;

	/* fields: ino mode uid gid nlink mtime filesize devmajor devminor
	 * rdevmajor rdevminor namesize check */
	uint32_t namesize = v[11];
	uint64_t size = v[6];
	if (namesize == 0)
		return -EINVAL;
	size_t name_end = pos + CPIO_HEADER_SIZE + namesize;
	if (name_end > len || base[name_end - 1] != '\0')
		return -EINVAL;
	size_t data = pos + pad4(CPIO_HEADER_SIZE + namesize);
	if (data > len || size > len - data)
		return -EINVAL;

	f->name = h + CPIO_HEADER_SIZE;
	f->namelen = namesize - 1;
	if (f->namelen == sizeof(CPIO_TRAILER) - 1 &&
	    memcmp(f->name, CPIO_TRAILER, f->namelen) == 0)
		return 0;
	f->ino = v[0];
	f->mode = v[1];
	f->uid = v[2];
	f->gid = v[3];
	f->nlink = v[4];
	f->mtime = v[5];
	f->rdevmajor = v[9];
	f->rdevminor = v[10];
	f->data = base + data;
	f->size = size;
	*off = pad4(data + size) < len ? pad4(data + size) : len;
	return 1;
}

/* Skip leading "/" and "./" so "/bin/x", "./bin/x" and "bin/x" agree. */
static const char *strip_root(const char *s, size_t *n)
{
	for (;;) {
		if (*n >= 1 && s[0] == '/') {
			s++;
			(*n)--;
		} else if (*n >= 2 && s[0] == '.' && s[1] == '/') {
			s += 2;
			*n -= 2;
		} else {
			return s;
		}
	}
}

int cpio_find(const void *ar, size_t len, const char *path, struct cpio_file *f)
{
	size_t plen = strlen(path);
	const char *p = strip_root(path, &plen);
	size_t off = 0;
	int r;

	while ((r = cpio_next(ar, len, &off, f)) > 0) {
		size_t nlen = f->namelen;
		const char *n = strip_root(f->name, &nlen);
		if (nlen == plen && memcmp(n, p, plen) == 0)
			return 0;
	}
	return r < 0 ? r : -ENOENT;
}

size_t cpio_entry_size(const char *name, uint64_t size)
{
	return pad4(CPIO_HEADER_SIZE + strlen(name) + 1) + pad4(size);
}

static void put_hex8(char *p, uint32_t v)
{
	static const char digits[] = "0123456789abcdef";
	for (int i = 7; i >= 0; i--) {
		p[i] = digits[v & 0xf];
		v >>= 4;
	}
}

int cpio_put(void *buf, size_t cap, size_t *off, const char *name,
	     uint32_t mode, uint32_t ino, const void *data, uint64_t size)
{
	size_t need = cpio_entry_size(name, size);
	size_t namesize = strlen(name) + 1;
	char *h = (char *)buf + *off;

	if (size > 0xffffffffu || *off > cap || need > cap - *off)
		return -ENOSPC;
	uint32_t v[CPIO_FIELDS] = {
		ino, mode, 0, 0, mode ? 1 : 0,	     0, (uint32_t)size,
		0,   0,	   0, 0, (uint32_t)namesize, 0};
	memcpy(h, CPIO_MAGIC, 6);
	for (int i = 0; i < CPIO_FIELDS; i++)
		put_hex8(h + 6 + 8 * i, v[i]);
	memcpy(h + CPIO_HEADER_SIZE, name, namesize);
	size_t d = pad4(CPIO_HEADER_SIZE + namesize);
	memset(h + CPIO_HEADER_SIZE + namesize, 0,
	       d - CPIO_HEADER_SIZE - namesize);
	if (size)
		memcpy(h + d, data, size);
	memset(h + d + size, 0, pad4(size) - size);
	*off += need;
	return 0;
}
