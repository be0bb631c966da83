/* ext2fs.c: ext2 volumes in the file tree: mounting, inodes, directories and
 * file data over the block cache.
 *
 * An ext2 inode in use is a struct inode like any other, with (x) pointing
 * at its node: the volume, the inode number and a copy of the on-disk
 * inode. A directory's entries are read into the ordinary dentry list the
 * first time it is used, and every change is made on disk and in the list
 * together, so path walks, getdents and rename work as on the root
 * filesystem. Inodes stay in memory while their directory is (no
 * eviction yet).
 *
 * Attributes live in struct inode; they are copied into the node's disk
 * inode and written into the cache after each change made here, and for
 * every node at fsync, sync and unmount (chmod, utimes, ...). File data
 * goes through the block cache, read ahead in runs of contiguous blocks.
 */
#include "fs/bcache.h"
#include "fs/fs.h"
#include "lib/ext2.h"
#include <linux/stat.h>

#define MAX_VOLS BLK_MAX
#define NODE_HASH 256
#define READAHEAD_BLOCKS 128
#define VIRTIO_BLK_MAJOR 254

struct vol;

struct ext2_node {
	struct vol *vol;
	uint32_t ino;
	int loaded;	  /* directories: entries read */
	uint64_t next_fb; /* files: the block a sequential reader wants next */
	struct ext2_inode di;
	struct inode *inode;
	struct ext2_node *next, *prev; /* all nodes of the volume */
	struct ext2_node *hnext;
};

struct vol {
	struct ext2_fs fs;
	struct bcache *bc;
	struct blkdev *dev;
	struct inode *root, *covered;
	uint32_t dev_id;
	struct ext2_node *nodes;
	struct ext2_node *hash[NODE_HASH];
};

static struct vol *vols[MAX_VOLS];
static int nvols;

static uint32_t now_sec(void)
{
	return (uint32_t)(clock_realtime_ns() / 1000000000);
}

/* ---- the cache as ext2 sees it ---- */

static uint8_t *io_get(void *ctx, uint32_t blk)
{
	return bcache_get(((struct vol *)ctx)->bc, blk);
}

static uint8_t *io_get_new(void *ctx, uint32_t blk)
{
	return bcache_get_new(((struct vol *)ctx)->bc, blk);
}

static void io_dirty(void *ctx, uint32_t blk)
{
	bcache_dirty(((struct vol *)ctx)->bc, blk);
}

static void io_forget(void *ctx, uint32_t blk)
{
	bcache_forget(((struct vol *)ctx)->bc, blk);
}

/* ---- nodes ---- */

static struct ext2_node **hash_slot(struct vol *v, uint32_t ino)
{
	return &v->hash[ino % NODE_HASH];
}

static void node_unhash(struct ext2_node *n)
{
	struct vol *v = n->vol;
	for (struct ext2_node **pp = hash_slot(v, n->ino); *pp;
	     pp = &(*pp)->hnext)
		if (*pp == n) {
			*pp = n->hnext;
			break;
		}
	if (n->prev)
		n->prev->next = n->next;
	else
		v->nodes = n->next;
	if (n->next)
		n->next->prev = n->prev;
}

static void node_attach(struct vol *v, struct ext2_node *n, struct inode *i)
{
	n->vol = v;
	n->inode = i;
	i->x = n;
	i->ino = n->ino;
	n->hnext = *hash_slot(v, n->ino);
	*hash_slot(v, n->ino) = n;
	n->prev = NULL;
	n->next = v->nodes;
	if (v->nodes)
		v->nodes->prev = n;
	v->nodes = n;
}

/* Copy the attributes of (i) into its disk inode and write it. */
static int node_sync(struct inode *i)
{
	struct ext2_node *n = i->x;
	struct ext2_inode *d = &n->di;

	if (n->vol->fs.readonly)
		return 0;
	d->mode = (uint16_t)i->mode;
	d->uid = (uint16_t)i->uid;
	d->uid_high = (uint16_t)(i->uid >> 16);
	d->gid = (uint16_t)i->gid;
	d->gid_high = (uint16_t)(i->gid >> 16);
	d->links = (uint16_t)(i->nlink > 0xffff ? 0xffff : i->nlink);
	d->atime = (uint32_t)i->atime.sec;
	d->mtime = (uint32_t)i->mtime.sec;
	d->ctime = (uint32_t)i->ctime.sec;
	if (S_ISREG(i->mode) || S_ISDIR(i->mode) || S_ISLNK(i->mode))
		ext2_set_isize(&n->vol->fs, d, i->size);
	return ext2_iwrite(&n->vol->fs, n->ino, d);
}

static void report(struct vol *v, uint32_t ino, int err)
{
	klog("%s: %s at inode %u; check the volume with e2fsck", v->dev->name,
	     err == -EUCLEAN ? "corrupt file system structure" : "I/O error",
	     ino);
}

/* The in-memory inode for (ino) of (v): found, or read from disk. */
static struct inode *iget(struct vol *v, uint32_t ino, int *err)
{
	for (struct ext2_node *n = *hash_slot(v, ino); n; n = n->hnext)
		if (n->ino == ino)
			return n->inode;
	struct ext2_node *n = kmalloc(sizeof(*n));
	struct inode *i = kmalloc(sizeof(*i));
	if (!n || !i) {
		*err = -ENOMEM;
		goto fail;
	}
	n->ino = ino;
	if ((*err = ext2_iread(&v->fs, ino, &n->di)) < 0)
		goto fail;
	const struct ext2_inode *d = &n->di;
	if (d->links == 0 || d->mode == 0) {
		*err = -EUCLEAN; /* an entry naming a free inode */
		goto fail;
	}
	i->mode = d->mode;
	i->nlink = d->links;
	i->uid = d->uid | (uint32_t)d->uid_high << 16;
	i->gid = d->gid | (uint32_t)d->gid_high << 16;
	i->size = ext2_isize(d);
	i->atime = (struct kts){d->atime, 0};
	i->mtime = (struct kts){d->mtime, 0};
	i->ctime = (struct kts){d->ctime, 0};
	if (S_ISCHR(i->mode) || S_ISBLK(i->mode))
		i->rdev = ext2_rdev(d);
	if (S_ISLNK(i->mode)) {
		size_t cap = i->size + 1;
		char *t = cap <= PAGE_SIZE ? kmalloc(cap) : NULL;
		long r = t ? ext2_readlink(&v->fs, &n->di, t, cap) : -ENOMEM;
		if (r < 0) {
			if (t)
				kfree(t, cap);
			*err = (int)r;
			goto fail;
		}
		i->u.lnk.target = t;
		i->u.lnk.owned = 1;
	}
	node_attach(v, n, i);
	return i;
fail:
	if (n)
		kfree(n, sizeof(*n));
	if (i)
		kfree(i, sizeof(*i));
	return NULL;
}

/* ---- directories ---- */

struct load_ctx {
	struct vol *v;
	struct inode *dir;
	struct dentry **tail;
	int err;
};

static int load_entry(void *ctx, const char *name, size_t len, uint32_t ino,
		      unsigned type)
{
	struct load_ctx *c = ctx;
	(void)type;
	if ((len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.'))
		return 0;
	int err = 0;
	struct inode *child = iget(c->v, ino, &err);
	if (child && S_ISDIR(child->mode) && child->u.dir.parent &&
	    child->u.dir.parent != c->dir) {
		/* a second name for a directory: only a corrupt volume has
		 * one, and following it could make the tree a cycle */
		c->err = -EUCLEAN;
		return 0;
	}
	struct dentry *d = child ? kmalloc(sizeof(*d) + len + 1) : NULL;
	if (!d) {
		c->err = child ? -ENOMEM : err;
		return 0; /* skip it, keep the rest visible */
	}
	d->inode = child;
	d->len = (uint16_t)len;
	memcpy(d->name, name, len + 1);
	d->next = NULL;
	*c->tail = d;
	c->tail = &d->next;
	c->dir->u.dir.count++;
	if (S_ISDIR(child->mode))
		child->u.dir.parent = c->dir;
	return 0;
}

int ext2fs_dir_load(struct inode *dir)
{
	struct ext2_node *n = dir->x;
	if (n->loaded)
		return 0;
	n->loaded = 1;
	struct load_ctx c = {n->vol, dir, &dir->u.dir.first, 0};
	while (*c.tail)
		c.tail = &(*c.tail)->next;
	int r = ext2_dir_iterate(&n->vol->fs, &n->di, load_entry, &c);
	if (r < 0 || c.err < 0)
		report(n->vol, n->ino, r < 0 ? r : c.err);
	return r < 0 ? r : 0;
}

/* Take back the disk inode make_on_disk gave (i). */
static void unmake(struct vol *v, struct inode *i)
{
	struct ext2_node *n = i->x;
	ext2_idelete(&v->fs, n->ino, &n->di, now_sec());
	node_unhash(n);
	i->x = NULL;
	kfree(n, sizeof(*n));
}

/* A new inode (i) (from inode_new) becomes inode of volume (v) in
 * directory (dir). */
static int make_on_disk(struct vol *v, struct inode *dir, struct inode *i)
{
	long ino = ext2_ialloc(&v->fs, dir->x->ino, (uint16_t)i->mode);
	if (ino < 0)
		return (int)ino;
	struct ext2_node *n = kmalloc(sizeof(*n));
	if (!n)
		return -ENOMEM; /* the inode leaks until e2fsck */
	n->ino = (uint32_t)ino;
	n->loaded = 1; /* new: nothing to read */
	memset(&n->di, 0, sizeof(n->di));
	n->di.mode = (uint16_t)i->mode;
	node_attach(v, n, i);
	int r = 0;
	if (S_ISDIR(i->mode)) {
		r = ext2_dir_init(&v->fs, &n->di, n->ino, dir->x->ino);
		i->size = ext2_isize(&n->di);
	} else if (S_ISLNK(i->mode)) {
		r = ext2_set_link(&v->fs, &n->di, i->u.lnk.target,
				  strlen(i->u.lnk.target));
	} else if (S_ISCHR(i->mode) || S_ISBLK(i->mode)) {
		ext2_set_rdev(&n->di, i->rdev);
	}
	if (r == 0)
		r = node_sync(i);
	if (r < 0)
		unmake(v, i);
	return r;
}

int ext2fs_link(struct inode *dir, const char *name, size_t len,
		struct inode *child)
{
	struct vol *v = dir->x->vol;
	int r, made = 0;

	if (v->fs.readonly)
		return -EROFS;
	if (len > EXT2_NAME_MAX)
		return -ENAMETOOLONG;
	if (child->x && child->x->vol != v)
		return -EXDEV;
	if ((r = ext2fs_dir_load(dir)) < 0)
		return r;
	if (!child->x) {
		if (S_ISFIFO(child->mode) && child->u.pipe)
			return -EXDEV;
		if ((r = make_on_disk(v, dir, child)) < 0)
			return r;
		made = 1;
	} else if (S_ISDIR(child->mode)) {
		r = ext2_dir_set_parent(&v->fs, &child->x->di, dir->x->ino);
		if (r < 0)
			return r;
	}
	r = ext2_dir_add(&v->fs, &dir->x->di, name, len, child->x->ino,
			 (uint16_t)child->mode);
	dir->size = ext2_isize(&dir->x->di);
	if (r < 0 && made)
		unmake(v, child);
	return r;
}

int ext2fs_unlink(struct inode *dir, const char *name, size_t len)
{
	struct vol *v = dir->x->vol;
	if (v->fs.readonly)
		return -EROFS;
	return ext2_dir_remove(&v->fs, &dir->x->di, name, len);
}

void ext2fs_changed(struct inode *i)
{
	if (i->x && i->nlink)
		node_sync(i);
}

void ext2fs_release(struct inode *i)
{
	struct ext2_node *n = i->x;
	struct vol *v = n->vol;
	if (!v->fs.readonly) {
		int r = ext2_idelete(&v->fs, n->ino, &n->di, now_sec());
		if (r < 0)
			report(v, n->ino, r);
	}
	node_unhash(n);
	kfree(n, sizeof(*n));
	i->x = NULL;
}

uint64_t ext2fs_blocks(const struct inode *i)
{
	return i->x->di.blocks;
}

uint32_t ext2fs_dev(const struct inode *i)
{
	return i->x->vol->dev_id;
}

int inode_readonly(const struct inode *i)
{
	return i->x && i->x->vol->fs.readonly;
}

int fs_same(const struct inode *a, const struct inode *b)
{
	return (a->x ? a->x->vol : NULL) == (b->x ? b->x->vol : NULL);
}

/* ---- file data ---- */

/* Large transfers go straight between the disk and the program's pages,
 * whole blocks at a time, without passing through (or flushing out) the
 * block cache; smaller ones are cached. */
#define DIRECT_MIN (64 * 1024)
#define DIRECT_MAX_BLOCKS 256

/* The segments for (nb) blocks of the program's memory at (ubuf), split
 * at its page boundaries, into (segs) from (*nseg). How many blocks fit
 * in (room) segments and are mapped (writable if (to_user)). */
static uint32_t user_segs(uint64_t ubuf, uint32_t nb, uint32_t bs, int to_user,
			  struct vseg *segs, unsigned *nseg, unsigned room)
{
	for (uint32_t i = 0; i < nb; i++) {
		unsigned at = *nseg;
		for (uint64_t a = ubuf + (uint64_t)i * bs,
			      end = ubuf + (uint64_t)(i + 1) * bs;
		     a < end;) {
			uint64_t piece = PAGE_SIZE - (a & (PAGE_SIZE - 1));
			if (piece > end - a)
				piece = end - a;
			uint64_t pa = vm_user_phys(a, to_user);
			if (!pa || at == room)
				return i; /* this block does not fit */
			segs[at++] = (struct vseg){pa, (uint32_t)piece, 0};
			a += piece;
		}
		*nseg = at;
	}
	return nb;
}

/* Transfer (nb) blocks at disk block (b) to or from the program's memory
 * at (ubuf), in requests of up to the device's segment limit. Returns the
 * blocks done (0: the program's pages need the ordinary path) or -EIO. */
static long direct(struct vol *v, int write, uint32_t b, uint64_t ubuf,
		   uint32_t nb)
{
	static struct vseg segs[VIRTIO_QUEUE_SEGS];
	uint32_t bs = v->fs.block_size, done = 0;
	unsigned room = v->dev->seg_max;

	while (done < nb) {
		unsigned nseg = 0;
		uint32_t k = user_segs(ubuf + (uint64_t)done * bs, nb - done,
				       bs, !write, segs, &nseg, room);
		if (k == 0)
			break;
		int r = blk_rw(v->dev, write,
			       (uint64_t)(b + done) * (bs / BLK_SECTOR), segs,
			       nseg);
		if (r < 0)
			return done ? (long)done : r;
		done += k;
	}
	return done;
}

/* Read file blocks from (fb) straight into the program's memory, as many
 * of the next (nb) as are contiguous on disk and not cached. */
static long read_direct(struct vol *v, struct ext2_node *n, uint64_t fb,
			uint64_t ubuf, uint64_t nb)
{
	long b = ext2_bmap(&v->fs, &n->di, fb, 0, 0, NULL);
	if (b <= 0)
		return 0; /* a hole or an error: the ordinary path says which */
	uint32_t run = ext2_extent(&v->fs, &n->di, fb,
				   nb < DIRECT_MAX_BLOCKS ? (uint32_t)nb
							  : DIRECT_MAX_BLOCKS);
	for (uint32_t i = 0; i < run; i++)
		if (bcache_peek(v->bc, (uint32_t)b + i)) {
			run = i; /* the cache may hold newer data */
			break;
		}
	return run ? direct(v, 0, (uint32_t)b, ubuf, run) : 0;
}

/* Write whole file blocks from (fb) straight from the program's memory,
 * allocating them from (*goal) on; every block allocated here is written
 * here. Returns the blocks written, 0 (take the ordinary path) or -errno. */
static long write_direct(struct vol *v, struct inode *i, uint64_t fb,
			 uint64_t ubuf, uint64_t nb, uint32_t *goal)
{
	static struct vseg probe[VIRTIO_QUEUE_SEGS];
	struct ext2_node *n = i->x;
	uint32_t bs = v->fs.block_size, first = 0, run = 0;
	unsigned nseg = 0;
	long done = 0, err = 0, r;

	if (nb > DIRECT_MAX_BLOCKS)
		nb = DIRECT_MAX_BLOCKS;
	/* only blocks whose pages are there: none allocated in vain */
	uint32_t ok = user_segs(ubuf, (uint32_t)nb, bs, 0, probe, &nseg,
				VIRTIO_QUEUE_SEGS);
	for (uint32_t k = 0; k < ok; k++) {
		int fresh;
		long b = ext2_bmap(&v->fs, &n->di, fb + k, 1, *goal, &fresh);
		if (b <= 0) {
			err = b ? b : -EIO;
			break;
		}
		bcache_forget(v->bc, (uint32_t)b); /* overwritten whole */
		*goal = (uint32_t)b + 1;
		if (run && (uint32_t)b == first + run) {
			run++;
			continue;
		}
		/* not contiguous: write the run so far, start another */
		if (run) {
			r = direct(v, 1, first, ubuf + (uint64_t)done * bs,
				   run);
			if (r != run)
				return r < 0 && !done ? r
						      : done + (r > 0 ? r : 0);
			done += run;
		}
		first = (uint32_t)b;
		run = 1;
	}
	if (run) {
		r = direct(v, 1, first, ubuf + (uint64_t)done * bs, run);
		if (r < 0)
			return done ? done : r;
		done += r;
	}
	return done ? done : err;
}

long ext2fs_read(struct inode *i, uint64_t ubuf, uint64_t len, uint64_t pos)
{
	struct ext2_node *n = i->x;
	struct vol *v = n->vol;
	uint32_t bs = v->fs.block_size;
	uint64_t done = 0;

	if (pos >= i->size)
		return 0;
	if (len > i->size - pos)
		len = i->size - pos;
	while (done < len) {
		uint64_t at = pos + done, fb = at / bs, off = at % bs;
		uint64_t k = bs - off < len - done ? bs - off : len - done;
		if (off == 0 && len - done >= DIRECT_MIN) {
			long r = read_direct(v, n, fb, ubuf + done,
					     (len - done) / bs);
			if (r < 0) {
				report(v, n->ino, (int)r);
				return done ? (long)done : r;
			}
			if (r > 0) {
				done += (uint64_t)r * bs;
				continue;
			}
		}
		long b = ext2_bmap(&v->fs, &n->di, fb, 0, 0, NULL);
		const uint8_t *src = zero_page;
		if (b > 0) {
			uint8_t *p = bcache_peek(v->bc, (uint32_t)b);
			if (!p) {
				/* what was asked for; more if the reader goes
				 * through the file in order */
				uint64_t want =
					(len - done + off + bs - 1) / bs;
				if ((fb == 0 || fb == n->next_fb) &&
				    want < READAHEAD_BLOCKS)
					want = READAHEAD_BLOCKS;
				uint32_t run = ext2_extent(&v->fs, &n->di, fb,
							   (uint32_t)want);
				bcache_readahead(v->bc, (uint32_t)b, run);
				p = bcache_get(v->bc, (uint32_t)b);
			}
			if (!p)
				b = -EIO;
			else
				src = p + off;
		}
		if (b < 0) {
			report(v, n->ino, (int)b);
			return done ? (long)done : b;
		}
		if (copy_to_user(ubuf + done, src, k) < 0)
			return done ? (long)done : -EFAULT;
		done += k;
	}
	n->next_fb = (pos + done + bs - 1) / bs;
	return (long)done;
}

long ext2fs_write(struct inode *i, const void *kbuf, uint64_t ubuf,
		  uint64_t len, uint64_t pos)
{
	struct ext2_node *n = i->x;
	struct vol *v = n->vol;
	uint32_t bs = v->fs.block_size;
	uint64_t done = 0;
	uint32_t goal = 0;
	long err = 0;

	if (v->fs.readonly)
		return -EROFS;
	if (pos >= ext2_max_size(&v->fs) || len > ext2_max_size(&v->fs) - pos)
		return -EFBIG;
	if (pos / bs > 0) {
		long prev = ext2_bmap(&v->fs, &n->di, pos / bs - 1, 0, 0, NULL);
		goal = prev > 0 ? (uint32_t)prev + 1 : 0;
	}
	while (done < len) {
		uint64_t at = pos + done, fb = at / bs, off = at % bs;
		uint64_t k = bs - off < len - done ? bs - off : len - done;
		if (!kbuf && off == 0 && len - done >= DIRECT_MIN) {
			long r = write_direct(v, i, fb, ubuf + done,
					      (len - done) / bs, &goal);
			if (r < 0) {
				err = r;
				break;
			}
			if (r > 0) {
				done += (uint64_t)r * bs;
				if (pos + done > i->size)
					i->size = pos + done;
				continue;
			}
		}
		int fresh;
		long b = ext2_bmap(&v->fs, &n->di, fb, 1, goal, &fresh);
		if (b <= 0) {
			err = b < 0 ? b : -EIO;
			break;
		}
		/* a new block, or one overwritten whole, need not be read */
		int whole =
			fresh || (off == 0 && (k == bs || at + k >= i->size));
		uint8_t *p = whole ? bcache_get_new(v->bc, (uint32_t)b)
				   : bcache_get(v->bc, (uint32_t)b);
		if (!p) {
			err = -EIO;
			break;
		}
		if (kbuf)
			memcpy(p + off, (const uint8_t *)kbuf + done, k);
		else if (copy_from_user(p + off, ubuf + done, k) < 0) {
			/* the block keeps what it had (zeros if new) */
			bcache_dirty(v->bc, (uint32_t)b);
			err = -EFAULT;
			break;
		}
		bcache_dirty(v->bc, (uint32_t)b);
		goal = (uint32_t)b + 1;
		done += k;
		if (pos + done > i->size)
			i->size = pos + done;
	}
	if (done || err != -EFAULT)
		inode_touch(i, TOUCH_M | TOUCH_C);
	node_sync(i);
	if (err == -EIO || err == -EUCLEAN)
		report(v, n->ino, (int)err);
	return done ? (long)done : err;
}

int ext2fs_truncate(struct inode *i, uint64_t size)
{
	struct ext2_node *n = i->x;
	if (n->vol->fs.readonly)
		return -EROFS;
	int r = ext2_truncate(&n->vol->fs, &n->di, size);
	if (r < 0)
		return r;
	i->size = size;
	inode_touch(i, TOUCH_M | TOUCH_C);
	return node_sync(i);
}

/* ---- volumes ---- */

static int vol_sync(struct vol *v, int flush)
{
	if (v->fs.readonly)
		return 0;
	for (struct ext2_node *n = v->nodes; n; n = n->next)
		if (n->inode->nlink)
			node_sync(n->inode);
	return bcache_sync(v->bc, flush);
}

int ext2fs_fsync(struct inode *i)
{
	return i->x ? vol_sync(i->x->vol, 1) : 0;
}

int fs_sync_all(void)
{
	int err = 0;
	for (int k = 0; k < nvols; k++) {
		int r = vol_sync(vols[k], 1);
		if (r < 0)
			err = r;
	}
	return err;
}

void fs_unmount_all(void)
{
	for (int k = 0; k < nvols; k++) {
		struct vol *v = vols[k];
		if (v->fs.readonly)
			continue;
		/* files deleted while open go now */
		for (struct ext2_node *n = v->nodes, *next; n; n = next) {
			next = n->next;
			if (n->inode->nlink == 0)
				ext2_idelete(&v->fs, n->ino, &n->di, now_sec());
		}
		vol_sync(v, 0);
		if (ext2_unmount(&v->fs, now_sec()) < 0 ||
		    bcache_sync(v->bc, 1) < 0)
			klog("%s: could not be written back whole; check it "
			     "with e2fsck",
			     v->dev->name);
	}
}

int fs_statvol(const struct inode *i, struct fs_volstat *st)
{
	if (!i->x)
		return -ENOENT;
	struct vol *v = i->x->vol;
	uint64_t fb, fi;
	ext2_counts(&v->fs, &fb, &fi);
	st->block_size = v->fs.block_size;
	st->blocks = v->fs.blocks_count - v->fs.first_data_block;
	st->free_blocks = fb;
	st->files = v->fs.inodes_count;
	st->free_files = fi;
	st->readonly = v->fs.readonly;
	return 0;
}

int fs_mount(const char *devname, const char *path, int readonly,
	     const char **why)
{
	static uint8_t super[EXT2_SB_SIZE];
	struct blkdev *dev = blk_find(devname);
	int r;

	*why = "no such virtio block device";
	if (!dev)
		return -ENODEV;
	if (nvols >= MAX_VOLS)
		return -EBUSY;
	readonly |= dev->readonly;
	/* the superblock, to learn the block size */
	uint64_t pa = phys_alloc();
	if (!pa) {
		*why = "out of memory";
		return -ENOMEM;
	}
	struct vseg s = {pa, 2 * BLK_SECTOR, 0};
	r = blk_rw(dev, 0, EXT2_SB_OFFSET / BLK_SECTOR, &s, 1);
	memcpy(super, phys_to_virt(pa), sizeof(super));
	phys_free(pa);
	if (r < 0) {
		*why = "the volume cannot be read";
		return r;
	}
	uint32_t bs = ext2_block_size(super, why);
	if (!bs)
		return -EINVAL;
	struct vol *v = kmalloc(sizeof(*v));
	/* a quarter of the free memory, at most 128 MiB */
	uint64_t cap = phys_free_pages() / 4;
	if (cap > 32768)
		cap = 32768;
	if (!v || !(v->bc = bcache_new(dev, bs, (uint32_t)cap))) {
		*why = "out of memory";
		return -ENOMEM;
	}
	v->dev = dev;
	v->dev_id = VIRTIO_BLK_MAJOR << 8 | (uint32_t)(16 * nvols);
	struct ext2_io io = {v, io_get, io_get_new, io_dirty, io_forget};
	if ((r = ext2_mount(&v->fs, &io, bs, readonly, now_sec(), why)) < 0)
		return r;
	int err = 0;
	if (!(v->root = iget(v, EXT2_ROOT_INO, &err)) ||
	    !S_ISDIR(v->root->mode)) {
		*why = "its root directory is unreadable; run e2fsck on it";
		return err ? err : -EUCLEAN;
	}
	/* the mount point: made if missing, like docker's -v */
	struct walk w;
	if ((r = fs_mkdir_p(path)) < 0 ||
	    (r = path_walk(fs_root, path, WALK_FOLLOW, &w)) < 0) {
		*why = "the mount point cannot be made";
		return r;
	}
	struct inode *mp = w.inode;
	if (!S_ISDIR(mp->mode) || mp == fs_root || mp->x || mp->covers) {
		walk_done(&w);
		*why = "the mount point is not a directory of the root "
		       "filesystem";
		return -ENOTDIR;
	}
	inode_get(mp); /* for as long as it is covered */
	walk_done(&w);
	v->covered = mp;
	mp->mounted = v->root;
	v->root->covers = mp;
	v->root->u.dir.parent = mp->u.dir.parent;
	inode_get(v->root);
	vols[nvols++] = v;
	*why = NULL;
	if (!v->fs.was_clean && !readonly)
		klog("%s: was not unmounted cleanly; check it with e2fsck -fy "
		     "if anything looks wrong",
		     dev->name);
	return 0;
}
