/* SPDX-License-Identifier: MIT */
/*
 * A model of how OVMF's AcpiPlatformDxe (OvmfPkg/AcpiPlatformDxe/
 * QemuFwCfgAcpi.c, edk2-stable202211) consumes "etc/table-loader": the
 * first pass runs ALLOCATE (pointees of narrower-than-8-byte pointers
 * below 4 GiB), ADD_POINTER and ADD_CHECKSUM with OVMF's checks, the
 * second pass installs whatever each ADD_POINTER points at if it is the
 * FACS or a checksummed table, except the RSDT and XSDT. Shared by
 * test_acpi.c and test_acpi_iasl.c; must be included after cmocka.h.
 */
#ifndef MINIVMM_TEST_ACPI_OVMF_H
#define MINIVMM_TEST_ACPI_OVMF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/acpi.h"
#include "lib/memory.h"

#define MAX_BLOBS	4
#define MAX_TABLES	16
#define TABLES_GPA	0x7f000000ull	/* where "HIGH" lands below 4 GiB */
#define HIGH64_GPA	0x100000000ull	/* unrestricted blobs: above 4 GiB */
#define FSEG_GPA	0xf5a00ull

struct blob {
	char name[ACPI_LOADER_FNAME_SIZE];
	uint8_t *data;
	size_t size;
	uint64_t gpa;
};

struct table {
	char sig[5];
	struct blob *blob;
	size_t off, len;
};

struct ovmf {
	struct blob blobs[MAX_BLOBS];
	unsigned int nr_blobs;
	struct table tables[MAX_TABLES];	/* what InstallAcpiTable() got */
	unsigned int nr_tables;
};

static inline uint64_t le(const uint8_t *p, unsigned int size)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < size; i++)
		v |= (uint64_t)p[i] << 8 * i;
	return v;
}

static inline uint8_t sum8(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s = (uint8_t)(s + *p++);
	return s;
}

static inline const struct acpi_blob *fw_cfg_file(const struct acpi_blobs *b, const char *name)
{
	if (!strcmp(name, ACPI_FILE_TABLES))
		return &b->tables;
	if (!strcmp(name, ACPI_FILE_RSDP))
		return &b->rsdp;
	return NULL;
}

static inline struct blob *find_blob(struct ovmf *o, const char *name)
{
	for (unsigned int i = 0; i < o->nr_blobs; i++)
		if (!strcmp(o->blobs[i].name, name))
			return &o->blobs[i];
	return NULL;
}

/* The guest address a (blob, offset) pair ended up at, and back. */
static inline struct blob *blob_at(struct ovmf *o, uint64_t gpa, size_t *off)
{
	for (unsigned int i = 0; i < o->nr_blobs; i++) {
		struct blob *bl = &o->blobs[i];

		if (gpa >= bl->gpa && gpa < bl->gpa + bl->size) {
			*off = (size_t)(gpa - bl->gpa);
			return bl;
		}
	}
	return NULL;
}

/* A file name field: NUL-terminated, NUL-padded to 56 bytes. */
static inline const char *cmd_name(const uint8_t *field)
{
	size_t len = strnlen((const char *)field, ACPI_LOADER_FNAME_SIZE);

	assert_true(len > 0 && len < ACPI_LOADER_FNAME_SIZE);
	for (size_t i = len; i < ACPI_LOADER_FNAME_SIZE; i++)
		assert_int_equal(field[i], 0);
	return (const char *)field;
}

static inline void check_padding(const uint8_t *cmd, size_t used)
{
	for (size_t i = used; i < ACPI_LOADER_CMD_SIZE; i++)
		assert_int_equal(cmd[i], 0);
}

/* OVMF's CollectAllocationsRestrictedTo32Bit(): pointees of pointers
 * narrower than 8 bytes are allocated below 4 GiB. */
static inline bool restricted_32bit(const struct acpi_blob *script, const char *file)
{
	for (size_t i = 0; i < script->len; i += ACPI_LOADER_CMD_SIZE) {
		const uint8_t *c = script->data + i;

		if (le(c, 4) == ACPI_LOADER_ADD_POINTER && c[4 + 112 + 4] < 8 &&
		    !strcmp((const char *)c + 4 + 56, file))
			return true;
	}
	return false;
}

static inline void run_allocate(struct ovmf *o, const struct acpi_blobs *b, const uint8_t *c)
{
	const char *name = cmd_name(c + 4);
	uint32_t align = (uint32_t)le(c + 60, 4);
	uint8_t zone = c[64];
	const struct acpi_blob *file = fw_cfg_file(b, name);
	struct blob *bl;

	check_padding(c, 65);
	assert_non_null(file);
	assert_null(find_blob(o, name));		/* "duplicated file" */
	assert_true(align && !(align & (align - 1)) && align <= 4096);
	assert_true(zone == ACPI_ZONE_HIGH || zone == ACPI_ZONE_FSEG);
	assert_true(o->nr_blobs < MAX_BLOBS);
	bl = &o->blobs[o->nr_blobs++];
	snprintf(bl->name, sizeof(bl->name), "%s", name);
	bl->size = file->len;
	/* Whole pages of zeroes after the file, as AllocatePages() gives. */
	bl->data = calloc(1, (file->len + 4095) & ~(size_t)4095);
	assert_non_null(bl->data);
	memcpy(bl->data, file->data, file->len);
	if (zone == ACPI_ZONE_FSEG)
		bl->gpa = FSEG_GPA;
	else if (restricted_32bit(&b->loader, name))
		bl->gpa = TABLES_GPA;
	else
		bl->gpa = HIGH64_GPA;
	assert_int_equal(bl->gpa % align, 0);
}

static inline void run_add_pointer(struct ovmf *o, const uint8_t *c)
{
	struct blob *ptr = find_blob(o, cmd_name(c + 4));
	struct blob *pointee = find_blob(o, cmd_name(c + 60));
	uint32_t off = (uint32_t)le(c + 116, 4);
	uint8_t size = c[120];
	uint64_t v;

	check_padding(c, 121);
	assert_non_null(ptr);
	assert_non_null(pointee);
	assert_true(size == 1 || size == 2 || size == 4 || size == 8);
	assert_true(ptr->size >= size && off <= ptr->size - size);
	v = le(ptr->data + off, size);
	assert_true(v < pointee->size);		/* "invalid pointer value" */
	v += pointee->gpa;
	if (size < 8)
		assert_int_equal(v >> (8 * size), 0);	/* representable */
	for (unsigned int i = 0; i < size; i++)
		ptr->data[off + i] = (uint8_t)(v >> 8 * i);
}

static inline void run_add_checksum(struct ovmf *o, const uint8_t *c)
{
	struct blob *bl = find_blob(o, cmd_name(c + 4));
	uint32_t result = (uint32_t)le(c + 60, 4), start = (uint32_t)le(c + 64, 4);
	uint32_t len = (uint32_t)le(c + 68, 4);

	check_padding(c, 72);
	assert_non_null(bl);
	assert_true(result < bl->size && len <= bl->size && start <= bl->size - len);
	/* CalculateCheckSum8() over the range as it is, result byte included. */
	bl->data[result] = (uint8_t)(0x100 - sum8(bl->data + start, len));
}

/* Process2ndPassCmdAddPointer(): install what the pointer points at. */
static inline void install(struct ovmf *o, const uint8_t *c)
{
	struct blob *ptr = find_blob(o, (const char *)c + 4), *bl;
	uint64_t gpa = le(ptr->data + le(c + 116, 4), c[120]);
	size_t off, remaining, len = 0;
	const uint8_t *t;

	bl = blob_at(o, gpa, &off);
	assert_non_null(bl);
	t = bl->data + off;
	remaining = bl->size - off;
	for (unsigned int i = 0; i < o->nr_tables; i++)
		if (o->tables[i].blob == bl && o->tables[i].off == off)
			return;			/* seen: skipped */
	if (remaining >= 64 && !memcmp(t, "FACS", 4) && le(t + 4, 4) >= 64 &&
	    le(t + 4, 4) <= remaining) {
		len = le(t + 4, 4);
	} else if (remaining >= 36 && le(t + 4, 4) >= 36 && le(t + 4, 4) <= remaining &&
		   sum8(t, le(t + 4, 4)) == 0) {
		len = le(t + 4, 4);
		if (!memcmp(t, "RSDT", 4) || !memcmp(t, "XSDT", 4))
			return;			/* OVMF builds its own */
	}
	assert_true(len);			/* every pointee is a table */
	assert_true(o->nr_tables < MAX_TABLES);
	memcpy(o->tables[o->nr_tables].sig, t, 4);
	o->tables[o->nr_tables].blob = bl;
	o->tables[o->nr_tables].off = off;
	o->tables[o->nr_tables++].len = len;
}

static inline void ovmf_load(struct ovmf *o, const struct acpi_blobs *b)
{
	const struct acpi_blob *s = &b->loader;

	memset(o, 0, sizeof(*o));
	assert_int_equal(s->len % ACPI_LOADER_CMD_SIZE, 0);
	for (size_t i = 0; i < s->len; i += ACPI_LOADER_CMD_SIZE) {
		const uint8_t *c = s->data + i;

		switch (le(c, 4)) {
		case ACPI_LOADER_ALLOCATE:
			run_allocate(o, b, c);
			break;
		case ACPI_LOADER_ADD_POINTER:
			run_add_pointer(o, c);
			break;
		case ACPI_LOADER_ADD_CHECKSUM:
			run_add_checksum(o, c);
			break;
		default:
			fail_msg("unexpected loader command %u", (unsigned int)le(c, 4));
		}
	}
	for (size_t i = 0; i < s->len; i += ACPI_LOADER_CMD_SIZE)
		if (le(s->data + i, 4) == ACPI_LOADER_ADD_POINTER)
			install(o, s->data + i);
}

static inline void ovmf_free(struct ovmf *o)
{
	for (unsigned int i = 0; i < o->nr_blobs; i++)
		free(o->blobs[i].data);
}

static inline const struct table *installed(const struct ovmf *o, const char *sig)
{
	for (unsigned int i = 0; i < o->nr_tables; i++)
		if (!strcmp(o->tables[i].sig, sig))
			return &o->tables[i];
	return NULL;
}

static inline const uint8_t *tdata(const struct table *t)
{
	return t->blob->data + t->off;
}

static inline uint64_t tgpa(const struct table *t)
{
	return t->blob->gpa + t->off;
}

static inline void q35_config(struct acpi_config *cfg, unsigned int cpus)
{
	acpi_config_init(cfg);
	cfg->nr_cpus = cpus;
	cfg->ram_low_end = 2 * GiB;
	cfg->ram_high_size = 6 * GiB;
	cfg->pci32_start = 2 * GiB;
	cfg->pci32_end = 0xfec00000;
	acpi_ovmf_pci64_window(cfg->ram_high_size, &cfg->pci64_base, &cfg->pci64_size);
}

static inline struct acpi_blobs build_ok(const struct acpi_config *cfg)
{
	struct acpi_blobs b;

	assert_int_equal(acpi_build(cfg, &b), 0);
	return b;
}

#endif
