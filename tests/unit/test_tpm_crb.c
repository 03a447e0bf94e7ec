// SPDX-License-Identifier: MIT
/*
 * The TPM CRB interface (devices/tpm/crb.c) against a fake TPM
 * (tests/unit/fake_tpm.h): the register state machine of TCG PC Client
 * PTP §6.5 (locality request/relinquish, Idle/Ready, start, cancel),
 * command and response bounds a hostile guest cannot get past, a TPM that
 * fails, platform resets (with a command in flight too), the ACPI
 * contribution, and teardown.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "devices/bus.h"
#include "devices/tpm/crb.h"
#include "firmware/acpi.h"
#include "lib/layout.h"
#include "tests/unit/fake_tpm.h"
#include "tests/unit/fake_vm.h"

#define BASE	LAYOUT_TPM_CRB_BASE
#define BUF	(BASE + TPM_CRB_DATA_BUFFER)

struct fixture {
	struct fake_vm fvm;
	struct fake_tpm tpm;
	struct bus mmio;
	struct tpm_crb *crb;
};

static struct fixture *fixture_new(bool manual)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct tpm_crb_params p = { .base = BASE, .manual = manual };

	assert_non_null(f);
	fake_vm_init(&f->fvm);
	fake_tpm_init(&f->tpm);
	assert_int_equal(bus_init(&f->mmio, "mmio"), 0);
	p.be = fake_tpm_backend(&f->tpm);
	f->crb = tpm_crb_create(&f->fvm.ops, &f->mmio, &p);
	assert_non_null(f->crb);
	return f;
}

static int setup_manual(void **state)
{
	*state = fixture_new(true);
	return 0;
}

static int setup_threaded(void **state)
{
	*state = fixture_new(false);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	tpm_crb_destroy(f->crb);
	assert_int_equal(f->tpm.destroys, 1);
	assert_int_equal(f->mmio.nr_ranges, 0);
	assert_null(f->fvm.devices.first);
	bus_exit(&f->mmio);
	free(f);
	return 0;
}

static uint64_t rd(struct fixture *f, uint64_t off, unsigned int len)
{
	uint8_t b[8] = { 0 };

	assert_int_equal(bus_read(&f->mmio, BASE + off, b, len), 0);
	return bus_data_get(b, len);
}

static void wr(struct fixture *f, uint64_t off, uint64_t v, unsigned int len)
{
	uint8_t b[8];

	bus_data_put(b, len, v);
	assert_int_equal(bus_write(&f->mmio, BASE + off, b, len), 0);
}

/* A command of size bytes in the buffer: a TPM 2.0 header, then i & 0xff. */
static void put_command(struct fixture *f, uint32_t header_size, size_t bytes)
{
	for (size_t i = 0; i < bytes; i++) {
		uint8_t v = (uint8_t)i;

		if (i < 10) {
			const uint8_t h[10] = { 0x80, 0x01, (uint8_t)(header_size >> 24),
						(uint8_t)(header_size >> 16), (uint8_t)(header_size >> 8),
						(uint8_t)header_size, 0, 0, 0x01, 0x7e };
			v = h[i];
		}
		wr(f, TPM_CRB_DATA_BUFFER + i, v, 1);
	}
}

static void request_locality(struct fixture *f)
{
	wr(f, TPM_CRB_LOC_CTRL, TPM_CRB_LOC_CTRL_REQUEST, 4);
	wr(f, TPM_CRB_CTRL_REQ, TPM_CRB_CTRL_REQ_CMD_READY, 4);
}

/* Poll CTRL_START as a guest does, with a deadline. */
static void wait_done(struct fixture *f)
{
	for (int i = 0; i < 5000; i++) {
		if (!(rd(f, TPM_CRB_CTRL_START, 4) & TPM_CRB_START))
			return;
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
	fail_msg("CTRL_START still set after 5 s");
}

/* Power-on values, every fixed register, the locality pages, widths. */
static void test_power_on(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(f->tpm.inits, 1);
	assert_int_equal(f->tpm.buffer_size, TPM_CRB_BUF_SIZE);
	assert_int_equal(rd(f, TPM_CRB_LOC_STATE, 4),
			 TPM_CRB_LOC_STATE_VALID | TPM_CRB_LOC_STATE_ESTABLISHED);
	assert_int_equal(rd(f, TPM_CRB_LOC_STS, 4), 0);
	assert_int_equal(rd(f, TPM_CRB_CTRL_STS, 4), TPM_CRB_CTRL_STS_IDLE);
	assert_int_equal(rd(f, TPM_CRB_CTRL_START, 4), 0);
	assert_int_equal(rd(f, TPM_CRB_CTRL_CANCEL, 4), 0);
	/* CRB active, version CRB, 64-byte transfers, CapCRB, selector CRB
	 * and locked; IBM's vendor ID (swtpm). */
	assert_int_equal(rd(f, TPM_CRB_INTF_ID, 8), 0x00011014000a5811ull);
	assert_int_equal(rd(f, TPM_CRB_INTF_ID, 1) & 0xf, 1);
	assert_int_equal(rd(f, TPM_CRB_CMD_SIZE, 4), 0xf80);
	assert_int_equal(rd(f, TPM_CRB_RSP_SIZE, 4), 0xf80);
	assert_int_equal(rd(f, TPM_CRB_CMD_LADDR, 4), 0xfed40080);
	assert_int_equal(rd(f, TPM_CRB_CMD_HADDR, 4), 0);
	assert_int_equal(rd(f, TPM_CRB_RSP_ADDR, 8), 0xfed40080);
	/* EDK2 tests for a TPM by LOC_STATE's low byte not being 0xFF. */
	assert_int_not_equal(rd(f, TPM_CRB_LOC_STATE, 1), 0xff);
	/* Localities 1-4 mirror LOC_STATE and INTF_ID, read 0 elsewhere. */
	for (unsigned int l = 1; l < 5; l++) {
		assert_int_equal(rd(f, l * 0x1000 + TPM_CRB_LOC_STATE, 4),
				 rd(f, TPM_CRB_LOC_STATE, 4));
		assert_int_equal(rd(f, l * 0x1000 + TPM_CRB_INTF_ID, 8), rd(f, TPM_CRB_INTF_ID, 8));
		assert_int_equal(rd(f, l * 0x1000 + TPM_CRB_CTRL_STS, 4), 0);
		assert_int_equal(rd(f, l * 0x1000 + TPM_CRB_DATA_BUFFER, 8), 0);
	}
	/* The whole range decodes, to its last byte; past it, nothing. */
	assert_int_equal(rd(f, 0x4ff8, 8), 0);
	uint8_t b[8];
	assert_int_equal(bus_read(&f->mmio, BASE + 0x4ffc, b, 8), -ENOENT);
}

/* LOC_CTRL: request, relinquish; higher-locality requests are nothing. */
static void test_locality(void **state)
{
	struct fixture *f = *state;

	wr(f, TPM_CRB_LOC_CTRL, TPM_CRB_LOC_CTRL_REQUEST, 4);
	assert_int_equal(rd(f, TPM_CRB_LOC_STATE, 4) & TPM_CRB_LOC_STATE_ASSIGNED,
			 TPM_CRB_LOC_STATE_ASSIGNED);
	assert_int_equal(rd(f, TPM_CRB_LOC_STS, 4), TPM_CRB_LOC_STS_GRANTED);
	assert_int_equal(rd(f, TPM_CRB_LOC_CTRL, 4), 0);	/* write-only */
	wr(f, TPM_CRB_LOC_CTRL, TPM_CRB_LOC_CTRL_RELINQUISH, 1);
	assert_int_equal(rd(f, TPM_CRB_LOC_STATE, 4) & TPM_CRB_LOC_STATE_ASSIGNED, 0);
	assert_int_equal(rd(f, TPM_CRB_LOC_STS, 4), 0);
	/* Locality 2's page asks for locality 2: not this TPM's. */
	wr(f, 0x2000 + TPM_CRB_LOC_CTRL, TPM_CRB_LOC_CTRL_REQUEST, 4);
	assert_int_equal(rd(f, TPM_CRB_LOC_STS, 4), 0);
	/* Seize and resetEstablishmentBit from locality 0: nothing. */
	wr(f, TPM_CRB_LOC_CTRL, 0xc, 4);
	assert_int_equal(rd(f, TPM_CRB_LOC_STATE, 4),
			 TPM_CRB_LOC_STATE_VALID | TPM_CRB_LOC_STATE_ESTABLISHED);
}

/* CTRL_REQ: cmdReady leaves Idle, goIdle enters it, both at once or
 * anything during a command changes nothing; the bits read 0. */
static void test_idle_ready(void **state)
{
	struct fixture *f = *state;

	wr(f, TPM_CRB_CTRL_REQ, TPM_CRB_CTRL_REQ_CMD_READY, 4);
	assert_int_equal(rd(f, TPM_CRB_CTRL_STS, 4), 0);
	assert_int_equal(rd(f, TPM_CRB_CTRL_REQ, 4), 0);
	wr(f, TPM_CRB_CTRL_REQ, 3, 4);
	assert_int_equal(rd(f, TPM_CRB_CTRL_STS, 4), 0);
	wr(f, TPM_CRB_CTRL_REQ, TPM_CRB_CTRL_REQ_GO_IDLE, 4);
	assert_int_equal(rd(f, TPM_CRB_CTRL_STS, 4), TPM_CRB_CTRL_STS_IDLE);
	wr(f, TPM_CRB_CTRL_REQ, TPM_CRB_CTRL_REQ_CMD_READY, 1);
	assert_int_equal(rd(f, TPM_CRB_CTRL_STS, 4), 0);

	wr(f, TPM_CRB_LOC_CTRL, TPM_CRB_LOC_CTRL_REQUEST, 4);
	put_command(f, 12, 12);
	wr(f, TPM_CRB_CTRL_START, TPM_CRB_START, 4);
	assert_int_equal(rd(f, TPM_CRB_CTRL_START, 4), TPM_CRB_START);
	wr(f, TPM_CRB_CTRL_REQ, TPM_CRB_CTRL_REQ_GO_IDLE, 4);
	assert_int_equal(rd(f, TPM_CRB_CTRL_STS, 4), 0);
	assert_true(tpm_crb_run_pending(f->crb));
	assert_int_equal(rd(f, TPM_CRB_CTRL_START, 4), 0);
	wr(f, TPM_CRB_CTRL_REQ, TPM_CRB_CTRL_REQ_GO_IDLE, 4);
	assert_int_equal(rd(f, TPM_CRB_CTRL_STS, 4), TPM_CRB_CTRL_STS_IDLE);
}

/* A command goes to the TPM exactly as its header sizes it, once; the
 * response comes back into the buffer; START needs the locality. */
static void test_command(void **state)
{
	struct fixture *f = *state;

	put_command(f, 40, 64);
	wr(f, TPM_CRB_CTRL_START, TPM_CRB_START, 4);
	assert_int_equal(rd(f, TPM_CRB_CTRL_START, 4), 0);	/* no locality */
	assert_false(tpm_crb_run_pending(f->crb));

	request_locality(f);
	f->tpm.rsp_len = 300;
	wr(f, TPM_CRB_CTRL_START, TPM_CRB_START, 4);
	assert_int_equal(rd(f, TPM_CRB_CTRL_START, 4), TPM_CRB_START);
	/* A second START while one runs is nothing. */
	wr(f, TPM_CRB_CTRL_START, TPM_CRB_START, 4);
	/* The guest scribbles over the buffer meanwhile: what runs was
	 * copied at START. */
	wr(f, TPM_CRB_DATA_BUFFER + 12, 0xdeadbeef, 4);
	assert_true(tpm_crb_run_pending(f->crb));
	assert_false(tpm_crb_run_pending(f->crb));
	assert_int_equal(f->tpm.executes, 1);
	assert_int_equal(f->tpm.cmd_len, 40);
	for (size_t i = 10; i < 40; i++)
		assert_int_equal(f->tpm.cmd[i], (uint8_t)i);
	assert_int_equal(rd(f, TPM_CRB_CTRL_START, 4), 0);
	assert_int_equal(rd(f, TPM_CRB_DATA_BUFFER, 2), 0x0180);
	assert_int_equal(rd(f, TPM_CRB_DATA_BUFFER + 2, 4), 0x2c010000);	/* 300 BE */
	assert_int_equal(rd(f, TPM_CRB_DATA_BUFFER + 299, 1), 0xa5);
	/* Writing 0 to START does nothing; another command runs. */
	wr(f, TPM_CRB_CTRL_START, 0, 4);
	put_command(f, 10, 10);
	wr(f, TPM_CRB_CTRL_START, TPM_CRB_START, 1);
	assert_true(tpm_crb_run_pending(f->crb));
	assert_int_equal(f->tpm.executes, 2);
	assert_int_equal(f->tpm.cmd_len, 10);
}

/*
 * What a hostile guest can write: a commandSize past the buffer (the TPM
 * gets the buffer, no more), one below a header (answered without the
 * TPM), buffer addresses and sizes (ignored), accesses across the
 * buffer's end and the page's; a response larger than the buffer (the
 * TPM fails instead of overrunning).
 */
static void test_bounds(void **state)
{
	struct fixture *f = *state;

	request_locality(f);
	put_command(f, 0xffffffff, 16);
	wr(f, TPM_CRB_CTRL_START, TPM_CRB_START, 4);
	assert_true(tpm_crb_run_pending(f->crb));
	assert_int_equal(f->tpm.cmd_len, TPM_CRB_BUF_SIZE);

	put_command(f, 9, 10);
	wr(f, TPM_CRB_CTRL_START, TPM_CRB_START, 4);
	assert_false(tpm_crb_run_pending(f->crb));
	assert_int_equal(f->tpm.executes, 1);
	assert_int_equal(rd(f, TPM_CRB_CTRL_START, 4), 0);
	assert_int_equal(rd(f, TPM_CRB_DATA_BUFFER + 6, 4), 0x42010000);	/* 0x142 BE */

	/* The buffer registers describe the fixed buffer, whatever the
	 * guest writes (EDK2 writes the same values, a hostile guest
	 * anything). */
	wr(f, TPM_CRB_CMD_LADDR, 0x1000, 4);
	wr(f, TPM_CRB_CMD_HADDR, 0xffffffff, 4);
	wr(f, TPM_CRB_CMD_SIZE, 0xffffffff, 4);
	wr(f, TPM_CRB_RSP_ADDR, 0x123456789000ull, 8);
	wr(f, TPM_CRB_RSP_SIZE, 0x10000, 4);
	wr(f, TPM_CRB_INTF_ID, 0, 8);
	wr(f, TPM_CRB_LOC_STATE, 0, 4);
	assert_int_equal(rd(f, TPM_CRB_CMD_LADDR, 4), 0xfed40080);
	assert_int_equal(rd(f, TPM_CRB_CMD_HADDR, 4), 0);
	assert_int_equal(rd(f, TPM_CRB_CMD_SIZE, 4), 0xf80);
	assert_int_equal(rd(f, TPM_CRB_RSP_ADDR, 8), 0xfed40080);
	assert_int_equal(rd(f, TPM_CRB_RSP_SIZE, 4), 0xf80);
	assert_int_equal(rd(f, TPM_CRB_INTF_ID, 8), 0x00011014000a5811ull);

	/* 8 bytes across the buffer's end: 4 land, 4 go to locality 1's
	 * page, which keeps nothing. */
	wr(f, 0xffc, 0x1122334455667788ull, 8);
	assert_int_equal(rd(f, 0xffc, 4), 0x55667788);
	assert_int_equal(rd(f, 0x1000, 4), rd(f, TPM_CRB_LOC_STATE, 4));
	/* A dword straddling two registers writes both's bytes. */
	wr(f, TPM_CRB_CTRL_CANCEL + 2, 0x00010000, 4);	/* CANCEL[2,3], START[0,1] */
	assert_int_equal(rd(f, TPM_CRB_CTRL_CANCEL, 4), 0);

	/* The TPM answers with more than the buffer holds. */
	f->tpm.rsp_len = TPM_CRB_BUF_SIZE + 1;
	put_command(f, 10, 10);
	wr(f, TPM_CRB_CTRL_START, TPM_CRB_START, 4);
	assert_true(tpm_crb_run_pending(f->crb));
	assert_int_equal(rd(f, TPM_CRB_CTRL_STS, 4) & TPM_CRB_CTRL_STS_FATAL, TPM_CRB_CTRL_STS_FATAL);
}

/* A TPM that fails: tpmSts, TPM_RC_FAILURE in the buffer, no more
 * commands until a platform reset re-initialises it. */
static void test_failure_and_reset(void **state)
{
	struct fixture *f = *state;

	request_locality(f);
	f->tpm.exec_err = -EPIPE;
	put_command(f, 10, 10);
	wr(f, TPM_CRB_CTRL_START, TPM_CRB_START, 4);
	assert_true(tpm_crb_run_pending(f->crb));
	assert_int_equal(rd(f, TPM_CRB_CTRL_STS, 4), TPM_CRB_CTRL_STS_FATAL);
	assert_int_equal(rd(f, TPM_CRB_DATA_BUFFER + 6, 4), 0x01010000);	/* 0x101 BE */
	assert_int_equal(rd(f, TPM_CRB_CTRL_START, 4), 0);
	wr(f, TPM_CRB_CTRL_START, TPM_CRB_START, 4);
	assert_false(tpm_crb_run_pending(f->crb));

	/* The platform reset (the registry's walk): TPM_Init again, the
	 * registers at power-on, the buffer cleared. */
	f->tpm.exec_err = 0;
	f->tpm.established = true;
	device_list_reset(&f->fvm.devices);
	assert_int_equal(f->tpm.inits, 2);
	assert_int_equal(rd(f, TPM_CRB_CTRL_STS, 4), TPM_CRB_CTRL_STS_IDLE);
	assert_int_equal(rd(f, TPM_CRB_LOC_STATE, 4), TPM_CRB_LOC_STATE_VALID);	/* established */
	assert_int_equal(rd(f, TPM_CRB_DATA_BUFFER, 8), 0);

	/* A command started but not yet picked up by the worker is
	 * dropped by a reset: it never reaches the TPM. */
	request_locality(f);
	put_command(f, 10, 10);
	wr(f, TPM_CRB_CTRL_START, TPM_CRB_START, 4);
	device_list_reset(&f->fvm.devices);
	assert_false(tpm_crb_run_pending(f->crb));
	assert_int_equal(f->tpm.executes, 1);
	assert_int_equal(rd(f, TPM_CRB_CTRL_START, 4), 0);

	/* A reset whose TPM_Init fails leaves the TPM in failure mode. */
	f->tpm.init_ret = -EIO;
	device_list_reset(&f->fvm.devices);
	assert_int_equal(rd(f, TPM_CRB_CTRL_STS, 4) & TPM_CRB_CTRL_STS_FATAL, TPM_CRB_CTRL_STS_FATAL);
	f->tpm.init_ret = 0;
	device_list_reset(&f->fvm.devices);
	assert_int_equal(rd(f, TPM_CRB_CTRL_STS, 4), TPM_CRB_CTRL_STS_IDLE);
}

/* The worker thread: a vCPU polls START while the TPM works; CANCEL
 * reaches the TPM and reads back as written. */
static void test_threaded_cancel(void **state)
{
	struct fixture *f = *state;

	request_locality(f);
	f->tpm.block = true;
	put_command(f, 20, 20);
	wr(f, TPM_CRB_CTRL_START, TPM_CRB_START, 4);
	fake_tpm_wait_exec(&f->tpm);
	assert_int_equal(rd(f, TPM_CRB_CTRL_START, 4), TPM_CRB_START);
	wr(f, TPM_CRB_CTRL_CANCEL, TPM_CRB_CANCEL, 4);
	assert_int_equal(rd(f, TPM_CRB_CTRL_CANCEL, 4), TPM_CRB_CANCEL);
	wait_done(f);
	assert_int_equal(f->tpm.cancels, 1);
	assert_int_equal(rd(f, TPM_CRB_DATA_BUFFER + 6, 4), 0x09090000);	/* canceled */
	wr(f, TPM_CRB_CTRL_CANCEL, 0, 4);
	assert_int_equal(rd(f, TPM_CRB_CTRL_CANCEL, 4), 0);
	/* CANCEL with nothing running asks the TPM for nothing. */
	wr(f, TPM_CRB_CTRL_CANCEL, TPM_CRB_CANCEL, 4);
	assert_int_equal(f->tpm.cancels, 1);
	wr(f, TPM_CRB_CTRL_CANCEL, 0, 4);

	/* Unblocked, a command just completes. */
	f->tpm.block = false;
	wr(f, TPM_CRB_CTRL_START, TPM_CRB_START, 4);
	wait_done(f);
	assert_int_equal(f->tpm.executes, 2);
	assert_int_equal(rd(f, TPM_CRB_DATA_BUFFER + 6, 4), 0);
}

/* A platform reset while the TPM works: the command is cancelled and
 * waited for, then the TPM re-initialised and the registers reset. */
static void test_threaded_reset(void **state)
{
	struct fixture *f = *state;

	request_locality(f);
	f->tpm.block = true;
	f->tpm.rsp_len = 64;
	put_command(f, 20, 20);
	wr(f, TPM_CRB_CTRL_START, TPM_CRB_START, 4);
	fake_tpm_wait_exec(&f->tpm);
	device_list_reset(&f->fvm.devices);
	assert_int_equal(f->tpm.cancels, 1);
	assert_int_equal(f->tpm.inits, 2);
	assert_int_equal(rd(f, TPM_CRB_CTRL_START, 4), 0);
	assert_int_equal(rd(f, TPM_CRB_DATA_BUFFER, 8), 0);
	assert_int_equal(rd(f, TPM_CRB_LOC_STS, 4), 0);
}

/* Teardown with a command stuck in the TPM: the abort frees the worker. */
static void test_threaded_destroy_busy(void **state)
{
	struct fixture *f = *state;

	request_locality(f);
	f->tpm.block = true;
	put_command(f, 10, 10);
	wr(f, TPM_CRB_CTRL_START, TPM_CRB_START, 4);
	fake_tpm_wait_exec(&f->tpm);
	/* teardown() destroys it; the fake's abort unblocks execute(). */
}

/* The registry: the ACPI tables learn of the TPM. */
static void test_acpi(void **state)
{
	struct fixture *f = *state;
	struct acpi_config cfg;

	acpi_config_init(&cfg);
	assert_false(cfg.tpm_crb);
	assert_int_equal(device_list_build_acpi(&f->fvm.devices, &cfg), 0);
	assert_true(cfg.tpm_crb);
}

static void other_read(void *opaque, uint64_t off, void *data, unsigned int len)
{
}

static void other_write(void *opaque, uint64_t off, const void *data, unsigned int len)
{
}

static const struct bus_dev_ops other_ops = { .read = other_read, .write = other_write };

/* A TPM whose TPM_Init fails: no device, the backend released. */
static void test_create_fails(void **state)
{
	struct fake_vm fvm;
	struct fake_tpm t;
	struct bus mmio;
	struct tpm_crb_params p = { .base = BASE };

	fake_vm_init(&fvm);
	fake_tpm_init(&t);
	t.init_ret = -EIO;
	assert_int_equal(bus_init(&mmio, "mmio"), 0);
	p.be = fake_tpm_backend(&t);
	assert_null(tpm_crb_create(&fvm.ops, &mmio, &p));
	assert_int_equal(errno, EIO);
	assert_int_equal(t.destroys, 1);
	assert_int_equal(mmio.nr_ranges, 0);
	assert_null(fvm.devices.first);
	/* The range taken already: -EEXIST, nothing left behind. */
	t.init_ret = 0;
	assert_int_equal(bus_register(&mmio, BASE + 0x4000, 1, &other_ops, NULL, "other"), 0);
	assert_null(tpm_crb_create(&fvm.ops, &mmio, &p));
	assert_int_equal(errno, EEXIST);
	assert_int_equal(t.destroys, 2);
	assert_null(fvm.devices.first);
	bus_exit(&mmio);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_power_on, setup_manual, teardown),
		cmocka_unit_test_setup_teardown(test_locality, setup_manual, teardown),
		cmocka_unit_test_setup_teardown(test_idle_ready, setup_manual, teardown),
		cmocka_unit_test_setup_teardown(test_command, setup_manual, teardown),
		cmocka_unit_test_setup_teardown(test_bounds, setup_manual, teardown),
		cmocka_unit_test_setup_teardown(test_failure_and_reset, setup_manual, teardown),
		cmocka_unit_test_setup_teardown(test_threaded_cancel, setup_threaded, teardown),
		cmocka_unit_test_setup_teardown(test_threaded_reset, setup_threaded, teardown),
		cmocka_unit_test_setup_teardown(test_threaded_destroy_busy, setup_threaded, teardown),
		cmocka_unit_test_setup_teardown(test_acpi, setup_manual, teardown),
		cmocka_unit_test(test_create_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
