// manifest.json <-> Manifest through nlohmann::json; every missing or mistyped field is a one-line
// ConfigError naming the file and the field.
#include "runner/data/manifest.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "common/errors.h"
#include "common/json_error.h"

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
  using Json = nlohmann::ordered_json;  // written in this order, for people reading the file
  auto per_split = [](const int64_t v[2]) { return Json{{"train", v[kTrain]}, {"val", v[kVal]}}; };
  Json srcs = Json::array();
  for (const auto& s : sources)
    srcs.push_back({{"name", s.name},
                    {"reader", s.reader},
                    {"weight", s.weight},
                    {"files", s.files},
                    {"bytes", s.bytes},
                    {"docs", per_split(s.docs)},
                    {"tokens", per_split(s.tokens)},
                    {"rows", per_split(s.rows)},
                    {"dropped", per_split(s.dropped)}});
  Json shard_list = Json::array();
  for (const auto& e : shards)
    shard_list.push_back({{"file", e.file}, {"split", split_name(e.split)}, {"rows", e.rows}});
  const int64_t totals[2] = {total_tokens(kTrain), total_tokens(kVal)};
  const Json j = {{"format", "sharelab-shards"},
                  {"version", version},
                  {"seq_len", seq_len},
                  {"vocab_size", vocab_size},
                  {"dtype", dtype},
                  {"tokenizer_sha256", tokenizer_sha256},
                  {"tokenizer_file", tokenizer_file},
                  {"bos_id", bos_id},
                  {"eos_id", eos_id},
                  {"mix_sha256", mix_sha256},
                  {"mix_file", mix_file},
                  {"val_fraction", val_fraction},
                  {"chunk_bytes", chunk_bytes},
                  {"tokens", per_split(totals)},
                  {"sources", srcs},
                  {"shards", shard_list}};
  return j.dump(2) + "\n";
}

namespace {

using nlohmann::json;

struct Reader {
  const std::string& path;
  const json& get(const json& obj, const std::string& key, const std::string& where) const {
    const auto v = obj.find(key);  // end() for a non-object too
    if (v == obj.end()) throw ConfigError(fmt::format("{}: {}missing field '{}'", path, where, key));
    return *v;
  }
  int64_t integer(const json& obj, const std::string& key, const std::string& where = "") const {
    const json& v = get(obj, key, where);
    if (!v.is_number_integer()) throw ConfigError(fmt::format("{}: {}field '{}' must be an integer", path, where, key));
    return v.get<int64_t>();
  }
  double number(const json& obj, const std::string& key, const std::string& where = "") const {
    const json& v = get(obj, key, where);
    if (!v.is_number()) throw ConfigError(fmt::format("{}: {}field '{}' must be a number", path, where, key));
    return v.get<double>();
  }
  std::string string(const json& obj, const std::string& key, const std::string& where = "") const {
    const json& v = get(obj, key, where);
    if (!v.is_string()) throw ConfigError(fmt::format("{}: {}field '{}' must be a string", path, where, key));
    return v.get<std::string>();
  }
  void pair(const json& obj, const std::string& key, int64_t out[2], const std::string& where) const {
    const json& v = get(obj, key, where);
    out[kTrain] = integer(v, "train", where + key + ".");
    out[kVal] = integer(v, "val", where + key + ".");
  }
};

}  // namespace

Manifest Manifest::from_json(const std::string& text, const std::string& path) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    const auto line = 1 + std::count(text.begin(), text.begin() + std::min(e.byte, text.size()), '\n');
    throw ConfigError(fmt::format("{}:{}: not valid JSON: {}", path, line, json_error_reason(e)));
  } catch (const json::exception& e) {  // out_of_range: a number like 1e505
    throw ConfigError(fmt::format("{}: not valid JSON: {}", path, json_error_reason(e)));
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
  if (j.contains("chunk_bytes")) m.chunk_bytes = r.integer(j, "chunk_bytes");  // optional: older manifests lack it
  const json& srcs = r.get(j, "sources", "");
  if (!srcs.is_array()) throw ConfigError(path + ": field 'sources' must be an array");
  for (size_t i = 0; i < srcs.size(); ++i) {
    const std::string where = fmt::format("sources[{}].", i);
    const json& s = srcs[i];
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
  const json& shard_list = r.get(j, "shards", "");
  if (!shard_list.is_array()) throw ConfigError(path + ": field 'shards' must be an array");
  for (size_t i = 0; i < shard_list.size(); ++i) {
    const std::string where = fmt::format("shards[{}].", i);
    ShardEntry e;
    e.file = r.string(shard_list[i], "file", where);
    const std::string split = r.string(shard_list[i], "split", where);
    try {
      e.split = split_from_name(split);
    } catch (const ConfigError&) {
      throw ConfigError(fmt::format("{}: {}field 'split' = '{}', expected train or val", path, where, split));
    }
    e.rows = r.integer(shard_list[i], "rows", where);
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
