/* sys_mm.c: memory calls: brk and anonymous mmap and friends (mm/vm.c). */
#include "fs/fs.h"
#include "linux/syscalls.h"
#include <linux/mman.h>

long sys_brk(uint64_t addr)
{
	return (long)vm_brk(addr);
}

long sys_mmap(uint64_t addr, uint64_t len, int prot, int flags, int fd,
	      uint64_t off)
{
	if (off & (PAGE_SIZE - 1))
		return -EINVAL;
	if (!(flags & MAP_ANONYMOUS)) {
		struct file *f = fd_get(fd);
		if (!f)
			return -EBADF;
		/* file mappings come later; devices and pipes cannot be mapped
		 */
		return -ENODEV;
	}
	return vm_mmap(addr, len, prot, flags);
}

long sys_munmap(uint64_t addr, uint64_t len)
{
	return vm_munmap(addr, len);
}

long sys_mprotect(uint64_t addr, uint64_t len, int prot)
{
	/* PROT_GROWSDOWN/UP change nothing for eagerly mapped memory */
	return vm_mprotect(addr, len, prot & ~(PROT_GROWSDOWN | PROT_GROWSUP));
}

long sys_mremap(uint64_t old, uint64_t old_len, uint64_t new_len, int flags,
		uint64_t new_addr)
{
	return vm_mremap(old, old_len, new_len, flags, new_addr);
}

long sys_madvise(uint64_t addr, uint64_t len, int advice)
{
	return vm_madvise(addr, len, advice);
}
