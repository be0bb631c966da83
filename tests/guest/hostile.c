/* hostile.c: a program that attacks the monitor through the hypercall
 * page with malformed requests. Under kvm_pvm (ring-3 mode) kernel memory
 * is reachable, so the requests arrive and the monitor must refuse them
 * and end the VM with 125 at the bogus panic; in ring-0 mode the first
 * touch of kernel memory must be a SIGSEGV. */
#include <stdint.h>
#include <stdio.h>

#define HC_PAGE 0xffffff80feb00000UL /* DIRECT_MAP + FRESCO_HC_BASE */
#define HC(off) (*(volatile uint64_t *)(HC_PAGE + (off)))

struct hc_io {
	uint64_t gpa, len;
	uint32_t fd, pad;
	int64_t result;
};

int main(void)
{
	/* requests must be guest-physical: find ours through the kernel's
	 * direct map, whose physical address is our virtual one minus the
	 * base only for kernel memory; use addresses the monitor must refuse */
	static const uint64_t bad[] = {0, 1ULL << 40, UINT64_MAX - 7,
				       0xfeb00000, UINT64_MAX};
	printf("attacking\n");
	fflush(stdout);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		HC(0x08) = bad[i];	   /* write: request outside memory */
		HC(0x10) = bad[i];	   /* read */
		HC(0x18) = bad[i];	   /* log */
		HC(0x28 + 8 * i) = bad[i]; /* registers that do not exist */
	}
	/* a request inside memory whose buffer is not */
	struct hc_io *io = (struct hc_io *)(0xffffff8000000000UL + 0x1000);
	io->gpa = UINT64_MAX - 100;
	io->len = 1000;
	io->fd = 1;
	HC(0x08) = 0x1000;
	printf("monitor answered %lld to a write from outside memory\n",
	       (long long)io->result);
	io->gpa = 0;
	io->len = 16;
	io->fd = 7;
	HC(0x08) = 0x1000;
	printf("monitor answered %lld to a write to fd 7\n",
	       (long long)io->result);
	fflush(stdout);
	HC(0x20) = UINT64_MAX; /* a panic report outside memory */
	printf("still running after a bogus panic\n");
	return 0;
}
