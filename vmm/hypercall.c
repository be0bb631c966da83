/* hypercall.c: the Fresco hypercall page (include/fresco/abi.h).
 *
 * Every request names guest memory by guest-physical address and length;
 * all of it goes through guest_mem_ptr. A malformed request is answered
 * with -EFAULT or -EINVAL in its result field and never stops the monitor.
 */
#include "vmm.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <fresco/abi.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LOG_MAX 512

void print_guest_text(const char *prefix, const char *p, size_t len)
{
	char line[LOG_MAX + 1];
	size_t n = 0;

	for (size_t i = 0; i < len && n < LOG_MAX; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '\n' && i + 1 == len)
			break;
		line[n++] = (isprint(c) || c == '\t') ? (char)c : '?';
	}
	line[n] = '\0';
	fprintf(stderr, "%s%s\n", prefix, line);
}

/* Write all of (p, len) to (fd); the bytes written or -errno. */
static int64_t write_all(int fd, const uint8_t *p, uint64_t len)
{
	uint64_t done = 0;
	while (done < len) {
		ssize_t n = write(fd, p + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return done ? (int64_t)done : -errno;
		done += (uint64_t)n;
	}
	return (int64_t)done;
}

/* Keep the console log under its limit: rotate to (log).1. */
static void log_rotate(struct vm *vm)
{
	const struct vm_config *c = vm->cfg;
	struct stat st;
	char old[4096 + 8];

	if (!c || !c->log_path || fstat(1, &st) < 0 ||
	    (uint64_t)st.st_size < c->log_max)
		return;
	snprintf(old, sizeof(old), "%s.1", c->log_path);
	rename(c->log_path, old);
	int fd = open(c->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
		      0600);
	if (fd < 0)
		return; /* keep writing to the renamed file */
	dup2(fd, 1);
	dup2(fd, 2);
	close(fd);
}

static int64_t do_io(struct vm *vm, uint64_t reg, struct fresco_hc_io *io)
{
	uint8_t *buf = guest_mem_ptr(&vm->mem, io->gpa, io->len);
	if (!buf)
		return -EFAULT;
	switch (reg) {
	case FRESCO_HC_WRITE:
		if (io->fd != 1 && io->fd != 2)
			return -EBADF;
		log_rotate(vm);
		return write_all((int)io->fd, buf, io->len);
	case FRESCO_HC_READ: {
		ssize_t n = read(0, buf, io->len);
		return n < 0 ? -errno : n;
	}
	case FRESCO_HC_LOG:
		if (io->len)
			print_guest_text("fresco: ", (const char *)buf,
					 io->len);
		return (int64_t)io->len;
	}
	return -EINVAL;
}

static void do_panic(struct vm *vm, uint64_t gpa)
{
	struct fresco_panic p;
	const void *src = guest_mem_ptr(&vm->mem, gpa, sizeof(p));

	vm->ended = 1;
	vm->status = VM_STATUS_ERROR;
	if (!src) {
		fprintf(stderr, "fresco: the guest kernel panicked (its report "
				"is outside guest memory)\n");
		return;
	}
	memcpy(&p, src, sizeof(p));
	p.msg[sizeof(p.msg) - 1] = '\0';
	print_guest_text("fresco: guest kernel panic: ", p.msg, strlen(p.msg));
	if (!p.rip)
		return;
	fprintf(stderr,
		"  vector %llu error %#llx cr2 %#llx\n"
		"  rip %016llx cs %llx rflags %llx rsp %016llx ss %llx\n"
		"  rax %016llx rbx %016llx rcx %016llx rdx %016llx\n"
		"  rsi %016llx rdi %016llx rbp %016llx r8  %016llx\n"
		"  r9  %016llx r10 %016llx r11 %016llx r12 %016llx\n"
		"  r13 %016llx r14 %016llx r15 %016llx\n",
		(unsigned long long)p.vector, (unsigned long long)p.error,
		(unsigned long long)p.cr2, (unsigned long long)p.rip,
		(unsigned long long)p.cs, (unsigned long long)p.rflags,
		(unsigned long long)p.rsp, (unsigned long long)p.ss,
		(unsigned long long)p.rax, (unsigned long long)p.rbx,
		(unsigned long long)p.rcx, (unsigned long long)p.rdx,
		(unsigned long long)p.rsi, (unsigned long long)p.rdi,
		(unsigned long long)p.rbp, (unsigned long long)p.r8,
		(unsigned long long)p.r9, (unsigned long long)p.r10,
		(unsigned long long)p.r11, (unsigned long long)p.r12,
		(unsigned long long)p.r13, (unsigned long long)p.r14,
		(unsigned long long)p.r15);
}

void hc_handle(struct vm *vm, uint64_t reg, uint64_t value)
{
	switch (reg) {
	case FRESCO_HC_EXIT:
		vm->ended = 1;
		vm->status = (int)(value & 0xff);
		return;
	case FRESCO_HC_WRITE:
	case FRESCO_HC_READ:
	case FRESCO_HC_LOG: {
		struct fresco_hc_io io;
		uint8_t *req = guest_mem_ptr(&vm->mem, value, sizeof(io));
		if (!req)
			return; /* nowhere to put an answer */
		memcpy(&io, req, sizeof(io));
		io.result = do_io(vm, reg, &io);
		memcpy(req, &io, sizeof(io));
		return;
	}
	case FRESCO_HC_PANIC:
		do_panic(vm, value);
		return;
	case FRESCO_HC_BOOTED: {
		vm->boot_ns = monotonic_ns() - vm->started_ns;
		if (vm->cfg->boot_us)
			*vm->cfg->boot_us = vm->boot_ns / 1000;
		return;
	}
	case FRESCO_HC_EVENTS:
		/* checked again each time an event is posted */
		vm->events_gpa = guest_mem_ptr(&vm->mem, value, 8) ? value : 0;
		return;
	}
	/* an unknown register is ignored, like a write to a missing device */
}
