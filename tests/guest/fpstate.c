/* fpstate.c: a signal handler that uses vector registers must not change
 * them for the code it interrupted: the kernel saves the whole XSAVE
 * state (AVX included) in the signal frame, as Linux does. */
#define _GNU_SOURCE
#define GUEST_SIGNALS
#include "guest.h"

#include <cpuid.h>
#include <stdint.h>
#include <ucontext.h>

static volatile int fired;

/* Skip the ud2 (2 bytes) after clobbering the vector registers, as a
 * handler's memset or printf may well do. */
static void clobber(int sig, siginfo_t *si, void *ucp)
{
	ucontext_t *uc = ucp;
	(void)sig;
	(void)si;
	__asm__ volatile("vpcmpeqd %%ymm0, %%ymm0, %%ymm0\n\t"
			 "vpcmpeqd %%ymm1, %%ymm1, %%ymm1" ::
				 : "xmm0", "xmm1");
	uc->uc_mcontext.gregs[REG_RIP] += 2;
	fired = 1;
}

static int have_avx(void)
{
	unsigned a, b, c, d;
	if (!__get_cpuid(1, &a, &b, &c, &d))
		return 0;
	return (c & bit_AVX) && (c & bit_OSXSAVE);
}

int main(void)
{
	CHECK(have_avx(), "the CPU offers AVX with OSXSAVE");
	if (!have_avx())
		return guest_done("fpstate");
	guest_on_signal(SIGILL, clobber, 0);

	/* a pattern live in all of ymm0 when the program faults */
	uint64_t out[4] = {0}, pattern = 0x0123456789abcdefULL;
	__asm__ volatile("vmovq %[p], %%xmm0\n\t"
			 "vpbroadcastq %%xmm0, %%ymm0\n\t"
			 "ud2\n\t"
			 "vmovdqu %%ymm0, %[out]"
			 : [out] "=m"(out)
			 : [p] "r"(pattern)
			 : "xmm0", "memory");
	CHECK(fired, "the SIGILL handler ran");
	CHECK(out[0] == pattern && out[1] == pattern,
	      "the low half of ymm0 is intact after the handler");
	CHECK(out[2] == pattern && out[3] == pattern,
	      "the high half of ymm0 is intact after the handler (%016llx)",
	      (unsigned long long)out[2]);
	return guest_done("fpstate");
}
