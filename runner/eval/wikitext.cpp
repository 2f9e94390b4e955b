// WikiText pages, detokenizer and counts (see wikitext.h). The regex steps are hand-written
// equivalents of Python's re.sub (libstdc++'s std::regex recurses and overflows on long pages).
#include "runner/eval/wikitext.h"

#include "runner/eval/text_util.h"

namespace sharelab::eval {

namespace {

// A level-1 heading line: " = Title = " (one '=' each side, not " = = Sub = = ").
bool is_page_title(const std::string& line) {
  const std::string s = py_strip(line);
  return s.size() >= 3 && s.compare(0, 2, "= ") == 0 && s.compare(s.size() - 2, 2, " =") == 0 &&
         s.compare(0, 3, "= =") != 0;
}

// re.sub(open + r"\s*([^" + close + r"]*?)\s*" + close, open + r"\1" + close, s): each `open`
// up to the first following `close` has the whitespace inside both ends removed.
std::string squeeze(const std::string& s, char open, char close) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] == open) {
      const size_t j = s.find(close, i + 1);
      if (j != std::string::npos) {
        out += open;
        out += py_strip(s.substr(i + 1, j - i - 1));  // \s* on both sides: Unicode whitespace
        out += close;
        i = j + 1;
        continue;
      }
    }
    out += s[i++];
  }
  return out;
}

// re.sub(r"/' [0-9]/", r"/'[0-9]/", s): a literal replacement, kept as lm-eval has it.
std::string slash_quote_digit(const std::string& s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    if (i + 5 <= s.size() && s.compare(i, 3, "/' ") == 0 && s[i + 3] >= '0' && s[i + 3] <= '9' && s[i + 4] == '/') {
      out += "/'[0-9]/";
      i += 5;
      continue;
    }
    out += s[i++];
  }
  return out;
}

}  // namespace

std::vector<std::string> split_wikitext_pages(const std::string& text) {
  std::vector<std::string> pages;
  std::string cur;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    end = end == std::string::npos ? text.size() : end + 1;
    const std::string line = text.substr(pos, end - pos);
    pos = end;
    if (is_page_title(line) && py_strip(cur).size() > 0) {
      pages.push_back(cur);
      cur.clear();
    }
    if (cur.empty() && py_strip(line).empty()) continue;  // blank lines before a page's title
    cur += line;
  }
  if (!py_strip(cur).empty()) pages.push_back(cur);
  return pages;
}

std::string wikitext_detokenize(const std::string& page) {
  std::string s = page;
  // contractions
  s = py_replace(s, "s '", "s'");
  s = slash_quote_digit(s);
  // number separators
  s = py_replace(s, " @-@ ", "-");
  s = py_replace(s, " @,@ ", ",");
  s = py_replace(s, " @.@ ", ".");
  // punctuation
  s = py_replace(s, " : ", ": ");
  s = py_replace(s, " ; ", "; ");
  s = py_replace(s, " . ", ". ");
  s = py_replace(s, " ! ", "! ");
  s = py_replace(s, " ? ", "? ");
  s = py_replace(s, " , ", ", ");
  // double brackets
  s = squeeze(s, '(', ')');
  s = squeeze(s, '[', ']');
  s = squeeze(s, '{', '}');
  s = squeeze(s, '"', '"');
  s = squeeze(s, '\'', '\'');
  // miscellaneous
  s = py_replace(s, "= = = =", "====");
  s = py_replace(s, "= = =", "===");
  s = py_replace(s, "= =", "==");
  s = py_replace(s, " \xC2\xB0 ", "\xC2\xB0");  // chr(176), the degree sign
  s = py_replace(s, " \n", "\n");
  s = py_replace(s, "\n ", "\n");
  s = py_replace(s, " N ", " 1 ");
  s = py_replace(s, " 's", "'s");
  return s;
}

bool is_tokenized_wikitext(const std::string& text) {
  return text.find("<unk>") != std::string::npos || text.find(" @-@ ") != std::string::npos;
}

PageCounts page_counts(const std::string& page) {
  return {py_split_ws_count(page), int64_t(page.size())};
}

}  // namespace sharelab::eval
