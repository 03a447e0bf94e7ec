/* SPDX-License-Identifier: MIT */
/*
 * The AML encoder's node layout and helpers, shared by aml.c, aml_ops.c
 * and aml_resource.c only; everyone else uses firmware/aml.h.
 */
#ifndef MINIVMM_AML_INTERNAL_H
#define MINIVMM_AML_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "firmware/aml.h"

#define AML_EXT_OP_PREFIX	0x5b
#define AML_ZERO_OP		0x00
#define AML_END_TAG		0x79	/* small item 0x0F, length 1 (§6.4.2.9) */

struct aml_bytes {
	uint8_t *p;
	size_t len, cap;
};

enum aml_kind {
	AML_RAW,	/* encoded term(s), appended verbatim */
	AML_BLOCK,	/* op PkgLength head body */
	AML_PACKAGE,	/* op PkgLength NumElements body */
	AML_BUFFER,	/* op PkgLength BufferSize body */
	AML_RESOURCES,	/* a Buffer that ends with an EndTag */
};

struct aml {
	enum aml_kind kind;
	int err;		/* sticky: the first failure */
	uint8_t op[2];
	unsigned int op_len;
	struct aml_bytes head;	/* NameString, flags, predicate */
	struct aml_bytes body;
	unsigned int nr_elems;	/* Package: nodes appended */
};

int aml_bytes_put(struct aml_bytes *b, const void *data, size_t len);

/* Record err on n unless it already failed (err 0 is a no-op). */
void aml_fail(struct aml *n, int err);
/* Append raw bytes / a byte / a little-endian integer to n's body. */
void aml_put(struct aml *n, const void *data, size_t len);
void aml_put8(struct aml *n, uint8_t v);
void aml_put_le(struct aml *n, uint64_t v, unsigned int size);
void aml_put_name(struct aml *n, const char *path);
void aml_head_put(struct aml *n, const void *data, size_t len);
/* Encode child into n and free it; n NULL (allocation failed): just free. */
void aml_operand(struct aml *n, struct aml *child);

struct aml *aml_block_new(enum aml_kind kind, uint8_t op0, uint8_t op1);
struct aml *aml_named_block(uint8_t op0, uint8_t op1, const char *path);
/* §20.2.2 NameSeg from s[0..len), len 1-4, '_'-padded: 0 or -EINVAL. */
int aml_name_seg(const char *s, size_t len, uint8_t seg[4]);
/* The PkgLength format for a plain value (FieldList bit counts), which
 * unlike a package's length does not count its own bytes. */
int aml_field_length(unsigned int bits, uint8_t out[4]);

#endif
