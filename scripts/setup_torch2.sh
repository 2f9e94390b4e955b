#!/usr/bin/env bash
# Installs the pinned LibTorch 2.x (scripts/torch2-requirements.txt: the PyPI torch wheel and the
# CUDA pieces the installed toolkit lacks) into third_party/torch2, for `make cuda` and the PyTorch
# 2.x references of bench_train. pip keeps the downloaded wheels in its cache, so a re-install after
# `rm -rf third_party/torch2` downloads nothing. Idempotent: exits at once when the pins are there.
set -euo pipefail
cd "$(dirname "$0")/.."
REQ=scripts/torch2-requirements.txt
DEST=third_party/torch2
STAMP=$DEST/.installed-from

if [ -f "$STAMP" ] && cmp -s "$STAMP" "$REQ"; then
  echo "setup_torch2: $DEST matches $REQ"
  exit 0
fi
command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ] ||
  echo "setup_torch2: warning: no nvcc; LibTorch's CMake config needs a CUDA toolkit to configure build-cuda" >&2
PY=${PYTHON:-python3}
"$PY" -m pip --version >/dev/null 2>&1 || { echo "setup_torch2: $PY has no pip (apt-get install python3-pip)" >&2; exit 1; }
rm -rf "$DEST.tmp"
echo "setup_torch2: installing $(grep -c '^[a-zA-Z]' "$REQ") pinned packages into $DEST"
PIP_ROOT_USER_ACTION=ignore "$PY" -m pip install --quiet --disable-pip-version-check --no-deps \
  --target "$DEST.tmp" -r "$REQ"
cp "$REQ" "$DEST.tmp/.installed-from"
rm -rf "$DEST"
mv "$DEST.tmp" "$DEST"
