# Front door: `make run`, `make test`, `make bench`. The real build is CMake.
BUILD      ?= build
BUILD_ASAN ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all deps build build-asan run test test-asan bench clean

all: build

deps:
	@./scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) -- --no-print-directory

build-asan: deps
	@cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DHYPSIM_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD_ASAN) -j $(JOBS) -- --no-print-directory

run: build
	./$(BUILD)/hypsim run

test: build build-asan
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	cd $(BUILD_ASAN) && ctest --output-on-failure -j $(JOBS) -LE slow

test-asan: build-asan
	cd $(BUILD_ASAN) && ctest --output-on-failure -j $(JOBS)

bench: build
	./$(BUILD)/bench_mem
	@if [ -x $(BUILD)/bench_run ]; then ./$(BUILD)/bench_run; fi
	@if [ -x $(BUILD)/bench_detect ]; then ./$(BUILD)/bench_detect; fi
	@if [ -d ../shared/litmus/herd-vmsa ]; then \
	  echo "litmus: the whole herd VMSA catalogue (summary, with tests per second):"; \
	  ./$(BUILD)/hypsim litmus ../shared/litmus/herd-vmsa | tail -4; \
	else echo "litmus: ../shared/litmus/herd-vmsa not found, skipped"; fi

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)
