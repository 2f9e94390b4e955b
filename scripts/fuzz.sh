#!/usr/bin/env bash
# `make fuzz`: builds the libFuzzer targets (fuzz/, Debian's clang with ASan + UBSan) into
# build-fuzz/ if needed and runs each for SECONDS (default 30) on a scratch copy of its committed
# seed corpus and regression inputs, one target at a time. Prints executions, exec/s and new
# crashes per target and in total; exits 1 when any target crashed, hung or ran out of memory,
# keeping the input in build-fuzz/crashes/TARGET/ (add it to fuzz/regressions/TARGET/ with the
# fix: test_fuzz_regressions replays it in the normal build).
#   scripts/fuzz.sh [SECONDS] [TARGET...]      FUZZ_BUILD=dir, FUZZ_CXX=clang++, JOBS=n
set -euo pipefail

secs=${1:-30}
[ $# -gt 0 ] && shift
case "$secs" in ''|*[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]" >&2; exit 2 ;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD:-$root/build-fuzz}
cxx=${FUZZ_CXX:-clang++}
if ! command -v "$cxx" >/dev/null; then
  echo "fuzz.sh: $cxx not found; libFuzzer needs Debian's clang (apt-get install clang, or make setup)" >&2
  exit 2
fi

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root/fuzz" -B "$build" -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
fi
cmake --build "$build" -j "${JOBS:-$(nproc)}" >/dev/null

# The targets as fuzz/targets.cmake lists them, or the ones named on the command line.
if [ $# -gt 0 ]; then
  targets=("$@")
else
  read -r -a targets <<<"$(sed -n '/^set(SHARELAB_FUZZ_TARGETS/,/)/p' "$root/fuzz/targets.cmake" |
    sed 's/set(SHARELAB_FUZZ_TARGETS//; s/)//' | tr '\n' ' ')"
fi

# The targets write their inputs to files (the readers take paths): on tmpfs when there is one.
tmp=${TMPDIR:-/tmp}
[ -d /dev/shm ] && [ -w /dev/shm ] && tmp=/dev/shm
scratch=$(mktemp -d "$tmp/sharelab-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
total_execs=0
total_crashes=0
printf '%-20s %12s %9s %8s\n' target executions exec/s crashes
for t in "${targets[@]}"; do
  bin="$build/fuzz_$t"
  [ -x "$bin" ] || { echo "fuzz.sh: no target '$t' (fuzz/targets.cmake)" >&2; exit 2; }
  work="$scratch/$t"
  mkdir -p "$work/corpus" "$work/tmp"
  for d in "$root/fuzz/corpus/$t" "$root/fuzz/regressions/$t"; do
    [ -d "$d" ] && find "$d" -maxdepth 1 -type f -exec cp {} "$work/corpus/" \;
  done
  crashes="$build/crashes/$t"
  mkdir -p "$crashes"
  before=$(find "$crashes" -type f | wc -l)
  dict=()
  [ -f "$root/fuzz/dict/$t.dict" ] && dict=(-dict="$root/fuzz/dict/$t.dict")
  # -timeout: one input taking 10 s is a hang; -rss_limit_mb also caps any single allocation.
  set +e
  (cd "$work" && TMPDIR="$work/tmp" "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    -print_final_stats=1 -artifact_prefix="$crashes/" "${dict[@]}" "$work/corpus" >"$work/log" 2>&1)
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
  execs=${execs:-0}
  new=$(( $(find "$crashes" -type f | wc -l) - before ))
  if [ "$rc" -ne 0 ] && [ "$new" -eq 0 ]; then new=1; fi  # died without leaving an input (e.g. out of memory)
  printf '%-20s %12d %9d %8d\n' "$t" "$execs" $((execs / (secs > 0 ? secs : 1))) "$new"
  if [ "$new" -gt 0 ]; then
    cp "$work/log" "$crashes/last.log"
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|terminate called|  what\(\))' "$work/log" | head -5 | sed 's/^/    /'
    echo "    input and log in $crashes/ (replay: $bin FILE)"
  fi
  total_execs=$((total_execs + execs))
  total_crashes=$((total_crashes + new))
done
printf '%-20s %12d %9s %8d\n' total "$total_execs" "" "$total_crashes"
[ "$total_crashes" -eq 0 ]
