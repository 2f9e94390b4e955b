// Slurm batch scripts for a sweep (see slurm_script.h). The scripts hold no logic beyond srun and
// the requeue: which run to train, resuming and skipping are the runner's own (`--only NAME`, the
// results database), so a requeued job runs the very same command.
#include "runner/sweep/slurm_script.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>

#include "common/atomic_file.h"
#include "common/errors.h"
#include "runner/config/toml_value.h"
#include "runner/sweep/plan.h"

namespace sharelab::sweep {

namespace fs = std::filesystem;

namespace {

bool all_digits(const std::string& s) {
  return !s.empty() && s.size() <= 6 && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

// A run or job name as a file name / job name: anything but [A-Za-z0-9._=+-] becomes '_'.
std::string safe_name(const std::string& s) {
  std::string out = s;
  for (char& c : out)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '=' && c != '+' && c != '-')
      c = '_';
  if (out.empty() || out[0] == '.' || out[0] == '-') out = "_" + out;
  return out;
}

// Text for a comment line: no control characters.
std::string comment_text(std::string s) {
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return s;
}

std::string join_words(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + shell_quote(w);
  return out;
}

std::string script_text(const PlannedRun& run, const config::TrainConfig::Shape& shape, const std::string& stem,
                        const SlurmOptions& o, const std::string& logs, const std::string& device_set) {
  const RunConfig& rc = run.config;
  std::vector<std::string> cmd = {o.runner, "--sweep", o.sweep_file, "--only", rc.name};
  cmd.insert(cmd.end(), o.args.begin(), o.args.end());
  if (!device_set.empty()) {
    cmd.push_back("--set");
    cmd.push_back(device_set);
  }
  std::string s = "#!/bin/bash\n";
  s += fmt::format("# sharelab: run '{}' (run id {}) of sweep '{}' ({}), scale '{}'.\n", comment_text(rc.name),
                   rc.run_id(), comment_text(rc.sweep), comment_text(o.sweep_file), comment_text(rc.scale));
  s += fmt::format("# {} node(s) x {} task(s) = world {}: micro batch {} row(s) per rank, {} accumulation step(s) per "
                   "optimizer step.\n",
                   o.nodes, o.tasks_per_node(), shape.world, shape.micro, shape.accum);
  s += fmt::format(
      "# Written by `runner --sweep ... --emit-slurm`; submit with `sbatch {}.sbatch` or submit_all.sh. SIGUSR1 ({} s\n"
      "# before the time limit) or SIGTERM: every rank checkpoints and exits {}; the job then requeues itself and runs\n"
      "# the same command, which resumes the run from its last checkpoint (a finished run is skipped).\n",
      stem, o.signal_before_s, kExitRequeue);
  s += "#SBATCH --job-name=" + safe_name(rc.sweep.empty() ? rc.name : rc.sweep + "-" + rc.name) + "\n";
  s += fmt::format("#SBATCH --nodes={}\n#SBATCH --ntasks-per-node={}\n", o.nodes, o.tasks_per_node());
  if (o.gpus_per_node > 0) s += fmt::format("#SBATCH --gpus-per-node={}\n", o.gpus_per_node);
  s += fmt::format("#SBATCH --cpus-per-task={}\n#SBATCH --time={}\n", o.cpus_per_task, o.time);
  if (!o.partition.empty()) s += "#SBATCH --partition=" + o.partition + "\n";
  if (!o.account.empty()) s += "#SBATCH --account=" + o.account + "\n";
  s += "#SBATCH --requeue\n#SBATCH --open-mode=append\n";
  s += fmt::format("#SBATCH --signal=USR1@{}\n", o.signal_before_s);
  s += "#SBATCH --output=" + logs + "/" + stem + "-%j.log\n\n";
  s += "cd " + shell_quote(o.workdir) + " || exit 1\n";
  s += "echo \"$(date '+%F %T') job $SLURM_JOB_ID (restart ${SLURM_RESTART_COUNT:-0}) on $SLURM_JOB_NODELIST: run\" " +
       shell_quote(rc.name) + "\n";
  // srun inherits --cpus-per-task from the allocation in some Slurm releases only: it is given.
  // --kill-on-bad-exit: a rank that fails ends the step at once (the others would wait out the timeout).
  s += fmt::format("srun --kill-on-bad-exit=1 --cpus-per-task={} --open-mode=append --output={} \\\n  {}\n", o.cpus_per_task,
                   shell_quote(logs + "/" + stem + "-%j-rank%t.log"), join_words(cmd));
  s += "rc=$?\n";
  s += fmt::format("if [ $rc -eq {} ]; then scontrol requeue \"$SLURM_JOB_ID\"; fi\n", kExitRequeue);
  s += "exit $rc\n";
  return s;
}

}  // namespace

std::string shell_quote(const std::string& s) {
  const bool plain = !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || std::string("_./:=+,@%^-").find(char(c)) != std::string::npos;
  });
  if (plain) return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

long slurm_time_seconds(const std::string& time) {
  std::string t = time;
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::toupper(c); });
  if (t == "UNLIMITED" || t == "INFINITE") return -1;
  const auto bad = [&]() {
    return ConfigError("--time " + time + ": expected minutes, M:S, H:M:S, D-H, D-H:M or D-H:M:S (sbatch --time)");
  };
  long days = 0;
  std::string rest = time;
  const auto dash = time.find('-');
  const bool with_days = dash != std::string::npos;
  if (with_days) {
    if (!all_digits(time.substr(0, dash))) throw bad();
    days = std::stol(time.substr(0, dash));
    rest = time.substr(dash + 1);
  }
  std::vector<long> parts;
  size_t start = 0;
  while (true) {
    const auto colon = rest.find(':', start);
    const std::string p = rest.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    if (!all_digits(p)) throw bad();
    parts.push_back(std::stol(p));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  if (parts.size() > 3) throw bad();
  long h = 0, m = 0, sec = 0;
  if (with_days) {  // D-H, D-H:M, D-H:M:S
    h = parts[0];
    if (parts.size() > 1) m = parts[1];
    if (parts.size() > 2) sec = parts[2];
  } else if (parts.size() == 1) {  // M
    m = parts[0];
  } else if (parts.size() == 2) {  // M:S
    m = parts[0];
    sec = parts[1];
  } else {  // H:M:S
    h = parts[0];
    m = parts[1];
    sec = parts[2];
  }
  return ((days * 24 + h) * 60 + m) * 60 + sec;
}

void check_slurm_options(const SlurmOptions& o) {
  if (o.nodes < 1) throw ConfigError(fmt::format("--nodes {}: expected an integer >= 1", o.nodes));
  if (o.gpus_per_node < 0)
    throw ConfigError(fmt::format("--gpus-per-node {}: expected an integer >= 0 (0: CPU nodes, one task each)",
                                  o.gpus_per_node));
  if (o.cpus_per_task < 1) throw ConfigError(fmt::format("--cpus-per-task {}: expected an integer >= 1", o.cpus_per_task));
  if (o.signal_before_s < 1 || o.signal_before_s > 65535)
    throw ConfigError(fmt::format("signal_before_s {}: Slurm's --signal takes 1..65535 seconds", o.signal_before_s));
  const long limit = slurm_time_seconds(o.time);
  if (limit >= 0 && limit <= o.signal_before_s)
    throw ConfigError(fmt::format("--time {}: must be longer than {} s, when the runner is told (SIGUSR1) to write its "
                                  "checkpoint before the limit",
                                  o.time, o.signal_before_s));
  const auto check_word = [](const char* flag, const std::string& v) {
    for (unsigned char c : v)
      if (!std::isalnum(c) && c != '_' && c != '-' && c != '.' && c != ',')
        throw ConfigError(std::string(flag) + " " + v + ": expected letters, digits, '_', '-', '.' or ','");
  };
  check_word("--partition", o.partition);
  check_word("--account", o.account);
  if (o.dir.empty()) return;  // a plan at the Slurm job's size, no scripts
  const std::string abs = fs::absolute(o.dir).lexically_normal().string();
  for (unsigned char c : abs)
    if (std::isspace(c) || std::iscntrl(c) || c == '"' || c == '\'' || c == '%' || c == '#' || c == '\\')
      throw ConfigError("--emit-slurm " + o.dir +
                        ": the folder's path goes into #SBATCH --output, which cannot hold whitespace, quotes, '%', "
                        "'#' or '\\': pick another folder");
}

std::string slurm_device_set(const SlurmOptions& o) {
  if (o.gpus_per_node <= 0) return "";
  for (const auto& s : o.sets) {
    try {
      if (config::parse_set(s).path == "train.device") return "";
    } catch (const ConfigError&) {  // a malformed --set: expansion says so
    }
  }
  return "train.device=\"cuda\"";
}

std::vector<SlurmScript> make_slurm_scripts(const std::vector<PlannedRun>& runs, const SlurmOptions& o) {
  if (o.dir.empty()) throw ConfigError("--emit-slurm: expected a folder");
  check_slurm_options(o);
  const std::string dir = fs::absolute(o.dir).lexically_normal().string();
  const std::string logs = (fs::path(dir) / "logs").string();
  const std::string device_set = slurm_device_set(o);
  std::map<std::string, int> stems;
  for (const auto& r : runs) ++stems[safe_name(r.config.name)];
  std::vector<SlurmScript> out;
  for (const auto& r : runs) {
    const RunConfig& rc = r.config;
    const auto shape = run_shape(rc, o.world());
    if (rc.name.find(',') != std::string::npos)  // --only reads "a,b" as two names
      throw ConfigError("run '" + rc.name + "': a name with a comma cannot be selected by --only: rename it");
    std::string stem = safe_name(rc.name);
    if (stems[stem] > 1) stem += "-" + rc.run_id();  // two names that differ only in odd characters
    out.push_back({rc.name, rc.run_id(), (fs::path(dir) / (stem + ".sbatch")).string(),
                   script_text(r, shape, stem, o, logs, device_set)});
  }
  return out;
}

std::vector<SlurmScript> write_slurm_scripts(const std::vector<PlannedRun>& runs, const SlurmOptions& o,
                                             const std::set<std::string>& finished) {
  const auto scripts = make_slurm_scripts(runs, o);  // every check before the first file
  const fs::path dir = fs::absolute(o.dir).lexically_normal();
  fs::create_directories(dir / "logs");  // sbatch does not create the folder of --output
  const auto executable = [](const std::string& path) {
    fs::permissions(path, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                    fs::perm_options::add);
  };
  std::string submit = "#!/bin/bash\n";
  submit += fmt::format(
      "# Submits the {} run(s) of sweep '{}' written by `runner --sweep ... --emit-slurm`: one job per run on {} "
      "node(s)\n# x {} task(s) (world {}), each requeued on preemption until its run finishes. Logs: {}\n",
      scripts.size(), runs.empty() ? "" : comment_text(runs.front().config.sweep), o.nodes, o.tasks_per_node(),
      o.world(), (dir / "logs").string());
  submit += "set -e\n";
  for (const auto& s : scripts) {
    arch::write_file_atomic(s.path, s.text);
    executable(s.path);
    if (finished.count(s.run_id))
      submit += "# finished when written: sbatch " + shell_quote(s.path) + "\n";
    else
      submit += "sbatch " + shell_quote(s.path) + "\n";
  }
  const std::string submit_path = (dir / "submit_all.sh").string();
  arch::write_file_atomic(submit_path, submit);
  executable(submit_path);
  return scripts;
}

}  // namespace sharelab::sweep
