/* process.c: processes: fork, exit, wait4, and switching between them.
 *
 * The states and the rules are in kernel.h ("processes"). Switching is
 * cooperative: event_wait calls sched_yield_wait before it would halt,
 * and the process switched in is one that has not yet seen the latest
 * sched_events (or has never run). A process that exits switches away
 * for good; what it still owns that the switch itself uses (its address
 * space, its kernel stack) is freed by whoever runs next
 * (sched_finish_switch), or by its parent's wait4.
 *
 * A process that keeps making system calls without ever waiting (polling
 * a non-blocking descriptor, say) is switched out at a system call's end
 * once it has run SLICE_NS, if another process may have something to do;
 * one that computes without system calls runs until it makes one.
 *
 * Each switch loads the next process's page tables and FS base through
 * one gate call (about 12 us under kvm_pvm), so a server that forks a
 * child per connection pays a few switches per connection, not one per
 * system call.
 */
#include "kernel.h"
#include "fs/fs.h"
#include <asm/signal.h>
#include <linux/wait.h>

#define SIG_IGN_VALUE 1
#define CLD_EXITED_CODE 1
#define CLD_KILLED_CODE 2
/* a process's own memory: its I/O buffer, then its kernel stack */
#define BLOCK_SIZE (PROCESS_IOBUF_SIZE + KSTACK_SIZE)
#define BLOCK_PAGES (BLOCK_SIZE / PAGE_SIZE)
#define SLICE_NS 10000000ULL /* 10 ms */

static uint8_t init_iobuf[PROCESS_IOBUF_SIZE];
static struct process init_proc = {
	.pid = 1, .state = PROC_RUNNING, .iobuf = init_iobuf};
struct process *current = &init_proc;
uint64_t sched_events;
static struct process *procs = &init_proc;
static int next_pid = 2;
static int said_nomem;
/* freed blocks (I/O buffer and kernel stack), all kept for the next
 * fork: they are consecutive pages, which phys_alloc_contig finds only in
 * memory never handed out before, and that runs out if they go back.
 * At most PROC_MAX exist. */
static void *stack_cache[PROC_MAX];
static int nstack_cache;
/* an exited process whose address space waits to be freed */
static struct process *dead;

/* entry.S: save the callee-saved registers and the stack pointer in
 * (*save), continue on (next) as saved by an earlier call */
void task_switch(uint64_t *save, uint64_t next);
/* entry.S: where a forked child starts: its copy of the parent's system
 * call frame is on its kernel stack; it returns 0 from fork */
void fork_child_return(void);

struct process *process_list(void)
{
	return procs;
}

struct process *process_find(int pid)
{
	for (struct process *p = procs; p; p = p->next)
		if (p->pid == pid)
			return p;
	return NULL;
}

int process_count(void)
{
	int n = 0;
	for (struct process *p = procs; p; p = p->next)
		n += p->state != PROC_ZOMBIE;
	return n;
}

static uint64_t kstack_top(const struct process *p)
{
	extern char syscall_stack_top[];
	return p->kstack ? (uint64_t)p->kstack + BLOCK_SIZE
			 : (uint64_t)syscall_stack_top;
}

static void *kstack_alloc(void)
{
	if (nstack_cache)
		return stack_cache[--nstack_cache];
	uint64_t pa = phys_alloc_contig(BLOCK_PAGES);
	return pa ? phys_to_virt(pa) : NULL;
}

static void kstack_free(void *s)
{
	if (s)
		stack_cache[nstack_cache++] = s;
}

_Static_assert(sizeof(struct process) <= PAGE_SIZE, "kmalloc's limit");

/* Unlink and free zombie (p), whose memory sched_finish_switch freed. */
static void process_free(struct process *p)
{
	for (struct process **pp = &procs; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	kfree(p, sizeof(*p));
}

/* Run in the process just switched in: free what the process that
 * exited before the switch could not free while it ran: its address
 * space and kernel stack. A zombie keeps only its struct process. */
void sched_finish_switch(void)
{
	struct process *d = dead;
	if (!d)
		return;
	dead = NULL;
	vm_release(d->mm);
	d->mm = NULL;
	kstack_free(d->kstack);
	d->kstack = NULL;
	d->iobuf = NULL;
	if (d->autoreap)
		process_free(d);
}

static void switch_to(struct process *next)
{
	struct process *prev = current;
	if (prev->state == PROC_RUNNING)
		prev->state = PROC_WAITING;
	current = next;
	next->state = PROC_RUNNING;
	next->ran_since = clock_monotonic_ns();
	percpu0.kstack_top = kstack_top(next);
	gate_call(GATE_SWITCH_PROCESS, (long)vm_root(next->mm),
		  (long)next->fs_base, 0);
	task_switch(&prev->ksp, next->ksp);
	sched_finish_switch();
}

/* The next process after the current, round the list, that may have
 * something to do; NULL if none has. */
static struct process *pick(void)
{
	struct process *p = current;
	for (;;) {
		p = p->next ? p->next : procs;
		if (p == current)
			return NULL;
		if (p->state == PROC_NEW ||
		    (p->state == PROC_WAITING && p->seen != sched_events))
			return p;
	}
}

int sched_yield_wait(uint64_t wake_at)
{
	current->seen = sched_events;
	current->wake_at = wake_at;
	struct process *next = pick();
	if (!next)
		return 0;
	switch_to(next);
	return 1;
}

void sched_tick(void)
{
	if (!procs->next)
		return; /* one process: nothing to share with */
	if (clock_monotonic_ns() - current->ran_since < SLICE_NS)
		return;
	/* runnable at once: back as soon as the others wait or use up
	 * their own slice */
	if (!sched_yield_wait(0))
		current->ran_since = clock_monotonic_ns();
}

uint64_t sched_next_wake(void)
{
	uint64_t next = UINT64_MAX;
	for (struct process *p = procs; p; p = p->next)
		if (p != current && p->state == PROC_WAITING &&
		    p->wake_at < next)
			next = p->wake_at;
	return next;
}

void process_set_mm(struct mm *m)
{
	current->mm = m;
	gate_call(GATE_SWITCH_PROCESS, (long)vm_root(m), (long)current->fs_base,
		  0);
}

void process_exec_done(void)
{
	current->execed = 1;
	current->clear_child_tid = 0;
	current->set_child_tid = 0;
	sched_wake(); /* a vfork parent waits for this */
}

/* Where a forked child first runs, on its own kernel stack: the value
 * its fork returns (0, unless a signal sent before it ran changes the
 * way out, as at any system call's end). */
long process_child_start(void)
{
	sched_finish_switch();
	if (current->set_child_tid) {
		/* CLONE_CHILD_SETTID: the child's tid, in its own memory */
		int32_t pid = current->pid;
		copy_to_user(current->set_child_tid, &pid, sizeof(pid));
		current->set_child_tid = 0;
	}
	current->frame = (struct syscall_frame *)(kstack_top(current) -
						  sizeof(struct syscall_frame));
	if (current->sigpending & ~current->sigmask)
		return signal_deliver_pending(current->frame, 0);
	return 0;
}

long process_fork(const struct fork_req *req)
{
	struct process *c = NULL;
	void *stack = NULL;

	int n = 0;
	for (struct process *p = procs; p; p = p->next)
		n++; /* zombies count too, as they do for RLIMIT_NPROC */
	if (n >= PROC_MAX) {
		static int said;
		if (!said++)
			klog("fork: the VM already has %d processes (zombies "
			     "included); the program gets EAGAIN",
			     PROC_MAX);
		return -EAGAIN;
	}
	if (!(c = kmalloc(sizeof(*c))) || !(stack = kstack_alloc()))
		goto err_mem;
	*c = *current;
	c->pid = next_pid++;
	c->parent = current;
	c->state = PROC_NEW;
	c->next = NULL;
	c->kstack = stack;
	c->iobuf = stack;
	c->sigpending = 0;
	memset(c->pending_code, 0, sizeof(c->pending_code));
	c->suspend_active = 0;
	c->timers = NULL;
	c->execed = 0;
	if (c->exe_owned) {
		size_t n = strlen(c->exe_owned) + 1;
		if (!(c->exe_owned = kmalloc(n)))
			goto err_mem;
		memcpy(c->exe_owned, current->exe, n);
		c->exe = c->exe_owned;
	}
	c->set_child_tid = req->set_child_tid;
	c->clear_child_tid = req->clear_child_tid;
	if (req->settls)
		c->fs_base = req->tls;
	if (!(c->mm = req->share_vm ? vm_get(current->mm) : vm_fork()))
		goto err_mem;
	if (!(c->files = files_fork())) {
		vm_release(c->mm);
		goto err_mem;
	}
	inode_get(c->cwd);

	/* the child's kernel stack: the parent's system call frame at the
	 * top, under it what task_switch pops: six registers, then
	 * fork_child_return as the return address */
	uint64_t top = kstack_top(c);
	struct syscall_frame *f = (struct syscall_frame *)(top - sizeof(*f));
	*f = *current->frame;
	if (req->stack)
		f->rsp = req->stack;
	uint64_t *sp = (uint64_t *)f;
	*--sp = (uint64_t)fork_child_return;
	for (int k = 0; k < 6; k++)
		*--sp = 0;
	c->ksp = (uint64_t)sp;

	struct process **pp = &procs;
	while (*pp)
		pp = &(*pp)->next;
	*pp = c;
	sched_wake();

	if (req->parent_tid) {
		int32_t pid = c->pid;
		copy_to_user(req->parent_tid, &pid, sizeof(pid));
	}
	int pid = c->pid;
	if (req->vfork) {
		/* the parent sleeps until the child exits or calls execve
		 * (its memory is the parent's with CLONE_VM, as vfork's
		 * is). Signals wait too. */
		for (;;) {
			struct process *q = process_find(pid);
			if (!q || q->state == PROC_ZOMBIE || q->execed)
				break;
			if (!sched_yield_wait(UINT64_MAX))
				sched_idle(UINT64_MAX);
		}
	}
	return pid;

err_mem:
	if (!said_nomem++)
		klog("fork: not enough memory for a copy of process %d; the "
		     "program gets ENOMEM (give the VM more with --memory)",
		     current->pid);
	if (stack)
		kstack_free(stack);
	if (c && c->exe_owned && c->exe_owned != current->exe_owned)
		kfree(c->exe_owned, strlen(c->exe_owned) + 1);
	kfree(c, sizeof(*c));
	return -ENOMEM;
}

/* Hand (p)'s children to pid 1. */
static void reparent(struct process *p)
{
	for (struct process *c = procs; c; c = c->next)
		if (c->parent == p)
			c->parent = &init_proc;
}

NORETURN void process_exit(int status, int vm_status)
{
	struct process *p = current;
	if (p == &init_proc)
		kexit(vm_status);
	if (p->clear_child_tid) {
		/* CLONE_CHILD_CLEARTID: nobody shares this memory, but the
		 * write is what Linux does, and it is harmless */
		int32_t zero = 0;
		copy_to_user(p->clear_child_tid, &zero, sizeof(zero));
	}
	timers_release(p);
	if (p->exe_owned)
		kfree(p->exe_owned, strlen(p->exe_owned) + 1);
	p->exe_owned = NULL;
	files_release(p->files);
	p->files = NULL;
	inode_put(p->cwd);
	p->cwd = NULL;
	reparent(p);
	p->wait_status = status;
	p->state = PROC_ZOMBIE;
	struct process *parent = p->parent;
	const typeof(parent->sigactions[0]) *sa =
		&parent->sigactions[SIGCHLD - 1];
	if (sa->handler == SIG_IGN_VALUE || (sa->flags & SA_NOCLDWAIT))
		p->autoreap = 1; /* nobody will wait: freed at once */
	else if (status & 0x7f)
		signal_child_exited(parent, CLD_KILLED_CODE, status & 0x7f);
	else
		signal_child_exited(parent, CLD_EXITED_CODE, status >> 8);
	dead = p;
	sched_wake();
	for (;;) {
		struct process *next = pick();
		if (next)
			switch_to(next); /* never comes back */
		sched_idle(UINT64_MAX);
	}
}

int process_wait(int pid, int options, int *status)
{
	for (;;) {
		int children = 0;
		for (struct process *p = procs; p; p = p->next) {
			if (p->parent != current || (pid > 0 && p->pid != pid))
				continue;
			children++;
			if (p->state != PROC_ZOMBIE || p->autoreap || p == dead)
				continue;
			int id = p->pid;
			*status = p->wait_status;
			process_free(p);
			return id;
		}
		if (!children)
			return -ECHILD;
		if (options & WNOHANG)
			return 0;
		if (event_wait(UINT64_MAX) < 0)
			return -ERESTARTSYS;
	}
}
