"""Progress bars that show in JupyterLab and stay quiet under papermill / CI.

``lib`` never passes ``disable=`` to tqdm: the environment variable ``TQDM_DISABLE=1``
(set by the Makefile and ``.ci/run``) decides, so a user running the notebook interactively
sees the bar.
"""
from __future__ import annotations

from tqdm.auto import tqdm


def progress(iterable=None, total: int | None = None, desc: str | None = None):
    """Wrap an iterable in a tqdm bar (``tqdm.auto``: a widget in Jupyter, text elsewhere)."""
    return tqdm(iterable, total=total, desc=desc, leave=False)
