/* test_callpatch.c: which system call sites are patched, and the bytes
 * that replace them, checked by decoding them again. */
#include "lib/callpatch.h"
#include "unit.h"

#include <string.h>

#define BEFORE CALLPATCH_BEFORE

/* (code) around a return address (ret): (pre) ends at it, (post) starts
 * there; the rest is filler (push %rbp) that is no padding or prefix. */
static void place(uint8_t *code, const uint8_t *pre, size_t npre,
		  const uint8_t *post, size_t npost)
{
	memset(code, 0x55, BEFORE + CALLPATCH_AFTER);
	memcpy(code + BEFORE - npre, pre, npre);
	if (npost)
		memcpy(code + BEFORE, post, npost);
}

static const uint8_t mov_getpid[] = {0xb8, 39, 0, 0, 0, 0x0f, 0x05};
static const uint8_t mov_to_rax[] = {0x48, 0x89, 0xf8, 0x0f, 0x05};

START_TEST(test_constant_site)
{
	uint8_t code[BEFORE + CALLPATCH_AFTER];
	place(code, mov_getpid, sizeof(mov_getpid), NULL, 0);
	ck_assert_int_eq(callpatch_site(code, 0x401007, 39),
			 CALLPATCH_CONSTANT);
	/* another number in RAX than the mov's: that mov is not what set it */
	ck_assert_int_eq(callpatch_site(code, 0x401007, 40), CALLPATCH_NONE);
	/* a REX prefix makes the mov one to r8d: RAX is not from it; and
	 * an operand-size prefix before the syscall rules out the tail */
	static const uint8_t mov_r8d[] = {0x41, 0xb8, 39, 0, 0, 0, 0x0f, 0x05};
	place(code, mov_r8d, sizeof(mov_r8d), NULL, 0);
	ck_assert_int_eq(callpatch_site(code, 0x401007, 39), CALLPATCH_NONE);
	/* no syscall instruction before the return address */
	code[BEFORE - 1] = 0x90;
	ck_assert_int_eq(callpatch_site(code, 0x401007, 39), CALLPATCH_NONE);
	/* the number from a register, and no ret: nothing to patch */
	place(code, mov_to_rax, sizeof(mov_to_rax), NULL, 0);
	ck_assert_int_eq(callpatch_site(code, 0x401007, 39), CALLPATCH_NONE);
}
END_TEST

START_TEST(test_tail_site)
{
	uint8_t code[BEFORE + CALLPATCH_AFTER];
	/* musl's __syscall_cp_c: syscall; ret; 6 bytes of padding to a
	 * 16-byte boundary (ret at 0x40a4c9) */
	static const uint8_t ret_pad6[] = {0xc3, 0x66, 0x0f, 0x1f,
					   0x44, 0x00, 0x00};
	place(code, mov_to_rax, sizeof(mov_to_rax), ret_pad6, sizeof(ret_pad6));
	ck_assert_int_eq(callpatch_site(code, 0x40a4c9, 0), CALLPATCH_TAIL);
	/* the same bytes where the padding would not end on a boundary */
	ck_assert_int_eq(callpatch_site(code, 0x40a4c8, 0), CALLPATCH_NONE);
	ck_assert_int_eq(callpatch_site(code, 0x40a4ca, 0), CALLPATCH_NONE);
	/* a prefix before the syscall */
	static const uint8_t prefixed[] = {0x66, 0x0f, 0x05};
	place(code, prefixed, sizeof(prefixed), ret_pad6, sizeof(ret_pad6));
	ck_assert_int_eq(callpatch_site(code, 0x40a4c9, 0), CALLPATCH_NONE);
	place(code, mov_to_rax, sizeof(mov_to_rax), ret_pad6, sizeof(ret_pad6));
	/* no ret after the call: the next bytes may be run */
	code[BEFORE] = 0x90;
	ck_assert_int_eq(callpatch_site(code, 0x40a4c9, 0), CALLPATCH_NONE);
	/* padding that is not padding (a real instruction) */
	static const uint8_t ret_code[] = {0xc3, 0x66, 0x0f, 0x1f,
					   0x44, 0x00, 0x01};
	place(code, mov_to_rax, sizeof(mov_to_rax), ret_code, sizeof(ret_code));
	ck_assert_int_eq(callpatch_site(code, 0x40a4c9, 0), CALLPATCH_NONE);
	/* int3 padding (lld's), and several NOPs, both taken */
	static const uint8_t ret_int3[] = {0xc3, 0xcc, 0xcc, 0xcc,
					   0xcc, 0xcc, 0xcc};
	place(code, mov_to_rax, sizeof(mov_to_rax), ret_int3, sizeof(ret_int3));
	ck_assert_int_eq(callpatch_site(code, 0x40a4c9, 0), CALLPATCH_TAIL);
	static const uint8_t ret_nops[] = {0xc3, 0x0f, 0x1f, 0x00, 0x66, 0x90,
					   0x90, 0x0f, 0x1f, 0x40, 0x00};
	place(code, mov_to_rax, sizeof(mov_to_rax), ret_nops, sizeof(ret_nops));
	ck_assert_int_eq(callpatch_site(code, 0x40a4c5, 0), CALLPATCH_TAIL);
	/* padding of 4 bytes leaves no room for the jump */
	ck_assert_int_eq(callpatch_site(code, 0x40a4cb, 0), CALLPATCH_NONE);
	/* a mix of int3 and NOPs is not what any assembler writes */
	static const uint8_t ret_mix[] = {0xc3, 0xcc, 0x90, 0x90,
					  0x90, 0x90, 0x90};
	place(code, mov_to_rax, sizeof(mov_to_rax), ret_mix, sizeof(ret_mix));
	ck_assert_int_eq(callpatch_site(code, 0x40a4c9, 0), CALLPATCH_NONE);
}
END_TEST

START_TEST(test_reach)
{
	/* a rel32 jump reaches 2 GiB back and 2 GiB - 1 forward, and wraps
	 * around the top of the address space */
	ck_assert(callpatch_reaches(0x80000000ULL, 0));
	ck_assert(callpatch_reaches(0, 0x7fffffffULL));
	ck_assert(!callpatch_reaches(0, 0x80000000ULL));
	ck_assert(!callpatch_reaches(0x80000001ULL, 0));
	ck_assert(callpatch_reaches(0x401000, 0xffffffffc0000000ULL));
	ck_assert(!callpatch_reaches(0x40000001ULL, 0xffffffffc0000000ULL));
	ck_assert(!callpatch_reaches(0x7f0000000000ULL, 0xffffffffc0000000ULL));
}
END_TEST

static uint64_t jump_target(const uint8_t *p, uint64_t at)
{
	int32_t d;
	ck_assert_uint_eq(p[0], 0xe9);
	memcpy(&d, p + 1, 4);
	return at + 5 + (uint64_t)(int64_t)d;
}

START_TEST(test_slots)
{
	const uint64_t slot = 0xffffffffc0000020ULL;
	const uint64_t entry = 0xffffffff80101234ULL;
	uint8_t s[CALLPATCH_SLOT_LEN];
	uint64_t ret;

	/* constant: mov $nr, %eax; movabs $ret, %rcx; jmp entry */
	ck_assert_int_eq(callpatch_slot(s, CALLPATCH_CONSTANT, 39, NULL, 0,
					0x401007, slot, entry),
			 0);
	ck_assert_uint_eq(s[0], 0xb8);
	ck_assert_uint_eq(s[1], 39);
	ck_assert_uint_eq(s[5], 0x48);
	ck_assert_uint_eq(s[6], 0xb9);
	memcpy(&ret, s + 7, 8);
	ck_assert_uint_eq(ret, 0x401007);
	ck_assert_uint_eq(jump_target(s + 15, slot + 15), entry);
	ck_assert_uint_eq(s[20], 0xcc);
	/* tail: RAX as it is */
	ck_assert_int_eq(callpatch_slot(s, CALLPATCH_TAIL, 0, NULL, 0, 0x40a4c9,
					slot, entry),
			 0);
	ck_assert_uint_eq(s[0], 0x48);
	memcpy(&ret, s + 2, 8);
	ck_assert_uint_eq(ret, 0x40a4c9);
	ck_assert_uint_eq(jump_target(s + 10, slot + 10), entry);
	/* an entry out of reach */
	ck_assert_int_eq(callpatch_slot(s, CALLPATCH_TAIL, 0, NULL, 0, 0x40a4c9,
					slot, 0x7f0000000000ULL),
			 -1);
}
END_TEST

START_TEST(test_edits)
{
	const uint64_t slot = 0xffffffffc0000040ULL;
	struct callpatch_edit e[2];

	/* constant: the mov becomes the jump; the syscall stays */
	ck_assert_int_eq(
		callpatch_edits(e, CALLPATCH_CONSTANT, 0, 0x401007, slot), 1);
	ck_assert_uint_eq(e[0].at, 0x401000);
	ck_assert_uint_eq(e[0].len, 5);
	ck_assert_uint_eq(jump_target(e[0].bytes, e[0].at), slot);
	/* tail: the padding's jump first, then the syscall jumps over the
	 * ret to it */
	ck_assert_int_eq(callpatch_edits(e, CALLPATCH_TAIL, 0, 0x40a4c9, slot),
			 2);
	ck_assert_uint_eq(e[0].at, 0x40a4ca);
	ck_assert_uint_eq(jump_target(e[0].bytes, e[0].at), slot);
	ck_assert_uint_eq(e[1].at, 0x40a4c7);
	ck_assert_uint_eq(e[1].len, 2);
	ck_assert_uint_eq(e[1].bytes[0], 0xeb);
	ck_assert_uint_eq(e[1].at + 2 + e[1].bytes[1], e[0].at);
	/* a site too far from the slots */
	ck_assert_int_eq(
		callpatch_edits(e, CALLPATCH_TAIL, 0, 0x7f0000001007ULL, slot),
		-1);
}
END_TEST

/* As musl's fstatat and many more: the arguments loaded between the mov
 * and the syscall. */
static const uint8_t mov_moves[] = {0xb8, 0x06, 0x01, 0, 0, /* mov $262, %eax */
				    0x48, 0x63, 0xff, /* movslq %edi, %rdi */
				    0x4c, 0x89, 0xd6, /* mov %r10, %rsi */
				    0x31, 0xd2,	      /* xor %edx, %edx */
				    0x41, 0x89, 0xc2, /* mov %eax, %r10d */
				    0x0f, 0x05};

START_TEST(test_constant_site_with_moves)
{
	uint8_t code[BEFORE + CALLPATCH_AFTER], v[sizeof(mov_moves)];
	place(code, mov_moves, sizeof(mov_moves), NULL, 0);
	ck_assert_int_eq(callpatch_site(code, 0x401012, 262),
			 CALLPATCH_CONSTANT);
	ck_assert_uint_eq(callpatch_moves(code, 262), 11);
	ck_assert_int_eq(callpatch_site(code, 0x401012, 263), CALLPATCH_NONE);
	/* what is no register move, or moves into RAX or RSP */
	static const struct {
		unsigned at;
		uint8_t b[3];
	} bad[] = {
		{11, {0x31, 0xc0}},	  /* xor %eax, %eax */
		{8, {0x48, 0x8b, 0x37}},  /* mov (%rdi), %rsi */
		{8, {0x48, 0x89, 0xc4}},  /* mov %rax, %rsp */
		{5, {0x48, 0x89, 0xf8}},  /* mov %rdi, %rax */
		{13, {0x41, 0x89, 0x44}}, /* mov %eax, disp8(...) */
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(v, mov_moves, sizeof(v));
		memcpy(v + bad[i].at, bad[i].b, bad[i].b[0] == 0x31 ? 2 : 3);
		place(code, v, sizeof(v), NULL, 0);
		ck_assert_int_eq(callpatch_site(code, 0x401012, 262),
				 CALLPATCH_NONE);
	}
	/* more moves than a site may have: the mov is out of sight */
	static const uint8_t many[] = {0xb8, 39,   0,	 0,    0,    0x48,
				       0x89, 0xfe, 0x48, 0x89, 0xfe, 0x48,
				       0x89, 0xfe, 0x48, 0x89, 0xfe, 0x48,
				       0x89, 0xfe, 0x0f, 0x05};
	place(code, many + sizeof(many) - BEFORE, BEFORE, NULL, 0);
	ck_assert_int_eq(callpatch_site(code, 0x401016, 39), CALLPATCH_NONE);
	/* the slot replays the moves, and the edit is the mov */
	const uint64_t slot = 0xffffffffc0000060ULL;
	const uint64_t entry = 0xffffffff80101234ULL;
	uint8_t s[CALLPATCH_SLOT_LEN];
	ck_assert_int_eq(callpatch_slot(s, CALLPATCH_CONSTANT, 262,
					mov_moves + 5, 11, 0x401012, slot,
					entry),
			 0);
	ck_assert_mem_eq(s, mov_moves, 16);
	ck_assert_uint_eq(s[16], 0x48);
	ck_assert_uint_eq(s[17], 0xb9);
	uint64_t ret;
	memcpy(&ret, s + 18, 8);
	ck_assert_uint_eq(ret, 0x401012);
	ck_assert_uint_eq(jump_target(s + 26, slot + 26), entry);
	ck_assert_uint_eq(s[31], 0xcc);
	struct callpatch_edit e[2];
	ck_assert_int_eq(
		callpatch_edits(e, CALLPATCH_CONSTANT, 11, 0x401012, slot), 1);
	ck_assert_uint_eq(e[0].at, 0x401000);
	ck_assert_uint_eq(jump_target(e[0].bytes, e[0].at), slot);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("callpatch");
	TCase *t = tcase_create("callpatch");
	tcase_add_test(t, test_constant_site);
	tcase_add_test(t, test_constant_site_with_moves);
	tcase_add_test(t, test_tail_site);
	tcase_add_test(t, test_reach);
	tcase_add_test(t, test_slots);
	tcase_add_test(t, test_edits);
	suite_add_tcase(s, t);
	return unit_run(s);
}
