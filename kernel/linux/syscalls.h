/* syscalls.h: the handlers of the Linux system calls Fresco implements.
 *
 * Each takes the call's arguments as Linux defines them and returns the
 * result or a negative errno. syscall.c lists them by number and name in
 * one table: the map of the ABI.
 */
#ifndef FRESCO_SYSCALLS_H
#define FRESCO_SYSCALLS_H

#include "kernel.h"

/* sys_io.c */
long sys_read(int fd, uint64_t buf, uint64_t len);
long sys_write(int fd, uint64_t buf, uint64_t len);
long sys_pread64(int fd, uint64_t buf, uint64_t len, int64_t off);
long sys_pwrite64(int fd, uint64_t buf, uint64_t len, int64_t off);
long sys_readv(int fd, uint64_t iov, int cnt);
long sys_writev(int fd, uint64_t iov, int cnt);
long sys_preadv(int fd, uint64_t iov, int cnt, int64_t off);
long sys_pwritev(int fd, uint64_t iov, int cnt, int64_t off);
long sys_lseek(int fd, int64_t off, int whence);
long sys_close(int fd);
long sys_dup(int fd);
long sys_dup2(int old, int new);
long sys_dup3(int old, int new, int flags);
long sys_fcntl(int fd, int cmd, uint64_t arg);
long sys_flock(int fd, int op);
long sys_pipe(uint64_t fds);
long sys_pipe2(uint64_t fds, int flags);
long sys_ioctl(int fd, unsigned cmd, uint64_t arg);
long sys_getdents64(int fd, uint64_t buf, uint64_t len);
long sys_ftruncate(int fd, int64_t len);
long sys_fsync(int fd);
long sys_fdatasync(int fd);
long sys_sync(void);
long sys_syncfs(int fd);
long sys_socket(int domain, int type, int protocol);
long sys_bind(int fd, uint64_t uaddr, uint64_t len);
long sys_connect(int fd, uint64_t uaddr, uint64_t len);
long sys_sendto(int fd, uint64_t ubuf, uint64_t len, int flags, uint64_t uaddr,
		uint64_t alen);
long sys_recvfrom(int fd, uint64_t ubuf, uint64_t len, int flags,
		  uint64_t uaddr, uint64_t ualen);
long sys_sendmsg(int fd, uint64_t umsg, int flags);
long sys_recvmsg(int fd, uint64_t umsg, int flags);
long sys_sendmmsg(int fd, uint64_t uvec, unsigned vlen, int flags);
long sys_recvmmsg(int fd, uint64_t uvec, unsigned vlen, int flags,
		  uint64_t utimeout);
long sys_getsockname(int fd, uint64_t uaddr, uint64_t ulen);
long sys_getpeername(int fd, uint64_t uaddr, uint64_t ulen);
long sys_shutdown(int fd, int how);
long sys_socketpair(int domain, int type, int protocol, uint64_t usv);
long sys_listen(int fd, int backlog);
long sys_eventfd(unsigned initval);
long sys_eventfd2(unsigned initval, int flags);
long sys_timerfd_create(int clock, int flags);
long sys_timerfd_settime(int fd, int flags, uint64_t unew, uint64_t uold);
long sys_timerfd_gettime(int fd, uint64_t ucur);
long sys_epoll_create(int size);
long sys_epoll_create1(int flags);
long sys_epoll_ctl(int epfd, int op, int fd, uint64_t uev);
long sys_epoll_wait(int epfd, uint64_t uev, int max, int timeout_ms);
long sys_epoll_pwait(int epfd, uint64_t uev, int max, int timeout_ms,
		     uint64_t sigmask, uint64_t sigsetsize);
long sys_accept(int fd, uint64_t uaddr, uint64_t ulen);
long sys_accept4(int fd, uint64_t uaddr, uint64_t ulen, int flags);
long sys_setsockopt(int fd, int level, int name, uint64_t uval, uint64_t len);
long sys_getsockopt(int fd, int level, int name, uint64_t uval, uint64_t ulen);
long sys_sendfile(int outfd, int infd, uint64_t off, uint64_t count);
long sys_copy_file_range(int infd, uint64_t inoff, int outfd, uint64_t outoff,
			 uint64_t len, unsigned flags);
long sys_close_range(unsigned first, unsigned last, unsigned flags);
long sys_fallocate(int fd, int mode, int64_t off, int64_t len);
long sys_memfd_create(uint64_t name, unsigned flags);

/* sys_fs.c */
long sys_openat(int dirfd, uint64_t path, int flags, uint32_t mode);
long sys_open(uint64_t path, int flags, uint32_t mode);
long sys_creat(uint64_t path, uint32_t mode);
long sys_fstat(int fd, uint64_t st);
long sys_fstat_cwd(uint64_t st);
long sys_newfstatat(int dirfd, uint64_t path, uint64_t st, int flags);
long sys_stat(uint64_t path, uint64_t st);
long sys_lstat(uint64_t path, uint64_t st);
long sys_statx(int dirfd, uint64_t path, int flags, unsigned mask,
	       uint64_t buf);
long sys_mkdirat(int dirfd, uint64_t path, uint32_t mode);
long sys_mkdir(uint64_t path, uint32_t mode);
long sys_unlinkat(int dirfd, uint64_t path, int flags);
long sys_unlink(uint64_t path);
long sys_rmdir(uint64_t path);
long sys_renameat2(int olddirfd, uint64_t oldpath, int newdirfd,
		   uint64_t newpath, unsigned flags);
long sys_renameat(int od, uint64_t op, int nd, uint64_t np);
long sys_rename(uint64_t op, uint64_t np);
long sys_linkat(int olddirfd, uint64_t oldpath, int newdirfd, uint64_t newpath,
		int flags);
long sys_link(uint64_t op, uint64_t np);
long sys_symlinkat(uint64_t target, int dirfd, uint64_t path);
long sys_symlink(uint64_t target, uint64_t path);
long sys_readlinkat(int dirfd, uint64_t path, uint64_t buf, int size);
long sys_readlink(uint64_t path, uint64_t buf, int size);
long sys_chdir(uint64_t path);
long sys_fchdir(int fd);
long sys_getcwd(uint64_t buf, uint64_t size);
long sys_umask(uint32_t mask);
long sys_faccessat2(int dirfd, uint64_t path, int mode, int flags);
long sys_faccessat(int dirfd, uint64_t path, int mode);
long sys_access(uint64_t path, int mode);
long sys_truncate(uint64_t path, int64_t len);
long sys_fchmodat(int dirfd, uint64_t path, uint32_t mode);
long sys_chmod(uint64_t path, uint32_t mode);
long sys_fchmod(int fd, uint32_t mode);
long sys_fchownat(int dirfd, uint64_t path, uint32_t uid, uint32_t gid,
		  int flags);
long sys_chown(uint64_t path, uint32_t uid, uint32_t gid);
long sys_lchown(uint64_t path, uint32_t uid, uint32_t gid);
long sys_fchown(int fd, uint32_t uid, uint32_t gid);
long sys_utimensat(int dirfd, uint64_t path, uint64_t times, int flags);
long sys_statfs(uint64_t path, uint64_t buf);
long sys_fstatfs(int fd, uint64_t buf);

/* sys_poll.c */
long sys_poll(uint64_t fds, uint64_t nfds, int timeout_ms);
long sys_ppoll(uint64_t fds, uint64_t nfds, uint64_t ts, uint64_t sigmask,
	       uint64_t sigsetsize);
long sys_select(int nfds, uint64_t rd, uint64_t wr, uint64_t ex, uint64_t tv);
long sys_pselect6(int nfds, uint64_t rd, uint64_t wr, uint64_t ex, uint64_t ts,
		  uint64_t sig);

/* sys_mm.c */
long sys_brk(uint64_t addr);
long sys_mmap(uint64_t addr, uint64_t len, int prot, int flags, int fd,
	      uint64_t off);
long sys_munmap(uint64_t addr, uint64_t len);
long sys_mprotect(uint64_t addr, uint64_t len, int prot);
long sys_mremap(uint64_t old, uint64_t old_len, uint64_t new_len, int flags,
		uint64_t new_addr);
long sys_madvise(uint64_t addr, uint64_t len, int advice);

/* sys_proc.c */
long sys_exit(int status);
long sys_exit_group(int status);
long sys_fork(void);
long sys_vfork(void);
long sys_execve(uint64_t path, uint64_t argv, uint64_t envp);
long sys_clone(uint64_t flags, uint64_t stack, uint64_t parent_tid,
	       uint64_t child_tid, uint64_t tls);
long sys_clone3(uint64_t uargs, uint64_t size);
long sys_wait4(int pid, uint64_t ustatus, int options, uint64_t urusage);
long sys_getpid(void);
long sys_gettid(void);
long sys_getppid(void);
long sys_getuid(void);
long sys_geteuid(void);
long sys_getgid(void);
long sys_getegid(void);
long sys_uname(uint64_t buf);
long sys_arch_prctl(int code, uint64_t addr);
long sys_set_tid_address(uint64_t tidptr);
/* A struct timespec at (uts) in ns, saturated (centuries are for
 * ever); none (0): UINT64_MAX. 0, -EFAULT or -EINVAL. */
long timespec_from_user(uint64_t uts, uint64_t *ns);
long sys_futex(uint64_t uaddr, int op, uint32_t val, uint64_t utimeout,
	       uint64_t uaddr2, uint32_t val3);
long sys_set_robust_list(uint64_t head, uint64_t len);
long sys_rseq(void);
long sys_prlimit64(int pid, unsigned res, uint64_t new, uint64_t old);
long sys_getrlimit(unsigned res, uint64_t old);
long sys_setrlimit(unsigned res, uint64_t new);
long sys_sched_getaffinity(int pid, uint64_t len, uint64_t mask);
long sys_sched_yield(void);
long sys_prctl(int option, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5);
long sys_sysinfo(uint64_t buf);
long sys_times(uint64_t buf);
long sys_getrusage(int who, uint64_t buf);
long sys_getpgid(int pid);
long sys_getpgrp(void);
long sys_getsid(int pid);
long sys_setsid(void);
long sys_setpgid(int pid, int pgid);

/* sys_time.c */
long sys_clock_gettime(int clk, uint64_t tp);
long sys_clock_getres(int clk, uint64_t tp);
long sys_gettimeofday(uint64_t tv, uint64_t tz);
long sys_time(uint64_t t);
long sys_nanosleep(uint64_t req, uint64_t rem);
long sys_clock_nanosleep(int clk, int flags, uint64_t req, uint64_t rem);

/* sys_random.c */
long sys_getrandom(uint64_t buf, uint64_t len, unsigned flags);

/* signal.c */
long sys_rt_sigaction(int sig, uint64_t act, uint64_t oact, uint64_t size);
long sys_rt_sigprocmask(int how, uint64_t set, uint64_t oset, uint64_t size);
long sys_kill(int pid, int sig);
long sys_rt_sigreturn(void);
long sys_rt_sigsuspend(uint64_t mask, uint64_t size);
long sys_rt_sigpending(uint64_t set, uint64_t size);
long sys_pause(void);
long sys_alarm(unsigned secs);
long sys_getitimer(int which, uint64_t cur);
long sys_setitimer(int which, uint64_t new, uint64_t old);
long sys_timer_create(int clock, uint64_t evp, uint64_t id);
long sys_timer_settime(int id, int flags, uint64_t new, uint64_t old);
long sys_timer_gettime(int id, uint64_t cur);
long sys_timer_getoverrun(int id);
long sys_timer_delete(int id);
long sys_sigaltstack(uint64_t ss, uint64_t oss);
long sys_tkill(int tid, int sig);
long sys_tgkill(int tgid, int tid, int sig);

#endif
