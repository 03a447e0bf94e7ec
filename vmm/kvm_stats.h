/* SPDX-License-Identifier: MIT */
/*
 * KVM's binary statistics (KVM_GET_STATS_FD, Linux 5.14+; the kernel's
 * Documentation/virt/kvm/api.rst, "KVM_GET_STATS_FD"): a read-only fd per
 * VM and per vCPU holding a header, one descriptor per statistic (name,
 * type, unit, exponent, number of u64 items) and the current values. The
 * descriptors are read once; the values on every kvm_stats_read().
 */
#ifndef MINIVMM_KVM_STATS_H
#define MINIVMM_KVM_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/json.h"

#define KVM_STATS_MAX_NAME	256	/* a name_size past this is refused */
#define KVM_STATS_MAX_DESC	4096
#define KVM_STATS_MAX_ITEMS	65536	/* u64 values in all, histograms counted */

struct kvm_stat {
	char *name;
	uint32_t flags;		/* KVM_STATS_TYPE_*, _UNIT_*, _BASE_* */
	int16_t exponent;
	uint16_t size;		/* u64 items: 1, or a histogram's buckets */
	uint32_t offset;	/* bytes into the data block */
	uint32_t bucket_size;	/* linear histograms */
	uint64_t *val;		/* size items, filled by kvm_stats_read() */
};

/* Zeroed: not open (nr == 0, fd unused). */
struct kvm_stats {
	int fd;
	unsigned int nr;
	struct kvm_stat *stat;
	uint32_t data_offset;
	size_t data_len;	/* bytes of the data block read */
	uint64_t *data;
	char *names;
};

/* KVM_GET_STATS_FD on a VM or vCPU fd, then kvm_stats_parse(). */
int kvm_stats_get(struct kvm_stats *s, int kvm_fd);
/* Parse the header and descriptors from fd, which s then owns (closed by
 * kvm_stats_close(), also on failure). -EINVAL: a malformed file. */
int kvm_stats_parse(struct kvm_stats *s, int fd);
/* Read the current values (pread at the data offset). */
int kvm_stats_read(struct kvm_stats *s);
void kvm_stats_close(struct kvm_stats *s);
static inline bool kvm_stats_open(const struct kvm_stats *s)
{
	return s->nr > 0;
}

const struct kvm_stat *kvm_stats_find(const struct kvm_stats *s, const char *name);
static inline unsigned int kvm_stat_type(const struct kvm_stat *st)
{
	return st->flags & 0xF;		/* KVM_STATS_TYPE_MASK */
}
bool kvm_stat_is_hist(const struct kvm_stat *st);
/* "ns", "us", "B", "cycles"... or "" for a plain count. */
const char *kvm_stat_unit(const struct kvm_stat *st, char *buf, size_t len);

/*
 * Several vCPUs' stats folded into one: counters summed, peaks the
 * largest, histograms bucket by bucket. All of them must come from the
 * same kernel (identical descriptors, as every vCPU of a VM has).
 */
struct kvm_stats_sum {
	const struct kvm_stats *layout;	/* names and types: the first one */
	uint64_t *val;			/* per stat, its items, at stat->offset/8 */
};
int kvm_stats_sum(struct kvm_stats_sum *sum, struct kvm_stats *const *each, unsigned int n);
void kvm_stats_sum_free(struct kvm_stats_sum *sum);
static inline const uint64_t *kvm_stats_sum_val(const struct kvm_stats_sum *sum,
						const struct kvm_stat *st)
{
	return sum->val + st->offset / 8;
}

/*
 * Output, for --stats and the control socket's stats reply: every
 * statistic that is not zero (a histogram: its non-empty buckets).
 * what: "vm" or "vcpu". per: each vCPU's stats for the per-vCPU column
 * of counters (NULL, or nr_per of them).
 */
void kvm_stats_print(FILE *f, const char *what, const struct kvm_stats_sum *sum,
		     struct kvm_stats *const *per, unsigned int nr_per);
void kvm_stats_json(struct json_out *o, const struct kvm_stats_sum *sum);

/*
 * The VM's stats and its vCPUs' (vcpus[0..n), summed, with a per-vCPU
 * column up to 16 vCPUs): nothing when the VM's are not open (a kernel
 * without KVM_CAP_BINARY_STATS_FD). JSON: the member "kvm",
 * {"vm":{...},"vcpu":{...},"per_vcpu":[{non-zero counters},...]}.
 */
void kvm_stats_print_all(FILE *f, struct kvm_stats *vm, struct kvm_stats *const *vcpus,
			 unsigned int n);
void kvm_stats_json_all(struct json_out *o, struct kvm_stats *vm, struct kvm_stats *const *vcpus,
			unsigned int n);

#endif
