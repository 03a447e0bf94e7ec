#!/usr/bin/env bash
# make deps: install (idempotently) every Debian package that building and
# testing minivmm needs, then prepare the nested KVM/VFIO environment
# (patched L1 QEMU, Debian kernel, initramfs; cached outside the clone).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
	build-essential pkg-config
	liburing-dev libpci-dev libcmocka-dev	# the VMM and its unit tests
	libseccomp-dev				# the running VMM's system-call filter
	pciutils pci.ids			# device names for 'minivmm groups'
	clang libclang-rt-14-dev		# fuzz targets (libFuzzer runtime, ASan, UBSan)
	acpica-tools				# iasl: the ACPI tables are validated
	swtpm					# --tpm: the TPM emulator minivmm starts (51-tpm, test_swtpm)
	ovmf					# the stock UEFI firmware minivmm boots
	dosfstools mtools			# FAT images for EFI test disks
	fdisk					# sfdisk: GPT on the virtio-blk test disks
	xorriso grub-efi-amd64-bin grub-common	# grub-mkrescue: the El Torito ISO 46-ahci boots;
						# grub-mkimage, grub-editenv: 48-install's CD
	fio					# virtio-blk benchmark (runs in the L2 guest)
	iperf3					# virtio-net benchmark (guest and L1; tests/bench/net.sh)
	gnu-efi					# 48-install's CD loader (tests/nested/install/cdboot.c)
	shim-signed grub-efi-amd64-signed	# 52-secure-boot: Debian's signed boot chain
	sbsigntool				# sbverify: the test's kernel must be the signed one
	iproute2				# ip tuntap / ip link in L1 (56-net)
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ "${MINIVMM_SKIP_NESTED:-0}" != 1 ]; then
	tests/nested/prepare.sh
fi
