// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "firmware/image.h"
#include "lib/log.h"
#include "lib/memory.h"

int fw_image_open(struct fw_image *fw, const char *path)
{
	struct stat st;
	void *p;
	int fd, ret;

	memset(fw, 0, sizeof(*fw));
	fw->slot = fw->isa_slot = -1;
	fw->path = path;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		pr_err("firmware %s: %s (give the path of a firmware image, e.g. /usr/share/ovmf/OVMF.fd)",
		       path, strerror(errno));
		return ret;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		pr_err("firmware %s: not a regular file (give the path of a firmware image)", path);
		ret = -EINVAL;
		goto close_fd;
	}
	if (st.st_size == 0 || st.st_size % 4096) {
		pr_err("firmware %s: size %lld is not a non-zero multiple of 4 KiB (is it really a firmware image? OVMF.fd is 2 MiB or 4 MiB)",
		       path, (long long)st.st_size);
		ret = -EINVAL;
		goto close_fd;
	}
	if ((uint64_t)st.st_size > FW_IMAGE_MAX_SIZE) {
		pr_err("firmware %s: %lld bytes is larger than the %" PRIu64 " MiB flash window below 4 GiB",
		       path, (long long)st.st_size, (uint64_t)(FW_IMAGE_MAX_SIZE >> 20));
		ret = -EFBIG;
		goto close_fd;
	}
	/* A private mapping: the guest can never write the file. */
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED) {
		ret = -errno;
		pr_err("firmware %s: mmap: %s", path, strerror(errno));
		goto close_fd;
	}
	close(fd);
	fw->data = p;
	fw->size = (uint64_t)st.st_size;
	fw->gpa = MEM_4G - fw->size;
	fw->isa_size = fw->size < MEM_ISA_BIOS_MAX ? fw->size : MEM_ISA_BIOS_MAX;
	return 0;

close_fd:
	close(fd);
	return ret;
}

/* Reads never exit (the memslot serves them); writes to ROM do, and a
 * PC's ROM ignores them. */
static void fw_rom_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	const struct fw_image *fw = opaque;

	if (offset < fw->size && len <= fw->size - offset)
		memcpy(data, fw->data + offset, len);
	else
		memset(data, 0xff, len);
}

static void fw_rom_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
}

static const struct bus_dev_ops fw_rom_ops = {
	.read = fw_rom_read,
	.write = fw_rom_write,
};

static void fw_isa_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	const struct fw_image *fw = opaque;

	fw_rom_read(opaque, offset + fw->size - fw->isa_size, data, len);
}

static const struct bus_dev_ops fw_isa_ops = {
	.read = fw_isa_read,
	.write = fw_rom_write,
};

int fw_image_map(struct fw_image *fw, const struct vm_ops *ops, struct bus *mmio)
{
	uint64_t isa_gpa = MEM_ISA_BIOS_END - fw->isa_size;
	int ret;

	ret = ops->add_memslot(ops->vm, fw->gpa, fw->size, fw->data,
			       VM_MEMSLOT_READONLY, &fw->slot);
	if (ret)
		return ret;
	ret = ops->add_memslot(ops->vm, isa_gpa, fw->isa_size,
			       fw->data + fw->size - fw->isa_size,
			       VM_MEMSLOT_READONLY, &fw->isa_slot);
	if (ret)
		goto remove_slot;
	ret = bus_register(mmio, fw->gpa, fw->size, &fw_rom_ops, fw, "firmware");
	if (ret)
		goto remove_isa_slot;
	ret = bus_register(mmio, isa_gpa, fw->isa_size, &fw_isa_ops, fw, "isa-bios");
	if (ret)
		goto unregister_rom;
	return 0;

unregister_rom:
	bus_unregister(mmio, fw->gpa);
remove_isa_slot:
	ops->remove_memslot(ops->vm, fw->isa_slot);
	fw->isa_slot = -1;
remove_slot:
	ops->remove_memslot(ops->vm, fw->slot);
	fw->slot = -1;
	return ret;
}

void fw_image_close(struct fw_image *fw)
{
	if (fw->data)
		munmap(fw->data, fw->size);
	fw->data = NULL;
}
