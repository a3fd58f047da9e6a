"""cli.py and `derive show`: run as a user would, in a subprocess; mistakes are one line, exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from derive.cli import main

ROOT = Path(__file__).parent.parent


def run(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "derive.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, check=False)


def test_show_one_parameter_prints_both_paths_and_its_value():
    r = run("show", "examples/mazur.toml", "--param", "w1")
    assert r.returncode == 0, r.stderr
    assert "∂E_total/∂w1: 2 paths from w1 to E_total" in r.stdout
    assert "path 1: w1 → net_h1 → h1 → net_o1 → o1 → E_total" in r.stdout
    assert "path 2: w1 → net_h1 → h1 → net_o2 → o2 → E_total" in r.stdout
    assert "∂net_h1/∂w1 · ∂h1/∂net_h1 · ∂net_o2/∂h1 · ∂o2/∂net_o2 · ∂E_total/∂o2" in r.stdout
    assert "∂E_total/∂w1 = i1 · δ_net_h1" in r.stdout
    assert "∂E_total/∂w1 = 0.000438567734" in r.stdout  # the classic example: 0.000438568
    assert "∂E_total/∂w5" not in r.stdout


def test_show_all_parameters_of_every_example():
    for spec in sorted(ROOT.glob("examples/*.toml")):
        r = run("show", str(spec))
        assert r.returncode == 0, r.stderr
        assert r.stdout.count(" path") >= 1 and "error signals" in r.stdout
        assert r.stdout == run("show", str(spec)).stdout  # deterministic


@pytest.mark.parametrize("content, expected", [
    ("", "the spec is empty"),
    ('name = "x"\ninputs = [\n', "line 2: TOML syntax error"),
    (('name = "x"\ninputs = ["a"]\n[[neuron]]\nname = "h"\nactivation = "swish"\ninputs = { a = "w" }\n'
      '[loss]\nkind = "sse"\noutputs = { h = "t" }\n'), "neuron[0] (h).activation: unknown activation 'swish'"),
])
def test_bad_spec_is_one_line_and_exit_2(tmp_path, content, expected):
    f = tmp_path / "bad.toml"
    f.write_text(content)
    r = run("show", str(f))
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert r.stderr.startswith(f"derive: {f}: ") and expected in r.stderr


def test_missing_file_and_unknown_parameter(tmp_path, capsys):
    assert main(["show", str(tmp_path / "nope.toml")]) == 2
    assert "nope.toml: cannot read" in capsys.readouterr().err
    assert main(["show", "examples/qa_chain.toml", "--param", "w9"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == ("derive: examples/qa_chain.toml: --param w9: not a parameter; "
                           "parameters are w1, w2, b")


def test_console_script_is_declared():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'derive = "derive.cli:main"' in text


def test_a_closed_pipe_is_not_a_traceback(tmp_path):
    spec = tmp_path / "deep.toml"  # 100 kB of output, more than a pipe holds
    spec.write_text('name = "deep"\n[dense]\nsizes = [3, 6, 6, 3]\nactivation = "tanh"\n[loss]\nkind = "mse"\n')
    r = subprocess.run(f"{sys.executable} -m derive.cli show {spec} | head -1", shell=True,
                       cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert r.stdout == "deep\n" and r.stderr == ""


def test_version_says_which_derive(capsys):
    import pytest as _pytest
    from derive.cli import main as _main
    with _pytest.raises(SystemExit) as e:
        _main(["--version"])
    assert e.value.code == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("derive ") and len(out.split()) >= 2


def test_show_counts_one_more_path_in_the_singular(tmp_path, capsys):
    from derive.cli import main as _main
    spec = tmp_path / "n.toml"  # w1 reaches the loss through each of the 9 units: 8 listed, 1 counted
    spec.write_text('name = "n"\n[dense]\nsizes = [1, 1, 9, 1]\nactivation = "tanh"\n[loss]\nkind = "mse"\n')
    assert _main(["show", str(spec), "--param", "w1"]) == 0
    out = capsys.readouterr().out
    assert "  ... and 1 more path, one product each" in out and "1 more paths" not in out
