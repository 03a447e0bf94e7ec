#!/usr/bin/env bash
# 59-vhost: virtio-net on the vhost-net data path (docs/networking.md, "vhost-net"),
# inside L1 only (a tap and 10.0.59.0/24 private to it). First, with
# /dev/vhost-net moved away: vhost=on is refused with one line naming it, and
# the default falls back to the userspace data path with one line. Then a guest
# (2 vCPUs) with a card on the multiqueue tap tap59 (queues=2, vhost=on): Linux
# pings L1, fetches a file from L1 from each vCPU (both queue pairs) and serves
# one that L1 fetches, both checked by sha256; meanwhile a vhost worker
# (vhost-PID) runs per queue pair. At the end minivmm's log shows every vhost
# ring stopped (SET_BACKEND -1, its index saved) before the VM's memory went,
# and no warning about the card.
# nested-seconds: 60
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
source tests/nested/blk/images.sh

MAC=52:54:00:59:00:02

if in_l1; then
	O=$MINIVMM_L1_OUT
	# L1's initramfs loads tun and vhost_net (tests/nested/prepare.sh); an
	# L1 booted from an initramfs of another tree (the shared cache's
	# current one is whichever tree prepared last) loads them here.
	kroot=${MINIVMM_CACHE:-/var/cache/minivmm}/kernel-$(uname -r)/root
	for m in tun vhost_net; do
		[[ -d /sys/module/$m ]] || modprobe -d "$kroot" "$m" || fail "cannot load $m"
	done
	ip tuntap add dev tap59 mode tap multi_queue
	ip addr add 10.0.59.1/24 dev tap59
	ip link set tap59 up
	ip link set lo up
	[[ -c /dev/vhost-net ]] || fail "no /dev/vhost-net in L1 (vhost_net not loaded?)"

	# No /dev/vhost-net: vhost=on is an error, the default a fallback.
	mv /dev/vhost-net /dev/vhost-net.away
	set +e
	out=$(./minivmm --firmware tests/guest/longmode.bin --testdev --net tap=tap59,vhost=on \
		2>&1 < /dev/null)
	rc=$?
	set -e
	echo "  vhost=on without /dev/vhost-net: status $rc: $out"
	[[ $rc == 1 && $(wc -l <<< "$out") == 1 && $out == *--net*vhost=on*/dev/vhost-net* ]] ||
		fail "vhost=on without /dev/vhost-net: want one error line"
	set +e
	out=$(./minivmm --firmware tests/guest/longmode.bin --testdev --net tap=tap59 2>&1 < /dev/null)
	rc=$?
	set -e
	mv /dev/vhost-net.away /dev/vhost-net
	echo "  default without /dev/vhost-net: status $rc: $(grep -c . <<< "$out") lines"
	[[ $rc == 0 ]] || fail "the default without /dev/vhost-net ended with $rc: $out"
	[[ $(grep -c "no vhost-net" <<< "$out") == 1 ]] || fail "want one fallback line: $out"
	grep "userspace data path" <<< "$out" | sed 's/^/    /'

	mkdir -p /tmp/www
	cp "$O/l1.bin" /tmp/www/l1.bin
	busybox httpd -p 10.0.59.1:8056 -h /tmp/www
	# --boot disk: no network boot attempts (minutes of DHCP timeouts).
	timeout 300 ./minivmm --ovmf /usr/share/ovmf/OVMF.fd --memory 512M --cpus 2 --verbose \
		--boot disk --disk "path=$O/esp.img,readonly=on" \
		--net "tap=tap59,queues=2,mac=$MAC,vhost=on" \
		--serial "file:$O/serial.txt" < /dev/null > "$O/minivmm.log" 2>&1 &
	pid=$!
	for ((i = 0; i < 240; i++)); do
		grep -aq "NET-SERVE\|MINIVMM-GUEST-FAIL" "$O/serial.txt" 2> /dev/null && break
		kill -0 $pid 2> /dev/null || break
		sleep 1
	done
	grep -aq "NET-SERVE" "$O/serial.txt" || {
		tr -d '\033\r' < "$O/serial.txt" | tail -30
		tail -20 "$O/minivmm.log"
		fail "the guest never served its file"
	}
	# vhost's workers are named vhost-PID after their owner (minivmm, the
	# only VMM here; $pid is timeout's): kernel threads before Linux 6.4,
	# threads of the owner since; every thread is once in */task/.
	workers=$(cat /proc/[0-9]*/task/*/comm 2> /dev/null | grep -c "^vhost-[0-9]*\$" || true)
	echo "vhost workers: $workers"
	[[ $workers -ge 2 ]] || fail "want a vhost worker per queue pair, found $workers"
	timeout 60 busybox wget -q -O /tmp/from-guest.bin http://10.0.59.2/pattern.bin ||
		fail "fetching pattern.bin from the guest"
	cmp /tmp/from-guest.bin "$O/pattern.bin" || fail "the file from the guest differs"
	echo "ok: L1 fetched the guest's pattern.bin byte for byte over vhost-net"
	touch /tmp/www/done
	set +e
	wait $pid
	rc=$?
	set -e
	grep -v "pr_debug" "$O/minivmm.log" | grep "virtio-net\|vhost\|warning" | sed 's/^/    /' | tail -30
	tr -d '\033\r' < "$O/serial.txt" | grep -a 'MINIVMM-\|virtio' | sed 's/^/  guest: /' || true
	[[ $rc == 0 ]] || fail "minivmm ended with $rc, expected 0"
	grep -aq "MINIVMM-GUEST-FAIL" "$O/serial.txt" &&
		fail "guest says: $(grep -a MINIVMM-GUEST-FAIL "$O/serial.txt" | head -1)"
	grep -aq "MINIVMM-GUEST-DONE" "$O/serial.txt" || fail "the guest did not finish"
	grep -q "virtio-net0: .*vhost-net data path" "$O/minivmm.log" || fail "not the vhost-net data path"
	for p in 0 1; do
		grep -q "virtio-net0: vhost: queue pair $p stopped at avail" "$O/minivmm.log" ||
			fail "vhost's queue pair $p was never stopped"
	done
	grep "warning" "$O/minivmm.log" | grep -q "virtio-net\|vhost" &&
		fail "warnings: $(grep warning "$O/minivmm.log" | grep "virtio-net\|vhost" | head -3)"
	echo "ok: every vhost ring stopped, no warning"
	echo "VHOST-OK"
	exit 0
fi

blk_guest_files "$NESTED_OUT"
BLK_EXTRA_MODULES=virtio_net blk_initramfs "$NESTED_OUT/initrd.img"
head -c $((3 << 20)) /dev/urandom > "$NESTED_OUT/l1.bin"
blk_esp "$NESTED_OUT/esp.img" 64 \
	"$(blk_startup_linux minivmm.test=net minivmm.net_mac=$MAC minivmm.net_ip=10.0.59.2 \
		minivmm.net_peer=10.0.59.1)" \
	"$NESTED_OUT/vmlinuz" "$NESTED_OUT/initrd.img"

l1_run --timeout 600 -- bash "$NESTED_CASE_FILE"
assert_rc 0
assert_log_contains "VHOST-OK"
l1_sum=$(sha256sum < "$NESTED_OUT/l1.bin" | cut -d' ' -f1)
assert_log_contains "MINIVMM-GUEST: net l1.bin cpu0 $l1_sum"
assert_log_contains "MINIVMM-GUEST: net l1.bin cpu1 $l1_sum"
