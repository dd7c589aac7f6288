"""The notebook runner: its kernel talks over IPC sockets and nothing listens beyond this machine; stopping it ends every process it
started, and a re-run resumes."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent


def test_sigterm_ends_the_kernel_and_its_workers_and_a_rerun_finishes(tmp_path):
    env = {**os.environ, "STUDY_CACHE_ROOT": str(tmp_path / "cache"), "TQDM_DISABLE": "1", "STUDY_N_JOBS": "2"}
    cmd = [sys.executable, str(ROOT / "tools" / "run_notebooks.py"), "--only", "02", "-p", "envs", "minigolf",
           "--out", str(tmp_path / "out")]
    runner = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    me = psutil.Process(runner.pid)
    deadline = time.time() + 60
    while time.time() < deadline and len(me.children(recursive=True)) < 3:  # kernel + joblib workers
        time.sleep(0.2)
    kids = me.children(recursive=True)
    assert len(kids) >= 3, "the kernel should have started its workers"
    pids = {p.pid for p in kids} | {runner.pid}
    listening = [c.laddr for c in psutil.net_connections(kind="inet") if c.pid in pids and c.status == psutil.CONN_LISTEN]
    assert all(a.ip in ("127.0.0.1", "::1") for a in listening), listening  # nothing beyond this machine
    kernel = next(p for p in kids if "ipykernel_launcher" in " ".join(p.cmdline()))
    connection = next(a for a in kernel.cmdline() if a.endswith(".json"))
    assert json.loads(Path(connection).read_text())["transport"] == "ipc"  # channels: Unix sockets
    runner.send_signal(signal.SIGTERM)
    runner.wait(timeout=30)
    _, alive = psutil.wait_procs(kids, timeout=10)
    assert not alive, f"processes left running: {[p.pid for p in alive]}"
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert (tmp_path / "out" / "02_trpo_vs_xtrpo.ipynb").exists()
