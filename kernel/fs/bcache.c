/* bcache.c: the block cache (see bcache.h). */
#include "fs/bcache.h"
#include "fresco/queue.h"
#include "lib/ext2.h"

#define HASH_SIZE 512 /* buckets: one page of pointers */

struct buf {
	struct buf *hnext;	 /* hash chain */
	struct buf *prev, *next; /* LRU list, most recent first */
	struct buf *wnext;	 /* write-back order */
	uint32_t blk;
	int dirty;
	uint8_t *data;
};

struct bcache {
	struct blkdev *dev;
	uint32_t bs, spb; /* block size, sectors per block */
	uint32_t cap, count, ndirty;
	struct buf *head, *tail;
	struct buf **hash;
};

struct bcache *bcache_new(struct blkdev *dev, uint32_t block_size,
			  uint32_t capacity)
{
	struct bcache *c = kmalloc(sizeof(*c));
	uint64_t pa = phys_alloc();
	if (!c || !pa || block_size > PAGE_SIZE || block_size % BLK_SECTOR) {
		if (c)
			kfree(c, sizeof(*c));
		if (pa)
			phys_free(pa);
		return NULL;
	}
	c->dev = dev;
	c->bs = block_size;
	c->spb = block_size / BLK_SECTOR;
	c->cap = capacity < 4 * EXT2_IO_PINNED ? 4 * EXT2_IO_PINNED : capacity;
	c->hash = phys_to_virt(pa);
	return c;
}

uint32_t bcache_capacity(const struct bcache *c)
{
	return c->cap;
}

static struct buf **bucket(struct bcache *c, uint32_t blk)
{
	return &c->hash[(blk * 2654435761u) >> 23];
}

static struct buf *find(struct bcache *c, uint32_t blk)
{
	for (struct buf *b = *bucket(c, blk); b; b = b->hnext)
		if (b->blk == blk)
			return b;
	return NULL;
}

static void lru_unlink(struct bcache *c, struct buf *b)
{
	DLIST_UNLINK(c->head, c->tail, b, next, prev);
}

static void lru_front(struct bcache *c, struct buf *b)
{
	DLIST_PREPEND(c->head, c->tail, b, next, prev);
}

static void hash_remove(struct bcache *c, struct buf *b)
{
	for (struct buf **pp = bucket(c, b->blk); *pp; pp = &(*pp)->hnext)
		if (*pp == b) {
			*pp = b->hnext;
			return;
		}
}

static void drop(struct bcache *c, struct buf *b)
{
	hash_remove(c, b);
	lru_unlink(c, b);
	if (b->dirty)
		c->ndirty--;
	phys_free(virt_to_phys(b->data));
	kfree(b, sizeof(*b));
	c->count--;
}

/* Sort the write-back list by block number: a stable radix sort on
 * bytes, so no array is needed however many blocks are dirty. */
static struct buf *sort(struct buf *list)
{
	static struct buf *heads[256], *tails[256];
	for (int shift = 0; shift < 32; shift += 8) {
		memset(heads, 0, sizeof(heads));
		memset(tails, 0, sizeof(tails));
		for (struct buf *b = list, *n; b; b = n) {
			n = b->wnext;
			unsigned k = (b->blk >> shift) & 0xff;
			b->wnext = NULL;
			if (tails[k])
				tails[k]->wnext = b;
			else
				heads[k] = b;
			tails[k] = b;
		}
		struct buf **pp = &list;
		for (int k = 0; k < 256; k++) {
			if (!heads[k])
				continue;
			*pp = heads[k];
			pp = &tails[k]->wnext;
		}
		*pp = NULL;
	}
	return list;
}

int bcache_sync(struct bcache *c, int flush)
{
	static struct vseg segs[VIRTIO_QUEUE_SEGS];
	struct buf *list = NULL;
	int err = 0;

	if (c->ndirty) {
		for (struct buf *b = c->head; b; b = b->next)
			if (b->dirty) {
				b->wnext = list;
				list = b;
			}
		list = sort(list);
	}
	while (list) {
		/* a run of consecutive blocks, as long as one request takes */
		struct buf *first = list, *b = list;
		unsigned n = 0;
		for (; b && n < c->dev->seg_max && b->blk == first->blk + n;
		     b = b->wnext)
			segs[n++] =
				(struct vseg){virt_to_phys(b->data), c->bs, 0};
		int r = blk_rw(c->dev, 1, (uint64_t)first->blk * c->spb, segs,
			       n);
		for (struct buf *d = first; d != b; d = d->wnext)
			if (r == 0) {
				d->dirty = 0;
				c->ndirty--;
			}
		if (r < 0)
			err = r;
		list = b;
	}
	if (!err && flush)
		err = blk_flush(c->dev);
	return err;
}

/* A buffer for (blk), not yet read: a new one, or the least recently
 * used (written back first if dirty). NULL if nothing can be freed. */
static struct buf *take(struct bcache *c, uint32_t blk)
{
	struct buf *b = NULL;
	if (c->count < c->cap) {
		uint64_t pa = phys_alloc();
		if (pa && (b = kmalloc(sizeof(*b)))) {
			b->data = phys_to_virt(pa);
			c->count++;
		} else if (pa) {
			phys_free(pa);
		}
	}
	if (!b) {
		b = c->tail;
		if (!b)
			return NULL;
		if (b->dirty && bcache_sync(c, 0) < 0)
			return NULL;
		hash_remove(c, b);
		lru_unlink(c, b);
	}
	b->blk = blk;
	b->dirty = 0;
	b->hnext = *bucket(c, blk);
	*bucket(c, blk) = b;
	lru_front(c, b);
	return b;
}

uint8_t *bcache_peek(struct bcache *c, uint32_t blk)
{
	struct buf *b = find(c, blk);
	return b ? b->data : NULL;
}

uint8_t *bcache_get(struct bcache *c, uint32_t blk)
{
	struct buf *b = find(c, blk);
	if (b) {
		if (b != c->head) {
			lru_unlink(c, b);
			lru_front(c, b);
		}
		return b->data;
	}
	if (!(b = take(c, blk)))
		return NULL;
	struct vseg s = {virt_to_phys(b->data), c->bs, 0};
	if (blk_rw(c->dev, 0, (uint64_t)blk * c->spb, &s, 1) < 0) {
		drop(c, b);
		return NULL;
	}
	return b->data;
}

uint8_t *bcache_get_new(struct bcache *c, uint32_t blk)
{
	uint8_t *p = bcache_peek(c, blk);
	if (p) {
		bcache_get(c, blk); /* to the front */
	} else {
		struct buf *b = take(c, blk);
		if (!b)
			return NULL;
		p = b->data;
	}
	memset(p, 0, c->bs);
	return p;
}

void bcache_dirty(struct bcache *c, uint32_t blk)
{
	struct buf *b = find(c, blk);
	if (!b || b->dirty)
		return;
	b->dirty = 1;
	c->ndirty++;
	if (c->ndirty > c->cap / 3)
		bcache_sync(c, 0); /* errors show at the next sync */
}

void bcache_forget(struct bcache *c, uint32_t blk)
{
	struct buf *b = find(c, blk);
	if (b)
		drop(c, b);
}

int bcache_readahead(struct bcache *c, uint32_t blk, uint32_t n)
{
	static struct vseg segs[VIRTIO_QUEUE_SEGS];
	static struct buf *bufs[VIRTIO_QUEUE_SEGS];

	if (n > c->cap / 4)
		n = c->cap / 4;
	for (uint32_t i = 0; i < n;) {
		if (find(c, blk + i)) {
			i++;
			continue;
		}
		uint32_t start = blk + i;
		unsigned k = 0;
		while (i < n && k < c->dev->seg_max && !find(c, blk + i)) {
			struct buf *b = take(c, blk + i);
			if (!b)
				break;
			bufs[k] = b;
			segs[k++] =
				(struct vseg){virt_to_phys(b->data), c->bs, 0};
			i++;
		}
		if (k == 0)
			return -EIO;
		if (blk_rw(c->dev, 0, (uint64_t)start * c->spb, segs, k) < 0) {
			for (unsigned j = 0; j < k; j++)
				drop(c, bufs[j]);
			return -EIO;
		}
	}
	return 0;
}
