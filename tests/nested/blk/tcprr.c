// SPDX-License-Identifier: MIT
/*
 * tcprr: TCP request/response latency for the virtio-net benchmark
 * (tests/bench/net.sh), built static for the guest and run in L1 too.
 *
 *   tcprr server ADDR PORT        answer every byte with one byte, one client
 *                                 after another, forever
 *   tcprr client ADDR PORT N      N round trips of one byte each way
 *                                 (TCP_NODELAY), then "rr N median-us P50
 *                                 p99-us P99" on stdout
 *
 * What it measures is one packet each way through both VMMs' data paths
 * and the guest's and L1's stacks: netperf's TCP_RR with 1-byte messages.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int cmp_u64(const void *a, const void *b)
{
	unsigned long long x = *(const unsigned long long *)a, y = *(const unsigned long long *)b;

	return x < y ? -1 : x > y;
}

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec;
}

static int server(struct sockaddr_in *sa)
{
	int one = 1, s = socket(AF_INET, SOCK_STREAM, 0);
	char c;

	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(s, (struct sockaddr *)sa, sizeof(*sa)) || listen(s, 4)) {
		perror("tcprr: server");
		return 1;
	}
	for (;;) {
		int c_fd = accept(s, NULL, NULL);

		if (c_fd < 0)
			continue;
		setsockopt(c_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		while (read(c_fd, &c, 1) == 1 && write(c_fd, &c, 1) == 1)
			;
		close(c_fd);
	}
}

static int client(struct sockaddr_in *sa, long n)
{
	unsigned long long *t = calloc((size_t)n, sizeof(*t));
	int one = 1, s = socket(AF_INET, SOCK_STREAM, 0);
	char c = 'x';

	if (!t || s < 0 || connect(s, (struct sockaddr *)sa, sizeof(*sa))) {
		perror("tcprr: client");
		return 1;
	}
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (long i = 0; i < n; i++) {
		unsigned long long t0 = now_ns();

		if (write(s, &c, 1) != 1 || read(s, &c, 1) != 1) {
			perror("tcprr: round trip");
			return 1;
		}
		t[i] = now_ns() - t0;
	}
	qsort(t, (size_t)n, sizeof(*t), cmp_u64);
	printf("rr %ld median-us %.1f p99-us %.1f\n", n, t[n / 2] / 1000.0,
	       t[n * 99 / 100] / 1000.0);
	close(s);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };

	if (argc < 4 || inet_pton(AF_INET, argv[2], &sa.sin_addr) != 1) {
		fprintf(stderr, "usage: tcprr server ADDR PORT | tcprr client ADDR PORT N\n");
		return 2;
	}
	sa.sin_port = htons((unsigned short)atoi(argv[3]));
	if (!strcmp(argv[1], "server"))
		return server(&sa);
	if (!strcmp(argv[1], "client") && argc == 5 && atol(argv[4]) > 0)
		return client(&sa, atol(argv[4]));
	fprintf(stderr, "usage: tcprr server ADDR PORT | tcprr client ADDR PORT N\n");
	return 2;
}
