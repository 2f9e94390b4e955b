// `runner sweep FILE.toml` (= `runner --sweep FILE.toml`): expand the sweep, print its plan, then
// train every run that is not finished in the results database (a partial run resumes from its
// last checkpoint), then evaluate it on its [eval] tasks. Bad sweep files fail with one line
// before anything is prepared or trained.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <utility>

#include "common/errors.h"
#include "common/cli.h"
#include "common/launch_env.h"
#include "runner/data/manifest.h"
#include "runner/data/sha256.h"
#include "common/stop_signal.h"
#include "kernels/torch_compat.h"
#include "runner/commands.h"
#include "runner/dist/job.h"
#include "runner/dist_flags.h"
#include "runner/store/results_store.h"
#include "runner/sweep/expand.h"
#include "runner/profile/profiler.h"
#include "runner/sweep/plan.h"
#include "runner/config/run_row.h"
#include "runner/sweep/slurm_script.h"
#include "runner/sweep/sweep_file.h"
#include "runner/train/checkpoint.h"
#include "runner/train/trainer.h"
#include "runner/data/prepare.h"
#include "runner/eval/evaluate.h"

namespace sharelab::runner {

namespace {

namespace fs = std::filesystem;

// How long the other ranks wait for rank 0's decisions (data preparation, evaluation between runs).
constexpr std::chrono::hours kLongWait{24};

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
  std::vector<std::string> sets, only, seeds;
  bool dry_run = false, no_progress = false;
  std::string slurm_dir;
  sweep::SlurmOptions slurm;
  opts.add_options()("file", po::value(&file)->required(), "sweep TOML (configs/*.toml)")(
      "dry-run", po::bool_switch(&dry_run), "print the plan (runs, params, tokens, status, projected time); train nothing")(
      "only", po::value(&only)->composing(), "run only these names (comma-separated or repeated; a [[run]] name selects "
                                             "all its grid points)")(
      "seeds", po::value(&seeds)->composing(), "run every run once per seed (e.g. 0,1,2): replaces the sweep's "
                                               "`seeds`; runs are named NAME-seed=S and run seed by seed")(
      "set", po::value(&sets)->composing(), "override for every run: section.key=value, value in TOML (repeatable)")(
      "scale", po::value(&scale_name)->default_value(""), "scale (configs/scales/NAME.toml), replaces the sweep's `scale`")(
      "tasks-dir", po::value(&tasks_dir), "benchmark files for [eval] (same as --set eval.tasks_dir=DIR)")(
      "db", po::value(&db)->default_value(store::kDefaultDb), "results database")(
      "results", po::value(&results)->default_value("results"), "runs go to RESULTS/runs/<run_id>/")(
      "no-progress", po::bool_switch(&no_progress), "no progress lines on stderr (data, training, evaluation)")(
      "emit-slurm", po::value(&slurm_dir), "write DIR/<run>.sbatch per run (srun, one task per GPU, --only that run, "
                                           "requeue on preemption, logs per rank in DIR/logs) and DIR/submit_all.sh; "
                                           "print the plan, train nothing")(
      "nodes", po::value(&slurm.nodes)->default_value(1), "nodes per run (--emit-slurm; with --dry-run: the plan of "
                                                          "such a job, world = nodes x gpus-per-node)")(
      "gpus-per-node", po::value(&slurm.gpus_per_node)->default_value(8),
      "with --emit-slurm or --nodes: GPUs = tasks per node (0: CPU nodes, one task each); on GPUs every run gets "
      "--set train.device=\"cuda\" unless a --set gives train.device")(
      "cpus-per-task", po::value(&slurm.cpus_per_task)->default_value(8), "--emit-slurm: CPUs per task")(
      "time", po::value(&slurm.time)->default_value("48:00:00"),
      "--emit-slurm: time limit per job; 600 s before it the runner checkpoints, exits 75 and the job requeues")(
      "partition", po::value(&slurm.partition), "--emit-slurm: Slurm partition (default: the cluster's)")(
      "account", po::value(&slurm.account), "--emit-slurm: Slurm account (default: yours)");
  DistFlags dist_flags;
  add_dist_flags(opts, dist_flags);
  po::positional_options_description pos;
  pos.add("file", 1);
  po::variables_map vm;
  // `profile` is the latency command and the [profile] section; the old flag name gets a pointer.
  for (const auto& a : args)
    if (a == "--profile" || a.rfind("--profile=", 0) == 0)
      throw ConfigError("runner sweep: --profile is now --scale (e.g. --scale cpu: configs/scales/cpu.toml)");
  if (!parse_command("runner sweep FILE.toml [--dry-run] [--only NAME[,NAME]] [--seeds 0,1,2] [--set key=value ...] [--scale NAME] "
                     "[--emit-slurm DIR --nodes N --gpus-per-node G]",
                     opts, pos, args, vm))
    return 0;
  // With --emit-slurm, --nodes or --gpus-per-node the plan is a Slurm job's: nodes x GPUs per node ranks.
  const bool slurm_job = vm.count("emit-slurm") || !vm["nodes"].defaulted() || !vm["gpus-per-node"].defaulted();
  slurm.dir = slurm_dir;
  slurm.sets = sets;
  if (slurm_job) sweep::check_slurm_options(slurm);
  if (slurm_job && !dry_run && !vm.count("emit-slurm"))
    throw ConfigError("runner sweep: --nodes/--gpus-per-node size a plan (--dry-run) or scripts (--emit-slurm); "
                      "a training job takes its size from its launcher (torchrun, srun, --nproc)");
  if (vm.count("emit-slurm")) dry_run = true;  // writes scripts: no database, no training

  const sweep::SweepFile sf = sweep::load_sweep(file);
  sweep::ExpandOptions eo;
  eo.scale = scale_name;
  eo.sets = sets;
  if (!tasks_dir.empty())  // a TOML literal string, so that no path reads as a number or a date
    eo.sets.push_back("eval.tasks_dir=" + (tasks_dir.find('\'') == std::string::npos ? "'" + tasks_dir + "'" : tasks_dir));
  eo.only = split_commas(only);
  for (const auto& item : split_commas(seeds)) {
    size_t used = 0;
    int64_t x = -1;
    try {
      x = std::stoll(item, &used);
    } catch (const std::logic_error&) {
    }
    if (used != item.size() || x < 0 ||
        std::find(eo.seeds.begin(), eo.seeds.end(), x) != eo.seeds.end())
      throw ConfigError("--seeds: expected distinct integers >= 0 separated by commas, got '" + item + "'");
    eo.seeds.push_back(x);
  }
  if (const auto device = slurm_job ? sweep::slurm_device_set(slurm) : ""; !device.empty()) eo.sets.push_back(device);
  const auto runs = sweep::expand_sweep(sf, eo);

  // Data parallel: every rank runs this command; rank 0 prints, prepares data, owns the database and
  // decides each run (the others follow its decisions through the job's store), evaluates and profiles.
  const LaunchEnv launch = read_launch_env();
  const bool speaks = launch.rank == 0;
  // The plan reads the database when it exists (a training job checks here that it can write it); a
  // new one is created only once every run's inputs are checked, below, and a dry run never creates one.
  std::unique_ptr<store::ResultsStore> store;
  if (speaks && fs::exists(db))
    store = std::make_unique<store::ResultsStore>(
        db, dry_run ? store::ResultsStore::Access::kRead : store::ResultsStore::Access::kWrite);
  const int world = slurm_job ? slurm.world() : sharelab::world_size();
  const auto rows = sweep::make_plan(runs, store.get(), world);
  const std::string scale = runs.empty() ? sf.scale : runs.front().config.scale;
  if (speaks) sweep::print_plan(std::cout, sf.name, scale, rows, world);
  std::cout.flush();
  if (vm.count("emit-slurm")) {
    slurm.runner = fs::canonical("/proc/self/exe").string();
    slurm.workdir = fs::current_path().string();
    slurm.sweep_file = file;
    if (!scale_name.empty()) slurm.args.insert(slurm.args.end(), {"--scale", scale_name});
    for (const auto& s : seeds) slurm.args.insert(slurm.args.end(), {"--seeds", s});
    for (const auto& s : sets) slurm.args.insert(slurm.args.end(), {"--set", s});
    if (vm.count("tasks-dir")) slurm.args.insert(slurm.args.end(), {"--tasks-dir", tasks_dir});
    if (!vm["db"].defaulted()) slurm.args.insert(slurm.args.end(), {"--db", db});
    if (!vm["results"].defaulted()) slurm.args.insert(slurm.args.end(), {"--results", results});
    if (no_progress) slurm.args.push_back("--no-progress");
    std::set<std::string> finished;
    for (const auto& r : rows)
      if (r.status == "finished") finished.insert(r.run_id);
    const auto scripts = sweep::write_slurm_scripts(runs, slurm, finished);
    const fs::path dir = fs::absolute(slurm_dir).lexically_normal();
    std::cout << fmt::format("slurm: {} script(s) in {} ({} node(s) x {} task(s) each, world {}); submit them with "
                             "{}; logs in {}\n",
                             scripts.size(), dir.string(), slurm.nodes, slurm.tasks_per_node(), slurm.world(),
                             (dir / "submit_all.sh").string(), (dir / "logs").string());
    return 0;
  }
  if (dry_run) return 0;

  install_stop_handlers();
  dist::Comm* comm = nullptr;
  // Every rank joins (rank 0 alone knows which runs are finished): on the first run's device.
  if (!rows.empty()) comm = join_job(rows.front().run.config.train.device, dist_flags);
  // Rank 0's word on what happens next; the others wait for it (data preparation, evaluation).
  auto decided = [&](const std::string& what) { return comm ? comm->share(what, kLongWait) : what; };
  std::string prepared = "ok";
  if (speaks) {
    try {
      prepare_missing_data(rows, !no_progress);
    } catch (const std::exception& e) {
      prepared = e.what();
      decided("error");
      throw;
    }
  }
  if (decided(prepared) != "ok") throw ConfigError("sweep: rank 0 could not prepare the data (its error says why)");
  // Every run's data is checked before the first one trains: a mistake fails the sweep at once and
  // leaves no run row behind. Which runs are finished only rank 0 knows (the database).
  std::set<std::string> finished;
  for (const auto& row : rows)
    if (row.status == "finished") finished.insert(row.run_id);
  for (const auto& id : split_commas({decided(fmt::format("{}", fmt::join(finished, ",")))})) finished.insert(id);
  for (const auto& row : rows) {
    if (finished.count(row.run_id)) continue;
    train::check_run_inputs(row.run.config, world);
    if (const auto latest = train::latest_checkpoint((fs::path(results) / "runs" / row.run_id).string()))
      train::check_checkpoint(*latest, row.run.config.canonical_json());  // a partial run's own checkpoint
    // One process group, on one device type, serves every run of the job.
    if (comm && kernels::compat::resolve_device(row.run.config.train.device, "train.device").type() !=
                    comm->device().type())
      throw ConfigError(fmt::format("run '{}': train.device '{}', but this data-parallel job runs on {} (the first "
                                    "run's): sweep CPU and CUDA runs in separate jobs",
                                    row.run.config.name, row.run.config.train.device, comm->device().str()));
  }
  if (speaks && !store) {
    if (auto parent = fs::path(db).parent_path(); !parent.empty()) fs::create_directories(parent);
    store = std::make_unique<store::ResultsStore>(db, store::ResultsStore::Access::kWrite);
  }
  int trained = 0, skipped = 0, failed = 0;
  for (const auto& row : rows) {
    const config::RunConfig& rc = row.run.config;
    // Re-read: another process may have finished it meanwhile.
    if (decided(speaks && store->is_finished(row.run_id) ? "skip" : "train") == "skip") {
      if (speaks) std::cerr << fmt::format("sweep: {} ({}) finished already, skipped\n", rc.name, row.run_id);
      ++skipped;
      continue;
    }
    if (speaks) {
      std::cerr << fmt::format("sweep: {} ({}) {}\n", rc.name, row.run_id,
                               row.status == "partial" ? "resuming" : "starting");
      store->begin_run(config::make_run_row(rc, world));
    }
    train::TrainOptions to;
    to.run_dir = (fs::path(results) / "runs" / row.run_id).string();
    to.store = store.get();
    to.resume = true;
    to.progress = !no_progress;
    to.comm = comm;
    to.bucket_bytes = dist_flags.bucket_bytes();
    train::TrainResult r;
    try {
      r = train::train_run(rc, to);
    } catch (const std::exception& e) {
      if (store) store->finish_run(row.run_id, "failed");
      // A config or data mistake: every later run would hit it too. Data parallel: the ranks may be
      // at different collectives now (an error on one of them), so the job ends; a re-run resumes.
      if (comm || dynamic_cast<const ConfigError*>(&e)) throw;
      std::cerr << fmt::format("sweep: {} failed: {}\n", rc.name, e.what());
      ++failed;
      continue;
    }
    if (r.preempted) {  // the checkpoint is written; the same command resumes it
      if (speaks) std::cerr << fmt::format("sweep: {} stopped on a signal at step {}; exit {} (requeue)\n", rc.name,
                                           r.steps, kExitRequeue);
      dist::end_job();
      return kExitRequeue;
    }
    ++trained;
    if (!speaks) continue;  // the others wait for rank 0's next decision meanwhile
    store->finish_run(row.run_id, r.finished ? "finished" : "failed");
    std::cerr << fmt::format("sweep: {} done: {} steps, final train loss {:.4f}, val loss {:.4f}, {:.0f} tok/s\n",
                             rc.name, r.steps, r.final_train_loss, r.final_val_loss, r.tokens_per_s);
    if (r.finished && !evaluate_finished(rc, to.run_dir, *store, !no_progress)) ++failed;
    try {
      if (r.finished) profile_finished(rc, results, *store);
    } catch (const std::exception& e) {
      std::cerr << fmt::format("sweep: {} profiling failed: {}\n", rc.name, e.what());
      ++failed;
    }
  }
  decided("end");  // the others wait in the store (not a collective's timeout) while rank 0 evaluates
  dist::end_job();
  if (!speaks) return failed ? kExitRuntime : 0;
  std::cout << fmt::format("sweep {}: {} trained, {} already finished, {} failed\nresults: {} (runs table, sweep '{}'); "
                           "run directories under {}\n",
                           sf.name, trained, skipped, failed, store->path(), sf.name,
                           (fs::path(results) / "runs").string());
  return failed ? kExitRuntime : 0;
}

}  // namespace sharelab::runner
