#!/usr/bin/env bash
# Training faults through the real `runner` (issue 18), each against an uninterrupted reference run
# (final train loss printed with 17 digits: bit-identical when equal):
#  1. one SIGINT: checkpoint at the next step boundary, exit 75, `runner resume` ends bit-exact;
#  2. two SIGTERMs (and two SIGINTs) at once: exit 143 (130) immediately, no partial file under a
#     final name, the latest checkpoint loads and the resume ends bit-exact;
#  3. a non-finite step (SHARELAB_FAULT_NONFINITE): exit 1 naming the step, the last good checkpoint
#     kept (the resume ends bit-exact); train.skip_nonfinite = 1 skips it and counts it in the results
#     database; a bad train.skip_nonfinite is refused (exit 2);
#  4. a file-size limit (as a full disk) at a checkpoint: exit 1 naming the file and the OS error,
#     `latest` and the previous checkpoint intact;
#  5. a flipped byte in the checkpoint, in a shard or in an exported weights file: exit 2, "checksum
#     mismatch" naming the file and the dataset (resume, train, `data inspect --verify`, `export`
#     of the file, `logits --weights`);
#  6. `data prepare` under a file-size limit (as a full disk): exit 1 naming the shard and the OS
#     error; the existing output folder as it was, no new one, no temporary folder left.
set -euo pipefail
RUNNER="$1"
WORK="$2"
source "$(dirname "$0")/shakespeare.sh"
shakespeare_data 150

fail() { echo "FAIL: $*"; exit 1; }
final() { grep '^final_train_loss ' "$1" | cut -d' ' -f2; }
# Steps of ~50 ms (2048 tokens of an 8-layer model): a signal lands mid-run, two land in one step.
SETS=(--set model.scheme=shared-ffn --set model.n_layers=8 --set train.seq_len=64 --set train.micro_batch=8
      --set train.global_batch_tokens=2048 --set train.tokens=81920 --set train.warmup_steps=4 --set train.lr=3e-3
      --set train.checkpoint_every_tokens=8192 --set train.val_batches=0 --set train.threads=1
      --set train.precision=bf16 --no-progress)

"$RUNNER" train debug --data data "${SETS[@]}" --runs-dir full --no-db > full.out 2> full.err || { cat full.err; fail "reference run"; }
WANT=$(final full.out)
[ -n "$WANT" ] || fail "no final loss in the reference run"

# Starts a run in runs dir $1 (background, $PID) and waits for its first checkpoint.
start() {
  "$RUNNER" train debug --data data "${SETS[@]}" --runs-dir "$1" --no-db > "$1.out" 2> "$1.err" &
  PID=$!
  for _ in $(seq 1 1200); do
    ls "$1"/*/latest > /dev/null 2>&1 && return 0
    kill -0 "$PID" 2> /dev/null || { cat "$1.err"; fail "$1: the run ended before its first checkpoint"; }
    sleep 0.02
  done
  fail "$1: no checkpoint after 24 s"
}
finish() {  # $1: runs dir; resumes the run and compares its final loss
  local run
  run=$(basename "$(dirname "$(ls "$1"/*/latest)")")
  ls "$1/$run" | grep -q 'tmp-' && fail "$1: a temporary file was left: $(ls "$1/$run")"
  "$RUNNER" resume "$run" --runs-dir "$1" --no-db --no-progress > "$1.resumed.out" 2> "$1.resumed.err" ||
    { cat "$1.resumed.err"; fail "$1: resume"; }
  [ "$(final "$1.resumed.out")" = "$WANT" ] || fail "$1: resumed final loss $(final "$1.resumed.out"), want $WANT"
}

# 1. One SIGINT.
start int1
kill -INT "$PID"
RC=0; wait "$PID" || RC=$?
[ "$RC" = 75 ] || { cat int1.err; fail "one SIGINT: exit $RC, want 75"; }
grep -q "stopping at step [0-9]* on SIGINT" int1.err || { cat int1.err; fail "one SIGINT: no stop line"; }
finish int1
echo "one SIGINT: $(grep -o 'stopping at step [0-9]*' int1.err), exit 75; resumed bit-exact"

# 2. Two signals in quick succession: the second exits at once. Steps of ~2 s here, and the signals
# sent right after a checkpoint appears: both land within one step (two identical signals that
# arrive before the first is taken would merge into one).
SLOW=(--set model.scheme=shared-ffn --set model.n_layers=8 --set train.seq_len=64 --set train.micro_batch=8
      --set train.global_batch_tokens=32768 --set train.tokens=98304 --set train.warmup_steps=1 --set train.lr=3e-3
      --set train.checkpoint_every_tokens=32768 --set train.val_batches=0 --set train.threads=1
      --set train.precision=bf16 --no-progress)
"$RUNNER" train debug --data data "${SLOW[@]}" --runs-dir slow --no-db > slow.out 2> slow.err || { cat slow.err; fail "slow reference"; }
for sig in INT TERM; do
  "$RUNNER" train debug --data data "${SLOW[@]}" --runs-dir "two$sig" --no-db > "two$sig.out" 2> "two$sig.err" &
  PID=$!
  for _ in $(seq 1 2000); do
    ls "two$sig"/*/latest > /dev/null 2>&1 && break
    sleep 0.01
  done
  kill -"$sig" "$PID"; sleep 0.1; kill -"$sig" "$PID"
  RC=0; wait "$PID" || RC=$?
  want=$([ $sig = TERM ] && echo 143 || echo 130)
  [ "$RC" = "$want" ] || { cat "two$sig.err"; fail "two SIG$sig: exit $RC, want $want"; }
  grep -q "second stop signal (SIG$sig): exiting at once" "two$sig.err" || { cat "two$sig.err"; fail "two SIG$sig: no line"; }
  [ "$(cat two$sig/*/latest)" = ckpt-000000001.h5 ] || fail "two SIG$sig: latest is $(cat two$sig/*/latest)"
  WANT=$(final slow.out) finish "two$sig"
  echo "two SIG$sig: exit $RC at once; the step-1 checkpoint resumed bit-exact"
done

# 3. A non-finite step: stopped, named; the last good checkpoint resumes bit-exact. Skipped and counted.
RC=0
SHARELAB_FAULT_NONFINITE=10 "$RUNNER" train debug --data data "${SETS[@]}" --runs-dir nan --no-db > nan.out 2> nan.err || RC=$?
[ "$RC" = 1 ] || { cat nan.err; fail "non-finite step: exit $RC, want 1"; }
grep -q "runner: error: run [0-9a-f]* ('debug'): step 10: loss inf and gradient norm nan are not all finite; stopped.*ckpt-000000008.h5$" nan.err ||
  { cat nan.err; fail "non-finite step: message"; }
[ "$(cat nan/*/latest)" = ckpt-000000008.h5 ] || fail "non-finite step: latest is $(cat nan/*/latest)"
finish nan
echo "non-finite step 10: exit 1, the step-8 checkpoint kept and resumed bit-exact"
SHARELAB_FAULT_NONFINITE=10 "$RUNNER" train debug --data data "${SETS[@]}" --set train.skip_nonfinite=1 --runs-dir skip \
  --db skip.db > skip.out 2> skip.err || { cat skip.err; fail "train.skip_nonfinite = 1"; }
grep -q "step 10: loss inf / gradient norm nan not finite: update skipped, its data consumed (1 of train.skip_nonfinite = 1)" skip.err ||
  { cat skip.err; fail "no skip line"; }
[ "$(sqlite3 skip.db "select value from scalars where key = 'nonfinite_skipped_steps'")" = 1.0 ] ||
  fail "nonfinite_skipped_steps: $(sqlite3 skip.db "select key, value from scalars")"
[ "$(sqlite3 skip.db "select status from runs")" = finished ] || fail "skip: run not finished"
for bad in -1 1.5; do
  RC=0
  "$RUNNER" train debug --data data "${SETS[@]}" --set train.skip_nonfinite=$bad --runs-dir bad --no-db > bad.out 2> bad.err || RC=$?
  [ "$RC" = 2 ] && [ "$(wc -l < bad.err)" = 1 ] && grep -q "skip_nonfinite" bad.err || { cat bad.err; fail "skip_nonfinite=$bad: exit $RC"; }
done
echo "train.skip_nonfinite = 1: the step skipped, counted (nonfinite_skipped_steps 1), the run finished; -1 and 1.5 refused"

# 4. A file-size limit at the second checkpoint (as a full disk).
"$RUNNER" train debug --data data "${SETS[@]}" --runs-dir disk --no-db --stop-after-tokens 1 > disk1.out 2> disk1.err ||
  { cat disk1.err; fail "disk: first part"; }
RUN=$(basename "$(dirname "$(ls disk/*/latest)")")
BLOCKS=$(( $(stat -c %s "disk/$RUN/ckpt-000000004.h5") / 2048 ))  # ulimit -f counts 1024-byte blocks
RC=0
( ulimit -f "$BLOCKS"; exec "$RUNNER" resume "$RUN" --runs-dir disk --no-db --no-progress ) > disk2.out 2> disk2.err || RC=$?
[ "$RC" = 1 ] || { cat disk2.err; fail "full disk: exit $RC, want 1"; }
grep -q "disk/$RUN/ckpt-000000008.h5: write failed after .* bytes: File too large" disk2.err || { cat disk2.err; fail "full disk: message"; }
[ "$(ls "disk/$RUN")" = "$(printf 'ckpt-000000004.h5\nconfig.json\nlatest')" ] || fail "full disk: left $(ls "disk/$RUN")"
finish disk
echo "file-size limit at a checkpoint: exit 1 naming the file and EFBIG; latest intact, resumed bit-exact"

# 5. Flipped bytes: a checkpoint (mid-file: tensor data) and a shard (its tokens).
flip() { /usr/bin/python3 -c "import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); i=int(len(b)*float(sys.argv[2])); b[i]^=0x10; open(p,'wb').write(b)" "$1" "$2"; }
CK="disk/$RUN/$(cat "disk/$RUN/latest")"
flip "$CK" 0.5
RC=0
"$RUNNER" resume "$RUN" --runs-dir disk --no-db --no-progress > crc.out 2> crc.err || RC=$?
[ "$RC" = 2 ] && grep -q "$CK: dataset '.*': checksum mismatch" crc.err || { cat crc.err; fail "flipped checkpoint byte: exit $RC"; }
cp -r data data-bad
flip data-bad/train-00000.h5 0.6
RC=0
"$RUNNER" train debug --data data-bad "${SETS[@]}" --runs-dir crc --no-db > crc2.out 2> crc2.err || RC=$?
[ "$RC" = 2 ] && grep -q "data-bad/train-00000.h5: dataset 'tokens': checksum mismatch" crc2.err || { cat crc2.err; fail "flipped shard byte: exit $RC"; }
ls crc/*/latest > /dev/null 2>&1 && fail "trained on a corrupt shard"
"$RUNNER" data inspect data --verify > inspect.out 2> inspect.err || { cat inspect.err; fail "data inspect --verify on good shards"; }
grep -q "^verified [0-9]* shards .*: every layout and checksum matches$" inspect.out || { cat inspect.out; fail "inspect --verify: no verified line"; }
RC=0
"$RUNNER" data inspect data-bad --verify > inspect-bad.out 2> inspect-bad.err || RC=$?
[ "$RC" = 2 ] && [ "$(wc -l < inspect-bad.err)" = 1 ] && [ ! -s inspect-bad.out ] &&
  grep -q "data-bad/train-00000.h5: dataset 'tokens': checksum mismatch" inspect-bad.err || { cat inspect-bad.err; fail "inspect --verify of a corrupt shard: exit $RC"; }
"$RUNNER" data inspect data-bad > /dev/null || fail "data inspect without --verify reads only the manifest"
# An exported native weights file: loaded by `export FILE` (arch::read_tensor_file) and `logits --weights`
# (arch::load_weights, TensorFileReader).
"$RUNNER" export debug --set vocab_size=256 --out w.h5 > /dev/null 2> w.err || { cat w.err; fail "export --out"; }
"$RUNNER" export w.h5 --out w2.h5 > /dev/null 2> w.err || { cat w.err; fail "export of a good weights file"; }
flip w.h5 0.5
for cmd in "export w.h5 --out w3.h5" "logits debug --set vocab_size=256 --weights w.h5 --tokens 1,2,3 --out l.npy"; do
  RC=0
  # shellcheck disable=SC2086
  "$RUNNER" $cmd > w.out 2> w.err || RC=$?
  [ "$RC" = 2 ] && [ "$(wc -l < w.err)" = 1 ] && grep -q "^runner: error: w.h5: dataset '.*': checksum mismatch" w.err ||
    { cat w.err; fail "flipped byte in a weights file, runner $cmd: exit $RC"; }
done
[ ! -e w3.h5 ] && [ ! -e l.npy ] || fail "an output was written from a corrupt weights file"
echo "flipped bytes: checkpoint, shard (train, data inspect --verify) and weights file (export, logits) refused (exit 2, file and dataset named)"

# 6. `data prepare` under a file-size limit: 150 rows of 65 uint16 tokens make a ~20 kB shard, the limit is 8 kB.
before=$(cd data && ls -l --time-style=+%s && md5sum ./*)
for out in data fresh; do
  RC=0
  ( ulimit -f 8; exec "$RUNNER" data prepare --mix mix.toml --out "$out" --no-progress ) > prep.out 2> prep.err || RC=$?
  [ "$RC" = 1 ] && [ "$(wc -l < prep.err)" = 1 ] || { cat prep.err; fail "prepare under a file-size limit (--out $out): exit $RC, want 1 and one line"; }
  grep -q "^runner: error: $out.tmp-[0-9]*/train-00000.h5: write failed after .* bytes: File too large" prep.err ||
    { cat prep.err; fail "prepare under a file-size limit (--out $out): message"; }
  ls -d "$out".* 2> /dev/null && fail "prepare under a file-size limit left $(ls -d "$out".*)"
done
[ ! -e fresh ] || fail "prepare under a file-size limit created fresh/: $(ls fresh)"
[ "$(cd data && ls -l --time-style=+%s && md5sum ./*)" = "$before" ] || fail "prepare under a file-size limit changed data/"
echo "data prepare under a file-size limit: exit 1 naming the shard and EFBIG; data/ as it was, nothing new left"
echo PASS
