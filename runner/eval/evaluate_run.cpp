// evaluate_run: a run directory / checkpoint / HF model + its SentencePiece tokenizer (the data
// part's dlopen'ed Tokenizer) + the held-out split (its ShardLoader) -> EvalRows in the store.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <optional>

#include "common/errors.h"
#include "runner/data/loader.h"
#include "runner/data/tokenizer.h"
#include "runner/eval/evaluate_internal.h"
#include "runner/eval/model_source.h"

namespace sharelab::eval {

namespace {

struct SentencePieceEncoder : TextEncoder {
  explicit SentencePieceEncoder(const data::Tokenizer& t) : tok(t) {}
  std::vector<int32_t> encode(const std::string& text) const override { return tok.encode(text); }
  int32_t bos_id() const override { return tok.bos_id(); }
  int32_t eos_id() const override { return tok.eos_id(); }
  const data::Tokenizer& tok;
};

// Stands in when only "heldout" runs: any text task would have needed a real tokenizer.
struct NoTextEncoder : TextEncoder {
  std::vector<int32_t> encode(const std::string&) const override {
    throw ConfigError("this evaluation has no tokenizer; pass --tokenizer FILE");
  }
  int32_t bos_id() const override { return 1; }
  int32_t eos_id() const override { return 2; }
};

}  // namespace

std::vector<store::EvalRow> evaluate_run(const std::string& path, const EvalOptions& opt, store::ResultsStore* store) {
  ModelSource src = load_model_source(path);
  const std::string tok_path = opt.tokenizer.empty() ? src.tokenizer : opt.tokenizer;
  const bool text_tasks = std::any_of(opt.tasks.begin(), opt.tasks.end(), [](const auto& t) { return t != "heldout"; });
  if (tok_path.empty() && text_tasks)
    throw ConfigError(path + ": no tokenizer known for this model; pass --tokenizer FILE (a SentencePiece .model)");
  // Held-out perplexity reads token ids straight from the shards: it needs no tokenizer (Amber input has none).
  std::optional<data::Tokenizer> tok;
  if (!tok_path.empty()) tok.emplace(data::Tokenizer::load(tok_path));
  if (tok && tok->vocab_size() > src.model->spec().vocab_size)
    throw ConfigError(tok_path + ": tokenizer vocabulary " + std::to_string(tok->vocab_size()) +
                      " exceeds the model's vocab_size " + std::to_string(src.model->spec().vocab_size));
  NoTextEncoder none;
  std::optional<SentencePieceEncoder> spm;
  if (tok) spm.emplace(*tok);
  const TextEncoder& enc = spm ? static_cast<const TextEncoder&>(*spm) : none;
  HeldoutRows heldout;
  if (!src.data_dir.empty()) {
    heldout = [&](int64_t limit) {
      // Rows as long as the model's context (shards may be prepared longer: the loader cuts them).
      data::LoaderOptions lo;
      lo.log_epochs = false;
      const int64_t ctx = opt.max_length > 0 ? opt.max_length : src.model->spec().max_seq_len;
      if (data::ShardLoader(src.data_dir, "val", lo).seq_len() > ctx) lo.seq_len = ctx;
      data::ShardLoader loader(src.data_dir, "val", lo);
      int64_t rows = loader.rows_per_epoch();
      if (limit > 0) rows = std::min(rows, limit);
      HeldoutChunks h;
      h.dir = src.data_dir;
      if (rows <= 0) throw ConfigError(src.data_dir + ": the held-out (val) split has no rows");
      const data::TokenBatch b = loader.next(rows);
      for (int64_t r = 0; r < b.rows; ++r)
        h.chunks.emplace_back(b.tokens.begin() + r * b.cols, b.tokens.begin() + (r + 1) * b.cols);
      return h;
    };
  }
  const std::string run_id = opt.run_id.empty() ? src.run_id : opt.run_id;
  check_task_files(opt);  // a broken benchmark file is the only line on stderr, before any scoring
  fmt::print(stderr, "eval: {} ({} {}), tokenizer {}, protocol {}, bos {}\n", run_id, src.kind, src.checkpoint, tok_path,
             opt.protocol, to_string(opt.bos));
  std::vector<store::EvalRow> rows = evaluate_model_with(src.model, enc, run_id, opt, heldout);
  const std::string tok_sha = tok ? tok->sha256() : "";
  for (auto& r : rows) {  // the tokenizer and checkpoint are part of what was measured
    nlohmann::json d = nlohmann::json::parse(r.details_json);
    d["tokenizer_sha256"] = tok_sha;
    d["checkpoint"] = src.checkpoint;
    r.details_json = d.dump();
  }
  if (store) store->put_evals(rows);
  return rows;
}

}  // namespace sharelab::eval
