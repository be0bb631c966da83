/* fs.h: the file system layer: inodes, directories, paths, open files.
 *
 * One in-memory file system holds everything (ramfs): it is filled at
 * boot from the cpio root filesystem, whose file data stays where the
 * monitor put it until a file is first written (then it is copied into
 * pages of its own). Devices and pipes are inodes whose open files carry
 * their own operations (struct file_ops).
 *
 * Lifetimes: an inode lives while it has links (nlink) or references
 * (refs: open files, the cwd, a walk in progress); inode_put frees it when
 * both reach zero. A struct file lives while descriptors refer to it.
 * Everything runs in the single syscall context: no locks.
 */
#ifndef FRESCO_FS_H
#define FRESCO_FS_H

#include "kernel.h"

#define FS_NAME_MAX 255
#define FS_PATH_MAX 4096
#define FS_FD_MAX 4096 /* RLIMIT_NOFILE's hard limit, as Linux's default */
#define FS_SYMLOOP_MAX 40
#define FS_FILE_MAX (1ULL << 30) /* two-level page tree of 4 KiB pages */

struct kts {
	int64_t sec, nsec;
};

struct file;

/* Operations of devices and pipes; regular files and directories use the
 * file system's own. A NULL read or write means EINVAL. */
struct file_ops {
	long (*read)(struct file *f, uint64_t ubuf, uint64_t len);
	long (*write)(struct file *f, uint64_t ubuf, uint64_t len);
	long (*ioctl)(struct file *f, unsigned cmd, uint64_t arg);
	void (*release)(struct file *f);
	/* which of POLLIN/POLLOUT/... hold now; NULL: always ready */
	short (*poll)(struct file *f);
	/* when readiness next changes by time alone; NULL: never */
	uint64_t (*deadline)(struct file *f);
	/* the epoll interests in what the file is, which it wakes whenever
	 * its readiness may have changed; NULL: it cannot tell, and epoll
	 * looks at it at every wait */
	struct watchers *(*watchers)(struct file *f);
};

/* ---- readiness for epoll (linux/sys_epoll.c) ---- */

struct watch;
/* The epoll interests in a socket, pipe, eventfd or epoll set. Zeroed:
 * none. */
struct watchers {
	struct watch *first;
};
/* Something happened that may have made the thing (w) is in ready: its
 * interests look at it at their next wait. */
void watchers_wake(struct watchers *w);
/* (f) is closed for good (no descriptor or reference left): the
 * interests in it go. */
void epoll_file_closed(struct file *f);

struct dentry {
	struct dentry *next;
	struct inode *inode;
	uint16_t len;
	char name[];
};

struct pipe;
struct sock;
struct usock;
struct nlsock;

/* A generated file (/proc): writes its text into (buf, cap) when opened
 * and returns the length (at most cap). */
typedef size_t (*proc_gen_fn)(char *buf, size_t cap);

struct ext2_node;

struct inode {
	uint32_t mode; /* S_IF* and permission bits */
	uint32_t nlink, uid, gid, rdev;
	uint64_t ino, size;
	struct kts atime, mtime, ctime;
	int refs;
	int procfd;  /* the /proc/self/fd directory: entries are descriptors */
	int procexe; /* /proc/self/exe: a link to the current process's program
		      */
	const struct file_ops *fops; /* devices and pipes */
	struct ext2_node *x;	     /* on an ext2 volume: its node */
	struct inode *mounted;	     /* a mount point: the volume's root */
	struct inode *covers;	     /* a volume's root: its mount point */
	union {
		struct {
			const uint8_t *initial; /* cpio data until written */
			uint64_t *l1;		/* page tree once written */
		} reg;
		struct {
			struct dentry *first;
			struct inode *parent;
			uint64_t count;
		} dir;
		struct {
			char *target;
			int owned; /* kmalloc'd, else in the cpio */
		} lnk;
		struct pipe *pipe;
		struct sock *sock;     /* S_IFSOCK with socket_ops */
		struct usock *usock;   /* S_IFSOCK: AF_UNIX (net/unix.c) */
		struct nlsock *nlsock; /* S_IFSOCK: AF_NETLINK (netlink.c) */
		void *anon;	       /* eventfd, timerfd, epoll */
		proc_gen_fn gen; /* regular files with fops == &proc_ops */
	} u;
};

struct file {
	struct inode *inode;
	const struct file_ops *ops; /* NULL: regular file or directory */
	uint64_t pos;
	int flags; /* O_ACCMODE, O_APPEND, O_NONBLOCK, O_PATH, ... */
	int refs;
	int host_fd; /* console files: the monitor's 1 or 2 */
	char *text;  /* generated files: their text, in text_pages pages */
	size_t text_len;
	uint32_t text_pages;
	char *path; /* as opened, for /proc/self/fd; may be NULL */
};

/* ---- inodes and directories (inode.c) ---- */

extern struct inode *fs_root;
void fs_init(void);
struct inode *inode_new(uint32_t mode);
void inode_get(struct inode *i);
void inode_put(struct inode *i);
void inode_touch(struct inode *i, int what); /* TOUCH_* below */
#define TOUCH_A 1
#define TOUCH_M 2
#define TOUCH_C 4
struct inode *dir_lookup(struct inode *dir, const char *name, size_t len);
/* Link (child) into (dir) under (name); -EEXIST, -ENOMEM, -ENOSPC. */
int dir_link(struct inode *dir, const char *name, size_t len,
	     struct inode *child);
/* Remove (name) from (dir) and drop a link of its inode; -ENOENT. */
int dir_unlink(struct inode *dir, const char *name, size_t len);
/* Remove (name) from (dir) without dropping its inode's links (rename). */
int dir_detach(struct inode *dir, const char *name, size_t len);
/* The (n)th entry after "." and "..", or NULL. */
struct dentry *dir_entry_at(struct inode *dir, uint64_t n);
/* The name (dir) has in its parent; NULL for the root. */
const struct dentry *dir_name_in_parent(struct inode *dir);

/* Regular file data: copy, resize; negative errno on failure. */
long file_data_read(struct inode *i, uint64_t ubuf, uint64_t len, uint64_t pos);
long file_data_write(struct inode *i, uint64_t ubuf, uint64_t len,
		     uint64_t pos);
long file_data_write_kernel(struct inode *i, const void *buf, uint64_t len,
			    uint64_t pos);
int file_data_truncate(struct inode *i, uint64_t size);

/* ---- paths (path.c) ---- */

#define WALK_FOLLOW 1 /* follow a symbolic link in the last component */
#define WALK_PARENT 2 /* stop at the parent; the last name is returned */

struct walk {
	struct inode *parent; /* referenced; NULL unless WALK_PARENT */
	struct inode *inode;  /* referenced; NULL if the last is missing */
	char last[FS_NAME_MAX + 1];
	size_t last_len;
	int trailing_slash;
	/* the walk ended by following /proc/self/fd/N: that open file */
	struct file *magic;
};

/* Resolve (path), relative to (start) if not absolute. On success the
 * caller owns the references in (w) and releases them with walk_done. */
int path_walk(struct inode *start, const char *path, int flags, struct walk *w);
void walk_done(struct walk *w);

/* ---- open files and descriptors (file.c) ---- */

struct file *file_new(struct inode *i, int flags);
void file_put(struct file *f);
/* Install (f) at the lowest free descriptor >= (min); -EMFILE. */
int fd_install(struct file *f, int min, int cloexec);
/* A new file's descriptor, the lowest free: the descriptor, or the
 * error with (f) put. */
int fd_install_new(struct file *f, int cloexec);
struct file *fd_get(int fd); /* NULL if not open */
/* What /proc/self/fd/N reads as a link: a path, "pipe:[ino]", ... */
const char *fd_link_text(const struct file *f, char *buf, size_t cap);
int fd_close(int fd);
int fd_cloexec(int fd);
void fd_set_cloexec(int fd, int on);
/* The directory (dirfd) names (AT_FDCWD: the cwd); NULL for a bad fd. */
struct inode *fd_dir(int dirfd, int *err);
/* (path) made absolute from the current directory, in kmalloc'd memory
 * of strlen + 1 bytes; NULL when out of memory or too long. */
char *fs_absolute_path(const char *path);
/* The same with every symbolic link on the way followed: the file's own
 * path, as /proc/self/exe gives it. */
char *fs_resolved_path(const char *path);
/* What symbolic link (i) points at. */
const char *link_target(const struct inode *i);

/* Descriptor tables: an empty one (pid 1's), a copy of the current
 * process's sharing its open files (fork), and freeing one with the
 * references it holds. NULL when memory runs out. */
struct files *files_new(void);
struct files *files_fork(void);
void files_release(struct files *t);
/* execve: close the current process's close-on-exec descriptors. */
void files_close_on_exec(void);

/* ---- root filesystem and devices (root.c, dev.c, pipe.c) ---- */

/* Fill the root from the cpio archive; -EINVAL if it is corrupt. */
int fs_unpack(const void *archive, size_t len);
/* /dev, /tmp, /proc/self/exe, /etc defaults: what is not already there. */
void fs_populate(const char *exe);
/* Make directory (path) and its parents as needed: 0 or -errno. */
int fs_mkdir_p(const char *path);
/* Which of (events) file (f) can do now (sys_poll.c). */
short file_ready(struct file *f, short events);
/* The watchers (f) wakes; NULL if it cannot tell (sys_poll.c). */
struct watchers *file_watchers(struct file *f);
/* An anonymous inode file ("anon_inode:[name]") with (ops) and (priv). */
struct file *anon_file(const struct file_ops *ops, void *priv, int flags);

/* Open the console on descriptors 0, 1 and 2. */
void console_files_open(int tty);
const struct file_ops *dev_ops(uint32_t rdev); /* NULL: no such device */
int dev_is_console(const struct file *f);
int pipe_create(struct file **rd, struct file **wr);

/* /proc (proc.c): create its files; open a generated one into (f). */
extern const struct file_ops proc_ops;
void proc_populate(void);
int proc_open(struct file *f);
/* A generated file (name) whose text (gen) writes when it is opened
 * (into as many pages as it fills, up to 256 KiB). */
void proc_file(const char *name, proc_gen_fn gen);
/* The text a generator writes: proc_add appends, cut short at (cap). */
struct proc_text {
	char *buf;
	size_t cap, len;
};
__attribute__((format(printf, 2, 3))) void proc_add(struct proc_text *t,
						    const char *fmt, ...);
uint64_t pipe_bytes(const struct pipe *p); /* waiting to be read */
uint64_t pipe_capacity(void);
int pipe_readers(const struct pipe *p);
int pipe_writers(const struct pipe *p);

/* ---- volumes: ext2 on virtio-blk (ext2fs.c) ---- */

/* Mount virtio block device (devname) at (path) (made if missing). 0, or
 * a negative errno and (*why) in words. */
int fs_mount(const char *devname, const char *path, int readonly,
	     const char **why);
/* Write back every volume (sync) / unmount them cleanly (exit). */
int fs_sync_all(void);
void fs_unmount_all(void);
/* (i) is on a read-only volume */
int inode_readonly(const struct inode *i);
/* (a) and (b) are on the same file system (else EXDEV) */
int fs_same(const struct inode *a, const struct inode *b);

struct fs_volstat {
	uint64_t block_size, blocks, free_blocks, files, free_files;
	int readonly;
};
/* Sizes of the volume (i) is on; -ENOENT on the root filesystem. */
int fs_statvol(const struct inode *i, struct fs_volstat *st);

/* Used by the generic code for inodes with (x) set. */
int ext2fs_dir_load(struct inode *dir);
int ext2fs_link(struct inode *dir, const char *name, size_t len,
		struct inode *child);
int ext2fs_unlink(struct inode *dir, const char *name, size_t len);
void ext2fs_changed(struct inode *i); /* write its attributes */
void ext2fs_release(struct inode *i); /* no links, no users: free it */
long ext2fs_read(struct inode *i, uint64_t ubuf, uint64_t len, uint64_t pos);
long ext2fs_write(struct inode *i, const void *kbuf, uint64_t ubuf,
		  uint64_t len, uint64_t pos);
int ext2fs_truncate(struct inode *i, uint64_t size);
int ext2fs_fsync(struct inode *i);
uint64_t ext2fs_blocks(const struct inode *i); /* 512-byte units */
uint32_t ext2fs_dev(const struct inode *i);
/* Entries in directory (dir), reading an ext2 one first. */
uint64_t dir_count(struct inode *dir);

#endif
