#!/usr/bin/env bash
# Logits of our model equal ../shared/bench/ref_llama.py (plain PyTorch, HF semantics) on the same
# weights and tokens to 1e-4. Weights go through the HF-named HDF5 export, read by h5py.
# Exits 77 (ctest: skipped) with a message when Debian's python3-torch / python3-h5py are absent.
set -euo pipefail
RUNNER="$1"
HERE="$(cd "$(dirname "$0")" && pwd)"
REF="$HERE/../../../shared/bench/ref_llama.py"
PY=/usr/bin/python3
if [ ! -f "$REF" ]; then echo "SKIP: $REF not found (shared/ is not beside the checkout)"; exit 77; fi
if ! "$PY" -c "import torch, h5py, numpy" 2>/dev/null; then
  echo "SKIP: $PY lacks torch/h5py/numpy (apt-get install python3-torch python3-h5py)"; exit 77
fi
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
TOKENS=1,15,300,7,7,42,511,3,99,128,5,260
check() {  # check NAME REF_CONFIG_JSON RUNNER_SETS...
  local name="$1" cfg="$2"; shift 2
  local sets=(); for s in "$@"; do sets+=(--set "$s"); done
  "$RUNNER" export debug "${sets[@]}" --seed 7 --out "$T/$name.h5" --hf-h5 "$T/$name.hf.h5" >/dev/null
  "$RUNNER" logits debug "${sets[@]}" --weights "$T/$name.h5" --tokens "$TOKENS" --out "$T/$name.ours.npy"
  "$PY" "$REF" --config "$cfg" --weights "$T/$name.hf.h5" --tokens "$TOKENS" --out "$T/$name.ref.npy" >/dev/null
  "$PY" - "$T/$name.ours.npy" "$T/$name.ref.npy" "$name" <<'PYEOF'
import sys, numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
assert a.shape == b.shape, (a.shape, b.shape)
d = float(np.abs(a - b).max())
print(f"{sys.argv[3]}: max |ours - ref| = {d:.3g} over {a.shape}")
sys.exit(0 if d <= 1e-4 else 1)
PYEOF
}
# debug: 4 layers, d 64, 4 heads, 2 kv heads (GQA), ffn 176, vocab 512.
BASE='"vocab":512,"d":64,"h":4,"kv":2,"ffn":176,"layers":4,"eps":1e-5'
check dense        "{$BASE}"
check shared_ffn   "{$BASE,\"share\":\"ffn\"}" scheme=shared-ffn
check tied_mha     "{\"vocab\":512,\"d\":64,\"h\":4,\"kv\":4,\"ffn\":176,\"layers\":4,\"eps\":1e-5,\"tie\":true}" tie_embeddings=true n_kv_heads=4
# A repeated-block model is exported materialised, so the dense reference must reproduce it.
check immediate_x2 "{$BASE}" scheme=immediate repeats=2
echo "4 passed, 0 failed"
