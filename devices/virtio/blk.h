/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk (virtio 1.2 §5.2) on the modern PCI transport, served by
 * io_uring (blk_io.h): a queue per vCPU by default (VIRTIO_BLK_F_MQ), all
 * served by one I/O thread with one ring unless more are asked for (a
 * thread per queue at most). A guest notification wakes the queue's thread
 * through its ioeventfd, completions go back through the queue's MSI-X
 * irqfd: a request never stops a vCPU in userspace.
 * Requests are taken apart and planned in blk_req.c.
 */
#ifndef MINIVMM_VIRTIO_BLK_H
#define MINIVMM_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/block/blk_io.h"
#include "devices/pci.h"
#include "devices/virtio/virtqueue.h"
#include "lib/memory.h"

/* §5.2.3 feature bits */
#define VIRTIO_BLK_F_SIZE_MAX		1
#define VIRTIO_BLK_F_SEG_MAX		2
#define VIRTIO_BLK_F_GEOMETRY		4
#define VIRTIO_BLK_F_RO			5
#define VIRTIO_BLK_F_BLK_SIZE		6
#define VIRTIO_BLK_F_FLUSH		9
#define VIRTIO_BLK_F_TOPOLOGY		10
#define VIRTIO_BLK_F_CONFIG_WCE		11
#define VIRTIO_BLK_F_MQ			12
#define VIRTIO_BLK_F_DISCARD		13
#define VIRTIO_BLK_F_WRITE_ZEROES	14

/* §5.2.6 request types and status values */
#define VIRTIO_BLK_T_IN			0
#define VIRTIO_BLK_T_OUT		1
#define VIRTIO_BLK_T_FLUSH		4
#define VIRTIO_BLK_T_GET_ID		8
#define VIRTIO_BLK_T_DISCARD		11
#define VIRTIO_BLK_T_WRITE_ZEROES	13
#define VIRTIO_BLK_S_OK			0
#define VIRTIO_BLK_S_IOERR		1
#define VIRTIO_BLK_S_UNSUPP		2
#define VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP 1
#define VIRTIO_BLK_ID_BYTES		20
#define VIRTIO_BLK_SECTOR		512

#define VBLK_QUEUE_SIZE		256
#define VBLK_SEG_MAX		126	/* data segments per request */
#define VBLK_MAX_IOV		(VBLK_SEG_MAX + 2)	/* + header, status */
#define VBLK_MAX_DWZ_SEG	16	/* discard / write-zeroes ranges */
#define VBLK_MAX_DWZ_SECTORS	0x3fffff
#define VBLK_MAX_QUEUES		64

/* §5.2.4 Device configuration layout */
struct virtio_blk_config {
	uint64_t capacity;
	uint32_t size_max;
	uint32_t seg_max;
	struct {
		uint16_t cylinders;
		uint8_t heads;
		uint8_t sectors;
	} geometry;
	uint32_t blk_size;
	struct {
		uint8_t physical_block_exp;
		uint8_t alignment_offset;
		uint16_t min_io_size;
		uint32_t opt_io_size;
	} topology;
	uint8_t writeback;
	uint8_t unused0;
	uint16_t num_queues;
	uint32_t max_discard_sectors;
	uint32_t max_discard_seg;
	uint32_t discard_sector_alignment;
	uint32_t max_write_zeroes_sectors;
	uint32_t max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap;
	uint8_t unused1[3];
	uint32_t max_secure_erase_sectors;
	uint32_t max_secure_erase_seg;
	uint32_t secure_erase_sector_alignment;
} __attribute__((packed));

struct vblk_params {
	const char *path;
	bool readonly;
	bool direct;			/* O_DIRECT: bypass the host page cache */
	const char *serial;		/* GET_ID, at most 20 bytes used; may be NULL */
	unsigned int queues;		/* 1..VBLK_MAX_QUEUES */
	unsigned int iothreads;		/* 1..queues threads serving them; 0: 1 */
	bool register_ram;		/* guest RAM as io_uring fixed buffers */
	const char *name;		/* "virtio-blk0" */
};

struct vblk;

/* Open the image (one error line on failure, errno set) and build the
 * PCI function; plug it with pci_bus_plug(vblk_pci(b), bus, devfn). */
struct vblk *vblk_create(const struct vm_ops *ops, const struct guest_mem *mem,
			 const struct vblk_params *p);
struct pci_dev *vblk_pci(struct vblk *b);
/* Stop the queues (in-flight requests finish), flush the image, unplug
 * and free. */
void vblk_destroy(struct vblk *b);

/* ---- request handling, exposed for the unit tests ------------------------ */

/* One chain, taken apart (§5.2.6): header, data, status byte. */
struct vblk_req_info {
	uint32_t type;
	uint64_t sector;
	struct iovec *data;		/* the data segments, inside the chain's iov */
	unsigned int data_cnt;
	uint64_t data_len;
	bool data_in;			/* data is device-writable (reads, GET_ID) */
	uint8_t *status;
};

/* -EPROTO when the chain has no room for the header or the status. */
int vblk_parse(struct vq_elem *e, struct vblk_req_info *r);

/* What the device knows when it plans a request. */
struct vblk_disk {
	uint64_t capacity;		/* sectors */
	bool readonly;
	uint64_t features;		/* negotiated */
	const uint8_t *serial;		/* VIRTIO_BLK_ID_BYTES, zero-padded */
};

/*
 * Turn a parsed request into I/O: fills ops[0..n) and returns n >= 1, or
 * returns 0 when the request is already finished (GET_ID, a refused or
 * malformed request, a flush of a read-only disk): *status then holds the
 * result. *used is the number of bytes the device writes into the chain
 * (§2.7.8.2), status byte included.
 */
unsigned int vblk_plan(const struct vblk_disk *d, const struct vblk_req_info *r,
		       struct blk_io_op *ops, uint8_t *status, uint32_t *used);

#endif
