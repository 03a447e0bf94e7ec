/* SPDX-License-Identifier: MIT */
/*
 * Host preparation: `minivmm check`, `groups`, `bind` and `unbind`.
 *
 * Everything reads the host through struct host_env (lib/host_env.h), whose
 * roots default to /sys, /proc and /dev, so the unit tests run the same
 * code on fake trees (tests/unit/fakesys) and the nested test on a real /sys.
 */
#ifndef MINIVMM_HOST_H
#define MINIVMM_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "lib/host_env.h"

/* CLI entry points, called by vmm/main.c with argv[0] == the command name. */
int host_check_main(int argc, char **argv);   /* minivmm check ...   argv[0] == "check" */
int host_groups_main(int argc, char **argv);  /* minivmm groups ...  */
int host_bind_main(int argc, char **argv);    /* minivmm bind BDF... */
int host_unbind_main(int argc, char **argv);  /* minivmm unbind BDF... */

/* Process exit statuses of the entry points. */
enum { HOST_EXIT_OK = 0, HOST_EXIT_FAIL = 1, HOST_EXIT_USAGE = 2 };


/*
 * Common options: --sysfs DIR, --procfs DIR, --devfs DIR. Returns 1 when
 * opt (a getopt_long value from HOST_ENV_LONGOPTS) was one of them, else 0.
 */
enum { HOST_OPT_SYSFS = 0x100, HOST_OPT_PROCFS, HOST_OPT_DEVFS, HOST_OPT_DATADIR,
       HOST_OPT_STATE, HOST_OPT_FORCE, HOST_OPT_GPU, HOST_OPT_VFIO,
       HOST_OPT_MEMORY, HOST_OPT_HUGEPAGES, HOST_OPT_OVMF, HOST_OPT_HELP,
       HOST_OPT_USER };
#define HOST_ENV_LONGOPTS                                              \
	{ "sysfs", 1, NULL, HOST_OPT_SYSFS },                          \
	{ "procfs", 1, NULL, HOST_OPT_PROCFS },                        \
	{ "devfs", 1, NULL, HOST_OPT_DEVFS },                          \
	{ "help", 0, NULL, HOST_OPT_HELP }
int host_env_option(struct host_env *env, int opt, const char *arg);

/* --- Report: one "OK/WARN/FAIL what" line per finding, fixes below -------- */
enum host_verdict { HOST_OK, HOST_WARN, HOST_FAIL };

struct host_report {
	FILE *out;
	unsigned n_ok, n_warn, n_fail;
};

void host_report_init(struct host_report *r, FILE *out);
void host_report(struct host_report *r, enum host_verdict v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "     fix: ..." under the last line; one call per line of the fix. */
void host_fix(struct host_report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* An indented detail line (group members, explanations). */
void host_note(struct host_report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* --- check ---------------------------------------------------------------- */
struct host_check_opts {
	const char *const *gpus;	/* --gpu BDF, as typed */
	size_t n_gpus;
	const char *const *vfio;	/* --vfio BDF, as typed */
	size_t n_vfio;
	uint64_t memory;		/* guest RAM in bytes; 0: not given */
	uint64_t hugepage;		/* 2M or 1G in bytes; 0: no hugepages */
	const char *ovmf;		/* --ovmf FILE; NULL: look in datadir */
	const char *user;		/* --user NAME: what NAME needs without root;
					 * NULL: this process's user (not root) */
};

/* Runs every check below; the VM can start when r->n_fail == 0. */
void host_check(const struct host_env *env, const struct host_check_opts *o,
		struct host_report *r);

void host_check_cpu(const struct host_env *env, struct host_report *r);
void host_check_kvm(const struct host_env *env, struct host_report *r);
void host_check_iommu(const struct host_env *env, struct host_report *r);
void host_check_irq_remap(const struct host_env *env, struct host_report *r);
void host_check_cmdline(const struct host_env *env, struct host_report *r);
void host_check_vfio_modules(const struct host_env *env, struct host_report *r);
/* One named device (BDF, or a slot meaning all its functions). */
void host_check_device(const struct host_env *env, const char *arg, bool gpu,
		       struct host_report *r);
void host_check_hugepages(const struct host_env *env, uint64_t memory,
			  uint64_t hugepage, struct host_report *r);
void host_check_memlock(const struct host_env *env, uint64_t memory,
			struct host_report *r);
void host_check_ovmf(const struct host_env *env, const char *file,
		     struct host_report *r);
/* What a user other than root needs to run minivmm (host/check_user.c). */
void host_check_user(const struct host_env *env, const struct host_check_opts *o,
		     struct host_report *r);
/* Whether uid, in groups, may open a node with this stat read-write. */
struct stat;
bool host_user_may_rw(const struct stat *st, uid_t uid, const gid_t *groups, int n_groups);


/* Which IOMMU the CPU vendor implies: for the kernel parameter in fixes. */
enum host_cpu_vendor { HOST_CPU_OTHER, HOST_CPU_INTEL, HOST_CPU_AMD };
enum host_cpu_vendor host_cpu_vendor(const struct host_env *env);

/* --- groups --------------------------------------------------------------- */
/* Lists every IOMMU group and its devices on env->out. 0 or -errno
 * (-ENOENT: there are no IOMMU groups). */
int host_groups_list(const struct host_env *env);

/* --- bind / unbind -------------------------------------------------------- */
/*
 * Binds each named device and every other function of its IOMMU group
 * to vfio-pci, or restores the drivers recorded by bind. 0 or -errno;
 * on failure nothing is left half-done (what was changed is rolled back).
 */
int host_bind(const struct host_env *env, const char *const *args, size_t n,
	      bool force);
int host_unbind(const struct host_env *env, const char *const *args, size_t n);

#endif
