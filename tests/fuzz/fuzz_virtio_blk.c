/* fuzz_virtio_blk.c: libFuzzer drives the monitor's virtio-mmio registers,
 * virtqueues and virtio-blk request parsing with arbitrary guest memory.
 *
 * Input: GUEST_MEM bytes that become guest RAM (rings, descriptors,
 * request headers, data: all the guest controls), then a program of
 * register accesses, 5 bytes each: an opcode byte and a 32-bit value.
 * Built with AddressSanitizer and UndefinedBehaviorSanitizer; a crash, a
 * hang (libFuzzer's -timeout) or an out-of-bounds access is a failure.
 */
#define _GNU_SOURCE
#include "mmio_ops.h"
#include "virtio.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define GUEST_MEM 16384
#define DISK (1 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int disk = -1;
	static uint8_t *ram;

	if (disk < 0) {
		disk = memfd_create("fuzz-disk", MFD_CLOEXEC);
		if (disk < 0 || ftruncate(disk, DISK) < 0)
			abort();
		ram = malloc(GUEST_MEM);
	}
	if (size < GUEST_MEM + 1)
		return 0;
	memcpy(ram, data, GUEST_MEM);
	struct guest_mem mem = {ram, GUEST_MEM};
	int readonly = data[GUEST_MEM] & 1;
	struct virtio_dev *d = virtio_blk_new("fuzz", disk, DISK, readonly,
					      "fuzz-serial", &mem);
	if (!d)
		abort();
	virtio_dev_place(d, 0);

	run_ops(d, data, size, GUEST_MEM + 1, NULL);
	virtio_dev_free(d);
	return 0;
}
