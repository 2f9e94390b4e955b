#!/usr/bin/env bash
# Data parallel on c10d + Gloo, launched by real torchrun (Debian's `python3 -m torch.distributed.run`)
# and by `runner --nproc`, on tiny-shakespeare bytes (seq 64, global batch 8 rows, fp32, one thread):
#  1. 2 ranks x micro 4 == 1 rank x micro 8 (one config: train.micro_batch = 8 is split per rank):
#     every step's train loss within 1e-5 relative over 20 steps, for none, shared-ffn, immediate;
#     torchrun's two stores (rank 0's with --standalone, the elastic agent's with a static port).
#  2. resume 2 -> 1 and 1 -> 2 ranks: the rows each part trained on (SHARELAB_ROW_TRACE) cover the
#     global stream exactly once, and the final loss agrees with an uninterrupted run.
#  3. kill -9 one rank: the job ends within the timeout with a line naming it; `runner resume` at 2
#     ranks ends with the uninterrupted 2-rank run's final loss, bit for bit.
#  4. SIGTERM (Slurm preemption): rank 0 checkpoints, every rank exits 75; the resume finishes bit-exact.
set -euo pipefail
trap 'echo "FAIL: line $LINENO: $BASH_COMMAND exited $?"' ERR  # no silent exits under set -e
RUNNER="$1"
WORK="$2"
# The Python whose torch matches the runner's LibTorch: torchrun's elastic agent hosts the store,
# and a 2.x TCPStore client does not talk to a 1.13 server. Default: Debian's (1.13).
read -r -a TORCH_PY <<< "${3:-/usr/bin/python3}"
"${TORCH_PY[@]}" -c 'import torch.distributed.run' 2> /dev/null || { echo "SKIP: no torchrun in ${TORCH_PY[*]}"; exit 77; }
source "$(dirname "$0")/shakespeare.sh"
fail() { echo "FAIL: $*"; exit 1; }
shakespeare_data 300

# 8 rows of 64 tokens per step; 20 steps unless a test says otherwise. A peer that does not answer
# for --dist-timeout seconds ends the job (default 600).
COMMON=(--data data --set model.n_layers=4 --set train.seq_len=64 --set train.micro_batch=8
      --set train.global_batch_tokens=512 --set train.tokens=10240 --set train.warmup_steps=4 --set train.lr=3e-3
      --set train.checkpoint_every_tokens=4096 --set train.val_batches=0 --set train.threads=1
      --set train.precision=fp32 --set train.log_every_steps=1 --no-progress)
BASE=("${COMMON[@]}" --dist-timeout 30)
# Debian's torchrun (1.13) on Python 3.11 cannot parse its default --redirects/--tee of 0 (IntFlag
# iteration skips the zero member): redirect and tee stderr (2) into --log_dir instead.
torchrun() { "${TORCH_PY[@]}" -m torch.distributed.run --no_python --nproc_per_node 2 -r 2 -t 2 --log_dir "$1" "${@:2}"; }
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
losses() { sqlite3 "$1" "select loss from series where split='train' order by step"; }
final() { grep '^final_train_loss ' "$1" | cut -d' ' -f2; }
# Per-step losses of two databases: the same steps, each within 1e-5 relative.
same_curve() {
  /usr/bin/python3 - "$1" "$2" "$3" <<'PY'
import sys
a = [float(x) for x in open(sys.argv[1]).read().split()]
b = [float(x) for x in open(sys.argv[2]).read().split()]
n = int(sys.argv[3])
assert len(a) == n and len(b) == n, f"steps: {len(a)} and {len(b)}, want {n}"
worst = max(abs(x - y) / abs(x) for x, y in zip(a, b))
assert worst <= 1e-5, f"max relative difference {worst:.3g} > 1e-5"
print(f"  {n} steps, max relative difference {worst:.2g}")
PY
}
# Row traces (SHARELAB_ROW_TRACE=PREFIX writes PREFIX.rank<r>: "first count" per micro-batch): the
# union over the given prefixes is rows 0..N-1, each exactly once.
rows_once() {
  local n="$1"; shift
  /usr/bin/python3 - "$n" "$@" <<'PY'
import glob, sys
n = int(sys.argv[1])
seen = []
for prefix in sys.argv[2:]:
    for f in glob.glob(prefix + ".rank*"):
        for line in open(f):
            first, count = map(int, line.split())
            seen += range(first, first + count)
dup = len(seen) - len(set(seen))
missing = sorted(set(range(n)) - set(seen))
assert dup == 0, f"{dup} rows trained twice"
assert not missing and len(seen) == n, f"rows missing: {missing[:5]}, {len(seen)} seen, want {n}"
print(f"  rows 0..{n - 1} each once")
PY
}

# 1. Two ranks equal one rank with twice the micro batch.
for scheme in none shared-ffn immediate; do
  S=(--set model.scheme=$scheme)
  [ "$scheme" = immediate ] && S+=(--set model.repeats=2)
  "$RUNNER" train debug "${BASE[@]}" "${S[@]}" --runs-dir one-$scheme --db one-$scheme.db > one-$scheme.out 2>&1
  if [ "$scheme" = shared-ffn ]; then  # a static endpoint: every rank a client of the agent's store
    torchrun logs-$scheme --master_port "$(free_port)" "$RUNNER" train debug "${BASE[@]}" "${S[@]}" \
      --runs-dir two-$scheme --db two-$scheme.db > two-$scheme.out 2> two-$scheme.err || { cat two-$scheme.err; fail "torchrun $scheme"; }
  else
    torchrun logs-$scheme --standalone "$RUNNER" train debug "${BASE[@]}" "${S[@]}" \
      --runs-dir two-$scheme --db two-$scheme.db > two-$scheme.out 2> two-$scheme.err || { cat two-$scheme.err; fail "torchrun $scheme"; }
  fi
  [ "$(sqlite3 two-$scheme.db 'select world_size from runs')" = 2 ] || fail "$scheme: runs.world_size is not 2"
  [ "$(sqlite3 one-$scheme.db 'select world_size from runs')" = 1 ] || fail "$scheme: runs.world_size is not 1"
  losses one-$scheme.db > one-$scheme.loss
  losses two-$scheme.db > two-$scheme.loss
  echo "$scheme: 1 rank x 8 rows vs 2 ranks x 4 rows (torchrun)"
  same_curve one-$scheme.loss two-$scheme.loss 20 || fail "$scheme: loss curves differ"
done

# 1b. Slurm's variables, as srun sets them for 2 tasks on one node (no Slurm here): master = the first
# host of SLURM_JOB_NODELIST, port = 15000 + the job id's last 4 digits.
PORT=$(/usr/bin/python3 - <<'PY'
import random, socket
for _ in range(1000):  # a port in Slurm's range 15000..24999 that nobody listens on now
    p = random.randrange(15000, 25000)
    try:
        socket.create_server(("127.0.0.1", p)).close()
        print(p)
        break
    except OSError:
        pass
PY
)
for r in 0 1; do
  env SLURM_PROCID=$r SLURM_LOCALID=$r SLURM_NTASKS=2 SLURM_NTASKS_PER_NODE=2 SLURM_JOB_NODELIST='localhost' \
    SLURM_JOB_ID=$((PORT - 15000 + 70000)) "$RUNNER" train debug "${BASE[@]}" --set model.scheme=none \
    --runs-dir slurm --no-db > slurm$r.out 2> slurm$r.err &
done
wait %1 || { cat slurm0.err; fail "Slurm rank 0"; }
wait %2 || { cat slurm1.err; fail "Slurm rank 1"; }
[ ! -s slurm1.out ] || fail "Slurm rank 1 printed the result (rank 0's job)"
/usr/bin/python3 -c 'import sys; a, b = map(float, sys.argv[1:]); assert abs(a - b) / a <= 1e-5, (a, b)' \
  "$(final slurm0.out)" "$(final one-none.out)" || fail "Slurm-launched final loss"
echo "Slurm variables (srun): final loss $(final slurm0.out) vs one rank $(final one-none.out)"

# 2. Resume across world sizes: stop at the first checkpoint past 4096 tokens (step 8), resume with
# the other world size; the rows of both parts cover the 20 steps' 160 rows once.
R=(--set model.scheme=shared-ffn)
SHARELAB_ROW_TRACE=$PWD/a21 "$RUNNER" train debug "${BASE[@]}" "${R[@]}" --runs-dir r21 --no-db --nproc 2 \
  --stop-after-tokens 4096 > a21.out 2>&1 || fail "2 -> 1: first part"
RUN=$(basename "$(dirname "$(ls r21/*/latest)")")
SHARELAB_ROW_TRACE=$PWD/b21 "$RUNNER" resume "$RUN" --runs-dir r21 --no-db --no-progress > b21.out 2>&1 || fail "2 -> 1: resume"
echo "resume 2 -> 1 ranks"
rows_once 160 "$PWD/a21" "$PWD/b21" || fail "2 -> 1: rows"
SHARELAB_ROW_TRACE=$PWD/a12 "$RUNNER" train debug "${BASE[@]}" "${R[@]}" --runs-dir r12 --no-db \
  --stop-after-tokens 4096 > a12.out 2>&1 || fail "1 -> 2: first part"
SHARELAB_ROW_TRACE=$PWD/b12 "$RUNNER" resume "$RUN" --runs-dir r12 --no-db --no-progress --nproc 2 > b12.out 2>&1 ||
  { cat b12.out; fail "1 -> 2: resume"; }
echo "resume 1 -> 2 ranks"
rows_once 160 "$PWD/a12" "$PWD/b12" || fail "1 -> 2: rows"
/usr/bin/python3 - "$(final one-shared-ffn.out)" "$(final b21.out)" "$(final b12.out)" <<'PY' || fail "resumed final losses"
import sys
want, *got = map(float, sys.argv[1:])
assert all(abs(g - want) / want <= 1e-5 for g in got), f"final losses {got} vs uninterrupted {want}"
PY

# 3. kill -9 rank 1 after the first checkpoint (80 steps, a checkpoint every 8).
LONG=("${COMMON[@]}" --set train.tokens=40960 --set model.scheme=shared-ffn --dist-timeout 10)
torchrun logs-full --standalone "$RUNNER" train debug "${LONG[@]}" --runs-dir full --no-db > full.out 2> full.err ||
  { cat full.err; fail "uninterrupted 2-rank run"; }
torchrun logs-kill --standalone "$RUNNER" train debug "${LONG[@]}" --runs-dir "$PWD/dp-killed" --no-db \
  > killed.out 2> killed.err &
LAUNCHER=$!
for _ in $(seq 1 600); do
  ls dp-killed/*/latest > /dev/null 2>&1 && break
  kill -0 "$LAUNCHER" 2> /dev/null || fail "the run ended before its first checkpoint"
  sleep 0.05
done
# (No pipes into grep -q or head here: under pipefail a writer cut short by SIGPIPE fails the line.)
RANK1=""
# This run's ranks only: train_kill_resume.sh (maybe running beside this test) has its own "killed".
for p in $(pgrep -f -- "--runs-dir $PWD/dp-killed" || true); do
  environ=$(tr '\0' '\n' < "/proc/$p/environ" 2> /dev/null || true)
  if grep -qx RANK=1 <<< "$environ"; then RANK1=$p; break; fi
done
[ -n "$RANK1" ] || fail "no rank 1 process found"
START=$(date +%s)
kill -9 "$RANK1" || fail "rank 1 ($RANK1) was gone before the kill"
wait "$LAUNCHER" && fail "torchrun exited 0 after a rank was killed"
ELAPSED=$(( $(date +%s) - START ))
[ "$ELAPSED" -le 40 ] || fail "the job took ${ELAPSED}s to end after the kill (timeout 10 s + torchrun's grace)"
grep -q "rank 1 is gone" killed.err || { cat killed.err; fail "no line names rank 1"; }
grep -m1 "rank 1 is gone" killed.err
RUN=$(basename "$(dirname "$(ls dp-killed/*/latest)")")
torchrun logs-resume --standalone "$RUNNER" resume "$RUN" --runs-dir dp-killed --no-db --no-progress > resumed.out 2> resumed.err ||
  { cat resumed.err; fail "resume after the kill"; }
[ "$(final full.out)" = "$(final resumed.out)" ] || fail "after kill + resume: $(final resumed.out) vs $(final full.out)"
echo "kill -9 rank 1, resume at 2 ranks: final loss $(final resumed.out), bit-exact"

# 4. SIGTERM to the job (as Slurm's preemption): a checkpoint, exit 75 from every rank, then resume.
"$RUNNER" train debug "${LONG[@]}" --runs-dir pre --no-db --nproc 2 > pre.out 2> pre.err &
LAUNCHER=$!
for _ in $(seq 1 600); do
  ls pre/*/latest > /dev/null 2>&1 && break
  sleep 0.05
done
kill -TERM "$LAUNCHER"
RC=0
wait "$LAUNCHER" || RC=$?
[ "$RC" = 75 ] || { cat pre.err; fail "preempted job exited $RC, want 75"; }
grep -q "stopping at step" pre.err || fail "no stop line"
RUN=$(basename "$(dirname "$(ls pre/*/latest)")")
"$RUNNER" resume "$RUN" --runs-dir pre --no-db --no-progress --nproc 2 > pre2.out 2>&1 || fail "resume after preemption"
[ "$(final full.out)" = "$(final pre2.out)" ] || fail "after preemption + resume: $(final pre2.out) vs $(final full.out)"
echo "SIGTERM: $(grep -o 'stopping at step [0-9]*' pre.err), exit 75; resumed bit-exact"
# 4b. A checkpoint rank 0 cannot write (its file name taken by a folder) ends every rank at that
# point, at once, not after --dist-timeout in mismatched collectives.
mkdir -p "cw/$RUN/ckpt-000000008.h5"
START=$(date +%s)
RC=0
"$RUNNER" train debug "${COMMON[@]}" --set train.tokens=40960 --set model.scheme=shared-ffn --dist-timeout 120 \
  --runs-dir cw --no-db --nproc 2 > cw.out 2> cw.err || RC=$?
[ "$RC" != 0 ] || fail "an unwritable checkpoint did not fail the job"
[ $(( $(date +%s) - START )) -le 60 ] || fail "an unwritable checkpoint took more than 60 s to end the job"
grep -q "rank 0 could not write the checkpoint" cw.err || { cat cw.err; fail "rank 1 does not say rank 0's checkpoint failed"; }
echo "unwritable checkpoint: every rank stopped at step 8 (exit $RC)"

# 5. A sweep (configs/cpu.toml at smoke scale: Table 1's five models) with --nproc 2 against one
# process: rank 0 owns the database (world_size 2), the same val losses; a re-run skips them all.
SW=(--sweep "$SRC/configs/cpu.toml" --scale smoke --set "data.dir=$PWD/data" --set "data.mix=$PWD/mix.toml"
    --set model.vocab_size=256 --set 'eval.tasks=[]' --set train.threads=1 --set 'profile.enabled=false' --no-progress)
"$RUNNER" "${SW[@]}" --db sw1.db --results sw1 > sw1.out 2> sw1.err || { cat sw1.err; fail "sweep, one process"; }
"$RUNNER" "${SW[@]}" --db sw2.db --results sw2 --nproc 2 --dist-timeout 60 > sw2.out 2> sw2.err ||
  { cat sw2.err; fail "sweep, --nproc 2"; }
grep -q "5 trained, 0 already finished, 0 failed" sw2.out || { cat sw2.out; fail "sweep --nproc 2: want 5 trained"; }
[ "$(grep -c ' trained, ' sw2.out)" = 1 ] || fail "sweep --nproc 2: the summary is printed by rank 0 only"
[ "$(sqlite3 sw2.db "select count(*) from runs where world_size = 2 and status = 'finished'")" = 5 ] ||
  fail "sweep --nproc 2: want 5 finished runs with world_size 2"
q="select r.name, s.value from runs r join scalars s using(run_id) where s.key = 'final_val_loss' order by r.name"
/usr/bin/python3 - "$(sqlite3 sw1.db "$q")" "$(sqlite3 sw2.db "$q")" <<'PY' || fail "sweep val losses, 1 vs 2 ranks"
import sys
a, b = ([l.split("|") for l in x.splitlines()] for x in sys.argv[1:])
assert len(a) == 5 and [n for n, _ in a] == [n for n, _ in b], (a, b)
worst = max(abs(float(x) - float(y)) / float(x) for (_, x), (_, y) in zip(a, b))
assert worst <= 1e-5, f"val losses differ by {worst:.3g} relative"
print(f"sweep: 5 runs, 1 process vs --nproc 2, final val losses within {worst:.2g} relative")
PY
"$RUNNER" "${SW[@]}" --db sw2.db --results sw2 --nproc 2 --dist-timeout 60 > sw3.out 2> sw3.err || fail "sweep re-run"
grep -q "0 trained, 5 already finished" sw3.out || { cat sw3.out; fail "sweep re-run: want 5 already finished"; }
echo "PASS"
