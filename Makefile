# Thin wrapper over CMake. `make run` and `make test` first install whatever
# is missing (scripts/setup.sh), so both work on a fresh Debian 12 machine.
BUILD      ?= build
ASAN_BUILD ?= build-asan
DATA       ?= data
JOBS       ?= $(shell nproc)
RUN_OUT    ?= runs/razor

.PHONY: all setup build run test test-unit test-asan bench clean

all: build

setup:
	@bash scripts/setup.sh $(DATA)

$(BUILD)/Makefile: CMakeLists.txt
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null

build: $(BUILD)/Makefile
	@cmake --build $(BUILD) -j $(JOBS)

# The default job: the RL's Razor study on its quick grid (35 runs, about a
# minute on 2 cores; rerunning resumes). The full grid (420 runs, about 15-20
# minutes on 2 cores) is `build/forgetlab study razor --out runs/razor-full`.
run: setup build
	$(BUILD)/forgetlab study razor --quick --out $(RUN_OUT)
	@echo "report: $(RUN_OUT)/index.html"

$(ASAN_BUILD)/Makefile: CMakeLists.txt
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DFORGETLAB_SANITIZE=ON >/dev/null

test: setup build $(ASAN_BUILD)/Makefile
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --output-on-failure -L unit -j $(JOBS)

bench: setup build
	bash bench/mlp_step.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
