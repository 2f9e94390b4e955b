#!/usr/bin/env bash
# SIGKILL a `runner train` after its first checkpoint, `runner resume` it, and compare the final
# train loss with an uninterrupted run of the same config: equal as printed with 17 significant
# digits (bit-identical doubles). Data: tiny-shakespeare bytes as Amber rows (`runner data
# prepare`). No validation here: prepare's hash split currently sends every row of a small Amber
# file to train; test_train_shards covers validation across a resume.
set -euo pipefail
RUNNER="$1"
WORK="$2"
source "$(dirname "$0")/shakespeare.sh"
shakespeare_data 150  # rows of 65 byte ids (seq_len 64) from the start of the play

SETS=(--set model.scheme=shared-ffn --set model.n_layers=8 --set train.seq_len=64 --set train.micro_batch=4
      --set train.global_batch_tokens=512 --set train.tokens=20480 --set train.warmup_steps=4 --set train.lr=3e-3
      --set train.checkpoint_every_tokens=4096 --set train.val_batches=0
      --set train.threads=1 --set train.precision=bf16)

# Uninterrupted reference, in its own runs dir and database.
"$RUNNER" train debug --data data "${SETS[@]}" --runs-dir full --db full.db > full.out 2> full.err
# Progress into a file: whole lines, the last one the final count.
if grep -q $'\r' full.err || ! tail -1 full.err | grep -q "40/40 steps (100%)"; then
  echo "FAIL: progress in a log"; cat -A full.err; exit 1
fi

# The same run, killed once its first checkpoint is on disk.
"$RUNNER" train debug --data data "${SETS[@]}" --runs-dir killed --db killed.db > killed.out 2> killed.err &
PID=$!
for _ in $(seq 1 600); do
  if ls killed/*/latest > /dev/null 2>&1; then break; fi
  if ! kill -0 "$PID" 2> /dev/null; then echo "FAIL: run ended before its first checkpoint"; exit 1; fi
  sleep 0.05
done
kill -9 "$PID" 2> /dev/null || true
wait "$PID" 2> /dev/null || true
RUN_DIR=$(dirname "$(ls killed/*/latest)")
RUN_ID=$(basename "$RUN_DIR")
if grep -q final_train_loss killed.out; then echo "FAIL: the killed run finished before the kill"; exit 1; fi
STATUS=$(sqlite3 killed.db "select status from runs where run_id='$RUN_ID'")
[ "$STATUS" = running ] || { echo "FAIL: killed run has status '$STATUS', want running"; exit 1; }

# Resume by id (runs dir given) and compare.
"$RUNNER" resume "$RUN_ID" --runs-dir killed --db killed.db > resumed.out 2> resumed.err
grep -q "resumed from" resumed.err || { echo "FAIL: resume did not start from a checkpoint"; cat resumed.err; exit 1; }
for key in final_train_loss; do
  want=$(grep "^$key " full.out | cut -d' ' -f2)
  got=$(grep "^$key " resumed.out | cut -d' ' -f2)
  if [ -z "$want" ] || [ "$want" != "$got" ]; then echo "FAIL: $key uninterrupted '$want' vs resumed '$got'"; exit 1; fi
  echo "$key $got (equal)"
done
STATUS=$(sqlite3 killed.db "select status from runs where run_id='$RUN_ID'")
[ "$STATUS" = finished ] || { echo "FAIL: resumed run has status '$STATUS', want finished"; exit 1; }
N=$(sqlite3 killed.db "select count(*) from series where run_id='$RUN_ID' and split='train'")
M=$(sqlite3 full.db "select count(*) from series where split='train'")
[ "$N" = "$M" ] || { echo "FAIL: $N train series points after resume, $M uninterrupted"; exit 1; }
echo "PASS"
