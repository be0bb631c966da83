/* elf.c: checking a static x86_64 Linux executable and planning its loading.
 *
 * Accepts ET_EXEC (loaded at its addresses) and static-pie ET_DYN without
 * PT_INTERP (loaded at PIE_BASE; the program relocates itself). Anything
 * else is refused with a reason a person can act on.
 */
#include "lib.h"
#include <linux/elf.h>
#include <string.h>

#define PAGE_SIZE_4K 4096ULL

static uint64_t page_up(uint64_t x)
{
	return (x + PAGE_SIZE_4K - 1) & ~(PAGE_SIZE_4K - 1);
}

static int refuse(const char **why, const char *msg)
{
	*why = msg;
	return -ENOEXEC;
}

static int plan_segments(const unsigned char *img, size_t len,
			 const Elf64_Ehdr *eh, struct elf_plan *p,
			 const char **why)
{
	uint64_t lo = UINT64_MAX, hi = 0;

	p->nseg = 0;
	p->phdr = 0;
	p->stack_exec = 0;
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, img + eh->e_phoff + (uint64_t)i * eh->e_phentsize,
		       sizeof(ph));
		if (ph.p_type == PT_INTERP)
			return refuse(why, "it is dynamically linked; "
					   "rebuild it with -static");
		if (ph.p_type == PT_GNU_STACK)
			p->stack_exec = (ph.p_flags & PF_X) != 0;
		if (ph.p_type == PT_PHDR)
			p->phdr = ph.p_vaddr;
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (p->nseg == ELF_MAX_SEGS)
			return refuse(why, "it has too many loadable segments");
		if (ph.p_filesz > ph.p_memsz || ph.p_offset > len ||
		    ph.p_filesz > len - ph.p_offset)
			return refuse(why, "it is truncated or corrupt "
					   "(a segment lies outside the file)");
		if ((ph.p_vaddr & (PAGE_SIZE_4K - 1)) !=
		    (ph.p_offset & (PAGE_SIZE_4K - 1)))
			return refuse(why, "a segment is not page-aligned "
					   "with its file offset");
		uint64_t start = ph.p_vaddr + p->bias;
		if (start < ph.p_vaddr || !user_range_ok(start, ph.p_memsz) ||
		    start < PAGE_SIZE_4K)
			return refuse(why, "a segment lies outside user space");
		if (start < hi)
			return refuse(why, "its segments overlap or are "
					   "not in address order");
		struct elf_seg *s = &p->seg[p->nseg++];
		s->vaddr = start;
		s->memsz = ph.p_memsz;
		s->offset = ph.p_offset;
		s->filesz = ph.p_filesz;
		s->prot = ((ph.p_flags & PF_R) ? ELF_PROT_R : 0) |
			  ((ph.p_flags & PF_W) ? ELF_PROT_W : 0) |
			  ((ph.p_flags & PF_X) ? ELF_PROT_X : 0);
		if (start < lo)
			lo = start;
		hi = start + ph.p_memsz;
		/* program headers inside this segment's file image */
		if (!p->phdr && eh->e_phoff >= ph.p_offset &&
		    eh->e_phoff - ph.p_offset < ph.p_filesz)
			p->phdr = ph.p_vaddr + (eh->e_phoff - ph.p_offset);
	}
	if (p->nseg == 0)
		return refuse(why, "it has nothing to load");
	if (p->phdr)
		p->phdr += p->bias;
	p->brk = page_up(hi);
	p->entry = eh->e_entry + p->bias;
	if (p->entry < lo || p->entry >= hi)
		return refuse(why, "its entry point is outside its segments");
	return 0;
}

int elf_plan(const void *img, size_t len, struct elf_plan *p, const char **why)
{
	const unsigned char *b = img;
	Elf64_Ehdr eh;

	if (len < 4 || memcmp(b, ELFMAG, SELFMAG) != 0)
		return refuse(why, "it is not an ELF executable");
	if (len < EI_NIDENT + 2 || b[EI_CLASS] != ELFCLASS64) {
		if (len > EI_CLASS && b[EI_CLASS] == ELFCLASS32)
			return refuse(why, "it is a 32-bit program; Fresco "
					   "runs x86_64 programs");
		return refuse(why, "it is a corrupt ELF file");
	}
	if (len < sizeof(eh))
		return refuse(why, "it is truncated (no complete ELF header)");
	memcpy(&eh, b, sizeof(eh));
	if (eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return refuse(why, "it is a big-endian program; Fresco runs "
				   "x86_64 programs");
	if (eh.e_machine != EM_X86_64) {
		static const char *const msgs[] = {
			"it is built for 32-bit x86, not x86_64",
			"it is built for arm64, not x86_64",
			"it is built for 32-bit arm, not x86_64",
			"it is built for riscv, not x86_64",
			"it is built for ppc64, not x86_64",
			"it is built for s390, not x86_64",
			"it is built for another architecture, not x86_64",
		};
		static const unsigned ems[] = {EM_386,	 EM_AARCH64, EM_ARM,
					       EM_RISCV, EM_PPC64,   EM_S390};
		unsigned i = 0;
		while (i < sizeof(ems) / sizeof(ems[0]) &&
		       ems[i] != eh.e_machine)
			i++;
		return refuse(why, msgs[i]);
	}
	if (eh.e_ident[EI_OSABI] != ELFOSABI_NONE &&
	    eh.e_ident[EI_OSABI] != ELFOSABI_LINUX)
		return refuse(why, "it is built for another operating system");
	if (eh.e_type == ET_REL)
		return refuse(why,
			      "it is an object file, not a linked program");
	if (eh.e_type == ET_CORE)
		return refuse(why, "it is a core dump, not a program");
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
		return refuse(why, "it is not an executable ELF file");
	if (eh.e_type == ET_DYN && eh.e_entry == 0)
		return refuse(why, "it is a shared library, not a program");
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 ||
	    eh.e_phoff > len ||
	    (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > len - eh.e_phoff)
		return refuse(why, "its program headers are corrupt");

	p->bias = eh.e_type == ET_DYN ? PIE_BASE : 0;
	p->phnum = eh.e_phnum;
	p->phent = eh.e_phentsize;
	return plan_segments(b, len, &eh, p, why);
}
