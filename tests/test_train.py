"""`derive train` end to end: as a user runs it, on the examples and on broken input."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from derive.cli import main
from derive.cli.train import _Progress

ROOT = Path(__file__).resolve().parent.parent
MAZUR = str(ROOT / "examples" / "mazur.toml")
SOFTPLUS = str(ROOT / "examples" / "softplus.toml")


def final_values(out: str) -> dict:
    return {m.group(1): float(m.group(3)) for m in re.finditer(r"^\s+(\w+)\s+(\S+) -> (\S+)", out, re.MULTILINE)}


def test_one_step_of_mazur_with_frozen_biases_prints_the_published_weights(capsys):
    assert main(["train", MAZUR, "--steps", "1", "--freeze", "b1", "--freeze", "b2", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""  # quiet: no progress
    values = final_values(captured.out)
    # Matt Mazur's step-by-step example (2015), after one step at learning rate 0.5
    assert f"{values['w5']:.8f}" == "0.35891648" and f"{values['w1']:.9f}" == "0.149780716"
    assert values["b1"] == 0.35 and "(frozen)" in captured.out
    assert captured.out.startswith("E_total: 0.298371109 -> ")


def test_softplus_training_drives_ssr_to_zero_with_progress_lines(capsys):
    assert main(["train", SOFTPLUS]) == 0
    captured = capsys.readouterr()
    progress = [line for line in captured.err.splitlines() if line.startswith("step ")]
    assert progress[0] == "step 0/1000: loss 20.4235977" and progress[-1].startswith("step 1000/1000: ")
    assert 5 <= len(progress) <= 12
    first, last = re.match(r"SSR: (\S+) -> (\S+) after 1000 steps", captured.out).groups()
    assert float(first) == pytest.approx(20.4235977) and float(last) < 1e-6


def test_progress_bar_on_a_terminal():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    stream = Tty()
    bar = _Progress(10, quiet=False, stream=stream)
    for k in range(11):
        bar(k, 1.0 / (k + 1), {})
    bar.close()
    text = stream.getvalue()
    assert text.startswith("\rstep  0/10 [") and "[##############################] loss 0.0909091" in text
    assert text.endswith("\n") and text.count("\n") == 1


def test_random_start_when_the_spec_has_no_values(tmp_path, capsys):
    spec = tmp_path / "novalues.toml"
    spec.write_text('name = "nv"\ninputs = ["x"]\n[[neuron]]\nname = "y"\nactivation = "identity"\n'
                    'inputs = { x = "w" }\nbias = "b"\n[loss]\nkind = "sse"\noutputs = { y = "t" }\n'
                    '[data]\nx = [0.0, 1.0, 2.0]\nt = [1.0, 3.0, 5.0]\n[train]\nlearning_rate = 0.05\nsteps = 2000\n')
    assert main(["train", str(spec), "--seed", "3", "-q"]) == 0
    captured = capsys.readouterr()
    assert "2 parameters without [values] start at random (seed 3)" in captured.err
    values = final_values(captured.out)
    assert values["w"] == pytest.approx(2.0, abs=1e-6) and values["b"] == pytest.approx(1.0, abs=1e-6)
    assert main(["train", str(spec), "--seed", "3", "-q"]) == 0
    assert capsys.readouterr().out == captured.out  # seeded: the same run again


def test_overrides_of_steps_and_learning_rate(capsys):
    assert main(["train", MAZUR, "--steps", "3", "--lr", "0.1", "-q"]) == 0
    assert "after 3 steps at learning rate 0.1" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["--freeze", "w99"], "--freeze w99: not a parameter"),
    (["--steps", "-1"], "--steps -1"),
    (["--lr", "0"], "--learning-rate 0"),
])
def test_bad_options_are_one_line_and_exit_2(args, message, capsys):
    assert main(["train", MAZUR, *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_a_spec_without_data_is_a_clear_error(tmp_path, capsys):
    spec = tmp_path / "nodata.toml"
    spec.write_text('name = "nd"\ninputs = ["x"]\n[[neuron]]\nname = "y"\nactivation = "tanh"\n'
                    'inputs = { x = "w" }\n[loss]\nkind = "sse"\noutputs = { y = "t" }\n')
    assert main(["train", str(spec)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"derive: {spec}: data: missing: derive train needs a [data] table with every input and target (or --dask --data DIR)"


def test_a_diverging_run_stops_with_advice(capsys):
    assert main(["train", SOFTPLUS, "--lr", "1000", "--steps", "50", "-q"]) == 1
    err = capsys.readouterr().err
    assert "the loss became" in err and "try a smaller --learning-rate" in err


def test_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")  # in the test extra: installed by the README's test command
    target = tmp_path / "loss.png"
    assert main(["train", SOFTPLUS, "--steps", "20", "-q", "--plot", str(target)]) == 0
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_matplotlib_says_so(tmp_path, capsys, monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    target = tmp_path / "loss.png"
    assert main(["train", SOFTPLUS, "--steps", "20", "-q", "--plot", str(target)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("derive: --plot needs matplotlib") and "pip install" in err
    assert not target.exists()


DENSE = ('name = "d"\n[dense]\nsizes = [2, 2]\nactivation = ["identity"]\n[loss]\nkind = "half_sse"\n'
         '[data]\ni1 = [0.5, -1.0]\ni2 = [2.0, 0.25]\nt1 = [1.0, 0.0]\nt2 = [0.0, 1.0]\n')


@pytest.mark.parametrize("missing, extra", [("array_api_compat", []), ("dask", []),
                                            ("distributed", ["--scheduler", "tcp://127.0.0.1:1"])])
def test_train_dask_without_its_libraries_says_what_to_install(tmp_path, missing, extra):
    """The libraries of --dask are checked before anything needs them: one line, exit 2, no traceback
    (simulated missing: None in sys.modules makes the import fail, in a fresh interpreter)."""
    spec = tmp_path / "d.toml"
    spec.write_text(DENSE)
    code = (f"import sys\nsys.modules[{missing!r}] = None\nfrom derive.cli import main\n"
            "sys.exit(main(sys.argv[1:]))\n")
    r = subprocess.run([sys.executable, "-c", code, "train", str(spec), "--dask", "-q", *extra],
                       capture_output=True, text=True, timeout=120, check=False, cwd=ROOT)
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
    assert f"{missing} is not installed" in r.stderr and "pip install 'derive[dask]'" in r.stderr, r.stderr
    assert r.stdout == ""


@pytest.mark.parametrize("ci", [True, False])
def test_the_array_api_tests_fail_in_ci_without_their_libraries(tmp_path, ci):
    """tests/test_arrayapi.py skips without zarr (or dask, jax, torch, ...) on a laptop, but under
    .ci/run (DERIVE_REQUIRE_TEX=1) a missing one is a failure, not a silently skipped file."""
    (tmp_path / "zarr").mkdir()  # a zarr first on the path that fails to import: zarr "not installed"
    (tmp_path / "zarr" / "__init__.py").write_text("raise ImportError('zarr: simulated missing')\n")
    env = {k: v for k, v in os.environ.items() if k != "DERIVE_REQUIRE_TEX"} | ({"DERIVE_REQUIRE_TEX": "1"} if ci else {})
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), str(ROOT), env.get("PYTHONPATH", "")])
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # (a plugin of an installed package imports zarr)
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "--co",
                        "tests/test_arrayapi.py"],
                       capture_output=True, text=True, timeout=300, check=False, cwd=ROOT, env=env)
    if ci:
        assert r.returncode == 2 and "zarr is required in CI (DERIVE_REQUIRE_TEX=1)" in r.stdout, r.stdout[-2000:]
    else:
        assert r.returncode == 5 and "zarr not installed" in r.stdout, r.stdout[-2000:]  # (5: no tests collected)
