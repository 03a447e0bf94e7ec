// SPDX-License-Identifier: MIT
/*
 * A port's engine (AHCI §5): its I/O thread walks the command list the
 * guest issued through PxCI, reads each command header (§4.2.2) and
 * command table (§4.2.3: the Register H2D FIS, the ATAPI command, the
 * PRDT), has ata.c/atapi.c carry the command out — reads, writes, flushes
 * and discards through the shared io_uring engine (devices/block/blk_io.h)
 * straight into the guest RAM the PRDT names — and completes it as a SATA
 * device would: a PIO Setup, Register D2H or Set Device Bits FIS in the
 * received-FIS area (§4.2.1), PxTFD, PxCI/PxSACT, PxIS and the interrupt.
 *
 * The thread exists while PxCMD.ST is set (ahci_engine_start/stop, from a
 * vCPU under ahci.ctl). It sleeps in one io_uring_enter() that waits for
 * its kick eventfd (a PxCI write), its stop eventfd and I/O completions.
 * Every guest address goes through guest_mem_ptr(): a command list, table,
 * PRD or FIS area outside RAM ends the command with PxIS.HBFS (§3.3.5 "a
 * bad software pointer"), a FIS that is no Register H2D FIS with IFS, a
 * PRDT too short for the transfer with OFS and ABRT; each is an error that
 * halts the port until software clears ST (§6.2.2), never a crash.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "devices/ahci/ahci_internal.h"
#include "lib/log.h"
#include "lib/thread.h"

#define TAG_KICK	1
#define TAG_STOP	2

/* ---- the received-FIS area (§4.2.1), lock held ----------------------------------- */

/* false if FB is not guest RAM: the port halts with HBFS. A FIS while FRE
 * is clear is not accepted into memory; the registers still follow it. */
static bool fis_write(struct ahci_port *p, unsigned int off, const uint8_t *fis, size_t len)
{
	void *hva;

	if (!(p->cmd & PXCMD_FRE))
		return true;
	if (guest_mem_ptr(p->hba->mem, p->fb + off, len, &hva)) {
		pr_warn_once("%s: the received-FIS area at %#llx is not guest RAM (PxIS.HBFS)",
			     p->name, (unsigned long long)p->fb);
		p->halted = true;
		ahci_port_raise(p, PXIS_HBFS);
		return false;
	}
	memcpy(hva, fis, len);
	return true;
}

/* Register D2H FIS (SATA §10.5.6): status, error, the output registers. */
static bool send_d2h(struct ahci_port *p, uint8_t status, uint8_t error, const uint8_t *out,
		     bool irq)
{
	uint8_t f[20] = { FIS_REG_D2H, irq ? FIS_I : 0, status, error };

	if (out)
		memcpy(f + 4, out, 10);
	p->tfd = (uint32_t)error << 8 | status;
	return fis_write(p, RFIS_RFIS, f, sizeof(f));
}

/* PIO Setup FIS (SATA §10.5.11) of a data-in transfer: Status as the data
 * starts (DRQ), E_Status as it ends, which PxTFD then holds (AHCI §5.3, the PIO Setup states). */
static bool send_pio_setup(struct ahci_port *p, const struct ahci_cmd *c)
{
	uint8_t f[20] = { FIS_PIO_SETUP, FIS_PIO_D | FIS_I, ATA_STATUS_OK | ATA_DRQ, c->error };
	uint32_t n = c->xfer < 0xffff ? c->xfer : 0xffff;

	memcpy(f + 4, c->out, 10);
	f[15] = c->status;
	f[16] = (uint8_t)n;
	f[17] = (uint8_t)(n >> 8);
	p->tfd = (uint32_t)c->error << 8 | c->status;
	return fis_write(p, RFIS_PSFIS, f, sizeof(f));
}

/* Set Device Bits FIS (SATA §10.5.7, §13.6): the NCQ tags in done finished. */
static bool send_sdb(struct ahci_port *p, uint8_t status, uint8_t error, uint32_t done)
{
	uint8_t f[8] = { FIS_SDB, FIS_I, status & 0x77, error };

	put_le32(f + 4, done);
	p->tfd = (p->tfd & ~0xff77u) | (uint32_t)error << 8 | (status & 0x77);
	return fis_write(p, RFIS_SDBFIS, f, sizeof(f));
}

/* The signature D2H FIS a device sends after a reset (AHCI §10.4.2): it
 * sets PxSIG (§3.3.9) and PxTFD, once the FIS receive engine runs. */
static void send_signature(struct ahci_port *p)
{
	uint8_t status, error, out[10];

	if (!(p->cmd & PXCMD_FRE)) {
		p->sig_pending = true;
		return;
	}
	ata_signature(p, &status, &error, out);
	if (!send_d2h(p, status, error, out, true))
		return;
	p->sig_pending = false;
	p->sig = (uint32_t)out[2] << 24 | (uint32_t)out[1] << 16 | (uint32_t)out[0] << 8 | out[8];
	ahci_port_raise(p, PXIS_DHRS);
}

void ahci_port_device_reset(struct ahci_port *p)
{
	p->ci = p->sact = 0;
	p->started = p->ncq_active = 0;
	p->halted = false;
	/* §3.3.8, §3.3.9: BSY|DRQ|ERR-ish 7Fh and no signature until the
	 * device's first D2H FIS arrives. */
	p->tfd = 0x7f;
	p->sig = 0xffffffff;
	p->sig_pending = false;
	if (p->kind == AHCI_DRIVE_NONE)
		return;
	ata_drive_reset(p);
	if (p->kind == AHCI_DRIVE_CDROM)
		atapi_drive_reset(p);
	send_signature(p);
}

void ahci_port_fre_on(struct ahci_port *p)
{
	if (p->sig_pending)
		send_signature(p);
}

/* ---- the data: PRDT (§4.2.3.3) ------------------------------------------------- */

int ahci_cmd_map(struct ahci_cmd *c, uint64_t len, uint64_t *mapped)
{
	const struct guest_mem *mem = c->port->hba->mem;
	unsigned int prdtl = c->opts >> CMDH_PRDTL_SHIFT;
	uint64_t total = 0;

	c->iovcnt = 0;
	c->prd_irq = false;
	for (unsigned int i = 0; i < prdtl && total < len; i++) {
		uint8_t *e;
		uint64_t dba, n;
		uint32_t dw3;
		void *hva;

		/* One entry at a time, each read once: only the entries the
		 * transfer needs must be guest RAM, as for a real HBA. The
		 * table's start is RAM (cmd_load): no address here wraps. */
		if (guest_mem_ptr(mem, c->ctba + CMDT_PRDT + (uint64_t)i * PRD_SIZE, PRD_SIZE,
				  (void **)&e))
			return -EFAULT;
		dba = (get_le32(e) | (uint64_t)get_le32(e + 4) << 32) & ~1ull;	/* bit 0 reserved */
		dw3 = get_le32(e + 12);
		n = (dw3 & PRD_DBC_MASK) + 1;
		if (n > len - total)
			n = len - total;
		if (guest_mem_ptr(mem, dba, n, &hva))
			return -EFAULT;
		if (dw3 & PRD_I)
			c->prd_irq = true;
		if (c->iovcnt && (uint8_t *)c->iov[c->iovcnt - 1].iov_base +
				 c->iov[c->iovcnt - 1].iov_len == hva) {
			c->iov[c->iovcnt - 1].iov_len += n;
		} else {
			if (c->iovcnt == AHCI_MAX_IOV)
				return -E2BIG;
			c->iov[c->iovcnt++] = (struct iovec){ hva, n };
		}
		total += n;
	}
	*mapped = total;
	return 0;
}

void ahci_cmd_prdt_error(struct ahci_cmd *c, int err)
{
	if (err == -EFAULT) {
		pr_warn_once("%s: a PRD points outside guest RAM (PxIS.HBFS)", c->port->name);
		c->err_is |= PXIS_HBFS;
		c->status = ATA_STATUS_OK | ATA_ERR;
		c->error = ATA_ABRT;
		return;
	}
	/* Too short (-ENOSPC: the device has more data than the PRDT
	 * holds, §3.3.5 OFS) or too fragmented (-E2BIG) for the transfer:
	 * the data cannot move, the command is aborted. */
	c->err_is |= err == -ENOSPC ? PXIS_OFS : 0;
	ahci_cmd_abort(c, ATA_ABRT);
}

void ahci_cmd_reply(struct ahci_cmd *c, const void *buf, uint64_t len)
{
	uint64_t mapped, off = 0;
	int ret = ahci_cmd_map(c, len, &mapped);

	if (ret) {
		ahci_cmd_prdt_error(c, ret);
		return;
	}
	for (unsigned int i = 0; i < c->iovcnt; i++) {
		memcpy(c->iov[i].iov_base, (const uint8_t *)buf + off, c->iov[i].iov_len);
		off += c->iov[i].iov_len;
	}
	/* A reply longer than the PRDT is cut to it; PRDBC says how much. */
	c->xfer = (uint32_t)mapped;
}

int64_t ahci_cmd_gather(struct ahci_cmd *c, void *buf, uint64_t len)
{
	uint64_t mapped, off = 0;
	int ret = ahci_cmd_map(c, len, &mapped);

	if (ret)
		return ret;
	for (unsigned int i = 0; i < c->iovcnt; i++) {
		memcpy((uint8_t *)buf + off, c->iov[i].iov_base, c->iov[i].iov_len);
		off += c->iov[i].iov_len;
	}
	c->xfer = (uint32_t)mapped;
	return (int64_t)mapped;
}

int ahci_cmd_queue(struct ahci_cmd *c, struct blk_io_op *op)
{
	int ret;

	op->opaque = c;
	ret = blk_io_queue(&c->port->io, op);
	if (ret)
		return ret;
	c->pending++;
	return 0;
}

void ahci_cmd_ok(struct ahci_cmd *c)
{
	c->status = ATA_STATUS_OK;
	c->error = 0;
}

void ahci_cmd_abort(struct ahci_cmd *c, uint8_t error)
{
	c->status = ATA_STATUS_OK | ATA_ERR;
	c->error = error;
	c->xfer = 0;
}

/* ---- completion ------------------------------------------------------------ */

/* A queued (NCQ) command finished (SATA §13.6): a success waits for the
 * batch's Set Device Bits FIS; an error is reported at once in its own and
 * halts the queue until software recovers (AHCI §6.2.2.2). */
static void finish_ncq(struct ahci_port *p, struct ahci_cmd *c)
{
	uint32_t bit = 1u << c->slot;

	pthread_mutex_lock(&p->hba->lock);
	p->started &= ~bit;
	p->ncq_active &= ~bit;
	/* ST cleared meanwhile, or the queue halted on an earlier error:
	 * the command is abandoned, its PxSACT bit is software's business. */
	if (!(p->cmd & PXCMD_ST) || p->halted)
		goto unlock;
	if (!(c->status & ATA_ERR)) {
		p->sdb_done |= bit;
		goto unlock;
	}
	p->st.ncq_err = true;
	p->st.ncq_tag = (uint8_t)c->slot;
	p->st.ncq_status = c->status;
	p->st.ncq_error = c->error;
	p->st.ncq_lba = c->lba;
	p->st.ncq_count = (uint16_t)c->count;
	p->halted = true;
	if (send_sdb(p, c->status, c->error, p->sdb_done)) {
		p->sact &= ~p->sdb_done;
		ahci_port_raise(p, PXIS_TFES | PXIS_SDBS | c->err_is);
	}
	p->sdb_done = 0;
unlock:
	pthread_mutex_unlock(&p->hba->lock);
}

/* One Set Device Bits FIS for every NCQ command that finished this round. */
static void flush_sdb(struct ahci_port *p)
{
	pthread_mutex_lock(&p->hba->lock);
	if (p->sdb_done && (p->cmd & PXCMD_ST) && !p->halted &&
	    send_sdb(p, ATA_STATUS_OK, 0, p->sdb_done)) {
		p->sact &= ~p->sdb_done;
		ahci_port_raise(p, PXIS_SDBS);
	}
	p->sdb_done = 0;
	pthread_mutex_unlock(&p->hba->lock);
}

/*
 * A non-queued command finished: PRDBC (§4.2.2), then the FISes its
 * protocol ends with, PxTFD, PxCI and PxIS in that order, so that a
 * driver that sees the interrupt or PxCI clear finds everything written.
 * An error leaves the PxCI bit set and halts the port (§6.2.2.1).
 */
static void finish_nonq(struct ahci_port *p, struct ahci_cmd *c)
{
	struct ahci *a = p->hba;
	uint32_t bit = 1u << c->slot, raise = 0;
	bool err = c->status & ATA_ERR;
	void *prdbc;

	if (!(c->err_is & PXIS_HBFS) && !guest_mem_ptr(a->mem, c->hdr + 4, 4, &prdbc))
		put_le32(prdbc, c->xfer);
	pthread_mutex_lock(&a->lock);
	p->started &= ~bit;
	p->nonq_busy = false;
	if (!(p->cmd & PXCMD_ST))
		goto unlock;
	if (c->err_is & (PXIS_HBFS | PXIS_IFS)) {
		/* Fatal (§6.1): no FIS from the device; software resets. */
		p->halted = true;
		ahci_port_raise(p, c->err_is);
		goto unlock;
	}
	if (err) {
		if (send_d2h(p, c->status, c->error, c->out, true)) {
			p->halted = true;
			ahci_port_raise(p, PXIS_TFES | c->err_is);
		}
		goto unlock;
	}
	switch (c->proto) {
	case PROTO_PIO_IN:
		/* SATA §11.7: a successful PIO data-in ends with the data;
		 * the PIO Setup FIS's E_Status is the ending status (Linux
		 * reads it there). */
		if (!send_pio_setup(p, c))
			goto unlock;
		raise = PXIS_PSS;
		break;
	case PROTO_ATAPI_PIO:
		if (c->xfer) {
			if (!send_pio_setup(p, c))
				goto unlock;
			raise = PXIS_PSS;
		}
		/* PACKET ends with a Register D2H FIS */
		/* fall through */
	default:
		if (!send_d2h(p, c->status, c->error, c->out, true))
			goto unlock;
		raise |= PXIS_DHRS;
		break;
	}
	if (c->prd_irq)
		raise |= PXIS_DPS;
	p->ci &= ~bit;
	ahci_port_raise(p, raise);
unlock:
	pthread_mutex_unlock(&a->lock);
}

static void cmd_finish(struct ahci_port *p, struct ahci_cmd *c)
{
	uint32_t bit = 1u << c->slot;

	c->busy = false;
	p->completed++;
	if (p->stopping) {
		/* The engine is being stopped (ST cleared, a reset): what
		 * completes now is abandoned, nothing reaches the guest. */
		pthread_mutex_lock(&p->hba->lock);
		p->started &= ~bit;
		p->ncq_active &= ~bit;
		if (c->proto != PROTO_NCQ)
			p->nonq_busy = false;
		pthread_mutex_unlock(&p->hba->lock);
		return;
	}
	if (c->proto == PROTO_NCQ)
		finish_ncq(p, c);
	else
		finish_nonq(p, c);
}

/* ---- fetching commands ------------------------------------------------------ */

/* Copy slot's command header and the start of its table (§4.2.2-3).
 * -EFAULT: not guest RAM (HBFS); -EPROTO: not a Register H2D FIS (IFS). */
static int cmd_load(struct ahci_port *p, struct ahci_cmd *c, uint64_t clb)
{
	const struct guest_mem *mem = p->hba->mem;
	unsigned int cfl;
	uint8_t *h, *t;

	memset(&c->opts, 0, sizeof(*c) - offsetof(struct ahci_cmd, opts));
	c->iov = p->iov + c->slot * AHCI_MAX_IOV;
	c->hdr = clb + (uint64_t)c->slot * CMDH_SIZE;
	if (guest_mem_ptr(mem, c->hdr, CMDH_SIZE, (void **)&h))
		return -EFAULT;
	c->opts = get_le32(h);
	/* CTBA is 128-byte aligned: bits 6:0 are reserved (§4.2.2). */
	c->ctba = (get_le32(h + 8) & ~0x7fu) | (uint64_t)get_le32(h + 12) << 32;
	if (guest_mem_ptr(mem, c->ctba, CMDT_PRDT, (void **)&t))
		return -EFAULT;
	memcpy(c->fis, t + CMDT_CFIS, sizeof(c->fis));
	memcpy(c->acmd, t + CMDT_ACMD, sizeof(c->acmd));
	/* A Register H2D FIS is 5 dwords; anything else cannot be sent. */
	cfl = c->opts & CMDH_CFL_MASK;
	if (c->fis[0] != FIS_REG_H2D || cfl < 5 || cfl > 16)
		return -EPROTO;
	return 0;
}

/*
 * A Register H2D FIS with C clear updates the Device Control register:
 * the software reset of §10.4.1. Setting SRST (with the header's C bit:
 * clear busy on R_OK) completes without a FIS; clearing it again makes the
 * device reset and send its signature, which ends that command too.
 */
static void cmd_control(struct ahci_port *p, struct ahci_cmd *c)
{
	uint32_t bit = 1u << c->slot;
	bool srst = c->fis[15] & FIS_CTL_SRST, done;

	pthread_mutex_lock(&p->hba->lock);
	if (srst) {
		p->st.srst = true;
		done = c->opts & CMDH_C;
	} else if (p->st.srst) {
		p->st.srst = false;
		ata_drive_reset(p);
		if (p->kind == AHCI_DRIVE_CDROM)
			atapi_drive_reset(p);
		send_signature(p);
		done = true;
	} else {
		done = c->opts & CMDH_C;
	}
	/* Without C (and without a device answer) the command stays issued,
	 * as on the wire: it is not sent again, the port waits for software
	 * to clear ST. */
	if (done) {
		p->ci &= ~bit;
		p->started &= ~bit;
		p->nonq_busy = false;
		c->busy = false;
		p->completed++;
	}
	pthread_mutex_unlock(&p->hba->lock);
}

/* The port cannot go on (§6.1, fatal): HBFS for a bad pointer, IFS for a bad FIS. */
static void cmd_fatal(struct ahci_port *p, uint32_t bit, int err)
{
	pthread_mutex_lock(&p->hba->lock);
	p->started &= ~bit;
	p->nonq_busy = false;
	p->halted = true;
	if (p->cmd & PXCMD_ST)
		ahci_port_raise(p, err == -EFAULT ? PXIS_HBFS : PXIS_IFS);
	pthread_mutex_unlock(&p->hba->lock);
	pr_warn_once("%s: %s (PxIS.%s; the port halts until the driver recovers it)", p->name,
		     err == -EFAULT ? "a command list or table outside guest RAM"
				    : "a command FIS that is no Register H2D FIS",
		     err == -EFAULT ? "HBFS" : "IFS");
}

/* Take every command PxCI offers that can start now (§5.3: the HBA
 * fetches in slot order; non-queued commands one at a time, and only
 * once no queued one is outstanding). */
static void port_fetch(struct ahci_port *p)
{
	struct ahci *a = p->hba;

	for (;;) {
		struct ahci_cmd *c;
		unsigned int slot;
		uint32_t todo, bit;
		uint64_t clb;
		bool ncq;
		int ret;

		pthread_mutex_lock(&a->lock);
		todo = p->ci & ~p->started;
		if (p->halted || !(p->cmd & PXCMD_ST) || p->nonq_busy || !todo) {
			pthread_mutex_unlock(&a->lock);
			return;
		}
		slot = p->next_slot % AHCI_SLOTS;
		while (!(todo & (1u << slot)))
			slot = (slot + 1) % AHCI_SLOTS;
		clb = p->clb;
		pthread_mutex_unlock(&a->lock);

		bit = 1u << slot;
		c = &p->cmds[slot];
		ret = cmd_load(p, c, clb);
		if (ret) {
			cmd_fatal(p, bit, ret);
			return;
		}
		ncq = p->kind == AHCI_DRIVE_DISK && (c->fis[1] & FIS_H2D_C) &&
		      ata_is_ncq(c->fis[2]);
		pthread_mutex_lock(&a->lock);
		if (!ncq && p->ncq_active) {
			/* Wait for the queue to drain; a completion refetches. */
			pthread_mutex_unlock(&a->lock);
			return;
		}
		p->started |= bit;
		p->next_slot = slot + 1;
		p->cmd = (p->cmd & ~PXCMD_CCS_MASK) | slot << PXCMD_CCS_SHIFT;
		if (ncq) {
			/* Queued: the device takes it (D2H, BSY clear, no I) and
			 * PxCI clears; PxSACT stays until it completes. */
			p->ncq_active |= bit;
			p->ci &= ~bit;
			send_d2h(p, ATA_STATUS_OK, 0, NULL, false);
		} else {
			p->nonq_busy = true;
		}
		pthread_mutex_unlock(&a->lock);
		c->busy = true;
		p->commands++;
		if (!(c->fis[1] & FIS_H2D_C)) {
			cmd_control(p, c);
			continue;
		}
		if (ncq)
			c->proto = PROTO_NCQ;
		if (ata_start(p, c) == CMD_DONE)
			cmd_finish(p, c);
	}
}

/* ---- the thread ------------------------------------------------------------ */

static void on_done(void *arg, struct blk_io_op *op)
{
	struct ahci_port *p = arg;
	struct ahci_cmd *c = op->opaque;

	if (op->res) {
		if (!c->io_failed)
			pr_warn_once("%s: I/O error at offset %llu: %s (reported to the guest)", p->name,
				     (unsigned long long)op->offset, strerror(-op->res));
		c->io_failed = true;
		c->io_res = op->res;
	}
	if (--c->pending)
		return;
	if (p->kind == AHCI_DRIVE_CDROM)
		atapi_io_done(p, c);
	else
		ata_io_done(p, c);
	cmd_finish(p, c);
}

static void on_event(void *arg, uint64_t tag)
{
	struct ahci_port *p = arg;
	uint64_t cnt;

	if (tag == TAG_KICK)
		p->kicks++;
	/* Only a stop this thread was asked for (the ring outlives threads). */
	else if (tag == TAG_STOP && read(p->stop_fd, &cnt, sizeof(cnt)) == sizeof(cnt))
		p->stopping = true;
}

static void *port_thread(void *arg)
{
	struct ahci_port *p = arg;
	int ret;

	vmm_thread_enter(VMM_THREAD_IO);
	for (;;) {
		if (!p->stopping)
			port_fetch(p);
		flush_sdb(p);
		if (p->stopping && !p->io.inflight)
			break;
		ret = blk_io_run(&p->io, 1, on_done, on_event, p);
		if (ret < 0) {
			pr_err("%s: io_uring: %s; the port stops", p->name, strerror(-ret));
			pthread_mutex_lock(&p->hba->lock);
			p->halted = true;
			ahci_port_raise(p, PXIS_HBFS);
			pthread_mutex_unlock(&p->hba->lock);
			break;
		}
	}
	return NULL;
}

int ahci_engine_poll(struct ahci_port *p)
{
	unsigned int start = p->completed;
	int ret;

	if (!p->engine_on || p->kind == AHCI_DRIVE_NONE)
		return 0;
	for (;;) {
		port_fetch(p);
		flush_sdb(p);
		/* Reap kick events too, so they do not pile up in the ring. */
		ret = blk_io_run(&p->io, p->io.inflight ? 1 : 0, on_done, on_event, p);
		if (ret < 0)
			return ret;
		if (!p->io.inflight && !ret)
			break;
	}
	flush_sdb(p);
	return (int)(p->completed - start);
}

int ahci_engine_start(struct ahci_port *p)
{
	struct ahci *a = p->hba;
	int ret;

	if (p->engine_on)
		return 0;
	p->stopping = false;
	p->nonq_busy = false;
	p->sdb_done = 0;
	if (p->kind != AHCI_DRIVE_NONE && !a->manual) {
		ret = vmm_thread_start_worker(&p->thread, port_thread, p);
		if (ret) {
			pr_warn_once("%s: cannot start its I/O thread: %s (PxCMD.CR stays clear)",
				     p->name, strerror(-ret));
			return ret;
		}
		p->thread_up = true;
	}
	p->engine_on = true;
	pthread_mutex_lock(&a->lock);
	p->cmd |= PXCMD_CR;
	pthread_mutex_unlock(&a->lock);
	return 0;
}

void ahci_engine_stop(struct ahci_port *p)
{
	uint64_t one = 1, cnt;

	if (!p->engine_on)
		return;
	if (p->thread_up) {
		/* The thread ends once its I/O completed: after the join
		 * nothing writes guest memory for this port any more. */
		if (write(p->stop_fd, &one, sizeof(one)) < 0)
			pr_warn("%s: stopping its thread: %s", p->name, strerror(errno));
		pthread_join(p->thread, NULL);
		p->thread_up = false;
		while (read(p->stop_fd, &cnt, sizeof(cnt)) > 0)
			;
	} else if (p->io_up) {
		p->stopping = true;
		while (p->io.inflight && blk_io_run(&p->io, 1, on_done, on_event, p) >= 0)
			;
	}
	p->engine_on = false;
	p->stopping = false;
	p->nonq_busy = false;
	p->sdb_done = 0;
	for (unsigned int s = 0; s < AHCI_SLOTS; s++)
		p->cmds[s].busy = false;
}

void ahci_engine_kick(struct ahci_port *p)
{
	uint64_t one = 1;

	if (p->thread_up && write(p->kick_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pr_warn_once("%s: waking its thread: %s", p->name, strerror(errno));
}

/*
 * The port's ring lives as long as the device, its threads come and go
 * with PxCMD.ST (as virtio-blk's queues do with DRIVER_OK): it is set up
 * before seccomp, and no thread mallocs or creates a ring under it.
 */
int ahci_port_io_setup(struct ahci_port *p)
{
	int ret;

	p->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->kick_fd < 0)
		return -errno;
	p->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->stop_fd < 0) {
		ret = -errno;
		goto close_kick;
	}
	ret = blk_io_init(&p->io, &p->file, AHCI_RING_ENTRIES, NULL, 0);
	if (ret)
		goto close_stop;
	ret = blk_io_watch(&p->io, p->kick_fd, TAG_KICK);
	if (!ret)
		ret = blk_io_watch(&p->io, p->stop_fd, TAG_STOP);
	if (!ret)
		ret = blk_io_enable(&p->io);
	if (ret)
		goto exit_io;
	p->io_up = true;
	return 0;

exit_io:
	blk_io_exit(&p->io);
close_stop:
	close(p->stop_fd);
	p->stop_fd = -1;
close_kick:
	close(p->kick_fd);
	p->kick_fd = -1;
	return ret;
}

void ahci_port_io_teardown(struct ahci_port *p)
{
	if (p->io_up)
		blk_io_exit(&p->io);
	p->io_up = false;
	if (p->stop_fd >= 0)
		close(p->stop_fd);
	if (p->kick_fd >= 0)
		close(p->kick_fd);
	p->stop_fd = p->kick_fd = -1;
}
