"""Static checks of the notebooks: thin, parameterised, papermill-inspectable."""
import json
from pathlib import Path

import papermill as pm
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))


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
