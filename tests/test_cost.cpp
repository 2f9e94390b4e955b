// Cost model against numbers known independently of it: closed forms worked out by hand (written
// as numbers, the derivation beside them) for the `debug` preset (4 layers, d 64, 4 heads / 2 kv,
// FFN 176, vocab 512, untied) and mobillama-0.5b, and the training times the papers publish.
#include <doctest/doctest.h>

#include "arch/cost_model.h"
#include "arch/registry.h"
#include "common/errors.h"

using namespace sharelab::arch;

TEST_CASE("training FLOPs per token: 6 x matmul weights + 12 L T (H D)") {
  const ModelSpec s = resolve_preset("debug");
  // Matmul weights per token: 4 layers x (attention 3 x 64 x 64 + 2 x 64 x 32 = 12,288; FFN
  // 3 x 64 x 176 = 33,792) + head 512 x 64 = 217,088; x 6 = 1,302,528. Attention scores at T = 128:
  // 12 x 4 x 128 x 64 = 393,216. Sum 1,695,744 (integers: exact in a double).
  CHECK(train_flops_per_token(s, 128) == 1695744.0);
  // At T = 2048 only the scores grow: 1,302,528 + 12 x 4 x 2048 x 64 (6,291,456) = 7,593,984.
  CHECK(train_flops_per_token(s, 2048) == 7593984.0);
  // Sharing the FFN changes no compute: every layer still runs an FFN.
  CHECK(train_flops_per_token(resolve_preset("debug", {"scheme=shared-ffn"}), 128) == 1695744.0);
  // mobillama-0.5b (22 layers, d 2048, MHA 32 heads, FFN 5632, vocab 32000, untied), T = 2048:
  // 22 x (4 x 2048^2 + 3 x 2048 x 5632 = 51,380,224) + 32000 x 2048 = 1,195,900,928 weights, x 6 =
  // 7,175,405,568; scores 12 x 22 x 2048 x 2048 = 1,107,296,256; sum 8,282,701,824.
  CHECK(train_flops_per_token(resolve_preset("mobillama-0.5b"), 2048) == 8282701824.0);
}

TEST_CASE("training memory: weights, gradients, AdamW state and activations") {
  const ModelSpec s = resolve_preset("debug");
  // Unique params n: embeddings 2 x 512 x 64 = 65,536 + attention 4 x 12,288 = 49,152 + FFN
  // 4 x 33,792 = 135,168 + norms 9 x 64 = 576; n = 250,432.
  MemoryOptions o;
  o.micro_batch = 2;
  o.seq = 128;
  TrainMemory m = train_memory(s, o);
  CHECK(m.weights == 1001728.0);    // fp32: 4 x n
  CHECK(m.gradients == 1001728.0);  // same dtype as the weights
  CHECK(m.optimizer == 2003456.0);  // exp_avg + exp_avg_sq in fp32: 8 x n
  // One layer at s b = 256: 256 x (16 x 64 + 8 x 176) = 622,592, softmax probabilities
  // 2 x 4 heads x 128^2 x 2 = 262,144; sum 884,736.
  CHECK(activation_bytes_per_layer(s, 2, 128, false) == 884736.0);
  // 4 layers (3,538,944) + logits 6 x 256 x 512 (786,432) = 4,325,376.
  CHECK(m.activations == 4325376.0);
  CHECK(m.total() == 8332288.0);  // 1,001,728 x 2 + 2,003,456 + 4,325,376

  SUBCASE("flash attention drops the T x T term") {
    o.flash_attention = true;
    CHECK(train_memory(s, o).activations == 3276800.0);  // 4 x 622,592 + 786,432
  }
  SUBCASE("pure bf16 halves weights and gradients, not the fp32 AdamW state") {
    o.weight_dtype = "bf16";
    m = train_memory(s, o);
    CHECK(m.weights == 500864.0);  // 2 x n
    CHECK(m.gradients == 500864.0);
    CHECK(m.optimizer == 2003456.0);
  }
  SUBCASE("shared FFN: fewer unique weights, the same activations") {
    const TrainMemory ms = train_memory(resolve_preset("debug", {"scheme=shared-ffn"}), o);
    CHECK(ms.optimizer == 1192448.0);  // 8 x (250,432 - 3 x 33,792 = 149,056): 3 of 4 FFNs are gone
    CHECK(ms.activations == 4325376.0);
  }
  SUBCASE("bad options") {
    o.weight_dtype = "fp8";
    CHECK_THROWS_AS(train_memory(s, o), sharelab::ConfigError);
  }
}

TEST_CASE("projection: time and device-hours for a token budget") {
  const ModelSpec s = resolve_preset("debug");
  const Accelerator& a100 = accelerator_by_name("a100-80gb");
  CHECK(a100.peak_bf16_flops == 312e12);  // NVIDIA's A100 datasheet, dense bf16
  CHECK(accelerator_by_name("h100-sxm").peak_bf16_flops == 989e12);
  // 1e9 tokens x 1,695,744 = 1.695744e15 FLOPs; at 0.5 x 312e12 FLOP/s that is 10.8701538 device-s
  // (0.00301948718 h), 2.71753846 s of wall time on 4 devices.
  const Projection p = project_training(s, 128, 1e9, a100, 0.5, 4);
  CHECK(p.flops == doctest::Approx(1.695744e15));
  CHECK(p.device_hours == doctest::Approx(0.0030194871794872));
  CHECK(p.wall_s == doctest::Approx(2.7175384615384615));

  // MobiLlama Sec. 4: "approximately 14k-15k tokens per second on a single GPU" (A100) for the
  // 0.5B; at 14,500: 14,500 x 8,282,701,824 / 312e12 = 0.3849 MFU.
  const ModelSpec m05 = resolve_preset("mobillama-0.5b");
  const double mfu = mfu_from_throughput(m05, 2048, 14500, a100.peak_bf16_flops);
  CHECK(mfu == doctest::Approx(0.38493325784615));
  // Projecting at that utilisation gives back the throughput: 120e9 / 14,500 / 3600 = 2298.85 h.
  CHECK(project_training(m05, 2048, 120e9, a100, mfu).device_hours == doctest::Approx(2298.8505747126));

  CHECK_THROWS_AS(accelerator_by_name("v100"), sharelab::ConfigError);
  CHECK_THROWS_AS(project_training(s, 128, 1e9, a100, 0.0), sharelab::ConfigError);
  CHECK_THROWS_AS(project_training(s, 128, 1e9, a100, 1.5), sharelab::ConfigError);
}

TEST_CASE("MobileLLM's published training times are possible under our FLOP count") {
  // Model card, "Training cost": days to train on 1T tokens with 32 A100 80G GPUs. The utilisation
  // each implies (FLOPs / (days x 32 x 312e12)) must be physical (<= 1), and not implausibly low
  // for an A100 run (>= 0.3): today they span 0.45-0.75, so a FLOP count off by 1.6x either way fails.
  const struct {
    const char* preset;
    double days;
  } card[] = {{"mobilellm-125m", 3}, {"mobilellm-350m", 6}, {"mobilellm-600m", 8}, {"mobilellm-1b", 12},
              {"mobilellm-1.5b", 18}};
  for (const auto& c : card) {
    CAPTURE(c.preset);
    const double tokens_per_s_per_gpu = 1e12 / (c.days * 86400 * 32);
    const double mfu = mfu_from_throughput(resolve_preset(c.preset), 2048, tokens_per_s_per_gpu, 312e12);
    CAPTURE(mfu);
    CHECK(mfu >= 0.3);
    CHECK(mfu <= 1.0);
  }
}

TEST_CASE("ring all-reduce: 2 (n-1)/n x bytes / bus bandwidth, nothing on one device") {
  // 1 GB at 100 GB/s: n = 2 sends 1 x 1 GB (10 ms), n = 4 sends 1.5 GB (15 ms), n = 160 sends
  // 2 x 159/160 = 1.9875 GB (19.875 ms); the factor tends to 2.
  CHECK(ring_allreduce_seconds(1e9, 1, 100e9) == 0.0);
  CHECK(ring_allreduce_seconds(1e9, 2, 100e9) == doctest::Approx(0.010));
  CHECK(ring_allreduce_seconds(1e9, 4, 100e9) == doctest::Approx(0.015));
  CHECK(ring_allreduce_seconds(1e9, 160, 100e9) == doctest::Approx(0.019875));

  const ModelSpec s = resolve_preset("debug");
  const Accelerator& a100 = accelerator_by_name("a100-80gb");
  CHECK(a100.hbm_bytes_per_s == 2039e9);    // A100 SXM4 80GB datasheet
  CHECK(a100.nvlink_bytes_per_s == 300e9);  // 600 GB/s bidirectional
  DataParallelOptions o;
  o.seq = 128;
  o.global_batch = 4;
  o.n_devices = 1;
  const StepTime one = project_data_parallel(s, 1e9, a100, o);
  CHECK(one.allreduce_s == 0.0);
  CHECK(one.allreduce_exposed_s == 0.0);
  CHECK(one.bus_bytes_per_s == 0.0);
  // Within one node the ring runs over NVLink: 4 fp32 gradients of 250,432 params = 1,001,728 bytes,
  // 2 x 3/4 x 1,001,728 / 300e9 = 5.00864e-6 s.
  o.n_devices = 4;
  const StepTime node = project_data_parallel(s, 1e9, a100, o);
  CHECK(node.bus_bytes_per_s == 300e9);
  CHECK(node.grad_bytes == 1001728.0);
  CHECK(node.allreduce_s == doctest::Approx(5.00864e-6));
  // bf16 gradients halve it.
  o.grad_dtype = "bf16";
  CHECK(project_data_parallel(s, 1e9, a100, o).allreduce_s == doctest::Approx(2.50432e-6));
}

TEST_CASE("data parallel: micro batch that fits, accumulation, overlap and optimizer by hand") {
  const ModelSpec s = resolve_preset("debug");
  // debug at seq 128, no flash: state 16 x 250,432 = 4,006,912 bytes; one row of activations:
  // 4 layers x (128 x (16 x 64 + 8 x 176) = 311,296 + probabilities 2 x 4 x 128^2 = 131,072) +
  // logits 6 x 128 x 512 = 393,216 -> 2,162,688 bytes. A device of state + 3.5 rows holds 3 rows.
  const Accelerator tiny{"tiny", "tiny", 1e12, 4006912.0 + 3.5 * 2162688.0, 1e11, 1e10};
  DataParallelOptions o;
  o.seq = 128;
  o.global_batch = 8;
  o.n_devices = 1;
  o.mfu = 0.5;
  o.flash_attention = false;
  const StepTime t = project_data_parallel(s, 1e9, tiny, o);
  CHECK(t.state_bytes == 4006912.0);
  CHECK(t.activation_bytes_per_row == 2162688.0);
  CHECK(t.max_micro_batch == 3);
  CHECK(t.accumulation_steps == 3);  // 8 rows in micro batches of at most 3
  CHECK(t.micro_batch == 3);
  // Compute: 8 x 128 tokens x 1,695,744 FLOP / (1e12 x 0.5) = 3.472883712e-3 s; the last of 3
  // micro-steps' backward: 2/3 x 3.472883712e-3 / 3 = 7.71751936e-4 s.
  CHECK(t.compute_s == doctest::Approx(3.472883712e-3));
  CHECK(t.backward_overlap_s == doctest::Approx(7.71751936e-4));
  // Optimizer: 250,432 x 40 bytes (fp32 gradient read 3x + written 1x, weight read + written,
  // two fp32 moments read + written) / 1e11 B/s = 1.001728e-4 s.
  CHECK(t.optimizer_s == doctest::Approx(1.001728e-4));
  CHECK(t.step_s == doctest::Approx(3.472883712e-3 + 1.001728e-4));
  // 1e9 tokens / 1,024 per step x step time.
  CHECK(t.steps == doctest::Approx(976562.5));
  CHECK(t.device_hours == doctest::Approx(976562.5 * 3.5730565120e-3 / 3600));

  SUBCASE("all fits at once with more memory") {
    const Accelerator big{"big", "big", 1e12, 1e12, 1e11, 1e10};
    const StepTime b = project_data_parallel(s, 1e9, big, o);
    CHECK(b.accumulation_steps == 1);
    CHECK(b.micro_batch == 8);
    CHECK(b.backward_overlap_s == doctest::Approx(2.0 / 3.0 * 3.472883712e-3));
  }
  SUBCASE("overlap: a long all-reduce shows past the backward, a short one only its last bucket") {
    // Buckets of 100 KB: the last is the input embedding's gradient, 512 x 64 x 4 = 131,072 bytes (a
    // tensor is never split). 2 devices over a slow 1e6 B/s link: 2 x 1/2 x 1,001,728 / 1e6 =
    // 1.001728 s of all-reduce, of which the last micro-step's backward hides 7.71751936e-4 s.
    o.bucket_bytes = 1e5;
    o.global_batch = 16;
    o.n_devices = 2;
    const Accelerator slow{"slow", "slow", 1e12, 4006912.0 + 3.5 * 2162688.0, 1e11, 1e6};
    const StepTime x = project_data_parallel(s, 1e9, slow, o);
    CHECK(x.allreduce_s == doctest::Approx(1.001728));
    CHECK(x.last_bucket_s == doctest::Approx(0.131072));
    CHECK(x.allreduce_exposed_s == doctest::Approx(1.001728 - 7.71751936e-4));
    // At 1e12 B/s the 1.0e-6 s all-reduce fits in the backward; only the last bucket shows.
    const Accelerator fast{"fast", "fast", 1e12, 4006912.0 + 3.5 * 2162688.0, 1e11, 1e12};
    const StepTime f = project_data_parallel(s, 1e9, fast, o);
    CHECK(f.allreduce_exposed_s == doctest::Approx(1.31072e-7));
    // With DDP's 25 MB buckets the whole 1 MB gradient is one bucket, which is never hidden.
    o.bucket_bytes = 25e6;
    CHECK(project_data_parallel(s, 1e9, fast, o).allreduce_exposed_s == doctest::Approx(1.001728e-6));
  }
  SUBCASE("errors") {
    o.global_batch = 7;
    o.n_devices = 2;
    CHECK_THROWS_AS(project_data_parallel(s, 1e9, tiny, o), sharelab::ConfigError);  // not a multiple
    o.global_batch = 32;
    o.n_devices = 16;  // two nodes of 8, no inter-node bandwidth
    CHECK_THROWS_AS(project_data_parallel(s, 1e9, tiny, o), sharelab::ConfigError);
    o.n_devices = 1;
    o.grad_dtype = "fp16";
    CHECK_THROWS_AS(project_data_parallel(s, 1e9, tiny, o), sharelab::ConfigError);
    o.grad_dtype = "fp32";
    const Accelerator full{"full", "full", 1e12, 4006912.0 + 0.5 * 2162688.0, 1e11, 1e10};
    CHECK_THROWS_AS(project_data_parallel(s, 1e9, full, o), sharelab::ConfigError);  // not one row
  }
}

TEST_CASE("the unique-parameter terms grow with unique parameters, compute does not") {
  const Accelerator& a100 = accelerator_by_name("a100-80gb");
  DataParallelOptions o;
  o.global_batch = 64;
  o.n_devices = 16;
  o.internode_bytes_per_s = 100e9;
  double last_ar = 0, last_opt = 0;
  int64_t last_micro = 1 << 30;
  // Increasing unique params: debug (0.25M), mobillama-0.5b (0.53B), large-base (1.26B).
  for (const char* p : {"debug", "mobillama-0.5b", "large-base"}) {
    CAPTURE(p);
    const StepTime t = project_data_parallel(resolve_preset(p), 1e9, a100, o);
    CHECK(t.allreduce_s > last_ar);
    CHECK(t.optimizer_s > last_opt);
    CHECK(t.max_micro_batch <= last_micro);
    last_ar = t.allreduce_s;
    last_opt = t.optimizer_s;
    last_micro = t.max_micro_batch;
  }
}

TEST_CASE("MobiLlama Table 10 on the paper's cluster: the unique-parameter terms do not explain 4.92K vs 2.20K") {
  // The paper's setup: 20 nodes x 8 A100-80GB, "800 Gbps interconnect" (4 x 200 Gb/s HDR) per node
  // = 100 GB/s, global batch 800 = 160 x 5 sequences of 2048 tokens, flash attention, 120B tokens.
  const Accelerator& a100 = accelerator_by_name("a100-80gb");
  DataParallelOptions o;
  o.global_batch = 800;
  o.n_devices = 160;
  o.devices_per_node = 8;
  o.internode_bytes_per_s = 800e9 / 8;
  o.mfu = 0.40;
  const StepTime lb = project_data_parallel(resolve_preset("large-base"), 120e9, a100, o);
  const StepTime mb = project_data_parallel(resolve_preset("mobillama-0.5b"), 120e9, a100, o);
  // Unique params: 2 x 32000 x 2048 embeddings + 22 x 4 x 2048^2 attention + 45 x 2048 norms +
  // FFNs 3 x 2048 x 5632 = 34,603,008 each: 22 of them (1,261,529,088) or one (534,865,920).
  CHECK(lb.grad_bytes == 4.0 * 1261529088.0);
  CHECK(mb.grad_bytes == 4.0 * 534865920.0);
  CHECK(lb.bus_bytes_per_s == 100e9);  // min(NVLink 300 GB/s, 100 GB/s per node)
  // 2 x 159/160 x 5,046,116,352 / 100e9 = 100.29 ms; 2 x 159/160 x 2,139,463,680 / 100e9 = 42.52 ms:
  // the ratio is exactly that of the unique params.
  CHECK(lb.allreduce_s == doctest::Approx(0.100291562496));
  CHECK(mb.allreduce_s == doctest::Approx(0.04252184064));
  CHECK(lb.allreduce_s / mb.allreduce_s == doctest::Approx(1261529088.0 / 534865920.0));
  // Compute is the same: 5 x 2048 x 8,282,701,824 / (312e12 x 0.4) = 679.6 ms, backward 453.1 ms,
  // so both all-reduces hide except the last bucket, the 32000 x 2048 x 4 = 262,144,000-byte
  // embedding gradient: 2 x 159/160 x 262,144,000 / 100e9 = 5.21 ms for both.
  CHECK(lb.compute_s == mb.compute_s);
  CHECK(lb.compute_s == doctest::Approx(0.6796063035076924));
  CHECK(lb.backward_overlap_s == doctest::Approx(0.4530708690051282));
  CHECK(lb.allreduce_exposed_s == doctest::Approx(0.005210112));
  CHECK(mb.allreduce_exposed_s == doctest::Approx(0.005210112));
  // Optimizer: 40 bytes per unique param at 2,039 GB/s: 24.75 ms vs 10.49 ms.
  CHECK(lb.optimizer_s == doctest::Approx(0.024747995841098578));
  CHECK(mb.optimizer_s == doctest::Approx(0.010492710544384502));
  // Memory: a row is 22 x 2048 x (16 x 2048 + 8 x 5632) + 6 x 2048 x 32000 = 3,899,654,144 bytes with
  // flash attention; (80e9 - 16 x 1,261,529,088) / that = 15.3 rows, (80e9 - 16 x 534,865,920) / that
  // = 18.3: the 5 rows per GPU fit at once for both.
  CHECK(lb.activation_bytes_per_row == 3899654144.0);
  CHECK(lb.max_micro_batch == 15);
  CHECK(mb.max_micro_batch == 18);
  CHECK(lb.accumulation_steps == 1);
  CHECK(mb.accumulation_steps == 1);
  // 120e9 / 1,638,400 tokens per step x step x 160 / 3600: 2,309.8 vs 2,263.4 GPU-hours.
  CHECK(lb.device_hours == doctest::Approx(2309.7799848593454));
  CHECK(mb.device_hours == doctest::Approx(2263.3760613674376));
  // That is 1.7% of the paper's 2,720-hour gap; the optimizer is the larger differing term.
  const double explained = (lb.device_hours - mb.device_hours) / (4920.0 - 2200.0);
  CHECK(explained == doctest::Approx(0.01706).epsilon(0.01));
  CHECK(lb.optimizer_s - mb.optimizer_s > lb.allreduce_exposed_s - mb.allreduce_exposed_s);

  SUBCASE("pessimistic bound: each GPU's ring over its 1/8 share of the NICs, 12.5 GB/s") {
    o.internode_bytes_per_s = 800e9 / 8 / 8;
    const StepTime lb2 = project_data_parallel(resolve_preset("large-base"), 120e9, a100, o);
    const StepTime mb2 = project_data_parallel(resolve_preset("mobillama-0.5b"), 120e9, a100, o);
    // 802.3 ms vs 340.2 ms of all-reduce; 349.3 ms of large-base's shows: 3,429.7 vs 2,382.1 GPU-hours,
    // 38.5% of the paper's gap.
    CHECK(lb2.allreduce_s == doctest::Approx(0.802332499968));
    CHECK(lb2.allreduce_exposed_s == doctest::Approx(0.3492616309628718));
    CHECK(lb2.device_hours == doctest::Approx(3429.739356483277));
    CHECK(mb2.device_hours == doctest::Approx(2382.0960613674374));
  }
}
