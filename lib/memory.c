// SPDX-License-Identifier: MIT
/*
 * Guest RAM layout and backing. See memory.h for the map.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/memfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/memory.h"

uint64_t mem_backing_page_size(enum mem_backing backing)
{
	switch (backing) {
	case MEM_BACKING_HUGE_2M: return 2 * MiB;
	case MEM_BACKING_HUGE_1G: return GiB;
	default: return 4 * KiB;
	}
}

const char *mem_backing_name(enum mem_backing backing)
{
	switch (backing) {
	case MEM_BACKING_HUGE_2M: return "hugetlb 2M";
	case MEM_BACKING_HUGE_1G: return "hugetlb 1G";
	default: return "anonymous";
	}
}

static void mem_add_region(struct guest_mem *mem, uint64_t gpa, uint64_t end,
			   uint64_t offset, const char *name)
{
	if (end <= gpa)
		return;
	mem->regions[mem->nr_regions++] = (struct mem_region){
		.gpa = gpa, .size = end - gpa, .offset = offset, .name = name,
	};
}

int mem_layout(struct guest_mem *mem, uint64_t ram_size, uint64_t isa_rom_size)
{
	uint64_t lowmem_limit, isa_start;

	memset(mem, 0, sizeof(*mem));
	mem->fd = -1;
	if (ram_size < MEM_MIN_SIZE || ram_size > (1ULL << 46))
		return -EINVAL;
	if (isa_rom_size > MEM_ISA_BIOS_MAX)
		isa_rom_size = MEM_ISA_BIOS_MAX;

	/*
	 * Like QEMU's q35 machine: RAM below 4 GiB stops at 2 GiB when the
	 * guest has at least 2.75 GiB (so the 32-bit PCI window starts on a
	 * gigabyte boundary), otherwise at the ECAM base. OVMF derives its
	 * 32-bit MMIO aperture from this, so keeping QEMU's rule keeps its
	 * behaviour.
	 */
	lowmem_limit = ram_size >= 0xB0000000ULL ? 0x80000000ULL : MEM_ECAM_BASE;
	mem->ram_size = ram_size;
	mem->low_end = ram_size < lowmem_limit ? ram_size : lowmem_limit;
	mem->high_size = ram_size - mem->low_end;

	/* Backing offsets equal guest addresses below 4 GiB: the VGA and
	 * isa-bios holes simply stay unmapped, costing 256 KiB at most. */
	isa_start = MEM_ISA_BIOS_END - isa_rom_size;
	mem_add_region(mem, 0, MEM_VGA_BASE, 0, "ram-conventional");
	mem_add_region(mem, MEM_VGA_END, isa_start, MEM_VGA_END, "ram-pam");
	mem_add_region(mem, MEM_ISA_BIOS_END, mem->low_end, MEM_ISA_BIOS_END, "ram-low");
	mem_add_region(mem, MEM_4G, MEM_4G + mem->high_size, mem->low_end, "ram-high");
	return 0;
}

/* Pages available in the hugetlb pool of this size (free minus reserved). */
static long hugepages_available(const char *sysfs_root, uint64_t page_size)
{
	char path[256];
	long free_pages = -1, resv = 0;
	const char *name[2] = { "free_hugepages", "resv_hugepages" };
	long *val[2] = { &free_pages, &resv };

	for (int i = 0; i < 2; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/kernel/mm/hugepages/hugepages-%" PRIu64 "kB/%s",
			 sysfs_root, page_size / KiB, name[i]);
		f = fopen(path, "r");
		if (!f)
			return i == 0 ? -1 : free_pages;
		if (fscanf(f, "%ld", val[i]) != 1)
			*val[i] = i == 0 ? -1 : 0;
		fclose(f);
	}
	return free_pages - resv;
}

static void hugepages_explain(const char *sysfs_root, uint64_t page_size,
			      uint64_t needed, long avail)
{
	const char *sz = page_size == GiB ? "1G" : "2M";

	if (avail < 0)
		pr_err("--hugepages %s: this kernel has no %s hugepage pool (%s/kernel/mm/hugepages/hugepages-%" PRIu64 "kB missing; boot with hugepagesz=%s hugepages=%" PRIu64 ")",
		       sz, sz, sysfs_root, page_size / KiB, sz, needed);
	else
		pr_err("--hugepages %s: guest RAM needs %" PRIu64 " pages of %s, only %ld free (echo %" PRIu64 " > %s/kernel/mm/hugepages/hugepages-%" PRIu64 "kB/nr_hugepages%s)",
		       sz, needed, sz, avail, needed, sysfs_root, page_size / KiB,
		       page_size == GiB ? ", or boot with hugepagesz=1G hugepages=N" : "");
}

static int mem_alloc_hugetlb(struct guest_mem *mem, const char *sysfs_root)
{
	uint64_t pages = mem->ram_size / mem->page_size;
	unsigned int flags = MFD_CLOEXEC | MFD_HUGETLB |
		(mem->page_size == GiB ? MFD_HUGE_1GB : MFD_HUGE_2MB);
	long avail = hugepages_available(sysfs_root, mem->page_size);
	struct rlimit rl;
	void *p;
	int ret;

	if (avail < 0 || (uint64_t)avail < pages) {
		hugepages_explain(sysfs_root, mem->page_size, pages, avail);
		return -ENOMEM;
	}
	mem->fd = memfd_create("minivmm-ram", flags);
	if (mem->fd < 0) {
		ret = -errno;
		pr_err("--hugepages: memfd_create(MFD_HUGETLB): %s (needs Linux 4.14+ with hugetlbfs)",
		       strerror(errno));
		return ret;
	}
	if (ftruncate(mem->fd, (off_t)mem->ram_size) < 0) {
		ret = -errno;
		pr_err("--hugepages: sizing guest RAM to %" PRIu64 " MiB: %s",
		       mem->ram_size / MiB, strerror(errno));
		goto close_fd;
	}
	/* MAP_POPULATE faults every page in now: the pool is taken at start,
	 * not when the guest first touches a page (where a shortage would be
	 * a SIGBUS in the middle of a run). */
	p = mmap(NULL, mem->ram_size, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_POPULATE, mem->fd, 0);
	if (p == MAP_FAILED) {
		ret = -errno;
		hugepages_explain(sysfs_root, mem->page_size, pages,
				  hugepages_available(sysfs_root, mem->page_size));
		goto close_fd;
	}
	mem->base = p;
	/* Locked so it is never migrated or swapped under a DMA-mapping
	 * device; VFIO pins it anyway, but this fails early and clearly. */
	if (mlock(p, mem->ram_size) < 0) {
		ret = -errno;
		getrlimit(RLIMIT_MEMLOCK, &rl);
		pr_err("--hugepages: cannot lock %" PRIu64 " MiB of guest RAM: %s (RLIMIT_MEMLOCK is %s%" PRIu64 " KiB; raise it with 'ulimit -l unlimited' or a memlock line in /etc/security/limits.conf)",
		       mem->ram_size / MiB, strerror(errno),
		       rl.rlim_cur == RLIM_INFINITY ? "unlimited, " : "",
		       rl.rlim_cur == RLIM_INFINITY ? 0 : (uint64_t)rl.rlim_cur / KiB);
		goto unmap;
	}
	return 0;
unmap:
	munmap(mem->base, mem->ram_size);
	mem->base = NULL;
close_fd:
	close(mem->fd);
	mem->fd = -1;
	return ret;
}

static int mem_alloc_anon(struct guest_mem *mem)
{
	/* Over-allocate by 2 MiB and trim so the RAM starts on a 2 MiB
	 * boundary: that lets transparent huge pages back it on the host,
	 * and KVM map it with large pages in the guest's page tables. */
	uint64_t align = 2 * MiB, len = mem->ram_size + align;
	uint8_t *p, *aligned;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		int ret = -errno;

		pr_err("--memory: cannot reserve %" PRIu64 " MiB of address space: %s (choose a smaller --memory)",
		       mem->ram_size / MiB, strerror(errno));
		return ret;
	}
	aligned = (uint8_t *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
	if (aligned > p)
		munmap(p, (size_t)(aligned - p));
	if (aligned + mem->ram_size < p + len)
		munmap(aligned + mem->ram_size, (size_t)(p + len - aligned - mem->ram_size));
	madvise(aligned, mem->ram_size, MADV_HUGEPAGE);
	/* Never share guest RAM copy-on-write with a forked child. */
	madvise(aligned, mem->ram_size, MADV_DONTFORK);
	mem->base = aligned;
	return 0;
}

int mem_alloc(struct guest_mem *mem, enum mem_backing backing, const char *sysfs_root)
{
	mem->backing = backing;
	mem->page_size = mem_backing_page_size(backing);
	if (mem->ram_size % mem->page_size || mem->low_end % mem->page_size) {
		pr_err("--memory %" PRIu64 "M is not a multiple of the %s page size (round it to a multiple of %" PRIu64 "M)",
		       mem->ram_size / MiB, mem_backing_name(backing),
		       mem->page_size / MiB);
		return -EINVAL;
	}
	if (backing == MEM_BACKING_ANON)
		return mem_alloc_anon(mem);
	return mem_alloc_hugetlb(mem, sysfs_root ? sysfs_root : "/sys");
}

void mem_free(struct guest_mem *mem)
{
	if (mem->base)
		munmap(mem->base, mem->ram_size);
	mem->base = NULL;
	if (mem->fd >= 0)
		close(mem->fd);
	mem->fd = -1;
}

int guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len,
		  void **hva)
{
	for (unsigned int i = 0; i < mem->nr_regions; i++) {
		const struct mem_region *r = &mem->regions[i];

		/* Written so that no sum can overflow, whatever the guest
		 * passes in gpa and len. */
		if (gpa < r->gpa || gpa - r->gpa >= r->size)
			continue;
		if (len > r->size - (gpa - r->gpa) || !mem->base)
			return -EFAULT;
		*hva = mem->base + r->offset + (gpa - r->gpa);
		return 0;
	}
	return -EFAULT;
}

int guest_mem_read(const struct guest_mem *mem, uint64_t gpa, void *buf, uint64_t len)
{
	void *p;
	int ret = guest_mem_ptr(mem, gpa, len, &p);

	if (!ret)
		memcpy(buf, p, len);
	return ret;
}

int guest_mem_write(const struct guest_mem *mem, uint64_t gpa, const void *buf, uint64_t len)
{
	void *p;
	int ret = guest_mem_ptr(mem, gpa, len, &p);

	if (!ret)
		memcpy(p, buf, len);
	return ret;
}
