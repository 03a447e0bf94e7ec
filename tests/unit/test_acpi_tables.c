// SPDX-License-Identifier: MIT
/*
 * The ACPI tables rebuilt when the firmware selects "etc/acpi/tables"
 * (firmware/acpi_tables.c): PCI0's 64-bit window covers every 64-bit BAR
 * and bridge prefetchable window programmed in config space, wherever the
 * firmware's aperture was — for RAM sizes from none to 1 TiB above 4 GiB
 * and guest physical address widths 36-52 (edk2 2022.11's dynamic window:
 * the top eighth of the address space) — and nothing else in the tables
 * changes: same length (the fw_cfg directory's), same 32-bit window and
 * MCFG.
 */
#include "firmware/acpi_tables.h"
#include "firmware/fw_cfg.h"
#include "devices/pcie_port.h"
#include "lib/memory.h"
#include "tests/unit/pci_test.h"

#define PORT_DEVFN	PCI_DEVFN(0x10, 0)
#define BAR64_SIZE	(2 * GiB)

struct tfix {
	struct fixture *pci;		/* pci_test.h: root on fake buses */
	struct guest_mem mem;
	struct bus fwpio;
	struct fw_cfg *fw;
	struct pcie_port *port;
	struct tdev *gpu;
	struct acpi_tables *t;
	struct acpi_config cfg;
	uint8_t *start;			/* the tables as built at start */
	size_t len;
};

static int tsetup(void **state)
{
	struct tfix *x = calloc(1, sizeof(*x));
	void *pci_state;

	assert_non_null(x);
	assert_int_equal(setup(&pci_state), 0);
	x->pci = pci_state;
	assert_int_equal(mem_layout(&x->mem, 64 * MiB, 0), 0);
	assert_int_equal(mem_alloc(&x->mem, MEM_BACKING_ANON, "/sys"), 0);
	assert_int_equal(bus_init(&x->fwpio, "fwpio"), 0);
	x->fw = fw_cfg_create(NULL, &x->mem);
	assert_non_null(x->fw);
	assert_int_equal(fw_cfg_attach(x->fw, &x->fwpio), 0);
	x->port = pcie_root_port_create(pci_root_bus(x->pci->root), PORT_DEVFN, 1);
	assert_non_null(x->port);
	/* A GPU's BAR1: 2 GiB, 64-bit, prefetchable, host memory. */
	x->gpu = new_dev(x->pci, 0, true);
	assert_int_equal(pci_dev_register_bar(&x->gpu->dev, 2,
					      PCI_BAR_MEM64 | PCI_BAR_PREFETCH | PCI_BAR_HOSTMEM,
					      BAR64_SIZE, NULL, NULL, "bar1"), 0);
	plug(x->pci, x->gpu, pcie_port_bus(x->port), PCI_DEVFN(0, 0));
	cfg_wr(x->pci, 0, PORT_DEVFN, PCI_PRIMARY_BUS, 0x010100, 4);	/* buses 1-1 */
	*state = x;
	return 0;
}

static int tteardown(void **state)
{
	struct tfix *x = *state;
	void *pci_state = x->pci;

	fw_cfg_destroy(x->fw);
	acpi_tables_destroy(x->t);
	bus_exit(&x->fwpio);
	mem_free(&x->mem);
	pcie_root_port_destroy(x->port);	/* unplugs the GPU */
	free(x->start);
	teardown(&pci_state);
	free(x);
	return 0;
}

/* The machine's configuration for this much RAM above 4 GiB. */
static void make_tables(struct tfix *x, uint64_t ram_high)
{
	acpi_config_init(&x->cfg);
	x->cfg.nr_cpus = 2;
	x->cfg.ram_low_end = ram_high ? 2 * GiB : 64 * MiB;
	x->cfg.ram_high_size = ram_high;
	x->cfg.pci32_start = x->cfg.ram_low_end;
	x->cfg.pci32_end = MEM_IOAPIC_BASE;
	acpi_ovmf_pci64_window(ram_high, &x->cfg.pci64_base, &x->cfg.pci64_size);
	acpi_tables_destroy(x->t);
	fw_cfg_destroy(x->fw);
	x->fw = fw_cfg_create(NULL, &x->mem);
	assert_non_null(x->fw);
	assert_int_equal(fw_cfg_attach(x->fw, &x->fwpio), 0);
	x->t = acpi_tables_create(NULL, &x->cfg, x->pci->root);
	assert_non_null(x->t);
	assert_int_equal(acpi_tables_add_fw_cfg(x->t, x->fw), 0);
	free(x->start);
	x->len = acpi_tables_blobs(x->t)->tables.len;
	x->start = malloc(x->len);
	assert_non_null(x->start);
	memcpy(x->start, acpi_tables_blobs(x->t)->tables.data, x->len);
}

/* What the firmware reads: select the file, read it byte by byte. */
static uint8_t *read_tables(struct tfix *x)
{
	int key = fw_cfg_file_key(x->fw, ACPI_FILE_TABLES);
	uint8_t sel[2], *buf = malloc(x->len);

	assert_true(key > 0);
	assert_non_null(buf);
	sel[0] = (uint8_t)key;
	sel[1] = (uint8_t)(key >> 8);
	assert_int_equal(bus_write(&x->fwpio, FW_CFG_PORT_SEL, sel, 2), 0);
	for (size_t i = 0; i < x->len; i++)
		assert_int_equal(bus_read(&x->fwpio, FW_CFG_PORT_DATA, buf + i, 1), 0);
	return buf;
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* PCI0's QWordMemory (ACPI 6.4 §6.4.3.5.1: 8A 2B 00, type 0 = memory):
 * the offset of the descriptor in buf. */
static size_t find_qword(const uint8_t *buf, size_t len)
{
	static const uint8_t hdr[] = { 0x8a, 0x2b, 0x00, 0x00 };
	size_t at = 0;
	int n = 0;

	for (size_t i = 0; i + 46 <= len; i++) {
		if (!memcmp(buf + i, hdr, sizeof(hdr))) {
			at = i;
			n++;
		}
	}
	assert_int_equal(n, 1);
	return at;
}

static void window_of(const uint8_t *buf, size_t len, uint64_t *min, uint64_t *max)
{
	size_t q = find_qword(buf, len);

	*min = le64(buf + q + 14);
	*max = le64(buf + q + 22);
	assert_int_equal(le64(buf + q + 38), *max - *min + 1);	/* _LEN */
}

/* Everything but the QWord's min/max/len and the DSDT's checksum (offset 9
 * of the DSDT header) is what was built at start: the 32-bit window, the
 * MCFG, the MADT. */
static void assert_only_window_changed(const uint8_t *start, const uint8_t *now, size_t len)
{
	size_t q = find_qword(now, len), dsdt = 0;

	for (size_t i = 0; i + 4 <= len; i++) {
		if (!memcmp(now + i, "DSDT", 4)) {
			dsdt = i;
			break;
		}
	}
	assert_true(dsdt > 0);
	for (size_t i = 0; i < len; i++) {
		bool window = (i >= q + 14 && i < q + 30) || (i >= q + 38 && i < q + 46);

		if (!window && i != dsdt + 9 && start[i] != now[i])
			fail_msg("byte %zu changed (%#x -> %#x) outside the 64-bit window", i,
				 start[i], now[i]);
	}
}

/* The firmware's placement: the root port's prefetchable window and the
 * BAR, both [base, base + size). */
static void program(struct tfix *x, uint64_t base, uint64_t size)
{
	uint64_t limit = base + size - 1;

	cfg_wr(x->pci, 0, PORT_DEVFN, PCI_PREF_MEMORY_BASE, (uint32_t)(base >> 16) & 0xfff0, 2);
	cfg_wr(x->pci, 0, PORT_DEVFN, PCI_PREF_MEMORY_LIMIT, (uint32_t)(limit >> 16) & 0xfff0, 2);
	cfg_wr(x->pci, 0, PORT_DEVFN, PCI_PREF_BASE_UPPER32, (uint32_t)(base >> 32), 4);
	cfg_wr(x->pci, 0, PORT_DEVFN, PCI_PREF_LIMIT_UPPER32, (uint32_t)(limit >> 32), 4);
	cfg_wr(x->pci, 1, PCI_DEVFN(0, 0), PCI_BASE_ADDRESS_0 + 8, (uint32_t)base, 4);
	cfg_wr(x->pci, 1, PCI_DEVFN(0, 0), PCI_BASE_ADDRESS_0 + 12, (uint32_t)(base >> 32), 4);
}

/* Every RAM size and address width: the window holds the BAR, stays above
 * RAM, and only the window changed. */
static void test_window_follows_firmware(void **state)
{
	static const uint64_t rams[] = { 0, 2 * GiB, 6 * GiB, 28 * GiB, 28 * GiB + 1,
					 100 * GiB, 1024 * GiB };
	struct tfix *x = *state;

	for (size_t r = 0; r < sizeof(rams) / sizeof(rams[0]); r++) {
		uint64_t ram_end = MEM_4G + rams[r], classic_base, classic_size;

		make_tables(x, rams[r]);
		classic_base = x->cfg.pci64_base;
		classic_size = x->cfg.pci64_size;
		for (unsigned int width = 36; width <= 52; width++) {
			/* edk2 2022.11 PlatformDynamicMmioWindow: the top
			 * 1/8 of the address space; classic otherwise. */
			uint64_t space = 1ULL << width, mmio = space >> 3;
			uint64_t base = mmio > classic_size ? space - mmio : classic_base;
			uint64_t min, max;
			uint8_t *now;

			if (base < ram_end || base + BAR64_SIZE > space)
				continue;
			program(x, base, BAR64_SIZE);
			now = read_tables(x);
			window_of(now, x->len, &min, &max);
			assert_true(min <= base);
			assert_true(max >= base + BAR64_SIZE - 1);
			assert_true(min >= ram_end);
			assert_true(max < space);
			/* The classic aperture stays declared too. */
			assert_true(min <= classic_base);
			assert_true(max >= classic_base + classic_size - 1);
			assert_only_window_changed(x->start, now, x->len);
			free(now);
		}
	}
}

/* Nothing programmed yet (or a firmware that places nothing up there):
 * the classic aperture, exactly what was built at start. */
static void test_nothing_programmed(void **state)
{
	struct tfix *x = *state;
	uint64_t min, max, rebuilds, base, size;
	uint8_t *now;

	make_tables(x, 6 * GiB);
	now = read_tables(x);
	assert_memory_equal(now, x->start, x->len);
	window_of(now, x->len, &min, &max);
	assert_int_equal(min, 32 * GiB);
	assert_int_equal(max, 64 * GiB - 1);
	acpi_tables_stats(x->t, &rebuilds, &base, &size);
	assert_int_equal(rebuilds, 1);
	assert_int_equal(base, 32 * GiB);
	free(now);
}

/* A 48 GiB BAR (what opt/ovmf/X-PciMmio64Mb makes room for) with the
 * classic aperture: the window grows past the 32 GiB default. */
static void test_big_bar(void **state)
{
	struct tfix *x = *state;
	struct tdev *big = new_dev(x->pci, 0, false);
	uint64_t min, max;
	uint8_t *now;

	assert_int_equal(pci_dev_register_bar(&big->dev, 0, PCI_BAR_MEM64 | PCI_BAR_HOSTMEM,
					      64 * GiB, NULL, NULL, "big"), 0);
	plug(x->pci, big, NULL, PCI_DEVFN(0x11, 0));
	make_tables(x, 0);
	cfg_wr(x->pci, 0, PCI_DEVFN(0x11, 0), PCI_BASE_ADDRESS_0, 0, 4);
	cfg_wr(x->pci, 0, PCI_DEVFN(0x11, 0), PCI_BASE_ADDRESS_0 + 4, (uint32_t)(64 * GiB >> 32), 4);
	now = read_tables(x);
	window_of(now, x->len, &min, &max);
	assert_int_equal(min, 32 * GiB);
	assert_int_equal(max, 128 * GiB - 1);
	assert_only_window_changed(x->start, now, x->len);
	free(now);
}

/* What cannot be the firmware's: a BAR over RAM, one being sized (all
 * ones), a disabled bridge window (base > limit). Ignored. */
static void test_ignores_impossible(void **state)
{
	struct tfix *x = *state;
	uint64_t min, max;
	uint8_t *now;

	make_tables(x, 6 * GiB);
	program(x, 8 * GiB, BAR64_SIZE);		/* inside RAM (4-10 GiB) */
	now = read_tables(x);
	window_of(now, x->len, &min, &max);
	assert_int_equal(min, 32 * GiB);
	assert_int_equal(max, 64 * GiB - 1);
	free(now);
	cfg_wr(x->pci, 1, PCI_DEVFN(0, 0), PCI_BASE_ADDRESS_0 + 8, 0xffffffff, 4);
	cfg_wr(x->pci, 1, PCI_DEVFN(0, 0), PCI_BASE_ADDRESS_0 + 12, 0xffffffff, 4);
	cfg_wr(x->pci, 0, PORT_DEVFN, PCI_PREF_MEMORY_BASE, 0xfff0, 2);
	cfg_wr(x->pci, 0, PORT_DEVFN, PCI_PREF_MEMORY_LIMIT, 0, 2);
	cfg_wr(x->pci, 0, PORT_DEVFN, PCI_PREF_BASE_UPPER32, 0x100, 4);
	cfg_wr(x->pci, 0, PORT_DEVFN, PCI_PREF_LIMIT_UPPER32, 0, 4);
	now = read_tables(x);
	window_of(now, x->len, &min, &max);
	assert_int_equal(min, 32 * GiB);
	assert_int_equal(max, 64 * GiB - 1);
	free(now);
}

static void test_cover(void **state)
{
	uint64_t base = 32 * GiB, size = 32 * GiB;

	acpi_pci64_window_cover(&base, &size, 40 * GiB, 41 * GiB);	/* inside */
	assert_int_equal(base, 32 * GiB);
	assert_int_equal(size, 32 * GiB);
	acpi_pci64_window_cover(&base, &size, 0xe000000000ULL, 0xe07fffffffULL);
	assert_int_equal(base, 32 * GiB);
	assert_int_equal(size, 0xe080000000ULL - 32 * GiB);
	acpi_pci64_window_cover(&base, &size, 16 * GiB, 17 * GiB);	/* below */
	assert_int_equal(base, 16 * GiB);
	base = 0;
	size = 0;
	acpi_pci64_window_cover(&base, &size, 16 * GiB, 17 * GiB - 1);	/* none before */
	assert_int_equal(base, 16 * GiB);
	assert_int_equal(size, GiB);
	acpi_pci64_window_cover(&base, &size, 2, 1);			/* empty span */
	assert_int_equal(base, 16 * GiB);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_window_follows_firmware, tsetup, tteardown),
		cmocka_unit_test_setup_teardown(test_nothing_programmed, tsetup, tteardown),
		cmocka_unit_test_setup_teardown(test_big_bar, tsetup, tteardown),
		cmocka_unit_test_setup_teardown(test_ignores_impossible, tsetup, tteardown),
		cmocka_unit_test(test_cover),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
