// SPDX-License-Identifier: MIT
/*
 * Unit tests for the CFI pflash: every command, the read-array memslot
 * coming and going in the fake VM ("romd"), OVMF's detection and write
 * sequences, persistence to a temporary file across destroy/create,
 * read-only flash, and bad arguments.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "devices/bus.h"
#include "devices/pflash.h"
#include "lib/log.h"
#include "tests/unit/fake_vm.h"

#define GPA	0xffc00000ULL
#define SIZE	(8 * PFLASH_SECTOR_SIZE)

struct fixture {
	struct fake_vm fvm;
	struct bus mmio;
	char path[64];
	int fd;
	struct pflash *pf;
};

static uint8_t pattern(uint64_t off)
{
	return (uint8_t)(off * 7 + (off >> 12));
}

static int make_file(struct fixture *f, uint64_t size)
{
	uint8_t *buf = malloc(size);

	assert_non_null(buf);
	strcpy(f->path, "/tmp/minivmm-pflash-XXXXXX");
	f->fd = mkstemp(f->path);
	assert_true(f->fd >= 0);
	for (uint64_t i = 0; i < size; i++)
		buf[i] = pattern(i);
	assert_int_equal(pwrite(f->fd, buf, size, 0), (ssize_t)size);
	free(buf);
	return f->fd;
}

static int setup_common(void **state, bool readonly)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	fake_vm_init(&f->fvm);
	assert_int_equal(bus_init(&f->mmio, "mmio"), 0);
	make_file(f, SIZE);
	f->pf = pflash_create(&f->fvm.ops, &f->mmio, GPA, f->fd, SIZE, readonly);
	assert_non_null(f->pf);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_common(state, false);
}

static int setup_ro(void **state)
{
	return setup_common(state, true);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pflash_destroy(f->pf);
	for (unsigned int i = 0; i < FAKE_VM_MAX_SLOTS; i++)
		assert_false(f->fvm.slots[i].used);
	assert_int_equal(f->mmio.nr_ranges, 0);
	bus_exit(&f->mmio);
	close(f->fd);
	unlink(f->path);
	free(f);
	return 0;
}

/* The one memslot, or NULL. */
static struct fake_memslot *slot(struct fixture *f)
{
	struct fake_memslot *s = NULL;

	for (unsigned int i = 0; i < FAKE_VM_MAX_SLOTS; i++) {
		if (!f->fvm.slots[i].used)
			continue;
		assert_null(s);
		s = &f->fvm.slots[i];
	}
	return s;
}

static uint8_t rd8(struct fixture *f, uint64_t off)
{
	uint8_t v = 0;

	assert_int_equal(bus_read(&f->mmio, GPA + off, &v, 1), 0);
	return v;
}

static uint32_t rd(struct fixture *f, uint64_t off, unsigned int len)
{
	uint8_t b[8];

	assert_int_equal(bus_read(&f->mmio, GPA + off, b, len), 0);
	return (uint32_t)bus_data_get(b, len);
}

static void wr8(struct fixture *f, uint64_t off, uint8_t v)
{
	assert_int_equal(bus_write(&f->mmio, GPA + off, &v, 1), 0);
}

static void wr(struct fixture *f, uint64_t off, uint32_t v, unsigned int len)
{
	uint8_t b[8];

	bus_data_put(b, len, v);
	assert_int_equal(bus_write(&f->mmio, GPA + off, b, len), 0);
}

static uint8_t file8(struct fixture *f, uint64_t off)
{
	uint8_t v;

	assert_int_equal(pread(f->fd, &v, 1, (off_t)off), 1);
	return v;
}

static void test_read_array_memslot(void **state)
{
	struct fixture *f = *state;
	struct fake_memslot *s = slot(f);

	assert_non_null(s);
	assert_int_equal(s->gpa, GPA);
	assert_int_equal(s->size, SIZE);
	assert_int_equal(s->flags, VM_MEMSLOT_READONLY);
	assert_ptr_equal(s->hva, pflash_data(f->pf));
	assert_int_equal(pflash_size(f->pf), SIZE);
	for (uint64_t i = 0; i < SIZE; i += 509)
		assert_int_equal(((uint8_t *)s->hva)[i], pattern(i));
	/* Trapped reads in read-array mode serve the same data. */
	assert_int_equal(rd8(f, 0x1234), pattern(0x1234));
	assert_int_equal(rd(f, 0x10, 4), pattern(0x10) | pattern(0x11) << 8 |
			 pattern(0x12) << 16 | (uint32_t)pattern(0x13) << 24);
}

/* QemuFlashDetected(): write 50h, read, write 70h, read, write FFh. */
static void test_ovmf_detection(void **state)
{
	struct fixture *f = *state;
	uint64_t probe = 0x100;
	uint8_t orig = rd8(f, probe);

	wr8(f, probe, 0x50);
	/* Clear status keeps read-array (and the memslot): still data. */
	assert_non_null(slot(f));
	assert_int_equal(rd8(f, probe), orig);
	wr8(f, probe, 0x70);
	assert_null(slot(f));
	/* Cleared status is 00h: "FD behaves as FLASH". */
	assert_int_equal(rd8(f, probe), 0x00);
	wr8(f, probe, 0xff);
	assert_non_null(slot(f));
	assert_int_equal(rd8(f, probe), orig);
	assert_int_equal(file8(f, probe), orig);
}

/* QemuFlashWrite(): 10h + byte per byte, FFh at the end. */
static void test_program(void **state)
{
	struct fixture *f = *state;
	static const char msg[] = "BootOrder";

	for (unsigned int i = 0; i < sizeof(msg); i++) {
		wr8(f, 0x2000 + i, 0x10);
		assert_null(slot(f));
		wr8(f, 0x2000 + i, (uint8_t)msg[i]);
		/* Reads return the status (ready) until read-array. */
		assert_int_equal(rd8(f, 0x2000 + i), 0x80);
		assert_int_equal(file8(f, 0x2000 + i), (uint8_t)msg[i]);
	}
	wr8(f, 0x2000 + sizeof(msg) - 1, 0xff);
	assert_non_null(slot(f));
	assert_memory_equal((uint8_t *)slot(f)->hva + 0x2000, msg, sizeof(msg));
	/* 40h is the alternate program command; a dword program writes 4. */
	wr8(f, 0x3000, 0x40);
	wr(f, 0x3000, 0xdeadbeef, 4);
	assert_int_equal(rd(f, 0x3000, 4), 0x80808080);
	wr8(f, 0, 0xff);
	assert_int_equal(rd(f, 0x3000, 4), 0xdeadbeef);
	assert_int_equal(file8(f, 0x3003), 0xde);
}

/* QemuFlashEraseBlock(): 20h, D0h; no FFh afterwards. */
static void test_erase(void **state)
{
	struct fixture *f = *state;

	wr8(f, 0x2000, 0x20);
	assert_null(slot(f));
	wr8(f, 0x2abc, 0xd0);				/* block address of the confirm */
	assert_int_equal(rd8(f, 0x2000), 0x80);
	for (uint64_t i = 0x2000; i < 0x3000; i++)
		assert_int_equal(file8(f, i), 0xff);
	assert_int_equal(file8(f, 0x1fff), pattern(0x1fff));
	assert_int_equal(file8(f, 0x3000), pattern(0x3000));
	/* The next sequence starts straight from the status mode. */
	wr8(f, 0x2000, 0x10);
	wr8(f, 0x2000, 0x5a);
	wr8(f, 0x2000, 0xff);
	assert_int_equal(((uint8_t *)slot(f)->hva)[0x2000], 0x5a);
	assert_int_equal(((uint8_t *)slot(f)->hva)[0x2001], 0xff);
	/* 20h then FFh, or then garbage: abandoned, nothing erased. */
	wr8(f, 0x4000, 0x20);
	wr8(f, 0x4000, 0xff);
	assert_non_null(slot(f));
	assert_int_equal(file8(f, 0x4000), pattern(0x4000));
	wr8(f, 0x4000, 0x20);
	wr8(f, 0x4000, 0x42);
	assert_non_null(slot(f));
	assert_int_equal(file8(f, 0x4000), pattern(0x4000));
	/* The last block. */
	wr8(f, SIZE - 1, 0x20);
	wr8(f, SIZE - 1, 0xd0);
	assert_int_equal(file8(f, SIZE - PFLASH_SECTOR_SIZE), 0xff);
	assert_int_equal(file8(f, SIZE - 1), 0xff);
}

static void test_status_and_clear(void **state)
{
	struct fixture *f = *state;

	wr8(f, 0, 0x70);
	assert_int_equal(rd8(f, 0), 0x80);		/* ready from the start */
	assert_int_equal(rd(f, 0x1000, 2), 0x8080);
	wr8(f, 0, 0x50);
	assert_non_null(slot(f));
	wr8(f, 0, 0x70);
	assert_int_equal(rd8(f, 0), 0x00);
	wr8(f, 0, 0x10);
	assert_int_equal(rd8(f, 0), 0x00);		/* waiting for the data */
	wr8(f, 0, 0x33);
	assert_int_equal(rd8(f, 0), 0x80);
	wr8(f, 0, 0x00);				/* 00h, like FFh */
	assert_non_null(slot(f));
	assert_int_equal(rd8(f, 0), 0x33);
	/* Unknown command: back to read-array. */
	wr8(f, 0, 0x77);
	assert_non_null(slot(f));
	assert_int_equal(rd8(f, 0), 0x33);
	wr8(f, 0, 0xf0);
	assert_non_null(slot(f));
}

static void test_read_id_and_cfi(void **state)
{
	struct fixture *f = *state;
	uint64_t blocks = SIZE / PFLASH_SECTOR_SIZE;

	wr8(f, 0, 0x90);
	assert_null(slot(f));
	assert_int_equal(rd8(f, 0), 0x89);
	assert_int_equal(rd8(f, 1), 0x18);
	assert_int_equal(rd8(f, 2), 0x00);		/* block unlocked */
	assert_int_equal(rd8(f, 0x3000), 0x89);
	assert_int_equal(rd8(f, 0x3001), 0x18);
	assert_int_equal(rd(f, 0, 2), 0x1889);
	wr8(f, 0, 0x98);				/* straight to query */
	assert_int_equal(rd8(f, 0x10), 'Q');
	assert_int_equal(rd8(f, 0x11), 'R');
	assert_int_equal(rd8(f, 0x12), 'Y');
	assert_int_equal(rd(f, 0x13, 2), 0x0001);	/* Intel command set */
	assert_int_equal(rd8(f, 0x15), 0x31);
	assert_int_equal(rd8(f, 0x27), 15);		/* 32 KiB */
	assert_int_equal(rd8(f, 0x2a), 8);
	assert_int_equal(rd8(f, 0x2c), 1);
	assert_int_equal(rd(f, 0x2d, 2), blocks - 1);
	assert_int_equal(rd(f, 0x2f, 2), PFLASH_SECTOR_SIZE >> 8);
	assert_int_equal(rd8(f, 0x31), 'P');
	assert_int_equal(rd8(f, 0x33), 'I');
	assert_int_equal(rd8(f, 0x50), 0);		/* past the table */
	assert_int_equal(rd8(f, 0x1010), 'Q');		/* low address bits */
	wr8(f, 0, 0xff);
	assert_non_null(slot(f));
	assert_int_equal(rd8(f, 0x10), pattern(0x10));
}

static void test_write_buffer(void **state)
{
	struct fixture *f = *state;

	wr8(f, 0x1100, 0xe8);
	assert_int_equal(rd8(f, 0x1100), 0x80);		/* buffer available */
	wr8(f, 0x1100, 3);				/* 4 bytes */
	wr8(f, 0x1101, 0xbb);
	wr(f, 0x1102, 0xddcc, 2);
	wr8(f, 0x1100, 0xaa);
	/* Nothing lands before the confirm. */
	assert_int_equal(file8(f, 0x1100), pattern(0x1100));
	wr8(f, 0x1100, 0xd0);
	assert_int_equal(rd8(f, 0x1100), 0x80);
	assert_int_equal(file8(f, 0x1100), 0xaa);
	assert_int_equal(file8(f, 0x1103), 0xdd);
	assert_int_equal(file8(f, 0x1104), pattern(0x1104));
	/* Bad confirm: command sequence error, nothing written. */
	wr8(f, 0x50, 0x50);
	wr8(f, 0x1200, 0xe8);
	wr8(f, 0x1200, 0);
	wr8(f, 0x1200, 0x11);
	wr8(f, 0x1200, 0x42);
	assert_int_equal(rd8(f, 0x1200), 0xb0);
	assert_int_equal(file8(f, 0x1200), pattern(0x1200));
	/* Data outside the 256-byte window, or too much data. */
	wr8(f, 0, 0x50);
	wr8(f, 0x1300, 0xe8);
	wr8(f, 0x1300, 1);
	wr8(f, 0x1300, 0x11);
	wr8(f, 0x1400, 0x22);
	assert_int_equal(rd8(f, 0), 0xb0);
	wr8(f, 0, 0x50);
	wr8(f, 0x1300, 0xe8);
	wr8(f, 0x1300, 0);
	wr(f, 0x1300, 0x11223344, 4);
	assert_int_equal(rd8(f, 0), 0xb0);
	assert_int_equal(file8(f, 0x1300), pattern(0x1300));
	wr8(f, 0, 0xff);
	assert_non_null(slot(f));
}

static void test_lock_commands(void **state)
{
	struct fixture *f = *state;

	wr8(f, 0x1000, 0x60);
	wr8(f, 0x1000, 0x01);
	assert_int_equal(rd8(f, 0x1000), 0x80);
	wr8(f, 0x1000, 0x60);
	wr8(f, 0x1000, 0xd0);
	assert_int_equal(rd8(f, 0x1000), 0x80);
	wr8(f, 0x1000, 0x60);
	wr8(f, 0x1000, 0x99);
	assert_non_null(slot(f));
	/* Locking is not modelled: programming still works. */
	wr8(f, 0x1000, 0x10);
	wr8(f, 0x1000, 0x12);
	wr8(f, 0x1000, 0xff);
	assert_int_equal(file8(f, 0x1000), 0x12);
}

static void test_persistence(void **state)
{
	struct fixture *f = *state;

	wr8(f, 0x5000, 0x20);
	wr8(f, 0x5000, 0xd0);
	wr8(f, 0x5004, 0x10);
	wr8(f, 0x5004, 0x42);
	wr8(f, 0x5004, 0xff);
	pflash_destroy(f->pf);
	assert_null(slot(f));
	/* Next run: same file, a fresh device. */
	f->pf = pflash_create(&f->fvm.ops, &f->mmio, GPA, f->fd, SIZE, false);
	assert_non_null(f->pf);
	assert_int_equal(((uint8_t *)slot(f)->hva)[0x5004], 0x42);
	assert_int_equal(((uint8_t *)slot(f)->hva)[0x5000], 0xff);
	assert_int_equal(((uint8_t *)slot(f)->hva)[0x4fff], pattern(0x4fff));
	/* The caller's fd is not the device's: closing it changes nothing. */
	{
		int fd2 = open(f->path, O_RDWR);
		struct pflash *other;

		assert_true(fd2 >= 0);
		other = pflash_create(&f->fvm.ops, &f->mmio, GPA - SIZE, fd2, SIZE, false);
		assert_non_null(other);
		close(fd2);
		assert_int_equal(bus_write(&f->mmio, GPA - SIZE + 0x10, &(uint8_t){ 0x10 }, 1), 0);
		assert_int_equal(bus_write(&f->mmio, GPA - SIZE + 0x10, &(uint8_t){ 0x99 }, 1), 0);
		assert_int_equal(file8(f, 0x10), 0x99);
		pflash_destroy(other);
	}
}

static void test_readonly(void **state)
{
	struct fixture *f = *state;

	wr8(f, 0x100, 0x10);
	wr8(f, 0x100, 0x00);
	/* Program error, data untouched. */
	assert_int_equal(rd8(f, 0x100), 0x90);
	wr8(f, 0x100, 0x20);
	wr8(f, 0x100, 0xd0);
	assert_int_equal(rd8(f, 0x100), 0xb0);
	wr8(f, 0x100, 0xe8);
	wr8(f, 0x100, 0);
	wr8(f, 0x100, 0x00);
	wr8(f, 0x100, 0xd0);
	assert_int_equal(rd8(f, 0x100) & 0x90, 0x90);
	wr8(f, 0x100, 0xff);
	assert_int_equal(rd8(f, 0x100), pattern(0x100));
	assert_int_equal(((uint8_t *)slot(f)->hva)[0x100], pattern(0x100));
	for (uint64_t i = 0; i < PFLASH_SECTOR_SIZE; i += 97)
		assert_int_equal(file8(f, 0x100 + i), pattern(0x100 + i));
	/* IDs and CFI still answer. */
	wr8(f, 0, 0x90);
	assert_int_equal(rd8(f, 0), 0x89);
	wr8(f, 0, 0x50);
	wr8(f, 0, 0x70);
	assert_int_equal(rd8(f, 0), 0);
	wr8(f, 0, 0xff);
}

static void test_bad_args(void **state)
{
	struct fixture *f = *state;
	int rofd;

	/* Sizes: zero, not whole blocks, beyond the file, too large. */
	assert_null(pflash_create(&f->fvm.ops, &f->mmio, 0x1000000, f->fd, 0, false));
	assert_int_equal(errno, EINVAL);
	assert_null(pflash_create(&f->fvm.ops, &f->mmio, 0x1000000, f->fd, 0x1800, false));
	assert_int_equal(errno, EINVAL);
	assert_null(pflash_create(&f->fvm.ops, &f->mmio, 0x1000000, f->fd, SIZE * 2, false));
	assert_int_equal(errno, EINVAL);
	assert_null(pflash_create(&f->fvm.ops, &f->mmio, 0x1000000, f->fd,
				  PFLASH_MAX_SIZE + PFLASH_SECTOR_SIZE, false));
	assert_int_equal(errno, EINVAL);
	/* Addresses: unaligned, wrapping, over another range. */
	assert_null(pflash_create(&f->fvm.ops, &f->mmio, 0x1000800, f->fd, SIZE, false));
	assert_int_equal(errno, EINVAL);
	assert_null(pflash_create(&f->fvm.ops, &f->mmio, 0xfffffffffffff000ULL, f->fd,
				  SIZE, false));
	assert_int_equal(errno, EINVAL);
	assert_null(pflash_create(&f->fvm.ops, &f->mmio, GPA + 0x1000, f->fd, SIZE, false));
	assert_int_equal(errno, EEXIST);
	/* fds: none, and a read-only one for a writable flash. */
	assert_null(pflash_create(&f->fvm.ops, &f->mmio, 0x1000000, -1, SIZE, false));
	assert_int_equal(errno, EBADF);
	rofd = open(f->path, O_RDONLY);
	assert_true(rofd >= 0);
	assert_null(pflash_create(&f->fvm.ops, &f->mmio, 0x1000000, rofd, SIZE, false));
	assert_int_equal(errno, EBADF);
	{
		struct pflash *ro = pflash_create(&f->fvm.ops, &f->mmio, 0x1000000, rofd, SIZE,
						  true);

		assert_non_null(ro);
		pflash_destroy(ro);
	}
	close(rofd);
	/* Accesses the bus hands over at the very end of the flash. */
	assert_int_equal(rd8(f, SIZE - 1), pattern(SIZE - 1));
	assert_int_not_equal(bus_read(&f->mmio, GPA + SIZE - 2, &(uint32_t){ 0 }, 4), 0);
	assert_int_equal(f->mmio.nr_ranges, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_read_array_memslot),
		T(test_ovmf_detection),
		T(test_program),
		T(test_erase),
		T(test_status_and_clear),
		T(test_read_id_and_cfi),
		T(test_write_buffer),
		T(test_lock_commands),
		T(test_persistence),
		cmocka_unit_test_setup_teardown(test_readonly, setup_ro, teardown),
		T(test_bad_args),
#undef T
	};

	log_threshold = LOG_ERROR;
	return cmocka_run_group_tests_name("pflash", tests, NULL, NULL);
}
