/* kernel.h: the interface between the guest kernel's parts.
 *
 * Privilege model (DESIGN.md, "This machine's KVM"). The kernel runs in
 * one of two modes, found at boot by one probe system call:
 *   ring-3 mode (kvm_pvm): SYSCALL lands on syscall_entry at CPL 3. The
 *     whole syscall path, and the kernel's own start-up after boot0, run
 *     natively at CPL 3 with kernel memory mapped user-accessible.
 *   ring-0 mode (hardware KVM, QEMU TCG): SYSCALL lands at CPL 0 as usual
 *     and kernel memory is made supervisor-only before the program starts.
 * Code is "any-privilege" unless marked RING0: it must work at CPL 3 and
 * CPL 0, so it never executes privileged instructions itself and asks the
 * gate (gate_call) instead. RING0 code is what always runs in ring 0
 * (boot0, trap handlers, gate operations): under kvm_pvm every one of its
 * instructions is emulated (~0.5 us), so it stays short and loop-free.
 * All kernel code is built for general registers only.
 */
#ifndef FRESCO_KERNEL_H
#define FRESCO_KERNEL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fresco/abi.h>
#include <fresco/pvh.h>
#include "lib/lib.h"

#define RING0 __attribute__((section(".text.ring0")))
#define NORETURN __attribute__((noreturn))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define PAGE_SIZE 4096ULL
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define PAGE_DOWN(x) ((uint64_t)(x)&PAGE_MASK)
#define PAGE_UP(x) (((uint64_t)(x) + PAGE_SIZE - 1) & PAGE_MASK)
/* A page of zeros, to read from (mm/phys.c): one for the whole kernel,
 * whose image counts against the smallest --memory. */
extern const uint8_t zero_page[PAGE_SIZE];

/* Virtual layout: the kernel image at KERNEL_VMA + physical address; all
 * of the first 4 GiB of physical memory at DIRECT_MAP; below USER_TOP the
 * program's address space. */
#define KERNEL_VMA 0xffffffff80000000ULL
#define DIRECT_MAP 0xffffff8000000000ULL
#define DIRECT_MAP_SIZE 0x100000000ULL

static inline void *phys_to_virt(uint64_t pa)
{
	return (void *)(DIRECT_MAP + pa);
}

/* Physical address of kernel-image or direct-map memory. */
static inline uint64_t virt_to_phys(const void *v)
{
	uint64_t a = (uint64_t)v;
	return a >= KERNEL_VMA ? a - KERNEL_VMA : a - DIRECT_MAP;
}

/* ---- boot state (main.c) ---- */

struct boot_state {
	int fresco;		/* booted by fresco's monitor (direct entry) */
	int ring3;		/* ring-3 mode: see above */
	uint64_t start_info_pa; /* struct hvm_start_info */
	int kvmclock;		/* kvmclock registered by boot0 */
	int tsc_deadline;	/* LAPIC TSC-deadline timer armed by boot0 */
	int fsgsbase;		/* CR4.FSGSBASE set: wrfsbase is usable */
	uint64_t xcr0;		/* XSAVE features enabled; 0: no XSAVE */
	uint32_t xsave_size;	/* bytes of an XSAVE area for them */
	uint64_t tsc_khz;	/* 0 if unknown */
};
extern struct boot_state boot;

/* Per-CPU data, found through the GS base that boot0 sets once. The
 * offsets are used by entry.S. */
struct percpu {
	uint64_t user_rsp;   /* 0: the caller's stack during a syscall */
	uint64_t kstack_top; /* 8: the syscall stack */
	uint64_t ring3;	     /* 16: the current syscall entered at CPL 3 */
	uint64_t scratch_rip, scratch_rsp; /* 24, 32: user_return's */
	uint64_t fast; /* 40: it came from a patched site (callpatch.c) */
};
extern struct percpu percpu0;

/* ---- arch/x86_64 ---- */

/* Registers saved by syscall_entry (entry.S), lowest address first. */
struct syscall_frame {
	uint64_t r15, r14, r13, r12, rbp, rbx;
	uint64_t r9, r8, r10, rdx, rsi, rdi;
	uint64_t nr;
	uint64_t rflags, rip, rsp;
};

/* Registers saved by trap_common (entry.S), lowest address first. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

/* Privileged operations, run in ring 0 by gate_call. */
enum gate_op {
	GATE_OUTS = 1,	 /* (port, kernel buffer, len): bytes to an I/O port */
	GATE_EXIT_PORT,	 /* (status): QEMU isa-debug-exit, then halt forever */
	GATE_FLUSH_TLB,	 /* (): reload CR3 */
	GATE_IDLE,	 /* (tsc deadline): sleep until then or an interrupt */
	GATE_ENTER_USER, /* (entry, sp): drop kernel U bits, start the program
			  */
	GATE_WRMSR,	 /* (msr, value) */
	GATE_INB,	 /* (port): one byte */
	GATE_TRIPLE_FAULT,   /* (): fault injection (fresco.fault=triple) */
	GATE_IDLE_WATCH,     /* (tsc deadline, u16 *word, seen): GATE_IDLE
			      * unless *word != seen already */
	GATE_SWITCH_PROCESS, /* (cr3, fs base): another process's address
			      * space and thread pointer */
};

/* System call sites turned into jumps (callpatch.c): look at the site
 * the call (f) came from (syscall_dispatch asks only in ring-3 mode and
 * for calls that did not come from a patched site); or never patch
 * (from the command line). */
void callpatch_try(const struct syscall_frame *f);
void callpatch_disable(void);

/* Run (op) in ring 0: a direct call at CPL 0, a trap at CPL 3. */
long gate_call(long op, long a1, long a2, long a3);
RING0 long gate_dispatch(long op, long a1, long a2, long a3,
			 struct trap_frame *f);

/* Copy (n) bytes between kernel and user memory. The user range must be
 * checked with user_range_ok first; a fault inside returns -EFAULT. */
int user_copy(void *dst, const void *src, size_t n);
/* A program's full register state, as user_return loads it. */
struct user_regs {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t rip, rflags, rsp;
};
/* Continue the program with exactly (r), from any privilege level. */
NORETURN void user_return(const struct user_regs *r);
/* Entered instead of the faulting program when a handler must run. */
void signal_fault_entry(void);
/* Start the program at CPL 3 from CPL 3 (ring-3 mode only). */
NORETURN void enter_program_ring3(uint64_t entry, uint64_t sp);

RING0 NORETURN void boot0(uint64_t fresco, uint64_t start_info_pa);
RING0 void trap_handle(struct trap_frame *f);
/* "page fault", "invalid opcode", ... for an exception vector */
const char *exception_name(uint64_t vector);
void idt_fill(void);
uint64_t *boot_pml4_table(void);

/* ---- console and host channel (drivers/console.c) ---- */

void console_write(int fd, const char *p, size_t len);
long console_read(char *p, size_t len);
/* Tell the monitor where to post host events (fresco's monitor only). */
void console_events_register(uint64_t *word);
/* Tell the monitor the program starts now (its boot timer). */
void console_booted(void);
/* One line on the host's stderr (fresco) or the debug console (PVH). */
void klog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* End the VM with (status); never returns. */
NORETURN void kexit(int status);
/* End the VM with status 125 after dumping (f) (may be NULL). */
NORETURN void kpanic(const struct trap_frame *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- time (arch/x86_64/clock.c) ---- */

void clock_init(void);
uint64_t clock_monotonic_ns(void);
uint64_t clock_realtime_ns(void);
/* The monotonic time (ns) from now; UINT64_MAX if beyond it. */
static inline uint64_t deadline_in(uint64_t ns)
{
	uint64_t now = clock_monotonic_ns();
	return ns > UINT64_MAX - now ? UINT64_MAX : now + ns;
}
/* Sleep until clock_monotonic_ns() >= (deadline), or less: an interrupt
 * or a host event ends the sleep early. Callers loop. */
void clock_sleep_until(uint64_t deadline);
/* Wait until (*word) != (seen) or CLOCK_MONOTONIC passes (deadline):
 * halted until an interrupt where the LAPIC timer works, else spinning. */
void clock_wait_change(const volatile uint16_t *word, uint16_t seen,
		       uint64_t deadline);
/* The TSC value at monotonic time (ns). */
uint64_t clock_tsc_at(uint64_t ns);

/* ---- memory (mm/) ---- */

void phys_init(const struct hvm_start_info *si);
uint64_t phys_alloc(void);	 /* a zeroed page, or 0 */
uint64_t phys_alloc_dirty(void); /* one as the last user left it */
void phys_free(uint64_t pa);
/* (pages) physically consecutive pages, not zeroed, or 0. They are freed
 * one by one with phys_free. */
uint64_t phys_alloc_contig(uint64_t pages);
uint64_t phys_free_pages(void);
/* One more use of page (pa) (fork shares read-only pages): phys_free
 * then drops a use and frees the page with its last. 0, or -1 if (pa)
 * cannot be shared (the caller copies it). */
int phys_share(uint64_t pa);
/* (pa) has more than one use. */
int phys_shared(uint64_t pa);
uint64_t phys_total_pages(void);

void *kmalloc(size_t size); /* up to PAGE_SIZE bytes, zeroed; or NULL */
void kfree(void *p, size_t size);

#define VM_READ ELF_PROT_R
#define VM_WRITE ELF_PROT_W
#define VM_EXEC ELF_PROT_X

/*
 * Map [start, start + len) (page-aligned) with (prot), backed by fresh
 * pages now, and record it. (src, src_len) is copied to (start + src_off).
 * A page already mapped there is kept and its protection widened (ELF
 * segments may share a page). Returns 0 or -ENOMEM; on error what was
 * mapped by this call stays mapped (the caller ends the VM).
 */
int vm_map_fixed(uint64_t start, uint64_t len, int prot, const void *src,
		 uint64_t src_off, uint64_t src_len);
long vm_mmap(uint64_t addr, uint64_t len, int prot, int flags);
long vm_munmap(uint64_t addr, uint64_t len);
long vm_mprotect(uint64_t addr, uint64_t len, int prot);
long vm_mremap(uint64_t old, uint64_t old_len, uint64_t new_len, int flags,
	       uint64_t new_addr);
long vm_madvise(uint64_t addr, uint64_t len, int advice);
void vm_brk_init(uint64_t start);
/* /proc/self/maps lines for the regions, appended at buf[*len], cap. */
void vm_describe(char *buf, size_t cap, size_t *len);
/* The physical address of user address (va), if it is mapped for the
 * program (and writable, if asked); else 0. For I/O straight to and from
 * the program's pages. */
uint64_t vm_user_phys(uint64_t va, int writable);
/* The same for code: (va) mapped for the program and executable. */
uint64_t vm_user_code_phys(uint64_t va);
uint64_t vm_brk(uint64_t want);
/* pid 1's address space: the boot page tables; NULL without memory. */
struct mm *vm_boot_mm(void);
/* A copy of the current process's address space, every page copied now
 * (MAP_SHARED memory too: it is not shared with the child); NULL when
 * memory runs out, with nothing left allocated. */
struct mm *vm_fork(void);
/* An empty address space (the kernel half only); NULL without memory. */
struct mm *vm_new(void);
/* Another user of (m) (a vfork child); returns (m). */
struct mm *vm_get(struct mm *m);
/* Drop a use of (m); the last frees it, and it must not be the active
 * address space then. */
void vm_release(struct mm *m);
/* The physical address of (m)'s PML4, for CR3. */
uint64_t vm_root(const struct mm *m);

/* ---- Linux system calls (linux/) ---- */

long syscall_dispatch(struct syscall_frame *f);

/* Copies between kernel buffers and user addresses: 0 or -EFAULT. */
int copy_from_user(void *dst, uint64_t src, size_t n);
int copy_to_user(uint64_t dst, const void *src, size_t n);
/* While on, the copies above take kernel addresses on both sides. */
void uaccess_kernel_buffers(int on);
/* A user string into (dst, cap): its length, -EFAULT or -ENAMETOOLONG. */
long string_from_user(char *dst, uint64_t src, size_t cap);
/* The program's array of (n) struct iovec at (uiov) into (iov) (room for
 * n, which the caller has checked): the bytes it describes, -EFAULT, or
 * -EINVAL if they come to more than (max). */
struct iovec;
long iov_from_user(struct iovec *iov, uint64_t uiov, uint64_t n, uint64_t max);
/* The pieces (iov, n) describes, from the program into (buf), which has
 * room for all of them; or (len) bytes of (buf) out to the pieces, in
 * order. 0 or -EFAULT. */
int iov_gather(void *buf, const struct iovec *iov, uint64_t n);
int iov_scatter(const struct iovec *iov, uint64_t n, const void *buf,
		uint64_t len);
/* (len) bytes of (buf) to the pieces, (off) bytes into them: 0, or
 * -EFAULT (also if they end first). */
int iov_put_at(const struct iovec *iov, uint64_t n, uint64_t off,
	       const void *buf, uint64_t len);

void random_init(void);
void random_bytes(void *buf, size_t n);
/* private call number: answers whether the syscall path runs at CPL 3 */
#define FRESCO_SYS_PROBE 0x46524553

/* ---- processes (sched/process.c) ----
 *
 * A VM runs one program, which may fork (DESIGN.md's "ONE program" is one
 * program, not one process: servers such as busybox httpd fork a child
 * per connection). Each process has its own address space (struct mm),
 * descriptor table (struct files), signal state and kernel stack. There
 * is one vCPU and no preemption: a process runs until it waits
 * (event_wait) or exits, and then the next one that may have something
 * to do runs. Process states:
 *   running   the current process (one at a time)
 *   waiting   switched out inside event_wait; worth running again once
 *             sched_events has moved past (seen): something happened
 *   new       forked, not yet run: always worth running
 *   zombie    exited; its parent reaps it with wait4 (or nobody waits and
 *             it is freed at once when its parent ignores SIGCHLD)
 * pid 1 is the program the VM was started with; when it exits, the VM
 * ends with its status, as a container does.
 */
#define PROC_MAX 256
#define KSTACK_SIZE (128 * 1024)
#define PROCESS_IOBUF_SIZE (64 * 1024)

struct mm;
struct files;
struct process_timers;
struct sigaltstack_abi { /* Linux's stack_t */
	uint64_t sp;
	int32_t flags, pad;
	uint64_t size;
};

enum proc_state { PROC_NEW, PROC_RUNNING, PROC_WAITING, PROC_ZOMBIE };

struct process {
	int pid;
	enum proc_state state;
	struct process *parent;
	struct process *next; /* all processes, in pid order */
	uint64_t ksp;	      /* saved kernel stack pointer when switched out */
	void *kstack;	      /* iobuf and the kernel stack above it; NULL
			       * for pid 1 (static) */
	uint8_t *iobuf;	      /* PROCESS_IOBUF_SIZE bytes for one system
			       * call's data (socket sends and receives) */
	uint64_t seen;	      /* sched_events when it last checked */
	uint64_t wake_at;     /* monotonic ns its wait ends at */
	uint64_t ran_since;   /* monotonic ns it was last switched in */
	int wait_status;      /* as wait4 reports it, once a zombie */
	int autoreap;	      /* zombie freed without a wait */
	int execed;	      /* has called execve (ends a vfork wait) */
	struct syscall_frame *frame; /* the current system call's */
	struct mm *mm;
	struct files *files;
	struct inode *cwd;
	uint32_t umask;
	const char *exe; /* path of the program, for /proc/self/exe */
	char *exe_owned; /* (exe) when execve allocated it */
	int tty;	 /* the console is a terminal */
	uint64_t fs_base;
	uint64_t sigmask, sigpending;
	struct {
		uint64_t handler, flags, restorer, mask;
	} sigactions[64];
	int pending_code[65];
	int pending_from[65];	/* the sender's pid (0: the kernel, host) */
	int pending_status[65]; /* SIGCHLD: the child's si_status */
	uint64_t suspend_saved_mask; /* rt_sigsuspend's caller's mask */
	int suspend_active;
	struct sigaltstack_abi altstack;
	uint64_t rlim[16][2];
	uint64_t clear_child_tid; /* CLONE_CHILD_CLEARTID, set_tid_address */
	uint64_t set_child_tid;	  /* CLONE_CHILD_SETTID: written at start */
	int fd_open[3];		  /* console descriptors still open */
	struct process_timers *timers;
};
/* The process running now. */
extern struct process *current;
/* Moves whenever something may have changed what a waiting process
 * waits for: a system call, network input, an interrupt, an exit. */
extern uint64_t sched_events;
/* Something a waiting process may wait for changed. A system call's
 * start counts as such a change; a call that goes on changing things
 * after a wait of its own (a pipe write in rounds) says so each time. */
static inline void sched_wake(void)
{
	sched_events++;
}

void process_init(const char *exe, int tty);
/* What fork, vfork and clone ask for. */
struct fork_req {
	int vfork;    /* the parent waits until the child exits or execs */
	int share_vm; /* CLONE_VM (with vfork only): the parent's memory */
	int settls;   /* the child's FS base is (tls) */
	uint64_t tls;
	uint64_t stack;		  /* the child's stack pointer; 0: the same */
	uint64_t parent_tid;	  /* the child's pid is written here */
	uint64_t set_child_tid;	  /* ... and here, in the child's memory */
	uint64_t clear_child_tid; /* zeroed when the child exits */
};
/* A child of the current process, returning 0 from the same system call
 * (current->frame); the child's pid, or -EAGAIN / -ENOMEM with nothing
 * changed. */
long process_fork(const struct fork_req *req);
/* wait4 without its user copies: a zombie child's pid, its status in
 * (*status), and the child freed; 0 (WNOHANG), -ECHILD, -ERESTARTSYS. */
int process_wait(int pid, int options, int *status);
/* All processes, in pid order, linked by (next). */
struct process *process_list(void);
/* What a new program starts with (exec.c). */
struct exec_args {
	char *const *argv;
	int argc;
	char *const *envp;
	int envc;
	const char *execfn; /* the path given, for AT_EXECFN */
};
/* Load the static ELF program (image, len) into the current address
 * space, which has nothing mapped, with its brk and a stack holding (a):
 * 0 with its (*entry) and (*rsp), or -ENOEXEC / -ENOMEM / -E2BIG with
 * (*why) in words for a person; the address space is then half made. */
int exec_load(const void *image, size_t len, const struct exec_args *a,
	      uint64_t *entry, uint64_t *rsp, const char **why);
/* The same for the program in the regular file (i), read from wherever
 * its data is. */
struct inode;
int exec_file(struct inode *i, const struct exec_args *a, uint64_t *entry,
	      uint64_t *rsp, const char **why);
/* Make (m) the current process's address space, now. */
void process_set_mm(struct mm *m);
/* The current process became another program (execve): release a vfork
 * parent, and forget what belonged to the old program. */
void process_exec_done(void);
/* The process with (pid), or NULL (zombies included). */
struct process *process_find(int pid);
/* How many processes are alive (not zombies). */
int process_count(void);
/* End the current process with wait status (status) (exit code << 8, or
 * the signal number); for pid 1 this ends the VM with (vm_status). */
NORETURN void process_exit(int status, int vm_status);
/* Run another process that may have something to do, if any, and
 * return when this one is switched back in: 1 if something ran. */
int sched_yield_wait(uint64_t wake_at);
/* At a system call's end: if the current process has run its time slice
 * and another may have something to do, let that one run first. */
void sched_tick(void);
/* The nearest wake_at of the waiting processes other than the current. */
uint64_t sched_next_wake(void);
/* Halt until an interrupt, (wake_at), the stack's or a program's timer,
 * or another process's wake_at; then sched_events moves. */
void sched_idle(uint64_t wake_at);
/* Free what an exited process left to the one switched in after it. */
void sched_finish_switch(void);
void process_init(const char *exe, int tty);

/* Send (sig) to the program; terminates the VM if that is its effect,
 * else it runs when the current system call returns. */
long signal_raise(int sig);
long signal_send(int sig, int si_code);
/* Send (sig) to (p): pending there, and (p) runs to take it; if (p) is
 * the current process, as signal_send. */
long signal_send_to(struct process *p, int sig, int si_code);
/* The current process exited: SIGCHLD to (parent) with (si_code) and
 * (status) (the exit code, or the signal that killed it). */
void signal_child_exited(struct process *parent, int si_code, int status);
/* The program faulted: report and end the VM with 128 + signal. */
NORETURN void signal_fault(const struct trap_frame *f, int sig, uint64_t addr);
/* Ring 0: if the program has a handler for the fault (sig), redirect the
 * trap's return to signal_fault_entry and return 1; else 0. */
RING0 int signal_fault_redirect(struct trap_frame *f, int sig, uint64_t addr);
/* Ring 0: a process other than pid 1 faulted with no handler; send it
 * to signal_kill_entry on its kernel stack, where it dies natively, and
 * return 1; else 0 (pid 1: signal_fault ends the VM). */
RING0 int signal_fault_kill(struct trap_frame *f, int sig, uint64_t addr);
void signal_kill_entry(void);
/* At the end of a system call: run a pending signal's handler instead of
 * returning to the caller; returns the value for RAX. */
long signal_deliver_pending(struct syscall_frame *f, long ret);
const char *signal_name(int sig);
/* execve: handlers become the default action; ignored stays ignored. */
void signal_exec(void);
/* Ring 0: a timer interrupt came while the program ran; send it through
 * signal_async_entry so that expired timers can run handlers. 1 if so. */
RING0 int signal_async_redirect(struct trap_frame *f);
void signal_async_entry(void);
/* Signals the monitor sent (bit N-1 for signal N), set by the host. */
extern uint64_t host_events;
/* Turn the host's events into pending signals. */
void host_events_take(void);
/* rt_sigsuspend: wait with (mask); the old mask returns after handlers. */
void signal_mask_suspend(uint64_t mask);
/* ppoll, pselect6, epoll_pwait: the mask at (umask) (a sigset of (size)
 * bytes; 0: none) holds until the call returns, or until the handlers
 * it let in return. 0, -EINVAL or -EFAULT. */
long signal_mask_for_call(uint64_t umask, uint64_t size);
/* Wait until (deadline) (monotonic ns; UINT64_MAX: forever) or until a
 * signal is pending: 0 or -EINTR. */
int signal_wait(uint64_t deadline);
/* Wait until something may have changed, a pending signal, or
 * (deadline): 1 something happened (network input, another process ran:
 * look again), 0 the deadline passed, -EINTR a signal. Other processes
 * run meanwhile. */
int event_wait(uint64_t deadline);
/* Kernel-internal: the call may restart after a SA_RESTART handler. */
#define ERESTARTSYS 512

/* ---- timers (linux/sys_timer.c) ---- */

extern uint64_t timer_armed_tsc;	/* hardware timer armed for a timer */
void timers_check(void);		/* fire expired timers */
int timers_active(void);		/* some timer is set */
void timers_release(struct process *p); /* (p) exits: stop its timers */
void timers_exec(void); /* execve: POSIX timers go, interval timers stay */

/* ---- library (lib/) ---- */

void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
