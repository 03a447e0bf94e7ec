# shellcheck shell=bash
# tests/nested/l1-job.sh — runs INSIDE L1, after /init chrooted into L0's / (read-only).
#
# Sourced (by L0's bash, in L1) from the job script that run-l1.sh generates, which
# first sets these variables:
#   L1_OUT          results dir (writable share, same path as on L0)
#   L1_CWD          directory run-l1.sh was started from
#   L1_HUGEPAGES_2M number of 2 MiB hugepages to reserve ("" = leave alone)
#   L1_BIND         1: bind L1_PCI devices to vfio-pci; 0: leave them as they are
#   L1_PCI          array of BDFs of the devices passed to L1
#   L1_MODPROBE     array of extra modules to load from the L1 kernel's tree
#   L1_KROOT L1_KVER where that tree is (prepare.sh's cache, visible through 9p)
#   L1_ENV          array of NAME=VALUE for the command
#   L1_CMD          the command and its arguments
# It prepares L1, runs the command, and leaves its exit status in
# $L1_OUT/.minivmm-l1/rc plus a "MINIVMM-L1-RC=N" console line (the fallback).
# It is read from the working tree at run time, so editing it needs no new initramfs.
# No `set -e`: a failing command is a result to report, not a reason to stop.
set -u

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp LANG=C.UTF-8 TERM=dumb
CTL=$L1_OUT/.minivmm-l1

log() { echo "minivmm-l1: $*"; }
setup_failed() {
    echo "MINIVMM-L1-FAILED: $*"
    dmesg > "$CTL/dmesg" 2>/dev/null
    exit 125
}

for mod in "${L1_MODPROBE[@]}"; do
    modprobe -d "$L1_KROOT" -S "$L1_KVER" "$mod" || setup_failed "modprobe $mod failed"
done

if [[ -n $L1_HUGEPAGES_2M ]]; then
    echo "$L1_HUGEPAGES_2M" > /proc/sys/vm/nr_hugepages
    got=$(cat /proc/sys/vm/nr_hugepages)
    (( got >= L1_HUGEPAGES_2M )) ||
        setup_failed "asked for $L1_HUGEPAGES_2M 2M hugepages, got $got"
    log "hugepages: $got x 2M reserved, hugetlbfs at /dev/hugepages"
fi

# Each emulated PCI device sits in its own IOMMU group (intel-iommu in L1). Binding
# one to vfio-pci makes /dev/vfio/<group> appear, which is what minivmm opens.
vfio_groups=()
for bdf in "${L1_PCI[@]}"; do
    dev=/sys/bus/pci/devices/$bdf
    [[ -d $dev ]] || setup_failed "no PCI device at $bdf (check the --pci-passthrough slot)"
    [[ -e $dev/iommu_group ]] || setup_failed "$bdf has no IOMMU group (is intel_iommu on?)"
    group=$(basename "$(readlink "$dev/iommu_group")")
    ids="$(cat "$dev/vendor"):$(cat "$dev/device")"
    if [[ $L1_BIND == 1 ]]; then
        driver=""
        [[ -e $dev/driver ]] && driver=$(basename "$(readlink "$dev/driver")")
        if [[ $driver != vfio-pci ]]; then
            [[ -z $driver ]] || echo "$bdf" > "$dev/driver/unbind"
            echo vfio-pci > "$dev/driver_override"
            echo "$bdf" > /sys/bus/pci/drivers_probe
        fi
        [[ -e $dev/driver && $(basename "$(readlink "$dev/driver")") == vfio-pci ]] ||
            setup_failed "$bdf did not bind to vfio-pci"
        [[ -c /dev/vfio/$group ]] || setup_failed "/dev/vfio/$group missing after binding $bdf"
    fi
    driver=none
    [[ -e $dev/driver ]] && driver=$(basename "$(readlink "$dev/driver")")
    log "pci $bdf [${ids//0x/}] iommu_group $group driver $driver -> /dev/vfio/$group"
    vfio_groups+=("$bdf=/dev/vfio/$group")
done
# "BDF ..." and "BDF=/dev/vfio/N ..." for the command (group node exists once bound).
export MINIVMM_L1_PCI="${L1_PCI[*]}"
export MINIVMM_L1_VFIO_GROUPS="${vfio_groups[*]}"
printf '%s\n' "${vfio_groups[@]}" > "$CTL/vfio-groups"

export MINIVMM_L1=1 MINIVMM_L1_OUT=$L1_OUT
# shellcheck disable=SC2163  # each kv is "NAME=VALUE"
for kv in "${L1_ENV[@]}"; do export "$kv"; done

cd "$L1_CWD" || setup_failed "cannot cd to $L1_CWD in L1"
log "COMMAND start at $(cut -d' ' -f1 /proc/uptime)s: ${L1_CMD[*]}"
"${L1_CMD[@]}"
rc=$?
log "COMMAND exit status $rc at $(cut -d' ' -f1 /proc/uptime)s"
# dmesg is cheap to keep and is what explains VFIO/IOMMU faults after the fact.
dmesg > "$CTL/dmesg" 2>/dev/null
echo "$rc" > "$CTL/rc"
echo "MINIVMM-L1-RC=$rc"
exit "$rc"
