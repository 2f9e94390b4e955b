// Source readers: turn a file into documents (text readers) or validated pre-tokenized rows
// (amber-jsonl). Documents are the unit of the train/val split, so each reader says what a
// document is: text = a file (files over max_doc_bytes are cut at blank lines), jsonl-text = a
// line, brown-tagged = a file, amber-jsonl = a line (Amber chunks carry no document id).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace sharelab::data {

struct Document {
  std::string id;  // stable within the source: "<file name>" or "<file name>:<line>" or "#<chunk>"
  std::string text;
};

using DocSink = std::function<void(const Document&)>;

// Reads `file` with a text reader; returns the bytes read. ConfigError for a missing file or a bad
// jsonl line (file:line, field).
int64_t read_documents(const std::string& reader, const std::string& file, const DocSink& sink,
                       size_t max_doc_bytes = size_t(4) << 20);

// Brown corpus "word/tag word/tag" line -> plain text ("``" and "''" become quotes, punctuation
// attached). Exposed for tests.
std::string brown_detag(const std::string& line);

// Amber jsonl: {"token_ids": [cols ids], "source": "..."} per line. Calls sink(ids, line_no) per
// row; ConfigError naming file:line and field for non-JSON, a missing/short/long token_ids, or an
// id outside [0, vocab_size). Returns the bytes read.
using AmberSink = std::function<void(const std::vector<uint32_t>& ids, int64_t line)>;
int64_t read_amber_jsonl(const std::string& file, int64_t cols, int64_t vocab_size, const AmberSink& sink);

}  // namespace sharelab::data
