// Parameter, FLOP and byte accounting from the spec and its layout.
#include "arch/accounting.h"

#include <cmath>
#include <cstdio>

#include "common/errors.h"

namespace sharelab::arch {

int64_t attention_params(const ModelSpec& s) {
  const int64_t hd = s.head_dim();
  return s.d_model * s.n_heads * hd          // q_proj
         + 2 * s.d_model * s.n_kv_heads * hd  // k_proj, v_proj
         + s.n_heads * hd * s.d_model;        // o_proj
}

int64_t ffn_params(const ModelSpec& s) { return 3 * s.d_model * s.ffn_dim; }

int64_t head_params(const ModelSpec& s) { return s.tie_embeddings ? 0 : s.vocab_size * s.d_model; }

ParamCounts unique_params(const ModelSpec& s) {
  const auto l = s.layout();
  ParamCounts c;
  c.embedding = s.vocab_size * s.d_model + head_params(s);
  c.attention = l.n_attn * attention_params(s);
  c.ffn = l.n_ffn * ffn_params(s);
  c.norm = (l.n_attn_norm + l.n_ffn_norm + 1) * s.d_model;  // + final norm
  return c;
}

ParamCounts effective_params(const ModelSpec& s) {
  ParamCounts c;
  c.embedding = s.vocab_size * s.d_model + head_params(s);
  c.attention = s.n_layers * attention_params(s);
  c.ffn = s.n_layers * ffn_params(s);
  c.norm = (2 * s.n_layers + 1) * s.d_model;
  return c;
}

int64_t matmul_params_per_token(const ModelSpec& s) {
  // The head runs even when tied (it is the embedding matrix used as a linear layer).
  return s.n_layers * (attention_params(s) + ffn_params(s)) + s.vocab_size * s.d_model;
}

double forward_flops_per_token(const ModelSpec& s, int64_t seq) {
  const double attn = 4.0 * double(s.n_layers) * double(seq) * double(s.n_heads * s.head_dim());
  return 2.0 * double(matmul_params_per_token(s)) + attn;
}

double weight_bytes(const ModelSpec& s, const std::string& dtype) {
  double per;
  if (dtype == "fp32" || dtype == "float32") per = 4;
  else if (dtype == "bf16" || dtype == "fp16" || dtype == "bfloat16" || dtype == "float16") per = 2;
  else if (dtype == "int8") per = 1;
  else if (dtype == "q4") per = 4.5 / 8;
  else throw ConfigError("unknown dtype '" + dtype + "'; known: fp32, bf16, fp16, int8, q4");
  return per * double(unique_params(s).total());
}

std::string format_count_card(int64_t n) {
  char buf[32];
  if (n >= 1000000000) std::snprintf(buf, sizeof buf, "%.2fB", double(n) / 1e9);
  else std::snprintf(buf, sizeof buf, "%.1fM", double(n) / 1e6);
  return buf;
}

}  // namespace sharelab::arch
