"""What the Python tests share: the binary under test and the shipped
model's dataset, extracted once per session.

`GLOSSA` names the binary (the Makefile passes the one it built, under
`CARGO_TARGET_DIR` when that is set); else the debug build under target/.
"""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GLOSSA = Path(os.environ.get("GLOSSA", ROOT / "target" / "debug" / "glossa"))
MODEL = ROOT / "data" / "models" / "tiny-polish-gpt2"


def extract(out, *flags):
    """`glossa extract` of the shipped model into `out`, offline."""
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    subprocess.run(
        [str(GLOSSA), "extract", "--quiet", "--model", str(MODEL), "--out", str(out), *flags],
        check=True,
        env=env,
    )
    return out


@pytest.fixture(scope="session")
def dataset(tmp_path_factory):
    return extract(tmp_path_factory.mktemp("ds") / "tiny")
