// SPDX-License-Identifier: MIT
/*
 * The TPM CRB interface (devices/tpm/crb.c) as a hostile guest sees it:
 * every offset of its 0x5000 bytes at every width, commands of any
 * commandSize, platform resets, and a fake TPM (tests/unit/fake_tpm.h)
 * that answers with any length or fails. The worker thread's step runs
 * on the harness's thread (manual mode), so runs repeat.
 *
 * Invariants, after every operation: the TPM is handed a command of 10
 * to TPM_CRB_BUF_SIZE bytes, never more; the buffer-address and size
 * registers describe the fixed buffer whatever was written; LOC_STS and
 * LOC_STATE agree on the locality; CTRL_START is set exactly while a
 * command waits; a response longer than the buffer leaves the TPM in
 * failure mode (tpmSts) instead of overrunning it. At the end the range
 * and the registry entry are gone and the backend destroyed once.
 */
#include "devices/bus.h"
#include "devices/tpm/crb.h"
#include "lib/layout.h"
#include "tests/fuzz/fuzz.h"
#include "tests/unit/fake_tpm.h"
#include "tests/unit/fake_vm.h"

#define BASE	LAYOUT_TPM_CRB_BASE

enum { OP_READ, OP_WRITE, OP_COMMAND, OP_RUN, OP_RESET, OP_TPM, OP_SEQUENCE, NR_OPS };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(struct bus *mmio, struct tpm_crb *c, struct fake_tpm *t)
{
	uint64_t st = fz_bus_read(mmio, BASE + TPM_CRB_LOC_STATE, 4);
	uint64_t sts = fz_bus_read(mmio, BASE + TPM_CRB_LOC_STS, 4);

	FZ_CHECK(fz_bus_read(mmio, BASE + TPM_CRB_CMD_LADDR, 4) == BASE + TPM_CRB_DATA_BUFFER &&
		 fz_bus_read(mmio, BASE + TPM_CRB_CMD_HADDR, 4) == 0 &&
		 fz_bus_read(mmio, BASE + TPM_CRB_RSP_ADDR, 8) == BASE + TPM_CRB_DATA_BUFFER &&
		 fz_bus_read(mmio, BASE + TPM_CRB_CMD_SIZE, 4) == TPM_CRB_BUF_SIZE &&
		 fz_bus_read(mmio, BASE + TPM_CRB_RSP_SIZE, 4) == TPM_CRB_BUF_SIZE,
		 "the buffer registers moved");
	FZ_CHECK(!!(st & TPM_CRB_LOC_STATE_ASSIGNED) == !!(sts & TPM_CRB_LOC_STS_GRANTED),
		 "LOC_STATE %#llx, LOC_STS %#llx", (unsigned long long)st, (unsigned long long)sts);
	FZ_CHECK(st & TPM_CRB_LOC_STATE_VALID, "tpmRegValidSts clear");
	FZ_CHECK(!t->executes || (t->cmd_len >= TPM2_HEADER_SIZE && t->cmd_len <= TPM_CRB_BUF_SIZE),
		 "the TPM got %zu bytes", t->cmd_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tpm_crb_params p = { .base = BASE, .manual = true };
	struct fake_vm fvm;
	struct fake_tpm t;
	struct tpm_crb *c;
	struct bus mmio;
	struct fz f;

	fz_init(&f, data, size);
	fake_vm_init(&fvm);
	fake_tpm_init(&t);
	if (bus_init(&mmio, "mmio"))
		abort();
	p.be = fake_tpm_backend(&t);
	c = tpm_crb_create(&fvm.ops, &mmio, &p);
	if (!c)
		abort();

	while (fz_more(&f)) {
		uint8_t op = fz_u8(&f) % NR_OPS, sel = fz_u8(&f);
		uint64_t off = fz_u16(&f) % LAYOUT_TPM_CRB_SIZE;
		unsigned int w = fz_width(sel);

		switch (op) {
		case OP_READ:
			/* Within the range only: the bus refuses straddling
			 * accesses whole. */
			if (off + w <= LAYOUT_TPM_CRB_SIZE)
				fz_bus_read(&mmio, BASE + off, w);
			break;
		case OP_WRITE:
			if (off + w <= LAYOUT_TPM_CRB_SIZE)
				fz_bus_write(&mmio, BASE + off, fz_u64(&f), w);
			break;
		case OP_COMMAND: {
			/* A header with this commandSize, body bytes, START. */
			uint32_t hsize = sel & 1 ? fz_u32(&f) : fz_u16(&f);
			uint8_t body[64];
			size_t n = fz_bytes(&f, body, sel >> 2);

			fz_bus_write(&mmio, BASE + TPM_CRB_DATA_BUFFER, 0x0180, 2);
			for (unsigned int i = 0; i < 4; i++)
				fz_bus_write(&mmio, BASE + TPM_CRB_DATA_BUFFER + 2 + i,
					     hsize >> (24 - 8 * i), 1);
			for (size_t i = 0; i < n; i++)
				fz_bus_write(&mmio, BASE + TPM_CRB_DATA_BUFFER + 6 + i, body[i], 1);
			if (sel & 2)
				fz_bus_write(&mmio, BASE + TPM_CRB_LOC_CTRL, TPM_CRB_LOC_CTRL_REQUEST, 4);
			fz_bus_write(&mmio, BASE + TPM_CRB_CTRL_START, TPM_CRB_START, 4);
			break;
		}
		case OP_RUN: {
			bool started = fz_bus_read(&mmio, BASE + TPM_CRB_CTRL_START, 4) & TPM_CRB_START;
			bool ran = tpm_crb_run_pending(c);

			FZ_CHECK(started == ran, "START %d, a command ran %d", started, ran);
			FZ_CHECK(!(fz_bus_read(&mmio, BASE + TPM_CRB_CTRL_START, 4) & TPM_CRB_START),
				 "START still set after the command ran");
			if (ran && (t.exec_err || t.rsp_len > TPM_CRB_BUF_SIZE))
				FZ_CHECK(fz_bus_read(&mmio, BASE + TPM_CRB_CTRL_STS, 4) &
					 TPM_CRB_CTRL_STS_FATAL, "a failed command left no tpmSts");
			break;
		}
		case OP_RESET:
			t.init_ret = sel & 1 ? -EIO : 0;
			device_list_reset(&fvm.devices);
			FZ_CHECK(!(fz_bus_read(&mmio, BASE + TPM_CRB_CTRL_START, 4) & TPM_CRB_START),
				 "START set after a reset");
			FZ_CHECK(!tpm_crb_run_pending(c), "a command survived a reset");
			break;
		case OP_TPM:
			/* The next responses: 0-8191 bytes (below a header:
			 * the fake's minimum), or a failing TPM. */
			t.rsp_len = off & 0x1fff;
			t.exec_err = sel & 1 ? -EPIPE : 0;
			t.established = sel & 2;
			break;
		case OP_SEQUENCE:
			/* What firmware does, in order, with a valid command. */
			fz_bus_write(&mmio, BASE + TPM_CRB_LOC_CTRL, TPM_CRB_LOC_CTRL_REQUEST, 4);
			fz_bus_write(&mmio, BASE + TPM_CRB_CTRL_REQ, TPM_CRB_CTRL_REQ_CMD_READY, 4);
			fz_bus_write(&mmio, BASE + TPM_CRB_DATA_BUFFER, 0x0c00000001800ull, 8);
			fz_bus_write(&mmio, BASE + TPM_CRB_DATA_BUFFER + 8, 0x00004401, 4);
			fz_bus_write(&mmio, BASE + TPM_CRB_CTRL_START, TPM_CRB_START, 4);
			tpm_crb_run_pending(c);
			fz_bus_read(&mmio, BASE + TPM_CRB_DATA_BUFFER, 8);
			fz_bus_write(&mmio, BASE + TPM_CRB_CTRL_REQ, TPM_CRB_CTRL_REQ_GO_IDLE, 4);
			fz_bus_write(&mmio, BASE + TPM_CRB_LOC_CTRL, TPM_CRB_LOC_CTRL_RELINQUISH, 4);
			break;
		}
		check(&mmio, c, &t);
	}
	fz_check_bus(&mmio, 0);
	tpm_crb_destroy(c);
	FZ_CHECK(mmio.nr_ranges == 0, "%zu ranges left", mmio.nr_ranges);
	FZ_CHECK(!fvm.devices.first, "a device is still registered");
	FZ_CHECK(t.destroys == 1, "the backend destroyed %u times", t.destroys);
	bus_exit(&mmio);
	pthread_cond_destroy(&t.cond);
	pthread_mutex_destroy(&t.lock);
	return 0;
}
