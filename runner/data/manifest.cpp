// manifest.json <-> Manifest. Hand-written JSON out, parse_json in; every missing or mistyped
// field is a one-line ConfigError naming the file and the field.
#include "runner/data/manifest.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "common/errors.h"
#include "runner/data/json.h"

namespace sharelab::data {

const char* split_name(int split) {
  return split == kTrain ? "train" : "val";
}

int split_from_name(const std::string& name) {
  if (name == "train") return kTrain;
  if (name == "val" || name == "validation") return kVal;
  throw ConfigError("unknown split '" + name + "'; known: train, val");
}

std::string dtype_for_vocab(int64_t vocab_size) {
  return vocab_size <= 65535 ? "uint16" : "uint32";
}

int64_t Manifest::total_tokens(int split) const {
  int64_t t = 0;
  for (const auto& s : sources) t += s.tokens[split];
  return t;
}

std::string Manifest::to_json() const {
  std::string o = "{\n";
  auto str = [&](const char* key, const std::string& v) {
    o += fmt::format("  \"{}\": ", key);
    append_json_string(o, v);
    o += ",\n";
  };
  o += fmt::format("  \"format\": \"sharelab-shards\",\n  \"version\": {},\n", version);
  o += fmt::format("  \"seq_len\": {},\n  \"vocab_size\": {},\n", seq_len, vocab_size);
  str("dtype", dtype);
  str("tokenizer_sha256", tokenizer_sha256);
  str("tokenizer_file", tokenizer_file);
  o += fmt::format("  \"bos_id\": {},\n  \"eos_id\": {},\n", bos_id, eos_id);
  str("mix_sha256", mix_sha256);
  str("mix_file", mix_file);
  o += fmt::format("  \"val_fraction\": {},\n  \"chunk_bytes\": {},\n", val_fraction, chunk_bytes);
  o += fmt::format("  \"tokens\": {{\"train\": {}, \"val\": {}}},\n", total_tokens(kTrain), total_tokens(kVal));
  o += "  \"sources\": [\n";
  for (size_t i = 0; i < sources.size(); ++i) {
    const auto& s = sources[i];
    o += "    {\"name\": ";
    append_json_string(o, s.name);
    o += ", \"reader\": ";
    append_json_string(o, s.reader);
    o += fmt::format(", \"weight\": {}, \"files\": {}, \"bytes\": {}", s.weight, s.files, s.bytes);
    const std::pair<const char*, const int64_t*> per_split[] = {
        {"docs", s.docs}, {"tokens", s.tokens}, {"rows", s.rows}, {"dropped", s.dropped}};
    for (const auto& [key, v] : per_split)
      o += fmt::format(", \"{}\": {{\"train\": {}, \"val\": {}}}", key, v[0], v[1]);
    o += i + 1 < sources.size() ? "},\n" : "}\n";
  }
  o += "  ],\n  \"shards\": [\n";
  for (size_t i = 0; i < shards.size(); ++i) {
    o += "    {\"file\": ";
    append_json_string(o, shards[i].file);
    o += fmt::format(", \"split\": \"{}\", \"rows\": {}}}{}\n", split_name(shards[i].split), shards[i].rows,
                     i + 1 < shards.size() ? "," : "");
  }
  o += "  ]\n}\n";
  return o;
}

namespace {

struct Reader {
  const std::string& path;
  const Json& get(const Json& obj, const std::string& key, const std::string& where) const {
    const Json* v = obj.find(key);
    if (!v) throw ConfigError(fmt::format("{}: {}missing field '{}'", path, where, key));
    return *v;
  }
  int64_t integer(const Json& obj, const std::string& key, const std::string& where = "") const {
    const Json& v = get(obj, key, where);
    if (!v.is_number() || !v.integral)
      throw ConfigError(fmt::format("{}: {}field '{}' must be an integer", path, where, key));
    return v.integer;
  }
  double number(const Json& obj, const std::string& key, const std::string& where = "") const {
    const Json& v = get(obj, key, where);
    if (!v.is_number()) throw ConfigError(fmt::format("{}: {}field '{}' must be a number", path, where, key));
    return v.number;
  }
  std::string string(const Json& obj, const std::string& key, const std::string& where = "") const {
    const Json& v = get(obj, key, where);
    if (!v.is_string()) throw ConfigError(fmt::format("{}: {}field '{}' must be a string", path, where, key));
    return v.string;
  }
  void pair(const Json& obj, const std::string& key, int64_t out[2], const std::string& where) const {
    const Json& v = get(obj, key, where);
    out[0] = integer(v, "train", where + key + ".");
    out[1] = integer(v, "val", where + key + ".");
  }
};

}  // namespace

Manifest Manifest::from_json(const std::string& text, const std::string& path) {
  Json j;
  try {
    j = parse_json(text);
  } catch (const JsonError& e) {
    throw ConfigError(fmt::format("{}: byte {}: not valid JSON: {}", path, e.offset, e.what()));
  }
  if (!j.is_object()) throw ConfigError(path + ": expected a JSON object");
  Reader r{path};
  Manifest m;
  m.version = int(r.integer(j, "version"));
  if (m.version != kManifestVersion)
    throw ConfigError(fmt::format("{}: field 'version' = {}, this build reads {}", path, m.version, kManifestVersion));
  m.seq_len = r.integer(j, "seq_len");
  m.vocab_size = r.integer(j, "vocab_size");
  m.dtype = r.string(j, "dtype");
  if (m.dtype != "uint16" && m.dtype != "uint32")
    throw ConfigError(path + ": field 'dtype' = '" + m.dtype + "', expected uint16 or uint32");
  m.tokenizer_sha256 = r.string(j, "tokenizer_sha256");
  m.tokenizer_file = r.string(j, "tokenizer_file");
  m.bos_id = int32_t(r.integer(j, "bos_id"));
  m.eos_id = int32_t(r.integer(j, "eos_id"));
  m.mix_sha256 = r.string(j, "mix_sha256");
  m.mix_file = r.string(j, "mix_file");
  m.val_fraction = r.number(j, "val_fraction");
  if (j.find("chunk_bytes")) m.chunk_bytes = r.integer(j, "chunk_bytes");  // optional: older manifests lack it
  const Json& srcs = r.get(j, "sources", "");
  if (!srcs.is_array()) throw ConfigError(path + ": field 'sources' must be an array");
  for (size_t i = 0; i < srcs.array.size(); ++i) {
    const std::string where = fmt::format("sources[{}].", i);
    const Json& s = srcs.array[i];
    SourceStats st;
    st.name = r.string(s, "name", where);
    st.reader = r.string(s, "reader", where);
    st.weight = r.number(s, "weight", where);
    st.files = r.integer(s, "files", where);
    st.bytes = r.integer(s, "bytes", where);
    r.pair(s, "docs", st.docs, where);
    r.pair(s, "tokens", st.tokens, where);
    r.pair(s, "rows", st.rows, where);
    r.pair(s, "dropped", st.dropped, where);
    m.sources.push_back(st);
  }
  const Json& shards = r.get(j, "shards", "");
  if (!shards.is_array()) throw ConfigError(path + ": field 'shards' must be an array");
  for (size_t i = 0; i < shards.array.size(); ++i) {
    const std::string where = fmt::format("shards[{}].", i);
    ShardEntry e;
    e.file = r.string(shards.array[i], "file", where);
    e.split = split_from_name(r.string(shards.array[i], "split", where));
    e.rows = r.integer(shards.array[i], "rows", where);
    m.shards.push_back(e);
  }
  return m;
}

Manifest Manifest::load(const std::string& dir) {
  const std::string path = dir + "/" + kManifestName;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": not found (is '" + dir + "' a directory made by `runner data prepare`?)");
  std::stringstream ss;
  ss << in.rdbuf();
  return from_json(ss.str(), path);
}

}  // namespace sharelab::data
