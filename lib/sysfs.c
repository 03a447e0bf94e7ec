// SPDX-License-Identifier: MIT
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/sysfs.h"

int host_path(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

int host_mkdir_p(const char *path, unsigned int parent_mode, unsigned int mode)
{
	char tmp[HOST_PATH_MAX];
	int ret;

	ret = host_path(tmp, sizeof(tmp), "%s", path);
	if (ret)
		return ret;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, parent_mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int host_read_str(const char *path, char *buf, size_t len)
{
	ssize_t n;
	size_t used = 0;
	int fd;

	if (len == 0)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* sysfs hands an attribute out in one read; /proc files may need more. */
	while (used < len - 1) {
		n = read(fd, buf + used, len - 1 - used);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = -errno;
			close(fd);
			return (int)n;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	close(fd);
	buf[used] = '\0';
	while (used > 0 && (buf[used - 1] == '\n' || buf[used - 1] == ' ' ||
			    buf[used - 1] == '\t' || buf[used - 1] == '\r'))
		buf[--used] = '\0';
	return 0;
}

int host_read_ulong(const char *path, unsigned long *val, int base)
{
	char buf[64], *end;
	unsigned long v;
	int ret;

	ret = host_read_str(path, buf, sizeof(buf));
	if (ret)
		return ret;
	errno = 0;
	v = strtoul(buf, &end, base);
	if (errno || end == buf || (*end && *end != '\n' && *end != ' '))
		return -EINVAL;
	*val = v;
	return 0;
}

int host_write_str(const struct host_env *env, const char *path, const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd, ret = 0;

	/*
	 * No O_CREAT: every file written here is a kernel attribute, and a
	 * missing one means the kernel lacks the feature; creating a plain
	 * file would hide that.
	 */
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* sysfs takes an attribute in one write(); a short one is an error. */
	n = write(fd, val, len);
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != len)
		ret = -EIO;
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && env && env->sysfs_written)
		ret = env->sysfs_written(env, path, val);
	return ret;
}

int host_link_name(const char *path, char *buf, size_t len)
{
	char target[HOST_PATH_MAX];
	const char *base;
	ssize_t n;

	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= len)
		return -ENAMETOOLONG;
	strcpy(buf, base);
	return 0;
}

int host_copy(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (n >= len) {
		if (len)
			dst[0] = '\0';
		return -ENAMETOOLONG;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

bool host_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

bool host_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int host_list_dir(const char *path, char ***names, size_t *n)
{
	char **list = NULL, **grown;
	size_t count = 0, cap = 0;
	struct dirent *de;
	DIR *dir;
	int ret = 0;

	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (count == cap) {
			cap = cap ? cap * 2 : 16;
			grown = realloc(list, cap * sizeof(*list));
			if (!grown) {
				ret = -ENOMEM;
				goto free_list;
			}
			list = grown;
		}
		list[count] = strdup(de->d_name);
		if (!list[count]) {
			ret = -ENOMEM;
			goto free_list;
		}
		count++;
	}
	closedir(dir);
	if (count)
		qsort(list, count, sizeof(*list), cmp_str);
	*names = list;
	*n = count;
	return 0;

free_list:
	host_free_list(list, count);
	closedir(dir);
	return ret;
}

void host_free_list(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

void host_sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}
