/* mmio_ops.h: the register program the virtio fuzz targets run: 5-byte
 * ops (an opcode byte and a 32-bit value) read or write the registers a
 * driver touches, or write 1-8 bytes anywhere in the device's window;
 * opcodes a target claims (extra) do what it wants with the value. */
#ifndef FRESCO_FUZZ_MMIO_OPS_H
#define FRESCO_FUZZ_MMIO_OPS_H

#include "virtio.h"

#include <string.h>

/* the registers a driver touches, so most ops hit something */
static const uint16_t regs[] = {
	0x000, 0x004, 0x008, 0x010, 0x014, 0x020, 0x024, 0x030, 0x034,
	0x038, 0x044, 0x050, 0x060, 0x064, 0x070, 0x080, 0x084, 0x090,
	0x094, 0x0a0, 0x0a4, 0x0fc, 0x100, 0x108, 0x10c, 0x114,
};

static void run_ops(struct virtio_dev *d, const uint8_t *data, size_t size,
		    size_t at,
		    int (*extra)(struct virtio_dev *d, uint8_t op, uint32_t v))
{
	for (; at + 5 <= size; at += 5) {
		uint8_t op = data[at];
		uint32_t v;
		memcpy(&v, data + at + 1, 4);
		if (extra && extra(d, op, v))
			continue;
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
}

#endif
