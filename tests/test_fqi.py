"""FQI on a tiny deterministic chain whose optimal Q is known."""
import numpy as np
import pytest

from lib.trust_region_meta.fqi import distinct_psis, fit_fqi, leaf_size

# 5-state chain, two actions encoded as lambdas: 0.01 = "left", 1.0 = "right".
# Right from state 4 pays 1 and stays; left from state 0 pays 0.2 and stays; else 0.
LEFT, RIGHT = 0.01, 1.0
GRID = np.array([LEFT, RIGHT])


def chain_dataset():
    rows = []
    for s in range(5):
        for a in GRID:
            nxt = min(s + 1, 4) if a == RIGHT else max(s - 1, 0)
            r = 1.0 if (s == 4 and a == RIGHT) else (0.2 if (s == 0 and a == LEFT) else 0.0)
            rows.extend([(s, a, r, nxt)] * 20)  # repeated samples: a batch of experience
    s, a, r, nxt = (np.array(c, dtype=float) for c in zip(*rows))
    feats = lambda z: np.column_stack([z, z**2])  # noqa: E731  (a 2-D meta-state)
    return feats(s), a, r, feats(nxt), feats


@pytest.mark.parametrize("horizon", [1, 8])
def test_fqi_recovers_the_greedy_action(horizon):
    phi, a, r, phi_next, feats = chain_dataset()
    models = fit_fqi(phi, a, r, phi_next, GRID, horizon=horizon, min_leaf=0.01,
                     n_estimators=50, gamma=0.9, seed=0)
    model = models[-1]
    greedy = model.greedy(feats(np.arange(5.0)))
    # exact Q by iterating the Bellman optimality operator H times
    q = np.zeros((5, 2))
    for _ in range(horizon):
        v = q.max(axis=1)
        new = np.zeros((5, 2))
        for s in range(5):
            new[s, 0] = (0.2 if s == 0 else 0.0) + 0.9 * v[max(s - 1, 0)]
            new[s, 1] = (1.0 if s == 4 else 0.0) + 0.9 * v[min(s + 1, 4)]
        q = new
    expected = GRID[q.argmax(axis=1)]
    np.testing.assert_array_equal(greedy, expected)
    np.testing.assert_allclose(model.q_values(feats(np.arange(5.0))), q, atol=1e-9)
    if horizon == 1:  # myopic: take the 0.2 at state 0
        assert greedy[0] == LEFT
    else:  # far-sighted: walk right everywhere
        assert (greedy == RIGHT).all()
    assert len(models) == horizon and models[0].horizon == 1


def test_bad_fqi_parameters_are_named():
    phi, a, r, phi_next, _ = chain_dataset()
    with pytest.raises(ValueError, match="H must be an integer >= 1, got 0"):
        fit_fqi(phi, a, r, phi_next, GRID, horizon=0, min_leaf=0.1)
    with pytest.raises(ValueError, match="got 5"):
        fit_fqi(phi, a, r, phi_next, GRID, horizon=1, min_leaf=5)


@pytest.mark.parametrize("psi, expected", [(0.01, 2), (0.05, 10), (0.2, 40)])
def test_psi_is_the_minimum_leaf_fraction(psi, expected):
    """Every leaf of every tree holds at least ceil(psi * n) training tuples (the paper's psi, Sec. 2.1),
    and the smallest leaf holds fewer than twice that many (the bound binds: trees grow as far as it allows)."""
    rng = np.random.default_rng(0)
    n = 200
    phi, phi_next = rng.normal(size=(n, 3)), rng.normal(size=(n, 3))
    kl, reward = rng.choice(GRID, n), rng.normal(size=n)
    model = fit_fqi(phi, kl, reward, phi_next, GRID, horizon=2, min_leaf=psi, n_estimators=5, seed=0)[-1]
    assert leaf_size(psi, n) == expected
    for tree in model.forest.estimators_:
        t = tree.tree_
        leaves = t.children_left == -1
        assert t.n_node_samples[leaves].min() >= expected
    assert min(tree.tree_.n_node_samples[tree.tree_.children_left == -1].min()
               for tree in model.forest.estimators_) < 2 * expected


def test_psis_of_the_same_leaf_size_are_one_model():
    """On 7 000 tuples psi = 5e-5 and 1e-4 both mean leaves of 1: one of them is kept."""
    grid = (5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 1e-2)
    assert [leaf_size(p, 7000) for p in grid] == [1, 1, 4, 7, 35, 70]
    assert distinct_psis(grid, 7000) == (5e-5, 5e-4, 1e-3, 5e-3, 1e-2)
    assert distinct_psis(grid, 15000) == grid
    assert distinct_psis(grid, 100) == (5e-5,)


def _good_inputs(n=40, d=3):
    rng = np.random.default_rng(0)
    return dict(phi=rng.normal(size=(n, d)), kl=rng.choice([0.01, 0.1], n), reward=rng.normal(size=n),
                phi_next=rng.normal(size=(n, d)), kl_grid=[0.01, 0.1], horizon=2, min_leaf=0.1, n_estimators=3,
                gamma=1.0, seed=0)


BAD = [("phi", np.zeros(5)), ("phi", np.zeros((0, 3))), ("phi", [[1.0, np.nan, 0.0]] * 40), ("phi", "abc"),
       ("phi_next", np.zeros((40, 2))), ("phi_next", np.full((40, 3), np.inf)),
       ("kl", np.zeros(40)), ("kl", -np.ones(40)), ("kl", np.ones(39)), ("kl", [[0.1]] * 40),
       ("reward", np.ones(41)), ("reward", np.full(40, np.nan)), ("reward", None),
       ("kl_grid", []), ("kl_grid", [0.0, 0.1]), ("kl_grid", [[0.1]]), ("kl_grid", [np.nan]),
       ("horizon", 0), ("horizon", 1.5), ("horizon", True), ("horizon", "2"), ("horizon", None),
       ("min_leaf", 0), ("min_leaf", 1), ("min_leaf", np.nan), ("min_leaf", "0.1"), ("min_leaf", None),
       ("n_estimators", 0), ("n_estimators", 2.5), ("n_estimators", True),
       ("gamma", -0.1), ("gamma", 1.5), ("gamma", np.nan), ("gamma", "1"),
       ("seed", -1), ("seed", 0.5), ("seed", None)]


@pytest.mark.parametrize("name,value", BAD, ids=[f"{n}={v!r}"[:40] for n, v in BAD])
def test_fit_fqi_names_each_bad_argument(name, value):
    args = _good_inputs()
    args[name] = value
    words = {"horizon": "horizon", "min_leaf": "psi"}.get(name, name)
    with pytest.raises(ValueError, match=words):
        fit_fqi(**args)


def test_fit_fqi_accepts_numpy_scalars_and_lists():
    args = _good_inputs()
    args.update(horizon=np.int64(2), min_leaf=np.float32(0.1), seed=np.int64(3), kl_grid=(0.01, 0.1))
    assert [m.horizon for m in fit_fqi(**args)] == [1, 2]


@pytest.mark.parametrize("leaf", [1, 7, 60])
def test_forest_predict_is_scikit_learns_predict_bit_for_bit(leaf):
    """The greedy step's direct tree walk (issue 38, lever L1) returns exactly ``forest.predict``:
    on a Meta-KL step's 10 rows and on a large Bellman-target query."""
    from sklearn.ensemble import ExtraTreesRegressor

    from lib.trust_region_meta.fqi import design, forest_predict

    rng = np.random.default_rng(leaf)
    x = design(rng.normal(size=(3000, 20)), 10 ** rng.uniform(-3, 0, 3000))
    forest = ExtraTreesRegressor(30, min_samples_leaf=leaf, max_features=1.0, bootstrap=False, random_state=leaf)
    forest.fit(x, rng.normal(size=3000) + x[:, 0])
    step = design(np.repeat(rng.normal(size=(1, 20)), 10, axis=0), np.geomspace(1e-3, 1, 10))
    big = design(rng.normal(size=(5000, 20)), 10 ** rng.uniform(-3, 0, 5000))
    for q in (step, big):
        np.testing.assert_array_equal(forest_predict(forest, q), forest.predict(q))
