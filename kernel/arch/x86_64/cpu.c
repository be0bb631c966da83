/* cpu.c: ring-0 start-up, the trap handler and the privilege gate.
 *
 * Everything RING0 here is emulated instruction by instruction under
 * kvm_pvm (~0.5 us each), so it does the least the hardware requires and
 * leaves the rest to any-privilege code: boot0 sets the registers and MSRs
 * that only ring 0 can set, then drops to CPL 3 where kernel_init fills
 * the IDT and does all other start-up work at native speed.
 */
#include "kernel.h"
#include "arch/x86_64/x86.h"

#define TSS_SELECTOR 0x30
#define USER_CS 0x2b
#define USER_DS 0x23
#define STAR_VALUE ((0x18ULL << 48) | ((uint64_t)FRESCO_KERNEL_CS << 32))
/* RFLAGS bits SYSCALL clears at CPL 0: TF, IF, DF, IOPL, NT, AC */
#define FMASK_VALUE 0x47700ULL
#define PTE_USER 0x4ULL
#define PML4_KERNEL 511

#define LAPIC_BASE (DIRECT_MAP + 0xfee00000ULL)
#define LAPIC_EOI 0xb0
#define LAPIC_SVR 0xf0
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_MASKED 0x10000
#define LAPIC_TSC_DEADLINE_MODE (2u << 17)
#define TIMER_VECTOR 0xec
#define SPURIOUS_VECTOR 0xff

#define KVM_SIGNATURE_EBX 0x4b4d564b /* "KVMK" */
#define KVM_FEATURE_CLOCKSOURCE2 (1u << 3)

struct tss {
	uint32_t reserved0;
	uint64_t rsp0, rsp1, rsp2;
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3, iomap_base;
} __attribute__((packed));

struct idt_entry {
	uint16_t off0, sel;
	uint8_t ist, type;
	uint16_t off1;
	uint32_t off2, zero;
};

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

extern uint64_t boot_pml4[512];
extern uint64_t gdt[8];
extern char trap_stubs[], gate_trap_insn[], user_copy_insn[], user_copy_fixup[];
extern char intr_stack_top[], df_stack_top[], syscall_stack_top[],
	init_stack_top[];
void syscall_entry(void);
void kernel_init(void);
void clock_boot0(void);

static const char *const exceptions[32] = {
	"divide error",
	"debug trap",
	"NMI",
	"breakpoint",
	"overflow",
	"bound range exceeded",
	"invalid opcode",
	"device not available",
	"double fault",
	"coprocessor overrun",
	"invalid TSS",
	"segment not present",
	"stack fault",
	"general protection fault",
	"page fault",
	"reserved",
	"x87 floating-point error",
	"alignment check",
	"machine check",
	"SIMD floating-point error",
	"virtualization exception",
	"control protection fault",
};

const char *exception_name(uint64_t vector)
{
	return vector < 32 && exceptions[vector] ? exceptions[vector]
						 : "exception";
}

static struct tss tss;
static struct idt_entry idt[256] __attribute__((aligned(4096)));

uint64_t *boot_pml4_table(void)
{
	return boot_pml4;
}

static inline RING0 void lapic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(LAPIC_BASE + reg) = v;
}

static RING0 void cpu_features(void)
{
	uint32_t r1[4], r7[4], rx[4];
	uint64_t cr4 = read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT;

	cpuid(1, 0, r1);
	cpuid(7, 0, r7);
	if (r7[1] & 1) {
		cr4 |= CR4_FSGSBASE;
		boot.fsgsbase = 1;
	}
	if (r1[2] & (1u << 26))
		cr4 |= CR4_OSXSAVE;
	write_cr4(cr4);
	if (r1[2] & (1u << 26)) {
		cpuid(0xd, 0, rx);
		boot.xcr0 = (rx[0] & 0xe7) | 3;
		xsetbv(0, boot.xcr0);
		boot.xsave_size = rx[2]; /* the largest area: all features */
	}

	cpuid(0x40000000, 0, rx);
	if (rx[1] == KVM_SIGNATURE_EBX && rx[0] >= 0x40000001) {
		uint32_t max = rx[0];
		cpuid(0x40000001, 0, rx);
		boot.kvmclock = (rx[0] & KVM_FEATURE_CLOCKSOURCE2) != 0;
		if (max >= 0x40000010) {
			cpuid(0x40000010, 0, rx);
			boot.tsc_khz = rx[0];
		}
	}

	lapic_write(LAPIC_LVT_LINT0, LAPIC_MASKED);
	lapic_write(LAPIC_LVT_LINT1, LAPIC_MASKED);
	/* software-enable the LAPIC: timer and host events arrive through it */
	lapic_write(LAPIC_SVR, 0x100 | SPURIOUS_VECTOR);
	if (r1[2] & (1u << 24)) {
		lapic_write(LAPIC_LVT_TIMER,
			    TIMER_VECTOR | LAPIC_TSC_DEADLINE_MODE);
		boot.tsc_deadline = 1;
	}
}

RING0 NORETURN void boot0(uint64_t fresco, uint64_t start_info_pa)
{
	struct desc_ptr idtr = {sizeof(idt) - 1, (uint64_t)idt};
	uint64_t base = (uint64_t)&tss, limit = sizeof(tss) - 1;

	boot_pml4[0] = 0; /* the PVH identity mapping is no longer needed */
	write_cr3(read_cr3());
	boot.fresco = (int)fresco;
	boot.start_info_pa = start_info_pa;

	wrmsr(MSR_GS_BASE, (uint64_t)&percpu0);
	percpu0.kstack_top = (uint64_t)syscall_stack_top;
	tss.rsp0 = (uint64_t)intr_stack_top;
	tss.ist[0] = (uint64_t)df_stack_top;
	tss.iomap_base = sizeof(tss);
	gdt[6] = (limit & 0xffff) | (base & 0xffffff) << 16 | 0x89ULL << 40 |
		 ((limit >> 16) & 0xf) << 48 | ((base >> 24) & 0xff) << 56;
	gdt[7] = base >> 32;
	__asm__ volatile("ltr %w0" ::"r"(TSS_SELECTOR));
	/* the IDT is filled later, at native speed, by idt_fill */
	__asm__ volatile("lidt %0" ::"m"(idtr));

	wrmsr(MSR_STAR, STAR_VALUE);
	wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
	wrmsr(MSR_FMASK, FMASK_VALUE);
	cpu_features();
	clock_boot0();

	__asm__ volatile("pushq %0\n\t"
			 "pushq %1\n\t"
			 "pushq %2\n\t"
			 "pushq %3\n\t"
			 "pushq %4\n\t"
			 "iretq" ::"i"(USER_DS),
			 "r"((uint64_t)init_stack_top),
			 "i"(RFLAGS_IF | RFLAGS_FIXED), "i"(USER_CS),
			 "r"((uint64_t)kernel_init));
	__builtin_unreachable();
}

void idt_fill(void)
{
	for (int v = 0; v < 256; v++) {
		uint64_t a = (uint64_t)trap_stubs + 16 * (uint64_t)v;
		struct idt_entry *e = &idt[v];
		e->off0 = a & 0xffff;
		e->sel = FRESCO_KERNEL_CS;
		e->ist = v == 8 ? 1 : 0; /* #DF on its own stack */
		/* int3 and into may be used by the program: DPL 3 */
		e->type = (v == 3 || v == 4) ? 0xee : 0x8e;
		e->off1 = (a >> 16) & 0xffff;
		e->off2 = (uint32_t)(a >> 32);
		e->zero = 0;
	}
}

static RING0 int fault_signal(uint64_t vector)
{
	switch (vector) {
	case 0:		  /* #DE */
	case 16:	  /* #MF */
	case 19:	  /* #XM */
		return 8; /* SIGFPE */
	case 1:		  /* #DB */
	case 3:		  /* #BP */
		return 5; /* SIGTRAP */
	case 6:		  /* #UD */
		return 4; /* SIGILL */
	case 17:	  /* #AC */
		return 7; /* SIGBUS */
	default:
		return 11; /* SIGSEGV */
	}
}

/* entry.S's short paths for the idle gate and ring-0 interrupts use
 * these as numbers */
_Static_assert(GATE_IDLE == 4 && GATE_IDLE_WATCH == 9, "entry.S: gate ops");
_Static_assert(LAPIC_BASE + LAPIC_EOI == 0xffffff80fee000b0ULL &&
		       SPURIOUS_VECTOR == 0xff && MSR_TSC_DEADLINE == 0x6e0,
	       "entry.S: EOI, spurious vector, deadline MSR");

RING0 void trap_handle(struct trap_frame *f)
{
	if (f->vector == 13 && f->rip == (uint64_t)gate_trap_insn) {
		long op = (long)f->rdi;
		f->rax = (uint64_t)gate_dispatch(op, (long)f->rsi, (long)f->rdx,
						 (long)f->rcx, f);
		if (op != GATE_ENTER_USER)
			f->rip += 1; /* past the cli */
		return;
	}
	if (f->vector >= 32) {
		if (f->vector != SPURIOUS_VECTOR)
			lapic_write(LAPIC_EOI, 0);
		if (f->vector == TIMER_VECTOR ||
		    f->vector == FRESCO_EVENT_VECTOR)
			signal_async_redirect(f);
		return;
	}
	if (f->vector == 2) /* NMI: nothing sends one */
		return;
	if (f->rip >= KERNEL_VMA) {
		if (f->vector == 14 && f->rip == (uint64_t)user_copy_insn) {
			f->rip = (uint64_t)user_copy_fixup;
			return;
		}
		kpanic(f, "%s in the kernel", exception_name(f->vector));
	}
	int sig = fault_signal(f->vector);
	uint64_t addr = f->vector == 14 ? read_cr2() : f->rip;
	if (!signal_fault_redirect(f, sig, addr) &&
	    !signal_fault_kill(f, sig, addr))
		signal_fault(f, sig, addr);
}

RING0 long gate_dispatch(long op, long a1, long a2, long a3,
			 struct trap_frame *f)
{
	switch (op) {
	case GATE_OUTS: {
		const uint8_t *p = (const uint8_t *)a2;
		for (long i = 0; i < a3; i++)
			outb((uint16_t)a1, p[i]);
		return a3;
	}
	case GATE_EXIT_PORT:
		outb(FRESCO_PVH_EXIT_PORT, (uint8_t)a1);
		for (;;)
			__asm__ volatile("cli; hlt");
	case GATE_FLUSH_TLB:
		write_cr3(read_cr3());
		return 0;
	case GATE_IDLE_WATCH:
		/* interrupts are off here: a completion that lands after
		 * this check still wakes the hlt */
		if (*(volatile uint16_t *)a2 != (uint16_t)a3)
			return 0;
		/* fall through */
	case GATE_IDLE:
		wrmsr(MSR_TSC_DEADLINE, (uint64_t)a1);
		__asm__ volatile("sti; hlt; cli" ::: "memory");
		return 0;
	case GATE_ENTER_USER:
		if (!f)
			return -EINVAL;
		boot_pml4[PML4_KERNEL] &= ~PTE_USER;
		write_cr3(read_cr3());
		*f = (struct trap_frame){
			.rip = (uint64_t)a1,
			.rsp = (uint64_t)a2,
			.cs = USER_CS,
			.ss = USER_DS,
			.rflags = RFLAGS_IF | RFLAGS_FIXED,
		};
		return 0;
	case GATE_WRMSR:
		wrmsr((uint32_t)a1, (uint64_t)a2);
		return 0;
	case GATE_SWITCH_PROCESS:
		if (read_cr3() != (uint64_t)a1)
			write_cr3((uint64_t)a1);
		wrmsr(MSR_FS_BASE, (uint64_t)a2);
		return 0;
	case GATE_INB:
		return inb((uint16_t)a1);
	case GATE_TRIPLE_FAULT: {
		/* fault injection: no IDT, so #UD -> #DF -> shutdown */
		struct desc_ptr none = {0, 0};
		__asm__ volatile("lidt %0; ud2" ::"m"(none));
		return 0;
	}
	}
	return -ENOSYS;
}
