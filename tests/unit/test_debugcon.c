// SPDX-License-Identifier: MIT
/* Unit tests for the debug console port. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "devices/bus.h"
#include "devices/legacy/debugcon.h"
#include "lib/layout.h"
#include "lib/log.h"

#define PORT	LAYOUT_DEBUGCON_PORT

struct fixture {
	struct bus pio;
	struct debugcon *dc;
	int pipe[2];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || bus_init(&f->pio, "pio") || pipe2(f->pipe, O_NONBLOCK))
		return -1;
	f->dc = debugcon_create(NULL, f->pipe[1]);
	if (!f->dc || debugcon_attach(f->dc, &f->pio, PORT))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	debugcon_destroy(f->dc);
	assert_int_equal(f->pio.nr_ranges, 0);
	bus_exit(&f->pio);
	close(f->pipe[0]);
	close(f->pipe[1]);
	free(f);
	return 0;
}

static void test_reads_e9(void **state)
{
	struct fixture *f = *state;
	uint8_t v = 0;

	/* OVMF's PlatformDebugLibIoPort probes for exactly this. */
	assert_int_equal(bus_read(&f->pio, PORT, &v, 1), 0);
	assert_int_equal(v, 0xe9);
	/* One port only: the neighbours and wide accesses are not ours. */
	assert_int_equal(bus_read(&f->pio, PORT + 1, &v, 1), -ENOENT);
	assert_int_equal(bus_read(&f->pio, PORT - 1, &v, 1), -ENOENT);
	assert_int_equal(bus_read(&f->pio, PORT, &(uint16_t){ 0 }, 2), -ENOENT);
	assert_int_equal(debugcon_attach(f->dc, &f->pio, 0xe9), -EBUSY);
}

static void test_output(void **state)
{
	struct fixture *f = *state;
	const char *msg = "SecCoreStartupWithStack(0xFFFCC000, 0x820000)\r\n";
	char buf[128] = { 0 };

	for (const char *p = msg; *p; p++)
		assert_int_equal(bus_write(&f->pio, PORT, p, 1), 0);
	assert_int_equal(read(f->pipe[0], buf, sizeof(buf)), (ssize_t)strlen(msg));
	assert_string_equal(buf, msg);
}

static void test_no_fd(void **state)
{
	struct bus pio;
	struct debugcon *dc;
	uint8_t v = 'x';

	assert_int_equal(bus_init(&pio, "pio"), 0);
	dc = debugcon_create(NULL, -1);
	assert_non_null(dc);
	assert_int_equal(debugcon_attach(dc, &pio, 0xe9), 0);
	assert_int_equal(bus_write(&pio, 0xe9, &v, 1), 0);
	assert_int_equal(bus_read(&pio, 0xe9, &v, 1), 0);
	assert_int_equal(v, 0xe9);
	debugcon_destroy(dc);
	bus_exit(&pio);
}

static void test_reader_gone(void **state)
{
	struct fixture *f = *state;
	uint8_t v = 'x';

	/* With the reader closed the byte is dropped with a warning, and
	 * the vCPU is not stopped (SIGPIPE is ignored for this test, as
	 * the VMM should ignore it). */
	signal(SIGPIPE, SIG_IGN);
	close(f->pipe[0]);
	f->pipe[0] = -1;
	assert_int_equal(bus_write(&f->pio, PORT, &v, 1), 0);
	assert_int_equal(bus_write(&f->pio, PORT, &v, 1), 0);
	signal(SIGPIPE, SIG_DFL);
}

static void *writer(void *arg)
{
	struct fixture *f = arg;
	const char line[] = "0123456789abcdef";

	for (int i = 0; i < 500; i++)
		for (size_t j = 0; j < sizeof(line) - 1; j++)
			bus_write(&f->pio, PORT, &line[j], 1);
	return NULL;
}

static void test_concurrent(void **state)
{
	struct fixture *f = *state;
	static char buf[4 * 500 * 16 + 1];
	pthread_t t[4];
	size_t total = 0;
	ssize_t n;

	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, writer, f), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	while ((n = read(f->pipe[0], buf + total, sizeof(buf) - total)) > 0)
		total += (size_t)n;
	assert_int_equal(total, 4 * 500 * 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reads_e9, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output, setup, teardown),
		cmocka_unit_test(test_no_fd),
		cmocka_unit_test_setup_teardown(test_reader_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
	};

	log_threshold = LOG_ERROR;
	return cmocka_run_group_tests_name("debugcon", tests, NULL, NULL);
}
