/* enosys.c: calls the kernel does not know return ENOSYS, each is
 * reported once on the host, and the program goes on. */
#include "guest.h"

int main(void)
{
	CHECK(RAW0(1000) == -ENOSYS, "call 1000 returns ENOSYS");
	CHECK(RAW0(1000) == -ENOSYS, "call 1000 again");
	CHECK(RAW0(425) == -ENOSYS, "io_uring_setup returns ENOSYS");
	CHECK(RAW0(425) == -ENOSYS, "io_uring_setup again");
	CHECK(RAW0(-1L) == -ENOSYS, "call -1 returns ENOSYS");
	CHECK(RAW4(SYS_rseq, 0, 0, 0, 0) == -ENOSYS, "rseq returns ENOSYS");
	return guest_done("enosys");
}
