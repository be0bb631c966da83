/* path.c: resolving path names, as Linux's path walk does for one
 * process running as root: ".", "..", symbolic links (at most 40 on one
 * walk), trailing slashes, ENOENT / ENOTDIR / ELOOP / ENAMETOOLONG. */
#include "fs/fs.h"
#include <linux/stat.h>

/* The walk's remaining path lives here while symbolic links expand it. */
static char walk_buf[2][FS_PATH_MAX + 1];

void walk_done(struct walk *w)
{
	if (w->parent)
		inode_put(w->parent);
	if (w->inode)
		inode_put(w->inode);
	w->parent = w->inode = NULL;
}

/* Replace the walk's path with (target) + "/" + (rest); flips buffers. */
static int splice(int *cur, const char *target, const char *rest)
{
	char *out = walk_buf[!*cur];
	size_t t = strlen(target), r = strlen(rest);
	if (t + 1 + r > FS_PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(out, target, t);
	if (r == 0) { /* the link was the last component */
		out[t] = '\0';
	} else {
		out[t] = '/';
		memcpy(out + t + 1, rest, r + 1);
	}
	*cur = !*cur;
	return 0;
}

const char *link_target(const struct inode *i)
{
	return i->procexe ? current->exe : i->u.lnk.target;
}

/*
 * /proc/self/fd/N, a "magic link" as on Linux: followed, it is the open
 * file's own inode (and (*magic) the open file); not followed, a link
 * made for this walk whose target describes the file. NULL if N is not
 * an open descriptor.
 */
static struct inode *fd_lookup(const char *name, size_t len, int follow,
			       struct file **magic)
{
	static char text[FS_PATH_MAX + 1];
	int fd = 0;
	for (size_t k = 0; k < len; k++) {
		if (name[k] < '0' || name[k] > '9' || fd > FS_FD_MAX)
			return NULL;
		fd = fd * 10 + (name[k] - '0');
	}
	struct file *f = len ? fd_get(fd) : NULL;
	if (!f)
		return NULL;
	if (follow) {
		if (magic)
			*magic = f;
		return f->inode;
	}
	const char *t = fd_link_text(f, text, sizeof(text));
	size_t n = strlen(t);
	struct inode *link = inode_new(S_IFLNK | 0700);
	char *copy = n < PAGE_SIZE ? kmalloc(n + 1) : NULL;
	if (!link || !copy) {
		if (link)
			kfree(link, sizeof(*link));
		return NULL;
	}
	memcpy(copy, t, n + 1);
	link->u.lnk.target = copy;
	link->u.lnk.owned = 1;
	link->size = n;
	link->nlink = 0; /* freed when the walk lets go of it */
	return link;
}

int path_walk(struct inode *start, const char *path, int flags, struct walk *w)
{
	int cur = 0, links = 0;
	size_t plen = strnlen(path, FS_PATH_MAX + 1);

	w->parent = w->inode = NULL;
	w->magic = NULL;
	w->last_len = 0;
	w->trailing_slash = 0;
	if (plen == 0)
		return -ENOENT;
	if (plen > FS_PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(walk_buf[0], path, plen + 1);
	char *p = walk_buf[0];
	struct inode *dir = *p == '/' ? fs_root : start;
	inode_get(dir);

	for (;;) {
		while (*p == '/')
			p++;
		if (*p == '\0') {
			/* the path ended on a directory ("/", "a/") */
			if (flags & WALK_PARENT) {
				w->parent = dir;
				inode_get(dir);
				w->last[0] = '.';
				w->last[1] = '\0';
				w->last_len = 1;
			}
			w->inode = dir;
			w->trailing_slash = 1;
			return 0;
		}
		const char *name = p;
		while (*p && *p != '/')
			p++;
		size_t len = (size_t)(p - name);
		int last = 1;
		for (const char *q = p; *q; q++)
			if (*q != '/')
				last = 0;
		if (len > FS_NAME_MAX) {
			inode_put(dir);
			return -ENAMETOOLONG;
		}
		if (!S_ISDIR(dir->mode)) {
			inode_put(dir);
			return -ENOTDIR;
		}
		struct inode *next;
		if (len == 1 && name[0] == '.')
			next = dir;
		else if (len == 2 && name[0] == '.' && name[1] == '.')
			next = dir->u.dir.parent ? dir->u.dir.parent : dir;
		else if (dir->procfd)
			next = fd_lookup(name, len,
					 !last || (flags & WALK_FOLLOW) ||
						 *p == '/',
					 last ? &w->magic : NULL);
		else
			next = dir_lookup(dir, name, len);

		if (last && (flags & WALK_PARENT)) {
			w->parent = dir;
			memcpy(w->last, name, len);
			w->last[len] = '\0';
			w->last_len = len;
			w->trailing_slash = *p == '/';
			w->inode = next;
			if (next)
				inode_get(next);
			return 0;
		}
		if (!next) {
			inode_put(dir);
			return -ENOENT;
		}
		int follow = !last || (flags & WALK_FOLLOW) || *p == '/';
		if (S_ISLNK(next->mode) && follow) {
			if (++links > FS_SYMLOOP_MAX) {
				inode_put(dir);
				return -ELOOP;
			}
			int r = splice(&cur, link_target(next), p);
			if (r < 0) {
				inode_put(dir);
				return r;
			}
			p = walk_buf[cur];
			if (*p == '/') {
				inode_put(dir);
				dir = fs_root;
				inode_get(dir);
			}
			continue;
		}
		if (last) {
			inode_put(dir);
			w->inode = next;
			inode_get(next);
			w->trailing_slash = *p == '/';
			if (w->trailing_slash && !S_ISDIR(next->mode)) {
				walk_done(w);
				return -ENOTDIR;
			}
			return 0;
		}
		inode_get(next);
		inode_put(dir);
		dir = next;
	}
}
