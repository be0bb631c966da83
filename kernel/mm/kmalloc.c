/* kmalloc.c: small kernel objects, in power-of-two size classes carved
 * from whole pages. Freed objects go back to their class's list. */
#include "kernel.h"

#define MIN_SHIFT 4 /* 16 bytes */
#define NCLASSES 9  /* 16 .. 4096 */

static void *free_lists[NCLASSES];

static int size_class(size_t size)
{
	int c = 0;
	while (((size_t)1 << (c + MIN_SHIFT)) < size)
		c++;
	return c;
}

void *kmalloc(size_t size)
{
	if (size == 0 || size > PAGE_SIZE)
		return NULL;
	int c = size_class(size);
	size_t osize = (size_t)1 << (c + MIN_SHIFT);

	if (!free_lists[c]) {
		uint64_t pa = phys_alloc();
		if (!pa)
			return NULL;
		char *page = phys_to_virt(pa);
		for (size_t off = 0; off < PAGE_SIZE; off += osize) {
			*(void **)(page + off) = free_lists[c];
			free_lists[c] = page + off;
		}
	}
	void *p = free_lists[c];
	free_lists[c] = *(void **)p;
	memset(p, 0, osize);
	return p;
}

void kfree(void *p, size_t size)
{
	if (!p)
		return;
	int c = size_class(size);
	*(void **)p = free_lists[c];
	free_lists[c] = p;
}
