"""Tables and manifests: checksums, machine and git state, the journalled table/manifest pair."""
import json
import os
import stat

import pandas as pd
import pytest

from lib.io import (
    _pending,
    load_table,
    manifest_path,
    recover_table,
    save_table,
    sha256,
)


def test_save_table_writes_manifest_with_checksum_machine_and_git_state(tmp_path):
    df = pd.DataFrame({"a": [1, 2], "b": [0.1, 1 / 3]})
    path = save_table(df, tmp_path / "t.csv", params={"seed": 3})
    manifest = json.loads((tmp_path / "t.manifest.json").read_text())
    assert manifest["sha256"] == sha256(path) and manifest["rows"] == 2
    assert manifest["params"]["seed"] == 3 and "commit" in manifest and manifest["dirty"] in (True, False, None)
    machine = manifest["machine"]
    assert machine["cpu"] and machine["torch_cpu_capability"] and machine["blas"]
    assert {"python", "numpy", "scipy", "torch", "scikit-learn", "mujoco"} <= set(manifest["versions"])
    back = load_table(path)
    assert abs(back.b[1] - 1 / 3) < 1e-9


def test_files_get_the_umask_mode_not_0600(tmp_path):
    old = os.umask(0o022)
    try:
        path = save_table(pd.DataFrame({"a": [1]}), tmp_path / "t.csv")
    finally:
        os.umask(old)
    for p in (path, manifest_path(path)):
        assert stat.S_IMODE(p.stat().st_mode) == 0o644


def test_a_kill_between_table_and_manifest_is_repaired(tmp_path):
    """Simulate each point where a kill can stop save_table; every state is repaired."""
    path = tmp_path / "t.csv"
    save_table(pd.DataFrame({"a": [1]}), path)
    old_manifest = manifest_path(path).read_text()
    # kill after the pending manifest, before the CSV: the old pair stays, the pending one goes
    save_table(pd.DataFrame({"a": [2]}), path)
    new_csv, new_manifest = path.read_bytes(), manifest_path(path).read_text()
    path.write_bytes(b"a\n1\n"), manifest_path(path).write_text(old_manifest)
    _pending(path).write_text(new_manifest)
    recover_table(path)
    assert not _pending(path).exists() and load_table(path).a.tolist() == [1]
    # kill after the CSV, before the manifest: rolled forward to the new pair
    path.write_bytes(new_csv)
    _pending(path).write_text(new_manifest)
    assert load_table(path).a.tolist() == [2]
    assert manifest_path(path).read_text() == new_manifest and not _pending(path).exists()


def test_load_table_names_a_missing_or_changed_table(tmp_path):
    with pytest.raises(FileNotFoundError, match="t.csv"):
        load_table(tmp_path / "t.csv")
    path = save_table(pd.DataFrame({"a": [1]}), tmp_path / "t.csv")
    path.write_text("a\n7\n")
    with pytest.raises(ValueError, match="checksum"):
        load_table(path)


def test_a_manifest_pins_the_code_of_the_module_that_wrote_it(tmp_path):
    """``code`` names the lib module that asked for the table and its job-key fingerprint; a table a
    notebook writes directly pins the whole library."""
    from lib.cache import code_fingerprint
    from lib.io import code_state, save_tables
    from lib.trust_region_meta import figures

    save_tables(tmp_path, {"seed": 0}, t=pd.DataFrame({"a": [1]}))
    direct = json.loads((tmp_path / "t.manifest.json").read_text())["code"]
    assert direct["module"] == "lib" and len(direct["fingerprint"]) == 64 and direct["dirty"] in (True, False, None)
    # a table written from inside lib.trust_region_meta.figures pins that module's code closure
    figures_state = code_state("lib.trust_region_meta.figures")
    assert figures_state["fingerprint"] == code_fingerprint("lib.trust_region_meta.figures") != direct["fingerprint"]
    assert figures.save_table is save_table  # the figure tables go through save_table: producer() sees figures


def test_dirty_looks_at_code_paths_only(tmp_path, monkeypatch):
    """A run's own writes under data/ do not make its tables look dirty: git status is asked about CODE_PATHS."""
    import lib.io as io

    calls = []

    class Done:
        returncode, stdout = 0, ""

    monkeypatch.setattr(io.subprocess, "run", lambda args, **kw: calls.append(args) or Done())
    assert io.git_state()["dirty"] is False
    status = [a for a in calls if "status" in a][0]
    assert status[status.index("--") + 1:] == list(io.CODE_PATHS) and "data" not in io.CODE_PATHS


def test_the_blas_entries_of_a_manifest_come_in_a_stable_order(monkeypatch):
    """threadpoolctl lists libraries in load order, which varies between runs; the manifest sorts them."""
    import threadpoolctl

    from lib.numerics import describe

    libs = [dict(internal_api="openblas", version="0.3", architecture="Haswell", threading_layer="pthreads",
                 num_threads=1),
            dict(internal_api="mkl", version="2024", architecture=None, threading_layer="intel", num_threads=1)]
    monkeypatch.setattr(threadpoolctl, "threadpool_info", lambda: list(libs))
    first = describe()["blas"]
    monkeypatch.setattr(threadpoolctl, "threadpool_info", lambda: list(reversed(libs)))
    assert describe()["blas"] == first and [d["internal_api"] for d in first] == ["mkl", "openblas"]


def test_the_temp_file_of_a_killed_writer_is_removed_on_the_next_write(tmp_path):
    import subprocess
    import sys

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a process that no longer runs
    stale = tmp_path / f".t.csv.{dead.pid}.0123abcd.tmp"
    live = tmp_path / f".u.csv.{os.getpid()}.0123abcd.tmp"  # a live writer's temp file stays
    stale.write_bytes(b"half a table")
    live.write_bytes(b"being written")
    save_table(pd.DataFrame({"a": [1]}), tmp_path / "t.csv")
    assert not stale.exists() and live.exists()


def test_an_adopted_manifest_says_what_is_not_known(tmp_path):
    from lib.io import adopt_table

    path = tmp_path / "old.csv"
    pd.DataFrame({"a": [1.5, 2.5]}).to_csv(path, index=False)
    manifest = json.loads(adopt_table(path, "fidelity/x.py", "abc123").read_text())
    assert manifest["sha256"] == sha256(path) and manifest["commit"] == "abc123" and manifest["rows"] == 2
    assert manifest["code"] is None and manifest["machine"] is None and "adopted" in manifest["params"]
    assert load_table(path).a.tolist() == [1.5, 2.5]
    with pytest.raises(ValueError, match="already has a manifest"):
        adopt_table(path, "fidelity/x.py", "abc123")
