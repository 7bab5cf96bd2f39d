# kite: a minimal KVM virtual machine monitor.
# Source lists are globs per folder, so a new file in a known folder needs no edit here.

CC ?= gcc
BUILD ?= build
V ?= 0
Q := $(if $(filter 1,$(V)),,@)

WARN := -Wall -Wextra -Werror -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes -Wshadow \
	-Wno-unused-parameter -Wno-missing-field-initializers
BASE_CFLAGS := -std=gnu11 -D_GNU_SOURCE -I. $(WARN) -g -MMD -MP
OPT_CFLAGS ?= -O2
CFLAGS ?=
ALL_CFLAGS := $(BASE_CFLAGS) $(OPT_CFLAGS) $(CFLAGS)
LDLIBS := -ljansson -lseccomp -luring -lpthread

SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

LIB_SRCS := $(filter-out vmm/main.c,$(sort $(wildcard vmm/*.c vmm/api/*.c arch/x86/*.c acpi/*.c \
	devices/*/*.c iommu/*.c iommu/*/*.c)))
UNIT_SRCS := $(sort $(wildcard tests/unit/*.c))
GUEST_SRCS := $(sort $(wildcard tests/guest/*.c))
PROG_SRCS := $(sort $(wildcard tests/harness/progs/*.c))
# A program of several files is a directory: tests/harness/progs/NAME/*.c -> build/progs/NAME.
PROG_DIRS := $(sort $(patsubst %/,%,$(dir $(wildcard tests/harness/progs/*/*.c))))

LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
SAN_LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/san/%.o)
UNIT_OBJS := $(UNIT_SRCS:%.c=$(BUILD)/obj/%.o)
SAN_UNIT_OBJS := $(UNIT_SRCS:%.c=$(BUILD)/san/%.o)
GUEST_BINS := $(GUEST_SRCS:tests/guest/%.c=$(BUILD)/guest/%)
PROG_BINS := $(PROG_SRCS:tests/harness/progs/%.c=$(BUILD)/progs/%) \
	$(PROG_DIRS:tests/harness/progs/%=$(BUILD)/progs/%)

.PHONY: all kite-san unit unit-san run-unit run-unit-san guest progs check demo bench fuzz clean format deps

all: $(BUILD)/kite $(BUILD)/kite-test guest progs

$(BUILD)/kite: $(BUILD)/obj/vmm/main.o $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

# kite-test: the same program with KITE_TEST_HOOKS, for harness scenarios only. Test-only
# back ends and fault injection live behind that macro; build/kite never has them.
TEST_CFLAGS := -DKITE_TEST_HOOKS=1
$(BUILD)/kite-test: $(LIB_SRCS:%.c=$(BUILD)/test/%.o) $(BUILD)/test/vmm/main.o
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/test/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) $(TEST_CFLAGS) -c -o $@ $<

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BASE_CFLAGS) -O1 $(SAN_FLAGS) $(CFLAGS) -c -o $@ $<

# kite-san: build/kite under ASan+UBSan, for the hostile-guest scenario (make check builds it).
kite-san: $(BUILD)/kite-san
$(BUILD)/kite-san: $(BUILD)/san/vmm/main.o $(SAN_LIB_OBJS)
	$(Q)$(CC) $(BASE_CFLAGS) $(SAN_FLAGS) -o $@ $^ $(LDLIBS)

unit: $(BUILD)/unit-tests
unit-san: $(BUILD)/unit-tests-san

$(BUILD)/unit-tests: $(UNIT_OBJS) $(LIB_OBJS)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ -lcriterion $(LDLIBS)

$(BUILD)/unit-tests-san: $(SAN_UNIT_OBJS) $(SAN_LIB_OBJS)
	$(Q)$(CC) $(BASE_CFLAGS) $(SAN_FLAGS) -o $@ $^ -lcriterion $(LDLIBS)

run-unit: $(BUILD)/unit-tests $(BUILD)/kite
	KITE=$(abspath $(BUILD)/kite) $(BUILD)/unit-tests --jobs 2

run-unit-san: $(BUILD)/unit-tests-san $(BUILD)/kite
	KITE=$(abspath $(BUILD)/kite) ASAN_OPTIONS=detect_leaks=1 $(BUILD)/unit-tests-san --jobs 2

# Tiny static programs that run inside guests (L2) or in the harness's L1.
guest: $(GUEST_BINS)
progs: $(PROG_BINS)

$(BUILD)/guest/%: tests/guest/%.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) -std=gnu11 -D_GNU_SOURCE -I. $(WARN) -O2 -static -o $@ $<

$(BUILD)/progs/%: tests/harness/progs/%.c $(LIB_SRCS)
	@mkdir -p $(dir $@)
	$(Q)$(CC) -std=gnu11 -D_GNU_SOURCE -I. $(WARN) -O2 -static -o $@ $< $(filter iommu/iommufd%.c,$(LIB_SRCS)) vmm/log.c -lpthread

# Harness programs link only kite's iommufd backend and logger: they run in L1, not as kite.
.SECONDEXPANSION:
$(PROG_DIRS:tests/harness/progs/%=$(BUILD)/progs/%): $(BUILD)/progs/%: \
		$$(wildcard tests/harness/progs/%/*.c tests/harness/progs/%/*.h) $(LIB_SRCS) \
		$(wildcard iommu/*.h vmm/*.h)
	@mkdir -p $(dir $@)
	$(Q)$(CC) -std=gnu11 -D_GNU_SOURCE -I. $(WARN) -O2 -static -o $@ \
		$(wildcard tests/harness/progs/$*/*.c) $(filter iommu/iommufd%.c,$(LIB_SRCS)) vmm/log.c -lpthread

# Installs missing Debian packages (QEMU 10 from bookworm-backports included) as root, or
# prints the apt command to run. check and demo call it first.
deps:
	tests/install-deps

check: deps
	$(MAKE) all unit unit-san kite-san
	tests/check.sh

demo: deps
	$(MAKE) all
	tests/harness/demo

bench: all
	tests/harness/run-bench

# Every fuzz target for 5 minutes each (make check runs them for 10 s).
fuzz:
	FUZZ_SEED=0 tests/fuzz/run 300

clean:
	rm -rf $(BUILD)

# The files and style tests/format-check checks (make check's "format" stage).
CLANG_FORMAT ?= clang-format
format:
	$(CLANG_FORMAT) -i --style=file $$(git ls-files '*.c' '*.h')

# The seccomp allow-lists are embedded with .incbin (vmm/seccomp.c): rebuild when one changes.
SECCOMP_LISTS := $(wildcard configs/seccomp/*.txt)
$(BUILD)/obj/vmm/seccomp.o $(BUILD)/san/vmm/seccomp.o $(BUILD)/test/vmm/seccomp.o: $(SECCOMP_LISTS)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
