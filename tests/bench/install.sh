# shellcheck shell=bash
# tests/bench/install.sh — the install rows of `make bench`: the nested
# install test's whole flow (tests/nested/cases/48-install.sh), timed under
# minivmm and under QEMU+KVM in the same L1 run: the installer CD
# (tests/nested/install/images.sh) as an ATAPI CD-ROM first in the boot
# order, an empty virtio-blk target, a SATA data disk; stock OVMF.fd, 2 vCPUs,
# 512 MiB. From the VMM's start to
#
#   install-inst-s    the installer up (firmware, the CD's GRUB, a Linux boot
#                     from the CD)
#   install-sys-s     the installed system up: the installer partitions,
#                     formats and writes the target, resets the machine (both
#                     VMMs reboot in place), the firmware boots the CD again,
#                     its GRUB exits, the firmware boots the disk
#   install-ready-s   the installed system READY: it has read the whole CD
#                     and checked it, written and read back the data disk
#   install-stop-s    and from the power button (minivmm: SIGTERM; QEMU:
#                     system_powerdown) to the VMM's exit
#
# Sourced by tests/bench/run.sh: install_bench_prepare OUT on L0,
# install_bench VMM RESULTS in L1, install_bench_rows on L0. With
# BENCH_ROWS=core, not run.

# shellcheck source=tests/nested/install/images.sh
source tests/nested/install/images.sh

INSTALL_BENCH_TARGET_MB=64
INSTALL_BENCH_DATA_MB=16

install_bench_prepare() {
	install_media "$1" 2> >(grep -v "libburnia project" >&2)
}

# install_bench VMM RESULTS (in L1): one install under VMM on fresh disks,
# its times in RESULTS; a failed run gives install-unfinished.
install_bench() {
	install_bench_run "$1" "$2" || echo "$1 install-unfinished 1" >> "$2"
	rm -f "$MINIVMM_L1_OUT/$1.install-target.img" "$MINIVMM_L1_OUT/$1.install-data.img"
}

# install_bench_run VMM RESULTS: the run, in a subshell of its own (flow.sh's
# state, and its fail() ending the run, not the bench).
install_bench_run() (
	vmm=$1 results=$2 O=$MINIVMM_L1_OUT ISO=$MINIVMM_L1_OUT/install.iso
	INSTALL_MINIVMM=$(bench_minivmm "$vmm") INSTALL_RUN_NAME=$vmm.install
	# shellcheck source=tests/nested/install/flow.sh
	source tests/nested/install/flow.sh
	fail() { echo "bench: install under $vmm: $*" >&2; exit 1; }
	rm -f "$O/$vmm.install-target.img"
	truncate -s $((INSTALL_BENCH_TARGET_MB << 20)) "$O/$vmm.install-target.img"
	head -c $((INSTALL_BENCH_DATA_MB << 20)) /dev/zero | tr '\0' '\377' > "$O/$vmm.install-data.img"
	# base: minivmm's command line, BENCH_BASE's binary (INSTALL_MINIVMM).
	install_run "${vmm/base/minivmm}" "$O/$vmm.install-target.img" "$O/$vmm.install-data.img" > /dev/null
	(( rc == 0 )) || fail "the VMM ended with status $rc (see $vlog)"
	grep -aqF "MINIVMM-GUEST: DOWN" "$serial" || fail "the guest did not shut down (see $serial)"
	# shellcheck disable=SC2154  # set by install_run (flow.sh)
	{
		echo "$vmm install-inst-s $run_inst"
		echo "$vmm install-sys-s $run_sys"
		echo "$vmm install-ready-s $run_ready"
		echo "$vmm install-stop-s $run_stop"
	} >> "$results"
)

# The rows, for run.sh's row() (key, label).
install_bench_rows() {
	row install-inst-s "Install from CD: installer up (s)"
	row install-sys-s "  installed system up, after a reboot (s)"
	row install-ready-s "  installed system ready (s)"
	row install-stop-s "  power button to VMM exit (s)"
}

install_bench_l1_args() { :; }

# Run alone: tests/bench/install.sh (BENCH_RUNS=N), in an L1 of its own.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -euo pipefail
	cd "$(dirname "$0")/../.."
	source tests/bench/table.sh
	bench_alone install "install from CD: minivmm vs QEMU+KVM, same CD and disks"
fi
