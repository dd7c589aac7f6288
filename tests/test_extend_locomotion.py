"""tools/extend_locomotion.py: a finished item continued under a longer config equals an uninterrupted
run of that config (2 more iterations, the authors' protocol), and a longer config that meta-tests
elsewhere before the old end is refused."""
from pathlib import Path

import pandas as pd
import pytest

from lib.bomrl import locomotion_study as st
from lib.parallel import single_threaded
from lib.profiles import resolve
from tests.helpers import load_script

tool = load_script("tools/extend_locomotion.py")


def test_an_extended_item_continues_bit_identically(tmp_path):
    cfg = resolve("locomotion_authors", "quick", horizon=5, families=("halfcheetah-vel",), methods=("Alg(1)",),
                  n_seeds=1, n_workers=1)
    src, dst = tmp_path / "short", tmp_path / "long"
    src.mkdir()
    (job,) = st.jobs(cfg, src)
    with single_threaded():
        st.run_item(cfg, "halfcheetah-vel", "Alg(1)", 0, job["kwargs"]["partial"])  # 2 iterations, finished
        longer = tool.longer(cfg, 4, (0, 2, 4))
        moves = tool.plan(src, cfg, longer, dst)
        assert len(moves) == 1 and moves[0][0] == Path(job["kwargs"]["partial"])
        tool.extend(moves, write=True)
        resumed = st.run_item(longer, "halfcheetah-vel", "Alg(1)", 0, str(moves[0][1]))
        whole = st.run_item(longer, "halfcheetah-vel", "Alg(1)", 0)
    assert list(resumed["history"]["iter"]) == [0, 1, 2, 3]
    for name in ("history", "test"):
        timing = [c for c in whole[name].columns if c.endswith("_s")]
        pd.testing.assert_frame_equal(resumed[name].drop(columns=timing), whole[name].drop(columns=timing))
    with pytest.raises(ValueError, match="meta-test at"):
        tool.plan(src, cfg, tool.longer(cfg, 4, (0, 1, 4)), dst)
