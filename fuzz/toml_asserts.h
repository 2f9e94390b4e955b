// Force-included in the fuzz build: toml++'s internal asserts compiled the way Debian's release
// library has them (no-ops), so the fuzzers exercise the parser the normal build links.
// Debug-mode toml++ 3.3 asserts in parse_key() on table headers such as "[[=" or "[[[1]]]"
// (fixed upstream in marzer/tomlplusplus#301); the release library reports a parse error there,
// which tests/test_fuzz_regressions.cpp checks on the saved inputs. Not -DNDEBUG: clang would turn
// the same checks into __builtin_assume, which is undefined behaviour when they fail.
#pragma once
#define TOML_ASSERT(expr) static_assert(true)
