/* dump.c: the register dump printed when the guest kernel dies. */
#include "vmm.h"

#include <linux/kvm.h>
#include <stdio.h>
#include <sys/ioctl.h>

#define CODE_BYTES 16

void vcpu_dump(struct vm *vm)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(vm->vcpu_fd, KVM_GET_REGS, &r) < 0 ||
	    ioctl(vm->vcpu_fd, KVM_GET_SREGS, &s) < 0) {
		fprintf(stderr, "  (registers unavailable)\n");
		return;
	}
	fprintf(stderr,
		"  rip %016llx rsp %016llx rflags %08llx\n"
		"  rax %016llx rbx %016llx rcx %016llx rdx %016llx\n"
		"  rsi %016llx rdi %016llx rbp %016llx r8  %016llx\n"
		"  r9  %016llx r10 %016llx r11 %016llx r12 %016llx\n"
		"  r13 %016llx r14 %016llx r15 %016llx\n"
		"  cs %04x ss %04x cr0 %llx cr2 %llx cr3 %llx cr4 %llx "
		"efer %llx\n",
		r.rip, r.rsp, r.rflags, r.rax, r.rbx, r.rcx, r.rdx, r.rsi,
		r.rdi, r.rbp, r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14,
		r.r15, s.cs.selector, s.ss.selector, s.cr0, s.cr2, s.cr3, s.cr4,
		s.efer);

	struct kvm_translation t = {.linear_address = r.rip};
	if (ioctl(vm->vcpu_fd, KVM_TRANSLATE, &t) < 0 || !t.valid)
		return;
	const uint8_t *code =
		guest_mem_ptr(&vm->mem, t.physical_address, CODE_BYTES);
	if (!code)
		return;
	fprintf(stderr, "  code at rip:");
	for (int i = 0; i < CODE_BYTES; i++)
		fprintf(stderr, " %02x", code[i]);
	fprintf(stderr, "\n");
}
