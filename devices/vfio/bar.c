// SPDX-License-Identifier: MIT
/*
 * BARs, the expansion ROM and the legacy VGA ranges of a passed function.
 *
 * A memory BAR is split into pieces once, at open: the parts VFIO lets us
 * mmap (the whole region, or the areas of VFIO_REGION_INFO_CAP_SPARSE_MMAP)
 * become KVM memslots whenever the guest has the BAR decoded, so the guest
 * reaches the device with no exit; the pages holding the MSI-X table and
 * PBA are never mapped (they are emulated: devices/msix.c, with msi.c's
 * hooks) and, with whatever VFIO does not let us map, become trapped
 * ranges on the MMIO bus, served by pread/pwrite on the region (the table
 * and PBA themselves by the emulation). I/O BARs are always trapped. The
 * core tells us where the guest put a BAR (bar_map/bar_unmap,
 * PCI_BAR_HOSTMEM), so a relocation moves the memslots.
 *
 * A memslot needs page-aligned guest addresses: a BAR the guest puts at an
 * address that is not (one smaller than a page) is trapped whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/pcie_regs.h"
#include "devices/vfio/internal.h"
#include "lib/log.h"
#include "lib/trace.h"

#define VGA_MMIO_BASE		0xa0000ULL
#define VGA_MMIO_SIZE		0x20000ULL

int vfio_region_get(struct vfio_pci *v, unsigned int index, struct vfio_region *r,
		    struct vfio_region_info **full)
{
	struct vfio_region_info *info = calloc(1, sizeof(*info)), *big;
	int ret;

	if (!info)
		return -ENOMEM;
	info->argsz = sizeof(*info);
	info->index = index;
	ret = v->ops->region_info(v->ops->ctx, v->fd, info);
	if (!ret && full && info->argsz > sizeof(*info) && info->argsz <= 65536) {
		/* Capabilities follow: ask again with room for them. */
		uint32_t argsz = info->argsz;

		big = realloc(info, argsz);
		if (!big) {
			free(info);
			return -ENOMEM;
		}
		info = big;
		memset(info, 0, argsz);
		info->argsz = argsz;
		info->index = index;
		ret = v->ops->region_info(v->ops->ctx, v->fd, info);
		if (!ret && info->argsz > argsz)
			info->flags &= ~VFIO_REGION_INFO_FLAG_CAPS;
	}
	if (ret) {
		free(info);
		return ret;
	}
	r->size = info->size;
	r->offset = info->offset;
	r->flags = info->flags;
	if (full)
		*full = info;
	else
		free(info);
	return 0;
}

/* The capability with this id in a region info's chain, or NULL. */
static const struct vfio_info_cap_header *region_cap(const struct vfio_region_info *info,
						     uint16_t id)
{
	uint32_t off = info->cap_offset;

	if (!(info->flags & VFIO_REGION_INFO_FLAG_CAPS))
		return NULL;
	for (unsigned int n = 0; off && n < 64; n++) {
		const struct vfio_info_cap_header *h;

		if (off < sizeof(*info) || off > info->argsz - sizeof(*h) || off % 4)
			return NULL;
		h = (const void *)((const uint8_t *)info + off);
		if (h->id == id)
			return h;
		off = h->next;
	}
	return NULL;
}

/* ---- trapped accesses ----------------------------------------------------- */

static void region_rw(struct vfio_pci *v, const struct vfio_region *r, uint64_t off,
		      void *data, unsigned int len, bool write)
{
	ssize_t n;

	if (off >= r->size || len > r->size - off) {
		if (!write)
			memset(data, 0xff, len);
		return;
	}
	if (write)
		n = v->ops->pwrite(v->ops->ctx, v->fd, data, len, r->offset + off);
	else
		n = v->ops->pread(v->ops->ctx, v->fd, data, len, r->offset + off);
	if (n != (ssize_t)len) {
		/* Decode off (vfio-pci refuses then) or a device error: a
		 * read returns what a master abort would. */
		if (!write)
			memset(data, 0xff, len);
		pr_warn_once("vfio: %s: region access at %#" PRIx64 " (%u bytes) failed: %s",
			     v->bdf, r->offset + off, len, n < 0 ? strerror((int)-n) : "short");
	}
}

static void bar_rw(struct vfio_pci *v, unsigned int bar, uint64_t off, void *data,
		   unsigned int len, bool write)
{
	struct vfio_msix *x = &v->msix;
	uint64_t tsize = msix_table_size(x->nr), psize = msix_pba_size(x->nr);

	/* A config space mirror (quirks.c): the virtual config space. */
	if (v->nr_mirrors && vfio_quirk_access(v, bar, off, data, len, write))
		return;
	/* The emulated table and PBA (devices/msix.c); an access that
	 * straddles their edge is dropped. */
	if (x->cap && bar == x->table_bar && off < x->table_off + tsize &&
	    off + len > x->table_off) {
		if (off < x->table_off || off + len > x->table_off + tsize)
			goto drop;
		if (write)
			msix_table_write(&x->emu, off - x->table_off, data, len);
		else
			msix_table_read(&x->emu, off - x->table_off, data, len);
		return;
	}
	if (x->cap && bar == x->pba_bar && off < x->pba_off + psize && off + len > x->pba_off) {
		/* The PBA is read-only (PCI 3.0 §6.8.2.10). */
		if (write)
			return;
		if (off < x->pba_off || off + len > x->pba_off + psize)
			goto drop;
		msix_pba_read(&x->emu, off - x->pba_off, data, len);
		return;
	}
	region_rw(v, &v->bars[bar].r, off, data, len, write);
	return;

drop:
	if (!write)
		memset(data, 0xff, len);
}

static void piece_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	struct vfio_piece *p = opaque;

	bar_rw(p->v, p->bar, p->off + offset, data, len, false);
}

static void piece_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	struct vfio_piece *p = opaque;
	uint8_t buf[8];

	memcpy(buf, data, len > 8 ? 8 : len);
	bar_rw(p->v, p->bar, p->off + offset, buf, len > 8 ? 8 : len, true);
}

static const struct bus_dev_ops piece_ops = {
	.read = piece_read,
	.write = piece_write,
};

/* ---- set-up ------------------------------------------------------------------ */

struct area {
	uint64_t off, len;
	void *hva;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void add_piece(struct vfio_bar *b, struct vfio_pci *v, unsigned int bar,
		      uint64_t off, uint64_t end, void *hva, bool *overflow)
{
	struct vfio_piece *last = b->nr_pieces ? &b->pieces[b->nr_pieces - 1] : NULL;

	/* Merge with the previous piece when both are trapped, or both are
	 * mapped and contiguous in the host. */
	if (last && last->off + last->len == off &&
	    ((!hva && !last->hva) ||
	     (hva && last->hva && (uint8_t *)last->hva + last->len == (uint8_t *)hva))) {
		last->len = end - last->off;
		return;
	}
	if (b->nr_pieces == VFIO_MAX_PIECES) {
		*overflow = true;
		return;
	}
	b->pieces[b->nr_pieces++] = (struct vfio_piece){
		.v = v, .bar = bar, .off = off, .len = end - off, .hva = hva, .slot = -1,
	};
}

/*
 * Split BAR bar into mapped and trapped pieces: mmap the areas VFIO
 * allows, keep the MSI-X table and PBA pages out of them.
 */
static int bar_setup_pieces(struct vfio_pci *v, unsigned int bar,
			    const struct vfio_region_info *info)
{
	struct vfio_bar *b = &v->bars[bar];
	struct area areas[VFIO_MAX_AREAS];
	uint64_t excl[2 + VFIO_MAX_MIRRORS][2];
	uint64_t points[2 * VFIO_MAX_AREAS + 2 * (2 + VFIO_MAX_MIRRORS) + 2];
	unsigned int nr_areas = 0, nr_excl = 0, nr_points = 0;
	int prot = (b->r.flags & VFIO_REGION_INFO_FLAG_READ ? PROT_READ : 0) |
		   (b->r.flags & VFIO_REGION_INFO_FLAG_WRITE ? PROT_WRITE : 0);
	bool overflow = false;

	/* mmap=off: no areas, the whole BAR one trapped piece. */
	if ((b->r.flags & VFIO_REGION_INFO_FLAG_MMAP) && b->r.size >= VFIO_PAGE_SIZE &&
	    !v->no_mmap) {
		const struct vfio_info_cap_header *h = region_cap(info, VFIO_REGION_INFO_CAP_SPARSE_MMAP);

		if (h) {
			const struct vfio_region_info_cap_sparse_mmap *sp = (const void *)h;
			uint64_t room = info->argsz - ((const uint8_t *)sp->areas - (const uint8_t *)info);
			uint32_t n = sp->nr_areas;

			if ((const uint8_t *)sp->areas > (const uint8_t *)info + info->argsz)
				n = 0;
			else if (n > room / sizeof(sp->areas[0]))
				n = (uint32_t)(room / sizeof(sp->areas[0]));
			for (uint32_t i = 0; i < n && nr_areas < VFIO_MAX_AREAS; i++) {
				uint64_t o = sp->areas[i].offset, l = sp->areas[i].size;

				if (!l || o % VFIO_PAGE_SIZE || l % VFIO_PAGE_SIZE ||
				    o >= b->r.size || l > b->r.size - o)
					continue;
				areas[nr_areas++] = (struct area){ o, l, NULL };
			}
		} else {
			areas[nr_areas++] = (struct area){ 0, b->r.size, NULL };
		}
	}
	for (unsigned int i = 0; i < nr_areas; i++) {
		void *p = v->ops->mmap(v->ops->ctx, v->fd, b->r.offset + areas[i].off,
				       areas[i].len, prot);

		if (p == MAP_FAILED) {
			pr_warn("vfio: %s: cannot mmap BAR %u at %#" PRIx64 " (+%#" PRIx64 "): trapping it instead (slower)",
				v->bdf, bar, areas[i].off, areas[i].len);
			continue;
		}
		areas[i].hva = p;
		b->maps[b->nr_maps].addr = p;
		b->maps[b->nr_maps].len = areas[i].len;
		b->nr_maps++;
	}
	/* MSI-X table and PBA, page-granular (PCI 3.0 §6.8.2 recommends
	 * they share no page with other registers; where they do, those
	 * are trapped too). */
	if (v->msix.cap && v->msix.table_bar == bar) {
		excl[nr_excl][0] = v->msix.table_off & ~(VFIO_PAGE_SIZE - 1);
		excl[nr_excl][1] = (v->msix.table_off + msix_table_size(v->msix.nr) +
				    VFIO_PAGE_SIZE - 1) & ~(VFIO_PAGE_SIZE - 1);
		nr_excl++;
	}
	if (v->msix.cap && v->msix.pba_bar == bar) {
		excl[nr_excl][0] = v->msix.pba_off & ~(VFIO_PAGE_SIZE - 1);
		excl[nr_excl][1] = (v->msix.pba_off + msix_pba_size(v->msix.nr) +
				    VFIO_PAGE_SIZE - 1) & ~(VFIO_PAGE_SIZE - 1);
		nr_excl++;
	}
	/* Config space mirrors (quirks.c), page-granular too. */
	for (unsigned int i = 0; i < v->nr_mirrors; i++) {
		if (v->mirrors[i].bar != bar)
			continue;
		excl[nr_excl][0] = v->mirrors[i].off & ~(VFIO_PAGE_SIZE - 1);
		excl[nr_excl][1] = (v->mirrors[i].off + v->mirrors[i].len + VFIO_PAGE_SIZE - 1) &
				   ~(VFIO_PAGE_SIZE - 1);
		nr_excl++;
	}

	/* Walk the BAR between every boundary: each stretch is wholly
	 * inside or outside each area and each excluded range. */
	points[nr_points++] = 0;
	points[nr_points++] = b->r.size;
	for (unsigned int i = 0; i < nr_areas; i++) {
		points[nr_points++] = areas[i].off;
		points[nr_points++] = areas[i].off + areas[i].len;
	}
	for (unsigned int i = 0; i < nr_excl; i++) {
		points[nr_points++] = excl[i][0] < b->r.size ? excl[i][0] : b->r.size;
		points[nr_points++] = excl[i][1] < b->r.size ? excl[i][1] : b->r.size;
	}
	qsort(points, nr_points, sizeof(points[0]), cmp_u64);
	for (unsigned int i = 0; i + 1 < nr_points; i++) {
		uint64_t s = points[i], e = points[i + 1];
		void *hva = NULL;

		if (s == e)
			continue;
		for (unsigned int a = 0; a < nr_areas; a++)
			if (areas[a].hva && s >= areas[a].off && e <= areas[a].off + areas[a].len)
				hva = (uint8_t *)areas[a].hva + (s - areas[a].off);
		for (unsigned int x = 0; x < nr_excl; x++)
			if (s >= excl[x][0] && e <= excl[x][1])
				hva = NULL;
		add_piece(b, v, bar, s, e, hva, &overflow);
	}
	if (overflow) {
		pr_err("vfio: %s: BAR %u splits into more than %u parts", v->bdf, bar, VFIO_MAX_PIECES);
		return -ENOSPC;
	}
	return 0;
}

static const struct bus_dev_ops io_bar_ops = {
	.read = piece_read,
	.write = piece_write,
};

int vfio_bars_init(struct vfio_pci *v)
{
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
		struct vfio_bar *b = &v->bars[i];
		struct vfio_region_info *info = NULL;
		uint32_t lo = pci_get32(v->hw_config, PCI_BASE_ADDRESS_0 + 4 * i);
		unsigned int flags;
		int ret;

		if (vfio_region_get(v, i, &b->r, &info) || !b->r.size) {
			free(info);
			continue;
		}
		snprintf(b->name, sizeof(b->name), "vfio %s BAR%u", v->bdf, i);
		if (i == 0)
			vfio_quirks_probe(v, v->legacy_vga);
		b->whole = (struct vfio_piece){ .v = v, .bar = i, .len = b->r.size, .slot = -1 };
		if (lo & 1) {
			flags = PCI_BAR_IO;
		} else {
			flags = PCI_BAR_HOSTMEM;
			if (((lo >> 1) & 3) == 2)
				flags |= PCI_BAR_MEM64;
			if (lo & 8)
				flags |= PCI_BAR_PREFETCH;
		}
		if (b->r.size & (b->r.size - 1)) {
			pr_warn("vfio: %s: BAR %u has size %#" PRIx64 ", not a power of two: not exposed",
				v->bdf, i, b->r.size);
			free(info);
			continue;
		}
		if (!(flags & PCI_BAR_IO)) {
			ret = bar_setup_pieces(v, i, info);
			if (ret) {
				free(info);
				return ret;
			}
		}
		free(info);
		ret = pci_dev_register_bar(&v->dev, i, flags, b->r.size,
					   flags & PCI_BAR_IO ? &io_bar_ops : NULL,
					   &b->whole, b->name);
		if (ret) {
			pr_err("vfio: %s: BAR %u (%s, %#" PRIx64 " bytes) cannot be exposed: %s",
			       v->bdf, i, flags & PCI_BAR_IO ? "I/O" : "memory", b->r.size,
			       strerror(-ret));
			return ret;
		}
		b->flags = flags;
		if (flags & PCI_BAR_MEM64)
			i++;
	}
	return 0;
}

void vfio_bars_exit(struct vfio_pci *v)
{
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
		struct vfio_bar *b = &v->bars[i];

		for (unsigned int m = 0; m < b->nr_maps; m++)
			v->ops->munmap(v->ops->ctx, b->maps[m].addr, b->maps[m].len);
		b->nr_maps = 0;
	}
	if (v->rom)
		munmap(v->rom, v->rom_size);
	v->rom = NULL;
}

/* ---- decode: the core's bar_map / bar_unmap ------------------------------------ */

static struct bus *mmio_bus(struct vfio_pci *v)
{
	return v->dev.bus->root->mmio;
}

static int piece_map(struct vfio_pci *v, struct vfio_piece *p, uint64_t addr)
{
	int ret;

	p->gpa = addr + p->off;
	if (p->hva) {
		ret = v->vm->add_memslot(v->vm->vm, p->gpa, p->len, p->hva, 0, &p->slot);
		if (ret)
			p->slot = -1;
	} else {
		ret = bus_register(mmio_bus(v), p->gpa, p->len, &piece_ops, p,
				   v->bars[p->bar].name);
		p->registered = !ret;
	}
	if (trace_on(TRACE_VFIO))
		vfio_trace_piece(v, p, true, ret);
	return ret;
}

static void piece_unmap(struct vfio_pci *v, struct vfio_piece *p)
{
	if (trace_on(TRACE_VFIO) && (p->slot >= 0 || p->registered))
		vfio_trace_piece(v, p, false, 0);
	if (p->slot >= 0)
		v->vm->remove_memslot(v->vm->vm, p->slot);
	if (p->registered)
		bus_unregister(mmio_bus(v), p->gpa);
	p->slot = -1;
	p->registered = false;
}

int vfio_bar_map(struct pci_dev *dev, unsigned int bar, uint64_t addr, uint64_t size)
{
	struct vfio_pci *v = to_vfio(dev);
	struct vfio_bar *b;
	int ret = 0;

	if (trace_on(TRACE_VFIO))
		vfio_trace_bar(v, "bar-map", bar, addr, size, 0);
	if (bar == PCI_ROM_BAR) {
		if (!v->rom)
			return -ENODEV;
		ret = v->vm->add_memslot(v->vm->vm, addr, v->rom_size, v->rom,
					 VM_MEMSLOT_READONLY, &v->rom_slot);
		if (trace_on(TRACE_VFIO))
			vfio_trace_rom_slot(v, true, addr, ret ? -1 : v->rom_slot, ret);
		return ret;
	}
	if (bar >= PCI_NUM_BARS)
		return -EINVAL;
	b = &v->bars[bar];
	if (addr % VFIO_PAGE_SIZE)
		return piece_map(v, &b->whole, addr);
	for (unsigned int i = 0; i < b->nr_pieces; i++) {
		ret = piece_map(v, &b->pieces[i], addr);
		if (ret) {
			while (i--)
				piece_unmap(v, &b->pieces[i]);
			return ret;
		}
	}
	return 0;
}

void vfio_bar_unmap(struct pci_dev *dev, unsigned int bar, uint64_t addr, uint64_t size)
{
	struct vfio_pci *v = to_vfio(dev);
	struct vfio_bar *b;

	if (trace_on(TRACE_VFIO))
		vfio_trace_bar(v, "bar-unmap", bar, addr, size, 0);
	if (bar == PCI_ROM_BAR) {
		if (trace_on(TRACE_VFIO) && v->rom_slot >= 0)
			vfio_trace_rom_slot(v, false, addr, v->rom_slot, 0);
		if (v->rom_slot >= 0)
			v->vm->remove_memslot(v->vm->vm, v->rom_slot);
		v->rom_slot = -1;
		return;
	}
	if (bar >= PCI_NUM_BARS)
		return;
	b = &v->bars[bar];
	piece_unmap(v, &b->whole);
	for (unsigned int i = 0; i < b->nr_pieces; i++)
		piece_unmap(v, &b->pieces[i]);
}

/* ---- expansion ROM -------------------------------------------------------------- */

static int rom_read_file(const char *path, uint8_t **buf, uint64_t *len)
{
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;

	if (fd < 0 || fstat(fd, &st)) {
		ret = -errno;
		pr_err("vfio: romfile=%s: %s", path, strerror(errno));
		goto close_fd;
	}
	if (st.st_size <= 0 || (uint64_t)st.st_size > VFIO_ROM_MAX) {
		pr_err("vfio: romfile=%s: %lld bytes; a ROM is 1 byte to 16 MiB", path,
		       (long long)st.st_size);
		ret = -EINVAL;
		goto close_fd;
	}
	*len = (uint64_t)st.st_size;
	*buf = malloc(*len);
	if (!*buf) {
		ret = -ENOMEM;
		goto close_fd;
	}
	n = pread(fd, *buf, *len, 0);
	if (n != (ssize_t)*len) {
		pr_err("vfio: romfile=%s: short read", path);
		free(*buf);
		*buf = NULL;
		ret = -EIO;
	}
close_fd:
	if (fd >= 0)
		close(fd);
	return ret;
}

/*
 * The ROM BAR shows a copy of the device's ROM (or of romfile), read
 * once: a ROM read through VFIO enables the device's ROM decode each
 * time, and the firmware reads it more than once. It is mapped read-only
 * so the firmware copies it out without an exit per dword.
 */
int vfio_rom_init(struct vfio_pci *v, const char *romfile)
{
	struct vfio_region r;
	uint8_t *buf = NULL;
	uint64_t len = 0, size = VFIO_PAGE_SIZE;
	int ret;

	if (romfile) {
		ret = rom_read_file(romfile, &buf, &len);
		if (ret)
			return ret;
	} else {
		if (vfio_region_get(v, VFIO_PCI_ROM_REGION_INDEX, &r, NULL) || !r.size)
			return 0;
		if (r.size > VFIO_ROM_MAX) {
			pr_warn("vfio: %s: ROM of %#" PRIx64 " bytes is too big: not exposed", v->bdf, r.size);
			return 0;
		}
		len = r.size;
		buf = malloc(len);
		if (!buf)
			return -ENOMEM;
		if (v->ops->pread(v->ops->ctx, v->fd, buf, len, r.offset) != (ssize_t)len ||
		    buf[0] != 0x55 || buf[1] != 0xaa) {
			/* PCI 3.0 §6.3.1.1: an image starts with 55h AAh. Many
			 * devices decode a ROM BAR with nothing behind it. */
			pr_debug("vfio: %s: no valid option ROM on the device", v->bdf);
			free(buf);
			return 0;
		}
	}
	while (size < len)
		size <<= 1;
	v->rom = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (v->rom == MAP_FAILED) {
		v->rom = NULL;
		free(buf);
		return -ENOMEM;
	}
	memset(v->rom, 0xff, size);
	memcpy(v->rom, buf, len);
	free(buf);
	mprotect(v->rom, size, PROT_READ);
	v->rom_size = size;
	ret = pci_dev_register_bar(&v->dev, PCI_ROM_BAR, PCI_BAR_HOSTMEM, size, NULL, NULL, "rom");
	if (ret) {
		munmap(v->rom, size);
		v->rom = NULL;
	}
	return ret;
}

/* ---- legacy VGA (VFIO_PCI_VGA_REGION_INDEX) ------------------------------------ */

static void vga_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	struct vfio_vga_range *g = opaque;

	region_rw(g->v, &g->v->vga, g->base + offset, data, len, false);
}

static void vga_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	struct vfio_vga_range *g = opaque;
	uint8_t buf[8];

	memcpy(buf, data, len > 8 ? 8 : len);
	region_rw(g->v, &g->v->vga, g->base + offset, buf, len > 8 ? 8 : len, true);
}

static const struct bus_dev_ops vga_ops = {
	.read = vga_read,
	.write = vga_write,
};

/*
 * The VGA region holds the legacy ranges at their own addresses as
 * offsets (include/uapi/linux/vfio.h): 0xA0000-0xBFFFF, I/O 0x3B0-0x3BB
 * and 0x3C0-0x3DF. They are always forwarded to this device: it is the
 * primary display, and nothing else in minivmm decodes them.
 */
int vfio_vga_init(struct vfio_pci *v, struct pci_root *root)
{
	static const struct { bool pio; uint64_t base, len; } ranges[3] = {
		{ false, VGA_MMIO_BASE, VGA_MMIO_SIZE },
		{ true, 0x3b0, 0x0c },
		{ true, 0x3c0, 0x20 },
	};
	int ret;

	ret = vfio_region_get(v, VFIO_PCI_VGA_REGION_INDEX, &v->vga, NULL);
	if (ret || v->vga.size < VGA_MMIO_BASE + VGA_MMIO_SIZE) {
		pr_err("vfio: %s: vga=on, but VFIO offers no VGA region for it (a VGA-class device? vfio-pci loaded with disable_vga=1?)",
		       v->bdf);
		return ret ? ret : -ENODEV;
	}
	for (unsigned int i = 0; i < 3; i++) {
		struct vfio_vga_range *g = &v->vga_ranges[i];
		struct bus *bus = ranges[i].pio ? root->pio : root->mmio;

		g->v = v;
		g->base = ranges[i].base;
		ret = bus_register(bus, ranges[i].base, ranges[i].len, &vga_ops, g, "vfio-vga");
		if (ret) {
			pr_err("vfio: %s: vga=on: %s %#" PRIx64 " is taken by another device",
			       v->bdf, ranges[i].pio ? "port" : "address", ranges[i].base);
			vfio_vga_exit(v);
			return ret;
		}
		g->bus = bus;
	}
	return 0;
}

void vfio_vga_exit(struct vfio_pci *v)
{
	for (unsigned int i = 0; i < 3; i++) {
		struct vfio_vga_range *g = &v->vga_ranges[i];

		if (g->bus)
			bus_unregister(g->bus, g->base);
		g->bus = NULL;
	}
}
