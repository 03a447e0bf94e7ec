#!/bin/busybox sh
# tests/nested/secboot/guest-init.sh — PID 1 of the Linux guest of 52-secure-boot
# (images.sh puts it in the initramfs). The kernel came through shim and GRUB;
# this says what Secure Boot state it found, for the host to check:
#   MINIVMM-SB: dmesg: <the kernel's "Secure boot ..." line>
#   MINIVMM-SB: efivar SecureBoot=<0|1>   (the UEFI variable, through efivarfs)
#   MINIVMM-SB: lockdown: <the lockdown LSM's modes, the active one in []>
# then "MINIVMM-GUEST-DONE" and power off (ACPI S5); "MINIVMM-GUEST-FAIL: why"
# if something could not be read.

/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

off() { sync; poweroff -f; sleep 10; }
fail() { echo "MINIVMM-GUEST-FAIL: $*"; off; }

# efivarfs and its dependencies: Debian's signed modules, which a locked-down
# kernel loads only with a valid signature.
while read -r m; do
	insmod "/lib/modules/$m" || fail "insmod $m"
done < /lib/modules/load-order

echo "MINIVMM-SB: dmesg: $(dmesg | grep -o 'Secure boot [a-z]*' | head -1)"
mkdir -p /efivars
mount -t efivarfs efivarfs /efivars || fail "cannot mount efivarfs"
v=/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c
[ -r "$v" ] || fail "no SecureBoot variable"
# 4 bytes of attributes, then the value (UEFI 2.9 §3.3, SecureBoot: 1 = on)
set -- $(od -An -tu1 "$v")	# efivarfs reads whole, no seeking
echo "MINIVMM-SB: efivar SecureBoot=$5"
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
echo "MINIVMM-SB: lockdown: $(cat /sys/kernel/security/lockdown 2>/dev/null)"
echo "MINIVMM-GUEST-DONE"
off
