"""ref_llama.py's training step with the model under torch.compile (PyTorch 2.x, inductor's CPU
code generation): the same model, data, AdamW, clipping, autocast and timing as ref_llama.py's own
loop, so bench_train can race it as a third reference. Compilation happens in the untimed first
step. Prints ref_llama.py's JSON line plus "compile_s".
  PYTHONPATH=third_party/torch2 python3 bench/ref_compiled.py --ref ../shared/bench/ref_llama.py \
      [--config JSON] [--batch 8] [--seq 256] [--steps 5] [--threads 0] [--bf16]
"""
import argparse, importlib.util, json, time

import torch
import torch.nn.functional as F


def load_reference(path):
    spec = importlib.util.spec_from_file_location("ref_llama", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--ref', required=True, help='path of ../shared/bench/ref_llama.py')
    p.add_argument('--config', default='{"vocab":8000,"d":256,"h":4,"kv":4,"ffn":704,"layers":22,"eps":1e-5,"share":"ffn"}')
    p.add_argument('--batch', type=int, default=8); p.add_argument('--seq', type=int, default=256)
    p.add_argument('--steps', type=int, default=5); p.add_argument('--bf16', action='store_true')
    p.add_argument('--threads', type=int, default=0)
    a = p.parse_args()
    ref = load_reference(a.ref)
    if a.threads: torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    c = json.loads(a.config); m = ref.Llama(c)
    n = sum(q.numel() for q in m.parameters())
    cm = torch.compile(m)
    opt = torch.optim.AdamW(m.parameters(), lr=3e-4, betas=(0.9, 0.95), weight_decay=0.1)
    x = torch.randint(0, c['vocab'], (a.batch, a.seq + 1))
    times, compile_s = [], 0.0
    for s in range(a.steps + 1):
        t = time.perf_counter()
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=a.bf16):
            logits = cm(x[:, :-1])
            loss = F.cross_entropy(logits.float().reshape(-1, c['vocab']), x[:, 1:].reshape(-1))
        loss.backward(); torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step(); opt.zero_grad(set_to_none=True)
        if s: times.append(time.perf_counter() - t)
        else: compile_s = time.perf_counter() - t
    med = sorted(times)[len(times) // 2]
    tok = a.batch * a.seq
    print(json.dumps({'params': n, 'threads': torch.get_num_threads(), 'bf16': a.bf16, 'torch': torch.__version__,
                      'step_s': round(med, 4), 'tokens_per_s': round(tok / med, 1), 'compile_s': round(compile_s, 1),
                      'loss': float(loss)}))


if __name__ == '__main__':
    main()
