#!/usr/bin/env bash
# make demo: boot the nested environment (L1: QEMU-TCG with SVM and an IOMMU)
# and run a minivmm guest inside it on real KVM, its console on this terminal.
set -euo pipefail
cd "$(dirname "$0")/../.."
echo "demo: minivmm runs tests/guest/longmode.bin on 2 vCPUs inside L1 (real /dev/kvm)"
exec tests/nested/run-l1.sh --timeout 600 -- \
	./minivmm --firmware tests/guest/longmode.bin --testdev --cpus 2 --stats
