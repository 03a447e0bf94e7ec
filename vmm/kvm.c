// SPDX-License-Identifier: MIT
/*
 * KVM VM setup and the VM-level ioctls behind struct vm_ops.
 * API reference: Documentation/virt/kvm/api.rst in the Linux tree.
 */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lib/layout.h"
#include "devices/irq.h"
#include "lib/log.h"
#include "vmm/kvm.h"

static const struct {
	int cap;
	const char *name;
} kvm_required_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
	{ KVM_CAP_SET_IDENTITY_MAP_ADDR, "KVM_CAP_SET_IDENTITY_MAP_ADDR" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
	{ KVM_CAP_PIT2, "KVM_CAP_PIT2" },
	{ KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING" },
	{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
	{ KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD" },
	{ KVM_CAP_SIGNAL_MSI, "KVM_CAP_SIGNAL_MSI" },
	{ KVM_CAP_READONLY_MEM, "KVM_CAP_READONLY_MEM" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
	{ KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE" },
};

/* The host's fast-string hint bits and brand string (vmm/cpuid.c adds
 * them as QEMU does for -cpu host). */
static void kvm_host_cpuid(struct kvm *kvm)
{
	unsigned int eax, ebx, ecx, edx;

	if (__get_cpuid_max(0x80000000, NULL) >= 0x80000004)
		for (unsigned int i = 0; i < 3; i++)
			__cpuid(0x80000002 + i, kvm->host_brand[4 * i], kvm->host_brand[4 * i + 1],
				kvm->host_brand[4 * i + 2], kvm->host_brand[4 * i + 3]);
	if (__get_cpuid_max(0, NULL) < 7)
		return;
	__cpuid_count(7, 0, eax, ebx, ecx, edx);
	kvm->host_7_0_ebx = ebx;
	kvm->host_7_0_edx = edx;
	if (eax >= 1) {
		__cpuid_count(7, 1, eax, ebx, ecx, edx);
		kvm->host_7_1_eax = eax;
	}
}

static int kvm_open(struct kvm *kvm, const char *path)
{
	int ret;

	kvm->dev_fd = open(path, O_RDWR | O_CLOEXEC);
	if (kvm->dev_fd < 0) {
		ret = -errno;
		if (errno == ENOENT)
			pr_err("%s does not exist: no KVM on this host (enable VT-x/AMD-V in the firmware setup, then 'modprobe kvm_intel' or 'modprobe kvm_amd'; 'minivmm check' tells more)",
			       path);
		else if (errno == EACCES || errno == EPERM)
			pr_err("%s: permission denied (add yourself to the 'kvm' group: 'sudo usermod -aG kvm $USER', then log in again)",
			       path);
		else
			pr_err("cannot open %s: %s", path, strerror(errno));
		return ret;
	}
	ret = ioctl(kvm->dev_fd, KVM_GET_API_VERSION, 0);
	if (ret != KVM_API_VERSION) {
		pr_err("%s speaks KVM API version %d, minivmm needs %d (use a Linux kernel from the last decade)",
		       path, ret, KVM_API_VERSION);
		return -ENOTSUP;
	}
	for (size_t i = 0; i < sizeof(kvm_required_caps) / sizeof(kvm_required_caps[0]); i++) {
		if (ioctl(kvm->dev_fd, KVM_CHECK_EXTENSION, kvm_required_caps[i].cap) <= 0) {
			pr_err("this kernel's KVM lacks %s, which minivmm needs (use Linux 4.12 or newer)",
			       kvm_required_caps[i].name);
			return -ENOTSUP;
		}
	}
	ret = ioctl(kvm->dev_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (ret <= 0)
		ret = ioctl(kvm->dev_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	kvm->max_vcpus = ret > 0 ? (unsigned int)ret : 4;
	ret = ioctl(kvm->dev_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPU_ID);
	kvm->max_vcpu_id = ret > 0 ? (unsigned int)ret : kvm->max_vcpus;
	kvm->tsc_deadline = ioctl(kvm->dev_fd, KVM_CHECK_EXTENSION,
				  KVM_CAP_TSC_DEADLINE_TIMER) > 0;
	kvm_host_cpuid(kvm);
	ret = ioctl(kvm->dev_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
	kvm->nr_slots = ret > 0 && ret < KVM_MAX_SLOTS ? (unsigned int)ret : KVM_MAX_SLOTS;
	kvm->vcpu_mmap_size = ioctl(kvm->dev_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (kvm->vcpu_mmap_size <= 0) {
		pr_err("KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
		return -EIO;
	}
	return 0;
}

static int kvm_routes_init(struct kvm *kvm);

static int kvm_get_supported_cpuid(struct kvm *kvm)
{
	/* Grow the buffer until KVM stops saying E2BIG. */
	for (unsigned int n = 128; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));

		if (!c)
			return -ENOMEM;
		c->nent = n;
		if (ioctl(kvm->dev_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			kvm->supported_cpuid = c;
			return 0;
		}
		free(c);
		if (errno != E2BIG) {
			pr_err("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
			return -errno;
		}
	}
	return -E2BIG;
}

/* The MSR index list: KVM says how many with E2BIG, then fills them. */
static int kvm_get_msr_list(struct kvm *kvm)
{
	struct kvm_msr_list probe = { .nmsrs = 0 };
	struct kvm_msr_list *list;

	if (ioctl(kvm->dev_fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG)
		return -errno;
	list = calloc(1, sizeof(*list) + probe.nmsrs * sizeof(list->indices[0]));
	if (!list)
		return -ENOMEM;
	list->nmsrs = probe.nmsrs;
	if (ioctl(kvm->dev_fd, KVM_GET_MSR_INDEX_LIST, list) < 0) {
		free(list);
		return -errno;
	}
	kvm->msr_list = list;
	return 0;
}

/*
 * A freshly created irqchip and PIT are in their reset state (8259A ICW
 * not yet written, every IOAPIC redirection entry masked, the PIT
 * counters idle): keep a copy for kvm_reset_irqchip().
 */
static int kvm_save_reset_state(struct kvm *kvm)
{
	static const unsigned int ids[3] = {
		KVM_IRQCHIP_PIC_MASTER, KVM_IRQCHIP_PIC_SLAVE, KVM_IRQCHIP_IOAPIC,
	};
	int ret;

	for (unsigned int i = 0; i < 3; i++) {
		kvm->reset_chip[i].chip_id = ids[i];
		if (ioctl(kvm->vm_fd, KVM_GET_IRQCHIP, &kvm->reset_chip[i]) < 0) {
			pr_err("KVM_GET_IRQCHIP %u: %s", ids[i], strerror(errno));
			return -errno;
		}
	}
	if (ioctl(kvm->vm_fd, KVM_GET_PIT2, &kvm->reset_pit) < 0) {
		pr_err("KVM_GET_PIT2: %s", strerror(errno));
		return -errno;
	}
	ret = kvm_get_msr_list(kvm);
	if (ret)
		pr_err("KVM_GET_MSR_INDEX_LIST: %s", strerror(-ret));
	return ret;
}

int kvm_reset_irqchip(struct kvm *kvm)
{
	for (unsigned int i = 0; i < 3; i++)
		if (ioctl(kvm->vm_fd, KVM_SET_IRQCHIP, &kvm->reset_chip[i]) < 0)
			return -errno;
	if (ioctl(kvm->vm_fd, KVM_SET_PIT2, &kvm->reset_pit) < 0)
		return -errno;
	return 0;
}

/* Optional: without them --stats and the control socket's stats show
 * minivmm's own counters only. */
static void kvm_open_stats(struct kvm *kvm)
{
	int ret;

	kvm->has_stats = ioctl(kvm->dev_fd, KVM_CHECK_EXTENSION, KVM_CAP_BINARY_STATS_FD) > 0;
	if (!kvm->has_stats) {
		pr_debug("KVM has no binary statistics (KVM_CAP_BINARY_STATS_FD, Linux 5.14+): --stats shows minivmm's counters only");
		return;
	}
	ret = kvm_stats_get(&kvm->stats, kvm->vm_fd);
	if (ret) {
		pr_debug("KVM_GET_STATS_FD on the VM: %s: --stats shows minivmm's counters only",
			 strerror(-ret));
		kvm->has_stats = false;
	}
}

int kvm_init(struct kvm *kvm, const char *kvm_path)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t ident = LAYOUT_KVM_IDENTITY_MAP;
	int ret;

	memset(kvm, 0, sizeof(*kvm));
	kvm->vm_fd = kvm->vfio_dev_fd = -1;
	pthread_mutex_init(&kvm->slot_lock, NULL);
	pthread_mutex_init(&kvm->route_lock, NULL);
	pthread_mutex_init(&kvm->irq_lock, NULL);
	ret = kvm_open(kvm, kvm_path);
	if (ret)
		goto close_dev;
	ret = kvm_get_supported_cpuid(kvm);
	if (ret)
		goto close_dev;

	kvm->vm_fd = ioctl(kvm->dev_fd, KVM_CREATE_VM, 0);
	if (kvm->vm_fd < 0) {
		ret = -errno;
		pr_err("KVM_CREATE_VM: %s (is another hypervisor, e.g. VirtualBox, holding the CPU's virtualization extensions?)",
		       strerror(errno));
		goto free_cpuid;
	}
	/*
	 * Intel VMX needs a TSS and an identity-mapped page table page for
	 * real-mode guests; harmless on AMD. Both live just below the
	 * firmware window, where no RAM or device is.
	 */
	if (ioctl(kvm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &ident) < 0 ||
	    ioctl(kvm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)LAYOUT_KVM_TSS) < 0) {
		ret = -errno;
		pr_err("KVM_SET_TSS_ADDR: %s", strerror(errno));
		goto close_vm;
	}
	/* PIC + IOAPIC + per-vCPU LAPIC in the kernel, with default GSI
	 * routes (GSI n = IOAPIC pin n, 0-15 also to the PIC). */
	if (ioctl(kvm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		ret = -errno;
		pr_err("KVM_CREATE_IRQCHIP: %s", strerror(errno));
		goto close_vm;
	}
	/* The i8254 PIT in the kernel; port 0x61 too (dummy speaker). */
	if (ioctl(kvm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		ret = -errno;
		pr_err("KVM_CREATE_PIT2: %s", strerror(errno));
		goto close_vm;
	}
	ret = kvm_save_reset_state(kvm);
	if (ret)
		goto close_vm;
	ret = kvm_routes_init(kvm);
	if (ret)
		goto free_routes;
	kvm_open_stats(kvm);
	return 0;

free_routes:
	free(kvm->routes);
	kvm->routes = NULL;
	free(kvm->msr_list);
	kvm->msr_list = NULL;

close_vm:
	close(kvm->vm_fd);
	kvm->vm_fd = -1;
free_cpuid:
	free(kvm->supported_cpuid);
	kvm->supported_cpuid = NULL;
close_dev:
	if (kvm->dev_fd >= 0)
		close(kvm->dev_fd);
	kvm->dev_fd = -1;
	return ret;
}

void kvm_exit(struct kvm *kvm)
{
	kvm_stats_close(&kvm->stats);
	kvm->has_stats = false;
	if (kvm->vfio_dev_fd >= 0)
		close(kvm->vfio_dev_fd);
	kvm->vfio_dev_fd = -1;
	free(kvm->routes);
	kvm->routes = NULL;
	free(kvm->msr_list);
	kvm->msr_list = NULL;
	kvm->nr_routes = kvm->route_cap = 0;
	if (kvm->vm_fd >= 0)
		close(kvm->vm_fd);
	if (kvm->dev_fd >= 0)
		close(kvm->dev_fd);
	free(kvm->supported_cpuid);
	kvm->supported_cpuid = NULL;
	kvm->vm_fd = kvm->dev_fd = -1;
}

int kvm_add_memslot(struct kvm *kvm, uint64_t gpa, uint64_t size, void *hva,
		    unsigned int flags, int *slot)
{
	struct kvm_userspace_memory_region r = {
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};
	int ret = -ENOSPC;

	if (flags & VM_MEMSLOT_READONLY)
		r.flags |= KVM_MEM_READONLY;
	if (flags & VM_MEMSLOT_LOG_DIRTY)
		r.flags |= KVM_MEM_LOG_DIRTY_PAGES;

	pthread_mutex_lock(&kvm->slot_lock);
	for (unsigned int i = 0; i < kvm->nr_slots; i++) {
		if (kvm->slot_used[i / 64] & (1ULL << (i % 64)))
			continue;
		r.slot = i;
		if (ioctl(kvm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
			ret = -errno;
			pr_err("KVM_SET_USER_MEMORY_REGION [%#llx, +%#llx): %s",
			       (unsigned long long)gpa, (unsigned long long)size,
			       strerror(errno));
			break;
		}
		kvm->slot_used[i / 64] |= 1ULL << (i % 64);
		*slot = (int)i;
		ret = 0;
		break;
	}
	pthread_mutex_unlock(&kvm->slot_lock);
	return ret;
}

int kvm_remove_memslot(struct kvm *kvm, int slot)
{
	struct kvm_userspace_memory_region r = { .slot = (uint32_t)slot };
	int ret = 0;

	if (slot < 0 || (unsigned int)slot >= kvm->nr_slots)
		return -EINVAL;
	pthread_mutex_lock(&kvm->slot_lock);
	/* A zero-sized region deletes the slot. */
	if (ioctl(kvm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		ret = -errno;
	else
		kvm->slot_used[slot / 64] &= ~(1ULL << (slot % 64));
	pthread_mutex_unlock(&kvm->slot_lock);
	return ret;
}

static int ops_set_irq_line(void *vm, unsigned int gsi, int level)
{
	struct kvm *kvm = vm;
	struct kvm_irq_level irq = { .irq = gsi, .level = (uint32_t)!!level };
	int ret = 0;

	if (level)
		__atomic_add_fetch(&kvm->irq_line_raises, 1, __ATOMIC_RELAXED);
	if (gsi >= KVM_WIRED_GSIS)
		return ioctl(kvm->vm_fd, KVM_IRQ_LINE, &irq) < 0 ? -errno : 0;
	/* The ioctl under the lock: two sources' transitions reach KVM in
	 * the order their counts changed. */
	pthread_mutex_lock(&kvm->irq_lock);
	if (irq_wired_or(&kvm->gsi_sources[gsi], level) &&
	    ioctl(kvm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		ret = -errno;
	pthread_mutex_unlock(&kvm->irq_lock);
	return ret;
}

static int ops_signal_msi(void *vm, uint64_t addr, uint32_t data)
{
	struct kvm *kvm = vm;
	struct kvm_msi msi = {
		.address_lo = (uint32_t)addr,
		.address_hi = (uint32_t)(addr >> 32),
		.data = data,
	};

	__atomic_add_fetch(&kvm->msis_signalled, 1, __ATOMIC_RELAXED);
	/* Returns >0 delivered, 0 blocked by the guest: both fine. */
	return ioctl(kvm->vm_fd, KVM_SIGNAL_MSI, &msi) < 0 ? -errno : 0;
}

static int ops_add_memslot(void *vm, uint64_t gpa, uint64_t size, void *hva,
			   unsigned int flags, int *slot)
{
	return kvm_add_memslot(vm, gpa, size, hva, flags, slot);
}

static int ops_remove_memslot(void *vm, int slot)
{
	return kvm_remove_memslot(vm, slot);
}

static int kvm_ioeventfd(struct kvm *kvm, uint64_t addr, unsigned int len,
			 uint64_t datamatch, unsigned int flags, int fd, bool deassign)
{
	struct kvm_ioeventfd io = {
		.datamatch = datamatch, .addr = addr, .len = len, .fd = fd,
	};

	if (flags & VM_IOEVENTFD_PIO)
		io.flags |= KVM_IOEVENTFD_FLAG_PIO;
	if (flags & VM_IOEVENTFD_DATAMATCH)
		io.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
	if (deassign)
		io.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
	return ioctl(kvm->vm_fd, KVM_IOEVENTFD, &io) < 0 ? -errno : 0;
}

static int ops_add_ioeventfd(void *vm, uint64_t addr, unsigned int len,
			     uint64_t datamatch, unsigned int flags, int fd)
{
	return kvm_ioeventfd(vm, addr, len, datamatch, flags, fd, false);
}

static int ops_remove_ioeventfd(void *vm, uint64_t addr, unsigned int len,
				uint64_t datamatch, unsigned int flags, int fd)
{
	return kvm_ioeventfd(vm, addr, len, datamatch, flags, fd, true);
}

static int ops_add_irqfd(void *vm, unsigned int gsi, int fd, int resample_fd)
{
	struct kvm *kvm = vm;
	struct kvm_irqfd irqfd = { .fd = (uint32_t)fd, .gsi = gsi };

	if (resample_fd >= 0) {
		irqfd.flags = KVM_IRQFD_FLAG_RESAMPLE;
		irqfd.resamplefd = (uint32_t)resample_fd;
	}
	return ioctl(kvm->vm_fd, KVM_IRQFD, &irqfd) < 0 ? -errno : 0;
}

static int ops_remove_irqfd(void *vm, unsigned int gsi, int fd)
{
	struct kvm *kvm = vm;
	struct kvm_irqfd irqfd = {
		.fd = (uint32_t)fd, .gsi = gsi, .flags = KVM_IRQFD_FLAG_DEASSIGN,
	};

	return ioctl(kvm->vm_fd, KVM_IRQFD, &irqfd) < 0 ? -errno : 0;
}

/*
 * KVM_SET_GSI_ROUTING replaces the whole table, so we keep it. The irqchip
 * part is a PC's, as the MADT describes it (and as QEMU sets it up): ISA
 * IRQ n -> PIC pin n and IOAPIC pin n, except that IRQ 0 (the in-kernel
 * PIT) reaches IOAPIC pin 2 — the MADT's interrupt source override
 * IRQ0 -> GSI2 that every PC firmware and OS expects — and GSI 2 (the PIC
 * cascade) has no route. GSIs 16-23 are IOAPIC-only (PCI INTx). MSI
 * routes follow from GSI 24.
 */
#define KVM_IOAPIC_PINS	24

static int kvm_route_push(struct kvm *kvm, struct kvm_irq_routing_entry *e)
{
	if (kvm->nr_routes == kvm->route_cap) {
		unsigned int cap = kvm->route_cap ? kvm->route_cap * 2 : 64;
		struct kvm_irq_routing *r = realloc(kvm->routes, sizeof(*r) + cap * sizeof(r->entries[0]));

		if (!r)
			return -ENOMEM;
		kvm->routes = r;
		kvm->route_cap = cap;
	}
	kvm->routes->entries[kvm->nr_routes++] = *e;
	return 0;
}

static int kvm_route_irqchip(struct kvm *kvm, unsigned int gsi, unsigned int chip,
			     unsigned int pin)
{
	struct kvm_irq_routing_entry e = {
		.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
		.u.irqchip = { .irqchip = chip, .pin = pin },
	};

	return kvm_route_push(kvm, &e);
}

static int kvm_routes_commit(struct kvm *kvm);

static int kvm_routes_init(struct kvm *kvm)
{
	int ret = 0;

	for (unsigned int gsi = 0; gsi < KVM_IOAPIC_PINS && !ret; gsi++) {
		if (gsi == 2)
			continue;
		if (gsi < 16)
			ret = kvm_route_irqchip(kvm, gsi, gsi < 8 ? KVM_IRQCHIP_PIC_MASTER :
						KVM_IRQCHIP_PIC_SLAVE, gsi % 8);
		if (!ret)
			ret = kvm_route_irqchip(kvm, gsi, KVM_IRQCHIP_IOAPIC, gsi ? gsi : 2);
	}
	kvm->next_msi_gsi = KVM_IOAPIC_PINS;
	return ret ? ret : kvm_routes_commit(kvm);
}

static int kvm_routes_commit(struct kvm *kvm)
{
	kvm->routes->nr = kvm->nr_routes;
	kvm->routes->flags = 0;
	return ioctl(kvm->vm_fd, KVM_SET_GSI_ROUTING, kvm->routes) < 0 ? -errno : 0;
}

static struct kvm_irq_routing_entry *kvm_route_find_msi(struct kvm *kvm, unsigned int gsi)
{
	for (unsigned int i = 0; i < kvm->nr_routes; i++)
		if (kvm->routes->entries[i].gsi == gsi &&
		    kvm->routes->entries[i].type == KVM_IRQ_ROUTING_MSI)
			return &kvm->routes->entries[i];
	return NULL;
}

static int ops_add_msi_route(void *vm, uint64_t addr, uint32_t data, unsigned int *gsi)
{
	struct kvm *kvm = vm;
	struct kvm_irq_routing_entry e = {
		.type = KVM_IRQ_ROUTING_MSI,
		.u.msi = { .address_lo = (uint32_t)addr, .address_hi = (uint32_t)(addr >> 32),
			   .data = data },
	};
	int ret;

	pthread_mutex_lock(&kvm->route_lock);
	/* Reuse a freed GSI before growing the table. */
	e.gsi = kvm->next_msi_gsi;
	for (unsigned int g = KVM_IOAPIC_PINS; g < kvm->next_msi_gsi; g++) {
		bool used = false;

		for (unsigned int i = 0; i < kvm->nr_routes && !used; i++)
			used = kvm->routes->entries[i].gsi == g;
		if (!used) {
			e.gsi = g;
			break;
		}
	}
	ret = kvm_route_push(kvm, &e);
	if (!ret) {
		ret = kvm_routes_commit(kvm);
		if (ret)
			kvm->nr_routes--;
	}
	if (!ret) {
		if (e.gsi == kvm->next_msi_gsi)
			kvm->next_msi_gsi++;
		*gsi = e.gsi;
	}
	pthread_mutex_unlock(&kvm->route_lock);
	return ret;
}

static int ops_update_msi_route(void *vm, unsigned int gsi, uint64_t addr, uint32_t data)
{
	struct kvm *kvm = vm;
	struct kvm_irq_routing_entry *e, old;
	int ret = -ENOENT;

	pthread_mutex_lock(&kvm->route_lock);
	e = kvm_route_find_msi(kvm, gsi);
	if (e) {
		old = *e;
		e->u.msi.address_lo = (uint32_t)addr;
		e->u.msi.address_hi = (uint32_t)(addr >> 32);
		e->u.msi.data = data;
		ret = kvm_routes_commit(kvm);
		if (ret)
			*e = old;
	}
	pthread_mutex_unlock(&kvm->route_lock);
	return ret;
}

static int ops_remove_msi_route(void *vm, unsigned int gsi)
{
	struct kvm *kvm = vm;
	struct kvm_irq_routing_entry *e;
	int ret = -ENOENT;

	pthread_mutex_lock(&kvm->route_lock);
	e = kvm_route_find_msi(kvm, gsi);
	if (e) {
		*e = kvm->routes->entries[--kvm->nr_routes];
		ret = kvm_routes_commit(kvm);
	}
	pthread_mutex_unlock(&kvm->route_lock);
	return ret;
}

static int kvm_vfio_group(struct kvm *kvm, int group_fd, bool add)
{
	int32_t fd = group_fd;
	struct kvm_device_attr attr = {
		.group = KVM_DEV_VFIO_GROUP,
		.attr = add ? KVM_DEV_VFIO_GROUP_ADD : KVM_DEV_VFIO_GROUP_DEL,
		.addr = (uintptr_t)&fd,
	};

	if (kvm->vfio_dev_fd < 0) {
		struct kvm_create_device cd = { .type = KVM_DEV_TYPE_VFIO };

		if (!add)
			return -ENODEV;
		if (ioctl(kvm->vm_fd, KVM_CREATE_DEVICE, &cd) < 0)
			return -errno;
		kvm->vfio_dev_fd = (int)cd.fd;
	}
	return ioctl(kvm->vfio_dev_fd, KVM_SET_DEVICE_ATTR, &attr) < 0 ? -errno : 0;
}

static int ops_vfio_group_add(void *vm, int group_fd)
{
	return kvm_vfio_group(vm, group_fd, true);
}

static int ops_vfio_group_del(void *vm, int group_fd)
{
	return kvm_vfio_group(vm, group_fd, false);
}

static void ops_request_stop(void *vm, enum vm_stop_reason reason, int code)
{
	struct kvm *kvm = vm;

	if (kvm->stop)
		kvm->stop(kvm->stop_opaque, reason, code);
}

void kvm_vm_ops(struct kvm *kvm, struct vm_ops *ops)
{
	*ops = (struct vm_ops){
		.vm = kvm,
		.set_irq_line = ops_set_irq_line,
		.signal_msi = ops_signal_msi,
		.add_memslot = ops_add_memslot,
		.remove_memslot = ops_remove_memslot,
		.add_ioeventfd = ops_add_ioeventfd,
		.remove_ioeventfd = ops_remove_ioeventfd,
		.add_irqfd = ops_add_irqfd,
		.remove_irqfd = ops_remove_irqfd,
		.add_msi_route = ops_add_msi_route,
		.update_msi_route = ops_update_msi_route,
		.remove_msi_route = ops_remove_msi_route,
		.vfio_group_add = ops_vfio_group_add,
		.vfio_group_del = ops_vfio_group_del,
		.request_stop = ops_request_stop,
	};
}
