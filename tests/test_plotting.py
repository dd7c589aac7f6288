"""Figure helpers (lib.plotting)."""
import pandas as pd

from lib.plotting import n_text


def test_n_text_names_a_count_a_range_and_a_single_unit():
    assert n_text(pd.DataFrame(dict(n=[30, 30])), "runs") == "30 runs"
    assert n_text(pd.DataFrame(dict(n=[4, 16, 9])), "runs") == "4-16 runs"
    assert n_text(pd.DataFrame(dict(n=[1, 1])), "seeds") == "1 seed"
