// SPDX-License-Identifier: MIT
/*
 * --net tap=NAME|bridge=BR|macvtap=IFACE[,mac=XX:XX:XX:XX:XX:XX][,queues=N]
 * [,vhost=on|off]: a virtio-net card and the host interface behind it
 * (docs/networking.md). Pure parsing; the interfaces are looked up and
 * opened when the VM is built (devices/net/tap.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "vmm/cli.h"

int cli_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char end;

	if (strlen(s) != 17 ||
	    sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &end) != 6)
		return -EINVAL;
	for (unsigned int i = 0; i < 6; i++) {
		if (s[3 * i + 2] != ':' && i < 5)
			return -EINVAL;
		mac[i] = (uint8_t)b[i];
	}
	return 0;
}

static int net_item(const char *arg, char *item, bool first, struct net_config *n)
{
	char *val = strchr(item, '=');

	if (!val) {
		pr_err("--net %s: '%s' needs a value (%s)", arg, item,
		       first ? "write tap=NAME, bridge=BR or macvtap=IFACE first" : "write KEY=VALUE");
		return -EINVAL;
	}
	*val++ = '\0';
	if (!strcmp(item, "tap") || !strcmp(item, "bridge") || !strcmp(item, "macvtap")) {
		if (!first) {
			pr_err("--net %s: %s= must come first, and only once", arg, item);
			return -EINVAL;
		}
		if (!*val || strlen(val) > CLI_IFNAME_MAX || strchr(val, '/')) {
			pr_err("--net %s: '%s' is not an interface name (1-%d characters, no '/')",
			       arg, val, CLI_IFNAME_MAX);
			return -EINVAL;
		}
		n->kind = !strcmp(item, "tap") ? NET_BACKEND_TAP :
			  !strcmp(item, "bridge") ? NET_BACKEND_BRIDGE : NET_BACKEND_MACVTAP;
		snprintf(n->ifname, sizeof(n->ifname), "%s", val);
		return 0;
	}
	if (first) {
		pr_err("--net %s: start with tap=NAME, bridge=BR or macvtap=IFACE", arg);
		return -EINVAL;
	}
	if (!strcmp(item, "mac")) {
		if (cli_parse_mac(val, n->mac)) {
			pr_err("--net %s: mac=%s is not a MAC address (write six hex bytes: 52:54:00:12:34:56)",
			       arg, val);
			return -EINVAL;
		}
		/* A group address, or all zeroes, cannot be a card's own. */
		if ((n->mac[0] & 1) || !(n->mac[0] | n->mac[1] | n->mac[2] | n->mac[3] |
					 n->mac[4] | n->mac[5])) {
			pr_err("--net %s: mac=%s is not a unicast address (the first byte must be even, "
			       "e.g. 52:54:00:12:34:56)", arg, val);
			return -EINVAL;
		}
		n->has_mac = true;
		return 0;
	}
	if (!strcmp(item, "queues")) {
		char *end;
		unsigned long q;

		errno = 0;
		q = strtoul(val, &end, 10);
		if (errno || end == val || *end || *val == '-' || q < 1 || q > CLI_NET_MAX_QUEUES) {
			pr_err("--net %s: queues=%s is not a number from 1 to %d", arg, val,
			       CLI_NET_MAX_QUEUES);
			return -EINVAL;
		}
		n->queues = (unsigned int)q;
		return 0;
	}
	if (!strcmp(item, "vhost")) {
		if (!strcmp(val, "on"))
			n->vhost = NET_VHOST_MODE_ON;
		else if (!strcmp(val, "off"))
			n->vhost = NET_VHOST_MODE_OFF;
		else {
			pr_err("--net %s: vhost=%s is neither on nor off", arg, val);
			return -EINVAL;
		}
		return 0;
	}
	pr_err("--net %s: unknown option '%s' (known: tap, bridge, macvtap, mac, queues, vhost)",
	       arg, item);
	return -EINVAL;
}

int cli_parse_net(const char *arg, struct net_config *n)
{
	char buf[256], *save = NULL, *item;
	bool first = true;

	memset(n, 0, sizeof(*n));
	if (strlen(arg) >= sizeof(buf)) {
		pr_err("--net: option longer than %zu characters", sizeof(buf) - 1);
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", arg);
	for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		if (net_item(arg, item, first, n))
			return -EINVAL;
		first = false;
	}
	if (first) {
		pr_err("--net: empty (write --net tap=NAME, bridge=BR or macvtap=IFACE)");
		return -EINVAL;
	}
	return 0;
}
