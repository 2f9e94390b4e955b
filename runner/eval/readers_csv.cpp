// CSV-based benchmark files: MMLU (hendrycks, headerless question,A,B,C,D,answer) and CrowS-Pairs
// (NYU release, with header), plus the RFC 4180 reader they share.
#include "runner/eval/read_util.h"
#include "runner/eval/task_readers.h"
#include "runner/eval/text_util.h"

namespace sharelab::eval {

std::vector<CsvRow> read_csv(const std::string& path) {
  const std::string text = read_text_file(path);
  std::vector<CsvRow> rows;
  CsvRow row;
  std::string field;
  bool quoted = false, any = false;
  int64_t line = 1;
  row.line = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        if (c == '\n') ++line;
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
      any = true;
    } else if (c == ',') {
      row.fields.push_back(std::move(field));
      field.clear();
      any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (any || !field.empty()) {
        row.fields.push_back(std::move(field));
        rows.push_back(std::move(row));
      }
      field.clear();
      row = CsvRow();
      any = false;
      row.line = ++line;
    } else {
      field += c;
    }
  }
  if (quoted) bad_record(path, "line " + std::to_string(row.line), "unterminated quoted field");
  if (any || !field.empty()) {
    row.fields.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

// MMLU: question.strip() + "\nA. ..\nB. ..\nC. ..\nD. ..\nAnswer:", choices A-D (continuation " A").
std::vector<McDoc> read_mmlu_csv(const std::string& path, const std::string& subject) {
  std::vector<McDoc> docs;
  for (const auto& r : read_csv(path)) {
    const std::string rec = "line " + std::to_string(r.line);
    if (r.fields.size() != 6)
      bad_record(path, rec, std::to_string(r.fields.size()) + " fields, expected 6 (question,A,B,C,D,answer)");
    McDoc d;
    d.id = rec;
    d.subject = subject;
    d.text = py_strip(r.fields[0]);
    for (int k = 0; k < 4; ++k) d.text += "\n" + std::string(1, char('A' + k)) + ". " + r.fields[1 + k];
    d.text += "\nAnswer:";
    d.choices = {"A", "B", "C", "D"};
    const std::string a = py_strip(r.fields[5]);
    d.gold = a.size() == 1 && a[0] >= 'A' && a[0] <= 'D' ? a[0] - 'A' : -1;
    if (d.gold < 0) bad_record(path, rec, "answer field is '" + a + "', expected A-D");
    docs.push_back(std::move(d));
  }
  return docs;
}

// CrowS-Pairs: both sentences scored with an empty context and no delimiter (lm-eval crows_pairs).
std::vector<McDoc> read_crows_pairs_csv(const std::string& path) {
  const auto rows = read_csv(path);
  if (rows.empty()) throw ConfigError(path + ": empty file, expected a header with sent_more,sent_less");
  int more = -1, less = -1;
  for (size_t k = 0; k < rows[0].fields.size(); ++k) {
    if (rows[0].fields[k] == "sent_more") more = int(k);
    if (rows[0].fields[k] == "sent_less") less = int(k);
  }
  if (more < 0 || less < 0) throw ConfigError(path + ": line 1: header lacks 'sent_more' and 'sent_less' columns");
  std::vector<McDoc> docs;
  for (size_t i = 1; i < rows.size(); ++i) {
    const auto& r = rows[i];
    const std::string rec = "line " + std::to_string(r.line);
    if (int(r.fields.size()) <= std::max(more, less))
      bad_record(path, rec, std::to_string(r.fields.size()) + " fields, fewer than the header's");
    McDoc d;
    d.id = r.fields[0].empty() ? rec : r.fields[0];
    d.choices = {r.fields[more], r.fields[less]};
    docs.push_back(std::move(d));
  }
  return docs;
}

}  // namespace sharelab::eval
