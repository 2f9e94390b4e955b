// Text, jsonl-text, Brown-tagged and Amber jsonl readers (see readers.h for document units).
#include "runner/data/readers.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>

#include "common/errors.h"
#include "common/json_error.h"

namespace sharelab::data {

namespace {

std::string base_name(const std::string& path) {
  const auto s = path.find_last_of('/');
  return s == std::string::npos ? path : path.substr(s + 1);
}

std::ifstream open_or_throw(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ConfigError(file + ": cannot open source file");
  return in;
}

// A line of a jsonl file as JSON, or a one-line ConfigError naming file:line.
nlohmann::json parse_line(const std::string& file, int64_t line_no, const std::string& line) {
  try {
    return nlohmann::json::parse(line);
  } catch (const nlohmann::json::parse_error& e) {
    throw ConfigError(fmt::format("{}:{}: not valid JSON at byte {}: {}", file, line_no, e.byte, json_error_reason(e)));
  } catch (const nlohmann::json::exception& e) {  // out_of_range: a number like 1e505
    throw ConfigError(fmt::format("{}:{}: not valid JSON: {}", file, line_no, json_error_reason(e)));
  }
}

// The offset of the first byte that does not continue valid UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing past U+10FFFF), or npos when the whole line is valid.
size_t invalid_utf8_at(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
    if (c < 0x80) n = 0;
    else if (c >= 0xC2 && c <= 0xDF) n = 1;
    else if (c == 0xE0) n = 2, lo = 0xA0;
    else if (c == 0xED) n = 2, hi = 0x9F;
    else if (c >= 0xE1 && c <= 0xEF) n = 2;
    else if (c == 0xF0) n = 3, lo = 0x90;
    else if (c == 0xF4) n = 3, hi = 0x8F;
    else if (c >= 0xF1 && c <= 0xF3) n = 3;
    else return i;
    for (size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return i;
      const unsigned char b = static_cast<unsigned char>(s[i + k]);
      if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return i;
    }
    i += n + 1;
  }
  return std::string::npos;
}

}  // namespace

std::string brown_detag(const std::string& line) {
  std::string out;
  bool attach_next = false, open_quote = false;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\r') ++j;
    if (j == i) break;
    std::string tok = line.substr(i, j - i);
    i = j;
    const auto slash = tok.find_last_of('/');
    if (slash != std::string::npos && slash > 0) tok.resize(slash);
    if (tok == "``")
      tok = "\"", open_quote = true;
    else if (tok == "''")
      tok = "\"", open_quote = false;
    const bool closing = tok == "." || tok == "," || tok == ";" || tok == ":" || tok == "?" || tok == "!" ||
                         tok == ")" || tok == "'" || (tok == "\"" && !open_quote) || tok.rfind("'", 0) == 0 ||
                         tok == "n't";
    if (!out.empty() && !attach_next && !closing) out += ' ';
    out += tok;
    attach_next = tok == "(" || (tok == "\"" && open_quote);
  }
  return out;
}

namespace {

// Accumulates lines into chunks of about chunk_bytes, cut at a blank line (a paragraph end) once the
// chunk has passed chunk_bytes, or at any line end past twice that.
class Chunker {
 public:
  Chunker(std::string base_id, size_t chunk_bytes, const DocSink& sink)
      : base_(std::move(base_id)), chunk_bytes_(std::max<size_t>(1, chunk_bytes)), sink_(sink) {}
  void add_line(const std::string& line, bool blank, bool newline = true) {
    if (blank && doc_.text.size() > chunk_bytes_) emit();
    doc_.text += line;
    if (newline) doc_.text += '\n';
    if (doc_.text.size() > 2 * chunk_bytes_) emit();
  }
  // Brown sentences: joined by spaces, cut between sentences.
  void add_sentence(const std::string& sentence) {
    if (!doc_.text.empty()) doc_.text += ' ';
    doc_.text += sentence;
    if (doc_.text.size() > chunk_bytes_) emit();
  }
  void emit() {
    if (doc_.text.find_first_not_of(" \t\r\n") != std::string::npos) {
      doc_.id = chunk_ == 0 ? base_ : fmt::format("{}#{}", base_, chunk_);
      sink_(doc_);
      ++chunk_;
    }
    doc_.text.clear();
  }

 private:
  std::string base_;
  size_t chunk_bytes_;
  const DocSink& sink_;
  Document doc_;
  int chunk_ = 0;
};

bool is_blank(const std::string& line) {
  return line.find_first_not_of(" \t\r") == std::string::npos;
}

}  // namespace

int64_t read_documents(const std::string& reader, const std::string& file, const DocSink& sink, size_t chunk_bytes) {
  std::ifstream in = open_or_throw(file);
  const std::string name = base_name(file);
  std::string line;
  int64_t bytes = 0, line_no = 0;
  if (reader == "jsonl-text") {
    while (std::getline(in, line)) {
      ++line_no;
      bytes += int64_t(line.size()) + 1;
      if (is_blank(line)) continue;
      const nlohmann::json j = parse_line(file, line_no, line);
      const auto t = j.find("text");  // end() for a non-object too
      if (t == j.end() || !t->is_string())
        throw ConfigError(fmt::format("{}:{}: field 'text' missing or not a string", file, line_no));
      Chunker chunks(fmt::format("{}:{}", name, line_no), chunk_bytes, sink);
      const std::string& text = t->get_ref<const std::string&>();
      for (size_t start = 0; start < text.size();) {
        size_t nl = text.find('\n', start);
        const bool last = nl == std::string::npos;
        if (last) nl = text.size();
        const std::string piece = text.substr(start, nl - start);
        chunks.add_line(piece, is_blank(piece), !last);
        start = nl + 1;
      }
      chunks.emit();
    }
    return bytes;
  }
  if (reader != "text" && reader != "brown-tagged")
    throw ConfigError(file + ": reader '" + reader + "' does not produce text documents");
  Chunker chunks(name, chunk_bytes, sink);
  while (std::getline(in, line)) {
    ++line_no;
    bytes += int64_t(line.size()) + 1;
    // SentencePiece reads UTF-8: other bytes would not reach the shards as written (jsonl-text: the
    // JSON parser refuses them).
    if (const size_t bad = invalid_utf8_at(line); bad != std::string::npos)
      throw ConfigError(fmt::format("{}:{}: byte {} (0x{:02X}) is not valid UTF-8; expected UTF-8 text", file, line_no,
                                    bad + 1, static_cast<unsigned char>(line[bad])));
    if (reader == "brown-tagged") {
      // One sentence per tab-indented line, blank lines between them: sentences join into prose.
      if (!is_blank(line)) chunks.add_sentence(brown_detag(line));
    } else {
      chunks.add_line(line, is_blank(line));
    }
  }
  chunks.emit();
  return bytes;
}

int64_t read_amber_jsonl(const std::string& file, int64_t cols, int64_t vocab_size, const AmberSink& sink) {
  std::ifstream in = open_or_throw(file);
  std::string line;
  int64_t bytes = 0, line_no = 0;
  std::vector<uint32_t> ids(static_cast<size_t>(cols));
  while (std::getline(in, line)) {
    ++line_no;
    bytes += int64_t(line.size()) + 1;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const nlohmann::json j = parse_line(file, line_no, line);
    const auto t = j.find("token_ids");  // end() for a non-object too
    if (t == j.end()) throw ConfigError(fmt::format("{}:{}: field 'token_ids' missing", file, line_no));
    if (!t->is_array()) throw ConfigError(fmt::format("{}:{}: field 'token_ids' is not an array", file, line_no));
    if (int64_t(t->size()) != cols)
      throw ConfigError(fmt::format("{}:{}: field 'token_ids' has {} ids, expected {} (seq_len {} + 1)", file, line_no,
                                    t->size(), cols, cols - 1));
    for (size_t k = 0; k < t->size(); ++k) {
      const nlohmann::json& v = (*t)[k];
      // nlohmann reads a literal without sign, fraction or exponent as unsigned.
      if (!v.is_number_unsigned() || v.get<uint64_t>() >= uint64_t(vocab_size))
        throw ConfigError(fmt::format("{}:{}: field 'token_ids'[{}] = {}: expected an integer id in [0, {})", file,
                                      line_no, k, v.dump(), vocab_size));
      ids[k] = uint32_t(v.get<uint64_t>());
    }
    sink(ids, line_no);
  }
  return bytes;
}

}  // namespace sharelab::data
