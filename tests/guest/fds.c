/* fds.c: descriptors (dup, fcntl, close-on-exec, limits), pipes and poll,
 * with Linux's errno on each error path. */
#define _GNU_SOURCE
#include "guest.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/stat.h>

int main(void)
{
	char buf[128];
	int p[2];
	struct stat st;

	int fd = open("/dev/null", O_RDWR);
	CHECK(fd == 3, "the lowest free descriptor is 3 (got %d)", fd);
	int d = dup(fd);
	CHECK(d == 4, "dup takes the next one");
	CHECK(dup2(fd, 10) == 10, "dup2 to 10");
	CHECK(dup2(fd, fd) == fd, "dup2 onto itself returns it");
	CHECK(dup3(fd, fd, 0) == -1 && errno == EINVAL,
	      "dup3 onto itself is EINVAL");
	CHECK(RAW3(SYS_dup3, fd, 11, 12345) == -EINVAL,
	      "dup3 with bad flags is EINVAL");
	CHECK(dup2(99, 12) == -1 && errno == EBADF, "dup2 of a bad fd");
	CHECK(dup2(fd, -1) == -1 && errno == EBADF, "dup2 to -1 is EBADF");
	CHECK(fcntl(fd, F_DUPFD, 20) == 20, "F_DUPFD finds >= 20");
	CHECK(fcntl(fd, F_DUPFD_CLOEXEC, 20) == 21 &&
		      fcntl(21, F_GETFD) == FD_CLOEXEC,
	      "F_DUPFD_CLOEXEC sets close-on-exec");
	CHECK(fcntl(fd, F_GETFD) == 0 && fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 &&
		      fcntl(fd, F_GETFD) == FD_CLOEXEC,
	      "F_GETFD / F_SETFD");
	CHECK((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR,
	      "F_GETFL has the access mode");
	CHECK(fcntl(fd, F_SETFL, O_NONBLOCK | O_APPEND) == 0 &&
		      (fcntl(fd, F_GETFL) & (O_NONBLOCK | O_APPEND)) ==
			      (O_NONBLOCK | O_APPEND),
	      "F_SETFL sets O_NONBLOCK and O_APPEND");
	CHECK(fcntl(fd, 12345) == -1 && errno == EINVAL,
	      "an unknown fcntl is EINVAL");
	CHECK(fcntl(77, F_GETFD) == -1 && errno == EBADF, "fcntl of a bad fd");
	CHECK(close(10) == 0 && close(20) == 0 && close(21) == 0 &&
		      close(d) == 0,
	      "close the copies");
	CHECK(write(fd, "x", 1) == 1, "the original still works");

	/* a program may raise its limit to the hard one (servers do), and
	 * then has that many descriptors */
	struct rlimit rl;
	int last = -1, n;
	CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max >= 4096,
	      "a hard limit of 4096 descriptors or more");
	rl.rlim_cur = rl.rlim_max < 65536 ? rl.rlim_max : 65536;
	CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0, "the limit raised");
	while ((n = dup(fd)) >= 0)
		last = n;
	CHECK(last == (int)rl.rlim_cur - 1 && errno == EMFILE,
	      "dup stops at the raised limit with EMFILE (last %d of %d)", last,
	      (int)rl.rlim_cur);
	for (int i = 4; i <= last; i++)
		close(i);

	rl = (struct rlimit){16, 16};
	CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0, "limit descriptors to 16");
	last = -1;
	while ((n = dup(fd)) >= 0)
		last = n;
	CHECK(last == 15 && errno == EMFILE,
	      "dup stops at the limit with EMFILE (last %d)", last);
	for (int i = 4; i <= 15; i++)
		close(i);

	/* pipes */
	CHECK(pipe(p) == 0 && p[0] == 4 && p[1] == 5, "pipe");
	CHECK(fstat(p[0], &st) == 0 && S_ISFIFO(st.st_mode), "it is a FIFO");
	CHECK(write(p[1], "hello", 5) == 5, "write into the pipe");
	CHECK(read(p[0], buf, sizeof(buf)) == 5 && memcmp(buf, "hello", 5) == 0,
	      "read it back");
	CHECK(write(p[0], "x", 1) == -1 && errno == EBADF,
	      "the read end is not writable");
	CHECK(lseek(p[0], 0, SEEK_SET) == -1 && errno == ESPIPE,
	      "lseek on a pipe is ESPIPE");
	CHECK(fcntl(p[0], F_SETFL, O_NONBLOCK) == 0 &&
		      read(p[0], buf, 1) == -1 && errno == EAGAIN,
	      "an empty non-blocking pipe is EAGAIN");
	struct pollfd pf[3] = {
		{p[0], POLLIN, 0}, {p[1], POLLOUT, 0}, {99, POLLIN, 0}};
	CHECK(poll(pf, 3, 0) == 2 && pf[0].revents == 0 &&
		      pf[1].revents == POLLOUT && pf[2].revents == POLLNVAL,
	      "poll: empty read end, writable write end, bad fd");
	write(p[1], "abc", 3);
	CHECK(poll(pf, 1, 0) == 1 && (pf[0].revents & POLLIN),
	      "poll sees data");
	fd_set rd;
	FD_ZERO(&rd);
	FD_SET(p[0], &rd);
	struct timeval tv = {0, 0};
	CHECK(select(p[0] + 1, &rd, NULL, NULL, &tv) == 1 &&
		      FD_ISSET(p[0], &rd),
	      "select sees data");
	CHECK(close(p[1]) == 0 && read(p[0], buf, sizeof(buf)) == 3 &&
		      read(p[0], buf, sizeof(buf)) == 0,
	      "after the writer closes: the data, then end of file");
	CHECK(poll(pf, 1, 0) == 1 && (pf[0].revents & POLLHUP),
	      "poll reports the hang-up");
	close(p[0]);

	CHECK(pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0 &&
		      fcntl(p[0], F_GETFD) == FD_CLOEXEC &&
		      (fcntl(p[1], F_GETFL) & O_NONBLOCK),
	      "pipe2 flags");
	CHECK(pipe2(p, 0x1234) == -1 && errno == EINVAL, "pipe2 bad flags");
	int written = 0;
	while ((n = write(p[1], buf, sizeof(buf))) > 0)
		written += n;
	CHECK(n == -1 && errno == EAGAIN && written == 65536,
	      "a full non-blocking pipe is EAGAIN after 64 KiB (%d)", written);
	signal(SIGPIPE, SIG_IGN);
	close(p[0]);
	CHECK(write(p[1], "x", 1) == -1 && errno == EPIPE,
	      "writing with no reader is EPIPE (SIGPIPE ignored)");
	close(p[1]);
	CHECK(RAW1(SYS_pipe, NULL) == -EFAULT, "pipe(NULL) is EFAULT");
	struct timespec zero = {0, 0};
	CHECK(ppoll(NULL, 0, &zero, NULL) == 0, "ppoll of nothing");
	return guest_done("fds");
}
