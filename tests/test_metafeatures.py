"""k-NN information estimators against closed forms, and the 20-feature vector."""
import numpy as np
import pandas as pd
import pytest

from lib.envs import get_spec
from lib.policies import make_policy
from lib.rollouts import rollout
from lib.trust_region_meta import metafeatures as mf


def gauss_entropy(cov):
    cov = np.atleast_2d(cov)
    d = len(cov)
    return 0.5 * np.log((2 * np.pi * np.e) ** d * np.linalg.det(cov))


def gauss_kl(m0, c0, m1, c1):
    c0, c1 = np.atleast_2d(c0), np.atleast_2d(c1)
    d = len(c0)
    inv = np.linalg.inv(c1)
    diff = np.asarray(m1) - np.asarray(m0)
    return 0.5 * (np.trace(inv @ c0) + diff @ inv @ diff - d + np.log(np.linalg.det(c1) / np.linalg.det(c0)))


# Tolerance 0.1 nat at n = 1000, k = 3, d <= 3 (research notes d: sd ~ 0.03, bias <= 0.05),
# averaged over 5 independent samples.
N, REPS, TOL = 1000, 5, 0.1


@pytest.mark.parametrize("d", [1, 2, 3])
def test_entropy_of_gaussians(d):
    rng = np.random.default_rng(d)
    a = rng.normal(size=(d, d))
    cov = a @ a.T + 0.5 * np.eye(d)
    est = np.mean([mf.entropy(rng.multivariate_normal(np.zeros(d), cov, size=N)) for _ in range(REPS)])
    assert abs(est - gauss_entropy(cov)) < TOL


@pytest.mark.parametrize("d", [1, 2])
def test_cross_entropy_and_kl_of_gaussians(d):
    rng = np.random.default_rng(10 + d)
    m0, m1 = np.zeros(d), np.full(d, 0.5)
    c0, c1 = np.eye(d), 1.5**2 * np.eye(d)
    kls, ces = [], []
    for _ in range(REPS):
        x = rng.multivariate_normal(m0, c0, size=N)
        y = rng.multivariate_normal(m1, c1, size=N)
        kls.append(mf.kl_divergence(x, y))
        ces.append(mf.cross_entropy(x, y))
    true_kl = gauss_kl(m0, c0, m1, c1)
    assert abs(np.mean(kls) - true_kl) < TOL
    assert abs(np.mean(ces) - (gauss_entropy(c0) + true_kl)) < TOL
    # KL of a distribution with itself (independent samples) is ~ 0
    same = np.mean([mf.kl_divergence(rng.normal(size=(N, d)), rng.normal(size=(N, d))) for _ in range(REPS)])
    assert abs(same) < TOL


def test_conditional_entropy_by_joint_minus_marginal():
    """a = 0.3 s + N(0, 0.5^2): H(a|s) = 0.5 log(2 pi e 0.25) = 0.726 (research notes d)."""
    rng = np.random.default_rng(0)
    s = rng.uniform(0, 1, size=(2000, 1))
    a = 0.3 * s + rng.normal(0, 0.5, size=(2000, 1))
    h_cond = mf.entropy(np.hstack([s, a])) - mf.entropy(s)
    assert abs(h_cond - 0.5 * np.log(2 * np.pi * np.e * 0.25)) < TOL


def test_duplicates_and_zero_variance_stay_finite():
    const = np.ones((50, 2))
    dup = np.repeat(np.random.default_rng(0).normal(size=(10, 1)), 10, axis=0)
    values = [mf.entropy(const), mf.entropy(dup), mf.cross_entropy(const, const),
              mf.kl_divergence(dup, const[:, :1]), mf.kl_divergence(const[:, :1], dup)]
    assert np.isfinite(values).all()
    with pytest.raises(ValueError, match="more than k=3"):
        mf.entropy(np.ones((3, 1)))


@pytest.mark.parametrize("name", ["elikoeidis", "minigolf", "cartpole"])
def test_feature_vector_of_real_batches(name):
    spec = get_spec(name)
    rng = np.random.default_rng(0)
    tasks = np.tile(spec.default_task, (8, 1))
    pol_a = make_policy(spec, (1, 8), seed=0)
    pol_b = make_policy(spec, (1, 8), seed=1)
    sets = [mf.sample_sets(rollout(spec, p, tasks, rng), spec.obs_scale, spec.std0, rng)
            for p in (pol_a, pol_b)]
    phi = mf.metafeatures(sets[1], sets[0])
    assert phi.shape == (len(mf.FEATURE_NAMES),) == (20,)
    assert np.isfinite(phi).all()
    assert phi[-2] == pytest.approx(sets[1].returns.mean())
    if name == "elikoeidis":  # a single state: every state and transition feature is 0
        zero = [i for i, f in enumerate(mf.FEATURE_NAMES) if "_s_" in f or "s'|sa" in f]
        assert np.all(phi[zero] == 0) and len(zero) == 12


def test_policy_kl_feature_tracks_the_closed_form():
    """KL(p_a|s(t) || p_a|s(t-1)) estimated from samples vs the exact Gaussian policy KL."""
    spec = get_spec("minigolf")
    rng = np.random.default_rng(4)
    tasks = np.tile(spec.default_task, (64, 1))
    batch_prev = rollout(spec, lambda obs, r: r.normal(1.0, 1.0, (len(obs), 1)), tasks, rng)
    batch_cur = rollout(spec, lambda obs, r: r.normal(2.0, 1.0, (len(obs), 1)), tasks, rng)
    cur, prev = (mf.sample_sets(b, spec.obs_scale, 1.0, rng) for b in (batch_cur, batch_prev))
    phi = mf.metafeatures(cur, prev)
    kl_policy = phi[mf.FEATURE_NAMES.index("KL_a|s_t||tm1")]
    assert abs(kl_policy - 0.5) < 0.2  # KL(N(2,1) || N(1,1)) = 0.5, at ~700 samples
    h_policy = phi[mf.FEATURE_NAMES.index("H_a|s_t")]
    assert abs(h_policy - 0.5 * np.log(2 * np.pi * np.e)) < 0.15


@pytest.mark.parametrize("d", [1, 4, 9])
def test_kth_distance_matches_brute_force(d):
    """The k-d tree's k-th neighbour distances = sorting the full distance matrix (with ties)."""
    from lib.trust_region_meta.metafeatures import _kth_distance

    rng = np.random.default_rng(d)
    x = np.round(rng.normal(size=(300, d)), 1)  # rounding makes duplicates and ties
    y = rng.normal(size=(200, d))
    dxx = np.sort(np.linalg.norm(x[:, None] - x[None], axis=-1), axis=1)
    dxy = np.sort(np.linalg.norm(x[:, None] - y[None], axis=-1), axis=1)
    np.testing.assert_allclose(_kth_distance(x, x, 3, exclude_self=True), np.maximum(dxx[:, 3], 1e-10), rtol=1e-12)
    np.testing.assert_allclose(_kth_distance(x, y, 3, exclude_self=False), np.maximum(dxy[:, 2], 1e-10), rtol=1e-12)


def atom_sample(rng, n=2000, atom=0.3, slope=0.3, noise=0.5, shift=0.0):
    """30 % of the states at s = 0.5, the rest uniform on [0, 1]; a = slope s + N(shift, noise^2)."""
    s = rng.uniform(0, 1, size=(n, 1))
    s[: int(atom * n)] = 0.5
    a = slope * s + rng.normal(shift, noise, size=(n, 1))
    return s, a


def test_conditional_entropy_with_an_atom_is_the_noise_entropy():
    """H(a|s) = 0.5 log(2 pi e 0.25) = 0.726 whatever the state distribution, here with a point mass
    of 30 %; the joint-minus-marginal estimator with a distance floor is off by many nats there."""
    exact = 0.5 * np.log(2 * np.pi * np.e * 0.25)
    rng = np.random.default_rng(0)
    est, floored = [], []
    for _ in range(REPS):
        s, a = atom_sample(rng)
        iid = np.arange(len(s))  # every sample its own trajectory
        est.append(mf.conditional_terms(s, a, s, a, q_traj=iid, r_traj=iid).mean())
        floored.append(mf.entropy(np.hstack([s, a])) - mf.entropy(s))
    assert abs(np.mean(est) - exact) < TOL
    assert np.mean(floored) - exact > 3  # the failure this replaces (~ +7 nats)


def test_chain_rule_holds_with_atoms():
    """H(s) + H(a|s) under the atoms-plus-Lebesgue measure: the atom contributes -0.3 log 0.3 and
    the continuous part 0.7 (H(U[0,1]) - log 0.7) = -0.7 log 0.7; so H(s) = 0.611."""
    rng = np.random.default_rng(1)
    iid = np.arange(2000)
    h = [mf.marginal_terms(*[atom_sample(rng)[0]] * 2, q_traj=iid, r_traj=iid).mean() for _ in range(REPS)]
    assert abs(np.mean(h) - (-0.3 * np.log(0.3) - 0.7 * np.log(0.7))) < TOL


def test_repeated_states_of_dependent_steps():
    """Minigolf-like pooling: each state repeats 1-6 times (the ball did not move), actions fresh
    each step. H(a|s) is still the policy's entropy, and the policy KL between two batches of the
    same policy is ~0 (the floored estimator gave -3.5 to -5 nats in Minigolf)."""
    rng = np.random.default_rng(2)

    def batch(shift):
        repeats = rng.integers(1, 7, size=400)
        s = np.repeat(rng.uniform(0, 20, size=(400, 1)), repeats, axis=0)
        traj = np.repeat(np.arange(400) // 10, repeats)  # 40 trajectories of 10 distinct states
        return s, 0.1 * s + rng.normal(shift, 1.0, size=s.shape), traj

    def h(s, a, t):
        return mf.conditional_terms(s, a, s, a, q_traj=t, r_traj=t).mean()

    exact = 0.5 * np.log(2 * np.pi * np.e)
    (s0, a0, t0), (s1, a1, t1), (s2, a2, t2) = batch(0.0), batch(0.0), batch(1.0)
    assert abs(h(s0, a0, t0) - exact) < TOL
    kl_same = mf.conditional_terms(s0, a0, s1, a1, r_traj=t1).mean() - h(s0, a0, t0)
    kl_shift = mf.conditional_terms(s2, a2, s0, a0, r_traj=t0).mean() - h(s2, a2, t2)
    assert abs(kl_same) < 2 * TOL
    assert abs(kl_shift - 0.5) < 2 * TOL  # KL(N(1, 1) || N(0, 1)) = 0.5


def test_minigolf_policy_features_on_a_zero_mean_start():
    """The batch that broke the floored estimator: a zero-mean, sigma = 1 policy, half the strokes
    null. H(a|s) within 0.15 nat of the Gaussian's entropy; KL of the policy against itself ~0."""
    spec = get_spec("minigolf")
    rng = np.random.default_rng(5)
    tasks = np.tile(spec.default_task, (64, 1))
    policy = lambda obs, r: r.normal(0.0, 1.0, (len(obs), 1))  # noqa: E731
    cur, prev = (mf.sample_sets(rollout(spec, policy, tasks, rng), spec.obs_scale, 1.0, rng) for _ in range(2))
    repeats = 1 - len(np.unique(cur.s, axis=0)) / len(cur.s)
    phi = mf.metafeatures(cur, prev)
    assert repeats > 0.3
    assert abs(phi[mf.FEATURE_NAMES.index("H_a|s_t")] - 0.5 * np.log(2 * np.pi * np.e)) < 0.15
    assert abs(phi[mf.FEATURE_NAMES.index("KL_a|s_t||tm1")]) < 0.25


def test_exact_policy_features_against_closed_forms():
    """Gaussian policies with known means and stds: H, KL (both ways) and C = H + KL exactly."""
    import torch
    spec = get_spec("cartpole")
    p_t, p_prev = make_policy(spec, (0, 0), seed=1), make_policy(spec, (0, 0), seed=2)
    with torch.no_grad():
        p_t.log_std.fill_(np.log(0.3))
        p_prev.log_std.fill_(np.log(0.6))
    rng = np.random.default_rng(0)
    obs_t, obs_prev = rng.normal(size=(500, 4)), rng.normal(size=(400, 4))
    f = mf.exact_policy_features(p_t, p_prev, obs_t, obs_prev, std0=spec.std0)
    # entropy in action units of std0: 0.5 log(2 pi e) + log(sigma / std0)
    assert f["H_a|s_t"] == pytest.approx(0.5 * np.log(2 * np.pi * np.e) + np.log(0.3 / spec.std0), abs=1e-12)
    assert f["H_a|s_tm1"] == pytest.approx(0.5 * np.log(2 * np.pi * np.e) + np.log(0.6 / spec.std0), abs=1e-12)
    with torch.no_grad():
        mu_t = p_t.mean(torch.as_tensor(obs_t)).numpy()[:, 0]
        mu_p = p_prev.mean(torch.as_tensor(obs_t)).numpy()[:, 0]
    kl = np.log(0.6 / 0.3) + (0.3 ** 2 + (mu_t - mu_p) ** 2) / (2 * 0.6 ** 2) - 0.5
    assert f["KL_a|s_t||tm1"] == pytest.approx(kl.mean(), rel=1e-10)
    assert f["KL_a|s_tm1||t"] > 0
    assert f["C_a|s_t,tm1"] == pytest.approx(f["H_a|s_t"] + f["KL_a|s_t||tm1"], abs=1e-12)
    assert f["C_a|s_tm1,t"] == pytest.approx(f["H_a|s_tm1"] + f["KL_a|s_tm1||t"], abs=1e-12)


def test_exact_policy_kl_of_a_run_is_the_realised_update_kl():
    """In a learning run, exact KL_a|s_tm1||t at step t is the mean KL(pi_{t-1} || pi_t) over B_{t-1}'s
    states, which is the KL TRPO measured for the update after step t - 1; and it is 0 at t = 0."""
    from lib.trust_region_meta.learning import learn
    spec = get_spec("minigolf")
    run = learn("minigolf", spec.default_task, 0.05, "xTRPO", n_updates=4, n_traj=16, with_features=True, key=("x",))
    exact = run["exact:KL_a|s_tm1||t"].to_numpy()
    assert exact[0] == 0.0
    np.testing.assert_allclose(exact[1:], run.kl.to_numpy()[:-1], rtol=1e-4)
    h = 0.5 * np.log(2 * np.pi * np.e) + run.log_std - np.log(spec.std0)
    np.testing.assert_allclose(run["exact:H_a|s_t"], h, atol=1e-12)


def test_exact_policy_feature_set_changes_only_what_the_schedule_sees():
    """feature_set="exact-policy" hands the schedule the closed-form policy features; the logged
    k-NN features and the run itself (fixed lambda) are unchanged."""
    from lib.trust_region_meta.learning import learn
    seen = {}

    def schedule(name):
        def f(t, phi):
            seen.setdefault(name, []).append(phi.copy())
            return 0.05
        return f
    spec = get_spec("minigolf")
    runs = {fs: learn("minigolf", spec.default_task, schedule(fs), n_updates=3, n_traj=16, with_features=True,
                      key=("y",), feature_set=fs) for fs in ("knn", "exact-policy")}
    cols = list(mf.FEATURE_NAMES)
    np.testing.assert_array_equal(runs["knn"][cols].to_numpy(), runs["exact-policy"][cols].to_numpy())
    idx = [mf.FEATURE_NAMES.index(n) for n in mf.POLICY_FEATURES]
    exact = runs["knn"][[f"exact:{n}" for n in mf.POLICY_FEATURES]].to_numpy()[:3]
    np.testing.assert_array_equal(np.array(seen["exact-policy"])[:, idx], exact)
    np.testing.assert_array_equal(np.array(seen["knn"]), runs["knn"][cols].to_numpy()[:3])
    with pytest.raises(ValueError, match="feature_set"):
        learn("minigolf", spec.default_task, 0.05, n_updates=1, n_traj=4, feature_set="exact")


@pytest.mark.parametrize("env, arch", [("cartpole", (2, 64)), ("minigolf", (0, 0))])
def test_reused_policy_means_leave_a_run_bit_identical(env, arch, monkeypatch):
    """A learning run hands exact_policy_features the means it computed one step earlier (B_{t-1}'s
    policy on B_{t-1}'s states) instead of a fourth forward pass: the run's table, every feature
    and ``exact:`` column included, equals the run that recomputes them, bit for bit (on the pinned
    numerics of conftest.py: MKL's unpinned path depends on the weights' buffer alignment, and the
    cached means come from the live policy, the recomputed ones from its copy)."""
    from lib.trust_region_meta import learning
    spec = get_spec(env)

    def run():
        return learning.learn(env, spec.default_task, 0.05, "xTRPO", arch=arch, n_updates=3, n_traj=8,
                              with_features=True, key=("reuse",))

    reused = run()
    exact = mf.exact_policy_features
    monkeypatch.setattr(mf, "exact_policy_features",
                        lambda p_t, p_prev, o_t, o_prev, std0, *cached: exact(p_t, p_prev, o_t, o_prev, std0))
    recomputed = run()
    assert any(c.startswith("exact:") for c in reused.columns)
    pd.testing.assert_frame_equal(reused, recomputed, check_exact=True)
