// SPDX-License-Identifier: MIT
/*
 * vmm/vm_control.c: the control socket's view of a VM, on a struct vm put
 * together by hand (no /dev/kvm): status names the registered devices in
 * order and counts the vCPUs; stats carries vm_print_stats()'s numbers
 * (exits by kind, interrupts, exit-handling times, every bus range's
 * accesses); stop and reset become stop requests (VM_STOP_HOST, which
 * exits 0, and VM_STOP_RESET); powerdown presses the ACPI power button
 * and arms the --shutdown-timeout deadline (or, with no deadline, stops
 * at once).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <cmocka.h>

#include "devices/legacy/acpi_pm.h"
#include "lib/json.h"
#include "tests/unit/fake_vm.h"
#include "vmm/control.h"
#include "vmm/vm.h"

static const struct bus_dev_ops nop_ops;

struct fixture {
	struct vm vm;
	struct vm_config cfg;
	struct fake_vm fvm;
	struct control_ops ops;
	struct device devs[3];
	struct vcpu vcpus[2];
	char reply[CONTROL_MAX_REPLY], buf[CONTROL_MAX_REPLY];
	struct json_object obj;
};

static int setup(void **state)
{
	static const char *const names[] = { "uart", "rtc", "virtio-blk0" };
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->vm.stop_reason = VM_STOP_NONE;
	f->cfg.shutdown_timeout = 60;
	f->vm.cfg = &f->cfg;
	fake_vm_init(&f->fvm);
	f->vm.acpi_pm = acpi_pm_create(&f->fvm.ops, 9);
	assert_non_null(f->vm.acpi_pm);
	f->vm.shutdown_timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	assert_true(f->vm.shutdown_timer_fd >= 0);
	f->vm.stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_true(f->vm.stop_fd >= 0);
	f->vm.nr_vcpus = 2;
	f->vm.vcpus = f->vcpus;
	for (int i = 0; i < 3; i++) {
		f->devs[i].name = names[i];
		device_list_add(&f->vm.devices, &f->devs[i]);
	}
	assert_int_equal(bus_init(&f->vm.pio, "pio"), 0);
	assert_int_equal(bus_init(&f->vm.mmio, "mmio"), 0);
	assert_int_equal(bus_register(&f->vm.pio, 0x3f8, 8, &nop_ops, NULL, "uart"), 0);
	assert_int_equal(bus_register(&f->vm.pio, 0x70, 2, &nop_ops, NULL, "rtc"), 0);
	assert_int_equal(bus_register(&f->vm.mmio, 0xfed00000ULL, 0x1000, &nop_ops, NULL, "hpet"), 0);
	vm_control_ops(&f->vm, &f->ops);
	assert_ptr_equal(f->ops.opaque, &f->vm);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	bus_exit(&f->vm.pio);
	bus_exit(&f->vm.mmio);
	acpi_pm_destroy(f->vm.acpi_pm);
	close(f->vm.shutdown_timer_fd);
	close(f->vm.stop_fd);
	free(f);
	return 0;
}

/* Send req; the reply parsed into f->obj; its "ok". */
static bool request(struct fixture *f, const char *req)
{
	struct json_error e;
	size_t n = control_dispatch(&f->ops, req, strlen(req), f->reply, sizeof(f->reply));

	assert_true(n > 1);
	assert_int_equal(f->reply[n - 1], '\n');
	f->reply[n - 1] = '\0';
	if (json_parse_object(f->reply, n - 1, &f->obj, f->buf, sizeof(f->buf), &e))
		fail_msg("'%s': byte %zu: %s", f->reply, e.offset, e.what);
	return json_get(&f->obj, "ok")->boolean;
}

static uint64_t u64(struct fixture *f, const char *key)
{
	uint64_t v;

	assert_int_equal(json_field_u64(json_get(&f->obj, key), &v), 0);
	return v;
}

static void test_status(void **state)
{
	struct fixture *f = *state;

	assert_true(request(f, "{\"cmd\":\"status\"}"));
	assert_string_equal(f->reply, "{\"ok\":true,\"running\":true,\"resets\":0,\"vcpus\":2,"
			    "\"devices\":[\"uart\",\"rtc\",\"virtio-blk0\"]}");
	f->vm.resets = 3;	/* what the in-place reboot will count */
	assert_true(request(f, "{\"cmd\":\"status\"}"));
	assert_int_equal(u64(f, "resets"), 3);
}

static void test_stats(void **state)
{
	struct fixture *f = *state;
	uint8_t b;

	f->vcpus[0].stats.exits = 10;
	f->vcpus[0].stats.io = 6;
	f->vcpus[1].stats.exits = 5;
	f->vcpus[1].stats.mmio = 3;
	f->vcpus[1].stats.intr = 1;
	f->vcpus[1].stats.other = 1;
	stats_hist_add(&f->vcpus[0].stats.io_lat, 1000);
	f->vm.kvm.irq_line_raises = 7;
	f->vm.kvm.msis_signalled = 2;
	bus_read(&f->vm.pio, 0x3f8, &b, 1);
	bus_read(&f->vm.pio, 0x3fd, &b, 1);
	bus_read(&f->vm.pio, 0x80, &b, 1);	/* nobody there */

	assert_true(request(f, "{\"cmd\":\"stats\"}"));
	assert_non_null(strstr(f->reply, "\"exits\":{\"total\":15,\"pio\":6,\"mmio\":3,\"signal\":1,\"other\":1}"));
	assert_non_null(strstr(f->reply, "\"interrupts\":{\"irq_line_raises\":7,\"msis\":2}"));
	assert_non_null(strstr(f->reply, "\"exit_handling_us\":{\"pio\":{\"n\":1,"));
	assert_non_null(strstr(f->reply, "\"mmio\":{\"n\":0,\"mean\":0.00,\"p50\":0.00,\"p99\":0.00,\"max\":0.00}"));
	assert_non_null(strstr(f->reply, "\"buses\":{\"pio\":{\"devices\":[{\"name\":\"rtc\",\"base\":\"0x70\","
			       "\"accesses\":0},{\"name\":\"uart\",\"base\":\"0x3f8\",\"accesses\":2}],"
			       "\"unhandled\":1}"));
	assert_non_null(strstr(f->reply, "\"mmio\":{\"devices\":[{\"name\":\"hpet\",\"base\":\"0xfed00000\","
			       "\"accesses\":0}],\"unhandled\":0}}"));
	assert_int_equal(json_get(&f->obj, "buses")->type, JSON_OBJECT);
}

static void test_stop(void **state)
{
	struct fixture *f = *state;
	uint64_t v;

	assert_true(request(f, "{\"cmd\":\"stop\"}"));
	assert_int_equal(f->vm.stop_reason, VM_STOP_HOST);
	assert_int_equal(read(f->vm.stop_fd, &v, sizeof(v)), sizeof(v));	/* the main loop woke */
	assert_true(request(f, "{\"cmd\":\"status\"}"));
	assert_false(json_get(&f->obj, "running")->boolean);
	/* the first stop wins: a reset after it changes nothing */
	assert_true(request(f, "{\"cmd\":\"reset\"}"));
	assert_int_equal(f->vm.stop_reason, VM_STOP_HOST);
}

static void test_reset(void **state)
{
	struct fixture *f = *state;

	assert_true(request(f, "{\"cmd\":\"reset\"}"));
	assert_int_equal(f->vm.stop_reason, VM_STOP_RESET);
}

/* The button is pressed and the deadline armed; nothing stops yet. */
static void test_powerdown(void **state)
{
	struct fixture *f = *state;
	struct itimerspec t;

	assert_true(request(f, "{\"cmd\":\"powerdown\"}"));
	assert_int_equal(f->vm.stop_reason, VM_STOP_NONE);
	assert_int_equal(f->vm.powerdown_signal, SIGTERM);
	assert_int_equal(timerfd_gettime(f->vm.shutdown_timer_fd, &t), 0);
	assert_true(t.it_value.tv_sec > 50 && t.it_value.tv_sec <= 60);
	/* Pressed again: the first deadline stands, still no stop. */
	assert_true(request(f, "{\"cmd\":\"powerdown\"}"));
	assert_int_equal(f->vm.stop_reason, VM_STOP_NONE);
}

/* --shutdown-timeout 0: there is no grace period, the VM stops. */
static void test_powerdown_without_timeout(void **state)
{
	struct fixture *f = *state;

	f->cfg.shutdown_timeout = 0;
	assert_true(request(f, "{\"cmd\":\"powerdown\"}"));
	assert_int_equal(f->vm.stop_reason, VM_STOP_SIGNAL);
	assert_int_equal(f->vm.stop_code, SIGTERM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_powerdown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_powerdown_without_timeout, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
