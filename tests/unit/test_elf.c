/* test_elf.c: checking programs and planning their loading. */
#include "lib/lib.h"
#include "unit.h"

#include <linux/elf.h>
#include <string.h>

#define TEXT 0x401000ULL

static unsigned char img[0x4000];

/* A static x86_64 executable: text at 0x401000 (file 0x1000, 0x100
 * bytes), data at 0x403000 (file 0x2000, 0x80 bytes, 0x1000 in memory). */
static Elf64_Ehdr *make_exec(void)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
	Elf64_Phdr *ph = (Elf64_Phdr *)(img + sizeof(*eh));

	memset(img, 0, sizeof(img));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = TEXT + 0x10;
	eh->e_phoff = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 3;
	ph[0] = (Elf64_Phdr){.p_type = PT_LOAD,
			     .p_flags = PF_R,
			     .p_offset = 0,
			     .p_vaddr = 0x400000,
			     .p_filesz = 0x200,
			     .p_memsz = 0x200};
	ph[1] = (Elf64_Phdr){.p_type = PT_LOAD,
			     .p_flags = PF_R | PF_X,
			     .p_offset = 0x1000,
			     .p_vaddr = TEXT,
			     .p_filesz = 0x100,
			     .p_memsz = 0x100};
	ph[2] = (Elf64_Phdr){.p_type = PT_LOAD,
			     .p_flags = PF_R | PF_W,
			     .p_offset = 0x2000,
			     .p_vaddr = 0x403000,
			     .p_filesz = 0x80,
			     .p_memsz = 0x1000};
	return eh;
}

static Elf64_Phdr *phdr(int i)
{
	return (Elf64_Phdr *)(img + sizeof(Elf64_Ehdr)) + i;
}

static const char *refusal(void)
{
	struct elf_plan p;
	const char *why = NULL;
	ck_assert_int_eq(elf_plan(img, sizeof(img), &p, &why), -ENOEXEC);
	ck_assert_ptr_nonnull(why);
	return why;
}

START_TEST(test_static_executable_is_planned_at_its_addresses)
{
	struct elf_plan p;
	const char *why = NULL;

	make_exec();
	ck_assert_int_eq(elf_plan(img, sizeof(img), &p, &why), 0);
	ck_assert_int_eq(p.bias, 0);
	ck_assert_int_eq(p.entry, TEXT + 0x10);
	ck_assert_int_eq(p.nseg, 3);
	ck_assert_int_eq(p.seg[1].prot, ELF_PROT_R | ELF_PROT_X);
	ck_assert_int_eq(p.seg[2].prot, ELF_PROT_R | ELF_PROT_W);
	ck_assert_int_eq(p.seg[2].filesz, 0x80);
	ck_assert_int_eq(p.brk, 0x404000);
	ck_assert_int_eq(p.phdr, 0x400000 + sizeof(Elf64_Ehdr));
	ck_assert_int_eq(p.phnum, 3);
	ck_assert_int_eq(p.phent, sizeof(Elf64_Phdr));
}
END_TEST

START_TEST(test_static_pie_is_planned_at_pie_base)
{
	struct elf_plan p;
	const char *why;
	Elf64_Ehdr *eh = make_exec();

	eh->e_type = ET_DYN;
	eh->e_entry = 0x1010;
	phdr(0)->p_vaddr = 0;
	phdr(1)->p_vaddr = 0x1000;
	phdr(2)->p_vaddr = 0x3000;
	ck_assert_int_eq(elf_plan(img, sizeof(img), &p, &why), 0);
	ck_assert_int_eq(p.bias, PIE_BASE);
	ck_assert_int_eq(p.entry, PIE_BASE + 0x1010);
	ck_assert_int_eq(p.seg[1].vaddr, PIE_BASE + 0x1000);
	ck_assert_int_eq(p.phdr, PIE_BASE + sizeof(Elf64_Ehdr));
}
END_TEST

START_TEST(test_dynamic_program_is_refused)
{
	make_exec();
	phdr(0)->p_type = PT_INTERP;
	ck_assert_str_eq(refusal(),
			 "it is dynamically linked; rebuild it with -static");
}
END_TEST

START_TEST(test_wrong_architecture_is_named)
{
	Elf64_Ehdr *eh = make_exec();
	eh->e_machine = EM_AARCH64;
	ck_assert_str_eq(refusal(), "it is built for arm64, not x86_64");
	eh->e_machine = 0x1234;
	ck_assert_str_eq(refusal(),
			 "it is built for another architecture, not x86_64");
	make_exec()->e_ident[EI_CLASS] = ELFCLASS32;
	ck_assert_str_eq(refusal(),
			 "it is a 32-bit program; Fresco runs x86_64 programs");
}
END_TEST

START_TEST(test_not_elf_and_wrong_types_are_refused)
{
	memcpy(img, "#!/bin/sh\n", 10);
	ck_assert_str_eq(refusal(), "it is not an ELF executable");
	make_exec()->e_type = ET_REL;
	ck_assert_str_eq(refusal(),
			 "it is an object file, not a linked program");
	make_exec()->e_type = ET_CORE;
	ck_assert_str_eq(refusal(), "it is a core dump, not a program");
	Elf64_Ehdr *eh = make_exec();
	eh->e_type = ET_DYN;
	eh->e_entry = 0;
	ck_assert_str_eq(refusal(), "it is a shared library, not a program");
}
END_TEST

START_TEST(test_truncated_file_is_refused)
{
	struct elf_plan p;
	const char *why;
	make_exec();
	ck_assert_int_eq(elf_plan(img, 40, &p, &why), -ENOEXEC);
	ck_assert_str_eq(why, "it is truncated (no complete ELF header)");
	ck_assert_int_eq(elf_plan(img, 0x1050, &p, &why), -ENOEXEC);
	ck_assert_str_eq(why, "it is truncated or corrupt "
			      "(a segment lies outside the file)");
	make_exec()->e_phnum = 1000;
	ck_assert_str_eq(refusal(), "its program headers are corrupt");
}
END_TEST

START_TEST(test_bad_segments_are_refused)
{
	make_exec();
	phdr(2)->p_filesz = 0x2000;
	phdr(2)->p_memsz = 0x1000;
	ck_assert_str_eq(refusal(), "it is truncated or corrupt "
				    "(a segment lies outside the file)");
	make_exec();
	phdr(2)->p_vaddr = 0x401000;
	phdr(2)->p_offset = 0x1000;
	ck_assert_str_eq(refusal(),
			 "its segments overlap or are not in address order");
	make_exec();
	phdr(2)->p_vaddr = 0xffffffff80003000ULL;
	ck_assert_str_eq(refusal(), "a segment lies outside user space");
	make_exec();
	phdr(2)->p_vaddr = 0x403010;
	ck_assert_str_eq(refusal(), "a segment is not page-aligned with its "
				    "file offset");
	make_exec()->e_entry = 0x500000;
	ck_assert_str_eq(refusal(), "its entry point is outside its segments");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("elf");
	TCase *t = tcase_create("elf");
	tcase_add_test(t, test_static_executable_is_planned_at_its_addresses);
	tcase_add_test(t, test_static_pie_is_planned_at_pie_base);
	tcase_add_test(t, test_dynamic_program_is_refused);
	tcase_add_test(t, test_wrong_architecture_is_named);
	tcase_add_test(t, test_not_elf_and_wrong_types_are_refused);
	tcase_add_test(t, test_truncated_file_is_refused);
	tcase_add_test(t, test_bad_segments_are_refused);
	suite_add_tcase(s, t);
	return unit_run(s);
}
