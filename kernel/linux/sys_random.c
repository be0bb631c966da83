/* sys_random.c: getrandom and the kernel's random bytes.
 *
 * The source is the CPU's RDRAND where it has one (native at any
 * privilege), mixed with the TSC; without it, a xorshift generator seeded
 * from the TSC, which is not cryptographic: boot logs a warning.
 */
#include "linux/syscalls.h"
#include "arch/x86_64/x86.h"
#include <linux/random.h>

#define RDRAND_RETRIES 10
#define CHUNK 256

static int have_rdrand;
static uint64_t xs_state[2];

void random_init(void)
{
	uint32_t r[4];
	cpuid(1, 0, r);
	have_rdrand = (r[2] >> 30) & 1;
	xs_state[0] = rdtsc() | 1;
	xs_state[1] = rdtsc() * 0x9e3779b97f4a7c15ULL;
	if (!have_rdrand)
		klog("the CPU has no RDRAND: random numbers are not "
		     "cryptographically strong");
}

static uint64_t xorshift(void)
{
	uint64_t s1 = xs_state[0];
	const uint64_t s0 = xs_state[1];
	xs_state[0] = s0;
	s1 ^= s1 << 23;
	xs_state[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
	return xs_state[1] + s0;
}

static uint64_t random_word(void)
{
	if (have_rdrand) {
		for (int i = 0; i < RDRAND_RETRIES; i++) {
			uint64_t v;
			unsigned char ok;
			__asm__ volatile("rdrand %0; setc %1"
					 : "=r"(v), "=qm"(ok));
			if (ok)
				return v ^ rdtsc();
		}
	}
	return xorshift() ^ rdtsc();
}

void random_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;
	while (n) {
		uint64_t w = random_word();
		size_t k = n < sizeof(w) ? n : sizeof(w);
		memcpy(p, &w, k);
		p += k;
		n -= k;
	}
}

long sys_getrandom(uint64_t buf, uint64_t len, unsigned flags)
{
	unsigned char tmp[CHUNK];
	uint64_t done = 0;

	if (flags & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE))
		return -EINVAL;
	if ((flags & GRND_RANDOM) && (flags & GRND_INSECURE))
		return -EINVAL;
	if (len > 0x1ffffff) /* Linux returns at most 32 MiB - 1 */
		len = 0x1ffffff;
	while (done < len) {
		size_t n = len - done > CHUNK ? CHUNK : len - done;
		random_bytes(tmp, n);
		if (copy_to_user(buf + done, tmp, n) < 0)
			return done ? (long)done : -EFAULT;
		done += n;
	}
	return (long)done;
}
