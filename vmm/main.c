// SPDX-License-Identifier: MIT
/*
 * minivmm: run a VM (the default), or prepare the host (check, groups,
 * bind, unbind).
 */
#include <stdio.h>
#include <string.h>

#include "host/host.h"
#include "lib/log.h"
#include "vmm/cli.h"
#include "vmm/vm.h"

static const struct {
	const char *name;
	int (*main)(int argc, char **argv);
} subcommands[] = {
	{ "check", host_check_main },
	{ "groups", host_groups_main },
	{ "bind", host_bind_main },
	{ "unbind", host_unbind_main },
};

int main(int argc, char **argv)
{
	struct vm_config cfg;
	struct vm vm;
	int ret;

	if (argc > 1) {
		for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
			if (!strcmp(argv[1], subcommands[i].name))
				return subcommands[i].main(argc - 1, argv + 1);
	}

	ret = cli_parse(argc, argv, &cfg);
	if (ret)
		return ret > 0 ? 0 : 2;
	if (cfg.verbose)
		log_threshold = LOG_DEBUG;

	/* Output to a pipe or file must not sit in a buffer when the guest
	 * stops; the serial console writes straight to the fd anyway. */
	setvbuf(stdout, NULL, _IONBF, 0);

	if (vm_create(&vm, &cfg))
		return 1;
	ret = vm_run(&vm);
	vm_destroy(&vm);
	return ret;
}
