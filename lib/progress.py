"""Progress bars that show in JupyterLab and stay quiet under papermill / CI.

``TQDM_DISABLE=1`` (set by the Makefile and ``.ci/run``) silences them. tqdm's own reading
of that variable does not reach ``tqdm.notebook`` (the widget bar used in Jupyter, tqdm
4.70), so it is read here and passed on; when it is unset nothing is passed, and tqdm's
other ``TQDM_*`` variables keep working.
"""
from __future__ import annotations

import os

from tqdm.auto import tqdm


def progress(iterable=None, total: int | None = None, desc: str | None = None):
    """Wrap an iterable in a tqdm bar (``tqdm.auto``: a widget in Jupyter, text elsewhere)."""
    kwargs = {}
    if os.environ.get("TQDM_DISABLE", "").lower() in ("1", "true", "yes"):
        kwargs["disable"] = True
    return tqdm(iterable, total=total, desc=desc, leave=False, **kwargs)
