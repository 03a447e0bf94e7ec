// SPDX-License-Identifier: MIT
/*
 * The two reset registers a guest writes to reboot: the ICH9 reset
 * control (0xCF9) and System Control Port A (0x92), at every width, with
 * platform resets (the registry's walk) in between.
 *
 * Invariants, against a model of each register: every read returns what
 * the model says (0xCF9: SYS_RST and FULL_RST as written; 0x92: ALT_RST
 * and ALT_A20 as written; both 0 after a platform reset); a reset is
 * requested exactly once per 0xCF9 write with RST_CPU set and per 0 -> 1
 * edge of ALT_RST, and never otherwise; the port bus keeps its shape.
 */
#include "devices/bus.h"
#include "devices/legacy/port92.h"
#include "devices/legacy/reset.h"
#include "lib/layout.h"
#include "tests/fuzz/fuzz.h"
#include "tests/unit/fake_vm.h"

enum { OP_WRITE_CF9, OP_READ_CF9, OP_WRITE_92, OP_READ_92, OP_PLATFORM_RESET, OP_WIDE, NR_OPS };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fake_vm fvm;
	struct bus pio;
	struct reset_ctl *rc;
	struct port92 *p92;
	uint8_t cf9 = 0, p92v = 0;
	unsigned int resets = 0;
	struct fz f;

	fz_init(&f, data, size);
	fake_vm_init(&fvm);
	if (bus_init(&pio, "pio"))
		abort();
	rc = reset_ctl_create(&fvm.ops);
	p92 = port92_create(&fvm.ops);
	if (!rc || !p92 || reset_ctl_attach(rc, &pio) || port92_attach(p92, &pio))
		abort();

	while (fz_more(&f)) {
		uint8_t op = fz_u8(&f) % NR_OPS, v = fz_u8(&f);

		switch (op) {
		case OP_WRITE_CF9:
			fz_bus_write(&pio, LAYOUT_RESET_PORT, v, 1);
			cf9 = v & 0x0a;
			resets += !!(v & 0x04);
			break;
		case OP_READ_CF9:
			FZ_CHECK(fz_bus_read(&pio, LAYOUT_RESET_PORT, 1) == cf9, "0xCF9 reads %#x",
				 (unsigned int)fz_bus_read(&pio, LAYOUT_RESET_PORT, 1));
			break;
		case OP_WRITE_92:
			fz_bus_write(&pio, LAYOUT_PORT92, v, 1);
			resets += (v & 1) && !(p92v & 1);
			p92v = v & 0x03;
			break;
		case OP_READ_92:
			FZ_CHECK(fz_bus_read(&pio, LAYOUT_PORT92, 1) == p92v, "0x92 reads %#x, model %#x",
				 (unsigned int)fz_bus_read(&pio, LAYOUT_PORT92, 1), p92v);
			break;
		case OP_PLATFORM_RESET:
			device_list_reset(&fvm.devices);
			cf9 = p92v = 0;
			break;
		case OP_WIDE: {
			/* Any width at either port: only a byte reaches these
			 * one-byte registers; the bus refuses the rest whole. */
			unsigned int width = fz_width(v >> 1);
			uint32_t val = fz_u32(&f);

			fz_bus_write(&pio, v & 1 ? LAYOUT_PORT92 : LAYOUT_RESET_PORT, val, width);
			if (width != 1)
				break;
			if (v & 1) {
				resets += (val & 1) && !(p92v & 1);
				p92v = val & 0x03;
			} else {
				cf9 = val & 0x0a;
				resets += !!(val & 0x04);
			}
			break;
		}
		}
		FZ_CHECK(fvm.nr_stops == resets, "%u reset requests, model %u", fvm.nr_stops, resets);
		FZ_CHECK(!fvm.nr_stops || fvm.stop_reason == VM_STOP_RESET, "stop reason %d",
			 fvm.stop_reason);
	}
	fz_check_bus(&pio, 0x10000);
	port92_destroy(p92);
	reset_ctl_destroy(rc);
	FZ_CHECK(pio.nr_ranges == 0, "%zu ranges left", pio.nr_ranges);
	FZ_CHECK(!fvm.devices.first, "a device is still registered");
	bus_exit(&pio);
	return 0;
}
