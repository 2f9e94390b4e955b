// One token through the model at batch 1, for decoding: each executed layer is one OpenMP region of
// raw AVX-512 loops (norm, QKV product, RoPE, cache append, attention, output product, norm, gate/up
// product with SwiGLU, down product), split over the threads by output rows or heads.
// Why: batch-1 decoding reads every weight once per token, and the LibTorch path spends about as
// long again on ~30 small operators per layer (dispatch, allocation, an OpenMP region each) as on
// the weights. Weights stay where the model keeps them, one copy per unique module, so a layer that
// repeats the previous one's blocks reads them from cache (MobileLLM-LS's immediate repeat).
// Activations are fp32 throughout; weights and the KV cache are fp32 or bf16 (widened on load,
// products exact). Torch-free: arch/model.cpp fills the pointers from its parameters and cache.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace sharelab::kernels::decode {

enum class Type { kF32, kBF16 };  // how weights or cache entries are stored (bf16: raw 16-bit words)

struct Layer {  // one executed layer: its unique modules' weights and its own cache
  const void *attn_norm, *wq, *wk, *wv, *wo, *ffn_norm, *w1, *w3, *w2;  // weights (out, in), row-major
  void *k_cache, *v_cache;                                               // (G, capacity, D)
};

struct Model {
  int64_t C = 0, H = 0, G = 0, D = 0, F = 0, V = 0, capacity = 0;
  float eps = 1e-5f;
  Type weights = Type::kF32, cache = Type::kF32;
  const void* embedding = nullptr;   // (V, C)
  const void* final_norm = nullptr;  // (C)
  const void* head = nullptr;        // (V, C): the embedding when tied
  const float* cos = nullptr;        // (capacity, D), HF half-rotation RoPE
  const float* sin = nullptr;
  std::vector<Layer> layers;
};

// Whether this CPU runs the kernels (AVX-512F + BW).
bool supported();

// The token at position `pos` (its keys and values land in every cache at pos, which must be below
// capacity and have positions 0..pos-1 filled) through every layer, then the final norm and the
// head: logits (V) in fp32 (nullptr: no head). `hook(layer, begin)`, when set, runs before and after
// each executed layer (per-layer timing). threads: the OpenMP team size.
void forward_token(const Model& m, int64_t token, int64_t pos, float* logits, int threads,
                   const std::function<void(int64_t, bool)>& hook = nullptr);

}  // namespace sharelab::kernels::decode
