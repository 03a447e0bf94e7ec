// SPDX-License-Identifier: MIT
/*
 * --trace vfio (lib/trace.c, devices/vfio/trace.c): the writer's JSON
 * lines (fields, escaping, one line per event, read back with lib/json.c's
 * strict parser), nothing written when tracing is off, and the events of
 * a passed function driven through the fake VFIO kernel: the reset at
 * open and at exit, a config write that stays virtual and one that reaches
 * the device, BAR placement (memslots, the trapped MSI-X pages), MSI-X
 * routes and masks, and mmap=off trapping a whole BAR.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/json.h"
#include "lib/trace.h"
#include "tests/unit/fake_vfio.h"
#include "tests/unit/fakesys/fakesys.h"
#include "tests/unit/vfio_fixture.h"

#define MSIX	0x70

static int trace_fd = -1;
static char text[1 << 18];

/* Everything written so far (NUL-terminated). */
static const char *trace_text(void)
{
	ssize_t n = pread(trace_fd, text, sizeof(text) - 1, 0);

	assert_true(n >= 0);
	text[n] = '\0';
	return text;
}

static void trace_to_memfd(unsigned int mask)
{
	trace_fd = memfd_create("trace", 0);
	assert_true(trace_fd >= 0);
	trace_open_fd(mask, trace_fd);
}

static void trace_done(void)
{
	trace_close();
	if (trace_fd >= 0)
		close(trace_fd);
	trace_fd = -1;
}

/* Line k (from 0) parsed into obj (strings decoded into buf); false past the end. */
static bool line_at(unsigned int k, struct json_object *obj, char *buf, size_t cap)
{
	const char *p = text;
	struct json_error err;
	size_t len;

	for (unsigned int i = 0; i < k; i++) {
		p = strchr(p, '\n');
		if (!p)
			return false;
		p++;
	}
	if (!*p)
		return false;
	len = strcspn(p, "\n");
	assert_int_equal(p[len], '\n');	/* every line ends */
	assert_int_equal(json_parse_object(p, len, obj, buf, cap, &err), 0);
	return true;
}

static const char *str_of(const struct json_object *o, const char *key)
{
	const struct json_field *f = json_get(o, key);

	return f && f->type == JSON_STRING ? f->str : NULL;
}

static uint64_t num_of(const struct json_object *o, const char *key)
{
	const struct json_field *f = json_get(o, key);
	uint64_t v = ~0ULL;

	if (f && f->type == JSON_NUMBER)
		assert_int_equal(json_field_u64(f, &v), 0);
	return v;
}

/*
 * The first line from line `from` on whose event is ev and, if key is
 * given, whose member key is the string or number val; -1 if none.
 */
static int find(int from, const char *ev, const char *key, const char *val)
{
	struct json_object o;
	char buf[4096];

	trace_text();
	for (unsigned int k = from < 0 ? 0 : (unsigned int)from; line_at(k, &o, buf, sizeof(buf)); k++) {
		const struct json_field *f = key ? json_get(&o, key) : NULL;

		if (strcmp(str_of(&o, "event"), ev))
			continue;
		if (!key)
			return (int)k;
		if (f && (f->type == JSON_STRING || f->type == JSON_NUMBER) && !strcmp(f->str, val))
			return (int)k;
	}
	return -1;
}

/* ---- the writer ----------------------------------------------------------- */

static void test_writer_lines(void **state)
{
	struct trace_event e;
	struct json_object o;
	char buf[2048];
	uint64_t ts0, ts1;

	trace_to_memfd(TRACE_VFIO);
	assert_true(trace_on(TRACE_VFIO));
	trace_begin(&e, "0000:01:00.0", "cfg-write");
	trace_hex(&e, "off", 0x10);
	trace_u64(&e, "size", 4);
	trace_str(&e, "note", "quote \" backslash \\ newline \n tab \t bell \a bad \xff end");
	trace_bool(&e, "ok", true);
	trace_end(&e);
	trace_begin(&e, NULL, "dma-map");
	trace_hex(&e, "iova", 0x100000000ULL);
	trace_end(&e);

	trace_text();
	/* Two lines, each one object; control characters escaped, so no
	 * raw newline splits a line. */
	assert_int_equal(strchr(strchr(text, '\n') + 1, '\n')[1], '\0');
	assert_true(line_at(0, &o, buf, sizeof(buf)));
	assert_string_equal(str_of(&o, "bdf"), "0000:01:00.0");
	assert_string_equal(str_of(&o, "event"), "cfg-write");
	assert_string_equal(str_of(&o, "off"), "0x10");
	assert_int_equal(num_of(&o, "size"), 4);
	assert_string_equal(str_of(&o, "note"),
			    "quote \" backslash \\ newline \n tab \t bell \a bad \xef\xbf\xbd end");
	assert_true(json_get(&o, "ok")->boolean);
	ts0 = num_of(&o, "ts");
	assert_true(ts0 > 0 && ts0 != ~0ULL);
	/* The first members, in order: ts, bdf, event. */
	assert_int_equal(strncmp(text, "{\"ts\":", 6), 0);
	assert_non_null(strstr(text, ",\"bdf\":\"0000:01:00.0\",\"event\":\"cfg-write\","));

	assert_true(line_at(1, &o, buf, sizeof(buf)));
	assert_int_equal(json_get(&o, "bdf")->type, JSON_NULL);
	assert_string_equal(str_of(&o, "iova"), "0x100000000");
	ts1 = num_of(&o, "ts");
	assert_true(ts1 >= ts0);
	trace_done();
}

static void test_writer_too_long(void **state)
{
	static char big[TRACE_LINE_MAX * 2];
	struct trace_event e;
	struct json_object o;
	char buf[2048];

	memset(big, 'x', sizeof(big) - 1);
	trace_to_memfd(TRACE_VFIO);
	trace_begin(&e, "0000:01:00.0", "cfg-write");
	trace_str(&e, "note", big);
	trace_end(&e);
	trace_text();
	/* Still one valid line, saying what happened. */
	assert_true(line_at(0, &o, buf, sizeof(buf)));
	assert_string_equal(str_of(&o, "event"), "trace-line-too-long");
	assert_false(line_at(1, &o, buf, sizeof(buf)));
	trace_done();
}

static void test_writer_off(void **state)
{
	trace_to_memfd(0);
	assert_false(trace_on(TRACE_VFIO));
	trace_done();
	assert_false(trace_on(TRACE_VFIO));
	assert_int_equal(trace_category("vfio"), TRACE_VFIO);
	assert_int_equal(trace_category("kvm"), 0);
}

/* ---- a passed function's events --------------------------------------------- */

static int traced_setup(void **state)
{
	/* On before the slot exists: its open and reset are traced too. */
	trace_to_memfd(TRACE_VFIO);
	return fx_setup(state);
}

static int traced_teardown(void **state)
{
	int ret = fx_teardown(state);

	trace_done();
	return ret;
}

static int untraced_setup(void **state)
{
	trace_to_memfd(0);
	return fx_setup(state);
}

static void bar0_on(struct fx *f)
{
	dev_wr(f, 0x10, FX_MEM_BASE, 4);
	dev_wr(f, 0x14, 0, 4);
	dev_wr(f, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
}

static void tbl_wr(struct fx *f, unsigned int entry, unsigned int dw, uint32_t v)
{
	assert_int_equal(bus_write(&f->mmio, FX_MEM_BASE + 0x2000 + entry * 16 + dw * 4, &v, 4), 0);
}

static void test_events(void **state)
{
	struct fx *f = *state;
	struct json_object o;
	char buf[4096];
	int k, open_reset, bar_write, cmd, map;

	open_reset = find(0, "reset", "why", "open");
	assert_true(open_reset >= 0);
	assert_true(line_at((unsigned int)open_reset, &o, buf, sizeof(buf)));
	assert_string_equal(str_of(&o, "method"), "VFIO_DEVICE_RESET");
	assert_true(json_get(&o, "ok")->boolean);
	assert_string_equal(str_of(&o, "bdf"), FX_BDF);

	bar0_on(f);
	/* The BAR is the guest's: nothing reaches the device. */
	bar_write = find(open_reset, "cfg-write", "off", "0x10");
	assert_true(bar_write > open_reset);
	assert_true(line_at((unsigned int)bar_write, &o, buf, sizeof(buf)));
	assert_string_equal(str_of(&o, "hw"), "virtualized");
	assert_string_equal(str_of(&o, "value"), "0xc0000000");
	assert_int_equal(num_of(&o, "size"), 4);
	/* COMMAND: decode and bus mastering reach the device, listed. */
	cmd = find(bar_write, "cfg-write", "off", "0x4");
	assert_true(cmd > bar_write);
	assert_true(line_at((unsigned int)cmd, &o, buf, sizeof(buf)));
	assert_int_equal(json_get(&o, "hw")->type, JSON_ARRAY);
	assert_non_null(strstr(text, "{\"off\":\"0x4\",\"size\":2,\"value\":\"0x6\"}]"));
	/* BAR0 placed: the mapped pages a memslot, the MSI-X table and PBA
	 * pages trapped (bar.c), after the COMMAND write turned decode on. */
	map = find(0, "bar-map", "bar", "0");
	assert_true(map > bar_write);
	assert_true(line_at((unsigned int)map, &o, buf, sizeof(buf)));
	assert_string_equal(str_of(&o, "gpa"), "0xc0000000");
	assert_int_equal(num_of(&o, "size"), 16384);
	k = find(map, "memslot-add", "gpa", "0xc0000000");
	assert_true(k > map);
	assert_true(line_at((unsigned int)k, &o, buf, sizeof(buf)));
	assert_int_equal(num_of(&o, "size"), 0x2000);
	assert_true(num_of(&o, "slot") != ~0ULL);
	k = find(map, "trap-add", "gpa", "0xc0002000");
	assert_true(k > map);

	/* MSI-X: enable, entry 0 programmed and unmasked: VFIO's vectors,
	 * the route (address/data -> GSI), the unmask; then masked again. */
	dev_wr(f, MSIX + 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL, 2);
	assert_true(find(0, "set-irqs", "index", "msix") > map);
	tbl_wr(f, 0, 0, 0xfee01000);
	tbl_wr(f, 0, 1, 0);
	tbl_wr(f, 0, 2, 0x41);
	tbl_wr(f, 0, 3, 0);
	dev_wr(f, MSIX + 2, PCI_MSIX_FLAGS_ENABLE, 2);
	k = find(0, "msi-route-add", "type", "msix");
	assert_true(k > map);
	assert_true(line_at((unsigned int)k, &o, buf, sizeof(buf)));
	assert_int_equal(num_of(&o, "vector"), 0);
	assert_string_equal(str_of(&o, "addr"), "0xfee01000");
	assert_string_equal(str_of(&o, "data"), "0x41");
	assert_int_equal(num_of(&o, "gsi"), to_vfio(vfio_slot_function(f->slot, 0))->msix.emu.vec[0].gsi);
	assert_true(find(k, "vector-unmask", "type", "msix") > k);
	tbl_wr(f, 0, 3, 1);
	assert_true(find(k, "vector-mask", "vector", "0") > k);
	/* Retargeted while masked, then unmasked: the route follows. */
	tbl_wr(f, 0, 0, 0xfee02000);
	tbl_wr(f, 0, 3, 0);
	assert_true(find(k, "msi-route-update", "addr", "0xfee02000") > k);

	/* Exit: the reset at exit comes last of the resets. */
	vfio_slot_destroy(f->slot);
	f->slot = vfio_slot_create(f->c, f->root, &(struct vfio_slot_config){ .bdf = "01:00.0" });
	assert_non_null(f->slot);
	k = find(0, "reset", "why", "exit");
	assert_true(k > map);
	assert_true(find(k, "reset", "why", "open") > k);
}

static void test_events_mmap_off(void **state)
{
	struct fx *f = *state;
	int map;

	/* The fixture's slot, again with mmap=off: BAR0 is trapped whole. */
	vfio_slot_destroy(f->slot);
	f->slot = vfio_slot_create(f->c, f->root,
				   &(struct vfio_slot_config){ .bdf = "01:00.0", .no_mmap = true });
	assert_non_null(f->slot);
	f->port_devfn = vfio_slot_port(f->slot)->devfn;
	fx_program_port(f);
	bar0_on(f);
	assert_null(fx_slot_at(f, FX_MEM_BASE));
	map = find(0, "bar-map", "bar", "0");
	assert_true(map >= 0);
	assert_int_equal(find(map, "memslot-add", "bar", "0"), -1);
	assert_true(find(map, "trap-add", "gpa", "0xc0000000") > map);
}

static void test_events_off(void **state)
{
	struct fx *f = *state;

	bar0_on(f);
	dev_wr(f, MSIX + 2, PCI_MSIX_FLAGS_ENABLE, 2);
	assert_string_equal(trace_text(), "");
}

static int untraced_teardown(void **state)
{
	int ret = fx_teardown(state);

	assert_string_equal(trace_text(), "");	/* the exit reset: not traced */
	trace_done();
	return ret;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writer_lines),
		cmocka_unit_test(test_writer_too_long),
		cmocka_unit_test(test_writer_off),
		cmocka_unit_test_setup_teardown(test_events, traced_setup, traced_teardown),
		cmocka_unit_test_setup_teardown(test_events_mmap_off, traced_setup, traced_teardown),
		cmocka_unit_test_setup_teardown(test_events_off, untraced_setup, untraced_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
