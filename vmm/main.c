// SPDX-License-Identifier: MIT
/*
 * minivmm: run a VM (the default), prepare the host (check, groups, bind,
 * unbind), talk to a running VM (ctl), or measure a passed device's
 * latency (probe).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "host/host.h"
#include "lib/log.h"
#include "lib/trace.h"
#include "vmm/cli.h"
#include "vmm/control.h"
#include "vmm/ctl.h"
#include "vmm/daemon.h"
#include "vmm/privdrop.h"
#include "vmm/probe.h"
#include "vmm/seccomp.h"
#include "vmm/vm.h"

static const struct {
	const char *name;
	int (*main)(int argc, char **argv);
} subcommands[] = {
	{ "check", host_check_main },
	{ "groups", host_groups_main },
	{ "bind", host_bind_main },
	{ "unbind", host_unbind_main },
	{ "ctl", ctl_main },
	{ "probe", probe_main },
};

/*
 * A stop signal while the VM is still being set up ends minivmm at once,
 * without the teardown (docs/architecture.md), and with the status of that
 * signal; but it must not leave the control socket and the pidfile behind
 * (the next start would replace them, but a supervisor looking for them
 * would be misled). From vm_run() on, these signals are blocked and read
 * from a signalfd, and the normal exit removes the files.
 */
/* volatile: cleared before what they point to goes, and a handler that
 * runs in between must see that. */
static const struct control *volatile setup_control;
static const struct daemon *volatile setup_daemon;

static void setup_signal(int sig)
{
	const struct daemon *d = setup_daemon;

	control_remove_file(setup_control);
	if (d)
		daemon_pidfile_unlink(d);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void setup_signals_remove_files(const struct control *ctl, const struct daemon *d)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa = { .sa_handler = setup_signal }, old;

	setup_control = ctl;
	setup_daemon = d;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		/* An ignored signal (nohup's SIGHUP) stays ignored: it must
		 * not start stopping the VM once it runs. */
		if (!sigaction(sigs[i], NULL, &old) && old.sa_handler != SIG_IGN)
			sigaction(sigs[i], &sa, NULL);
	}
}

/*
 * The VM and what runs around it, in this order: --daemonize's fork (before
 * anything exists: daemon.h says why), the control socket, the pidfile and
 * the log (each refused here, on the terminal, if taken), the VM, then the
 * run, which detaches from the terminal once the vCPUs run. Undone in
 * reverse: the pidfile goes before the control socket closes its
 * connections, so that a "minivmm ctl PATH stop" that returns finds both
 * files gone.
 */
static int run_vm(const struct vm_config *cfg)
{
	struct seccomp_extra extra;
	struct seccomp_test test = { .call = SECCOMP_TEST_NONE };
	struct control_ops ops;
	struct control *ctl = NULL;
	struct privdrop pd;
	struct daemon d;
	struct vm vm;
	int status = 1, ret;

	daemon_init(&d);
	if (cfg->test_forbidden && seccomp_test_parse(cfg->test_forbidden, &test))
		return 1;
	/* --user, --chroot: refused before anything exists, dropped once
	 * everything is open (vm_run); the files removed at exit must be
	 * removable by the user dropped to. */
	if (privdrop_init(&pd, cfg->user, cfg->group, cfg->chroot_dir, geteuid()) ||
	    privdrop_check_removable(&pd, "--control", cfg->control) ||
	    privdrop_check_removable(&pd, "--pidfile", cfg->pidfile)) {
		privdrop_release(&pd);
		return 1;
	}
	if (cfg->daemonize) {
		ret = daemon_fork(&d, &status);
		if (ret)
			return ret > 0 ? status : 1;	/* the parent, done waiting */
	}
	if (cfg->control) {
		vm_control_ops(&vm, &ops);	/* ops only keep &vm: created below */
		if (control_open(&ctl, cfg->control, &ops))
			goto out;
	}
	if (ctl || cfg->pidfile)
		setup_signals_remove_files(ctl, &d);
	if (cfg->pidfile && daemon_pidfile_create(&d, cfg->pidfile))
		goto close_control;
	if (daemon_open_stdio(&d, cfg))
		goto remove_pidfile;
	/* Before the VM: the devices' set-up (resets, BARs) is traced too;
	 * before seccomp, which allows no open() later. */
	if (cfg->trace_mask && trace_open(cfg->trace_mask, cfg->trace_file))
		goto close_stdio;
	/* Before vm_create: devices start threads, each confines itself. */
	if (!cfg->no_seccomp && seccomp_prepare(&test))
		goto close_trace;
	if (vm_create(&vm, cfg))
		goto close_trace;

	seccomp_extra_init(&extra);
	extra.accept_fd = control_listen_fd(ctl);
	extra.unlink_dir_fd[0] = control_dir_fd(ctl);
	daemon_seccomp(&d, &extra);
	vm.control = ctl;
	vm.seccomp_extra = &extra;
	vm.privdrop = &pd;
	vm.running = daemon_running;
	vm.running_opaque = &d;
	status = vm_run(&vm);
	vm_destroy(&vm);
close_trace:
	trace_close();
close_stdio:
	daemon_close_stdio(&d);
remove_pidfile:
	daemon_pidfile_remove(&d);
close_control:
	setup_control = NULL;	/* a late signal: nothing left to remove */
	setup_daemon = NULL;
	control_close(ctl);
out:
	privdrop_release(&pd);
	/* Nobody waits for a daemon that ran: its log says how it ended.
	 * (One that failed to start told its waiting parent.) */
	if (d.ran)
		pr_info("exit status %d", status);
	return status;
}

int main(int argc, char **argv)
{
	struct vm_config cfg;
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

	return run_vm(&cfg);
}
