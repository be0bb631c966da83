/* fuzz_virtio_net.c: libFuzzer drives the monitor's virtio-net device
 * with arbitrary guest memory: transmit chains and the headers in them
 * (checksum and segmentation requests), receive buffers, and frames
 * from a backend with arbitrary virtio-net headers, given whole or read
 * straight into the guest's buffers.
 *
 * Input: GUEST_MEM bytes of guest RAM, a flags byte (bit 0: the backend
 * takes the guest's header itself, as a TAP does), then the register
 * program of mmio_ops.h, where three more opcodes hand the device a
 * frame cut from the input's RAM image (value: offset << 16 | length):
 * 0x70 whole (virtio_net_deliver), 0x71 read into the guest's buffers
 * (virtio_net_read_into), 0x72 cut in software (net_tso_split, the
 * length's low byte as the segment size). Built with AddressSanitizer
 * and UndefinedBehaviorSanitizer.
 */
#define _GNU_SOURCE
#include "mmio_ops.h"
#include "virtio.h"

#include <linux/virtio_net.h>
#include <stdlib.h>
#include <string.h>

#define GUEST_MEM 16384

static uint8_t image[GUEST_MEM]; /* the input's RAM, frames come from */
static uint8_t frame[GUEST_MEM];
static size_t frame_len;
static volatile uint8_t sink;

/* Look at every byte a backend is given, so a bad length shows. */
static void touch(const uint8_t *p, size_t n)
{
	uint8_t x = 0;
	for (size_t i = 0; i < n; i++)
		x ^= p[i];
	sink = x;
}

static void be_send(struct net_backend *b, const uint8_t *f, size_t n)
{
	(void)b;
	touch(f, n);
}

static void be_sendv(struct net_backend *b, const struct iovec *iov, int n)
{
	(void)b;
	for (int i = 0; i < n; i++)
		touch(iov[i].iov_base, iov[i].iov_len);
}

static int be_fill(struct net_backend *b, struct pollfd *fds, int cap,
		   int *timeout)
{
	(void)b, (void)fds, (void)cap, (void)timeout;
	return 0;
}

static void be_poll(struct net_backend *b, struct pollfd *fds, int n)
{
	(void)b, (void)fds, (void)n;
}

static ssize_t reader(void *arg, const struct iovec *iov, int niov)
{
	size_t off = 0;
	(void)arg;
	for (int i = 0; i < niov && off < frame_len; i++) {
		size_t k = iov[i].iov_len < frame_len - off ? iov[i].iov_len
							    : frame_len - off;
		memcpy(iov[i].iov_base, frame + off, k);
		off += k;
	}
	return (ssize_t)off;
}

static void cut(void *arg, const uint8_t *f, size_t n)
{
	(void)arg;
	touch(f, n);
}

static int net_op(struct virtio_dev *d, uint8_t op, uint32_t v)
{
	if (op < 0x70 || op > 0x72)
		return 0;
	size_t off = (v >> 16) % GUEST_MEM;
	frame_len = (v & 0xffff) % (GUEST_MEM - off + 1);
	memcpy(frame, image + off, frame_len);
	if (op == 0x70 && frame_len >= sizeof(struct virtio_net_hdr_v1)) {
		struct virtio_net_hdr_v1 h;
		memcpy(&h, frame, sizeof(h));
		virtio_net_deliver(d, &h, frame + sizeof(h),
				   frame_len - sizeof(h));
	} else if (op == 0x71) {
		virtio_net_read_into(d, reader, NULL);
	} else if (op == 0x72) {
		net_tso_split(frame, frame_len, v & 0xff, cut, NULL);
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	static struct net_backend be;
	static const uint8_t mac[6] = {0x52, 0x54, 0, 0x12, 0x34, 0x56};

	if (!ram)
		ram = malloc(GUEST_MEM);
	if (size < GUEST_MEM + 1)
		return 0;
	memcpy(ram, data, GUEST_MEM);
	memcpy(image, data, GUEST_MEM);
	struct guest_mem mem = {ram, GUEST_MEM};
	be = (struct net_backend){
		.send = be_send,
		.sendv = data[GUEST_MEM] & 1 ? be_sendv : NULL,
		.fill = be_fill,
		.poll = be_poll,
		.mtu = data[GUEST_MEM] & 2 ? NET_USER_MTU : 0};
	struct virtio_dev *d = virtio_net_new("fuzz", &be, mac, &mem);
	if (!d)
		abort();
	virtio_dev_place(d, 0);
	run_ops(d, data, size, GUEST_MEM + 1, net_op);
	virtio_dev_free(d);
	return 0;
}
