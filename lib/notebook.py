"""Papermill plumbing: a notebook's parameters checked and parsed, and the runner's kernels.

* :func:`check_injected_parameters` refuses a parameter that papermill injected but the
  notebook does not declare (papermill itself only warns).
* :func:`overrides` turns a ``parameters`` cell into config overrides: text lists parsed,
  0 workers = all cores.
* :class:`LocalKernelManager`: the kernel manager of ``tools/run_notebooks.py``. A kernel that
  papermill starts over TCP listens on 127.0.0.1 without encryption; this one's five channels
  are Unix sockets in a private temporary folder, removed when the kernel stops.
"""
from __future__ import annotations

import ast
import tempfile
from dataclasses import fields

from jupyter_client.manager import AsyncKernelManager

from lib.config import default

WORKER_FIELDS = ("n_jobs", "n_workers")  # 0 in a parameters cell means all cores
PROTOCOL_FIELDS = ("lam_kl", "lam_euclidean")  # 0 in a parameters cell means the protocol's value


def _assigned(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return {t.id for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target]) if isinstance(t, ast.Name)}


def check_injected_parameters(history) -> None:
    """Refuse parameters that papermill injected but the notebook does not declare.

    Plain ``papermill nb.ipynb out.ipynb -p n_runs 3`` only warns about an unknown name and
    runs with the defaults; inside the kernel the executed cells (IPython's ``In``) show
    both the notebook's ``parameters`` cell (the first cell run) and papermill's injected
    cell (it starts with ``# Parameters``), so the notebook can stop instead.

    Raises:
        ValueError: naming each injected parameter that the parameters cell does not define.
    """
    cells = [c for c in history if isinstance(c, str) and c.strip()]
    injected = [c for c in cells if c.startswith("# Parameters\n")]
    if not injected or cells[0] in injected:
        return
    declared = _assigned(cells[0])
    unknown = sorted(set().union(*(_assigned(c) for c in injected)) - declared)
    if unknown:
        raise ValueError(f"unknown parameter(s) {', '.join(unknown)} for this notebook; "
                         f"its parameters: {', '.join(sorted(declared))}")


def overrides(cls, params: dict) -> dict:
    """The config overrides of a parameters cell for config class ``cls``: text parameters of
    list fields (``envs="minigolf,cartpole"``, ``kl_grid="0.01,0.1"``) parsed (empty text keeps
    the profile's list); 0 workers dropped (all cores), and a λ of 0 (the protocol's value). Raises a
    ValueError naming the parameter."""
    names = {f.name: default(f) for f in fields(cls)}
    out = {}
    for name, value in params.items():
        if name in WORKER_FIELDS + PROTOCOL_FIELDS and isinstance(value, (int, float)) and not isinstance(value, bool) \
                and value == 0:
            continue
        if name in names and isinstance(names[name], tuple) and isinstance(value, str):
            parse = parse_floats if names[name] and isinstance(names[name][0], float) else parse_names
            try:
                out[name] = parse(value)
            except ValueError as err:
                raise ValueError(f"{name}: {err}") from None
        else:
            out[name] = value
    return out


def check_kernel_history() -> None:
    """:func:`check_injected_parameters` on the running IPython kernel's history, if any."""
    try:
        from IPython import get_ipython
        shell = get_ipython()
    except ImportError:
        shell = None
    if shell is not None:
        check_injected_parameters(shell.user_ns.get("In", []))


def parse_names(text: str) -> tuple | None:
    """``"a, b"`` -> ``("a", "b")``; empty -> None (keep the profile's default)."""
    names = tuple(part.strip() for part in str(text).split(",") if part.strip())
    return names or None


def parse_floats(text: str) -> tuple | None:
    """``"0.01, 0.1"`` -> ``(0.01, 0.1)``; empty -> None. Raises naming a non-number."""
    out = []
    for part in parse_names(text) or ():
        try:
            out.append(float(part))
        except ValueError:
            raise ValueError(f"not a number: {part!r} in {text!r}") from None
    return tuple(out) or None


# --- the runner's kernels -------------------------------------------------------------------

class LocalKernelManager(AsyncKernelManager):
    """An ``AsyncKernelManager`` whose kernels use the ``ipc`` transport in a private folder."""

    def __init__(self, **kwargs):
        kwargs.setdefault("transport", "ipc")
        super().__init__(**kwargs)
        if self.transport == "ipc":
            self._ipc_dir = tempfile.TemporaryDirectory(prefix="study-kernel-")
            self.ip = f"{self._ipc_dir.name}/kernel"
