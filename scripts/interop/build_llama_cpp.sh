#!/usr/bin/env bash
# Builds llama.cpp from source, outside the tracked tree, for `make interop`.
#
# Source: the PyPI sdist of llama-cpp-python (pinned, sha256-checked), which vendors one llama.cpp
# commit and carries its ctypes binding. We build the vendored llama.cpp ourselves with CMake
# (shared libllama + ggml only, CPU, no tools/tests/server/curl) instead of `pip install
# --no-binary`: the build is a third of the targets, uses ccache, needs no scikit-build-core
# download, and the binding (pure Python, `llama_cpp.Llama`) only needs the .so files beside it.
# The logits then come from llama.cpp's own graph, fed token ids directly.
#
# Result: $OUT/py/llama_cpp (import with PYTHONPATH=$OUT/py), $OUT/src (the vendored source,
# incl. convert_hf_to_gguf.py and gguf-py), $OUT/STAMP. Idempotent: a finished build is reused.
# Env: LLAMA_CPP_OUT (default third_party/llama.cpp-build), JOBS (default nproc), PYTHON.
set -euo pipefail

VERSION=0.3.36
SHA256=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${LLAMA_CPP_OUT:-$ROOT/third_party/llama.cpp-build}
JOBS=${JOBS:-$(nproc)}
PYTHON=${PYTHON:-python3}
STAMP="$OUT/STAMP"

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "llama-cpp-python==$VERSION" ]]; then
  echo "llama.cpp: $OUT is built (llama-cpp-python $VERSION)"; exit 0
fi
mkdir -p "$OUT"
start=$(date +%s)

# pip's cache keeps the 77 MB sdist for the next run.
sdist="$OUT/llama_cpp_python-$VERSION.tar.gz"
[[ -f "$sdist" ]] || "$PYTHON" -m pip download --quiet --no-binary :all: --no-deps "llama-cpp-python==$VERSION" -d "$OUT"
echo "$SHA256  $sdist" | sha256sum -c --quiet - \
  || { echo "build_llama_cpp.sh: $sdist: sha256 differs from the pinned one" >&2; exit 1; }

rm -rf "$OUT/src.tmp" && mkdir -p "$OUT/src.tmp"
tar xzf "$sdist" -C "$OUT/src.tmp" --strip-components=1
rm -rf "$OUT/src" && mv "$OUT/src.tmp" "$OUT/src"

src="$OUT/src/vendor/llama.cpp"
cmake -S "$src" -B "$OUT/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DBUILD_SHARED_LIBS=ON -DLLAMA_BUILD_COMMON=OFF -DLLAMA_BUILD_TESTS=OFF \
  -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF \
  -DLLAMA_BUILD_APP=OFF -DLLAMA_CURL=OFF -DGGML_NATIVE=ON -DGGML_OPENMP=ON >"$OUT/cmake.log"
cmake --build "$OUT/build" --target llama -j "$JOBS"

rm -rf "$OUT/py" && mkdir -p "$OUT/py/llama_cpp/lib"
cp -r "$OUT/src/llama_cpp/." "$OUT/py/llama_cpp/"
find "$OUT/build/bin" -maxdepth 1 -name 'lib*.so*' -exec cp -P {} "$OUT/py/llama_cpp/lib/" \;
[[ -f "$OUT/py/llama_cpp/lib/libllama.so" ]] || { echo "build_llama_cpp.sh: no libllama.so in $OUT/build/bin" >&2; exit 1; }
echo "llama-cpp-python==$VERSION" >"$STAMP"
commit=vendored  # the sdist carries the submodule's .git; never ask git above it (our own checkout)
[[ -e "$src/.git" ]] && commit=$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo vendored)
echo "llama.cpp: built $commit in $(( $(date +%s) - start )) s with -j$JOBS -> $OUT/py"
