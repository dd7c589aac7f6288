"""fidelity/check_maml_against_authors.py's environment comparison on a fake of the authors' module whose
env is Gymnasium's (the same model as their Gym 0.26 v4 envs): no difference; with a wrong goal term, a difference."""
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np

from tests.helpers import load_script

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "fidelity"))
check = load_script("fidelity/check_maml_against_authors.py")


class FakeAuthors:
    def __init__(self, family):
        self.env = (gym.make("Ant-v5", include_cfrc_ext_in_observation=False) if family.startswith("ant")
                    else gym.make("HalfCheetah-v5"))


def test_env_check_finds_no_difference_with_the_same_physics_and_rewards():
    for family in ("ant-vel", "halfcheetah-dir"):
        rows = {r["quantity"]: r["value"] for r in check.env_check(FakeAuthors(family), family, n_states=2, n_steps=8)}
        assert rows["observation (max abs difference)"] == 0.0
        assert rows["reward (max abs difference)"] < 1e-12


def test_env_check_reports_a_reward_that_differs(monkeypatch):
    monkeypatch.setitem(check.GOAL_TERMS, "vel", lambda v, g: -abs(v - g) - 0.1)  # a wrong reward of "theirs"
    rows = {r["quantity"]: r["value"] for r in check.env_check(FakeAuthors("ant-vel"), "ant-vel", n_states=1, n_steps=3)}
    assert np.isclose(rows["reward (max abs difference)"], 0.1)
