#!/usr/bin/env python3
"""Data parallel on this CPU: 1 rank x 2 threads against 2 ranks x 1 thread (`runner train --nproc 2`,
Gloo over loopback), same run, same global batch, at the shapes of the CPU sweep (configs/scales/
cpu.toml: mobillama-0.5b and large-base at width 1/8, 22 layers, seq 256, 32 rows per step) and at
width 1/4. Reports the job's training tokens/s (median over --rounds, alternating the two set-ups
because this machine's speed drifts), and for 2 ranks the gradient all-reduce per step measured
alone, what of it stayed exposed after backward, and the hidden fraction (runner's dp_* scalars).

  bench/dist_race.py [--build build] [--rounds 3] [--steps 8] [--precision bf16]
"""
import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEXT = os.path.join(ROOT, "..", "shared", "data", "tinyshakespeare", "input.txt")
SEQ, ROWS = 256, 32

# The CPU sweep's geometry (runner --sweep configs/cpu.toml --dry-run prints the same), and width 1/4.
SHAPES = {
    "mobillama-0.5b @1/8": ("mobillama-0.5b", 256, 8, 704),
    "large-base @1/8": ("large-base", 256, 8, 704),
    "mobillama-0.5b @1/4": ("mobillama-0.5b", 512, 16, 1408),
    "large-base @1/4": ("large-base", 512, 16, 1408),
}


def prepare(work, runner):
    rows = os.path.join(work, "rows.jsonl")
    b = open(TEXT, "rb").read()
    with open(rows, "w") as f:
        for r in range(len(b) // (SEQ + 1)):
            f.write(json.dumps({"token_ids": list(b[r * (SEQ + 1):(r + 1) * (SEQ + 1)]), "source": "s"}) + "\n")
    with open(os.path.join(work, "mix.toml"), "w") as f:
        f.write(f'[mix]\nseq_len = {SEQ}\nval_fraction = 0\nvocab_size = 256\n\n'
                '[[source]]\nname = "s"\npath = "rows.jsonl"\nreader = "amber-jsonl"\n')
    subprocess.run([runner, "data", "prepare", "--mix", "mix.toml", "--out", "data", "--no-progress"], cwd=work,
                   check=True, stdout=subprocess.DEVNULL)


def train(a, work, shape, ranks, tag):
    preset, d, heads, ffn = SHAPES[shape]
    db = os.path.join(work, f"{tag}.db")
    threads = 2 // ranks
    cmd = [os.path.abspath(os.path.join(a.build, "runner")), "train", preset, "--data", "data",
           "--set", f"model.d_model={d}", "--set", f"model.n_heads={heads}", "--set", f"model.n_kv_heads={heads}",
           "--set", f"model.ffn_dim={ffn}", "--set", "model.vocab_size=8000", "--set", f"model.max_seq_len={SEQ}",
           "--set", f"train.seq_len={SEQ}", "--set", "train.micro_batch=16",
           "--set", f"train.global_batch_tokens={SEQ * ROWS}", "--set", f"train.tokens={SEQ * ROWS * a.steps}",
           "--set", "train.warmup_steps=2", "--set", "train.checkpoint_every_tokens=0", "--set", "train.val_batches=0",
           "--set", f"train.threads={threads}", "--set", f"train.precision={a.precision}",
           "--runs-dir", os.path.join(work, f"runs-{tag}"), "--db", db, "--no-progress"]
    if ranks > 1:
        cmd += ["--nproc", str(ranks)]
    subprocess.run(cmd, cwd=work, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with sqlite3.connect(db) as c:
        return dict(c.execute("select key, value from scalars"))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--precision", default="bf16", choices=["bf16", "fp32"])
    p.add_argument("--shapes", default=",".join(SHAPES))
    a = p.parse_args()
    if not os.path.exists(TEXT):
        sys.exit(f"dist_race: {TEXT} not found (shared/ beside the checkout)")
    runner = os.path.abspath(os.path.join(a.build, "runner"))
    print(f"data parallel on this CPU ({os.cpu_count()} cores), {a.precision}, {ROWS} rows x {SEQ} tokens per step, "
          f"{a.steps} steps, median of {a.rounds} alternating rounds")
    print(f"{'shape':<22} {'1x2 tok/s':>10} {'2x1 tok/s':>10} {'2x1/1x2':>8} {'grad MB':>8} {'buckets':>7} "
          f"{'allreduce ms':>12} {'exposed ms':>10} {'hidden':>7}")
    with tempfile.TemporaryDirectory(prefix="dist_race") as work:
        prepare(work, runner)
        for shape in a.shapes.split(","):
            one, two = [], []
            for r in range(a.rounds):
                one.append(train(a, work, shape, 1, f"{len(one)}-1-{r}-{shape.split()[0]}{shape[-1]}"))
                two.append(train(a, work, shape, 2, f"{len(two)}-2-{r}-{shape.split()[0]}{shape[-1]}"))
            med = lambda rows, k: statistics.median(x[k] for x in rows)
            t1, t2 = med(one, "tokens_per_s"), med(two, "tokens_per_s")
            print(f"{shape:<22} {t1:>10.0f} {t2:>10.0f} {t2 / t1:>8.2f} {med(two, 'dp_gradient_bytes') / 1e6:>8.1f} "
                  f"{med(two, 'dp_buckets'):>7.0f} {1e3 * med(two, 'dp_allreduce_s'):>12.1f} "
                  f"{1e3 * med(two, 'dp_exposed_s'):>10.1f} {100 * med(two, 'dp_hidden_fraction'):>6.0f}%",
                  flush=True)


if __name__ == "__main__":
    main()
