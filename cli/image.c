/* image.c: building images, their run configuration, and the local store.
 *
 * An image is one cpio newc archive: the root filesystem plus
 * IMAGE_CONFIG_PATH, a text file of "key value" lines (values with "\\n"
 * and "\\\\" escaped) saying how to run it. Builds are reproducible:
 * entries sorted by path, every parent directory present, owner root,
 * time 0, inode numbers in order.
 *
 * Store layout under store_root():
 *   blobs/sha256/HEX       images, named by their digest
 *   tags/NAME/TAG          a file holding "sha256:HEX\n"
 */
#define _GNU_SOURCE
#include "cli.h"
#include "lib/lib.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct entry {
	char *path; /* in the image, without the leading '/' */
	uint32_t mode;
	char *host; /* the file's source, NULL for directories */
	char *data; /* or its contents */
	size_t size;
};

struct tree {
	struct entry *v;
	size_t n, cap;
};

static int tree_add(struct tree *t, const char *path, uint32_t mode,
		    const char *host, char *data, size_t size)
{
	while (*path == '/')
		path++;
	for (size_t k = 0; k < t->n; k++) {
		if (strcmp(t->v[k].path, path) == 0) {
			if (S_ISDIR(mode) && S_ISDIR(t->v[k].mode))
				return 0;
			fprintf(stderr,
				"fresco: two sources for /%s in the "
				"image; give them different dest\n",
				path);
			return -1;
		}
	}
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->v = realloc(t->v, t->cap * sizeof(*t->v));
		if (!t->v)
			return -1;
	}
	t->v[t->n++] = (struct entry){strdup(path), mode,
				      host ? strdup(host) : NULL, data, size};
	return 0;
}

/* Add the directories above (path). */
static int tree_parents(struct tree *t, const char *path)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (tree_add(t, buf, S_IFDIR | 0755, NULL, NULL, 0) < 0)
			return -1;
		*p = '/';
	}
	return 0;
}

static int tree_file(struct tree *t, const char *dest, const char *host,
		     mode_t mode)
{
	if (tree_parents(t, dest) < 0)
		return -1;
	return tree_add(t, dest, S_IFREG | (mode & 07777), host, NULL, 0);
}

/* Copy (host), a file or a directory tree, to (dest) in the image. */
static struct tree *walk_tree;
static const char *walk_root, *walk_dest;

static int walk_one(const char *path, const struct stat *st, int type,
		    struct FTW *ftw)
{
	char dest[PATH_MAX];
	(void)ftw;
	snprintf(dest, sizeof(dest), "%s%s", walk_dest,
		 path + strlen(walk_root));
	if (type == FTW_D)
		return tree_parents(walk_tree, dest) < 0 ||
		       tree_add(walk_tree, dest,
				S_IFDIR | (st->st_mode & 07777), NULL, NULL,
				0) < 0;
	if (type == FTW_F)
		return tree_file(walk_tree, dest, path, st->st_mode) < 0;
	if (type == FTW_SL) {
		char target[PATH_MAX];
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		if (n < 0)
			return 1;
		char *data = malloc((size_t)n);
		memcpy(data, target, (size_t)n);
		return tree_parents(walk_tree, dest) < 0 ||
		       tree_add(walk_tree, dest, S_IFLNK | 0777, NULL, data,
				(size_t)n) < 0;
	}
	fprintf(stderr,
		"fresco: %s: cannot be put in an image (not a file, "
		"directory or link)\n",
		path);
	return 1;
}

static int add_copy(struct tree *t, const struct manifest *m,
		    const struct copy_rule *c, const char *context)
{
	char pattern[PATH_MAX];
	glob_t g;
	int dir_dest = c->dest[strlen(c->dest) - 1] == '/';

	snprintf(pattern, sizeof(pattern), "%s/%s", context, c->src);
	if (glob(pattern, GLOB_NOSORT | GLOB_BRACE, NULL, &g) != 0) {
		fprintf(stderr,
			"fresco: %s:%d:%d: '%s' matches nothing in the "
			"context %s\n",
			m->file, c->line, c->column, c->src, context);
		return -1;
	}
	if (g.gl_pathc > 1)
		dir_dest = 1;
	for (size_t k = 0; k < g.gl_pathc; k++) {
		char dest[PATH_MAX], copy[PATH_MAX];
		snprintf(copy, sizeof(copy), "%s", g.gl_pathv[k]);
		if (dir_dest)
			snprintf(dest, sizeof(dest), "%s%s%s", c->dest,
				 c->dest[strlen(c->dest) - 1] == '/' ? "" : "/",
				 basename(copy));
		else
			snprintf(dest, sizeof(dest), "%s", c->dest);
		walk_tree = t;
		walk_root = g.gl_pathv[k];
		walk_dest = dest;
		if (nftw(g.gl_pathv[k], walk_one, 16, FTW_PHYS) != 0) {
			globfree(&g);
			return -1;
		}
	}
	globfree(&g);
	return 0;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->path,
		      ((const struct entry *)b)->path);
}

/* Append "key value\n", escaping newlines and backslashes in (value). */
static void config_line(char **buf, size_t *len, const char *key,
			const char *value)
{
	size_t need = strlen(key) + 2 * strlen(value) + 3;
	*buf = realloc(*buf, *len + need);
	char *p = *buf + *len;
	p += sprintf(p, "%s ", key);
	for (const char *v = value; *v; v++) {
		if (*v == '\n' || *v == '\\')
			*p++ = '\\';
		*p++ = *v == '\n' ? 'n' : *v;
	}
	*p++ = '\n';
	*len = (size_t)(p - *buf);
}

static char *make_config(const struct manifest *m, const char *init,
			 size_t *len)
{
	char *buf = NULL, num[32];
	*len = 0;
	config_line(&buf, len, "init", init);
	for (char **a = m->args; a && *a; a++)
		config_line(&buf, len, "arg", *a);
	for (char **e = m->env; e && *e; e++)
		config_line(&buf, len, "env", *e);
	config_line(&buf, len, "workdir", m->workdir ? m->workdir : "/");
	if (m->memory) {
		snprintf(num, sizeof(num), "%llu",
			 (unsigned long long)m->memory);
		config_line(&buf, len, "memory", num);
	}
	for (char **p = m->ports; p && *p; p++)
		config_line(&buf, len, "port", *p);
	for (char **v = m->volumes; v && *v; v++)
		config_line(&buf, len, "volume", *v);
	return buf;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	if (n >= 0 && (buf = malloc((size_t)n + 1)) &&
	    fread(buf, 1, (size_t)n, f) == (size_t)n)
		*len = (size_t)n;
	else {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

int image_build(const struct manifest *m, const char *context, void **img,
		size_t *len)
{
	struct tree t = {0};
	char prog[PATH_MAX], copy[PATH_MAX], init[PATH_MAX];
	struct elf_plan plan;
	const char *why;
	size_t plen;

	snprintf(prog, sizeof(prog), "%s/%s", context, m->program);
	char *data = slurp(prog, &plen);
	if (!data) {
		fprintf(stderr, "fresco: %s:%d:%d: program %s: %s\n", m->file,
			m->program_line, m->program_column, prog,
			strerror(errno));
		return -1;
	}
	if (elf_plan(data, plen, &plan, &why) < 0) {
		fprintf(stderr, "fresco: %s:%d:%d: program %s cannot run: %s\n",
			m->file, m->program_line, m->program_column, prog, why);
		return -1;
	}
	free(data);
	snprintf(copy, sizeof(copy), "%s", m->program);
	snprintf(init, sizeof(init), "/bin/%s", basename(copy));
	if (tree_file(&t, init, prog, 0755) < 0)
		return -1;
	for (int k = 0; k < m->nfiles; k++)
		if (add_copy(&t, m, &m->files[k], context) < 0)
			return -1;
	size_t clen;
	char *config = make_config(m, init, &clen);
	if (tree_parents(&t, "/" IMAGE_CONFIG_PATH) < 0 ||
	    tree_add(&t, IMAGE_CONFIG_PATH, S_IFREG | 0444, NULL, config,
		     clen) < 0)
		return -1;
	qsort(t.v, t.n, sizeof(*t.v), by_path);

	size_t cap = cpio_entry_size("TRAILER!!!", 0), off = 0;
	for (size_t k = 0; k < t.n; k++) {
		struct entry *e = &t.v[k];
		if (e->host && !(e->data = slurp(e->host, &e->size))) {
			fprintf(stderr, "fresco: %s: %s\n", e->host,
				strerror(errno));
			return -1;
		}
		cap += cpio_entry_size(e->path, e->size);
	}
	char *buf = malloc(cap);
	if (!buf)
		return -1;
	for (size_t k = 0; k < t.n; k++)
		cpio_put(buf, cap, &off, t.v[k].path, t.v[k].mode,
			 (uint32_t)k + 1, t.v[k].data, t.v[k].size);
	cpio_put(buf, cap, &off, "TRAILER!!!", 0, 0, NULL, 0);
	*img = buf;
	*len = off;
	return 0;
}

static char *unescape(const char *s, size_t n)
{
	char *out = malloc(n + 1), *p = out;
	for (size_t k = 0; k < n; k++) {
		if (s[k] == '\\' && k + 1 < n) {
			k++;
			*p++ = s[k] == 'n' ? '\n' : s[k];
		} else {
			*p++ = s[k];
		}
	}
	*p = '\0';
	return out;
}

static void push(char ***v, char *s)
{
	size_t n = 0;
	while (*v && (*v)[n])
		n++;
	*v = realloc(*v, (n + 2) * sizeof(char *));
	(*v)[n] = s;
	(*v)[n + 1] = NULL;
}

int image_config(const void *img, size_t len, struct run_config *rc)
{
	struct cpio_file f;
	memset(rc, 0, sizeof(*rc));
	if (cpio_find(img, len, IMAGE_CONFIG_PATH, &f) < 0)
		return -1;
	const char *p = f.data, *end = p + f.size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		const char *sp = memchr(p, ' ', (size_t)(nl - p));
		if (sp) {
			size_t klen = (size_t)(sp - p);
			char *v = unescape(sp + 1, (size_t)(nl - sp - 1));
			if (klen == 4 && !memcmp(p, "init", 4))
				rc->init = v;
			else if (klen == 3 && !memcmp(p, "arg", 3))
				push(&rc->args, v);
			else if (klen == 3 && !memcmp(p, "env", 3))
				push(&rc->env, v);
			else if (klen == 7 && !memcmp(p, "workdir", 7))
				rc->workdir = v;
			else if (klen == 6 && !memcmp(p, "memory", 6))
				rc->memory = strtoull(v, NULL, 10);
			else if (klen == 6 && !memcmp(p, "volume", 6))
				push(&rc->volumes, v);
			else if (klen == 4 && !memcmp(p, "port", 4))
				push(&rc->ports, v);
			else
				free(v);
		}
		p = nl + 1;
	}
	return rc->init ? 0 : -1;
}

void image_digest(const void *img, size_t len, char out[72])
{
	struct sha256_ctx ctx;
	uint8_t d[SHA256_DIGEST_SIZE];
	sha256_init(&ctx);
	sha256_update(&ctx, len, img);
	sha256_digest(&ctx, sizeof(d), d);
	char *p = out + sprintf(out, "sha256:");
	for (int k = 0; k < SHA256_DIGEST_SIZE; k++)
		p += sprintf(p, "%02x", d[k]);
}

int write_atomic(const char *path, const void *img, size_t len)
{
	char tmp[2 * PATH_MAX + 32];
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	const char *p = img;
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(fd, p + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto err;
		done += (size_t)n;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		goto err;
	}
	if (rename(tmp, path) < 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
err:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}

const char *store_root(void)
{
	static char path[PATH_MAX];
	const char *env = getenv("FRESCO_STORE");
	if (env && *env)
		return env;
	if (geteuid() == 0)
		return "/var/lib/fresco";
	const char *xdg = getenv("XDG_DATA_HOME");
	if (xdg && *xdg)
		snprintf(path, sizeof(path), "%s/fresco", xdg);
	else
		snprintf(path, sizeof(path), "%s/.local/share/fresco",
			 getenv("HOME") ? getenv("HOME") : "/");
	return path;
}

int image_ref_parse(const char *ref, char *name, size_t ncap, char *tag,
		    size_t tcap)
{
	const char *colon = strrchr(ref, ':');
	size_t nlen = colon ? (size_t)(colon - ref) : strlen(ref);
	const char *t = colon ? colon + 1 : "latest";
	if (nlen == 0 || nlen >= ncap || !*t || strlen(t) >= tcap)
		return -1;
	for (size_t k = 0; k < nlen; k++) {
		char c = ref[k];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      (k > 0 && (c == '.' || c == '_' || c == '-'))))
			return -1;
	}
	for (const char *c = t; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '.' || *c == '_' ||
		      *c == '-'))
			return -1;
	memcpy(name, ref, nlen);
	name[nlen] = '\0';
	snprintf(tag, tcap, "%s", t);
	return 0;
}

int make_dirs(const char *path, mode_t mode)
{
	char buf[2 * PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, mode) < 0 && errno != EEXIST ? -1 : 0;
}

int store_put(const char *name, const char *tag, const void *img, size_t len,
	      char digest[72])
{
	char dir[PATH_MAX], blob[2 * PATH_MAX], tagfile[2 * PATH_MAX];
	const char *root = store_root();
	image_digest(img, len, digest);
	snprintf(dir, sizeof(dir), "%s/blobs/sha256", root);
	snprintf(blob, sizeof(blob), "%s/%s", dir, digest + 7);
	if (make_dirs(dir, 0755) < 0 ||
	    (access(blob, F_OK) < 0 && write_atomic(blob, img, len) < 0))
		return -1;
	snprintf(dir, sizeof(dir), "%s/tags/%s", root, name);
	snprintf(tagfile, sizeof(tagfile), "%s/%s", dir, tag);
	char line[80];
	int n = snprintf(line, sizeof(line), "%s\n", digest);
	return make_dirs(dir, 0755) < 0
		       ? -1
		       : write_atomic(tagfile, line, (size_t)n);
}

char *store_find(const char *name, const char *tag)
{
	char tagfile[PATH_MAX], digest[80] = {0};
	snprintf(tagfile, sizeof(tagfile), "%s/tags/%s/%s", store_root(), name,
		 tag);
	FILE *f = fopen(tagfile, "r");
	if (!f)
		return NULL;
	char *ok = fgets(digest, sizeof(digest), f);
	fclose(f);
	if (!ok || strncmp(digest, "sha256:", 7) != 0 || strlen(digest) < 71)
		return NULL;
	digest[71] = '\0';
	char *path = malloc(PATH_MAX);
	snprintf(path, PATH_MAX, "%s/blobs/sha256/%s", store_root(),
		 digest + 7);
	return path;
}
