/* fuzz_ext2.c: libFuzzer feeds the guest kernel's ext2 code arbitrary
 * volumes: a corrupt or hostile file system must give errors, never a
 * crash, a hang or an access outside its blocks.
 *
 * Input: a volume image (1 KiB blocks are the interesting case: small
 * images with every structure). The target mounts it, walks the tree a
 * few levels deep reading directories, inodes, block maps and links, then
 * changes it: a new file with data, a new directory, a truncate and a
 * removal, as the kernel would on such a volume.
 */
#include "../common/ext2_mem.h"

#include <stdlib.h>
#include <string.h>

#define MAX_IMAGE (256 * 1024)
#define MAX_DEPTH 4

static void io_dirty(void *ctx, uint32_t blk)
{
	(void)ctx;
	if (((uint64_t)blk + 1) * bs > image_size)
		abort(); /* dirtied a block it could not have got */
}

static struct ext2_fs fs;
static int budget; /* entries visited: bounds the walk */

struct walk_ctx {
	int depth;
	uint32_t first_file, first_dir;
	char first_name[EXT2_NAME_MAX + 1];
};

static void visit(uint32_t ino, int depth);

static int entry(void *c, const char *name, size_t len, uint32_t ino,
		 unsigned type)
{
	struct walk_ctx *w = c;
	(void)type;
	if (--budget < 0)
		return 1;
	if ((len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.'))
		return 0;
	if (!w->first_file) {
		w->first_file = ino;
		memcpy(w->first_name, name, len + 1);
	}
	visit(ino, w->depth + 1);
	return 0;
}

static void visit(uint32_t ino, int depth)
{
	struct ext2_inode in;
	char target[4096];
	if (depth > MAX_DEPTH || ext2_iread(&fs, ino, &in) < 0)
		return;
	switch (in.mode & 0170000) {
	case 0040000: {
		struct walk_ctx w = {depth, 0, 0, ""};
		ext2_dir_iterate(&fs, &in, entry, &w);
		break;
	}
	case 0100000:
		for (uint64_t fb = 0; fb < 64; fb += 7) {
			long b = ext2_bmap(&fs, &in, fb, 0, 0, NULL);
			if (b > 0)
				io_get(NULL, (uint32_t)b);
			ext2_extent(&fs, &in, fb, 300);
		}
		break;
	case 0120000:
		ext2_readlink(&fs, &in, target, sizeof(target));
		break;
	default:
		ext2_rdev(&in);
	}
}

static void change(void)
{
	struct ext2_inode root, in;
	if (ext2_iread(&fs, EXT2_ROOT_INO, &root) < 0)
		return;
	/* a new file with a few blocks, one far out */
	long ino = ext2_ialloc(&fs, EXT2_ROOT_INO, 0100644);
	if (ino > 0) {
		memset(&in, 0, sizeof(in));
		in.mode = 0100644;
		in.links = 1;
		uint32_t goal = 0;
		for (uint64_t fb = 0; fb < 300; fb += fb < 20 ? 1 : 97) {
			long b = ext2_bmap(&fs, &in, fb, 1, goal, NULL);
			if (b <= 0)
				break;
			uint8_t *p = io_get(NULL, (uint32_t)b);
			if (p) /* else the device would have said EIO */
				memset(p, 0x5a, bs);
			goal = (uint32_t)b + 1;
		}
		ext2_set_isize(&fs, &in, 300 * (uint64_t)bs);
		ext2_iwrite(&fs, (uint32_t)ino, &in);
		ext2_dir_add(&fs, &root, "fuzz-new", 8, (uint32_t)ino, in.mode);
		ext2_truncate(&fs, &in, 5 * (uint64_t)bs + 3);
		ext2_iwrite(&fs, (uint32_t)ino, &in);
	}
	/* a new directory */
	long dino = ext2_ialloc(&fs, EXT2_ROOT_INO, 040755);
	if (dino > 0) {
		memset(&in, 0, sizeof(in));
		in.mode = 040755;
		in.links = 2;
		if (ext2_dir_init(&fs, &in, (uint32_t)dino, EXT2_ROOT_INO) == 0)
			ext2_dir_add(&fs, &root, "fuzz-dir", 8, (uint32_t)dino,
				     in.mode);
		ext2_dir_set_parent(&fs, &in, EXT2_ROOT_INO);
		ext2_iwrite(&fs, (uint32_t)dino, &in);
	}
	/* remove the first entry of the root, whatever it is */
	struct walk_ctx w = {MAX_DEPTH + 1, 0, 0, ""};
	budget = 64;
	ext2_dir_iterate(&fs, &root, entry, &w);
	if (w.first_file && ext2_iread(&fs, w.first_file, &in) == 0) {
		ext2_dir_remove(&fs, &root, w.first_name, strlen(w.first_name));
		if (in.links <= 1)
			ext2_idelete(&fs, w.first_file, &in, 1);
	}
	ext2_iwrite(&fs, EXT2_ROOT_INO, &root);
	uint64_t fb, fi;
	ext2_counts(&fs, &fb, &fi);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why;
	if (size < EXT2_SB_OFFSET + EXT2_SB_SIZE || size > MAX_IMAGE)
		return 0;
	bs = ext2_block_size(data + EXT2_SB_OFFSET, &why);
	if (!bs)
		return 0;
	image_size = size / bs * bs;
	if (image_size < 2 * bs)
		return 0;
	image = malloc(image_size);
	memcpy(image, data, image_size);
	struct ext2_io io = {NULL, io_get, io_get_new, io_dirty, NULL};
	if (ext2_mount(&fs, &io, bs, 0, 0, &why) == 0) {
		budget = 2000;
		visit(EXT2_ROOT_INO, 0);
		change();
		ext2_unmount(&fs, 2);
	}
	free(image);
	return 0;
}
