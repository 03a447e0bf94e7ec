// SPDX-License-Identifier: MIT
/*
 * QEMU firmware configuration device, after qemu/docs/specs/fw_cfg.rst
 * ("the spec" below); where the spec is silent, behaviour follows what
 * QEMU's device does, because OVMF was written against it.
 *
 * Items are byte arrays with a 16-bit key. Numbered items (signature, ID,
 * CPU count, ...) live in a small unsorted array; named files live in an
 * array sorted by name, and a file's key is 0x20 + its index there, which
 * is how QEMU numbers files on non-legacy machines (fw_cfg_add_file_callback).
 * The file directory (key 0x19) is regenerated whenever a file changes.
 *
 * Everything a guest hands the DMA engine is untrusted: the descriptor
 * address, the control word, the length and the buffer address. Every
 * guest-memory access goes through guest_mem_ptr(); a transfer whose buffer
 * is not wholly guest RAM is refused before a single byte moves, with the
 * error bit set in the control word.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/fw_cfg.h"
#include "lib/log.h"

struct fw_cfg_item {
	uint16_t key;			/* arch bit + entry; files: unused */
	uint8_t *data;
	uint32_t len;
	bool writable;
	const struct fw_cfg_item_ops *ops;
	void *opaque;
	char name[FW_CFG_MAX_FILE_PATH];	/* files only */
};

struct fw_cfg {
	struct device dev;
	pthread_mutex_t lock;
	const struct guest_mem *mem;

	struct fw_cfg_item *items;	/* numbered items, any order */
	size_t nr_items, cap_items;
	struct fw_cfg_item *files;	/* sorted by name; key 0x20 + index */
	size_t nr_files, cap_files;

	uint16_t cur_key;		/* as the guest wrote it */
	uint32_t cur_offset;
	uint64_t dma_addr;		/* address register, host order */

	uint64_t dma_transfers, dma_errors;
	struct bus *pio;
	bool attached;
};

/* The spec's "Selector Register": bit 14 (write channel) is ignored since
 * QEMU 2.4, bit 15 selects the arch-local space, bits 13-0 the entry. */
static uint16_t key_index(uint16_t key)
{
	return key & (FW_CFG_ARCH_LOCAL | FW_CFG_ENTRY_MASK);
}

static struct fw_cfg_item *fw_cfg_lookup(struct fw_cfg *fw, uint16_t key)
{
	uint16_t k = key_index(key);

	if (!(k & FW_CFG_ARCH_LOCAL) && k >= FW_CFG_FILE_FIRST) {
		size_t i = k - FW_CFG_FILE_FIRST;

		return i < fw->nr_files ? &fw->files[i] : NULL;
	}
	for (size_t i = 0; i < fw->nr_items; i++)
		if (fw->items[i].key == k)
			return &fw->items[i];
	return NULL;
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, (uint16_t)(v >> 16));
	put_be16(p + 2, (uint16_t)v);
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

/* A private copy of data; a zero-length item still gets a non-NULL pointer
 * so "no data" and "empty" need no separate cases. */
static uint8_t *dup_data(const void *data, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);

	if (p && len)
		memcpy(p, data, len);
	return p;
}

/*
 * The file directory, spec "File Directory (Key 0x0019)": a big-endian
 * count, then per file {be32 size, be16 select, u16 reserved, name[56]}.
 */
static int fw_cfg_rebuild_dir(struct fw_cfg *fw)
{
	struct fw_cfg_item *dir = fw_cfg_lookup(fw, FW_CFG_FILE_DIR);
	size_t len = 4 + 64 * fw->nr_files;
	uint8_t *p = calloc(1, len);

	if (!p)
		return -ENOMEM;
	put_be32(p, (uint32_t)fw->nr_files);
	for (size_t i = 0; i < fw->nr_files; i++) {
		uint8_t *e = p + 4 + 64 * i;

		put_be32(e, fw->files[i].len);
		put_be16(e + 4, (uint16_t)(FW_CFG_FILE_FIRST + i));
		memcpy(e + 8, fw->files[i].name, FW_CFG_MAX_FILE_PATH);
	}
	free(dir->data);
	dir->data = p;
	dir->len = (uint32_t)len;
	return 0;
}

static int fw_cfg_add_item_locked(struct fw_cfg *fw, uint16_t key,
				  const void *data, size_t len)
{
	struct fw_cfg_item *items;
	uint8_t *copy;

	if (len >= UINT32_MAX)
		return -E2BIG;
	if (fw_cfg_lookup(fw, key))
		return -EEXIST;
	if (fw->nr_items == fw->cap_items) {
		size_t cap = fw->cap_items ? 2 * fw->cap_items : 16;

		items = realloc(fw->items, cap * sizeof(*items));
		if (!items)
			return -ENOMEM;
		fw->items = items;
		fw->cap_items = cap;
	}
	copy = dup_data(data, len);
	if (!copy)
		return -ENOMEM;
	fw->items[fw->nr_items++] = (struct fw_cfg_item){
		.key = key, .data = copy, .len = (uint32_t)len,
	};
	return 0;
}

/* ---- guest memory -------------------------------------------------- */

enum ram_op { RAM_CHECK, RAM_TO_GUEST, RAM_FROM_GUEST, RAM_ZERO };

/*
 * Apply op to [gpa, gpa + len), which may span RAM regions that touch
 * (with no isa-bios alias, 0xC0000-0xFFFFF runs straight into 1 MiB). The
 * map only tells where a region ends; every byte is reached through
 * guest_mem_ptr(), which refuses anything outside RAM. -EFAULT if any part
 * is not RAM; callers check with RAM_CHECK first so that a refused
 * transfer moves nothing.
 */
static int ram_walk(const struct guest_mem *mem, uint64_t gpa, uint64_t len,
		    enum ram_op op, void *buf)
{
	uint8_t *b = buf;

	/* A range that wraps past 2^64 is never RAM. */
	if (len && gpa + (len - 1) < gpa)
		return -EFAULT;
	while (len) {
		const struct mem_region *r = NULL;
		uint64_t chunk;
		void *hva;

		for (unsigned int i = 0; i < mem->nr_regions; i++) {
			const struct mem_region *c = &mem->regions[i];

			if (gpa >= c->gpa && gpa - c->gpa < c->size) {
				r = c;
				break;
			}
		}
		if (!r)
			return -EFAULT;
		chunk = r->size - (gpa - r->gpa);
		if (chunk > len)
			chunk = len;
		if (guest_mem_ptr(mem, gpa, chunk, &hva))
			return -EFAULT;
		switch (op) {
		case RAM_CHECK:
			break;
		case RAM_TO_GUEST:
			memcpy(hva, b, chunk);
			b += chunk;
			break;
		case RAM_FROM_GUEST:
			memcpy(b, hva, chunk);
			b += chunk;
			break;
		case RAM_ZERO:
			memset(hva, 0, chunk);
			break;
		}
		gpa += chunk;
		len -= chunk;
	}
	return 0;
}

/* ---- the guest interface ------------------------------------------- */

/* Spec "Selector Register": a write sets the item and resets the offset.
 * Unknown keys select nothing; their data reads as zeros. */
static void fw_cfg_select(struct fw_cfg *fw, uint16_t key)
{
	struct fw_cfg_item *it;

	fw->cur_key = key;
	fw->cur_offset = 0;
	it = fw_cfg_lookup(fw, key);
	if (it && it->ops && it->ops->select)
		it->ops->select(it->opaque, it->data, it->len);
}

/* Spec "Data Register": past the end of the item, reads return 0x00 and
 * the offset stays put. */
static uint8_t fw_cfg_read_byte(struct fw_cfg *fw)
{
	struct fw_cfg_item *it = fw_cfg_lookup(fw, fw->cur_key);

	if (!it || fw->cur_offset >= it->len)
		return 0;
	return it->data[fw->cur_offset++];
}

/*
 * READ: the next length bytes of the item into guest RAM, zero-filled past
 * the item's end (QEMU's fw_cfg_dma_transfer does the same, and OVMF's
 * QemuFwCfgReadBytes relies on it for absent items).
 */
static uint32_t dma_read(struct fw_cfg *fw, struct fw_cfg_item *it,
			 uint64_t addr, uint32_t length)
{
	uint32_t avail = 0;

	if (ram_walk(fw->mem, addr, length, RAM_CHECK, NULL))
		return FW_CFG_DMA_CTL_ERROR;
	if (it && fw->cur_offset < it->len) {
		avail = it->len - fw->cur_offset;
		if (avail > length)
			avail = length;
	}
	ram_walk(fw->mem, addr, avail, RAM_TO_GUEST, it ? it->data + fw->cur_offset : NULL);
	ram_walk(fw->mem, addr + avail, length - avail, RAM_ZERO, NULL);
	fw->cur_offset += avail;
	return 0;
}

/*
 * WRITE: spec "Guest-side DMA Interface": only into writable items, never
 * starting or ending past the item's end, and a truncated write is dropped
 * entirely.
 */
static uint32_t dma_write(struct fw_cfg *fw, struct fw_cfg_item *it,
			  uint64_t addr, uint32_t length)
{
	if (!it || !it->writable || fw->cur_offset >= it->len ||
	    length > it->len - fw->cur_offset)
		return FW_CFG_DMA_CTL_ERROR;
	if (ram_walk(fw->mem, addr, length, RAM_CHECK, NULL))
		return FW_CFG_DMA_CTL_ERROR;
	ram_walk(fw->mem, addr, length, RAM_FROM_GUEST, it->data + fw->cur_offset);
	if (it->ops && it->ops->write)
		it->ops->write(it->opaque, it->data, fw->cur_offset, length);
	fw->cur_offset += length;
	return 0;
}

/*
 * One DMA operation, started by a write of the descriptor's address. The
 * descriptor is FWCfgDmaAccess {be32 control, be32 length, be64 address};
 * it is copied out once, so the guest changing it meanwhile changes
 * nothing. On completion the control word is rewritten: 0 for success,
 * the error bit otherwise.
 */
static void fw_cfg_dma_transfer(struct fw_cfg *fw)
{
	uint64_t desc = fw->dma_addr, addr;
	uint32_t control, length, status = 0;
	struct fw_cfg_item *it;
	uint8_t raw[16], out[4];

	/* Spec: the address register reads 0 after an operation. */
	fw->dma_addr = 0;
	fw->dma_transfers++;

	if (ram_walk(fw->mem, desc, sizeof(raw), RAM_FROM_GUEST, raw)) {
		/* Report it if at least the control word is RAM, as QEMU
		 * does; if not, there is nowhere to say anything. */
		pr_warn_once("fw_cfg: DMA descriptor at 0x%llx is not in guest RAM",
			     (unsigned long long)desc);
		status = FW_CFG_DMA_CTL_ERROR;
		goto write_status;
	}
	control = get_be32(raw);
	length = get_be32(raw + 4);
	addr = get_be64(raw + 8);

	if (control & FW_CFG_DMA_CTL_SELECT)
		fw_cfg_select(fw, (uint16_t)(control >> 16));
	it = fw_cfg_lookup(fw, fw->cur_key);

	/* One operation per descriptor; read wins over write over skip, and
	 * none of them is a successful no-op (QEMU's order). */
	if (!length) {
		status = 0;
	} else if (control & FW_CFG_DMA_CTL_READ) {
		status = dma_read(fw, it, addr, length);
	} else if (control & FW_CFG_DMA_CTL_WRITE) {
		status = dma_write(fw, it, addr, length);
	} else if (control & FW_CFG_DMA_CTL_SKIP) {
		if (it && fw->cur_offset < it->len)
			fw->cur_offset += length < it->len - fw->cur_offset ?
					  length : it->len - fw->cur_offset;
	}

write_status:
	if (status)
		fw->dma_errors++;
	put_be32(out, status);
	/* All or nothing like every other guest access here: a control word
	 * that runs out of RAM (into a hole, off the end) is not written at
	 * all, rather than the bytes of it that happen to be RAM (found by
	 * tests/fuzz/fuzz_fw_cfg.c). */
	if (!ram_walk(fw->mem, desc, sizeof(out), RAM_CHECK, NULL))
		ram_walk(fw->mem, desc, sizeof(out), RAM_TO_GUEST, out);
}

/*
 * 0x510-0x511. QEMU maps both as one 2-byte region ("the 8-bit data
 * register always overlaps half of the 16-bit control register",
 * hw/nvram/fw_cfg.c): 8-bit reads at either port read data, a 16-bit write
 * at 0x510 selects, 8-bit writes are data writes, which are no-ops since
 * QEMU 2.4 (spec "Selector Register" note). Other widths are refused: the
 * spec gives the x86 data port 8 bits.
 */
static void fw_cfg_ctl_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	struct fw_cfg *fw = opaque;

	if (len != 1) {
		memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&fw->lock);
	*(uint8_t *)data = fw_cfg_read_byte(fw);
	pthread_mutex_unlock(&fw->lock);
}

static void fw_cfg_ctl_write(void *opaque, uint64_t offset, const void *data,
			     unsigned int len)
{
	struct fw_cfg *fw = opaque;

	if (len != 2 || offset != 0)
		return;
	pthread_mutex_lock(&fw->lock);
	fw_cfg_select(fw, (uint16_t)bus_data_get(data, 2));
	pthread_mutex_unlock(&fw->lock);
}

/* 0x514-0x51B read back as "QEMU CFG" whatever the width (spec
 * "Signature"; QEMU extracts the bytes of the big-endian constant). */
static void fw_cfg_dma_port_read(void *opaque, uint64_t offset, void *data,
				 unsigned int len)
{
	static const char sig[FW_CFG_DMA_SIZE] = FW_CFG_DMA_SIGNATURE;

	for (unsigned int i = 0; i < len; i++)
		((uint8_t *)data)[i] = offset + i < sizeof(sig) ? (uint8_t)sig[offset + i] : 0xff;
}

/*
 * The address register is big-endian: the guest writes the high half at
 * 0x514 first (if it is not zero), then the low half at 0x518, which
 * starts the transfer; or all 8 bytes at 0x514 at once. OVMF does
 * IoWrite32(0x514, SwapBytes32(high)); IoWrite32(0x518, SwapBytes32(low)).
 */
static void fw_cfg_dma_port_write(void *opaque, uint64_t offset, const void *data,
				  unsigned int len)
{
	struct fw_cfg *fw = opaque;
	const uint8_t *p = data;

	pthread_mutex_lock(&fw->lock);
	if (len == 4 && offset == 0) {
		fw->dma_addr = (uint64_t)get_be32(p) << 32;
	} else if (len == 4 && offset == 4) {
		fw->dma_addr |= get_be32(p);
		fw_cfg_dma_transfer(fw);
	} else if (len == 8 && offset == 0) {
		fw->dma_addr = get_be64(p);
		fw_cfg_dma_transfer(fw);
	}
	pthread_mutex_unlock(&fw->lock);
}

static const struct bus_dev_ops fw_cfg_ctl_ops = {
	.read = fw_cfg_ctl_read,
	.write = fw_cfg_ctl_write,
};

static const struct bus_dev_ops fw_cfg_dma_ops = {
	.read = fw_cfg_dma_port_read,
	.write = fw_cfg_dma_port_write,
};

/* ---- the host interface -------------------------------------------- */

static void fw_cfg_dev_reset(struct device *dev)
{
	fw_cfg_reset(container_of(dev, struct fw_cfg, dev));
}

static void fw_cfg_dev_destroy(struct device *dev)
{
	fw_cfg_destroy(container_of(dev, struct fw_cfg, dev));
}

static const struct device_ops fw_cfg_device_ops = {
	.reset = fw_cfg_dev_reset,
	.destroy = fw_cfg_dev_destroy,
};

struct fw_cfg *fw_cfg_create(const struct vm_ops *ops, const struct guest_mem *mem)
{
	static const char signature[4] = "QEMU";
	uint8_t id[4] = { FW_CFG_VERSION | FW_CFG_VERSION_DMA, 0, 0, 0 };
	struct fw_cfg *fw;
	int ret;

	if (!mem) {
		errno = EINVAL;
		return NULL;
	}
	fw = calloc(1, sizeof(*fw));
	if (!fw)
		return NULL;
	ret = pthread_mutex_init(&fw->lock, NULL);
	if (ret)
		goto free_fw;
	fw->mem = mem;

	/* Spec "Signature" and "Revision / feature bitmap": OVMF's
	 * QemuFwCfgInitialize() wants "QEMU" and ID >= 1, and uses DMA when
	 * bit 1 is set. */
	ret = -fw_cfg_add_item_locked(fw, FW_CFG_SIGNATURE, signature, sizeof(signature));
	if (!ret)
		ret = -fw_cfg_add_item_locked(fw, FW_CFG_ID, id, sizeof(id));
	if (!ret)
		ret = -fw_cfg_add_item_locked(fw, FW_CFG_FILE_DIR, NULL, 0);
	if (!ret)
		ret = -fw_cfg_rebuild_dir(fw);
	if (ret)
		goto free_items;
	device_register(ops, &fw->dev, "fw-cfg", &fw_cfg_device_ops);
	return fw;

free_items:
	for (size_t i = 0; i < fw->nr_items; i++)
		free(fw->items[i].data);
	free(fw->items);
	pthread_mutex_destroy(&fw->lock);
free_fw:
	free(fw);
	errno = ret;
	return NULL;
}

int fw_cfg_attach(struct fw_cfg *fw, struct bus *pio)
{
	int ret;

	if (fw->attached)
		return -EBUSY;
	ret = bus_register(pio, FW_CFG_PORT_SEL, FW_CFG_CTL_SIZE, &fw_cfg_ctl_ops,
			   fw, "fw_cfg");
	if (ret)
		return ret;
	ret = bus_register(pio, FW_CFG_PORT_DMA, FW_CFG_DMA_SIZE, &fw_cfg_dma_ops,
			   fw, "fw_cfg-dma");
	if (ret)
		goto unregister_ctl;
	fw->pio = pio;
	fw->attached = true;
	return 0;

unregister_ctl:
	bus_unregister(pio, FW_CFG_PORT_SEL);
	return ret;
}

void fw_cfg_destroy(struct fw_cfg *fw)
{
	if (!fw)
		return;
	device_unregister(&fw->dev);
	if (fw->attached) {
		bus_unregister(fw->pio, FW_CFG_PORT_DMA);
		bus_unregister(fw->pio, FW_CFG_PORT_SEL);
	}
	for (size_t i = 0; i < fw->nr_items; i++)
		free(fw->items[i].data);
	for (size_t i = 0; i < fw->nr_files; i++)
		free(fw->files[i].data);
	free(fw->items);
	free(fw->files);
	pthread_mutex_destroy(&fw->lock);
	free(fw);
}

/* Keys a caller may add: generic ones below the file range, or arch-local
 * ones, without the write-channel bit; never the three the device owns. */
static bool key_addable(uint16_t key)
{
	if (key & FW_CFG_WRITE_CHANNEL)
		return false;
	if (key == FW_CFG_SIGNATURE || key == FW_CFG_ID || key == FW_CFG_FILE_DIR)
		return false;
	return (key & FW_CFG_ARCH_LOCAL) || key < FW_CFG_FILE_FIRST;
}

int fw_cfg_add_item(struct fw_cfg *fw, uint16_t key, const void *data, size_t len)
{
	int ret;

	if (!key_addable(key) || (!data && len))
		return -EINVAL;
	pthread_mutex_lock(&fw->lock);
	ret = fw_cfg_add_item_locked(fw, key, data, len);
	pthread_mutex_unlock(&fw->lock);
	return ret;
}

int fw_cfg_add_i16(struct fw_cfg *fw, uint16_t key, uint16_t value)
{
	uint8_t b[2];

	bus_data_put(b, sizeof(b), value);
	return fw_cfg_add_item(fw, key, b, sizeof(b));
}

int fw_cfg_add_i32(struct fw_cfg *fw, uint16_t key, uint32_t value)
{
	uint8_t b[4];

	bus_data_put(b, sizeof(b), value);
	return fw_cfg_add_item(fw, key, b, sizeof(b));
}

int fw_cfg_add_i64(struct fw_cfg *fw, uint16_t key, uint64_t value)
{
	uint8_t b[8];

	bus_data_put(b, sizeof(b), value);
	return fw_cfg_add_item(fw, key, b, sizeof(b));
}

static int find_file(struct fw_cfg *fw, const char *name, size_t *index)
{
	size_t lo = 0, hi = fw->nr_files;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(fw->files[mid].name, name);

		if (c == 0) {
			*index = mid;
			return 0;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*index = lo;
	return -ENOENT;
}

int fw_cfg_add_file_ops(struct fw_cfg *fw, const char *name, const void *data,
			size_t len, bool writable,
			const struct fw_cfg_item_ops *ops, void *opaque)
{
	struct fw_cfg_item *files;
	size_t i, name_len;
	uint8_t *copy;
	int ret;

	if (!name || (!data && len))
		return -EINVAL;
	name_len = strlen(name);
	if (!name_len)
		return -EINVAL;
	if (name_len >= FW_CFG_MAX_FILE_PATH)
		return -ENAMETOOLONG;
	if (len >= UINT32_MAX)
		return -E2BIG;

	pthread_mutex_lock(&fw->lock);
	if (!find_file(fw, name, &i)) {
		ret = -EEXIST;
		goto unlock;
	}
	if (fw->nr_files >= FW_CFG_MAX_FILES) {
		ret = -ENOSPC;
		goto unlock;
	}
	if (fw->nr_files == fw->cap_files) {
		size_t cap = fw->cap_files ? 2 * fw->cap_files : 32;

		files = realloc(fw->files, cap * sizeof(*files));
		if (!files) {
			ret = -ENOMEM;
			goto unlock;
		}
		fw->files = files;
		fw->cap_files = cap;
	}
	copy = dup_data(data, len);
	if (!copy) {
		ret = -ENOMEM;
		goto unlock;
	}
	memmove(&fw->files[i + 1], &fw->files[i], (fw->nr_files - i) * sizeof(*fw->files));
	fw->files[i] = (struct fw_cfg_item){
		.data = copy, .len = (uint32_t)len, .writable = writable,
		.ops = ops, .opaque = opaque,
	};
	memcpy(fw->files[i].name, name, name_len + 1);
	fw->nr_files++;
	ret = fw_cfg_rebuild_dir(fw);
	if (ret)
		goto remove_file;
	pthread_mutex_unlock(&fw->lock);
	return 0;

remove_file:
	free(fw->files[i].data);
	fw->nr_files--;
	memmove(&fw->files[i], &fw->files[i + 1], (fw->nr_files - i) * sizeof(*fw->files));
unlock:
	pthread_mutex_unlock(&fw->lock);
	return ret;
}

int fw_cfg_add_file(struct fw_cfg *fw, const char *name, const void *data, size_t len)
{
	return fw_cfg_add_file_ops(fw, name, data, len, false, NULL, NULL);
}

int fw_cfg_update_file(struct fw_cfg *fw, const char *name, const void *data, size_t len)
{
	struct fw_cfg_item *f;
	uint8_t *copy, *old;
	uint32_t old_len;
	size_t i;
	int ret;

	if (!name || (!data && len))
		return -EINVAL;
	if (len >= UINT32_MAX)
		return -E2BIG;
	copy = dup_data(data, len);
	if (!copy)
		return -ENOMEM;
	pthread_mutex_lock(&fw->lock);
	ret = find_file(fw, name, &i);
	if (ret)
		goto free_copy;
	f = &fw->files[i];
	old = f->data;
	old_len = f->len;
	f->data = copy;
	f->len = (uint32_t)len;
	ret = fw_cfg_rebuild_dir(fw);
	if (ret) {
		f->data = old;
		f->len = old_len;
		goto free_copy;
	}
	pthread_mutex_unlock(&fw->lock);
	free(old);
	return 0;

free_copy:
	pthread_mutex_unlock(&fw->lock);
	free(copy);
	return ret;
}

int fw_cfg_file_key(struct fw_cfg *fw, const char *name)
{
	size_t i;
	int ret;

	if (!name)
		return -EINVAL;
	pthread_mutex_lock(&fw->lock);
	ret = find_file(fw, name, &i);
	pthread_mutex_unlock(&fw->lock);
	return ret ? ret : (int)(FW_CFG_FILE_FIRST + i);
}

void fw_cfg_reset(struct fw_cfg *fw)
{
	pthread_mutex_lock(&fw->lock);
	fw->cur_key = FW_CFG_SIGNATURE;
	fw->cur_offset = 0;
	fw->dma_addr = 0;
	pthread_mutex_unlock(&fw->lock);
}

void fw_cfg_dma_stats(struct fw_cfg *fw, uint64_t *transfers, uint64_t *errors)
{
	pthread_mutex_lock(&fw->lock);
	if (transfers)
		*transfers = fw->dma_transfers;
	if (errors)
		*errors = fw->dma_errors;
	pthread_mutex_unlock(&fw->lock);
}
