/* test_stack.c: the initial stack as a program's _start reads it. */
#include "lib/lib.h"
#include "unit.h"

#include <linux/auxvec.h>
#include <string.h>

#define TOP 0x7ffffffff000ULL
#define SIZE 8192

static uint64_t stack[SIZE / 8];
static const uint8_t rnd[16] = {1, 2,  3,  4,  5,  6,  7,  8,
				9, 10, 11, 12, 13, 14, 15, 16};

/* The host pointer behind user address (a) of the stack. */
static void *at(uint64_t a)
{
	ck_assert(a >= TOP - SIZE && a < TOP);
	return (char *)stack + (a - (TOP - SIZE));
}

static uint64_t word(uint64_t a)
{
	uint64_t v;
	memcpy(&v, at(a), 8);
	return v;
}

static int build(char *const *argv, int argc, char *const *envp, int envc,
		 uint64_t *rsp)
{
	static const uint64_t aux[][2] = {{AT_PAGESZ, 4096},
					  {AT_ENTRY, 0x401000}};
	struct stack_spec spec = {argv,	    argc, envp, envc, "/bin/prog",
				  "x86_64", rnd,  aux,	2};
	return stack_build(stack, SIZE, TOP, &spec, rsp);
}

START_TEST(test_layout_is_what_linux_gives)
{
	char *argv[] = {"/bin/prog", "one", "two words"};
	char *envp[] = {"A=1", "PATH=/bin"};
	uint64_t rsp, p;

	ck_assert_int_eq(build(argv, 3, envp, 2, &rsp), 0);
	ck_assert_int_eq(rsp % 16, 0);
	ck_assert_int_eq(word(rsp), 3);
	for (int i = 0; i < 3; i++)
		ck_assert_str_eq(at(word(rsp + 8 + 8 * i)), argv[i]);
	ck_assert_int_eq(word(rsp + 32), 0);
	ck_assert_str_eq(at(word(rsp + 40)), "A=1");
	ck_assert_str_eq(at(word(rsp + 48)), "PATH=/bin");
	ck_assert_int_eq(word(rsp + 56), 0);

	int seen_random = 0, seen_execfn = 0, seen_platform = 0, seen_page = 0;
	for (p = rsp + 64; word(p) != AT_NULL; p += 16) {
		uint64_t type = word(p), val = word(p + 8);
		if (type == AT_RANDOM) {
			ck_assert_mem_eq(at(val), rnd, 16);
			seen_random = 1;
		} else if (type == AT_EXECFN) {
			ck_assert_str_eq(at(val), "/bin/prog");
			seen_execfn = 1;
		} else if (type == AT_PLATFORM) {
			ck_assert_str_eq(at(val), "x86_64");
			seen_platform = 1;
		} else if (type == AT_PAGESZ) {
			ck_assert_int_eq(val, 4096);
			seen_page = 1;
		}
	}
	ck_assert(seen_random && seen_execfn && seen_platform && seen_page);
}
END_TEST

START_TEST(test_no_arguments_or_environment)
{
	uint64_t rsp;
	ck_assert_int_eq(build(NULL, 0, NULL, 0, &rsp), 0);
	ck_assert_int_eq(rsp % 16, 0);
	ck_assert_int_eq(word(rsp), 0);
	ck_assert_int_eq(word(rsp + 8), 0);
	ck_assert_int_eq(word(rsp + 16), 0);
}
END_TEST

START_TEST(test_alignment_holds_for_every_argument_count)
{
	char *argv[] = {"a", "bb", "ccc", "dddd", "eeeee", "f"};
	for (int n = 0; n <= 6; n++) {
		uint64_t rsp;
		ck_assert_int_eq(build(argv, n, argv, 6 - n, &rsp), 0);
		ck_assert_int_eq(rsp % 16, 0);
		ck_assert_int_eq(word(rsp), n);
	}
}
END_TEST

START_TEST(test_too_much_is_e2big)
{
	static char big[SIZE];
	char *argv[] = {big};
	uint64_t rsp;
	memset(big, 'x', sizeof(big) - 1);
	ck_assert_int_eq(build(argv, 1, NULL, 0, &rsp), -E2BIG);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("stack");
	TCase *t = tcase_create("stack");
	tcase_add_test(t, test_layout_is_what_linux_gives);
	tcase_add_test(t, test_no_arguments_or_environment);
	tcase_add_test(t, test_alignment_holds_for_every_argument_count);
	tcase_add_test(t, test_too_much_is_e2big);
	suite_add_tcase(s, t);
	return unit_run(s);
}
