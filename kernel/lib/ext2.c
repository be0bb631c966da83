/* ext2.c: ext2 revision 1 on disk (see ext2.h). Layout follows the ext2
 * documentation in e2fsprogs and Linux (Documentation/filesystems/ext2.rst).
 */
#include "lib/ext2.h"
#include <linux/errno.h>
#include <string.h>

#define SB_OFFSET 1024
#define MAGIC 0xef53
#define STATE_VALID 1

/* superblock fields, by byte offset */
#define SB_INODES_COUNT 0
#define SB_BLOCKS_COUNT 4
#define SB_FREE_BLOCKS 12
#define SB_FREE_INODES 16
#define SB_FIRST_DATA_BLOCK 20
#define SB_LOG_BLOCK_SIZE 24
#define SB_BLOCKS_PER_GROUP 32
#define SB_INODES_PER_GROUP 40
#define SB_MTIME 44
#define SB_WTIME 48
#define SB_MNT_COUNT 52
#define SB_MAGIC 56
#define SB_STATE 58
#define SB_REV_LEVEL 76
#define SB_FIRST_INO 84
#define SB_INODE_SIZE 88
#define SB_FEATURE_COMPAT 92
#define SB_FEATURE_INCOMPAT 96
#define SB_FEATURE_RO_COMPAT 100

#define INCOMPAT_FILETYPE 0x2
#define RO_COMPAT_SPARSE_SUPER 0x1
#define RO_COMPAT_LARGE_FILE 0x2
#define RO_COMPAT_BTREE_DIR 0x4

/* group descriptor fields */
#define GD_SIZE 32
#define GD_BLOCK_BITMAP 0
#define GD_INODE_BITMAP 4
#define GD_INODE_TABLE 8
#define GD_FREE_BLOCKS 12
#define GD_FREE_INODES 14
#define GD_USED_DIRS 16

#define INDEX_FL 0x1000 /* hashed directory (htree): we keep it linear */

#define S_IFMT 0170000
#define S_IFDIR 0040000
#define S_IFREG 0100000
#define S_IFLNK 0120000
#define S_IFCHR 0020000
#define S_IFBLK 0060000
#define S_IFIFO 0010000
#define S_IFSOCK 0140000

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

/* ---- superblock and group descriptors ---- */

static uint8_t *sb(struct ext2_fs *fs)
{
	uint8_t *b = fs->io.get(fs->io.ctx, fs->sb_block);
	return b ? b + fs->sb_off : NULL;
}

static void sb_dirty(struct ext2_fs *fs)
{
	fs->io.dirty(fs->io.ctx, fs->sb_block);
}

/* The descriptor of group (g) and the block holding it. */
static uint8_t *gd(struct ext2_fs *fs, uint32_t g, uint32_t *blk)
{
	uint32_t per = fs->block_size / GD_SIZE;
	*blk = fs->gdt_block + g / per;
	uint8_t *b = fs->io.get(fs->io.ctx, *blk);
	return b ? b + (g % per) * GD_SIZE : NULL;
}

static void add_count16(uint8_t *p, int delta)
{
	put16(p, (uint16_t)(get16(p) + delta));
}

static void add_count32(uint8_t *p, int delta)
{
	put32(p, (uint32_t)(get32(p) + (uint32_t)delta));
}

/* Adjust free counts of group (g) and the superblock. */
static int count(struct ext2_fs *fs, uint32_t g, unsigned gd_field,
		 unsigned sb_field, int delta)
{
	uint32_t blk;
	uint8_t *d = gd(fs, g, &blk);
	if (!d)
		return -EIO;
	add_count16(d + gd_field, delta);
	fs->io.dirty(fs->io.ctx, blk);
	if (sb_field) {
		uint8_t *s = sb(fs);
		if (!s)
			return -EIO;
		add_count32(s + sb_field, delta);
		sb_dirty(fs);
	}
	return 0;
}

uint32_t ext2_block_size(const uint8_t *s, const char **why)
{
	if (get16(s + SB_MAGIC) != MAGIC) {
		*why = "not an ext2 file system (make one with `fresco volume "
		       "create`, or mke2fs -t ext2)";
		return 0;
	}
	uint32_t log = get32(s + SB_LOG_BLOCK_SIZE);
	if (log > 2) {
		*why = "its block size is over 4 KiB; make it with mke2fs -b "
		       "4096";
		return 0;
	}
	return 1024u << log;
}

int ext2_mount(struct ext2_fs *fs, const struct ext2_io *io,
	       uint32_t block_size, int readonly, uint32_t now,
	       const char **why)
{
	uint8_t *s;

	memset(fs, 0, sizeof(*fs));
	fs->io = *io;
	fs->readonly = readonly;
	fs->block_size = block_size;
	fs->ptrs = block_size / 4;
	fs->sb_block = block_size == 1024 ? 1 : 0;
	fs->sb_off = block_size == 1024 ? 0 : SB_OFFSET;
	if (!(s = sb(fs))) {
		*why = "the volume cannot be read";
		return -EIO;
	}
	if (ext2_block_size(s, why) != block_size)
		return -EINVAL;
	fs->blocks_count = get32(s + SB_BLOCKS_COUNT);
	fs->inodes_count = get32(s + SB_INODES_COUNT);
	fs->first_data_block = get32(s + SB_FIRST_DATA_BLOCK);
	fs->blocks_per_group = get32(s + SB_BLOCKS_PER_GROUP);
	fs->inodes_per_group = get32(s + SB_INODES_PER_GROUP);
	fs->incompat = get32(s + SB_FEATURE_INCOMPAT);
	fs->ro_compat = get32(s + SB_FEATURE_RO_COMPAT);
	if (get32(s + SB_REV_LEVEL) == 0) {
		fs->inode_size = 128;
		fs->first_ino = 11;
	} else {
		fs->inode_size = get16(s + SB_INODE_SIZE);
		fs->first_ino = get32(s + SB_FIRST_INO);
	}
	if (!fs->blocks_per_group || !fs->inodes_per_group ||
	    fs->blocks_per_group > 8 * fs->block_size ||
	    fs->inodes_per_group > 8 * fs->block_size || fs->inode_size < 128 ||
	    fs->inode_size > fs->block_size ||
	    (fs->inode_size & (fs->inode_size - 1)) ||
	    fs->first_data_block >= fs->blocks_count ||
	    fs->first_ino <= EXT2_ROOT_INO) {
		*why = "its superblock is corrupt; run e2fsck on it";
		return -EUCLEAN;
	}
	fs->groups = (fs->blocks_count - fs->first_data_block +
		      fs->blocks_per_group - 1) /
		     fs->blocks_per_group;
	if ((uint64_t)fs->groups * fs->inodes_per_group < fs->inodes_count) {
		*why = "its superblock is corrupt; run e2fsck on it";
		return -EUCLEAN;
	}
	fs->gdt_block = fs->first_data_block + 1;
	if (fs->incompat & ~(uint32_t)INCOMPAT_FILETYPE) {
		*why = "it uses ext3/ext4 features this kernel does not "
		       "read (journal recovery, extents, 64bit, flex_bg, ...); "
		       "make it with mke2fs -t ext2";
		return -EINVAL;
	}
	if (!readonly && (fs->ro_compat & ~(uint32_t)(RO_COMPAT_SPARSE_SUPER |
						      RO_COMPAT_LARGE_FILE |
						      RO_COMPAT_BTREE_DIR))) {
		*why = "it uses ext4 features this kernel can read but not "
		       "write; attach it read-only (:ro) or make it with "
		       "mke2fs -t ext2";
		return -EROFS;
	}
	fs->was_clean = get16(s + SB_STATE) & STATE_VALID;
	*why = NULL;
	if (!readonly) {
		put16(s + SB_STATE,
		      (uint16_t)(get16(s + SB_STATE) & ~STATE_VALID));
		add_count16(s + SB_MNT_COUNT, 1);
		put32(s + SB_MTIME, now);
		put32(s + SB_WTIME, now);
		sb_dirty(fs);
	}
	return 0;
}

int ext2_unmount(struct ext2_fs *fs, uint32_t now)
{
	if (fs->readonly)
		return 0;
	uint8_t *s = sb(fs);
	if (!s)
		return -EIO;
	put16(s + SB_STATE, (uint16_t)(get16(s + SB_STATE) | STATE_VALID));
	put32(s + SB_WTIME, now);
	sb_dirty(fs);
	return 0;
}

void ext2_counts(struct ext2_fs *fs, uint64_t *free_blocks,
		 uint64_t *free_inodes)
{
	uint8_t *s = sb(fs);
	*free_blocks = s ? get32(s + SB_FREE_BLOCKS) : 0;
	*free_inodes = s ? get32(s + SB_FREE_INODES) : 0;
}

/* ---- inodes ---- */

static uint8_t *inode_at(struct ext2_fs *fs, uint32_t ino, uint32_t *blk)
{
	if (ino == 0 || ino > fs->inodes_count)
		return NULL;
	uint32_t g = (ino - 1) / fs->inodes_per_group;
	uint32_t idx = (ino - 1) % fs->inodes_per_group;
	uint32_t gblk;
	uint8_t *d = gd(fs, g, &gblk);
	if (!d)
		return NULL;
	uint64_t off = (uint64_t)idx * fs->inode_size;
	uint64_t b = get32(d + GD_INODE_TABLE) + off / fs->block_size;
	if (b >= fs->blocks_count)
		return NULL;
	*blk = (uint32_t)b;
	uint8_t *p = fs->io.get(fs->io.ctx, *blk);
	return p ? p + off % fs->block_size : NULL;
}

int ext2_iread(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *out)
{
	uint32_t blk;
	uint8_t *p = inode_at(fs, ino, &blk);
	if (!p)
		return ino && ino <= fs->inodes_count ? -EIO : -EUCLEAN;
	memcpy(out, p, sizeof(*out));
	return 0;
}

int ext2_iwrite(struct ext2_fs *fs, uint32_t ino, const struct ext2_inode *in)
{
	uint32_t blk;
	if (fs->readonly)
		return -EROFS;
	uint8_t *p = inode_at(fs, ino, &blk);
	if (!p)
		return -EIO;
	if (memcmp(p, in, sizeof(*in)) != 0) {
		memcpy(p, in, sizeof(*in));
		fs->io.dirty(fs->io.ctx, blk);
	}
	return 0;
}

uint64_t ext2_isize(const struct ext2_inode *i)
{
	uint64_t s = i->size;
	if ((i->mode & S_IFMT) == S_IFREG)
		s |= (uint64_t)i->size_high << 32;
	return s;
}

void ext2_set_isize(struct ext2_fs *fs, struct ext2_inode *i, uint64_t size)
{
	i->size = (uint32_t)size;
	if ((i->mode & S_IFMT) == S_IFREG)
		i->size_high = (uint32_t)(size >> 32);
	if (size >= (1ULL << 31) && !(fs->ro_compat & RO_COMPAT_LARGE_FILE)) {
		uint8_t *s = sb(fs);
		if (s) {
			fs->ro_compat |= RO_COMPAT_LARGE_FILE;
			put32(s + SB_FEATURE_RO_COMPAT, fs->ro_compat);
			sb_dirty(fs);
		}
	}
}

uint64_t ext2_max_size(const struct ext2_fs *fs)
{
	uint64_t p = fs->ptrs;
	uint64_t blocks = EXT2_NDIR + p + p * p + p * p * p;
	/* i_blocks counts 512-byte units in 32 bits */
	uint64_t by_iblocks =
		(0xffffffffULL / (fs->block_size / 512)) - (blocks / p + 3);
	if (blocks > by_iblocks)
		blocks = by_iblocks;
	return blocks * fs->block_size;
}

/* Find a zero bit in bitmap block (bm) from (start), below (limit). */
static long find_zero(const uint8_t *bm, uint32_t start, uint32_t limit)
{
	for (uint32_t b = start; b < limit;) {
		if ((b & 7) == 0 && b + 8 <= limit && bm[b >> 3] == 0xff) {
			b += 8;
			continue;
		}
		if (!(bm[b >> 3] & (1u << (b & 7))))
			return b;
		b++;
	}
	return -1;
}

long ext2_ialloc(struct ext2_fs *fs, uint32_t dir_ino, uint16_t mode)
{
	int is_dir = (mode & S_IFMT) == S_IFDIR;
	uint32_t start = dir_ino ? (dir_ino - 1) / fs->inodes_per_group : 0;

	if (fs->readonly)
		return -EROFS;
	if (is_dir) {
		/* spread directories: the group with the most free inodes */
		uint32_t best = start, most = 0;
		for (uint32_t g = 0; g < fs->groups; g++) {
			uint32_t blk;
			uint8_t *d = gd(fs, g, &blk);
			if (!d)
				return -EIO;
			if (get16(d + GD_FREE_INODES) > most) {
				most = get16(d + GD_FREE_INODES);
				best = g;
			}
		}
		start = best;
	}
	for (uint32_t n = 0; n < fs->groups; n++) {
		uint32_t g = (start + n) % fs->groups, blk;
		uint8_t *d = gd(fs, g, &blk);
		if (!d)
			return -EIO;
		if (get16(d + GD_FREE_INODES) == 0)
			continue;
		uint32_t bmblk = get32(d + GD_INODE_BITMAP);
		uint8_t *bm = fs->io.get(fs->io.ctx, bmblk);
		if (!bm)
			return -EIO;
		uint64_t base = (uint64_t)g * fs->inodes_per_group;
		if (base >= fs->inodes_count)
			continue; /* a group past the last inode */
		uint32_t limit = fs->inodes_per_group;
		if (base + limit > fs->inodes_count)
			limit = (uint32_t)(fs->inodes_count - base);
		uint32_t from = g == 0 ? fs->first_ino - 1 : 0;
		long bit = find_zero(bm, from, limit);
		if (bit < 0)
			continue;
		bm[bit >> 3] |= (uint8_t)(1u << (bit & 7));
		fs->io.dirty(fs->io.ctx, bmblk);
		if (count(fs, g, GD_FREE_INODES, SB_FREE_INODES, -1) < 0)
			return -EIO;
		if (is_dir)
			ext2_count_dir(fs, g * fs->inodes_per_group + 1, 1);
		return (long)(g * fs->inodes_per_group + (uint32_t)bit + 1);
	}
	return -ENOSPC;
}

void ext2_count_dir(struct ext2_fs *fs, uint32_t ino, int delta)
{
	count(fs, (ino - 1) / fs->inodes_per_group, GD_USED_DIRS, 0, delta);
}

static int ifree(struct ext2_fs *fs, uint32_t ino)
{
	uint32_t g = (ino - 1) / fs->inodes_per_group, blk;
	uint32_t bit = (ino - 1) % fs->inodes_per_group;
	uint8_t *d = gd(fs, g, &blk);
	if (!d)
		return -EIO;
	uint32_t bmblk = get32(d + GD_INODE_BITMAP);
	uint8_t *bm = fs->io.get(fs->io.ctx, bmblk);
	if (!bm)
		return -EIO;
	if (!(bm[bit >> 3] & (1u << (bit & 7))))
		return -EUCLEAN; /* already free */
	bm[bit >> 3] &= (uint8_t) ~(1u << (bit & 7));
	fs->io.dirty(fs->io.ctx, bmblk);
	return count(fs, g, GD_FREE_INODES, SB_FREE_INODES, 1);
}

/* ---- blocks ---- */

static long balloc(struct ext2_fs *fs, uint32_t goal)
{
	if (goal < fs->first_data_block || goal >= fs->blocks_count)
		goal = fs->first_data_block;
	uint32_t g0 = (goal - fs->first_data_block) / fs->blocks_per_group;
	uint32_t bit0 = (goal - fs->first_data_block) % fs->blocks_per_group;

	for (uint32_t n = 0; n <= fs->groups; n++) {
		uint32_t g = (g0 + n) % fs->groups, blk;
		uint8_t *d = gd(fs, g, &blk);
		if (!d)
			return -EIO;
		if (get16(d + GD_FREE_BLOCKS) == 0)
			continue;
		uint32_t bmblk = get32(d + GD_BLOCK_BITMAP);
		uint8_t *bm = fs->io.get(fs->io.ctx, bmblk);
		if (!bm)
			return -EIO;
		uint32_t base = fs->first_data_block + g * fs->blocks_per_group;
		uint32_t limit = fs->blocks_per_group;
		if (base + limit > fs->blocks_count)
			limit = fs->blocks_count - base;
		long bit = find_zero(bm, n == 0 ? bit0 : 0, limit);
		if (bit < 0 && n == 0)
			bit = find_zero(bm, 0, limit);
		if (bit < 0)
			continue;
		bm[bit >> 3] |= (uint8_t)(1u << (bit & 7));
		fs->io.dirty(fs->io.ctx, bmblk);
		if (count(fs, g, GD_FREE_BLOCKS, SB_FREE_BLOCKS, -1) < 0)
			return -EIO;
		return (long)(base + (uint32_t)bit);
	}
	return -ENOSPC;
}

static int bfree(struct ext2_fs *fs, uint32_t b)
{
	if (b < fs->first_data_block || b >= fs->blocks_count)
		return -EUCLEAN;
	uint32_t g = (b - fs->first_data_block) / fs->blocks_per_group;
	uint32_t bit = (b - fs->first_data_block) % fs->blocks_per_group, blk;
	uint8_t *d = gd(fs, g, &blk);
	if (!d)
		return -EIO;
	uint32_t bmblk = get32(d + GD_BLOCK_BITMAP);
	uint8_t *bm = fs->io.get(fs->io.ctx, bmblk);
	if (!bm)
		return -EIO;
	if (!(bm[bit >> 3] & (1u << (bit & 7))))
		return -EUCLEAN;
	bm[bit >> 3] &= (uint8_t) ~(1u << (bit & 7));
	fs->io.dirty(fs->io.ctx, bmblk);
	if (fs->io.forget)
		fs->io.forget(fs->io.ctx, b);
	return count(fs, g, GD_FREE_BLOCKS, SB_FREE_BLOCKS, 1);
}

/* A new block for metadata (an indirect block or directory block): zeroed
 * in the cache. */
static long balloc_zeroed(struct ext2_fs *fs, struct ext2_inode *i,
			  uint32_t goal)
{
	long b = balloc(fs, goal);
	if (b < 0)
		return b;
	uint8_t *p = fs->io.get_new(fs->io.ctx, (uint32_t)b);
	if (!p) {
		bfree(fs, (uint32_t)b);
		return -EIO;
	}
	fs->io.dirty(fs->io.ctx, (uint32_t)b);
	i->blocks += fs->block_size / 512;
	return b;
}

/* The path to file block (fb): depth 0 (direct) to 3, offsets per level. */
static int block_path(const struct ext2_fs *fs, uint64_t fb, uint32_t off[4])
{
	uint64_t p = fs->ptrs;
	if (fb < EXT2_NDIR) {
		off[0] = (uint32_t)fb;
		return 0;
	}
	fb -= EXT2_NDIR;
	if (fb < p) {
		off[0] = EXT2_NDIR;
		off[1] = (uint32_t)fb;
		return 1;
	}
	fb -= p;
	if (fb < p * p) {
		off[0] = EXT2_NDIR + 1;
		off[1] = (uint32_t)(fb / p);
		off[2] = (uint32_t)(fb % p);
		return 2;
	}
	fb -= p * p;
	if (fb < p * p * p) {
		off[0] = EXT2_NDIR + 2;
		off[1] = (uint32_t)(fb / (p * p));
		off[2] = (uint32_t)(fb / p % p);
		off[3] = (uint32_t)(fb % p);
		return 3;
	}
	return -1;
}

long ext2_bmap(struct ext2_fs *fs, struct ext2_inode *i, uint64_t fblock,
	       int alloc, uint32_t goal, int *fresh)
{
	uint32_t off[4];
	int depth = block_path(fs, fblock, off);

	if (fresh)
		*fresh = 0;
	if (depth < 0)
		return -EFBIG;
	if (alloc && fs->readonly)
		return -EROFS;
	uint32_t b = i->block[off[0]];
	uint32_t parent = 0; /* the indirect block holding the pointer */
	for (int level = 0;; level++) {
		if (b == 0) {
			if (!alloc)
				return 0;
			long nb = level < depth ? balloc_zeroed(fs, i, goal)
						: balloc(fs, goal);
			if (nb < 0)
				return nb;
			if (level == depth) {
				i->blocks += fs->block_size / 512;
				if (fresh)
					*fresh = 1;
			}
			b = (uint32_t)nb;
			if (level == 0) {
				i->block[off[0]] = b;
			} else {
				uint8_t *p = fs->io.get(fs->io.ctx, parent);
				if (!p)
					return -EIO;
				put32(p + 4 * off[level], b);
				fs->io.dirty(fs->io.ctx, parent);
			}
		}
		if (b >= fs->blocks_count)
			return -EUCLEAN;
		if (level == depth)
			return b;
		uint8_t *p = fs->io.get(fs->io.ctx, b);
		if (!p)
			return -EIO;
		parent = b;
		b = get32(p + 4 * off[level + 1]);
	}
}

/* The pointers that map file block (fb) on: the inode's direct ones, or
 * the indirect block holding its pointer (then (*blk) is set). Returns a
 * pointer to (fb)'s slot and (*left), how many slots follow in that
 * array including it; NULL where no indirect block is mapped. */
static const uint8_t *slots(struct ext2_fs *fs, struct ext2_inode *i,
			    uint64_t fb, uint32_t *left)
{
	uint32_t off[4];
	int depth = block_path(fs, fb, off);
	if (depth < 0)
		return NULL;
	if (depth == 0) {
		*left = EXT2_NDIR - off[0];
		return (const uint8_t *)&i->block[off[0]];
	}
	uint32_t b = i->block[off[0]];
	for (int level = 1;; level++) {
		if (b == 0 || b >= fs->blocks_count)
			return NULL;
		const uint8_t *p = fs->io.get(fs->io.ctx, b);
		if (!p)
			return NULL;
		if (level == depth) {
			*left = fs->ptrs - off[level];
			return p + 4 * off[level];
		}
		b = get32(p + 4 * off[level]);
	}
}

uint32_t ext2_extent(struct ext2_fs *fs, struct ext2_inode *i, uint64_t fblock,
		     uint32_t max)
{
	uint32_t n = 0, first = 0, left = 0;
	const uint8_t *p = NULL;

	/* read the pointers straight from each array, not block by block */
	while (n < max) {
		if (left == 0 && !(p = slots(fs, i, fblock + n, &left))) {
			/* no indirect block there: a hole all along it */
			if (n > 0 && first != 0)
				break;
			n++;
			continue;
		}
		uint32_t b = get32(p);
		if (n == 0)
			first = b;
		else if (first == 0 ? b != 0 : b != first + n)
			break;
		p += 4;
		left--;
		n++;
	}
	return n ? n : 1;
}

/* Free what (*slot) points to at (level) levels above data, keeping the
 * first (keep) file blocks of its (span) (all of them: nothing freed).
 * Clears (*slot) if the whole subtree went. */
static int trunc_tree(struct ext2_fs *fs, struct ext2_inode *i, uint32_t *slot,
		      int level, uint64_t keep, uint64_t span)
{
	uint32_t b = *slot;
	if (b == 0 || keep >= span)
		return 0;
	if (b >= fs->blocks_count)
		return -EUCLEAN;
	if (level > 0) {
		uint64_t sub = span / fs->ptrs;
		for (uint32_t k = 0; k < fs->ptrs; k++) {
			uint64_t start = k * sub;
			if (start + sub <= keep)
				continue;
			uint8_t *p = fs->io.get(fs->io.ctx, b);
			if (!p)
				return -EIO;
			uint32_t child = get32(p + 4 * k);
			if (!child)
				continue;
			int r = trunc_tree(fs, i, &child, level - 1,
					   keep > start ? keep - start : 0,
					   sub);
			if (r < 0)
				return r;
			if ((p = fs->io.get(fs->io.ctx, b)) == NULL)
				return -EIO;
			if (get32(p + 4 * k) != child) {
				put32(p + 4 * k, child);
				fs->io.dirty(fs->io.ctx, b);
			}
		}
		if (keep > 0)
			return 0;
	}
	int r = bfree(fs, b);
	if (r < 0)
		return r;
	i->blocks -= fs->block_size / 512;
	*slot = 0;
	return 0;
}

int ext2_truncate(struct ext2_fs *fs, struct ext2_inode *i, uint64_t size)
{
	uint64_t old = ext2_isize(i), bs = fs->block_size, p = fs->ptrs;

	if (fs->readonly)
		return -EROFS;
	if (size > ext2_max_size(fs))
		return -EFBIG;
	if (size < old) {
		uint64_t keep = (size + bs - 1) / bs;
		/* zero the tail of the last kept block */
		if (size % bs) {
			long b = ext2_bmap(fs, i, size / bs, 0, 0, NULL);
			if (b < 0)
				return (int)b;
			if (b > 0) {
				uint8_t *d =
					fs->io.get(fs->io.ctx, (uint32_t)b);
				if (!d)
					return -EIO;
				memset(d + size % bs, 0, bs - size % bs);
				fs->io.dirty(fs->io.ctx, (uint32_t)b);
			}
		}
		for (uint32_t k = 0; k < EXT2_NDIR; k++) {
			int r = trunc_tree(fs, i, &i->block[k], 0,
					   keep > k ? 1 : 0, 1);
			if (r < 0)
				return r;
		}
		uint64_t base = EXT2_NDIR, span = p;
		for (int level = 1; level <= 3; level++) {
			int r = trunc_tree(
				fs, i, &i->block[EXT2_NDIR + level - 1], level,
				keep > base ? keep - base : 0, span);
			if (r < 0)
				return r;
			base += span;
			span *= p;
		}
	}
	ext2_set_isize(fs, i, size);
	return 0;
}

#define XATTR_MAGIC 0xea020000u

/* Drop (i)'s reference to its extended attribute block, freeing the block
 * with its last reference. */
static int xattr_release(struct ext2_fs *fs, struct ext2_inode *i)
{
	uint32_t b = i->file_acl;
	if (b == 0)
		return 0;
	if (b < fs->first_data_block || b >= fs->blocks_count)
		return -EUCLEAN;
	uint8_t *p = fs->io.get(fs->io.ctx, b);
	if (!p)
		return -EIO;
	if (get32(p) != XATTR_MAGIC || get32(p + 4) == 0)
		return -EUCLEAN;
	uint32_t refs = get32(p + 4) - 1;
	put32(p + 4, refs);
	fs->io.dirty(fs->io.ctx, b);
	i->file_acl = 0;
	i->blocks -= fs->block_size / 512;
	return refs ? 0 : bfree(fs, b);
}

int ext2_idelete(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *i,
		 uint32_t now)
{
	uint16_t type = i->mode & S_IFMT;
	uint32_t acl_blocks = i->file_acl ? fs->block_size / 512 : 0;
	int fast_link = type == S_IFLNK && i->blocks == acl_blocks;
	int r = 0;

	if (fs->readonly)
		return -EROFS;
	/* a fast symlink's or device's i_block holds no block numbers */
	if (type == S_IFREG || type == S_IFDIR ||
	    (type == S_IFLNK && !fast_link))
		r = ext2_truncate(fs, i, 0);
	if (r < 0 || (r = xattr_release(fs, i)) < 0)
		return r;
	i->links = 0;
	i->dtime = now;
	if ((r = ext2_iwrite(fs, ino, i)) < 0)
		return r;
	if (type == S_IFDIR)
		ext2_count_dir(fs, ino, -1);
	return ifree(fs, ino);
}

/* ---- directories ---- */

#define DIRENT_HDR 8
static uint32_t rec_size(size_t name_len)
{
	return (uint32_t)((DIRENT_HDR + name_len + 3) & ~3ULL);
}

static uint8_t type_of(uint16_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return 1;
	case S_IFDIR:
		return 2;
	case S_IFCHR:
		return 3;
	case S_IFBLK:
		return 4;
	case S_IFIFO:
		return 5;
	case S_IFSOCK:
		return 6;
	case S_IFLNK:
		return 7;
	}
	return 0;
}

/* Check the entry at (off) of a directory block: its length. */
static int entry_ok(const struct ext2_fs *fs, const uint8_t *blk, uint32_t off)
{
	if (off + DIRENT_HDR > fs->block_size)
		return 0;
	uint16_t rl = get16(blk + off + 4);
	uint8_t nl = blk[off + 6];
	return rl >= DIRENT_HDR && !(rl & 3) && off + rl <= fs->block_size &&
	       (get32(blk + off) == 0 || rec_size(nl) <= rl);
}

int ext2_dir_iterate(struct ext2_fs *fs, struct ext2_inode *dir, ext2_dir_fn fn,
		     void *ctx)
{
	uint64_t nblocks = ext2_isize(dir) / fs->block_size;
	char name[EXT2_NAME_MAX + 1];

	for (uint64_t fb = 0; fb < nblocks; fb++) {
		long b = ext2_bmap(fs, dir, fb, 0, 0, NULL);
		if (b < 0)
			return (int)b;
		if (b == 0)
			return -EUCLEAN; /* directories have no holes */
		for (uint32_t off = 0; off < fs->block_size;) {
			uint8_t *p = fs->io.get(fs->io.ctx, (uint32_t)b);
			if (!p)
				return -EIO;
			if (!entry_ok(fs, p, off))
				return -EUCLEAN;
			uint32_t ino = get32(p + off);
			uint16_t rl = get16(p + off + 4);
			uint8_t nl = p[off + 6], type = p[off + 7];
			if (ino) {
				if (ino > fs->inodes_count || nl == 0)
					return -EUCLEAN;
				memcpy(name, p + off + DIRENT_HDR, nl);
				name[nl] = '\0';
				int r = fn(ctx, name, nl, ino, type);
				if (r)
					return r;
			}
			off += rl;
		}
	}
	return 0;
}

/* Make directories linear: an htree index would go stale as we change
 * entries (the old ext2 driver in Linux does the same). */
static void drop_index(struct ext2_inode *dir)
{
	dir->flags &= ~(uint32_t)INDEX_FL;
}

int ext2_dir_add(struct ext2_fs *fs, struct ext2_inode *dir, const char *name,
		 size_t len, uint32_t ino, uint16_t mode)
{
	uint32_t need = rec_size(len);
	uint64_t nblocks = ext2_isize(dir) / fs->block_size;

	if (fs->readonly)
		return -EROFS;
	if (len == 0 || len > EXT2_NAME_MAX)
		return -ENAMETOOLONG;
	drop_index(dir);
	for (uint64_t fb = 0; fb <= nblocks; fb++) {
		long b;
		uint8_t *p;
		uint32_t off = 0, rl = 0;
		if (fb == nblocks) {
			/* a new block holding one empty entry */
			if (nblocks >= 0x100000)
				return -ENOSPC; /* a 4 GiB directory */
			uint32_t goal = 0;
			if (fb > 0) {
				long last =
					ext2_bmap(fs, dir, fb - 1, 0, 0, NULL);
				goal = last > 0 ? (uint32_t)last + 1 : 0;
			}
			int fresh;
			b = ext2_bmap(fs, dir, fb, 1, goal, &fresh);
			if (b < 0)
				return (int)b;
			if (!(p = fs->io.get_new(fs->io.ctx, (uint32_t)b)))
				return -EIO;
			put32(p, 0);
			put16(p + 4, (uint16_t)fs->block_size);
			ext2_set_isize(fs, dir, (fb + 1) * fs->block_size);
		} else {
			b = ext2_bmap(fs, dir, fb, 0, 0, NULL);
			if (b <= 0)
				return b < 0 ? (int)b : -EUCLEAN;
			if (!(p = fs->io.get(fs->io.ctx, (uint32_t)b)))
				return -EIO;
		}
		for (off = 0; off < fs->block_size; off += rl) {
			if (!entry_ok(fs, p, off))
				return -EUCLEAN;
			rl = get16(p + off + 4);
			uint32_t used =
				get32(p + off) ? rec_size(p[off + 6]) : 0;
			if (rl - used < need)
				continue;
			uint32_t at = off;
			if (used) {
				/* split: the existing entry keeps (used) */
				put16(p + off + 4, (uint16_t)used);
				at = off + used;
				put16(p + at + 4, (uint16_t)(rl - used));
			}
			put32(p + at, ino);
			p[at + 6] = (uint8_t)len;
			p[at + 7] = (fs->incompat & INCOMPAT_FILETYPE)
					    ? type_of(mode)
					    : 0;
			memcpy(p + at + DIRENT_HDR, name, len);
			fs->io.dirty(fs->io.ctx, (uint32_t)b);
			return 0;
		}
	}
	return -ENOSPC;
}

int ext2_dir_remove(struct ext2_fs *fs, struct ext2_inode *dir,
		    const char *name, size_t len)
{
	uint64_t nblocks = ext2_isize(dir) / fs->block_size;

	if (fs->readonly)
		return -EROFS;
	drop_index(dir);
	for (uint64_t fb = 0; fb < nblocks; fb++) {
		long b = ext2_bmap(fs, dir, fb, 0, 0, NULL);
		if (b <= 0)
			return b < 0 ? (int)b : -EUCLEAN;
		uint8_t *p = fs->io.get(fs->io.ctx, (uint32_t)b);
		if (!p)
			return -EIO;
		uint32_t prev = UINT32_MAX;
		for (uint32_t off = 0; off < fs->block_size;) {
			if (!entry_ok(fs, p, off))
				return -EUCLEAN;
			uint16_t rl = get16(p + off + 4);
			if (get32(p + off) && p[off + 6] == len &&
			    memcmp(p + off + DIRENT_HDR, name, len) == 0) {
				if (prev != UINT32_MAX)
					put16(p + prev + 4,
					      (uint16_t)(get16(p + prev + 4) +
							 rl));
				else
					put32(p + off, 0);
				fs->io.dirty(fs->io.ctx, (uint32_t)b);
				return 0;
			}
			prev = off;
			off += rl;
		}
	}
	return -ENOENT;
}

int ext2_dir_init(struct ext2_fs *fs, struct ext2_inode *dir, uint32_t ino,
		  uint32_t parent)
{
	int fresh;
	long b = ext2_bmap(fs, dir, 0, 1, 0, &fresh);
	if (b < 0)
		return (int)b;
	uint8_t *p = fs->io.get_new(fs->io.ctx, (uint32_t)b);
	if (!p)
		return -EIO;
	uint8_t dirtype = (fs->incompat & INCOMPAT_FILETYPE) ? 2 : 0;
	put32(p, ino);
	put16(p + 4, 12);
	p[6] = 1;
	p[7] = dirtype;
	p[8] = '.';
	put32(p + 12, parent);
	put16(p + 16, (uint16_t)(fs->block_size - 12));
	p[18] = 2;
	p[19] = dirtype;
	p[20] = p[21] = '.';
	fs->io.dirty(fs->io.ctx, (uint32_t)b);
	ext2_set_isize(fs, dir, fs->block_size);
	return 0;
}

int ext2_dir_set_parent(struct ext2_fs *fs, struct ext2_inode *dir,
			uint32_t parent)
{
	long b = ext2_bmap(fs, dir, 0, 0, 0, NULL);
	if (b <= 0)
		return b < 0 ? (int)b : -EUCLEAN;
	uint8_t *p = fs->io.get(fs->io.ctx, (uint32_t)b);
	if (!p)
		return -EIO;
	if (!entry_ok(fs, p, 0))
		return -EUCLEAN;
	uint32_t off = get16(p + 4);
	if (!entry_ok(fs, p, off) || p[off + 6] != 2 ||
	    memcmp(p + off + DIRENT_HDR, "..", 2) != 0)
		return -EUCLEAN;
	put32(p + off, parent);
	fs->io.dirty(fs->io.ctx, (uint32_t)b);
	return 0;
}

/* ---- symbolic links and devices ---- */

long ext2_readlink(struct ext2_fs *fs, struct ext2_inode *i, char *buf,
		   size_t cap)
{
	uint64_t len = ext2_isize(i);
	if (len >= cap || len > fs->block_size)
		return -EUCLEAN;
	uint32_t acl_blocks = i->file_acl ? fs->block_size / 512 : 0;
	if (i->blocks - acl_blocks == 0) {
		if (len > sizeof(i->block))
			return -EUCLEAN;
		memcpy(buf, i->block, len);
	} else {
		long b = ext2_bmap(fs, i, 0, 0, 0, NULL);
		if (b <= 0)
			return b < 0 ? b : -EUCLEAN;
		uint8_t *p = fs->io.get(fs->io.ctx, (uint32_t)b);
		if (!p)
			return -EIO;
		memcpy(buf, p, len);
	}
	buf[len] = '\0';
	return (long)len;
}

int ext2_set_link(struct ext2_fs *fs, struct ext2_inode *i, const char *target,
		  size_t len)
{
	if (len >= fs->block_size)
		return -ENAMETOOLONG;
	if (len <= EXT2_FAST_SYMLINK_MAX) {
		memset(i->block, 0, sizeof(i->block));
		memcpy(i->block, target, len);
	} else {
		int fresh;
		long b = ext2_bmap(fs, i, 0, 1, 0, &fresh);
		if (b < 0)
			return (int)b;
		uint8_t *p = fs->io.get_new(fs->io.ctx, (uint32_t)b);
		if (!p)
			return -EIO;
		memcpy(p, target, len);
		fs->io.dirty(fs->io.ctx, (uint32_t)b);
	}
	ext2_set_isize(fs, i, len);
	return 0;
}

uint32_t ext2_rdev(const struct ext2_inode *i)
{
	/* the old 16-bit encoding in i_block[0], else Linux's new one in
	 * i_block[1]; both read as the same number as a 32-bit dev_t */
	return i->block[0] ? i->block[0] : i->block[1];
}

void ext2_set_rdev(struct ext2_inode *i, uint32_t rdev)
{
	memset(i->block, 0, sizeof(i->block));
	if ((rdev >> 8) < 256 && (rdev & 0xfff000ff) == (rdev & 0xff))
		i->block[0] = rdev;
	else
		i->block[1] = rdev;
}
