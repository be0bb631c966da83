/* vm.c: the VM on /dev/kvm: memory, the vCPU in 64-bit mode, the run loop.
 *
 * Set-up order follows KVM-HERE.md: guest memory is added before the
 * in-kernel irqchip (adding it after costs ~7 ms), the monitor enters the
 * kernel directly in 64-bit mode on the kernel's prebuilt page tables, and
 * the VM is never torn down (the process exit does it).
 */
#define _GNU_SOURCE
#include "vmm.h"

#include <errno.h>
#include <fcntl.h>
#include <fresco/abi.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define MAX_CPUID 256
#define THP_FROM (32ULL << 20)
#define CPUID_TIMING_LEAF 0x40000010 /* EAX = TSC kHz (VMware convention) */
#define CR0_PE 0x1ULL
#define CR0_MP 0x2ULL
#define CR0_ET 0x10ULL
#define CR0_NE 0x20ULL
#define CR0_WP 0x10000ULL
#define CR0_PG 0x80000000ULL
#define CR4_PAE 0x20ULL
#define EFER_SCE 0x1ULL
#define EFER_LME 0x100ULL
#define EFER_LMA 0x400ULL
#define EFER_NXE 0x800ULL

static volatile sig_atomic_t stop_signal;
static struct kvm_run *volatile running;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
	if (running)
		running->immediate_exit = 1;
}

static int kvm_open(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT)
			fprintf(stderr,
				"fresco: cannot open /dev/kvm: %s; "
				"Fresco needs KVM: load the kvm module "
				"or use a host with virtualization\n",
				strerror(e));
		else if (e == EACCES || e == EPERM)
			fprintf(stderr,
				"fresco: cannot open /dev/kvm: %s; "
				"add yourself to the kvm group "
				"(sudo usermod -aG kvm $USER) and log "
				"in again\n",
				strerror(e));
		else
			fprintf(stderr, "fresco: cannot open /dev/kvm: %s\n",
				strerror(e));
		return -1;
	}
	if (ioctl(fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		fprintf(stderr, "fresco: /dev/kvm speaks an unknown API "
				"version; the host kernel is too old or too "
				"new for this build\n");
		close(fd);
		return -1;
	}
	return fd;
}

static int fail(const char *what)
{
	fprintf(stderr, "fresco: %s: %s\n", what, strerror(errno));
	return -1;
}

static int setup_memory(struct vm *vm, uint64_t size)
{
	vm->mem.size = size;
	vm->mem.host = mmap(NULL, size, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->mem.host == MAP_FAILED)
		return fail("cannot reserve guest memory");
	/* 2 MiB host pages where the host allows, above the first 32 MiB:
	 * the guest allocates from the bottom up, so a small program keeps
	 * its small footprint, while a big one (a block cache filling up)
	 * takes 512 times fewer host faults. bench/results/blk.txt: about
	 * 1.8x on sequential reads when the host has huge pages free. */
	if (size > THP_FROM)
		madvise(vm->mem.host + THP_FROM, size - THP_FROM,
			MADV_HUGEPAGE);
	struct kvm_userspace_memory_region r = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = size,
		.userspace_addr = (uint64_t)vm->mem.host,
	};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return fail("KVM_SET_USER_MEMORY_REGION");
	return 0;
}

static int setup_cpuid(struct vm *vm)
{
	size_t sz = sizeof(struct kvm_cpuid2) +
		    MAX_CPUID * sizeof(struct kvm_cpuid_entry2);
	struct kvm_cpuid2 *c = calloc(1, sz);
	if (!c)
		return fail("cpuid table");
	c->nent = MAX_CPUID - 1; /* one spare for the timing leaf */
	if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
		free(c);
		return fail("KVM_GET_SUPPORTED_CPUID");
	}
	int tsc_khz = ioctl(vm->vcpu_fd, KVM_GET_TSC_KHZ, 0);
	int have_timing = 0;
	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		if (e->function == 0x40000000 && tsc_khz > 0)
			e->eax = CPUID_TIMING_LEAF;
		if (e->function == CPUID_TIMING_LEAF)
			have_timing = 1;
	}
	if (tsc_khz > 0 && !have_timing) {
		struct kvm_cpuid_entry2 *e = &c->entries[c->nent++];
		memset(e, 0, sizeof(*e));
		e->function = CPUID_TIMING_LEAF;
		e->eax = (uint32_t)tsc_khz;
	}
	int r = ioctl(vm->vcpu_fd, KVM_SET_CPUID2, c);
	free(c);
	return r < 0 ? fail("KVM_SET_CPUID2") : 0;
}

static void segment(struct kvm_segment *s, uint16_t sel, int code)
{
	*s = (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffff,
		.selector = sel,
		.type = code ? 11 : 3,
		.present = 1,
		.dpl = 0,
		.db = code ? 0 : 1,
		.s = 1,
		.l = code ? 1 : 0,
		.g = 1,
	};
}

static int setup_registers(struct vm *vm, const struct kernel_image *k,
			   uint64_t start_info)
{
	struct kvm_sregs s;
	if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &s) < 0)
		return fail("KVM_GET_SREGS");
	segment(&s.cs, FRESCO_KERNEL_CS, 1);
	segment(&s.ds, FRESCO_KERNEL_DS, 0);
	s.es = s.ss = s.ds;
	s.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	s.cr3 = k->pml4;
	s.cr4 = CR4_PAE;
	s.efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
	if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, &s) < 0)
		return fail("KVM_SET_SREGS");
	struct kvm_regs r = {
		.rip = k->entry64,
		.rdi = FRESCO_BOOT_MAGIC,
		.rsi = start_info,
		.rflags = 2,
	};
	if (ioctl(vm->vcpu_fd, KVM_SET_REGS, &r) < 0)
		return fail("KVM_SET_REGS");
	return 0;
}

static int create(struct vm *vm, const struct vm_config *cfg)
{
	struct kernel_image k;

	if ((vm->kvm_fd = kvm_open()) < 0)
		return -1;
	if ((vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0)) < 0)
		return fail("KVM_CREATE_VM");
	if (setup_memory(vm, cfg->mem_size) < 0)
		return -1;
	if (kernel_load(cfg->kernel_path, &vm->mem, &k) < 0)
		return -1;
	if (devices_open(vm) < 0)
		return -1;
	struct vm_config boot_cfg = *cfg;
	boot_cfg.cmdline = vm->cmdline;
	uint64_t si = boot_info_write(&vm->mem, &k, &boot_cfg);
	if (!si)
		return -1;
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return fail("KVM_CREATE_IRQCHIP");
	if (devices_start(vm) < 0)
		return -1;
	if ((vm->vcpu_fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, 0)) < 0)
		return fail("KVM_CREATE_VCPU");
	int run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size <= 0)
		return fail("KVM_GET_VCPU_MMAP_SIZE");
	vm->run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE,
		       MAP_SHARED, vm->vcpu_fd, 0);
	if (vm->run == MAP_FAILED)
		return fail("mmap kvm_run");
	if (setup_cpuid(vm) < 0 || setup_registers(vm, &k, si) < 0)
		return -1;
	return 0;
}

/* Pass (sig) to the program: set its bit in the guest's event word and
 * interrupt the vCPU. Returns 0, or -1 if the guest cannot take it. */
static int post_signal(struct vm *vm, int sig)
{
	uint64_t *word = guest_mem_ptr(&vm->mem, vm->events_gpa, 8);
	if (!vm->events_gpa || !word || ((uintptr_t)word & 7))
		return -1;
	__atomic_fetch_or(word, 1ULL << (sig - 1), __ATOMIC_RELEASE);
	struct kvm_msi msi = {
		.address_lo = 0xfee00000, /* LAPIC of vCPU 0 */
		.data = FRESCO_EVENT_VECTOR,
	};
	return ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &msi) < 0 ? -1 : 0;
}

static void end_with_dump(struct vm *vm, const char *what)
{
	fprintf(stderr, "fresco: the guest kernel stopped: %s\n", what);
	vcpu_dump(vm);
	vm->ended = 1;
	vm->status = VM_STATUS_ERROR;
}

static void handle_exit(struct vm *vm)
{
	struct kvm_run *run = vm->run;
	char what[96];

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		for (uint32_t i = 0; i < run->io.count && !vm->ended; i++)
			pio_handle(vm, run->io.port,
				   run->io.direction == KVM_EXIT_IO_OUT,
				   (uint8_t *)run + run->io.data_offset +
					   i * run->io.size,
				   run->io.size);
		break;
	case KVM_EXIT_MMIO:
		if (run->mmio.phys_addr >= FRESCO_HC_BASE &&
		    run->mmio.phys_addr < FRESCO_HC_BASE + FRESCO_HC_SIZE) {
			uint64_t v = 0;
			if (run->mmio.is_write) {
				memcpy(&v, run->mmio.data,
				       run->mmio.len <= 8 ? run->mmio.len : 8);
				hc_handle(vm,
					  run->mmio.phys_addr - FRESCO_HC_BASE,
					  v);
			} else {
				memset(run->mmio.data, 0,
				       sizeof(run->mmio.data));
			}
		} else if (devices_mmio(vm, run->mmio.phys_addr, run->mmio.data,
					run->mmio.len, run->mmio.is_write)) {
			/* served by a virtio device */
		} else if (!run->mmio.is_write) {
			/* nothing there: reads float high, as on a bus */
			memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
		}
		break;
	case KVM_EXIT_SHUTDOWN:
		end_with_dump(vm, "triple fault");
		break;
	case KVM_EXIT_HLT:
		end_with_dump(vm, "halted with interrupts off");
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(what, sizeof(what),
			 "KVM could not run an instruction (internal error, "
			 "suberror %u)",
			 run->internal.suberror);
		end_with_dump(vm, what);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(what, sizeof(what),
			 "KVM could not enter the guest (reason %#llx)",
			 (unsigned long long)
				 run->fail_entry.hardware_entry_failure_reason);
		end_with_dump(vm, what);
		break;
	default:
		snprintf(what, sizeof(what), "unexpected KVM exit %u",
			 run->exit_reason);
		end_with_dump(vm, what);
	}
}

static int run(struct vm *vm, const struct vm_config *cfg)
{
	struct sigaction sa = {.sa_handler = on_stop_signal};

	if (create(vm, cfg) < 0)
		return VM_STATUS_ERROR;
	vm->started_ns = monotonic_ns();
	vm->vcpu_thread = (unsigned long)pthread_self();

	/* no SA_RESTART: a blocked console read must see the signal */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	running = vm->run;
	if (cfg->control_path && control_start(vm, cfg->control_path) < 0)
		return VM_STATUS_ERROR;
	if (cfg->ready_fd > 0) {
		ssize_t w = write(cfg->ready_fd, "", 1);
		(void)w; /* a parent gone has nothing to learn */
		close(cfg->ready_fd);
	}

	int forwarded = 0;
	while (!vm->ended) {
		if (stop_signal) {
			int sig = stop_signal;
			stop_signal = 0;
			vm->run->immediate_exit = 0;
			/* the first is the program's to handle; a second, or
			 * a guest that cannot take it, stops the VM */
			if (forwarded++ || post_signal(vm, sig) < 0) {
				fflush(stdout);
				if (forwarded > 1)
					fprintf(stderr,
						"fresco: %s again: "
						"stopping the VM\n",
						sig == SIGINT ? "SIGINT"
							      : "SIGTERM");
				return 128 + sig;
			}
		}
		if (ioctl(vm->vcpu_fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				vm->run->immediate_exit = 0;
				continue;
			}
			fprintf(stderr, "fresco: KVM_RUN: %s\n",
				strerror(errno));
			return VM_STATUS_ERROR;
		}
		handle_exit(vm);
	}
	fflush(stdout);
	return vm->status;
}

int vm_run(const struct vm_config *cfg)
{
	struct vm vm = {.kvm_fd = -1, .vm_fd = -1, .vcpu_fd = -1, .cfg = cfg};
	int status = run(&vm, cfg);
	/* no request may land after the volumes are free for another VM */
	devices_stop(&vm);
	return status;
}

static char reaper_stack[16384] __attribute__((aligned(16)));
static pid_t reaper_parent;

/* Lives until its parent dies, then dies itself, releasing the VM. */
static int reaper(void *arg)
{
	(void)arg;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != reaper_parent) /* the parent is already gone */
		_exit(0);
	for (;;)
		pause();
}

void vm_exit(int status)
{
	fflush(stdout);
	fflush(stderr);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
	}
	reaper_parent = getpid();
	/* if this fails the VM is simply torn down by our own exit */
	clone(reaper, reaper_stack + sizeof(reaper_stack),
	      CLONE_VM | CLONE_FILES | CLONE_FS, NULL);
	_exit(status);
}
