# Thin wrapper over CMake. `make run` and `make test` first install whatever
# is missing (scripts/setup.sh), so both work on a fresh Debian 12 machine.
BUILD      ?= build
ASAN_BUILD ?= build-asan
DATA       ?= data
JOBS       ?= $(shell nproc)
RUN_OUT    ?= runs/razor

.PHONY: all setup build run test test-unit test-asan check-long bench clean install-python

all: build

setup:
	@bash scripts/setup.sh $(DATA)

# configure DIR, FLAGS: runs CMake when DIR was never configured with
# Ninja or when mpicc appeared or went away since (checked when the recipe
# runs, after setup may have installed it), so the build has MPI exactly
# when mpicc is there (docs/scaling.md). A directory configured by another
# generator is configured afresh. A changed CMakeLists.txt CMake notices
# itself.
define configure
	@mpi=$$(command -v mpicc >/dev/null 2>&1 && echo ON || echo OFF); \
	if [ ! -f $(1)/build.ninja ] || [ ! -f $(1)/.mpi-$$mpi ]; then \
		rm -rf $(1)/CMakeCache.txt $(1)/CMakeFiles; \
		cmake -G Ninja -S . -B $(1) $(2) -DFORGETLAB_MPI=$$mpi >/dev/null && rm -f $(1)/.mpi-* && touch $(1)/.mpi-$$mpi; \
	fi
endef

build:
	$(call configure,$(BUILD),-DCMAKE_BUILD_TYPE=Release)
	@cmake --build $(BUILD) -j $(JOBS)

# The default job: the whole RL's Razor study, full grid at one seed (420
# runs and 60 distill runs, 3,600 measured checkpoints: about 9-10 minutes
# on 2 cores). Rerunning resumes where a killed run stopped. RUN_ARGS=--quick
# gives the 40-run grid; RUN_ARGS="--seeds 3" the documented results.
RUN_ARGS ?=
run: setup build
	$(BUILD)/forgetlab study razor --out $(RUN_OUT) $(RUN_ARGS)
	@echo "report: $(RUN_OUT)/index.html"

# Under ASan+UBSan: every unit test and the short end-to-end runs. Those
# that check the CLI's behaviour alone run there only (the same assertions,
# with the sanitizers watching); determinism runs in both, since the
# optimised build's numbers are the ones users get. circuits checks numbers
# (NumPy's recomputation, attribution against real patching) and runs in
# the optimised build, in a quarter of the time; the sanitizers watch the
# attribution code through its unit tests.
ASAN_TESTS = ^test_|^e2e_(cli_basics|bad_input|determinism|grok_small)$$
ASAN_ONLY  = ^e2e_(cli_basics|bad_input|grok_small)$$

# The suite's own time (from the end of setup) is printed at its end, with
# the kernels it ran on: docs/testing.md keeps the budget (5 minutes on 2
# cores).
test: setup
	@date +%s > .test-start
	@$(MAKE) --no-print-directory build
	$(call configure,$(ASAN_BUILD),-DCMAKE_BUILD_TYPE=Debug -DFORGETLAB_SANITIZE=ON)
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -E '$(ASAN_ONLY)'
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
		ctest --output-on-failure -j $(JOBS) -R '$(ASAN_TESTS)'
	@echo "make test: $$(( $$(date +%s) - $$(cat .test-start) )) s for builds and tests on $(JOBS) jobs," \
		"BLAS core $$($(BUILD)/forgetlab env --json | sed -n 's/.*"blas_core":[^"]*"\([^"]*\)".*/\1/p')"
	@rm -f .test-start

# The long, paper-scale checks, run before a release (docs/testing.md):
# tests/long/*.sh, each as the end-to-end tests are run.
check-long: setup build
	@for t in tests/long/*.sh; do echo "== $$t"; \
		FORGETLAB_TEST_TMP=$(CURDIR)/$(BUILD)/test-tmp FORGETLAB_DATA=$(CURDIR)/data \
		bash $$t $(CURDIR)/$(BUILD)/forgetlab || exit 1; done

# Benchmarks beside PyTorch (Debian's python3-torch, installed if missing).
bench: setup build
	@dpkg-query -W -f='$${Status}' python3-torch 2>/dev/null | grep -q "install ok installed" || \
		(apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-torch)
	bash bench/mlp_step.sh
	bash bench/razor_quick.sh
	bash bench/circuits_fashion.sh
	bash bench/grok_epoch.sh
	bash bench/gpt.sh step quick
	bash bench/gpt.sh step default
	bash bench/gpt.sh sample quick
	bash bench/gpt.sh sample default
	bash bench/continual.sh
	bash bench/python.sh

# The Python package into Debian's python3 (its dist-packages for local
# installs, or PYTHON_SITE), the shared library beside it: `import
# forgetlab` then works without PYTHONPATH.
PYTHON_SITE ?= $(shell /usr/bin/python3 -c "import sysconfig; print(sysconfig.get_path('purelib'))")
install-python: build
	@dpkg-query -W -f='$${Status}' python3-numpy 2>/dev/null | grep -q "install ok installed" || \
		(apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-numpy)
	install -d $(DESTDIR)$(PYTHON_SITE)/forgetlab
	install -m 644 python/forgetlab/*.py $(DESTDIR)$(PYTHON_SITE)/forgetlab/
	install -m 755 $(BUILD)/libforgetlab.so $(DESTDIR)$(PYTHON_SITE)/forgetlab/
	@echo "installed forgetlab into $(DESTDIR)$(PYTHON_SITE)/forgetlab"

# Fuzzing: each reader under libFuzzer with ASan+UBSan (clang, build-fuzz/),
# FUZZ_SECONDS each from the seeds in fuzz/corpus/; fails on any finding.
# Installs clang and its fuzzer runtime when missing.
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS  = $(basename $(notdir $(wildcard fuzz/fuzz_*.c)))
FUZZ_PKGS     = clang libclang-rt-14-dev libomp-dev
.PHONY: fuzz

$(FUZZ_BUILD)/Makefile: CMakeLists.txt
	@missing=""; for p in $(FUZZ_PKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; [ -z "$$missing" ] || (apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing)
	@CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFORGETLAB_FUZZ=ON >/dev/null

fuzz: setup $(FUZZ_BUILD)/Makefile
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target $(FUZZ_TARGETS)
	@bash fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
	rm -rf $(FUZZ_BUILD)
