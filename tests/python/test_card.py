"""A dataset directory is a Hugging Face dataset: its card (README.md)
declares one config per table, and `datasets` loads every config from the
directory, offline, with the columns the card documents (issue 17).
"""

import json
import os
import re

# Read by `datasets` when it is imported: nothing may be fetched.
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["HF_HUB_OFFLINE"] = "1"

import datasets  # noqa: E402
import pytest  # noqa: E402
import yaml  # noqa: E402

from conftest import MODEL, extract  # noqa: E402


@pytest.fixture(scope="module")
def with_token_list(tmp_path_factory):
    """A run restricted to a corpus, with connections: it also has
    token_list.parquet and connections/."""
    out = tmp_path_factory.mktemp("ds") / "listed"
    corpus = MODEL.parents[1] / "corpus" / "pl"
    return extract(
        out, "--token-list", str(corpus), "--k", "5", "--head-k", "5", "--connections", "3"
    )


def card(dataset):
    """The card's front matter (parsed) and its Markdown body."""
    text = (dataset / "README.md").read_text()
    _, front, body = text.split("---\n", 2)
    return yaml.safe_load(front), body


def documented_columns(body):
    """Config name -> the columns its section's table lists, in order."""
    columns, current = {}, None
    for line in body.splitlines():
        heading = re.fullmatch(r"### `(\w+)`", line)
        if heading:
            current = columns.setdefault(heading.group(1), [])
        cell = re.match(r"\| `(\w+)` \|", line)
        if cell and current is not None:
            current.append(cell.group(1))
    return columns


def kinds_in_manifest(dataset):
    """The table kinds the manifest lists: `neurons` of neurons/layer-000.parquet."""
    manifest = json.loads((dataset / "manifest.json").read_text())
    return {t["path"].split("/")[0].removesuffix(".parquet") for t in manifest["tables"]}


@pytest.mark.parametrize("which", ["dataset", "with_token_list"])
def test_every_config_loads_offline_with_the_documented_columns(request, which, tmp_path):
    dataset = request.getfixturevalue(which)
    front, body = card(dataset)
    manifest = json.loads((dataset / "manifest.json").read_text())
    configs = {c["config_name"]: c for c in front["configs"]}
    assert set(configs) == kinds_in_manifest(dataset)
    if which == "with_token_list":
        assert {"token_list", "connections"} <= set(configs)
    assert [c["config_name"] for c in front["configs"] if c.get("default")] == ["neurons"]
    columns = documented_columns(body)
    assert set(columns) == set(configs)
    for name in configs:
        table = datasets.load_dataset(str(dataset), name, split="train", cache_dir=str(tmp_path))
        assert table.column_names == columns[name], name
        assert table.num_rows == manifest["row_counts"][name], name


def test_the_card_names_the_model_and_its_licence(dataset):
    front, body = card(dataset)
    manifest = json.loads((dataset / "manifest.json").read_text())
    # The shipped model's own card declares Apache-2.0.
    assert front["license"] == manifest["license"] == "apache-2.0"
    assert front["glossa"]["model"] == manifest["model"]
    assert front["glossa"]["schema_version"] == manifest["schema_version"]
    assert manifest["card"]["path"] == "README.md"
    assert manifest["card"]["bytes"] == (dataset / "README.md").stat().st_size
    assert "| `z` | float32 |" in body


def test_load_dataset_reads_the_same_rows_as_polars(dataset, tmp_path):
    import polars as pl

    table = datasets.load_dataset(str(dataset), "neurons", split="train", cache_dir=str(tmp_path))
    got = pl.from_arrow(table.data.table).sort("layer", "neuron", "side", "polarity", "rank")
    want = pl.read_parquet(dataset / "neurons" / "*.parquet").sort(
        "layer", "neuron", "side", "polarity", "rank"
    )
    assert got.equals(want)
