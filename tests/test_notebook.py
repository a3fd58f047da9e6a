"""examples/seed_question.ipynb runs top to bottom (nbclient), so that it never goes stale.

Its outputs must hold what it is there to show: the interactive view of each Derivation
(text/html with a parameter control per parameter), the chain sums as LaTeX, derive check's
verdict on the learner's equation as an HTML block, and the central differences agreeing (the
notebook asserts that itself).  Skips without nbclient/ipykernel, fails instead in CI.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import derive

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "examples" / "seed_question.ipynb"


def test_the_seed_question_notebook_runs_and_shows_its_views():
    try:
        import nbformat
        from nbclient import NotebookClient
    except ImportError:
        if os.environ.get("DERIVE_REQUIRE_TEX") == "1":
            pytest.fail("nbclient and nbformat are required in CI (pip install -e '.[test]')")
        pytest.skip("nbclient not installed")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    env_path = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env_path]))  # the kernel imports this derive
    try:
        NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    finally:
        os.environ["PYTHONPATH"] = env_path
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    html = [o.data["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    views = [h for h in html if 'class="derive-page"' in h]
    assert len(views) == 2
    for p in derive.derive(derive.load(ROOT / "examples" / "mazur.toml")).parameters:
        assert f'data-param="{p}"' in views[1]
    verdicts = [h for h in html if "derive-verdict" in h]
    assert len(verdicts) == 2 and "incorrect: 4 problems" in verdicts[0] and "correct: 2 terms" in verdicts[1]
    latex = [o.data["text/latex"] for o in outputs if "text/latex" in o.get("data", {})]
    assert any(r"\partial w_{1}" in t for t in latex)
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert printed.count("central difference") == 3
