/* test_cpio.c: reading and writing cpio newc archives. */
#include "lib/lib.h"
#include "unit.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char ar[4096];
static size_t ar_len;

static void make_archive(void)
{
	size_t off = 0;
	ck_assert_int_eq(
		cpio_put(ar, sizeof(ar), &off, "bin", 040755, 1, NULL, 0), 0);
	ck_assert_int_eq(cpio_put(ar, sizeof(ar), &off, "bin/hello", 0100755, 2,
				  "HELLO", 5),
			 0);
	ck_assert_int_eq(
		cpio_put(ar, sizeof(ar), &off, "TRAILER!!!", 0, 0, NULL, 0), 0);
	ar_len = off;
}

START_TEST(test_written_entries_read_back)
{
	struct cpio_file f;
	size_t off = 0;

	make_archive();
	ck_assert_int_eq(cpio_next(ar, ar_len, &off, &f), 1);
	ck_assert_int_eq(f.namelen, 3);
	ck_assert_int_eq(f.mode, 040755);
	ck_assert_int_eq(cpio_next(ar, ar_len, &off, &f), 1);
	ck_assert_int_eq(f.size, 5);
	ck_assert_mem_eq(f.data, "HELLO", 5);
	ck_assert_int_eq(f.mode, 0100755);
	ck_assert_int_eq(cpio_next(ar, ar_len, &off, &f), 0);
}
END_TEST

START_TEST(test_find_ignores_leading_slash_and_dot)
{
	struct cpio_file f;
	make_archive();
	ck_assert_int_eq(cpio_find(ar, ar_len, "/bin/hello", &f), 0);
	ck_assert_int_eq(cpio_find(ar, ar_len, "./bin/hello", &f), 0);
	ck_assert_int_eq(cpio_find(ar, ar_len, "bin/hello", &f), 0);
	ck_assert_mem_eq(f.data, "HELLO", 5);
	ck_assert_int_eq(cpio_find(ar, ar_len, "/bin/hell", &f), -ENOENT);
	ck_assert_int_eq(cpio_find(ar, ar_len, "/bin/hello2", &f), -ENOENT);
}
END_TEST

START_TEST(test_corrupt_headers_are_einval)
{
	struct cpio_file f;
	size_t off = 0;

	make_archive();
	ck_assert_int_eq(cpio_next(ar, 50, &off, &f), -EINVAL); /* short */
	ck_assert_int_eq(off, 0);
	ar[0] = 'X';
	ck_assert_int_eq(cpio_next(ar, ar_len, &off, &f), -EINVAL); /* magic */
	make_archive();
	ar[6 + 8] = 'g'; /* mode field: not hex */
	ck_assert_int_eq(cpio_next(ar, ar_len, &off, &f), -EINVAL);
	make_archive();
	memcpy(ar + 6 + 8 * 11, "00000000", 8); /* namesize 0 */
	ck_assert_int_eq(cpio_next(ar, ar_len, &off, &f), -EINVAL);
	make_archive();
	memcpy(ar + 6 + 8 * 11, "00000003", 8); /* name not NUL-ended */
	ck_assert_int_eq(cpio_next(ar, ar_len, &off, &f), -EINVAL);
	ck_assert_int_eq(cpio_find(ar, ar_len, "x", &f), -EINVAL);
}
END_TEST

START_TEST(test_data_past_the_end_is_einval)
{
	struct cpio_file f;
	size_t off = 0;
	make_archive();
	/* second entry claims 0x7fffffff bytes */
	cpio_next(ar, ar_len, &off, &f);
	size_t second = off;
	memcpy(ar + second + 6 + 8 * 6, "7fffffff", 8);
	ck_assert_int_eq(cpio_next(ar, ar_len, &off, &f), -EINVAL);
	ck_assert_int_eq(off, second);
}
END_TEST

START_TEST(test_put_without_room_changes_nothing)
{
	char small[200];
	size_t off = 0;
	ck_assert_int_eq(
		cpio_put(small, sizeof(small), &off, "f", 0100644, 1, ar, 100),
		-ENOSPC);
	ck_assert_int_eq(off, 0);
	ck_assert_int_eq(cpio_entry_size("f", 100), 112 + 100);
}
END_TEST

START_TEST(test_reads_archive_made_by_gnu_cpio)
{
	char dir[] = "/tmp/fresco-cpio-XXXXXX", cmd[512];
	static char buf[8192];
	struct cpio_file f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd),
		 "cd %s && mkdir d && printf 'file data\\n' > d/f && "
		 "ln -s f d/l && printf 'd\\nd/f\\nd/l\\n' | "
		 "cpio -o -H newc --quiet > ar.cpio",
		 dir);
	ck_assert_int_eq(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s/ar.cpio", dir);
	FILE *fp = fopen(cmd, "rb");
	ck_assert_ptr_nonnull(fp);
	size_t n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	ck_assert_int_eq(cpio_find(buf, n, "/d/f", &f), 0);
	ck_assert_int_eq(f.size, 10);
	ck_assert_mem_eq(f.data, "file data\n", 10);
	ck_assert_int_eq(f.mode & 0170000, 0100000);
	ck_assert_int_eq(cpio_find(buf, n, "d/l", &f), 0);
	ck_assert_int_eq(f.mode & 0170000, 0120000);
	ck_assert_mem_eq(f.data, "f", 1);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cpio");
	TCase *t = tcase_create("cpio");
	tcase_add_test(t, test_written_entries_read_back);
	tcase_add_test(t, test_find_ignores_leading_slash_and_dot);
	tcase_add_test(t, test_corrupt_headers_are_einval);
	tcase_add_test(t, test_data_past_the_end_is_einval);
	tcase_add_test(t, test_put_without_room_changes_nothing);
	tcase_add_test(t, test_reads_archive_made_by_gnu_cpio);
	suite_add_tcase(s, t);
	return unit_run(s);
}
