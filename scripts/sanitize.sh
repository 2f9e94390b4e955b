#!/usr/bin/env bash
# `make sanitize`: the fast suite (ctest -L fast) built with AddressSanitizer + UndefinedBehaviorSanitizer
# (CMake option SHARELAB_SANITIZE; the project's own GCC, ABI-compatible with Debian's LibTorch) in
# build-asan/, and run with the suppression files in scripts/sanitize/ (reports from inside LibTorch
# only, each line with its reason). Not in CI (its time budget): run it before resolving any issue.
# Every process writes its sanitizer reports to build-asan/sanitize-logs/ as well, so a report in a
# process that a test expects to fail (exit 2 on bad input, a killed rank) still fails the run.
# Exits 0 only when every test passed or skipped and no process reported anything.
#   scripts/sanitize.sh [CTEST_ARGS...]      SANITIZE_BUILD=dir, JOBS=n
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${SANITIZE_BUILD:-$root/build-asan}
jobs=${JOBS:-$(nproc)}
supp=$root/scripts/sanitize

logs=$build/sanitize-logs
# halt_on_error: the first report ends the process (ASan and LeakSanitizer exit 1, UBSan aborts:
# -fno-sanitize-recover); log_path: every report lands in $logs (checked below), not on stderr.
# detect_leaks: LeakSanitizer at exit; check_initialization_order: static-init order across units.
common="print_stacktrace=1:halt_on_error=1:symbolize=1"
export ASAN_OPTIONS="$common:detect_leaks=1:check_initialization_order=1:detect_stack_use_after_return=0:suppressions=$supp/asan.supp:log_path=$logs/asan:log_exe_name=1"
export LSAN_OPTIONS="print_suppressions=0:suppressions=$supp/lsan.supp"
export UBSAN_OPTIONS="$common:report_error_type=1:suppressions=$supp/ubsan.supp:log_path=$logs/ubsan:log_exe_name=1"

t0=$(date +%s)
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHARELAB_SANITIZE=ON >/dev/null
fi
grep -q '^SHARELAB_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" ||
  { echo "sanitize.sh: $build was configured without -DSHARELAB_SANITIZE=ON; pick another SANITIZE_BUILD" >&2; exit 2; }
# The build runs the test executables too (doctest_discover_tests lists their cases): same options.
rm -rf "$logs"
mkdir -p "$logs"
show_reports() {
  local f
  for f in $(find "$logs" -type f | sort); do
    echo "--- $f"
    head -60 "$f"
  done
}
cmake --build "$build" -j "$jobs" || { show_reports; exit 1; }
t1=$(date +%s)

# Instrumented code runs several times slower (train_faults: ~70 s in build/, ~370 s here with -j 2):
# a default timeout per test well above that.
set +e
(cd "$build" && ctest -L fast --output-on-failure -j "$jobs" --timeout 1800 "$@")
rc=$?
set -e
t2=$(date +%s)

reports=$(find "$logs" -type f | sort)
if [ -n "$reports" ]; then
  echo "sanitize.sh: sanitizer reports (also in $logs):"
  show_reports
  [ "$rc" -ne 0 ] || rc=1
fi
echo "sanitize.sh: build $((t1 - t0)) s, tests $((t2 - t1)) s, $(echo -n "$reports" | grep -c . || true) report file(s), exit $rc"
exit "$rc"
