// Cost model against hand-computed values for the `debug` preset (4 layers, d 64, 4 heads / 2 kv,
// FFN 176, vocab 512, untied) and its shared-FFN variant.
#include <doctest/doctest.h>

#include "arch/cost_model.h"
#include "common/errors.h"
#include "arch/registry.h"

using namespace sharelab::arch;

TEST_CASE("training FLOPs per token: 6 x matmul weights + 12 L T (H D)") {
  const ModelSpec s = resolve_preset("debug");
  // attention 3 x 64 x 64 + 2 x 64 x 32 = 12288; FFN 3 x 64 x 176 = 33792; 4 layers; head 512 x 64.
  const double matmul = 4 * (12288 + 33792) + 512 * 64;  // 217088
  CHECK(matmul == 217088);
  CHECK(train_flops_per_token(s, 128) == doctest::Approx(6 * matmul + 12.0 * 4 * 128 * 64));  // 1695744
  CHECK(train_flops_per_token(s, 128) == doctest::Approx(1695744.0));
  // Sharing the FFN changes no compute: every layer still runs an FFN.
  const ModelSpec shared = resolve_preset("debug", {"scheme=shared-ffn"});
  CHECK(train_flops_per_token(shared, 128) == doctest::Approx(1695744.0));
}

TEST_CASE("training memory: weights, gradients, AdamW state and activations") {
  const ModelSpec s = resolve_preset("debug");
  // unique params: embeddings 2 x 512 x 64 + attention 4 x 12288 + FFN 4 x 33792 + norms 9 x 64.
  const double n = 65536 + 49152 + 135168 + 576;  // 250432
  MemoryOptions o;
  o.micro_batch = 2;
  o.seq = 128;
  TrainMemory m = train_memory(s, o);
  CHECK(m.weights == doctest::Approx(4 * n));
  CHECK(m.gradients == doctest::Approx(4 * n));
  CHECK(m.optimizer == doctest::Approx(8 * n));
  // per layer: 256 x (16 x 64 + 8 x 176) = 622592, probabilities 2 x 4 x 128^2 x 2 = 262144;
  // 4 layers + logits 6 x 256 x 512 = 786432.
  CHECK(activation_bytes_per_layer(s, 2, 128, false) == doctest::Approx(884736.0));
  CHECK(m.activations == doctest::Approx(4 * 884736.0 + 786432.0));
  CHECK(m.total() == doctest::Approx(16 * n + 4325376.0));

  SUBCASE("flash attention drops the T x T term") {
    o.flash_attention = true;
    CHECK(train_memory(s, o).activations == doctest::Approx(4 * 622592.0 + 786432.0));
  }
  SUBCASE("pure bf16 halves weights and gradients, not the fp32 AdamW state") {
    o.weight_dtype = "bf16";
    m = train_memory(s, o);
    CHECK(m.weights == doctest::Approx(2 * n));
    CHECK(m.optimizer == doctest::Approx(8 * n));
  }
  SUBCASE("shared FFN: fewer unique weights, the same activations") {
    const ModelSpec shared = resolve_preset("debug", {"scheme=shared-ffn"});
    const TrainMemory ms = train_memory(shared, o);
    CHECK(ms.optimizer == doctest::Approx(8 * (n - 3 * 33792)));
    CHECK(ms.activations == doctest::Approx(m.activations));
  }
  SUBCASE("bad options") {
    o.weight_dtype = "fp8";
    CHECK_THROWS_AS(train_memory(s, o), sharelab::ConfigError);
  }
}

TEST_CASE("projection: time and device-hours for a token budget") {
  const ModelSpec s = resolve_preset("debug");
  const Accelerator& a100 = accelerator_by_name("a100-80gb");
  CHECK(a100.peak_bf16_flops == doctest::Approx(312e12));
  CHECK(accelerator_by_name("h100-sxm").peak_bf16_flops == doctest::Approx(989e12));
  const Projection p = project_training(s, 128, 1e9, a100, 0.5, 4);
  CHECK(p.flops == doctest::Approx(1.695744e15));
  CHECK(p.device_hours == doctest::Approx(1.695744e15 / (312e12 * 0.5) / 3600));
  CHECK(p.wall_s == doctest::Approx(1.695744e15 / (312e12 * 0.5) / 4));

  // Calibrating the utilisation from a throughput and projecting back gives tokens / throughput.
  const ModelSpec m05 = resolve_preset("mobillama-0.5b");
  const double mfu = mfu_from_throughput(m05, 2048, 14500, a100.peak_bf16_flops);
  CHECK(mfu == doctest::Approx(0.385).epsilon(0.01));  // the paper's ~14.5k tokens/s per A100
  CHECK(project_training(m05, 2048, 120e9, a100, mfu).device_hours == doctest::Approx(120e9 / 14500 / 3600));

  CHECK_THROWS_AS(accelerator_by_name("v100"), sharelab::ConfigError);
  CHECK_THROWS_AS(project_training(s, 128, 1e9, a100, 0.0), sharelab::ConfigError);
  CHECK_THROWS_AS(project_training(s, 128, 1e9, a100, 1.5), sharelab::ConfigError);
}
