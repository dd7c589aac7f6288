"""Execute the study's notebooks in order with papermill.

    python tools/run_notebooks.py                    # quick profile, all notebooks
    python tools/run_notebooks.py --profile full     # paper scale
    python tools/run_notebooks.py -p seed 3 --only 02
    python tools/run_notebooks.py --in-place         # refresh the committed quick outputs

Executed copies go to ``build/executed/<profile>/`` (gitignored) unless ``--in-place``;
tables go to ``data/<profile>/`` and figures to ``figures/`` (full) or ``figures/quick/``.
Unlike plain papermill, an unknown parameter name is an error, not a warning.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import nbformat
import papermill as pm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from lib.io import atomic_write_bytes  # noqa: E402
from lib.profiles import check_profile  # noqa: E402

NOTEBOOKS = ROOT / "notebooks"


def strip_run_metadata(path: Path) -> None:
    """Remove papermill's timing metadata so re-running does not churn git diffs."""
    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="quick", help="quick (default) or full")
    parser.add_argument("--only", default="", help="comma-separated notebook number prefixes, e.g. 01,02")
    parser.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="notebook parameter (repeatable); must exist in every selected notebook")
    parser.add_argument("--in-place", action="store_true", help="overwrite the notebooks themselves")
    args = parser.parse_args(argv)
    profile = check_profile(args.profile)
    selected = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if args.only:
        prefixes = [p.strip() for p in args.only.split(",") if p.strip()]
        unknown = [p for p in prefixes if not any(nb.name.startswith(p) for nb in selected)]
        if unknown:
            raise SystemExit(f"no notebook starts with {unknown}")
        selected = [nb for nb in selected if any(nb.name.startswith(p) for p in prefixes)]
    if args.in_place and profile != "quick":
        raise SystemExit("--in-place is only for the quick profile (the committed notebooks hold quick outputs)")
    out_dir = ROOT / "build" / "executed" / profile
    out_dir.mkdir(parents=True, exist_ok=True)
    # the kernels inherit this environment: a non-interactive MPLBACKEND (the Makefile sets
    # Agg for scripts) would stop Jupyter's inline backend, and the figures would be missing
    # from the executed notebooks
    os.environ.pop("MPLBACKEND", None)
    timings_path = out_dir / "timings.json"  # seconds per notebook, updated as each one finishes
    for nb_path in selected:
        known = pm.inspect_notebook(str(nb_path))
        params = {"profile": profile}
        for name, value in args.p:
            if name not in known:
                raise SystemExit(f"{nb_path.name}: unknown parameter {name!r}; known: {sorted(known)}")
            kind = known[name]["inferred_type_name"]
            params[name] = {"int": int, "float": float, "bool": lambda v: v.lower() in ("1", "true", "yes")}.get(kind, str)(value)
        if params == {"profile": "quick"} and args.in_place:
            params = {}  # no injected-parameters cell in the committed notebooks
        target = nb_path if args.in_place else out_dir / nb_path.name
        print(f"[{profile}] {nb_path.name} ...", flush=True)
        start = time.perf_counter()
        pm.execute_notebook(str(nb_path), str(target), parameters=params, kernel_name="python3",
                            cwd=str(NOTEBOOKS), progress_bar=False, log_output=False)
        seconds = round(time.perf_counter() - start, 1)
        strip_run_metadata(target)
        print(f"[{profile}] {nb_path.name} done in {seconds} s", flush=True)
        # read again just before writing, so runners working in parallel (one notebook each)
        # keep each other's entries
        timings = json.loads(timings_path.read_text()) if timings_path.exists() else {}
        timings[nb_path.name] = seconds
        atomic_write_bytes(timings_path, (json.dumps(timings, indent=2, sort_keys=True) + "\n").encode())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
