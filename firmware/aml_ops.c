// SPDX-License-Identifier: MIT
/*
 * AML encoder: operation regions, fields, statements, expressions, and
 * the EISAID/ToUUID helpers. Grammar references are ACPI 6.4 §20.2.5
 * "Term Objects Encoding"; see aml.c for how nodes are encoded.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "firmware/aml.h"
#include "firmware/aml_internal.h"

/* §20.3 opcodes used here. */
#define STORE_OP		0x70
#define ADD_OP			0x72
#define SUBTRACT_OP		0x74
#define INCREMENT_OP		0x75
#define DECREMENT_OP		0x76
#define SHIFT_LEFT_OP		0x79
#define SHIFT_RIGHT_OP		0x7a
#define AND_OP			0x7b
#define OR_OP			0x7d
#define XOR_OP			0x7f
#define DEREF_OF_OP		0x83
#define NOTIFY_OP		0x86
#define SIZE_OF_OP		0x87
#define INDEX_OP		0x88
#define CREATE_DWORD_FIELD_OP	0x8a
#define LAND_OP			0x90
#define LOR_OP			0x91
#define LNOT_OP			0x92
#define LEQUAL_OP		0x93
#define LGREATER_OP		0x94
#define LLESS_OP		0x95
#define RETURN_OP		0xa4
#define BREAK_OP		0xa5
/* after ExtOpPrefix: */
#define OP_REGION_OP		0x80
#define FIELD_OP		0x81

/* --- operation regions and fields (§20.2.5.2) ----------------------------- */

struct aml *aml_operation_region(const char *name, enum aml_region_space space,
				 uint64_t offset, uint64_t length)
{
	struct aml *n = aml_new();

	if (!n)
		return NULL;
	aml_put8(n, AML_EXT_OP_PREFIX);
	aml_put8(n, OP_REGION_OP);
	aml_put_name(n, name);
	aml_put8(n, (uint8_t)space);
	aml_operand(n, aml_int(offset));
	aml_operand(n, aml_int(length));
	return n;
}

struct aml *aml_field(const char *region, enum aml_access access, bool lock,
		      enum aml_update update)
{
	struct aml *n = aml_named_block(AML_EXT_OP_PREFIX, FIELD_OP, region);
	/* FieldFlags: bits 0-3 AccessType, bit 4 LockRule, 5-6 UpdateRule. */
	uint8_t flags = (uint8_t)((access & 0x0f) | (lock ? 0x10 : 0) |
				  ((update & 3) << 5));

	if (n)
		aml_head_put(n, &flags, 1);
	return n;
}

static struct aml *field_element(const char *name, unsigned int bits)
{
	struct aml *n = aml_new();
	uint8_t seg[4], len[4];
	int ret;

	if (!n)
		return NULL;
	if (name) {
		ret = aml_name_seg(name, strlen(name), seg);
		if (ret)
			aml_fail(n, ret);
		aml_put(n, seg, 4);
	} else {
		aml_put8(n, AML_ZERO_OP);	/* ReservedField := 0x00 PkgLength */
	}
	ret = aml_field_length(bits, len);
	if (ret < 0)
		aml_fail(n, ret);
	else
		aml_put(n, len, (size_t)ret);
	return n;
}

struct aml *aml_named_field(const char *name, unsigned int bits)
{
	return field_element(name, bits);
}

struct aml *aml_reserved_field(unsigned int bits)
{
	return field_element(NULL, bits);
}

struct aml *aml_create_dword_field(struct aml *buffer, struct aml *index,
				   const char *name)
{
	struct aml *n = aml_new();

	if (n)
		aml_put8(n, CREATE_DWORD_FIELD_OP);
	aml_operand(n, buffer);
	aml_operand(n, index);
	if (n)
		aml_put_name(n, name);
	return n;
}

/* --- statements and expressions ------------------------------------------ */

/* op followed by nops operands, all owned by the new node. */
static struct aml *op_node(uint8_t op, struct aml *a, struct aml *b,
			   struct aml *c, unsigned int nops)
{
	struct aml *ops[3] = { a, b, c }, *n = aml_new();

	if (n)
		aml_put8(n, op);
	for (unsigned int i = 0; i < nops; i++)
		aml_operand(n, ops[i]);
	return n;
}

struct aml *aml_no_target(void)
{
	struct aml *n = aml_new();

	if (n)
		aml_put8(n, AML_ZERO_OP);	/* §20.2.2 NullName */
	return n;
}

struct aml *aml_return(struct aml *value)
{
	return op_node(RETURN_OP, value, NULL, NULL, 1);
}

struct aml *aml_notify(struct aml *object, struct aml *value)
{
	return op_node(NOTIFY_OP, object, value, NULL, 2);
}

struct aml *aml_break(void)
{
	return op_node(BREAK_OP, NULL, NULL, NULL, 0);
}

struct aml *aml_store(struct aml *value, struct aml *target)
{
	return op_node(STORE_OP, value, target, NULL, 2);
}

struct aml *aml_add(struct aml *a, struct aml *b, struct aml *target)
{
	return op_node(ADD_OP, a, b, target, 3);
}

struct aml *aml_subtract(struct aml *a, struct aml *b, struct aml *target)
{
	return op_node(SUBTRACT_OP, a, b, target, 3);
}

struct aml *aml_and(struct aml *a, struct aml *b, struct aml *target)
{
	return op_node(AND_OP, a, b, target, 3);
}

struct aml *aml_or(struct aml *a, struct aml *b, struct aml *target)
{
	return op_node(OR_OP, a, b, target, 3);
}

struct aml *aml_xor(struct aml *a, struct aml *b, struct aml *target)
{
	return op_node(XOR_OP, a, b, target, 3);
}

struct aml *aml_shiftleft(struct aml *a, struct aml *count, struct aml *target)
{
	return op_node(SHIFT_LEFT_OP, a, count, target, 3);
}

struct aml *aml_shiftright(struct aml *a, struct aml *count, struct aml *target)
{
	return op_node(SHIFT_RIGHT_OP, a, count, target, 3);
}

struct aml *aml_increment(struct aml *target)
{
	return op_node(INCREMENT_OP, target, NULL, NULL, 1);
}

struct aml *aml_decrement(struct aml *target)
{
	return op_node(DECREMENT_OP, target, NULL, NULL, 1);
}

struct aml *aml_land(struct aml *a, struct aml *b)
{
	return op_node(LAND_OP, a, b, NULL, 2);
}

struct aml *aml_lor(struct aml *a, struct aml *b)
{
	return op_node(LOR_OP, a, b, NULL, 2);
}

struct aml *aml_lnot(struct aml *a)
{
	return op_node(LNOT_OP, a, NULL, NULL, 1);
}

struct aml *aml_equal(struct aml *a, struct aml *b)
{
	return op_node(LEQUAL_OP, a, b, NULL, 2);
}

struct aml *aml_lless(struct aml *a, struct aml *b)
{
	return op_node(LLESS_OP, a, b, NULL, 2);
}

struct aml *aml_lgreater(struct aml *a, struct aml *b)
{
	return op_node(LGREATER_OP, a, b, NULL, 2);
}

struct aml *aml_index(struct aml *object, struct aml *index)
{
	/* DefIndex := IndexOp BuffPkgStrObj IndexValue Target */
	return op_node(INDEX_OP, object, index, aml_no_target(), 3);
}

struct aml *aml_derefof(struct aml *ref)
{
	return op_node(DEREF_OF_OP, ref, NULL, NULL, 1);
}

struct aml *aml_sizeof(struct aml *object)
{
	return op_node(SIZE_OF_OP, object, NULL, NULL, 1);
}

struct aml *aml_call(const char *method, unsigned int nargs, ...)
{
	struct aml *n = aml_name(method);
	va_list ap;

	/* §20.2.5.4 MethodInvocation := NameString TermArgList; the callee's
	 * declaration tells the interpreter how many TermArgs follow. */
	if (n && nargs > 7)
		aml_fail(n, -EINVAL);
	va_start(ap, nargs);
	for (unsigned int i = 0; i < nargs; i++)
		aml_operand(n, va_arg(ap, struct aml *));
	va_end(ap);
	return n;
}

/* --- EISAID and UUID ------------------------------------------------------ */

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * §6.1.5 _HID: "PNP0A08" → three 5-bit letters (A = 1) in bits 14-0 of
 * the first two bytes, then the four hex digits, stored as the byte
 * string 41 D0 0A 08, i.e. the DWord 0x080AD041.
 */
struct aml *aml_eisaid(const char *id)
{
	uint8_t b[4] = { 0 };
	uint32_t letters = 0;
	int d;

	if (strlen(id) != 7)
		goto bad;
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z')
			goto bad;
		letters = (letters << 5) | (uint32_t)(id[i] - 'A' + 1);
	}
	b[0] = (uint8_t)(letters >> 8);
	b[1] = (uint8_t)letters;
	for (int i = 0; i < 4; i++) {
		d = hex_digit(id[3 + i]);
		if (d < 0 || (id[3 + i] >= 'a' && id[3 + i] <= 'f'))
			goto bad;
		b[2 + i / 2] |= (uint8_t)(d << (i % 2 ? 0 : 4));
	}
	return aml_int((uint32_t)b[0] | (uint32_t)b[1] << 8 |
		       (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
bad:
	return aml_error_node(-EINVAL);
}

/* §19.6.142 ToUUID: "aabbccdd-eeff-gghh-iijj-kkllmmnnoopp" is stored as
 * dd cc bb aa ff ee hh gg ii jj kk ll mm nn oo pp. */
struct aml *aml_touuid(const char *uuid)
{
	static const uint8_t order[16] = {
		3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15
	};
	uint8_t in[16], out[16];
	unsigned int nr = 0;
	int hi, lo;

	for (size_t i = 0; uuid[i]; ) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (uuid[i++] != '-')
				goto bad;
			continue;
		}
		if (nr == 16)
			goto bad;
		hi = hex_digit(uuid[i]);
		lo = hi < 0 ? -1 : hex_digit(uuid[i + 1]);
		if (lo < 0)
			goto bad;
		in[nr++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	if (nr != 16 || strlen(uuid) != 36)
		goto bad;
	for (int i = 0; i < 16; i++)
		out[i] = in[order[i]];
	return aml_buffer(out, sizeof(out));
bad:
	return aml_error_node(-EINVAL);
}
