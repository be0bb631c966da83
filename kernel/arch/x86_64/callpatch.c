/* callpatch.c: system calls by a jump instead of SYSCALL, in ring-3
 * mode.
 *
 * Under kvm_pvm (ring-3 mode, DESIGN.md) a SYSCALL instruction travels
 * through the host's hypervisor only to land on syscall_entry at CPL 3,
 * where a plain jump would have landed too: about 1.1 us on the AMD host
 * KVM-HERE.md measured, 8 us on an Intel one, against a few ns. So when a
 * call comes from a site of a shape lib/callpatch.h recognises, the site
 * is rewritten to jump to a slot that enters at syscall_entry_fast, and
 * its later calls never leave the guest.
 *
 * Slots are 32 bytes in pages mapped at KERNEL_VMA + 1 GiB, the last
 * PDPT entry (boot.S leaves it empty), user-accessible and executable as
 * all kernel memory is in this mode; a rel32 jump from the program's
 * first GiB reaches them (static programs load at 4 MiB). They are shared
 * by every process: a slot is keyed by its site's return address, number,
 * shape and moves, and means the same wherever those are the same, so
 * pages that fork shares stay right, and a program run again reuses its
 * slots (another program may have other moves at the same address).
 *
 * Left alone: sites past the first GiB (position-independent programs,
 * shared libraries), sites whose bytes are not all mapped executable,
 * everything once the slots run out, and everything in ring-0 mode,
 * where SYSCALL is cheap. "fresco.callpatch=0" turns it off. A program
 * that reads its own code sees the jumps.
 *
 * Two things this relies on: one CPU (no other can be running the bytes
 * as they change), and program memory that is all anonymous (there are
 * no file mappings yet: a shared one must never be patched, or the file
 * would change).
 */
#include "kernel.h"
#include "lib/callpatch.h"

#define AREA (KERNEL_VMA + (1ULL << 30)) /* boot_pdpt_kernel[511] */
#define AREA_PAGES 2
#define SLOTS (AREA_PAGES * PAGE_SIZE / CALLPATCH_SLOT_LEN)
#define TABLE 0x7ULL /* present, writable, user */

extern uint64_t boot_pdpt_kernel[512];
void syscall_entry_fast(void);

struct key {
	uint64_t ret;
	uint32_t nr;
	uint8_t kind, nmoves;
	uint8_t moves[CALLPATCH_MOVES_MAX];
};
#define KEY_PAGES ((SLOTS * sizeof(struct key) + PAGE_SIZE - 1) / PAGE_SIZE)

static struct key *keys; /* SLOTS of them, once the area is mapped */
static unsigned nslots;
static int off; /* fresco.callpatch=0, no memory, or full */

void callpatch_disable(void)
{
	off = 1;
}

/* Map the slot area: a page directory, a page table and AREA_PAGES
 * pages, and KEY_PAGES for the keys. 0 or -ENOMEM. */
static int area_map(void)
{
	uint64_t pd = phys_alloc(), pt = phys_alloc(),
		 k = phys_alloc_contig(KEY_PAGES);
	if (!pd || !pt || !k)
		return -ENOMEM; /* (a few pages lost: memory is gone anyway) */
	uint64_t *ptv = phys_to_virt(pt);
	for (unsigned i = 0; i < AREA_PAGES; i++) {
		uint64_t pa = phys_alloc();
		if (!pa)
			return -ENOMEM;
		ptv[i] = pa | TABLE;
	}
	((uint64_t *)phys_to_virt(pd))[0] = pt | TABLE;
	boot_pdpt_kernel[511] = pd | TABLE;
	gate_call(GATE_FLUSH_TLB, 0, 0, 0);
	keys = phys_to_virt(k);
	return 0;
}

/* Copy (n) bytes between the program's code at (va) and (buf): from
 * the code, or to it if (to_code), through the direct map a page at a
 * time. 0, or -1 if a byte is not mapped executable. (The edits lie
 * within the bytes read, so writing them cannot fail.) */
static int code_copy(uint64_t va, uint8_t *buf, size_t n, int to_code)
{
	while (n) {
		uint64_t pa = vm_user_code_phys(va);
		size_t k = PAGE_SIZE - (va & (PAGE_SIZE - 1));
		if (!pa)
			return -1;
		if (k > n)
			k = n;
		if (to_code)
			memcpy(phys_to_virt(pa), buf, k);
		else
			memcpy(buf, phys_to_virt(pa), k);
		va += k, buf += k, n -= k;
	}
	return 0;
}

/* The slot for (k): its address, or 0 if none is left. */
static uint64_t slot_for(const struct key *k)
{
	unsigned i = 0;
	while (i < nslots && memcmp(&keys[i], k, sizeof(*k)) != 0)
		i++;
	uint64_t va = AREA + (uint64_t)i * CALLPATCH_SLOT_LEN;
	if (i < nslots)
		return va;
	if (nslots == SLOTS ||
	    callpatch_slot((uint8_t *)va, k->kind, k->nr, k->moves, k->nmoves,
			   k->ret, va, (uint64_t)syscall_entry_fast) < 0)
		return 0;
	keys[nslots++] = *k;
	return va;
}

void callpatch_try(const struct syscall_frame *f)
{
	uint64_t ret = f->rip;
	uint8_t code[CALLPATCH_BEFORE + CALLPATCH_AFTER];

	if (off || !callpatch_reaches(ret, AREA) || ret < CALLPATCH_BEFORE ||
	    code_copy(ret - CALLPATCH_BEFORE, code, sizeof(code), 0) < 0)
		return;
	enum callpatch_kind kind = callpatch_site(code, ret, f->nr);
	if (kind == CALLPATCH_NONE)
		return;
	if (!keys && area_map() < 0) {
		off = 1;
		return;
	}
	struct key k;
	memset(&k, 0, sizeof(k)); /* compared whole, padding too */
	k.ret = ret;
	k.kind = (uint8_t)kind;
	if (kind == CALLPATCH_CONSTANT) {
		k.nr = (uint32_t)f->nr;
		k.nmoves = (uint8_t)callpatch_moves(code, f->nr);
		memcpy(k.moves, code + CALLPATCH_BEFORE - 2 - k.nmoves,
		       k.nmoves);
	}
	uint64_t slot = slot_for(&k);
	struct callpatch_edit e[2];
	int n = slot ? callpatch_edits(e, kind, k.nmoves, ret, slot) : -1;
	if (n < 0) {
		off = !slot; /* full: stop looking */
		return;
	}
	for (int i = 0; i < n; i++)
		code_copy(e[i].at, e[i].bytes, e[i].len, 1);
}
