// render_tables: definitions + database -> text.
#include "analysis/report.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <stdexcept>

#include "common/errors.h"

namespace sharelab::analysis {

std::string render_tables(const TablesRequest& req) {
  const auto specs = load_table_specs(req.experiments);
  std::vector<const TableSpec*> chosen;
  std::vector<std::string> known;
  for (const auto& s : specs) {
    known.push_back(s.id);
    if (req.table == "all" || req.table == s.id) chosen.push_back(&s);
  }
  if (chosen.empty())
    throw ConfigError(fmt::format("--table '{}': no such table in {}/ (known: {}, all)", req.table, req.experiments,
                                  fmt::join(known, ", ")));
  DbView view;
  if (std::filesystem::exists(req.db)) {
    store::ResultsStore db(req.db);
    view = load_view(db, req.sweep);
  } else {
    std::cerr << "analysis: no database at " << req.db << "; measured values will show as missing\n";
    view.path = req.db;
    view.sweep = req.sweep;
  }
  std::string out;
  for (const TableSpec* s : chosen) {
    if (!out.empty()) out += "\n";
    out += render(build_table(*s, view, req.build), req.format);
  }
  return out;
}

void write_text_atomic(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw std::runtime_error("cannot write " + tmp);
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) {
      ::close(fd);
      throw std::runtime_error("write failed: " + tmp);
    }
    done += size_t(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) throw std::runtime_error("fsync/close failed: " + tmp);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw std::runtime_error("rename failed: " + tmp + " -> " + path);
}

}  // namespace sharelab::analysis
