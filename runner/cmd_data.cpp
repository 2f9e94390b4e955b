// `runner data prepare | inspect | tokenizer`: the data pipeline's command line.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>

#include "common/cli.h"
#include "runner/commands.h"
#include "runner/data/manifest.h"
#include "runner/data/mix.h"
#include "runner/data/prepare.h"
#include "runner/data/shard_file.h"
#include "runner/data/spm_train.h"
#include "runner/data/tokenizer.h"

namespace sharelab::runner {

namespace {

using namespace sharelab::data;

int cmd_prepare(const Args& args) {
  po::options_description opts("runner data prepare");
  PrepareOptions o;
  bool no_progress = false;
  opts.add_options()("mix", po::value(&o.mix_path)->required(), "data-mix TOML (configs/data/default.toml)")(
      "out", po::value(&o.out_dir)->required(), "output folder (replaced atomically when complete)")(
      "seq-len", po::value(&o.seq_len)->default_value(0), "tokens per row minus one (0: the mix's seq_len)")(
      "tokenizer", po::value(&o.tokenizer), "SentencePiece .model to tokenize text with")(
      "vocab-size", po::value(&o.vocab_size)->default_value(0),
      "train a tokenizer of this size on the mix (no --tokenizer); id bound for amber-jsonl")(
      "val-fraction", po::value(&o.val_fraction)->default_value(-1), "document chunks held out (default: the mix's)")(
      "chunk-bytes", po::value(&o.chunk_bytes)->default_value(0), "text chunk size for the split (default: the mix's)")(
      "shard-tokens", po::value(&o.shard_tokens)->default_value(o.shard_tokens), "tokens per shard")(
      "threads", po::value(&o.threads)->default_value(0), "tokenizer threads (0: all cores)")(
      "no-progress", po::bool_switch(&no_progress), "no progress lines on stderr");
  // -q / --quiet meant no progress and nothing else: every command now calls that --no-progress.
  for (const auto& a : args)
    if (a == "-q" || a == "--quiet")
      throw ConfigError("data prepare: " + a + " is now --no-progress, as in every command");
  po::variables_map vm;
  if (!parse_command("runner data prepare --mix FILE.toml --out DIR [--seq-len N] [--tokenizer FILE | --vocab-size N]",
                     opts, {}, args, vm))
    return 0;
  o.progress = !no_progress;
  const PrepareReport r = prepare_data(o);
  fmt::print("prepared {} in {:.1f}s: {:.1f} MB read ({:.2f} MB/s), {:L} tokens ({:.0f} tokens/s)\n\n", o.out_dir,
             r.seconds, r.bytes / 1e6, r.bytes / 1e6 / std::max(1e-9, r.seconds), r.tokens,
             r.tokens / std::max(1e-9, r.seconds));
  fmt::print("{}", format_manifest_summary(r.manifest));
  return 0;
}

// --verify: every shard's layout against the manifest and its bytes against its checksums, before
// anything is printed (a corrupt shard: one line naming the file and the dataset, exit 2).
std::string verify_shards(const std::string& dir, const Manifest& m) {
  const auto t0 = std::chrono::steady_clock::now();
  int64_t bytes = 0, unverified = 0;
  for (const auto& e : m.shards) {
    const ShardView v = open_shard(dir + "/" + e.file, e.rows, m.seq_len + 1, m.dtype);
    verify_shard(v);
    bytes += v.rows * v.cols * v.width + v.rows * int64_t(sizeof(uint16_t));
    unverified += v.has_crc ? 0 : 1;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::string line = fmt::format("verified {} shards ({}) in {:.1f}s: ", m.shards.size(),
                                 bytes >= 1000000 ? fmt::format("{:.1f} MB", bytes / 1e6) : fmt::format("{:.1f} kB", bytes / 1e3), s);
  if (unverified == 0) return line + "every layout and checksum matches\n";
  return line + fmt::format("layouts match; {} shards carry no checksums (written before them): their bytes are "
                            "unverified\n", unverified);
}

int cmd_inspect(const Args& args) {
  po::options_description opts("runner data inspect");
  std::string dir;
  bool json = false, verify = false;
  opts.add_options()("dir", po::value(&dir)->required(), "prepared data folder")("json", po::bool_switch(&json),
                                                                                 "print manifest.json as is")(
      "verify", po::bool_switch(&verify),
      "also read every shard: layout against the manifest, bytes against their checksums (reads the whole folder; "
      "training checks each shard before its first row anyway)");
  po::positional_options_description pos;
  pos.add("dir", 1);
  po::variables_map vm;
  if (!parse_command("runner data inspect DIR [--json] [--verify]", opts, pos, args, vm)) return 0;
  const Manifest m = Manifest::load(dir);
  const std::string verified = verify ? verify_shards(dir, m) : "";
  fmt::print("{}", json ? m.to_json() : format_manifest_summary(m));
  if (json) std::cerr << verified;  // stdout stays the manifest alone
  else fmt::print("{}", verified.empty() ? "" : "\n" + verified);
  return 0;
}

int cmd_tokenizer(const Args& args) {
  po::options_description opts("runner data tokenizer");
  bool train = false, bos = false;
  std::string model, out, mix_path, input, text, model_type = "bpe";
  int32_t vocab = 8000;
  int64_t max_bytes = int64_t(200) << 20;
  opts.add_options()("train", po::bool_switch(&train), "train a new model (else: load --model)")(
      "mix", po::value(&mix_path), "train on this mix's text sources")(
      "input", po::value(&input), "train on this text file (one paragraph per line)")(
      "out", po::value(&out), "where to write the trained .model")(
      "vocab-size", po::value(&vocab)->default_value(vocab), "vocabulary size")(
      "model-type", po::value(&model_type)->default_value(model_type), "bpe | unigram")(
      "max-bytes", po::value(&max_bytes)->default_value(max_bytes), "text sampled from the mix for training")(
      "model", po::value(&model), "an existing SentencePiece .model (e.g. LLaMA's tokenizer.model)")(
      "encode", po::value(&text), "print the ids of this text")("bos", po::bool_switch(&bos), "prepend BOS");
  po::variables_map vm;
  const char* usage =
      "runner data tokenizer --train --out FILE.model (--mix FILE.toml | --input TEXT) [--vocab-size N] "
      "[--model-type bpe|unigram]\n       runner data tokenizer --model FILE.model [--encode TEXT [--bos]]";
  if (!parse_command(usage, opts, {}, args, vm)) return 0;
  if (train) {
    if (out.empty()) throw ConfigError("data tokenizer --train: --out FILE.model is required");
    if (mix_path.empty() == input.empty())
      throw ConfigError("data tokenizer --train: give exactly one of --mix FILE.toml or --input TEXT");
    std::string txt = input;
    if (!mix_path.empty()) {
      txt = out + ".input-" + std::to_string(::getpid()) + ".txt";
      const int64_t n = export_mix_text(load_mix(mix_path), txt, max_bytes);
      std::cerr << fmt::format("data: {:.1f} MB of text from {}\n", n / 1e6, mix_path);
    }
    try {
      train_tokenizer({txt, out, vocab, model_type});
    } catch (...) {
      if (!mix_path.empty()) std::filesystem::remove(txt);
      throw;
    }
    if (!mix_path.empty()) std::filesystem::remove(txt);
    model = out;
  }
  if (model.empty())
    throw ConfigError(std::string("data tokenizer: --model or --train is required (usage: ") + usage + ")");
  const Tokenizer tok = Tokenizer::load(model);
  fmt::print("{}: vocab {}, unk {}, bos {}, eos {}, sha256 {}\n", model, tok.vocab_size(), tok.unk_id(), tok.bos_id(),
             tok.eos_id(), tok.sha256());
  if (vm.count("encode")) {
    std::vector<int32_t> ids = tok.encode(text);
    if (bos) ids.insert(ids.begin(), tok.bos_id());
    fmt::print("{}\n", fmt::join(ids, " "));
  }
  return 0;
}

}  // namespace

int cmd_data(const Args& args) {
  const std::string help =
      "usage: runner data prepare|inspect|tokenizer [options]   (runner data SUBCOMMAND --help)\n"
      "  prepare    mix TOML -> packed HDF5 shards + manifest.json (tokens per source)\n"
      "  inspect    print a prepared folder's manifest: tokens per source and split (--verify: check every shard)\n"
      "  tokenizer  train a SentencePiece model (--train) or load one and encode text\n";
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << help;
    return args.empty() ? kExitUsage : 0;
  }
  const Args rest(args.begin() + 1, args.end());
  if (args[0] == "prepare") return cmd_prepare(rest);
  if (args[0] == "inspect") return cmd_inspect(rest);
  if (args[0] == "tokenizer") return cmd_tokenizer(rest);
  throw ConfigError("data: unknown subcommand '" + args[0] + "'; known: prepare, inspect, tokenizer");
}

}  // namespace sharelab::runner
