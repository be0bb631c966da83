/* ext2_mem.h: an ext2 volume held in memory, read and changed through the
 * block I/O interface of kernel/lib/ext2.c: (image_size) bytes at (image)
 * in blocks of (bs) bytes. Shared by the unit tests and the fuzz target,
 * each of which adds the dirty callback that says what touching a block
 * outside the image means to it. Header-only, for one file of a program.
 */
#ifndef FRESCO_TESTS_EXT2_MEM_H
#define FRESCO_TESTS_EXT2_MEM_H

#include "lib/ext2.h"

#include <string.h>

static uint8_t *image;
static size_t image_size;
static uint32_t bs;

/* Block (blk), or NULL (the library's -EIO) past the image's end. */
static uint8_t *io_get(void *ctx, uint32_t blk)
{
	(void)ctx;
	if (((uint64_t)blk + 1) * bs > image_size)
		return NULL;
	return image + (uint64_t)blk * bs;
}

/* Block (blk) zeroed, for the library to fill. */
static uint8_t *io_get_new(void *ctx, uint32_t blk)
{
	uint8_t *p = io_get(ctx, blk);
	if (p)
		memset(p, 0, bs);
	return p;
}

#endif
