/* boot.S: the kernel's two entries (Xen PVH and fresco's direct 64-bit
 * entry), its ELF notes and its boot page tables, prebuilt at link time.
 *
 * Both entries use the same page tables, built by the linker rather than by
 * code: under kvm_pvm every ring-0 instruction is emulated, so a loop
 * building tables would cost milliseconds. They map, with 2 MiB pages:
 *   virtual 0..1 GiB            -> physical 0..1 GiB (PVH switch-over only)
 *   DIRECT_MAP + 0..4 GiB       -> physical 0..4 GiB
 *   KERNEL_VMA + 0..1 GiB       -> physical 0..1 GiB (the kernel image)
 * (KERNEL_VMA + 1 GiB, the last PDPT slot, is for arch/x86_64/callpatch.c)
 * all user-accessible: ring-3 mode needs that, and ring-0 mode removes it
 * (GATE_ENTER_USER) before the program starts. Both kernel ranges live in
 * the last PML4 slot: under kvm_pvm, code at CPL 3 cannot use slot 256
 * (0xffff800000000000, Linux's hole "reserved for the hypervisor").
 */
#include <fresco/abi.h>

#define KERNEL_VMA 0xffffffff80000000
#define PA(x) ((x) - KERNEL_VMA)
#define TABLE 0x7       /* present, writable, user */
#define LARGE 0x87      /* the same, 2 MiB page */
#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define MSR_EFER 0xc0000080
#define EFER_BITS 0x901 /* SCE | LME | NXE */
#define CR0_BITS 0x80010023 /* PG | WP | NE | MP | PE */
#define CR4_PAE 0x20

	.section .note.fresco, "a"
	.p2align 2
	.long 4, 4, XEN_ELFNOTE_PHYS32_ENTRY
	.asciz "Xen"
	.long PA(pvh_start32)

	.long 7, 8, FRESCO_NOTE_ENTRY64
	.asciz "Fresco"
	.p2align 2
	.quad direct_start64

	.long 7, 8, FRESCO_NOTE_PML4
	.asciz "Fresco"
	.p2align 2
	.quad PA(boot_pml4)

	.long 7, 4, FRESCO_NOTE_ABI
	.asciz "Fresco"
	.p2align 2
	.long FRESCO_ABI_VERSION

	.section .text.ring0, "ax"
	.code32
	/* PVH: 32-bit protected mode, paging off, EBX = hvm_start_info. */
	.globl pvh_start32
pvh_start32:
	cli
	cld
	movl %ebx, %esi
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $PA(boot_pml4), %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_BITS, %eax
	wrmsr
	movl %cr0, %eax
	andl $~0xc, %eax /* EM, TS */
	orl $CR0_BITS, %eax
	movl %eax, %cr0
	lgdt PA(gdt_desc32)
	ljmp $FRESCO_KERNEL_CS, $PA(pvh_start64)

	.code64
pvh_start64:
	movabsq $pvh_high, %rax
	jmp *%rax
pvh_high:
	movl %esi, %esi
	xorl %edi, %edi
	jmp start64

	/* fresco's monitor: see abi.h for the state. */
	.globl direct_start64
direct_start64:
	movabsq $FRESCO_BOOT_MAGIC, %rax
	cmpq %rax, %rdi
	jne bad_entry
	movl $1, %edi
start64:
	lgdt gdt_desc64(%rip)
	leaq intr_stack_top(%rip), %rsp
	pushq $FRESCO_KERNEL_CS
	leaq 1f(%rip), %rax
	pushq %rax
	lretq
1:	movl $FRESCO_KERNEL_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	call boot0
bad_entry:
	hlt
	jmp bad_entry

	.section .data.gdt, "aw"
	.p2align 4
	.globl gdt
gdt:
	.quad 0
	.quad 0x00af9a000000ffff /* 0x08 kernel code, 64-bit */
	.quad 0x00cf92000000ffff /* 0x10 kernel data */
	.quad 0x00cffa000000ffff /* 0x18 user code, 32-bit (SYSRET base) */
	.quad 0x00cff2000000ffff /* 0x20 user data */
	.quad 0x00affa000000ffff /* 0x28 user code, 64-bit */
	.quad 0, 0               /* 0x30 TSS, filled by boot0 */
gdt_end:
gdt_desc32:
	.word gdt_end - gdt - 1
	.long PA(gdt)
	.p2align 3
gdt_desc64:
	.word gdt_end - gdt - 1
	.quad gdt

	.section .data.pagetables, "aw"
	.p2align 12
	.globl boot_pml4
boot_pml4:
	.quad PA(boot_pdpt_low) + TABLE
	.fill 510, 8, 0
	.quad PA(boot_pdpt_kernel) + TABLE
boot_pdpt_low:
	.quad PA(boot_pd) + TABLE
	.fill 511, 8, 0
	.globl boot_pdpt_kernel
boot_pdpt_kernel: /* DIRECT_MAP at [0], KERNEL_VMA at [510] */
	.quad PA(boot_pd) + TABLE
	.quad PA(boot_pd) + 0x1000 + TABLE
	.quad PA(boot_pd) + 0x2000 + TABLE
	.quad PA(boot_pd) + 0x3000 + TABLE
	.fill 506, 8, 0
	.quad PA(boot_pd) + TABLE
	.quad 0
boot_pd:
	.set addr, 0
	.rept 2048
	.quad addr + LARGE
	.set addr, addr + 0x200000
	.endr
