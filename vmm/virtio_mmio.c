/* virtio_mmio.c: the virtio-mmio version 2 transport (virtio 1.x, 4.2).
 *
 * Register accesses are MMIO exits served on the vCPU thread. QueueNotify
 * is an ioeventfd, so a notification costs the guest no exit to the
 * monitor: the device's I/O thread wakes on it, serves the queues and
 * raises the device's IOAPIC pin through an irqfd.
 */
#define _GNU_SOURCE
#include "virtio.h"

#include <errno.h>
#include <linux/kvm.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define MAGIC 0x74726976  /* "virt" */
#define VENDOR 0x46524553 /* "FRES" */

void virtio_dev_init(struct virtio_dev *d, const struct virtio_ops *ops,
		     const char *name, void *priv, const struct guest_mem *mem,
		     uint64_t features)
{
	d->ops = ops;
	d->name = name;
	d->priv = priv;
	d->mem = mem;
	d->irq_fd = d->kick_fd = d->stop_fd = -1;
	d->features = features;
}

void virtio_fail(struct virtio_dev *d, const char *why)
{
	d->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	for (unsigned i = 0; i < d->ops->nqueues; i++)
		d->q[i].ready = 0;
	if (!d->said_broken) {
		d->said_broken = 1;
		fprintf(stderr,
			"fresco: %s: the guest's driver broke the device (%s); "
			"it is stopped until the driver resets it\n",
			d->name, why);
	}
	__atomic_fetch_or(&d->isr, VIRTIO_MMIO_INT_CONFIG, __ATOMIC_SEQ_CST);
	uint64_t one = 1;
	if (d->irq_fd >= 0 && write(d->irq_fd, &one, 8) < 0)
		(void)0; /* the irqfd counter cannot overflow in practice */
}

long virtio_drain(struct virtio_dev *d, unsigned qi, struct virtq_chain *c,
		  long (*serve)(struct virtio_dev *d, struct virtq_chain *c,
				char *why, size_t n))
{
	struct virtq *q = &d->q[qi];
	char why[160];
	long done = 0;
	int r;

	while ((r = virtq_pop(q, d->mem, c, why, sizeof(why))) > 0) {
		long len = serve(d, c, why, sizeof(why));
		if (len < 0) {
			r = -1;
			break;
		}
		virtq_push(q, c->head, (uint32_t)len);
		done++;
	}
	if (r < 0) {
		virtio_fail(d, why);
		return -1;
	}
	virtio_notify(d, q);
	return done;
}

int virtio_serve(struct virtio_dev *d, unsigned qi, struct virtq_chain *c,
		 long (*serve)(struct virtio_dev *d, struct virtq_chain *c,
			       char *why, size_t n))
{
	do {
		if (virtio_drain(d, qi, c, serve) < 0)
			return -1;
	} while (virtq_arm(&d->q[qi]));
	return 0;
}

void virtio_notify(struct virtio_dev *d, struct virtq *q)
{
	if (!virtq_should_notify(q))
		return;
	__atomic_fetch_or(&d->isr, VIRTIO_MMIO_INT_VRING, __ATOMIC_SEQ_CST);
	uint64_t one = 1;
	if (d->irq_fd >= 0 && write(d->irq_fd, &one, 8) < 0)
		(void)0;
}

void virtio_dev_process(struct virtio_dev *d)
{
	pthread_mutex_lock(&d->lock);
	for (unsigned i = 0; i < d->ops->nqueues; i++) {
		if (!virtio_queue_live(d, &d->q[i]))
			continue;
		if (d->ops->process(d, i) < 0)
			break;
	}
	pthread_mutex_unlock(&d->lock);
}

/* Has the driver queued anything not yet taken? */
static int has_work(struct virtio_dev *d)
{
	int work = 0;
	pthread_mutex_lock(&d->lock);
	for (unsigned i = 0; i < d->ops->nqueues; i++)
		work |= virtio_queue_live(d, &d->q[i]) &&
			virtq_pending(&d->q[i]);
	pthread_mutex_unlock(&d->lock);
	return work;
}

static void *io_thread(void *arg)
{
	struct virtio_dev *d = arg;
	struct pollfd p[2] = {{d->kick_fd, POLLIN, 0}, {d->stop_fd, POLLIN, 0}};

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return NULL;
		}
		if (p[1].revents)
			return NULL;
		uint64_t n;
		if (read(d->kick_fd, &n, 8) < 0 && errno != EAGAIN)
			return NULL;
		/* serve, then watch the ring a while: a guest that queues
		 * again soon is served without waiting for this thread to
		 * be woken (the cost that dominates small requests) */
		for (uint64_t until = 0;;) {
			virtio_dev_process(d);
			until = monotonic_ns() + VIRTIO_POLL_NS;
			while (!has_work(d) && monotonic_ns() < until)
				__builtin_ia32_pause();
			if (monotonic_ns() >= until)
				break;
		}
	}
}

static void reset(struct virtio_dev *d)
{
	d->status = 0;
	d->isr = 0;
	d->driver_features = 0;
	d->dev_feat_sel = d->drv_feat_sel = d->queue_sel = 0;
	d->said_broken = 0;
	for (unsigned i = 0; i < 2; i++)
		d->q[i] = (struct virtq){0};
	if (d->ops->reset)
		d->ops->reset(d);
}

static struct virtq *selected(struct virtio_dev *d)
{
	return d->queue_sel < d->ops->nqueues ? &d->q[d->queue_sel] : NULL;
}

static uint32_t reg_read(struct virtio_dev *d, uint64_t off)
{
	struct virtq *q = selected(d);

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return MAGIC;
	case VIRTIO_MMIO_VERSION:
		return 2;
	case VIRTIO_MMIO_DEVICE_ID:
		return d->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return d->dev_feat_sel < 2 ? (uint32_t)(d->features >>
							(32 * d->dev_feat_sel))
					   : 0;
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return q ? VIRTQ_SIZE_MAX : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return q ? (uint32_t)q->ready : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return __atomic_load_n(&d->isr, __ATOMIC_SEQ_CST);
	case VIRTIO_MMIO_STATUS:
		return d->status;
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return d->generation;
	default:
		return 0;
	}
}

static void set_half(uint64_t *v, int high, uint32_t x)
{
	if (high)
		*v = (*v & 0xffffffffULL) | ((uint64_t)x << 32);
	else
		*v = (*v & ~0xffffffffULL) | x;
}

static void set_status(struct virtio_dev *d, uint32_t v)
{
	if (v == 0) {
		reset(d);
		return;
	}
	if ((v & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    !(d->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
		/* refuse features never offered, and drivers without 1.0 */
		if ((d->driver_features & ~d->features) ||
		    !(d->driver_features & (1ULL << VIRTIO_F_VERSION_1)))
			v &= ~(uint32_t)VIRTIO_CONFIG_S_FEATURES_OK;
	}
	/* the device's own bit stays until reset */
	d->status = v | (d->status & VIRTIO_CONFIG_S_NEEDS_RESET);
}

static void reg_write(struct virtio_dev *d, uint64_t off, uint32_t v)
{
	struct virtq *q = selected(d);

	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		d->dev_feat_sel = v;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		d->drv_feat_sel = v;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (d->drv_feat_sel < 2 &&
		    !(d->status & VIRTIO_CONFIG_S_FEATURES_OK))
			set_half(&d->driver_features, d->drv_feat_sel == 1, v);
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		d->queue_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
		if (q && !q->ready)
			q->num = (uint16_t)(v > 0xffff ? 0 : v);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		if (q && !q->ready)
			set_half(&q->desc_gpa,
				 off == VIRTIO_MMIO_QUEUE_DESC_HIGH, v);
		break;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
		if (q && !q->ready)
			set_half(&q->avail_gpa,
				 off == VIRTIO_MMIO_QUEUE_AVAIL_HIGH, v);
		break;
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		if (q && !q->ready)
			set_half(&q->used_gpa,
				 off == VIRTIO_MMIO_QUEUE_USED_HIGH, v);
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		if (!q)
			break;
		if (v && !q->ready) {
			const char *why;
			q->event_idx = !!(d->driver_features &
					  (1ULL << VIRTIO_RING_F_EVENT_IDX));
			if (virtq_start(q, d->mem, &why) < 0) {
				virtio_fail(d, why);
				break;
			}
			q->ready = 1;
		} else if (!v) {
			q->ready = 0;
		}
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		/* only without an ioeventfd (the fuzz target, or if KVM
		 * refused one): serve at once */
		pthread_mutex_unlock(&d->lock);
		virtio_dev_process(d);
		pthread_mutex_lock(&d->lock);
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		__atomic_fetch_and(&d->isr, ~v, __ATOMIC_SEQ_CST);
		break;
	case VIRTIO_MMIO_STATUS:
		set_status(d, v);
		break;
	default:
		break;
	}
}

void virtio_mmio_access(struct virtio_dev *d, uint64_t off, uint8_t *data,
			unsigned len, int is_write)
{
	if (len > 8)
		len = 8;
	pthread_mutex_lock(&d->lock);
	if (off >= VIRTIO_MMIO_CONFIG) {
		if (!is_write) {
			memset(data, 0, len);
			d->ops->config_read(d, off - VIRTIO_MMIO_CONFIG, data,
					    len);
		}
		/* configuration writes: nothing writable in our devices */
	} else if (len == 4 && !(off & 3)) {
		uint32_t v;
		if (is_write) {
			memcpy(&v, data, 4);
			reg_write(d, off, v);
		} else {
			v = reg_read(d, off);
			memcpy(data, &v, 4);
		}
	} else if (!is_write) {
		/* registers are 32-bit: other widths read as zero */
		memset(data, 0, len);
	}
	pthread_mutex_unlock(&d->lock);
}

void virtio_dev_place(struct virtio_dev *d, unsigned slot)
{
	d->base = VIRTIO_MMIO_BASE + slot * VIRTIO_MMIO_SIZE;
	d->irq = VIRTIO_IRQ_BASE + slot;
	d->features |= 1ULL << VIRTIO_F_VERSION_1;
	d->features |= 1ULL << VIRTIO_RING_F_EVENT_IDX;
	/* recursive: a network backend may hand the guest a frame while
	 * the device is sending one */
	pthread_mutexattr_t attr;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&d->lock, &attr);
	pthread_mutexattr_destroy(&attr);
}

int virtio_dev_start(struct virtio_dev *d, int vm_fd)
{
	d->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	d->irq_fd = eventfd(0, EFD_CLOEXEC);
	d->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (d->kick_fd < 0 || d->irq_fd < 0 || d->stop_fd < 0) {
		fprintf(stderr, "fresco: %s: eventfd: %s\n", d->name,
			strerror(errno));
		return -1;
	}
	struct kvm_ioeventfd io = {
		.addr = d->base + VIRTIO_MMIO_QUEUE_NOTIFY,
		.len = 4,
		.fd = d->kick_fd,
	};
	struct kvm_irqfd irq = {.fd = (uint32_t)d->irq_fd, .gsi = d->irq};
	if (ioctl(vm_fd, KVM_IOEVENTFD, &io) < 0 ||
	    ioctl(vm_fd, KVM_IRQFD, &irq) < 0) {
		fprintf(stderr, "fresco: %s: cannot connect to KVM: %s\n",
			d->name, strerror(errno));
		return -1;
	}
	int e = pthread_create(&d->thread, NULL,
			       d->ops->thread ? d->ops->thread : io_thread, d);
	if (e) {
		fprintf(stderr, "fresco: %s: cannot start its thread: %s\n",
			d->name, strerror(e));
		return -1;
	}
	d->started = 1;
	return 0;
}

void virtio_dev_stop(struct virtio_dev *d)
{
	uint64_t one = 1;
	if (d->stop_fd < 0 || !d->started)
		return;
	if (write(d->stop_fd, &one, 8) == 8)
		pthread_join(d->thread, NULL);
	d->started = 0;
}

int virtio_cmdline_word(const struct virtio_dev *d, char *buf, size_t cap)
{
	return snprintf(buf, cap, "virtio_mmio.device=4K@%#llx:%u",
			(unsigned long long)d->base, d->irq);
}

void virtio_dev_free(struct virtio_dev *d)
{
	if (d->ops->reset)
		d->ops->reset(d); /* what the device holds goes */
	pthread_mutex_destroy(&d->lock);
	free(d->priv);
}
