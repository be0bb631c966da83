/* mmio.h: a driver's register accesses to the device (d) under test, for
 * the unit tests of the monitor's virtio devices. */
#ifndef FRESCO_TEST_MMIO_H
#define FRESCO_TEST_MMIO_H

#include "virtio.h"

#include <string.h>

static struct virtio_dev *d;

static void wr(uint64_t off, uint32_t v)
{
	uint8_t b[8];
	memcpy(b, &v, 4);
	virtio_mmio_access(d, off, b, 4, 1);
}

static uint32_t rd(uint64_t off)
{
	uint8_t b[8] = {0};
	uint32_t v;
	virtio_mmio_access(d, off, b, 4, 0);
	memcpy(&v, b, 4);
	return v;
}

static void teardown(void)
{
	if (d)
		virtio_dev_free(d);
	d = NULL;
}

#endif
