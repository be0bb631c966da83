/* test_cmdline.c: the kernel command line: parameters, arguments, quoting. */
#include "lib/lib.h"
#include "unit.h"

#include <string.h>

#define CAP 16

static char *argv[CAP], *envp[CAP];
static struct boot_args a;
static char buf[1024];

static int parse(const char *s)
{
	strcpy(buf, s);
	return cmdline_parse(buf, argv, envp, CAP, &a);
}

START_TEST(test_parameters_and_arguments)
{
	ck_assert_int_eq(parse("console=ttyS0 init=/bin/app fresco.env=A=1 "
			       "fresco.env=B= quiet -- x -- y"),
			 0);
	ck_assert_str_eq(a.init, "/bin/app");
	ck_assert_int_eq(a.argc, 4);
	ck_assert_str_eq(argv[0], "/bin/app");
	ck_assert_str_eq(argv[1], "x");
	ck_assert_str_eq(argv[2], "--");
	ck_assert_str_eq(argv[3], "y");
	ck_assert_ptr_null(argv[4]);
	ck_assert_int_eq(a.envc, 2);
	ck_assert_str_eq(envp[0], "A=1");
	ck_assert_str_eq(envp[1], "B=");
	ck_assert_ptr_null(envp[2]);
	ck_assert_int_eq(a.tty, 0);
}
END_TEST

START_TEST(test_defaults)
{
	ck_assert_int_eq(parse("  "), 0);
	ck_assert_str_eq(a.init, "/init");
	ck_assert_int_eq(a.argc, 1);
	ck_assert_int_eq(a.envc, 0);
	ck_assert_int_eq(parse("fresco.tty=1"), 0);
	ck_assert_int_eq(a.tty, 1);
	ck_assert_ptr_null(a.cwd);
	ck_assert_int_eq(parse("fresco.cwd=/srv/app"), 0);
	ck_assert_str_eq(a.cwd, "/srv/app");
	ck_assert_int_eq(a.link_up, 0);
	ck_assert_int_eq(parse("fresco.link=up"), 0);
	ck_assert_int_eq(a.link_up, 1);
	ck_assert_int_eq(parse("fresco.link=down"), 0);
	ck_assert_int_eq(a.link_up, 0);
}
END_TEST

START_TEST(test_quotes_and_escapes)
{
	ck_assert_int_eq(parse("init=\"/my app\" -- \"two words\" \"\" "
			       "a\\\"b \"c\\\\d\" x\"y z\""),
			 0);
	ck_assert_str_eq(a.init, "/my app");
	ck_assert_int_eq(a.argc, 6);
	ck_assert_str_eq(argv[1], "two words");
	ck_assert_str_eq(argv[2], "");
	ck_assert_str_eq(argv[3], "a\"b");
	ck_assert_str_eq(argv[4], "c\\d");
	ck_assert_str_eq(argv[5], "xy z");
}
END_TEST

START_TEST(test_malformed_lines_are_refused)
{
	ck_assert_int_eq(parse("-- \"open quote"), -EINVAL);
	ck_assert_int_eq(parse("-- 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16"),
			 -E2BIG);
}
END_TEST

START_TEST(test_quote_round_trips)
{
	static const char *const words[] = {
		"plain",       "",	     "two words",
		"tab\there",   "new\nline",  "quote\"inside",
		"back\\slash", "\"",	     "\\",
		"ünïcödé",     "trailing\\",
	};
	char line[512] = "--";
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		char q[64];
		size_t n = cmdline_quote(q, sizeof(q), words[i]);
		ck_assert_int_eq(n, strlen(q));
		strcat(line, " ");
		strcat(line, q);
	}
	ck_assert_int_eq(parse(line), 0);
	ck_assert_int_eq(a.argc, 12);
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		ck_assert_str_eq(argv[i + 1], words[i]);
}
END_TEST

START_TEST(test_quote_reports_needed_length_when_truncated)
{
	char q[4];
	ck_assert_int_eq(cmdline_quote(q, sizeof(q), "a b"), 5);
	ck_assert_str_eq(q, "\"a ");
	ck_assert_int_eq(cmdline_quote(NULL, 0, "abc"), 3);
}
END_TEST

START_TEST(test_virtio_devices_and_mounts)
{
	ck_assert_int_eq(
		parse("virtio_mmio.device=4K@0xd0000000:5 "
		      "virtio_mmio.device=512@0xFEB00E00:12:3 "
		      "fresco.mount=vda:/data fresco.mount=vdb:/a/b:ro"),
		0);
	ck_assert_int_eq(a.nvirtio, 2);
	ck_assert_uint_eq(a.virtio[0].size, 4096);
	ck_assert_uint_eq(a.virtio[0].addr, 0xd0000000ULL);
	ck_assert_uint_eq(a.virtio[0].irq, 5);
	ck_assert_uint_eq(a.virtio[1].size, 512);
	ck_assert_uint_eq(a.virtio[1].addr, 0xfeb00e00ULL);
	ck_assert_uint_eq(a.virtio[1].irq, 12);
	ck_assert_int_eq(a.nmounts, 2);
	ck_assert_str_eq(a.mounts[0].device, "vda");
	ck_assert_str_eq(a.mounts[0].path, "/data");
	ck_assert_int_eq(a.mounts[0].readonly, 0);
	ck_assert_str_eq(a.mounts[1].device, "vdb");
	ck_assert_str_eq(a.mounts[1].path, "/a/b");
	ck_assert_int_eq(a.mounts[1].readonly, 1);
}
END_TEST

START_TEST(test_malformed_devices_and_mounts_are_refused)
{
	static const char *bad[] = {
		"virtio_mmio.device=",
		"virtio_mmio.device=4K",
		"virtio_mmio.device=4K@0xd0000000",
		"virtio_mmio.device=4K@0xd0000000:",
		"virtio_mmio.device=4K@0xd0000000:300",
		"virtio_mmio.device=4Q@0xd0000000:5",
		"virtio_mmio.device=0@0xd0000000:5",
		"virtio_mmio.device=99999999999999999999@0:5",
		"virtio_mmio.device=4K@0xd0000000:5x",
		"fresco.mount=vda",
		"fresco.mount=vda:data",
		"fresco.mount=:/data",
		"fresco.mount=vda:/data:rx",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(parse(bad[i]) == -EINVAL, "accepted %s", bad[i]);
	char many[1024] = "";
	for (int i = 0; i <= BOOT_MOUNT_MAX; i++)
		strcat(many, "fresco.mount=vda:/x ");
	ck_assert_int_eq(parse(many), -E2BIG);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cmdline");
	TCase *t = tcase_create("cmdline");
	tcase_add_test(t, test_parameters_and_arguments);
	tcase_add_test(t, test_defaults);
	tcase_add_test(t, test_quotes_and_escapes);
	tcase_add_test(t, test_malformed_lines_are_refused);
	tcase_add_test(t, test_quote_round_trips);
	tcase_add_test(t, test_quote_reports_needed_length_when_truncated);
	tcase_add_test(t, test_virtio_devices_and_mounts);
	tcase_add_test(t, test_malformed_devices_and_mounts_are_refused);
	suite_add_tcase(s, t);
	return unit_run(s);
}
