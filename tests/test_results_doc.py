"""docs/results.md and the README's verdict table are what the committed full-profile tables say."""
import subprocess
import sys
from pathlib import Path

import pytest
from tests.helpers import load_script

ROOT = Path(__file__).resolve().parent.parent


def test_the_results_and_the_readme_verdicts_match_the_committed_tables():
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "write_results.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_readme_is_a_front_page():
    text = (ROOT / "README.md").read_text()
    assert len(text.encode()) <= 10 * 1024, f"README.md is {len(text.encode())} bytes (at most 10 KB)"
    assert "](../" not in text and "../shared" not in text, "no links outside the repository"
    # that each link resolves: test_every_relative_link_of_the_docs_resolves


def test_every_relative_link_of_the_docs_resolves():
    for doc in [ROOT / "README.md", ROOT / "data" / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        text = doc.read_text()
        for target in [t.split(")")[0].split("#")[0] for t in text.split("](")[1:]]:
            if target and not target.startswith(("http", "mailto:")):
                assert (doc.parent / target).exists(), f"{doc.relative_to(ROOT)} links to a missing {target}"


def test_data_readme_names_every_committed_table():
    """By name, or by a pattern such as `<env>_m<m>.csv` (each ``<...>`` stands for a part of a name)."""
    import re
    text = (ROOT / "data" / "README.md").read_text()
    patterns = [re.compile("^" + re.sub(r"<[^>]+>", "[^/]+", re.escape(name).replace(r"\<", "<").replace(r"\>", ">")) + "$")
                for name in re.findall(r"`([^`]*<[^`]+>[^`]*\.csv)`", text)]
    tables = sorted(p for p in (ROOT / "data" / "full").rglob("*.csv") if "checkpoints" not in p.parts)
    missing = [str(p.relative_to(ROOT)) for p in tables if f"`{p.name}`" not in text
               and not any(pat.match(p.name) for pat in patterns)]
    assert not missing, f"data/README.md does not describe {missing}"


def test_the_readme_full_times_are_the_timings_file_with_its_cache_state():
    """The "full" column is rendered from docs/full/timings.json (test_results_doc's --check keeps them
    equal); a resumed run names its checkpoints and the core-hours its items hold."""
    import json

    tool = load_script("tools/write_results.py")
    timings = json.loads(tool.TIMINGS.read_text())
    assert {e["cache"] for e in timings.values()} <= set(tool.CACHE_STATES)
    readme = tool.README.read_text()
    for name, entry in timings.items():
        assert f"| {tool.full_time(name.removesuffix('.ipynb'), entry)} |" in readme, name
    assert tool.full_time("x", dict(seconds=5400.0, cache="empty")) == "1.5 h"
    with pytest.raises(ValueError, match="cache must be one of"):
        tool.full_time("x", dict(seconds=1.0, cache="warm"))


def test_the_performance_page_tables_match_the_committed_benchmarks():
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "write_performance.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_changed_benchmark_changes_its_rendered_table(tmp_path):
    """The page is rendered from the CSVs, not kept by hand: another measurement gives another table."""
    from lib.io import load_table, save_table
    wp = load_script("tools/write_performance.py")
    for name in wp.RENDER:
        t = load_table(wp.BENCH / name)
        save_table(t, tmp_path / name, params=dict(seed=0))
    text = wp.DOC.read_text()
    assert wp.render(text, tmp_path) == text
    t = load_table(wp.BENCH / "collection_levers.csv")
    save_table(t.assign(cpu_s_on=t.cpu_s_on * 2, ratio_on_off=t.ratio_on_off * 2), tmp_path / "collection_levers.csv",
               params=dict(seed=0))
    changed = wp.render(text, tmp_path)
    assert changed != text and f"{2 * t.ratio_on_off.iloc[0]:.3f}" in changed
    with pytest.raises(ValueError, match="no renderer"):
        wp.render("<!-- table other.csv (tools/write_performance.py) -->\n<!-- /table -->", tmp_path)
