/* vm.c: a process's address space: page tables, regions, brk and mmap.
 *
 * The lower half of a process's PML4 belongs to the program; the upper
 * half is the kernel's, the same in every process (pid 1 uses the boot
 * PML4). Memory is backed
 * eagerly when it becomes accessible (a guest page fault costs 25-35 us
 * under kvm_pvm; writing a PTE from ring 3 costs 20 ns), so the program
 * never takes a fault on valid memory. A PTE is in one of three states:
 *   0                      nothing behind the page
 *   PTE_P | flags | pa     mapped
 *   PTE_KEEP | pa          backed, but PROT_NONE (not present)
 * Regions (struct vma) record what the program asked for, sorted by
 * address and never overlapping; every page of a region with a protection
 * other than PROT_NONE is mapped. Adding a mapping needs no TLB flush;
 * removing or narrowing one flushes once per call, through the gate.
 *
 * Page-table pages of an address space that goes away are kept, with
 * their entries cleared one by one, for the next page tables: they are
 * not handed out as ordinary memory. Under kvm_pvm the hypervisor keeps
 * its shadow of a page that was a page table write-protected, and writing
 * a whole page there (zeroing it for reuse) costs hundreds of
 * microseconds: a fork that reused the last child's PML4 took 580 us
 * instead of 20 (bench/results/syscalls.txt, fork_exit_wait).
 */
#include "kernel.h"
#include <linux/mman.h>

#define PTE_P 0x1ULL
#define PTE_W 0x2ULL
#define PTE_U 0x4ULL
#define PTE_PS 0x80ULL
#define PTE_KEEP 0x200ULL /* software bit: backed, PROT_NONE */
#define PTE_NX (1ULL << 63)
#define PTE_ADDR 0x000ffffffffff000ULL
#define TABLE_FLAGS (PTE_P | PTE_W | PTE_U)

#define STACK_GAP (8ULL << 20) /* room kept free below the stack */
#define MMAP_TOP (USER_TOP - STACK_GAP - (1ULL << 30))
#define MMAP_BOTTOM 0x10000ULL

struct vma {
	uint64_t start, end;
	int prot;
	struct vma *next;
};

struct mm {
	int refs; /* processes using it: more than one only for vfork */
	uint64_t *pml4;
	struct vma *vmas;
	uint64_t brk_start, brk_cur;
};

static int tlb_dirty;

/* Freed page-table pages, every entry zero; PML4s apart, as their
 * kernel half stays filled in. */
#define TABLE_POOL 2048
static uint64_t table_pool[TABLE_POOL], pml4_pool[64];
static int ntable_pool, npml4_pool;

/* A zeroed page for a page table: a freed one if there is one. */
static uint64_t table_alloc(void)
{
	return ntable_pool ? table_pool[--ntable_pool] : phys_alloc();
}

/* (pa) was a page table and all its entries are zero now. */
static void table_free(uint64_t pa)
{
	if (ntable_pool < TABLE_POOL)
		table_pool[ntable_pool++] = pa;
	else
		phys_free(pa);
}

static struct mm *mm(void)
{
	return current->mm;
}

/* ---- page tables ---- */

/*
 * The PTE for (va), allocating tables on the way if (alloc). Returns NULL
 * if a table is missing (and !alloc or no memory); then (*skip) is the
 * first address past the missing table's reach.
 */
static uint64_t *pte_lookup(uint64_t va, int alloc, uint64_t *skip)
{
	uint64_t *table = mm()->pml4;

	for (int level = 3; level > 0; level--) {
		int shift = 12 + 9 * level;
		uint64_t *e = &table[(va >> shift) & 511];
		if (!(*e & PTE_P)) {
			uint64_t pa = alloc ? table_alloc() : 0;
			if (!pa) {
				if (skip)
					*skip = (va | ((1ULL << shift) - 1)) +
						1;
				return NULL;
			}
			*e = pa | TABLE_FLAGS;
		}
		table = phys_to_virt(*e & PTE_ADDR);
	}
	return &table[(va >> 12) & 511];
}

static uint64_t user_phys(uint64_t va, int writable, int exec)
{
	uint64_t *table = mm()->pml4;

	if (!user_range_ok(va, 1))
		return 0;
	for (int level = 3; level >= 0; level--) {
		int shift = 12 + 9 * level;
		uint64_t e = table[(va >> shift) & 511];
		if (!(e & PTE_P) || !(e & PTE_U) ||
		    (writable && !(e & PTE_W)) || (exec && (e & PTE_NX)))
			return 0;
		if (level == 0 || (level <= 2 && (e & PTE_PS)))
			return (e & PTE_ADDR & ~((1ULL << shift) - 1)) +
			       (va & ((1ULL << shift) - 1));
		table = phys_to_virt(e & PTE_ADDR);
	}
	return 0;
}

uint64_t vm_user_phys(uint64_t va, int writable)
{
	return user_phys(va, writable, 0);
}

uint64_t vm_user_code_phys(uint64_t va)
{
	return user_phys(va, 0, 1);
}

static uint64_t pte_flags(int prot)
{
	if (!prot)
		return PTE_KEEP;
	return PTE_P | PTE_U | ((prot & VM_WRITE) ? PTE_W : 0) |
	       ((prot & VM_EXEC) ? 0 : PTE_NX);
}

static int pte_backed(uint64_t pte)
{
	return (pte & (PTE_P | PTE_KEEP)) != 0;
}

/* (pte), which maps a page: if other address spaces share that page,
 * give this one a copy of its own (before it becomes writable or is
 * changed). 0 or -ENOMEM. */
static int unshare(uint64_t *pte)
{
	uint64_t old = *pte & PTE_ADDR;
	if (!phys_shared(old))
		return 0;
	uint64_t pa = phys_alloc();
	if (!pa)
		return -ENOMEM;
	memcpy(phys_to_virt(pa), phys_to_virt(old), PAGE_SIZE);
	*pte = pa | (*pte & ~PTE_ADDR);
	phys_free(old);
	tlb_dirty = 1;
	return 0;
}

static void tlb_flush(void)
{
	if (tlb_dirty)
		gate_call(GATE_FLUSH_TLB, 0, 0, 0);
	tlb_dirty = 0;
}

/* Give every page of [start, end) protection (prot), backing those that
 * have nothing behind them unless (prot) is PROT_NONE. */
static int range_set(uint64_t start, uint64_t end, int prot)
{
	for (uint64_t va = start; va < end; va += PAGE_SIZE) {
		uint64_t *pte = pte_lookup(va, 1, NULL);
		if (!pte)
			return -ENOMEM;
		uint64_t pa = *pte & PTE_ADDR;
		if (!pte_backed(*pte)) {
			if (!prot)
				continue;
			pa = phys_alloc();
			if (!pa)
				return -ENOMEM;
		} else {
			if (*pte & PTE_P)
				tlb_dirty = 1;
			if ((prot & VM_WRITE) && unshare(pte) < 0)
				return -ENOMEM;
			pa = *pte & PTE_ADDR;
		}
		*pte = pa | pte_flags(prot);
	}
	return 0;
}

/* Free the pages of [start, end). */
static void range_release(uint64_t start, uint64_t end)
{
	uint64_t va = start;
	while (va < end) {
		uint64_t skip;
		uint64_t *pte = pte_lookup(va, 0, &skip);
		if (!pte) {
			va = skip;
			continue;
		}
		if (pte_backed(*pte)) {
			if (*pte & PTE_P)
				tlb_dirty = 1;
			phys_free(*pte & PTE_ADDR);
			*pte = 0;
		}
		va += PAGE_SIZE;
	}
}

/* ---- regions ---- */

/* Make region boundaries fall at (addr); -ENOMEM if out of kernel memory. */
static int vma_split_at(uint64_t addr)
{
	for (struct vma *v = mm()->vmas; v; v = v->next) {
		if (v->start < addr && addr < v->end) {
			struct vma *n = kmalloc(sizeof(*n));
			if (!n)
				return -ENOMEM;
			*n = (struct vma){addr, v->end, v->prot, v->next};
			v->end = addr;
			v->next = n;
			return 0;
		}
	}
	return 0;
}

/* Remove the regions inside [start, end) (boundaries already split). */
static void vma_remove(uint64_t start, uint64_t end)
{
	struct vma **pp = &mm()->vmas;
	while (*pp) {
		struct vma *v = *pp;
		if (v->start >= start && v->end <= end) {
			*pp = v->next;
			kfree(v, sizeof(*v));
		} else {
			pp = &v->next;
		}
	}
}

static int vma_insert(uint64_t start, uint64_t end, int prot)
{
	struct vma **pp = &mm()->vmas;
	while (*pp && (*pp)->start < start)
		pp = &(*pp)->next;
	/* merge with an adjacent region of the same protection */
	struct vma *prev = NULL;
	for (struct vma *v = mm()->vmas; v && v->start < start; v = v->next)
		prev = v;
	if (prev && prev->end == start && prev->prot == prot) {
		prev->end = end;
		return 0;
	}
	struct vma *n = kmalloc(sizeof(*n));
	if (!n)
		return -ENOMEM;
	*n = (struct vma){start, end, prot, *pp};
	*pp = n;
	return 0;
}

static int vma_overlaps(uint64_t start, uint64_t end)
{
	for (struct vma *v = mm()->vmas; v; v = v->next)
		if (v->start < end && start < v->end)
			return 1;
	return 0;
}

/* 1 if [start, end) is wholly covered by regions. */
static int vma_covers(uint64_t start, uint64_t end)
{
	uint64_t at = start;
	for (struct vma *v = mm()->vmas; v && at < end; v = v->next) {
		if (v->end <= at)
			continue;
		if (v->start > at)
			return 0;
		at = v->end;
	}
	return at >= end;
}

/* Highest free gap of (len) bytes below MMAP_TOP, or 0. */
static uint64_t vma_find_gap(uint64_t len)
{
	uint64_t best = 0, lo = MMAP_BOTTOM;
	for (struct vma *v = mm()->vmas;; v = v->next) {
		uint64_t hi = v ? v->start : MMAP_TOP;
		if (hi > MMAP_TOP)
			hi = MMAP_TOP;
		if (hi > lo && hi - lo >= len)
			best = hi - len;
		if (!v)
			break;
		if (v->end > lo)
			lo = v->end;
	}
	return best;
}

/* ---- operations ---- */

int vm_map_fixed(uint64_t start, uint64_t len, int prot, const void *src,
		 uint64_t src_off, uint64_t src_len)
{
	uint64_t end = start + len;

	for (uint64_t va = start; va < end; va += PAGE_SIZE) {
		uint64_t *pte = pte_lookup(va, 1, NULL);
		if (!pte)
			return -ENOMEM;
		int page_prot = prot;
		if (pte_backed(*pte)) {
			/* shared with the previous segment: widen */
			page_prot |= (*pte & PTE_W) ? VM_WRITE : 0;
			page_prot |= (*pte & PTE_NX) ? 0 : VM_EXEC;
			if (unshare(pte) < 0)
				return -ENOMEM;
		} else {
			uint64_t pa = phys_alloc();
			if (!pa)
				return -ENOMEM;
			*pte = pa;
		}
		uint64_t pa = *pte & PTE_ADDR;
		/* copy the part of (src) that lands in this page */
		uint64_t d0 = va - start, d1 = d0 + PAGE_SIZE;
		uint64_t s0 = src_off, s1 = src_off + src_len;
		uint64_t lo = d0 > s0 ? d0 : s0, hi = d1 < s1 ? d1 : s1;
		if (lo < hi)
			memcpy((char *)phys_to_virt(pa) + (lo - d0),
			       (const char *)src + (lo - s0), hi - lo);
		*pte = pa | pte_flags(page_prot);
	}
	uint64_t vstart = start;
	while (vstart < end && vma_overlaps(vstart, vstart + PAGE_SIZE))
		vstart += PAGE_SIZE;
	return vstart < end ? vma_insert(vstart, end, prot) : 0;
}

static int prot_valid(int prot)
{
	return (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)) == 0;
}

static int prot_to_vm(int prot)
{
	/* x86 cannot map write-only or execute-only pages */
	int vm = 0;
	if (prot & (PROT_READ | PROT_WRITE | PROT_EXEC))
		vm |= VM_READ;
	if (prot & PROT_WRITE)
		vm |= VM_WRITE;
	if (prot & PROT_EXEC)
		vm |= VM_EXEC;
	return vm;
}

/* Unmap [start, end): pages, then regions. */
static long unmap_range(uint64_t start, uint64_t end)
{
	if (vma_split_at(start) < 0 || vma_split_at(end) < 0)
		return -ENOMEM;
	range_release(start, end);
	vma_remove(start, end);
	return 0;
}

long vm_mmap(uint64_t addr, uint64_t len, int prot, int flags)
{
	int type = flags & MAP_TYPE;
	uint64_t start;

	if (len == 0 || !prot_valid(prot))
		return -EINVAL;
	if (type != MAP_PRIVATE && type != MAP_SHARED &&
	    type != MAP_SHARED_VALIDATE)
		return -EINVAL;
	if (len > USER_TOP)
		return -ENOMEM;
	len = PAGE_UP(len);
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
		if (addr & (PAGE_SIZE - 1))
			return -EINVAL;
		if (!user_range_ok(addr, len) || addr < MMAP_BOTTOM)
			return -ENOMEM;
		if (vma_overlaps(addr, addr + len)) {
			if (!(flags & MAP_FIXED))
				return -EEXIST;
			long r = unmap_range(addr, addr + len);
			if (r < 0)
				return r;
		}
		start = addr;
	} else {
		uint64_t hint = PAGE_DOWN(addr);
		if (hint >= MMAP_BOTTOM && user_range_ok(hint, len) &&
		    !vma_overlaps(hint, hint + len))
			start = hint;
		else if (!(start = vma_find_gap(len)))
			return -ENOMEM;
	}
	int vm = prot_to_vm(prot);
	if (range_set(start, start + len, vm) < 0 ||
	    vma_insert(start, start + len, vm) < 0) {
		range_release(start, start + len);
		tlb_flush();
		return -ENOMEM;
	}
	tlb_flush();
	return (long)start;
}

long vm_munmap(uint64_t addr, uint64_t len)
{
	if ((addr & (PAGE_SIZE - 1)) || len == 0)
		return -EINVAL;
	len = PAGE_UP(len);
	if (!user_range_ok(addr, len))
		return -EINVAL;
	long r = unmap_range(addr, addr + len);
	tlb_flush();
	return r;
}

long vm_mprotect(uint64_t addr, uint64_t len, int prot)
{
	if ((addr & (PAGE_SIZE - 1)) || !prot_valid(prot))
		return -EINVAL;
	if (len == 0)
		return 0;
	len = PAGE_UP(len);
	if (!user_range_ok(addr, len))
		return -ENOMEM;
	uint64_t end = addr + len;
	if (!vma_covers(addr, end))
		return -ENOMEM;
	if (vma_split_at(addr) < 0 || vma_split_at(end) < 0)
		return -ENOMEM;
	int vm = prot_to_vm(prot);
	long r = range_set(addr, end, vm);
	for (struct vma *v = mm()->vmas; v && r == 0; v = v->next)
		if (v->start >= addr && v->end <= end)
			v->prot = vm;
	tlb_flush();
	return r;
}

static struct vma *vma_containing(uint64_t addr)
{
	for (struct vma *v = mm()->vmas; v; v = v->next)
		if (v->start <= addr && addr < v->end)
			return v;
	return NULL;
}

/* Move the pages of [from, from + len) to (to), which has nothing mapped. */
static int move_pages(uint64_t from, uint64_t to, uint64_t len)
{
	for (uint64_t off = 0; off < len; off += PAGE_SIZE) {
		uint64_t *src = pte_lookup(from + off, 0, NULL);
		if (!src || !pte_backed(*src))
			continue;
		uint64_t *dst = pte_lookup(to + off, 1, NULL);
		if (!dst)
			return -ENOMEM;
		*dst = *src;
		if (*src & PTE_P)
			tlb_dirty = 1;
		*src = 0;
	}
	return 0;
}

long vm_mremap(uint64_t old, uint64_t old_len, uint64_t new_len, int flags,
	       uint64_t new_addr)
{
	if ((old & (PAGE_SIZE - 1)) || new_len == 0 ||
	    (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED)) ||
	    ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE)))
		return -EINVAL;
	if (old_len > USER_TOP || new_len > USER_TOP)
		return -EINVAL;
	old_len = PAGE_UP(old_len);
	new_len = PAGE_UP(new_len);
	if (old_len == 0 || !user_range_ok(old, old_len))
		return -EINVAL;
	struct vma *v = vma_containing(old);
	if (!v || old + old_len > v->end)
		return -EFAULT;
	int prot = v->prot;
	long r;

	if (!(flags & MREMAP_FIXED)) {
		if (new_len <= old_len) {
			r = unmap_range(old + new_len, old + old_len);
			tlb_flush();
			return r < 0 ? r : (long)old;
		}
		uint64_t grow_end = old + new_len;
		if (user_range_ok(old, new_len) &&
		    !vma_overlaps(old + old_len, grow_end)) {
			if (range_set(old + old_len, grow_end, prot) < 0 ||
			    vma_insert(old + old_len, grow_end, prot) < 0) {
				range_release(old + old_len, grow_end);
				tlb_flush();
				return -ENOMEM;
			}
			return (long)old;
		}
		if (!(flags & MREMAP_MAYMOVE))
			return -ENOMEM;
		new_addr = vma_find_gap(new_len);
		if (!new_addr)
			return -ENOMEM;
	} else {
		if ((new_addr & (PAGE_SIZE - 1)) ||
		    !user_range_ok(new_addr, new_len) ||
		    (new_addr < old + old_len && old < new_addr + new_len))
			return -EINVAL;
		if ((r = unmap_range(new_addr, new_addr + new_len)) < 0)
			return r;
	}
	uint64_t keep = old_len < new_len ? old_len : new_len;
	if (move_pages(old, new_addr, keep) < 0 ||
	    range_set(new_addr, new_addr + new_len, prot) < 0 ||
	    vma_insert(new_addr, new_addr + new_len, prot) < 0) {
		tlb_flush();
		return -ENOMEM;
	}
	r = unmap_range(old, old + old_len);
	tlb_flush();
	return r < 0 ? r : (long)new_addr;
}

long vm_madvise(uint64_t addr, uint64_t len, int advice)
{
	if (addr & (PAGE_SIZE - 1))
		return -EINVAL;
	len = PAGE_UP(len);
	if (!user_range_ok(addr, len))
		return -EINVAL;
	switch (advice) {
	case MADV_NORMAL:
	case MADV_RANDOM:
	case MADV_SEQUENTIAL:
	case MADV_WILLNEED:
	case MADV_HUGEPAGE:
	case MADV_NOHUGEPAGE:
	case MADV_DONTDUMP:
	case MADV_DODUMP:
	case MADV_DONTFORK:
	case MADV_DOFORK:
	case MADV_COLD:
	case MADV_PAGEOUT:
		break;
	case MADV_DONTNEED:
	case MADV_FREE:
		/* anonymous private memory reads back as zeros */
		for (uint64_t va = addr; va < addr + len; va += PAGE_SIZE) {
			uint64_t *pte = pte_lookup(va, 0, NULL);
			if (!pte || !pte_backed(*pte))
				continue;
			if (unshare(pte) < 0)
				return -ENOMEM;
			memset(phys_to_virt(*pte & PTE_ADDR), 0, PAGE_SIZE);
		}
		tlb_flush();
		break;
	default:
		return -EINVAL;
	}
	return vma_covers(addr, addr + len) ? 0 : -ENOMEM;
}

void vm_brk_init(uint64_t start)
{
	mm()->brk_start = mm()->brk_cur = start;
}

uint64_t vm_brk(uint64_t want)
{
	if (want < mm()->brk_start || want > USER_TOP)
		return mm()->brk_cur;
	uint64_t old_end = PAGE_UP(mm()->brk_cur), new_end = PAGE_UP(want);
	if (new_end > old_end) {
		if (vma_overlaps(old_end, new_end))
			return mm()->brk_cur;
		if (range_set(old_end, new_end, VM_READ | VM_WRITE) < 0 ||
		    vma_insert(old_end, new_end, VM_READ | VM_WRITE) < 0) {
			range_release(old_end, new_end);
			tlb_flush();
			return mm()->brk_cur;
		}
	} else if (new_end < old_end) {
		if (unmap_range(new_end, old_end) < 0)
			return mm()->brk_cur;
		tlb_flush();
	}
	mm()->brk_cur = want;
	return mm()->brk_cur;
}

void vm_describe(char *buf, size_t cap, size_t *len)
{
	for (struct vma *v = mm()->vmas; v && *len + 1 < cap; v = v->next) {
		int n = snprintf(buf + *len, cap - *len,
				 "%08lx-%08lx %c%c%cp 00000000 00:00 0\n",
				 v->start, v->end,
				 (v->prot & VM_READ) ? 'r' : '-',
				 (v->prot & VM_WRITE) ? 'w' : '-',
				 (v->prot & VM_EXEC) ? 'x' : '-');
		if (n < 0 || (size_t)n >= cap - *len)
			break;
		*len += (size_t)n;
	}
}

/* ---- address spaces ---- */

struct mm *vm_boot_mm(void)
{
	/* made like any other, so that an execve of pid 1 can free it */
	struct mm *m = kmalloc(sizeof(*m));
	if (m) {
		m->refs = 1;
		m->pml4 = boot_pml4_table();
	}
	return m;
}

uint64_t vm_root(const struct mm *m)
{
	return virt_to_phys(m->pml4);
}

/* Copy the user pages under (src), a table of (level) (3: PML4, 0: page
 * table), into the empty (dst), first (n) entries. */
static int copy_level(uint64_t *dst, const uint64_t *src, int level, int n)
{
	for (int i = 0; i < n; i++) {
		uint64_t e = src[i];
		if (level == 0 ? !pte_backed(e) : !(e & PTE_P))
			continue;
		/* a page nobody may write is shared, not copied: unshare
		 * copies it before either side can write it */
		if (level == 0 && (e & PTE_P) && !(e & PTE_W) &&
		    phys_share(e & PTE_ADDR) == 0) {
			dst[i] = e;
			continue;
		}
		uint64_t pa = level == 0 ? phys_alloc() : table_alloc();
		if (!pa)
			return -ENOMEM;
		dst[i] = pa | (e & ~PTE_ADDR);
		if (level == 0)
			memcpy(phys_to_virt(pa), phys_to_virt(e & PTE_ADDR),
			       PAGE_SIZE);
		else if (copy_level(phys_to_virt(pa),
				    phys_to_virt(e & PTE_ADDR), level - 1,
				    512) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Free the user pages and tables under (t), a table of (level), and
 * clear its entries. */
static void free_level(uint64_t *t, int level, int n)
{
	for (int i = 0; i < n; i++) {
		uint64_t e = t[i];
		if (!e)
			continue;
		t[i] = 0;
		if (level == 0) {
			if (pte_backed(e))
				phys_free(e & PTE_ADDR);
			continue;
		}
		if (!(e & PTE_P))
			continue;
		free_level(phys_to_virt(e & PTE_ADDR), level - 1, 512);
		table_free(e & PTE_ADDR);
	}
}

static void vmas_free(struct vma *v)
{
	while (v) {
		struct vma *next = v->next;
		kfree(v, sizeof(*v));
		v = next;
	}
}

struct mm *vm_get(struct mm *m)
{
	m->refs++;
	return m;
}

void vm_release(struct mm *m)
{
	if (--m->refs > 0)
		return;
	free_level(m->pml4, 3, 256);
	if (npml4_pool < (int)ARRAY_SIZE(pml4_pool))
		pml4_pool[npml4_pool++] = virt_to_phys(m->pml4);
	else
		phys_free(virt_to_phys(m->pml4));
	vmas_free(m->vmas);
	kfree(m, sizeof(*m));
}

struct mm *vm_new(void)
{
	struct mm *m = kmalloc(sizeof(*m));
	if (!m)
		return NULL;
	m->refs = 1;
	if (npml4_pool) {
		/* its user half is clear, its kernel half as it should be */
		m->pml4 = phys_to_virt(pml4_pool[--npml4_pool]);
		return m;
	}
	uint64_t pa = phys_alloc();
	if (!pa) {
		kfree(m, sizeof(*m));
		return NULL;
	}
	m->pml4 = phys_to_virt(pa);
	/* the kernel half is shared: the same entries in every PML4 */
	memcpy(m->pml4 + 256, mm()->pml4 + 256, 256 * sizeof(uint64_t));
	return m;
}

struct mm *vm_fork(void)
{
	const struct mm *from = mm();
	struct mm *m = vm_new();
	if (!m)
		return NULL;
	m->brk_start = from->brk_start;
	m->brk_cur = from->brk_cur;
	struct vma **tail = &m->vmas;
	int r = copy_level(m->pml4, from->pml4, 3, 256);
	for (const struct vma *v = from->vmas; v && r == 0; v = v->next) {
		struct vma *n = kmalloc(sizeof(*n));
		if (!n) {
			r = -ENOMEM;
			break;
		}
		*n = (struct vma){v->start, v->end, v->prot, NULL};
		*tail = n;
		tail = &n->next;
	}
	if (r < 0) {
		vm_release(m);
		return NULL;
	}
	return m;
}
