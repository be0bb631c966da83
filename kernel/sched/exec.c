/* exec.c: loading a program into an address space: at boot for pid 1,
 * and by execve.
 *
 * execve builds the new program in a new address space while the old one
 * still exists, and switches for good only when all of it is in place, so
 * a failing execve (no such file, not a program, no memory, arguments
 * too long) returns its error to a caller that is still intact. The file
 * is read into a temporary mapping of the new address space (unless its
 * data still lies in the boot archive, where it is used as it is), the
 * ELF plan and segments are made from there, and the mapping is removed.
 */
#include "kernel.h"
#include "fs/fs.h"
#include "arch/x86_64/x86.h"
#include <linux/auxvec.h>
#include <linux/mman.h>
#include <linux/stat.h>

#define STACK_SIZE (256ULL << 10)
#define CLK_TCK 100
#define HWCAP2_FSGSBASE 2
#define ARGV_MAX 1024 /* argv and envp entries each */
#define SHEBANG_MAX 256

static int load_segments(const struct elf_plan *p, const void *file)
{
	for (int i = 0; i < p->nseg; i++) {
		const struct elf_seg *s = &p->seg[i];
		uint64_t start = PAGE_DOWN(s->vaddr);
		uint64_t end = PAGE_UP(s->vaddr + s->memsz);
		if (vm_map_fixed(start, end - start, s->prot,
				 (const char *)file + s->offset,
				 s->vaddr - start, s->filesz) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int build_stack(const struct exec_args *a, const struct elf_plan *p,
		       uint64_t *rsp)
{
	uint32_t r[4];
	uint8_t rnd[16];

	cpuid(1, 0, r);
	random_bytes(rnd, sizeof(rnd));
	const uint64_t auxv[][2] = {
		{AT_HWCAP, r[3]},
		{AT_PAGESZ, PAGE_SIZE},
		{AT_CLKTCK, CLK_TCK},
		{AT_PHDR, p->phdr},
		{AT_PHENT, p->phent},
		{AT_PHNUM, p->phnum},
		{AT_BASE, 0},
		{AT_FLAGS, 0},
		{AT_ENTRY, p->entry},
		{AT_UID, 0},
		{AT_EUID, 0},
		{AT_GID, 0},
		{AT_EGID, 0},
		{AT_SECURE, 0},
		{AT_HWCAP2, boot.fsgsbase ? HWCAP2_FSGSBASE : 0},
	};
	struct stack_spec spec = {
		.argv = a->argv,
		.argc = a->argc,
		.envp = a->envp,
		.envc = a->envc,
		.execfn = a->execfn,
		.platform = "x86_64",
		.random16 = rnd,
		.auxv = auxv,
		.auxc = (int)ARRAY_SIZE(auxv),
	};
	uint64_t bottom = USER_TOP - STACK_SIZE;
	if (vm_map_fixed(bottom, STACK_SIZE, VM_READ | VM_WRITE, NULL, 0, 0) <
	    0)
		return -ENOMEM;
	return stack_build((void *)bottom, STACK_SIZE, USER_TOP, &spec, rsp);
}

int exec_load(const void *image, size_t len, const struct exec_args *a,
	      uint64_t *entry, uint64_t *rsp, const char **why)
{
	struct elf_plan plan;
	int r;

	if (elf_plan(image, len, &plan, why) < 0)
		return -ENOEXEC;
	if ((r = load_segments(&plan, image)) < 0) {
		*why = "not enough memory to load the program; give the VM "
		       "more with --memory";
		return r;
	}
	vm_brk_init(plan.brk);
	if ((r = build_stack(a, &plan, rsp)) < 0) {
		*why = r == -E2BIG ? "the arguments and environment do not "
				     "fit in the 256 KiB stack"
				   : "not enough memory for the program's "
				     "stack; give the VM more with --memory";
		return r;
	}
	*entry = plan.entry;
	return 0;
}

/* ---- execve ---- */

/* The program's NULL-terminated array of strings at (uv) into (out),
 * the strings packed at (*buf) (advanced, up to (end)): the count, or
 * -EFAULT / -E2BIG. */
static long strings_from_user(uint64_t uv, char **out, char **buf,
			      const char *end)
{
	long n = 0;
	for (; uv; n++) {
		uint64_t s;
		if (n >= ARGV_MAX)
			return -E2BIG;
		if (copy_from_user(&s, uv + (uint64_t)n * 8, 8) < 0)
			return -EFAULT;
		if (!s)
			break;
		long len = string_from_user(*buf, s, (size_t)(end - *buf));
		if (len == -ENAMETOOLONG)
			return -E2BIG;
		if (len < 0)
			return len;
		out[n] = *buf;
		*buf += len + 1;
	}
	out[n] = NULL;
	return n;
}

/* "#!interpreter [argument]" at the start of (head, len): the pieces,
 * NUL-terminated in (head); 1 if it is a script, 0 if not. */
static int shebang(char *head, size_t len, char **interp, char **arg)
{
	if (len < 3 || head[0] != '#' || head[1] != '!')
		return 0;
	char *p = head + 2, *end = head + len;
	char *nl = p;
	while (nl < end && *nl != '\n')
		nl++;
	if (nl == end)
		return -ENOEXEC; /* the line must end within SHEBANG_MAX */
	*nl = '\0';
	while (*p == ' ' || *p == '\t')
		p++;
	*interp = p;
	while (*p && *p != ' ' && *p != '\t')
		p++;
	*arg = NULL;
	if (*p) {
		*p++ = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		char *q = p + strlen(p);
		while (q > p && (q[-1] == ' ' || q[-1] == '\t'))
			*--q = '\0';
		if (*p)
			*arg = p;
	}
	return **interp ? 1 : -ENOEXEC;
}

/* Resolve (path) to an executable regular file: 0 with (w) holding it. */
static int find_executable(const char *path, struct walk *w)
{
	int r = path_walk(current->cwd, path, WALK_FOLLOW, w);
	if (r < 0)
		return r;
	if (!w->inode) {
		walk_done(w);
		return -ENOENT;
	}
	if (!S_ISREG(w->inode->mode) || !(w->inode->mode & 0111)) {
		walk_done(w);
		return -EACCES;
	}
	return 0;
}

/* Read all of (i) into fresh memory of the current address space; its
 * address, or a negative errno. */
static long read_whole(struct inode *i)
{
	if (i->size == 0)
		return -ENOEXEC;
	long at = vm_mmap(0, i->size, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS);
	if (at < 0)
		return at;
	long n = file_data_read(i, (uint64_t)at, i->size, 0);
	if (n != (long)i->size) {
		vm_munmap((uint64_t)at, i->size);
		return n < 0 ? n : -EIO;
	}
	return at;
}

int exec_file(struct inode *i, const struct exec_args *a, uint64_t *entry,
	      uint64_t *rsp, const char **why)
{
	const void *image = i->x ? NULL : i->u.reg.initial;
	long tmp = 0;
	if (!image) {
		tmp = read_whole(i);
		if (tmp < 0) {
			*why = tmp == -ENOEXEC ? "it is empty"
			       : tmp == -ENOMEM
				       ? "not enough memory to read it; give "
					 "the VM more with --memory"
				       : "it cannot be read";
			return (int)tmp;
		}
		image = (const void *)tmp;
	}
	int r = exec_load(image, i->size, a, entry, rsp, why);
	if (tmp)
		vm_munmap((uint64_t)tmp, i->size);
	return r;
}

/* Build (i)'s program with (a) in a new address space and switch to it:
 * 0 with (*entry, *rsp), or an error with the old one still current. */
static int exec_into_new_mm(struct inode *i, const struct exec_args *a,
			    uint64_t *entry, uint64_t *rsp)
{
	struct mm *old = current->mm, *m = vm_new();
	const char *why;
	if (!m)
		return -ENOMEM;
	process_set_mm(m);
	int r = exec_file(i, a, entry, rsp, &why);
	if (r < 0) {
		process_set_mm(old);
		vm_release(m);
		return r;
	}
	vm_release(old);
	return 0;
}

long sys_execve(uint64_t upath, uint64_t uargv, uint64_t uenvp)
{
	char *argv[ARGV_MAX + 3], *envp[ARGV_MAX + 1];
	char *buf = (char *)current->iobuf;
	const char *end = buf + PROCESS_IOBUF_SIZE;
	char *path = buf, head[SHEBANG_MAX + 1];
	uint64_t entry, rsp;
	struct walk w;

	long r = string_from_user(path, upath, FS_PATH_MAX + 1);
	if (r < 0)
		return r;
	if (r == 0)
		return -ENOENT;
	buf += r + 1;
	/* two slots in front, for a script's interpreter and argument */
	long argc = strings_from_user(uargv, argv + 2, &buf, end);
	if (argc < 0)
		return argc;
	long envc = strings_from_user(uenvp, envp, &buf, end);
	if (envc < 0)
		return envc;
	if ((r = find_executable(path, &w)) < 0)
		return r;
	struct exec_args a = {argv + 2, (int)argc, envp, (int)envc, path};

	uaccess_kernel_buffers(1);
	long n = file_data_read(w.inode, (uint64_t)head, SHEBANG_MAX, 0);
	uaccess_kernel_buffers(0);
	char *interp = NULL, *iarg = NULL;
	int script = n < 0 ? (int)n : shebang(head, (size_t)n, &interp, &iarg);
	if (script) {
		walk_done(&w);
		if (script < 0)
			return script;
		/* interpreter [argument] script arguments-after-argv[0] */
		char **av = argv + 2;
		int count = argc ? (int)argc : 1;
		av[0] = path;
		av[count] = NULL;
		if (iarg) {
			*--av = iarg;
			count++;
		}
		*--av = interp;
		a.argv = av;
		a.argc = count + 1;
		if ((r = find_executable(interp, &w)) < 0)
			return r;
	}
	r = exec_into_new_mm(w.inode, &a, &entry, &rsp);
	walk_done(&w);
	if (r < 0)
		return r;

	/* the old program is gone: nothing below may fail */
	char *copy = fs_resolved_path(script ? interp : path);
	if (copy) { /* else (out of memory) the old name stays */
		if (current->exe_owned)
			kfree(current->exe_owned,
			      strlen(current->exe_owned) + 1);
		current->exe_owned = copy;
		current->exe = copy;
	}
	files_close_on_exec();
	signal_exec();
	timers_exec();
	current->fs_base = 0;
	process_set_mm(current->mm); /* loads the FS base */
	process_exec_done();
	struct syscall_frame *f = current->frame;
	memset(f, 0, sizeof(*f));
	f->rip = entry;
	f->rsp = rsp;
	f->rflags = 0x202;
	return 0;
}
