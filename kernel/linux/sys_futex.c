/* sys_futex.c: futex: sleep while a word holds a value, wake sleepers.
 *
 * Linux knows a futex in private memory by its address space and address
 * (with or without FUTEX_PRIVATE_FLAG), and all memory here is private
 * to its process (MAP_SHARED is not shared across fork yet). A process
 * has one thread: none other could wake its futex. So a wait whose word
 * holds the value sleeps until its timeout or a signal, as Linux's would;
 * a wake finds no one (0), and a requeue none to move. The calls still
 * check what Linux checks and do what shows: the compare of
 * FUTEX_CMP_REQUEUE, the change FUTEX_WAKE_OP makes to its second word.
 * C libraries wake after one-time initialisation whether anyone waits or
 * not (glibc's pthread_once, which its getaddrinfo goes through) and
 * abort if that fails. The priority-inheritance operations are not there
 * (ENOSYS). Threads will need a queue of waiters here.
 */
#include "linux/syscalls.h"
#include <linux/futex.h>
#include <linux/time.h>

/* A futex word's address: 0 or -errno. */
static long word_ok(uint64_t uaddr)
{
	if (uaddr & 3)
		return -EINVAL;
	return user_range_ok(uaddr, 4) ? 0 : -EFAULT;
}

/* The wait's end from (utimeout): relative on the monotonic clock, or
 * (absolute) on the monotonic or (realtime) clock. UINT64_MAX: none. */
static long deadline_of(uint64_t utimeout, int absolute, int realtime,
			uint64_t *deadline)
{
	uint64_t ns;
	long r = timespec_from_user(utimeout, &ns);
	*deadline = UINT64_MAX;
	if (r < 0 || ns == UINT64_MAX)
		return r;
	uint64_t now = clock_monotonic_ns();
	if (absolute && realtime) {
		uint64_t real = clock_realtime_ns();
		ns = ns > real ? ns - real : 0;
		absolute = 0;
	}
	if (absolute)
		*deadline = ns;
	else
		*deadline = ns > UINT64_MAX - now ? UINT64_MAX : now + ns;
	return 0;
}

static long futex_wait(uint64_t uaddr, uint32_t val, uint64_t deadline,
		       uint32_t bitset)
{
	uint32_t now;
	long r = word_ok(uaddr);
	if (r < 0)
		return r;
	if (!bitset)
		return -EINVAL;
	if (copy_from_user(&now, uaddr, sizeof(now)) < 0)
		return -EFAULT;
	if (now != val)
		return -EAGAIN;
	return signal_wait(deadline) < 0 ? -EINTR : -ETIMEDOUT;
}

/* FUTEX_WAKE_OP's change to the word at (uaddr): its old value into
 * (*old). */
static long wake_op_apply(uint64_t uaddr, uint32_t val3, uint32_t *old)
{
	uint32_t op = val3 >> 28 & 7, v;
	/* 12-bit signed operands */
	int32_t oparg = (int32_t)(val3 << 8) >> 20;
	if (copy_from_user(old, uaddr, sizeof(*old)) < 0)
		return -EFAULT;
	if (val3 >> 28 & FUTEX_OP_OPARG_SHIFT)
		oparg = (int32_t)(1u << (oparg & 31));
	switch (op) {
	case FUTEX_OP_SET:
		v = (uint32_t)oparg;
		break;
	case FUTEX_OP_ADD:
		v = *old + (uint32_t)oparg;
		break;
	case FUTEX_OP_OR:
		v = *old | (uint32_t)oparg;
		break;
	case FUTEX_OP_ANDN:
		v = *old & ~(uint32_t)oparg;
		break;
	case FUTEX_OP_XOR:
		v = *old ^ (uint32_t)oparg;
		break;
	default:
		return -ENOSYS;
	}
	return copy_to_user(uaddr, &v, sizeof(v)) < 0 ? -EFAULT : 0;
}

/* FUTEX_WAKE_OP's test of the old value: 1 if the second word's
 * waiters are to be woken too. */
static long wake_op_test(uint32_t val3, uint32_t old)
{
	int32_t cmparg = (int32_t)(val3 << 20) >> 20, o = (int32_t)old;
	switch (val3 >> 24 & 15) {
	case FUTEX_OP_CMP_EQ:
		return o == cmparg;
	case FUTEX_OP_CMP_NE:
		return o != cmparg;
	case FUTEX_OP_CMP_LT:
		return o < cmparg;
	case FUTEX_OP_CMP_LE:
		return o <= cmparg;
	case FUTEX_OP_CMP_GT:
		return o > cmparg;
	case FUTEX_OP_CMP_GE:
		return o >= cmparg;
	default:
		return -ENOSYS;
	}
}

static long futex_wake_op(uint64_t uaddr, uint64_t uaddr2, uint32_t val3)
{
	uint32_t old;
	long r = word_ok(uaddr);
	if (r == 0)
		r = word_ok(uaddr2);
	if (r == 0)
		r = wake_op_apply(uaddr2, val3, &old);
	if (r == 0)
		r = wake_op_test(val3, old);
	return r < 0 ? r : 0; /* nobody woken on either word */
}

static long futex_requeue(uint64_t uaddr, uint32_t n, uint32_t n2,
			  uint64_t uaddr2, const uint32_t *expect)
{
	uint32_t now;
	long r = word_ok(uaddr);
	if (r == 0)
		r = word_ok(uaddr2);
	if (r < 0)
		return r;
	if ((int32_t)n < 0 || (int32_t)n2 < 0)
		return -EINVAL;
	if (expect) {
		if (copy_from_user(&now, uaddr, sizeof(now)) < 0)
			return -EFAULT;
		if (now != *expect)
			return -EAGAIN;
	}
	return 0; /* nobody woken or moved */
}

long sys_futex(uint64_t uaddr, int op, uint32_t val, uint64_t utimeout,
	       uint64_t uaddr2, uint32_t val3)
{
	int cmd = op & FUTEX_CMD_MASK;
	int realtime = (op & FUTEX_CLOCK_REALTIME) != 0;
	uint64_t deadline;
	long r;
	if (realtime && cmd != FUTEX_WAIT && cmd != FUTEX_WAIT_BITSET)
		return -ENOSYS;
	switch (cmd) {
	case FUTEX_WAIT:
		val3 = FUTEX_BITSET_MATCH_ANY;
		/* fall through */
	case FUTEX_WAIT_BITSET:
		r = deadline_of(utimeout, cmd == FUTEX_WAIT_BITSET, realtime,
				&deadline);
		return r < 0 ? r : futex_wait(uaddr, val, deadline, val3);
	case FUTEX_WAKE:
		val3 = FUTEX_BITSET_MATCH_ANY;
		/* fall through */
	case FUTEX_WAKE_BITSET:
		r = word_ok(uaddr);
		return r < 0 ? r : val3 ? 0 : -EINVAL; /* nobody woken */
	case FUTEX_REQUEUE:
		return futex_requeue(uaddr, val, (uint32_t)utimeout, uaddr2,
				     NULL);
	case FUTEX_CMP_REQUEUE:
		return futex_requeue(uaddr, val, (uint32_t)utimeout, uaddr2,
				     &val3);
	case FUTEX_WAKE_OP:
		return futex_wake_op(uaddr, uaddr2, val3);
	default:
		return -ENOSYS; /* priority inheritance; FUTEX_FD is gone */
	}
}
