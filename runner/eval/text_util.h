// Python string semantics the lm-eval preprocessing depends on, for UTF-8 std::string:
// len() in code points, str.strip()/rstrip() with Unicode whitespace, str.capitalize(), the
// single-pass non-overlapping str.replace(), re.sub(r"\[.*?\]", "", t) and len(re.split(r"\s+", t)).
#pragma once

#include <cstdint>
#include <string>

namespace sharelab::eval {

// Python len(s): Unicode code points (continuation bytes 10xxxxxx are not counted). Not bytes.
int64_t code_points(const std::string& s);

// Python str.isspace() for one code point.
bool is_py_space(uint32_t cp);

std::string py_strip(const std::string& s);
std::string py_rstrip(const std::string& s);

// Python str.capitalize(): first code point upper-cased, every other one lower-cased. Case
// mapping covers ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic (what English benchmark
// text contains); other scripts pass through unchanged.
std::string py_capitalize(const std::string& s);

// Python s.replace(from, to): one left-to-right pass, non-overlapping ("   " with "  "->" " is "  ").
std::string py_replace(const std::string& s, const std::string& from, const std::string& to);

// re.sub(r"\[.*?\]", "", s): each '[' up to the first following ']' on the same line ('.' does
// not match '\n'); a '[' without a ']' before the line ends is kept.
std::string remove_bracketed(const std::string& s);

// len(re.split(r"\s+", s)): maximal whitespace runs + 1 (leading/trailing runs count too).
int64_t py_split_ws_count(const std::string& s);

// Decode one code point at s[i]; advances i. Invalid bytes decode as themselves (Latin-1).
uint32_t next_code_point(const std::string& s, size_t& i);
void append_utf8(std::string& out, uint32_t cp);

}  // namespace sharelab::eval
