/* phys.c: the physical page allocator.
 *
 * Free memory is the RAM of the boot memory map minus the first MiB, the
 * kernel image, the boot structures and the modules. Pages are handed out
 * from a list of freed pages first, then by advancing through the free
 * ranges; every page handed out is zeroed. Only the first 4 GiB (the
 * direct map) are used.
 */
#include "kernel.h"
#include <fresco/pvh.h>

const uint8_t zero_page[PAGE_SIZE];

#define MAX_RANGES 32
#define MAX_RESERVED 16
#define LOW_RESERVED 0x100000ULL

struct range {
	uint64_t start, end;
};

extern char __kernel_start[], __kernel_end[];

static struct range ranges[MAX_RANGES];
static int nranges, cur;
static uint64_t free_list; /* physical address; each free page links on */
static uint64_t nfree, ntotal;

static struct range reserved[MAX_RESERVED];
static int nreserved;
/* Uses of a page beyond the first, by page number: pages that fork
 * shares between address spaces (read-only ones). */
static uint16_t *shares;
static uint64_t nshares;

static void reserve(uint64_t start, uint64_t len)
{
	if (len && nreserved < MAX_RESERVED)
		reserved[nreserved++] =
			(struct range){PAGE_DOWN(start), PAGE_UP(start + len)};
}

/* Add [a, b) minus reserved[i..]. */
static void add_free(uint64_t a, uint64_t b, int i)
{
	for (; i < nreserved && a < b; i++) {
		struct range r = reserved[i];
		if (r.end <= a || r.start >= b)
			continue;
		if (r.start > a)
			add_free(a, r.start, i + 1);
		a = r.end;
	}
	if (a < b && nranges < MAX_RANGES) {
		ranges[nranges++] = (struct range){a, b};
		nfree += (b - a) / PAGE_SIZE;
	}
}

void phys_init(const struct hvm_start_info *si)
{
	reserve(0, LOW_RESERVED);
	/* linker symbols: compare addresses, not pointers to objects */
	reserve(virt_to_phys(__kernel_start),
		(uint64_t)__kernel_end - (uint64_t)__kernel_start);
	reserve(boot.start_info_pa, sizeof(*si));
	if (si->cmdline_paddr)
		reserve(si->cmdline_paddr,
			strlen(phys_to_virt(si->cmdline_paddr)) + 1);
	const struct hvm_modlist_entry *mods = phys_to_virt(si->modlist_paddr);
	if (si->nr_modules) {
		reserve(si->modlist_paddr, si->nr_modules * sizeof(*mods));
		for (uint32_t i = 0; i < si->nr_modules; i++)
			reserve(mods[i].paddr, mods[i].size);
	}
	if (si->version < 1 || !si->memmap_entries)
		kpanic(NULL,
		       "the boot loader gave no memory map "
		       "(hvm_start_info version %u)",
		       si->version);
	const struct hvm_memmap_table_entry *mm =
		phys_to_virt(si->memmap_paddr);
	reserve(si->memmap_paddr, si->memmap_entries * sizeof(*mm));
	for (uint32_t i = 0; i < si->memmap_entries; i++) {
		if (mm[i].type != HVM_MEMMAP_TYPE_RAM)
			continue;
		uint64_t a = PAGE_UP(mm[i].addr);
		uint64_t b = PAGE_DOWN(mm[i].addr + mm[i].size);
		if (b > DIRECT_MAP_SIZE)
			b = DIRECT_MAP_SIZE;
		if (a < b)
			add_free(a, b, 0);
	}
	/* the share counts: one 16-bit count per page up to the highest
	 * free address, taken from the start of the largest range (low
	 * memory, as everything else at boot: a page written high up makes
	 * the monitor's host back it with a 2 MiB huge page) */
	uint64_t top = 0;
	int big = 0;
	for (int i = 0; i < nranges; i++) {
		if (ranges[i].end > top)
			top = ranges[i].end;
		if (ranges[i].end - ranges[i].start >
		    ranges[big].end - ranges[big].start)
			big = i;
	}
	uint64_t bytes = PAGE_UP(top / PAGE_SIZE * sizeof(uint16_t));
	if (nranges && ranges[big].end - ranges[big].start > bytes) {
		shares = phys_to_virt(ranges[big].start);
		ranges[big].start += bytes;
		nfree -= bytes / PAGE_SIZE;
		nshares = top / PAGE_SIZE;
		memset(shares, 0, bytes);
	}
	ntotal = nfree;
}

int phys_share(uint64_t pa)
{
	uint64_t n = pa / PAGE_SIZE;
	if (n >= nshares || shares[n] == UINT16_MAX)
		return -1;
	shares[n]++;
	return 0;
}

int phys_shared(uint64_t pa)
{
	uint64_t n = pa / PAGE_SIZE;
	return n < nshares && shares[n] != 0;
}

uint64_t phys_alloc_dirty(void)
{
	uint64_t pa = 0;

	if (free_list) {
		pa = free_list;
		free_list = *(uint64_t *)phys_to_virt(pa);
	} else {
		while (cur < nranges && ranges[cur].start >= ranges[cur].end)
			cur++;
		if (cur == nranges)
			return 0;
		pa = ranges[cur].start;
		ranges[cur].start += PAGE_SIZE;
	}
	nfree--;
	return pa;
}

uint64_t phys_alloc(void)
{
	uint64_t pa = phys_alloc_dirty();
	if (pa)
		memset(phys_to_virt(pa), 0, PAGE_SIZE);
	return pa;
}

uint64_t phys_alloc_contig(uint64_t pages)
{
	uint64_t len = pages * PAGE_SIZE;

	/* only the untouched ranges can give consecutive pages */
	for (int i = cur; i < nranges; i++) {
		if (ranges[i].end - ranges[i].start < len)
			continue;
		uint64_t pa = ranges[i].start;
		ranges[i].start += len;
		nfree -= pages;
		return pa;
	}
	return 0;
}

void phys_free(uint64_t pa)
{
	uint64_t n = pa / PAGE_SIZE;
	if (n < nshares && shares[n]) {
		shares[n]--; /* another address space still has it */
		return;
	}
	*(uint64_t *)phys_to_virt(pa) = free_list;
	free_list = pa;
	nfree++;
}

uint64_t phys_free_pages(void)
{
	return nfree;
}

uint64_t phys_total_pages(void)
{
	return ntotal;
}
