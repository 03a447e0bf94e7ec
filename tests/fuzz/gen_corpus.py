#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the hand-made seeds of tests/fuzz/corpus/<target>/ (seed-*).

Each seed is a short program in the target's record format (the op
numbers and operands of the enum at the top of each tests/fuzz/fuzz_*.c,
documented in docs/fuzzing.md) doing what real guests and firmware do:
OVMF's fw_cfg probe and DMA sequence, BAR sizing, CFI program/erase, a
Linux-style UART set-up, virtio-blk requests of every type. Reproducers
of crashes the fuzzer found (crash-*) are kept next to them by hand.

    tests/fuzz/gen_corpus.py        # rewrite every seed-* file
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def u8(v):
    return struct.pack("<B", v & 0xff)


def u16(v):
    return struct.pack("<H", v & 0xffff)


def u32(v):
    return struct.pack("<I", v & 0xffffffff)


def u64(v):
    return struct.pack("<Q", v & 0xffffffffffffffff)


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


# ---- fuzz_pci_cfg --------------------------------------------------------
(P_CF8, P_CF8_ADDR, P_CFC_READ, P_CFC_WRITE, P_ECAM_READ, P_ECAM_WRITE,
 P_RANGE_READ, P_RANGE_WRITE, P_PIO, P_IRQ, P_RESET, P_API, P_PCIEXBAR, P_BAR,
 P_CLOCK, P_MMIO, P_PM_EVENT, P_PLACE, P_MAP_FAIL, P_DEV_CFG, P_ACPI) = range(21)
W1, W2, W4, W8 = 0, 1, 2, 3      # fz_width() selectors


def cfg_addr(bus_sel, devfn, reg):
    return u8(P_CF8_ADDR) + u8(bus_sel) + u8(devfn) + u8(reg)


def cfc_write(width, off, val):
    return u8(P_CFC_WRITE) + u8(width << 2 | off) + u32(val)


def cfc_read(width, off=0):
    return u8(P_CFC_READ) + u8(width << 2 | off)


def cfg_wr(bus_sel, devfn, reg, val, width=W4):
    return cfg_addr(bus_sel, devfn, reg & ~3) + cfc_write(width, reg & 3, val)


def pci_seeds():
    dev = 2 << 3        # the test device, 00:02.0
    port = 1 << 3       # the root port, 00:01.0
    # BAR sizing the way every firmware does it: all-ones, read back,
    # the address, then decode on; then touch the BARs.
    s = b""
    for i, addr in enumerate([0xc001, 0xfe000000, 0x00000000, 0x00000008, 0, 0]):
        reg = 0x10 + 4 * i
        s += cfg_wr(0, dev, reg, 0xffffffff) + cfc_read(W4) + cfg_wr(0, dev, reg, addr)
    s += cfg_wr(0, dev, 0x14, 0xfe000000) + cfg_wr(0, dev, 0x18, 0xfd000000)
    s += cfg_wr(0, dev, 0x1c, 0x1) + cfg_wr(0, dev, 0x20, 0xfc000000)
    s += cfg_wr(0, dev, 0x24, 0x2)
    s += cfg_wr(0, dev, 0x30, 0xffffffff) + cfc_read(W4) + cfg_wr(0, dev, 0x30, 0xfb000001)
    s += cfg_wr(0, dev, 0x04, 0x0007, W2)
    s += u8(P_RANGE_READ) + u8(1 | W4 << 1) + u8(0) + u32(0)
    s += u8(P_RANGE_WRITE) + u8(0 | W1 << 1) + u8(3) + u32(1) + u64(0x5a)
    write("pci_cfg", "bar-sizing", s)

    # OVMF's PciExBarInitialization, then an ECAM scan of bus 0.
    s = u8(P_PCIEXBAR) + u64(0xb0000001)
    for devfn in (0x00, 0x08, 0x10, 0xf8, 0x18):
        s += u8(P_ECAM_READ) + u8(0) + u8(devfn) + u16(0) + u8(W4)
        s += u8(P_ECAM_READ) + u8(0) + u8(devfn) + u16(0x0e) + u8(W1)
    s += u8(P_ECAM_WRITE) + u8(0) + u8(dev) + u16(0x04) + u8(W2) + u64(6)
    s += u8(P_ECAM_READ) + u8(0) + u8(port) + u16(0x100) + u8(W8)
    write("pci_cfg", "ovmf-ecam", s)

    # A bridge: bus numbers, windows, decode, then the device behind it.
    s = cfg_wr(0, port, 0x18, 0x00010100)                   # pri 0, sec 1, sub 1
    s += cfg_wr(0, port, 0x1c, 0xd0d0, W2)                   # I/O 0xd000-0xdfff
    s += cfg_wr(0, port, 0x20, 0xfe10fe00)                   # mem window
    s += cfg_wr(0, port, 0x24, 0xfff10001)                   # prefetchable: off
    s += cfg_wr(0, port, 0x04, 0x0007, W2)
    s += cfg_wr(1, 0, 0x10, 0xd001) + cfg_wr(1, 0, 0x14, 0xfe000000)
    s += cfg_wr(1, 0, 0x04, 0x0007, W2)
    s += u8(P_IRQ) + u8(0x81) + u8(P_IRQ) + u8(0x80) + u8(P_IRQ) + u8(0x01)
    s += cfg_wr(0, port, 0x3c, 0x00400000)                   # secondary bus reset
    s += cfg_wr(0, port, 0x3c, 0)
    s += u8(P_IRQ) + u8(0)
    write("pci_cfg", "bridge", s)

    # Two levels: port (00:01.0) -> bus 1, port2 (01:01.0) -> bus 2 with
    # the device at 02:03.0; nested windows, INTx swizzled twice.
    p2 = 1 << 3
    s = cfg_wr(0, port, 0x18, 0x00020100) + cfg_wr(0, port, 0x20, 0xfe20fe00)
    s += cfg_wr(0, port, 0x1c, 0xe0d0, W2) + cfg_wr(0, port, 0x04, 0x0007, W2)
    s += cfg_wr(1, p2, 0x18, 0x00020201) + cfg_wr(1, p2, 0x20, 0xfe10fe10)
    s += cfg_wr(1, p2, 0x1c, 0xe0e0, W2) + cfg_wr(1, p2, 0x04, 0x0007, W2)
    s += cfg_wr(2, 3 << 3, 0x10, 0xe001) + cfg_wr(2, 3 << 3, 0x14, 0xfe100000)
    s += cfg_wr(2, 3 << 3, 0x04, 0x0007, W2) + u8(P_IRQ) + u8(0x82)
    s += u8(P_RANGE_READ) + u8(1 | W4 << 1) + u8(1) + u32(8)
    s += cfg_wr(1, p2, 0x3c, 0x00400000) + u8(P_IRQ) + u8(0x02)
    s += cfg_wr(0, port, 0x18, 0x00010100) + cfg_wr(2, 3 << 3, 0x00, 0)
    write("pci_cfg", "nested-bridges", s)

    # ICH9 LPC as OVMF programs it: PMBASE, ACPI_EN, PIRQ routes, RCBA,
    # then the PM block, the APM port and an INTx through a PIRQ.
    lpc = 0x1f << 3
    s = cfg_wr(0, lpc, 0x40, 0x601) + cfg_wr(0, lpc, 0x44, 0x80, W1)
    s += cfg_wr(0, lpc, 0x60, 0x0b0b0a0a) + cfg_wr(0, lpc, 0x68, 0x0b0b0a0a)
    s += cfg_wr(0, lpc, 0xf0, 0xfed1c001) + cfg_wr(0, lpc, 0x04, 0x0007, W2)
    s += u8(P_PIO) + u8(1 | W2 << 1) + u16(0x604) + u32(0x2001)
    s += u8(P_PIO) + u8(0 | W4 << 1) + u16(0x608)
    s += u8(P_PIO) + u8(1 | W1 << 1) + u16(0xb2) + u32(2)
    s += u8(P_MMIO) + u8(1 | W4 << 1) + u64(0xfed1c000 + 0x3418) + u64(1)
    s += u8(P_CLOCK) + u32(123456789)
    s += cfg_wr(0, dev, 0x04, 0x0007, W2) + u8(P_IRQ) + u8(0x80)
    s += cfg_wr(0, lpc, 0x68, 0x0b0b0a80)                    # PIRQE off the PIC
    s += cfg_wr(0, dev, 0x04, 0x0407, W2)                    # INTx disable
    write("pci_cfg", "lpc", s)

    # The reset register in CONFIG_ADDRESS's dword, and a system reset.
    s = u8(P_CF8) + u32(0x80001000) + u8(P_PIO) + u8(1 | W1 << 1) + u16(0xcf9) + u32(0x06)
    s += u8(P_PIO) + u8(0 | W2 << 1) + u16(0xcfa) + u8(P_PIO) + u8(0 | W4 << 1) + u16(0xcf8)
    s += u8(P_RESET) + u8(P_API) + u8(1 | 4 << 1) + u8(0) + u8(0) + u16(0x60) + u32(0xe0000005)
    write("pci_cfg", "reset", s)

    # Overlaps: BARs, ECAM, RCRB and the PM block placed over ranges that
    # are taken; then moved away again, so the refused ones map.
    s = u8(P_PCIEXBAR) + u64(0xb0000001) + cfg_wr(0, 0x1f << 3, 0xf0, 0xfed1c001)
    s += cfg_wr(0, dev, 0x14, 0xfe000000) + cfg_wr(0, dev, 0x04, 0x0003, W2)
    s += u8(P_PLACE) + u8(0) + u8(0) + u8(0x10)         # dev's BAR 2 over a range
    s += u8(P_PLACE) + u8(0x80) + u8(1) + u8(0x00)      # dev's I/O BAR over ports
    s += u8(P_PLACE) + u8(3) + u8(1) + u8(0x06)         # ECAM over a BAR
    s += u8(P_PLACE) + u8(4) + u8(0) + u8(0)            # RCRB over a BAR
    s += u8(P_PLACE) + u8(0x85) + u8(2) + u8(0)         # PM block over ports
    s += cfg_wr(0, dev, 0x14, 0xfd000000) + u8(P_PCIEXBAR) + u64(0xe0000001)
    s += u8(P_PM_EVENT) + u8(3) + u8(P_PM_EVENT) + u8(0xff)
    write("pci_cfg", "overlaps", s)

    # OVMF 2022.11's placement of a GPU's BAR1 at the top of a 40-bit
    # address space: the root port's 64-bit prefetchable window and the
    # device's 64-bit BAR 2 at 0xE0_0000_0000, then the ACPI tables built
    # over them; config reads and writes through pci_dev_cfg_* (a BAR mirror).
    s = cfg_wr(0, port, 0x18, 0x00010100)
    s += cfg_wr(0, port, 0x24, 0xe001e001)          # pref base/limit, 64-bit
    s += cfg_wr(0, port, 0x28, 0xe0) + cfg_wr(0, port, 0x2c, 0xe0)
    s += cfg_wr(0, port, 0x04, 0x0006, W2)
    s += cfg_wr(1, 0, 0x18, 0x0000000c) + cfg_wr(1, 0, 0x1c, 0xe0)
    s += cfg_wr(1, 0, 0x04, 0x0006, W2)
    s += u8(P_ACPI) + u8(0) + u8(P_ACPI) + u8(6)
    s += u8(P_DEV_CFG) + u8(4 << 1) + u8(1) + u16(0x10)
    s += u8(P_DEV_CFG) + u8(1 | 4 << 1) + u8(1) + u16(0x18) + u32(0xffffffff)
    s += u8(P_DEV_CFG) + u8(1 | 2 << 1) + u8(3) + u16(0x0ffe) + u32(0x1234)
    s += u8(P_ACPI) + u8(0xff)
    write("pci_cfg", "bar64", s)


# ---- fuzz_fw_cfg ----------------------------------------------------------
(F_SELECT, F_READ, F_CTL, F_DMA, F_DMA_RAW, F_MEM, F_DMA_PORT, F_RESET, F_UPDATE) = range(9)
A_PAGE, A_VGA, A_VGA_END, A_ISA, A_1M, A_RAMEND, A_2M, A_ZERO = range(8)
CTL_ERROR, CTL_READ, CTL_SKIP, CTL_SELECT, CTL_WRITE = 1, 2, 4, 8, 0x10


def gpa(anchor, off=0):
    return u8(anchor) + u16(off)


def length(n):
    if n < 0x80:
        return u8(n)
    if n < 0x10000:
        return u8(0x80) + u16(n)
    return u8(0xc0) + u32(n)


def dma(key, flags, n, desc, buf, how=0):
    return u8(F_DMA) + u16(key) + u8(flags) + u8(how) + length(n) + desc + buf


def fw_cfg_seeds():
    # The first byte picks the memory layout: 0 with the isa-bios hole,
    # 1 without (RAM regions touching at 1 MiB).
    # QemuFwCfgInitialize: signature and ID through the ports.
    s = u8(0) + u8(F_SELECT) + u16(0) + u8(F_READ) + u8(4)
    s += u8(F_SELECT) + u16(1) + u8(F_READ) + u8(4)
    s += u8(F_DMA_PORT) + u8(0 | W8 << 4) + u8(F_DMA_PORT) + u8(2 | W1 << 4)
    write("fw_cfg", "ovmf-probe", s)

    # OVMF over DMA: the directory (count, then entries), then items by
    # key (QemuFwCfgSelectItem + QemuFwCfgReadBytes), skip, e820.
    d = gpa(A_2M)
    s = u8(0) + dma(0x19, CTL_SELECT | CTL_READ, 4, d, gpa(A_2M, 0x100))
    s += dma(0, CTL_READ, 64 * 13, d, gpa(A_2M, 0x200))
    for key in (0x05, 0x03, 0x8002, 0x20, 0x24, 0x25, 0x29, 0x2a):
        s += dma(key, CTL_SELECT | CTL_READ, 0x7f, d, gpa(A_2M, 0x1000), how=key % 2)
    s += dma(0x21, CTL_SELECT | CTL_SKIP, 8, d, gpa(A_2M))
    s += dma(0, CTL_READ, 0x1000, d, gpa(A_2M, 0x2000))
    write("fw_cfg", "ovmf-dma", s)

    # The writable file: select + write, skip + write, read back, and a
    # write past its end.
    wr = 0x2c   # "fuzz/writable" in name order
    s = u8(0) + u8(F_MEM) + gpa(A_2M, 0x400) + u8(16) + bytes(range(16))
    s += dma(wr, CTL_SELECT | CTL_WRITE, 16, d, gpa(A_2M, 0x400))
    s += dma(wr, CTL_SELECT | CTL_SKIP, 240, d, gpa(A_2M))
    s += dma(0, CTL_WRITE, 32, d, gpa(A_2M, 0x400))
    s += dma(wr, CTL_SELECT | CTL_READ, 0x7f, d, gpa(A_2M, 0x800))
    s += dma(0x20, CTL_SELECT | CTL_WRITE, 4, d, gpa(A_2M, 0x400))
    s += u8(F_UPDATE) + u8(1) + u8(8) + b"shrunk!!" + dma(wr, CTL_SELECT | CTL_WRITE, 16, d, gpa(A_2M, 0x400))
    s += u8(F_UPDATE) + u8(0) + u8(12) + b"/pci@i0cf8/\0"[:12]
    write("fw_cfg", "dma-write", s)

    # Edges: buffers across the VGA hole, the isa-bios hole and the end of
    # RAM; descriptors in a hole and straddling an edge; 8-byte kicks.
    s = u8(0) + dma(0x19, CTL_SELECT | CTL_READ, 16, d, gpa(A_VGA, 0xfff8))
    s += dma(0x19, CTL_SELECT | CTL_READ, 16, d, gpa(A_RAMEND, 0xfff8), how=1)
    s += dma(0x19, CTL_SELECT | CTL_READ, 0x7f, d, gpa(A_ISA, 0xffc0))
    s += dma(0x19, CTL_SELECT | CTL_READ, 4, gpa(A_VGA, 0xfff4), gpa(A_2M, 0x100))
    s += dma(0x19, CTL_SELECT | CTL_READ, 4, gpa(A_VGA, 0x10), gpa(A_2M, 0x100))
    s += dma(0x19, CTL_SELECT | CTL_READ, 0x20000, d, gpa(A_2M, 0x100))
    s += u8(F_DMA_RAW) + u8(2) + gpa(A_2M)
    s += u8(F_DMA_PORT) + u8(1 | 0 << 1 | W4 << 4) + u64(0x01000000)
    s += u8(F_DMA_RAW) + u8(2) + gpa(A_2M) + u8(F_RESET)
    write("fw_cfg", "dma-edges", s)
    # Without the isa-bios hole a buffer may run from 0xC0000-0xFFFFF
    # into 1 MiB: one transfer over two RAM regions.
    s = u8(1) + dma(0x19, CTL_SELECT | CTL_READ, 0x40, d, gpa(A_1M, 0xffe0))
    s += dma(0x19, CTL_SELECT | CTL_READ, 0x40, gpa(A_1M, 0xfff8), gpa(A_2M, 0x100))
    s += dma(0x19, CTL_SELECT | CTL_READ, 0x40, d, gpa(A_VGA_END, 0xfff0))
    write("fw_cfg", "touching-regions", s)

    # Every width at the control ports.
    s = u8(0)
    for a in range(16):
        s += u8(F_CTL) + u8(a) + u32(0x19)
    write("fw_cfg", "port-widths", s)


# ---- fuzz_reset -----------------------------------------------------------
(R_WRITE_CF9, R_READ_CF9, R_WRITE_92, R_READ_92, R_PLATFORM_RESET, R_WIDE) = range(6)


def reset_seeds():
    # Linux's reboot=pci (0x02 then 0x06 at 0xCF9), a platform reset,
    # then the fast reset through port 0x92 with A20 kept on, and a
    # dword at 0xCF8's dword that must not reach 0xCF9.
    s = u8(R_WRITE_CF9) + u8(0x02) + u8(R_READ_CF9) + u8(0) + u8(R_WRITE_CF9) + u8(0x06)
    s += u8(R_PLATFORM_RESET) + u8(0) + u8(R_READ_CF9) + u8(0)
    s += u8(R_WRITE_92) + u8(0x02) + u8(R_READ_92) + u8(0) + u8(R_WRITE_92) + u8(0x03)
    s += u8(R_READ_92) + u8(0) + u8(R_WIDE) + u8(0x04) + u32(0x06)
    write("reset", "reboot-paths", s)


# ---- fuzz_uart ------------------------------------------------------------
(U_READ, U_WRITE, U_RECEIVE, U_RECEIVE_BIG, U_IIR, U_DRAIN) = range(6)


def ur(reg, width=W1):
    return u8(U_READ) + u8(width << 3 | reg)


def uw(reg, val, width=W1):
    return u8(U_WRITE) + u8(width << 3 | reg) + u32(val)


def uart_seeds():
    # Linux's 8250 probe and set-up: scratch test, 115200 8N1, FIFO,
    # interrupts; then output, input, and the THRE dance.
    s = uw(7, 0xa5) + ur(7) + uw(4, 0x10) + ur(6) + uw(4, 0)
    s += uw(3, 0x80) + uw(0, 1) + uw(1, 0) + uw(3, 0x03)
    s += uw(2, 0xc7) + ur(2) + uw(4, 0x0b) + uw(1, 0x0f) + u8(U_IIR)
    for c in b"hello\n":
        s += uw(0, c)
    s += u8(U_IIR) + u8(U_RECEIVE) + u8(5) + b"ls -l" + u8(U_IIR) + u8(U_DRAIN) + u8(16)
    s += uw(1, 0x0d) + uw(1, 0x0f) + u8(U_IIR) + ur(5) + ur(6)
    write("uart", "linux-init", s)

    # Loopback, wide accesses, the 16450 mode and an overrun.
    s = uw(4, 0x1f) + uw(0, 0x41) + uw(0, 0x42) + ur(0) + ur(6) + uw(4, 0x10)
    s += uw(0, 0x01020304, W4) + ur(0, W4) + ur(5, W2) + ur(6, W8)
    s += uw(2, 0) + u8(U_RECEIVE) + u8(3) + b"xyz" + ur(5) + ur(0)
    s += uw(2, 0x01) + u8(U_RECEIVE_BIG) + u16(5000) + u8(0x61) + u8(U_IIR)
    s += u8(U_DRAIN) + u8(40) + uw(2, 0x87) + u8(U_IIR) + uw(4, 0)
    write("uart", "loopback-fifo", s)


# ---- fuzz_rtc ---------------------------------------------------------------
(R_READ, R_WRITE, R_CMOS_WRITE, R_CMOS_READ, R_TICK, R_TICK_BIG, R_STEP_BACK,
 R_CHECK, R_SET_CHECK) = range(9)


def cw(idx, val):
    return u8(R_CMOS_WRITE) + u8(idx) + u8(val)


def cr(idx):
    return u8(R_CMOS_READ) + u8(idx)


def rtc_seeds():
    start = u64(1700000000 * 10**9 + 123456789)
    # What firmware reads: status registers, the time, the memory bytes.
    s = start
    for idx in (0x0a, 0x0b, 0x0d, 0x00, 0x02, 0x04, 0x06, 0x07, 0x08, 0x09, 0x32,
                0x15, 0x17, 0x30, 0x34, 0x5b, 0x5f):
        s += cr(idx)
    s += u8(R_TICK) + u32(999999000) + u8(R_CHECK)
    write("rtc", "firmware-read", s)

    # Setting the clock with SET, in BCD and in binary 12-hour mode.
    s = start + cw(0x0b, 0x82)
    for idx, v in ((0, 0x59), (2, 0x59), (4, 0x23), (7, 0x31), (8, 0x12), (9, 0x99), (0x32, 0x20)):
        s += cw(idx, v)
    s += cw(0x0b, 0x02) + u8(R_TICK) + u32(1500000000) + u8(R_CHECK)
    s += cw(0x0b, 0x84) + cw(4, 0x8b) + cw(0x0b, 0x04) + u8(R_TICK_BIG) + u16(600) + u8(R_CHECK)
    s += cw(0x0a, 0x76) + cw(0x0a, 0x26) + u8(R_TICK) + u32(600000000) + u8(R_CHECK)
    write("rtc", "set-time", s)

    # Interrupts: periodic at 1024 Hz, update-ended, alarm; register C.
    s = start + cw(0x0a, 0x26) + cw(0x0b, 0x42)
    for _ in range(4):
        s += u8(R_TICK) + u32(976563) + cr(0x0c)
    s += cw(0x0b, 0x12) + u8(R_TICK) + u32(1000000000) + u8(R_CHECK)
    s += cw(0x01, 0xc0) + cw(0x03, 0xc0) + cw(0x05, 0xc0) + cw(0x0b, 0x22)
    s += u8(R_TICK_BIG) + u16(3) + u8(R_CHECK) + u8(R_STEP_BACK) + u32(0xffffffff)
    s += cr(0x0c) + u8(R_CHECK) + cw(0x0b, 0x02)
    s += u8(R_WRITE) + u8(2 | W2 << 2) + u32(0x5a10) + u8(R_READ) + u8(2 | W2 << 2)
    write("rtc", "interrupts", s)

    # Set a time, run, read back: a leap day, the end of a century, 1900.
    s = start
    for year, mon, mday, hour, minute, sec, adv in ((2024 - 1900, 1, 27, 23, 59, 58, 86400 + 3),
                                                    (2099 - 1900, 11, 27, 23, 59, 59, 200000),
                                                    (0, 0, 0, 0, 0, 0, 65535)):
        s += u8(R_SET_CHECK) + u16(year) + u8(mon) + u8(mday) + u8(hour) + u8(minute)
        s += u8(sec) + u16(adv) + u32(999999999)
    write("rtc", "set-run-read", s)


# ---- fuzz_pflash -----------------------------------------------------------
(PF_READ, PF_WRITE, PF_CMD, PF_PROGRAM, PF_ERASE, PF_BUFFER, PF_CHECK) = range(7)


def pflash_seeds():
    # QemuFlashDetected (OVMF), then CFI query and the IDs.
    s = u8(0)                                   # writable
    s += u8(PF_READ) + u8(W1) + u32(0x1000)
    s += u8(PF_CMD) + u8(1) + u8(0x50) + u8(PF_READ) + u8(W1) + u32(0x1000)
    s += u8(PF_CMD) + u8(1) + u8(0x70) + u8(PF_READ) + u8(W1) + u32(0x1000)
    s += u8(PF_CMD) + u8(1) + u8(0xff) + u8(PF_CHECK)
    s += u8(PF_CMD) + u8(0) + u8(0x98)
    for off in (0x10, 0x11, 0x12, 0x27, 0x2d, 0x31):
        s += u8(PF_READ) + u8(W1) + u32(off)
    s += u8(PF_CMD) + u8(0) + u8(0x90) + u8(PF_READ) + u8(W2) + u32(0)
    s += u8(PF_CMD) + u8(0) + u8(0xff) + u8(PF_CHECK)
    write("pflash", "ovmf-detect", s)

    # QemuFlashWrite/QemuFlashEraseBlock: erase, program bytes, status,
    # read array again; lock setup; a bad confirm.
    s = u8(0) + u8(PF_ERASE) + u8(2)
    for i in range(8):
        s += u8(PF_PROGRAM) + u32(0x2000 + i) + u8(0x30 + i)
    s += u8(PF_CMD) + u8(2) + u8(0x70) + u8(PF_READ) + u8(W1) + u32(0x2000)
    s += u8(PF_CMD) + u8(2) + u8(0xff) + u8(PF_CHECK)
    s += u8(PF_CMD) + u8(3) + u8(0x60) + u8(PF_CMD) + u8(3) + u8(0x01)
    s += u8(PF_CMD) + u8(3) + u8(0x20) + u8(PF_CMD) + u8(3) + u8(0x00) + u8(PF_CHECK)
    s += u8(PF_WRITE) + u8(W8) + u32(0x3000) + u64(0x40)
    s += u8(PF_WRITE) + u8(W8) + u32(0x3000) + u64(0x1122334455667788)
    s += u8(PF_CMD) + u8(0) + u8(0xff) + u8(PF_CHECK)
    write("pflash", "program-erase", s)

    # Write to buffer: 16 bytes, a bad confirm, an address outside the
    # window; and a read-only flash refusing everything.
    s = u8(0) + u8(PF_BUFFER) + u32(0x4010) + u8(15) + bytes(range(16))
    s += u8(PF_CMD) + u8(4) + u8(0xe8) + u8(PF_CMD) + u8(4) + u8(3)
    s += u8(PF_WRITE) + u8(W1) + u32(0x4000) + u64(1) + u8(PF_WRITE) + u8(W1) + u32(0x4200) + u64(2)
    s += u8(PF_CMD) + u8(4) + u8(0x50) + u8(PF_CHECK)
    write("pflash", "write-buffer", s)
    s = u8(1) + u8(PF_ERASE) + u8(0) + u8(PF_PROGRAM) + u32(5) + u8(0)
    s += u8(PF_BUFFER) + u32(0) + u8(3) + b"abcd" + u8(PF_CMD) + u8(0) + u8(0x70)
    s += u8(PF_READ) + u8(W1) + u32(0) + u8(PF_CMD) + u8(0) + u8(0x50) + u8(PF_CHECK)
    write("pflash", "readonly", s)


# ---- fuzz_cli ---------------------------------------------------------------
def cli_seeds():
    def argv(*a):
        return u8(0) + b"\0".join(x.encode() for x in a)

    write("cli", "ovmf-full", argv(
        "--ovmf", "/usr/share/ovmf/OVMF_CODE_4M.fd", "--ovmf-vars", "vars.fd",
        "--memory", "2G", "--cpus", "4", "--pin", "2-5", "--name", "vm1",
        "--rtc", "localtime", "--uuid", "6b1f3c2e-8a9d-4f10-b2c3-0123456789ab",
        "--serial-number", "SN1", "--disk", "path=a,,b.img,readonly=on,serial=S1,queues=2",
        "--disk", "b.img", "--vfio", "65:00.0,romfile=r.rom",
        "--gpu", "0000:01:00,vga=on", "--serial", "file:/tmp/x", "--hugepages", "2M"))
    write("cli", "firmware", argv(
        "--firmware", "fw.bin", "--testdev", "--debugcon", "d.log", "--stats",
        "--hide-kvm", "--verbose", "--serial", "none", "--memory=1024", "--dump-acpi", "dir"))
    write("cli", "topology", argv(
        "--firmware", "fw.bin", "--cpus", "cpus=16,sockets=1,cores=8,threads=2",
        "--pin", "2-9,18-25", "--pin-io", "0,16"))
    write("cli", "help", argv("--version", "--help"))
    write("cli", "size", u8(1) + b"16GiB")
    write("cli", "cpu-list", u8(2 | 7 << 3) + b"14-17,32-35")
    write("cli", "cpu-list-max", u8(3) + b"0-8191")
    write("cli", "uuid", u8(4) + b"6B1F3C2E-8a9d-4f10-b2c3-0123456789ab")
    write("cli", "fw-cfg", u8(4 | 0x80) + b"name=opt/ovmf/X-PciMmio64Mb,string=65,,536")
    write("cli", "secure-boot", argv(
        "--secure-boot", "--fw-cfg", "name=opt/a,file=f", "--fw-cfg", "name=opt/b,string=1"))
    write("cli", "disk", u8(5) + b"path=x,,y.img,direct=on,queues=64,serial=01234567890123456789")
    write("cli", "vfio", u8(6) + b"0000:65:00.0,romfile=x.rom")
    write("cli", "gpu", u8(7) + b"65:00,vga=on,romfile=y")
    write("cli", "boot", u8(1 | 0x80) + b"cdrom1,disk,cdrom,disk1")
    write("cli", "reboot", argv(
        "--ovmf", "OVMF.fd", "--boot", "cdrom,disk0", "--no-reboot", "--shutdown-timeout", "5"))
    write("cli", "hyperv", argv(
        "--ovmf", "OVMF.fd", "--hyperv", "on", "--hide-kvm", "--hv-vendor-id", "Microsoft Hv",
        "--hyperv=off"))


# ---- fuzz_virtio_blk -------------------------------------------------------
(V_SETUP, V_REQUEST, V_BAR_READ, V_BAR_WRITE, V_CFG, V_MSIX, V_MEM, V_DESC,
 V_AVAIL, V_KICK, V_RING_FIELD, V_RESET, V_REG, V_CFG_WINDOW, V_VECTOR) = range(15)
T_IN, T_OUT, T_FLUSH, T_GET_ID, T_DISCARD, T_WZ = range(6)


def setup(shape=0x10, sizes=(8, 8)):
    s = u8(V_SETUP) + u64(0xffffffffffffffff) + u8(shape)
    for sz in sizes:
        s += u8(sz)
    return s


def req(q, t, sector, segs, layout=0, payload=b""):
    """segs: list of lsel values (512 * (1 + lsel % 8) bytes each)."""
    s = u8(V_REQUEST) + u8(q) + u8(t) + u8(layout) + u8(sector) + u8(len(segs))
    for lsel in segs:
        s += u8(lsel)
        if t not in (T_IN, T_GET_ID):
            s += payload[:64].ljust(64, b"\xab")
    return s


def virtio_seeds():
    # Linux's bring-up, a read, a write and the read back, flush.
    s = u8(0) + setup() + req(0, T_IN, 0, [7]) + req(1, T_OUT, 8, [0], payload=b"minivmm" * 10)
    s += req(1, T_IN, 8, [0]) + req(0, T_FLUSH, 0, []) + req(0, T_GET_ID, 0, [0])
    s += u8(V_BAR_READ) + u8(W1) + u16(0x1000)
    write("virtio_blk", "linux-rw", s)

    # Discard and write-zeroes ranges (16 bytes each, lsel 0xe0: u16 len).
    rng = u64(16) + u32(8) + u32(0)
    unmap = u64(32) + u32(8) + u32(1)
    s = u8(0) + setup()
    s += u8(V_REQUEST) + u8(0) + u8(T_DISCARD) + u8(0) + u8(0) + u8(1) + u8(0xe0) + u16(16) + rng
    s += u8(V_REQUEST) + u8(0) + u8(T_WZ) + u8(0) + u8(0) + u8(1) + u8(0xe0) + u16(32) + rng + unmap
    s += u8(V_REQUEST) + u8(0) + u8(T_WZ) + u8(0) + u8(0) + u8(1) + u8(0xe0) + u16(16) + u64(2047) + u32(2) + u32(0)
    write("virtio_blk", "discard-wz", s)

    # Any layout: header split, status inside the data buffer, indirect
    # tables; a read-only disk refusing a write; event-idx suppression.
    s = u8(1) + setup(sizes=(4, 1)) + req(0, T_IN, 3, [1, 2], layout=0x07)
    s += req(0, T_OUT, 3, [1], layout=0x01) + req(1, T_IN, 0, [0], layout=0x04)
    s += u8(V_RING_FIELD) + u8(0) + u8(0) + u16(1) + req(0, T_IN, 5, [0], layout=0x02)
    s += u8(V_RING_FIELD) + u8(0) + u8(2) + u16(100) + req(0, T_GET_ID, 0, [0], layout=0x10)
    s += u8(V_KICK) + u8(0)
    write("virtio_blk", "any-layout-ro", s)

    # Broken rings: a descriptor loop, a head past the queue, avail->idx
    # running ahead; then reset and start again.
    ring = 0x10000
    s = u8(0) + setup(sizes=(3, 3))
    s += u8(V_DESC) + u8(0) + u16(0) + u8(0) + u16(0) + u32(16) + u16(1) + u16(0)
    s += u8(V_AVAIL) + u8(0) + u16(0) + u8(V_KICK) + u8(0)
    s += u8(V_AVAIL) + u8(1) + u16(77) + u8(V_KICK) + u8(1)
    s += u8(V_RESET) + setup(shape=0x00, sizes=(8, 8))
    s += u8(V_RING_FIELD) + u8(1) + u8(1) + u16(0x8000) + u8(V_KICK) + u8(1)
    s += u8(V_MEM) + u8(7) + u16(0) + u8(4) + u64(ring)[:4]
    write("virtio_blk", "broken-rings", s)

    # The transport on its own: common config at every offset and width,
    # device config, ISR, MSI-X table and PBA, config space with the
    # virtio PCI capabilities.
    s = u8(0)
    for off in range(0, 0x3c, 2):
        s += u8(V_BAR_READ) + u8(W2) + u16(off)
    for off in (0x2000, 0x2008, 0x2014, 0x2022, 0x1000):
        s += u8(V_BAR_READ) + u8(W4) + u16(off)
    s += u8(V_BAR_WRITE) + u8(W1) + u16(0x14) + u64(1) + u8(V_BAR_WRITE) + u8(W4) + u16(0x08) + u64(1)
    s += u8(V_BAR_WRITE) + u8(W4) + u16(0x0c) + u64(1) + u8(V_BAR_WRITE) + u8(W1) + u16(0x14) + u64(0x0b)
    s += u8(V_MSIX) + u8(1 | W4 << 1) + u16(0x10) + u32(0xfee00000) + u8(V_MSIX) + u8(0 | W8 << 1) + u16(0x800)
    for off in range(0x34, 0x100, 4):
        s += u8(V_CFG) + u8(0 | W4 << 1) + u8(off)
    write("virtio_blk", "transport", s)

    # Firmware without BAR mappings: the device through the PCI-config
    # window (reset, status, queue select, device config), then MSI-X
    # masking around an interrupt (pending bit, delivered on unmask).
    s = u8(0)
    for woff, ln, val in ((0x14, 0, 0), (0x14, 0, 1), (0x16, 1, 0), (0x18, 1, None),
                          (0x00, 2, None), (0x2000, 2, None), (0x2014, 1, None), (0x1000, 0, None)):
        if val is None:
            s += u8(V_CFG_WINDOW) + u8(0 | ln << 1) + u8(0) + u16(woff) + u8(ln)
        else:
            s += u8(V_CFG_WINDOW) + u8(1 | ln << 1) + u8(0) + u16(woff) + u8(ln) + u32(val)
    s += u8(V_CFG_WINDOW) + u8(0 | W4 << 1) + u8(0xf1) + u16(0) + u8(2)
    s += setup() + u8(V_VECTOR) + u8(1) + u8(0) + req(0, T_IN, 0, [0])
    s += u8(V_MSIX) + u8(0 | W4 << 1) + u16(0x800) + u8(V_VECTOR) + u8(1) + u8(1)
    s += u8(V_VECTOR) + u8(0) + u8(2) + u8(V_VECTOR) + u8(0) + u8(2) + u8(V_VECTOR) + u8(0) + u8(3)
    s += req(0, T_IN, 0, [0]) + u8(V_REG) + u8(W1 | 1 << 2) + u8(0)
    for off in range(0, 0x40, 4):
        s += u8(V_REG) + u8(W8 | 2 << 2) + u8(off)
    s += u8(V_REG) + u8(W2 | 0 << 2 | 0x10) + u8(0x16) + u64(5)
    write("virtio_blk", "cfg-window-msix", s)


# ---- fuzz_aml -----------------------------------------------------------------
(A_INT, A_STRING, A_EISAID, A_TOUUID, A_BUFFER, A_NAME, A_ARG, A_LOCAL, A_SCOPE,
 A_DEVICE, A_METHOD, A_PACKAGE, A_RESTEMPLATE, A_IF, A_ELSE, A_WHILE, A_NAME_DECL,
 A_REGION, A_FIELD, A_NAMED_FIELD, A_RESERVED_FIELD, A_CREATE_DWORD, A_BINARY,
 A_UNARY, A_LOGIC, A_CALL, A_RESOURCE, A_ADDR_SPACE, A_APPEND, A_DROP,
 A_PKGLENGTH) = range(31)


def astr(t):
    return u8(len(t)) + t.encode()


def aml_seeds():
    # What dsdt.c builds for COM1 and the PM block, bottom-up.
    s = u8(A_SCOPE) + astr("\\_SB") + u8(A_DEVICE) + astr("COM1")
    s += u8(A_EISAID) + astr("PNP0501") + u8(A_NAME_DECL) + astr("_HID") + u8(A_APPEND)
    s += u8(A_RESTEMPLATE) + u8(A_RESOURCE) + u8(0x80) + u16(0x3f8) + u16(0x3f8) + u8(0) + u8(8)
    s += u8(A_APPEND) + u8(A_RESOURCE) + u8(1) + u8(4) + u8(A_APPEND)
    s += u8(A_NAME_DECL) + astr("_CRS") + u8(A_APPEND)
    s += u8(A_METHOD) + u8(0) + astr("_STA") + u8(A_INT) + u8(0) + u8(0x0f)
    s += u8(A_UNARY) + u8(5) + u8(A_APPEND) + u8(A_APPEND) + u8(A_APPEND)
    s += u8(A_REGION) + u8(1) + astr("PMIO") + u64(0x600) + u64(0x80)
    s += u8(A_FIELD) + u8(1) + astr("PMIO") + u8(A_NAMED_FIELD) + astr("PM1S") + u32(16)
    s += u8(A_APPEND) + u8(A_RESERVED_FIELD) + u32(16) + u8(A_APPEND)
    s += u8(A_TOUUID) + astr("33DB4D5B-1FF7-401C-9657-7441C03DD766")
    s += u8(A_ARG) + u8(0) + u8(A_LOGIC) + u8(2) + u8(A_IF) + u8(A_LOCAL) + u8(1)
    s += u8(A_INT) + u8(1) + u64(0x1122334455) + u8(A_BINARY) + u8(1) + u8(A_APPEND)
    s += u8(A_ELSE) + u8(A_CALL) + u8(2) + astr("\\_SB.PCI0.FOO")
    s += u8(A_PKGLENGTH) + u32(0x3e) + u8(A_PKGLENGTH) + u32(0xffffffa)
    write("aml", "dsdt-like", s)


# ---- fuzz_control ---------------------------------------------------------
# Byte 0: chunk size (1 + 61 * (b & 0x7f)) and, in bit 7, a client that
# reads only once it has written everything; then the stream, where
# 0xFE c n is 64 * (n + 1) copies of c.
def control_seeds():
    every = b"".join(b'{"cmd":"%s"}\n' % c for c in
                     (b"status", b"stats", b"powerdown", b"reset", b"stop"))
    write("control", "every-command", u8(0x7f) + every)
    write("control", "byte-at-a-time", u8(0) + b'{"cmd":"status"}\r\n{ "cmd" : "stats" }')
    write("control", "errors", u8(3) + b'garbage\n\n[1]\n{}\n{"cmd":1}\n{"cmd":"nope"}\n'
          b'{"cmd":"status","id":7}\n{"cmd":"status",}\n{"cmd":"\\u0000"}\n{"cmd":"\xff"}\n'
          b'{"cmd":"status"')
    # 4096 bytes is a request; 4097 is not; 16 KiB is dropped up to its end
    pad = 4096 - len(b'{"cmd":"status"}')
    line = b'{"cmd":"status"}' + b" " * (pad % 64) + u8(0xfe) + b" " + u8(pad // 64 - 1)
    write("control", "long-lines", u8(0x20) + line + b"\n" + line + b" \n" +
          u8(0xfe) + b"x" + u8(255) + b'\n{"cmd":"status"}\n')
    write("control", "unread-replies", u8(0x80 | 0x7f) + b'{"cmd":"stats"}\n' * 200)
    write("control", "nested", u8(5) + b'{"cmd":"status","a":[1,{"b":[true,false,null]}]}\n'
          b'{"cmd":{"cmd":"stop"}}\n')


# ---- fuzz_ahci -------------------------------------------------------------
(H_PORT, H_COMMAND, H_POLL, H_READ, H_WRITE, H_CFG, H_RESET, H_IDP, H_MSI) = range(9)
H_ATA = [0x25, 0x35, 0x60, 0x61, 0xc8, 0xca, 0x20, 0x30, 0xec, 0xa1, 0xa0, 0xe7, 0xea,
         0x06, 0x2f, 0x47, 0x42, 0x27, 0xf8, 0xef, 0xc6, 0xc4, 0x29, 0x3d, 0x90, 0x08,
         0xe5, 0x00, 0x24, 0x34]
H_MMC = [0x00, 0x03, 0x12, 0x1a, 0x1b, 0x1e, 0x25, 0x28, 0x2b, 0x43, 0x46, 0x4a, 0x51,
         0x52, 0x5a, 0xa8, 0xad, 0xbb, 0xbd, 0xbe, 0x55, 0x2a]


def hport(port, sel=0x20):
    return u8(H_PORT) + u8(port | sel)


def hcmd(port, slot, cmd, lba=0, count=1, features=0, prds=(), cdb=None, flags=0):
    """One command: prds are (data offset / 32, length selector: 512 * (1 + n))."""
    s = u8(H_COMMAND) + u8(port | slot << 3) + u8(H_ATA.index(cmd)) + u8(flags)
    s += u8(count % 9)
    s += u8(0) + u8(lba)
    s += u8(len(prds)) + u8(features) + u8(0x40)
    if cmd == 0xa0:
        s += u8(H_MMC.index(cdb[0])) + bytes(cdb[1:12]).ljust(11, b"\0")
    for off, n in prds:
        s += u8(n) + u16(off)
    return s


def hpoll(port):
    return u8(H_POLL) + u8(port)


def ahci_seeds():
    # Linux's libahci on a SATA disk: port start, IDENTIFY, a write and
    # a read of 4 KiB, queued writes and reads, FLUSH, TRIM.
    s = u8(0) + hport(0)
    s += hcmd(0, 0, 0xec, prds=[(0, 0)]) + hpoll(0)
    s += hcmd(0, 1, 0x35, lba=8, count=8, prds=[(0x100, 7)]) + hpoll(0)
    s += hcmd(0, 2, 0x25, lba=8, count=8, prds=[(0x200, 3), (0x400, 3)]) + hpoll(0)
    for t in range(4):
        s += hcmd(0, t, 0x61, lba=16 * t, count=0, features=2, prds=[(0x800 + 0x40 * t, 1)])
    s += hpoll(0)
    for t in range(4):
        s += hcmd(0, t, 0x60, lba=16 * t, count=0, features=2, prds=[(0x1000 + 0x40 * t, 1)])
    s += hpoll(0) + hcmd(0, 5, 0xea) + hpoll(0)
    s += hcmd(0, 6, 0x06, count=1, features=1, prds=[(0, 0)]) + hpoll(0)
    write("ahci", "linux-disk", s)
    # The CD-ROM as OVMF and sr_mod probe it, then reads.
    s = u8(0) + hport(1)
    s += hcmd(1, 0, 0xa1, prds=[(0, 0)]) + hpoll(1)
    for cdb, n in (([0x00], 0), ([0x03, 0, 0, 0, 18], 0), ([0x12, 0, 0, 0, 36], 0),
                   ([0x25], 0), ([0x28, 0, 0, 0, 0, 4, 0, 0, 2], 7),
                   ([0x43, 2, 0, 0, 0, 0, 0, 0, 100], 0), ([0x46, 0, 0, 0, 0, 0, 0, 1, 0], 0),
                   ([0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8], 0), ([0x5a, 0, 0x3f, 0, 0, 0, 0, 0, 255], 0),
                   ([0xa8, 0, 0, 0, 0, 1, 0, 0, 0, 1], 3), ([0xbe, 0, 0, 0, 0, 2, 0, 0, 1, 0x10], 3)):
        s += hcmd(1, 0, 0xa0, features=1, prds=[(0x100, n)] if cdb != [0x00] else [], cdb=cdb)
        s += hpoll(1)
    write("ahci", "cdrom", s)
    # Hostile: a PRD at the end of RAM, a table past RAM, a bad FIS type,
    # MSI on, every reset.
    s = u8(1) + hport(0) + hport(1)
    s += u8(H_MSI) + u32(0xfee00000) + u16(0x41) + u8(1) + u8(H_WRITE) + u8(2) + u16(4) + u64(2)
    s += u8(H_COMMAND) + u8(0) + u8(0) + u8(0) + u8(8) + u8(0) + u8(0) + u8(1) + u8(0) + u8(0x40)
    s += u8(0x80) + u8(6) + u16(0xfe00)                  # PRD at RAM end - 512
    s += hpoll(0) + u8(H_RESET) + u8(3)
    s += u8(H_COMMAND) + u8(0) + u8(11) + u8(0x80) + u8(6) + u16(0xffc0) + u8(1)
    s += u8(0) + u8(0) + u8(0) + u8(0) + u8(0x40) + hpoll(0)
    s += u8(H_RESET) + u8(1) + hport(0)
    s += hcmd(0, 3, 0xe7, flags=0x40) + hpoll(0) + u8(H_RESET) + u8(2)
    s += u8(H_RESET) + u8(0) + hport(0) + hcmd(0, 0, 0x25, lba=0xfe, count=8, prds=[(0, 7)])
    s += hpoll(0)
    write("ahci", "hostile", s)


# ---- fuzz_vfio ---------------------------------------------------------------
(V_CFG_READ, V_CFG_WRITE, V_CAP_WRITE, V_RAW_CFG, V_BAR, V_COMMAND, V_SETUP, V_MSI,
 V_MSIX_CTRL, V_TABLE, V_BAR_ACCESS, V_FIRE, V_FLR, V_RESET, V_SBR, V_PORT,
 V_HOST) = range(17)
VW1, VW2, VW4 = 0, 1, 2          # config widths
V_INTX, V_MSI_IDX, V_MSIX_IDX = 0, 1, 2


def vrd(off, w=VW4):
    return u8(V_CFG_READ) + u8(w) + u16(off)


def vwr(off, val, w=VW4):
    return u8(V_CFG_WRITE) + u8(w) + u16(off) + u32(val)


def vtbl(entry, dw, val, read=False, qword=False):
    return u8(V_TABLE) + u8(entry) + u8(dw | (4 if qword else 0) | (8 if read else 0)) + u64(val)


def vbar(bar, off, width=W4, val=0, write=False, anchor=0):
    return (u8(V_BAR_ACCESS) + u8(bar | (0x80 if write else 0)) + u8(width | anchor << 2)
            + u32(off) + u64(val))


def vfire(index, vec):
    return u8(V_FIRE) + u8(index) + u8(vec)


def vmsix(enable, fmask=False):
    return u8(V_MSIX_CTRL) + u8((1 if enable else 0) | (2 if fmask else 0))


def vfio_seeds():
    # Linux's NVMe driver: BARs from firmware, decode and bus master, MSI-X
    # enabled masked, entries programmed, unmasked; interrupts, a masked
    # entry's pending bit, retargeting, then FLR and a platform reset.
    s = u8(0) + u8(V_SETUP) + u8(4)
    s += vmsix(True, True)
    for e in range(4):
        s += vtbl(e, 0, 0xfee00000 | e << 12) + vtbl(e, 1, 0) + vtbl(e, 2, 0x40 + e)
        s += vtbl(e, 3, 0)
    s += vmsix(True) + vfire(V_MSIX_IDX, 0) + vfire(V_MSIX_IDX, 3)
    s += vtbl(1, 3, 1) + vfire(V_MSIX_IDX, 1) + vbar(0, 0x3000, W8)
    s += vtbl(1, 0, 0xfee02000) + vtbl(1, 3, 0) + vbar(0, 0x3000, W8)
    s += vtbl(2, 0, 0xfee03000 | 0x1000 << 32, qword=True) + vtbl(2, 0, 0, read=True, qword=True)
    s += vbar(0, 0x10, W4) + vbar(0, 0x2100, W4, 0x1234, True)
    s += vmsix(True, True) + vfire(V_MSIX_IDX, 2) + vmsix(False)
    s += u8(V_FLR) + u16(0) + u8(V_SETUP) + u8(4) + vmsix(True) + u8(V_RESET)
    write("vfio", "nvme-msix", s)

    # MSI, 64-bit with per-vector masking: 4 messages, a masked one held
    # pending (read back in the capability), then MSI off and INTx.
    s = u8(0) + u8(V_SETUP) + u8(4)
    s += u8(V_MSI) + u32(0xfee00000) + u32(0x2) + u16(0x4020) + u8(0x21)
    s += vfire(V_MSI_IDX, 0) + vfire(V_MSI_IDX, 1) + vrd(0x50 + 0x14)
    s += u8(V_MSI) + u32(0xfee01000) + u32(0) + u16(0x4030) + u8(0x21)
    s += u8(V_MSI) + u32(0xfee01000) + u32(0) + u16(0x4030) + u8(0x11)
    s += u8(V_MSI) + u32(0xfee01000) + u32(0) + u16(0x4030) + u8(0x00)
    s += vfire(V_INTX, 0) + u8(V_COMMAND) + u16(0x0406) + vfire(V_INTX, 0)
    s += vmsix(True) + u8(V_MSI) + u32(0xfee00000) + u32(0) + u16(0x40) + u8(0x01)
    s += u8(V_SBR)
    write("vfio", "nvme-msi-intx", s)

    # Firmware's view: every BAR sized, placed, moved, overlapped, the
    # ROM enabled and read, the 256-byte BAR off a page boundary, decode
    # toggled; config reads and writes across the whole space.
    s = u8(0)
    for bar in range(7):
        s += u8(V_BAR) + u8(bar) + u8(0x40) + u32(bar * 3)
    s += u8(V_BAR) + u8(4) + u8(0x42) + u32(0x10) + vbar(4, 0x10, W4, 0xdeadbeef, True)
    s += u8(V_BAR) + u8(6) + u8(0x80) + u32(5) + u8(V_COMMAND) + u16(2) + vbar(6, 0, W4)
    s += u8(V_BAR) + u8(0) + u8(0x42) + u32(0x4000) + u8(V_BAR) + u8(0) + u8(0x41) + u32(0x10)
    s += vwr(0xe0, 0x11223344) + vwr(0x44, 3, VW2) + vwr(0xc2, 0x8000, VW2)
    s += vwr(0x88, 0x5000, VW2) + vwr(0x104, 0) + vwr(0x14c, 0) + vrd(0x100) + vrd(0x148)
    s += vwr(0x4, 0xffff, VW2) + vwr(0x3c, 0xffffffff) + vwr(0x74, 0xffffffff)
    s += u8(V_RAW_CFG) + u8(0x84) + u16(0x4e) + u32(0xa5a5a5a5)
    s += u8(V_RAW_CFG) + u8(0x83) + u16(0x66) + u32(0x5a5a5a)
    s += u8(V_RAW_CFG) + u8(0x07) + u16(0xfe) + u8(V_PORT) + u8(0) + u32(0)
    s += u8(V_PORT) + u8(4) + u32(0) + u8(V_PORT) + u8(2) + u32(5) + u8(V_PORT) + u8(4) + u32(0)
    write("vfio", "nvme-bars", s)

    # A GPU: BARs above 4G, sparse mmap, the MSI-X table on a page with
    # registers, the PBA in another BAR, an I/O BAR, no FLR capability
    # and only the bus reset.
    s = u8(1) + u8(V_SETUP) + u8(7)
    s += vmsix(True, True)
    for e in range(16):
        s += vtbl(e, 0, 0xfee00000) + vtbl(e, 2, 0x50 + e) + vtbl(e, 3, e & 1)
    s += vmsix(True) + vfire(V_MSIX_IDX, 1) + vfire(V_MSIX_IDX, 4)
    s += vbar(1, 0x8000, W8) + vbar(0, 0x8900, W4) + vbar(0, 0x8904, W4, 1, True)
    s += vbar(0, 0x9000, W4, 7, True) + vbar(0, 0x100, W4) + vbar(0, 0xc000, W8, 3, True)
    s += vbar(3, 0x10, W1, 0x5a, True) + vbar(3, 0x10, W2)
    s += vwr(0x40, 0x12345678) + vwr(0xd0, 0xabcdef) + u8(V_FLR) + u16(0x2000)
    s += u8(V_BAR) + u8(1) + u8(0x44) + u32(3) + vmsix(False) + u8(V_SBR)
    write("vfio", "gpu", s)

    # The GPU's NVIDIA config space mirror in BAR0 (quirks.c): IDs read,
    # COMMAND and a BAR written, the MSI capability read and its ID byte
    # written (the acknowledgement, which reaches the BAR too), a register
    # of the device's own (0x40) written and read, accesses across the
    # mirror's edge and a QWORD.
    m = 0x88000
    s = u8(1) + u8(V_SETUP) + u8(7)
    s += vbar(0, m, W4) + vbar(0, m + 4, W2, 0x6, True) + vbar(0, m + 0x10, W4, 0xffffffff, True)
    s += vbar(0, m + 0x10, W4) + vbar(0, m + 0x68, W4) + vbar(0, m + 0x68, W1, 0x05, True)
    s += vbar(0, m + 0x40, W4, 0x11223344, True) + vbar(0, m + 0x40, W4)
    s += vbar(0, m - 2, W4) + vbar(0, m + 0xffe, W4, 1, True) + vbar(0, m + 8, W8)
    s += vbar(0, m + 0x100, W4) + vbar(0, 0x89000, W4, 9, True)
    write("vfio", "gpu-mirror", s)

    # A host short of MSI-X vectors (resizable index), KVM out of routes
    # and irqfds, memslots refused; the guest keeps going.
    s = u8(4) + u8(V_SETUP) + u8(4) + u8(V_HOST) + u8(0) + u8(2)
    s += vtbl(0, 3, 0) + vmsix(True)
    for e in range(1, 6):
        s += vtbl(e, 0, 0xfee00000) + vtbl(e, 3, 0)
    s += u8(V_HOST) + u8(2) + u8(3) + vtbl(6, 3, 0) + vmsix(True, True) + vmsix(True)
    s += u8(V_HOST) + u8(3) + u8(0) + vtbl(6, 3, 1) + vtbl(6, 3, 0)
    s += u8(V_HOST) + u8(2) + u8(4) + u8(V_COMMAND) + u16(0) + u8(V_COMMAND) + u16(6)
    s += u8(V_HOST) + u8(3) + u8(0) + u8(V_COMMAND) + u16(0) + u8(V_COMMAND) + u16(6)
    s += u8(V_HOST) + u8(1) + u8(0) + u8(V_MSI) + u32(0xfee00000) + u32(0) + u16(1) + u8(1)
    s += u8(V_RESET)
    write("vfio", "host-short", s)


# ---- fuzz_testdev -----------------------------------------------------------
(T_PIO_READ, T_PIO_WRITE, T_IRQ, T_FLUSH, T_MMIO, T_EXIT, T_RESET, T_MODE) = range(8)


def testdev_seeds():
    # What latency.bin and kvm-unit-tests do: raise and lower IRQ lines,
    # flush pages, scratch registers, MMIO scratch, an exit in each mode.
    s = b""
    for line in (10, 4, 16, 23, 0):
        s += u8(T_IRQ) + u8(line) + u8(1)
    s += u8(T_IRQ) + u8(10) + u8(0) + u8(T_IRQ) + u8(4) + u8(1)
    s += u8(T_FLUSH) + u32(0x1234) + u8(T_FLUSH) + u32(0xfffff) + u8(T_RESET)
    s += u8(T_PIO_WRITE) + u16(0x0000) + u8(2) + u64(0x11223344)
    s += u8(T_PIO_READ) + u16(0x0200) + u8(0) + u8(T_PIO_WRITE) + u16(0x0400 | 0x16) + u8(2) + u64(1)
    s += u8(T_MMIO) + u16(0x100) + u8(3) + u64(0x0123456789abcdef)
    s += u8(T_EXIT) + u8(2) + u32(0) + u8(T_MODE) + u8(T_EXIT) + u8(0) + u32(0x80)
    write("testdev", "irq-flush-exit", s)


def main():
    pci_seeds()
    fw_cfg_seeds()
    uart_seeds()
    reset_seeds()
    rtc_seeds()
    pflash_seeds()
    cli_seeds()
    virtio_seeds()
    aml_seeds()
    control_seeds()
    ahci_seeds()
    vfio_seeds()
    testdev_seeds()


if __name__ == "__main__":
    main()
