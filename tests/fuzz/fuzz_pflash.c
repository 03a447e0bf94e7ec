// SPDX-License-Identifier: MIT
/*
 * The CFI flash command state machine through the MMIO bus, on a memfd
 * backing of 16 sectors (64 KiB) at the OVMF vars address, writable or
 * read-only as the first input byte says.
 *
 * Invariants, after every access: the read-array memslot is there exactly
 * in read-array mode (probed: a read that returns data rather than status
 * or IDs) and maps the host copy read-only at the right place; a
 * read-only flash never changes; at the end of the input, the backing
 * file holds exactly the host copy, and everything is unregistered.
 */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "devices/bus.h"
#include "devices/pflash.h"
#include "tests/fuzz/fuzz.h"
#include "tests/unit/fake_vm.h"

#define GPA		0xffc00000ULL
#define SECTORS		16
#define SIZE		(SECTORS * PFLASH_SECTOR_SIZE)

static uint8_t initial[SIZE];

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* Something that is neither erased nor the status or ID bytes. */
	for (unsigned int i = 0; i < SIZE; i++)
		initial[i] = (uint8_t)(i * 7 + (i >> 12));
	return 0;
}

struct state {
	struct fake_vm fvm;
	struct bus mmio;
	struct pflash *pf;
	int fd;
	bool readonly;
};

static void check_memslot(struct state *s)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < FAKE_VM_MAX_SLOTS; i++) {
		const struct fake_memslot *m = &s->fvm.slots[i];

		if (!m->used)
			continue;
		n++;
		FZ_CHECK(m->gpa == GPA && m->size == SIZE && m->hva == pflash_data(s->pf) &&
			 (m->flags & VM_MEMSLOT_READONLY),
			 "memslot %u: %#llx+%#llx flags %#x", i, (unsigned long long)m->gpa,
			 (unsigned long long)m->size, m->flags);
	}
	FZ_CHECK(n <= 1, "%u memslots for one flash", n);
	fz_check_bus(&s->mmio, 0);
	FZ_CHECK(s->mmio.nr_ranges == 1, "the flash has %zu MMIO ranges", s->mmio.nr_ranges);
	if (s->readonly)
		FZ_CHECK(!memcmp(pflash_data(s->pf), initial, SIZE), "a read-only flash changed");
}

/* Read-array mode shows the contents; while mapped, reads would not
 * even exit. Probe a byte: the memslot must be there iff the read
 * returns data. Only a flash whose byte differs from every status, ID
 * and CFI value can tell, so compare against a byte the fuzzer cannot
 * have programmed to look like one (sector 15's last byte keeps
 * "initial" unless erased/programmed; then skip). */
static void check_mode(struct state *s)
{
	const uint8_t *data = pflash_data(s->pf);
	uint64_t off = SIZE - 1;
	bool slot = false;
	uint8_t v;

	if (data[off] != initial[off])
		return;
	for (unsigned int i = 0; i < FAKE_VM_MAX_SLOTS; i++)
		slot |= s->fvm.slots[i].used;
	v = (uint8_t)fz_bus_read(&s->mmio, GPA + off, 1);
	FZ_CHECK(slot == (v == initial[off]),
		 "memslot %s but a read returns %#x (data %#x)", slot ? "mapped" : "absent", v,
		 initial[off]);
}

static void check_file(struct state *s)
{
	static uint8_t buf[SIZE];

	FZ_CHECK(pread(s->fd, buf, SIZE, 0) == (ssize_t)SIZE, "short read of the backing");
	FZ_CHECK(!memcmp(buf, pflash_data(s->pf), SIZE),
		 "the backing file and the host copy differ");
}

enum {
	OP_READ,		/* width, u32 offset */
	OP_WRITE,		/* width, u32 offset, u64 */
	OP_CMD,			/* sector, command byte: a byte write at a sector start */
	OP_PROGRAM,		/* u32 offset, byte: 40h then the byte */
	OP_ERASE,		/* sector: 20h, D0h */
	OP_BUFFER,		/* u32 offset, n, n bytes: E8h, n-1, data, D0h */
	OP_CHECK,		/* the read-array probe */
	NR_OPS,
};

static void wr8(struct state *s, uint64_t off, uint8_t v)
{
	fz_bus_write(&s->mmio, GPA + off, v, 1);
}

static void run_op(struct state *s, struct fz *f)
{
	uint8_t op = fz_u8(f) % NR_OPS, a;
	uint32_t off;

	switch (op) {
	case OP_READ:
		a = fz_u8(f);
		/* Mostly inside, sometimes straddling the end. */
		fz_bus_read(&s->mmio, GPA + fz_u32(f) % (SIZE + 8), fz_width(a));
		break;
	case OP_WRITE: {
		unsigned int len;

		a = fz_u8(f);
		len = fz_width(a);
		off = fz_u32(f) % (SIZE + 8);
		fz_bus_write(&s->mmio, GPA + off, fz_u64(f), len);
		break;
	}
	case OP_CMD:
		a = fz_u8(f);
		wr8(s, (a % SECTORS) * PFLASH_SECTOR_SIZE, fz_u8(f));
		break;
	case OP_PROGRAM:
		off = fz_u32(f) % SIZE;
		wr8(s, off, 0x40);
		wr8(s, off, fz_u8(f));
		break;
	case OP_ERASE:
		off = (fz_u8(f) % SECTORS) * PFLASH_SECTOR_SIZE;
		wr8(s, off, 0x20);
		wr8(s, off, 0xd0);
		break;
	case OP_BUFFER: {
		uint8_t n;

		off = fz_u32(f) % SIZE;
		n = fz_u8(f);
		wr8(s, off, 0xe8);
		wr8(s, off, n);
		for (unsigned int i = 0; i <= n; i++)
			wr8(s, off + i, fz_u8(f));
		wr8(s, off, 0xd0);
		break;
	}
	case OP_CHECK:
		check_mode(s);
		break;
	}
	check_memslot(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state *s = calloc(1, sizeof(*s));
	struct fz f;

	FZ_CHECK(s, "out of memory");
	fz_init(&f, data, size);
	s->readonly = fz_u8(&f) & 1;
	fake_vm_init(&s->fvm);
	bus_init(&s->mmio, "mmio");
	s->fd = memfd_create("fuzz-pflash", MFD_CLOEXEC);
	FZ_CHECK(s->fd >= 0 && pwrite(s->fd, initial, SIZE, 0) == (ssize_t)SIZE,
		 "cannot make the backing");
	s->pf = pflash_create(&s->fvm.ops, &s->mmio, GPA, s->fd, SIZE, s->readonly);
	FZ_CHECK(s->pf, "cannot create the flash");
	check_memslot(s);
	while (fz_more(&f))
		run_op(s, &f);
	check_file(s);
	pflash_destroy(s->pf);
	for (unsigned int i = 0; i < FAKE_VM_MAX_SLOTS; i++)
		FZ_CHECK(!s->fvm.slots[i].used, "memslot %u left after destroy", i);
	FZ_CHECK(s->mmio.nr_ranges == 0, "MMIO range left after destroy");
	close(s->fd);
	bus_exit(&s->mmio);
	free(s);
	return 0;
}
