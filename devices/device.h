/* SPDX-License-Identifier: MIT */
/*
 * What a device model may ask of the VM. Only vmm/ issues KVM ioctls; a
 * device gets this small table instead, so every model can be unit-tested
 * against a fake (tests/unit/fake_vm.c) without /dev/kvm.
 */
#ifndef MINIVMM_DEVICE_H
#define MINIVMM_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The structure that embeds member at ptr. */
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

/* Why the VM stops. The value is also minivmm's exit status (README.md,
 * "Exit status"). */
enum vm_stop_reason {
	VM_STOP_NONE = -1,
	VM_STOP_POWEROFF = 0,	/* ACPI S5 or a passing test payload   */
	VM_STOP_ERROR = 1,	/* minivmm itself failed               */
	VM_STOP_USAGE = 2,	/* bad command line                     */
	VM_STOP_RESET = 3,	/* guest asked for a reset / triple fault */
	VM_STOP_CRASH = 4,	/* KVM could not run the guest          */
	VM_STOP_TESTDEV = 5,	/* test payload verdict: status = code  */
	VM_STOP_SIGNAL = 6,	/* SIGINT/SIGTERM: status = 128 + sig   */
	VM_STOP_HOST = 7,	/* the control socket's "stop": status 0,
				 * as QEMU's quit (docs/control.md)      */
	VM_STOP_GUEST_CRASH = 8,	/* the guest reported a crash through
					 * the Hyper-V crash MSRs: status 5 */
};

/* Flags for vm_ops.add_memslot. */
#define VM_MEMSLOT_READONLY	(1u << 0)	/* writes exit as MMIO (ROM, pflash) */
#define VM_MEMSLOT_LOG_DIRTY	(1u << 1)

/* Flags for vm_ops.add_ioeventfd. */
#define VM_IOEVENTFD_PIO	(1u << 0)
#define VM_IOEVENTFD_DATAMATCH	(1u << 1)

struct device;

struct vm_ops {
	void *vm;
	/* Every device calls this once, from its create function (see
	 * struct device below); the VM resets and destroys what is here. */
	void (*register_device)(void *vm, struct device *dev);
	/* Level of an IOAPIC/PIC input (GSI); edge devices pulse 1 then 0. */
	int (*set_irq_line)(void *vm, unsigned int gsi, int level);
	/* Deliver one MSI (address/data as the guest programmed them). */
	int (*signal_msi)(void *vm, uint64_t addr, uint32_t data);
	/* Map host memory into the guest; *slot identifies it for removal. */
	int (*add_memslot)(void *vm, uint64_t gpa, uint64_t size, void *hva,
			   unsigned int flags, int *slot);
	int (*remove_memslot)(void *vm, int slot);
	/* A guest write to addr signals fd, with no exit to userspace. */
	int (*add_ioeventfd)(void *vm, uint64_t addr, unsigned int len,
			     uint64_t datamatch, unsigned int flags, int fd);
	int (*remove_ioeventfd)(void *vm, uint64_t addr, unsigned int len,
				uint64_t datamatch, unsigned int flags, int fd);
	/* Signalling fd raises gsi in the kernel; resample_fd >= 0 makes it a
	 * level interrupt that KVM lowers on EOI and reports on resample_fd. */
	int (*add_irqfd)(void *vm, unsigned int gsi, int fd, int resample_fd);
	int (*remove_irqfd)(void *vm, unsigned int gsi, int fd);
	/* MSI routes: a GSI whose irqfd delivers this MSI, all in the kernel
	 * (virtio and VFIO MSI/MSI-X vectors). Updating a route is atomic for
	 * the guest: an interrupt is delivered to the old or the new target. */
	int (*add_msi_route)(void *vm, uint64_t addr, uint32_t data, unsigned int *gsi);
	int (*update_msi_route)(void *vm, unsigned int gsi, uint64_t addr, uint32_t data);
	int (*remove_msi_route)(void *vm, unsigned int gsi);
	/* Register a VFIO group with KVM's VFIO pseudo-device (lets KVM know
	 * DMA may be non-coherent, and backs VFIO's KVM features). */
	int (*vfio_group_add)(void *vm, int group_fd);
	int (*vfio_group_del)(void *vm, int group_fd);
	/* Ask the VM to stop (reset, power-off, test verdict). Safe from any
	 * thread; the first request wins. */
	void (*request_stop)(void *vm, enum vm_stop_reason reason, int code);
};

/*
 * The device registry. Every device model embeds a struct device and
 * registers it through vm_ops.register_device when it is created. The VM
 * then needs no field per device: it resets them in registration order
 * (a device created after another may depend on it, so it is reset after
 * it) and destroys them in reverse, and asks each for its contribution to
 * the firmware tables. A new device touches its own file and one line of
 * machine assembly (vmm/machine.c).
 *
 * PCI functions are reset by the bus they sit on (pci_root_reset(): a
 * platform reset reaches them as PCI RST#, config space back to its
 * power-on values, then each function's own reset hook), so their
 * registry entries have no reset of their own: only the root's does.
 */
struct acpi_config;
struct fw_cfg;
struct device_list;

struct device_ops {
	/* System reset: the device back in its power-on state, interrupts
	 * lowered, its threads stopped; what must survive a reboot (the
	 * RTC's time and CMOS RAM, disk images, flash contents) survives. */
	void (*reset)(struct device *dev);
	/* Release everything; the registry has already unlinked dev. */
	void (*destroy)(struct device *dev);
	/* What the ACPI tables say of this device (firmware/acpi.h). */
	int (*build_acpi)(struct device *dev, struct acpi_config *cfg);
	/* Files this device gives the firmware through fw_cfg. */
	int (*add_fw_cfg)(struct device *dev, struct fw_cfg *fw);
};

struct device {
	const char *name;
	const struct device_ops *ops;
	/* registry links, owned by device.c */
	struct device_list *list;
	struct device *prev, *next;
};

struct device_list {
	struct device *first, *last;
};

/* Initialise dev and hand it to the VM (ops->register_device; a NULL
 * hook registers nothing, for tests that manage devices by hand). */
void device_register(const struct vm_ops *ops, struct device *dev, const char *name,
		     const struct device_ops *dev_ops);
/* Take dev out of its list, if it is in one (every destroy function
 * calls this, so a device destroyed directly leaves no dangling entry). */
void device_unregister(struct device *dev);

void device_list_add(struct device_list *list, struct device *dev);
/* Reset every device, first registered first. */
void device_list_reset(struct device_list *list);
/* Destroy every device, last registered first; the list ends empty. */
void device_list_destroy(struct device_list *list);
/* Every device's contribution, in registration order; the first error
 * stops the walk and is returned. */
int device_list_build_acpi(struct device_list *list, struct acpi_config *cfg);
int device_list_add_fw_cfg(struct device_list *list, struct fw_cfg *fw);

#endif
