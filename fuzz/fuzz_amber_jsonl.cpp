// Amber's pre-tokenized jsonl ({"token_ids": [...]} per line), read as `runner data prepare`
// reads an amber-jsonl source: rows of 5 ids (seq_len 4) below a vocabulary of 32000.
#include "fuzz/fuzz_target.h"
#include "runner/data/readers.h"

SHARELAB_FUZZ_TARGET(amber_jsonl) {
  using namespace sharelab;
  const std::string file = fuzz::scratch_dir() + "/amber/train.jsonl";
  fuzz::write_file(file, std::string(reinterpret_cast<const char*>(data), size));
  fuzz::expect_config_error(file, [&] {
    data::read_amber_jsonl(file, 5, 32000, [](const std::vector<uint32_t>& ids, int64_t) {
      if (ids.size() != 5) throw std::logic_error("amber row of the wrong width");
    });
  });
  return 0;
}
