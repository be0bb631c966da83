/* vmm.h: Fresco's monitor, a library the fresco command links.
 *
 * One VM per process: vm_run() creates the VM on /dev/kvm, loads the
 * kernel and the root filesystem, runs the single vCPU on the calling
 * thread until the guest ends, and returns the status `fresco run` exits
 * with. It never tears the VM down (exit does it; KVM-HERE.md: 6-15 ms).
 *
 * VM lifecycle:  created -> loaded -> running -> ended(status)
 * A guest can end it by the exit hypercall or port (status), a kernel
 * panic, a triple fault or an instruction KVM cannot run (125, with a
 * register dump on stderr). The first SIGINT or SIGTERM is passed on to
 * the program (its handler runs, or its default action ends the VM with
 * 128 + signal); a second one ends the VM at once with 128 + signal.
 * Nothing a guest does can crash the monitor: every guest address and
 * length goes through guest_mem_ptr() before it is touched.
 */
#ifndef FRESCO_VMM_H
#define FRESCO_VMM_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in nanoseconds. */
static inline uint64_t monotonic_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

#define VM_STATUS_ERROR 125 /* docker's status for the runtime's own errors */
#define VM_MEM_MIN (2ULL << 20)
#define VM_MEM_MAX (3ULL << 30) /* below the MMIO hole and FRESCO_HC_BASE */

/* A volume: a host file (or block device) the guest sees as a virtio block
 * device, the (i)th one as /dev/vd('a' + i). */
struct vm_disk {
	const char *path;
	int readonly;
};

#define VM_DISK_MAX 8
#define VM_FORWARD_MAX 32

enum vm_net { VM_NET_NONE, VM_NET_USER, VM_NET_TAP };

/* A published port (-p): the guest's (guest_port) on the host's. */
struct vm_forward {
	int udp;
	char host_addr[64]; /* "" for every address */
	uint16_t host_port, guest_port;
};

struct vm_config {
	const char *kernel_path; /* the guest kernel ELF */
	uint64_t mem_size;	 /* bytes of guest RAM */
	const void *initrd;	 /* root filesystem (cpio newc) */
	size_t initrd_size;
	const char *cmdline; /* kernel command line */
	/* Output to a log file: when it passes (log_max) bytes it is renamed
	 * (log_path).1 and a new one started on fds 1 and 2. NULL: none. */
	const char *log_path;
	uint64_t log_max;
	/* Serve the control API (docs/api.md) on this unix socket. NULL:
	 * none. */
	const char *control_path;
	/* If set, receives the boot time in us once the program starts. */
	uint64_t *boot_us;
	/* If above 0, a descriptor that gets one byte and is closed once
	 * the VM is made (devices open, the guest about to run): a
	 * detached run's parent waits for it, and a VM that could not be
	 * made leaves it unwritten. */
	int ready_fd;
	struct vm_disk disks[VM_DISK_MAX];
	unsigned ndisks;
	enum vm_net net;
	const char *tap_name; /* VM_NET_TAP */
	struct vm_forward forwards[VM_FORWARD_MAX];
	unsigned nforwards;
};

/*
 * Boot and run the VM described by (cfg) to its end. Returns the guest's
 * exit status (0..255), VM_STATUS_ERROR after printing one line saying what
 * failed (no /dev/kvm, bad kernel, not enough memory), or 128 + signal.
 */
int vm_run(const struct vm_config *cfg);

/*
 * End the process with (status) without waiting for the VM's teardown
 * (6-15 ms, KVM-HERE.md): standard streams are flushed and pointed at
 * /dev/null (so a reader sees end-of-file at once), and the VM's last
 * references pass to a child that shares this process's memory and
 * descriptors and dies, tearing the VM down, just after this process has
 * exited. Never returns.
 */
__attribute__((noreturn)) void vm_exit(int status);

/*
 * Guest memory. guest_mem_ptr() is the one place where a guest-physical
 * range becomes a host pointer: it returns NULL unless [gpa, gpa + len)
 * lies wholly inside guest RAM (overflow-safe). len 0 is allowed.
 */
struct guest_mem {
	uint8_t *host;
	uint64_t size;
};

void *guest_mem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len);

/*
 * Kernel loading (loader.c). Reads the kernel ELF at (path), copies its
 * PT_LOAD segments to their physical addresses in (m) and finds its notes.
 * Returns 0, or -1 after printing why (the file, what is wrong with it).
 */
struct kernel_image {
	uint64_t entry64;  /* FRESCO_NOTE_ENTRY64 */
	uint64_t pml4;	   /* FRESCO_NOTE_PML4 */
	uint64_t phys_end; /* first byte past the image */
	uint32_t abi;
};

int kernel_load(const char *path, struct guest_mem *m, struct kernel_image *k);

/*
 * Write the PVH boot information (start_info, memory map, module list,
 * command line) for (cfg) into low guest memory, and the root filesystem
 * after the kernel. Returns the start_info address, or 0 after printing
 * why (it does not fit in the guest's memory).
 */
uint64_t boot_info_write(struct guest_mem *m, const struct kernel_image *k,
			 const struct vm_config *cfg);

/* The guest address where boot_info_write puts hvm_start_info. */
#define BOOT_INFO_GPA 0x1000ULL

/* ---- inside the monitor: exit handlers of the vCPU loop (vm.c) ---- */

struct kvm_run;
struct virtio_dev;

struct vm {
	struct guest_mem mem;
	int kvm_fd, vm_fd, vcpu_fd;
	struct kvm_run *run;
	int ended;	     /* set by a handler: the guest is done */
	int status;	     /* valid once ended */
	uint64_t events_gpa; /* FRESCO_HC_EVENTS; 0 until the guest sets it */
	const struct vm_config *cfg;
	uint64_t started_ns;	   /* CLOCK_MONOTONIC at creation */
	uint64_t boot_ns;	   /* creation to the program's start, or 0 */
	unsigned long vcpu_thread; /* pthread_t of the thread in KVM_RUN */
	struct virtio_dev *devs[VM_DISK_MAX + 1];
	unsigned ndevs;
	char *cmdline; /* cfg->cmdline with the devices announced */
};

/* Open (vm)'s volumes as virtio-blk devices and announce them on the
 * command line (devices.c). 0, or -1 after printing why. */
int devices_open(struct vm *vm);
/* Connect them to KVM and start their threads, after the irqchip. */
int devices_start(struct vm *vm);
/* Stop the devices' threads and unlock the volumes (the VM has ended). */
void devices_stop(struct vm *vm);
/* A guest MMIO access at (gpa): 1 if a device took it. */
int devices_mmio(struct vm *vm, uint64_t gpa, uint8_t *data, unsigned len,
		 int is_write);

/* Start serving (vm)'s control socket (control.c): 0, or -1 after
 * printing why. */
int control_start(struct vm *vm, const char *path);

/* Send one request {"op": (op)} to the control socket at (path); the
 * answer line goes to (answer, cap). 0 if it said "ok": true, else -1. */
int control_request(const char *path, const char *op, char *answer, size_t cap);

/* The guest wrote (value) to hypercall register (reg) (hypercall.c). */
void hc_handle(struct vm *vm, uint64_t reg, uint64_t value);

/* Port I/O: 8250 console, debug console, debug-exit port (ports.c).
 * (data) holds (size) bytes; an IN fills it. */
void pio_handle(struct vm *vm, uint16_t port, int is_out, uint8_t *data,
		int size);

/* Print a register dump of the vCPU and, if it can, the bytes at RIP. */
void vcpu_dump(struct vm *vm);

/* Copy guest text to stderr with non-printable bytes shown as '?'. */
void print_guest_text(const char *prefix, const char *p, size_t len);

#endif
