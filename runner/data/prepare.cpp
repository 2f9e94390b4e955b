// The prepare pipeline (see prepare.h): staging folder, tokenizer (given or trained), readers ->
// packers -> shard writers, manifest last, then one rename into place.
#include "runner/data/prepare.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <thread>

#include "common/threads.h"
#include "common/errors.h"
#include "common/atomic_file.h"
#include "common/progress.h"
#include "runner/data/readers.h"
#include "runner/data/sha256.h"
#include "runner/data/shard_file.h"
#include "runner/data/spm_train.h"
#include "runner/data/tokenizer.h"

namespace sharelab::data {

namespace fs = std::filesystem;

namespace {

// FNV-1a 64: the split decision must not depend on the standard library's std::hash.
uint64_t fnv1a(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

// FNV-1a alone leaves similar ids ("f:1", "f:2", ...) clustered in the top bits, so a small file could
// land entirely in one split; the splitmix64 finaliser spreads them uniformly.
uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// One (source, split) token stream cut into rows of `cols`.
struct Packer {
  std::vector<uint32_t> buf;
  size_t head = 0;
  void push(const std::vector<int32_t>& ids, int32_t bos, int32_t eos) {
    if (bos >= 0) buf.push_back(uint32_t(bos));
    buf.insert(buf.end(), ids.begin(), ids.end());
    if (eos >= 0) buf.push_back(uint32_t(eos));
  }
  template <typename F>
  int64_t drain(size_t cols, F&& row) {
    int64_t n = 0;
    for (; buf.size() - head >= cols; head += cols, ++n) row(buf.data() + head);
    buf.erase(buf.begin(), buf.begin() + std::ptrdiff_t(head));
    head = 0;
    return n;
  }
};

constexpr size_t kBatchBytes = size_t(8) << 20;  // text encoded per parallel batch

// Runs fn(i) for i in [0, n) on `threads` threads (the caller's included), dynamic scheduling.
template <typename F>
void parallel_for(size_t n, int threads, F&& fn) {
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < n;) fn(i);
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads && size_t(t) < n; ++t) pool.emplace_back(work);
  work();
  for (auto& th : pool) th.join();
}

struct StagingDir {
  std::string path;
  bool keep = false;
  ~StagingDir() {
    std::error_code ec;
    if (!keep && !path.empty()) fs::remove_all(path, ec);
  }
};

// Cuts text into lines of at most `limit` bytes at spaces (SentencePiece skips longer "sentences").
void write_wrapped(std::ofstream& out, const std::string& text, size_t limit, int64_t& written) {
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    size_t end = nl;
    if (end - start > limit) {
      end = text.rfind(' ', start + limit);
      if (end == std::string::npos || end <= start) end = start + limit;
    }
    if (end > start && text.find_first_not_of(" \t\r", start) < end) {
      out.write(text.data() + start, std::streamsize(end - start));
      out.put('\n');
      written += int64_t(end - start) + 1;
    }
    start = end == nl ? nl + 1 : end + 1;
  }
}

}  // namespace

int split_of(const std::string& source, const std::string& chunk_id, double val_fraction) {
  const double u = double(mix64(fnv1a(source + "/" + chunk_id)) >> 11) * 0x1.0p-53;
  return u < val_fraction ? kVal : kTrain;
}

int64_t export_mix_text(const Mix& mix, const std::string& path, int64_t max_bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error(path + ": cannot write tokenizer training text");
  double total_w = 0;
  for (const auto& s : mix.sources)
    if (s.reader != "amber-jsonl") total_w += s.weight;
  int64_t written = 0;
  for (const auto& s : mix.sources) {
    if (s.reader == "amber-jsonl" || s.weight <= 0) continue;
    const int64_t budget = int64_t(double(max_bytes) * s.weight / total_w), stop_at = written + budget;
    for (const auto& f : s.files) {
      if (written >= stop_at) break;
      read_documents(s.reader, f, [&](const Document& d) {
        if (written < stop_at) write_wrapped(out, d.text, 8000, written);
      });
    }
  }
  out.close();
  if (!out) throw std::runtime_error(path + ": write failed");
  return written;
}

std::string format_manifest_summary(const Manifest& m) {
  std::string o = fmt::format(
      "seq_len {}  vocab {}  dtype {}  val_fraction {}  chunk_bytes {}  shards {}\ntokenizer {} ({})\nmix {} "
      "({})\n\n",
      m.seq_len, m.vocab_size, m.dtype, m.val_fraction, m.chunk_bytes, m.shards.size(),
      m.tokenizer_file.empty() ? "-" : m.tokenizer_file,
      m.tokenizer_sha256.empty() ? "pre-tokenized" : m.tokenizer_sha256.substr(0, 16), m.mix_file,
      m.mix_sha256.substr(0, 16));
  o += fmt::format("{:<16} {:<13} {:>6} {:>7} {:>7} {:>13} {:>11} {:>8} {:>9}\n", "source", "reader", "weight", "chunks",
                   "val", "train tokens", "val tokens", "share", "epochs*");
  const double total = double(std::max<int64_t>(1, m.total_tokens(kTrain)));
  double mixed = 0;
  for (const auto& s : m.sources) mixed += s.weight * double(s.tokens[kTrain]);
  for (const auto& s : m.sources)
    o += fmt::format("{:<16} {:<13} {:>6.2f} {:>7} {:>7} {:>13L} {:>11L} {:>7.1f}% {:>9.2f}\n", s.name, s.reader,
                     s.weight, s.docs[kTrain], s.docs[kVal], s.tokens[kTrain], s.tokens[kVal],
                     100.0 * s.tokens[kTrain] / total, s.weight);
  o += fmt::format("{:<16} {:<13} {:>6} {:>7} {:>7} {:>13L} {:>11L}\n", "total", "", "", "", "", m.total_tokens(kTrain),
                   m.total_tokens(kVal));
  o += fmt::format(
      "\none pass over the weighted mix = {:.0f} train tokens; *epochs = passes over a source per pass "
      "of the mix (weight > 1 repeats it)\n",
      mixed);
  return o;
}

PrepareReport prepare_data(const PrepareOptions& opt) {
  Mix mix = load_mix(opt.mix_path);
  if (opt.out_dir.empty()) throw ConfigError("data prepare: --out is required");
  const int64_t seq_len = opt.seq_len > 0 ? opt.seq_len : mix.seq_len;
  const double val_fraction = opt.val_fraction >= 0 ? opt.val_fraction : mix.val_fraction;
  if (val_fraction >= 1) throw ConfigError(fmt::format("data prepare: --val-fraction = {} must be < 1", val_fraction));
  const int64_t chunk_bytes = opt.chunk_bytes != 0 ? opt.chunk_bytes : mix.chunk_bytes;
  if (chunk_bytes < 256) throw ConfigError(fmt::format("data prepare: --chunk-bytes = {} must be >= 256", chunk_bytes));
  const int64_t cols = seq_len + 1;
  const int threads = threads_or_cores(opt.threads);

  StagingDir staging;
  std::string out = opt.out_dir;
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  // Never replace a folder we did not make: it must be absent, empty, or hold a manifest.json.
  if (fs::exists(out) && !(fs::is_directory(out) && (fs::is_empty(out) || fs::exists(out + "/" + kManifestName))))
    throw ConfigError(out + ": exists and is not a prepared data folder (no manifest.json); choose another --out");
  staging.path = out + ".tmp-" + std::to_string(::getpid());
  std::error_code ec;
  fs::remove_all(staging.path, ec);
  if (!fs::create_directories(staging.path, ec) || ec)
    throw ConfigError(fmt::format("{}: cannot create the output folder ({})", staging.path, ec.message()));

  Manifest man;
  man.seq_len = seq_len;
  man.val_fraction = val_fraction;
  man.chunk_bytes = chunk_bytes;
  man.mix_file = mix.file;
  man.mix_sha256 = mix.sha256;

  // Tokenizer: given (flag, then mix) or trained on the mix's text.
  std::optional<Tokenizer> tok;
  std::string tok_path = !opt.tokenizer.empty() ? opt.tokenizer : mix.tokenizer;
  const int32_t vocab_flag = opt.vocab_size > 0 ? opt.vocab_size : mix.vocab_size;
  if (mix.has_text_sources()) {
    const std::string staged_model = staging.path + "/tokenizer.model";
    if (tok_path.empty()) {
      if (vocab_flag <= 0)
        throw ConfigError(opt.mix_path +
                          ": text sources need a tokenizer: pass --tokenizer FILE or --vocab-size N "
                          "(or set mix.tokenizer / mix.vocab_size)");
      const std::string txt = staging.path + "/tokenizer-input.txt";
      const int64_t n = export_mix_text(mix, txt, opt.tokenizer_train_bytes);
      if (opt.progress)
        std::fprintf(stderr, "data: training a %s tokenizer, vocab %d, on %.1f MB of the mix\n", mix.model_type.c_str(),
                     vocab_flag, n / 1e6);
      train_tokenizer({txt, staged_model, vocab_flag, mix.model_type});
      fs::remove(txt, ec);
      fs::remove(staging.path + "/tokenizer.vocab", ec);
    } else {
      Tokenizer::load(tok_path);  // a clear error before copying
      fs::copy_file(tok_path, staged_model, fs::copy_options::overwrite_existing);
    }
    tok.emplace(Tokenizer::load(staged_model));
    man.vocab_size = tok->vocab_size();
    man.tokenizer_file = "tokenizer.model";
    man.tokenizer_sha256 = tok->sha256();
    man.bos_id = tok->bos_id();
    man.eos_id = tok->eos_id();
    if (vocab_flag > 0 && !tok_path.empty() && vocab_flag != man.vocab_size && opt.vocab_size > 0)
      throw ConfigError(fmt::format("{}: tokenizer has vocab {}, but --vocab-size {} was asked", tok_path,
                                    man.vocab_size, opt.vocab_size));
  } else {
    if (vocab_flag <= 0)
      throw ConfigError(opt.mix_path +
                        ": amber-jsonl sources need the id bound: pass --vocab-size N or set "
                        "mix.vocab_size");
    man.vocab_size = vocab_flag;
  }
  man.dtype = dtype_for_vocab(man.vocab_size);
  const int64_t rows_per_shard = std::max<int64_t>(1, opt.shard_tokens / cols);
  ShardWriter writers[2] = {ShardWriter(staging.path, kTrain, seq_len, man.dtype, rows_per_shard),
                            ShardWriter(staging.path, kVal, seq_len, man.dtype, rows_per_shard)};

  // Progress counts MB of input; the tokens stored so far and their rate ride along as fields.
  ProgressOptions progress_opt;
  progress_opt.label = "data prepare";
  progress_opt.unit = "MB";
  progress_opt.enabled = opt.progress;
  ProgressReporter progress(progress_opt);
  int64_t bytes_read = 0, tokens_stored = 0;
  auto token_fields = [&] {
    return fmt::format("{:.2f}M tokens | {} tokens/s", tokens_stored / 1e6,
                       format_rate(tokens_stored / std::max(1e-9, progress.elapsed_s())));
  };
  auto add_progress = [&](int64_t bytes, int64_t tokens) {
    bytes_read += bytes;
    tokens_stored += tokens;
    if (progress.due(bytes_read / 1e6)) progress.update(bytes_read / 1e6, token_fields());
  };
  for (size_t si = 0; si < mix.sources.size(); ++si) {
    const MixSource& src = mix.sources[si];
    SourceStats st;
    st.name = src.name;
    st.reader = src.reader;
    st.weight = src.weight;
    st.files = int64_t(src.files.size());
    const uint16_t sid = uint16_t(si);
    if (src.reader == "amber-jsonl") {
      const int64_t vocab = man.vocab_size;
      for (const auto& f : src.files) {
        const std::string fname = fs::path(f).filename().string();
        const int64_t b = read_amber_jsonl(f, cols, vocab, [&](const std::vector<uint32_t>& ids, int64_t line) {
          const int sp = split_of(src.name, fmt::format("{}:{}", fname, line), val_fraction);
          writers[sp].add_row(ids.data(), sid);
          st.docs[sp] += 1, st.rows[sp] += 1, st.tokens[sp] += cols;
          add_progress(0, cols);
        });
        st.bytes += b;
        add_progress(b, 0);
      }
    } else {
      // Documents are encoded in batches of ~kBatchBytes by `threads` workers, then packed in reading
      // order, so the shards do not depend on the thread count.
      Packer packers[2];
      std::vector<Document> batch;
      size_t batch_bytes = 0;
      auto flush_batch = [&] {
        std::vector<std::vector<int32_t>> ids(batch.size());
        parallel_for(batch.size(), threads, [&](size_t i) { ids[i] = tok->encode(batch[i].text); });
        for (size_t i = 0; i < batch.size(); ++i) {
          const int sp = split_of(src.name, batch[i].id, val_fraction);
          packers[sp].push(ids[i], man.bos_id, man.eos_id);
          const int64_t rows =
              packers[sp].drain(size_t(cols), [&](const uint32_t* row) { writers[sp].add_row(row, sid); });
          st.docs[sp] += 1, st.rows[sp] += rows, st.tokens[sp] += rows * cols;
          add_progress(int64_t(batch[i].text.size()), rows * cols);
        }
        batch.clear();
        batch_bytes = 0;
      };
      for (const auto& f : src.files) {
        st.bytes += read_documents(
            src.reader, f,
            [&](const Document& d) {
              batch.push_back(d);
              batch_bytes += d.text.size();
              if (batch_bytes >= kBatchBytes) flush_batch();
            },
            size_t(chunk_bytes));
      }
      flush_batch();
      for (int sp = 0; sp < 2; ++sp) st.dropped[sp] = int64_t(packers[sp].buf.size());
    }
    man.sources.push_back(st);
  }
  for (auto& w : writers) {
    w.finish();
    man.shards.insert(man.shards.end(), w.shards().begin(), w.shards().end());
  }
  progress.finish(bytes_read / 1e6, token_fields());
  if (man.total_tokens(kTrain) == 0)
    throw ConfigError(
        fmt::format("{}: no training rows: every source is shorter than one row of {} tokens", opt.mix_path, cols));
  const int64_t val_rows = man.total_tokens(kVal) / cols;
  if (val_fraction > 0 && val_rows < kMinValRows)
    std::fprintf(stderr,
                 "data prepare: warning: the held-out split has %lld rows of %lld tokens (fewer than one validation "
                 "batch of %lld): add text, raise val_fraction or lower --chunk-bytes, or train with "
                 "train.val_batches = 0\n",
                 (long long)val_rows, (long long)cols, (long long)kMinValRows);
  arch::write_file_atomic(staging.path + "/" + kManifestName, man.to_json());

  // Swap into place: an existing OUT is replaced only once the new one is complete.
  const std::string old = out + ".old-" + std::to_string(::getpid());
  const bool had_old = fs::exists(out);
  if (had_old) fs::rename(out, old);
  fs::rename(staging.path, out);
  staging.keep = true;
  if (had_old) fs::remove_all(old, ec);

  PrepareReport rep;
  rep.manifest = man;
  rep.seconds = progress.elapsed_s();
  for (const auto& s : man.sources) rep.bytes += s.bytes;
  rep.tokens = man.total_tokens(kTrain) + man.total_tokens(kVal);
  return rep;
}

}  // namespace sharelab::data
