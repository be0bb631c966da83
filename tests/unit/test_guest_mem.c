/* test_guest_mem.c: the monitor's bounds check on guest addresses. */
#include "lib/lib.h"
#include "unit.h"
#include "vmm.h"

#include <stdint.h>

static uint8_t ram[4096];
static const struct guest_mem mem = {ram, sizeof(ram)};

START_TEST(test_range_inside_memory_is_mapped)
{
	ck_assert_ptr_eq(guest_mem_ptr(&mem, 0, 4096), ram);
	ck_assert_ptr_eq(guest_mem_ptr(&mem, 100, 10), ram + 100);
	ck_assert_ptr_eq(guest_mem_ptr(&mem, 4096, 0), ram + 4096);
}
END_TEST

START_TEST(test_range_crossing_the_end_is_refused)
{
	ck_assert_ptr_null(guest_mem_ptr(&mem, 4095, 2));
	ck_assert_ptr_null(guest_mem_ptr(&mem, 4097, 0));
	ck_assert_ptr_null(guest_mem_ptr(&mem, 0, 4097));
}
END_TEST

START_TEST(test_overflowing_range_is_refused)
{
	ck_assert_ptr_null(guest_mem_ptr(&mem, UINT64_MAX, 2));
	ck_assert_ptr_null(guest_mem_ptr(&mem, 16, UINT64_MAX - 8));
	ck_assert_ptr_null(guest_mem_ptr(&mem, UINT64_MAX - 8, 16));
}
END_TEST

START_TEST(test_user_range_check)
{
	ck_assert(user_range_ok(0x400000, 4096));
	ck_assert(user_range_ok(USER_TOP - 16, 16));
	ck_assert(user_range_ok(USER_TOP, 0));
	ck_assert(!user_range_ok(USER_TOP - 16, 17));
	ck_assert(!user_range_ok(0xffffffff80100000ULL, 8));
	ck_assert(!user_range_ok(0x0000900000000000ULL, 8)); /* non-canonical */
	ck_assert(!user_range_ok(16, UINT64_MAX - 8));	     /* wraps */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("guest_mem");
	TCase *t = tcase_create("guest_mem");
	tcase_add_test(t, test_range_inside_memory_is_mapped);
	tcase_add_test(t, test_range_crossing_the_end_is_refused);
	tcase_add_test(t, test_overflowing_range_is_refused);
	tcase_add_test(t, test_user_range_check);
	suite_add_tcase(s, t);
	return unit_run(s);
}
