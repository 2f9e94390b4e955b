#!/usr/bin/env bash
# `runner --sweep FILE --emit-slurm DIR --nodes N --gpus-per-node G`: one sbatch script per run (the
# #SBATCH lines, srun + the runner on exactly that run, requeue on exit 75, logs per rank), valid
# bash, submit_all.sh; the plan's world / micro / accum columns; bad sizes exit 2 with one line and
# write nothing. Each script is also run with stand-ins for srun (the runner with --dry-run) and
# scontrol: it must select exactly its run, with the run id the plan printed, and requeue on 75.
set -euo pipefail
RUNNER="$1"
WORK="$2"
SRC="$(cd "$(dirname "$0")/../.." && pwd)"
rm -rf "$WORK" && mkdir -p "$WORK" && WORK="$(cd "$WORK" && pwd)"
cd "$SRC"
fail() { echo "FAIL: $*"; exit 1; }
has() { grep -qxF -- "$2" "$1" || { cat "$1"; fail "$1: no line '$2'"; }; }

# Stand-ins: srun drops its options and runs the command once with --dry-run (or exits $FAKE_RC);
# scontrol records its arguments.
mkdir -p "$WORK/bin"
cat > "$WORK/bin/srun" <<'EOF'
#!/usr/bin/env bash
while [ $# -gt 0 ] && [ "${1#--}" != "$1" ]; do shift; done
if [ -n "${FAKE_RC:-}" ]; then exit "$FAKE_RC"; fi
exec env -u SLURM_JOB_ID "$@" --dry-run
EOF
cat > "$WORK/bin/scontrol" <<'EOF'
#!/usr/bin/env bash
echo "$*" >> "$FAKE_SCONTROL"
EOF
chmod +x "$WORK/bin/srun" "$WORK/bin/scontrol"
export FAKE_SCONTROL="$WORK/scontrol.log"

# check_scripts DIR PLAN N: N scripts, valid bash, listed by submit_all.sh; each, run under the
# stand-ins, plans exactly its own run with the run id of PLAN (the --emit-slurm output).
check_scripts() {
  local dir="$1" plan="$2" n="$3" s name id out
  [ "$(ls "$dir"/*.sbatch | wc -l)" = "$n" ] || { ls "$dir"; fail "$dir: want $n scripts"; }
  [ -d "$dir/logs" ] && [ -x "$dir/submit_all.sh" ] || fail "$dir: no logs/ or submit_all.sh"
  bash -n "$dir/submit_all.sh" || fail "submit_all.sh: not valid bash"
  [ "$(grep -c '^sbatch ' "$dir/submit_all.sh")" = "$n" ] || { cat "$dir/submit_all.sh"; fail "submit_all.sh: want $n sbatch lines"; }
  for s in "$dir"/*.sbatch; do
    bash -n "$s" || fail "$s: not valid bash"
    grep -qxF "sbatch $s" "$dir/submit_all.sh" || fail "submit_all.sh does not submit $s"
    name="$(basename "$s" .sbatch)"
    has "$s" "#SBATCH --requeue"
    has "$s" "#SBATCH --open-mode=append"
    has "$s" "#SBATCH --signal=USR1@600"
    has "$s" "#SBATCH --output=$dir/logs/$name-%j.log"
    grep -q "^srun --kill-on-bad-exit=1 --cpus-per-task=[0-9]* --open-mode=append --output=$dir/logs/$name-%j-rank%t.log \\\\$" "$s" \
      || { cat "$s"; fail "$s: srun line"; }
    grep -qF -- " --only $name " "$s" || { cat "$s"; fail "$s: does not select its run"; }
    has "$s" 'rc=$?'
    has "$s" 'if [ $rc -eq 75 ]; then scontrol requeue "$SLURM_JOB_ID"; fi'
    has "$s" 'exit $rc'
    id="$(sed -n 's/.*(run id \([0-9a-f]\{16\}\)).*/\1/p' "$s")"
    grep -qE "^$name +.* $id " "$plan" || { cat "$plan"; fail "$s: run id $id is not $name's in the plan"; }
    out="$WORK/$name.run"
    rm -f "$FAKE_SCONTROL"
    PATH="$WORK/bin:$PATH" SLURM_JOB_ID=4242 bash "$s" > "$out" 2>&1 || { cat "$out"; fail "$s: did not dry-run"; }
    [ "$(grep -cE ' [0-9a-f]{16} ' "$out")" = 1 ] || { cat "$out"; fail "$s: want exactly one run"; }
    grep -qE "^$name +.* $id " "$out" || { cat "$out"; fail "$s: runs another run than $name ($id)"; }
    [ ! -e "$FAKE_SCONTROL" ] || fail "$s: requeued after exit 0"
  done
}

# table1 at paper scale on 20 nodes x 8 GPUs: 800 rows per step over 160 ranks = 5 rows each, 1 step.
grep -qx 'global_batch_tokens = 1638400 .*' configs/table1.toml && grep -qx 'seq_len = 2048' configs/table1.toml \
  && grep -qx 'micro_batch = 8 .*' configs/table1.toml || fail "configs/table1.toml: not 800 rows of 2048, micro 8"
T1="$WORK/table1"
"$RUNNER" --sweep configs/table1.toml --emit-slurm "$T1" --nodes 20 --gpus-per-node 8 --db "$WORK/none.db" \
  > "$WORK/t1.out" 2> "$WORK/t1.err" || { cat "$WORK/t1.err"; fail "--emit-slurm table1"; }
[ ! -e "$WORK/none.db" ] || fail "--emit-slurm created a database"
grep -q "^slurm: 5 script(s) in $T1 (20 node(s) x 8 task(s) each, world 160)" "$WORK/t1.out" \
  || { cat "$WORK/t1.out"; fail "--emit-slurm does not say where"; }
[ "$(grep -cE ' 160 +5 +1 +new ' "$WORK/t1.out")" = 5 ] || { cat "$WORK/t1.out"; fail "plan: want world 160, micro 5, accum 1"; }
check_scripts "$T1" "$WORK/t1.out" 5
for run in baseline1 baseline2 baseline3 large-base mobillama-0.5b; do
  s="$T1/$run.sbatch"
  for line in "#SBATCH --job-name=table1-$run" "#SBATCH --nodes=20" "#SBATCH --ntasks-per-node=8" \
              "#SBATCH --gpus-per-node=8" "#SBATCH --cpus-per-task=8" "#SBATCH --time=48:00:00"; do
    has "$s" "$line"
  done
  has "$s" "  $(readlink -f "$RUNNER") --sweep configs/table1.toml --only $run --db $WORK/none.db --set 'train.device=\"cuda\"'"
  has "$s" "cd $SRC || exit 1"
done
# Exit 75 (checkpointed on SIGUSR1/SIGTERM) requeues the job; another failure does not.
set +e
PATH="$WORK/bin:$PATH" SLURM_JOB_ID=4242 FAKE_RC=75 bash "$T1/baseline1.sbatch" > /dev/null 2>&1
rc=$?
set -e
[ "$rc" = 75 ] && [ "$(cat "$FAKE_SCONTROL")" = "requeue 4242" ] || fail "exit 75: rc $rc, scontrol: $(cat "$FAKE_SCONTROL" 2>&1)"
rm -f "$FAKE_SCONTROL"
set +e
PATH="$WORK/bin:$PATH" SLURM_JOB_ID=4242 FAKE_RC=1 bash "$T1/baseline1.sbatch" > /dev/null 2>&1
rc=$?
set -e
[ "$rc" = 1 ] && [ ! -e "$FAKE_SCONTROL" ] || fail "exit 1: rc $rc, requeued: $(cat "$FAKE_SCONTROL" 2>&1)"

# The plan alone: world / micro / accum at a Slurm job's size, and in one process.
"$RUNNER" --sweep configs/table1.toml --dry-run --nodes 20 --gpus-per-node 8 --db "$WORK/none.db" > "$WORK/plan.out"
grep -q "^run .* world micro accum " "$WORK/plan.out" || { cat "$WORK/plan.out"; fail "plan: no world/micro/accum columns"; }
[ "$(grep -cE ' 160 +5 +1 +new ' "$WORK/plan.out")" = 5 ] || { cat "$WORK/plan.out"; fail "dry-run: want 160 5 1"; }
env -u WORLD_SIZE "$RUNNER" --sweep configs/table1.toml --dry-run --db "$WORK/none.db" > "$WORK/plan1.out"
[ "$(grep -cE ' 1 +8 +100 +new ' "$WORK/plan1.out")" = 5 ] || { cat "$WORK/plan1.out"; fail "dry-run, one process: want 1 8 100"; }

# A grid without [[run]]s on CPU nodes: one task per node, no GPUs, the sweep's own device.
SM="$WORK/smoke"
"$RUNNER" --sweep configs/smoke.toml --emit-slurm "$SM" --nodes 2 --gpus-per-node 0 --time 2:00:00 --partition cpu \
  --db "$WORK/none.db" > "$WORK/smoke.out" || fail "--emit-slurm smoke"
[ "$(grep -cE ' 2 +4 +1 +new ' "$WORK/smoke.out")" = 2 ] || { cat "$WORK/smoke.out"; fail "smoke plan: want 2 4 1"; }
check_scripts "$SM" "$WORK/smoke.out" 2
has "$SM/scheme=none.sbatch" "#SBATCH --ntasks-per-node=1"
has "$SM/scheme=none.sbatch" "#SBATCH --partition=cpu"
has "$SM/scheme=none.sbatch" "#SBATCH --time=2:00:00"
! grep -q -- "gpus-per-node\|train.device" "$SM/scheme=none.sbatch" || fail "CPU nodes: GPUs or a device in the script"

# [[run]]s x a grid: every grid point its own script; arguments with spaces and quotes survive; a
# --set of train.device is the user's choice.
cat > "$WORK/grid.toml" <<'EOF'
[meta]
name = "gridded"
[model]
preset = "debug"
[train]
seq_len = 64
micro_batch = 4
global_batch_tokens = 512
tokens = 3072
[[run]]
name = "a"
[[run]]
name = "b"
model.scheme = "shared-ffn"
[grid]
"train.seed" = [1, 2]
EOF
GR="$WORK/grid"
"$RUNNER" --sweep "$WORK/grid.toml" --emit-slurm "$GR" --nodes 1 --gpus-per-node 2 --tasks-dir "$WORK/task's dir" \
  --set "train.lr=2e-3" --set 'train.device="cpu"' --db "$WORK/none.db" > "$WORK/grid.out" || fail "--emit-slurm grid"
check_scripts "$GR" "$WORK/grid.out" 4
grep -qF -- "--set train.lr=2e-3 --set 'train.device=\"cpu\"' --tasks-dir '$WORK/task'\\''s dir' --db" "$GR/a-seed=1.sbatch" \
  || { cat "$GR/a-seed=1.sbatch"; fail "pass-through arguments"; }
! grep -qF 'train.device="cuda"' "$GR/a-seed=1.sbatch" || fail "train.device set by the user, yet cuda added"

# Bad sizes: one line naming the run and field (or the flag), exit 2, nothing written.
bad() {  # bad PATTERN ARGS...
  local pattern="$1" rc; shift
  set +e
  "$RUNNER" --sweep configs/table1.toml --emit-slurm "$WORK/bad" --db "$WORK/none.db" "$@" > /dev/null 2> "$WORK/bad.err"
  rc=$?
  set -e
  [ "$rc" = 2 ] && [ "$(wc -l < "$WORK/bad.err")" = 1 ] && grep -qF -- "$pattern" "$WORK/bad.err" \
    || { cat "$WORK/bad.err"; fail "$*: rc $rc, want 2 and one line with '$pattern'"; }
  [ ! -e "$WORK/bad" ] || fail "$*: wrote $WORK/bad"
}
bad "run 'baseline1': train.global_batch_tokens = 1638400 is 800 rows" --nodes 3 --gpus-per-node 8
bad "--nodes 0: expected an integer >= 1" --nodes 0
bad "--gpus-per-node -1: expected an integer >= 0" --gpus-per-node=-1
bad "--time 10: must be longer than 600 s" --time 10
bad "--time 1:2:3:4: expected minutes" --time 1:2:3:4
set +e
"$RUNNER" --sweep configs/table1.toml --dry-run --nodes 7 --db "$WORK/none.db" > /dev/null 2> "$WORK/bad.err"
rc=$?
set -e
[ "$rc" = 2 ] && grep -q "^runner: error: run 'baseline1': train.global_batch_tokens = .* among 56 data-parallel ranks" \
  "$WORK/bad.err" || { cat "$WORK/bad.err"; fail "--dry-run --nodes 7: rc $rc"; }
echo "sweep slurm: ok"
