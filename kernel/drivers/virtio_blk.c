/* virtio_blk.c: the virtio block driver (virtio 1.x, 5.2).
 *
 * One request at a time: a header, up to seg_max data segments and a
 * status byte. FLUSH is sent when the file system asks for durability.
 */
#include "drivers/virtio.h"
#include <linux/virtio_blk.h>

struct blk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
	uint8_t status; /* its own descriptor: device-writable */
};

static struct blkdev blkdevs[BLK_MAX];
static int nblk;

struct blkdev *blk_find(const char *name)
{
	for (int i = 0; i < nblk; i++)
		if (strcmp(blkdevs[i].name, name) == 0)
			return &blkdevs[i];
	return NULL;
}

static int blk_init(struct blkdev *b)
{
	b->sectors = vdev_config64(
		&b->v, offsetof(struct virtio_blk_config, capacity));
	b->readonly = !!(b->v.features & (1ULL << VIRTIO_BLK_F_RO));
	b->seg_max = b->v.q[0].num - 2;
	if (b->v.features & (1ULL << VIRTIO_BLK_F_SEG_MAX)) {
		uint32_t m = vdev_config32(
			&b->v, offsetof(struct virtio_blk_config, seg_max));
		if (m && m < b->seg_max)
			b->seg_max = m;
	}
	b->hdr_pa = phys_alloc();
	if (!b->hdr_pa)
		return -ENOMEM;
	b->hdr = phys_to_virt(b->hdr_pa);
	return 0;
}

int blk_attach(const struct vdev *probed)
{
	if (nblk >= BLK_MAX)
		return -ENOSPC;
	struct blkdev *b = &blkdevs[nblk];
	b->v = *probed;
	int r = vdev_init(&b->v,
			  (1ULL << VIRTIO_BLK_F_SEG_MAX) |
				  (1ULL << VIRTIO_BLK_F_RO) |
				  (1ULL << VIRTIO_BLK_F_BLK_SIZE) |
				  (1ULL << VIRTIO_BLK_F_FLUSH),
			  1);
	if (r < 0 || (r = blk_init(b)) < 0)
		return r;
	b->name[0] = 'v';
	b->name[1] = 'd';
	b->name[2] = (char)('a' + nblk);
	nblk++;
	return 0;
}

static int request(struct blkdev *b, uint32_t type, uint64_t sector,
		   const struct vseg *data, unsigned n)
{
	static struct vseg segs[VIRTIO_QUEUE_SEGS]; /* one context */

	if (n > b->seg_max || n + 2 > VIRTIO_QUEUE_SEGS)
		return -EINVAL;
	b->hdr->type = type;
	b->hdr->reserved = 0;
	b->hdr->sector = sector;
	b->hdr->status = 0xff;
	segs[0] = (struct vseg){b->hdr_pa, 16, 0};
	for (unsigned i = 0; i < n; i++)
		segs[1 + i] = data[i];
	segs[1 + n] = (struct vseg){b->hdr_pa + 16, 1, 1};
	long r = vq_call(&b->v, segs, n + 2);
	if (r < 0)
		return (int)r;
	return b->hdr->status == VIRTIO_BLK_S_OK ? 0 : -EIO;
}

int blk_rw(struct blkdev *b, int write, uint64_t sector,
	   const struct vseg *segs, unsigned n)
{
	if (write && b->readonly)
		return -EROFS;
	static struct vseg data[VIRTIO_QUEUE_SEGS];
	for (unsigned i = 0; i < n && i < VIRTIO_QUEUE_SEGS; i++) {
		data[i] = segs[i];
		data[i].write = !write; /* the device writes what we read */
	}
	int r = request(b, write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, sector,
			data, n);
	if (r == -EIO)
		klog("%s: %s of sector %lu failed", b->name,
		     write ? "write" : "read", sector);
	return r;
}

int blk_flush(struct blkdev *b)
{
	if (b->readonly || !(b->v.features & (1ULL << VIRTIO_BLK_F_FLUSH)))
		return 0;
	int r = request(b, VIRTIO_BLK_T_FLUSH, 0, NULL, 0);
	if (r == -EIO)
		klog("%s: flush failed", b->name);
	return r;
}
