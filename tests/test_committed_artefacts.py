"""Committed artefacts cannot run code when loaded, are refused when tampered with, and the
committed locomotion run is found complete under the current code's keys."""
import hashlib
import json
import shutil
import warnings

import pytest

from lib.bomrl import locomotion_study
from lib.cache import (
    MAGIC,
    MANIFEST,
    checkpoint_header,
    load_or_set_aside,
    read_manifest,
)
from lib.parallel import plan_jobs
from lib.paths import DATA, resume_dir
from lib.profiles import resolve

CHECKPOINTS = DATA / "full" / "11_locomotion" / "checkpoints"


def _is_pickle(path) -> bool:
    data = path.read_bytes()[:4096]
    header = checkpoint_header(data)
    if header is not None:
        return header.get("format", "pickle") == "pickle"
    return data[:1] == b"\x80" or path.suffix in (".pkl", ".pickle", ".pt", ".pth")


def test_no_committed_file_in_data_is_a_pickle():
    committed = [p for p in DATA.rglob("*") if p.is_file()
                 and not {"cache", "quick"} & set(p.relative_to(DATA).parts[:1])]
    assert committed, "data/full should hold the committed tables"
    assert [p for p in committed if _is_pickle(p)] == []


def test_the_committed_locomotion_run_is_complete_under_the_current_keys():
    cfg = resolve("locomotion", "full")
    jobs = locomotion_study.jobs(cfg, CHECKPOINTS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no checkpoint may be set aside
        keys, _, done = plan_jobs(locomotion_study.run_item, jobs, resume_dir("full", "11_locomotion"), portable=True)
    assert len(done) == len(keys) == 48


def test_a_tampered_committed_checkpoint_is_refused(tmp_path):
    src = sorted(CHECKPOINTS.glob("*.ckpt"))[0]
    folder = tmp_path / "ckpt"
    folder.mkdir()
    shutil.copy(src, folder / src.name)
    shutil.copy(CHECKPOINTS / MANIFEST, folder / MANIFEST)
    key = src.stem
    assert load_or_set_aside(folder / src.name, key, read_manifest(folder))[0]
    # change one value and re-sign the file's own header: only the manifest can tell
    data = (folder / src.name).read_bytes()
    head, payload = data[len(MAGIC):].split(b"\n", 1)
    payload = payload.replace(b'"iter"', b'"itex"', 1)
    header = json.loads(head)
    header.update(bytes=len(payload), sha256=hashlib.sha256(payload).hexdigest())
    (folder / src.name).write_bytes(MAGIC + json.dumps(header).encode() + b"\n" + payload)
    with pytest.warns(UserWarning, match="does not match its entry in MANIFEST.json"):
        ok, _ = load_or_set_aside(folder / src.name, key, read_manifest(folder))
    assert not ok and list(folder.glob("*.bad-*"))


def test_a_pickle_in_a_committed_folder_is_refused(tmp_path):
    from lib.cache import record_in_manifest, write_checkpoint

    path = tmp_path / "job.ckpt"
    write_checkpoint(path, "job", {"x": 1}, portable=False)  # a pickle payload
    record_in_manifest(tmp_path, [path])
    with pytest.warns(UserWarning, match="a pickle, refused"):
        assert load_or_set_aside(path, "job", read_manifest(tmp_path)) == (False, None)


@pytest.mark.parametrize("stage", ["11_locomotion", "13_bomrl_authors_locomotion"])
def test_every_entry_of_a_committed_checkpoint_manifest_names_a_file_that_exists(stage):
    folder = resume_dir("full", stage)
    missing = [name for name in read_manifest(folder) if not (folder / name).exists()]
    assert not missing, f"{len(missing)} manifest entries name no file, e.g. {missing[:3]}"
