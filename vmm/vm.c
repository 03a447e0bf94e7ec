// SPDX-License-Identifier: MIT
/*
 * Putting a VM together and running it: KVM, guest RAM, firmware, devices,
 * vCPU threads, and the main thread's loop (console input, signals, stop).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <termios.h>
#include <unistd.h>

#include "devices/legacy/acpi_pm.h"
#include "devices/legacy/uart.h"
#include "lib/layout.h"
#include "lib/log.h"
#include "lib/thread.h"
#include "lib/topology.h"
#include "vmm/control.h"
#include "vmm/kvm_latency.h"
#include "vmm/machine.h"
#include "vmm/privdrop.h"
#include "vmm/seccomp.h"
#include "vmm/vm.h"


static struct termios saved_termios;
static bool termios_saved;

static void terminal_restore(void)
{
	if (termios_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
	termios_saved = false;
}

/* Raw mode so every key (Ctrl-C included) goes to the guest; Ctrl-A x
 * quits, as in QEMU. */
static void terminal_raw(void)
{
	struct termios t;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_termios))
		return;
	termios_saved = true;
	atexit(terminal_restore);
	t = saved_termios;
	cfmakeraw(&t);
	t.c_oflag |= OPOST | ONLCR;	/* keep the host's own messages tidy */
	tcsetattr(STDIN_FILENO, TCSANOW, &t);
}

void vm_request_stop(struct vm *vm, enum vm_stop_reason reason, int code)
{
	int none = VM_STOP_NONE;
	uint64_t one = 1;

	/* The first request wins: a reset that follows a power-off, or a
	 * second Ctrl-C, must not change the verdict. */
	if (!__atomic_compare_exchange_n(&vm->stop_reason, &none, (int)reason,
					 false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return;
	vm->stop_code = code;
	if (write(vm->stop_fd, &one, sizeof(one)) < 0)
		pr_warn("stop request: %s", strerror(errno));
}

static void vm_stop_cb(void *opaque, enum vm_stop_reason reason, int code)
{
	vm_request_stop(opaque, reason, code);
}

/* vm_ops.register_device: ops.vm is the struct kvm inside the VM. */
static void vm_register_device(void *opaque, struct device *dev)
{
	struct vm *vm = container_of(opaque, struct vm, kvm);

	device_list_add(&vm->devices, dev);
}

/* Every device in reverse creation order, then the files they used. */
static void vm_destroy_devices(struct vm *vm)
{
	device_list_destroy(&vm->devices);
	vm->uart = NULL;
	vm->acpi_pm = NULL;
	if (vm->debugcon_fd >= 0)
		close(vm->debugcon_fd);
	vm->debugcon_fd = -1;
}

static int vm_open_serial(struct vm *vm, const struct vm_config *cfg)
{
	int fd;

	vm->serial_in_fd = vm->serial_out_fd = -1;
	switch (cfg->serial) {
	case SERIAL_STDIO:
		vm->serial_in_fd = STDIN_FILENO;
		vm->serial_out_fd = STDOUT_FILENO;
		return 0;
	case SERIAL_FILE:
		fd = open(cfg->serial_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0) {
			pr_err("--serial file:%s: %s (give a writable path)",
			       cfg->serial_path, strerror(errno));
			return -errno;
		}
		vm->serial_out_fd = fd;
		return 0;
	case SERIAL_PTY:
		fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (fd < 0 || grantpt(fd) || unlockpt(fd)) {
			pr_err("--serial pty: cannot allocate a pseudo-terminal: %s (is /dev/pts mounted?)",
			       strerror(errno));
			if (fd >= 0)
				close(fd);
			return -EIO;
		}
		pr_info("serial console on %s", ptsname(fd));
		vm->serial_in_fd = vm->serial_out_fd = fd;
		return 0;
	case SERIAL_NONE:
		return 0;
	}
	return 0;
}

static void vm_close_serial(struct vm *vm)
{
	if (vm->serial_out_fd > STDERR_FILENO)
		close(vm->serial_out_fd);
	vm->serial_in_fd = vm->serial_out_fd = -1;
}

static bool cpu_listed(const int *cpus, unsigned int n, int cpu)
{
	for (unsigned int i = 0; i < n; i++)
		if (cpus[i] == cpu)
			return true;
	return false;
}

/*
 * Refuse pinning to a CPU the host does not have online; warn when a
 * guest core's threads do not sit on one host core's SMT siblings, or the
 * I/O CPUs share a vCPU's. Then confine the main and I/O threads.
 */
static int vm_check_pinning(const struct vm_config *cfg)
{
	char path[256], online[1024] = "", why[512];
	FILE *f;
	int ret;

	if (!cfg->nr_pin && !cfg->nr_pin_io)
		return 0;
	snprintf(path, sizeof(path), "%s/devices/system/cpu/online", cfg->sysfs_root);
	f = fopen(path, "r");
	if (f) {
		if (!fgets(online, sizeof(online), f))
			online[0] = '\0';
		fclose(f);
	}
	online[strcspn(online, "\n")] = '\0';
	/* No list: cannot tell; the kernel will refuse instead. */
	for (unsigned int i = 0; online[0] && i < cfg->nr_pin && i < cfg->nr_cpus; i++) {
		if (!cli_cpu_in_list(online, cfg->pin[i])) {
			pr_err("--pin: host CPU %d (for vCPU %u) is offline or does not exist (this host's online CPUs: %s)",
			       cfg->pin[i], i, online);
			return -EINVAL;
		}
	}
	for (unsigned int i = 0; online[0] && i < cfg->nr_pin_io; i++) {
		if (!cli_cpu_in_list(online, cfg->pin_io[i])) {
			pr_err("--pin-io: host CPU %d is offline or does not exist (this host's online CPUs: %s)",
			       cfg->pin_io[i], online);
			return -EINVAL;
		}
	}
	if (cfg->nr_pin && cfg->topo.threads > 1 &&
	    !topo_pin_matches_host(&cfg->topo, cfg->pin, cfg->nr_cpus, cfg->sysfs_root,
				   why, sizeof(why)))
		pr_warn("--pin: %s", why);
	for (unsigned int v = 0; v < cfg->nr_pin && v < cfg->nr_cpus; v++) {
		if (cpu_listed(cfg->pin_io, cfg->nr_pin_io, cfg->pin[v])) {
			pr_warn("--pin-io: host CPU %d also runs vCPU %u (the I/O threads then take its time; give --pin-io CPUs no vCPU uses)",
				cfg->pin[v], v);
			break;
		}
	}
	ret = vmm_thread_set_io_cpus(cfg->nr_pin_io ? cfg->pin_io : NULL, cfg->nr_pin_io);
	if (ret)
		pr_err("--pin-io: cannot confine the main and I/O threads: %s", strerror(-ret));
	return ret;
}

static int vm_kvm_ioctl(int fd, unsigned long req, unsigned long arg)
{
	return ioctl(fd, req, arg);
}

static int vm_map_ram(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->mem.nr_regions; i++) {
		const struct mem_region *r = &vm->mem.regions[i];
		int slot;
		int ret = kvm_add_memslot(&vm->kvm, r->gpa, r->size,
					  vm->mem.base + r->offset, 0, &slot);

		if (ret)
			return ret;
	}
	return 0;
}

int vm_create(struct vm *vm, const struct vm_config *cfg)
{
	struct cpu_topology shape;
	int ret;

	memset(vm, 0, sizeof(*vm));
	vm->cfg = cfg;
	vm->stop_reason = VM_STOP_NONE;
	vm->debugcon_fd = vm->serial_in_fd = vm->serial_out_fd = vm->shutdown_timer_fd = -1;
	vm->nr_vcpus = cfg->nr_cpus;
	vm->fw.slot = vm->fw.isa_slot = -1;
	vm->kvm.dev_fd = vm->kvm.vm_fd = -1;
	vm->mem.fd = -1;

	vm->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->stop_fd < 0)
		return -errno;
	vm->shutdown_timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (vm->shutdown_timer_fd < 0) {
		ret = -errno;
		goto close_stop;
	}
	ret = bus_init(&vm->pio, "pio");
	if (ret)
		goto close_stop;
	ret = bus_init(&vm->mmio, "mmio");
	if (ret)
		goto exit_pio;

	ret = vm_check_pinning(cfg);
	if (ret)
		goto exit_mmio;
	vm->use_ovmf = cfg->ovmf != NULL;
	if (vm->use_ovmf) {
		char state[4096];

		ret = ovmf_open(&vm->ovmf, cfg->ovmf, cfg->ovmf_vars, cfg->ovmf_vars_template,
				cfg->name, ovmf_state_dir(state, sizeof(state)));
	} else {
		ret = fw_image_open(&vm->fw, cfg->firmware);
	}
	if (ret)
		goto exit_mmio;
	ret = kvm_init(&vm->kvm, "/dev/kvm");
	if (ret)
		goto close_fw;
	if (cfg->nr_cpus > vm->kvm.max_vcpus) {
		pr_err("--cpus %u: KVM on this host allows at most %u vCPUs (use --cpus %u or fewer)",
		       cfg->nr_cpus, vm->kvm.max_vcpus, vm->kvm.max_vcpus);
		ret = -EINVAL;
		goto exit_kvm;
	}
	shape = topo_or_flat(&cfg->topo, cfg->nr_cpus);
	if (topo_apic_id_limit(&shape) > vm->kvm.max_vcpu_id) {
		pr_err("--cpus: this shape's APIC IDs reach %u, KVM on this host takes IDs below %u (use counts that are powers of two, or fewer vCPUs)",
		       topo_apic_id_limit(&shape) - 1, vm->kvm.max_vcpu_id);
		ret = -EINVAL;
		goto exit_kvm;
	}
	{
		struct kvm_latency lat = { .halt_poll_ns = cfg->halt_poll_ns, .cpu_pm = cfg->cpu_pm };

		ret = kvm_latency_apply(vm->kvm.vm_fd, &lat, vm_kvm_ioctl, &vm->exits_disabled);
		if (ret)
			goto exit_kvm;
	}
	vm->kvm.stop = vm_stop_cb;
	vm->kvm.stop_opaque = vm;
	kvm_vm_ops(&vm->kvm, &vm->ops);
	vm->ops.register_device = vm_register_device;

	ret = mem_layout(&vm->mem, cfg->mem_size,
			 vm->use_ovmf ? vm->ovmf.code.isa_size : vm->fw.isa_size);
	if (ret) {
		pr_err("--memory %" PRIu64 "M: cannot lay out guest RAM", cfg->mem_size / MiB);
		goto exit_kvm;
	}
	ret = mem_alloc(&vm->mem, cfg->backing, cfg->sysfs_root);
	if (ret)
		goto exit_kvm;
	ret = vm_map_ram(vm);
	if (ret)
		goto free_mem;
	if (vm->use_ovmf)
		ret = ovmf_map(&vm->ovmf, &vm->ops, &vm->mmio);
	else
		ret = fw_image_map(&vm->fw, &vm->ops, &vm->mmio);
	if (ret)
		goto free_mem;

	ret = vm_open_serial(vm, cfg);
	if (ret)
		goto free_mem;
	ret = machine_create(vm);
	if (ret)
		goto destroy_devices;

	vm->vcpus = calloc(vm->nr_vcpus, sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		ret = -ENOMEM;
		goto destroy_devices;
	}
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		vm->vcpus[i].fd = -1;
		ret = vcpu_create(vm, &vm->vcpus[i], i);
		if (ret)
			goto destroy_vcpus;
	}
	pr_debug("VM: %u vCPUs (%u socket(s) x %u core(s) x %u thread(s), APIC IDs to %u), %" PRIu64 " MiB RAM (%s), firmware %s",
		 vm->nr_vcpus, shape.sockets, shape.cores, shape.threads,
		 topo_apic_id_limit(&shape) - 1, cfg->mem_size / MiB, mem_backing_name(cfg->backing),
		 vm->use_ovmf ? cfg->ovmf : cfg->firmware);
	return 0;

destroy_vcpus:
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vcpu_destroy(&vm->vcpus[i]);
	free(vm->vcpus);
	vm->vcpus = NULL;
destroy_devices:
	vm_destroy_devices(vm);
	vm_close_serial(vm);
free_mem:
	mem_free(&vm->mem);
exit_kvm:
	kvm_exit(&vm->kvm);
close_fw:
	if (vm->use_ovmf)
		ovmf_close(&vm->ovmf);
	else
		fw_image_close(&vm->fw);
exit_mmio:
	bus_exit(&vm->mmio);
exit_pio:
	bus_exit(&vm->pio);
close_stop:
	if (vm->shutdown_timer_fd >= 0)
		close(vm->shutdown_timer_fd);
	vm->shutdown_timer_fd = -1;
	close(vm->stop_fd);
	vm->stop_fd = -1;
	return ret;
}

struct kvm_stats **vm_vcpu_kstats(struct vm *vm)
{
	struct kvm_stats **each;

	if (!vm->vcpus || !vm->nr_vcpus)
		return NULL;
	each = calloc(vm->nr_vcpus, sizeof(*each));
	for (unsigned int i = 0; each && i < vm->nr_vcpus; i++)
		each[i] = &vm->vcpus[i].kstats;
	return each;
}

static void vm_print_stats(struct vm *vm)
{
	struct vcpu_stats sum = { 0 };
	struct bus *buses[] = { &vm->pio, &vm->mmio };
	struct stats_hist io = { 0 }, mmio = { 0 };
	struct kvm_stats **each;

	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		const struct vcpu_stats *s = &vm->vcpus[i].stats;

		sum.exits += s->exits;
		sum.io += s->io;
		sum.mmio += s->mmio;
		sum.intr += s->intr;
		sum.other += s->other;
		stats_hist_merge(&io, &s->io_lat);
		stats_hist_merge(&mmio, &s->mmio_lat);
	}
	fprintf(stderr, "stats: userspace exits %" PRIu64 " (pio %" PRIu64 ", mmio %" PRIu64
		", signal %" PRIu64 ", other %" PRIu64 ")\n",
		sum.exits, sum.io, sum.mmio, sum.intr, sum.other);
	fprintf(stderr, "stats: interrupts injected from userspace: %" PRIu64 " IRQ-line raises, %" PRIu64 " MSIs\n",
		vm->kvm.irq_line_raises, vm->kvm.msis_signalled);
	stats_hist_print(stderr, "pio exit handling", &io);
	stats_hist_print(stderr, "mmio exit handling", &mmio);
	for (unsigned int b = 0; b < 2; b++) {
		struct bus *bus = buses[b];

		pthread_rwlock_rdlock(&bus->lock);
		for (size_t i = 0; i < bus->nr_ranges; i++) {
			const struct bus_range *r = &bus->ranges[i];

			if (r->accesses)
				fprintf(stderr, "stats: %s %-12s %#" PRIx64 " %" PRIu64 "\n",
					bus->name, r->name, r->base, r->accesses);
		}
		pthread_rwlock_unlock(&bus->lock);
		fprintf(stderr, "stats: %s unhandled %" PRIu64 "\n", bus->name, bus->unhandled);
	}
	each = vm_vcpu_kstats(vm);
	if (each)
		kvm_stats_print_all(stderr, &vm->kvm.stats, each, vm->nr_vcpus);
	free(each);
}

/*
 * Console input. On a terminal, Ctrl-A x quits and Ctrl-A Ctrl-A sends a
 * literal Ctrl-A, as in QEMU.
 */
static void vm_console_input(struct vm *vm, int *in_fd, bool *escape)
{
	uint8_t buf[256], out[256];
	size_t n_out = 0;
	ssize_t n = read(*in_fd, buf, sizeof(buf));

	if (n <= 0) {
		if (n == 0 || (errno != EINTR && errno != EAGAIN))
			*in_fd = -1;	/* EOF: the guest keeps running */
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (termios_saved && *escape) {
			*escape = false;
			if (buf[i] == 'x') {
				vm_request_stop(vm, VM_STOP_SIGNAL, SIGINT);
				return;
			}
			if (buf[i] != 0x01)
				continue;
		} else if (termios_saved && buf[i] == 0x01) {
			*escape = true;
			continue;
		}
		out[n_out++] = buf[i];
	}
	if (n_out && uart_receive(vm->uart, out, n_out) < n_out)
		pr_warn_once("serial input arrives faster than the guest reads it; some was dropped");
}

static int vm_exit_status(const struct vm *vm)
{
	if (vm->resets)
		pr_info("%u guest reset(s) rebooted in place", vm->resets);
	switch (vm->stop_reason) {
	case VM_STOP_POWEROFF:
		pr_debug("guest powered off");
		return 0;
	case VM_STOP_RESET:
		pr_info("guest reset");
		return 3;
	case VM_STOP_CRASH:
		return 4;
	case VM_STOP_GUEST_CRASH:
		return 5;
	case VM_STOP_TESTDEV:
		pr_debug("test device exit with code %d", vm->stop_code);
		return vm->stop_code & 0xff;
	case VM_STOP_SIGNAL:
		pr_info("stopped by signal %d", vm->stop_code);
		return 128 + vm->stop_code;
	case VM_STOP_HOST:
		pr_info("stopped through the control socket");
		return 0;
	default:
		return 1;
	}
}

/* The vCPUs run: whoever waits for that (--daemonize's parent) hears it. */
static void vm_report_running(struct vm *vm)
{
	if (vm->irq_posting[0])
		pr_info("vfio: the passed devices' MSIs go %s", vm->irq_posting);
	if (vm->running)
		vm->running(vm->running_opaque);
}

/*
 * The ACPI power button (PM1 fixed feature, ACPI 6.4 §4.8.3.1): the guest
 * is asked to shut down, and given --shutdown-timeout seconds to do so
 * before signo's hard stop. Main thread only.
 */
static int vm_powerdown(struct vm *vm, int signo)
{
	struct itimerspec when = { .it_value.tv_sec = vm->cfg->shutdown_timeout };

	if (!vm->acpi_pm || !vm->cfg->shutdown_timeout) {
		vm_request_stop(vm, VM_STOP_SIGNAL, signo);
		return 0;
	}
	acpi_pm_power_button(vm->acpi_pm);
	if (vm->powerdown_signal)
		return 0;	/* pressed again: the first deadline stands */
	vm->powerdown_signal = signo;
	if (timerfd_settime(vm->shutdown_timer_fd, 0, &when, NULL) < 0) {
		pr_warn("cannot arm the shutdown timer: %s; stopping the guest now",
			strerror(errno));
		vm_request_stop(vm, VM_STOP_SIGNAL, signo);
	}
	return 0;
}

int vm_request_powerdown(struct vm *vm)
{
	if (vm->acpi_pm && vm->cfg->shutdown_timeout)
		pr_info("pressing the ACPI power button (the guest has %u s to power off)",
			vm->cfg->shutdown_timeout);
	else
		pr_info("powerdown with --shutdown-timeout 0: stopping the guest at once");
	return vm_powerdown(vm, SIGTERM);
}

static void vm_signal(struct vm *vm, const struct signalfd_siginfo *si)
{
	int signo = (int)si->ssi_signo;

	if (signo == SIGUSR1) {
		vm_print_stats(vm);
	} else if ((signo == SIGINT || signo == SIGTERM) && !vm->powerdown_signal &&
		   vm->acpi_pm && vm->cfg->shutdown_timeout) {
		pr_info("signal %d: pressed the ACPI power button; the guest has %u s to power off (send the signal again to stop it now)",
			signo, vm->cfg->shutdown_timeout);
		vm_powerdown(vm, signo);
	} else {
		vm_request_stop(vm, VM_STOP_SIGNAL, signo);
	}
}

static void vm_shutdown_timeout(struct vm *vm)
{
	uint64_t n;

	if (read(vm->shutdown_timer_fd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return;
	pr_warn("the guest did not power off within %u s of the power button; stopping it",
		vm->cfg->shutdown_timeout);
	vm_request_stop(vm, VM_STOP_SIGNAL, vm->powerdown_signal);
}

/* The main thread during one boot: console input, signals, the shutdown
 * deadline, until a stop request ends the boot. */
static void vm_wait_for_stop(struct vm *vm, int sfd, int *in_fd, bool *escape)
{
	struct signalfd_siginfo si;

	while (!vm_stopping(vm)) {
		struct pollfd p[4 + CONTROL_MAX_POLLFDS] = {
			{ .fd = vm->stop_fd, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
			{ .fd = vm->shutdown_timer_fd, .events = POLLIN },
			{ .fd = *in_fd, .events = POLLIN },	/* poll() skips it at -1 */
		};
		unsigned int nc = control_pollfds(vm->control, &p[4]);

		if (poll(p, 4 + nc, -1) < 0) {
			if (errno == EINTR)
				continue;
			pr_err("poll: %s", strerror(errno));
			vm_request_stop(vm, VM_STOP_ERROR, 0);
			break;
		}
		if (p[1].revents & POLLIN && read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			vm_signal(vm, &si);
		if (p[2].revents & POLLIN)
			vm_shutdown_timeout(vm);
		if (*in_fd >= 0 && p[3].revents & (POLLIN | POLLHUP | POLLERR))
			vm_console_input(vm, in_fd, escape);
		control_handle(vm->control, &p[4], nc);
	}
}

static int vm_start_vcpus(struct vm *vm, unsigned int *started)
{
	for (*started = 0; *started < vm->nr_vcpus; (*started)++) {
		int ret = vcpu_start(&vm->vcpus[*started]);

		if (ret) {
			vm_request_stop(vm, VM_STOP_ERROR, 0);
			return ret;
		}
	}
	return 0;
}

static void vm_stop_vcpus(struct vm *vm, unsigned int started)
{
	for (unsigned int i = 0; i < started; i++)
		vcpu_kick(&vm->vcpus[i]);
	for (unsigned int i = 0; i < started; i++)
		vcpu_join(&vm->vcpus[i]);
}

/*
 * A guest reset without ending the process: every vCPU is stopped; each
 * device goes back to its power-on state (the registry, in creation
 * order: passed devices are reset through VFIO, disks stop their queues,
 * the RTC keeps its time and the flash its variables), then the in-kernel
 * interrupt controllers and PIT, then the vCPUs, the BSP at the reset
 * vector. Guest RAM stays as it is and stays mapped for DMA, as on a PC.
 */
static int vm_reboot(struct vm *vm)
{
	uint64_t n;
	int ret;

	vm->resets++;
	pr_info("guest reset %u: rebooting in place", vm->resets);
	device_list_reset(&vm->devices);
	ret = kvm_reset_irqchip(&vm->kvm);
	if (ret) {
		pr_err("cannot reset the in-kernel interrupt controllers: %s", strerror(-ret));
		return ret;
	}
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		ret = vcpu_reset(&vm->vcpus[i]);
		if (ret)
			return ret;
	}
	/* The request is served: the next boot runs until a new one. */
	if (read(vm->stop_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		pr_warn("stop request: %s", strerror(errno));
	vm->stop_code = 0;
	__atomic_store_n(&vm->stop_reason, VM_STOP_NONE, __ATOMIC_RELEASE);
	return 0;
}

static bool vm_reboots(const struct vm *vm)
{
	return __atomic_load_n(&vm->stop_reason, __ATOMIC_ACQUIRE) == VM_STOP_RESET &&
	       !vm->cfg->no_reboot;
}

int vm_run(struct vm *vm)
{
	sigset_t sigs, old;
	bool escape = false;
	int in_fd = vm->serial_in_fd;
	int sfd, ret = 0;
	unsigned int started = 0;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGUSR1);
	sigaddset(&sigs, VCPU_KICK_SIGNAL);
	/* Blocked before the vCPU threads exist, so they inherit the mask
	 * and only the main thread's signalfd sees these. */
	pthread_sigmask(SIG_BLOCK, &sigs, &old);
	sigdelset(&sigs, VCPU_KICK_SIGNAL);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		ret = -errno;
		goto restore_mask;
	}
	vcpu_signals_init();
	/* A console reader that goes away must cost output, not the VM. */
	signal(SIGPIPE, SIG_IGN);
	if (vm->cfg->serial == SERIAL_STDIO)
		terminal_raw();

	/* Everything is open and mapped: from here on the VMM only runs,
	 * as the --user asked for (with or without the filter). */
	if (privdrop_apply(vm->privdrop, &privdrop_sys_real)) {
		ret = -EPERM;
		vm_request_stop(vm, VM_STOP_ERROR, 0);
	} else if (!vm->cfg->no_seccomp && (caps_drop_all() || seccomp_confine(vm->seccomp_extra))) {
		ret = -EPERM;
		vm_request_stop(vm, VM_STOP_ERROR, 0);
	}
	while (!ret) {
		ret = vm_start_vcpus(vm, &started);
		if (!ret && !vm->resets)
			vm_report_running(vm);
		if (!ret)
			vm_wait_for_stop(vm, sfd, &in_fd, &escape);
		vm_stop_vcpus(vm, started);
		if (ret || !vm_reboots(vm))
			break;
		ret = vm_reboot(vm);
		if (ret)
			vm_request_stop(vm, VM_STOP_ERROR, 0);
	}
	terminal_restore();
	if (vm->cfg->stats)
		vm_print_stats(vm);
	close(sfd);
restore_mask:
	/* The stop signals (and SIGUSR1) stay blocked: teardown follows —
	 * devices reset, queues drained, images flushed — and a second
	 * Ctrl-C or SIGTERM must not cut it short. The process exits right
	 * after; SIGKILL still ends a teardown that hangs. */
	sigorset(&old, &old, &sigs);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret ? 1 : vm_exit_status(vm);
}

void vm_destroy(struct vm *vm)
{
	if (vm->vcpus) {
		for (unsigned int i = 0; i < vm->nr_vcpus; i++)
			vcpu_destroy(&vm->vcpus[i]);
		free(vm->vcpus);
		vm->vcpus = NULL;
	}
	vm_destroy_devices(vm);
	vm_close_serial(vm);
	mem_free(&vm->mem);
	kvm_exit(&vm->kvm);
	if (vm->use_ovmf)
		ovmf_close(&vm->ovmf);
	else
		fw_image_close(&vm->fw);
	bus_exit(&vm->mmio);
	bus_exit(&vm->pio);
	if (vm->shutdown_timer_fd >= 0)
		close(vm->shutdown_timer_fd);
	vm->shutdown_timer_fd = -1;
	if (vm->stop_fd >= 0)
		close(vm->stop_fd);
	vm->stop_fd = -1;
}
