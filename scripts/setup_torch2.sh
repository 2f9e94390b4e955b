#!/usr/bin/env bash
# Installs the pinned LibTorch 2.x (scripts/torch2-requirements.txt: the PyPI torch wheel and the
# CUDA pieces the installed toolkit lacks) into third_party/torch2, for `make cuda`, the PyTorch
# 2.x references of bench_train and the transformers checks. Idempotent (scripts/pip_pinned.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ] ||
  echo "setup_torch2: warning: no nvcc; LibTorch's CMake config needs a CUDA toolkit to configure build-cuda" >&2
exec bash scripts/pip_pinned.sh setup_torch2 scripts/torch2-requirements.txt third_party/torch2
