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

/* Reset, acknowledge, offer (features), FEATURES_OK: the status after
 * (FEATURES_OK, 8, stays only if the device accepted them). */
static uint32_t negotiate(uint64_t features)
{
	wr(0x70, 0);
	wr(0x70, 1);
	wr(0x70, 3);
	wr(0x24, 0);
	wr(0x20, (uint32_t)features);
	wr(0x24, 1);
	wr(0x20, (uint32_t)(features >> 32));
	wr(0x70, 11);
	return rd(0x70);
}

static void teardown(void)
{
	if (d)
		virtio_dev_free(d);
	d = NULL;
}

#endif
