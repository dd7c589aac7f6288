"""Tabular BO-MRL on sampled data as the authors run it (lib.bomrl.tabular_sampled) against closed forms."""
import numpy as np
import pandas as pd
import pytest
import torch

from lib.bomrl import frozen_lake_protocol as flp
from lib.bomrl import tabular_sampled as ts
from lib.bomrl.authors_data import REPORTED_Y_OPT
from lib.bomrl import exact
from lib.paths import ROOT

MAPS = ROOT / "data" / "external" / "bomrl_authors_frozen_lake_maps.csv"


def test_committed_maps_are_the_authors_files(tmp_path):
    """Each committed map, written as np.save writes it, has the SHA-256 recorded from their repository."""
    table = pd.read_csv(MAPS)
    assert (table.groupby("kind").size() == pd.Series({"hole": 10, "nohole": 20})).all()
    assert set(table.commit) == {ts.MAPS_COMMIT} and set(table.repository) == {ts.MAPS_REPOSITORY}
    for kind in flp.KINDS:
        assert len(ts.load_maps(MAPS, kind)) == (10 if kind == "hole" else 20)
    bad = table.copy()
    bad.loc[0, "map"] = "SFFF/FFFF/FFFH/FFFG"
    bad.to_csv(tmp_path / "maps.csv", index=False)
    with pytest.raises(ValueError, match="checksum"):
        ts.load_maps(tmp_path / "maps.csv", "hole")


@pytest.mark.parametrize("kind", flp.KINDS)
def test_optimal_return_is_the_shortest_path_closed_form(kind):
    """Goal 6 moves away, +1 per step once entered: J* = γ^5 / (1 - γ) = 1.6384 on every map."""
    tasks = ts.make_tasks(ts.load_maps(MAPS, kind), kind)
    np.testing.assert_allclose(ts.optimal_returns(tasks), flp.GAMMA ** 5 / (1 - flp.GAMMA), atol=1e-12)


@pytest.mark.parametrize("kind", flp.KINDS)
def test_exact_return_matches_gymnasium_rollouts_with_their_reward_rule(kind):
    """A random softmax policy: exact J against 3000 Gymnasium episodes (is_slippery=False, the dynamics
    map: the task map for holes, all-frozen otherwise), reward of the cell entered, 49 steps."""
    from gymnasium.envs.toy_text.frozen_lake import FrozenLakeEnv
    desc = ts.load_maps(MAPS, kind)[5 if kind == "hole" else 0]
    tasks = ts.make_tasks([desc], kind)
    logits = torch.as_tensor(np.random.default_rng(1).normal(size=(16, 4)))
    J = float(ts.exact_data(tasks, logits.unsqueeze(0))["J"][0])
    dyn = list(desc) if kind == "hole" else ["SFFF", "FFFF", "FFFF", "FFFG"]
    env = FrozenLakeEnv(desc=dyn, is_slippery=False)
    pi = torch.softmax(logits, -1).numpy()
    rng = np.random.default_rng(2)
    flat = "".join(desc)
    rets = []
    for _ in range(3000):
        env.reset(seed=int(rng.integers(1 << 30)))
        s, g = 0, 0.0
        for t in range(49):
            s, *_ = env.step(int(rng.choice(4, p=pi[s])))
            g += flp.GAMMA ** t * {"G": 1.0, "H": flp.PENALTY[kind]}.get(flat[s], 0.0)
        rets.append(g)
    assert abs(np.mean(rets) - J) < 4 * np.std(rets) / np.sqrt(len(rets)) + 1e-4


def test_td_q_and_visit_weights_converge_to_the_exact_ones():
    """Expected-SARSA TD(0) on deterministic dynamics has a noise-free target: with enough episodes the
    sampled Q equals Q^π on visited pairs and d approaches the discounted visitation."""
    tasks = ts.make_tasks(ts.load_maps(MAPS, "hole")[2:4], "hole")
    logits = torch.as_tensor(np.random.default_rng(0).normal(size=(2, 16, 4)))
    s = ts.sampled_data(tasks, logits, np.random.default_rng(3), episodes=2000)
    e = ts.exact_data(tasks, logits)
    visited = s["d"].unsqueeze(-1) * e["pi"] > 0.01  # pairs taken often enough for TD to converge
    assert visited.sum() > 10 and (s["Q"] - e["Q"]).abs()[visited].max() < 1e-2
    assert (s["d"] - e["d"]).abs().sum(-1).max() < 0.05
    assert (s["J"] - e["J"]).abs().max() < 0.05


def test_alg2_is_the_reverse_kl_maximiser_and_alg1_approaches_the_forward_kl_one():
    tasks = ts.make_tasks(ts.load_maps(MAPS, "nohole")[:3], "nohole")
    phi = torch.as_tensor(np.random.default_rng(4).normal(size=(16, 3)))
    data = ts.exact_data(tasks, ts.full(phi).expand(3, -1, -1))
    lam = 0.5
    visited = data["d"] > 1e-9
    # Alg(2) against the exact reverse-KL solution of lib.bomrl.exact (reduced logits)
    ours = exact.reverse_kl_solution(phi, exact.data_of(phi, tasks), lam)
    theirs = ts.adapt(ts.full(phi).expand(3, -1, -1), data, lam, "kl_reverse")
    np.testing.assert_allclose(torch.softmax(theirs, -1)[visited], torch.softmax(ts.full(ours), -1)[visited], atol=1e-10)
    # Alg(1): many SGD steps reach the exact forward-KL solution (Newton); 20 steps do not quite
    sol, _ = exact.solve_inner(phi, tasks, exact.AlgConfig(metric="kl", lam=lam))
    target = torch.softmax(ts.full(sol), -1)[visited]
    many = torch.softmax(ts.adapt(ts.full(phi).expand(3, -1, -1), data, lam, "kl", sgd_steps=3000), -1)[visited]
    assert (many - target).abs().max() < 1e-3
    with pytest.raises(ValueError, match="Alg"):
        ts.adapt(phi, data, lam, "euclidean")


def test_their_alg1_counts_the_kl_four_times_its_solution_is_the_papers_at_four_lambda():
    """Their loss -π·A/λ + 4 KL is 4 x the paper's at λ' = 4λ: every SGD iterate at step 0.6 equals the
    paper's loss at 4λ with step 2.4, and the converged policy is the exact forward-KL solution at 4λ."""
    tasks = ts.make_tasks(ts.load_maps(MAPS, "hole")[:3], "hole")
    phi = torch.as_tensor(np.random.default_rng(8).normal(size=(16, 3)))
    data = ts.exact_data(tasks, ts.full(phi).expand(3, -1, -1))
    visited, lam, start = data["d"] > 1e-9, 0.1, ts.full(phi).expand(3, -1, -1)
    theirs = ts.adapt(start, data, lam, "kl", sgd_steps=20, sgd_lr=0.6, kl_count=4)
    once = ts.adapt(start, data, 4 * lam, "kl", sgd_steps=20, sgd_lr=2.4, kl_count=1)
    np.testing.assert_allclose(theirs, once, rtol=0, atol=1e-12)
    assert (torch.softmax(theirs, -1) - torch.softmax(ts.adapt(start, data, lam, "kl"), -1)).abs().max() > 1e-2
    sol, _ = exact.solve_inner(phi, tasks, exact.AlgConfig(metric="kl", lam=4 * lam))
    many = ts.adapt(start, data, lam, "kl", sgd_steps=4000, sgd_lr=0.3, kl_count=4)
    assert (torch.softmax(many, -1) - torch.softmax(ts.full(sol), -1))[visited].abs().max() < 1e-3


def test_first_order_gradient_is_the_scaled_policy_gradient_at_the_adapted_policy():
    """With exact data, d π A = (1 - γ) dJ/dθ for full softmax logits."""
    tasks = ts.make_tasks(ts.load_maps(MAPS, "hole")[4:6], "hole")
    theta = torch.as_tensor(np.random.default_rng(5).normal(size=(2, 16, 4)), dtype=torch.float64).requires_grad_(True)
    J = ts.exact_data(tasks, theta)["J"].sum()
    grad = torch.autograd.grad(J, theta)[0]
    fo = ts.first_order_gradient(ts.exact_data(tasks, theta.detach()))
    np.testing.assert_allclose(fo, (1 - flp.GAMMA) * grad.mean(0), atol=1e-12)


@pytest.mark.parametrize("kind", flp.KINDS)
def test_heldout_maps_follow_their_generator_rules(kind):
    maps = ts.heldout_maps(np.random.default_rng(6), 30, kind)
    for m in maps:
        flat = "".join(m)
        assert flat[0] == "S" and flat[-1] == "G" and set(flat) <= set("SFHG")
        if kind == "hole":
            assert all(m[i][j] in "SF" for i in range(4) for j in range(4) if i + j <= 2)
    assert sum("H" in "".join(m) for m in maps) > 10


def test_meta_training_improves_the_adapted_return_on_exact_data():
    tasks = ts.make_tasks(ts.load_maps(MAPS, "hole"), "hole")
    _, hist = ts.meta_train("exact data", "kl_reverse", tasks, "hole", np.random.default_rng(0), flp.FrozenLakeProtocol(n_iters=40))
    assert hist.J_adapted.iloc[-5:].mean() > hist.J_adapted.iloc[:5].mean() + 0.1


def test_side_by_side_reexpresses_their_gaps_against_the_exact_optimum():
    from lib.bomrl import frozen_lake_maps_study as study
    rows = [dict(kind=k, test_set="their maps", method=m, gap=g, lo=g - 0.01, hi=g + 0.01, n_seeds=5)
            for k in flp.KINDS for (_, m), g in zip(study.SIDE_BY_SIDE, (0.1, 0.18, 0.3))]
    table = study.side_by_side(pd.DataFrame(rows)).set_index(["kind", "bar"])
    shift = flp.GAMMA ** 5 / (1 - flp.GAMMA) - REPORTED_Y_OPT[("nohole", "Alg(1)")]
    assert shift == pytest.approx(0.0146, abs=1e-4)
    assert table.loc[("nohole", "Alg(1)"), "reported_vs_J*"] == pytest.approx(0.066 + shift)
    assert not table.loc[("hole", "Alg(1)"), "inside"]  # 0.0862 outside [0.09, 0.11]
    assert table.loc[("hole", "Alg(2)"), "inside"]  # 0.1782 inside [0.17, 0.19]


def test_lam_scale_multiplies_their_training_and_test_lambda(monkeypatch):
    """The protocol's one λ knob reaches every adaptation: training at TRAIN_LAM x scale, meta-test at
    TEST_LAM x scale (the same curve as passing that λ explicitly), and the notebook's config carries it."""
    from lib import profiles
    from lib.bomrl import frozen_lake_maps_study as study
    tasks = ts.make_tasks(ts.load_maps(MAPS, "nohole")[:3], "nohole")
    seen = []
    adapt = ts.adapt
    monkeypatch.setattr(ts, "adapt", lambda logits, data, lam, *a: seen.append(lam) or adapt(logits, data, lam, *a))
    proto = flp.FrozenLakeProtocol(n_iters=2, batch_size=2, lam_scale=2.5)
    prior, _ = ts.meta_train("exact data", "kl", tasks, "nohole", np.random.default_rng(0), proto)
    assert seen == [flp.TRAIN_LAM["nohole"] * 2.5] * 2
    seen.clear()
    scaled = ts.meta_test(prior, tasks, "nohole", "alg", "kl_reverse", "exact", np.random.default_rng(1), proto)
    explicit = ts.meta_test(prior, tasks, "nohole", "alg", "kl_reverse", "exact", np.random.default_rng(1),
                            flp.FrozenLakeProtocol(), lam=flp.TEST_LAM[("nohole", "kl_reverse")] * 2.5)
    theirs = ts.meta_test(prior, tasks, "nohole", "alg", "kl_reverse", "exact", np.random.default_rng(1), flp.FrozenLakeProtocol())
    np.testing.assert_array_equal(scaled, explicit)
    assert not np.allclose(scaled[:, 1:], theirs[:, 1:])
    assert seen[0] == pytest.approx(0.25)
    cfg = profiles.from_notebook("bomrl_authors", "quick", lam_scale=2.5)
    assert study.protocol(cfg).test_lam("hole", "kl") == pytest.approx(0.25)
    with pytest.raises(ValueError, match="lam_scale must be > 0, got 0"):
        profiles.from_notebook("bomrl_authors", "quick", lam_scale=0.0)
