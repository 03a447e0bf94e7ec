// SPDX-License-Identifier: MIT
/*
 * --fw-cfg: the user's own named fw_cfg files (QEMU's -fw_cfg; qemu/docs/
 * specs/fw_cfg.rst "Externally Provided Items"). A string is served
 * without its NUL, as QEMU does, which is how OVMF's
 * QemuFwCfgSimpleParserLib reads e.g. opt/ovmf/X-PciMmio64Mb; a file is
 * read whole, once, when the VM is built.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "firmware/fw_cfg.h"
#include "lib/log.h"

static int read_whole(const char *path, uint8_t **out, size_t *len)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t done = 0;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		pr_err("--fw-cfg file=%s: %s (give a readable file)", path, strerror(errno));
		return ret;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		pr_err("--fw-cfg file=%s: not a regular file (give a file's path)", path);
		goto close_fd;
	}
	if ((uint64_t)st.st_size > FW_CFG_OPT_MAX) {
		ret = -EFBIG;
		pr_err("--fw-cfg file=%s: %" PRIu64 " bytes, more than the %u MiB minivmm serves",
		       path, (uint64_t)st.st_size, FW_CFG_OPT_MAX >> 20);
		goto close_fd;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		ret = -ENOMEM;
		goto close_fd;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);

		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			pr_err("--fw-cfg file=%s: read failed: %s", path, strerror(-ret));
			goto free_buf;
		}
		done += (size_t)n;
	}
	close(fd);
	*out = buf;
	*len = done;
	return 0;

free_buf:
	free(buf);
close_fd:
	close(fd);
	return ret;
}

int fw_cfg_add_opt(struct fw_cfg *fw, const char *name, const char *value, bool is_string)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int ret;

	if (strncmp(name, "opt/", 4)) {
		pr_err("--fw-cfg name=%s: the name must start with opt/", name);
		return -EINVAL;
	}
	if (is_string) {
		ret = fw_cfg_add_file(fw, name, value, strlen(value));
	} else {
		ret = read_whole(value, &data, &len);
		if (ret)
			return ret;	/* said why */
		ret = fw_cfg_add_file(fw, name, data, len);
		free(data);
	}
	if (ret == -EEXIST)
		pr_err("--fw-cfg name=%s: the firmware already has a file of that name (give each name once)",
		       name);
	else if (ret == -ENAMETOOLONG)
		pr_err("--fw-cfg name=%s: longer than %d characters", name, FW_CFG_MAX_FILE_PATH - 1);
	else if (ret)
		pr_err("--fw-cfg name=%s: %s", name, strerror(-ret));
	return ret;
}
