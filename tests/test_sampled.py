"""Sampled BO-MRL (lib.bomrl.sampled): the three adaptation algorithms and their implicit
meta-gradients against finite differences, on synthetic data of a small Gaussian policy."""
import numpy as np
import pytest
import torch

from lib.bomrl import functional_policy as fp
from lib.bomrl import sampled as bd
from lib.bomrl.baselines import inner_step
from tests.test_baselines import make_data


@pytest.fixture(scope="module")
def phi():
    return fp.init_params(3, 2, (0, 0), std0=0.8, seed=4)  # linear: 8 + 2 parameters


@pytest.fixture(scope="module")
def data(phi):
    return make_data(5, phi, n=8, t_len=6)


def exact(metric, **kw):
    """Solves accurate enough for finite differences: many L-BFGS / CG iterations, tiny damping."""
    return bd.SampledAlgConfig(metric, lbfgs_iters=200, cg_iters=50, cg_damping=1e-10, cg_tol=1e-26, **kw)


def s_of(phi_vec, phi, d, g_post, cfg):
    theta = bd.adapt(fp.unflat(phi_vec, phi), d, cfg)
    return float(fp.flat(theta) @ g_post)


# L-BFGS stops at |grad| ~ 1e-7, so Alg(1)'s FD needs a larger step h, whose O(h^2)
# truncation error limits the agreement to ~1e-4
@pytest.mark.parametrize("cfg,h,rtol", [(exact("kl", lam_kl=2.0), 1e-3, 1e-3),
                                        (exact("kl_reverse", lam_kl=2.0), 1e-3, 1e-3),
                                        (exact("euclidean", lam_euclidean=5.0), 1e-5, 1e-6),
                                        (exact("kl_constrained", delta=0.02), 1e-5, 1e-6)],
                         ids=["kl", "kl_reverse", "euclidean", "kl_constrained"])
def test_meta_gradient_matches_finite_differences(phi, data, cfg, h, rtol):
    theta = bd.adapt(phi, data, cfg)
    g_post = torch.as_tensor(np.random.default_rng(6).normal(size=fp.flat(phi).numel()))
    grad, _ = bd.meta_gradient(phi, data, theta, g_post, cfg)
    x0 = fp.flat(phi).detach()
    for k in range(3):
        u = torch.as_tensor(np.random.default_rng(20 + k).normal(size=x0.numel()))
        fd = (s_of(x0 + h * u, phi, data, g_post, cfg) - s_of(x0 - h * u, phi, data, g_post, cfg)) / (2 * h)
        assert float(grad @ u) == pytest.approx(fd, rel=rtol, abs=1e-9)


def test_kl_alg_is_a_stationary_point_of_the_penalised_surrogate(phi, data):
    cfg = exact("kl", lam_kl=2.0)
    theta = fp.detach(bd.adapt(phi, data, cfg))
    grad = fp.flat(torch.autograd.grad(bd.inner_objective(theta, [p.detach() for p in phi], data, 2.0), theta))
    g0 = bd.surrogate_gradient(fp.detach(phi), data)  # the objective's gradient at phi
    assert float(grad.norm()) < 1e-5 * float(g0.norm())
    # the penalised surrogate improved on phi, and larger lambda keeps theta' closer to phi
    obj = lambda t, lam: float(bd.inner_objective(t, [p.detach() for p in phi], data, lam).detach())  # noqa: E731
    assert obj(theta, 2.0) > obj([p.detach() for p in phi], 2.0)
    far = fp.flat(theta).detach() - fp.flat(phi).detach()
    near = fp.flat(bd.adapt(phi, data, exact("kl", lam_kl=20.0))).detach() - fp.flat(phi).detach()
    assert float(near.norm()) < float(far.norm())


def test_reverse_kl_alg_is_a_stationary_point_and_differs_from_the_forward_one(phi, data):
    cfg = exact("kl_reverse", lam_kl=2.0)
    theta = fp.detach(bd.adapt(phi, data, cfg))
    phi_c = [p.detach() for p in phi]
    grad = fp.flat(torch.autograd.grad(bd.inner_objective(theta, phi_c, data, 2.0, reverse=True), theta))
    assert float(grad.norm()) < 1e-5 * float(bd.surrogate_gradient(fp.detach(phi), data).norm())
    forward = fp.flat(bd.adapt(phi, data, exact("kl", lam_kl=2.0))).detach()
    assert float((fp.flat(theta).detach() - forward).norm()) > 1e-6
    assert bd.LABEL["kl_reverse"] == "Alg(2)"


def test_euclidean_alg_is_the_maml_step(phi, data):
    a = bd.adapt(phi, data, bd.SampledAlgConfig("euclidean", lam_euclidean=5.0))
    b = inner_step(phi, data, alpha=0.1)
    torch.testing.assert_close(fp.flat(a), fp.flat(b))


def test_kl_constrained_alg_steps_to_the_trust_region_boundary(phi, data):
    for delta in (1e-4, 1e-3):
        theta = bd.adapt(phi, data, exact("kl_constrained", delta=delta))
        obs, w = data.obs.reshape(-1, 3), data.weights().reshape(-1)
        kl = float((w * fp.kl([p.detach() for p in phi], theta, obs)).sum())
        assert kl == pytest.approx(delta, rel=0.05)  # the quadratic model is accurate for small steps


def test_outer_step_stays_in_the_outer_trust_region(phi):
    method = bd.SampledBOMRL(bd.SampledAlgConfig("kl", delta_outer=0.01))
    pre = [make_data(50 + k, phi) for k in range(2)]
    thetas = [method.adapt(phi, d) for d in pre]
    post = [make_data(60 + k, thetas[k]) for k in range(2)]
    new, info = method.outer(phi, pre, post, thetas)
    assert 0 < info["kl"] <= 0.01 and info["grad_norm"] > 0


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match="metric"):
        bd.SampledAlgConfig("cosine")
    with pytest.raises(ValueError, match="lam_kl"):
        bd.SampledAlgConfig("kl", lam_kl=0)
