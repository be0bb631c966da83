/* virtio_blk.c: a virtio block device backed by a host file (virtio 1.x, 5.2).
 *
 * Requests are served on the device's I/O thread with preadv/pwritev
 * straight between the file and guest memory. FLUSH completes only after
 * fdatasync, so what the guest was told is on disk is on disk. A request
 * the device cannot honour (past the end, a length not a multiple of a
 * sector, a write to a read-only volume) fails with IOERR; a chain too
 * broken to even carry a status puts the device in NEEDS_RESET.
 */
#define _GNU_SOURCE
#include "virtio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>
#include <unistd.h>

#define SECTOR 512ULL

#define SEG_MAX (VIRTQ_SIZE_MAX - 2)
#define BLOCK_SIZE 4096

struct blk {
	struct virtio_dev dev;
	int fd;
	uint64_t size; /* bytes, a multiple of SECTOR */
	int readonly;
	char id[VIRTIO_BLK_ID_BYTES];
	struct virtio_blk_config config;
	struct virtq_chain chain;
	struct iovec data[VIRTQ_SIZE_MAX];
};

/* The part of (in, n) from byte (skip), (len) bytes long, into (out). */
static unsigned iov_slice(const struct iovec *in, unsigned n, uint64_t skip,
			  uint64_t len, struct iovec *out)
{
	unsigned k = 0;
	for (unsigned i = 0; i < n && len; i++) {
		uint64_t l = in[i].iov_len;
		if (skip >= l) {
			skip -= l;
			continue;
		}
		uint64_t take = l - skip < len ? l - skip : len;
		out[k++] =
			(struct iovec){(uint8_t *)in[i].iov_base + skip, take};
		len -= take;
		skip = 0;
	}
	return k;
}

static void iov_copy_out(const struct iovec *in, unsigned n, void *dst,
			 uint64_t len)
{
	uint8_t *d = dst;
	for (unsigned i = 0; i < n && len; i++) {
		uint64_t take = in[i].iov_len < len ? in[i].iov_len : len;
		memcpy(d, in[i].iov_base, take);
		d += take;
		len -= take;
	}
}

/* preadv/pwritev the whole of (iov, n) at (off): 0, or -errno. A read past
 * the end of a file that shrank under us reads zeros. */
static int transfer(struct blk *b, int write, struct iovec *iov, unsigned n,
		    uint64_t off)
{
	while (n) {
		ssize_t r = write ? pwritev(b->fd, iov, (int)n, (off_t)off)
				  : preadv(b->fd, iov, (int)n, (off_t)off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0) {
			if (write)
				return -EIO;
			for (unsigned i = 0; i < n; i++)
				memset(iov[i].iov_base, 0, iov[i].iov_len);
			return 0;
		}
		off += (uint64_t)r;
		while (n && (uint64_t)r >= iov->iov_len) {
			r -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n) {
			iov->iov_base = (uint8_t *)iov->iov_base + r;
			iov->iov_len -= (size_t)r;
		}
	}
	return 0;
}

static void io_error(struct blk *b, const char *what, uint64_t off, int e)
{
	fprintf(stderr, "fresco: %s: %s at byte %llu failed: %s\n", b->dev.name,
		what, (unsigned long long)off, strerror(-e));
}

static int in_range(const struct blk *b, uint64_t sector, uint64_t len)
{
	return sector <= b->size / SECTOR && len <= b->size - sector * SECTOR;
}

static uint8_t do_discard(struct blk *b, const struct virtq_chain *c)
{
	struct virtio_blk_discard_write_zeroes seg;
	uint64_t have = c->rlen - sizeof(struct virtio_blk_outhdr);
	if (have != sizeof(seg))
		return VIRTIO_BLK_S_UNSUPP; /* one segment at a time
					       (max_discard_seg) */
	struct iovec part[VIRTQ_SIZE_MAX];
	unsigned k = iov_slice(c->iov, c->nr, sizeof(struct virtio_blk_outhdr),
			       sizeof(seg), part);
	iov_copy_out(part, k, &seg, sizeof(seg));
	uint64_t len = (uint64_t)seg.num_sectors * SECTOR;
	if (seg.flags || !in_range(b, seg.sector, len))
		return VIRTIO_BLK_S_IOERR;
	if (fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)(seg.sector * SECTOR), (off_t)len) < 0 &&
	    errno != EOPNOTSUPP)
		return VIRTIO_BLK_S_IOERR;
	return VIRTIO_BLK_S_OK;
}

/* Serve one request; returns the bytes written into the chain, or -1 for a
 * chain that cannot carry a request at all. */
static long handle(struct blk *b, struct virtq_chain *c)
{
	struct virtio_blk_outhdr h;

	if (c->rlen < sizeof(h) || c->wlen < 1)
		return -1;
	iov_copy_out(c->iov, c->nr, &h, sizeof(h));
	struct iovec *w = &c->iov[c->nr];
	uint8_t *status =
		(uint8_t *)w[c->nw - 1].iov_base + w[c->nw - 1].iov_len - 1;
	uint64_t datalen;
	unsigned n;
	int r;
	uint8_t s = VIRTIO_BLK_S_OK;
	long written = 1;
	const char *src;

	switch (h.type) {
	case VIRTIO_BLK_T_IN:
		datalen = c->wlen - 1;
		n = iov_slice(w, c->nw, 0, datalen, b->data);
		if (datalen % SECTOR || !in_range(b, h.sector, datalen)) {
			s = VIRTIO_BLK_S_IOERR;
			break;
		}
		r = transfer(b, 0, b->data, n, h.sector * SECTOR);
		if (r < 0) {
			io_error(b, "read", h.sector * SECTOR, r);
			s = VIRTIO_BLK_S_IOERR;
			break;
		}
		written += (long)datalen;
		break;
	case VIRTIO_BLK_T_OUT:
		datalen = c->rlen - sizeof(h);
		n = iov_slice(c->iov, c->nr, sizeof(h), datalen, b->data);
		if (b->readonly || datalen % SECTOR ||
		    !in_range(b, h.sector, datalen)) {
			s = VIRTIO_BLK_S_IOERR;
			break;
		}
		if ((r = transfer(b, 1, b->data, n, h.sector * SECTOR)) < 0) {
			io_error(b, "write", h.sector * SECTOR, r);
			s = VIRTIO_BLK_S_IOERR;
		}
		break;
	case VIRTIO_BLK_T_FLUSH:
		if (!b->readonly && fdatasync(b->fd) < 0) {
			io_error(b, "flush", 0, -errno);
			s = VIRTIO_BLK_S_IOERR;
		}
		break;
	case VIRTIO_BLK_T_GET_ID:
		datalen = c->wlen - 1;
		if (datalen > VIRTIO_BLK_ID_BYTES)
			datalen = VIRTIO_BLK_ID_BYTES;
		n = iov_slice(w, c->nw, 0, datalen, b->data);
		src = b->id;
		for (unsigned i = 0; i < n; i++) {
			memcpy(b->data[i].iov_base, src, b->data[i].iov_len);
			src += b->data[i].iov_len;
		}
		written += (long)datalen;
		break;
	case VIRTIO_BLK_T_DISCARD:
		s = b->readonly ? VIRTIO_BLK_S_IOERR : do_discard(b, c);
		break;
	default:
		s = VIRTIO_BLK_S_UNSUPP;
	}
	*status = s;
	return written;
}

static long blk_serve(struct virtio_dev *d, struct virtq_chain *c, char *why,
		      size_t n)
{
	long len = handle(d->priv, c);
	if (len < 0)
		snprintf(why, n, "request %u has no header or no status byte",
			 c->head);
	return len;
}

static int blk_process(struct virtio_dev *d, unsigned qi)
{
	struct blk *b = d->priv;
	return virtio_serve(d, qi, &b->chain, blk_serve);
}

static void blk_config_read(struct virtio_dev *d, uint64_t off, void *out,
			    unsigned len)
{
	struct blk *b = d->priv;
	if (off < sizeof(b->config) && len <= sizeof(b->config) - off)
		memcpy(out, (uint8_t *)&b->config + off, len);
}

static const struct virtio_ops blk_ops = {
	.device_id = VIRTIO_ID_BLOCK,
	.nqueues = 1,
	.config_read = blk_config_read,
	.process = blk_process,
};

struct virtio_dev *virtio_blk_new(const char *name, int fd, uint64_t size,
				  int readonly, const char *serial,
				  const struct guest_mem *mem)
{
	struct blk *b = calloc(1, sizeof(*b));
	if (!b) {
		fprintf(stderr, "fresco: %s: out of memory\n", name);
		return NULL;
	}
	b->fd = fd;
	b->size = size / SECTOR * SECTOR;
	b->readonly = readonly;
	strncpy(b->id, serial ? serial : "", sizeof(b->id));
	b->config = (struct virtio_blk_config){
		.capacity = b->size / SECTOR,
		.seg_max = SEG_MAX,
		.blk_size = BLOCK_SIZE,
		.num_queues = 1,
		.max_discard_sectors = 0xffffffffu,
		.max_discard_seg = 1,
		.discard_sector_alignment = BLOCK_SIZE / SECTOR,
	};
	virtio_dev_init(&b->dev, &blk_ops, name, b, mem,
			(1ULL << VIRTIO_BLK_F_SEG_MAX) |
				(1ULL << VIRTIO_BLK_F_BLK_SIZE) |
				(1ULL << VIRTIO_BLK_F_FLUSH));
	if (readonly)
		b->dev.features |= 1ULL << VIRTIO_BLK_F_RO;
	else
		b->dev.features |= 1ULL << VIRTIO_BLK_F_DISCARD;
	return &b->dev;
}

int virtio_blk_fd(const struct virtio_dev *d)
{
	return ((const struct blk *)d->priv)->fd;
}
