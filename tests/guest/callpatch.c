/* callpatch.c: system calls from the shapes of site the kernel may
 * turn into jumps (kernel/lib/callpatch.h) behave as SYSCALL does, the
 * first time and after: the result in RAX, RCX = the address after the
 * instruction, R11 = the flags, every other register and the flags kept,
 * the red zone below the stack untouched; restarts after a signal, with
 * and without SA_RESTART; a signal delivered as the call returns; a
 * forked child running patched code. Prints whether the sites were
 * patched, for the system test to check ("sites patched: yes|no").
 */
#define _GNU_SOURCE
#include "guest.h"

#include <signal.h>
#include <stdint.h>
#include <sys/time.h>
#include <sys/wait.h>

/* What a probe saw just after the call, in this order. */
struct seen {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, r8, r9, r10, r11, r12, r13,
		r14, r15;
	uint64_t cf;	  /* the carry flag, set before the call */
	uint64_t redzone; /* how many of the 16 canaries survived */
};

void probe_constant(struct seen *s);
void probe_moves(struct seen *s);
void probe_tail(struct seen *s);
long tail_call(long nr, long a, long b, long c);
long constant_read(long fd, void *buf, long len);
extern const uint8_t constant_site[], constant_after[], tail_site[],
	tail_after[], tail_call_site[], constant_read_site[], moves_site[],
	moves_after[];

#define CANARY "0x0123456789abcdef"

/* Registers get known values, 16 canaries go below the callee's stack
 * pointer, CF is set; after the call everything is stored in a scratch
 * area above the stack pointer (the red zone is left alone), then
 * copied out. (SETUP) and (CALL) differ between the shapes: the tail
 * shape is reached by a call, whose return address is the one word
 * below RSP the red zone does not include. */
#define PROBE(name, below, call)                                        \
	".text\n.p2align 4\n.globl " name "\n" name ":\n"               \
	"push %rbx\npush %rbp\npush %r12\npush %r13\npush %r14\n"       \
	"push %r15\npush %rdi\nsub $136, %rsp\n"                        \
	"movabs $" CANARY ", %rax\nlea -" below "-128(%rsp), %rdx\n"    \
	"1: mov %rax, (%rdx)\nadd $8, %rdx\n"                           \
	"lea -" below "(%rsp), %rcx\ncmp %rcx, %rdx\njb 1b\n"           \
	"mov $0xb1, %ebx\nmov $0xb2, %ebp\nmov $0xb3, %r12d\n"          \
	"mov $0xb4, %r13d\nmov $0xb5, %r14d\nmov $0xb6, %r15d\n"        \
	"mov $0xa1, %edi\nmov $0xa2, %esi\nmov $0xa3, %edx\n"           \
	"mov $0xa4, %r10d\nmov $0xa5, %r8d\nmov $0xa6, %r9d\n"          \
	"mov $0xc1, %ecx\nmov $0xc2, %r11d\nstc\n" call                 \
	"setc 120(%rsp)\nmov %rax, 0(%rsp)\nmov %rbx, 8(%rsp)\n"        \
	"mov %rcx, 16(%rsp)\nmov %rdx, 24(%rsp)\nmov %rsi, 32(%rsp)\n"  \
	"mov %rdi, 40(%rsp)\nmov %rbp, 48(%rsp)\nmov %r8, 56(%rsp)\n"   \
	"mov %r9, 64(%rsp)\nmov %r10, 72(%rsp)\nmov %r11, 80(%rsp)\n"   \
	"mov %r12, 88(%rsp)\nmov %r13, 96(%rsp)\nmov %r14, 104(%rsp)\n" \
	"mov %r15, 112(%rsp)\nmovabs $" CANARY ", %rax\n"               \
	"lea -" below "-128(%rsp), %rdx\nxor %ecx, %ecx\n"              \
	"2: cmp %rax, (%rdx)\njne 3f\ninc %ecx\n"                       \
	"3: add $8, %rdx\nlea -" below "(%rsp), %rsi\n"                 \
	"cmp %rsi, %rdx\njb 2b\nmov %rcx, 128(%rsp)\n"                  \
	"movzbl 120(%rsp), %eax\nmov %rax, 120(%rsp)\n"                 \
	"mov 136(%rsp), %rdi\nmov %rsp, %rsi\nmov $17, %ecx\n"          \
	"rep movsq\nadd $136, %rsp\npop %rdi\npop %r15\npop %r14\n"     \
	"pop %r13\npop %r12\npop %rbp\npop %rbx\nret\n"

__asm__(PROBE("probe_constant", "0",
	      ".globl constant_site, constant_after\n"
	      "constant_site: mov $110, %eax\nsyscall\nconstant_after:\n")
	/* moves between: each leaves its register as it was */
	PROBE("probe_moves", "0",
	      ".globl moves_site, moves_after\n"
	      "moves_site: mov $110, %eax\nmov %rsi, %rsi\n"
	      "mov %edx, %edx\nmov $0xa4, %r10d\nsyscall\n"
	      "moves_after:\n")
		PROBE("probe_tail", "8", "mov $110, %eax\ncall tail_getppid\n")
	/* syscall; ret; then padding to the next 16 bytes */
	".p2align 4\ntail_getppid:\n.fill 3, 1, 0x90\n"
	".globl tail_site, tail_after\n"
	"tail_site: syscall\ntail_after: ret\n"
	/* a tail site for any call with up to three arguments */
	".p2align 4\n.globl tail_call, tail_call_site\ntail_call:\n"
	"mov %rdi, %rax\nmov %rsi, %rdi\nmov %rdx, %rsi\nmov %rcx, %rdx\n"
	"nop\nnop\nnop\ntail_call_site: syscall\nret\n"
	/* read(2) from a constant site (it is a tail shape too: the
	 * constant one is taken first) */
	".p2align 4\n.globl constant_read, constant_read_site\n"
	"constant_read:\nconstant_read_site: mov $0, %eax\nsyscall\nret\n"
	".p2align 4\n");

static int pipefd[2];
static volatile int handled;

static void on_alarm(int sig)
{
	(void)sig;
	handled++;
	if (write(pipefd[1], "x", 1) != 1)
		_exit(3);
}

static void on_usr1(int sig)
{
	(void)sig;
	handled++;
}

static void handle(int sig, void (*fn)(int), int flags)
{
	struct sigaction sa = {.sa_handler = fn, .sa_flags = flags};
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/* Arm a one-shot timer of (ms) milliseconds. */
static void alarm_ms(int ms)
{
	struct itimerval t = {{0, 0}, {0, ms * 1000}};
	setitimer(ITIMER_REAL, &t, NULL);
}

static int probe_ok(const struct seen *s, uint64_t after, const char *what,
		    int round)
{
	int ok = 1;
	const uint64_t kept[] = {s->rbx, s->rbp, s->r12, s->r13, s->r14, s->r15,
				 s->rdi, s->rsi, s->rdx, s->r10, s->r8,	 s->r9};
	const uint64_t want[] = {0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6,
				 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6};
	for (unsigned i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		ok &= kept[i] == want[i];
	CHECK(s->rax == (uint64_t)getppid(), "%s site, call %d: the result",
	      what, round);
	CHECK(ok, "%s site, call %d: registers kept", what, round);
	CHECK(s->rcx == after,
	      "%s site, call %d: RCX is where it returns "
	      "(%#llx, %#llx)",
	      what, round, (unsigned long long)s->rcx,
	      (unsigned long long)after);
	CHECK((s->r11 & 0x203) == 0x203,
	      "%s site, call %d: R11 holds the flags (%#llx)", what, round,
	      (unsigned long long)s->r11);
	CHECK(s->cf == 1, "%s site, call %d: the flags kept", what, round);
	CHECK(s->redzone == 16,
	      "%s site, call %d: the red zone untouched "
	      "(%llu of 16)",
	      what, round, (unsigned long long)s->redzone);
	return ok && s->rcx == after && s->redzone == 16 && s->cf == 1;
}

int main(void)
{
	struct seen s;
	char c = 0;

	for (int round = 1; round <= 3; round++) {
		probe_constant(&s);
		probe_ok(&s, (uint64_t)constant_after, "constant", round);
		probe_moves(&s);
		probe_ok(&s, (uint64_t)moves_after, "constant with moves",
			 round);
		probe_tail(&s);
		probe_ok(&s, (uint64_t)tail_after, "tail", round);
	}
	CHECK(tail_call(SYS_getppid, 0, 0, 0) == getppid() &&
		      tail_call(SYS_getppid, 0, 0, 0) == getppid(),
	      "a three-argument tail site");

	/* restarts: the call goes back to its syscall instruction */
	CHECK(pipe(pipefd) == 0, "a pipe");
	handle(SIGALRM, on_alarm, SA_RESTART);
	alarm_ms(50);
	long n = tail_call(SYS_read, pipefd[0], (long)&c, 1);
	CHECK(n == 1 && c == 'x' && handled == 1,
	      "a read at a tail site restarts after an SA_RESTART handler "
	      "(%ld)",
	      n);
	c = 0;
	alarm_ms(50);
	n = constant_read(pipefd[0], &c, 1);
	CHECK(n == 1 && c == 'x' && handled == 2,
	      "a read at a constant site restarts too (%ld)", n);
	handle(SIGALRM, on_alarm, 0);
	alarm_ms(50);
	n = tail_call(SYS_read, pipefd[0], (long)&c, 1);
	CHECK(n == -EINTR && handled == 3,
	      "without SA_RESTART it ends with EINTR (%ld)", n);
	CHECK(read(pipefd[0], &c, 1) == 1, "the handler's byte is there");

	/* a signal delivered as a call returns */
	handle(SIGUSR1, on_usr1, 0);
	n = tail_call(SYS_kill, getpid(), SIGUSR1, 0);
	CHECK(n == 0 && handled == 4,
	      "a signal sent by a call runs its handler on the way out");

	/* a child runs the same (perhaps patched) code */
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		int ok = 1;
		for (int round = 1; round <= 2; round++) {
			probe_constant(&s);
			ok &= probe_ok(&s, (uint64_t)constant_after,
				       "child's constant", round);
			probe_moves(&s);
			ok &= probe_ok(&s, (uint64_t)moves_after,
				       "child's constant with moves", round);
			probe_tail(&s);
			ok &= probe_ok(&s, (uint64_t)tail_after, "child's tail",
				       round);
		}
		fflush(stdout);
		_exit(ok ? 0 : 1);
	}
	int status = -1;
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		      WEXITSTATUS(status) == 0,
	      "a forked child's calls from the same sites");

	int constant = constant_site[0] == 0xe9, tail = tail_site[0] == 0xeb;
	int read_site = constant_read_site[0] == 0xe9;
	CHECK(constant == tail && tail == read_site &&
		      (tail_call_site[0] == 0xeb) == tail &&
		      (moves_site[0] == 0xe9) == tail,
	      "all sites or none patched");
	CHECK(constant || constant_site[0] == 0xb8,
	      "a constant site is its mov or a jump");
	printf("sites patched: %s\n", constant ? "yes" : "no");
	return guest_done("callpatch");
}
