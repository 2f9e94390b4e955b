# Thin wrapper over CMake/CTest: the README's two commands are `make run` and `make test`.
BUILD ?= build
JOBS ?= $(shell nproc)
SWEEP ?= configs/cpu.toml
# The second configuration: LibTorch 2.x with CUDA. LIBTORCH is a LibTorch root (the folder holding
# lib/ and share/cmake/Torch); by default the pinned PyPI wheel that scripts/setup_torch2.sh installs.
# A cluster user's own: make cuda LIBTORCH=/path/to/libtorch CUDA_BUILD=build-mine
CUDA_BUILD ?= build-cuda
TORCH2_ROOT := $(CURDIR)/third_party/torch2/torch
LIBTORCH ?= $(TORCH2_ROOT)
TORCH_CUDA_ARCH_LIST ?= 8.0;9.0
ifeq ($(LIBTORCH),$(TORCH2_ROOT))
CUDA_DEPS := torch2
endif

FUZZ_SECONDS ?= 30

.PHONY: fuzz sanitize findings all build cuda torch2 test test-cpu test-cuda smoke setup run data bench tables plots presets clean format interop

all: build

setup:
	bash scripts/setup.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

torch2:
	bash scripts/setup_torch2.sh

$(CUDA_BUILD)/CMakeCache.txt: | $(CUDA_DEPS)
	@command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ] || { echo "make cuda: a CUDA LibTorch's CMake config needs the CUDA toolkit (nvcc, cuDNN, NCCL), e.g. /usr/local/cuda" >&2; exit 2; }
	cmake -S . -B $(CUDA_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_PREFIX_PATH=$(LIBTORCH) \
	  -DTORCH_CUDA_ARCH_LIST="$(TORCH_CUDA_ARCH_LIST)"

# Every source file against LibTorch 2.x + CUDA; runner and the tests link libtorch_cuda and NCCL.
cuda: $(CUDA_DEPS) $(CUDA_BUILD)/CMakeCache.txt
	@grep -q "^Torch_DIR:PATH=$(LIBTORCH)/share/cmake/Torch" $(CUDA_BUILD)/CMakeCache.txt || { echo "make cuda: $(CUDA_BUILD) was configured against another LibTorch; pick a new CUDA_BUILD=... for LIBTORCH=$(LIBTORCH)" >&2; exit 2; }
	cmake --build $(CUDA_BUILD) -j $(JOBS)

# Everything CI runs: install dependencies (idempotent), both builds, the fast suite against each.
test: setup build cuda
	$(MAKE) --no-print-directory test-cpu test-cuda

test-cpu:
	cd $(BUILD) && ctest -L fast --output-on-failure -j $(JOBS)

test-cuda:
	cd $(CUDA_BUILD) && ctest -L fast --output-on-failure -j $(JOBS)

# The main job: the Table 1 comparison at CPU scale on the default corpus (prepared on first use),
# then the regenerated tables, the loss-curve plot and the HTML report (its path printed last).
# Finished runs are skipped on a re-run.
run: setup build
	$(BUILD)/runner --sweep $(SWEEP)
	$(BUILD)/analysis tables --table all --sweep table1-cpu
	$(BUILD)/analysis plot --sweep table1-cpu --out results/plots
	$(BUILD)/analysis report --sweep table1-cpu --out results/report/table1-cpu

# README "What we found at CPU scale": the multi-seed CPU sweeps (each within an hour on 2 cores;
# finished runs skipped), then each one's findings and HTML report in results/report/<sweep>/.
FINDINGS_SWEEPS = cpu_table1_seeds:table1-cpu-seeds cpu_mobilellm_sharing:mobilellm_sharing-cpu \
                  cpu_mobilellm_depth:mobilellm_depth-cpu cpu_mobilellm_embedding:mobilellm_embedding-cpu
findings: setup build
	@for fs in $(FINDINGS_SWEEPS); do \
	  $(BUILD)/runner --sweep configs/$${fs%%:*}.toml --no-progress || exit 1; done
	@for fs in $(FINDINGS_SWEEPS); do s=$${fs##*:}; \
	  $(BUILD)/analysis findings --sweep $$s && \
	  $(BUILD)/analysis report --sweep $$s --out results/report/$$s || exit 1; done

data: build
	$(BUILD)/runner data prepare --mix configs/data/default.toml --out results/data/default

tables: build
	$(BUILD)/analysis tables --table all --sweep table1-cpu

plots: build
	$(BUILD)/analysis plot --sweep table1-cpu --out results/plots

# Our GGUF in llama.cpp itself (slow, not in CI; README "Weights"): llama.cpp built from source into
# third_party/llama.cpp-build, a trained CPU-scale model of each sharing scheme, logits and perplexity.
interop: build
	bash scripts/setup_interop.sh
	bash scripts/interop/run.sh

# Benchmarks (not tests): data preparation/loader, training vs ref_llama.py in eager PyTorch 1.13 and
# 2.x and under torch.compile (the 2.x wheel from `make torch2`), eval scoring, and MobiLlama's
# Table 11 at full size vs eager PyTorch (fails when ours is >5% slower in a forward), and batch-1
# decoding at full size vs llama.cpp's llama-bench on our GGUF exports (built from source on first
# use; fails when the decode goal is missed; stores the rows of the latency tables).
bench: build torch2
	cmake --build $(BUILD) --target bench_data bench_train bench_eval bench_gemm -j $(JOBS)
	$(BUILD)/bench_data
	$(BUILD)/bench_train
	$(BUILD)/bench_eval
	$(BUILD)/bench_gemm
	python3 bench/table11_race.py --build $(BUILD) --rounds 3
	python3 bench/decode_race.py --build $(BUILD)
	python3 bench/dist_race.py --build $(BUILD) --rounds 3

# libFuzzer targets for every parser of user files (fuzz/), each run FUZZ_SECONDS with its seed
# corpus (scripts/fuzz.sh); a crash fails and its input lands in build-fuzz/crashes/<target>/.
fuzz:
	bash scripts/fuzz.sh $(FUZZ_SECONDS)

# The fast suite built with ASan + UBSan in build-asan/ (scripts/sanitize.sh; suppressions, LibTorch's
# only, in scripts/sanitize/). Not in CI (its time budget): run before resolving any issue.
sanitize:
	bash scripts/sanitize.sh

smoke: build
	cd $(BUILD) && ctest -L slow --output-on-failure

presets: build
	$(BUILD)/runner presets --compare-paper

format:
	clang-format -i $$(git ls-files '*.cpp' '*.h')

clean:
	rm -rf $(BUILD) $(CUDA_BUILD)
