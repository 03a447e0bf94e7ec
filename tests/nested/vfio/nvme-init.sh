#!/bin/busybox sh
# tests/nested/vfio/nvme-init.sh — PID 1 of the Linux guest that OVMF inside
# minivmm boots from the ESP of a passed-through NVMe (33-vfio-nvme). Linux's
# own nvme driver takes the controller over from the firmware, with MSI-X:
# it reads the startup script OVMF ran, writes a 1 MiB pattern at 100 MiB
# into the disk and reads it back around the page cache, counts the nvme
# interrupts, and powers off (ACPI S5) — or, in the case's second run, resets
# the machine three times first (the counter below).
#
# Lines for the host: "MINIVMM-GUEST: ..." progress, "MINIVMM-GUEST-FAIL: why",
# "MINIVMM-GUEST-DONE" at the end.

/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin /mnt
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

for _ in $(seq 200); do [ -b /dev/nvme0n1p1 ] && break; sleep 0.1; done
[ -b /dev/nvme0n1 ] || fail "no /dev/nvme0n1 (the nvme driver found no controller)"
[ -b /dev/nvme0n1p1 ] || fail "no partition on /dev/nvme0n1"
say "kernel $(uname -r): nvme0 '$(cat /sys/class/nvme/nvme0/model | tr -s ' ')' serial '$(cat /sys/class/nvme/nvme0/serial | tr -d ' ')', $(cat /sys/block/nvme0n1/size) sectors"

mount -t vfat -o ro /dev/nvme0n1p1 /mnt || fail "mounting the ESP"
grep -q MINIVMM-NVME-STARTUP /mnt/startup.nsh || fail "startup.nsh on the ESP is not ours"
grep -q written-through-vfio /mnt/nvme.txt || fail "nvme.txt (written by OVMF) is not on the ESP"
say "ESP: startup.nsh and the file OVMF wrote are there"
umount /mnt

# Past the end of the ESP's files: the image is bigger than what is on it.
dd if=/pattern.bin of=/dev/nvme0n1 bs=64k seek=1600 conv=fsync 2>/dev/null || fail "writing the pattern"
dd if=/dev/nvme0n1 of=/tmp/back bs=64k skip=1600 count=16 iflag=direct 2>/dev/null || fail "reading it back"
cmp /tmp/back /pattern.bin || fail "the pattern read back differs"
md5=$(md5sum < /pattern.bin | cut -d' ' -f1)
say "pattern: 1 MiB at 100 MiB written, read back O_DIRECT, identical, md5 $md5"

n=0
while read -r irq rest; do
	case $rest in
	*nvme0q*)
		c=$(echo "$rest" | awk '{ s = 0; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) s += $i; else break; print s }')
		n=$((n + c)) ;;
	esac
done < /proc/interrupts
grep nvme0q /proc/interrupts | sed 's/^/MINIVMM-GUEST: irq /'
[ "$n" -gt 0 ] || fail "no nvme interrupts counted"
# MSI-X Enable (bit 15 of Message Control) in the capability the guest sees.
cfg=/sys/class/nvme/nvme0/device/config
byte() { od -An -tu1 -j "$1" -N1 "$cfg" | tr -d ' '; }
off=$(byte 52) msix=off hops=0
while [ "$off" -ge 64 ] && [ $hops -lt 48 ]; do
	if [ "$(byte "$off")" = 17 ]; then
		[ $(( $(byte $((off + 3))) & 128 )) -ne 0 ] && msix=on
		break
	fi
	off=$(byte $((off + 1))); hops=$((hops + 1))
done
[ $msix = on ] || fail "the nvme driver did not enable MSI-X"
say "interrupts: $n on $(grep -c nvme0q /proc/interrupts) nvme queue vectors, MSI-X enabled"

# 33's second run reboots in place three times: the first run arms a
# counter at 120 MiB; every boot of the second checks the controller as
# above, takes one off and resets the machine (minivmm reboots in place,
# resetting the NVMe through VFIO each time), until none is left.
ctr=$(dd if=/dev/nvme0n1 bs=64k skip=1920 count=1 iflag=direct 2>/dev/null | head -c 16 | tr -d '\000')
case $ctr in
"REBOOTS "[0-9]*)
	left=${ctr#REBOOTS }
	if [ "$left" -gt 0 ]; then
		printf 'REBOOTS %d' $((left - 1)) |
			dd of=/dev/nvme0n1 bs=64k seek=1920 conv=sync,fsync 2>/dev/null || fail "counting down"
		say "reboot test: the nvme driver works; $left reboot(s) to go, resetting"
		sync
		reboot -f
		sleep 10
		fail "reboot -f did not reset the machine"
	fi
	say "reboot test: done, the nvme driver worked after every reboot" ;;
*)
	printf 'REBOOTS 3' | dd of=/dev/nvme0n1 bs=64k seek=1920 conv=sync,fsync 2>/dev/null ||
		fail "arming the reboot test"
	say "reboot test: armed for the next run" ;;
esac

echo "MINIVMM-GUEST-DONE"
off
