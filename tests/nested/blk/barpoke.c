// SPDX-License-Identifier: MIT
/*
 * barpoke: write a string into a PCI BAR through its sysfs resource file
 * (mmap, as a user-space driver does) and read it back, for the Linux guest
 * of the nested BAR test (tests/nested/cases/54-bar64.sh). Built static on
 * L0 by tests/nested/blk/images.sh.
 *
 *   barpoke /sys/bus/pci/devices/BDF/resourceN OFFSET STRING
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	uint64_t off, page;
	size_t len;
	char *p;
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: barpoke RESOURCE-FILE OFFSET STRING\n");
		return 2;
	}
	off = strtoull(argv[2], NULL, 0);
	len = strlen(argv[3]);
	page = off & ~(uint64_t)4095;
	fd = open(argv[1], O_RDWR | O_SYNC);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)page);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	if (off - page + len > 4096) {
		fprintf(stderr, "barpoke: the string crosses a page\n");
		return 2;
	}
	memcpy(p + (off - page), argv[3], len);
	msync(p, 4096, MS_SYNC);
	if (memcmp(p + (off - page), argv[3], len)) {
		fprintf(stderr, "barpoke: read back differs at %#llx\n", (unsigned long long)off);
		return 1;
	}
	printf("barpoke: %s at %#llx, read back\n", argv[3], (unsigned long long)off);
	return 0;
}
