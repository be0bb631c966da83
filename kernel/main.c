/* main.c: the kernel's start-up after boot0, and loading the program.
 *
 * kernel_init runs at CPL 3 in both modes (boot0 drops there), so all of
 * it runs natively under kvm_pvm: it fills the IDT, learns the mode with
 * one probe system call, reads the boot information, loads the program
 * from the root filesystem and starts it.
 */
#include "fs/fs.h"
#include "drivers/virtio.h"
#include "net/net.h"
#include "arch/x86_64/x86.h"
#include <fresco/pvh.h>
#include <linux/stat.h>

#define ARG_CAP 4096

struct boot_state boot;
struct percpu percpu0;

static char *argv_buf[ARG_CAP], *envp_buf[ARG_CAP];

/* The environment every program starts with unless the command line sets
 * these variables (docker's PATH; Linux gives init HOME=/). */
static char *const default_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/",
};

static void env_add_defaults(struct boot_args *a)
{
	for (size_t i = 0; i < ARRAY_SIZE(default_env); i++) {
		const char *d = default_env[i];
		size_t klen = (size_t)(strchr(d, '=') - d) + 1;
		int present = 0;
		for (int j = 0; j < a->envc && !present; j++)
			present = strncmp(a->envp[j], d, klen) == 0;
		if (!present && a->envc + 1 < ARG_CAP) {
			a->envp[a->envc++] = default_env[i];
			a->envp[a->envc] = NULL;
		}
	}
}

static long probe_ring3(void)
{
	long r;
	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"((long)FRESCO_SYS_PROBE)
			 : "rcx", "r11", "memory");
	return r;
}

/* Say what stops the program from starting, and end the VM. */
__attribute__((format(printf, 2, 3))) NORETURN static void
fail(int status, const char *fmt, ...)
{
	char line[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	klog("%s", line);
	kexit(status);
}

/* Fault injection, so that tests can see crashes reported. */
static void inject_fault(const char *what)
{
	/* past the 4 GiB the direct map covers: nothing is mapped there */
	volatile uint64_t *unmapped = (uint64_t *)(DIRECT_MAP + (8ULL << 30));

	if (strcmp(what, "kernel") == 0)
		(void)*unmapped;
	else if (strcmp(what, "triple") == 0)
		gate_call(GATE_TRIPLE_FAULT, 0, 0, 0);
	klog("fresco.fault=%s: unknown fault; ignored", what);
}

/* Resolve the program: a path, or a name looked up in PATH as execvp
 * does (argv[0] stays the name given). Sets (*exe) to the path found. */
static int find_program(const struct boot_args *a, struct walk *w,
			const char **exe)
{
	static char candidate[FS_PATH_MAX + 1];
	const char *path = NULL;

	*exe = a->init;
	if (strchr(a->init, '/'))
		return path_walk(fs_root, a->init, WALK_FOLLOW, w);
	for (int i = 0; i < a->envc; i++)
		if (strncmp(a->envp[i], "PATH=", 5) == 0)
			path = a->envp[i] + 5;
	size_t nlen = strlen(a->init);
	while (path && *path) {
		const char *end = strchr(path, ':');
		size_t dlen = end ? (size_t)(end - path) : strlen(path);
		if (dlen + 1 + nlen <= FS_PATH_MAX) {
			memcpy(candidate, path, dlen);
			candidate[dlen] = '/';
			memcpy(candidate + dlen + 1, a->init, nlen + 1);
			if (path_walk(fs_root, candidate, WALK_FOLLOW, w) ==
			    0) {
				if (S_ISREG(w->inode->mode) &&
				    (w->inode->mode & 0111)) {
					*exe = candidate;
					return 0;
				}
				walk_done(w);
			}
		}
		path = end ? end + 1 : NULL;
	}
	return -ENOENT;
}

NORETURN void kernel_init(void)
{
	struct boot_args args;
	const char *why;

	idt_fill();
	boot.ring3 = probe_ring3() != 0;

	const struct hvm_start_info *si = phys_to_virt(boot.start_info_pa);
	if (si->magic != HVM_START_MAGIC)
		kpanic(NULL, "boot information has a bad magic number %#x",
		       si->magic);
	phys_init(si);
	clock_init();
	random_init();

	char *cmdline = si->cmdline_paddr ? phys_to_virt(si->cmdline_paddr)
					  : (char *)"";
	if (cmdline_parse(cmdline, argv_buf, envp_buf, ARG_CAP, &args) < 0)
		fail(125,
		     "the kernel command line is malformed (an open "
		     "quote, or over %d words)",
		     ARG_CAP - 1);
	env_add_defaults(&args);
	if (args.fault)
		inject_fault(args.fault);
	if (args.callpatch_off)
		callpatch_disable();
	if (si->nr_modules == 0)
		fail(125, "no root filesystem: pass a cpio archive as the "
			  "boot module (QEMU: -initrd)");
	const struct hvm_modlist_entry *mod = phys_to_virt(si->modlist_paddr);
	fs_init();
	current->cwd = fs_root;
	inode_get(current->cwd);
	if (fs_unpack(phys_to_virt(mod->paddr), mod->size) < 0)
		fail(125, "the root filesystem is not a valid cpio archive "
			  "(newc)");
	/* volumes first: the program may live on one */
	virtio_probe_all(&args);
	if (args.ip && strcmp(args.ip, "dhcp") == 0) {
		int dr = dhcp_configure();
		if (dr < 0)
			klog("dhcp: %s; the guest has no address (give "
			     "--ip ADDR/PREFIX)",
			     dr == -ENETDOWN
				     ? "there is no network device"
				     : "no answer on the network in 6 s");
	} else if (args.ip && net_configure(args.ip, args.gw, args.dns) < 0)
		fail(125,
		     "fresco.ip=%s fresco.gw=%s fresco.dns=%s: give "
		     "addresses like 10.0.2.15/24, 10.0.2.2, 10.0.2.3",
		     args.ip, args.gw ? args.gw : "", args.dns ? args.dns : "");
	/* on a TAP link the host reaches the guest by its address: the
	 * device answers from now on (2 ms here), not from the program's
	 * first socket (DHCP has already brought it up); but a VM so small
	 * that its buffers would take over a quarter of the memory left
	 * keeps that for the program until it opens a socket */
	if (args.link_up && phys_free_pages() >= 4 * netdev_pages() &&
	    netdev_start() < 0)
		klog("the network device could not be brought up at boot; "
		     "it is tried again at the program's first socket");
	for (int m = 0; m < args.nmounts; m++) {
		const struct boot_mount *bm = &args.mounts[m];
		int mr = fs_mount(bm->device, bm->path, bm->readonly, &why);
		if (mr < 0)
			fail(125, "volume %s at %s: %s", bm->device, bm->path,
			     why ? why : "cannot be mounted");
	}

	struct walk w;
	const char *exe;
	int r = find_program(&args, &w, &exe);
	if (r == -ENOENT || r == -ENOTDIR)
		fail(127, "%s: no such file in the root filesystem%s",
		     args.init,
		     strchr(args.init, '/') ? "" : " (searched PATH)");
	if (r < 0)
		fail(126, "%s: cannot be resolved (error %d)", args.init, -r);
	if (!S_ISREG(w.inode->mode) || !(w.inode->mode & 0111))
		fail(126, "%s: not an executable file", args.init);
	process_init(exe, args.tty);
	console_events_register(&host_events);
	net_write_etc(); /* first: its /etc/hosts names this VM's address */
	fs_populate(exe);
	console_files_open(args.tty);
	if (args.cwd) {
		struct walk cw;
		if (args.cwd[0] != '/' || fs_mkdir_p(args.cwd) < 0 ||
		    path_walk(fs_root, args.cwd, WALK_FOLLOW, &cw) < 0)
			fail(125, "the working directory %s cannot be made",
			     args.cwd);
		inode_put(current->cwd);
		current->cwd = cw.inode;
		inode_get(current->cwd);
		walk_done(&cw);
	}
	struct exec_args ea = {args.argv, args.argc, args.envp, args.envc,
			       args.init};
	uint64_t entry, rsp;
	r = exec_file(w.inode, &ea, &entry, &rsp, &why);
	if (r == -ENOEXEC)
		fail(126, "%s: cannot run: %s", args.init, why);
	if (r < 0)
		fail(125, "%s", why);
	walk_done(&w);

	console_booted();
	if (boot.ring3)
		enter_program_ring3(entry, rsp);
	gate_call(GATE_ENTER_USER, (long)entry, (long)rsp, 0);
	kpanic(NULL, "the program did not start");
}
