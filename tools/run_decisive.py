"""Issue 37's decisive pair at the paper's budget: Alg(1) and the authors' MAML-TRPO, both
Half-cheetah families, seeds 0-2, to 500 meta-iterations, with the authors' best-so-far selection
beside the last iterate.

    python tools/run_decisive.py --workers 1     # start or resume (each item checkpoints every iteration)
    python tools/run_decisive.py --status        # where it stands, and the projected time left
    python tools/run_decisive.py --methods "Alg(1)" --families halfcheetah-dir   # a subset: one process each
    python tools/run_decisive.py --methods "Alg(1)" --families halfcheetah-dir --seeds 1   # one item

A process locks each (method, family, seed) it runs: a second one on the same machine and folder whose
filter overlaps stops with a message instead of computing the same items again. The filters do not
change an item's key, so processes with different filters complete one run between them.

The config is :func:`lib.bomrl.locomotion_study.decisive_config` (notebook 13's full profile trained to
500 meta-iterations, the authors' evaluation after every outer step past iteration 120). Alg(1)'s
seeds 0 and 1 start from notebook 13's committed states at iteration 120
(:mod:`tools.extend_locomotion`: a continued item equals an uninterrupted run); seed 2 and the
authors' MAML-TRPO start from iteration 0. Checkpoints go to ``data/full/13_decisive/checkpoints``
(committed as the run goes, so a later sitting resumes it). Run it from a separate worktree so that
editing ``lib`` does not change the items' keys mid-run::

    git worktree add ../decisive HEAD && cd ../decisive
    PYTHONPATH=$PWD python tools/run_decisive.py --workers 1 --out /path/to/main/data/full/13_decisive/checkpoints
"""
from __future__ import annotations

import argparse
import fcntl
import hashlib
import importlib.util
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from lib.numerics import pin  # noqa: E402

pin()
from lib.bomrl import locomotion_study  # noqa: E402
from lib.bomrl.locomotion_report import run_progress  # noqa: E402
from lib.bomrl.meta_items import seed_indices  # noqa: E402
from lib.cache import safe_label  # noqa: E402
from lib.paths import resume_dir  # noqa: E402
from lib.profiles import resolve  # noqa: E402

_spec = importlib.util.spec_from_file_location("extend_locomotion", ROOT / "tools" / "extend_locomotion.py")
extend = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(extend)

RESUMED = ("Alg(1)", (0, 1))  # method and seeds with committed states at iteration 120 (notebook 13)
STAGE = "13_decisive"


def config(workers: int):
    """(notebook 13's full config, the decisive pair's: :func:`lib.bomrl.locomotion_study.decisive_config`)."""
    base = resolve("locomotion_authors", "full")
    return base, locomotion_study.decisive_config(base, n_workers=workers)


def seed_from_committed(base, cfg, out: Path, seeds=None) -> int:
    """Copy notebook 13's states of :data:`RESUMED` (of the chosen ``seeds``) under the decisive keys
    (those not there yet)."""
    method, resumed = RESUMED
    if method not in cfg.methods:
        return 0
    mine = set(seed_indices(cfg, seeds))
    items = {(f, method, s) for f in cfg.families for s in resumed if s in mine}  # the items this process runs
    moves = [(a, b) for a, b in extend.plan(resume_dir("full", "13_bomrl_authors_locomotion"), base, cfg, out, items)
             if not b.exists()]
    extend.extend(moves, write=True)
    return len(moves)


def hold_items(cfg, out: Path, seeds=None) -> list:
    """Lock, for this process's lifetime, every (method, family, seed) that ``cfg`` runs into ``out``
    (``seeds``: the seed indices, default all of ``cfg.n_seeds``), so that two processes on one machine
    never compute the same item (their filters overlap): raise ``SystemExit`` naming the item another
    process holds. The locks live in the temporary folder, keyed by ``out``'s path (not in the checkpoint
    folder, which is committed). Returns the open lock files."""
    folder = Path(tempfile.gettempdir()) / f"run_decisive-{hashlib.sha1(str(out.resolve()).encode()).hexdigest()[:12]}"
    folder.mkdir(exist_ok=True)
    held = []
    for method in cfg.methods:
        for family in cfg.families:
            for s in seed_indices(cfg, seeds):
                handle = open(folder / f"{safe_label(method)}-{family}-{s}.lock", "w")
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    handle.close()
                    for h in held:
                        h.close()
                    raise SystemExit(f"--methods/--families/--seeds: {method} on {family}, seed {s}, is being run "
                                     f"into {out} by another process on this machine; give this one other items") from None
                held.append(handle)
    return held


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--scheduler", default="", help="address of a running Dask scheduler (docs/cluster.md)")
    parser.add_argument("--out", type=Path, default=None, help="checkpoint folder (default: data/full/13_decisive/checkpoints)")
    parser.add_argument("--methods", nargs="+", default=None, choices=locomotion_study.DECISIVE["methods"],
                        help="run these methods' items only (an item's key does not depend on the others)")
    parser.add_argument("--families", nargs="+", default=None, choices=resolve("locomotion_authors", "full").families,
                        help="run these families' items only (with --methods, one process per (method, family) "
                             "can share the machine's cores; the keys do not depend on the filter)")
    parser.add_argument("--seeds", nargs="+", type=int, default=None,
                        help="run these seed indices' items only (0-2; the keys do not depend on the filter)")
    parser.add_argument("--status", action="store_true")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error(f"--workers must be at least 1, got {args.workers}")
    base, cfg = config(args.workers)
    cfg = replace(cfg, scheduler=args.scheduler)
    cfg = cfg if args.methods is None else replace(cfg, methods=tuple(args.methods))
    cfg = cfg if args.families is None else replace(cfg, families=tuple(args.families))
    out = args.out or resume_dir("full", STAGE)
    out.mkdir(parents=True, exist_ok=True)
    try:
        seeds = seed_indices(cfg, args.seeds)
    except ValueError as err:
        parser.error(f"--{err}")
    if args.status:
        table = run_progress(cfg, out, None)
        table = table[table["seed"].isin(seeds)]
        print(table.to_string(index=False, float_format=lambda v: f"{v:.1f}"))
        left = table.remaining_s.sum(min_count=1)
        print(f"projected: {left / 3600:.1f} worker-hours left (training evaluations included, meta-tests not counted)")
        return 0
    held = hold_items(cfg, out, seeds)  # noqa: F841 (held until the process ends)
    print(f"{seed_from_committed(base, cfg, out, seeds)} items seeded from notebook 13's committed states")
    locomotion_study.run_all(cfg, out, seeds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
