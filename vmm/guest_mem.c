/* guest_mem.c: the one bounds check between guest addresses and host memory. */
#include "vmm.h"

void *guest_mem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	if (gpa > m->size || len > m->size - gpa)
		return NULL;
	return m->host + gpa;
}
