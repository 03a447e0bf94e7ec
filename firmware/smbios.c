// SPDX-License-Identifier: MIT
/*
 * SMBIOS structure table and 3.0 entry point, after DMTF DSP0134 3.0.0
 * ("the spec"; section numbers below are its own). Structure layouts are
 * those of version 3.0, which the anchor declares. Contents follow QEMU's
 * hw/smbios/smbios.c wherever the spec leaves a choice, because guests
 * and tools have long seen those values from QEMU's q35 machine.
 *
 * Every structure (§6.1.2) is a formatted area starting with {type, length,
 * handle}, then its strings, each NUL-terminated, then one more NUL; with
 * no strings the area is followed by two NULs. A string field holds a
 * 1-based index into the structure's strings, 0 for "none".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "firmware/e820.h"
#include "firmware/fw_cfg.h"
#include "firmware/smbios.h"

#define REC_MAX_LEN	0x30	/* the longest formatted area built: type 4 */
#define REC_MAX_STRINGS	8

/* One structure being built. */
struct rec {
	uint8_t f[REC_MAX_LEN];
	uint8_t len;
	char str[REC_MAX_STRINGS * (SMBIOS_MAX_STRING + 1)];
	size_t str_len;
	unsigned int nr_str;
};

/* The table being built. */
struct table {
	uint8_t *p;
	size_t len, cap;
	int err;
};

static void rec_init(struct rec *r, uint8_t type, uint8_t len, uint16_t handle)
{
	memset(r, 0, sizeof(*r));
	r->len = len;
	r->f[0] = type;
	r->f[1] = len;
	r->f[2] = (uint8_t)handle;
	r->f[3] = (uint8_t)(handle >> 8);
}

static void put8(struct rec *r, unsigned int off, uint8_t v)
{
	r->f[off] = v;
}

static void put16(struct rec *r, unsigned int off, uint16_t v)
{
	r->f[off] = (uint8_t)v;
	r->f[off + 1] = (uint8_t)(v >> 8);
}

static void put32(struct rec *r, unsigned int off, uint32_t v)
{
	put16(r, off, (uint16_t)v);
	put16(r, off + 2, (uint16_t)(v >> 16));
}

static void put64(struct rec *r, unsigned int off, uint64_t v)
{
	put32(r, off, (uint32_t)v);
	put32(r, off + 4, (uint32_t)(v >> 32));
}

/* Add a string at field off. §6.1.3: an absent string is index 0 (an
 * empty string would end the set early, so it is absent too). */
static void put_str(struct rec *r, unsigned int off, const char *s)
{
	size_t n;

	r->f[off] = 0;
	if (!s || !*s || r->nr_str >= REC_MAX_STRINGS)
		return;
	n = strnlen(s, SMBIOS_MAX_STRING);
	memcpy(r->str + r->str_len, s, n);
	r->str[r->str_len + n] = '\0';
	r->str_len += n + 1;
	r->f[off] = (uint8_t)++r->nr_str;
}

static void table_append(struct table *t, const void *data, size_t len)
{
	if (t->err)
		return;
	if (t->len + len > t->cap) {
		size_t cap = t->cap ? t->cap : 1024;
		uint8_t *p;

		while (cap < t->len + len)
			cap *= 2;
		p = realloc(t->p, cap);
		if (!p) {
			t->err = -ENOMEM;
			return;
		}
		t->p = p;
		t->cap = cap;
	}
	memcpy(t->p + t->len, data, len);
	t->len += len;
}

static void rec_emit(struct table *t, const struct rec *r)
{
	static const uint8_t nul2[2];

	table_append(t, r->f, r->len);
	if (r->nr_str) {
		table_append(t, r->str, r->str_len);
		table_append(t, nul2, 1);
	} else {
		table_append(t, nul2, 2);
	}
}

static const char *or_default(const char *s, const char *def)
{
	return s && *s ? s : def;
}

/* §7.1 BIOS Information (Type 0), 3.0 length 18h. Values as QEMU's
 * smbios_build_type_0_table, which copies SeaBIOS. */
static void build_type0(struct table *t, const struct smbios_config *cfg)
{
	struct rec r;

	rec_init(&r, 0, 0x18, SMBIOS_HANDLE_T0);
	put_str(&r, 0x04, cfg->bios_vendor);
	put_str(&r, 0x05, cfg->bios_version);
	put16(&r, 0x06, 0xE800);		/* starting address segment */
	put_str(&r, 0x08, cfg->bios_date);
	put8(&r, 0x09, 0);			/* ROM size: 64 KiB units - 1 */
	put64(&r, 0x0A, 1ULL << 3);		/* characteristics not supported */
	/* §7.1.2.2: bit 2 targeted content distribution, bit 3 UEFI is
	 * supported, bit 4 the table describes a virtual machine. */
	put8(&r, 0x13, 0x1C);
	put8(&r, 0x16, 0xFF);			/* no embedded controller */
	put8(&r, 0x17, 0xFF);
	rec_emit(t, &r);
}

/* §7.2 System Information (Type 1), length 1Bh. */
static void build_type1(struct table *t, const struct smbios_config *cfg)
{
	const uint8_t *u = cfg->uuid;
	struct rec r;

	rec_init(&r, 1, 0x1B, SMBIOS_HANDLE_T1);
	put_str(&r, 0x04, or_default(cfg->manufacturer, "minivmm"));
	put_str(&r, 0x05, or_default(cfg->product, "minivmm q35"));
	put_str(&r, 0x06, cfg->version);
	put_str(&r, 0x07, cfg->serial);
	/* §7.2.1: since 2.6 the first three fields (time_low, time_mid,
	 * time_hi_and_version) are little-endian; the rest as in RFC 4122. */
	put32(&r, 0x08, (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 |
			(uint32_t)u[2] << 8 | u[3]);
	put16(&r, 0x0C, (uint16_t)(u[4] << 8 | u[5]));
	put16(&r, 0x0E, (uint16_t)(u[6] << 8 | u[7]));
	memcpy(&r.f[0x10], u + 8, 8);
	put8(&r, 0x18, 0x06);			/* wake-up type: power switch */
	put_str(&r, 0x19, cfg->sku);
	put_str(&r, 0x1A, cfg->family);
	rec_emit(t, &r);
}

/* §7.4 System Enclosure (Type 3): 15h + n*m + 1 bytes, here with no
 * contained elements (n = m = 0), so the SKU string sits at 15h. */
static void build_type3(struct table *t, const struct smbios_config *cfg)
{
	struct rec r;

	rec_init(&r, 3, 0x16, SMBIOS_HANDLE_T3);
	put_str(&r, 0x04, or_default(cfg->manufacturer, "minivmm"));
	put8(&r, 0x05, 0x01);			/* type: other */
	put_str(&r, 0x06, cfg->version);
	put_str(&r, 0x07, cfg->serial);
	put8(&r, 0x09, 0x03);			/* boot-up state: safe */
	put8(&r, 0x0A, 0x03);			/* power supply state: safe */
	put8(&r, 0x0B, 0x03);			/* thermal state: safe */
	put8(&r, 0x0C, 0x02);			/* security status: unknown */
	rec_emit(t, &r);
}

/* §7.5 Processor Information (Type 4), 3.0 length 30h. */
static void build_type4(struct table *t, const struct smbios_config *cfg,
			unsigned int socket, unsigned int cores, unsigned int threads)
{
	unsigned int nthreads = cores * threads;
	uint16_t chars = 1u << 2;		/* 64-bit capable */
	char name[16];
	struct rec r;

	rec_init(&r, 4, 0x30, (uint16_t)(SMBIOS_HANDLE_T4 + socket));
	snprintf(name, sizeof(name), "CPU %u", socket);
	put_str(&r, 0x04, name);
	put8(&r, 0x05, 0x03);			/* central processor */
	put8(&r, 0x06, 0x01);			/* family: other */
	put_str(&r, 0x07, or_default(cfg->manufacturer, "minivmm"));
	/* §7.5.3: on x86, CPUID leaf 1's EAX then EDX. */
	put32(&r, 0x08, cfg->cpuid_signature);
	put32(&r, 0x0C, cfg->cpuid_features);
	put_str(&r, 0x10, cfg->version);
	/* QEMU: "SVVP requires max_speed and current_speed to not be
	 * unknown", so both claim 2000 MHz. */
	put16(&r, 0x14, 2000);
	put16(&r, 0x16, 2000);
	put8(&r, 0x18, 0x41);			/* populated, CPU enabled */
	put8(&r, 0x19, 0x01);			/* upgrade: other */
	put16(&r, 0x1A, 0xFFFF);		/* no cache information */
	put16(&r, 0x1C, 0xFFFF);
	put16(&r, 0x1E, 0xFFFF);
	/* §7.5: counts above 255 read FFh and live in the "2" fields,
	 * which otherwise repeat the value. */
	put8(&r, 0x23, cores > 255 ? 0xFF : (uint8_t)cores);
	put8(&r, 0x24, cores > 255 ? 0xFF : (uint8_t)cores);
	put8(&r, 0x25, nthreads > 255 ? 0xFF : (uint8_t)nthreads);
	/* §7.5.9 processor characteristics. */
	if (cores > 1)
		chars |= 1u << 3;		/* multi-core */
	if (threads > 1)
		chars |= 1u << 4;		/* hardware thread */
	put16(&r, 0x26, chars);
	put16(&r, 0x28, 0x01);			/* family 2: other */
	put16(&r, 0x2A, (uint16_t)cores);
	put16(&r, 0x2C, (uint16_t)cores);
	put16(&r, 0x2E, (uint16_t)nthreads);
	rec_emit(t, &r);
}

/* §7.17 Physical Memory Array (Type 16), length 17h. */
static void build_type16(struct table *t, uint64_t ram_size, unsigned int dimms)
{
	uint64_t kib = (ram_size + KiB - 1) / KiB;
	struct rec r;

	rec_init(&r, 16, 0x17, SMBIOS_HANDLE_T16);
	put8(&r, 0x04, 0x01);			/* location: other */
	put8(&r, 0x05, 0x03);			/* use: system memory */
	put8(&r, 0x06, 0x06);			/* multi-bit ECC (QEMU, for Windows) */
	/* §7.17: from 2 TiB on, 8000_0000h and the size in bytes in the
	 * extended field. */
	if (kib < 0x80000000ULL) {
		put32(&r, 0x07, (uint32_t)kib);
	} else {
		put32(&r, 0x07, 0x80000000U);
		put64(&r, 0x0F, ram_size);
	}
	put16(&r, 0x0B, 0xFFFE);		/* no error information */
	put16(&r, 0x0D, (uint16_t)dimms);
	rec_emit(t, &r);
}

/* §7.18 Memory Device (Type 17), 3.0 length 28h. */
static void build_type17(struct table *t, const struct smbios_config *cfg,
			 unsigned int i, uint64_t size)
{
	uint64_t mib = (size + MiB - 1) / MiB;
	char loc[16];
	struct rec r;

	rec_init(&r, 17, 0x28, (uint16_t)(SMBIOS_HANDLE_T17 + i));
	put16(&r, 0x04, SMBIOS_HANDLE_T16);
	put16(&r, 0x06, 0xFFFE);		/* no error information */
	put16(&r, 0x08, 0xFFFF);		/* total width unknown */
	put16(&r, 0x0A, 0xFFFF);		/* data width unknown */
	/* §7.18 Size: MiB; 7FFFh means "see Extended Size" (MiB). */
	if (mib < 0x7FFF) {
		put16(&r, 0x0C, (uint16_t)mib);
	} else {
		put16(&r, 0x0C, 0x7FFF);
		put32(&r, 0x1C, (uint32_t)mib);
	}
	put8(&r, 0x0E, 0x09);			/* form factor: DIMM */
	snprintf(loc, sizeof(loc), "DIMM %u", i);
	put_str(&r, 0x10, loc);
	put8(&r, 0x12, 0x07);			/* type: RAM */
	put16(&r, 0x13, 0x02);			/* type detail: other */
	put_str(&r, 0x17, or_default(cfg->manufacturer, "minivmm"));
	rec_emit(t, &r);
}

/* §7.20 Memory Array Mapped Address (Type 19), length 1Fh. */
static void build_type19(struct table *t, unsigned int i, uint64_t start, uint64_t len)
{
	uint64_t end = start + len - 1;
	struct rec r;

	rec_init(&r, 19, 0x1F, (uint16_t)(SMBIOS_HANDLE_T19 + i));
	/* KiB units, unless either end is at 4 TiB or above: then
	 * FFFF_FFFFh and byte addresses in the extended fields. */
	if (start / KiB < UINT32_MAX && end / KiB < UINT32_MAX) {
		put32(&r, 0x04, (uint32_t)(start / KiB));
		put32(&r, 0x08, (uint32_t)(end / KiB));
	} else {
		put32(&r, 0x04, UINT32_MAX);
		put32(&r, 0x08, UINT32_MAX);
		put64(&r, 0x0F, start);
		put64(&r, 0x17, end);
	}
	put16(&r, 0x0C, SMBIOS_HANDLE_T16);
	put8(&r, 0x0E, 1);			/* partition width */
	rec_emit(t, &r);
}

/* §7.33 System Boot Information (Type 32), length 0Bh: no errors. */
static void build_type32(struct table *t)
{
	struct rec r;

	rec_init(&r, 32, 0x0B, SMBIOS_HANDLE_T32);
	rec_emit(t, &r);
}

/* §7.45 End-of-Table (Type 127). OVMF's InstallAllStructures() walks
 * until it meets one, so it must be there. */
static void build_type127(struct table *t)
{
	struct rec r;

	rec_init(&r, 127, 0x04, SMBIOS_HANDLE_T127);
	rec_emit(t, &r);
}

/* §5.2.2 SMBIOS 3.0 (64-bit) entry point structure. */
static void build_anchor(uint8_t *a, size_t tables_len)
{
	uint8_t sum = 0;

	memset(a, 0, SMBIOS3_ANCHOR_SIZE);
	memcpy(a, "_SM3_", 5);
	a[0x06] = SMBIOS3_ANCHOR_SIZE;
	a[0x07] = 3;				/* major */
	a[0x08] = 0;				/* minor */
	a[0x09] = 0;				/* docrev */
	a[0x0A] = 0x01;				/* entry point revision 3.0 */
	for (unsigned int i = 0; i < 4; i++)	/* structure table maximum size */
		a[0x0C + i] = (uint8_t)(tables_len >> (8 * i));
	/* Table address (10h) stays 0: the firmware places the table and
	 * writes its own entry point, as with QEMU. */
	for (unsigned int i = 0; i < SMBIOS3_ANCHOR_SIZE; i++)
		sum += a[i];
	a[0x05] = (uint8_t)-sum;
}

int smbios_build(const struct smbios_config *cfg, struct smbios_blobs *out)
{
	struct smbios_mem_range e820_ranges[SMBIOS_MAX_MEM_RANGES];
	const struct smbios_mem_range *ranges = cfg->mem_ranges;
	unsigned int nr_ranges = cfg->nr_mem_ranges;
	unsigned int threads, cores, sockets, dimms;
	uint64_t ram_size = cfg->ram_size, dimm_size;
	struct table t = { 0 };

	memset(out, 0, sizeof(*out));
	if (!ram_size && cfg->mem)
		ram_size = cfg->mem->ram_size;
	if (!nr_ranges && cfg->mem) {
		struct e820_entry e[E820_MAX_ENTRIES];
		int n = e820_build(cfg->mem, 0, e, E820_MAX_ENTRIES);

		if (n < 0)
			return n;
		/* Type 19 per e820 RAM range, as QEMU's fw_cfg_build_smbios. */
		for (int i = 0; i < n; i++)
			if (e[i].type == E820_RAM)
				e820_ranges[nr_ranges++] = (struct smbios_mem_range){
					.addr = e[i].addr, .len = e[i].len,
				};
		ranges = e820_ranges;
	}
	if (!cfg->nr_cpus || !ram_size || nr_ranges > SMBIOS_MAX_MEM_RANGES ||
	    (nr_ranges && !ranges))
		return -EINVAL;
	for (unsigned int i = 0; i < nr_ranges; i++)
		if (!ranges[i].len || ranges[i].addr + (ranges[i].len - 1) < ranges[i].addr)
			return -EINVAL;

	threads = cfg->threads_per_core ? cfg->threads_per_core : 1;
	cores = cfg->cores_per_socket ? cfg->cores_per_socket :
		(cfg->nr_cpus + threads - 1) / threads;
	if (cores > 0xFFFF || threads > 0xFFFF || (uint64_t)cores * threads > 0xFFFF)
		return -EINVAL;
	/* Sockets enough for every CPU, like QEMU's smbios_smp_sockets. */
	sockets = (cfg->nr_cpus + cores * threads - 1) / (cores * threads);
	if (sockets > SMBIOS_MAX_SOCKETS)
		return -EINVAL;

	/* DIMMs of 16 GiB like QEMU's, the last one the rest; doubled for
	 * huge guests so their handles stay below type 19's. */
	dimm_size = 16 * GiB;
	while ((ram_size + dimm_size - 1) / dimm_size >
	       SMBIOS_HANDLE_T19 - SMBIOS_HANDLE_T17)
		dimm_size *= 2;
	dimms = (unsigned int)((ram_size + dimm_size - 1) / dimm_size);

	if (cfg->bios_vendor && *cfg->bios_vendor)
		build_type0(&t, cfg);
	build_type1(&t, cfg);
	build_type3(&t, cfg);
	for (unsigned int s = 0; s < sockets; s++)
		build_type4(&t, cfg, s, cores, threads);
	build_type16(&t, ram_size, dimms);
	for (unsigned int i = 0; i < dimms; i++)
		build_type17(&t, cfg, i, i < dimms - 1 ? dimm_size :
			     (ram_size - 1) % dimm_size + 1);
	for (unsigned int i = 0; i < nr_ranges; i++)
		build_type19(&t, i, ranges[i].addr, ranges[i].len);
	build_type32(&t);
	build_type127(&t);
	if (t.err) {
		free(t.p);
		return t.err;
	}
	out->tables = t.p;
	out->tables_len = t.len;
	build_anchor(out->anchor, t.len);
	return 0;
}

void smbios_blobs_free(struct smbios_blobs *b)
{
	free(b->tables);
	b->tables = NULL;
	b->tables_len = 0;
}

int smbios_install(struct fw_cfg *fw, const struct smbios_config *cfg)
{
	struct smbios_blobs b;
	int ret = smbios_build(cfg, &b);

	if (ret)
		return ret;
	ret = fw_cfg_add_file(fw, "etc/smbios/smbios-tables", b.tables, b.tables_len);
	if (!ret)
		ret = fw_cfg_add_file(fw, "etc/smbios/smbios-anchor", b.anchor,
				      sizeof(b.anchor));
	smbios_blobs_free(&b);
	return ret;
}

int smbios_uuid_generate(uint8_t uuid[16])
{
	size_t got = 0;

	while (got < 16) {
		ssize_t n = getrandom(uuid + got, 16 - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	/* RFC 4122 §4.4: version 4 in the high nibble of time_hi_and_version,
	 * variant 10x in clock_seq_hi_and_reserved. */
	uuid[6] = (uint8_t)((uuid[6] & 0x0F) | 0x40);
	uuid[8] = (uint8_t)((uuid[8] & 0x3F) | 0x80);
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int smbios_uuid_parse(const char *s, uint8_t uuid[16])
{
	uint8_t u[16];
	unsigned int n = 0;

	if (!s || strlen(s) != 36)
		return -EINVAL;
	for (unsigned int i = 0; i < 36; i++) {
		int hi, lo;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -EINVAL;
			continue;
		}
		/* Digits come in pairs that never straddle a dash. */
		hi = hexval(s[i]);
		lo = hexval(s[i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		u[n++] = (uint8_t)(hi << 4 | lo);
		i++;
	}
	memcpy(uuid, u, sizeof(u));
	return 0;
}
