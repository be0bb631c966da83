/* args.c: argv, envp and the auxiliary vector as the kernel builds them.
 * Run as: args one "two words" "" with FOO=bar in the environment. */
#include "guest.h"

#include <elf.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/auxv.h>

extern char **environ;
extern const char __ehdr_start[];
void _start(void);

/* The auxiliary vector as the kernel wrote it, past envp's NULL: the C
 * library's getauxval may report its own idea of some entries. */
static unsigned long raw_aux(char **envp, unsigned long type)
{
	while (*envp)
		envp++;
	for (unsigned long *a = (unsigned long *)(envp + 1); a[0]; a += 2)
		if (a[0] == type)
			return a[1];
	return 0;
}

int main(int argc, char **argv, char **envp)
{
	CHECK(argc == 4, "argc is 4 (got %d)", argc);
	CHECK(argc > 0 && strcmp(argv[0], "/args") == 0,
	      "argv[0] is the program's path (%s)", argc > 0 ? argv[0] : "");
	CHECK(argc > 1 && strcmp(argv[1], "one") == 0, "argv[1]");
	CHECK(argc > 2 && strcmp(argv[2], "two words") == 0,
	      "argv[2] keeps its space");
	CHECK(argc > 3 && strcmp(argv[3], "") == 0, "argv[3] is empty");
	CHECK(argv[argc] == NULL, "argv is NULL-terminated");
	CHECK(getenv("FOO") && strcmp(getenv("FOO"), "bar") == 0,
	      "FOO=bar is in the environment");
	CHECK(getenv("PATH") != NULL, "PATH is set");
	CHECK(getenv("NOT_SET") == NULL, "unset variables are absent");

	CHECK(getauxval(AT_PAGESZ) == 4096, "AT_PAGESZ is 4096");
	CHECK(getauxval(AT_CLKTCK) == 100, "AT_CLKTCK is 100");
	CHECK(getauxval(AT_PHENT) == sizeof(Elf64_Phdr), "AT_PHENT");
	CHECK(getauxval(AT_PHNUM) > 0, "AT_PHNUM");
	CHECK(getauxval(AT_PHDR) ==
		      (uintptr_t)__ehdr_start +
			      ((const Elf64_Ehdr *)__ehdr_start)->e_phoff,
	      "AT_PHDR points at the loaded program headers");
	CHECK(getauxval(AT_ENTRY) == (uintptr_t)_start, "AT_ENTRY is _start");
	CHECK(getauxval(AT_UID) == 0 && getauxval(AT_EUID) == 0 &&
		      getauxval(AT_GID) == 0 && getauxval(AT_EGID) == 0,
	      "AT_UID, AT_EUID, AT_GID, AT_EGID are root");
	CHECK(getauxval(AT_SECURE) == 0, "AT_SECURE is 0");
	CHECK(raw_aux(envp, AT_HWCAP) & (1u << 25),
	      "AT_HWCAP is CPUID.1:EDX (has SSE)");
	const char *execfn = (const char *)getauxval(AT_EXECFN);
	CHECK(execfn && strcmp(execfn, "/args") == 0, "AT_EXECFN");
	const char *plat = (const char *)getauxval(AT_PLATFORM);
	CHECK(plat && strcmp(plat, "x86_64") == 0, "AT_PLATFORM is x86_64");
	const unsigned char *rnd = (const unsigned char *)getauxval(AT_RANDOM);
	int nonzero = 0;
	for (int i = 0; rnd && i < 16; i++)
		nonzero |= rnd[i];
	CHECK(rnd && nonzero, "AT_RANDOM points at 16 random bytes");
	return guest_done("args");
}
