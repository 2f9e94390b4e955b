#!/usr/bin/env bash
# Builds llama.cpp's own benchmark, llama-bench, from the same pinned, vendored llama.cpp that
# build_llama_cpp.sh unpacks (run that first), for the decode race in `make bench`
# (bench/decode_race.py). A separate build folder with the tools on; ggml and libllama come out of
# ccache. Result: $OUT/bench-build/bin/llama-bench. Idempotent.
# Env: LLAMA_CPP_OUT (default third_party/llama.cpp-build), JOBS (default nproc).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${LLAMA_CPP_OUT:-$ROOT/third_party/llama.cpp-build}
JOBS=${JOBS:-$(nproc)}
src="$OUT/src/vendor/llama.cpp"
bin="$OUT/bench-build/bin/llama-bench"

[[ -d "$src" ]] || bash "$ROOT/scripts/interop/build_llama_cpp.sh"
if [[ -x "$bin" ]]; then echo "llama-bench: $bin is built"; exit 0; fi
start=$(date +%s)
# The same ggml options as the binding's build (native CPU, OpenMP), so both are the same llama.cpp.
cmake -S "$src" -B "$OUT/bench-build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_COMMON=ON -DLLAMA_BUILD_TESTS=OFF \
  -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF \
  -DLLAMA_BUILD_APP=OFF -DLLAMA_CURL=OFF -DGGML_NATIVE=ON -DGGML_OPENMP=ON >"$OUT/bench-cmake.log"
cmake --build "$OUT/bench-build" --target llama-bench -j "$JOBS"
[[ -x "$bin" ]] || { echo "build_llama_bench.sh: no $bin after the build" >&2; exit 1; }
echo "llama-bench: built in $(( $(date +%s) - start )) s -> $bin"
