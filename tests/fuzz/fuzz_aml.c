// SPDX-License-Identifier: MIT
/*
 * The AML encoder (firmware/aml*.c) driven like the DSDT builder drives
 * it, but with any names, strings, numbers and nesting: a stack machine
 * whose ops push terms, open blocks, build expressions from what is on
 * the stack (taking ownership, as the API does) and append children to
 * parents. Names, EISA IDs and UUIDs are fuzzed strings, so the name
 * and ID parsers see everything.
 *
 * Invariants: no memory error or leak whatever the order (an Else with
 * no If, operands that failed to allocate, 28-bit overflows); a node
 * without error only grows when a child without error is appended to
 * it; every PkgLength encoding decodes back to its length plus itself.
 */
#include <string.h>

#include "firmware/aml.h"
#include "tests/fuzz/fuzz.h"

#define STACK	32

struct machine {
	struct aml *st[STACK];
	unsigned int n;
};

static void push(struct machine *m, struct aml *node)
{
	if (m->n == STACK) {
		aml_free(node);
		return;
	}
	m->st[m->n++] = node;
}

/* NULL when empty: the API takes NULL as "allocation failed". */
static struct aml *pop(struct machine *m)
{
	return m->n ? m->st[--m->n] : NULL;
}

/* A NUL-terminated string of up to 40 input bytes. */
static const char *fz_str(struct fz *f, char *buf)
{
	size_t n = fz_bytes(f, buf, fz_u8(f) % 41);

	buf[n] = '\0';
	return buf;
}

static void check_pkglength(uint32_t len)
{
	uint8_t out[4];
	int n = aml_pkglength(len, out);
	uint32_t v;

	if (n < 0) {
		FZ_CHECK(len > (1u << 28) - 5, "pkglength %u refused", len);
		return;
	}
	FZ_CHECK(n >= 1 && n <= 4 && (out[0] >> 6) == (unsigned int)n - 1,
		 "pkglength %u: %d bytes, lead %#x", len, n, out[0]);
	if (n == 1) {
		v = out[0] & 0x3f;
	} else {
		v = out[0] & 0x0f;
		for (int i = 1; i < n; i++)
			v |= (uint32_t)out[i] << (4 + 8 * (i - 1));
	}
	FZ_CHECK(v == len + (uint32_t)n, "pkglength %u encodes %u in %d bytes", len, v, n);
}

enum {
	OP_INT, OP_STRING, OP_EISAID, OP_TOUUID, OP_BUFFER, OP_NAME, OP_ARG, OP_LOCAL,
	OP_SCOPE, OP_DEVICE, OP_METHOD, OP_PACKAGE, OP_RESTEMPLATE, OP_IF, OP_ELSE, OP_WHILE,
	OP_NAME_DECL, OP_REGION, OP_FIELD, OP_NAMED_FIELD, OP_RESERVED_FIELD, OP_CREATE_DWORD,
	OP_BINARY, OP_UNARY, OP_LOGIC, OP_CALL, OP_RESOURCE, OP_ADDR_SPACE, OP_APPEND,
	OP_DROP, OP_PKGLENGTH, NR_OPS,
};

static struct aml *binary(uint8_t which, struct aml *a, struct aml *b, struct aml *t)
{
	switch (which % 8) {
	case 0: aml_free(b); return aml_store(a, t);
	case 1: return aml_add(a, b, t);
	case 2: return aml_subtract(a, b, t);
	case 3: return aml_and(a, b, t);
	case 4: return aml_or(a, b, t);
	case 5: return aml_xor(a, b, t);
	case 6: return aml_shiftleft(a, b, t);
	default: return aml_shiftright(a, b, t);
	}
}

static struct aml *unary(uint8_t which, struct aml *a)
{
	switch (which % 9) {
	case 0: return aml_increment(a);
	case 1: return aml_decrement(a);
	case 2: return aml_lnot(a);
	case 3: return aml_derefof(a);
	case 4: return aml_sizeof(a);
	case 5: return aml_return(a);
	case 6: aml_free(a); return aml_break();
	case 7: aml_free(a); return aml_no_target();
	default: return aml_notify(a, aml_int(0x80));
	}
}

static struct aml *logic(uint8_t which, struct aml *a, struct aml *b)
{
	switch (which % 6) {
	case 0: return aml_land(a, b);
	case 1: return aml_lor(a, b);
	case 2: return aml_equal(a, b);
	case 3: return aml_lless(a, b);
	case 4: return aml_lgreater(a, b);
	default: return aml_index(a, b);
	}
}

static struct aml *resource(struct fz *f)
{
	uint8_t which = fz_u8(f);

	switch (which % 8) {
	case 0: {
		uint16_t min = fz_u16(f), max = fz_u16(f);
		uint8_t align = fz_u8(f);

		return aml_io(which & 0x80, min, max, align, fz_u8(f));
	}
	case 1:
		return aml_irq_no_flags(fz_u8(f));
	case 2: {
		uint32_t irqs[8];
		unsigned int n = fz_u8(f) % 9;

		for (unsigned int i = 0; i < n; i++)
			irqs[i] = fz_u32(f);
		return aml_interrupt(which & 0x10, which & 0x20, which & 0x40, n ? irqs : NULL, n);
	}
	case 3: {
		uint32_t base = fz_u32(f);

		return aml_memory32_fixed(base, fz_u32(f), which & 0x80);
	}
	case 4: {
		uint16_t min = fz_u16(f);

		return aml_word_bus_number(min, fz_u16(f));
	}
	case 5: {
		uint16_t min = fz_u16(f);

		return aml_word_io(min, fz_u16(f));
	}
	case 6: {
		uint32_t min = fz_u32(f);

		return aml_dword_memory((enum aml_mem_cache)((which >> 4) & 3), min, fz_u32(f));
	}
	default: {
		uint64_t min = fz_u64(f);

		return aml_qword_memory((enum aml_mem_cache)((which >> 4) & 3), min, fz_u64(f));
	}
	}
}

static struct aml *addr_space(struct fz *f)
{
	uint8_t a = fz_u8(f);
	struct aml_addr_space d = {
		.type = (enum aml_addr_type)(a % 4),
		.size = 1u << ((a >> 2) & 3),
		.consumer = a & 0x10,
		.sub_decode = a & 0x20,
		.min_not_fixed = a & 0x40,
		.max_not_fixed = a & 0x80,
		.type_flags = fz_u8(f),
		.granularity = fz_u64(f),
		.min = fz_u64(f),
		.max = fz_u64(f),
		.translation = fz_u64(f),
		.length = fz_u64(f),
	};

	return aml_addr_space(&d);
}

static void append_checked(struct aml *parent, struct aml *child)
{
	bool ok = parent && !aml_error(parent) && child && !aml_error(child);
	size_t before = parent ? aml_len(parent) : 0;

	aml_append(parent, child);
	if (ok && !aml_error(parent))
		FZ_CHECK(aml_len(parent) >= before, "appending shrank a node: %zu -> %zu", before,
			 aml_len(parent));
}

static void run_op(struct machine *m, struct fz *f)
{
	uint8_t op = fz_u8(f) % NR_OPS, a;
	char s1[41], s2[41];
	struct aml *x, *y, *z;

	switch (op) {
	case OP_INT:
		push(m, aml_int(fz_u8(f) & 1 ? fz_u64(f) : fz_u8(f)));
		break;
	case OP_STRING:
		push(m, aml_string(fz_str(f, s1)));
		break;
	case OP_EISAID:
		push(m, aml_eisaid(fz_str(f, s1)));
		break;
	case OP_TOUUID:
		push(m, aml_touuid(fz_str(f, s1)));
		break;
	case OP_BUFFER: {
		uint8_t buf[64];
		size_t n = fz_bytes(f, buf, fz_u8(f) % 65);

		push(m, aml_buffer(n ? buf : NULL, n));
		break;
	}
	case OP_NAME:
		push(m, aml_name(fz_str(f, s1)));
		break;
	case OP_ARG:
		push(m, aml_arg(fz_u8(f) % 9));
		break;
	case OP_LOCAL:
		push(m, aml_local(fz_u8(f) % 9));
		break;
	case OP_SCOPE:
		push(m, aml_scope(fz_str(f, s1)));
		break;
	case OP_DEVICE:
		push(m, aml_device(fz_str(f, s1)));
		break;
	case OP_METHOD:
		a = fz_u8(f);
		push(m, aml_method(fz_str(f, s1), a % 9, a & 0x80));
		break;
	case OP_PACKAGE:
		push(m, aml_package());
		break;
	case OP_RESTEMPLATE:
		push(m, aml_resource_template());
		break;
	case OP_IF:
		push(m, aml_if(pop(m)));
		break;
	case OP_ELSE:
		push(m, aml_else());
		break;
	case OP_WHILE:
		push(m, aml_while(pop(m)));
		break;
	case OP_NAME_DECL:
		fz_str(f, s1);
		push(m, aml_name_decl(s1, pop(m)));
		break;
	case OP_REGION: {
		uint64_t off, len;

		a = fz_u8(f);
		fz_str(f, s1);
		off = fz_u64(f);
		len = fz_u64(f);
		push(m, aml_operation_region(s1, (enum aml_region_space)(a % 4), off, len));
		break;
	}
	case OP_FIELD:
		a = fz_u8(f);
		push(m, aml_field(fz_str(f, s1), (enum aml_access)(a % 7), a & 0x80,
				  (enum aml_update)((a >> 3) % 4)));
		break;
	case OP_NAMED_FIELD:
		fz_str(f, s1);
		push(m, aml_named_field(s1, fz_u32(f)));
		break;
	case OP_RESERVED_FIELD:
		push(m, aml_reserved_field(fz_u32(f)));
		break;
	case OP_CREATE_DWORD:
		fz_str(f, s1);
		x = pop(m);
		y = pop(m);
		push(m, aml_create_dword_field(x, y, s1));
		break;
	case OP_BINARY:
		a = fz_u8(f);
		x = pop(m);
		y = pop(m);
		z = a & 0x80 ? pop(m) : aml_no_target();
		push(m, binary(a, x, y, z));
		break;
	case OP_UNARY:
		push(m, unary(fz_u8(f), pop(m)));
		break;
	case OP_LOGIC:
		a = fz_u8(f);
		x = pop(m);
		y = pop(m);
		push(m, logic(a, x, y));
		break;
	case OP_CALL: {
		struct aml *args[8] = { NULL };
		unsigned int n = fz_u8(f) % 9;

		fz_str(f, s2);
		for (unsigned int i = 0; i < n; i++)
			args[i] = pop(m);
		push(m, aml_call(s2, n, args[0], args[1], args[2], args[3], args[4], args[5],
				 args[6], args[7]));
		break;
	}
	case OP_RESOURCE:
		push(m, resource(f));
		break;
	case OP_ADDR_SPACE:
		push(m, addr_space(f));
		break;
	case OP_APPEND:
		x = pop(m);
		y = pop(m);
		if (!y) {
			aml_free(x);
			break;
		}
		append_checked(y, x);
		push(m, y);
		break;
	case OP_DROP:
		aml_free(pop(m));
		break;
	case OP_PKGLENGTH:
		check_pkglength(fz_u32(f));
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct machine m = { .n = 0 };
	struct aml *root = aml_new();
	volatile uint8_t sum = 0;
	struct fz f;

	FZ_CHECK(root, "out of memory");
	fz_init(&f, data, size);
	while (fz_more(&f))
		run_op(&m, &f);
	/* Fold the stack into the root, as a table builder would. */
	while (m.n)
		append_checked(root, pop(&m));
	/* Touch every encoded byte: ASan checks the length is real. */
	if (!aml_error(root))
		for (size_t i = 0; i < aml_len(root); i++)
			sum += aml_data(root)[i];
	(void)sum;
	aml_free(root);
	return 0;
}
