#!/usr/bin/env python3
"""Decode race (issue 17): batch-1 prompt processing and token-by-token decoding at full size,
ours (`runner profile --decode`, which also stores the rows the latency tables read) beside
llama.cpp's own benchmark (`llama-bench`, built from the pinned source by
scripts/interop/build_llama_bench.sh) on our GGUF exports of the same models, with the same
threads and dtype. llama.cpp runs every executed layer from its own weights (a GGUF has no
sharing), so it reads a repeated block twice; we need not.

  bench/decode_race.py [--build build] [--presets a,b] [--dtypes fp32,bf16] [--prompt 128]
                       [--decode 64] [--threads 2] [--repeats 3] [--rounds 5] [--db results/sharelab.db]

Prompt tokens/s: ours = prompt / time to first token (the prefill through the KV cache plus the
first argmax), from the stored profile; llama.cpp = its pp test (`-p P -n 0`).
Decode tokens/s, in paired rounds: each round times one generation of ours (`runner profile
--decode-only`: N one-token forwards after the prompt, after one warm-up generation) and, right
before or after it (the order alternates), llama.cpp's tg test at the same depth (`-p 0 -n N -d P`,
one repetition). The table gives each side's median over rounds and the median of the rounds'
ratios, which is what the goal reads. Why rounds: this machine's memory bandwidth drifts by up to
±25% within minutes (other tenants of the host), so two measurements minutes apart compare the
machine, not the decoders. Random weights (the preset's initialisation): speed does not depend on
the values. Prints the machine's load average, which inflates both sides when > threads.
"""
import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRESETS = ["mobilellm-125m", "mobilellm-ls-125m", "mobilellm-ls-125m-all-over", "mobilellm-ls-125m-reverse",
           "mobilellm-125m-dense60", "mobillama-0.5b", "large-base"]
# What the goal compares: dense models (ours at least as fast) and immediate repeat (ours faster).
DENSE = {"mobilellm-125m", "mobilellm-125m-dense60", "large-base"}
IMMEDIATE = {"mobilellm-ls-125m"}
GGUF_DTYPE = {"fp32": "f32", "bf16": "bf16"}


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True, **kw).stdout


def load_average():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def tokenizer(a):
    """A 32000-piece SentencePiece model (the presets' vocab_size; GGUF needs one row per token),
    trained once by our own `runner data prepare` on the default mix."""
    out = os.path.join(a.work, "data32k")
    tok = os.path.join(out, "tokenizer.model")
    if not os.path.exists(tok):
        run([os.path.join(a.build, "runner"), "data", "prepare", "--mix", os.path.join(ROOT, "configs/data/default.toml"),
             "--out", out, "--vocab-size", "32000"])
    return tok


def ours(a, preset):
    """Stores the latency tables' rows (decode included); returns {dtype: prompt tok/s} from them."""
    run([os.path.join(a.build, "runner"), "profile", preset, "--dtype", ",".join(a.dtypes), "--decode",
         str(a.decode), "--prompt", str(a.prompt), "--repeats", str(a.repeats), "--warmup", "1", "--threads",
         str(a.threads), "--db", a.db, "--work-dir", os.path.join(a.work, "profile")])
    db = sqlite3.connect(a.db)
    res = {}
    for dt in a.dtypes:
        row = db.execute("SELECT ttft_ms FROM profiles WHERE "
                         "preset = ? AND dtype = ? AND decode_tokens = ? AND prompt_len = ? AND threads = ? "
                         "ORDER BY created_at DESC LIMIT 1", (preset, dt, a.decode, a.prompt, a.threads)).fetchone()
        if row is None:
            sys.exit("decode_race: no stored decode row for %s %s in %s" % (preset, dt, a.db))
        res[dt] = 1e3 * a.prompt / row[0]
    db.close()
    return res


def gguf_path(a, preset, dt, tok):
    gguf = os.path.join(a.work, "%s-%s.gguf" % (preset, GGUF_DTYPE[dt]))
    if not os.path.exists(gguf):
        run([os.path.join(a.build, "runner"), "export", preset, "--gguf", gguf, "--dtype", GGUF_DTYPE[dt],
             "--tokenizer", tok])
    return gguf


def llama_bench(a, gguf, repeats, extra):
    cmd = [a.llama_bench, "-m", gguf, "-t", str(a.threads), "-r", str(repeats), "-o", "json"] + extra
    return json.loads(run(cmd))[0]["avg_ts"]


def ours_round(a, preset, dt):
    """Decode tokens/s of one timed generation (after one warm-up), from the decode table."""
    out = run([os.path.join(a.build, "runner"), "profile", preset, "--dtype", dt, "--decode", str(a.decode), "--prompt",
               str(a.prompt), "--repeats", "1", "--warmup", "1", "--threads", str(a.threads), "--decode-only"])
    for line in out.splitlines():
        f = line.split()
        if len(f) > 4 and f[0] == preset and f[1] == dt:
            return float(f[4])
    sys.exit("decode_race: no decode row for %s %s in runner profile's output:\n%s" % (preset, dt, out))


def race(a, preset, dt, tok):
    """(llama pp tok/s, [(ours tg, llama tg)] per round) for one model and dtype."""
    gguf = gguf_path(a, preset, dt, tok)
    pp = llama_bench(a, gguf, a.repeats, ["-p", str(a.prompt), "-n", "0"])
    tg = ["-p", "0", "-n", str(a.decode), "-d", str(a.prompt)]
    pairs = []
    for r in range(a.rounds):
        if r % 2 == 0:
            o = ours_round(a, preset, dt)
            l = llama_bench(a, gguf, 1, tg)
        else:
            l = llama_bench(a, gguf, 1, tg)
            o = ours_round(a, preset, dt)
        pairs.append((o, l))
    if not a.keep_gguf:
        os.remove(gguf)
    return pp, pairs


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--presets", default=",".join(PRESETS))
    p.add_argument("--dtypes", default="fp32,bf16")
    p.add_argument("--prompt", type=int, default=128)
    p.add_argument("--decode", type=int, default=64)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--repeats", type=int, default=3, help="ours: stored profile's generations; llama.cpp: pp runs")
    p.add_argument("--rounds", type=int, default=5, help="paired decode rounds (ours, llama.cpp) per model and dtype")
    p.add_argument("--db", default=os.path.join(ROOT, "results", "sharelab.db"))
    p.add_argument("--work", default=os.path.join(ROOT, "results", "decode_race"))
    p.add_argument("--llama-bench", default=os.path.join(ROOT, "third_party", "llama.cpp-build", "bench-build", "bin",
                                                         "llama-bench"))
    p.add_argument("--keep-gguf", action="store_true", help="keep the exports (up to 5 GB each) for a re-run")
    a = p.parse_args()
    a.dtypes = a.dtypes.split(",")
    os.makedirs(a.work, exist_ok=True)
    if not os.access(a.llama_bench, os.X_OK):
        run(["bash", os.path.join(ROOT, "scripts", "interop", "build_llama_bench.sh")])
    tok = tokenizer(a)

    rows, misses = [], []
    for preset in a.presets.split(","):
        load = load_average()
        ours_pp = ours(a, preset)
        for dt in a.dtypes:
            pp, pairs = race(a, preset, dt, tok)
            ratios = [x / y for x, y in pairs]
            ratio = statistics.median(ratios)
            rows.append((preset, dt, ours_pp[dt], pp, statistics.median(x for x, _ in pairs),
                         statistics.median(y for _, y in pairs), ratio, min(ratios), max(ratios), load))
            if (preset in DENSE and ratio < 1.0) or (preset in IMMEDIATE and ratio <= 1.0):
                misses.append("%s %s: decode %.2fx llama.cpp's" % (preset, dt, ratio))

    print("\ndecode race: batch 1, prompt %d tokens, then %d decoded; %d threads; decode in %d paired rounds" %
          (a.prompt, a.decode, a.threads, a.rounds))
    print("%-28s %-5s %12s %12s %12s %12s %11s %13s %8s" % ("preset", "dtype", "ours pp t/s", "llama pp t/s",
                                                          "ours tg t/s", "llama tg t/s", "ours/llama", "(min-max)",
                                                          "loadavg"))
    for preset, dt, opp, lpp, otg, ltg, ratio, lo, hi, load in rows:
        print("%-28s %-5s %12.1f %12.1f %12.1f %12.1f %10.2fx %13s %8.2f" % (
            preset, dt, opp, lpp, otg, ltg, ratio, "(%.2f-%.2f)" % (lo, hi), load))
    print("pp = prompt processing (ours: prompt / time to first token, stored profile; llama.cpp: %d runs); tg = "
          "decode at depth %d, median over rounds; ours/llama = median of the rounds' decode ratios (min-max). "
          "Goal: >= 1 on the dense models (%s), > 1 on immediate repeat (%s)." %
          (a.repeats, a.prompt, ", ".join(sorted(DENSE)), ", ".join(sorted(IMMEDIATE))))
    if misses:
        print("decode_race: goal missed: " + "; ".join(misses))
        sys.exit(1)
    print("decode_race: goal met")


if __name__ == "__main__":
    main()
