/* lib.h: the guest kernel's pure logic, compiled for the guest and the host.
 *
 * Nothing here touches hardware or allocates: callers hand in buffers. The
 * same objects are linked into the kernel, the monitor (which checks a
 * program before it boots a VM) and the host unit tests. Errors are
 * negative errno values (Linux numbering) and, where a person must read
 * them, a static message through (*why).
 */
#ifndef FRESCO_LIB_H
#define FRESCO_LIB_H

#include <stddef.h>
#include <stdint.h>
#include <linux/errno.h>

/* ---- cpio "newc" archives (the Linux initramfs format) ---- */

#define CPIO_HEADER_SIZE 110

struct cpio_file {
	const char *name; /* not NUL-terminated in the archive: see namelen */
	size_t namelen;	  /* without the NUL */
	uint32_t ino, mode, uid, gid, nlink, mtime;
	uint32_t rdevmajor, rdevminor;
	const void *data;
	uint64_t size;
};

/*
 * Read the entry at (*off) of the archive (ar, len). Returns 1 and fills
 * (f) and advances (*off) past the entry, 0 at the "TRAILER!!!" entry or
 * at the end of the archive, -EINVAL for a corrupt header or an entry that
 * runs past (len). On error (*off) is unchanged.
 */
int cpio_next(const void *ar, size_t len, size_t *off, struct cpio_file *f);

/*
 * Find (path) in the archive; leading "/" and "./" are ignored on both
 * sides. Returns 0 and fills (f), -ENOENT, or -EINVAL for a corrupt archive.
 */
int cpio_find(const void *ar, size_t len, const char *path,
	      struct cpio_file *f);

/*
 * Append one entry to the archive being written in (buf, cap) at (*off).
 * Returns 0, or -ENOSPC leaving (*off) unchanged. (data) may be NULL for
 * size 0. Call with name "TRAILER!!!" and mode 0 to finish.
 */
int cpio_put(void *buf, size_t cap, size_t *off, const char *name,
	     uint32_t mode, uint32_t ino, const void *data, uint64_t size);

/* Bytes cpio_put needs for an entry: header, name, data, padding. */
size_t cpio_entry_size(const char *name, uint64_t size);

/* ---- ELF: what to load where, for a static x86_64 program ---- */

#define ELF_MAX_SEGS 16
#define USER_TOP 0x00007ffffffff000ULL /* first address past user space */
#define PIE_BASE 0x0000555555554000ULL /* where a static-pie is placed */

#define ELF_PROT_R 1
#define ELF_PROT_W 2
#define ELF_PROT_X 4

struct elf_seg {
	uint64_t vaddr; /* after the load bias */
	uint64_t memsz;
	uint64_t offset; /* in the file */
	uint64_t filesz;
	int prot; /* ELF_PROT_* */
};

struct elf_plan {
	uint64_t entry; /* after the load bias */
	uint64_t bias;	/* 0 for ET_EXEC, PIE_BASE for static-pie */
	uint64_t phdr;	/* user address of the program headers */
	uint16_t phnum, phent;
	uint64_t brk;	/* page-aligned end of the highest segment */
	int stack_exec; /* PT_GNU_STACK asks for an executable stack */
	int nseg;
	struct elf_seg seg[ELF_MAX_SEGS];
};

/*
 * Check that (img, len) is a static x86_64 Linux executable and plan its
 * loading. Returns 0, or -ENOEXEC with (*why) saying what is wrong in
 * words a person can act on (dynamic, wrong architecture, not ELF, ...).
 * (plan) is unspecified on error.
 */
int elf_plan(const void *img, size_t len, struct elf_plan *plan,
	     const char **why);

/* ---- the initial user stack (System V x86_64 ABI, as Linux builds it) ---- */

struct stack_spec {
	char *const *argv;
	int argc;
	char *const *envp;
	int envc;
	const char *execfn;	   /* AT_EXECFN string */
	const char *platform;	   /* AT_PLATFORM string */
	const uint8_t *random16;   /* AT_RANDOM bytes */
	const uint64_t (*auxv)[2]; /* other entries, without AT_NULL */
	int auxc;
};

/*
 * Lay out argc, argv, envp, the auxiliary vector and their strings in
 * (buf, size), a buffer that the program will see at user addresses
 * [top - size, top). Sets (*rsp) to the 16-byte aligned initial stack
 * pointer (pointing at argc). Returns 0, or -E2BIG if it does not fit.
 */
int stack_build(void *buf, size_t size, uint64_t top,
		const struct stack_spec *spec, uint64_t *rsp);

/* ---- the kernel command line ---- */

/*
 * Grammar: words separated by spaces; a word may contain double-quoted
 * parts, inside which spaces are kept; a backslash makes the next
 * character literal, inside or outside quotes. Before a lone "--":
 *   init=PATH              the program to run (default /init)
 *   fresco.env=NAME=VALUE  one environment variable (repeatable)
 *   fresco.tty=1           the console is a terminal
 *   fresco.cwd=DIR         the working directory (created if missing)
 *   fresco.callpatch=0     system call sites stay as they are
 *                          (arch/x86_64/callpatch.c)
 *   fresco.fault=WHAT      fault injection for tests: "kernel" (a page
 *                          fault in the kernel) or "triple" (a triple fault)
 *   anything else          ignored (console=, quiet, ...)
 * After "--": the program's argv[1..].
 */
#define BOOT_VIRTIO_MAX 8
#define BOOT_MOUNT_MAX 8

/* virtio_mmio.device=SIZE@ADDR:IRQ (Linux's syntax; SIZE takes K/M/G) */
struct boot_virtio {
	uint64_t size, addr;
	unsigned irq;
};

/* fresco.mount=DEVICE:PATH[:ro], e.g. vda:/data:ro */
struct boot_mount {
	const char *device, *path;
	int readonly;
};

struct boot_args {
	const char *init;
	char **argv; /* argv[0] is init */
	int argc;
	char **envp;
	int envc;
	int tty;
	int callpatch_off; /* fresco.callpatch=0 */
	const char *fault; /* NULL unless fresco.fault= */
	const char *cwd;   /* NULL unless fresco.cwd= */
	struct boot_virtio virtio[BOOT_VIRTIO_MAX];
	int nvirtio;
	struct boot_mount mounts[BOOT_MOUNT_MAX];
	int nmounts;
	/* fresco.ip=ADDR/PREFIX, fresco.gw=ADDR, fresco.dns=ADDR; NULL if
	 * not given */
	const char *ip, *gw, *dns;
	/* fresco.link=up: the network device comes up at boot, not with
	 * the first socket (a TAP link, where the host reaches the guest) */
	int link_up;
};

/*
 * Parse (s) in place. (argv) and (envp) are caller arrays of (cap)
 * entries each; both end NULL-terminated. Returns 0 or -E2BIG (too many
 * words, devices or mounts) or -EINVAL (unterminated quote, a malformed
 * virtio_mmio.device or fresco.mount).
 */
int cmdline_parse(char *s, char **argv, char **envp, int cap,
		  struct boot_args *a);

/*
 * Write (word) quoted so that cmdline_parse reads it back unchanged.
 * Returns the length it needs (without NUL); writes only if it fits in
 * (cap) with the NUL, like snprintf.
 */
size_t cmdline_quote(char *dst, size_t cap, const char *word);

/* ---- user pointers ---- */

/* 1 if [p, p + len) lies wholly in user space (below USER_TOP), else 0. */
static inline int user_range_ok(uint64_t p, uint64_t len)
{
	return p <= USER_TOP && len <= USER_TOP - p;
}

#endif
