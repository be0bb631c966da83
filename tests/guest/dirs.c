/* dirs.c: directories, links and renames, and their errno on errors. */
#define _GNU_SOURCE
#include "guest.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

static char dir[] = "/tmp/dirs-XXXXXX";

static int count_entries(const char *path)
{
	DIR *d = opendir(path);
	int n = 0;
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void touch(const char *p)
{
	close(open(p, O_CREAT | O_WRONLY, 0644));
}

int main(void)
{
	struct stat st;
	char buf[PATH_MAX];

	CHECK(mkdtemp(dir) != NULL && chdir(dir) == 0, "scratch directory");
	CHECK(getcwd(buf, sizeof(buf)) && strcmp(buf, dir) == 0,
	      "getcwd names it");
	CHECK(mkdir("d", 0755) == 0, "mkdir");
	CHECK(mkdir("d", 0755) == -1 && errno == EEXIST, "mkdir twice EEXIST");
	CHECK(mkdir("x/y", 0755) == -1 && errno == ENOENT,
	      "mkdir under a missing parent is ENOENT");
	CHECK(stat("d", &st) == 0 && S_ISDIR(st.st_mode) && st.st_nlink == 2,
	      "a new directory has 2 links");
	CHECK(mkdir("d/sub", 0755) == 0 && stat("d", &st) == 0 &&
		      st.st_nlink == 3,
	      "a subdirectory adds a link to its parent");
	for (int i = 0; i < 100; i++) {
		char name[32];
		snprintf(name, sizeof(name), "d/file%03d", i);
		touch(name);
	}
	CHECK(count_entries("d") == 103, "readdir sees . .. sub and 100 files");
	CHECK(chdir("d/sub") == 0 && getcwd(buf, sizeof(buf)) &&
		      strcmp(buf + strlen(dir), "/d/sub") == 0,
	      "chdir into a subdirectory");
	CHECK(chdir("../..") == 0 && getcwd(buf, sizeof(buf)) &&
		      strcmp(buf, dir) == 0,
	      "chdir .. twice comes back");
	CHECK(chdir("d/file000") == -1 && errno == ENOTDIR,
	      "chdir to a file is ENOTDIR");
	CHECK(rmdir("d") == -1 && errno == ENOTEMPTY,
	      "rmdir of a full directory is ENOTEMPTY");
	CHECK(rmdir("d/file000") == -1 && errno == ENOTDIR,
	      "rmdir of a file is ENOTDIR");
	CHECK(unlink("d") == -1 && errno == EISDIR,
	      "unlink of a directory is EISDIR");
	CHECK(unlink("d/missing") == -1 && errno == ENOENT,
	      "unlink of a missing file is ENOENT");

	/* links */
	CHECK(link("d/file000", "hard") == 0, "link");
	CHECK(stat("hard", &st) == 0 && st.st_nlink == 2,
	      "a hard link counts twice");
	CHECK(link("d", "dlink") == -1 && errno == EPERM,
	      "a hard link to a directory is EPERM");
	CHECK(link("d/file000", "hard") == -1 && errno == EEXIST,
	      "link over an existing name is EEXIST");
	CHECK(symlink("d/file001", "soft") == 0, "symlink");
	ssize_t n = readlink("soft", buf, sizeof(buf));
	CHECK(n == 9 && memcmp(buf, "d/file001", 9) == 0,
	      "readlink returns the target");
	CHECK(lstat("soft", &st) == 0 && S_ISLNK(st.st_mode) && st.st_size == 9,
	      "lstat sees the link");
	CHECK(stat("soft", &st) == 0 && S_ISREG(st.st_mode), "stat follows it");
	CHECK(readlink("hard", buf, sizeof(buf)) == -1 && errno == EINVAL,
	      "readlink of a file is EINVAL");
	CHECK(symlink("loop2", "loop1") == 0 && symlink("loop1", "loop2") == 0,
	      "a symlink loop");
	CHECK(open("loop1", O_RDONLY) == -1 && errno == ELOOP,
	      "following a loop is ELOOP");
	CHECK(open("soft", O_RDONLY | O_NOFOLLOW) == -1 && errno == ELOOP,
	      "O_NOFOLLOW on a link is ELOOP");
	CHECK(symlink("nowhere", "dangling") == 0 &&
		      stat("dangling", &st) == -1 && errno == ENOENT,
	      "a dangling link is ENOENT to stat");
	CHECK(symlink("d", "dirlink") == 0 && stat("dirlink/sub", &st) == 0 &&
		      S_ISDIR(st.st_mode),
	      "a link to a directory works in the middle of a path");

	/* renames */
	CHECK(rename("d/file002", "renamed") == 0 &&
		      stat("renamed", &st) == 0 && stat("d/file002", &st) == -1,
	      "rename moves a file between directories");
	touch("victim");
	CHECK(rename("renamed", "victim") == 0 && count_entries(".") > 0 &&
		      stat("renamed", &st) == -1,
	      "rename replaces a file");
	CHECK(rename("d", "d/sub/inside") == -1 && errno == EINVAL,
	      "renaming a directory into itself is EINVAL");
	CHECK(mkdir("e", 0755) == 0 && rename("victim", "e") == -1 &&
		      errno == EISDIR,
	      "renaming a file over a directory is EISDIR");
	CHECK(rename("e", "victim") == -1 && errno == ENOTDIR,
	      "renaming a directory over a file is ENOTDIR");
	CHECK(rename("e", "d") == -1 && errno == ENOTEMPTY,
	      "renaming over a full directory is ENOTEMPTY");
	CHECK(mkdir("f", 0755) == 0 && rename("e", "f") == 0 &&
		      stat("e", &st) == -1 && stat("f", &st) == 0,
	      "renaming over an empty directory replaces it");
	CHECK(RAW6(SYS_renameat2, AT_FDCWD, "f", AT_FDCWD, "d",
		   1 /* RENAME_NOREPLACE */, 0) == -EEXIST,
	      "RENAME_NOREPLACE over an existing name is EEXIST");
	CHECK(rename("missing", "x") == -1 && errno == ENOENT,
	      "renaming a missing file is ENOENT");

	/* permissions and times */
	CHECK(chmod("hard", 0600) == 0 && stat("hard", &st) == 0 &&
		      (st.st_mode & 07777) == 0600,
	      "chmod");
	CHECK(access("hard", R_OK | W_OK) == 0, "root may read and write");
	CHECK(access("hard", X_OK) == -1 && errno == EACCES,
	      "not even root may execute a file without x bits");
	CHECK(access("hard", 8) == -1 && errno == EINVAL,
	      "access with a bad mode is EINVAL");
	struct timespec ts[2] = {{1000000000, 0}, {1200000000, 5}};
	CHECK(utimensat(AT_FDCWD, "hard", ts, 0) == 0 &&
		      stat("hard", &st) == 0 && st.st_atime == 1000000000 &&
		      st.st_mtime == 1200000000 && st.st_mtim.tv_nsec == 5,
	      "utimensat sets both times");
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1].tv_nsec = UTIME_NOW;
	CHECK(utimensat(AT_FDCWD, "hard", ts, 0) == 0 &&
		      stat("hard", &st) == 0 && st.st_atime == 1000000000 &&
		      st.st_mtime > 1600000000,
	      "UTIME_OMIT keeps, UTIME_NOW sets the current time");

	/* clean up, checking rmdir on the way */
	for (int i = 0; i < 100; i++) {
		char name[32];
		snprintf(name, sizeof(name), "d/file%03d", i);
		unlink(name);
	}
	const char *files[] = {"hard",	   "soft",    "loop1", "loop2",
			       "dangling", "dirlink", "victim"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		unlink(files[i]);
	CHECK(rmdir("d/sub") == 0 && rmdir("d") == 0 && rmdir("f") == 0,
	      "rmdir of emptied directories");
	CHECK(rmdir(".") == -1 && errno == EINVAL, "rmdir . is EINVAL");
	CHECK(chdir("/") == 0 && rmdir(dir) == 0, "the scratch directory goes");
	return guest_done("dirs");
}
