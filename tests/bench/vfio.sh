# shellcheck shell=bash
# tests/bench/vfio.sh — the VFIO passthrough rows of `make bench`, sourced by
# tests/bench/run.sh (on L0 and inside L1). Both VMMs get QEMU's edu device,
# bound to vfio-pci in L1, behind a PCIe root port:
#   minivmm --vfio 00:10.0
#   qemu    -device pcie-root-port,id=rp0,chassis=1,addr=0x10 -device vfio-pci,host=00:10.0,bus=rp0
#
# Rows:
#   vfio-map-SIZE-PAGES-ms   time in VFIO_IOMMU_MAP_DMA: pinning and mapping all
#                            guest RAM for device DMA (the sum of the ioctls, as
#                            strace -T times them, same for both VMMs), starting
#                            tests/guest/bench-empty.bin with the device.
#                            SIZE 1g/2g; PAGES 4k (transparent huge pages off),
#                            thp (anonymous memory, THP on), 2m (hugetlb pages)
#   vfio-unmap-SIZE-PAGES-ms the same for VFIO_IOMMU_UNMAP_DMA at exit, in the raw
#                            results only: QEMU leaves much of it to the kernel's
#                            release of the container, where strace cannot see it
#   msi-roundtrip            tests/guest/edu-bench.bin: TSC cycles from the write
#                            that makes edu raise its MSI to the guest's handler
#                            having run (and acknowledged it), mean of 2000
#
#   vfio_bench_l1_args       run-l1.sh options these rows need (on L0)
#   vfio_bench VMM RESULTS   measure everything for one VMM (inside L1)
#   vfio_bench_rows          print the rows with run.sh's row() (on L0)

VFIO_BENCH_BDF=0000:00:10.0

vfio_bench_l1_args() {
	# 2 GiB of guest RAM pinned, and 2 GiB of hugetlb pages for the 2m rows.
	echo "--mem 6G --hugepages-2m 1100 --pci-passthrough edu@0x10"
}

_vfio_thp() { echo "$1" > /sys/kernel/mm/transparent_hugepage/enabled; }

# VMM SIZE PAGES DEVICE(0/1): the command line for bench-empty.bin.
_vfio_empty_cmd() {
	local vmm=$1 size=$2 pages=$3 dev=$4 serial=$MINIVMM_L1_OUT/$1.vfio.serial
	case $vmm in
	minivmm)
		echo ./minivmm --firmware tests/guest/bench-empty.bin --testdev --memory "$size" \
			--serial "file:$serial" --verbose
		[[ $pages == 2m ]] && echo --hugepages 2M
		[[ $dev == 1 ]] && echo --vfio "$VFIO_BENCH_BDF"
		;;
	qemu)
		echo "$QEMU_L2" -accel kvm -machine q35 -cpu host -m "$size" -nodefaults \
			-display none -bios tests/guest/bench-empty.bin -serial "file:$serial" \
			-device pc-testdev -device isa-debug-exit,iobase=0xf4,iosize=0x4
		[[ $pages == 2m ]] && echo -object "memory-backend-memfd,id=ram0,size=$size,hugetlb=on,hugetlbsize=2M,prealloc=on" \
			-machine memory-backend=ram0
		[[ $dev == 1 ]] && echo -device pcie-root-port,id=rp0,chassis=1,addr=0x10 \
			-device "vfio-pci,host=$VFIO_BENCH_BDF,bus=rp0"
		;;
	esac
}

# One run under strace: "MAP_MS UNMAP_MS", the time spent in the DMA ioctls.
_vfio_dma_ms() {
	local trace=$MINIVMM_L1_OUT/vfio-run.strace
	# shellcheck disable=SC2046  # the command is word lists
	strace -f --seccomp-bpf -T -e trace=ioctl -o "$trace" \
		$(_vfio_empty_cmd "$@" | tr '\n' ' ') < /dev/null > "$MINIVMM_L1_OUT/vfio-run.log" 2>&1 || true
	# ioctl(fd, VFIO_IOMMU_MAP_DMA, {...}) = 0 <0.012345>; older strace
	# spells the request _IOC(_IOC_NONE, 0x3b, 0x71, 0) (0x72: unmap).
	awk '/VFIO_IOMMU_MAP_DMA|0x3b, 0x71/ { m += substr($NF, 2) + 0 }
	     /VFIO_IOMMU_UNMAP_DMA|0x3b, 0x72/ { u += substr($NF, 2) + 0 }
	     END { printf "%.1f %.1f\n", m * 1000, u * 1000 }' "$trace"
}

vfio_bench() {
	local vmm=$1 results=$2 size pages map unmap res serial
	for pages in 4k thp 2m; do
		case $pages in 4k) _vfio_thp never ;; *) _vfio_thp madvise ;; esac
		for size in 1G 2G; do
			# (no process substitution: L1 has no /dev/fd)
			res=$(_vfio_dma_ms "$vmm" "$size" "$pages" 1)
			read -r map unmap <<< "$res"
			echo "$vmm vfio-map-${size,,}-$pages-ms $map" >> "$results"
			echo "$vmm vfio-unmap-${size,,}-$pages-ms $unmap" >> "$results"
		done
	done
	_vfio_thp madvise
	serial=$MINIVMM_L1_OUT/$vmm.edu-bench.serial
	case $vmm in
	minivmm)
		./minivmm --firmware tests/guest/edu-bench.bin --testdev --memory 256M \
			--vfio "$VFIO_BENCH_BDF" --serial "file:$serial" < /dev/null > /dev/null 2>&1 || true ;;
	qemu)
		"$QEMU_L2" -accel kvm -machine q35 -cpu host -m 256M -nodefaults -display none \
			-bios tests/guest/edu-bench.bin -serial "file:$serial" \
			-device pc-testdev -device isa-debug-exit,iobase=0xf4,iosize=0x4 \
			-device pcie-root-port,id=rp0,chassis=1,addr=0x10 \
			-device "vfio-pci,host=$VFIO_BENCH_BDF,bus=rp0" < /dev/null > /dev/null 2>&1 || true ;;
	esac
	grep -a '^edu-bench: msi-roundtrip' "$serial" | head -n1 |
		awk -v v="$vmm" '{ print v, "msi-roundtrip", $3 }' >> "$results"
}

vfio_bench_rows() {
	local size pages
	row msi-roundtrip "edu MSI round trip (cycles)"
	for size in 1g 2g; do
		for pages in 4k thp 2m; do
			row "vfio-map-$size-$pages-ms" "DMA map $size RAM, $pages pages (ms)"
		done
	done
}
