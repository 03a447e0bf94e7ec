// SPDX-License-Identifier: MIT
/*
 * kvm_floor — the floor for the exit round-trip rows of `make bench`: the
 * least a VMM can do per exit. One VM, one vCPU, RAM and the payload image
 * (tests/guest/README.md "platform contract": at 4 GiB - 64 KiB and at
 * 0xF0000), and a KVM_RUN loop that answers the payload's ports and MMIO
 * scratch and re-enters at once: no device model, no locks, no statistics.
 *
 *   kvm_floor IMAGE      runs tests/guest/bench.bin; COM1 output to stdout,
 *                        the exit status is the payload's verdict
 *
 * Not part of minivmm (only vmm/ issues KVM ioctls there): a measuring stick
 * built by tests/bench/floor.sh and run next to minivmm in L1.
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define IMAGE_SIZE	0x10000u
#define LOW_RAM		0xF0000u		/* RAM below the image's 1 MiB alias */
#define SCRATCH_MMIO	0xFF000000u
#define SCRATCH_PORT	0xE0
#define EXIT_PORT	0xF4
#define COM1		0x3F8

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void slot(int vm, uint32_t n, uint64_t gpa, uint64_t size, void *host)
{
	struct kvm_userspace_memory_region r = {
		.slot = n, .guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = (uintptr_t)host,
	};

	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		die("KVM_SET_USER_MEMORY_REGION");
}

int main(int argc, char **argv)
{
	static uint8_t scratch[0x10000];
	static uint32_t port_scratch;
	struct kvm_cpuid2 *cpuid = calloc(1, sizeof(*cpuid) + 256 * sizeof(cpuid->entries[0]));
	struct kvm_run *run;
	uint8_t *ram, *image;
	int kvm, vm, vcpu, fd;
	long run_size;

	if (argc != 2) {
		fprintf(stderr, "usage: kvm_floor IMAGE (a 64 KiB payload, e.g. tests/guest/bench.bin)\n");
		return 2;
	}
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("/dev/kvm");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("KVM_CREATE_VM");
	ram = mmap(NULL, LOW_RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	image = mmap(NULL, IMAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fd = open(argv[1], O_RDONLY);
	if (ram == MAP_FAILED || image == MAP_FAILED || fd < 0 ||
	    read(fd, image, IMAGE_SIZE) != IMAGE_SIZE)
		die(argv[1]);
	close(fd);
	slot(vm, 0, 0, LOW_RAM, ram);
	slot(vm, 1, 0x100000 - IMAGE_SIZE, IMAGE_SIZE, image);
	slot(vm, 2, 0x100000000ull - IMAGE_SIZE, IMAGE_SIZE, image);
	/* As minivmm: the in-kernel LAPIC/IOAPIC (an exit costs what it costs
	 * with them), and the TSS page VMX wants below 4 GiB. */
	if (ioctl(vm, KVM_SET_TSS_ADDR, 0xFFFBD000ul) < 0 || ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0)
		die("KVM_SET_TSS_ADDR/KVM_CREATE_IRQCHIP");
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		die("KVM_CREATE_VCPU");
	/* Long mode needs CPUID's LM bit (KVM refuses EFER.LME without it). */
	if (!cpuid)
		die("calloc");
	cpuid->nent = 256;
	if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid) < 0 || ioctl(vcpu, KVM_SET_CPUID2, cpuid) < 0)
		die("CPUID");
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		die("mmap kvm_run");
	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0)
			die("KVM_RUN");
		if (run->exit_reason == KVM_EXIT_IO) {
			uint8_t *d = (uint8_t *)run + run->io.data_offset;
			uint32_t v = 0;

			/* Only single, 1/2/4-byte accesses: the payload uses nothing else. */
			if (run->io.direction == KVM_EXIT_IO_OUT)
				memcpy(&v, d, run->io.size);
			if (run->io.port == SCRATCH_PORT && run->io.direction == KVM_EXIT_IO_OUT)
				port_scratch = v;
			else if (run->io.port == SCRATCH_PORT)
				memcpy(d, &port_scratch, run->io.size);
			else if (run->io.port == COM1 && run->io.direction == KVM_EXIT_IO_OUT)
				putchar((int)v);
			else if (run->io.port == COM1 + 5)
				*d = 0x60;		/* LSR: THR and transmitter empty */
			else if (run->io.port == EXIT_PORT)
				return fflush(stdout), (int)v;
			else if (run->io.direction == KVM_EXIT_IO_IN)
				memset(d, 0xFF, run->io.size);
		} else if (run->exit_reason == KVM_EXIT_MMIO) {
			uint64_t off = run->mmio.phys_addr - SCRATCH_MMIO;

			if (run->mmio.phys_addr < SCRATCH_MMIO || off + run->mmio.len > sizeof(scratch))
				memset(run->mmio.data, 0xFF, run->mmio.is_write ? 0 : run->mmio.len);
			else if (run->mmio.is_write)
				memcpy(scratch + off, run->mmio.data, run->mmio.len);
			else
				memcpy(run->mmio.data, scratch + off, run->mmio.len);
		} else if (run->exit_reason != KVM_EXIT_INTR) {
			fprintf(stderr, "kvm_floor: exit reason %u\n", run->exit_reason);
			return 1;
		}
	}
}
