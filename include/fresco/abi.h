/* abi.h: the contract between Fresco's guest kernel and its monitor.
 *
 * Self-contained C99. Guest addresses are plain integers (guest-physical
 * unless said otherwise), so the host cannot dereference one by accident.
 * Version 1. New definitions are only ever added at the end.
 */
#ifndef FRESCO_ABI_H
#define FRESCO_ABI_H

#ifndef __ASSEMBLER__
#include <stdint.h>
#endif

#define FRESCO_ABI_VERSION 1

/*
 * ELF notes in the kernel image, owner "Fresco". The monitor reads them to
 * use the direct 64-bit entry; other monitors use the Xen PVH note.
 */
#define FRESCO_NOTE_OWNER "Fresco"
#define FRESCO_NOTE_ENTRY64 1 /* desc: u64, virtual address of entry */
#define FRESCO_NOTE_PML4 2    /* desc: u64, guest-physical boot PML4 */
#define FRESCO_NOTE_ABI 3     /* desc: u32, FRESCO_ABI_VERSION */

/*
 * Direct entry state, set by the monitor:
 *   64-bit mode, CS = 0x08 (flat, L=1), DS = ES = SS = 0x10,
 *   CR0 = PE|MP|ET|NE|WP|PG, CR4 = PAE, EFER = SCE|LME|LMA|NXE,
 *   CR3 = the boot PML4 named by FRESCO_NOTE_PML4 (prebuilt in the image),
 *   RIP = FRESCO_NOTE_ENTRY64, RDI = FRESCO_BOOT_MAGIC,
 *   RSI = guest-physical address of a struct hvm_start_info (see pvh.h).
 * The kernel image's PT_LOAD segments are loaded at their p_paddr and the
 * rest of guest memory is zero.
 */
#define FRESCO_BOOT_MAGIC 0x46726573636f3031ULL /* "Fresco01" */

/* Segment selectors of the kernel's GDT (Linux's SYSRET layout). */
#define FRESCO_KERNEL_CS 0x08
#define FRESCO_KERNEL_DS 0x10

/*
 * Hypercall page: a guest-physical MMIO window the monitor does not back
 * with memory. The guest writes a 64-bit value to a register; the write
 * exits to the monitor, which acts and resumes the vCPU. It works from any
 * privilege level through a user-accessible mapping, so the kernel's
 * ring-3 syscall path needs no privileged gate for it.
 */
#define FRESCO_HC_BASE 0xfeb00000ULL
#define FRESCO_HC_SIZE 0x1000ULL

/* value: exit status 0..255; the VM ends and `fresco run` exits with it */
#define FRESCO_HC_EXIT 0x00
/* value: gpa of a struct fresco_hc_io; bytes to the host fd (1 or 2) */
#define FRESCO_HC_WRITE 0x08
/* value: gpa of a struct fresco_hc_io; up to len bytes from host stdin */
#define FRESCO_HC_READ 0x10
/* value: gpa of a struct fresco_hc_io; one message line for host stderr */
#define FRESCO_HC_LOG 0x18
/* value: gpa of a struct fresco_panic; dumped, the VM ends with 125 */
#define FRESCO_HC_PANIC 0x20
/*
 * value: gpa of a u64 of host events. To send the program signal N, the
 * monitor sets bit N-1 there (an atomic OR) and raises an MSI with
 * FRESCO_EVENT_VECTOR; the kernel takes the bits with an atomic exchange.
 */
#define FRESCO_HC_EVENTS 0x28
#define FRESCO_EVENT_VECTOR 0xed
/* value ignored: the program is about to start (the boot timer's end) */
#define FRESCO_HC_BOOTED 0x30

#ifndef __ASSEMBLER__
struct fresco_hc_io {
	uint64_t gpa; /* guest-physical buffer, contiguous */
	uint64_t len; /* bytes */
	uint32_t fd;  /* FRESCO_HC_WRITE: 1 or 2 */
	uint32_t pad;
	int64_t result; /* set by the monitor: bytes done or -errno */
};

/* The kernel's record of a fatal kernel fault. */
struct fresco_panic {
	uint64_t vector, error, cr2;
	uint64_t rip, cs, rflags, rsp, ss;
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	char msg[128];
};
#endif

/*
 * Under other monitors (QEMU's microvm through PVH) the kernel uses
 * standard devices instead: the 8250 UART at 0x3f8 for the console,
 * the debug console port for log lines and a final "exit=N" line, and
 * QEMU's isa-debug-exit port for the exit.
 */
#define FRESCO_PVH_SERIAL_PORT 0x3f8
#define FRESCO_PVH_DEBUGCON_PORT 0xe9
#define FRESCO_PVH_EXIT_PORT 0x501

#endif
