/* virtq.c: the device side of split virtqueues (virtio 1.x, 2.7).
 *
 * The guest owns the rings and may change them at any moment, so every
 * index read from them is reduced modulo the queue size or checked before
 * use, and each descriptor's address and length go through guest_mem_ptr.
 */
#include "virtio.h"

#include <stdio.h>
#include <string.h>

int virtq_start(struct virtq *q, const struct guest_mem *m, const char **why)
{
	uint64_t n = q->num;

	if (n == 0 || n > VIRTQ_SIZE_MAX || (n & (n - 1))) {
		*why = "queue size is not a power of two up to 256";
		return -1;
	}
	if ((q->desc_gpa & 15) || (q->avail_gpa & 1) || (q->used_gpa & 3)) {
		*why = "queue area misaligned";
		return -1;
	}
	q->desc = guest_mem_ptr(m, q->desc_gpa, 16 * n);
	q->avail = guest_mem_ptr(m, q->avail_gpa, 6 + 2 * n);
	q->used = guest_mem_ptr(m, q->used_gpa, 6 + 8 * n);
	if (!q->desc || !q->avail || !q->used) {
		*why = "queue area outside guest memory";
		return -1;
	}
	q->last_avail = q->used_idx = q->signalled = 0;
	return 0;
}

static uint16_t load16(const uint16_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

int virtq_pop(struct virtq *q, const struct guest_mem *m, struct virtq_chain *c,
	      char *why, size_t cap)
{
	uint16_t avail_idx = load16(&q->avail->idx);
	uint16_t pending = (uint16_t)(avail_idx - q->last_avail);

	if (pending == 0)
		return 0;
	if (pending > q->num) {
		snprintf(why, cap,
			 "avail index moved by %u in a queue of %u entries",
			 pending, q->num);
		return -1;
	}
	uint16_t head = load16(&q->avail->ring[q->last_avail % q->num]);
	if (head >= q->num) {
		snprintf(why, cap, "chain head %u out of a queue of %u", head,
			 q->num);
		return -1;
	}
	c->head = head;
	c->nr = c->nw = 0;
	c->rlen = c->wlen = 0;
	uint16_t i = head;
	for (unsigned n = 0;; n++) {
		if (n >= q->num) {
			snprintf(why, cap, "descriptor chain from %u loops",
				 head);
			return -1;
		}
		struct vring_desc d;
		memcpy(&d, &q->desc[i], sizeof(d)); /* one snapshot */
		if (d.flags & VRING_DESC_F_INDIRECT) {
			snprintf(why, cap,
				 "indirect descriptor %u (not negotiated)", i);
			return -1;
		}
		void *p = guest_mem_ptr(m, d.addr, d.len);
		if (!p) {
			snprintf(why, cap,
				 "descriptor %u (%#llx, %u bytes) outside "
				 "guest memory",
				 i, (unsigned long long)d.addr, d.len);
			return -1;
		}
		if (d.flags & VRING_DESC_F_WRITE) {
			c->iov[c->nr + c->nw++] = (struct iovec){p, d.len};
			c->wlen += d.len;
		} else {
			if (c->nw) {
				snprintf(why, cap,
					 "device-readable descriptor %u after "
					 "a writable one",
					 i);
				return -1;
			}
			c->iov[c->nr++] = (struct iovec){p, d.len};
			c->rlen += d.len;
		}
		if (!(d.flags & VRING_DESC_F_NEXT))
			break;
		if (d.next >= q->num) {
			snprintf(why, cap,
				 "descriptor %u links to %u, out of "
				 "the queue",
				 i, d.next);
			return -1;
		}
		i = d.next;
	}
	q->last_avail++;
	return 1;
}

int virtq_pending(const struct virtq *q)
{
	return load16(&q->avail->idx) != q->last_avail;
}

void virtq_unpop(struct virtq *q, unsigned n)
{
	q->last_avail = (uint16_t)(q->last_avail - n);
}

void virtq_fill(struct virtq *q, unsigned i, uint16_t head, uint32_t len)
{
	struct vring_used_elem *e =
		&q->used->ring[(uint16_t)(q->used_idx + i) % q->num];
	e->id = head;
	e->len = len;
}

void virtq_flush(struct virtq *q, unsigned n)
{
	q->used_idx = (uint16_t)(q->used_idx + n);
	__atomic_store_n(&q->used->idx, q->used_idx, __ATOMIC_RELEASE);
}

void virtq_push(struct virtq *q, uint16_t head, uint32_t len)
{
	virtq_fill(q, 0, head, len);
	virtq_flush(q, 1);
}

int virtq_should_notify(struct virtq *q)
{
	uint16_t old = q->signalled, now = q->used_idx;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (old == now)
		return 0;
	q->signalled = now;
	if (!q->event_idx)
		return !(load16(&q->avail->flags) & VRING_AVAIL_F_NO_INTERRUPT);
	/* the driver wants an interrupt once used passes used_event */
	uint16_t event = load16(&q->avail->ring[q->num]);
	return (uint16_t)(now - event - 1) < (uint16_t)(now - old);
}

/* Ask the driver to notify once its index passes (event); 1 if it is
 * already elsewhere (look again rather than wait). */
static int arm_at(struct virtq *q, uint16_t event)
{
	if (!q->event_idx || !q->ready)
		return 0; /* nothing to ask of a queue not (yet) working */
	uint16_t *avail_event = (uint16_t *)&q->used->ring[q->num];
	__atomic_store_n(avail_event, event, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return load16(&q->avail->idx) != event;
}

int virtq_arm_more(struct virtq *q)
{
	return q->event_idx && q->ready && arm_at(q, load16(&q->avail->idx));
}

int virtq_arm(struct virtq *q)
{
	return arm_at(q, q->last_avail);
}
