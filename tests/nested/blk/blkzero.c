// SPDX-License-Identifier: MIT
/*
 * blkzero: BLKZEROOUT / BLKDISCARD on a block device, for the Linux guest
 * of the virtio-blk nested tests (busybox has no `blkdiscard -z`). Built
 * static on L0 by tests/nested/blk/images.sh.
 *
 *   blkzero zeroout|discard DEVICE OFFSET LENGTH
 */
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	uint64_t range[2];
	unsigned long req;
	int fd;

	if (argc != 5 || (strcmp(argv[1], "zeroout") && strcmp(argv[1], "discard"))) {
		fprintf(stderr, "usage: blkzero zeroout|discard DEVICE OFFSET LENGTH\n");
		return 2;
	}
	req = strcmp(argv[1], "zeroout") ? BLKDISCARD : BLKZEROOUT;
	range[0] = strtoull(argv[3], NULL, 0);
	range[1] = strtoull(argv[4], NULL, 0);
	fd = open(argv[2], O_RDWR);
	if (fd < 0 || ioctl(fd, req, range) < 0) {
		perror(argv[2]);
		return 1;
	}
	close(fd);
	return 0;
}
