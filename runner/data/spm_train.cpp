// Tokenizer training via a spm_train child process (see spm_train.h for why not in-process).
#include "runner/data/spm_train.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "common/errors.h"
#include "common/atomic_file.h"

extern char** environ;

namespace sharelab::data {

namespace {

// The last `n` lines of a log file, joined with " | " (errors stay one line).
std::string tail_lines(const std::string& path, size_t n) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) lines.push_back(l);
  std::string out;
  for (size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i)
    out += (out.empty() ? "" : " | ") + lines[i];
  return out;
}

}  // namespace

void train_tokenizer(const TokenizerTrainOptions& opt) {
  if (opt.model_type != "bpe" && opt.model_type != "unigram")
    throw ConfigError("tokenizer --model-type = '" + opt.model_type + "', expected bpe or unigram");
  if (opt.vocab_size < 260)
    throw ConfigError(
        fmt::format("tokenizer --vocab-size = {}: must be >= 260 (256 byte pieces + specials)", opt.vocab_size));
  const std::string suffix = ".model";
  if (opt.out_model.size() <= suffix.size() ||
      opt.out_model.compare(opt.out_model.size() - suffix.size(), suffix.size(), suffix) != 0)
    throw ConfigError("tokenizer output '" + opt.out_model + "' must end in .model");
  if (::access(opt.input.c_str(), R_OK) != 0) throw ConfigError(opt.input + ": tokenizer training text not found");
  const std::string final_prefix = opt.out_model.substr(0, opt.out_model.size() - suffix.size());
  // spm_train records its --input and --model_prefix inside the .model, so it runs in a private
  // folder with fixed relative names: the same text gives the same bytes (and sha256) every time.
  const auto slash = opt.out_model.find_last_of('/');
  const std::string work = (slash == std::string::npos ? std::string(".") : opt.out_model.substr(0, slash)) +
                           "/.spm-train-" + std::to_string(::getpid());
  std::error_code ec;
  std::filesystem::remove_all(work, ec);
  std::filesystem::create_directories(work, ec);
  if (ec) throw ConfigError(work + ": cannot create a folder for tokenizer training (" + ec.message() + ")");
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code e;
      std::filesystem::remove_all(dir, e);
    }
  } cleanup{work};
  std::filesystem::create_symlink(std::filesystem::absolute(opt.input), work + "/input.txt", ec);
  if (ec) throw ConfigError(opt.input + ": cannot link the training text (" + ec.message() + ")");
  const std::string tmp_prefix = work + "/tokenizer";
  const std::string log = work + "/train.log";
  const char* env_exe = std::getenv("SHARELAB_SPM_TRAIN");
  const std::string exe = env_exe && *env_exe ? env_exe : opt.spm_train;

  std::vector<std::string> args = {
      exe,
      "--input=input.txt",
      "--model_prefix=tokenizer",
      fmt::format("--vocab_size={}", opt.vocab_size),
      "--model_type=" + opt.model_type,
      "--byte_fallback=true",
      "--split_digits=true",
      "--unk_id=0",
      "--bos_id=1",
      "--eos_id=2",
      "--pad_id=-1",
      fmt::format("--input_sentence_size={}", opt.input_sentence_size),
      "--shuffle_input_sentence=true",
      fmt::format("--character_coverage={}", opt.character_coverage),
      fmt::format("--num_threads={}", opt.num_threads),
      "--max_sentence_length=16384",
      "--allow_whitespace_only_pieces=true",
      "--remove_extra_whitespaces=false",
      "--normalization_rule_name=identity",
  };
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addchdir_np(&fa, work.c_str());
  posix_spawn_file_actions_addopen(&fa, 1, "train.log", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = 0;
  // The trainer runs with no signal blocked (a sweep blocks SIGTERM/SIGUSR1 for its sigwait thread).
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  const int rc = ::posix_spawnp(&pid, exe.c_str(), &fa, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    throw ConfigError(
        fmt::format("cannot run '{}' to train a tokenizer ({}); install Debian package sentencepiece "
                    "(make setup) or set SHARELAB_SPM_TRAIN",
                    exe, std::strerror(rc)));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && ::access((tmp_prefix + ".model").c_str(), R_OK) == 0;
  if (!ok) {
    const std::string why = tail_lines(log, 2);
    throw ConfigError(fmt::format("{}: SentencePiece training failed: {}", opt.input, why));
  }
  arch::commit_file(tmp_prefix + ".vocab", final_prefix + ".vocab");
  arch::commit_file(tmp_prefix + ".model", final_prefix + ".model");
}

}  // namespace sharelab::data
