// SPDX-License-Identifier: MIT
/*
 * virtio-blk as a guest driver reaches it: the modern PCI transport
 * (config space, BAR 4 common/ISR/device/notify regions, the MSI-X BAR),
 * split virtqueues in real guest RAM (mem_layout() + mem_alloc(), 64 MiB,
 * with the VGA and isa-bios holes), and the request path: every chain a
 * notification makes available is popped (vq_pop), taken apart
 * (vblk_parse), planned (vblk_plan) and executed by the io_uring engine
 * (blk_io) on a 1 MiB temporary image, then completed (status byte,
 * vq_push, vq_should_notify, the queue's interrupt).
 *
 * The harness plays the queue thread of devices/virtio/blk.c, one
 * request at a time and synchronously, so runs are repeatable: the
 * transport is virtio_pci with the device's feature set and config
 * layout, activation resolves the rings as blk.c's queue_prepare() does,
 * and a chain is served as its req_start()/req_finish() do.
 *
 * Invariants: every planned operation lies inside the disk, reads and
 * writes move exactly the bytes of their segments (checked against the
 * image with pread when no two segments alias), write-zeroes leaves
 * zeroes, the image never grows, the status byte is 0-2 and the used
 * length never exceeds the device-writable bytes, used->idx is what the
 * device pushed, a broken ring puts the device in DEVICE_NEEDS_RESET,
 * the holes in guest RAM are never written, and at the end every
 * ioeventfd, irqfd, MSI route and bus range is gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/block/blk_io.h"
#include "devices/bus.h"
#include "devices/pci.h"
#include "devices/virtio/blk.h"
#include "devices/virtio/virtio_pci.h"
#include "devices/virtio/virtqueue.h"
#include "lib/memory.h"
#include "tests/fuzz/fuzz.h"
#include "tests/unit/fake_vm.h"

#define RAM_SIZE	(64 * MiB)
#define ISA_ROM		(128 * KiB)
#define CANARY		0xcc
#define DISK_SIZE	(1 * MiB)
#define NQ		2
#define QSIZE		VBLK_QUEUE_SIZE
#define DEVFN		PCI_DEVFN(3, 0)
#define BAR4_ADDR	0xe0000000ULL
#define BAR1_ADDR	0xe0100000ULL
#define RING_BASE	0x10000ULL	/* queue q: desc, avail, used at +q*0x8000 */
#define RING_END	0x30000ULL
#define DATA_BASE	0x100000ULL	/* request buffers */
#define DATA_SIZE	0x100000ULL

static struct guest_mem mem;
static struct blk_file file_rw, file_ro;
static struct blk_io io_rw, io_ro;
static uint8_t canary_ref[MEM_VGA_END - MEM_VGA_BASE];

/* Guest RAM outside the ring and data areas the device wrote this input. */
#define MAX_DIRTY	1024
static struct { uint64_t gpa, len; } dirty[MAX_DIRTY];
static unsigned int nr_dirty;
static bool dirty_all;

static void mark_dirty_hva(const void *p, size_t len)
{
	const uint8_t *b = p;

	if (b < mem.base || b >= mem.base + RAM_SIZE)
		return;
	if (nr_dirty == MAX_DIRTY) {
		dirty_all = true;
		return;
	}
	dirty[nr_dirty].gpa = (uint64_t)(b - mem.base);
	dirty[nr_dirty].len = len;
	nr_dirty++;
}

static void fill_holes(void)
{
	memset(mem.base + MEM_VGA_BASE, CANARY, MEM_VGA_END - MEM_VGA_BASE);
	memset(mem.base + MEM_ISA_BIOS_END - ISA_ROM, CANARY, ISA_ROM);
}

static void check_holes(void)
{
	FZ_CHECK(!memcmp(mem.base + MEM_VGA_BASE, canary_ref, sizeof(canary_ref)),
		 "the VGA hole of guest RAM was written");
	FZ_CHECK(!memcmp(mem.base + MEM_ISA_BIOS_END - ISA_ROM, canary_ref, ISA_ROM),
		 "the isa-bios hole of guest RAM was written");
}

static void clean_ram(void)
{
	if (dirty_all) {
		memset(mem.base, 0, RAM_SIZE);
	} else {
		for (unsigned int i = 0; i < nr_dirty; i++) {
			uint64_t end = dirty[i].gpa + dirty[i].len;

			memset(mem.base + dirty[i].gpa, 0,
			       (end > RAM_SIZE ? RAM_SIZE : end) - dirty[i].gpa);
		}
		memset(mem.base + RING_BASE, 0, RING_END - RING_BASE);
		memset(mem.base + DATA_BASE, 0, DATA_SIZE);
	}
	nr_dirty = 0;
	dirty_all = false;
	fill_holes();
}

/* A temporary image, unlinked at once (the engine keeps it open). */
static int open_image(struct blk_file *f, bool readonly)
{
	char path[] = "/tmp/fuzz-virtio-blk.XXXXXX";
	int fd = mkstemp(path), ret = -1;

	if (fd < 0)
		return -1;
	if (!ftruncate(fd, DISK_SIZE) && !blk_file_open(f, path, readonly, false))
		ret = 0;
	unlink(path);
	close(fd);
	return ret;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (mem_layout(&mem, RAM_SIZE, ISA_ROM) || mem_alloc(&mem, MEM_BACKING_ANON, "/sys"))
		abort();
	memset(mem.base, 0, RAM_SIZE);
	memset(canary_ref, CANARY, sizeof(canary_ref));
	fill_holes();
	if (open_image(&file_rw, false) || open_image(&file_ro, true) || blk_io_init(&io_rw, &file_rw, 64, NULL, 0) ||
	    blk_io_init(&io_ro, &file_ro, 64, NULL, 0) || blk_io_enable(&io_rw) ||
	    blk_io_enable(&io_ro)) {
		fprintf(stderr, "fuzz_virtio_blk: cannot set up the image or io_uring\n");
		abort();
	}
	return 0;
}

/* ---- the device: transport + the queue thread's work ---------------------- */

struct hq {
	bool live, kicked;
	struct vq vq;
	uint16_t next_desc;	/* the harness driver's next free descriptor */
};

struct dev {
	struct fake_vm fvm;
	struct bus pio, mmio;
	struct pci_root *root;
	struct virtio_pci vp;
	bool vp_init;
	struct virtio_blk_config cfg;
	struct vblk_disk disk;
	const struct blk_file *file;
	struct blk_io *io;
	uint8_t serial[VIRTIO_BLK_ID_BYTES];
	struct hq q[NQ];
	uint64_t cursor;	/* bump allocator in the data area */
};

static struct dev *to_dev(void *opaque)
{
	return opaque;
}

static void dev_config_read(void *opaque, uint64_t off, void *data, unsigned int len)
{
	struct dev *d = to_dev(opaque);

	FZ_CHECK(off < sizeof(d->cfg) && len <= sizeof(d->cfg) - off,
		 "config read [%llu, +%u) past the %zu-byte config", (unsigned long long)off, len,
		 sizeof(d->cfg));
	memcpy(data, (uint8_t *)&d->cfg + off, len);
}

static int dev_set_features(void *opaque, uint64_t features)
{
	return 0;
}

/* blk.c's vblk_activate()/queue_prepare(), without the thread. */
static int dev_activate(void *opaque)
{
	struct dev *d = to_dev(opaque);
	uint64_t f = virtio_pci_features(&d->vp);

	d->disk.features = f;
	for (unsigned int i = 0; i < NQ; i++) {
		const struct virtio_pci_queue *pq = virtio_pci_queue(&d->vp, i);
		int ret;

		if (!pq->enabled)
			continue;
		if (pq->size > pq->max_size)
			return -EINVAL;
		ret = vq_init(&d->q[i].vq, &mem, pq->size, pq->desc, pq->driver, pq->device,
			      f & VIRTIO_BIT(VIRTIO_F_EVENT_IDX),
			      f & VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC));
		if (ret) {
			for (unsigned int j = 0; j < NQ; j++)
				d->q[j].live = false;
			return ret;
		}
		d->q[i].live = true;
		/* The device writes the used ring (and avail_event). */
		mark_dirty_hva(d->q[i].vq.used, 6 + 8ULL * pq->size);
		/* Buffers made available before DRIVER_OK are served now. */
		d->q[i].kicked = true;
	}
	return 0;
}

static void dev_reset(void *opaque)
{
	struct dev *d = to_dev(opaque);

	for (unsigned int i = 0; i < NQ; i++)
		d->q[i].live = d->q[i].kicked = false;
}

static const struct virtio_dev_ops dev_ops = {
	.config_read = dev_config_read,
	.set_features = dev_set_features,
	.activate = dev_activate,
	.reset = dev_reset,
};

struct inflight {
	unsigned int pending;
	bool failed;
};

static void on_done(void *arg, struct blk_io_op *op)
{
	struct inflight *fl = arg;

	if (op->res)
		fl->failed = true;
	fl->pending--;
}

static bool overlaps(const void *a, size_t alen, const void *b, size_t blen)
{
	const uint8_t *x = a, *y = b;

	return alen && blen && x < y + blen && y < x + alen;
}

/* Do two segments (or a segment and the status byte) share bytes? */
static bool aliased(const struct iovec *iov, unsigned int n, const uint8_t *status)
{
	for (unsigned int i = 0; i < n; i++) {
		if (overlaps(iov[i].iov_base, iov[i].iov_len, status, 1))
			return true;
		for (unsigned int j = i + 1; j < n; j++)
			if (overlaps(iov[i].iov_base, iov[i].iov_len, iov[j].iov_base,
				     iov[j].iov_len))
				return true;
	}
	return false;
}

static void check_ops(struct dev *d, const struct vblk_req_info *r, const struct blk_io_op *ops,
		      unsigned int n)
{
	uint64_t disk = d->disk.capacity * VIRTIO_BLK_SECTOR;

	for (unsigned int i = 0; i < n; i++) {
		const struct blk_io_op *op = &ops[i];
		uint64_t sum = 0;

		if (op->kind == BLK_IO_FLUSH)
			continue;
		FZ_CHECK(op->offset <= disk && op->len <= disk - op->offset,
			 "op %u (kind %d) at [%llu, +%llu) outside the %llu-byte disk", i, op->kind,
			 (unsigned long long)op->offset, (unsigned long long)op->len,
			 (unsigned long long)disk);
		FZ_CHECK(!d->disk.readonly || op->kind == BLK_IO_READ,
			 "op kind %d on a read-only disk", op->kind);
		if (op->kind != BLK_IO_READ && op->kind != BLK_IO_WRITE)
			continue;
		for (unsigned int k = 0; k < op->iovcnt; k++)
			sum += op->iov[k].iov_len;
		FZ_CHECK(sum == op->len, "op %u: segments hold %llu bytes for a %llu-byte transfer",
			 i, (unsigned long long)sum, (unsigned long long)op->len);
		FZ_CHECK(op->iovcnt <= r->data_cnt, "op %u: %u segments of %u", i, op->iovcnt,
			 r->data_cnt);
	}
}

/* One chain, as blk.c's req_start() and req_finish() serve it. */
static void serve(struct dev *d, struct hq *h, struct vq_elem *e)
{
	struct blk_io_op ops[VBLK_MAX_DWZ_SEG];
	struct iovec saved[VBLK_MAX_IOV];
	struct vblk_req_info info;
	struct inflight fl = { 0 };
	uint8_t result, *gather = NULL;
	uint32_t used;
	unsigned int n, cnt = 0;
	bool verify;

	for (unsigned int i = 0; i < e->nr_in; i++)
		mark_dirty_hva(e->iov[e->nr_out + i].iov_base, e->iov[e->nr_out + i].iov_len);
	if (e->last_in)
		mark_dirty_hva(e->last_in, 1);
	if (vblk_parse(e, &info)) {
		h->vq.why = "a request without room for its header or status";
		h->vq.broken = true;
		virtio_pci_needs_reset(&d->vp);
		return;
	}
	FZ_CHECK(info.status == e->last_in, "status byte is not the last writable byte");
	if (e->truncated)
		info.type = UINT32_MAX;
	n = vblk_plan(&d->disk, &info, ops, &result, &used);
	FZ_CHECK(n <= VBLK_MAX_DWZ_SEG, "%u operations", n);
	FZ_CHECK(result <= VIRTIO_BLK_S_UNSUPP, "status %u", result);
	FZ_CHECK(used >= 1 && used <= e->in_len, "used %u of %llu writable bytes", used,
		 (unsigned long long)e->in_len);
	check_ops(d, &info, ops, n);

	/* Keep what is needed to check the data afterwards. */
	verify = n == 1 && (ops[0].kind == BLK_IO_READ || ops[0].kind == BLK_IO_WRITE) &&
		 ops[0].iovcnt <= VBLK_MAX_IOV && !aliased(ops[0].iov, ops[0].iovcnt, info.status);
	if (verify) {
		cnt = ops[0].iovcnt;
		memcpy(saved, ops[0].iov, cnt * sizeof(*saved));
		gather = malloc(ops[0].len ? ops[0].len : 1);
		FZ_CHECK(gather, "out of memory");
		if (ops[0].kind == BLK_IO_WRITE)
			iov_to_buf(saved, cnt, 0, gather, ops[0].len);
	}
	for (unsigned int i = 0; i < n; i++) {
		ops[i].opaque = &fl;
		FZ_CHECK(blk_io_queue(d->io, &ops[i]) == 0, "cannot queue operation %u", i);
		fl.pending++;
	}
	while (fl.pending)
		FZ_CHECK(blk_io_run(d->io, fl.pending, on_done, NULL, &fl) >= 0, "io_uring failed");
	if (fl.failed)
		result = VIRTIO_BLK_S_IOERR;

	if (verify && !fl.failed) {
		uint64_t len = ops[0].len;
		uint8_t *disk = malloc(len ? len : 1);

		FZ_CHECK(disk, "out of memory");
		FZ_CHECK(pread(d->file->fd_buffered, disk, len, (off_t)ops[0].offset) == (ssize_t)len,
			 "short pread");
		if (ops[0].kind == BLK_IO_READ)
			iov_to_buf(saved, cnt, 0, gather, len);
		FZ_CHECK(!memcmp(disk, gather, len), "%s of %llu bytes at %llu moved the wrong data",
			 ops[0].kind == BLK_IO_READ ? "read" : "write", (unsigned long long)len,
			 (unsigned long long)ops[0].offset);
		free(disk);
	}
	for (unsigned int i = 0; i < n && !fl.failed; i++) {
		static const uint8_t zero[4096];
		uint8_t buf[4096];

		if (ops[i].kind != BLK_IO_WRITE_ZEROES && ops[i].kind != BLK_IO_WRITE_ZEROES_UNMAP)
			continue;
		for (uint64_t o = 0; o < ops[i].len; o += sizeof(buf)) {
			size_t k = ops[i].len - o < sizeof(buf) ? ops[i].len - o : sizeof(buf);

			FZ_CHECK(pread(d->file->fd_buffered, buf, k, (off_t)(ops[i].offset + o)) ==
				 (ssize_t)k, "short pread");
			FZ_CHECK(!memcmp(buf, zero, k), "write-zeroes left data at %llu",
				 (unsigned long long)(ops[i].offset + o));
		}
	}
	free(gather);

	*info.status = result;
	vq_push(&h->vq, e->head, used);
	{
		uint16_t idx;

		memcpy(&idx, h->vq.used + 2, 2);
		FZ_CHECK(le16toh(idx) == h->vq.used_idx, "used->idx %u after pushing %u",
			 le16toh(idx), h->vq.used_idx);
	}
}

static void drain(struct dev *d, unsigned int qi)
{
	static struct iovec iov[VBLK_MAX_IOV];
	struct hq *h = &d->q[qi];
	bool served = false;

	for (;;) {
		struct vq_elem e = { .iov = iov, .cap = VBLK_MAX_IOV };
		int ret = vq_pop(&h->vq, &e);

		if (ret < 0) {
			virtio_pci_needs_reset(&d->vp);
			break;
		}
		if (ret == 0) {
			if (h->vq.broken || !vq_enable_notify(&h->vq))
				break;
			continue;
		}
		serve(d, h, &e);
		served = true;
		if (h->vq.broken)
			break;
	}
	if (served && !h->vq.broken && vq_should_notify(&h->vq))
		virtio_pci_notify_queue(&d->vp, qi);
}

/* The queue threads' wake-up: their kick eventfds, or activation. */
static void service(struct dev *d)
{
	for (unsigned int i = 0; i < NQ; i++) {
		uint64_t cnt;
		bool kicked = d->q[i].kicked;

		while (read(d->vp.queues[i].kick_fd, &cnt, sizeof(cnt)) > 0)
			kicked = true;
		d->q[i].kicked = false;
		if (kicked && d->q[i].live && !d->q[i].vq.broken)
			drain(d, i);
	}
}

/* ---- KVM refusing things ---------------------------------------------------- */

/*
 * KVM can refuse an ioeventfd (the bus is full), an MSI route or an irqfd
 * (out of GSIs, out of memory): OP_FAULTS makes the fake VM do so, and the
 * device must carry on (slow-path notifications, masked vectors) and
 * still release exactly what it got.
 */
#define FAIL_IOEVENTFD	0x01
#define FAIL_ROUTE	0x02
#define FAIL_IRQFD	0x04
#define FAIL_UPDATE	0x08

static unsigned int fail_mask;
static struct vm_ops real_ops;

static int fail_add_ioeventfd(void *vm, uint64_t addr, unsigned int len, uint64_t dm,
			      unsigned int flags, int fd)
{
	return fail_mask & FAIL_IOEVENTFD ? -ENOSPC :
	       real_ops.add_ioeventfd(vm, addr, len, dm, flags, fd);
}

static int fail_add_msi_route(void *vm, uint64_t addr, uint32_t data, unsigned int *gsi)
{
	return fail_mask & FAIL_ROUTE ? -ENOSPC : real_ops.add_msi_route(vm, addr, data, gsi);
}

static int fail_add_irqfd(void *vm, unsigned int gsi, int fd, int resample_fd)
{
	return fail_mask & FAIL_IRQFD ? -ENOMEM : real_ops.add_irqfd(vm, gsi, fd, resample_fd);
}

static int fail_update_msi_route(void *vm, unsigned int gsi, uint64_t addr, uint32_t data)
{
	return fail_mask & FAIL_UPDATE ? -EINVAL : real_ops.update_msi_route(vm, gsi, addr, data);
}

static void faults_hook(struct fake_vm *fvm)
{
	real_ops = fvm->ops;
	fvm->ops.add_ioeventfd = fail_add_ioeventfd;
	fvm->ops.add_msi_route = fail_add_msi_route;
	fvm->ops.add_irqfd = fail_add_irqfd;
	fvm->ops.update_msi_route = fail_update_msi_route;
	fail_mask = 0;
}

/* ---- set-up and teardown --------------------------------------------------- */

static void cfg_wr(struct dev *d, unsigned int off, uint32_t v, unsigned int len)
{
	pci_cfg_write(d->root, 0, DEVFN, off, v, len);
}

static int dev_create(struct dev *d, bool readonly)
{
	uint64_t features = VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX) |
			    VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) | VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) |
			    VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) | VIRTIO_BIT(VIRTIO_BLK_F_MQ);
	struct virtio_pci_params p;

	fake_vm_init(&d->fvm);
	faults_hook(&d->fvm);
	bus_init(&d->pio, "pio");
	bus_init(&d->mmio, "mmio");
	d->root = pci_root_create(&d->fvm.ops, &d->pio, &d->mmio);
	if (!d->root)
		return -1;
	d->file = readonly ? &file_ro : &file_rw;
	d->io = readonly ? &io_ro : &io_rw;
	memcpy(d->serial, "fuzz-serial-0123", 16);
	d->disk = (struct vblk_disk){
		.capacity = DISK_SIZE / VIRTIO_BLK_SECTOR, .readonly = readonly,
		.serial = d->serial,
	};
	if (readonly)
		features |= VIRTIO_BIT(VIRTIO_BLK_F_RO);
	else
		features |= VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) | VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES);
	d->cfg.capacity = htole64(d->disk.capacity);
	d->cfg.seg_max = htole32(VBLK_SEG_MAX);
	d->cfg.blk_size = htole32(512);
	d->cfg.num_queues = htole16(NQ);
	d->cfg.max_discard_sectors = htole32(VBLK_MAX_DWZ_SECTORS);
	d->cfg.max_discard_seg = htole32(VBLK_MAX_DWZ_SEG);
	d->cfg.max_write_zeroes_sectors = htole32(VBLK_MAX_DWZ_SECTORS);
	d->cfg.max_write_zeroes_seg = htole32(VBLK_MAX_DWZ_SEG);
	p = (struct virtio_pci_params){
		.name = "fuzz-blk", .device_id = VIRTIO_ID_BLOCK, .class_code = 0x010000,
		.features = features, .nr_queues = NQ, .queue_size = QSIZE,
		.config_size = sizeof(d->cfg), .dev_ops = &dev_ops, .opaque = d,
	};
	if (virtio_pci_init(&d->vp, &d->fvm.ops, &p))
		return -1;
	d->vp_init = true;
	if (pci_bus_plug(pci_root_bus(d->root), &d->vp.pci, DEVFN))
		return -1;
	/* What firmware leaves: both BARs placed, memory decode and bus
	 * mastering on. */
	cfg_wr(d, PCI_BASE_ADDRESS_0 + 4 * VIRTIO_PCI_BAR, (uint32_t)BAR4_ADDR, 4);
	cfg_wr(d, PCI_BASE_ADDRESS_0 + 4 * VIRTIO_PCI_BAR + 4, (uint32_t)(BAR4_ADDR >> 32), 4);
	cfg_wr(d, PCI_BASE_ADDRESS_0 + 4 * VIRTIO_PCI_MSIX_BAR, (uint32_t)BAR1_ADDR, 4);
	cfg_wr(d, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	return 0;
}

static void dev_destroy(struct dev *d)
{
	if (d->vp_init)
		virtio_pci_exit(&d->vp);
	pci_root_destroy(d->root);
	FZ_CHECK(d->pio.nr_ranges == 0 && d->mmio.nr_ranges == 0, "bus ranges left: %zu, %zu",
		 d->pio.nr_ranges, d->mmio.nr_ranges);
	FZ_CHECK(d->fvm.nr_ioeventfds == 0, "%u ioeventfds left", d->fvm.nr_ioeventfds);
	FZ_CHECK(d->fvm.nr_irqfds == 0, "%u irqfds left", d->fvm.nr_irqfds);
	for (unsigned int i = 0; i < FAKE_VM_MAX_ROUTES; i++)
		FZ_CHECK(!d->fvm.routes[i].used, "MSI route %u left", i);
	bus_exit(&d->pio);
	bus_exit(&d->mmio);
}

static void check_dev(struct dev *d)
{
	uint8_t status = __atomic_load_n(&d->vp.status, __ATOMIC_RELAXED);

	fz_check_bus(&d->pio, 0x10000);
	fz_check_bus(&d->mmio, 0);
	for (unsigned int i = 0; i < NQ; i++) {
		struct hq *h = &d->q[i];

		if (h->live && h->vq.broken)
			FZ_CHECK(status & VIRTIO_STATUS_NEEDS_RESET,
				 "queue %u broken (%s) without NEEDS_RESET", i, h->vq.why);
	}
}

/* ---- the harness driver ---------------------------------------------------- */

static uint64_t fz_gpa(struct fz *f)
{
	static const uint64_t anchor[] = {
		DATA_BASE, DATA_BASE + 0x80000, MEM_VGA_BASE, MEM_VGA_END,
		MEM_ISA_BIOS_END - ISA_ROM, MEM_ISA_BIOS_END, RAM_SIZE, RING_BASE,
	};
	uint8_t sel = fz_u8(f);

	if (sel >= 0xf8)
		return fz_u64(f);
	return anchor[sel % 8] + (uint64_t)(int64_t)(int16_t)fz_u16(f);
}

static void bar4_write(struct dev *d, uint64_t off, uint64_t v, unsigned int len)
{
	if (d->vp.pci.bars[VIRTIO_PCI_BAR].mapped)
		fz_bus_write(&d->mmio, d->vp.pci.bars[VIRTIO_PCI_BAR].addr + off, v, len);
	else
		virtio_pci_bar_write(&d->vp, off, &v, len);
}

static uint64_t bar4_read(struct dev *d, uint64_t off, unsigned int len)
{
	uint64_t v = 0;

	if (d->vp.pci.bars[VIRTIO_PCI_BAR].mapped)
		return fz_bus_read(&d->mmio, d->vp.pci.bars[VIRTIO_PCI_BAR].addr + off, len);
	virtio_pci_bar_read(&d->vp, off, &v, len);
	return v;
}

static void set_status(struct dev *d, uint8_t s)
{
	bar4_write(d, VIRTIO_PCI_COMMON_STATUS, s, 1);
}

static uint64_t ring_desc(unsigned int q)
{
	return RING_BASE + q * 0x8000ULL;
}

/* §3.1.1 with the offered features the input keeps, queues of the
 * input's sizes at the standard places (or shifted), MSI-X on. */
static void driver_setup(struct dev *d, struct fz *f)
{
	uint64_t want = fz_u64(f), offered = d->vp.host_features;
	uint8_t shape = fz_u8(f);

	set_status(d, 0);
	set_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
	set_status(d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	/* Mostly a subset of the offer with VERSION_1, sometimes anything. */
	if (!(shape & 0x80))
		want = (want & offered) | VIRTIO_BIT(VIRTIO_F_VERSION_1);
	bar4_write(d, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	bar4_write(d, VIRTIO_PCI_COMMON_GF, (uint32_t)want, 4);
	bar4_write(d, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	bar4_write(d, VIRTIO_PCI_COMMON_GF, (uint32_t)(want >> 32), 4);
	set_status(d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	for (unsigned int q = 0; q < NQ; q++) {
		uint8_t sz = fz_u8(f);
		uint16_t size = sz < 0xf0 ? (uint16_t)(1u << (sz % 9)) : fz_u16(f);
		uint64_t desc = ring_desc(q);

		if (shape & 0x40) {
			/* Rings anywhere (misaligned, in a hole, past RAM). */
			desc = fz_gpa(f);
		}
		bar4_write(d, VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
		bar4_write(d, VIRTIO_PCI_COMMON_Q_SIZE, size, 2);
		bar4_write(d, VIRTIO_PCI_COMMON_Q_DESCLO, desc, 8);
		bar4_write(d, VIRTIO_PCI_COMMON_Q_AVAILLO, desc + 0x1000, 8);
		bar4_write(d, VIRTIO_PCI_COMMON_Q_USEDLO, desc + 0x2000, 8);
		bar4_write(d, VIRTIO_PCI_COMMON_Q_MSIX, q + 1, 2);
		if (!(shape & (1u << q)))
			bar4_write(d, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
		d->q[q].next_desc = 0;
	}
	bar4_write(d, VIRTIO_PCI_COMMON_MSIX, 0, 2);
	if (shape & 0x10) {
		/* MSI-X: enable, vectors 0-2 with an address and unmasked. */
		unsigned int cap = 0;

		for (unsigned int off = d->vp.pci.config[PCI_CAPABILITY_LIST], n = 0; off && n < 48;
		     off = d->vp.pci.config[off + 1], n++)
			if (d->vp.pci.config[off] == 0x11)
				cap = off;
		for (unsigned int v = 0; v <= NQ && d->vp.pci.bars[VIRTIO_PCI_MSIX_BAR].mapped; v++) {
			uint64_t e = d->vp.pci.bars[VIRTIO_PCI_MSIX_BAR].addr + 16 * v;

			fz_bus_write(&d->mmio, e, 0xfee00000u, 4);
			fz_bus_write(&d->mmio, e + 4, 0, 4);
			fz_bus_write(&d->mmio, e + 8, 0x40 + v, 4);
			fz_bus_write(&d->mmio, e + 12, 0, 4);
		}
		if (cap)
			cfg_wr(d, cap + 2, PCI_MSIX_FLAGS_ENABLE, 2);
	}
	if (!(shape & 0x20))
		set_status(d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			      VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

/* The queue's ring addresses as the driver programmed them. */
static bool queue_rings(struct dev *d, unsigned int q, uint64_t *desc, uint64_t *avail,
			uint16_t *size)
{
	const struct virtio_pci_queue *pq = virtio_pci_queue(&d->vp, q);

	*desc = pq->desc;
	*avail = pq->driver;
	*size = pq->size;
	return *size && !(*size & (*size - 1)) && *size <= QSIZE;
}

static void gwrite(uint64_t gpa, const void *p, size_t len)
{
	void *hva;

	if (guest_mem_ptr(&mem, gpa, len, &hva))
		return;
	memcpy(hva, p, len);
	mark_dirty_hva(hva, len);
}

static void put_desc(uint64_t table, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	struct virtq_desc v = {
		.addr = htole64(addr), .len = htole32(len), .flags = htole16(flags),
		.next = htole16(next),
	};

	gwrite(table + 16ULL * i, &v, sizeof(v));
}

static void avail_push(uint64_t avail, uint16_t size, uint16_t head)
{
	uint16_t idx = 0, v = htole16(head);

	guest_mem_read(&mem, avail + 2, &idx, 2);
	idx = le16toh(idx);
	gwrite(avail + 4 + 2ULL * (idx % size), &v, 2);
	idx = htole16((uint16_t)(idx + 1));
	gwrite(avail + 2, &idx, 2);
}

/* Room for len bytes in the data area. */
static uint64_t data_alloc(struct dev *d, uint64_t len)
{
	uint64_t a;

	if (d->cursor + len > DATA_SIZE)
		d->cursor = 0;
	a = DATA_BASE + d->cursor;
	d->cursor += (len + 15) & ~15ULL;
	return a;
}

/*
 * A whole request: header (type, sector), up to 4 data segments, a status
 * byte, in a direct chain or an indirect table, optionally with the
 * header split and the status inside the last data buffer (§2.6.4).
 */
static void request(struct dev *d, struct fz *f)
{
	static const uint32_t types[] = {
		VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_FLUSH, VIRTIO_BLK_T_GET_ID,
		VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_T_WRITE_ZEROES, VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT,
	};
	struct { uint64_t addr; uint32_t len; uint16_t flags; } seg[8];
	unsigned int q = fz_u8(f) % NQ, nseg = 0, ndata;
	uint8_t tsel = fz_u8(f), layout = fz_u8(f), ssel = fz_u8(f);
	uint32_t type = tsel < 0xf0 ? types[tsel % 8] : fz_u32(f);
	uint64_t sector = ssel < 0xf0 ? ssel % 0x900 : fz_u64(f);
	bool in = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
	uint64_t table, avail, hdr;
	uint16_t size, head;
	struct { uint32_t type, ioprio; uint64_t sector; } __attribute__((packed)) h = {
		htole32(type), 0, htole64(sector),
	};

	if (!queue_rings(d, q, &table, &avail, &size))
		return;
	if (layout & 0x08)
		in = !in;
	hdr = data_alloc(d, 16);
	gwrite(hdr, &h, 16);
	if (layout & 0x01) {
		seg[nseg++] = (typeof(seg[0])){ hdr, 8, 0 };
		seg[nseg++] = (typeof(seg[0])){ hdr + 8, 8, 0 };
	} else {
		seg[nseg++] = (typeof(seg[0])){ hdr, 16, 0 };
	}
	ndata = fz_u8(f) % 5;
	for (unsigned int i = 0; i < ndata; i++) {
		uint8_t lsel = fz_u8(f);
		uint32_t len = lsel < 0xe0 ? 512u * (1 + lsel % 8) : lsel < 0xf0 ? fz_u16(f) : fz_u32(f);
		uint64_t a = lsel < 0xf0 ? data_alloc(d, len > 0x10000 ? 0x10000 : len) : fz_gpa(f);

		if (!in) {
			/* Payload: the input's bytes (discard/write-zeroes
			 * ranges come from here too), the rest stays. */
			uint8_t buf[64];
			size_t k = fz_bytes(f, buf, len < sizeof(buf) ? len : sizeof(buf));

			gwrite(a, buf, k);
		}
		seg[nseg++] = (typeof(seg[0])){ a, len, in ? VIRTQ_DESC_F_WRITE : 0 };
	}
	if ((layout & 0x02) && ndata && in) {
		/* The status byte is the last byte of the last data buffer. */
		seg[nseg - 1].len++;
	} else {
		seg[nseg++] = (typeof(seg[0])){ data_alloc(d, 1), 1, VIRTQ_DESC_F_WRITE };
	}
	head = d->q[q].next_desc % size;
	if ((layout & 0x04) && nseg > 1) {
		/* An indirect table in the data area, one descriptor in the ring. */
		uint64_t ind = data_alloc(d, 16ULL * nseg);

		for (unsigned int i = 0; i < nseg; i++)
			put_desc(ind, (uint16_t)i, seg[i].addr, seg[i].len,
				 seg[i].flags | (i + 1 < nseg ? VIRTQ_DESC_F_NEXT : 0),
				 (uint16_t)(i + 1));
		put_desc(table, head, ind, 16 * nseg, VIRTQ_DESC_F_INDIRECT, 0);
		d->q[q].next_desc++;
	} else {
		for (unsigned int i = 0; i < nseg; i++) {
			uint16_t at = (uint16_t)((head + i) % size), next = (uint16_t)((head + i + 1) % size);

			put_desc(table, at, seg[i].addr, seg[i].len,
				 seg[i].flags | (i + 1 < nseg ? VIRTQ_DESC_F_NEXT : 0), next);
		}
		d->q[q].next_desc = (uint16_t)(d->q[q].next_desc + nseg);
	}
	avail_push(avail, size, head);
	if (!(layout & 0x10))
		bar4_write(d, VIRTIO_PCI_NOTIFY_OFF + VIRTIO_PCI_NOTIFY_MULT * q, q, 2);
}

enum {
	OP_SETUP,		/* features, shape, queue sizes [, ring places] */
	OP_REQUEST,		/* see request() */
	OP_BAR_READ,		/* width, u16 offset */
	OP_BAR_WRITE,		/* width, u16 offset, u64 */
	OP_CFG,			/* dir|len, offset, u32: config space */
	OP_MSIX,		/* dir|width, u16 offset, u32: the MSI-X BAR */
	OP_MEM,			/* gpa, n, n bytes */
	OP_DESC,		/* queue, index, gpa, u32 len, u16 flags, u16 next */
	OP_AVAIL,		/* queue, head [, kick] */
	OP_KICK,		/* queue */
	OP_RING_FIELD,		/* queue, which, u16: avail flags/idx/used_event */
	OP_RESET,		/* PCI reset of the function */
	OP_REG,			/* dir|region|width, offset [, u64]: a BAR 4 register */
	OP_CFG_WINDOW,		/* dir|width, bar, u16 offset, len [, u32]: VIRTIO_PCI_CAP_PCI_CFG */
	OP_VECTOR,		/* vector, action: mask, unmask, function mask, MSI-X enable */
	OP_FAULTS,		/* mask: which KVM calls fail from now on */
	NR_OPS,
};

static void run_op(struct dev *d, struct fz *f)
{
	uint8_t op = fz_u8(f) % NR_OPS, a;
	unsigned int len, q;

	switch (op) {
	case OP_SETUP:
		driver_setup(d, f);
		break;
	case OP_REQUEST:
		request(d, f);
		break;
	case OP_BAR_READ:
		a = fz_u8(f);
		bar4_read(d, fz_u16(f) % VIRTIO_PCI_BAR_SIZE, fz_width(a));
		break;
	case OP_BAR_WRITE: {
		uint64_t off;

		a = fz_u8(f);
		off = fz_u16(f) % VIRTIO_PCI_BAR_SIZE;
		bar4_write(d, off, fz_u64(f), fz_width(a));
		break;
	}
	case OP_CFG: {
		uint32_t v = 0;
		unsigned int off;

		a = fz_u8(f);
		off = fz_u8(f);
		len = fz_width(a >> 1) > 4 ? 4 : fz_width(a >> 1);
		if (a & 1)
			cfg_wr(d, off, fz_u32(f), len);
		else
			pci_cfg_read(d->root, 0, DEVFN, off, &v, len);
		break;
	}
	case OP_MSIX: {
		uint64_t off;

		a = fz_u8(f);
		off = fz_u16(f) % VIRTIO_PCI_MSIX_BAR_SIZE;
		len = fz_width(a >> 1);
		if (!d->vp.pci.bars[VIRTIO_PCI_MSIX_BAR].mapped)
			break;
		off += d->vp.pci.bars[VIRTIO_PCI_MSIX_BAR].addr;
		if (a & 1)
			fz_bus_write(&d->mmio, off, fz_u32(f), len);
		else
			fz_bus_read(&d->mmio, off, len);
		break;
	}
	case OP_MEM: {
		uint8_t buf[256];
		uint64_t gpa = fz_gpa(f);
		size_t n = fz_bytes(f, buf, fz_u8(f));
		void *hva;

		if (!guest_mem_ptr(&mem, gpa, n, &hva)) {
			memcpy(hva, buf, n);
			mark_dirty_hva(hva, n);
		}
		break;
	}
	case OP_DESC: {
		uint64_t table, avail, gpa;
		uint16_t size, idx, flags, next;
		uint32_t dlen;

		q = fz_u8(f) % NQ;
		idx = fz_u16(f);
		gpa = fz_gpa(f);
		dlen = fz_u32(f);
		flags = fz_u16(f);
		next = fz_u16(f);
		if (queue_rings(d, q, &table, &avail, &size))
			put_desc(table, idx % size, gpa, dlen, flags, next);
		break;
	}
	case OP_AVAIL: {
		uint64_t table, avail;
		uint16_t size, head;

		q = fz_u8(f) % NQ;
		head = fz_u16(f);
		if (queue_rings(d, q, &table, &avail, &size))
			avail_push(avail, size, head);
		break;
	}
	case OP_KICK:
		bar4_write(d, VIRTIO_PCI_NOTIFY_OFF + VIRTIO_PCI_NOTIFY_MULT * (fz_u8(f) % (NQ + 1)),
			   0, 2);
		break;
	case OP_RING_FIELD: {
		uint64_t table, avail;
		uint16_t size, v;

		q = fz_u8(f) % NQ;
		a = fz_u8(f);
		v = htole16(fz_u16(f));
		if (!queue_rings(d, q, &table, &avail, &size))
			break;
		switch (a % 3) {
		case 0:
			gwrite(avail, &v, 2);			/* flags */
			break;
		case 1:
			gwrite(avail + 2, &v, 2);		/* idx */
			break;
		default:
			gwrite(avail + 4 + 2ULL * size, &v, 2);	/* used_event */
			break;
		}
		break;
	}
	case OP_RESET:
		pci_root_reset(d->root);
		break;
	case OP_REG: {
		/* Mostly inside a region's registers, at any width. */
		static const unsigned int span[4] = {
			VIRTIO_PCI_COMMON_SIZE + 4, 4, sizeof(struct virtio_blk_config) + 4,
			VIRTIO_PCI_NOTIFY_MULT * (NQ + 1),
		};
		unsigned int region;
		uint64_t off;

		a = fz_u8(f);
		region = (a >> 2) & 3;
		off = region * VIRTIO_PCI_REGION_SIZE + fz_u8(f) % span[region];
		if (a & 0x10)
			bar4_write(d, off, fz_u64(f), fz_width(a));
		else
			bar4_read(d, off, fz_width(a));
		break;
	}
	case OP_CFG_WINDOW: {
		/* §4.1.4.9: cap.bar, cap.offset, cap.length, then pci_cfg_data. */
		unsigned int cap = d->vp.cfg_cap;
		uint8_t bar;
		uint16_t woff;

		a = fz_u8(f);
		bar = fz_u8(f);
		woff = fz_u16(f);
		len = fz_u8(f);
		cfg_wr(d, cap + 4, bar < 0xf0 ? VIRTIO_PCI_BAR : bar, 1);
		cfg_wr(d, cap + 8, woff < 0xf000 ? woff % 0x3040 : woff, 4);
		cfg_wr(d, cap + 12, len < 0xf0 ? 1u << (len % 3) : len, 4);
		len = fz_width(a >> 1) > 4 ? 4 : fz_width(a >> 1);
		if (a & 1) {
			cfg_wr(d, cap + 16, fz_u32(f), len);
		} else {
			uint32_t v;

			pci_cfg_read(d->root, 0, DEVFN, cap + 16, &v, len);
		}
		break;
	}
	case OP_VECTOR: {
		unsigned int vec = fz_u8(f) % (NQ + 2), cap = d->vp.msix_cap;
		uint16_t ctl = pci_get16(d->vp.pci.config, cap + 2);

		a = fz_u8(f);
		switch (a % 4) {
		case 0:
		case 1:
			if (d->vp.pci.bars[VIRTIO_PCI_MSIX_BAR].mapped)
				fz_bus_write(&d->mmio, d->vp.pci.bars[VIRTIO_PCI_MSIX_BAR].addr +
					     16 * vec + 12, a % 4 == 0, 4);
			break;
		case 2:
			cfg_wr(d, cap + 2, ctl ^ PCI_MSIX_FLAGS_MASKALL, 2);
			break;
		default:
			cfg_wr(d, cap + 2, ctl ^ PCI_MSIX_FLAGS_ENABLE, 2);
			break;
		}
		break;
	}
	case OP_FAULTS:
		fail_mask = fz_u8(f);
		break;
	}
	service(d);
	check_dev(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dev *d = calloc(1, sizeof(*d));
	struct stat st;
	struct fz f;

	FZ_CHECK(d, "out of memory");
	fz_init(&f, data, size);
	FZ_CHECK(dev_create(d, fz_u8(&f) & 1) == 0, "cannot build the device");
	while (fz_more(&f))
		run_op(d, &f);
	dev_destroy(d);
	check_holes();
	FZ_CHECK(fstat(file_rw.fd, &st) == 0 && st.st_size == (off_t)DISK_SIZE,
		 "the image is %lld bytes", (long long)st.st_size);
	free(d);
	clean_ram();
	return 0;
}
