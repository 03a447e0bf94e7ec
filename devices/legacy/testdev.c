// SPDX-License-Identifier: MIT
/*
 * Test device: QEMU's pc-testdev (hw/misc/pc-testdev.c) and isa-debug-exit
 * (hw/misc/debugexit.c) behaviour, which guest test payloads are written
 * against.
 *
 * One difference from isa-debug-exit on purpose: QEMU exits with status
 * (v << 1) | 1, so that a guest can never fake a clean exit; minivmm
 * reports VM_STOP_TESTDEV with code v & 0xff and its exit status is v
 * (README.md, Command line), which is what our payloads check. With
 * testdev_configure(qemu_exit) it is QEMU's encoding, for runners
 * written against QEMU (--testdev exit=qemu).
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "devices/legacy/testdev.h"

#define TESTDEV_PORT_LEN	4

struct testdev {
	struct device dev;
	pthread_mutex_t lock;
	const struct vm_ops *ops;
	uint32_t scratch;		/* the 0xE0 / 0xE8 register */
	uint8_t mem[LAYOUT_TESTDEV_MMIO_SIZE];	/* the MMIO scratch window */
	uint32_t irq_raised;		/* IRQ-port lines this device asserts */
	const struct guest_mem *ram;	/* for the flush-page port; NULL: ignored */
	bool qemu_exit;			/* exit status (v << 1) | 1 */
	struct bus *pio, *mmio;
	bool attached;
};

/*
 * The scratch register behaves like a little-endian dword whose bytes are
 * addressed individually: an access of len bytes at offset touches lanes
 * offset .. offset+len-1, as pc-testdev's mask-and-shift does. The bus
 * guarantees offset + len <= 4; lanes past 3 are still ignored defensively.
 */
static void testdev_scratch_read(void *opaque, uint64_t offset, void *data,
				 unsigned int len)
{
	struct testdev *td = opaque;
	uint8_t *out = data;
	uint32_t v;

	pthread_mutex_lock(&td->lock);
	v = td->scratch;
	pthread_mutex_unlock(&td->lock);
	for (unsigned int i = 0; i < len; i++) {
		uint64_t lane = offset + i;

		out[i] = lane < TESTDEV_PORT_LEN ? (uint8_t)(v >> (8 * lane)) : 0xff;
	}
}

static void testdev_scratch_write(void *opaque, uint64_t offset,
				  const void *data, unsigned int len)
{
	struct testdev *td = opaque;
	const uint8_t *in = data;

	pthread_mutex_lock(&td->lock);
	for (unsigned int i = 0; i < len; i++) {
		uint64_t lane = offset + i;

		if (lane >= TESTDEV_PORT_LEN)
			break;
		td->scratch &= ~(0xffu << (8 * lane));
		td->scratch |= (uint32_t)in[i] << (8 * lane);
	}
	pthread_mutex_unlock(&td->lock);
}

static const struct bus_dev_ops testdev_scratch_ops = {
	.read = testdev_scratch_read,
	.write = testdev_scratch_write,
};

/*
 * pc-testdev's "flush page": the guest writes a guest-physical address,
 * and the page holding it is mprotect()ed to PROT_NONE and back, as QEMU
 * does. Each mprotect() changes the protection of the host mapping, which
 * runs the kernel's MMU notifiers (invalidate_range_start): KVM drops its
 * stage-2 (EPT/NPT) entries for that page, so the guest's next access to
 * it faults into KVM, which maps it again. That is what tests of KVM's MMU
 * (kvm-unit-tests) use it for. An address outside guest RAM is ignored,
 * and so is a page of a hugetlb mapping (mprotect() of 4 KiB inside a
 * huge page fails: the mapping stays as it was).
 */
static void testdev_flush_read(void *opaque, uint64_t offset, void *data,
			       unsigned int len)
{
	memset(data, 0, len);
}

static void testdev_flush_write(void *opaque, uint64_t offset,
				const void *data, unsigned int len)
{
	struct testdev *td = opaque;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t gpa = bus_data_get(data, len) & ~(page - 1);
	void *hva;

	if (offset || !td->ram || guest_mem_ptr(td->ram, gpa, page, &hva))
		return;
	if (!mprotect(hva, page, PROT_NONE))
		mprotect(hva, page, PROT_READ | PROT_WRITE);
}

static const struct bus_dev_ops testdev_flush_ops = {
	.read = testdev_flush_read,
	.write = testdev_flush_write,
};

/*
 * pc-testdev's IRQ ports: a write at LAYOUT_TESTDEV_IRQ_PORT + n drives GSI n
 * (ISA IRQ n at the PIC and IOAPIC pin n for n < 16, IOAPIC pin n above)
 * high for a non-zero value and low for zero, until written again. Only
 * transitions reach set_irq_line, where the VM ORs this device's level
 * with every other source of that GSI (devices/irq.h, irq_wired_or), so
 * a test raising the UART's line does not lower it for the UART. Reads
 * return 0. A wider access at n drives line n alone.
 */
static void testdev_irq_read(void *opaque, uint64_t offset, void *data,
			     unsigned int len)
{
	memset(data, 0, len);
}

static void testdev_irq_write(void *opaque, uint64_t offset, const void *data,
			      unsigned int len)
{
	struct testdev *td = opaque;
	bool level = bus_data_get(data, len) != 0;
	uint32_t bit;

	if (offset >= TESTDEV_NR_IRQ)
		return;
	bit = 1u << offset;
	pthread_mutex_lock(&td->lock);
	if (level != !!(td->irq_raised & bit)) {
		td->irq_raised ^= bit;
		td->ops->set_irq_line(td->ops->vm, (unsigned int)offset, level);
	}
	pthread_mutex_unlock(&td->lock);
}

static const struct bus_dev_ops testdev_irq_ops = {
	.read = testdev_irq_read,
	.write = testdev_irq_write,
};

/* isa-debug-exit: any write at any width ends the run; reads return 0. */
static void testdev_exit_read(void *opaque, uint64_t offset, void *data,
			      unsigned int len)
{
	memset(data, 0, len);
}

static void testdev_exit_write(void *opaque, uint64_t offset,
			       const void *data, unsigned int len)
{
	struct testdev *td = opaque;
	uint64_t v = bus_data_get(data, len);

	/* QEMU's status is 8 bits of (v << 1) | 1, as exit() keeps them. */
	td->ops->request_stop(td->ops->vm, VM_STOP_TESTDEV,
			      td->qemu_exit ? (int)(((v << 1) | 1) & 0xff) : (int)(v & 0xff));
}

static const struct bus_dev_ops testdev_exit_ops = {
	.read = testdev_exit_read,
	.write = testdev_exit_write,
};

/*
 * The MMIO window is plain memory. The bus never passes an access that
 * runs past the range, but offset and len come from the guest, so check
 * again instead of trusting every future caller.
 */
static bool testdev_mem_ok(uint64_t offset, unsigned int len)
{
	return len <= 8 && len <= LAYOUT_TESTDEV_MMIO_SIZE &&
	       offset <= LAYOUT_TESTDEV_MMIO_SIZE - len;
}

static void testdev_mem_read(void *opaque, uint64_t offset, void *data,
			     unsigned int len)
{
	struct testdev *td = opaque;

	if (!testdev_mem_ok(offset, len)) {
		memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&td->lock);
	memcpy(data, &td->mem[offset], len);
	pthread_mutex_unlock(&td->lock);
}

static void testdev_mem_write(void *opaque, uint64_t offset, const void *data,
			      unsigned int len)
{
	struct testdev *td = opaque;

	if (!testdev_mem_ok(offset, len))
		return;
	pthread_mutex_lock(&td->lock);
	memcpy(&td->mem[offset], data, len);
	pthread_mutex_unlock(&td->lock);
}

static const struct bus_dev_ops testdev_mem_ops = {
	.read = testdev_mem_read,
	.write = testdev_mem_write,
};

static void testdev_dev_reset(struct device *dev)
{
	struct testdev *td = container_of(dev, struct testdev, dev);

	pthread_mutex_lock(&td->lock);
	td->scratch = 0;
	memset(td->mem, 0, sizeof(td->mem));
	/* Every line it raised goes low (one transition each). */
	for (unsigned int n = 0; n < TESTDEV_NR_IRQ; n++)
		if (td->irq_raised & (1u << n))
			td->ops->set_irq_line(td->ops->vm, n, 0);
	td->irq_raised = 0;
	pthread_mutex_unlock(&td->lock);
}

static void testdev_dev_destroy(struct device *dev)
{
	testdev_destroy(container_of(dev, struct testdev, dev));
}

static const struct device_ops testdev_device_ops = {
	.reset = testdev_dev_reset,
	.destroy = testdev_dev_destroy,
};

struct testdev *testdev_create(const struct vm_ops *ops)
{
	struct testdev *td;
	int ret;

	if (!ops || !ops->request_stop || !ops->set_irq_line) {
		errno = EINVAL;
		return NULL;
	}
	td = calloc(1, sizeof(*td));
	if (!td)
		return NULL;
	ret = pthread_mutex_init(&td->lock, NULL);
	if (ret)
		goto free_td;
	td->ops = ops;
	device_register(ops, &td->dev, "testdev", &testdev_device_ops);
	return td;

free_td:
	free(td);
	errno = ret;
	return NULL;
}

void testdev_configure(struct testdev *td, const struct guest_mem *mem, bool qemu_exit)
{
	td->ram = mem;
	td->qemu_exit = qemu_exit;
}

int testdev_attach(struct testdev *td, struct bus *pio, struct bus *mmio)
{
	int ret;

	if (td->attached)
		return -EBUSY;
	ret = bus_register(pio, LAYOUT_TESTDEV_SCRATCH_PORT, TESTDEV_PORT_LEN,
			   &testdev_scratch_ops, td, "pc-testdev");
	if (ret)
		return ret;
	ret = bus_register(pio, LAYOUT_TESTDEV_FLUSH_PORT, TESTDEV_PORT_LEN,
			   &testdev_flush_ops, td, "pc-testdev-flush-page");
	if (ret)
		goto unregister_scratch;
	ret = bus_register(pio, LAYOUT_TESTDEV_BYTES_PORT, TESTDEV_PORT_LEN,
			   &testdev_scratch_ops, td, "pc-testdev-byte");
	if (ret)
		goto unregister_flush;
	ret = bus_register(pio, LAYOUT_TESTDEV_EXIT_PORT, TESTDEV_PORT_LEN,
			   &testdev_exit_ops, td, "isa-debug-exit");
	if (ret)
		goto unregister_bytes;
	ret = bus_register(pio, LAYOUT_TESTDEV_IRQ_PORT, TESTDEV_NR_IRQ,
			   &testdev_irq_ops, td, "pc-testdev-irq");
	if (ret)
		goto unregister_exit;
	ret = bus_register(mmio, LAYOUT_TESTDEV_MMIO_BASE, LAYOUT_TESTDEV_MMIO_SIZE,
			   &testdev_mem_ops, td, "pc-testdev-mem");
	if (ret)
		goto unregister_irq;
	td->pio = pio;
	td->mmio = mmio;
	td->attached = true;
	return 0;

unregister_irq:
	bus_unregister(pio, LAYOUT_TESTDEV_IRQ_PORT);
unregister_exit:
	bus_unregister(pio, LAYOUT_TESTDEV_EXIT_PORT);
unregister_bytes:
	bus_unregister(pio, LAYOUT_TESTDEV_BYTES_PORT);
unregister_flush:
	bus_unregister(pio, LAYOUT_TESTDEV_FLUSH_PORT);
unregister_scratch:
	bus_unregister(pio, LAYOUT_TESTDEV_SCRATCH_PORT);
	return ret;
}

void testdev_destroy(struct testdev *td)
{
	if (!td)
		return;
	device_unregister(&td->dev);
	if (td->attached) {
		bus_unregister(td->mmio, LAYOUT_TESTDEV_MMIO_BASE);
		bus_unregister(td->pio, LAYOUT_TESTDEV_IRQ_PORT);
		bus_unregister(td->pio, LAYOUT_TESTDEV_EXIT_PORT);
		bus_unregister(td->pio, LAYOUT_TESTDEV_BYTES_PORT);
		bus_unregister(td->pio, LAYOUT_TESTDEV_FLUSH_PORT);
		bus_unregister(td->pio, LAYOUT_TESTDEV_SCRATCH_PORT);
	}
	pthread_mutex_destroy(&td->lock);
	free(td);
}
