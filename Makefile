# Makefile: builds the fresco command and the guest kernel, runs the tests.
# `make V=1` shows full commands.

V ?= 0
Q := $(if $(filter 1,$(V)),,@)
B := build
PYTHON ?= /usr/bin/python3
PREFIX ?= /usr/local
CC ?= gcc
MUSL_CC ?= musl-gcc
UNISTD_H := /usr/include/x86_64-linux-gnu/asm/unistd_64.h

WARN := -Wall -Wextra -Werror -Wno-unused-parameter
HOST_CFLAGS := -std=gnu11 -O2 -g $(WARN) -Iinclude -Ikernel -Ivmm -MMD -MP
KERNEL_CFLAGS := -std=gnu11 -O2 -g $(WARN) -ffreestanding -fno-pic -fno-pie \
	-mcmodel=kernel -mno-red-zone -mgeneral-regs-only -fno-stack-protector \
	-fcf-protection=none -fno-asynchronous-unwind-tables \
	-fno-omit-frame-pointer -Iinclude -Ikernel -I$(B)/gen -MMD -MP
KERNEL_LDFLAGS := -nostdlib -static -z max-page-size=4096 -z noexecstack \
	--no-warn-rwx-segments -T kernel/kernel.ld
UNIT_CFLAGS := -std=gnu11 -O1 -g $(WARN) -Iinclude -Ikernel -Ivmm \
	-fsanitize=address,undefined -fno-sanitize-recover=all
GUEST_CFLAGS := -O2 -Wall -Wextra -Werror

# ---- sources: one line per file ----
LIB_SRCS := kernel/lib/cpio.c
LIB_SRCS += kernel/lib/elf.c
LIB_SRCS += kernel/lib/stack.c
LIB_SRCS += kernel/lib/cmdline.c
LIB_SRCS += kernel/lib/ext2.c
LIB_SRCS += kernel/lib/inet.c
LIB_SRCS += kernel/lib/tcp.c
LIB_SRCS += kernel/lib/rtnl.c
LIB_SRCS += kernel/lib/callpatch.c

KERNEL_SRCS := $(LIB_SRCS)
KERNEL_SRCS += kernel/arch/x86_64/boot.S
KERNEL_SRCS += kernel/arch/x86_64/entry.S
KERNEL_SRCS += kernel/arch/x86_64/cpu.c
KERNEL_SRCS += kernel/arch/x86_64/clock.c
KERNEL_SRCS += kernel/arch/x86_64/callpatch.c
KERNEL_SRCS += kernel/drivers/console.c
KERNEL_SRCS += kernel/drivers/virtio.c
KERNEL_SRCS += kernel/drivers/virtio_blk.c
KERNEL_SRCS += kernel/drivers/virtio_net.c
KERNEL_SRCS += kernel/net/net.c
KERNEL_SRCS += kernel/net/socket.c
KERNEL_SRCS += kernel/net/tcp_sock.c
KERNEL_SRCS += kernel/net/unix.c
KERNEL_SRCS += kernel/net/netlink.c
KERNEL_SRCS += kernel/net/icmp_sock.c
KERNEL_SRCS += kernel/net/proc_net.c
KERNEL_SRCS += kernel/net/dhcp.c
KERNEL_SRCS += kernel/lib/string.c
KERNEL_SRCS += kernel/lib/fmt.c
KERNEL_SRCS += kernel/mm/phys.c
KERNEL_SRCS += kernel/mm/kmalloc.c
KERNEL_SRCS += kernel/mm/vm.c
KERNEL_SRCS += kernel/sched/process.c
KERNEL_SRCS += kernel/sched/exec.c
KERNEL_SRCS += kernel/linux/uaccess.c
KERNEL_SRCS += kernel/linux/syscall.c
KERNEL_SRCS += kernel/fs/inode.c
KERNEL_SRCS += kernel/fs/path.c
KERNEL_SRCS += kernel/fs/file.c
KERNEL_SRCS += kernel/fs/dev.c
KERNEL_SRCS += kernel/fs/pipe.c
KERNEL_SRCS += kernel/fs/root.c
KERNEL_SRCS += kernel/fs/proc.c
KERNEL_SRCS += kernel/fs/bcache.c
KERNEL_SRCS += kernel/fs/ext2fs.c
KERNEL_SRCS += kernel/linux/sys_io.c
KERNEL_SRCS += kernel/linux/sys_fs.c
KERNEL_SRCS += kernel/linux/sys_poll.c
KERNEL_SRCS += kernel/linux/sys_timer.c
KERNEL_SRCS += kernel/linux/sys_mm.c
KERNEL_SRCS += kernel/linux/sys_proc.c
KERNEL_SRCS += kernel/linux/sys_futex.c
KERNEL_SRCS += kernel/linux/sys_time.c
KERNEL_SRCS += kernel/linux/sys_random.c
KERNEL_SRCS += kernel/linux/sys_net.c
KERNEL_SRCS += kernel/linux/sys_unix.c
KERNEL_SRCS += kernel/linux/sys_netlink.c
KERNEL_SRCS += kernel/linux/sys_epoll.c
KERNEL_SRCS += kernel/linux/signal.c
KERNEL_SRCS += kernel/main.c

VMM_SRCS := vmm/vm.c
VMM_SRCS += vmm/loader.c
VMM_SRCS += vmm/guest_mem.c
VMM_SRCS += vmm/hypercall.c
VMM_SRCS += vmm/ports.c
VMM_SRCS += vmm/dump.c
VMM_SRCS += vmm/control.c
VMM_SRCS += vmm/devices.c
VMM_SRCS += vmm/virtq.c
VMM_SRCS += vmm/virtio_mmio.c
VMM_SRCS += vmm/virtio_blk.c
VMM_SRCS += vmm/virtio_net.c
VMM_SRCS += vmm/net_offload.c
VMM_SRCS += vmm/net_user.c
VMM_SRCS += vmm/net_tap.c

CLI_SRCS := cli/main.c
CLI_SRCS += cli/run.c
CLI_SRCS += cli/build.c
CLI_SRCS += cli/manifest.c
CLI_SRCS += cli/image.c
CLI_SRCS += cli/vms.c
CLI_SRCS += cli/volume.c

UNIT_TESTS := test_cpio test_elf test_stack test_cmdline test_guest_mem \
	test_ext2 test_virtio test_virtio_net test_inet test_tcp test_rtnl \
	test_callpatch

GUEST_TESTS := hello
GUEST_TESTS += args
GUEST_TESTS += exitcode
GUEST_TESTS += efault
GUEST_TESTS += enosys
GUEST_TESTS += segv
GUEST_TESTS += abort
GUEST_TESTS += memory
GUEST_TESTS += clock
GUEST_TESTS += random
GUEST_TESTS += identity
GUEST_TESTS += streams
GUEST_TESTS += sleeper
GUEST_TESTS += hostile
GUEST_TESTS += files
GUEST_TESTS += dirs
GUEST_TESTS += fds
GUEST_TESTS += devproc
GUEST_TESTS += signals
GUEST_TESTS += timers
GUEST_TESTS += fpstate
GUEST_TESTS += volume
GUEST_TESTS += udp
GUEST_TESTS += tcp
GUEST_TESTS += epoll
GUEST_TESTS += procs
GUEST_TESTS += unix
GUEST_TESTS += resolve
GUEST_TESTS += futex
GUEST_TESTS += netlink
GUEST_TESTS += icmp
GUEST_TESTS += callpatch

KERNEL := $(B)/lib/fresco/fresco-kernel
FRESCO := $(B)/bin/fresco
KERNEL_OBJS := $(patsubst %,$(B)/kernel-obj/%.o,$(KERNEL_SRCS))
HOST_OBJS := $(patsubst %,$(B)/host-obj/%.o,$(LIB_SRCS) $(VMM_SRCS) $(CLI_SRCS))
UNIT_BINS := $(patsubst %,$(B)/tests/unit/%,$(UNIT_TESTS))
GUEST_BINS := $(foreach t,$(GUEST_TESTS),$(B)/tests/guest/musl/$(t) \
	$(B)/tests/guest/glibc/$(t)) $(B)/tests/guest/musl/hello-pie \
	$(B)/tests/guest/glibc/hello-pie $(B)/tests/guest/glibc/hello-dynamic \
	$(B)/tests/guest/musl/httpd
# host tools the system tests drive
TEST_TOOLS := $(B)/tests/netimpair

.PHONY: all deps test unit guest system demo bench install check format clean \
	docs fuzz fuzz-short
all: $(FRESCO) $(KERNEL)

deps:
	$(Q)scripts/deps.sh

# ---- guest kernel ----
$(B)/gen/syscall_names.h: $(UNISTD_H) scripts/gen-syscall-names.sh
	@mkdir -p $(@D)
	$(Q)scripts/gen-syscall-names.sh $< > $@.tmp && mv $@.tmp $@

$(B)/kernel-obj/%.c.o: %.c | $(B)/gen/syscall_names.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  KCC     $<")
	$(Q)$(CC) $(KERNEL_CFLAGS) -c $< -o $@

$(B)/kernel-obj/%.S.o: %.S
	@mkdir -p $(@D)
	@$(if $(Q),echo "  KAS     $<")
	$(Q)$(CC) $(KERNEL_CFLAGS) -D__ASSEMBLER__ -c $< -o $@

$(KERNEL): $(KERNEL_OBJS) kernel/kernel.ld scripts/check-ring0.sh
	@mkdir -p $(@D)
	@$(if $(Q),echo "  KLD     $@")
	$(Q)ld $(KERNEL_LDFLAGS) -o $(B)/fresco-kernel.debug $(KERNEL_OBJS)
	$(Q)scripts/check-ring0.sh $(B)/fresco-kernel.debug
	$(Q)objcopy --strip-debug $(B)/fresco-kernel.debug $@.tmp
	$(Q)mv $@.tmp $@

# ---- fresco command ----
$(B)/host-obj/%.c.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(HOST_CFLAGS) -c $< -o $@

$(FRESCO): $(HOST_OBJS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -o $@ $(HOST_OBJS) -lyaml -lnettle -ljansson -lslirp -lpthread

# ---- tests ----
$(B)/tests/unit/test_guest_mem: tests/unit/test_guest_mem.c vmm/guest_mem.c
$(B)/tests/unit/test_ext2: tests/common/ext2_mem.h
$(B)/tests/unit/test_virtio: tests/unit/test_virtio.c vmm/virtq.c \
	vmm/virtio_mmio.c vmm/virtio_blk.c vmm/guest_mem.c vmm/virtio.h
$(B)/tests/unit/test_virtio_net: tests/unit/test_virtio_net.c vmm/virtq.c \
	vmm/virtio_mmio.c vmm/virtio_net.c vmm/net_offload.c vmm/guest_mem.c \
	vmm/virtio.h
$(B)/tests/unit/test_%: tests/unit/test_%.c $(LIB_SRCS) tests/unit/unit.h \
	tests/unit/mmio.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  UNIT    $@")
	$(Q)$(CC) $(UNIT_CFLAGS) -o $@ $(filter %.c,$^) \
		$$(pkg-config --cflags --libs check)

# Debian's musl-gcc specs cannot link a static-pie: link it by hand with
# musl's self-relocating start file rcrt1.o.
MUSL_LIB := /usr/lib/x86_64-linux-musl
$(B)/tests/guest/musl/%-pie: tests/guest/%.c tests/guest/guest.h
	@mkdir -p $(@D)
	$(Q)$(MUSL_CC) $(GUEST_CFLAGS) -fPIE -c $< -o $@.o
	$(Q)$(CC) -static-pie -nostdlib -o $@ $(MUSL_LIB)/rcrt1.o \
		$(MUSL_LIB)/crti.o $$($(CC) -print-file-name=crtbeginS.o) $@.o \
		$(MUSL_LIB)/libc.a $$($(CC) -print-libgcc-file-name) \
		$$($(CC) -print-file-name=crtendS.o) $(MUSL_LIB)/crtn.o
$(B)/tests/guest/glibc/%-pie: tests/guest/%.c tests/guest/guest.h
	@mkdir -p $(@D)
	$(Q)$(CC) $(GUEST_CFLAGS) -static-pie -fPIE -o $@ $<
$(B)/tests/guest/glibc/%-dynamic: tests/guest/%.c tests/guest/guest.h
	@mkdir -p $(@D)
	$(Q)$(CC) $(GUEST_CFLAGS) -o $@ $<
# fpstate holds values in AVX registers across a signal
$(B)/tests/guest/musl/fpstate $(B)/tests/guest/glibc/fpstate: GUEST_CFLAGS += -mavx2
# musl comes without the kernel's headers: the host's (linux-libc-dev) for
# the programs that speak a kernel protocol
$(B)/uapi:
	$(Q)mkdir -p $@ && ln -sfn /usr/include/linux $@/linux && \
		ln -sfn /usr/include/asm-generic $@/asm-generic && \
		ln -sfn /usr/include/x86_64-linux-gnu/asm $@/asm
$(B)/tests/guest/musl/icmp $(B)/tests/guest/glibc/icmp: tests/common/inet_csum.h
$(B)/tests/guest/musl/netlink: GUEST_CFLAGS += -isystem $(B)/uapi
$(B)/tests/guest/musl/netlink: | $(B)/uapi
$(B)/tests/guest/musl/%: tests/guest/%.c tests/guest/guest.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  MUSL    $@")
	$(Q)$(MUSL_CC) $(GUEST_CFLAGS) -static -o $@ $<
$(B)/tests/guest/glibc/%: tests/guest/%.c tests/guest/guest.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  GLIBC   $@")
	$(Q)$(CC) $(GUEST_CFLAGS) -static -o $@ $<

unit: $(UNIT_BINS)
	$(Q)for t in $(UNIT_BINS); do $$t || exit 1; done

guest: $(GUEST_BINS) $(TEST_TOOLS)

$(B)/tests/netimpair: tests/tools/netimpair.c tests/common/inet_csum.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) -O2 -Wall -Wextra -Werror -o $@ $< \
		$$(pkg-config --cflags --libs libnetfilter_queue)

system: all guest
	$(Q)$(PYTHON) -m pytest -q tests/system

test: deps
	$(Q)$(MAKE) --no-print-directory all guest $(UNIT_BINS) $(FUZZERS)
	$(Q)$(MAKE) --no-print-directory unit fuzz-short
	$(Q)$(PYTHON) -m pytest -q tests/system

# ---- fuzzing: libFuzzer with ASan and UBSan (clang) ----
FUZZERS := $(B)/fuzz/fuzz_virtio_blk $(B)/fuzz/fuzz_virtio_net \
	$(B)/fuzz/fuzz_ext2 $(B)/fuzz/fuzz_tcp $(B)/fuzz/fuzz_rtnl
FUZZ_SRCS := vmm/virtq.c vmm/virtio_mmio.c vmm/virtio_blk.c vmm/guest_mem.c
FUZZ_TIME ?= 600
FUZZ_FLAGS := -timeout=5 -close_fd_mask=2 -print_final_stats=1
FUZZ_CC := clang -std=gnu11 -g -O1 -Iinclude -Ivmm -Ikernel \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
$(B)/fuzz/fuzz_virtio_blk: tests/fuzz/fuzz_virtio_blk.c $(FUZZ_SRCS) \
		vmm/virtio.h vmm/vmm.h tests/fuzz/mmio_ops.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(FUZZ_CC) -o $@ $< $(FUZZ_SRCS) -lpthread
FUZZ_NET_SRCS := vmm/virtq.c vmm/virtio_mmio.c vmm/virtio_net.c \
	vmm/net_offload.c vmm/guest_mem.c kernel/lib/inet.c
$(B)/fuzz/fuzz_virtio_net: tests/fuzz/fuzz_virtio_net.c $(FUZZ_NET_SRCS) \
		vmm/virtio.h tests/fuzz/mmio_ops.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(FUZZ_CC) -o $@ $< $(FUZZ_NET_SRCS) -lpthread
$(B)/fuzz/fuzz_ext2: tests/fuzz/fuzz_ext2.c kernel/lib/ext2.c kernel/lib/ext2.h \
		tests/common/ext2_mem.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(FUZZ_CC) -o $@ $< kernel/lib/ext2.c
$(B)/fuzz/fuzz_tcp: tests/fuzz/fuzz_tcp.c kernel/lib/tcp.c kernel/lib/tcp.h \
		kernel/lib/inet.c kernel/lib/inet.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(FUZZ_CC) -o $@ $< kernel/lib/tcp.c kernel/lib/inet.c
$(B)/fuzz/fuzz_rtnl: tests/fuzz/fuzz_rtnl.c kernel/lib/rtnl.c kernel/lib/rtnl.h
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(FUZZ_CC) -o $@ $< kernel/lib/rtnl.c
$(B)/fuzz/seeds/read: tests/fuzz/seeds.py
	$(Q)$(PYTHON) tests/fuzz/seeds.py $(@D)
$(B)/fuzz/seeds-ext2/1k: tests/fuzz/seeds.py
	$(Q)$(PYTHON) tests/fuzz/seeds.py --ext2 $(@D)
$(B)/fuzz/seeds-virtio_net/offloads: tests/fuzz/seeds.py
	$(Q)$(PYTHON) tests/fuzz/seeds.py --net $(@D)
$(B)/fuzz/seeds-rtnl/dumps: tests/fuzz/seeds.py
	$(Q)$(PYTHON) tests/fuzz/seeds.py --rtnl $(@D)

# A short run in `make test`; `make fuzz` runs FUZZ_TIME seconds and keeps
# its corpus in build/fuzz/corpus. Findings are written to build/fuzz/.
FUZZ_SEEDS := $(B)/fuzz/seeds/read $(B)/fuzz/seeds-ext2/1k \
	$(B)/fuzz/seeds-virtio_net/offloads $(B)/fuzz/seeds-rtnl/dumps

fuzz-short: $(FUZZERS) $(FUZZ_SEEDS)
	$(Q)for t in virtio_blk virtio_net ext2 tcp rtnl; do \
		mkdir -p $(B)/fuzz/corpus-short-$$t; \
		seeds=$(B)/fuzz/seeds-$$t; [ $$t = virtio_blk ] && \
			seeds=$(B)/fuzz/seeds; mkdir -p $$seeds; \
		runs=200000; [ $$t = ext2 ] && runs=50000; \
		$(B)/fuzz/fuzz_$$t -runs=$$runs $(FUZZ_FLAGS) \
			-artifact_prefix=$(B)/fuzz/$$t- \
			$(B)/fuzz/corpus-short-$$t $$seeds \
			2>$(B)/fuzz/short-$$t.log || \
			{ tail -40 $(B)/fuzz/short-$$t.log; exit 1; }; \
		grep -h "stat::number_of_executed_units" \
			$(B)/fuzz/short-$$t.log | sed "s/^/  fuzz_$$t: /"; \
	done

# FUZZ_TIME seconds for each target
fuzz: deps $(FUZZERS) $(FUZZ_SEEDS)
	$(Q)for t in virtio_blk virtio_net ext2 tcp rtnl; do \
		mkdir -p $(B)/fuzz/corpus-$$t; \
		seeds=$(B)/fuzz/seeds-$$t; [ $$t = virtio_blk ] && \
			seeds=$(B)/fuzz/seeds; mkdir -p $$seeds; \
		$(B)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_TIME) \
			$(FUZZ_FLAGS) -artifact_prefix=$(B)/fuzz/$$t- \
			$(B)/fuzz/corpus-$$t $$seeds || exit 1; \
	done

demo: deps
	$(Q)$(MAKE) --no-print-directory all $(B)/tests/guest/musl/hello
	$(Q)$(FRESCO) run $(B)/tests/guest/musl/hello from a Fresco VM

$(B)/bench/%: bench/%.c
	@mkdir -p $(@D)
	$(Q)$(MUSL_CC) $(GUEST_CFLAGS) -static -o $@ $<

bench: deps
	$(Q)$(MAKE) --no-print-directory all $(B)/tests/guest/musl/hello \
		$(B)/bench/syscalls $(B)/bench/blkbench \
		$(B)/tests/guest/musl/httpd $(B)/tests/guest/musl/tcp
	$(Q)$(PYTHON) bench/boot.py
	$(Q)$(PYTHON) bench/syscalls.py
	$(Q)$(PYTHON) bench/blk.py
	$(Q)$(PYTHON) bench/net.py

install: all
	install -D -m 0755 $(FRESCO) $(DESTDIR)$(PREFIX)/bin/fresco
	install -D -m 0644 $(KERNEL) $(DESTDIR)$(PREFIX)/lib/fresco/fresco-kernel

check:
	$(Q)clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
		--inline-suppr --std=c11 -Iinclude -Ikernel -Ivmm \
		--suppress=missingIncludeSystem kernel vmm cli
	$(Q)$(MAKE) --no-print-directory $(KERNEL)

docs: docs/compat.md

docs/compat.md: kernel/linux/syscall.c $(UNISTD_H) scripts/gen-compat.py
	$(Q)$(PYTHON) scripts/gen-compat.py kernel/linux/syscall.c $(UNISTD_H) \
		> $@.tmp && mv $@.tmp $@

format:
	$(Q)clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
