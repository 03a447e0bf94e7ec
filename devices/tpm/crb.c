// SPDX-License-Identifier: MIT
/*
 * The TPM CRB interface (TCG PC Client PTP 1.05 §6.4-6.5); see crb.h.
 *
 * The state machine, as the firmware and the OS drive it: request
 * locality 0 (LOC_CTRL.requestAccess → LOC_STATE.locAssigned,
 * LOC_STS.Granted); leave Idle (CTRL_REQ.cmdReady → CTRL_STS.tpmIdle 0);
 * write the command into the buffer; CTRL_START = 1; poll until the TPM
 * clears it; read the response from the same buffer; CTRL_REQ.goIdle;
 * relinquish. CTRL_REQ requests complete at once (the bits read 0).
 *
 * A hostile guest: the command's length is its header's commandSize,
 * clamped to the buffer, and is copied out of the buffer when the guest
 * writes START, so nothing the guest does while the TPM works changes
 * what it executes; the response is copied back, at most a buffer's
 * worth, under the device lock. The buffer-address and size registers
 * (CMD_LADDR/HADDR/SIZE, RSP_ADDR/SIZE) always describe the one fixed
 * buffer and ignore writes: the TPM never reads or writes anywhere else
 * (QEMU's tpm_crb does the same; EDK2 writes the same values back, Linux
 * only reads them). Every offset of the 0x5000-byte range decodes:
 * reserved ones read 0 and ignore writes.
 *
 * A command runs on the device's worker thread, so a vCPU never waits for
 * the TPM: the guest polls CTRL_START, as the PTP has it (§6.5.3.4). The
 * worker calls the backend with no lock held. Lock order
 * (docs/architecture.md): tpm_crb.lock is a device lock; the backend's
 * own locks are taken without it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "devices/tpm/crb.h"
#include "firmware/acpi.h"
#include "lib/layout.h"
#include "lib/log.h"
#include "lib/thread.h"

/*
 * TPM_CRB_INTF_ID (PTP §6.5.3.3 Table 30): InterfaceType 1 (CRB active),
 * InterfaceVersion 1 (CRB), CapLocality 0 (locality 0 only),
 * CapCRBIdleBypass 0 (the TPM has an Idle state), CapDataXferSizeSupport
 * 3 (64-byte accesses), CapFIFO 0, CapCRB 1, InterfaceSelector 1 (CRB),
 * IntfSelLock 1 (the selector is fixed: writes are ignored). VID/DID:
 * the TPM is swtpm, IBM's emulator, so IBM's vendor ID as QEMU reports.
 */
#define INTF_TYPE_CRB		(1u << 0)
#define INTF_VERSION_CRB	(1u << 4)
#define INTF_XFER_64		(3u << 11)
#define INTF_CAP_CRB		(1u << 14)
#define INTF_SELECTOR_CRB	(1u << 17)
#define INTF_SEL_LOCK		(1u << 19)
#define INTF_ID_LO		(INTF_TYPE_CRB | INTF_VERSION_CRB | INTF_XFER_64 | \
				 INTF_CAP_CRB | INTF_SELECTOR_CRB | INTF_SEL_LOCK)
#define INTF_VID		0x1014
#define INTF_DID		0x0001

#define NR_LOCALITIES		5

struct tpm_crb {
	struct device dev;
	const struct vm_ops *ops;
	struct tpm_backend be;
	struct bus *mmio;
	uint64_t base;
	bool attached;

	pthread_mutex_t lock;
	/* The worker waits on it for a command; reset waits for the
	 * worker to be done with one. */
	pthread_cond_t cond;
	pthread_t thread;
	bool manual, thread_started, quit;

	/* the registers (under lock) */
	bool assigned;		/* LOC_STATE.locAssigned = LOC_STS.Granted */
	bool idle;		/* CTRL_STS.tpmIdle */
	bool fatal;		/* CTRL_STS.tpmSts */
	bool start;		/* CTRL_START: a command runs */
	bool cancel;		/* CTRL_CANCEL, as written */
	bool established;	/* the backend's TPM-established flag */
	uint8_t buf[TPM_CRB_BUF_SIZE];

	/* the command handed to the worker (pending), and the one it runs
	 * (busy): cmd is written under lock while neither is set and read
	 * by the worker while busy */
	bool pending, busy;
	uint64_t generation;	/* a reset drops what the worker still runs */
	uint8_t cmd[TPM_CRB_BUF_SIZE];
	size_t cmd_len;
	uint8_t rsp[TPM_CRB_BUF_SIZE];
	uint64_t commands, failures;
};

/* A 10-byte response with no sessions and this response code. */
static void crb_error_response(uint8_t *b, uint32_t rc)
{
	const uint8_t r[TPM2_HEADER_SIZE] = {
		TPM2_ST_NO_SESSIONS >> 8, TPM2_ST_NO_SESSIONS & 0xff,
		0, 0, 0, TPM2_HEADER_SIZE,
		(uint8_t)(rc >> 24), (uint8_t)(rc >> 16), (uint8_t)(rc >> 8), (uint8_t)rc,
	};

	memcpy(b, r, sizeof(r));
}

/* One dword register of a locality's page (lock held). */
static uint32_t crb_reg(const struct tpm_crb *c, unsigned int page, uint64_t off)
{
	uint32_t buf_addr = (uint32_t)(c->base + TPM_CRB_DATA_BUFFER);

	switch (off) {
	case TPM_CRB_LOC_STATE:
		/* Aliased in every locality's page (PTP §6.5.3.1). The
		 * established bit reads 1 while the TPM's flag is clear, as
		 * TIS's tpmEstablishment and QEMU's tpm_crb have it. */
		return (c->established ? 0 : TPM_CRB_LOC_STATE_ESTABLISHED) |
		       (c->assigned ? TPM_CRB_LOC_STATE_ASSIGNED : 0) | TPM_CRB_LOC_STATE_VALID;
	case TPM_CRB_INTF_ID:
		return INTF_ID_LO;
	case TPM_CRB_INTF_ID + 4:
		return INTF_VID | (uint32_t)INTF_DID << 16;
	}
	if (page != 0)
		return 0;
	switch (off) {
	case TPM_CRB_LOC_STS:
		return c->assigned ? TPM_CRB_LOC_STS_GRANTED : 0;
	case TPM_CRB_CTRL_STS:
		return (c->fatal ? TPM_CRB_CTRL_STS_FATAL : 0) | (c->idle ? TPM_CRB_CTRL_STS_IDLE : 0);
	case TPM_CRB_CTRL_CANCEL:
		return c->cancel ? TPM_CRB_CANCEL : 0;
	case TPM_CRB_CTRL_START:
		return c->start ? TPM_CRB_START : 0;
	case TPM_CRB_CMD_SIZE:
	case TPM_CRB_RSP_SIZE:
		return TPM_CRB_BUF_SIZE;
	case TPM_CRB_CMD_LADDR:
	case TPM_CRB_RSP_ADDR:
		return buf_addr;
	default:
		/* LOC_CTRL and CTRL_REQ (write-only or done at once),
		 * CTRL_EXT, no interrupts (INT_ENABLE, INT_STS), the high
		 * halves of the buffer addresses, reserved. */
		return 0;
	}
}

static uint8_t crb_read_byte(const struct tpm_crb *c, uint64_t addr)
{
	unsigned int page = (unsigned int)(addr / TPM_CRB_PAGE);
	uint64_t off = addr % TPM_CRB_PAGE;

	if (page >= NR_LOCALITIES)
		return 0xff;
	if (off >= TPM_CRB_DATA_BUFFER)
		return page == 0 ? c->buf[off - TPM_CRB_DATA_BUFFER] : 0;
	return (uint8_t)(crb_reg(c, page, off & ~3ull) >> (8 * (off & 3)));
}

static void crb_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	struct tpm_crb *c = opaque;
	uint8_t *out = data;

	pthread_mutex_lock(&c->lock);
	for (unsigned int i = 0; i < len; i++)
		out[i] = crb_read_byte(c, offset + i);
	pthread_mutex_unlock(&c->lock);
}

/*
 * CTRL_START = 1 (lock held): only at the assigned locality, with no
 * command running and no fatal error (PTP §6.5.3.4). The command is the
 * buffer's first commandSize bytes, at most the buffer; one too short
 * to hold a header is answered here, as a TPM does, without swtpm.
 */
static void *crb_worker(void *opaque);

/*
 * The worker starts with the first command, on the vCPU thread that wrote
 * CTRL_START (lock held: the worker waits for it): after set-up, so that
 * it runs as the user --user dropped to, under a filter its creator's
 * narrows, and inside a --chroot. A thread started before the drop would
 * keep root's bounding set and the host's root (docs/security.md).
 */
static int crb_start_worker(struct tpm_crb *c)
{
	int ret;

	if (c->manual || c->thread_started)
		return 0;
	ret = vmm_thread_start_worker(&c->thread, crb_worker, c);
	if (ret)
		return ret;
	c->thread_started = true;
	return 0;
}

static void crb_start(struct tpm_crb *c)
{
	uint32_t size;

	if (!c->assigned || c->start || c->fatal)
		return;
	if (crb_start_worker(c)) {
		/* No thread, no TPM: the guest sees a fatal error
		 * (CTRL_STS.tpmSts), as from a TPM that failed. */
		pr_err("tpm-crb: cannot start the command thread: the TPM reports a fatal error");
		c->fatal = true;
		return;
	}
	size = (uint32_t)c->buf[2] << 24 | (uint32_t)c->buf[3] << 16 |
	       (uint32_t)c->buf[4] << 8 | c->buf[5];
	if (size < TPM2_HEADER_SIZE) {
		crb_error_response(c->buf, TPM2_RC_COMMAND_SIZE);
		return;
	}
	c->cmd_len = size < TPM_CRB_BUF_SIZE ? size : TPM_CRB_BUF_SIZE;
	memcpy(c->cmd, c->buf, c->cmd_len);
	c->start = true;
	c->pending = true;
	c->commands++;
	pthread_cond_broadcast(&c->cond);
}

/* A dword register write of the bytes in mask (lock held). Returns
 * whether the backend must be asked to cancel the running command. */
static bool crb_write_reg(struct tpm_crb *c, uint64_t off, uint32_t v)
{
	switch (off) {
	case TPM_CRB_LOC_CTRL:
		/* Seize and resetEstablishmentBit belong to higher
		 * localities, which this TPM does not have. */
		if (v & TPM_CRB_LOC_CTRL_REQUEST)
			c->assigned = true;
		else if (v & TPM_CRB_LOC_CTRL_RELINQUISH)
			c->assigned = false;
		return false;
	case TPM_CRB_CTRL_REQ:
		/* One request at a time; none while a command runs (the TPM
		 * cannot go idle in the middle of one). */
		if (c->start)
			return false;
		v &= TPM_CRB_CTRL_REQ_CMD_READY | TPM_CRB_CTRL_REQ_GO_IDLE;
		if (v == TPM_CRB_CTRL_REQ_CMD_READY)
			c->idle = false;
		else if (v == TPM_CRB_CTRL_REQ_GO_IDLE)
			c->idle = true;
		return false;
	case TPM_CRB_CTRL_CANCEL:
		c->cancel = v & TPM_CRB_CANCEL;
		return c->cancel && c->start;
	case TPM_CRB_CTRL_START:
		/* Writing 0 does not stop a command; CANCEL does. */
		if (v & TPM_CRB_START)
			crb_start(c);
		return false;
	default:
		/* Read-only, reserved, or fixed: the buffer registers. */
		return false;
	}
}

static void crb_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	struct tpm_crb *c = opaque;
	const uint8_t *in = data;
	bool cancel = false;

	pthread_mutex_lock(&c->lock);
	for (unsigned int i = 0; i < len;) {
		uint64_t addr = offset + i;
		uint64_t off = addr % TPM_CRB_PAGE;
		uint32_t v = 0;

		if (addr / TPM_CRB_PAGE != 0) {
			i++;	/* localities 1-4: nothing to write */
			continue;
		}
		if (off >= TPM_CRB_DATA_BUFFER) {
			c->buf[off - TPM_CRB_DATA_BUFFER] = in[i++];
			continue;
		}
		/* The bytes of this access that fall in this dword; the
		 * registers that act on writes take the bytes not written
		 * as 0 (their bits are all in the low byte). */
		for (uint64_t b = off & 3; b < 4 && i < len; b++)
			v |= (uint32_t)in[i++] << (8 * b);
		cancel |= crb_write_reg(c, off & ~3ull, v);
	}
	pthread_mutex_unlock(&c->lock);
	if (cancel)
		c->be.ops->cancel(c->be.opaque);
}

static const struct bus_dev_ops crb_mmio_ops = {
	.read = crb_read,
	.write = crb_write,
};

/*
 * Run the pending command (lock held; dropped around the backend). A
 * response that arrives after a reset is dropped: the guest's TPM has
 * been re-initialised meanwhile.
 */
static void crb_run(struct tpm_crb *c)
{
	uint64_t gen = c->generation;
	long n;

	c->pending = false;
	c->busy = true;
	pthread_mutex_unlock(&c->lock);
	n = c->be.ops->execute(c->be.opaque, c->cmd, c->cmd_len, c->rsp, sizeof(c->rsp));
	pthread_mutex_lock(&c->lock);
	c->busy = false;
	if (gen == c->generation) {
		if (n < TPM2_HEADER_SIZE || n > (long)sizeof(c->rsp)) {
			/* PTP §6.5.3.2: tpmSts, a fatal error, until the next
			 * TPM_Init (a reboot). */
			if (!c->fatal && !c->quit)
				pr_warn("TPM: %s; the guest's TPM is in failure mode until it reboots",
					n < 0 ? strerror((int)-n) : "a malformed response");
			c->fatal = true;
			c->failures++;
			crb_error_response(c->buf, TPM2_RC_FAILURE);
		} else {
			memcpy(c->buf, c->rsp, (size_t)n);
		}
		c->start = false;
	}
	pthread_cond_broadcast(&c->cond);
}

bool tpm_crb_run_pending(struct tpm_crb *c)
{
	bool ran;

	pthread_mutex_lock(&c->lock);
	ran = c->pending;
	if (ran)
		crb_run(c);
	pthread_mutex_unlock(&c->lock);
	return ran;
}

static void *crb_worker(void *opaque)
{
	struct tpm_crb *c = opaque;

	vmm_thread_enter(VMM_THREAD_TPM);
	pthread_mutex_lock(&c->lock);
	while (!c->quit) {
		if (c->pending)
			crb_run(c);
		else
			pthread_cond_wait(&c->cond, &c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/*
 * Power-on state (lock not held; the vCPUs are parked): a command still
 * running is cancelled and waited for, then the TPM gets TPM_Init (the
 * backend's init: PTP §5.5.2.1, a platform reset resets the TPM) and the
 * registers their reset values: no locality, Idle, the buffer zeroed.
 */
static int crb_power_on(struct tpm_crb *c)
{
	bool established = false;
	int ret;

	pthread_mutex_lock(&c->lock);
	/* A command the worker has not picked up yet never runs. */
	c->pending = false;
	if (c->busy) {
		pthread_mutex_unlock(&c->lock);
		c->be.ops->cancel(c->be.opaque);
		pthread_mutex_lock(&c->lock);
		while (c->busy)
			pthread_cond_wait(&c->cond, &c->lock);
	}
	c->generation++;
	pthread_mutex_unlock(&c->lock);

	ret = c->be.ops->init(c->be.opaque, TPM_CRB_BUF_SIZE, &established);

	pthread_mutex_lock(&c->lock);
	c->assigned = false;
	c->idle = true;
	c->fatal = ret != 0;
	c->start = false;
	c->cancel = false;
	c->established = established;
	memset(c->buf, 0, sizeof(c->buf));
	pthread_mutex_unlock(&c->lock);
	return ret;
}

static void crb_dev_reset(struct device *dev)
{
	struct tpm_crb *c = container_of(dev, struct tpm_crb, dev);

	if (crb_power_on(c))
		pr_warn("TPM: re-initialising it at the reset failed; the guest sees a TPM in failure mode");
}

static void crb_dev_destroy(struct device *dev)
{
	tpm_crb_destroy(container_of(dev, struct tpm_crb, dev));
}

/* The ACPI tables get the TPM2 table and the MSFT0101 device. */
static int crb_build_acpi(struct device *dev, struct acpi_config *cfg)
{
	cfg->tpm_crb = true;
	return 0;
}

static const struct device_ops crb_device_ops = {
	.reset = crb_dev_reset,
	.destroy = crb_dev_destroy,
	.build_acpi = crb_build_acpi,
};

struct tpm_crb *tpm_crb_create(const struct vm_ops *ops, struct bus *mmio,
			       const struct tpm_crb_params *p)
{
	struct tpm_crb *c;
	int ret;

	c = calloc(1, sizeof(*c));
	if (!c) {
		p->be.ops->destroy(p->be.opaque);
		errno = ENOMEM;
		return NULL;
	}
	c->ops = ops;
	c->be = p->be;
	c->mmio = mmio;
	c->base = p->base;
	c->manual = p->manual;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	ret = crb_power_on(c);
	if (ret)
		goto destroy;
	ret = bus_register(mmio, c->base, LAYOUT_TPM_CRB_SIZE, &crb_mmio_ops, c, "tpm-crb");
	if (ret)
		goto destroy;
	c->attached = true;
	device_register(ops, &c->dev, "tpm-crb", &crb_device_ops);
	return c;

destroy:
	tpm_crb_destroy(c);
	errno = -ret;
	return NULL;
}

void tpm_crb_destroy(struct tpm_crb *c)
{
	if (!c)
		return;
	device_unregister(&c->dev);
	if (c->attached)
		bus_unregister(c->mmio, c->base);
	if (c->thread_started) {
		pthread_mutex_lock(&c->lock);
		c->quit = true;
		pthread_cond_broadcast(&c->cond);
		pthread_mutex_unlock(&c->lock);
		c->be.ops->abort(c->be.opaque);
		pthread_join(c->thread, NULL);
	}
	pr_debug("tpm-crb: %llu command(s), %llu failed", (unsigned long long)c->commands,
		 (unsigned long long)c->failures);
	c->be.ops->destroy(c->be.opaque);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	free(c);
}
