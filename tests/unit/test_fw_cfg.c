// SPDX-License-Identifier: MIT
/*
 * Unit tests for fw_cfg: ports and DMA, driven the way OVMF's QemuFwCfgLib
 * drives them (test_e820.c covers the files put in it). DMA goes into a
 * real 64 MiB anonymous guest_mem, so the bounds checks are tested against
 * the same map a guest sees; hostile descriptors must end in the error bit
 * with every byte outside the target untouched.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/bus.h"
#include "firmware/fw_cfg.h"
#include "lib/log.h"
#include "lib/memory.h"

#define RAM_SIZE	(64 * MiB)
#define DESC		0x8000ULL	/* where tests put DMA descriptors */
#define BUF		0x10000ULL	/* and their buffers */

struct fixture {
	struct guest_mem mem;
	struct bus pio;
	struct fw_cfg *fw;
};

static struct fixture *fixture_new(uint64_t isa_rom)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(mem_layout(&f->mem, RAM_SIZE, isa_rom), 0);
	assert_int_equal(mem_alloc(&f->mem, MEM_BACKING_ANON, "/sys"), 0);
	assert_int_equal(bus_init(&f->pio, "pio"), 0);
	f->fw = fw_cfg_create(NULL, &f->mem);
	assert_non_null(f->fw);
	assert_int_equal(fw_cfg_attach(f->fw, &f->pio), 0);
	return f;
}

static int setup(void **state)
{
	*state = fixture_new(128 * KiB);
	return 0;
}

static int setup_no_isa_alias(void **state)
{
	*state = fixture_new(0);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	fw_cfg_destroy(f->fw);
	assert_int_equal(f->pio.nr_ranges, 0);
	bus_exit(&f->pio);
	mem_free(&f->mem);
	free(f);
	return 0;
}

/* ---- the guest's side, as OVMF's QemuFwCfgLib does it ---------------- */

static void sel(struct fixture *f, uint16_t key)
{
	uint8_t b[2] = { (uint8_t)key, (uint8_t)(key >> 8) };

	assert_int_equal(bus_write(&f->pio, FW_CFG_PORT_SEL, b, 2), 0);
}

static void rd(struct fixture *f, void *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(bus_read(&f->pio, FW_CFG_PORT_DATA, (uint8_t *)buf + i, 1), 0);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint8_t *gptr(struct fixture *f, uint64_t gpa, uint64_t len)
{
	void *p = NULL;

	assert_int_equal(guest_mem_ptr(&f->mem, gpa, len, &p), 0);
	return p;
}

/* Start the descriptor at desc with two 32-bit big-endian writes, high
 * half first (QemuFwCfgPei.c InternalQemuFwCfgDmaBytes). */
static void dma_kick(struct fixture *f, uint64_t desc)
{
	uint8_t hi[4], lo[4];

	put_be32(hi, (uint32_t)(desc >> 32));
	put_be32(lo, (uint32_t)desc);
	assert_int_equal(bus_write(&f->pio, FW_CFG_PORT_DMA, hi, 4), 0);
	assert_int_equal(bus_write(&f->pio, FW_CFG_PORT_DMA + 4, lo, 4), 0);
}

/* Write a descriptor into guest RAM at DESC, run it, return the control
 * word the device left there. */
static uint32_t dma(struct fixture *f, uint32_t control, uint32_t len, uint64_t addr)
{
	uint8_t *d = gptr(f, DESC, 16);

	put_be32(d, control);
	put_be32(d + 4, len);
	put_be32(d + 8, (uint32_t)(addr >> 32));
	put_be32(d + 12, (uint32_t)addr);
	dma_kick(f, DESC);
	return be32(d);
}

static uint32_t ctl_select(uint16_t key, uint32_t op)
{
	return (uint32_t)key << 16 | FW_CFG_DMA_CTL_SELECT | op;
}

/* ---- port interface ------------------------------------------------- */

static void test_signature_and_id(void **state)
{
	struct fixture *f = *state;
	uint8_t b[4], w[2];

	sel(f, FW_CFG_SIGNATURE);
	rd(f, b, 4);
	assert_memory_equal(b, "QEMU", 4);
	sel(f, FW_CFG_ID);
	rd(f, b, 4);
	/* Traditional interface and DMA. */
	assert_int_equal(b[0], 0x03);
	assert_int_equal(b[1] | b[2] | b[3], 0);

	/* The data port overlaps the selector's upper byte; QEMU decodes
	 * 8-bit reads at 0x510 as data reads too. */
	sel(f, FW_CFG_SIGNATURE);
	assert_int_equal(bus_read(&f->pio, FW_CFG_PORT_SEL, b, 1), 0);
	assert_int_equal(b[0], 'Q');
	/* A 16-bit read is not a data read: all-ones, offset unchanged. */
	assert_int_equal(bus_read(&f->pio, FW_CFG_PORT_SEL, w, 2), 0);
	assert_int_equal(w[0] & w[1], 0xff);
	rd(f, b, 1);
	assert_int_equal(b[0], 'E');
	/* ... and a 16-bit access at 0x511 runs off the device. */
	assert_int_equal(bus_read(&f->pio, FW_CFG_PORT_DATA, w, 2), -ENOENT);
	/* 8-bit data writes are no-ops since QEMU 2.4. */
	b[0] = 0;
	assert_int_equal(bus_write(&f->pio, FW_CFG_PORT_DATA, b, 1), 0);
	sel(f, FW_CFG_SIGNATURE);
	rd(f, b, 4);
	assert_memory_equal(b, "QEMU", 4);
}

static void test_dma_register_signature(void **state)
{
	struct fixture *f = *state;
	uint8_t b[8];

	assert_int_equal(bus_read(&f->pio, FW_CFG_PORT_DMA, b, 8), 0);
	assert_memory_equal(b, "QEMU CFG", 8);
	assert_int_equal(bus_read(&f->pio, FW_CFG_PORT_DMA + 4, b, 4), 0);
	assert_memory_equal(b, " CFG", 4);
	assert_int_equal(bus_read(&f->pio, FW_CFG_PORT_DMA + 7, b, 1), 0);
	assert_int_equal(b[0], 'G');
	/* 0x512-0x513 belong to nobody. */
	assert_int_equal(bus_read(&f->pio, 0x512, b, 1), -ENOENT);
}

static void test_file_directory(void **state)
{
	struct fixture *f = *state;
	static const char *names[] = { "z", "etc/b", "bootorder", "etc/a" };
	static const char *sorted[] = { "bootorder", "etc/a", "etc/b", "z" };
	static const uint32_t sizes[] = { 0, 7, 3, 1 };	/* of sorted[] */
	uint8_t hdr[4], e[64], data[8];

	assert_int_equal(fw_cfg_add_file(f->fw, names[0], "z", 1), 0);
	assert_int_equal(fw_cfg_add_file(f->fw, names[1], "abc", 3), 0);
	assert_int_equal(fw_cfg_add_file(f->fw, names[2], NULL, 0), 0);
	assert_int_equal(fw_cfg_add_file(f->fw, names[3], "1234567", 7), 0);

	/* QemuFwCfgFindFile(): a BE32 count, then 64-byte entries. */
	sel(f, FW_CFG_FILE_DIR);
	rd(f, hdr, 4);
	assert_int_equal(be32(hdr), 4);
	for (unsigned int i = 0; i < 4; i++) {
		rd(f, e, sizeof(e));
		assert_int_equal(be32(e), sizes[i]);
		assert_int_equal(e[4] << 8 | e[5], FW_CFG_FILE_FIRST + i);
		assert_int_equal(e[6] | e[7], 0);
		assert_string_equal((char *)e + 8, sorted[i]);
		for (size_t j = 8 + strlen(sorted[i]); j < 64; j++)
			assert_int_equal(e[j], 0);
		assert_int_equal(fw_cfg_file_key(f->fw, sorted[i]), FW_CFG_FILE_FIRST + i);
	}
	rd(f, hdr, 1);		/* past the end */
	assert_int_equal(hdr[0], 0);

	sel(f, (uint16_t)fw_cfg_file_key(f->fw, "etc/a"));
	rd(f, data, 7);
	assert_memory_equal(data, "1234567", 7);
	sel(f, (uint16_t)fw_cfg_file_key(f->fw, "etc/b"));
	rd(f, data, 3);
	assert_memory_equal(data, "abc", 3);
	assert_int_equal(fw_cfg_file_key(f->fw, "nope"), -ENOENT);
}

static void test_add_errors(void **state)
{
	struct fixture *f = *state;
	char name[FW_CFG_MAX_FILE_PATH + 1];

	assert_int_equal(fw_cfg_add_file(f->fw, "a", "x", 1), 0);
	assert_int_equal(fw_cfg_add_file(f->fw, "a", "y", 1), -EEXIST);
	assert_int_equal(fw_cfg_add_file(f->fw, "", "y", 1), -EINVAL);
	assert_int_equal(fw_cfg_add_file(f->fw, "b", NULL, 1), -EINVAL);
	memset(name, 'n', sizeof(name));
	name[FW_CFG_MAX_FILE_PATH] = '\0';
	assert_int_equal(fw_cfg_add_file(f->fw, name, "x", 1), -ENAMETOOLONG);
	name[FW_CFG_MAX_FILE_PATH - 1] = '\0';		/* 55 + NUL fits */
	assert_int_equal(fw_cfg_add_file(f->fw, name, "x", 1), 0);

	assert_int_equal(fw_cfg_add_i16(f->fw, FW_CFG_NB_CPUS, 2), 0);
	assert_int_equal(fw_cfg_add_i16(f->fw, FW_CFG_NB_CPUS, 2), -EEXIST);
	assert_int_equal(fw_cfg_add_i32(f->fw, FW_CFG_SIGNATURE, 0), -EINVAL);
	assert_int_equal(fw_cfg_add_i32(f->fw, FW_CFG_ID, 0), -EINVAL);
	assert_int_equal(fw_cfg_add_i32(f->fw, FW_CFG_FILE_DIR, 0), -EINVAL);
	assert_int_equal(fw_cfg_add_i32(f->fw, FW_CFG_FILE_FIRST, 0), -EINVAL);
	assert_int_equal(fw_cfg_add_i32(f->fw, FW_CFG_WRITE_CHANNEL | 5, 0), -EINVAL);
	assert_int_equal(fw_cfg_add_i32(f->fw, FW_CFG_IRQ0_OVERRIDE, 1), 0);
	assert_int_equal(fw_cfg_update_file(f->fw, "nope", "x", 1), -ENOENT);
}

static void test_selector_switch_resets_offset(void **state)
{
	struct fixture *f = *state;
	uint8_t b[4];

	assert_int_equal(fw_cfg_add_i16(f->fw, FW_CFG_NB_CPUS, 0x0102), 0);
	sel(f, FW_CFG_SIGNATURE);
	rd(f, b, 2);
	assert_memory_equal(b, "QE", 2);
	sel(f, FW_CFG_NB_CPUS);
	rd(f, b, 1);
	assert_int_equal(b[0], 0x02);
	sel(f, FW_CFG_SIGNATURE);
	rd(f, b, 4);
	assert_memory_equal(b, "QEMU", 4);
	/* Reselecting the same item restarts it too. */
	sel(f, FW_CFG_NB_CPUS);
	rd(f, b, 1);
	sel(f, FW_CFG_NB_CPUS);
	rd(f, b, 2);
	assert_int_equal(b[0] | b[1] << 8, 0x0102);
	/* Bit 14 (the old write channel) selects the same item. */
	sel(f, FW_CFG_WRITE_CHANNEL | FW_CFG_SIGNATURE);
	rd(f, b, 4);
	assert_memory_equal(b, "QEMU", 4);
	/* Reset goes back to the signature. */
	sel(f, FW_CFG_NB_CPUS);
	fw_cfg_reset(f->fw);
	rd(f, b, 4);
	assert_memory_equal(b, "QEMU", 4);
}

static void test_read_past_end(void **state)
{
	struct fixture *f = *state;
	uint8_t b[8];

	assert_int_equal(fw_cfg_add_item(f->fw, FW_CFG_MACHINE_ID, "abc", 3), 0);
	sel(f, FW_CFG_MACHINE_ID);
	memset(b, 0x55, sizeof(b));
	rd(f, b, 8);
	/* Spec "Data Register": past the end, reads return 0x00. */
	assert_memory_equal(b, "abc\0\0\0\0\0", 8);
	/* Keys nobody added read as zeros. */
	sel(f, 0x1234);
	memset(b, 0x55, sizeof(b));
	rd(f, b, 4);
	assert_memory_equal(b, "\0\0\0\0", 4);
	sel(f, FW_CFG_FILE_FIRST + 40);
	rd(f, b, 1);
	assert_int_equal(b[0], 0);
}

/* ---- DMA ------------------------------------------------------------ */

static void fill_pattern(uint8_t *p, size_t n, unsigned int seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + seed);
}

static void test_dma_read(void **state)
{
	struct fixture *f = *state;
	uint8_t pat[1000], *g = gptr(f, BUF - 16, 1100);
	int key;

	fill_pattern(pat, sizeof(pat), 3);
	assert_int_equal(fw_cfg_add_file(f->fw, "etc/data", pat, sizeof(pat)), 0);
	key = fw_cfg_file_key(f->fw, "etc/data");
	memset(g, 0xAA, 1100);

	assert_int_equal(dma(f, ctl_select((uint16_t)key, FW_CFG_DMA_CTL_READ), 600, BUF), 0);
	assert_memory_equal(g + 16, pat, 600);
	/* Guard bytes on both sides untouched. */
	for (int i = 0; i < 16; i++)
		assert_int_equal(g[i], 0xAA);
	assert_int_equal(g[16 + 600], 0xAA);

	/* Continue at offset 600: 400 bytes of data, then zeros. */
	assert_int_equal(dma(f, FW_CFG_DMA_CTL_READ, 500, BUF), 0);
	assert_memory_equal(g + 16, pat + 600, 400);
	for (int i = 400; i < 500; i++)
		assert_int_equal(g[16 + i], 0);
	assert_memory_equal(g + 16 + 500, pat + 500, 100);	/* first read's */
	assert_int_equal(g[16 + 600], 0xAA);

	/* The address register is back to 0 after an operation: a low-half
	 * write alone addresses a descriptor below 4 GiB. */
	{
		uint8_t lo[4];
		uint8_t *d = gptr(f, DESC, 16);

		put_be32(d, ctl_select(FW_CFG_SIGNATURE, FW_CFG_DMA_CTL_READ));
		put_be32(d + 4, 4);
		put_be32(d + 8, 0);
		put_be32(d + 12, (uint32_t)BUF);
		put_be32(lo, (uint32_t)DESC);
		assert_int_equal(bus_write(&f->pio, FW_CFG_PORT_DMA + 4, lo, 4), 0);
		assert_int_equal(be32(d), 0);
		assert_memory_equal(g + 16, "QEMU", 4);
	}
}

static void test_dma_64bit_trigger(void **state)
{
	struct fixture *f = *state;
	uint8_t addr[8], *d = gptr(f, DESC, 16), *g = gptr(f, BUF, 8);

	put_be32(d, ctl_select(FW_CFG_ID, FW_CFG_DMA_CTL_READ));
	put_be32(d + 4, 4);
	put_be32(d + 8, 0);
	put_be32(d + 12, (uint32_t)BUF);
	memset(addr, 0, sizeof(addr));
	put_be32(addr + 4, (uint32_t)DESC);
	assert_int_equal(bus_write(&f->pio, FW_CFG_PORT_DMA, addr, 8), 0);
	assert_int_equal(be32(d), 0);
	assert_int_equal(g[0], 3);

	/* Widths and offsets QEMU refuses do nothing. */
	put_be32(d, ctl_select(FW_CFG_SIGNATURE, FW_CFG_DMA_CTL_READ));
	assert_int_equal(bus_write(&f->pio, FW_CFG_PORT_DMA + 6, addr + 6, 2), 0);
	assert_int_equal(bus_write(&f->pio, FW_CFG_PORT_DMA + 7, addr + 7, 1), 0);
	assert_int_equal(be32(d), ctl_select(FW_CFG_SIGNATURE, FW_CFG_DMA_CTL_READ));
}

static void test_dma_skip_and_select(void **state)
{
	struct fixture *f = *state;
	uint8_t pat[256], *g = gptr(f, BUF, 64);
	uint64_t n, err;
	int key;

	fill_pattern(pat, sizeof(pat), 9);
	assert_int_equal(fw_cfg_add_file(f->fw, "etc/s", pat, sizeof(pat)), 0);
	key = fw_cfg_file_key(f->fw, "etc/s");

	/* Select alone (no operation bits) succeeds and moves nothing. */
	assert_int_equal(dma(f, ctl_select((uint16_t)key, 0), 10, BUF), 0);
	assert_int_equal(dma(f, FW_CFG_DMA_CTL_SKIP, 100, 0), 0);
	assert_int_equal(dma(f, FW_CFG_DMA_CTL_READ, 10, BUF), 0);
	assert_memory_equal(g, pat + 100, 10);
	/* Read wins over skip when both are set (QEMU's order). */
	assert_int_equal(dma(f, FW_CFG_DMA_CTL_READ | FW_CFG_DMA_CTL_SKIP, 2, BUF), 0);
	assert_memory_equal(g, pat + 110, 2);
	/* Skipping past the end stops there; reads then give zeros. */
	assert_int_equal(dma(f, FW_CFG_DMA_CTL_SKIP, 0xFFFFFFFF, 0), 0);
	memset(g, 0x11, 4);
	assert_int_equal(dma(f, FW_CFG_DMA_CTL_READ, 4, BUF), 0);
	assert_memory_equal(g, "\0\0\0\0", 4);
	/* Port reads continue where DMA left off, and vice versa. */
	assert_int_equal(dma(f, ctl_select((uint16_t)key, FW_CFG_DMA_CTL_SKIP), 5, 0), 0);
	rd(f, g, 1);
	assert_int_equal(g[0], pat[5]);
	assert_int_equal(dma(f, FW_CFG_DMA_CTL_READ, 1, BUF), 0);
	assert_int_equal(g[0], pat[6]);
	/* Unknown control bits alone are a no-op. */
	assert_int_equal(dma(f, 0xFFE0, 8, 0), 0);
	fw_cfg_dma_stats(f->fw, &n, &err);
	assert_int_equal(n, 9);
	assert_int_equal(err, 0);
}

struct write_log {
	unsigned int calls;
	uint32_t offset, len;
	uint8_t seen[8];
	unsigned int selects;
};

static void log_write(void *opaque, const void *data, uint32_t offset, uint32_t len)
{
	struct write_log *w = opaque;

	w->calls++;
	w->offset = offset;
	w->len = len;
	memcpy(w->seen, data, 8);
}

static void log_select(void *opaque, void *data, uint32_t len)
{
	struct write_log *w = opaque;

	/* Lazy regeneration: rewrite the contents in place. */
	w->selects++;
	((uint8_t *)data)[0] = (uint8_t)('0' + w->selects);
}

static const struct fw_cfg_item_ops log_ops = {
	.select = log_select,
	.write = log_write,
};

static void test_dma_write(void **state)
{
	struct fixture *f = *state;
	struct write_log w = { 0 };
	uint8_t *g = gptr(f, BUF, 16), b[8];
	int wkey, rkey;

	assert_int_equal(fw_cfg_add_file_ops(f->fw, "etc/w", "ABCDEFGH", 8, true,
					     &log_ops, &w), 0);
	assert_int_equal(fw_cfg_add_file(f->fw, "etc/r", "abcdefgh", 8), 0);
	wkey = fw_cfg_file_key(f->fw, "etc/w");
	rkey = fw_cfg_file_key(f->fw, "etc/r");

	/* QemuFwCfgWriteBytes() after a skip: bytes 2..5. */
	memcpy(g, "wxyz", 4);
	assert_int_equal(dma(f, ctl_select((uint16_t)wkey, FW_CFG_DMA_CTL_SKIP), 2, 0), 0);
	assert_int_equal(w.selects, 1);
	assert_int_equal(dma(f, FW_CFG_DMA_CTL_WRITE, 4, BUF), 0);
	assert_int_equal(w.calls, 1);
	assert_int_equal(w.offset, 2);
	assert_int_equal(w.len, 4);
	assert_memory_equal(w.seen, "1Bwxyz", 6);
	/* The offset moved on: 2 more bytes fit, 3 do not, and a refused
	 * write changes nothing. */
	assert_int_equal(dma(f, FW_CFG_DMA_CTL_WRITE, 3, BUF), FW_CFG_DMA_CTL_ERROR);
	assert_int_equal(dma(f, FW_CFG_DMA_CTL_WRITE, 2, BUF), 0);
	assert_int_equal(dma(f, FW_CFG_DMA_CTL_WRITE, 1, BUF), FW_CFG_DMA_CTL_ERROR);
	assert_int_equal(w.calls, 2);
	sel(f, (uint16_t)wkey);		/* the select hook bumps byte 0 again */
	rd(f, b, 8);
	assert_memory_equal(b, "2Bwxyzwx", 8);

	/* Read-only files, numbered items and unknown keys refuse writes. */
	assert_int_equal(dma(f, ctl_select((uint16_t)rkey, FW_CFG_DMA_CTL_WRITE), 4, BUF),
			 FW_CFG_DMA_CTL_ERROR);
	assert_int_equal(dma(f, ctl_select(FW_CFG_SIGNATURE, FW_CFG_DMA_CTL_WRITE), 4, BUF),
			 FW_CFG_DMA_CTL_ERROR);
	assert_int_equal(dma(f, ctl_select(0x3000, FW_CFG_DMA_CTL_WRITE), 4, BUF),
			 FW_CFG_DMA_CTL_ERROR);
	sel(f, (uint16_t)rkey);
	rd(f, b, 8);
	assert_memory_equal(b, "abcdefgh", 8);
	sel(f, FW_CFG_SIGNATURE);
	rd(f, b, 4);
	assert_memory_equal(b, "QEMU", 4);
	/* A write whose source is not RAM is refused whole. */
	assert_int_equal(dma(f, ctl_select((uint16_t)wkey, FW_CFG_DMA_CTL_WRITE), 8,
			     MEM_VGA_BASE - 4), FW_CFG_DMA_CTL_ERROR);
	assert_int_equal(w.calls, 2);
}

/* Bytes [gpa, gpa + n) all hold v. */
static void assert_filled(struct fixture *f, uint64_t gpa, size_t n, uint8_t v)
{
	uint8_t *p = gptr(f, gpa, n);

	for (size_t i = 0; i < n; i++)
		assert_int_equal(p[i], v);
}

static void test_dma_hostile(void **state)
{
	struct fixture *f = *state;
	uint8_t pat[4096], b[4];
	uint64_t n0, err0, n, err;
	int key;

	fill_pattern(pat, sizeof(pat), 1);
	assert_int_equal(fw_cfg_add_file(f->fw, "etc/big", pat, sizeof(pat)), 0);
	key = fw_cfg_file_key(f->fw, "etc/big");
#define RD(len, addr) dma(f, ctl_select((uint16_t)key, FW_CFG_DMA_CTL_READ), len, addr)

	/* Outside RAM: above it, in the PCI hole, at the LAPIC. */
	assert_int_equal(RD(16, RAM_SIZE), FW_CFG_DMA_CTL_ERROR);
	assert_int_equal(RD(16, 0xD0000000ULL), FW_CFG_DMA_CTL_ERROR);
	assert_int_equal(RD(16, MEM_LAPIC_BASE), FW_CFG_DMA_CTL_ERROR);
	/* Into the VGA window, and straddling into it: nothing written, not
	 * even the part that is RAM. */
	memset(gptr(f, MEM_VGA_BASE - 256, 256), 0x5A, 256);
	assert_int_equal(RD(16, MEM_VGA_BASE), FW_CFG_DMA_CTL_ERROR);
	assert_int_equal(RD(512, MEM_VGA_BASE - 256), FW_CFG_DMA_CTL_ERROR);
	assert_filled(f, MEM_VGA_BASE - 256, 256, 0x5A);
	/* Into the isa-bios alias (ROM, not RAM) from below. */
	memset(gptr(f, 0xE0000 - 16, 16), 0x5A, 16);
	assert_int_equal(RD(32, 0xE0000 - 16), FW_CFG_DMA_CTL_ERROR);
	assert_filled(f, 0xE0000 - 16, 16, 0x5A);
	/* Off the end of RAM. */
	memset(gptr(f, RAM_SIZE - 16, 16), 0x5A, 16);
	assert_int_equal(RD(32, RAM_SIZE - 16), FW_CFG_DMA_CTL_ERROR);
	assert_filled(f, RAM_SIZE - 16, 16, 0x5A);
	/* Wrapping past 2^64, from an address that is not RAM and from one
	 * that would be after the wrap. */
	assert_int_equal(RD(0x200, 0xFFFFFFFFFFFFFF00ULL), FW_CFG_DMA_CTL_ERROR);
	assert_int_equal(RD(0xFFFFFFFF, 0xFFFFFFFF00000010ULL), FW_CFG_DMA_CTL_ERROR);
	/* Huge lengths from a valid start. */
	memset(gptr(f, BUF, 4096), 0x5A, 4096);
	assert_int_equal(RD(0xFFFFFFFF, BUF), FW_CFG_DMA_CTL_ERROR);
	assert_int_equal(RD(RAM_SIZE, BUF), FW_CFG_DMA_CTL_ERROR);
	assert_filled(f, BUF, 4096, 0x5A);
	assert_int_equal(dma(f, FW_CFG_DMA_CTL_WRITE, 0xFFFFFFFF, BUF), FW_CFG_DMA_CTL_ERROR);
	/* A refused read leaves the item's offset alone. */
	assert_int_equal(RD(8, BUF), 0);
	assert_memory_equal(gptr(f, BUF, 8), pat, 8);
	assert_int_equal(dma(f, FW_CFG_DMA_CTL_READ, 8, MEM_VGA_BASE - 4), FW_CFG_DMA_CTL_ERROR);
	assert_int_equal(dma(f, FW_CFG_DMA_CTL_READ, 8, BUF), 0);
	assert_memory_equal(gptr(f, BUF, 8), pat + 8, 8);
#undef RD

	/* The descriptor itself outside RAM: nothing to read, nowhere to
	 * report; the device just carries on. */
	fw_cfg_dma_stats(f->fw, &n0, &err0);
	dma_kick(f, MEM_VGA_BASE);
	dma_kick(f, MEM_LAPIC_BASE);
	dma_kick(f, 0xFFFFFFFFFFFFFFF8ULL);
	dma_kick(f, RAM_SIZE);
	fw_cfg_dma_stats(f->fw, &n, &err);
	assert_int_equal(n, n0 + 4);
	assert_int_equal(err, err0 + 4);
	/* A descriptor straddling the end of RAM: its control word is RAM,
	 * so the error lands there. */
	put_be32(gptr(f, RAM_SIZE - 8, 4), ctl_select(FW_CFG_SIGNATURE, FW_CFG_DMA_CTL_READ));
	dma_kick(f, RAM_SIZE - 8);
	assert_int_equal(be32(gptr(f, RAM_SIZE - 8, 4)), FW_CFG_DMA_CTL_ERROR);
	/* ... and it selected nothing: the port still reads "etc/big"
	 * where the last good read left it. */
	rd(f, b, 1);
	assert_int_equal(b[0], pat[16]);
	/* A descriptor straddling the VGA window likewise. */
	put_be32(gptr(f, MEM_VGA_BASE - 4, 4), ctl_select(FW_CFG_SIGNATURE, FW_CFG_DMA_CTL_READ));
	dma_kick(f, MEM_VGA_BASE - 4);
	assert_int_equal(be32(gptr(f, MEM_VGA_BASE - 4, 4)), FW_CFG_DMA_CTL_ERROR);
	/* The device still works. */
	assert_int_equal(dma(f, ctl_select(FW_CFG_SIGNATURE, FW_CFG_DMA_CTL_READ), 4, BUF), 0);
	assert_memory_equal(gptr(f, BUF, 4), "QEMU", 4);
}

/*
 * Found by fuzz_fw_cfg (tests/fuzz/corpus/fw_cfg/crash-control-word-straddles):
 * a descriptor whose 4-byte control word itself runs out of RAM, into the
 * VGA window or off the end of RAM. The transfer fails; the status write
 * must then be all or nothing like every other guest access here, not
 * the one byte that happens to be RAM.
 */
static void test_dma_control_word_straddles(void **state)
{
	struct fixture *f = *state;
	static const uint64_t at[] = { MEM_VGA_BASE - 1, MEM_VGA_BASE - 3, RAM_SIZE - 2,
				       0xE0000 - 1 };
	uint64_t n0, err0, n, err;

	fw_cfg_dma_stats(f->fw, &n0, &err0);
	for (unsigned int i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		uint64_t ram = (at[i] | 0xfff) + 1 - at[i];	/* RAM bytes before the edge */

		memset(gptr(f, at[i], ram), 0x5A, ram);
		dma_kick(f, at[i]);
		assert_filled(f, at[i], ram, 0x5A);
	}
	fw_cfg_dma_stats(f->fw, &n, &err);
	assert_int_equal(n, n0 + 4);
	assert_int_equal(err, err0 + 4);
	/* The device still works. */
	assert_int_equal(dma(f, ctl_select(FW_CFG_SIGNATURE, FW_CFG_DMA_CTL_READ), 4, BUF), 0);
	assert_memory_equal(gptr(f, BUF, 4), "QEMU", 4);
}

/* Without an isa-bios alias, 0xC0000-0xFFFFF and 1 MiB+ are two RAM
 * regions that touch: a buffer across 1 MiB is all RAM and must work. */
static void test_dma_across_touching_regions(void **state)
{
	struct fixture *f = *state;
	uint8_t pat[64];

	fill_pattern(pat, sizeof(pat), 5);
	assert_int_equal(fw_cfg_add_file(f->fw, "etc/x", pat, sizeof(pat)), 0);
	assert_int_equal(dma(f, ctl_select((uint16_t)fw_cfg_file_key(f->fw, "etc/x"),
					   FW_CFG_DMA_CTL_READ), 64, MEM_ISA_BIOS_END - 32), 0);
	assert_memory_equal(gptr(f, MEM_ISA_BIOS_END - 32, 32), pat, 32);
	assert_memory_equal(gptr(f, MEM_ISA_BIOS_END, 32), pat + 32, 32);
	/* The descriptor may straddle the seam too. */
	{
		uint8_t *d1 = gptr(f, MEM_ISA_BIOS_END - 8, 8), *d2 = gptr(f, MEM_ISA_BIOS_END, 8);

		put_be32(d1, ctl_select(FW_CFG_SIGNATURE, FW_CFG_DMA_CTL_READ));
		put_be32(d1 + 4, 4);
		put_be32(d2, 0);
		put_be32(d2 + 4, (uint32_t)BUF);
		dma_kick(f, MEM_ISA_BIOS_END - 8);
		assert_int_equal(be32(d1), 0);
		assert_memory_equal(gptr(f, BUF, 4), "QEMU", 4);
	}
}

static void test_update_file(void **state)
{
	struct fixture *f = *state;
	uint8_t hdr[4], e[64], b[16];
	int key;

	assert_int_equal(fw_cfg_add_file(f->fw, "bootorder", NULL, 0), 0);
	assert_int_equal(fw_cfg_add_file(f->fw, "etc/z", "z", 1), 0);
	key = fw_cfg_file_key(f->fw, "bootorder");
	assert_int_equal(fw_cfg_update_file(f->fw, "bootorder", "/pci@i0cf8/x\n", 13), 0);
	assert_int_equal(fw_cfg_file_key(f->fw, "bootorder"), key);
	sel(f, FW_CFG_FILE_DIR);
	rd(f, hdr, 4);
	rd(f, e, 64);
	assert_int_equal(be32(e), 13);
	assert_string_equal((char *)e + 8, "bootorder");
	sel(f, (uint16_t)key);
	rd(f, b, 13);
	assert_memory_equal(b, "/pci@i0cf8/x\n", 13);
	assert_int_equal(fw_cfg_update_file(f->fw, "bootorder", NULL, 0), 0);
	sel(f, (uint16_t)key);
	rd(f, b, 1);
	assert_int_equal(b[0], 0);
}

struct racer {
	struct fixture *f;
	uint64_t desc, buf;
	int key;
	unsigned char seed;
	int bad;
};

/* Each thread selects its own file by DMA and reads it whole; with the
 * device lock, no transfer sees another's selection. */
static void *race(void *arg)
{
	struct racer *r = arg;
	uint8_t *d, *g, pat[512];

	fill_pattern(pat, sizeof(pat), r->seed);
	assert_int_equal(guest_mem_ptr(&r->f->mem, r->desc, 16, (void **)&d), 0);
	assert_int_equal(guest_mem_ptr(&r->f->mem, r->buf, 512, (void **)&g), 0);
	for (int i = 0; i < 300; i++) {
		uint8_t a[8] = { 0 };

		put_be32(d, ctl_select((uint16_t)r->key, FW_CFG_DMA_CTL_READ));
		put_be32(d + 4, 512);
		put_be32(d + 8, 0);
		put_be32(d + 12, (uint32_t)r->buf);
		/* The 8-byte form: OVMF's two 4-byte writes would race with
		 * other vCPUs' on the one address register, in QEMU as here
		 * (a firmware runs fw_cfg on one CPU at a time). */
		put_be32(a + 4, (uint32_t)r->desc);
		bus_write(&r->f->pio, FW_CFG_PORT_DMA, a, 8);
		if (be32(d) != 0 || memcmp(g, pat, 512))
			r->bad++;
	}
	return NULL;
}

static void test_concurrent_dma(void **state)
{
	struct fixture *f = *state;
	struct racer r[4];
	pthread_t t[4];
	uint8_t pat[512];
	char name[16];

	for (int i = 0; i < 4; i++) {
		fill_pattern(pat, sizeof(pat), (unsigned int)(i * 31));
		snprintf(name, sizeof(name), "etc/race%d", i);
		assert_int_equal(fw_cfg_add_file(f->fw, name, pat, sizeof(pat)), 0);
	}
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "etc/race%d", i);
		r[i] = (struct racer){
			.f = f, .desc = DESC + 64 * (uint64_t)i,
			.buf = BUF + 4096 * (uint64_t)i,
			.key = fw_cfg_file_key(f->fw, name),
			.seed = (unsigned char)(i * 31),
		};
		assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(r[i].bad, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_signature_and_id),
		T(test_dma_register_signature),
		T(test_file_directory),
		T(test_add_errors),
		T(test_selector_switch_resets_offset),
		T(test_read_past_end),
		T(test_dma_read),
		T(test_dma_64bit_trigger),
		T(test_dma_skip_and_select),
		T(test_dma_write),
		T(test_dma_hostile),
		T(test_dma_control_word_straddles),
		cmocka_unit_test_setup_teardown(test_dma_across_touching_regions,
						setup_no_isa_alias, teardown),
		T(test_update_file),
		T(test_concurrent_dma),
#undef T
	};

	log_threshold = LOG_ERROR;
	return cmocka_run_group_tests_name("fw_cfg", tests, NULL, NULL);
}
