"""Static checks of the notebooks: thin, parameterised, papermill-inspectable."""
import json
from pathlib import Path

import papermill as pm
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MAX_CODE_LINES = 40  # a notebook is a thin chapter: the logic lives in lib/


def code_lines(nb: dict) -> int:
    """Non-blank, non-comment lines of the notebook's code cells."""
    return sum(1 for c in nb["cells"] if c["cell_type"] == "code" for line in "".join(c["source"]).splitlines()
               if line.strip() and not line.strip().startswith("#"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_a_thin_chapter_with_its_imports_in_one_cell(path):
    nb = json.loads(path.read_text())
    assert code_lines(nb) <= MAX_CODE_LINES, f"{code_lines(nb)} code lines (at most {MAX_CODE_LINES}): move logic to lib/"
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    with_imports = [i for i, c in enumerate(code)
                    if any(line.startswith(("import ", "from ")) for line in "".join(c["source"]).splitlines())]
    assert with_imports == [1], f"imports belong in the set-up cell after the parameters (found in code cells {with_imports})"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_thin_and_parameterised(path):
    nb = json.loads(path.read_text())
    cells = nb["cells"]
    tags = [c.get("metadata", {}).get("tags", []) for c in cells]
    params = [c for c, t in zip(cells, tags) if "parameters" in t]
    assert len(params) == 1, "exactly one cell tagged 'parameters'"
    names = {line.split(":")[0].strip() for line in "".join(params[0]["source"]).splitlines()
             if line.strip() and not line.startswith("#")}
    assert set(pm.inspect_notebook(str(path))) == names, "papermill must parse every parameter"
    assert "profile" in names and "seed" in names
    assert any("nbval-check-output" in t for t in tags), "a check cell compared by nbval"
    for c in cells:
        src = "".join(c["source"])
        if c["cell_type"] == "code":
            assert "\ndef " not in "\n" + src and "\nclass " not in "\n" + src, "logic belongs in lib/"
            assert "/work/" not in src and "/home/" not in src, "no absolute paths"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    # what JupyterLab writes for ipykernel's kernel, so opening and saving changes nothing
    assert nb["metadata"]["kernelspec"]["display_name"] == "Python 3 (ipykernel)"
    assert "widgets" not in nb["metadata"]
    first = next(c for c in nb["cells"] if c["cell_type"] == "markdown")
    assert "The outputs saved in this notebook are the quick profile" in "".join(first["source"]), \
        "the first cell says that the saved numbers are smoke-test sizes and links the full-profile tables"
    assert not any("injected-parameters" in t for t in tags), "commit notebooks run without -p"


def test_runner_knows_the_stage_of_every_notebook():
    """The runner checks parameters with ``NOTEBOOK_STAGES[prefix]``: it must name the stage the
    notebook itself resolves (a renumbering once left 11 without one, and ``make reproduce`` stopped)."""
    import re

    from lib.profiles import NOTEBOOK_STAGES
    for path in NOTEBOOKS:
        src = "".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"])
        stage = re.search(r'profiles\.from_notebook\("([a-z_]+)"', src).group(1)
        assert NOTEBOOK_STAGES.get(path.name[:2]) == stage, path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_relative_link_of_a_notebook_resolves(path):
    """A notebook's markdown links to files and folders of the repository that exist (no stale
    pointers such as a README section that was removed)."""
    nb = json.loads(path.read_text())
    text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    for target in [t.split(")")[0].split("#")[0] for t in text.split("](")[1:]]:
        if target and not target.startswith(("http", "mailto:")):
            assert (path.parent / target).exists(), f"{path.name} links to a missing {target}"
    assert "Figures table" not in text, "the README has no Figures table"


def test_each_executed_full_notebook_says_it_holds_the_full_profile():
    """The runner replaces a notebook's quick-profile note in a full copy (tools/run_notebooks.py);
    docs/full/ must not tell a reader its outputs are the quick profile."""
    import sys

    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root / "tools"))
    from run_notebooks import QUICK_NOTE, full_note

    for path in sorted((root / "docs" / "full").glob("*.ipynb")):
        text = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "markdown")
        assert QUICK_NOTE not in text and full_note(path.stem) in text, path.name
