// SPDX-License-Identifier: MIT
/*
 * A passed PCI function as its guest reaches it: the virtual config space
 * (devices/vfio/config.c), the BARs with their mapped and trapped parts
 * and the MSI-X table and PBA emulated inside them (bar.c, msi.c and the
 * shared devices/msix.c, devices/msi_vector.c), the expansion ROM, INTx,
 * MSI, MSI-X, FLR, the root port's secondary bus reset and the platform
 * reset (the registry's), then the registry's destroy. The host side is
 * the fake VFIO kernel (tests/unit/fake_vfio.c) under a small fake sysfs
 * (written once per process), the VM is the fake VM (tests/unit/fake_vm.c)
 * behind a wrapper that refuses overlapping memslots as KVM does
 * (-EEXIST; guest RAM is a memslot too) and fails routes, irqfds or
 * memslots when the input says so.
 *
 * Input: a prefix byte (bit 0: which device; bit 1: flip whether
 * VFIO_DEVICE_RESET works or only the bus reset; bit 2: flip the MSI-X
 * index's NORESIZE; bit 3: no INTx), then records (the enum below,
 * docs/fuzzing.md). The two devices:
 *
 *   0  an NVMe-like PCIe function (the unit tests' fixture, with a
 *      smaller ROM): BAR0 16 KiB 64-bit, mmap, MSI-X table at 0x2000 and PBA at 0x3000 (8 vectors);
 *      BAR2 32 B I/O; BAR4 256 B (smaller than a page); ROM 8 KiB;
 *      PM 0x40, MSI 0x50 (64-bit, per-vector mask, 4), MSI-X 0x70,
 *      PCIe v2 0x80 (FLR), VPD 0xc0 (hidden), vendor 0xd0; AER (hidden)
 *      and DSN in extended space
 *   1  a GPU-like one, NVIDIA's (10de, class 0300): BAR0 1 MiB 32-bit
 *      with sparse mmap areas, the MSI-X table (16) on a page it shares
 *      with registers VFIO will not map, the config space mirror at
 *      0x88000 (devices/vfio/quirks.c: an access there is a config access
 *      and is checked as one; the MSI acknowledgement, a write of the MSI
 *      capability's ID byte, also reaches the BAR); BAR1 64 KiB 64-bit prefetchable holding the PBA; BAR3 128 B
 *      I/O; no ROM; PM 0x60, MSI 0x68 (32-bit, 1 vector, no masking),
 *      PCIe v2 0x78 (no FLR capability), MSI-X 0xb8, vendor 0xc4; ACS
 *      (hidden), a vendor-specific and DSN extended capability
 *
 * Checked after every record (abort() on a violation):
 *
 * - The device's real config space (every pwrite the fake VFIO sees)
 *   gets only what config.c passes through: (a) the COMMAND register,
 *   offset 4, 2 bytes, changing nothing but I/O and memory decode, bus
 *   master and INTx disable; (b) during a guest config write, the bytes
 *   of that write that fall in 0x40-0xFF outside every capability of the
 *   device's list (kept or hidden, at its spec size), with the guest's
 *   values. Never the header (BARs, ROM BAR, IDs), a capability (MSI and
 *   MSI-X are VFIO_DEVICE_SET_IRQS, PM/PCIe/vendor are emulated), or
 *   extended space. It is read only for COMMAND and for the guest's
 *   reads of those same bytes: a capability's real contents (the host's
 *   MSI messages) never reach the guest. Bus master and INTx disable in
 *   the device always
 *   equal the guest's; a BAR memslot exists only while the device
 *   decodes memory.
 * - A BAR region is read or written only by a guest access that is not
 *   to a memslot, at that BAR's address (BARs the guest overlaps reach
 *   whichever the address holds: tests/fuzz/corpus/vfio/
 *   crash-overlapping-bars, a harness mistake), with the guest's bytes,
 *   and never in the MSI-X table or PBA (the emulation serves those).
 * - Every memslot but guest RAM lies inside a BAR the core has mapped, at
 *   the BAR's offset in the host mapping, page aligned, outside the MSI-X
 *   table and PBA; or is the ROM copy, read-only, where the ROM BAR is.
 *   A mapped BAR is covered exactly by its memslots and trapped ranges,
 *   an unmapped one by none. Memslots never overlap (the wrapper refuses
 *   it, as KVM does, and the device copes).
 * - KVM MSI routes and irqfds pair with the vectors: each route belongs
 *   to exactly one routed MSI or MSI-X vector and carries its message;
 *   each irqfd is an attached vector's eventfd on its route, or INTx's
 *   (with its resample fd) on INTx's GSI. What VFIO signals (the fake's
 *   SET_IRQS eventfds per index) is exactly the MSI vectors enabled,
 *   MSI-X's hw_count, or INTx while enabled. A disabled MSI-X table has
 *   no routes; INTx is on only while neither MSI nor MSI-X is. An attached
 *   vector carries the message the guest programmed; unless KVM or the
 *   host refused something earlier in the run, every vector the guest
 *   unmasked is attached and INTx is on when neither MSI nor MSI-X is.
 * - A device reset (VFIO_DEVICE_RESET or the bus reset) comes only from
 *   Initiate FLR of a function with the FLR capability, the root port's
 *   Secondary Bus Reset or the platform reset.
 * - Both buses stay sane (fz_check_bus).
 *
 * At the end (after the registry's destroy): no memslot, route, irqfd,
 * bus range or KVM VFIO group left; the device, group and container fds
 * closed in the fake; no eventfd left open (the count of open fds is what
 * it was before); ASan's leak check covers memory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/bus.h"
#include "devices/pci.h"
#include "devices/pcie_port.h"
#include "devices/pcie_regs.h"
#include "devices/vfio/internal.h"
#include "devices/vfio/vfio.h"
#include "tests/fuzz/fuzz.h"
#include "tests/unit/fake_vfio.h"
#include "tests/unit/fake_vm.h"

#define BDF		"0000:01:00.0"
#define GROUP		7
#define SEC_BUS		1
#define WIN_MEM		0xc0000000ULL	/* root port windows */
#define WIN_MEM_END	0xdfffffffULL
#define WIN_PREF	0x800000000ULL
#define WIN_PREF_END	0x8ffffffffULL
#define WIN_IO		0x1000u
#define WIN_IO_END	0xffffu
#define RAM_LOW		0x80000000ULL	/* guest RAM memslots: [0, 2G), [4G, 6G) */
#define RAM_HIGH	0x100000000ULL
#define PAGE		4096ULL

/* ---- the two devices ------------------------------------------------------ */

struct cap {
	uint8_t id;
	unsigned int off, size;		/* size as config.c spans it */
};

struct shape {
	struct cap caps[8];
	unsigned int nr_caps;
	unsigned int msi, msix, exp;	/* capability offsets */
	bool msi64;			/* MSI with a 64-bit address and masking */
	bool flr;			/* Function Level Reset Capability */
	unsigned int msix_nr;		/* table entries */
	unsigned int table_bar, pba_bar;
	uint64_t table_off, pba_off;
};

static void add_cap(struct shape *s, uint8_t id, unsigned int off, unsigned int size)
{
	s->caps[s->nr_caps++] = (struct cap){ id, off, size };
}

static void fill_nvme(struct fv_dev *d, struct shape *s)
{
	uint8_t *c = d->config;

	pci_set16(c, PCI_VENDOR_ID, 0x1b36);
	pci_set16(c, PCI_DEVICE_ID, 0x0010);
	pci_set16(c, PCI_STATUS, PCI_STATUS_CAP_LIST | 0x0200);
	c[PCI_REVISION_ID] = 2;
	c[PCI_CLASS_PROG] = 0x02;
	pci_set16(c, PCI_CLASS_DEVICE, 0x0108);
	pci_set32(c, PCI_BASE_ADDRESS_0, 0x4);
	pci_set32(c, PCI_BASE_ADDRESS_0 + 8, 0x1);
	pci_set32(c, PCI_BASE_ADDRESS_0 + 16, 0x0);
	c[PCI_CAPABILITY_LIST] = 0x40;
	c[PCI_INTERRUPT_PIN] = 1;
	c[0x40] = PCI_CAP_ID_PM; c[0x41] = 0x50;
	pci_set16(c, 0x42, 0xfe03);
	pci_set16(c, 0x44, 0x0008);
	c[0x50] = PCI_CAP_ID_MSI; c[0x51] = 0x70;
	pci_set16(c, 0x52, PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT | 2 << 1);
	c[0x70] = PCI_CAP_ID_MSIX; c[0x71] = 0x80;
	pci_set16(c, 0x72, 7);
	pci_set32(c, 0x74, 0x2000);
	pci_set32(c, 0x78, 0x3000);
	c[0x80] = PCI_CAP_ID_EXP; c[0x81] = 0xc0;
	pci_set16(c, 0x82, 2 | PCI_EXP_TYPE_RC_END << 4);
	pci_set32(c, 0x84, PCI_EXP_DEVCAP_FLR | PCI_EXP_DEVCAP_RBER);
	pci_set16(c, 0x88, 0x2830);
	c[0xc0] = PCI_CAP_ID_VPD; c[0xc1] = 0xd0;
	c[0xd0] = PCI_CAP_ID_VNDR; c[0xd1] = 0; c[0xd2] = 8;
	memset(c + 0xe0, 0xab, 0x20);
	pci_set32(c, 0x100, 0x0001 | 1 << 16 | 0x148 << 20);
	pci_set32(c, 0x148, PCI_EXT_CAP_ID_DSN | 1 << 16);
	pci_set32(c, 0x14c, 0x55667788);

	fv_region_add(d, 0, 16384, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
		      VFIO_REGION_INFO_FLAG_MMAP);
	fv_region_add(d, 2, 32, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE);
	fv_region_add(d, 4, 256, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
		      VFIO_REGION_INFO_FLAG_MMAP);
	fv_region_add(d, VFIO_PCI_ROM_REGION_INDEX, 8192, VFIO_REGION_INFO_FLAG_READ);
	d->regions[VFIO_PCI_ROM_REGION_INDEX].mem[0] = 0x55;
	d->regions[VFIO_PCI_ROM_REGION_INDEX].mem[1] = 0xaa;
	d->irq_count[VFIO_PCI_INTX_IRQ_INDEX] = 1;
	d->irq_count[VFIO_PCI_MSI_IRQ_INDEX] = 4;
	d->irq_flags[VFIO_PCI_MSI_IRQ_INDEX] = VFIO_IRQ_INFO_NORESIZE;
	d->irq_count[VFIO_PCI_MSIX_IRQ_INDEX] = 8;
	d->irq_flags[VFIO_PCI_MSIX_IRQ_INDEX] = VFIO_IRQ_INFO_NORESIZE;
	d->has_reset = true;

	add_cap(s, PCI_CAP_ID_PM, 0x40, PCI_PM_SIZEOF);
	add_cap(s, PCI_CAP_ID_MSI, 0x50, 24);
	add_cap(s, PCI_CAP_ID_MSIX, 0x70, PCI_MSIX_SIZEOF);
	add_cap(s, PCI_CAP_ID_EXP, 0x80, PCI_EXP_SIZEOF_V2);
	add_cap(s, PCI_CAP_ID_VPD, 0xc0, 8);
	add_cap(s, PCI_CAP_ID_VNDR, 0xd0, 8);
	s->msi = 0x50;
	s->msi64 = true;
	s->flr = true;
	s->msix = 0x70;
	s->exp = 0x80;
	s->msix_nr = 8;
	s->table_bar = s->pba_bar = 0;
	s->table_off = 0x2000;
	s->pba_off = 0x3000;
}

static void fill_gpu(struct fv_dev *d, struct shape *s)
{
	uint8_t *c = d->config;
	struct fv_region *r;

	pci_set16(c, PCI_VENDOR_ID, 0x10de);
	pci_set16(c, PCI_DEVICE_ID, 0x1234);
	pci_set16(c, PCI_STATUS, PCI_STATUS_CAP_LIST | 0x0010);
	pci_set16(c, PCI_CLASS_DEVICE, 0x0300);
	pci_set32(c, PCI_BASE_ADDRESS_0, 0x0);
	pci_set32(c, PCI_BASE_ADDRESS_0 + 4, 0xc);	/* 64-bit prefetchable */
	pci_set32(c, PCI_BASE_ADDRESS_0 + 12, 0x1);	/* BAR3: I/O */
	c[PCI_CAPABILITY_LIST] = 0x60;
	c[PCI_INTERRUPT_PIN] = 1;
	memset(c + 0x40, 0x5c, 0x20);			/* registers before the list */
	c[0x60] = PCI_CAP_ID_PM; c[0x61] = 0x68;
	pci_set16(c, 0x62, 0x0603);
	c[0x68] = PCI_CAP_ID_MSI; c[0x69] = 0x78;
	pci_set16(c, 0x6a, 0);
	c[0x78] = PCI_CAP_ID_EXP; c[0x79] = 0xb8;
	pci_set16(c, 0x7a, 2 | PCI_EXP_TYPE_ENDPOINT << 4);
	pci_set32(c, 0x7c, PCI_EXP_DEVCAP_RBER);
	pci_set32(c, 0x84, 0x00400c41);		/* LNKCAP */
	c[0xb8] = PCI_CAP_ID_MSIX; c[0xb9] = 0xc4;
	pci_set16(c, 0xba, 15);
	pci_set32(c, 0xbc, 0x8800);			/* table: BAR0 + 0x8800 */
	pci_set32(c, 0xc0, 0x8000 | 1);		/* PBA: BAR1 + 0x8000 */
	c[0xc4] = PCI_CAP_ID_VNDR; c[0xc5] = 0; c[0xc6] = 0x0c;
	memset(c + 0xd0, 0x77, 0x30);
	pci_set32(c, 0x100, 0x000d | 1 << 16 | 0x140 << 20);	/* ACS */
	pci_set32(c, 0x140, PCI_EXT_CAP_ID_VNDR | 1 << 16 | 0x200 << 20);
	pci_set32(c, 0x144, 0x018 << 20 | 0x0001);
	pci_set32(c, 0x200, PCI_EXT_CAP_ID_DSN | 1 << 16);

	/* 1 MiB: room for NVIDIA's config space mirror at 0x88000 (quirks.c) */
	fv_region_add(d, 0, 0x100000, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
		      VFIO_REGION_INFO_FLAG_MMAP);
	r = &d->regions[0];
	r->sparse[0] = (struct vfio_region_sparse_mmap_area){ 0, 0x8000 };
	r->sparse[1] = (struct vfio_region_sparse_mmap_area){ 0xc000, 0x4000 };
	r->nr_sparse = 2;
	fv_region_add(d, 1, 0x10000, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
		      VFIO_REGION_INFO_FLAG_MMAP);
	fv_region_add(d, 3, 128, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE);
	d->irq_count[VFIO_PCI_INTX_IRQ_INDEX] = 1;
	d->irq_count[VFIO_PCI_MSI_IRQ_INDEX] = 1;
	d->irq_count[VFIO_PCI_MSIX_IRQ_INDEX] = 16;
	d->has_reset = false;

	add_cap(s, PCI_CAP_ID_PM, 0x60, PCI_PM_SIZEOF);
	add_cap(s, PCI_CAP_ID_MSI, 0x68, 10);
	add_cap(s, PCI_CAP_ID_EXP, 0x78, PCI_EXP_SIZEOF_V2);
	add_cap(s, PCI_CAP_ID_MSIX, 0xb8, PCI_MSIX_SIZEOF);
	add_cap(s, PCI_CAP_ID_VNDR, 0xc4, 0x0c);
	s->msi = 0x68;
	s->msix = 0xb8;
	s->exp = 0x78;
	s->msix_nr = 16;
	s->table_bar = 0;
	s->pba_bar = 1;
	s->table_off = 0x8800;
	s->pba_off = 0x8000;
}

/* ---- the fake host's sysfs: written once per process ----------------------- */

static char sysroot[64];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void sysfs_cleanup(void)
{
	if (sysroot[0])
		nftw(sysroot, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A run that crashed (or -minimize_crash's children) ends without
 * atexit: remove the trees of processes that are gone. */
static void remove_stale_trees(void)
{
	DIR *dir = opendir("/tmp");
	struct dirent *e;
	char path[300];
	int pid;

	if (!dir)
		return;
	while ((e = readdir(dir))) {
		if (sscanf(e->d_name, "minivmm-fuzz-vfio-%d", &pid) != 1 || pid <= 0 ||
		    kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "/tmp/%s", e->d_name);
		nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	}
	closedir(dir);
}

static void mk(const char *fmt, const char *content, const char *link)
{
	char path[512], *slash;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", sysroot, fmt);
	for (slash = strchr(path + strlen(sysroot) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	if (link) {
		FZ_CHECK(symlink(link, path) == 0, "symlink %s", path);
		return;
	}
	fp = fopen(path, "w");
	FZ_CHECK(fp && fputs(content, fp) >= 0 && fclose(fp) == 0, "write %s", path);
}

static const char *sysfs_root(void)
{
	static char sys[80];

	if (sys[0])
		return sys;
	remove_stale_trees();
	snprintf(sysroot, sizeof(sysroot), "/tmp/minivmm-fuzz-vfio-%d", (int)getpid());
	nftw(sysroot, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	FZ_CHECK(mkdir(sysroot, 0700) == 0, "mkdir %s", sysroot);
	atexit(sysfs_cleanup);
	mk("sys/devices/pci0000:00/" BDF "/vendor", "0x1b36\n", NULL);
	mk("sys/devices/pci0000:00/" BDF "/device", "0x0010\n", NULL);
	mk("sys/devices/pci0000:00/" BDF "/class", "0x010802\n", NULL);
	mk("sys/devices/pci0000:00/" BDF "/driver_override", "(null)\n", NULL);
	mk("sys/bus/pci/drivers/vfio-pci/bind", "", NULL);
	mk("sys/devices/pci0000:00/" BDF "/driver", NULL, "../../../bus/pci/drivers/vfio-pci");
	mk("sys/devices/pci0000:00/" BDF "/iommu_group", NULL, "../../../kernel/iommu_groups/7");
	mk("sys/bus/pci/devices/" BDF, NULL, "../../../devices/pci0000:00/" BDF);
	mk("sys/kernel/iommu_groups/7/devices/" BDF, NULL, "../../../../devices/pci0000:00/" BDF);
	snprintf(sys, sizeof(sys), "%s/sys", sysroot);
	return sys;
}

/* ---- the machine ------------------------------------------------------------ */

struct machine {
	struct fake_vm fvm;
	struct vm_ops ops;		/* the wrapper's, vm = this machine */
	struct fake_vfio fv;
	struct fv_dev *d;
	struct shape s;
	struct bus pio, mmio;
	struct pci_root *root;
	struct vfio_container *c;
	struct vfio_slot *slot;
	struct vfio_pci *v;
	uint8_t port_devfn;
	int ram_slots[2];
	bool hw_ok[PCI_CFG_SPACE_SIZE];	/* config bytes the device may get */
	/* failure injection */
	bool fail_route, fail_irqfd, fail_memslot;
	/* since then, a vector may stay masked until the guest rewrites it */
	bool degraded;
	bool msix_ever;			/* MSI-X was on (MSI's Enable may be stale) */
	bool ready;			/* set up: config reads are the guest's */
	bool rd_active;			/* a guest config read, for the hook */
	unsigned int rd_off, rd_len;
	/* what the guest is doing now, for the access hook */
	bool reset_ok;			/* a device reset may follow */
	bool cfg_active;
	unsigned int cfg_off, cfg_len;
	uint32_t cfg_val;
	bool bar_active;		/* a guest MMIO/PIO access, for the hook */
	bool bar_io;			/* to port space */
	uint64_t bar_addr;		/* guest physical address or port */
	unsigned int bar_len;
	uint8_t bar_data[8];
	bool bar_write;
};

static int w_add_memslot(void *vm, uint64_t gpa, uint64_t size, void *hva, unsigned int flags,
			 int *slot)
{
	struct machine *m = vm;

	if (m->fail_memslot)
		return -ENOMEM;	/* memslots do not touch interrupts: not degraded */
	/* KVM_SET_USER_MEMORY_REGION: -EEXIST over another slot. */
	for (unsigned int i = 0; i < FAKE_VM_MAX_SLOTS; i++) {
		const struct fake_memslot *s = &m->fvm.slots[i];

		if (s->used && gpa < s->gpa + s->size && s->gpa < gpa + size)
			return -EEXIST;
	}
	FZ_CHECK(size && gpa % PAGE == 0 && size % PAGE == 0 && (uintptr_t)hva % PAGE == 0,
		 "memslot %#llx+%#llx at %p not page aligned", (unsigned long long)gpa,
		 (unsigned long long)size, hva);
	return m->fvm.ops.add_memslot(&m->fvm, gpa, size, hva, flags, slot);
}

static int w_remove_memslot(void *vm, int slot)
{
	struct machine *m = vm;
	int ret = m->fvm.ops.remove_memslot(&m->fvm, slot);

	FZ_CHECK(ret == 0, "removing memslot %d that does not exist", slot);
	return ret;
}

static int w_add_irqfd(void *vm, unsigned int gsi, int fd, int resample_fd)
{
	struct machine *m = vm;

	if (m->fail_irqfd) {
		m->degraded = true;
		return -ENOSPC;
	}
	FZ_CHECK(fcntl(fd, F_GETFD) >= 0, "irqfd on fd %d, which is not open", fd);
	for (unsigned int i = 0; i < FAKE_VM_MAX_IRQFDS; i++)
		FZ_CHECK(!m->fvm.irqfds[i].used || m->fvm.irqfds[i].fd != fd,
			 "eventfd %d made an irqfd twice (KVM: -EBUSY)", fd);
	return m->fvm.ops.add_irqfd(&m->fvm, gsi, fd, resample_fd);
}

static int w_remove_irqfd(void *vm, unsigned int gsi, int fd)
{
	struct machine *m = vm;
	int ret = m->fvm.ops.remove_irqfd(&m->fvm, gsi, fd);

	FZ_CHECK(ret == 0, "removing irqfd %d on GSI %u that is not assigned", fd, gsi);
	return ret;
}

static int w_add_msi_route(void *vm, uint64_t addr, uint32_t data, unsigned int *gsi)
{
	struct machine *m = vm;

	if (m->fail_route) {
		m->degraded = true;
		return -ENOSPC;
	}
	return m->fvm.ops.add_msi_route(&m->fvm, addr, data, gsi);
}

static int w_update_msi_route(void *vm, unsigned int gsi, uint64_t addr, uint32_t data)
{
	struct machine *m = vm;

	if (m->fail_route) {
		m->degraded = true;
		return -ENOMEM;
	}
	FZ_CHECK(m->fvm.ops.update_msi_route(&m->fvm, gsi, addr, data) == 0,
		 "updating MSI route %u that does not exist", gsi);
	return 0;
}

static int w_remove_msi_route(void *vm, unsigned int gsi)
{
	struct machine *m = vm;

	FZ_CHECK(m->fvm.ops.remove_msi_route(&m->fvm, gsi) == 0,
		 "removing MSI route %u that does not exist", gsi);
	return 0;
}

static void w_register_device(void *vm, struct device *dev)
{
	struct machine *m = vm;

	m->fvm.ops.register_device(&m->fvm, dev);
}

static int w_set_irq_line(void *vm, unsigned int gsi, int level)
{
	return ((struct machine *)vm)->fvm.ops.set_irq_line(&((struct machine *)vm)->fvm, gsi, level);
}

static int w_vfio_group_add(void *vm, int fd)
{
	return ((struct machine *)vm)->fvm.ops.vfio_group_add(&((struct machine *)vm)->fvm, fd);
}

static int w_vfio_group_del(void *vm, int fd)
{
	return ((struct machine *)vm)->fvm.ops.vfio_group_del(&((struct machine *)vm)->fvm, fd);
}

static int intx_gsi(void *opaque, uint8_t slot, unsigned int pin)
{
	return 16 + (slot + pin) % 8;
}

static void intx_change(void *opaque, uint8_t slot, unsigned int pin, int delta)
{
}

/* ---- what reaches the device ------------------------------------------------ */

static bool in_range(uint64_t off, uint64_t len, uint64_t start, uint64_t size)
{
	return off < start + size && start < off + len;
}

static void check_cfg_write(struct machine *m, uint64_t off, const uint8_t *buf, size_t len)
{
	if (off == PCI_COMMAND && len == 2) {
		uint16_t old = pci_get16(m->d->config, PCI_COMMAND);
		uint16_t new = (uint16_t)(buf[0] | buf[1] << 8);

		FZ_CHECK(!((old ^ new) & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
					   PCI_COMMAND_INTX_DISABLE)),
			 "COMMAND %#x -> %#x in the device", old, new);
		return;
	}
	FZ_CHECK(m->cfg_active && off >= m->cfg_off && off + len <= m->cfg_off + m->cfg_len,
		 "config write at %#llx (%zu bytes) outside the guest's write %#x (%u bytes)",
		 (unsigned long long)off, len, m->cfg_off, m->cfg_active ? m->cfg_len : 0);
	for (size_t i = 0; i < len; i++) {
		unsigned int o = (unsigned int)off + (unsigned int)i;

		FZ_CHECK(o < PCI_CFG_SPACE_SIZE && m->hw_ok[o],
			 "config byte %#x reached the device", o);
		FZ_CHECK(buf[i] == (uint8_t)(m->cfg_val >> (8 * (o - m->cfg_off))),
			 "config byte %#x: the device got %#x, the guest wrote %#x", o, buf[i],
			 (uint8_t)(m->cfg_val >> (8 * (o - m->cfg_off))));
	}
}

/* Once set up, the device's config is read for COMMAND (to sync it) and
 * for the guest's reads of its own bytes only: never a capability, whose
 * real contents (the host's MSI messages) are the host's. */
static void check_cfg_read(struct machine *m, uint64_t off, size_t len)
{
	FZ_CHECK(m->rd_active && off >= m->rd_off && off + len <= m->rd_off + m->rd_len,
		 "config read at %#llx (%zu bytes) outside the guest's read %#x (%u bytes)",
		 (unsigned long long)off, len, m->rd_off, m->rd_active ? m->rd_len : 0);
	for (size_t i = 0; i < len; i++)
		FZ_CHECK(off + i < PCI_CFG_SPACE_SIZE && m->hw_ok[off + i],
			 "config byte %#llx read from the device", (unsigned long long)(off + i));
}

static void access_hook(void *opaque, struct fv_dev *d, unsigned int region, uint64_t off,
			const void *buf, size_t len, bool write)
{
	struct machine *m = opaque;
	const struct shape *s = &m->s;

	if (region == VFIO_PCI_CONFIG_REGION_INDEX) {
		if (write)
			check_cfg_write(m, off, buf, len);
		else if (m->ready && !(off == PCI_COMMAND && len == 2))
			check_cfg_read(m, off, len);
		return;
	}
	if (region == VFIO_PCI_ROM_REGION_INDEX) {
		FZ_CHECK(!write, "a write to the ROM region");
		return;
	}
	FZ_CHECK(region < PCI_NUM_BARS, "an access to region %u", region);
	/* The guest's access, wherever the BAR is: BARs the guest overlaps
	 * reach whichever is registered at the address. */
	FZ_CHECK(m->bar_active && m->v->dev.bars[region].mapped &&
		 !!(m->v->dev.bars[region].flags & PCI_BAR_IO) == m->bar_io &&
		 m->v->dev.bars[region].addr + off == m->bar_addr && len == m->bar_len &&
		 write == m->bar_write,
		 "BAR %u %s at %#llx (%zu bytes) without the guest's access (%d at %#llx, %u bytes)",
		 region, write ? "write" : "read", (unsigned long long)off, len, m->bar_active,
		 (unsigned long long)m->bar_addr, m->bar_len);
	FZ_CHECK(!write || !memcmp(buf, m->bar_data, len), "BAR %u write with other bytes", region);
	FZ_CHECK(!(region == s->table_bar &&
		   in_range(off, len, s->table_off, s->msix_nr * PCI_MSIX_ENTRY_SIZE)) &&
		 !(region == s->pba_bar && in_range(off, len, s->pba_off, msix_pba_size(s->msix_nr))),
		 "BAR %u access at %#llx (%zu bytes) reached the MSI-X table or PBA", region,
		 (unsigned long long)off, len);
}

/* ---- invariants --------------------------------------------------------------- */

/* The BAR whose host mapping holds hva, or -1. */
static int bar_of_hva(struct machine *m, const void *hva, uint64_t *off)
{
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
		const struct fv_region *r = &m->d->regions[i];

		if (r->mem && (const uint8_t *)hva >= r->mem && (const uint8_t *)hva < r->mem + r->size) {
			*off = (uint64_t)((const uint8_t *)hva - r->mem);
			return (int)i;
		}
	}
	return -1;
}

static bool is_piece_of(const struct vfio_bar *b, const void *opaque)
{
	if (opaque == &b->whole)
		return true;
	for (unsigned int k = 0; k < b->nr_pieces; k++)
		if (opaque == &b->pieces[k])
			return true;
	return false;
}

static void check_bars(struct machine *m)
{
	struct vfio_pci *v = m->v;
	const struct shape *s = &m->s;
	uint64_t covered[PCI_NUM_BARS] = { 0 };
	bool mem_decode = pci_get16(m->d->config, PCI_COMMAND) & PCI_COMMAND_MEMORY;

	for (unsigned int i = 0; i < FAKE_VM_MAX_SLOTS; i++) {
		const struct fake_memslot *sl = &m->fvm.slots[i];
		const struct pci_bar *pb;
		uint64_t off;
		int bar;

		if (!sl->used || (int)i == m->ram_slots[0] || (int)i == m->ram_slots[1])
			continue;
		for (unsigned int j = i + 1; j < FAKE_VM_MAX_SLOTS; j++)
			FZ_CHECK(!m->fvm.slots[j].used ||
				 !in_range(sl->gpa, sl->size, m->fvm.slots[j].gpa, m->fvm.slots[j].size),
				 "memslots %u and %u overlap", i, j);
		if (v->rom && sl->hva == v->rom) {
			pb = &v->dev.bars[PCI_ROM_BAR];
			FZ_CHECK(pb->mapped && sl->gpa == pb->addr && sl->size == v->rom_size &&
				 pb->size == v->rom_size && (sl->flags & VM_MEMSLOT_READONLY),
				 "ROM memslot at %#llx+%#llx, the ROM BAR says %d at %#llx",
				 (unsigned long long)sl->gpa, (unsigned long long)sl->size,
				 pb->mapped, (unsigned long long)pb->addr);
			continue;
		}
		bar = bar_of_hva(m, sl->hva, &off);
		FZ_CHECK(bar >= 0, "memslot %#llx+%#llx maps %p, no BAR of the device",
			 (unsigned long long)sl->gpa, (unsigned long long)sl->size, sl->hva);
		pb = &v->dev.bars[bar];
		FZ_CHECK(pb->mapped && (pb->flags & PCI_BAR_HOSTMEM),
			 "memslot of BAR %d, which the core has not mapped", bar);
		FZ_CHECK(sl->gpa == pb->addr + off && off + sl->size <= m->d->regions[bar].size &&
			 sl->size <= pb->size - off,
			 "memslot %#llx+%#llx of BAR %d (at %#llx, %#llx bytes) maps host offset %#llx",
			 (unsigned long long)sl->gpa, (unsigned long long)sl->size, bar,
			 (unsigned long long)pb->addr, (unsigned long long)pb->size,
			 (unsigned long long)off);
		FZ_CHECK(!(sl->flags & VM_MEMSLOT_READONLY), "BAR memslot read-only");
		FZ_CHECK(!((unsigned int)bar == s->table_bar &&
			   in_range(off, sl->size, s->table_off, s->msix_nr * PCI_MSIX_ENTRY_SIZE)) &&
			 !((unsigned int)bar == s->pba_bar &&
			   in_range(off, sl->size, s->pba_off, msix_pba_size(s->msix_nr))),
			 "BAR %d memslot %#llx+%#llx maps the MSI-X table or PBA", bar,
			 (unsigned long long)off, (unsigned long long)sl->size);
		FZ_CHECK(mem_decode, "BAR %d memslot while the device does not decode memory", bar);
		covered[bar] += sl->size;
	}
	for (unsigned int b = 0; b < 2; b++) {
		const struct bus *bus = b ? &m->pio : &m->mmio;

		for (size_t r = 0; r < bus->nr_ranges; r++) {
			const struct bus_range *br = &bus->ranges[r];

			for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
				const struct pci_bar *pb = &v->dev.bars[i];

				if (!is_piece_of(&v->bars[i], br->opaque))
					continue;
				FZ_CHECK(pb->mapped && br->base >= pb->addr &&
					 br->base + br->len <= pb->addr + pb->size &&
					 !!(pb->flags & PCI_BAR_IO) == !!b,
					 "trapped range %#llx+%#llx of BAR %u outside it (%d at %#llx)",
					 (unsigned long long)br->base, (unsigned long long)br->len, i,
					 pb->mapped, (unsigned long long)pb->addr);
				covered[i] += br->len;
			}
		}
	}
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
		const struct pci_bar *pb = &v->dev.bars[i];

		FZ_CHECK(covered[i] == (pb->size && pb->mapped ? pb->size : 0),
			 "BAR %u (%#llx bytes, mapped %d) has %#llx bytes mapped or trapped", i,
			 (unsigned long long)pb->size, pb->mapped, (unsigned long long)covered[i]);
	}
	if (!v->dev.bars[PCI_ROM_BAR].mapped)
		FZ_CHECK(v->rom_slot < 0, "ROM memslot %d kept while the ROM BAR is off",
			 v->rom_slot);
}

static void check_vec(struct machine *m, const struct msi_vector *vec, bool *route_seen,
		      unsigned int *attached, const char *what, unsigned int i)
{
	const struct fake_route *r;

	if (vec->attached)
		FZ_CHECK(vec->routed, "%s vector %u attached without a route", what, i);
	if (!vec->routed)
		return;
	FZ_CHECK(vec->gsi >= FAKE_VM_FIRST_MSI_GSI &&
		 vec->gsi < FAKE_VM_FIRST_MSI_GSI + FAKE_VM_MAX_ROUTES,
		 "%s vector %u on GSI %u", what, i, vec->gsi);
	r = &m->fvm.routes[vec->gsi - FAKE_VM_FIRST_MSI_GSI];
	FZ_CHECK(r->used && r->addr == vec->addr && r->data == vec->data,
		 "%s vector %u: route %u is %d %#llx/%#x, the vector says %#llx/%#x", what, i,
		 vec->gsi, r->used, (unsigned long long)r->addr, r->data,
		 (unsigned long long)vec->addr, vec->data);
	FZ_CHECK(!route_seen[vec->gsi - FAKE_VM_FIRST_MSI_GSI], "GSI %u owned by two vectors",
		 vec->gsi);
	route_seen[vec->gsi - FAKE_VM_FIRST_MSI_GSI] = true;
	if (!vec->attached)
		return;
	(*attached)++;
	for (unsigned int k = 0; k < FAKE_VM_MAX_IRQFDS; k++) {
		if (m->fvm.irqfds[k].used && m->fvm.irqfds[k].fd == vec->fd) {
			FZ_CHECK(m->fvm.irqfds[k].gsi == vec->gsi && m->fvm.irqfds[k].resample_fd < 0,
				 "%s vector %u: its irqfd is on GSI %u, its route %u", what, i,
				 m->fvm.irqfds[k].gsi, vec->gsi);
			return;
		}
	}
	FZ_CHECK(false, "%s vector %u attached but KVM has no irqfd for fd %d", what, i, vec->fd);
}

/*
 * What the guest programmed is what KVM delivers: an attached vector
 * carries its entry's (MSI-X) or the capability's (MSI, the vector number
 * in the low data bits, PCI 3.0 §6.8.1.6) message; and, unless KVM or the
 * host refused something earlier in the run, every vector the guest has
 * unmasked is attached, and INTx is on when neither MSI nor MSI-X is.
 */
static void check_live(struct machine *m)
{
	struct vfio_pci *v = m->v;
	const uint8_t *cfg = v->dev.config;
	bool msix_on = msix_enabled(&v->msix.emu);
	uint16_t flags = pci_get16(cfg, v->msi.cap + PCI_MSI_FLAGS);

	m->msix_ever |= msix_on;
	for (unsigned int i = 0; i < v->msix.emu.nr; i++) {
		const uint32_t *e = v->msix.emu.entries[i].dw;
		const struct msi_vector *vec = &v->msix.emu.vec[i];

		if (vec->attached)
			FZ_CHECK(vec->addr == ((uint64_t)e[MSIX_ADDR_HI] << 32 | e[MSIX_ADDR_LO]) &&
				 vec->data == e[MSIX_DATA],
				 "MSI-X vector %u delivers %#llx/%#x, its entry says otherwise", i,
				 (unsigned long long)vec->addr, vec->data);
		if (!m->degraded && msix_on && !v->msix.emu.fmask &&
		    !(e[MSIX_CTRL] & PCI_MSIX_ENTRY_CTRL_MASKBIT))
			FZ_CHECK(vec->attached, "MSI-X vector %u unmasked but not delivered", i);
	}
	for (unsigned int i = 0; i < v->msi.nvec; i++) {
		const struct msi_vector *vec = &v->msi.vec[i];
		uint64_t addr = pci_get32(cfg, v->msi.cap + PCI_MSI_ADDRESS_LO);
		uint32_t data = pci_get16(cfg, v->msi.data_off);
		bool masked = v->msi.pvm && (pci_get32(cfg, v->msi.mask_off) >> i & 1);

		if (v->msi.is64)
			addr |= (uint64_t)pci_get32(cfg, v->msi.cap + PCI_MSI_ADDRESS_LO + 4) << 32;
		if (vec->attached)
			FZ_CHECK(vec->addr == addr && vec->data == ((data & ~(v->msi.nvec - 1)) | i),
				 "MSI vector %u delivers %#llx/%#x, the capability says %#llx/%#x", i,
				 (unsigned long long)vec->addr, vec->data, (unsigned long long)addr,
				 data);
		if (!m->degraded)
			FZ_CHECK(vec->attached == !masked, "MSI vector %u masked %d, attached %d", i,
				 masked, vec->attached);
	}
	if (!m->degraded && !m->msix_ever && (flags & PCI_MSI_FLAGS_ENABLE)) {
		unsigned int want = 1u << ((flags & PCI_MSI_FLAGS_QSIZE) >> 4);

		FZ_CHECK(v->msi.nvec == (want < v->msi.max_vec ? want : v->msi.max_vec),
			 "MSI enabled with %u vectors asked, %u given", want, v->msi.nvec);
	}
	if (!m->degraded && v->intx.present && v->intx.gsi >= 0 && !v->msi.nvec && !msix_on)
		FZ_CHECK(v->intx.enabled, "neither MSI nor MSI-X, and INTx is off");
}

static void check_irqs(struct machine *m)
{
	struct vfio_pci *v = m->v;
	struct fv_dev *d = m->d;
	bool route_seen[FAKE_VM_MAX_ROUTES] = { false };
	unsigned int attached = 0, nr_irqfds = 0;
	bool msix_on = msix_enabled(&v->msix.emu);
	const uint8_t *cfg = v->dev.config;

	for (unsigned int i = 0; i < VFIO_MSI_MAX_VECTORS; i++) {
		check_vec(m, &v->msi.vec[i], route_seen, &attached, "MSI", i);
		if (i >= v->msi.nvec)
			FZ_CHECK(!v->msi.vec[i].routed, "MSI vector %u routed, %u enabled", i,
				 v->msi.nvec);
	}
	if (v->msix.cap) {
		for (unsigned int i = 0; i < v->msix.emu.nr; i++) {
			check_vec(m, &v->msix.emu.vec[i], route_seen, &attached, "MSI-X", i);
			if (!msix_on)
				FZ_CHECK(!v->msix.emu.vec[i].routed,
					 "MSI-X vector %u routed while MSI-X is off", i);
		}
		FZ_CHECK(v->msix.emu.fmask == !!(pci_get16(cfg, v->msix.cap + PCI_MSIX_FLAGS) &
						  PCI_MSIX_FLAGS_MASKALL),
			 "Function Mask %d, the guest's control says otherwise", v->msix.emu.fmask);
		if (msix_on)
			FZ_CHECK(pci_get16(cfg, v->msix.cap + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_ENABLE,
				 "MSI-X on, the guest's Enable is clear");
	}
	for (unsigned int i = 0; i < FAKE_VM_MAX_ROUTES; i++) {
		FZ_CHECK(!m->fvm.routes[i].used || route_seen[i], "MSI route %u owned by no vector",
			 FAKE_VM_FIRST_MSI_GSI + i);
	}
	for (unsigned int k = 0; k < FAKE_VM_MAX_IRQFDS; k++)
		nr_irqfds += m->fvm.irqfds[k].used != 0;
	if (v->intx.enabled) {
		bool found = false;

		for (unsigned int k = 0; k < FAKE_VM_MAX_IRQFDS; k++)
			found |= m->fvm.irqfds[k].used && m->fvm.irqfds[k].fd == v->intx.efd &&
				 (int)m->fvm.irqfds[k].gsi == v->intx.gsi &&
				 m->fvm.irqfds[k].resample_fd == v->intx.resample_fd;
		FZ_CHECK(found, "INTx enabled without its resampling irqfd on GSI %d", v->intx.gsi);
		FZ_CHECK(!v->msi.nvec && !msix_on, "INTx on with MSI (%u) or MSI-X (%d)",
			 v->msi.nvec, msix_on);
		FZ_CHECK(d->trig_count[VFIO_PCI_INTX_IRQ_INDEX] == 1 &&
			 d->trig[VFIO_PCI_INTX_IRQ_INDEX][0] == v->intx.efd &&
			 d->intx_unmask_fd == v->intx.resample_fd, "VFIO's INTx eventfds are not ours");
	} else {
		FZ_CHECK(d->trig_count[VFIO_PCI_INTX_IRQ_INDEX] == 0, "INTx off, VFIO still signals it");
	}
	check_live(m);
	FZ_CHECK(nr_irqfds == attached + v->intx.enabled,
		 "%u irqfds, %u attached vectors, INTx %d", nr_irqfds, attached, v->intx.enabled);
	FZ_CHECK(nr_irqfds == m->fvm.nr_irqfds, "irqfd count %u vs %u", nr_irqfds, m->fvm.nr_irqfds);

	FZ_CHECK(d->trig_count[VFIO_PCI_MSI_IRQ_INDEX] == v->msi.nvec,
		 "VFIO signals %u MSI vectors, %u enabled", d->trig_count[VFIO_PCI_MSI_IRQ_INDEX],
		 v->msi.nvec);
	for (unsigned int i = 0; i < v->msi.nvec; i++)
		FZ_CHECK(d->trig[VFIO_PCI_MSI_IRQ_INDEX][i] == v->msi.vec[i].fd &&
			 v->msi.vec[i].fd >= 0, "MSI vector %u: VFIO signals fd %d, ours is %d", i,
			 d->trig[VFIO_PCI_MSI_IRQ_INDEX][i], v->msi.vec[i].fd);
	if (v->msi.nvec)
		FZ_CHECK((pci_get16(cfg, v->msi.cap + PCI_MSI_FLAGS) & PCI_MSI_FLAGS_ENABLE) &&
			 !msix_on, "MSI on in VFIO, off for the guest or MSI-X on");
	FZ_CHECK(d->trig_count[VFIO_PCI_MSIX_IRQ_INDEX] == v->msix.hw_count,
		 "VFIO signals %u MSI-X vectors, hw_count %u",
		 d->trig_count[VFIO_PCI_MSIX_IRQ_INDEX], v->msix.hw_count);
	for (unsigned int i = 0; i < v->msix.hw_count; i++)
		FZ_CHECK(i < v->msix.emu.nr && d->trig[VFIO_PCI_MSIX_IRQ_INDEX][i] == v->msix.emu.vec[i].fd &&
			 v->msix.emu.vec[i].fd >= 0,
			 "MSI-X vector %u: VFIO signals fd %d, ours is %d", i,
			 d->trig[VFIO_PCI_MSIX_IRQ_INDEX][i], v->msix.emu.vec[i].fd);
	if (v->msix.hw_count)
		FZ_CHECK(msix_on, "VFIO signals MSI-X vectors while MSI-X is off");
}

static void check_all(struct machine *m)
{
	uint16_t hw = pci_get16(m->d->config, PCI_COMMAND);
	uint16_t guest = pci_get16(m->v->dev.config, PCI_COMMAND);
	const uint16_t same = PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE;

	FZ_CHECK((hw & same) == (guest & same), "COMMAND: the device has %#x, the guest %#x", hw,
		 guest);
	fz_check_bus(&m->pio, 0x10000);
	fz_check_bus(&m->mmio, 0);
	check_bars(m);
	check_irqs(m);
}

/* ---- guest actions ------------------------------------------------------------- */

static uint8_t sec_bus(struct machine *m)
{
	uint32_t v = 0;

	pci_cfg_read(m->root, 0, m->port_devfn, PCI_SECONDARY_BUS, &v, 1);
	return (uint8_t)v;
}

static uint32_t cfg_rd(struct machine *m, unsigned int off, unsigned int len)
{
	uint32_t v = 0;

	uint8_t bus = sec_bus(m);

	m->rd_active = true;
	m->rd_off = off;
	m->rd_len = len;
	pci_cfg_read(m->root, bus, 0, off, &v, len);
	m->rd_active = false;
	return v;
}

/* Initiate FLR (PCIe 4.0 §7.5.3.4): resets the function only if it has
 * the capability; RsvdP otherwise. */
static bool starts_flr(const struct machine *m, unsigned int off, uint32_t val, unsigned int len)
{
	unsigned int b = m->s.exp + PCI_EXP_DEVCTL + 1;

	return m->s.flr && off <= b && b < off + len && (val >> (8 * (b - off))) & 0x80;
}

static void cfg_wr(struct machine *m, unsigned int off, uint32_t val, unsigned int len)
{
	m->reset_ok |= starts_flr(m, off, val, len);
	m->cfg_active = true;
	m->cfg_off = off;
	m->cfg_len = len;
	m->cfg_val = val;
	pci_cfg_write(m->root, sec_bus(m), 0, off, val, len);
	m->cfg_active = false;
}

static void port_wr(struct machine *m, unsigned int off, uint32_t val, unsigned int len)
{
	pci_cfg_write(m->root, 0, m->port_devfn, off, val, len);
}

static void program_port(struct machine *m)
{
	port_wr(m, PCI_PRIMARY_BUS, 0, 1);
	port_wr(m, PCI_SECONDARY_BUS, SEC_BUS, 1);
	port_wr(m, PCI_SUBORDINATE_BUS, SEC_BUS, 1);
	port_wr(m, PCI_MEMORY_BASE, (uint32_t)(WIN_MEM >> 16), 2);
	port_wr(m, PCI_MEMORY_LIMIT, (uint32_t)(WIN_MEM_END >> 16) & 0xfff0, 2);
	port_wr(m, PCI_PREF_MEMORY_BASE, (uint32_t)(WIN_PREF >> 16) & 0xfff0, 2);
	port_wr(m, PCI_PREF_MEMORY_LIMIT, (uint32_t)(WIN_PREF_END >> 16) & 0xfff0, 2);
	port_wr(m, PCI_PREF_BASE_UPPER32, (uint32_t)(WIN_PREF >> 32), 4);
	port_wr(m, PCI_PREF_LIMIT_UPPER32, (uint32_t)(WIN_PREF_END >> 32), 4);
	port_wr(m, PCI_IO_BASE, WIN_IO >> 8, 1);
	port_wr(m, PCI_IO_LIMIT, WIN_IO_END >> 8, 1);
	port_wr(m, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
}

/*
 * A guest access to BAR bar at offset off: into the memslot if the
 * address is mapped (what a vCPU does without an exit), else through the
 * bus (an MMIO or PIO exit). The hook then knows which region access it
 * may cause.
 */
static void bar_access(struct machine *m, unsigned int bar, uint64_t off, unsigned int len,
		       uint64_t val, bool write)
{
	const struct pci_bar *pb = &m->v->dev.bars[bar];
	uint64_t addr = pb->addr + off;
	uint8_t buf[8];
	bool mirror = false;

	if (!pb->mapped || off >= pb->size || len > pb->size - off)
		return;
	bus_data_put(buf, len, val);
	for (unsigned int i = 0; i < FAKE_VM_MAX_SLOTS && !(pb->flags & PCI_BAR_IO); i++) {
		const struct fake_memslot *sl = &m->fvm.slots[i];

		if (!sl->used || (int)i == m->ram_slots[0] || (int)i == m->ram_slots[1] ||
		    !in_range(addr, len, sl->gpa, sl->size))
			continue;
		if (addr < sl->gpa || addr + len > sl->gpa + sl->size)
			return;		/* across a slot's edge: not modelled */
		if (!write) {
			memcpy(buf, (uint8_t *)sl->hva + (addr - sl->gpa), len);
			return;
		}
		if (!(sl->flags & VM_MEMSLOT_READONLY)) {
			memcpy((uint8_t *)sl->hva + (addr - sl->gpa), buf, len);
			return;
		}
		break;		/* a write to a read-only slot exits as MMIO */
	}
	/* Inside a config space mirror (quirks.c): a config access of the
	 * guest's too, for the hook. A QWORD is two of them: not modelled. */
	for (unsigned int i = 0; i < m->v->nr_mirrors && !(pb->flags & PCI_BAR_IO); i++) {
		const struct vfio_mirror *mir = &m->v->mirrors[i];

		if (bar != mir->bar || off + len <= mir->off || off >= mir->off + mir->len)
			continue;
		if (len == 8)
			return;
		mirror = true;
		if (write) {
			m->reset_ok |= starts_flr(m, (unsigned int)(off - mir->off), (uint32_t)val, len);
			m->cfg_active = true;
			m->cfg_off = (unsigned int)(off - mir->off);
			m->cfg_len = len;
			m->cfg_val = (uint32_t)val;
		} else {
			m->rd_active = true;
			m->rd_off = (unsigned int)(off - mir->off);
			m->rd_len = len;
		}
	}
	m->bar_active = true;
	m->bar_io = pb->flags & PCI_BAR_IO;
	m->bar_addr = addr;
	m->bar_len = len;
	m->bar_write = write;
	memcpy(m->bar_data, buf, len);
	if (write)
		fz_bus_write(pb->flags & PCI_BAR_IO ? &m->pio : &m->mmio, addr, val, len);
	else
		fz_bus_read(pb->flags & PCI_BAR_IO ? &m->pio : &m->mmio, addr, len);
	m->bar_active = false;
	if (mirror)
		m->cfg_active = m->rd_active = false;
}

enum {
	OP_CFG_READ,		/* width sel, u16 offset */
	OP_CFG_WRITE,		/* width sel, u16 offset, u32 */
	OP_CAP_WRITE,		/* capability sel, u8 offset in it, width sel, u32 */
	OP_RAW_CFG,		/* dir|len (0-7), u16 offset, u32: the device's cfg hooks directly */
	OP_BAR,			/* bar sel, how, u32: sizing, then an address, then decode */
	OP_COMMAND,		/* u16 */
	OP_SETUP,		/* flags: every BAR placed as firmware does, decode on */
	OP_MSI,			/* u32 addr, u16 data, u32 mask, u8 control */
	OP_MSIX_CTRL,		/* u8: bit 0 Enable, bit 1 Function Mask */
	OP_TABLE,		/* entry, dword|width, u64: an MSI-X table write */
	OP_BAR_ACCESS,		/* bar|dir, width|anchor, u32 offset, u64 */
	OP_FIRE,		/* index, vector: the device signals */
	OP_FLR,			/* u16 Device Control, Initiate FLR set */
	OP_RESET,		/* the registry's reset (platform reset) */
	OP_SBR,			/* the root port's Secondary Bus Reset */
	OP_PORT,		/* what, u32: the root port's bus numbers, windows, decode */
	OP_HOST,		/* what, n: host and KVM shortages */
	NR_OPS,
};

static unsigned int width(uint8_t sel)
{
	return sel % 3 == 0 ? 1 : sel % 3 == 1 ? 2 : 4;
}

static void op_bar(struct machine *m, struct fz *f)
{
	uint8_t sel = fz_u8(f), how = fz_u8(f);
	uint32_t val = fz_u32(f);
	unsigned int bar = sel % 7 == 6 ? PCI_ROM_BAR : sel % 7;
	unsigned int reg = bar == PCI_ROM_BAR ? PCI_ROM_ADDRESS : PCI_BASE_ADDRESS_0 + 4 * bar;
	const struct pci_bar *pb = &m->v->dev.bars[bar];
	uint64_t size = pb->size ? pb->size : 16, addr;

	cfg_wr(m, reg, 0xffffffff, 4);
	cfg_rd(m, reg, 4);
	switch (how & 3) {
	case 0:		/* in the window it belongs to, aligned */
		if (pb->flags & PCI_BAR_IO)
			addr = WIN_IO + (val % ((WIN_IO_END + 1 - WIN_IO) / size)) * size;
		else if ((pb->flags & PCI_BAR_MEM64) && (how & 4))
			addr = WIN_PREF + (val % ((WIN_PREF_END + 1 - WIN_PREF) / size)) * size;
		else
			addr = WIN_MEM + (val % ((WIN_MEM_END + 1 - WIN_MEM) / size)) * size;
		break;
	case 1:		/* anything */
		addr = val | (uint64_t)(how >> 4) << 32;
		break;
	case 2:		/* next to another BAR, to overlap it */
		addr = m->v->dev.bars[(how >> 3) % PCI_NUM_BARS].addr + (val & 0xfff0);
		break;
	default:
		addr = 0;
		break;
	}
	cfg_wr(m, reg, (uint32_t)addr | (bar == PCI_ROM_BAR ? (how >> 7) : 0), 4);
	if (pb->flags & PCI_BAR_MEM64)
		cfg_wr(m, reg + 4, (uint32_t)(addr >> 32), 4);
	if (how & 0x40)
		cfg_wr(m, PCI_COMMAND, (how & 0x20 ? PCI_COMMAND_IO : 0) | PCI_COMMAND_MEMORY |
		       (how & 0x10 ? PCI_COMMAND_MASTER : 0), 2);
}

/* Every BAR at its own place, firmware style; flags: 64-bit BARs above 4G,
 * ROM enabled, bus master. */
static void op_setup(struct machine *m, uint8_t flags)
{
	uint64_t mem = WIN_MEM, pref = WIN_PREF, io = WIN_IO;

	for (unsigned int bar = 0; bar < PCI_NUM_REGIONS; bar++) {
		const struct pci_bar *pb = &m->v->dev.bars[bar];
		unsigned int reg = bar == PCI_ROM_BAR ? PCI_ROM_ADDRESS : PCI_BASE_ADDRESS_0 + 4 * bar;
		uint64_t *cur, addr;

		if (!pb->size)
			continue;
		cfg_wr(m, reg, 0xffffffff, 4);
		cfg_rd(m, reg, 4);
		cur = pb->flags & PCI_BAR_IO ? &io :
		      (pb->flags & PCI_BAR_MEM64) && (flags & 1) ? &pref : &mem;
		addr = (*cur + pb->size - 1) & ~(pb->size - 1);
		*cur = addr + pb->size;
		cfg_wr(m, reg, (uint32_t)addr | (bar == PCI_ROM_BAR && (flags & 2)), 4);
		if (pb->flags & PCI_BAR_MEM64)
			cfg_wr(m, reg + 4, (uint32_t)(addr >> 32), 4);
	}
	cfg_wr(m, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
	       (flags & 4 ? PCI_COMMAND_MASTER : 0), 2);
}

static void op_msi(struct machine *m, struct fz *f)
{
	unsigned int c = m->s.msi;
	uint32_t addr = fz_u32(f), mask = fz_u32(f);
	uint16_t data = fz_u16(f);
	uint8_t ctl = fz_u8(f);

	cfg_wr(m, c + PCI_MSI_ADDRESS_LO, addr, 4);
	if (m->s.msi64) {
		cfg_wr(m, c + 8, ctl & 0x80 ? 1 : 0, 4);
		cfg_wr(m, c + 12, data, 2);
		cfg_wr(m, c + 16, mask, 4);
	} else {
		cfg_wr(m, c + 8, data, 2);
	}
	/* Enable and Multiple Message Enable (bits 4-6). */
	cfg_wr(m, c + PCI_MSI_FLAGS, (ctl & 1) | (ctl & 0x70), 2);
}

static void run_op(struct machine *m, struct fz *f)
{
	uint8_t op = fz_u8(f) % NR_OPS, a, b;
	const struct shape *s = &m->s;
	uint32_t val;
	uint16_t off;

	switch (op) {
	case OP_CFG_READ:
		a = fz_u8(f);
		off = fz_u16(f) & 0xfff;
		cfg_rd(m, off, width(a));
		break;
	case OP_CFG_WRITE:
		a = fz_u8(f);
		off = fz_u16(f) & 0xfff;
		cfg_wr(m, off, fz_u32(f), width(a));
		break;
	case OP_CAP_WRITE: {
		static const unsigned int hdr[] = { PCI_COMMAND, PCI_BASE_ADDRESS_0, PCI_ROM_ADDRESS,
						    PCI_INTERRUPT_LINE };
		unsigned int base;

		a = fz_u8(f);
		b = fz_u8(f);
		if (a % (s->nr_caps + 1) == s->nr_caps)
			base = hdr[(a >> 4) % 4];
		else
			base = s->caps[a % (s->nr_caps + 1)].off;
		val = fz_u8(f);
		cfg_wr(m, base + b % 0x40, fz_u32(f), width((uint8_t)val));
		break;
	}
	case OP_RAW_CFG: {
		/* What the PCI layer never passes (crossing a dword, 0 or 3
		 * or more than 4 bytes): the hooks must refuse or cope. */
		unsigned int len;

		a = fz_u8(f);
		off = fz_u16(f);
		val = fz_u32(f);
		len = a & 7;
		pthread_mutex_lock(&m->root->lock);
		if (a & 0x80) {
			m->cfg_active = true;
			m->cfg_off = off;
			m->cfg_len = len;
			m->cfg_val = len < 4 ? val & ((1u << (8 * len)) - 1) : val;
			m->reset_ok |= len <= 4 && starts_flr(m, off, m->cfg_val, len);
			vfio_pci_dev_ops.cfg_write(&m->v->dev, off, m->cfg_val, len);
			m->cfg_active = false;
		} else {
			m->rd_active = true;
			m->rd_off = off;
			m->rd_len = len;
			vfio_pci_dev_ops.cfg_read(&m->v->dev, off, len);
			m->rd_active = false;
		}
		pthread_mutex_unlock(&m->root->lock);
		break;
	}
	case OP_BAR:
		op_bar(m, f);
		break;
	case OP_COMMAND:
		cfg_wr(m, PCI_COMMAND, fz_u16(f), 2);
		break;
	case OP_SETUP:
		op_setup(m, fz_u8(f));
		break;
	case OP_MSI:
		op_msi(m, f);
		break;
	case OP_MSIX_CTRL:
		a = fz_u8(f);
		cfg_wr(m, s->msix + PCI_MSIX_FLAGS,
		       (a & 1 ? PCI_MSIX_FLAGS_ENABLE : 0) | (a & 2 ? PCI_MSIX_FLAGS_MASKALL : 0) |
		       (a & 4 ? 0x07ff : 0), 2);
		break;
	case OP_TABLE: {
		uint64_t v64;
		unsigned int dw;

		a = fz_u8(f);
		b = fz_u8(f);
		v64 = fz_u64(f);
		dw = b & 3;
		bar_access(m, s->table_bar,
			   s->table_off + (a % (s->msix_nr + 1)) * PCI_MSIX_ENTRY_SIZE + dw * 4,
			   b & 4 ? 8 : 4, v64, !(b & 8));
		break;
	}
	case OP_BAR_ACCESS: {
		unsigned int bar, len;
		uint64_t boff, v64;

		a = fz_u8(f);
		b = fz_u8(f);
		boff = fz_u32(f);
		v64 = fz_u64(f);
		bar = (a & 0x7f) % 7 == 6 ? PCI_ROM_BAR : (a & 0x7f) % 7;
		len = fz_width(b);
		switch ((b >> 2) & 3) {
		case 0:
			/* NVIDIA's BAR0 config mirror: its offset in config space */
			if (b & 0x80)
				boff = VFIO_NV_MIRROR_OFF + boff % 0x1000;
			break;
		case 1:
			boff = s->table_bar == bar ? s->table_off + boff % 0x200 - 0x40 : boff;
			break;
		case 2:
			boff = s->pba_bar == bar ? s->pba_off + boff % 0x40 - 0x10 : boff;
			break;
		case 3:
			boff = (boff & ~(PAGE - 1)) - (b >> 4);	/* a page's edge */
			break;
		}
		if (m->v->dev.bars[bar].size)
			boff %= m->v->dev.bars[bar].size;
		bar_access(m, bar, boff, len, v64, a & 0x80);
		break;
	}
	case OP_FIRE: {
		unsigned int index;

		a = fz_u8(f);
		b = fz_u8(f);
		index = a % 3;
		if (fake_vfio_fire(m->d, index, b)) {
			/* KVM consumes what an attached irqfd signals. */
			int fd = m->d->trig[index][b];

			for (unsigned int k = 0; k < FAKE_VM_MAX_IRQFDS; k++) {
				uint64_t n;

				if (m->fvm.irqfds[k].used && m->fvm.irqfds[k].fd == fd &&
				    read(fd, &n, sizeof(n)) != sizeof(n))
					FZ_CHECK(false, "draining irqfd %d", fd);
			}
		}
		break;
	}
	case OP_FLR:
		cfg_wr(m, s->exp + PCI_EXP_DEVCTL, fz_u16(f) | PCI_EXP_DEVCTL_BCR_FLR, 2);
		break;
	case OP_RESET:
		m->reset_ok = true;
		device_list_reset(&m->fvm.devices);
		break;
	case OP_SBR:
		m->reset_ok = true;
		port_wr(m, PCI_BRIDGE_CONTROL, PCI_BRIDGE_CTL_BUS_RESET, 2);
		port_wr(m, PCI_BRIDGE_CONTROL, 0, 2);
		break;
	case OP_PORT:
		a = fz_u8(f);
		val = fz_u32(f);
		switch (a % 5) {
		case 0:
			port_wr(m, PCI_COMMAND, val & 0x7, 2);
			break;
		case 1:
			port_wr(m, PCI_MEMORY_BASE, val, 4);
			break;
		case 2:
			port_wr(m, PCI_SECONDARY_BUS, val, 1);
			break;
		case 3:
			port_wr(m, PCI_PREF_MEMORY_BASE, val, 4);
			break;
		default:
			program_port(m);
			break;
		}
		break;
	case OP_HOST:
		a = fz_u8(f);
		b = fz_u8(f);
		switch (a % 4) {
		case 0:		/* the host has fewer MSI-X vectors than the table */
			m->degraded = true;
			m->d->irq_count[VFIO_PCI_MSIX_IRQ_INDEX] = b % (s->msix_nr + 1);
			break;
		case 1:
			m->degraded = true;
			m->d->irq_count[VFIO_PCI_MSI_IRQ_INDEX] = b % 5;
			break;
		case 2:
			m->fail_route = b & 1;
			m->fail_irqfd = b & 2;
			m->fail_memslot = b & 4;
			break;
		default:
			m->fail_route = m->fail_irqfd = m->fail_memslot = false;
			break;
		}
		break;
	}
}

/* FUZZ_TRACE=1: the state after each record, to check what a seed does. */
static void trace_state(struct machine *m, uint8_t op, size_t at)
{
	unsigned int slots = 0, routes = 0, ranges = 0;

	for (unsigned int i = 0; i < FAKE_VM_MAX_SLOTS; i++)
		slots += m->fvm.slots[i].used != 0;
	for (unsigned int i = 0; i < FAKE_VM_MAX_ROUTES; i++)
		routes += m->fvm.routes[i].used != 0;
	ranges = (unsigned int)(m->pio.nr_ranges + m->mmio.nr_ranges);
	fprintf(stderr, "@%zu op %u: cmd %#x/%#x slots %u ranges %u routes %u irqfds %u msi %u msix %d/%d hw %u intx %d cfgw %u\n",
		at, op % NR_OPS, pci_get16(m->v->dev.config, PCI_COMMAND),
		pci_get16(m->d->config, PCI_COMMAND), slots - 2, ranges, routes, m->fvm.nr_irqfds,
		m->v->msi.nvec, msix_enabled(&m->v->msix.emu), m->v->msix.emu.fmask,
		m->v->msix.hw_count, m->v->intx.enabled, m->d->cfg_writes);
}

/* ---- life cycle ---------------------------------------------------------------- */

/* Open file descriptors (the directory's own included, both times). */
static unsigned int open_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	unsigned int n = 0;

	FZ_CHECK(dir, "/proc/self/fd");
	while (readdir(dir))
		n++;
	closedir(dir);
	return n;
}

static void machine_create(struct machine *m, uint8_t prefix)
{
	struct pci_intx_router router = { .intx_change = intx_change, .intx_gsi = intx_gsi };
	struct vfio_slot_config cfg = { .bdf = "01:00.0" };
	const struct shape *s = &m->s;

	fake_vm_init(&m->fvm);
	m->ops = (struct vm_ops){
		.vm = m,
		.register_device = w_register_device,
		.set_irq_line = w_set_irq_line,
		.add_memslot = w_add_memslot,
		.remove_memslot = w_remove_memslot,
		.add_irqfd = w_add_irqfd,
		.remove_irqfd = w_remove_irqfd,
		.add_msi_route = w_add_msi_route,
		.update_msi_route = w_update_msi_route,
		.remove_msi_route = w_remove_msi_route,
		.vfio_group_add = w_vfio_group_add,
		.vfio_group_del = w_vfio_group_del,
	};
	FZ_CHECK(m->fvm.ops.add_memslot(&m->fvm, 0, RAM_LOW, NULL, 0, &m->ram_slots[0]) == 0 &&
		 m->fvm.ops.add_memslot(&m->fvm, RAM_HIGH, 2ULL << 30, NULL, 0,
					&m->ram_slots[1]) == 0, "RAM memslots");

	fake_vfio_init(&m->fv);
	m->fv.access_hook = access_hook;
	m->fv.hook_opaque = m;
	m->d = fake_vfio_add_dev(&m->fv, BDF, GROUP, 4096);
	if (prefix & 1)
		fill_gpu(m->d, &m->s);
	else
		fill_nvme(m->d, &m->s);
	if (prefix & 2)
		m->d->has_reset = !m->d->has_reset;
	if (prefix & 4)
		m->d->irq_flags[VFIO_PCI_MSIX_IRQ_INDEX] ^= VFIO_IRQ_INFO_NORESIZE;
	if (prefix & 8)
		m->d->irq_count[VFIO_PCI_INTX_IRQ_INDEX] = 0;
	/* The device's bytes: 0x40-0xFF outside its capabilities. */
	for (unsigned int i = 0x40; i < PCI_CFG_SPACE_SIZE; i++)
		m->hw_ok[i] = true;
	for (unsigned int c = 0; c < s->nr_caps; c++)
		for (unsigned int i = 0; i < s->caps[c].size; i++)
			m->hw_ok[s->caps[c].off + i] = false;

	FZ_CHECK(bus_init(&m->pio, "pio") == 0 && bus_init(&m->mmio, "mmio") == 0, "buses");
	m->root = pci_root_create(&m->ops, &m->pio, &m->mmio);
	FZ_CHECK(m->root, "pci_root_create");
	pci_root_set_intx_router(m->root, &router);
	m->c = vfio_container_create(&m->fv.ops, &m->ops, sysfs_root());
	FZ_CHECK(m->c, "vfio_container_create");
	m->slot = vfio_slot_create(m->c, m->root, &cfg);
	FZ_CHECK(m->slot, "vfio_slot_create: %s", strerror(errno));
	m->port_devfn = vfio_slot_port(m->slot)->devfn;
	m->v = to_vfio(vfio_slot_function(m->slot, 0));
	FZ_CHECK(m->v->msix.cap == s->msix && m->v->msix.nr == s->msix_nr &&
		 m->v->msi.cap == s->msi && m->v->exp_cap == s->exp, "the capabilities moved");
	program_port(m);
	m->ready = true;
}

static void machine_destroy(struct machine *m)
{
	/* The registry's destroy, last created first: slot, container, root. */
	device_list_destroy(&m->fvm.devices);
	FZ_CHECK(m->pio.nr_ranges == 0 && m->mmio.nr_ranges == 0,
		 "%zu port and %zu MMIO ranges left", m->pio.nr_ranges, m->mmio.nr_ranges);
	for (unsigned int i = 0; i < FAKE_VM_MAX_SLOTS; i++)
		FZ_CHECK(!m->fvm.slots[i].used || (int)i == m->ram_slots[0] ||
			 (int)i == m->ram_slots[1], "memslot %#llx left",
			 (unsigned long long)m->fvm.slots[i].gpa);
	for (unsigned int i = 0; i < FAKE_VM_MAX_ROUTES; i++)
		FZ_CHECK(!m->fvm.routes[i].used, "MSI route %u left", FAKE_VM_FIRST_MSI_GSI + i);
	FZ_CHECK(m->fvm.nr_irqfds == 0, "%u irqfds left", m->fvm.nr_irqfds);
	FZ_CHECK(m->fvm.nr_vfio_groups == 0, "%u KVM VFIO groups left", m->fvm.nr_vfio_groups);
	FZ_CHECK(m->d->fd < 0 && m->fv.groups_open == 0 && !m->fv.container_open,
		 "VFIO fds left: device %d, groups %u, container %d", m->d->fd, m->fv.groups_open,
		 m->fv.container_open);
	for (unsigned int i = 0; i < VFIO_PCI_NUM_IRQS; i++)
		FZ_CHECK(m->d->trig_count[i] == 0, "VFIO still signals index %u", i);
	FZ_CHECK(!(pci_get16(m->d->config, PCI_COMMAND) &
		   (PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER)),
		 "the device is left decoding or mastering (%#x)", pci_get16(m->d->config, PCI_COMMAND));
	bus_exit(&m->pio);
	bus_exit(&m->mmio);
	fake_vfio_exit(&m->fv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int trace = -1;
	struct machine *m;
	unsigned int fds;
	size_t op_at = 1;
	struct fz f;

	if (trace < 0)
		trace = getenv("FUZZ_TRACE") != NULL;

	sysfs_root();
	fds = open_fds();
	m = calloc(1, sizeof(*m));
	FZ_CHECK(m, "calloc");
	fz_init(&f, data, size);
	machine_create(m, fz_u8(&f));
	check_all(m);
	while (fz_more(&f)) {
		unsigned int resets = m->d->resets + m->d->hot_resets;

		m->reset_ok = false;
		run_op(m, &f);
		FZ_CHECK(m->reset_ok || m->d->resets + m->d->hot_resets == resets,
			 "the device was reset by a record that asks for no reset");
		check_all(m);
		if (trace)
			trace_state(m, f.p[op_at], op_at);
		op_at = f.i;
	}
	m->fail_route = m->fail_irqfd = m->fail_memslot = false;
	machine_destroy(m);
	free(m);
	FZ_CHECK(open_fds() == fds, "%u fds open after the run, %u before", open_fds(), fds);
	return 0;
}
