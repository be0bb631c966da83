/* volume.c: volumes: `fresco volume create`, the -v/--volume syntax, and
 * the anonymous volumes an image's declared paths get.
 *
 * A volume is a file holding an ext2 file system (made by e2fsprogs'
 * mke2fs) that the guest sees as a virtio block device mounted at a path.
 */
#define _GNU_SOURCE
#include "cli.h"
#include "vmm.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define VOLUME_MIN (1ULL << 20)
#define VOLUME_MAX (16ULL << 40) /* ext2 with 4 KiB blocks */

static const char volume_usage[] =
	"Usage: fresco volume create [--force] FILE --size SIZE\n"
	"\n"
	"Make FILE an empty volume of SIZE bytes (K, M, G, T suffixes): an\n"
	"ext2 file system made by mke2fs, sparse, so it takes host space only\n"
	"as it fills. Attach it with `fresco run -v FILE:/path`. An existing\n"
	"FILE is left alone unless --force is given.\n";

static const char *find_mke2fs(void)
{
	static const char *const where[] = {"/usr/sbin/mke2fs", "/sbin/mke2fs",
					    "/usr/local/sbin/mke2fs", NULL};
	for (int i = 0; where[i]; i++)
		if (access(where[i], X_OK) == 0)
			return where[i];
	return NULL;
}

/* Make an ext2 file system of (size) bytes in the open, empty file (fd),
 * which mke2fs opens as (dev); (shown) names it in messages. 0, or
 * EXIT_FRESCO after printing why. */
static int mkfs(int fd, const char *dev, uint64_t size, const char *shown)
{
	const char *mke2fs = find_mke2fs();
	if (!mke2fs) {
		fprintf(stderr, "fresco: mke2fs not found; install e2fsprogs "
				"(apt-get install e2fsprogs)\n");
		return EXIT_FRESCO;
	}
	if (ftruncate(fd, (off_t)size) < 0) {
		fprintf(stderr, "fresco: %s: cannot size it: %s\n", shown,
			strerror(errno));
		return EXIT_FRESCO;
	}
	char blocks[32];
	snprintf(blocks, sizeof(blocks), "%llu",
		 (unsigned long long)(size / 4096));
	/* 4 KiB blocks, no blocks reserved for root: the guest is alone */
	char *argv[] = {(char *)mke2fs, "-q", "-F", "-t",	 "ext2", "-b",
			"4096",		"-m", "0",  (char *)dev, blocks, NULL};
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	pid_t pid;
	int e = posix_spawn(&pid, mke2fs, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	int status = 0;
	if (e == 0 && waitpid(pid, &status, 0) < 0)
		e = errno;
	if (e || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "fresco: %s: mke2fs failed%s%s\n", shown,
			e ? ": " : " (its message is above)",
			e ? strerror(e) : "");
		return EXIT_FRESCO;
	}
	return 0;
}

static int volume_create(const char *file, uint64_t size, int force)
{
	struct stat st;
	if (!force && lstat(file, &st) == 0) {
		fprintf(stderr,
			"fresco volume create: %s already exists; remove it "
			"or give --force to overwrite it\n",
			file);
		return EXIT_FRESCO;
	}
	/* made beside it, then renamed: never half a volume at (file) */
	char *tmp;
	if (asprintf(&tmp, "%s.tmp-%d", file, (int)getpid()) < 0)
		return EXIT_FRESCO;
	int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "fresco volume create: %s: %s\n", file,
			strerror(errno));
		free(tmp);
		return EXIT_FRESCO;
	}
	int r = mkfs(fd, tmp, size, file);
	if (r == 0 && fsync(fd) < 0) {
		fprintf(stderr, "fresco volume create: %s: %s\n", file,
			strerror(errno));
		r = EXIT_FRESCO;
	}
	close(fd);
	if (r == 0 && rename(tmp, file) < 0) {
		fprintf(stderr, "fresco volume create: %s: %s\n", file,
			strerror(errno));
		r = EXIT_FRESCO;
	}
	if (r)
		unlink(tmp);
	free(tmp);
	return r;
}

int cmd_volume(int argc, char **argv)
{
	static const struct option opts[] = {
		{"size", required_argument, NULL, 's'},
		{"force", no_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	const char *size_arg = NULL;
	int force = 0, c;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		fputs(volume_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_FRESCO : 0;
	}
	if (strcmp(argv[1], "create") != 0) {
		fprintf(stderr,
			"fresco volume: unknown subcommand '%s'; see 'fresco "
			"volume --help'\n",
			argv[1]);
		return EXIT_FRESCO;
	}
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc - 1, argv + 1, "s:fh", opts, NULL)) !=
	       -1) {
		switch (c) {
		case 's':
			size_arg = optarg;
			break;
		case 'f':
			force = 1;
			break;
		case 'h':
			fputs(volume_usage, stdout);
			return 0;
		default:
			fprintf(stderr,
				"fresco volume create: option '%s' is not "
				"known or needs a value; see 'fresco volume "
				"--help'\n",
				argv[optind]);
			return EXIT_FRESCO;
		}
	}
	if (optind != argc - 2) {
		fprintf(stderr, "fresco volume create: give one FILE; see "
				"'fresco volume --help'\n");
		return EXIT_FRESCO;
	}
	if (!size_arg) {
		fprintf(stderr, "fresco volume create: give its size, like "
				"--size 1G\n");
		return EXIT_FRESCO;
	}
	uint64_t size = parse_size(size_arg);
	if (size < VOLUME_MIN || size > VOLUME_MAX) {
		fprintf(stderr,
			"fresco volume create: --size %s: give a size from 1M "
			"to 16T, like 1G\n",
			size_arg);
		return EXIT_FRESCO;
	}
	return volume_create(argv[optind + 1], size & ~4095ULL, force);
}

/* A guest mount path: absolute, not "/", no "." or ".." components, and
 * nothing the kernel command line would have to quote. */
int volume_path_ok(const char *p)
{
	if (p[0] != '/' || strcmp(p, "/") == 0 || strpbrk(p, " \t\n\"\\"))
		return 0;
	for (const char *c = p; *c;) {
		while (*c == '/')
			c++;
		size_t n = strcspn(c, "/");
		if ((n == 1 && c[0] == '.') || (n == 2 && !strncmp(c, "..", 2)))
			return 0;
		c += n;
	}
	return 1;
}

int volume_parse(const char *spec, struct vm_disk *d, char **guest)
{
	const char *colon = strchr(spec, ':');
	char *host = NULL, *path = NULL, *real = NULL;

	if (!colon || colon == spec || colon[1] != '/') {
		fprintf(stderr,
			"fresco run: --volume %s: give FILE:/PATH[:ro], "
			"like data.img:/data\n",
			spec);
		return EXIT_FRESCO;
	}
	if (!(path = strdup(colon + 1)) ||
	    !(host = strndup(spec, (size_t)(colon - spec))))
		goto fail;
	d->readonly = 0;
	char *opt = strchr(path, ':');
	if (opt) {
		*opt++ = '\0';
		if (strcmp(opt, "ro") == 0) {
			d->readonly = 1;
		} else if (strcmp(opt, "rw") != 0) {
			fprintf(stderr,
				"fresco run: --volume %s: unknown option "
				"'%s'; use ro or rw\n",
				spec, opt);
			goto fail;
		}
	}
	if (!volume_path_ok(path)) {
		fprintf(stderr,
			"fresco run: --volume %s: the guest path must be an "
			"absolute directory other than /, without spaces, "
			"'.' or '..'\n",
			spec);
		goto fail;
	}
	/* absolute, so a detached monitor finds it from any directory */
	if (!(real = realpath(host, NULL))) {
		int e = errno;
		fprintf(stderr, "fresco run: volume %s: %s%s\n", host,
			strerror(e),
			e == ENOENT ? "; make one with `fresco volume create "
				      "FILE --size SIZE`"
				    : "");
		goto fail;
	}
	free(host);
	d->path = real;
	*guest = path;
	return 0;
fail:
	free(host);
	free(path);
	return EXIT_FRESCO;
}

int volume_anonymous(struct vm_disk *d, const char *guest)
{
	/* an unlinked file that lives as long as the VM's monitor */
	const char *dir = getenv("TMPDIR");
	char *tmp;
	if (asprintf(&tmp, "%s/fresco-volume-XXXXXX",
		     dir && *dir ? dir : "/var/tmp") < 0)
		return EXIT_FRESCO;
	int fd = mkstemp(tmp);
	if (fd < 0) {
		fprintf(stderr,
			"fresco run: cannot make a volume for %s: %s: %s\n",
			guest, tmp, strerror(errno));
		return EXIT_FRESCO;
	}
	unlink(tmp);
	free(tmp);
	char *path; /* the descriptor is inherited by mke2fs and the VM */
	if (asprintf(&path, "/proc/self/fd/%d", fd) < 0)
		return EXIT_FRESCO;
	int r = mkfs(fd, path, ANON_VOLUME_SIZE, guest);
	if (r)
		return r;
	d->path = path;
	d->readonly = 0;
	return 0;
}
