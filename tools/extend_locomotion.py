"""Continue finished locomotion items to more meta-iterations, from their committed state.

    python tools/extend_locomotion.py --to-iters 500 --checkpoints 0 40 80 120 250 500 \
        --methods "Alg(1)" --out data/full/13_decisive/checkpoints          # dry run
    python tools/extend_locomotion.py ... --write

An item's key digests its config, ``n_iters`` and ``checkpoints`` included, so a 500-iteration run
does not find the committed 120-iteration items of notebook 13 by itself. This tool reads each
selected item's resumable state (``<key>.partial``: policy, observation filter, history and
meta-tests after its last iteration) and writes it, unchanged, as the resumable state of the same
item under the longer config's key in ``--out``; running that config (``locomotion_study.run_all``
or ``run_item``) then goes on from the next iteration. Every random draw derives from ``(seed,
family, seed index, iteration, phase)``, so the continuation equals an uninterrupted run as long as
the code path is unchanged (``tests/test_extend_locomotion.py`` checks it for 2 iterations) and the
longer config meta-tests at the same iterations up to the old end (checked here).
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from lib.numerics import pin  # noqa: E402

pin()
from lib.bomrl import locomotion_study  # noqa: E402
from lib.bomrl.locomotion_study import per_family  # noqa: E402
from lib.cache import read_checkpoint, record_in_manifest, write_checkpoint  # noqa: E402
from lib.paths import resume_dir  # noqa: E402
from lib.profiles import resolve  # noqa: E402

STAGES = {"11": ("locomotion", "11_locomotion"), "13": ("locomotion_authors", "13_bomrl_authors_locomotion")}


def longer(cfg, to_iters: int, checkpoints) -> object:
    """``cfg`` with every family trained to ``to_iters`` and meta-tested at ``checkpoints``."""
    if isinstance(cfg.n_iters, dict):
        return replace(cfg, n_iters=dict.fromkeys(cfg.n_iters, to_iters),
                       checkpoints=dict.fromkeys(cfg.checkpoints, tuple(checkpoints)))
    return replace(cfg, n_iters=to_iters, checkpoints=tuple(checkpoints))


def plan(src: Path, cfg, new_cfg, dst: Path, items=None) -> list[tuple[Path, Path]]:
    """``(state file under cfg, state file under new_cfg)`` per item (``items``: (family, method, seed)
    triples to keep, or all). Raises a ValueError naming an item whose state is missing or not at its
    last iteration, or a longer config that meta-tests elsewhere before the old end."""
    new_jobs = {(j["kwargs"]["family"], j["kwargs"]["method_name"], j["kwargs"]["s"]): j
                for j in locomotion_study.jobs(new_cfg, dst)}
    moves = []
    for job in locomotion_study.jobs(cfg, src):
        kw = job["kwargs"]
        item = (kw["family"], kw["method_name"], kw["s"])
        if items is not None and item not in items:
            continue
        old_end = per_family(cfg.n_iters, item[0])
        old = [k for k in per_family(cfg.checkpoints, item[0]) if k <= old_end]
        new = [k for k in per_family(new_cfg.checkpoints, item[0]) if k <= old_end]
        if old != new or per_family(new_cfg.n_iters, item[0]) <= old_end:
            raise ValueError(f"{item}: the longer config must run past {old_end} and meta-test at {old} up to it, "
                             f"got n_iters {per_family(new_cfg.n_iters, item[0])} and checkpoints {new}")
        state_path = Path(kw["partial"])
        if not state_path.exists():
            raise ValueError(f"{item}: no resumable state {state_path.name} in {src}")
        it = read_checkpoint(state_path, state_path.stem, allow_pickle=False)["it"]
        if it != old_end:
            raise ValueError(f"{item}: its state is at iteration {it}, not at the end of its run ({old_end})")
        moves.append((state_path, Path(new_jobs[item]["kwargs"]["partial"])))
    return moves


def extend(moves, write: bool = False) -> None:
    """Copy each state under its new key; print only unless ``write``."""
    for old, new in moves:
        state = read_checkpoint(old, old.stem, allow_pickle=False)
        print(f"{old.name} (iteration {state['it']}) -> {new.name}")
        if write:
            new.parent.mkdir(parents=True, exist_ok=True)
            write_checkpoint(new, new.stem, state, portable=True)
    if write and moves:
        record_in_manifest(moves[0][1].parent, sorted(moves[0][1].parent.glob("*.partial")))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", default="13", choices=sorted(STAGES))
    parser.add_argument("--to-iters", type=int, required=True)
    parser.add_argument("--checkpoints", type=int, nargs="+", required=True)
    parser.add_argument("--methods", nargs="+", default=None, help="methods to extend (default: all)")
    parser.add_argument("--out", type=Path, required=True, help="folder of the longer run's checkpoints")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    stage, name = STAGES[args.stage]
    cfg = resolve(stage, "full")
    new_cfg = longer(cfg, args.to_iters, args.checkpoints)
    new_cfg = new_cfg if args.methods is None else replace(new_cfg, methods=tuple(args.methods))
    items = {(f, m, s) for f in cfg.families for m in new_cfg.methods for s in range(cfg.n_seeds)}
    moves = plan(resume_dir("full", name), cfg, new_cfg, args.out, items)
    extend(moves, args.write)
    print(f"{len(moves)} items {'extended' if args.write else 'to extend (dry run)'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
