#!/usr/bin/env python3
"""Table 11 race at full size: `runner profile` (ours) beside ../shared/bench/table11_ref.py (eager
PyTorch, the same LibTorch underneath) for large-base and mobillama-0.5b, fp32 and bf16: load,
init and forward latency. Alternates the two `--rounds` times and reports medians, because this
machine's speed drifts over minutes. Exits 1 when any forward of ours is slower than eager's by
more than --tolerance (so `make bench` cannot regress silently).

  bench/table11_race.py [--build build] [--seq 128] [--threads 2] [--repeats 3] [--rounds 1]
                        [--tolerance 0.05] [--python /usr/bin/python3]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = ["large-base", "mobillama-0.5b"]
DTYPES = ["fp32", "bf16"]


def ours(a):
    """{(model, dtype): {"fwd": ms, "init": ms, "load": ms}} from `runner profile`'s table."""
    cmd = [os.path.join(a.build, "runner"), "profile", *MODELS, "--dtype", ",".join(DTYPES), "--seq", str(a.seq),
           "--repeats", str(a.repeats), "--threads", str(a.threads), "--db", "",
           "--work-dir", os.path.join(a.build, "table11_race")]
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    res = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 7 and f[0] in MODELS and f[1] in DTYPES:
            res[(f[0], f[1])] = {"load": float(f[3]), "init": float(f[4]), "fwd": float(f[5])}
    if len(res) != len(MODELS) * len(DTYPES):
        sys.exit("table11_race: unexpected `runner profile` output:\n" + out)
    return res


def eager(a):
    script = os.path.join(ROOT, "..", "shared", "bench", "table11_ref.py")
    if not os.path.exists(script):
        sys.exit("table11_race: %s not found (the eager reference lives in the shared folder beside the clone)" % script)
    cmd = [a.python, script, "--seq", str(a.seq), "--threads", str(a.threads), "--reps", str(a.repeats)]
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True,
                         cwd=os.path.dirname(script)).stdout
    res = {}
    for line in out.splitlines():
        if not line.startswith("{"):
            continue
        j = json.loads(line)
        for dt in DTYPES:  # eager runs bf16 as autocast over fp32 weights; init and load are fp32
            res[(j["model"], dt)] = {"load": j["load_ms"], "init": j["init_ms"],
                                     "fwd": j["fwd_ms_seq%d" % a.seq][dt]}
    return res


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--seq", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--tolerance", type=float, default=0.05)
    p.add_argument("--python", default="/usr/bin/python3")
    a = p.parse_args()
    runs = {"ours": [], "eager": []}
    for r in range(a.rounds):
        print("round %d/%d: ours ..." % (r + 1, a.rounds), file=sys.stderr, flush=True)
        runs["ours"].append(ours(a))
        print("round %d/%d: eager ..." % (r + 1, a.rounds), file=sys.stderr, flush=True)
        runs["eager"].append(eager(a))
    med = {side: {k: {m: statistics.median(r[k][m] for r in rs) for m in ("fwd", "init", "load")}
                  for k in rs[0]} for side, rs in runs.items()}
    print("Table 11 at full size, batch 1 x seq %d, %d threads, median of %d round(s) of %d forwards"
          % (a.seq, a.threads, a.rounds, a.repeats))
    print("| model | dtype | ours forward ms | eager forward ms | ratio | ours init ms | eager init ms "
          "| ours load ms | eager load ms |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    slow = []
    for m in MODELS:
        for dt in DTYPES:
            o, e = med["ours"][(m, dt)], med["eager"][(m, dt)]
            ratio = o["fwd"] / e["fwd"]
            if ratio > 1 + a.tolerance:
                slow.append("%s %s" % (m, dt))
            print("| %s | %s | %.0f | %.0f | %.2f | %.0f | %.0f | %.0f | %.0f |"
                  % (m, dt, o["fwd"], e["fwd"], ratio, o["init"], e["init"], o["load"], e["load"]))
    print("ours: weights cast to bf16 for bf16; eager: bf16 autocast over fp32 weights (table11_ref.py).")
    if slow:
        print("table11_race: ours is slower than eager by more than %.0f%%: %s" % (100 * a.tolerance, ", ".join(slow)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
