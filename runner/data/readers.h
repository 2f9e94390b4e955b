// Source readers: turn a file into documents (text readers) or validated pre-tokenized rows
// (amber-jsonl). Documents are the unit of the train/val split. Text is cut into chunks of about
// chunk_bytes (at a blank line once a chunk has passed chunk_bytes; at a line end past twice that),
// so that a corpus of one big file still gets a held-out split: text = a file's chunks, jsonl-text =
// a line's chunks, brown-tagged = a file's chunks (sentences), amber-jsonl = a line (Amber rows
// carry no document id). The chunks of a text file, concatenated, are the file (a last line gets
// its newline; whitespace-only chunks are dropped).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace sharelab::data {

struct Document {
  std::string id;  // stable within the source: "<file>" or "<file>:<line>", then "#<k>" for chunk k > 0
  std::string text;
};

using DocSink = std::function<void(const Document&)>;

// Chunk size of the train/val split: 16 KiB of text is ~4K tokens at an 8000-piece vocabulary,
// more than one 2048-token row, and a 1 MB file still makes ~60 chunks to draw the split from.
constexpr size_t kDefaultChunkBytes = size_t(16) << 10;

// Reads `file` with a text reader; returns the bytes read. ConfigError for a missing file or a bad
// jsonl line (file:line, field).
int64_t read_documents(const std::string& reader, const std::string& file, const DocSink& sink,
                       size_t chunk_bytes = kDefaultChunkBytes);

// Brown corpus "word/tag word/tag" line -> plain text ("``" and "''" become quotes, punctuation
// attached). Exposed for tests.
std::string brown_detag(const std::string& line);

// Amber jsonl: {"token_ids": [cols ids], "source": "..."} per line. Calls sink(ids, line_no) per
// row; ConfigError naming file:line and field for non-JSON, a missing/short/long token_ids, or an
// id outside [0, vocab_size). Returns the bytes read.
using AmberSink = std::function<void(const std::vector<uint32_t>& ids, int64_t line)>;
int64_t read_amber_jsonl(const std::string& file, int64_t cols, int64_t vocab_size, const AmberSink& sink);

}  // namespace sharelab::data
