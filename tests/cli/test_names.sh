#!/usr/bin/env bash
# doctest_discover_tests splits test names at ';': a TEST_CASE named "a; b" becomes a ctest entry
# that matches no doctest case and "passes" with no assertion. Fail on any such name.
set -u
cd "$(dirname "$0")/../.."
bad=$(grep -nE '(TEST_CASE|SUBCASE)\("[^"]*;[^"]*"\)' tests/*.cpp)
if [ -n "$bad" ]; then echo "test names with ';' (ctest cannot run them):"; echo "$bad"; echo "0 passed, 1 failed"; exit 1; fi
echo "1 passed, 0 failed"
