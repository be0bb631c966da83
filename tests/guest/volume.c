/* volume.c: file system work on a mounted volume, checked from inside.
 *
 *   volume write DIR MIB     build the test tree (see below) in DIR
 *   volume verify DIR MIB    check the tree (after a reboot: persistence)
 *   volume readonly DIR      every change is refused with EROFS
 *   volume journal DIR N     append N records, fsync each, print "ack I"
 *   volume fill DIR          write until ENOSPC, then free it all again
 *   volume list DIR          print every entry: "f PATH SIZE FNV64",
 *                            "l PATH TARGET", "d PATH MODE"
 *
 * The tree: big (MIB MiB of pattern), sparse (three 4 KiB pieces far
 * apart), many/ (5000 files), a.txt with a hard link links/a.hard,
 * symbolic links sym (short) and longsym (200 bytes), renamed.txt
 * (renamed from tmpname), sub/newdir (a directory renamed from olddir,
 * with a file inside), trunc (cut from 300 KiB to 5000 bytes).
 * The host test reads the same tree back with debugfs.
 */
#include "guest.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>

#define MANY 5000
#define CHUNK (1 << 20)

static char path[4096];
static const char *dir;

static const char *at(const char *rel)
{
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	return path;
}

/* The byte at (off) of big: the host test computes the same. */
static uint8_t pattern(uint64_t off)
{
	return (uint8_t)((off * 7) ^ (off >> 11) ^ (off >> 23));
}

static void fill(uint8_t *buf, uint64_t off, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = pattern(off + i);
}

static int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t r = write(fd, c, n);
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

static int put_file(const char *rel, const char *text)
{
	int fd = open(at(rel), O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	int r = write_all(fd, text, strlen(text));
	return close(fd) | r;
}

static int file_is(const char *rel, const char *text)
{
	char buf[256] = {0};
	int fd = open(at(rel), O_RDONLY);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n == (ssize_t)strlen(text) && strcmp(buf, text) == 0;
}

static char long_target[201];

static void make_long_target(void)
{
	memset(long_target, 'x', 200);
	memcpy(long_target, "sub/newdir/", 11);
	long_target[200] = '\0';
}

static int count_entries(const char *rel)
{
	DIR *d = opendir(at(rel));
	int n = 0;
	struct dirent *e;
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void check_big(uint64_t mib)
{
	static uint8_t buf[CHUNK], want[CHUNK];
	int fd = open(at("big"), O_RDONLY);
	int good = fd >= 0;
	for (uint64_t off = 0; good && off < mib * CHUNK; off += CHUNK) {
		size_t got = guest_read_full(fd, buf, CHUNK);
		fill(want, off, CHUNK);
		good = got == CHUNK && memcmp(buf, want, CHUNK) == 0;
	}
	CHECK(good && read(fd, buf, 1) == 0, "big reads back its %llu MiB",
	      (unsigned long long)mib);
	close(fd);
}

static void check_tree(uint64_t mib)
{
	struct stat st;
	check_big(mib);

	char buf[4096];
	int fd = open(at("sparse"), O_RDONLY);
	CHECK(fd >= 0 && fstat(fd, &st) == 0 &&
		      st.st_size == (1LL << 30) + 4096,
	      "sparse is 1 GiB and 4 KiB long");
	CHECK(st.st_blocks <= 3 * 8 + 8 * 4,
	      "sparse takes %ld blocks, not 1 GiB", (long)st.st_blocks);
	CHECK(pread(fd, buf, 4096, 5 << 20) == 4096 && buf[0] == 0 &&
		      buf[4095] == 0,
	      "a hole reads as zeros");
	CHECK(pread(fd, buf, 4096, 10 << 20) == 4096 && buf[0] == 'B' &&
		      buf[4095] == 'B',
	      "data after a hole is there");
	close(fd);

	CHECK(count_entries("many") == MANY, "many/ lists %d entries", MANY);
	CHECK(file_is("many/f00000", "f00000") &&
		      file_is("many/f04999", "f04999"),
	      "entries of many/ hold their names");

	CHECK(stat(at("a.txt"), &st) == 0 && st.st_nlink == 2,
	      "a.txt has two links");
	CHECK((st.st_mode & 07777) == 0600, "a.txt mode is 0600");
	CHECK(st.st_mtime == 1234567890, "a.txt mtime was kept");
	CHECK(file_is("links/a.hard", "alpha\n"), "the hard link reads a.txt");
	ssize_t n = readlink(at("sym"), buf, sizeof(buf));
	CHECK(n == 5 && memcmp(buf, "a.txt", 5) == 0, "sym points at a.txt");
	n = readlink(at("longsym"), buf, sizeof(buf));
	CHECK(n == 200 && memcmp(buf, long_target, 200) == 0,
	      "longsym keeps its 200-byte target");
	CHECK(file_is("sym", "alpha\n"), "sym resolves");
	CHECK(file_is("renamed.txt", "renamed\n") &&
		      access(at("tmpname"), F_OK) < 0,
	      "tmpname became renamed.txt");
	CHECK(file_is("sub/newdir/inside", "inside\n") &&
		      access(at("olddir"), F_OK) < 0,
	      "olddir moved to sub/newdir with its file");
	struct stat sub, dotdot;
	CHECK(stat(at("sub"), &sub) == 0 &&
		      stat(at("sub/newdir/.."), &dotdot) == 0 &&
		      sub.st_ino == dotdot.st_ino,
	      ".. of the moved directory is its new parent");
	CHECK(stat(at("trunc"), &st) == 0 && st.st_size == 5000,
	      "trunc is 5000 bytes");
	fd = open(at("trunc"), O_RDONLY);
	CHECK(pread(fd, buf, 8, 4992) == 8 && memcmp(buf, "TTTTTTTT", 8) == 0,
	      "trunc keeps its first 5000 bytes");
	close(fd);
}

/* Large transfers bypass the kernel's block cache: mix them with small
 * cached ones, unaligned buffers, holes, the end of the file and a buffer
 * that runs into unmapped memory. */
static void mixed(void)
{
	size_t len = 3 << 20;
	uint8_t *raw = malloc(len + 64), *back = malloc(len + 64);
	uint8_t *buf = raw + 1, *in = back + 3; /* not page-aligned */
	fill(buf, 12345, len);
	int fd = open(at("mixed"), O_CREAT | O_RDWR | O_TRUNC, 0644);
	CHECK(pwrite(fd, buf, len, 0) == (ssize_t)len,
	      "mixed: 3 MiB from an unaligned buffer");
	CHECK(pwrite(fd, "small", 5, 70000) == 5, "mixed: a small write");
	memcpy(buf + 70000, "small", 5);
	memset(in, 0, len);
	CHECK(pread(fd, in, len, 0) == (ssize_t)len && !memcmp(in, buf, len),
	      "mixed: a large read sees the small cached write");
	fill(buf, 999, 1 << 20);
	CHECK(pwrite(fd, buf, 1 << 20, 0) == 1 << 20,
	      "mixed: a large write over the cached block");
	char small[8] = {0};
	CHECK(pread(fd, small, 5, 70000) == 5 && !memcmp(small, buf + 70000, 5),
	      "mixed: a small read sees the large write");
	CHECK(pread(fd, in, len, 2 << 20) == 1 << 20,
	      "mixed: a large read stops at the end of the file");
	/* a hole in the middle, read across */
	CHECK(pwrite(fd, buf, 1 << 20, 8 << 20) == 1 << 20,
	      "mixed: a write past a hole");
	CHECK(pread(fd, in, 2 << 20, 7 << 20) == 2 << 20 && in[0] == 0 &&
		      in[(1 << 20) - 1] == 0 &&
		      !memcmp(in + (1 << 20), buf, 1 << 20),
	      "mixed: a large read across the hole");
	/* a buffer whose second half is not mapped */
	uint8_t *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(m, 'M', 1 << 20);
	munmap(m + (512 << 10), 512 << 10);
	ssize_t r = pwrite(fd, m, 1 << 20, 16 << 20);
	CHECK(r == 512 << 10 || (r < 0 && errno == EFAULT),
	      "mixed: a write from a half-mapped buffer is short (%ld)",
	      (long)r);
	r = pread(fd, m, 1 << 20, 0);
	CHECK(r == 512 << 10 || (r < 0 && errno == EFAULT),
	      "mixed: a read into a half-mapped buffer is short (%ld)",
	      (long)r);
	munmap(m, 512 << 10);
	close(fd);
	free(raw);
	free(back);
}

static void write_tree(uint64_t mib)
{
	static uint8_t buf[CHUNK];
	char name[64];

	int fd = open(at("big"), O_CREAT | O_WRONLY | O_TRUNC, 0644);
	int good = fd >= 0;
	for (uint64_t off = 0; good && off < mib * CHUNK; off += CHUNK) {
		fill(buf, off, CHUNK);
		good = write_all(fd, buf, CHUNK) == 0;
	}
	CHECK(good && fsync(fd) == 0, "big: %llu MiB written and synced",
	      (unsigned long long)mib);
	close(fd);

	fd = open(at("sparse"), O_CREAT | O_WRONLY | O_TRUNC, 0644);
	memset(buf, 'A', 4096);
	CHECK(pwrite(fd, buf, 4096, 0) == 4096, "sparse: first piece");
	memset(buf, 'B', 4096);
	CHECK(pwrite(fd, buf, 4096, 10 << 20) == 4096, "sparse: at 10 MiB");
	memset(buf, 'C', 4096);
	CHECK(pwrite(fd, buf, 4096, 1LL << 30) == 4096, "sparse: at 1 GiB");
	close(fd);

	CHECK(mkdir(at("many"), 0755) == 0, "mkdir many");
	good = 1;
	for (int i = 0; i < MANY + 100 && good; i++) {
		snprintf(name, sizeof(name), "many/f%05d", i);
		good = put_file(name, name + 5) == 0;
	}
	for (int i = MANY; i < MANY + 100 && good; i++) {
		snprintf(name, sizeof(name), "many/f%05d", i);
		good = unlink(at(name)) == 0;
	}
	CHECK(good, "many: %d files made, 100 of them removed", MANY + 100);

	CHECK(put_file("a.txt", "alpha\n") == 0, "a.txt");
	CHECK(mkdir(at("links"), 0755) == 0, "mkdir links");
	char a[4096];
	snprintf(a, sizeof(a), "%s", at("a.txt"));
	CHECK(link(a, at("links/a.hard")) == 0, "hard link");
	CHECK(symlink("a.txt", at("sym")) == 0, "short symlink");
	CHECK(symlink(long_target, at("longsym")) == 0, "long symlink");
	CHECK(chmod(a, 0600) == 0, "chmod a.txt");
	struct timespec ts[2] = {{1234567890, 0}, {1234567890, 0}};
	CHECK(utimensat(AT_FDCWD, a, ts, 0) == 0, "utimensat a.txt");

	CHECK(put_file("tmpname", "renamed\n") == 0, "tmpname");
	snprintf(a, sizeof(a), "%s", at("tmpname"));
	CHECK(rename(a, at("renamed.txt")) == 0, "rename a file");
	CHECK(mkdir(at("olddir"), 0755) == 0 && mkdir(at("sub"), 0755) == 0 &&
		      put_file("olddir/inside", "inside\n") == 0,
	      "olddir with a file, and sub");
	snprintf(a, sizeof(a), "%s", at("olddir"));
	CHECK(rename(a, at("sub/newdir")) == 0, "rename a directory");

	fd = open(at("trunc"), O_CREAT | O_WRONLY | O_TRUNC, 0644);
	memset(buf, 'T', 300 * 1024);
	CHECK(write_all(fd, buf, 300 * 1024) == 0, "trunc: 300 KiB");
	CHECK(ftruncate(fd, 5000) == 0, "ftruncate to 5000");
	close(fd);

	/* the unlinked-while-open case: gone at exit, space returned */
	fd = open(at("ghost"), O_CREAT | O_RDWR, 0644);
	CHECK(fd >= 0 && write_all(fd, buf, 65536) == 0 &&
		      unlink(at("ghost")) == 0,
	      "ghost written and unlinked while open");
	CHECK(pread(fd, a, 4, 0) == 4 && a[0] == 'T',
	      "ghost still reads through its descriptor");

	mixed();
	struct statfs sf;
	CHECK(statfs(dir, &sf) == 0 && sf.f_type == 0xef53, "statfs says ext2");
	sync();
	check_tree(mib);
}

static void readonly(void)
{
	char buf[8] = {0};
	int fd = open(at("hello"), O_RDONLY);
	CHECK(fd >= 0 && read(fd, buf, 7) == 3 && strcmp(buf, "abc") == 0,
	      "a read-only volume reads");
	close(fd);
	errno = 0;
	CHECK(open(at("hello"), O_WRONLY) < 0 && errno == EROFS,
	      "open for writing: EROFS");
	errno = 0;
	CHECK(open(at("new"), O_CREAT | O_WRONLY, 0644) < 0 && errno == EROFS,
	      "create: EROFS");
	errno = 0;
	CHECK(mkdir(at("newdir"), 0755) < 0 && errno == EROFS, "mkdir: EROFS");
	errno = 0;
	CHECK(unlink(at("hello")) < 0 && errno == EROFS, "unlink: EROFS");
	errno = 0;
	CHECK(chmod(at("hello"), 0600) < 0 && errno == EROFS, "chmod: EROFS");
	errno = 0;
	CHECK(truncate(at("hello"), 0) < 0 && errno == EROFS,
	      "truncate: EROFS");
	errno = 0;
	CHECK(symlink("x", at("s")) < 0 && errno == EROFS, "symlink: EROFS");
	char from[4096];
	snprintf(from, sizeof(from), "%s", at("hello"));
	errno = 0;
	CHECK(rename(from, at("moved")) < 0 && errno == EROFS, "rename: EROFS");
	struct statfs sf;
	CHECK(statfs(dir, &sf) == 0 && (sf.f_flags & 1), "statfs: ST_RDONLY");
}

static void journal(long n)
{
	char rec[64], ack[32];
	int fd = open(at("journal"), O_CREAT | O_WRONLY | O_APPEND, 0644);
	if (fd < 0) {
		CHECK(0, "open journal");
		return;
	}
	for (long i = 0; i < n; i++) {
		/* 64 bytes: sequence, a checksum of it, padding, newline */
		memset(rec, '.', sizeof(rec));
		int k = snprintf(rec, sizeof(rec), "rec %08ld sum %08lx", i,
				 (unsigned long)(i * 2654435761u) & 0xffffffff);
		rec[k] = '.';
		rec[63] = '\n';
		if (write_all(fd, rec, sizeof(rec)) < 0 || fsync(fd) < 0) {
			CHECK(0, "record %ld written and synced", i);
			return;
		}
		k = snprintf(ack, sizeof(ack), "ack %ld\n", i);
		write(1, ack, (size_t)k);
	}
	close(fd);
}

/* Fill the volume: large writes, then small ones, end in ENOSPC; removing
 * the file gives the space back. */
static void fill_volume(void)
{
	static uint8_t buf[CHUNK];
	struct statfs before, full, after;
	memset(buf, 'F', sizeof(buf));
	CHECK(statfs(dir, &before) == 0, "statfs");
	int fd = open(at("filler"), O_CREAT | O_WRONLY | O_TRUNC, 0644);
	ssize_t r;
	long mib = 0;
	while ((r = write(fd, buf, CHUNK)) == CHUNK)
		mib++;
	int e = errno;
	CHECK(r >= 0 || e == ENOSPC, "large writes end in ENOSPC (%ld, %s)",
	      (long)r, strerror(e));
	while ((r = write(fd, buf, 1000)) == 1000)
		;
	e = errno;
	CHECK(r < 0 && e == ENOSPC, "small writes end in ENOSPC");
	CHECK(fsync(fd) == 0, "fsync of a full volume");
	CHECK(statfs(dir, &full) == 0 && full.f_bfree < 2,
	      "statfs: %ld blocks free", (long)full.f_bfree);
	CHECK(mkdir(at("nospace"), 0755) < 0 && errno == ENOSPC,
	      "mkdir on a full volume: ENOSPC");
	close(fd);
	CHECK(unlink(at("filler")) == 0, "remove the filler");
	CHECK(statfs(dir, &after) == 0 && after.f_bfree == before.f_bfree,
	      "its %ld MiB are free again (%ld of %ld blocks)", mib,
	      (long)after.f_bfree, (long)before.f_bfree);
	CHECK(put_file("after", "room again\n") == 0 &&
		      file_is("after", "room again\n"),
	      "a file fits again");
}

static uint64_t fnv(const char *file, long *size)
{
	static uint8_t buf[65536];
	uint64_t h = 0xcbf29ce484222325ULL;
	int fd = open(file, O_RDONLY);
	ssize_t r;
	*size = 0;
	while (fd >= 0 && (r = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < r; i++)
			h = (h ^ buf[i]) * 0x100000001b3ULL;
		*size += r;
	}
	close(fd);
	return h;
}

static void list(const char *rel)
{
	char full[4096], child[4096];
	snprintf(full, sizeof(full), "%s%s", dir, rel);
	DIR *d = opendir(full);
	struct dirent *e;
	if (!d) {
		CHECK(0, "opendir %s", full);
		return;
	}
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    !strcmp(e->d_name, "lost+found"))
			continue;
		snprintf(child, sizeof(child), "%s/%s", rel, e->d_name);
		char abs[4096];
		snprintf(abs, sizeof(abs), "%s%s", dir, child);
		struct stat st;
		if (lstat(abs, &st) < 0) {
			CHECK(0, "lstat %s", abs);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			printf("d %s %o\n", child, st.st_mode & 07777);
			list(child);
		} else if (S_ISLNK(st.st_mode)) {
			char t[4096];
			ssize_t n = readlink(abs, t, sizeof(t) - 1);
			t[n > 0 ? n : 0] = '\0';
			printf("l %s %s\n", child, t);
		} else {
			long size;
			uint64_t h = fnv(abs, &size);
			printf("f %s %ld %016llx\n", child, size,
			       (unsigned long long)h);
		}
	}
	closedir(d);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: volume MODE DIR [N]\n");
		return 2;
	}
	dir = argv[2];
	long n = argc > 3 ? atol(argv[3]) : 0;
	make_long_target();
	if (!strcmp(argv[1], "write"))
		write_tree((uint64_t)n);
	else if (!strcmp(argv[1], "verify"))
		check_tree((uint64_t)n);
	else if (!strcmp(argv[1], "readonly"))
		readonly();
	else if (!strcmp(argv[1], "journal"))
		journal(n);
	else if (!strcmp(argv[1], "list"))
		list("");
	else if (!strcmp(argv[1], "fill"))
		fill_volume();
	else
		return 2;
	return guest_done(argv[1]);
}
