/* inode.c: ramfs inodes, directories and regular file data.
 *
 * A regular file's data is either still in the cpio archive (u.reg.initial,
 * read-only, exactly size bytes) or in a two-level page tree: u.reg.l1 is
 * a page of 512 physical addresses of index pages, each holding 512
 * physical addresses of data pages; 0 is a hole that reads as zeros.
 */
#include "fs/fs.h"
#include <linux/stat.h>

#define L2_SHIFT 12
#define L1_SHIFT 21
#define FANOUT 512

struct inode *fs_root;
static uint64_t next_ino = 1;

static struct kts now(void)
{
	uint64_t ns = clock_realtime_ns();
	return (struct kts){(int64_t)(ns / 1000000000),
			    (int64_t)(ns % 1000000000)};
}

void inode_touch(struct inode *i, int what)
{
	struct kts t = now();
	if (what & TOUCH_A)
		i->atime = t;
	if (what & TOUCH_M)
		i->mtime = t;
	if (what & TOUCH_C)
		i->ctime = t;
}

struct inode *inode_new(uint32_t mode)
{
	struct inode *i = kmalloc(sizeof(*i));
	if (!i)
		return NULL;
	i->mode = mode;
	i->ino = next_ino++;
	i->nlink = S_ISDIR(mode) ? 2 : 1;
	inode_touch(i, TOUCH_A | TOUCH_M | TOUCH_C);
	return i;
}

void inode_get(struct inode *i)
{
	i->refs++;
}

static void data_free(struct inode *i)
{
	uint64_t *l1 = i->u.reg.l1;
	if (!l1)
		return;
	for (int a = 0; a < FANOUT; a++) {
		if (!l1[a])
			continue;
		uint64_t *l2 = phys_to_virt(l1[a]);
		for (int b = 0; b < FANOUT; b++)
			if (l2[b])
				phys_free(l2[b]);
		phys_free(l1[a]);
	}
	phys_free(virt_to_phys(l1));
	i->u.reg.l1 = NULL;
}

void inode_put(struct inode *i)
{
	if (i->refs > 0)
		i->refs--;
	if (i->refs > 0 || i->nlink > 0)
		return;
	if (i->x)
		ext2fs_release(i);
	if (S_ISREG(i->mode))
		data_free(i);
	else if (S_ISLNK(i->mode) && i->u.lnk.owned)
		kfree(i->u.lnk.target, strlen(i->u.lnk.target) + 1);
	kfree(i, sizeof(*i));
}

void fs_init(void)
{
	fs_root = inode_new(S_IFDIR | 0755);
	if (!fs_root)
		kpanic(NULL, "no memory for the root directory");
	fs_root->u.dir.parent = fs_root;
	inode_get(fs_root);
}

/* ---- directories ---- */

uint64_t dir_count(struct inode *dir)
{
	if (dir->x)
		ext2fs_dir_load(dir);
	return dir->u.dir.count;
}

static struct dentry *find(struct inode *dir, const char *name, size_t len)
{
	if (dir->x)
		ext2fs_dir_load(dir); /* errors were reported; show the rest */
	for (struct dentry *d = dir->u.dir.first; d; d = d->next)
		if (d->len == len && memcmp(d->name, name, len) == 0)
			return d;
	return NULL;
}

struct inode *dir_lookup(struct inode *dir, const char *name, size_t len)
{
	struct dentry *d = find(dir, name, len);
	if (!d)
		return NULL;
	/* a mount point shows the root of what is mounted on it */
	return d->inode->mounted ? d->inode->mounted : d->inode;
}

int dir_link(struct inode *dir, const char *name, size_t len,
	     struct inode *child)
{
	if (len > FS_NAME_MAX)
		return -ENAMETOOLONG;
	if (dir_lookup(dir, name, len))
		return -EEXIST;
	if (sizeof(struct dentry) + len + 1 > PAGE_SIZE)
		return -ENAMETOOLONG;
	if (!dir->x && child->x)
		return -EXDEV;
	struct dentry *d = kmalloc(sizeof(*d) + len + 1);
	if (!d)
		return -ENOSPC;
	if (dir->x) {
		int r = ext2fs_link(dir, name, len, child);
		if (r < 0) {
			kfree(d, sizeof(*d) + len + 1);
			return r;
		}
	}
	d->inode = child;
	d->len = (uint16_t)len;
	memcpy(d->name, name, len);
	d->name[len] = '\0';
	/* newest first, the order Linux's ramfs and tmpfs list in */
	d->next = dir->u.dir.first;
	dir->u.dir.first = d;
	dir->u.dir.count++;
	/* a new inode comes with its first link; linkat adds the others */
	if (S_ISDIR(child->mode)) {
		child->u.dir.parent = dir;
		dir->nlink++;
	}
	inode_touch(dir, TOUCH_M | TOUCH_C);
	if (dir->x) {
		ext2fs_changed(dir);
		ext2fs_changed(child);
	}
	return 0;
}

/* Take the entry (name) out of (dir), on disk too: the dentry, or NULL
 * with (*err). */
static struct dentry *take_out(struct inode *dir, const char *name, size_t len,
			       int *err)
{
	if (!find(dir, name, len)) {
		*err = -ENOENT;
		return NULL;
	}
	for (struct dentry **pp = &dir->u.dir.first; *pp; pp = &(*pp)->next) {
		struct dentry *d = *pp;
		if (d->len != len || memcmp(d->name, name, len) != 0)
			continue;
		if (d->inode->mounted) {
			*err = -EBUSY;
			return NULL;
		}
		if (dir->x && (*err = ext2fs_unlink(dir, name, len)) < 0)
			return NULL;
		*pp = d->next;
		return d;
	}
	*err = -ENOENT;
	return NULL;
}

int dir_unlink(struct inode *dir, const char *name, size_t len)
{
	int err;
	struct dentry *d = take_out(dir, name, len, &err);
	if (!d)
		return err;
	dir->u.dir.count--;
	struct inode *i = d->inode;
	kfree(d, sizeof(*d) + len + 1);
	if (S_ISDIR(i->mode)) {
		dir->nlink--;
		i->nlink = 0;
	} else {
		i->nlink--;
	}
	inode_touch(dir, TOUCH_M | TOUCH_C);
	inode_touch(i, TOUCH_C);
	if (dir->x) {
		ext2fs_changed(dir);
		ext2fs_changed(i);
	}
	inode_get(i);
	inode_put(i);
	return 0;
}

int dir_detach(struct inode *dir, const char *name, size_t len)
{
	int err;
	struct dentry *d = take_out(dir, name, len, &err);
	if (!d)
		return err;
	dir->u.dir.count--;
	if (S_ISDIR(d->inode->mode))
		dir->nlink--;
	kfree(d, sizeof(*d) + len + 1);
	inode_touch(dir, TOUCH_M | TOUCH_C);
	if (dir->x)
		ext2fs_changed(dir);
	return 0;
}

struct dentry *dir_entry_at(struct inode *dir, uint64_t n)
{
	if (dir->x)
		ext2fs_dir_load(dir);
	struct dentry *d = dir->u.dir.first;
	while (d && n--)
		d = d->next;
	return d;
}

const struct dentry *dir_name_in_parent(struct inode *dir)
{
	/* a volume's root is known by its mount point's name */
	struct inode *self = dir->covers ? dir->covers : dir;
	struct inode *p = self->u.dir.parent;
	if (self == fs_root || !p)
		return NULL;
	for (struct dentry *d = p->u.dir.first; d; d = d->next)
		if (d->inode == self)
			return d;
	return NULL;
}

/* ---- regular file data ---- */

/* The data page holding (pos), allocating on the way if (alloc); NULL for
 * a hole (or no memory when allocating). */
static uint8_t *data_page(struct inode *i, uint64_t pos, int alloc)
{
	uint64_t *l1 = i->u.reg.l1;
	if (!l1) {
		if (!alloc)
			return NULL;
		uint64_t pa = phys_alloc();
		if (!pa)
			return NULL;
		l1 = i->u.reg.l1 = phys_to_virt(pa);
	}
	uint64_t *slot = &l1[(pos >> L1_SHIFT) % FANOUT];
	if (!*slot && !(alloc && (*slot = phys_alloc())))
		return NULL;
	uint64_t *l2 = phys_to_virt(*slot);
	uint64_t *page = &l2[(pos >> L2_SHIFT) % FANOUT];
	if (!*page && !(alloc && (*page = phys_alloc())))
		return NULL;
	return phys_to_virt(*page);
}

/* Move the data out of the cpio archive into pages of the file's own. */
static int materialize(struct inode *i)
{
	const uint8_t *src = i->u.reg.initial;
	if (!src)
		return 0;
	for (uint64_t off = 0; off < i->size; off += PAGE_SIZE) {
		uint8_t *p = data_page(i, off, 1);
		if (!p)
			return -ENOSPC;
		uint64_t n =
			i->size - off < PAGE_SIZE ? i->size - off : PAGE_SIZE;
		memcpy(p, src + off, n);
	}
	i->u.reg.initial = NULL;
	return 0;
}

long file_data_read(struct inode *i, uint64_t ubuf, uint64_t len, uint64_t pos)
{
	uint64_t done = 0;

	if (i->x)
		return ext2fs_read(i, ubuf, len, pos);
	if (pos >= i->size)
		return 0;
	if (len > i->size - pos)
		len = i->size - pos;
	while (done < len) {
		uint64_t at = pos + done;
		uint64_t n = PAGE_SIZE - (at & (PAGE_SIZE - 1));
		if (n > len - done)
			n = len - done;
		const uint8_t *src;
		if (i->u.reg.initial)
			src = i->u.reg.initial + at;
		else {
			const uint8_t *p = data_page(i, at, 0);
			src = p ? p + (at & (PAGE_SIZE - 1)) : zero_page;
		}
		if (copy_to_user(ubuf + done, src, n) < 0)
			return done ? (long)done : -EFAULT;
		done += n;
	}
	return (long)done;
}

/* Write (len) bytes at (pos) from user memory (user) or kernel memory. */
static long data_write(struct inode *i, const void *kbuf, uint64_t ubuf,
		       uint64_t len, uint64_t pos)
{
	uint64_t done = 0;

	if (i->x)
		return ext2fs_write(i, kbuf, ubuf, len, pos);
	if (pos >= FS_FILE_MAX || len > FS_FILE_MAX - pos)
		return -EFBIG;
	if (materialize(i) < 0)
		return -ENOSPC;
	while (done < len) {
		uint64_t at = pos + done;
		uint64_t n = PAGE_SIZE - (at & (PAGE_SIZE - 1));
		if (n > len - done)
			n = len - done;
		uint8_t *p = data_page(i, at, 1);
		if (!p) {
			if (done)
				break;
			return -ENOSPC;
		}
		p += at & (PAGE_SIZE - 1);
		if (kbuf)
			memcpy(p, (const uint8_t *)kbuf + done, n);
		else if (copy_from_user(p, ubuf + done, n) < 0) {
			if (done)
				break;
			return -EFAULT;
		}
		done += n;
	}
	if (pos + done > i->size)
		i->size = pos + done;
	inode_touch(i, TOUCH_M | TOUCH_C);
	return (long)done;
}

long file_data_write(struct inode *i, uint64_t ubuf, uint64_t len, uint64_t pos)
{
	return data_write(i, NULL, ubuf, len, pos);
}

long file_data_write_kernel(struct inode *i, const void *buf, uint64_t len,
			    uint64_t pos)
{
	return data_write(i, buf, 0, len, pos);
}

int file_data_truncate(struct inode *i, uint64_t size)
{
	if (i->x)
		return ext2fs_truncate(i, size);
	if (size > FS_FILE_MAX)
		return -EFBIG;
	if (size == i->size)
		return 0;
	if (materialize(i) < 0)
		return -ENOSPC;
	if (size < i->size && i->u.reg.l1) {
		/* zero the tail of the last page, free whole pages after it */
		uint8_t *p = data_page(i, size, 0);
		if (p && (size & (PAGE_SIZE - 1)))
			memset(p + (size & (PAGE_SIZE - 1)), 0,
			       PAGE_SIZE - (size & (PAGE_SIZE - 1)));
		for (uint64_t off = PAGE_UP(size); off < i->size;
		     off += PAGE_SIZE) {
			uint64_t *l2s =
				&i->u.reg.l1[(off >> L1_SHIFT) % FANOUT];
			if (!*l2s) {
				off |= (1ULL << L1_SHIFT) - 1;
				off -= PAGE_SIZE - 1;
				continue;
			}
			uint64_t *page = &((uint64_t *)phys_to_virt(
				*l2s))[(off >> L2_SHIFT) % FANOUT];
			if (*page) {
				phys_free(*page);
				*page = 0;
			}
		}
	}
	i->size = size;
	inode_touch(i, TOUCH_M | TOUCH_C);
	return 0;
}
