/* virtio.c: virtio-mmio version 2 devices and split virtqueues, driver side
 * (virtio 1.x, 2.7 and 4.2). See virtio.h for how waiting works.
 */
#include "drivers/virtio.h"
#include "arch/x86_64/x86.h"

#define MAGIC 0x74726976 /* "virt" (virtio 1.x, 4.2.2) */

#define IOAPIC_BASE 0xfec00000ULL
/* Poll this long before halting for the interrupt: under kvm_pvm a halt
 * and the interrupt that ends it cost 100 us or more of emulated ring-0
 * work (KVM-HERE.md), more than most requests take. */
#define POLL_NS 100000ULL
#define DEVICE_TIMEOUT_NS 30000000000ULL /* then call the device dead */

static uint32_t rd(struct vdev *d, unsigned off)
{
	return *(volatile uint32_t *)(d->regs + off);
}

static void wr(struct vdev *d, unsigned off, uint32_t v)
{
	__asm__ volatile("" ::: "memory");
	*(volatile uint32_t *)(d->regs + off) = v;
	__asm__ volatile("" ::: "memory");
}

uint32_t vdev_config32(struct vdev *d, unsigned off)
{
	return rd(d, VIRTIO_MMIO_CONFIG + off);
}

uint64_t vdev_config64(struct vdev *d, unsigned off)
{
	return vdev_config32(d, off) | (uint64_t)vdev_config32(d, off + 4)
					       << 32;
}

/* Route IOAPIC pin (irq) to VIRTIO_VECTOR on CPU 0, edge-triggered. */
static void ioapic_route(unsigned irq)
{
	volatile uint32_t *sel = phys_to_virt(IOAPIC_BASE);
	volatile uint32_t *win = phys_to_virt(IOAPIC_BASE + 0x10);
	*sel = 0x10 + 2 * irq + 1;
	*win = 0; /* destination APIC 0 */
	*sel = 0x10 + 2 * irq;
	*win = VIRTIO_VECTOR;
}

static int vq_setup(struct vdev *d, unsigned qi)
{
	struct vq *q = &d->q[qi];

	wr(d, VIRTIO_MMIO_QUEUE_SEL, qi);
	uint32_t max = rd(d, VIRTIO_MMIO_QUEUE_NUM_MAX);
	if (max == 0 || rd(d, VIRTIO_MMIO_QUEUE_READY))
		return -EOPNOTSUPP;
	q->num = max < VIRTIO_QUEUE_SEGS ? (uint16_t)max : VIRTIO_QUEUE_SEGS;
	/* a page each: descriptors (16 * 256), the avail ring, the used ring */
	uint64_t p1 = phys_alloc(), p2 = phys_alloc(), p3 = phys_alloc();
	if (!p1 || !p2 || !p3)
		return -ENOMEM;
	q->desc = phys_to_virt(p1);
	q->avail = phys_to_virt(p2);
	q->used = phys_to_virt(p3);
	q->used_idx = (volatile uint16_t *)q->used + 1;
	q->avail_event = (volatile uint16_t *)(q->used + 1 + 2 * q->num);
	q->event_idx = !!(d->features & (1ULL << VIRTIO_RING_F_EVENT_IDX));
	q->avail_idx = q->last_used = q->kicked = 0;
	for (uint16_t i = 0; i < q->num; i++)
		q->desc[i].next = (uint16_t)(i + 1);
	q->free_head = 0;
	q->nfree = q->num;
	/* no interrupts until asked for */
	q->avail[2 + q->num] = (uint16_t)(q->last_used - 1);
	wr(d, VIRTIO_MMIO_QUEUE_NUM, q->num);
	wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)p1);
	wr(d, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(p1 >> 32));
	wr(d, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)p2);
	wr(d, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, (uint32_t)(p2 >> 32));
	wr(d, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)p3);
	wr(d, VIRTIO_MMIO_QUEUE_USED_HIGH, (uint32_t)(p3 >> 32));
	wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	return 0;
}

int vdev_probe(struct vdev *d, const struct boot_virtio *bv)
{
	if (bv->addr + bv->size > DIRECT_MAP_SIZE ||
	    bv->size < VIRTIO_MMIO_CONFIG)
		return -ENODEV;
	d->regs = phys_to_virt(bv->addr);
	d->irq = bv->irq;
	if (rd(d, VIRTIO_MMIO_MAGIC_VALUE) != MAGIC)
		return -ENODEV;
	if (rd(d, VIRTIO_MMIO_VERSION) != 2)
		return -EOPNOTSUPP;
	d->device_id = rd(d, VIRTIO_MMIO_DEVICE_ID);
	if (d->device_id == 0)
		return -ENODEV; /* a transport with no device behind it */
	return 0;
}

uint64_t vdev_offered(struct vdev *d)
{
	wr(d, VIRTIO_MMIO_STATUS, 0);
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	wr(d, VIRTIO_MMIO_STATUS,
	   VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint64_t offered = rd(d, VIRTIO_MMIO_DEVICE_FEATURES);
	wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	return offered | (uint64_t)rd(d, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
}

int vdev_init(struct vdev *d, uint64_t want, unsigned nq)
{
	uint64_t offered = vdev_offered(d);
	want |= (1ULL << VIRTIO_F_VERSION_1) |
		(1ULL << VIRTIO_RING_F_EVENT_IDX);
	d->features = offered & want;
	if (!(d->features & (1ULL << VIRTIO_F_VERSION_1)))
		return -EOPNOTSUPP;
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)d->features);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(d->features >> 32));
	wr(d, VIRTIO_MMIO_STATUS,
	   VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		   VIRTIO_CONFIG_S_FEATURES_OK);
	if (!(rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK))
		return -EOPNOTSUPP;
	for (unsigned qi = 0; qi < nq && qi < 2; qi++) {
		int r = vq_setup(d, qi);
		if (r < 0) {
			wr(d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_FAILED);
			return r;
		}
	}
	ioapic_route(d->irq);
	wr(d, VIRTIO_MMIO_STATUS,
	   VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		   VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	return 0;
}

static int need_event(uint16_t event, uint16_t now, uint16_t old)
{
	return (uint16_t)(now - event - 1) < (uint16_t)(now - old);
}

long vq_call(struct vdev *d, const struct vseg *segs, unsigned n)
{
	struct vq *q = &d->q[0];

	if (n == 0 || n > q->num)
		return -EINVAL;
	/* one request at a time: the chain always starts at descriptor 0 */
	for (unsigned i = 0; i < n; i++) {
		q->desc[i] = (struct vring_desc){
			.addr = segs[i].pa,
			.len = segs[i].len,
			.flags =
				(uint16_t)((i + 1 < n ? VRING_DESC_F_NEXT : 0) |
					   (segs[i].write ? VRING_DESC_F_WRITE
							  : 0)),
			.next = (uint16_t)(i + 1),
		};
	}
	uint16_t old = q->avail_idx;
	q->avail[2 + old % q->num] = 0;
	/* no interrupt while we poll */
	q->avail[2 + q->num] = (uint16_t)(q->last_used - 1);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	q->avail_idx++;
	q->avail[1] = q->avail_idx;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!q->event_idx || need_event(*q->avail_event, q->avail_idx, old))
		wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);

	uint64_t start = clock_monotonic_ns();
	while (*q->used_idx == q->last_used &&
	       clock_monotonic_ns() - start < POLL_NS)
		cpu_relax();
	while (*q->used_idx == q->last_used) {
		/* ask for the interrupt, then check once more and sleep */
		q->avail[2 + q->num] = q->last_used;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		uint64_t now = clock_monotonic_ns();
		if (now - start > DEVICE_TIMEOUT_NS ||
		    (rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET)) {
			klog("virtio device at irq %u stopped answering",
			     d->irq);
			return -EIO;
		}
		clock_wait_change(q->used_idx, q->last_used, now + 1000000000);
	}
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	uint32_t len = q->used[1 + 2 * (q->last_used % q->num) + 1];
	q->last_used++;
	return len;
}

int vq_add(struct vdev *d, unsigned qi, const struct vseg *segs, unsigned n)
{
	struct vq *q = &d->q[qi];
	if (n == 0 || n > q->nfree)
		return -ENOSPC;
	uint16_t head = q->free_head, i = head;
	for (unsigned k = 0; k < n; k++) {
		struct vring_desc *desc = &q->desc[i];
		uint16_t next = desc->next;
		desc->addr = segs[k].pa;
		desc->len = segs[k].len;
		desc->flags =
			(uint16_t)((k + 1 < n ? VRING_DESC_F_NEXT : 0) |
				   (segs[k].write ? VRING_DESC_F_WRITE : 0));
		if (k + 1 < n)
			i = next;
		else
			q->free_head = next;
	}
	q->nfree = (uint16_t)(q->nfree - n);
	q->avail[2 + q->avail_idx % q->num] = head;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	q->avail_idx++;
	q->avail[1] = q->avail_idx;
	return head;
}

void vq_kick(struct vdev *d, unsigned qi)
{
	struct vq *q = &d->q[qi];
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	/* the device asked to hear once the driver passes avail_event: only
	 * the kick whose buffers pass it tells, not every one after it
	 * until the device looks again (a write the hypervisor emulates,
	 * 2.5 us under kvm_pvm) */
	uint16_t old = q->kicked;
	q->kicked = q->avail_idx;
	if (!q->event_idx || need_event(*q->avail_event, q->avail_idx, old))
		wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, qi);
}

int vq_take(struct vdev *d, unsigned qi, uint32_t *len)
{
	struct vq *q = &d->q[qi];
	(void)d;
	if (*q->used_idx == q->last_used)
		return -1;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	unsigned slot = 1 + 2 * (q->last_used % q->num);
	uint32_t head = q->used[slot];
	*len = q->used[slot + 1];
	q->last_used++;
	if (head >= q->num)
		return -1; /* a device bug: never trust it with our memory */
	/* the chain's descriptors go back on the free list */
	uint16_t i = (uint16_t)head, n = 1;
	while ((q->desc[i].flags & VRING_DESC_F_NEXT) && n < q->num) {
		i = q->desc[i].next;
		n++;
	}
	q->desc[i].next = q->free_head;
	q->free_head = (uint16_t)head;
	q->nfree = (uint16_t)(q->nfree + n);
	return (int)head;
}

void vq_interrupts(struct vdev *d, unsigned qi, int on)
{
	struct vq *q = &d->q[qi];
	(void)d;
	q->avail[2 + q->num] = on ? q->last_used : (uint16_t)(q->last_used - 1);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void vq_wait(struct vdev *d, unsigned qi, uint64_t deadline, uint64_t poll_ns)
{
	struct vq *q = &d->q[qi];
	uint64_t until = clock_monotonic_ns() + poll_ns;
	if (until > deadline)
		until = deadline;
	while (*q->used_idx == q->last_used && !host_events &&
	       clock_monotonic_ns() < until)
		cpu_relax();
	if (*q->used_idx != q->last_used || host_events ||
	    clock_monotonic_ns() >= deadline)
		return;
	vq_interrupts(d, qi, 1);
	clock_wait_change(q->used_idx, q->last_used, deadline);
	vq_interrupts(d, qi, 0);
}

void virtio_probe_all(const struct boot_args *a)
{
	for (int i = 0; i < a->nvirtio; i++) {
		struct vdev d = {0};
		int r = vdev_probe(&d, &a->virtio[i]);
		if (r == -ENODEV)
			continue;
		if (r == 0 && d.device_id == VIRTIO_ID_BLOCK)
			r = blk_attach(&d);
		else if (r == 0 && d.device_id == VIRTIO_ID_NET)
			r = net_attach(&d);
		if (r < 0)
			klog("virtio device at %#lx: %s; skipped",
			     a->virtio[i].addr,
			     r == -EOPNOTSUPP ? "not a virtio 1.x version-2 "
						"MMIO device"
			     : r == -ENOSPC   ? "one too many"
					      : "out of memory");
	}
}
