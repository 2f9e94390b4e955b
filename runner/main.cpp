// runner: the suite's main executable. `runner COMMAND --help` for each command.
// `runner --sweep FILE.toml [...]` is the users' spelling of `runner sweep FILE.toml [...]`.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "common/errors.h"
#include "kernels/cpu_runtime.h"
#include "runner/commands.h"
#include "runner/dist/job.h"
#include "runner/local_launch.h"

namespace {

using namespace sharelab::runner;

struct Command {
  const char* name;
  const char* summary;
  int (*run)(const Args& args);
};

// In the order `runner --help` lists them.
const std::vector<Command> kCommands = {
    {"presets", "table of every preset: geometry, scheme, unique/effective params, GFLOPs/token", cmd_presets},
    {"describe", "one preset in full (with --set overrides): spec, layout, accounting", cmd_describe},
    {"export", "write a model as an HF directory, GGUF or native HDF5 (a run, checkpoint, HF dir or preset)", cmd_export},
    {"logits", "run a forward pass on given token ids and write the logits as .npy", cmd_logits},
    {"generate", "continue a prompt token by token through the KV cache (greedy or top-p sampling)", cmd_generate},
    {"data", "data pipeline: prepare shards from a mix, inspect them, train/load a tokenizer", cmd_data},
    {"sweep", "expand a sweep TOML and train its unfinished runs (--dry-run: the plan only)", cmd_sweep},
    {"train", "train one preset on prepared data (--set model.*/train.*/data.* overrides)", cmd_train},
    {"resume", "continue a run from its directory's latest checkpoint", cmd_resume},
    {"eval", "lm-eval-compatible benchmarks and perplexities of a run, checkpoint or HF model", cmd_eval},
    {"profile", "Table 11 latencies (load, init, forward), peak memory, per-layer time", cmd_profile},
};

void usage(std::ostream& out) {
  out << "usage: runner COMMAND [options]   (runner COMMAND --help)\n"
         "       runner --sweep FILE.toml [--dry-run] [--only NAME] [--set key=value ...]\n"
         "data parallel: torchrun --no-python --nproc-per-node N runner train ...; srun runner ...; or\n"
         "               runner train|resume|sweep ... --nproc N (N local ranks)\n\ncommands:\n";
  for (const auto& c : kCommands) out << fmt::format("  {:<11} {}\n", c.name, c.summary);
}

int run_command(std::vector<std::string> args, const std::function<void(const std::exception&)>& report) {
  try {
    // `--nproc N`: this process becomes the launcher of N ranks (local_launch.h).
    if (args[0] == "train" || args[0] == "resume" || args[0] == "sweep")
      if (const int n = take_nproc(args); n > 1) return launch_local(n, args);
    sharelab::kernels::configure_cpu_runtime();  // before any tensor
    std::vector<std::string> names;
    for (const auto& c : kCommands) {
      if (args[0] == c.name) return c.run(Args(args.begin() + 1, args.end()));
      names.push_back(c.name);
    }
    throw sharelab::ConfigError(fmt::format("unknown command '{}'; known: {}", args[0], fmt::join(names, ", ")));
  } catch (const sharelab::ConfigError& e) {
    report(e);
    return sharelab::kExitUsage;
  } catch (const std::exception& e) {
    report(e);
    return sharelab::kExitRuntime;
  }
}

// A data-parallel rank ends without static destructors: the process group's Gloo/NCCL threads are
// still running then, and tearing the heap down under them corrupted it ("corrupted size vs.
// prev_size", exit 134 instead of the command's code). Files and databases are closed by now.
int exit_process(int code) {
  if (!sharelab::dist::job()) return code;
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  std::_Exit(code);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    usage(args.empty() ? std::cerr : std::cout);
    return args.empty() ? sharelab::kExitUsage : 0;
  }
  if (args[0] == "--sweep") args[0] = "sweep";
  // Past a file-size limit (ulimit -f) a write fails with EFBIG, which the writers report with the
  // file's name and keep nothing; the default SIGXFSZ would kill the process without a word.
  std::signal(SIGXFSZ, SIG_IGN);
  // A failed rank of a data-parallel job tells the others (they name it), and says which it is.
  auto report = [](const std::exception& e) {
    std::string where;
    if (auto* job = sharelab::dist::job()) {
      job->report_error(e.what());
      where = fmt::format("[rank {} of {}] ", job->rank(), job->world());
    }
    std::cerr << "runner: error: " << where << e.what() << "\n";
  };
  return exit_process(run_command(args, report));
}
