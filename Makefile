# minivmm — one Makefile for the VMM, its tests, payloads and benchmarks.
#
#   make                 build ./minivmm
#   make deps            install every Debian package building and testing need
#   make check           cited paths, unit tests (plain and under ThreadSanitizer),
#                        short fuzz runs, then the nested KVM/VFIO tests
#   make check-unit      unit tests only (cmocka, no /dev/kvm needed)
#   make SANITIZE=address,undefined check-unit
#   make SANITIZE=thread check-unit    the same under ThreadSanitizer (a race fails the run)
#   make bench           minivmm vs QEMU+KVM in the nested environment

CC       ?= cc
comma    := ,
PKGS     := liburing libpci libseccomp
# CFLAGS is yours (make CFLAGS=-O0); the flags the code needs to build at
# all, and the warnings it is held to, are kept apart and always added.
CFLAGS   ?= -O2 -g
WARNINGS := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wpointer-arith -Wformat=2 -Wundef -Wno-unused-parameter
REQUIRED_CFLAGS := -std=gnu11 -D_GNU_SOURCE -I. $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread

ifneq ($(SANITIZE),)
SAN_FLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS  += -fsanitize=$(SANITIZE)
# ThreadSanitizer: gcc warns (-Wtsan, an error here) that it does not model
# atomic_thread_fence. The fences stay in the code and in the binary; they
# order virtqueue.c's stores against the guest's loads, an agent TSan never
# sees anyway. clang has no such warning (and would reject the option).
# -fno-sanitize-recover only concerns UBSan and ASan; TSan reports every
# race and then exits with status 66, which tests/unit/run.sh counts as a
# failure.
ifneq ($(filter thread,$(subst $(comma), ,$(SANITIZE))),)
SAN_FLAGS += $(shell $(CC) -Werror -Wno-tsan -E -x c /dev/null >/dev/null 2>&1 && echo -Wno-tsan)
endif
endif
ALL_CFLAGS := $(REQUIRED_CFLAGS) $(WARNINGS) $(CFLAGS) $(SAN_FLAGS)

# Sources --------------------------------------------------------------------
# The layers (docs/architecture.md): lib/ (log, guest memory, threads,
# statistics, host sysfs/PCI) is used by every other folder and uses none;
# devices/ and firmware/ use lib/; host/ (the check/groups/bind commands)
# uses lib/; vmm/ (KVM, the CLI, machine assembly) uses them all. Every
# source but vmm/main.c goes into libminivmm.a, which the unit tests and the
# fuzz targets link too.
LIB_SRCS      := lib/log.c lib/memory.c lib/stats.c lib/size.c lib/host_env.c lib/thread.c \
                 lib/sysfs.c lib/host_pci.c lib/json.c lib/topology.c lib/trace.c lib/irq_posting.c
DEVICE_SRCS   := devices/bus.c devices/device.c devices/irq.c devices/legacy/uart.c devices/legacy/debugcon.c \
                 devices/legacy/testdev.c devices/legacy/reset.c devices/legacy/port92.c devices/legacy/rtc.c \
                 devices/legacy/acpi_pm.c devices/pci.c devices/pci_bar.c devices/pci_host.c \
                 devices/q35/mch.c devices/q35/lpc.c devices/pflash.c \
                 devices/msi_vector.c devices/msix.c
DEVICE_SRCS   += devices/pcie_port.c devices/vfio/sys.c devices/vfio/container.c \
                 devices/vfio/pci.c devices/vfio/config.c devices/vfio/bar.c devices/vfio/msi.c \
                 devices/vfio/quirks.c devices/vfio/trace.c
DEVICE_SRCS   += devices/virtio/virtqueue.c devices/virtio/virtio_pci.c \
                 devices/virtio/blk.c devices/virtio/blk_req.c devices/block/blk_io.c \
                 devices/virtio/net.c devices/virtio/net_user.c devices/net/tap.c
DEVICE_SRCS   += devices/ahci/ahci.c devices/ahci/port.c devices/ahci/ata.c devices/ahci/atapi.c
DEVICE_SRCS   += devices/tpm/crb.c devices/tpm/swtpm.c
# the vhost-net back end of virtio-net (docs/networking.md)
DEVICE_SRCS   += devices/virtio/vhost_net.c devices/virtio/vhost_sys.c devices/virtio/net_vhost.c
FIRMWARE_SRCS := firmware/image.c firmware/ovmf.c \
                 firmware/aml.c firmware/aml_ops.c firmware/aml_resource.c \
                 firmware/acpi.c firmware/acpi_loader.c firmware/dsdt.c \
                 firmware/fw_cfg.c firmware/fw_cfg_q35.c firmware/fw_cfg_opt.c firmware/e820.c firmware/smbios.c \
                 firmware/bootorder.c firmware/acpi_tables.c
HOST_SRCS     := host/env.c host/check.c host/check_vm.c host/check_user.c host/groups.c host/inuse.c host/bind.c
VMM_SRCS      := vmm/cli.c vmm/cli_disk.c vmm/cli_vfio.c vmm/cli_fw_cfg.c vmm/cli_net.c vmm/kvm.c vmm/vcpu.c vmm/cpuid.c vmm/hyperv.c vmm/vm.c \
                 vmm/machine.c vmm/seccomp.c vmm/control.c vmm/vm_control.c vmm/ctl.c \
                 vmm/daemon.c vmm/kvm_stats.c vmm/kvm_latency.c vmm/privdrop.c vmm/probe.c
ALL_SRCS      := $(LIB_SRCS) $(DEVICE_SRCS) $(FIRMWARE_SRCS) $(HOST_SRCS) $(VMM_SRCS)
ALL_OBJS      := $(ALL_SRCS:.c=.o)

.PHONY: all deps check check-unit check-nested check-paths nested-prepare bench demo clean guest fuzz
all: minivmm guest

minivmm: vmm/main.o vmm/probe_payload.o libminivmm.a
	$(CC) $(LDFLAGS) -o $@ $(filter-out .build-flags,$^) $(LDLIBS)

# minivmm probe's guest payload, built into the binary (vmm/probe.c): no
# file to find or install beside it.
vmm/probe_payload.o: vmm/probe_payload.S tests/guest/probe.bin
	$(CC) -c -o $@ $<

libminivmm.a: $(ALL_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

%.o: %.c .build-flags
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# The flags every object, minivmm and the unit tests are built with. When they
# change (SANITIZE=..., CFLAGS=...) all of those are rebuilt: otherwise
# `make SANITIZE=address,undefined check-unit` after a plain `make` would link
# and run the objects built without the sanitizers.
BUILD_FLAGS := $(CC) $(ALL_CFLAGS) $(LDFLAGS)
.build-flags: FORCE
	@if [ "$$(cat $@ 2>/dev/null)" != '$(BUILD_FLAGS)' ]; then \
		printf '%s\n' '$(BUILD_FLAGS)' > $@; fi
.PHONY: FORCE
FORCE:

-include $(ALL_OBJS:.o=.d) vmm/main.d

# Unit tests ---------------------------------------------------------------
# Every test links the shared fakes (the VM ops, VFIO's ioctls, a fake
# sysfs); a test uses the ones it needs.
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(UNIT_SRCS:.c=)
UNIT_FAKES := tests/unit/fake_vm.o tests/unit/fake_vfio.o tests/unit/fake_vhost.o tests/unit/fake_kvm.o tests/unit/fakesys/fakesys.o
UNIT_LIBS  := $(shell pkg-config --libs cmocka 2>/dev/null)

tests/unit/libfakes.a: $(UNIT_FAKES)
	@rm -f $@
	$(AR) rcs $@ $^

tests/unit/test_%: tests/unit/test_%.c tests/unit/libfakes.a libminivmm.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(filter-out .build-flags,$^) $(UNIT_LIBS) $(LDLIBS)

-include $(UNIT_FAKES:.o=.d)

check-unit: $(UNIT_BINS)
	@tests/unit/run.sh $(UNIT_BINS)

# Every repository path that docs/, README.md and the comments cite exists.
check-paths:
	@tests/check-paths.sh

# Guest payloads (tests/guest) ----------------------------------------------
#@guest-begin
# Bare-metal test payloads (64 KiB firmware images starting at the reset
# vector), run by both minivmm and QEMU; see tests/guest/README.md.
#   make guest          build every tests/guest/*.bin
#   make guest-clean    remove them and tests/guest/build/
GUEST_DIR     := tests/guest
GUEST_BUILD   := $(GUEST_DIR)/build
GUEST_CC      ?= gcc
GUEST_LD      ?= ld
GUEST_OBJCOPY ?= objcopy
GUEST_BENCH_N ?= 100000
GUEST_CPPFLAGS := -I$(GUEST_DIR)
GUEST_CFLAGS  := -m64 -std=gnu11 -O2 -ffreestanding -fno-pic -fno-pie -mcmodel=small \
                 -mno-red-zone -mgeneral-regs-only -fno-stack-protector \
                 -fno-asynchronous-unwind-tables -fno-unwind-tables -fcf-protection=none \
                 -fno-builtin -fno-tree-loop-distribute-patterns -nostdlib \
                 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
                 -Wpointer-arith -Wundef
GUEST_ASFLAGS := -m64 -Wa,--fatal-warnings
GUEST_LDFLAGS := -m elf_x86_64 -nostdlib -static --build-id=none -z noexecstack \
                 --fatal-warnings -T $(GUEST_DIR)/guest.ld

# payload name -> objects (and the defines its longmode.c object is built with)
GUEST_LM_NAMES := longmode longmode-fail longmode-reset bench bench-empty
GUEST_BINS    := $(patsubst %,$(GUEST_DIR)/%.bin,realmode $(GUEST_LM_NAMES))
# edu.c: QEMU's edu device through VFIO (enumeration, MSI, DMA, INTx)
GUEST_EDU_NAMES := edu edu-bench
GUEST_EDU_BENCH_N ?= 2000
GUEST_BINS    += $(patsubst %,$(GUEST_DIR)/%.bin,$(GUEST_EDU_NAMES))
# latency.c: HLTs woken by the LAPIC timer, the test device's IRQ ports
GUEST_BINS    += $(GUEST_DIR)/latency.bin
# probe.c: minivmm probe's payload (BAR, ECAM, interrupt latency of a passed device)
GUEST_BINS    += $(GUEST_DIR)/probe.bin
GUEST_EDU_DEFS_edu       :=
GUEST_EDU_DEFS_edu-bench := -DEDU_BENCH -DBENCH_N=$(GUEST_EDU_BENCH_N)
GUEST_LM_DEFS_longmode       :=
GUEST_LM_DEFS_longmode-fail  := -DGUEST_FAIL
GUEST_LM_DEFS_longmode-reset := -DGUEST_RESET
GUEST_LM_DEFS_bench          := -DGUEST_BENCH -DBENCH_N=$(GUEST_BENCH_N)
GUEST_LM_DEFS_bench-empty    := -DGUEST_BENCH -DBENCH_N=0

guest: $(GUEST_BINS)

$(GUEST_BUILD)/%.o: $(GUEST_DIR)/%.S
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_CPPFLAGS) $(GUEST_ASFLAGS) -MMD -MP -c -o $@ $<

$(GUEST_BUILD)/lib.o: $(GUEST_DIR)/lib.c
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_CPPFLAGS) $(GUEST_CFLAGS) -MMD -MP -c -o $@ $<

# the IDT of the payloads that take interrupts (edu, latency, probe)
$(GUEST_BUILD)/idt.o: $(GUEST_DIR)/idt.c
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_CPPFLAGS) $(GUEST_CFLAGS) -MMD -MP -c -o $@ $<

$(GUEST_BUILD)/longmode-main-%.o: $(GUEST_DIR)/longmode.c $(MAKEFILE_LIST)
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_CPPFLAGS) $(GUEST_CFLAGS) $(GUEST_LM_DEFS_$*) -MMD -MP -c -o $@ $<

$(GUEST_BUILD)/edu-main-%.o: $(GUEST_DIR)/edu.c $(MAKEFILE_LIST)
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_CPPFLAGS) $(GUEST_CFLAGS) $(GUEST_EDU_DEFS_$*) -MMD -MP -c -o $@ $<

$(patsubst %,$(GUEST_BUILD)/%.elf,$(GUEST_EDU_NAMES)): $(GUEST_BUILD)/%.elf: \
                      $(GUEST_BUILD)/boot64.o $(GUEST_BUILD)/gdt.o $(GUEST_BUILD)/lib.o \
                      $(GUEST_BUILD)/idt.o $(GUEST_BUILD)/edu-main-%.o $(GUEST_DIR)/guest.ld
	$(GUEST_LD) $(GUEST_LDFLAGS) -o $@ $(filter %.o,$^)

$(GUEST_BUILD)/latency-main.o: $(GUEST_DIR)/latency.c
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_CPPFLAGS) $(GUEST_CFLAGS) -MMD -MP -c -o $@ $<

$(GUEST_BUILD)/latency.elf: $(GUEST_BUILD)/boot64.o $(GUEST_BUILD)/gdt.o $(GUEST_BUILD)/lib.o \
                      $(GUEST_BUILD)/idt.o $(GUEST_BUILD)/latency-main.o $(GUEST_DIR)/guest.ld
	$(GUEST_LD) $(GUEST_LDFLAGS) -o $@ $(filter %.o,$^)

$(GUEST_BUILD)/probe-main.o: $(GUEST_DIR)/probe.c
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_CPPFLAGS) $(GUEST_CFLAGS) -MMD -MP -c -o $@ $<

$(GUEST_BUILD)/probe.elf: $(GUEST_BUILD)/boot64.o $(GUEST_BUILD)/gdt.o $(GUEST_BUILD)/lib.o \
                      $(GUEST_BUILD)/idt.o $(GUEST_BUILD)/probe-main.o $(GUEST_DIR)/guest.ld
	$(GUEST_LD) $(GUEST_LDFLAGS) -o $@ $(filter %.o,$^)

$(GUEST_BUILD)/realmode.elf: $(GUEST_BUILD)/realmode.o $(GUEST_BUILD)/gdt.o $(GUEST_DIR)/guest.ld
	$(GUEST_LD) $(GUEST_LDFLAGS) -o $@ $(filter %.o,$^)

$(GUEST_BUILD)/%.elf: $(GUEST_BUILD)/boot64.o $(GUEST_BUILD)/gdt.o $(GUEST_BUILD)/lib.o \
                      $(GUEST_BUILD)/longmode-main-%.o $(GUEST_DIR)/guest.ld
	$(GUEST_LD) $(GUEST_LDFLAGS) -o $@ $(filter %.o,$^)

$(GUEST_DIR)/%.bin: $(GUEST_BUILD)/%.elf
	$(GUEST_OBJCOPY) -O binary $< $@
	@test $$(stat -c %s $@) -eq 65536 || { echo "$@: not 64 KiB" >&2; rm -f $@; exit 1; }

.SECONDARY: $(patsubst %,$(GUEST_BUILD)/%.elf,realmode latency probe $(GUEST_LM_NAMES) $(GUEST_EDU_NAMES)) \
            $(GUEST_BUILD)/latency-main.o $(GUEST_BUILD)/probe-main.o \
            $(patsubst %,$(GUEST_BUILD)/edu-main-%.o,$(GUEST_EDU_NAMES)) \
            $(patsubst %,$(GUEST_BUILD)/longmode-main-%.o,$(GUEST_LM_NAMES)) \
            $(patsubst %,$(GUEST_BUILD)/%.o,realmode boot64 gdt lib)
.PHONY: guest-clean
guest-clean:
	rm -rf $(GUEST_BUILD) $(GUEST_BINS)
clean: guest-clean

$(GUEST_BUILD)/%.d: ;
-include $(wildcard $(GUEST_BUILD)/*.d)
#@guest-end

# Nested KVM/VFIO tests (tests/nested) --------------------------------------
#@nested-begin
check-nested: minivmm guest
	tests/nested/run-tests.sh

nested-prepare:
	tests/nested/prepare.sh

bench: minivmm guest tests/bench/kvm_floor tests/bench/uring_restrict
	tests/bench/run.sh

# The floor of the exit rows (tests/bench/floor.sh): a bare KVM_RUN loop.
tests/bench/kvm_floor: tests/bench/kvm_floor.c
	$(CC) $(REQUIRED_CFLAGS) $(WARNINGS) $(CFLAGS) -o $@ $<

# What an io_uring ring's restrictions cost (tests/bench/seccomp.sh), on L0.
tests/bench/uring_restrict: tests/bench/uring_restrict.c
	$(CC) $(REQUIRED_CFLAGS) $(WARNINGS) $(CFLAGS) -o $@ $< -luring

demo: minivmm guest
	tests/nested/demo.sh
#@nested-end

# Fuzzing (tests/fuzz) -------------------------------------------------------
#@fuzz-begin
# libFuzzer targets built with clang, ASan and UBSan into tests/fuzz/build/
# (their own objects: nothing here touches the tree's normal build); see
# docs/fuzzing.md.
#   make check-fuzz      a short run of every target (part of make check)
#   make fuzz            the long run: FUZZ_SECONDS per target (default 600),
#                        FUZZ_JOBS targets at once, FUZZ_TARGETS to choose
#   make fuzz-build      just build them;  make fuzz-clean
#   make fuzz-coverage   line/branch coverage of the device sources by each
#                        target's corpus (llvm-cov)
FUZZ_DIR      := tests/fuzz
FUZZ_BUILD    := $(FUZZ_DIR)/build
FUZZ_CC       ?= clang
FUZZ_SECONDS  ?= 600
FUZZ_CHECK_SECONDS ?= 10
FUZZ_JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
# Every tests/fuzz/fuzz_NAME.c is a target.
FUZZ_NAMES    := $(patsubst $(FUZZ_DIR)/fuzz_%.c,%,$(wildcard $(FUZZ_DIR)/fuzz_*.c))
FUZZ_TARGETS  ?= $(FUZZ_NAMES)
FUZZ_BINS     := $(patsubst %,$(FUZZ_BUILD)/fuzz_%,$(FUZZ_NAMES))
# The sources the targets reach, compiled again with the sanitizers;
# lib/log.c is left out for the harness's quiet logger (fuzz.c).
FUZZ_LIB_SRCS := $(filter-out lib/log.c,$(LIB_SRCS)) $(DEVICE_SRCS) $(FIRMWARE_SRCS) \
                 vmm/cli.c vmm/cli_disk.c vmm/cli_vfio.c vmm/cli_fw_cfg.c vmm/cli_net.c vmm/control.c tests/unit/fake_vm.c \
                 tests/unit/fake_vfio.c $(FUZZ_DIR)/fuzz.c
FUZZ_LIB_OBJS := $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(FUZZ_LIB_SRCS))
FUZZ_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                 -fno-omit-frame-pointer
FUZZ_CFLAGS   := -O1 -g $(REQUIRED_CFLAGS) -Wall -Wextra -Wno-unused-parameter $(FUZZ_SAN) \
                 -fsanitize=fuzzer-no-link

.PHONY: check-fuzz fuzz fuzz-build fuzz-clean fuzz-coverage
fuzz-build: $(FUZZ_BINS)

# The device sources: no -Werror (a new clang warning in someone's code
# must not fail make check); the harnesses: -Werror.
$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_BUILD)/obj/$(FUZZ_DIR)/fuzz_%.o: $(FUZZ_DIR)/fuzz_%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Werror -MMD -MP -c -o $@ $<

$(FUZZ_BUILD)/libfuzzvmm.a: $(FUZZ_LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/obj/$(FUZZ_DIR)/fuzz_%.o $(FUZZ_BUILD)/libfuzzvmm.a
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

.SECONDARY: $(FUZZ_LIB_OBJS) $(patsubst %,$(FUZZ_BUILD)/obj/$(FUZZ_DIR)/fuzz_%.o,$(FUZZ_NAMES))

# Coverage (make fuzz-coverage): the same targets with clang's source-based
# coverage instead of the sanitizers, replaying the corpora (llvm-cov).
FUZZ_COV_FLAGS := -O1 -g $(REQUIRED_CFLAGS) -Wno-unused-parameter \
                  -fprofile-instr-generate -fcoverage-mapping -fsanitize=fuzzer-no-link
FUZZ_COV_OBJS  := $(patsubst %.c,$(FUZZ_BUILD)/cov/obj/%.o,$(FUZZ_LIB_SRCS))

$(FUZZ_BUILD)/cov/obj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_COV_FLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_BUILD)/cov/libfuzzvmm.a: $(FUZZ_COV_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_BUILD)/cov/fuzz_%: $(FUZZ_BUILD)/cov/obj/$(FUZZ_DIR)/fuzz_%.o $(FUZZ_BUILD)/cov/libfuzzvmm.a
	$(FUZZ_CC) -fprofile-instr-generate -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

.SECONDARY: $(FUZZ_COV_OBJS) $(patsubst %,$(FUZZ_BUILD)/cov/obj/$(FUZZ_DIR)/fuzz_%.o,$(FUZZ_NAMES))

fuzz-coverage: $(patsubst %,$(FUZZ_BUILD)/cov/fuzz_%,$(FUZZ_NAMES))
	@$(FUZZ_DIR)/coverage.sh $(FUZZ_TARGETS)

check-fuzz: $(FUZZ_BINS)
	@$(FUZZ_DIR)/run.sh --seconds $(FUZZ_CHECK_SECONDS) --jobs $(FUZZ_JOBS) $(FUZZ_NAMES)

fuzz: $(FUZZ_BINS)
	@$(FUZZ_DIR)/run.sh --long --seconds $(FUZZ_SECONDS) --jobs $(FUZZ_JOBS) $(FUZZ_TARGETS)

fuzz-clean:
	rm -rf $(FUZZ_BUILD)
clean: fuzz-clean

-include $(FUZZ_LIB_OBJS:.o=.d) $(patsubst %,$(FUZZ_BUILD)/obj/$(FUZZ_DIR)/fuzz_%.d,$(FUZZ_NAMES)) \
         $(FUZZ_COV_OBJS:.o=.d) $(patsubst %,$(FUZZ_BUILD)/cov/obj/$(FUZZ_DIR)/fuzz_%.d,$(FUZZ_NAMES))
#@fuzz-end

# Each step is its own make, so that the ThreadSanitizer build (which
# checks the lock order: docs/architecture.md, "Locks") and the plain one
# the nested tests run are each rebuilt from their own flags.
check:
	$(MAKE) check-paths
	$(MAKE) check-unit
	$(MAKE) SANITIZE=thread check-unit
	$(MAKE) check-fuzz
	$(MAKE) check-nested

deps:
	tests/deps.sh

clean:
	rm -f .build-flags minivmm minivmm-base tests/bench/kvm_floor tests/bench/uring_restrict libminivmm.a $(ALL_OBJS) $(ALL_OBJS:.o=.d) vmm/main.o vmm/main.d \
	      vmm/probe_payload.o \
	      $(UNIT_BINS) tests/unit/libfakes.a $(UNIT_FAKES) $(UNIT_FAKES:.o=.d)
