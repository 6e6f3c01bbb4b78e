"""Checks Glossa against a float64 reference on a *trained* GPT-2 checkpoint.

Trains a small GPT-2 on the shipped Polish corpus with Hugging Face
transformers, saves it with `save_pretrained` (real HF layout: Conv1D
weights, `transformer.` prefix, tied lm_head left out of the file) into a
temporary directory that is never committed, runs `glossa extract` on it, and
compares every neuron list and every head list with numpy float64 brute force
computed from the saved safetensors.

Needs torch and transformers (large downloads), so it is not part of
`make test`; run it with `make verify-trained`.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import polars as pl
import torch
from safetensors.numpy import load_file
from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

ROOT = Path(__file__).resolve().parents[2]
GLOSSA = ROOT / "target" / "debug" / "glossa"
TOKENIZER = ROOT / "data" / "models" / "tiny-polish-gpt2" / "tokenizer.json"
CORPUS = ROOT / "data" / "corpus" / "pl"
K, HEAD_K = 20, 20


def train(out: Path, pickle_out: Path, steps: int) -> None:
    torch.manual_seed(0)
    tokenizer = PreTrainedTokenizerFast(tokenizer_file=str(TOKENIZER))
    text = "\n".join(p.read_text() for p in sorted(CORPUS.glob("*.txt")))
    ids = torch.tensor(tokenizer(text)["input_ids"])
    config = GPT2Config(
        vocab_size=len(tokenizer), n_positions=64, n_embd=64, n_layer=2, n_head=4, n_inner=256,
        bos_token_id=0, eos_token_id=0,
    )
    model = GPT2LMHeadModel(config)
    optimiser = torch.optim.AdamW(model.parameters(), lr=3e-3)
    window, batch = 64, 16
    first = last = None
    for step in range(steps):
        starts = torch.randint(0, len(ids) - window - 1, (batch,))
        x = torch.stack([ids[s : s + window] for s in starts])
        loss = model(input_ids=x, labels=x).loss
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        first = first if first is not None else loss.item()
        last = loss.item()
    print(f"trained {steps} steps: loss {first:.2f} -> {last:.2f}")
    assert last < first - 1.0, "training must actually reduce the loss"
    model.save_pretrained(out, safe_serialization=True)
    # The same weights as a PyTorch pickle, the only format of older checkpoints
    # (transformers 5 writes safetensors only, so torch.save writes it).
    pickle_out.mkdir()
    torch.save(model.state_dict(), pickle_out / "pytorch_model.bin")
    (pickle_out / "config.json").write_bytes((out / "config.json").read_bytes())
    for directory in (out, pickle_out):
        (directory / "tokenizer.json").write_bytes(TOKENIZER.read_bytes())


def tensor(weights: dict, name: str) -> np.ndarray:
    for candidate in (f"transformer.{name}", name):
        if candidate in weights:
            return weights[candidate].astype(np.float64)
    raise KeyError(name)


def byte_decoder() -> dict:
    """GPT-2's byte-to-character table, inverted."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    printable += list(range(ord("®"), ord("ÿ") + 1))
    chars, n = printable[:], 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(printable, chars)}


def vocabulary_texts(tokenizer) -> list:
    """(text, fragment) per token id, decoded independently of Glossa."""
    decoder = byte_decoder()
    out = []
    for token_id in range(len(tokenizer)):
        piece = tokenizer.convert_ids_to_tokens(token_id)
        if piece in tokenizer.all_special_tokens:
            out.append((piece, False))
            continue
        raw = bytes(decoder[c] for c in piece)
        try:
            out.append((raw.decode("utf-8"), False))
        except UnicodeDecodeError:
            out.append((raw.decode("utf-8", "replace"), True))
    return out


def normalize(text: str) -> str:
    if len(text) > 1 and text[0] in " Ġ▁":
        text = text[1:]
    if len(text) > 1 and text[0] == "#":
        text = text[1:]
    return text.lower()


def allowed_alpha_in_corpus(tokenizer) -> np.ndarray:
    """Letters only (`--filter alpha`), and seen in the corpus (`--token-list`)."""
    texts = vocabulary_texts(tokenizer)
    seen = set()
    for path in sorted(CORPUS.glob("*.txt")):
        for line in path.read_text().splitlines():
            if line.strip():
                seen.update(tokenizer(line, add_special_tokens=False)["input_ids"])
    forms = {normalize(texts[t][0]) for t in seen}
    allowed = []
    for text, fragment in texts:
        word = text[1:] if text.startswith(" ") else text
        alpha = not fragment and word != "" and word.isalpha()
        allowed.append(alpha and normalize(text) in forms)
    return np.array(allowed)


def check_list(got_ids, got_scores, true_scores, expected_ids, where):
    scale = np.abs(true_scores[np.isfinite(true_scores)]).max()
    tolerance = 1e-5 * scale
    assert len(got_ids) == len(expected_ids), where
    for rank, (token, score, want) in enumerate(zip(got_ids, got_scores, expected_ids), 1):
        assert abs(score - true_scores[want]) <= tolerance, f"{where} rank {rank}: score"
        assert abs(true_scores[token] - true_scores[want]) <= tolerance, f"{where} rank {rank}: token"


def ranked(scores: np.ndarray, allowed: np.ndarray, polarity: str, k: int) -> np.ndarray:
    """The k allowed indices with the highest (top) or lowest (bottom) score, ties by index."""
    key = np.where(allowed, -scores if polarity == "top" else scores, np.inf)
    return np.lexsort((np.arange(scores.size), key))[:k]


def verify(model_dir: Path, data: Path, allowed) -> int:
    weights = load_file(model_dir / "model.safetensors")
    config = json.loads((model_dir / "config.json").read_text())
    layers, heads, d = config["n_layer"], config["n_head"], config["n_embd"]
    dh = d // heads
    tokens = pl.read_parquet(data / "tokens.parquet").height
    if allowed is None:
        allowed = np.ones(tokens, dtype=bool)
    pair_allowed = np.outer(allowed, allowed).ravel()
    e = tensor(weights, "wte.weight")[:tokens]
    checked = 0
    for layer in range(layers):
        rows = pl.read_parquet(data / f"neurons/layer-{layer:03d}.parquet")
        keys = e @ tensor(weights, f"h.{layer}.mlp.c_fc.weight")  # tokens × d_ff
        values = e @ tensor(weights, f"h.{layer}.mlp.c_proj.weight").T
        for side, scores in (("key", keys), ("value", values)):
            for (neuron, polarity), group in rows.filter(pl.col("side") == side).group_by(
                ["neuron", "polarity"]
            ):
                column = scores[:, neuron]
                group = group.sort("rank")
                ids = group["token_id"].to_numpy()
                assert allowed[ids].all(), "a filtered token entered a list"
                check_list(ids, group["score"].to_numpy(), column,
                           ranked(column, allowed, polarity, K),
                           f"layer {layer} neuron {neuron} {side} {polarity}")
                checked += 1
        head_rows = pl.read_parquet(data / f"heads/layer-{layer:03d}.parquet")
        c_attn = tensor(weights, f"h.{layer}.attn.c_attn.weight")
        c_proj = tensor(weights, f"h.{layer}.attn.c_proj.weight")
        for head in range(heads):
            cols = slice(head * dh, (head + 1) * dh)
            q, k_, v = c_attn[:, :d][:, cols], c_attn[:, d : 2 * d][:, cols], c_attn[:, 2 * d :][:, cols]
            o = c_proj[cols, :]
            matrices = {"vo": (e @ v) @ (e @ o.T).T, "qk": (e @ q) @ (e @ k_).T}
            for circuit, m in matrices.items():
                flat = m.ravel()
                for polarity in ("top", "bottom"):
                    group = head_rows.filter(
                        (pl.col("head") == head) & (pl.col("circuit") == circuit)
                        & (pl.col("polarity") == polarity)
                    ).sort("rank")
                    got = (group["src_token_id"].to_numpy().astype(np.int64) * tokens
                           + group["dst_token_id"].to_numpy())
                    check_list(got, group["score"].to_numpy(), flat,
                               ranked(flat, pair_allowed, polarity, HEAD_K),
                               f"layer {layer} head {head} {circuit} {polarity}")
                    checked += 1
    return checked


def main() -> int:
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    with tempfile.TemporaryDirectory() as tmp:
        model_dir, pickle_dir = Path(tmp) / "trained", Path(tmp) / "trained-pickle"
        train(model_dir, pickle_dir, steps)
        tokenizer = PreTrainedTokenizerFast(tokenizer_file=str(TOKENIZER))
        runs = [
            ("all tokens", [], None),
            ("--filter alpha --token-list data/corpus/pl",
             ["--filter", "alpha", "--token-list", str(CORPUS)], allowed_alpha_in_corpus(tokenizer)),
        ]
        for index, (name, flags, allowed) in enumerate(runs):
            data = Path(tmp) / f"ds{index}"
            subprocess.run(
                [str(GLOSSA), "extract", "--quiet", "--model", str(model_dir), "--out", str(data),
                 "--k", str(K), "--head-k", str(HEAD_K), *flags],
                check=True,
            )
            if allowed is not None:
                stored = pl.read_parquet(data / "tokens.parquet")["allowed"].to_numpy()
                assert (stored == allowed).all(), "tokens.parquet disagrees with the reference filter"
            print(f"{name}: {verify(model_dir, data, allowed)} lists equal the float64 reference")
        # pytorch_model.bin gives the same tables as model.safetensors.
        assert (pickle_dir / "pytorch_model.bin").is_file()
        subprocess.run(
            [str(GLOSSA), "extract", "--quiet", "--model", str(pickle_dir), "--out", str(Path(tmp) / "pickle"),
             "--k", str(K), "--head-k", str(HEAD_K)],
            check=True,
        )
        tables = lambda ds: {t["path"]: t["sha256"] for t in json.loads((ds / "manifest.json").read_text())["tables"]}
        assert tables(Path(tmp) / "pickle") == tables(Path(tmp) / "ds0"), "pickle and safetensors differ"
        print("pytorch_model.bin: tables identical to model.safetensors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
