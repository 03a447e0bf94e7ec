// SPDX-License-Identifier: MIT
/*
 * virtio-blk requests (virtio 1.2 §5.2.6): a chain taken apart into header,
 * data and status (vblk_parse), and turned into the I/O that serves it
 * (vblk_plan). Pure functions of the chain and the disk: no queue, no
 * thread, no ring; the unit tests and fuzz_virtio_blk call them directly,
 * devices/virtio/blk.c's I/O threads for every request.
 *
 * Untrusted input: the chain's addresses are already checked against guest
 * RAM by vq_pop(); lengths, sectors and ranges are checked here, before
 * any operation is planned.
 */
#include <errno.h>
#include <string.h>

#include "devices/virtio/blk.h"
#include "devices/virtio/virtio.h"

int vblk_parse(struct vq_elem *e, struct vblk_req_info *r)
{
	struct {
		uint32_t type, ioprio;
		uint64_t sector;
	} __attribute__((packed)) hdr;
	struct iovec *in = e->iov + e->nr_out;
	unsigned int in_cnt = e->nr_in, out_cnt = e->nr_out;

	/* §5.2.6: a 16-byte device-readable header first, a device-writable
	 * status byte last; §2.6.4: in whatever descriptors the driver chose. */
	if (e->out_len < sizeof(hdr) || !e->in_len || !e->last_in)
		return -EPROTO;
	memset(r, 0, sizeof(*r));
	r->status = e->last_in;
	if (iov_to_buf(e->iov, e->nr_out, 0, &hdr, sizeof(hdr)) != sizeof(hdr)) {
		/* Header bytes past the iov array (a truncated chain): the
		 * request fails, but it has a status byte to say so. */
		r->type = UINT32_MAX;
		return 0;
	}
	r->type = le32toh(hdr.type);
	r->sector = le64toh(hdr.sector);
	if (e->in_len > 1) {
		/* Data the device writes: everything before the status. */
		r->data_in = true;
		r->data_len = iov_trim(in, &in_cnt, 0, 1);
		r->data = in;
		r->data_cnt = in_cnt;
		/* The status byte must stay reachable: it is r->status. */
	} else {
		r->data_len = iov_trim(e->iov, &out_cnt, sizeof(hdr), 0);
		r->data = e->iov;
		r->data_cnt = out_cnt;
	}
	if (e->in_len > 1 && e->out_len > sizeof(hdr)) {
		/* Both directions carry data: no request type does that. */
		r->type = UINT32_MAX - 1;
	}
	return 0;
}

static bool range_ok(const struct vblk_disk *d, uint64_t sector, uint64_t bytes)
{
	uint64_t n = bytes / VIRTIO_BLK_SECTOR;

	return bytes % VIRTIO_BLK_SECTOR == 0 && sector <= d->capacity &&
	       n <= d->capacity - sector;
}

static unsigned int plan_dwz(const struct vblk_disk *d, const struct vblk_req_info *r,
			     struct blk_io_op *ops, uint8_t *status)
{
	bool discard = r->type == VIRTIO_BLK_T_DISCARD;
	uint64_t feature = discard ? VIRTIO_BLK_F_DISCARD : VIRTIO_BLK_F_WRITE_ZEROES;
	unsigned int n = (unsigned int)(r->data_len / 16);

	if (!(d->features & VIRTIO_BIT(feature)) || r->data_in || !r->data_len ||
	    r->data_len % 16 || r->data_len / 16 > VBLK_MAX_DWZ_SEG) {
		*status = VIRTIO_BLK_S_UNSUPP;
		return 0;
	}
	if (d->readonly) {
		*status = VIRTIO_BLK_S_IOERR;
		return 0;
	}
	for (unsigned int i = 0; i < n; i++) {
		struct {
			uint64_t sector;
			uint32_t num_sectors, flags;
		} __attribute__((packed)) seg;
		uint32_t flags;

		iov_to_buf(r->data, r->data_cnt, 16 * (size_t)i, &seg, sizeof(seg));
		flags = le32toh(seg.flags);
		/* §5.2.6.2: unmap on a discard, or any reserved flag, is
		 * unsupported; a range past the limits or the disk is an error. */
		if ((discard && flags) || (flags & ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP)) {
			*status = VIRTIO_BLK_S_UNSUPP;
			return 0;
		}
		if (le32toh(seg.num_sectors) > VBLK_MAX_DWZ_SECTORS ||
		    !range_ok(d, le64toh(seg.sector),
			      (uint64_t)le32toh(seg.num_sectors) * VIRTIO_BLK_SECTOR)) {
			*status = VIRTIO_BLK_S_IOERR;
			return 0;
		}
		ops[i] = (struct blk_io_op){
			.kind = discard ? BLK_IO_DISCARD :
				flags ? BLK_IO_WRITE_ZEROES_UNMAP : BLK_IO_WRITE_ZEROES,
			.offset = le64toh(seg.sector) * VIRTIO_BLK_SECTOR,
			.len = (uint64_t)le32toh(seg.num_sectors) * VIRTIO_BLK_SECTOR,
			.dsync = !(d->features & VIRTIO_BIT(VIRTIO_BLK_F_FLUSH)),
		};
	}
	return n;
}

unsigned int vblk_plan(const struct vblk_disk *d, const struct vblk_req_info *r,
		       struct blk_io_op *ops, uint8_t *status, uint32_t *used)
{
	/* Without VIRTIO_BLK_F_FLUSH the driver expects write-through. */
	bool dsync = !(d->features & VIRTIO_BIT(VIRTIO_BLK_F_FLUSH));
	size_t n;

	*status = VIRTIO_BLK_S_OK;
	*used = 1;
	switch (r->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		if (r->data_in != (r->type == VIRTIO_BLK_T_IN) && r->data_len) {
			*status = VIRTIO_BLK_S_IOERR;
			return 0;
		}
		if (r->type == VIRTIO_BLK_T_OUT && d->readonly) {
			*status = VIRTIO_BLK_S_IOERR;	/* §5.2.6.2 with VIRTIO_BLK_F_RO */
			return 0;
		}
		if (!range_ok(d, r->sector, r->data_len) || r->sector > UINT64_MAX / VIRTIO_BLK_SECTOR) {
			*status = VIRTIO_BLK_S_IOERR;
			return 0;
		}
		if (!r->data_len)
			return 0;		/* nothing to move: done, OK */
		if (r->type == VIRTIO_BLK_T_IN)
			*used = (uint32_t)(r->data_len + 1);
		ops[0] = (struct blk_io_op){
			.kind = r->type == VIRTIO_BLK_T_IN ? BLK_IO_READ : BLK_IO_WRITE,
			.offset = r->sector * VIRTIO_BLK_SECTOR,
			.len = r->data_len,
			.iov = r->data,
			.iovcnt = r->data_cnt,
			.dsync = dsync,
		};
		return 1;
	case VIRTIO_BLK_T_FLUSH:
		if (d->readonly)
			return 0;		/* nothing can be dirty */
		ops[0] = (struct blk_io_op){ .kind = BLK_IO_FLUSH };
		return 1;
	case VIRTIO_BLK_T_GET_ID:
		/* §5.2.6: up to 20 bytes, not NUL-terminated if all used. */
		if (!r->data_in) {
			*status = VIRTIO_BLK_S_IOERR;
			return 0;
		}
		n = iov_from_buf(r->data, r->data_cnt, 0, d->serial,
				 r->data_len < VIRTIO_BLK_ID_BYTES ? r->data_len : VIRTIO_BLK_ID_BYTES);
		*used = (uint32_t)n + 1;
		return 0;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return plan_dwz(d, r, ops, status);
	case UINT32_MAX:			/* a chain too long to take apart */
		*status = VIRTIO_BLK_S_IOERR;
		return 0;
	default:
		*status = VIRTIO_BLK_S_UNSUPP;
		return 0;
	}
}

