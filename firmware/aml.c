// SPDX-License-Identifier: MIT
/*
 * AML encoder core: nodes, PkgLength, integers, strings, names and
 * blocks. Section numbers are ACPI 6.4's §20 "ACPI Machine Language (AML)
 * Specification". Statements and expressions are in aml_ops.c, resource
 * descriptors in aml_resource.c.
 *
 * A node keeps its body (the encoded contents) and, for a block, the
 * opcode and the "head" that sits between the PkgLength and the body (a
 * NameString, method flags, a predicate). The PkgLength can only be
 * chosen once the body is complete, so a block is encoded when it is
 * appended to its parent, never earlier.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/aml.h"
#include "firmware/aml_internal.h"

/* §20.3 opcodes used here. */
#define ZERO_OP			AML_ZERO_OP
#define ONE_OP			0x01
#define NAME_OP			0x08
#define BYTE_PREFIX		0x0a
#define WORD_PREFIX		0x0b
#define DWORD_PREFIX		0x0c
#define STRING_PREFIX		0x0d
#define QWORD_PREFIX		0x0e
#define SCOPE_OP		0x10
#define BUFFER_OP		0x11
#define PACKAGE_OP		0x12
#define VAR_PACKAGE_OP		0x13
#define METHOD_OP		0x14
#define DUAL_NAME_PREFIX	0x2e
#define MULTI_NAME_PREFIX	0x2f
#define LOCAL0_OP		0x60
#define ARG0_OP			0x68
#define IF_OP			0xa0
#define ELSE_OP			0xa1
#define WHILE_OP		0xa2
#define ONES_OP			0xff
#define DEVICE_OP		0x82	/* after ExtOpPrefix */

#define PKGLENGTH_MAX		0x0fffffff	/* 28 bits, §20.2.4 */

/* --- byte vectors ------------------------------------------------------ */

static int bytes_reserve(struct aml_bytes *b, size_t more)
{
	size_t cap;
	uint8_t *p;

	if (more <= b->cap - b->len)
		return 0;
	if (more > SIZE_MAX / 2 - b->len)
		return -ENOMEM;
	cap = b->cap ? b->cap : 64;
	while (cap - b->len < more)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

int aml_bytes_put(struct aml_bytes *b, const void *data, size_t len)
{
	int ret;

	if (!len)
		return 0;
	ret = bytes_reserve(b, len);
	if (ret)
		return ret;
	memcpy(b->p + b->len, data, len);
	b->len += len;
	return 0;
}

/* --- nodes ------------------------------------------------------------- */

static struct aml *node_new(enum aml_kind kind)
{
	struct aml *n = calloc(1, sizeof(*n));

	if (n)
		n->kind = kind;
	return n;
}

struct aml *aml_new(void)
{
	return node_new(AML_RAW);
}

void aml_free(struct aml *node)
{
	if (!node)
		return;
	free(node->body.p);
	free(node->head.p);
	free(node);
}

struct aml *aml_error_node(int err)
{
	struct aml *n = aml_new();

	if (n)
		aml_fail(n, err);
	return n;
}

int aml_error(const struct aml *node)
{
	return node ? node->err : -ENOMEM;
}

const uint8_t *aml_data(const struct aml *node)
{
	return node->body.p;
}

size_t aml_len(const struct aml *node)
{
	return node->body.len;
}

void aml_fail(struct aml *n, int err)
{
	if (!n->err)
		n->err = err;
}

void aml_put(struct aml *n, const void *data, size_t len)
{
	if (!n->err)
		aml_fail(n, aml_bytes_put(&n->body, data, len));
}

void aml_put8(struct aml *n, uint8_t v)
{
	aml_put(n, &v, 1);
}

void aml_put_le(struct aml *n, uint64_t v, unsigned int size)
{
	uint8_t le[8];

	for (unsigned int i = 0; i < size; i++)
		le[i] = (uint8_t)(v >> 8 * i);
	aml_put(n, le, size);
}

void aml_head_put(struct aml *n, const void *data, size_t len)
{
	if (!n->err)
		aml_fail(n, aml_bytes_put(&n->head, data, len));
}

struct aml *aml_block_new(enum aml_kind kind, uint8_t op0, uint8_t op1)
{
	struct aml *n = node_new(kind);

	if (!n)
		return NULL;
	n->op[0] = op0;
	n->op[1] = op1;
	n->op_len = op0 == AML_EXT_OP_PREFIX ? 2 : 1;
	return n;
}

/* --- PkgLength and integers ---------------------------------------------- */

/*
 * §20.2.4: bits 7-6 of the lead byte count the bytes that follow (0-3).
 * With none, bits 5-0 hold the length (< 64); otherwise bits 3-0 hold its
 * low nibble and each following byte the next 8 bits. The length counts
 * the PkgLength bytes themselves, so the encoding size depends on the
 * result: 62 bytes of contents fit one byte (63), 63 need two (65).
 */
static int pkglength_encode(uint64_t value, unsigned int nbytes, uint8_t out[4])
{
	if (nbytes == 1) {
		out[0] = (uint8_t)value;
		return 1;
	}
	out[0] = (uint8_t)(((nbytes - 1) << 6) | (value & 0x0f));
	for (unsigned int i = 1; i < nbytes; i++)
		out[i] = (uint8_t)(value >> (4 + 8 * (i - 1)));
	return (int)nbytes;
}

int aml_pkglength(size_t len, uint8_t out[4])
{
	if (len + 1 <= 0x3f)
		return pkglength_encode(len + 1, 1, out);
	if (len + 2 <= 0xfff)
		return pkglength_encode(len + 2, 2, out);
	if (len + 3 <= 0xfffff)
		return pkglength_encode(len + 3, 3, out);
	if (len <= PKGLENGTH_MAX - 4)
		return pkglength_encode(len + 4, 4, out);
	return -E2BIG;
}

/* A FieldList element's bit count uses the PkgLength format without
 * counting itself (§20.2.5.2 NamedField, ReservedField). */
int aml_field_length(unsigned int bits, uint8_t out[4])
{
	if (bits <= 0x3f)
		return pkglength_encode(bits, 1, out);
	if (bits <= 0xfff)
		return pkglength_encode(bits, 2, out);
	if (bits <= 0xfffff)
		return pkglength_encode(bits, 3, out);
	if (bits <= PKGLENGTH_MAX)
		return pkglength_encode(bits, 4, out);
	return -E2BIG;
}

/* §20.2.3 ComputationalData: the shortest form of value. */
static unsigned int int_encode(uint64_t v, uint8_t out[9])
{
	unsigned int size;

	if (v == 0 || v == 1) {
		out[0] = v ? ONE_OP : ZERO_OP;
		return 1;
	}
	if (v == UINT64_MAX) {
		out[0] = ONES_OP;
		return 1;
	}
	if (v <= UINT8_MAX) {
		out[0] = BYTE_PREFIX;
		size = 1;
	} else if (v <= UINT16_MAX) {
		out[0] = WORD_PREFIX;
		size = 2;
	} else if (v <= UINT32_MAX) {
		out[0] = DWORD_PREFIX;
		size = 4;
	} else {
		out[0] = QWORD_PREFIX;
		size = 8;
	}
	for (unsigned int i = 0; i < size; i++)
		out[1 + i] = (uint8_t)(v >> 8 * i);
	return 1 + size;
}

struct aml *aml_int(uint64_t value)
{
	struct aml *n = aml_new();
	uint8_t enc[9];

	if (n)
		aml_put(n, enc, int_encode(value, enc));
	return n;
}

struct aml *aml_string(const char *s)
{
	struct aml *n = aml_new();

	if (!n)
		return NULL;
	/* §20.2.3 String: AsciiCharList of 0x01-0x7F, then NullChar. */
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c > 0x7f)
			aml_fail(n, -EINVAL);
	aml_put8(n, STRING_PREFIX);
	aml_put(n, s, strlen(s) + 1);
	return n;
}

/* --- encoding a child into its parent ---------------------------------- */

static void emit_block(struct aml *dst, const struct aml *n)
{
	uint8_t pkglen[4], count[9], end_tag[2] = { AML_END_TAG, 0 };
	size_t tail = n->kind == AML_RESOURCES ? sizeof(end_tag) : 0;
	unsigned int count_len = 0;
	uint8_t op = n->op[0];
	size_t content;
	int plen;

	switch (n->kind) {
	case AML_PACKAGE:
		/* §20.2.5.4 DefPackage: NumElements is a ByteData; beyond
		 * that, DefVarPackage takes a TermArg. */
		if (n->nr_elems <= UINT8_MAX) {
			count[0] = (uint8_t)n->nr_elems;
			count_len = 1;
		} else {
			op = VAR_PACKAGE_OP;
			count_len = int_encode(n->nr_elems, count);
		}
		break;
	case AML_BUFFER:
	case AML_RESOURCES:
		/* DefBuffer: BufferSize is a TermArg, here a constant. */
		count_len = int_encode(n->body.len + tail, count);
		break;
	default:
		break;
	}
	content = count_len + n->head.len + n->body.len + tail;
	plen = aml_pkglength(content, pkglen);
	if (plen < 0) {
		aml_fail(dst, plen);
		return;
	}
	aml_put8(dst, op);
	if (n->op_len == 2)
		aml_put8(dst, n->op[1]);
	aml_put(dst, pkglen, (size_t)plen);
	aml_put(dst, count, count_len);
	aml_put(dst, n->head.p, n->head.len);
	aml_put(dst, n->body.p, n->body.len);
	aml_put(dst, end_tag, tail);
}

void aml_append(struct aml *parent, struct aml *child)
{
	/* A parent that could not be allocated stays NULL and is reported
	 * when it is appended in turn. */
	if (!parent) {
		aml_free(child);
		return;
	}
	if (!child) {
		aml_fail(parent, -ENOMEM);
		return;
	}
	if (child->err)
		aml_fail(parent, child->err);
	else if (child->kind == AML_RAW)
		aml_put(parent, child->body.p, child->body.len);
	else
		emit_block(parent, child);
	if (parent->kind == AML_PACKAGE)
		parent->nr_elems++;
	aml_free(child);
}

/* Take ownership of an operand and encode it at the end of n. */
void aml_operand(struct aml *n, struct aml *child)
{
	if (n)
		aml_append(n, child);
	else
		aml_free(child);
}

/* --- names --------------------------------------------------------------- */

static bool lead_char(char c)
{
	return (c >= 'A' && c <= 'Z') || c == '_';
}

static bool name_char(char c)
{
	return lead_char(c) || (c >= '0' && c <= '9');
}

/* §20.2.2 NameSeg from the first len (1-4) characters of s, '_'-padded. */
int aml_name_seg(const char *s, size_t len, uint8_t seg[4])
{
	if (len < 1 || len > 4 || !lead_char(s[0]))
		return -EINVAL;
	for (size_t i = 0; i < 4; i++) {
		if (i < len && !name_char(s[i]))
			return -EINVAL;
		seg[i] = i < len ? (uint8_t)s[i] : '_';
	}
	return 0;
}

/* §20.2.2 NameString: RootChar or PrefixPath, then NamePath. */
static int name_string(struct aml_bytes *b, const char *path)
{
	const char *p = path, *dot;
	uint8_t segs[255][4];
	unsigned int nr = 0;
	uint8_t prefix;
	int ret;

	if (*p == '\\') {
		ret = aml_bytes_put(b, p, 1);
		p++;
	} else {
		for (ret = 0; *p == '^' && !ret; p++)
			ret = aml_bytes_put(b, p, 1);
	}
	if (ret)
		return ret;
	while (*p) {
		if (nr == 255)
			return -EINVAL;
		dot = strchr(p, '.');
		if (!dot)
			dot = p + strlen(p);
		ret = aml_name_seg(p, (size_t)(dot - p), segs[nr++]);
		if (ret)
			return ret;
		p = *dot ? dot + 1 : dot;
		if (*dot && !*p)
			return -EINVAL;		/* trailing '.' */
	}
	switch (nr) {
	case 0:
		/* Only "\" alone may name nothing further: NullName. */
		if (p == path || path[0] != '\\')
			return -EINVAL;
		prefix = ZERO_OP;
		return aml_bytes_put(b, &prefix, 1);
	case 1:
		break;
	case 2:
		prefix = DUAL_NAME_PREFIX;
		ret = aml_bytes_put(b, &prefix, 1);
		break;
	default:
		prefix = MULTI_NAME_PREFIX;
		ret = aml_bytes_put(b, &prefix, 1);
		if (!ret)
			ret = aml_bytes_put(b, (uint8_t[]){ (uint8_t)nr }, 1);
		break;
	}
	return ret ? ret : aml_bytes_put(b, segs, 4 * (size_t)nr);
}

void aml_put_name(struct aml *n, const char *path)
{
	if (!n->err)
		aml_fail(n, name_string(&n->body, path));
}

static void head_name(struct aml *n, const char *path)
{
	if (!n->err)
		aml_fail(n, name_string(&n->head, path));
}

struct aml *aml_name(const char *path)
{
	struct aml *n = aml_new();

	if (n)
		aml_put_name(n, path);
	return n;
}

struct aml *aml_name_decl(const char *name, struct aml *value)
{
	struct aml *n = aml_new();

	if (n) {
		aml_put8(n, NAME_OP);
		aml_put_name(n, name);
	}
	aml_operand(n, value);
	return n;
}

static struct aml *single_op(uint8_t op, unsigned int n, unsigned int max)
{
	struct aml *node = aml_new();

	if (!node)
		return NULL;
	if (n > max)
		aml_fail(node, -EINVAL);
	aml_put8(node, (uint8_t)(op + n));
	return node;
}

struct aml *aml_arg(unsigned int n)
{
	return single_op(ARG0_OP, n, 6);
}

struct aml *aml_local(unsigned int n)
{
	return single_op(LOCAL0_OP, n, 7);
}

/* --- blocks -------------------------------------------------------------- */

struct aml *aml_named_block(uint8_t op0, uint8_t op1, const char *path)
{
	struct aml *n = aml_block_new(AML_BLOCK, op0, op1);

	if (n)
		head_name(n, path);
	return n;
}

struct aml *aml_scope(const char *path)
{
	return aml_named_block(SCOPE_OP, 0, path);
}

struct aml *aml_device(const char *path)
{
	return aml_named_block(AML_EXT_OP_PREFIX, DEVICE_OP, path);
}

struct aml *aml_method(const char *path, unsigned int nargs, bool serialized)
{
	struct aml *n = aml_named_block(METHOD_OP, 0, path);
	/* §20.2.5.2 MethodFlags: bits 0-2 ArgCount, bit 3 SerializeFlag,
	 * bits 4-7 SyncLevel (0). */
	uint8_t flags = (uint8_t)((nargs & 7) | (serialized ? 0x08 : 0));

	if (!n)
		return NULL;
	if (nargs > 7)
		aml_fail(n, -EINVAL);
	aml_head_put(n, &flags, 1);
	return n;
}

struct aml *aml_package(void)
{
	return aml_block_new(AML_PACKAGE, PACKAGE_OP, 0);
}

struct aml *aml_buffer(const uint8_t *data, size_t len)
{
	struct aml *n = aml_block_new(AML_BUFFER, BUFFER_OP, 0);

	if (n)
		aml_put(n, data, len);
	return n;
}

struct aml *aml_resource_template(void)
{
	return aml_block_new(AML_RESOURCES, BUFFER_OP, 0);
}

/* A block whose head is a TermArg (If, While): the predicate. */
static struct aml *predicate_block(uint8_t op, struct aml *predicate)
{
	struct aml *n = aml_block_new(AML_BLOCK, op, 0);

	if (!n) {
		aml_free(predicate);
		return NULL;
	}
	if (!predicate)
		aml_fail(n, -ENOMEM);
	else if (predicate->err || predicate->kind != AML_RAW)
		aml_fail(n, predicate->err ? predicate->err : -EINVAL);
	else
		aml_head_put(n, predicate->body.p, predicate->body.len);
	aml_free(predicate);
	return n;
}

struct aml *aml_if(struct aml *predicate)
{
	return predicate_block(IF_OP, predicate);
}

struct aml *aml_else(void)
{
	return aml_block_new(AML_BLOCK, ELSE_OP, 0);
}

struct aml *aml_while(struct aml *predicate)
{
	return predicate_block(WHILE_OP, predicate);
}

