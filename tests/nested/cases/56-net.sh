#!/usr/bin/env bash
# 56-net: virtio-net (docs/networking.md), inside L1
# only (a tap, a bridge and 10.0.56.0/24, 10.0.57.0/24 private to it; no
# internet). Guest A (2 vCPUs) has a card on the tap tap56 (queues=2) and one
# on the bridge br56 (a tap of minivmm's); guest B, a second minivmm, has one
# card on br56. The tap card runs the userspace data path (vhost=off), the
# bridge cards the default (vhost-net; 59-vhost checks that path). Before
# booting Linux, A's startup.nsh runs `ifconfig -l` in the UEFI shell: OVMF's
# own network stack (VirtioNetDxe) lists both cards by MAC.
# Then Linux in A pings L1 over the tap, fetches a file from L1 from each vCPU
# (so both queue pairs carry traffic: minivmm's per-pair counters say so) and
# serves one that L1 fetches; both checked by sha256 against the originals. B
# pings A over the bridge and fetches a file from A byte for byte. At the end
# the bridge ports minivmm made are gone, and bad --net values are refused with
# one line each.
# nested-seconds: 110
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
source tests/nested/blk/images.sh

MAC_A=52:54:00:56:00:02
MAC_A2=52:54:00:57:00:02
MAC_B=52:54:00:57:00:03

if in_l1; then
	O=$MINIVMM_L1_OUT
	# L1's initramfs loads tun, bridge and macvtap (tests/nested/prepare.sh);
	# an L1 started from an initramfs built without them (the cache's
	# current one is whichever tree prepared last) gets them from its
	# kernel's tree here.
	kroot=${MINIVMM_CACHE:-/var/cache/minivmm}/kernel-$(uname -r)/root
	for m in tun bridge macvtap; do
		[[ -d /sys/module/$m ]] || modprobe -d "$kroot" "$m" || fail "cannot load $m"
	done
	# Bad input first: one line each, before any guest runs.
	ip tuntap add dev tap56s mode tap
	for bad in "tap=nosuch56" "bridge=nosuch56" "tap=tap56,mac=01:00:5e:00:00:01" \
		   "tap=tap56,queues=99" "tap=tap56,mac=52:54:00" "tap=tap56s,queues=2" \
		   "bridge=tap56s" "macvtap=nosuch56"; do
		set +e
		out=$(./minivmm --firmware tests/guest/longmode.bin --net "$bad" 2>&1 < /dev/null)
		rc=$?
		set -e
		echo "  --net $bad: status $rc: $out"
		[[ $rc != 0 && $(tail -1 <<< "$out") == *--net* ]] || fail "--net $bad: want an error line"
	done
	ip tuntap add dev tap56 mode tap multi_queue
	ip addr add 10.0.56.1/24 dev tap56
	ip link set tap56 up
	ip link add br56 type bridge
	ip link set br56 up
	ip link set lo up
	mkdir -p /tmp/www
	cp "$O/l1.bin" /tmp/www/l1.bin
	busybox httpd -p 10.0.56.1:8056 -h /tmp/www

	# --boot disk: a bootorder file, so OVMF connects the disk only and
	# tries no network boot (minutes of DHCP timeouts per card) before
	# the shell; startup.nsh connects the cards itself.
	timeout 300 ./minivmm --ovmf /usr/share/ovmf/OVMF.fd --memory 512M --cpus 2 --verbose \
		--boot disk --disk "path=$O/esp-a.img,readonly=on" \
		--net "tap=tap56,queues=2,mac=$MAC_A,vhost=off" --net "bridge=br56,mac=$MAC_A2,queues=1" \
		--serial "file:$O/serial-a.txt" < /dev/null > "$O/minivmm-a.log" 2>&1 &
	pid_a=$!
	timeout 300 ./minivmm --ovmf /usr/share/ovmf/OVMF.fd --memory 256M --cpus 1 --verbose \
		--boot disk --disk "path=$O/esp-b.img,readonly=on" --net "bridge=br56,mac=$MAC_B" \
		--serial "file:$O/serial-b.txt" < /dev/null > "$O/minivmm-b.log" 2>&1 &
	pid_b=$!
	for ((i = 0; i < 60; i++)); do
		[[ $(ls /sys/class/net/br56/brif | wc -l) == 2 ]] && break
		sleep 0.5
	done
	echo "bridge ports while both run: $(ls /sys/class/net/br56/brif | tr '\n' ' ')"
	[[ $(ls /sys/class/net/br56/brif | wc -l) == 2 ]] || fail "want two ports on br56"

	# A serves its file once it says NET-SERVE.
	for ((i = 0; i < 240; i++)); do
		grep -aq "NET-SERVE\|MINIVMM-GUEST-FAIL" "$O/serial-a.txt" 2> /dev/null && break
		kill -0 $pid_a 2> /dev/null || break
		sleep 1
	done
	grep -aq "NET-SERVE" "$O/serial-a.txt" || {
		tr -d '\033\r' < "$O/serial-a.txt" | tail -30
		fail "guest A never served its file"
	}
	timeout 60 busybox wget -q -O /tmp/from-a.bin http://10.0.56.2/pattern.bin ||
		fail "fetching pattern.bin from guest A"
	echo "from guest A: sha256 $(sha256sum < /tmp/from-a.bin | cut -d' ' -f1)"
	cmp /tmp/from-a.bin "$O/pattern.bin" || fail "the file from guest A differs"
	echo "ok: L1 fetched guest A's pattern.bin byte for byte"
	touch /tmp/www/done

	set +e
	wait $pid_b
	rc_b=$?
	wait $pid_a
	rc_a=$?
	set -e
	for g in a b; do
		sed "s/^/    $g: /" "$O/minivmm-$g.log" | grep -v "^    $g: .*pr_debug" | tail -40
		tr -d '\033\r' < "$O/serial-$g.txt" | grep -a 'MINIVMM-\|virtio\|eth\|name \|mac addr' |
			sed "s/^/  guest $g: /" || true
	done
	[[ $rc_a == 0 && $rc_b == 0 ]] || fail "minivmm ended with $rc_a (A) and $rc_b (B), expected 0"
	for g in a b; do
		grep -aq "MINIVMM-GUEST-FAIL" "$O/serial-$g.txt" &&
			fail "guest $g says: $(grep -a MINIVMM-GUEST-FAIL "$O/serial-$g.txt" | head -1)"
		grep -aq "MINIVMM-GUEST-DONE" "$O/serial-$g.txt" || fail "guest $g did not finish"
	done
	# OVMF's network stack listed both of A's cards.
	tr -d '\r' < "$O/serial-a.txt" | grep -ai "mac addr.*$MAC_A" > /dev/null ||
		fail "the UEFI shell's ifconfig -l did not list $MAC_A"
	tr -d '\r' < "$O/serial-a.txt" | grep -ai "mac addr.*$MAC_A2" > /dev/null ||
		fail "the UEFI shell's ifconfig -l did not list $MAC_A2"
	echo "ok: the UEFI shell lists both cards"
	# Both pairs of the tap card carried frames each way.
	for p in 0 1; do
		line=$(grep "virtio-net0: pair $p: " "$O/minivmm-a.log") || fail "no counters for pair $p"
		echo "  $line"
		[[ $line =~ rx\ ([0-9]+)\ frames.*tx\ ([0-9]+)\ frames ]] || fail "counters: $line"
		((BASH_REMATCH[1] > 0 && BASH_REMATCH[2] > 0)) || fail "pair $p idle: $line"
	done
	ls /sys/class/net | grep -q '^mvmm' && fail "a tap of minivmm's is left: $(ls /sys/class/net)"
	[[ -z $(ls /sys/class/net/br56/brif) ]] || fail "br56 still has ports"
	echo "ok: minivmm's taps and bridge ports are gone"
	# A macvtap (on the bridge, the only Ethernet device L1 has): made for
	# the run, gone after it (a test payload that ends at once).
	./minivmm --firmware tests/guest/longmode.bin --testdev --net macvtap=br56,queues=2 \
		< /dev/null > "$O/minivmm-m.log" 2>&1 || fail "the macvtap run: $(cat "$O/minivmm-m.log")"
	cat "$O/minivmm-m.log"
	grep -q "virtio-net0: macvtap mvtap[0-9]*-0 at" "$O/minivmm-m.log" || fail "no macvtap made"
	for ((i = 0; i < 50; i++)); do
		ls /sys/class/net | grep -q '^mvtap' || break
		sleep 0.1
	done
	ls /sys/class/net | grep -q '^mvtap' && fail "the macvtap is left: $(ls /sys/class/net)"
	echo "ok: the macvtap is gone after minivmm's exit"
	echo "NET-OK"
	exit 0
fi

blk_guest_files "$NESTED_OUT"
BLK_EXTRA_MODULES=virtio_net blk_initramfs "$NESTED_OUT/initrd.img"
head -c $((3 << 20)) /dev/urandom > "$NESTED_OUT/l1.bin"
blk_esp "$NESTED_OUT/esp-a.img" 64 \
	"$(printf 'connect -r\nifconfig -l\n%s' "$(blk_startup_linux minivmm.test=net minivmm.net_mac=$MAC_A \
		minivmm.net_ip=10.0.56.2 minivmm.net_peer=10.0.56.1 minivmm.net_mac2=$MAC_A2 \
		minivmm.net_ip2=10.0.57.2)")" \
	"$NESTED_OUT/vmlinuz" "$NESTED_OUT/initrd.img"
blk_esp "$NESTED_OUT/esp-b.img" 64 \
	"$(blk_startup_linux minivmm.test=netpeer minivmm.net_mac=$MAC_B minivmm.net_ip=10.0.57.3 \
		minivmm.net_peer=10.0.57.2)" \
	"$NESTED_OUT/vmlinuz" "$NESTED_OUT/initrd.img"

l1_run --timeout 600 -- bash "$NESTED_CASE_FILE"
assert_rc 0
assert_log_contains "NET-OK"
l1_sum=$(sha256sum < "$NESTED_OUT/l1.bin" | cut -d' ' -f1)
assert_log_contains "MINIVMM-GUEST: net l1.bin cpu0 $l1_sum"
assert_log_contains "MINIVMM-GUEST: net l1.bin cpu1 $l1_sum"
assert_log_contains "netpeer fetched pattern.bin from 10.0.57.2 byte for byte"
