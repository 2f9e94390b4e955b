// HF tokenizer files from a SentencePiece model (see hf_tokenizer.h).
#include "runner/interop/hf_tokenizer.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <tuple>
#include <unordered_map>

#include "common/atomic_file.h"
#include "common/errors.h"

namespace sharelab::interop {

using OJson = nlohmann::ordered_json;
using data::SpmPieceType;
using data::SpmVocab;

namespace {

const std::string& piece_or(const SpmVocab& v, int32_t id, const std::string& fallback) {
  return id >= 0 && id < int32_t(v.pieces.size()) ? v.pieces[size_t(id)].piece : fallback;
}

// BPE merges as tokenizers wants them, derived from the vocabulary the way SentencePiece applies
// BPE: every split (l, r) of a piece with both halves in the vocabulary, ranked by the merged
// piece's score (SentencePiece merges the highest-scoring pair first), then by the halves' ids.
OJson bpe_merges(const SpmVocab& v) {
  std::unordered_map<std::string, int32_t> normal;
  for (size_t i = 0; i < v.pieces.size(); ++i)
    if (v.pieces[i].type == SpmPieceType::kNormal) normal.emplace(v.pieces[i].piece, int32_t(i));
  // (-score, merged id, left id, right id)
  std::vector<std::tuple<float, int32_t, int32_t, int32_t>> merges;
  for (size_t i = 0; i < v.pieces.size(); ++i) {
    const auto& p = v.pieces[i];
    if (p.type != SpmPieceType::kNormal) continue;
    for (size_t k = 1; k < p.piece.size(); ++k) {
      if ((static_cast<unsigned char>(p.piece[k]) & 0xC0) == 0x80) continue;  // inside a UTF-8 character
      auto l = normal.find(p.piece.substr(0, k)), r = normal.find(p.piece.substr(k));
      if (l != normal.end() && r != normal.end()) merges.emplace_back(-p.score, int32_t(i), l->second, r->second);
    }
  }
  std::sort(merges.begin(), merges.end());
  OJson out = OJson::array();
  for (const auto& [s, id, l, r] : merges) out.push_back({v.pieces[size_t(l)].piece, v.pieces[size_t(r)].piece});
  return out;
}

OJson bos_template(const SpmVocab& v) {
  const std::string bos = piece_or(v, v.bos_id, "");
  auto special = [&](int type_id) { return OJson{{"SpecialToken", {{"id", bos}, {"type_id", type_id}}}}; };
  auto seq = [](const char* id, int type_id) { return OJson{{"Sequence", {{"id", id}, {"type_id", type_id}}}}; };
  OJson p;
  p["type"] = "TemplateProcessing";
  p["single"] = {special(0), seq("A", 0)};
  p["pair"] = {special(0), seq("A", 0), special(1), seq("B", 1)};
  p["special_tokens"] = {{bos, {{"id", bos}, {"ids", {v.bos_id}}, {"tokens", {bos}}}}};
  return p;
}

}  // namespace

SpecialTokens special_tokens(const SpmVocab& v) {
  SpecialTokens t;
  t.bos = v.bos_id;
  t.eos = v.eos_id;
  t.unk = v.unk_id;
  t.pad = v.pad_id;
  return t;
}

OJson hf_tokenizer_json(const SpmVocab& v, const std::string& origin) {
  if (v.normalizer != "identity" && v.has_charsmap)
    throw ConfigError(origin + ": normalizer_spec.name '" + v.normalizer +
                      "' is not supported by the HF export (train the tokenizer with identity normalization)");
  if (v.remove_extra_whitespaces)
    throw ConfigError(origin + ": normalizer_spec.remove_extra_whitespaces is true; the HF export supports false only");
  if (v.model_type != SpmVocab::ModelType::kBpe && v.model_type != SpmVocab::ModelType::kUnigram)
    throw ConfigError(origin + ": trainer_spec.model_type is " + v.model_type_name() + ", expected bpe or unigram");
  OJson added = OJson::array();
  for (size_t i = 0; i < v.pieces.size(); ++i) {
    const auto t = v.pieces[i].type;
    if (t != SpmPieceType::kControl && t != SpmPieceType::kUnknown && t != SpmPieceType::kUserDefined) continue;
    added.push_back({{"id", i}, {"content", v.pieces[i].piece}, {"single_word", false}, {"lstrip", false},
                     {"rstrip", false}, {"normalized", t == SpmPieceType::kUserDefined},
                     {"special", t != SpmPieceType::kUserDefined}});
  }
  OJson j;
  j["version"] = "1.0";
  j["truncation"] = nullptr;
  j["padding"] = nullptr;
  j["added_tokens"] = added;
  OJson norms = OJson::array();
  if (v.add_dummy_prefix) norms.push_back({{"type", "Prepend"}, {"prepend", "\u2581"}});
  if (v.escape_whitespaces) norms.push_back({{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\u2581"}});
  j["normalizer"] = {{"type", "Sequence"}, {"normalizers", norms}};
  j["pre_tokenizer"] = nullptr;
  j["post_processor"] = v.bos_id >= 0 ? bos_template(v) : OJson(nullptr);
  OJson decoders = OJson::array();
  decoders.push_back({{"type", "Replace"}, {"pattern", {{"String", "\u2581"}}}, {"content", " "}});
  if (v.byte_fallback) decoders.push_back({{"type", "ByteFallback"}});
  decoders.push_back({{"type", "Fuse"}});
  if (v.add_dummy_prefix) decoders.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
  j["decoder"] = {{"type", "Sequence"}, {"decoders", decoders}};
  OJson m;
  if (v.model_type == SpmVocab::ModelType::kBpe) {
    OJson vocab = OJson::object();
    for (size_t i = 0; i < v.pieces.size(); ++i) vocab[v.pieces[i].piece] = i;
    m = {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", piece_or(v, v.unk_id, "<unk>")},
         {"continuing_subword_prefix", nullptr}, {"end_of_word_suffix", nullptr}, {"fuse_unk", true},
         {"byte_fallback", v.byte_fallback}, {"ignore_merges", false}, {"vocab", vocab}, {"merges", bpe_merges(v)}};
  } else {
    OJson vocab = OJson::array();
    for (const auto& p : v.pieces) vocab.push_back({p.piece, p.score});
    m = {{"type", "Unigram"}, {"unk_id", v.unk_id}, {"vocab", vocab}, {"byte_fallback", v.byte_fallback}};
  }
  j["model"] = m;
  return j;
}

void write_hf_tokenizer(const std::string& spm_model_path, const std::string& dir, int64_t model_max_length) {
  namespace fs = std::filesystem;
  const SpmVocab v = data::read_spm_vocab(spm_model_path);
  const OJson tokenizer = hf_tokenizer_json(v, spm_model_path);
  const std::string bos = piece_or(v, v.bos_id, ""), eos = piece_or(v, v.eos_id, ""), unk = piece_or(v, v.unk_id, "");
  OJson map;
  if (!bos.empty()) map["bos_token"] = bos;
  if (!eos.empty()) map["eos_token"] = eos;
  if (!unk.empty()) map["unk_token"] = unk;
  if (v.pad_id >= 0) map["pad_token"] = piece_or(v, v.pad_id, "");
  OJson config = map;
  config["tokenizer_class"] = "PreTrainedTokenizerFast";  // hf_tokenizer.h says why not LlamaTokenizer
  config["add_bos_token"] = v.bos_id >= 0;
  config["add_eos_token"] = false;
  config["clean_up_tokenization_spaces"] = false;
  // SentencePiece reads "<s>" inside a text as characters, not as the control token.
  config["split_special_tokens"] = true;
  config["model_max_length"] = model_max_length;
  std::error_code ec;
  fs::copy_file(spm_model_path, fs::path(dir) / "tokenizer.model", fs::copy_options::overwrite_existing, ec);
  if (ec) throw ConfigError(dir + "/tokenizer.model: cannot copy " + spm_model_path + " (" + ec.message() + ")");
  arch::write_file_atomic((fs::path(dir) / "tokenizer.json").string(), tokenizer.dump(1) + "\n");
  arch::write_file_atomic((fs::path(dir) / "tokenizer_config.json").string(), config.dump(2) + "\n");
  arch::write_file_atomic((fs::path(dir) / "special_tokens_map.json").string(), map.dump(2) + "\n");
}

}  // namespace sharelab::interop
