"""Root conftest: pin the floating-point code paths before numpy or torch loads (lib.numerics);
the notebook kernels that nbval starts inherit them."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lib.numerics import pin  # noqa: E402

pin()
