/* build.c: `fresco build`, `fresco images`, `fresco rmi`. */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char build_usage[] =
	"Usage: fresco build [-f FILE] [-t NAME[:TAG]] [-o FILE] [CONTEXT]\n"
	"\n"
	"Build an image from a manifest (default CONTEXT/Frescofile; see\n"
	"docs/manifest.md). The same inputs always give the same image.\n"
	"\n"
	"Options:\n"
	"  -f, --file FILE      the manifest\n"
	"  -t, --tag NAME[:TAG] keep the image in the local store under\n"
	"                       NAME:TAG (TAG defaults to latest)\n"
	"  -o, --output FILE    write the image (a cpio archive) to FILE\n"
	"  -h, --help           show this help\n";

int cmd_build(int argc, char **argv)
{
	static const struct option opts[] = {
		{"file", required_argument, NULL, 'f'},
		{"tag", required_argument, NULL, 't'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	const char *file = NULL, *ref = NULL, *out = NULL, *context = ".";
	char name[128], tag[129], path[PATH_MAX], digest[72];
	struct manifest m;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+f:t:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			file = optarg;
			break;
		case 't':
			ref = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			fputs(build_usage, stdout);
			return 0;
		default:
			fprintf(stderr,
				"fresco build: option '%s' is not known "
				"or needs a value; see 'fresco build "
				"--help'\n",
				argv[optind - 1]);
			return EXIT_FRESCO;
		}
	}
	if (optind < argc)
		context = argv[optind++];
	if (optind < argc) {
		fprintf(stderr,
			"fresco build: one CONTEXT at most; see 'fresco "
			"build --help'\n");
		return EXIT_FRESCO;
	}
	if (ref &&
	    image_ref_parse(ref, name, sizeof(name), tag, sizeof(tag)) < 0) {
		fprintf(stderr,
			"fresco build: '%s' is not an image name: use "
			"lowercase letters, digits, '.', '_' and '-', "
			"then optionally ':TAG'\n",
			ref);
		return EXIT_FRESCO;
	}
	struct stat st;
	if (stat(context, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "fresco: build context %s is not a directory\n",
			context);
		return EXIT_FRESCO;
	}
	if (!file) {
		snprintf(path, sizeof(path), "%s/Frescofile", context);
		file = path;
	}
	if (manifest_load(file, &m) < 0)
		return EXIT_FRESCO;
	void *img;
	size_t len;
	if (image_build(&m, context, &img, &len) < 0)
		return EXIT_FRESCO;
	image_digest(img, len, digest);
	if (out && write_atomic(out, img, len) < 0) {
		fprintf(stderr, "fresco: cannot write %s: %s\n", out,
			strerror(errno));
		return EXIT_FRESCO;
	}
	if (ref && store_put(name, tag, img, len, digest) < 0) {
		fprintf(stderr, "fresco: cannot store the image in %s: %s\n",
			store_root(), strerror(errno));
		return EXIT_FRESCO;
	}
	printf("%s\n", digest);
	return 0;
}

static void human_size(uint64_t n, char *out, size_t cap)
{
	if (n >= 10 << 20)
		snprintf(out, cap, "%.0fMB", n / 1e6);
	else if (n >= 10000)
		snprintf(out, cap, "%.0fkB", n / 1e3);
	else
		snprintf(out, cap, "%lluB", (unsigned long long)n);
}

static void human_age(time_t then, char *out, size_t cap)
{
	long s = (long)(time(NULL) - then);
	if (s < 60)
		snprintf(out, cap, "%ld seconds ago", s < 0 ? 0 : s);
	else if (s < 3600)
		snprintf(out, cap, "%ld minutes ago", s / 60);
	else if (s < 86400)
		snprintf(out, cap, "%ld hours ago", s / 3600);
	else
		snprintf(out, cap, "%ld days ago", s / 86400);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int cmd_images(int argc, char **argv)
{
	char dir[PATH_MAX];
	struct dirent **names;

	if (argc > 1) {
		if (strcmp(argv[1], "--help") == 0) {
			puts("Usage: fresco images\n\nList the images in the "
			     "local store.");
			return 0;
		}
		fprintf(stderr, "fresco images: takes no arguments\n");
		return EXIT_FRESCO;
	}
	printf("%-24s %-12s %-19s %-8s %s\n", "NAME", "TAG", "DIGEST", "SIZE",
	       "CREATED");
	snprintf(dir, sizeof(dir), "%s/tags", store_root());
	int n = scandir(dir, &names, NULL, by_name);
	for (int i = 0; i < n; i++) {
		struct dirent **tags;
		char sub[2 * PATH_MAX];
		if (names[i]->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, names[i]->d_name);
		int m = scandir(sub, &tags, NULL, by_name);
		for (int j = 0; j < m; j++) {
			char *blob = tags[j]->d_name[0] == '.'
					     ? NULL
					     : store_find(names[i]->d_name,
							  tags[j]->d_name);
			struct stat bs, ts;
			char tagpath[3 * PATH_MAX], size[16], age[32];
			snprintf(tagpath, sizeof(tagpath), "%s/%s", sub,
				 tags[j]->d_name);
			if (blob && stat(blob, &bs) == 0 &&
			    stat(tagpath, &ts) == 0) {
				human_size((uint64_t)bs.st_size, size,
					   sizeof(size));
				human_age(ts.st_mtime, age, sizeof(age));
				printf("%-24s %-12s sha256:%.12s %-8s %s\n",
				       names[i]->d_name, tags[j]->d_name,
				       strrchr(blob, '/') + 1, size, age);
			}
			free(blob);
			free(tags[j]);
		}
		if (m >= 0)
			free(tags);
		free(names[i]);
	}
	if (n >= 0)
		free(names);
	return 0;
}

int cmd_rmi(int argc, char **argv)
{
	int status = 0;
	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		puts("Usage: fresco rmi NAME[:TAG]...\n\nRemove images from "
		     "the local store.");
		return 0;
	}
	if (argc < 2) {
		fprintf(stderr, "fresco rmi: name at least one image: fresco "
				"rmi NAME[:TAG]...\n");
		return EXIT_FRESCO;
	}
	for (int k = 1; k < argc; k++) {
		char name[128], tag[129], tagfile[PATH_MAX];
		char *blob;
		if (image_ref_parse(argv[k], name, sizeof(name), tag,
				    sizeof(tag)) < 0 ||
		    !(blob = store_find(name, tag))) {
			fprintf(stderr, "fresco: no image %s in %s\n", argv[k],
				store_root());
			status = 1;
			continue;
		}
		snprintf(tagfile, sizeof(tagfile), "%s/tags/%s/%s",
			 store_root(), name, tag);
		unlink(tagfile);
		char dir[PATH_MAX];
		snprintf(dir, sizeof(dir), "%s/tags/%s", store_root(), name);
		rmdir(dir); /* fails while other tags remain */
		/* the blob goes when no tag refers to it any more */
		int used = 0;
		struct dirent **names;
		char tags[PATH_MAX];
		snprintf(tags, sizeof(tags), "%s/tags", store_root());
		int n = scandir(tags, &names, NULL, NULL);
		for (int i = 0; i < n; i++) {
			struct dirent **ts;
			char sub[2 * PATH_MAX];
			snprintf(sub, sizeof(sub), "%s/%s", tags,
				 names[i]->d_name);
			int m = names[i]->d_name[0] == '.'
					? -1
					: scandir(sub, &ts, NULL, NULL);
			for (int j = 0; j < m; j++) {
				char *other =
					ts[j]->d_name[0] == '.'
						? NULL
						: store_find(names[i]->d_name,
							     ts[j]->d_name);
				used |= other && strcmp(other, blob) == 0;
				free(other);
				free(ts[j]);
			}
			if (m >= 0)
				free(ts);
			free(names[i]);
		}
		if (n >= 0)
			free(names);
		if (!used)
			unlink(blob);
		printf("Untagged: %s:%s\n", name, tag);
		free(blob);
	}
	return status;
}
