/* SPDX-License-Identifier: MIT */
/*
 * Guest RAM for device tests: one region at guest physical 0 backed by a
 * plain allocation, so guest_mem_ptr() behaves exactly as in a VM (and
 * ASan sees any access that strays past it).
 */
#ifndef MINIVMM_TEST_FAKE_MEM_H
#define MINIVMM_TEST_FAKE_MEM_H

#include <stdlib.h>
#include <string.h>

#include "lib/memory.h"

static inline int fake_mem_init(struct guest_mem *m, uint64_t size)
{
	memset(m, 0, sizeof(*m));
	m->base = aligned_alloc(4096, size);
	if (!m->base)
		return -1;
	memset(m->base, 0, size);
	m->ram_size = m->low_end = size;
	m->page_size = 4096;
	m->fd = -1;
	m->regions[0] = (struct mem_region){ .gpa = 0, .size = size, .offset = 0, .name = "ram" };
	m->nr_regions = 1;
	return 0;
}

static inline void fake_mem_free(struct guest_mem *m)
{
	free(m->base);
	m->base = NULL;
}

/* Host pointer of a guest address the test itself chose (in range). */
static inline void *gpa(struct guest_mem *m, uint64_t a)
{
	return m->base + a;
}

#endif
