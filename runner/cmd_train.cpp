// `runner train PRESET --data DIR [--set section.key=value ...]`: one ad-hoc run, and
// `runner resume RUN_DIR_OR_ID`: continue a run from its directory's latest checkpoint.
// Both record the run in the results database (run row, series, scalars) unless --no-db.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>

#include "common/errors.h"
#include "arch/registry.h"
#include "common/cli.h"
#include "common/launch_env.h"
#include "common/stop_signal.h"
#include "runner/commands.h"
#include "runner/dist/job.h"
#include "runner/dist_flags.h"
#include "runner/store/results_store.h"
#include "runner/train/run_json.h"
#include "runner/config/config_fields.h"
#include "runner/config/toml_value.h"
#include "runner/config/run_row.h"
#include "runner/sweep/sweep_file.h"
#include "runner/train/checkpoint.h"
#include "runner/train/validate_train.h"
#include "runner/train/train_loop.h"
#include "runner/train/trainer.h"

namespace sharelab::runner {

namespace {

// The flags `runner train` and `runner resume` share: where runs and results go, and how it runs.
struct RecordFlags {
  std::string runs_dir, db;
  bool no_db = false, no_progress = false;
  double stop_after_tokens = 0;
  DistFlags dist;
};

void add_record_flags(po::options_description& opts, RecordFlags& f, const char* runs_dir_help) {
  opts.add_options()("runs-dir", po::value(&f.runs_dir)->default_value("results/runs"), runs_dir_help)(
      "db", po::value(&f.db)->default_value(store::kDefaultDb), "results database")(
      "no-db", po::bool_switch(&f.no_db), "do not record the run in a database")(
      "stop-after-tokens", po::value(&f.stop_after_tokens)->default_value(0),
      "stop after the first checkpoint at or past this many tokens (not a finished run; tests)")(
      "no-progress", po::bool_switch(&f.no_progress), "no progress lines on stderr (checkpoint and validation lines stay)");
  add_dist_flags(opts, f.dist);
}

// Train (or resume) `rc` in `run_dir`, recording it in the flags' database unless --no-db.
int train_and_record(const config::RunConfig& rc, const std::string& run_dir, const RecordFlags& f) {
  const std::string db = f.no_db ? "" : f.db;
  train::check_run_inputs(rc, world_size());  // a refused run leaves no row behind
  // nor does a run directory whose checkpoint is not this run's (resume, or train with the same config)
  if (const auto latest = train::latest_checkpoint(run_dir)) train::check_checkpoint(*latest, rc.canonical_json());
  install_stop_handlers();
  dist::Comm* comm = join_job(rc.train.device, f.dist);
  const bool speaks = !comm || comm->rank() == 0;  // rank 0 records the run and prints its result
  std::unique_ptr<store::ResultsStore> store;
  if (!db.empty() && speaks) {
    if (auto parent = std::filesystem::path(db).parent_path(); !parent.empty()) std::filesystem::create_directories(parent);
    store = std::make_unique<store::ResultsStore>(db, store::ResultsStore::Access::kWrite);
    store->begin_run(config::make_run_row(rc, comm ? comm->world() : 1));
  }
  train::TrainOptions opt;
  opt.run_dir = run_dir;
  opt.store = store.get();
  opt.resume = true;
  opt.stop_after_tokens = f.stop_after_tokens;
  opt.progress = !f.no_progress;
  opt.comm = comm;
  opt.bucket_bytes = f.dist.bucket_bytes();
  train::TrainResult r;
  try {
    r = train::train_run(rc, opt);
  } catch (...) {
    if (store) store->finish_run(rc.run_id(), "failed");
    throw;
  }
  if (store && r.finished) store->finish_run(rc.run_id(), "finished");
  dist::end_job();
  if (!speaks) return r.preempted ? kExitRequeue : 0;
  fmt::print("run {} {}: steps {} tokens {:.6g} epochs {:.3f} tokens/s {:.1f}\n", rc.run_id(),
             r.finished ? "finished" : "stopped", r.steps, r.tokens, r.epochs, r.tokens_per_s);
  fmt::print("final_train_loss {:.17g}\n", r.final_train_loss);
  if (r.final_val_loss > 0) fmt::print("final_val_loss {:.17g}\n", r.final_val_loss);
  fmt::print("checkpoint {}\nrun_dir {}\n", r.final_checkpoint, run_dir);
  if (store) fmt::print("results {}\n", store->path());
  return r.preempted ? kExitRequeue : 0;
}

}  // namespace

int cmd_train(const Args& args) {
  po::options_description opts("runner train");
  std::string preset, data, name;
  std::vector<std::string> sets;
  RecordFlags flags;
  opts.add_options()("preset", po::value(&preset)->required(), "preset name (runner presets)")(
      "data", po::value(&data)->required(), "prepared data directory (runner data prepare)")(
      "set", po::value(&sets)->multitoken()->composing(), "override: model.KEY=V, train.KEY=V, data.KEY=V (repeatable)")(
      "name", po::value(&name)->default_value(""), "run name (default: the preset)")(
      "init-from", po::value<std::string>(), "start from these weights: an HF directory or a weights file (train.init_from)");
  add_record_flags(opts, flags, "runs live in RUNS_DIR/<run_id>");
  po::positional_options_description pos;
  pos.add("preset", 1);
  po::variables_map vm;
  if (!parse_command("runner train PRESET --data DIR [--set section.key=value ...]", opts, pos, args, vm)) return 0;

  config::RunConfig rc;
  rc.sweep = "adhoc";
  rc.preset = preset;
  rc.scale = "custom";
  rc.data.dir = data;
  rc.model = arch::resolve_preset(preset);
  // The sweep's typed assignment: the same keys, types and messages as `runner sweep --set`.
  for (const auto& s : sets) config::assign(rc, config::parse_set(s));
  if (vm.count("init-from")) rc.train.init_from = vm["init-from"].as<std::string>();
  rc.model.validate();
  rc.name = name.empty() ? preset : name;
  train::validate_train(rc.train);
  return train_and_record(rc, flags.runs_dir + "/" + rc.run_id(), flags);
}

int cmd_resume(const Args& args) {
  po::options_description opts("runner resume");
  std::string run;
  RecordFlags flags;
  opts.add_options()("run", po::value(&run)->required(), "run directory, or run id under --runs-dir");
  add_record_flags(opts, flags, "where run ids are looked up");
  po::positional_options_description pos;
  pos.add("run", 1);
  po::variables_map vm;
  if (!parse_command("runner resume RUN_DIR_OR_ID [--runs-dir DIR] [--db FILE]", opts, pos, args, vm)) return 0;

  std::string run_dir = run;
  if (!std::filesystem::exists(run_dir + "/config.json")) run_dir = flags.runs_dir + "/" + run;
  if (!std::filesystem::exists(run_dir + "/config.json"))
    throw ConfigError("runner resume: '" + run + "' is neither a run directory nor a run id under " + flags.runs_dir +
                      " (no config.json)");
  const config::RunConfig rc = train::load_run_config(run_dir + "/config.json");
  return train_and_record(rc, run_dir, flags);
}

}  // namespace sharelab::runner
