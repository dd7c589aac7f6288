"""Execute the study's notebooks in order with papermill.

    python tools/run_notebooks.py                    # quick profile, all notebooks
    python tools/run_notebooks.py --profile full     # paper scale
    python tools/run_notebooks.py -p seed 3 --only 02
    python tools/run_notebooks.py --in-place         # refresh the committed quick outputs

Executed copies go to ``build/executed/<profile>/`` (or ``--out``) unless ``--in-place``;
tables go to ``data/<profile>/`` and figures to ``figures/`` (full) or ``figures/quick/``.
Every parameter is checked before any kernel starts (an unknown name, a value of the wrong
type, a value the notebook's config refuses: the message names the parameter). The
floating-point code paths are pinned (:func:`lib.numerics.pin`) for the kernels. Stopping
the runner (Ctrl-C, SIGTERM) also ends its kernels and their worker processes.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from lib.numerics import pin  # noqa: E402  (before numpy loads anywhere)

pin()
import nbformat  # noqa: E402
import papermill as pm  # noqa: E402

from lib.cache import atomic_write_bytes  # noqa: E402
from lib.profiles import NOTEBOOK_STAGES, PROFILES, from_notebook  # noqa: E402

NOTEBOOKS = ROOT / "notebooks"
_INT = re.compile(r"^[+-]?\d+$")


QUICK_NOTE = "> **The outputs saved in this notebook are the quick profile**"


def full_note(stage: str) -> str:
    """The note a full-profile copy carries in place of the committed notebook's quick-profile note."""
    return (f"> **The outputs saved in this copy are the full profile** (paper scale), executed by "
            f"`python tools/run_notebooks.py --profile full --only {stage[:2]}`; its tables are "
            f"[`data/full/{stage}/`](../../data/full/{stage}/) and every verdict is in "
            f"[`docs/results.md`](../results.md).")


def strip_run_metadata(path: Path, profile: str = "quick") -> None:
    """Remove papermill's timing metadata and widget state so re-running does not churn git diffs;
    in a full-profile copy, replace the quick-profile note by :func:`full_note`; tag papermill's
    injected-parameters cell ``remove-cell`` so that the book (tools/build_book.py) hides it."""
    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("widgets", None)  # progress-bar widget state: differs every run
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            cell.metadata["tags"] = [*tags, "remove-cell"]
        if profile == "full" and cell.cell_type == "markdown":
            cell.source = "\n".join(full_note(path.stem) if line.startswith(QUICK_NOTE) else line
                                    for line in cell.source.split("\n"))
    nbformat.write(nb, path)


def convert(notebook: str, name: str, text: str, kind: str):
    """``text`` as the type of the notebook's parameter; a SystemExit naming it otherwise."""
    def bad(what):
        return SystemExit(f"{notebook}: parameter {name} must be {what}, got {text!r}")
    if kind == "int":
        if not _INT.match(text.strip()):
            raise bad("an integer")
        return int(text)
    if kind == "float":
        try:
            return float(text)
        except ValueError:
            raise bad("a number") from None
    if kind == "bool":
        if text.lower() not in ("1", "0", "true", "false", "yes", "no"):
            raise bad("true or false")
        return text.lower() in ("1", "true", "yes")
    return text


def parse_args(argv):
    """argparse, except that the value after ``-p NAME`` is taken verbatim (``-0.1,0.1`` too)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    pairs, rest, i = [], [], 0
    while i < len(argv):
        if argv[i] in ("-p", "--parameter"):
            if len(argv) - i < 3:
                raise SystemExit(f"{argv[i]} needs NAME VALUE, got {argv[i + 1:]}")
            pairs.append((argv[i + 1], argv[i + 2]))
            i += 3
        else:
            rest.append(argv[i])
            i += 1
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="quick", choices=PROFILES, help="quick (default) or full")
    parser.add_argument("--only", default=None, help="comma-separated notebook number prefixes, e.g. 01,02")
    parser.add_argument("-p", "--parameter", metavar="NAME VALUE", help="notebook parameter (repeatable)")
    parser.add_argument("--in-place", action="store_true", help="overwrite the notebooks themselves")
    parser.add_argument("--out", default=None, help="folder of the executed copies")
    args = parser.parse_args(rest)
    args.p = pairs
    return parser, args


def select(parser, only) -> list[Path]:
    notebooks = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if only is None:
        return notebooks
    prefixes = [p.strip() for p in only.split(",") if p.strip()]
    if not prefixes:
        parser.error(f"--only selects no notebook: {only!r}")
    unknown = [p for p in prefixes if not any(nb.name.startswith(p) for nb in notebooks)]
    if unknown:
        parser.error(f"--only: no notebook starts with {', '.join(unknown)}")
    return [nb for nb in notebooks if any(nb.name.startswith(p) for p in prefixes)]


def check_parameters(parser, selected, profile, pairs) -> dict:
    """Parameters of every selected notebook, converted and checked by its config."""
    names = [n for n, _ in pairs]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        parser.error(f"parameter {', '.join(dup)} given more than once")
    if "profile" in names:
        parser.error("set the profile with --profile, not -p profile")
    out = {}
    for nb_path in selected:
        known = pm.inspect_notebook(str(nb_path))
        params = {"profile": profile}
        for name, text in pairs:
            if name not in known:
                raise SystemExit(f"{nb_path.name}: unknown parameter {name!r}; known: {sorted(known)}")
            params[name] = convert(nb_path.name, name, text, known[name]["inferred_type_name"])
        try:
            from_notebook(NOTEBOOK_STAGES[nb_path.name[:2]], **params)
        except (ValueError, TypeError) as err:
            raise SystemExit(f"{nb_path.name}: {err}") from None
        out[nb_path] = params
    return out


def _end_children(signum, frame) -> None:
    """Stop the kernels and every process they started, then exit."""
    import psutil

    me = psutil.Process()
    children = me.children(recursive=True)
    for child in children:
        try:
            child.terminate()
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(children, timeout=5)
    for child in alive:
        child.kill()
    raise SystemExit(128 + signum)


def main(argv=None) -> int:
    parser, args = parse_args(argv)
    profile = args.profile
    selected = select(parser, args.only)
    if args.in_place and profile != "quick":
        parser.error("--in-place is only for the quick profile (the committed notebooks hold quick outputs)")
    all_params = check_parameters(parser, selected, profile, args.p)
    out_dir = Path(args.out) if args.out else ROOT / "build" / "executed" / profile
    out_dir.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, _end_children)
    signal.signal(signal.SIGINT, _end_children)
    # the kernels inherit this environment: a non-interactive MPLBACKEND (the Makefile sets
    # Agg for scripts) would stop Jupyter's inline backend, and the figures would be missing
    # from the executed notebooks
    os.environ.pop("MPLBACKEND", None)
    timings_path = out_dir / "timings.json"  # seconds per notebook, updated as each one finishes
    for nb_path in selected:
        params = all_params[nb_path]
        if params == {"profile": "quick"} and args.in_place:
            params = {}  # no injected-parameters cell in the committed notebooks
        target = nb_path if args.in_place else out_dir / nb_path.name
        print(f"[{profile}] {nb_path.name} ...", flush=True)
        start = time.perf_counter()
        pm.execute_notebook(str(nb_path), str(target), parameters=params, kernel_name="python3",
                            cwd=str(NOTEBOOKS), progress_bar=False, log_output=False,
                            kernel_manager_class="lib.notebook.LocalKernelManager")
        seconds = round(time.perf_counter() - start, 1)
        strip_run_metadata(target, profile)
        print(f"[{profile}] {nb_path.name} done in {seconds} s", flush=True)
        # read again just before writing, so runners working in parallel (one notebook each)
        # keep each other's entries
        timings = json.loads(timings_path.read_text()) if timings_path.exists() else {}
        timings[nb_path.name] = seconds
        atomic_write_bytes(timings_path, (json.dumps(timings, indent=2, sort_keys=True) + "\n").encode())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
