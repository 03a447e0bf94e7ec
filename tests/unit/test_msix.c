// SPDX-License-Identifier: MIT
/*
 * Unit tests for the shared MSI-X emulation (devices/msix.c) and its
 * vectors (devices/msi_vector.c), on the fake VM: power-on state, table
 * reads and writes (DWORD/QWORD only, reserved bits), masking with the
 * Pending bit delivered once on unmask in both masking modes, the PBA,
 * routes updated in place, the Function Mask, disable and reset back to
 * power-on, the owner's hooks, KVM refusing routes or irqfds, hostile
 * offsets and lengths, and notifications racing masking.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "devices/msix.h"
#include "lib/log.h"
#include "tests/unit/fake_vm.h"

#define NR		4
#define ADDR(apic)	(0xfee00000u | (apic) << 12)

struct fx {
	struct fake_vm vm;
	struct msix m;
	enum msi_vector_mode mode;
	/* hooks */
	unsigned int enables, disables, uses;
	unsigned int last_nr_unmasked;
	int enable_ret;
	uint32_t refuse;		/* vector_use fails for these */
	int use_fd;			/* what msix_vector_eventfd gave the hook */
	/* KVM refusing */
	bool fail_route, fail_irqfd;
	int (*add_msi_route)(void *, uint64_t, uint32_t, unsigned int *);
	int (*add_irqfd)(void *, unsigned int, int, int);
};

static int hook_enable(void *opaque, unsigned int nr_unmasked)
{
	struct fx *f = opaque;

	f->enables++;
	f->last_nr_unmasked = nr_unmasked;
	return f->enable_ret;
}

static void hook_disable(void *opaque)
{
	((struct fx *)opaque)->disables++;
}

static int hook_vector_use(void *opaque, unsigned int i)
{
	struct fx *f = opaque;

	f->uses++;
	f->use_fd = msix_vector_eventfd(&f->m, i);
	return f->refuse & (1u << i) ? -ENOSPC : 0;
}

static const struct msix_ops hooks = {
	.enable = hook_enable, .disable = hook_disable, .vector_use = hook_vector_use,
};

/* The fake VM is the first member of struct fx: its ops reach f too. */
static int refusing_route(void *vm, uint64_t addr, uint32_t data, unsigned int *gsi)
{
	struct fx *f = vm;

	return f->fail_route ? -ENOSPC : f->add_msi_route(vm, addr, data, gsi);
}

static int refusing_irqfd(void *vm, unsigned int gsi, int fd, int resample_fd)
{
	struct fx *f = vm;

	return f->fail_irqfd ? -EINVAL : f->add_irqfd(vm, gsi, fd, resample_fd);
}

static int fx_setup(void **state, enum msi_vector_mode mode, unsigned int nr,
		    const struct msix_ops *ops)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	fake_vm_init(&f->vm);
	f->mode = mode;
	if (msix_init(&f->m, &(struct msix_params){ .vm = &f->vm.ops, .name = "test-msix",
						   .nr = nr, .mode = mode, .ops = ops,
						   .opaque = f }))
		return -1;
	*state = f;
	return 0;
}

static int setup_gated(void **state)
{
	return fx_setup(state, MSI_VECTOR_GATED, NR, NULL);
}

static int setup_external(void **state)
{
	return fx_setup(state, MSI_VECTOR_EXTERNAL, NR, NULL);
}

static int setup_hooks(void **state)
{
	return fx_setup(state, MSI_VECTOR_EXTERNAL, NR, &hooks);
}

static int setup_big(void **state)
{
	/* 2048 entries: EXTERNAL, so no eventfd is opened before use. */
	return fx_setup(state, MSI_VECTOR_EXTERNAL, MSIX_MAX_VECTORS, NULL);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	msix_exit(&f->m);
	/* Everything the table asked of KVM is given back. */
	assert_int_equal(f->vm.nr_irqfds, 0);
	for (unsigned int i = 0; i < FAKE_VM_MAX_ROUTES; i++)
		assert_false(f->vm.routes[i].used);
	msix_exit(&f->m);	/* twice: harmless */
	free(f);
	return 0;
}

/* ---- helpers ---------------------------------------------------------------- */

static void wr32(struct fx *f, unsigned int entry, unsigned int dw, uint32_t v)
{
	msix_table_write(&f->m, entry * 16ULL + dw * 4, &v, 4);
}

static uint32_t rd32(struct fx *f, unsigned int entry, unsigned int dw)
{
	uint32_t v = 0;

	msix_table_read(&f->m, entry * 16ULL + dw * 4, &v, 4);
	return v;
}

/* What a driver does: address, data, then the mask bit. */
static void entry_set(struct fx *f, unsigned int i, uint32_t addr, uint32_t data, bool masked)
{
	wr32(f, i, MSIX_ADDR_LO, addr);
	wr32(f, i, MSIX_ADDR_HI, 0);
	wr32(f, i, MSIX_DATA, data);
	wr32(f, i, MSIX_CTRL, masked);
}

static uint64_t pba(struct fx *f)
{
	uint64_t v = ~0ULL;

	msix_pba_read(&f->m, 0, &v, 8);
	return v;
}

/* Read (and so consume) what the eventfd counts: 0 if nothing. */
static uint64_t fd_count(int fd)
{
	uint64_t n = 0;

	if (fd < 0 || read(fd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

static unsigned int nr_routes(struct fx *f)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < FAKE_VM_MAX_ROUTES; i++)
		n += f->vm.routes[i].used != 0;
	return n;
}

static struct fake_route *route_of(struct fx *f, unsigned int i)
{
	const struct msi_vector *v = &f->m.vec[i];

	assert_true(v->routed);
	assert_true(v->gsi >= FAKE_VM_FIRST_MSI_GSI);
	return &f->vm.routes[v->gsi - FAKE_VM_FIRST_MSI_GSI];
}

static bool irqfd_attached(struct fx *f, unsigned int i)
{
	const struct msi_vector *v = &f->m.vec[i];

	for (unsigned int k = 0; k < FAKE_VM_MAX_IRQFDS; k++)
		if (f->vm.irqfds[k].used && f->vm.irqfds[k].fd == v->fd &&
		    f->vm.irqfds[k].gsi == v->gsi)
			return true;
	return false;
}

/* ---- power-on state and table accesses ---------------------------------------- */

static void test_power_on(void **state)
{
	struct fx *f = *state;

	assert_false(msix_enabled(&f->m));
	for (unsigned int i = 0; i < NR; i++) {
		assert_int_equal(rd32(f, i, MSIX_ADDR_LO), 0);
		assert_int_equal(rd32(f, i, MSIX_ADDR_HI), 0);
		assert_int_equal(rd32(f, i, MSIX_DATA), 0);
		assert_int_equal(rd32(f, i, MSIX_CTRL), PCI_MSIX_ENTRY_CTRL_MASKBIT);
		/* GATED: eventfds open before any notify; EXTERNAL: on use. */
		if (f->mode == MSI_VECTOR_GATED)
			assert_true(f->m.vec[i].fd >= 0);
		else
			assert_int_equal(f->m.vec[i].fd, -1);
	}
	assert_int_equal(pba(f), 0);
	assert_int_equal(nr_routes(f), 0);
	assert_int_equal(f->vm.nr_irqfds, 0);
}

static void test_table_rw(void **state)
{
	struct fx *f = *state;
	uint64_t q = (uint64_t)0x12345678 << 32 | ADDR(3), r = 0;
	uint32_t d = 0;
	uint16_t w = 0;
	uint8_t b = 0;

	wr32(f, 1, MSIX_DATA, 0x4041);
	assert_int_equal(rd32(f, 1, MSIX_DATA), 0x4041);
	/* QWORD: address low + high, then data + control. */
	msix_table_write(&f->m, 2 * 16, &q, 8);
	assert_int_equal(rd32(f, 2, MSIX_ADDR_LO), ADDR(3));
	assert_int_equal(rd32(f, 2, MSIX_ADDR_HI), 0x12345678);
	msix_table_read(&f->m, 2 * 16, &r, 8);
	assert_int_equal(r, q);
	q = (uint64_t)1 << 32 | 0x55;
	msix_table_write(&f->m, 2 * 16 + 8, &q, 8);
	assert_int_equal(rd32(f, 2, MSIX_DATA), 0x55);
	assert_int_equal(rd32(f, 2, MSIX_CTRL), 1);
	/* Vector Control keeps the Mask Bit only (§6.8.2.9); address bits
	 * 1:0 stay 0 (§6.8.2.6). */
	wr32(f, 0, MSIX_CTRL, 0xfffffffe);
	assert_int_equal(rd32(f, 0, MSIX_CTRL), 0);
	wr32(f, 0, MSIX_CTRL, 0xffffffff);
	assert_int_equal(rd32(f, 0, MSIX_CTRL), 1);
	wr32(f, 0, MSIX_ADDR_LO, ADDR(1) | 3);
	assert_int_equal(rd32(f, 0, MSIX_ADDR_LO), ADDR(1));
	/* Bytes, words, unaligned DWORDs: dropped, and read all-ones. */
	b = 0x77;
	msix_table_write(&f->m, 1 * 16 + 8, &b, 1);
	w = 0x7777;
	msix_table_write(&f->m, 1 * 16 + 8, &w, 2);
	d = 0x77777777;
	msix_table_write(&f->m, 1 * 16 + 9, &d, 4);
	q = ~0ULL;
	msix_table_write(&f->m, 1 * 16 + 4, &q, 8);	/* QWORD at a DWORD offset */
	assert_int_equal(rd32(f, 1, MSIX_DATA), 0x4041);
	assert_int_equal(rd32(f, 1, MSIX_ADDR_HI), 0);
	msix_table_read(&f->m, 1 * 16 + 8, &b, 1);
	assert_int_equal(b, 0xff);
	msix_table_read(&f->m, 1 * 16 + 8, &w, 2);
	assert_int_equal(w, 0xffff);
	msix_table_read(&f->m, 1 * 16 + 10, &d, 4);
	assert_int_equal(d, 0xffffffff);
	msix_table_read(&f->m, 1 * 16 + 4, &q, 8);
	assert_int_equal(q, ~0ULL);
}

static void test_hostile_offsets(void **state)
{
	struct fx *f = *state;
	static const uint64_t offs[] = {
		NR * 16, NR * 16 + 4, 0x7fc, 0x800, 1ULL << 32, UINT64_MAX - 3, UINT64_MAX - 7,
		(uint64_t)UINT32_MAX * 16,
	};
	uint8_t buf[16];
	uint64_t v;

	for (unsigned int i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		v = 0x1234;
		msix_table_write(&f->m, offs[i], &v, 4);
		msix_table_write(&f->m, offs[i] & ~7ULL, &v, 8);
		v = 0;
		msix_table_read(&f->m, offs[i], &v, 4);
		assert_int_equal(v, 0xffffffff);
		/* Past the PBA, or wrapping around: zeroes. */
		memset(buf, 0xaa, sizeof(buf));
		msix_pba_read(&f->m, offs[i], buf, 8);
		for (unsigned int k = 0; k < 8; k++)
			assert_int_equal(buf[k], 0);
	}
	/* Lengths the bus never sends. */
	msix_table_write(&f->m, 0, buf, 0);
	msix_table_write(&f->m, 0, buf, 3);
	memset(buf, 0, sizeof(buf));
	msix_table_write(&f->m, 0, buf, 16);
	msix_table_read(&f->m, 0, buf, 16);
	for (unsigned int k = 0; k < 16; k++)
		assert_int_equal(buf[k], 0xff);
	msix_table_read(&f->m, 0, buf, 0);
	/* Nothing above reached an entry, or KVM. */
	for (unsigned int i = 0; i < NR; i++) {
		assert_int_equal(rd32(f, i, MSIX_ADDR_LO), 0);
		assert_int_equal(rd32(f, i, MSIX_CTRL), 1);
	}
	assert_int_equal(nr_routes(f), 0);
	/* Vectors past the table: ignored. */
	msix_notify(&f->m, NR);
	msix_notify(&f->m, UINT32_MAX);
	assert_int_equal(pba(f), 0);
}

static void test_big_table(void **state)
{
	struct fx *f = *state;
	uint32_t v = ADDR(5);
	uint8_t last;

	/* The last entry of a 2048-entry table, and one past it. */
	wr32(f, MSIX_MAX_VECTORS - 1, MSIX_ADDR_LO, v);
	assert_int_equal(rd32(f, MSIX_MAX_VECTORS - 1, MSIX_ADDR_LO), v);
	wr32(f, MSIX_MAX_VECTORS, MSIX_ADDR_LO, v);
	assert_int_equal(rd32(f, MSIX_MAX_VECTORS, MSIX_ADDR_LO), 0xffffffff);
	/* The PBA is 256 bytes: the last vector is bit 7 of byte 255. */
	assert_int_equal(msix_pba_size(MSIX_MAX_VECTORS), 256);
	assert_int_equal(msix_set_control(&f->m, true, false), 0);
	assert_true(msix_vector_eventfd(&f->m, MSIX_MAX_VECTORS - 1) >= 0);
	assert_true(msix_vector_eventfd(&f->m, MSIX_MAX_VECTORS) < 0);
	msix_notify(&f->m, MSIX_MAX_VECTORS - 1);
	msix_pba_read(&f->m, 255, &last, 1);
	assert_int_equal(last, 0x80);
	msix_pba_read(&f->m, 256, &last, 1);
	assert_int_equal(last, 0);
}

static void test_init_errors(void **state)
{
	struct fake_vm vm;
	struct msix m;

	(void)state;
	fake_vm_init(&vm);
	assert_int_equal(msix_init(&m, &(struct msix_params){ .vm = &vm.ops, .nr = 0 }), -EINVAL);
	msix_exit(&m);
	msix_reset(&m);
	assert_int_equal(msix_init(&m, &(struct msix_params){ .vm = &vm.ops,
							      .nr = MSIX_MAX_VECTORS + 1 }),
			 -EINVAL);
	assert_int_equal(msix_init(&m, &(struct msix_params){ .nr = 1 }), -EINVAL);
	msix_exit(&m);
}

/* ---- masking and pending -------------------------------------------------------- */

/* Signal vector i as its signaller would: minivmm or the host kernel. */
static void fire(struct fx *f, unsigned int i)
{
	uint64_t one = 1;

	if (f->mode == MSI_VECTOR_GATED) {
		msix_notify(&f->m, i);
		return;
	}
	/* VFIO's hooks open the eventfd before the host gets it. */
	assert_true(msi_vector_open(&f->m.vec[i]) >= 0);
	assert_int_equal(write(f->m.vec[i].fd, &one, sizeof(one)), sizeof(one));
}

/* How many interrupts KVM delivered for vector i since the last call:
 * GATED writes the attached eventfd (read it back here); EXTERNAL's
 * pending count is consumed by the (fake) KVM as it attaches the irqfd. */
static uint64_t delivered(struct fx *f, unsigned int i, unsigned int *injected)
{
	uint64_t n = fd_count(f->m.vec[i].fd);

	n += f->vm.irqfd_injected - *injected;
	*injected = f->vm.irqfd_injected;
	return n;
}

static void test_mask_pending(void **state)
{
	struct fx *f = *state;
	unsigned int inj = 0;

	assert_int_equal(msix_set_control(&f->m, true, false), 0);
	entry_set(f, 1, ADDR(1), 0x41, true);
	assert_int_equal(nr_routes(f), 0);
	/* Masked: twice signalled, one Pending bit, nothing delivered. */
	fire(f, 1);
	fire(f, 1);
	assert_int_equal(pba(f), 1u << 1);
	if (f->mode == MSI_VECTOR_GATED)
		assert_int_equal(delivered(f, 1, &inj), 0);
	/* Unmask: routed, attached, the message delivered once. */
	wr32(f, 1, MSIX_CTRL, 0);
	assert_int_equal(nr_routes(f), 1);
	assert_int_equal(route_of(f, 1)->addr, ADDR(1));
	assert_int_equal(route_of(f, 1)->data, 0x41);
	assert_true(irqfd_attached(f, 1));
	assert_int_equal(delivered(f, 1, &inj), 1);
	assert_int_equal(pba(f), 0);
	/* Unmasked: straight through, nothing pending. */
	fire(f, 1);
	assert_int_equal(pba(f), 0);
	if (f->mode == MSI_VECTOR_GATED)
		assert_int_equal(delivered(f, 1, &inj), 1);
	else
		assert_int_equal(fd_count(f->m.vec[1].fd), 1);	/* KVM's to consume */
	/* Masked again: GATED keeps the irqfd, EXTERNAL detaches it; the
	 * route stays either way. */
	wr32(f, 1, MSIX_CTRL, 1);
	assert_int_equal(irqfd_attached(f, 1), f->mode == MSI_VECTOR_GATED);
	assert_int_equal(nr_routes(f), 1);
	fire(f, 1);
	assert_int_equal(pba(f), 1u << 1);
	if (f->mode == MSI_VECTOR_GATED)
		assert_int_equal(delivered(f, 1, &inj), 0);
	wr32(f, 1, MSIX_CTRL, 0);
	assert_int_equal(delivered(f, 1, &inj), 1);
	assert_int_equal(pba(f), 0);
	assert_int_equal(nr_routes(f), 1);
	/* Unmask with nothing pending delivers nothing. */
	wr32(f, 1, MSIX_CTRL, 1);
	wr32(f, 1, MSIX_CTRL, 0);
	assert_int_equal(delivered(f, 1, &inj), 0);
}

static void test_route_in_place(void **state)
{
	struct fx *f = *state;
	struct fake_route *r;
	unsigned int gsi, updates;
	uint64_t q;

	assert_int_equal(msix_set_control(&f->m, true, false), 0);
	entry_set(f, 0, ADDR(0), 0x30, false);
	gsi = f->m.vec[0].gsi;
	r = route_of(f, 0);
	updates = r->updates;
	/* Data of an unmasked entry: the same route, updated once. */
	wr32(f, 0, MSIX_DATA, 0x31);
	assert_int_equal(f->m.vec[0].gsi, gsi);
	assert_int_equal(r->data, 0x31);
	assert_int_equal(r->updates, updates + 1);
	/* A QWORD address write: one update too; the irqfd never moved. */
	q = ADDR(2);
	msix_table_write(&f->m, 0, &q, 8);
	assert_int_equal(r->addr, ADDR(2));
	assert_int_equal(r->updates, updates + 2);
	assert_int_equal(nr_routes(f), 1);
	assert_true(irqfd_attached(f, 0));
	/* The same value again: no KVM call. */
	wr32(f, 0, MSIX_DATA, 0x31);
	assert_int_equal(r->updates, updates + 2);
	/* Masked, the guest retargets: the route follows on unmask only. */
	wr32(f, 0, MSIX_CTRL, 1);
	wr32(f, 0, MSIX_ADDR_LO, ADDR(6));
	assert_int_equal(r->addr, ADDR(2));
	wr32(f, 0, MSIX_CTRL, 0);
	assert_int_equal(r->addr, ADDR(6));
	assert_int_equal(f->m.vec[0].gsi, gsi);
	assert_int_equal(nr_routes(f), 1);
}

static void test_function_mask(void **state)
{
	struct fx *f = *state;
	unsigned int inj = 0;

	assert_int_equal(msix_set_control(&f->m, true, false), 0);
	for (unsigned int i = 0; i < 3; i++)
		entry_set(f, i, ADDR(i), 0x50 + i, false);
	assert_int_equal(nr_routes(f), 3);
	assert_int_equal(f->vm.nr_irqfds, 3);
	/* §6.8.2.3: every vector masked, the entries untouched. */
	assert_int_equal(msix_set_control(&f->m, true, true), 0);
	assert_int_equal(nr_routes(f), 3);
	assert_int_equal(f->vm.nr_irqfds, f->mode == MSI_VECTOR_GATED ? 3 : 0);
	assert_int_equal(rd32(f, 2, MSIX_CTRL), 0);
	fire(f, 2);
	assert_int_equal(pba(f), 1u << 2);
	if (f->mode == MSI_VECTOR_GATED)
		assert_int_equal(delivered(f, 2, &inj), 0);
	/* An entry unmasked under the Function Mask stays masked. */
	wr32(f, 3, MSIX_CTRL, 0);
	assert_int_equal(nr_routes(f), 3);
	assert_int_equal(msix_set_control(&f->m, true, false), 0);
	assert_int_equal(delivered(f, 2, &inj), 1);
	assert_int_equal(pba(f), 0);
	assert_int_equal(nr_routes(f), 4);
	assert_int_equal(f->vm.nr_irqfds, 4);
}

static void test_disable_enable(void **state)
{
	struct fx *f = *state;

	/* Entries programmed while disabled route nothing. */
	entry_set(f, 0, ADDR(0), 0x60, false);
	entry_set(f, 2, ADDR(2), 0x62, false);
	assert_int_equal(nr_routes(f), 0);
	assert_int_equal(msix_set_control(&f->m, true, false), 0);
	assert_true(msix_enabled(&f->m));
	assert_int_equal(nr_routes(f), 2);
	assert_int_equal(f->vm.nr_irqfds, 2);
	/* Disable: routes and irqfds gone, nothing pending, the table kept. */
	wr32(f, 2, MSIX_CTRL, 1);
	fire(f, 2);
	assert_int_equal(msix_set_control(&f->m, false, false), 0);
	assert_false(msix_enabled(&f->m));
	assert_int_equal(nr_routes(f), 0);
	assert_int_equal(f->vm.nr_irqfds, 0);
	assert_int_equal(pba(f), 0);
	assert_int_equal(rd32(f, 2, MSIX_DATA), 0x62);
	/* Enabled again: the unmasked entry comes back. */
	assert_int_equal(msix_set_control(&f->m, true, false), 0);
	assert_int_equal(nr_routes(f), 1);
	assert_true(irqfd_attached(f, 0));
}

static void test_reset(void **state)
{
	struct fx *f = *state;

	assert_int_equal(msix_set_control(&f->m, true, true), 0);
	for (unsigned int i = 0; i < NR; i++)
		entry_set(f, i, ADDR(i), 0x70 + i, i == 3);
	assert_int_equal(msix_set_control(&f->m, true, false), 0);
	fire(f, 3);
	assert_int_equal(pba(f), 1u << 3);
	assert_int_equal(nr_routes(f), 3);
	msix_reset(&f->m);
	/* Power-on: disabled, every entry zero and masked, nothing routed
	 * or pending; the Function Mask is clear. */
	assert_false(msix_enabled(&f->m));
	assert_int_equal(nr_routes(f), 0);
	assert_int_equal(f->vm.nr_irqfds, 0);
	assert_int_equal(pba(f), 0);
	for (unsigned int i = 0; i < NR; i++) {
		assert_int_equal(rd32(f, i, MSIX_ADDR_LO), 0);
		assert_int_equal(rd32(f, i, MSIX_DATA), 0);
		assert_int_equal(rd32(f, i, MSIX_CTRL), 1);
	}
	assert_false(f->m.fmask);
	/* Enabling routes nothing until the guest unmasks an entry. */
	assert_int_equal(msix_set_control(&f->m, true, false), 0);
	assert_int_equal(nr_routes(f), 0);
	entry_set(f, 1, ADDR(1), 0x91, false);
	assert_int_equal(nr_routes(f), 1);
	/* A reset of a disabled table is the same power-on state, even with
	 * a message that raced the disable (an I/O thread's notify). */
	assert_int_equal(msix_set_control(&f->m, false, false), 0);
	fire(f, 1);
	assert_int_equal(pba(f), 1u << 1);
	msix_reset(&f->m);
	assert_int_equal(pba(f), 0);
	assert_int_equal(rd32(f, 1, MSIX_CTRL), 1);
	assert_int_equal(nr_routes(f), 0);
}

/* ---- the owner's hooks ---------------------------------------------------------- */

static void test_hooks(void **state)
{
	struct fx *f = *state;

	/* enable sees how far the unmasked entries reach. */
	wr32(f, 2, MSIX_CTRL, 0);
	f->enable_ret = -EIO;
	assert_int_equal(msix_set_control(&f->m, true, false), -EIO);
	assert_int_equal(f->enables, 1);
	assert_int_equal(f->last_nr_unmasked, 3);
	/* Refused: MSI-X stays off, nothing routed; the next write retries. */
	assert_false(msix_enabled(&f->m));
	assert_int_equal(f->uses, 0);
	assert_int_equal(nr_routes(f), 0);
	f->enable_ret = 0;
	assert_int_equal(msix_set_control(&f->m, true, false), 0);
	assert_int_equal(f->enables, 2);
	assert_true(msix_enabled(&f->m));
	/* vector_use before each unmasked vector is routed; the hook can
	 * reach the eventfd it hands the host. */
	assert_int_equal(f->uses, 1);
	assert_int_equal(f->use_fd, f->m.vec[2].fd);
	assert_true(f->use_fd >= 0);
	assert_int_equal(nr_routes(f), 1);
	/* The owner cannot signal vector 1: it stays masked, unrouted. */
	f->refuse = 1u << 1;
	entry_set(f, 1, ADDR(1), 0x21, false);
	assert_int_equal(nr_routes(f), 1);
	assert_false(f->m.vec[1].routed);
	assert_int_equal(rd32(f, 1, MSIX_CTRL), 0);	/* the guest's view */
	/* Masked vectors never ask. */
	f->uses = 0;
	wr32(f, 0, MSIX_DATA, 1);
	assert_int_equal(f->uses, 0);
	/* disable: on Enable 1 -> 0, on reset and exit while enabled, only. */
	assert_int_equal(msix_set_control(&f->m, false, false), 0);
	assert_int_equal(f->disables, 1);
	msix_reset(&f->m);
	assert_int_equal(f->disables, 1);
	f->refuse = 0;
	assert_int_equal(msix_set_control(&f->m, true, false), 0);
	msix_reset(&f->m);
	assert_int_equal(f->disables, 2);
	assert_int_equal(msix_set_control(&f->m, true, false), 0);
	msix_exit(&f->m);
	assert_int_equal(f->disables, 3);
}

static void test_kvm_refuses(void **state)
{
	struct fx *f = *state;
	unsigned int inj = 0;

	f->add_msi_route = f->vm.ops.add_msi_route;
	f->add_irqfd = f->vm.ops.add_irqfd;
	f->vm.ops.add_msi_route = refusing_route;
	f->vm.ops.add_irqfd = refusing_irqfd;
	assert_int_equal(msix_set_control(&f->m, true, false), 0);
	/* No route: the vector stays masked and its messages pending. */
	f->fail_route = true;
	entry_set(f, 0, ADDR(0), 0x10, false);
	assert_false(f->m.vec[0].routed);
	if (f->mode == MSI_VECTOR_EXTERNAL)
		assert_true(f->m.vec[0].fd >= 0);	/* opened on the way */
	fire(f, 0);
	assert_int_equal(pba(f), 1);
	/* A route but no irqfd: the same. */
	f->fail_route = false;
	f->fail_irqfd = true;
	wr32(f, 0, MSIX_DATA, 0x11);
	assert_true(f->m.vec[0].routed);
	assert_false(f->m.vec[0].attached);
	assert_int_equal(pba(f), 1);
	if (f->mode == MSI_VECTOR_GATED)
		assert_int_equal(delivered(f, 0, &inj), 0);
	/* KVM agrees at last: delivered once, on the route it kept. */
	f->fail_irqfd = false;
	wr32(f, 0, MSIX_DATA, 0x12);
	assert_true(f->m.vec[0].attached);
	assert_int_equal(route_of(f, 0)->data, 0x12);
	assert_int_equal(delivered(f, 0, &inj), 1);
	assert_int_equal(pba(f), 0);
	assert_int_equal(nr_routes(f), 1);
}

/* ---- notifications racing the mask (GATED, lock-free) ---------------------------- */

struct racer {
	struct msix *m;
	int stop;
	unsigned long sent;
};

static void *notifier(void *arg)
{
	struct racer *r = arg;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		msix_notify(r->m, 0);
		__atomic_fetch_add(&r->sent, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void test_notify_races_mask(void **state)
{
	struct fx *f = *state;
	struct racer r = { .m = &f->m };
	pthread_t t;
	uint64_t got = 0;

	assert_int_equal(msix_set_control(&f->m, true, false), 0);
	entry_set(f, 0, ADDR(0), 0x20, false);
	assert_int_equal(pthread_create(&t, NULL, notifier, &r), 0);
	for (unsigned int i = 0; i < 2000; i++) {
		wr32(f, 0, MSIX_CTRL, i & 1 ? 0 : 1);
		got += fd_count(f->m.vec[0].fd);
	}
	while (!__atomic_load_n(&r.sent, __ATOMIC_ACQUIRE))
		usleep(100);
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	/* Left unmasked after the last notification: nothing may be stuck
	 * pending, and every notification became at most one interrupt. */
	wr32(f, 0, MSIX_CTRL, 0);
	got += fd_count(f->m.vec[0].fd);
	assert_int_equal(pba(f), 0);
	assert_true(got >= 1);
	assert_true(got <= r.sent);
}

/* Each test once per masking mode, named after both. */
#define T(test, setup) { #test " (" #setup ")", test, setup, teardown, NULL }

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_power_on, setup_gated),
		T(test_power_on, setup_external),
		T(test_table_rw, setup_gated),
		T(test_hostile_offsets, setup_gated),
		T(test_hostile_offsets, setup_external),
		T(test_big_table, setup_big),
		cmocka_unit_test(test_init_errors),
		T(test_mask_pending, setup_gated),
		T(test_mask_pending, setup_external),
		T(test_route_in_place, setup_gated),
		T(test_route_in_place, setup_external),
		T(test_function_mask, setup_gated),
		T(test_function_mask, setup_external),
		T(test_disable_enable, setup_gated),
		T(test_disable_enable, setup_external),
		T(test_reset, setup_gated),
		T(test_reset, setup_external),
		T(test_hooks, setup_hooks),
		T(test_kvm_refuses, setup_gated),
		T(test_kvm_refuses, setup_external),
		T(test_notify_races_mask, setup_gated),
	};

	log_threshold = LOG_ERROR;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
