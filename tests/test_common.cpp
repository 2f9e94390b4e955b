// common/: the stable hash against FNV-1a's published test vectors.
#include <doctest/doctest.h>

#include "common/stable_hash.h"

using sharelab::fnv1a64;
using sharelab::stable_hash;

TEST_CASE("stable_hash is 64-bit FNV-1a (known answers)") {
  // Vectors from the FNV reference test suite (fnv/test_fnv.c, FNV1A_64).
  CHECK(fnv1a64("") == 0xcbf29ce484222325ull);
  CHECK(fnv1a64("a") == 0xaf63dc4c8601ec8cull);
  CHECK(fnv1a64("foobar") == 0x85944171f73967e8ull);
  CHECK(stable_hash("") == "cbf29ce484222325");
  CHECK(stable_hash("a") == "af63dc4c8601ec8c");
}
