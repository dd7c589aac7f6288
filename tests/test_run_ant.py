"""tools/run_ant.py: Ant at the paper's scale is notebook 13's full config on the Ant families, and its
plan multiplies the benchmark's seconds per iteration by iterations and seeds."""

import pandas as pd
import pytest

from tests.helpers import load_script

tool = load_script("tools/run_ant.py")


def test_config_is_the_authors_ant_at_500_iterations():
    cfg = tool.config(scheduler="tcp://127.0.0.1:8786")
    assert cfg.families == ("ant-vel", "ant-dir") and cfg.n_iters["ant-dir"] == 500
    assert cfg.n_traj["ant-dir"] == 40 and cfg.meta_batch["ant-dir"] == 4 and cfg.meta_batch["ant-vel"] == 10
    assert "MAML-TRPO (authors)" in cfg.methods and cfg.best_so_far and cfg.scheduler.startswith("tcp://")


def test_plan_is_seconds_times_iterations_times_seeds():
    cfg = tool.config()
    bench = pd.DataFrame([dict(family=f, method=m, dtype="float32", total_s=36.0)
                          for f in cfg.families for m in cfg.methods])
    table = tool.plan(cfg, bench)
    assert len(table) == 2 * len(cfg.methods)
    assert table.core_hours.tolist() == pytest.approx([36.0 * 500 * 2 / 3600] * len(table))
