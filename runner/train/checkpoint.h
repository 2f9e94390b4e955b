// Training checkpoints: one HDF5 file per checkpoint in the run directory, holding the model's
// unique tensors under their native names (root datasets, readable with h5py), the AdamW state
// under "optim.<exp_avg|exp_avg_sq|step>.<param>", the torch RNG state, the data cursor, step,
// tokens and the resolved config (attribute "config_json"). A small `latest` file names the newest
// checkpoint; it is written atomically after the checkpoint itself, so a kill at any moment leaves
// a pointer to a complete file. The newest two checkpoints are kept.
// Every dataset carries the CRC-32C of its bytes (attribute "crc32c", arch/h5_tensors.h), checked
// whenever the checkpoint is read (resume, eval, export): a flipped byte is refused with a
// ConfigError naming the file and the dataset. Checkpoints written before checksums (no such
// attribute) still load, after a one-line note.
// The file is built in memory and written with checked system calls (common/atomic_file.h): a full
// disk names the file and the OS error and leaves the previous checkpoint and `latest` as they were.
#pragma once

#include <optional>
#include <string>

#include "arch/model.h"
#include "runner/train/adamw.h"

namespace sharelab::train {

constexpr const char* kCheckpointFormat = "sharelab-train-checkpoint-v1";
constexpr const char* kLatestName = "latest";

// Loop state beside the tensors.
struct LoopState {
  int64_t step = 0;          // optimizer steps taken
  double tokens = 0;         // tokens trained on
  uint64_t data_cursor = 0;  // rows read from the train split
  double epochs = 0;         // passes over the train split at data_cursor
  double train_s = 0;        // time spent in training steps so far (all processes of the run)
  double wall_s = 0;         // wall time so far (all processes of the run)
  double cpu_s = 0;          // user + system CPU time so far (all processes of the run)
  double last_loss = 0;      // mean loss of the last step
  double last_val_loss = 0;  // last validation (0 = none yet)
  int64_t nonfinite_skipped = 0;  // steps whose non-finite loss or gradient skipped the update
};

// Writes `<run_dir>/ckpt-<step>.h5`, then `latest`, then removes checkpoints older than the
// previous one. Returns the path written. Refuses (std::runtime_error) a model or optimizer state
// holding NaN or inf, and a failed write (disk full: the file and the OS error); either way the
// previous checkpoint and `latest` stay as they were.
std::string save_checkpoint(const std::string& run_dir, arch::CausalLM& model, const AdamW& opt,
                            const LoopState& state, const std::string& config_json);

// The checkpoint `latest` points to, if any (ConfigError when it points to a missing file).
std::optional<std::string> latest_checkpoint(const std::string& run_dir);

// What load_checkpoint checks first, from the file's attributes alone (no tensor is read): an HDF5
// file, a training checkpoint, of the run whose config is `config_json` (else ConfigError naming
// the file). A resume calls it before the run's row is touched.
void check_checkpoint(const std::string& path, const std::string& config_json);

// Restores model, optimizer, torch CPU RNG and loop state. The checkpoint's config must equal
// `config_json` (else ConfigError naming the file: a different run's directory); every dataset's
// bytes must match its checksum (else ConfigError naming the file and the dataset).
LoopState load_checkpoint(const std::string& path, arch::CausalLM& model, AdamW& opt, const std::string& config_json);

}  // namespace sharelab::train
