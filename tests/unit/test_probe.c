// SPDX-License-Identifier: MIT
/*
 * minivmm probe's side of the payload's console (vmm/probe.c): the
 * "probe-" lines tests/guest/probe.bin prints, read back; the table row
 * and the JSON line per measure (cycles, and ns at the guest's TSC
 * frequency), parsed again with lib/json.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lib/json.h"
#include "vmm/probe.h"

static void test_parse(void **state)
{
	struct probe_result r;
	uint64_t hz = 0;

	assert_int_equal(probe_parse_line("probe-tsc-hz: 2096010000", &r, &hz), 0);
	assert_int_equal(hz, 2096010000ULL);
	assert_int_equal(probe_parse_line("probe-result: name=bar-read mode=trapped n=200 min=154264 median=157136 p99=743800 max=4143717",
					  &r, &hz), 1);
	assert_string_equal(r.name, "bar-read-trapped");
	assert_string_equal(r.mode, "trapped");
	assert_int_equal(r.n, 200);
	assert_int_equal(r.min, 154264);
	assert_int_equal(r.median, 157136);
	assert_int_equal(r.p99, 743800);
	assert_int_equal(r.max, 4143717);
	assert_int_equal(probe_parse_line("probe-result: name=irq-msi mode=mapped n=1 min=1 median=2 p99=3 max=4",
					  &r, &hz), 1);
	assert_string_equal(r.name, "irq-msi");
	/* Anything else: not ours (the guest's other lines, cut lines). */
	assert_int_equal(probe_parse_line("RESULT: PASS", &r, &hz), -EINVAL);
	assert_int_equal(probe_parse_line("probe-result: name=x mode=mapped n=1 min=1", &r, &hz), -EINVAL);
	assert_int_equal(probe_parse_line("", &r, &hz), -EINVAL);
}

static void test_output(void **state)
{
	struct probe_result r = { .name = "bar-read-mapped", .mode = "mapped", .n = 200,
				  .min = 840, .median = 966, .p99 = 7077, .max = 10056921 };
	struct json_object o;
	struct json_error err;
	char line[1024], buf[1024], row[256];
	const struct json_field *f;

	assert_int_equal(probe_json_line(&r, "0000:00:10.0", 2096010000ULL, line, sizeof(line)), 0);
	assert_int_equal(json_parse_object(line, strlen(line), &o, buf, sizeof(buf), &err), 0);
	assert_string_equal(json_get(&o, "measure")->str, "bar-read-mapped");
	assert_string_equal(json_get(&o, "bdf")->str, "0000:00:10.0");
	f = json_get(&o, "cycles");
	assert_int_equal(f->type, JSON_OBJECT);
	assert_non_null(strstr(line, "\"cycles\":{\"min\":840,\"median\":966,\"p99\":7077,\"max\":10056921}"));
	/* ns = cycles * 1e9 / Hz, rounded */
	assert_non_null(strstr(line, "\"ns\":{\"min\":401,\"median\":461,\"p99\":3376,\"max\":4798126}"));
	probe_human_line(&r, 2096010000ULL, row, sizeof(row));
	assert_non_null(strstr(row, "bar-read-mapped"));
	assert_non_null(strstr(row, " 966       461"));

	/* TSC frequency unknown: cycles only, no ns object. */
	assert_int_equal(probe_json_line(&r, "0000:00:10.0", 0, line, sizeof(line)), 0);
	assert_null(strstr(line, "\"ns\""));
	probe_human_line(&r, 0, row, sizeof(row));
	assert_non_null(strstr(row, " -"));
	assert_int_equal(probe_json_line(&r, "0000:00:10.0", 1, line, 40), -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_output),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
