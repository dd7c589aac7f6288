"""BO-MRL (lib.bomrl.exact): the inner solution, the implicit meta-gradient, MAML, the variance."""
import numpy as np
import pytest
import torch

from lib.bomrl import exact, tabular
from lib.envs import frozen_lake as fl


@pytest.fixture(scope="module")
def tasks():
    return fl.sample_tasks(np.random.default_rng(0), 4, goal_radius=6, n_holes=2, gamma=0.9)


@pytest.fixture(scope="module")
def phi():
    return torch.as_tensor(np.random.default_rng(1).normal(0, 0.3, (16, 3)))


def directional_fd(fn, phi, u, h):
    return (fn(phi + h * u) - fn(phi - h * u)) / (2 * h)


@pytest.mark.parametrize("cfg,h,rtol", [
    (exact.AlgConfig("kl", lam=0.05), 1e-5, 1e-6),
    (exact.AlgConfig("euclidean", lam=0.01), 1e-5, 1e-6),
    (exact.AlgConfig("kl_reverse", lam=0.05), 1e-5, 1e-6),
    # the constrained solution meets KL = delta to ~1e-9, which limits the FD accuracy
    (exact.AlgConfig("kl_constrained", delta=0.1), 1e-4, 2e-3),
])
def test_implicit_meta_gradient_matches_finite_differences(tasks, phi, cfg, h, rtol):
    grad, info = exact.meta_gradient(phi, tasks, cfg)
    assert info["grad_max"] < 1e-8 and info["min_curvature"] > 0  # a strict local maximum
    for d in range(3):
        u = torch.as_tensor(np.random.default_rng(10 + d).normal(size=(16, 3)))
        fd = directional_fd(lambda p: exact.meta_objective(p, tasks, cfg), phi, u, h)
        assert float((grad * u).sum()) == pytest.approx(fd, rel=rtol, abs=1e-9)


def test_meta_gradient_includes_the_data_term(tasks, phi):
    """Freezing nu and Q at pi_phi (treating the data as fixed, as MAML-style code does)
    changes the gradient: the implicit gradient is not the data-frozen one."""
    cfg = exact.AlgConfig("kl", lam=0.05)
    grad, info = exact.meta_gradient(phi, tasks, cfg)
    theta = info["theta"].clone().requires_grad_(True)
    v = torch.autograd.grad(tabular.returns(tasks, theta).sum(), theta)[0]
    phi_leaf = phi.clone().requires_grad_(True)
    phi_n = phi_leaf.expand(tasks.n, 16, 3)
    data = {k: x.detach() for k, x in exact.data_of(phi, tasks).items()}
    data["pphi"] = tabular.policy_probs(phi_n)  # only the KL anchor depends on phi
    G = torch.autograd.grad(exact.lagrangian(theta, phi_n, data, "kl", 0.05).sum(), theta, create_graph=True)[0]
    w = exact._batched_cg(lambda u: -torch.autograd.grad((G * u).sum(), theta, retain_graph=True)[0], v, 200)
    frozen = torch.autograd.grad((G * w).sum(), phi_leaf)[0] / tasks.n
    assert float((frozen - grad).norm()) > 0.05 * float(grad.norm())


def test_inner_problem_converges_to_its_optimality_condition(tasks, phi):
    """More Newton iterations -> the gradient of the inner objective vanishes; for the KL
    metric every visited state satisfies p_b (Q_b - p.Q) + lambda (pi_phi_b - p_b) = 0."""
    lam = 0.05
    data = exact.data_of(phi, tasks)
    phi_n = phi.expand(tasks.n, 16, 3)
    residuals = []
    for iters in (1, 3, 60):
        theta, info = exact.newton_solve(phi_n, phi_n, data, "kl", lam, iters=iters, tol=0.0)
        residuals.append(info["grad_max"])
    assert residuals[0] > residuals[1] > residuals[2] and residuals[2] < 1e-10
    p = tabular.policy_probs(theta)
    Q, pphi, nu = data["Q"], data["pphi"], data["nu"]
    stat = p * (Q - (p * Q).sum(-1, keepdim=True)) + lam * (pphi - p)
    assert float(stat[nu > 1e-12].abs().max()) < 1e-8


def test_constrained_alg_meets_the_kl_radius(tasks, phi):
    cfg = exact.AlgConfig("kl_constrained", delta=0.1)
    theta, info = exact.solve_inner(phi, tasks, cfg)
    kl = exact.objective_terms(theta, phi.expand(tasks.n, 16, 3), exact.data_of(phi, tasks))["kl"]
    np.testing.assert_allclose(kl, 0.1, atol=1e-7)
    assert torch.all(info["mu"] > 0)


def test_euclidean_alg_reduces_to_the_maml_step_for_large_lambda(tasks, phi):
    """Alg with ||theta - phi||^2 and weight lambda = phi + (1-gamma)/(2 lambda) grad J + O(1/lambda^2)."""
    errors = []
    for lam in (1.0, 10.0):
        theta, _ = exact.solve_inner(phi, tasks, exact.AlgConfig("euclidean", lam=lam))
        step = exact.maml_adapt(phi, tasks, (1 - tasks.gamma) / (2 * lam)).detach()
        errors.append(float((theta - step).abs().max()))
    assert errors[1] < errors[0] / 50  # second order: 10x lambda -> ~100x smaller


def test_maml_meta_gradient_matches_finite_differences(tasks, phi):
    alpha = 5.0
    grad, _ = exact.maml_meta_gradient(phi, tasks, alpha)
    u = torch.as_tensor(np.random.default_rng(5).normal(size=(16, 3)))
    fd = directional_fd(lambda p: float(tabular.returns(tasks, exact.maml_adapt(p, tasks, alpha)).mean().detach()),
                        phi, u, 1e-5)
    assert float((grad * u).sum()) == pytest.approx(fd, rel=1e-6)


def test_reverse_kl_alg_is_the_closed_form_tilted_policy(tasks, phi):
    """Alg(2)'s maximiser is pi_theta' ∝ pi_phi exp(Q / lambda) on every visited state: the
    solve returns it, the Lagrangian's gradient vanishes there, and no other policy scores higher."""
    lam = 0.05
    theta, info = exact.solve_inner(phi, tasks, exact.AlgConfig("kl_reverse", lam=lam))
    data = exact.data_of(exact._expand(phi, tasks.n), tasks)
    tilted = data["pphi"] * torch.exp((data["Q"] - data["Q"].amax(-1, keepdim=True)) / lam)
    tilted = tilted / tilted.sum(-1, keepdim=True)
    visited = data["nu"] > 1e-12
    assert torch.allclose(tabular.policy_probs(theta)[visited], tilted[visited], atol=1e-10)
    assert info["grad_max"] < 1e-8
    best = exact.lagrangian(theta, exact._expand(phi, tasks.n), data, "kl_reverse", lam)
    rng = np.random.default_rng(3)
    for _ in range(5):
        other = theta + torch.as_tensor(rng.normal(0, 0.3, theta.shape))
        assert (exact.lagrangian(other, exact._expand(phi, tasks.n), data, "kl_reverse", lam) < best).all()


def test_task_variance_is_the_minimum(tasks):
    theta_star = tabular.soft_optimal(tasks, 0.05)
    rng = np.random.default_rng(6)
    logq = torch.log(tabular.policy_probs(theta_star))
    v_kl = exact.task_variance(theta_star, "kl")
    v_eu = exact.task_variance(theta_star, "euclidean")
    v_rev = exact.task_variance(theta_star, "kl_reverse")
    for _ in range(5):
        theta = theta_star.mean(0) + torch.as_tensor(rng.normal(0, 0.5, (16, 3)))
        p = tabular.policy_probs(theta)
        kl = (p * (torch.log(p) - logq)).sum(-1).mean(-1).mean()  # mean over states, tasks
        assert float(kl) >= v_kl - 1e-12
        rev = (tabular.policy_probs(theta_star) * (logq - torch.log(p))).sum(-1).mean(-1).mean()
        assert float(rev) >= v_rev - 1e-12
        assert float(((theta - theta_star) ** 2).sum((-1, -2)).mean()) >= v_eu
    identical = theta_star[:1].expand(3, 16, 3)
    assert exact.task_variance(identical, "kl") == pytest.approx(0, abs=1e-12)
    assert exact.task_variance(identical, "euclidean") == pytest.approx(0, abs=1e-12)
    assert exact.task_variance(identical, "kl_reverse") == pytest.approx(0, abs=1e-12)
    mean_policy = tabular.policy_probs(theta_star).mean(0)
    at_mean = (tabular.policy_probs(theta_star) * (logq - torch.log(mean_policy))).sum(-1).mean(-1).mean()
    assert float(at_mean) == pytest.approx(v_rev, rel=1e-12)  # attained at the arithmetic mean


def test_meta_training_improves_the_meta_objective(tasks):
    method = exact.Method("Alg(1) KL", "bomrl", exact.AlgConfig("kl", lam=0.05))
    phi0 = torch.zeros(16, 3, dtype=torch.float64)
    phi, hist = exact.meta_train(method, tasks, 15, lr=100.0, batch_size=4, rng=np.random.default_rng(0))
    cfg = method.alg
    assert exact.meta_objective(phi, tasks, cfg) > exact.meta_objective(phi0, tasks, cfg) + 0.01
    assert len(hist) == 15
    J = exact.meta_test(method, phi, tasks, 3)
    assert J.shape == (tasks.n, 4) and np.all(np.diff(J.mean(0)) > 0)  # adaptation helps


@pytest.mark.parametrize("kwargs,match", [
    (dict(metric="l1"), "'l1'"), (dict(metric="kl", lam=0.0), "lam and delta")])
def test_bad_alg_config(kwargs, match):
    with pytest.raises(ValueError, match=match):
        exact.AlgConfig(**kwargs)


def test_meta_training_stays_finite_when_an_inner_solution_is_not_a_maximum():
    """Regression: with lambda = 3e-4 the Euclidean inner problem of this run reaches a
    stationary point with negative curvature at iteration 6; undamped, the CG solve gave
    NaN. Now the block is damped, counted, and training goes on."""
    from lib.bomrl import frozen_lake_study
    from lib.profiles import resolve
    from lib.seeding import rng as make_rng

    cfg = resolve("bomrl", "quick", lam_euclidean=3e-4)
    train, _ = frozen_lake_study.draw_tasks(cfg, 6, 1)
    method = [m for m in frozen_lake_study.methods(cfg) if m.name == "Alg(3) Euclidean"][0]
    rng = make_rng(cfg.seed, "bomrl-minibatches", 6, 1, method.name)
    phi, hist = exact.meta_train(method, train, 10, cfg.lr, cfg.batch_size, rng)
    assert torch.isfinite(phi).all() and hist.n_nonconcave.sum() >= 1


def test_concave_inner_problems_are_not_damped(tasks, phi):
    _, info = exact.meta_gradient(phi, tasks, exact.AlgConfig("euclidean", lam=1e-2))
    assert info["min_curvature"] > 1e-6 and info["n_nonconcave"] == 0
