/* virtio.h: the monitor's virtio devices: virtio-mmio (version 2) transport,
 * split virtqueues and virtio-blk.
 *
 * A device is a page of registers in guest-physical space plus an IOAPIC
 * pin. The vCPU thread serves register reads and writes (rare: set-up,
 * reset); queue notifications arrive on an ioeventfd and are served by the
 * device's own I/O thread, which completes requests through an irqfd. Both
 * threads take the device's lock.
 *
 * Everything a guest wrote is checked before it is used: every descriptor
 * goes through guest_mem_ptr(), chains are bounded by the queue size, a
 * readable descriptor after a writable one is refused. A device that finds
 * a broken queue stops serving it, sets DEVICE_NEEDS_RESET, says why once
 * on stderr and waits for the driver to reset it.
 */
#ifndef FRESCO_VIRTIO_H
#define FRESCO_VIRTIO_H

#include "vmm.h"
#include <pthread.h>
#include <stdint.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <poll.h>
#include <sys/uio.h>

/* ---- split virtqueues (virtq.c): pure, no threads, no KVM ---- */

#define VIRTQ_SIZE_MAX 256

struct virtq {
	uint16_t num; /* size the driver chose (power of two) */
	int ready;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint16_t last_avail; /* next avail ring slot the device reads */
	uint16_t used_idx;   /* next used ring slot the device writes */
	uint16_t signalled;  /* used_idx when the driver was last told */
	int event_idx;	     /* VIRTIO_RING_F_EVENT_IDX negotiated */
	/* host pointers, valid once virtq_start succeeded */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
};

/* A descriptor chain taken from the avail ring: (nr) device-readable
 * segments, then (nw) device-writable ones, as host pointers. */
struct virtq_chain {
	uint16_t head;
	unsigned nr, nw;
	uint64_t rlen, wlen; /* bytes in each direction */
	struct iovec iov[VIRTQ_SIZE_MAX];
};

/* Check the queue's areas lie in guest memory and map them: 0, or -1 and
 * (*why). */
int virtq_start(struct virtq *q, const struct guest_mem *m, const char **why);

/* Take the next available chain: 1 and (c), 0 if there is none, -1 for a
 * malformed queue or chain, with (why) filled in. */
int virtq_pop(struct virtq *q, const struct guest_mem *m, struct virtq_chain *c,
	      char *why, size_t cap);

/* Put back the last (n) chains taken, untouched, to be taken again. */
void virtq_unpop(struct virtq *q, unsigned n);

/* Return chain (head) to the driver having written (len) bytes. */
void virtq_push(struct virtq *q, uint16_t head, uint32_t len);
/* The same in two steps, for chains the driver must see together: write
 * used entry (i) after those published, then publish (n) of them. */
void virtq_fill(struct virtq *q, unsigned i, uint16_t head, uint32_t len);
void virtq_flush(struct virtq *q, unsigned n);

/* Has the driver made chains available that were not taken yet? */
int virtq_pending(const struct virtq *q);

/* After pushes: must the driver be interrupted? Updates (signalled). */
int virtq_should_notify(struct virtq *q);

/* With EVENT_IDX: ask for a notification when the driver adds past what
 * has been taken; returns 1 if more arrived meanwhile (pop again). */
int virtq_arm(struct virtq *q);
/* ... when it adds to what it has given, which is not enough yet (a
 * receive queue short of buffers for a frame): the driver tells only
 * of buffers past avail_event, so that is its index now, not what was
 * taken. 1 if it added meanwhile (try again). */
int virtq_arm_more(struct virtq *q);

/* ---- virtio-mmio devices (virtio_mmio.c) ---- */

#define VIRTIO_MMIO_BASE 0xd0000000ULL /* above VM_MEM_MAX */
#define VIRTIO_MMIO_SIZE 0x1000ULL
#define VIRTIO_IRQ_BASE 5 /* IOAPIC pin of the first device */
#define VIRTIO_DEV_MAX 8
/* How long an I/O thread watches its rings after serving them */
#define VIRTIO_POLL_NS 50000ULL

struct virtio_dev;

struct virtio_ops {
	uint32_t device_id;
	unsigned nqueues;
	/* read (len) bytes of device configuration at (off) into (out) */
	void (*config_read)(struct virtio_dev *d, uint64_t off, void *out,
			    unsigned len);
	/* serve queue (qi): pop, handle, push; called with the lock held.
	 * Returns -1 (after virtio_fail) if the queue is broken. */
	int (*process)(struct virtio_dev *d, unsigned qi);
	void (*reset)(struct virtio_dev *d);
	/* the device's I/O thread, if not the generic one (it must watch
	 * kick_fd and stop_fd) */
	void *(*thread)(void *dev);
};

struct virtio_dev {
	const struct virtio_ops *ops;
	const char *name; /* for messages: "virtio-blk vda" */
	void *priv;
	const struct guest_mem *mem;
	uint64_t base; /* guest-physical address of the registers */
	unsigned irq;
	uint64_t features; /* offered */
	uint64_t driver_features;
	uint32_t dev_feat_sel, drv_feat_sel, queue_sel;
	uint32_t status, isr, generation;
	struct virtq q[2]; /* blk: requests; net: receive, transmit */
	int kick_fd, irq_fd, stop_fd; /* ioeventfd, irqfd, thread stop */
	pthread_mutex_t lock;
	pthread_t thread;
	int said_broken; /* the NEEDS_RESET message was printed */
	int started;	 /* its I/O thread runs */
};

/* Set up a device model's (d) (zeroed): its operations, name for
 * messages, private data, the guest memory it serves and the features it
 * offers; no descriptors yet. */
void virtio_dev_init(struct virtio_dev *d, const struct virtio_ops *ops,
		     const char *name, void *priv, const struct guest_mem *mem,
		     uint64_t features);

/* Give (d) its registers and IOAPIC pin: those of slot (slot). */
void virtio_dev_place(struct virtio_dev *d, unsigned slot);

/* Connect a placed (d) to VM (vm_fd) (ioeventfd, irqfd; needs the irqchip)
 * and start its I/O thread. 0, or -1 after printing why. */
int virtio_dev_start(struct virtio_dev *d, int vm_fd);

/* Stop a started device's I/O thread, letting a request in progress
 * finish. */
void virtio_dev_stop(struct virtio_dev *d);

/* A guest access to the device registers at (off). */
void virtio_mmio_access(struct virtio_dev *d, uint64_t off, uint8_t *data,
			unsigned len, int is_write);

/* Queue (q) of (d) may be served: set up, the driver ready, the device
 * not broken (lock held). */
static inline int virtio_queue_live(const struct virtio_dev *d,
				    const struct virtq *q)
{
	return q->ready && (d->status & VIRTIO_CONFIG_S_DRIVER_OK) &&
	       !(d->status & VIRTIO_CONFIG_S_NEEDS_RESET);
}

/* Mark (d) broken: NEEDS_RESET, one message, config interrupt. */
void virtio_fail(struct virtio_dev *d, const char *why);

/* Serve queue (qi) of (d) until it is empty and re-armed (lock held):
 * each chain goes to (serve), into (c), which returns the bytes it wrote
 * into the chain's device-writable part, or -1 after writing into
 * (why, n) why the chain cannot be served. The used ring gets each
 * chain, the driver an interrupt if it wants one. 0, or -1 after
 * virtio_fail for a broken queue or chain. */
int virtio_serve(struct virtio_dev *d, unsigned qi, struct virtq_chain *c,
		 long (*serve)(struct virtio_dev *d, struct virtq_chain *c,
			       char *why, size_t n));
/* ... the same, but the driver is not asked to notify again: for a
 * device thread that looks at the queue itself while it is busy, and
 * arms it (virtq_arm) only before it sleeps. The chains served, or -1. */
long virtio_drain(struct virtio_dev *d, unsigned qi, struct virtq_chain *c,
		  long (*serve)(struct virtio_dev *d, struct virtq_chain *c,
				char *why, size_t n));

/* Interrupt the driver for used buffers on queue (q) if it wants it. */
void virtio_notify(struct virtio_dev *d, struct virtq *q);

/* Serve every queue once (the I/O thread's work; the fuzz target calls it
 * directly). */
void virtio_dev_process(struct virtio_dev *d);

/* The kernel command line word announcing (d): virtio_mmio.device=... */
int virtio_cmdline_word(const struct virtio_dev *d, char *buf, size_t cap);

/* The host file behind block device (d). */
int virtio_blk_fd(const struct virtio_dev *d);

/* Release a device that was never started (the fuzz target). */
void virtio_dev_free(struct virtio_dev *d);

/* ---- virtio-net (virtio_net.c) ---- */

/* Where a network device's frames go: user-mode networking (net_user.c)
 * or a TAP device (net_tap.c). Its calls are made on the device's thread
 * only. */
struct virtio_net_hdr_v1;

struct net_backend {
	/* a finished frame the guest sent, of at most the link's size */
	void (*send)(struct net_backend *b, const uint8_t *frame, size_t len);
	/* or, for a backend that takes them (then send is not called), the
	 * guest's virtio-net header and frame as it wrote them, in guest
	 * memory: it finishes the checksum and segmentation asked for */
	void (*sendv)(struct net_backend *b, const struct iovec *iov, int n);
	/* before the thread sleeps: descriptors to watch, added to (fds,
	 * up to cap), and (*timeout_ms) lowered to its next deadline */
	int (*fill)(struct net_backend *b, struct pollfd *fds, int cap,
		    int *timeout_ms);
	/* after: serve them; frames for the guest go to virtio_net_deliver
	 * or virtio_net_read_into */
	void (*poll)(struct net_backend *b, struct pollfd *fds, int n);
	/* what the guest takes unfinished: VIRTIO_NET_F_GUEST_CSUM and
	 * GUEST_TSO4 bits of (features); called when they change, NULL if
	 * the backend only ever gives finished frames */
	void (*offloads)(struct net_backend *b, uint64_t features);
	/* the link's MTU, told to the guest (0: VIRTIO_NET_MTU) */
	unsigned mtu;
	struct virtio_dev *dev;
};

#define VIRTIO_NET_MTU 1500
/* user networking's: libslirp ends the guest's TCP and UDP itself, so
 * its link can take 64 KiB frames, a segment or datagram each (as
 * slirp4netns and passt do) */
#define NET_USER_MTU 65520
/* a segmentation-offload frame: an IPv4 packet of up to 64 KiB */
#define NET_GSO_FRAME_MAX (65535 + 14)
#define NET_GUEST_IP "10.0.2.15"

/* A network device with MAC (mac) on (backend). NULL after printing why. */
struct virtio_dev *virtio_net_new(const char *name, struct net_backend *backend,
				  const uint8_t mac[6],
				  const struct guest_mem *mem);
/* Give the guest (frame), with what (hdr) says of it (NULL: a finished
 * frame): 0, or -1 if it was dropped (no room, as a full link would, or
 * malformed). The device finishes what the guest did not agree to take
 * unfinished. */
int virtio_net_deliver(struct virtio_dev *d,
		       const struct virtio_net_hdr_v1 *hdr,
		       const uint8_t *frame, size_t len);

/* What a network device has moved: frames and bytes each way (rx: to
 * the guest), how many of them were longer than Ethernet's 1514 bytes
 * (TCP frames of up to 64 KiB cut into segments on their way out or
 * taken whole from the host's kernel, or any frame of a wider link),
 * frames dropped, the link's MTU, and the features the driver took. */
struct net_stats {
	uint64_t features;
	uint64_t rx_frames, rx_bytes, rx_big;
	uint64_t tx_frames, tx_bytes, tx_big;
	uint64_t dropped;
	unsigned mtu;
	uint8_t mac[6];
	/* the guest's IPv4 address (network order) as its own ARP last
	 * gave it, however it got it (--ip, DHCP); 0 until it has sent one */
	uint32_t ip;
};
/* (d)'s counts: 0, or -1 if (d) is no network device. */
int virtio_net_stats(struct virtio_dev *d, struct net_stats *out);

/* The device thread's round: what the guest queued goes out, frames
 * waiting for buffers go in, and the guest is not asked to notify. While
 * frames move, the thread comes back at once and looks itself; only
 * before it sleeps does it ask (virtio_net_arm), then look once more.
 * Under kvm_pvm each notification is an exit of the vCPU's (2.5 us),
 * and one for nearly every answer the guest sent cost a tenth of its
 * requests a second against QEMU (docs/net.md). 1 if frames moved
 * either way since (*seen), which it updates. */
int virtio_net_round(struct virtio_dev *d, uint64_t *seen);
/* About to sleep: the guest is to notify its next frame. 1 if one came
 * meanwhile (look again rather than sleep). */
int virtio_net_arm(struct virtio_dev *d);

/* For a backend that reads frames with their virtio-net header: read
 * the next one straight into the guest's receive buffers, saving a copy.
 * (reader) fills (iov) as readv would (room for the largest frame and
 * its header) and returns the bytes read. Returns what (reader)
 * returned, or NET_READ_YOURSELF if the guest's buffers cannot take it
 * so (too few, or frames still waiting): the backend then reads into
 * its own buffer and calls virtio_net_deliver. */
#define NET_READ_YOURSELF (-1000)
ssize_t virtio_net_read_into(struct virtio_dev *d,
			     ssize_t (*reader)(void *arg,
					       const struct iovec *iov,
					       int niov),
			     void *arg);

/* ---- offloads in software (net_offload.c): pure ---- */

/* Finish the checksum a virtio-net header leaves open
 * (VIRTIO_NET_HDR_F_NEEDS_CSUM): the sum from (start) to the frame's end
 * goes at (start + offset). 0, or -1 if that lies outside the frame. */
int net_csum_finish(uint8_t *frame, size_t len, unsigned start,
		    unsigned offset);
/* Cut a TCP/IPv4 frame marked VIRTIO_NET_HDR_GSO_TCPV4 into frames of at
 * most (mss) payload bytes, each with its own IPv4 and TCP header and
 * checksums, handed to (emit) in order: their number, or -1 if (frame)
 * is not a TCP/IPv4 frame that can be cut so. */
int net_tso_split(const uint8_t *frame, size_t len, unsigned mss,
		  void (*emit)(void *arg, const uint8_t *f, size_t n),
		  void *arg);

/* User-mode networking through libslirp: 10.0.2.0/24, gateway (the
 * host) 10.0.2.2, DNS 10.0.2.3, the guest 10.0.2.15 by DHCP. NULL after
 * printing why (a port that cannot be published). */
struct net_backend *net_user_new(const struct vm_forward *fwd, int nfwd);
/* A TAP device (created if it does not exist): NULL after printing why. */
struct net_backend *net_tap_new(const char *ifname);

/* ---- virtio-blk (virtio_blk.c) ---- */

/* Make a block device on open file (fd) of (size) bytes. (serial) is
 * what GET_ID returns. NULL after printing why. */
struct virtio_dev *virtio_blk_new(const char *name, int fd, uint64_t size,
				  int readonly, const char *serial,
				  const struct guest_mem *mem);

#endif
