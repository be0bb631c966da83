/* stack.c: the initial user stack of a new program, laid out as Linux does.
 *
 * From the top down: the AT_EXECFN string, the argv and envp strings, the
 * AT_PLATFORM string, the 16 AT_RANDOM bytes, padding, then the auxiliary
 * vector, envp, argv and argc, so that the stack pointer (which points at
 * argc) is 16-byte aligned as the x86_64 System V ABI requires at _start.
 */
#include "lib.h"
#include <linux/auxvec.h>
#include <string.h>

struct stack_writer {
	char *buf;
	size_t size;
	size_t pos; /* everything at and above pos is written */
	uint64_t top;
};

static uint64_t user_addr(const struct stack_writer *w, size_t off)
{
	return w->top - w->size + off;
}

/* Reserve (n) bytes below what is written; -E2BIG if they do not fit. */
static int reserve(struct stack_writer *w, size_t n, size_t *off)
{
	if (n > w->pos)
		return -E2BIG;
	w->pos -= n;
	*off = w->pos;
	return 0;
}

static int put_bytes(struct stack_writer *w, const void *p, size_t n,
		     uint64_t *uaddr)
{
	size_t off;
	if (reserve(w, n, &off) < 0)
		return -E2BIG;
	memcpy(w->buf + off, p, n);
	*uaddr = user_addr(w, off);
	return 0;
}

static void put_word(struct stack_writer *w, size_t *off, uint64_t v)
{
	memcpy(w->buf + *off, &v, sizeof(v));
	*off += sizeof(v);
}

/* Write the strings (v, n) back to back; (*first) is the first's address. */
static int put_strings(struct stack_writer *w, char *const *v, int n,
		       uint64_t *first)
{
	size_t total = 0, off;
	for (int i = 0; i < n; i++)
		total += strlen(v[i]) + 1;
	if (reserve(w, total, &off) < 0)
		return -E2BIG;
	*first = user_addr(w, off);
	for (int i = 0; i < n; i++) {
		size_t len = strlen(v[i]) + 1;
		memcpy(w->buf + off, v[i], len);
		off += len;
	}
	return 0;
}

/* Store pointers to the (n) back-to-back strings at (first), then NULL. */
static void put_string_ptrs(struct stack_writer *w, size_t *off, char *const *v,
			    int n, uint64_t first)
{
	for (int i = 0; i < n; i++) {
		put_word(w, off, first);
		first += strlen(v[i]) + 1;
	}
	put_word(w, off, 0);
}

int stack_build(void *buf, size_t size, uint64_t top,
		const struct stack_spec *s, uint64_t *rsp)
{
	struct stack_writer w = {buf, size, size, top};
	uint64_t execfn, argv0, env0, platform, random;
	const int fixed_aux = 3; /* AT_EXECFN, AT_PLATFORM, AT_RANDOM */

	if (top & 15)
		return -EINVAL;
	if (put_bytes(&w, s->execfn, strlen(s->execfn) + 1, &execfn) < 0 ||
	    put_strings(&w, s->envp, s->envc, &env0) < 0 ||
	    put_strings(&w, s->argv, s->argc, &argv0) < 0 ||
	    put_bytes(&w, s->platform, strlen(s->platform) + 1, &platform) <
		    0 ||
	    put_bytes(&w, s->random16, 16, &random) < 0)
		return -E2BIG;

	size_t words = 1 + (size_t)s->argc + 1 + (size_t)s->envc + 1 +
		       2 * ((size_t)s->auxc + fixed_aux + 1);
	size_t bytes = words * sizeof(uint64_t);
	/* align by user address; the block below starts with argc */
	size_t misalign = user_addr(&w, w.pos) & 15;
	size_t off;
	if (reserve(&w, misalign, &off) < 0)
		return -E2BIG;
	if (reserve(&w, (bytes + 15) & ~(size_t)15, &off) < 0)
		return -E2BIG;

	put_word(&w, &off, (uint64_t)s->argc);
	put_string_ptrs(&w, &off, s->argv, s->argc, argv0);
	put_string_ptrs(&w, &off, s->envp, s->envc, env0);
	for (int i = 0; i < s->auxc; i++) {
		put_word(&w, &off, s->auxv[i][0]);
		put_word(&w, &off, s->auxv[i][1]);
	}
	put_word(&w, &off, AT_RANDOM);
	put_word(&w, &off, random);
	put_word(&w, &off, AT_PLATFORM);
	put_word(&w, &off, platform);
	put_word(&w, &off, AT_EXECFN);
	put_word(&w, &off, execfn);
	put_word(&w, &off, AT_NULL);
	put_word(&w, &off, 0);
	*rsp = user_addr(&w, w.pos);
	return 0;
}
