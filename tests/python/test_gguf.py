"""Glossa reads GGUF files of every weight encoding correctly.

Each test writes a small LLaMA-architecture GGUF file with llama.cpp's own
Python package (gguf-py): random weights in one encoding (f16, bf16, the
block quantisations Q4_0 to Q8_0, which gguf-py quantises, and the K-quants,
whose blocks are filled with random bytes and finite scales), W_Q and W_K
rows permuted as llama.cpp's converter permutes them, and the shipped
model's byte-level BPE as tokenizer metadata. `glossa extract` reads it,
and every gate, key and value list and every VO and QK list is compared with
a float64 brute force computed from gguf-py's dequantisation of the same
bytes, with the permutation undone: nothing of Glossa's reading is shared
with the reference.
"""

import json
import subprocess
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from gguf import GGMLQuantizationType as Q
from gguf import GGUFWriter, TokenType
from gguf.constants import GGML_QUANT_SIZES
from gguf.quants import dequantize, quantize

from conftest import GLOSSA, MODEL

TOKENIZER = MODEL / "tokenizer.json"

LAYERS, D, HEADS, KV_HEADS, D_FF = 2, 256, 4, 2, 512
DH = D // HEADS
K, HEAD_K = 8, 8

# gguf-py quantises these; the K-quants it only dequantises.
QUANTISED = [Q.F16, Q.BF16, Q.Q4_0, Q.Q4_1, Q.Q5_0, Q.Q5_1, Q.Q8_0]
K_QUANTS = {
    # Byte offsets of each block's f16 scale(s), from ggml-common.h.
    Q.Q2_K: (80, 82),
    Q.Q3_K: (108,),
    Q.Q4_K: (0, 2),
    Q.Q5_K: (0, 2),
    Q.Q6_K: (208,),
}


def permute(w, heads):
    """llama.cpp's `permute` (convert_hf_to_gguf.py): HF rows to GGUF rows."""
    out, cols = w.shape
    return w.reshape(heads, 2, out // heads // 2, cols).swapaxes(1, 2).reshape(out, cols)


def unpermute(w, heads):
    out, cols = w.shape
    return w.reshape(heads, out // heads // 2, 2, cols).swapaxes(1, 2).reshape(out, cols)


def encode(w, kind, rng):
    """`w` (float32) in encoding `kind`, as the bytes GGUF stores; for a
    K-quant, random blocks of `w`'s shape instead."""
    if kind in K_QUANTS:
        block, size = GGML_QUANT_SIZES[kind]
        rows, cols = w.shape
        data = rng.integers(0, 256, size=(rows, cols // block, size), dtype=np.uint8)
        for offset in K_QUANTS[kind]:
            scales = rng.uniform(0.002, 0.02, size=(rows, cols // block)).astype(np.float16)
            data[:, :, offset : offset + 2] = scales.view(np.uint8).reshape(rows, cols // block, 2)
        return data.reshape(rows, -1)
    return quantize(w, kind)


def tokenizer_metadata(writer):
    tokenizer = json.loads(TOKENIZER.read_text(encoding="utf-8"))
    vocab = tokenizer["model"]["vocab"]
    tokens = sorted(vocab, key=vocab.get)
    special = {t["id"] for t in tokenizer["added_tokens"] if t["special"]}
    merges = [m if isinstance(m, str) else " ".join(m) for m in tokenizer["model"]["merges"]]
    writer.add_tokenizer_model("gpt2")
    writer.add_token_list(tokens)
    writer.add_token_types(
        [TokenType.CONTROL if i in special else TokenType.NORMAL for i in range(len(tokens))]
    )
    writer.add_token_merges(merges)
    return len(tokens)


def write_gguf(path: Path, kind, seed: int):
    """A random LLaMA GGUF in encoding `kind`; returns the float64 weights
    in Hugging Face layout, dequantised from the written bytes."""
    rng = np.random.default_rng(seed)
    writer = GGUFWriter(str(path), "llama")
    writer.add_block_count(LAYERS)
    writer.add_context_length(128)
    writer.add_embedding_length(D)
    writer.add_feed_forward_length(D_FF)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(KV_HEADS)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_license("MIT")
    vocab = tokenizer_metadata(writer)
    reference = {}

    def add(name, shape, scale, kind=kind, heads=None):
        w = (rng.standard_normal(shape) * scale).astype(np.float32)
        if heads is not None:
            w = permute(w, heads)
        stored = encode(w, kind, rng)
        writer.add_tensor(name, stored, raw_dtype=kind)
        back = dequantize(stored, kind).astype(np.float64).reshape(shape)
        reference[name] = unpermute(back, heads) if heads is not None else back

    add("token_embd.weight", (vocab, D), 0.05)
    add("output_norm.weight", (D,), 0.1, kind=Q.F32)
    for l in range(LAYERS):
        b = f"blk.{l}."
        add(b + "attn_norm.weight", (D,), 0.1, kind=Q.F32)
        add(b + "ffn_norm.weight", (D,), 0.1, kind=Q.F32)
        add(b + "attn_q.weight", (HEADS * DH, D), 0.05, heads=HEADS)
        add(b + "attn_k.weight", (KV_HEADS * DH, D), 0.05, heads=KV_HEADS)
        add(b + "attn_v.weight", (KV_HEADS * DH, D), 0.05)
        add(b + "attn_output.weight", (D, HEADS * DH), 0.05)
        add(b + "ffn_gate.weight", (D_FF, D), 0.05)
        add(b + "ffn_up.weight", (D_FF, D), 0.05)
        add(b + "ffn_down.weight", (D, D_FF), 0.05)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return reference


def extremes(scores, k):
    """Top and bottom k indices of a flat score array, ties by index."""
    def best(signed):
        candidates = np.argpartition(-signed, k)[: k + 1]
        return candidates[np.lexsort((candidates, -signed[candidates]))][:k]

    return best(scores), best(-scores)


def check(name, ids, got, scores, want):
    tol = 1e-5 * max(np.abs(scores).max(), 1e-30)
    assert len(ids) == len(want), f"{name}: {len(ids)} entries, expected {len(want)}"
    for rank, (i, s, w) in enumerate(zip(ids, got, want), 1):
        assert abs(s - scores[w]) <= tol, f"{name} rank {rank}: score {s} vs {scores[w]}"
        assert i == w or abs(scores[i] - scores[w]) <= tol, f"{name} rank {rank}: {i} vs {w}"


@pytest.mark.parametrize("kind", QUANTISED + list(K_QUANTS), ids=lambda k: k.name)
def test_gguf_lists_match_float64_reference(tmp_path, kind):
    gguf = tmp_path / f"model.{kind.name}.gguf"
    w = write_gguf(gguf, kind, seed=int(kind))
    out = tmp_path / "out"
    subprocess.run(
        [str(GLOSSA), "extract", "--quiet", "--model", str(gguf), "--out", str(out),
         "--k", str(K), "--head-k", str(HEAD_K)],
        check=True,
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["options"]["weights_format"] == "gguf"
    expected = "f32" if kind in (Q.F32,) else kind.name.lower()
    assert expected in manifest["options"]["weights_encoding"]
    # general.license is the model's licence, which the dataset card declares.
    assert manifest["license"] == "MIT"
    assert 'license: "mit"' in (out / "README.md").read_text()

    E = w["token_embd.weight"]
    checked = 0
    for l in range(LAYERS):
        b = f"blk.{l}."
        neurons = pl.read_parquet(out / f"neurons/layer-{l:03}.parquet")
        sides = {
            "gate": w[b + "ffn_gate.weight"],
            "key": w[b + "ffn_up.weight"],
            "value": w[b + "ffn_down.weight"].T,
        }
        for side, vectors in sides.items():
            scores = vectors @ E.T
            for n in (0, 17, D_FF - 1):
                top, bottom = extremes(scores[n], K)
                for polarity, want in (("top", top), ("bottom", bottom)):
                    rows = neurons.filter(
                        (pl.col("neuron") == n) & (pl.col("side") == side)
                        & (pl.col("polarity") == polarity)
                    ).sort("rank")
                    check(f"{kind.name} L{l} n{n} {side} {polarity}",
                          rows["token_id"].to_list(), rows["score"].to_list(), scores[n], want)
                    checked += 1
        heads = pl.read_parquet(out / f"heads/layer-{l:03}.parquet")
        q, k = w[b + "attn_q.weight"], w[b + "attn_k.weight"]
        v, o = w[b + "attn_v.weight"], w[b + "attn_output.weight"]
        for h in range(HEADS):
            kv = h // (HEADS // KV_HEADS)
            qh, kh = q[h * DH:(h + 1) * DH], k[kv * DH:(kv + 1) * DH]
            vh, oh = v[kv * DH:(kv + 1) * DH], o[:, h * DH:(h + 1) * DH]
            circuits = {
                "vo": (E @ vh.T) @ (E @ oh).T,
                "qk": (E @ qh.T) @ (E @ kh.T).T,
            }
            for circuit, matrix in circuits.items():
                flat = matrix.ravel()
                top, bottom = extremes(flat, HEAD_K)
                for polarity, want in (("top", top), ("bottom", bottom)):
                    rows = heads.filter(
                        (pl.col("head") == h) & (pl.col("circuit") == circuit)
                        & (pl.col("polarity") == polarity)
                    ).sort("rank")
                    ids = (rows["src_token_id"].cast(pl.Int64) * E.shape[0]
                           + rows["dst_token_id"].cast(pl.Int64)).to_list()
                    check(f"{kind.name} L{l} h{h} {circuit} {polarity}",
                          ids, rows["score"].to_list(), flat, want)
                    checked += 1
    assert checked == LAYERS * (3 * 3 * 2 + HEADS * 2 * 2)


def test_rotary_offset_reads_unpermuted_queries_and_keys(tmp_path):
    """At a QK offset the rotary pairs matter: dims i and i + d_head/2 of
    Hugging Face's layout, which llama.cpp interleaves in the file. Lists
    that match the reference here show the interleaving is undone."""
    offset, base = 3, 10000.0
    gguf = tmp_path / "model.gguf"
    w = write_gguf(gguf, Q.Q8_0, seed=7)
    out = tmp_path / "out"
    subprocess.run(
        [str(GLOSSA), "extract", "--quiet", "--model", str(gguf), "--out", str(out),
         "--no-neurons", "--head-k", str(HEAD_K), "--qk-offset", str(offset)],
        check=True,
    )
    E = w["token_embd.weight"]
    half = DH // 2
    frequencies = base ** (-2.0 * np.arange(half) / DH)
    cos, sin = np.cos(-offset * frequencies), np.sin(-offset * frequencies)
    for l in range(LAYERS):
        heads = pl.read_parquet(out / f"heads/layer-{l:03}.parquet")
        q, k = w[f"blk.{l}.attn_q.weight"], w[f"blk.{l}.attn_k.weight"]
        for h in range(HEADS):
            kv = h // (HEADS // KV_HEADS)
            wq = q[h * DH:(h + 1) * DH].T
            wk = k[kv * DH:(kv + 1) * DH].T.copy()
            a, b = wk[:, :half].copy(), wk[:, half:].copy()
            wk[:, :half], wk[:, half:] = a * cos - b * sin, a * sin + b * cos
            flat = ((E @ wq) @ (E @ wk).T).ravel()
            top, bottom = extremes(flat, HEAD_K)
            for polarity, want in (("top", top), ("bottom", bottom)):
                rows = heads.filter(
                    (pl.col("head") == h) & (pl.col("circuit") == "qk")
                    & (pl.col("polarity") == polarity)
                ).sort("rank")
                ids = (rows["src_token_id"].cast(pl.Int64) * E.shape[0]
                       + rows["dst_token_id"].cast(pl.Int64)).to_list()
                check(f"offset {offset} L{l} h{h} qk {polarity}", ids, rows["score"].to_list(), flat, want)
