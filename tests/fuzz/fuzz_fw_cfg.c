// SPDX-License-Identifier: MIT
/*
 * fw_cfg through its ports (selector 0x510, data 0x511, DMA address
 * 0x514-0x51B) with DMA into real guest RAM: mem_layout() + mem_alloc() of
 * 64 MiB with a 128 KiB isa-bios alias, i.e. with the VGA (0xA0000-
 * 0xBFFFF) and isa-bios (0xE0000-0xFFFFF) holes a VM has, or without the
 * alias (RAM regions that touch at 1 MiB), as the first input byte says. The device holds
 * what a q35 VM serves (the q35 items, SMBIOS, the ACPI tables and their
 * loader script) plus a writable file with hooks. The fuzzer writes DMA
 * descriptors into guest RAM, near region edges or anywhere, and starts
 * transfers the ways OVMF does (two big-endian dwords, or one qword).
 *
 * Invariants: a transfer never writes guest memory outside the control
 * word of its descriptor and, for a successful READ, its buffer (bytes
 * around both are compared before and after each transfer); the control
 * word reads back 0 or the error bit; a READ whose buffer is wholly RAM
 * succeeds; the holes are never written (canary pattern); the write hook
 * only ever sees a range inside its file; what a DMA READ of an item
 * delivers equals what the data port gives for it (a second device with
 * the same items, read byte by byte).
 */
#include <errno.h>
#include <string.h>

#include "devices/bus.h"
#include "firmware/acpi.h"
#include "firmware/acpi_tables.h"
#include "firmware/fw_cfg.h"
#include "firmware/smbios.h"
#include "lib/memory.h"
#include "tests/fuzz/fuzz.h"

#define RAM_SIZE	(64 * MiB)
#define ISA_ROM		(128 * KiB)
#define WFILE_SIZE	256
#define CANARY		0xcc
#define GUARD		256	/* bytes compared either side of what a DMA may write */

/* Two layouts: with a 128 KiB isa-bios alias (holes at 0xA0000 and
 * 0xE0000, no two RAM regions touch), and without one (0xC0000-0xFFFFF
 * runs straight into 1 MiB: two regions that touch, which the device's
 * ram_walk() must cross). The first input byte picks one. */
static struct guest_mem mems[2];
static struct guest_mem *gm;
static uint64_t isa_rom;
/* The tables as the machine serves them: rebuilt in the select hook of
 * "etc/acpi/tables" (no PCI root here: the start-up window again). */
static struct acpi_tables *acpi;
static uint8_t wfile_init[WFILE_SIZE];

/* Guest RAM the harness or a transfer may have written in this input:
 * zeroed again afterwards, so inputs do not see each other's leftovers. */
#define MAX_DIRTY	512
static struct { uint64_t gpa, len; } dirty[MAX_DIRTY];
static unsigned int nr_dirty;
static bool dirty_all;

static void mark_dirty(uint64_t gpa, uint64_t len)
{
	if (nr_dirty == MAX_DIRTY) {
		dirty_all = true;
		return;
	}
	dirty[nr_dirty].gpa = gpa;
	dirty[nr_dirty].len = len;
	nr_dirty++;
}

/* The backing covers guest-physical [0, RAM_SIZE) one to one, holes
 * included (memory.h): clamp a range to it. */
static bool backing_range(uint64_t gpa, uint64_t len, uint64_t *lo, uint64_t *hi)
{
	uint64_t end = gpa + len < gpa ? UINT64_MAX : gpa + len;

	*lo = gpa;
	*hi = end > RAM_SIZE ? RAM_SIZE : end;
	return *lo < *hi;
}

static void fill_holes(void)
{
	memset(gm->base + MEM_VGA_BASE, CANARY, MEM_VGA_END - MEM_VGA_BASE);
	memset(gm->base + MEM_ISA_BIOS_END - isa_rom, CANARY, isa_rom);
}

static void check_hole(uint64_t lo, uint64_t hi)
{
	static uint8_t ref[ISA_ROM];

	if (ref[0] != CANARY)
		memset(ref, CANARY, sizeof(ref));
	for (uint64_t a = lo; a < hi; a += sizeof(ref)) {
		uint64_t n = hi - a < sizeof(ref) ? hi - a : sizeof(ref);

		if (!memcmp(gm->base + a, ref, n))
			continue;
		while (gm->base[a] == CANARY)
			a++;
		FZ_CHECK(0, "guest memory hole at %#llx was written", (unsigned long long)a);
	}
}

static void check_holes(void)
{
	check_hole(MEM_VGA_BASE, MEM_VGA_END);
	check_hole(MEM_ISA_BIOS_END - isa_rom, MEM_ISA_BIOS_END);
}

static void clean_ram(void)
{
	if (dirty_all) {
		memset(gm->base, 0, RAM_SIZE);
	} else {
		for (unsigned int i = 0; i < nr_dirty; i++) {
			uint64_t lo, hi;

			if (backing_range(dirty[i].gpa, dirty[i].len, &lo, &hi))
				memset(gm->base + lo, 0, hi - lo);
		}
	}
	nr_dirty = 0;
	dirty_all = false;
	fill_holes();
}

/* ---- the writable file's hooks ------------------------------------------ */

static uint32_t wfile_len;	/* the file's size now (updates change it) */

static void wfile_select(void *opaque, void *data, uint32_t len)
{
	FZ_CHECK(len == wfile_len, "select hook got length %u of a %u-byte file", len, wfile_len);
}

static void wfile_write(void *opaque, const void *data, uint32_t offset, uint32_t len)
{
	FZ_CHECK(offset <= wfile_len && len <= wfile_len - offset,
		 "write hook got [%u, +%u) of a %u-byte file", offset, len, wfile_len);
}

static const struct fw_cfg_item_ops wfile_ops = { .select = wfile_select, .write = wfile_write };

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct acpi_config cfg;

	for (unsigned int i = 0; i < 2; i++) {
		gm = &mems[i];
		isa_rom = i ? 0 : ISA_ROM;
		if (mem_layout(gm, RAM_SIZE, isa_rom) || mem_alloc(gm, MEM_BACKING_ANON, "/sys"))
			abort();
		memset(gm->base, 0, RAM_SIZE);
		fill_holes();
	}
	gm = &mems[0];
	acpi_config_init(&cfg);
	cfg.nr_cpus = 4;
	cfg.ram_low_end = gm->low_end;
	cfg.pci32_start = gm->low_end;
	cfg.pci32_end = MEM_IOAPIC_BASE;
	acpi_ovmf_pci64_window(0, &cfg.pci64_base, &cfg.pci64_size);
	acpi = acpi_tables_create(NULL, &cfg, NULL);
	for (unsigned int i = 0; i < WFILE_SIZE; i++)
		wfile_init[i] = (uint8_t)i;
	return 0;
}

static struct fw_cfg *build(struct bus *pio)
{
	static const uint8_t uuid[16] = { 0x6b, 0x1f, 0x3c, 0x2e };
	struct fw_cfg_q35_config q35 = {
		.mem = gm, .nr_cpus = 4, .uuid = uuid, .nographic = true,
		.msr_feature_control = FEATURE_CONTROL_LOCKED,
	};
	struct smbios_config sm = { .nr_cpus = 4, .mem = gm, .serial = "fuzz" };
	struct fw_cfg *fw = fw_cfg_create(NULL, gm);
	int ret;

	if (!fw)
		return NULL;
	ret = fw_cfg_attach(fw, pio);
	if (!ret)
		ret = fw_cfg_add_q35_defaults(fw, &q35);
	if (!ret)
		ret = smbios_install(fw, &sm);
	if (!ret && acpi)
		ret = acpi_tables_add_fw_cfg(acpi, fw);
	if (!ret)
		ret = fw_cfg_add_file_ops(fw, "fuzz/writable", wfile_init, WFILE_SIZE, true,
					  &wfile_ops, NULL);
	if (!ret)
		ret = fw_cfg_add_file(fw, "fuzz/one", "x", 1);
	if (ret) {
		fw_cfg_destroy(fw);
		return NULL;
	}
	return fw;
}

/* ---- addresses ------------------------------------------------------------- */

/* An address near something interesting: a region edge, a hole, the
 * end of RAM, or anything at all. */
static uint64_t fz_gpa(struct fz *f)
{
	static const uint64_t anchor[] = {
		0x1000, MEM_VGA_BASE, MEM_VGA_END, MEM_ISA_BIOS_END - ISA_ROM,
		MEM_ISA_BIOS_END, RAM_SIZE, 0x200000, 0,
	};
	uint8_t sel = fz_u8(f);

	if (sel >= 0xf0)
		return fz_u64(f);
	return anchor[sel % 8] + (uint64_t)(int64_t)(int16_t)fz_u16(f);
}

static uint32_t fz_length(struct fz *f)
{
	uint8_t sel = fz_u8(f);

	switch (sel >> 6) {
	case 0:
	case 1:
		return sel & 0x7f;
	case 2:
		return fz_u16(f);
	default:
		return fz_u32(f);
	}
}

/* ---- DMA with the invariant check --------------------------------------- */

struct window {
	uint64_t lo, hi;
	uint8_t *before;
};

static void window_take(struct window *w, uint64_t gpa, uint64_t len)
{
	uint64_t lo = gpa > GUARD ? gpa - GUARD : 0;
	uint64_t end = gpa + len + GUARD < gpa ? UINT64_MAX : gpa + len + GUARD;

	w->before = NULL;
	if (!backing_range(lo, end - lo, &w->lo, &w->hi))
		return;
	w->before = malloc(w->hi - w->lo);
	FZ_CHECK(w->before, "out of memory");
	memcpy(w->before, gm->base + w->lo, w->hi - w->lo);
}

static bool inside(uint64_t a, uint64_t lo, uint64_t len)
{
	return a >= lo && a - lo < len;
}

/* Every changed byte of w must be in [ok1, +len1) or [ok2, +len2). */
static void window_check(struct window *w, uint64_t ok1, uint64_t len1,
			 uint64_t ok2, uint64_t len2)
{
	if (!w->before)
		return;
	for (uint64_t a = w->lo; a < w->hi; a++)
		FZ_CHECK(w->before[a - w->lo] == gm->base[a] || inside(a, ok1, len1) ||
			 inside(a, ok2, len2),
			 "DMA wrote %#llx, outside the control word at %#llx and the buffer [%#llx, +%#llx)",
			 (unsigned long long)a, (unsigned long long)ok1, (unsigned long long)ok2,
			 (unsigned long long)len2);
	free(w->before);
	w->before = NULL;
}

/* Is every byte of [gpa, gpa + len) RAM (in any region)? Written
 * independently of the device's ram_walk(), which it checks. */
static bool ram_range(uint64_t gpa, uint64_t len)
{
	if (len && gpa + (len - 1) < gpa)
		return false;
	while (len) {
		uint64_t chunk = 0;

		for (unsigned int i = 0; i < gm->nr_regions; i++) {
			const struct mem_region *r = &gm->regions[i];

			if (gpa >= r->gpa && gpa - r->gpa < r->size)
				chunk = r->size - (gpa - r->gpa);
		}
		if (!chunk)
			return false;
		if (chunk >= len)
			break;
		gpa += chunk;
		len -= chunk;
	}
	return true;
}

/* The guest's own accesses to its RAM (regions' backing offsets equal
 * their addresses below 4 GiB, memory.h). */
static bool gwrite(uint64_t gpa, const void *p, uint64_t len)
{
	if (!len)
		return true;
	if (!ram_range(gpa, len))
		return false;
	memcpy(gm->base + gpa, p, len);
	mark_dirty(gpa, len);
	return true;
}

static bool gread(uint64_t gpa, void *p, uint64_t len)
{
	if (!len)
		return true;
	if (!ram_range(gpa, len))
		return false;
	memcpy(p, gm->base + gpa, len);
	return true;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * The address register as the device keeps it (fw_cfg.rst): a dword
 * write at 0x514 sets the high half and clears the low one, a dword at
 * 0x518 completes the address and starts a transfer, so does a qword at
 * 0x514; a transfer or a reset leaves it 0. Returns whether this write
 * starts a transfer, and from which descriptor address.
 */
static uint64_t dma_high;

/*
 * A second device with the same items, read only through the data port:
 * what a successful DMA READ with SELECT put in guest RAM must equal what
 * the port path gives for the same item (zeroes past its end included).
 * The writable file is left out: DMA writes change it on one side only.
 */
static struct fw_cfg *shadow;
static struct bus shadow_pio;
static int wfile_key;

static void check_against_ports(uint16_t key, uint64_t addr, uint32_t length)
{
	uint8_t want[4096];

	if ((key & (FW_CFG_ARCH_LOCAL | FW_CFG_ENTRY_MASK)) == wfile_key || length > sizeof(want))
		return;
	fz_bus_write(&shadow_pio, FW_CFG_PORT_SEL, key, 2);
	for (uint32_t i = 0; i < length; i++)
		want[i] = (uint8_t)fz_bus_read(&shadow_pio, FW_CFG_PORT_DATA, 1);
	FZ_CHECK(!memcmp(gm->base + addr, want, length),
		 "DMA READ of key %#x (%u bytes) differs from the data port's bytes", key, length);
}

static bool dma_port_model(unsigned int off, unsigned int len, const uint8_t *b, uint64_t *desc)
{
	if (len == 4 && off == 0) {
		dma_high = (uint64_t)get_be32(b) << 32;
		return false;
	}
	if ((len == 4 && off == 4) || (len == 8 && off == 0)) {
		*desc = len == 8 ? (uint64_t)get_be32(b) << 32 | get_be32(b + 4) :
				   dma_high | get_be32(b);
		dma_high = 0;
		return true;
	}
	return false;
}

/* A write to the DMA address ports; a transfer it starts is checked. */
static void dma_port_write(struct bus *pio, unsigned int off, const uint8_t *b, unsigned int len)
{
	uint64_t desc, addr;
	uint32_t control, length, status;
	struct window wd, wa, wt;
	uint8_t raw[16] = { 0 };
	bool desc_ram, status_ram, read;

	if (!dma_port_model(off, len, b, &desc)) {
		bus_write(pio, FW_CFG_PORT_DMA + off, b, len);
		return;
	}
	/* The descriptor as the device will read it. */
	desc_ram = ram_range(desc, 16);
	if (desc_ram)
		gread(desc, raw, 16);
	status_ram = ram_range(desc, 4);
	control = get_be32(raw);
	length = get_be32(raw + 4);
	addr = (uint64_t)get_be32(raw + 8) << 32 | get_be32(raw + 12);
	read = desc_ram && length && (control & FW_CFG_DMA_CTL_READ);
	if (getenv("FUZZ_TRACE"))
		fprintf(stderr, "dma desc %#llx: ctl %#x len %#x addr %#llx\n",
			(unsigned long long)desc, control, length, (unsigned long long)addr);

	window_take(&wd, desc, 16);
	window_take(&wa, addr, length < 4096 ? length : 4096);
	/* And the far end of a long buffer. */
	window_take(&wt, length > 4096 ? addr + length - 4096 : addr, length > 4096 ? 4096 : 0);
	bus_write(pio, FW_CFG_PORT_DMA + off, b, len);
	if (status_ram)
		mark_dirty(desc, 4);
	if (read)
		mark_dirty(addr, length);
	window_check(&wd, desc, status_ram ? 4 : 0, addr, read ? length : 0);
	window_check(&wa, desc, status_ram ? 4 : 0, addr, read ? length : 0);
	window_check(&wt, desc, status_ram ? 4 : 0, addr, read ? length : 0);
	if (!status_ram)
		return;
	gread(desc, raw, 4);
	status = get_be32(raw);
	FZ_CHECK(status == 0 || status == FW_CFG_DMA_CTL_ERROR,
		 "DMA control word reads back %#x", status);
	if (read)
		FZ_CHECK((status == 0) == ram_range(addr, length),
			 "READ into [%#llx, +%#x) gave status %#x", (unsigned long long)addr,
			 length, status);
	if (!desc_ram)
		FZ_CHECK(status != 0, "a descriptor at %#llx outside RAM was accepted",
			 (unsigned long long)desc);
	/* The buffer as the device left it (the control word, written last,
	 * must not be part of it). */
	if (read && !status && (control & FW_CFG_DMA_CTL_SELECT) &&
	    (addr >= desc + 4 || addr + length <= desc))
		check_against_ports((uint16_t)(control >> 16), addr, length);
}

/* Start a transfer with the descriptor at desc: as OVMF does (high
 * dword, then low dword), with one qword, or with the low dword only. */
static void dma_kick(struct bus *pio, uint64_t desc, uint8_t how)
{
	uint8_t b[8];

	put_be32(b, (uint32_t)(desc >> 32));
	put_be32(b + 4, (uint32_t)desc);
	switch (how % 3) {
	case 0:
		dma_port_write(pio, 0, b, 4);
		dma_port_write(pio, 4, b + 4, 4);
		break;
	case 1:
		dma_port_write(pio, 0, b, 8);
		break;
	default:
		dma_port_write(pio, 4, b + 4, 4);
		break;
	}
}

static void dma_op(struct bus *pio, struct fz *f)
{
	uint16_t key = fz_u16(f);
	uint8_t flags = fz_u8(f), how = fz_u8(f);
	uint32_t length = fz_length(f);
	uint64_t desc = fz_gpa(f), addr = fz_gpa(f);
	uint8_t raw[16];

	put_be32(raw, (uint32_t)key << 16 | (flags & 0x1f));
	put_be32(raw + 4, length);
	put_be32(raw + 8, (uint32_t)(addr >> 32));
	put_be32(raw + 12, (uint32_t)addr);
	/* The guest can only write its descriptor where there is RAM. */
	gwrite(desc, raw, sizeof(raw));
	dma_kick(pio, desc, how);
}

/* ---- operations ---------------------------------------------------------- */

enum {
	OP_SELECT,		/* u16 key */
	OP_READ,		/* n: n data-port bytes */
	OP_CTL,			/* dir|width|port, u32: any access to 0x510-0x511 */
	OP_DMA,			/* u16 key, flags, how, length, desc gpa, buffer gpa */
	OP_DMA_RAW,		/* how, gpa: start a transfer at whatever is there */
	OP_MEM,			/* gpa, n, n bytes: the guest writes RAM */
	OP_DMA_PORT,		/* dir|width|offset, u64: any access to 0x514-0x51B */
	OP_RESET,
	OP_UPDATE,		/* which, n, n bytes: the host replaces a file (reset) */
	NR_OPS,
};

static void run_op(struct fw_cfg *fw, struct bus *pio, struct fz *f)
{
	uint8_t op = fz_u8(f) % NR_OPS, a, n;

	switch (op) {
	case OP_SELECT:
		fz_bus_write(pio, FW_CFG_PORT_SEL, fz_u16(f), 2);
		break;
	case OP_READ:
		n = fz_u8(f);
		for (unsigned int i = 0; i < n; i++)
			fz_bus_read(pio, FW_CFG_PORT_DATA, 1);
		break;
	case OP_CTL:
		a = fz_u8(f);
		if (a & 1)
			fz_bus_write(pio, FW_CFG_PORT_SEL + ((a >> 1) & 1), fz_u32(f),
				     fz_width(a >> 2) > 4 ? 4 : fz_width(a >> 2));
		else
			fz_bus_read(pio, FW_CFG_PORT_SEL + ((a >> 1) & 1),
				    fz_width(a >> 2) > 4 ? 4 : fz_width(a >> 2));
		break;
	case OP_DMA:
		dma_op(pio, f);
		break;
	case OP_DMA_RAW:
		a = fz_u8(f);
		dma_kick(pio, fz_gpa(f), a);
		break;
	case OP_MEM: {
		uint8_t buf[256];
		uint64_t gpa = fz_gpa(f);

		n = fz_u8(f);
		n = (uint8_t)fz_bytes(f, buf, n);
		gwrite(gpa, buf, n);
		break;
	}
	case OP_DMA_PORT:
		a = fz_u8(f);
		if (a & 1) {
			uint8_t b[8];

			bus_data_put(b, 8, fz_u64(f));
			/* Big-endian register: the bytes as the guest writes them. */
			if (fz_width(a >> 4) <= 8 - ((a >> 1) & 7))
				dma_port_write(pio, (a >> 1) & 7, b, fz_width(a >> 4));
			else
				fz_bus_write(pio, FW_CFG_PORT_DMA + ((a >> 1) & 7),
					     bus_data_get(b, 8), fz_width(a >> 4));
		} else
			fz_bus_read(pio, FW_CFG_PORT_DMA + ((a >> 1) & 7), fz_width(a >> 4));
		break;
	case OP_RESET:
		fw_cfg_reset(fw);
		dma_high = 0;
		break;
	case OP_UPDATE: {
		static const char *const names[] = {
			"bootorder", "fuzz/writable", "fuzz/one", "etc/e820", "no/such/file",
		};
		const char *name = names[fz_u8(f) % 5];
		uint8_t buf[256];
		int key = fw_cfg_file_key(fw, name), ret;

		n = (uint8_t)fz_bytes(f, buf, fz_u8(f));
		ret = fw_cfg_update_file(fw, name, buf, n);
		FZ_CHECK(fw_cfg_update_file(shadow, name, buf, n) == ret, "the shadow disagrees");
		FZ_CHECK(ret == (key < 0 ? -ENOENT : 0), "updating %s (key %d): %d", name, key, ret);
		FZ_CHECK(fw_cfg_file_key(fw, name) == key, "%s moved from key %d", name, key);
		if (!ret && !strcmp(name, "fuzz/writable"))
			wfile_len = n;
		break;
	}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t transfers, errors;
	struct bus pio;
	struct fw_cfg *fw;
	struct fz f;

	fz_init(&f, data, size);
	gm = &mems[fz_u8(&f) & 1];
	isa_rom = gm == &mems[0] ? ISA_ROM : 0;
	bus_init(&pio, "pio");
	wfile_len = WFILE_SIZE;
	bus_init(&shadow_pio, "shadow-pio");
	fw = build(&pio);
	shadow = build(&shadow_pio);
	FZ_CHECK(fw && shadow, "cannot build the fw_cfg device");
	wfile_key = fw_cfg_file_key(fw, "fuzz/writable");
	dma_high = 0;
	while (fz_more(&f))
		run_op(fw, &pio, &f);
	check_holes();
	fw_cfg_dma_stats(fw, &transfers, &errors);
	FZ_CHECK(errors <= transfers, "%llu DMA errors in %llu transfers",
		 (unsigned long long)errors, (unsigned long long)transfers);
	fw_cfg_destroy(fw);
	fw_cfg_destroy(shadow);
	FZ_CHECK(pio.nr_ranges == 0, "ports left registered");
	bus_exit(&pio);
	bus_exit(&shadow_pio);
	clean_ram();
	return 0;
}
