/* devproc.c: the files every VM has: /dev devices, /proc, /tmp, /etc. */
#define _GNU_SOURCE
#include "guest.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

static char text[8192];

/* The whole of a (small) file as a string, or "" */
static const char *slurp(const char *path)
{
	int fd = open(path, O_RDONLY);
	ssize_t n, total = 0;
	text[0] = '\0';
	if (fd < 0)
		return text;
	while ((n = read(fd, text + total, sizeof(text) - 1 - total)) > 0)
		total += n;
	text[total] = '\0';
	close(fd);
	return text;
}

int main(void)
{
	char buf[64];
	struct stat st;
	int fd;

	fd = open("/dev/null", O_RDWR);
	CHECK(fd >= 0 && read(fd, buf, sizeof(buf)) == 0 &&
		      write(fd, buf, sizeof(buf)) == sizeof(buf),
	      "/dev/null reads nothing and takes everything");
	CHECK(fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) &&
		      st.st_rdev == makedev(1, 3),
	      "/dev/null is character device 1,3");
	close(fd);
	fd = open("/dev/zero", O_RDONLY);
	memset(buf, 1, sizeof(buf));
	CHECK(read(fd, buf, sizeof(buf)) == sizeof(buf) && buf[0] == 0 &&
		      buf[63] == 0,
	      "/dev/zero reads zeros");
	close(fd);
	fd = open("/dev/full", O_WRONLY);
	CHECK(write(fd, "x", 1) == -1 && errno == ENOSPC,
	      "/dev/full is ENOSPC to write");
	close(fd);
	fd = open("/dev/urandom", O_RDONLY);
	uint64_t r1 = 0, r2 = 0;
	CHECK(read(fd, &r1, 8) == 8 && read(fd, &r2, 8) == 8 && r1 != r2,
	      "/dev/urandom reads random bytes");
	close(fd);
	CHECK(stat("/dev/random", &st) == 0 && stat("/dev/tty", &st) == 0 &&
		      stat("/dev/console", &st) == 0,
	      "/dev/random, /dev/tty and /dev/console exist");
	fd = open("/dev/console", O_WRONLY);
	CHECK(fd >= 0 && write(fd, "console\n", 8) == 8,
	      "writing /dev/console reaches the console");
	close(fd);

	CHECK(stat("/tmp", &st) == 0 && (st.st_mode & 07777) == 01777,
	      "/tmp is sticky and world-writable");
	CHECK(strstr(slurp("/etc/passwd"), "root:x:0:0:") != NULL,
	      "/etc/passwd has root");
	CHECK(strcmp(slurp("/etc/hostname"), "fresco\n") == 0, "/etc/hostname");

	CHECK(strncmp(slurp("/proc/meminfo"), "MemTotal:", 9) == 0 &&
		      atol(text + 9) > 1000,
	      "/proc/meminfo starts with MemTotal");
	CHECK(strncmp(slurp("/proc/self/stat"), "1 (devproc) R 0 ", 16) == 0,
	      "/proc/self/stat: pid 1, devproc, running, parent 0");
	char line[64];
	snprintf(line, sizeof(line), "%08lx-", (unsigned long)0x400000);
	CHECK(strstr(slurp("/proc/self/maps"), "r-xp") != NULL &&
		      strstr(text, line) != NULL,
	      "/proc/self/maps lists the program's text");
	CHECK(strstr(slurp("/proc/mounts"), " / ") != NULL,
	      "/proc/mounts has the root");
	CHECK(strstr(slurp("/proc/cpuinfo"), "processor\t: 0") != NULL,
	      "/proc/cpuinfo has processor 0");
	CHECK(strchr(slurp("/proc/uptime"), '.') != NULL, "/proc/uptime");
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf));
	CHECK(n == 8 && memcmp(buf, "/devproc", 8) == 0, "/proc/self/exe");
	fd = open("/proc/meminfo", O_RDONLY);
	CHECK(read(fd, buf, 8) == 8 && lseek(fd, 0, SEEK_SET) == 0 &&
		      read(fd, buf, 9) == 9 && memcmp(buf, "MemTotal:", 9) == 0,
	      "/proc files can be read again after lseek");
	CHECK(write(fd, "x", 1) == -1 && errno == EBADF,
	      "/proc files opened read-only refuse writes");
	close(fd);
	/* /proc/self/fd and /dev/std* */
	n = readlink("/proc/self/fd/1", buf, sizeof(buf) - 1);
	CHECK(n > 5 && memcmp(buf, "pipe:[", 6) == 0,
	      "fd 1 reads as a pipe without --tty");
	fd = open("/tmp/named", O_CREAT | O_RDWR, 0600);
	char link[32];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, sizeof(buf) - 1);
	CHECK(n == 10 && memcmp(buf, "/tmp/named", 10) == 0,
	      "a file's descriptor reads as its path");
	CHECK(write(fd, "data", 4) == 4, "write the file");
	int again = open(link, O_RDONLY);
	CHECK(again >= 0 && read(again, buf, 4) == 4 &&
		      memcmp(buf, "data", 4) == 0,
	      "opening /proc/self/fd/N opens the file again, from the start");
	close(again);
	unlink("/tmp/named");
	n = readlink(link, buf, sizeof(buf) - 1);
	CHECK(n == 20 && memcmp(buf, "/tmp/named (deleted)", 20) == 0,
	      "and reads as deleted once unlinked");
	close(fd);
	int count = 0, has_link = 0;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.') {
			count++;
			has_link |= e->d_type == DT_LNK;
		}
	if (d)
		closedir(d);
	CHECK(count >= 3 && has_link, "/proc/self/fd lists the descriptors");
	fd = open("/dev/stdout", O_WRONLY);
	CHECK(fd >= 3 && write(fd, "via /dev/stdout\n", 16) == 16,
	      "/dev/stdout writes to standard output");
	close(fd);
	CHECK(readlink("/dev/stdin", buf, sizeof(buf)) == 15 &&
		      memcmp(buf, "/proc/self/fd/0", 15) == 0,
	      "/dev/stdin is a link to /proc/self/fd/0");
	CHECK(open("/proc/self/fd/99", O_RDONLY) == -1 && errno == ENOENT,
	      "a closed descriptor's link does not exist");
	return guest_done("devproc");
}
