// LibTorch LLaMA with index-map sharing. Shapes: B batch, T time, C d_model, H heads, G kv heads,
// R = H / G query heads per kv head, D head_dim, V vocab.
#include "arch/model.h"

#include "arch/fast_init.h"

#include "kernels/attention.h"
#include "kernels/cpu_gemm.h"
#include "kernels/fused_ops.h"

#include <cmath>
#include <initializer_list>
#include <unordered_set>
#include <vector>

namespace sharelab::arch {

namespace nnf = torch::nn::functional;

// --- RMSNorm ----------------------------------------------------------------------------------

RMSNormImpl::RMSNormImpl(int64_t dim, double eps_) : eps(eps_) {
  weight = register_parameter("weight", torch::ones({dim}));
}

torch::Tensor RMSNormImpl::forward(const torch::Tensor& x) { return kernels::rms_norm(x, weight, eps); }

// --- rotary -----------------------------------------------------------------------------------

Rope make_rope(int64_t seq, int64_t hd, double theta, const torch::Device& device) {
  auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  auto inv = 1.0 / torch::pow(theta, torch::arange(0, hd, 2, opts) / double(hd));  // (D/2)
  auto freqs = torch::outer(torch::arange(seq, opts), inv);                        // (T, D/2)
  auto emb = torch::cat({freqs, freqs}, -1);                                       // (T, D)
  return {emb.cos(), emb.sin()};
}

// Products of one input with several weights (QKV; gate and up) run as one wider GEMM when that
// pays. At small widths the wider product runs much nearer the BLAS/oneDNN peak (bench/bench_train),
// but the concatenated weight is a fresh copy on every call: ~2W bytes of memory traffic against
// ~rows x W/2 multiply-adds, so the copy is amortised only over many rows, and at large widths the
// separate products are near peak anyway. Measured (issue 11): large-base's 140 MB copy per layer
// made its 128-token fp32 forward 1.56x eager PyTorch's.
namespace {

constexpr int64_t kFuseMinRows = 1024;
constexpr int64_t kFuseMaxBytes = int64_t(16) << 20;

bool fuse_products(const torch::Tensor& x, std::initializer_list<torch::Tensor> weights) {
  int64_t bytes = 0;
  for (const auto& w : weights) bytes += w.numel() * int64_t(w.element_size());
  return x.numel() / x.size(-1) >= kFuseMinRows && bytes <= kFuseMaxBytes;
}

// x (..., C) times each weight (O_i, C), outputs concatenated along the last axis.
torch::Tensor linear_concat(const torch::Tensor& x, std::initializer_list<torch::Tensor> weights) {
  if (fuse_products(x, weights)) return kernels::linear(x, torch::cat(weights, 0));
  std::vector<torch::Tensor> outs;
  for (const auto& w : weights) outs.push_back(kernels::linear(x, w));
  return torch::cat(outs, -1);
}

}  // namespace

// --- attention --------------------------------------------------------------------------------

AttentionImpl::AttentionImpl(const ModelSpec& s)
    : n_heads(s.n_heads), n_kv_heads(s.n_kv_heads), head_dim(s.head_dim()) {
  auto lin = uninitialized_linear;  // reset_parameters draws them (fast_init.h)
  wq = register_module("wq", lin(s.d_model, n_heads * head_dim));
  wk = register_module("wk", lin(s.d_model, n_kv_heads * head_dim));
  wv = register_module("wv", lin(s.d_model, n_kv_heads * head_dim));
  wo = register_module("wo", lin(n_heads * head_dim, s.d_model));
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& x, const Rope& rope) {
  const int64_t G = n_kv_heads, D = head_dim;
  // (B, T, (H + 2G) D), one product when that pays (linear_concat); the parameters stay separate
  // (HF names, sharing). The 1/sqrt(D) scale goes on q (T x D per head) rather than on the scores.
  const auto qkv = linear_concat(x, {wq->weight, wk->weight, wv->weight});
  auto [q, k, v] = kernels::split_heads_rope(qkv, rope.cos, rope.sin, n_heads, G, 1.0 / std::sqrt(double(D)));
  return kernels::linear(kernels::causal_attention(q, k, v), wo->weight);  // (B, T, H*D) -> (B, T, C)
}

torch::Tensor AttentionImpl::forward_cached(const torch::Tensor& x, const Rope& rope, torch::Tensor& k_cache,
                                            torch::Tensor& v_cache, int64_t past, int64_t capacity) {
  const int64_t G = n_kv_heads, D = head_dim, n = x.size(1);
  const auto qkv = linear_concat(x, {wq->weight, wk->weight, wv->weight});
  auto [q, k, v] = kernels::split_heads_rope(qkv, rope.cos, rope.sin, n_heads, G, 1.0 / std::sqrt(double(D)));
  if (!k_cache.defined()) {  // the dtype of this layer's keys (bf16 under autocast)
    k_cache = torch::empty({x.size(0), G, capacity, D}, k.options());
    v_cache = torch::empty({x.size(0), G, capacity, D}, v.options());
  }
  k_cache.narrow(2, past, n).copy_(k);
  v_cache.narrow(2, past, n).copy_(v);
  // A prompt from the start attends causally within itself: forward()'s fused causal core.
  const auto a = past == 0 ? kernels::causal_attention(q, k, v)
                           : kernels::cached_attention(q, k_cache.narrow(2, 0, past + n), v_cache.narrow(2, 0, past + n), past);
  return kernels::linear(a, wo->weight);
}

// --- SwiGLU -----------------------------------------------------------------------------------

SwiGLUImpl::SwiGLUImpl(int64_t dim, int64_t hidden) {
  auto lin = uninitialized_linear;  // reset_parameters draws them (fast_init.h)
  w1 = register_module("w1", lin(dim, hidden));
  w2 = register_module("w2", lin(hidden, dim));
  w3 = register_module("w3", lin(dim, hidden));
}

torch::Tensor SwiGLUImpl::forward(const torch::Tensor& x) {
  auto gate_up = linear_concat(x, {w1->weight, w3->weight});  // (B, T, 2F), as for QKV
  return kernels::linear(kernels::swiglu(gate_up), w2->weight);
}

// --- CausalLM ---------------------------------------------------------------------------------

CausalLMImpl::CausalLMImpl(const ModelSpec& spec) : spec_(spec) {
  spec_.validate();
  layout_ = spec_.layout();
  tok_emb = register_module("tok_emb", uninitialized_embedding(spec_.vocab_size, spec_.d_model));
  // The pools: the only place modules are registered, one entry per unique owner.
  attn = register_module("attn", torch::nn::ModuleList());
  ffn = register_module("ffn", torch::nn::ModuleList());
  attn_norm = register_module("attn_norm", torch::nn::ModuleList());
  ffn_norm = register_module("ffn_norm", torch::nn::ModuleList());
  for (int64_t i = 0; i < layout_.n_attn; ++i) attn->push_back(Attention(spec_));
  for (int64_t i = 0; i < layout_.n_ffn; ++i) ffn->push_back(SwiGLU(spec_.d_model, spec_.ffn_dim));
  for (int64_t i = 0; i < layout_.n_attn_norm; ++i) attn_norm->push_back(RMSNorm(spec_.d_model, spec_.norm_eps));
  for (int64_t i = 0; i < layout_.n_ffn_norm; ++i) ffn_norm->push_back(RMSNorm(spec_.d_model, spec_.norm_eps));
  norm = register_module("norm", RMSNorm(spec_.d_model, spec_.norm_eps));
  // Tied: no lm_head at all; forward multiplies by tok_emb->weight (no dead, counted copy).
  if (!spec_.tie_embeddings)
    lm_head = register_module("lm_head", uninitialized_linear(spec_.d_model, spec_.vocab_size));
  // Slots borrow from the pools by index map.
  for (int64_t s = 0; s < spec_.n_layers; ++s) {
    slots_.push_back(Slot{RMSNorm(attn_norm->ptr<RMSNormImpl>(layout_.attn_norm_of[s])),
                          Attention(attn->ptr<AttentionImpl>(layout_.attn_of[s])),
                          RMSNorm(ffn_norm->ptr<RMSNormImpl>(layout_.ffn_norm_of[s])),
                          SwiGLU(ffn->ptr<SwiGLUImpl>(layout_.ffn_of[s]))});
  }
  reset_parameters(0);
}

void CausalLMImpl::reset_parameters(uint64_t seed) {
  torch::NoGradGuard no_grad;
  auto gen = at::detail::createCPUGenerator(seed);
  const double std = spec_.init_std;
  // A global depth scale (not per slot): a per-slot scale would re-initialise a shared owner
  // once per slot and the last slot would win.
  const double out_std = std / std::sqrt(2.0 * double(spec_.n_layers));
  // Drawn on CPU with our generator, in this order, so the init is identical on every device and
  // dtype: normal_fill gives exactly what w.normal_(0, sd, gen) in turn would (or, off CPU fp32,
  // at::normal in fp32 then copy_), pieces in parallel and cast piece by piece (fast_init.h).
  std::vector<NormalFill> fills{{tok_emb->weight, std}};
  for (size_t i = 0; i < attn->size(); ++i) {
    auto a = attn->ptr<AttentionImpl>(i);
    fills.insert(fills.end(),
                 {{a->wq->weight, std}, {a->wk->weight, std}, {a->wv->weight, std}, {a->wo->weight, out_std}});
  }
  for (size_t i = 0; i < ffn->size(); ++i) {
    auto f = ffn->ptr<SwiGLUImpl>(i);
    fills.insert(fills.end(), {{f->w1->weight, std}, {f->w3->weight, std}, {f->w2->weight, out_std}});
  }
  if (lm_head) fills.push_back({lm_head->weight, std});
  normal_fill(fills, gen);
  for (auto* pool : {&attn_norm, &ffn_norm})
    for (size_t i = 0; i < (*pool)->size(); ++i) (*pool)->ptr<RMSNormImpl>(i)->weight.fill_(1.0);
  norm->weight.fill_(1.0);
}

torch::Tensor CausalLMImpl::forward(const torch::Tensor& tokens) {
  const int64_t T = tokens.size(1);
  TORCH_CHECK(T <= spec_.max_seq_len, "sequence length ", T, " exceeds max_seq_len ", spec_.max_seq_len);
  const Rope rope = make_rope(T, spec_.head_dim(), spec_.rope_theta, tokens.device());
  auto x = tok_emb(tokens);  // (B, T, C)
  for (size_t s = 0; s < slots_.size(); ++s) {
    Slot& l = slots_[s];
    if (hook_) hook_(int64_t(s), true);
    x = x + l.attn(l.attn_norm(x), rope);
    x = x + l.ffn(l.ffn_norm(x));
    if (hook_) hook_(int64_t(s), false);
  }
  auto h = norm(x);
  return kernels::linear(h, spec_.tie_embeddings ? tok_emb->weight : lm_head->weight);  // (B, T, V)
}

KVCache CausalLMImpl::new_cache(int64_t capacity, const torch::Device& device) const {
  TORCH_CHECK(capacity > 0 && capacity <= spec_.max_seq_len, "cache capacity ", capacity, " outside [1, max_seq_len ",
              spec_.max_seq_len, "]");
  KVCache c;
  c.capacity = capacity;
  c.k.resize(slots_.size());
  c.v.resize(slots_.size());
  c.rope = make_rope(capacity, spec_.head_dim(), spec_.rope_theta, device);
  return c;
}

torch::Tensor CausalLMImpl::forward_cached(const torch::Tensor& tokens, KVCache& c, Logits logits) {
  const int64_t n = tokens.size(1), past = c.length;
  TORCH_CHECK(c.k.size() == slots_.size(), "the cache was made for another model");
  TORCH_CHECK(past + n <= c.capacity, "sequence length ", past + n, " exceeds the cache's capacity ", c.capacity);
  if (decode_step_applies(tokens, c)) return decode_step(tokens, c, logits);
  const Rope rope{c.rope.cos.narrow(0, past, n), c.rope.sin.narrow(0, past, n)};
  auto x = tok_emb(tokens);  // (B, n, C)
  for (size_t s = 0; s < slots_.size(); ++s) {
    Slot& l = slots_[s];
    if (hook_) hook_(int64_t(s), true);
    x = x + l.attn->forward_cached(l.attn_norm(x), rope, c.k[s], c.v[s], past, c.capacity);
    x = x + l.ffn(l.ffn_norm(x));
    if (hook_) hook_(int64_t(s), false);
  }
  c.length = past + n;
  if (logits == Logits::kNone) return {};
  if (logits == Logits::kLast) x = x.narrow(1, n - 1, 1);
  return kernels::linear(norm(x), spec_.tie_embeddings ? tok_emb->weight : lm_head->weight);  // (B, n or 1, V)
}

torch::Tensor CausalLMImpl::loss(const torch::Tensor& inputs, const torch::Tensor& targets) {
  auto logits = forward(inputs);
  return nnf::cross_entropy(logits.to(torch::kFloat32).view({-1, spec_.vocab_size}), targets.reshape({-1}),
                            nnf::CrossEntropyFuncOptions().ignore_index(-100));
}

int64_t count_parameters(torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

int64_t count_distinct_parameters(torch::nn::Module& m) {
  std::unordered_set<const void*> seen;
  int64_t n = 0;
  for (const auto& p : m.parameters())
    if (seen.insert(p.unsafeGetTensorImpl()).second) n += p.numel();
  return n;
}

}  // namespace sharelab::arch
