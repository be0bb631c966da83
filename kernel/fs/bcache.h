/* bcache.h: a write-back cache of one block device's blocks.
 *
 * Each cached block has a page of its own. Blocks are found by hash and
 * evicted least recently used first; the EXT2_IO_PINNED most recently
 * used are never evicted, so pointers the ext2 code holds stay valid.
 * Dirty blocks are written back together, sorted by block number and
 * merged into requests of up to the device's segment limit, when a third
 * of the cache is dirty, when a dirty block must make room, and on sync.
 */
#ifndef FRESCO_FS_BCACHE_H
#define FRESCO_FS_BCACHE_H

#include "drivers/virtio.h"
#include "kernel.h"

struct bcache;

/* A cache of up to (capacity) blocks of (block_size) bytes (<= 4096). */
struct bcache *bcache_new(struct blkdev *dev, uint32_t block_size,
			  uint32_t capacity);

/* The cached block (blk), read if needed; NULL on an I/O error. */
uint8_t *bcache_get(struct bcache *c, uint32_t blk);
/* The block, zeroed and not read: the caller writes all of it. */
uint8_t *bcache_get_new(struct bcache *c, uint32_t blk);
/* Is (blk) cached? Then its data; else NULL (nothing is read). */
uint8_t *bcache_peek(struct bcache *c, uint32_t blk);
void bcache_dirty(struct bcache *c, uint32_t blk);
void bcache_forget(struct bcache *c, uint32_t blk);
/* Read blocks [blk, blk + n) that are not cached, in few requests. */
int bcache_readahead(struct bcache *c, uint32_t blk, uint32_t n);
/* Write every dirty block; with (flush) then make the device persist it.
 * 0 or -EIO (the blocks stay dirty). */
int bcache_sync(struct bcache *c, int flush);
uint32_t bcache_capacity(const struct bcache *c);

#endif
