/* callpatch.h: the bytes of a patched system call site (see
 * arch/x86_64/callpatch.c for why and when). Pure logic, unit-tested on
 * the host.
 *
 * Two shapes of site are recognised, each only from the address a
 * SYSCALL instruction just returned to (so that instruction is real):
 *   constant: "mov $nr, %eax; syscall" (b8 imm32 0f 05) with imm32 the
 *     call's number, as musl's and glibc's inline calls are made, or with
 *     register moves between the two ("mov %rdi, %rdx", "xor %esi,
 *     %esi", "mov $2, %esi": what a compiler puts there to load the
 *     arguments; none to RAX or RSP, at most CALLPATCH_MOVES_MAX bytes,
 *     and only where the bytes read so one way). The mov becomes "jmp
 *     rel32" to a slot that does "mov $nr, %eax", the moves, and enters;
 *     the moves and the syscall instruction stay, so a restarted call
 *     (rip - 2), or a jump straight to them, still works the slow way.
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

#define CALLPATCH_MOVES_MAX 12 /* bytes of moves a constant site may have */
/* bytes read before the return address: a prefix, the mov, the moves and
 * the syscall */
#define CALLPATCH_BEFORE (1 + 5 + CALLPATCH_MOVES_MAX + 2)
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
/* For a constant site: the bytes of moves between its mov and its
 * syscall (they end 2 bytes before the return address in (code)). */
unsigned callpatch_moves(const uint8_t *code, uint64_t nr);

/* 1 if a rel32 jump whose next instruction is at (next) reaches (to). */
int callpatch_reaches(uint64_t next, uint64_t to);

/* The slot at (slot_va) for a (kind) site returning to (ret) for call
 * (nr), with (nmoves) bytes of moves (moves) for a constant one,
 * entering at (entry), into (out, CALLPATCH_SLOT_LEN bytes): 0, or -1 if
 * (entry) is out of reach from there. */
int callpatch_slot(uint8_t *out, enum callpatch_kind kind, uint32_t nr,
		   const uint8_t *moves, unsigned nmoves, uint64_t ret,
		   uint64_t slot_va, uint64_t entry);

/* The edits, at most two and in the order to make them, that send the
 * (kind) site returning to (ret), with (nmoves) bytes of moves, to
 * (slot_va): how many, or -1 if the slot is out of reach. */
int callpatch_edits(struct callpatch_edit *e, enum callpatch_kind kind,
		    unsigned nmoves, uint64_t ret, uint64_t slot_va);

#endif
