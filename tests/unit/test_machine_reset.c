// SPDX-License-Identifier: MIT
/*
 * The ground the in-place reboot stands on: the real machine assembly
 * (vmm/machine.c) on a fake VM, every device driven away from its
 * power-on state the way a guest would, then one walk of the device
 * registry's reset — and every registered device is back: PCI config
 * spaces at their power-on values, BARs and the ECAM unmapped, virtio
 * queues stopped with their threads joined, the AHCI ports stopped with
 * theirs, every register back, every interrupt line low,
 * the legacy devices' registers at their reset values, while what must
 * survive a reboot (the RTC's CMOS RAM) survives.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

#include "devices/ahci/ahci_internal.h"
#include "devices/pci.h"
#include "devices/q35/lpc.h"
#include "devices/q35/mch.h"
#include "devices/virtio/virtio_pci.h"
#include "firmware/fw_cfg.h"
#include "lib/layout.h"
#include "tests/unit/fake_mem.h"
#include "tests/unit/fake_vm.h"
#include "tests/unit/virtio_driver.h"
#include "vmm/cli.h"
#include "vmm/machine.h"
#include "vmm/vm.h"

#define RAM_SIZE	(64 * MiB)
#define DISK_DEVFN	PCI_DEVFN(1, 0)	/* the first free slot after the MCH */
#define ABAR		0xe1000000ULL
#define AHCI_REGS	(HBA_PORTS + AHCI_NR_PORTS * HBA_PORT_LEN)

struct fixture {
	struct fake_vm fvm;
	struct vm vm;
	struct vm_config cfg;
	char disk[64], debugcon[64], sata[64], iso[64];
	char sata_arg[96];
};

static void temp_file(char *path, size_t len, const char *name, off_t size)
{
	int fd;

	snprintf(path, len, "/tmp/minivmm-reset-%s.XXXXXX", name);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, size), 0);
	close(fd);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char disk_arg[96];
	int fd;

	assert_non_null(f);
	snprintf(f->disk, sizeof(f->disk), "/tmp/minivmm-reset-disk.XXXXXX");
	fd = mkstemp(f->disk);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 1 << 20), 0);
	close(fd);
	snprintf(f->debugcon, sizeof(f->debugcon), "/tmp/minivmm-reset-debugcon.XXXXXX");
	fd = mkstemp(f->debugcon);
	assert_true(fd >= 0);
	close(fd);
	snprintf(disk_arg, sizeof(disk_arg), "path=%s,queues=2", f->disk);
	temp_file(f->sata, sizeof(f->sata), "sata", 1 << 20);
	temp_file(f->iso, sizeof(f->iso), "iso", 1 << 20);
	snprintf(f->sata_arg, sizeof(f->sata_arg), "path=%s,bus=sata", f->sata);
	{
		char *argv[] = { "minivmm", "--firmware", "fw.bin", "--testdev", "--disk",
				 disk_arg, "--debugcon", f->debugcon, "--cdrom", f->iso,
				 "--disk", f->sata_arg, NULL };

		assert_int_equal(cli_parse(12, argv, &f->cfg), 0);
	}
	fake_vm_init(&f->fvm);
	vd_hook(&f->fvm);
	f->vm.cfg = &f->cfg;
	f->vm.ops = f->fvm.ops;
	f->vm.nr_vcpus = 2;
	f->vm.serial_out_fd = f->vm.serial_in_fd = -1;
	f->vm.debugcon_fd = -1;
	assert_int_equal(bus_init(&f->vm.pio, "pio"), 0);
	assert_int_equal(bus_init(&f->vm.mmio, "mmio"), 0);
	assert_int_equal(fake_mem_init(&f->vm.mem, RAM_SIZE), 0);
	assert_int_equal(machine_create(&f->vm), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	device_list_destroy(&f->fvm.devices);
	/* Every device left both buses. */
	assert_int_equal(f->vm.pio.nr_ranges, 0);
	assert_int_equal(f->vm.mmio.nr_ranges, 0);
	if (f->vm.debugcon_fd >= 0)
		close(f->vm.debugcon_fd);
	bus_exit(&f->vm.pio);
	bus_exit(&f->vm.mmio);
	fake_mem_free(&f->vm.mem);
	unlink(f->disk);
	unlink(f->debugcon);
	unlink(f->sata);
	unlink(f->iso);
	free(f);
	return 0;
}

static uint8_t inb(struct fixture *f, uint16_t port)
{
	uint8_t v = 0xff;

	bus_read(&f->vm.pio, port, &v, 1);
	return v;
}

static void outb(struct fixture *f, uint16_t port, uint8_t v)
{
	assert_int_equal(bus_write(&f->vm.pio, port, &v, 1), 0);
}

static void outw(struct fixture *f, uint16_t port, uint16_t v)
{
	assert_int_equal(bus_write(&f->vm.pio, port, &v, 2), 0);
}

static uint8_t cmos(struct fixture *f, uint8_t reg)
{
	outb(f, LAYOUT_RTC_PORT, reg);
	return inb(f, LAYOUT_RTC_PORT + 1);
}

static void cmos_write(struct fixture *f, uint8_t reg, uint8_t v)
{
	outb(f, LAYOUT_RTC_PORT, reg);
	outb(f, LAYOUT_RTC_PORT + 1, v);
}

static uint32_t ahci_rd(struct fixture *f, uint64_t off)
{
	uint32_t v = 0;

	bus_read(&f->vm.mmio, ABAR + off, &v, 4);
	return v;
}

static void ahci_wr(struct fixture *f, uint64_t off, uint32_t v)
{
	assert_int_equal(bus_write(&f->vm.mmio, ABAR + off, &v, 4), 0);
}

/* What firmware does: ABAR placed, memory decode and bus mastering on. */
static void ahci_map(struct fixture *f, struct pci_root *root)
{
	pci_cfg_write(root, 0, AHCI_DEVFN, PCI_BASE_ADDRESS_0 + 20, (uint32_t)ABAR, 4);
	pci_cfg_write(root, 0, AHCI_DEVFN, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
}

static struct pci_root *root_of(struct fixture *f)
{
	for (struct device *d = f->fvm.devices.first; d; d = d->next)
		if (!strcmp(d->name, "pci-root"))
			return container_of(d, struct pci_root, dev);
	fail_msg("no pci-root registered");
	return NULL;
}

static void lpc_enable_pm(struct pci_root *root)
{
	pci_cfg_write(root, 0, LPC_DEVFN, LPC_PMBASE, LAYOUT_PM_BASE | 1, 4);
	pci_cfg_write(root, 0, LPC_DEVFN, LPC_ACPI_CNTL, LPC_ACPI_CNTL_ACPI_EN, 1);
}

/* Every function under bus 0, bridges' buses included. */
static void check_bus_power_on(struct pci_bus *bus)
{
	for (unsigned int i = 0; i < 256; i++) {
		struct pci_dev *dev = bus->devs[i];

		if (!dev)
			continue;
		assert_memory_equal(dev->config, dev->reset_config, dev->cfg_size);
		for (unsigned int b = 0; b < PCI_NUM_REGIONS; b++)
			assert_false(dev->bars[b].mapped);
		assert_false(pci_dev_irq_level(dev));
		if (dev->secondary)
			check_bus_power_on(dev->secondary);
	}
}

static void test_reset_every_device(void **state)
{
	struct fixture *f = *state;
	struct pci_root *root = root_of(f);
	struct vd d = { .root = root, .mmio = &f->vm.mmio, .devfn = DISK_DEVFN };
	struct virtio_pci *vp;
	const char *expected[] = { "uart", "debugcon", "testdev", "port92", "rtc", "acpi-pm",
				   "pci-root", "reset-ctl", "q35-mch", "ich9-lpc", "ich9-ahci",
				   "virtio-blk0", "acpi-tables", "fw-cfg" };
	struct ahci *ahci = container_of(root->bus0.devs[AHCI_DEVFN], struct ahci, pci);
	uint32_t ahci_regs[AHCI_REGS / 4];
	unsigned int n = 0;
	uint8_t nvram;
	uint32_t v;

	/* Registration order is creation order. */
	for (struct device *dev = f->fvm.devices.first; dev; dev = dev->next, n++) {
		assert_true(n < sizeof(expected) / sizeof(expected[0]));
		assert_string_equal(dev->name, expected[n]);
	}
	assert_int_equal(n, sizeof(expected) / sizeof(expected[0]));

	/* ---- a guest at work ---- */
	/* UART: FIFO on, 8N1, every interrupt enabled: THRE raises IRQ 4. */
	outb(f, LAYOUT_COM1_PORT + 2, 0x01);
	outb(f, LAYOUT_COM1_PORT + 3, 0x03);
	outb(f, LAYOUT_COM1_PORT + 4, 0x0b);
	outb(f, LAYOUT_COM1_PORT + 1, 0x0f);
	assert_int_equal(f->fvm.irq_level[LAYOUT_COM1_GSI], 1);
	/* RTC: a periodic interrupt enabled; a CMOS byte the firmware keeps. */
	cmos_write(f, 0x0b, 0x40 | 0x02);
	cmos_write(f, 0x40, 0xa5);
	nvram = cmos(f, 0x40);
	/* The ICH9 PM block decoding, with its power-button enable set. */
	lpc_enable_pm(root);
	outw(f, LAYOUT_PM_BASE + 2, 0x0100);
	assert_int_equal(inb(f, LAYOUT_PM_BASE + 3), 0x01);
	/* The ECAM window on (PCIEXBAR). */
	pci_cfg_write(root, 0, MCH_DEVFN, MCH_PCIEXBAR, (uint32_t)MEM_ECAM_BASE | 1, 4);
	assert_true(root->ecam_mapped);
	/* fw_cfg: a key selected and read into. */
	outw(f, LAYOUT_FW_CFG_PORT, FW_CFG_ID);
	/* Test device scratch, reset control bit. */
	outb(f, 0xe0, 0x5a);
	outb(f, LAYOUT_RESET_PORT, 0x02);
	outb(f, LAYOUT_PORT92, 0x02);			/* A20 on, no reset */
	/* virtio-blk: BARs mapped, driver up on two queues with MSI-X on
	 * (their I/O threads running), and its INTx asserted. */
	vd_map(&d);
	assert_true(vd_negotiate(&d, VIRTIO_BIT(VIRTIO_F_VERSION_1)));
	for (uint16_t q = 0; q < 2; q++)
		vd_queue(&d, q, 16, 0x10000 + 0x1000 * q, 0x20000 + 0x1000 * q,
			 0x30000 + 0x1000 * q, q);
	vd_cfg_write(&d, vd_find_cap(&d, 0x11, -1) + 2, 0x8000, 2);
	vd_set_status(&d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			  VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	assert_true(vd_status(&d) & VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(vd_live_ioeventfds(), 2);
	vp = container_of(root->bus0.devs[DISK_DEVFN], struct virtio_pci, pci);
	pci_cfg_write(root, 0, DISK_DEVFN, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	pci_dev_set_irq(&vp->pci, true);
	assert_int_equal(pci_cfg_read(root, 0, DISK_DEVFN, PCI_STATUS, &v, 2), 0);
	assert_true(v & PCI_STATUS_INTERRUPT);

	/* AHCI: its registers at power-on, then both drives' ports running
	 * (their I/O threads up), MSI on, an interrupt pending (the
	 * signature FIS with PxIE set) and INTx asserted before that. */
	ahci_map(f, root);
	for (unsigned int off = 0; off < AHCI_REGS; off += 4)
		ahci_regs[off / 4] = ahci_rd(f, off);
	assert_int_equal(ahci_regs[(HBA_PORTS + PX_SIG) / 4], 0xffffffff);
	ahci_wr(f, HBA_GHC, GHC_IE);
	for (unsigned int p = 0; p < 2; p++) {
		uint64_t px = HBA_PORTS + HBA_PORT_LEN * p;

		ahci_wr(f, px + PX_CLB, 0x40000 + 0x1000 * p);
		ahci_wr(f, px + PX_FB, 0x48000 + 0x1000 * p);
		ahci_wr(f, px + PX_IE, 0xffffffff);
		ahci_wr(f, px + PX_CMD, PXCMD_FRE | PXCMD_ST);
		assert_true(ahci_rd(f, px + PX_CMD) & PXCMD_CR);
	}
	assert_int_equal(ahci_rd(f, HBA_PORTS + PX_SIG), SIG_ATAPI);	/* --cdrom: port 0 */
	assert_int_equal(ahci_rd(f, HBA_PORTS + HBA_PORT_LEN + PX_SIG), SIG_ATA);
	assert_int_equal(ahci_threads_running(ahci), 2);
	assert_true(pci_dev_irq_level(&ahci->pci));
	pci_cfg_write(root, 0, AHCI_DEVFN, 0x80 + PCI_MSI_ADDRESS_LO, 0xfee00000, 4);
	pci_cfg_write(root, 0, AHCI_DEVFN, 0x80 + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE, 2);
	assert_true(ahci->msi_on);

	/* ---- the platform reset ---- */
	device_list_reset(&f->fvm.devices);

	/* Every interrupt line low. */
	for (unsigned int gsi = 0; gsi < FAKE_VM_MAX_GSI; gsi++)
		assert_int_equal(f->fvm.irq_level[gsi], 0);
	/* PCI: power-on config, BARs and ECAM unmapped, INTx low. */
	check_bus_power_on(pci_root_bus(root));
	assert_false(root->ecam_mapped);
	assert_int_equal(root->cf8, 0);
	/* virtio: status 0, queues off, their ioeventfds gone, threads
	 * joined (the reset waits for them), no MSI-X. */
	assert_int_equal(__atomic_load_n(&vp->status, __ATOMIC_ACQUIRE), 0);
	for (unsigned int q = 0; q < vp->nr_queues; q++)
		assert_false(vp->queues[q].enabled);
	assert_int_equal(vd_live_ioeventfds(), 0);
	assert_false(msix_enabled(&vp->msix));
	/* AHCI: no thread, MSI off, every register as at power-on. */
	assert_int_equal(ahci_threads_running(ahci), 0);
	assert_false(ahci->msi_on);
	ahci_map(f, root);
	for (unsigned int off = 0; off < AHCI_REGS; off += 4)
		assert_int_equal(ahci_rd(f, off), ahci_regs[off / 4]);
	/* UART: IER, LCR, MCR clear, LSR THRE|TEMT, no interrupt pending. */
	assert_int_equal(inb(f, LAYOUT_COM1_PORT + 1), 0);
	assert_int_equal(inb(f, LAYOUT_COM1_PORT + 3), 0);
	assert_int_equal(inb(f, LAYOUT_COM1_PORT + 4), 0);
	assert_int_equal(inb(f, LAYOUT_COM1_PORT + 5), 0x60);
	assert_int_equal(inb(f, LAYOUT_COM1_PORT + 2) & 0x01, 0x01);
	/* RTC: interrupt enables clear, so no IRQF (PF still counts the
	 * periods, enabled or not); the time format and the CMOS RAM kept. */
	assert_int_equal(cmos(f, 0x0b) & 0x78, 0);
	assert_int_equal(cmos(f, 0x0b) & 0x02, 0x02);
	assert_int_equal(cmos(f, 0x0c) & 0x80, 0);
	assert_int_equal(cmos(f, 0x40), nvram);
	/* The PM block stops decoding (ACPI_EN is 0 again); once the
	 * firmware enables it, its enables are clear and SCI_EN still set. */
	assert_int_equal(inb(f, LAYOUT_PM_BASE + 3), 0xff);
	lpc_enable_pm(root);
	assert_int_equal(inb(f, LAYOUT_PM_BASE + 3), 0);
	assert_int_equal(inb(f, LAYOUT_PM_BASE + 4) & 0x01, 0x01);
	/* fw_cfg back on the signature, test device and RST_CNT cleared. */
	assert_int_equal(inb(f, LAYOUT_FW_CFG_PORT + 1), 'Q');
	assert_int_equal(inb(f, 0xe0), 0);
	assert_int_equal(inb(f, LAYOUT_RESET_PORT), 0);
	assert_int_equal(inb(f, LAYOUT_PORT92), 0);
	/* No reset asked the VM to stop. */
	assert_int_equal(f->fvm.nr_stops, 0);
}

/* A second reset on a machine at power-on changes nothing, and the
 * devices still work after it (the virtio driver can come up again). */
static void test_reset_twice_then_use(void **state)
{
	struct fixture *f = *state;
	struct pci_root *root = root_of(f);
	struct vd d = { .root = root, .mmio = &f->vm.mmio, .devfn = DISK_DEVFN };

	device_list_reset(&f->fvm.devices);
	device_list_reset(&f->fvm.devices);
	check_bus_power_on(pci_root_bus(root));
	vd_map(&d);
	assert_true(vd_negotiate(&d, VIRTIO_BIT(VIRTIO_F_VERSION_1)));
	vd_queue(&d, 0, 16, 0x10000, 0x20000, 0x30000, 0);
	vd_set_status(&d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			  VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	assert_true(vd_status(&d) & VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(vd_live_ioeventfds(), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reset_every_device, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_twice_then_use, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
