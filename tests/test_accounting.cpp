// Parameter counts against the published tables, FLOPs and bytes against hand computation.
#include <doctest/doctest.h>

#include "arch/accounting.h"
#include "arch/registry.h"

using namespace sharelab::arch;

static ModelSpec preset(const char* name) { return resolve_preset(name); }

TEST_CASE("MobileLLM card counts (124.6M, 345.3M, 603.1M, 1.01B, 1.51B)") {
  // The card's numbers are our exact totals without the RMSNorm weights, rounded: plain rounding of
  // the full total would print 345.4M and 603.2M, so the card counts Linear/Embedding weights only.
  struct Row { const char* name; int64_t exact; const char* card; };
  for (const Row& r : {Row{"mobilellm-125m", 124635456, "124.6M"}, Row{"mobilellm-350m", 345355200, "345.3M"},
                       Row{"mobilellm-600m", 603188352, "603.1M"}, Row{"mobilellm-1b", 1005461760, "1.01B"},
                       Row{"mobilellm-1.5b", 1511188800, "1.51B"}}) {
    CAPTURE(r.name);
    const ParamCounts c = unique_params(preset(r.name));
    CHECK(c.total() == r.exact);
    CHECK(format_count_card(c.total() - c.norm) == r.card);
  }
}

TEST_CASE("MobileLLM-LS: 60 executed layers, same unique parameters as mobilellm-125m") {
  const ModelSpec ls = preset("mobilellm-ls-125m"), base = preset("mobilellm-125m");
  CHECK(ls.n_layers == 60);
  CHECK(ls.layout().n_attn == 30);
  CHECK(unique_params(ls).total() == unique_params(base).total());
  CHECK(effective_params(ls).attention == 2 * effective_params(base).attention);  // compute doubles
  CHECK(effective_params(ls).ffn == 2 * effective_params(base).ffn);
  CHECK(unique_params(preset("mobilellm-ls-350m")).total() == unique_params(preset("mobilellm-350m")).total());
}

TEST_CASE("MobiLlama Table 1 presets: exact counts pinned beside the paper's") {
  // Paper Table 1: baseline1 0.54B, baseline2 0.52B, baseline3 0.22B, large-base 1.2B, MobiLlama 0.52B.
  // baseline1 (22 x 1024, FFN 5632) matches. The others use Table 4's geometry with MHA: the paper
  // does not state kv heads, and with the released config's 4 kv heads the 0.5B model would be
  // 0.37B. baseline2 (8 x 2048) comes to 0.54B, not 0.52B; baseline3 (one shared block) to 0.18B,
  // not 0.22B; large-base to 1.26B (the paper's "1.2B" truncates); MobiLlama to 0.535B, not 0.52B.
  // No single geometry consistent with Tables 1 and 4 reproduces all five, so we pin ours.
  CHECK(unique_params(preset("baseline1")).total() == 538489856);
  CHECK(unique_params(preset("baseline2")).total() == 542148608);
  CHECK(unique_params(preset("baseline3")).total() == 182458368);
  CHECK(unique_params(preset("large-base")).total() == 1261529088);
  CHECK(unique_params(preset("mobillama-0.5b")).total() == 534865920);
  CHECK(unique_params(preset("mobillama-0.5b-kv4")).total() == 373385216);
  CHECK(unique_params(preset("mobillama-0.8b")).total() == 819315200);     // released width, MHA: "0.8B"
  CHECK(unique_params(preset("mobillama-0.8b-kv4")).total() == 567001600);  // released config as committed
  // Sharing the FFN removes 21 of 22 FFNs from large-base: the paper's "60% fewer parameters".
  const double cut = 1.0 - double(unique_params(preset("mobillama-0.5b")).total()) /
                               double(unique_params(preset("large-base")).total());
  CHECK(cut == doctest::Approx(0.576).epsilon(0.005));
  // ... but not the compute: effective parameters are those of large-base.
  CHECK(effective_params(preset("mobillama-0.5b")).total() == unique_params(preset("large-base")).total());
}

TEST_CASE("categories add up and match hand computation for debug") {
  // debug: 4 layers, d 64, 4 heads (hd 16), 2 kv heads, ffn 176, vocab 512, untied.
  const ModelSpec s = preset("debug");
  const ParamCounts c = unique_params(s);
  CHECK(attention_params(s) == 64 * 64 + 2 * 64 * 32 + 64 * 64);
  CHECK(ffn_params(s) == 3 * 64 * 176);
  CHECK(c.embedding == 2 * 512 * 64);
  CHECK(c.attention == 4 * 12288);
  CHECK(c.ffn == 4 * 33792);
  CHECK(c.norm == 9 * 64);
  CHECK(c.total() == 65536 + 49152 + 135168 + 576);
}

TEST_CASE("forward FLOPs per token and weight bytes") {
  const ModelSpec s = preset("debug");
  // 2 x (4 x (12288 + 33792) + 512 x 64) + 4 x 4 layers x 128 seq x 64 width
  CHECK(forward_flops_per_token(s, 128) == doctest::Approx(2.0 * (4 * 46080 + 32768) + 4.0 * 4 * 128 * 64));
  const ModelSpec shared = resolve_preset("debug", {"scheme=shared-ffn"});
  CHECK(forward_flops_per_token(shared, 128) == forward_flops_per_token(s, 128));  // sharing saves no compute
  CHECK(weight_bytes(s, "fp32") == 4.0 * double(unique_params(s).total()));
  CHECK(weight_bytes(s, "bf16") == 2.0 * double(unique_params(s).total()));
  CHECK_THROWS(weight_bytes(s, "fp8"));
  const ModelSpec tied = resolve_preset("debug", {"tie_embeddings=true"});
  CHECK(unique_params(tied).embedding == 512 * 64);
  CHECK(forward_flops_per_token(tied, 128) == forward_flops_per_token(s, 128));  // tied head still runs
}
