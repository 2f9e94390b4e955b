// `runner sweep FILE.toml` (= `runner --sweep FILE.toml`): expand the sweep, print its plan, then
// train every run that is not finished in the results database (a partial run resumes from its
// last checkpoint), then evaluate it on its [eval] tasks. Bad sweep files fail with one line
// before anything is prepared or trained.
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <utility>

#include "common/errors.h"
#include "common/cli.h"
#include "runner/data/manifest.h"
#include "runner/data/sha256.h"
#include "runner/commands.h"
#include "runner/store/results_store.h"
#include "runner/sweep/expand.h"
#include "runner/profile/profiler.h"
#include "runner/sweep/plan.h"
#include "runner/config/run_row.h"
#include "runner/sweep/sweep_file.h"
#include "runner/train/trainer.h"
#include "runner/data/prepare.h"
#include "runner/eval/evaluate.h"

namespace sharelab::runner {

namespace {

namespace fs = std::filesystem;

// The run's [profile] section: Table 11 latencies of the run's model at the run's own scale (a
// paper-scale sweep profiles the full-size model), once per dtype, into the profiles table.
void profile_finished(const config::RunConfig& rc, const std::string& results, store::ResultsStore& store) {
  if (!rc.profile.enabled) return;
  for (const auto& dtype : rc.profile.dtypes) {
    profile::ProfileOptions o;
    o.dtype = dtype;
    o.batch = rc.profile.batch;
    o.seq = std::min(rc.profile.seq, rc.model.max_seq_len);
    o.warmup = rc.profile.warmup;
    o.repeats = rc.profile.repeats;
    o.threads = rc.train.threads;
    o.device = rc.train.device;
    o.work_dir = (fs::path(results) / "profile").string();
    const profile::ProfileResult p = profile::profile_model(rc.model, o);
    store.put_profile(profile::to_profile_row(p));
    std::cerr << fmt::format("sweep: {} profiled ({}): init {:.1f} ms, load {:.1f} ms, forward {:.2f} ms median\n",
                             rc.name, dtype, p.init_ms, p.load_ms, p.fwd_median_ms);
  }
}

// Prepares each data directory the pending runs need and lack, from its data.mix (once per dir,
// rows long enough for the longest sequence that reads it). A directory that exists must have been
// prepared from the current data.mix: one made from another version of it (the default corpus
// changed, say) would be trained on silently, so it is refused with how to get the current one.
void prepare_missing_data(const std::vector<sweep::PlanRow>& rows, bool progress) {
  std::map<std::string, const config::RunConfig*> need;
  std::set<std::pair<std::string, std::string>> checked;  // (dir, mix) pairs compared already
  for (const auto& r : rows) {
    const auto& rc = r.run.config;
    if (r.status == "finished" || rc.data.dir.empty()) continue;
    if (fs::exists(fs::path(rc.data.dir) / "manifest.json")) {
      if (rc.data.mix.empty() || !checked.insert({rc.data.dir, rc.data.mix}).second) continue;
      const std::string prepared = data::Manifest::load(rc.data.dir).mix_sha256,
                        current = data::sha256_file(rc.data.mix);
      if (prepared != current)
        throw ConfigError(fmt::format("{}: prepared from a different {} (sha256 {} vs {} now): remove the folder to "
                                      "prepare it again, or set data.dir to another folder",
                                      rc.data.dir, rc.data.mix, prepared.substr(0, 12), current.substr(0, 12)));
      continue;
    }
    auto& slot = need[rc.data.dir];
    if (!slot || slot->train.seq_len < rc.train.seq_len) slot = &rc;
  }
  for (const auto& [dir, rc] : need) {
    if (rc->data.mix.empty())
      throw ConfigError("run '" + rc->name + "': data.dir '" + dir +
                        "' is not prepared and data.mix is empty (run `runner data prepare` or set data.mix)");
    std::cerr << fmt::format("sweep: preparing {} from {}\n", dir, rc->data.mix);
    data::PrepareOptions po;
    po.mix_path = rc->data.mix;
    po.out_dir = dir;
    po.tokenizer = rc->data.tokenizer;
    po.progress = progress;
    const auto rep = data::prepare_data(po);
    if (rep.manifest.seq_len < rc->train.seq_len)
      throw ConfigError(fmt::format("{}: prepared rows hold seq_len {} but run '{}' needs train.seq_len {}", rc->data.mix,
                                    rep.manifest.seq_len, rc->name, rc->train.seq_len));
  }
}

// Evaluates a run that just finished on its [eval] tasks (none: nothing to do). Returns false
// after printing the error when evaluation fails; the trained run stays finished.
bool evaluate_finished(const config::RunConfig& rc, const std::string& run_dir, store::ResultsStore& store,
                       bool progress) {
  if (rc.eval.tasks.empty()) return true;
  // A fresh clone has no benchmark files: train and tabulate anyway, and say once where they go.
  if (!fs::is_directory(rc.eval.tasks_dir)) {
    static bool said = false;
    if (!said)
      std::cerr << fmt::format(
          "sweep: no benchmark files in '{}': evaluation skipped; evaluate the trained runs with `runner eval "
          "RUN --tasks-dir DIR`, the files laid out as README.md's 'Benchmark files' says\n",
          rc.eval.tasks_dir);
    said = true;
    return true;
  }
  eval::EvalOptions eo;
  eo.tasks = rc.eval.tasks;
  eo.limit = rc.eval.limit;
  eo.protocol = rc.eval.protocol;
  eo.tasks_dir = rc.eval.tasks_dir;
  eo.batch = rc.eval.batch;
  eo.tokenizer = rc.data.tokenizer;
  eo.threads = rc.train.threads;
  eo.progress = progress;
  eo.run_id = rc.run_id();
  try {
    const auto rows = eval::evaluate_run(run_dir, eo, &store);
    std::cerr << fmt::format("sweep: {} evaluated: {} rows\n", rc.name, rows.size());
    return true;
  } catch (const std::exception& e) {
    std::cerr << fmt::format("sweep: {} evaluation failed: {}\n", rc.name, e.what());
    return false;
  }
}

}  // namespace

int cmd_sweep(const Args& args) {
  po::options_description opts(std::string("runner sweep\nprecedence (lowest first): ") + sweep::kPrecedence +
                               "\nthe resolved config of each run is stored (runs.config_json, <run dir>/config.json)");
  std::string file, db, results, scale_name, tasks_dir;
  std::vector<std::string> sets, only;
  bool dry_run = false, no_progress = false;
  opts.add_options()("file", po::value(&file)->required(), "sweep TOML (configs/*.toml)")(
      "dry-run", po::bool_switch(&dry_run), "print the plan (runs, params, tokens, status, projected time); train nothing")(
      "only", po::value(&only)->composing(), "run only these names (comma-separated or repeated; a [[run]] name selects "
                                             "all its grid points)")(
      "set", po::value(&sets)->composing(), "override for every run: section.key=value, value in TOML (repeatable)")(
      "scale", po::value(&scale_name)->default_value(""), "scale (configs/scales/NAME.toml), replaces the sweep's `scale`")(
      "tasks-dir", po::value(&tasks_dir), "benchmark files for [eval] (same as --set eval.tasks_dir=DIR)")(
      "db", po::value(&db)->default_value(store::kDefaultDb), "results database")(
      "results", po::value(&results)->default_value("results"), "runs go to RESULTS/runs/<run_id>/")(
      "no-progress", po::bool_switch(&no_progress), "no progress lines on stderr (data, training, evaluation)");
  po::positional_options_description pos;
  pos.add("file", 1);
  po::variables_map vm;
  // `profile` is the latency command and the [profile] section; the old flag name gets a pointer.
  for (const auto& a : args)
    if (a == "--profile" || a.rfind("--profile=", 0) == 0)
      throw ConfigError("runner sweep: --profile is now --scale (e.g. --scale cpu: configs/scales/cpu.toml)");
  if (!parse_command("runner sweep FILE.toml [--dry-run] [--only NAME[,NAME]] [--set key=value ...] [--scale NAME]",
                     opts, pos, args, vm))
    return 0;

  const sweep::SweepFile sf = sweep::load_sweep(file);
  sweep::ExpandOptions eo;
  eo.scale = scale_name;
  eo.sets = sets;
  if (!tasks_dir.empty())  // a TOML literal string, so that no path reads as a number or a date
    eo.sets.push_back("eval.tasks_dir=" + (tasks_dir.find('\'') == std::string::npos ? "'" + tasks_dir + "'" : tasks_dir));
  eo.only = split_commas(only);
  const auto runs = sweep::expand_sweep(sf, eo);

  // A dry run never creates a database; it reads one when it exists.
  std::unique_ptr<store::ResultsStore> store;
  if (!dry_run || fs::exists(db)) {
    if (auto parent = fs::path(db).parent_path(); !parent.empty()) fs::create_directories(parent);
    store = std::make_unique<store::ResultsStore>(db);
  }
  const auto rows = sweep::make_plan(runs, store.get());
  const std::string scale = runs.empty() ? sf.scale : runs.front().config.scale;
  sweep::print_plan(std::cout, sf.name, scale, rows);
  std::cout.flush();
  if (dry_run) return 0;

  prepare_missing_data(rows, !no_progress);
  // Every run's data is checked before the first one trains: a mistake fails the sweep at once and
  // leaves no run row behind.
  for (const auto& row : rows)
    if (row.status != "finished") train::check_run_inputs(row.run.config);
  int trained = 0, skipped = 0, failed = 0;
  for (const auto& row : rows) {
    const config::RunConfig& rc = row.run.config;
    if (store->is_finished(row.run_id)) {  // re-read: another process may have finished it meanwhile
      std::cerr << fmt::format("sweep: {} ({}) finished already, skipped\n", rc.name, row.run_id);
      ++skipped;
      continue;
    }
    std::cerr << fmt::format("sweep: {} ({}) {}\n", rc.name, row.run_id,
                             row.status == "partial" ? "resuming" : "starting");
    store->begin_run(config::make_run_row(rc));
    train::TrainOptions to;
    to.run_dir = (fs::path(results) / "runs" / row.run_id).string();
    to.store = store.get();
    to.resume = true;
    to.progress = !no_progress;
    try {
      const train::TrainResult r = train::train_run(rc, to);
      store->finish_run(row.run_id, r.finished ? "finished" : "failed");
      std::cerr << fmt::format("sweep: {} done: {} steps, final train loss {:.4f}, val loss {:.4f}, {:.0f} tok/s\n",
                               rc.name, r.steps, r.final_train_loss, r.final_val_loss, r.tokens_per_s);
      ++trained;
      if (r.finished && !evaluate_finished(rc, to.run_dir, *store, !no_progress)) ++failed;
      if (r.finished) profile_finished(rc, results, *store);
    } catch (const ConfigError&) {
      store->finish_run(row.run_id, "failed");
      throw;  // a config or data mistake: every later run would hit it too
    } catch (const std::exception& e) {
      store->finish_run(row.run_id, "failed");
      std::cerr << fmt::format("sweep: {} failed: {}\n", rc.name, e.what());
      ++failed;
    }
  }
  std::cout << fmt::format("sweep {}: {} trained, {} already finished, {} failed\nresults: {} (runs table, sweep '{}'); "
                           "run directories under {}\n",
                           sf.name, trained, skipped, failed, store->path(), sf.name,
                           (fs::path(results) / "runs").string());
  return failed ? kExitRuntime : 0;
}

}  // namespace sharelab::runner
