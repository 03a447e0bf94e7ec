// SPDX-License-Identifier: MIT
/*
 * Intel command-set CFI flash, after "Common Flash Interface (CFI) and
 * Command Sets" (Intel AP-646, "AP-646"), the JEDEC CFI query layout
 * (JESD68, "CFI") and QEMU's pflash_cfi01 behaviour where OVMF depends on
 * it. Commands (first write cycle; AP-646 §4):
 *
 *   FFh/00h/F0h read array     70h read status     90h read identifier
 *   98h CFI query              50h clear status    10h/40h program
 *   20h block erase, then D0h  E8h write to buffer, count, data, D0h
 *   60h lock setup, then 01h/D0h/2Fh (accepted, nothing is ever locked)
 *
 * The status register (AP-646 §4.4): bit 7 ready, bit 5 erase error,
 * bit 4 program error, both set for a command sequence error. Two QEMU
 * details OVMF's flash detection (QemuFlashDetected) relies on: clear
 * status also clears "ready" and returns to read-array, so that after
 * 50h the probed byte still reads as data and after 70h the status
 * reads 00h ("behaves as FLASH"). Programming stores the written bytes
 * as QEMU does (not the AND of old and new a real cell would give);
 * OVMF always erases before it writes 1s.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/pflash.h"
#include "lib/log.h"

#define CMD_READ_ARRAY		0xff
#define CMD_PROGRAM		0x10
#define CMD_PROGRAM_ALT		0x40
#define CMD_BLOCK_ERASE		0x20
#define CMD_CONFIRM		0xd0
#define CMD_CLEAR_STATUS	0x50
#define CMD_READ_STATUS		0x70
#define CMD_READ_ID		0x90
#define CMD_CFI_QUERY		0x98
#define CMD_WRITE_BUFFER	0xe8
#define CMD_LOCK_SETUP		0x60
#define CMD_LOCK_BLOCK		0x01
#define CMD_LOCK_DOWN		0x2f
#define CMD_AMD_RESET		0xf0

#define SR_READY		0x80
#define SR_ERASE_ERR		0x20
#define SR_PROGRAM_ERR		0x10
#define SR_SEQ_ERR		(SR_ERASE_ERR | SR_PROGRAM_ERR)

#define ID_MANUFACTURER		0x89	/* Intel */
#define ID_DEVICE		0x18	/* what QEMU's x86 pflash reports */

#define WB_SIZE			256	/* CFI 2Ah = 8: 2^8-byte write buffer */

enum pflash_mode {
	MODE_READ_ARRAY,
	MODE_STATUS,		/* read status: 70h, or after an operation */
	MODE_READ_ID,
	MODE_CFI,
	MODE_PROGRAM,		/* next write is the data */
	MODE_ERASE,		/* next write must be D0h */
	MODE_LOCK,		/* next write is 01h/D0h/2Fh */
	MODE_WB_COUNT,		/* next write is the byte count - 1 */
	MODE_WB_DATA,
	MODE_WB_CONFIRM,
};

struct pflash {
	struct device dev;
	pthread_mutex_t lock;
	const struct vm_ops *ops;
	struct bus *mmio;
	uint64_t gpa, size;
	int fd;
	bool readonly;
	uint8_t *data;			/* host copy, page aligned */
	int slot;			/* memslot while in read-array, else -1 */
	bool registered;
	bool dirty;			/* written since the last fdatasync */

	enum pflash_mode mode;
	uint8_t status;
	uint8_t cfi[0x40];

	/* write to buffer */
	uint64_t wb_base;		/* WB_SIZE-aligned window, set by the first byte */
	unsigned int wb_count, wb_got;
	uint8_t wb_data[WB_SIZE];
	bool wb_valid[WB_SIZE];
};

static unsigned int log2_ceil(uint64_t v)
{
	unsigned int n = 0;

	while (n < 63 && (1ULL << n) < v)
		n++;
	return n;
}

/* The CFI query structure (CFI §4.3-4.5, Intel primary table AP-646
 * §5.1), with QEMU's timing values. */
static void pflash_build_cfi(struct pflash *pf)
{
	uint64_t blocks = pf->size / PFLASH_SECTOR_SIZE;
	uint8_t *t = pf->cfi;

	memcpy(&t[0x10], "QRY", 3);
	t[0x13] = 0x01;			/* primary command set: Intel/Sharp extended */
	t[0x15] = 0x31;			/* primary extended table at 31h */
	t[0x1b] = 0x45;			/* Vcc min 4.5 V */
	t[0x1c] = 0x55;			/* Vcc max 5.5 V */
	t[0x1f] = 0x07;			/* typical single program 2^7 us */
	t[0x20] = 0x07;			/* typical buffer write 2^7 us */
	t[0x21] = 0x0a;			/* typical block erase 2^10 ms */
	t[0x23] = 0x04;			/* max = typical * 2^4 */
	t[0x24] = 0x04;
	t[0x25] = 0x04;
	/* Device size 2^n bytes: rounded up, a VARS file is not a power of 2. */
	t[0x27] = (uint8_t)log2_ceil(pf->size);
	t[0x28] = 0x00;			/* x8 asynchronous interface */
	t[0x2a] = 0x08;			/* write buffer 2^8 bytes */
	t[0x2c] = 0x01;			/* one erase block region */
	t[0x2d] = (uint8_t)(blocks - 1);
	t[0x2e] = (uint8_t)((blocks - 1) >> 8);
	t[0x2f] = (uint8_t)(PFLASH_SECTOR_SIZE >> 8);
	t[0x30] = (uint8_t)(PFLASH_SECTOR_SIZE >> 16);
	memcpy(&t[0x31], "PRI10", 5);	/* primary table, version 1.0 */
	t[0x3f] = 0x01;			/* protection register fields */
}

/* ---- backing file ---------------------------------------------------- */

static int pflash_persist(struct pflash *pf, uint64_t off, uint64_t len)
{
	uint64_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(pf->fd, pf->data + off + done, len - done,
				   (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			pr_warn_once("pflash: writing the flash file failed: %s (the guest sees a program/erase error)",
				     n < 0 ? strerror(errno) : "short write");
			return -EIO;
		}
		done += (uint64_t)n;
	}
	pf->dirty = true;
	return 0;
}

static void pflash_sync(struct pflash *pf)
{
	if (!pf->dirty)
		return;
	if (fdatasync(pf->fd) < 0)
		pr_warn_once("pflash: fdatasync of the flash file failed: %s", strerror(errno));
	pf->dirty = false;
}

/* ---- read-array memslot ("romd") ------------------------------------ */

static void pflash_sync_romd(struct pflash *pf)
{
	bool want = pf->mode == MODE_READ_ARRAY;

	if (!want && pf->slot >= 0) {
		pf->ops->remove_memslot(pf->ops->vm, pf->slot);
		pf->slot = -1;
	} else if (want && pf->slot < 0) {
		/* On failure reads keep exiting and are served from data[]:
		 * slower, still correct. */
		if (pf->ops->add_memslot(pf->ops->vm, pf->gpa, pf->size, pf->data,
					 VM_MEMSLOT_READONLY, &pf->slot)) {
			pr_warn_once("pflash: cannot map the flash at %#llx for direct reads; reads will trap",
				     (unsigned long long)pf->gpa);
			pf->slot = -1;
		}
		/* The guest finished a program sequence (OVMF's QemuFlashWrite
		 * always ends with FFh): make it durable now. */
		pflash_sync(pf);
	}
}

/* ---- MMIO ------------------------------------------------------------- */

static uint8_t pflash_read_byte(struct pflash *pf, uint64_t off)
{
	switch (pf->mode) {
	case MODE_READ_ARRAY:
		return pf->data[off];
	case MODE_READ_ID:
		/* AP-646 §4.3: identifier codes at the start of any block,
		 * block lock status at offset 2 (never locked). */
		switch (off & (PFLASH_SECTOR_SIZE - 1)) {
		case 0:
			return ID_MANUFACTURER;
		case 1:
			return ID_DEVICE;
		default:
			return 0;
		}
	case MODE_CFI:
		off &= 0xff;
		return off < sizeof(pf->cfi) ? pf->cfi[off] : 0;
	default:
		/* After any setup or operation a read returns the status. */
		return pf->status;
	}
}

static void pflash_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	struct pflash *pf = opaque;
	uint8_t *p = data;

	pthread_mutex_lock(&pf->lock);
	for (unsigned int i = 0; i < len; i++)
		p[i] = offset < pf->size && i < pf->size - offset ?
		       pflash_read_byte(pf, offset + i) : 0xff;
	pthread_mutex_unlock(&pf->lock);
}

static void pflash_program(struct pflash *pf, uint64_t off, const uint8_t *p, unsigned int len)
{
	if (pf->readonly) {
		pf->status |= SR_PROGRAM_ERR;
	} else {
		memcpy(pf->data + off, p, len);
		if (pflash_persist(pf, off, len))
			pf->status |= SR_PROGRAM_ERR;
	}
	pf->status |= SR_READY;
	pf->mode = MODE_STATUS;
}

static void pflash_erase(struct pflash *pf, uint64_t off)
{
	uint64_t block = off & ~(PFLASH_SECTOR_SIZE - 1);

	if (pf->readonly) {
		pf->status |= SR_ERASE_ERR;
	} else {
		memset(pf->data + block, 0xff, PFLASH_SECTOR_SIZE);
		if (pflash_persist(pf, block, PFLASH_SECTOR_SIZE))
			pf->status |= SR_ERASE_ERR;
		pflash_sync(pf);
	}
	pf->status |= SR_READY;
	pf->mode = MODE_STATUS;
}

static void pflash_wb_fail(struct pflash *pf)
{
	pf->status |= SR_SEQ_ERR | SR_READY;
	pf->mode = MODE_STATUS;
}

static void pflash_wb_data(struct pflash *pf, uint64_t off, const uint8_t *p, unsigned int len)
{
	for (unsigned int i = 0; i < len; i++) {
		uint64_t a = off + i;

		/* AP-646 §4.7: every address must lie in the buffer's
		 * aligned window, and no more than count bytes may come. */
		if (pf->wb_got == 0)
			pf->wb_base = a & ~(uint64_t)(WB_SIZE - 1);
		if (a - pf->wb_base >= WB_SIZE || pf->wb_got >= pf->wb_count) {
			pflash_wb_fail(pf);
			return;
		}
		pf->wb_data[a - pf->wb_base] = p[i];
		pf->wb_valid[a - pf->wb_base] = true;
		pf->wb_got++;
	}
	if (pf->wb_got == pf->wb_count)
		pf->mode = MODE_WB_CONFIRM;
}

static void pflash_wb_commit(struct pflash *pf)
{
	unsigned int lo = WB_SIZE, hi = 0;

	if (pf->readonly) {
		pf->status |= SR_PROGRAM_ERR | SR_READY;
		pf->mode = MODE_STATUS;
		return;
	}
	for (unsigned int i = 0; i < WB_SIZE; i++) {
		if (!pf->wb_valid[i])
			continue;
		pf->data[pf->wb_base + i] = pf->wb_data[i];
		lo = i < lo ? i : lo;
		hi = i + 1;
	}
	if (lo < hi && pflash_persist(pf, pf->wb_base + lo, hi - lo))
		pf->status |= SR_PROGRAM_ERR;
	pflash_sync(pf);
	pf->status |= SR_READY;
	pf->mode = MODE_STATUS;
}

/* A first-cycle command (in any read mode, or after an operation). */
static void pflash_command(struct pflash *pf, uint8_t cmd)
{
	switch (cmd) {
	case CMD_READ_ARRAY:
	case 0x00:
	case CMD_AMD_RESET:
		pf->mode = MODE_READ_ARRAY;
		break;
	case CMD_PROGRAM:
	case CMD_PROGRAM_ALT:
		pf->mode = MODE_PROGRAM;
		break;
	case CMD_BLOCK_ERASE:
		pf->mode = MODE_ERASE;
		break;
	case CMD_CLEAR_STATUS:
		pf->status = 0;
		pf->mode = MODE_READ_ARRAY;
		break;
	case CMD_READ_STATUS:
		pf->mode = MODE_STATUS;
		break;
	case CMD_READ_ID:
		pf->mode = MODE_READ_ID;
		break;
	case CMD_CFI_QUERY:
		pf->mode = MODE_CFI;
		break;
	case CMD_WRITE_BUFFER:
		/* The extended status (buffer available) reads "ready". */
		pf->status |= SR_READY;
		pf->mode = MODE_WB_COUNT;
		break;
	case CMD_LOCK_SETUP:
		pf->mode = MODE_LOCK;
		break;
	default:
		pr_warn_once("pflash: unknown command %#x (back to read-array)", cmd);
		pf->mode = MODE_READ_ARRAY;
		break;
	}
}

static void pflash_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	struct pflash *pf = opaque;
	const uint8_t *p = data;
	uint8_t cmd = p[0];

	if (offset >= pf->size || len > pf->size - offset)
		return;
	pthread_mutex_lock(&pf->lock);
	/*
	 * data[] only changes in the second (or later) cycle of a sequence,
	 * and the first cycle already left read-array, whose memslot the
	 * pflash_sync_romd() below removed: the guest never maps a page
	 * that is being written.
	 */
	switch (pf->mode) {
	case MODE_PROGRAM:
		pflash_program(pf, offset, p, len);
		break;
	case MODE_ERASE:
		if (cmd == CMD_CONFIRM)
			pflash_erase(pf, offset);
		else
			pf->mode = MODE_READ_ARRAY;	/* QEMU: abandon the sequence */
		break;
	case MODE_LOCK:
		if (cmd == CMD_LOCK_BLOCK || cmd == CMD_CONFIRM || cmd == CMD_LOCK_DOWN) {
			pf->status |= SR_READY;
			pf->mode = MODE_STATUS;
		} else {
			pf->mode = MODE_READ_ARRAY;
		}
		break;
	case MODE_WB_COUNT:
		pf->wb_count = (unsigned int)cmd + 1;
		pf->wb_got = 0;
		memset(pf->wb_valid, 0, sizeof(pf->wb_valid));
		pf->mode = MODE_WB_DATA;
		break;
	case MODE_WB_DATA:
		pflash_wb_data(pf, offset, p, len);
		break;
	case MODE_WB_CONFIRM:
		if (cmd == CMD_CONFIRM)
			pflash_wb_commit(pf);
		else
			pflash_wb_fail(pf);
		break;
	default:
		pflash_command(pf, cmd);
		break;
	}
	pflash_sync_romd(pf);
	pthread_mutex_unlock(&pf->lock);
}

static const struct bus_dev_ops pflash_ops = {
	.read = pflash_read,
	.write = pflash_write,
};

/* ---- life cycle -------------------------------------------------------- */

static int pflash_load(struct pflash *pf)
{
	uint64_t done = 0;

	while (done < pf->size) {
		ssize_t n = pread(pf->fd, pf->data + done, pf->size - done, (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0) {
			pr_err("pflash: the flash file has %llu bytes, %llu expected (give the image the VM was set up with)",
			       (unsigned long long)done, (unsigned long long)pf->size);
			return -EINVAL;
		}
		done += (uint64_t)n;
	}
	return 0;
}

/*
 * Power-on: read-array mode with the status register ready and no write
 * buffer half filled (Intel 28F-series CFI, "Read Array" is the state
 * after RP# is released), so the reset vector reads the code. The
 * contents, and the file behind them, are what survives.
 */
static void pflash_dev_reset(struct device *dev)
{
	struct pflash *pf = container_of(dev, struct pflash, dev);

	pthread_mutex_lock(&pf->lock);
	pf->mode = MODE_READ_ARRAY;
	pf->status = SR_READY;
	pf->wb_count = pf->wb_got = 0;
	pflash_sync_romd(pf);
	pflash_sync(pf);
	pthread_mutex_unlock(&pf->lock);
}

/* The firmware image that created the flash (firmware/ovmf.c) destroys it. */
static const struct device_ops pflash_device_ops = {
	.reset = pflash_dev_reset,
};

struct pflash *pflash_create(const struct vm_ops *ops, struct bus *mmio, uint64_t gpa,
			     int fd, uint64_t size, bool readonly)
{
	struct pflash *pf;
	void *p;
	int ret, fl;

	if (!size || size % PFLASH_SECTOR_SIZE || size > PFLASH_MAX_SIZE ||
	    gpa % PFLASH_SECTOR_SIZE || gpa + (size - 1) < gpa || fd < 0) {
		errno = fd < 0 ? EBADF : EINVAL;
		return NULL;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return NULL;
	if (!readonly && (fl & O_ACCMODE) != O_RDWR) {
		pr_err("pflash: a writable flash needs its file opened read-write");
		errno = EBADF;
		return NULL;
	}
	pf = calloc(1, sizeof(*pf));
	if (!pf) {
		errno = ENOMEM;
		return NULL;
	}
	pf->ops = ops;
	pf->mmio = mmio;
	pf->gpa = gpa;
	pf->size = size;
	pf->readonly = readonly;
	pf->slot = -1;
	/* QEMU's initial status: the state machine is ready. */
	pf->status = SR_READY;
	pf->mode = MODE_READ_ARRAY;
	pflash_build_cfi(pf);
	ret = -pthread_mutex_init(&pf->lock, NULL);
	if (ret)
		goto free_pf;
	pf->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (pf->fd < 0) {
		ret = -errno;
		goto destroy_lock;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		ret = -errno;
		goto close_fd;
	}
	pf->data = p;
	ret = pflash_load(pf);
	if (ret)
		goto unmap_data;
	ret = bus_register(mmio, gpa, size, &pflash_ops, pf, readonly ? "pflash-ro" : "pflash");
	if (ret)
		goto unmap_data;
	pf->registered = true;
	ret = ops->add_memslot(ops->vm, gpa, size, pf->data, VM_MEMSLOT_READONLY, &pf->slot);
	if (ret) {
		pf->slot = -1;
		goto unregister;
	}
	device_register(ops, &pf->dev, readonly ? "pflash-ro" : "pflash", &pflash_device_ops);
	return pf;

unregister:
	bus_unregister(mmio, gpa);
unmap_data:
	munmap(pf->data, size);
close_fd:
	close(pf->fd);
destroy_lock:
	pthread_mutex_destroy(&pf->lock);
free_pf:
	free(pf);
	errno = -ret;
	return NULL;
}

void pflash_destroy(struct pflash *pf)
{
	if (!pf)
		return;
	device_unregister(&pf->dev);
	if (pf->slot >= 0)
		pf->ops->remove_memslot(pf->ops->vm, pf->slot);
	if (pf->registered)
		bus_unregister(pf->mmio, pf->gpa);
	pflash_sync(pf);
	munmap(pf->data, pf->size);
	close(pf->fd);
	pthread_mutex_destroy(&pf->lock);
	free(pf);
}

const void *pflash_data(const struct pflash *pf)
{
	return pf->data;
}

uint64_t pflash_size(const struct pflash *pf)
{
	return pf->size;
}
