"""`glossa query` answers SQL over a dataset's tables as DuckDB answers the
same SQL over the same Parquet files (issue 17).
"""

import csv
import io
import json
import math
import subprocess

import polars as pl
import pytest

import duckdb_views
from conftest import GLOSSA

FOOD = "('dieta', 'chleb', 'mleko', 'ser', 'mięso', 'zupa', 'obiad', 'jedzenie', 'owoce', 'warzywa')"

# Each query orders its rows completely, so both answers come in one order.
QUERIES = {
    "one neuron's top value list": """
        SELECT rank, token_id, token, score, z FROM neurons
        WHERE layer = 2 AND neuron = 17 AND side = 'value' AND polarity = 'top'
        ORDER BY rank""",
    "value neurons most specific to food words": f"""
        SELECT layer, neuron, count(*) AS food_tokens, sum(z) AS food_z FROM neurons
        WHERE side = 'value' AND polarity = 'top' AND layer BETWEEN 1 AND 3
          AND token IN {FOOD}
        GROUP BY layer, neuron
        ORDER BY food_z DESC, layer, neuron
        LIMIT 10""",
    "heads whose VO lists copy tokens": """
        SELECT h.layer, h.head, count(*) AS copied, s.copying_score
        FROM heads h
        JOIN head_summary s ON h.layer = s.layer AND h.head = s.head AND h.circuit = s.circuit
        WHERE h.circuit = 'vo' AND h.polarity = 'top' AND h.src_token_id = h.dst_token_id
        GROUP BY h.layer, h.head, s.copying_score
        ORDER BY copied DESC, h.layer, h.head""",
    "tokens that appear in most lists": """
        SELECT token_id, token, count(*) AS lists FROM neurons
        WHERE polarity = 'top'
        GROUP BY token_id, token
        ORDER BY lists DESC, token_id
        LIMIT 20""",
    "z against the summaries": """
        SELECT n.layer, n.neuron, n.side, n.rank, n.z, (n.score - s.mean) / s.std AS z_again
        FROM neurons n
        JOIN neuron_summary s ON n.layer = s.layer AND n.neuron = s.neuron AND n.side = s.side
        WHERE n.token = 'dieta' AND n.polarity = 'top'
        ORDER BY abs(n.z) DESC, n.layer, n.neuron, n.side
        LIMIT 15""",
    "lists per layer and side": """
        SELECT layer, side, count(DISTINCT neuron) AS neurons, avg(score) AS mean_score,
               min(z) AS least_z, max(z) AS most_z
        FROM neurons WHERE polarity = 'bottom'
        GROUP BY layer, side ORDER BY layer, side""",
    "words of a kind": """
        SELECT token_id, display, chars, word_initial FROM tokens
        WHERE display LIKE 'diet%' AND NOT special
        ORDER BY token_id""",
    "strongest QK pairs": """
        SELECT layer, head, src_token, dst_token, score FROM heads
        WHERE circuit = 'qk' AND polarity = 'top' AND rank = 1
        ORDER BY score DESC, layer, head""",
    "neurons whose key and value lists share tokens": """
        SELECT k.layer, k.neuron, count(*) AS shared
        FROM neurons k
        JOIN neurons v ON k.layer = v.layer AND k.neuron = v.neuron AND k.token_id = v.token_id
        WHERE k.side = 'key' AND v.side = 'value' AND k.polarity = 'top' AND v.polarity = 'top'
        GROUP BY k.layer, k.neuron
        ORDER BY shared DESC, k.layer, k.neuron
        LIMIT 10""",
    "each layer's strongest dieta value neuron": """
        SELECT layer, neuron, z FROM (
            SELECT layer, neuron, z,
                   row_number() OVER (PARTITION BY layer ORDER BY z DESC) AS r
            FROM neurons WHERE side = 'value' AND token = 'dieta')
        WHERE r = 1 ORDER BY layer""",
    "lists holding a form of a word": """
        SELECT side, polarity, count(*) AS entries FROM neurons
        WHERE token_id IN (SELECT token_id FROM tokens WHERE display LIKE 'diet%')
        GROUP BY side, polarity ORDER BY side, polarity""",
    "the most peaked neuron sides": """
        SELECT layer, neuron, list, kurtosis, entropy FROM unit_stats
        WHERE unit = 'neuron' ORDER BY kurtosis DESC, layer, neuron, list LIMIT 10""",
    "heads that copy, by their eigenvalues": """
        SELECT layer, head, copying_score, scores FROM unit_stats
        WHERE list = 'vo' ORDER BY copying_score DESC, layer, head""",
    "key-value overlap against the lists": """
        WITH k AS (SELECT layer, neuron, token_id FROM neurons WHERE side = 'key' AND polarity = 'top'),
             v AS (SELECT layer, neuron, token_id FROM neurons WHERE side = 'value' AND polarity = 'top'),
             shared AS (
                SELECT k.layer, k.neuron, count(*) AS shared FROM k
                JOIN v ON k.layer = v.layer AND k.neuron = v.neuron AND k.token_id = v.token_id
                GROUP BY k.layer, k.neuron)
        SELECT u.layer, u.neuron, u.value_overlap, coalesce(s.shared, 0) AS shared
        FROM unit_stats u LEFT JOIN shared s ON u.layer = s.layer AND u.neuron = s.neuron
        WHERE u.list = 'key'
        ORDER BY u.value_overlap DESC, u.layer, u.neuron LIMIT 12""",
    "heads by spread": """
        SELECT layer, head, circuit, pairs, std, frobenius_norm FROM head_summary
        WHERE std > 0 ORDER BY std DESC, layer, head, circuit LIMIT 8""",
}


def glossa(*args):
    return subprocess.run([str(GLOSSA), *args], capture_output=True, text=True)


def glossa_rows(dataset, sql):
    done = glossa("query", sql, "--data", str(dataset), "--format", "json")
    assert done.returncode == 0, done.stderr
    return [tuple(json.loads(line).values()) for line in done.stdout.splitlines()]


def duckdb_rows(dataset, sql):
    return duckdb_views.connect(dataset).execute(sql).fetchall()


def test_unit_stats_has_every_neuron_side_and_head_circuit(dataset):
    rows = glossa_rows(dataset, "SELECT unit, list, count(*) FROM unit_stats GROUP BY unit, list ORDER BY unit, list")
    manifest = json.loads((dataset / "manifest.json").read_text())
    shape = manifest["shape"]
    neurons, heads = shape["layers"] * shape["d_ff"], shape["layers"] * shape["heads"]
    assert rows == [("head", "qk", heads), ("head", "vo", heads), ("neuron", "key", neurons), ("neuron", "value", neurons)]


def same(a, b):
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-6)
    return a == b


@pytest.mark.parametrize("name", QUERIES)
def test_answers_equal_duckdbs(dataset, name):
    sql = QUERIES[name]
    got, want = glossa_rows(dataset, sql), duckdb_rows(dataset, sql)
    assert want, f"{name}: the query should find rows"
    assert len(got) == len(want), name
    for i, (g, w) in enumerate(zip(got, want)):
        assert len(g) == len(w), f"{name} row {i}: {g} vs {w}"
        assert all(same(x, y) for x, y in zip(g, w)), f"{name} row {i}: {g} vs {w}"


def test_csv_table_and_parquet_hold_the_same_answer(dataset, tmp_path):
    sql = QUERIES["tokens that appear in most lists"]
    want = duckdb_rows(dataset, sql)
    done = glossa("query", sql, "--data", str(dataset), "--format", "csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout)))
    assert rows[0] == ["token_id", "token", "lists"]
    assert [(int(a), b, int(c)) for a, b, c in rows[1:]] == want

    out = tmp_path / "answer.parquet"
    done = glossa("query", sql, "--data", str(dataset), "--out", str(out))
    assert done.returncode == 0, done.stderr
    frame = pl.read_parquet(out)
    assert frame.columns == ["token_id", "token", "lists"]
    assert frame.rows() == want
    assert frame.schema["token_id"] == pl.UInt32

    table = glossa("query", sql, "--data", str(dataset)).stdout.splitlines()
    assert table[0].split() == ["token_id", "token", "lists"]
    assert table[-1] == f"({len(want)} rows)"
    assert table[1].split() == [str(v) for v in want[0]]


@pytest.mark.parametrize(
    "sql, needle",
    [
        ("SELEC * FROM neurons", "SELEC"),
        ("SELECT * FROM neuronz", "neuronz"),
        ("SELECT nope FROM neurons", "nope"),
        ("SELECT * FROM neurons WHERE", "found: EOF"),
        ("", "statement"),
    ],
)
def test_bad_sql_is_an_error_that_names_the_problem(dataset, sql, needle):
    done = glossa("query", sql, "--data", str(dataset))
    assert done.returncode == 1, done.stderr
    assert needle in done.stderr, done.stderr
    assert "tables: tokens, neurons, neuron_summary, heads, head_summary, unit_stats" in done.stderr
    assert "panicked" not in done.stderr and done.stdout == ""


def test_parquet_needs_a_file(dataset):
    done = glossa("query", "SELECT 1", "--data", str(dataset), "--format", "parquet")
    assert done.returncode == 1
    assert "--out" in done.stderr


def test_value_overlap_counts_the_tokens_the_top_lists_share(dataset):
    sql = QUERIES["key-value overlap against the lists"].replace(" LIMIT 12", "")
    rows = glossa_rows(dataset, sql)
    manifest = json.loads((dataset / "manifest.json").read_text())
    assert len(rows) == manifest["shape"]["layers"] * manifest["shape"]["d_ff"]
    assert any(overlap > 0 for _, _, overlap, _ in rows)
    assert all(overlap == shared for _, _, overlap, shared in rows)
