"""Profiles: same fields in quick and full, clear errors for bad parameters."""
import pytest

from lib.paths import data_dir
from lib.profiles import resolve
from lib.trust_region_meta.config import KL_GRID_PAPER


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


@pytest.mark.parametrize("override,match", [
    (dict(fqi_horizons=(0, 1)), r"fqi_horizons\[0\] must be >= 1, got 0"),
    (dict(fqi_min_leaves=(2.0,)), "got 2.0"),
    (dict(kl_range=(0.5, 0.1)), "kl_range"),
    (dict(envs=("pong",)), "'pong'"),
])
def test_bad_meta_parameters_are_named(override, match):
    with pytest.raises(ValueError, match=match):
        resolve("meta", "full", **override)


def test_meta_full_is_paper_scale():
    cfg = resolve("meta", "full")
    assert [cfg.tuples(e) for e in cfg.envs] == [100, 7000, 15000]
    assert cfg.n_traj == {"elikoeidis": 8, "minigolf": 64, "cartpole": 64}
    assert (3, 1e-3) in [(h, p) for h in cfg.fqi_horizons for p in cfg.fqi_min_leaves]
    assert (1, 5e-5) in [(h, p) for h in cfg.fqi_horizons for p in cfg.fqi_min_leaves]
    assert (2, 32) not in cfg.train_archs["minigolf"] and (3, 64) not in cfg.train_archs["cartpole"]


@pytest.mark.parametrize("override,match", [
    (dict(goal_radii=(1, 9)), "goal_radius must be in 0..6, got 9"),
    (dict(checkpoints=(0, 30, 10)), "checkpoints must be increasing"),
    (dict(lam_kl=-1.0), "lam_kl must be > 0"),
    (dict(gamma=1.0), "gamma must be in"),
    (dict(n_seeds=0), "n_seeds must be >= 1"),
])
def test_bomrl_parameters_are_checked(override, match):
    with pytest.raises(ValueError, match=match):
        resolve("bomrl", "quick", **override)


def test_bomrl_full_is_larger_than_quick():
    q, f = resolve("bomrl", "quick"), resolve("bomrl", "full")
    assert q.checkpoints[-1] < f.checkpoints[-1] and q.n_seeds < f.n_seeds
    assert set(q.goal_radii) <= set(f.goal_radii)


def test_elikoeidis_lambda_grid_reaches_above_one():
    """Elikoeidis' best fixed λ is 1, the paper grid's top: its Λ adds 2 and 5 (sweep, collection, FQI)."""
    meta, sweep = resolve("meta", "full"), resolve("trpo_sweep", "full")
    assert meta.grid("elikoeidis")[-3:] == sweep.grid("elikoeidis")[-3:] == (1.0, 2.0, 5.0)
    assert meta.grid("minigolf") == meta.grid("cartpole") == KL_GRID_PAPER
    assert meta.collect_range("elikoeidis") == (1e-3, 5.0) and meta.collect_range("minigolf") == (1e-3, 1.0)
    assert meta.sweep("elikoeidis").grid("elikoeidis") == meta.grid("elikoeidis")


def test_bomrl_lambda_lives_in_the_protocol_and_a_notebook_can_set_it():
    """λ of notebooks 11 and 13 defaults to its protocol's value (0 in a parameters cell keeps it);
    a notebook's value reaches the protocol the study builds; a bad one is named."""
    from lib.bomrl import locomotion_study
    from lib.bomrl.locomotion_protocol import LOCOMOTION_AUTHORS, LOCOMOTION_OURS
    from lib.profiles import from_notebook

    for stage, proto in (("locomotion", LOCOMOTION_OURS), ("locomotion_authors", LOCOMOTION_AUTHORS)):
        cfg = from_notebook(stage, "quick", lam_kl=0.0, lam_euclidean=0.0)
        assert (cfg.lam_kl, cfg.lam_euclidean) == (proto.lam_kl, proto.lam_euclidean)
        cfg = from_notebook(stage, "quick", lam_kl=0.25)
        built = locomotion_study.protocol(cfg)
        assert (built.lam_kl, built.lam_euclidean, built.lam_for("kl"), built.lam_for("euclidean")) == \
            (0.25, proto.lam_euclidean, 0.25, proto.lam_euclidean)
        with pytest.raises(ValueError, match="lam_kl must be > 0, got -1.0"):
            from_notebook(stage, "quick", lam_kl=-1.0)
