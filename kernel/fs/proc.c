/* proc.c: /proc, as much of it as programs commonly read: meminfo,
 * cpuinfo, uptime, mounts, self/stat, self/maps (and self/exe, a link
 * made by fs_populate); net/ has the network's (net/proc_net.c). Each file is
 * generated when it is opened, so a reader sees one consistent snapshot. */
#include "fs/fs.h"
#include "arch/x86_64/x86.h"
#include "net/net.h"
#include <linux/stat.h>

#define PROC_PAGES_MAX 64 /* 256 KiB: the most a generated file holds */

void proc_add(struct proc_text *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->len += (size_t)n < t->cap - t->len ? (size_t)n
						      : t->cap - t->len - 1;
}

static size_t gen_meminfo(char *buf, size_t cap)
{
	struct proc_text t = {buf, cap, 0};
	uint64_t total = phys_total_pages() * 4, free = phys_free_pages() * 4;
	proc_add(&t, "MemTotal:       %8lu kB\n", total);
	proc_add(&t, "MemFree:        %8lu kB\n", free);
	proc_add(&t, "MemAvailable:   %8lu kB\n", free);
	proc_add(&t, "Buffers:        %8lu kB\n", 0UL);
	proc_add(&t, "Cached:         %8lu kB\n", 0UL);
	proc_add(&t, "SwapTotal:      %8lu kB\n", 0UL);
	proc_add(&t, "SwapFree:       %8lu kB\n", 0UL);
	return t.len;
}

static size_t gen_uptime(char *buf, size_t cap)
{
	struct proc_text t = {buf, cap, 0};
	uint64_t cs = clock_monotonic_ns() / 10000000;
	proc_add(&t, "%lu.%02lu 0.00\n", cs / 100, cs % 100);
	return t.len;
}

static size_t gen_mounts(char *buf, size_t cap)
{
	struct proc_text t = {buf, cap, 0};
	proc_add(&t, "ramfs / ramfs rw 0 0\n");
	return t.len;
}

static size_t gen_cpuinfo(char *buf, size_t cap)
{
	struct proc_text t = {buf, cap, 0};
	uint32_t r[4], brand[13] = {0};
	char vendor[13];

	cpuid(0, 0, r);
	memcpy(vendor, &r[1], 4);
	memcpy(vendor + 4, &r[3], 4);
	memcpy(vendor + 8, &r[2], 4);
	vendor[12] = '\0';
	cpuid(0x80000000, 0, r);
	if (r[0] >= 0x80000004)
		for (uint32_t leaf = 0; leaf < 3; leaf++)
			cpuid(0x80000002 + leaf, 0, brand + 4 * leaf);
	cpuid(1, 0, r);
	proc_add(&t, "processor\t: 0\nvendor_id\t: %s\n", vendor);
	proc_add(&t, "cpu family\t: %u\nmodel\t\t: %u\n",
		 ((r[0] >> 8) & 0xf) + ((r[0] >> 20) & 0xff),
		 ((r[0] >> 4) & 0xf) | ((r[0] >> 12) & 0xf0));
	proc_add(&t, "model name\t: %s\n", (char *)brand);
	proc_add(&t, "cpu MHz\t\t: %lu.%03lu\n", boot.tsc_khz / 1000,
		 boot.tsc_khz % 1000);
	proc_add(&t, "cpu cores\t: 1\nsiblings\t: 1\n\n");
	return t.len;
}

static size_t gen_self_stat(char *buf, size_t cap)
{
	struct proc_text t = {buf, cap, 0};
	const char *base = strrchr(current->exe, '/');
	char comm[16] = {0}; /* the kernel's 15-character command name */
	base = base ? base + 1 : current->exe;
	memcpy(comm, base, strnlen(base, sizeof(comm) - 1));
	uint64_t ticks = clock_monotonic_ns() / 10000000;
	unsigned long used =
		(unsigned long)(phys_total_pages() - phys_free_pages());
	/* fields 1-52 of proc(5): pid, name, state, parent, group 1 and
	 * session 1, the time since boot as user time, memory */
	proc_add(
		&t,
		"%d (%s) R %d 1 1 0 -1 4194560 0 0 0 0 %lu 0 0 0 20 0 1 0 "
		"0 %lu %lu 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 "
		"0 0 0 0 0 0 0 0 0 0 0 0\n",
		current->pid, comm, current->parent ? current->parent->pid : 0,
		ticks, used * 4096, used);
	return t.len;
}

static size_t gen_self_maps(char *buf, size_t cap)
{
	struct proc_text t = {buf, cap, 0};
	vm_describe(&t.buf[0], cap, &t.len);
	return t.len;
}

static long proc_read(struct file *f, uint64_t ubuf, uint64_t len)
{
	if (f->pos >= f->text_len)
		return 0;
	if (len > f->text_len - f->pos)
		len = f->text_len - f->pos;
	if (copy_to_user(ubuf, f->text + f->pos, len) < 0)
		return -EFAULT;
	f->pos += len;
	return (long)len;
}

static void text_free(struct file *f)
{
	for (uint32_t i = 0; f->text && i < f->text_pages; i++)
		phys_free(virt_to_phys(f->text + (size_t)i * PAGE_SIZE));
	f->text = NULL;
}

static void proc_release(struct file *f)
{
	text_free(f);
}

const struct file_ops proc_ops = {.read = proc_read, .release = proc_release};

/* Generate the text into a page, or into twice as many pages as long
 * as it fills them (a table of a thousand connections), up to
 * PROC_PAGES_MAX. */
int proc_open(struct file *f)
{
	for (uint32_t pages = 1;; pages *= 2) {
		uint64_t pa =
			pages == 1 ? phys_alloc() : phys_alloc_contig(pages);
		if (!pa)
			return f->text ? 0 : -ENOMEM; /* the shorter text */
		text_free(f);
		size_t cap = (size_t)pages * PAGE_SIZE;
		f->text = phys_to_virt(pa);
		f->text_pages = pages;
		f->text_len = f->inode->u.gen(f->text, cap);
		if (f->text_len + 1 < cap || pages == PROC_PAGES_MAX)
			return 0;
	}
}

void proc_file(const char *name, proc_gen_fn gen)
{
	struct walk w;
	if (path_walk(fs_root, name, WALK_PARENT, &w) < 0)
		return;
	struct inode *i = w.inode ? NULL : inode_new(S_IFREG | 0444);
	if (i) {
		i->fops = &proc_ops;
		i->u.gen = gen;
		if (dir_link(w.parent, w.last, w.last_len, i) < 0)
			kfree(i, sizeof(*i));
	}
	walk_done(&w);
}

void proc_populate(void)
{
	proc_file("/proc/meminfo", gen_meminfo);
	proc_file("/proc/uptime", gen_uptime);
	proc_file("/proc/mounts", gen_mounts);
	proc_file("/proc/cpuinfo", gen_cpuinfo);
	proc_file("/proc/self/stat", gen_self_stat);
	proc_file("/proc/self/maps", gen_self_maps);
	if (fs_mkdir_p("/proc/net") == 0)
		net_proc_populate();
}
