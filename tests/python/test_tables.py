"""DuckDB and polars read Glossa's tables directly, as the README shows.

Runs the debug binary built by `make build` on the shipped model.
"""

import json

import duckdb
import polars as pl


def manifest(dataset):
    return json.loads((dataset / "manifest.json").read_text())


def test_duckdb_row_counts_match_manifest(dataset):
    counts = manifest(dataset)["row_counts"]
    con = duckdb.connect()
    neurons = con.execute(
        f"SELECT count(*) FROM read_parquet('{dataset}/neurons/*.parquet')"
    ).fetchone()[0]
    tokens = con.execute(
        f"SELECT count(*) FROM read_parquet('{dataset}/tokens.parquet')"
    ).fetchone()[0]
    assert (neurons, tokens) == (counts["neurons"], counts["tokens"])


def test_polars_row_counts_match_manifest(dataset):
    counts = manifest(dataset)["row_counts"]
    neurons = pl.scan_parquet(f"{dataset}/neurons/*.parquet").select(pl.len()).collect().item()
    tokens = pl.scan_parquet(f"{dataset}/tokens.parquet").select(pl.len()).collect().item()
    assert (neurons, tokens) == (counts["neurons"], counts["tokens"])
    per_file = {t["path"]: t["rows"] for t in manifest(dataset)["tables"]}
    for path, rows in per_file.items():
        assert pl.read_parquet(dataset / path).height == rows


def test_readme_query_finds_the_planted_neuron(dataset):
    rows = duckdb.sql(
        f"""
        SELECT rank, token, score
        FROM read_parquet('{dataset}/neurons/*.parquet')
        WHERE layer = 2 AND neuron = 17 AND side = 'value' AND polarity = 'top'
        ORDER BY rank
        LIMIT 5
        """
    ).fetchall()
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5]
    assert {r[1] for r in rows} == {"dieta", "diety", "dietą", "dietę", "diecie"}
    assert all(rows[i][2] >= rows[i + 1][2] for i in range(4))


def test_schema_types(dataset):
    schema = pl.scan_parquet(f"{dataset}/neurons/*.parquet").collect_schema()
    assert list(schema.names()) == [
        "layer", "neuron", "side", "polarity", "rank", "token_id", "token", "score", "z",
    ]
    assert schema["score"] == pl.Float32
    assert schema["z"] == pl.Float32
    assert schema["token"] == pl.String


def test_duckdb_z_is_the_score_against_its_lists_summary(dataset):
    # The README's join: every z from the neuron_summary and head_summary rows.
    con = duckdb.connect()
    worst = con.execute(
        f"""
        SELECT max(abs(n.z - (n.score - s.mean) / s.std))
        FROM read_parquet('{dataset}/neurons/*.parquet') n
        JOIN read_parquet('{dataset}/neuron_summary/*.parquet') s USING (layer, neuron, side)
        """
    ).fetchone()[0]
    assert worst < 1e-3
    heads = con.execute(
        f"""
        SELECT count(*), max(abs(h.z - (h.score - s.mean) / s.std))
        FROM read_parquet('{dataset}/heads/*.parquet') h
        JOIN read_parquet('{dataset}/head_summary.parquet') s USING (layer, head, circuit)
        """
    ).fetchone()
    assert heads[0] == manifest(dataset)["row_counts"]["heads"]
    assert heads[1] < 1e-3
    # The planted value neuron's dieta stands far out of its list.
    z = con.execute(
        f"""
        SELECT z FROM read_parquet('{dataset}/neurons/*.parquet')
        WHERE layer = 2 AND neuron = 17 AND side = 'value' AND token = 'dieta'
        """
    ).fetchone()[0]
    assert z > 10


def test_polish_tokens_read_correctly(dataset):
    tokens = pl.read_parquet(dataset / "tokens.parquet")
    displays = set(tokens["display"].to_list())
    for word in ["dietą", "łódź", "żółw"]:
        assert word in displays, word
    row = tokens.filter(pl.col("display") == "dietą").row(0, named=True)
    assert row["text"] == " dietą" and row["word_initial"]
    assert not any("\ufffd" in t for t in tokens["text"].to_list()), "no mojibake"
