/* random.c: getrandom and AT_RANDOM. */
#include "guest.h"

#include <sys/auxv.h>
#include <sys/random.h>

int main(void)
{
	unsigned char a[64], b[64];
	static unsigned char big[100000];

	CHECK(getrandom(a, sizeof(a), 0) == sizeof(a), "getrandom 64 bytes");
	CHECK(getrandom(b, sizeof(b), GRND_NONBLOCK) == sizeof(b),
	      "getrandom with GRND_NONBLOCK");
	CHECK(memcmp(a, b, sizeof(a)) != 0, "two draws differ");
	CHECK(memcmp(a, (void *)getauxval(AT_RANDOM), 16) != 0,
	      "and differ from AT_RANDOM");
	CHECK(getrandom(big, sizeof(big), 0) == sizeof(big),
	      "getrandom 100000 bytes");
	int counts[256] = {0}, worst = 0;
	for (size_t i = 0; i < sizeof(big); i++)
		counts[big[i]]++;
	for (int i = 0; i < 256; i++)
		if (counts[i] > worst)
			worst = counts[i];
	/* expected 390 per value; 600 is over 10 standard deviations away */
	CHECK(worst < 600, "bytes are spread evenly (most common: %d)", worst);
	CHECK(getrandom(a, 0, 0) == 0, "getrandom of 0 bytes");
	CHECK(RAW3(SYS_getrandom, a, 8, GRND_RANDOM | GRND_INSECURE) == -EINVAL,
	      "GRND_RANDOM with GRND_INSECURE is EINVAL");
	return guest_done("random");
}
