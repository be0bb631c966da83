/* blkbench.c: file I/O throughput, run in a guest on a volume and natively
 * on the host on the volume's backing file (bench/blk.py).
 *
 *   blkbench seqwrite FILE MIB    write MIB MiB in 1 MiB writes, fsync
 *   blkbench seqread FILE MIB     read the first MIB MiB in 1 MiB reads
 *   blkbench randread FILE MIB N  N reads of 4 KiB at random 4 KiB-aligned
 *                                 offsets in the first MIB MiB
 * Prints one line: the operation and MiB/s (or IOPS).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MIB (1 << 20)

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static char buf[MIB];

int main(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	const char *mode = argv[1], *file = argv[2];
	long mib = atol(argv[3]);
	double t0, t;

	if (!strcmp(mode, "seqwrite")) {
		int fd = open(file, O_CREAT | O_WRONLY | O_TRUNC, 0644);
		if (fd < 0)
			return perror(file), 1;
		memset(buf, 0x5a, sizeof(buf));
		t0 = now();
		for (long i = 0; i < mib; i++)
			if (write(fd, buf, MIB) != MIB)
				return perror("write"), 1;
		if (fsync(fd) < 0)
			return perror("fsync"), 1;
		t = now() - t0;
		printf("seqwrite_mib_s %.1f\n", (double)mib / t);
	} else if (!strcmp(mode, "seqread")) {
		int fd = open(file, O_RDONLY);
		if (fd < 0)
			return perror(file), 1;
		t0 = now();
		for (long i = 0; i < mib; i++)
			if (read(fd, buf, MIB) != MIB)
				return perror("read"), 1;
		t = now() - t0;
		printf("seqread_mib_s %.1f\n", (double)mib / t);
	} else if (!strcmp(mode, "randread") && argc > 4) {
		long n = atol(argv[4]);
		uint64_t x = 88172645463325252ULL, blocks = (uint64_t)mib * 256;
		int fd = open(file, O_RDONLY);
		if (fd < 0)
			return perror(file), 1;
		t0 = now();
		for (long i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			if (pread(fd, buf, 4096, (off_t)(x % blocks) * 4096) !=
			    4096)
				return perror("pread"), 1;
		}
		t = now() - t0;
		printf("randread_iops %.0f\n", (double)n / t);
	} else {
		return 2;
	}
	return 0;
}
