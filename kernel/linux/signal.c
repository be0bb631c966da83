/* signal.c: signals: dispositions, masks, pending signals, the default
 * actions, and running handlers. Each process has its own; signals from
 * the host go to pid 1.
 *
 * A handler runs on an rt_sigframe laid out as Linux's x86_64 kernel lays
 * it out (return address = sa_restorer, ucontext, siginfo, then the FPU
 * state in fxsave format), so C libraries' sigreturn, siglongjmp and
 * ucontext code work unchanged. Signals a system call raises are run at
 * the end of that call (signal_deliver_pending). A fault with a handler is
 * redirected by the ring-0 trap handler to signal_fault_entry, which runs
 * in the any-privilege context (natively under kvm_pvm) and builds the
 * frame there. rt_sigreturn reloads every register with user_return.
 */
#include "linux/syscalls.h"
#include "arch/x86_64/x86.h"
#include <asm/sigcontext.h>
#include <asm/signal.h>

#define NSIG_LINUX 64
#define SIGSET_SIZE 8
#define SIG_DFL_VALUE 0
#define SIG_IGN_VALUE 1
#define SIGBIT(s) (1ULL << ((s)-1))
#define UNBLOCKABLE (SIGBIT(SIGKILL) | SIGBIT(SIGSTOP))
#define IGNORED_BY_DEFAULT                                     \
	(SIGBIT(SIGCHLD) | SIGBIT(SIGURG) | SIGBIT(SIGWINCH) | \
	 SIGBIT(SIGCONT) | SIGBIT(SIGTSTP) | SIGBIT(SIGTTIN) | \
	 SIGBIT(SIGTTOU))

static const char *const names[NSIG_LINUX + 1] = {
	[SIGHUP] = "SIGHUP",   [SIGINT] = "SIGINT",
	[SIGQUIT] = "SIGQUIT", [SIGILL] = "SIGILL",
	[SIGTRAP] = "SIGTRAP", [SIGABRT] = "SIGABRT",
	[SIGBUS] = "SIGBUS",   [SIGFPE] = "SIGFPE",
	[SIGKILL] = "SIGKILL", [SIGUSR1] = "SIGUSR1",
	[SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2",
	[SIGPIPE] = "SIGPIPE", [SIGALRM] = "SIGALRM",
	[SIGTERM] = "SIGTERM", [SIGSTKFLT] = "SIGSTKFLT",
	[SIGCHLD] = "SIGCHLD", [SIGCONT] = "SIGCONT",
	[SIGSTOP] = "SIGSTOP", [SIGTSTP] = "SIGTSTP",
	[SIGTTIN] = "SIGTTIN", [SIGTTOU] = "SIGTTOU",
	[SIGURG] = "SIGURG",   [SIGXCPU] = "SIGXCPU",
	[SIGXFSZ] = "SIGXFSZ", [SIGVTALRM] = "SIGVTALRM",
	[SIGPROF] = "SIGPROF", [SIGWINCH] = "SIGWINCH",
	[SIGIO] = "SIGIO",     [SIGPWR] = "SIGPWR",
	[SIGSYS] = "SIGSYS",
};

const char *signal_name(int sig)
{
	static char rt[12];
	if (sig > 0 && sig <= NSIG_LINUX && names[sig])
		return names[sig];
	snprintf(rt, sizeof(rt), "SIGRT%d", sig - 32);
	return rt;
}

/* The current process dies of (sig); pid 1's death ends the VM and is
 * reported, with (why). */
NORETURN static void terminate(int sig, const char *why)
{
	if (current->pid == 1)
		klog("program killed by %s%s", signal_name(sig), why);
	process_exit(sig, 128 + sig);
}

#define SI_USER_CODE 0
#define SI_TKILL_CODE (-6)
#define SEGV_MAPERR_CODE 1
#define SEGV_ACCERR_CODE 2
#define ILL_ILLOPN_CODE 2
#define FPE_INTDIV_CODE 1
#define BUS_ADRALN_CODE 1
#define TRAP_BRKPT_CODE 1
#define UC_SIGCONTEXT_SS_FLAG 0x2
#define UC_STRICT_RESTORE_SS_FLAG 0x4
#define SS_ONSTACK_FLAG 1
#define SS_DISABLE_FLAG 2
#define SS_AUTODISARM_FLAG (1u << 31)
#define MINSIGSTKSZ_LINUX 2048
#define RED_ZONE 128
#define FXSAVE_SIZE 512
#define XSAVE_MAX 8192
#define FP_XSTATE_MAGIC1 0x46505853U
#define FP_XSTATE_MAGIC2 0x46505845U
#define SW_BYTES_OFFSET 464 /* struct _fpx_sw_bytes in the fxsave area */
#define XSAVE_HEADER 512
#define UC_FP_XSTATE_FLAG 0x1
#define USER_CS_SEL 0x2b
#define USER_DS_SEL 0x23
/* RFLAGS bits sigreturn takes from the frame (Linux's FIX_EFLAGS) */
#define FIX_EFLAGS 0x50dd5ULL /* AC RF OF DF TF SF ZF AF PF CF */

/* Linux's siginfo for x86_64: 128 bytes, the union at offset 16. */
struct siginfo_abi {
	int32_t signo, err, code, pad;
	union {
		struct {
			int32_t pid;
			uint32_t uid;
		} kill;
		struct {
			int32_t pid;
			uint32_t uid;
			int32_t status;
		} chld;
		uint64_t addr;
		uint8_t raw[112];
	} u;
};

struct ucontext_abi {
	uint64_t flags, link;
	struct sigaltstack_abi stack;
	struct sigcontext mcontext;
	uint64_t sigmask;
};

struct rt_sigframe {
	uint64_t pretcode;
	struct ucontext_abi uc;
	struct siginfo_abi info;
};

/* The program's vector state, in the layout Linux puts in a frame. */
static uint8_t fpbuf[XSAVE_MAX + 4] __attribute__((aligned(64)));

/* Only the components the kernel enabled, not all (~0): in ring-3 mode
 * the XCR0 in force is the host's, which may hold more (AMX's tile data
 * is 8 KiB, past fpbuf, and an all-ones mask wrote it over the kernel's
 * per-CPU data on such a host). */
__attribute__((section(".text.xsave"))) static void fp_save(void)
{
	__asm__ volatile("xsave64 %0"
			 : "=m"(fpbuf)
			 : "a"((uint32_t)boot.xcr0),
			   "d"((uint32_t)(boot.xcr0 >> 32))
			 : "memory");
}

__attribute__((section(".text.xsave"))) static void fp_restore(void)
{
	__asm__ volatile("xrstor64 %0" ::"m"(fpbuf), "a"((uint32_t)boot.xcr0),
			 "d"((uint32_t)(boot.xcr0 >> 32)));
}

/* Save the vector registers into fpbuf; returns the bytes to copy. With
 * XSAVE the area is marked as Linux marks it (fpx_sw_bytes, magic2). */
static size_t fp_capture(void)
{
	if (!boot.xcr0 || boot.xsave_size < FXSAVE_SIZE + 64 ||
	    boot.xsave_size > XSAVE_MAX) {
		__asm__ volatile("fxsave64 %0" : "=m"(fpbuf));
		return FXSAVE_SIZE;
	}
	memset(fpbuf, 0, boot.xsave_size + 4);
	fp_save();
	uint32_t sw[2] = {FP_XSTATE_MAGIC1, boot.xsave_size + 4};
	memcpy(fpbuf + SW_BYTES_OFFSET, sw, 8);
	memcpy(fpbuf + SW_BYTES_OFFSET + 8, &boot.xcr0, 8);
	memcpy(fpbuf + SW_BYTES_OFFSET + 16, &boot.xsave_size, 4);
	uint32_t magic2 = FP_XSTATE_MAGIC2;
	memcpy(fpbuf + boot.xsave_size, &magic2, 4);
	return boot.xsave_size + 4;
}

/* Load the vector registers from the program's (fpstate): xrstor of an
 * area marked as Linux marks it, else fxrstor of its first 512 bytes.
 * Whatever the program wrote there, this cannot fault. */
static int fp_load(uint64_t fpstate)
{
	uint32_t magic1, size, mxcsr;
	if (copy_from_user(fpbuf, fpstate, FXSAVE_SIZE) < 0)
		return -EFAULT;
	memcpy(&magic1, fpbuf + SW_BYTES_OFFSET, 4);
	memcpy(&size, fpbuf + SW_BYTES_OFFSET + 16, 4);
	memcpy(&mxcsr, fpbuf + 24, 4);
	mxcsr &= 0xffff; /* reserved bits would fault */
	memcpy(fpbuf + 24, &mxcsr, 4);
	if (boot.xcr0 && magic1 == FP_XSTATE_MAGIC1 &&
	    size == boot.xsave_size &&
	    copy_from_user(fpbuf + FXSAVE_SIZE, fpstate + FXSAVE_SIZE,
			   size - FXSAVE_SIZE) == 0) {
		uint64_t bv;
		memcpy(&bv, fpbuf + XSAVE_HEADER, 8);
		bv &= boot.xcr0; /* features not enabled would fault */
		memcpy(fpbuf + XSAVE_HEADER, &bv, 8);
		/* compaction and reserved header bytes must be zero */
		memset(fpbuf + XSAVE_HEADER + 8, 0, 56);
		fp_restore();
		return 0;
	}
	__asm__ volatile("fxrstor64 %0" ::"m"(fpbuf));
	return 0;
}
uint64_t host_events;
static long send(struct process *p, int sig, int code, int from, int status);

void host_events_take(void)
{
	uint64_t ev = __atomic_exchange_n(&host_events, 0, __ATOMIC_ACQ_REL);
	for (int sig = 1; ev && sig <= NSIG_LINUX; sig++)
		if (ev & SIGBIT(sig)) {
			ev &= ~SIGBIT(sig);
			send(process_find(1), sig, SI_USER_CODE, 0, 0);
		}
}

/* The fault signal_fault_entry delivers, saved by the ring-0 handler. */
static struct trap_frame fault_frame;
static uint64_t fault_addr;
static int fault_sig;

extern char signal_stack_top[];

static int on_altstack(uint64_t sp)
{
	return !(current->altstack.flags & SS_DISABLE_FLAG) &&
	       sp > current->altstack.sp &&
	       sp - current->altstack.sp <= current->altstack.size;
}

static int has_handler(int sig)
{
	return current->sigactions[sig - 1].handler > SIG_IGN_VALUE &&
	       !(SIGBIT(sig) & UNBLOCKABLE);
}

long signal_raise(int sig)
{
	return signal_send(sig, SI_USER_CODE);
}

long signal_send(int sig, int code)
{
	return signal_send_to(current, sig, code);
}

/* Make (sig) pending in (p), or act on it, from (from) with (status)
 * for SIGCHLD's siginfo. */
static long send(struct process *p, int sig, int code, int from, int status)
{
	uint64_t bit = SIGBIT(sig);
	uint64_t h = p->sigactions[sig - 1].handler;

	if (p->state == PROC_ZOMBIE)
		return 0;
	if (sig == SIGSTOP) {
		/* nothing could continue it: job control is not kept */
		static int said;
		if (!said++)
			klog("SIGSTOP ignored: a stopped process could never "
			     "go on");
		return 0;
	}
	if (sig != SIGKILL) {
		if (h == SIG_IGN_VALUE)
			return 0;
		if (h == SIG_DFL_VALUE && (bit & (IGNORED_BY_DEFAULT)))
			return 0;
	}
	if (p == current &&
	    (sig == SIGKILL || (h == SIG_DFL_VALUE && !(p->sigmask & bit))))
		terminate(sig, "");
	/* a handler, blocked, or another process's: it runs when that
	 * process's system call returns, or when it is unblocked */
	p->sigpending |= bit;
	p->pending_code[sig] = code;
	p->pending_from[sig] = from;
	p->pending_status[sig] = status;
	sched_wake();
	return 0;
}

long signal_send_to(struct process *p, int sig, int code)
{
	return send(p, sig, code, current->pid, 0);
}

void signal_child_exited(struct process *parent, int code, int status)
{
	send(parent, SIGCHLD, code, current->pid, status);
}

/*
 * Lay out the frame for (sig) on the program's stack, saving (r) as the
 * interrupted context, and set (r) to enter the handler. Returns 0, or
 * -EFAULT if the stack cannot take the frame (the caller kills).
 */
static int setup_frame(int sig, const struct siginfo_abi *info,
		       struct user_regs *r, uint64_t trapno, uint64_t err,
		       uint64_t cr2)
{
	typeof(current->sigactions[0]) *sa = &current->sigactions[sig - 1];
	struct rt_sigframe frame;
	uint64_t sp = r->rsp;

	if (!(sa->flags & SA_RESTORER))
		return -EFAULT; /* x86_64 programs must give a restorer */
	if ((sa->flags & SA_ONSTACK) &&
	    !(current->altstack.flags & SS_DISABLE_FLAG) && !on_altstack(sp))
		sp = current->altstack.sp + current->altstack.size;
	else
		sp -= RED_ZONE;
	size_t fpsize = fp_capture();
	uint64_t fpstate = (sp - fpsize) & ~63ULL;
	uint64_t at = ((fpstate - sizeof(frame)) & ~15ULL) - 8;

	memset(&frame, 0, sizeof(frame));
	frame.pretcode = sa->restorer;
	frame.uc.flags = UC_SIGCONTEXT_SS_FLAG | UC_STRICT_RESTORE_SS_FLAG |
			 (fpsize > FXSAVE_SIZE ? UC_FP_XSTATE_FLAG : 0);
	frame.uc.stack = current->altstack;
	if (on_altstack(r->rsp))
		frame.uc.stack.flags |= SS_ONSTACK_FLAG;
	struct sigcontext *mc = &frame.uc.mcontext;
	mc->r8 = r->r8, mc->r9 = r->r9, mc->r10 = r->r10, mc->r11 = r->r11;
	mc->r12 = r->r12, mc->r13 = r->r13, mc->r14 = r->r14;
	mc->r15 = r->r15, mc->rdi = r->rdi, mc->rsi = r->rsi;
	mc->rbp = r->rbp, mc->rbx = r->rbx, mc->rdx = r->rdx;
	mc->rax = r->rax, mc->rcx = r->rcx, mc->rsp = r->rsp;
	mc->rip = r->rip, mc->eflags = r->rflags;
	mc->cs = USER_CS_SEL;
	mc->ss = USER_DS_SEL;
	mc->trapno = trapno;
	mc->err = err;
	mc->cr2 = cr2;
	uint64_t saved = current->suspend_active ? current->suspend_saved_mask
						 : current->sigmask;
	current->suspend_active = 0;
	mc->oldmask = saved;
	mc->fpstate = (struct _fpstate_64 *)fpstate; /* a user address */
	frame.uc.sigmask = saved;
	frame.info = *info;
	if (copy_to_user(fpstate, fpbuf, fpsize) < 0 ||
	    copy_to_user(at, &frame, sizeof(frame)) < 0)
		return -EFAULT;

	current->sigmask |= sa->mask;
	if (!(sa->flags & SA_NODEFER))
		current->sigmask |= SIGBIT(sig);
	current->sigmask &= ~UNBLOCKABLE;
	uint64_t handler = sa->handler;
	if (sa->flags & SA_RESETHAND)
		sa->handler = SIG_DFL_VALUE;
	r->rip = handler;
	r->rsp = at;
	r->rdi = (uint64_t)sig;
	r->rsi = at + offsetof(struct rt_sigframe, info);
	r->rdx = at + offsetof(struct rt_sigframe, uc);
	r->rax = 0;
	r->rflags &= ~0x10500ULL; /* DF TF RF */
	return 0;
}

/* The lowest pending, unblocked signal with a handler (after running the
 * default actions of the others), or 0. */
static int next_pending(void)
{
	for (int sig = 1; sig <= NSIG_LINUX; sig++) {
		uint64_t bit = SIGBIT(sig);
		if (!(current->sigpending & bit) || (current->sigmask & bit))
			continue;
		current->sigpending &= ~bit;
		if (has_handler(sig))
			return sig;
		signal_send(sig,
			    current->pending_code[sig]); /* default or ignore */
	}
	return 0;
}

static struct siginfo_abi kill_info(int sig)
{
	struct siginfo_abi info;
	memset(&info, 0, sizeof(info));
	info.signo = sig;
	info.code = current->pending_code[sig];
	info.u.chld.pid = current->pending_from[sig];
	if (sig == SIGCHLD)
		info.u.chld.status = current->pending_status[sig];
	return info;
}

void signal_mask_suspend(uint64_t mask)
{
	current->suspend_saved_mask = current->sigmask;
	current->suspend_active = 1;
	current->sigmask = mask & ~UNBLOCKABLE;
}

long signal_mask_for_call(uint64_t umask, uint64_t size)
{
	uint64_t mask;
	if (!umask)
		return 0;
	if (size != sizeof(mask))
		return -EINVAL;
	if (copy_from_user(&mask, umask, sizeof(mask)) < 0)
		return -EFAULT;
	signal_mask_suspend(mask);
	return 0;
}

long signal_deliver_pending(struct syscall_frame *f, long ret)
{
	int sig = next_pending();
	if (!sig) {
		if (current->suspend_active) {
			current->sigmask = current->suspend_saved_mask;
			current->suspend_active = 0;
		}
		return ret == -ERESTARTSYS ? -EINTR : ret;
	}
	uint64_t rip = f->rip;
	if (ret == -ERESTARTSYS) {
		if (current->sigactions[sig - 1].flags & SA_RESTART) {
			/* the handler returns to the syscall instruction */
			rip -= 2;
			ret = (long)f->nr;
		} else {
			ret = -EINTR;
		}
	}
	struct user_regs r = {
		.r15 = f->r15,
		.r14 = f->r14,
		.r13 = f->r13,
		.r12 = f->r12,
		.r11 = f->rflags,
		.r10 = f->r10,
		.r9 = f->r9,
		.r8 = f->r8,
		.rbp = f->rbp,
		.rdi = f->rdi,
		.rsi = f->rsi,
		.rdx = f->rdx,
		.rcx = f->rip,
		.rbx = f->rbx,
		.rax = (uint64_t)ret,
		.rip = rip,
		.rflags = f->rflags,
		.rsp = f->rsp,
	};
	struct siginfo_abi info = kill_info(sig);
	if (setup_frame(sig, &info, &r, 0, 0, 0) < 0)
		terminate(SIGSEGV, " (its signal frame did not fit on the "
				   "stack)");
	f->rip = r.rip;
	f->rsp = r.rsp;
	f->rflags = r.rflags;
	f->rdi = r.rdi;
	f->rsi = r.rsi;
	f->rdx = r.rdx;
	return 0;
}

/* If a signal with a handler is pending, make (r) enter it. */
static void enter_pending_handler(struct user_regs *r)
{
	int sig = next_pending();
	if (!sig)
		return;
	struct siginfo_abi info = kill_info(sig);
	if (setup_frame(sig, &info, r, 0, 0, 0) < 0)
		terminate(SIGSEGV,
			  " (its signal frame did not fit on the stack)");
}

/* Save the program's context (f) and make the trap return to (entry),
 * on the signal stack, at the privilege the kernel runs any code at. */
static RING0 int redirect(struct trap_frame *f, void (*entry)(void),
			  uint64_t stack)
{
	fault_frame = *f;
	f->rip = (uint64_t)entry;
	f->rsp = stack;
	if (!boot.ring3) { /* hardware mode: the kernel runs in ring 0 */
		f->cs = FRESCO_KERNEL_CS;
		f->ss = FRESCO_KERNEL_DS;
		f->rflags = 0x2;
	} else {
		f->rflags = 0x202;
	}
	return 1;
}

RING0 int signal_fault_redirect(struct trap_frame *f, int sig, uint64_t addr)
{
	if (!(f->cs & 3) || !has_handler(sig) ||
	    (current->sigmask & SIGBIT(sig)))
		return 0; /* Linux forces the default action */
	fault_addr = addr;
	fault_sig = sig;
	return redirect(f, signal_fault_entry, (uint64_t)signal_stack_top);
}

RING0 int signal_fault_kill(struct trap_frame *f, int sig, uint64_t addr)
{
	if (!(f->cs & 3) || current->pid == 1)
		return 0; /* pid 1's death ends the VM from here */
	fault_addr = addr;
	fault_sig = sig;
	/* the process was running its program: its kernel stack is free */
	return redirect(f, signal_kill_entry, percpu0.kstack_top);
}

RING0 int signal_async_redirect(struct trap_frame *f)
{
	if (!(f->cs & 3) || f->rip >= KERNEL_VMA ||
	    (!timer_armed_tsc && !host_events))
		return 0; /* the kernel checks both on its way out */
	return redirect(f, signal_async_entry, (uint64_t)signal_stack_top);
}

static struct user_regs saved_regs(void)
{
	const struct trap_frame *t = &fault_frame;
	return (struct user_regs){
		.r15 = t->r15,
		.r14 = t->r14,
		.r13 = t->r13,
		.r12 = t->r12,
		.r11 = t->r11,
		.r10 = t->r10,
		.r9 = t->r9,
		.r8 = t->r8,
		.rbp = t->rbp,
		.rdi = t->rdi,
		.rsi = t->rsi,
		.rdx = t->rdx,
		.rcx = t->rcx,
		.rbx = t->rbx,
		.rax = t->rax,
		.rip = t->rip,
		.rflags = t->rflags,
		.rsp = t->rsp,
	};
}

NORETURN void signal_deliver_async(void)
{
	struct user_regs r = saved_regs();
	host_events_take();
	/* the interrupt consumed the hardware deadline, which may have come
	 * a little before the clock's: arm it again whatever fires now */
	timer_armed_tsc = 0;
	timers_check();
	enter_pending_handler(&r);
	user_return(&r);
}

NORETURN void signal_deliver_fault(void)
{
	const struct trap_frame *t = &fault_frame;
	struct user_regs r = saved_regs();
	struct siginfo_abi info;
	memset(&info, 0, sizeof(info));
	info.signo = fault_sig;
	info.u.addr = fault_addr;
	switch (fault_sig) {
	case SIGSEGV:
		info.code = (t->vector == 14 && (t->error & 1))
				    ? SEGV_ACCERR_CODE
				    : SEGV_MAPERR_CODE;
		if (t->vector != 14)
			info.u.addr = 0; /* #GP: Linux reports address 0 */
		break;
	case SIGILL:
		info.code = ILL_ILLOPN_CODE;
		break;
	case SIGFPE:
		info.code = FPE_INTDIV_CODE;
		break;
	case SIGBUS:
		info.code = BUS_ADRALN_CODE;
		break;
	case SIGTRAP:
		info.code = TRAP_BRKPT_CODE;
		break;
	}
	if (setup_frame(fault_sig, &info, &r, t->vector, t->error,
			t->vector == 14 ? fault_addr : 0) < 0)
		signal_fault(t, fault_sig, fault_addr);
	user_return(&r);
}

long sys_rt_sigreturn(void)
{
	struct ucontext_abi uc;
	/* the handler's ret popped pretcode: the frame starts 8 below */
	uint64_t frame = percpu0.user_rsp - 8;

	if (copy_from_user(&uc, frame + offsetof(struct rt_sigframe, uc),
			   sizeof(uc)) < 0)
		terminate(SIGSEGV, " (rt_sigreturn found no signal frame)");
	const struct sigcontext *mc = &uc.mcontext;
	if (mc->fpstate && fp_load((uint64_t)mc->fpstate) < 0)
		terminate(SIGSEGV, " (bad FPU state in a signal frame)");
	if (mc->rip >= USER_TOP)
		terminate(SIGSEGV, " (a signal frame returns to kernel space)");
	struct user_regs r = {
		.r15 = mc->r15,
		.r14 = mc->r14,
		.r13 = mc->r13,
		.r12 = mc->r12,
		.r11 = mc->r11,
		.r10 = mc->r10,
		.r9 = mc->r9,
		.r8 = mc->r8,
		.rbp = mc->rbp,
		.rdi = mc->rdi,
		.rsi = mc->rsi,
		.rdx = mc->rdx,
		.rcx = mc->rcx,
		.rbx = mc->rbx,
		.rax = mc->rax,
		.rip = mc->rip,
		.rflags = (mc->eflags & FIX_EFLAGS) | 0x202,
		.rsp = mc->rsp,
	};
	current->sigmask = uc.sigmask & ~UNBLOCKABLE;
	enter_pending_handler(&r);
	user_return(&r);
}

long sys_sigaltstack(uint64_t uss, uint64_t uoss)
{
	struct sigaltstack_abi ss, old = current->altstack;
	uint64_t sp = percpu0.user_rsp;

	if (on_altstack(sp))
		old.flags = SS_ONSTACK_FLAG;
	if (uss) {
		if (copy_from_user(&ss, uss, sizeof(ss)) < 0)
			return -EFAULT;
		if (on_altstack(sp))
			return -EPERM;
		uint32_t mode = (uint32_t)ss.flags & ~SS_AUTODISARM_FLAG;
		if (mode != 0 && mode != SS_DISABLE_FLAG &&
		    mode != SS_ONSTACK_FLAG)
			return -EINVAL;
		if (mode == SS_DISABLE_FLAG) {
			current->altstack = (struct sigaltstack_abi){
				0, SS_DISABLE_FLAG, 0, 0};
		} else {
			if (ss.size < MINSIGSTKSZ_LINUX)
				return -ENOMEM;
			if (!user_range_ok(ss.sp, ss.size))
				return -EFAULT;
			current->altstack =
				(struct sigaltstack_abi){ss.sp, 0, 0, ss.size};
		}
	}
	if (uoss && copy_to_user(uoss, &old, sizeof(old)) < 0)
		return -EFAULT;
	return 0;
}

/* Say why (f) killed the process: pid 1 as "program", others by pid. */
static void fault_report(const struct trap_frame *f, int sig, uint64_t addr)
{
	char who[24] = "program";
	if (current->pid != 1)
		snprintf(who, sizeof(who), "process %d", current->pid);
	if (f->vector == 14) {
		const char *access = (f->error & 0x10)	? "executing"
				     : (f->error & 0x2) ? "writing"
							: "reading";
		const char *cause =
			(f->error & 0x1) ? "not permitted" : "not mapped";
		klog("%s killed by %s: %s address %#lx (%s) at rip %#lx", who,
		     signal_name(sig), access, addr, cause, f->rip);
	} else {
		klog("%s killed by %s: %s at rip %#lx", who, signal_name(sig),
		     exception_name(f->vector), f->rip);
	}
}

NORETURN void signal_fault(const struct trap_frame *f, int sig, uint64_t addr)
{
	fault_report(f, sig, addr);
	process_exit(sig, 128 + sig);
}

NORETURN void signal_deliver_kill(void)
{
	signal_fault(&fault_frame, fault_sig, fault_addr);
}

void signal_exec(void)
{
	for (int sig = 1; sig <= NSIG_LINUX; sig++) {
		typeof(current->sigactions[0]) *sa =
			&current->sigactions[sig - 1];
		if (sa->handler != SIG_IGN_VALUE)
			*sa = (typeof(*sa)){SIG_DFL_VALUE, 0, 0, 0};
	}
	current->altstack = (struct sigaltstack_abi){0, SS_DISABLE_FLAG, 0, 0};
	current->suspend_active = 0;
}

long sys_rt_sigaction(int sig, uint64_t act, uint64_t oact, uint64_t size)
{
	typeof(current->sigactions[0]) a;

	if (size != SIGSET_SIZE || sig < 1 || sig > NSIG_LINUX)
		return -EINVAL;
	if (act && (SIGBIT(sig) & UNBLOCKABLE))
		return -EINVAL;
	if (act && copy_from_user(&a, act, sizeof(a)) < 0)
		return -EFAULT;
	if (oact &&
	    copy_to_user(oact, &current->sigactions[sig - 1], sizeof(a)) < 0)
		return -EFAULT;
	if (act) {
		a.mask &= ~UNBLOCKABLE;
		current->sigactions[sig - 1] = a;
		if (a.handler == SIG_IGN_VALUE)
			current->sigpending &= ~SIGBIT(sig);
	}
	return 0;
}

long sys_rt_sigprocmask(int how, uint64_t set, uint64_t oset, uint64_t size)
{
	uint64_t s, old = current->sigmask;

	if (size != SIGSET_SIZE)
		return -EINVAL;
	if (set && copy_from_user(&s, set, sizeof(s)) < 0)
		return -EFAULT;
	if (set) {
		switch (how) {
		case SIG_BLOCK:
			current->sigmask |= s;
			break;
		case SIG_UNBLOCK:
			current->sigmask &= ~s;
			break;
		case SIG_SETMASK:
			current->sigmask = s;
			break;
		default:
			return -EINVAL;
		}
		current->sigmask &= ~UNBLOCKABLE;
	}
	if (oset && copy_to_user(oset, &old, sizeof(old)) < 0) {
		current->sigmask = old;
		return -EFAULT;
	}
	/* what became unblocked runs as this call returns */
	return 0;
}

long sys_kill(int pid, int sig)
{
	if (sig < 0 || sig > NSIG_LINUX)
		return -EINVAL;
	if (pid > 0) {
		struct process *p = process_find(pid);
		if (!p)
			return -ESRCH;
		return sig ? signal_send_to(p, sig, SI_USER_CODE) : 0;
	}
	if (pid == INT32_MIN)
		return -ESRCH;
	/* 0 and -N: the one process group, every process; -1: every
	 * process but pid 1 and the caller (Linux's rule). The caller comes
	 * last, as its signal may end it. */
	int found = 0;
	for (struct process *p = process_list(); p; p = p->next) {
		if (p == current || p->state == PROC_ZOMBIE ||
		    (pid == -1 && p->pid == 1))
			continue;
		found = 1;
		if (sig)
			signal_send_to(p, sig, SI_USER_CODE);
	}
	if (pid == -1)
		return found ? 0 : -ESRCH;
	return sig ? signal_send(sig, SI_USER_CODE) : 0;
}

static long send_to_thread(int tid, int sig)
{
	if (sig < 0 || sig > NSIG_LINUX)
		return -EINVAL;
	struct process *p = process_find(tid);
	if (!p || p->state == PROC_ZOMBIE)
		return -ESRCH;
	return sig ? signal_send_to(p, sig, SI_TKILL_CODE) : 0;
}

long sys_tkill(int tid, int sig)
{
	if (tid <= 0)
		return -EINVAL;
	return send_to_thread(tid, sig);
}

long sys_tgkill(int tgid, int tid, int sig)
{
	if (tgid <= 0 || tid <= 0)
		return -EINVAL;
	if (tgid != tid)
		return -ESRCH; /* one thread per process: tid is the pid */
	return send_to_thread(tid, sig);
}
