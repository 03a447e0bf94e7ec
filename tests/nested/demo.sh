#!/usr/bin/env bash
# make demo: boot the nested environment (L1: QEMU-TCG with SVM and an IOMMU)
# and, inside it on real KVM, let minivmm boot the stock Debian OVMF to the
# UEFI shell, type a few commands into its serial console, and power off;
# then run a 64-bit test payload on 2 vCPUs with exit statistics.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [[ ${MINIVMM_L1:-} == 1 ]]; then
	source tests/nested/uefi-console.sh
	echo "demo: ./minivmm --ovmf /usr/share/ovmf/OVMF.fd --memory 512M --cpus 2"
	console_start ovmf ./minivmm --ovmf /usr/share/ovmf/OVMF.fd --memory 512M --cpus 2
	# Show the console live while we type into it.
	tail -f "$CONSOLE_OUT" & tailer=$!
	console_wait "Shell>" 300
	for cmd in "ver" "pci" "smbiosview -t 1" "reset -s"; do
		sleep 1; console_mark; console_send "$cmd"
		[[ $cmd == "reset -s" ]] || console_wait "Shell>" 60
	done
	console_finish 60
	sleep 0.5; kill $tailer 2>/dev/null || true
	echo; echo "demo: minivmm exited with status $CONSOLE_RC after 'reset -s'"
	echo; echo "demo: ./minivmm --firmware tests/guest/longmode.bin --testdev --cpus 2 --stats"
	./minivmm --firmware tests/guest/longmode.bin --testdev --cpus 2 --stats < /dev/null
	exit 0
fi

echo "demo: booting L1 (QEMU-TCG with SVM + IOMMU); minivmm runs inside it on real /dev/kvm"
exec tests/nested/run-l1.sh --timeout 900 -- bash tests/nested/demo.sh
