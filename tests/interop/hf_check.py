#!/usr/bin/env python3
"""transformers checks the HF directories `runner export --hf` writes, and `runner` reads ones
transformers wrote. Run by tests/cli/hf_interop.sh (the fast suite) with the pinned transformers of
scripts/interop-requirements.txt and the PyPI torch of scripts/torch2-requirements.txt.

  1. every sharing scheme, GQA + tied embeddings, a sharded and a bf16 export: stock
     AutoModelForCausalLM loads the directory with no missing, unexpected or resized tensor and
     its fp32 logits equal `runner logits` on the same directory to 1e-4;
  2. LlamaForCausalLM made and saved by transformers (random weights, its own safetensors
     writer; GQA untied, MHA tied): `runner logits` gives transformers' logits to 1e-4, and
     `runner train --init-from` starts from exactly those weights;
  3. AutoTokenizer on the exported directory gives the ids of `runner data tokenizer --encode`
     on texts with unicode and whitespace edge cases, for a tokenizer `runner` trained and for
     LLaMA's tokenizer.model when ../shared has it.

Usage: hf_check.py --runner BUILD/runner --work DIR --text CORPUS.txt --data PREPARED_DIR
                   [--llama-tokenizer tokenizer.model]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM

TOL = 1e-4
TOKENS = [1, 15, 300, 7, 7, 42, 511, 3, 99, 128, 5, 260, 999, 0, 2, 64, 64, 64, 17, 800]
# debug preset (4 layers, d 64, 4 heads, 2 kv heads, ffn 176), vocab 1000 for the trained tokenizer;
# a larger init_std makes logits of order 1, so a wrong layout cannot hide under the tolerance.
BASE = ["vocab_size=1000", "init_std=0.3", "max_seq_len=128"]
SCHEMES = {
    "none": [],
    "shared-ffn": ["scheme=shared-ffn"],
    "shared-block": ["scheme=shared-block"],
    "immediate": ["scheme=immediate", "repeats=2"],
    "repeat-all-over": ["scheme=repeat-all-over", "repeats=2"],
    "reverse": ["scheme=reverse", "repeats=2"],
    "cycle": ["scheme=cycle", "unique_blocks=2"],
    "gqa-tied": ["n_kv_heads=1", "tie_embeddings=true"],
}
TEXTS = [
    "Hello world", "", " ", "  leading spaces", "trailing spaces  ", "a  b   c    d", "tabs\tand\nnewlines\n\n",
    "\n", "naïve café résumé", "日本語のテキスト", "emoji 🙂👍🏽 and ZWJ 👨‍👩‍👧", "e\u0301 combining accent",
    "\u00a0no-break\u3000ideographic space", "ℌ𝔢𝔩𝔩𝔬 ﬁ ligature", "12345 6789 3.14159", "<s> looks special </s>",
    "ROMEO: But, soft! what light through yonder window breaks?", "x" * 300, "Ünïcödé\r\nCRLF",
]

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def run(args, **kw):
    r = subprocess.run(args, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"hf_check: {' '.join(args)} exited {r.returncode}:\n{r.stderr}")
    return r.stdout


def runner_logits(runner, model, out):
    run([runner, "logits", model, "--tokens", ",".join(map(str, TOKENS)), "--out", out])
    return np.load(out)


def hf_logits(model_dir):
    model, info = AutoModelForCausalLM.from_pretrained(model_dir, output_loading_info=True, dtype=torch.float32)
    bad = {k: v for k, v in info.items() if v}
    model.eval()
    with torch.no_grad():
        logits = model(torch.tensor([TOKENS])).logits[0].numpy()
    return logits, bad, model.config


def compare(name, ours, theirs):
    d = float(np.abs(ours - theirs).max()) if ours.shape == theirs.shape else float("inf")
    check(d <= TOL, f"{name}: max |runner - transformers| = {d:.3g} over {ours.shape} (tolerance {TOL})")


def exports(a):
    for name, sets in SCHEMES.items():
        d = os.path.join(a.work, "hf-" + name)
        args = [a.runner, "export", "debug", "--seed", "7", "--hf", d, "--tokenizer", a.tokenizer]
        for s in BASE + sets:
            args += ["--set", s]
        run(args)
        theirs, bad, cfg = hf_logits(d)
        check(not bad, f"{name}: transformers loads every tensor ({bad or 'no missing/unexpected/mismatched keys'})")
        check(cfg.num_hidden_layers == 4, f"{name}: num_hidden_layers {cfg.num_hidden_layers} (the executed depth)")
        compare(name, runner_logits(a.runner, d, d + ".npy"), theirs)
    # Sharded (index + shards) and bf16 exports of a shared-FFN model.
    for label, extra in (("sharded", ["--max-shard-mb", "0.1"]), ("bf16", ["--dtype", "bf16"])):
        d = os.path.join(a.work, "hf-" + label)
        args = [a.runner, "export", "debug", "--seed", "3", "--hf", d, "--tokenizer", a.tokenizer] + extra
        for s in BASE + SCHEMES["shared-ffn"]:
            args += ["--set", s]
        run(args)
        theirs, bad, _ = hf_logits(d)
        check(not bad, f"{label}: transformers loads every tensor")
        if label == "sharded":
            check(os.path.exists(os.path.join(d, "model.safetensors.index.json")), "sharded: an index and shards")
        compare(label, runner_logits(a.runner, d, d + ".npy"), theirs)


def mobilellm_ls(a):
    """MobileLLM-LS-125M repeats each of its 30 blocks twice: the export has 60 layers."""
    from safetensors import safe_open
    d = os.path.join(a.work, "hf-mobilellm-ls-125m")
    run([a.runner, "export", "mobilellm-ls-125m", "--hf", d, "--dtype", "bf16"])
    cfg = json.load(open(os.path.join(d, "config.json")))
    with safe_open(os.path.join(d, "model.safetensors"), "pt") as f:
        layers = {k.split(".")[2] for k in f.keys() if k.startswith("model.layers.")}
        n = sum(int(np.prod(f.get_slice(k).get_shape())) for k in f.keys())
    check(cfg["num_hidden_layers"] == 60 and len(layers) == 60 and cfg["sharelab"]["scheme"] == "immediate",
          f"mobilellm-ls-125m: {cfg['num_hidden_layers']} layers in config.json, {len(layers)} in the tensors")
    check(n == cfg["sharelab"]["params_materialized"] and cfg["sharelab"]["params_unique"] < n,
          f"mobilellm-ls-125m: {n} parameters written = params_materialized; params_unique "
          f"{cfg['sharelab']['params_unique']}")
    shutil.rmtree(d)


def transformers_written(a):
    cases = {
        "tf-gqa": dict(num_key_value_heads=2, tie_word_embeddings=False),
        "tf-tied": dict(num_key_value_heads=4, tie_word_embeddings=True),
    }
    for name, kw in cases.items():
        torch.manual_seed(0)
        cfg = LlamaConfig(hidden_size=64, intermediate_size=176, num_hidden_layers=4, num_attention_heads=4,
                          vocab_size=1000, max_position_embeddings=128, rms_norm_eps=1e-6, rope_theta=50000.0,
                          initializer_range=0.3, **kw)
        model = LlamaForCausalLM(cfg).eval()
        d = os.path.join(a.work, name)
        model.save_pretrained(d)
        with torch.no_grad():
            theirs = model(torch.tensor([TOKENS])).logits[0].numpy()
        compare(name + " (saved by transformers)", runner_logits(a.runner, d, d + ".npy"), theirs)
        if name != "tf-gqa":
            continue
        # train --init-from: a learning rate too small to move an fp32 weight, so the run's
        # checkpoint must hold transformers' weights.
        runs = os.path.join(a.work, "runs")
        sets = ["model.vocab_size=1000", "model.max_seq_len=128", "model.norm_eps=1e-6", "model.rope_theta=50000",
                "train.seq_len=64", "train.micro_batch=2", "train.global_batch_tokens=128", "train.tokens=128",
                "train.lr=1e-30", "train.min_lr=0", "train.weight_decay=0", "train.warmup_steps=0",
                "train.val_batches=0", "train.precision=fp32", "train.threads=1"]
        args = [a.runner, "train", "debug", "--data", a.data, "--init-from", d, "--runs-dir", runs, "--no-db",
                "--no-progress"]
        for s in sets:
            args += ["--set", s]
        out = run(args)
        run_dir = [l.split()[1] for l in out.splitlines() if l.startswith("run_dir ")][0]
        compare("train --init-from " + name, runner_logits(a.runner, run_dir, run_dir + ".npy"), theirs)


def tokenizers(a):
    pairs = [("trained", a.tokenizer, os.path.join(a.work, "hf-none"))]
    if a.llama_tokenizer:
        d = os.path.join(a.work, "hf-llama-tokenizer")
        run([a.runner, "export", "debug", "--set", "vocab_size=32000", "--hf", d, "--tokenizer", a.llama_tokenizer])
        pairs.append(("llama", a.llama_tokenizer, d))
    for label, model, d in pairs:
        tok = AutoTokenizer.from_pretrained(d)
        wrong = []
        for t in TEXTS:
            line = run([a.runner, "data", "tokenizer", "--model", model, "--encode", t]).splitlines()[-1:]
            ours = [int(x) for x in (line[0].split() if line else [])]
            if tok(t, add_special_tokens=False)["input_ids"] != ours or tok(t)["input_ids"] != [tok.bos_token_id] + ours:
                wrong.append(t)
        check(not wrong, f"tokenizer {label}: AutoTokenizer ({type(tok).__name__}) ids equal runner's on "
                         f"{len(TEXTS)} texts" + (f"; differ on {wrong!r}" if wrong else ""))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--runner", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--text", required=True, help="text to train the test tokenizer on")
    p.add_argument("--data", required=True, help="prepared data (vocab <= 1000) for train --init-from")
    p.add_argument("--llama-tokenizer", default="")
    a = p.parse_args()
    torch.set_num_threads(1)
    print(f"transformers {transformers.__version__}, torch {torch.__version__}", flush=True)
    a.tokenizer = os.path.join(a.work, "tok1000.model")
    run([a.runner, "data", "tokenizer", "--train", "--input", a.text, "--out", a.tokenizer, "--vocab-size", "1000"])
    exports(a)
    mobilellm_ls(a)
    transformers_written(a)
    tokenizers(a)
    print(f"{'FAILED' if failures else 'passed'}: {len(failures)} failure(s)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
