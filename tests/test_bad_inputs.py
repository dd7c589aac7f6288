"""Every bad input gets a clear error that names the parameter (and, where it helps, the value).

Three routes: the notebooks' configs (``profiles.from_notebook``, which the notebooks and the
runner both call), the library's own entry points (policies, TRPO, tasks, maps, metafeatures),
and the runner's command line, which checks everything before any kernel starts.
"""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lib.profiles import from_notebook

ROOT = Path(__file__).resolve().parent.parent
NAN, INF = float("nan"), float("inf")
N_TRAJ = {"elikoeidis": 8, "minigolf": 16, "cartpole": 1}

CONFIG_CASES = [
    ("trpo_sweep", dict(seed=1.5), "seed"),
    ("trpo_sweep", dict(seed=-1), "seed"),
    ("trpo_sweep", dict(seed="abc"), "seed"),
    ("trpo_sweep", dict(n_jobs=-2), "n_jobs"),
    ("trpo_sweep", dict(n_jobs=1.5), "n_jobs"),
    ("trpo_sweep", dict(kl_grid="0.1,0.1"), "kl_grid"),
    ("trpo_sweep", dict(kl_grid="-0.1,0.1"), "kl_grid"),
    ("trpo_sweep", dict(kl_grid="big"), "kl_grid"),
    ("trpo_sweep", dict(kl_grid="1e300"), "kl_grid"),
    ("trpo_sweep", dict(kl_grid="nan"), "kl_grid"),
    ("trpo_sweep", dict(kl_grid=()), "kl_grid"),
    ("trpo_sweep", dict(envs=()), "envs"),
    ("trpo_sweep", dict(envs="minigolf,minigolf"), "envs"),
    ("trpo_sweep", dict(envs="pong"), "pong"),
    ("trpo_sweep", dict(algos=("TRPO", "PPO")), "PPO"),
    ("trpo_sweep", dict(n_runs=0), "n_runs"),
    ("trpo_sweep", dict(n_traj=N_TRAJ), "n_traj"),
    ("trpo_sweep", dict(n_updates={"elikoeidis": 0, "minigolf": 1, "cartpole": 1}), "n_updates"),
    ("trpo_sweep", dict(n_updates={"minigolf": 1}), "n_updates"),
    ("trpo_sweep", dict(arch=(1.7, 8.9)), "arch"),
    ("trpo_sweep", dict(arch=(4, 8)), "arch"),
    ("meta", dict(kl_bound="big"), "kl_bound"),
    ("meta", dict(kl_bound=NAN), "kl_bound"),
    ("locomotion_authors", dict(decisive="resume"), "decisive"),
    ("meta", dict(n_estimators=0), "n_estimators"),
    ("meta", dict(max_points=3), "max_points"),
    ("meta", dict(n_val_runs=0), "n_val_runs"),
    ("meta", dict(n_test_runs=-1), "n_test_runs"),
    ("meta", dict(kl_range=(1.0, 0.1)), "kl_range"),
    ("meta", dict(fqi_min_leaves=(0.0,)), "psi"),
    ("meta", dict(fqi_horizons=(1, 1)), "fqi_horizons"),
    ("meta", dict(log_uniform="yes"), "log_uniform"),
    ("meta", dict(collect_trajectories={"elikoeidis": 0, "minigolf": 1, "cartpole": 1}), "collect_trajectories"),
    ("meta", dict(train_archs={"elikoeidis": ((9, 9),), "minigolf": ((0, 0),), "cartpole": ((0, 0),)}), "train_archs"),
    ("meta", dict(fig3_archs=((1, 16), (1, 16))), "fig3_archs"),
    ("bomrl", dict(goal_radii=(1, 9)), "goal_radius"),
    ("bomrl", dict(goal_radii=()), "goal_radii"),
    ("bomrl", dict(temperature=-1.0), "temperature"),
    ("bomrl", dict(temperature=INF), "temperature"),
    ("bomrl", dict(delta=NAN), "delta"),
    ("bomrl", dict(lr=0.0), "lr"),
    ("bomrl", dict(n_adapt_steps=0), "n_adapt_steps"),
    ("bomrl", dict(n_holes=9), "n_holes"),
    ("locomotion", dict(n_iters=0), "n_iters"),
    ("locomotion", dict(arch=(1.5, 16)), "arch"),
    ("locomotion", dict(families=("walker",)), "walker"),
    ("locomotion", dict(methods=("PPO",)), "PPO"),
    ("locomotion", dict(checkpoints=(0, 1)), "checkpoints"),
    ("locomotion", dict(scheduler=5), "scheduler"),
    ("locomotion", dict(n_workers=-1), "n_workers"),
    ("envs", dict(n_traj=1), "n_traj"),
    ("envs", dict(n_tasks=0), "n_tasks"),
]


@pytest.mark.parametrize("stage,params,name", CONFIG_CASES, ids=[f"{s}-{n}-{i}" for i, (s, _, n) in enumerate(CONFIG_CASES)])
def test_a_bad_config_value_is_named(stage, params, name):
    with pytest.raises(ValueError, match=name):
        from_notebook(stage, "quick", **params)


def test_good_notebook_parameters_resolve():
    cfg = from_notebook("trpo_sweep", "quick", seed=2, n_jobs=0, envs="minigolf, cartpole", kl_grid="0.1,0.1000001")
    assert cfg.envs == ("minigolf", "cartpole") and cfg.kl_grid == (0.1, 0.1000001) and cfg.n_jobs >= 1
    assert from_notebook("meta", "quick", kl_bound=0.05).seed == 0
    assert from_notebook("bomrl", "quick", n_holes=0).n_holes == 0  # zero holes is a valid map family


def _policy(**kw):
    from lib.policies import GaussianPolicy
    return GaussianPolicy(1, 1, **kw)


def _trpo(**kw):
    from lib.trpo import TRPOConfig
    return TRPOConfig(**kw)


def _task(env, task):
    from lib.envs import get_spec
    return get_spec(env).tasks_array(task)


def _maps(desc):
    from lib.envs.frozen_lake import make_tasks
    return make_tasks([desc])


def _entropy(x):
    from lib.trust_region_meta.metafeatures import entropy
    return entropy(x)


def _learn(kl):
    from lib.trust_region_meta.learning import learn
    return learn("cartpole", (1.0, 0.1, 0.5), kl, n_updates=1, n_traj=2)


LIBRARY_CASES = [
    (lambda: _policy(std0=NAN), "std0"),
    (lambda: _policy(std0=-1.0), "std0"),
    (lambda: _policy(arch=(1.7, 8.9)), "arch"),
    (lambda: _trpo(cg_damping=NAN), "cg_damping"),
    (lambda: _trpo(cg_damping=-0.1), "cg_damping"),
    (lambda: _trpo(cg_iters=0), "cg_iters"),
    (lambda: _trpo(backtrack=1.5), "backtrack"),
    (lambda: _learn(1e300), "kl_bound"),
    (lambda: _learn(NAN), "kl_bound"),
    (lambda: _task("cartpole", (NAN, 0.1, 0.5)), "cart_mass"),
    (lambda: _task("cartpole", (1.0, -0.1, 0.5)), "pole_mass"),
    (lambda: _task("minigolf", (0.8, 0.0)), "friction"),
    (lambda: _task("cartpole", (1.0, 0.1)), "parameters"),
    (lambda: _maps(("SFFF", "FFFF", "FFFF", "FFFF")), "goal"),
    (lambda: _maps(("SFFF", "FFFF", "FFHH", "FFHG")), "cannot be reached"),
    (lambda: _maps(("SFFF", "FFFF", "FFFX", "FFFG")), "maps"),
    (lambda: _entropy(np.array([[0.0], [NAN], [1.0], [2.0], [3.0]])), "NaN"),
]


@pytest.mark.parametrize("call,name", LIBRARY_CASES, ids=[n + str(i) for i, (_, n) in enumerate(LIBRARY_CASES)])
def test_a_bad_library_input_is_named(call, name):
    with pytest.raises(ValueError, match=name):
        call()


RUNNER_CASES = [
    (["--profile", "fast"], "fast"),
    (["--only", ","], "--only"),
    (["--only", "77"], "77"),
    (["--only", "01", "-p", "profile", "full"], "profile"),
    (["--only", "02", "-p", "seed", "abc"], "seed"),
    (["--only", "02", "-p", "seed", "1.5"], "seed"),
    (["--only", "03", "-p", "kl_bound", "big"], "kl_bound"),
    (["--only", "02", "-p", "kl_grid", "-0.1,0.1"], "kl_grid"),
    (["--only", "02", "-p", "kl_grid", "0.1,0.1"], "kl_grid"),
    (["--only", "02", "-p", "n_runs", "3"], "n_runs"),
    (["--only", "01", "-p", "seed", "1", "-p", "seed", "2"], "seed"),
]


def test_the_runner_names_each_bad_argument_before_starting_a_kernel():
    for argv, name in RUNNER_CASES:
        out = subprocess.run([sys.executable, str(ROOT / "tools" / "run_notebooks.py"), *argv],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode != 0, argv
        assert name in out.stderr, (argv, out.stderr[-300:])
        assert "Traceback" not in out.stderr, argv
        assert "..." not in out.stdout, argv  # no notebook started


def test_plain_papermill_with_an_unknown_parameter_stops_the_notebook(tmp_path):
    """Papermill itself only warns; the notebook's first config call refuses the name."""
    import papermill as pm

    with pytest.raises(pm.PapermillExecutionError, match="n_runs"):
        pm.execute_notebook(str(ROOT / "notebooks" / "01_environments.ipynb"), str(tmp_path / "out.ipynb"),
                            parameters={"n_runs": 3}, cwd=str(ROOT / "notebooks"), progress_bar=False,
                            kernel_name="python3")


def test_injected_parameters_are_checked_against_the_parameters_cell():
    from lib.notebook import check_injected_parameters

    params = 'profile: str = "quick"  # quick | full\nseed: int = 0\n'
    check_injected_parameters(["", params, "# Parameters\nseed = 3\n", "cfg = 1"])  # declared: fine
    check_injected_parameters(["", params, "cfg = 1"])  # not run by papermill: nothing to check
    with pytest.raises(ValueError, match="n_runs"):
        check_injected_parameters(["", params, '# Parameters\nprofile = "quick"\nn_runs = 3\n'])
