/* callpatch.c: the bytes of a patched system call site (callpatch.h). */
#include "lib/callpatch.h"

#include <string.h>

#define OP_MOV_EAX 0xb8 /* mov $imm32, %eax */
#define OP_JMP_REL32 0xe9
#define OP_JMP_REL8 0xeb
#define OP_RET 0xc3
#define OP_INT3 0xcc

/* The NOPs assemblers pad with (GNU as, LLVM), longest first. */
static const struct {
	unsigned len;
	uint8_t b[11];
} nops[] = {
	{11, {0x66, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0}},
	{10, {0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0}},
	{9, {0x66, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0}},
	{8, {0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0}},
	{7, {0x0f, 0x1f, 0x80, 0, 0, 0, 0}},
	{6, {0x66, 0x0f, 0x1f, 0x44, 0, 0}},
	{5, {0x0f, 0x1f, 0x44, 0, 0}},
	{4, {0x0f, 0x1f, 0x40, 0}},
	{3, {0x0f, 0x1f, 0x00}},
	{2, {0x66, 0x90}},
	{1, {0x90}},
};

/* 1 if (p, n) is nothing but padding: NOPs, or int3 bytes. */
static int padding(const uint8_t *p, size_t n)
{
	size_t i = 0;
	if (n && p[0] == OP_INT3) {
		while (i < n && p[i] == OP_INT3)
			i++;
		return i == n;
	}
	while (i < n) {
		size_t k = 0;
		while (k < sizeof(nops) / sizeof(nops[0]) &&
		       (nops[k].len > n - i ||
			memcmp(p + i, nops[k].b, nops[k].len) != 0))
			k++;
		if (k == sizeof(nops) / sizeof(nops[0]))
			return 0;
		i += nops[k].len;
	}
	return 1;
}

/* 1 if (b) could prefix the next instruction. */
static int prefix(uint8_t b)
{
	return (b >= 0x40 && b <= 0x4f) || b == 0x66 || b == 0x67 ||
	       b == 0xf0 || b == 0xf2 || b == 0xf3 || b == 0x26 || b == 0x2e ||
	       b == 0x36 || b == 0x3e || b == 0x64 || b == 0x65;
}

/* The length of the register move at (p, n bytes at most), or 0 if it
 * is none: mov or xor between registers, movslq, mov $imm32 to a 32-bit
 * register; none whose destination is RAX (the number) or RSP. */
static unsigned move_len(const uint8_t *p, size_t n)
{
	unsigned i = 0, rex = 0;
	if (n && p[0] >= 0x40 && p[0] <= 0x4f)
		rex = p[i++];
	if (i >= n)
		return 0;
	uint8_t op = p[i];
	unsigned dst;
	if (op >= 0xb8 && op <= 0xbf && !(rex & 8)) {
		dst = (op - 0xb8u) | (rex & 1 ? 8u : 0u);
		i += 5;
	} else if (op == 0x89 || op == 0x8b || op == 0x31 || op == 0x33 ||
		   (op == 0x63 && (rex & 8))) {
		if (i + 1 >= n || p[i + 1] >> 6 != 3)
			return 0; /* memory, not a register */
		unsigned reg = (p[i + 1] >> 3 & 7u) | (rex & 4 ? 8u : 0u);
		unsigned rm = (p[i + 1] & 7u) | (rex & 1 ? 8u : 0u);
		dst = op == 0x89 || op == 0x31 ? rm : reg;
		i += 2;
	} else {
		return 0;
	}
	return i <= n && dst != 0 && dst != 4 ? i : 0;
}

/* The moves of the constant site whose syscall ends at (at), for call
 * (nr): their length, or -1 if there is none, or more than one reading. */
static int constant_moves(const uint8_t *at, uint64_t nr)
{
	int found = -1;
	for (unsigned m = 0; m <= CALLPATCH_MOVES_MAX; m++) {
		const uint8_t *mov = at - 2 - m - 5, *p = mov + 5;
		uint32_t imm;
		memcpy(&imm, mov + 1, 4);
		if (mov[0] != OP_MOV_EAX || imm != nr || prefix(mov[-1]))
			continue;
		unsigned k = 1;
		while (p < at - 2 && (k = move_len(p, (size_t)(at - 2 - p))))
			p += k;
		if (p != at - 2)
			continue;
		if (found >= 0)
			return -1; /* two readings: leave it */
		found = (int)m;
	}
	return found;
}

unsigned callpatch_moves(const uint8_t *code, uint64_t nr)
{
	int m = constant_moves(code + CALLPATCH_BEFORE, nr);
	return m > 0 ? (unsigned)m : 0;
}

enum callpatch_kind callpatch_site(const uint8_t *code, uint64_t ret,
				   uint64_t nr)
{
	const uint8_t *at = code + CALLPATCH_BEFORE; /* (ret) */
	if (at[-2] != 0x0f || at[-1] != 0x05)
		return CALLPATCH_NONE;
	if (constant_moves(at, nr) >= 0)
		return CALLPATCH_CONSTANT;
	if (prefix(at[-3]))
		return CALLPATCH_NONE;
	/* padding from after the ret to the next 16-byte boundary, room
	 * for a rel32 jump */
	size_t pad = (size_t)(16 - ((ret + 1) & 15)) & 15;
	if (at[0] == OP_RET && pad >= 5 && pad <= CALLPATCH_AFTER - 1 &&
	    padding(at + 1, pad))
		return CALLPATCH_TAIL;
	return CALLPATCH_NONE;
}

int callpatch_reaches(uint64_t next, uint64_t to)
{
	int64_t d = (int64_t)(to - next);
	return d >= INT32_MIN && d <= INT32_MAX;
}

static int put_jump(uint8_t *p, uint64_t at, uint64_t to)
{
	if (!callpatch_reaches(at + 5, to))
		return -1;
	uint32_t d = (uint32_t)(to - (at + 5));
	p[0] = OP_JMP_REL32;
	memcpy(p + 1, &d, 4);
	return 0;
}

int callpatch_slot(uint8_t *out, enum callpatch_kind kind, uint32_t nr,
		   const uint8_t *moves, unsigned nmoves, uint64_t ret,
		   uint64_t slot_va, uint64_t entry)
{
	unsigned i = 0;
	memset(out, OP_INT3, CALLPATCH_SLOT_LEN);
	if (kind == CALLPATCH_CONSTANT) {
		if (nmoves > CALLPATCH_MOVES_MAX)
			return -1;
		out[i++] = OP_MOV_EAX;
		memcpy(out + i, &nr, 4);
		i += 4;
		if (nmoves)
			memcpy(out + i, moves, nmoves);
		i += nmoves;
	}
	out[i++] = 0x48; /* movabs $ret, %rcx */
	out[i++] = 0xb9;
	memcpy(out + i, &ret, 8);
	i += 8;
	return put_jump(out + i, slot_va + i, entry);
}

int callpatch_edits(struct callpatch_edit *e, enum callpatch_kind kind,
		    unsigned nmoves, uint64_t ret, uint64_t slot_va)
{
	if (kind == CALLPATCH_CONSTANT) {
		e[0].at = ret - 7 - nmoves;
		e[0].len = 5;
		return put_jump(e[0].bytes, e[0].at, slot_va) < 0 ? -1 : 1;
	}
	/* the padding's jump first: the rel8 one leads to it */
	e[0].at = ret + 1;
	e[0].len = 5;
	if (put_jump(e[0].bytes, e[0].at, slot_va) < 0)
		return -1;
	e[1].at = ret - 2;
	e[1].len = 2;
	e[1].bytes[0] = OP_JMP_REL8;
	e[1].bytes[1] = 1; /* over the ret */
	return 2;
}
