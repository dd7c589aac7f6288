"""fidelity/import_authors_locomotion.py on a small git repository laid out as the authors' is."""
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.helpers import load_script

ROOT = Path(__file__).resolve().parent.parent
tool = load_script("fidelity/import_authors_locomotion.py")


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """A git repository with every file the tool reads: logs whose return is ``iter + method id``,
    result files of four values (one written with spaces after the commas, as some of theirs are)."""
    work = tmp_path_factory.mktemp("authors")
    results = work / "BOMRL_new" / "results"
    results.mkdir(parents=True)
    for short in tool.FAMILIES:
        for j, key in enumerate(tool.LOG_METHODS):
            rows = "\n".join(f"{i},{i + j}.5" for i in range(12))
            (results / f"training_log_HalfCheetah_{short}_{key}.csv").write_text(rows + "\n")
        stem = "result_cheetah" if short == "vel" else "result_cheetah_dir"
        for j, key in enumerate(tool.RESULT_METHODS):
            (results / f"{stem}_{key}.csv").write_text(", ".join(str(10 * j + s) for s in range(4)))
    git = ["git", "-C", str(work), "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    subprocess.run(git + ["add", "."], check=True)
    subprocess.run(git + ["commit", "-qm", "x"], check=True)
    return work / ".git"


def test_logs_keep_every_line_with_its_source(repo):
    commit = tool.head_commit(repo)
    logs = tool.logs(repo, commit)
    assert len(logs) == 2 * 4 * 12 and set(logs.commit) == {commit} and len(commit) == 40
    one = logs[(logs.family == "halfcheetah-dir") & (logs.method == "Alg(3)")]
    np.testing.assert_array_equal(one["iter"], np.arange(12))
    np.testing.assert_allclose(one.ret, np.arange(12) + 2.5)
    assert set(one.path) == {"BOMRL_new/results/training_log_HalfCheetah_dir_3.csv"}


def test_results_carry_graph_py_factor(repo):
    res = tool.results(repo, tool.head_commit(repo))
    assert len(res) == 2 * 6 * 4
    scaled = res[(res.family == "halfcheetah-dir") & (res.method == "Alg(2)")]
    np.testing.assert_allclose(scaled.plotted, scaled.value * 0.75)
    plain = res[(res.family == "halfcheetah-vel") & (res.method == "E-MAML")].sort_values("step")
    assert plain.value.tolist() == [50.0, 51.0, 52.0, 53.0] and (plain.plot_factor == 1.0).all()


def test_committed_files_are_what_the_tool_writes_from_their_commit():
    """The committed tables name one commit of the figure repository and every file the tool reads."""
    logs = pd.read_csv(ROOT / "data" / "external" / "bomrl_authors_locomotion_logs.csv")
    res = pd.read_csv(ROOT / "data" / "external" / "bomrl_authors_locomotion_results.csv")
    assert set(logs.repository) == set(res.repository) == {tool.FIGURES_REPOSITORY}
    assert logs.commit.nunique() == res.commit.nunique() == 1 and logs.commit[0] == res.commit[0]
    assert logs.path.nunique() == 8 and res.path.nunique() == 12
