/* files.c: regular files: open flags, read, write, positions, truncation,
 * and the errno Linux gives on each error path. Works in a fresh
 * directory under /tmp, so it runs natively as well as in the guest. */
#define _GNU_SOURCE
#include "guest.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>

static char dir[] = "/tmp/files-XXXXXX";

int main(void)
{
	char buf[64];
	struct stat st;

	CHECK(mkdtemp(dir) != NULL, "make a scratch directory");
	CHECK(chdir(dir) == 0, "chdir into it");
	umask(022);

	int fd = open("f", O_CREAT | O_EXCL | O_RDWR, 0666);
	CHECK(fd >= 0, "O_CREAT|O_EXCL creates a file");
	CHECK(fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		      (st.st_mode & 0777) == 0644 && st.st_size == 0,
	      "it is an empty regular file, mode 0666 & ~umask");
	CHECK(open("f", O_CREAT | O_EXCL | O_RDWR, 0666) == -1 &&
		      errno == EEXIST,
	      "O_EXCL on an existing file is EEXIST");
	CHECK(write(fd, "hello world", 11) == 11, "write 11 bytes");
	CHECK(lseek(fd, 0, SEEK_CUR) == 11, "the position follows");
	CHECK(lseek(fd, 0, SEEK_SET) == 0 && read(fd, buf, 5) == 5 &&
		      memcmp(buf, "hello", 5) == 0,
	      "read back from the start");
	CHECK(pread(fd, buf, 5, 6) == 5 && memcmp(buf, "world", 5) == 0 &&
		      lseek(fd, 0, SEEK_CUR) == 5,
	      "pread reads at an offset and leaves the position");
	CHECK(pwrite(fd, "W", 1, 6) == 1 && pread(fd, buf, 11, 0) == 11 &&
		      memcmp(buf, "hello World", 11) == 0,
	      "pwrite writes at an offset");
	CHECK(read(fd, buf, sizeof(buf)) == 6, "read stops at the end");
	CHECK(read(fd, buf, sizeof(buf)) == 0, "read at the end returns 0");
	CHECK(lseek(fd, 100, SEEK_SET) == 100 && write(fd, "!", 1) == 1,
	      "write past the end");
	CHECK(fstat(fd, &st) == 0 && st.st_size == 101, "the file grew to 101");
	CHECK(pread(fd, buf, 10, 50) == 10 && buf[0] == 0 && buf[9] == 0,
	      "the hole reads as zeros");
	CHECK(lseek(fd, -1, SEEK_SET) == -1 && errno == EINVAL,
	      "lseek to a negative position is EINVAL");
	CHECK(lseek(fd, 0, 99) == -1 && errno == EINVAL,
	      "lseek with a bad whence is EINVAL");
	CHECK(lseek(fd, -1, SEEK_END) == 100, "lseek from the end");
	CHECK(ftruncate(fd, 5) == 0 && fstat(fd, &st) == 0 && st.st_size == 5,
	      "ftruncate shrinks");
	CHECK(ftruncate(fd, 20) == 0 && pread(fd, buf, 20, 0) == 20 &&
		      memcmp(buf, "hello\0\0\0", 8) == 0,
	      "ftruncate grows with zeros");
	CHECK(ftruncate(fd, -1) == -1 && errno == EINVAL,
	      "ftruncate to -1 is EINVAL");
	struct iovec iov[2] = {{"ab", 2}, {"cd", 2}};
	CHECK(lseek(fd, 0, SEEK_SET) == 0 && writev(fd, iov, 2) == 4 &&
		      pread(fd, buf, 4, 0) == 4 && memcmp(buf, "abcd", 4) == 0,
	      "writev gathers");
	CHECK(close(fd) == 0, "close");
	CHECK(close(fd) == -1 && errno == EBADF, "close twice is EBADF");

	fd = open("f", O_WRONLY | O_APPEND);
	CHECK(fd >= 0 && write(fd, "Z", 1) == 1, "O_APPEND write");
	CHECK(stat("f", &st) == 0 && st.st_size == 21,
	      "O_APPEND writes at the end");
	CHECK(read(fd, buf, 1) == -1 && errno == EBADF,
	      "read on a write-only descriptor is EBADF");
	close(fd);
	fd = open("f", O_RDONLY);
	CHECK(write(fd, "x", 1) == -1 && errno == EBADF,
	      "write on a read-only descriptor is EBADF");
	close(fd);
	fd = open("f", O_RDWR | O_TRUNC);
	CHECK(fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 0,
	      "O_TRUNC empties the file");
	close(fd);

	CHECK(open("missing", O_RDONLY) == -1 && errno == ENOENT,
	      "opening a missing file is ENOENT");
	CHECK(open("f/x", O_RDONLY) == -1 && errno == ENOTDIR,
	      "a file used as a directory is ENOTDIR");
	CHECK(open("f/", O_RDONLY) == -1 && errno == ENOTDIR,
	      "a trailing slash on a file is ENOTDIR");
	CHECK(open(".", O_WRONLY) == -1 && errno == EISDIR,
	      "opening a directory for writing is EISDIR");
	CHECK(open("f", O_RDONLY | O_DIRECTORY) == -1 && errno == ENOTDIR,
	      "O_DIRECTORY on a file is ENOTDIR");
	CHECK(open("new/", O_CREAT | O_RDWR, 0644) == -1 && errno == EISDIR,
	      "O_CREAT with a trailing slash is EISDIR");
	char longname[300];
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CHECK(open(longname, O_RDONLY) == -1 && errno == ENAMETOOLONG,
	      "a 299-byte name is ENAMETOOLONG");
	CHECK(open("", O_RDONLY) == -1 && errno == ENOENT,
	      "an empty path is ENOENT");
	CHECK(RAW3(SYS_open, NULL, O_RDONLY, 0) == -EFAULT,
	      "a NULL path is EFAULT");
	CHECK(read(fd, buf, 1) == -1 && errno == EBADF,
	      "a closed descriptor is EBADF");

	int src = open("src", O_CREAT | O_RDWR, 0644);
	int dst = open("dst", O_CREAT | O_RDWR, 0644);
	CHECK(write(src, "0123456789", 10) == 10, "write a source");
	off_t off = 2;
	CHECK(sendfile(dst, src, &off, 5) == 5 && off == 7,
	      "sendfile copies at an offset and moves it");
	CHECK(pread(dst, buf, 5, 0) == 5 && memcmp(buf, "23456", 5) == 0,
	      "what sendfile wrote");
	close(src);
	close(dst);
	CHECK(truncate("src", 3) == 0 && stat("src", &st) == 0 &&
		      st.st_size == 3,
	      "truncate by path");
	CHECK(truncate(".", 0) == -1 && errno == EISDIR,
	      "truncate of a directory is EISDIR");

	fd = open("g", O_CREAT | O_RDWR, 0644);
	CHECK(fallocate(fd, 0, 0, 10000) == 0 && fstat(fd, &st) == 0 &&
		      st.st_size == 10000,
	      "fallocate extends the file");
	CHECK(fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 20000) == 0 &&
		      fstat(fd, &st) == 0 && st.st_size == 10000,
	      "FALLOC_FL_KEEP_SIZE keeps the size");
	CHECK(pwrite(fd, "xyz", 3, 100) == 3 &&
		      fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				100, 2) == 0 &&
		      pread(fd, buf, 3, 100) == 3 && buf[0] == 0 &&
		      buf[1] == 0 && buf[2] == 'z',
	      "FALLOC_FL_PUNCH_HOLE zeroes a range");
	CHECK(fallocate(fd, 0, -1, 10) == -1 && errno == EINVAL,
	      "fallocate at a negative offset is EINVAL");
	close(fd);
	unlink("g");
	fd = memfd_create("scratch", MFD_CLOEXEC);
	CHECK(fd >= 0 && write(fd, "memfd", 5) == 5 &&
		      pread(fd, buf, 5, 0) == 5 && memcmp(buf, "memfd", 5) == 0,
	      "memfd_create gives a writable anonymous file");
	CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC, "MFD_CLOEXEC");
	close(fd);
	CHECK(memfd_create("x", 0x100) == -1 && errno == EINVAL,
	      "memfd_create with unknown flags is EINVAL");

	unlink("f");
	unlink("src");
	unlink("dst");
	CHECK(rmdir(dir) == 0, "the scratch directory is empty at the end");
	return guest_done("files");
}
