"""A dataset's tables as DuckDB views under the names `glossa query` gives
them, and the view `unit_stats` written again for DuckDB as the README gives
it: the reference the SQL answers are compared with."""

import duckdb

UNIT_STATS = """
    CREATE VIEW unit_stats AS
    SELECT 'neuron' AS unit, layer, neuron::INT AS neuron, NULL::INT AS head, side AS list,
           tokens::BIGINT AS scores, mean, std, kurtosis, entropy,
           value_overlap::INT AS value_overlap, NULL::DOUBLE AS copying_score
    FROM neuron_summary
    UNION ALL
    SELECT 'head', layer, NULL, head, circuit, pairs, mean, std, NULL, NULL, NULL, copying_score
    FROM head_summary"""


def connect(dataset):
    """A DuckDB connection with every table of `dataset` as a view."""
    con = duckdb.connect()
    for kind in ("neurons", "neuron_summary", "heads", "connections"):
        if (dataset / kind).is_dir():
            con.execute(f"CREATE VIEW {kind} AS SELECT * FROM read_parquet('{dataset}/{kind}/*.parquet')")
    for kind in ("tokens", "head_summary", "token_list"):
        if (dataset / f"{kind}.parquet").is_file():
            con.execute(f"CREATE VIEW {kind} AS SELECT * FROM read_parquet('{dataset}/{kind}.parquet')")
    con.execute(UNIT_STATS)
    return con
