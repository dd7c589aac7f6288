"""Re-key the committed locomotion checkpoints after a code change that does not alter them.

    python tools/rekey_locomotion.py            # dry run: what would be renamed (notebook 11)
    python tools/rekey_locomotion.py --write
    python tools/rekey_locomotion.py --stage 13 --write   # notebook 13's (the authors' protocol)
    python tools/rekey_locomotion.py --stage decisive      # its decisive pair (tools/run_decisive.py)

A checkpoint's key digests the code its job imports (:mod:`lib.cache`), so any edit of those
modules makes the committed runs of notebooks 11 and 13 (hours of compute) look stale. When a person
has checked that the edit does not change what an item computes (say, a new validation
message in ``lib/policies.py``), this tool rewrites each checkpoint under the key of the
current code: it matches a file by its item (family, method, seed index: the readable
label in front of the key), checks it (plain-pickle files of the first format and pickled
checkpoints are accepted here, once, from the repository's own history: run it only on
files you trust), and writes it with the new key in the committed format (JSON, no pickle),
recording every result's SHA-256 in the folder's ``MANIFEST.json``. Nothing is recomputed;
the numbers stay the same.
"""
from __future__ import annotations

import argparse
import pickle
import re
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from lib.numerics import pin  # noqa: E402

pin()
from lib.bomrl import locomotion_study  # noqa: E402
from lib.bomrl.methods import EARLIER  # noqa: E402
from lib.cache import (  # noqa: E402
    BadCheckpoint,
    checkpoint_header,
    read_checkpoint,
    prune_manifest,
    record_in_manifest,
    safe_label,
    write_checkpoint,  # noqa: E402
)
from lib.paths import resume_dir  # noqa: E402
from lib.profiles import resolve  # noqa: E402

# notebook -> (its config stage, its checkpoint folder, whether every item must have a file: a
# finished run; notebook 13's may be a run in progress)
STAGES = {"11": ("locomotion", "11_locomotion", True),
          "13": ("locomotion_authors", "13_bomrl_authors_locomotion", False),
          "decisive": ("decisive", "13_decisive", False)}  # notebook 13's decisive pair (tools/run_decisive.py)
# method labels of committed runs (current -> the earlier ones, lib.bomrl.methods.EARLIER); a
# re-keyed result file gets the current label in its ``method`` column
RENAMED = {}
for _old, _new in EARLIER.items():
    RENAMED.setdefault(_new, []).append(_old)


def _patterns(label: str, family: str, method: str, s: int, suffixes) -> list:
    """File names an item's checkpoint may have: the checked format under any code digest,
    or the first format ``<family>-<method>-<8 hex>-<s>-<sizes>``."""
    old = f"{family}-{method}".replace(" ", "_").replace("(", "").replace(")", "")
    ends = "(" + "|".join(re.escape(x) for x in suffixes) + ")"
    return [re.compile(rf"^{re.escape(safe_label(label))}-[0-9a-f]{{24}}{ends}$"),
            re.compile(rf"^{re.escape(old)}-[0-9a-f]{{8}}-{s}-.*{ends}$")]


def _load_any(path: Path):
    data = path.read_bytes()
    header = checkpoint_header(data)
    if header is not None:
        return read_checkpoint(path, header["key"], data=data)
    return pickle.loads(data)  # first format, committed by this repository's own runs


def relabel(obj, old: str, new: str):
    """``obj`` with every DataFrame's ``method`` column entry ``old`` replaced by ``new``
    (nested dicts and lists are walked; anything else is returned as it is)."""
    import pandas as pd

    if isinstance(obj, pd.DataFrame) and "method" in obj:
        return obj.assign(method=obj["method"].replace({old: new}))
    if isinstance(obj, dict):
        return {k: relabel(v, old, new) for k, v in obj.items()}
    if isinstance(obj, list):
        return [relabel(v, old, new) for v in obj]
    return obj


def plan(folder: Path, cfg, complete: bool = True) -> list[tuple[Path, Path, str, tuple | None]]:
    """``(old path, new path, new key, rename)`` for each file of the locomotion items of ``cfg`` that is not
    under its current key and format (results ``<key>.ckpt``, resumable state ``<key>.partial``,
    both JSON); ``rename`` is ``(earlier label, current label)`` for a file found under a label of
    :data:`RENAMED`, else None. Unless ``complete``, an item not started yet has no file and is
    passed over; a missing file of a ``complete`` run, or several candidates, stops."""
    moves = []
    for job in locomotion_study.jobs(cfg, folder):
        kw = job["kwargs"]
        key = Path(kw["partial"]).stem
        fam, method, s = kw["family"], kw["method_name"], kw["s"]
        for target_suffix, sources in ((".ckpt", (".pkl", ".ckpt")), (".partial", (".partial",))):
            target = folder / f"{key}{target_suffix}"
            if target.exists() and _is_json(target):
                continue
            pats = _patterns(job["label"], fam, method, s, sources)
            cands = [p for p in folder.iterdir() if any(pat.match(p.name) for pat in pats)]
            rename = None
            for earlier in RENAMED.get(method, []) if not cands else []:
                pats = _patterns(f"{fam}-{earlier}-{s}", fam, earlier, s, sources)
                cands = [p for p in folder.iterdir() if any(pat.match(p.name) for pat in pats)]
                if cands:
                    rename = (earlier, method)
                    break
            if not cands and not complete:
                continue  # a run in progress: this item has not written this file yet
            if len(cands) != 1:
                raise SystemExit(f"{fam} {method} seed {s}{target_suffix}: expected one checkpoint to re-key, "
                                 f"found {cands}")
            moves.append((cands[0], target, key, rename))
    return moves


def _same(a, b) -> bool:
    """Exact equality of checkpoint contents (frames, tensors, nested lists and dicts)."""
    import numpy as np
    import pandas as pd
    import torch

    if isinstance(a, pd.DataFrame):
        return isinstance(b, pd.DataFrame) and a.equals(b) and list(a.dtypes) == list(b.dtypes)
    if isinstance(a, np.ndarray):  # a resumable state's filter statistics
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b.detach())
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b or (a != a and b != b)  # NaN equals NaN here


def _is_json(path: Path) -> bool:
    return (checkpoint_header(path.read_bytes()) or {}).get("format") == "json"


def rekey(folder: Path, moves, write: bool = False) -> None:
    """Carry out ``moves`` of :func:`plan` (print them only, unless ``write``): each file is read,
    relabelled if its method was renamed, written under its new key, read back and compared, then
    the old one is removed."""
    for old, new, key, rename in moves:
        print(f"{old.name} -> {new.name}" + (f" (method {rename[0]!r} -> {rename[1]!r})" if rename else ""))
        if write:
            try:
                obj = _load_any(old)
            except (BadCheckpoint, pickle.UnpicklingError, EOFError) as err:
                raise SystemExit(f"{old}: cannot be re-keyed: {err}") from None
            if rename:
                obj = relabel(obj, *rename)
            write_checkpoint(new, key, obj, portable=True)
            if not _same(read_checkpoint(new, key, allow_pickle=False), obj):
                raise SystemExit(f"{new}: the re-keyed checkpoint does not read back equal to {old}")
            if old != new:
                old.unlink()
    if write:
        record_in_manifest(folder, sorted(folder.glob("*.ckpt")))
        gone = prune_manifest(folder)
        print(f"{len(gone)} manifest entries of files that no longer exist removed")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="rewrite the files (default: dry run)")
    parser.add_argument("--stage", default="11", choices=sorted(STAGES), help="notebook whose checkpoints to re-key")
    parser.add_argument("--methods", nargs="+", default=None,
                        help="re-key these methods' items only (a method whose numbers the edit changed must run again)")
    args = parser.parse_args(argv)
    stage, name, complete = STAGES[args.stage]
    folder = resume_dir("full", name)
    cfg = (locomotion_study.decisive_config(resolve("locomotion_authors", "full")) if stage == "decisive"
           else resolve(stage, "full"))
    if args.methods:
        cfg = replace(cfg, methods=tuple(args.methods))
    moves = plan(folder, cfg, complete)
    rekey(folder, moves, args.write)
    print(f"{len(moves)} files {'re-keyed' if args.write else 'to re-key (dry run)'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
