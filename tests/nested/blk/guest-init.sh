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
#                            NVMe), each minivmm.fio_runtime seconds (benchmark)
#   minivmm.test=ahci        AHCI (46-ahci, booted from a CD-ROM): read all of
#                            /dev/sr0 (the ISO) and print its md5 for the host
#                            to compare; write the pattern to the SATA disk
#                            /dev/sda, fsync, read it back O_DIRECT (four
#                            readers at once: NCQ) and compare; discard a MiB
#                            if the disk offers TRIM
#   minivmm.test=teardown    write the pattern to /dev/vda, flush, say FLUSHED,
#                            keep unflushed O_DIRECT writes going elsewhere on
#                            the disk, and after ~1 s end the way minivmm.end=
#                            says: poweroff (poweroff -f), reboot (reboot -f),
#                            wait (run until the host stops minivmm), crash
#                            (fetch instructions from MMIO: first at CPL 3,
#                            which only kills the process, then at CPL 0 from
#                            a crash kernel after a panic, which KVM cannot
#                            run; needs crashkernel= on the command line)
#   minivmm.test=topology    the CPU topology as Linux sees it (53-topology):
#                            per CPU "MINIVMM-GUEST: topo cpuN package P core C
#                            siblings LIST apicid A", /proc/cpuinfo's flags,
#                            and every CPUID leaf of every CPU as
#                            "MINIVMM-CPUID cpuN LEAF.SUB EAX EBX ECX EDX"
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
off() { sync; poweroff -f; sleep 10; }
fail() { echo "MINIVMM-GUEST-FAIL: $*"; off; }

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
	for j in /fio/*.fio; do
		say "fio $(basename "$j") for ${FIO_RUNTIME}s"
		fio --output-format=json "$j" > /tmp/out 2>/tmp/err || {
			cat /tmp/err; fail "fio $j"
		}
		# One line per job for the host: "MINIVMM-FIO name {json}".
		echo "MINIVMM-FIO $(basename "$j" .fio) $(tr -d '\n\t' < /tmp/out)"
	done
	# Let the UART drain the last (~6 KiB) line before the power-off: the
	# kernel writes its "reboot: Power down" straight to the UART, into
	# whatever is still queued, and once split a result line.
	sleep 2
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
topology) t_topology ;;
ahci) t_ahci ;;
durability) t_durability ;;
fio) t_fio ;;
teardown) t_teardown ;;
*) fail "unknown test '$TEST' (minivmm.test= on the kernel command line)" ;;
esac
echo "MINIVMM-GUEST-DONE"
off
