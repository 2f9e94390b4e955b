#!/usr/bin/env bash
# Installs the pinned interoperability tools (scripts/interop-requirements.txt: transformers, gguf,
# sentencepiece and what they import) into third_party/interop with --no-deps, for the checks in
# tests/cli/hf_interop.sh and `make interop`. pip keeps the wheels in its cache. Idempotent: exits at
# once when the pins are there.
set -euo pipefail
cd "$(dirname "$0")/.."
REQ=scripts/interop-requirements.txt
DEST=third_party/interop
STAMP=$DEST/.installed-from

if [ -f "$STAMP" ] && cmp -s "$STAMP" "$REQ"; then
  echo "setup_interop: $DEST matches $REQ"
  exit 0
fi
PY=${PYTHON:-python3}
"$PY" -m pip --version >/dev/null 2>&1 || { echo "setup_interop: $PY has no pip (apt-get install python3-pip)" >&2; exit 1; }
rm -rf "$DEST.tmp"
echo "setup_interop: installing $(grep -c '^[a-zA-Z]' "$REQ") pinned packages into $DEST"
PIP_ROOT_USER_ACTION=ignore "$PY" -m pip install --quiet --disable-pip-version-check --no-deps \
  --target "$DEST.tmp" -r "$REQ"
cp "$REQ" "$DEST.tmp/.installed-from"
rm -rf "$DEST"
mv "$DEST.tmp" "$DEST"
