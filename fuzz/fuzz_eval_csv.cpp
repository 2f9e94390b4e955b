// The CSV benchmark files (runner/eval/readers_csv.cpp): the first byte picks MMLU, CrowS-Pairs or
// the bare RFC 4180 reader (mod 3), the rest is the file.
#include "fuzz/fuzz_target.h"
#include "runner/eval/task_readers.h"

SHARELAB_FUZZ_TARGET(eval_csv) {
  using namespace sharelab;
  if (size < 1) return 0;
  const std::string file = fuzz::scratch_dir() + "/csv/task.csv";
  fuzz::write_file(file, std::string(reinterpret_cast<const char*>(data) + 1, size - 1));
  fuzz::expect_config_error(file, [&] {
    switch (data[0] % 3) {
      case 0:
        for (const auto& d : eval::read_mmlu_csv(file, "abstract_algebra"))
          if (d.gold < 0 || size_t(d.gold) >= d.choices.size()) throw std::logic_error("gold outside the choices");
        break;
      case 1:
        for (const auto& d : eval::read_crows_pairs_csv(file))
          if (d.choices.size() != 2) throw std::logic_error("a CrowS pair without two sentences");
        break;
      default: eval::read_csv(file); break;
    }
  });
  return 0;
}
