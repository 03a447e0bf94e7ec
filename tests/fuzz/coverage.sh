#!/usr/bin/env bash
# Line and branch coverage of the device sources reached by each fuzz
# target's corpus: replays tests/fuzz/corpus/NAME (and, if a long run left
# one, tests/fuzz/build/corpus/NAME) through the coverage build of the
# target (tests/fuzz/build/cov/fuzz_NAME, clang source-based coverage) and
# prints llvm-cov's report for the sources that target is about.
#
#   coverage.sh NAME...        (make fuzz-coverage)
set -u
cd "$(dirname "$0")/../.." || exit 2

cov=tests/fuzz/build/cov
profdata=$(command -v llvm-profdata || command -v llvm-profdata-14)
llvmcov=$(command -v llvm-cov || command -v llvm-cov-14)
if [ -z "$profdata" ] || [ -z "$llvmcov" ]; then
	echo "coverage.sh: needs llvm-profdata and llvm-cov (Debian: llvm-14)" >&2
	exit 2
fi

sources() {
	case "$1" in
	pci_cfg) echo devices/pci.c devices/pci_bar.c devices/pci_host.c devices/pcie_port.c \
		devices/q35/mch.c devices/q35/lpc.c devices/legacy/acpi_pm.c devices/legacy/reset.c ;;
	fw_cfg) echo firmware/fw_cfg.c ;;
	uart) echo devices/legacy/uart.c ;;
	rtc) echo devices/legacy/rtc.c ;;
	pflash) echo devices/pflash.c ;;
	cli) echo vmm/cli.c vmm/cli_vfio.c ;;
	virtio_blk) echo devices/virtio/virtqueue.c devices/virtio/virtio_pci.c \
		devices/msi_vector.c devices/msix.c devices/virtio/blk.c devices/block/blk_io.c ;;
	aml) echo firmware/aml.c firmware/aml_ops.c firmware/aml_resource.c ;;
	vfio) echo devices/vfio/config.c devices/vfio/bar.c devices/vfio/msi.c devices/vfio/pci.c \
		devices/msix.c devices/msi_vector.c ;;
	esac
}

for name in "$@"; do
	bin=$cov/fuzz_$name
	dirs=(tests/fuzz/corpus/"$name")
	[ -d tests/fuzz/build/corpus/"$name" ] && dirs+=(tests/fuzz/build/corpus/"$name")
	rm -f "$cov/$name".profraw
	LLVM_PROFILE_FILE="$cov/$name.profraw" "$bin" -runs=0 "${dirs[@]}" >"$cov/$name.log" 2>&1
	"$profdata" merge -sparse -o "$cov/$name.profdata" "$cov/$name.profraw" || exit 1
	echo "== fuzz_$name (corpus: ${dirs[*]})"
	# shellcheck disable=SC2046
	"$llvmcov" report "$bin" -instr-profile="$cov/$name.profdata" $(sources "$name") |
		sed -e 's/^/  /'
done
