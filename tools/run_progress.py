"""Where the long run of notebook 13 stands, and how long the rest would take.

    python tools/run_progress.py                      # the full profile's committed checkpoints
    python tools/run_progress.py --dir PATH           # another checkout's checkpoint folder
    python tools/run_progress.py --workers 2

Reads the items' checkpoints without changing them (a running job's files are safe to read:
they are replaced atomically) and prints one line per item and the projected remaining time:
each unfinished item's iterations left times its own seconds per iteration, or its method's
median, or the benchmark's cost of its method (data/full/benchmarks/authors_iteration.csv) scaled to this
machine, or its family's mean (meta-tests not counted), summed and divided by the workers.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib import paths  # noqa: E402
from lib.bomrl.locomotion_report import run_progress  # noqa: E402
from lib.profiles import resolve  # noqa: E402

STAGE = "13_bomrl_authors_locomotion"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="full", choices=("quick", "full"))
    parser.add_argument("--dir", type=Path, help="checkpoint folder (default: the profile's own)")
    parser.add_argument("--workers", type=int, default=2, help="parallel workers the rest will run on")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error(f"--workers must be at least 1, got {args.workers}")
    folder = args.dir or paths.resume_dir(args.profile, STAGE)
    bench_file = ROOT / "data" / "full" / "benchmarks" / "authors_iteration.csv"
    bench = pd.read_csv(bench_file) if bench_file.exists() else None
    table = run_progress(resolve("locomotion_authors", args.profile), folder, bench)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.1f}"))
    counts = table.status.value_counts()
    left = table.remaining_s.sum(min_count=1)
    unknown = int(table.remaining_s.isna().sum())
    print(f"\n{folder}: " + ", ".join(f"{counts.get(s, 0)} {s}" for s in ("done", "partial", "not started")))
    print(f"projected: {left / 3600:.1f} worker-hours left, {left / 3600 / args.workers:.1f} h on {args.workers} "
          f"workers (meta-tests not counted)" + (f"; {unknown} items without any rate measured in their family"
                                                 if unknown else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
