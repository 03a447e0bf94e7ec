// SPDX-License-Identifier: MIT
/*
 * vmm/kvm_stats.c against fake stats files written in the kernel's binary
 * layout (struct kvm_stats_header, kvm_stats_desc from <linux/kvm.h>) into
 * a memfd: the descriptors parse (names, types, units, histograms), values
 * are re-read on every kvm_stats_read(), vCPUs sum (peaks take the
 * largest, histograms bucket by bucket), --stats prints the non-zero ones
 * with a per-vCPU column, the JSON has every one; malformed files (a type
 * past the last, a name without its NUL, a misaligned offset, a data block
 * shorter than the descriptors say, a huge name_size) are refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/json.h"
#include "vmm/kvm_stats.h"

#define NAME_SIZE	48
#define DESC_LEN	(sizeof(struct kvm_stats_desc) + NAME_SIZE)

struct fake_desc {
	const char *name;
	uint32_t flags;
	int16_t exponent;
	uint16_t size;
	uint32_t bucket_size;
};

/* The x86 vCPU stats a run shows most, in the kernel's flags. */
static const struct fake_desc vcpu_descs[] = {
	{ "halt_successful_poll", KVM_STATS_TYPE_CUMULATIVE, 0, 1, 0 },
	{ "halt_poll_success_ns", KVM_STATS_TYPE_CUMULATIVE | KVM_STATS_UNIT_SECONDS, -9, 1, 0 },
	{ "halt_wait_hist", KVM_STATS_TYPE_LOG_HIST | KVM_STATS_UNIT_SECONDS, -9, 32, 0 },
	{ "halt_exits", KVM_STATS_TYPE_CUMULATIVE, 0, 1, 0 },
	{ "max_mmu_page_hash", KVM_STATS_TYPE_PEAK, 0, 1, 0 },
	{ "lin_hist", KVM_STATS_TYPE_LINEAR_HIST, 0, 4, 10 },
	{ "pages_4k", KVM_STATS_TYPE_INSTANT | KVM_STATS_UNIT_BYTES | KVM_STATS_BASE_POW2, 0, 1, 0 },
};
#define NR_VCPU_DESCS	(sizeof(vcpu_descs) / sizeof(vcpu_descs[0]))
/* Items: 1+1+32+1+1+4+1 = 41 */
#define NR_ITEMS	41

struct fake_file {
	int fd;
	uint32_t data_offset;
};

/* Header, id, descriptors, data: the order the kernel writes them. */
static struct fake_file fake_stats(const struct fake_desc *d, unsigned int n, uint32_t name_size)
{
	struct kvm_stats_header h = {
		.name_size = name_size, .num_desc = n,
		.id_offset = sizeof(h),
	};
	size_t desc_len = sizeof(struct kvm_stats_desc) + name_size;
	unsigned char *buf;
	size_t len, items = 0;
	struct fake_file f;

	h.desc_offset = h.id_offset + name_size;
	h.data_offset = h.desc_offset + (uint32_t)(desc_len * n);
	for (unsigned int i = 0; i < n; i++)
		items += d[i].size;
	len = h.data_offset + items * 8;
	buf = calloc(1, len);
	assert_non_null(buf);
	memcpy(buf, &h, sizeof(h));
	snprintf((char *)buf + h.id_offset, name_size, "kvm-1234/vcpu-0");
	items = 0;
	for (unsigned int i = 0; i < n; i++) {
		unsigned char *at = buf + h.desc_offset + desc_len * i;
		struct kvm_stats_desc k = {
			.flags = d[i].flags, .exponent = d[i].exponent, .size = d[i].size,
			.offset = (uint32_t)(items * 8), .bucket_size = d[i].bucket_size,
		};

		memcpy(at, &k, sizeof(k));	/* unaligned when name_size is odd */
		strncpy((char *)at + sizeof(k), d[i].name, name_size - 1);
		items += d[i].size;
	}
	f.fd = memfd_create("kvm-stats", MFD_CLOEXEC);
	assert_true(f.fd >= 0);
	assert_int_equal(write(f.fd, buf, len), (ssize_t)len);
	f.data_offset = h.data_offset;
	free(buf);
	return f;
}

static void set_item(const struct fake_file *f, unsigned int item, uint64_t v)
{
	assert_int_equal(pwrite(f->fd, &v, 8, f->data_offset + item * 8), 8);
}

static void test_parse_and_read(void **state)
{
	struct fake_file f = fake_stats(vcpu_descs, NR_VCPU_DESCS, NAME_SIZE);
	struct kvm_stats s;
	const struct kvm_stat *st;
	char ubuf[32];

	(void)state;
	set_item(&f, 3, 7);		/* halt_wait_hist bucket 1 */
	assert_int_equal(kvm_stats_parse(&s, f.fd), 0);
	assert_int_equal(s.nr, NR_VCPU_DESCS);
	st = kvm_stats_find(&s, "halt_wait_hist");
	assert_non_null(st);
	assert_true(kvm_stat_is_hist(st));
	assert_int_equal(st->size, 32);
	assert_int_equal(st->val[1], 7);
	assert_string_equal(kvm_stat_unit(st, ubuf, sizeof(ubuf)), "ns");
	st = kvm_stats_find(&s, "pages_4k");
	assert_string_equal(kvm_stat_unit(st, ubuf, sizeof(ubuf)), "B");
	st = kvm_stats_find(&s, "halt_exits");
	assert_string_equal(kvm_stat_unit(st, ubuf, sizeof(ubuf)), "");
	assert_false(kvm_stat_is_hist(st));
	assert_int_equal(st->val[0], 0);
	assert_null(kvm_stats_find(&s, "nope"));

	/* Values are read again each time; the descriptors are not. */
	set_item(&f, 34, 99);		/* halt_exits */
	assert_int_equal(kvm_stats_read(&s), 0);
	assert_int_equal(st->val[0], 99);
	kvm_stats_close(&s);
	assert_false(kvm_stats_open(&s));
	/* the fd went with it */
	assert_int_equal(fcntl(f.fd, F_GETFD), -1);
}

static void test_sum_print_json(void **state)
{
	struct fake_file f[2] = {
		fake_stats(vcpu_descs, NR_VCPU_DESCS, NAME_SIZE),
		fake_stats(vcpu_descs, NR_VCPU_DESCS, NAME_SIZE),
	};
	struct kvm_stats s[2], vm;
	struct kvm_stats *each[2] = { &s[0], &s[1] };
	struct kvm_stats_sum sum;
	struct fake_file fvm = fake_stats(vcpu_descs, 1, NAME_SIZE);
	char *out = NULL, jbuf[8192];
	size_t out_len = 0;
	struct json_out o;
	FILE *mem;

	(void)state;
	set_item(&f[0], 0, 5);		/* halt_successful_poll */
	set_item(&f[1], 0, 6);
	set_item(&f[0], 35, 10);	/* max_mmu_page_hash: a peak */
	set_item(&f[1], 35, 3);
	set_item(&f[0], 2, 1);		/* halt_wait_hist bucket 0 (value 0) */
	set_item(&f[1], 2 + 11, 4);	/* bucket 11: 1024-2047 ns */
	set_item(&f[1], 36 + 3, 2);	/* lin_hist overflow bucket */
	set_item(&fvm, 0, 42);
	assert_int_equal(kvm_stats_parse(&s[0], f[0].fd), 0);
	assert_int_equal(kvm_stats_parse(&s[1], f[1].fd), 0);
	assert_int_equal(kvm_stats_parse(&vm, fvm.fd), 0);

	assert_int_equal(kvm_stats_sum(&sum, each, 2), 0);
	assert_int_equal(kvm_stats_sum_val(&sum, kvm_stats_find(&s[0], "halt_successful_poll"))[0], 11);
	assert_int_equal(kvm_stats_sum_val(&sum, kvm_stats_find(&s[0], "max_mmu_page_hash"))[0], 10);
	assert_int_equal(kvm_stats_sum_val(&sum, kvm_stats_find(&s[0], "halt_wait_hist"))[11], 4);
	kvm_stats_sum_free(&sum);

	mem = open_memstream(&out, &out_len);
	assert_non_null(mem);
	kvm_stats_print_all(mem, &vm, each, 2);
	fclose(mem);
	assert_non_null(strstr(out, "stats: kvm vm halt_successful_poll 42\n"));
	assert_non_null(strstr(out, "stats: kvm vcpu halt_successful_poll 11 (per vCPU: 5 6)\n"));
	assert_non_null(strstr(out, "stats: kvm vcpu halt_wait_hist (ns, log2 buckets): 0:1 1024-2047:4\n"));
	assert_non_null(strstr(out, "stats: kvm vcpu lin_hist (count): >=30:2\n"));
	assert_null(strstr(out, "halt_exits"));	/* zero: not printed */
	free(out);

	json_out_init(&o, jbuf, sizeof(jbuf));
	json_out_open(&o, '{');
	kvm_stats_json_all(&o, &vm, each, 2);
	json_out_close(&o, '}');
	assert_false(o.overflow);
	assert_non_null(strstr(jbuf, "\"vm\":{\"halt_successful_poll\":42}"));
	assert_non_null(strstr(jbuf, "\"halt_exits\":0"));
	assert_non_null(strstr(jbuf, "\"halt_wait_hist\":{\"unit\":\"ns\",\"log2\":[1,0,0,0,0,0,0,0,0,0,0,4]}"));
	assert_non_null(strstr(jbuf, "\"lin_hist\":{\"unit\":\"\",\"bucket\":10,\"linear\":[0,0,0,2]}"));
	assert_non_null(strstr(jbuf, "\"per_vcpu\":[{\"halt_successful_poll\":5,\"max_mmu_page_hash\":10},"
				     "{\"halt_successful_poll\":6,\"max_mmu_page_hash\":3}]"));
	kvm_stats_close(&s[0]);
	kvm_stats_close(&s[1]);
	kvm_stats_close(&vm);
}

/* A name_size that is not a multiple of 4: descriptors unaligned in the file. */
static void test_odd_name_size(void **state)
{
	struct fake_file f = fake_stats(vcpu_descs, NR_VCPU_DESCS, 45);
	struct kvm_stats s;

	(void)state;
	set_item(&f, 34, 3);
	assert_int_equal(kvm_stats_parse(&s, f.fd), 0);
	assert_int_equal(kvm_stats_find(&s, "halt_exits")->val[0], 3);
	assert_int_equal(kvm_stats_find(&s, "halt_wait_hist")->size, 32);
	kvm_stats_close(&s);
}

/* A kernel without KVM_CAP_BINARY_STATS_FD: nothing at all. */
static void test_not_open(void **state)
{
	struct kvm_stats vm = { 0 }, v = { 0 };
	struct kvm_stats *each[1] = { &v };
	char *out = NULL, jbuf[64];
	size_t out_len = 0;
	struct json_out o;
	FILE *mem = open_memstream(&out, &out_len);

	(void)state;
	kvm_stats_print_all(mem, &vm, each, 1);
	fclose(mem);
	assert_int_equal(out_len, 0);
	free(out);
	json_out_init(&o, jbuf, sizeof(jbuf));
	json_out_open(&o, '{');
	kvm_stats_json_all(&o, &vm, each, 1);
	json_out_close(&o, '}');
	assert_string_equal(jbuf, "{}");
	assert_int_equal(kvm_stats_read(&vm), -EBADF);
	kvm_stats_close(&vm);	/* closes nothing */
}

static void expect_refused(const struct fake_desc *d, unsigned int n, uint32_t name_size)
{
	struct fake_file f = fake_stats(d, n, name_size);
	struct kvm_stats s;

	assert_int_equal(kvm_stats_parse(&s, f.fd), -EINVAL);
	assert_false(kvm_stats_open(&s));
	assert_int_equal(fcntl(f.fd, F_GETFD), -1);
}

static void test_malformed(void **state)
{
	static const struct fake_desc bad_type[] = { { "x", 5, 0, 1, 0 } };
	static const struct fake_desc bad_unit[] = { { "x", 5 << 4, 0, 1, 0 } };
	static const struct fake_desc counter_size[] = { { "x", KVM_STATS_TYPE_CUMULATIVE, 0, 2, 0 } };
	static const struct fake_desc zero_bucket[] = { { "x", KVM_STATS_TYPE_LINEAR_HIST, 0, 4, 0 } };
	static const struct fake_desc zero_size[] = { { "x", KVM_STATS_TYPE_LOG_HIST, 0, 0, 0 } };
	static const struct fake_desc no_name[] = { { "", 0, 0, 1, 0 } };
	struct fake_file f;
	struct kvm_stats s;
	struct kvm_stats_desc d;
	uint64_t zero = 0;

	(void)state;
	expect_refused(bad_type, 1, NAME_SIZE);
	expect_refused(bad_unit, 1, NAME_SIZE);
	expect_refused(counter_size, 1, NAME_SIZE);
	expect_refused(zero_bucket, 1, NAME_SIZE);
	expect_refused(zero_size, 1, NAME_SIZE);
	expect_refused(no_name, 1, NAME_SIZE);
	expect_refused(vcpu_descs, 1, KVM_STATS_MAX_NAME + 1);
	expect_refused(vcpu_descs, 0, NAME_SIZE);

	/* A name filling name_size with no NUL. */
	f = fake_stats(vcpu_descs, 1, NAME_SIZE);
	{
		char full[NAME_SIZE];

		memset(full, 'a', sizeof(full));
		assert_int_equal(pwrite(f.fd, full, sizeof(full), sizeof(struct kvm_stats_header) +
					NAME_SIZE + offsetof(struct kvm_stats_desc, name)), NAME_SIZE);
	}
	assert_int_equal(kvm_stats_parse(&s, f.fd), -EINVAL);

	/* A misaligned offset. */
	f = fake_stats(vcpu_descs, 1, NAME_SIZE);
	assert_int_equal(pread(f.fd, &d, sizeof(d), sizeof(struct kvm_stats_header) + NAME_SIZE),
			 (ssize_t)sizeof(d));
	d.offset = 4;
	assert_int_equal(pwrite(f.fd, &d, sizeof(d), sizeof(struct kvm_stats_header) + NAME_SIZE),
			 (ssize_t)sizeof(d));
	assert_int_equal(kvm_stats_parse(&s, f.fd), -EINVAL);

	/* Data past the end of the file. */
	f = fake_stats(vcpu_descs, 1, NAME_SIZE);
	assert_int_equal(ftruncate(f.fd, f.data_offset + 4), 0);
	assert_int_equal(kvm_stats_parse(&s, f.fd), -EINVAL);

	/* A header cut short. */
	f.fd = memfd_create("short", MFD_CLOEXEC);
	assert_int_equal(write(f.fd, &zero, sizeof(zero)), 8);
	assert_int_equal(kvm_stats_parse(&s, f.fd), -EINVAL);
}

/* Two vCPUs whose descriptors differ cannot be summed. */
static void test_sum_mismatch(void **state)
{
	struct fake_file a = fake_stats(vcpu_descs, NR_VCPU_DESCS, NAME_SIZE);
	struct fake_file b = fake_stats(vcpu_descs, NR_VCPU_DESCS - 1, NAME_SIZE);
	struct kvm_stats s[2];
	struct kvm_stats *each[2] = { &s[0], &s[1] };
	struct kvm_stats_sum sum;

	(void)state;
	assert_int_equal(kvm_stats_parse(&s[0], a.fd), 0);
	assert_int_equal(kvm_stats_parse(&s[1], b.fd), 0);
	assert_int_equal(kvm_stats_sum(&sum, each, 2), -EINVAL);
	kvm_stats_close(&s[0]);
	kvm_stats_close(&s[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_and_read),
		cmocka_unit_test(test_sum_print_json),
		cmocka_unit_test(test_not_open),
		cmocka_unit_test(test_odd_name_size),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_sum_mismatch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
