/* console.c: the program's console and the kernel's messages to the host.
 *
 * Under fresco's monitor everything goes through the hypercall page
 * (abi.h): one exit per write, from any privilege level. Under other
 * monitors (PVH boot) the console is the 8250 UART, log lines and the exit
 * status go to the debug console port, and the VM ends through QEMU's
 * isa-debug-exit; port I/O needs ring 0, so it goes through the gate.
 */
#include "kernel.h"
#include "fs/fs.h"
#include "net/net.h"
#include "arch/x86_64/x86.h"

#define HC_REG(off) ((volatile uint64_t *)phys_to_virt(FRESCO_HC_BASE + (off)))
#define LOG_MAX 256

static struct fresco_hc_io hc_io;

/* Write (value) to hypercall register (reg). The monitor reads and writes
 * guest memory during the store, so the compiler must not move memory
 * accesses across it. */
static void hc_call(uint64_t reg, uint64_t value)
{
	__asm__ volatile("" ::: "memory");
	*HC_REG(reg) = value;
	__asm__ volatile("" ::: "memory");
}

static int64_t hc_transfer(uint64_t reg, int fd, const void *p, size_t len)
{
	hc_io.gpa = virt_to_phys(p);
	hc_io.len = len;
	hc_io.fd = (uint32_t)fd;
	hc_io.result = 0;
	hc_call(reg, virt_to_phys(&hc_io));
	return hc_io.result;
}

void console_write(int fd, const char *p, size_t len)
{
	if (len == 0)
		return;
	if (boot.fresco)
		hc_transfer(FRESCO_HC_WRITE, fd, p, len);
	else
		gate_call(GATE_OUTS, FRESCO_PVH_SERIAL_PORT, (long)p,
			  (long)len);
}

void console_booted(void)
{
	if (boot.fresco)
		hc_call(FRESCO_HC_BOOTED, 0);
}

void console_events_register(uint64_t *word)
{
	if (boot.fresco)
		hc_call(FRESCO_HC_EVENTS, virt_to_phys(word));
}

long console_read(char *p, size_t len)
{
	if (boot.fresco) {
		long r = hc_transfer(FRESCO_HC_READ, 0, p, len);
		/* a signal stopped the monitor's read: restart, or deliver */
		return r == -EINTR ? -ERESTARTSYS : r;
	}
	/* 8250: wait for one byte, then take what is there */
	size_t n = 0;
	while (n < len) {
		long lsr =
			gate_call(GATE_INB, FRESCO_PVH_SERIAL_PORT + 5, 0, 0);
		if (lsr & 1)
			p[n++] = (char)gate_call(GATE_INB,
						 FRESCO_PVH_SERIAL_PORT, 0, 0);
		else if (n > 0)
			break;
		else
			cpu_relax();
		if (n > 0 && p[n - 1] == '\n')
			break;
	}
	return (long)n;
}

static void log_line(const char *line, size_t len)
{
	if (boot.fresco)
		hc_transfer(FRESCO_HC_LOG, 2, line, len);
	else
		gate_call(GATE_OUTS, FRESCO_PVH_DEBUGCON_PORT, (long)line,
			  (long)len);
}

static size_t vformat_line(char *buf, const char *fmt, va_list ap)
{
	int n = vsnprintf(buf, LOG_MAX - 1, fmt, ap);
	size_t len = n < 0 ? 0 : (size_t)n;
	if (len > LOG_MAX - 2)
		len = LOG_MAX - 2;
	buf[len++] = '\n';
	buf[len] = '\0';
	return len;
}

void klog(const char *fmt, ...)
{
	static char buf[LOG_MAX];
	va_list ap;
	va_start(ap, fmt);
	size_t len = vformat_line(buf, fmt, ap);
	va_end(ap);
	log_line(buf, len);
}

static int panicking;

NORETURN void kexit(int status)
{
	static int unmounting;

	status &= 0xff;
	/* volumes are left clean, unless the kernel itself failed (the
	 * file system code may be what failed) */
	if (!panicking && !unmounting) {
		unmounting = 1;
		net_exit();
		fs_unmount_all();
	}
	if (boot.fresco) {
		hc_call(FRESCO_HC_EXIT, (uint64_t)status);
	} else {
		char line[16];
		int n = snprintf(line, sizeof(line), "exit=%d\n", status);
		log_line(line, (size_t)n);
		gate_call(GATE_EXIT_PORT, status, 0, 0);
	}
	for (;;) /* the monitor does not resume an exited VM */
		cpu_relax();
}

NORETURN void kpanic(const struct trap_frame *f, const char *fmt, ...)
{
	static struct fresco_panic p;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p.msg, sizeof(p.msg), fmt, ap);
	va_end(ap);
	if (f) {
		p.vector = f->vector;
		p.error = f->error;
		/* kpanic with a frame runs in ring 0 (trap_handle) */
		p.cr2 = f->vector == 14 ? read_cr2() : 0;
		p.rip = f->rip;
		p.cs = f->cs;
		p.rflags = f->rflags;
		p.rsp = f->rsp;
		p.ss = f->ss;
		p.rax = f->rax;
		p.rbx = f->rbx;
		p.rcx = f->rcx;
		p.rdx = f->rdx;
		p.rsi = f->rsi;
		p.rdi = f->rdi;
		p.rbp = f->rbp;
		p.r8 = f->r8;
		p.r9 = f->r9;
		p.r10 = f->r10;
		p.r11 = f->r11;
		p.r12 = f->r12;
		p.r13 = f->r13;
		p.r14 = f->r14;
		p.r15 = f->r15;
	}
	if (boot.fresco) {
		hc_call(FRESCO_HC_PANIC, virt_to_phys(&p));
	} else {
		klog("kernel panic: %s", p.msg);
		if (f)
			klog("vector %lu error %#lx cr2 %#lx rip %#lx rsp %#lx",
			     p.vector, p.error, p.cr2, p.rip, p.rsp);
		panicking = 1;
		kexit(125);
	}
	for (;;)
		cpu_relax();
}
