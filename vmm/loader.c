/* loader.c: loading the guest kernel ELF and writing the PVH boot information.
 */
#include "vmm.h"

#include <errno.h>
#include <fcntl.h>
#include <fresco/abi.h>
#include <fresco/pvh.h>
#include <linux/elf.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MEMMAP_GPA (BOOT_INFO_GPA + 0x100)
#define MODLIST_GPA (BOOT_INFO_GPA + 0x200)
#define CMDLINE_GPA 0x2000ULL
#define CMDLINE_END 0x9f000ULL /* below the legacy BIOS area */

static int bad_kernel(const char *path, const char *why)
{
	fprintf(stderr,
		"fresco: kernel %s: %s; rebuild it with `make` or "
		"set FRESCO_KERNEL\n",
		path, why);
	return -1;
}

/* Walk the notes in (p, len), recording Fresco's. */
static void read_notes(const uint8_t *p, size_t len, struct kernel_image *k)
{
	size_t off = 0;
	while (len - off >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr n;
		memcpy(&n, p + off, sizeof(n));
		size_t name = off + sizeof(n);
		size_t desc = name + ((n.n_namesz + 3) & ~3u);
		size_t next = desc + ((n.n_descsz + 3) & ~3u);
		if (next > len || next <= off)
			return;
		if (n.n_namesz == sizeof(FRESCO_NOTE_OWNER) &&
		    memcmp(p + name, FRESCO_NOTE_OWNER, n.n_namesz) == 0) {
			if (n.n_type == FRESCO_NOTE_ENTRY64 && n.n_descsz == 8)
				memcpy(&k->entry64, p + desc, 8);
			else if (n.n_type == FRESCO_NOTE_PML4 &&
				 n.n_descsz == 8)
				memcpy(&k->pml4, p + desc, 8);
			else if (n.n_type == FRESCO_NOTE_ABI && n.n_descsz == 4)
				memcpy(&k->abi, p + desc, 4);
		}
		off = next;
	}
}

static int load_image(const char *path, const uint8_t *img, size_t len,
		      struct guest_mem *m, struct kernel_image *k)
{
	Elf64_Ehdr eh;

	if (len < sizeof(eh) || memcmp(img, ELFMAG, SELFMAG) != 0)
		return bad_kernel(path, "not an ELF file");
	memcpy(&eh, img, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64 ||
	    eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phoff > len ||
	    (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > len - eh.e_phoff)
		return bad_kernel(path, "not a 64-bit x86 ELF kernel");
	memset(k, 0, sizeof(*k));
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, img + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_offset > len || ph.p_filesz > len - ph.p_offset)
			return bad_kernel(path, "truncated");
		if (ph.p_type == PT_NOTE)
			read_notes(img + ph.p_offset, ph.p_filesz, k);
		if (ph.p_type != PT_LOAD)
			continue;
		uint8_t *dst = guest_mem_ptr(m, ph.p_paddr, ph.p_memsz);
		if (!dst || ph.p_filesz > ph.p_memsz)
			return bad_kernel(path, "a segment does not fit in "
						"guest memory");
		memcpy(dst, img + ph.p_offset, ph.p_filesz);
		if (ph.p_paddr + ph.p_memsz > k->phys_end)
			k->phys_end = ph.p_paddr + ph.p_memsz;
	}
	if (!k->entry64 || !k->pml4)
		return bad_kernel(path, "no Fresco entry notes (not a Fresco "
					"kernel?)");
	if (k->abi != FRESCO_ABI_VERSION)
		return bad_kernel(path, "built for another monitor version");
	return 0;
}

int kernel_load(const char *path, struct guest_mem *m, struct kernel_image *k)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return bad_kernel(path, strerror(errno));
	if (fstat(fd, &st) < 0 || st.st_size <= 0) {
		close(fd);
		return bad_kernel(path, "empty or unreadable");
	}
	void *img =
		mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (img == MAP_FAILED)
		return bad_kernel(path, strerror(errno));
	int r = load_image(path, img, (size_t)st.st_size, m, k);
	munmap(img, (size_t)st.st_size);
	return r;
}

static uint64_t page_up(uint64_t x)
{
	return (x + 4095) & ~4095ULL;
}

uint64_t boot_info_write(struct guest_mem *m, const struct kernel_image *k,
			 const struct vm_config *cfg)
{
	size_t cmdlen = strlen(cfg->cmdline) + 1;
	uint64_t initrd_gpa = page_up(k->phys_end);

	if (cmdlen > CMDLINE_END - CMDLINE_GPA) {
		fprintf(stderr,
			"fresco: the arguments and environment are too "
			"long (%zu bytes; at most %llu)\n",
			cmdlen, CMDLINE_END - CMDLINE_GPA);
		return 0;
	}
	uint8_t *rd = guest_mem_ptr(m, initrd_gpa, cfg->initrd_size);
	if (!rd || initrd_gpa + cfg->initrd_size + (1 << 20) > m->size) {
		fprintf(stderr,
			"fresco: the program (%zu KiB) does not fit in "
			"%llu MiB of guest memory; raise --memory\n",
			cfg->initrd_size >> 10,
			(unsigned long long)(m->size >> 20));
		return 0;
	}
	memcpy(rd, cfg->initrd, cfg->initrd_size);
	memcpy(guest_mem_ptr(m, CMDLINE_GPA, cmdlen), cfg->cmdline, cmdlen);

	struct hvm_memmap_table_entry mm = {0, m->size, HVM_MEMMAP_TYPE_RAM, 0};
	memcpy(guest_mem_ptr(m, MEMMAP_GPA, sizeof(mm)), &mm, sizeof(mm));
	struct hvm_modlist_entry mod = {initrd_gpa, cfg->initrd_size, 0, 0};
	memcpy(guest_mem_ptr(m, MODLIST_GPA, sizeof(mod)), &mod, sizeof(mod));
	struct hvm_start_info si = {
		.magic = HVM_START_MAGIC,
		.version = 1,
		.nr_modules = 1,
		.modlist_paddr = MODLIST_GPA,
		.cmdline_paddr = CMDLINE_GPA,
		.memmap_paddr = MEMMAP_GPA,
		.memmap_entries = 1,
	};
	memcpy(guest_mem_ptr(m, BOOT_INFO_GPA, sizeof(si)), &si, sizeof(si));
	return BOOT_INFO_GPA;
}
