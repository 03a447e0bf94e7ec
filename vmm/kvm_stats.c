// SPDX-License-Identifier: MIT
/*
 * KVM's binary statistics reader. The file layout (Linux
 * Documentation/virt/kvm/api.rst, "KVM_GET_STATS_FD"): struct
 * kvm_stats_header at offset 0; num_desc descriptors at desc_offset, each
 * sizeof(struct kvm_stats_desc) + name_size bytes with the NUL-terminated
 * name last; the id string at id_offset; the values, u64 each, at
 * data_offset + desc->offset. Every offset is checked here, so a file that
 * is not what the kernel writes (the unit tests' fakes) is refused, not
 * trusted.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmm/kvm_stats.h"

static int pread_all(int fd, void *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, off + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EINVAL;	/* shorter than the header says */
		done += (size_t)n;
	}
	return 0;
}

void kvm_stats_close(struct kvm_stats *s)
{
	if (s->nr || s->stat || s->data)
		close(s->fd);
	free(s->stat);
	free(s->data);
	free(s->names);
	*s = (struct kvm_stats){ 0 };
}

static int check_desc(const struct kvm_stats_desc *d)
{
	unsigned int type = d->flags & KVM_STATS_TYPE_MASK;

	if (type > KVM_STATS_TYPE_MAX || (d->flags & KVM_STATS_UNIT_MASK) > KVM_STATS_UNIT_MAX ||
	    (d->flags & KVM_STATS_BASE_MASK) > KVM_STATS_BASE_MAX)
		return -EINVAL;
	if (d->size == 0 || d->offset % 8)
		return -EINVAL;
	/* A counter is one item; only histograms have more. */
	if (type != KVM_STATS_TYPE_LINEAR_HIST && type != KVM_STATS_TYPE_LOG_HIST && d->size != 1)
		return -EINVAL;
	if (type == KVM_STATS_TYPE_LINEAR_HIST && d->bucket_size == 0)
		return -EINVAL;
	return 0;
}

int kvm_stats_parse(struct kvm_stats *s, int fd)
{
	struct kvm_stats_header h;
	size_t desc_len, end = 0;
	char *raw = NULL;
	int ret;

	*s = (struct kvm_stats){ .fd = fd };
	ret = pread_all(fd, &h, sizeof(h), 0);
	if (ret)
		goto close_fd;
	ret = -EINVAL;
	if (h.name_size == 0 || h.name_size > KVM_STATS_MAX_NAME || h.num_desc == 0 ||
	    h.num_desc > KVM_STATS_MAX_DESC || h.desc_offset < sizeof(h) || h.data_offset < sizeof(h))
		goto close_fd;
	desc_len = sizeof(struct kvm_stats_desc) + h.name_size;
	raw = malloc(desc_len * h.num_desc);
	s->stat = calloc(h.num_desc, sizeof(*s->stat));
	s->names = malloc((size_t)h.name_size * h.num_desc);
	ret = -ENOMEM;
	if (!raw || !s->stat || !s->names)
		goto close_fd;
	ret = pread_all(fd, raw, desc_len * h.num_desc, h.desc_offset);
	if (ret)
		goto close_fd;
	for (unsigned int i = 0; i < h.num_desc; i++) {
		const char *at = raw + desc_len * i;
		struct kvm_stats_desc dd, *d = &dd;
		struct kvm_stat *st = &s->stat[i];
		char *name = s->names + (size_t)h.name_size * i;

		/* A copy: with a name_size that is not a multiple of 4 the
		 * descriptors in the file are not aligned. */
		memcpy(&dd, at, sizeof(dd));
		ret = check_desc(d);
		if (ret)
			goto close_fd;
		memcpy(name, at + sizeof(dd), h.name_size);
		if (!memchr(name, '\0', h.name_size) || !name[0]) {
			ret = -EINVAL;
			goto close_fd;
		}
		*st = (struct kvm_stat){
			.name = name, .flags = d->flags, .exponent = d->exponent,
			.size = d->size, .offset = d->offset, .bucket_size = d->bucket_size,
		};
		if ((size_t)d->offset + (size_t)d->size * 8 > end)
			end = (size_t)d->offset + (size_t)d->size * 8;
	}
	ret = -EINVAL;
	if (end / 8 > KVM_STATS_MAX_ITEMS)
		goto close_fd;
	s->data = calloc(end / 8, 8);
	ret = -ENOMEM;
	if (!s->data)
		goto close_fd;
	for (unsigned int i = 0; i < h.num_desc; i++)
		s->stat[i].val = s->data + s->stat[i].offset / 8;
	s->data_offset = h.data_offset;
	s->data_len = end;
	s->nr = h.num_desc;
	free(raw);
	/* One read now: a data block shorter than the descriptors say is
	 * refused here, not on the first --stats. */
	ret = kvm_stats_read(s);
	if (ret)
		kvm_stats_close(s);
	return ret;
close_fd:
	free(raw);
	s->nr = 1;	/* so that close() closes fd */
	kvm_stats_close(s);
	return ret;
}

int kvm_stats_get(struct kvm_stats *s, int kvm_fd)
{
	int fd = ioctl(kvm_fd, KVM_GET_STATS_FD, 0);

	*s = (struct kvm_stats){ 0 };
	if (fd < 0)
		return -errno;
	return kvm_stats_parse(s, fd);
}

int kvm_stats_read(struct kvm_stats *s)
{
	if (!kvm_stats_open(s))
		return -EBADF;
	return pread_all(s->fd, s->data, s->data_len, s->data_offset);
}

const struct kvm_stat *kvm_stats_find(const struct kvm_stats *s, const char *name)
{
	for (unsigned int i = 0; i < s->nr; i++)
		if (!strcmp(s->stat[i].name, name))
			return &s->stat[i];
	return NULL;
}

bool kvm_stat_is_hist(const struct kvm_stat *st)
{
	unsigned int type = kvm_stat_type(st);

	return type == KVM_STATS_TYPE_LINEAR_HIST || type == KVM_STATS_TYPE_LOG_HIST;
}

const char *kvm_stat_unit(const struct kvm_stat *st, char *buf, size_t len)
{
	static const char *const pow10_s[] = { [0] = "s", [3] = "ms", [6] = "us", [9] = "ns" };
	unsigned int unit = st->flags & KVM_STATS_UNIT_MASK;
	bool pow2 = (st->flags & KVM_STATS_BASE_MASK) == KVM_STATS_BASE_POW2;
	const char *base = "";

	switch (unit) {
	case KVM_STATS_UNIT_SECONDS:
		if (!pow2 && st->exponent <= 0 && st->exponent >= -9 && pow10_s[-st->exponent])
			return pow10_s[-st->exponent];
		base = "s";
		break;
	case KVM_STATS_UNIT_BYTES:
		if (pow2 && st->exponent == 0)
			return "B";
		base = "B";
		break;
	case KVM_STATS_UNIT_CYCLES:
		base = "cycles";
		break;
	default:	/* none, boolean: a plain number */
		if (st->exponent == 0)
			return "";
		break;
	}
	if (st->exponent == 0)
		return base;
	snprintf(buf, len, "%s%d%s%s", pow2 ? "2^" : "10^", st->exponent, *base ? " " : "", base);
	return buf;
}

void kvm_stats_sum_free(struct kvm_stats_sum *sum)
{
	free(sum->val);
	*sum = (struct kvm_stats_sum){ 0 };
}

/* Same statistics at the same offsets: what every vCPU of one VM has. */
static bool same_layout(const struct kvm_stats *a, const struct kvm_stats *b)
{
	if (a->nr != b->nr || a->data_len != b->data_len)
		return false;
	for (unsigned int i = 0; i < a->nr; i++)
		if (a->stat[i].offset != b->stat[i].offset || a->stat[i].size != b->stat[i].size ||
		    a->stat[i].flags != b->stat[i].flags)
			return false;
	return true;
}

int kvm_stats_sum(struct kvm_stats_sum *sum, struct kvm_stats *const *each, unsigned int n)
{
	*sum = (struct kvm_stats_sum){ 0 };
	if (n == 0 || !kvm_stats_open(each[0]))
		return -ENOENT;
	for (unsigned int v = 1; v < n; v++)
		if (!same_layout(each[0], each[v]))
			return -EINVAL;
	sum->layout = each[0];
	sum->val = calloc(each[0]->data_len / 8, 8);
	if (!sum->val)
		return -ENOMEM;
	for (unsigned int v = 0; v < n; v++) {
		const struct kvm_stats *s = each[v];

		if (kvm_stats_read(each[v]))
			continue;	/* a vCPU gone meanwhile: the others still count */
		for (unsigned int i = 0; i < s->nr; i++) {
			const struct kvm_stat *st = &s->stat[i];
			uint64_t *dst = sum->val + st->offset / 8;

			for (unsigned int k = 0; k < st->size; k++) {
				if (kvm_stat_type(st) == KVM_STATS_TYPE_PEAK)
					dst[k] = dst[k] > st->val[k] ? dst[k] : st->val[k];
				else
					dst[k] += st->val[k];
			}
		}
	}
	return 0;
}

static bool all_zero(const uint64_t *v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (v[i])
			return false;
	return true;
}

/* Bucket k's range: log2 histograms count value 0 in bucket 0 and
 * [2^(k-1), 2^k) in bucket k (the kernel's fls64()); linear ones
 * [k*size, (k+1)*size). The last bucket holds everything above. */
static void bucket_range(const struct kvm_stat *st, unsigned int k, char *buf, size_t len)
{
	bool last = k + 1u == st->size;

	if (kvm_stat_type(st) == KVM_STATS_TYPE_LOG_HIST) {
		if (k == 0)
			snprintf(buf, len, "0");
		else if (last || k >= 64)
			snprintf(buf, len, ">=%" PRIu64, (uint64_t)1 << (k - 1 < 63 ? k - 1 : 63));
		else
			snprintf(buf, len, "%" PRIu64 "-%" PRIu64, (uint64_t)1 << (k - 1),
				 ((uint64_t)1 << k) - 1);
	} else {
		uint64_t lo = (uint64_t)k * st->bucket_size;

		if (last)
			snprintf(buf, len, ">=%" PRIu64, lo);
		else
			snprintf(buf, len, "%" PRIu64 "-%" PRIu64, lo, lo + st->bucket_size - 1);
	}
}

#define KVM_STATS_PER_VCPU_MAX	16	/* a wider per-vCPU column is not printed */

void kvm_stats_print(FILE *f, const char *what, const struct kvm_stats_sum *sum,
		     struct kvm_stats *const *per, unsigned int nr_per)
{
	const struct kvm_stats *l = sum->layout;
	char ubuf[32], rbuf[48];

	for (unsigned int i = 0; l && i < l->nr; i++) {
		const struct kvm_stat *st = &l->stat[i];
		const uint64_t *v = kvm_stats_sum_val(sum, st);
		const char *unit = kvm_stat_unit(st, ubuf, sizeof(ubuf));

		if (all_zero(v, st->size))
			continue;
		if (kvm_stat_is_hist(st)) {
			fprintf(f, "stats: kvm %s %s (%s%s):", what, st->name, *unit ? unit : "count",
				kvm_stat_type(st) == KVM_STATS_TYPE_LOG_HIST ? ", log2 buckets" : "");
			for (unsigned int k = 0; k < st->size; k++) {
				if (!v[k])
					continue;
				bucket_range(st, k, rbuf, sizeof(rbuf));
				fprintf(f, " %s:%" PRIu64, rbuf, v[k]);
			}
			fputc('\n', f);
			continue;
		}
		fprintf(f, "stats: kvm %s %s %" PRIu64 "%s%s", what, st->name, v[0], *unit ? " " : "", unit);
		if (per && nr_per > 1 && nr_per <= KVM_STATS_PER_VCPU_MAX) {
			fprintf(f, " (per vCPU:");
			for (unsigned int c = 0; c < nr_per; c++)
				fprintf(f, " %" PRIu64, kvm_stats_open(per[c]) ? per[c]->data[st->offset / 8] : 0);
			fputc(')', f);
		}
		fputc('\n', f);
	}
}

void kvm_stats_json(struct json_out *o, const struct kvm_stats_sum *sum)
{
	const struct kvm_stats *l = sum->layout;
	char ubuf[32];

	json_out_open(o, '{');
	for (unsigned int i = 0; l && i < l->nr; i++) {
		const struct kvm_stat *st = &l->stat[i];
		const uint64_t *v = kvm_stats_sum_val(sum, st);
		unsigned int n = st->size;

		json_out_key(o, st->name);
		if (!kvm_stat_is_hist(st)) {
			json_out_u64(o, v[0]);
			continue;
		}
		/* {"unit":"ns","log2":[...]} or {"unit":..,"bucket":N,"linear":[...]},
		 * trailing empty buckets left out. */
		while (n > 0 && !v[n - 1])
			n--;
		json_out_open(o, '{');
		json_out_key(o, "unit");
		json_out_string(o, kvm_stat_unit(st, ubuf, sizeof(ubuf)));
		if (kvm_stat_type(st) == KVM_STATS_TYPE_LINEAR_HIST) {
			json_out_key(o, "bucket");
			json_out_u64(o, st->bucket_size);
			json_out_key(o, "linear");
		} else {
			json_out_key(o, "log2");
		}
		json_out_open(o, '[');
		for (unsigned int k = 0; k < n; k++)
			json_out_u64(o, v[k]);
		json_out_close(o, ']');
		json_out_close(o, '}');
	}
	json_out_close(o, '}');
}

void kvm_stats_print_all(FILE *f, struct kvm_stats *vm, struct kvm_stats *const *vcpus,
			 unsigned int n)
{
	struct kvm_stats_sum sum;

	if (!kvm_stats_open(vm))
		return;
	if (!kvm_stats_sum(&sum, &vm, 1)) {
		kvm_stats_print(f, "vm", &sum, NULL, 0);
		kvm_stats_sum_free(&sum);
	}
	if (!kvm_stats_sum(&sum, vcpus, n)) {
		kvm_stats_print(f, "vcpu", &sum, vcpus, n);
		kvm_stats_sum_free(&sum);
	}
}

void kvm_stats_json_all(struct json_out *o, struct kvm_stats *vm, struct kvm_stats *const *vcpus,
			unsigned int n)
{
	struct kvm_stats_sum sum;

	if (!kvm_stats_open(vm))
		return;
	json_out_key(o, "kvm");
	json_out_open(o, '{');
	if (!kvm_stats_sum(&sum, &vm, 1)) {
		json_out_key(o, "vm");
		kvm_stats_json(o, &sum);
		kvm_stats_sum_free(&sum);
	}
	if (!kvm_stats_sum(&sum, vcpus, n)) {
		json_out_key(o, "vcpu");
		kvm_stats_json(o, &sum);
		kvm_stats_sum_free(&sum);
		/* kvm_stats_sum() just read every vCPU's values. */
		if (n <= KVM_STATS_PER_VCPU_MAX) {
			json_out_key(o, "per_vcpu");
			json_out_open(o, '[');
			for (unsigned int c = 0; c < n; c++) {
				json_out_open(o, '{');
				for (unsigned int i = 0; i < vcpus[c]->nr; i++) {
					const struct kvm_stat *st = &vcpus[c]->stat[i];

					if (kvm_stat_is_hist(st) || !st->val[0])
						continue;
					json_out_key(o, st->name);
					json_out_u64(o, st->val[0]);
				}
				json_out_close(o, '}');
			}
			json_out_close(o, ']');
		}
	}
	json_out_close(o, '}');
}
