#!/usr/bin/env python3
"""Runs a GGUF in llama.cpp (through the llama-cpp-python ctypes binding built by
build_llama_cpp.sh) on fixed token windows and compares with our logits.

    llama_cpp_check.py --gguf M.gguf --ids windows.txt --ours w0.npy [w1.npy ...] [--label NAME]

windows.txt: one token window per line, comma-separated ids, fed to llama.cpp as ids (its
tokenizer plays no part). --ours: our logits, one float32 [T, vocab] .npy per window (what
`runner logits ... --tokens LINE --out F` writes), or one [W, T, vocab] file.

Checked, for every window and every position:
  * logits: max |ours - llama.cpp| <= --logit-tol (default 1e-3 absolute, scaled by max(1, the
    largest |logit|)). Why that size: with F32 weights and an F32 KV cache (type_k/type_v = F32,
    flash attention off, so no F16 rounding anywhere in llama.cpp's graph) the two sides differ only
    in fp32 summation order (oneDNN/ATen vs ggml's SIMD dot products), ggml's RoPE angles
    (theta_j = pos * base^(-2j/d) built by repeated multiplication) and its expf/silu: relative
    errors of ~1e-6 per op that grow to ~1e-5..1e-4 through a few layers and a vocab-size
    projection (measured: <= 1e-5 on the debug preset). 1e-3 is ~100x that and still ~1000x below
    what a wrong permutation, a wrong norm epsilon or a missing layer gives (O(0.1..10)). An f16
    GGUF against our f32 logits differs by the weight rounding itself (2^-11 relative per weight,
    ~5e-4 relative on a logit after the dot products average it: measured <= 7e-3 absolute at
    max|logit| ~ 13): run.sh passes --logit-tol 5e-3 for those.
  * the "next-token" logits of the first window's last position (the fixed prompt), reported.
  * perplexity over all windows (each window's positions 0..T-2 predicting 1..T-1, float64
    log-softmax on both arrays alike): |ppl_llama / ppl_ours - 1| <= --ppl-tol (default 1%).
Prints one JSON line with the numbers; exits 1 naming the first failing check.
Env: LLAMA_CPP_PY (folder holding llama_cpp/, default third_party/llama.cpp-build/py).
"""
import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]


def load_llama_cpp():
    py = os.environ.get("LLAMA_CPP_PY", str(ROOT / "third_party" / "llama.cpp-build" / "py"))
    if not (Path(py) / "llama_cpp").is_dir():
        sys.exit(f"llama_cpp_check.py: {py}/llama_cpp not found (run scripts/interop/build_llama_cpp.sh)")
    sys.path.insert(0, py)
    import ctypes
    import llama_cpp  # noqa: E402

    # llama.cpp's errors only: its warnings (n_ctx padded past the model's context) are noise here.
    @llama_cpp.llama_log_callback
    def quiet(level, text, _user):
        if level == 4:  # GGML_LOG_LEVEL_ERROR in this ggml (the binding's comment has the old numbers)
            sys.stderr.write(text.decode("utf-8", "replace"))

    load_llama_cpp.quiet = quiet  # the callback must outlive this frame
    llama_cpp.llama_log_set(quiet, ctypes.c_void_p(0))
    return llama_cpp


def read_windows(path):
    windows = []
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        if line.strip():
            try:
                windows.append([int(x) for x in line.split(",")])
            except ValueError:
                sys.exit(f"llama_cpp_check.py: {path}:{n}: expected comma-separated token ids")
    if not windows:
        sys.exit(f"llama_cpp_check.py: {path}: no token windows")
    return windows


def read_ours(paths, windows):
    arrays = [np.load(p) for p in paths]
    if len(arrays) == 1 and arrays[0].ndim == 3:
        arrays = list(arrays[0])
    if len(arrays) != len(windows):
        sys.exit(f"llama_cpp_check.py: {len(arrays)} logits arrays for {len(windows)} windows")
    for i, (a, w) in enumerate(zip(arrays, windows)):
        if a.ndim != 2 or a.shape[0] != len(w):
            sys.exit(f"llama_cpp_check.py: window {i}: our logits have shape {a.shape}, expected [{len(w)}, vocab]")
    return [np.asarray(a, dtype=np.float32) for a in arrays]


def llama_logits(llama_cpp, gguf, windows, threads):
    n = max(len(w) for w in windows)
    llm = llama_cpp.Llama(model_path=str(gguf), n_ctx=n, n_batch=n, n_ubatch=n, logits_all=True,
                          n_threads=threads, n_threads_batch=threads, type_k=0, type_v=0,  # GGML_TYPE_F32
                          flash_attn=False, n_gpu_layers=0, seed=0, verbose=False)
    out = []
    for w in windows:
        llm.reset()  # n_past = 0: eval() drops the cache from there
        llm.eval(w)
        out.append(np.array(llm.scores[: len(w), :], dtype=np.float32))
    return llm, out


def nll(logits, ids):
    x = logits[:-1].astype(np.float64)
    x = x - x.max(axis=1, keepdims=True)
    logp = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
    return -logp[np.arange(len(ids) - 1), np.asarray(ids[1:])]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--ids", required=True)
    ap.add_argument("--ours", required=True, nargs="+")
    ap.add_argument("--label", default="")
    ap.add_argument("--logit-tol", type=float, default=1e-3)
    ap.add_argument("--ppl-tol", type=float, default=0.01)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    a = ap.parse_args()

    windows = read_windows(a.ids)
    ours = read_ours(a.ours, windows)
    llama_cpp = load_llama_cpp()
    llm, theirs = llama_logits(llama_cpp, a.gguf, windows, a.threads)
    if llm.n_vocab() != ours[0].shape[1]:
        sys.exit(f"llama_cpp_check.py: {a.gguf}: llama.cpp vocab {llm.n_vocab()} != ours {ours[0].shape[1]}")

    max_abs = max(float(np.abs(o - t).max()) for o, t in zip(ours, theirs))
    scale = max(1.0, max(float(np.abs(o).max()) for o in ours))
    next_abs = float(np.abs(ours[0][-1] - theirs[0][-1]).max())
    argmax_same = float(np.mean(np.concatenate([o.argmax(1) == t.argmax(1) for o, t in zip(ours, theirs)])))
    nll_o = np.concatenate([nll(o, w) for o, w in zip(ours, windows)])
    nll_t = np.concatenate([nll(t, w) for t, w in zip(theirs, windows)])
    ppl_o, ppl_t = float(np.exp(nll_o.mean())), float(np.exp(nll_t.mean()))
    rel_ppl = ppl_t / ppl_o - 1
    report = {"label": a.label, "gguf": str(a.gguf), "windows": len(windows), "tokens": int(sum(map(len, windows))),
              "logit_max_abs": max_abs, "logit_scale": scale, "next_token_max_abs": next_abs,
              "argmax_agree": argmax_same, "ppl_ours": ppl_o, "ppl_llama_cpp": ppl_t, "ppl_rel": rel_ppl}
    print(json.dumps(report))
    if not max_abs <= a.logit_tol * scale:
        sys.exit(f"llama_cpp_check.py: {a.label or a.gguf}: logits differ by {max_abs:.3g} > {a.logit_tol:g} x {scale:.3g}")
    if not abs(rel_ppl) <= a.ppl_tol:
        sys.exit(f"llama_cpp_check.py: {a.label or a.gguf}: perplexity {ppl_t:.4f} (llama.cpp) vs {ppl_o:.4f} (ours): "
                 f"{100 * rel_ppl:+.3f}% > {100 * a.ppl_tol:g}%")


if __name__ == "__main__":
    main()
