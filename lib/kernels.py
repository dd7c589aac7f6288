"""The kernel manager of the study's runner: kernels over local IPC sockets, not TCP.

A kernel that papermill starts over TCP listens on 127.0.0.1 without encryption (and says
so on every start). ``tools/run_notebooks.py`` passes :class:`LocalKernelManager` instead:
the kernel's five channels are Unix sockets in a private temporary folder, removed when the
kernel stops, so none of them takes a network port (the kernel process still holds one
listener of its own on 127.0.0.1, not a channel).
"""
from __future__ import annotations

import tempfile

from jupyter_client.manager import AsyncKernelManager


class LocalKernelManager(AsyncKernelManager):
    """An ``AsyncKernelManager`` whose kernels use the ``ipc`` transport in a private folder."""

    def __init__(self, **kwargs):
        kwargs.setdefault("transport", "ipc")
        super().__init__(**kwargs)
        if self.transport == "ipc":
            self._ipc_dir = tempfile.TemporaryDirectory(prefix="study-kernel-")
            self.ip = f"{self._ipc_dir.name}/kernel"
