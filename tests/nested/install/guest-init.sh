#!/bin/busybox sh
# shellcheck shell=dash
# tests/nested/install/guest-init.sh — PID 1 of the Linux guest of the nested
# install test (tests/nested/cases/48-install.sh): both the installer on the CD
# and the system it installs, which boot the same kernel and this initramfs.
# The kernel command line picks the role:
#
#   minivmm.test=install     the installer, booted from the CD by its GRUB:
#                            finds the CD and the empty target disk (a
#                            writable virtio-blk disk whose first MiB is
#                            zero), gives the target a GPT with one ESP,
#                            formats it, copies the system onto it (GRUB as
#                            \EFI\BOOT\BOOTX64.EFI, the kernel, this
#                            initramfs, GRUB's environment block, the CD's
#                            size and sha256 in install.sum, and last the
#                            marker /minivmm-installed the CD's GRUB looks
#                            for), unmounts, syncs and resets the machine
#                            (reboot -f), as Windows Setup does
#   minivmm.test=installed   the installed system, booted from the disk:
#                            mounts its ESP read-write (a boot line goes to
#                            boot.log), reads the whole CD and checks its
#                            size and sha256 against install.sum, writes the
#                            pattern to the data disk (the writable disk that
#                            is neither the CD nor its own) and reads it back
#                            O_DIRECT, says READY, then waits for the ACPI
#                            power button: unmounts the ESP (clean again),
#                            syncs and powers off (poweroff -f)
#   minivmm.pwrbtn=ignore    (installed) hear the power button, say so, and
#                            go on running: the host must stop the VM
#
# The CD is /dev/sr0 (an ATAPI drive: minivmm --cdrom, QEMU's q35 AHCI) or a
# read-only virtio-blk disk that holds an ISO 9660 volume (the ISO given as a
# disk). The data disk is /dev/sdX (SATA) or /dev/vdX.
#
# Lines for the host: "MINIVMM-GUEST: ..." progress, "MINIVMM-GUEST-FAIL:
# why" (then it powers off), "MINIVMM-GUEST: READY", "MINIVMM-GUEST: DOWN".

/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin /cd /esp
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

say() { echo "MINIVMM-GUEST: $*"; }
fail() { echo "MINIVMM-GUEST-FAIL: $*"; sync; poweroff -f; sleep 10; }
param() { sed -n "s/.*minivmm\.$1=\([^ ]*\).*/\1/p" /proc/cmdline; }

# An accelerated crypto module (sd_mod pulls in crct10dif-pclmul) is optional:
# the generic one does the work where the CPU lacks the instructions.
while read -r m; do
	insmod "/lib/modules/$m" 2> /dev/null && continue
	case $m in
	*-pclmul.ko) ;;
	*) fail "insmod $m" ;;
	esac
done < /lib/modules/load-order

TEST=$(param test)
PATTERN_OFF=$(param pattern_off)	# in 64 KiB blocks
PATTERN_OFF=${PATTERN_OFF:-128}

ro() { cat "/sys/block/$1/ro"; }
bytes() { echo $(( $(cat "/sys/block/$1/size") * 512 )); }
# An ISO 9660 volume: "CD001" at byte 1 of the sector at 32 KiB.
is_iso() { [ "$(dd if="/dev/$1" bs=1 skip=32769 count=5 2>/dev/null)" = CD001 ]; }
# The first MiB all zero: no partition table, no file system.
is_empty() { [ -z "$(dd if="/dev/$1" bs=64k count=16 2>/dev/null | tr -d '\0' | head -c 1)" ]; }
disks() {
	local d
	for d in /sys/block/vd* /sys/block/sd* /sys/block/sr*; do
		[ -e "$d" ] && echo "${d##*/}"
	done
}

# The CD: sr0, or the read-only virtio disk holding an ISO (the stand-in).
# Disks appear while the drivers probe: wait up to 10 s.
find_cd() {
	local d
	for _ in $(seq 100); do
		for d in $(disks); do
			case $d in
			sr*) is_iso "$d" && { echo "$d"; return 0; } ;;
			vd*) [ "$(ro "$d")" = 1 ] && is_iso "$d" && { echo "$d"; return 0; } ;;
			esac
		done
		sleep 0.1
	done
	return 1
}

# The whole CD, as the device gives it: "BYTES SHA256".
cd_sum() {
	echo "$(bytes "$1") $(sha256sum < "/dev/$1" | cut -d' ' -f1)"
}

wait_block() {
	for _ in $(seq 100); do [ -b "$1" ] && return 0; sleep 0.1; done
	return 1
}

t_install() {
	local cd target="" d sum
	cd=$(find_cd) || fail "no CD (neither sr0 nor a read-only virtio disk with ISO 9660)"
	mount -t iso9660 -o ro "/dev/$cd" /cd || fail "mounting the CD /dev/$cd"
	[ -e /cd/minivmm-installer ] || fail "/dev/$cd is not the installer CD"
	say "INSTALLER on kernel $(uname -r), $(nproc) CPUs; CD /dev/$cd, disks: $(disks | tr '\n' ' ')"
	for d in $(disks); do
		case $d in vd*) ;; *) continue ;; esac
		if [ "$(ro "$d")" != 0 ] || ! is_empty "$d"; then
			continue
		fi
		[ -z "$target" ] || fail "two empty disks ($target, $d): which one?"
		target=$d
	done
	[ -n "$target" ] || fail "no empty writable virtio disk to install to"
	say "target /dev/$target: $(bytes "$target") bytes, serial '$(cat "/sys/block/$target/serial" 2>/dev/null)'"
	sum=$(cd_sum "$cd")
	say "CD /dev/$cd: ${sum% *} bytes, sha256 ${sum#* }"

	# GPT, one EFI System Partition from 1 MiB to the end.
	printf 'label: gpt\nstart=2048, type=U, name=ESP\n' | sfdisk -q "/dev/$target" ||
		fail "sfdisk /dev/$target"
	wait_block "/dev/${target}1" || fail "no /dev/${target}1 after partitioning"
	mkfs.vfat -n SYSTEM "/dev/${target}1" > /dev/null || fail "mkfs.vfat /dev/${target}1"
	mount -t vfat "/dev/${target}1" /esp || fail "mounting the new ESP"
	mkdir -p /esp/EFI/BOOT /esp/EFI/minivmm
	if ! { cp /cd/install/BOOTX64.EFI /esp/EFI/BOOT/BOOTX64.EFI &&
		cp /cd/install/grubenv /esp/EFI/minivmm/grubenv &&
		cp /cd/vmlinuz /cd/initrd.img /esp/ &&
		echo "$sum" > /esp/install.sum; }; then
		fail "copying the system onto the ESP"
	fi
	# The marker last: a half-done install must not look installed.
	sync
	echo "installed from /dev/$cd" > /esp/minivmm-installed || fail "writing the marker"
	umount /esp || fail "unmounting the ESP"
	umount /cd
	sync
	say "INSTALLED on /dev/$target: $(sfdisk -d "/dev/$target" | grep -c '^/dev/') partition(s); rebooting"
	reboot -f
	sleep 10
	fail "still running after reboot -f"
}

# The partition with the marker: the system's own ESP.
find_system() {
	local p
	for p in /sys/block/vd*/vd*1 /sys/block/sd*/sd*1; do
		[ -e "$p" ] || continue
		p=${p##*/}
		mount -t vfat "/dev/$p" /esp 2> /dev/null || continue
		[ -e /esp/minivmm-installed ] && { echo "$p"; return 0; }
		umount /esp
	done
	return 1
}

t_installed() {
	local cd esp sys data="" d want got n boots
	cd=$(find_cd) || fail "no CD (neither sr0 nor a read-only virtio disk with ISO 9660)"
	esp=$(find_system) || fail "no ESP with /minivmm-installed"
	sys=${esp%1}
	boots=1
	[ -e /esp/boot.log ] && boots=$(( $(wc -l < /esp/boot.log) + 1 ))
	echo "boot $boots: kernel $(uname -r)" >> /esp/boot.log || fail "writing boot.log on the ESP"
	sync
	say "INSTALLED SYSTEM boot $boots on kernel $(uname -r), $(nproc) CPUs; ESP /dev/$esp (read-write), CD /dev/$cd, disks: $(disks | tr '\n' ' ')"

	want=$(cat /esp/install.sum)
	got=$(cd_sum "$cd")
	[ "$got" = "$want" ] || fail "CD /dev/$cd reads as '$got', at install it was '$want'"
	say "CD /dev/$cd: ${got% *} bytes, sha256 ${got#* }: as at install"

	for d in $(disks); do
		case $d in sr*|"$cd"|"$sys") continue ;; esac
		[ "$(ro "$d")" = 0 ] || continue
		[ -z "$data" ] || fail "two data disks ($data, $d)"
		data=$d
	done
	[ -n "$data" ] || fail "no data disk"
	dd if=/pattern.bin of="/dev/$data" bs=64k seek="$PATTERN_OFF" conv=fsync 2> /dev/null ||
		fail "writing the pattern to /dev/$data"
	n=$(( $(stat -c %s /pattern.bin) / 65536 ))
	dd if="/dev/$data" of=/tmp/back bs=64k skip="$PATTERN_OFF" count="$n" iflag=direct 2> /dev/null ||
		fail "reading the pattern back from /dev/$data"
	cmp -s /tmp/back /pattern.bin || fail "the pattern read back from /dev/$data differs"
	say "data /dev/$data: $n x 64 KiB written at block $PATTERN_OFF, flushed, read back O_DIRECT, identical"

	# Listen before saying READY: the host presses the button on READY.
	pwrbtn /tmp/listening &
	pid=$!
	for _ in $(seq 300); do
		{ [ -e /tmp/listening ] || ! kill -0 "$pid" 2> /dev/null; } && break
		sleep 0.1
	done
	[ -e /tmp/listening ] || fail "pwrbtn found no power button"
	if [ "$(param pwrbtn)" = ignore ]; then
		say "READY (ignoring the power button)"
		wait "$pid" && say "power button pressed: ignored (minivmm.pwrbtn=ignore)"
		while :; do sleep 1; done
	fi
	say "READY (waiting for the power button)"
	wait "$pid" || fail "pwrbtn failed"
	say "power button pressed: shutting down"
	umount /esp || fail "unmounting the ESP"
	sync
	say "DOWN: ESP unmounted, powering off"
	poweroff -f
	sleep 10
	fail "still running after poweroff -f"
}

case $TEST in
install) t_install ;;
installed) t_installed ;;
*) fail "unknown test '$TEST' (minivmm.test= on the kernel command line)" ;;
esac
