/* procs.c: processes: fork, vfork, wait4, exit statuses, pipes between
 * processes, signals between them, SIGCHLD, orphans, and that nothing
 * leaks when children come and go. */
#define _GNU_SOURCE
#define GUEST_SIGNALS
#include "guest.h"
#include <fcntl.h>
#include <stdint.h>
#include <sched.h>
#include <spawn.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>

static int global = 5;
static volatile sig_atomic_t chld_seen;

static void on_chld(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (sig == SIGCHLD && si->si_signo == SIGCHLD)
		chld_seen = si->si_pid;
}

/* fork, flushing first so the child does not print the parent's buffer */
static pid_t fork_flushed(void)
{
	fflush(stdout);
	return fork();
}

static int read_all(int fd, char *buf, size_t len)
{
	return (int)guest_read_full(fd, buf, len);
}

static void check_fork_and_wait(void)
{
	int fd[2], st = -1;
	CHECK(pipe(fd) == 0, "pipe");
	pid_t pid = fork_flushed();
	if (pid == 0) {
		char msg[64];
		global = 7;
		int n = snprintf(msg, sizeof(msg), "%d %d %d", getpid(),
				 getppid(), global);
		write(fd[1], msg, (size_t)n);
		_exit(42);
	}
	CHECK(pid > 1, "fork returns the child's pid to the parent (%d)", pid);
	close(fd[1]);
	char buf[64] = {0}, want[64];
	read_all(fd[0], buf, sizeof(buf) - 1);
	close(fd[0]);
	snprintf(want, sizeof(want), "%d %d 7", pid, getpid());
	CHECK(strcmp(buf, want) == 0,
	      "the child sees its pid, its parent and its own memory (%s)",
	      buf);
	CHECK(global == 5, "the child's writes stay in the child");
	CHECK(waitpid(pid, &st, 0) == pid, "waitpid returns the child");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 42,
	      "the exit status arrives (%#x)", st);
	CHECK(waitpid(-1, &st, WNOHANG) == -1 && errno == ECHILD,
	      "no children left: ECHILD");
}

static void check_wnohang_and_kill(void)
{
	int fd[2], st = -1;
	pipe(fd);
	pid_t pid = fork_flushed();
	if (pid == 0) {
		char c;
		read(fd[0], &c, 1); /* never comes */
		_exit(0);
	}
	CHECK(waitpid(pid, &st, WNOHANG) == 0,
	      "WNOHANG: 0 while the child runs");
	CHECK(kill(pid, SIGKILL) == 0, "kill the child");
	CHECK(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) &&
		      WTERMSIG(st) == SIGKILL,
	      "killed by SIGKILL while blocked in read (%#x)", st);
	CHECK(kill(pid, 0) == -1 && errno == ESRCH, "a reaped pid is gone");
	close(fd[0]);
	close(fd[1]);
}

static void check_fault_kills_only_the_child(void)
{
	int st = -1;
	pid_t pid = fork_flushed();
	if (pid == 0) {
		volatile uintptr_t bad = 16;
		*(volatile int *)bad = 1;
		_exit(0);
	}
	CHECK(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) &&
		      WTERMSIG(st) == SIGSEGV,
	      "a child's bad pointer kills the child with SIGSEGV (%#x)", st);
}

static void check_pipe_bigger_than_its_buffer(void)
{
	enum { LEN = 300 * 1024 };
	char *out = malloc(LEN), *in = malloc(LEN);
	int fd[2], st;
	for (int k = 0; k < LEN; k++)
		out[k] = (char)(k * 7 + k / 4096);
	pipe(fd);
	pid_t pid = fork_flushed();
	if (pid == 0) {
		close(fd[0]);
		/* one write, more than the pipe holds: it waits for room */
		ssize_t n = write(fd[1], out, LEN);
		_exit(n == LEN ? 0 : 1);
	}
	close(fd[1]);
	int got = read_all(fd[0], in, LEN);
	CHECK(got == LEN && memcmp(in, out, LEN) == 0,
	      "300 KiB through a 64 KiB pipe arrive intact (%d)", got);
	char c;
	CHECK(read(fd[0], &c, 1) == 0, "EOF once the writer exits");
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
		      WEXITSTATUS(st) == 0,
	      "the writer's one write wrote everything");
	close(fd[0]);
	free(out);
	free(in);
}

static void check_sigchld(void)
{
	int st;
	guest_on_signal(SIGCHLD, on_chld, SA_RESTART);
	pid_t pid = fork_flushed();
	if (pid == 0)
		_exit(3);
	while (!chld_seen)
		pause();
	CHECK(chld_seen == pid, "SIGCHLD names the child (%d)", (int)chld_seen);
	CHECK(waitpid(pid, &st, 0) == pid && WEXITSTATUS(st) == 3,
	      "then it is reaped");

	signal(SIGCHLD, SIG_IGN);
	pid = fork_flushed();
	if (pid == 0)
		_exit(0);
	CHECK(waitpid(pid, &st, 0) == -1 && errno == ECHILD,
	      "SIGCHLD ignored: the child is never a zombie (ECHILD)");
	signal(SIGCHLD, SIG_DFL);
}

/* Read-only memory may be shared after fork, but what one side makes
 * writable, writes or drops stays its own. */
static void check_private_memory(void)
{
	int st;
	char *p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(p, 'a', 3 * 4096);
	mprotect(p, 3 * 4096, PROT_READ);
	pid_t pid = fork_flushed();
	if (pid == 0) {
		int ok = p[0] == 'a';
		ok = ok && mprotect(p, 4096, PROT_READ | PROT_WRITE) == 0;
		if (ok)
			p[0] = 'b';
		ok = ok && madvise(p + 4096, 4096, MADV_DONTNEED) == 0;
		ok = ok && p[0] == 'b' && p[4096] == 0 && p[8192] == 'a';
		_exit(ok ? 0 : 1);
	}
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
		      WEXITSTATUS(st) == 0,
	      "the child writes and drops its copy of read-only pages");
	CHECK(p[0] == 'a' && p[4096] == 'a' && p[8192] == 'a',
	      "the parent's pages are as they were");
	munmap(p, 3 * 4096);
}

static void check_shared_offset(void)
{
	int fd = open("/tmp/procs.txt", O_RDWR | O_CREAT | O_TRUNC, 0600);
	int st;
	pid_t pid = fork_flushed();
	if (pid == 0) {
		write(fd, "child\n", 6);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	CHECK(lseek(fd, 0, SEEK_CUR) == 6,
	      "the child's write moved the shared offset");
	write(fd, "parent\n", 7);
	char buf[32] = {0};
	pread(fd, buf, sizeof(buf) - 1, 0);
	CHECK(strcmp(buf, "child\nparent\n") == 0, "both writes in order");
	close(fd);
}

/* A parent that polls without ever blocking still lets its child run. */
static void check_busy_parent(void)
{
	int fd[2], st;
	char c = 0;
	pipe(fd);
	fcntl(fd[0], F_SETFL, O_NONBLOCK);
	pid_t pid = fork_flushed();
	if (pid == 0) {
		write(fd[1], "!", 1);
		_exit(0);
	}
	long spins = 0;
	while (read(fd[0], &c, 1) != 1 && spins < 100000000)
		spins++;
	CHECK(c == '!', "a child runs while its parent polls (%ld polls)",
	      spins);
	waitpid(pid, &st, 0);
	close(fd[0]);
	close(fd[1]);
}

static void check_vfork(void)
{
	int st;
	fflush(stdout);
	pid_t pid = vfork();
	if (pid == 0)
		_exit(9);
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WEXITSTATUS(st) == 9,
	      "vfork: the parent goes on after the child's exit");
}

static void check_orphan(void)
{
	int fd[2], st;
	pipe(fd);
	pid_t pid = fork_flushed();
	if (pid == 0) {
		pid_t parent = getpid();
		if (fork() == 0) {
			/* wait until the parent has gone; on the host a
			 * subreaper may adopt it instead of pid 1 */
			while (getppid() == parent)
				sched_yield();
			write(fd[1], "1", 1);
			_exit(0);
		}
		_exit(0);
	}
	waitpid(pid, &st, 0);
	char c = 0;
	CHECK(read(fd[0], &c, 1) == 1 && c == '1',
	      "an orphan gets a new parent");
	close(fd[0]);
	close(fd[1]);
	/* in the VM, the orphan is now ours (pid 1's) to reap */
	while (waitpid(-1, &st, 0) > 0)
		;
}

static void check_nothing_leaks(void)
{
	struct sysinfo a, b;
	int st;
	/* the first forks fill caches (kernel stacks, tables): warm up */
	for (int k = 0; k < 4; k++)
		if (fork_flushed() == 0)
			_exit(0);
	while (wait(&st) > 0)
		;
	sysinfo(&a);
	for (int k = 0; k < 100; k++) {
		pid_t pid = fork_flushed();
		if (pid == 0) {
			void *p = malloc(1 << 20);
			memset(p, 1, 1 << 20);
			_exit(0);
		}
		waitpid(pid, &st, 0);
	}
	sysinfo(&b);
	long lost = (long)(a.freeram - b.freeram) * (long)a.mem_unit;
	CHECK(lost < 64 * 1024, "100 forks and exits leak nothing (%ld bytes)",
	      lost);
}

static void check_clone3(void)
{
	struct {
		uint64_t flags, pidfd, child_tid, parent_tid, exit_signal;
		uint64_t stack, stack_size, tls;
	} args = {0, 0, 0, 0, SIGCHLD, 0, 0, 0};
	int st;
	fflush(stdout);
	long pid = RAW2(435 /* clone3 */, &args, sizeof(args));
	if (pid == 0)
		_exit(5);
	CHECK(pid > 0 && waitpid((pid_t)pid, &st, 0) == pid &&
		      WEXITSTATUS(st) == 5,
	      "clone3 makes a child like fork (%ld)", pid);
	args.exit_signal = 1ULL << 40;
	CHECK(RAW2(435, &args, sizeof(args)) == -EINVAL,
	      "clone3 with a bad exit signal: EINVAL");
}

static void check_unsupported(void)
{
	CHECK(RAW4(SYS_wait4, -1, 0, 0x1000000, 0) == -EINVAL,
	      "wait4 with unknown options: EINVAL");
	CHECK(kill(99999, 0) == -1 && errno == ESRCH, "kill of no such pid");
}

/* The program run again by execve, in "exec-child" mode: it reports on
 * descriptor (report) what it inherited, and exits with 33. */
static int exec_child(int argc, char **argv)
{
	char line[128];
	struct sigaction sa;
	if (argc < 5)
		return 1;
	int report = atoi(argv[2]), kept = atoi(argv[3]),
	    closed = atoi(argv[4]);
	sigaction(SIGUSR1, NULL, &sa);
	int usr1_default = sa.sa_handler == SIG_DFL;
	sigaction(SIGUSR2, NULL, &sa);
	int usr2_ignored = sa.sa_handler == SIG_IGN;
	int n = snprintf(line, sizeof(line),
			 "kept=%d closed=%d dfl=%d ign=%d "
			 "env=%s",
			 fcntl(kept, F_GETFD) >= 0, fcntl(closed, F_GETFD) < 0,
			 usr1_default, usr2_ignored, getenv("PROCS_ENV"));
	write(report, line, (size_t)n);
	return 33;
}

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)si, (void)uc;
}

static void check_exec(void)
{
	int fd[2], st;
	pipe(fd);
	int kept = dup(fd[1]);
	int closed = fcntl(fd[1], F_DUPFD_CLOEXEC, 0);
	pid_t pid = fork_flushed();
	if (pid == 0) {
		char a2[16], a3[16], a4[16];
		snprintf(a2, sizeof(a2), "%d", fd[1]);
		snprintf(a3, sizeof(a3), "%d", kept);
		snprintf(a4, sizeof(a4), "%d", closed);
		char *args[] = {"procs", "exec-child", a2, a3, a4, NULL};
		char *env[] = {"PROCS_ENV=passed", NULL};
		guest_on_signal(SIGUSR1, on_usr1, 0);
		signal(SIGUSR2, SIG_IGN);
		execve("/proc/self/exe", args, env);
		_exit(99);
	}
	close(fd[1]);
	close(kept);
	close(closed);
	char buf[128] = {0};
	read_all(fd[0], buf, sizeof(buf) - 1);
	close(fd[0]);
	CHECK(strcmp(buf, "kept=1 closed=1 dfl=1 ign=1 env=passed") == 0,
	      "execve: descriptors kept or closed on exec, handlers reset, "
	      "ignored kept, the new environment (%s)",
	      buf);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
		      WEXITSTATUS(st) == 33,
	      "the new program's exit status (%#x)", st);

	char *none[] = {"x", NULL};
	errno = 0;
	CHECK(execve("/no/such/program", none, none) == -1 && errno == ENOENT,
	      "execve of a missing file: ENOENT");
	unlink("/tmp/procs-data");
	int f = open("/tmp/procs-data", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	write(f, "just data\n", 10);
	close(f);
	CHECK(execve("/tmp/procs-data", none, none) == -1 && errno == EACCES,
	      "execve of a file without execute permission: EACCES");
	chmod("/tmp/procs-data", 0755);
	CHECK(execve("/tmp/procs-data", none, none) == -1 && errno == ENOEXEC,
	      "execve of data with execute permission: ENOEXEC");
	CHECK(execve("/tmp", none, none) == -1 && errno == EACCES,
	      "execve of a directory: EACCES");
	CHECK(RAW3(SYS_execve, "/proc/self/exe", 16, 0) == -EFAULT,
	      "execve with a bad argv pointer: EFAULT");
	CHECK(getpid() > 0, "after failed execve calls the program goes on");
	unlink("/tmp/procs-data");
}

/* Fork until the VM says no: a clean EAGAIN or ENOMEM, and every child
 * made before it still runs and exits. */
static void check_process_limit(void)
{
	int fd[2], st, made = 0, reaped = 0;
	pipe(fd);
	pid_t pid;
	errno = 0;
	while (made < 400 && (pid = fork_flushed()) >= 0) {
		if (pid == 0) {
			char c;
			close(fd[1]);
			_exit(read(fd[0], &c, 1) == 0 ? 0 : 1);
		}
		made++;
	}
	int e = errno;
	CHECK(made >= 20 && made < 400 && (e == EAGAIN || e == ENOMEM),
	      "fork fails cleanly past the limit (%d made, %s)", made,
	      strerror(e));
	close(fd[0]);
	close(fd[1]); /* every child reads EOF and exits */
	while (waitpid(-1, &st, 0) > 0)
		reaped += WIFEXITED(st) && WEXITSTATUS(st) == 0;
	CHECK(reaped == made, "each of them then exits normally (%d)", reaped);
	pid = fork_flushed();
	if (pid == 0)
		_exit(0);
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid, "and fork works again");
}

/* What only holds inside the VM, where the program is pid 1 and alone. */
static void check_in_the_vm(void)
{
	if (getpid() != 1)
		return;
	check_nothing_leaks();
	check_process_limit();
	CHECK(kill(-1, SIGUSR1) == -1 && errno == ESRCH,
	      "kill(-1) with no other process: ESRCH");
	CHECK(RAW6(SYS_clone, CLONE_VM | CLONE_THREAD | CLONE_SIGHAND, 0, 0, 0,
		   0, 0) == -ENOSYS,
	      "threads (CLONE_VM) are not there yet: ENOSYS");
}

/* "exe-child" mode: report /proc/self/exe and the pid in /proc/self/stat
 * on descriptor 1, a pipe. */
static int exe_child(void)
{
	char link[256] = {0}, stat[64] = {0}, line[400];
	readlink("/proc/self/exe", link, sizeof(link) - 1);
	int f = open("/proc/self/stat", O_RDONLY);
	read(f, stat, sizeof(stat) - 1);
	close(f);
	int n = snprintf(line, sizeof(line), "%s|%d|%d", link, atoi(stat),
			 getpid());
	write(1, line, (size_t)n);
	return 0;
}

/* After execve of another program, /proc/self/exe names that program and
 * /proc/self/stat the process's own pid. */
static void check_exe_link(void)
{
	char buf[1 << 16];
	int in = open("/proc/self/exe", O_RDONLY);
	int out = open("/tmp/procs-copy", O_WRONLY | O_CREAT | O_TRUNC, 0755);
	ssize_t n;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		write(out, buf, (size_t)n);
	close(in);
	close(out);
	int fd[2], st;
	pipe(fd);
	pid_t pid = fork_flushed();
	if (pid == 0) {
		dup2(fd[1], 1);
		char *args[] = {"procs-copy", "exe-child", NULL};
		execv("/tmp/procs-copy", args);
		_exit(99);
	}
	close(fd[1]);
	char got[400] = {0}, want[400];
	read_all(fd[0], got, sizeof(got) - 1);
	close(fd[0]);
	waitpid(pid, &st, 0);
	snprintf(want, sizeof(want), "/tmp/procs-copy|%d|%d", pid, pid);
	CHECK(strcmp(got, want) == 0,
	      "the new program's /proc/self/exe and /proc/self/stat (%s)", got);
	unlink("/tmp/procs-copy");
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "exec-child") == 0)
		return exec_child(argc, argv);
	if (argc > 1 && strcmp(argv[1], "exe-child") == 0)
		return exe_child();
	check_fork_and_wait();
	check_wnohang_and_kill();
	check_fault_kills_only_the_child();
	check_pipe_bigger_than_its_buffer();
	check_sigchld();
	check_private_memory();
	check_shared_offset();
	check_vfork();
	check_busy_parent();
	check_exec();
	check_exe_link();
	check_orphan();
	check_clone3();
	check_unsupported();
	check_in_the_vm();
	return guest_done("procs");
}
