#!/usr/bin/env bash
# Installs the pinned interoperability tools (scripts/interop-requirements.txt: transformers, gguf,
# sentencepiece and what they import) into third_party/interop, for the checks in
# tests/cli/hf_interop.sh and `make interop`. Idempotent (scripts/pip_pinned.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
exec bash scripts/pip_pinned.sh setup_interop scripts/interop-requirements.txt third_party/interop
