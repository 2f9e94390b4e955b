// llama.cpp's 6-line HellaSwag file (hellaswag_val_full.txt): context, gold, four endings per task.
#include "fuzz/fuzz_target.h"
#include "runner/eval/task_readers.h"

SHARELAB_FUZZ_TARGET(hellaswag_txt) {
  using namespace sharelab;
  const std::string file = fuzz::scratch_dir() + "/hellaswag/hellaswag_val_full.txt";
  fuzz::write_file(file, std::string(reinterpret_cast<const char*>(data), size));
  fuzz::expect_config_error(file, [&] {
    for (const auto& d : eval::read_hellaswag_txt(file))
      if (d.gold < 0 || d.gold > 3 || d.choices.size() != 4) throw std::logic_error("a task without 4 endings");
  });
  return 0;
}
