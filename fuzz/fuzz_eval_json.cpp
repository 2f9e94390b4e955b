// The JSON benchmark files (runner/eval/readers_json.cpp): the first byte picks the reader (mod
// 10), the rest is the file. PIQA reads two files: valid.jsonl, then "\n---\n", then its labels.
#include "fuzz/fuzz_target.h"
#include "runner/eval/task_readers.h"

SHARELAB_FUZZ_TARGET(eval_json) {
  using namespace sharelab;
  if (size < 1) return 0;
  const int which = data[0] % 10;
  const std::string dir = fuzz::scratch_dir() + "/eval";
  const std::string file = dir + "/task.jsonl", labels = dir + "/labels.lst";
  const fuzz::Parts p = fuzz::split_parts(data + 1, size - 1, which == 9 ? 2 : 1);
  fuzz::write_file(file, p.text[0]);
  if (which == 9) fuzz::write_file(labels, p.text[1]);
  // PIQA names either file.
  fuzz::expect_config_error(which == 9 ? dir + "/" : file, [&] {
    std::vector<eval::McDoc> docs;
    switch (which) {
      case 0: docs = eval::read_arc_jsonl(file); break;
      case 1: docs = eval::read_openbookqa_jsonl(file); break;
      case 2: docs = eval::read_hellaswag_jsonl(file); break;
      case 3: docs = eval::read_winogrande_jsonl(file); break;
      case 4: docs = eval::read_siqa_jsonl(file); break;
      case 5: docs = eval::read_boolq_jsonl(file); break;
      case 6: docs = eval::read_truthfulqa_json(file, false); break;
      case 7: docs = eval::read_truthfulqa_json(file, true); break;
      case 8: docs = eval::read_race_article(file); break;
      default: docs = eval::read_piqa(file, labels); break;
    }
    // What scoring relies on: a gold index within the choices (MC2 scores by labels instead).
    for (const auto& d : docs)
      if (which != 7 && (d.gold < 0 || size_t(d.gold) >= d.choices.size()))
        throw std::logic_error("gold index outside the choices");
  });
  return 0;
}
