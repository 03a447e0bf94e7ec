// SPDX-License-Identifier: MIT
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/fake_vm.h"

static int fake_set_irq_line(void *vm, unsigned int gsi, int level)
{
	struct fake_vm *f = vm;

	if (gsi >= FAKE_VM_MAX_GSI)
		return -EINVAL;
	if (level && !f->irq_level[gsi])
		f->irq_raises[gsi]++;
	f->irq_level[gsi] = !!level;
	return 0;
}

static int fake_signal_msi(void *vm, uint64_t addr, uint32_t data)
{
	struct fake_vm *f = vm;

	if (f->nr_msi < FAKE_VM_MAX_MSI) {
		f->msi[f->nr_msi].addr = addr;
		f->msi[f->nr_msi].data = data;
	}
	f->nr_msi++;
	return 0;
}

static int fake_add_memslot(void *vm, uint64_t gpa, uint64_t size, void *hva,
			    unsigned int flags, int *slot)
{
	struct fake_vm *f = vm;

	for (int i = 0; i < FAKE_VM_MAX_SLOTS; i++) {
		if (f->slots[i].used)
			continue;
		f->slots[i] = (struct fake_memslot){ 1, gpa, size, hva, flags };
		*slot = i;
		return 0;
	}
	return -ENOSPC;
}

static int fake_remove_memslot(void *vm, int slot)
{
	struct fake_vm *f = vm;

	if (slot < 0 || slot >= FAKE_VM_MAX_SLOTS || !f->slots[slot].used)
		return -ENOENT;
	f->slots[slot].used = 0;
	return 0;
}

static int fake_add_ioeventfd(void *vm, uint64_t addr, unsigned int len,
			      uint64_t datamatch, unsigned int flags, int fd)
{
	((struct fake_vm *)vm)->nr_ioeventfds++;
	return 0;
}

static int fake_remove_ioeventfd(void *vm, uint64_t addr, unsigned int len,
				 uint64_t datamatch, unsigned int flags, int fd)
{
	((struct fake_vm *)vm)->nr_ioeventfds--;
	return 0;
}

static int fake_add_irqfd(void *vm, unsigned int gsi, int fd, int resample_fd)
{
	struct fake_vm *f = vm;

	for (unsigned int i = 0; i < FAKE_VM_MAX_IRQFDS; i++) {
		if (f->irqfds[i].used)
			continue;
		f->irqfds[i].used = 1;
		f->irqfds[i].gsi = gsi;
		f->irqfds[i].fd = fd;
		f->irqfds[i].resample_fd = resample_fd;
		break;
	}
	f->nr_irqfds++;
	/* KVM polls the eventfd when it assigns an irqfd and injects what is
	 * already signalled (virt/kvm/eventfd.c): consume it likewise. */
	{
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t n;

		if (poll(&p, 1, 0) == 1 && (p.revents & POLLIN) && read(fd, &n, sizeof(n)) == sizeof(n))
			f->irqfd_injected++;
	}
	return 0;
}

static int fake_remove_irqfd(void *vm, unsigned int gsi, int fd)
{
	struct fake_vm *f = vm;

	/* KVM: -ENOENT for an fd that is not assigned to gsi (deassign). */
	for (unsigned int i = 0; i < FAKE_VM_MAX_IRQFDS; i++) {
		if (f->irqfds[i].used && f->irqfds[i].gsi == gsi && f->irqfds[i].fd == fd) {
			f->irqfds[i].used = 0;
			f->nr_irqfds--;
			return 0;
		}
	}
	return -ENOENT;
}

static int fake_add_msi_route(void *vm, uint64_t addr, uint32_t data, unsigned int *gsi)
{
	struct fake_vm *f = vm;

	for (unsigned int i = 0; i < FAKE_VM_MAX_ROUTES; i++) {
		if (f->routes[i].used)
			continue;
		f->routes[i].used = 1;
		f->routes[i].addr = addr;
		f->routes[i].data = data;
		*gsi = FAKE_VM_FIRST_MSI_GSI + i;
		return 0;
	}
	return -ENOSPC;
}

static struct fake_route *fake_route(struct fake_vm *f, unsigned int gsi)
{
	unsigned int i = gsi - FAKE_VM_FIRST_MSI_GSI;

	if (gsi < FAKE_VM_FIRST_MSI_GSI || i >= FAKE_VM_MAX_ROUTES || !f->routes[i].used)
		return NULL;
	return &f->routes[i];
}

static int fake_update_msi_route(void *vm, unsigned int gsi, uint64_t addr, uint32_t data)
{
	struct fake_route *r = fake_route(vm, gsi);

	if (!r)
		return -ENOENT;
	r->addr = addr;
	r->data = data;
	r->updates++;
	return 0;
}

static int fake_remove_msi_route(void *vm, unsigned int gsi)
{
	struct fake_route *r = fake_route(vm, gsi);

	if (!r)
		return -ENOENT;
	memset(r, 0, sizeof(*r));
	return 0;
}

static int fake_vfio_group_add(void *vm, int group_fd)
{
	((struct fake_vm *)vm)->nr_vfio_groups++;
	return 0;
}

static int fake_vfio_group_del(void *vm, int group_fd)
{
	((struct fake_vm *)vm)->nr_vfio_groups--;
	return 0;
}

static void fake_request_stop(void *vm, enum vm_stop_reason reason, int code)
{
	struct fake_vm *f = vm;

	if (!f->nr_stops++) {
		f->stop_reason = reason;
		f->stop_code = code;
	}
}

static void fake_register_device(void *vm, struct device *dev)
{
	struct fake_vm *f = vm;

	device_list_add(&f->devices, dev);
}

void fake_vm_init(struct fake_vm *f)
{
	memset(f, 0, sizeof(*f));
	f->stop_reason = VM_STOP_NONE;
	f->ops = (struct vm_ops){
		.vm = f,
		.register_device = fake_register_device,
		.set_irq_line = fake_set_irq_line,
		.signal_msi = fake_signal_msi,
		.add_memslot = fake_add_memslot,
		.remove_memslot = fake_remove_memslot,
		.add_ioeventfd = fake_add_ioeventfd,
		.remove_ioeventfd = fake_remove_ioeventfd,
		.add_irqfd = fake_add_irqfd,
		.remove_irqfd = fake_remove_irqfd,
		.add_msi_route = fake_add_msi_route,
		.update_msi_route = fake_update_msi_route,
		.remove_msi_route = fake_remove_msi_route,
		.vfio_group_add = fake_vfio_group_add,
		.vfio_group_del = fake_vfio_group_del,
		.request_stop = fake_request_stop,
	};
}
