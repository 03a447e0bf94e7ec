# minivmm — one Makefile for the VMM, its tests, payloads and benchmarks.
#
#   make                 build ./minivmm
#   make deps            install every Debian package building and testing need
#   make check           unit tests, then the nested KVM/VFIO tests
#   make check-unit      unit tests only (cmocka, no /dev/kvm needed)
#   make SANITIZE=address,undefined check-unit
#   make bench           minivmm vs QEMU+KVM in the nested environment

CC       ?= cc
PKGS     := liburing libpci
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wpointer-arith -Wformat=2 -Wundef \
            -Wno-unused-parameter -D_GNU_SOURCE -I. \
            $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread

ifneq ($(SANITIZE),)
CFLAGS   += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS  += -fsanitize=$(SANITIZE)
endif

# Object lists --------------------------------------------------------------
# Everything except vmm/main.o is also linked into the unit tests, so each
# device model is testable without /dev/kvm.
VMM_OBJS     := vmm/cli.o vmm/memory.o vmm/kvm.o vmm/vcpu.o vmm/cpuid.o vmm/vm.o
DEVICE_OBJS  := devices/bus.o devices/legacy/uart.o devices/legacy/debugcon.o \
                devices/legacy/testdev.o devices/legacy/reset.o devices/legacy/rtc.o \
                devices/legacy/acpi_pm.o
FIRMWARE_OBJS:= firmware/image.o
HOST_OBJS    := host/env.o host/sysfs.o host/pci.o host/check.o host/check_vm.o \
                host/groups.o host/inuse.o host/bind.o
LIB_OBJS     := $(VMM_OBJS) $(DEVICE_OBJS) $(FIRMWARE_OBJS) $(HOST_OBJS) vmm/log.o

.PHONY: all deps check check-unit check-nested bench clean guest fuzz
all: minivmm guest

minivmm: vmm/main.o libminivmm.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

libminivmm.a: $(LIB_OBJS)
	$(AR) rcs $@ $^

%.o: %.c
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

-include $(LIB_OBJS:.o=.d) vmm/main.d

# Unit tests ---------------------------------------------------------------
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(UNIT_SRCS:.c=)
UNIT_LIBS  := $(shell pkg-config --libs cmocka 2>/dev/null)

tests/unit/test_%: tests/unit/test_%.c tests/unit/fake_vm.o libminivmm.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(UNIT_LIBS) $(LDLIBS)

check-unit: $(UNIT_BINS)
	@tests/unit/run.sh $(UNIT_BINS)

# Guest payloads (tests/guest) ----------------------------------------------
#@guest-begin
#@guest-end

# Nested KVM/VFIO tests (tests/nested) --------------------------------------
#@nested-begin
#@nested-end

check: check-unit check-nested

deps:
	tests/deps.sh

clean:
	rm -f minivmm libminivmm.a $(LIB_OBJS) $(LIB_OBJS:.o=.d) vmm/main.o vmm/main.d \
	      $(UNIT_BINS) tests/unit/*.o tests/unit/*.d
