# rill — developer and CI entry points.
#
#   make demo          install deps, build the release preset, run the tour example
#   make test          install deps, then configure/build/ctest release, debug (ASan+UBSan),
#                      tsan and gcc-release, stopping at the first failure
#   make build-<p>     configure + build one preset   (p = release debug tsan gcc-release)
#   make test-<p>      configure + build + ctest one preset
#   make deps          apt-get install what is missing (no-op when all is there)
#   make clean         rm -rf build/
#
# Extra ctest arguments: make test-debug CTEST_ARGS='-R sync_ -L unit'

SHELL       := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test
.NOTPARALLEL:

PRESETS := release debug tsan gcc-release
JOBS    ?= 2
CTEST_ARGS ?=

# Debian 12 packages the build, tests and benchmarks need.
DEPS_PKGS := cmake ninja-build clang-19 libclang-rt-19-dev lld-19 g++ ccache \
             libgtest-dev libgmock-dev liburing-dev make curl wrk netcat-openbsd python3 procps
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# ccache lives under build/ only.
export CCACHE_DIR := $(CURDIR)/build/.ccache
LAUNCHER := $(shell command -v ccache >/dev/null 2>&1 && echo -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

.PHONY: test-gcc-debug

# g++ 12 at -O0: symmetric transfer must still be a tail call (DESIGN §2), so the task
# tests (10M synchronous awaits, 100k-deep recursion) run in a g++ Debug build too.
test-gcc-debug: deps
	cmake --preset gcc-debug $(LAUNCHER)
	cmake --build --preset gcc-debug --parallel $(JOBS)
	./build/gcc-debug/tests/unit/task_basic_test

.PHONY: demo test deps clean $(addprefix build-,$(PRESETS)) $(addprefix test-,$(PRESETS)) \
        $(addprefix configure-,$(PRESETS))

demo: deps build-release
	@test -x build/release/examples/tour || { echo "no build/release/examples/tour (examples/tour/ missing?)" >&2; exit 1; }
	./build/release/examples/tour

# One preset after another, so the first failing preset stops the run.
test: deps
	@start=$$(date +%s); \
	for p in $(PRESETS); do \
	  echo "=================== $$p ==================="; \
	  $(MAKE) --no-print-directory test-$$p || { echo "make test: preset $$p FAILED" >&2; exit 1; }; \
	done; \
	echo "=================== gcc-debug (task tests) ==================="; \
	$(MAKE) --no-print-directory test-gcc-debug || { echo "make test: gcc-debug FAILED" >&2; exit 1; }; \
	echo "make test: all presets passed ($$(( $$(date +%s) - start )) s)"

deps:
	@missing=$$(for p in $(DEPS_PKGS); do \
	    dpkg-query -W -f='$${Status}\n' "$$p" 2>/dev/null | grep -q '^install ok installed$$' || echo "$$p"; \
	  done); \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing:" $$missing; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi

# Reconfigure every time: cheap, and picks up a changed LAUNCHER or preset.
$(addprefix configure-,$(PRESETS)): configure-%: deps
	cmake --preset $* $(LAUNCHER)

$(addprefix build-,$(PRESETS)): build-%: configure-%
	cmake --build --preset $* --parallel $(JOBS)

# TSan and ASLR: TSan needs its fixed shadow layout; kernels with high-entropy
# mmap (vm.mmap_rnd_bits=32, Ubuntu 23.10+ and others) made older runtimes die
# with "FATAL: ThreadSanitizer: unexpected memory mapping". Checked on Debian 12
# (kernel 6.18): clang-19's runtime copes by itself: at mmap_rnd_bits=28 it just
# runs; at 32 it prints "memory layout is incompatible ... Re-execing with fixed
# virtual address space" and runs. That re-exec (personality syscall) may be
# refused in some sandboxes, so we still probe: build a tiny threaded TSan
# program and run it; if it fails plainly but works under `setarch <arch> -R`
# (ASLR off, inherited by ctest's children), the tsan tests run that way.
TSAN_PROBE_DIR := build/.tsan-probe
define tsan_prefix
	mkdir -p $(TSAN_PROBE_DIR); \
	printf '%s\n' '#include <thread>' 'int v; int main() { std::thread t([] { v = 1; }); t.join(); return v == 1 ? 0 : 1; }' \
	  > $(TSAN_PROBE_DIR)/probe.cpp; \
	clang++-19 -std=c++23 -fsanitize=thread -fuse-ld=lld-19 -O1 $(TSAN_PROBE_DIR)/probe.cpp -o $(TSAN_PROBE_DIR)/probe; \
	if $(TSAN_PROBE_DIR)/probe >$(TSAN_PROBE_DIR)/log 2>&1; then \
	  prefix=""; \
	elif setarch "$$(uname -m)" -R $(TSAN_PROBE_DIR)/probe >>$(TSAN_PROBE_DIR)/log 2>&1; then \
	  echo "tsan: plain run fails on this kernel (vm.mmap_rnd_bits=$$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null)); running ctest under setarch -R"; \
	  prefix="setarch $$(uname -m) -R"; \
	else \
	  echo "tsan: a trivial TSan program fails here, with and without setarch -R:" >&2; cat $(TSAN_PROBE_DIR)/log >&2; exit 1; \
	fi
endef

test-tsan: build-tsan
	@$(tsan_prefix); \
	echo "+ $$prefix ctest --preset tsan $(CTEST_ARGS)"; \
	$$prefix ctest --preset tsan $(CTEST_ARGS)

$(filter-out test-tsan,$(addprefix test-,$(PRESETS))): test-%: build-%
	ctest --preset $* $(CTEST_ARGS)

clean:
	rm -rf build
