# Thin wrapper over CMake/CTest: the README's two commands are `make run` and `make test`.
BUILD ?= build
JOBS ?= $(shell nproc)
SWEEP ?= configs/cpu.toml

.PHONY: all build test smoke setup run presets clean format

all: build

setup:
	bash scripts/setup.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# Everything CI runs: install dependencies (idempotent), build, fast tests.
test: setup build
	cd $(BUILD) && ctest -L fast --output-on-failure -j $(JOBS)

smoke: build
	cd $(BUILD) && ctest -L slow --output-on-failure

presets: build
	$(BUILD)/runner presets --compare-paper

format:
	clang-format -i $$(git ls-files '*.cpp' '*.h')

clean:
	rm -rf $(BUILD)
