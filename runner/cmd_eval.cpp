// `runner eval RUN_DIR_OR_CHECKPOINT --tasks ...`: lm-eval-compatible multiple-choice benchmarks
// and perplexities for a run directory, a checkpoint file or an HF LLaMA directory; one results
// row per task x metric (value, stderr, n, shots, protocol, details) into the database.
#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <thread>

#include "common/cli.h"
#include "common/threads.h"
#include "runner/commands.h"
#include "runner/eval/evaluate.h"

namespace sharelab::runner {

int cmd_eval(const Args& args) {
  eval::EvalOptions opt;
  std::string path, tasks, bos = "none", db;
  bool no_progress = false;
  po::options_description opts("runner eval");
  opts.add_options()("path", po::value(&path)->required(), "run directory, checkpoint .h5, or HF model directory")(
      "tasks", po::value(&tasks)->required(),
      "comma-separated: arc_challenge,arc_easy,hellaswag,piqa,winogrande,siqa,boolq,openbookqa,race,"
      "truthfulqa_mc1,truthfulqa_mc2,mmlu,crows_pairs,wikitext,wikitext_token,heldout")(
      "limit", po::value(&opt.limit)->default_value(0), "documents per task (0 = all)")(
      "shots", po::value(&opt.shots)->default_value(-1), "few-shot examples (-1 = the protocol's)")(
      "protocol", po::value(&opt.protocol)->default_value("mobilellm"), "leaderboard-v1 | mobilellm")(
      "tasks-dir", po::value(&opt.tasks_dir)->default_value(config::kDefaultTasksDir), "benchmark files (shared/data layout)")(
      "tokenizer", po::value(&opt.tokenizer), "SentencePiece model (default: the run's / the HF dir's)")(
      "db", po::value(&db)->default_value(store::kDefaultDb), "results database ('' = do not store)")(
      "batch", po::value(&opt.batch)->default_value(8), "requests per forward")(
      "bos", po::value(&bos)->default_value("none"), "none (lm-eval v0.3, leaderboard v1) | bos")(
      "bf16", po::bool_switch(&opt.bf16), "bf16 autocast forward")(
      "max-length", po::value(&opt.max_length)->default_value(0), "model input length (0 = max_seq_len)")(
      "threads", po::value(&opt.threads)->default_value(0), "LibTorch threads (0 = all cores)")(
      "run-id", po::value(&opt.run_id), "store the rows under this run id")(
      "no-progress", po::bool_switch(&no_progress), "no progress lines on stderr");
  po::positional_options_description pos;
  pos.add("path", 1);
  po::variables_map vm;
  if (!parse_command("runner eval RUN_DIR_OR_CHECKPOINT --tasks t1,t2 [--limit N] [--shots K] "
                     "[--protocol leaderboard-v1|mobilellm] [--db PATH]",
                     opts, pos, args, vm))
    return 0;
  opt.tasks = split_commas({tasks});
  opt.bos = eval::parse_bos_policy(bos);
  opt.progress = !no_progress;
  opt.threads = threads_or_cores(opt.threads);
  if (opt.batch < 1) throw ConfigError("--batch " + std::to_string(opt.batch) + ": must be >= 1");
  for (const auto& t : opt.tasks) eval::protocol_shots(opt.protocol, t);  // bad protocol fails before loading

  // An existing database is checked before the (possibly long) evaluation; a new one is created only
  // once there are rows for it, so a refused model or benchmark file leaves no file behind.
  constexpr auto kWrite = store::ResultsStore::Access::kWrite;
  std::unique_ptr<store::ResultsStore> store;
  if (!db.empty() && std::filesystem::exists(db)) store = std::make_unique<store::ResultsStore>(db, kWrite);
  const auto rows = eval::evaluate_run(path, opt, store.get());
  if (!db.empty() && !store) {
    store = std::make_unique<store::ResultsStore>(db, kWrite);
    store->put_evals(rows);
  }
  fmt::print("{:<40} {:<26} {:>10} {:>9} {:>6} {:>5}  {}\n", "task", "metric", "value", "stderr", "n", "shots",
             "protocol");
  for (const auto& r : rows)
    fmt::print("{:<40} {:<26} {:>10.4f} {:>9.4f} {:>6} {:>5}  {}\n", r.task, r.metric, r.value, r.stderr_, r.n, r.shots,
               r.protocol);
  if (store) fmt::print("{} rows -> {}\n", rows.size(), db);
  return 0;
}

}  // namespace sharelab::runner
