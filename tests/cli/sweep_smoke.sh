#!/usr/bin/env bash
# End to end: configs/smoke.toml (two schemes on the debug preset) trains on tiny data and leaves
# its rows; re-running it trains nothing; two sweep processes writing one database at the same
# time lose no row. Data: tiny-shakespeare bytes as Amber rows (vocab 256), prepared by the sweep
# itself from data.mix on first use (Amber rows carry no document id, so there is no val split).
set -euo pipefail
RUNNER="$1"
WORK="$2"
source "$(dirname "$0")/shakespeare.sh"
fail() { echo "FAIL: $*"; exit 1; }
shakespeare_rows 400

cd "$SRC"
SETS=(--set "data.dir=$WORK/data" --set "data.mix=$WORK/mix.toml" --set model.vocab_size=256)
DB="$WORK/r.db"
"$RUNNER" --sweep configs/smoke.toml "${SETS[@]}" --db "$DB" --results "$WORK/results" > "$WORK/first.out" 2> "$WORK/first.err" \
  || { cat "$WORK/first.err"; fail "first sweep"; }
grep -q "2 trained, 0 already finished, 0 failed" "$WORK/first.out" || { cat "$WORK/first.out"; fail "want 2 trained"; }
q() { sqlite3 "$DB" "$1"; }
[ "$(q "select count(*) from runs where sweep='smoke' and status='finished'")" = 2 ] || fail "want 2 finished runs"
[ "$(q "select group_concat(scheme, ',') from (select scheme from runs order by scheme)")" = "none,shared-ffn" ] \
  || fail "schemes: $(q "select scheme from runs")"
[ "$(q "select count(*) from series where split='train'")" = 12 ] || fail "want 6 train points per run"
[ "$(q "select count(*) from scalars where key in ('final_train_loss','tokens_per_s','unique_params')")" = 6 ] \
  || fail "scalars missing"
[ "$(q "select count(distinct geometry) from runs where geometry != ''")" = 2 ] || fail "geometry not recorded"
# Sharing shrinks the unique parameters: shared-ffn < none.
[ "$(q "select (select value from scalars s join runs r using(run_id) where r.scheme='shared-ffn' and key='unique_params')
        < (select value from scalars s join runs r using(run_id) where r.scheme='none' and key='unique_params')")" = 1 ] \
  || fail "shared-ffn should have fewer unique params"
for id in $(q "select run_id from runs"); do
  [ -f "$WORK/results/runs/$id/config.json" ] || fail "no config.json for $id"
done

# Re-running trains nothing, changes no checkpoint, and the plan says finished.
before=$(find "$WORK/results" -type f -newer "$DB" | wc -l)
stamp=$(find "$WORK/results/runs" -type f -printf '%p %T@\n' | sort | md5sum)
"$RUNNER" --sweep configs/smoke.toml "${SETS[@]}" --db "$DB" --results "$WORK/results" > "$WORK/again.out" 2> "$WORK/again.err"
grep -q "0 trained, 2 already finished, 0 failed" "$WORK/again.out" || { cat "$WORK/again.out"; fail "re-run trained"; }
[ "$(find "$WORK/results/runs" -type f -printf '%p %T@\n' | sort | md5sum)" = "$stamp" ] || fail "re-run touched run files"
[ "$(grep -c ' finished ' "$WORK/again.out")" = 2 ] || fail "plan should list 2 finished runs"

# Two sweep processes (different seeds: 4 new runs) on one database at once: no row lost.
"$RUNNER" --sweep configs/smoke.toml "${SETS[@]}" --set train.seed=1 --db "$DB" --results "$WORK/results" \
  > "$WORK/p1.out" 2> "$WORK/p1.err" &
P1=$!
"$RUNNER" --sweep configs/smoke.toml "${SETS[@]}" --set train.seed=2 --db "$DB" --results "$WORK/results" \
  > "$WORK/p2.out" 2> "$WORK/p2.err" &
P2=$!
wait $P1 || { cat "$WORK/p1.err"; fail "process 1"; }
wait $P2 || { cat "$WORK/p2.err"; fail "process 2"; }
[ "$(q "select count(*) from runs where status='finished'")" = 6 ] || fail "want 6 finished runs after the parallel sweeps"
[ "$(q "select count(*) from series where split='train'")" = 36 ] || fail "want 36 train points, got $(q "select count(*) from series where split='train'")"
echo "sweep smoke: ok ($(q "select count(*) from runs") runs, $(q "select count(*) from series") series points)"
