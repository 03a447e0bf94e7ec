// SPDX-License-Identifier: MIT
/*
 * mmiojump: make the guest fetch instructions from MMIO, for the "crash"
 * end of the nested teardown test (tests/nested/cases/45-teardown.sh).
 * KVM fetches instructions only from memory slots: on a fetch from an
 * address with no slot, its emulator fails. At CPL 0 that ends KVM_RUN
 * with KVM_EXIT_INTERNAL_ERROR (minivmm: the guest crashed, status 4); at
 * CPL 3 KVM injects #UD instead, so that no guest process can take the VM
 * down (x86.c handle_emulation_failure; the process dies of SIGILL).
 * Built static on L0 by tests/nested/blk/images.sh; only for that guest:
 * `panic` crashes the kernel it runs on.
 *
 *   mmiojump user ADDR    map /dev/mem at ADDR with PROT_READ|PROT_EXEC and
 *                         call it (CPL 3)
 *   mmiojump panic ADDR   load a crash kernel (kexec_load, KEXEC_ON_CRASH;
 *                         needs crashkernel= on the command line) that only
 *                         jumps to ADDR, then panic (sysrq c): the kernel
 *                         enters it at CPL 0 with an identity map of RAM and
 *                         low memory, after stopping the other CPUs but with
 *                         no device shut down, as a real crash would
 */
#include <fcntl.h>
#include <linux/kexec.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

static int user_jump(uint64_t addr)
{
	void (*fn)(void);
	void *p;
	int fd;

	fd = open("/dev/mem", O_RDONLY | O_SYNC);
	if (fd < 0) {
		perror("/dev/mem");
		return 1;
	}
	p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_SHARED, fd, (off_t)addr);
	if (p == MAP_FAILED) {
		perror("mmap /dev/mem");
		return 1;
	}
	printf("mmiojump: calling %#llx at CPL 3\n", (unsigned long long)addr);
	fflush(stdout);
	fn = (void (*)(void))p;
	fn();
	printf("mmiojump: returned from %#llx\n", (unsigned long long)addr);
	return 1;
}

/* The crash kernel region, from /proc/iomem (root sees the addresses). */
static int crash_region(uint64_t *start)
{
	char line[256];
	FILE *f = fopen("/proc/iomem", "r");
	unsigned long long a, b;
	int ret = -1;

	if (!f) {
		perror("/proc/iomem");
		return -1;
	}
	while (ret && fgets(line, sizeof(line), f))
		if (strstr(line, ": Crash kernel") && sscanf(line, " %llx-%llx", &a, &b) == 2) {
			*start = a;
			ret = 0;
		}
	fclose(f);
	if (ret)
		fprintf(stderr, "mmiojump: no crash kernel region (crashkernel= on the command line?)\n");
	return ret;
}

static int panic_jump(uint64_t addr)
{
	static uint8_t page[4096] __attribute__((aligned(4096)));
	struct kexec_segment seg = { .buf = page, .bufsz = sizeof(page), .memsz = sizeof(page) };
	uint64_t base;
	int fd;

	if (crash_region(&base))
		return 1;
	/* movabs $addr, %rax; jmp *%rax */
	page[0] = 0x48;
	page[1] = 0xb8;
	memcpy(&page[2], &addr, sizeof(addr));
	page[10] = 0xff;
	page[11] = 0xe0;
	seg.mem = (void *)(uintptr_t)base;
	if (syscall(SYS_kexec_load, (unsigned long)base, 1UL, &seg,
		    (unsigned long)(KEXEC_ON_CRASH | KEXEC_ARCH_DEFAULT)) < 0) {
		perror("kexec_load");
		return 1;
	}
	printf("mmiojump: crash kernel at %#llx jumps to %#llx; panic\n",
	       (unsigned long long)base, (unsigned long long)addr);
	fflush(stdout);
	tcdrain(STDOUT_FILENO);		/* out of the UART before the panic's lines */
	fd = open("/proc/sysrq-trigger", O_WRONLY);
	if (fd < 0 || write(fd, "c", 1) != 1)
		perror("/proc/sysrq-trigger");
	return 1;
}

int main(int argc, char **argv)
{
	uint64_t addr;

	if (argc != 3 || (strcmp(argv[1], "user") && strcmp(argv[1], "panic"))) {
		fprintf(stderr, "usage: mmiojump user|panic ADDR\n");
		return 2;
	}
	addr = strtoull(argv[2], NULL, 0);
	return strcmp(argv[1], "user") ? panic_jump(addr) : user_jump(addr);
}
