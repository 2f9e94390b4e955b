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
# GGUF: exported from the HF directories above (a GGUF needs no training run) and read back by the
# gguf package against the same directory's safetensors: metadata, vocabulary, every tensor.
n=0
for d in "$WORK"/hf-{none,shared-ffn,shared-block,immediate,repeat-all-over,reverse,cycle,gqa-tied,sharded}; do
  "$RUNNER" export "$d" --gguf "$d.gguf" >/dev/null
  "${PY[@]}" "$SRC/tests/interop/gguf_check.py" "$d.gguf" "$d"
  n=$((n + 1))
done
for dtype in f16 bf16; do
  "$RUNNER" export "$WORK/hf-shared-ffn" --gguf "$WORK/shared-ffn.$dtype.gguf" --dtype "$dtype" >/dev/null
  "${PY[@]}" "$SRC/tests/interop/gguf_check.py" "$WORK/shared-ffn.$dtype.gguf" "$WORK/hf-shared-ffn"
  n=$((n + 1))
done
echo "gguf: $n files read back by the gguf package, equal to the HF exports"
