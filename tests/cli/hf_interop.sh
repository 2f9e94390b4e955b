#!/usr/bin/env bash
# The real tools check our export and import (tests/interop/hf_check.py says what): transformers
# loads `runner export --hf` directories of every sharing scheme with our logits, runner loads what
# transformers saved, AutoTokenizer gives our ids; the gguf package reads `runner export --gguf` back
# (tests/interop/gguf_check.py). Tools: scripts/setup_interop.sh + scripts/setup_torch2.sh (make test
# installs both); exit 77 (skipped) with a message when they are absent.
set -euo pipefail
RUNNER="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
WORK="$2"
source "$(dirname "$0")/shakespeare.sh"
PYPATH="$SRC/third_party/interop:$SRC/third_party/torch2"
# Offline, no progress bars: the log holds the checks.
PY=(env "PYTHONPATH=$PYPATH" HF_HUB_OFFLINE=1 TRANSFORMERS_VERBOSITY=error HF_HUB_DISABLE_PROGRESS_BARS=1 python3)
if ! "${PY[@]}" -c "import transformers, gguf, torch" 2>/dev/null; then
  echo "SKIP: transformers/gguf/torch not importable from $PYPATH (bash scripts/setup_interop.sh; make torch2)"
  exit 77
fi
trap 'echo "hf_interop.sh: failed at line $LINENO" >&2' ERR
shakespeare_data 40  # byte ids (vocab 256) for `runner train --init-from`
LLAMA_TOK="$SRC/../shared/data/mobilellm/tokenizer.model"
[ -f "$LLAMA_TOK" ] || LLAMA_TOK=""
"${PY[@]}" "$SRC/tests/interop/hf_check.py" --runner "$RUNNER" --work "$WORK" --text "$TEXT" --data data \
  --llama-tokenizer "$LLAMA_TOK"
