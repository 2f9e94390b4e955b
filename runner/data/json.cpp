// Recursive-descent JSON parser (RFC 8259, UTF-8 passthrough, \uXXXX with surrogate pairs).
#include "runner/data/json.h"

#include <cstdlib>
#include <cstring>

namespace sharelab::data {

namespace {

struct Parser {
  const char* s;
  size_t n, i = 0;
  int depth = 0;

  [[noreturn]] void fail(const std::string& what) const { throw JsonError(what, i); }
  void ws() {
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  }
  void expect(char c) {
    if (i >= n || s[i] != c) fail(std::string("expected '") + c + "'");
    ++i;
  }
  void literal(const char* word) {
    size_t len = std::strlen(word);
    if (n - i < len || std::memcmp(s + i, word, len) != 0) fail("invalid literal");
    i += len;
  }

  static void put_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80)
      out += char(cp);
    else if (cp < 0x800)
      out += char(0xC0 | (cp >> 6)), out += char(0x80 | (cp & 0x3F));
    else if (cp < 0x10000)
      out += char(0xE0 | (cp >> 12)), out += char(0x80 | ((cp >> 6) & 0x3F)), out += char(0x80 | (cp & 0x3F));
    else
      out += char(0xF0 | (cp >> 18)), out += char(0x80 | ((cp >> 12) & 0x3F)), out += char(0x80 | ((cp >> 6) & 0x3F)),
          out += char(0x80 | (cp & 0x3F));
  }
  uint32_t hex4() {
    if (n - i < 4) fail("truncated \\u escape");
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s[i++];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= uint32_t(c - '0');
      else if (c >= 'a' && c <= 'f')
        v |= uint32_t(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        v |= uint32_t(c - 'A' + 10);
      else
        fail("bad \\u escape");
    }
    return v;
  }
  std::string str() {
    expect('"');
    std::string out;
    while (true) {
      if (i >= n) fail("unterminated string");
      char c = s[i++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i >= n) fail("unterminated escape");
      switch (s[i++]) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          uint32_t cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00 && n - i >= 6 && s[i] == '\\' && s[i + 1] == 'u') {
            i += 2;
            uint32_t lo = hex4();
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          put_utf8(out, cp);
          break;
        }
        default:
          fail("bad escape");
      }
    }
  }
  void number(Json& v) {
    size_t start = i;
    bool integral = true;
    if (i < n && s[i] == '-') ++i;
    if (i >= n || !(s[i] >= '0' && s[i] <= '9')) fail("invalid number");
    while (i < n && s[i] >= '0' && s[i] <= '9') ++i;
    if (i < n && (s[i] == '.' || s[i] == 'e' || s[i] == 'E')) {
      integral = false;
      if (s[i] == '.') {
        ++i;
        if (i >= n || !(s[i] >= '0' && s[i] <= '9')) fail("invalid number");
        while (i < n && s[i] >= '0' && s[i] <= '9') ++i;
      }
      if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
        if (i >= n || !(s[i] >= '0' && s[i] <= '9')) fail("invalid number");
        while (i < n && s[i] >= '0' && s[i] <= '9') ++i;
      }
    }
    std::string lit(s + start, i - start);
    v.kind = Json::Kind::kNumber;
    v.integral = integral && lit.size() < 19;
    v.number = std::strtod(lit.c_str(), nullptr);
    if (v.integral) v.integer = std::strtoll(lit.c_str(), nullptr, 10);
  }
  void value(Json& v) {
    if (++depth > 256) fail("nesting too deep");
    ws();
    if (i >= n) fail("unexpected end of input");
    switch (s[i]) {
      case '{': {
        v.kind = Json::Kind::kObject;
        ++i;
        ws();
        if (i < n && s[i] == '}') {
          ++i;
          break;
        }
        while (true) {
          ws();
          std::string key = str();
          ws();
          expect(':');
          value(v.object[key]);
          ws();
          if (i < n && s[i] == ',') {
            ++i;
            continue;
          }
          expect('}');
          break;
        }
        break;
      }
      case '[': {
        v.kind = Json::Kind::kArray;
        ++i;
        ws();
        if (i < n && s[i] == ']') {
          ++i;
          break;
        }
        while (true) {
          v.array.emplace_back();
          value(v.array.back());
          ws();
          if (i < n && s[i] == ',') {
            ++i;
            continue;
          }
          expect(']');
          break;
        }
        break;
      }
      case '"':
        v.kind = Json::Kind::kString;
        v.string = str();
        break;
      case 't':
        literal("true");
        v.kind = Json::Kind::kBool;
        v.boolean = true;
        break;
      case 'f':
        literal("false");
        v.kind = Json::Kind::kBool;
        break;
      case 'n':
        literal("null");
        break;
      default:
        number(v);
    }
    --depth;
  }
};

}  // namespace

const Json* Json::find(const std::string& key) const {
  if (kind != Kind::kObject) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &it->second;
}

Json parse_json(const std::string& text) {
  Parser p{text.data(), text.size()};
  Json v;
  p.value(v);
  p.ws();
  if (p.i != p.n) p.fail("trailing characters after the value");
  return v;
}

void append_json_string(std::string& out, const std::string& s) {
  static const char* hex = "0123456789abcdef";
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out += hex[(c >> 4) & 0xF];
          out += hex[c & 0xF];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

}  // namespace sharelab::data
