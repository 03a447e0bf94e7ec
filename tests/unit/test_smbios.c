// SPDX-License-Identifier: MIT
/*
 * Unit tests for the SMBIOS tables and entry point: every table is parsed
 * back the way a consumer (OVMF's SmbiosPlatformDxe, dmidecode) walks it,
 * checking each structure's formatted length, its string set and double-NUL
 * end, and that type 127 comes last.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/bus.h"
#include "firmware/fw_cfg.h"
#include "firmware/smbios.h"
#include "lib/log.h"
#include "lib/memory.h"

#define MAX_STRUCTS	1100

struct smb {
	const uint8_t *p;	/* formatted area */
	const char *str[16];	/* its strings, 1-based: str[1] ... */
	unsigned int nr_str;
};

struct parsed {
	struct smb s[MAX_STRUCTS];
	unsigned int n;
};

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)le16(p) | (uint32_t)le16(p + 2) << 16;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* The formatted length DSP0134 3.0 gives each type built here. */
static unsigned int spec_len(uint8_t type)
{
	switch (type) {
	case 0: return 0x18;
	case 1: return 0x1B;
	case 3: return 0x16;
	case 4: return 0x30;
	case 16: return 0x17;
	case 17: return 0x28;
	case 19: return 0x1F;
	case 32: return 0x0B;
	case 127: return 0x04;
	default: return 0;
	}
}

/* Walk the table like SmbiosPlatformDxe's SmbiosTableLength(), but
 * bounded: every structure inside the blob, type 127 last. */
static void parse(const uint8_t *t, size_t len, struct parsed *out)
{
	size_t off = 0;
	uint16_t handles[MAX_STRUCTS];

	out->n = 0;
	for (;;) {
		struct smb *s = &out->s[out->n];
		const uint8_t *p = t + off;
		size_t i;

		assert_true(out->n < MAX_STRUCTS);
		assert_true(off + 4 <= len);
		assert_int_equal(p[1], spec_len(p[0]));
		assert_true(off + p[1] + 2 <= len);
		s->p = p;
		s->nr_str = 0;
		i = p[1];
		if (p[i] == 0 && p[i + 1] == 0) {
			i += 2;		/* no strings: the area and two NULs */
		} else {
			while (p[i]) {
				size_t n = strnlen((const char *)p + i, len - off - i);

				assert_true(off + i + n < len);	/* NUL inside */
				assert_true(n >= 1 && n <= SMBIOS_MAX_STRING);
				assert_true(s->nr_str + 1 < 16);
				s->str[++s->nr_str] = (const char *)p + i;
				i += n + 1;
				assert_true(off + i < len);
			}
			i++;		/* the set's terminating NUL */
		}
		/* Handles unique (SmbiosDxe's Add() refuses duplicates) and
		 * below the reserved range. */
		handles[out->n] = le16(p + 2);
		assert_true(handles[out->n] < 0xFF00);
		for (unsigned int j = 0; j < out->n; j++)
			assert_int_not_equal(handles[j], handles[out->n]);
		out->n++;
		off += i;
		if (p[0] == 127)
			break;
	}
	assert_int_equal(off, len);
}

/* String field at off of structure s, NULL for index 0. */
static const char *str(const struct smb *s, unsigned int off)
{
	uint8_t idx = s->p[off];

	if (!idx)
		return NULL;
	assert_true(idx <= s->nr_str);
	return s->str[idx];
}

static const struct smb *find(const struct parsed *pa, uint8_t type, unsigned int nth)
{
	for (unsigned int i = 0; i < pa->n; i++)
		if (pa->s[i].p[0] == type && nth-- == 0)
			return &pa->s[i];
	return NULL;
}

static unsigned int count(const struct parsed *pa, uint8_t type)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < pa->n; i++)
		n += pa->s[i].p[0] == type;
	return n;
}

static void build(const struct smbios_config *cfg, struct smbios_blobs *b,
		  struct parsed *pa)
{
	assert_int_equal(smbios_build(cfg, b), 0);
	parse(b->tables, b->tables_len, pa);
}

static struct parsed pa;	/* big: keep it off the stack */

static void test_default_layout(void **state)
{
	struct guest_mem m;
	struct smbios_config cfg = { .nr_cpus = 4, .mem = &m };
	struct smbios_blobs b;
	static const uint8_t order[] = { 1, 3, 4, 16, 17, 19, 32, 127 };
	static const uint16_t handle[] = { 0x100, 0x300, 0x400, 0x1000, 0x1100,
					   0x1300, 0x2000, 0x7F00 };
	const struct smb *s;

	assert_int_equal(mem_layout(&m, 512 * MiB, 128 * KiB), 0);
	build(&cfg, &b, &pa);
	/* QEMU's set and order; no type 0 unless asked (OVMF adds its own). */
	assert_int_equal(pa.n, sizeof(order));
	for (unsigned int i = 0; i < pa.n; i++) {
		assert_int_equal(pa.s[i].p[0], order[i]);
		assert_int_equal(le16(pa.s[i].p + 2), handle[i]);
	}

	s = find(&pa, 1, 0);
	assert_string_equal(str(s, 0x04), "minivmm");
	assert_string_equal(str(s, 0x05), "minivmm q35");
	assert_null(str(s, 0x06));
	assert_null(str(s, 0x07));
	assert_int_equal(s->p[0x18], 0x06);

	s = find(&pa, 4, 0);
	assert_string_equal(str(s, 0x04), "CPU 0");
	assert_int_equal(s->p[0x05], 0x03);
	assert_int_equal(s->p[0x18], 0x41);
	assert_int_equal(s->p[0x23], 4);	/* cores */
	assert_int_equal(s->p[0x24], 4);
	assert_int_equal(s->p[0x25], 4);	/* threads */
	assert_int_equal(le16(s->p + 0x2A), 4);
	assert_int_equal(le16(s->p + 0x2E), 4);
	assert_int_equal(le16(s->p + 0x26), 0x0C);	/* 64-bit, multi-core */

	s = find(&pa, 16, 0);
	assert_int_equal(le32(s->p + 0x07), 512 * 1024);	/* KiB */
	assert_int_equal(le16(s->p + 0x0D), 1);
	assert_int_equal(le64(s->p + 0x0F), 0);

	s = find(&pa, 17, 0);
	assert_int_equal(le16(s->p + 0x04), 0x1000);
	assert_int_equal(le16(s->p + 0x0C), 512);		/* MiB */
	assert_string_equal(str(s, 0x10), "DIMM 0");
	assert_string_equal(str(s, 0x17), "minivmm");

	/* Type 19 per e820 RAM range: [0, 512 MiB). */
	s = find(&pa, 19, 0);
	assert_int_equal(le32(s->p + 0x04), 0);
	assert_int_equal(le32(s->p + 0x08), (512 * MiB - 1) / KiB);
	assert_int_equal(le16(s->p + 0x0C), 0x1000);
	smbios_blobs_free(&b);
}

static void test_anchor(void **state)
{
	struct smbios_config cfg = { .nr_cpus = 1, .ram_size = 64 * MiB,
		.mem_ranges = &(struct smbios_mem_range){ 0, 64 * MiB }, .nr_mem_ranges = 1 };
	struct smbios_blobs b;
	uint8_t sum = 0;

	build(&cfg, &b, &pa);
	/* DSP0134 §5.2.2, and what OVMF's DetectSmbiosVersion() checks. */
	assert_memory_equal(b.anchor, "_SM3_", 5);
	assert_int_equal(b.anchor[6], SMBIOS3_ANCHOR_SIZE);
	assert_int_equal(b.anchor[7], 3);
	assert_int_equal(b.anchor[8], 0);
	assert_int_equal(b.anchor[9], 0);
	assert_int_equal(b.anchor[10], 1);
	assert_int_equal(le32(b.anchor + 0x0C), b.tables_len);
	assert_int_equal(le64(b.anchor + 0x10), 0);
	for (int i = 0; i < SMBIOS3_ANCHOR_SIZE; i++)
		sum += b.anchor[i];
	assert_int_equal(sum, 0);
	smbios_blobs_free(&b);
}

static void test_uuid_and_serial(void **state)
{
	static const uint8_t wire[16] = {
		0x67, 0x45, 0x23, 0x01, 0xab, 0x89, 0xef, 0xcd,
		0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
	};
	char longs[100];
	struct smbios_config cfg = {
		.nr_cpus = 1, .ram_size = 64 * MiB,
		.mem_ranges = &(struct smbios_mem_range){ 0, 64 * MiB }, .nr_mem_ranges = 1,
		.serial = "SN-42", .version = "1.0", .sku = "", .family = longs,
		.manufacturer = "ACME", .product = "Box",
	};
	struct smbios_blobs b;
	const struct smb *s;

	memset(longs, 'x', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = '\0';
	assert_int_equal(smbios_uuid_parse("01234567-89AB-cdef-0123-456789abcdef", cfg.uuid), 0);
	build(&cfg, &b, &pa);
	s = find(&pa, 1, 0);
	/* §7.2.1: time_low, time_mid, time_hi_and_version little-endian. */
	assert_memory_equal(s->p + 0x08, wire, 16);
	assert_string_equal(str(s, 0x04), "ACME");
	assert_string_equal(str(s, 0x05), "Box");
	assert_string_equal(str(s, 0x06), "1.0");
	assert_string_equal(str(s, 0x07), "SN-42");
	assert_null(str(s, 0x19));			/* "" is no string */
	assert_int_equal(strlen(str(s, 0x1A)), SMBIOS_MAX_STRING);
	s = find(&pa, 3, 0);
	assert_string_equal(str(s, 0x04), "ACME");
	assert_string_equal(str(s, 0x06), "1.0");
	assert_string_equal(str(s, 0x07), "SN-42");
	assert_null(str(s, 0x08));
	assert_null(str(s, 0x15));
	s = find(&pa, 4, 0);
	assert_string_equal(str(s, 0x07), "ACME");
	assert_string_equal(str(s, 0x10), "1.0");
	smbios_blobs_free(&b);
}

static void test_uuid_helpers(void **state)
{
	uint8_t a[16], c[16];

	assert_int_equal(smbios_uuid_generate(a), 0);
	assert_int_equal(smbios_uuid_generate(c), 0);
	assert_memory_not_equal(a, c, 16);
	/* RFC 4122 §4.4: version 4, variant 10x. */
	assert_int_equal(a[6] >> 4, 4);
	assert_int_equal(a[8] >> 6, 2);

	assert_int_equal(smbios_uuid_parse("01234567-89ab-cdef-0123-456789abcde", a), -EINVAL);
	assert_int_equal(smbios_uuid_parse("01234567-89ab-cdef-0123-456789abcdeg", a), -EINVAL);
	assert_int_equal(smbios_uuid_parse("01234567089ab-cdef-0123-456789abcdef", a), -EINVAL);
	assert_int_equal(smbios_uuid_parse("0123456-789ab-cdef-0123-456789abcdef", a), -EINVAL);
	assert_int_equal(smbios_uuid_parse(NULL, a), -EINVAL);
	assert_int_equal(smbios_uuid_parse("ffffffff-ffff-ffff-ffff-ffffffffffff", a), 0);
	for (int i = 0; i < 16; i++)
		assert_int_equal(a[i], 0xff);
}

static void test_type0_on_request(void **state)
{
	struct smbios_config cfg = {
		.nr_cpus = 1, .ram_size = 64 * MiB,
		.mem_ranges = &(struct smbios_mem_range){ 0, 64 * MiB }, .nr_mem_ranges = 1,
		.bios_vendor = "minivmm", .bios_version = "OVMF 2022.11",
		.bios_date = "11/24/2022",
	};
	struct smbios_blobs b;
	const struct smb *s;

	build(&cfg, &b, &pa);
	s = &pa.s[0];
	assert_int_equal(s->p[0], 0);
	assert_int_equal(le16(s->p + 2), 0);
	assert_string_equal(str(s, 0x04), "minivmm");
	assert_string_equal(str(s, 0x05), "OVMF 2022.11");
	assert_string_equal(str(s, 0x08), "11/24/2022");
	assert_int_equal(le16(s->p + 0x06), 0xE800);
	assert_int_equal(le64(s->p + 0x0A), 0x08);
	assert_int_equal(s->p[0x13], 0x1C);	/* UEFI, VM, TCD */
	smbios_blobs_free(&b);
}

static void test_memory_layouts(void **state)
{
	struct guest_mem m;
	struct smbios_config cfg = { .nr_cpus = 2, .mem = &m };
	struct smbios_blobs b;
	const struct smb *s;

	/* 16 GiB: one 16 GiB DIMM; type 19 for [0, 2G) and [4G, 18G). */
	assert_int_equal(mem_layout(&m, 16 * GiB, 128 * KiB), 0);
	build(&cfg, &b, &pa);
	assert_int_equal(count(&pa, 17), 1);
	assert_int_equal(le16(find(&pa, 17, 0)->p + 0x0C), 16384);
	assert_int_equal(count(&pa, 19), 2);
	s = find(&pa, 19, 1);
	assert_int_equal(le16(s->p + 2), 0x1301);
	assert_int_equal(le32(s->p + 0x04), MEM_4G / KiB);
	assert_int_equal(le32(s->p + 0x08), (MEM_4G + 14 * GiB - 1) / KiB);
	smbios_blobs_free(&b);

	/* 40 GiB: DIMMs of 16, 16 and 8 GiB, like QEMU. */
	assert_int_equal(mem_layout(&m, 40 * GiB, 128 * KiB), 0);
	build(&cfg, &b, &pa);
	assert_int_equal(count(&pa, 17), 3);
	assert_int_equal(le16(find(&pa, 16, 0)->p + 0x0D), 3);
	assert_int_equal(le16(find(&pa, 17, 0)->p + 0x0C), 16384);
	assert_int_equal(le16(find(&pa, 17, 2)->p + 0x0C), 8192);
	assert_int_equal(le16(find(&pa, 17, 2)->p + 2), 0x1102);
	smbios_blobs_free(&b);

	/* 3 GiB + 1 MiB + 1 byte: the last DIMM rounds up to whole MiB. */
	cfg = (struct smbios_config){ .nr_cpus = 1, .ram_size = 3 * GiB + MiB + 1,
		.mem_ranges = &(struct smbios_mem_range){ 0, 3 * GiB + MiB + 1 },
		.nr_mem_ranges = 1 };
	build(&cfg, &b, &pa);
	assert_int_equal(le16(find(&pa, 17, 0)->p + 0x0C), 3 * 1024 + 2);
	assert_int_equal(le32(find(&pa, 16, 0)->p + 0x07), 3 * 1024 * 1024 + 1024 + 1);
	smbios_blobs_free(&b);
}

static void test_huge_memory(void **state)
{
	const uint64_t ram = 16ULL << 40;	/* 16 TiB */
	const struct smbios_mem_range r[2] = {
		{ 0, 2 * GiB }, { MEM_4G, ram - 2 * GiB },
	};
	struct smbios_config cfg = { .nr_cpus = 1, .ram_size = ram,
		.mem_ranges = r, .nr_mem_ranges = 2 };
	struct smbios_blobs b;
	const struct smb *s;

	build(&cfg, &b, &pa);
	/* 16 GiB DIMMs would be 1024 of them, past 0x1300's handles:
	 * doubled to 32 GiB, 512 DIMMs. */
	assert_int_equal(count(&pa, 17), 512);
	assert_int_equal(le16(find(&pa, 17, 511)->p + 2), 0x12FF);
	s = find(&pa, 17, 0);
	assert_int_equal(le16(s->p + 0x0C), 0x7FFF);	/* see Extended Size */
	assert_int_equal(le32(s->p + 0x1C), 32768);
	/* Type 16: from 2 TiB on, 8000_0000h and bytes in the extension. */
	s = find(&pa, 16, 0);
	assert_int_equal(le32(s->p + 0x07), 0x80000000U);
	assert_int_equal(le64(s->p + 0x0F), ram);
	assert_int_equal(le16(s->p + 0x0D), 512);
	/* Type 19: the high range ends past 4 TiB: extended addresses. */
	s = find(&pa, 19, 0);
	assert_int_equal(le32(s->p + 0x08), (2 * GiB - 1) / KiB);
	s = find(&pa, 19, 1);
	assert_int_equal(le32(s->p + 0x04), 0xFFFFFFFFU);
	assert_int_equal(le32(s->p + 0x08), 0xFFFFFFFFU);
	assert_int_equal(le64(s->p + 0x0F), MEM_4G);
	assert_int_equal(le64(s->p + 0x17), MEM_4G + ram - 2 * GiB - 1);
	smbios_blobs_free(&b);
}

static void test_sockets(void **state)
{
	struct smbios_config cfg = {
		.nr_cpus = 8, .cores_per_socket = 2, .threads_per_core = 2,
		.ram_size = 64 * MiB,
		.mem_ranges = &(struct smbios_mem_range){ 0, 64 * MiB }, .nr_mem_ranges = 1,
		.cpuid_signature = 0x000906EA, .cpuid_features = 0x178BFBFF,
	};
	struct smbios_blobs b;
	const struct smb *s;

	build(&cfg, &b, &pa);
	assert_int_equal(count(&pa, 4), 2);
	s = find(&pa, 4, 1);
	assert_int_equal(le16(s->p + 2), 0x401);
	assert_string_equal(str(s, 0x04), "CPU 1");
	assert_int_equal(s->p[0x23], 2);
	assert_int_equal(s->p[0x25], 4);
	assert_int_equal(le16(s->p + 0x26), 0x1C);	/* 64-bit, multi-core, HT */
	assert_int_equal(le32(s->p + 0x08), 0x000906EA);
	assert_int_equal(le32(s->p + 0x0C), 0x178BFBFF);
	smbios_blobs_free(&b);

	/* 300 CPUs in one socket: the byte fields saturate at FFh. */
	cfg = (struct smbios_config){ .nr_cpus = 300, .ram_size = 64 * MiB,
		.mem_ranges = &(struct smbios_mem_range){ 0, 64 * MiB }, .nr_mem_ranges = 1 };
	build(&cfg, &b, &pa);
	assert_int_equal(count(&pa, 4), 1);
	s = find(&pa, 4, 0);
	assert_int_equal(s->p[0x23], 0xFF);
	assert_int_equal(s->p[0x25], 0xFF);
	assert_int_equal(le16(s->p + 0x2A), 300);
	assert_int_equal(le16(s->p + 0x2C), 300);
	assert_int_equal(le16(s->p + 0x2E), 300);
	smbios_blobs_free(&b);

	/* --cpus 12,sockets=2,cores=3,threads=2: per socket 3 cores, 6
	 * threads. */
	cfg.nr_cpus = 12;
	cfg.cores_per_socket = 3;
	cfg.threads_per_core = 2;
	build(&cfg, &b, &pa);
	assert_int_equal(count(&pa, 4), 2);
	s = find(&pa, 4, 1);
	assert_int_equal(s->p[0x23], 3);			/* core count */
	assert_int_equal(s->p[0x24], 3);			/* cores enabled */
	assert_int_equal(s->p[0x25], 6);			/* thread count */
	assert_int_equal(le16(s->p + 0x2A), 3);
	assert_int_equal(le16(s->p + 0x2E), 6);
	assert_int_equal(le16(s->p + 0x26), 0x1C);
	smbios_blobs_free(&b);
	cfg.threads_per_core = 0;

	/* 5 CPUs of 2 cores: 3 sockets (QEMU rounds up). */
	cfg.nr_cpus = 5;
	cfg.cores_per_socket = 2;
	build(&cfg, &b, &pa);
	assert_int_equal(count(&pa, 4), 3);
	smbios_blobs_free(&b);
}

static void test_invalid(void **state)
{
	struct smbios_mem_range r = { 0, 64 * MiB }, wrap = { ~0ULL - 10, 100 };
	struct smbios_config cfg = { .nr_cpus = 1, .ram_size = 64 * MiB,
		.mem_ranges = &r, .nr_mem_ranges = 1 };
	struct smbios_blobs b;

	cfg.nr_cpus = 0;
	assert_int_equal(smbios_build(&cfg, &b), -EINVAL);
	cfg.nr_cpus = SMBIOS_MAX_SOCKETS + 1;
	cfg.cores_per_socket = 1;
	assert_int_equal(smbios_build(&cfg, &b), -EINVAL);
	cfg.nr_cpus = 1;
	cfg.ram_size = 0;
	assert_int_equal(smbios_build(&cfg, &b), -EINVAL);
	cfg.ram_size = 64 * MiB;
	cfg.mem_ranges = &wrap;
	assert_int_equal(smbios_build(&cfg, &b), -EINVAL);
	cfg.nr_mem_ranges = SMBIOS_MAX_MEM_RANGES + 1;
	assert_int_equal(smbios_build(&cfg, &b), -EINVAL);
	assert_null(b.tables);
}

/* Through fw_cfg, as OVMF sees it: DetectSmbiosVersion() accepts the pair
 * only if the anchor is 24 bytes and its TableMaximumSize is the size of
 * etc/smbios/smbios-tables. */
static void test_install(void **state)
{
	struct guest_mem m;
	struct bus pio;
	struct fw_cfg *fw;
	struct smbios_config cfg = { .nr_cpus = 2, .mem = &m };
	uint8_t hdr[4], e[64], anchor[24];
	uint32_t tsize = 0, asize = 0;
	uint16_t akey = 0;

	assert_int_equal(mem_layout(&m, 3 * GiB, 128 * KiB), 0);
	assert_int_equal(bus_init(&pio, "pio"), 0);
	fw = fw_cfg_create(NULL, &m);
	assert_non_null(fw);
	assert_int_equal(fw_cfg_attach(fw, &pio), 0);
	assert_int_equal(smbios_install(fw, &cfg), 0);

	bus_write(&pio, FW_CFG_PORT_SEL, (uint8_t[]){ FW_CFG_FILE_DIR, 0 }, 2);
	for (int i = 0; i < 4; i++)
		bus_read(&pio, FW_CFG_PORT_DATA, &hdr[i], 1);
	assert_int_equal(hdr[3], 2);
	for (int n = 0; n < 2; n++) {
		uint32_t size;

		for (int i = 0; i < 64; i++)
			bus_read(&pio, FW_CFG_PORT_DATA, &e[i], 1);
		size = (uint32_t)e[0] << 24 | e[1] << 16 | e[2] << 8 | e[3];
		if (!strcmp((char *)e + 8, "etc/smbios/smbios-anchor")) {
			asize = size;
			akey = (uint16_t)(e[4] << 8 | e[5]);
		} else {
			assert_string_equal((char *)e + 8, "etc/smbios/smbios-tables");
			tsize = size;
		}
	}
	assert_int_equal(asize, 24);
	bus_write(&pio, FW_CFG_PORT_SEL, (uint8_t[]){ (uint8_t)akey, (uint8_t)(akey >> 8) }, 2);
	for (int i = 0; i < 24; i++)
		bus_read(&pio, FW_CFG_PORT_DATA, &anchor[i], 1);
	assert_memory_equal(anchor, "_SM3_", 5);
	assert_int_equal(anchor[7], 3);
	assert_int_equal(le32(anchor + 0x0C), tsize);

	fw_cfg_destroy(fw);
	bus_exit(&pio);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_layout),
		cmocka_unit_test(test_anchor),
		cmocka_unit_test(test_uuid_and_serial),
		cmocka_unit_test(test_uuid_helpers),
		cmocka_unit_test(test_type0_on_request),
		cmocka_unit_test(test_memory_layouts),
		cmocka_unit_test(test_huge_memory),
		cmocka_unit_test(test_sockets),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_install),
	};

	log_threshold = LOG_ERROR;
	return cmocka_run_group_tests_name("smbios", tests, NULL, NULL);
}
