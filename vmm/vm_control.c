// SPDX-License-Identifier: MIT
/*
 * The control socket's view of the VM (vmm/control.h's ops): status,
 * statistics and the requests that stop or reset it. Everything here runs
 * on the main thread, inside vm_run()'s poll loop: the device registry is
 * only changed on that thread, so walking it needs no lock; the counters
 * the vCPU threads bump are read as vm_print_stats() reads them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/json.h"
#include "lib/stats.h"
#include "vmm/control.h"
#include "vmm/vm.h"

static int vmc_status(void *opaque, struct control_status *out)
{
	struct vm *vm = opaque;

	out->running = !vm_stopping(vm);
	out->resets = __atomic_load_n(&vm->resets, __ATOMIC_RELAXED);
	out->vcpus = vm->nr_vcpus;
	for (struct device *d = vm->devices.first; d && out->nr_devices < CONTROL_MAX_DEVICES;
	     d = d->next)
		out->devices[out->nr_devices++] = d->name;
	return 0;
}

static int vmc_powerdown(void *opaque)
{
	return vm_request_powerdown(opaque);
}

static int vmc_reset(void *opaque)
{
	vm_request_stop(opaque, VM_STOP_RESET, 0);
	return 0;
}

static int vmc_stop(void *opaque)
{
	vm_request_stop(opaque, VM_STOP_HOST, 0);
	return 0;
}

static uint64_t load(const uint64_t *v)
{
	return __atomic_load_n(v, __ATOMIC_RELAXED);
}

static void stats_hist_json(struct json_out *o, const char *name, const struct stats_hist *h)
{
	double per_us = h->count ? stats_tsc_per_us() : 1;

	json_out_key(o, name);
	json_out_open(o, '{');
	json_out_key(o, "n");
	json_out_u64(o, h->count);
	json_out_key(o, "mean");
	json_out_fixed2(o, h->count ? (double)h->sum / (double)h->count / per_us : 0);
	json_out_key(o, "p50");
	json_out_fixed2(o, (double)stats_hist_percentile(h, 50) / per_us);
	json_out_key(o, "p99");
	json_out_fixed2(o, (double)stats_hist_percentile(h, 99) / per_us);
	json_out_key(o, "max");
	json_out_fixed2(o, (double)h->max / per_us);
	json_out_close(o, '}');
}

static void bus_json(struct json_out *o, struct bus *bus)
{
	char base[24];

	json_out_key(o, bus->name);
	json_out_open(o, '{');
	json_out_key(o, "devices");
	json_out_open(o, '[');
	pthread_rwlock_rdlock(&bus->lock);
	for (size_t i = 0; i < bus->nr_ranges; i++) {
		const struct bus_range *r = &bus->ranges[i];

		json_out_open(o, '{');
		json_out_key(o, "name");
		json_out_string(o, r->name ? r->name : "?");
		/* A string: a 64-bit address is past what a JSON number
		 * keeps exactly in most readers. */
		json_out_key(o, "base");
		snprintf(base, sizeof(base), "%#" PRIx64, r->base);
		json_out_string(o, base);
		json_out_key(o, "accesses");
		json_out_u64(o, load(&r->accesses));
		json_out_close(o, '}');
	}
	pthread_rwlock_unlock(&bus->lock);
	json_out_close(o, ']');
	json_out_key(o, "unhandled");
	json_out_u64(o, load(&bus->unhandled));
	json_out_close(o, '}');
}

/* What vm_print_stats() prints, as members of the reply. */
static int vmc_stats(void *opaque, struct json_out *o)
{
	struct vm *vm = opaque;
	struct vcpu_stats sum = { 0 };
	struct stats_hist io = { 0 }, mmio = { 0 };
	struct kvm_stats **each;

	for (unsigned int i = 0; vm->vcpus && i < vm->nr_vcpus; i++) {
		const struct vcpu_stats *s = &vm->vcpus[i].stats;

		sum.exits += load(&s->exits);
		sum.io += load(&s->io);
		sum.mmio += load(&s->mmio);
		sum.intr += load(&s->intr);
		sum.other += load(&s->other);
		stats_hist_merge(&io, &s->io_lat);
		stats_hist_merge(&mmio, &s->mmio_lat);
	}
	json_out_key(o, "exits");
	json_out_open(o, '{');
	json_out_key(o, "total");
	json_out_u64(o, sum.exits);
	json_out_key(o, "pio");
	json_out_u64(o, sum.io);
	json_out_key(o, "mmio");
	json_out_u64(o, sum.mmio);
	json_out_key(o, "signal");
	json_out_u64(o, sum.intr);
	json_out_key(o, "other");
	json_out_u64(o, sum.other);
	json_out_close(o, '}');

	json_out_key(o, "interrupts");
	json_out_open(o, '{');
	json_out_key(o, "irq_line_raises");
	json_out_u64(o, load(&vm->kvm.irq_line_raises));
	json_out_key(o, "msis");
	json_out_u64(o, load(&vm->kvm.msis_signalled));
	json_out_close(o, '}');

	json_out_key(o, "exit_handling_us");
	json_out_open(o, '{');
	stats_hist_json(o, "pio", &io);
	stats_hist_json(o, "mmio", &mmio);
	json_out_close(o, '}');

	json_out_key(o, "buses");
	json_out_open(o, '{');
	bus_json(o, &vm->pio);
	bus_json(o, &vm->mmio);
	json_out_close(o, '}');

	each = vm_vcpu_kstats(vm);
	if (each)
		kvm_stats_json_all(o, &vm->kvm.stats, each, vm->nr_vcpus);
	free(each);
	return 0;
}

void vm_control_ops(struct vm *vm, struct control_ops *ops)
{
	*ops = (struct control_ops){
		.opaque = vm,
		.status = vmc_status,
		.powerdown = vmc_powerdown,
		.reset = vmc_reset,
		.stop = vmc_stop,
		.stats = vmc_stats,
	};
}
