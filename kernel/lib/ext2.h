/* ext2.h: the second extended file system (revision 1), as e2fsprogs makes
 * it: superblock, group descriptors, bitmaps, inodes, block maps with
 * indirect blocks, linear directories.
 *
 * Pure logic: blocks come from the caller's cache through struct ext2_io,
 * so the same code runs in the guest (over virtio-blk) and in host unit
 * tests (over an image file), where e2fsck judges what it wrote. A pointer
 * returned by io.get stays valid until EXT2_IO_PINNED further gets.
 *
 * Inodes are handled as copies (struct ext2_inode, the first 128 bytes of
 * the on-disk inode): the caller reads one with ext2_iread, changes it
 * through these functions and its own fields, and writes it back with
 * ext2_iwrite. Errors are negative errno values: -EIO for a block that
 * cannot be read, -EUCLEAN for a corrupt structure, -ENOSPC, -EROFS.
 */
#ifndef FRESCO_EXT2_H
#define FRESCO_EXT2_H

#include <stddef.h>
#include <stdint.h>

#define EXT2_IO_PINNED 8
#define EXT2_ROOT_INO 2
#define EXT2_NAME_MAX 255
#define EXT2_NDIR 12
#define EXT2_FAST_SYMLINK_MAX 59 /* a target this long fits in i_block */

struct ext2_io {
	void *ctx;
	uint8_t *(*get)(void *ctx, uint32_t blk);     /* read; NULL: -EIO */
	uint8_t *(*get_new)(void *ctx, uint32_t blk); /* zeroed, not read */
	void (*dirty)(void *ctx, uint32_t blk);
	void (*forget)(void *ctx, uint32_t blk); /* freed: drop it */
};

struct ext2_inode {
	uint16_t mode, uid;
	uint32_t size, atime, ctime, mtime, dtime;
	uint16_t gid, links;
	uint32_t blocks; /* 512-byte units, indirect blocks included */
	uint32_t flags, osd1;
	uint32_t block[15];
	uint32_t generation, file_acl, size_high, faddr;
	uint16_t blocks_hi, file_acl_hi, uid_high, gid_high;
	uint32_t reserved;
};

struct ext2_fs {
	struct ext2_io io;
	uint32_t block_size, ptrs; /* pointers per indirect block */
	uint32_t blocks_count, inodes_count, first_data_block;
	uint32_t blocks_per_group, inodes_per_group, groups;
	uint32_t inode_size, first_ino;
	uint32_t sb_block, sb_off; /* where the superblock lives */
	uint32_t gdt_block;
	uint32_t incompat, ro_compat;
	int readonly;
	int was_clean; /* the volume was cleanly unmounted before */
};

#define EXT2_SB_OFFSET 1024 /* bytes from the start of the volume */
#define EXT2_SB_SIZE 1024

/* The block size the superblock (sb, EXT2_SB_SIZE bytes) gives, or 0 with
 * (*why) if it is not an ext2 superblock this code reads. */
uint32_t ext2_block_size(const uint8_t *sb, const char **why);

/* Read the superblock through (io), whose blocks are (block_size) bytes,
 * and check the features. (*why) says what is wrong in words a person can
 * act on. A read-write mount marks the volume in use (not clean) until
 * ext2_unmount. */
int ext2_mount(struct ext2_fs *fs, const struct ext2_io *io,
	       uint32_t block_size, int readonly, uint32_t now,
	       const char **why);
/* Mark the volume clean again (read-write mounts); the caller then
 * writes its dirty blocks. */
int ext2_unmount(struct ext2_fs *fs, uint32_t now);

int ext2_iread(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *out);
int ext2_iwrite(struct ext2_fs *fs, uint32_t ino, const struct ext2_inode *in);

uint64_t ext2_isize(const struct ext2_inode *i);
void ext2_set_isize(struct ext2_fs *fs, struct ext2_inode *i, uint64_t size);
uint64_t ext2_max_size(const struct ext2_fs *fs);

/* A new inode near directory (dir_ino) for (mode); the caller fills it
 * and writes it. Returns the inode number or a negative errno. */
long ext2_ialloc(struct ext2_fs *fs, uint32_t dir_ino, uint16_t mode);
/* Release inode (ino) (i): its blocks, then the inode itself. */
int ext2_idelete(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *i,
		 uint32_t now);

/* The disk block of file block (fblock) of inode (i): 0 for a hole unless
 * (alloc), when one is allocated (near (goal), 0: anywhere) and (*fresh)
 * set: its contents are garbage and the caller must write all of it.
 * Returns the block or a negative errno. */
long ext2_bmap(struct ext2_fs *fs, struct ext2_inode *i, uint64_t fblock,
	       int alloc, uint32_t goal, int *fresh);
/* How many of the file blocks from (fblock) on, at most (max), are mapped
 * to consecutive disk blocks from the one ext2_bmap gave (0 for a hole:
 * how many hole blocks follow). For reading ahead in one request. */
uint32_t ext2_extent(struct ext2_fs *fs, struct ext2_inode *i, uint64_t fblock,
		     uint32_t max);
/* Cut (i) to (size) bytes: blocks past it are freed, the tail of the last
 * block zeroed. Growing only sets the size (a hole). */
int ext2_truncate(struct ext2_fs *fs, struct ext2_inode *i, uint64_t size);

/* Directory entries, in on-disk order. (fn) returns non-zero to stop,
 * which ext2_dir_iterate then returns. "." and ".." are included. */
typedef int (*ext2_dir_fn)(void *ctx, const char *name, size_t len,
			   uint32_t ino, unsigned type);
int ext2_dir_iterate(struct ext2_fs *fs, struct ext2_inode *dir, ext2_dir_fn fn,
		     void *ctx);
int ext2_dir_add(struct ext2_fs *fs, struct ext2_inode *dir, const char *name,
		 size_t len, uint32_t ino, uint16_t mode);
int ext2_dir_remove(struct ext2_fs *fs, struct ext2_inode *dir,
		    const char *name, size_t len);
/* Write "." and ".." into new directory (dir) (which is inode ino). */
int ext2_dir_init(struct ext2_fs *fs, struct ext2_inode *dir, uint32_t ino,
		  uint32_t parent);
/* Point ".." of (dir) at (parent) (rename of a directory). */
int ext2_dir_set_parent(struct ext2_fs *fs, struct ext2_inode *dir,
			uint32_t parent);
/* Directory (dirino) changed its link count: keep the group's count of
 * directories right when one is made (+1) or removed (-1). */
void ext2_count_dir(struct ext2_fs *fs, uint32_t ino, int delta);

/* Symbolic links: the target into (buf, cap) (returns its length), or
 * stored into new link (i). */
long ext2_readlink(struct ext2_fs *fs, struct ext2_inode *i, char *buf,
		   size_t cap);
int ext2_set_link(struct ext2_fs *fs, struct ext2_inode *i, const char *target,
		  size_t len);

/* Device numbers of character and block special files. */
uint32_t ext2_rdev(const struct ext2_inode *i);
void ext2_set_rdev(struct ext2_inode *i, uint32_t rdev);

/* Free blocks and inodes, for statfs. */
void ext2_counts(struct ext2_fs *fs, uint64_t *free_blocks,
		 uint64_t *free_inodes);

#endif
