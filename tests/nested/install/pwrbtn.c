// SPDX-License-Identifier: MIT
/*
 * pwrbtn: wait for the ACPI power button in the Linux guest of the nested
 * install test (tests/nested/cases/48-install.sh). Linux's ACPI "button"
 * driver turns the fixed-feature power button event (PM1 PWRBTN_STS, the
 * SCI minivmm raises on SIGTERM or `minivmm ctl PATH powerdown`, QEMU on
 * system_powerdown) into KEY_POWER on an input device; evdev makes it
 * /dev/input/eventN. (busybox acpid reads those too, but opens them once at
 * its start, before the button driver may have bound, and says nothing about
 * when it listens; the guest must not say READY before.) Built static on L0
 * by tests/nested/install/images.sh.
 *
 *   pwrbtn READY-FILE
 *
 * Waits (up to 30 s) for an input device that has KEY_POWER, opens every such
 * device, creates READY-FILE (the guest's /init says READY only then, so a
 * press cannot come before anyone listens), and exits 0 at the first press.
 * Status 1 when no device shows up or on an error, each with a line on stderr.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define MAX_DEVS	16
#define BITS_PER_LONG	(8 * sizeof(long))

static int has_key_power(int fd)
{
	unsigned long keys[KEY_MAX / BITS_PER_LONG + 1] = { 0 };

	if (ioctl(fd, EVIOCGBIT(EV_KEY, sizeof(keys)), keys) < 0)
		return 0;
	return !!(keys[KEY_POWER / BITS_PER_LONG] & (1UL << (KEY_POWER % BITS_PER_LONG)));
}

/* Open every /dev/input/event* that can report KEY_POWER; their count. */
static int open_power_buttons(struct pollfd *p)
{
	char path[300], name[128];
	struct dirent *e;
	int n = 0, fd;
	DIR *d = opendir("/dev/input");

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < MAX_DEVS) {
		if (strncmp(e->d_name, "event", 5))
			continue;
		snprintf(path, sizeof(path), "/dev/input/%s", e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (!has_key_power(fd)) {
			close(fd);
			continue;
		}
		if (ioctl(fd, EVIOCGNAME(sizeof(name)), name) < 0)
			strcpy(name, "?");
		printf("MINIVMM-GUEST: power button: listening on %s (%s)\n", path, name);
		p[n].fd = fd;
		p[n++].events = POLLIN;
	}
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	struct pollfd p[MAX_DEVS];
	struct input_event ev;
	int n = 0, fd;

	if (argc != 2) {
		fprintf(stderr, "usage: pwrbtn READY-FILE\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* The button driver binds asynchronously after its insmod. */
	for (int i = 0; i < 300 && !(n = open_power_buttons(p)); i++)
		usleep(100000);
	if (!n) {
		fprintf(stderr, "pwrbtn: no input device reports KEY_POWER (button and evdev loaded?)\n");
		return 1;
	}
	fd = open(argv[1], O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "pwrbtn: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	close(fd);
	for (;;) {
		if (poll(p, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "pwrbtn: poll: %s\n", strerror(errno));
			return 1;
		}
		for (int i = 0; i < n; i++) {
			if (!(p[i].revents & POLLIN))
				continue;
			if (read(p[i].fd, &ev, sizeof(ev)) != (ssize_t)sizeof(ev))
				continue;
			if (ev.type == EV_KEY && ev.code == KEY_POWER && ev.value == 1)
				return 0;
		}
	}
}
