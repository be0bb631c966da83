/* test_ext2.c: the ext2 code writes volumes e2fsck calls clean and debugfs
 * reads back; it reads what mke2fs made.
 *
 * Each test makes a fresh image with mke2fs, loads it into memory, works
 * on it through the library the way the guest kernel does, writes it back
 * and runs e2fsck -fn (which exits 0 only for a clean volume).
 */
#define _GNU_SOURCE
#include "../common/ext2_mem.h"
#include "unit.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char path[] = "/tmp/fresco-ext2-XXXXXX";
static struct ext2_fs fs;

static void io_dirty(void *ctx, uint32_t blk)
{
	(void)ctx;
	ck_assert_uint_lt(blk, image_size / bs);
}

static const struct ext2_io mem_io = {NULL, io_get, io_get_new, io_dirty, NULL};

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char *cmd;
	va_list ap;
	va_start(ap, fmt);
	ck_assert_int_ge(vasprintf(&cmd, fmt, ap), 0);
	va_end(ap);
	int r = system(cmd);
	free(cmd);
	return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
}

static void load(void)
{
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	image_size = (size_t)ftell(f);
	rewind(f);
	image = malloc(image_size);
	ck_assert_uint_eq(fread(image, 1, image_size, f), image_size);
	fclose(f);
	const char *why = NULL;
	bs = ext2_block_size(image + EXT2_SB_OFFSET, &why);
	ck_assert_msg(bs, "%s", why);
}

static void mount_rw(void)
{
	const char *why = NULL;
	int r = ext2_mount(&fs, &mem_io, bs, 0, 1700000000, &why);
	ck_assert_msg(r == 0, "mount: %d %s", r, why ? why : "");
}

static void store(void)
{
	ck_assert_int_eq(ext2_unmount(&fs, 1700000001), 0);
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(image, 1, image_size, f), image_size);
	fclose(f);
	free(image);
	image = NULL;
}

static void make(const char *opts, const char *size)
{
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(sh("mke2fs -q -F -t ext2 %s %s %s", opts, path, size),
			 0);
	load();
	mount_rw();
}

static void fsck_clean(void)
{
	ck_assert_msg(
		sh("e2fsck -fn %s >/tmp/fresco-ext2-fsck.log 2>&1", path) == 0,
		"e2fsck found errors (see /tmp/fresco-ext2-fsck.log)");
}

static void teardown(void)
{
	unlink(path);
	strcpy(path, "/tmp/fresco-ext2-XXXXXX");
	free(image);
	image = NULL;
}

/* ---- a tiny VFS over the library, as the kernel uses it ---- */

static uint32_t create(uint32_t dir_ino, const char *name, uint16_t mode)
{
	struct ext2_inode dir, in;
	ck_assert_int_eq(ext2_iread(&fs, dir_ino, &dir), 0);
	long ino = ext2_ialloc(&fs, dir_ino, mode);
	ck_assert_int_gt(ino, 0);
	memset(&in, 0, sizeof(in));
	in.mode = mode;
	in.links = (mode & 0170000) == 0040000 ? 2 : 1;
	in.atime = in.ctime = in.mtime = 1700000000;
	if ((mode & 0170000) == 0040000) {
		ck_assert_int_eq(
			ext2_dir_init(&fs, &in, (uint32_t)ino, dir_ino), 0);
		dir.links++;
	}
	ck_assert_int_eq(ext2_iwrite(&fs, (uint32_t)ino, &in), 0);
	ck_assert_int_eq(ext2_dir_add(&fs, &dir, name, strlen(name),
				      (uint32_t)ino, mode),
			 0);
	ck_assert_int_eq(ext2_iwrite(&fs, dir_ino, &dir), 0);
	return (uint32_t)ino;
}

static void write_at(uint32_t ino, uint64_t off, const void *buf, size_t len)
{
	struct ext2_inode in;
	ck_assert_int_eq(ext2_iread(&fs, ino, &in), 0);
	const uint8_t *src = buf;
	uint32_t goal = 0;
	while (len) {
		uint64_t fb = off / bs;
		size_t in_blk = off % bs,
		       n = bs - in_blk < len ? bs - in_blk : len;
		int fresh;
		long b = ext2_bmap(&fs, &in, fb, 1, goal, &fresh);
		ck_assert_int_gt(b, 0);
		uint8_t *p = io_get(NULL, (uint32_t)b);
		if (fresh)
			memset(p, 0, bs);
		memcpy(p + in_blk, src, n);
		goal = (uint32_t)b + 1;
		src += n;
		off += n;
		len -= n;
		if (off > ext2_isize(&in))
			ext2_set_isize(&fs, &in, off);
	}
	ck_assert_int_eq(ext2_iwrite(&fs, ino, &in), 0);
}

struct find {
	const char *name;
	uint32_t ino;
	int count;
};

static int find_fn(void *ctx, const char *name, size_t len, uint32_t ino,
		   unsigned type)
{
	struct find *f = ctx;
	(void)type;
	f->count++;
	if (f->name && strlen(f->name) == len &&
	    memcmp(name, f->name, len) == 0)
		f->ino = ino;
	return 0;
}

static uint32_t lookup(uint32_t dir_ino, const char *name, int *count)
{
	struct ext2_inode dir;
	struct find f = {name, 0, 0};
	ck_assert_int_eq(ext2_iread(&fs, dir_ino, &dir), 0);
	ck_assert_int_eq(ext2_dir_iterate(&fs, &dir, find_fn, &f), 0);
	if (count)
		*count = f.count;
	return f.ino;
}

static void remove_file(uint32_t dir_ino, const char *name)
{
	struct ext2_inode dir, in;
	uint32_t ino = lookup(dir_ino, name, NULL);
	ck_assert_uint_ne(ino, 0);
	ck_assert_int_eq(ext2_iread(&fs, dir_ino, &dir), 0);
	ck_assert_int_eq(ext2_dir_remove(&fs, &dir, name, strlen(name)), 0);
	ck_assert_int_eq(ext2_iwrite(&fs, dir_ino, &dir), 0);
	ck_assert_int_eq(ext2_iread(&fs, ino, &in), 0);
	if (--in.links == 0)
		ck_assert_int_eq(ext2_idelete(&fs, ino, &in, 1700000002), 0);
	else
		ck_assert_int_eq(ext2_iwrite(&fs, ino, &in), 0);
}

static void pattern(uint8_t *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 12));
}

/* ---- tests ---- */

START_TEST(test_mount_and_unmount_keeps_the_volume_clean)
{
	make("-b 4096", "8M");
	ck_assert_int_eq(fs.block_size, 4096);
	ck_assert_int_eq(fs.was_clean, 1);
	store();
	fsck_clean();
}
END_TEST

START_TEST(test_files_through_every_level_of_indirection)
{
	make("-b 1024", "80M");
	/* 1 KiB blocks: 12 direct, 256 single, 65536 double, then triple */
	uint32_t big = create(EXT2_ROOT_INO, "big", 0100644);
	static uint8_t buf[1 << 20];
	pattern(buf, sizeof(buf), 1);
	write_at(big, 0, buf, 100 * 1024);
	/* far out, in the triple-indirect range: a sparse file */
	uint64_t far = (12ULL + 256 + 65536 + 10) * 1024;
	write_at(big, far, buf, 5000);
	/* runs of contiguous blocks: 12 direct ones, then the single
	 * indirect block sits between them and the rest */
	struct ext2_inode in;
	ck_assert_int_eq(ext2_iread(&fs, big, &in), 0);
	ck_assert_uint_eq(ext2_extent(&fs, &in, 0, 1000), 12);
	ck_assert_uint_eq(ext2_extent(&fs, &in, 12, 50), 50);
	ck_assert_uint_eq(ext2_extent(&fs, &in, 12, 1000), 88); /* to 100 */
	/* a hole: its length, bounded by what was asked */
	ck_assert_uint_eq(ext2_extent(&fs, &in, 100, 1000), 1000);
	long a = ext2_bmap(&fs, &in, 12, 0, 0, NULL);
	long z = ext2_bmap(&fs, &in, 99, 0, 0, NULL);
	ck_assert_int_eq(z - a, 87);
	store();
	fsck_clean();
	ck_assert_int_eq(sh("debugfs -R 'dump /big /tmp/fresco-ext2-big' %s "
			    ">/dev/null 2>&1",
			    path),
			 0);
	FILE *f = fopen("/tmp/fresco-ext2-big", "rb");
	ck_assert_ptr_nonnull(f);
	static uint8_t back[1 << 20];
	ck_assert_uint_eq(fread(back, 1, 100 * 1024, f), 100 * 1024);
	ck_assert(memcmp(back, buf, 100 * 1024) == 0);
	fseek(f, (long)far - 10, SEEK_SET);
	ck_assert_uint_eq(fread(back, 1, 5010, f), 5010);
	ck_assert(memcmp(back, "\0\0\0\0\0\0\0\0\0\0", 10) == 0);
	ck_assert(memcmp(back + 10, buf, 5000) == 0);
	fclose(f);
	struct stat st;
	ck_assert_int_eq(stat("/tmp/fresco-ext2-big", &st), 0);
	ck_assert_int_eq(st.st_size, (long)far + 5000);
	unlink("/tmp/fresco-ext2-big");
}
END_TEST

START_TEST(test_truncate_frees_blocks_and_zeroes_the_tail)
{
	make("-b 1024", "80M");
	uint32_t ino = create(EXT2_ROOT_INO, "t", 0100644);
	static uint8_t buf[400 * 1024];
	pattern(buf, sizeof(buf), 2);
	write_at(ino, 0, buf, sizeof(buf)); /* into double indirect */
	uint64_t free_before, free_after, fi;
	ext2_counts(&fs, &free_before, &fi);
	struct ext2_inode in;
	ck_assert_int_eq(ext2_iread(&fs, ino, &in), 0);
	ck_assert_int_eq(ext2_truncate(&fs, &in, 5000), 0);
	ck_assert_int_eq(ext2_iwrite(&fs, ino, &in), 0);
	ext2_counts(&fs, &free_after, &fi);
	/* 400 data blocks + 1 single + 1 double + 1 of its children, less
	 * the 5 kept */
	ck_assert_uint_eq(free_after - free_before, 400 - 5 + 3 - 0);
	ck_assert_uint_eq(in.blocks, 5 * 2);
	/* growing again shows zeros past the old cut */
	ck_assert_int_eq(ext2_truncate(&fs, &in, 6000), 0);
	long b = ext2_bmap(&fs, &in, 4, 0, 0, NULL);
	ck_assert_int_gt(b, 0);
	uint8_t *p = io_get(NULL, (uint32_t)b);
	ck_assert(memcmp(p, buf + 4096, 5000 - 4096) == 0);
	for (int i = 5000 - 4096; i < 1024; i++)
		ck_assert_int_eq(p[i], 0);
	ck_assert_int_eq(ext2_iwrite(&fs, ino, &in), 0);
	store();
	fsck_clean();
}
END_TEST

START_TEST(test_many_entries_removals_and_reuse)
{
	make("-b 4096", "64M");
	uint32_t d = create(EXT2_ROOT_INO, "many", 040755);
	char name[64];
	for (int i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "entry-with-a-longish-name-%05d",
			 i);
		create(d, name, 0100600);
	}
	int count;
	ck_assert_uint_ne(lookup(d, "entry-with-a-longish-name-02999", &count),
			  0);
	ck_assert_int_eq(count, 3002); /* with . and .. */
	for (int i = 0; i < 3000; i += 2) {
		snprintf(name, sizeof(name), "entry-with-a-longish-name-%05d",
			 i);
		remove_file(d, name);
	}
	ck_assert_uint_eq(lookup(d, "entry-with-a-longish-name-00000", &count),
			  0);
	ck_assert_int_eq(count, 1502);
	create(d, "a-new-one", 0100600);
	ck_assert_uint_ne(lookup(d, "a-new-one", NULL), 0);
	store();
	fsck_clean();
	ck_assert_int_eq(sh("debugfs -R 'ls -l /many' %s 2>/dev/null | "
			    "grep -c entry-with | grep -qx 1500",
			    path),
			 0);
}
END_TEST

START_TEST(test_directories_move_and_links)
{
	make("-b 4096", "16M");
	uint32_t a = create(EXT2_ROOT_INO, "a", 040755);
	uint32_t b = create(EXT2_ROOT_INO, "b", 040755);
	uint32_t sub = create(a, "sub", 040755);
	/* move a/sub to b/moved: entry out, entry in, "..", link counts */
	struct ext2_inode ia, ib, is;
	ck_assert_int_eq(ext2_iread(&fs, a, &ia), 0);
	ck_assert_int_eq(ext2_dir_remove(&fs, &ia, "sub", 3), 0);
	ia.links--;
	ck_assert_int_eq(ext2_iwrite(&fs, a, &ia), 0);
	ck_assert_int_eq(ext2_iread(&fs, b, &ib), 0);
	ck_assert_int_eq(ext2_dir_add(&fs, &ib, "moved", 5, sub, 040755), 0);
	ib.links++;
	ck_assert_int_eq(ext2_iwrite(&fs, b, &ib), 0);
	ck_assert_int_eq(ext2_iread(&fs, sub, &is), 0);
	ck_assert_int_eq(ext2_dir_set_parent(&fs, &is, b), 0);
	ck_assert_uint_eq(lookup(sub, "..", NULL), b);
	/* a hard link and symbolic links, fast and slow */
	uint32_t f = create(b, "file", 0100644);
	write_at(f, 0, "hello\n", 6);
	struct ext2_inode in;
	ck_assert_int_eq(ext2_iread(&fs, f, &in), 0);
	ck_assert_int_eq(ext2_iread(&fs, a, &ia), 0);
	ck_assert_int_eq(ext2_dir_add(&fs, &ia, "hard", 4, f, 0100644), 0);
	ck_assert_int_eq(ext2_iwrite(&fs, a, &ia), 0);
	in.links++;
	ck_assert_int_eq(ext2_iwrite(&fs, f, &in), 0);
	char target[200], back[256];
	memset(target, 'x', sizeof(target));
	memcpy(target, "/b/", 3);
	target[sizeof(target) - 1] = '\0';
	uint32_t fast = create(EXT2_ROOT_INO, "fast", 0120777);
	uint32_t slow = create(EXT2_ROOT_INO, "slow", 0120777);
	ck_assert_int_eq(ext2_iread(&fs, fast, &in), 0);
	ck_assert_int_eq(ext2_set_link(&fs, &in, "b/file", 6), 0);
	ck_assert_int_eq(ext2_iwrite(&fs, fast, &in), 0);
	ck_assert_int_eq(ext2_readlink(&fs, &in, back, sizeof(back)), 6);
	ck_assert_str_eq(back, "b/file");
	ck_assert_int_eq(ext2_iread(&fs, slow, &in), 0);
	ck_assert_int_eq(ext2_set_link(&fs, &in, target, strlen(target)), 0);
	ck_assert_int_eq(ext2_iwrite(&fs, slow, &in), 0);
	ck_assert_int_eq(ext2_readlink(&fs, &in, back, sizeof(back)),
			 (long)strlen(target));
	ck_assert_str_eq(back, target);
	remove_file(b, "file"); /* one link left, in a */
	store();
	fsck_clean();
	ck_assert_int_eq(sh("debugfs -R 'cat /a/hard' %s 2>/dev/null | "
			    "grep -qx hello",
			    path),
			 0);
	ck_assert_int_eq(sh("debugfs -R 'stat /slow' %s 2>/dev/null | "
			    "grep -q 'Fast link dest' && exit 1 || exit 0",
			    path),
			 0);
}
END_TEST

START_TEST(test_reads_what_mke2fs_made)
{
	char dir[] = "/tmp/fresco-ext2-src-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(sh("mkdir -p %s/d/e && printf 'abc' > %s/d/e/f && "
			    "ln -s d/e/f %s/l && "
			    "head -c 300000 /dev/urandom > %s/r",
			    dir, dir, dir, dir),
			 0);
	int fd = mkstemp(path);
	close(fd);
	ck_assert_int_eq(sh("mke2fs -q -F -t ext2 -d %s %s 8M", dir, path), 0);
	load();
	const char *why;
	ck_assert_int_eq(ext2_mount(&fs, &mem_io, bs, 1, 0, &why), 0);
	uint32_t d = lookup(EXT2_ROOT_INO, "d", NULL);
	uint32_t e = lookup(d, "e", NULL);
	uint32_t f = lookup(e, "f", NULL);
	ck_assert_uint_ne(f, 0);
	struct ext2_inode in;
	ck_assert_int_eq(ext2_iread(&fs, f, &in), 0);
	ck_assert_uint_eq(ext2_isize(&in), 3);
	long b = ext2_bmap(&fs, &in, 0, 0, 0, NULL);
	ck_assert_int_gt(b, 0);
	ck_assert(memcmp(io_get(NULL, (uint32_t)b), "abc", 3) == 0);
	uint32_t l = lookup(EXT2_ROOT_INO, "l", NULL);
	char t[64];
	ck_assert_int_eq(ext2_iread(&fs, l, &in), 0);
	ck_assert_int_eq(ext2_readlink(&fs, &in, t, sizeof(t)), 5);
	ck_assert_str_eq(t, "d/e/f");
	/* the random file, block by block, against the source */
	uint32_t r = lookup(EXT2_ROOT_INO, "r", NULL);
	ck_assert_int_eq(ext2_iread(&fs, r, &in), 0);
	char src[256];
	snprintf(src, sizeof(src), "%s/r", dir);
	FILE *sf = fopen(src, "rb");
	static uint8_t want[4096];
	for (uint64_t fb = 0; fb * bs < 300000; fb++) {
		size_t n = fread(want, 1, bs, sf);
		b = ext2_bmap(&fs, &in, fb, 0, 0, NULL);
		ck_assert_int_gt(b, 0);
		ck_assert(memcmp(io_get(NULL, (uint32_t)b), want, n) == 0);
	}
	fclose(sf);
	/* read-only: nothing may change */
	ck_assert_int_eq(ext2_ialloc(&fs, EXT2_ROOT_INO, 0100644), -EROFS);
	ck_assert_int_eq(ext2_bmap(&fs, &in, 1000, 1, 0, NULL), -EROFS);
	sh("rm -rf %s", dir);
}
END_TEST

START_TEST(test_refuses_what_it_cannot_write)
{
	int fd = mkstemp(path);
	close(fd);
	const char *why = NULL;
	/* ext4 with extents: not ours */
	ck_assert_int_eq(sh("mke2fs -q -F -t ext4 %s 8M", path), 0);
	load();
	ck_assert_int_eq(ext2_mount(&fs, &mem_io, bs, 0, 0, &why), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "mke2fs -t ext2"));
	free(image);
	/* not a file system at all */
	ck_assert_int_eq(sh("head -c 65536 /dev/zero > %s", path), 0);
	image_size = 65536;
	image = calloc(1, image_size);
	ck_assert_uint_eq(ext2_block_size(image + EXT2_SB_OFFSET, &why), 0);
	ck_assert_ptr_nonnull(strstr(why, "not an ext2"));
	/* a corrupt superblock */
	ck_assert_int_eq(sh("mke2fs -q -F -t ext2 %s 8M", path), 0);
	free(image);
	load();
	memset(image + EXT2_SB_OFFSET + 32, 0, 4); /* blocks per group */
	ck_assert_int_eq(ext2_mount(&fs, &mem_io, bs, 0, 0, &why), -EUCLEAN);
	ck_assert_ptr_nonnull(strstr(why, "e2fsck"));
}
END_TEST

START_TEST(test_corrupt_directory_is_an_error_not_a_crash)
{
	make("-b 1024", "8M");
	uint32_t d = create(EXT2_ROOT_INO, "d", 040755);
	create(d, "x", 0100644);
	struct ext2_inode in;
	ck_assert_int_eq(ext2_iread(&fs, d, &in), 0);
	long b = ext2_bmap(&fs, &in, 0, 0, 0, NULL);
	uint8_t *p = io_get(NULL, (uint32_t)b);
	/* rec_len of ".." pointing past the block */
	p[16] = 0xff;
	p[17] = 0x7f;
	struct find f = {NULL, 0, 0};
	ck_assert_int_eq(ext2_dir_iterate(&fs, &in, find_fn, &f), -EUCLEAN);
	ck_assert_int_eq(ext2_dir_add(&fs, &in, "y", 1, 12, 0100644), -EUCLEAN);
	ck_assert_int_eq(ext2_dir_remove(&fs, &in, "x", 1), -EUCLEAN);
	/* a block pointer past the end of the volume */
	in.block[0] = 0xfffffff0;
	ck_assert_int_eq(ext2_bmap(&fs, &in, 0, 0, 0, NULL), -EUCLEAN);
	ck_assert_int_eq(ext2_iread(&fs, 0, &in), -EUCLEAN);
	ck_assert_int_eq(ext2_iread(&fs, 0x7fffffff, &in), -EUCLEAN);
}
END_TEST

START_TEST(test_deleting_a_file_releases_its_attribute_block)
{
	make("-b 1024", "8M");
	uint32_t f = create(EXT2_ROOT_INO, "f", 0100644);
	uint32_t g = create(EXT2_ROOT_INO, "g", 0100644);
	write_at(f, 0, "data", 4);
	/* borrow a block from a scratch file for an attribute block shared
	 * by f and g: header magic, two references, no entries */
	uint32_t s = create(EXT2_ROOT_INO, "scratch", 0100644);
	write_at(s, 0, "x", 1);
	struct ext2_inode in, gi, si;
	ck_assert_int_eq(ext2_iread(&fs, s, &si), 0);
	uint32_t ea = si.block[0];
	si.block[0] = 0;
	si.blocks = 0;
	ext2_set_isize(&fs, &si, 0);
	ck_assert_int_eq(ext2_iwrite(&fs, s, &si), 0);
	uint8_t *p = io_get(NULL, ea);
	memset(p, 0, bs);
	uint32_t hdr[3] = {0xea020000u, 2, 1};
	memcpy(p, hdr, sizeof(hdr));
	ck_assert_int_eq(ext2_iread(&fs, f, &in), 0);
	in.file_acl = ea;
	in.blocks += 2;
	ck_assert_int_eq(ext2_iwrite(&fs, f, &in), 0);
	ck_assert_int_eq(ext2_iread(&fs, g, &gi), 0);
	gi.file_acl = ea;
	gi.blocks += 2;
	ck_assert_int_eq(ext2_iwrite(&fs, g, &gi), 0);
	uint64_t before, after, fi;
	ext2_counts(&fs, &before, &fi);
	remove_file(EXT2_ROOT_INO, "f"); /* one reference left */
	ext2_counts(&fs, &after, &fi);
	ck_assert_uint_eq(after - before, 1); /* f's data block only */
	ck_assert_uint_eq(((uint32_t *)io_get(NULL, ea))[1], 1);
	remove_file(EXT2_ROOT_INO, "g"); /* the last: the block goes */
	ext2_counts(&fs, &before, &fi);
	ck_assert_uint_eq(before - after, 1);
	remove_file(EXT2_ROOT_INO, "scratch");
	store();
	fsck_clean();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ext2");
	TCase *t = tcase_create("ext2");
	tcase_set_timeout(t, 60);
	tcase_add_checked_fixture(t, NULL, teardown);
	tcase_add_test(t, test_mount_and_unmount_keeps_the_volume_clean);
	tcase_add_test(t, test_files_through_every_level_of_indirection);
	tcase_add_test(t, test_truncate_frees_blocks_and_zeroes_the_tail);
	tcase_add_test(t, test_many_entries_removals_and_reuse);
	tcase_add_test(t, test_directories_move_and_links);
	tcase_add_test(t, test_reads_what_mke2fs_made);
	tcase_add_test(t, test_refuses_what_it_cannot_write);
	tcase_add_test(t, test_corrupt_directory_is_an_error_not_a_crash);
	tcase_add_test(t, test_deleting_a_file_releases_its_attribute_block);
	suite_add_tcase(s, t);
	return unit_run(s);
}
