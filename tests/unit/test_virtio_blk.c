// SPDX-License-Identifier: MIT
/*
 * Unit tests for virtio-blk (devices/virtio/blk.c): taking requests apart
 * whatever their framing, planning them (ranges, read-only, GET_ID,
 * discard/write-zeroes rules, write-through without FLUSH), and the whole
 * device end to end on a fake VM: a test driver sets it up through PCI
 * config space and BAR 4, posts requests in guest RAM, "kicks" by
 * signalling the ioeventfd KVM would, and waits on the MSI-X irqfd, while
 * the real I/O threads and io_uring work on a temporary image.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "devices/virtio/blk.h"
#include "lib/log.h"
#include "tests/unit/fake_mem.h"
#include "tests/unit/virtio_driver.h"

/* ---- parsing and planning ------------------------------------------------- */

struct hdr {
	uint32_t type, ioprio;
	uint64_t sector;
} __attribute__((packed));

static const uint8_t serial20[VIRTIO_BLK_ID_BYTES] = "0123456789abcdefghij";

static struct vblk_disk disk(bool ro, uint64_t features)
{
	return (struct vblk_disk){ .capacity = 2048, .readonly = ro, .features = features,
				   .serial = serial20 };
}

#define ALLF (VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) | VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) | \
	      VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES))

struct chain {
	struct iovec iov[8];
	struct vq_elem e;
};

/* Build an element from (buffer, len, writable) triples. */
static void mk(struct chain *c, unsigned int n, void **bufs, const size_t *lens,
	       const bool *wr)
{
	memset(c, 0, sizeof(*c));
	c->e.iov = c->iov;
	c->e.cap = 8;
	for (unsigned int i = 0; i < n; i++) {
		c->iov[i] = (struct iovec){ bufs[i], lens[i] };
		if (wr[i]) {
			c->e.nr_in++;
			c->e.in_len += lens[i];
			c->e.last_in = (uint8_t *)bufs[i] + lens[i] - 1;
		} else {
			c->e.nr_out++;
			c->e.out_len += lens[i];
		}
	}
}

static void test_parse_read(void **state)
{
	struct hdr h = { VIRTIO_BLK_T_IN, 0, 7 };
	uint8_t data[1024], st = 0xff;
	struct chain c;
	struct vblk_req_info r;
	struct blk_io_op ops[VBLK_MAX_DWZ_SEG];
	struct vblk_disk d = disk(false, ALLF);
	uint8_t status;
	uint32_t used;

	mk(&c, 3, (void *[]){ &h, data, &st }, (size_t[]){ 16, 1024, 1 },
	   (bool[]){ false, true, true });
	assert_int_equal(vblk_parse(&c.e, &r), 0);
	assert_int_equal(r.type, VIRTIO_BLK_T_IN);
	assert_int_equal(r.sector, 7);
	assert_true(r.data_in);
	assert_int_equal(r.data_len, 1024);
	assert_ptr_equal(r.status, &st);
	assert_int_equal(vblk_plan(&d, &r, ops, &status, &used), 1);
	assert_int_equal(ops[0].kind, BLK_IO_READ);
	assert_int_equal(ops[0].offset, 7 * 512);
	assert_int_equal(ops[0].len, 1024);
	assert_false(ops[0].dsync);
	assert_int_equal(used, 1025);
}

static void test_parse_any_layout(void **state)
{
	/* §2.6.4: header split in two, data and status in one buffer. */
	uint8_t h1[8], h2[8], buf[4097];
	struct hdr h = { VIRTIO_BLK_T_IN, 0, 100 };
	struct chain c;
	struct vblk_req_info r;

	memcpy(h1, &h, 8);
	memcpy(h2, (uint8_t *)&h + 8, 8);
	mk(&c, 3, (void *[]){ h1, h2, buf }, (size_t[]){ 8, 8, 4097 },
	   (bool[]){ false, false, true });
	assert_int_equal(vblk_parse(&c.e, &r), 0);
	assert_int_equal(r.sector, 100);
	assert_int_equal(r.data_len, 4096);
	assert_int_equal(r.data_cnt, 1);
	assert_ptr_equal(r.data[0].iov_base, buf);
	assert_ptr_equal(r.status, buf + 4096);

	/* A write with header and data in one readable buffer. */
	uint8_t w[16 + 512], st;
	struct hdr wh = { VIRTIO_BLK_T_OUT, 0, 3 };

	memcpy(w, &wh, 16);
	mk(&c, 2, (void *[]){ w, &st }, (size_t[]){ sizeof(w), 1 }, (bool[]){ false, true });
	assert_int_equal(vblk_parse(&c.e, &r), 0);
	assert_int_equal(r.type, VIRTIO_BLK_T_OUT);
	assert_false(r.data_in);
	assert_int_equal(r.data_len, 512);
	assert_ptr_equal(r.data[0].iov_base, w + 16);
}

static void test_parse_malformed(void **state)
{
	uint8_t h[16] = { 0 }, st, data[512];
	struct chain c;
	struct vblk_req_info r;

	/* No status byte. */
	mk(&c, 2, (void *[]){ h, data }, (size_t[]){ 16, 512 }, (bool[]){ false, false });
	assert_int_equal(vblk_parse(&c.e, &r), -EPROTO);
	/* A header of 10 bytes. */
	mk(&c, 2, (void *[]){ h, &st }, (size_t[]){ 10, 1 }, (bool[]){ false, true });
	assert_int_equal(vblk_parse(&c.e, &r), -EPROTO);
	/* Nothing readable at all. */
	mk(&c, 1, (void *[]){ &st }, (size_t[]){ 1 }, (bool[]){ true });
	assert_int_equal(vblk_parse(&c.e, &r), -EPROTO);
}

static unsigned int plan(const struct vblk_disk *d, uint32_t type, uint64_t sector,
			 void *data, size_t len, bool data_in, struct blk_io_op *ops,
			 uint8_t *status, uint32_t *used)
{
	struct iovec v = { data, len };
	struct vblk_req_info r = { .type = type, .sector = sector, .data = &v,
				   .data_cnt = len ? 1 : 0, .data_len = len, .data_in = data_in };

	return vblk_plan(d, &r, ops, status, used);
}

static void test_plan_ranges(void **state)
{
	struct vblk_disk d = disk(false, ALLF);
	struct blk_io_op ops[VBLK_MAX_DWZ_SEG];
	uint8_t buf[1024], status;
	uint32_t used;

	assert_int_equal(plan(&d, VIRTIO_BLK_T_OUT, 2046, buf, 1024, false, ops, &status, &used), 1);
	assert_int_equal(status, VIRTIO_BLK_S_OK);
	assert_int_equal(used, 1);
	/* One sector past the end; not whole sectors; sector * 512 overflows. */
	assert_int_equal(plan(&d, VIRTIO_BLK_T_OUT, 2047, buf, 1024, false, ops, &status, &used), 0);
	assert_int_equal(status, VIRTIO_BLK_S_IOERR);
	assert_int_equal(plan(&d, VIRTIO_BLK_T_IN, 0, buf, 1000, true, ops, &status, &used), 0);
	assert_int_equal(status, VIRTIO_BLK_S_IOERR);
	assert_int_equal(plan(&d, VIRTIO_BLK_T_IN, UINT64_MAX / 256, buf, 512, true, ops, &status,
			      &used), 0);
	assert_int_equal(status, VIRTIO_BLK_S_IOERR);
	assert_int_equal(plan(&d, VIRTIO_BLK_T_IN, 2048, buf, 0, true, ops, &status, &used), 0);
	assert_int_equal(status, VIRTIO_BLK_S_OK);
	/* Data in the wrong direction for the type. */
	assert_int_equal(plan(&d, VIRTIO_BLK_T_OUT, 0, buf, 512, true, ops, &status, &used), 0);
	assert_int_equal(status, VIRTIO_BLK_S_IOERR);
	/* Unknown types, and a chain too long to take apart. */
	assert_int_equal(plan(&d, 42, 0, NULL, 0, false, ops, &status, &used), 0);
	assert_int_equal(status, VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(plan(&d, UINT32_MAX, 0, NULL, 0, false, ops, &status, &used), 0);
	assert_int_equal(status, VIRTIO_BLK_S_IOERR);
}

static void test_plan_readonly_flush(void **state)
{
	struct vblk_disk ro = disk(true, ALLF), rw = disk(false, 0);
	struct blk_io_op ops[VBLK_MAX_DWZ_SEG];
	uint8_t buf[512], status;
	uint32_t used;
	uint64_t seg[2] = { 0, 1 };

	/* §5.2.6.2 with VIRTIO_BLK_F_RO: writes fail, reads work. */
	assert_int_equal(plan(&ro, VIRTIO_BLK_T_OUT, 0, buf, 512, false, ops, &status, &used), 0);
	assert_int_equal(status, VIRTIO_BLK_S_IOERR);
	assert_int_equal(plan(&ro, VIRTIO_BLK_T_WRITE_ZEROES, 0, seg, 16, false, ops, &status,
			      &used), 0);
	assert_int_equal(status, VIRTIO_BLK_S_IOERR);
	assert_int_equal(plan(&ro, VIRTIO_BLK_T_IN, 0, buf, 512, true, ops, &status, &used), 1);
	assert_int_equal(plan(&ro, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, false, ops, &status, &used), 0);
	assert_int_equal(status, VIRTIO_BLK_S_OK);
	/* A flush is an fdatasync. */
	assert_int_equal(plan(&rw, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, false, ops, &status, &used), 1);
	assert_int_equal(ops[0].kind, BLK_IO_FLUSH);
	/* No FLUSH negotiated: the driver expects write-through. */
	assert_int_equal(plan(&rw, VIRTIO_BLK_T_OUT, 0, buf, 512, false, ops, &status, &used), 1);
	assert_true(ops[0].dsync);
}

static void test_plan_get_id(void **state)
{
	struct vblk_disk d = disk(false, ALLF);
	struct blk_io_op ops[VBLK_MAX_DWZ_SEG];
	uint8_t buf[32], status;
	uint32_t used;

	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(plan(&d, VIRTIO_BLK_T_GET_ID, 0, buf, 32, true, ops, &status, &used), 0);
	assert_int_equal(status, VIRTIO_BLK_S_OK);
	assert_int_equal(used, 21);
	assert_memory_equal(buf, serial20, 20);	/* all 20 used: no NUL */
	assert_int_equal(buf[20], 0xee);
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(plan(&d, VIRTIO_BLK_T_GET_ID, 0, buf, 8, true, ops, &status, &used), 0);
	assert_int_equal(used, 9);
	assert_memory_equal(buf, serial20, 8);
	assert_int_equal(buf[8], 0xee);
}

static void test_plan_discard_write_zeroes(void **state)
{
	struct vblk_disk d = disk(false, ALLF), nf = disk(false, 0);
	struct blk_io_op ops[VBLK_MAX_DWZ_SEG];
	struct { uint64_t sector; uint32_t n, flags; } __attribute__((packed)) seg[VBLK_MAX_DWZ_SEG + 1];
	uint8_t status;
	uint32_t used;

	seg[0] = (typeof(seg[0])){ 8, 16, 0 };
	seg[1] = (typeof(seg[0])){ 100, 4, 0 };
	assert_int_equal(plan(&d, VIRTIO_BLK_T_DISCARD, 0, seg, 32, false, ops, &status, &used), 2);
	assert_int_equal(ops[0].kind, BLK_IO_DISCARD);
	assert_int_equal(ops[0].offset, 8 * 512);
	assert_int_equal(ops[0].len, 16 * 512);
	assert_int_equal(ops[1].offset, 100 * 512);
	/* Not negotiated; unmap on a discard; reserved flags; too many
	 * segments; a partial segment: unsupported. */
	assert_int_equal(plan(&nf, VIRTIO_BLK_T_DISCARD, 0, seg, 16, false, ops, &status, &used), 0);
	assert_int_equal(status, VIRTIO_BLK_S_UNSUPP);
	seg[0].flags = VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
	assert_int_equal(plan(&d, VIRTIO_BLK_T_DISCARD, 0, seg, 16, false, ops, &status, &used), 0);
	assert_int_equal(status, VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(plan(&d, VIRTIO_BLK_T_WRITE_ZEROES, 0, seg, 16, false, ops, &status, &used), 1);
	assert_int_equal(ops[0].kind, BLK_IO_WRITE_ZEROES_UNMAP);
	seg[0].flags = 2;
	assert_int_equal(plan(&d, VIRTIO_BLK_T_WRITE_ZEROES, 0, seg, 16, false, ops, &status, &used), 0);
	assert_int_equal(status, VIRTIO_BLK_S_UNSUPP);
	seg[0].flags = 0;
	assert_int_equal(plan(&d, VIRTIO_BLK_T_WRITE_ZEROES, 0, seg, 16 * (VBLK_MAX_DWZ_SEG + 1),
			      false, ops, &status, &used), 0);
	assert_int_equal(status, VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(plan(&d, VIRTIO_BLK_T_WRITE_ZEROES, 0, seg, 20, false, ops, &status, &used), 0);
	assert_int_equal(status, VIRTIO_BLK_S_UNSUPP);
	/* Beyond the disk, or the advertised maximum: an error. */
	seg[0] = (typeof(seg[0])){ 2040, 16, 0 };
	assert_int_equal(plan(&d, VIRTIO_BLK_T_WRITE_ZEROES, 0, seg, 16, false, ops, &status, &used), 0);
	assert_int_equal(status, VIRTIO_BLK_S_IOERR);
	seg[0] = (typeof(seg[0])){ 0, VBLK_MAX_DWZ_SECTORS + 1, 0 };
	assert_int_equal(plan(&d, VIRTIO_BLK_T_DISCARD, 0, seg, 16, false, ops, &status, &used), 0);
	assert_int_equal(status, VIRTIO_BLK_S_IOERR);
}

/* ---- end to end ------------------------------------------------------------ */

#define RAM		(4 * 1024 * 1024)
#define QSIZE		VBLK_QUEUE_SIZE
#define QBASE(q)	(0x10000 + (uint64_t)(q) * 0x10000)
#define DESC(q)		QBASE(q)
#define AVAIL(q)	(QBASE(q) + 0x1000)
#define USED(q)		(QBASE(q) + 0x2000)
#define DATA		0x100000
#define DEVFN		PCI_DEVFN(4, 0)
#define IMG_SECTORS	4096

struct e2e {
	struct fake_vm fvm;
	struct bus pio, mmio;
	struct pci_root *root;
	struct guest_mem mem;
	struct vblk *blk;
	struct vd d;
	char dir[64], path[96];
	uint16_t next_desc[2], last_used[2];
};

static int e2e_setup_ro(void **state, bool ro, unsigned int queues, unsigned int iothreads)
{
	struct e2e *t = calloc(1, sizeof(*t));
	struct vblk_params p = { .readonly = ro, .serial = "minivmm-test-serial", .queues = queues,
				 .iothreads = iothreads, .name = "virtio-blk0" };
	int fd;

	assert_non_null(t);
	fake_vm_init(&t->fvm);
	vd_hook(&t->fvm);
	assert_int_equal(fake_mem_init(&t->mem, RAM), 0);
	assert_int_equal(bus_init(&t->pio, "pio"), 0);
	assert_int_equal(bus_init(&t->mmio, "mmio"), 0);
	t->root = pci_root_create(&t->fvm.ops, &t->pio, &t->mmio);
	assert_non_null(t->root);
	snprintf(t->dir, sizeof(t->dir), "/var/tmp/vblk.XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/disk.img", t->dir);
	fd = open(t->path, O_CREAT | O_RDWR, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, IMG_SECTORS * 512), 0);
	assert_int_equal(pwrite(fd, "boot", 4, 0), 4);
	close(fd);
	p.path = t->path;
	t->blk = vblk_create(&t->fvm.ops, &t->mem, &p);
	assert_non_null(t->blk);
	assert_int_equal(pci_bus_plug(pci_root_bus(t->root), vblk_pci(t->blk), DEVFN), 0);
	t->d = (struct vd){ .root = t->root, .mmio = &t->mmio, .devfn = DEVFN };
	*state = t;
	return 0;
}

/* Two queues on the default one I/O thread. */
static int e2e_setup(void **state)
{
	return e2e_setup_ro(state, false, 2, 0);
}

/* Two queues, a thread each (iothreads=2). */
static int e2e_setup_thread_per_queue(void **state)
{
	return e2e_setup_ro(state, false, 2, 2);
}

static int e2e_setup_readonly(void **state)
{
	return e2e_setup_ro(state, true, 1, 1);
}

static int e2e_teardown(void **state)
{
	struct e2e *t = *state;

	vblk_destroy(t->blk);
	assert_int_equal(vd_live_ioeventfds(), 0);
	assert_int_equal(t->fvm.nr_irqfds, 0);
	pci_root_destroy(t->root);
	bus_exit(&t->pio);
	bus_exit(&t->mmio);
	fake_mem_free(&t->mem);
	unlink(t->path);
	rmdir(t->dir);
	free(t);
	return 0;
}

#define DRIVER_FEATURES (VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX) | \
			 VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) | ALLF | VIRTIO_BIT(VIRTIO_BLK_F_MQ))

/* Bring the device up like Linux: MSI-X on, vector 0 config, q -> q+1. */
static void e2e_start(struct e2e *t, unsigned int nq)
{
	struct vd *d = &t->d;

	vd_map(d);
	vd_msix_control(d, true, false);
	for (unsigned int v = 0; v <= nq; v++)
		vd_msix_entry(d, v, 0xfee00000, 0x40 + v, false);
	/* Like a real driver: what it knows, of what is offered. */
	assert_true(vd_negotiate(d, DRIVER_FEATURES & vd_device_features(d)));
	vd_wr(d, VIRTIO_PCI_COMMON_MSIX, 0, 2);
	memset(t->mem.base, 0, DATA);
	for (unsigned int q = 0; q < nq; q++) {
		vd_queue(d, (uint16_t)q, QSIZE, DESC(q), AVAIL(q), USED(q), (uint16_t)(q + 1));
		t->next_desc[q] = 0;
		t->last_used[q] = 0;
	}
	vd_set_status(d, vd_status(d) | VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(vd_status(d) & VIRTIO_STATUS_NEEDS_RESET, 0);
}

static int vector_fd(unsigned int vec)
{
	return vd_irqfd(FAKE_VM_FIRST_MSI_GSI + vec);
}

/* Queue q's ring as the driver sees it (tests/unit/virtio_driver.h). */
static struct vd_ring ring_of(struct e2e *t, unsigned int q)
{
	return (struct vd_ring){ &t->mem, DESC(q), AVAIL(q), USED(q), QSIZE,
				 &t->next_desc[q], &t->last_used[q] };
}

/* Post one chain of (gpa, len, writable) on queue q; returns its head. */
static uint16_t post(struct e2e *t, unsigned int q, unsigned int n, const uint64_t *addr,
		     const uint32_t *len, const bool *wr)
{
	struct vd_ring r = ring_of(t, q);

	return vd_post(&r, n, addr, len, wr);
}

static void kick(struct e2e *t, unsigned int q)
{
	assert_int_equal(vd_kick(q), 0);
}

/* Wait for queue q's interrupt and its next used element. */
static struct virtq_used_elem wait_used(struct e2e *t, unsigned int q)
{
	struct vd_ring r = ring_of(t, q);
	struct virtq_used_elem e;

	assert_true(vd_wait_used(&r, vector_fd(q + 1), &e));
	return e;
}

/* A blk request: header at DATA, data at DATA+0x1000, status DATA+0x800. */
static uint8_t blk_request(struct e2e *t, unsigned int q, uint32_t type, uint64_t sector,
			   uint32_t len, bool data_in, uint32_t *used_len)
{
	struct hdr h = { type, 0, sector };
	uint64_t base = DATA + (uint64_t)q * 0x40000;
	uint8_t *status = gpa(&t->mem, base + 0x800);
	struct virtq_used_elem e;
	uint16_t head;

	memcpy(gpa(&t->mem, base), &h, sizeof(h));
	*status = 0xee;
	if (len)
		head = post(t, q, 3, (uint64_t[]){ base, base + 0x1000, base + 0x800 },
			    (uint32_t[]){ 16, len, 1 }, (bool[]){ false, data_in, true });
	else
		head = post(t, q, 2, (uint64_t[]){ base, base + 0x800 }, (uint32_t[]){ 16, 1 },
			    (bool[]){ false, true });
	kick(t, q);
	e = wait_used(t, q);
	assert_int_equal(e.id, head);
	if (used_len)
		*used_len = e.len;
	return *status;
}

static uint8_t *qdata(struct e2e *t, unsigned int q)
{
	return gpa(&t->mem, DATA + (uint64_t)q * 0x40000 + 0x1000);
}

static void image_read(struct e2e *t, uint64_t off, void *buf, size_t len)
{
	int fd = open(t->path, O_RDONLY);

	assert_int_equal(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static void test_e2e_config(void **state)
{
	struct e2e *t = *state;
	struct vd *d = &t->d;
	uint64_t f;

	vd_map(d);
	f = vd_device_features(d);
	assert_true(f & VIRTIO_BIT(VIRTIO_F_VERSION_1));
	assert_true(f & VIRTIO_BIT(VIRTIO_BLK_F_MQ));
	assert_true(f & VIRTIO_BIT(VIRTIO_BLK_F_FLUSH));
	assert_false(f & VIRTIO_BIT(VIRTIO_BLK_F_RO));
	assert_false(f & VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM));
	assert_int_equal(vd_cfg_read(d, PCI_DEVICE_ID, 2), 0x1042);
	assert_int_equal(vd_rd(d, VIRTIO_PCI_DEVICE_OFF + 0, 8), IMG_SECTORS);
	assert_int_equal(vd_rd(d, VIRTIO_PCI_DEVICE_OFF + 12, 4), VBLK_SEG_MAX);
	assert_int_equal(vd_rd(d, VIRTIO_PCI_DEVICE_OFF + 20, 4), 512);
	assert_int_equal(vd_rd(d, VIRTIO_PCI_DEVICE_OFF + 34, 2), 2);
	assert_int_equal(vd_rd(d, VIRTIO_PCI_DEVICE_OFF + 40, 4), VBLK_MAX_DWZ_SEG);
	assert_int_equal(vd_rd(d, VIRTIO_PCI_DEVICE_OFF + 56, 1), 1);
}

static void test_e2e_io(void **state)
{
	struct e2e *t = *state;
	uint8_t back[8192];
	uint32_t used;

	e2e_start(t, 2);
	assert_int_equal(t->fvm.nr_irqfds, 3);
	for (unsigned int i = 0; i < 8192; i++)
		qdata(t, 0)[i] = (uint8_t)(i ^ 0x5a);
	assert_int_equal(blk_request(t, 0, VIRTIO_BLK_T_OUT, 16, 8192, false, &used),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(used, 1);
	assert_int_equal(blk_request(t, 0, VIRTIO_BLK_T_FLUSH, 0, 0, false, NULL), VIRTIO_BLK_S_OK);
	image_read(t, 16 * 512, back, sizeof(back));
	assert_memory_equal(back, qdata(t, 0), sizeof(back));
	/* Read it back on the other queue. */
	memset(qdata(t, 1), 0, 8192);
	assert_int_equal(blk_request(t, 1, VIRTIO_BLK_T_IN, 16, 8192, true, &used),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(used, 8193);
	assert_memory_equal(qdata(t, 1), back, sizeof(back));
	assert_int_equal(blk_request(t, 1, VIRTIO_BLK_T_IN, 0, 512, true, NULL), VIRTIO_BLK_S_OK);
	assert_memory_equal(qdata(t, 1), "boot", 4);
	/* GET_ID, an error, an unknown type. */
	assert_int_equal(blk_request(t, 0, VIRTIO_BLK_T_GET_ID, 0, 20, true, &used),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(used, 21);
	assert_memory_equal(qdata(t, 0), "minivmm-test-serial", 19);
	assert_int_equal(blk_request(t, 0, VIRTIO_BLK_T_IN, IMG_SECTORS, 512, true, NULL),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(blk_request(t, 0, 99, 0, 0, false, NULL), VIRTIO_BLK_S_UNSUPP);
	/* Write zeroes over the pattern. */
	struct { uint64_t sector; uint32_t n, flags; } __attribute__((packed)) seg = { 16, 8, 0 };

	memcpy(qdata(t, 0), &seg, sizeof(seg));
	assert_int_equal(blk_request(t, 0, VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false, NULL),
			 VIRTIO_BLK_S_OK);
	image_read(t, 16 * 512, back, 4096);
	for (unsigned int i = 0; i < 4096; i++)
		assert_int_equal(back[i], 0);
	assert_int_equal(vd_status(&t->d) & VIRTIO_STATUS_NEEDS_RESET, 0);
}

static void test_e2e_many_in_flight(void **state)
{
	struct e2e *t = *state;
	enum { N = 64 };
	uint16_t heads[N];

	/* 64 reads at once: one kick, all complete, each status OK. */
	e2e_start(t, 1);
	for (unsigned int i = 0; i < N; i++) {
		uint64_t base = DATA + 0x1000ULL * i;
		struct hdr h = { VIRTIO_BLK_T_IN, 0, i };

		memcpy(gpa(&t->mem, base), &h, sizeof(h));
		*(uint8_t *)gpa(&t->mem, base + 0x10) = 0xee;
		heads[i] = post(t, 0, 3, (uint64_t[]){ base, base + 0x200, base + 0x10 },
				(uint32_t[]){ 16, 512, 1 }, (bool[]){ false, true, true });
	}
	kick(t, 0);
	for (unsigned int done = 0; done < N; done++) {
		struct virtq_used_elem e = wait_used(t, 0);

		assert_int_equal(e.len, 513);
		assert_int_equal(e.id % 3, 0);
		assert_true(e.id / 3 < N && heads[e.id / 3] == e.id);
		assert_int_equal(*(uint8_t *)gpa(&t->mem, DATA + 0x1000ULL * (e.id / 3) + 0x10), 0);
	}
}

/* Post n requests of one type on queue 0, sector first + 2 * i each (1 KiB
 * of data at DATA + 0x80000 + 1 KiB * i) but those at i >= gap_at one
 * sector further (not contiguous), kick once, wait for all: every status OK. */
static void post_run(struct e2e *t, uint32_t type, unsigned int n, unsigned int gap_at)
{
	for (unsigned int i = 0; i < n; i++) {
		uint64_t base = DATA + 0x1000ULL * i;
		struct hdr h = { type, 0, 2ULL * i + (i >= gap_at) };
		bool in = type == VIRTIO_BLK_T_IN;

		memcpy(gpa(&t->mem, base), &h, sizeof(h));
		*(uint8_t *)gpa(&t->mem, base + 0x10) = 0xee;
		post(t, 0, 3, (uint64_t[]){ base, DATA + 0x80000 + 1024ULL * i, base + 0x10 },
		     (uint32_t[]){ 16, 1024, 1 }, (bool[]){ false, in, true });
	}
	kick(t, 0);
	for (unsigned int done = 0; done < n; done++) {
		struct virtq_used_elem e = wait_used(t, 0);

		assert_int_equal(e.len, type == VIRTIO_BLK_T_IN ? 1025 : 1);
		assert_int_equal(*(uint8_t *)gpa(&t->mem, DATA + 0x1000ULL * (e.id / 3) + 0x10),
				 VIRTIO_BLK_S_OK);
	}
}

static void test_e2e_merged_runs(void **state)
{
	struct e2e *t = *state;
	enum { N = 40, GAP = 36 };	/* more than one merge's worth, then a gap */
	uint8_t *data, back[N * 1024 + 512];

	/* Contiguous writes of one kick go to the image as few merged
	 * writes; each request's data must land at its own sector. */
	e2e_start(t, 1);
	data = gpa(&t->mem, DATA + 0x80000);
	for (unsigned int i = 0; i < N * 1024; i++)
		data[i] = (uint8_t)(i * 7 + i / 1024);
	post_run(t, VIRTIO_BLK_T_OUT, N, GAP);
	image_read(t, 0, back, sizeof(back));
	assert_memory_equal(back, data, GAP * 1024);
	assert_memory_equal(back + GAP * 1024 + 512, data + GAP * 1024, (N - GAP) * 1024);
	/* And read back the same way, into a cleared buffer. */
	memset(data, 0, N * 1024);
	post_run(t, VIRTIO_BLK_T_IN, N, GAP);
	assert_memory_equal(data, back, GAP * 1024);
	assert_memory_equal(data + GAP * 1024, back + GAP * 1024 + 512, (N - GAP) * 1024);
}

static void test_e2e_malformed_ring(void **state)
{
	struct e2e *t = *state;
	struct virtq_desc *dt = gpa(&t->mem, DESC(0));
	uint16_t *avail = gpa(&t->mem, AVAIL(0));
	uint8_t back[4];

	e2e_start(t, 1);
	/* A descriptor pointing far outside guest RAM. */
	dt[0] = (struct virtq_desc){ .addr = 0x7fff00000000ULL, .len = 16, .flags = VIRTQ_DESC_F_NEXT,
				     .next = 1 };
	dt[1] = (struct virtq_desc){ .addr = DATA, .len = 1, .flags = VIRTQ_DESC_F_WRITE };
	avail[2] = 0;
	__atomic_store_n(&avail[1], 1, __ATOMIC_RELEASE);
	kick(t, 0);
	/* DEVICE_NEEDS_RESET and a config interrupt on vector 0. */
	for (int i = 0; i < 100 && !(vd_status(&t->d) & VIRTIO_STATUS_NEEDS_RESET); i++)
		vd_signalled(vector_fd(0), 50);
	assert_true(vd_status(&t->d) & VIRTIO_STATUS_NEEDS_RESET);
	/* Later kicks are ignored; a reset and a fresh start works. */
	kick(t, 0);
	vd_set_status(&t->d, 0);
	e2e_start(t, 1);
	assert_int_equal(blk_request(t, 0, VIRTIO_BLK_T_IN, 0, 512, true, NULL), VIRTIO_BLK_S_OK);
	image_read(t, 0, back, 4);
	assert_memory_equal(qdata(t, 0), back, 4);
}

static void test_e2e_hostile_shapes(void **state)
{
	struct e2e *t = *state;
	struct virtq_desc *dt = gpa(&t->mem, DESC(0));
	uint16_t *avail = gpa(&t->mem, AVAIL(0));

	/* A chain looping back on itself never hangs the queue thread. */
	e2e_start(t, 1);
	dt[5] = (struct virtq_desc){ .addr = DATA, .len = 16, .flags = VIRTQ_DESC_F_NEXT, .next = 6 };
	dt[6] = (struct virtq_desc){ .addr = DATA, .len = 16, .flags = VIRTQ_DESC_F_NEXT, .next = 5 };
	avail[2] = 5;
	__atomic_store_n(&avail[1], 1, __ATOMIC_RELEASE);
	kick(t, 0);
	for (int i = 0; i < 100 && !(vd_status(&t->d) & VIRTIO_STATUS_NEEDS_RESET); i++)
		vd_signalled(vector_fd(0), 50);
	assert_true(vd_status(&t->d) & VIRTIO_STATUS_NEEDS_RESET);

	/* A request with no status byte: also a broken ring. */
	vd_set_status(&t->d, 0);
	e2e_start(t, 1);
	post(t, 0, 1, (uint64_t[]){ DATA }, (uint32_t[]){ 16 }, (bool[]){ false });
	kick(t, 0);
	for (int i = 0; i < 100 && !(vd_status(&t->d) & VIRTIO_STATUS_NEEDS_RESET); i++)
		vd_signalled(vector_fd(0), 50);
	assert_true(vd_status(&t->d) & VIRTIO_STATUS_NEEDS_RESET);

	/* Rings outside RAM at DRIVER_OK: refused, needs reset. */
	vd_set_status(&t->d, 0);
	assert_true(vd_negotiate(&t->d, DRIVER_FEATURES));
	vd_queue(&t->d, 0, QSIZE, RAM - 0x100, AVAIL(0), USED(0), 1);
	vd_set_status(&t->d, vd_status(&t->d) | VIRTIO_STATUS_DRIVER_OK);
	assert_true(vd_status(&t->d) & VIRTIO_STATUS_NEEDS_RESET);
	/* A queue size that is no power of two: same. */
	vd_set_status(&t->d, 0);
	assert_true(vd_negotiate(&t->d, DRIVER_FEATURES));
	vd_queue(&t->d, 0, 100, DESC(0), AVAIL(0), USED(0), 1);
	vd_set_status(&t->d, vd_status(&t->d) | VIRTIO_STATUS_DRIVER_OK);
	assert_true(vd_status(&t->d) & VIRTIO_STATUS_NEEDS_RESET);
}

static void test_e2e_reset_cycles(void **state)
{
	struct e2e *t = *state;

	/* Rings outlive threads: after each reset a new thread must hear
	 * kicks again (the kernel cancelled the old thread's polls). */
	for (unsigned int cycle = 0; cycle < 4; cycle++) {
		e2e_start(t, 2);
		usleep(20000);		/* past the thread's first drain */
		assert_int_equal(blk_request(t, cycle % 2, VIRTIO_BLK_T_IN, cycle, 512, true, NULL),
				 VIRTIO_BLK_S_OK);
		assert_int_equal(blk_request(t, 0, VIRTIO_BLK_T_FLUSH, 0, 0, false, NULL),
				 VIRTIO_BLK_S_OK);
		vd_set_status(&t->d, 0);
		assert_int_equal(vd_status(&t->d), 0);
	}
}

static void test_e2e_readonly(void **state)
{
	struct e2e *t = *state;
	uint8_t back[4];

	vd_map(&t->d);
	assert_true(vd_device_features(&t->d) & VIRTIO_BIT(VIRTIO_BLK_F_RO));
	assert_false(vd_device_features(&t->d) & VIRTIO_BIT(VIRTIO_BLK_F_DISCARD));
	/* Accepting a feature that was not offered: no FEATURES_OK. */
	assert_false(vd_negotiate(&t->d, DRIVER_FEATURES));
	e2e_start(t, 1);
	memset(qdata(t, 0), 0xab, 512);
	assert_int_equal(blk_request(t, 0, VIRTIO_BLK_T_OUT, 0, 512, false, NULL),
			 VIRTIO_BLK_S_IOERR);
	image_read(t, 0, back, 4);
	assert_memory_equal(back, "boot", 4);
	assert_int_equal(blk_request(t, 0, VIRTIO_BLK_T_IN, 0, 512, true, NULL), VIRTIO_BLK_S_OK);
	assert_memory_equal(qdata(t, 0), "boot", 4);
	assert_int_equal(blk_request(t, 0, VIRTIO_BLK_T_FLUSH, 0, 0, false, NULL), VIRTIO_BLK_S_OK);
}

static void test_e2e_io_error(void **state)
{
	struct e2e *t = *state;

	/* The image shrinks under the running VM: reads past its new end
	 * fail in the host, and the guest hears IOERR. */
	e2e_start(t, 1);
	assert_int_equal(truncate(t->path, 1024 * 512), 0);
	assert_int_equal(blk_request(t, 0, VIRTIO_BLK_T_IN, 2000, 4096, true, NULL),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(blk_request(t, 0, VIRTIO_BLK_T_IN, 0, 4096, true, NULL), VIRTIO_BLK_S_OK);
}

/* Both queues busy at once: whichever thread serves them, each queue's
 * requests complete on its own ring with its own vector. */
static void test_e2e_queues_together(void **state)
{
	struct e2e *t = *state;
	enum { N = 16 };

	e2e_start(t, 2);
	for (unsigned int q = 0; q < 2; q++) {
		for (unsigned int i = 0; i < N; i++) {
			uint64_t base = DATA + (uint64_t)q * 0x40000 + 0x1000ULL * i;
			struct hdr h = { VIRTIO_BLK_T_IN, 0, i + 64 * q };

			memcpy(gpa(&t->mem, base), &h, sizeof(h));
			*(uint8_t *)gpa(&t->mem, base + 0x10) = 0xee;
			post(t, q, 3, (uint64_t[]){ base, base + 0x200, base + 0x10 },
			     (uint32_t[]){ 16, 512, 1 }, (bool[]){ false, true, true });
		}
	}
	kick(t, 0);
	kick(t, 1);
	for (unsigned int q = 0; q < 2; q++) {
		for (unsigned int done = 0; done < N; done++) {
			struct virtq_used_elem e = wait_used(t, q);
			uint64_t base = DATA + (uint64_t)q * 0x40000 + 0x1000ULL * (e.id / 3);

			assert_int_equal(e.len, 513);
			assert_true(e.id / 3 < N);
			assert_int_equal(*(uint8_t *)gpa(&t->mem, base + 0x10), VIRTIO_BLK_S_OK);
		}
	}
	assert_int_equal(vd_status(&t->d) & VIRTIO_STATUS_NEEDS_RESET, 0);
}

static void test_e2e_create_errors(void **state)
{
	struct fake_vm fvm;
	struct guest_mem mem = { 0 };
	struct vblk_params p = { .path = "/nonexistent/disk.img", .queues = 1, .name = "x" };

	fake_vm_init(&fvm);
	assert_null(vblk_create(&fvm.ops, &mem, &p));
	assert_int_equal(errno, ENOENT);
	p.path = "/";
	p.queues = 0;
	assert_null(vblk_create(&fvm.ops, &mem, &p));
	assert_int_equal(errno, EINVAL);
	p.queues = 2;
	p.iothreads = 3;		/* more threads than queues */
	assert_null(vblk_create(&fvm.ops, &mem, &p));
	assert_int_equal(errno, EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_read),
		cmocka_unit_test(test_parse_any_layout),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_plan_ranges),
		cmocka_unit_test(test_plan_readonly_flush),
		cmocka_unit_test(test_plan_get_id),
		cmocka_unit_test(test_plan_discard_write_zeroes),
		cmocka_unit_test_setup_teardown(test_e2e_config, e2e_setup, e2e_teardown),
		cmocka_unit_test_setup_teardown(test_e2e_io, e2e_setup, e2e_teardown),
		cmocka_unit_test_setup_teardown(test_e2e_many_in_flight, e2e_setup, e2e_teardown),
		cmocka_unit_test_setup_teardown(test_e2e_merged_runs, e2e_setup, e2e_teardown),
		cmocka_unit_test_setup_teardown(test_e2e_malformed_ring, e2e_setup, e2e_teardown),
		cmocka_unit_test_setup_teardown(test_e2e_hostile_shapes, e2e_setup, e2e_teardown),
		cmocka_unit_test_setup_teardown(test_e2e_reset_cycles, e2e_setup, e2e_teardown),
		cmocka_unit_test_setup_teardown(test_e2e_queues_together, e2e_setup, e2e_teardown),
		cmocka_unit_test_setup_teardown(test_e2e_io, e2e_setup_thread_per_queue, e2e_teardown),
		cmocka_unit_test_setup_teardown(test_e2e_queues_together, e2e_setup_thread_per_queue,
						e2e_teardown),
		cmocka_unit_test_setup_teardown(test_e2e_reset_cycles, e2e_setup_thread_per_queue,
						e2e_teardown),
		cmocka_unit_test_setup_teardown(test_e2e_readonly, e2e_setup_readonly, e2e_teardown),
		cmocka_unit_test_setup_teardown(test_e2e_io_error, e2e_setup, e2e_teardown),
		cmocka_unit_test(test_e2e_create_errors),
	};

	log_threshold = getenv("VERBOSE") ? LOG_DEBUG : LOG_ERROR;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
