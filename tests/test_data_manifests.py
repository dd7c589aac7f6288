"""Every committed full-profile table matches the sha256 recorded in its manifest."""
import json
from pathlib import Path

import pytest

from lib.io import sha256
from lib.paths import DATA

MANIFESTS = sorted((DATA / "full").rglob("*.manifest.json"))


@pytest.mark.parametrize("manifest", MANIFESTS, ids=lambda p: str(p.relative_to(DATA)))
def test_table_matches_manifest(manifest: Path):
    info = json.loads(manifest.read_text())
    table = manifest.with_name(info["file"])
    assert table.exists(), f"{table} listed in its manifest is missing"
    assert sha256(table) == info["sha256"], f"{table} changed after its manifest was written"
    assert info["params"].get("profile", "full") == "full"
    assert "seed" in info["params"]
