#!/usr/bin/env bash
# `make interop` (slow, not in CI): our GGUF export against llama.cpp itself, for a trained
# CPU-scale model of each sharing scheme.
#   1. builds llama.cpp from source (build_llama_cpp.sh; reused when present);
#   2. trains a SentencePiece tokenizer (512 pieces = the debug preset's vocab_size) on 95% of
#      tiny-shakespeare and prepares it; the last 5% is the held-out text;
#   3. per scheme: trains the `debug` preset (8 layers) for a few hundred steps, exports it as
#      GGUF and as an HF directory (f32 and f16), checks each GGUF against the HF safetensors with
#      the `gguf` package (tests/interop/gguf_check.py) and, when torch >= 2.1 is at hand, against
#      llama.cpp's convert_hf_to_gguf.py run on that HF directory (byte-identical tensors), then
#      runs both GGUFs in llama.cpp on fixed windows of held-out token ids and compares logits and
#      perplexity with `runner logits`
#      (llama_cpp_check.py: logits within 1e-3 (f32) / 5e-3 (f16) x max(1, max|logit|), perplexity
#      within 1%). Takes ~10 min on 2 cores (~1 min per scheme, llama.cpp's build ~2.5 min once).
# Env: RUNNER (build/runner), INTEROP_WORK (results/interop), INTEROP_TEXT (tiny-shakespeare),
# INTEROP_PYTHON (python3), INTEROP_PYTHONPATH (third_party/interop: gguf, numpy; the llama.cpp
# binding also needs typing-extensions, diskcache, jinja2), INTEROP_SCHEMES, INTEROP_STEPS (400).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RUNNER=${RUNNER:-$ROOT/build/runner}
WORK=${INTEROP_WORK:-$ROOT/results/interop}
TEXT=${INTEROP_TEXT:-$ROOT/../shared/data/tinyshakespeare/input.txt}
PY=${INTEROP_PYTHON:-python3}
export PYTHONPATH=${INTEROP_PYTHONPATH:-$ROOT/third_party/interop}${PYTHONPATH:+:$PYTHONPATH}
SCHEMES=${INTEROP_SCHEMES:-none shared-ffn shared-block immediate repeat-all-over reverse cycle}
STEPS=${INTEROP_STEPS:-400}
WINDOWS=8 WINDOW=128  # held-out token windows (debug's max_seq_len is 128)

[[ -x "$RUNNER" ]] || { echo "run.sh: $RUNNER not built (cmake --build build --target runner)" >&2; exit 2; }
[[ -f "$TEXT" ]] || { echo "run.sh: $TEXT not found (set INTEROP_TEXT)" >&2; exit 2; }
"$PY" -c 'import gguf, numpy' 2>/dev/null \
  || { echo "run.sh: $PY cannot import gguf and numpy with PYTHONPATH=$PYTHONPATH" >&2; exit 2; }

"$ROOT/scripts/interop/build_llama_cpp.sh"

# --- the model source's operations, in the runner's CLI terms ------------------------------------
export_gguf() { "$RUNNER" export "$1" --gguf "$2" --dtype "$3" >/dev/null; }  # RUN OUT.gguf DTYPE
export_hf() { "$RUNNER" export "$1" --hf "$2" --dtype "$3" >/dev/null; }      # RUN DIR DTYPE
our_logits() {  # RUN WINDOWS.txt OUT_PREFIX: one [T, vocab] .npy per window line
  local i=0 line
  while IFS= read -r line; do
    "$RUNNER" logits "$1" --tokens "$line" --out "$3$i.npy" >/dev/null
    i=$((i + 1))
  done <"$2"
}

mkdir -p "$WORK"
cd "$WORK"

# --- data: tokenizer + shards from 95% of the text, held-out windows from the rest ----------------
if [[ ! -f data/manifest.json ]]; then
  "$PY" - "$TEXT" <<'PY'
import sys
b = open(sys.argv[1], 'rb').read()
cut = b.rfind(b'\n\n', 0, len(b) * 95 // 100) + 2  # at a paragraph break
open('train.txt', 'wb').write(b[:cut])
open('heldout.txt', 'wb').write(b[cut:])
PY
  printf '[mix]\nseq_len = %d\nval_fraction = 0.05\nvocab_size = 512\nmodel_type = "bpe"\n\n[[source]]\nname = "shakespeare"\npath = "train.txt"\nreader = "text"\n' \
    "$WINDOW" >mix.toml
  "$RUNNER" data prepare --mix mix.toml --out data --no-progress >/dev/null
fi
# Ids, not text, go to both sides: llama.cpp's SPM tokenizer plays no part in the comparison.
"$RUNNER" data tokenizer --model data/tokenizer.model --encode "$(head -c 12000 heldout.txt)" | tail -n 1 >heldout.ids
"$PY" - "$WINDOWS" "$WINDOW" <<'PY'
import sys
w, t = int(sys.argv[1]), int(sys.argv[2])
ids = [int(x) for x in open('heldout.ids').read().split() if int(x) > 2]  # text pieces only
rows = [[1] + ids[k:k + t - 1] for k in range(0, w * (t - 1), t - 1)]  # BOS + t-1 tokens each
if len(rows[-1]) != t:
    sys.exit('run.sh: held-out text too short for the windows')
open('windows.txt', 'w').write(''.join(','.join(map(str, r)) + '\n' for r in rows))
PY

# --- per scheme ---------------------------------------------------------------------------------
scheme_sets() {
  case "$1" in
    immediate|repeat-all-over|reverse) echo "--set model.repeats=2" ;;
    cycle|sequence|cycle-rev) echo "--set model.unique_blocks=2" ;;  # 0101..., unlike repeat-all-over's 01230123
    *) echo "" ;;
  esac
}

# llama.cpp's own converter on our HF export, when a Python with torch >= 2.1 and transformers is at
# hand (INTEROP_TORCH_PYTHONPATH, default the pinned LibTorch 2.x wheel of `make test`): our GGUF
# must then be byte-identical to its output. INTEROP_CONVERTER=0 skips, 1 requires it.
LLAMA_SRC=${LLAMA_CPP_OUT:-$ROOT/third_party/llama.cpp-build}/src/vendor/llama.cpp
CONVERTER_PYTHONPATH=$LLAMA_SRC/gguf-py:$PYTHONPATH:${INTEROP_TORCH_PYTHONPATH:-$ROOT/third_party/torch2}
converter=${INTEROP_CONVERTER:-auto}
if [[ $converter != 0 ]]; then
  if PYTHONPATH="$CONVERTER_PYTHONPATH" "$PY" -c \
      'import sys, torch, transformers, sentencepiece; sys.exit(tuple(map(int, torch.__version__.split(".")[:2])) < (2, 1))' 2>/dev/null; then
    converter=1
  elif [[ $converter == 1 ]]; then
    echo "run.sh: INTEROP_CONVERTER=1 but no torch >= 2.1 + transformers + sentencepiece on $CONVERTER_PYTHONPATH" >&2; exit 2
  else
    converter=0; echo "run.sh: convert_hf_to_gguf.py comparison skipped (no torch >= 2.1 + transformers)" >&2
  fi
fi

tokens=$((STEPS * 1024))
summary=()
fail=0
for scheme in $SCHEMES; do
  log="train-$scheme.log"
  # shellcheck disable=SC2046
  "$RUNNER" train debug --data data --no-db --runs-dir runs --name "interop-$scheme" --no-progress \
    --set model.scheme="$scheme" $(scheme_sets "$scheme") --set model.n_layers=8 \
    --set train.seq_len="$WINDOW" --set train.micro_batch=8 --set train.global_batch_tokens=1024 \
    --set train.tokens="$tokens" --set train.warmup_steps=20 --set train.lr=3e-3 --set train.min_lr=3e-4 \
    --set train.precision=fp32 --set train.threads=2 --set train.device=cpu --set train.val_batches=4 \
    --set train.checkpoint_every_tokens="$tokens" --set train.val_every_tokens="$tokens" >"$log" 2>&1 \
    || { echo "run.sh: training $scheme failed (see $WORK/$log)" >&2; exit 1; }
  run=$(awk '/^run_dir /{print $2}' "$log" | tail -n 1)
  rm -rf "$scheme" && mkdir -p "$scheme"
  our_logits "$run" windows.txt "$scheme/ours-"
  for dtype in f32 f16; do
    export_gguf "$run" "$scheme/model-$dtype.gguf" "$dtype"
    export_hf "$run" "$scheme/hf-$dtype" "$dtype"
    [[ -f "$scheme/hf-$dtype/tokenizer.model" ]] || cp data/tokenizer.model "$scheme/hf-$dtype/"
    converted=()
    if [[ $converter == 1 ]]; then
      PYTHONPATH="$CONVERTER_PYTHONPATH" "$PY" "$LLAMA_SRC/convert_hf_to_gguf.py" "$scheme/hf-$dtype" \
        --outfile "$scheme/converted-$dtype.gguf" --outtype "$dtype" >"$scheme/convert-$dtype.log" 2>&1 \
        || { echo "run.sh: convert_hf_to_gguf.py failed on $scheme/hf-$dtype (see $WORK/$scheme/convert-$dtype.log)" >&2; fail=1; }
      converted=(--converted "$scheme/converted-$dtype.gguf")
    fi
    "$PY" "$ROOT/tests/interop/gguf_check.py" "$scheme/model-$dtype.gguf" "$scheme/hf-$dtype" "${converted[@]}" || fail=1
    # f16: our logits are the f32 model's, so the bound covers the weights' rounding (see llama_cpp_check.py).
    tol=1e-3; [[ $dtype == f16 ]] && tol=5e-3
    if out=$("$PY" "$ROOT/scripts/interop/llama_cpp_check.py" --gguf "$scheme/model-$dtype.gguf" --ids windows.txt \
             --ours $(ls "$scheme"/ours-*.npy | sort -V) --label "$scheme/$dtype" --logit-tol "$tol"); then
      summary+=("$out")
    else
      summary+=("$out"); fail=1
    fi
  done
done

echo
"$PY" - "${summary[@]}" <<'PY'
import json, sys
print(f"{'model':<24} {'max|dlogit|':>12} {'next-token':>11} {'argmax=':>8} {'ppl ours':>10} {'ppl llama.cpp':>14} {'rel':>9}")
for line in sys.argv[1:]:
    if not line.strip():
        continue
    r = json.loads(line)
    print(f"{r['label']:<24} {r['logit_max_abs']:>12.3g} {r['next_token_max_abs']:>11.3g} {r['argmax_agree']:>8.3f} "
          f"{r['ppl_ours']:>10.4f} {r['ppl_llama_cpp']:>14.4f} {100 * r['ppl_rel']:>+8.4f}%")
PY
[[ $fail == 0 ]] && echo "interop: every scheme's GGUF matches its HF export and llama.cpp agrees with runner" \
  || { echo "interop: FAILED (see above)" >&2; exit 1; }
