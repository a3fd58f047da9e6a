"""bench/: the derivation benchmark runs (its --quick mode) and reports one row per network."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_bench_derive_quick_runs():
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_derive.py"), "--quick"],
                       capture_output=True, text=True, timeout=300, check=False)
    assert r.returncode == 0, r.stderr
    rows = [line for line in r.stdout.splitlines() if line.startswith(("| 2-2-2", "| 4-4-4-4"))]
    assert len(rows) == 2
    # 4-4-4-4: w1 feeds one first-layer unit, then 4 · 4 ways on: 16 paths; 128 edges
    assert "| 60 | 128 | 16 |" in rows[1]


def test_bench_arrays_quick_runs():
    """The array-API race on 2-2-2: every contestant agrees with the NumPy module, one row per pair
    (a contestant whose library is not installed has no row: the README's test command runs in a bare venv)."""
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_arrays.py"), "--quick"],
                       capture_output=True, text=True, timeout=300, check=False)
    assert r.returncode == 0, r.stderr
    rows = [line for line in r.stdout.splitlines() if line.startswith("| 2-2-2")]
    expected = ["array-API on NumPy / NumPy module"]
    if importlib.util.find_spec("torch"):
        expected.append("array-API on PyTorch / PyTorch autograd")
    if importlib.util.find_spec("jax"):
        expected.append("array-API jit on JAX / JAX jit(grad)")
    assert [row.split(" | ")[2] for row in rows] == expected
