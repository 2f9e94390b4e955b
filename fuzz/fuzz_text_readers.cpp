// The text readers of a mix source: text, jsonl-text and brown-tagged, cut into chunks. The first
// byte picks the reader (mod 3), the second the chunk size (1..256 bytes); the rest is the file.
#include "fuzz/fuzz_target.h"
#include "runner/data/readers.h"

SHARELAB_FUZZ_TARGET(text_readers) {
  using namespace sharelab;
  if (size < 2) return 0;
  static const char* const kReaders[] = {"text", "jsonl-text", "brown-tagged"};
  const std::string reader = kReaders[data[0] % 3];
  const size_t chunk = size_t(data[1]) + 1;
  const std::string file = fuzz::scratch_dir() + "/text/source.txt";
  fuzz::write_file(file, std::string(reinterpret_cast<const char*>(data) + 2, size - 2));
  fuzz::expect_config_error(file, [&] {
    data::read_documents(reader, file, [](const data::Document& d) {
      if (d.id.empty()) throw std::logic_error("document without an id");
    }, chunk);
  });
  return 0;
}
