/* entry.S: the system call entry, the trap stubs, the privilege gate and
 * the fault-safe user copy.
 *
 * syscall_entry is valid at any privilege level (DESIGN.md): under kvm_pvm
 * it runs natively at CPL 3 on the caller's stack with RFLAGS unmasked.
 * It uses no swapgs, sysret or cli there: the GS base is set once by boot0
 * and never swapped, the stack is switched through memory, flags are reset
 * with popfq, and it returns with popfq + jmp. At CPL 0 it returns with
 * sysretq. Linux's ABI: RAX = number, RDI RSI RDX R10 R8 R9 = arguments,
 * RCX and R11 clobbered, everything else preserved.
 */
#define PCPU_USER_RSP 0
#define PCPU_KSTACK 8
#define PCPU_RING3 16
#define PCPU_SCRATCH_RIP 24
#define PCPU_SCRATCH_RSP 32
#define PCPU_FAST 40
#define USER_CS 0x2b
#define GATE_IDLE 4		/* enum gate_op; cpu.c checks these */
#define GATE_IDLE_WATCH 9
#define MSR_TSC_DEADLINE 0x6e0
#define SPURIOUS_VECTOR 0xff
#define LAPIC_EOI_ADDR 0xffffff80fee000b0 /* DIRECT_MAP + xAPIC + EOI */
#define USER_DS 0x23

/* All general registers but RSP, in struct trap_frame / user_regs order
 * (lowest address first: r15 ... rax). */
.macro PUSH_GPRS
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
.endm

.macro POP_GPRS
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
.endm
#define EFAULT 14

	.text
	.globl syscall_entry
syscall_entry:
	movq $0, %gs:PCPU_FAST
	movq %rsp, %gs:PCPU_USER_RSP
	movq %gs:PCPU_KSTACK, %rsp
	pushq %gs:PCPU_USER_RSP
	pushq %rcx
	pushq %r11
syscall_flags_saved:
	pushq $2
	popfq                    /* DF = AC = TF = 0, and IF = 0 at CPL 0 */
	pushq %rax
	pushq %rdi
	pushq %rsi
	pushq %rdx
	pushq %r10
	pushq %r8
	pushq %r9
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movl %cs, %eax
	andl $3, %eax
	movq %rax, %gs:PCPU_RING3
	movq %rsp, %rdi
	call syscall_dispatch
	.globl syscall_exit
syscall_exit:                    /* RSP: a struct syscall_frame, RAX: result */
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	popq %r9
	popq %r8
	popq %r10
	popq %rdx
	popq %rsi
	popq %rdi
	addq $8, %rsp
	popq %r11
	popq %rcx
	testb $1, %gs:PCPU_RING3
	jnz 1f
	popq %rsp
	sysretq
1:	pushq %r11
	popfq
	popq %rsp
	jmp *%rcx

	/* From a patched call site (arch/x86_64/callpatch.c), by a jump and
	 * only at CPL 3: RAX = number and RCX = where to return, as after
	 * SYSCALL. The flags SYSCALL would have put in R11 are pushed where
	 * syscall_exit takes R11 from. The program's stack is not touched
	 * (its red zone stays as it was). */
	.globl syscall_entry_fast
syscall_entry_fast:
	movq $1, %gs:PCPU_FAST
	movq %rsp, %gs:PCPU_USER_RSP
	movq %gs:PCPU_KSTACK, %rsp
	pushq %gs:PCPU_USER_RSP
	pushq %rcx
	pushfq
	jmp syscall_flags_saved

	/* long gate_call(long op, long a1, long a2, long a3) */
	.globl gate_call
gate_call:
	movl %cs, %eax
	testb $3, %al
	jz 1f
	.globl gate_trap_insn
gate_trap_insn:
	cli                      /* #GP at CPL 3; trap_handle runs the op */
	ret
1:	xorl %r8d, %r8d          /* no trap frame */
	jmp gate_dispatch

	/* int user_copy(void *dst, const void *src, size_t n) */
	.globl user_copy, user_copy_insn, user_copy_fixup
user_copy:
	movq %rdx, %rcx
user_copy_insn:
	rep movsb
	xorl %eax, %eax
	ret
user_copy_fixup:
	movq $-EFAULT, %rax
	ret

	/*
	 * void user_return(const struct user_regs *r): load every register
	 * of (r) and continue the program there. At CPL 3 (ring-3 mode) the
	 * target and stack go through per-CPU scratch slots so that no
	 * register is needed for them; at CPL 0 it is an iretq.
	 */
	.globl user_return
user_return:
	movl %cs, %eax
	testb $3, %al
	jz 2f
	movq %rdi, %rsp
	movq 15*8(%rsp), %rax
	movq %rax, %gs:PCPU_SCRATCH_RIP
	movq 17*8(%rsp), %rax
	movq %rax, %gs:PCPU_SCRATCH_RSP
	POP_GPRS
	addq $8, %rsp
	popfq
	movq %gs:PCPU_SCRATCH_RSP, %rsp
	jmpq *%gs:PCPU_SCRATCH_RIP
2:	movq %rdi, %rax
	pushq $USER_DS
	pushq 17*8(%rax)
	pushq 16*8(%rax)
	pushq $USER_CS
	pushq 15*8(%rax)
	movq 0*8(%rax), %r15
	movq 1*8(%rax), %r14
	movq 2*8(%rax), %r13
	movq 3*8(%rax), %r12
	movq 4*8(%rax), %r11
	movq 5*8(%rax), %r10
	movq 6*8(%rax), %r9
	movq 7*8(%rax), %r8
	movq 8*8(%rax), %rbp
	movq 9*8(%rax), %rdi
	movq 10*8(%rax), %rsi
	movq 11*8(%rax), %rdx
	movq 12*8(%rax), %rcx
	movq 13*8(%rax), %rbx
	movq 14*8(%rax), %rax
	iretq

	/* Where a fault with a handler resumes, on the signal stack. */
	.globl signal_fault_entry
signal_fault_entry:
	cld
	call signal_deliver_fault
	ud2

	/* Where a timer interrupt that may run a handler resumes. */
	.globl signal_async_entry
signal_async_entry:
	cld
	call signal_deliver_async
	ud2

	/* Where a process that faulted without a handler dies, on its own
	 * kernel stack. */
	.globl signal_kill_entry
signal_kill_entry:
	cld
	call signal_deliver_kill
	ud2

	/*
	 * void task_switch(uint64_t *save, uint64_t next): push the
	 * registers a C call preserves, store RSP in *save, and continue on
	 * the stack (next), which an earlier task_switch saved (or
	 * process_fork laid out the same way).
	 */
	.globl task_switch
task_switch:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, (%rdi)
	movq %rsi, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret

	/* A forked child's first instruction: its system call frame is at
	 * RSP; it returns from fork (with process_child_start's value)
	 * through the ordinary way out. */
	.globl fork_child_return
fork_child_return:
	call process_child_start
	jmp syscall_exit

	/* void enter_program_ring3(uint64_t entry, uint64_t sp) */
	.globl enter_program_ring3
enter_program_ring3:
	movq %rsi, %rsp
	xorl %eax, %eax
	xorl %ebx, %ebx
	xorl %ecx, %ecx
	xorl %edx, %edx
	xorl %esi, %esi
	xorl %ebp, %ebp
	xorl %r8d, %r8d
	xorl %r9d, %r9d
	xorl %r10d, %r10d
	xorl %r11d, %r11d
	xorl %r12d, %r12d
	xorl %r13d, %r13d
	xorl %r14d, %r14d
	xorl %r15d, %r15d
	pushq %rdi
	xorl %edi, %edi
	ret

	/*
	 * Trap stubs: 256 of 16 bytes each, at trap_stubs + 16 * vector, so
	 * that the IDT can be filled without a table of addresses.
	 */
	.section .text.ring0, "ax"
	.p2align 4
	.globl trap_stubs
trap_stubs:
	.set vec, 0
	.rept 256
	.p2align 4
	.if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	.else
	pushq $0
	.endif
	pushq $vec
	.if vec == 13
	jmp gp_entry
	.elseif vec >= 32
	jmp intr_entry
	.else
	jmp trap_common
	.endif
	.set vec, vec + 1
	.endr

/*
 * Ring-0 code is emulated under kvm_pvm at about 0.5 us an instruction,
 * and a program waiting for the network halts and wakes thousands of
 * times a second. So the two steps of a wait take short paths here,
 * about fifteen instructions each instead of sixty through trap_common:
 * - the gate's idle ops (the #GP of gate_trap_insn): gate_call is an
 *   ordinary function to its C callers, so RAX, RCX and RDX are free;
 * - an interrupt that finds the CPU in ring 0, which there is the idle
 *   gate's hlt (and on hardware or TCG, a system call): trap_handle
 *   would only acknowledge it, since signal_async_redirect leaves ring-0
 *   frames alone.
 * Stack on entry to both: vector, error code, then the CPU's frame (RIP
 * at 16, CS at 24).
 */
gp_entry:
	cmpq $gate_trap_insn, 16(%rsp)
	jne trap_common
	cmpq $GATE_IDLE, %rdi
	je 1f
	cmpq $GATE_IDLE_WATCH, %rdi
	jne trap_common
	/* (deadline, word, seen): not if the word changed already */
	cmpw %cx, (%rdx)
	jne 2f
1:	movl %esi, %eax
	movq %rsi, %rdx
	shrq $32, %rdx
	movl $MSR_TSC_DEADLINE, %ecx
	wrmsr
	sti
	hlt
	cli
	/* an interrupt ended it: the deadline it leaves armed would only
	 * bring a second one, since the caller arms what it needs anew */
	xorl %eax, %eax
	xorl %edx, %edx
	wrmsr
2:	xorl %eax, %eax
	addq $16, %rsp
	incq (%rsp)              /* past the cli */
	iretq

intr_entry:
	testb $3, 24(%rsp)
	jnz trap_common          /* from ring 3: it may redirect the program */
	cmpq $SPURIOUS_VECTOR, (%rsp)
	je 1f
	pushq %rax
	movabsq $LAPIC_EOI_ADDR, %rax
	movl $0, (%rax)
	popq %rax
1:	addq $16, %rsp
	iretq

trap_common:
	PUSH_GPRS
	cld
	movq %rsp, %rdi
	call trap_handle
	POP_GPRS
	addq $16, %rsp
	iretq

	.bss
	.p2align 12
	.skip 16384
	.globl intr_stack_top
intr_stack_top:
	.skip 4096
	.globl df_stack_top
df_stack_top:
	.skip 131072             /* KSTACK_SIZE: pid 1's kernel stack */
	.globl syscall_stack_top
syscall_stack_top:
	.skip 32768
	.globl init_stack_top
init_stack_top:
	.skip 16384
	.globl signal_stack_top
signal_stack_top:
