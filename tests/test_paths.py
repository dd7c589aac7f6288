import pytest

from lib import paths


def test_resume_dir_quick_is_gitignored_cache():
    assert paths.resume_dir("quick", "zz_test") == paths.cache_dir("quick", "zz_test")


def test_resume_dir_full_is_committed_under_data_full(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "DATA", tmp_path)
    got = paths.resume_dir("full", "11_locomotion")
    assert got == tmp_path / "full" / "11_locomotion" / "checkpoints" and got.is_dir()


def test_resume_dir_rejects_unknown_profile():
    with pytest.raises(ValueError):
        paths.resume_dir("medium", "11_locomotion")


def test_a_notebook_run_too_early_names_the_notebooks_to_run_first(tmp_path, monkeypatch):
    from lib import paths

    monkeypatch.setattr(paths, "DATA", tmp_path)
    (tmp_path / "quick" / "04_meta_dataset").mkdir(parents=True)
    (tmp_path / "quick" / "04_meta_dataset" / "cartpole.csv").write_text("x\n")
    with pytest.raises(FileNotFoundError, match=r"run notebook\(s\) 05_fqi_validation first .*--only 05$"):
        paths.require("quick", "05_fqi_validation/chosen.csv", "04_meta_dataset/cartpole.csv")
    paths.require("quick", "04_meta_dataset/cartpole.csv")  # present: no error


def test_full_figures_are_committed_and_quick_ones_are_not(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "FIGURES", tmp_path / "figures")
    monkeypatch.setattr(paths, "DATA", tmp_path / "data")
    assert paths.figure_path("full", "f") == tmp_path / "figures" / "f.png"
    assert paths.figure_path("quick", "f") == tmp_path / "figures" / "quick" / "f.png"
    assert paths.data_dir("full", "02_x") == tmp_path / "data" / "full" / "02_x"
    assert paths.data_dir("quick", "02_x").is_dir()
    ignored = (paths.ROOT / ".gitignore").read_text().split()
    assert {"data/quick/", "data/cache/", "figures/quick/"} <= set(ignored)
