#!/usr/bin/env bash
# `runner sweep` without training: --help prints the precedence, --dry-run prints the plan of every
# shipped sweep and creates no database, and each bad sweep file exits 2 with one line on stderr
# naming file:line:col and the key, having created nothing.
set -euo pipefail
RUNNER="$1"
WORK="$2"
SRC="$(cd "$(dirname "$0")/../.." && pwd)"
rm -rf "$WORK" && mkdir -p "$WORK"
cd "$SRC"
fail() { echo "FAIL: $*"; exit 1; }

"$RUNNER" sweep --help > "$WORK/help.out"
grep -q "preset < extends base(s) < sweep top level < scale < \[\[run\]\]/\[\[variant\]\] < \[grid\] point < --set" \
  "$WORK/help.out" || fail "--help does not print the precedence"

for f in configs/*.toml; do
  "$RUNNER" --sweep "$f" --dry-run --db "$WORK/none.db" > "$WORK/plan.out" 2> "$WORK/plan.err" \
    || { cat "$WORK/plan.err"; fail "$f does not dry-run"; }
  grep -q "projected" "$WORK/plan.out" || fail "$f: no projection in the plan"
  [ ! -e "$WORK/none.db" ] || fail "--dry-run created a database"
done
"$RUNNER" --sweep configs/cpu.toml --dry-run --db "$WORK/none.db" > "$WORK/cpu.out"
[ "$(grep -c ' new ' "$WORK/cpu.out")" = 5 ] || { cat "$WORK/cpu.out"; fail "cpu.toml: want 5 new runs"; }
"$RUNNER" --sweep configs/table1.toml --dry-run --scale smoke --only baseline3,mobillama-0.5b --db "$WORK/none.db" \
  > "$WORK/only.out"
[ "$(grep -c ' new ' "$WORK/only.out")" = 2 ] || { cat "$WORK/only.out"; fail "--only: want 2 runs"; }
# The old name of --scale says what it is now, in one line.
set +e
"$RUNNER" --sweep configs/cpu.toml --dry-run --profile smoke > /dev/null 2> "$WORK/old_flag.err"
rc=$?
set -e
[ "$rc" = 2 ] && [ "$(wc -l < "$WORK/old_flag.err")" = 1 ] && grep -q -- "--profile is now --scale" "$WORK/old_flag.err" \
  || { cat "$WORK/old_flag.err"; fail "--profile: want one line pointing at --scale, exit 2"; }

for f in tests/bad_configs/*.toml; do
  want=$(head -1 "$f" | sed 's/^# expect: //')
  set +e
  "$RUNNER" --sweep "$f" --db "$WORK/bad.db" --results "$WORK/results" > "$WORK/bad.out" 2> "$WORK/bad.err"
  rc=$?
  set -e
  [ "$rc" = 2 ] || fail "$f: exit $rc, want 2"
  [ "$(wc -l < "$WORK/bad.err")" = 1 ] || { cat "$WORK/bad.err"; fail "$f: want one line on stderr"; }
  grep -qF -- "$want" "$WORK/bad.err" || { cat "$WORK/bad.err"; fail "$f: message lacks '$want'"; }
  [ ! -e "$WORK/bad.db" ] && [ ! -e "$WORK/results" ] || fail "$f: a bad sweep created outputs"
done

set +e
"$RUNNER" --sweep configs/smoke.toml --dry-run --set train.lrr=1 > /dev/null 2> "$WORK/set.err"
rc=$?
set -e
[ "$rc" = 2 ] && grep -q "^runner: error: --set train.lrr=1: train.lrr: unknown key" "$WORK/set.err" \
  || { cat "$WORK/set.err"; fail "--set with an unknown key"; }
# A data folder prepared from another version of the run's mix is refused, not trained on.
for i in $(seq 1 40); do echo '{"token_ids": [1, 2, 3, 4, 5, 6, 7, 8, 9]}'; done > "$WORK/a.jsonl"
printf '[mix]\nseq_len = 8\nval_fraction = 0.5\nvocab_size = 100\n[[source]]\nname = "a"\npath = "a.jsonl"\nreader = "amber-jsonl"\n' \
  > "$WORK/mix.toml"
"$RUNNER" data prepare --no-progress --mix "$WORK/mix.toml" --out "$WORK/data" > /dev/null
echo "# edited after preparing" >> "$WORK/mix.toml"
set +e
"$RUNNER" --sweep configs/smoke.toml --set "data.dir='$WORK/data'" --set "data.mix='$WORK/mix.toml'" \
  --db "$WORK/mix.db" --results "$WORK/mix-results" > /dev/null 2> "$WORK/mix.err"
rc=$?
set -e
[ "$rc" = 2 ] && grep -q "$WORK/data: prepared from a different $WORK/mix.toml" "$WORK/mix.err" \
  || { cat "$WORK/mix.err"; fail "data prepared from another mix was not refused"; }
[ ! -e "$WORK/mix-results" ] || fail "a refused sweep trained"
echo "sweep CLI: ok"
