// CausalLMImpl's batch-1 decoding step through kernels/decode_step.h: one token per call, the
// pointers taken from the parameters and the cache each time (a few hundred, against a token's
// milliseconds), so the model stays an ordinary module and the cache an ordinary KVCache that the
// LibTorch path can continue or start.
#include "arch/model.h"

#include "kernels/decode_step.h"
#include "kernels/fused_ops.h"
#include "kernels/torch_compat.h"

#include <ATen/Parallel.h>

namespace sharelab::arch {

namespace {

namespace dk = kernels::decode;

bool is_cache(const torch::Tensor& t, int64_t G, int64_t capacity, int64_t D) {
  return !t.defined() || (t.device().is_cpu() && t.is_contiguous() && t.dim() == 4 && t.size(0) == 1 &&
                          t.size(1) == G && t.size(2) == capacity && t.size(3) == D &&
                          (t.scalar_type() == torch::kFloat32 || t.scalar_type() == torch::kBFloat16));
}

dk::Type type_of(torch::ScalarType s) { return s == torch::kFloat32 ? dk::Type::kF32 : dk::Type::kBF16; }

}  // namespace

bool CausalLMImpl::decode_step_applies(const torch::Tensor& tokens, const KVCache& c) const {
  if (!dk::supported() || !kernels::fused_ops_enabled() || !tokens.device().is_cpu() || tokens.dim() != 2 ||
      tokens.size(0) != 1 || tokens.size(1) != 1 || kernels::compat::autocast_enabled(c10::DeviceType::CPU))
    return false;
  const auto dtype = tok_emb->weight.scalar_type();
  if (dtype != torch::kFloat32 && dtype != torch::kBFloat16) return false;
  // Every parameter in one dtype, on the CPU, outside autograd (grad mode off or nothing to train).
  const bool grad = torch::GradMode::is_enabled();
  for (const auto& p : parameters())
    if (!p.device().is_cpu() || p.scalar_type() != dtype || !p.is_contiguous() || (grad && p.requires_grad()))
      return false;
  const int64_t G = spec_.n_kv_heads, D = spec_.head_dim();
  for (size_t s = 0; s < slots_.size(); ++s)
    if (!is_cache(c.k[s], G, c.capacity, D) || !is_cache(c.v[s], G, c.capacity, D) ||
        c.k[s].defined() != c.v[s].defined() ||
        (c.k[s].defined() && c.k[s].scalar_type() != c.k[0].scalar_type()) ||
        (c.v[s].defined() && c.v[s].scalar_type() != c.k[s].scalar_type()))
      return false;
  return c.rope.cos.device().is_cpu() && c.rope.cos.scalar_type() == torch::kFloat32 && c.rope.cos.is_contiguous() &&
         c.rope.sin.is_contiguous();
}

torch::Tensor CausalLMImpl::decode_step(const torch::Tensor& tokens, KVCache& c, Logits logits) {
  torch::NoGradGuard no_grad;
  const auto dtype = tok_emb->weight.scalar_type();
  const int64_t G = spec_.n_kv_heads, D = spec_.head_dim(), pos = c.length;
  // A cache the LibTorch path has not started holds the weights' dtype, as that path would.
  for (size_t s = 0; s < slots_.size(); ++s)
    if (!c.k[s].defined()) {
      const auto kdtype = c.k[0].defined() ? c.k[0].scalar_type() : dtype;
      c.k[s] = torch::empty({1, G, c.capacity, D}, torch::TensorOptions().dtype(kdtype));
      c.v[s] = torch::empty({1, G, c.capacity, D}, torch::TensorOptions().dtype(kdtype));
    }
  dk::Model m;
  m.C = spec_.d_model, m.H = spec_.n_heads, m.G = G, m.D = D, m.F = spec_.ffn_dim, m.V = spec_.vocab_size;
  m.capacity = c.capacity;
  m.eps = float(spec_.norm_eps);
  m.weights = type_of(dtype);
  m.cache = type_of(c.k[0].scalar_type());
  m.embedding = tok_emb->weight.data_ptr();
  m.final_norm = norm->weight.data_ptr();
  m.head = (spec_.tie_embeddings ? tok_emb->weight : lm_head->weight).data_ptr();
  m.cos = c.rope.cos.data_ptr<float>();
  m.sin = c.rope.sin.data_ptr<float>();
  m.layers.reserve(slots_.size());
  for (size_t s = 0; s < slots_.size(); ++s) {
    const Slot& l = slots_[s];
    m.layers.push_back({l.attn_norm->weight.data_ptr(), l.attn->wq->weight.data_ptr(), l.attn->wk->weight.data_ptr(),
                        l.attn->wv->weight.data_ptr(), l.attn->wo->weight.data_ptr(), l.ffn_norm->weight.data_ptr(),
                        l.ffn->w1->weight.data_ptr(), l.ffn->w3->weight.data_ptr(), l.ffn->w2->weight.data_ptr(),
                        c.k[s].data_ptr(), c.v[s].data_ptr()});
  }
  const int64_t token = tokens.item<int64_t>();
  TORCH_CHECK(token >= 0 && token < m.V, "token id ", token, " outside the vocabulary [0, ", m.V, ")");
  torch::Tensor out;
  if (logits != Logits::kNone) out = torch::empty({1, 1, m.V}, torch::TensorOptions().dtype(torch::kFloat32));
  dk::forward_token(m, token, pos, out.defined() ? out.data_ptr<float>() : nullptr, at::get_num_threads(), hook_);
  c.length = pos + 1;
  return out.defined() ? out.to(dtype) : out;
}

}  // namespace sharelab::arch
