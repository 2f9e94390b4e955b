// GGUF export: the writer's bytes (header, every KV type, tensor infos, alignment, padding) and a
// shared-FFN / GQA / tied model exported and read back by a small independent reader here: names,
// ggml dims, dtypes, the RoPE permutation round trip, the vocabulary, atomicity on errors.
#include <doctest/doctest.h>

#include <torch/torch.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

#include <unistd.h>

#include "arch/registry.h"
#include "arch/weights.h"
#include "common/errors.h"
#include "runner/interop/gguf_export.h"
#include "runner/interop/gguf_writer.h"

namespace fs = std::filesystem;
using namespace sharelab;
using namespace sharelab::interop;

namespace {

// --- a minimal GGUF reader, written from the spec rather than from the writer -------------------
struct Cursor {
  const std::string& b;
  size_t p = 0;
  template <typename T>
  T get() {
    REQUIRE(p + sizeof(T) <= b.size());
    T v;
    std::memcpy(&v, b.data() + p, sizeof(T));
    p += sizeof(T);
    return v;
  }
  std::string str() {
    const auto n = get<uint64_t>();
    REQUIRE(p + n <= b.size());
    std::string s = b.substr(p, n);
    p += n;
    return s;
  }
};

struct Kv {
  uint32_t type = 0, elem = 0;
  std::vector<double> nums;  // scalars and numeric arrays (as double)
  std::vector<std::string> strs;
};

struct Tensor {
  std::vector<uint64_t> ne;
  uint32_t type = 0;
  uint64_t offset = 0;
};

struct File {
  std::string bytes;
  uint32_t version = 0;
  std::vector<std::string> key_order;
  std::map<std::string, Kv> kv;
  std::vector<std::string> tensor_order;
  std::map<std::string, Tensor> tensors;
  uint64_t infos_end = 0, data_start = 0;
};

double scalar(Cursor& c, uint32_t t) {
  switch (t) {
    case 0: return c.get<uint8_t>();
    case 1: return c.get<int8_t>();
    case 2: return c.get<uint16_t>();
    case 3: return c.get<int16_t>();
    case 4: return c.get<uint32_t>();
    case 5: return c.get<int32_t>();
    case 6: return c.get<float>();
    case 7: return c.get<uint8_t>();
    case 10: return double(c.get<uint64_t>());
    case 11: return double(c.get<int64_t>());
    case 12: return c.get<double>();
  }
  FAIL("unexpected scalar type " << t);
  return 0;
}

File parse(const std::string& bytes) {
  File f;
  f.bytes = bytes;
  Cursor c{f.bytes};
  REQUIRE(f.bytes.substr(0, 4) == "GGUF");
  c.p = 4;
  f.version = c.get<uint32_t>();
  const auto n_tensors = c.get<uint64_t>(), n_kv = c.get<uint64_t>();
  for (uint64_t i = 0; i < n_kv; ++i) {
    const std::string key = c.str();
    Kv kv;
    kv.type = c.get<uint32_t>();
    if (kv.type == 8) {
      kv.strs.push_back(c.str());
    } else if (kv.type == 9) {
      kv.elem = c.get<uint32_t>();
      const auto n = c.get<uint64_t>();
      for (uint64_t j = 0; j < n; ++j) {
        if (kv.elem == 8) kv.strs.push_back(c.str());
        else kv.nums.push_back(scalar(c, kv.elem));
      }
    } else {
      kv.nums.push_back(scalar(c, kv.type));
    }
    f.key_order.push_back(key);
    f.kv[key] = kv;
  }
  for (uint64_t i = 0; i < n_tensors; ++i) {
    const std::string name = c.str();
    Tensor t;
    const auto dims = c.get<uint32_t>();
    for (uint32_t d = 0; d < dims; ++d) t.ne.push_back(c.get<uint64_t>());
    t.type = c.get<uint32_t>();
    t.offset = c.get<uint64_t>();
    f.tensor_order.push_back(name);
    f.tensors[name] = t;
  }
  const uint64_t align = f.kv.count("general.alignment") ? uint64_t(f.kv["general.alignment"].nums[0]) : 32;
  f.infos_end = c.p;
  f.data_start = (c.p + align - 1) / align * align;
  return f;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The tensor's data as float32 in PyTorch shape (ne reversed).
torch::Tensor data_of(const File& f, const std::string& name) {
  const Tensor& t = f.tensors.at(name);
  std::vector<int64_t> shape(t.ne.rbegin(), t.ne.rend());
  const auto st = t.type == 0 ? torch::kFloat : t.type == 1 ? torch::kHalf : torch::kBFloat16;
  torch::Tensor out = torch::empty(shape, torch::TensorOptions().dtype(st));
  const size_t n = size_t(out.numel() * out.element_size());
  REQUIRE(f.data_start + t.offset + n <= f.bytes.size());
  std::memcpy(out.data_ptr(), f.bytes.data() + f.data_start + t.offset, n);
  return out.to(torch::kFloat);
}

data::SpmVocab toy_vocab(int64_t n) {
  data::SpmVocab v;
  v.pieces.push_back({"<unk>", 0, data::SpmPieceType::kUnknown});
  v.pieces.push_back({"<s>", 0, data::SpmPieceType::kControl});
  v.pieces.push_back({"</s>", 0, data::SpmPieceType::kControl});
  for (int b = 0; b < 256 && int64_t(v.pieces.size()) < n; ++b) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "<0x%02X>", b);
    v.pieces.push_back({hex, 0, data::SpmPieceType::kByte});
  }
  while (int64_t(v.pieces.size()) < n)
    v.pieces.push_back({"\xe2\x96\x81w" + std::to_string(v.pieces.size()), -float(v.pieces.size()), data::SpmPieceType::kNormal});
  v.byte_fallback = true;
  return v;
}

struct TmpDir {
  fs::path dir;
  TmpDir() : dir(fs::temp_directory_path() / ("sharelab_gguf_" + std::to_string(::getpid()))) {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~TmpDir() { fs::remove_all(dir); }
  std::string operator/(const std::string& name) const { return (dir / name).string(); }
  size_t count() const { return size_t(std::distance(fs::directory_iterator(dir), fs::directory_iterator())); }
};

}  // namespace

TEST_CASE("writer: header bytes, a KV of each type, tensor infos in order, aligned data") {
  gguf::Writer w;
  w.set("t.u8", gguf::Value::u8(200));
  w.set("t.i8", gguf::Value::i8(-5));
  w.set("t.u16", gguf::Value::u16(60000));
  w.set("t.i16", gguf::Value::i16(-300));
  w.set("t.u32", gguf::Value::u32(4000000000u));
  w.set("t.i32", gguf::Value::i32(-7));
  w.set("t.u64", gguf::Value::u64(1ull << 40));
  w.set("t.i64", gguf::Value::i64(-(1ll << 40)));
  w.set("t.f32", gguf::Value::f32(1.5f));
  w.set("t.f64", gguf::Value::f64(-2.25));
  w.set("t.bool", gguf::Value::boolean(true));
  w.set("t.str", gguf::Value::string("h\xc3\xa9llo"));
  w.set("t.strs", gguf::Value::strings({"a", "", "\xe2\x96\x81" "b"}));
  w.set("t.f32s", gguf::Value::f32s({0.5f, -1.f}));
  w.set("t.i32s", gguf::Value::i32s({1, -2, 3}));
  CHECK_THROWS_AS(w.set("t.u8", gguf::Value::u8(1)), std::logic_error);
  w.add_tensor("b", {3, 5}, gguf::TensorType::kF32);   // 60 bytes -> padded to 64
  w.add_tensor("a", {7}, gguf::TensorType::kF16);      // 14 bytes -> 32
  w.add_tensor("c", {2, 3, 4}, gguf::TensorType::kBF16);
  CHECK_THROWS_AS(w.add_tensor("a", {1}, gguf::TensorType::kF32), std::logic_error);
  CHECK_THROWS_AS(w.add_tensor(std::string(64, 'x'), {1}, gguf::TensorType::kF32), std::logic_error);
  CHECK_THROWS_AS(w.add_tensor("d", {1, 1, 1, 1, 1}, gguf::TensorType::kF32), std::logic_error);

  std::ostringstream out;
  w.write(out, [&](size_t i, std::ostream& o) {
    const auto& t = w.tensors()[i];
    o << std::string(t.nbytes, char('A' + i));
  });
  const std::string bytes = out.str();
  CHECK(bytes.size() == w.file_size());
  // "GGUF", version 3, 3 tensors, 16 keys (general.alignment first).
  const std::string head("GGUF\x03\0\0\0\x03\0\0\0\0\0\0\0\x10\0\0\0\0\0\0\0", 24);
  CHECK(bytes.substr(0, 24) == head);

  const File f = parse(bytes);
  CHECK(f.version == 3);
  REQUIRE(f.key_order.size() == 16);
  CHECK(f.key_order[0] == "general.alignment");
  CHECK(f.kv.at("general.alignment").type == 4);
  CHECK(f.kv.at("general.alignment").nums[0] == 32);
  const std::vector<std::pair<std::string, uint32_t>> types{
      {"t.u8", 0}, {"t.i8", 1}, {"t.u16", 2}, {"t.i16", 3}, {"t.u32", 4}, {"t.i32", 5}, {"t.f32", 6}, {"t.bool", 7},
      {"t.str", 8}, {"t.strs", 9}, {"t.u64", 10}, {"t.i64", 11}, {"t.f64", 12}};
  for (const auto& [k, t] : types) CHECK_MESSAGE(f.kv.at(k).type == t, k);
  CHECK(f.kv.at("t.u8").nums[0] == 200);
  CHECK(f.kv.at("t.i8").nums[0] == -5);
  CHECK(f.kv.at("t.u16").nums[0] == 60000);
  CHECK(f.kv.at("t.i16").nums[0] == -300);
  CHECK(f.kv.at("t.u32").nums[0] == 4000000000.0);
  CHECK(f.kv.at("t.i32").nums[0] == -7);
  CHECK(f.kv.at("t.u64").nums[0] == double(1ull << 40));
  CHECK(f.kv.at("t.i64").nums[0] == -double(1ll << 40));
  CHECK(f.kv.at("t.f32").nums[0] == 1.5);
  CHECK(f.kv.at("t.f64").nums[0] == -2.25);
  CHECK(f.kv.at("t.bool").nums[0] == 1);
  CHECK(f.kv.at("t.str").strs == std::vector<std::string>{"h\xc3\xa9llo"});
  CHECK(f.kv.at("t.strs").elem == 8);
  CHECK(f.kv.at("t.strs").strs == std::vector<std::string>{"a", "", "\xe2\x96\x81" "b"});
  CHECK(f.kv.at("t.f32s").elem == 6);
  CHECK(f.kv.at("t.f32s").nums == std::vector<double>{0.5, -1});
  CHECK(f.kv.at("t.i32s").elem == 5);
  CHECK(f.kv.at("t.i32s").nums == std::vector<double>{1, -2, 3});

  CHECK(f.tensor_order == std::vector<std::string>{"b", "a", "c"});
  CHECK(f.tensors.at("b").ne == std::vector<uint64_t>{5, 3});  // ggml order: innermost first
  CHECK(f.tensors.at("c").ne == std::vector<uint64_t>{4, 3, 2});
  CHECK(f.tensors.at("b").type == 0);
  CHECK(f.tensors.at("a").type == 1);
  CHECK(f.tensors.at("c").type == 30);
  CHECK(f.tensors.at("b").offset == 0);
  CHECK(f.tensors.at("a").offset == 64);
  CHECK(f.tensors.at("c").offset == 96);
  CHECK(f.data_start % 32 == 0);
  CHECK(bytes.size() == f.data_start + 96 + 64);
  // Data in place, padding zero.
  CHECK(bytes.substr(f.data_start, 60) == std::string(60, 'A'));
  CHECK(bytes.substr(f.data_start + 60, 4) == std::string(4, '\0'));
  CHECK(bytes.substr(f.data_start + 64, 14) == std::string(14, 'B'));
  CHECK(bytes.substr(f.data_start + 78, 18) == std::string(18, '\0'));
  CHECK(bytes.substr(f.data_start + 96, 48) == std::string(48, 'C'));
  // The header's padding is zero too.
  CHECK(bytes.substr(f.infos_end, f.data_start - f.infos_end) == std::string(f.data_start - f.infos_end, '\0'));
}

TEST_CASE("writer: a fill writing the wrong byte count fails, and write_file leaves nothing") {
  TmpDir tmp;
  gguf::Writer w;
  w.add_tensor("x", {4}, gguf::TensorType::kF32);
  CHECK_THROWS_AS(gguf::write_file(tmp / "bad.gguf", w, [](size_t, std::ostream& o) { o << "abc"; }), std::runtime_error);
  CHECK(tmp.count() == 0);
  gguf::write_file(tmp / "ok.gguf", w, [](size_t, std::ostream& o) { o << std::string(16, '\0'); });
  CHECK(tmp.count() == 1);
  CHECK(fs::file_size(tmp / "ok.gguf") == w.file_size());
}

TEST_CASE("rope_permute matches the converter's reshape/swapaxes and rope_unpermute undoes it") {
  // Two heads of head_dim 4, one column: rows per head [r0 r1 | r2 r3] (HF: pairs (0,2), (1,3))
  // become [r0 r2 r1 r3] (llama.cpp: consecutive pairs).
  auto w = torch::arange(8, torch::kFloat).reshape({8, 1});
  auto p = rope_permute(w, 2);
  CHECK(torch::equal(p.flatten(), torch::tensor({0.f, 2.f, 1.f, 3.f, 4.f, 6.f, 5.f, 7.f})));
  auto x = torch::randn({16, 5});
  CHECK(torch::equal(rope_unpermute(rope_permute(x, 2), 2), x));
  CHECK(torch::equal(rope_permute(rope_unpermute(x, 4), 4), x));
}

TEST_CASE("export: shared-ffn debug model (GQA) read back: keys, vocab, names, dims, permutation") {
  TmpDir tmp;
  for (const std::string dtype : {"f32", "f16", "bf16"}) {
    SUBCASE(dtype.c_str()) {
      auto spec = arch::resolve_preset("debug", {"scheme=shared-ffn"});
      arch::CausalLM model(spec);
      model->reset_parameters(7);
      const auto vocab = toy_vocab(spec.vocab_size);
      const std::string path = tmp / ("m_" + dtype + ".gguf");
      GgufOptions o;
      o.dtype = dtype;
      o.name = "toy";
      export_gguf(model, vocab, path, o);
      CHECK(tmp.count() == 1);  // no temporary left beside it
      const File f = parse(slurp(path));

      auto u = [&](const char* k) { return f.kv.at(k).nums.at(0); };
      CHECK(f.kv.at("general.architecture").strs[0] == "llama");
      CHECK(f.kv.at("general.name").strs[0] == "toy");
      CHECK(u("llama.block_count") == spec.n_layers);
      CHECK(u("llama.embedding_length") == spec.d_model);
      CHECK(u("llama.feed_forward_length") == spec.ffn_dim);
      CHECK(u("llama.attention.head_count") == spec.n_heads);
      CHECK(u("llama.attention.head_count_kv") == spec.n_kv_heads);
      CHECK(u("llama.context_length") == spec.max_seq_len);
      CHECK(u("llama.rope.dimension_count") == spec.head_dim());
      CHECK(u("llama.vocab_size") == spec.vocab_size);
      CHECK(u("llama.rope.freq_base") == doctest::Approx(spec.rope_theta));
      CHECK(u("llama.attention.layer_norm_rms_epsilon") == doctest::Approx(spec.norm_eps).epsilon(1e-6));
      CHECK(f.kv.at("llama.block_count").type == 4);
      CHECK(f.kv.at("llama.rope.freq_base").type == 6);
      CHECK(u("general.file_type") == (dtype == "f32" ? 0 : dtype == "f16" ? 1 : 32));
      CHECK(f.kv.at("tokenizer.ggml.model").strs[0] == "llama");
      REQUIRE(f.kv.at("tokenizer.ggml.tokens").strs.size() == size_t(spec.vocab_size));
      CHECK(f.kv.at("tokenizer.ggml.tokens").strs[1] == "<s>");
      CHECK(f.kv.at("tokenizer.ggml.tokens").strs[3] == "<0x00>");
      CHECK(f.kv.at("tokenizer.ggml.token_type").elem == 5);
      CHECK(f.kv.at("tokenizer.ggml.token_type").nums[0] == 2);
      CHECK(f.kv.at("tokenizer.ggml.token_type").nums[1] == 3);
      CHECK(f.kv.at("tokenizer.ggml.token_type").nums[3] == 6);
      CHECK(f.kv.at("tokenizer.ggml.scores").nums[300] == -300);
      CHECK(u("tokenizer.ggml.bos_token_id") == 1);
      CHECK(u("tokenizer.ggml.eos_token_id") == 2);
      CHECK(u("tokenizer.ggml.unknown_token_id") == 0);
      CHECK(f.kv.at("tokenizer.ggml.bos_token_id").type == 4);
      CHECK(f.kv.at("tokenizer.ggml.add_bos_token").type == 7);
      CHECK(u("tokenizer.ggml.add_bos_token") == 1);
      CHECK(u("tokenizer.ggml.add_eos_token") == 0);

      // Every tensor of the HF view, per layer (shared FFN materialised), untied -> output.weight.
      const auto hf = arch::hf_state(model);
      CHECK(f.tensors.size() == hf.size());
      CHECK(f.tensor_order.front() == "token_embd.weight");
      CHECK(f.tensors.count("output.weight") == 1);
      const std::map<std::string, std::string> suffix{
          {"attn_norm", "input_layernorm"}, {"attn_q", "self_attn.q_proj"}, {"attn_k", "self_attn.k_proj"},
          {"attn_v", "self_attn.v_proj"}, {"attn_output", "self_attn.o_proj"}, {"ffn_norm", "post_attention_layernorm"},
          {"ffn_gate", "mlp.gate_proj"}, {"ffn_up", "mlp.up_proj"}, {"ffn_down", "mlp.down_proj"}};
      std::map<std::string, std::string> names{{"token_embd.weight", "model.embed_tokens.weight"},
                                               {"output_norm.weight", "model.norm.weight"},
                                               {"output.weight", "lm_head.weight"}};
      for (int64_t i = 0; i < spec.n_layers; ++i)
        for (const auto& [g, h] : suffix)
          names["blk." + std::to_string(i) + "." + g + ".weight"] = "model.layers." + std::to_string(i) + "." + h + ".weight";
      const auto want_type = dtype == "f32" ? 0u : dtype == "f16" ? 1u : 30u;
      const auto st = dtype == "f32" ? torch::kFloat : dtype == "f16" ? torch::kHalf : torch::kBFloat16;
      for (const auto& [g, h] : names) {
        CAPTURE(g);
        REQUIRE(f.tensors.count(g) == 1);
        const Tensor& t = f.tensors.at(g);
        const torch::Tensor ours = hf.at(h).detach();
        std::vector<uint64_t> ne(ours.sizes().rbegin(), ours.sizes().rend());
        CHECK(t.ne == ne);
        CHECK(t.type == (ours.dim() == 1 ? 0u : want_type));  // norms stay F32
        CHECK(t.offset % 32 == 0);
        torch::Tensor got = data_of(f, g);
        if (g.find("attn_q") != std::string::npos) got = rope_unpermute(got, spec.n_heads);
        if (g.find("attn_k") != std::string::npos) got = rope_unpermute(got, spec.n_kv_heads);
        const torch::Tensor want = ours.to(st).to(torch::kFloat);  // norms: F32 holding values of the dtype
        CHECK(torch::equal(got, want));
      }
      // The permutation really moved the Q rows (not the identity).
      CHECK(!torch::equal(data_of(f, "blk.0.attn_q.weight"), hf.at("model.layers.0.self_attn.q_proj.weight").to(st).to(torch::kFloat)));
      // Shared FFN: every layer's copy is the same bytes.
      CHECK(torch::equal(data_of(f, "blk.0.ffn_up.weight"), data_of(f, "blk.3.ffn_up.weight")));
    }
  }
}

TEST_CASE("export: tied embeddings omit output.weight, block repeats unrolled") {
  TmpDir tmp;
  auto spec = arch::resolve_preset("debug", {"scheme=immediate", "repeats=2", "tie_embeddings=true"});
  arch::CausalLM model(spec);
  model->reset_parameters(3);
  export_gguf(model, toy_vocab(spec.vocab_size), tmp / "t.gguf", "f32");
  const File f = parse(slurp(tmp / "t.gguf"));
  CHECK(f.tensors.count("output.weight") == 0);
  CHECK(f.kv.at("llama.block_count").nums[0] == spec.n_layers);
  CHECK(f.tensors.count("blk." + std::to_string(spec.n_layers - 1) + ".attn_q.weight") == 1);
  CHECK(f.tensors.size() == 2 + 9 * size_t(spec.n_layers));

  // A tokenizer without BOS: no id written and nothing to add (llama.cpp would prepend id 1).
  auto vocab = toy_vocab(spec.vocab_size);
  vocab.bos_id = -1;
  export_gguf(model, vocab, tmp / "nobos.gguf", "f32");
  const File g = parse(slurp(tmp / "nobos.gguf"));
  CHECK(g.kv.count("tokenizer.ggml.bos_token_id") == 0);
  CHECK(g.kv.at("tokenizer.ggml.add_bos_token").nums[0] == 0);
}

TEST_CASE("export errors: vocab mismatch, unknown dtype, no file left") {
  TmpDir tmp;
  auto spec = arch::resolve_preset("debug", {});
  arch::CausalLM model(spec);
  model->reset_parameters(1);
  CHECK_THROWS_WITH_AS(export_gguf(model, toy_vocab(spec.vocab_size - 1), tmp / "v.gguf", "f32"),
                       doctest::Contains("vocab_size"), ConfigError);
  CHECK_THROWS_WITH_AS(export_gguf(model, toy_vocab(spec.vocab_size), tmp / "d.gguf", "q8_0"),
                       doctest::Contains("--dtype"), ConfigError);
  CHECK(tmp.count() == 0);
  // A folder that does not exist: a ConfigError, nothing created.
  CHECK_THROWS_AS(export_gguf(model, toy_vocab(spec.vocab_size), tmp / "no/such/dir.gguf", "f32"), ConfigError);
  CHECK(tmp.count() == 0);
}
