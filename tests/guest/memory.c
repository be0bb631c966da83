/* memory.c: brk and anonymous mmap, munmap, mprotect, mremap, madvise. */
#define _GNU_SOURCE
#include "guest.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#define MiB (1024 * 1024)

static int all_bytes(const unsigned char *p, size_t n, unsigned char v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

int main(void)
{
	/* brk */
	uintptr_t b0 = (uintptr_t)RAW1(SYS_brk, 0);
	CHECK(b0 > 0x400000, "brk starts above the program (%#lx)",
	      (unsigned long)b0);
	uintptr_t b1 = (uintptr_t)RAW1(SYS_brk, b0 + 3 * MiB + 5);
	CHECK(b1 == b0 + 3 * MiB + 5, "brk grows by 3 MiB");
	memset((void *)b0, 0xab, 3 * MiB);
	CHECK(all_bytes((void *)b0, 3 * MiB, 0xab),
	      "grown brk memory holds data");
	CHECK((uintptr_t)RAW1(SYS_brk, b0 + 4096) == b0 + 4096, "brk shrinks");
	CHECK((uintptr_t)RAW1(SYS_brk, b0 + 2 * 4096) == b0 + 2 * 4096,
	      "brk grows again");
	CHECK(all_bytes((void *)(b0 + 4096), 4096, 0),
	      "memory given back and regrown reads as zeros");
	CHECK((uintptr_t)RAW1(SYS_brk, 0x7ffffffff000UL) == b0 + 2 * 4096,
	      "an impossible brk returns the old break");
	CHECK((uintptr_t)RAW1(SYS_brk, 1) == b0 + 2 * 4096,
	      "a brk below the start returns the old break");

	/* mmap and munmap */
	unsigned char *m = mmap(NULL, 4 * MiB, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED, "mmap 4 MiB");
	CHECK(((uintptr_t)m & 4095) == 0, "mmap is page-aligned");
	CHECK(all_bytes(m, 4 * MiB, 0), "fresh anonymous memory is zero");
	memset(m, 0x5a, 4 * MiB);
	CHECK(munmap(m + MiB, MiB) == 0, "munmap a hole in the middle");
	unsigned char *again =
		mmap(m + MiB, MiB, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK(again == m + MiB, "MAP_FIXED fills the hole");
	CHECK(all_bytes(again, MiB, 0) && all_bytes(m, MiB, 0x5a) &&
		      all_bytes(m + 2 * MiB, 2 * MiB, 0x5a),
	      "the refilled hole is zero, its neighbours kept their data");
	CHECK(mmap(m, 4096, PROT_READ,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1,
		   0) == MAP_FAILED &&
		      errno == EEXIST,
	      "MAP_FIXED_NOREPLACE over a mapping is EEXIST");
	CHECK(RAW6(SYS_mmap, 0, 0, 3, 0x22, -1, 0) == -EINVAL,
	      "mmap of 0 bytes is EINVAL");
	CHECK(RAW6(SYS_mmap, 0, 4096, 3, 0x20, -1, 0) == -EINVAL,
	      "mmap without MAP_PRIVATE or MAP_SHARED is EINVAL");
	CHECK(RAW2(SYS_munmap, m + 1, 4096) == -EINVAL,
	      "munmap of an unaligned address is EINVAL");
	CHECK(munmap(m, 4 * MiB) == 0, "munmap all of it");

	/* PROT_NONE reservations made usable with mprotect */
	unsigned char *r =
		mmap(NULL, 8 * MiB, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK(r != MAP_FAILED, "reserve 8 MiB with PROT_NONE");
	CHECK(mprotect(r, MiB, PROT_READ | PROT_WRITE) == 0,
	      "mprotect part of it read-write");
	memset(r, 1, MiB);
	CHECK(all_bytes(r, MiB, 1), "the opened part holds data");
	CHECK(mprotect(r, MiB, PROT_READ) == 0, "mprotect it read-only");
	CHECK(all_bytes(r, MiB, 1), "read-only memory keeps its data");
	CHECK(RAW3(SYS_getrandom, r, 16, 0) == -EFAULT && all_bytes(r, 16, 1),
	      "the kernel does not write into read-only memory");
	CHECK(RAW3(SYS_mprotect, (uintptr_t)r + 16 * MiB, 4096, 3) == -ENOMEM,
	      "mprotect of unmapped memory is ENOMEM");
	CHECK(munmap(r, 8 * MiB) == 0, "munmap the reservation");

	/* mremap */
	/* reserve room, then place a mapping and a page right after it */
	unsigned char *g = mmap(NULL, MiB + 4096, PROT_NONE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(g, MiB + 4096);
	g = mmap(g, MiB, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	memset(g, 7, MiB);
	unsigned char *blocker =
		mmap(g + MiB, 4096, PROT_READ,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	CHECK(blocker == g + MiB, "map a page right after");
	CHECK(mremap(g, MiB, 2 * MiB, 0) == MAP_FAILED && errno == ENOMEM,
	      "mremap cannot grow in place without MREMAP_MAYMOVE");
	unsigned char *h = mremap(g, MiB, 3 * MiB, MREMAP_MAYMOVE);
	CHECK(h != MAP_FAILED && h != g, "mremap moves to grow");
	CHECK(h != MAP_FAILED && all_bytes(h, MiB, 7) &&
		      all_bytes(h + MiB, 2 * MiB, 0),
	      "moved memory keeps its data, the growth is zero");
	CHECK(mremap(h, 3 * MiB, MiB, 0) == h, "mremap shrinks in place");
	CHECK(madvise(h, MiB, MADV_DONTNEED) == 0 && all_bytes(h, MiB, 0),
	      "MADV_DONTNEED makes anonymous memory read as zeros");
	CHECK(madvise(h, MiB, 12345) == -1 && errno == EINVAL,
	      "madvise with unknown advice is EINVAL");

	/* the C library's allocators on top of all this */
	void *big = malloc(20 * MiB);
	CHECK(big != NULL, "malloc 20 MiB");
	memset(big, 3, 20 * MiB);
	free(big);
	int ok = 1;
	for (int i = 0; i < 2000; i++) {
		char *p = malloc((size_t)(i * 37 % 5000) + 1);
		if (!p)
			ok = 0;
		else
			p[0] = 1;
		if (i % 3)
			free(p);
	}
	CHECK(ok, "2000 small mallocs");
	return guest_done("memory");
}
