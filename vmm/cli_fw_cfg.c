// SPDX-License-Identifier: MIT
/*
 * --fw-cfg name=opt/NAME,file=FILE | name=opt/NAME,string=TEXT: a named
 * fw_cfg file of the user's for the firmware (QEMU's -fw_cfg, as
 * qemu/docs/specs/fw_cfg.rst "Externally Provided Items" describes it).
 * Pure parsing; the file is read when the VM is built
 * (firmware/fw_cfg_opt.c).
 */
#include <errno.h>
#include <string.h>

#include "lib/log.h"
#include "vmm/cli.h"

static int fw_cfg_item(const char *arg, char *item, struct fw_cfg_opt_config *e)
{
	char *val = strchr(item, '=');

	if (!val) {
		pr_err("--fw-cfg %s: '%s' needs a value (write name=opt/..., file=FILE or string=TEXT)",
		       arg, item);
		return -EINVAL;
	}
	*val++ = '\0';
	if (!strcmp(item, "name")) {
		if (e->name[0]) {
			pr_err("--fw-cfg %s: name= given twice", arg);
			return -EINVAL;
		}
		/* fw_cfg.rst: a file directory entry holds 56 bytes, NUL
		 * included; names from outside QEMU start with "opt/" (QEMU
		 * warns otherwise). minivmm's own files never do, so an
		 * "opt/" name cannot shadow one of them. */
		if (strncmp(val, "opt/", 4) || !val[4]) {
			pr_err("--fw-cfg %s: name '%s' must start with opt/ (like opt/ovmf/X-PciMmio64Mb)",
			       arg, val);
			return -EINVAL;
		}
		if (strlen(val) > CLI_FW_CFG_NAME_MAX) {
			pr_err("--fw-cfg %s: name '%s' is longer than %d characters (an fw_cfg file name holds %d)",
			       arg, val, CLI_FW_CFG_NAME_MAX, CLI_FW_CFG_NAME_MAX);
			return -EINVAL;
		}
		strcpy(e->name, val);
	} else if (!strcmp(item, "file") || !strcmp(item, "string")) {
		if (e->value[0] || e->is_string) {
			pr_err("--fw-cfg %s: give one of file= and string=, once", arg);
			return -EINVAL;
		}
		if (!*val || strlen(val) >= sizeof(e->value)) {
			pr_err("--fw-cfg %s: %s= needs 1 to %zu characters", arg, item,
			       sizeof(e->value) - 1);
			return -EINVAL;
		}
		strcpy(e->value, val);
		e->is_string = item[0] == 's';
	} else {
		pr_err("--fw-cfg %s: unknown option '%s' (known: name, file, string)", arg, item);
		return -EINVAL;
	}
	return 0;
}

int cli_parse_fw_cfg(const char *arg, struct fw_cfg_opt_config *e)
{
	char item[sizeof(e->value) + 16];
	const char *p = arg;

	memset(e, 0, sizeof(*e));
	while (*p) {
		if (cli_next_item(&p, item, sizeof(item))) {
			pr_err("--fw-cfg: option too long (a value has at most %zu characters)",
			       sizeof(e->value) - 1);
			return -EINVAL;
		}
		if (fw_cfg_item(arg, item, e))
			return -EINVAL;
	}
	if (!e->name[0]) {
		pr_err("--fw-cfg %s: no name= given (write --fw-cfg name=opt/NAME,file=FILE)", arg);
		return -EINVAL;
	}
	if (!e->value[0]) {
		pr_err("--fw-cfg %s: no contents given (add file=FILE or string=TEXT)", arg);
		return -EINVAL;
	}
	return 0;
}
