"""lib.bomrl.meta_items: the resumable item loop shared by notebooks 11 and 13, on a toy item
whose state is a number (so every iteration's result is known in closed form)."""
import pytest

from lib.bomrl import meta_items as items


def toy(n_iters=5, checkpoints=(0, 2, 5), die_at=None, partial=None, state=None):
    """phi_{t+1} = 2 phi_t + 1 from phi_0 = 1, so phi_t = 2^(t+1) - 1; the test row reads phi."""
    def test(st):
        return [dict(iter=st["it"], value=st["phi"])]

    def train(st):
        if st["it"] == die_at:
            raise KeyboardInterrupt("killed")
        return dict(phi=2 * st["phi"] + 1), dict(iter=st["it"], before=st["phi"])

    state = items.load_state(partial, lambda: dict(it=0, phi=1, history=[], test=[])) if state is None else state
    return items.train_and_test(state, n_iters, checkpoints, test, train, partial)


def test_loop_trains_and_tests_at_the_checkpoints():
    out = toy()
    assert out["it"] == 5 and out["phi"] == 2 ** 6 - 1
    assert [r["before"] for r in out["history"]] == [2 ** (t + 1) - 1 for t in range(5)]
    assert [(r["iter"], r["value"]) for r in out["test"]] == [(0, 1), (2, 7), (5, 63)]


def test_killed_item_resumes_from_its_checkpoint_identically(tmp_path):
    partial = str(tmp_path / "item.partial")
    with pytest.raises(KeyboardInterrupt):
        toy(die_at=3, partial=partial)
    saved = items.load_state(partial, lambda: None)
    assert saved["it"] == 3 and len(saved["history"]) == 3  # written after every iteration
    assert toy(partial=partial) == toy()


def test_a_tested_checkpoint_is_not_tested_again():
    done = toy()
    assert toy(state=done) == done  # already at n_iters with every test present: nothing runs


def test_tidy_tables_put_the_item_first():
    t = items.tidy(toy(), "halfcheetah-vel", "Alg(1)", 1)
    assert list(t["test"].columns[:3]) == ["family", "method", "seed"]
    assert len(t["history"]) == 5 and set(t["test"].seed) == {1}


def test_jobs_check_names_before_anything_runs(tmp_path):
    class Cfg:
        families, methods, n_seeds = ("a",), ("good", "bad"), 2

    def check(family, method):
        if method == "bad":
            raise ValueError(f"unknown method {method!r}")

    with pytest.raises(ValueError, match="'bad'"):
        items.jobs(toy, Cfg(), tmp_path, check=check)
