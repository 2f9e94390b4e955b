#!/usr/bin/env python3
"""Checks a GGUF written by `runner export SRC --gguf FILE` against the HF directory that
`runner export SRC --hf DIR` writes for the same model, reading the GGUF with the `gguf` PyPI
package (llama.cpp's own gguf-py), independently of our C++ reader.

    gguf_check.py FILE.gguf HFDIR [--converted CONVERTED.gguf]

Checked: the llama.* hyperparameters against config.json; every tensor of the HF checkpoint
(model.safetensors or the sharded model.safetensors.index.json) under its llama.cpp name, with
the reversed ggml dims, F32 for 1-D tensors and general.file_type's type otherwise, and the same
values after undoing convert_hf_to_gguf.py's Q/K RoPE permutation (exactly, after rounding the HF
tensor to the GGUF type the same way, round-to-nearest-even; within the coarser type's half ulp
when the HF file was itself rounded to another 16-bit type); no extra or missing tensor
(tied embeddings: no output.weight); when HFDIR has tokenizer.model and the `sentencepiece`
package is importable, the tokenizer.ggml.* vocabulary, scores, types and special ids.
With --converted (llama.cpp's own convert_hf_to_gguf.py run on HFDIR with the same --outtype):
the same tensors, types, ggml dims and bytes, and the same value for every key both files have.
Exits 1 with the first difference; prints a one-line summary otherwise. numpy + gguf only
(sentencepiece optional); the safetensors files are parsed here (numpy has no bfloat16).
"""
import json
import struct
import sys
from pathlib import Path

import numpy as np

try:
    import gguf
except ImportError:
    sys.exit("gguf_check.py: the `gguf` package is not importable (pip install gguf; see scripts/interop-requirements.txt)")

# llama.cpp file types (LLAMA_FTYPE_*) and the ggml type of their 2-D tensors.
FILE_TYPES = {0: "F32", 1: "F16", 32: "BF16"}


def fail(msg):
    sys.exit(f"gguf_check.py: {msg}")


# --- safetensors, by hand ----------------------------------------------------------------------
def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        raw = data[b:e]
        dt = info["dtype"]
        if dt == "F32":
            a = np.frombuffer(raw, dtype="<f4")
        elif dt == "F16":
            a = np.frombuffer(raw, dtype="<f2")
        elif dt == "BF16":
            a = np.frombuffer(raw, dtype="<u2")  # kept as bits; see as_f32
        else:
            fail(f"{path}: tensor {name}: dtype {dt} not handled (expected F32, F16 or BF16)")
        out[name] = (dt, a.reshape(info["shape"]))
    return out


def read_hf_tensors(hfdir):
    single = hfdir / "model.safetensors"
    index = hfdir / "model.safetensors.index.json"
    if single.is_file():
        return read_safetensors(single)
    if index.is_file():
        weight_map = json.loads(index.read_text())["weight_map"]
        out = {}
        for shard in sorted(set(weight_map.values())):
            out.update(read_safetensors(hfdir / shard))
        missing = set(weight_map) - set(out)
        if missing:
            fail(f"{index}: tensors listed but not in any shard: {sorted(missing)[:5]}")
        return out
    fail(f"{hfdir}: neither model.safetensors nor model.safetensors.index.json")


# --- dtype helpers ------------------------------------------------------------------------------
def bf16_bits_to_f32(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


def as_f32(dt, a):
    return bf16_bits_to_f32(a) if dt == "BF16" else a.astype(np.float32)


def round_to(a32, typ):
    """float32 -> the GGUF type, round-to-nearest-even (as torch's .to() and numpy's astype)."""
    if typ == "F32":
        return a32
    if typ == "F16":
        return a32.astype(np.float16).astype(np.float32)
    u = a32.view(np.uint32).astype(np.uint64)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint32)
    return bf16_bits_to_f32(r.astype(np.uint16))


def gguf_tensor_f32(t):
    typ = t.tensor_type.name
    shape = tuple(int(d) for d in reversed(t.shape.tolist()))
    if typ == "BF16":
        return typ, bf16_bits_to_f32(np.asarray(t.data).view("<u2").reshape(shape))
    if typ in ("F32", "F16"):
        return typ, np.asarray(t.data, dtype=np.float32).reshape(shape)
    fail(f"tensor {t.name}: type {typ} (expected F32, F16 or BF16)")


def unpermute(w, n_head):
    """Inverse of convert_hf_to_gguf.py's LlamaModel.permute (reshape(n,2,r/n/2,..).swapaxes(1,2))."""
    rows = w.shape[0]
    return w.reshape(n_head, rows // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


# --- metadata -----------------------------------------------------------------------------------
def field_value(reader, key):
    f = reader.fields.get(key)
    if f is None:
        return None
    if hasattr(f, "contents"):
        return f.contents()
    return f.parts[f.data[0]].tolist()[0] if len(f.data) == 1 else [f.parts[i].tolist() for i in f.data]


def check_metadata(reader, cfg, path):
    def want(key, value, approx=False):
        got = field_value(reader, key)
        if got is None:
            fail(f"{path}: key {key} missing (expected {value!r})")
        ok = abs(got - value) <= 1e-6 * max(1.0, abs(value)) if approx else got == value
        if not ok:
            fail(f"{path}: key {key} = {got!r}, config.json says {value!r}")

    want("general.architecture", "llama")
    heads = cfg["num_attention_heads"]
    kv = cfg.get("num_key_value_heads") or heads
    head_dim = cfg.get("head_dim") or cfg["hidden_size"] // heads
    rope = cfg.get("rope_theta") or (cfg.get("rope_parameters") or {}).get("rope_theta", 10000.0)
    want("llama.block_count", cfg["num_hidden_layers"])
    want("llama.context_length", cfg["max_position_embeddings"])
    want("llama.embedding_length", cfg["hidden_size"])
    want("llama.feed_forward_length", cfg["intermediate_size"])
    want("llama.attention.head_count", heads)
    want("llama.attention.head_count_kv", kv)
    want("llama.rope.dimension_count", head_dim)
    want("llama.vocab_size", cfg["vocab_size"])
    want("llama.rope.freq_base", float(np.float32(rope)), approx=True)
    want("llama.attention.layer_norm_rms_epsilon", float(np.float32(cfg["rms_norm_eps"])), approx=True)
    ftype = field_value(reader, "general.file_type")
    if ftype not in FILE_TYPES:
        fail(f"{path}: general.file_type {ftype!r} (expected 0 F32, 1 F16 or 32 BF16)")
    return heads, kv, FILE_TYPES[ftype]


def check_vocab(reader, hfdir, cfg, path):
    model = hfdir / "tokenizer.model"
    try:
        import sentencepiece
    except ImportError:
        return "vocabulary not checked (no sentencepiece package)"
    if not model.is_file():
        return "vocabulary not checked (no tokenizer.model in the HF directory)"
    sp = sentencepiece.SentencePieceProcessor(model_file=str(model))
    n = sp.get_piece_size()
    tokens = field_value(reader, "tokenizer.ggml.tokens")
    scores = field_value(reader, "tokenizer.ggml.scores")
    types = field_value(reader, "tokenizer.ggml.token_type")
    if field_value(reader, "tokenizer.ggml.model") != "llama":
        fail(f"{path}: tokenizer.ggml.model is not 'llama' (SentencePiece)")
    if len(tokens) != n or len(scores) != n or len(types) != n or n != cfg["vocab_size"]:
        fail(f"{path}: {len(tokens)} tokens / {len(scores)} scores / {len(types)} types, tokenizer.model has {n}, "
             f"vocab_size {cfg['vocab_size']}")
    for i in range(n):
        # SentencePiece's own type numbers (GGUF's llama_token_type uses the same).
        t = 2 if sp.is_unknown(i) else 3 if sp.is_control(i) else 5 if sp.is_unused(i) else 6 if sp.is_byte(i) else None
        if tokens[i] != sp.id_to_piece(i):
            fail(f"{path}: token {i} is {tokens[i]!r}, tokenizer.model says {sp.id_to_piece(i)!r}")
        if np.float32(scores[i]) != np.float32(sp.get_score(i)):
            fail(f"{path}: token {i} score {scores[i]} != {sp.get_score(i)}")
        if (t is None and types[i] not in (1, 4)) or (t is not None and types[i] != t):
            fail(f"{path}: token {i} ({tokens[i]!r}) type {types[i]}, expected {t or '1 or 4'}")
    for key, want in (("bos", sp.bos_id()), ("eos", sp.eos_id()), ("unknown", sp.unk_id()), ("padding", sp.pad_id())):
        got = field_value(reader, f"tokenizer.ggml.{key}_token_id")
        if want >= 0 and got != want:
            fail(f"{path}: tokenizer.ggml.{key}_token_id = {got!r}, tokenizer.model says {want}")
    return f"vocabulary {n} pieces equal"


def gguf_name(hf):
    table = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
             "lm_head.weight": "output.weight"}
    if hf in table:
        return table[hf]
    parts = hf.split(".")
    if parts[:2] != ["model", "layers"] or len(parts) < 5:
        return None
    sub = {"input_layernorm": "attn_norm", "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k",
           "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output",
           "post_attention_layernorm": "ffn_norm", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
           "mlp.down_proj": "ffn_down"}.get(".".join(parts[3:-1]))
    return f"blk.{parts[2]}.{sub}.{parts[-1]}" if sub else None


def check_converted(reader, path, other_path):
    other = gguf.GGUFReader(str(other_path))
    ours = {t.name: t for t in reader.tensors}
    theirs = {t.name: t for t in other.tensors}
    if set(ours) != set(theirs):
        fail(f"{path}: tensors differ from {other_path}: only ours {sorted(set(ours) - set(theirs))[:5]}, "
             f"only theirs {sorted(set(theirs) - set(ours))[:5]}")
    for name, t in ours.items():
        o = theirs[name]
        if t.tensor_type != o.tensor_type or t.shape.tolist() != o.shape.tolist():
            fail(f"{path}: tensor {name} is {t.tensor_type.name} {t.shape.tolist()}, {other_path} has "
                 f"{o.tensor_type.name} {o.shape.tolist()}")
        if np.asarray(t.data).tobytes() != np.asarray(o.data).tobytes():
            fail(f"{path}: tensor {name}: bytes differ from {other_path}")
    # general.name / size_label and the like are descriptive; everything llama.cpp reads must agree.
    skip = {"general.name", "general.size_label", "general.basename", "general.finetune", "general.alignment"}
    for key in sorted(set(reader.fields) & set(other.fields)):
        if key.startswith("GGUF.") or key in skip:
            continue
        a, b = reader.fields[key], other.fields[key]
        if a.types != b.types or field_value(reader, key) != field_value(other, key):
            fail(f"{path}: key {key} differs from {other_path}: {str(field_value(reader, key))[:60]} "
                 f"({a.types}) vs {str(field_value(other, key))[:60]} ({b.types})")
    return f"; tensors byte-identical to {other_path}"


def main():
    args = sys.argv[1:]
    converted = None
    if len(args) == 4 and args[2] == "--converted":
        converted = Path(args[3])
        args = args[:2]
    if len(args) != 2:
        sys.exit("usage: gguf_check.py FILE.gguf HFDIR [--converted CONVERTED.gguf]")
    path, hfdir = Path(args[0]), Path(args[1])
    if not path.is_file():
        fail(f"{path}: not found")
    cfg_path = hfdir / "config.json"
    if not cfg_path.is_file():
        fail(f"{cfg_path}: not found")
    cfg = json.loads(cfg_path.read_text())
    reader = gguf.GGUFReader(str(path))
    heads, kv, wide = check_metadata(reader, cfg, path)

    hf = read_hf_tensors(hfdir)
    tensors = {t.name: t for t in reader.tensors}
    expected = set()
    for name, (dt, a) in sorted(hf.items()):
        g = gguf_name(name)
        if g is None:
            fail(f"{hfdir}: tensor {name} has no llama.cpp name")
        expected.add(g)
        if g not in tensors:
            fail(f"{path}: tensor {g} (from {name}) missing")
        typ, got = gguf_tensor_f32(tensors[g])
        if got.shape != a.shape:
            fail(f"{path}: tensor {g} has shape {got.shape} (ggml dims {tensors[g].shape.tolist()}), "
                 f"{name} is {list(a.shape)}")
        want_typ = "F32" if a.ndim <= 1 else wide
        if typ != want_typ:
            fail(f"{path}: tensor {g} is {typ}, expected {want_typ}")
        if g.endswith("attn_q.weight"):
            got = unpermute(got, heads)
        elif g.endswith("attn_k.weight"):
            got = unpermute(got, kv)
        # Norms are stored F32 but hold values rounded to the file's type (the same values as the
        # HF export in that dtype, or as convert_hf_to_gguf.py would make of it).
        if dt not in ("F32", wide):
            fail(f"{path}: tensor {g} holds {wide} values but {name} is stored as {dt}: the GGUF cannot be checked "
                 f"against a coarser copy (export both with the same --dtype, or the HF directory as f32)")
        want = round_to(as_f32(dt, a), wide)
        bad = np.flatnonzero(got.ravel() != want.ravel())
        if bad.size:
            i = int(bad[0])
            fail(f"{path}: tensor {g} differs from {name} at flat index {i}: {got.ravel()[i]!r} vs "
                 f"{want.ravel()[i]!r} ({bad.size} of {got.size} elements differ)")
    extra = sorted(set(tensors) - expected)
    if extra:
        fail(f"{path}: tensors not in {hfdir}: {extra[:5]}")
    if cfg.get("tie_word_embeddings") and "output.weight" in tensors:
        fail(f"{path}: output.weight present but config.json ties the embeddings")
    vocab = check_vocab(reader, hfdir, cfg, path)
    same = check_converted(reader, path, converted) if converted else ""
    print(f"gguf_check.py: {path}: {len(tensors)} tensors ({wide}) and the llama.* keys match {hfdir}"
          f"; {vocab}{same}")


if __name__ == "__main__":
    main()
