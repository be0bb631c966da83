/* test_virtio.c: the monitor's virtio-mmio transport, virtqueues and
 * virtio-blk, driven as a guest driver would through the registers, with
 * rings and requests in a buffer standing in for guest memory.
 */
#define _GNU_SOURCE
#include "unit.h"
#include "mmio.h"
#include "virtio.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MEM 65536
#define DISK (1 << 20)
#define QN 16
#define DESC 0x0
#define AVAIL 0x400
#define USED 0x800
#define HDR 0x1000
#define DATA 0x2000

#define S_OK 0
#define S_IOERR 1
#define S_UNSUPP 2
#define NEEDS_RESET 64

static uint8_t ram[MEM];
static struct guest_mem gm = {ram, MEM};
static int disk = -1;
static uint16_t avail_idx;

static uint16_t used_idx(void)
{
	uint16_t v;
	memcpy(&v, ram + USED + 2, 2);
	return v;
}

/* Reset, negotiate (features), and set up queue 0; the status after. */
static uint32_t bring_up(uint64_t features)
{
	uint32_t status = negotiate(features);
	if (!(status & 8))
		return status;
	memset(ram, 0, HDR);
	avail_idx = 0;
	wr(0x30, 0);
	wr(0x38, QN);
	wr(0x80, DESC);
	wr(0x84, 0);
	wr(0x90, AVAIL);
	wr(0x94, 0);
	wr(0xa0, USED);
	wr(0xa4, 0);
	wr(0x44, 1);
	wr(0x70, 15);
	return rd(0x70);
}

/* The device's messages go to stderr: kept in a file to be checked. */
static FILE *errors;

static const char *last_error(void)
{
	static char line[512];
	fflush(stderr);
	rewind(errors);
	line[0] = '\0';
	while (fgets(line, sizeof(line), errors))
		;
	return line;
}

static void setup(int readonly)
{
	if (!errors) {
		errors = tmpfile();
		ck_assert_ptr_nonnull(errors);
		dup2(fileno(errors), 2);
	}
	if (disk < 0) {
		disk = memfd_create("disk", MFD_CLOEXEC);
		ck_assert_int_eq(ftruncate(disk, DISK), 0);
	}
	memset(ram, 0, sizeof(ram));
	d = virtio_blk_new("test", disk, DISK, readonly, "serial-123", &gm);
	ck_assert_ptr_nonnull(d);
	virtio_dev_place(d, 0);
	ck_assert_uint_eq(bring_up((1ULL << 32) | (1ULL << 29)), 15);
}

static void put_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	uint8_t *p = ram + DESC + 16 * i;
	memcpy(p, &addr, 8);
	memcpy(p + 8, &len, 4);
	memcpy(p + 12, &flags, 2);
	memcpy(p + 14, &next, 2);
}

static void publish(uint16_t head)
{
	memcpy(ram + AVAIL + 4 + 2 * (avail_idx % QN), &head, 2);
	avail_idx++;
	memcpy(ram + AVAIL + 2, &avail_idx, 2);
	wr(0x50, 0); /* no ioeventfd here: served at once */
}

/* One request: header, (len) bytes at DATA (device-writable if
 * (dev_writes)), status. Returns the status byte. */
static int request(uint32_t type, uint64_t sector, uint32_t len, int dev_writes)
{
	uint32_t hdr[4] = {type, 0, (uint32_t)sector, (uint32_t)(sector >> 32)};
	memcpy(ram + HDR, hdr, 16);
	ram[HDR + 16] = 0xee;
	put_desc(0, HDR, 16, 1, 1);
	if (len) {
		put_desc(1, DATA, len, (uint16_t)(1 | (dev_writes ? 2 : 0)), 2);
		put_desc(2, HDR + 16, 1, 2, 0);
	} else {
		put_desc(1, HDR + 16, 1, 2, 0);
	}
	uint16_t before = used_idx();
	publish(0);
	ck_assert_uint_eq(used_idx(), (uint16_t)(before + 1));
	return ram[HDR + 16];
}

START_TEST(test_registers_and_configuration)
{
	setup(0);
	ck_assert_uint_eq(rd(0x000), 0x74726976);
	ck_assert_uint_eq(rd(0x004), 2);
	ck_assert_uint_eq(rd(0x008), 2); /* block */
	wr(0x14, 1);
	ck_assert_uint_eq(rd(0x10) & 1, 1); /* VERSION_1 */
	wr(0x14, 0);
	uint32_t f = rd(0x10);
	ck_assert(f & (1u << 9));  /* FLUSH */
	ck_assert(f & (1u << 6));  /* BLK_SIZE */
	ck_assert(f & (1u << 2));  /* SEG_MAX */
	ck_assert(f & (1u << 13)); /* DISCARD */
	ck_assert(!(f & (1u << 5)));
	ck_assert_uint_eq(rd(0x100), DISK / 512); /* capacity */
	ck_assert_uint_eq(rd(0x104), 0);
	ck_assert_uint_eq(rd(0x10c), 254);  /* seg_max */
	ck_assert_uint_eq(rd(0x114), 4096); /* blk_size */
	ck_assert_uint_eq(rd(0x34), 256);   /* QueueNumMax */
	wr(0x30, 1);
	ck_assert_uint_eq(rd(0x34), 0); /* no second queue */
}
END_TEST

START_TEST(test_feature_negotiation)
{
	setup(0);
	/* a legacy driver (no VERSION_1) is refused */
	ck_assert_uint_eq(bring_up(1ULL << 29) & 8, 0);
	/* so is one accepting a feature never offered (RO here) */
	ck_assert_uint_eq(bring_up((1ULL << 32) | (1ULL << 5)) & 8, 0);
	ck_assert_uint_eq(bring_up(1ULL << 32), 15);
}
END_TEST

START_TEST(test_requests)
{
	setup(0);
	for (int i = 0; i < 4096; i++)
		ram[DATA + i] = (uint8_t)(i * 7);
	ck_assert_int_eq(request(1, 8, 4096, 0), S_OK); /* write */
	uint8_t back[4096];
	ck_assert_int_eq(pread(disk, back, 4096, 8 * 512), 4096);
	ck_assert(memcmp(back, ram + DATA, 4096) == 0);
	memset(ram + DATA, 0, 4096);
	ck_assert_int_eq(request(0, 8, 4096, 1), S_OK); /* read */
	ck_assert(memcmp(back, ram + DATA, 4096) == 0);
	uint32_t len;
	memcpy(&len, ram + USED + 4 + 8 + 4, 4); /* the second element */
	ck_assert_uint_eq(len, 4097);		 /* data and status written */
	ck_assert_int_eq(request(4, 0, 0, 0), S_OK);  /* flush */
	ck_assert_int_eq(request(8, 0, 20, 1), S_OK); /* get id */
	ck_assert(memcmp(ram + DATA, "serial-123\0", 11) == 0);
	/* past the end, a partial sector, an unknown type */
	ck_assert_int_eq(request(0, DISK / 512, 512, 1), S_IOERR);
	ck_assert_int_eq(request(0, DISK / 512 - 1, 1024, 1), S_IOERR);
	ck_assert_int_eq(request(0, UINT64_MAX / 256, 512, 1), S_IOERR);
	ck_assert_int_eq(request(1, 0, 100, 0), S_IOERR);
	ck_assert_int_eq(request(99, 0, 0, 0), S_UNSUPP);
	/* discard: one segment, whole sectors */
	uint32_t seg[4] = {8, 0, 8, 0}; /* sector 8, 8 sectors, no flags */
	memcpy(ram + DATA, seg, 16);
	ck_assert_int_eq(request(11, 0, 16, 0), S_OK);
	ck_assert_int_eq(pread(disk, back, 4096, 8 * 512), 4096);
	for (int i = 0; i < 4096; i++)
		ck_assert_int_eq(back[i], 0);
	ck_assert_uint_eq(rd(0x70) & NEEDS_RESET, 0);
}
END_TEST

START_TEST(test_read_only_device)
{
	setup(1);
	wr(0x14, 0);
	ck_assert(rd(0x10) & (1u << 5)); /* RO offered */
	ck_assert(!(rd(0x10) & (1u << 13)));
	ck_assert_int_eq(request(1, 0, 512, 0), S_IOERR);
	ck_assert_int_eq(request(0, 0, 512, 1), S_OK);
}
END_TEST

/* A broken chain: NEEDS_RESET, a configuration interrupt, nothing more
 * served until a reset, after which the device works again. */
static void expect_broken(const char *why)
{
	char want[256];
	snprintf(want, sizeof(want),
		 "fresco: test: the guest's driver broke the device (%s); it "
		 "is stopped until the driver resets it\n",
		 why);
	ck_assert_str_eq(last_error(), want);
	ck_assert_uint_eq(rd(0x70) & NEEDS_RESET, NEEDS_RESET);
	ck_assert_uint_eq(rd(0x60) & 2, 2);
	uint16_t before = used_idx();
	put_desc(0, HDR, 16, 1, 1);
	put_desc(1, HDR + 16, 1, 2, 0);
	publish(0);
	ck_assert_uint_eq(used_idx(), before); /* ignored */
	ck_assert_uint_eq(bring_up((1ULL << 32) | (1ULL << 29)), 15);
	ck_assert_int_eq(request(4, 0, 0, 0), S_OK);
}

START_TEST(test_malformed_chains_need_a_reset)
{
	setup(0);
	/* a loop */
	put_desc(0, HDR, 16, 1, 1);
	put_desc(1, HDR + 16, 1, 1, 0);
	publish(0);
	expect_broken("descriptor chain from 0 loops");
	/* outside guest memory, and straddling its end */
	put_desc(0, MEM - 8, 16, 1, 1);
	put_desc(1, HDR + 16, 1, 2, 0);
	publish(0);
	expect_broken("descriptor 0 (0xfff8, 16 bytes) outside guest memory");
	put_desc(0, UINT64_MAX - 4, 16, 1, 1);
	publish(0);
	expect_broken("descriptor 0 (0xfffffffffffffffb, 16 bytes) outside "
		      "guest memory");
	/* readable after writable */
	put_desc(0, HDR + 16, 1, 3, 1);
	put_desc(1, HDR, 16, 0, 0);
	publish(0);
	expect_broken("device-readable descriptor 1 after a writable one");
	/* a head or a link out of the queue */
	publish(QN + 3);
	expect_broken("chain head 19 out of a queue of 16");
	put_desc(0, HDR, 16, 1, 200);
	publish(0);
	expect_broken("descriptor 0 links to 200, out of the queue");
	/* no status byte */
	put_desc(0, HDR, 16, 0, 0);
	publish(0);
	expect_broken("request 0 has no header or no status byte");
	/* the avail index jumping past the queue size */
	avail_idx += QN + 1;
	publish(0);
	expect_broken("avail index moved by 18 in a queue of 16 entries");
	/* indirect descriptors were not offered */
	put_desc(0, HDR, 16, 4, 0);
	publish(0);
	expect_broken("indirect descriptor 0 (not negotiated)");
}
END_TEST

START_TEST(test_bad_queue_areas_are_refused)
{
	setup(0);
	wr(0x70, 0);
	wr(0x70, 3);
	wr(0x24, 1);
	wr(0x20, 1);
	wr(0x70, 11);
	wr(0x30, 0);
	wr(0x38, 12); /* not a power of two */
	wr(0x44, 1);
	ck_assert_uint_eq(rd(0x70) & NEEDS_RESET, NEEDS_RESET);
	ck_assert_uint_eq(rd(0x44), 0);
	ck_assert_ptr_nonnull(strstr(last_error(), "(queue size is not a power "
						   "of two up to 256)"));
	wr(0x70, 0);
	wr(0x70, 3);
	wr(0x24, 1);
	wr(0x20, 1);
	wr(0x70, 11);
	wr(0x38, QN);
	wr(0x80, MEM - 16); /* the table runs past the end */
	wr(0x44, 1);
	ck_assert_uint_eq(rd(0x70) & NEEDS_RESET, NEEDS_RESET);
	ck_assert_ptr_nonnull(
		strstr(last_error(), "(queue area outside guest memory)"));
}
END_TEST

START_TEST(test_event_idx_suppresses_interrupts)
{
	setup(0);
	uint16_t far = 100;
	memcpy(ram + AVAIL + 4 + 2 * QN, &far, 2); /* used_event */
	wr(0x64, 3);
	ck_assert_int_eq(request(4, 0, 0, 0), S_OK);
	ck_assert_uint_eq(rd(0x60) & 1, 0); /* not asked for */
	uint16_t now = used_idx();
	memcpy(ram + AVAIL + 4 + 2 * QN, &now, 2);
	ck_assert_int_eq(request(4, 0, 0, 0), S_OK);
	ck_assert_uint_eq(rd(0x60) & 1, 1);
	wr(0x64, 1);
	ck_assert_uint_eq(rd(0x60) & 1, 0);
	/* the device asks to be notified past what it took */
	uint16_t avail_event;
	memcpy(&avail_event, ram + USED + 4 + 8 * QN, 2);
	ck_assert_uint_eq(avail_event, avail_idx);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("virtio");
	TCase *t = tcase_create("virtio");
	tcase_add_checked_fixture(t, NULL, teardown);
	tcase_add_test(t, test_registers_and_configuration);
	tcase_add_test(t, test_feature_negotiation);
	tcase_add_test(t, test_requests);
	tcase_add_test(t, test_read_only_device);
	tcase_add_test(t, test_malformed_chains_need_a_reset);
	tcase_add_test(t, test_bad_queue_areas_are_refused);
	tcase_add_test(t, test_event_idx_suppresses_interrupts);
	suite_add_tcase(s, t);
	return unit_run(s);
}
