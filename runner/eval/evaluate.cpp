// evaluate_model: tasks -> requests -> batched scores -> metrics -> EvalRows (see evaluate.h).
#include "runner/eval/evaluate.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <map>

#include "common/errors.h"
#include "common/progress.h"
#include "runner/eval/evaluate_internal.h"
#include "runner/eval/fewshot.h"
#include "runner/eval/metrics.h"
#include "runner/eval/perplexity.h"
#include "runner/eval/read_util.h"
#include "runner/eval/scorer.h"
#include "runner/eval/task_readers.h"
#include "runner/eval/wikitext.h"

namespace sharelab::eval {

namespace fs = std::filesystem;
using nlohmann::json;

int64_t protocol_shots(const std::string& protocol, const std::string& task) {
  if (protocol == "mobilellm") return 0;
  if (protocol == "leaderboard-v1") return leaderboard_shots(task);
  throw ConfigError("--protocol '" + protocol + "': expected 'leaderboard-v1' or 'mobilellm'");
}

std::vector<std::string> known_eval_tasks() {
  std::vector<std::string> t = known_tasks();
  for (const char* p : {"wikitext", "wikitext_token", "heldout"}) t.push_back(p);
  return t;
}

namespace {

store::EvalRow make_row(const std::string& run_id, const std::string& task, const std::string& metric, double value,
                        double stderr_, int64_t n, int64_t shots, const EvalOptions& opt, const json& details) {
  return {run_id, task, metric, value, stderr_, n, shots, opt.protocol, details.dump()};
}

// One task's progress; in a log, a line per 10% of it at most every 10 s, and the final one.
ProgressReporter task_progress(std::string label, int64_t total, std::string unit, const EvalOptions& opt) {
  ProgressOptions o;
  o.label = std::move(label);
  o.total = double(total);
  o.unit = std::move(unit);
  o.enabled = opt.progress;
  o.line_every = o.total / 10;
  return ProgressReporter(std::move(o));
}

json common_details(const EvalOptions& opt, const Scorer& scorer) {
  return {{"bos", to_string(opt.bos)}, {"max_length", scorer.max_length()}, {"limit", opt.limit},
          {"precision", opt.bf16 ? "bf16-autocast" : "fp32"}, {"harness", "sharelab eval (lm-eval v0.3 rules)"}};
}

std::vector<store::EvalRow> eval_choice_task(Scorer& scorer, const TextEncoder& enc, const std::string& run_id,
                                             const EvalOptions& opt, const std::string& name) {
  const TaskData task = read_task(name, opt.tasks_dir);
  int64_t shots = opt.shots >= 0 ? opt.shots : protocol_shots(opt.protocol, name);
  json details = common_details(opt, scorer);
  if (!task.fewshot_allowed && shots > 0) {  // TruthfulQA's primer is its fixed context; CrowS has none
    details["shots_requested"] = shots;
    shots = 0;
  }
  const int64_t n = opt.limit > 0 ? std::min<int64_t>(opt.limit, int64_t(task.docs.size())) : int64_t(task.docs.size());
  std::vector<TokenRequest> reqs;
  std::vector<int64_t> first_req(n + 1, 0);
  json shot_indices = json::array();
  for (int64_t i = 0; i < n; ++i) {
    const std::vector<int64_t> s = choose_shots(task, i, shots);
    if (shots > 0) shot_indices.push_back(s);
    for (const auto& r : build_requests(task, i, s)) reqs.push_back(encode_pair(enc, r.context, r.continuation, opt.bos));
    first_req[i + 1] = int64_t(reqs.size());
  }
  ProgressReporter progress = task_progress(name, int64_t(reqs.size()), "req", opt);
  const auto ll = scorer.score(reqs, [&](int64_t done) { progress.update(double(done)); });
  progress.finish(double(reqs.size()));

  std::map<std::string, std::vector<double>> values;                           // metric -> per doc
  std::map<std::string, double> chance;                                       // metric -> mean chance level
  std::map<std::string, std::map<std::string, std::vector<double>>> subject;  // subject -> metric -> per doc
  int64_t cont_tokens = 0;
  for (int64_t i = 0; i < n; ++i) {
    std::vector<double> doc_ll;
    for (int64_t k = first_req[i]; k < first_req[i + 1]; ++k) {
      doc_ll.push_back(ll[k].ll);
      cont_tokens += ll[k].tokens;
    }
    for (const auto& [m, c] : doc_chance(task, task.docs[i])) chance[m] += c / double(n);
    for (const auto& [m, v] : doc_metrics(task, task.docs[i], doc_ll)) {
      values[m].push_back(v);
      if (!task.docs[i].subject.empty()) subject[task.docs[i].subject][m].push_back(v);
    }
  }
  details["files"] = task.files;
  if (!task.note.empty()) details["note"] = task.note;
  details["requests"] = reqs.size();
  details["continuation_tokens"] = cont_tokens;
  details["chance"] = chance;
  details["seconds"] = progress.elapsed_s();
  if (shots > 0) {
    details["fewshot_split"] = task.fewshot_split;
    details["fewshot_seed"] = kFewshotSeed;
    details["fewshot_sampler"] = task.first_n_shots ? "first_n" : "per-doc mt19937_64 (not CPython's random)";
    details["fewshot_indices"] = shot_indices;  // per scored document, into the few-shot split
  }
  std::vector<store::EvalRow> rows;
  if (!subject.empty()) {  // MMLU: per-subject rows, the micro average (v0.4) and the macro one (leaderboard v1)
    json per = json::object();
    double macro = 0;
    for (const auto& [sub, m] : subject) {
      const MeanStderr ms = mean_stderr(m.at("acc"));
      per[sub] = {{"acc", ms.mean}, {"n", ms.n}};
      macro += ms.mean / double(subject.size());
      rows.push_back(make_row(run_id, name + "_" + sub, "acc", ms.mean, ms.stderr_, ms.n, shots, opt,
                              {{"group", name}}));
    }
    details["per_subject"] = per;
    rows.push_back(make_row(run_id, name, "acc_macro", macro, 0, n, shots, opt,
                            {{"what", "unweighted mean over subjects (Open LLM Leaderboard v1 average)"}}));
  }
  for (const auto& [m, v] : values) {
    const MeanStderr ms = mean_stderr(v);
    rows.push_back(make_row(run_id, name, m, ms.mean, ms.stderr_, ms.n, shots, opt, details));
  }
  return rows;
}

// The raw release when supplied, else the shared tokenized one.
std::string wikitext_file(const std::string& tasks_dir) {
  const fs::path raw = fs::path(tasks_dir) / "wikitext-2-raw" / "wiki.test.raw";
  const fs::path tok = fs::path(tasks_dir) / "wikitext-2" / "test.txt";
  return fs::exists(raw) ? raw.string() : tok.string();
}

std::vector<store::EvalRow> eval_wikitext(Scorer& scorer, arch::CausalLM model, const TextEncoder& enc,
                                          const std::string& run_id, const EvalOptions& opt, bool token_ppl) {
  const std::string path = wikitext_file(opt.tasks_dir);
  const std::string text = read_text_file(path);
  const bool tokenized = is_tokenized_wikitext(text);
  const std::string label = tokenized ? "wikitext2_v1_tokenized" : "wikitext2_raw";
  json details = common_details(opt, scorer);
  details["file"] = path;
  details["release"] = tokenized ? "WikiText-2 v1 tokenized (<unk>, @-@): scored as is, not lm-eval's raw release"
                                 : "WikiText-2 raw";
  std::vector<store::EvalRow> rows;
  if (token_ppl) {
    const int64_t chunk = std::min(opt.token_ppl_chunk, scorer.max_length());
    auto chunks = mobilellm_chunks(enc, text, chunk);
    if (opt.limit > 0 && int64_t(chunks.size()) > opt.limit) chunks.resize(opt.limit);
    ProgressReporter progress = task_progress(label + " tok", int64_t(chunks.size()), "chunks", opt);
    const TokenPerplexity p =
        chunk_perplexity(model, chunks, opt.batch, opt.bf16, [&](int64_t d) { progress.update(double(d)); });
    progress.finish(double(chunks.size()));
    details["chunk"] = chunk;
    details["tokens"] = p.tokens;
    details["what"] = "MobileLLM/GPTQ token perplexity: \"\\n\\n\".join(lines), BOS first, tail dropped";
    rows.push_back(make_row(run_id, label, "token_perplexity_" + std::to_string(chunk), p.perplexity, 0, p.chunks, 0,
                            opt, details));
    return rows;
  }
  auto pages = split_wikitext_pages(text);
  if (opt.limit > 0 && int64_t(pages.size()) > opt.limit) pages.resize(opt.limit);
  ProgressReporter progress = task_progress(label, int64_t(pages.size()), "pages", opt);
  const RollingPerplexity p = rolling_perplexity(scorer, enc, pages, opt.bos, /*detokenize=*/true,
                                                 [&](int64_t d) { progress.update(double(d)); });
  progress.finish(double(pages.size()));
  details["what"] = "lm-eval wikitext: document-level rolling loglikelihood, wikitext_detokenizer, words/bytes of "
                    "the original page";
  details["tokens"] = p.tokens;
  details["words"] = p.words;
  details["bytes"] = p.bytes;
  details["ll"] = p.ll;
  rows.push_back(make_row(run_id, label, "word_perplexity", p.word_perplexity, 0, p.pages, 0, opt, details));
  rows.push_back(make_row(run_id, label, "byte_perplexity", p.byte_perplexity, 0, p.pages, 0, opt, details));
  rows.push_back(make_row(run_id, label, "bits_per_byte", p.bits_per_byte, 0, p.pages, 0, opt, details));
  return rows;
}

// The protocol name and a non-empty task list, before anything is read.
void check_options(const EvalOptions& opt) {
  protocol_shots(opt.protocol, "");
  if (opt.tasks.empty()) throw ConfigError("--tasks: no task given; known: " + known_tasks_text() +
                                           ", wikitext, wikitext_token, heldout");
}

}  // namespace

void check_task_files(const EvalOptions& opt) {
  check_options(opt);
  for (const auto& name : opt.tasks) {
    if (name == "heldout") continue;  // the run's own shards, opened when it is scored
    if (name == "wikitext" || name == "wikitext_token")
      (void)read_text_file(wikitext_file(opt.tasks_dir));
    else
      (void)read_task(name, opt.tasks_dir);
  }
}

std::vector<store::EvalRow> evaluate_model_with(arch::CausalLM model, const TextEncoder& enc,
                                                const std::string& run_id, const EvalOptions& opt,
                                                const HeldoutRows& heldout) {
  if (opt.threads > 0) at::set_num_threads(opt.threads);
  check_options(opt);
  ScorerOptions so;
  so.batch = opt.batch;
  so.max_length = opt.max_length;
  so.bf16 = opt.bf16;
  Scorer scorer(model, so);
  std::vector<store::EvalRow> rows;
  for (const auto& name : opt.tasks) {
    std::vector<store::EvalRow> r;
    if (name == "wikitext" || name == "wikitext_token") {
      r = eval_wikitext(scorer, model, enc, run_id, opt, name == "wikitext_token");
    } else if (name == "heldout") {
      if (!heldout) throw ConfigError("task 'heldout': the run's prepared data directory is unknown");
      const HeldoutChunks h = heldout(opt.limit);
      ProgressReporter progress = task_progress("heldout", int64_t(h.chunks.size()), "rows", opt);
      const TokenPerplexity p =
          chunk_perplexity(model, h.chunks, opt.batch, opt.bf16, [&](int64_t d) { progress.update(double(d)); });
      progress.finish(double(h.chunks.size()));
      json details = common_details(opt, scorer);
      details["data_dir"] = h.dir;
      details["tokens"] = p.tokens;
      details["what"] = "token perplexity on the held-out (val) split of the training mix";
      r.push_back(make_row(run_id, "heldout_val", "token_perplexity", p.perplexity, 0, p.chunks, 0, opt, details));
    } else {
      r = eval_choice_task(scorer, enc, run_id, opt, name);
    }
    rows.insert(rows.end(), r.begin(), r.end());
  }
  return rows;
}

std::vector<store::EvalRow> evaluate_model(arch::CausalLM model, const TextEncoder& enc, const std::string& run_id,
                                           const EvalOptions& opt) {
  return evaluate_model_with(model, enc, run_id, opt, {});
}

}  // namespace sharelab::eval
