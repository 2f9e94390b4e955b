#!/usr/bin/env bash
# CLI contract: unknown names and bad values give one line naming them, exit code 2; --help works
# on every command.
set -u
RUNNER="$1"
fail=0; passed=0
expect() {  # expect CODE PATTERN -- ARGS...
  local code="$1" pattern="$2"; shift 3
  local out; out=$("$RUNNER" "$@" 2>&1); local rc=$?
  if [ "$rc" != "$code" ] || ! grep -qF -- "$pattern" <<<"$out"; then
    echo "FAIL: runner $* -> rc=$rc (want $code), output: $out (want: $pattern)"; fail=$((fail+1))
  else passed=$((passed+1)); fi
  if [ "$code" = 2 ] && [ "$(wc -l <<<"$out")" != 1 ]; then echo "FAIL: runner $*: error is not one line: $out"; fail=$((fail+1)); fi
}
expect 2 "unknown preset 'nope'; known: baseline1, baseline2" -- describe nope
expect 2 "unknown model key 'd_modle'; known: n_layers, d_model" -- describe debug --set d_modle=3
expect 2 "model key 'd_model': 'x' is not an integer" -- describe debug --set d_model=x
expect 2 "mobillama-0.8b-paper: d_model 2532 is not divisible by n_heads 32" -- describe mobillama-0.8b-paper
expect 2 "unknown command 'trian'; known: presets, describe" -- trian
expect 2 "unknown scheme 'shared'; known: none, shared-ffn" -- describe debug --set scheme=shared
expect 2 "unrecognised option '--bogus'" -- presets --bogus
expect 0 "unique" -- describe mobillama-0.8b-paper --set n_heads=6 --set n_kv_heads=6
for cmd in presets describe export logits; do expect 0 "usage: runner $cmd" -- $cmd --help; done
expect 2 "--set train.lrr=1: train.lrr: unknown key (known: lr, min_lr" -- train debug --data /nonexistent --set train.lrr=1
expect 2 "train.micro_batch: expected an integer, got float 2.5" -- train debug --data /nonexistent --set train.micro_batch=2.5
expect 0 "124.6M" -- describe mobilellm-125m
# One progress flag everywhere; prepare's old -q says what replaced it.
for cmd in "data prepare" train resume eval sweep; do expect 0 "--no-progress" -- $cmd --help; done
expect 2 "error: data prepare: -q is now --no-progress" -- data prepare -q --mix m.toml --out d
# Validation asked of data without val rows: refused before a run row or run folder is written.
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for i in $(seq 1 20); do echo '{"token_ids": [1, 2, 3, 4, 5, 6, 7, 8, 9]}'; done >"$tmp/a.jsonl"
printf '[mix]\nseq_len = 8\nval_fraction = 0\nvocab_size = 100\n[[source]]\nname = "a"\npath = "a.jsonl"\nreader = "amber-jsonl"\n' >"$tmp/mix.toml"
"$RUNNER" data prepare --no-progress --mix "$tmp/mix.toml" --out "$tmp/data" >/dev/null
expect 2 "$tmp/data: no validation rows, but train.val_batches = 20" -- train debug --data "$tmp/data" --db "$tmp/r.db" --runs-dir "$tmp/runs" --set train.seq_len=8
if [ -e "$tmp/r.db" ] || [ -e "$tmp/runs" ]; then echo "FAIL: a refused run left $(ls "$tmp")"; fail=$((fail+1)); else passed=$((passed+1)); fi
# A device this machine has not: refused before any row, whichever LibTorch (CI has no GPU).
if ! nvidia-smi -L >/dev/null 2>&1; then
  expect 2 "train.device 'cuda': this LibTorch" -- train debug --data "$tmp/data" --db "$tmp/r.db" --runs-dir "$tmp/runs" --set train.seq_len=8 --set train.val_batches=0 --set train.device=cuda
fi
expect 2 "train.device 'gpu' must be cpu, cuda or cuda:N" -- train debug --data "$tmp/data" --db "$tmp/r.db" --runs-dir "$tmp/runs" --set train.seq_len=8 --set train.val_batches=0 --set train.device=gpu
# Data parallel: a launcher's variables incomplete or a batch that does not divide among the ranks.
RANK=0 WORLD_SIZE=2 expect 2 "WORLD_SIZE=2 but MASTER_ADDR is not set" -- train debug --data "$tmp/data" --db "$tmp/r.db" --runs-dir "$tmp/runs" --set train.seq_len=8 --set train.val_batches=0
RANK=0 WORLD_SIZE=3 MASTER_ADDR=127.0.0.1 MASTER_PORT=1 expect 2 "they do not divide among 3 data-parallel ranks" -- train debug --data "$tmp/data" --db "$tmp/r.db" --runs-dir "$tmp/runs" --set train.seq_len=8 --set train.val_batches=0 --set train.global_batch_tokens=64 --set train.micro_batch=8
SLURM_PROCID=0 SLURM_NTASKS=2 expect 2 "SLURM_NTASKS=2 but neither MASTER_ADDR nor SLURM_JOB_NODELIST is set" -- train debug --data "$tmp/data" --db "$tmp/r.db" --runs-dir "$tmp/runs" --set train.seq_len=8 --set train.val_batches=0
expect 2 "--nproc '0': expected a number of processes (1..256)" -- train debug --data "$tmp/data" --nproc 0
WORLD_SIZE=2 RANK=0 MASTER_ADDR=127.0.0.1 MASTER_PORT=1 expect 2 "--nproc: already started by a launcher" -- train debug --data "$tmp/data" --nproc 2
if [ -e "$tmp/r.db" ] || [ -e "$tmp/runs" ]; then echo "FAIL: a refused device left $(ls "$tmp")"; fail=$((fail+1)); else passed=$((passed+1)); fi
# Export and import: a bad dtype, a model without a vocabulary for GGUF, a broken HF directory; no
# partial output left behind.
expect 2 "--dtype = 'int4': expected f32, bf16 or f16" -- export debug --hf "$tmp/hf" --dtype int4
expect 2 "--gguf: llama.cpp needs the vocabulary; give --tokenizer FILE" -- export debug --gguf "$tmp/m.gguf"
expect 2 "nope.h5: no such run directory, checkpoint file or HF model directory" -- export nope.h5 --hf "$tmp/hf"
"$RUNNER" export debug --hf "$tmp/hf" >/dev/null
sed -i 's/"intermediate_size": 176/"intermediate_size": 200/' "$tmp/hf/config.json"
expect 2 "$tmp/hf/model.safetensors: tensor 'model.layers.0.mlp.down_proj.weight' has shape [64, 176], but $tmp/hf/config.json implies [64, 200]" -- logits "$tmp/hf" --tokens 1,2 --out "$tmp/x.npy"
sed -i 's/"intermediate_size": 200/"intermediate_size": 176/; s/"silu"/"gelu"/' "$tmp/hf/config.json"
expect 2 "$tmp/hf/config.json: field 'hidden_act' is \"gelu\", expected \"silu\"" -- logits "$tmp/hf" --tokens 1,2 --out "$tmp/x.npy"
sed -i 's/"gelu"/"silu"/' "$tmp/hf/config.json"
mv "$tmp/hf/model.safetensors" "$tmp/moved.safetensors"
expect 2 "$tmp/hf/model.safetensors: cannot open safetensors file" -- logits "$tmp/hf" --tokens 1,2 --out "$tmp/x.npy"
mv "$tmp/moved.safetensors" "$tmp/hf/model.safetensors"
expect 2 "train.init_from = '$tmp/none': neither an HF model directory" -- train debug --data "$tmp/data" --db "$tmp/r.db" --runs-dir "$tmp/runs" --set train.seq_len=8 --set train.val_batches=0 --init-from "$tmp/none"
"$RUNNER" export debug --set scheme=shared-ffn --hf "$tmp/hf2" >/dev/null
# A preset whose name looks like a file with an extension is still the preset (shrunk to stay small).
"$RUNNER" export mobillama-0.5b --set d_model=64 --set n_heads=4 --set n_kv_heads=4 --set ffn_dim=128 --set vocab_size=256 --out "$tmp/dotted.h5" >/dev/null \
  && [ -s "$tmp/dotted.h5" ] && passed=$((passed+1)) || { echo "FAIL: runner export mobillama-0.5b"; fail=$((fail+1)); }
rm -f "$tmp/dotted.h5"
sed -i 's/"scheme": "shared-ffn"/"scheme": "none"/' "$tmp/hf2/config.json"  # a layout from another scheme
expect 2 "$tmp/hf2/config.json: field 'sharelab.layout' differs from scheme 'none'" -- logits "$tmp/hf2" --tokens 1,2 --out "$tmp/x.npy"
expect 2 "'model.layers.1.mlp.gate_proj.weight' differs from 'model.layers.0.mlp.gate_proj.weight' but scheme 'shared-ffn' shares them" -- train debug --data "$tmp/data" --db "$tmp/r.db" --runs-dir "$tmp/runs" --set train.seq_len=8 --set train.val_batches=0 --set model.scheme=shared-ffn --init-from "$tmp/hf"
leftovers=$(ls -a "$tmp" | grep -c "tmp-" || true)
if [ "$leftovers" != 0 ] || [ -e "$tmp/x.npy" ] || [ -e "$tmp/m.gguf" ] || [ -e "$tmp/r.db" ] || [ -e "$tmp/runs" ]; then echo "FAIL: partial output left: $(ls -a "$tmp")"; fail=$((fail+1)); else passed=$((passed+1)); fi
echo "$passed passed, $fail failed"
[ "$fail" = 0 ]
