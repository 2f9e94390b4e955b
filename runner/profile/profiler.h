// Inference profiling of one model at full size (MobiLlama Table 11): load, init and forward
// latency, peak memory and per-virtual-layer forward time, with the environment that produced
// them (device, threads, dtype, torch version, compiler, BLAS). Used by `runner profile`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "arch/model_spec.h"
#include "runner/store/results_store.h"

namespace sharelab::profile {

struct ProfileOptions {
  std::string dtype = "fp32";  // "fp32" or "bf16" (weights cast to bf16, as an inference deployment)
  int64_t batch = 1;
  int64_t seq = 128;
  int64_t warmup = 2;                        // untimed forwards before the timed ones
  int64_t repeats = 5;                       // timed forwards (and again for the per-layer pass)
  int threads = 0;                           // 0 = all cores
  std::string device = "cpu";                // "cpu", "cuda", "cuda:N"
  std::string work_dir = "results/profile";  // the checkpoint for the load timing is written here
  bool keep_checkpoint = false;
  uint64_t seed = 0;
  int64_t decode = 0;        // > 0: also time batch-1 decoding of this many tokens after a prompt
  int64_t prompt_len = 128;  // the prompt's tokens for the decode timing (time to first token)
  bool decode_only = false;  // init, then the decode timing alone: no load, forwards or per-layer pass
};

// What is timed (wall clock, std::chrono::steady_clock, CUDA synchronised around each region):
//   init     construct CausalLM(spec) incl. its N(0, sigma) initialisation, cast to dtype, move to
//            device;
//   load     arch::load_weights(model, file): read the native HDF5 checkpoint (just written, so the
//            page cache is warm) and copy every unique tensor into the constructed model;
//   forward  one no-grad forward of batch x seq random tokens (logits included); median, min and
//            max of `repeats` after `warmup`;
//   per layer  the same forward with a slot hook timing each executed layer; median per slot;
//   peak mem   CUDA: the caching allocator's peak allocated bytes during the forwards (its peak
//            reserved bytes go to the row's versions_json); CPU: process RSS high-water mark (VmHWM,
//            reset through /proc/self/clear_refs before the forwards): weights + activations + runtime.
// With decode > 0, batch-1 generation through the KV cache (CausalLM::forward_cached), greedy:
//   ttft     a prompt of prompt_len random tokens in one prefill + the first token's argmax;
//            median of `repeats` after `warmup`;
//   decode   then `decode` tokens one forward each; tokens/s of each repeat, median, min and max;
//   decode per layer  a separate pass with the slot hook: median ms per decoded token of each slot;
//   decode peak  the peak memory (as above) over the decode repeats, KV cache included.
struct ProfileResult {
  std::string preset, spec_hash, device, dtype, peak_mem_kind;
  int threads = 0;
  int64_t batch = 0, seq = 0, warmup = 0, repeats = 0;
  int64_t unique_params = 0, checkpoint_bytes = 0, peak_mem_bytes = 0;
  int64_t peak_reserved_bytes = 0;  // CUDA only: the caching allocator's peak reserved bytes
  double load_ms = 0, init_ms = 0;
  std::vector<double> fwd_ms;  // every timed forward, in order
  double fwd_median_ms = 0, fwd_min_ms = 0, fwd_max_ms = 0;
  std::vector<double> per_layer_ms;  // median per executed layer (slot)
  std::string versions_json;         // {"torch": ..., "compiler": ..., "blas": ..., ...}
  double load_avg_1m = 0;            // machine load when the measurement started (/proc/loadavg)
  int64_t prompt_len = 0, decode_tokens = 0;  // 0: decoding not measured
  std::vector<double> ttft_ms_all, decode_tok_s_all;  // per timed repeat
  double ttft_ms = 0, decode_tok_s = 0, decode_tok_s_min = 0, decode_tok_s_max = 0;
  int64_t decode_peak_mem_bytes = 0;
  std::vector<double> decode_per_layer_ms;  // median ms per decoded token, per executed layer (slot)
};



ProfileResult profile_model(const arch::ModelSpec& spec, const ProfileOptions& o);

// The database row of a result (ResultsStore::put_profile); versions_json also carries warmup,
// repeats, the peak-memory kind, every timed forward and the load average. For `runner profile`
// and the sweep's [profile] section alike.
store::ProfileRow to_profile_row(const ProfileResult& r);

// Environment descriptions recorded with every row.
std::string versions_json();
std::string device_description(const std::string& device, int threads);  // "cpu: AMD EPYC, 2 threads"
std::string spec_hash(const arch::ModelSpec& spec);                      // FNV-1a of spec_to_text, hex

double median(std::vector<double> v);  // of a non-empty vector
std::string json_array(const std::vector<double>& v, int decimals = 3);  // [1.0,2.5]: each rounded

}  // namespace sharelab::profile
