#!/usr/bin/env bash
# `runner generate` end to end: a SentencePiece tokenizer trained on tiny-shakespeare, a model of
# each sharing family exported with it as an HF directory (random weights), then greedy decoding
# (deterministic, the prompt echoed, the timing line), seeded sampling (same seed, same text), eos
# and bad arguments (one line, exit 2). That KV-cache logits equal the full forward's is
# tests/test_model.cpp's job; this checks the command around it.
# Usage: generate.sh RUNNER WORKDIR   (exit 77 = skipped: no ../shared beside the checkout)
set -euo pipefail
RUNNER="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
WORK="$2"
source "$(dirname "$0")/shakespeare.sh"
fail() { echo "FAIL: $*"; exit 1; }
trap 'echo "generate.sh: failed at line $LINENO" >&2' ERR

head -c 200000 "$TEXT" > text.txt
"$RUNNER" data tokenizer --train --input text.txt --out tok.model --vocab-size 512 > /dev/null 2>&1
for scheme in none shared-ffn immediate; do
  extra=()
  [ "$scheme" = immediate ] && extra=(--set repeats=2)
  "$RUNNER" export debug --set vocab_size=512 --set scheme=$scheme "${extra[@]}" --seed 4 --hf "hf-$scheme" \
    --tokenizer tok.model > /dev/null
  "$RUNNER" generate "hf-$scheme" --prompt "ROMEO:" --max-new 12 --threads 1 > a.txt 2> a.err
  "$RUNNER" generate "hf-$scheme" --prompt "ROMEO:" --max-new 12 --threads 1 > b.txt 2> /dev/null
  cmp -s a.txt b.txt || fail "$scheme: greedy decoding differs between two runs"
  grep -q '^ROMEO:' a.txt || fail "$scheme: the output does not start with the prompt: $(cat a.txt)"
  grep -Eq '^generate: [0-9]+ prompt tokens, [0-9]+ new.*time to first token [0-9.]+ ms; decode [0-9.]+ tokens/s' a.err ||
    fail "$scheme: no timing line: $(cat a.err)"
  for seed in 1 1; do
    "$RUNNER" generate "hf-$scheme" --prompt "ROMEO:" --max-new 12 --temperature 0.9 --top-p 0.8 --seed $seed \
      --threads 1 2> /dev/null
  done > s.txt
  [ "$(sed -n 1p s.txt)" = "$(sed -n 2p s.txt)" ] || fail "$scheme: the same seed sampled different texts"
done
echo "generate: greedy and seeded sampling deterministic for none, shared-ffn, immediate"

# Bad arguments: one line, exit 2.
bad() {
  local want="$1"; shift
  set +e
  "$RUNNER" generate "$@" > /dev/null 2> err.txt
  local rc=$?
  set -e
  [ $rc -eq 2 ] || fail "generate $*: exit $rc, expected 2"
  [ "$(wc -l < err.txt)" -eq 1 ] || fail "generate $*: expected one line, got: $(cat err.txt)"
  grep -q -- "$want" err.txt || fail "generate $*: '$want' not in: $(cat err.txt)"
}
bad "max_seq_len" hf-none --prompt "ROMEO:" --max-new 100000
bad "--top-p 0: expected a number in (0, 1]" hf-none --prompt x --top-p 0
bad "--max-new 0: expected an integer >= 1" hf-none --prompt x --max-new 0
bad "no such" nowhere --prompt x
echo "generate: bad arguments exit 2 with one line"
