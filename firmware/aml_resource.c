// SPDX-License-Identifier: MIT
/*
 * Resource descriptors for ResourceTemplate() buffers, ACPI 6.4 §6.4
 * "Resource Data Types for ACPI". Small items (§6.4.2) start with a byte
 * holding the item name in bits 6-3 and the length in bits 2-0; large
 * items (§6.4.3) with the name | 0x80 and a 16-bit length.
 */
#include <errno.h>

#include "firmware/aml.h"
#include "firmware/aml_internal.h"

#define SMALL_IRQ		0x22	/* IRQ, 2 bytes (no information byte) */
#define SMALL_IO		0x47	/* I/O port, 7 bytes */
#define LARGE_MEMORY32_FIXED	0x86
#define LARGE_DWORD_ADDRESS	0x87
#define LARGE_WORD_ADDRESS	0x88
#define LARGE_EXT_INTERRUPT	0x89
#define LARGE_QWORD_ADDRESS	0x8a

/* Address space descriptors' General Flags (§6.4.3.5.1, Table 6.44). */
#define GF_CONSUMER		(1u << 0)
#define GF_SUB_DECODE		(1u << 1)
#define GF_MIN_FIXED		(1u << 2)
#define GF_MAX_FIXED		(1u << 3)
/* Type Specific Flags (§6.4.3.5.4): memory _RW and _MEM, I/O _RNG. */
#define MEM_RW			(1u << 0)
#define MEM_CACHE_SHIFT		1
#define IO_ENTIRE_RANGE		3u

/* Extended Interrupt Descriptor flags (§6.4.3.6, Table 6.53). */
#define INT_CONSUMER		(1u << 0)
#define INT_EDGE		(1u << 1)
#define INT_ACTIVE_LOW		(1u << 2)
#define INT_SHARED		(1u << 3)

struct aml *aml_io(bool decode16, uint16_t min, uint16_t max, uint8_t align,
		   uint8_t length)
{
	struct aml *n = aml_new();

	if (!n)
		return NULL;
	aml_put8(n, SMALL_IO);
	aml_put8(n, decode16 ? 1 : 0);	/* bit 0: 16-bit address decode */
	aml_put_le(n, min, 2);
	aml_put_le(n, max, 2);
	aml_put8(n, align);
	aml_put8(n, length);
	return n;
}

struct aml *aml_irq_no_flags(unsigned int irq)
{
	struct aml *n = aml_new();

	if (!n)
		return NULL;
	if (irq > 15)
		aml_fail(n, -EINVAL);
	/* §6.4.2.1: a 16-bit mask, IRQ n is bit n; without the information
	 * byte the interrupt is edge-triggered, active high, exclusive. */
	aml_put8(n, SMALL_IRQ);
	aml_put_le(n, 1u << (irq & 15), 2);
	return n;
}

struct aml *aml_interrupt(bool edge, bool active_low, bool shared,
			  const uint32_t *irqs, unsigned int nr_irqs)
{
	struct aml *n = aml_new();

	if (!n)
		return NULL;
	if (nr_irqs < 1 || nr_irqs > 255)
		aml_fail(n, -EINVAL);
	aml_put8(n, LARGE_EXT_INTERRUPT);
	aml_put_le(n, 2 + 4 * (uint64_t)nr_irqs, 2);	/* no ResourceSource */
	aml_put8(n, (uint8_t)(INT_CONSUMER | (edge ? INT_EDGE : 0) |
			      (active_low ? INT_ACTIVE_LOW : 0) |
			      (shared ? INT_SHARED : 0)));
	aml_put8(n, (uint8_t)nr_irqs);
	for (unsigned int i = 0; i < nr_irqs && !n->err; i++)
		aml_put_le(n, irqs[i], 4);
	return n;
}

struct aml *aml_memory32_fixed(uint32_t base, uint32_t length, bool rw)
{
	struct aml *n = aml_new();

	if (!n)
		return NULL;
	aml_put8(n, LARGE_MEMORY32_FIXED);
	aml_put_le(n, 9, 2);
	aml_put8(n, rw ? MEM_RW : 0);
	aml_put_le(n, base, 4);
	aml_put_le(n, length, 4);
	return n;
}

struct aml *aml_addr_space(const struct aml_addr_space *d)
{
	const uint64_t fields[5] = {
		d->granularity, d->min, d->max, d->translation, d->length
	};
	uint64_t limit;
	struct aml *n;
	uint8_t tag;

	switch (d->size) {
	case 2:
		tag = LARGE_WORD_ADDRESS;
		limit = UINT16_MAX;
		break;
	case 4:
		tag = LARGE_DWORD_ADDRESS;
		limit = UINT32_MAX;
		break;
	case 8:
		tag = LARGE_QWORD_ADDRESS;
		limit = UINT64_MAX;
		break;
	default:
		return aml_error_node(-EINVAL);
	}
	for (int i = 0; i < 5; i++)
		if (fields[i] > limit)
			return aml_error_node(-EINVAL);
	n = aml_new();
	if (!n)
		return NULL;
	aml_put8(n, tag);
	aml_put_le(n, 3 + 5 * (uint64_t)d->size, 2);
	aml_put8(n, (uint8_t)d->type);
	aml_put8(n, (uint8_t)((d->consumer ? GF_CONSUMER : 0) |
			      (d->sub_decode ? GF_SUB_DECODE : 0) |
			      (d->min_not_fixed ? 0 : GF_MIN_FIXED) |
			      (d->max_not_fixed ? 0 : GF_MAX_FIXED)));
	aml_put8(n, d->type_flags);
	for (int i = 0; i < 5; i++)
		aml_put_le(n, fields[i], d->size);
	return n;
}

/*
 * §6.4.3.5 Table 6.43: with _MIF and _MAF both set the window is exactly
 * [_MIN, _MAX], so _LEN must be _MAX - _MIN + 1 (iasl checks this).
 */
static struct aml *window(enum aml_addr_type type, unsigned int size,
			  uint8_t type_flags, uint64_t min, uint64_t max)
{
	struct aml_addr_space d = {
		.type = type, .size = size, .type_flags = type_flags,
		.min = min, .max = max, .length = max - min + 1,
	};

	if (max < min || (min == 0 && max == UINT64_MAX))
		return aml_error_node(-EINVAL);
	return aml_addr_space(&d);
}

struct aml *aml_word_bus_number(uint16_t min, uint16_t max)
{
	return window(AML_ADDR_BUS, 2, 0, min, max);
}

struct aml *aml_word_io(uint16_t min, uint16_t max)
{
	return window(AML_ADDR_IO, 2, IO_ENTIRE_RANGE, min, max);
}

struct aml *aml_dword_memory(enum aml_mem_cache cache, uint32_t min, uint32_t max)
{
	return window(AML_ADDR_MEMORY, 4,
		      (uint8_t)(MEM_RW | (cache & 3) << MEM_CACHE_SHIFT), min, max);
}

struct aml *aml_qword_memory(enum aml_mem_cache cache, uint64_t min, uint64_t max)
{
	return window(AML_ADDR_MEMORY, 8,
		      (uint8_t)(MEM_RW | (cache & 3) << MEM_CACHE_SHIFT), min, max);
}
