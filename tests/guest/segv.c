/* segv.c: a program fault with no handler ends the VM with 128 + signal.
 * The argument picks the fault. */
#include <stdio.h>
#include <string.h>

static void (*volatile jump)(void);
static volatile int zero;

int main(int argc, char **argv)
{
	const char *how = argc > 1 ? argv[1] : "null-write";
	unsigned char stack_code[16] = {0xc3}; /* ret */

	printf("faulting: %s\n", how);
	fflush(stdout);
	if (strcmp(how, "null-write") == 0)
		*(volatile int *)0 = 1;
	else if (strcmp(how, "exec-stack") == 0)
		jump = (void (*)(void))stack_code, jump();
	else if (strcmp(how, "write-text") == 0)
		*(volatile unsigned char *)(void *)main = 0;
	else if (strcmp(how, "ud2") == 0)
		__asm__ volatile("ud2");
	else if (strcmp(how, "divide") == 0) {
		unsigned n = 1, d = (unsigned)zero;
		/* an explicit div: compilers may turn 1 / x into a compare */
		__asm__ volatile("xorl %%edx, %%edx; divl %1"
				 : "+a"(n)
				 : "r"(d)
				 : "rdx");
		printf("%u\n", n);
	}
	printf("still running\n");
	return 0;
}
