#!/bin/busybox sh
# tests/nested/l1-init.sh — PID 1 of L1 (copied into the initramfs by prepare.sh as /init).
#
# Runs under busybox before anything else exists. Its whole job:
#   1. load the KVM/VFIO/virtio/9p modules listed by prepare.sh (/lib/modules/load-order),
#   2. mount L0's / (virtfs tag "host", read-only) at /newroot and the writable results
#      share (tag "out") at the same path it has on L0,
#   3. give that root fresh proc/sys/dev/tmp and chroot into it to run the job script
#      written by run-l1.sh (host bash, host binaries: no second userland to maintain),
#   4. power off, so QEMU exits.
# Everything test-specific (hugepages, vfio binding, env, the command) lives in
# l1-job.sh, which is read from L0 at run time: editing it needs no new initramfs.
#
# Output goes to the console (ttyS0), which run-l1.sh logs. Lines start "minivmm-l1:".
# On any failure before the job runs we print "MINIVMM-L1-FAILED: why" and power off.

/bin/busybox mkdir -p /usr/bin /usr/sbin /sbin
/bin/busybox --install -s /bin
export PATH=/bin

log() { echo "minivmm-l1: $*"; }
fail() {
    echo "MINIVMM-L1-FAILED: $*"
    sync
    poweroff -f
    sleep 5   # poweroff -f does not return; never let PID 1 exit (that panics)
}
uptime_s() { cut -d' ' -f1 /proc/uptime; }

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
log "init started at $(uptime_s)s, kernel $(uname -r)"

while read -r mod; do
    insmod "/lib/modules/$mod" || fail "insmod $mod failed"
done < /lib/modules/load-order
[ -c /dev/kvm ] || fail "/dev/kvm missing after loading kvm-amd (no SVM in L1?)"

# msize: bigger 9p messages = fewer round trips through the slow (TCG) transport.
# cache=loose on the read-only host root lets L1 keep file pages and metadata: L0's
# tree does not change under a run, and executing host binaries is most of the I/O.
NINEP=trans=virtio,version=9p2000.L,msize=512000
mount -t 9p -o "$NINEP,ro,cache=loose" host /newroot || fail "mounting virtfs tag host failed"
mount -t 9p -o "$NINEP" out /out || fail "mounting virtfs tag out failed"

CTL=/out/.minivmm-l1
[ -f "$CTL/job.sh" ] || fail "no job script in the out share"
IFS= read -r OUTPATH < "$CTL/out-path" || fail "no out-path in the out share"

R=/newroot
mount -t proc proc "$R/proc"
mount -t sysfs sysfs "$R/sys"
mount -t devtmpfs devtmpfs "$R/dev"
mkdir -p "$R/dev/pts" "$R/dev/shm" "$R/dev/hugepages"
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts "$R/dev/pts"
mount -t tmpfs -o mode=1777 tmpfs "$R/dev/shm"
mount -t hugetlbfs hugetlbfs "$R/dev/hugepages"
# L0's / is read-only here; the usual scratch places get a writable tmpfs. Paths
# under them that must stay visible (run-l1.sh lists the cwd and the harness there
# when they live under /tmp or /run) are bind-mounted aside first and put back after.
n=0
if [ -s "$CTL/keep-paths" ]; then
    while IFS= read -r p; do
        [ -n "$p" ] || continue
        mkdir -p "/keep/$n"
        mount -o bind "$R$p" "/keep/$n" || fail "cannot keep $p visible"
        n=$((n + 1))
    done < "$CTL/keep-paths"
fi
mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
mount -t tmpfs -o mode=755 tmpfs "$R/run"
n=0
if [ -s "$CTL/keep-paths" ]; then
    while IFS= read -r p; do
        [ -n "$p" ] || continue
        if ! mkdir -p "$R$p" || ! mount -o move "/keep/$n" "$R$p"; then
            fail "cannot restore $p"
        fi
        n=$((n + 1))
    done < "$CTL/keep-paths"
fi
# After /tmp: the out dir often lives under /tmp on L0, and must not be hidden by it.
# Its parent exists on L0 (visible through 9p) or in the tmpfs (mkdir -p creates it).
mkdir -p "$R$OUTPATH" || fail "cannot create mount point $OUTPATH"
mount -o move /out "$R$OUTPATH" || fail "cannot move the out share to $OUTPATH"

log "L0 root mounted, running job at $(uptime_s)s"
chroot "$R" /bin/bash "$OUTPATH/.minivmm-l1/job.sh" < /dev/null
log "job finished (status $?) at $(uptime_s)s, powering off"
sync
poweroff -f
sleep 5
