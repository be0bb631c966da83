/* callpatch.h: the bytes of a patched system call site (see
 * arch/x86_64/callpatch.c for why and when). Pure logic, unit-tested on
 * the host.
 *
 * Two shapes of site are recognised, each only from the address a
 * SYSCALL instruction just returned to (so that instruction is real):
 *   constant: "mov $nr, %eax; syscall" (b8 imm32 0f 05) with imm32 the
 *     call's number, as musl's and glibc's inline calls are made. The
 *     mov becomes "jmp rel32" to a slot that does "mov $nr, %eax" and
 *     enters; the syscall instruction stays, so a restarted call (rip -
 *     2), or a jump straight to it, still works the slow way.
 *   tail: "syscall; ret" followed by alignment padding (multi-byte NOPs
 *     or int3) that runs to a 16-byte boundary, as musl's cancellable
 *     calls (read, write, epoll_wait, ...) end. The syscall becomes "jmp
 *     rel8" to the padding, which becomes "jmp rel32" to a slot that
 *     enters with RAX as it is. Nothing falls into padding after a ret.
 * Either slot sets RCX to the address after the syscall instruction, as
 * SYSCALL does, and jumps to the kernel's fast entry. A byte that could
 * be a prefix of the instruction rewritten (REX, 66, 67, F2, F3, segment)
 * before it rules a site out: "41 b8 ..." is a mov to r8d, and a prefix
 * would change what the jump put there does.
 */
#ifndef FRESCO_CALLPATCH_H
#define FRESCO_CALLPATCH_H

#include <stddef.h>
#include <stdint.h>

#define CALLPATCH_BEFORE 8 /* bytes read before the return address */
#define CALLPATCH_AFTER 15 /* bytes read from it on */
#define CALLPATCH_SLOT_LEN 32

enum callpatch_kind {
	CALLPATCH_NONE,
	CALLPATCH_CONSTANT,
	CALLPATCH_TAIL,
};

/* The edit a site needs: (len) bytes (bytes) at (at). */
struct callpatch_edit {
	uint64_t at;
	uint8_t bytes[5];
	unsigned len;
};

/* What kind of site returns to (ret) for call (nr): (code) holds the
 * CALLPATCH_BEFORE bytes before (ret) and the CALLPATCH_AFTER from it. */
enum callpatch_kind callpatch_site(const uint8_t *code, uint64_t ret,
				   uint64_t nr);

/* 1 if a rel32 jump whose next instruction is at (next) reaches (to). */
int callpatch_reaches(uint64_t next, uint64_t to);

/* The slot at (slot_va) for a (kind) site returning to (ret) for call
 * (nr), entering at (entry), into (out, CALLPATCH_SLOT_LEN bytes): 0, or
 * -1 if (entry) is out of reach from there. */
int callpatch_slot(uint8_t *out, enum callpatch_kind kind, uint32_t nr,
		   uint64_t ret, uint64_t slot_va, uint64_t entry);

/* The edits, at most two and in the order to make them, that send the
 * (kind) site returning to (ret) to (slot_va): how many, or -1 if the
 * slot is out of reach. */
int callpatch_edits(struct callpatch_edit *e, enum callpatch_kind kind,
		    uint64_t ret, uint64_t slot_va);

#endif
