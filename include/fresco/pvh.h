/* pvh.h: the Xen PVH boot ABI structures
 * (xen/include/public/arch-x86/hvm/start_info.h).
 *
 * A public standard, not a Fresco invention: QEMU, Firecracker and Cloud
 * Hypervisor fill these for a kernel with an XEN_ELFNOTE_PHYS32_ENTRY note.
 * Fresco's monitor fills the same structure for its direct 64-bit entry.
 */
#ifndef FRESCO_PVH_H
#define FRESCO_PVH_H

#include <stdint.h>

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define HVM_START_MAGIC 0x336ec578

#define HVM_MEMMAP_TYPE_RAM 1

struct hvm_start_info {
	uint32_t magic;
	uint32_t version; /* 1 when memmap_* are valid */
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

#endif
