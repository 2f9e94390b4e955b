// Fixture of the eval tests: a byte-level tokenizer, so scoring needs no SentencePiece model.
#pragma once

#include <string>
#include <vector>

#include "runner/eval/request.h"

namespace sharelab::test {

struct ByteEncoder : eval::TextEncoder {  // ids = byte + 3 (< 259 <= debug vocab 512); BOS 1, EOS 2
  std::vector<int32_t> encode(const std::string& s) const override {
    std::vector<int32_t> out;
    for (unsigned char c : s) out.push_back(int32_t(c) + 3);
    return out;
  }
  int32_t bos_id() const override { return 1; }
  int32_t eos_id() const override { return 2; }
};

}  // namespace sharelab::test
