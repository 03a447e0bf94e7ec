// SPDX-License-Identifier: MIT
/*
 * The e820 map minivmm gives firmware through fw_cfg. See e820.h for what
 * goes in it and why it matches QEMU's.
 */
#include <errno.h>

#include "firmware/e820.h"
#include "firmware/fw_cfg.h"
#include "lib/layout.h"

static int e820_add(struct e820_entry *out, size_t max, size_t *n,
		    uint64_t addr, uint64_t len, uint32_t type)
{
	if (!len)
		return 0;
	if (*n >= max)
		return -ENOSPC;
	out[(*n)++] = (struct e820_entry){ .addr = addr, .len = len, .type = type };
	return 0;
}

int e820_build(const struct guest_mem *mem, unsigned int flags,
	       struct e820_entry *out, size_t max)
{
	size_t n = 0;
	int ret;

	/*
	 * RAM below 4 GiB as one range from 0, exactly as pc_memory_init()
	 * reports it: OVMF only takes its end (the highest RAM address below
	 * 4 GiB) and lays out 0-640 KiB and 1 MiB-end itself, so splitting
	 * at the VGA window would change nothing but the difference to QEMU.
	 */
	ret = e820_add(out, max, &n, 0, mem->low_end, E820_RAM);
	/* Keep firmware from allocating over KVM's identity map and TSS. */
	if (!ret)
		ret = e820_add(out, max, &n, LAYOUT_KVM_IDENTITY_MAP,
			       LAYOUT_KVM_HELPERS_SIZE, E820_RESERVED);
	if (!ret)
		ret = e820_add(out, max, &n, MEM_4G, mem->high_size, E820_RAM);
	if (!ret && (flags & E820_F_AMD_HT) &&
	    MEM_4G + mem->high_size <= E820_AMD_HT_BASE)
		ret = e820_add(out, max, &n, E820_AMD_HT_BASE, E820_AMD_HT_SIZE,
			       E820_RESERVED);
	return ret ? ret : (int)n;
}

static void put_le(uint8_t *p, uint64_t v, unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void e820_serialize(const struct e820_entry *e, size_t n, uint8_t *buf)
{
	for (size_t i = 0; i < n; i++, buf += sizeof(*e)) {
		put_le(buf, e[i].addr, 8);
		put_le(buf + 8, e[i].len, 8);
		put_le(buf + 16, e[i].type, 4);
	}
}

int e820_install(struct fw_cfg *fw, const struct guest_mem *mem, unsigned int flags)
{
	struct e820_entry e[E820_MAX_ENTRIES];
	uint8_t buf[sizeof(e)];
	int n = e820_build(mem, flags, e, E820_MAX_ENTRIES);

	if (n < 0)
		return n;
	e820_serialize(e, (size_t)n, buf);
	return fw_cfg_add_file(fw, "etc/e820", buf, (size_t)n * sizeof(*e));
}
