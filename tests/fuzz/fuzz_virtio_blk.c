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
#include "virtio.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define GUEST_MEM 16384
#define DISK (1 << 20)

/* the registers a driver touches, so most ops hit something */
static const uint16_t regs[] = {
	0x000, 0x004, 0x008, 0x010, 0x014, 0x020, 0x024, 0x030, 0x034,
	0x038, 0x044, 0x050, 0x060, 0x064, 0x070, 0x080, 0x084, 0x090,
	0x094, 0x0a0, 0x0a4, 0x0fc, 0x100, 0x108, 0x10c, 0x114,
};

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

	for (size_t at = GUEST_MEM + 1; at + 5 <= size; at += 5) {
		uint8_t op = data[at];
		uint32_t v;
		memcpy(&v, data + at + 1, 4);
		uint8_t buf[8];
		memcpy(buf, &v, 4);
		uint64_t off = regs[(op & 0x7f) % (sizeof(regs) / 2)];
		if (op & 0x80)
			virtio_mmio_access(d, off, buf, 4, 0); /* read */
		else if ((op & 0x7f) >= sizeof(regs) / 2)
			virtio_mmio_access(d, v & 0x1ff, buf, 1 + (op & 7), 1);
		else
			virtio_mmio_access(d, off, buf, 4, 1);
	}
	virtio_dev_free(d);
	return 0;
}
