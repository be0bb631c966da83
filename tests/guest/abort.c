/* abort.c: abort() ends the VM with 134 (128 + SIGABRT). */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
	printf("aborting\n");
	fflush(stdout);
	abort();
}
