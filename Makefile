# A thin wrapper over meson for the two commands in README.md.
#   make test   - install what is missing, build plain + ASan + TSan, run every
#                 test in each, and the small ones under valgrind
#   make bench  - install what is missing (the benchmarks' baselines too),
#                 build, run the quick benchmark suite
#   make bench-full - the full suite (millions of goroutines, every curve
#                 point) with its PNG plots into docs/plots
# Everything real lives in meson.build; this file only sequences it.

SHELL := /bin/bash
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BUILD_PKGS := gcc pkg-config meson ninja-build liburing-dev libjemalloc-dev golang-go
# valgrind runs the small tests; the aarch64 cross compiler (with its libc,
# which apt does not pull in without recommends) and qemu-user
# run the aarch64 context switch on this x86-64 machine.
TEST_PKGS := valgrind gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
# What ringo-bench compares with or draws with, for make bench / bench-full
# only: the server benchmarks' baselines and clients, and gnuplot for
# --plot. ringo-bench starts its own nginx and redis-server on free
# loopback ports; the system services these packages start when installed
# (nginx on :80, redis on :6379) are stopped and disabled right away, and
# only when this Makefile installed them.
BENCH_PKGS := wrk nginx redis-server redis-tools gnuplot-nox
BENCH_SERVICES := nginx redis-server
SANITIZERS := address thread
MESON_TEST := meson test --print-errorlogs --num-processes 2

.PHONY: test bench bench-full deps test-deps bench-deps build clean

# apt-get runs only when a package is missing (dpkg -s tells). The
# services named in $(2) that it installed are stopped and disabled.
define install_missing
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "make: installing$$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null || \
		{ echo "make: apt-get could not install$$missing"; exit 1; }; \
		for s in $(2); do case "$$missing " in *" $$s "*) \
			echo "make: stopping and disabling the $$s service the package started"; \
			if [ -d /run/systemd/system ]; then $(SUDO) systemctl disable --now $$s >/dev/null 2>&1; \
			else $(SUDO) service $$s stop >/dev/null 2>&1; fi; \
		esac; done; true; \
	fi
endef

deps:
	$(call install_missing,$(BUILD_PKGS))

test-deps: deps
	$(call install_missing,$(TEST_PKGS))

bench-deps: deps
	$(call install_missing,$(BENCH_PKGS),$(BENCH_SERVICES))

build/build.ninja: | deps
	meson setup build

build-%/build.ninja: | deps
	meson setup build-$* -Db_sanitize=$* -Dbench=false -Doptimization=1

build: build/build.ninja
	ninja -C build

test: test-deps build/build.ninja $(foreach s,$(SANITIZERS),build-$(s)/build.ninja)
	@status=0; \
	ninja -C build || exit 1; \
	$(MESON_TEST) -C build || status=1; \
	$(MESON_TEST) -C build --setup valgrind --suite small || status=1; \
	for s in $(SANITIZERS); do \
		ninja -C build-$$s || exit 1; \
		$(MESON_TEST) -C build-$$s --timeout-multiplier 3 || status=1; \
	done; \
	python3 .ci/summary.py build $(foreach s,$(SANITIZERS),build-$(s)); \
	exit $$status

bench: bench-deps build/build.ninja
	ninja -C build
	./build/bench/ringo-bench --quick

bench-full: bench-deps build/build.ninja
	ninja -C build
	./build/bench/ringo-bench --full --plot docs/plots --json build/bench-full.json

clean:
	rm -rf build build-address build-thread
