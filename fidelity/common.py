"""What the fidelity scripts that run the authors' locomotion code beside ours share: their command
line (``--authors``, ``--gym``, ``--out``), notebook 13's protocol in float64, and the table they write."""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402
import torch  # noqa: E402

from lib.bomrl import locomotion_study as study  # noqa: E402
from lib.io import save_table  # noqa: E402
from lib.profiles import resolve  # noqa: E402

OUT = ROOT / "data/full/fidelity"
GYM_HELP = "a folder holding gym 0.26 (pip --target)"


def parser(doc: str, authors_help: str, out_name: str) -> argparse.ArgumentParser:
    """The shared arguments: ``--authors`` (their checkout's folder), ``--gym``, ``--out`` (default
    ``data/full/fidelity/<out_name>``); a script adds its own."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--authors", type=Path, required=True, help=authors_help)
    p.add_argument("--gym", type=Path, required=True, help=GYM_HELP)
    p.add_argument("--out", type=Path, default=OUT / out_name)
    return p


def float64_protocol():
    """Notebook 13's full-profile config and its protocol in float64 (exact comparisons); one torch thread."""
    torch.set_num_threads(1)
    cfg = resolve("locomotion_authors", "full")
    return cfg, replace(study.protocol(cfg), dtype="float64")


def write(rows: list[dict], args: argparse.Namespace, **params) -> int:
    """Save ``rows`` to ``args.out`` with a manifest naming the authors' folder, gym and ``params``."""
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_table(pd.DataFrame(rows), args.out, params=dict(authors=str(args.authors), gym=str(args.gym), **params))
    print(f"wrote {args.out}")
    return 0
