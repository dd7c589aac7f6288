"""Profiles: same fields in quick and full, clear errors for bad parameters."""
import pytest

from lib.paths import data_dir
from lib.profiles import resolve


def test_quick_is_smaller_than_full():
    q, f = resolve("trpo_sweep", "quick"), resolve("trpo_sweep", "full")
    assert q.n_runs < f.n_runs and len(q.kl_grid) < len(f.kl_grid)
    assert f.n_runs == 30 and f.n_updates["cartpole"] == 45 and f.n_traj["minigolf"] == 64


@pytest.mark.parametrize("call,match", [
    (lambda: resolve("trpo_sweep", "medium"), "'medium'"),
    (lambda: resolve("nope", "quick"), "'nope'"),
    (lambda: resolve("trpo_sweep", "quick", n_rnus=3), "n_rnus"),
    (lambda: resolve("trpo_sweep", "quick", envs=("pong",)), "'pong'"),
    (lambda: resolve("trpo_sweep", "quick", kl_grid=(0.1, -1.0)), "-1.0"),
    (lambda: resolve("trpo_sweep", "quick", algos=("PPO",)), "'PPO'"),
    (lambda: data_dir("fast", "x"), "'fast'"),
])
def test_bad_parameters_name_the_bad_value(call, match):
    with pytest.raises(ValueError, match=match):
        call()
