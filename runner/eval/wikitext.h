// WikiText for lm-eval's `wikitext` task: splitting a wiki.*.tokens / wiki.*.raw file into pages
// (EleutherAI/wikitext_document_level: a page starts at a " = Title = " line), the
// wikitext_detokenizer (tasks/wikitext/preprocess_wikitext.py, ported in order), and the word and
// byte counts taken on the ORIGINAL page, as lm-eval counts them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sharelab::eval {

// Pages of a WikiText file, each the concatenation of its lines (newlines kept), title line first.
std::vector<std::string> split_wikitext_pages(const std::string& text);

std::string wikitext_detokenize(const std::string& page);

// True when the text is the tokenized v1 release (has "<unk>" or " @-@ "), not the raw one.
bool is_tokenized_wikitext(const std::string& text);

struct PageCounts {
  int64_t words = 0;  // len(re.split(r"\s+", page))
  int64_t bytes = 0;  // len(page.encode("utf-8"))
};
PageCounts page_counts(const std::string& page);

}  // namespace sharelab::eval
