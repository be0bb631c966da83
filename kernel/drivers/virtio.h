/* virtio.h: the guest's virtio-mmio (version 2) driver core and its block
 * driver.
 *
 * Devices are found from the kernel command line (virtio_mmio.device=,
 * the Linux convention that fresco's monitor, QEMU's microvm and
 * Firecracker all write). Everything runs in the single syscall context:
 * a request is made, the device is notified through its QueueNotify
 * register (an ioeventfd under fresco: no exit to the monitor), the driver
 * polls the used ring for a moment and then halts until the device's
 * interrupt (or spins where no LAPIC timer can bound the halt).
 */
#ifndef FRESCO_DRIVERS_VIRTIO_H
#define FRESCO_DRIVERS_VIRTIO_H

#include "kernel.h"
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#define VIRTIO_VECTOR 0x41    /* IOAPIC pins of virtio devices land here */
#define VIRTIO_QUEUE_SEGS 256 /* descriptors per queue, at most */

struct vq {
	uint16_t num;
	struct vring_desc *desc;
	volatile uint16_t *avail;	/* flags, idx, ring[num], used_event */
	volatile uint32_t *used;	/* flags|idx, ring[num] {id, len} */
	volatile uint16_t *used_idx;	/* &used->idx */
	volatile uint16_t *avail_event; /* &used->ring[num] */
	uint16_t avail_idx, last_used;
	uint16_t kicked; /* avail_idx as the last vq_kick found it */
	int event_idx;
	uint16_t free_head, nfree; /* descriptors for vq_add */
};

struct vdev {
	volatile uint8_t *regs;
	uint32_t device_id;
	uint64_t features; /* negotiated */
	unsigned irq;
	struct vq q[2];
};

/* Bring up the device at (bv): reset, negotiate (want) of what it
 * offers (VERSION_1 is required and added), set up (nq) queues (1 or 2),
 * DRIVER_OK. 0, -ENODEV (nothing there), -EOPNOTSUPP (not virtio 1.x over
 * version-2 MMIO, or features refused), -ENOMEM. */
int vdev_probe(struct vdev *d, const struct boot_virtio *bv);
int vdev_init(struct vdev *d, uint64_t want, unsigned nq);
/* The features the device offers (it is reset first: before vdev_init). */
uint64_t vdev_offered(struct vdev *d);
uint32_t vdev_config32(struct vdev *d, unsigned off);
uint64_t vdev_config64(struct vdev *d, unsigned off);

/* One buffer of a request: guest-physical, device-writable or not. */
struct vseg {
	uint64_t pa;
	uint32_t len;
	int write;
};

/* Queue a chain of (n) segments on queue 0 and notify the device; then
 * wait for it to come back. Returns the length the device wrote, or -EIO
 * if the device stopped answering (the message says which). One chain at
 * a time: for devices that use nothing else on that queue. */
long vq_call(struct vdev *d, const struct vseg *segs, unsigned n);

/* Several chains in flight (network queues): add one (its head, or
 * -ENOSPC), notify the device of what was added, take back the next
 * used chain (its head and the length written, or -1 for none). */
int vq_add(struct vdev *d, unsigned qi, const struct vseg *segs, unsigned n);
void vq_kick(struct vdev *d, unsigned qi);
int vq_take(struct vdev *d, unsigned qi, uint32_t *len);
/* Interrupt on the next used chain of queue (qi), or not. */
void vq_interrupts(struct vdev *d, unsigned qi, int on);
/* Wait until queue (qi) has a used chain, or (deadline) passes: watch
 * it for (poll_ns) first, then halt until the device's interrupt. */
void vq_wait(struct vdev *d, unsigned qi, uint64_t deadline, uint64_t poll_ns);

/* ---- block devices (virtio_blk.c) ---- */

#define BLK_SECTOR 512
#define BLK_MAX 8

struct blkdev {
	char name[8]; /* vda, vdb, ... */
	uint64_t sectors;
	int readonly;
	unsigned seg_max; /* data segments per request */
	struct vdev v;
	struct blk_hdr *hdr; /* a page: header, then the status byte */
	uint64_t hdr_pa;
};

/* Probe every virtio_mmio.device of (a); block devices become vda, vdb,
 * ... in command-line order, a network device the interface. Devices that
 * fail are reported and skipped. */
void virtio_probe_all(const struct boot_args *a);
/* Take a probed device of that kind: 0 or -errno. */
int blk_attach(const struct vdev *probed);
int net_attach(const struct vdev *probed);
struct blkdev *blk_find(const char *name);

/* Read or write (n) segments (page-sized or smaller, each a multiple of
 * 512 bytes) at (sector). 0, -EIO, -EROFS. At most seg_max segments. */
int blk_rw(struct blkdev *b, int write, uint64_t sector,
	   const struct vseg *segs, unsigned n);
int blk_flush(struct blkdev *b);

#endif
