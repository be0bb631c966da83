/* root.c: the root filesystem: unpacked from the cpio archive at boot,
 * then completed with what every Linux program expects to find. */
#include "fs/fs.h"
#include <linux/stat.h>

#define DEV(major, minor) ((major) << 8 | (minor))

/* Create (path) with (mode) unless something is already there. Parents
 * are created as needed (cpio archives may omit them). Returns the inode
 * (existing or new, not referenced) or NULL. */
static struct inode *make(const char *path, uint32_t mode)
{
	struct walk w;
	if (path_walk(fs_root, path, WALK_PARENT, &w) == -ENOENT) {
		/* a parent is missing: create it, then retry */
		char parent[FS_PATH_MAX + 1];
		size_t n = strnlen(path, FS_PATH_MAX);
		memcpy(parent, path, n + 1);
		while (n > 0 && parent[n - 1] == '/')
			parent[--n] = '\0';
		while (n > 0 && parent[n - 1] != '/')
			n--;
		parent[n] = '\0';
		if (n == 0 || !make(parent, S_IFDIR | 0755))
			return NULL;
		if (path_walk(fs_root, path, WALK_PARENT, &w) < 0)
			return NULL;
	} else if (!w.parent) {
		return NULL;
	}
	struct inode *i = w.inode;
	if (!i && w.last_len && !(w.last_len == 1 && w.last[0] == '.')) {
		i = inode_new(mode);
		if (i && dir_link(w.parent, w.last, w.last_len, i) < 0) {
			kfree(i, sizeof(*i));
			i = NULL;
		}
	}
	walk_done(&w);
	return i;
}

static void set_meta(struct inode *i, const struct cpio_file *f)
{
	i->mode = f->mode;
	i->uid = f->uid;
	i->gid = f->gid;
	i->mtime = i->ctime = (struct kts){f->mtime, 0};
}

int fs_unpack(const void *archive, size_t len)
{
	struct cpio_file f;
	char path[FS_PATH_MAX + 2];
	size_t off = 0;
	int r;

	while ((r = cpio_next(archive, len, &off, &f)) > 0) {
		if (f.namelen == 0 || f.namelen >= FS_PATH_MAX)
			continue;
		path[0] = '/';
		memcpy(path + 1, f.name, f.namelen);
		path[f.namelen + 1] = '\0';
		if (strcmp(path, "/.") == 0 || strcmp(path, "/") == 0)
			continue;
		uint32_t type = f.mode & S_IFMT;
		struct inode *i =
			make(path, type == S_IFDIR ? S_IFDIR | 0755 : f.mode);
		if (!i || (i->mode & S_IFMT) != type)
			continue; /* a later entry may not change a type */
		set_meta(i, &f);
		switch (type) {
		case S_IFREG:
			i->u.reg.initial = f.data;
			i->size = f.size;
			break;
		case S_IFLNK: {
			if (f.size == 0 || f.size >= PAGE_SIZE)
				break;
			char *t = kmalloc(f.size + 1);
			if (!t)
				return -ENOMEM;
			memcpy(t, f.data, f.size);
			t[f.size] = '\0';
			i->u.lnk.target = t;
			i->u.lnk.owned = 1;
			i->size = f.size;
			break;
		}
		case S_IFCHR:
		case S_IFBLK:
			i->rdev = DEV(f.rdevmajor, f.rdevminor);
			i->fops = dev_ops(i->rdev);
			break;
		}
	}
	if (r < 0)
		return -EINVAL;
	/* adding entries touched the directories: restore their times last,
	 * as Linux's initramfs does */
	off = 0;
	while (cpio_next(archive, len, &off, &f) > 0) {
		struct walk w;
		if ((f.mode & S_IFMT) != S_IFDIR || f.namelen >= FS_PATH_MAX)
			continue;
		path[0] = '/';
		memcpy(path + 1, f.name, f.namelen);
		path[f.namelen + 1] = '\0';
		if (path_walk(fs_root, path, 0, &w) == 0) {
			w.inode->mtime = w.inode->ctime =
				(struct kts){f.mtime, 0};
			walk_done(&w);
		}
	}
	return 0;
}

static void make_file(const char *path, const char *text)
{
	struct inode *i = make(path, S_IFREG | 0644);
	if (i && S_ISREG(i->mode) && i->size == 0)
		file_data_write_kernel(i, text, strlen(text), 0);
}

static void make_dev(const char *path, uint32_t mode, uint32_t rdev)
{
	struct inode *i = make(path, S_IFCHR | mode);
	if (i && S_ISCHR(i->mode) && !i->fops) {
		i->rdev = rdev;
		i->fops = dev_ops(rdev);
	}
}

static void make_link(const char *path, const char *target)
{
	struct inode *i = make(path, S_IFLNK | 0777);
	if (i && S_ISLNK(i->mode) && !i->u.lnk.target) {
		size_t n = strlen(target);
		char *t = kmalloc(n + 1);
		if (!t)
			return;
		memcpy(t, target, n + 1);
		i->u.lnk.target = t;
		i->u.lnk.owned = 1;
		i->size = n;
	}
}

void fs_populate(const char *exe)
{
	/* what is added here should not change the archive's root time */
	struct kts mtime = fs_root->mtime, ctime = fs_root->ctime;
	make("/tmp", S_IFDIR | 01777);
	make("/root", S_IFDIR | 0700);
	make_dev("/dev/null", 0666, DEV(1, 3));
	make_dev("/dev/zero", 0666, DEV(1, 5));
	make_dev("/dev/full", 0666, DEV(1, 7));
	make_dev("/dev/random", 0666, DEV(1, 8));
	make_dev("/dev/urandom", 0666, DEV(1, 9));
	make_dev("/dev/tty", 0666, DEV(5, 0));
	make_dev("/dev/console", 0600, DEV(5, 1));
	make_link("/proc/self/exe", exe);
	struct walk w;
	if (path_walk(fs_root, "/proc/self/exe", 0, &w) == 0) {
		if (S_ISLNK(w.inode->mode))
			w.inode->procexe = 1; /* each process's own program */
		walk_done(&w);
	}
	make_link("/etc/mtab", "/proc/mounts");
	struct inode *fdd = make("/proc/self/fd", S_IFDIR | 0500);
	if (fdd && S_ISDIR(fdd->mode))
		fdd->procfd = 1;
	make_link("/dev/fd", "/proc/self/fd");
	make_link("/dev/stdin", "/proc/self/fd/0");
	make_link("/dev/stdout", "/proc/self/fd/1");
	make_link("/dev/stderr", "/proc/self/fd/2");
	proc_populate();
	make_file("/etc/hostname", "fresco\n");
	make_file("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
	make_file("/etc/group", "root:x:0:\n");
	make_file("/etc/hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost\n");
	fs_root->mtime = mtime;
	fs_root->ctime = ctime;
}

void console_files_open(int tty)
{
	struct walk w;
	(void)tty;
	if (path_walk(fs_root, "/dev/console", 0, &w) < 0)
		kpanic(NULL, "no /dev/console");
	static const int flags[3] = {0 /* O_RDONLY */, 1, 1 /* O_WRONLY */};
	for (int fd = 0; fd < 3; fd++) {
		struct file *f = file_new(w.inode, flags[fd]);
		if (!f || fd_install(f, fd, 0) != fd)
			kpanic(NULL, "cannot open the console");
		f->host_fd = fd == 2 ? 2 : 1;
	}
	walk_done(&w);
}

int fs_mkdir_p(const char *path)
{
	struct inode *i = make(path, S_IFDIR | 0755);
	if (!i)
		return -ENOENT;
	return S_ISDIR(i->mode) ? 0 : -ENOTDIR;
}
