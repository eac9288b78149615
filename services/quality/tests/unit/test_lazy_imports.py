"""The quality service starts without the screening model's libraries: scikit-learn, numpy
and SciPy (about 150 MB of RSS) are imported at the first photo, not at start-up."""

import subprocess
import sys

HEAVY = ("sklearn", "scipy", "numpy", "joblib", "pandas")

START = """
import sys
from types import SimpleNamespace
from looptrace_quality.app import create_app, warm_screening_model
from looptrace_quality.config import QualitySettings
from looptrace_quality.services.screening import label_rows
create_app(QualitySettings())
warm_screening_model(SimpleNamespace(settings=QualitySettings()))  # what start-up runs
print(",".join(m for m in {heavy!r} if m in sys.modules))
"""


def test_starting_the_service_imports_no_model_library() -> None:
    out = subprocess.run(
        [sys.executable, "-c", START.format(heavy=HEAVY)],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    assert out.stdout.strip() == ""


def test_the_first_screening_imports_them() -> None:
    code = "import sys; import looptrace_quality.screening.store; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"  # the check above can fail: the model needs sklearn
