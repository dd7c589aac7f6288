"""environment.yml, pyproject.toml and the Makefile describe one environment."""
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _yml():
    """(conda dependencies, pip dependencies) of environment.yml (a flat two-level list)."""
    conda, pip, in_pip = [], [], False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        item = re.match(r"^(\s*)- (.+?)\s*$", line.split("#")[0])
        if not item:
            continue
        if item[2] == "pip:":
            in_pip = True
        elif len(item[1]) > 2 and in_pip:
            pip.append(item[2])
        else:
            conda.append(item[2])
    return conda, pip


def test_environment_yml_installs_the_project_with_the_makefiles_torch():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    conda, pip = _yml()
    torch_pin = re.search(r"^TORCH := (\S+)$", (ROOT / "Makefile").read_text(), re.M)[1]
    assert torch_pin in pip and "-e .[dev]" in pip
    assert "dev" in project["optional-dependencies"]
    version = re.search(r"torch>=([\d.]+),<([\d.]+)", " ".join(project["dependencies"]))
    pinned = tuple(int(v) for v in torch_pin.split("==")[1].split(".")[:2])
    assert tuple(map(int, version[1].split("."))) <= pinned < tuple(map(int, version[2].split(".")))
    py = next(c for c in conda if c.startswith("python="))
    assert project["requires-python"] == f">={py.split('=')[1]},<3.{int(py.split('.')[1]) + 1}"
    # conda installs only what pip cannot (python, pip, make); every Python package comes from pyproject
    names = {re.split(r"[<>=\[ ]", d)[0].lower() for d in project["dependencies"]}
    assert not {re.split(r"[<>= ]", c)[0].lower() for c in conda} & names


def test_the_licences_and_the_citation_are_stated():
    """LICENSE grants the code under MIT and the text, figures and tables under CC-BY-4.0; pyproject says so;
    CITATION.cff (validated by cffconvert in `make citation`, part of `make test`) lists both papers."""
    import yaml

    licence = (ROOT / "LICENSE").read_text()
    assert licence.startswith("MIT License") and "CC-BY-4.0" in licence and "data/external/README.md" in licence
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "MIT" in project["license"]["text"] and "CC-BY-4.0" in project["license"]["text"]
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["license"] == "MIT" and cff["version"] == project["version"]
    titles = [r["title"] for r in cff["references"]]
    assert titles[0] == "Trust Region Meta Learning for Policy Optimization" and "Universal Policy Adaptation" in titles[1]
    assert (ROOT / "data" / "external" / "README.md").exists()
    assert "citation" in re.search(r"^test:(.*)$", (ROOT / "Makefile").read_text(), re.M)[1]


def test_the_binder_setup_installs_the_cpu_build_of_the_pinned_torch_then_the_study():
    """repo2docker reads binder/: Python 3.11, torch from PyTorch's CPU index at the Makefile's version,
    then the study with its notebook extra (postBuild, executable)."""
    binder = ROOT / "binder"
    assert (binder / "runtime.txt").read_text().strip() == "python-3.11"
    lines = [ln.strip() for ln in (binder / "requirements.txt").read_text().splitlines()
             if ln.strip() and not ln.startswith("#")]
    torch_pin = re.search(r"^TORCH := torch==(\S+)$", (ROOT / "Makefile").read_text(), re.M)[1]
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in lines and f"torch=={torch_pin}+cpu" in lines
    post = binder / "postBuild"
    assert post.stat().st_mode & 0o111 and 'pip install --no-cache-dir -e ".[notebooks]"' in post.read_text()
