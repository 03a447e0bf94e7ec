#!/bin/busybox sh
# tests/nested/blk/guest-init.sh — PID 1 of the Linux guest that minivmm (or
# QEMU) boots from a virtio-blk ESP in the nested virtio-blk tests. Copied into
# the guest initramfs by images.sh. The kernel command line picks the test:
#
#   minivmm.test=linux       /dev/vda (rw) and /dev/vdb (read-only): pattern
#                            written and read back, discard, write-zeroes,
#                            writes to vdb refused; /dev/vdc (optional) sits on
#                            a full host file system: writes must fail (IOERR)
#   minivmm.test=durability  write the pattern to every writable disk, flush,
#                            say FLUSHED, then keep writing until killed
#   minivmm.test=fio         run the fio jobs in /fio on /dev/vda (or on
#                            /dev/minivmm.fio_dev, e.g. nvme0n1: a passed
#                            NVMe), each minivmm.fio_runtime seconds (benchmark);
#                            says the clocksource before and after each job
#   minivmm.test=ahci        AHCI (46-ahci, booted from a CD-ROM): read all of
#                            /dev/sr0 (the ISO) and print its md5 for the host
#                            to compare; write the pattern to the SATA disk
#                            /dev/sda, fsync, read it back O_DIRECT (four
#                            readers at once: NCQ) and compare; discard a MiB
#                            if the disk offers TRIM
#   minivmm.test=tpm         the TPM (51-tpm): tpm_crb bound (/dev/tpm0, the
#                            MSFT0101 device), PCRs 0-7 (SHA-256) printed, none
#                            zero; NV index minivmm.nv_index read if it exists
#                            ("NV-READ hex"), else defined and minivmm.nv
#                            written to it ("NV-WRITTEN hex")
#   minivmm.test=teardown    write the pattern to /dev/vda, flush, say FLUSHED,
#                            keep unflushed O_DIRECT writes going elsewhere on
#                            the disk, and after ~1 s end the way minivmm.end=
#                            says: poweroff (poweroff -f), reboot (reboot -f),
#                            wait (run until the host stops minivmm), crash
#                            (fetch instructions from MMIO: first at CPL 3,
#                            which only kills the process, then at CPL 0 from
#                            a crash kernel after a panic, which KVM cannot
#                            run; needs crashkernel= on the command line)
#   minivmm.test=bar64       passed devices with big 64-bit BARs (54-bar64): every
#                            ivshmem (1af4:1110) keeps BAR 2 where the firmware
#                            put it (no "can't claim", nothing reassigned); the
#                            string minivmm.bar_tag= is written at the start and
#                            the last page of each BAR 2 (sysfs resource2 mmap),
#                            for the host to find in the backing file; the PCIe
#                            link registers of every passed PCIe function and
#                            of its root port are printed for the host
#   minivmm.test=hyperv      50-hyperv: which hypervisor Linux picked, its clock
#                            source and clock event device; under Hyper-V
#                            (minivmm --hyperv on --hide-kvm) the enlightenments
#                            it took up, then a panic (sysrq c) that Linux reports
#                            through the Hyper-V crash MSRs; under KVM, a power-off
#   minivmm.test=idle        say IDLE, then nothing for minivmm.idle_s seconds
#                            (default 15) and power off: the idle-exits rows of
#                            make bench (tests/bench/hyperv.sh)
#   minivmm.test=topology    the CPU topology as Linux sees it (53-topology):
#                            per CPU "MINIVMM-GUEST: topo cpuN package P core C
#                            siblings LIST apicid A", /proc/cpuinfo's flags,
#                            and every CPUID leaf of every CPU as
#                            "MINIVMM-CPUID cpuN LEAF.SUB EAX EBX ECX EDX"
#   minivmm.test=net         virtio-net (56-net): the card with MAC
#                            minivmm.net_mac gets minivmm.net_ip/24, pings
#                            minivmm.net_peer, fetches http://PEER:8056/l1.bin
#                            twice (once from each CPU: both queue pairs) and
#                            prints its sha256 ("net l1.bin SHA"), serves
#                            /pattern.bin over HTTP and says NET-SERVE, then
#                            waits (<= 120 s) for http://PEER:8056/done; with
#                            minivmm.net_mac2 / net_ip2, that card is up too and
#                            answers the peer on the bridge meanwhile
#   minivmm.test=netbench    virtio-net benchmark (tests/bench/net.sh): the card
#                            with MAC minivmm.net_mac gets minivmm.net_ip/24;
#                            iperf3 to minivmm.net_peer for minivmm.netbench_s
#                            seconds each way ("NETBENCH-BEGIN tx|rx" and
#                            "-END" around each, for the host's CPU samples,
#                            then "netbench tx|rx bytes B bps R": what the
#                            receiver got), and
#                            minivmm.rr_n 1-byte TCP round trips to PEER:8061
#                            (tcprr: "netbench rr N median-us M p99-us P")
#   minivmm.test=netpeer     the second guest on the bridge: net_mac/net_ip as
#                            above, pings minivmm.net_peer (<= 120 s), fetches its
#                            /pattern.bin and compares it with its own
#
# Lines for the host: "MINIVMM-GUEST: ..." progress, "MINIVMM-GUEST-FAIL: why",
# "MINIVMM-GUEST-DONE" at the end; then it powers off (ACPI S5).

/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

say() { echo "MINIVMM-GUEST: $*"; }
# The pause lets the console drain: poweroff -f's own "reboot: Power down"
# otherwise cuts the last line short on a slow host.
off() { sync; sleep 0.5; poweroff -f; sleep 10; }
fail() { echo "MINIVMM-GUEST-FAIL: $*"; off; }
# clock_say WHEN [dmesg]: the guest's clocksource, and with "dmesg" the
# kernel's lines on it. A clocksource that exits (acpi_pm, hpet) would cost
# an exit to the VMM per clock read, several per I/O under fio; kvm-clock
# costs none.
clock_say() {
	local d=/sys/devices/system/clocksource/clocksource0
	say "CLOCK $1: current $(cat $d/current_clocksource), available '$(cat $d/available_clocksource)'"
	[ "${2:-}" = dmesg ] || return 0
	dmesg | grep -i "clocksource:\|tsc:\|kvm-clock:" | grep -v jiffies | tail -n 12 |
		while read -r l; do say "CLOCK $1 dmesg: $l"; done
}

while read -r m; do
	insmod "/lib/modules/$m" || fail "insmod $m"
done < /lib/modules/load-order

param() { sed -n "s/.*minivmm\.$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
TEST=$(param test)
PATTERN_OFF=$(param pattern_off)	# in 64 KiB blocks
PATTERN_OFF=${PATTERN_OFF:-128}

if [ "$TEST" != ahci ]; then
	for _ in $(seq 100); do [ -b /dev/vda ] && break; sleep 0.1; done
	[ -b /dev/vda ] || fail "no /dev/vda (virtio_blk found no disk)"
fi
say "kernel $(uname -r), $(nproc) CPUs, clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource), disks: $(ls /sys/block | grep 'vd\|sd\|sr' | tr '\n' ' ')"

t_linux() {
	local q
	[ -b /dev/vdb ] || fail "no /dev/vdb"
	q=$(ls /sys/block/vda/mq | wc -l)
	say "vda: $(cat /sys/block/vda/size) sectors, serial '$(cat /sys/block/vda/serial)', $q queues, ro=$(cat /sys/block/vda/ro)"
	say "vdb: $(cat /sys/block/vdb/size) sectors, ro=$(cat /sys/block/vdb/ro)"
	[ "$(cat /sys/block/vda/ro)" = 0 ] || fail "vda is read-only"
	[ "$(cat /sys/block/vdb/ro)" = 1 ] || fail "vdb is not read-only (VIRTIO_BLK_F_RO)"
	[ "$(cat /sys/block/vda/serial)" = "$(param serial)" ] || fail "vda serial is not $(param serial)"
	[ "$q" = "$(nproc)" ] || fail "vda has $q queues for $(nproc) CPUs"

	# The pattern, through the page cache, made durable with fsync + sync.
	dd if=/pattern.bin of=/dev/vda bs=64k seek="$PATTERN_OFF" conv=fsync 2>/dev/null ||
		fail "writing the pattern to vda"
	sync
	# Read back around the guest's page cache.
	n=$(( $(stat -c %s /pattern.bin) / 65536 ))
	dd if=/dev/vda of=/tmp/back bs=64k skip="$PATTERN_OFF" count="$n" iflag=direct 2>/dev/null ||
		fail "reading the pattern back"
	cmp /tmp/back /pattern.bin || fail "the pattern read back differs"
	say "pattern: $n x 64 KiB written at block $PATTERN_OFF, read back O_DIRECT, identical"

	# Discard and write-zeroes on the 1 MiB ranges the host filled with 0xff.
	/bin/blkzero discard /dev/vda $((40 << 20)) $((1 << 20)) || fail "BLKDISCARD"
	/bin/blkzero zeroout /dev/vda $((42 << 20)) $((1 << 20)) || fail "BLKZEROOUT"
	dd if=/dev/vda of=/tmp/z bs=64k skip=$((42 << 4)) count=16 iflag=direct 2>/dev/null
	head -c $((1 << 20)) /dev/zero > /tmp/zero
	cmp /tmp/z /tmp/zero || fail "write-zeroes left non-zero bytes"
	say "discard and write-zeroes: done, zeroed range reads back as zeroes"

	# The read-only disk: the kernel refuses writes (VIRTIO_BLK_F_RO).
	if dd if=/pattern.bin of=/dev/vdb bs=4k count=1 conv=fsync 2>/dev/null; then
		fail "a write to read-only vdb succeeded"
	fi
	say "vdb: write refused"
	# vdc (when given) is an image on a full file system: the host's write
	# fails, and the guest must hear it (IOERR), not lose the data silently.
	if [ -b /dev/vdc ]; then
		if dd if=/pattern.bin of=/dev/vdc bs=64k oflag=direct 2>/dev/null; then
			fail "writing to vdc succeeded although its host file system is full"
		fi
		dmesg | grep -qi "I/O error.*vdc" || fail "no I/O error reported for vdc"
		say "vdc: the host's ENOSPC reached the guest as an I/O error"
	fi
	dd if=/dev/vdb of=/dev/null bs=64k count=16 iflag=direct 2>/dev/null || fail "reading vdb"
}

t_ahci() {
	local n sum i
	for _ in $(seq 200); do [ -b /dev/sr0 ] && [ -b /dev/sda ] && break; sleep 0.1; done
	[ -b /dev/sr0 ] || fail "no /dev/sr0 (ahci + sr_mod found no CD-ROM)"
	[ -b /dev/sda ] || fail "no /dev/sda (ahci + sd_mod found no SATA disk)"
	say "sda: $(cat /sys/block/sda/size) sectors, '$(cat /sys/block/sda/device/vendor) $(cat /sys/block/sda/device/model)', queue depth $(cat /sys/block/sda/device/queue_depth), ro=$(cat /sys/block/sda/ro)"
	say "sr0: $(cat /sys/block/sr0/size) sectors, '$(cat /sys/block/sr0/device/vendor) $(cat /sys/block/sr0/device/model)', ro=$(cat /sys/block/sr0/ro)"
	# The whole CD through sr_mod (READ(10) through the AHCI port): the
	# host compares the sum with its ISO's.
	sum=$(md5sum < /dev/sr0) || fail "reading /dev/sr0"
	say "sr0 md5 ${sum%% *} bytes $(($(cat /sys/block/sr0/size) * 512))"
	dd if=/pattern.bin of=/dev/sr0 bs=2k count=1 2>/dev/null && fail "a write to the CD-ROM succeeded"
	# The pattern onto the SATA disk, made durable (FLUSH CACHE), read back
	# around the page cache by four readers at once (queued commands).
	dd if=/pattern.bin of=/dev/sda bs=64k seek="$PATTERN_OFF" conv=fsync 2>/dev/null ||
		fail "writing the pattern to sda"
	n=$(( $(stat -c %s /pattern.bin) / 65536 ))
	for i in 0 1 2 3; do
		dd if=/dev/sda of=/tmp/back$i bs=64k skip=$((PATTERN_OFF + i * n / 4)) count=$((n / 4)) \
			iflag=direct 2>/dev/null &
	done
	wait
	cat /tmp/back0 /tmp/back1 /tmp/back2 /tmp/back3 > /tmp/back
	cmp /tmp/back /pattern.bin || fail "the pattern read back from sda differs"
	say "sda: pattern $n x 64 KiB written at block $PATTERN_OFF, read back O_DIRECT, identical"
	if [ "$(cat /sys/block/sda/queue/discard_max_bytes)" != 0 ]; then
		/bin/blkzero discard /dev/sda $((40 << 20)) $((1 << 20)) || fail "BLKDISCARD on sda"
		say "sda: 1 MiB discarded (TRIM)"
	fi
	sync
}

t_durability() {
	local d disks=""
	# Every writable disk gets the pattern, then an fsync of the block
	# device: the kernel sends VIRTIO_BLK_T_FLUSH and returns only once
	# the device completed it.
	for d in $(ls /sys/block | grep vd); do
		[ "$(cat /sys/block/$d/ro)" = 0 ] || continue
		dd if=/pattern.bin of=/dev/$d bs=64k seek="$PATTERN_OFF" 2>/dev/null || fail "writing $d"
		dd if=/dev/null of=/dev/$d conv=fsync,notrunc 2>/dev/null || fail "fsync $d"
		disks="$disks $d"
	done
	say "FLUSHED$disks"
	# Keep writing (never flushed) until the VMM is killed under us.
	while :; do
		for d in $disks; do
			dd if=/dev/zero of=/dev/$d bs=64k seek=$((PATTERN_OFF + 256)) count=16 2>/dev/null
		done
		sleep 0.05
	done
}

t_teardown() {
	local end i
	end=$(param end)
	dd if=/pattern.bin of=/dev/vda bs=64k seek="$PATTERN_OFF" 2>/dev/null || fail "writing vda"
	dd if=/dev/null of=/dev/vda conv=fsync,notrunc 2>/dev/null || fail "fsync vda"
	say "FLUSHED"
	# One writer per CPU, never flushed, O_DIRECT (through the page cache
	# nothing would reach the device): requests in flight at the end.
	for i in $(seq "$(nproc)"); do
		while :; do
			dd if=/dev/zero of=/dev/vda bs=64k seek=$((PATTERN_OFF + 128 + 64 * i)) \
				count=64 oflag=direct 2>/dev/null ||
				[ -e /tmp/ending ] || fail "background writes to vda"
		done &
	done
	sleep 1
	: > /tmp/ending
	say "END $end"
	case $end in
	poweroff) poweroff -f ;;
	reboot) reboot -f ;;
	wait) while :; do sleep 1; done ;;
	crash)
		# The VGA window: no memory slot, no device (docs/memory-map.md).
		/bin/mmiojump user 0xa0000
		say "CPL 3 jump into MMIO: status $? (the VM lives)"
		/bin/mmiojump panic 0xa0000
		fail "a crash kernel jumping into MMIO did not stop the VM" ;;
	*) fail "unknown minivmm.end='$end'" ;;
	esac
	sleep 10
	fail "still running after '$end'"
}

t_tpm() {
	local i v idx val zero
	for _ in $(seq 50); do [ -c /dev/tpm0 ] && break; sleep 0.1; done
	[ -c /dev/tpm0 ] || fail "no /dev/tpm0 (tpm_crb did not bind)"
	say "tpm: $(basename "$(readlink /sys/class/tpm/tpm0/device)"), TPM $(cat /sys/class/tpm/tpm0/tpm_version_major)"
	zero=0000000000000000000000000000000000000000000000000000000000000000
	for i in 0 1 2 3 4 5 6 7; do
		v=$(cat /sys/class/tpm/tpm0/pcr-sha256/$i) || fail "reading PCR $i"
		echo "MINIVMM-PCR $i $v"
		[ "$v" != "$zero" ] || fail "PCR $i is zero (the firmware measured nothing into it)"
	done
	idx=$(param nv_index)
	val=$(param nv)
	if v=$(/bin/tpmnv read "$idx" $(( ${#val} / 2 ))); then
		say "NV-READ $v"
	else
		/bin/tpmnv write "$idx" "$val" || fail "writing NV index $idx"
		say "NV-WRITTEN $val"
	fi
}

t_fio() {
	local j
	FIO_RUNTIME=$(param fio_runtime)
	export FIO_RUNTIME=${FIO_RUNTIME:-15}
	# Kernel messages (an RCU stall report on a busy host) must not land
	# in the middle of a result line on the shared console.
	dmesg -n 1
	FIO_DEV=$(param fio_dev)
	export FIO_DEV=${FIO_DEV:-vda}
	for _ in $(seq 100); do [ -b "/dev/$FIO_DEV" ] && break; sleep 0.1; done
	[ -b "/dev/$FIO_DEV" ] || fail "no /dev/$FIO_DEV to run fio on"
	clock_say before-fio dmesg
	# What the guest made of its CPU and interrupts: where the time of a
	# job went (steal included) is told by /proc/stat around it.
	say "cpu flags: $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2)"
	dmesg | grep -iE 'x2apic|kvm-guest|pv eoi|apic:' | head -n 12 |
		while read -r l; do say "cpu dmesg: $l"; done
	for j in /fio/*.fio; do
		say "fio $(basename "$j") for ${FIO_RUNTIME}s"
		say "STAT before-$(basename "$j" .fio): $(head -n1 /proc/stat)"
		say "IRQ before-$(basename "$j" .fio): $(grep -E 'virtio0|LOC|RES|CAL' /proc/interrupts | tr -s ' ' | tr '\n' '|')"
		fio --output-format=json "$j" > /tmp/out 2>/tmp/err || {
			cat /tmp/err; fail "fio $j"
		}
		say "STAT after-$(basename "$j" .fio): $(head -n1 /proc/stat)"
		say "IRQ after-$(basename "$j" .fio): $(grep -E 'virtio0|LOC|RES|CAL' /proc/interrupts | tr -s ' ' | tr '\n' '|')"
		# One line per job for the host: "MINIVMM-FIO name {json}".
		echo "MINIVMM-FIO $(basename "$j" .fio) $(tr -d '\n\t' < /tmp/out)"
		clock_say "after-$(basename "$j" .fio)"
	done
	# Let the UART drain the last (~6 KiB) line before the power-off: the
	# kernel writes its "reboot: Power down" straight to the UART, into
	# whatever is still queued, and once split a result line.
	sleep 2
}

# A function's PCIe link as sysfs shows it: current/max speed and width.
link() {
	echo "$(cat "$1/current_link_speed" 2>/dev/null)/x$(cat "$1/current_link_width" 2>/dev/null)/$(cat "$1/max_link_speed" 2>/dev/null)/x$(cat "$1/max_link_width" 2>/dev/null)" | tr ' ' _
}

t_bar64() {
	local p bdf size port n=0
	dmesg | grep -i "root bus resource\|bridge window\|BAR [0-9]\|can't claim" |
		while read -r l; do say "dmesg: $l"; done
	if dmesg | grep -q "can't claim\|no compatible bridge window"; then
		fail "the kernel could not claim a BAR where the firmware put it"
	fi
	for p in /sys/bus/pci/devices/*; do
		bdf=$(basename "$p")
		# PCIe functions behind a root port: their link and the port's.
		port=$(basename "$(dirname "$(readlink -f "$p")")")
		case $port in 0000:00:*)
			say "link: $bdf $(cat "$p/vendor"):$(cat "$p/device") port $port dev=$(link "$p") port=$(link "/sys/bus/pci/devices/$port")" ;;
		esac
		[ "$(cat "$p/vendor"):$(cat "$p/device")" = 0x1af4:0x1110 ] || continue
		set -- $(sed -n 3p "$p/resource")
		size=$(( $2 - $1 + 1 ))
		say "bar64: $bdf BAR 2 $1-$2 ($((size >> 20)) MiB) flags $3"
		if dmesg | grep "$bdf" | grep -q "BAR 2.*assigned\|BAR 2.*: moved"; then
			fail "the kernel moved $bdf BAR 2"
		fi
		barpoke "$p/resource2" 0 "$(param bar_tag)-START-$bdf" || fail "writing $bdf BAR 2"
		barpoke "$p/resource2" $((size - 4096)) "$(param bar_tag)-END-$bdf" || fail "writing $bdf BAR 2"
		n=$((n + 1))
	done
	[ $n -gt 0 ] || fail "no ivshmem device (1af4:1110)"
	say "bar64: $n BAR(s) written"
}

t_hyperv() {
	local hv cs ce
	hv=$(dmesg | sed -n 's/.*Hypervisor detected: //p')
	cs=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)
	ce=$(cat /sys/devices/system/clockevents/clockevent0/current_device)
	say "hypervisor '$hv', clocksource $cs, clockevent0 '$ce'"
	dmesg | grep -i 'hyper-v' | sed 's/^/MINIVMM-GUEST: dmesg: /'
	case $hv in
	"Microsoft Hyper-V")
		[ "$cs" = hyperv_clocksource_tsc_page ] || fail "clocksource $cs, not hyperv_clocksource_tsc_page"
		[ "$ce" = "Hyper-V clockevent" ] || fail "clock event device '$ce', not the Hyper-V stimer"
		dmesg | grep -q 'Hyper-V: Using IPI hypercalls' || fail "no PV IPIs"
		dmesg | grep -q 'Using hypercall for remote TLB flush' || fail "no PV TLB flush"
		dmesg | grep -q 'enabling crash_kexec_post_notifiers' || fail "no crash MSRs"
		grep -q 'Hyper-V stimer0' /proc/interrupts || grep -q 'HVS' /proc/interrupts ||
			fail "no stimer interrupt line in /proc/interrupts"
		say "$(grep 'HVS\|Hyper-V' /proc/interrupts | tr -s ' ' | head -2 | tr '\n' ';')"
		say "HYPERV-OK, panicking"
		sleep 0.5	# the console drains
		echo c > /proc/sysrq-trigger
		sleep 5
		fail "still running after the panic" ;;
	KVM)
		[ "$cs" = kvm-clock ] || fail "clocksource $cs, not kvm-clock"
		say "KVM-OK" ;;
	*) fail "hypervisor '$hv'" ;;
	esac
}

# The interface whose MAC is $1, up with address $2/24.
net_if() {
	local d
	for d in /sys/class/net/*; do
		[ "$(cat "$d/address")" = "$1" ] || continue
		ip link set "${d##*/}" up && ip addr add "$2/24" dev "${d##*/}" || fail "ip on ${d##*/}"
		echo "${d##*/}"
		return 0
	done
	fail "no interface with MAC $1 ($(cat /sys/class/net/*/address | tr '\n' ' '))"
}

t_net() {
	local ifc peer i
	peer=$(param net_peer)
	ifc=$(net_if "$(param net_mac)" "$(param net_ip)")
	[ -n "$(param net_mac2)" ] && net_if "$(param net_mac2)" "$(param net_ip2)" > /dev/null
	say "net $ifc up: $(cat /sys/class/net/$ifc/operstate), queues $(ls /sys/class/net/$ifc/queues | tr '\n' ' ')"
	ping -c 3 -W 5 "$peer" > /dev/null || fail "ping $peer over $ifc"
	say "net ping $peer ok"
	mkdir -p /srv && cp /pattern.bin /srv/pattern.bin
	httpd -p 80 -h /srv || fail "httpd"
	for i in 0 1; do
		taskset -c "$i" wget -q -O "/tmp/l1-$i.bin" "http://$peer:8056/l1.bin" ||
			fail "wget l1.bin on CPU $i"
		say "net l1.bin cpu$i $(sha256sum < /tmp/l1-$i.bin | cut -d' ' -f1)"
	done
	say "NET-SERVE"
	i=0
	while ! wget -q -O /tmp/done "http://$peer:8056/done" 2> /dev/null; do
		i=$((i + 1))
		[ $i -lt 120 ] || fail "the host never said done"
		sleep 1
	done
	grep virtio /proc/interrupts | sed 's/^/MINIVMM-GUEST: irq /'
}

t_netpeer() {
	local peer i=0
	peer=$(param net_peer)
	net_if "$(param net_mac)" "$(param net_ip)" > /dev/null
	while ! ping -c 1 -W 1 "$peer" > /dev/null; do
		i=$((i + 1))
		[ $i -lt 120 ] || fail "no answer from $peer on the bridge"
	done
	say "netpeer ping $peer ok"
	i=0
	while ! wget -q -O /tmp/p.bin "http://$peer/pattern.bin" 2> /dev/null; do
		i=$((i + 1))
		[ $i -lt 120 ] || fail "wget from $peer"
		sleep 1
	done
	cmp /tmp/p.bin /pattern.bin || fail "pattern.bin from $peer differs"
	say "netpeer fetched pattern.bin from $peer byte for byte"
}

t_netbench() {
	local peer secs n dir i=0
	peer=$(param net_peer)
	secs=$(param netbench_s)
	n=$(param rr_n)
	net_if "$(param net_mac)" "$(param net_ip)" > /dev/null
	while ! ping -c 1 -W 1 "$peer" > /dev/null; do
		i=$((i + 1))
		[ $i -lt 60 ] || fail "no answer from $peer"
	done
	for dir in tx rx; do
		say "NETBENCH-BEGIN $dir"
		if [ $dir = tx ]; then
			iperf3 -c "$peer" -t "${secs:-10}" -i 0 -J > /tmp/$dir.json
		else
			iperf3 -c "$peer" -t "${secs:-10}" -i 0 -J -R > /tmp/$dir.json
		fi || fail "iperf3 $dir: $(tail -3 /tmp/$dir.json)"
		say "NETBENCH-END $dir"
		# What the receiver got, from iperf3's JSON: a short line, which
		# kernel messages are less likely to cut than the whole JSON.
		say "netbench $dir $(tr -d ' \n\t' < /tmp/$dir.json | sed -n \
			's/.*"sum_received":{[^}]*"bytes":\([0-9]*\),"bits_per_second":\([0-9.e+]*\).*/bytes \1 bps \2/p')"
	done
	dir=$(tcprr client "$peer" 8061 "${n:-2000}") || fail "tcprr: $dir"
	say "netbench $dir"
}

t_topology() {
	local c n t
	for c in /sys/devices/system/cpu/cpu[0-9]*; do
		n=${c##*/cpu}
		t=$c/topology
		say "topo cpu$n package $(cat $t/physical_package_id) core $(cat $t/core_id) siblings $(cat $t/thread_siblings_list) apicid $(awk -v n="$n" '/^processor/ { p = $3 } /^apicid/ && p == n { print $3 }' /proc/cpuinfo)"
		/bin/cpuiddump "$n" | sed "s/^/MINIVMM-CPUID cpu$n /"
	done
	say "flags $(grep -m1 '^flags' /proc/cpuinfo | sed 's/^flags[^:]*: //')"
}

case $TEST in
linux) t_linux ;;
hyperv) t_hyperv ;;
idle) say "IDLE clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource), clockevent0 '$(cat /sys/devices/system/clockevents/clockevent0/current_device)'"
	s=$(param idle_s)
	sleep "${s:-15}" ;;
topology) t_topology ;;
ahci) t_ahci ;;
durability) t_durability ;;
fio) t_fio ;;
teardown) t_teardown ;;
tpm) t_tpm ;;
bar64) t_bar64 ;;
net) t_net ;;
netpeer) t_netpeer ;;
netbench) t_netbench ;;
*) fail "unknown test '$TEST' (minivmm.test= on the kernel command line)" ;;
esac
echo "MINIVMM-GUEST-DONE"
off
