/* test_inet.c: the Internet checksum, IPv4 header checks and address
 * parsing, against known packets. */
#include "lib/inet.h"
#include "unit.h"

#include <string.h>

/* An IPv4 header from RFC 1071's era of examples (checksum 0xb861). */
static const uint8_t header[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40,
				   0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
				   0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};

START_TEST(test_checksum)
{
	uint8_t h[20];
	memcpy(h, header, sizeof(h));
	h[10] = h[11] = 0;
	uint16_t c = inet_csum_done(inet_sum(h, sizeof(h), 0));
	ck_assert_uint_eq(((uint8_t *)&c)[0], 0xb8);
	ck_assert_uint_eq(((uint8_t *)&c)[1], 0x61);
	/* over a header with its checksum: zero */
	ck_assert_uint_eq(inet_csum_done(inet_sum(header, 20, 0)), 0);
	/* an odd length pads with a zero byte */
	const uint8_t odd[3] = {0x01, 0x02, 0x03};
	ck_assert_uint_eq(inet_sum(odd, 3, 0), 0x0102 + 0x0300);
}
END_TEST

static uint8_t pkt[64];

static size_t make(void)
{
	memset(pkt, 0, sizeof(pkt));
	memcpy(pkt, header, 20);
	pkt[2] = 0;
	pkt[3] = 28; /* 20 + 8 */
	pkt[10] = pkt[11] = 0;
	uint16_t c = inet_csum_done(inet_sum(pkt, 20, 0));
	memcpy(pkt + 10, &c, 2);
	return 28;
}

static void fix(void)
{
	pkt[10] = pkt[11] = 0;
	uint16_t c =
		inet_csum_done(inet_sum(pkt, (size_t)(pkt[0] & 15) * 4, 0));
	memcpy(pkt + 10, &c, 2);
}

START_TEST(test_ip_check)
{
	size_t plen;
	size_t len = make();
	ck_assert_int_eq(ip_check(pkt, len, &plen), 20);
	ck_assert_uint_eq(plen, 8);
	/* a frame longer than the packet (Ethernet padding) is fine */
	ck_assert_int_eq(ip_check(pkt, 60, &plen), 20);
	ck_assert_uint_eq(plen, 8);
	/* malformed: short, version, header length, total length, sum */
	ck_assert_int_eq(ip_check(pkt, 19, &plen), -1);
	ck_assert_int_eq(ip_check(pkt, 27, &plen), -1);
	make();
	pkt[0] = 0x65;
	fix();
	ck_assert_int_eq(ip_check(pkt, len, &plen), -1);
	make();
	pkt[0] = 0x44;
	ck_assert_int_eq(ip_check(pkt, len, &plen), -1);
	make();
	pkt[0] = 0x4f; /* 60-byte header in a 28-byte packet */
	fix();
	ck_assert_int_eq(ip_check(pkt, len, &plen), -1);
	make();
	pkt[3] = 10; /* total below the header */
	fix();
	ck_assert_int_eq(ip_check(pkt, len, &plen), -1);
	make();
	pkt[12] ^= 1;
	ck_assert_int_eq(ip_check(pkt, len, &plen), -1);
	/* fragments are not reassembled */
	make();
	pkt[6] = 0x20; /* more fragments */
	fix();
	ck_assert_int_eq(ip_check(pkt, len, &plen), IP_FRAGMENT);
	make();
	pkt[7] = 0x10; /* an offset */
	fix();
	ck_assert_int_eq(ip_check(pkt, len, &plen), IP_FRAGMENT);
	pkt[10] ^= 1; /* a broken fragment is broken */
	ck_assert_int_eq(ip_check(pkt, len, &plen), -1);
}
END_TEST

START_TEST(test_dhcp_options)
{
	struct dhcp_options o;
	/* an ACK: pad, type, mask, router, DNS (two: the first counts),
	 * lease 3600 s, server, an option nobody asked for, END */
	const uint8_t ack[] = {0, 53, 1, 5, 1,	4,  255, 255, 255, 0,	3,
			       4, 10, 0, 2, 2,	6,  8,	 10,  0,   2,	3,
			       8, 8,  8, 8, 51, 4,  0,	 0,   14,  16,	54,
			       4, 10, 0, 2, 2,	12, 3,	 'a', 'b', 'c', 255};
	ck_assert_int_eq(dhcp_parse_options(ack, sizeof(ack), &o), 0);
	ck_assert_int_eq(o.type, 5);
	ck_assert_uint_eq(o.mask, net32(0xffffff00));
	ck_assert_uint_eq(o.router, net32(0x0a000202));
	ck_assert_uint_eq(o.dns, net32(0x0a000203));
	ck_assert_uint_eq(o.server, net32(0x0a000202));
	ck_assert_uint_eq(o.lease_s, 3600);

	/* an option whose length runs past the end */
	const uint8_t past[] = {53, 1, 2, 6, 200, 1, 2, 3, 4};
	ck_assert_int_eq(dhcp_parse_options(past, sizeof(past), &o), -1);
	/* a code with no room for its length */
	const uint8_t cut[] = {53, 1, 2, 6};
	ck_assert_int_eq(dhcp_parse_options(cut, sizeof(cut), &o), -1);
	/* no END */
	const uint8_t open_[] = {53, 1, 2, 0, 0};
	ck_assert_int_eq(dhcp_parse_options(open_, sizeof(open_), &o), -1);
	/* short values are ignored, not read past */
	const uint8_t shortv[] = {1, 2, 255, 255, 53, 0, 255};
	ck_assert_int_eq(dhcp_parse_options(shortv, sizeof(shortv), &o), 0);
	ck_assert_uint_eq(o.mask, 0);
	ck_assert_int_eq(o.type, 0);
	/* empty: no END either */
	ck_assert_int_eq(dhcp_parse_options(ack, 0, &o), -1);
}
END_TEST

START_TEST(test_inet_parse)
{
	uint32_t a;
	ck_assert_int_eq(inet_parse("10.0.2.15", &a), 0);
	ck_assert_uint_eq(((uint8_t *)&a)[0], 10);
	ck_assert_uint_eq(((uint8_t *)&a)[3], 15);
	ck_assert_int_eq(inet_parse("255.255.255.255", &a), 0);
	ck_assert_uint_eq(a, 0xffffffffu);
	static const char *bad[] = {"",		 "1.2.3",      "1.2.3.4.5",
				    "256.1.1.1", "1..2.3",     "a.b.c.d",
				    "1.2.3.4 ",	 "01234.1.1.1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(inet_parse(bad[i], &a) < 0, "accepted '%s'",
			      bad[i]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("inet");
	TCase *t = tcase_create("inet");
	tcase_add_test(t, test_checksum);
	tcase_add_test(t, test_ip_check);
	tcase_add_test(t, test_inet_parse);
	tcase_add_test(t, test_dhcp_options);
	suite_add_tcase(s, t);
	return unit_run(s);
}
