/* identity.c: who the program is: ids, uname, limits, descriptors,
 * signals sent to itself, the thread pointer. */
#define _GNU_SOURCE
#include "guest.h"

#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <termios.h>

int main(int argc, char **argv)
{
	int tty = argc > 1 && strcmp(argv[1], "tty") == 0;
	struct utsname u;
	struct rlimit rl;
	struct stat st;
	struct termios t;
	cpu_set_t cpus;
	char buf[64];

	CHECK(getpid() == 1, "getpid is 1");
	CHECK(RAW0(SYS_gettid) == 1, "gettid is 1");
	CHECK(getppid() == 0, "getppid is 0");
	CHECK(getuid() == 0 && geteuid() == 0 && getgid() == 0 &&
		      getegid() == 0,
	      "the program runs as root");
	CHECK(uname(&u) == 0 && strcmp(u.sysname, "Linux") == 0 &&
		      strcmp(u.machine, "x86_64") == 0,
	      "uname says Linux on x86_64 (%s %s %s)", u.sysname, u.release,
	      u.machine);
	CHECK(sched_getaffinity(0, sizeof(cpus), &cpus) == 0 &&
		      CPU_COUNT(&cpus) == 1,
	      "one CPU in the affinity mask");
	CHECK(sched_yield() == 0, "sched_yield");
	CHECK(getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur == 8 << 20,
	      "the stack limit is 8 MiB");
	rl.rlim_cur = 100;
	rl.rlim_max = 200;
	CHECK(setrlimit(RLIMIT_CORE, &rl) == 0, "setrlimit");
	CHECK(getrlimit(RLIMIT_CORE, &rl) == 0 && rl.rlim_cur == 100 &&
		      rl.rlim_max == 200,
	      "getrlimit reads back what setrlimit set");
	rl.rlim_cur = 300;
	CHECK(setrlimit(RLIMIT_CORE, &rl) == -1 && errno == EINVAL,
	      "a soft limit above the hard limit is EINVAL");

	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	CHECK(n == 9 && memcmp(buf, "/identity", 9) == 0,
	      "/proc/self/exe names the program");
	CHECK(readlink("/proc/self/exe", buf, 3) == 3 &&
		      memcmp(buf, "/id", 3) == 0,
	      "readlink truncates to the buffer");
	if (tty) {
		struct winsize ws;
		CHECK(fstat(1, &st) == 0 && S_ISCHR(st.st_mode),
		      "stdout is a character device with --tty");
		CHECK(isatty(1) && tcgetattr(1, &t) == 0 &&
			      (t.c_lflag & ICANON),
		      "stdout is a terminal in canonical mode");
		CHECK(ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0,
		      "the terminal has a size");
	} else {
		CHECK(fstat(1, &st) == 0 && S_ISFIFO(st.st_mode),
		      "stdout is a pipe without --tty");
		CHECK(RAW3(SYS_ioctl, 1, TCGETS, &t) == -ENOTTY,
		      "TCGETS on a pipe is ENOTTY");
	}
	CHECK(RAW2(SYS_fstat, 9, &st) == -EBADF, "fstat of fd 9 is EBADF");
	CHECK(RAW4(SYS_newfstatat, 1, "", &st, 0x1000) == 0 &&
		      (tty ? S_ISCHR(st.st_mode) : S_ISFIFO(st.st_mode)),
	      "fstatat with AT_EMPTY_PATH");

	uint64_t fs = 0, self;
	CHECK(RAW2(SYS_arch_prctl, 0x1003, &fs) == 0, "ARCH_GET_FS");
	__asm__("mov %%fs:0, %0" : "=r"(self));
	CHECK(fs != 0 && fs == self, "the thread pointer is the FS base");

	CHECK(kill(1, 0) == 0, "kill(1, 0) finds itself");
	CHECK(kill(2, 0) == -1 && errno == ESRCH, "kill(2, 0) is ESRCH");
	CHECK(RAW3(SYS_tgkill, 1, 1, 65) == -EINVAL, "tgkill with signal 65");
	CHECK(raise(SIGCHLD) == 0, "SIGCHLD is ignored by default");
	CHECK(raise(SIGSTOP) == 0, "SIGSTOP does not end the VM");
	signal(SIGUSR2, SIG_IGN);
	CHECK(raise(SIGUSR2) == 0, "an ignored SIGUSR2 changes nothing");
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	CHECK(sigprocmask(SIG_BLOCK, &set, &old) == 0, "block SIGUSR1");
	CHECK(raise(SIGUSR1) == 0, "a blocked SIGUSR1 stays pending");
	CHECK(sigprocmask(SIG_BLOCK, NULL, &old) == 0 &&
		      sigismember(&old, SIGUSR1),
	      "the mask reads back");
	return guest_done("identity");
}
