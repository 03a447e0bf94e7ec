// SPDX-License-Identifier: MIT
/*
 * Taps, bridge ports and macvtaps for virtio-net (tap.h; Linux's
 * Documentation/networking/tuntap.rst for the tap ioctls). Runs during
 * set-up only, with minivmm's capabilities: nothing here runs under
 * seccomp.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "devices/net/tap.h"
#include "lib/log.h"

#define TUN_PATH	"/dev/net/tun"

static int read_sys(const char *ifname, const char *attr, char *buf, size_t len)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", ifname, attr);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* Per queue: the vnet header length and non-blocking I/O. */
static int queue_setup(int fd, const char *ifname, unsigned int q)
{
	int hdr = TAP_VNET_HDR_LEN;

	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) {
		pr_err("--net: %s queue %u: TUNSETVNETHDRSZ: %s (the host kernel is too old for virtio-net 1.0 headers)",
		       ifname, q, strerror(errno));
		return -errno;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

static int tun_open_queue(const char *ifname, bool multi, unsigned int q, unsigned int queues,
			  bool ours)
{
	struct ifreq ifr;
	int fd, err;

	fd = open(TUN_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		pr_err("--net: cannot open %s: %s (%s)", TUN_PATH, strerror(err),
		       err == ENOENT ? "load the tun module: modprobe tun" :
		       "run as root, or give this user access to it and CAP_NET_ADMIN");
		return -err;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (multi ? IFF_MULTI_QUEUE : 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		err = errno;
		if (err == E2BIG)
			pr_err("--net: tap %s takes no more queues (%u asked for): lower queues=",
			       ifname, queues);
		else if (err == EPERM)
			pr_err("--net: %s tap %s: %s (run as root, or create it for this user: ip tuntap add dev %s mode tap multi_queue user $USER)",
			       ours ? "creating" : "opening", ifname, strerror(err), ifname);
		else if (err == EBUSY)
			pr_err("--net: tap %s is in use by another process (each VM needs a tap of its own)",
			       ifname);
		else
			pr_err("--net: tap %s queue %u: TUNSETIFF: %s", ifname, q, strerror(err));
		close(fd);
		return -err;
	}
	err = queue_setup(fd, ifname, q);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

static int open_queues(struct tap *t, bool multi, unsigned int queues, bool ours)
{
	for (unsigned int q = 0; q < queues; q++) {
		int fd = tun_open_queue(t->ifname, multi, q, queues, ours);

		if (fd < 0)
			return fd;
		t->fds[t->nr_fds++] = fd;
	}
	return 0;
}

static int open_existing(struct tap *t, const char *name, unsigned int queues)
{
	char flags[32];
	unsigned long f;

	snprintf(t->ifname, sizeof(t->ifname), "%s", name);
	if (!if_nametoindex(name)) {
		pr_err("--net tap=%s: no such interface (create it: ip tuntap add dev %s mode tap multi_queue)",
		       name, name);
		return -ENODEV;
	}
	if (read_sys(name, "tun_flags", flags, sizeof(flags))) {
		pr_err("--net tap=%s: %s is not a tap (give a tap, or use bridge= or macvtap=)", name,
		       name);
		return -EINVAL;
	}
	f = strtoul(flags, NULL, 16);
	if (!(f & IFF_TAP)) {
		pr_err("--net tap=%s: %s is a tun (layer 3), not a tap (ip tuntap add dev NAME mode tap)",
		       name, name);
		return -EINVAL;
	}
	if (!(f & IFF_MULTI_QUEUE) && queues > 1) {
		pr_err("--net tap=%s: the tap has a single queue and %u are asked for (recreate it with multi_queue, or give queues=1)",
		       name, queues);
		return -EINVAL;
	}
	return open_queues(t, f & IFF_MULTI_QUEUE, queues, false);
}

static int if_ioctl(unsigned long req, struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;

	if (s < 0)
		return -errno;
	if (ioctl(s, req, ifr) < 0)
		ret = -errno;
	close(s);
	return ret;
}

static int link_up(const char *ifname)
{
	struct ifreq ifr;
	int ret;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ret = if_ioctl(SIOCGIFFLAGS, &ifr);
	if (ret)
		return ret;
	ifr.ifr_flags |= IFF_UP;
	return if_ioctl(SIOCSIFFLAGS, &ifr);
}

static int open_bridge(struct tap *t, const char *bridge, unsigned int nth, unsigned int queues)
{
	struct ifreq ifr;
	char probe[8];
	int ret;

	if (!if_nametoindex(bridge)) {
		pr_err("--net bridge=%s: no such bridge (create it: ip link add %s type bridge; ip link set %s up)",
		       bridge, bridge, bridge);
		return -ENODEV;
	}
	if (read_sys(bridge, "bridge/stp_state", probe, sizeof(probe))) {
		pr_err("--net bridge=%s: %s is not a bridge (ip -d link show %s)", bridge, bridge,
		       bridge);
		return -EINVAL;
	}
	/* Not persistent: gone with minivmm's last descriptor. */
	snprintf(t->ifname, sizeof(t->ifname), "mvmm%u-%u", (unsigned int)getpid() % 10000000u, nth % 10u);
	ret = open_queues(t, true, queues, true);
	if (ret)
		return ret;
	ret = link_up(t->ifname);
	if (ret) {
		pr_err("--net bridge=%s: bringing %s up: %s", bridge, t->ifname, strerror(-ret));
		return ret;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", bridge);
	ifr.ifr_ifindex = (int)if_nametoindex(t->ifname);
	ret = if_ioctl(SIOCBRADDIF, &ifr);
	if (ret) {
		pr_err("--net bridge=%s: adding %s to the bridge: %s%s", bridge, t->ifname,
		       strerror(-ret), ret == -EPERM ? " (run as root)" : "");
		return ret;
	}
	pr_debug("--net bridge=%s: tap %s, %u queue(s)", bridge, t->ifname, queues);
	return 0;
}

/* ---- macvtap (rtnetlink) ---------------------------------------------------- */

struct nl_req {
	struct nlmsghdr nh;
	struct ifinfomsg ifi;
	char attrs[256];
};

static struct rtattr *nl_attr(struct nl_req *r, unsigned short type, const void *data,
			      size_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)r + NLMSG_ALIGN(r->nh.nlmsg_len));

	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	r->nh.nlmsg_len = NLMSG_ALIGN(r->nh.nlmsg_len) + RTA_ALIGN(a->rta_len);
	return a;
}

static void nl_nest_end(struct nl_req *r, struct rtattr *a)
{
	a->rta_len = (unsigned short)((char *)r + r->nh.nlmsg_len - (char *)a);
}

/* Send one request, wait for its ack: 0 or -errno. */
static int nl_talk(struct nl_req *r)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char buf[4096];
	int s, ret;
	ssize_t n;

	s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (s < 0)
		return -errno;
	r->nh.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	r->nh.nlmsg_seq = 1;
	if (sendto(s, r, r->nh.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		goto out;
	}
	n = recv(s, buf, sizeof(buf), 0);
	if (n < (ssize_t)(NLMSG_HDRLEN + sizeof(struct nlmsgerr))) {
		ret = n < 0 ? -errno : -EPROTO;
		goto out;
	}
	ret = ((struct nlmsghdr *)buf)->nlmsg_type == NLMSG_ERROR ?
	      ((struct nlmsgerr *)NLMSG_DATA(buf))->error : -EPROTO;
out:
	close(s);
	return ret;
}

static int macvtap_del(const char *ifname)
{
	struct nl_req r;

	memset(&r, 0, sizeof(r));
	r.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	r.nh.nlmsg_type = RTM_DELLINK;
	r.ifi.ifi_family = AF_UNSPEC;
	nl_attr(&r, IFLA_IFNAME, ifname, strlen(ifname) + 1);
	return nl_talk(&r);
}

static int macvtap_add(const char *ifname, unsigned int lower)
{
	uint32_t link = lower, mode = MACVLAN_MODE_BRIDGE;
	struct rtattr *info, *data;
	struct nl_req r;

	memset(&r, 0, sizeof(r));
	r.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	r.nh.nlmsg_type = RTM_NEWLINK;
	r.nh.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	r.ifi.ifi_family = AF_UNSPEC;
	r.ifi.ifi_flags = IFF_UP;
	r.ifi.ifi_change = IFF_UP;
	nl_attr(&r, IFLA_IFNAME, ifname, strlen(ifname) + 1);
	nl_attr(&r, IFLA_LINK, &link, sizeof(link));
	info = nl_attr(&r, IFLA_LINKINFO, NULL, 0);
	nl_attr(&r, IFLA_INFO_KIND, "macvtap", 8);
	data = nl_attr(&r, IFLA_INFO_DATA, NULL, 0);
	nl_attr(&r, IFLA_MACVLAN_MODE, &mode, sizeof(mode));
	nl_nest_end(&r, data);
	nl_nest_end(&r, info);
	return nl_talk(&r);
}

/*
 * A process of its own that deletes the macvtap once minivmm is gone: it
 * waits for the end of a pipe only minivmm holds (EOF comes with
 * minivmm's exit, however it ends), forked now, while minivmm still has
 * CAP_NET_ADMIN (it drops every capability before the guest runs).
 */
static int start_reaper(struct tap *t)
{
	int pfd[2];
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -errno;
	}
	if (!pid) {
		char c;

		/* Hold nothing of minivmm's (a tap queue, the VM) meanwhile. */
		if (dup2(pfd[0], 3) < 0)
			_exit(1);
		for (int fd = 4; fd < 1024; fd++)
			close(fd);
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		while (read(3, &c, 1) < 0 && errno == EINTR)
			;
		_exit(macvtap_del(t->ifname) ? 1 : 0);
	}
	close(pfd[0]);
	t->reaper = pid;
	t->reaper_fd = pfd[1];
	return 0;
}

static int open_macvtap(struct tap *t, const char *lower, unsigned int nth, unsigned int queues)
{
	char dev[32], path[64];
	unsigned int maj, min, ifindex, lower_index = if_nametoindex(lower);
	struct ifreq ifr;
	int ret;

	if (!lower_index) {
		pr_err("--net macvtap=%s: no such interface (ip link show)", lower);
		return -ENODEV;
	}
	snprintf(t->ifname, sizeof(t->ifname), "mvtap%u-%u", (unsigned int)getpid() % 10000000u, nth % 10u);
	ret = macvtap_add(t->ifname, lower_index);
	if (ret) {
		pr_err("--net macvtap=%s: creating the macvtap: %s (%s)", lower, strerror(-ret),
		       ret == -EPERM ? "run as root" :
		       ret == -EOPNOTSUPP ? "load the macvtap module: modprobe macvtap" :
		       "ip link add link IFACE type macvtap mode bridge must work");
		return ret;
	}
	ret = start_reaper(t);
	if (ret) {
		macvtap_del(t->ifname);
		return ret;
	}
	ifindex = if_nametoindex(t->ifname);
	snprintf(path, sizeof(path), "macvtap/tap%u/dev", ifindex);
	if (read_sys(t->ifname, path, dev, sizeof(dev)) || sscanf(dev, "%u:%u", &maj, &min) != 2) {
		pr_err("--net macvtap=%s: %s has no character device", lower, t->ifname);
		return -ENODEV;
	}
	/* /dev/tapN, made here if no udev made it. */
	snprintf(path, sizeof(path), "/dev/tap%u", ifindex);
	if (access(path, F_OK) && mknod(path, S_IFCHR | 0600, makedev(maj, min)) < 0) {
		pr_err("--net macvtap=%s: creating %s: %s", lower, path, strerror(errno));
		return -errno;
	}
	for (unsigned int q = 0; q < queues; q++) {
		int fd = open(path, O_RDWR | O_CLOEXEC);

		if (fd < 0) {
			pr_err("--net macvtap=%s: opening %s (queue %u): %s", lower, path, q,
			       strerror(errno));
			return -errno;
		}
		t->fds[t->nr_fds++] = fd;
		memset(&ifr, 0, sizeof(ifr));
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE;
		if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
			pr_err("--net macvtap=%s: %s: TUNSETIFF: %s", lower, path, strerror(errno));
			return -errno;
		}
		ret = queue_setup(fd, t->ifname, q);
		if (ret)
			return ret;
	}
	pr_debug("--net macvtap=%s: %s (%s), %u queue(s)", lower, t->ifname, path, queues);
	return 0;
}

int tap_open(struct tap *t, enum tap_kind kind, const char *name, unsigned int nth,
	     unsigned int queues)
{
	int ret;

	memset(t, 0, sizeof(*t));
	t->reaper = -1;
	t->reaper_fd = -1;
	if (!queues || queues > TAP_MAX_QUEUES) {
		pr_err("--net: queues=%u: a card takes 1 to %d queue pairs", queues, TAP_MAX_QUEUES);
		return -EINVAL;
	}
	if (kind == TAP_EXISTING)
		ret = open_existing(t, name, queues);
	else if (kind == TAP_BRIDGE)
		ret = open_bridge(t, name, nth, queues);
	else
		ret = open_macvtap(t, name, nth, queues);
	if (ret)
		tap_close(t);
	return ret;
}

void tap_release_fds(struct tap *t)
{
	t->nr_fds = 0;
}

void tap_close(struct tap *t)
{
	for (unsigned int i = 0; i < t->nr_fds; i++)
		close(t->fds[i]);
	t->nr_fds = 0;
	if (t->reaper_fd >= 0) {
		/* Its EOF: the reaper deletes the macvtap now; wait for it
		 * when we may (at set-up errors; at exit, seccomp allows
		 * waitid only for pidfds, and the exit itself is the signal). */
		close(t->reaper_fd);
		t->reaper_fd = -1;
	}
}
