// SPDX-License-Identifier: MIT
/* --net parsing (vmm/cli_net.c): every form docs/networking.md gives, and bad input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lib/log.h"
#include "vmm/cli.h"

#define ARGS(...) ((char *[]){ "minivmm", __VA_ARGS__, NULL })
#define NARGS(...) (int)(sizeof((char *[]){ "minivmm", __VA_ARGS__ }) / sizeof(char *))
#define PARSE(cfg, ...) cli_parse(NARGS(__VA_ARGS__), ARGS(__VA_ARGS__), cfg)

static struct vm_config cfg;

static void test_forms(void **state)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };
	struct net_config n;

	assert_int_equal(cli_parse_net("tap=tap0", &n), 0);
	assert_int_equal(n.kind, NET_BACKEND_TAP);
	assert_string_equal(n.ifname, "tap0");
	assert_false(n.has_mac);
	assert_int_equal(n.queues, 0);
	assert_int_equal(n.vhost, NET_VHOST_MODE_AUTO);
	assert_int_equal(cli_parse_net("bridge=br0,mac=52:54:00:AB:cd:ef,queues=4,vhost=off", &n), 0);
	assert_int_equal(n.kind, NET_BACKEND_BRIDGE);
	assert_true(n.has_mac);
	assert_memory_equal(n.mac, mac, 6);
	assert_int_equal(n.queues, 4);
	assert_int_equal(n.vhost, NET_VHOST_MODE_OFF);
	assert_int_equal(cli_parse_net("macvtap=eth0,vhost=on", &n), 0);
	assert_int_equal(n.kind, NET_BACKEND_MACVTAP);
	assert_int_equal(n.vhost, NET_VHOST_MODE_ON);
	/* Repeatable, up to CLI_MAX_NICS. */
	assert_int_equal(PARSE(&cfg, "--ovmf", "O", "--net", "tap=a", "--net", "bridge=b"), 0);
	assert_int_equal(cfg.nr_nics, 2);
	assert_string_equal(cfg.nics[1].ifname, "b");
	assert_int_equal(PARSE(&cfg, "--ovmf", "O", "--net", "tap=1", "--net", "tap=2", "--net",
			       "tap=3", "--net", "tap=4", "--net", "tap=5", "--net", "tap=6", "--net",
			       "tap=7", "--net", "tap=8", "--net", "tap=9"), -EINVAL);
}

static void test_bad(void **state)
{
	static const char *const bad[] = {
		"", "tap", "tap=", "mac=52:54:00:00:00:01", "tap=a,tap=b",
		"tap=0123456789abcdef", "tap=a/b", "tap=a,mac=01:00:5e:00:00:01",
		"tap=a,mac=00:00:00:00:00:00", "tap=a,mac=52:54:00:00:00", "tap=a,mac=52:54:00:00:00:0g",
		"tap=a,mac=52-54-00-00-00-01", "tap=a,mac=52:54:00:00:00:011", "tap=a,queues=0",
		"tap=a,queues=65", "tap=a,queues=-1", "tap=a,queues=2x", "tap=a,vhost=yes",
		"tap=a,speed=10", "tap=a,queues",
	};
	struct net_config n;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cli_parse_net(bad[i], &n) != -EINVAL)
			fail_msg("--net '%s' was accepted", bad[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_bad),
	};

	log_threshold = LOG_ERROR;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
