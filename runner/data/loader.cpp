// ShardLoader: a global, rank-interleaved stream over shuffled passes ("epochs") of the mix.
//   One pass = for each source s, round(weight_s * U_s) units (a unit = one row of seq_len + 1
//   after splitting stored rows), drawn from a per-(seed, pass, source) permutation of that
//   source's units (cycled when weight > 1), then shuffled with a per-(seed, pass) permutation.
//   The val split ignores weights (held-out loss over the natural distribution).
//   Rank r's c-th row is global position g = r + world_size * c, pass g / M, slot g % M, so ranks
//   are disjoint, together cover every pass, and the stream is a pure function of
//   (seed, rank, world_size, cursor). Memory: 8 bytes per unit per source plus one pass (8 x M).
#include "runner/data/loader.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <numeric>

#include "common/errors.h"
#include "runner/data/manifest.h"
#include "runner/data/shard_file.h"

namespace sharelab::data {

namespace {

// SplitMix64: fully specified, so the order is the same with any standard library.
uint64_t splitmix(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t below(uint64_t& state, uint64_t n) {  // uniform in [0, n) (Lemire's multiply-shift)
  return uint64_t((unsigned __int128)splitmix(state) * n >> 64);
}

template <typename T>
void shuffle(std::vector<T>& v, uint64_t seed) {
  uint64_t st = seed;
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(st, i)]);
}

uint64_t mix_seed(uint64_t seed, uint64_t a, uint64_t b) {
  uint64_t x = seed ^ (a * 0xD6E8FEB86659FD93ull) ^ (b + 0x632BE59BD9B4E019ull);
  return splitmix(x);
}

}  // namespace

struct ShardLoader::Impl {
  std::string dir;
  int split = kTrain;
  LoaderOptions opt;
  Manifest manifest;
  std::vector<ShardView> shards;
  std::vector<int64_t> shard_start;          // first global stored row of each shard
  int64_t sub_per_row = 1;                   // rows cut from one stored row
  int64_t cols = 0;                          // seq_len + 1 handed out
  std::vector<std::vector<uint64_t>> units;  // per source: unit ids (stored_row * sub_per_row + j)
  std::vector<int64_t> take;                 // per source: units per pass
  int64_t pass_size = 0;                     // M
  uint64_t cursor = 0;
  int64_t cached_pass = -1;
  std::vector<uint64_t> pass;  // the cached pass: M unit ids
  std::vector<char> verified;  // per shard: checksums checked (before its first row is used)
  int64_t logged_pass = 0;

  void build_pass(int64_t p) {
    pass.clear();
    pass.reserve(size_t(pass_size));
    for (size_t s = 0; s < units.size(); ++s) {
      if (take[s] == 0) continue;
      std::vector<uint64_t> order = units[s];
      shuffle(order, mix_seed(opt.seed, uint64_t(p), s + 1));
      for (int64_t j = 0; j < take[s]; ++j) pass.push_back(order[size_t(j) % order.size()]);
    }
    shuffle(pass, mix_seed(opt.seed, uint64_t(p), 0));
    cached_pass = p;
  }

  void copy_unit(uint64_t unit, int32_t* out, int32_t* src_out) {
    const int64_t stored = int64_t(unit) / sub_per_row, j = int64_t(unit) % sub_per_row;
    const size_t sh =
        size_t(std::upper_bound(shard_start.begin(), shard_start.end(), stored) - shard_start.begin() - 1);
    const ShardView& v = shards[sh];
    if (!verified[sh]) {  // once per shard and process: a corrupt shard is refused, never trained on
      verify_shard(v);
      verified[sh] = 1;
    }
    const int64_t r = stored - shard_start[sh];
    const int64_t first = r * v.cols + j * (cols - 1);
    if (v.width == 2) {
      const uint16_t* p = reinterpret_cast<const uint16_t*>(v.tokens) + first;
      for (int64_t k = 0; k < cols; ++k) out[k] = p[k];
    } else {
      const uint32_t* p = reinterpret_cast<const uint32_t*>(v.tokens) + first;
      for (int64_t k = 0; k < cols; ++k) out[k] = int32_t(p[k]);
    }
    *src_out = v.source[r];
  }
};

void check_split(const std::string& dir, const std::string& split, const LoaderOptions& opt) {
  const Manifest man = Manifest::load(dir);
  const auto sp = split_from_name(split);
  if (opt.seq_len < 0 || opt.seq_len > man.seq_len)
    throw ConfigError(fmt::format("{}/manifest.json: seq_len = {}, but the loader asks for {} (must be 1..{})", dir,
                                  man.seq_len, opt.seq_len, man.seq_len));
  int64_t rows = 0;
  for (const auto& e : man.shards)
    if (e.split == sp) rows += open_shard(dir + "/" + e.file, e.rows, man.seq_len + 1, man.dtype).rows;
  if (rows == 0) throw ConfigError(fmt::format("{}/manifest.json: the {} split has no rows", dir, split_name(sp)));
}

ShardLoader::ShardLoader(const std::string& dir, const std::string& split, const LoaderOptions& opt) : impl_(new Impl) {
  Impl& m = *impl_;
  try {
    m.dir = dir;
    m.split = split_from_name(split);
    m.opt = opt;
    m.manifest = Manifest::load(dir);
    const Manifest& man = m.manifest;
    if (opt.world_size < 1 || opt.rank < 0 || opt.rank >= opt.world_size)
      throw ConfigError(fmt::format("loader: rank {} / world_size {} is not a valid rank", opt.rank, opt.world_size));
    if (opt.seq_len < 0 || opt.seq_len > man.seq_len)
      throw ConfigError(fmt::format("{}/manifest.json: seq_len = {}, but the loader asks for {} (must be 1..{})", dir,
                                    man.seq_len, opt.seq_len, man.seq_len));
    const int64_t seq = opt.seq_len > 0 ? opt.seq_len : man.seq_len;
    m.cols = seq + 1;
    m.sub_per_row = man.seq_len / seq;
    m.units.resize(man.sources.size());
    int64_t stored = 0;
    for (const auto& e : man.shards) {
      if (e.split != m.split) continue;
      m.shard_start.push_back(stored);
      m.shards.push_back(open_shard(dir + "/" + e.file, e.rows, man.seq_len + 1, man.dtype));
      const ShardView& v = m.shards.back();
      for (int64_t r = 0; r < v.rows; ++r) {
        const uint16_t s = v.source[r];
        if (s >= m.units.size())
          throw ConfigError(fmt::format("{}: dataset 'source' row {}: source id {} but manifest.json lists {} sources",
                                        v.path, r, s, m.units.size()));
        for (int64_t j = 0; j < m.sub_per_row; ++j) m.units[s].push_back(uint64_t((stored + r) * m.sub_per_row + j));
      }
      stored += v.rows;
    }
    m.verified.assign(m.shards.size(), 0);
    for (size_t s = 0; s < m.units.size(); ++s) {
      const double w = m.split == kTrain ? man.sources[s].weight : 1.0;
      m.take.push_back(int64_t(std::llround(w * double(m.units[s].size()))));
      m.pass_size += m.take.back();
    }
    if (m.pass_size == 0)
      throw ConfigError(fmt::format("{}/manifest.json: the {} split has no rows", dir, split_name(m.split)));
  } catch (...) {
    delete impl_;
    throw;
  }
}

ShardLoader::~ShardLoader() {
  delete impl_;
}
ShardLoader::ShardLoader(ShardLoader&& o) noexcept : impl_(o.impl_) {
  o.impl_ = nullptr;
}

TokenBatch ShardLoader::next(int64_t rows) {
  Impl& m = *impl_;
  TokenBatch b;
  b.rows = rows;
  b.cols = m.cols;
  b.tokens.resize(size_t(rows * m.cols));
  b.source.resize(size_t(rows));
  const uint64_t W = uint64_t(m.opt.world_size), M = uint64_t(m.pass_size);
  for (int64_t i = 0; i < rows; ++i, ++m.cursor) {
    const uint64_t g = uint64_t(m.opt.rank) + W * m.cursor;
    const int64_t p = int64_t(g / M);
    if (p != m.cached_pass) m.build_pass(p);
    if (p > m.logged_pass && m.opt.log_epochs) {
      std::cerr << fmt::format("data: {} split, rank {}: pass {} over the data begins (cursor {}); rows repeat\n",
                               split_name(m.split), m.opt.rank, p + 1, m.cursor);
      m.logged_pass = p;
    }
    m.copy_unit(m.pass[size_t(g % M)], b.tokens.data() + i * m.cols, b.source.data() + i);
  }
  return b;
}

uint64_t ShardLoader::cursor() const {
  return impl_->cursor;
}
void ShardLoader::seek(uint64_t cursor) {
  impl_->cursor = cursor;
  impl_->logged_pass =
      int64_t((uint64_t(impl_->opt.rank) + uint64_t(impl_->opt.world_size) * cursor) / uint64_t(impl_->pass_size));
}
double ShardLoader::epochs() const {
  return double(impl_->cursor) * impl_->opt.world_size / double(impl_->pass_size);
}
int64_t ShardLoader::rows_per_epoch() const {
  const int64_t W = impl_->opt.world_size, r = impl_->opt.rank;
  return (impl_->pass_size - r + W - 1) / W;
}
int64_t ShardLoader::seq_len() const {
  return impl_->cols - 1;
}
int64_t ShardLoader::vocab_size() const {
  return impl_->manifest.vocab_size;
}
void ShardLoader::check_model_vocab(int64_t model_vocab, const std::string& model_name) const {
  const Manifest& m = impl_->manifest;
  if (model_vocab >= m.vocab_size) return;
  throw ConfigError(
      fmt::format("{}/manifest.json: data vocab_size = {} ({}), but model '{}' has vocab_size = {}: ids "
                  "would overflow its embedding; set model.vocab_size = {} or prepare with a smaller "
                  "tokenizer",
                  impl_->dir, m.vocab_size,
                  m.tokenizer_sha256.empty() ? "pre-tokenized" : "tokenizer " + m.tokenizer_sha256.substr(0, 12),
                  model_name, model_vocab, m.vocab_size));
}
std::string ShardLoader::tokenizer_sha256() const {
  return impl_->manifest.tokenizer_sha256;
}
std::vector<std::string> ShardLoader::sources() const {
  std::vector<std::string> out;
  for (const auto& s : impl_->manifest.sources) out.push_back(s.name);
  return out;
}
std::map<std::string, int64_t> ShardLoader::tokens_per_source() const {
  std::map<std::string, int64_t> out;
  for (const auto& s : impl_->manifest.sources) out[s.name] = s.tokens[impl_->split];
  return out;
}
std::string ShardLoader::manifest_json() const {
  return impl_->manifest.to_json();
}

}  // namespace sharelab::data
