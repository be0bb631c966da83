/* proc.c: /proc, as much of it as programs commonly read: meminfo,
 * cpuinfo, uptime, mounts, self/stat, self/maps, net/dev (and self/exe,
 * a link made by fs_populate). Each file is generated when it is opened, so a
 * reader sees one consistent snapshot. */
#include "fs/fs.h"
#include "arch/x86_64/x86.h"
#include "net/net.h"
#include <linux/stat.h>

struct text {
	char *buf;
	size_t cap, len;
};

__attribute__((format(printf, 2, 3))) static void add(struct text *t,
						      const char *fmt, ...)
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
	struct text t = {buf, cap, 0};
	uint64_t total = phys_total_pages() * 4, free = phys_free_pages() * 4;
	add(&t, "MemTotal:       %8lu kB\n", total);
	add(&t, "MemFree:        %8lu kB\n", free);
	add(&t, "MemAvailable:   %8lu kB\n", free);
	add(&t, "Buffers:        %8lu kB\n", 0UL);
	add(&t, "Cached:         %8lu kB\n", 0UL);
	add(&t, "SwapTotal:      %8lu kB\n", 0UL);
	add(&t, "SwapFree:       %8lu kB\n", 0UL);
	return t.len;
}

static size_t gen_uptime(char *buf, size_t cap)
{
	struct text t = {buf, cap, 0};
	uint64_t cs = clock_monotonic_ns() / 10000000;
	add(&t, "%lu.%02lu 0.00\n", cs / 100, cs % 100);
	return t.len;
}

static size_t gen_mounts(char *buf, size_t cap)
{
	struct text t = {buf, cap, 0};
	add(&t, "ramfs / ramfs rw 0 0\n");
	return t.len;
}

/* /proc/net/dev: Linux's layout; the loopback receives what it sends.
 * Reading it brings the device up, as a first socket does. */
static size_t gen_net_dev(char *buf, size_t cap)
{
	struct text t = {buf, cap, 0};
	netdev_start();
	const char *row = "%6s: %7lu %7lu %4lu %4lu %4lu %5lu %10lu %9lu "
			  "%8lu %7lu %4lu %4lu %4lu %5lu %7lu %10lu\n";
	add(&t, "Inter-|   Receive                            "
		"                    |  Transmit\n");
	add(&t, " face |bytes    packets errs drop fifo frame compressed "
		"multicast|bytes    packets errs drop fifo colls carrier "
		"compressed\n");
	add(&t, row, "lo", netif.lo_bytes, netif.lo_packets, 0UL,
	    netif.lo_dropped, 0UL, 0UL, 0UL, 0UL, netif.lo_bytes,
	    netif.lo_packets, 0UL, 0UL, 0UL, 0UL, 0UL, 0UL);
	if (netif.up)
		add(&t, row, "eth0", netif.rx_bytes, netif.rx_frames,
		    netif.rx_bad, netif.rx_dropped, 0UL, 0UL, 0UL, 0UL,
		    netif.tx_bytes, netif.tx_frames, 0UL, 0UL, 0UL, 0UL, 0UL,
		    0UL);
	return t.len;
}

static size_t gen_cpuinfo(char *buf, size_t cap)
{
	struct text t = {buf, cap, 0};
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
	add(&t, "processor\t: 0\nvendor_id\t: %s\n", vendor);
	add(&t, "cpu family\t: %u\nmodel\t\t: %u\n",
	    ((r[0] >> 8) & 0xf) + ((r[0] >> 20) & 0xff),
	    ((r[0] >> 4) & 0xf) | ((r[0] >> 12) & 0xf0));
	add(&t, "model name\t: %s\n", (char *)brand);
	add(&t, "cpu MHz\t\t: %lu.%03lu\n", boot.tsc_khz / 1000,
	    boot.tsc_khz % 1000);
	add(&t, "cpu cores\t: 1\nsiblings\t: 1\n\n");
	return t.len;
}

static size_t gen_self_stat(char *buf, size_t cap)
{
	struct text t = {buf, cap, 0};
	const char *base = strrchr(current->exe, '/');
	char comm[16] = {0}; /* the kernel's 15-character command name */
	base = base ? base + 1 : current->exe;
	memcpy(comm, base, strnlen(base, sizeof(comm) - 1));
	uint64_t ticks = clock_monotonic_ns() / 10000000;
	unsigned long used =
		(unsigned long)(phys_total_pages() - phys_free_pages());
	/* fields 1-52 of proc(5): pid, name, state, parent, group 1 and
	 * session 1, the time since boot as user time, memory */
	add(&t,
	    "%d (%s) R %d 1 1 0 -1 4194560 0 0 0 0 %lu 0 0 0 20 0 1 0 "
	    "0 %lu %lu 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 "
	    "0 0 0 0 0 0 0 0 0 0 0 0\n",
	    current->pid, comm, current->parent ? current->parent->pid : 0,
	    ticks, used * 4096, used);
	return t.len;
}

static size_t gen_self_maps(char *buf, size_t cap)
{
	struct text t = {buf, cap, 0};
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

static void proc_release(struct file *f)
{
	if (f->text)
		phys_free(virt_to_phys(f->text));
}

const struct file_ops proc_ops = {.read = proc_read, .release = proc_release};

int proc_open(struct file *f)
{
	uint64_t pa = phys_alloc();
	if (!pa)
		return -ENOMEM;
	f->text = phys_to_virt(pa);
	f->text_len = f->inode->u.gen(f->text, PAGE_SIZE);
	return 0;
}

static void proc_file(const char *name, proc_gen_fn gen)
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
		proc_file("/proc/net/dev", gen_net_dev);
}
