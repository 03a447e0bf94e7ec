// SPDX-License-Identifier: MIT
/*
 * AML encoder: every construct against hand-checked bytes (ACPI 6.4 §20
 * and §6.4; the resource, UUID and field encodings were also confirmed
 * against what iasl 20200925 emits for the same ASL), PkgLength at every
 * size boundary, and error propagation.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "firmware/aml.h"

/* Encode node into a fresh root and compare with the expected bytes. */
static void check_bytes(struct aml *node, const uint8_t *want, size_t len)
{
	struct aml *root = aml_new();

	assert_non_null(root);
	aml_append(root, node);
	assert_int_equal(aml_error(root), 0);
	if (aml_len(root) != len || memcmp(aml_data(root), want, len)) {
		for (size_t i = 0; i < aml_len(root); i++)
			fprintf(stderr, "%02x%s", aml_data(root)[i],
				i + 1 < aml_len(root) ? " " : "\n");
	}
	assert_int_equal(aml_len(root), len);
	assert_memory_equal(aml_data(root), want, len);
	aml_free(root);
}

#define CHECK(node, ...) do {						\
		static const uint8_t want_[] = { __VA_ARGS__ };		\
		check_bytes((node), want_, sizeof(want_));		\
	} while (0)

/* The error a node poisons its parent with. */
static int error_of(struct aml *node)
{
	struct aml *root = aml_new();
	int err;

	assert_non_null(root);
	aml_append(root, node);
	err = aml_error(root);
	aml_free(root);
	return err;
}

static void test_integers(void **state)
{
	CHECK(aml_int(0), 0x00);
	CHECK(aml_int(1), 0x01);
	CHECK(aml_int(2), 0x0a, 0x02);
	CHECK(aml_int(0xff), 0x0a, 0xff);
	CHECK(aml_int(0x100), 0x0b, 0x00, 0x01);
	CHECK(aml_int(0xffff), 0x0b, 0xff, 0xff);
	CHECK(aml_int(0x10000), 0x0c, 0x00, 0x00, 0x01, 0x00);
	CHECK(aml_int(0xffffffff), 0x0c, 0xff, 0xff, 0xff, 0xff);
	CHECK(aml_int(0x100000000ull), 0x0e, 0, 0, 0, 0, 1, 0, 0, 0);
	CHECK(aml_int(0x123456789abcdef0ull),
	      0x0e, 0xf0, 0xde, 0xbc, 0x9a, 0x78, 0x56, 0x34, 0x12);
	CHECK(aml_int(UINT64_MAX), 0xff);	/* Ones */
}

static void test_strings(void **state)
{
	CHECK(aml_string("ab"), 0x0d, 'a', 'b', 0x00);
	CHECK(aml_string(""), 0x0d, 0x00);
	CHECK(aml_string("ACPI0007"), 0x0d, 'A', 'C', 'P', 'I', '0', '0', '0', '7', 0);
	assert_int_equal(error_of(aml_string("\x80")), -EINVAL);
}

static void test_names(void **state)
{
	CHECK(aml_name("_SB"), '_', 'S', 'B', '_');
	CHECK(aml_name("_SB_"), '_', 'S', 'B', '_');
	CHECK(aml_name("A"), 'A', '_', '_', '_');
	CHECK(aml_name("\\"), 0x5c, 0x00);
	CHECK(aml_name("\\_S5"), 0x5c, '_', 'S', '5', '_');
	/* Two segments: DualNamePrefix; three or more: MultiNamePrefix. */
	CHECK(aml_name("\\_SB.PCI0"),
	      0x5c, 0x2e, '_', 'S', 'B', '_', 'P', 'C', 'I', '0');
	CHECK(aml_name("_SB.PCI0"), 0x2e, '_', 'S', 'B', '_', 'P', 'C', 'I', '0');
	CHECK(aml_name("\\_SB.PCI0.ISA"),
	      0x5c, 0x2f, 0x03, '_', 'S', 'B', '_', 'P', 'C', 'I', '0',
	      'I', 'S', 'A', '_');
	CHECK(aml_name("^^FOO"), 0x5e, 0x5e, 'F', 'O', 'O', '_');
	CHECK(aml_name("^PCI0.S00"), 0x5e, 0x2e, 'P', 'C', 'I', '0', 'S', '0', '0', '_');

	assert_int_equal(error_of(aml_name("")), -EINVAL);
	assert_int_equal(error_of(aml_name("pci0")), -EINVAL);	/* lower case */
	assert_int_equal(error_of(aml_name("1ABC")), -EINVAL);	/* lead digit */
	assert_int_equal(error_of(aml_name("ABCDE")), -EINVAL);	/* too long */
	assert_int_equal(error_of(aml_name("A..B")), -EINVAL);
	assert_int_equal(error_of(aml_name("A.")), -EINVAL);
	assert_int_equal(error_of(aml_name(".A")), -EINVAL);
	assert_int_equal(error_of(aml_name("^")), -EINVAL);
	assert_int_equal(error_of(aml_name("\\^A")), -EINVAL);
	assert_int_equal(error_of(aml_name("A-B")), -EINVAL);
}

static void test_name_decl_and_args(void **state)
{
	CHECK(aml_name_decl("_ADR", aml_int(0x001f0000)),
	      0x08, '_', 'A', 'D', 'R', 0x0c, 0x00, 0x00, 0x1f, 0x00);
	CHECK(aml_name_decl("_UID", aml_int(0)), 0x08, '_', 'U', 'I', 'D', 0x00);
	CHECK(aml_arg(0), 0x68);
	CHECK(aml_arg(6), 0x6e);
	CHECK(aml_local(0), 0x60);
	CHECK(aml_local(7), 0x67);
	assert_int_equal(error_of(aml_arg(7)), -EINVAL);
	assert_int_equal(error_of(aml_local(8)), -EINVAL);
}

static void test_eisaid_uuid(void **state)
{
	/* §6.1.5: "PNP0A03" is the DWord 0x030AD041. */
	CHECK(aml_eisaid("PNP0A03"), 0x0c, 0x41, 0xd0, 0x0a, 0x03);
	CHECK(aml_eisaid("PNP0A08"), 0x0c, 0x41, 0xd0, 0x0a, 0x08);
	CHECK(aml_eisaid("PNP0501"), 0x0c, 0x41, 0xd0, 0x05, 0x01);
	CHECK(aml_eisaid("PNP0B00"), 0x0c, 0x41, 0xd0, 0x0b, 0x00);
	CHECK(aml_eisaid("PNP0C01"), 0x0c, 0x41, 0xd0, 0x0c, 0x01);
	assert_int_equal(error_of(aml_eisaid("PNP0A0")), -EINVAL);
	assert_int_equal(error_of(aml_eisaid("pnp0A03")), -EINVAL);
	assert_int_equal(error_of(aml_eisaid("PNP0A0G")), -EINVAL);

	/* The PCI host bridge _OSC UUID, as iasl encodes ToUUID. */
	CHECK(aml_touuid("33DB4D5B-1FF7-401C-9657-7441C03DD766"),
	      0x11, 0x13, 0x0a, 0x10,
	      0x5b, 0x4d, 0xdb, 0x33, 0xf7, 0x1f, 0x1c, 0x40,
	      0x96, 0x57, 0x74, 0x41, 0xc0, 0x3d, 0xd7, 0x66);
	assert_int_equal(error_of(aml_touuid("33DB4D5B-1FF7-401C-9657-7441C03DD76")), -EINVAL);
	assert_int_equal(error_of(aml_touuid("33DB4D5B-1FF7-401C-9657-7441C03DD7666")), -EINVAL);
	assert_int_equal(error_of(aml_touuid("33DB4D5B+1FF7-401C-9657-7441C03DD766")), -EINVAL);
	assert_int_equal(error_of(aml_touuid("33DB4D5B-1FF7-401C-9657-7441C03DD7X6")), -EINVAL);
}

static void test_blocks(void **state)
{
	struct aml *dev, *m, *pkg, *i;

	CHECK(aml_scope("\\_SB"), 0x10, 0x06, 0x5c, '_', 'S', 'B', '_');

	dev = aml_device("PCI0");
	aml_append(dev, aml_name_decl("_UID", aml_int(0)));
	CHECK(dev, 0x5b, 0x82, 0x0b, 'P', 'C', 'I', '0',
	      0x08, '_', 'U', 'I', 'D', 0x00);

	m = aml_method("_STA", 0, false);
	aml_append(m, aml_return(aml_int(0x0f)));
	CHECK(m, 0x14, 0x09, '_', 'S', 'T', 'A', 0x00, 0xa4, 0x0a, 0x0f);

	/* MethodFlags: 4 args | Serialized (bit 3). */
	CHECK(aml_method("_OSC", 4, true), 0x14, 0x06, '_', 'O', 'S', 'C', 0x0c);
	assert_int_equal(error_of(aml_method("FOO", 8, false)), -EINVAL);

	/* If (LEqual (Arg0, One)) { Return (One) } Else { Return (Zero) } */
	i = aml_if(aml_equal(aml_arg(0), aml_int(1)));
	aml_append(i, aml_return(aml_int(1)));
	CHECK(i, 0xa0, 0x06, 0x93, 0x68, 0x01, 0xa4, 0x01);
	i = aml_else();
	aml_append(i, aml_return(aml_int(0)));
	CHECK(i, 0xa1, 0x03, 0xa4, 0x00);

	/* While (LLess (Local0, 0x80)) { Increment (Local0) Break } */
	i = aml_while(aml_lless(aml_local(0), aml_int(0x80)));
	aml_append(i, aml_increment(aml_local(0)));
	aml_append(i, aml_break());
	CHECK(i, 0xa2, 0x08, 0x95, 0x60, 0x0a, 0x80, 0x75, 0x60, 0xa5);

	pkg = aml_package();
	aml_append(pkg, aml_int(1));
	aml_append(pkg, aml_int(2));
	CHECK(pkg, 0x12, 0x05, 0x02, 0x01, 0x0a, 0x02);
	CHECK(aml_package(), 0x12, 0x02, 0x00);

	CHECK(aml_buffer((const uint8_t[]){ 1, 2, 3 }, 3),
	      0x11, 0x06, 0x0a, 0x03, 0x01, 0x02, 0x03);
	CHECK(aml_buffer(NULL, 0), 0x11, 0x02, 0x00);
}

/* Packages of more than 255 elements become VarPackages with a TermArg
 * element count (§20.2.5.4 DefVarPackage). */
static void test_var_package(void **state)
{
	struct aml *pkg = aml_package(), *root = aml_new();
	const uint8_t *d;

	for (int i = 0; i < 256; i++)
		aml_append(pkg, aml_int(0));
	aml_append(root, pkg);
	assert_int_equal(aml_error(root), 0);
	d = aml_data(root);
	/* 0x13, PkgLength (2 bytes for 3 + 256 + 2), 0x0b 0x00 0x01. */
	assert_int_equal(aml_len(root), 1 + 2 + 3 + 256);
	assert_int_equal(d[0], 0x13);
	assert_int_equal(d[1], 0x40 | ((2 + 3 + 256) & 0xf));
	assert_int_equal(d[2], (2 + 3 + 256) >> 4);
	assert_int_equal(d[3], 0x0b);
	assert_int_equal(d[4], 0x00);
	assert_int_equal(d[5], 0x01);
	aml_free(root);
}

static void check_pkglength(size_t len, const uint8_t *want, int n)
{
	uint8_t out[4];

	assert_int_equal(aml_pkglength(len, out), n);
	assert_memory_equal(out, want, (size_t)n);
}

#define PKGLEN(len, ...) do {						\
		static const uint8_t w_[] = { __VA_ARGS__ };		\
		check_pkglength((len), w_, (int)sizeof(w_));		\
	} while (0)

/* §20.2.4: the encoded value includes the PkgLength bytes themselves. */
static void test_pkglength_boundaries(void **state)
{
	uint8_t out[4];

	PKGLEN(0, 0x01);
	PKGLEN(62, 0x3f);			/* 63: the last 1-byte value */
	PKGLEN(63, 0x41, 0x04);			/* 65 = 0x041 */
	PKGLEN(64, 0x42, 0x04);
	PKGLEN(4093, 0x4f, 0xff);		/* 4095: the last 2-byte value */
	PKGLEN(4094, 0x81, 0x00, 0x01);		/* 4097 = 0x1001 */
	PKGLEN(4095, 0x82, 0x00, 0x01);
	PKGLEN(4096, 0x83, 0x00, 0x01);
	PKGLEN((1 << 20) - 4, 0x8f, 0xff, 0xff);	/* 0xFFFFF */
	PKGLEN((1 << 20) - 3, 0xc1, 0x00, 0x00, 0x01);	/* 0x100001 */
	PKGLEN((1 << 20), 0xc4, 0x00, 0x00, 0x01);
	PKGLEN((1 << 28) - 5, 0xcf, 0xff, 0xff, 0xff);
	assert_int_equal(aml_pkglength((1 << 28) - 4, out), -E2BIG);
}

/* Decode a PkgLength the way an interpreter does. */
static size_t decode_pkglength(const uint8_t *p, unsigned int *nbytes)
{
	unsigned int follow = p[0] >> 6;
	size_t v;

	*nbytes = 1 + follow;
	if (!follow)
		return p[0] & 0x3f;
	v = p[0] & 0x0f;
	for (unsigned int i = 0; i < follow; i++)
		v |= (size_t)p[1 + i] << (4 + 8 * i);
	return v;
}

/* Real Buffers around each boundary: the decoded PkgLength must cover
 * exactly the rest of the encoding, whatever size it picked. */
static void test_pkglength_in_buffers(void **state)
{
	static const size_t sizes[] = {
		0, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 4086, 4087, 4088,
		4089, 4090, 4091, 4092, 4093, 4094, 4095, 4096,
		(1 << 20) - 8, (1 << 20) - 7, (1 << 20) - 6, (1 << 20) - 5,
		(1 << 20) - 4, (1 << 20) - 3, (1 << 20),
	};
	uint8_t *data = calloc(1, 1 << 20);

	assert_non_null(data);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct aml *root = aml_new();
		unsigned int nbytes, prev = 0;
		size_t len;

		aml_append(root, aml_buffer(data, sizes[i]));
		assert_int_equal(aml_error(root), 0);
		assert_int_equal(aml_data(root)[0], 0x11);
		len = decode_pkglength(aml_data(root) + 1, &nbytes);
		assert_int_equal(len, aml_len(root) - 1);
		/* minimal: one byte fewer could not have held it */
		if (nbytes > 1) {
			prev = nbytes == 2 ? 0x3f : nbytes == 3 ? 0xfff : 0xfffff;
			assert_true(len - 1 > prev);
		}
		aml_free(root);
	}
	free(data);
}

static void test_expressions(void **state)
{
	CHECK(aml_store(aml_arg(0), aml_local(0)), 0x70, 0x68, 0x60);
	CHECK(aml_and(aml_local(0), aml_int(0x1f), aml_local(0)),
	      0x7b, 0x60, 0x0a, 0x1f, 0x60);
	CHECK(aml_or(aml_name("CDW1"), aml_int(8), aml_name("CDW1")),
	      0x7d, 'C', 'D', 'W', '1', 0x0a, 0x08, 'C', 'D', 'W', '1');
	CHECK(aml_shiftleft(aml_arg(1), aml_int(16), aml_no_target()),
	      0x79, 0x69, 0x0a, 0x10, 0x00);
	CHECK(aml_shiftright(aml_local(1), aml_int(2), aml_local(2)),
	      0x7a, 0x61, 0x0a, 0x02, 0x62);
	CHECK(aml_add(aml_local(0), aml_local(1), aml_no_target()),
	      0x72, 0x60, 0x61, 0x00);
	CHECK(aml_subtract(aml_local(0), aml_int(1), aml_local(0)),
	      0x74, 0x60, 0x01, 0x60);
	CHECK(aml_xor(aml_local(0), aml_int(0), aml_local(0)),
	      0x7f, 0x60, 0x00, 0x60);
	CHECK(aml_decrement(aml_local(3)), 0x76, 0x63);
	CHECK(aml_land(aml_arg(0), aml_arg(1)), 0x90, 0x68, 0x69);
	CHECK(aml_lor(aml_arg(0), aml_arg(1)), 0x91, 0x68, 0x69);
	CHECK(aml_lnot(aml_equal(aml_arg(1), aml_int(1))), 0x92, 0x93, 0x69, 0x01);
	CHECK(aml_lgreater(aml_arg(0), aml_int(2)), 0x94, 0x68, 0x0a, 0x02);
	CHECK(aml_derefof(aml_index(aml_arg(0), aml_int(2))),
	      0x83, 0x88, 0x68, 0x0a, 0x02, 0x00);
	CHECK(aml_sizeof(aml_arg(3)), 0x87, 0x6b);
	CHECK(aml_notify(aml_name("\\_SB.PWRB"), aml_int(0x80)),
	      0x86, 0x5c, 0x2e, '_', 'S', 'B', '_', 'P', 'W', 'R', 'B', 0x0a, 0x80);
	CHECK(aml_create_dword_field(aml_arg(3), aml_int(0), "CDW1"),
	      0x8a, 0x6b, 0x00, 'C', 'D', 'W', '1');
	CHECK(aml_call("PCEJ", 2, aml_arg(0), aml_int(5)),
	      'P', 'C', 'E', 'J', 0x68, 0x0a, 0x05);
	CHECK(aml_call("\\_SB.PCI0.PCNT", 0),
	      0x5c, 0x2f, 0x03, '_', 'S', 'B', '_', 'P', 'C', 'I', '0',
	      'P', 'C', 'N', 'T');
}

static void test_regions_fields(void **state)
{
	struct aml *f;

	CHECK(aml_operation_region("PIRQ", AML_PCI_CONFIG, 0x60, 0x0c),
	      0x5b, 0x80, 'P', 'I', 'R', 'Q', 0x02, 0x0a, 0x60, 0x0a, 0x0c);
	CHECK(aml_operation_region("DBG", AML_SYSTEM_IO, 0x402, 1),
	      0x5b, 0x80, 'D', 'B', 'G', '_', 0x01, 0x0b, 0x02, 0x04, 0x01);

	/* Field (PCST, DWordAcc, NoLock, WriteAsZeros)
	 *   { PCIU, 32, Offset (8), PCID, 256 }: iasl emits exactly this. */
	f = aml_field("PCST", AML_DWORD_ACC, false, AML_WRITE_AS_ZEROS);
	aml_append(f, aml_named_field("PCIU", 32));
	aml_append(f, aml_reserved_field(32));
	aml_append(f, aml_named_field("PCID", 256));
	CHECK(f, 0x5b, 0x81, 0x13, 'P', 'C', 'S', 'T', 0x43,
	      'P', 'C', 'I', 'U', 0x20, 0x00, 0x20, 'P', 'C', 'I', 'D', 0x40, 0x10);

	f = aml_field("DBG", AML_BYTE_ACC, true, AML_PRESERVE);
	aml_append(f, aml_named_field("DBGB", 8));
	CHECK(f, 0x5b, 0x81, 0x0b, 'D', 'B', 'G', '_', 0x11, 'D', 'B', 'G', 'B', 0x08);
	assert_int_equal(error_of(aml_named_field("A.B", 8)), -EINVAL);
}

static void test_resources(void **state)
{
	static const uint32_t gsi16 = 16;
	struct aml *rt;

	CHECK(aml_word_bus_number(0, 0xff),
	      0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00,
	      0x00, 0x00, 0x00, 0x00, 0xff, 0x00, 0x00, 0x00, 0x00, 0x01);
	CHECK(aml_word_io(0, 0x0cf7),
	      0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03,
	      0x00, 0x00, 0x00, 0x00, 0xf7, 0x0c, 0x00, 0x00, 0xf8, 0x0c);
	CHECK(aml_dword_memory(AML_CACHEABLE, 0xa0000, 0xbffff),
	      0x87, 0x17, 0x00, 0x00, 0x0c, 0x03,
	      0, 0, 0, 0, 0x00, 0x00, 0x0a, 0x00, 0xff, 0xff, 0x0b, 0x00,
	      0, 0, 0, 0, 0x00, 0x00, 0x02, 0x00);
	CHECK(aml_dword_memory(AML_NON_CACHEABLE, 0xc0000000, 0xfebfffff),
	      0x87, 0x17, 0x00, 0x00, 0x0c, 0x01,
	      0, 0, 0, 0, 0x00, 0x00, 0x00, 0xc0, 0xff, 0xff, 0xbf, 0xfe,
	      0, 0, 0, 0, 0x00, 0x00, 0xc0, 0x3e);
	CHECK(aml_qword_memory(AML_CACHEABLE, 0x800000000ull, 0xfffffffffull),
	      0x8a, 0x2b, 0x00, 0x00, 0x0c, 0x03,
	      0, 0, 0, 0, 0, 0, 0, 0,
	      0, 0, 0, 0, 0x08, 0, 0, 0,
	      0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0, 0,
	      0, 0, 0, 0, 0, 0, 0, 0,
	      0, 0, 0, 0, 0x08, 0, 0, 0);
	CHECK(aml_memory32_fixed(0xfed00000, 0x400, true),
	      0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0xd0, 0xfe, 0x00, 0x04, 0x00, 0x00);
	CHECK(aml_interrupt(false, false, true, &gsi16, 1),
	      0x89, 0x06, 0x00, 0x09, 0x01, 0x10, 0x00, 0x00, 0x00);
	CHECK(aml_interrupt(true, true, false, (const uint32_t[]){ 5, 10 }, 2),
	      0x89, 0x0a, 0x00, 0x07, 0x02, 5, 0, 0, 0, 10, 0, 0, 0);
	CHECK(aml_irq_no_flags(8), 0x22, 0x00, 0x01);
	CHECK(aml_irq_no_flags(4), 0x22, 0x10, 0x00);
	CHECK(aml_io(true, 0x3f8, 0x3f8, 0, 8),
	      0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x00, 0x08);
	assert_int_equal(error_of(aml_irq_no_flags(16)), -EINVAL);
	assert_int_equal(error_of(aml_interrupt(true, false, false, NULL, 0)), -EINVAL);
	assert_int_equal(error_of(aml_word_io(0x100, 0xff)), -EINVAL);
	assert_int_equal(error_of(aml_addr_space(&(struct aml_addr_space){
		.type = AML_ADDR_MEMORY, .size = 4, .max = 0x100000000ull })), -EINVAL);
	assert_int_equal(error_of(aml_addr_space(&(struct aml_addr_space){
		.type = AML_ADDR_MEMORY, .size = 3 })), -EINVAL);

	/* A template ends with EndTag, checksum 0 ("treated as if the
	 * checksum operation succeeded", §6.4.2.9). */
	rt = aml_resource_template();
	aml_append(rt, aml_io(true, 0x3f8, 0x3f8, 0, 8));
	aml_append(rt, aml_irq_no_flags(4));
	CHECK(rt, 0x11, 0x10, 0x0a, 0x0d,
	      0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x00, 0x08,
	      0x22, 0x10, 0x00, 0x79, 0x00);
	CHECK(aml_resource_template(), 0x11, 0x05, 0x0a, 0x02, 0x79, 0x00);
}

/* One bad node anywhere poisons everything it ends up in, and the first
 * error wins. */
static void test_errors(void **state)
{
	struct aml *sb = aml_scope("\\_SB"), *dev = aml_device("PCI0"), *root;

	aml_append(dev, aml_name_decl("_HID", aml_eisaid("PNP0A08")));
	aml_append(dev, aml_name_decl("bad", aml_int(0)));
	aml_append(dev, NULL);
	aml_append(sb, dev);
	root = aml_new();
	aml_append(root, sb);
	assert_int_equal(aml_error(root), -EINVAL);
	aml_free(root);

	root = aml_new();
	aml_append(root, NULL);
	assert_int_equal(aml_error(root), -ENOMEM);
	aml_free(root);

	/* A NULL operand (allocation failure) poisons the expression. */
	assert_int_equal(error_of(aml_store(NULL, aml_local(0))), -ENOMEM);
	assert_int_equal(error_of(aml_and(aml_local(0), aml_int(1), NULL)), -ENOMEM);
	assert_int_equal(error_of(aml_if(NULL)), -ENOMEM);
	assert_int_equal(error_of(aml_if(aml_name("x"))), -EINVAL);
	assert_int_equal(error_of(aml_call("FOO", 8, aml_int(0), aml_int(0),
					   aml_int(0), aml_int(0), aml_int(0),
					   aml_int(0), aml_int(0), aml_int(0))),
			 -EINVAL);
	assert_int_equal(aml_error(NULL), -ENOMEM);
	aml_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_name_decl_and_args),
		cmocka_unit_test(test_eisaid_uuid),
		cmocka_unit_test(test_blocks),
		cmocka_unit_test(test_var_package),
		cmocka_unit_test(test_pkglength_boundaries),
		cmocka_unit_test(test_pkglength_in_buffers),
		cmocka_unit_test(test_expressions),
		cmocka_unit_test(test_regions_fields),
		cmocka_unit_test(test_resources),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
