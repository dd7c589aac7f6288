"""fidelity/rerun_authors_training.py: parsing the authors' printed output and the pace table."""
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "fidelity"))
import rerun_authors_training as rerun  # noqa: E402


def printed(iters, tasks=3):
    """Their script's stdout for ``iters`` meta-iterations (the lines it prints, in its order)."""
    lines = []
    for i in range(iters):
        lines += [f"i_episode:  {i}", "meta_lambda_now:  0.5"]
        for k in range(tasks):
            lines += [f"task_number:  {k}  target_v:  1.0", f"(before adaptation) Episode {i}\tAverage reward {-200 - k:.2f}",
                      "Adam", "get_kl  tensor(1.0)", f"(after adaptation) Episode {i}\tAverage reward {-100 - k - i:.2f}"]
        lines += ["result_before:  -1.0", "result_after:  -2.0"]
    return "\n".join(lines)


def test_table_joins_their_log_with_the_training_returns_they_print(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text("0,-231.5\n1,-220.25\n2,-219.0\n")
    t = rerun.table(printed(3), log, iters=2)
    assert t["iter"].tolist() == [0, 1]  # stops at --iters
    assert t.eval_after.tolist() == [-231.5, -220.25]
    assert t.train_before.tolist() == [-201.0, -201.0] and t.train_after.tolist() == [-101.0, -102.0]
    assert t.n_tasks.tolist() == [3, 3]


def test_pace_recovers_a_known_slope(tmp_path, monkeypatch):
    it = np.arange(30)
    logs = pd.DataFrame({"family": "halfcheetah-vel", "method": "Alg(3)", "iter": np.arange(500),
                         "ret": -230.0 + 1.5 * np.arange(500)})
    logs.to_csv(tmp_path / "logs.csv", index=False)
    monkeypatch.setattr(rerun, "LOGS", tmp_path / "logs.csv")
    noise = np.random.default_rng(0).normal(0, 1, 30)
    runs = pd.DataFrame({"iter": it, "eval_after": -240.0 + 0.8 * it + noise})
    p = rerun.pace(runs, 3, checkpoints=tmp_path).set_index("run")  # no checkpoints here: two rows
    assert len(p) == 2 and (p.iters == 30).all()
    assert p.loc["their committed log", "slope"] == pytest.approx(1.5)
    row = p.loc["their script rerun here"]
    assert row.lo < 0.8 < row.hi and row.hi - row.lo < 0.2
